#!/bin/sh
# Saved servers (issue 11, item 2): the first trust + register saves the
# server as the default, so bare commands work afterwards; a second server
# (another chatd on another port) is saved beside it, `nexus servers` lists
# both (text and JSON), `-s NAME` and `-s HOST:PORT` pick one, an address
# with two saved servers is refused as ambiguous, and "not logged in" hints
# carry the -s the user needs (none for the default). `nexus ports` uses
# the saved login for chat, filed and audiod, and only with the pinned
# certificate. Runs in a private network namespace so that filed and audiod
# can hold the default ports 5556 and 5557 that `nexus ports` checks, and so
# that nothing answers on localhost:5555.
if [ -z "${NX_NETNS:-}" ]; then
	command -v unshare >/dev/null || { echo "unshare is missing (util-linux)"; exit 1; }
	NX_NETNS=1 exec unshare -n sh "$0" "$@"
fi
FILE_PORT=5556
. test/lib/common.sh
ip link set lo up || fail "cannot bring up lo in the namespace"
nx_need_bins
for b in filed audiod; do [ -x "$BUILD/$b" ] || fail "$BUILD/$b not built"; done

# nx USER ARGS...: the real client with USER's own config folder and
# nothing from the environment about the server: only what it saved.
nx() {
	x_user=$1
	shift
	mkdir -p "$T/cfg/$x_user"
	env -u NEXUS_SERVER -u NEXUS_CHAT_PORT -u NEXUS_FILE_PORT -u NEXUS_AUDIO_PORT -u NEXUS_USER \
		NEXUS_CONFIG_DIR="$T/cfg/$x_user" NEXUS_PASSWORD="pw-$x_user-secret" "$BUILD/nexus" "$@" \
		</dev/null
}

# start_daemon NAME LOG STATE PORT: a daemon in the background until it listens.
start_daemon() {
	"$BUILD/$1" -d -s "$3" -p "$4" -o common.bind=127.0.0.1 >>"$T/$2.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 20 grep -q "listening on" "$T/$2.log" || { cat "$T/$2.log"; fail "$2 did not start"; }
}

say "server A: chatd, filed (5556), audiod (5557); server B: another chatd"
nx_start_chatd
start_daemon filed filed "$T/state" 5556
start_daemon audiod audiod "$T/state" 5557
CHAT2=$(nx_free_port)
start_daemon chatd chatd2 "$T/state2" "$CHAT2"
A="127.0.0.1:$CHAT_PORT"
B="127.0.0.1:$CHAT2"

say "nothing saved: a bare command goes to localhost:5555"
nx_expect 3 "bare history without a saved server" nx ann history lobby
nx_err_has "localhost:5555" "names localhost:5555"

say "ann: trust and register with -s 127.0.0.1 -P, then bare commands"
nx_expect 0 "trust A" nx ann -s 127.0.0.1 -P "$CHAT_PORT" trust --yes
FPA=$(grep -Eo 'SHA256:[0-9a-f]+' "$T/out" | head -1)
nx_err_has "saved as server $A, the default" "trust says A is saved as the default"
nx_expect 0 "register on A" nx ann -s 127.0.0.1 -P "$CHAT_PORT" register ann
nx_expect 0 "bare create" nx ann create lobby
nx_expect 0 "bare say" nx ann say lobby "hello from a bare command"
nx_expect 0 "bare history (it exited 7 before)" nx ann history lobby
nx_err_has "hello from a bare command" "history shows the message"
nx_expect 0 "bare whoami" nx ann whoami
grep -qx ann "$T/out" || { nx_show; fail "whoami is not ann"; }
ok "the saved default is A, logged in as ann"

say "a second server B, saved beside A"
nx_expect 0 "trust B" nx ann -s 127.0.0.1 -P "$CHAT2" trust --yes
FPB=$(grep -Eo 'SHA256:[0-9a-f]+' "$T/out" | head -1)
nx_err_has "saved as server $B \\(use it with: nexus -s $B\\)" "B is saved, not the default"
nx_expect 4 "history on B without a login" nx ann -s "$B" history lobby
nx_err_has "not logged in to $B; run: nexus -s $B login" "the hint names -s $B"
nx_expect 0 "rename B to lab" nx ann servers rename "$B" lab
nx_expect 4 "whoami on lab without a login" nx ann -s lab whoami
nx_err_has "run: nexus -s lab login" "the hint names -s lab"
nx_expect 0 "register bea on lab" nx ann -s lab register bea
nx_expect 0 "whoami -s lab" nx ann -s lab whoami
grep -qx bea "$T/out" || { nx_show; fail "-s lab is not bea's server"; }
nx_expect 0 "whoami -s HOST:PORT" nx ann -s "$B" whoami
grep -qx bea "$T/out" || { nx_show; fail "-s $B is not bea's server"; }
nx_expect 0 "whoami -s 127.0.0.1 -P B" nx ann -s 127.0.0.1 -P "$CHAT2" whoami
grep -qx bea "$T/out" || { nx_show; fail "-s 127.0.0.1 -P $CHAT2 is not bea's server"; }
nx_expect 0 "bare whoami" nx ann whoami
grep -qx ann "$T/out" || { nx_show; fail "the default changed"; }
ok "-s NAME, -s HOST:PORT and -s HOST -P PORT pick B; the default stays A"
nx_expect 2 "-s 127.0.0.1 with two saved servers there" nx ann -s 127.0.0.1 whoami
nx_err_has "127.0.0.1 names 2 saved servers" "says the address is ambiguous"

say "nexus servers lists both"
nx_expect 0 "nexus servers" nx ann servers
cat "$T/out"
grep -Eq "^\\* $A +$A +ann +yes +$FPA\$" "$T/out" || fail "A is not listed as the default with ann and its pin"
grep -Eq "^  lab +$B +bea +yes +$FPB\$" "$T/out" || fail "lab is not listed with bea and its pin"
ok "both listed, A marked as the default"
nx_expect 0 "nexus servers --json" nx ann servers --json
jsonl "$T/out" valid || fail "not JSON lines"
[ "$(wc -l <"$T/out")" = 2 ] || { nx_show; fail "expected two JSON lines"; }
jsonl "$T/out" count "j['name'] == '$A' and j['port'] == $CHAT_PORT and j['user'] == 'ann' and j['default'] and j['logged_in'] and j['fingerprint'] == '$FPA'" >/dev/null ||
	{ nx_show; fail "A's JSON line"; }
jsonl "$T/out" count "j['name'] == 'lab' and j['host'] == '127.0.0.1' and j['port'] == $CHAT2 and j['user'] == 'bea' and not j['default'] and j['fingerprint'] == '$FPB'" >/dev/null ||
	{ nx_show; fail "lab's JSON line"; }
ok "--json: one object per server with name, address, user, pin, default"

say "another default"
nx_expect 0 "servers default lab" nx ann servers default lab
nx_expect 0 "bare whoami" nx ann whoami
grep -qx bea "$T/out" || { nx_show; fail "bare commands do not use the new default"; }
nx_expect 0 "servers default A" nx ann servers default "$A"
nx_expect 5 "default of an unknown name" nx ann servers default nosuch

say "logged out of the default: the hint has no -s"
nx_expect 0 "logout" nx ann logout
nx_expect 4 "bare whoami, logged out" nx ann whoami
nx_err_has "not logged in to $A; run: nexus login\$" "the hint is plain nexus login"
nx_expect 0 "login again" nx ann login ann

say "nexus ports with the saved login"
nx_expect 0 "nexus ports" nx ann ports
cat "$T/out"
grep -Eq "^$CHAT_PORT/tcp .*chatd [0-9.]+ answers, logged in as ann" "$T/out" || fail "chat line"
grep -Eq "^5556/tcp .*filed [0-9.]+ answers, logged in as ann" "$T/out" || fail "files: not answering with the login"
grep -Eq "^5557/tcp .*audiod [0-9.]+ answers, logged in as ann" "$T/out" || fail "voice: not answering with the login"
ok "chat, filed and audiod answer with ann's login (bare: the saved default)"
nx_expect 0 "nexus ports 127.0.0.1 (by address)" nx ann -P "$CHAT_PORT" ports 127.0.0.1
grep -Eq "^5556/tcp .*answers, logged in as ann" "$T/out" || { nx_show; fail "by address: files"; }
ok "by address too"
nx_expect 0 "nexus ports --json" nx ann ports --json
jsonl "$T/out" count "any(p['port'] == 5557 and p['remote'] == 'answers' and 'logged in as ann' in p['detail'] for p in j['ports'])" >/dev/null ||
	{ nx_show; fail "--json: voice detail"; }
ok "--json says it too"

say "the login goes only to the pinned certificate"
cp "$T/cfg/ann/known_servers" "$T/known.bak"
sed -i "s|^$A .*|$A SHA256:$(printf '%064d' 0)|" "$T/cfg/ann/known_servers"
nx_expect 0 "nexus ports, pin changed" nx ann ports
cat "$T/out"
grep -q "logged in as" "$T/out" && fail "the token went to a certificate that is not the pinned one"
grep -Eq "^5556/tcp .*needs a login token.*not the pinned one" "$T/out" || fail "files should say it needs a login and why none was sent"
ok "no login sent to an unpinned certificate"
cp "$T/known.bak" "$T/cfg/ann/known_servers"

say "cal: trusts B (his default), then A; no login anywhere"
nx_expect 0 "cal trusts B" nx cal -s "$B" trust --yes
nx_expect 0 "cal trusts A" nx cal -s "$A" trust --yes
nx_expect 0 "nexus -s A ports, no login" nx cal -s "$A" ports
cat "$T/out"
grep -Eq "^5556/tcp .*needs a login token; run: nexus -s $A login" "$T/out" ||
	fail "files: the login hint lacks -s $A"
grep -Eq "^5557/tcp .*Shadow Nexus, but:" "$T/out" || fail "voice: no login, but it answers"
ok "without a login: files says how to log in there, with -s"

say "CONFIGDIR/servers: mode 0600; a damaged line costs that line only"
SF="$T/cfg/ann/servers"
[ "$(stat -c %a "$SF")" = 600 ] || fail "servers is mode $(stat -c %a "$SF"), not 0600"
ok "servers is mode 0600"
BAD=$(($(wc -l <"$SF") + 1))
printf 'hand edited: three words\n' >>"$SF"
head -c 3000 /dev/zero | tr '\0' x >>"$SF" && echo >>"$SF"
printf 'ok2 127.0.0.1 1 - -\n' >>"$SF"
nx_expect 0 "bare whoami with two bad lines" nx ann whoami
grep -qx ann "$T/out" || { nx_show; fail "whoami is not ann"; }
nx_err_has "$T/cfg/ann/servers:$BAD: damaged line skipped \\(and 1 more bad lines\\); the next change to the saved servers drops them" "one warning names file:line"
[ "$(wc -l <"$T/err")" = 1 ] || { nx_show; fail "more than one line on stderr"; }
nx_expect 0 "nexus servers with bad lines" nx ann servers
grep -q "^  lab " "$T/out" && grep -q "^  ok2 " "$T/out" || { nx_show; fail "good entries missing"; }
nx_expect 0 "servers forget ok2 (a write)" nx ann servers forget ok2
! grep -q "hand edited\|xxxx\|^ok2 " "$SF" || { cat "$SF"; fail "the write kept the bad lines or ok2"; }
[ "$(stat -c %a "$SF")" = 600 ] || fail "the rewritten servers is mode $(stat -c %a "$SF")"
nx_expect 0 "bare whoami after the repair" nx ann whoami
[ ! -s "$T/err" ] || { nx_show; fail "still a warning after the repair"; }
ok "repaired by the next write, still 0600"
FIRST=$(($(wc -l <"$SF") + 63))
for i in $(seq 1 70); do echo "x$i 10.9.0.$i 5555 - -"; done >>"$SF"
nx_expect 0 "bare whoami with 72 saved servers" nx ann whoami
nx_err_has "servers:$FIRST: more than 64 servers, line skipped \\(and 7 more bad lines\\)" "too many: the first line past 64"
nx_expect 0 "servers forget x1" nx ann servers forget x1
[ "$(grep -c '^x' "$SF")" = 61 ] || { cat "$SF"; fail "expected 61 x entries after the write"; }
nx_expect 0 "bare whoami" nx ann whoami
[ ! -s "$T/err" ] || { nx_show; fail "still a warning after the write"; }
ok "entries past 64 skipped with one warning, dropped by the next write"

kill -0 $PIDS 2>/dev/null || fail "a daemon died"
ok "daemons alive"
