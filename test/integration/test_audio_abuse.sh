#!/bin/sh
# audiod against broken and hostile clients, a stalled listener, and the
# admin's powers: malformed, oversized, non-Opus and too-fast frames are
# refused with a clear ERROR and the connection closed, forged passes are
# refused, a listener that stops reading misses frames without delaying the
# room, an admin mutes another talker and records the room to Ogg Opus.
. test/lib/common.sh
. test/lib/audio.sh
nx_need_audio

nx_speech a "The quick brown fox jumps over the lazy dog near the river bank."

say "start chatd and audiod; boss (admin), alice, bob, stuck"
nx_start_chatd
echo "pw-boss-secret" | "$BUILD/chatd" -s "$T/state" adduser boss --admin >/dev/null ||
	fail "chatd adduser boss --admin"
# A high bitrate and small buffers make a few seconds of stall overflow
# the kernel's socket buffers and reach audiod's own queue.
nx_start_audiod -o audiod.bitrate=128000 -o audiod.skip_outq=4096 -o audiod.sndbuf=4096
nexus_as boss trust --yes >/dev/null || fail "trust as boss"
nx_expect 0 "boss logs in" nexus_as boss login
for u in alice bob stuck; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
RSS0=$(nx_rss_kb "$AUDIOD_PID")

say "malformed, oversized and hostile frames"
audioraw abuse alice lobby >"$T/abuse.out" 2>&1 || { cat "$T/abuse.out"; fail "abuse cases"; }
grep -v "frames before close" "$T/abuse.out"
audiod_alive "the abuse cases"
grep -q "dropping alice@.*audio frames too fast" "$T/audiod.log" ||
	fail "audiod did not log why it dropped the flooding client"

say "a stalled listener does not delay the others"
NX_EXEC=1 audioraw stall stuck lobby 9 >"$T/stall.out" 2>&1 &
STALL=$!
PIDS="$PIDS $STALL"
nx_wait_grep 10 "$T/stall.out" "joined; not reading" "stuck joined and stopped reading"
nx_talk bob1 bob lobby --out "$T/bob1.wav" --duration 7
B=$TALK_PID
nx_talk_joined bob1
# a long talk: enough frames to fill the stalled listener's socket buffers
nx_talk alice1 alice lobby --in "$T/a.wav" --duration 5.5
A=$TALK_PID
nx_talk_wait "$A" alice1
nx_talk_wait "$B" bob1
# what matters here is that bob got every frame in time; fidelity is
# test_audio_talk's (a loaded machine lowers it for reasons of its own)
nx_expect_sim "bob heard alice while stuck did not read" 0.6 "$T/a.wav" "$T/bob1.wav"
BDELAY=$(talk_stat bob1 server_delay_us)
[ "$BDELAY" -lt 100000 ] || fail "bob's server-added delay grew to $BDELAY us"
ok "bob's server-added delay stayed at $((BDELAY / 1000)) ms"
RECEIVED=$(talk_stat bob1 received)
SENT=$(talk_stat alice1 sent)
[ "$RECEIVED" -ge $((SENT - 5)) ] || fail "bob received $RECEIVED frames of $SENT"
ok "bob received $RECEIVED frames of alice's $SENT"
STATS=$(audioraw stats alice lobby)
echo "audiod: $STATS"
SKIPPED=$(echo "$STATS" | sed -n 's/.*skipped=\([0-9]*\).*/\1/p')
LATE=$(echo "$STATS" | sed -n 's/.* late=\([0-9]*\).*/\1/p')
[ "${SKIPPED:-0}" -gt 0 ] || fail "the stalled listener missed no frames (skipped=$SKIPPED)"
ok "the stalled listener missed $SKIPPED frames; ticks over 20 ms: $LATE"
wait "$STALL"
nx_forget_pid "$STALL"
cat "$T/stall.out"
audiod_alive "the stalled listener"

say "the admin records the room while alice talks; then mutes and unmutes her"
nx_talk boss2 boss lobby --record --out /dev/null --duration 40
S=$TALK_PID
nx_talk_joined boss2
nx_wait_grep 10 "$T/boss2.json" '"event":"record".*"recording":true' "boss started recording"
nx_talk bob2 bob lobby --out /dev/null --duration 40
B=$TALK_PID
nx_talk_joined bob2
nx_talk alice2 alice lobby --in "$T/a.wav" --duration 40
A=$TALK_PID
nx_talk_joined alice2
sleep 4
nx_expect 6 "bob may not mute alice" audioraw mute bob lobby alice
grep -q "only an admin can mute others" "$T/out" || { nx_show; fail "no reason given"; }
nx_expect 0 "boss mutes alice" audioraw mute boss lobby alice
nx_wait_grep 10 "$T/alice2.json" '"event":"mute".*"user":"alice".*"text":"boss"' \
	"alice was told that boss muted her"
nx_expect 0 "boss unmutes alice" audioraw mute boss lobby alice 0
nx_wait_grep 10 "$T/bob2.json" '"event":"unmute".*"user":"alice"' "bob saw alice unmuted"
# SIGTERM ends a talk cleanly (exit 0)
kill -TERM "$S" "$B" "$A"
nx_talk_wait "$S" boss2
nx_talk_wait "$B" bob2
nx_talk_wait "$A" alice2
# the recording ends when the room empties; wait for its final name
wait_for 10 sh -c "ls '$T'/state/recordings/*.opus" ||
	{ ls -la "$T/state/recordings" 2>&1; fail "no recording in state/recordings"; }
REC=$(ls "$T"/state/recordings/*.opus | head -n 1)
ok "recording saved as $(basename "$REC")"
opusdec --quiet --rate 48000 "$REC" "$T/rec.wav" 2>/dev/null || fail "opusdec cannot read $REC"
nx_expect_sim "the recording holds alice's sentence" 0.8 "$T/a.wav" "$T/rec.wav"
nx_expect 6 "bob may not record" nexus_as bob talk lobby --record --out /dev/null --duration 1
audiod_alive "mute and record"
RSS1=$(nx_rss_kb "$AUDIOD_PID")
ok "audiod RSS $RSS0 kB before, $RSS1 kB after"
