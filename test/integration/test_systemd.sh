#!/bin/sh
# Real systemd: boot a throwaway systemd-nspawn container (TESTING.md) that
# shares the host's /usr read-only, has its own network (and loopback), and
# gets our units, sysusers/tmpfiles entries, config and binaries bound in.
# Then: socket activation by the first client connection, Type=notify with a
# status text and a watchdog, a message round trip between two users, reload,
# SIGKILL -> restart with the acknowledged messages intact, chatd lines in
# the journal, a clean stop within 2 s, nexus.target. The container is always
# powered off and nspawn's cgroup folders removed; only processes this script
# started are signalled, by PID.
. test/lib/common.sh
. test/lib/nspawn.sh

nspawn_need
nspawn_stage chatd
trap 'nspawn_cleanup; nx_cleanup' EXIT
nspawn_boot_staged nexus-test-$$

# Every failure from here on shows the units' state and the journal.
fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	nspawn_ctl status --no-pager -l nexus-chatd.socket nexus-chatd.service 2>&1 | tail -n 40
	echo "--- journal"
	nspawn_exec journalctl --no-pager -n 60 -u nexus-chatd.service -u nexus-chatd.socket 2>&1
	exit 1
}

# nx USER ARGS...: the real client inside the container (own config folder).
CHAT_PORT=5555
nx() {
	n_user=$1
	shift
	nspawn_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=/opt/nexus/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		/opt/nexus/nexus -s 127.0.0.1 -P "$CHAT_PORT" "$@"
}
svc_active() { [ "$(nspawn_ctl is-active nexus-chatd.service)" = active ]; }

# --- the units load, sysusers ran ---
for u in nexus-chatd.socket nexus-chatd.service nexus.target; do
	[ "$(nspawn_prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(nspawn_prop $u LoadState)"
done
nspawn_exec getent passwd nexus >/dev/null || fail "no nexus user: sysusers.d entry not applied"
ok "units loaded, user nexus exists"

# --- socket activation ---
nspawn_ctl start nexus-chatd.socket || fail "systemctl start nexus-chatd.socket"
[ "$(nspawn_ctl is-active nexus-chatd.socket)" = active ] || fail "socket not active"
listen=$(nspawn_prop nexus-chatd.socket Listen)
say "socket listens on: $listen"
port=$(printf '%s\n' "$listen" | sed -n 's/.*:\([0-9][0-9]*\) *(Stream).*/\1/p' | head -n 1)
[ -n "$port" ] && CHAT_PORT=$port
s=$(nspawn_ctl is-active nexus-chatd.service)
[ "$s" = inactive ] || fail "nexus-chatd.service is '$s' before any connection"
ok "socket active, service not started yet"

nx alice trust --yes >"$T/trust.out" 2>&1 || { cat "$T/trust.out"; fail "trust (first connection)"; }
wait_for 10 svc_active || fail "service not active after the first connection"
ok "first connection started chatd: $(head -n 1 "$T/trust.out")"

# --- Type=notify, status, watchdog, user ---
show=$(nspawn_ctl show -p Type,NotifyAccess,WatchdogUSec,StatusText,MainPID,Restart nexus-chatd.service)
echo "$show"
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get NotifyAccess)" in main | exec | all) ;; *) fail "NotifyAccess=$(get NotifyAccess)" ;; esac
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog: WatchdogUSec=$(get WatchdogUSec)" ;; esac
[ -n "$(get StatusText)" ] || fail "chatd sent no STATUS= text"
[ "$(get Restart)" = on-failure ] || fail "Restart=$(get Restart), want on-failure"
pid1=$(get MainPID)
# (awk is an alternatives link in /etc, which is empty in the container)
uid=$(nspawn_exec cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "chatd (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), runs as $(nspawn_exec id -nu "$uid")"

# --- a message round trip ---
nx alice register >/dev/null || fail "register alice"
nx alice create lobby >/dev/null || fail "create lobby"
out=$(nx alice say lobby "hello from systemd") || fail "say"
id1=$(printf '%s\n' "$out" | grep -o '[0-9][0-9]*' | head -n 1)
[ -n "$id1" ] || fail "say printed no message id: $out"
nx bob trust --yes >/dev/null || fail "trust as bob"
nx bob register >/dev/null || fail "register bob"
nx bob history lobby >"$T/hist1" || fail "history as bob"
grep -q "<alice> hello from systemd" "$T/hist1" || { cat "$T/hist1"; fail "bob does not see alice's message"; }
ok "message $id1 round-trips: $(grep 'hello from systemd' "$T/hist1")"

# --- reload: closes registration (the file ends in [chatd]) ---
printf '\n# added by test_systemd.sh\n[chatd]\nregister = no\n' >>"$T/etc-nexus/nexus.conf"
nspawn_ctl reload nexus-chatd.service || fail "systemctl reload"
wait_for 10 svc_active || fail "not active after reload"
[ "$(nspawn_prop nexus-chatd.service MainPID)" = "$pid1" ] || fail "reload restarted chatd"
nx bob history lobby | grep -q "hello from systemd" || fail "history after reload"
nx carol trust --yes >/dev/null || fail "trust as carol"
if nx carol register >"$T/reg.out" 2>&1; then
	fail "registration still open after reload with register = no"
fi
ok "reload: still active, same pid $pid1, status '$(nspawn_prop nexus-chatd.service StatusText)', register refused: $(head -n 1 "$T/reg.out")"

# --- SIGKILL: restarted, acknowledged messages kept ---
out=$(nx alice say lobby "acknowledged before kill") || fail "say before kill"
id2=$(printf '%s\n' "$out" | grep -o '[0-9][0-9]*' | head -n 1)
[ -n "$id2" ] || fail "say printed no message id: $out"
nspawn_ctl kill -s KILL nexus-chatd.service || fail "systemctl kill"
new_pid() {
	p=$(nspawn_prop nexus-chatd.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	# Not restarted by itself: the next connection must start it.
	nx bob history lobby >/dev/null 2>&1
	wait_for 10 new_pid || fail "chatd not restarted after SIGKILL"
fi
nx bob history lobby >"$T/hist2" || fail "history after restart"
grep -q "hello from systemd" "$T/hist2" && grep -q "acknowledged before kill" "$T/hist2" ||
	{ cat "$T/hist2"; fail "acknowledged messages lost after kill -9"; }
ok "SIGKILL: restarted as pid $(nspawn_prop nexus-chatd.service MainPID) (NRestarts=$(nspawn_prop nexus-chatd.service NRestarts)), messages $id1 and $id2 kept"

# --- journal ---
nspawn_exec journalctl --no-pager -u nexus-chatd.service >"$T/journal" 2>&1
grep -q "listening on" "$T/journal" || { cat "$T/journal"; fail "no 'listening on' line from chatd in the journal"; }
n=$(grep -c "listening on" "$T/journal")
[ "$n" -ge 2 ] || fail "journal shows $n start(s) of chatd, want 2"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi
ok "journal: $(grep -c 'chatd\[' "$T/journal") chatd lines; $(grep -m 1 'listening on' "$T/journal" | sed 's/^.*chatd\[[0-9]*\]: //')"

# --- stop within 2 s, cleanly ---
t0=$(date +%s%N)
nspawn_ctl stop nexus-chatd.service nexus-chatd.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
for u in nexus-chatd.service nexus-chatd.socket; do
	s=$(nspawn_ctl is-active $u)
	[ "$s" = inactive ] || fail "$u is '$s' after stop"
done
r=$(nspawn_prop nexus-chatd.service Result)
[ "$r" = success ] || fail "chatd's stop was not clean: Result=$r, status $(nspawn_prop nexus-chatd.service ExecMainStatus)"
ok "stopped in $ms ms, Result=$r"

# --- nexus.target brings chat back ---
nspawn_ctl start nexus.target || fail "systemctl start nexus.target"
s=$(nspawn_ctl is-active nexus-chatd.socket nexus-chatd.service | tr '\n' ' ')
printf '%s\n' "$s" | grep -qw active || fail "nexus.target started neither the socket nor the service ($s)"
nx bob history lobby | grep -q "acknowledged before kill" || fail "history after start of nexus.target"
ok "nexus.target: socket/service $s"
nspawn_ctl stop nexus.target nexus-chatd.service nexus-chatd.socket || fail "stop after nexus.target"
nspawn_exec journalctl --no-pager -u nexus-chatd.service >"$T/journal" 2>&1
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi

# --- power off ---
t0=$(date +%s%N)
nspawn_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
