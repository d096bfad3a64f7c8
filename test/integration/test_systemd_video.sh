#!/bin/sh
# Real systemd for videod: boot a throwaway systemd-nspawn container (as
# test_systemd.sh does) with chatd's and videod's units. Then: the first
# HTTPS connection starts videod (socket activation), Type=notify with a
# status text and a watchdog, not root; the call page is served; a password
# login is checked through chatd; `nexus call --once` shows a participant;
# reload keeps the process; SIGKILL restarts it; a clean stop within 2 s;
# nexus.target. The container is always powered off and nspawn's cgroup
# folders removed; only processes this script started are signalled.
. test/lib/common.sh
. test/lib/nspawn.sh

nspawn_need
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl is not installed (make test installs it)"; exit 1; }
for f in "$BUILD/chatd" "$BUILD/videod" "$BUILD/nexus"; do
	[ -x "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
nspawn_stage videod chatd
mkdir -p "$T/bin/www"
cp videod/www/* "$T/bin/www/"
# Only the units that exist here: the target may name daemons not built.
sed 's/ nexus-\(filed\|audiod\)\.\(socket\|service\)//g' systemd/nexus.target >"$T/units/nexus.target"
printf '\n[videod]\nwww = /opt/nexus/www\nchat_host = 127.0.0.1\n' >>"$T/etc-nexus/nexus.conf"
trap 'nspawn_cleanup; nx_cleanup' EXIT
nspawn_boot_staged nexus-test-$$

fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	nspawn_ctl status --no-pager -l nexus-videod.socket nexus-videod.service 2>&1 | tail -n 40
	echo "--- journal"
	nspawn_exec journalctl --no-pager -n 60 -u nexus-videod.service -u nexus-chatd.service 2>&1
	exit 1
}

nx() {
	n_user=$1
	shift
	nspawn_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" ASAN_OPTIONS=detect_leaks=0 \
		/opt/nexus/nexus -s 127.0.0.1 -P 5555 "$@"
}
svc_active() { [ "$(nspawn_ctl is-active nexus-videod.service)" = active ]; }
https() { nspawn_exec curl -sk -o /dev/null -w '%{http_code}' "$@"; }

for u in nexus-videod.socket nexus-videod.service nexus-chatd.socket nexus.target; do
	[ "$(nspawn_prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(nspawn_prop $u LoadState)"
done
ok "units loaded"

# --- socket activation ---
nspawn_ctl start nexus-chatd.socket nexus-videod.socket || fail "start the sockets"
s=$(nspawn_ctl is-active nexus-videod.service)
[ "$s" = inactive ] || fail "nexus-videod.service is '$s' before any connection"
ok "sockets active, videod not started yet"
code=$(https https://127.0.0.1:5000/)
wait_for 10 svc_active || fail "videod not active after the first connection"
[ "$code" = 200 ] || fail "the first request got HTTP $code"
nspawn_exec curl -sk https://127.0.0.1:5000/ | grep -q "Shadow Nexus" || fail "the call page is not served"
ok "the first HTTPS request started videod and got the call page"

# --- Type=notify, status, watchdog, user ---
show=$(nspawn_ctl show -p Type,WatchdogUSec,StatusText,MainPID,Restart nexus-videod.service)
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog" ;; esac
[ -n "$(get StatusText)" ] || fail "videod sent no STATUS= text"
pid1=$(get MainPID)
uid=$(nspawn_exec cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "videod (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), uid $uid"

# --- logins go through chatd; nexus call sees a participant ---
nx alice trust --yes >/dev/null || fail "trust"
nx alice register >/dev/null || fail "register alice"
nx alice create standup >/dev/null || fail "create standup"
code=$(https -H 'Content-Type: application/json' -d '{"user":"alice","password":"nope-nope"}' https://127.0.0.1:5000/api/login)
[ "$code" = 401 ] || fail "a wrong password got HTTP $code"
code=$(https -c /tmp/jar -H 'Content-Type: application/json' -d '{"user":"alice","password":"pw-alice-secret"}' https://127.0.0.1:5000/api/login)
[ "$code" = 200 ] || fail "alice's login got HTTP $code"
code=$(https -b /tmp/jar -H 'Content-Type: application/json' -d '{"room":"standup"}' https://127.0.0.1:5000/api/join)
[ "$code" = 200 ] || fail "join got HTTP $code"
out=$(nx alice call standup --once) || fail "nexus call: $out"
printf '%s\n' "$out" | grep -q "in the call (1): alice" || fail "nexus call shows: $out"
ok "password checked by chatd; nexus call: $(printf '%s\n' "$out" | tail -n 1)"

# --- reload, SIGKILL ---
nspawn_ctl reload nexus-videod.service || fail "systemctl reload"
wait_for 10 svc_active || fail "not active after reload"
[ "$(nspawn_prop nexus-videod.service MainPID)" = "$pid1" ] || fail "reload restarted videod"
ok "reload: same pid $pid1"
nspawn_ctl kill -s KILL nexus-videod.service || fail "systemctl kill"
new_pid() {
	p=$(nspawn_prop nexus-videod.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	https https://127.0.0.1:5000/ >/dev/null
	wait_for 10 new_pid || fail "videod not restarted after SIGKILL"
fi
[ "$(https https://127.0.0.1:5000/)" = 200 ] || fail "no page after the restart"
ok "SIGKILL: restarted as pid $(nspawn_prop nexus-videod.service MainPID)"

# --- journal, stop ---
nspawn_exec journalctl --no-pager -u nexus-videod.service >"$T/journal" 2>&1
[ "$(grep -c "listening on" "$T/journal")" -ge 2 ] || { cat "$T/journal"; fail "journal lacks two starts"; }
grep -E "AddressSanitizer|runtime error:" "$T/journal" && fail "sanitizer report in the journal"
t0=$(date +%s%N)
nspawn_ctl stop nexus-videod.service nexus-videod.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
r=$(nspawn_prop nexus-videod.service Result)
[ "$r" = success ] || fail "videod's stop was not clean: Result=$r"
ok "stopped in $ms ms, Result=$r"

nspawn_ctl start nexus.target || fail "systemctl start nexus.target"
wait_for 10 sh -c "[ \"\$(timeout 10 nsenter -t $LEADER -a systemctl is-active nexus-videod.socket)\" = active ]" ||
	fail "nexus.target did not start nexus-videod.socket"
[ "$(https https://127.0.0.1:5000/)" = 200 ] || fail "no page after nexus.target"
ok "nexus.target starts videod"
nspawn_ctl stop nexus.target nexus-videod.service nexus-videod.socket nexus-chatd.service nexus-chatd.socket

t0=$(date +%s%N)
nspawn_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
