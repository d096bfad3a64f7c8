#!/bin/sh
# videod's forwarding benchmark (make bench runs it after chatd's): chatd
# and videod on loopback in a temporary folder, then test/bench/videobench.c
# joins VB_PUBLISHERS rooms with one publisher and VB_SUBSCRIBERS
# subscribers each (real HTTPS signalling, ICE, DTLS-SRTP), sends VB_RATE
# packets/s per publisher for VB_DURATION seconds and reports forwarded
# packets/s, subscriber streams per core and the libsrtp2 ceiling. Numbers
# never fail the run. We stop exactly the processes we started, by PID.
set -u
BUILD=${BUILD:-build}
PUBS=${VB_PUBLISHERS:-2}
SUBS=${VB_SUBSCRIBERS:-24}
RATE=${VB_RATE:-1000}
DURATION=${VB_DURATION:-8}
T=$(mktemp -d "${TMPDIR:-/tmp}/nexus-vbench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_log() { # FILE: until "listening on" appears (10 s)
	i=0
	while ! grep -q "listening on" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && { cat "$1"; return 1; }
		sleep 0.1
	done
}

PKGS="openssl libsrtp2 jansson libevent libevent_openssl libsystemd libargon2"
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046 # pkg-config's words are wanted
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -iquote common -iquote videod \
	-o "$BUILD/bench/videobench" test/bench/videobench.c videod/stun.c videod/dtls.c \
	videod/srtp.c videod/rtp.c "$BUILD/libnexus.a" $(pkg-config --cflags --libs $PKGS) ||
	{ echo "bench: cannot build videobench"; exit 1; }

CP=$(free_port)
HP=$(free_port)
"$BUILD/chatd" -d -s "$T/state" -p "$CP" -o common.bind=127.0.0.1 -o common.max_conns_per_addr=0 -o chatd.room_rate=100000 \
	-o chatd.user_rooms=100000 >"$T/chatd.log" 2>&1 &
PIDS="$PIDS $!"
wait_log "$T/chatd.log" || exit 1
"$BUILD/videod" -d -s "$T/state" -p "$HP" -m "$HP" -o common.bind=127.0.0.1 -o common.max_conns_per_addr=0 \
	-o videod.announce=127.0.0.1 -o videod.chat_host=127.0.0.1 -o videod.chat_port="$CP" \
	-o videod.www="$(pwd)/videod/www" -o videod.max_peers=2000 >"$T/videod.log" 2>&1 &
VPID=$!
PIDS="$PIDS $VPID"
wait_log "$T/videod.log" || exit 1
n() { env NEXUS_CONFIG_DIR="$T/cfg" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CP" \
	NEXUS_USER=bench NEXUS_PASSWORD=bench-password "$BUILD/nexus" "$@" >/dev/null; }
n trust --yes && n register || { echo "bench: cannot register"; exit 1; }
i=0
while [ $i -lt "$PUBS" ]; do
	n create "bench-$i" || { echo "bench: cannot create room"; exit 1; }
	i=$((i + 1))
done
echo "== videod: $PUBS publishers x $SUBS subscribers, $RATE packets/s each, ${DURATION} s ($(nproc) cores: $(uptime | sed 's/.*load/load/'))"
"$BUILD/bench/videobench" 127.0.0.1 "$HP" "$HP" "$T/state" bench "$VPID" "$PUBS" "$SUBS" "$RATE" "$DURATION"
