#!/bin/sh
# File transfer benchmark (called by test/bench/run.sh): push and pull of a
# BENCH_FILE_MB (2048) MiB file through filed over TLS on loopback, with
# the end-to-end SHA-256 check (the client hashes what it sends and what it
# receives; the pulled copy is also checked with sha256sum), side by side
# with nginx serving the same file over HTTPS (TLS 1.3, AES-128-GCM) to
# curl (download, the same piped to sha256sum since curl checks no hash,
# and upload with WebDAV PUT), scp with aes128-gcm both
# ways, and `openssl speed -evp aes-128-gcm` as the one-core crypto
# ceiling. Prints MB/s (10^6 bytes per second) and the ratios; numbers
# never fail the run. Every server runs on a free loopback port in a
# temporary folder; we stop exactly the processes we started, by PID.
# Environment: BUILD, BENCH_FILE_MB, BENCH_FILE_RUNS (2: best of), TMPDIR.
set -u
BUILD=${BUILD:-build}
MB=${BENCH_FILE_MB:-2048}
RUNS=${BENCH_FILE_RUNS:-2}
BYTES=$((MB * 1024 * 1024))
# The files live in BENCH_FILE_DIR: by default /dev/shm when it has room
# for four copies, so that the disk (and filed's fsyncs) do not hide the
# transfer path; BENCH_FILE_DIR=/var/tmp measures with the disk.
DIR=${BENCH_FILE_DIR:-}
if [ -z "$DIR" ]; then
	DIR=${TMPDIR:-/tmp}
	shm=$(df -k --output=avail /dev/shm 2>/dev/null | tail -n 1)
	[ -n "$shm" ] && [ "$shm" -gt $((MB * 1024 * 5)) ] && DIR=/dev/shm
fi
T=$(mktemp -d "$DIR/nexus-fbench.XXXXXX")
PIDS=""
problems=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

problem() {
	echo "file bench: $*" >&2
	problems=$((problems + 1))
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port_open() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" 2>/dev/null
}
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$w_end" ] && return 1
		sleep 0.1
	done
}
now() { date +%s.%N; }
# rate SECONDS: MB/s for the file.
rate() { echo "$1" | awk -v b="$BYTES" '{ if ($1 > 0) printf "%.0f", b / $1 / 1e6; else print "n/a" }'; }
# best NAME SECONDS: keep the smallest time per name in $T/times.
best() {
	old=$(sed -n "s/^$1 //p" "$T/times" 2>/dev/null)
	if [ -z "$old" ] || awk -v a="$2" -v b="$old" 'BEGIN { exit !(a < b) }'; then
		sed -i "/^$1 /d" "$T/times" 2>/dev/null
		echo "$1 $2" >>"$T/times"
	fi
}
get() { sed -n "s/^$1 //p" "$T/times"; }
# timed NAME CMD...: run CMD, record its wall time.
timed() {
	t_name=$1
	shift
	t0=$(now)
	"$@" || { problem "$t_name failed: $*"; return 1; }
	best "$t_name" "$(echo "$(now) $t0" | awk '{print $1 - $2}')"
}
# cpu_of PID: user+system seconds used so far.
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

echo "file transfer: $MB MiB over loopback, best of $RUNS, files in $DIR ($(df -T "$T" | awk 'NR==2 {print $2}')); machine $(nproc) CPUs," \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
head -c "$BYTES" /dev/urandom >"$T/src.bin"
SUM=$(sha256sum "$T/src.bin" | cut -d' ' -f1)
mkdir -p "$T/state" "$T/cfg"

# ---- the crypto ceiling ----
ceiling=$(openssl speed -seconds 3 -bytes 16384 -evp aes-128-gcm 2>/dev/null |
	awk '/^AES-128-GCM/ { printf "%.0f", $NF * 1000 / 1e6 }' | sed 's/k//')
sha_ceiling=$(openssl speed -seconds 2 -bytes 16384 -evp sha256 2>/dev/null |
	awk '/^sha256/ { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }')

# ---- filed ----
bench_filed() {
	[ -x "$BUILD/filed" ] && [ -x "$BUILD/chatd" ] && [ -x "$BUILD/nexus" ] ||
		{ problem "$BUILD/filed, chatd or nexus not built"; return; }
	cp=$(free_port)
	fp=$(free_port)
	"$BUILD/chatd" -d -s "$T/state" -p "$cp" -o common.bind=127.0.0.1 >"$T/chatd.log" 2>&1 &
	CHATD=$!
	PIDS="$PIDS $CHATD"
	"$BUILD/filed" -d -s "$T/state" -p "$fp" -o common.bind=127.0.0.1 >"$T/filed.log" 2>&1 &
	FILED=$!
	PIDS="$PIDS $FILED"
	wait_for 20 grep -q "listening on" "$T/filed.log" && wait_for 20 grep -q "listening on" "$T/chatd.log" ||
		{ problem "chatd or filed did not start"; return; }
	export NEXUS_CONFIG_DIR="$T/cfg" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$cp" NEXUS_FILE_PORT="$fp" \
		NEXUS_USER=bench NEXUS_PASSWORD=bench-password
	"$BUILD/nexus" trust --yes >/dev/null && "$BUILD/nexus" register >/dev/null ||
		{ problem "cannot register with chatd"; return; }
	i=0
	while [ $i -lt "$RUNS" ]; do
		# a new name each run: a push of a stored file would send nothing
		c0=$(cpu_of "$FILED")
		timed filed_push "$BUILD/nexus" push "$T/src.bin" --name "run$i.bin" --json >"$T/push.json" ||
			return
		c1=$(cpu_of "$FILED")
		link=$(sed -n 's/.*"link":"\([^"]*\)".*/\1/p' "$T/push.json")
		id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/push.json")
		grep -q "\"sha256\":\"$SUM\"" "$T/push.json" || problem "filed push: hash differs"
		tx=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$T/push.json")
		best filed_push_transfer "$tx"
		rm -f "$T/pulled.bin"
		c2=$(cpu_of "$FILED")
		timed filed_pull "$BUILD/nexus" pull "$link" -o "$T/pulled.bin" -q || return
		c3=$(cpu_of "$FILED")
		[ "$(sha256sum "$T/pulled.bin" | cut -d' ' -f1)" = "$SUM" ] || problem "filed pull: hash differs"
		echo "    filed run $((i + 1)): push $(echo "$c1 $c0" | awk '{print $1 - $2}') s server CPU," \
			"pull $(echo "$c3 $c2" | awk '{print $1 - $2}') s server CPU"
		"$BUILD/nexus" rm "$id" -q >/dev/null
		i=$((i + 1))
	done
	rm -f "$T/pulled.bin"
	t0=$(now)
	sha256sum "$T/src.bin" >/dev/null
	best sha256sum "$(echo "$(now) $t0" | awk '{print $1 - $2}')"
}

# ---- nginx + curl over HTTPS (TLS 1.3, AES-128-GCM), WebDAV PUT for upload ----
bench_nginx() {
	command -v nginx >/dev/null && command -v curl >/dev/null ||
		{ problem "nginx or curl is not installed"; return; }
	np=$(free_port)
	mkdir -p "$T/www/up" "$T/nginx"
	ln "$T/src.bin" "$T/www/src.bin"
	cat >"$T/nginx.conf" <<EOF2
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	sendfile on;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$np ssl;
		ssl_certificate $T/state/tls/cert.pem;
		ssl_certificate_key $T/state/tls/key.pem;
		ssl_protocols TLSv1.3;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_buffer_size 16k;
		root $T/www;
		location /up/ { dav_methods PUT; create_full_put_path on; }
	}
}
EOF2
	nginx -c "$T/nginx.conf" -p "$T/nginx" >"$T/nginx.out" 2>&1 &
	NGINX=$!
	PIDS="$PIDS $NGINX"
	wait_for 20 port_open "$np" || { cat "$T/nginx.out" "$T/nginx/error.log" >&2; problem "nginx did not start"; return; }
	i=0
	while [ $i -lt "$RUNS" ]; do
		timed curl_get curl -sSk --tls13-ciphers TLS_AES_128_GCM_SHA256 -o "$T/curl.bin" \
			"https://127.0.0.1:$np/src.bin" || return
		[ "$(stat -c %s "$T/curl.bin")" = "$BYTES" ] || problem "curl: short download"
		rm -f "$T/curl.bin"
		# curl checks no hash: the same download through sha256sum is
		# the peer of nexus pull, which checks the SHA-256
		timed curl_get_sha sh -c 'curl -sSk --tls13-ciphers TLS_AES_128_GCM_SHA256 "$1" |
			sha256sum >"$2"' sh "https://127.0.0.1:$np/src.bin" "$T/curl.sum" || return
		[ "$(cut -d' ' -f1 "$T/curl.sum")" = "$SUM" ] || problem "curl | sha256sum: hash differs"
		rm -f "$T/curl.bin" "$T/www/up/src.bin"
		timed curl_put curl -sSk --tls13-ciphers TLS_AES_128_GCM_SHA256 -T "$T/src.bin" \
			"https://127.0.0.1:$np/up/src.bin" || return
		i=$((i + 1))
	done
	rm -f "$T/www/up/src.bin"
	kill "$NGINX" 2>/dev/null
}

# ---- scp, aes128-gcm ----
bench_scp() {
	command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || { problem "openssh-server is not installed"; return; }
	sp=$(free_port)
	mkdir -p "$T/ssh" /run/sshd 2>/dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host" && ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/user" ||
		{ problem "ssh-keygen failed"; return; }
	cp "$T/ssh/user.pub" "$T/ssh/authorized_keys"
	chmod 700 "$T/ssh" && chmod 600 "$T/ssh/authorized_keys"
	cat >"$T/ssh/sshd_config" <<EOF2
Port $sp
ListenAddress 127.0.0.1
HostKey $T/ssh/host
AuthorizedKeysFile $T/ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
PidFile $T/ssh/sshd.pid
Ciphers aes128-gcm@openssh.com
Subsystem sftp internal-sftp
EOF2
	/usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" >"$T/ssh/sshd.log" 2>&1 &
	SSHD=$!
	PIDS="$PIDS $SSHD"
	wait_for 20 port_open "$sp" || { cat "$T/ssh/sshd.log" >&2; problem "sshd did not start"; return; }
	user=$(id -un)
	o="-q -P $sp -i $T/ssh/user -c aes128-gcm@openssh.com -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
	i=0
	while [ $i -lt "$RUNS" ]; do
		# shellcheck disable=SC2086
		timed scp_up scp $o "$T/src.bin" "$user@127.0.0.1:$T/scp-up.bin" || return
		rm -f "$T/scp-up.bin"
		# shellcheck disable=SC2086
		timed scp_down scp $o "$user@127.0.0.1:$T/src.bin" "$T/scp-down.bin" || return
		rm -f "$T/scp-down.bin"
		i=$((i + 1))
	done
	kill "$SSHD" 2>/dev/null
}

bench_filed
bench_nginx
bench_scp

echo
printf '  %-44s %9s %9s\n' "transfer of $MB MiB" seconds MB/s
row() { [ -n "$(get "$1")" ] && printf '  %-44s %9.2f %9s\n' "$2" "$(get "$1")" "$(rate "$(get "$1")")"; }
row filed_push "filed push (nexus push: hash + send + verify)"
row filed_push_transfer "  of which the transfer after the hash"
row filed_pull "filed pull (nexus pull: receive + hash + fsync)"
row curl_get "nginx -> curl download (HTTPS)"
row curl_get_sha "nginx -> curl | sha256sum (download + hash)"
row curl_put "curl -> nginx upload (HTTPS, WebDAV PUT)"
row scp_up "scp upload (aes128-gcm)"
row scp_down "scp download (aes128-gcm)"
row sha256sum "sha256sum of the file (one core)"
printf '  %-44s %9s %9s\n' "openssl speed -evp aes-128-gcm (one core)" "" "${ceiling:-n/a}"
printf '  %-44s %9s %9s\n' "openssl speed -evp sha256 (one core)" "" "${sha_ceiling:-n/a}"
echo
ratio() { # A B LABEL
	a=$(get "$1") b=$(get "$2")
	[ -n "$a" ] && [ -n "$b" ] && echo "$b $a" | awk -v l="$3" '{ printf "  %-44s %6.2fx\n", l, $1 / $2 }'
}
echo "ratios (speed of filed / peer; above 1 favours filed):"
ratio filed_pull curl_get "pull / nginx+curl download"
ratio filed_pull curl_get_sha "pull / nginx+curl|sha256sum download"
ratio filed_push curl_put "push / curl+nginx upload"
ratio filed_push curl_get "push / nginx+curl download"
ratio filed_pull scp_down "pull / scp download"
ratio filed_push scp_up "push / scp upload"
if [ -n "$ceiling" ] && [ -n "$(get filed_pull)" ]; then
	echo "  pull / AES-128-GCM ceiling                   $(echo "$(rate "$(get filed_pull)") $ceiling" | awk '{printf "%6.2fx", $1 / $2}')"
	echo "  push / AES-128-GCM ceiling                   $(echo "$(rate "$(get filed_push)") $ceiling" | awk '{printf "%6.2fx", $1 / $2}')"
fi
echo "(kernel TLS: $( [ -e /proc/sys/net/ipv4/tcp_available_ulp ] && grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp && echo available || echo "not available here (no tls ULP in the kernel), so no sendfile or splice under TLS" ))"
[ $problems -eq 0 ]
