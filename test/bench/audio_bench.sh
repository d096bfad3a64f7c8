#!/bin/sh
# The voice benchmark (part of `make bench`): audiod alone on CPU 0, the
# load tool (test/bench/audio_bench.c) on CPU 1: one room, 4 talkers and a
# growing number of listeners; per step the tick cost, late or missed
# ticks, skipped frames and whether every listener got its 50 frames a
# second; then the largest count served in real time on one core, and the
# ceiling that one Opus encode per participant would set. Then Janus'
# AudioBridge (Debian's janus) in the same place under the same room shape,
# its participants plain RTP (test/bench/janus_bench.py). Bounded: at most
# BENCH_AUDIO_COUNTS listeners (default "10 100 250 500 1000 1500 2000"),
# BENCH_JANUS_COUNTS for Janus ("10 25 50 100"), BENCH_AUDIO_SECS (5)
# seconds per step. Stops exactly what it started.
set -u
BUILD=${BUILD:-build}
COUNTS=${BENCH_AUDIO_COUNTS:-10 100 250 500 1000 1500 2000}
SECS=${BENCH_AUDIO_SECS:-5}
TALKERS=${BENCH_AUDIO_TALKERS:-4}
JANUS_COUNTS=${BENCH_JANUS_COUNTS:-10 25 50 100}
JANUS_LIB=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/janus
T=$(mktemp -d "${TMPDIR:-/tmp}/nexus-audio-bench.XXXXXX")
APID=""
# shellcheck disable=SC2317 # called by trap
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$BUILD/audiod" ] || { echo "audio bench: $BUILD/audiod is not built" >&2; exit 1; }
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046 # pkg-config output is meant to split
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Werror -iquote common $(pkg-config --cflags opus) \
	-o "$BUILD/bench/audio_bench" test/bench/audio_bench.c "$BUILD/libnexus.a" \
	$(pkg-config --libs libevent libevent_openssl openssl libsystemd libargon2 opus) -lm ||
	{ echo "audio bench: cannot build audio_bench" >&2; exit 1; }

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -H -n)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PIN0="" PIN1=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN0="taskset -c 0" PIN1="taskset -c 1"; fi
# "Real time on one core" asks for a core of its own; on a shared machine
# the closest we get is a higher priority for the server under test (the
# same for audiod and Janus). Without it, other work on CPU 0 preempts the
# 20 ms clock and every count looks late.
if [ "$(id -u)" = 0 ]; then PIN0="$PIN0 nice -n -10"; fi
$PIN0 "$BUILD/audiod" -d -s "$T/state" -p "$PORT" -o common.bind=127.0.0.1 -o common.max_conns_per_addr=0 \
	-o audiod.max_sessions=20000 >"$T/audiod.log" 2>&1 &
APID=$!
i=0
until grep -q "listening on" "$T/audiod.log"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$T/audiod.log"; echo "audio bench: audiod did not start" >&2; exit 1; }
	sleep 0.1
done
echo
echo "== voice: audiod ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); audiod ${PIN0:+on CPU 0 ($PIN0), load tool on CPU 1})"
# shellcheck disable=SC2086 # COUNTS is a list
$PIN1 "$BUILD/bench/audio_bench" "$PORT" "$T/state/token.key" "$TALKERS" "$SECS" $COUNTS
rc=$?
echo "audiod: $(grep -c 'slow reader' "$T/audiod.log") slow readers dropped; RSS $(awk '/^VmRSS/ {print $2, $3}' /proc/$APID/status)"
kill "$APID" && wait "$APID" 2>/dev/null
APID=""

# ---- Janus AudioBridge (Debian's janus), the same room shape over plain RTP ----
if ! command -v janus >/dev/null || [ ! -e "$JANUS_LIB/plugins/libjanus_audiobridge.so" ]; then
	echo "(Janus AudioBridge side by side: janus is not installed; make bench installs it)"
	exit $rc
fi
J=$T/janus
mkdir -p "$J/plugins" "$J/transports" "$J/events" "$J/loggers"
ln -s "$JANUS_LIB/plugins/libjanus_audiobridge.so" "$J/plugins/"
ln -s "$JANUS_LIB/transports/libjanus_http.so" "$J/transports/"
JPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'general: {\n configs_folder = "%s"\n plugins_folder = "%s/plugins"\n transports_folder = "%s/transports"\n events_folder = "%s/events"\n loggers_folder = "%s/loggers"\n debug_level = 2\n admin_secret = "bench"\n}\nmedia: {\n rtp_port_range = "40000-49999"\n}\n' \
	"$J" "$J" "$J" "$J" "$J" >"$J/janus.jcfg"
printf 'general: {\n base_path = "/janus"\n http = true\n port = %s\n https = false\n ip = "127.0.0.1"\n}\nadmin: {\n admin_http = false\n}\n' \
	"$JPORT" >"$J/janus.transport.http.jcfg"
printf 'general: {\n}\nroom-4242: {\n description = "bench"\n sampling_rate = 48000\n allow_rtp_participants = true\n}\n' \
	>"$J/janus.plugin.audiobridge.jcfg"
$PIN0 janus -F "$J" -C "$J/janus.jcfg" >"$T/janus.log" 2>&1 &
APID=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $JPORT), 1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { tail "$T/janus.log"; echo "audio bench: janus did not start" >&2; exit 1; }
	sleep 0.1
done
espeak-ng --stdout "The quick brown fox jumps over the lazy dog near the river bank." 2>/dev/null |
	sox -t wav - -r 48000 -c 1 -b 16 "$T/speech.wav" &&
	opusenc --quiet --framesize 20 --bitrate 32 "$T/speech.wav" "$T/speech.opus" ||
	{ echo "audio bench: cannot make speech for Janus (espeak-ng, sox, opus-tools)" >&2; exit 1; }
echo
# shellcheck disable=SC2086 # JANUS_COUNTS is a list
JANUS_PID=$APID $PIN1 python3 test/bench/janus_bench.py "$JPORT" "$T/speech.opus" "$TALKERS" "$SECS" \
	$JANUS_COUNTS || rc=1
exit $rc
