#!/bin/sh
# The first run of the full-screen client: no config, no login, an unknown
# server. It asks for the server, checks that it answers (a server that
# does not is said so and asked for again, before any password), shows the
# server's certificate fingerprint and asks to trust it, then asks for the
# account (register); then the screen opens. The server is saved as the
# default, so the next run goes straight in with the cached token. Refusing
# the certificate ends with status 7 before any account question; a given
# server that is down ends with status 3, also before them.
. test/lib/common.sh
. test/lib/tui.sh
nx_need_bins
tui_need

nx_start_chatd
nx_expect 0 "the server's fingerprint (bob trusts it)" nexus_as bob trust --yes
FP=$(grep -Eo 'SHA256:[0-9a-fA-F:]+' "$T/out" | head -1)
[ -n "$FP" ] || { nx_show; fail "no fingerprint in nexus trust output"; }
ok "server fingerprint $FP"

DEAD=$(nx_free_port)
say "carol's first run: server (a dead one first), trust, register"
TUI_NO_SERVER=1 tui_start carol 140 30
tui_wait 10 'Welcome to Shadow Nexus' "a welcome"
tui_wait 10 'Server \[localhost:5555\]: ?$' "asks for the server"
tui_type "127.0.0.1:$DEAD"
tui_wait 10 "cannot connect to 127.0.0.1:$DEAD: connection refused" "says the server does not answer"
tui_wait 5 'Server \[127.0.0.1:'"$DEAD"'\]: ?$' "asks for the server again"
tui_has 'Password|login/register' && { tui_screen; fail "asked for the account before the server answered"; }
ok "no account question before the server answers"
tui_type "127.0.0.1:$CHAT_PORT"
tui_wait 15 "not known yet" "says the server is not known"
tui_wait 5 "fingerprint is $FP" "shows the server's fingerprint"
tui_wait 5 'Trust this server\? \[yes/no\] ?$' "asks to trust it"
tui_has 'Password|login/register' && { tui_screen; fail "asked for the account before the trust question"; }
ok "the trust question comes before the account questions"
tui_type "yes"
tui_wait 10 "Log in to 127.0.0.1:$CHAT_PORT or register a new account\\? \\[login/register\\]: ?\$" \
	"asks: log in or register"
tui_type "register"
tui_wait 10 'User name: ?$' "asks for the user name"
tui_type "carol"
tui_wait 10 'Password: ?$' "asks for the password"
tui_type "pw-carol-secret"
tui_wait 10 'Password again: ?$' "asks for it again"
tui_type "pw-carol-secret"
tui_has 'pw-carol-secret' && { tui_screen; fail "the password was echoed"; }
ok "the password is not echoed"
tui_wait 15 '\[carol\] \[connected' "the full screen opens, logged in as carol"
tui_wait 10 'no rooms yet' "says how to start (no rooms yet)"
NEXUS_CONFIG_DIR="$T/cfg/carol" "$BUILD/nexus" servers --json >"$T/servers.json" 2>&1 ||
	{ cat "$T/servers.json"; fail "nexus servers"; }
jsonl "$T/servers.json" count "j['default'] and j['address'] == '127.0.0.1:$CHAT_PORT' and j['user'] == 'carol' and j['fingerprint'] == '$FP'" >/dev/null ||
	{ cat "$T/servers.json"; fail "server not saved as the default"; }
ok "server saved as the default, with carol and the fingerprint"
[ -f "$T/cfg/carol/tokens/127.0.0.1_$CHAT_PORT" ] || fail "login not cached"
ok "login cached"
grep -q "127.0.0.1:$CHAT_PORT $FP" "$T/cfg/carol/known_servers" || { cat "$T/cfg/carol/known_servers"; fail "pin not saved"; }
ok "certificate pinned"
tui_type "/create carols-room"
tui_wait 10 '^ #carols-room' "carol creates a room"
tui_type "first words"
tui_wait 10 '<carol> first words' "and talks in it"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "exit 0"

say "carol's second run goes straight in"
TUI_NO_SERVER=1 tui_start carol 140 30
tui_wait 15 '\[carol\] \[connected' "straight to the full screen"
tui_wait 10 '<carol> first words' "with the room and its history"
tui_has 'Password|Welcome|Trust' && { tui_screen; fail "asked again"; }
ok "no question asked"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "exit 0"

say "a saved login the server refuses: the client asks to log in again"
printf 'carol not-a-valid-token 0\n' >"$T/cfg/carol/tokens/127.0.0.1_$CHAT_PORT"
TUI_NO_SERVER=1 tui_start carol 140 30
tui_wait 15 'log in again' "says the saved login was refused"
tui_wait 10 '\[login/register\]: ?$' "asks: log in or register"
tui_type "login"
tui_wait 10 'User name \[carol\]: ?$' "offers carol (from the saved server) as the user name"
tui_keys Enter
tui_wait 10 'Password: ?$' "asks for the password"
tui_type "pw-carol-secret"
tui_wait 15 '\[carol\] \[connected' "logged in again"
tui_wait 10 '<carol> first words' "with carol's room"
tui_type "/quit"
tui_wait 10 'NEXUS-EXIT=0' "exit 0"
grep -q "not-a-valid-token" "$T/cfg/carol/tokens/127.0.0.1_$CHAT_PORT" && fail "the new login was not saved"
ok "the new login replaced the refused one"

say "dave refuses the certificate: asked before any account question"
tui_start dave 140 30
tui_wait 15 "fingerprint is $FP" "shows the fingerprint"
tui_has 'Password|login/register' && { tui_screen; fail "asked for the account before the trust question"; }
ok "no account question yet"
tui_type "no"
tui_wait 10 'NEXUS-EXIT=7' "exit 7 (certificate)"
tui_has 'not trusted' || { tui_screen; fail "no 'not trusted' message"; }
ok "says the server is not trusted"
[ -f "$T/cfg/dave/tokens/127.0.0.1_$CHAT_PORT" ] && fail "dave got a login without trusting"
ok "nothing was sent"
[ -s "$T/cfg/dave/servers" ] && grep -q "^default" "$T/cfg/dave/servers" && fail "an untrusted server was saved"
ok "nothing was saved"

say "erin's given server (NEXUS_SERVER) is down: exit 3 before any account question"
tui_start erin 140 30 NEXUS_CHAT_PORT="$DEAD"
tui_wait 10 'NEXUS-EXIT=3' "exit 3 (network)"
tui_has "cannot connect to 127.0.0.1:$DEAD" || { tui_screen; fail "does not say the server does not answer"; }
ok "says the server does not answer"
tui_has 'Password|login/register' && { tui_screen; fail "asked for the account"; }
ok "no account question"
