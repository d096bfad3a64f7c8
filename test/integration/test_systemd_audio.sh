#!/bin/sh
# audiod under real systemd (the container of test_systemd.sh): socket
# activation of nexus-audiod by the first voice client, Type=notify with a
# status text and a watchdog, not root, a spoken sentence from alice heard
# by bob through `nexus talk` inside the container, SIGKILL -> restarted,
# audiod lines in the journal, a clean stop within 2 s. The container is
# always powered off and nspawn's cgroup folders removed; only processes
# this script started are signalled, by PID.
. test/lib/common.sh
. test/lib/audio.sh
. test/lib/nspawn.sh

nspawn_need
nspawn_stage chatd audiod
nx_speech a "The quick brown fox jumps over the lazy dog near the river bank."
cp "$T/a.wav" "$T/bin/a.wav"
trap 'nspawn_cleanup; nx_cleanup' EXIT
nspawn_boot_staged nexus-audio-$$


# Every failure from here on shows the units' state and the journal.
fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	nspawn_ctl status --no-pager -l nexus-audiod.socket nexus-audiod.service 2>&1 | tail -n 40
	echo "--- journal"
	nspawn_exec journalctl --no-pager -n 60 -u nexus-audiod.service -u nexus-audiod.socket 2>&1
	exit 1
}

# nx USER ARGS...: the real client inside the container (own config folder).
nx() {
	n_user=$1
	shift
	nspawn_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" NEXUS_AUDIO_PORT=5557 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=/opt/nexus/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		/opt/nexus/nexus -s 127.0.0.1 -P 5555 "$@"
}
svc_active() { [ "$(nspawn_ctl is-active nexus-audiod.service)" = active ]; }

for u in nexus-audiod.socket nexus-audiod.service; do
	[ "$(nspawn_prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(nspawn_prop $u LoadState)"
done
nspawn_ctl start nexus-chatd.socket nexus-audiod.socket || fail "systemctl start the sockets"
s=$(nspawn_ctl is-active nexus-audiod.service)
[ "$s" = inactive ] || fail "nexus-audiod.service is '$s' before any connection"
ok "sockets active, audiod not started yet"
nx alice trust --yes >/dev/null || fail "trust as alice"
nx alice register >/dev/null || fail "register alice"
nx alice create lobby >/dev/null || fail "create lobby"
nx bob trust --yes >/dev/null || fail "trust as bob"
nx bob register >/dev/null || fail "register bob"

say "alice talks, bob listens, inside the container"
nx bob talk lobby --out /tmp/bob.wav --duration 7 --json >"$T/bob.json" 2>"$T/bob.err" &
BOB=$!
PIDS="$PIDS $BOB"
wait_for 15 grep -q '"event":"joined"' "$T/bob.json" || { cat "$T/bob.json" "$T/bob.err"; fail "bob did not join"; }
wait_for 10 svc_active || fail "audiod not active after the first voice connection"
ok "the first voice connection started audiod"
nx alice talk lobby --in /opt/nexus/a.wav --duration 5 >"$T/alice.out" 2>&1 ||
	{ cat "$T/alice.out"; fail "alice's talk failed"; }
wait "$BOB" || { cat "$T/bob.json" "$T/bob.err"; fail "bob's talk failed"; }
nx_forget_pid "$BOB"
nspawn_exec cat /tmp/bob.wav >"$T/bob.wav" || fail "cannot copy bob's recording out"
cat "$T/bob.err"
echo "server-added delay in the container: $(sed -n 's/.*"server_delay_us":\([0-9]*\).*/\1/p' "$T/bob.json") us"

show=$(nspawn_ctl show -p Type,WatchdogUSec,StatusText,MainPID,Restart nexus-audiod.service)
echo "$show"
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog: WatchdogUSec=$(get WatchdogUSec)" ;; esac
[ -n "$(get StatusText)" ] || fail "audiod sent no STATUS= text"
pid1=$(get MainPID)
uid=$(nspawn_exec cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "audiod (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), uid $uid"

nspawn_ctl reload nexus-audiod.service || fail "systemctl reload"
wait_for 10 sh -c "timeout 10 nsenter -t $LEADER -a journalctl --no-pager -u nexus-audiod.service | grep -q ticks=" ||
	fail "no statistics in the journal after reload"
nspawn_exec journalctl --no-pager -u nexus-audiod.service | grep "ticks=" | sed 's/^.*audiod\[[0-9]*\]: /audiod after reload: /'

say "SIGKILL: restarted"
nspawn_ctl kill -s KILL nexus-audiod.service || fail "systemctl kill"
new_pid() {
	p=$(nspawn_prop nexus-audiod.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	nx alice talk lobby --out /dev/null --duration 0.5 >/dev/null 2>&1
	wait_for 10 new_pid || fail "audiod not restarted after SIGKILL"
fi
nx alice talk lobby --out /dev/null --duration 0.5 >"$T/alice2.out" 2>&1 || { cat "$T/alice2.out"; fail "talk after restart"; }
ok "restarted as pid $(nspawn_prop nexus-audiod.service MainPID)"

nspawn_exec journalctl --no-pager -u nexus-audiod.service >"$T/journal" 2>&1
grep -q "listening on" "$T/journal" || { cat "$T/journal"; fail "no 'listening on' line from audiod in the journal"; }
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi
ok "journal: $(grep -m 1 'listening on' "$T/journal" | sed 's/^.*audiod\[[0-9]*\]: //')"

t0=$(date +%s%N)
nspawn_ctl stop nexus-audiod.service nexus-audiod.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
r=$(nspawn_prop nexus-audiod.service Result)
[ "$r" = success ] || fail "audiod's stop was not clean: Result=$r"
ok "stopped in $ms ms, Result=$r"
nspawn_exec journalctl --no-pager -u nexus-audiod.service | grep "ticks=" | sed 's/^.*audiod\[[0-9]*\]: /audiod: /'

# The fidelity checks (>= 0.9) are test_audio_*'s; here the point is the
# service. In the container on a busy machine about a tenth of the frames
# are shed on the way (jitter buffers grow to 100-180 ms and shed; not yet
# understood, see the README): the speech must be recognisably there (a
# different sentence scores about 0.25 by this measure).
nx_expect_sim "bob heard alice through systemd's audiod" 0.5 "$T/a.wav" "$T/bob.wav"

t0=$(date +%s%N)
nspawn_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
