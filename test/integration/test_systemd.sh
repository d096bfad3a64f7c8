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

# --- inputs ---
for f in "$BUILD/chatd" "$BUILD/nexus"; do
	[ -x "$f" ] || fail "$f is not built"
done
for f in nexus-chatd.service.in nexus-chatd.socket nexus.target nexus.sysusers nexus.tmpfiles; do
	[ -f "systemd/$f" ] || fail "systemd/$f is missing"
done
SAN_BUILD=0
grep -q __asan_init "$BUILD/chatd" && SAN_BUILD=1

# --- the folders bound into the container ---
mkdir -p "$T/bin" "$T/units" "$T/sysusers" "$T/tmpfiles" "$T/etc-nexus"
cp "$BUILD/chatd" "$BUILD/nexus" test/lsan.supp "$T/bin/"
sed 's|@SBINDIR@|/opt/nexus|g' systemd/nexus-chatd.service.in >"$T/units/nexus-chatd.service"
cp systemd/nexus-chatd.socket systemd/nexus.target "$T/units/"
ln -s /dev/null "$T/units/systemd-firstboot.service"
cp systemd/nexus.sysusers "$T/sysusers/nexus.conf"
cp systemd/nexus.tmpfiles "$T/tmpfiles/nexus.conf"
cp common/nexus.conf.example "$T/etc-nexus/nexus.conf"
if [ $SAN_BUILD = 1 ]; then
	# LeakSanitizer stops the world with ptrace, which the unit's system
	# call filter forbids; leaks are checked by the other tests.
	mkdir -p "$T/units/nexus-chatd.service.d"
	cat >"$T/units/nexus-chatd.service.d/sanitizer.conf" <<-'EOF'
		[Service]
		Environment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
		Environment=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	EOF
fi
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

# Every failure from here on shows the units' state and the journal.
fail() {
	printf 'FAIL: %s\n' "$*"
	echo "--- systemctl status"
	ctl status --no-pager -l nexus-chatd.socket nexus-chatd.service 2>&1 | tail -n 40
	echo "--- journal"
	in_ct journalctl --no-pager -n 60 -u nexus-chatd.service -u nexus-chatd.socket 2>&1
	exit 1
}

# nx USER ARGS...: the real client inside the container (own config folder).
CHAT_PORT=5555
nx() {
	n_user=$1
	shift
	in_ct env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=/opt/nexus/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		/opt/nexus/nexus -s 127.0.0.1 -P "$CHAT_PORT" "$@"
}
prop() { # UNIT PROPERTY
	ctl show -p "$2" --value "$1"
}
svc_active() { [ "$(ctl is-active nexus-chatd.service)" = active ]; }

# --- the units load, sysusers ran ---
for u in nexus-chatd.socket nexus-chatd.service nexus.target; do
	[ "$(prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(prop $u LoadState)"
done
in_ct getent passwd nexus >/dev/null || fail "no nexus user: sysusers.d entry not applied"
ok "units loaded, user nexus exists"

# --- socket activation ---
ctl start nexus-chatd.socket || fail "systemctl start nexus-chatd.socket"
[ "$(ctl is-active nexus-chatd.socket)" = active ] || fail "socket not active"
listen=$(prop nexus-chatd.socket Listen)
say "socket listens on: $listen"
port=$(printf '%s\n' "$listen" | sed -n 's/.*:\([0-9][0-9]*\) *(Stream).*/\1/p' | head -n 1)
[ -n "$port" ] && CHAT_PORT=$port
s=$(ctl is-active nexus-chatd.service)
[ "$s" = inactive ] || fail "nexus-chatd.service is '$s' before any connection"
ok "socket active, service not started yet"

nx alice trust --yes >"$T/trust.out" 2>&1 || { cat "$T/trust.out"; fail "trust (first connection)"; }
wait_for 10 svc_active || fail "service not active after the first connection"
ok "first connection started chatd: $(head -n 1 "$T/trust.out")"

# --- Type=notify, status, watchdog, user ---
show=$(ctl show -p Type,NotifyAccess,WatchdogUSec,StatusText,MainPID,Restart nexus-chatd.service)
echo "$show"
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get NotifyAccess)" in main | exec | all) ;; *) fail "NotifyAccess=$(get NotifyAccess)" ;; esac
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog: WatchdogUSec=$(get WatchdogUSec)" ;; esac
[ -n "$(get StatusText)" ] || fail "chatd sent no STATUS= text"
[ "$(get Restart)" = on-failure ] || fail "Restart=$(get Restart), want on-failure"
pid1=$(get MainPID)
# (awk is an alternatives link in /etc, which is empty in the container)
uid=$(in_ct cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "chatd (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), runs as $(in_ct id -nu "$uid")"

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
ctl reload nexus-chatd.service || fail "systemctl reload"
wait_for 10 svc_active || fail "not active after reload"
[ "$(prop nexus-chatd.service MainPID)" = "$pid1" ] || fail "reload restarted chatd"
nx bob history lobby | grep -q "hello from systemd" || fail "history after reload"
nx carol trust --yes >/dev/null || fail "trust as carol"
if nx carol register >"$T/reg.out" 2>&1; then
	fail "registration still open after reload with register = no"
fi
ok "reload: still active, same pid $pid1, status '$(prop nexus-chatd.service StatusText)', register refused: $(head -n 1 "$T/reg.out")"

# --- SIGKILL: restarted, acknowledged messages kept ---
out=$(nx alice say lobby "acknowledged before kill") || fail "say before kill"
id2=$(printf '%s\n' "$out" | grep -o '[0-9][0-9]*' | head -n 1)
[ -n "$id2" ] || fail "say printed no message id: $out"
ctl kill -s KILL nexus-chatd.service || fail "systemctl kill"
new_pid() {
	p=$(prop nexus-chatd.service MainPID)
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
ok "SIGKILL: restarted as pid $(prop nexus-chatd.service MainPID) (NRestarts=$(prop nexus-chatd.service NRestarts)), messages $id1 and $id2 kept"

# --- journal ---
in_ct journalctl --no-pager -u nexus-chatd.service >"$T/journal" 2>&1
grep -q "listening on" "$T/journal" || { cat "$T/journal"; fail "no 'listening on' line from chatd in the journal"; }
n=$(grep -c "listening on" "$T/journal")
[ "$n" -ge 2 ] || fail "journal shows $n start(s) of chatd, want 2"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi
ok "journal: $(grep -c 'chatd\[' "$T/journal") chatd lines; $(grep -m 1 'listening on' "$T/journal" | sed 's/^.*chatd\[[0-9]*\]: //')"

# --- stop within 2 s, cleanly ---
t0=$(date +%s%N)
ctl stop nexus-chatd.service nexus-chatd.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
for u in nexus-chatd.service nexus-chatd.socket; do
	s=$(ctl is-active $u)
	[ "$s" = inactive ] || fail "$u is '$s' after stop"
done
r=$(prop nexus-chatd.service Result)
[ "$r" = success ] || fail "chatd's stop was not clean: Result=$r, status $(prop nexus-chatd.service ExecMainStatus)"
ok "stopped in $ms ms, Result=$r"

# --- nexus.target brings chat back ---
ctl start nexus.target || fail "systemctl start nexus.target"
s=$(ctl is-active nexus-chatd.socket nexus-chatd.service | tr '\n' ' ')
printf '%s\n' "$s" | grep -qw active || fail "nexus.target started neither the socket nor the service ($s)"
nx bob history lobby | grep -q "acknowledged before kill" || fail "history after start of nexus.target"
ok "nexus.target: socket/service $s"
ctl stop nexus.target nexus-chatd.service nexus-chatd.socket || fail "stop after nexus.target"
in_ct journalctl --no-pager -u nexus-chatd.service >"$T/journal" 2>&1
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi

# --- power off ---
t0=$(date +%s%N)
container_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
