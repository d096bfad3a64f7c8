#!/bin/sh
# A new user's first minutes in the full-screen client against a real
# chatd: before any room the screen says how to find one; /help shows all
# its lines (not only the last, on the status line); /list shows the public
# rooms with member counts and topics, busiest first, fetched page by page
# (chatd sends at most 100 rooms a reply), without private rooms of others;
# /list WORD narrows it; a long error before any room is wrapped, not cut;
# /join from the list opens the room.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

say "start chatd; alice's rooms lobby (bob, dave too), games (bob too), hideout (private); 150 of dave's"
# one user's 150 rooms: past the default per-user room rate and quota
nx_start_chatd -o chatd.room_rate=1000 -o chatd.user_rooms=1000
for u in alice bob carol dave; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby --topic "the front door"
nx_expect 0 "alice: create games" nexus_as alice create games --topic "Board games on Friday"
nx_expect 0 "alice: create hideout --private" nexus_as alice create hideout --private --topic "secret plans"
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
nx_expect 0 "bob: join games" nexus_as bob join games
nx_expect 0 "dave: join lobby" nexus_as dave join lobby
nx_expect 0 "dave: 150 rooms d1..d150, every 10th private" rawclient create-many dave pw-dave-secret d 150 10

say "carol (registered, in no room) opens the full-screen client"
tui_start carol 110 45
tui_wait 15 '\[connected' "status line says connected"
tui_wait 10 'no rooms yet: /list shows the rooms there are' "the conversation area says how to find a room"

say "/help before any room shows every line"
tui_type "/help"
tui_wait 10 '-- /list \[WORD\] +the rooms you may join' "/help's first line (/list)"
tui_wait 5 '-- /join ROOM +become a member' "/help's /join line"
tui_wait 5 '-- +the voice room and who talks, and who is in the room.s video call' "/help's last line"
n=$(tui_count ' -- ')
[ "$n" -ge 30 ] || { tui_screen; fail "only $n help lines on the screen"; }
ok "$n lines of help on the screen"

say "/list: 137 rooms (lobby, games, 135 of dave's public ones), busiest first"
tui_type "/list"
tui_wait 15 '137 rooms, the 100 busiest above' "the summary counts every page (137 rooms) and says 100 are shown"
tui_has '/join ROOM enters one' || { tui_screen; fail "the summary does not say how to join"; }
tui_has 'hideout|secret plans' && { tui_screen; fail "carol's /list shows alice's private room"; }
tui_has ' d10 | d100 | d150 ' && { tui_screen; fail "carol's /list shows dave's private rooms"; }
ok "no private room of others"
tui_keys PPage PPage PPage
tui_wait 10 '-- +lobby +3 members +the front door' "lobby first (3 members) with its topic, after PageUp"
tui_screen | grep -E -A1 -- '-- +lobby +3 members' | grep -Eq -- '-- +games +2 members +Board games on Friday' ||
	{ tui_screen; fail "games (2 members, with its topic) is not right after lobby"; }
ok "then games with 2 members and its topic"
tui_keys NPage NPage NPage NPage

say "/list WORD narrows the list"
tui_type "/list d10"
tui_wait 10 "9 rooms with 'd10'; /join ROOM enters one" "/list d10: d101..d109 (d10 and d100 are private)"
tui_has '-- +d10 |-- +d100 ' && { tui_screen; fail "/list d10 shows dave's private d10 or d100"; }
tui_has '-- +d109 +1 member' || { tui_screen; fail "/list d10 lacks d109"; }
ok "d101..d109 listed, d10 and d100 (private) not"
tui_type "/list board"
tui_wait 10 "1 room with 'board'" "/list board finds games by its topic"
tui_type "/list nothing-like-this"
tui_wait 10 "no room matches 'nothing-like-this'" "/list of a word no room has says so"

say "a long error before any room is wrapped, not cut at the edge"
tui_resize 60 45
tui_type "hello there"
tui_wait 10 '!! no room open: /join ROOM or' "the error starts on the screen"
tui_wait 5 '│ +(/create )?ROOM first' "and its end is on the next line"
tui_resize 110 45

say "/join from the list opens the room"
tui_type "/join games"
tui_wait 10 '^ #games .* Board games on Friday' "title shows #games and its topic"
nx_expect 0 "carol: rooms now lists games as hers" nexus_as carol rooms
grep -w games "$T/out" | grep -qw joined || { nx_show; fail "carol's rooms lack games"; }
ok "carol is a member of games"

say "alice (a member of hideout) sees it in her /list, marked private"
tui_start alice 110 45
tui_wait 15 '\[connected' "alice connected"
tui_type "/list hideout"
tui_wait 10 '-- +hideout +1 member +joined private +secret plans' "hideout: joined, private, topic"

tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"
kill -0 "$CHATD_PID" || fail "chatd died"
say "all /list checks passed"
