#!/bin/sh
# What `make run` calls: every built daemon (chatd, filed, audiod, videod) in
# the foreground with state in ./run (gitignored). Writes run/nexus.conf on
# the first run and keeps it after that (edit it freely), prints the
# addresses, the certificate fingerprint and how to connect, then stays
# attached until Ctrl-C, which stops all of them cleanly. chatd starts
# first: it owns accounts, and the others ask it or trust its token key.
# Environment: BUILD (build dir, default build). Extra arguments go to every
# daemon (e.g. -v).
set -u
BUILD=${BUILD:-build}
top=$(pwd)
src=$(cd "$(dirname "$0")/.." && pwd) # the source tree, for the call page
conf=run/nexus.conf

if [ ! -x "$BUILD/chatd" ] || [ ! -x "$BUILD/nexus" ]; then
	echo "run-local: $BUILD/chatd or $BUILD/nexus is missing; run make first" >&2
	exit 1
fi
mkdir -p run/state || exit 1
# One suite per folder: a second make run here would truncate the first
# one's logs and print its errors into the first one's terminal. The lock
# is held by this script (fd 9, closed for the daemons) until it ends.
exec 9>>run/.lock
if ! flock -n 9; then
	other=$(cat run/run.pid 2>/dev/null)
	echo "run-local: a suite is already running from this folder (make run, pid ${other:-?}; logs in run/*.log)." >&2
	echo "run-local: stop it with Ctrl-C in its terminal, or: kill ${other:-PID}; nothing was changed." >&2
	exit 1
fi
echo $$ >run/run.pid
if [ ! -f "$conf" ]; then
	cat >"$conf" <<EOF
# Written by make run (test/run-local.sh) for local daemons; kept between
# runs, edit it freely. Every key is described in common/nexus.conf.example.
[common]
state_dir = $top/run/state

[videod]
# the call page, from the source tree (make install puts it elsewhere)
www = $src/videod/www
EOF
	echo "run-local: wrote $conf (state in run/state)"
fi

daemons=""
for d in chatd filed audiod videod; do
	[ -x "$BUILD/$d" ] && daemons="$daemons $d"
done
pids=""
stopping=0
stop_all() { # signal
	stopping=1
	for p in $pids; do kill "-$1" "$p" 2>/dev/null; done
}
trap 'stop_all INT' INT
trap 'stop_all TERM' TERM HUP

# start NAME: in its own session, so a Ctrl-C on the terminal reaches it
# once, through the trap; then wait for its "listening on" line.
start() {
	name=$1
	shift
	log=run/$name.log
	: >"$log"
	setsid "$BUILD/$name" -d -f "$conf" "$@" </dev/null >>"$log" 2>&1 9>&- &
	pid=$!
	eval "pid_$name=$pid"
	pids="$pids $pid"
	i=0
	while ! grep -q "listening on" "$log" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ] || [ $stopping = 1 ]; then
			cat "$log" >&2
			echo "run-local: $name did not start (log: $log); stopping the others" >&2
			stop_all TERM
			wait
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}
extra="$*"
for d in $daemons; do
	# shellcheck disable=SC2086
	set -- $extra
	start "$d" "$@"
done

fpr=$(grep -o 'SHA256:[0-9a-f]*' run/chatd.log | head -n 1)
port_of() { sed -n 's/.*listening on [^0-9]*\([0-9][0-9]*\)\( \|$\).*/\1/p; s/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "run/$1.log" | head -n 1; }
lan=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v -e '^$' -e '^127\.' -e ':' | head -n 1)
nx="$BUILD/nexus"

echo
echo "================================================================"
echo " Shadow Nexus is running; state in run/state, logs in run/*.log"
for d in $daemons; do
	what="127.0.0.1:$(port_of "$d") (TCP)"
	[ "$d" = videod ] && what="https://127.0.0.1:$(port_of "$d")/ (and UDP $(port_of "$d"))"
	printf '   %-7s pid %-7s %s\n' "$d" "$(eval echo \$pid_"$d")" "$what"
done
[ -n "$lan" ] && echo " on the LAN:  $lan (same ports)"
echo " certificate: $fpr"
echo
echo " In another terminal:"
cmd() { printf '   %-46s # %s\n' "$nx $1" "$2"; }
cmd "-s 127.0.0.1 trust" "compare the fingerprint above, answer yes"
cmd "-s 127.0.0.1 register alice" "asks for a password; 127.0.0.1 is the default now"
cmd "create lobby" "the first time; others: join lobby"
cmd "say lobby hello" "post a message"
cmd "" "the full-screen client"
case "$daemons" in *filed*) cmd "push FILE --room lobby" "share a file" ;; esac
case "$daemons" in *audiod*) cmd "talk lobby --in speech.wav" "talk in the voice room" ;; esac
case "$daemons" in *videod*) cmd "call lobby" "a link for a browser video call" ;; esac
echo
printf ' To type nexus instead of %s/nexus:  export PATH="%s:$PATH"\n' "$BUILD" "$(cd "$BUILD" && pwd)"
echo " Ctrl-C here stops them all."
echo "================================================================"
echo

# Keep showing the logs until the daemons exit (tail ignores the terminal's
# Ctrl-C as a background job of a script).
# shellcheck disable=SC2046
tail -q -n 0 -s 0.2 -f $(for d in $daemons; do echo "run/$d.log"; done) 9>&- &
tailpid=$!

rc=0
for p in $pids; do
	# wait returns early (128 + the signal) when a trapped signal arrives:
	# wait again until the daemon is gone, then ask once more for its own
	# status (the shell keeps it). Taking the interrupted wait's 130 as the
	# daemon's status failed a clean Ctrl-C now and then.
	while kill -0 "$p" 2>/dev/null; do wait "$p"; done
	wait "$p"
	r=$?
	[ "$r" -ne 0 ] && [ "$r" -ne 127 ] && rc=$r
done
kill "$tailpid" 2>/dev/null
wait "$tailpid" 2>/dev/null
rm -f run/run.pid
if [ $rc -eq 0 ]; then
	echo "run-local: all stopped"
else
	echo "run-local: a daemon exited with status $rc (see run/*.log)" >&2
fi
exit $rc
