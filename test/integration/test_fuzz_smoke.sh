#!/bin/sh
# Smoke test for the frame decoder (20 s) and videod's parsers (5 s each):
# fuzzing must find no crash
# (test/fuzz/run.sh exits non-zero when libFuzzer reports one).
set -u
if ! command -v clang >/dev/null 2>&1; then
	echo "FAIL: clang not installed (make test installs it)"
	exit 1
fi
if ! FUZZ_SECONDS=20 VIDEO_FUZZ_SECONDS=5 sh test/fuzz/run.sh; then
	echo "FAIL: the fuzzer found a crash or could not be built; see build/fuzz/crash-*"
	exit 1
fi
echo "ok: no crash in 20 seconds of fuzzing"
exit 0
