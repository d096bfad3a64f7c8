#!/bin/sh
# Rooms through the real client: listing (your rooms; --all: every room you
# may join, in pages of at most 100 from chatd), private rooms and
# invitations, topics, leave, unknown rooms, and member presence.
. test/lib/common.sh
nx_need_bins

say "start chatd, register alice, bob, carol"
nx_start_chatd
for u in alice bob carol; do nx_account "$u"; done

say "room names"
nx_expect nonzero "a room named like a DM (@alice:bob) is refused" nexus_as carol create "@alice:bob"
nx_expect nonzero "a room named '@bob' is refused" nexus_as carol create "@bob"
nx_expect nonzero "a room name with a space is refused" nexus_as carol create "two words"
nx_expect nonzero "an empty room name is refused" nexus_as carol create ""
nx_run rawclient req carol pw-carol-secret ROOM_CREATE room=@alice:bob
[ "$RC" -ne 0 ] || { nx_show; fail "chatd itself let carol create a room named @alice:bob"; }
ok "chatd itself refuses ROOM_CREATE @alice:bob: $(tail -n 1 "$T/out")"
nx_run rawclient req carol pw-carol-secret ROOM_CREATE "room=bad/name"
[ "$RC" -ne 0 ] || { nx_show; fail "chatd itself accepted the room name bad/name"; }
ok "chatd itself refuses ROOM_CREATE bad/name: $(tail -n 1 "$T/out")"

say "public rooms are listed to everyone"
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "alice: create games --topic" nexus_as alice create games --topic "Board games on Friday"
nx_expect nonzero "creating lobby twice is refused" nexus_as bob create lobby
nx_err_has "exist|taken" "duplicate room refusal says it exists"
nx_expect 0 "bob: rooms --all" nexus_as bob rooms --all
grep -qw lobby "$T/out" && grep -qw games "$T/out" || { nx_show; fail "bob's room list lacks lobby or games"; }
grep -q "Board games on Friday" "$T/out" || { nx_show; fail "room list lacks the topic given at create"; }
ok "bob sees lobby and games with its topic"
nx_expect 0 "bob: rooms (his own: none yet)" nexus_as bob rooms
[ -s "$T/out" ] && { nx_show; fail "bob's own rooms list rooms he never joined"; }
ok "rooms without --all lists only bob's rooms (none)"
nx_expect 0 "alice: rooms (she created both)" nexus_as alice rooms
grep -qw lobby "$T/out" && grep -qw games "$T/out" || { nx_show; fail "alice's rooms lack lobby or games"; }
grep -w lobby "$T/out" | grep -qw joined || { nx_show; fail "alice's lobby line does not say joined"; }
ok "alice's rooms: lobby and games, joined"
nx_expect 0 "bob: rooms --all --json" nexus_as bob rooms --all --json
jsonl "$T/out" count "j['room'] == 'games' and j['members'] == 1 and j['topic'] == 'Board games on Friday' and not j['joined'] and not j['private']" ||
	{ nx_show; fail "rooms --all --json lacks games with 1 member and its topic"; }
ok "rooms --all --json: one object per room with members and topic"
nx_expect 2 "rooms with an operand is a usage error" nexus_as bob rooms lobby

say "private room: hidden from non-members, join refused until invited"
nx_expect 0 "alice: create hideout --private" nexus_as alice create hideout --private
nx_expect 0 "alice: rooms" nexus_as alice rooms
grep -qw hideout "$T/out" || { nx_show; fail "alice (creator) does not see her private room"; }
ok "alice sees hideout"
nx_expect 0 "bob: rooms --all" nexus_as bob rooms --all
grep -qw hideout "$T/out" && { nx_show; fail "bob (not a member) sees the private room hideout"; }
ok "bob does not see hideout"
nx_expect 6 "bob: join hideout (not invited)" nexus_as bob join hideout
nx_err_has "allow|forbid|invit|private|denied|permission" "refusal explains itself"
nx_expect "5 6" "bob: history hideout (not a member)" nexus_as bob history hideout
nx_expect "5 6" "bob: say hideout (not a member)" nexus_as bob say hideout "let me in"
nx_expect "5 6" "bob cannot invite himself" nexus_as bob invite hideout bob
nx_expect 0 "alice: invite hideout bob" nexus_as alice invite hideout bob
nx_expect 0 "bob: join hideout (invited)" nexus_as bob join hideout
nx_expect 0 "bob: rooms" nexus_as bob rooms
grep -qw hideout "$T/out" || { nx_show; fail "bob (now a member) does not see hideout"; }
ok "bob sees hideout now"
nx_say_id bob say hideout "thanks for the invite"
ok "bob can say in hideout"
nx_expect 0 "carol: rooms --all" nexus_as carol rooms --all
grep -qw hideout "$T/out" && { nx_show; fail "carol sees the private room"; }
nx_expect 6 "carol: join hideout (still not invited)" nexus_as carol join hideout
nx_expect "5 6" "carol: members hideout (not a member)" nexus_as carol members hideout
grep -qw alice "$T/out" && { nx_show; fail "members of a private room shown to a non-member"; }
nx_run rawclient req carol pw-carol-secret HISTORY room=hideout count=50
grep -q "thanks for the invite" "$T/out" && { nx_show; fail "HISTORY of a private room leaked to a non-member"; }
[ "$RC" -ne 0 ] || { nx_show; fail "chatd answered HISTORY of a private room to a non-member"; }
ok "raw HISTORY of hideout by carol refused: $(tail -n 1 "$T/out")"
nx_expect 0 "carol (not a member) reads the public room games" nexus_as carol history games

say "topic"
nx_expect 0 "alice: topic lobby" nexus_as alice topic lobby "Weekly planning at 10"
nx_expect 0 "bob: rooms --all" nexus_as bob rooms --all
grep -w lobby "$T/out" | grep -q "Weekly planning at 10" || { nx_show; fail "rooms does not show lobby's new topic"; }
ok "rooms shows the new topic on lobby's line"
nx_expect "5 6" "carol (not a member of hideout) cannot set its topic" nexus_as carol topic hideout "pwned"

say "rooms, topics, memberships and invitations survive a restart"
nx_stop_chatd TERM
# dave makes 250 rooms below: lift the per-user room rate and quota
nx_start_chatd -o chatd.room_rate=1000 -o chatd.user_rooms=1000
nx_expect 0 "bob: rooms --all" nexus_as bob rooms --all
grep -w lobby "$T/out" | grep -q "Weekly planning at 10" || { nx_show; fail "lobby's topic lost in the restart"; }
grep -qw hideout "$T/out" || { nx_show; fail "bob's membership of hideout lost in the restart"; }
ok "bob still sees hideout and lobby's topic"
nx_say_id bob say hideout "still a member"
nx_expect 0 "carol: rooms --all" nexus_as carol rooms --all
grep -qw hideout "$T/out" && { nx_show; fail "carol sees hideout after the restart"; }
nx_expect 6 "carol: join hideout after the restart" nexus_as carol join hideout

say "unknown room"
nx_expect 5 "bob: join nosuchroom" nexus_as bob join nosuchroom
nx_err_has "not found|no such|no room|unknown|does not exist" "not-found message"
nx_expect 5 "bob: history nosuchroom" nexus_as bob history nosuchroom
nx_expect 5 "bob: say nosuchroom" nexus_as bob say nosuchroom "anyone?"

say "members and presence: bob tails lobby, carol is a member without a session"
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
nx_expect 0 "carol: join lobby" nexus_as carol join lobby
nx_say_id alice say lobby "presence check"
nx_tail_start bob lobby
BOBTAIL=$TAIL_PID
nx_wait_grep 15 "$T/tail-bob-lobby.out" "presence check" "bob's tail is connected"
members_line() { # USER WORD: members lobby shows USER with WORD
	nexus_as alice members lobby >"$T/members" 2>&1 && grep -w "$1" "$T/members" | grep -qw "$2"
}
if ! wait_for 10 members_line bob online; then
	cat "$T/members"
	fail "members lobby does not show bob online while he tails"
fi
ok "bob online: $(grep -w bob "$T/members")"
members_line carol offline || { cat "$T/members"; fail "members lobby does not show carol offline"; }
ok "carol offline: $(grep -w carol "$T/members")"
grep -qw alice "$T/members" || { cat "$T/members"; fail "members lobby does not list alice (creator)"; }
nx_kill "$BOBTAIL"
if ! wait_for 10 members_line bob offline; then
	cat "$T/members"
	fail "bob still shown online 10 s after his only session ended"
fi
ok "bob offline after his tail stopped"

say "leave"
nx_expect 0 "carol: leave lobby" nexus_as carol leave lobby
nx_expect 0 "alice: members lobby" nexus_as alice members lobby
grep -qw carol "$T/out" && { nx_show; fail "carol still listed after leave"; }
ok "carol no longer a member"
nx_expect "5 6" "carol: say lobby after leaving" nexus_as carol say lobby "am I still here?"
nx_expect 0 "bob: leave hideout" nexus_as bob leave hideout
nx_expect 0 "bob: rooms" nexus_as bob rooms
grep -qw hideout "$T/out" && { nx_show; fail "bob still sees hideout after leaving it"; }
ok "bob no longer sees hideout after leaving it"

say "many rooms: ROOM_LIST replies hold at most 100; the client fetches every page"
nx_account dave
nx_expect 0 "dave creates 250 rooms, every 10th private" rawclient create-many dave pw-dave-secret r 250 10
nx_expect 0 "carol: rooms --all --json" nexus_as carol rooms --all --json
n=$(grep -c '"room":"r[0-9]*"' "$T/out")
[ "$n" -eq 225 ] || { head -n 5 "$T/out"; fail "carol's rooms --all lists $n of dave's rooms, not the 225 public ones"; }
grep -q '"room":"r10"\|"room":"r250"' "$T/out" && { nx_show; fail "carol sees dave's private rooms"; }
grep -q '"room":"lobby"' "$T/out" && grep -q '"room":"r249"' "$T/out" || { nx_show; fail "the first or the last page is missing"; }
ok "carol's rooms --all: all 225 public ones over 3 pages, no private one"
nx_expect 0 "dave: rooms (his own 250)" nexus_as dave rooms --json
n=$(grep -c '"joined":true' "$T/out")
[ "$n" -eq 250 ] || { head -n 5 "$T/out"; fail "dave's own rooms: $n joined, not 250"; }
ok "dave's rooms: his 250, private ones included"
nx_expect 0 "raw ROOM_LIST asking for 1000 rooms" rawclient req carol pw-carol-secret ROOM_LIST count=1000
n=$(grep -c '"ROOM_INFO"' "$T/out")
next=$(tail -n 1 "$T/out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$n" -eq 100 ] && [ "$next" -gt 0 ] || { tail -n 2 "$T/out"; fail "one ROOM_LIST reply held $n rooms (next page $next), not 100 and more to come"; }
ok "one reply holds 100 rooms and names the next page (after room id $next)"
nx_expect 0 "raw ROOM_LIST: the page after it, 5 rooms" rawclient req carol pw-carol-secret ROOM_LIST ref="$next" count=5
n=$(grep -c '"ROOM_INFO"' "$T/out")
[ "$n" -eq 5 ] || { nx_show; fail "ROOM_LIST count=5 gave $n rooms"; }
ok "ROOM_LIST count=5 after $next: 5 rooms"
nx_expect 0 "raw ROOM_LIST MF_JOINED for bob (in lobby only)" rawclient req bob pw-bob-secret ROOM_LIST flags=0x80
n=$(grep -c '"ROOM_INFO"' "$T/out")
[ "$n" -eq 1 ] && grep -q '"room": *"lobby"' "$T/out" || { nx_show; fail "ROOM_LIST MF_JOINED for bob: $n rooms, not lobby alone"; }
ok "ROOM_LIST MF_JOINED: only bob's own room"

kill -0 "$CHATD_PID" || fail "chatd died"
say "all room checks passed"
