#!/bin/sh
# Video calls in real browsers: headless Chromium (fake camera and
# microphone) driven by playwright-core, with chatd and videod in a network
# namespace. A wrong password is refused; alice and bob each decode >= 50
# frames of the other's video and receive the other's audio; carol joins and
# both see her within seconds; a screenshot shows three video tiles; carol
# leaves and her tile goes; bob's password is reset (chatd passwd) and his
# page leaves the call (alice sees him go) and shows the login form saying
# the login was revoked, without trying to rejoin.
. test/lib/common.sh
. test/lib/video.sh
nx_need_bins
vd_need
vd_need_browser

say "network namespace, chatd, videod, accounts"
vd_netns
vd_start_chatd
vd_start_videod
vd_accounts alice bob carol
vd_nexus alice create standup >/dev/null || fail "create standup"
ok "videod listens on $VD_URL"

say "three browsers call in room standup"
mkdir -p "$T/out"
in_ns env CHATD="$BUILD/chatd" STATE="$T/state" timeout 240 node "$ROOT/test/e2e/call.js" "$VD_URL" standup "$T/out" 2>&1 | tee "$T/browser.log"
[ -f "$T/out/done" ] || { tail -n 30 "$T/videod.log"; fail "browser scenario failed"; }
mkdir -p "$BUILD/test-logs"
cp "$T/out/three.png" "$BUILD/test-logs/video-three.png"
ok "screenshot kept in $BUILD/test-logs/video-three.png"
grep -q "ERROR\|runtime error" "$T/videod.log" && { cat "$T/videod.log"; fail "videod logged errors"; }
ok "video call test done"
