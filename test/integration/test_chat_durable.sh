#!/bin/sh
# Durability: what chatd acknowledged survives kill -9 and a clean restart;
# a tailing client reconnects and sees every acknowledged message exactly
# once; history --since/--before/--search.
. test/lib/common.sh
nx_need_bins

# 200 messages at once: lift the per-user message rate for this test.
OPTS="-o chatd.msg_rate=1000 -o chatd.msg_burst=1000"

say "start chatd, register alice and bob, lobby"
nx_start_chatd $OPTS
nx_account alice
nx_account bob
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby

say "200 messages from stdin, then kill -9 right after the last id"
python3 -c '
for i in range(1, 201):
    print("msg %d%s" % (i, " pineapple" if i % 10 == 0 else ""))' >"$T/msgs"
nexus_as alice say lobby <"$T/msgs" >"$T/ids" 2>"$T/say.err"
SAYRC=$?
nx_stop_chatd KILL
[ "$SAYRC" -eq 0 ] || { cat "$T/say.err"; fail "say of 200 lines exited $SAYRC"; }
N=$(grep -Ec '^[0-9]+$' "$T/ids")
[ "$N" -eq 200 ] && [ "$(wc -l <"$T/ids")" -eq 200 ] || { head "$T/ids"; fail "expected 200 ids, got $N"; }
ok "200 ids printed (acknowledged); chatd killed with SIGKILL"

# check_history FILE: the history JSON in FILE is exactly msgs with ids.
check_history() {
	python3 - "$1" "$T/msgs" "$T/ids" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
texts = open(sys.argv[2]).read().splitlines()
ids = [int(x) for x in open(sys.argv[3]).read().split()]
got = [(r["id"], r["text"], r["user"]) for r in rows if r["room"] == "lobby"]
want = [(i, t, "alice") for i, t in zip(ids, texts)]
if got != want:
    print("history has %d messages, expected %d" % (len(got), len(want)))
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    print("missing (first 5):", missing[:5])
    print("unexpected (first 5):", extra[:5])
    if not missing and not extra:
        print("same messages, different order")
    sys.exit(1)
if ids != sorted(ids) or len(set(ids)) != len(ids):
    print("ids are not increasing and distinct")
    sys.exit(1)
print("history: %d messages, ids %d..%d, all as acknowledged" % (len(got), ids[0], ids[-1]))
EOF
}

say "restart after kill -9: history -n 500 holds all 200 in order with the same ids"
nx_start_chatd $OPTS
nx_expect 0 "history lobby -n 500 --json" nexus_as bob history lobby -n 500 --json
cp "$T/out" "$T/h1.json"
check_history "$T/h1.json" || fail "acknowledged messages lost or changed across kill -9"
ok "all 200 acknowledged messages survived kill -9"

say "clean stop (SIGTERM) and restart"
nx_stop_chatd TERM
[ "$CHATD_RC" -eq 0 ] || { tail -n 20 "$T/chatd.log"; fail "chatd exited $CHATD_RC on SIGTERM, expected 0"; }
ok "chatd exited 0 on SIGTERM"
nx_start_chatd $OPTS
nx_expect 0 "history lobby -n 500 --json" nexus_as bob history lobby -n 500 --json
cp "$T/out" "$T/h2.json"
check_history "$T/h2.json" || fail "messages lost across SIGTERM restart"
ok "all 200 messages survived the SIGTERM restart"

say "history --since / --before"
ID10=$(sed -n 10p "$T/ids")
ID150=$(sed -n 150p "$T/ids")
ID101=$(sed -n 101p "$T/ids")
nx_expect 0 "history --since $ID150 -n 500" nexus_as bob history lobby --since "$ID150" -n 500 --json
jsonl "$T/out" get "True" id >"$T/since.ids"
sed -n '151,200p' "$T/ids" >"$T/want.ids"
cmp -s "$T/since.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/since.ids" | head; fail "--since $ID150 is not exactly messages 151..200"; }
ok "--since $ID150 returns exactly the 50 later messages, oldest first"
nx_expect 0 "history --since $ID10 -n 500" nexus_as bob history lobby --since "$ID10" -n 500 --json
jsonl "$T/out" get "True" id >"$T/since.ids"
sed -n '11,200p' "$T/ids" >"$T/want.ids"
cmp -s "$T/since.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/since.ids" | head; fail "--since $ID10 is not exactly messages 11..200"; }
ok "--since $ID10 returns exactly 190 messages"
nx_expect 0 "history --before $ID101 -n 10" nexus_as bob history lobby --before "$ID101" -n 10 --json
jsonl "$T/out" get "True" id >"$T/before.ids"
sed -n '91,100p' "$T/ids" >"$T/want.ids"
cmp -s "$T/before.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/before.ids" | head; fail "--before $ID101 -n 10 is not messages 91..100"; }
ok "--before $ID101 -n 10 returns messages 91..100, oldest first"

say "history --search (full text)"
nx_expect 0 "history --search pineapple" nexus_as bob history lobby --search pineapple -n 500 --json
jsonl "$T/out" get "True" id >"$T/search.ids"
awk 'NR % 10 == 0' "$T/ids" >"$T/want.ids"
cmp -s "$T/search.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/search.ids" | head; fail "--search pineapple is not exactly the 20 messages with that word"; }
ok "--search pineapple finds exactly the 20 messages with the word"
nx_expect 0 "history --search kumquat" nexus_as bob history lobby --search kumquat --json
[ -s "$T/out" ] && { nx_show; fail "--search for an absent word returned messages"; }
ok "--search for an absent word returns nothing"

say "tail --since"
ID190=$(sed -n 190p "$T/ids")
nx_tail_to since bob lobby --since "$ID190" --json
SINCEPID=$TAIL_PID
nx_wait_json 15 "$T/since.out" "j['text'] == 'msg 200 pineapple'" "tail --since $ID190 caught up"
sleep 0.5
jsonl "$T/since.out" get "True" id >"$T/tailsince.ids"
sed -n '191,200p' "$T/ids" >"$T/want.ids"
cmp -s "$T/tailsince.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/tailsince.ids" | head; fail "tail --since $ID190 did not print exactly messages 191..200"; }
ok "tail --since $ID190 printed exactly the 10 later messages"
nx_kill "$SINCEPID"
nx_tail_to last5 bob lobby -n 5 --json
LASTPID=$TAIL_PID
nx_wait_json 15 "$T/last5.out" "j['text'] == 'msg 200 pineapple'" "tail -n 5 caught up"
sleep 0.5
jsonl "$T/last5.out" get "True" id >"$T/tail5.ids"
sed -n '196,200p' "$T/ids" >"$T/want.ids"
cmp -s "$T/tail5.ids" "$T/want.ids" || { diff "$T/want.ids" "$T/tail5.ids" | head; fail "tail -n 5 did not print exactly the last 5 messages"; }
ok "tail -n 5 printed exactly the last 5 messages"
nx_kill "$LASTPID"

say "registration, room creation, edit and delete are durable once acknowledged"
ID5=$(sed -n 5p "$T/ids")
ID6=$(sed -n 6p "$T/ids")
nx_expect 0 "alice: edit $ID5" nexus_as alice edit "$ID5" "msg 5 edited"
nx_expect 0 "alice: delete $ID6" nexus_as alice delete "$ID6"
nx_expect 0 "alice: create fresh" nexus_as alice create fresh --topic "new room"
nx_account late
nx_stop_chatd KILL
ok "chatd killed with SIGKILL right after"
nx_start_chatd $OPTS
nx_expect 0 "history lobby --json" nexus_as bob history lobby -n 500 --json
jsonl "$T/out" count "j['id'] == $ID5 and j['text'] == 'msg 5 edited' and j['edited']" >/dev/null ||
	{ jsonl "$T/out" show "j['id'] == $ID5"; fail "the acknowledged edit of $ID5 was lost"; }
jsonl "$T/out" count "j['id'] == $ID6 and j['deleted']" >/dev/null ||
	{ jsonl "$T/out" show "j['id'] == $ID6"; fail "the acknowledged delete of $ID6 was lost"; }
ok "edit and delete survived kill -9"
nx_expect 0 "bob: join fresh (created just before kill -9)" nexus_as bob join fresh
nx_expect 0 "late (registered just before kill -9): login" nexus_as late login

say "reconnect: bob tails 'live'; chatd is killed -9 and restarted while alice keeps saying"
nx_expect 0 "alice: create live" nexus_as alice create live
nx_expect 0 "bob: join live" nexus_as bob join live
nx_say_id alice say live "warm-up"
: >"$T/acked"
echo "$ID" >>"$T/acked"
nx_tail_to livetail bob live --json
nx_wait_json 15 "$T/livetail.out" "j['text'] == 'warm-up'" "bob's tail is connected"

# say_retry TEXT: say in live, retrying on exit 3 (network) until it works.
say_retry() {
	r_n=0
	while :; do
		nx_run nexus_as alice say live "$1"
		[ "$RC" -eq 0 ] && break
		if [ "$RC" -ne 3 ]; then
			nx_show
			fail "say '$1' exited $RC (only 3 is retried)"
		fi
		RETRIES=$((RETRIES + 1))
		r_n=$((r_n + 1))
		[ $r_n -gt 150 ] && fail "say '$1' still failing after $r_n tries"
		sleep 0.1
	done
	grep -Eq '^[0-9]+$' "$T/out" || { nx_show; fail "say '$1' printed no id"; }
	cat "$T/out" >>"$T/acked"
}
RETRIES=0
i=1
while [ $i -le 50 ]; do
	if [ $i -eq 21 ]; then
		nx_stop_chatd KILL
		ok "chatd killed -9 before message 21"
		nx_run nexus_as alice say live "while down"
		[ "$RC" -eq 3 ] || { nx_show; fail "say with chatd down exited $RC, expected 3"; }
		nx_err_has "connection refused" "client says connection refused"
		# Restart in the background, so that alice's retries and bob's
		# reconnect race with the start-up.
		(sleep 1.5 && nx_start_chatd $OPTS && echo "$CHATD_PID" >"$T/newpid") >"$T/restart.log" 2>&1 &
		RESTARTER=$!
	fi
	say_retry "live $i"
	i=$((i + 1))
done
wait "$RESTARTER"
[ -s "$T/newpid" ] || { cat "$T/restart.log"; fail "chatd restart failed"; }
CHATD_PID=$(cat "$T/newpid")
PIDS="$PIDS $CHATD_PID"
ok "50 numbered messages acknowledged ($RETRIES retries on exit 3)"

have_all() {
	python3 - "$T/livetail.out" "$T/acked" <<'EOF'
import json, sys
seen = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip().endswith("}")]
acked = [int(x) for x in open(sys.argv[2]).read().split()]
sys.exit(0 if set(acked) <= set(seen) else 1)
EOF
}
if ! wait_for 30 have_all; then
	tail -n 20 "$T/livetail.out" "$T/livetail.err"
	fail "bob's tail did not show every acknowledged message within 30 s of the restart"
fi
python3 - "$T/livetail.out" "$T/acked" <<'EOF' || { cat "$T/livetail.err"; fail "bob's tail is wrong after the reconnect"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = [r["id"] for r in rows if r["room"] == "live"]
acked = [int(x) for x in open(sys.argv[2]).read().split()]
dups = sorted({i for i in ids if ids.count(i) > 1})
if dups:
    print("duplicated in bob's tail:", dups)
    sys.exit(1)
if ids != sorted(ids):
    print("not in id order:", ids)
    sys.exit(1)
extra = sorted(set(ids) - set(acked))
if extra:
    print("messages bob saw that alice never got an id for:", extra)
    print("(the server stored messages from a say that failed?)")
    sys.exit(1)
texts = [r["text"] for r in rows if r["room"] == "live"]
want = ["warm-up"] + ["live %d" % i for i in range(1, 51)]
if texts != want:
    print("texts differ:", texts)
    sys.exit(1)
print("bob's tail: %d messages, each once, in id order" % len(ids))
EOF
ok "bob's tail holds every acknowledged message exactly once, in id order"
grep -q "reconnecting" "$T/livetail.err" || { cat "$T/livetail.err"; fail "tail's stderr does not say 'reconnecting'"; }
ok "tail stderr: $(grep reconnecting "$T/livetail.err" | head -n 1)"

say "all durability checks passed"
