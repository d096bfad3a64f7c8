#!/bin/sh
# Token revocation (common/revoke.h): chatd, filed, audiod and videod share
# one state folder. An admin resets alice's password: her cached token is
# refused by filed (push, files), audiod (talk), videod (call) and chatd
# (whoami), and her open tail (chatd), talk (audiod) and call (videod: she
# leaves the call and her event stream gets "revoked", then ends) are ended; bob's
# token still works. A login
# with the new password works everywhere at once. Removing bob ends his
# token the same way (and bob added again can log in). The offline
# `chatd passwd` revokes too, and chatd's sweep ends her open tail. A damaged token.revoked fails closed, with
# a log line naming the file and line, and works again once repaired.
. test/lib/common.sh
. test/lib/audio.sh
nx_need_bins
for b in filed audiod videod; do
	[ -x "$BUILD/$b" ] || { echo "FAIL: $BUILD/$b not built (make builds every daemon)"; exit 1; }
done

say "chatd, filed, audiod and videod on one state folder; boss is an admin"
mkdir -p "$T/state"
echo "pw-boss-secret" | "$BUILD/chatd" -s "$T/state" adduser boss --admin >/dev/null ||
	fail "chatd adduser boss --admin"
nx_start_chatd
nx_start_filed
nx_start_audiod
nx_start_videod -o videod.session_timeout=3600
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
head -c 300000 /dev/urandom >"$T/a.bin"
# one second of a quiet 440 Hz tone for nexus talk --in
python3 - "$T/tone.wav" <<'EOF'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 48000)))
                       for i in range(48000)))
w.close()
EOF

# works USER DESC: USER's cached token works on all four daemons.
works() {
	NX_NO_PASSWORD=1 nx_expect 0 "$2: $1 whoami (chatd)" nexus_as "$1" whoami
	NX_NO_PASSWORD=1 nx_expect 0 "$2: $1 push (filed)" nexus_as "$1" push "$T/a.bin" --name "$1-$3.bin"
	NX_NO_PASSWORD=1 nx_expect 0 "$2: $1 files (filed)" nexus_as "$1" files
	NX_NO_PASSWORD=1 nx_expect 0 "$2: $1 talk (audiod)" nexus_as "$1" talk lobby --in "$T/tone.wav" \
		--out /dev/null --duration 1
	NX_NO_PASSWORD=1 nx_expect 0 "$2: $1 call --once (videod)" nexus_as "$1" call lobby --once
}

# refused USER DESC: USER's cached token is refused by all four, exit 4
# with a sentence that says to log in.
refused() {
	NX_NO_PASSWORD=1 nx_expect 4 "$2: $1 whoami refused by chatd" nexus_as "$1" whoami
	nx_err_has "log ?in|invalid" "chatd's refusal"
	NX_NO_PASSWORD=1 nx_expect 4 "$2: $1 push refused by filed" nexus_as "$1" push "$T/a.bin" --name x.bin
	nx_err_has "log ?in|invalid" "filed's refusal (push)"
	NX_NO_PASSWORD=1 nx_expect 4 "$2: $1 files refused by filed" nexus_as "$1" files
	nx_err_has "log ?in|invalid" "filed's refusal (files)"
	NX_NO_PASSWORD=1 nx_expect 4 "$2: $1 talk refused by audiod" nexus_as "$1" talk lobby \
		--in "$T/tone.wav" --out /dev/null --duration 1
	nx_err_has "log ?in|invalid" "audiod's refusal"
	NX_NO_PASSWORD=1 nx_expect 4 "$2: $1 call refused by videod" nexus_as "$1" call lobby --once
	nx_err_has "log ?in|not valid|invalid" "videod's refusal"
}

# vd_call USER ROOM OUT: USER joins ROOM's call through videod's signalling
# API (as the page does, with the cached token) and holds its event stream
# open; "id PEER" and then the stream's lines go to OUT as they come, and
# "end" when videod ends the stream.
vd_call() {
	python3 -u -c 'import http.client, json, ssl, sys
port, token, room, out = sys.argv[1:5]
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
h = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
o = open(out, "w", buffering=1)
con = http.client.HTTPSConnection("127.0.0.1", int(port), context=c, timeout=600)
con.request("POST", "/api/join", json.dumps({"room": room}), h)
r = con.getresponse()
body = r.read()
if r.status != 200:
    o.write("join %d %s\n" % (r.status, body.decode())); sys.exit(1)
pid = json.loads(body)["id"]
o.write("id %s\n" % pid)
con.request("GET", "/api/events?id=" + pid, headers=h)
r = con.getresponse()
o.write("events %d\n" % r.status)
for line in r:
    o.write(line.decode())
o.write("end\n")' "$VD_PORT" "$(awk '{print $2}' "$T/cfg/$1/tokens/"*)" "$2" "$3" &
	PIDS="$PIDS $!"
	CALL_PID=$!
}

# The cached tokens of USER, kept aside to put back later.
save_tokens() { rm -rf "$T/tok-$1" && cp -r "$T/cfg/$1/tokens" "$T/tok-$1"; }
restore_tokens() { rm -rf "$T/cfg/$1/tokens" && cp -r "$T/tok-$1" "$T/cfg/$1/tokens"; }

say "before: alice's and bob's tokens work everywhere"
works alice "before" 1
works bob "before" 1
save_tokens alice
[ ! -e "$T/state/token.revoked" ] || fail "a revocation list before any revocation"
nx_talk alicetalk alice lobby --listen --out /dev/null --duration 300
ALICE_TALK=$TALK_PID
nx_talk_joined alicetalk
nx_tail_start alice lobby
ALICE_TAIL=$TAIL_PID
nx_say_id bob say lobby "are you there"
nx_wait_grep 20 "$T/tail-alice-lobby.out" "are you there" "alice's tail is attached"
vd_call alice lobby "$T/alice-call.out"
ALICE_CALL=$CALL_PID
nx_wait_grep 30 "$T/alice-call.out" "^event: state" "alice is in lobby's call (event stream open)"
NX_EXEC=1 NX_NO_PASSWORD=1 nexus_as bob call lobby --watch-only --json >"$T/watch.out" 2>"$T/watch.err" &
PIDS="$PIDS $!"
BOB_WATCH=$!
nx_wait_grep 30 "$T/watch.out" '"user": ?"alice"' "bob's call watch lists alice"

say "boss resets alice's password"
nx_expect 0 "boss: reset alice's password" rawclient req boss pw-boss-secret USER_ADMIN \
	user=alice count=3 secret=pw-alice-new
[ -f "$T/state/token.revoked" ] || fail "no $T/state/token.revoked after a reset"
[ "$(stat -c %a "$T/state/token.revoked")" = 640 ] ||
	fail "token.revoked has mode $(stat -c %a "$T/state/token.revoked"), not 640"
grep -Eq '^alice [0-9]{13}$' "$T/state/token.revoked" ||
	{ cat "$T/state/token.revoked"; fail "token.revoked has no line for alice"; }
ok "token.revoked (0640) stamps alice: $(grep '^alice' "$T/state/token.revoked")"
ls "$T/state" | grep -q 'token.revoked.tmp' && fail "a temporary file was left behind"

say "alice's open tail is ended by chatd"
wait_for 30 sh -c "! kill -0 $ALICE_TAIL" || fail "alice's tail still runs after the reset"
wait "$ALICE_TAIL"
TAIL_RC=$?
nx_forget_pid "$ALICE_TAIL"
cat "$T/tail-alice-lobby.err"
[ "$TAIL_RC" = 4 ] || fail "alice's tail exited $TAIL_RC after the reset, expected 4"
ok "alice's tail exited 4"

say "alice's voice session is ended by audiod (its revocation sweep)"
wait_for 60 sh -c "! kill -0 $ALICE_TALK" || fail "alice's talk still runs after the reset"
wait "$ALICE_TALK"
TALK_RC=$?
nx_forget_pid "$ALICE_TALK"
cat "$T/alicetalk.err"
[ "$TALK_RC" = 4 ] || fail "alice's talk exited $TALK_RC after the reset, expected 4"
grep -q "alice: login revoked" "$T/audiod.log" ||
	fail "audiod did not log that it ended alice's session"
ok "alice's talk exited 4: audiod closed it"

say "alice's call is ended by videod (its revocation sweep): she leaves, her stream is told"
nx_wait_grep 60 "$T/alice-call.out" "^end" "videod ended alice's event stream"
cat "$T/alice-call.out" | grep -v '^data: {"participants' | tail -n 5
grep -q "^event: revoked" "$T/alice-call.out" || fail "alice's event stream got no revoked event"
grep -A1 "^event: revoked" "$T/alice-call.out" | grep -q "log in again" ||
	fail "the revoked event does not say to log in again"
wait "$ALICE_CALL"
nx_forget_pid "$ALICE_CALL"
grep -q "alice: login revoked" "$T/videod.log" || fail "videod did not log that it ended alice's call"
grep -q "alice left call lobby (.*: login revoked)" "$T/videod.log" ||
	fail "videod did not take alice out of the call"
wait_for 30 sh -c "tail -n 1 '$T/watch.out' | grep -Eq '\"participants\": ?\[\]'" ||
	{ cat "$T/watch.out"; fail "bob's call watch still lists alice"; }
ok "bob's call watch saw alice leave: $(tail -n 1 "$T/watch.out")"
nx_kill "$BOB_WATCH"

say "alice's old token is refused everywhere; bob's still works"
refused alice "after the reset"
NX_NO_PASSWORD=1 nx_expect 0 "bob is untouched: push" nexus_as bob push "$T/a.bin" --name b2.bin
grep -q "revocation" "$T/filed.log" "$T/audiod.log" "$T/videod.log" &&
	{ grep "revocation" "$T"/*.log; fail "a daemon complained about a healthy list"; }

say "alice logs in with the new password: everything works at once"
NEXUS_PASSWORD=pw-alice-new nx_expect 0 "alice: login (new password)" nexus_as alice login
works alice "after a new login" 2
nx_expect 4 "the old password is refused" nexus_as alice login

say "boss removes bob"
save_tokens bob
nx_expect 0 "boss: remove bob" rawclient req boss pw-boss-secret USER_ADMIN user=bob count=2
grep -Eq '^bob [0-9]{13}$' "$T/state/token.revoked" || fail "token.revoked has no line for bob"
refused bob "after the removal"
NX_NO_PASSWORD=1 nx_expect 0 "alice is untouched: files" nexus_as alice files

say "bob added again is a new account: his new login works, the old token does not"
nx_expect 0 "boss: add bob" rawclient req boss pw-boss-secret USER_ADMIN user=bob count=1 \
	secret=pw-bob-again
NEXUS_PASSWORD=pw-bob-again nx_expect 0 "bob: login" nexus_as bob login
NX_NO_PASSWORD=1 nx_expect 0 "bob (again): push" nexus_as bob push "$T/a.bin" --name b3.bin
restore_tokens bob
NX_NO_PASSWORD=1 nx_expect 4 "the removed account's token stays refused" nexus_as bob files

say "offline: chatd passwd alice, while the daemons run (and her tail)"
save_tokens alice
nx_tail_start alice lobby
ALICE_TAIL=$TAIL_PID
NX_NO_PASSWORD=1 nx_say_id alice say lobby "still there"
nx_wait_grep 20 "$T/tail-alice-lobby.out" "still there" "alice's new tail is attached"
echo "pw-alice-third" | "$BUILD/chatd" -s "$T/state" passwd alice >"$T/out" 2>"$T/err" ||
	{ nx_show; fail "chatd passwd alice"; }
wait_for 60 sh -c "! kill -0 $ALICE_TAIL" || fail "alice's tail still runs after chatd passwd"
wait "$ALICE_TAIL"
TAIL_RC=$?
nx_forget_pid "$ALICE_TAIL"
[ "$TAIL_RC" = 4 ] || fail "alice's tail exited $TAIL_RC after chatd passwd, expected 4"
grep -q "alice: login revoked" "$T/chatd.log" || fail "chatd did not log that it ended alice's session"
ok "chatd's revocation sweep ended alice's tail (exit 4)"
NX_NO_PASSWORD=1 nx_expect 4 "filed refuses alice's token after chatd passwd" \
	nexus_as alice push "$T/a.bin" --name y.bin
NX_NO_PASSWORD=1 nx_expect 4 "chatd refuses it too" nexus_as alice whoami
NEXUS_PASSWORD=pw-alice-third nx_expect 0 "alice: login (third password)" nexus_as alice login
NX_NO_PASSWORD=1 nx_expect 0 "filed accepts the new token" nexus_as alice files

say "a damaged list fails closed, with a line naming it; repaired, it works again"
cp "$T/state/token.revoked" "$T/revoked.good"
printf 'alice 12x\n' >>"$T/state/token.revoked"
NX_NO_PASSWORD=1 nx_expect 4 "filed refuses every token while the list is damaged" \
	nexus_as alice files
NX_NO_PASSWORD=1 nx_expect 4 "audiod too" nexus_as alice talk lobby --in "$T/tone.wav" \
	--out /dev/null --duration 1
nx_wait_grep 10 "$T/filed.log" "token.revoked:[0-9]+: damaged token revocation list" \
	"filed's log names the file and line"
[ "$(grep -c "damaged token revocation list" "$T/filed.log")" = 1 ] ||
	fail "filed logged the damaged list more than once"
cp "$T/revoked.good" "$T/state/token.revoked.new" && mv "$T/state/token.revoked.new" "$T/state/token.revoked"
NX_NO_PASSWORD=1 nx_expect 0 "repaired: filed accepts alice's token again" nexus_as alice files
nx_wait_grep 10 "$T/filed.log" "revocation list is readable again" "filed says it is readable again"
nx_expect 0 "a reset goes through with the repaired list" rawclient req boss pw-boss-secret \
	USER_ADMIN user=bob count=3 secret=pw-bob-fourth

for d in chatd filed audiod videod; do
	grep -Eq "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/$d.log" && fail "$d: sanitizer report"
done
ok "token revocation test done"
