#!/bin/sh
# Idle plain TCP connections, no login, against videod (HTTPS) and chatd
# (framed TLS), each started with a descriptor soft limit of 256 under a
# hard limit of 4096. Each daemon raises its soft limit to the hard one
# (and says so at -v); 300 connections from 127.0.0.2 are held at most
# max_conns_per_addr (64) at a time, the rest closed at once; a legitimate
# client from 127.0.0.1 is served within 5 s meanwhile; the held ones are
# closed by the handshake deadline (10 s); CPU time and log lines over the
# flood stay small. Then videod is cut to 200 descriptors and flooded from
# four addresses: it runs out, closes at once the connections it has no
# descriptor for (left waiting in the backlog, they would be accepted when
# the deadline frees descriptors and held 10 s more), pauses accepting
# instead of spinning, keeps its log short ("repeated N times") and serves
# again once the deadline has freed descriptors.
. test/lib/common.sh
nx_need_bins

CAP=64
FLOOD=300
FAILS=""
soft_fail() { printf 'FAIL: %s\n' "$*"; FAILS="$FAILS|$*"; }

# CPU ticks (utime + stime) of a process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
lines() { wc -l <"$1"; }
soft_limit() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }

ulimit -Sn 256 && ulimit -Hn 4096 || fail "cannot set the descriptor limits"
HZ=$(getconf CLK_TCK)

# flood NAME PID PORT LOG SRCS COUNT LEGIT...: the flood, the legitimate
# client during it, and the figures. Sets EARLY_OPEN, CLOSED_AT, LEFT_OPEN.
flood() {
	f_name=$1 f_pid=$2 f_port=$3 f_log=$4 f_srcs=$5 f_count=$6
	shift 6
	f_cpu0=$(cpu_ticks "$f_pid")
	f_lines0=$(lines "$f_log")
	python3 test/lib/conn_flood.py "$f_port" "$f_srcs" "$f_count" 25 >"$T/flood.out" 2>&1 &
	f_fpid=$!
	wait_for 30 grep -q '^early' "$T/flood.out" || { cat "$T/flood.out"; fail "$f_name: flood did not start"; }
	f_t0=$(date +%s%N)
	if "$@" >"$T/legit.out" 2>&1; then f_legit=ok; else f_legit="failed ($(tail -n 1 "$T/legit.out"))"; fi
	f_ms=$((($(date +%s%N) - f_t0) / 1000000))
	f_cpu1=$(cpu_ticks "$f_pid")
	f_lines1=$(lines "$f_log")
	EARLY_OPEN=$(awk '/^early/ { print $2 }' "$T/flood.out")
	wait "$f_fpid"
	CLOSED_AT=$(awk '/^closed/ { print $2 }' "$T/flood.out")
	LEFT_OPEN=$(awk '/^closed/ { print $3 }' "$T/flood.out")
	CPU_MS=$(((f_cpu1 - f_cpu0) * 1000 / HZ))
	NEW_LINES=$((f_lines1 - f_lines0))
	echo "figures $f_name: $(awk '/^opened/ { print $2 }' "$T/flood.out") connections from $f_srcs;" \
		"held after 1 s: $EARLY_OPEN; legitimate client: $f_legit in $f_ms ms;" \
		"daemon CPU over the flood: $CPU_MS ms; log lines: $NEW_LINES;" \
		"all closed after ${CLOSED_AT} s (left open: $LEFT_OPEN)"
	[ "$f_legit" = ok ] && [ "$f_ms" -le 5000 ] || soft_fail "$f_name: legitimate client $f_legit in $f_ms ms"
	[ "$CPU_MS" -le 1000 ] || soft_fail "$f_name: $CPU_MS ms of CPU over the flood"
	[ "$NEW_LINES" -le 300 ] || soft_fail "$f_name: $NEW_LINES log lines over the flood"
	[ "$LEFT_OPEN" = 0 ] || soft_fail "$f_name: $LEFT_OPEN idle connections still open after $CLOSED_AT s"
	awk -v t="$CLOSED_AT" 'BEGIN { exit !(t <= 16) }' ||
		soft_fail "$f_name: idle connections closed only after $CLOSED_AT s"
}

legit_get() {
	curl -sk -o /dev/null -w '%{http_code}\n' --max-time 5 "https://127.0.0.1:$VD_PORT/" | grep -qx 200
}

say "chatd and videod with the soft limit at 256 (hard 4096)"
nx_start_chatd -v
nx_start_videod -v
for d in chatd:$CHATD_PID videod:$VIDEOD_PID; do
	lim=$(soft_limit "${d#*:}")
	echo "figures ${d%%:*}: descriptor soft limit $lim"
	[ "$lim" = 4096 ] || soft_fail "${d%%:*}: soft limit $lim, not raised to 4096"
	grep -q "descriptor limit raised from 256 to 4096" "$T/${d%%:*}.log" ||
		soft_fail "${d%%:*}: -v does not say the limit was raised"
done
nx_account alice

say "videod: $FLOOD idle connections from 127.0.0.2"
flood videod "$VIDEOD_PID" "$VD_PORT" "$T/videod.log" 127.0.0.2 "$FLOOD" legit_get
[ "$EARLY_OPEN" -le "$CAP" ] || soft_fail "videod: $EARLY_OPEN connections held from one address"
[ "$EARLY_OPEN" -ge $((CAP / 2)) ] || soft_fail "videod: only $EARLY_OPEN connections held"
legit_get || soft_fail "videod: GET / after the flood"

say "chatd: $FLOOD idle connections from 127.0.0.2"
flood chatd "$CHATD_PID" "$CHAT_PORT" "$T/chatd.log" 127.0.0.2 "$FLOOD" nexus_as alice rooms
[ "$EARLY_OPEN" -le "$CAP" ] || soft_fail "chatd: $EARLY_OPEN connections held from one address"
[ "$EARLY_OPEN" -ge $((CAP / 2)) ] || soft_fail "chatd: only $EARLY_OPEN connections held"

say "videod out of descriptors (limit 200), flooded from four addresses"
prlimit --pid "$VIDEOD_PID" --nofile=200:200 || fail "prlimit"
flood videod-emfile "$VIDEOD_PID" "$VD_PORT" "$T/videod.log" \
	127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 60 true
[ "$EARLY_OPEN" -le 200 ] ||
	soft_fail "videod-emfile: $EARLY_OPEN connections held after 1 s with 200 descriptors"
grep -c "cannot accept connections" "$T/videod.log" | sed 's/^/figures videod-emfile: pause lines: /'
grep "repeated" "$T/videod.log" | tail -n 2
wait_for 10 legit_get || soft_fail "videod: GET / once the deadline freed descriptors"
kill -0 "$VIDEOD_PID" || fail "videod died"
kill -0 "$CHATD_PID" || fail "chatd died"

[ -z "$FAILS" ] || fail "$(echo "$FAILS" | tr '|' '\n' | sed '/^$/d' | wc -l) checks failed"
ok "idle floods: capped per address, closed at the deadline, daemons responsive"
