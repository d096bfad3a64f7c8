/* presence: online (any session), away (set by the user), offline with the
 * time last seen (stored when the last session goes); typing notices. Both
 * go to the sessions that share a room with the user, each session once.
 *
 * A user's presence changes are pushed at most CHATD_PRESENCE_RATE a second
 * (after a burst), as typing is: one client flipping away and back, or
 * reconnecting in a loop, would otherwise cost every member of every shared
 * room a frame per flip. Unlike a typing notice, a change is never lost:
 * past the rate the user waits on a list, and one timer pushes the state
 * they ended in once their bucket has a token again. */
#include "chatd.h"
#include "ratelimit.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

static struct user *presence_waiting; /* users whose change waits (presence_next) */
static struct event *presence_ev;     /* pushes what waits */

static void presence_timer_cb(evutil_socket_t fd, short what, void *arg);

uint32_t presence_of(const struct user *u)
{
	if (u->nsessions == 0)
		return PRESENCE_OFFLINE;
	return u->away ? PRESENCE_AWAY : PRESENCE_ONLINE;
}

static void presence_send_once(struct user *u, const struct msg *m, uint64_t mark)
{
	for (struct session *s = u->sessions; s; s = s->user_next) {
		if (s->mark == mark)
			continue;
		s->mark = mark;
		front_send(&s->fs, m);
	}
}

/* u's current state to u's sessions and to everyone sharing a room. */
static void presence_broadcast(struct user *u)
{
	uint64_t mark = ++chatd.mark;
	uint32_t state = presence_of(u);
	struct msg p;

	proto_msg_init(&p, MSG_PRESENCE);
	snprintf(p.user, sizeof(p.user), "%s", u->name);
	p.count = state;
	p.ts = state == PRESENCE_OFFLINE ? u->last_seen : clock_wall_ms();
	u->presence_sent = state;
	presence_send_once(u, &p, mark);
	for (size_t i = 0; i < u->nrooms; i++) {
		struct room *r = u->rooms[i];

		for (size_t k = 0; k < r->nmembers; k++)
			presence_send_once(r->members[k], &p, mark);
	}
}

static void presence_arm(void)
{
	/* a little past the next token: a bucket read at the exact instant may
	 * still be a hair short of it */
	struct timeval tv = {0, (suseconds_t)(1050000 / CHATD_PRESENCE_RATE)};

	if (!presence_ev) {
		presence_ev = evtimer_new(chatd.base, presence_timer_cb, NULL);
		if (!presence_ev)
			fatal("out of memory");
	}
	if (!evtimer_pending(presence_ev, NULL))
		evtimer_add(presence_ev, &tv);
}

/* Push the changes that waited, for users whose bucket refilled: the state
 * they are in now, and nothing when they came back to what was last sent. */
static void presence_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct user **p = &presence_waiting;
	uint64_t now = clock_now_ms();

	(void)fd;
	(void)what;
	(void)arg;
	while (*p) {
		struct user *u = *p;

		if (!ratelimit_take(&u->presence_rl, now, 1)) {
			p = &u->presence_next;
			continue;
		}
		*p = u->presence_next;
		u->presence_next = NULL;
		u->presence_waiting = false;
		if (!chatd.stopping && presence_of(u) != u->presence_sent)
			presence_broadcast(u);
	}
	if (presence_waiting)
		presence_arm();
}

/* u's state changed: push it now, or later when u changes too often. */
static void presence_changed(struct user *u)
{
	uint64_t now = clock_now_ms();

	if (chatd.stopping || u->presence_waiting)
		return; /* the timer sends the state u ends in */
	if (u->presence_rl.rate == 0)
		ratelimit_init(&u->presence_rl, CHATD_PRESENCE_RATE, CHATD_PRESENCE_BURST, now);
	if (ratelimit_take(&u->presence_rl, now, 1)) {
		presence_broadcast(u);
		return;
	}
	u->presence_waiting = true;
	u->presence_next = presence_waiting;
	presence_waiting = u;
	presence_arm();
}

void presence_forget_user(struct user *u)
{
	for (struct user **p = &presence_waiting; *p; p = &(*p)->presence_next) {
		if (*p == u) {
			*p = u->presence_next;
			break;
		}
	}
	u->presence_next = NULL;
	u->presence_waiting = false;
}

void presence_free(void)
{
	while (presence_waiting)
		presence_forget_user(presence_waiting);
	if (presence_ev)
		event_free(presence_ev);
	presence_ev = NULL;
}

void presence_user_online(struct user *u)
{
	u->away = false;
	presence_changed(u);
}

void presence_user_offline(struct user *u)
{
	u->away = false;
	u->last_seen = clock_wall_ms();
	/* No reply waits on this: it rides along with the next batch. */
	if (message_batch_open() < 0 || db_user_set_seen(chatd.db, u->id, u->last_seen) < 0)
		log_warn("cannot store when %s was last seen", u->name);
	presence_changed(u);
}

void presence_handle_presence(struct session *s, const struct msg *m)
{
	struct user *u = s->user;

	if (m->count != PRESENCE_ONLINE && m->count != PRESENCE_AWAY) {
		front_error(&s->fs, m->req, ERR_INVALID, "presence is 1 (online) or 2 (away)");
		return;
	}
	front_ok(&s->fs, m->req, 0, m->count);
	if (u->away == (m->count == PRESENCE_AWAY))
		return;
	u->away = m->count == PRESENCE_AWAY;
	presence_changed(u);
}

/* TYPING has no reply: bad or excess notices are dropped quietly. */
void presence_handle_typing(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r = NULL;
	struct msg t;

	if (!ratelimit_take(&s->typing, clock_now_ms(), 1))
		return;
	if (room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why)) != 0 ||
	    !room_is_member(r, s->user)) {
		log_debug("%s: typing ignored: %s", front_name(&s->fs), r ? "not a member" : why);
		return;
	}
	proto_msg_init(&t, MSG_TYPING);
	snprintf(t.room, sizeof(t.room), "%s", r->name);
	snprintf(t.user, sizeof(t.user), "%s", s->user->name);
	room_send(r, &t, s->user);
}
