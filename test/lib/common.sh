# Shared helpers for integration scripts (sourced). Each script starts its
# own daemons on free ports in a private temporary folder, and stops exactly
# the processes it started, by PID.
set -u
BUILD=${BUILD:-build}
ROOT=$(pwd)
T=$(mktemp -d /tmp/nexus-test.XXXXXX)
PIDS=""

nx_cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	c_rc=0
	# Sanitizer builds (make SAN=1): a report in a daemon's log fails the test.
	if grep -Eq "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
		grep -E -A30 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log | head -n 80
		echo "FAIL: sanitizer report in a daemon log"
		c_rc=1
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
	[ $c_rc -eq 0 ] || exit $c_rc
}
trap nx_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

# A TCP port nobody listens on right now.
nx_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	w_limit=$1
	shift
	w_end=$(($(date +%s) + w_limit))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$w_end" ] && return 1
		sleep 0.1
	done
	return 0
}

# nx_start_chatd [extra chatd args]: start chatd on $CHAT_PORT with state in
# $T/state, wait until it listens (a new "listening on" line in $T/chatd.log,
# so restarts work too). Sets CHATD_PID.
CHAT_PORT=${CHAT_PORT:-$(nx_free_port)}
nx_start_chatd() {
	mkdir -p "$T/state"
	touch "$T/chatd.log"
	s_seen=$(grep -c "listening on" "$T/chatd.log")
	"$BUILD/chatd" -d -s "$T/state" -p "$CHAT_PORT" -o common.bind=127.0.0.1 "$@" \
		>>"$T/chatd.log" 2>&1 &
	CHATD_PID=$!
	PIDS="$PIDS $CHATD_PID"
	s_end=$(($(date +%s) + 20))
	while [ "$(grep -c "listening on" "$T/chatd.log")" -le "$s_seen" ]; do
		if ! kill -0 "$CHATD_PID" 2>/dev/null || [ "$(date +%s)" -ge "$s_end" ]; then
			tail -n 30 "$T/chatd.log"
			fail "chatd did not start (chatd $*)"
		fi
		sleep 0.1
	done
}

nx_stop_chatd() { # [signal]
	kill "-${1:-TERM}" "$CHATD_PID" 2>/dev/null
	wait "$CHATD_PID" 2>/dev/null
	CHATD_RC=$?
	nx_forget_pid "$CHATD_PID"
}

# nx_forget_pid PID: the process is gone; do not signal its number at exit.
nx_forget_pid() {
	f_keep=""
	for f_p in $PIDS; do [ "$f_p" = "$1" ] || f_keep="$f_keep $f_p"; done
	PIDS=$f_keep
}

# nx_kill PID: stop a helper process this script started (TERM, then KILL).
nx_kill() {
	kill "$1" 2>/dev/null
	k_i=0
	while kill -0 "$1" 2>/dev/null && [ $k_i -lt 50 ]; do sleep 0.1; k_i=$((k_i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	nx_forget_pid "$1"
}

# nx_rss_kb PID: resident set size of PID in kB (0 if gone).
nx_rss_kb() {
	awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# nexus_as USER ARGS...: run the real client as USER (own config folder).
# The password is $NEXUS_PASSWORD or pw-USER-secret; with NX_NO_PASSWORD=1
# no password is given at all (the client must rely on its cached token).
# With NX_EXEC=1 the client replaces the shell (for `NX_EXEC=1 nexus_as .. &`,
# so that $! is the client's own PID and killing it stops the client).
nexus_as() {
	n_user=$1
	shift
	mkdir -p "$T/cfg/$n_user"
	set -- NEXUS_CONFIG_DIR="$T/cfg/$n_user" NEXUS_SERVER=127.0.0.1 \
		NEXUS_CHAT_PORT="$CHAT_PORT" NEXUS_USER="$n_user" "$BUILD/nexus" "$@"
	if [ "${NX_NO_PASSWORD:-0}" = 1 ]; then
		set -- -u NEXUS_PASSWORD "$@"
	else
		set -- NEXUS_PASSWORD="${NEXUS_PASSWORD:-pw-$n_user-secret}" "$@"
	fi
	[ "${NX_EXEC:-0}" = 1 ] && exec env "$@"
	if [ "${NX_NO_PASSWORD:-0}" = 1 ] && [ -t 0 ]; then
		env "$@" </dev/null # never prompt on the terminal of whoever runs the tests
	else
		env "$@"
	fi
}

# nx_account USER: trust the server and register USER (password pw-USER-secret).
nx_account() {
	nexus_as "$1" trust --yes >/dev/null || fail "trust as $1"
	nexus_as "$1" register >/dev/null || fail "register $1"
}

# nx_tail_start USER ROOM [args]: follow a room into $T/tail-USER-ROOM.out.
nx_tail_start() {
	t_user=$1 t_room=$2
	shift 2
	NX_EXEC=1 nexus_as "$t_user" tail "$t_room" "$@" >"$T/tail-$t_user-$t_room.out" \
		2>"$T/tail-$t_user-$t_room.err" &
	TAIL_PID=$!
	PIDS="$PIDS $TAIL_PID"
}

# nx_tail_to NAME USER ROOM [args]: like nx_tail_start, into $T/NAME.out and
# $T/NAME.err (several tails of one user and room).
nx_tail_to() {
	t_name=$1 t_user=$2 t_room=$3
	shift 3
	NX_EXEC=1 nexus_as "$t_user" tail "$t_room" "$@" >"$T/$t_name.out" 2>"$T/$t_name.err" &
	TAIL_PID=$!
	PIDS="$PIDS $TAIL_PID"
}

# nx_run CMD...: run CMD; stdout in $T/out, stderr in $T/err, status in RC.
nx_run() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# nx_show: print the output of the last nx_run (for FAIL messages).
nx_show() {
	echo "--- stdout:"
	cat "$T/out"
	echo "--- stderr:"
	cat "$T/err"
	echo "---"
}

# nx_expect RCS DESC CMD...: run CMD, fail unless its exit status is one of
# the space-separated RCS ("0", "5 6"; "nonzero" is any failure).
nx_expect() {
	e_rcs=$1 e_desc=$2
	shift 2
	nx_run "$@"
	for e_rc in $e_rcs; do
		if [ "$e_rc" = nonzero ] && [ "$RC" -ne 0 ] || [ "$RC" = "$e_rc" ]; then
			ok "$e_desc (exit $RC)"
			return 0
		fi
	done
	nx_show
	fail "$e_desc: \`$*\` exited $RC, expected $e_rcs"
}

# nx_err_has REGEX DESC: the last command's stderr (or stdout) matches REGEX
# (extended, case-insensitive).
nx_err_has() {
	if grep -Eqi -- "$1" "$T/err" || grep -Eqi -- "$1" "$T/out"; then
		ok "$2: $(head -c 300 "$T/err" | tr '\n' ' ')"
		return 0
	fi
	nx_show
	fail "$2: output does not match /$1/"
}

# jsonl FILE OP [EXPR [KEY]]: see test/lib/jsonl.py.
jsonl() { python3 "$ROOT/test/lib/jsonl.py" "$@"; }

# rawclient SCENARIO ARGS...: see test/lib/rawclient.py. NX_EXEC=1 as for
# nexus_as.
rawclient() {
	[ "${NX_EXEC:-0}" = 1 ] && exec python3 "$ROOT/test/lib/rawclient.py" "$CHAT_PORT" "$@"
	python3 "$ROOT/test/lib/rawclient.py" "$CHAT_PORT" "$@"
}

# nx_need_bins: fail when the binaries are not built (make builds them all).
nx_need_bins() {
	for b in chatd nexus; do
		[ -x "$BUILD/$b" ] || { echo "FAIL: $BUILD/$b not built"; exit 1; }
	done
}

# nx_wait_grep SECS FILE REGEX DESC: poll until FILE has a line matching
# REGEX (extended); fail showing the file otherwise.
nx_wait_grep() {
	if wait_for "$1" grep -Eq -- "$3" "$2"; then
		ok "$4"
		return 0
	fi
	echo "--- $2:"
	tail -n 40 "$2"
	[ -f "${2%.out}.err" ] && { echo "--- ${2%.out}.err:"; tail -n 20 "${2%.out}.err"; }
	fail "$4: no line matching /$3/ in $2 after $1 s"
}

# nx_say_id USER say ROOM ARGS...: run nexus, check that one message id is printed, and
# put it in ID.
nx_say_id() {
	nx_run nexus_as "$@"
	ID=$(cat "$T/out")
	if [ "$RC" -ne 0 ] || ! printf '%s\n' "$ID" | grep -Eq '^[0-9]+$'; then
		nx_show
		fail "nexus say ($*): expected exit 0 and a message id, got exit $RC"
	fi
}

# nx_wait_json SECS FILE EXPR DESC: poll until a JSON line of FILE satisfies
# EXPR (see jsonl.py); fail showing the file otherwise.
nx_wait_json() {
	if wait_for "$1" python3 "$ROOT/test/lib/jsonl.py" "$2" count "$3"; then
		ok "$4"
		return 0
	fi
	echo "--- $2:"
	tail -n 40 "$2"
	[ -f "${2%.out}.err" ] && { echo "--- ${2%.out}.err:"; tail -n 20 "${2%.out}.err"; }
	fail "$4: no JSON line with $3 in $2 after $1 s"
}

# nx_sanitized: true when $BUILD/chatd is an ASan build (make SAN=1), whose
# memory use says nothing about chatd's own.
nx_sanitized() { grep -q __asan_init "$BUILD/chatd" 2>/dev/null; }

# nx_start_filed [extra filed args]: start filed on $FILE_PORT sharing
# $T/state with chatd (certificate, token key), wait until it listens.
# Sets FILED_PID; nexus_as finds it through NEXUS_FILE_PORT.
FILE_PORT=${FILE_PORT:-$(nx_free_port)}
export NEXUS_FILE_PORT=$FILE_PORT
nx_start_filed() {
	mkdir -p "$T/state"
	touch "$T/filed.log"
	f_seen=$(grep -c "listening on" "$T/filed.log")
	"$BUILD/filed" -d -s "$T/state" -p "$FILE_PORT" -o common.bind=127.0.0.1 "$@" \
		>>"$T/filed.log" 2>&1 &
	FILED_PID=$!
	PIDS="$PIDS $FILED_PID"
	f_end=$(($(date +%s) + 20))
	while [ "$(grep -c "listening on" "$T/filed.log")" -le "$f_seen" ]; do
		if ! kill -0 "$FILED_PID" 2>/dev/null || [ "$(date +%s)" -ge "$f_end" ]; then
			tail -n 30 "$T/filed.log"
			fail "filed did not start (filed $*)"
		fi
		sleep 0.1
	done
}

# nx_start_videod [extra videod args]: start videod (HTTPS and media on
# one free port, the call page from the tree) sharing $T/state with chatd,
# wait until it listens. Sets VD_PORT, VIDEOD_PID and NEXUS_VIDEO_PORT.
nx_start_videod() {
	VD_PORT=$(nx_free_port)
	touch "$T/videod.log"
	"$BUILD/videod" -d -s "$T/state" -p "$VD_PORT" -m "$VD_PORT" -o common.bind=127.0.0.1 \
		-o videod.www="$ROOT/videod/www" -o videod.chat_host=127.0.0.1 \
		-o videod.chat_port="$CHAT_PORT" -o videod.announce=127.0.0.1 "$@" \
		>>"$T/videod.log" 2>&1 &
	VIDEOD_PID=$!
	PIDS="$PIDS $VIDEOD_PID"
	wait_for 20 grep -q "listening on" "$T/videod.log" ||
		{ cat "$T/videod.log"; fail "videod did not start"; }
	export NEXUS_VIDEO_PORT="$VD_PORT"
}

nx_stop_filed() { # [signal]
	kill "-${1:-TERM}" "$FILED_PID" 2>/dev/null
	wait "$FILED_PID" 2>/dev/null
	FILED_RC=$?
	nx_forget_pid "$FILED_PID"
}

# nx_sha FILE: its SHA-256 in hex.
nx_sha() { sha256sum "$1" | cut -d' ' -f1; }

# nx_json_get FILE KEY: KEY of the last JSON line of FILE.
nx_json_get() {
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"
}
