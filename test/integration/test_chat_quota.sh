#!/bin/sh
# One user must not be able to take what everyone shares (issue 13): rooms
# (a per-user quota and creation rate; direct conversations on their own
# budget), other members' bandwidth (PRESENCE flips are throttled like
# TYPING), or a name (names are unique whatever their case; an old database
# with two spellings of one name keeps the older account).
# With NX_OLD_CHATD=/path/to/old/chatd the clash database is made by that
# binary (a build of 8c2de37); without it, by this chatd and sqlite3.
. test/lib/common.sh
nx_need_bins

# raw SCENARIO ARGS...: a rawclient scenario that must exit 0.
raw() {
	nx_run rawclient "$@"
	cat "$T/out"
	[ "$RC" -eq 0 ] || { cat "$T/err"; fail "rawclient $*: exit $RC"; }
}

# flood_field EXPR: a value from the JSON line of the last create-flood.
flood_field() {
	grep '^{' "$T/out" | tail -n 1 | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

say "room creation rate (defaults: room_rate 10 a minute, user_rooms 50)"
# this script logs in from one address more often than login_rate allows
nx_start_chatd -o chatd.login_rate=1000
for u in alice bob carol dave eve; do nx_account "$u"; done
nx_expect 0 "alice creates lobby" nexus_as alice create lobby
raw create-flood eve pw-eve-secret e 100
[ "$(flood_field 'j["ok"]')" -eq 10 ] || fail "eve created $(flood_field 'j["ok"]') of 100 rooms at once, the rate allows a burst of 10"
[ "$(flood_field 'j["errors"].get("8", 0)')" -eq 90 ] || fail "the rooms past the rate were not refused with ERR_RATE_LIMITED"
ok "one user's burst of 100 rooms: 10 created, 90 ERR_RATE_LIMITED: $(flood_field 'j["first"]["8"]')"
nx_expect 0 "bob creates a room meanwhile" nexus_as bob create bobs
nx_expect 0 "carol opens a first direct conversation with dave meanwhile" nexus_as carol say @dave "hi dave"

say "PRESENCE: 500 flips from alice, counted at bob (a member of lobby)"
nx_expect 0 "bob joins lobby" nexus_as bob join lobby
NX_EXEC=1 rawclient listen bob pw-bob-secret 10 lobby >"$T/bob-listen.out" 2>&1 &
LPID=$!
PIDS="$PIDS $LPID"
nx_wait_grep 10 "$T/bob-listen.out" READY "bob listens"
raw presence-flip alice pw-alice-secret 500 3
wait "$LPID"
nx_forget_pid "$LPID"
PUSHES=$(jsonl "$T/bob-listen.out" count "j['type'] == 'PRESENCE' and j['user'] == 'alice'")
# alice ends online; then she leaves (offline)
LAST=$(grep '"PRESENCE"' "$T/bob-listen.out" | grep '"alice"' | grep -v '"count": 0' | tail -n 1)
ok "500 presence flips gave bob $PUSHES pushes of alice's presence; the last before she left: $LAST"
[ "$PUSHES" -le 20 ] || fail "bob got $PUSHES presence pushes for 500 flips (at most 20 wanted)"
echo "$LAST" | grep -q '"count": 1' || fail "the last push does not say alice is online (her final state)"
say "names are the same whatever their case (the case chosen first is kept for display)"
nexus_as Alice trust --yes >/dev/null || fail "trust as Alice"
nx_expect nonzero "Alice cannot register beside alice" nexus_as Alice register
nx_err_has "taken \(by alice" "the refusal names the account"
nx_expect nonzero "ALICE cannot register beside alice" rawclient req - x REGISTER user=ALICE secret=pw-ALICE-secret
grep -q '"code": 11' "$T/out" || { nx_show; fail "REGISTER ALICE was not refused with ERR_EXISTS"; }
raw login ALICE pw-alice-secret
grep -q '"user": "alice"' "$T/out" || fail "LOGIN as ALICE did not log in alice"
ok "LOGIN as ALICE logs in alice (the token names alice)"
nexus_as ALICE trust --yes >/dev/null || fail "trust as ALICE"
export NEXUS_PASSWORD=pw-alice-secret
nx_expect 0 "nexus login as ALICE with alice's password" nexus_as ALICE login
unset NEXUS_PASSWORD
nx_say_id ALICE say lobby "hello from ALICE"
nx_expect 0 "history of lobby" nexus_as bob history lobby -n 5 --json
jsonl "$T/out" count "j['user'] == 'alice' and j['text'] == 'hello from ALICE'" >/dev/null ||
	{ nx_show; fail "the message of the client logged in as ALICE is not signed alice"; }
ok "nexus logged in as ALICE speaks as alice"
nx_expect nonzero "bob cannot create Lobby beside lobby" nexus_as bob create Lobby
nx_err_has "#lobby already exists" "the refusal names the room"
nx_expect 0 "carol joins LOBBY (lobby)" nexus_as carol join LOBBY
nx_expect 0 "lobby's members" nexus_as carol members lobby --json
jsonl "$T/out" count "j.get('user') == 'carol'" >/dev/null || { nx_show; fail "carol is not in lobby after joining LOBBY"; }
nx_expect 0 "alice creates a private room" nexus_as alice create Secret --private
nx_expect 0 "alice invites DAVE to SECRET" nexus_as alice invite SECRET DAVE
nx_expect 0 "dave (invited as DAVE) joins secret" nexus_as dave join secret
nx_say_id bob say @ALICE "dm to ALICE"
nx_say_id bob say @alice "dm to alice"
nx_expect 0 "alice's conversation with BOB" nexus_as alice history @BOB --json
[ "$(jsonl "$T/out" count "j['text'] in ('dm to ALICE', 'dm to alice') and j['room'] == '@alice:bob'")" -eq 2 ] ||
	{ nx_show; fail "@ALICE and @alice are not one conversation @alice:bob"; }
ok "@ALICE, @alice and @BOB are the one conversation @alice:bob"
# Tom and amy sort one way byte-wise (@Tom:amy), the other way whatever
# their case (@amy:Tom): the conversation is named byte-wise from the names
# as registered, as the clients and videod name it.
nx_account Tom
nx_account amy
nx_say_id Tom say @amy "from Tom"
nx_say_id amy say @Tom "from amy"
nx_say_id amy say @TOM "from amy to TOM"
nx_say_id Tom say @AMY "from Tom to AMY"
nx_expect 0 "Tom's conversation with amy" nexus_as Tom history @amy --json
[ "$(jsonl "$T/out" count "j['text'].startswith('from ') and j['room'] == '@Tom:amy'")" -eq 4 ] ||
	{ nx_show; fail "@amy, @Tom, @TOM and @AMY are not one conversation @Tom:amy"; }
for u in Tom amy; do
	nx_expect 0 "$u's rooms" nexus_as "$u" rooms --json
	[ "$(jsonl "$T/out" count "j['room'].startswith('@')")" -eq 1 ] &&
		jsonl "$T/out" count "j['room'] == '@Tom:amy'" >/dev/null ||
		{ nx_show; fail "$u does not have the one conversation @Tom:amy"; }
done
ok "@amy, @Tom, @TOM and @AMY are the one conversation @Tom:amy, in both users' lists"
printf 'pw-root-secret\n' | "$BUILD/chatd" -s "$T/state" adduser root --admin >/dev/null ||
	fail "chatd adduser root --admin"
printf 'pw-x-secret-x\n' | "$BUILD/chatd" -s "$T/state" adduser ROOT >"$T/out" 2>"$T/err" &&
	fail "chatd adduser ROOT succeeded beside root"
nx_err_has "already exists \(as root" "chatd adduser ROOT is refused"
raw req root pw-root-secret USER_ADMIN user=EVE count=3 secret=pw-eve-newsecret
raw login eve pw-eve-newsecret
ok "USER_ADMIN reset of EVE reset eve's password"


say "room quota on a new server: user_rooms=5, max_rooms=12 (direct conversations not counted), user_dms=3"
nx_stop_chatd
mv "$T/state" "$T/state-names"
mv "$T/chatd.log" "$T/chatd-names.log"
nx_start_chatd -o chatd.user_rooms=5 -o chatd.max_rooms=12 -o chatd.user_dms=3 -o chatd.login_rate=1000
for u in alice bob carol dave mallory; do raw req - x REGISTER user=$u secret=pw-$u-secret; done

raw create-flood mallory pw-mallory-secret m 40
[ "$(flood_field 'j["ok"]')" -eq 5 ] || fail "mallory created $(flood_field 'j["ok"]') of 40 rooms, the quota is 5"
[ "$(flood_field 'j["errors"].get("18", 0)')" -eq 35 ] || fail "the 35 rooms past the quota were not refused with ERR_QUOTA"
flood_field 'j["first"]["18"]' | grep -q "you have created 5 rooms" || fail "the quota error does not say why"
ok "rooms one user can create: 5 of 40 (user_rooms), the rest ERR_QUOTA: $(flood_field 'j["first"]["18"]')"

raw req alice pw-alice-secret ROOM_CREATE room=lobby
ok "alice still creates a room"
raw req bob pw-bob-secret JOIN room=@alice count=0
ok "bob opens a first direct conversation"
raw create-flood carol pw-carol-secret c 5
raw create-flood dave pw-dave-secret d 1
nx_expect 1 "bob cannot create a 13th room" rawclient req bob pw-bob-secret ROOM_CREATE room=full
grep -q "maximum of 12 rooms" "$T/out" || { nx_show; fail "the refusal does not name the server's cap"; }
raw req bob pw-bob-secret JOIN room=@carol count=0
ok "with 12 rooms, bob still opens a first direct conversation with carol"
raw create-flood mallory pw-mallory-secret x 4 alice bob carol dave
[ "$(flood_field 'j["ok"]')" -eq 3 ] || fail "mallory opened $(flood_field 'j["ok"]') of 4 conversations, the quota is 3"
flood_field 'j["first"]["18"]' | grep -q "you have started 3 direct conversations" || fail "the DM quota error does not say why"
ok "direct conversations one user can start: 3 of 4 (user_dms)"

say "after a restart the quotas still count what each user made"
nx_stop_chatd
nx_start_chatd -o chatd.user_rooms=6 -o chatd.max_rooms=100 -o chatd.login_rate=1000
raw create-flood mallory pw-mallory-secret r 3
[ "$(flood_field 'j["ok"]')" -eq 1 ] || fail "after a restart mallory created $(flood_field 'j["ok"]') more rooms, expected 1 (6 - 5)"
ok "mallory owns 6 rooms after the restart, the new user_rooms"

say "an old database with alice and a newer Alice, lobby and a newer Lobby"
nx_stop_chatd
mv "$T/state" "$T/state-quota"
mv "$T/chatd.log" "$T/chatd-quota.log"
OLD=${NX_OLD_CHATD:-}
if [ -n "$OLD" ]; then
	# the old binary: both names register, both rooms are created
	mkdir -p "$T/state"
	"$OLD" -d -s "$T/state" -p "$CHAT_PORT" -o common.bind=127.0.0.1 >"$T/old-chatd.log" 2>&1 &
	OPID=$!
	PIDS="$PIDS $OPID"
	wait_for 20 grep -q "listening on" "$T/old-chatd.log" || { cat "$T/old-chatd.log"; fail "the old chatd did not start"; }
	raw req - x REGISTER user=alice secret=pw-alice-secret
	raw req - x REGISTER user=Alice secret=pw-Alice-secret
	raw req alice pw-alice-secret ROOM_CREATE room=lobby
	raw req Alice pw-Alice-secret ROOM_CREATE room=Lobby flags=1
	nx_kill "$OPID"
	ok "the old chatd ($OLD) made alice, Alice, lobby and Lobby"
else
	# this chatd, then what a version 1 database could hold, by hand
	nx_start_chatd
	raw req - x REGISTER user=alice secret=pw-alice-secret
	raw req alice pw-alice-secret ROOM_CREATE room=lobby
	nx_stop_chatd
	python3 - "$T/state/chat.db" <<'PY' || fail "cannot make the old database"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
DROP INDEX users_name_nocase; DROP INDEX rooms_name_nocase;
INSERT INTO users(name, hash, admin, created) SELECT 'Alice', hash, 0, created + 1 FROM users WHERE name = 'alice';
INSERT INTO rooms(name, flags, topic, creator, created) VALUES('Lobby', 1, '', 'Alice', 1);
INSERT INTO members(room, user, joined) SELECT r.id, u.id, 1 FROM rooms r, users u WHERE r.name = 'Lobby' AND u.name = 'Alice';
PRAGMA user_version = 1;
""")
db.commit()
PY
	mv "$T/chatd.log" "$T/chatd-made.log"
	ok "a version 1 database with alice, Alice (same password), lobby and Lobby"
fi
nx_start_chatd -o chatd.login_rate=1000
grep "has the name of the older" "$T/chatd.log"
[ "$(grep -c "user Alice (id [0-9]*) has the name of the older user alice" "$T/chatd.log")" -eq 1 ] ||
	fail "chatd did not log the clash of Alice with alice once"
[ "$(grep -c "room Lobby (id [0-9]*) has the name of the older room lobby" "$T/chatd.log")" -eq 1 ] ||
	fail "chatd did not log the clash of Lobby with lobby once"
grep -q "UPDATE users SET name = 'NEWNAME'" "$T/chatd.log" || fail "the log does not say what an admin can do"
ok "chatd started on the old database and logged each clash once"
raw login Alice pw-alice-secret
grep -q '"user": "alice"' "$T/out" || fail "LOGIN as Alice did not reach alice, the older account"
ok "LOGIN as Alice reaches alice, who keeps the name"
if [ -n "$OLD" ]; then
	nx_expect 1 "the newer Alice cannot log in with her password" rawclient login Alice pw-Alice-secret
fi
KEY=$(python3 "$ROOT/test/lib/rawclient.py" forge-token "$T/state/token.key" Alice $(($(date +%s) + 600)))
printf 'Alice %s\n' "$KEY" >"$T/alice-token"
nx_run rawclient login Alice "@$T/alice-token"
grep -q "HELLO answered with" "$T/err" || { nx_show; fail "a token for Alice was accepted (as alice?)"; }
ok "a token issued to the newer Alice is refused, not taken for alice's"
nx_expect 0 "JOIN LOBBY reaches lobby" rawclient req alice pw-alice-secret JOIN room=LOBBY count=0
grep -q '"room": "lobby"' "$T/out" || { nx_show; fail "LOBBY did not reach lobby"; }
nx_stop_chatd
nx_start_chatd -o chatd.login_rate=1000
[ "$(grep -c "has the name of the older" "$T/chatd.log")" -eq 4 ] || fail "a restart did not log each clash once more"
ok "a restart logs each clash once again"
say "all quota, presence and name checks passed"
