#!/bin/sh
# make run (test/run-local.sh): in a private network namespace (so the
# default ports are ours), start it in a tmux terminal from an empty folder,
# wait for the banner, check that all four ports answer (nexus ports) and
# that the printed fingerprint is the one served; a second run in the same
# folder refuses at once and touches nothing; a second run in another folder
# fails with "in use by chatd (pid N)" naming the port, the flag and the
# config key, and leaves the first running; Ctrl-C in the terminal stops all
# four daemons cleanly.
if [ -z "${NX_NETNS:-}" ]; then
	command -v unshare >/dev/null || { echo "unshare is missing (util-linux)"; exit 1; }
	NX_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. test/lib/common.sh

ip link set lo up || fail "cannot bring up lo in the namespace"
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
for d in chatd filed audiod videod nexus; do [ -x "$B/$d" ] || fail "$B/$d is not built"; done
W=$T/work
mkdir -p "$W/second" "$T/cfg"
TM="tmux -L nxrunlocal$$ -f /dev/null"
tmux_stop() { $TM kill-server 2>/dev/null; }
trap 'tmux_stop; nx_cleanup' EXIT
export NEXUS_CONFIG_DIR=$T/cfg

say "start test/run-local.sh in a terminal (tmux) in an empty folder"
start=$(date +%s.%N)
$TM new-session -d -x 120 -y 40 \
	"cd '$W' && BUILD='$B' sh '$ROOT/test/run-local.sh' >'$W/out' 2>&1; echo \$? >'$W/rc'; sleep 600" ||
	fail "tmux did not start"
wait_for 120 grep -q "Ctrl-C here stops them all" "$W/out" || {
	cat "$W/out" "$W"/run/*.log
	fail "no banner from run-local.sh"
}
up=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cat "$W/out"
ok "banner after ${up}s"
pids=$(sed -n 's/^ *\(chatd\|filed\|audiod\|videod\) *pid \([0-9]*\) .*/\2/p' "$W/out")
pids=$(echo $pids) # one line
[ "$(echo "$pids" | wc -w)" = 4 ] || fail "expected four daemon pids in the banner, got: $pids"
PIDS="$PIDS $pids" # stopped at exit if the test fails half-way
for p in 5555 5556 5557; do grep -q " 127.0.0.1:$p (TCP)$" "$W/out" || fail "banner does not print 127.0.0.1:$p"; done
grep -q "https://127.0.0.1:5000/ (and UDP 5000)" "$W/out" || fail "banner does not print the video address"
for d in chatd filed audiod videod; do grep -q "listening on" "$W/run/$d.log" || fail "$d is not listening"; done
[ -f "$W/run/nexus.conf" ] && [ -d "$W/run/state" ] || fail "no run/nexus.conf and run/state"
[ -f "$W/run/state/tls/cert.pem" ] && [ -f "$W/run/state/token.key" ] ||
	fail "certificate or token key not in run/state: $(ls -R "$W/run/state")"
ok "four pids, ports 5555 5556 5557 5000, state in run/state"

say "nexus ports: all four answer"
"$B/nexus" ports 127.0.0.1 >"$T/ports.out" 2>&1
cat "$T/ports.out"
grep -q "^5555/tcp .*chatd [0-9.]* answers" "$T/ports.out" || fail "chat port does not answer"
grep -q "^5556/tcp .*in use by filed.*Shadow Nexus" "$T/ports.out" || fail "file port does not answer"
grep -q "^5557/tcp .*in use by audiod.*Shadow Nexus" "$T/ports.out" || fail "voice port does not answer"
grep -q "^5000/tcp .*in use by videod.*TLS answers" "$T/ports.out" || fail "video port does not answer"
grep -q "^5000/udp .*in use by videod" "$T/ports.out" || fail "videod does not hold UDP 5000"
ok "chatd, filed, audiod, videod answer on their ports"

say "the printed fingerprint is the one the server presents"
fpr=$(sed -n 's/^ *certificate: \(SHA256:[0-9a-f]*\)$/\1/p' "$W/out")
[ -n "$fpr" ] || fail "no fingerprint in the banner"
"$B/nexus" -s 127.0.0.1 trust --yes >"$T/trust.out" 2>&1 || fail "nexus trust: $(cat "$T/trust.out")"
grep -qi "${fpr#SHA256:}" "$T/trust.out" || fail "nexus trust saw another fingerprint: $(cat "$T/trust.out")"
ok "nexus trust pinned $fpr"

say "a second make run in the same folder refuses at once and touches nothing"
logsum=$(cat "$W"/run/*.log | sha256sum)
outlen=$(wc -c <"$W/out")
(cd "$W" && BUILD="$B" timeout 20 sh "$ROOT/test/run-local.sh") >"$T/same.out" 2>&1
rcs=$?
cat "$T/same.out"
[ $rcs -ne 0 ] && [ $rcs -ne 124 ] || fail "the second run-local.sh in the same folder exited $rcs"
grep -q "already running from this folder (make run, pid [0-9]" "$T/same.out" || fail "no \"already running\" message with a pid"
grep -q "Ctrl-C in its terminal, or: kill [0-9]" "$T/same.out" || fail "the message does not say how to stop it"
sleep 1
[ "$(cat "$W"/run/*.log | sha256sum)" = "$logsum" ] || fail "the second run changed the first one's logs"
[ "$(wc -c <"$W/out")" = "$outlen" ] || fail "the second run printed into the first one's terminal: $(tail -c +$((outlen + 1)) "$W/out")"
for p in $pids; do kill -0 "$p" 2>/dev/null || fail "the first run lost pid $p"; done
ok "refused with exit $rcs; logs and the first terminal unchanged"

say "a second make run in another folder says which port is in use, by whom, and how to change it"
(cd "$W/second" && BUILD="$B" timeout 120 sh "$ROOT/test/run-local.sh") >"$T/second.out" 2>&1
rc2=$?
cat "$T/second.out"
[ $rc2 -ne 0 ] || fail "the second run-local.sh exited 0"
chat_pid=$(echo $pids | cut -d' ' -f1)
grep -q "cannot listen on TCP port 5555 (all addresses): it is in use by chatd (pid $chat_pid); stop that, or choose another port with -p PORT or 'port = PORT' in \[chatd\] of nexus.conf" "$T/second.out" ||
	fail "the message does not name port 5555, chatd (pid $chat_pid), -p and [chatd] port"
for p in $pids; do kill -0 "$p" 2>/dev/null || fail "the first run lost pid $p"; done
"$B/nexus" ports 127.0.0.1 | grep -q "^5555/tcp .*chatd [0-9.]* answers" || fail "first chatd stopped answering"
ok "second run: exit $rc2, names port 5555; the first still runs"

say "Ctrl-C in the terminal stops all four"
t0=$(date +%s.%N)
$TM send-keys -t 0 C-c
wait_for 60 test -s "$W/rc" || fail "run-local.sh did not end within 60 s of Ctrl-C: $(tail "$W/out")"
gone=0
wait_for 30 sh -c "for p in $pids; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0" && gone=1
stop=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
tail -n 8 "$W/out"
[ $gone = 1 ] || fail "daemons left running after Ctrl-C: $(ps -o pid,args -p "$(echo $pids | tr ' ' ,)")"
[ "$(cat "$W/rc")" = 0 ] || fail "run-local.sh exited $(cat "$W/rc") after Ctrl-C"
grep -q "^run-local: all stopped" "$W/out" || fail "no \"all stopped\" line"
for d in chatd filed audiod videod; do
	grep -q "$d: stopped" "$W/run/$d.log" || fail "$d did not log a clean stop: $(tail -n 3 "$W/run/$d.log")"
done
for p in $pids; do nx_forget_pid "$p"; done
ok "all four stopped in ${stop}s after Ctrl-C, exit 0, no pid left"
echo "PASS"
