#!/bin/sh
# Links and pulls that must not surprise, with the real chatd, filed and
# nexus over TLS: a push without --room/--to says its link is private and
# how to share it; someone else's pull of that link says "not shared with
# you" (6), not "no such file"; a pull never replaces a local file of the
# sender's chosen name (1) unless -o names the target or --force is given;
# the progress bar on a terminal shows the file's name.
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "skip: $BUILD/filed not built"; exit 77; }

say "start chatd and filed; alice and bob"
nx_start_chatd
nx_start_filed
nx_account alice
nx_account bob

say "a push with neither --room nor --to says the link is private"
head -c 300000 /dev/urandom >"$T/a.bin"
nx_expect 0 "alice: push a.bin" nexus_as alice push "$T/a.bin"
LINK=$(cat "$T/out")
printf '%s\n' "$LINK" | grep -Eq '^nexus://127\.0\.0\.1:[0-9]+/[a-z2-7]{26}$' ||
	{ nx_show; fail "push printed no link alone on stdout"; }
grep -q "private" "$T/err" && grep -q "nexus share LINK --room ROOM" "$T/err" ||
	{ nx_show; fail "push does not say the link is private and how to share it"; }
ok "push: $(cat "$T/err")"
nx_expect 0 "alice: push --json" nexus_as alice push "$T/a.bin" --json
[ "$(nx_json_get "$T/out" private)" = True ] || { nx_show; fail "--json lacks private: true"; }
[ ! -s "$T/err" ] || { nx_show; fail "push --json wrote to stderr"; }
nx_expect 0 "alice: push -q" nexus_as alice push "$T/a.bin" -q
[ ! -s "$T/err" ] || { nx_show; fail "push -q wrote to stderr"; }
nx_expect 0 "alice: push --room is not private" nexus_as alice create ops
nx_expect 0 "alice: push --room ops" nexus_as alice push "$T/a.bin" --room ops
! grep -q "private" "$T/err" || { nx_show; fail "a shared push says private"; }

say "bob's pull of alice's own link: not shared with you (6), nothing created"
nx_expect 6 "bob: pull alice's own link" nexus_as bob pull "$LINK" -o "$T/nope"
nx_err_has "not shared with you" "the refusal says not shared with you"
nx_err_has "alice" "and whose link it is"
! grep -qi "no such" "$T/err" || { nx_show; fail "still says no such file"; }
[ ! -e "$T/nope" ] && [ ! -e "$T/nope.part" ] || fail "a refused pull created a file"
nx_expect 5 "an unknown link is still not found (5)" nexus_as bob pull \
	"nexus://127.0.0.1:$FILE_PORT/aaaaaaaaaaaaaaaaaaaaaaaaaa"

say "a pull does not replace a local file of the sender's name"
mkdir -p "$T/dl"
printf 'mine\n' >"$T/dl/a.bin"
pull_in_dl() { (cd "$T/dl" && nexus_as alice pull "$@"); }
BUILD=$(cd "$BUILD" && pwd)
nx_expect 1 "alice: pull into a folder holding a.bin" pull_in_dl "$LINK"
nx_err_has "a\.bin exists already.*-o PATH.*--force" "the refusal names the file, -o and --force"
[ "$(cat "$T/dl/a.bin")" = mine ] || fail "the local file was replaced"
[ ! -e "$T/dl/a.bin.part" ] || fail "a refused pull left a .part file"
ok "a.bin kept"
nx_expect 0 "alice: pull --force replaces it" pull_in_dl "$LINK" --force
cmp -s "$T/a.bin" "$T/dl/a.bin" || fail "--force did not replace a.bin"
printf 'mine\n' >"$T/dl/other.bin"
nx_expect 0 "alice: pull -o names the target" pull_in_dl "$LINK" -o other.bin
cmp -s "$T/a.bin" "$T/dl/other.bin" || fail "-o did not write other.bin"
rm -f "$T/dl/a.bin"
nx_expect 0 "alice: pull where a.bin is missing" pull_in_dl "$LINK"
cmp -s "$T/a.bin" "$T/dl/a.bin" || fail "the pull did not write a.bin"
nx_expect 2 "--force is for pull" nexus_as alice push "$T/a.bin" --force

say "the progress bar on a terminal shows the file's name"
head -c 4000000 /dev/urandom >"$T/bar-name-shown.bin"
nx_expect 0 "alice: push bar-name-shown.bin" nexus_as alice push "$T/bar-name-shown.bin" -q
BLINK=$(cat "$T/out")
script -qec "env NEXUS_CONFIG_DIR='$T/cfg/alice' NEXUS_SERVER=127.0.0.1 \
	NEXUS_CHAT_PORT=$CHAT_PORT NEXUS_FILE_PORT=$FILE_PORT '$BUILD/nexus' pull '$BLINK' \
	-o '$T/bar.back'" "$T/typescript" >/dev/null 2>&1 </dev/null ||
	{ cat "$T/typescript"; fail "pull on a terminal"; }
cmp -s "$T/bar-name-shown.bin" "$T/bar.back" || fail "pull on a terminal: bytes differ"
grep -aq '%' "$T/typescript" || { cat -v "$T/typescript"; fail "no progress bar drawn"; }
grep -aq 'bar-name-shown\.bin *[0-9]*%' "$T/typescript" ||
	{ cat -v "$T/typescript"; fail "the progress bar does not show the file name"; }
ok "bar: $(tr '\r' '\n' <"$T/typescript" | grep -a '%' | head -n 1 | cat -v)"
kill -0 "$FILED_PID" || fail "filed died"
echo PASS
