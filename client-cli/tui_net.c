/* tui_net: the full-screen client's side of the protocol. It sits on the
 * client core (core.c: connection, requests, reconnect with backoff):
 * pushed CHAT, EVENT, PRESENCE and TYPING land in tui_state; slash
 * commands become requests; after a reconnect every room is joined again
 * and HISTORY since the newest id held fills the gap, page by page, a few
 * rooms at a time (see tui_catchup_pump). The state drops what it already
 * holds (by id), so nothing shows twice. */
#include "client.h"
#include "clock.h"
#include "tui.h"
#include "tui_net.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <event2/event.h>

#include "auth.h"
#include "log.h"

#define TUI_JOIN_HISTORY 100 /* messages replayed on the first join */
#define TUI_OLDER_GUESS 20   /* a replay this long suggests older messages */
#define TUI_PAGE 200         /* HISTORY page when catching up or scrolling back */
#define TUI_PING_MS 15000
#define TUI_TYPING_EVERY_MS 3000
/* Catch-up after a reconnect: chatd lets a user start history_burst (40)
 * HISTORY requests at once, then history_rate (10) a second, and refuses
 * the rest with ERR_RATE_LIMITED. One request per room at once lost the
 * missed messages of every room past the burst. So a few rooms at a time,
 * the next when one is done, and a refused one again after a wait. */
#define TUI_CATCHUP_FLIGHT 4
#define TUI_CATCHUP_WAIT 1 /* tui_room.catchup: waits for its turn */
#define TUI_CATCHUP_SENT 2 /* its HISTORY is in flight */
#define TUI_CATCHUP_RETRY_MIN_MS 250
#define TUI_CATCHUP_RETRY_MAX_MS 4000

static void tui_answer_cb(struct client *c, const struct msg *m, void *arg);

struct tui_room *tui_cur(struct tui *t)
{
	return tui_room_current(&t->st);
}

/* Before any room is open the notes go to a view of their own, drawn
 * where the conversation goes and wrapped like it: on the one status line
 * only the last of several showed, cut at the screen's edge. */
void tui_note(struct tui *t, enum tui_kind kind, const char *fmt, ...)
{
	struct tui_room *r = tui_cur(t);
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!r && (r = tui_state_home(&t->st)))
		tui_room_trim(&t->st, r);
	if (r)
		tui_room_note(r, kind, clock_wall_ms(), NULL, "%s", buf);
	else
		tui_status(t, "%s", buf);
	tui_dirty(t);
}

static void tui_note_error(struct tui *t, const struct msg *m, const char *subject)
{
	char text[1024];

	client_error_text(m, subject, text, sizeof(text));
	tui_note(t, TUI_ERROR, "%s", text);
}

int tui_send(struct tui *t, struct msg *m, enum tui_req_kind kind, const char *room,
             struct tui_req **ret)
{
	struct tui_req *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->t = t;
	q->kind = kind;
	snprintf(q->room, sizeof(q->room), "%s", room ? room : "");
	r = client_request(t->c, m, tui_answer_cb, q);
	if (r < 0) {
		free(q);
		if (kind != REQ_PING && kind != REQ_CATCHUP && kind != REQ_MEMBERS)
			tui_note(t, TUI_ERROR, "%s",
			         r == -ENOTCONN ? "not connected: wait for the reconnection"
			         : r == -EMSGSIZE || r == -EINVAL
			             ? "that text cannot be sent (too long or not UTF-8 text)"
			             : strerror(-r));
		return r;
	}
	if (ret)
		*ret = q;
	return 0;
}

/* "@peer" -> "@a:b" as the server names it, for names typed as registered;
 * others unchanged ("#x" -> "x"). A guess: JOIN's reply gives the name
 * (other case, "@BOB"), and the tab takes it (tui_room_rename). */
void tui_room_name(struct tui *t, const char *in, char out[PROTO_ROOM_MAX + 1])
{
	const char *peer = in + 1;

	if (in[0] == '#' && in[1]) {
		snprintf(out, PROTO_ROOM_MAX + 1, "%s", in + 1);
		return;
	}
	if (in[0] != '@' || strchr(in, ':') || !t->st.me[0]) {
		snprintf(out, PROTO_ROOM_MAX + 1, "%s", in);
		return;
	}
	if (strcmp(t->st.me, peer) < 0)
		snprintf(out, PROTO_ROOM_MAX + 1, "@%.32s:%.32s", t->st.me, peer);
	else
		snprintf(out, PROTO_ROOM_MAX + 1, "@%.32s:%.32s", peer, t->st.me);
}

static void tui_members_request(struct tui *t, struct tui_room *r)
{
	struct msg m;

	proto_msg_init(&m, MSG_MEMBERS);
	snprintf(m.room, sizeof(m.room), "%s", r->name);
	if (tui_send(t, &m, REQ_MEMBERS, r->name, NULL) == 0)
		r->nmembers = 0;
}

static void tui_join(struct tui *t, struct tui_room *r, int select, int resume)
{
	struct tui_req *q;
	struct msg m;

	proto_msg_init(&m, MSG_JOIN);
	snprintf(m.room, sizeof(m.room), "%s", r->name);
	m.count = resume ? 0 : TUI_JOIN_HISTORY;
	if (tui_send(t, &m, REQ_JOIN, r->name, &q) < 0)
		return;
	q->select = select;
	q->flag = resume;
	/* A catch-up cut short by a loss resumes where it was: live messages
	 * may have moved last_id past what is still missing. */
	q->since = r->catchup ? r->catchup_since : r->last_id;
	tui_members_request(t, r);
}

static void tui_catchup_pump(struct tui *t);

static void tui_catchup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tui *t = arg;

	(void)fd;
	(void)what;
	t->catchup_timer = 0;
	tui_catchup_pump(t);
}

/* Send the catch-up HISTORY of the rooms waiting, at most
 * TUI_CATCHUP_FLIGHT at once; after ERR_RATE_LIMITED none before
 * catchup_retry_ms, when a timer calls again. */
static void tui_catchup_pump(struct tui *t)
{
	uint64_t now = clock_wall_ms();

	if (!t->online)
		return;
	if (now < t->catchup_retry_ms) {
		struct timeval tv = {0, 0};
		uint64_t wait = t->catchup_retry_ms - now;

		tv.tv_sec = (time_t)(wait / 1000);
		tv.tv_usec = (suseconds_t)(wait % 1000 * 1000);
		if (!t->catchup_timer && event_base_once(client_base(t->c), -1, EV_TIMEOUT,
		                                         tui_catchup_timer_cb, t, &tv) == 0)
			t->catchup_timer = 1;
		return;
	}
	for (size_t i = 0; i < t->st.nrooms && t->catchup_flight < TUI_CATCHUP_FLIGHT; i++) {
		struct tui_room *r = t->st.rooms[i];
		struct tui_req *q;
		struct msg m;

		if (r->catchup != TUI_CATCHUP_WAIT || !r->joined)
			continue;
		proto_msg_init(&m, MSG_HISTORY);
		snprintf(m.room, sizeof(m.room), "%s", r->name);
		m.ref = r->catchup_since;
		m.count = TUI_PAGE;
		if (tui_send(t, &m, REQ_CATCHUP, r->name, &q) < 0)
			return; /* lost: the reconnect starts again */
		q->since = r->catchup_since;
		r->catchup = TUI_CATCHUP_SENT;
		t->catchup_flight++;
	}
}

/* Missed messages of room after since: fetched in turn. */
static void tui_catchup(struct tui *t, const char *room, uint64_t since)
{
	struct tui_room *r = tui_room_find(&t->st, room);

	if (!r)
		return;
	r->catchup = TUI_CATCHUP_WAIT;
	r->catchup_since = since;
	tui_catchup_pump(t);
}

/* A catch-up request ended: m is its final reply, NULL on a loss. */
static void tui_catchup_end(struct tui *t, struct tui_req *q, const struct msg *m)
{
	struct tui_room *r = tui_room_find(&t->st, q->room);

	if (t->catchup_flight > 0)
		t->catchup_flight--;
	if (r && r->catchup == TUI_CATCHUP_SENT) {
		r->catchup_since = q->since;
		if (!m || (m->type == MSG_ERROR && m->code == ERR_RATE_LIMITED) ||
		    (m->type != MSG_ERROR && q->n >= TUI_PAGE))
			r->catchup = TUI_CATCHUP_WAIT; /* again, or its next page */
		else
			r->catchup = 0;
	}
	if (m && m->type == MSG_ERROR && m->code == ERR_RATE_LIMITED &&
	    clock_wall_ms() >= t->catchup_retry_ms) {
		/* once per round: the others in flight were refused alike */
		t->catchup_backoff_ms =
		    t->catchup_backoff_ms ? t->catchup_backoff_ms * 2 : TUI_CATCHUP_RETRY_MIN_MS;
		if (t->catchup_backoff_ms > TUI_CATCHUP_RETRY_MAX_MS)
			t->catchup_backoff_ms = TUI_CATCHUP_RETRY_MAX_MS;
		t->catchup_retry_ms = clock_wall_ms() + t->catchup_backoff_ms;
	} else if (m && m->type != MSG_ERROR) {
		t->catchup_backoff_ms = 0;
	}
	if (m)
		tui_catchup_pump(t);
}

void tui_net_load_older(struct tui *t, struct tui_room *r)
{
	struct msg m;

	if (!t->online || r->loading || !r->has_older || !r->joined)
		return;
	if (r->count >= TUI_KEEP_MAX) {
		tui_status(t, "scroll-back holds at most %d messages", TUI_KEEP_MAX);
		return;
	}
	proto_msg_init(&m, MSG_HISTORY);
	snprintf(m.room, sizeof(m.room), "%s", r->name);
	m.id = tui_room_first_id(r);
	m.count = TUI_PAGE;
	if (m.id == 0)
		return;
	if (tui_send(t, &m, REQ_OLDER, r->name, NULL) == 0)
		r->loading = 1;
	tui_dirty(t);
}

void tui_net_open(struct tui *t, const char *name)
{
	char canon[PROTO_ROOM_MAX + 1];
	struct tui_room *r;

	tui_room_name(t, name, canon);
	r = tui_room_find(&t->st, canon);
	if (r && r->joined) {
		tui_room_select(&t->st, tui_room_index(&t->st, r));
		tui_call_follow(t);
		tui_dirty(t);
		return;
	}
	if (!r)
		r = tui_room_add(&t->st, canon, 0);
	if (!r) {
		tui_note(t, TUI_ERROR, "too many rooms open (at most %d)", TUI_ROOMS_MAX);
		return;
	}
	tui_room_select(&t->st, tui_room_index(&t->st, r));
	tui_call_follow(t);
	tui_join(t, r, 1, 0);
	tui_dirty(t);
}

/* Replies */

/* A room we are in (JOIN's reply, or the listing of our rooms). */
static void tui_room_info(struct tui *t, struct tui_room *r, const struct msg *m)
{
	if (!r)
		return;
	r->joined = 1;
	r->flags |= m->flags & (MF_PRIVATE | MF_DM);
	snprintf(r->topic, sizeof(r->topic), "%.200s", m->text);
	tui_call_follow(t); /* joined: the room shown may have a call */
}

static void tui_answer_chat(struct tui *t, struct tui_req *q, const struct msg *m)
{
	struct tui_room *r = tui_room_find(&t->st, m->room[0] ? m->room : q->room);

	if (q->kind == REQ_SEARCH) {
		char when[32];
		char *clean = utf8_clean(m->flags & MF_DELETED ? "(deleted)" : m->text, 0);
		q->n++;
		tui_note(t, TUI_INFO, "#%" PRIu64 " %s <%s> %s", m->id,
		         out_time(m->ts, 1, when, sizeof(when)), m->user, clean ? clean : "");
		free(clean);
		return;
	}
	q->n++;
	if (m->id > q->since && q->kind == REQ_CATCHUP)
		q->since = m->id;
	if (r && tui_room_insert(&t->st, r, m, r == tui_cur(t)) == 1 && q->kind == REQ_CATCHUP &&
	    r != tui_cur(t) && strcmp(m->user, t->st.me) != 0) {
		/* Missed while disconnected: unread, though it came as history. */
		r->unread++;
		if ((m->flags & MF_MENTION) || (r->flags & MF_DM))
			r->mention = 1;
	}
}

static void tui_answer_ok(struct tui *t, struct tui_req *q, const struct msg *m)
{
	struct tui_room *r = tui_room_find(&t->st, q->room);

	switch (q->kind) {
	case REQ_JOIN:
		if (!r)
			break;
		if (q->flag && q->has_top && q->top <= q->since)
			r->catchup = 0; /* nothing new since: no HISTORY */
		else if (q->flag)
			tui_catchup(t, r->name, q->since);
		else if (q->n >= TUI_OLDER_GUESS)
			r->has_older = 1; /* the server replays at most its history_on_join */
		break;
	case REQ_CATCHUP:
		tui_catchup_end(t, q, m);
		break;
	case REQ_OLDER:
		if (r) {
			r->loading = 0;
			r->has_older = q->n >= TUI_PAGE;
		}
		break;
	case REQ_SEARCH:
		tui_note(t, TUI_INFO, "%u message%s found", q->n, q->n == 1 ? "" : "s");
		break;
	case REQ_CREATE:
		tui_net_open(t, q->room);
		break;
	case REQ_LEAVE:
		if (r)
			tui_room_remove(&t->st, r);
		tui_call_follow(t);
		tui_note(t, TUI_INFO, "you left %s", q->room);
		break;
	case REQ_PRESENCE:
		t->away = q->flag;
		tui_note(t, TUI_INFO, "%s", q->flag ? "you are away" : "you are back");
		break;
	case REQ_WHO:
		tui_note(t, TUI_INFO, "%u member%s", q->n, q->n == 1 ? "" : "s");
		break;
	case REQ_SIMPLE:
		if (q->note[0])
			tui_note(t, TUI_INFO, "%s", q->note);
		break;
	default:
		break;
	}
	(void)m;
}

static void tui_answer_error(struct tui *t, struct tui_req *q, const struct msg *m)
{
	struct tui_room *r = tui_room_find(&t->st, q->room);

	if (q->kind == REQ_JOIN && r && !r->joined && !q->flag) {
		tui_room_remove(&t->st, r);
		tui_call_follow(t);
		if (!tui_cur(t))
			tui_status(t, "%s", "");
	}
	if (q->kind == REQ_OLDER && r)
		r->loading = 0;
	if (q->kind == REQ_CATCHUP) {
		tui_catchup_end(t, q, m);
		if (m->code == ERR_RATE_LIMITED)
			return; /* asked again after a wait */
	}
	if (q->kind == REQ_PING || q->kind == REQ_MEMBERS)
		return;
	if (q->kind == REQ_SAY && m->code == ERR_FORBIDDEN && q->room[0] != '@') {
		tui_note(t, TUI_ERROR, "not a member of %s: /join %s", q->room, q->room);
		return;
	}
	tui_note_error(t, m, q->room[0] ? q->room : NULL);
}

/* The server's answer to one of our requests (not the /reply command). */
static void tui_answer_cb(struct client *c, const struct msg *m, void *arg)
{
	struct tui_req *q = arg;
	struct tui *t = q->t;
	struct tui_room *r;

	(void)c;
	if (!m) {
		if ((r = tui_room_find(&t->st, q->room)) && q->kind == REQ_OLDER)
			r->loading = 0;
		if (q->kind == REQ_CATCHUP)
			tui_catchup_end(t, q, NULL);
		free(q);
		return;
	}
	switch (m->type) {
	case MSG_CHAT:
		tui_answer_chat(t, q, m);
		break;
	case MSG_ROOM_INFO:
		/* the room as chatd names it, not as typed (see tui_room_name) */
		if (q->kind == REQ_JOIN && m->room[0] && strcmp(m->room, q->room) != 0) {
			tui_room_rename(&t->st, q->room, m->room);
			snprintf(q->room, sizeof(q->room), "%s", m->room);
			tui_call_follow(t);
		}
		tui_room_info(t, tui_room_find(&t->st, m->room), m);
		if (q->kind == REQ_JOIN) {
			q->top = m->id;
			q->has_top = 1;
		}
		break;
	case MSG_MEMBER:
		if ((r = tui_room_find(&t->st, q->room)))
			tui_member_set(r, m->user, 1);
		tui_presence_set(&t->st, m->user, m->count);
		if (q->kind == REQ_WHO)
			tui_note(t, TUI_INFO, "  %s (%s)", m->user,
			         m->count == PRESENCE_ONLINE ? "online"
			         : m->count == PRESENCE_AWAY ? "away"
			                                     : "offline");
		q->n++;
		break;
	case MSG_PONG:
		t->latency_ms = (long)(clock_wall_ms() - t->ping_sent_ms);
		t->ping_req = 0;
		break;
	case MSG_OK:
	case MSG_ACK:
		tui_answer_ok(t, q, m);
		break;
	case MSG_ERROR:
		tui_answer_error(t, q, m);
		break;
	default:
		break;
	}
	if (client_reply_final(m))
		free(q);
	tui_dirty(t);
}

/* Pushed frames */

static void tui_ring(struct tui *t)
{
	if (t->bell && t->curses)
		beep();
}

static void tui_on_chat(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;
	struct tui_room *r = tui_room_find(&t->st, m->room);
	int fresh, mine = strcmp(m->user, t->st.me) == 0;

	(void)c;
	if (!r && (m->flags & (MF_EDITED | MF_DELETED)))
		return;
	if (!r) {
		r = tui_room_add(&t->st, m->room, 0);
		if (!r)
			return;
		/* A mention in a room we are not in is a peek; anything else
		 * comes from a room joined elsewhere (another session). */
		r->joined = m->room[0] == '@' || !(m->flags & MF_MENTION);
	}
	fresh = tui_room_insert(&t->st, r, m, r == tui_cur(t));
	if (fresh == 1 && r->scroll)
		r->scroll += tui_draw_lines(t, r, tui_room_by_id(r, m->id));
	if (fresh == 1 && !mine && ((m->flags & MF_MENTION) || m->room[0] == '@'))
		tui_ring(t);
	tui_dirty(t);
}

static void tui_on_event(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;
	struct tui_room *r = tui_room_find(&t->st, m->room);
	char *who = utf8_clean(m->user, 0), *text = utf8_clean(m->text, 0);

	(void)c;
	if (m->count == EVENT_JOIN && strcmp(m->user, t->st.me) == 0 && !r) {
		/* Joined from another session: follow it here too. */
		r = tui_room_add(&t->st, m->room, 0);
		if (r)
			tui_join(t, r, 0, 0);
	} else if (m->count == EVENT_INVITE && strcmp(m->user, t->st.me) == 0 && !r) {
		r = tui_room_add(&t->st, m->room, MF_PRIVATE);
		if (r) {
			tui_room_note(r, TUI_EVENT, m->ts, NULL, "you were %s: /join %s", text,
			              r->label);
			r->unread++;
			r->mention = 1;
			tui_ring(t);
		}
	} else if (r && who && text) {
		switch (m->count) {
		case EVENT_JOIN:
			tui_member_set(r, m->user, 1);
			tui_room_note(r, TUI_EVENT, m->ts, m->user, "%s joined", who);
			break;
		case EVENT_LEAVE:
			tui_member_set(r, m->user, 0);
			tui_room_note(r, TUI_EVENT, m->ts, m->user, "%s left", who);
			break;
		case EVENT_TOPIC:
			snprintf(r->topic, sizeof(r->topic), "%.200s", text);
			tui_room_note(r, TUI_EVENT, m->ts, m->user, "%s set the topic: %s", who,
			              text);
			break;
		case EVENT_INVITE:
			tui_room_note(r, TUI_EVENT, m->ts, m->user, "%s was %s", who, text);
			break;
		default:
			tui_room_note(r, TUI_EVENT, m->ts, m->user, "%s", text);
		}
	}
	free(who);
	free(text);
	tui_dirty(t);
}

static void tui_on_presence(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;

	(void)c;
	tui_presence_set(&t->st, m->user, m->count);
	tui_dirty(t);
}

static void tui_on_typing(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;
	struct tui_room *r = tui_room_find(&t->st, m->room);

	(void)c;
	if (!r || strcmp(m->user, t->st.me) == 0)
		return;
	tui_typing_set(r, m->user, clock_wall_ms());
	tui_dirty(t);
}

static void tui_on_state(struct client *c, enum client_state old, void *arg)
{
	struct tui *t = arg;
	enum client_state now = client_state(c);

	switch (now) {
	case CLIENT_RECONNECTING:
		if (t->online && client_loss_text(c))
			tui_note(t, TUI_ERROR, "connection lost (%s); reconnecting",
			         client_loss_text(c));
		else if (t->online)
			tui_note(t, TUI_ERROR, "connection lost; reconnecting");
		t->online = 0;
		tui_call_follow(t); /* offline: no watch */
		t->latency_ms = -1;
		t->ping_req = 0;
		t->conn_text = "reconnecting";
		break;
	case CLIENT_CONNECTING:
	case CLIENT_HANDSHAKING:
		t->conn_text = t->was_online ? "reconnecting" : "connecting";
		break;
	case CLIENT_READY:
		t->conn_text = "logging in";
		break;
	case CLIENT_AUTHENTICATED:
		t->conn_text = "connected";
		break;
	default:
		t->conn_text = client_state_name(now);
	}
	(void)old;
	tui_dirty(t);
}

static void tui_ping(struct tui *t)
{
	struct msg m;
	struct tui_req *q;

	if (!t->online || t->ping_req)
		return;
	proto_msg_init(&m, MSG_PING);
	m.ts = clock_wall_ms();
	if (tui_send(t, &m, REQ_PING, NULL, &q) == 0) {
		t->ping_req = m.req;
		t->ping_sent_ms = clock_wall_ms();
	}
}

/* The rooms we belong to, page by page; once the last page is in, each
 * is joined (history, members). */
static int tui_mine_room(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;

	(void)c;
	if (m->flags & (MF_JOINED | MF_DM))
		tui_room_info(t, tui_room_add(&t->st, m->room, m->flags), m);
	return 0;
}

static void tui_mine_done(struct client *c, int r, const struct msg *err, void *arg)
{
	struct tui *t = arg;

	(void)c;
	if (r == -ENOTCONN)
		return; /* the next login lists them again */
	if (r == -EREMOTEIO)
		tui_note_error(t, err, NULL);
	else if (r == -ELOOP)
		tui_note(t, TUI_ERROR,
		         "the server's list of your rooms does not end: only the "
		         "rooms seen so far");
	else if (r < 0)
		tui_note(t, TUI_ERROR, "cannot list your rooms: %s", strerror(-r));
	if (t->st.nrooms == 0 && r == 0)
		tui_note(t, TUI_INFO,
		         "no rooms yet: /list shows the rooms there are; "
		         "/join ROOM or /create ROOM");
	for (size_t i = 0; i < t->st.nrooms; i++)
		tui_join(t, t->st.rooms[i], 0, 0);
	tui_dirty(t);
}

static void tui_list_mine(struct tui *t)
{
	int r = client_room_pages(t->c, MF_JOINED, tui_mine_room, tui_mine_done, t);

	if (r < 0)
		tui_note(t, TUI_ERROR, "cannot list your rooms: %s",
		         r == -ENOTCONN ? "not connected: wait for the reconnection"
		                        : strerror(-r));
}

/* Logged in (first time, or again after a loss). */
void tui_net_start(struct tui *t)
{
	struct msg m;

	snprintf(t->st.me, sizeof(t->st.me), "%s", client_user(t->c));
	if (!t->curses && tui_curses_start(t) < 0) {
		client_fail(t->c, EXIT_ERROR, "cannot start the terminal screen");
		return;
	}
	t->online = 1;
	t->conn_text = "connected";
	if (t->was_online) {
		tui_note(t, TUI_INFO, "reconnected");
		for (size_t i = 0; i < t->st.nrooms; i++)
			if (t->st.rooms[i]->joined)
				tui_join(t, t->st.rooms[i], 0, 1);
		if (t->away) {
			proto_msg_init(&m, MSG_PRESENCE);
			m.count = PRESENCE_AWAY;
			tui_send(t, &m, REQ_PING, NULL, NULL);
		}
	} else {
		tui_list_mine(t);
	}
	t->was_online = 1;
	tui_call_follow(t); /* online: the room shown may have a call */
	tui_ping(t);
	tui_dirty(t);
}

static void tui_on_ready(struct client *c, void *arg)
{
	struct tui *t = arg;

	if (client_state(c) != CLIENT_AUTHENTICATED) {
		tui_setup_login(t);
		return;
	}
	tui_net_start(t);
}

const struct client_cbs *tui_net_callbacks(void)
{
	static const struct client_cbs cbs = {
	    .ready = tui_on_ready,
	    .state = tui_on_state,
	    .chat = tui_on_chat,
	    .event = tui_on_event,
	    .presence = tui_on_presence,
	    .typing = tui_on_typing,
	};
	return &cbs;
}

void tui_net_tick(struct tui *t)
{
	uint64_t now = clock_wall_ms();
	int changed = 0;

	tui_xfer_tick(t);
	tui_voice_tick(t);
	for (size_t i = 0; i < t->st.nrooms; i++)
		changed |= tui_typing_expire(t->st.rooms[i], now);
	if (t->status[0] && t->status_until_ms <= now) {
		t->status[0] = '\0';
		changed = 1;
	}
	if (t->online && !t->ping_req && now - t->ping_sent_ms >= TUI_PING_MS)
		tui_ping(t);
	if (changed)
		tui_dirty(t);
}

void tui_net_typing(struct tui *t)
{
	struct tui_room *r = tui_cur(t);
	uint64_t now = clock_wall_ms();
	struct msg m;

	if (!r || !r->joined || !t->online || t->line.len == 0 || t->line.buf[0] == '/')
		return;
	if (now - t->typing_sent_ms < TUI_TYPING_EVERY_MS && strcmp(t->typing_room, r->name) == 0)
		return;
	proto_msg_init(&m, MSG_TYPING);
	snprintf(m.room, sizeof(m.room), "%s", r->name);
	if (client_send(t->c, &m) == 0) {
		t->typing_sent_ms = now;
		snprintf(t->typing_room, sizeof(t->typing_room), "%s", r->name);
	}
}
