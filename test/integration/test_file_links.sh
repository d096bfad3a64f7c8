#!/bin/sh
# Links and pulls that must not surprise, with the real chatd, filed and
# nexus over TLS: a push without --room/--to says its link is private and
# how to share it; someone else's pull of that link says "not shared with
# you" (6), not "no such file"; a pull never replaces a local file of the
# sender's chosen name (1) unless -o names the target or --force is given;
# the progress bar on a terminal shows the file's name; files shared with
# a room (public or private) are listed to its members and to nobody else,
# once even when shared with several of the member's rooms or by name.
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }

say "start chatd and filed; alice and bob"
# bob makes 12 rooms at once below: past the default room_rate burst (10)
nx_start_chatd -o chatd.room_rate=1000
nx_start_filed
nx_account alice
nx_account bob

say "a push with neither --room nor --to says the link is private"
head -c 300000 /dev/urandom >"$T/a.bin"
nx_expect 0 "alice: push a.bin" nexus_as alice push "$T/a.bin"
LINK=$(cat "$T/out")
printf '%s\n' "$LINK" | grep -Eq '^nexus://127\.0\.0\.1:[0-9]+/[a-z2-7]{26}$' ||
	{ nx_show; fail "push printed no link alone on stdout"; }
grep -q "private" "$T/err" && grep -q "nexus share LINK --room ROOM" "$T/err" ||
	{ nx_show; fail "push does not say the link is private and how to share it"; }
ok "push: $(cat "$T/err")"
nx_expect 0 "alice: push --json" nexus_as alice push "$T/a.bin" --json
[ "$(nx_json_get "$T/out" private)" = True ] || { nx_show; fail "--json lacks private: true"; }
[ ! -s "$T/err" ] || { nx_show; fail "push --json wrote to stderr"; }
nx_expect 0 "alice: push -q" nexus_as alice push "$T/a.bin" -q
[ ! -s "$T/err" ] || { nx_show; fail "push -q wrote to stderr"; }
nx_expect 0 "alice: push --room is not private" nexus_as alice create ops
nx_expect 0 "alice: push --room ops" nexus_as alice push "$T/a.bin" --room ops
! grep -q "private" "$T/err" || { nx_show; fail "a shared push says private"; }

say "bob's pull of alice's own link: not shared with you (6), nothing created"
nx_expect 6 "bob: pull alice's own link" nexus_as bob pull "$LINK" -o "$T/nope"
nx_err_has "not shared with you" "the refusal says not shared with you"
nx_err_has "alice" "and whose link it is"
! grep -qi "no such" "$T/err" || { nx_show; fail "still says no such file"; }
[ ! -e "$T/nope" ] && [ ! -e "$T/nope.part" ] || fail "a refused pull created a file"
nx_expect 5 "an unknown link is still not found (5)" nexus_as bob pull \
	"nexus://127.0.0.1:$FILE_PORT/aaaaaaaaaaaaaaaaaaaaaaaaaa"

say "a pull does not replace a local file of the sender's name"
mkdir -p "$T/dl"
printf 'mine\n' >"$T/dl/a.bin"
pull_in_dl() { (cd "$T/dl" && nexus_as alice pull "$@"); }
BUILD=$(cd "$BUILD" && pwd)
nx_expect 1 "alice: pull into a folder holding a.bin" pull_in_dl "$LINK"
nx_err_has "a\.bin exists already.*-o PATH.*--force" "the refusal names the file, -o and --force"
[ "$(cat "$T/dl/a.bin")" = mine ] || fail "the local file was replaced"
[ ! -e "$T/dl/a.bin.part" ] || fail "a refused pull left a .part file"
ok "a.bin kept"
nx_expect 0 "alice: pull --force replaces it" pull_in_dl "$LINK" --force
cmp -s "$T/a.bin" "$T/dl/a.bin" || fail "--force did not replace a.bin"
printf 'mine\n' >"$T/dl/other.bin"
nx_expect 0 "alice: pull -o names the target" pull_in_dl "$LINK" -o other.bin
cmp -s "$T/a.bin" "$T/dl/other.bin" || fail "-o did not write other.bin"
rm -f "$T/dl/a.bin"
nx_expect 0 "alice: pull where a.bin is missing" pull_in_dl "$LINK"
cmp -s "$T/a.bin" "$T/dl/a.bin" || fail "the pull did not write a.bin"
nx_expect 2 "--force is for pull" nexus_as alice push "$T/a.bin" --force

say "the progress bar on a terminal shows the file's name"
head -c 4000000 /dev/urandom >"$T/bar-name-shown.bin"
nx_expect 0 "alice: push bar-name-shown.bin" nexus_as alice push "$T/bar-name-shown.bin" -q
BLINK=$(cat "$T/out")
script -qec "env NEXUS_CONFIG_DIR='$T/cfg/alice' NEXUS_SERVER=127.0.0.1 \
	NEXUS_CHAT_PORT=$CHAT_PORT NEXUS_FILE_PORT=$FILE_PORT '$BUILD/nexus' pull '$BLINK' \
	-o '$T/bar.back'" "$T/typescript" >/dev/null 2>&1 </dev/null ||
	{ cat "$T/typescript"; fail "pull on a terminal"; }
cmp -s "$T/bar-name-shown.bin" "$T/bar.back" || fail "pull on a terminal: bytes differ"
grep -aq '%' "$T/typescript" || { cat -v "$T/typescript"; fail "no progress bar drawn"; }
grep -aq 'bar-name-shown\.bin *[0-9]*%' "$T/typescript" ||
	{ cat -v "$T/typescript"; fail "the progress bar does not show the file name"; }
ok "bar: $(tr '\r' '\n' <"$T/typescript" | grep -a '%' | head -n 1 | cat -v)"
say "files shared with a room are listed to its members"
nx_account carol
nx_expect 0 "bob: join ops" nexus_as bob join ops
nx_expect 0 "alice: create the private room inner" nexus_as alice create inner --private
nx_expect 0 "alice: invite bob to inner" nexus_as alice invite inner bob
nx_expect 0 "bob: join inner" nexus_as bob join inner
printf 'for the room\n' >"$T/room-file.txt"
printf 'for the inner room\n' >"$T/inner-file.txt"
nx_expect 0 "alice: push room-file.txt --room ops" nexus_as alice push "$T/room-file.txt" --room ops -q
RLINK=$(cat "$T/out")
nx_expect 0 "alice: push inner-file.txt --room #inner" nexus_as alice push "$T/inner-file.txt" --room "#inner" -q
nx_expect 0 "bob: files" nexus_as bob files
grep -q "room-file\.txt  (from alice in #ops)  $RLINK" "$T/out" ||
	{ nx_show; fail "bob's files lack the file shared with ops"; }
grep -q "inner-file\.txt  (from alice in #inner)" "$T/out" ||
	{ nx_show; fail "bob's files lack the file shared with the private room inner"; }
ok "bob sees: $(grep -c 'from alice in' "$T/out") room files"
nx_expect 0 "bob: files --json" nexus_as bob files --json
python3 - "$T/out" "$RLINK" <<'EOF2' || { nx_show; fail "files --json: room shares"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [o for o in rows if o["name"] == "room-file.txt"]
assert len(r) == 1 and r[0]["room"] == "ops" and r[0]["shared"] and r[0]["link"] == sys.argv[2], rows
assert [o["room"] for o in rows if o["name"] == "inner-file.txt"] == ["inner"], rows
EOF2
nx_expect 0 "bob: pull the room link from his list" nexus_as bob pull "$RLINK" -o "$T/room.back"
cmp -s "$T/room-file.txt" "$T/room.back" || fail "bob's copy of the room file differs"
nx_expect 0 "carol (no member of ops or inner): files" nexus_as carol files
! grep -q "room-file\|inner-file" "$T/out" || { nx_show; fail "carol sees files of rooms she is not in"; }
nx_expect 0 "alice: files lists her own files once, as hers" nexus_as alice files
[ "$(grep -c "room-file\.txt" "$T/out")" = 1 ] && ! grep -q "from alice" "$T/out" ||
	{ nx_show; fail "alice's own file listed as a room share"; }
say "a file shared with two of bob's rooms and with bob by name is listed once"
nx_expect 0 "alice: share room-file.txt with inner too" nexus_as alice share "$RLINK" --room inner -q
ILINK=$(cat "$T/out")
nx_expect 0 "alice: share it with bob by name" nexus_as alice share "$RLINK" --to bob -q
BLINK2=$(cat "$T/out")
[ -n "$ILINK" ] && [ -n "$BLINK2" ] || { nx_show; fail "share printed no link"; }
nx_expect 0 "bob: files" nexus_as bob files
[ "$(grep -c "room-file\.txt" "$T/out")" = 1 ] ||
	{ nx_show; fail "room-file.txt listed $(grep -c "room-file\.txt" "$T/out") times, not once"; }
grep -q "inner-file\.txt  (from alice in #inner)" "$T/out" || { nx_show; fail "inner-file.txt gone"; }
nx_expect 0 "bob: files --json" nexus_as bob files --json
python3 - "$T/out" <<'EOF2' || { nx_show; fail "files --json lists a file twice"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = [o["id"] for o in rows]
assert len(ids) == len(set(ids)), rows
assert [o["name"] for o in rows].count("room-file.txt") == 1, rows
EOF2
ok "listed once, in text and --json"
nx_expect 0 "alice: unshare the inner link" nexus_as alice unshare "$ILINK"
nx_expect 0 "alice: unshare bob's link" nexus_as alice unshare "$BLINK2"
nx_expect 0 "bob: leave inner" nexus_as bob leave inner
nx_expect 0 "alice: unshare the ops link" nexus_as alice unshare "$RLINK"
nx_expect 0 "bob: files" nexus_as bob files
! grep -q "room-file\|inner-file" "$T/out" || { nx_show; fail "a revoked or left room's file is still listed"; }
ok "left room and revoked link: no longer listed"
say "shares name rooms and users in any case: --room OPS is ops's, --to BOB is bob's"
printf 'for OPS\n' >"$T/case-room.txt"
printf 'for BOB\n' >"$T/case-user.txt"
nx_expect 0 "alice: push case-room.txt --room OPS" nexus_as alice push "$T/case-room.txt" --room OPS -q
CRLINK=$(cat "$T/out")
nx_expect 0 "alice: push case-user.txt --to BOB" nexus_as alice push "$T/case-user.txt" --to BOB -q
CULINK=$(cat "$T/out")
nx_expect 0 "bob: files" nexus_as bob files
grep -q "case-room\.txt  (from alice in #OPS)" "$T/out" ||
	{ nx_show; fail "bob (a member of ops) does not see the file shared with OPS"; }
grep -q "case-user\.txt  (from alice" "$T/out" ||
	{ nx_show; fail "bob does not see the file shared with BOB"; }
nx_expect 0 "carol: files" nexus_as carol files
! grep -q "case-" "$T/out" || { nx_show; fail "carol sees files shared with OPS or BOB"; }
ok "bob sees the files shared with OPS and BOB; carol sees neither"
nx_expect 0 "alice: unshare the OPS link" nexus_as alice unshare "$CRLINK"
nx_expect 0 "alice: unshare the BOB link" nexus_as alice unshare "$CULINK"
say "a forged or someone else's room pass is refused by filed"
python3 - "$FILE_PORT" "$(cat "$T/cfg/carol/tokens/"*)" <<'EOF2' || fail "raw FILE_ROOM_LIST with a forged pass"
import socket, ssl, struct, sys
port, tok = int(sys.argv[1]), sys.argv[2].split()[1].encode()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
def frame(t, p): return struct.pack(">IHH", len(p), t, 0) + p
def sstr(b): return struct.pack(">I", len(b)) + b
s.sendall(frame(0x0001, struct.pack(">H", 1) + sstr(b"file") + sstr(tok) + sstr(b"raw")))
s.sendall(frame(0x020b, struct.pack(">I", 7) + sstr(b"inner") + sstr(b"p1.9999999999.0." + b"0" * 64)))
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
    i, errs = 0, []
    while i + 8 <= len(data):
        n, t = struct.unpack(">IH", data[i:i + 6])
        if t == 3: errs.append(struct.unpack(">IH", data[i + 8:i + 14]))
        i += 8 + n
    if errs: break
assert errs and errs[0] == (7, 10), (errs, data)
EOF2
ok "FILE_ROOM_LIST with a forged pass: ERR_FORBIDDEN"

say "many busy rooms: nexus files asks filed for one room's files at a time"
# 12 rooms of bob's with 80 shares each, about 150 bytes a FILE_INFO: 140 KiB
# of replies, more than filed's output queue of 64 KiB at once, 12 KiB per
# room. The shares go straight into filed's database while it is stopped
# (960 "nexus share" runs would each post a chat notice).
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	nx_expect 0 "bob: create busy$i" nexus_as bob create "busy$i" -q
done
nx_stop_filed
python3 - "$T/state/files/files.db" <<'EOF2' || fail "cannot add the shares to files.db"
import random, sqlite3, string, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
fid = db.execute("SELECT id FROM files WHERE name='room-file.txt'").fetchone()[0]
rnd = random.Random(7)
for room in range(1, 13):
    for _ in range(80):
        link = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(26))
        db.execute("INSERT INTO shares(link, file, room, user, ts) VALUES(?, ?, ?, '', 0)",
                   (link, fid, "busy%d" % room))
db.commit()
EOF2
nx_start_filed -o filed.max_outq=65792 -o filed.max_frame=16448 -o filed.chunk_kb=16
nx_expect 0 "bob: files (12 busy rooms, a 64 KiB queue at filed)" nexus_as bob files
[ ! -s "$T/err" ] || { nx_show; fail "files with busy rooms wrote to stderr"; }
[ "$(grep -c "room-file\.txt" "$T/out")" = 1 ] || { nx_show; fail "room-file.txt not listed once"; }
! grep -qi "slow" "$T/filed.log" || { tail -n 5 "$T/filed.log"; fail "filed dropped bob as a slow reader"; }
ok "listed, once, without a slow-reader drop"

say "without chatd, files lists what filed alone knows and says so"
nx_stop_chatd
nx_expect 0 "alice: files with chatd down" nexus_as alice files
grep -q "a\.bin" "$T/out" || { nx_show; fail "alice's own files not listed without chatd"; }
nx_err_has "listing only your files" "stderr says the room files are missing"
kill -0 "$FILED_PID" || fail "filed died"
echo PASS
