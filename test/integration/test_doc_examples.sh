#!/bin/sh
# The documents' examples, run as written: README's marked blocks
# (<!-- doc-test: NAME --> before a ```sh block) and the EXAMPLES of nexus(1)
# and chatd(8), each line on a terminal (script(1), answering "yes" to a trust
# question; passwords from NEXUS_PASSWORD), against a suite started as make
# run starts it. Inside a private network and mount namespace: chat.lan and
# server name this host, 10.0.0.7 is a second address, /var/lib is empty
# (chatd's default state folder) and $T/bin holds build/'s programs on PATH,
# as `export PATH=...` or make install would. Each line must exit 0 (a `tail`
# line runs 4 s and is stopped); the placeholders LINK (the whole
# nexus://HOST:PORT/LINK: the link a push printed), ID and R are replaced by
# values from the lines before. jq (nexus(1)'s example) comes from test/deps.sh.
# Not run here: README's install, systemctl, firewall and backup blocks
# (test_e2e_suite installs and starts the units in a container) and the voice
# block (microphones; test_audio_* drive the same flags).
if [ -z "${NX_DOC_NS:-}" ]; then
	NX_DOC_NS=1 exec unshare -n -m sh "$0" "$@"
fi
. test/lib/common.sh

case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
ip link set lo up || fail "cannot bring up lo in the namespace"
ip addr add 10.0.0.7/32 dev lo || fail "cannot add 10.0.0.7"
printf '127.0.0.1 localhost chat.lan server\n::1 localhost\n' >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts || fail "cannot bind a hosts file"
mount -t tmpfs tmpfs /var/lib || fail "cannot mount a tmpfs on /var/lib"
mkdir -p /var/lib/nexus
W=$T/work
mkdir -p "$W"
ln -s "$B" "$W/build"
export PATH="$B:$PATH"
unset NEXUS_SERVER NEXUS_CHAT_PORT NEXUS_FILE_PORT NEXUS_AUDIO_PORT NEXUS_VIDEO_PORT NEXUS_USER

say "start the suite as make run does (test/run-local.sh in an empty folder)"
(cd "$W" && BUILD="$B" exec sh "$ROOT/test/run-local.sh") >"$T/run.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 120 grep -q "Ctrl-C here stops them all" "$T/run.out" || { cat "$T/run.out"; fail "no banner"; }
ok "suite up"

# as USER: the client's config folder and password for the lines that follow.
as() {
	export NEXUS_CONFIG_DIR="$T/cfg-$1" NEXUS_PASSWORD="pw-$1-secret"
	mkdir -p "$NEXUS_CONFIG_DIR"
}

# run_line LINE: on a terminal, in $W; stdout+stderr in $T/line.out.
run_line() {
	r_line=$1
	r_limit=60
	case "$r_line" in *" tail "* | "chatd -d "*) r_limit=4 ;; esac
	printf 'yes\n' >"$T/answers"
	(cd "$W" && timeout -k 5 "$r_limit" script -qefc "$r_line" /dev/null <"$T/answers") >"$T/line.out" 2>&1
	r_rc=$?
	tr -d '\r' <"$T/line.out" >"$T/line.txt"
	sed 's/^/    | /' "$T/line.txt"
	if [ $r_rc -eq 124 ] && [ $r_limit = 4 ]; then
		r_rc=0
	fi
	[ $r_rc -eq 0 ] || fail "'$r_line' exited $r_rc"
}

# run_doc FILE WHICH: every line of one example, in order.
run_doc() {
	python3 "$ROOT/test/lib/doc_examples.py" "$1" "$2" >"$T/lines" || fail "no example $2 in $1"
	while IFS= read -r l; do
		l=$(printf '%s' "$l" | sed -e "s|nexus://[^ ]*/LINK|${URL:-LINK}|g; s| LINK| ${URL:-LINK}|g" \
			-e "s| ID\\b| ${ID:-ID}|g; s| --room R\\b| --room ${ROOM:-R}|g; s|/tmp/chat|$T/chat|g")
		printf '$ %s\n' "$l"
		run_line "$l" </dev/null
	done <"$T/lines"
	ok "$1 $2: $(wc -l <"$T/lines") lines"
}

say "README: the first user"
as alice
run_doc README.md first-user
grep -q "hello" "$T/line.txt" || fail "alice's tail does not show hello"

say "README: a second user"
as bob
run_doc README.md second-user
grep -q "hello" "$T/line.txt" || fail "bob's history does not show alice's hello"

say "README: files"
as alice
build/nexus create ops >/dev/null 2>&1 || true
(as bob && cd "$W" && build/nexus join ops) >/dev/null || fail "bob cannot join ops"
head -c 1234567 /dev/urandom >"$W/report.pdf"
head -c 20000 /dev/urandom >"$W/build.tar"
mkdir -p "$W/dir" && echo notes >"$W/dir/notes.txt"
(cd "$W" && build/nexus push report.pdf --room ops --quiet) >"$T/link" || fail "cannot push report.pdf"
URL=$(grep -o 'nexus://[^ ]*' "$T/link" | head -n 1)
[ -n "$URL" ] || fail "no link in $(cat "$T/link")"
ROOM=ops
(cd "$W" && build/nexus push build.tar --quiet) >/dev/null || fail "cannot push build.tar"
(cd "$W" && build/nexus files --json) >"$T/files.json" || fail "nexus files --json"
ID=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("name") == "build.tar": print(o["id"]); break' "$T/files.json")
[ -n "$ID" ] || fail "no id of build.tar in $(cat "$T/files.json")"
run_doc README.md files
cmp -s "$W/report.pdf" "$W/copy.pdf" || fail "copy.pdf is not report.pdf"

say "nexus(1) EXAMPLES"
printf 'pw-ann-secret\n' | "$B/chatd" -s "$W/run/state" adduser ann >/dev/null 2>&1 || fail "cannot add ann"
mkdir -p "$T/lab"
printf 'pw-ann-secret\n' | "$B/chatd" -s "$T/lab" adduser ann >/dev/null 2>&1 || fail "cannot add ann to lab"
"$B/chatd" -d -s "$T/lab" -p 6555 -o common.bind=10.0.0.7 >"$T/lab.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 20 grep -q "listening on" "$T/lab.log" || { cat "$T/lab.log"; fail "the lab chatd did not start"; }
# ops exists on both servers, made by others (alice above; maker on lab).
(as maker && cd "$W" && build/nexus -s 10.0.0.7:6555 trust --yes && build/nexus -s 10.0.0.7:6555 register maker &&
	build/nexus create ops && echo "made on lab" | build/nexus say ops) \
	>"$T/maker.out" 2>&1 || { cat "$T/maker.out"; fail "cannot create ops on 10.0.0.7:6555"; }
as ann
run_doc client-cli/nexus.1 1
run_doc client-cli/nexus.1 2
grep -q "made on lab" "$T/line.txt" || fail "ann's tail of lab's ops does not show maker's message"
run_doc client-cli/nexus.1 3
grep -q "load average" "$T/line.txt" || fail "the room's text through jq lacks uptime's line"
run_doc client-cli/nexus.1 4

say "chatd(8) EXAMPLES"
run_doc chatd/chatd.8 1
grep -q "listening on" "$T/line.txt" || fail "chatd -d did not say it listens"
run_doc chatd/chatd.8 2
[ -f /var/lib/nexus/chat.db ] || fail "chatd adduser made no /var/lib/nexus/chat.db: $(ls -la /var/lib/nexus)"

echo PASS
