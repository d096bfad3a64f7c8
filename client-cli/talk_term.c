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
 * handler restores it first and re-raises. */
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

struct talk_term {
	struct talk_term_cbs cbs;
	void *arg;
	bool ptt, held, latched, talking, shown, status_tty;
	struct event *key_ev, *release_ev;
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

static int term_raw_mode(void)
{
	struct termios raw;
	struct sigaction sa;

	if (tcgetattr(STDIN_FILENO, &term_saved) < 0)
		return -errno;
	raw = term_saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_fatal_handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(term_fatal) / sizeof(term_fatal[0]); i++)
		sigaction(term_fatal[i], &sa, NULL);
	atexit(term_restore);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	term_raw = 1;
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
	if (!tt->key_ev || !tt->release_ev || event_add(tt->key_ev, NULL) < 0) {
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
	if (!tt || !tt->status_tty || !tt->word[0])
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
	free(tt);
}
