#!/bin/sh
# videod's front doors: `nexus call` prints a one-time link that logs a
# browser in (once); room access follows chatd (private rooms: members
# only; unknown rooms: not found); `nexus call --once` shows who is in the
# call. Then garbage on the UDP port and bad HTTPS requests, after which
# videod is alive and a real three-browser call still works.
. test/lib/common.sh
. test/lib/video.sh
nx_need_bins
vd_need

say "network namespace, chatd, videod, accounts"
vd_netns
# a history rate of one a second: videod's access checks must not spend it
vd_start_chatd -o chatd.history_rate=1 -o chatd.history_burst=1
vd_start_videod
vd_accounts alice bob carol dave
vd_nexus alice create standup >/dev/null || fail "create standup"
vd_nexus alice create secret --private >/dev/null || fail "create secret"

# cjar NAME: curl with a cookie jar, inside the namespace.
vcurl() {
	v_jar=$1
	shift
	in_ns curl -sk -o "$T/body" -w '%{http_code}' -b "$T/$v_jar.jar" -c "$T/$v_jar.jar" "$@"
}

say "nexus call prints a one-time link"
nx_run vd_nexus alice call standup --once --video-port "$VD_PORT"
[ "$RC" = 0 ] || { nx_show; fail "nexus call exited $RC"; }
URL=$(head -n 1 "$T/out")
echo "$URL" | grep -Eq "^https://127\.0\.0\.1:$VD_PORT/join#code=[0-9a-f]{32}&room=standup\$" ||
	{ nx_show; fail "unexpected link: $URL"; }
grep -q "in the call (0): nobody" "$T/out" || { nx_show; fail "empty call not shown"; }
ok "link $URL and an empty call"
CODE=$(echo "$URL" | sed 's/.*code=\([0-9a-f]*\)&.*/\1/')
st=$(vcurl a -H 'Content-Type: application/json' -d "{\"code\":\"$CODE\"}" "$VD_URL/api/login")
[ "$st" = 200 ] || { cat "$T/body"; fail "login with the link's code: HTTP $st"; }
grep -q "nexus_token.*" "$T/a.jar" || fail "no cookie set"
grep -q '#HttpOnly_' "$T/a.jar" || fail "the cookie is not HttpOnly"
ok "the link's code logs in (HttpOnly cookie)"
st=$(vcurl x -H 'Content-Type: application/json' -d "{\"code\":\"$CODE\"}" "$VD_URL/api/login")
[ "$st" = 401 ] || fail "the code worked twice (HTTP $st)"
ok "the code works once"

say "room access follows chatd"
st=$(vcurl b -H 'Content-Type: application/json' -d '{"user":"bob","password":"pw-bob-secret"}' "$VD_URL/api/login")
[ "$st" = 200 ] || { cat "$T/body"; fail "bob's password login: HTTP $st"; }
st=$(vcurl b -H 'Content-Type: application/json' -d '{"room":"secret"}' "$VD_URL/api/join")
[ "$st" = 403 ] || { cat "$T/body"; fail "bob joined alice's private room (HTTP $st)"; }
ok "bob may not join the private room: $(cat "$T/body")"
st=$(vcurl b -H 'Content-Type: application/json' -d '{"room":"nosuch"}' "$VD_URL/api/join")
[ "$st" = 404 ] || { cat "$T/body"; fail "unknown room: HTTP $st"; }
ok "unknown room: $(cat "$T/body")"
st=$(vcurl a -H 'Content-Type: application/json' -d '{"room":"secret"}' "$VD_URL/api/join")
[ "$st" = 200 ] || { cat "$T/body"; fail "alice cannot join her private room (HTTP $st)"; }
st=$(vcurl a -H 'Content-Type: application/json' -d '{"room":"standup"}' "$VD_URL/api/join")
[ "$st" = 200 ] || { cat "$T/body"; fail "alice cannot join standup (HTTP $st)"; }
PEER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body")
ok "alice joins secret and standup (participant $PEER)"
say "a call is the room's as chatd names it: STANDUP is standup"
st=$(vcurl b -H 'Content-Type: application/json' -d '{"room":"STANDUP"}' "$VD_URL/api/join")
[ "$st" = 200 ] || { cat "$T/body"; fail "bob cannot join STANDUP (HTTP $st)"; }
grep -q '"room": *"standup"' "$T/body" || { cat "$T/body"; fail "bob's join of STANDUP is not standup's call"; }
BPEER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body")
nx_run vd_nexus carol call Standup --once --video-port "$VD_PORT"
grep -Eq "in the call \(2\): (alice, bob|bob, alice)$" "$T/out" ||
	{ nx_show; fail "nexus call Standup does not show alice and bob in one call"; }
ok "STANDUP and standup are one call: $(tail -n 1 "$T/out")"
for i in 1 2 3 4 5; do
	st=$(vcurl a -H 'Content-Type: application/json' -d '{"room":"Secret"}' "$VD_URL/api/join")
	[ "$st" = 200 ] || { cat "$T/body"; fail "alice's join $i of Secret in a row: HTTP $st"; }
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body")
	vcurl a -H 'Content-Type: application/json' -d "{\"id\":\"$id\"}" "$VD_URL/api/leave" >/dev/null
done
ok "5 joins in a row with chatd's history_rate=1: videod's checks do not read history"
vcurl b -H 'Content-Type: application/json' -d "{\"id\":\"$BPEER\"}" "$VD_URL/api/leave" >/dev/null
nx_run vd_nexus bob call standup --once --video-port "$VD_PORT"
grep -q "in the call (1): alice" "$T/out" ||
	{ nx_show; fail "nexus call does not show alice in standup"; }
ok "nexus call --once: $(tail -n 1 "$T/out")"
nx_expect 6 "bob: nexus call secret is forbidden" vd_nexus bob call secret --once --video-port "$VD_PORT"

say "password logins on the call page are limited per browser address (videod, then chatd)"
# vlogin SRC USER PASSWORD: the call page's password login from address SRC
vlogin() {
	in_ns curl -sk -o "$T/body" -w '%{http_code}' --interface "$1" \
		-H 'Content-Type: application/json' -d "{\"user\":\"$2\",\"password\":\"$3\"}" \
		"https://127.0.0.1:$VD_PORT/api/login"
}
codes=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do codes="$codes $(vlogin 127.0.0.2 dave "guess-$i")"; done
[ "$codes" = " 401 401 401 401 401 401 401 401 401 401 429 429" ] ||
	fail "12 wrong passwords for dave from 127.0.0.2: HTTP$codes (want 10 x 401, then 429)"
ok "12 wrong passwords from 127.0.0.2: HTTP$codes"
codes=""
for i in 3 4 5 6 7 8 9 10 11 12 13 14; do
	u=alice
	[ $((i % 2)) = 0 ] && u=bob
	codes="$codes $(vlogin "127.0.0.$i" $u "pw-$u-secret")"
done
[ "$codes" = " 200 200 200 200 200 200 200 200 200 200 200 200" ] ||
	fail "12 correct logins from 12 addresses after the attack: HTTP$codes (want all 200)"
ok "12 correct logins from other addresses right after: all HTTP 200"
KEY=$T/state/token.key
in_ns python3 "$ROOT/test/lib/rawclient.py" "$CHAT_PORT" login-via "$KEY" alice pw-alice-secret 127.0.0.30 forged
[ $? = 10 ] || fail "chatd took a LOGIN_VIA with a forged signature"
in_ns python3 "$ROOT/test/lib/rawclient.py" "$CHAT_PORT" login-via "$KEY" alice pw-alice-secret 127.0.0.30 stale
[ $? = 10 ] || fail "chatd took a LOGIN_VIA signed 2 minutes ago"
grep -q "refused a relayed login for alice from 127.0.0.1: not signed with the daemons' token key" "$T/chatd.log" ||
	{ tail -n 5 "$T/chatd.log"; fail "chatd did not log the forged LOGIN_VIA"; }
in_ns python3 "$ROOT/test/lib/rawclient.py" "$CHAT_PORT" login-via "$KEY" alice pw-alice-secret 127.0.0.30 signed ||
	fail "a LOGIN_VIA signed with the token key was refused"
ok "chatd takes a browser address only from a holder of the token key (forged and stale: ERR_FORBIDDEN)"
# (repeated lines are collapsed, "... previous message repeated N times",
# written when another line comes: the forged LOGIN_VIA's above)
dave_fails() {
	n=$(awk '/failed login for dave from 127.0.0.2 \(call page\)/ { n++; last = 1; next }
		last && /previous message repeated/ { n += $(NF - 1) } { last = 0 } END { print n + 0 }' \
		"$T/chatd.log")
	[ "$n" = 10 ]
}
dave_fails ||
	{ tail -n 20 "$T/chatd.log"; fail "chatd logged $n failed logins for dave from the browser's address 127.0.0.2 (want 10)"; }
grep -q "login rate limit hit for dave from 127.0.0.2" "$T/videod.log" ||
	{ tail -n 20 "$T/videod.log"; fail "videod did not refuse the 11th attempt itself"; }
ok "chatd logs the browser's address: $(grep -m 1 "failed login for dave" "$T/chatd.log"); videod stopped the rest"

say "garbage at the UDP port and the API"
COOKIE=$(awk '$6 == "nexus_token" { print $7 }' "$T/a.jar")
in_ns python3 "$ROOT/test/lib/vdabuse.py" "$VD_IP" "$VD_PORT" "$COOKIE" "$PEER" || fail "bad input handling"
kill -0 "$VIDEOD_PID" || fail "videod died"
st=$(vcurl a "$VD_URL/api/stats")
[ "$st" = 200 ] || fail "stats: HTTP $st"
ok "videod is alive: $(cat "$T/body")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["dropped"] >= 3000 else 1)' "$T/body" ||
	fail "the garbage datagrams were not all dropped"
ok "every garbage datagram was dropped"
vcurl a -H 'Content-Type: application/json' -d "{\"id\":\"$PEER\"}" "$VD_URL/api/leave" >/dev/null

if [ -x /usr/bin/chromium ] && command -v node >/dev/null; then
	vd_need_browser
	say "a real call afterwards"
	mkdir -p "$T/out2"
	in_ns timeout 240 node "$ROOT/test/e2e/call.js" "$VD_URL" standup "$T/out2" 2>&1 | tee "$T/browser.log"
	[ -f "$T/out2/done" ] || { tail -n 30 "$T/videod.log"; fail "the call after the garbage failed"; }
	ok "the call works after the garbage"
fi
