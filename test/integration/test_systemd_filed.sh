#!/bin/sh
# filed under real systemd, in a throwaway systemd-nspawn container booted
# the way test_systemd.sh does it (TESTING.md): socket activation of filed
# by the first push, Type=notify with a status text and a watchdog, a
# non-root user, a push and pull with matching SHA-256 next to chatd (the
# token from chatd, the certificate shared), SIGKILL -> restart with the
# stored file intact, filed lines in the journal, a clean stop within 2 s.
# Only processes this script started are signalled, by PID.
. test/lib/common.sh
. test/lib/nspawn.sh

nspawn_need
nspawn_stage chatd filed
trap 'nspawn_cleanup; nx_cleanup' EXIT
nspawn_boot_staged nexus-ftest-$$

# Every failure from here on shows the units' state and the journal.
fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	nspawn_ctl status --no-pager -l nexus-filed.socket nexus-filed.service nexus-chatd.service 2>&1 | tail -n 40
	echo "--- journal"
	nspawn_exec journalctl --no-pager -n 60 -u nexus-filed.service -u nexus-filed.socket -u nexus-chatd.service 2>&1
	exit 1
}

# nx USER ARGS...: the real client inside the container (own config folder).
CHAT_PORT=5555
FILE_PORT=5556
nx() {
	n_user=$1
	shift
	nspawn_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=/opt/nexus/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		NEXUS_FILE_PORT="$FILE_PORT" /opt/nexus/nexus -s 127.0.0.1 -P "$CHAT_PORT" "$@"
}
svc_active() { [ "$(nspawn_ctl is-active nexus-filed.service)" = active ]; }

# --- the units load ---
for u in nexus-filed.socket nexus-filed.service nexus-chatd.socket nexus.target; do
	[ "$(nspawn_prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(nspawn_prop $u LoadState)"
done
ok "units loaded"

# --- chatd for the login, filed by socket activation ---
nspawn_ctl start nexus-chatd.socket nexus-filed.socket || fail "systemctl start the sockets"
[ "$(nspawn_ctl is-active nexus-filed.socket)" = active ] || fail "filed socket not active"
s=$(nspawn_ctl is-active nexus-filed.service)
[ "$s" = inactive ] || fail "nexus-filed.service is '$s' before any connection"
ok "sockets active, filed not started yet"
nx alice trust --yes >/dev/null 2>&1 || fail "trust"
nx alice register >/dev/null 2>&1 || fail "register alice (chatd)"
nspawn_exec sh -c 'head -c 3000000 /dev/urandom >/tmp/f.bin' || fail "make a file in the container"
sum=$(nspawn_exec sha256sum /tmp/f.bin | cut -d' ' -f1)
out=$(nx alice push /tmp/f.bin --json) || fail "push (first connection to filed): $out"
link=$(printf '%s\n' "$out" | sed -n 's/.*"link":"\([^"]*\)".*/\1/p')
printf '%s\n' "$out" | grep -q "\"sha256\":\"$sum\"" || fail "push: hash differs: $out"
wait_for 10 svc_active || fail "filed not active after the first push"
ok "the first push started filed: $link"

# --- Type=notify, status, watchdog, user ---
show=$(nspawn_ctl show -p Type,NotifyAccess,WatchdogUSec,StatusText,MainPID,Restart nexus-filed.service)
echo "$show"
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog: WatchdogUSec=$(get WatchdogUSec)" ;; esac
[ -n "$(get StatusText)" ] || fail "filed sent no STATUS= text"
[ "$(get Restart)" = on-failure ] || fail "Restart=$(get Restart), want on-failure"
pid1=$(get MainPID)
uid=$(nspawn_exec cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "filed (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), runs as $(nspawn_exec id -nu "$uid")"

# --- pull back ---
nx alice pull "$link" -o /tmp/back.bin >/dev/null 2>&1 || fail "pull"
[ "$(nspawn_exec sha256sum /tmp/back.bin | cut -d' ' -f1)" = "$sum" ] || fail "pulled file differs"
ok "pull: same SHA-256"

# --- SIGKILL: restarted, the stored file intact ---
nspawn_ctl kill -s KILL nexus-filed.service || fail "systemctl kill"
new_pid() {
	p=$(nspawn_prop nexus-filed.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	nx alice files >/dev/null 2>&1
	wait_for 10 new_pid || fail "filed not restarted after SIGKILL"
fi
nspawn_exec rm -f /tmp/back.bin
nx alice pull "$link" -o /tmp/back.bin >/dev/null 2>&1 || fail "pull after the restart"
[ "$(nspawn_exec sha256sum /tmp/back.bin | cut -d' ' -f1)" = "$sum" ] || fail "file damaged by kill -9"
ok "SIGKILL: restarted as pid $(nspawn_prop nexus-filed.service MainPID), file intact"

# --- journal ---
nspawn_exec journalctl --no-pager -u nexus-filed.service >"$T/journal" 2>&1
n=$(grep -c "listening on" "$T/journal")
[ "$n" -ge 2 ] || { cat "$T/journal"; fail "journal shows $n start(s) of filed, want 2"; }
grep -q 'stored "f.bin"' "$T/journal" || fail "no 'stored' line in the journal"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi
ok "journal: $(grep -c 'filed\[' "$T/journal") filed lines"

# --- stop within 2 s, cleanly ---
t0=$(date +%s%N)
nspawn_ctl stop nexus-filed.service nexus-filed.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
r=$(nspawn_prop nexus-filed.service Result)
[ "$r" = success ] || fail "filed's stop was not clean: Result=$r"
ok "stopped in $ms ms, Result=$r"
nspawn_ctl stop nexus-chatd.service nexus-chatd.socket >/dev/null 2>&1

t0=$(date +%s%N)
nspawn_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo PASS
