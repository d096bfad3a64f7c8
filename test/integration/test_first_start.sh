#!/bin/sh
# First start of the whole suite, ROUNDS times (default 10): an empty state
# folder, chatd, filed, audiod and videod released at the same instant (all
# blocked opening one FIFO until the test opens its write end), with the
# default certificate, key and token-key paths under the state folder.
# Then: each daemon came up; all four present the certificate in
# state/tls/cert.pem; key and token key are complete and private, with no
# temporary file left; a token chatd issued at registration is accepted by
# filed (push), audiod (talk) and videod (call link), which each read the
# token key themselves.
. test/lib/common.sh

ROUNDS=${ROUNDS:-10}
DAEMONS="chatd filed audiod videod"
for d in $DAEMONS nexus; do [ -x "$BUILD/$d" ] || fail "$BUILD/$d is not built"; done

# fprs CERT PORT...: SHA-256 of CERT (PEM), then of the certificate each TLS
# server on 127.0.0.1:PORT presents, one per line (one python3 start: the
# machine is slow).
fprs() {
	python3 -c 'import hashlib, socket, ssl, sys
h = lambda der: hashlib.sha256(der).hexdigest()
print(h(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())))
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
for p in sys.argv[2:]:
    with socket.create_connection(("127.0.0.1", int(p)), timeout=20) as s:
        with c.wrap_socket(s) as t:
            print(h(t.getpeercert(binary_form=True)))' "$@"
}

# free_ports N: N TCP ports nobody listens on, all held while chosen, so
# they differ (one python3 start for the whole test: the machine is slow)
free_ports() {
	python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# client USER ARGS...: the real client with this round's ports and config.
client() {
	c_user=$1
	shift
	env NEXUS_CONFIG_DIR="$R/cfg" NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT="$CP" \
		NEXUS_FILE_PORT="$FP" NEXUS_AUDIO_PORT="$AP" NEXUS_VIDEO_PORT="$VP" \
		NEXUS_USER="$c_user" "$BUILD/nexus" "$@"
}

round() {
	i=$1
	R=$T/r$i
	mkdir -p "$R/state" "$R/cfg"
	# shellcheck disable=SC2086
	set -- $PORTS
	CP=$1 FP=$2 AP=$3 VP=$4
	shift 4
	PORTS="$*"
	cat >"$R/nexus.conf" <<EOF
[common]
state_dir = $R/state
bind = 127.0.0.1
[chatd]
port = $CP
[filed]
port = $FP
[audiod]
port = $AP
[videod]
port = $VP
media_port = $VP
chat_host = 127.0.0.1
chat_port = $CP
www = $ROOT/videod/www
EOF
	mkfifo "$R/go"
	pids=""
	for d in $DAEMONS; do
		# shellcheck disable=SC2016 # expanded by the inner shell
		sh -c 'read -r _ <"$1"; shift; exec "$@"' sh "$R/go" \
			"$BUILD/$d" -d -f "$R/nexus.conf" >"$R/$d.log" 2>&1 &
		pids="$pids $!"
		eval "pid_$d=$!"
	done
	PIDS="$PIDS $pids"
	# wait until all four starters are blocked opening the FIFO, so that
	# opening its write end releases them together
	# shellcheck disable=SC2016
	wait_for 30 sh -c 'for p; do [ "$(cat /proc/$p/wchan)" = wait_for_partner ] || exit 1; done' sh $pids ||
		fail "round $i: the starters did not all reach the FIFO"
	t0=$(date +%s.%N)
	exec 3>"$R/go"
	exec 3>&-
	for d in $DAEMONS; do
		eval "p=\$pid_$d"
		if ! wait_for 60 grep -q "listening on" "$R/$d.log" || ! kill -0 "$p" 2>/dev/null; then
			for l in "$R"/*.log; do echo "--- $l"; cat "$l"; done
			fail "round $i: $d did not come up"
		fi
	done
	up=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

	S=$R/state
	fprs "$S/tls/cert.pem" $CP $FP $AP $VP >"$R/fprs" || fail "round $i: cert.pem or a handshake failed"
	want=$(head -n 1 "$R/fprs")
	[ "$(sort -u "$R/fprs" | wc -l)" = 1 ] && [ "$(wc -l <"$R/fprs")" = 5 ] ||
		fail "round $i: cert.pem, then ports $CP $FP $AP $VP present: $(cat "$R/fprs")"
	for d in $DAEMONS; do
		grep -q "TLS fingerprint SHA256:$want" "$R/$d.log" ||
			fail "round $i: $d logged another fingerprint: $(grep -o 'SHA256:[0-9a-f]*' "$R/$d.log")"
	done
	[ "$(stat -c '%s %a' "$S/token.key")" = "32 600" ] ||
		fail "round $i: token.key is $(stat -c '%s bytes, mode %a' "$S/token.key"), want 32 bytes, 600"
	[ "$(stat -c %a "$S/tls/key.pem")" = 600 ] || fail "round $i: key.pem mode $(stat -c %a "$S/tls/key.pem")"
	openssl pkey -in "$S/tls/key.pem" -noout 2>/dev/null || fail "round $i: key.pem does not parse"
	[ "$(openssl pkey -in "$S/tls/key.pem" -pubout 2>/dev/null)" = \
		"$(openssl x509 -in "$S/tls/cert.pem" -noout -pubkey 2>/dev/null)" ] ||
		fail "round $i: key.pem does not match cert.pem"
	left=$(find "$S" -name '*.tmp*' -o -name '*XXXXXX*' | head -n 5)
	[ -z "$left" ] || fail "round $i: temporary files left: $left"

	client alice trust --yes >"$R/c.out" 2>&1 || fail "round $i: trust: $(cat "$R/c.out")"
	NEXUS_PASSWORD=pw-alice-secret client alice register >"$R/c.out" 2>&1 ||
		fail "round $i: register: $(cat "$R/c.out")"
	client alice create lobby >"$R/c.out" 2>&1 || fail "round $i: create: $(cat "$R/c.out")"
	# from here on only the saved token: no password in the environment
	echo "round $i" >"$R/hello.txt"
	client alice push "$R/hello.txt" >"$R/push.out" 2>&1 ||
		fail "round $i: filed refused the token: $(cat "$R/push.out")"
	grep -q "nexus://" "$R/push.out" || fail "round $i: no link from push: $(cat "$R/push.out")"
	client alice talk lobby --in "$T/quiet.wav" --out "$R/heard.wav" --duration 1 --json \
		>"$R/talk.json" 2>"$R/talk.err" ||
		fail "round $i: audiod refused the token: $(cat "$R/talk.err")"
	grep -q '"event":"joined"' "$R/talk.json" || fail "round $i: talk did not join: $(cat "$R/talk.json")"
	client alice call lobby --once >"$R/call.out" 2>&1 ||
		fail "round $i: videod refused the token: $(cat "$R/call.out")"
	grep -q "https://127.0.0.1:$VP/join#code=" "$R/call.out" || fail "round $i: no call link: $(cat "$R/call.out")"

	for p in $pids; do kill "$p" 2>/dev/null; done
	for d in $DAEMONS; do
		eval "p=\$pid_$d"
		wait "$p"
		rc=$?
		nx_forget_pid "$p"
		[ $rc -eq 0 ] || fail "round $i: $d exited $rc on SIGTERM: $(tail -n 3 "$R/$d.log")"
	done
	ok "round $i: all four up ${up}s after the release; one certificate ${want%"${want#????????????????}"}...; token.key 32 bytes 0600; push, talk and call accepted chatd's token"
}

# half a second of silence for nexus talk --in (no microphone here)
python3 -c 'import sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(bytes(48000)); w.close()' "$T/quiet.wav" || fail "cannot write quiet.wav"

PORTS=$(free_ports $((4 * ROUNDS))) || fail "no free ports"
say "$ROUNDS first starts of all four daemons at once"
n=1
while [ $n -le "$ROUNDS" ]; do
	round $n
	n=$((n + 1))
done
echo "PASS"
