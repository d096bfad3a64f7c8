#!/bin/sh
# /call in the full-screen client: with chatd and videod on 127.0.0.1 (no
# browser, so no network namespace), alice types /call in lobby and the
# room view shows videod's one-time link for lobby; the link's code logs in
# once and is refused the second time. With videod stopped, /call says why.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need
[ -x "$BUILD/videod" ] || { echo "skip: $BUILD/videod not built"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

say "start chatd and videod; alice creates lobby"
nx_start_chatd
VD_PORT=$(nx_free_port)
touch "$T/videod.log"
"$BUILD/videod" -d -s "$T/state" -p "$VD_PORT" -m "$VD_PORT" -o common.bind=127.0.0.1 \
	-o videod.www="$ROOT/videod/www" -o videod.chat_host=127.0.0.1 \
	-o videod.chat_port="$CHAT_PORT" -o videod.announce=127.0.0.1 >>"$T/videod.log" 2>&1 &
VIDEOD_PID=$!
PIDS="$PIDS $VIDEOD_PID"
wait_for 20 grep -q "listening on" "$T/videod.log" || { cat "$T/videod.log"; fail "videod did not start"; }
nx_account alice
nx_expect 0 "alice: create lobby" nexus_as alice create lobby

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
st=$(curl -sk -o "$T/body" -w '%{http_code}' -c "$T/a.jar" -H 'Content-Type: application/json' \
	-d "{\"code\":\"$CODE\"}" "https://127.0.0.1:$VD_PORT/api/login")
[ "$st" = 200 ] || { cat "$T/body"; fail "login with the link's code: HTTP $st"; }
grep -q "nexus_token" "$T/a.jar" || fail "no cookie set"
st=$(curl -sk -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "{\"code\":\"$CODE\"}" "https://127.0.0.1:$VD_PORT/api/login")
[ "$st" = 401 ] || fail "the code worked twice (HTTP $st)"
ok "first use logs in (cookie), second use is refused"

say "videod stopped: /call says why"
kill "$VIDEOD_PID"
wait "$VIDEOD_PID" 2>/dev/null
tui_type "/call"
tui_wait 15 'no call link for lobby: cannot reach videod' "/call without videod gives a clear error"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "/quit exits 0"
ok "tui call test done"
