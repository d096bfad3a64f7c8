#!/bin/sh
# filed with the real chatd and nexus over TLS on loopback: push and pull
# with matching SHA-256, --json, stdin, listing, sharing with a room (the
# notice in the room) and a user, revoking, deleting; and every refusal
# with its exit status, creating nothing: wrong token (4), unknown link
# (5), another user's own link and a revoked link (6), quota (10), file
# too large (10), traversal-style names (1), a damaged file on the server
# (11).
. test/lib/common.sh
nx_need_bins
[ -x "$BUILD/filed" ] || { echo "skip: $BUILD/filed not built"; exit 77; }

say "start chatd and filed (quota 10 MiB, largest file 3 MiB)"
nx_start_chatd
nx_start_filed -o filed.quota_mb=10 -o filed.max_file_mb=3
nx_account alice
nx_account bob
nx_account carol
nx_expect 0 "alice: create ops" nexus_as alice create ops
nx_expect 0 "bob: join ops" nexus_as bob join ops

blobs() { find "$T/state/files/blobs" "$T/state/files/tmp" -type f | wc -l; }

say "push and pull: same bytes, same SHA-256, --json fields"
head -c 1234567 /dev/urandom >"$T/a.bin"
nx_expect 0 "alice: push a.bin --json" nexus_as alice push "$T/a.bin" --json
cp "$T/out" "$T/push.json"
python3 - "$T/push.json" "$(nx_sha "$T/a.bin")" <<'EOF' || fail "push --json"
import json, sys
o = json.loads(open(sys.argv[1]).read())
for k in ("link", "size", "sha256", "seconds", "name"):
    assert k in o, k
assert o["size"] == 1234567 and o["sha256"] == sys.argv[2] and o["name"] == "a.bin", o
assert o["link"].startswith("nexus://127.0.0.1:"), o["link"]
EOF
LINK=$(nx_json_get "$T/push.json" link)
ok "push: $LINK"
nx_expect 0 "alice: pull -o" nexus_as alice pull "$LINK" -o "$T/a.back"
cmp -s "$T/a.bin" "$T/a.back" || fail "pulled bytes differ"
[ ! -e "$T/a.back.part" ] || fail "a .part file was left behind"
ok "pulled copy is identical, sha $(nx_sha "$T/a.back")"
nx_expect 0 "alice: push again (already stored: nothing sent)" nexus_as alice push "$T/a.bin" --json
[ "$(nx_json_get "$T/out" sent)" = 0 ] || { nx_show; fail "a second push sent data again"; }
[ "$(nx_json_get "$T/out" link)" = "$LINK" ] || fail "a second push made another file"
nx_run nexus_as alice push "$T/a.bin" -q </dev/null
[ "$RC" = 0 ] && [ "$(cat "$T/out")" = "$LINK" ] || { nx_show; fail "push in a pipe: only the link"; }
[ ! -s "$T/err" ] || { nx_show; fail "push in a pipe wrote to stderr"; }
ok "in a pipe: only the link on stdout"

say "stdin"
printf 'from stdin\n' | nexus_as alice push - --name note.txt --json >"$T/out" 2>"$T/err" ||
	{ nx_show; fail "push - from stdin"; }
SLINK=$(nx_json_get "$T/out" link)
nx_expect 0 "alice: pull note.txt to stdout" nexus_as alice pull "$SLINK" -o -
[ "$(cat "$T/out")" = "from stdin" ] || { nx_show; fail "stdin round trip"; }
(BUILD=$(cd "$BUILD" && pwd) && cd "$T" && nexus_as alice pull "$SLINK" >/dev/null) ||
	fail "pull into the current folder"
[ "$(cat "$T/note.txt")" = "from stdin" ] || fail "pull without -o did not write note.txt"
ok "stdin push, pull to stdout and to ./note.txt"

say "listing: own files to the owner only"
nx_expect 0 "alice: files --json" nexus_as alice files --json
[ "$(grep -c '"name"' "$T/out")" = 2 ] || { nx_show; fail "alice should list 2 files"; }
nx_expect 0 "bob: files" nexus_as bob files
[ ! -s "$T/out" ] || { nx_show; fail "bob sees files that were not shared with him"; }
nx_expect 6 "bob: pull alice's own link (not shared with him)" nexus_as bob pull "$LINK" -o "$T/nope"
[ ! -e "$T/nope" ] && [ ! -e "$T/nope.part" ] || fail "a refused pull created a file"

say "share with a room: a notice with the link; anyone with it may pull"
nx_expect 0 "alice: share to ops" nexus_as alice share "$LINK" --room ops
RLINK=$(head -n 1 "$T/out")
[ "$RLINK" != "$LINK" ] || fail "sharing must make a new link"
nx_expect 0 "bob: history ops" nexus_as bob history ops
grep -q "a.bin" "$T/out" && grep -qF "$RLINK" "$T/out" || { nx_show; fail "no file notice in ops"; }
ok "notice in ops: $(grep -F "$RLINK" "$T/out")"
nx_expect 0 "bob: pull the room link" nexus_as bob pull "$RLINK" -o "$T/b.bin"
cmp -s "$T/a.bin" "$T/b.bin" || fail "bob's copy differs"

say "share with a user: listed to that user only"
nx_expect 0 "alice: push --to bob" nexus_as alice push "$T/a.bin" --name for-bob.bin --to bob --json
ULINK=$(nx_json_get "$T/out" link)
nx_expect 0 "bob: files" nexus_as bob files
grep -q "for-bob.bin" "$T/out" && grep -q "from alice" "$T/out" || { nx_show; fail "bob does not see the file shared with him"; }
nx_expect 0 "carol: files" nexus_as carol files
[ ! -s "$T/out" ] || { nx_show; fail "carol sees a file shared with bob"; }
nx_expect 0 "bob: DM with alice has the notice" nexus_as bob history @alice
grep -q "for-bob.bin" "$T/out" || { nx_show; fail "no notice in the DM"; }

say "revoke: the link stops working (6)"
nx_expect 0 "alice: unshare the room link" nexus_as alice unshare "$RLINK"
nx_expect 6 "bob: pull a revoked link" nexus_as bob pull "$RLINK" -o "$T/revoked"
nx_err_has "revoked" "revoked link"
[ ! -e "$T/revoked" ] && [ ! -e "$T/revoked.part" ] || fail "a revoked pull created a file"
nx_expect 6 "bob cannot revoke alice's link" nexus_as bob unshare "$ULINK"
nx_expect 5 "an unknown link (5)" nexus_as bob pull "nexus://127.0.0.1:$FILE_PORT/aaaaaaaaaaaaaaaaaaaaaaaaaa"
for bad in "nexus://aaaaaaaaaaaaaaaaaaaaaaaaaa" "nexus:///aaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"nexus://127.0.0.1:0/aaaaaaaaaaaaaaaaaaaaaaaaaa" "nexus://[::1/aaaaaaaaaaaaaaaaaaaaaaaaaa"; do
	nx_expect 2 "a link with no usable host: $bad" nexus_as bob pull "$bad" -o "$T/nope"
	nx_err_has "not a file link" "says it is not a file link"
done

say "limits: file too large, quota (10), nothing created"
n0=$(blobs)
head -c 4000000 /dev/urandom >"$T/big.bin"
nx_expect 10 "alice: push 4 MB over max_file_mb=3" nexus_as alice push "$T/big.bin"
nx_err_has "too large" "file too large"
head -c 3000000 /dev/urandom >"$T/c1.bin"
head -c 3000000 /dev/urandom >"$T/c2.bin"
head -c 3000000 /dev/urandom >"$T/c3.bin"
nx_expect 0 "alice: 3 MB" nexus_as alice push "$T/c1.bin"
n0=$((n0 + 1))
nx_expect 10 "alice: quota 10 MiB exceeded" nexus_as alice push "$T/c2.bin" "$T/c3.bin"
nx_err_has "quota" "over quota"
[ "$(blobs)" = "$((n0 + 1))" ] || fail "refused pushes left files: $(blobs) stored, expected $((n0 + 1))"
head -c 5000000 /dev/zero | nexus_as alice push - --name stream.bin >"$T/out" 2>"$T/err"
[ $? = 10 ] || { nx_show; fail "a stdin push over the size limit must exit 10"; }
[ "$(blobs)" = "$((n0 + 1))" ] || fail "a refused stdin push left a file"
ok "size and quota refusals left nothing behind"

say "names are never paths: traversal-style names are refused (1)"
for name in ../x /etc/passwd . .. "a/b" "$(printf 'new\nline')" "$(printf 'tab\there')"; do
	nx_expect 1 "push --name '$name'" nexus_as alice push "$T/a.bin" --name "$name"
done
nx_err_has "invalid file name" "clear error for bad names"
python3 - "$FILE_PORT" "$T" <<'EOF' || fail "raw FILE_PUSH with a NUL in the name"
# A name with NUL cannot come from argv: send the frame by hand. The
# decoder refuses it (ERR_BAD_FRAME), whatever the session state.
import socket, ssl, struct, sys
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
name = b"x\x00y"
payload = struct.pack(">IQ", 1, 10) + b"\x00" * 32 + struct.pack(">I", 0) + struct.pack(">I", len(name)) + name
s.sendall(struct.pack(">IHH", len(payload), 0x0201, 0) + payload)
data = b""
while True:
    b = s.recv(4096)
    if not b: break
    data += b
code = struct.unpack(">H", data[12:14])[0] if len(data) >= 14 else None
assert struct.unpack(">H", data[4:6])[0] == 3 and code == 1, data
EOF
ls "$T/state/files/blobs" "$T/state/files/tmp" | grep -v '^[0-9a-f]\{32\}$' | grep -v ':$' | grep . &&
	fail "a stored file is named after user input"
[ "$(blobs)" = "$((n0 + 1))" ] || fail "refused names left files"
ok "bad names refused, nothing created, blobs named by random ids only"

say "wrong token (4)"
cp "$T/cfg/alice/tokens/"* "$T/tok.bak"
for f in "$T/cfg/alice/tokens/"*; do sed -i 's/v1\.alice\.\([0-9]*\)\.[0-9a-f]*\./v1.alice.\1.0000000000000000./' "$f"; done
NX_NO_PASSWORD=1 nx_expect 4 "push with a forged token" nexus_as alice push "$T/a.bin"
nx_err_has "login" "asks to log in"
for f in "$T/cfg/alice/tokens/"*; do cp "$T/tok.bak" "$f"; done

say "a damaged file on the server: the puller says integrity (11)"
nx_expect 0 "alice: push d.bin" nexus_as alice push "$T/a.bin" --name d.bin --json
DLINK=$(nx_json_get "$T/out" link)
victim=$(ls -t "$T/state/files/blobs" | head -n 1)
printf 'X' | dd of="$T/state/files/blobs/$victim" bs=1 seek=1000 conv=notrunc 2>/dev/null
nx_expect 11 "pull of a damaged file" nexus_as alice pull "$DLINK" -o "$T/d.bin"
nx_err_has "SHA-256" "hash mismatch reported"
[ ! -e "$T/d.bin" ] && [ ! -e "$T/d.bin.part" ] || fail "a damaged pull left a file"

say "rm by the owner only"
ID=$(nx_json_get "$T/push.json" id)
nx_expect 0 "alice: share a.bin with bob" nexus_as alice share "$LINK" --to bob
BLINK=$(head -n 1 "$T/out")
nx_expect 0 "bob: pull it" nexus_as bob pull "$BLINK" -o "$T/b2.bin"
nx_expect 5 "bob cannot remove alice's file" nexus_as bob rm "$ID"
nx_expect 0 "alice: rm $ID" nexus_as alice rm "$ID"
nx_expect 5 "pull after rm" nexus_as alice pull "$LINK" -o "$T/gone"
nx_expect 5 "bob: shared link after rm" nexus_as bob pull "$BLINK" -o "$T/gone2"
kill -0 "$FILED_PID" || fail "filed died"
echo PASS
