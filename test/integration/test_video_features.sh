#!/bin/sh
# The call page in Chromium: the `nexus call` link logs in and joins;
# speaking highlight, mute, hand, reaction,
# camera off, a refused camera (clear message, still watching), and
# automatic reconnect after videod is killed (SIGKILL) and started again.
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
vd_nexus alice create features >/dev/null || fail "create features"

say "controls and failures in the browser"
mkdir -p "$T/res"
nx_run vd_nexus alice call features --once --video-port "$VD_PORT"
[ "$RC" = 0 ] || { nx_show; fail "nexus call exited $RC"; }
LINK=$(head -n 1 "$T/out" | sed "s|//127.0.0.1:|//$VD_IP:|")
ip netns exec "$NS" timeout 240 node "$ROOT/test/e2e/features.js" "$VD_URL" features "$T/res" "$VIDEOD_PID" \
	"$LINK" >"$T/browser.log" 2>&1 &
NODE_PID=$!
PIDS="$PIDS $NODE_PID"
wait_for 200 test -f "$T/res/killed" || { cat "$T/browser.log"; fail "the browser part stopped before the restart"; }
nx_forget_pid "$VIDEOD_PID"
wait "$VIDEOD_PID" 2>/dev/null
vd_start_videod
ok "videod restarted"
wait "$NODE_PID"
nx_forget_pid "$NODE_PID"
cat "$T/browser.log"
[ -f "$T/res/done" ] || { tail -n 30 "$T/videod.log"; fail "browser scenario failed"; }
