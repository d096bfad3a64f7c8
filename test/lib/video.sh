# Helpers for the video tests (sourced after common.sh): a network namespace
# with a veth pair (Chromium ignores loopback for ICE), chatd and videod
# inside it, and the browser driver. Needs root, chromium and node.

vd_need() {
	[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for a network namespace"; exit 1; }
	[ -x "$BUILD/videod" ] || { echo "FAIL: $BUILD/videod not built"; exit 1; }
	command -v ip >/dev/null || { echo "FAIL: no iproute2"; exit 1; }
}

vd_need_browser() {
	[ -x /usr/bin/chromium ] || { echo "FAIL: no /usr/bin/chromium (apt-get install chromium)"; exit 1; }
	command -v node >/dev/null || { echo "FAIL: no node"; exit 1; }
	if [ ! -d "$ROOT/test/e2e/node_modules/playwright-core" ]; then
		(cd "$ROOT/test/e2e" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
			{ echo "FAIL: cannot install playwright-core (cd test/e2e && npm ci)"; exit 1; }
	fi
}

# vd_netns: a namespace NS with address $VD_IP on a veth pair, routed.
vd_netns() {
	n=$(($$ % 200 + 20))
	NS=nxv$$
	VD_IP=10.99.$n.1
	ip netns add "$NS" || fail "ip netns add"
	trap 'vd_cleanup' EXIT
	ip link add "vxa$$" type veth peer name "vxb$$" || fail "veth"
	ip link set "vxb$$" netns "$NS"
	ip addr add "10.99.$n.2/24" dev "vxa$$"
	ip link set "vxa$$" up
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add "$VD_IP/24" dev "vxb$$"
	ip -n "$NS" link set "vxb$$" up
	ip -n "$NS" route add default via "10.99.$n.2"
}

# Everything left in the namespace is ours: stop it before removing it.
vd_cleanup() {
	for p in $PIDS $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
	c_i=0
	while [ -n "$(ip netns pids "$NS" 2>/dev/null)" ] && [ $c_i -lt 50 ]; do
		sleep 0.1
		c_i=$((c_i + 1))
	done
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	ip link del "vxa$$" 2>/dev/null
	nx_cleanup
}

# (Background processes must be started with `ip netns exec` itself, not
# through this function, so that $! is the program's own PID.)
in_ns() { ip netns exec "$NS" "$@"; }

# vd_start_chatd [args]: chatd inside the namespace, on 127.0.0.1:$CHAT_PORT.
vd_start_chatd() {
	mkdir -p "$T/state"
	ip netns exec "$NS" "$BUILD/chatd" -d -s "$T/state" -p "$CHAT_PORT" -o common.bind=127.0.0.1 \
		"$@" >>"$T/chatd.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 20 grep -q "listening on" "$T/chatd.log" || { cat "$T/chatd.log"; fail "chatd did not start"; }
}

vd_started() { [ "$(grep -c "listening on" "$T/videod.log")" -gt "$v_seen" ]; }

# vd_start_videod [args]: videod in the namespace on $VD_PORT (HTTPS and UDP).
VD_PORT=${VD_PORT:-5000}
vd_start_videod() {
	touch "$T/videod.log"
	v_seen=$(grep -c "listening on" "$T/videod.log")
	ip netns exec "$NS" "$BUILD/videod" -d -s "$T/state" -p "$VD_PORT" -m "$VD_PORT" \
		-o videod.www="$ROOT/videod/www" -o videod.chat_host=127.0.0.1 \
		-o videod.chat_port="$CHAT_PORT" -o videod.announce="$VD_IP" ${VD_ARGS:-} "$@" \
		>>"$T/videod.log" 2>&1 &
	VIDEOD_PID=$!
	PIDS="$PIDS $VIDEOD_PID"
	wait_for 20 vd_started || { cat "$T/videod.log"; fail "videod did not start"; }
	VD_URL="https://$VD_IP:$VD_PORT"
}

# vd_accounts USER...: register users through the real client.
vd_accounts() {
	for u in "$@"; do
		in_ns env NEXUS_CONFIG_DIR="$T/cfg/$u" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CHAT_PORT" \
			NEXUS_USER="$u" NEXUS_PASSWORD="pw-$u-secret" "$BUILD/nexus" trust --yes >/dev/null ||
			fail "trust as $u"
		in_ns env NEXUS_CONFIG_DIR="$T/cfg/$u" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CHAT_PORT" \
			NEXUS_USER="$u" NEXUS_PASSWORD="pw-$u-secret" "$BUILD/nexus" register >/dev/null ||
			fail "register $u"
	done
}

# vd_nexus USER ARGS...: the client as USER inside the namespace.
vd_nexus() {
	v_u=$1
	shift
	in_ns env NEXUS_CONFIG_DIR="$T/cfg/$v_u" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CHAT_PORT" \
		NEXUS_USER="$v_u" NEXUS_PASSWORD="pw-$v_u-secret" "$BUILD/nexus" "$@"
}
