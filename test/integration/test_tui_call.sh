#!/bin/sh
# /call in the full-screen client: with chatd and videod on 127.0.0.1 (no
# browser, so no network namespace), alice types /call in lobby and the
# room view shows videod's one-time link for lobby; the link's code logs in
# once and is refused the second time. Call members: bob joins lobby's call
# through videod's signalling API (as the call page does, without media):
# alice's member list marks him with the camera mark; when he leaves, or
# videod stops, the mark goes. With videod stopped, /call says why.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need
[ -x "$BUILD/videod" ] || { echo "FAIL: $BUILD/videod not built (make builds every daemon)"; exit 1; }

say "start chatd and videod; alice creates lobby"
nx_start_chatd
nx_start_videod -o videod.session_timeout=600
nx_account alice
nx_account bob
nx_expect 0 "alice: create lobby" nexus_as alice create lobby
nx_expect 0 "bob: join lobby" nexus_as bob join lobby
nx_expect 0 "alice: create side" nexus_as alice create side
nx_expect 0 "bob: join side" nexus_as bob join side

# vd_api PATH JSON OUT [COOKIE_IN [COOKIE_OUT]]: POST JSON to videod's
# PATH (its self-signed certificate accepted), the body into OUT, the
# cookie sent from file COOKIE_IN, the cookies set into COOKIE_OUT; prints
# the HTTP status.
vd_api() {
	python3 -c 'import ssl, sys, urllib.request as u, urllib.error
port, path, data, out = sys.argv[1:5]
cin = sys.argv[5] if len(sys.argv) > 5 else ""
cout = sys.argv[6] if len(sys.argv) > 6 else ""
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
h = {"Content-Type": "application/json"}
if cin:
    h["Cookie"] = open(cin).read().strip()
try:
    r = u.urlopen(u.Request("https://127.0.0.1:%s%s" % (port, path), data=data.encode(), headers=h),
                  context=c, timeout=20)
except urllib.error.HTTPError as e:
    r = e
open(out, "wb").write(r.read())
if cout:
    ck = [v.split(";")[0] for k, v in r.headers.items() if k.lower() == "set-cookie"]
    open(cout, "w").write("; ".join(ck) + "\n")
print(r.getcode())' "$VD_PORT" "$@"
}

# the client's pid (the pane runs a shell whose child is nexus), and
# whether it has a call watch child for room $1
tui_client_pid() { pgrep -P "$(tmux -L "$TUI_SOCK" display -p -t 0 '#{pane_pid}')" -x nexus; }
watching() { pgrep -P "$(tui_client_pid)" -f "^nexus call .* $1 --watch-only" >/dev/null; }

# shot TITLE: the screen into the log.
shot() {
	echo "--- screen ($1):"
	tui_screen
	echo "---"
}
# the member list's line of USER ends with the camera mark / with no mark
# (UTF-8: ▣ after ● ◐ ○; plain ASCII: c after + ~ or nothing)
cam_mark() { tui_has "[●◐○+~ ] $1 +(▣|c) *\$"; }
no_mark() { tui_has "[●◐○+~ ] $1 *\$"; }

say "alice opens the client and types /call"
tui_start alice 200 30 NEXUS_VIDEO_PORT="$VD_PORT"
tui_wait 15 '\[connected' "status line says connected"
tui_wait 10 '^ #lobby' "lobby is open"
tui_type "/call"
tui_wait 15 'video call of lobby: open this link in a browser' "/call explains the link"
URL=$(tui_screen | grep -Eo "https://127\.0\.0\.1:$VD_PORT/join#code=[0-9a-f]{32}&room=lobby" | head -n 1)
[ -n "$URL" ] || { tui_screen; fail "no link for lobby on the screen"; }
ok "the screen shows $URL"

say "the link's code works once"
CODE=$(echo "$URL" | sed 's/.*code=\([0-9a-f]*\)&.*/\1/')
st=$(vd_api /api/login "{\"code\":\"$CODE\"}" "$T/body" "" "$T/a.jar")
[ "$st" = 200 ] || { cat "$T/body"; fail "login with the link's code: HTTP $st"; }
grep -q "nexus_token" "$T/a.jar" || fail "no cookie set"
st=$(vd_api /api/login "{\"code\":\"$CODE\"}" "$T/body")
[ "$st" = 401 ] || fail "the code worked twice (HTTP $st)"
ok "first use logs in (cookie), second use is refused"

say "bob joins lobby's call (signalling API): alice sees the camera mark"
BURL=$(nexus_as bob call lobby --once | head -n 1)
BCODE=$(echo "$BURL" | sed -n 's/.*code=\([0-9a-f]*\)&.*/\1/p')
[ -n "$BCODE" ] || fail "no link for bob: $BURL"
st=$(vd_api /api/login "{\"code\":\"$BCODE\"}" "$T/body" "" "$T/b.jar")
[ "$st" = 200 ] || { cat "$T/body"; fail "bob's login: HTTP $st"; }
# the list is drawn with lobby's call watched: bob's line has no mark
wait_for 20 watching lobby || { shot "no watch"; fail "no call watch for lobby"; }
wait_for 10 no_mark bob || { shot "before"; fail "bob is marked before he joined the call"; }
ok "lobby's call is watched; bob (not in the call) has no mark"
st=$(vd_api /api/join '{"room":"lobby"}' "$T/join" "$T/b.jar")
[ "$st" = 200 ] || { cat "$T/join"; fail "bob's join: HTTP $st"; }
PEER=$(sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' "$T/join")
[ -n "$PEER" ] || { cat "$T/join"; fail "no peer id for bob"; }
wait_for 20 cam_mark bob || { shot "no mark"; fail "bob in the call has no camera mark"; }
ok "alice's member list marks bob as in the call"
shot "bob in the call"
# the list is updated (bob's mark): alice's own line is drawn without one
no_mark alice || { shot "alice"; fail "alice is marked though she is not in the call"; }
ok "alice (not in the call) has no mark"

say "alice opens another room and comes back: the watch follows the room shown"
tui_type "/join side"
tui_wait 10 '^ #side' "side is open"
wait_for 20 watching side || { shot "side"; fail "the call watch did not follow to side"; }
wait_for 10 no_mark bob || { shot "side"; fail "bob is marked in side, where nobody is in the call"; }
tui_screen | grep -Eq '▣ *$' && { shot "side"; fail "a camera mark shows in side, where nobody is in the call"; }
ok "no camera mark in side"
tui_type "/join lobby"
tui_wait 10 '^ #lobby' "lobby is open again"
wait_for 20 cam_mark bob || { shot "back"; fail "bob's camera mark did not come back in lobby"; }
ok "back in lobby, bob is marked again"

say "bob leaves the call: the mark goes"
st=$(vd_api /api/leave "{\"id\":\"$PEER\"}" "$T/body" "$T/b.jar")
[ "$st" = 200 ] || { cat "$T/body"; fail "bob's leave: HTTP $st"; }
wait_for 20 no_mark bob || { shot "mark stays"; fail "bob's camera mark stayed after he left"; }
ok "the camera mark went when bob left"

say "bob joins again; videod stops: the mark goes"
st=$(vd_api /api/join '{"room":"lobby"}' "$T/join" "$T/b.jar")
[ "$st" = 200 ] || { cat "$T/join"; fail "bob's second join: HTTP $st"; }
wait_for 20 cam_mark bob || { shot "no mark"; fail "bob in the call again has no camera mark"; }
ok "bob is marked again"

say "a terminal without UTF-8 (NO_COLOR too): the camera mark is a plain c"
tui_start alice 200 30 NEXUS_VIDEO_PORT="$VD_PORT" LANG=C LC_ALL=C NO_COLOR=1
tui_wait 15 '\[connected' "the plain client is connected"
wait_for 20 tui_has ' bob +c *$' || { shot "ascii"; fail "no plain c mark next to bob"; }
ok "the plain terminal marks bob with c"
shot "plain ASCII"

say "videod stopped: /call says why"
kill "$VIDEOD_PID"
wait "$VIDEOD_PID" 2>/dev/null
wait_for 20 no_mark bob || { shot "videod gone"; fail "bob's camera mark stayed after videod stopped"; }
ok "the camera mark went with videod"
tui_type "/call"
tui_wait 15 'no call link for lobby: cannot reach videod' "/call without videod gives a clear error"
shot "no videod"

say "a videod that takes the connection and never answers: the screen does not wait for it"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("listening", flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$VD_PORT" >"$T/mute.out" 2>&1 &
MUTE=$!
PIDS="$PIDS $MUTE"
wait_for 10 grep -q listening "$T/mute.out" || fail "the silent listener did not start"
tui_type "/call"
tui_wait 5 "asking videod for the link of lobby's call" "the status line says /call is under way"
tui_keys -l "typed while videod is silent"
tui_wait 3 'typed while videod is silent' "the input line takes keys while /call waits (it used to freeze for 10 s)"
tui_keys C-u
tui_wait 30 'no call link for lobby: TLS handshake with videod' "then /call says videod did not answer"
nx_kill "$MUTE"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "/quit exits 0"

say "no call watch outlives its client (bob's terminal was closed, videod is down)"
tui_cleanup
watches_left() {
	for p in $(pgrep -f -- "--watch-only"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q "^NEXUS_CONFIG_DIR=$T/" && return 0
	done
	return 1
}
none_left() { ! watches_left; }
wait_for 20 none_left || fail "a nexus call --watch-only of this test still runs: $(pgrep -af -- --watch-only)"
ok "tui call test done"
