#!/bin/sh
# The voice benchmark (part of `make bench`): audiod alone on CPU 0, the
# load tool (test/bench/audio_bench.c) on CPU 1: one room, 4 talkers and a
# growing number of listeners; per step the tick cost, late or missed
# ticks, skipped frames and whether every listener got its 50 frames a
# second; then the largest count served in real time on one core, and the
# ceiling that one Opus encode per participant would set. Bounded: at most
# BENCH_AUDIO_COUNTS listeners (default "10 100 250 500 1000 1500 2000"),
# BENCH_AUDIO_SECS (5) seconds per step. Stops exactly what it started.
set -u
BUILD=${BUILD:-build}
COUNTS=${BENCH_AUDIO_COUNTS:-10 100 250 500 1000 1500 2000}
SECS=${BENCH_AUDIO_SECS:-5}
TALKERS=${BENCH_AUDIO_TALKERS:-4}
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
$PIN0 "$BUILD/audiod" -d -s "$T/state" -p "$PORT" -o common.bind=127.0.0.1 \
	-o audiod.max_sessions=20000 >"$T/audiod.log" 2>&1 &
APID=$!
i=0
until grep -q "listening on" "$T/audiod.log"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$T/audiod.log"; echo "audio bench: audiod did not start" >&2; exit 1; }
	sleep 0.1
done
echo
echo "== voice: audiod ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); audiod ${PIN0:+on CPU 0, load tool on CPU 1})"
# shellcheck disable=SC2086 # COUNTS is a list
$PIN1 "$BUILD/bench/audio_bench" "$PORT" "$T/state/token.key" "$TALKERS" "$SECS" $COUNTS
rc=$?
echo "audiod: $(grep -c 'slow reader' "$T/audiod.log") slow readers dropped; RSS $(awk '/^VmRSS/ {print $2, $3}' /proc/$APID/status)"
echo "(Janus AudioBridge side by side: not run; see README, Voice)"
exit $rc
