#!/bin/sh
# The full-screen client across a chatd restart: the status line says
# "reconnecting" while chatd is down; once it is back the client joins its
# rooms again and fetches what was said meanwhile, in the open room and in
# another one, and shows every message exactly once.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

say "start chatd; alice and bob in lobby and side"
nx_start_chatd
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "alice: create side" nexus_as alice create side
for r in lobby side; do nx_expect 0 "bob: join $r" nexus_as bob join "$r"; done
nx_say_id bob say lobby "before the restart"

say "alice opens the full-screen client"
tui_start alice 100 30
tui_wait 15 '\[connected' "connected"
tui_wait 10 '<bob> before the restart' "lobby history on screen"

say "stop chatd: the client says reconnecting"
nx_stop_chatd TERM
tui_wait 15 '\[reconnecting' "status line says reconnecting"
tui_wait 5 'connection lost \(server is shutting down\)' "a note in the conversation says so too, with the server's reason"

say "start chatd again (same port, same state); bob talks at once"
nx_start_chatd
for i in 1 2 3 4 5; do nx_say_id bob say lobby "meanwhile-lobby-$i"; done
for i in 1 2 3; do nx_say_id bob say side "meanwhile-side-$i"; done
tui_wait 30 '\[connected' "connected again"
tui_wait 15 '<bob> meanwhile-lobby-5' "the last message said meanwhile arrived"
for i in 1 2 3 4 5; do
	n=$(tui_count "<bob> meanwhile-lobby-$i\$|<bob> meanwhile-lobby-$i +│")
	[ "$n" = 1 ] || { tui_screen; fail "meanwhile-lobby-$i shows $n times, not once"; }
done
ok "every message said meanwhile shows exactly once in lobby"
n=$(tui_count '<bob> before the restart')
[ "$n" = 1 ] || { tui_screen; fail "the message from before the restart shows $n times"; }
ok "the message from before the restart is not repeated"
tui_wait 10 '^  ?side +3 *│' "side shows 3 unread messages missed while away"

say "live messages flow again, both ways"
nx_say_id bob say lobby "after the restart"
tui_wait 15 '<bob> after the restart' "a live message after the reconnect"
nx_tail_to bobtail bob lobby
nx_wait_grep 15 "$T/bobtail.out" "after the restart" "bob's tail follows lobby"
tui_type "alice is back"
nx_wait_grep 15 "$T/bobtail.out" "<alice> alice is back$" "what alice types reaches bob"

say "side: the three messages, once each"
tui_keys C-n
tui_wait 10 '^ #side' "side is open"
for i in 1 2 3; do
	n=$(tui_count "<bob> meanwhile-side-$i")
	[ "$n" = 1 ] || { tui_screen; fail "meanwhile-side-$i shows $n times, not once"; }
done
ok "every message said meanwhile shows exactly once in side"

say "a second restart, with a kill -9, while the client is frozen (SIGSTOP)"
# Frozen, the client cannot reconnect before bob has spoken: it must learn
# of the loss afterwards and fetch the messages as history.
PANE_PID=$(tmux -L "$TUI_SOCK" display-message -p -t 0 '#{pane_pid}')
NX_PID=$(pgrep -P "$PANE_PID" -x nexus | head -1)
[ -n "$NX_PID" ] || fail "cannot find the nexus process under the tmux pane"
kill -STOP "$NX_PID"
nx_stop_chatd KILL
nx_start_chatd
nx_say_id bob say side "during-freeze-1"
nx_say_id bob say side "during-freeze-2"
kill -CONT "$NX_PID"
tui_wait 30 '<bob> during-freeze-2' "the messages said while frozen arrive"
tui_wait 15 '\[connected' "connected again"
for m in during-freeze-1 during-freeze-2 meanwhile-side-1; do
	[ "$(tui_count "<bob> $m")" = 1 ] || { tui_screen; fail "$m is not shown exactly once"; }
done
ok "once each after the second restart too"
nx_say_id bob say side "live after the freeze"
tui_wait 15 '<bob> live after the freeze' "live messages after the second reconnect"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"
