#!/bin/sh
# The full-screen client catches up every room after a reconnect, however
# many: alice is in 58 rooms and 2 direct conversations, chatd restarts
# while her client is frozen, and bob and carol write in all 60 meanwhile.
# chatd allows a user 40 HISTORY requests at once (history_burst), then 10
# a second: a client that asked for all 60 at once lost 20 rooms' messages
# to ERR_RATE_LIMITED. The client must pace its catch-up and retry what
# the server turns away, and show every message once.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

N=58
# The history limits are stated (they are the defaults); room creation and
# messages are lifted, the test makes many of both.
CHAT_OPTS="-o chatd.history_rate=10 -o chatd.history_burst=40 -o chatd.room_rate=1000
	-o chatd.user_rooms=1000 -o chatd.msg_rate=1000 -o chatd.msg_burst=1000"

say "alice in $N rooms and 2 direct conversations; bob in the rooms"
# shellcheck disable=SC2086
nx_start_chatd $CHAT_OPTS
for u in alice bob carol; do nx_account "$u"; done
rawclient create-many alice pw-alice-secret r "$N" >"$T/create.out" ||
	{ cat "$T/create.out"; fail "alice: create $N rooms"; }
i=1
while [ $i -le $N ]; do
	nexus_as bob join "r$i" >/dev/null || fail "bob: join r$i"
	i=$((i + 1))
done
nx_say_id bob say @alice "hello from bob"
nx_say_id carol say @alice "hello from carol"
ok "60 rooms for alice"

say "alice opens the full-screen client (tall enough for the 60 rooms)"
tui_start alice 120 72
tui_wait 15 '\[connected' "connected"
tui_wait 15 '^ +r58 *│' "all the rooms are listed"
tui_wait 15 '^ +@carol' "the direct conversations are listed"

say "freeze the client, restart chatd, write in all 60 rooms"
PANE_PID=$(tmux -L "$TUI_SOCK" display-message -p -t 0 '#{pane_pid}')
NX_PID=$(pgrep -P "$PANE_PID" -x nexus | head -1)
[ -n "$NX_PID" ] || fail "cannot find the nexus process under the tmux pane"
kill -STOP "$NX_PID"
nx_stop_chatd TERM
# shellcheck disable=SC2086
nx_start_chatd $CHAT_OPTS
i=1
while [ $i -le $N ]; do
	nx_say_id bob say "r$i" "missed-in-r$i"
	i=$((i + 1))
done
nx_say_id bob say @alice "missed-from-bob"
nx_say_id carol say @alice "missed-from-carol"
kill -CONT "$NX_PID"
tui_wait 30 '\[connected' "connected again"

say "every room has its missed message"
# Each room but the one shown counts one unread message; the one shown
# has the message on screen.
end=$(($(date +%s) + 40))
while :; do
	unread=$(tui_screen | grep -Ec '^[ !](r[0-9]+|@bob|@carol) +!?1 *│')
	[ "$unread" -ge 59 ] && break
	if [ "$(date +%s)" -ge "$end" ]; then
		tui_screen
		fail "$unread rooms of 59 show their missed message as unread after 40 s"
	fi
	sleep 0.5
done
ok "59 rooms count 1 unread"
tui_has '<bob> missed-in-r[0-9]+|<bob> missed-from-bob|<carol> missed-from-carol' ||
	{ tui_screen; fail "the room shown lacks its missed message"; }
ok "the room shown has its missed message"
tui_has 'slow down|try again' && { tui_screen; fail "a rate-limit error reached the screen"; }
ok "no rate-limit error on the screen"

say "visit rooms with unread messages (Ctrl-X): each shows its message once"
for k in 1 2 3 4 5; do
	before=$(tui_screen | head -n 1)
	tui_keys C-x
	wait_for 10 sh -c '[ "$(tmux -L "$1" capture-pane -p -t 0 | head -n 1)" != "$2" ]' - \
		"$TUI_SOCK" "$before" || { tui_screen; fail "visit $k: Ctrl-X opened no other room"; }
	n=$(tui_count '<bob> missed-in-r[0-9]+|<bob> missed-from-bob|<carol> missed-from-carol')
	[ "$n" = 1 ] || { tui_screen; fail "visit $k: the missed message shows $n times"; }
done
ok "five rooms visited, the message once in each"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"

say "nexus tail: a page refused for the history rate is asked again"
# Four tails of one user start at once under history_rate=1, burst 1: all
# but one get ERR_RATE_LIMITED for their first page (tail exited on it).
nx_stop_chatd TERM
nx_start_chatd -o chatd.history_rate=1 -o chatd.history_burst=1
for k in 1 2 3 4; do
	NX_EXEC=1 nexus_as alice tail r1 --since 0 >"$T/tail$k.out" 2>"$T/tail$k.err" &
	eval "TAIL$k=\$!"
	PIDS="$PIDS $!"
done
for k in 1 2 3 4; do
	nx_wait_grep 20 "$T/tail$k.out" "missed-in-r1" "tail $k printed the message"
	eval "kill -0 \$TAIL$k" || { cat "$T/tail$k.err"; fail "tail $k ended"; }
done
ok "the four tails follow r1"
