#!/bin/sh
# Chat basics through the real client: say/tail (text and JSON), DMs and
# their privacy, replies, edit/delete by the author only, mentions, say from
# stdin, UTF-8, and the max_text limit.
. test/lib/common.sh
nx_need_bins

say "start chatd (max_text=100) and register alice, bob, carol"
nx_start_chatd -o chatd.max_text=100
for u in alice bob carol; do nx_account "$u"; done

say "alice creates lobby; alice and bob join"
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby

say "bob tails lobby (text and --json), alice says hello"
nx_tail_to bobtxt bob lobby
nx_tail_to bobjson bob lobby --json
nx_say_id alice say lobby "hello bob"
HELLO=$ID
ok "say printed message id $HELLO"
nx_wait_grep 15 "$T/bobtxt.out" "^\[$HELLO\] [0-9]{2}:[0-9]{2}:[0-9]{2} <alice> hello bob\$" \
	"bob's tail shows [$HELLO] HH:MM:SS <alice> hello bob"
nx_wait_json 15 "$T/bobjson.out" "j['text'] == 'hello bob'" "bob's --json tail got the message"
jsonl "$T/bobjson.out" valid >/dev/null || fail "tail --json printed a line that is not JSON"
jsonl "$T/bobjson.out" count "j['id'] == $HELLO and j['room'] == 'lobby' and j['user'] == 'alice' \
	and j['text'] == 'hello bob' and isinstance(j['ts'], int) and j['ts'] > 1600000000000 \
	and not j['reply_to'] and j['edited'] is False and j['deleted'] is False \
	and j['mention'] is False" >/dev/null ||
	{ cat "$T/bobjson.out"; fail "JSON line for $HELLO lacks id/ts/room/user/text/reply_to/edited/deleted/mention"; }
ok "JSON line has id, ts (ms), room, user, text, reply_to, edited, deleted, mention"

say "reply: alice says --reply $HELLO"
nx_say_id alice say lobby --reply "$HELLO" "replying to you"
REPLY=$ID
nx_wait_json 15 "$T/bobjson.out" "j['text'] == 'replying to you'" "bob's JSON tail got the reply"
jsonl "$T/bobjson.out" count "j['id'] == $REPLY and j['reply_to'] == $HELLO" >/dev/null ||
	{ cat "$T/bobjson.out"; fail "reply $REPLY does not carry reply_to $HELLO"; }
ok "reply $REPLY has reply_to $HELLO"
nx_wait_grep 15 "$T/bobtxt.out" "^\[$REPLY\] .*<alice> ↪ #$HELLO replying to you" \
	"text tail shows the reply as <alice> ↪ #$HELLO"

say "DM: alice says @bob psst"
nx_say_id alice say @bob "psst"
DM=$ID
nx_expect 0 "bob: history @alice" nexus_as bob history @alice
grep -Eq "^\[$DM\] .*<alice> psst\$" "$T/out" || { nx_show; fail "bob's history @alice lacks [$DM] <alice> psst"; }
ok "bob reads the DM"
nx_expect 0 "bob: history @alice --json" nexus_as bob history @alice --json
jsonl "$T/out" count "j['id'] == $DM and j['room'] == '@alice:bob' and j['text'] == 'psst'" >/dev/null ||
	{ nx_show; fail "DM not reported in the canonical room @alice:bob"; }
ok "DM lives in the canonical room @alice:bob"
nx_expect "5 6" "carol cannot read @alice:bob" nexus_as carol history @alice:bob
grep -q psst "$T/out" && { nx_show; fail "carol saw the DM text"; }
nx_expect "5 6" "carol cannot join @alice:bob" nexus_as carol join @alice:bob
nx_expect 0 "carol: history @bob (her own, empty DM with bob)" nexus_as carol history @bob
grep -q psst "$T/out" && { nx_show; fail "carol's DM with bob shows alice's DM"; }
ok "carol's own DM with bob does not show alice's message"

say "edit and delete by the author"
nx_say_id alice say lobby "typo heer"
EDITED=$ID
nx_say_id alice say lobby "delete me"
DELETED=$ID
nx_expect 0 "alice: edit $EDITED" nexus_as alice edit "$EDITED" "typo here"
nx_expect 0 "alice: delete $DELETED" nexus_as alice delete "$DELETED"
nx_expect 0 "history lobby --json" nexus_as bob history lobby --json
cp "$T/out" "$T/hist1.json"
jsonl "$T/hist1.json" count "j['id'] == $EDITED and j['edited'] is True and j['text'] == 'typo here'" >/dev/null ||
	{ cat "$T/hist1.json"; fail "history: $EDITED not shown edited with the new text"; }
ok "history shows $EDITED edited: true, new text"
jsonl "$T/hist1.json" count "j['id'] == $DELETED and j['deleted'] is True and 'delete me' not in j['text']" >/dev/null ||
	{ cat "$T/hist1.json"; fail "history: $DELETED not shown deleted: true (or its text survived)"; }
ok "history shows $DELETED deleted: true without its text"
nx_expect 0 "history lobby (text)" nexus_as bob history lobby
grep -Eq "^\[$EDITED\] .*<alice> typo here \(edited\)\$" "$T/out" || { nx_show; fail "text history lacks '(edited)'"; }
grep -Eq "^\[$DELETED\] .*<alice> \(deleted\)\$" "$T/out" || { nx_show; fail "text history lacks '(deleted)'"; }
ok "text history marks (edited) and (deleted)"
nx_wait_json 15 "$T/bobjson.out" "j['id'] == $EDITED and j['edited'] is True and j['text'] == 'typo here'" \
	"bob's live tail got the edit"
nx_wait_json 15 "$T/bobjson.out" "j['id'] == $DELETED and j['deleted'] is True" "bob's live tail got the delete"

say "bob (not the author) cannot edit or delete alice's message"
nx_expect 6 "bob: edit $HELLO refused" nexus_as bob edit "$HELLO" "hacked"
nx_expect 6 "bob: delete $HELLO refused" nexus_as bob delete "$HELLO"
nx_expect 0 "history lobby --json" nexus_as alice history lobby --json
jsonl "$T/out" count "j['id'] == $HELLO and j['text'] == 'hello bob' and not j['edited'] and not j['deleted']" >/dev/null ||
	{ nx_show; fail "$HELLO changed after bob's refused edit/delete"; }
ok "$HELLO is untouched"
nx_expect 5 "edit of a message id that does not exist" nexus_as alice edit 987654 "ghost"
nx_expect 5 "delete of a message id that does not exist" nexus_as alice delete 987654

say "say --json prints {id, ts, room}"
nx_expect 0 "alice: say lobby --json" nexus_as alice say lobby --json "json say"
jsonl "$T/out" count "isinstance(j['id'], int) and j['id'] > $HELLO and isinstance(j['ts'], int) \
	and j['room'] == 'lobby'" >/dev/null || { nx_show; fail "say --json output lacks id/ts/room"; }
ok "say --json: $(cat "$T/out")"
nx_expect 0 "alice: say @bob --json" nexus_as alice say @bob --json "dm json"
jsonl "$T/out" count "j['room'] == '@alice:bob'" >/dev/null || { nx_show; fail "say @bob --json does not name the canonical room"; }
ok "say @bob --json: $(cat "$T/out")"

say "mentions: carol (not in lobby) tails her own room; alice says @carol look in lobby"
nx_expect 0 "carol: create carolroom" nexus_as carol create carolroom
nx_say_id carol say carolroom "carol is here"
nx_tail_to caroljson carol carolroom --json
nx_wait_grep 15 "$T/caroljson.out" "carol is here" "carol's tail is connected"
NX_EXEC=1 rawclient listen carol pw-carol-secret 20 >"$T/carolraw.out" 2>&1 &
RAWPID=$!
PIDS="$PIDS $RAWPID"
nx_wait_grep 15 "$T/carolraw.out" '"READY"' "a raw protocol session of carol is logged in"
nx_expect 0 "alice: create vault --private" nexus_as alice create vault --private
nx_say_id alice say vault "@carol secret plans"
VAULT=$ID
nx_say_id alice say @bob "@carol gossip in a DM"
DMMENTION=$ID
nx_say_id alice say lobby "@carol look"
MENTION=$ID
nx_say_id alice say lobby "@bob look too"
MENTIONBOB=$ID
nx_wait_json 15 "$T/carolraw.out" "j['type'] == 'CHAT' and j['id'] == $MENTION" \
	"carol's session gets CHAT $MENTION of lobby although she is not a member"
jsonl "$T/carolraw.out" count "j.get('id') == $MENTION and j['room'] == 'lobby' and j['flags'] & 0x10" >/dev/null ||
	{ cat "$T/carolraw.out"; fail "CHAT $MENTION reached carol without MF_MENTION"; }
ok "the CHAT carries MF_MENTION"
jsonl "$T/carolraw.out" count "j.get('id') == $MENTIONBOB" >/dev/null &&
	{ cat "$T/carolraw.out"; fail "carol received lobby message $MENTIONBOB that does not mention her"; }
ok "carol does not receive other lobby messages"
jsonl "$T/carolraw.out" count "j.get('id') in ($VAULT, $DMMENTION) or 'secret plans' in j.get('text', '') \
	or 'gossip' in j.get('text', '')" >/dev/null &&
	{ cat "$T/carolraw.out"; fail "a mention leaked a private room's or a DM's message to carol (a non-member)"; }
ok "mentions in a private room or a DM do not reach carol (not a member)"
nx_wait_json 15 "$T/caroljson.out" "j['id'] == $MENTION" "carol's nexus tail shows the mention"
jsonl "$T/caroljson.out" count "j['id'] == $MENTION and j['mention'] is True and j['room'] == 'lobby'" >/dev/null ||
	{ cat "$T/caroljson.out"; fail "carol's tail shows $MENTION without mention: true"; }
ok "carol's tail line has mention: true"
nx_wait_json 15 "$T/bobjson.out" "j['id'] == $MENTIONBOB" "bob's tail got @bob look too"
jsonl "$T/bobjson.out" count "j['id'] == $MENTIONBOB and j['mention'] is True" >/dev/null ||
	{ cat "$T/bobjson.out"; fail "bob's line $MENTIONBOB (mentions @bob) lacks mention: true"; }
jsonl "$T/bobjson.out" count "j['id'] == $MENTION and j['mention'] is False" >/dev/null ||
	{ cat "$T/bobjson.out"; fail "bob's line $MENTION (mentions @carol) should have mention: false"; }
ok "mention is true only for the mentioned user"
nx_kill "$RAWPID"

say "say from stdin: one message per line"
printf 'a\nb\nc\n' | nexus_as alice say lobby >"$T/ids" 2>"$T/err" || { cat "$T/err"; fail "say from stdin failed"; }
[ "$(grep -Ec '^[0-9]+$' "$T/ids")" -eq 3 ] && [ "$(wc -l <"$T/ids")" -eq 3 ] ||
	{ cat "$T/ids" "$T/err"; fail "say from stdin: expected 3 ids"; }
ok "3 ids: $(tr '\n' ' ' <"$T/ids")"
nx_expect 0 "history lobby -n 3 --json" nexus_as alice history lobby -n 3 --json
python3 - "$T/out" "$T/ids" <<'EOF' || { nx_show; fail "history does not hold a, b, c in order with the printed ids"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = [int(x) for x in open(sys.argv[2]).read().split()]
got = [(r["id"], r["text"]) for r in rows]
want = list(zip(ids, ["a", "b", "c"]))
print("history:", got)
sys.exit(0 if got == want and ids == sorted(ids) else 1)
EOF
ok "history holds a, b, c in order"

say "UTF-8 round trip"
U="héllo ✓ 日本"
nx_say_id alice say lobby "$U"
UID8=$ID
nx_expect 0 "history --json" nexus_as bob history lobby -n 5 --json
jsonl "$T/out" count "j['id'] == $UID8 and j['text'] == 'héllo ✓ 日本'" >/dev/null ||
	{ nx_show; fail "UTF-8 text did not round-trip"; }
nx_wait_grep 15 "$T/bobtxt.out" "<alice> $U\$" "text tail shows $U"

say "control characters in text: a newline cannot forge a chat line on the terminal"
INJ=$(printf 'line one\\n[999] 00:00:00 <bob> forged \342\200\256reversed')
nx_run rawclient req alice pw-alice-secret SAY room=lobby "text=$INJ"
[ "$RC" -eq 0 ] || { nx_show; fail "chatd refused a text with a newline and U+202E (both valid in text)"; }
INJID=$(jsonl "$T/out" get "j['type'] == 'ACK'" id)
nx_wait_grep 15 "$T/bobtxt.out" "^\[$INJID\] " "bob's text tail shows message $INJID"
grep -q '^\[999\]' "$T/bobtxt.out" && { cat "$T/bobtxt.out"; fail "a newline in a message forged a line on bob's terminal"; }
LC_ALL=C grep -q "$(printf '\342\200\256')" "$T/bobtxt.out" && fail "a bidi override (U+202E) reached the terminal"
ok "text tail: $(grep "^\[$INJID\]" "$T/bobtxt.out")"
nx_wait_json 15 "$T/bobjson.out" "j['id'] == $INJID and j['text'].startswith('line one\n[999]')" \
	"JSON tail keeps the newline inside the text"
nx_run rawclient req alice pw-alice-secret SAY room=lobby "text=$(printf 'esc \033[31mred')"
[ "$RC" -ne 0 ] || { nx_show; fail "chatd accepted a text with an ESC character"; }
ok "chatd refuses a text with ESC: $(tail -n 1 "$T/out")"
kill -0 "$CHATD_PID" || fail "chatd died"

say "max_text=100 bytes"
rep() { awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s; print "" }'; }
T100=$(rep x 100)
T101=$(rep x 101)
J33=$(rep 日 33)
J34=$(rep 日 34)
[ "$(printf %s "$J34" | wc -c)" -eq 102 ] || fail "test bug: J34 is not 102 bytes"
nx_say_id alice say lobby "$T100"
ok "100 bytes accepted"
nx_say_id alice say lobby "$J33"
ok "33 x 3-byte characters (99 bytes) accepted"
nx_expect 1 "101 bytes refused" nexus_as alice say lobby "$T101"
nx_err_has "long|large|too|limit|max|100" "refusal names the limit"
nx_expect 1 "34 x 3-byte characters (102 bytes) refused" nexus_as alice say lobby "$J34"
nx_expect 0 "history" nexus_as alice history lobby -n 10 --json
nx_run rawclient req alice pw-alice-secret SAY room=lobby "text=$T101"
[ "$RC" -ne 0 ] || { nx_show; fail "chatd itself accepted a 101-byte text (max_text=100) from a raw client"; }
ok "chatd itself refuses 101 bytes: $(tail -n 1 "$T/out")"
nx_expect 0 "history" nexus_as alice history lobby -n 10 --json
jsonl "$T/out" count "len(j['text']) in (101, 34)" >/dev/null && { nx_show; fail "an over-long text was stored"; }
ok "nothing over max_text was stored"

kill -0 "$CHATD_PID" || fail "chatd died"
say "all chat talk checks passed"
