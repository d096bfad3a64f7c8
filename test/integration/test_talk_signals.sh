#!/bin/sh
# `nexus talk` stays a well-behaved process while it waits and when it is
# stopped. Real chatd and audiod over TLS, files for sound.
#
# 1. audiod is killed and restarted while chatd is stopped (SIGSTOP): the
#    kernel accepts talk's connection for a fresh room pass, chatd never
#    answers it. Meanwhile talk keeps playing (--out grows), takes SIGUSR1
#    (mute) and ends at once on SIGTERM; chatd's failure is said once for
#    the outage, and talk joins again once chatd is continued.
# 2. Job control with --ptt on a terminal, in an interactive shell in
#    tmux: Ctrl-Z lets go of the keys, erases the status line, gives the
#    shell a sane terminal and stops talk; fg brings back the raw keys and
#    the status line, and the space bar talks again; after bg the call
#    goes on without touching the terminal.
. test/lib/common.sh
. test/lib/audio.sh
. test/lib/tui.sh
nx_need_audio
tui_need

CHATD_STOPPED=0
# a failure while chatd is stopped: continue it, so that it can stop
trap '[ "$CHATD_STOPPED" = 1 ] && kill -CONT "$CHATD_PID" 2>/dev/null; tui_cleanup; nx_cleanup' EXIT

# pass_ports PID: local ports of PID's established connections to chatd.
pass_ports() {
	ss -Htnp state established "( dport = :$CHAT_PORT )" | grep "pid=$1," |
		awk '{ n = split($3, a, ":"); print a[n] }'
}
pass_pending() { [ -n "$(pass_ports "$1")" ]; }
# secs_since START: seconds since START (date +%s.%N), one decimal.
secs_since() { awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $1 }"; }
# under SECS LIMIT: SECS < LIMIT
under() { awk "BEGIN { exit !($1 < $2) }"; }

say "start chatd and audiod; alice, bob, carol in lobby"
nx_start_chatd
nx_start_audiod
for u in alice bob carol; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
# long enough for the whole test: --in is read at the pace of the clock
sox -n -r 48000 -c 1 -b 16 "$T/tone.wav" synth 240 sine 440 vol 0.3 || fail "cannot make a tone"

say "audiod killed and restarted while chatd is stopped (SIGSTOP)"
nx_talk al alice lobby --out "$T/al.wav"
A=$TALK_PID
nx_talk_joined al
nx_talk bo bob lobby --out "$T/bo.wav"
B=$TALK_PID
nx_talk_joined bo
kill -STOP "$CHATD_PID"
CHATD_STOPPED=1
kill -9 "$AUDIOD_PID"
wait "$AUDIOD_PID" 2>/dev/null
nx_forget_pid "$AUDIOD_PID"
nx_wait_grep 15 "$T/al.json" '"event":"reconnecting"' "alice says she is reconnecting"
nx_wait_grep 15 "$T/bo.json" '"event":"reconnecting"' "bob says he is reconnecting"
nx_start_audiod
wait_for 40 pass_pending "$A" || { cat "$T/al.err"; fail "alice's talk never asked chatd for a pass"; }
wait_for 40 pass_pending "$B" || { cat "$T/bo.err"; fail "bob's talk never asked chatd for a pass"; }
FIRST_PORT=$(pass_ports "$A")
ok "both talks wait for chatd's answer (connected, chatd stopped; alice from port $FIRST_PORT)"

S0=$(stat -c %s "$T/al.wav")
G0=$(date +%s.%N)
sleep 2
S1=$(stat -c %s "$T/al.wav")
GSECS=$(secs_since "$G0")
# 960 samples of 16 bits per 20 ms frame
FRAMES=$(((S1 - S0) / 1920))
echo "MEASURED: frames played into --out in $GSECS s while the pass request hangs: $FRAMES"
[ "$FRAMES" -ge 25 ] || fail "talk played $FRAMES frames in $GSECS s while waiting for chatd"
ok "talk keeps playing while chatd does not answer"

U0=$(date +%s.%N)
kill -USR1 "$A"
nx_wait_grep 20 "$T/al.json" '"event":"mute","room":"lobby","muted":true' "SIGUSR1 mutes alice"
USR1=$(secs_since "$U0")
echo "MEASURED: SIGUSR1 to the mute event while the pass request hangs: $USR1 s"
under "$USR1" 5 || fail "SIGUSR1 took $USR1 s (chatd's handshake timeout is 10 s)"

pass_pending "$B" || echo "note: bob's pass request is between two tries"
T0=$(date +%s.%N)
kill -TERM "$B"
nx_talk_wait "$B" bo
TERMS=$(secs_since "$T0")
echo "MEASURED: SIGTERM to exit while the pass request hangs: $TERMS s"
under "$TERMS" 5 || fail "SIGTERM took $TERMS s (chatd's handshake timeout is 10 s)"
ok "bob's talk ended at once, with exit 0"

say "chatd's silence is said once, talk keeps trying, and joins when chatd is back"
nx_wait_grep 30 "$T/al.err" 'cannot connect' "alice's talk says that chatd did not answer"
grep -q 'trying again until chatd answers' "$T/al.err" || { cat "$T/al.err"; fail "no word that talk keeps trying"; }
# a third try means the second one failed too, silently
PORTS=" $FIRST_PORT "
third_try() {
	for p in $(pass_ports "$A"); do
		case "$PORTS" in *" $p "*) ;; *) PORTS="$PORTS$p " ;; esac
	done
	[ "$(echo $PORTS | wc -w)" -ge 3 ]
}
wait_for 60 third_try || { cat "$T/al.err"; fail "talk stopped asking chatd (ports seen:$PORTS)"; }
ok "alice's talk is on its third try (ports$PORTS)"
N=$(grep -c 'cannot connect' "$T/al.err")
[ "$N" = 1 ] || { cat "$T/al.err"; fail "chatd's failure was printed $N times in one outage"; }
ok "chatd's failure was printed once for the outage"
grep -qi 'trust\|\[yes/no\]' "$T/al.err" && { cat "$T/al.err"; fail "talk asked something during the call"; }
kill -CONT "$CHATD_PID"
CHATD_STOPPED=0
wait_for 40 sh -c "[ \$(grep -c '\"event\":\"joined\"' '$T/al.json') -ge 2 ]" ||
	{ cat "$T/al.json" "$T/al.err"; fail "alice did not join again"; }
ok "alice joined again once chatd was continued"
kill -TERM "$A"
nx_talk_wait "$A" al
ok "alice's talk ended with exit 0"

say "Ctrl-Z and fg: carol talks with --ptt in an interactive shell"
TUI_N=$((TUI_N + 1))
TUI_SOCK="nxjob-$$-$TUI_N"
TUI_SOCKS="$TUI_SOCKS $TUI_SOCK"
tmux -L "$TUI_SOCK" -f /dev/null new-session -d -x 120 -y 24 \
	"env TERM=xterm-256color LANG=C.UTF-8 PS1='jobsh\$ ' \
	NEXUS_CONFIG_DIR='$T/cfg/carol' NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT=$CHAT_PORT \
	NEXUS_AUDIO_PORT=$AUDIO_PORT bash --norc --noprofile -i" || fail "cannot start tmux"
tui_wait 10 '^jobsh\$' "an interactive shell with job control"
tui_type "'$ROOT/$BUILD/nexus' talk lobby --ptt --json --in '$T/tone.wav' --out '$T/ptt.wav' >'$T/ptt.json'"
nx_wait_grep 15 "$T/ptt.json" '"event":"joined"' "carol joined with --ptt"
tui_wait 10 '\[listening\]' "the status line says listening"
CPID=$(pgrep -f -n "^$ROOT/$BUILD/nexus talk lobby --ptt") || fail "no pid for carol's talk"
tui_keys Enter
nx_wait_grep 5 "$T/ptt.json" '"event":"ptt","room":"lobby","talking":true' "Enter latches talking"
sleep 1
tui_keys C-z
nx_wait_grep 10 "$T/ptt.json" '"event":"ptt","room":"lobby","talking":false' "Ctrl-Z lets go of the keys"
tui_wait 10 'Stopped' "the shell says carol's talk stopped"
wait_for 10 sh -c "[ \"\$(cut -d' ' -f3 /proc/$CPID/stat)\" = T ]" || fail "carol's talk is not stopped"
ok "carol's talk is stopped (state T)"
[ "$(tui_count '\[(listening|talking|muted)\]')" = 0 ] || { tui_screen; fail "the status line was left on the screen"; }
ok "the status line was erased"
STOPPED_SENT=$(sed -n 's/.*"event":"ptt".*"talking":false,"sent":\([0-9]*\).*/\1/p' "$T/ptt.json" | tail -n 1)
tui_type "stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/TTY1/' | paste -sd' '"
tui_wait 10 '^TTY1icanon TTY1echo' "the shell has a sane terminal (icanon echo)"
sleep 1
grep -c '"event":"ptt"' "$T/ptt.json" >"$T/ptt.n"
tui_type fg
tui_wait 10 '\[listening\]' "fg: the status line is back"
sleep 1
[ "$(grep -c '"event":"ptt"' "$T/ptt.json")" = "$(cat "$T/ptt.n")" ] || fail "talking resumed by itself after fg"
i=0
while [ $i -lt 40 ]; do
	tui_keys -l ' '
	sleep 0.05
	i=$((i + 1))
done
wait_for 10 sh -c "[ \$(grep -c '\"talking\":false' '$T/ptt.json') -ge 2 ]" ||
	{ cat "$T/ptt.json"; fail "no release of the space bar after fg"; }
ok "the space bar talked and was let go after fg"
AFTER=$(sed -n 's/.*"event":"ptt".*"talking":false,"sent":\([0-9]*\).*/\1/p' "$T/ptt.json" | tail -n 1)
[ "$AFTER" -gt "$STOPPED_SENT" ] || { cat "$T/ptt.json"; fail "nothing was sent while space was held after fg"; }
echo "MEASURED: frames sent while space was held after fg: $((AFTER - STOPPED_SENT))"

say "Ctrl-Z, bg: the call goes on in the background without the terminal; fg again"
tui_keys C-z
wait_for 10 sh -c "[ \"\$(cut -d' ' -f3 /proc/$CPID/stat)\" = T ]" || fail "Ctrl-Z did not stop carol's talk"
tui_type bg
sleep 1
S0=$(stat -c %s "$T/ptt.wav")
sleep 2
S1=$(stat -c %s "$T/ptt.wav")
STATE=$(cut -d' ' -f3 "/proc/$CPID/stat")
[ "$STATE" != T ] || { tui_screen; fail "carol's talk stopped in the background (reading or changing the terminal)"; }
echo "MEASURED: frames played in 2 s in the background: $(((S1 - S0) / 1920))"
[ $(((S1 - S0) / 1920)) -ge 25 ] || fail "the call did not go on in the background"
ok "in the background the call goes on (state $STATE)"
[ "$(tui_count '\[(listening|talking|muted)\]')" = 0 ] || { tui_screen; fail "a status line was drawn in the background"; }
ok "no status line in the background"
tui_type fg
tui_wait 10 '\[listening\]' "fg again: the status line is back"
tui_keys ' '
tui_wait 5 '\[talking\]' "the space bar talks again"
kill -TERM "$CPID"
tui_type 'echo NEXUS-EXIT=$?'
tui_wait 10 'NEXUS-EXIT=0' "carol's talk ended with exit 0"
tui_type "stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/TTY2/' | paste -sd' '"
tui_wait 10 '^TTY2icanon TTY2echo' "the terminal was restored at the end"

audiod_alive "the signal tests"
say "all talk signal checks passed"
