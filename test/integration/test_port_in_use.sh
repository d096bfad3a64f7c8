#!/bin/sh
# "Address in use" says the same thing on all four daemons (one sentence from
# common/portuse.c): the port and protocol, who holds it (name and pid, found
# through /proc), and the flag and config key that choose another port; the
# daemon exits 1 at once and the holder keeps running.
. test/lib/common.sh

AUDIO_PORT=$(nx_free_port)
nx_start_chatd
nx_start_filed
"$BUILD/audiod" -d -s "$T/state" -p "$AUDIO_PORT" -o common.bind=127.0.0.1 >"$T/audiod.log" 2>&1 &
AUDIOD_PID=$!
PIDS="$PIDS $AUDIOD_PID"
wait_for 20 grep -q "listening on" "$T/audiod.log" || { cat "$T/audiod.log"; fail "audiod did not start"; }
nx_start_videod

# second NAME PROTO PORT HOLDER FLAG KEY ARGS...: start NAME again; it must
# exit 1 with the one sentence.
second() {
	s_name=$1 s_proto=$2 s_port=$3 s_holder=$4 s_flag=$5 s_key=$6
	shift 6
	mkdir -p "$T/s-$s_name"
	timeout 20 "$BUILD/$s_name" -d -s "$T/s-$s_name" "$@" >"$T/second.out" 2>&1
	s_rc=$?
	cat "$T/second.out"
	[ $s_rc -eq 1 ] || fail "a second $s_name exited $s_rc (124: still running), not 1"
	want="$s_name: cannot listen on $s_proto port $s_port (address 127.0.0.1): it is in use by $s_holder; stop that, or choose another port with $s_flag PORT or '$s_key = PORT' in [$s_name] of nexus.conf (nexus ports shows who holds the suite's ports)"
	grep -qxF "$want" "$T/second.out" || fail "a second $s_name did not say: $want"
	ok "$s_name: $s_proto $s_port held by $s_holder"
}

say "a second chatd, filed, audiod and videod on the ports of the first"
second chatd TCP "$CHAT_PORT" "chatd (pid $CHATD_PID)" -p port -p "$CHAT_PORT" -o common.bind=127.0.0.1
second filed TCP "$FILE_PORT" "filed (pid $FILED_PID)" -p port -p "$FILE_PORT" -o common.bind=127.0.0.1
second audiod TCP "$AUDIO_PORT" "audiod (pid $AUDIOD_PID)" -p port -p "$AUDIO_PORT" -o common.bind=127.0.0.1
UDP_FREE=$(nx_free_port)
second videod UDP "$VD_PORT" "videod (pid $VIDEOD_PID)" -m media_port -p "$UDP_FREE" -m "$VD_PORT" \
	-o common.bind=127.0.0.1 -o videod.www="$ROOT/videod/www"
second videod TCP "$VD_PORT" "videod (pid $VIDEOD_PID)" -p port -p "$VD_PORT" -m "$UDP_FREE" \
	-o common.bind=127.0.0.1 -o videod.www="$ROOT/videod/www"
for p in $CHATD_PID $FILED_PID $AUDIOD_PID $VIDEOD_PID; do kill -0 "$p" || fail "pid $p died"; done
ok "the first four still run"

say "a port held by another program names that program"
P=$(nx_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); open(sys.argv[2], "w").close(); time.sleep(60)' \
	"$P" "$T/held" &
HOLDER=$!
PIDS="$PIDS $HOLDER"
wait_for 10 test -e "$T/held" || fail "the holder did not start"
second chatd TCP "$P" "python3 (pid $HOLDER)" -p port -p "$P" -o common.bind=127.0.0.1
echo PASS
