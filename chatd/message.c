/* message: say, edit, delete, history, search and mentions, and the group
 * commit every message write goes through.
 *
 * Group commit: the first write of an event-loop turn opens a transaction
 * and activates commit_ev; later writes of the same turn join it. Each
 * write runs at once (so SAY learns its rowid) but its reply waits on a
 * pending list. commit_ev has the same priority as the socket events and is
 * activated after them, so libevent runs it right after the reads already
 * queued in this turn: one COMMIT (one fsync) for the whole batch. A lower
 * priority would batch more under load but could starve while reads keep
 * arriving. Only after COMMIT succeeds are ACKs sent and CHATs fanned out;
 * if it fails everything pending gets ERR_INTERNAL and is rolled back. */
#include "chatd.h"
#include "ratelimit.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

struct pending {
	struct pending *next;
	uint16_t kind; /* MSG_SAY, MSG_EDIT, MSG_DELETE */
	uint32_t req;
	struct session *s; /* NULL once the sender has gone */
	struct room *room;
	uint64_t id, ts, ref;
	uint32_t flags;
	char user[PROTO_NAME_MAX + 1];
	char text[]; /* NUL-terminated */
};

static struct {
	bool open;
	struct pending *head, **tail;
	unsigned n;
} batch = {.tail = &batch.head};

static void message_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	message_batch_flush();
}

int message_batch_open(void)
{
	int r;

	if (batch.open)
		return 0;
	if (!chatd.commit_ev) {
		chatd.commit_ev = event_new(chatd.base, -1, 0, message_commit_cb, NULL);
		if (!chatd.commit_ev)
			return -ENOMEM;
	}
	r = db_begin(chatd.db);
	if (r < 0)
		return r;
	batch.open = true;
	event_active(chatd.commit_ev, EV_TIMEOUT, 0);
	return 0;
}

static void message_pending_add(uint16_t kind, struct session *s, uint32_t req, struct room *r,
                                uint64_t id, uint64_t ts, uint64_t ref, uint32_t flags,
                                const char *text)
{
	size_t len = strlen(text);
	struct pending *p = xcalloc(1, sizeof(*p) + len + 1);

	p->kind = kind;
	p->s = s;
	p->req = req;
	p->room = r;
	p->id = id;
	p->ts = ts;
	p->ref = ref;
	p->flags = flags;
	snprintf(p->user, sizeof(p->user), "%s", s->user->name);
	memcpy(p->text, text, len + 1);
	*batch.tail = p;
	batch.tail = &p->next;
	batch.n++;
}

void message_forget_session(struct session *s)
{
	for (struct pending *p = batch.head; p; p = p->next)
		if (p->s == s)
			p->s = NULL;
}

static bool message_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* The existing users a text mentions as "@name" (a word of its own). */
static size_t message_mentions(const char *text, struct user **out, size_t max)
{
	size_t n = 0;

	for (const char *p = strchr(text, '@'); p && n < max; p = strchr(p + 1, '@')) {
		char name[PROTO_NAME_MAX + 1];
		size_t len = 0;
		struct user *u;
		bool dup = false;

		if (p > text && (message_name_char(p[-1]) || p[-1] == '@'))
			continue;
		while (message_name_char(p[1 + len]) && len <= PROTO_NAME_MAX)
			len++;
		if (len == 0 || len > PROTO_NAME_MAX)
			continue;
		memcpy(name, p + 1, len);
		name[len] = '\0';
		u = account_find(name);
		for (size_t i = 0; u && i < n; i++)
			dup |= out[i] == u;
		if (u && !dup)
			out[n++] = u;
	}
	return n;
}

static bool message_mentions_user(const char *text, const struct user *u)
{
	struct user *m[CHATD_MENTIONS_MAX];
	size_t n = message_mentions(text, m, CHATD_MENTIONS_MAX);

	for (size_t i = 0; i < n; i++)
		if (m[i] == u)
			return true;
	return false;
}

/* A CHAT frame encoded once per message and flag set, then copied to every
 * recipient: the fan-out costs a copy per session, not an encode. */
struct fanout_frame {
	uint8_t *buf;
	size_t len;
};

static int fanout_encode(struct msg *chat, uint32_t flags, struct fanout_frame *f)
{
	chat->flags = flags;
	if (proto_encoded_len(chat, &f->len) < 0)
		return -EINVAL;
	f->buf = malloc(f->len);
	if (!f->buf)
		return -ENOMEM;
	return proto_encode(chat, f->buf, f->len) < 0 ? -EINVAL : 0;
}

static void message_send_user(struct user *u, const struct fanout_frame *f)
{
	for (struct session *s = u->sessions; s; s = s->user_next)
		front_send_frame(&s->fs, f->buf, f->len);
}

/* Live CHAT to every member's sessions; mentioned users get MF_MENTION,
 * and get it even outside a public room they did not join. */
static void message_fanout(struct room *r, struct msg *chat)
{
	struct user *men[CHATD_MENTIONS_MAX];
	size_t nmen = message_mentions(chat->text, men, CHATD_MENTIONS_MAX);
	uint32_t base = chat->flags;
	struct fanout_frame plain = {0}, mention = {0};

	if (fanout_encode(chat, base, &plain) < 0 ||
	    (nmen && fanout_encode(chat, base | MF_MENTION, &mention) < 0)) {
		log_warn("cannot encode message %" PRIu64 " for delivery", chat->id);
		goto out;
	}
	for (size_t i = 0; i < r->nmembers; i++) {
		struct user *u = r->members[i];
		bool mentioned = false;

		for (size_t k = 0; k < nmen; k++)
			mentioned |= men[k] == u;
		message_send_user(u, mentioned ? &mention : &plain);
	}
	for (size_t k = 0; k < nmen && !(r->flags & (MF_PRIVATE | MF_DM)); k++)
		if (!room_is_member(r, men[k]))
			message_send_user(men[k], &mention);
out:
	chat->flags = base;
	free(plain.buf);
	free(mention.buf);
}

static void message_deliver(struct pending *p)
{
	struct msg chat;

	if (p->kind == MSG_SAY && p->id > p->room->last_id)
		p->room->last_id = p->id;
	if (p->s && p->kind == MSG_SAY) {
		struct msg ack;

		proto_msg_init(&ack, MSG_ACK);
		ack.req = p->req;
		ack.id = p->id;
		ack.ts = p->ts;
		snprintf(ack.room, sizeof(ack.room), "%s", p->room->name);
		front_send(&p->s->fs, &ack);
	} else if (p->s) {
		front_ok(&p->s->fs, p->req, p->id, 0);
	}
	proto_msg_init(&chat, MSG_CHAT);
	chat.id = p->id;
	chat.ts = p->ts;
	snprintf(chat.room, sizeof(chat.room), "%s", p->room->name);
	snprintf(chat.user, sizeof(chat.user), "%s", p->user);
	chat.ref = p->ref;
	chat.flags = p->flags;
	memcpy(chat.text, p->text, strlen(p->text) + 1);
	message_fanout(p->room, &chat);
}

void message_batch_flush(void)
{
	struct pending *list = batch.head, *next;
	unsigned n = batch.n;
	int r;

	if (!batch.open)
		return;
	batch.open = false;
	batch.head = NULL;
	batch.tail = &batch.head;
	batch.n = 0;
	event_del(chatd.commit_ev);
	r = db_commit(chatd.db);
	if (log_verbosity() >= 2)
		log_debug("group commit: %u writes: %s", n, r < 0 ? strerror(-r) : "ok");
	if (r < 0) {
		db_rollback(chatd.db);
		log_err("commit failed (%s): %u writes lost and reported", strerror(-r), n);
	}
	for (struct pending *p = list; p; p = next) {
		next = p->next;
		if (r == 0)
			message_deliver(p);
		else if (p->s)
			front_error(&p->s->fs, p->req, ERR_INTERNAL,
			            r == -ENOSPC ? "server disk full: not stored"
			                         : "server database error: not stored");
		free(p);
	}
}

void message_batch_free(void)
{
	reader_stop();
	if (chatd.commit_ev)
		event_free(chatd.commit_ev);
	chatd.commit_ev = NULL;
}

/* Length rules shared by SAY and EDIT; false after replying. */
static bool message_text_ok(struct session *s, uint32_t req, const char *text)
{
	size_t len = strlen(text);

	if (len == 0) {
		front_error(&s->fs, req, ERR_INVALID, "empty message");
		return false;
	}
	if (len > chatd.cfg.max_text) {
		front_error(&s->fs, req, ERR_TOO_LARGE, "message longer than %u bytes",
		            chatd.cfg.max_text);
		return false;
	}
	return true;
}

/* One token bucket per user, shared by all their sessions. */
static bool message_rate_ok(struct session *s, uint32_t req)
{
	if (ratetable_take(chatd.msg_rate, s->user->name, clock_now_ms(), 1))
		return true;
	front_error(&s->fs, req, ERR_RATE_LIMITED, "too many messages; slow down");
	return false;
}

/* The reply target must be a message of the same room. */
static int message_check_ref(const struct room *r, uint64_t ref, char *why, size_t whylen)
{
	struct db_msg dm;
	int rc = db_msg_get(chatd.db, ref, &dm);

	if (rc == 0 && dm.room == r->id)
		return 0;
	if (rc < 0 && rc != -ENOENT) {
		snprintf(why, whylen, "cannot read message %" PRIu64, ref);
		return ERR_INTERNAL;
	}
	snprintf(why, whylen, "no such message %" PRIu64 " in %s", ref, r->name);
	return ERR_NOT_FOUND;
}

void message_handle_say(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r = NULL;
	uint64_t id, ts;
	int code;

	if (!message_text_ok(s, m->req, m->text) || !message_rate_ok(s, m->req))
		return;
	code = room_lookup(s, m->room, ROOM_SPEAK, &r, why, sizeof(why));
	if (!code && !room_is_member(r, s->user)) {
		snprintf(why, sizeof(why), "join #%s before you speak in it", r->name);
		code = ERR_FORBIDDEN;
	}
	if (!code && m->ref)
		code = message_check_ref(r, m->ref, why, sizeof(why));
	if (!code && message_batch_open() < 0) {
		snprintf(why, sizeof(why), "server database error: not stored");
		code = ERR_INTERNAL;
	}
	ts = clock_wall_ms();
	if (!code && db_msg_add(chatd.db, r->id, s->user->name, ts, m->ref, m->text, &id) < 0) {
		snprintf(why, sizeof(why), "server database error: not stored");
		code = ERR_INTERNAL;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	message_pending_add(MSG_SAY, s, m->req, r, id, ts, m->ref, 0, m->text);
}

/* EDIT and DELETE: the author changes a message that still exists. */
static void message_change(struct session *s, const struct msg *m, uint32_t flag, const char *text)
{
	struct db_msg dm;
	struct room *r = NULL;
	int rc;

	if (!message_rate_ok(s, m->req))
		return;
	rc = db_msg_get(chatd.db, m->id, &dm);
	if (rc < 0 && rc != -ENOENT) {
		front_error(&s->fs, m->req, ERR_INTERNAL, NULL);
		return;
	}
	if (rc == 0)
		r = room_by_id(dm.room);
	if (rc == -ENOENT || !r || (dm.flags & MF_DELETED)) {
		front_error(&s->fs, m->req, ERR_NOT_FOUND, "no such message %" PRIu64, m->id);
		return;
	}
	if (strcmp(dm.user, s->user->name) != 0) {
		front_error(&s->fs, m->req, ERR_FORBIDDEN, "only the author can change a message");
		return;
	}
	if (message_batch_open() < 0 ||
	    db_msg_update(chatd.db, m->id, (dm.flags | flag) & (MF_EDITED | MF_DELETED), text) <
	        0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "server database error: not stored");
		return;
	}
	message_pending_add(m->type, s, m->req, r, m->id, dm.ts, dm.ref,
	                    (dm.flags | flag) & (MF_EDITED | MF_DELETED), text);
}

void message_handle_edit(struct session *s, const struct msg *m)
{
	if (message_text_ok(s, m->req, m->text))
		message_change(s, m, MF_EDITED, m->text);
}

void message_handle_delete(struct session *s, const struct msg *m)
{
	message_change(s, m, MF_DELETED, "");
}

struct history_ctx {
	struct session *s;
	struct room *room;
	struct msg chat;
	int stop;
};

static int message_history_cb(void *arg, const struct db_msg *dm)
{
	struct history_ctx *h = arg;
	struct msg *c = &h->chat;

	c->id = dm->id;
	c->ts = dm->ts;
	c->ref = dm->ref;
	c->flags = dm->flags | MF_HISTORY;
	snprintf(c->user, sizeof(c->user), "%s", dm->user);
	snprintf(c->text, sizeof(c->text), "%s", dm->text);
	if (message_mentions_user(c->text, h->s->user))
		c->flags |= MF_MENTION;
	if (front_send(&h->s->fs, c) < 0)
		h->stop = 1;
	return h->stop;
}

static int message_history(struct session *s, uint32_t req, struct room *r,
                           const struct db_history *q)
{
	struct history_ctx *h = xcalloc(1, sizeof(*h));
	int n;

	h->s = s;
	h->room = r;
	proto_msg_init(&h->chat, MSG_CHAT);
	h->chat.req = req;
	snprintf(h->chat.room, sizeof(h->chat.room), "%s", r->name);
	n = db_history(chatd.db, q, message_history_cb, h);
	free(h);
	return n;
}

uint32_t message_send_last(struct session *s, uint32_t req, struct room *r, uint32_t n)
{
	struct db_history q = {.room = r->id, .limit = n};
	int got;

	if (n == 0)
		return 0;
	got = message_history(s, req, r, &q);
	return got > 0 ? (uint32_t)got : 0;
}

static bool message_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return false;
	return true;
}

/* A search is at most CHATD_SEARCH_WORDS words in CHATD_SEARCH_BYTES: each
 * word is one more FTS5 phrase to merge. false after replying. */
static bool message_search_ok(struct session *s, uint32_t req, const char *text)
{
	size_t words = 0;

	if (strlen(text) > CHATD_SEARCH_BYTES) {
		front_error(&s->fs, req, ERR_TOO_LARGE, "search longer than %d bytes",
		            CHATD_SEARCH_BYTES);
		return false;
	}
	for (const char *p = text; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' &&
		    (p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n'))
			words++;
	if (words > CHATD_SEARCH_WORDS) {
		front_error(&s->fs, req, ERR_TOO_LARGE, "search of more than %d words",
		            CHATD_SEARCH_WORDS);
		return false;
	}
	return true;
}

/* What a HISTORY job needs back on the loop: rooms are never freed while
 * chatd runs, and reader_stop ends the jobs before rooms go. */
struct history_job {
	uint32_t req;
	struct room *room;
};

static void message_history_done(struct session *s, int result, struct db_msg *const *rows,
                                 size_t n, void *arg)
{
	struct history_job *hj = arg;
	struct history_ctx h = {.s = s, .room = hj->room};

	if (!s || s->fs.state != FRONT_USER || !s->user)
		goto out;
	/* Checked again: the read took up to CHATD_READ_BUDGET_MS, and
	 * meanwhile the user may have left the private room or been removed
	 * from it (the rows must not reach a non-member). */
	if (!room_can_read(hj->room, s->user)) {
		front_error(&s->fs, hj->req, ERR_FORBIDDEN, "%s is private", hj->room->name);
		goto out;
	}
	if (result == -ETIMEDOUT) {
		front_error(&s->fs, hj->req, ERR_TOO_LARGE,
		            "search took longer than %d ms: use fewer or rarer words",
		            CHATD_READ_BUDGET_MS);
		goto out;
	}
	if (result == -EINVAL) {
		front_error(&s->fs, hj->req, ERR_INVALID, "cannot search for that");
		goto out;
	}
	if (result < 0) {
		log_warn("%s: history of %s: %s", front_name(&s->fs), hj->room->name,
		         strerror(-result));
		front_error(&s->fs, hj->req, ERR_INTERNAL, "cannot read the history");
		goto out;
	}
	proto_msg_init(&h.chat, MSG_CHAT);
	h.chat.req = hj->req;
	snprintf(h.chat.room, sizeof(h.chat.room), "%s", hj->room->name);
	for (size_t i = 0; i < n && !h.stop; i++)
		message_history_cb(&h, rows[i]);
	front_ok(&s->fs, hj->req, hj->room->last_id, (uint32_t)n);
out:
	free(hj);
}

/* HISTORY and search: checked here, read on the reader thread (reader.c),
 * answered in message_history_done. */
void message_handle_history(struct session *s, const struct msg *m)
{
	struct db_history q = {.since = m->ref, .before = m->id};
	struct history_job *hj;
	char why[160];
	struct room *r = NULL;
	int code, rc;

	if (!ratetable_take(chatd.history_rate, s->user->name, clock_now_ms(), 1)) {
		front_error(&s->fs, m->req, ERR_RATE_LIMITED,
		            "too many history requests; slow down");
		return;
	}
	code = room_lookup(s, m->room, ROOM_OPEN, &r, why, sizeof(why));
	if (!code && !room_can_read(r, s->user)) {
		snprintf(why, sizeof(why), "%s is private", r->name);
		code = ERR_FORBIDDEN;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	q.search = message_blank(m->text) ? NULL : m->text;
	if (q.search && !message_search_ok(s, m->req, q.search))
		return;
	q.room = r->id;
	q.limit = m->count == 0                  ? CHATD_HISTORY_DEFAULT
	          : m->count > CHATD_HISTORY_MAX ? CHATD_HISTORY_MAX
	                                         : m->count;
	/* Reads see committed messages only: commit what waits first. */
	message_batch_flush();
	hj = xcalloc(1, sizeof(*hj));
	hj->req = m->req;
	hj->room = r;
	rc = reader_submit(s, &q, message_history_done, hj);
	if (rc < 0) {
		free(hj);
		if (rc == -EBUSY)
			front_error(&s->fs, m->req, ERR_RATE_LIMITED,
			            "server busy reading history; try again");
		else if (rc == -EAGAIN)
			front_error(&s->fs, m->req, ERR_RATE_LIMITED,
			            "four history reads of yours are still running; try again");
		else
			front_error(&s->fs, m->req, ERR_INTERNAL, "cannot read the history");
	}
}
