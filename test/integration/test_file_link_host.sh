#!/bin/sh
# A link names its server: `nexus pull nexus://HOST:PORT/LINK` connects to
# HOST, not to the default server. Two suites with their own state and
# certificate: A on 127.0.0.1 (everyone's default) and B on 127.0.0.2.
# alice (logged in to both) pulls B's link with A as her default and gets
# B's bytes; carol, who never trusted B, is told to trust it (7); bob, who
# trusted B but has no login there, is told the command that logs in there
# (4); after that, a share made through B's link (by alice, from A's
# default) reaches bob through B.
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }

say "suite A on 127.0.0.1, suite B on 127.0.0.2 (own state, own certificate)"
nx_start_chatd
nx_start_filed
B_CHAT=$(nx_free_port)
B_FILE=$(nx_free_port)
mkdir -p "$T/stateB"
start_b() { # NAME PORT
	"$BUILD/$1" -d -s "$T/stateB" -p "$2" -o common.bind=127.0.0.2 >>"$T/$1-B.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 20 grep -q "listening on" "$T/$1-B.log" || { cat "$T/$1-B.log"; fail "$1 B did not start"; }
}
start_b chatd "$B_CHAT"
start_b filed "$B_FILE"
ok "B: chatd 127.0.0.2:$B_CHAT, filed 127.0.0.2:$B_FILE"
onb() { # USER ARGS...: nexus as USER against B
	n_u=$1
	shift
	nexus_as "$n_u" -s 127.0.0.2 -P "$B_CHAT" "$@"
}

for u in alice bob carol; do nx_account "$u"; done
nx_expect 0 "alice: trust B" onb alice trust --yes
nx_expect 0 "alice: register on B" onb alice register
nx_expect 0 "bob: trust B (no login there)" onb bob trust --yes

say "alice pushes a file to B; the link names B"
head -c 500000 /dev/urandom >"$T/on-b.bin"
head -c 500000 /dev/urandom >"$T/on-a.bin"
nx_expect 0 "alice: push on-b.bin to B" onb alice push "$T/on-b.bin" --file-port "$B_FILE" -q
BLINK=$(cat "$T/out")
printf '%s\n' "$BLINK" | grep -Eq "^nexus://127\.0\.0\.2:$B_FILE/[a-z2-7]{26}\$" ||
	{ nx_show; fail "the link does not name B"; }
nx_expect 0 "alice: push a file to A too" nexus_as alice push "$T/on-a.bin" -q
ok "B's link: $BLINK"

say "alice's default is A; the pull goes to B"
nx_expect 0 "alice: pull B's link (default A, NEXUS_FILE_PORT=A's)" nexus_as alice pull "$BLINK" -o "$T/got.bin"
cmp -s "$T/got.bin" "$T/on-b.bin" || fail "the pulled bytes are not B's file"
ok "pulled from 127.0.0.2, same bytes as B's file"
grep -q 'alice.*pull of file [0-9]* "on-b.bin"' "$T/filed-B.log" ||
	{ cat "$T/filed-B.log"; fail "B's filed saw no pull of on-b.bin"; }
! grep -q 'pull of file' "$T/filed.log" || { cat "$T/filed.log"; fail "A's filed saw a pull"; }

say "carol never trusted B: told to trust it (7)"
nx_expect 7 "carol: pull B's link" nexus_as carol pull "$BLINK" -o "$T/carol.bin"
nx_err_has "127\.0\.0\.2.*trust|trust.*127\.0\.0\.2" "the refusal names B and trust"
[ ! -e "$T/carol.bin" ] && [ ! -e "$T/carol.bin.part" ] || fail "a refused pull created a file"

say "bob trusted B but has no login there: told how to log in there (4)"
nx_expect 4 "bob: pull B's link" nexus_as bob pull "$BLINK" -o "$T/bob.bin"
nx_err_has "not logged in to 127\.0\.0\.2:$B_CHAT.*run: nexus -s [^ ]+.* login" "the refusal gives the login command for B"
LOGIN_CMD=$(sed -n 's/.*run: nexus \(.*\) login.*/\1/p' "$T/err")
# As a user would run it: no NEXUS_SERVER or NEXUS_CHAT_PORT around.
bob_plain() { env -u NEXUS_SERVER -u NEXUS_CHAT_PORT NEXUS_CONFIG_DIR="$T/cfg/bob" \
	NEXUS_PASSWORD=pw-bob-secret NEXUS_USER=bob "$BUILD/nexus" "$@"; }
nx_expect 0 "bob: register on B with the options the hint gave ($LOGIN_CMD)" bob_plain $LOGIN_CMD register
nx_expect 6 "bob: alice's own link on B is not shared with him" nexus_as bob pull "$BLINK" -o "$T/bob.bin"
nx_err_has "not shared with you" "B answered, not A"

say "alice shares B's link with bob (her default is A): the share is made on B"
nx_expect 0 "alice: share B's link --to bob" nexus_as alice share "$BLINK" --to bob
SLINK=$(head -n 1 "$T/out")
printf '%s\n' "$SLINK" | grep -q "^nexus://127\.0\.0\.2:$B_FILE/" || { nx_show; fail "the shared link does not name B"; }
nx_expect 0 "bob: pull the shared link" nexus_as bob pull "$SLINK" -o "$T/bob.bin"
cmp -s "$T/bob.bin" "$T/on-b.bin" || fail "bob's copy differs"
nx_expect 0 "bob: the notice is in his DM on B" onb bob history @alice
grep -qF "$SLINK" "$T/out" || { nx_show; fail "no notice on B"; }
ok "share, notice and pull all on B"
echo PASS
