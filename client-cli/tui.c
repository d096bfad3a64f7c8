/* tui: `nexus` with no subcommand, the full-screen client. One libevent
 * loop (the client core's) watches the server, the keyboard (stdin),
 * SIGWINCH and two timers: a redraw timer that folds any number of changes
 * into one frame (at most one per TUI_REDRAW_MS however fast messages
 * arrive) and a one-second tick (typing notices, pings, notes). Keys are
 * handled a batch at a time and the screen is drawn once per batch.
 *
 * While curses owns the screen, stderr goes to a memory file and is shown
 * after the screen is given back, so that no stray message smears it. */
#include "client.h"
#include "clock.h"
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <fnmatch.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define TUI_REDRAW_MS 30
#define TUI_STATUS_MS 5000
#define TUI_KEY_PASTE_BEGIN (KEY_MAX + 1)
#define TUI_KEY_PASTE_END (KEY_MAX + 2)
#define TUI_CTRL(c) ((c)&0x1f)

void tui_status(struct tui *t, const char *fmt, ...)
{
	char buf[sizeof(t->status)];
	char *clean;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	clean = utf8_clean(buf, 0);
	snprintf(t->status, sizeof(t->status), "%s", clean ? clean : "");
	free(clean);
	t->status_until_ms = clock_wall_ms() + TUI_STATUS_MS;
	tui_dirty(t);
}

static void tui_redraw_now(struct tui *t)
{
	struct tui_room *r;

	if (!t->curses)
		return;
	if (t->dirty)
		evtimer_del(t->redraw_ev);
	t->dirty = 0;
	tui_draw(t);
	r = tui_room_current(&t->st);
	/* The view reached the oldest message held: fetch older ones. */
	if (r && r->scroll && t->hit_top && r->has_older && !r->loading)
		tui_net_load_older(t, r);
}

static void tui_redraw_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tui *t = arg;

	(void)fd;
	(void)what;
	t->dirty = 0;
	tui_redraw_now(t);
}

void tui_dirty(struct tui *t)
{
	struct timeval tv = {0, TUI_REDRAW_MS * 1000};

	if (!t->curses || t->dirty)
		return;
	t->dirty = 1;
	evtimer_add(t->redraw_ev, &tv);
}

static void tui_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tui_net_tick(arg);
}

static void tui_winch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tui *t = arg;
	struct winsize ws;

	(void)fd;
	(void)what;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	/* Repaint everything: nothing of the old size may linger. */
	clearok(curscr, TRUE);
	tui_redraw_now(t);
}

/* Keys */

/* The member list: shown by default on wide terminals; a toggle decides
 * from then on. */
static void tui_toggle_members(struct tui *t)
{
	int shown = t->show_members < 0 ? COLS >= TUI_MEMBERS_AUTO_COLS : t->show_members;

	t->show_members = !shown;
}

static void tui_switch(struct tui *t, size_t i)
{
	struct tui_room *r = tui_room_current(&t->st);

	if (i >= t->st.nrooms)
		return;
	if (r && r->scroll == 0)
		tui_room_trim(&t->st, r);
	tui_room_select(&t->st, i);
	tui_call_follow(t); /* the watch follows the room shown */
}

static void tui_scroll(struct tui *t, int pages)
{
	struct tui_room *r = tui_room_shown(&t->st);
	size_t page = LINES > 8 ? (size_t)LINES - 5 : 3;

	if (!r)
		return;
	if (pages > 0) {
		r->scroll += page;
	} else {
		r->scroll = r->scroll > page ? r->scroll - page : 0;
		if (r->scroll == 0) {
			r->new_below = 0;
			tui_room_trim(&t->st, r);
		}
	}
}

static void tui_enter(struct tui *t)
{
	char *text = malloc(TUI_LINE_MAX * 4 + 1);

	if (!text)
		return;
	if (tui_line_utf8(&t->line, text, TUI_LINE_MAX * 4 + 1) > 0) {
		struct tui_room *r = tui_room_shown(&t->st);
		tui_line_remember(&t->line);
		tui_line_clear(&t->line);
		if (r && r->scroll) {
			r->scroll = 0;
			r->new_below = 0;
		}
		tui_net_line(t, text);
	}
	free(text);
}

/* Tab: commands at the start, rooms after /join and friends, else nicks. */
static void tui_complete(struct tui *t)
{
	struct tui_room *r = tui_room_current(&t->st);
	char word[256], first[16] = "";
	size_t start, n = 0, max;
	const char **cands;
	char(*store)[PROTO_ROOM_MAX + 3];
	const char *suffix = " ";

	tui_line_word(&t->line, word, sizeof(word), &start);
	if (t->line.completing)
		word[0] = t->line.comp_word[0];
	for (size_t i = 0; i < t->line.len && i < sizeof(first) - 1 && t->line.buf[i] != ' '; i++)
		first[i] = (char)(t->line.buf[i] < 128 ? t->line.buf[i] : '?');
	if (start == 0 && word[0] == '/') {
		tui_line_complete(&t->line, tui_cmd_names(), " ");
		return;
	}
	max = t->st.nrooms + t->st.npeople + (r ? r->nmembers : 0);
	cands = calloc(max + 1, sizeof(*cands));
	store = calloc(max + 1, sizeof(*store));
	if (!cands || !store)
		goto out;
	if (start > 0 &&
	    (!strcmp(first, "/join") || !strcmp(first, "/leave") || !strcmp(first, "/who"))) {
		for (size_t i = 0; i < t->st.nrooms; i++)
			cands[n++] = t->st.rooms[i]->label;
	} else {
		int at = word[0] == '@';
		for (size_t i = 0; r && i < r->nmembers; i++) {
			snprintf(store[n], sizeof(store[n]), "%s%s", at ? "@" : "",
			         r->members[i].name);
			cands[n] = store[n];
			n++;
		}
		for (size_t i = 0; i < t->st.npeople; i++) {
			if (r && tui_member_has(r, t->st.people[i].name))
				continue;
			snprintf(store[n], sizeof(store[n]), "%s%s", at ? "@" : "",
			         t->st.people[i].name);
			cands[n] = store[n];
			n++;
		}
		if (start == 0)
			suffix = ": ";
	}
	cands[n] = NULL;
	if (tui_line_complete(&t->line, cands, suffix) == 0)
		beep();
out:
	free(cands);
	free(store);
}

static int tui_key_alt(struct tui *t, wint_t ch)
{
	switch (ch) {
	case 'b':
		tui_line_word_left(&t->line);
		return 1;
	case 'f':
		tui_line_word_right(&t->line);
		return 1;
	case 'd':
		tui_line_kill_word_fwd(&t->line);
		return 1;
	case 'a':
		tui_switch(t, tui_room_next_unread(&t->st));
		return 1;
	case 'm':
		tui_toggle_members(t);
		return 1;
	case 'i':
		t->show_ids = !t->show_ids;
		return 1;
	case 'v':
		tui_voice_mute(t);
		return 1;
	case '\r':
	case '\n':
		tui_line_insert(&t->line, '\n');
		return 1;
	default:
		if (ch >= '1' && ch <= '9') {
			tui_switch(t, (size_t)(ch - '1'));
			return 1;
		}
	}
	return 0;
}

static void tui_key_ctrl(struct tui *t, wint_t ch)
{
	switch (ch) {
	case TUI_CTRL('a'):
		tui_line_home(&t->line);
		break;
	case TUI_CTRL('e'):
		tui_line_end(&t->line);
		break;
	case TUI_CTRL('b'):
		tui_line_left(&t->line);
		break;
	case TUI_CTRL('f'):
		tui_line_right(&t->line);
		break;
	case TUI_CTRL('d'):
		tui_line_delete(&t->line);
		break;
	case TUI_CTRL('h'):
	case 127:
		tui_line_backspace(&t->line);
		break;
	case TUI_CTRL('k'):
		tui_line_kill_end(&t->line);
		break;
	case TUI_CTRL('u'):
		tui_line_kill_start(&t->line);
		break;
	case TUI_CTRL('w'):
		tui_line_kill_word_back(&t->line);
		break;
	case TUI_CTRL('y'):
		tui_line_yank(&t->line);
		break;
	case TUI_CTRL('t'):
		tui_line_transpose(&t->line);
		break;
	case TUI_CTRL('l'):
		clearok(curscr, TRUE);
		break;
	case TUI_CTRL('n'):
		if (t->st.nrooms)
			tui_switch(t, (t->st.cur + 1) % t->st.nrooms);
		break;
	case TUI_CTRL('p'):
		if (t->st.nrooms)
			tui_switch(t, (t->st.cur + t->st.nrooms - 1) % t->st.nrooms);
		break;
	case TUI_CTRL('x'):
		tui_switch(t, tui_room_next_unread(&t->st));
		break;
	case '\t':
		tui_complete(t);
		return;
	case '\r':
	case '\n':
		tui_enter(t);
		break;
	case TUI_CTRL('c'):
		if (t->line.len) {
			tui_line_clear(&t->line);
		} else if (t->quit_armed) {
			client_done(t->c, 0);
		} else {
			t->quit_armed = 1;
			tui_status(t, "press Ctrl-C again to quit");
			return;
		}
		break;
	default:
		break;
	}
	t->quit_armed = 0;
}

static void tui_key_code(struct tui *t, wint_t key)
{
	switch (key) {
	case KEY_LEFT:
		tui_line_left(&t->line);
		break;
	case KEY_RIGHT:
		tui_line_right(&t->line);
		break;
	case KEY_HOME:
		tui_line_home(&t->line);
		break;
	case KEY_END:
		tui_line_end(&t->line);
		break;
	case KEY_BACKSPACE:
		tui_line_backspace(&t->line);
		break;
	case KEY_DC:
		tui_line_delete(&t->line);
		break;
	case KEY_UP:
		tui_line_hist_prev(&t->line);
		break;
	case KEY_DOWN:
		tui_line_hist_next(&t->line);
		break;
	case KEY_PPAGE:
		tui_scroll(t, 1);
		break;
	case KEY_NPAGE:
		tui_scroll(t, -1);
		break;
	case KEY_ENTER:
		tui_enter(t);
		break;
	case KEY_F(2):
		tui_toggle_members(t);
		break;
	case KEY_F(4):
		tui_voice_mute(t);
		break;
	case KEY_RESIZE:
		tui_winch_cb(-1, 0, t);
		break;
	case TUI_KEY_PASTE_BEGIN:
		t->paste = 1;
		break;
	case TUI_KEY_PASTE_END:
		t->paste = 0;
		break;
	default:
		break;
	}
}

static void tui_key(struct tui *t, int kind, wint_t ch)
{
	int alt = t->alt;

	t->alt = 0;
	if (kind == KEY_CODE_YES) {
		tui_line_complete_end(&t->line);
		tui_key_code(t, ch);
		return;
	}
	if (t->paste) {
		/* Pasted text is text, newlines included. */
		if (ch == '\r' || ch == '\n')
			tui_line_insert(&t->line, '\n');
		else if (ch == '\t')
			tui_line_insert(&t->line, ' ');
		else if (ch >= 32 && ch != 127)
			tui_line_insert(&t->line, (wchar_t)ch);
		return;
	}
	if (ch == 27) {
		t->alt = 1;
		return;
	}
	if (ch != '\t')
		tui_line_complete_end(&t->line);
	if (alt && tui_key_alt(t, ch))
		return;
	if (ch < 32 || ch == 127) {
		tui_key_ctrl(t, ch);
	} else {
		tui_line_insert(&t->line, (wchar_t)ch);
		t->quit_armed = 0;
	}
}

static void tui_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tui *t = arg;
	wint_t ch;
	int kind, n = 0;

	(void)fd;
	(void)what;
	while ((kind = get_wch(&ch)) != ERR && n++ < 4096)
		tui_key(t, kind, ch);
	/* Readable but no key, again and again: the terminal went away. */
	t->empty_reads = n ? 0 : t->empty_reads + 1;
	if (t->empty_reads > 100) {
		client_done(t->c, 0);
		return;
	}
	t->alt = 0;
	tui_redraw_now(t);
	tui_net_typing(t);
}

/* Terminal set-up */

/* Title escapes (OSC 0) only where the terminal has them. */
static int tui_title_ok(void)
{
	static const char *const pats[] = {"xterm*",   "screen*", "tmux*", "rxvt*",  "alacritty*",
	                                   "foot*",    "kitty*",  "st-*",  "gnome*", "konsole*",
	                                   "wezterm*", "putty*",  "vte*"};
	const char *term = getenv("TERM");
	char *tsl = tigetstr("tsl");

	if (tigetflag("XT") > 0 || (tsl && tsl != (char *)-1))
		return 1;
	for (size_t i = 0; term && i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], term, 0) == 0)
			return 1;
	return 0;
}

static void tui_stderr_capture(struct tui *t)
{
	int fd = memfd_create("nexus-stderr", MFD_CLOEXEC);

	t->saved_stderr = -1;
	t->err_fd = -1;
	if (fd < 0)
		return;
	fflush(stderr);
	t->saved_stderr = dup(STDERR_FILENO);
	if (t->saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return;
	}
	t->err_fd = fd;
}

static void tui_stderr_release(struct tui *t)
{
	char buf[4096];
	ssize_t n;

	if (t->err_fd < 0)
		return;
	fflush(stderr);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	lseek(t->err_fd, 0, SEEK_SET);
	while ((n = read(t->err_fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			break;
	close(t->err_fd);
	t->err_fd = -1;
}

int tui_curses_start(struct tui *t)
{
	struct event_base *base = client_base(t->c);
	struct timeval sec = {1, 0};
	SCREEN *scr;

	tui_stderr_capture(t);
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		tui_stderr_release(t);
		out_err("cannot use the terminal '%s'", getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	set_term(scr);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	define_key("\033[200~", TUI_KEY_PASTE_BEGIN);
	define_key("\033[201~", TUI_KEY_PASTE_END);
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	t->title = tui_title_ok();
	tui_draw_init(t);
	if (t->title)
		printf("\033[22;0t"); /* keep the old title to put it back */
	printf("\033[?2004h");        /* bracketed paste */
	fflush(stdout);
	t->stdin_ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, tui_stdin_cb, t);
	t->winch_ev = evsignal_new(base, SIGWINCH, tui_winch_cb, t);
	t->redraw_ev = evtimer_new(base, tui_redraw_cb, t);
	t->tick_ev = event_new(base, -1, EV_PERSIST, tui_tick_cb, t);
	if (!t->stdin_ev || !t->winch_ev || !t->redraw_ev || !t->tick_ev ||
	    event_add(t->stdin_ev, NULL) < 0 || event_add(t->winch_ev, NULL) < 0 ||
	    event_add(t->tick_ev, &sec) < 0)
		return -1;
	t->curses = 1;
	tui_redraw_now(t);
	return 0;
}

void tui_curses_stop(struct tui *t)
{
	struct event **evs[] = {&t->stdin_ev, &t->winch_ev, &t->redraw_ev, &t->tick_ev};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i]) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	if (!t->curses)
		return;
	t->curses = 0;
	printf("\033[?2004l");
	if (t->title)
		printf("\033[23;0t");
	fflush(stdout);
	endwin();
	delscreen(set_term(NULL));
	tui_stderr_release(t);
}

static int tui_env_off(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "no"));
}

static int tui_run(struct tui *t, unsigned flags)
{
	int status;

	t->c = client_new(t->s, flags, tui_net_callbacks(), t);
	status = client_run(t->c);
	tui_voice_end_all(t);
	tui_curses_stop(t);
	client_free(t->c);
	t->c = NULL;
	return status;
}

int tui_main(struct settings *s, int argc, char **argv)
{
	unsigned flags = CLIENT_PROMPT | CLIENT_RECONNECT | CLIENT_SIGNALS;
	struct tui *t;
	int status;

	(void)argc;
	(void)argv;
	status = settings_resolve(s);
	if (status)
		return status;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		out_err("the full-screen client needs a terminal; for scripts see: nexus help");
		return EXIT_USAGE;
	}
	setlocale(LC_ALL, "");
	t = calloc(1, sizeof(*t));
	if (!t)
		return EXIT_ERROR;
	t->s = s;
	t->latency_ms = -1;
	t->show_members = -1;
	t->bell = !tui_env_off("NEXUS_BELL");
	t->saved_stderr = t->err_fd = -1;
	t->voice.err_fd = t->callw.err_fd = t->calllink.err_fd = -1;
	tui_state_init(&t->st);
	tui_line_init(&t->line);
	if (settings_login_valid(s, NULL, NULL)) {
		flags |= CLIENT_NEED_TOKEN;
	} else {
		status = tui_setup_ask(t);
		if (!t->setup && status == 0)
			flags |= CLIENT_NEED_TOKEN;
	}
	if (status == 0)
		status = tui_run(t, flags);
	/* A saved login the server refused (expired, or a new server key):
	 * ask for the account again, once. */
	if (status == EXIT_AUTH && (flags & CLIENT_NEED_TOKEN) && !t->was_online) {
		fprintf(stderr, "nexus: log in again\n");
		status = tui_setup_ask(t);
		if (status == 0)
			status =
			    tui_run(t, t->setup ? flags & ~(unsigned)CLIENT_NEED_TOKEN : flags);
	}
	explicit_bzero(t->setup_password, sizeof(t->setup_password));
	tui_line_free(&t->line);
	tui_state_free(&t->st);
	free(t);
	return status;
}
