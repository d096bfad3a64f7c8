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

skip() {
	echo "SKIP: $*"
	exit 77
}

# --- can this machine run a container at all? ---
[ "$(id -u)" = 0 ] || skip "systemd-nspawn needs root"
for ns in mnt pid net uts ipc; do
	[ -e "/proc/self/ns/$ns" ] || skip "kernel without $ns namespaces"
done
fstype() { stat -fc %T "$1" 2>/dev/null; }
CG2=""
if [ "$(fstype /sys/fs/cgroup)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup
elif [ "$(fstype /sys/fs/cgroup/unified)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup/unified
fi
[ -n "$CG2" ] || skip "no cgroup v2 hierarchy mounted (systemd in a container needs one)"
CG_ROOTS=$CG2
[ "$CG2" != /sys/fs/cgroup ] && [ "$(fstype /sys/fs/cgroup/systemd)" = cgroupfs ] &&
	CG_ROOTS="$CG2 /sys/fs/cgroup/systemd"
for c in systemd-nspawn nsenter setsid pgrep; do
	command -v $c >/dev/null 2>&1 ||
		fail "$c is missing: apt-get install systemd-container util-linux procps (make test installs them)"
done
[ -x /lib/systemd/systemd ] || fail "/lib/systemd/systemd is missing: apt-get install systemd"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"

# --- inputs ---
for f in "$BUILD/chatd" "$BUILD/videod" "$BUILD/nexus"; do
	[ -x "$f" ] || skip "$f is not built"
done
SAN_BUILD=0
grep -q __asan_init "$BUILD/videod" && SAN_BUILD=1

# --- the folders bound into the container ---
mkdir -p "$T/bin/www" "$T/units" "$T/sysusers" "$T/tmpfiles" "$T/etc-nexus"
cp "$BUILD/chatd" "$BUILD/videod" "$BUILD/nexus" test/lsan.supp "$T/bin/"
cp videod/www/* "$T/bin/www/"
for d in chatd videod; do
	sed 's|@SBINDIR@|/opt/nexus|g' "systemd/nexus-$d.service.in" >"$T/units/nexus-$d.service"
	cp "systemd/nexus-$d.socket" "$T/units/"
	if [ $SAN_BUILD = 1 ]; then
		# LeakSanitizer needs ptrace, which the system call filter forbids.
		mkdir -p "$T/units/nexus-$d.service.d"
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1\n' \
			>"$T/units/nexus-$d.service.d/sanitizer.conf"
	fi
done
# Only the units that exist here: the target may name daemons not built.
sed 's/ nexus-\(filed\|audiod\)\.\(socket\|service\)//g' systemd/nexus.target >"$T/units/nexus.target"
ln -s /dev/null "$T/units/systemd-firstboot.service"
cp systemd/nexus.sysusers "$T/sysusers/nexus.conf"
cp systemd/nexus.tmpfiles "$T/tmpfiles/nexus.conf"
cp common/nexus.conf.example "$T/etc-nexus/nexus.conf"
printf '\n[videod]\nwww = /opt/nexus/www\nchat_host = 127.0.0.1\n' >>"$T/etc-nexus/nexus.conf"
chmod -R go+rX "$T"
chmod 0755 "$T"

# --- boot ---
NAME=nexus-test-$$
NSPID="" LEADER="" CG_DIRS=""

# nspawn makes payload/ and supervisor/ cgroups under its own cgroup: give it
# a cgroup of its own so that concurrent containers do not share them and the
# clean-up knows exactly what to remove.
for r in $CG_ROOTS; do
	if mkdir "$r/$NAME" 2>/dev/null; then
		CG_DIRS="$CG_DIRS $r/$NAME"
	else
		for d in $CG_DIRS; do rmdir "$d"; done
		CG_DIRS=""
		break
	fi
done

container_stop() {
	[ -n "$NSPID" ] || return 0
	if kill -0 "$NSPID" 2>/dev/null && [ -n "$LEADER" ]; then
		timeout 10 nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
		wait_for 15 sh -c "! kill -0 $NSPID"
	fi
	if kill -0 "$NSPID" 2>/dev/null; then
		kill -TERM "$NSPID" 2>/dev/null # nspawn asks the container to power off
		wait_for 10 sh -c "! kill -0 $NSPID"
	fi
	if kill -0 "$NSPID" 2>/dev/null; then
		echo "container did not power off: killing it"
		[ -n "$LEADER" ] && kill -KILL "$LEADER" 2>/dev/null
		kill -KILL "$NSPID" 2>/dev/null
	fi
	wait "$NSPID" 2>/dev/null
	NSPID=""
}

cgroup_cleanup() {
	if [ -n "$CG_DIRS" ]; then
		dirs=$CG_DIRS
	else
		# nspawn ran in our cgroup: remove what it left there.
		dirs=""
		for r in $CG_ROOTS; do
			own=$(sed -n 's/^0:://p' /proc/$$/cgroup)
			[ "$r" = /sys/fs/cgroup/systemd ] && own=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/$$/cgroup)
			dirs="$dirs $r${own%/}/payload $r${own%/}/supervisor"
		done
	fi
	for d in $dirs; do
		[ -d "$d" ] || continue
		# rmdir only removes empty cgroups: never one with processes in it.
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$d" ] && echo "warning: could not remove cgroup $d"
	done
}

sd_cleanup() {
	container_stop
	cgroup_cleanup
	nx_cleanup
}
trap sd_cleanup EXIT

say "booting systemd in container $NAME"
unset NOTIFY_SOCKET
export CG_DIRS
setsid sh -c 'echo $$ >"$1/nspawn.pid"; shift
	for d in $CG_DIRS; do echo $$ >"$d/cgroup.procs" || exit 90; done
	exec "$@"' sh "$T" \
	systemd-nspawn --quiet --register=no --keep-unit --private-network -D / --volatile=yes \
	--bind-ro="$T/bin:/opt/nexus" --bind-ro="$T/units:/etc/systemd/system" \
	--bind-ro="$T/sysusers:/etc/sysusers.d" --bind-ro="$T/tmpfiles:/etc/tmpfiles.d" \
	--bind-ro="$T/etc-nexus:/etc/nexus" -M "$NAME" -b </dev/null >"$T/nspawn.log" 2>&1 &
NSPID=$!
wait_for 5 test -s "$T/nspawn.pid" || fail "could not start systemd-nspawn"
# (setsid forks when it is a process group leader: then nspawn is a grandchild)
[ "$(cat "$T/nspawn.pid")" = "$NSPID" ] || NSPID=$(cat "$T/nspawn.pid")

find_leader() {
	for c in $(pgrep -P "$NSPID"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && LEADER=$c && return 0
	done
	return 1
}
if ! wait_for 10 find_leader; then
	cat "$T/nspawn.log"
	fail "no systemd process in the container after 10 s"
fi
find_leader

in_ct() { timeout 60 nsenter -t "$LEADER" -a "$@"; }
ctl() { in_ct systemctl "$@"; }
state=""
system_up() {
	state=$(ctl is-system-running 2>/dev/null)
	case "$state" in running | degraded) return 0 ;; esac
	return 1
}
if ! wait_for 30 system_up; then
	tail -n 40 "$T/nspawn.log"
	ctl list-jobs --no-pager
	fail "systemd in the container is '$state' after 30 s"
fi
ok "container up: $state (leader $LEADER)"
[ "$state" = degraded ] && ctl --failed --no-pager

fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	ctl status --no-pager -l nexus-videod.socket nexus-videod.service 2>&1 | tail -n 40
	echo "--- journal"
	in_ct journalctl --no-pager -n 60 -u nexus-videod.service -u nexus-chatd.service 2>&1
	exit 1
}

nx() {
	n_user=$1
	shift
	in_ct env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" ASAN_OPTIONS=detect_leaks=0 \
		/opt/nexus/nexus -s 127.0.0.1 -P 5555 "$@"
}
prop() { ctl show -p "$2" --value "$1"; }
svc_active() { [ "$(ctl is-active nexus-videod.service)" = active ]; }
https() { in_ct curl -sk -o /dev/null -w '%{http_code}' "$@"; }

for u in nexus-videod.socket nexus-videod.service nexus-chatd.socket nexus.target; do
	[ "$(prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(prop $u LoadState)"
done
ok "units loaded"

# --- socket activation ---
ctl start nexus-chatd.socket nexus-videod.socket || fail "start the sockets"
s=$(ctl is-active nexus-videod.service)
[ "$s" = inactive ] || fail "nexus-videod.service is '$s' before any connection"
ok "sockets active, videod not started yet"
code=$(https https://127.0.0.1:5000/)
wait_for 10 svc_active || fail "videod not active after the first connection"
[ "$code" = 200 ] || fail "the first request got HTTP $code"
in_ct curl -sk https://127.0.0.1:5000/ | grep -q "Shadow Nexus" || fail "the call page is not served"
ok "the first HTTPS request started videod and got the call page"

# --- Type=notify, status, watchdog, user ---
show=$(ctl show -p Type,WatchdogUSec,StatusText,MainPID,Restart nexus-videod.service)
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog" ;; esac
[ -n "$(get StatusText)" ] || fail "videod sent no STATUS= text"
pid1=$(get MainPID)
uid=$(in_ct cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
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
ctl reload nexus-videod.service || fail "systemctl reload"
wait_for 10 svc_active || fail "not active after reload"
[ "$(prop nexus-videod.service MainPID)" = "$pid1" ] || fail "reload restarted videod"
ok "reload: same pid $pid1"
ctl kill -s KILL nexus-videod.service || fail "systemctl kill"
new_pid() {
	p=$(prop nexus-videod.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	https https://127.0.0.1:5000/ >/dev/null
	wait_for 10 new_pid || fail "videod not restarted after SIGKILL"
fi
[ "$(https https://127.0.0.1:5000/)" = 200 ] || fail "no page after the restart"
ok "SIGKILL: restarted as pid $(prop nexus-videod.service MainPID)"

# --- journal, stop ---
in_ct journalctl --no-pager -u nexus-videod.service >"$T/journal" 2>&1
[ "$(grep -c "listening on" "$T/journal")" -ge 2 ] || { cat "$T/journal"; fail "journal lacks two starts"; }
grep -E "AddressSanitizer|runtime error:" "$T/journal" && fail "sanitizer report in the journal"
t0=$(date +%s%N)
ctl stop nexus-videod.service nexus-videod.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
r=$(prop nexus-videod.service Result)
[ "$r" = success ] || fail "videod's stop was not clean: Result=$r"
ok "stopped in $ms ms, Result=$r"

ctl start nexus.target || fail "systemctl start nexus.target"
wait_for 10 sh -c "[ \"\$(timeout 10 nsenter -t $LEADER -a systemctl is-active nexus-videod.socket)\" = active ]" ||
	fail "nexus.target did not start nexus-videod.socket"
[ "$(https https://127.0.0.1:5000/)" = 200 ] || fail "no page after nexus.target"
ok "nexus.target starts videod"
ctl stop nexus.target nexus-videod.service nexus-videod.socket nexus-chatd.service nexus-chatd.socket

t0=$(date +%s%N)
container_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
