/* talk_term: push-to-talk keys and a status line for `nexus talk`.
 *
 * Terminals report key presses only. Holding the space bar gives one space,
 * then, after the keyboard's repeat delay (typically 250 to 660 ms), a
 * space every 30 to 50 ms. So the first space starts talking and arms a
 * release timer longer than any usual repeat delay; each repeat re-arms a
 * shorter one; when it fires, the key was let go. Enter latches talking on
 * or off for long speeches, m toggles mute.
 *
 * Raw mode here is ICANON and ECHO off only: ISIG stays, so Ctrl-C and
 * Ctrl-\ still signal. SIGINT and SIGTERM end the loop (core.c) and the
 * normal way out restores the terminal; for the signals that kill, a
 * handler restores it first and re-raises.
 *
 * Job control, as terminal programs do it: Ctrl-Z (SIGTSTP, caught on the
 * loop) lets go of the keys, erases the status line, restores the terminal
 * and stops us with the default action; on SIGCONT, in the foreground
 * again (fg), the terminal is read again (raw mode on what the shell left,
 * which may have changed while we were stopped) and the status line
 * redrawn. In the background (bg) neither: reading the terminal or
 * changing it would stop us (SIGTTIN, SIGTTOU). A shell's fg sends no
 * SIGCONT to a job that runs, so while in the background we look four
 * times a second whether the terminal is ours again. */
#include "talk_term.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#define TERM_FIRST_MS 700  /* above the usual first-repeat delay */
#define TERM_REPEAT_MS 250 /* several repeat periods */
#define TERM_WORD_MAX 32
#define TERM_FG_POLL_MS 250 /* in the background: are we back in front? */

struct talk_term {
	struct talk_term_cbs cbs;
	void *arg;
	bool ptt, held, latched, talking, shown, status_tty;
	bool away; /* stopped or in the background: no keys, no status line */
	struct event *key_ev, *release_ev, *tstp_ev, *cont_ev, *fg_ev;
	char word[TERM_WORD_MAX];
};

/* For the signal handlers: one terminal per process. */
static struct termios term_saved;
static volatile sig_atomic_t term_raw;
static const int term_fatal[] = {SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

static void term_restore(void)
{
	if (term_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_saved);
		term_raw = 0;
	}
}

static void term_fatal_handler(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void term_set_talking(struct talk_term *tt)
{
	bool on = tt->held || tt->latched;

	if (on == tt->talking)
		return;
	tt->talking = on;
	if (tt->cbs.ptt)
		tt->cbs.ptt(on, tt->arg);
}

static void term_release_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk_term *tt = arg;

	(void)fd;
	(void)what;
	tt->held = false;
	term_set_talking(tt);
}

static void term_space(struct talk_term *tt)
{
	struct timeval tv = {0, (tt->held ? TERM_REPEAT_MS : TERM_FIRST_MS) * 1000};

	tt->held = true;
	evtimer_add(tt->release_ev, &tv);
	term_set_talking(tt);
}

static void term_key_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk_term *tt = arg;
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)what;
	if (n <= 0) {
		/* end of the terminal (hang-up): stop reading keys */
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			event_del(tt->key_ev);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		switch (buf[i]) {
		case ' ':
			if (tt->ptt)
				term_space(tt);
			break;
		case '\r':
		case '\n':
			if (tt->ptt) {
				tt->latched = !tt->latched;
				term_set_talking(tt);
			}
			break;
		case 'm':
		case 'M':
			if (tt->cbs.mute)
				tt->cbs.mute(tt->arg);
			break;
		default:
			break;
		}
	}
}

static bool term_foreground(void)
{
	return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

/* ICANON and ECHO off, keeping what the terminal had to restore it; the
 * modes read are kept unless they are already ours (stopped by SIGSTOP
 * under a shell that does not restore its own). */
static int term_enter_raw(void)
{
	struct termios cur, raw;

	if (tcgetattr(STDIN_FILENO, &cur) < 0)
		return -errno;
	if (cur.c_lflag & ICANON)
		term_saved = cur;
	raw = term_saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	term_raw = 1;
	return 0;
}

static int term_raw_mode(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_fatal_handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(term_fatal) / sizeof(term_fatal[0]); i++)
		sigaction(term_fatal[i], &sa, NULL);
	atexit(term_restore);
	return term_enter_raw();
}

/* Stopped or sent to the background: let go of the keys (a held space
 * would talk on when we are back), erase the status line, give the
 * terminal back when we still may. */
static void term_leave(struct talk_term *tt, bool restore)
{
	struct timeval tv = {0, TERM_FG_POLL_MS * 1000};

	event_add(tt->fg_ev, &tv);
	event_del(tt->key_ev);
	evtimer_del(tt->release_ev);
	tt->held = tt->latched = false;
	term_set_talking(tt);
	talk_term_hide(tt);
	tt->away = true;
	if (restore)
		term_restore();
	else
		term_raw = 0; /* the shell has the terminal: not ours to change */
}

/* Continued: in the foreground, keys and the status line again. */
static void term_back(struct talk_term *tt)
{
	if (!term_foreground()) {
		if (!tt->away)
			term_leave(tt, false);
		return;
	}
	if (!tt->away)
		return;
	if (term_enter_raw() < 0 || event_add(tt->key_ev, NULL) < 0)
		return;
	event_del(tt->fg_ev);
	tt->away = false;
	talk_term_show(tt);
}

static void term_tstp_cb(evutil_socket_t sig, short what, void *arg)
{
	struct talk_term *tt = arg;

	(void)sig;
	(void)what;
	term_leave(tt, term_foreground());
	/* stop as if the signal were not caught: without our event, libevent
	 * puts back the default action */
	event_del(tt->tstp_ev);
	raise(SIGTSTP);
	/* continued (fg, bg or SIGCONT) */
	event_add(tt->tstp_ev, NULL);
	term_back(tt);
}

/* SIGCONT, or the background poll. */
static void term_cont_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	term_back(arg);
}

/* SIGTSTP and SIGCONT on the loop; not when SIGTSTP was ignored by who
 * started us (no job control there: Ctrl-Z must do nothing). */
static int term_job_control(struct talk_term *tt, struct event_base *base)
{
	struct sigaction old;

	if (sigaction(SIGTSTP, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return 0;
	tt->tstp_ev = evsignal_new(base, SIGTSTP, term_tstp_cb, tt);
	tt->cont_ev = evsignal_new(base, SIGCONT, term_cont_cb, tt);
	tt->fg_ev = event_new(base, -1, EV_PERSIST, term_cont_cb, tt);
	if (!tt->tstp_ev || !tt->cont_ev || !tt->fg_ev || event_add(tt->tstp_ev, NULL) < 0 ||
	    event_add(tt->cont_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

int talk_term_open(struct event_base *base, bool ptt, const struct talk_term_cbs *cbs, void *arg,
                   struct talk_term **ret)
{
	struct talk_term *tt;
	int r;

	/* in the background, changing the terminal would stop us (SIGTTOU) */
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return -ENOTTY;
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		return -ENOMEM;
	tt->cbs = *cbs;
	tt->arg = arg;
	tt->ptt = ptt;
	tt->status_tty = isatty(STDERR_FILENO);
	tt->key_ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, term_key_cb, tt);
	tt->release_ev = evtimer_new(base, term_release_cb, tt);
	if (!tt->key_ev || !tt->release_ev || event_add(tt->key_ev, NULL) < 0 ||
	    term_job_control(tt, base) < 0) {
		talk_term_close(tt);
		return -ENOMEM;
	}
	r = term_raw_mode();
	if (r < 0) {
		talk_term_close(tt);
		return r;
	}
	*ret = tt;
	return 0;
}

void talk_term_hide(struct talk_term *tt)
{
	if (tt && tt->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		tt->shown = false;
	}
}

void talk_term_show(struct talk_term *tt)
{
	if (!tt || !tt->status_tty || !tt->word[0] || tt->away)
		return;
	fprintf(stderr, "\r\033[K[%s]%s", tt->word,
	        tt->ptt ? " hold space to talk, Enter latches, m mutes" : " m mutes");
	fflush(stderr);
	tt->shown = true;
}

void talk_term_status(struct talk_term *tt, const char *word)
{
	if (!tt || !strcmp(tt->word, word))
		return;
	snprintf(tt->word, sizeof(tt->word), "%s", word);
	talk_term_show(tt);
}

void talk_term_close(struct talk_term *tt)
{
	if (!tt)
		return;
	talk_term_hide(tt);
	term_restore();
	if (tt->key_ev)
		event_free(tt->key_ev);
	if (tt->release_ev)
		event_free(tt->release_ev);
	if (tt->tstp_ev)
		event_free(tt->tstp_ev);
	if (tt->cont_ev)
		event_free(tt->cont_ev);
	if (tt->fg_ev)
		event_free(tt->fg_ev);
	free(tt);
}
