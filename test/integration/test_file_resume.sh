#!/bin/sh
# Resume: kill -9 of filed in the middle of a push; after the restart the
# same command completes, sending only what filed had not made durable, and
# the hash matches. The same for a pull broken on the client side (kill -9
# of nexus): the next pull continues PATH.part. FILE_RESUME_MB sets the size
# (default 384).
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }
MB=${FILE_RESUME_MB:-384}
SIZE=$((MB * 1024 * 1024))
FOPTS="-o filed.sync_mb=8"

nx_start_chatd
nx_start_filed $FOPTS
nx_account alice
head -c "$SIZE" /dev/urandom >"$T/r.bin"
SUM=$(nx_sha "$T/r.bin")

# size FILE: bytes in FILE, 0 when missing.
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
tmp_size() {
	f=$(find "$T/state/files/tmp" -type f | head -n 1)
	[ -n "$f" ] && size "$f" || echo 0
}
durable() {
	python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("select coalesce(max(durable),0) from uploads").fetchone(); print(r[0])' \
		"$T/state/files/files.db"
}

say "push $MB MiB; kill -9 filed once a third has arrived"
NX_EXEC=1 nexus_as alice push "$T/r.bin" --json >"$T/p1.out" 2>"$T/p1.err" &
P=$!
PIDS="$PIDS $P"
wait_for 120 sh -c "[ \$(find '$T/state/files/tmp' -type f -size +$((MB / 3 * 1024))k | wc -l) -ge 1 ]" ||
	{ cat "$T/p1.err"; fail "the upload never reached a third of the file"; }
nx_stop_filed KILL
wait "$P"
rc=$?
nx_forget_pid "$P"
[ "$rc" = 3 ] || { cat "$T/p1.out" "$T/p1.err"; fail "the broken push exited $rc, expected 3 (network)"; }
D=$(durable)
ok "filed killed with $(tmp_size) bytes in the temporary file, $D durable; push exited 3: $(head -c 200 "$T/p1.err")"
[ "$D" -gt 0 ] || fail "nothing was durable after a third of the push (sync_mb=8)"

say "restart filed; the same push completes from the durable offset"
nx_start_filed $FOPTS
nx_expect 0 "alice: files lists nothing half-done" nexus_as alice files
[ ! -s "$T/out" ] || { nx_show; fail "a partial upload is visible as a file"; }
nx_expect 0 "alice: the same push" nexus_as alice push "$T/r.bin" --json
cp "$T/out" "$T/p2.json"
R=$(nx_json_get "$T/p2.json" resumed_from)
S=$(nx_json_get "$T/p2.json" sent)
[ "$R" = "$D" ] || fail "resumed at $R, but $D bytes were durable"
[ "$S" = $((SIZE - D)) ] || fail "sent $S bytes after the restart, expected only the missing $((SIZE - D))"
[ "$(nx_json_get "$T/p2.json" sha256)" = "$SUM" ] || fail "sha256 differs"
grep -q "push of \"r.bin\" ($SIZE bytes) resumed at $D" "$T/filed.log" || fail "filed did not log the resume at $D"
grep -q "stored \"r.bin\" as file [0-9]* ($SIZE bytes, $((SIZE - D)) received" "$T/filed.log" ||
	{ grep stored "$T/filed.log"; fail "filed received more than the missing part"; }
ok "resumed at $D of $SIZE; sent only the missing $S bytes; sha256 $SUM"
LINK=$(nx_json_get "$T/p2.json" link)
[ -z "$(find "$T/state/files/tmp" -type f)" ] || fail "a temporary file is left after the push"

say "pull, kill -9 the client once a third has arrived, pull again"
NX_EXEC=1 nexus_as alice pull "$LINK" -o "$T/r.back" --json >"$T/q1.out" 2>"$T/q1.err" &
P=$!
PIDS="$PIDS $P"
wait_for 120 sh -c "[ \$(stat -c %s '$T/r.back.part' 2>/dev/null || echo 0) -ge $((SIZE / 3)) ]" ||
	{ cat "$T/q1.err"; fail "the pull never reached a third"; }
kill -9 "$P"
wait "$P" 2>/dev/null
nx_forget_pid "$P"
HAVE=$(size "$T/r.back.part")
[ ! -e "$T/r.back" ] || fail "an unfinished pull is visible as $T/r.back"
[ "$HAVE" -lt "$SIZE" ] || fail "the pull had finished before the kill"
ok "client killed with $HAVE bytes in r.back.part"
nx_expect 0 "alice: the same pull" nexus_as alice pull "$LINK" -o "$T/r.back" --json
R=$(nx_json_get "$T/out" resumed_from)
G=$(nx_json_get "$T/out" received)
[ "$R" = "$HAVE" ] || fail "pull resumed at $R, the partial file had $HAVE"
[ "$G" = $((SIZE - HAVE)) ] || fail "received $G bytes, expected only the missing $((SIZE - HAVE))"
grep -q "pull of file [0-9]* \"r.bin\" from $HAVE" "$T/filed.log" || fail "filed did not start the pull at $HAVE"
[ "$(nx_sha "$T/r.back")" = "$SUM" ] || fail "the resumed pull's sha256 differs"
[ ! -e "$T/r.back.part" ] || fail "r.back.part left behind"
ok "pull resumed at $HAVE, received only $G bytes, sha256 matches"
echo PASS
