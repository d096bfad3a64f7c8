/* presence: online (any session), away (set by the user), offline with the
 * time last seen (stored when the last session goes); typing notices. Both
 * go to the sessions that share a room with the user, each session once. */
#include "chatd.h"
#include "limits.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

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
		session_send(s, m);
	}
}

static void presence_broadcast(struct user *u, uint32_t state, uint64_t ts)
{
	uint64_t mark = ++chatd.mark;
	struct msg p;

	if (chatd.stopping)
		return;
	proto_msg_init(&p, MSG_PRESENCE);
	snprintf(p.user, sizeof(p.user), "%s", u->name);
	p.count = state;
	p.ts = ts;
	presence_send_once(u, &p, mark);
	for (size_t i = 0; i < u->nrooms; i++) {
		struct room *r = u->rooms[i];

		for (size_t k = 0; k < r->nmembers; k++)
			presence_send_once(r->members[k], &p, mark);
	}
}

void presence_user_online(struct user *u)
{
	u->away = false;
	presence_broadcast(u, PRESENCE_ONLINE, limits_wall_ms());
}

void presence_user_offline(struct user *u)
{
	u->away = false;
	u->last_seen = limits_wall_ms();
	/* No reply waits on this: it rides along with the next batch. */
	if (message_batch_open() < 0 || db_user_set_seen(chatd.db, u->id, u->last_seen) < 0)
		log_warn("cannot store when %s was last seen", u->name);
	presence_broadcast(u, PRESENCE_OFFLINE, u->last_seen);
}

void presence_handle_presence(struct session *s, const struct msg *m)
{
	struct user *u = s->user;

	if (m->count != PRESENCE_ONLINE && m->count != PRESENCE_AWAY) {
		session_error(s, m->req, ERR_INVALID, "presence is 1 (online) or 2 (away)");
		return;
	}
	session_ok(s, m->req, 0, m->count);
	if (u->away == (m->count == PRESENCE_AWAY))
		return;
	u->away = m->count == PRESENCE_AWAY;
	presence_broadcast(u, presence_of(u), limits_wall_ms());
}

/* TYPING has no reply: bad or excess notices are dropped quietly. */
void presence_handle_typing(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r = NULL;
	struct msg t;

	if (!ratelimit_take(&s->typing, limits_now_ms(), 1))
		return;
	if (room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why)) != 0 ||
	    !room_is_member(r, s->user)) {
		log_debug("%s: typing ignored: %s", session_name(s), r ? "not a member" : why);
		return;
	}
	proto_msg_init(&t, MSG_TYPING);
	snprintf(t.room, sizeof(t.room), "%s", r->name);
	snprintf(t.user, sizeof(t.user), "%s", s->user->name);
	room_send(r, &t, s->user);
}
