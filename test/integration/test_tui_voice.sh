#!/bin/sh
# Voice in the full-screen client: real chatd and audiod, alice in the
# client (tmux) with a private PulseAudio server as her microphone and
# speaker (test/lib/pulse.sh), bob with `nexus talk`. Alice types /talk in
# lobby: her status line says so; bob talks a sentence (espeak-ng): alice's
# member list marks bob in the voice room and, while he speaks, talking;
# the mark goes after. A sentence played into alice's microphone is in
# bob's recording; the mute key mutes her (bob is told, and hears nothing
# more). /talk in another room moves the voice; /hangup and quitting end
# it (bob sees her leave). With audiod stopped, /talk says why on the
# status line.
. test/lib/common.sh
. test/lib/tui.sh
. test/lib/audio.sh
. test/lib/pulse.sh
nx_need_audio
tui_need
pulse_need

# shot TITLE: the screen into the log.
shot() {
	echo "--- screen ($1):"
	tui_screen
	echo "---"
}

# the member list's line of USER ends with the mark MARK (the marks sit at
# the right edge of the panel, which is the right edge of the screen)
member_mark() { tui_has "[+~ ] $1 .*$2 *\$" || tui_has "[●◐○] $1 +$2 *\$"; }
member_no_marks() { tui_has "[●◐○] $1 *\$"; }

# the client's pid (the pane runs a shell whose child is nexus); its
# children `nexus talk` / `nexus call` (their argv starts "nexus SUB -s")
tui_client_pid() { pgrep -P "$(tmux -L "$TUI_SOCK" display -p -t 0 '#{pane_pid}')" -x nexus; }
child_of() { pgrep -P "$1" -f "^nexus $2 -s " >/dev/null; }
no_child_of() { ! child_of "$@"; }

say "speech"
nx_speech b "The quick brown fox jumps over the lazy dog near the river bank."
nx_speech a "Seven silver swans swam silently across the frozen lake at dawn." en+f3

say "start chatd and audiod; alice and bob in lobby"
nx_start_chatd
nx_start_audiod
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
pulse_start "$T/pulse"
TUI_ENV="NEXUS_AUDIO_PORT=$AUDIO_PORT PULSE_SERVER=$PULSE_SERVER"
ok "private PulseAudio server at $PULSE_SERVER (alice's microphone and speaker)"

say "alice opens the client (wide: the member list shows) and types /talk"
tui_start alice 120 30 $TUI_ENV
tui_wait 15 '\[connected' "status line says connected"
tui_wait 10 '^ #lobby' "lobby is open"
tui_wait 10 'Members \(2\)' "the member list shows alice and bob"
tui_type "/talk"
tui_wait 20 '\[voice: lobby\]' "the status line says alice talks in lobby"
wait_for 10 member_mark alice '♪' || { shot "no mark"; fail "alice is not marked in the voice room"; }
ok "alice is marked in the voice room"
shot "alice in voice"

say "bob talks a sentence: alice sees him join, talk and go quiet"
nx_talk bob1 bob lobby --in "$T/b.wav" --duration 9
B=$TALK_PID
nx_talk_joined bob1
wait_for 15 member_mark bob '(♪|♫)' || { shot "no bob"; fail "bob is not marked in the voice room"; }
ok "bob is marked in the voice room"
wait_for 15 member_mark bob '♫' || { shot "not talking"; fail "no talking mark while bob speaks"; }
ok "bob has the talking mark while he speaks"
shot "bob talking"
wait_for 20 member_mark bob '♪' || { shot "still talking"; fail "the talking mark stayed after bob's sentence"; }
ok "the talking mark went after bob's sentence (he is still in the voice room)"
nx_talk_wait "$B" bob1
wait_for 15 member_no_marks bob || { shot "bob left"; fail "bob's voice mark stayed after he left"; }
ok "bob's voice mark went when he left"
grep -q '"event":"member","room":"lobby","user":"alice"' "$T/bob1.json" ||
	fail "bob was not told that alice is in the voice room"
ok "bob's nexus talk saw alice in the voice room"

say "a sentence into alice's microphone reaches bob; then alice mutes"
nx_talk bob2 bob lobby --out "$T/bob2.wav" --duration 30
B=$TALK_PID
nx_talk_joined bob2
pulse_play "$T/a.wav"
wait_for 10 grep -q '"event":"talk","room":"lobby","user":"alice"' "$T/bob2.json" ||
	fail "bob was not told that alice talks"
ok "bob was told that alice talks"
tui_keys F4
tui_wait 10 '\[voice: lobby \(muted\)\]' "F4: the status line says muted"
nx_wait_grep 10 "$T/bob2.json" '"event":"mute","room":"lobby","user":"alice"' \
	"bob's nexus talk sees alice mute"
shot "alice muted"
kill -TERM "$B"
nx_talk_wait "$B" bob2
nx_expect_sim "bob's recording holds alice's sentence (her microphone)" 0.5 \
	"$T/a.wav" "$T/bob2.wav"
say "muted, alice sends nothing: bob hears no more of her"
nx_talk bob3 bob lobby --out "$T/bob3.wav" --duration 8
B=$TALK_PID
nx_talk_joined bob3
pulse_play "$T/a.wav"
nx_talk_wait "$B" bob3
RECV=$(talk_stat bob3 received)
echo "bob received $RECV frames while alice was muted"
[ "${RECV:-1}" -eq 0 ] || fail "bob received $RECV frames from a muted alice"
ok "bob received nothing while alice was muted"
tui_type "/mute"
tui_wait 10 '\[voice: lobby\]' "/mute again: unmuted"

say "/talk in another room moves the voice there"
tui_type "/create side"
tui_wait 10 '^ #side' "alice created side"
tui_type "/join lobby"
tui_wait 10 '^ #lobby' "lobby is shown again"
nx_talk bob4 bob lobby --duration 60
B=$TALK_PID
nx_talk_joined bob4
tui_type "/talk side"
tui_wait 20 '\[voice: side\]' "the status line says alice talks in side"
nx_wait_grep 15 "$T/bob4.json" '"event":"leave","room":"lobby","user":"alice"' \
	"bob (in lobby's voice) sees alice leave for side"
tui_type "/talk lobby"
tui_wait 20 '\[voice: lobby\]' "/talk lobby: back in lobby's voice"
nx_wait_grep 15 "$T/bob4.json" '"event":"join","room":"lobby","user":"alice"' \
	"bob sees alice come back"
kill -TERM "$B"
nx_talk_wait "$B" bob4

say "/hangup: bob sees alice leave"
nx_talk bob5 bob lobby --duration 60
B=$TALK_PID
nx_talk_joined bob5
CPID=$(tui_client_pid) || fail "no pid for alice's client"
child_of "$CPID" talk || fail "alice's client has no nexus talk child while she talks"
tui_type "/hangup"
nx_wait_grep 15 "$T/bob5.json" '"event":"leave","room":"lobby","user":"alice"' "bob sees alice leave"
wait_for 10 sh -c "! tmux -L '$TUI_SOCK' capture-pane -p -t 0 | grep -q '\[voice:'" ||
	{ shot "after hangup"; fail "the status line still shows the voice"; }
ok "the status line no longer shows the voice"
tui_wait 10 'left voice in lobby' "the room says alice left the voice"
wait_for 15 no_child_of "$CPID" talk || fail "a nexus talk child of the client is left after /hangup"
ok "no nexus talk child of the client is left after /hangup"
kill -TERM "$B"
nx_talk_wait "$B" bob5

say "quitting the client ends its voice"
nx_talk bob6 bob lobby --duration 60
B=$TALK_PID
nx_talk_joined bob6
tui_type "/talk"
nx_wait_grep 20 "$T/bob6.json" '"event":"join","room":"lobby","user":"alice"' "bob sees alice join"
CPID=$(tui_client_pid) || fail "no pid for alice's client"
child_of "$CPID" talk || fail "alice's client has no nexus talk child while she talks"
pgrep -f "^nexus talk -s 127\.0\.0\.1 -P $CHAT_PORT " >/dev/null ||
	fail "no nexus talk -s 127.0.0.1 -P $CHAT_PORT among the processes while alice talks"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "/quit exits 0"
# the client waited for its children before it exited: none is left,
# neither its child nor an orphan
pgrep -f "^nexus (talk|call) -s 127\.0\.0\.1 -P $CHAT_PORT " &&
	fail "a nexus talk or nexus call child of the client is left after /quit"
ok "no nexus talk or nexus call child of the client is left after /quit"
nx_wait_grep 15 "$T/bob6.json" '"event":"leave","room":"lobby","user":"alice"' \
	"bob sees alice leave when her client quits"
kill -TERM "$B"
nx_talk_wait "$B" bob6

say "audiod stopped: /talk says why"
tui_start alice 120 30 $TUI_ENV
tui_wait 15 '\[connected' "alice's client is back"
kill "$AUDIOD_PID"
wait "$AUDIOD_PID" 2>/dev/null
nx_forget_pid "$AUDIOD_PID"
tui_type "/talk"
tui_wait 30 '\[voice ended: .*(audio|audiod|reach|refused)' "the status line says why there is no voice"
shot "no audiod"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "/quit exits 0"
pulse_stop
ok "tui voice test done"
