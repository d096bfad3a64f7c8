#!/bin/sh
# The full-screen client (`nexus` with no subcommand) in tmux against a real
# chatd: it logs in with the cached token, opens the rooms alice belongs to,
# /join opens another; a message bob sends with `nexus say` appears on the
# screen; what alice types reaches bob's `nexus tail`; unread counts and the
# mention mark in the room list; /reply and /edit on both sides; bad
# commands get a clear error; /quit exits 0.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

say "start chatd; alice and bob; rooms lobby, side (both) and news (bob's)"
# bob fills a room with 300 messages at once: lift the per-user rate.
nx_start_chatd -o chatd.msg_rate=10000 -o chatd.msg_burst=10000
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby --topic "the front door"
nx_expect 0 "alice: create side" nexus_as alice create side
nx_expect 0 "bob: create news" nexus_as bob create news
for r in lobby side; do nx_expect 0 "bob: join $r" nexus_as bob join "$r"; done
nx_say_id bob say lobby "said before the client started"

say "alice opens the full-screen client (cached login, no password)"
tui_start alice 100 30
tui_wait 15 '\[connected' "status line says connected"
tui_wait 15 '<bob> said before the client started' "history of lobby on screen"
tui_wait 5 '#lobby .* the front door' "title shows the room and its topic"
tui_has '^ *lobby +│' || tui_has '^ lobby' || { tui_screen; fail "room list lacks lobby"; }
tui_has '^ side' || { tui_screen; fail "room list lacks side"; }
ok "room list shows lobby and side"
tui_wait 5 'Members \(2\)' "member list of lobby (2)"

say "/join news, then bob says something there"
tui_type "/join news"
tui_wait 10 '^ #news' "title shows #news after /join"
nx_say_id bob say news "hello from bob"
tui_wait 10 '[0-9]{2}:[0-9]{2} <bob> hello from bob' "bob's message appears on alice's screen"

say "alice types in news; bob's tail receives it"
nx_tail_to bobtail bob news --json
nx_wait_grep 15 "$T/bobtail.out" "hello from bob" "bob's tail is following news"
tui_type "typed in the tui: ünïcödé 漢字"
nx_wait_json 15 "$T/bobtail.out" "j['user'] == 'alice' and j['text'] == 'typed in the tui: ünïcödé 漢字'" \
	"bob's tail got alice's line, UTF-8 intact"
tui_wait 10 '<alice> typed in the tui: ünïcödé 漢字' "alice sees her own line"

say "unread counts and the mention mark in the room list"
nx_say_id bob say lobby "plain message in lobby"
tui_wait 10 '^  ?lobby +1 *│' "lobby shows 1 unread"
nx_say_id bob say side "@alice look at this"
tui_wait 10 '^!side +!1 *│' "side shows the mention mark and 1 unread"
wait_for 10 sh -c "tmux -L $TUI_SOCK display-message -p -t 0 '#{pane_title}' | grep -q '^nexus (2!) news'" ||
	fail "terminal title is '$(tmux -L "$TUI_SOCK" display-message -p -t 0 '#{pane_title}')', not 'nexus (2!) news'"
ok "the terminal title counts the unread messages and marks the mention: nexus (2!) news"
tui_has '<bob> @alice look at this' && fail "the mention shows in news, not only in side"
tui_keys M-a
tui_wait 10 '<bob> @alice look at this' "Alt-A opens the room with the mention"
tui_wait 5 '^ #side' "title shows #side"
tui_has '^!side' && { tui_screen; fail "mention mark stays after opening side"; }
ok "mark cleared once read"
tui_keys C-p
tui_wait 10 '^ #lobby' "Ctrl-P goes to the previous room (lobby)"
tui_keys C-n C-n
tui_wait 10 '^ #news' "Ctrl-N twice goes to news"

say "rooms switched fast: each switch starts and stops a call watch child"
# A child stopped before it had run its program once passed its SIGTERM on
# to the client's own signal handling, and the screen quit.
for i in 1 2 3 4 5 6 7 8; do tui_keys C-n C-n C-n C-n C-n C-n; done
tui_keys C-n C-n C-n C-n
tui_wait 10 '^ #lobby' "52 switches later the client shows lobby"
sleep 1
tui_has 'NEXUS-EXIT' && { tui_screen; fail "the client quit while rooms were switched"; }
ok "the client is still running"
tui_keys C-p
tui_wait 10 '^ #news' "and goes back to news"

say "a room joined from another session (nexus join) appears in the list"
nx_expect 0 "bob: create annex" nexus_as bob create annex
nx_expect 0 "alice joins annex from the command line" nexus_as alice join annex
tui_wait 10 '^  ?annex +│' "annex is in alice's room list"
nx_say_id bob say annex "welcome to the annex"
tui_wait 10 '^  ?annex +1 *│' "and counts bob's message as unread"

say "/reply and /edit, seen by alice and by bob's tail"
nx_say_id bob say news "which day suits you?"
Q=$ID
tui_wait 10 '<bob> which day suits you\?' "bob's question on screen"
tui_type "/reply $Q tuesday"
# The quote is the reply's own first line, after alice's nick: alone on the
# line below bob's question it read as the end of his message.
tui_wait 10 '[0-9]{2}:[0-9]{2} <alice> ↪ bob: which day suits you\?' \
	"alice's reply starts with her nick and the answered message"
tui_wait 10 '│ {6,}tuesday *(│|$)' "alice's reply text on the line below, at the indent"
reply_lines() { # the line after the quote is the reply's text
	tui_screen | awk '/<alice> ↪ bob: which day suits you/ { q = NR } q && NR == q + 1 && /│ +tuesday/ { f = 1 } END { exit !f }'
}
wait_for 5 reply_lines || { tui_screen; fail "the reply's text is not on the line right below its quote"; }
ok "quote and text of the reply are one entry"
nx_wait_json 15 "$T/bobtail.out" "j['text'] == 'tuesday' and j['reply_to'] == $Q" \
	"bob's tail got the reply with reply_to $Q"
tui_type "/edit wednesday"
tui_wait 10 '│ +wednesday \(edited\)' "alice's screen marks her edit"
nx_wait_json 15 "$T/bobtail.out" "j['text'] == 'wednesday' and j['edited'] is True" \
	"bob's tail got the edit"
nx_expect 0 "bob edits his question" nexus_as bob edit "$Q" "which day suits you best?"
tui_wait 10 '<bob> which day suits you best\? \(edited\)' "bob's edit shows on alice's screen"
tui_wait 10 '<alice> ↪ bob: which day suits you best\?' "the quote in the reply follows the edit"
nx_say_id bob say news "to be deleted"
D=$ID
tui_wait 10 '<bob> to be deleted' "message to delete on screen"
nx_expect 0 "bob deletes it" nexus_as bob delete "$D"
tui_wait 10 '<bob> \(deleted\)' "deletion marked on alice's screen"
tui_has 'to be deleted' && { tui_screen; fail "deleted text still on screen"; }
ok "deleted text is gone"

say "clear errors for bad commands"
tui_type "/frobnicate now"
tui_wait 10 "unknown command '/frobnicate'; /help lists them" "unknown command"
tui_type "/invite"
tui_wait 10 '/invite: missing USER \(usage: /invite USER \[ROOM\]\)' "missing argument with usage"
tui_type "/join nosuchroom"
tui_wait 10 '!! .*nosuchroom' "joining a room that does not exist says so"

say "PageUp scrolls back and fetches older history from the server"
nx_expect 0 "bob: create big" nexus_as bob create big
seq 1 300 | sed 's/^/big line /' >"$T/big.txt"
nx_expect 0 "bob: 300 messages into big" sh -c ". test/lib/common.sh; trap - EXIT; T=$T CHAT_PORT=$CHAT_PORT; nexus_as bob say big <$T/big.txt"
tui_type "/join big"
tui_wait 10 '<bob> big line 300' "the newest of big on screen"
tui_has '<bob> big line 1$' && fail "the oldest message shows before scrolling back"
n=0
while ! tui_has '<bob> big line 1 *│' && [ $n -lt 40 ]; do
	tui_keys PPage
	n=$((n + 1))
	wait_for 2 tui_has 'more below'
done
tui_wait 10 '<bob> big line 1 *│' "after $n PageUp the first message of big (fetched from the server) is on screen"
tui_has 'PageUp: older messages' && { tui_screen; fail "still offers older messages at the very top"; }
tui_wait 5 'more below' "the status line says there is more below"
for k in $(seq 1 $((n + 2))); do tui_keys NPage; done
tui_wait 10 '<bob> big line 300 *│' "PageDown returns to the newest"
tui_has 'more below' && { tui_screen; fail "still says more below at the bottom"; }
ok "back at the bottom"

say "a flood of 3000 messages while the client shows the room"
tui_type "/join big"
seq 1 3000 | sed 's/^/flood line /' >"$T/flood.txt"
nx_expect 0 "bob: 3000 messages into big" sh -c ". test/lib/common.sh; trap - EXIT; T=$T CHAT_PORT=$CHAT_PORT; nexus_as bob say big <$T/flood.txt"
tui_wait 30 '<bob> flood line 3000 *│' "the last message of the flood is on screen"
tui_type "still responsive"
tui_wait 10 '<alice> still responsive' "typing still works right after the flood"
PANE_PID=$(tmux -L "$TUI_SOCK" display-message -p -t 0 '#{pane_pid}')
NX_PID=$(pgrep -P "$PANE_PID" -x nexus | head -1)
if [ -n "$NX_PID" ] && ! nx_sanitized; then
	RSS=$(nx_rss_kb "$NX_PID")
	[ "$RSS" -lt 60000 ] || fail "the client uses $RSS kB after the flood"
	ok "the client uses $RSS kB after 3300 messages"
fi

say "/msg ZED: the tab of the conversation takes chatd's name @Zed:alice"
# alice, Zed: byte-wise @Zed:alice (the client's first guess for @ZED is
# @ZED:alice); Zed's reply and alice's line land in that one tab.
nx_account Zed
tui_type "/msg ZED hello Zed"
tui_wait 10 '^ @Zed( |$)' "the title shows @Zed (as registered), not @ZED"
zed_got() {
	nexus_as Zed history @alice --json >"$T/zed.out" 2>&1 &&
		jsonl "$T/zed.out" count "j['text'] == 'hello Zed' and j['room'] == '@Zed:alice'" >/dev/null
}
wait_for 10 zed_got || { cat "$T/zed.out"; fail "alice's /msg ZED did not reach @Zed:alice"; }
nx_say_id Zed say @ALICE "hello alice from Zed"
tui_wait 10 '<Zed> hello alice from Zed' "Zed's answer shows in the open tab"
[ "$(tui_count '@ZED')" -eq 0 ] || { tui_screen; fail "a tab @ZED is left on the screen"; }
[ "$(tui_count '^.@Zed +([!0-9]+ *)?│')" -eq 1 ] || { tui_screen; fail "the room list does not show @Zed once"; }
ok "one tab @Zed holds both sides of the conversation"

say "/quit leaves with status 0"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"
