#!/bin/sh
# `nexus talk` stays a well-behaved process while it waits for chatd. Real
# chatd and audiod over TLS, files for sound.
#
# 1. audiod is killed and restarted while chatd is stopped (SIGSTOP): the
#    kernel accepts talk's connection for a fresh room pass, chatd never
#    answers it. Meanwhile talk keeps playing (--out grows), takes SIGUSR1
#    (mute) and ends at once on SIGTERM; chatd's failure is said once for
#    the outage, and talk joins again once chatd is continued.
. test/lib/common.sh
. test/lib/audio.sh
nx_need_audio

CHATD_STOPPED=0
# a failure while chatd is stopped: continue it, so that it can stop
trap '[ "$CHATD_STOPPED" = 1 ] && kill -CONT "$CHATD_PID" 2>/dev/null; nx_cleanup' EXIT

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

say "start chatd and audiod; alice and bob in lobby"
nx_start_chatd
nx_start_audiod
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby

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

audiod_alive "the signal tests"
say "all talk signal checks passed"
