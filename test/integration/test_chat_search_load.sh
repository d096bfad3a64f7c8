#!/bin/sh
# One user's search must not freeze chatd for everyone (issue 13, item 2).
# A room of 2,000 messages; alice sends a 1.2 KB `a* OR "..."` query (over
# the caps: refused with ERR_TOO_LARGE) and two 16-word queries within the
# caps (still answered, exactly), while bob's PINGs are timed: each within
# 50 ms (test/lib/searchload.py prints the max, FIGURE lines). Then a burst
# of HISTORY past history_rate/history_burst gets ERR_RATE_LIMITED, and the
# real client shows the cap's error and still searches.
. test/lib/common.sh
nx_need_bins

# The fill is 2,000 SAYs from one user: lift the message rate only.
nx_start_chatd -o chatd.msg_rate=1000000 -o chatd.msg_burst=1000000
PID0=$CHATD_PID
nx_account alice
nx_account bob
nx_expect 0 "alice: create big" nexus_as alice create big

say "fill big with 2,000 messages, then search while bob PINGs"
python3 "$ROOT/test/lib/searchload.py" "$CHAT_PORT" alice pw-alice-secret bob pw-bob-secret \
	big 2000 >"$T/load.out" 2>&1
RC=$?
cat "$T/load.out"
kill -0 "$PID0" 2>/dev/null || { tail -n 30 "$T/chatd.log"; fail "chatd died"; }
[ "$RC" -eq 0 ] || fail "searchload: exit $RC"
ok "no search stalled bob's PINGs; caps and rate limit answered as documented"

say "the real client: a search over the caps, then one within them"
sleep 4 # the burst above emptied alice's history bucket
LONG=$(python3 -c 'print(" ".join("w%d" % i for i in range(17)))')
nx_expect nonzero "history --search of 17 words" nexus_as alice history big --search "$LONG"
nx_err_has "more than 16 words" "nexus shows the cap"
nx_expect 0 "history --search 'w3 m10'" nexus_as alice history big --search "w3 m10" --json
[ "$(jsonl "$T/out" count "j['text'].endswith(' m10 w3 a')")" = 1 ] ||
	{ nx_show; fail "--search 'w3 m10' is not exactly message m10"; }
ok "--search 'w3 m10' finds exactly that message"

say "a read answered after its reader left the private room sends no rows"
# HISTORY and LEAVE in one write: the loop handles the LEAVE before the
# reader thread's answer comes back, so the answer must check again.
nx_expect 0 "alice: create a private room" nexus_as alice create hideout --private
nx_say_id alice say hideout "private words"
rawclient history-leave alice pw-alice-secret hideout >"$T/hl.out" 2>&1 ||
	{ cat "$T/hl.out"; fail "HISTORY answered after the LEAVE sent the private rows"; }
grep -q '"code": 10' "$T/hl.out" || { cat "$T/hl.out"; fail "HISTORY after the LEAVE: not ERR_FORBIDDEN"; }
ok "HISTORY after the LEAVE: ERR_FORBIDDEN, no rows"
