# Helpers for the tests that run real systemd as PID 1 (sourced after
# common.sh): a throwaway systemd-nspawn container that shares the host's
# /usr read-only (TESTING.md, "Real systemd as PID 1"). Only processes this
# script started are signalled, by PID; nspawn's cgroup folders are removed.
#
#   nspawn_need                  skip or fail unless a container can run here
#   nspawn_stage DAEMON...       $T/bin, units, sysusers, tmpfiles, etc-nexus
#   nspawn_boot_staged NAME      boot with those folders bound in
#   nspawn_boot NAME ARGS...     boot with other nspawn arguments
#   nspawn_exec CMD...           run CMD in all the container's namespaces
#   nspawn_ctl ARGS...           systemctl in the container
#   nspawn_prop UNIT PROPERTY    one property of a unit
#   nspawn_stop                  power off (then TERM, then KILL)
#   nspawn_cleanup               nspawn_stop and the cgroup leftovers
NSPID="" LEADER="" CG_DIRS="" CG_ROOTS="" SAN_BUILD=0

skip() {
	echo "SKIP: $*"
	exit 77
}

nspawn_fstype() { stat -fc %T "$1" 2>/dev/null; }

# nspawn_need: root, namespaces, a cgroup v2 hierarchy and the tools.
nspawn_need() {
	[ "$(id -u)" = 0 ] || skip "systemd-nspawn needs root"
	for ns in mnt pid net uts ipc; do
		[ -e "/proc/self/ns/$ns" ] || skip "kernel without $ns namespaces"
	done
	n_cg2=""
	if [ "$(nspawn_fstype /sys/fs/cgroup)" = cgroup2fs ]; then
		n_cg2=/sys/fs/cgroup
	elif [ "$(nspawn_fstype /sys/fs/cgroup/unified)" = cgroup2fs ]; then
		n_cg2=/sys/fs/cgroup/unified
	fi
	[ -n "$n_cg2" ] || skip "no cgroup v2 hierarchy mounted (systemd in a container needs one)"
	CG_ROOTS=$n_cg2
	[ "$n_cg2" != /sys/fs/cgroup ] && [ "$(nspawn_fstype /sys/fs/cgroup/systemd)" = cgroupfs ] &&
		CG_ROOTS="$n_cg2 /sys/fs/cgroup/systemd"
	for c in systemd-nspawn nsenter setsid pgrep; do
		command -v $c >/dev/null 2>&1 ||
			fail "$c is missing: apt-get install systemd-container util-linux procps (make test installs them)"
	done
	[ -x /lib/systemd/systemd ] || fail "/lib/systemd/systemd is missing: apt-get install systemd"
}

# nspawn_san_dropin UNITDIR DAEMON...: sanitizer builds keep their reports
# but not leak checks: LeakSanitizer stops the world with ptrace, which the
# units' system call filter forbids; leaks are checked by the other tests.
nspawn_san_dropin() {
	s_dir=$1
	shift
	for d in "$@"; do
		mkdir -p "$s_dir/nexus-$d.service.d"
		cat >"$s_dir/nexus-$d.service.d/sanitizer.conf" <<-'EOF'
			[Service]
			Environment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
			Environment=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		EOF
	done
}

# nspawn_stage DAEMON...: the folders nspawn_boot_staged binds in: $T/bin
# (/opt/nexus: the daemons, nexus, lsan.supp), $T/units (/etc/systemd/system:
# each daemon's service and socket, nexus.target, systemd-firstboot masked),
# $T/sysusers, $T/tmpfiles and $T/etc-nexus (the example nexus.conf). Sets
# SAN_BUILD=1 for a sanitizer build (the first daemon tells).
nspawn_stage() {
	for d in "$@" nexus; do
		[ -x "$BUILD/$d" ] || fail "$BUILD/$d is not built"
	done
	for f in nexus.target nexus.sysusers nexus.tmpfiles; do
		[ -f "systemd/$f" ] || fail "systemd/$f is missing"
	done
	grep -q __asan_init "$BUILD/$1" && SAN_BUILD=1
	mkdir -p "$T/bin" "$T/units" "$T/sysusers" "$T/tmpfiles" "$T/etc-nexus"
	cp "$BUILD/nexus" test/lsan.supp "$T/bin/"
	for d in "$@"; do
		for f in "nexus-$d.service.in" "nexus-$d.socket"; do
			[ -f "systemd/$f" ] || fail "systemd/$f is missing"
		done
		cp "$BUILD/$d" "$T/bin/"
		sed 's|@SBINDIR@|/opt/nexus|g' "systemd/nexus-$d.service.in" >"$T/units/nexus-$d.service"
		cp "systemd/nexus-$d.socket" "$T/units/"
	done
	cp systemd/nexus.target "$T/units/"
	ln -s /dev/null "$T/units/systemd-firstboot.service"
	cp systemd/nexus.sysusers "$T/sysusers/nexus.conf"
	cp systemd/nexus.tmpfiles "$T/tmpfiles/nexus.conf"
	cp common/nexus.conf.example "$T/etc-nexus/nexus.conf"
	[ $SAN_BUILD = 1 ] && nspawn_san_dropin "$T/units" "$@"
	return 0
}

nspawn_boot_staged() { # NAME [nspawn args]
	b_name=$1
	shift
	nspawn_boot "$b_name" --private-network \
		--bind-ro="$T/bin:/opt/nexus" --bind-ro="$T/units:/etc/systemd/system" \
		--bind-ro="$T/sysusers:/etc/sysusers.d" --bind-ro="$T/tmpfiles:/etc/tmpfiles.d" \
		--bind-ro="$T/etc-nexus:/etc/nexus" "$@"
}

nspawn_find_leader() {
	for c in $(pgrep -P "$NSPID"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && LEADER=$c && return 0
	done
	return 1
}

nspawn_exec() { timeout 60 nsenter -t "$LEADER" -a "$@"; }
nspawn_ctl() { nspawn_exec systemctl "$@"; }
nspawn_prop() { nspawn_ctl show -p "$2" --value "$1"; }

NSPAWN_STATE=""
nspawn_system_up() {
	NSPAWN_STATE=$(nspawn_ctl is-system-running 2>/dev/null)
	case "$NSPAWN_STATE" in running | degraded) return 0 ;; esac
	return 1
}

# nspawn_boot NAME ARGS...: boot the container NAME (machine name) from the
# host's root, volatile, with the extra nspawn ARGS (network, binds), and
# wait until systemd in it is running. Sets NSPID and LEADER. The caller
# traps EXIT to nspawn_cleanup.
nspawn_boot() {
	b_name=$1
	shift
	chmod -R go+rX "$T"
	chmod 0755 "$T"
	# nspawn makes payload/ and supervisor/ cgroups under its own cgroup:
	# give it a cgroup of its own so that concurrent containers do not
	# share them and the clean-up knows exactly what to remove.
	for r in $CG_ROOTS; do
		if mkdir "$r/$b_name" 2>/dev/null; then
			CG_DIRS="$CG_DIRS $r/$b_name"
		else
			for d in $CG_DIRS; do rmdir "$d"; done
			CG_DIRS=""
			break
		fi
	done
	say "booting systemd in container $b_name"
	unset NOTIFY_SOCKET
	export CG_DIRS
	setsid sh -c 'echo $$ >"$1/nspawn.pid"; shift
		for d in $CG_DIRS; do echo $$ >"$d/cgroup.procs" || exit 90; done
		exec "$@"' sh "$T" \
		systemd-nspawn --quiet --register=no --keep-unit -D / --volatile=yes "$@" \
		-M "$b_name" -b </dev/null >"$T/nspawn.log" 2>&1 &
	NSPID=$!
	wait_for 5 test -s "$T/nspawn.pid" || fail "could not start systemd-nspawn"
	# (setsid forks when it is a process group leader: then nspawn is a grandchild)
	[ "$(cat "$T/nspawn.pid")" = "$NSPID" ] || NSPID=$(cat "$T/nspawn.pid")
	if ! wait_for 10 nspawn_find_leader; then
		cat "$T/nspawn.log"
		fail "no systemd process in the container after 10 s"
	fi
	nspawn_find_leader
	if ! wait_for 30 nspawn_system_up; then
		tail -n 40 "$T/nspawn.log"
		nspawn_ctl list-jobs --no-pager
		fail "systemd in the container is '$NSPAWN_STATE' after 30 s"
	fi
	ok "container up: $NSPAWN_STATE (leader $LEADER)"
	[ "$NSPAWN_STATE" = degraded ] && nspawn_ctl --failed --no-pager
	return 0
}

# nspawn_stop: power the container off; TERM to nspawn (which asks the
# container to power off), KILL as the last resort.
nspawn_stop() {
	[ -n "$NSPID" ] || return 0
	if kill -0 "$NSPID" 2>/dev/null && [ -n "$LEADER" ]; then
		timeout 10 nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
		wait_for 15 sh -c "! kill -0 $NSPID"
	fi
	if kill -0 "$NSPID" 2>/dev/null; then
		kill -TERM "$NSPID" 2>/dev/null
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

nspawn_cgroup_cleanup() {
	if [ -n "$CG_DIRS" ]; then
		c_dirs=$CG_DIRS
	else
		# nspawn ran in our cgroup: remove what it left there.
		c_dirs=""
		for r in $CG_ROOTS; do
			own=$(sed -n 's/^0:://p' /proc/$$/cgroup)
			[ "$r" = /sys/fs/cgroup/systemd ] && own=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/$$/cgroup)
			c_dirs="$c_dirs $r${own%/}/payload $r${own%/}/supervisor"
		done
	fi
	for d in $c_dirs; do
		[ -d "$d" ] || continue
		# rmdir only removes empty cgroups: never one with processes in it.
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$d" ] && echo "warning: could not remove cgroup $d"
	done
}

nspawn_cleanup() {
	nspawn_stop
	nspawn_cgroup_cleanup
}
