#!/bin/sh
# `make bench`: room fan-out of chatd against ngircd and Redis pub/sub under
# the same load shape (test/bench/chatbench.c explains it): RECEIVERS members
# of one room that only read, 1 and then 10 senders, each message stamped
# with its send time. Prints a table of deliveries/s and p50/p99 latency,
# the ratios chatd/ngircd and chatd/redis, the machine and where CPU went.
# Numbers never fail the run; the exit status is non-zero only if something
# could not run. Each server runs alone, on a free loopback port, in a
# temporary folder; we stop exactly the processes we started, by PID.
#
# Environment: BUILD (build dir), BENCH_SYSTEMS ("chatd ngircd redis"),
# BENCH_SENDERS ("1 10"), BENCH_RECEIVERS (200), BENCH_SIZE (100 bytes),
# BENCH_WINDOW (100 per sender), BENCH_DURATION (8 s of sending per run),
# BENCH_MESSAGES (200000 per run, split between senders), BENCH_PERF=0 skips
# the perf syscall counts and profiles, BENCH_KEEP=1 keeps the temporary
# folder (logs, chatd database), TMPDIR (where it goes; the chatd database
# lives there, so its file system decides what an fsync costs).
set -u
BUILD=${BUILD:-build}
SYSTEMS=${BENCH_SYSTEMS:-chatd ngircd redis}
SENDERS=${BENCH_SENDERS:-1 10}
RECEIVERS=${BENCH_RECEIVERS:-200}
SIZE=${BENCH_SIZE:-100}
WINDOW=${BENCH_WINDOW:-100}
DURATION=${BENCH_DURATION:-8}
MESSAGES=${BENCH_MESSAGES:-200000}
LAST_SENDERS=$(echo "$SENDERS" | awk '{print $NF}')
T=$(mktemp -d "${TMPDIR:-/tmp}/nexus-bench.XXXXXX")
PIDS=""
problems=0

# shellcheck disable=SC2317 # called by trap
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

problem() {
	echo "bench: $*" >&2
	problems=$((problems + 1))
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# shellcheck disable=SC2317 # called through wait_for
port_open() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" \
		2>/dev/null
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$w_end" ] && return 1
		sleep 0.1
	done
}

# The 1-minute load average: other work on the machine skews the numbers.
load() {
	cut -d' ' -f1 /proc/loadavg
}

# stop_pid PID: TERM, wait up to 5 s, then KILL; drop it from PIDS.
stop_pid() {
	kill "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	drop_pid "$1"
}

# drop_pid PID: forget a process that has ended.
drop_pid() {
	rest=""
	for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
	PIDS=$rest
}

# ---- build the load generator with the Makefile's flags ----
PKGS="libevent libevent_openssl openssl libsystemd sqlite3 libargon2"
BENCH_BIN=$BUILD/bench/chatbench
build_chatbench() {
	[ -f "$BUILD/libnexus.a" ] || { problem "$BUILD/libnexus.a is missing (run make)"; return 1; }
	# chatbench includes common/*.h: a library older than them would not match
	if [ -n "$(find common -name '*.[ch]' -newer "$BUILD/libnexus.a" | head -1)" ]; then
		problem "$BUILD/libnexus.a is older than common/ (run make, or make bench)"
		return 1
	fi
	if [ -f "$BUILD/chatd" ] && [ -n "$(find chatd -newer "$BUILD/chatd" | head -1)" ]; then
		echo "note: $BUILD/chatd is older than chatd/: measuring the old build"
	fi
	san=""
	if nm "$BUILD/libnexus.a" 2>/dev/null | grep -q __asan_; then
		san="-fsanitize=address,undefined -fno-omit-frame-pointer"
		echo "note: $BUILD is a sanitizer build; its numbers mean nothing"
	fi
	mkdir -p "$BUILD/bench"
	# shellcheck disable=SC2046,SC2086 # pkg-config output is meant to split
	cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Werror $san -iquote common $(pkg-config --cflags $PKGS) \
		-o "$BENCH_BIN" test/bench/chatbench.c test/bench/chatbench_tcp.c \
		test/bench/chatbench_chatd.c "$BUILD/libnexus.a" $(pkg-config --libs $PKGS) ||
		{ problem "cannot build chatbench"; return 1; }
}

# ---- where the server's time goes (perf, when it works here) ----
# Syscall tracepoints count loop turns (epoll_wait), socket writes, epoll_ctl
# (event registration churn) and fsyncs (group commits); a light profile (perf record -F 499, no call graphs)
# of the last run of each server shows the top libraries and functions.
EVENTS="syscalls:sys_enter_epoll_wait syscalls:sys_enter_epoll_pwait syscalls:sys_enter_write
syscalls:sys_enter_writev syscalls:sys_enter_sendmsg syscalls:sys_enter_sendto
syscalls:sys_enter_fdatasync syscalls:sys_enter_fsync syscalls:sys_enter_epoll_ctl"
EVENTS=$(printf '%s' "$EVENTS" | tr -s ' \n' ',,')
HAVE_PERF=0
if [ "${BENCH_PERF:-1}" = 1 ] && command -v perf >/dev/null &&
	perf stat -e "$EVENTS" -- true >/dev/null 2>&1; then
	HAVE_PERF=1
fi

# perf_start SYS SENDERS: count the server's syscalls (and profile it on the
# last sender count) until perf_stop.
perf_start() {
	PERF_STAT="" PERF_REC="" PERF_T0=$(date +%s.%N)
	[ $HAVE_PERF = 1 ] || return 0
	perf stat -x, -o "$T/syscalls.$1.$2" -e "$EVENTS" -p "$SERVER_PID" >/dev/null 2>&1 &
	PERF_STAT=$!
	PIDS="$PIDS $PERF_STAT"
	if [ "$2" = "$LAST_SENDERS" ]; then
		perf record -q -F 499 -o "$T/profile.$1" -p "$SERVER_PID" >/dev/null 2>&1 &
		PERF_REC=$!
		PIDS="$PIDS $PERF_REC"
	fi
}

perf_stop() {
	for p in $PERF_STAT $PERF_REC; do
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		drop_pid "$p"
	done
	PERF_SECS=$(echo "$(date +%s.%N) $PERF_T0" | awk '{print $1 - $2}')
}

# syscall_report SYS SENDERS: rates, and totals per message / per delivery.
syscall_report() {
	f=$T/syscalls.$1.$2
	[ -s "$f" ] || return 0
	counts=$(sed -n 's/^# sent \([0-9]*\) messages.* \([0-9]*\) deliveries of.*/\1 \2/p' \
		"$T/detail.$1.$2")
	awk -F, -v secs="$PERF_SECS" -v counts="$counts" '
		BEGIN { split(counts, c, " "); msgs = c[1]; dels = c[2] }
		$3 ~ /epoll_(p?wait)$/ { turns += $1 }
		$3 ~ /epoll_ctl$/ { ctls += $1 }
		$3 ~ /(write|writev|sendmsg|sendto)$/ { writes += $1 }
		$3 ~ /sync$/ { syncs += $1 }
		END {
			if (secs <= 0 || !msgs) exit
			printf "    server: %.0f loop turns/s (%.1f messages each), %.0f socket writes/s (%.1f deliveries each), %.0f epoll_ctl/s", turns / secs, turns ? msgs / turns : 0, writes / secs, writes ? dels / writes : 0, ctls / secs
			if (syncs > 0) printf ", %.0f fsyncs/s (%.1f messages per commit)", syncs / secs, msgs / syncs
			printf "\n"
		}' "$f"
}

profile_report() {
	f=$T/profile.$1
	[ -s "$f" ] || return 0
	echo "    profile of $1 during the $LAST_SENDERS-sender run (perf, self time):"
	perf report -i "$f" --stdio --no-children --sort dso 2>/dev/null |
		awk '/^ *[0-9.]+%/ && n < 6 { printf "      %s %s\n", $1, $2; n++ }'
	perf report -i "$f" --stdio --no-children --sort symbol 2>/dev/null |
		awk '/^ *[0-9.]+%/ && n < 12 { printf "      %s %s%s\n", $1, $3, $2 == "[k]" ? " (kernel)" : ""; n++ }'
}

# ---- one measured run: run_one SYSTEM SENDERS --MODE HOST:PORT [chatbench args] ----
run_one() {
	sys=$1 s=$2 target=$3 addr=$4
	shift 4
	out=$T/result.$sys.$s
	detail=$T/detail.$sys.$s
	m=$((MESSAGES / s))
	timeout -k 5 $((DURATION + 400)) "$BENCH_BIN" "$target" "$addr" --receivers "$RECEIVERS" \
		--senders "$s" --messages "$m" --size "$SIZE" --window "$WINDOW" \
		--duration "$DURATION" --server-pid "$SERVER_PID" "$@" >"$out" 2>"$detail" &
	bpid=$!
	PIDS="$PIDS $bpid"
	# measure the server only once the load generator's setup is done
	while kill -0 "$bpid" 2>/dev/null && ! grep -q '^# setup:' "$detail"; do sleep 0.05; done
	perf_start "$sys" "$s"
	wait "$bpid"
	rc=$?
	drop_pid "$bpid"
	perf_stop
	sed 's/^/    /' "$detail"
	case $rc in
	0) syscall_report "$sys" "$s" ;;
	3) echo "    (ran, but incomplete: see the WARNING above)" ;;
	*) rm -f "$out"; problem "$sys with $s senders did not run (exit $rc)" ;;
	esac
}

# ---- chatd: TLS, durable history (SQLite WAL, commit before ACK) ----
bench_chatd() {
	[ -x "$BUILD/chatd" ] || { problem "$BUILD/chatd is missing (run make)"; return; }
	port=$(free_port)
	mkdir -p "$T/chatd"
	# Default per-user limits (20 msg/s, 10 logins/min) would measure the
	# limiter, not the server: lift them for the bench users.
	"$BUILD/chatd" -d -s "$T/chatd" -p "$port" -o common.bind=127.0.0.1 -o common.max_conns_per_addr=0 \
		-o chatd.msg_rate=1000000 -o chatd.msg_burst=1000000 -o chatd.login_rate=100000 \
		-o chatd.history_on_join=0 ${BENCH_CHATD_OPTS:-} >"$T/chatd.log" 2>&1 &
	SERVER_PID=$!
	PIDS="$PIDS $SERVER_PID"
	if ! wait_for 30 grep -q "listening on" "$T/chatd.log"; then
		tail -5 "$T/chatd.log" >&2
		problem "chatd did not start"
		stop_pid "$SERVER_PID"
		return
	fi
	echo "chatd ($BUILD/chatd) on 127.0.0.1:$port, load $(load), state on" \
		"$(df -T "$T" | awk 'NR==2 {print $2}'), started with -o chatd.msg_rate=1000000" \
		"-o chatd.msg_burst=1000000 -o chatd.login_rate=100000 (defaults 20/s, 40, 10/min" \
		"would throttle the bench users) -o chatd.history_on_join=0"
	for s in $SENDERS; do
		run_one chatd "$s" --chatd "127.0.0.1:$port" --tokens "$T/chatd.tokens"
	done
	stop_pid "$SERVER_PID"
	profile_report chatd
	[ -f "$T/chatd/chat.db" ] && echo "    chat.db after the runs: $(du -k "$T/chatd/chat.db" | cut -f1) KiB"
	grep -i -E "commit|batch|slow|drop" "$T/chatd.log" | tail -3 | sed 's/^/    chatd log: /'
}

# ---- ngircd: plain IRC ----
bench_ngircd() {
	command -v ngircd >/dev/null || { problem "ngircd is not installed"; return; }
	port=$(free_port)
	mkdir -p "$T/ngircd.d"
	# MaxConnectionsIP=0: 210 clients from 127.0.0.1. MaxPenaltyTime=0 and
	# the senders' user mode +F (IRC operators only: OPER bench) lift the
	# flood protection; the channel is predefined without +n so senders
	# need not be members.
	cat >"$T/ngircd.conf" <<EOF
[Global]
Name = bench.nexus.local
Info = nexus bench
AdminInfo1 = bench
AdminInfo2 = bench
AdminEMail = bench@localhost
Listen = 127.0.0.1
Ports = $port
MotdPhrase = bench
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 16
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
IncludeDir = $T/ngircd.d
DNS = no
Ident = no
PAM = no
OperCanUseMode = yes
[Operator]
Name = bench
Password = benchpw
[Channel]
Name = #bench
Modes = -n
EOF
	ngircd -n -f "$T/ngircd.conf" >"$T/ngircd.log" 2>&1 &
	SERVER_PID=$!
	PIDS="$PIDS $SERVER_PID"
	if ! wait_for 20 port_open "$port"; then
		tail -5 "$T/ngircd.log" >&2
		problem "ngircd did not start"
		stop_pid "$SERVER_PID"
		return
	fi
	echo "$(ngircd --version 2>/dev/null | head -1 | cut -d- -f1) on 127.0.0.1:$port, load $(load)," \
		"flood limits lifted (MaxPenaltyTime=0, senders +F)"
	for s in $SENDERS; do
		run_one ngircd "$s" --irc "127.0.0.1:$port"
	done
	stop_pid "$SERVER_PID"
	profile_report ngircd
	n=$(grep -c -i "buffer space exhausted" "$T/ngircd.log")
	[ "$n" -gt 0 ] && echo "    ngircd dropped $n clients: buffer space exhausted"
}

# ---- Redis pub/sub, no persistence ----
bench_redis() {
	command -v redis-server >/dev/null || { problem "redis-server is not installed"; return; }
	port=$(free_port)
	mkdir -p "$T/redis"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$T/redis" \
		--daemonize no --logfile "$T/redis.log" >/dev/null 2>&1 &
	SERVER_PID=$!
	PIDS="$PIDS $SERVER_PID"
	if ! wait_for 20 port_open "$port"; then
		tail -5 "$T/redis.log" >&2
		problem "redis-server did not start"
		stop_pid "$SERVER_PID"
		return
	fi
	echo "$(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$port, load $(load)," \
		"no persistence"
	for s in $SENDERS; do
		run_one redis "$s" --redis "127.0.0.1:$port"
	done
	stop_pid "$SERVER_PID"
	profile_report redis
}

# ---- report ----
machine() {
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
		"$(uname -sr), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "shape: $RECEIVERS receivers in one room, senders $SENDERS, $SIZE-byte messages," \
		"window $WINDOW per sender (in flight until every receiver has it and the server" \
		"acked it where it can: chatd ACK, Redis PUBLISH reply; IRC has no ack)," \
		"${DURATION} s of sending or $MESSAGES messages per run; chatbench and the server share" \
		"the machine"
}

# cpu_per_delivery SYS SENDERS: server CPU microseconds per delivery, or n/a.
cpu_per_delivery() {
	v=$(sed -n 's/.*server us per delivery \([0-9.]*\).*/\1/p' "$T/detail.$1.$2" 2>/dev/null)
	echo "${v:-n/a}"
}

table() {
	echo
	printf '%-8s %7s %14s %10s %10s %14s\n' system senders deliveries/s p50_us p99_us \
		server_cpu_us
	for s in $SENDERS; do
		for sys in $SYSTEMS; do
			if [ -s "$T/result.$sys.$s" ]; then
				awk -v c="$(cpu_per_delivery "$sys" "$s")" \
					'{printf "%-8s %7s %14s %10s %10s %14s\n", $1, $2, $3, $4, $5, c}' \
					"$T/result.$sys.$s"
			else
				printf '%-8s %7s %14s %10s %10s %14s\n' "$sys" "$s" n/a n/a n/a n/a
			fi
		done
	done
	echo "(server_cpu_us: the server's CPU time per delivery; it moves less than the rates" \
		"when other work shares the machine)"
	echo
	echo "ratios chatd / peer (deliveries/s: above 1 favours chatd; p99 and server CPU per" \
		"delivery: below 1 favours chatd):"
	for s in $SENDERS; do
		for peer in ngircd redis; do
			a=$T/result.chatd.$s b=$T/result.$peer.$s
			if [ -s "$a" ] && [ -s "$b" ]; then
				paste -d' ' "$a" "$b" | awk -v p="$peer" -v ca="$(cpu_per_delivery chatd "$s")" \
					-v cb="$(cpu_per_delivery "$peer" "$s")" '{
					printf "  %2s senders: chatd/%-6s deliveries/s %6.3fx   p99 %7.2fx   server CPU/delivery %6.2fx\n",
						$2, p, ($8 > 0 ? $3 / $8 : 0), ($10 > 0 ? $5 / $10 : 0), (cb > 0 ? ca / cb : 0) }'
			else
				printf '  %2s senders: chatd/%-6s n/a\n' "$s" "$peer"
			fi
		done
	done
}

machine
build_chatbench || exit 1
for sys in $SYSTEMS; do
	case $sys in
	chatd) bench_chatd ;;
	ngircd) bench_ngircd ;;
	redis) bench_redis ;;
	*) problem "unknown system $sys" ;;
	esac
done
table
BUILD=$BUILD sh test/bench/file_bench.sh || problem "the file transfer benchmark had problems"
BUILD=$BUILD sh test/bench/audio_bench.sh || problem "the voice benchmark (audio_bench) had problems"
{ echo; make -s --no-print-directory "$BUILD/bench/tui_bench" >/dev/null && "$BUILD/bench/tui_bench"; } || problem "the full-screen client bench (tui_bench) did not run"
if [ $problems -gt 0 ]; then
	echo "bench: $problems part(s) could not run" >&2
	exit 1
fi
exit 0
