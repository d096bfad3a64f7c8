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
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
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
# $T/state, wait until it listens. Sets CHATD_PID.
CHAT_PORT=${CHAT_PORT:-$(nx_free_port)}
nx_start_chatd() {
	mkdir -p "$T/state"
	"$BUILD/chatd" -d -s "$T/state" -p "$CHAT_PORT" -o common.bind=127.0.0.1 "$@" \
		>>"$T/chatd.log" 2>&1 &
	CHATD_PID=$!
	PIDS="$PIDS $CHATD_PID"
	if ! wait_for 20 grep -q "listening on" "$T/chatd.log"; then
		cat "$T/chatd.log"
		fail "chatd did not start"
	fi
}

nx_stop_chatd() { # [signal]
	kill "-${1:-TERM}" "$CHATD_PID" 2>/dev/null
	wait "$CHATD_PID" 2>/dev/null
	CHATD_RC=$?
}

# nexus_as USER ARGS...: run the real client as USER (own config folder).
nexus_as() {
	n_user=$1
	shift
	mkdir -p "$T/cfg/$n_user"
	NEXUS_CONFIG_DIR="$T/cfg/$n_user" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CHAT_PORT" \
		NEXUS_USER="$n_user" NEXUS_PASSWORD="${NEXUS_PASSWORD:-pw-$n_user-secret}" \
		"$BUILD/nexus" "$@"
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
	nexus_as "$t_user" tail "$t_room" "$@" >"$T/tail-$t_user-$t_room.out" 2>"$T/tail-$t_user-$t_room.err" &
	TAIL_PID=$!
	PIDS="$PIDS $TAIL_PID"
}
