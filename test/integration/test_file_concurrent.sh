#!/bin/sh
# Ten pushes at once all complete with their hashes; a client that stops
# reading (SIGSTOP in the middle of a pull) does not stall the transfers of
# others, and filed drops nobody else and stays small. FILE_CONC_MB (16)
# sets the size of each of the ten files.
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }
MB=${FILE_CONC_MB:-16}

nx_start_chatd
nx_start_filed
nx_account alice
nx_account bob

say "ten pushes at once"
i=1
while [ $i -le 10 ]; do
	head -c $((MB * 1024 * 1024 + i)) /dev/urandom >"$T/f$i.bin"
	i=$((i + 1))
done
PUSHES=""
i=1
while [ $i -le 10 ]; do
	NX_EXEC=1 nexus_as alice push "$T/f$i.bin" --json >"$T/p$i.out" 2>"$T/p$i.err" &
	PUSHES="$PUSHES $!"
	PIDS="$PIDS $!"
	i=$((i + 1))
done
i=1
for p in $PUSHES; do
	wait "$p" || { cat "$T/p$i.err"; fail "push $i of 10 failed"; }
	nx_forget_pid "$p"
	[ "$(nx_json_get "$T/p$i.out" sha256)" = "$(nx_sha "$T/f$i.bin")" ] || fail "push $i: sha256 differs"
	i=$((i + 1))
done
nx_expect 0 "alice: files --json" nexus_as alice files --json
[ "$(grep -c '"name"' "$T/out")" = 10 ] || { nx_show; fail "expected 10 files"; }
ok "10 concurrent pushes stored with matching hashes"

say "a client that stops reading does not stall the others"
head -c $((MB * 8 * 1024 * 1024)) /dev/urandom >"$T/slow.bin"
nx_expect 0 "alice: push the big one" nexus_as alice push "$T/slow.bin" --json
SLOW=$(nx_json_get "$T/out" link)
NX_EXEC=1 nexus_as alice pull "$SLOW" -o "$T/slow.back" >"$T/slow.out" 2>"$T/slow.err" &
STUCK=$!
PIDS="$PIDS $STUCK"
wait_for 30 test -s "$T/slow.back.part" || fail "the slow pull never started"
kill -STOP "$STUCK"
ok "pulling client $STUCK stopped after $(stat -c %s "$T/slow.back.part") bytes"
sleep 1
t0=$(date +%s)
nx_expect 0 "bob: push while alice's pull is stuck" nexus_as bob push "$T/f1.bin" --name other.bin --json
L=$(nx_json_get "$T/out" link)
nx_expect 0 "bob: pull while alice's pull is stuck" nexus_as bob pull "$L" -o "$T/other.back"
cmp -s "$T/f1.bin" "$T/other.back" || fail "bob's copy differs"
nx_expect 0 "alice: another pull of her own while one is stuck" nexus_as alice pull \
	"$(nx_json_get "$T/p2.out" link)" -o "$T/f2.back"
cmp -s "$T/f2.bin" "$T/f2.back" || fail "alice's second copy differs"
secs=$(($(date +%s) - t0))
[ $secs -lt 60 ] || fail "the other transfers took $secs s"
ok "others finished in $secs s while one reader was stopped"
rss=$(nx_rss_kb "$FILED_PID")
nx_sanitized || [ "$rss" -lt 65536 ] || fail "filed's RSS is $rss kB with a stuck reader"
kill -CONT "$STUCK"
wait "$STUCK" || fail "the stopped pull failed after it was continued"
nx_forget_pid "$STUCK"
cmp -s "$T/slow.bin" "$T/slow.back" || fail "the resumed slow pull differs"
ok "the stopped pull completed once continued; filed RSS $rss kB"
kill -0 "$FILED_PID" || fail "filed died"
echo PASS
