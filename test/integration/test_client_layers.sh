#!/bin/sh
# The client's layers (test/lib/layers.py): the ground floor (connection
# core, pins, the one-request helper, argument parsing, the HTTPS client,
# settings, output) calls nothing above it, the scripting commands never
# call the full-screen client, and the full-screen client calls no command
# (it runs them as children). Checked on the object files with nm.
. "$(dirname "$0")/../lib/common.sh"
nx_need_bins

say "no upward call between the client's layers"
python3 test/lib/layers.py "$BUILD/obj/client-cli" >"$T/layers.out" 2>&1
rc=$?
cat "$T/layers.out"
[ $rc -eq 0 ] || fail "the client's layers are crossed upward (see above)"
ok "$(tail -n 1 "$T/layers.out")"
