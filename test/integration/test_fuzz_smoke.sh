#!/bin/sh
# Smoke test of every fuzz target (test/fuzz/run.sh: frames, videod's STUN,
# RTP/RTCP, SDP, JSON and HTTP, tokens, token.revoked, the config, the
# client's frame handling and nexus:// links), 5 s each, about 2 minutes
# with the build: fuzzing must find no crash (run.sh exits non-zero when
# libFuzzer reports one). `make fuzz` runs each for FUZZ_SECONDS (60).
set -u
if ! command -v clang >/dev/null 2>&1; then
	echo "FAIL: clang not installed (make test installs it)"
	exit 1
fi
if ! FUZZ_SECONDS=5 sh test/fuzz/run.sh; then
	echo "FAIL: a fuzzer found a crash or could not be built; see ${BUILD:-build}/fuzz/*crash-*"
	exit 1
fi
echo "ok: no crash in 5 seconds of each fuzz target"
exit 0
