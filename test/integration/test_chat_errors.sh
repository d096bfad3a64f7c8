#!/bin/sh
# Error paths and their exit codes: bad logins, missing/invalid/expired
# tokens, unknown rooms, changed server certificates, refused connections,
# closed registration, offline adduser, login rate limits, config errors and
# usage errors.
. test/lib/common.sh
nx_need_bins

# Many logins and registrations from 127.0.0.1 in a minute: lift the login
# rate except for the part that tests it.
LOGIN_OPTS="-o chatd.login_rate=1000"
say "start chatd, register alice and bob"
nx_start_chatd $LOGIN_OPTS
nx_account alice
nx_account bob
nx_expect 0 "alice: create lobby" nexus_as alice create lobby

say "wrong password"
NEXUS_PASSWORD=not-the-password nx_expect 4 "alice: login with a wrong password" nexus_as alice login
nx_err_has "password" "a sentence about the password"
nx_expect 0 "nobody-here: trust" nexus_as nobody-here trust --yes
NEXUS_PASSWORD=whatever-pw nx_expect 4 "login as an unknown user" nexus_as nobody-here login
nx_expect 0 "alice: login with the right password" nexus_as alice login
nx_expect 0 "alice: whoami" nexus_as alice whoami
grep -qw alice "$T/out" || { nx_show; fail "whoami does not say alice"; }

say "registration and login details"
nx_expect nonzero "registering alice again" nexus_as alice register
nx_err_has "exist|taken|already" "says the name is taken"
nx_expect 0 "frank: trust" nexus_as frank trust --yes
NEXUS_PASSWORD=abc nx_expect nonzero "register with a 3-character password" nexus_as frank register
nx_err_has "short|password|least|characters" "says the password is too short"
nx_expect nonzero "register a bad user name" nexus_as "bad name" register
nx_run rawclient req - - REGISTER "user=bad name" secret=long-enough-pw
[ "$RC" -ne 0 ] || { nx_show; fail "chatd itself registered the user name 'bad name'"; }
ok "chatd itself refuses REGISTER 'bad name': $(tail -n 1 "$T/out")"
nx_run rawclient req - - REGISTER user=frank secret=abc
[ "$RC" -ne 0 ] || { nx_show; fail "chatd itself registered frank with a 3-character password"; }
ok "chatd itself refuses a 3-character password: $(tail -n 1 "$T/out")"
printf 'pw-bob-secret\n' >"$T/bobpw"
NX_NO_PASSWORD=1 nx_expect 0 "bob: login --password-stdin" nexus_as bob login --password-stdin <"$T/bobpw"
nx_expect 0 "bob: logout" nexus_as bob logout
NX_NO_PASSWORD=1 nx_expect 4 "bob after logout: rooms" nexus_as bob rooms </dev/null
nx_err_has "nexus login|log ?in" "tells to log in"
nx_expect 0 "bob: login" nexus_as bob login

say "no token"
nx_expect 0 "zed: trust" nexus_as zed trust --yes
NX_NO_PASSWORD=1 nx_expect 4 "zed (never logged in, no password): rooms" nexus_as zed rooms
nx_err_has "nexus login|log ?in" "tells to log in"

say "unknown room"
nx_expect 5 "alice: join nosuchroom" nexus_as alice join nosuchroom
nx_err_has "not found|no such|no room|unknown|exist" "says the room does not exist"
nx_expect 5 "alice: history nosuchroom" nexus_as alice history nosuchroom

say "invalid token: restart chatd with a new token key"
nx_stop_chatd TERM
mv "$T/state/token.key" "$T/token.key.old"
nx_start_chatd $LOGIN_OPTS
[ -s "$T/state/token.key" ] || fail "chatd did not create a new token key"
cmp -s "$T/state/token.key" "$T/token.key.old" && fail "the new token key equals the old one"
NX_NO_PASSWORD=1 nx_expect 4 "alice with a token of the old key: rooms" nexus_as alice rooms
nx_err_has "invalid" "says the token is invalid"
nx_err_has "nexus login|log ?in" "tells to log in"
nx_expect 0 "alice: login again" nexus_as alice login
NX_NO_PASSWORD=1 nx_expect 0 "alice: rooms with the new token" nexus_as alice rooms

say "expired token, forged with the server's key"
TOKFILE=$(ls "$T/cfg/alice/tokens/"* 2>/dev/null | head -n 1)
[ -f "$TOKFILE" ] || fail "no token file under $T/cfg/alice/tokens"
ok "token file $(basename "$TOKFILE"): $(cut -d' ' -f1 "$TOKFILE") <token> $(cut -d' ' -f3 "$TOKFILE")"
cp "$TOKFILE" "$T/token.saved"
NOW=$(date +%s)
FUTURE=$((NOW + 86400))
PAST=$((NOW - 3600))
TOK=$(python3 "$ROOT/test/lib/rawclient.py" forge-token "$T/state/token.key" alice "$FUTURE") || fail "forge-token"
echo "alice $TOK $FUTURE" >"$TOKFILE"
NX_NO_PASSWORD=1 nx_expect 0 "a forged, unexpired token is accepted (the forging is right)" nexus_as alice rooms
TOK=$(python3 "$ROOT/test/lib/rawclient.py" forge-token "$T/state/token.key" alice "$PAST") || fail "forge-token"
echo "alice $TOK $FUTURE" >"$TOKFILE"
NX_NO_PASSWORD=1 nx_expect 4 "token expired an hour ago (the file claims tomorrow): rooms" nexus_as alice rooms
nx_err_has "expired" "says the token expired"
nx_err_has "nexus login|log ?in" "tells to log in"
echo "alice $TOK $PAST" >"$TOKFILE"
NX_NO_PASSWORD=1 nx_expect 4 "token and file both expired: rooms" nexus_as alice rooms
nx_err_has "expired" "says the token expired"
TOK=$(python3 "$ROOT/test/lib/rawclient.py" forge-token "$T/token.key.old" alice "$FUTURE") || fail "forge-token"
echo "alice $TOK $FUTURE" >"$TOKFILE"
NX_NO_PASSWORD=1 nx_expect 4 "token signed with another key: rooms" nexus_as alice rooms
nx_err_has "invalid" "says the token is invalid"
cp "$T/token.saved" "$TOKFILE"
NX_NO_PASSWORD=1 nx_expect 0 "the real token works again" nexus_as alice rooms

say "changed server certificate"
cp "$T/state/tls/cert.pem" "$T/cert.old.pem"
nx_stop_chatd TERM
rm -f "$T/state/tls/"*
nx_start_chatd $LOGIN_OPTS
[ -s "$T/state/tls/cert.pem" ] || fail "chatd did not make a new certificate"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
OLDFP=$(fp "$T/cert.old.pem")
NEWFP=$(fp "$T/state/tls/cert.pem")
[ "$OLDFP" != "$NEWFP" ] || fail "the new certificate has the old fingerprint"
nx_expect 7 "alice: rooms against the new certificate" nexus_as alice rooms
tr 'A-F' 'a-f' <"$T/err" >"$T/err.lc"
tr 'A-F' 'a-f' <"$T/out" >>"$T/err.lc"
grep -qi "sha256:$OLDFP" "$T/err.lc" || { nx_show; fail "the message lacks the pinned fingerprint SHA256:$OLDFP"; }
grep -qi "sha256:$NEWFP" "$T/err.lc" || { nx_show; fail "the message lacks the new fingerprint SHA256:$NEWFP"; }
nx_err_has "changed" "says the certificate changed"
nx_err_has "nexus .*trust" "gives the nexus trust hint"
nx_expect 7 "bob: say refused as well" nexus_as bob say lobby "hello?"
nx_expect 0 "alice: trust --yes" nexus_as alice trust --yes
nx_expect 0 "alice: rooms after trusting" nexus_as alice rooms
nx_expect 7 "bob (has not re-trusted) still refused" nexus_as bob rooms

say "unknown server, not a tty"
nx_expect 7 "newbie (no pin): register" nexus_as newbie register
tr 'A-F' 'a-f' <"$T/err" >"$T/err.lc"
grep -qi "sha256:$NEWFP" "$T/err.lc" || { nx_show; fail "unknown-server message lacks SHA256:$NEWFP"; }
nx_err_has "unknown" "says the server is unknown"
nx_err_has "nexus .*trust" "gives the nexus trust hint"

say "a second chatd on the same port"
nx_run timeout 20 "$BUILD/chatd" -d -s "$T/state2" -p "$CHAT_PORT" -o common.bind=127.0.0.1
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] || { nx_show; fail "a second chatd on port $CHAT_PORT exited $RC (124: still running)"; }
nx_err_has "in use" "says the address is in use"
kill -0 "$CHATD_PID" || fail "the first chatd died"

say "connection refused"
SAVED_PORT=$CHAT_PORT
CHAT_PORT=$(nx_free_port)
nx_expect 3 "rooms against a port with no server ($CHAT_PORT)" nexus_as alice rooms
CHAT_PORT=$SAVED_PORT
nx_err_has "connection refused" "says connection refused"

say "registration closed; offline adduser"
nx_stop_chatd TERM
printf 'dave-secret-pw\n' | "$BUILD/chatd" -s "$T/state" adduser dave >"$T/out" 2>"$T/err"
RC=$?
[ "$RC" -eq 0 ] || { nx_show; fail "chatd adduser dave exited $RC"; }
ok "chatd -s STATE adduser dave (password on stdin) exited 0"
nx_run sh -c "printf 'other-pw-123\n' | \"$BUILD/chatd\" -s \"$T/state\" adduser dave"
[ "$RC" -eq 1 ] || { nx_show; fail "adduser of an existing user exited $RC, expected 1"; }
[ -s "$T/err" ] || [ -s "$T/out" ] || fail "adduser of an existing user printed no sentence"
ok "adduser dave again exits 1: $(cat "$T/err" "$T/out" | head -n 1)"
nx_run sh -c "printf 'other-pw-123\n' | \"$BUILD/chatd\" -s \"$T/state\" passwd nosuchuser"
[ "$RC" -eq 1 ] || { nx_show; fail "passwd of an unknown user exited $RC, expected 1"; }
ok "passwd nosuchuser exits 1: $(cat "$T/err" "$T/out" | head -n 1)"
nx_start_chatd $LOGIN_OPTS -o chatd.register=no
nx_expect 0 "erin: trust" nexus_as erin trust --yes
nx_expect 4 "erin: register while registration is closed" nexus_as erin register
nx_err_has "closed|registration" "says registration is closed"
nx_expect 0 "dave: trust" nexus_as dave trust --yes
NEXUS_PASSWORD=dave-secret-pw nx_expect 0 "dave (added offline): login" nexus_as dave login
nx_expect 0 "dave: whoami" nexus_as dave whoami
grep -qw dave "$T/out" || { nx_show; fail "whoami does not say dave"; }

say "login rate limit (fresh chatd, login_rate 2/min)"
nx_stop_chatd TERM
# 2 attempts a minute: one token comes back every 30 s, so a slow machine
# cannot refill the bucket between the attempts below.
nx_start_chatd -o chatd.login_rate=2
RCS=""
i=1
while [ $i -le 15 ]; do
	NEXUS_PASSWORD=wrong-password-$i nx_run nexus_as alice login
	RCS="$RCS $RC"
	case $RC in
	4) ;;
	8) cp "$T/err" "$T/ratelimit.err" ;;
	*) nx_show; fail "wrong-password login #$i exited $RC (expected 4 or 8)" ;;
	esac
	i=$((i + 1))
done
ok "exit statuses of 15 wrong logins:$RCS"
case "$RCS" in
*8*) ;;
*) fail "15 wrong passwords in a few seconds were never rate limited (exit 8)" ;;
esac
grep -Eqi "many|rate|slow|later|limit" "$T/ratelimit.err" || { cat "$T/ratelimit.err"; fail "rate limit message unclear"; }
ok "rate-limited message: $(head -n 1 "$T/ratelimit.err")"
nx_run rawclient login bob pw-bob-secret --src 127.0.0.2
[ "$RC" -eq 0 ] || { nx_show; fail "bob could not log in from another address while alice is rate limited"; }
ok "bob logs in from 127.0.0.2 meanwhile"
nx_run rawclient login alice pw-alice-secret --src 127.0.0.3
[ "$RC" -eq 8 ] || { nx_show; fail "alice's login from another address was not rate limited (per-user limit), exit $RC"; }
ok "alice stays rate limited from another address (per user)"
nx_expect 0 "dave's cached token still works" nexus_as dave rooms

say "message rate limit (default 20/s, burst 40)"
nx_expect 0 "dave: create burstroom" nexus_as dave create burstroom
nx_run rawclient burst dave "@$T/cfg/dave/tokens/127.0.0.1_$CHAT_PORT" burstroom 100
cat "$T/out"
[ "$RC" -eq 0 ] || { cat "$T/err"; fail "100 pipelined SAYs were not rate limited (or the session broke)"; }
ok "chatd rate limits a burst of SAYs and the session stays usable"
kill -0 "$CHATD_PID" || fail "chatd died"

say "config errors, -n, -h, usage errors"
printf '[common]\nstate_dir = %s\n[chatd]\nport = 5999\nbogus_key = 1\n' "$T/cstate" >"$T/bad.conf"
nx_run "$BUILD/chatd" -n -f "$T/bad.conf"
[ "$RC" -ne 0 ] || { nx_show; fail "chatd -n accepted an unknown key"; }
grep -q "bad.conf:5:" "$T/err" "$T/out" || { nx_show; fail "chatd -n does not name bad.conf:5:"; }
ok "chatd -n -f bad.conf exits $RC: $(cat "$T/err" "$T/out" | grep bad.conf | head -n 1)"
printf '[chatd]\nmax_text = lots\n' >"$T/bad2.conf"
nx_run "$BUILD/chatd" -n -f "$T/bad2.conf"
[ "$RC" -ne 0 ] && grep -q "bad2.conf:2:" "$T/err" "$T/out" || { nx_show; fail "bad value not reported as bad2.conf:2:"; }
ok "bad value: $(cat "$T/err" "$T/out" | grep bad2.conf | head -n 1)"
printf '[common]\nstate_dir = %s\n[chatd]\nport = 5999\nmax_text = 200\n[filed]\nwhatever = 1\n' "$T/cstate" >"$T/good.conf"
nx_expect 0 "chatd -n -f good.conf" "$BUILD/chatd" -n -f "$T/good.conf"
nx_run "$BUILD/chatd" -n -f "$T/does-not-exist.conf"
[ "$RC" -ne 0 ] || fail "chatd -n -f MISSING exited 0"
grep -q "does-not-exist.conf" "$T/err" "$T/out" || { nx_show; fail "missing config file not named"; }
ok "missing -f file: exit $RC"
nx_expect 0 "chatd -h" "$BUILD/chatd" -h
grep -q -- "-p" "$T/out" "$T/err" || { nx_show; fail "chatd -h shows no usage"; }
nx_expect 2 "chatd -Z (unknown flag)" "$BUILD/chatd" -Z
nx_expect 2 "chatd --no-such-flag" "$BUILD/chatd" --no-such-flag
# A bad port flag is a usage error with one line that says why, alike in
# every daemon (it was exit 2 + usage, exit 2, exit 1, exit 1).
for d in chatd filed audiod videod; do
	nx_expect 2 "$d -p 0" "$BUILD/$d" -n -p 0
	[ "$(cat "$T/err")" = "$d: -p 0: not a port (1 to 65535)" ] ||
		{ nx_show; fail "$d -p 0 does not say (only) that 0 is not a port"; }
done
nx_expect 2 "videod -m 70000" "$BUILD/videod" -n -m 70000
[ "$(cat "$T/err")" = "videod: -m 70000: not a port (1 to 65535)" ] ||
	{ nx_show; fail "videod -m 70000 does not say that 70000 is not a port"; }
nx_expect 2 "nexus frobnicate" nexus_as alice frobnicate
nx_expect 2 "nexus say (no room)" nexus_as alice say
nx_expect 2 "nexus --no-such-flag rooms" nexus_as alice --no-such-flag rooms
nx_expect 2 "nexus edit (no id)" nexus_as alice edit
nx_expect 0 "nexus -h" nexus_as alice -h

kill -0 "$CHATD_PID" || fail "chatd died"
say "all error checks passed"
