#!/bin/sh
# Builds the frame decoder fuzzer and runs it for FUZZ_SECONDS (default 60)
# over a corpus seeded from test/fuzz/seeds. Exits non-zero on a crash; the
# crashing input is left in build/fuzz/ (crash-*), replay it with
# build/fuzz/fuzz_frame FILE.
set -eu
cd "$(dirname "$0")/../.."
out=build/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-iquote common -D_GNU_SOURCE common/proto.c test/fuzz/fuzz_frame.c -o "$out/fuzz_frame"
cp test/fuzz/seeds/* "$out/corpus/"
"$out/fuzz_frame" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=20000 \
	-artifact_prefix="$out/" -print_final_stats=1 "$out/corpus"
