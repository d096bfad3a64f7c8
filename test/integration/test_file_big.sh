#!/bin/sh
# A 1 GiB push and pull with matching SHA-256, and filed's memory: its RSS
# stays under 64 MiB while a multi-GiB stream goes through (sampled every
# 0.2 s). FILE_BIG_MB (1024) and FILE_STREAM_MB (2048) set the sizes
# (256 MiB each in a sanitizer build).
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }
BIG_MB=${FILE_BIG_MB:-1024}
STREAM_MB=${FILE_STREAM_MB:-2048}
# Under ASan (make test SAN=1, the suite's second pass, about ten times
# slower per byte here) the sizes check correctness, not scale: 256 MiB
# each, and memory says nothing about filed's own then.
if nx_sanitized; then
	BIG_MB=${FILE_BIG_MB:-256}
	STREAM_MB=${FILE_STREAM_MB:-256}
fi
RSS_LIMIT_KB=$((64 * 1024))

nx_start_chatd
nx_start_filed
nx_account alice

# Sample filed's RSS into $T/rss until it is gone.
( while kill -0 "$FILED_PID" 2>/dev/null; do nx_rss_kb "$FILED_PID"; sleep 0.2; done ) >"$T/rss" &
SAMPLER=$!
PIDS="$PIDS $SAMPLER"

say "$BIG_MB MiB: push, pull, SHA-256 end to end"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$T/big.bin"
SUM=$(nx_sha "$T/big.bin")
t0=$(date +%s.%N)
nx_expect 0 "push $BIG_MB MiB" nexus_as alice push "$T/big.bin" --json
cp "$T/out" "$T/push.json"
[ "$(nx_json_get "$T/push.json" sha256)" = "$SUM" ] || fail "push: server hash differs from sha256sum"
[ "$(nx_json_get "$T/push.json" size)" = $((BIG_MB * 1024 * 1024)) ] || fail "push: size differs"
ok "pushed in $(nx_json_get "$T/push.json" seconds) s (+ hashing: $(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}') s total)"
nx_expect 0 "pull $BIG_MB MiB" nexus_as alice pull "$(nx_json_get "$T/push.json" link)" -o "$T/big.back" --json
[ "$(nx_sha "$T/big.back")" = "$SUM" ] || fail "pulled file's sha256 differs"
ok "pulled in $(nx_json_get "$T/out" seconds) s, sha256 $SUM"
rm -f "$T/big.back"

say "$STREAM_MB MiB from stdin: filed's RSS stays flat"
head -c $((STREAM_MB * 1024 * 1024)) /dev/zero | nexus_as alice push - --name zeros --json >"$T/out" 2>"$T/err" ||
	{ nx_show; fail "stdin push of $STREAM_MB MiB"; }
[ "$(nx_json_get "$T/out" size)" = $((STREAM_MB * 1024 * 1024)) ] || fail "stream size differs"
max=$(sort -n "$T/rss" | tail -n 1)
n=$(wc -l <"$T/rss")
if nx_sanitized; then
	ok "RSS peak ${max} kB over $n samples (sanitizer build: not checked)"
else
	[ "$max" -lt "$RSS_LIMIT_KB" ] || fail "filed's RSS reached $max kB (limit $RSS_LIMIT_KB)"
	ok "filed RSS peak ${max} kB over $n samples (limit $RSS_LIMIT_KB kB)"
fi
nx_expect 0 "rm the big files" nexus_as alice rm "$(nx_json_get "$T/push.json" id)"
echo PASS
