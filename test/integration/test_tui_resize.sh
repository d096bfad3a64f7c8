#!/bin/sh
# The full-screen client on a resized terminal (SIGWINCH): at 60x20 the
# layout fits (title, room list, separator, status and input lines in their
# rows, the member list gone, long lines wrapped inside the conversation);
# back at 100x30 the screen is the same as before the resize, with no
# fragment of the small layout left over.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

say "start chatd; alice and bob in lobby; a few messages, one long"
nx_start_chatd
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby --topic "resize me"
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
for i in 1 2 3; do nx_say_id bob say lobby "short line $i"; done
nx_say_id bob say lobby "a long line that has to wrap when the terminal is narrow: alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa"

tui_start alice 100 30
tui_wait 15 '\[connected' "connected at 100x30"
tui_wait 10 'Members \(2\)' "member list shown"
tui_wait 10 'short line 3' "messages shown"
sleep_until_stable() { # the screen stops changing (two equal captures 0.2 s apart)
	s_prev="" s_end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -lt "$s_end" ]; do
		s_now=$(tui_screen | sed '$d' | sed '$d')
		[ -n "$s_prev" ] && [ "$s_now" = "$s_prev" ] && return 0
		s_prev=$s_now
		sleep 0.2
	done
}
sleep_until_stable
tui_screen >"$T/before.txt"

# check_layout FILE COLS ROWS LEFT SEP2: every row where it belongs.
check_layout() {
	python3 - "$@" <<'PY' || { cat "$1"; fail "layout at $2x$3 is not clean"; }
import sys
path, cols, rows, left, right = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lines = open(path, encoding="utf-8").read().split("\n")[:rows]
lines += [""] * (rows - len(lines))
errs = []
if len(lines) != rows: errs.append("%d rows" % len(lines))
if not lines[0].startswith(" #lobby"): errs.append("row 0 is not the title: %r" % lines[0])
if not lines[rows - 2].startswith(" [alice] [connected"): errs.append("status row: %r" % lines[rows - 2])
if not lines[rows - 1].startswith("[lobby]"): errs.append("input row: %r" % lines[rows - 1])
for y in range(1, rows - 2):
    l = lines[y]
    if len(l) > cols: errs.append("row %d wider than %d" % (y, cols))
    if left and (len(l) <= left or l[left] != "\u2502"): errs.append("row %d: no separator at %d: %r" % (y, left, l))
    if right and (len(l) <= right or l[right] != "\u2502"): errs.append("row %d: no separator at %d: %r" % (y, right, l))
    if not right and "\u2502" in l[left + 1:]: errs.append("row %d: stray separator: %r" % (y, l))
text = "\n".join(lines)
if not right and "Members" in text: errs.append("member list still shown")
for w in ["short line 1", "short line 3", "papa"]:
    if text.count(w) != 1: errs.append("%r shown %d times" % (w, text.count(w)))
if errs:
    print("\n".join(errs)); sys.exit(1)
PY
	ok "layout at $2x$3: title, separators, status and input rows in place"
}
check_layout "$T/before.txt" 100 30 20 81

say "resize to 60x20"
tui_resize 60 20
wait_for 10 sh -c "[ \"\$(tmux -L $TUI_SOCK display-message -p -t 0 '#{pane_width}x#{pane_height}')\" = 60x20 ]" ||
	fail "tmux did not resize the pane"
tui_wait 10 '^ #lobby' "title after the resize"
sleep_until_stable
tui_screen >"$T/small.txt"
check_layout "$T/small.txt" 60 20 16 0
grep -q 'papa' "$T/small.txt" && grep -q 'long line' "$T/small.txt" ||
	{ cat "$T/small.txt"; fail "the long line is not wrapped into view"; }
ok "the long line wraps inside the conversation"

say "resize back to 100x30"
tui_resize 100 30
wait_for 10 sh -c "[ \"\$(tmux -L $TUI_SOCK display-message -p -t 0 '#{pane_width}x#{pane_height}')\" = 100x30 ]" ||
	fail "tmux did not resize the pane back"
tui_wait 10 'Members \(2\)' "member list back"
sleep_until_stable
tui_screen >"$T/after.txt"
check_layout "$T/after.txt" 100 30 20 81
# The status line (latency) may change between captures: compare the rest.
if ! diff "$T/before.txt" "$T/after.txt" | grep -v '^[<>] \[alice\] \[connected' |
	grep '^[<>]' >"$T/diff.txt"; then
	:
fi
if [ -s "$T/diff.txt" ]; then
	cat "$T/diff.txt"
	fail "the screen after resizing back differs from the one before"
fi
ok "the screen after resizing back is the same as before"

say "a narrow terminal keeps working: type at 60x20"
tui_resize 60 20
tui_wait 10 '^\[lobby\]' "input line"
tui_type "typed while narrow"
tui_wait 10 '<alice> typed while narrow' "the line is sent and shown"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"

say "NO_COLOR: attributes only, no colour"
tui_start alice 100 30 NO_COLOR=1
tui_wait 15 '\[connected' "connected with NO_COLOR set"
tmux -L "$TUI_SOCK" capture-pane -p -e -t 0 >"$T/nocolor.txt"
if grep -Eq "$(printf '\033')\[([34][0-7]|38;5|48;5)" "$T/nocolor.txt"; then
	cat -v "$T/nocolor.txt" | head -5
	fail "colours drawn although NO_COLOR is set"
fi
grep -q "$(printf '\033')\[1m" "$T/nocolor.txt" || fail "no bold attribute either"
ok "no colour escapes, bold still used"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"
