#!/bin/sh
# Hostile and broken peers at the protocol level (test/lib/rawclient.py):
# non-TLS garbage, unknown frame types, huge length prefixes, invalid UTF-8,
# requests without login, and a reader that stops reading during a 10,000
# message flood. chatd must answer with ERROR and close, stay bounded in
# memory, drop the slow reader, serve everyone else, and never restart.
. test/lib/common.sh
nx_need_bins

# The flood is 10,000 messages from one user: lift the message rate. A
# smaller output queue (512 KiB) makes the slow reader overflow it sooner.
nx_start_chatd -o chatd.msg_rate=1000000 -o chatd.msg_burst=1000000 -o chatd.max_outq=524288
PID0=$CHATD_PID
nx_account alice
nx_account bob
nx_account lagger
nx_account hasty
nx_account patient
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
nx_expect 0 "lagger: join lobby" nexus_as lagger join lobby
ok "chatd PID $PID0, RSS $(nx_rss_kb "$PID0") kB"

alive() { kill -0 "$PID0" 2>/dev/null || { tail -n 30 "$T/chatd.log"; fail "chatd (PID $PID0) died after: $1"; }; }

# raw SCENARIO ARGS...: run a rawclient scenario that must succeed.
raw() {
	nx_run rawclient "$@"
	cat "$T/out"
	[ "$RC" -eq 0 ] || { cat "$T/err"; fail "rawclient $*: exit $RC"; }
	alive "rawclient $*"
}

say "idle peers (plain TCP and TLS without HELLO) must be dropped by the handshake timeout"
NX_EXEC=1 rawclient idle plain 40 >"$T/idle-plain.out" 2>&1 &
IDLE1=$!
NX_EXEC=1 rawclient idle tls 40 >"$T/idle-tls.out" 2>&1 &
IDLE2=$!
PIDS="$PIDS $IDLE1 $IDLE2"

say "non-TLS garbage"
raw plain-garbage
say "TLS, then a frame of an unknown type (before and after HELLO)"
raw bad-type
raw bad-type --before-hello
say "TLS, then a HELLO with a truncated string"
raw bad-payload
say "length prefix 0x7fffffff"
raw oversize 0x7fffffff
RSS=$(nx_rss_kb "$PID0")
if nx_sanitized; then
	ok "chatd RSS $RSS kB (ASan build: the 100 MB limit is not checked)"
else
	[ "$RSS" -lt 102400 ] || fail "chatd RSS ${RSS} kB after a 2 GiB length prefix (limit 100 MB)"
	ok "chatd RSS $RSS kB < 100 MB"
fi
say "length prefix just over max_frame (65537)"
raw oversize 65537
say "invalid UTF-8 in strings"
raw bad-utf8
say "HELLO with a wrong version or service"
raw hello 99 chat
raw hello 1 file
say "requests without logging in"
raw unauth
say "logins that vanish before their password is checked, and a LOGIN during a LOGIN"
raw login-vanish hasty pw-hasty-secret 5
say "a burst of password checks does not hold up a logged-in client"
raw login-burst patient pw-patient-secret 8
say "20 garbage connections at once"
raw plain-garbage-many 20
nx_say_id alice say lobby "still here after the garbage"
ok "chatd serves normally after the garbage"

say "slow reader: lagger joins lobby and stops reading; alice floods 10,000 messages"
NX_EXEC=1 rawclient slow lagger pw-lagger-secret lobby "$T/trigger" 4096 >"$T/slow.out" 2>&1 &
SLOWPID=$!
PIDS="$PIDS $SLOWPID"
nx_wait_grep 15 "$T/slow.out" "no longer reading" "slow reader joined lobby"
nx_tail_to bobflood bob lobby --json
nx_wait_json 15 "$T/bobflood.out" "j['text'] == 'still here after the garbage'" "bob's tail is connected"
(while kill -0 "$PID0" 2>/dev/null; do nx_rss_kb "$PID0"; sleep 0.2; done) >"$T/rss.log" 2>/dev/null &
SAMPLER=$!
PIDS="$PIDS $SAMPLER"
python3 -c '
pad = "x" * 300
for i in range(1, 10001):
    print("flood %d %s" % (i, pad))' >"$T/flood"
START=$(date +%s)
nexus_as alice say lobby <"$T/flood" >"$T/flood.ids" 2>"$T/flood.err"
SAYRC=$?
SECS=$(($(date +%s) - START))
[ "$SAYRC" -eq 0 ] || { tail -n 5 "$T/flood.err"; fail "alice's say of 10,000 lines exited $SAYRC after ${SECS}s"; }
N=$(grep -Ec '^[0-9]+$' "$T/flood.ids")
[ "$N" -eq 10000 ] || fail "alice's say printed $N ids, expected 10000"
ok "alice's say of 10,000 messages finished in ${SECS}s with 10,000 ids"
alive "the flood"
# The lagger's queue overflowed during the flood; chatd keeps the connection
# while the lagger takes bytes, so that the ERROR at the end reaches it.
touch "$T/trigger"

flood_count() { [ "$(grep -c '"flood ' "$T/bobflood.out")" -ge 10000 ]; }
if ! wait_for 60 flood_count; then
	tail -n 5 "$T/bobflood.err"
	fail "bob's tail has $(grep -c '"flood ' "$T/bobflood.out") of 10,000 flood messages"
fi
python3 - "$T/bobflood.out" "$T/flood.ids" <<'EOF' || { tail -n 5 "$T/bobflood.err"; fail "bob's tail did not get the flood intact"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = [(r["id"], r["text"].split()[1]) for r in rows if r["text"].startswith("flood ")]
ids = [int(x) for x in open(sys.argv[2]).read().split()]
want = [(i, str(n)) for i, n in zip(ids, range(1, 10001))]
if got != want:
    print("bob got %d flood lines; first difference:" % len(got))
    for k, (a, b) in enumerate(zip(got, want)):
        if a != b:
            print(" at %d: got %s want %s" % (k, a, b))
            break
    sys.exit(1)
print("bob's tail: all 10,000 in order with alice's ids")
EOF
ok "bob's concurrent tail received all 10,000, in order"
grep -q "reconnecting" "$T/bobflood.err" && { cat "$T/bobflood.err"; fail "bob's tail lost its connection during the flood"; }
ok "bob's tail never lost its connection"

# (The user name avoids the word "slow": the log names users.)
if ! wait_for 15 grep -Eqi "slow|output queue|outq" "$T/chatd.log"; then
	tail -n 30 "$T/chatd.log"
	fail "chatd's log does not mention dropping the slow reader"
fi
ok "chatd log: $(grep -Ei "slow|output queue|outq" "$T/chatd.log" | head -n 1)"
[ "$(grep -Eci "slow|output queue|outq" "$T/chatd.log")" -eq 1 ] ||
	{ grep -Ei "slow|output queue|outq" "$T/chatd.log"; fail "more than the one slow reader was dropped"; }
if ! wait_for 40 grep -q "connection end" "$T/slow.out"; then
	cat "$T/slow.out"
	fail "slow reader still running"
fi
cat "$T/slow.out"
grep -q "FAIL" "$T/slow.out" && fail "the slow reader was not dropped with ERR_SLOW_READER"
nx_forget_pid "$SLOWPID"
ok "the slow reader got ERROR ERR_SLOW_READER after its queue, then the end of the stream"

nx_kill "$SAMPLER"
MAXRSS=$(sort -n "$T/rss.log" | tail -n 1)
ok "chatd RSS during the flood: max ${MAXRSS} kB over $(wc -l <"$T/rss.log") samples"
if nx_sanitized; then
	ok "ASan build: the 150 MB limit is not checked"
else
	[ "${MAXRSS:-0}" -lt 153600 ] || fail "chatd RSS reached ${MAXRSS} kB (limit 150 MB)"
fi

say "a nexus tail that stops reading is told why it was dropped, reconnects and loses nothing"
nx_account reader
nx_expect 0 "reader: join lobby" nexus_as reader join lobby
nx_say_id alice say lobby "before the stall"
nx_tail_to stalled reader lobby --json -n 1
READER=$TAIL_PID
nx_wait_json 15 "$T/stalled.out" "j['text'] == 'before the stall'" "reader's tail is connected"
# 3,000 messages of 3 KB: past the 512 KiB queue and what the kernel holds
# for a reader that never read much (its receive buffer stays small).
python3 -c '
pad = "y" * 3000
for i in range(1, 3001):
    print("big %d %s" % (i, pad))' >"$T/big"
kill -STOP "$READER"
nexus_as alice say lobby <"$T/big" >"$T/big.ids" 2>"$T/big.err"
SAYRC=$?
kill -CONT "$READER"
[ "$SAYRC" -eq 0 ] || { tail -n 5 "$T/big.err"; fail "alice's say of 3,000 big lines exited $SAYRC"; }
big_count() { [ "$(grep -c '"big ' "$T/stalled.out")" -ge 3000 ]; }
wait_for 60 big_count || { tail -n 5 "$T/stalled.err"; fail "the reader's tail has $(grep -c '"big ' "$T/stalled.out") of 3,000"; }
python3 - "$T/stalled.out" "$T/big.ids" <<'EOF2' || fail "the reader's tail did not get the 3,000 intact"
import json, sys
got = [json.loads(l)["id"] for l in open(sys.argv[1]) if '"big ' in l]
want = [int(x) for x in open(sys.argv[2]).read().split()]
if got != want:
    print("got %d ids, want %d; first difference at %s" % (len(got), len(want),
          next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))))
    sys.exit(1)
EOF2
grep -q "connection lost (output queue full: you read too slowly), reconnecting" "$T/stalled.err" ||
	{ cat "$T/stalled.err"; fail "the reader's tail does not say why it lost the connection"; }
ok "the tail said: $(grep "connection lost" "$T/stalled.err" | head -n 1); then all 3,000 in order, once"
nx_kill "$READER"

say "the idle peers were dropped"
for p in $IDLE1 $IDLE2; do
	wait "$p"
	rc=$?
	nx_forget_pid "$p"
	[ $rc -eq 0 ] || { cat "$T/idle-plain.out" "$T/idle-tls.out"; fail "an idle connection was not closed by chatd"; }
done
cat "$T/idle-plain.out" "$T/idle-tls.out"

say "after all that, chatd is the same process and works"
alive "everything"
[ "$CHATD_PID" = "$PID0" ] || fail "chatd PID changed"
[ "$(grep -c "listening on" "$T/chatd.log")" -eq 1 ] || fail "chatd started more than once"
nx_say_id alice say lobby "the end"
END=$ID
nx_expect 0 "history -n 1" nexus_as bob history lobby -n 1 --json
jsonl "$T/out" count "j['id'] == $END and j['text'] == 'the end'" >/dev/null || { nx_show; fail "history lacks the last message"; }
ok "say and history work; chatd PID $PID0 still serving (RSS $(nx_rss_kb "$PID0") kB)"
say "all abuse checks passed"
