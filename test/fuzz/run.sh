#!/bin/sh
# Builds the frame decoder fuzzer and runs it for FUZZ_SECONDS (default 60)
# over a corpus seeded from test/fuzz/seeds. Exits non-zero on a crash; the
# crashing input is left in build/fuzz/ (crash-*), replay it with
# build/fuzz/fuzz_frame FILE. Then videod's parsers (STUN, RTP/RTCP, SDP,
# JSON bodies), each for VIDEO_FUZZ_SECONDS (default 20) from seeds_NAME/.
set -eu
cd "$(dirname "$0")/../.."
out=build/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-iquote common -D_GNU_SOURCE common/proto.c common/utf8.c test/fuzz/fuzz_frame.c -o "$out/fuzz_frame"
cp test/fuzz/seeds/* "$out/corpus/"
"$out/fuzz_frame" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=20000 \
	-artifact_prefix="$out/" -print_final_stats=1 "$out/corpus"

vd_src="videod/stun.c videod/rtp.c videod/sdp.c videod/api.c common/proto.c common/utf8.c common/str.c"
for t in stun rtp sdp json; do
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-iquote common -iquote videod -D_GNU_SOURCE $vd_src "test/fuzz/fuzz_$t.c" \
		-o "$out/fuzz_$t" -lcrypto -ljansson
	mkdir -p "$out/corpus_$t"
	cp "test/fuzz/seeds_$t"/* "$out/corpus_$t/"
	"$out/fuzz_$t" -max_total_time="${VIDEO_FUZZ_SECONDS:-20}" -max_len=65536 \
		-artifact_prefix="$out/$t-" -print_final_stats=1 "$out/corpus_$t"
done
