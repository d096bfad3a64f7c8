#!/bin/sh
# What `make run` calls: chatd in the foreground with its state in ./run
# (gitignored). Writes run/nexus.conf on the first run and keeps it after
# that (edit it freely), prints the address, the certificate fingerprint and
# how to connect, then stays attached until Ctrl-C, which stops chatd
# cleanly. Environment: BUILD (build dir, default build), PORT (default: the
# config's port, 5555). Extra arguments go to chatd (e.g. -v).
set -u
BUILD=${BUILD:-build}
top=$(pwd)
conf=run/nexus.conf
log=run/chatd.log

if [ ! -x "$BUILD/chatd" ] || [ ! -x "$BUILD/nexus" ]; then
	echo "run-local: $BUILD/chatd or $BUILD/nexus is missing; run make first" >&2
	exit 1
fi
mkdir -p run/state || exit 1
if [ ! -f "$conf" ]; then
	cat >"$conf" <<EOF
# Written by make run (test/run-local.sh) for a local chatd; kept between
# runs, edit it freely. Every key is described in common/nexus.conf.example.
[common]
state_dir = $top/run/state

[chatd]
#port = 5555
EOF
	echo "run-local: wrote $conf (state in run/state)"
fi

set -- -d -f "$conf" "$@"
[ -n "${PORT:-}" ] && set -- "$@" -p "$PORT"

# chatd runs in its own session so that a Ctrl-C on the terminal reaches it
# exactly once: forwarded by the trap below, not also from the terminal.
: >"$log"
setsid "$BUILD/chatd" "$@" </dev/null >>"$log" 2>&1 &
pid=$!
stopping=0 signalled=0
stop() { # signal
	stopping=1 signalled=1
	kill "-$1" "$pid" 2>/dev/null
}
trap 'stop INT' INT
trap 'stop TERM' TERM HUP

# Wait for the "listening on" line (it carries the fingerprint).
i=0
while ! grep -q "listening on" "$log" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ] || [ $stopping = 1 ]; then
		cat "$log" >&2
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			echo "run-local: chatd did not report 'listening on' in 30 s; stopped it" >&2
		fi
		wait "$pid" 2>/dev/null
		[ $stopping = 1 ] && exit 0
		echo "run-local: chatd did not start (log: $log)" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done

shown=$(wc -c <"$log")
head -c "$shown" "$log"
line=$(grep -m 1 "listening on" "$log")
fpr=$(printf '%s\n' "$line" | grep -o 'SHA256:[A-Za-z0-9+/=:]*' | head -n 1)
[ -n "$fpr" ] || fpr=$(grep -o 'SHA256:[A-Za-z0-9+/=:]*' "$log" | head -n 1)
[ -n "$fpr" ] || fpr="(not in chatd's log; compare what nexus trust shows with run/state/tls/cert.pem)"
port=$(printf '%s\n' "$line" | sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p')
port=${port:-${PORT:-5555}}
popt=""
[ "$port" != 5555 ] && popt=" -P $port"
lan=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v -e '^$' -e '^127\.' -e ':' | head -n 3 | tr '\n' ' ')
nx="$BUILD/nexus -s 127.0.0.1$popt"

cat <<EOF

================================================================
 chatd is running (pid $pid), state in run/state, log in $log
 address:      127.0.0.1:$port (and every other address of this machine)
EOF
[ -n "$lan" ] && echo " on the LAN:   ${lan% }  (port $port)"
cat <<EOF
 certificate:  $fpr

 In another terminal:
EOF
w=$((${#nx} + 17))
cmd() { printf '   %-*s # %s\n' "$w" "$nx $1" "$2"; }
cmd "trust" "compare the fingerprint above, answer yes"
cmd "register alice" "asks for a password"
cmd "create lobby" "the first time; later: join lobby"
cmd "say lobby hello" "post a message"
cmd "tail lobby" "follow the room (Ctrl-C ends it)"
envs="NEXUS_SERVER=127.0.0.1"
[ -n "$popt" ] && envs="$envs NEXUS_CHAT_PORT=$port"
cat <<EOF
 (Or export $envs once and leave out${popt:+ -P and} -s.)

 Ctrl-C here stops chatd.
================================================================

EOF

# Keep showing chatd's log until it exits. tail ignores the terminal's
# Ctrl-C (a background job of a script) and ends shortly after chatd.
tail -c +$((shown + 1)) -s 0.2 --pid="$pid" -f "$log" &
tailpid=$!

# wait returns early when a trapped signal arrives: then wait again for
# chatd's own exit status.
rc=0
while :; do
	signalled=0
	wait "$pid"
	r=$?
	[ $r -ne 127 ] && rc=$r
	[ $signalled = 1 ] || break
done
wait "$tailpid" 2>/dev/null
if [ $rc -eq 0 ]; then
	echo "run-local: chatd stopped"
else
	echo "run-local: chatd exited with status $rc (log: $log)" >&2
fi
exit $rc
