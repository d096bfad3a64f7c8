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
for f in "$BUILD/chatd" "$BUILD/audiod" "$BUILD/nexus"; do
	[ -x "$f" ] || fail "$f is not built"
done
for f in nexus-chatd.service.in nexus-chatd.socket nexus-audiod.service.in nexus-audiod.socket \
	nexus.target nexus.sysusers nexus.tmpfiles; do
	[ -f "systemd/$f" ] || fail "systemd/$f is missing"
done
SAN_BUILD=0
grep -q __asan_init "$BUILD/chatd" && SAN_BUILD=1

# --- the folders bound into the container ---
mkdir -p "$T/bin" "$T/units" "$T/sysusers" "$T/tmpfiles" "$T/etc-nexus"
cp "$BUILD/chatd" "$BUILD/audiod" "$BUILD/nexus" test/lsan.supp "$T/bin/"
for d in chatd audiod; do
	sed 's|@SBINDIR@|/opt/nexus|g' systemd/nexus-$d.service.in >"$T/units/nexus-$d.service"
	cp systemd/nexus-$d.socket "$T/units/"
done
cp systemd/nexus.target "$T/units/"
nx_speech a "The quick brown fox jumps over the lazy dog near the river bank."
cp "$T/a.wav" "$T/bin/a.wav"
ln -s /dev/null "$T/units/systemd-firstboot.service"
cp systemd/nexus.sysusers "$T/sysusers/nexus.conf"
cp systemd/nexus.tmpfiles "$T/tmpfiles/nexus.conf"
cp common/nexus.conf.example "$T/etc-nexus/nexus.conf"
if [ $SAN_BUILD = 1 ]; then
	# LeakSanitizer stops the world with ptrace, which the unit's system
	# call filter forbids; leaks are checked by the other tests.
	for d in chatd audiod; do
		mkdir -p "$T/units/nexus-$d.service.d"
		cat >"$T/units/nexus-$d.service.d/sanitizer.conf" <<-'EOF'
			[Service]
			Environment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
			Environment=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		EOF
	done
fi
chmod -R go+rX "$T"
chmod 0755 "$T"

# --- boot ---
NAME=nexus-audio-$$
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
	ctl status --no-pager -l nexus-audiod.socket nexus-audiod.service 2>&1 | tail -n 40
	echo "--- journal"
	in_ct journalctl --no-pager -n 60 -u nexus-audiod.service -u nexus-audiod.socket 2>&1
	exit 1
}

# nx USER ARGS...: the real client inside the container (own config folder).
nx() {
	n_user=$1
	shift
	in_ct env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		NEXUS_CONFIG_DIR="/tmp/cfg-$n_user" NEXUS_USER="$n_user" \
		NEXUS_PASSWORD="pw-$n_user-secret" NEXUS_AUDIO_PORT=5557 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=/opt/nexus/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		/opt/nexus/nexus -s 127.0.0.1 -P 5555 "$@"
}
prop() { # UNIT PROPERTY
	ctl show -p "$2" --value "$1"
}
svc_active() { [ "$(ctl is-active nexus-audiod.service)" = active ]; }

for u in nexus-audiod.socket nexus-audiod.service; do
	[ "$(prop $u LoadState)" = loaded ] || fail "$u: LoadState=$(prop $u LoadState)"
done
ctl start nexus-chatd.socket nexus-audiod.socket || fail "systemctl start the sockets"
s=$(ctl is-active nexus-audiod.service)
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
in_ct cat /tmp/bob.wav >"$T/bob.wav" || fail "cannot copy bob's recording out"
cat "$T/bob.err"
echo "server-added delay in the container: $(sed -n 's/.*"server_delay_us":\([0-9]*\).*/\1/p' "$T/bob.json") us"

show=$(ctl show -p Type,WatchdogUSec,StatusText,MainPID,Restart nexus-audiod.service)
echo "$show"
get() { printf '%s\n' "$show" | sed -n "s/^$1=//p"; }
[ "$(get Type)" = notify ] || fail "Type=$(get Type), want notify"
case "$(get WatchdogUSec)" in "" | 0 | infinity) fail "no watchdog: WatchdogUSec=$(get WatchdogUSec)" ;; esac
[ -n "$(get StatusText)" ] || fail "audiod sent no STATUS= text"
pid1=$(get MainPID)
uid=$(in_ct cat "/proc/$pid1/status" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "audiod (pid $pid1) runs as uid '$uid'"
ok "Type=notify, status '$(get StatusText)', watchdog $(get WatchdogUSec), uid $uid"

ctl reload nexus-audiod.service || fail "systemctl reload"
wait_for 10 sh -c "timeout 10 nsenter -t $LEADER -a journalctl --no-pager -u nexus-audiod.service | grep -q ticks=" ||
	fail "no statistics in the journal after reload"
in_ct journalctl --no-pager -u nexus-audiod.service | grep "ticks=" | sed 's/^.*audiod\[[0-9]*\]: /audiod after reload: /'

say "SIGKILL: restarted"
ctl kill -s KILL nexus-audiod.service || fail "systemctl kill"
new_pid() {
	p=$(prop nexus-audiod.service MainPID)
	svc_active && [ "$p" != 0 ] && [ "$p" != "$pid1" ]
}
if ! wait_for 10 new_pid; then
	nx alice talk lobby --duration 0.5 >/dev/null 2>&1
	wait_for 10 new_pid || fail "audiod not restarted after SIGKILL"
fi
nx alice talk lobby --duration 0.5 >"$T/alice2.out" 2>&1 || { cat "$T/alice2.out"; fail "talk after restart"; }
ok "restarted as pid $(prop nexus-audiod.service MainPID)"

in_ct journalctl --no-pager -u nexus-audiod.service >"$T/journal" 2>&1
grep -q "listening on" "$T/journal" || { cat "$T/journal"; fail "no 'listening on' line from audiod in the journal"; }
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T/journal"; then
	fail "sanitizer report in the journal"
fi
ok "journal: $(grep -m 1 'listening on' "$T/journal" | sed 's/^.*audiod\[[0-9]*\]: //')"

t0=$(date +%s%N)
ctl stop nexus-audiod.service nexus-audiod.socket || fail "systemctl stop"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -le 2000 ] || fail "stop took $ms ms (limit 2000)"
r=$(prop nexus-audiod.service Result)
[ "$r" = success ] || fail "audiod's stop was not clean: Result=$r"
ok "stopped in $ms ms, Result=$r"
in_ct journalctl --no-pager -u nexus-audiod.service | grep "ticks=" | sed 's/^.*audiod\[[0-9]*\]: /audiod: /'

# The fidelity checks (>= 0.9) are test_audio_*'s; here the point is the
# service. In the container on a busy machine about a tenth of the frames
# are shed on the way (jitter buffers grow to 100-180 ms and shed; not yet
# understood, see the README): the speech must be recognisably there (a
# different sentence scores about 0.25 by this measure).
nx_expect_sim "bob heard alice through systemd's audiod" 0.5 "$T/a.wav" "$T/bob.wav"

t0=$(date +%s%N)
container_stop
ok "container powered off in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "PASS"
