# Helpers for the full-screen client tests (sourced after common.sh). The
# client runs in a detached tmux server of our own (-L, a name unique to
# this test run) with TERM=xterm-256color and a UTF-8 locale; the tests read
# the screen with capture-pane and poll it, never sleeping a fixed time.
TUI_SOCK=""
TUI_SOCKS=""
TUI_N=0

# tui_stop SOCKET: keep what the pane showed (with its scroll-back) in
# $T/tui-panes.log, where nx_cleanup looks for sanitizer reports, and stop
# that tmux server.
tui_stop() {
	tmux -L "$1" capture-pane -p -S -5000 -t 0 >>"$T/tui-panes.log" 2>/dev/null
	tmux -L "$1" kill-server 2>/dev/null
}

# Stop every tmux server this test started (each has its own socket).
tui_cleanup() {
	for s in $TUI_SOCKS; do tui_stop "$s"; done
	TUI_SOCKS=""
}
trap 'tui_cleanup; nx_cleanup' EXIT

# tui_need: fail without tmux (make test installs it).
tui_need() {
	command -v tmux >/dev/null || { echo "FAIL: tmux is not installed"; exit 1; }
}

# tui_start USER [COLS ROWS [VAR=VALUE...]]: run `nexus` (no subcommand) as
# USER in a new tmux server. The pane stays after the client exits and then
# shows "NEXUS-EXIT=N". With TUI_NO_SERVER=1 the server is not in the
# environment (the config file or the first-run question names it).
tui_start() {
	ts_user=$1
	ts_cols=${2:-100}
	ts_rows=${3:-30}
	shift
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	mkdir -p "$T/cfg/$ts_user"
	[ -n "$TUI_SOCK" ] && tui_stop "$TUI_SOCK"
	TUI_N=$((TUI_N + 1))
	TUI_SOCK="nxtui-$$-$TUI_N"
	TUI_SOCKS="$TUI_SOCKS $TUI_SOCK"
	ts_server="NEXUS_SERVER=127.0.0.1 NEXUS_CHAT_PORT=$CHAT_PORT"
	[ "${TUI_NO_SERVER:-0}" = 1 ] && ts_server="NEXUS_SERVER= NEXUS_CHAT_PORT="
	tmux -L "$TUI_SOCK" -f /dev/null new-session -d -x "$ts_cols" -y "$ts_rows" \
		"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 NEXUS_CONFIG_DIR='$T/cfg/$ts_user' \
		$ts_server NEXUS_PASSWORD= $* \
		'$ROOT/$BUILD/nexus'; echo NEXUS-EXIT=\$?; sleep 600" ||
		fail "cannot start tmux"
	tmux -L "$TUI_SOCK" set-option -g remain-on-exit on >/dev/null 2>&1
}

# tui_screen: the visible screen, one line per row.
tui_screen() {
	tmux -L "$TUI_SOCK" capture-pane -p -t 0
}

# tui_keys KEYS...: tmux send-keys (literal text or key names like Enter).
tui_keys() {
	tmux -L "$TUI_SOCK" send-keys -t 0 "$@"
}

# tui_type TEXT: type TEXT literally, then Enter.
tui_type() {
	tmux -L "$TUI_SOCK" send-keys -t 0 -l "$1"
	tmux -L "$TUI_SOCK" send-keys -t 0 Enter
}

tui_has() {
	tui_screen | grep -Eq -- "$1"
}

# tui_wait SECS REGEX DESC: poll the screen until a line matches REGEX.
tui_wait() {
	if wait_for "$1" tui_has "$2"; then
		ok "$3"
		return 0
	fi
	echo "--- screen:"
	tui_screen
	fail "$3: nothing matching /$2/ on the screen after $1 s"
}

# tui_count REGEX: how many lines of the screen match.
tui_count() {
	tui_screen | grep -Ec -- "$1"
}

# tui_resize COLS ROWS
tui_resize() {
	tmux -L "$TUI_SOCK" resize-window -t 0 -x "$1" -y "$2"
}

# tui_size: "COLSxROWS" of the pane.
tui_size() {
	tmux -L "$TUI_SOCK" display-message -p -t 0 '#{pane_width}x#{pane_height}'
}
