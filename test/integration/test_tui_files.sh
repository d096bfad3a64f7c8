#!/bin/sh
# Files in the full-screen client, against a real chatd and filed: alice
# /sends a 2 MB file into a room (the transfers panel says done, bob's
# `nexus tail` gets the file notice); bob pushes a file with --room; alice
# sees it rendered as a file notice with its /get and pulls it with /get,
# same SHA-256; /get where there is no notice is a clear error; /send of a
# file the server already holds says done with its size.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need
[ -x "$BUILD/filed" ] || { echo "FAIL: $BUILD/filed not built (make builds every daemon)"; exit 1; }

say "start chatd and filed; alice and bob in room share"
nx_start_chatd
nx_start_filed
for u in alice bob; do nx_account "$u"; done
nx_expect 0 "alice: create share" nexus_as alice create share
nx_expect 0 "bob: join share" nexus_as bob join share
nx_expect 0 "alice: create empty" nexus_as alice create empty
head -c 2000000 /dev/urandom >"$T/report.bin"
head -c 1500000 /dev/urandom >"$T/from-bob.bin"

say "alice opens the client; bob follows share"
tui_start alice 110 30 NEXUS_FILE_PORT="$FILE_PORT"
tui_wait 15 '\[connected' "status line says connected"
tui_type "/join empty"
tui_wait 10 '^ #empty' "in empty"
tui_type "/get"
tui_wait 10 '/get: no file notice in this room' "/get without a notice: a clear error"
tui_type "/join share"
tui_wait 10 '^ #share' "in share"
nx_tail_to bobtail bob share --json
sleep 1

say "alice: /send a 2 MB file"
tui_type "/send $T/report.bin"
tui_wait 30 '↑ report\.bin done' "the transfers panel says the push is done"
nx_wait_grep 15 "$T/bobtail.out" 'report\.bin \(1\.9 MiB\) nexus://' "bob's tail got the file notice"
tui_wait 10 '<alice> 📎 report\.bin \(1\.9 MiB\) — /get [0-9]+' "alice sees her notice rendered as a file"
LINK=$(grep -o 'nexus://[^"]*' "$T/bobtail.out" | tail -1)
nx_expect 0 "bob pulls alice's file from the notice's link" nexus_as bob pull "$LINK" -o "$T/report.back"
[ "$(nx_sha "$T/report.back")" = "$(nx_sha "$T/report.bin")" ] || fail "bob's copy differs"
ok "bob's copy has the same SHA-256"

say "/send of a file the server already has: done with its size, not 0 B"
head -c 1048576 /dev/urandom >"$T/known.bin"
nx_expect 0 "alice: push known.bin from the command line first" nexus_as alice push "$T/known.bin" -q
tui_type "/send $T/known.bin"
tui_wait 30 '↑ known\.bin done \(1\.0 MiB\)' "the panel gives the size of a file already stored"
nx_wait_grep 15 "$T/bobtail.out" 'known\.bin \(1\.0 MiB\) nexus://' "bob's tail got its notice"

say "bob pushes a file into share; alice /gets it"
nx_expect 0 "bob: push --room share" nexus_as bob push "$T/from-bob.bin" --room share
tui_wait 15 '<bob> 📎 from-bob\.bin \(1\.4 MiB\) — /get [0-9]+' "bob's notice on alice's screen"
tui_type "/get $T/got.bin"
tui_wait 30 '↓ got\.bin done' "the transfers panel says the pull is done"
[ "$(nx_sha "$T/got.bin")" = "$(nx_sha "$T/from-bob.bin")" ] || fail "alice's /get copy differs"
[ ! -e "$T/got.bin.part" ] || fail "a .part file was left behind"
ok "alice's /get copy has the same SHA-256"

say "/get ID of a message that is not a notice; /send of a missing file"
nx_say_id bob say share "just words"
tui_wait 10 '<bob> just words' "bob's plain message"
tui_type "/get $ID"
tui_wait 10 '/get: that message is not a file notice' "/get ID of a plain message: a clear error"
tui_type "/send $T/no-such-file"
tui_wait 10 '/send: cannot read' "/send of a missing file: a clear error"

say "NEXUS_PROGRESS_FD: the progress lines the panel reads"
head -c 700000 /dev/urandom >"$T/p.bin"
NEXUS_PROGRESS_FD=2 nexus_as bob push "$T/p.bin" -q >"$T/out" 2>"$T/err" || { nx_show; fail "push with NEXUS_PROGRESS_FD"; }
grep -qx 'progress 700000 700000' "$T/err" || { nx_show; fail "no final progress line"; }
ok "push writes progress DONE TOTAL lines on the descriptor"

say "/quit leaves with status 0"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "nexus exited 0"
