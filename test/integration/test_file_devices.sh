#!/bin/sh
# nexus pull into a device or FIFO writes into it: it never renames a .part
# file onto the target, which would replace /dev/null with a plain file.
. test/lib/common.sh
nx_start_chatd
nx_start_filed
nx_account alice
head -c 100000 /dev/urandom > $T/f.bin
link=$(nexus_as alice push $T/f.bin -q) || fail "push"
echo "link=$link"

nexus_as alice pull "$link" -o /dev/null -q || fail "pull to /dev/null"
[ -c /dev/null ] || fail "/dev/null replaced"
[ -e /dev/null.part ] && fail "a .part file was made beside /dev/null"
nexus_as alice pull "$link" -o $T/out.bin -q || fail "pull to file"
cmp $T/f.bin $T/out.bin || fail differ
ok "pull into /dev/null keeps the device"
