#!/bin/sh
# PROTOCOL.md's rules on message types and name limits, against the real
# chatd, filed and audiod over TLS (test/lib/protocheck.py, rawclient.py):
# a well-formed frame of a type the service takes from no client (another
# service's, or one only servers send) fails alone with ERR_UNSUPPORTED
# naming the type's service, before login too, and the session goes on; a
# type number outside the registry is a protocol violation (ERR_UNSUPPORTED,
# close). Room names are at most 64 bytes (the room field's 66 hold a DM
# name), topics at most 512 bytes, as PROTOCOL.md's limits table says
# (test_limits checks the table against the code).
. test/lib/common.sh
. test/lib/audio.sh
nx_need_bins
for b in filed audiod; do [ -x "$BUILD/$b" ] || fail "$BUILD/$b not built"; done

pc() { python3 "$ROOT/test/lib/protocheck.py" "$@"; }

say "start chatd, filed and audiod; register alice"
# more logins from 127.0.0.1 in a minute than login_rate allows
nx_start_chatd -o chatd.login_rate=1000
nx_start_filed
nx_start_audiod
nx_account alice
TOK=$T/cfg/alice/tokens/127.0.0.1_$CHAT_PORT
[ -s "$TOK" ] || fail "no token file for alice at $TOK"

say "types a service does not take: ERROR{req, ERR_UNSUPPORTED}, the session goes on"
pc unsupported chat "$CHAT_PORT" - || fail "chatd, not logged in"
pc unsupported chat "$CHAT_PORT" "$TOK" || fail "chatd, logged in"
pc unsupported file "$FILE_PORT" "$TOK" || fail "filed"
pc unsupported audio "$AUDIO_PORT" "$TOK" || fail "audiod"
ok "chatd (before and after login), filed and audiod"

say "a type number outside the registry: ERROR{0, ERR_UNSUPPORTED} and close"
pc unknown chat "$CHAT_PORT" "$TOK" || fail "chatd"
pc unknown file "$FILE_PORT" "$TOK" || fail "filed"
pc unknown audio "$AUDIO_PORT" "$TOK" || fail "audiod"
ok "chatd, filed and audiod close the session"

say "room names: 64 bytes, not 65 (the field's 66 are for @a:b)"
R64=$(printf 'r%.0s' $(seq 64))
R65=$(printf 'r%.0s' $(seq 65))
nx_run rawclient req alice pw-alice-secret ROOM_CREATE "room=$R65"
grep -q '"error": "INVALID"' "$T/out" || { nx_show; fail "a 65-byte room name was not refused with ERR_INVALID"; }
grep -q "1 to 64 " "$T/out" || { nx_show; fail "the refusal does not say 64"; }
ok "65 bytes: $(tail -n 1 "$T/out" | cut -c1-160)"
nx_run rawclient req alice pw-alice-secret ROOM_CREATE "room=#$R64"
[ "$RC" -eq 0 ] || { nx_show; fail "a 64-byte room name (with '#') was refused"; }
nx_expect 0 "alice: join the 64-byte room by the client" nexus_as alice join "$R64"
ok "64 bytes: created and joined"
A32=$(printf 'a%.0s' $(seq 32))
B32=$(printf 'b%.0s' $(seq 32))
nx_account "$A32"
nx_account "$B32"
nx_expect 0 "a DM between two 32-byte names (@a:b, 66 bytes)" nexus_as "$A32" say "@$B32" "hello"

say "topics: 512 bytes, not 513"
T512=$(printf 't%.0s' $(seq 512))
nx_run rawclient req alice pw-alice-secret TOPIC "room=$R64" "text=${T512}x"
grep -q '"error": "TOO_LARGE"' "$T/out" || { nx_show; fail "a 513-byte topic was not refused with ERR_TOO_LARGE"; }
grep -q "512 bytes" "$T/out" || { nx_show; fail "the refusal does not say 512 bytes"; }
nx_run rawclient req alice pw-alice-secret TOPIC "room=$R64" "text=$T512"
[ "$RC" -eq 0 ] || { nx_show; fail "a 512-byte topic was refused"; }
ok "513 bytes refused, 512 set"

say "the daemons are still up"
for p in $CHATD_PID $FILED_PID $AUDIOD_PID; do kill -0 "$p" || fail "daemon $p died"; done
ok "all three alive"
