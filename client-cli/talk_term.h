/* talk_term: the keys and the status line of `nexus talk` on a terminal.
 * Push-to-talk on the space bar (held: terminals send no key-up, so a
 * release is the auto-repeat stopping), Enter latches talking, m toggles
 * mute. The terminal is restored on every way out, signals included. */
#ifndef NEXUS_TALK_TERM_H
#define NEXUS_TALK_TERM_H

#include <stdbool.h>

struct event_base;
struct talk_term;

struct talk_term_cbs {
	/* push-to-talk: the user started or stopped talking */
	void (*ptt)(bool talking, void *arg);
	/* m: toggle mute */
	void (*mute)(void *arg);
};

/* Raw keys from standard input (a terminal), push-to-talk when ptt is set.
 * Returns 0 or a negative errno (-ENOTTY). */
int talk_term_open(struct event_base *base, bool ptt, const struct talk_term_cbs *cbs, void *arg,
                   struct talk_term **ret);
/* Show word ("talking", "muted", "listening") on the status line of
 * standard error when it is a terminal. NULL-safe. */
void talk_term_status(struct talk_term *tt, const char *word);
/* Erase the status line before other output, and draw it again after. */
void talk_term_hide(struct talk_term *tt);
void talk_term_show(struct talk_term *tt);
/* Restore the terminal. NULL-safe. */
void talk_term_close(struct talk_term *tt);

#endif
