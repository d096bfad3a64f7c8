/* room: rooms and their members in memory (a cache of the rooms and members
 * tables), public and private rooms, invites, topics, direct conversations
 * and the fan-out of frames to a room's sessions.
 *
 * A direct conversation is a room named "@a:b" (the two user names sorted)
 * with MF_DM; clients name it "@peer" and it is made on first use. Control
 * writes here (create, join, leave, invite, topic) first flush the group
 * commit and then commit on their own, so their replies are durable too and
 * a failed batch never has to undo memory they changed. */
#include "chatd.h"
#include "ratelimit.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct room *room_of(struct name_link *l)
{
	/* The link is the first member of struct room. */
	return (struct room *)(void *)l;
}

static struct room *room_find(const char *name)
{
	struct name_link *l = name_table_find(&chatd.rooms, name);

	return l ? room_of(l) : NULL;
}

static void grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return;
	n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		fatal("out of memory");
	*arr = p;
	*cap = n;
}

static struct room *room_new(int64_t id, const char *name, uint32_t flags, const char *topic)
{
	struct room *r = xcalloc(1, sizeof(*r));

	r->id = id;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->link.name = r->name;
	r->flags = flags & (MF_PRIVATE | MF_DM);
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	name_table_add(&chatd.rooms, &r->link);
	grow((void **)&chatd.room_list, &chatd.room_cap, chatd.nrooms + 1, sizeof(r));
	chatd.room_list[chatd.nrooms++] = r;
	if (r->flags & MF_DM)
		chatd.ndms++;
	return r;
}

struct room *room_by_id(int64_t id)
{
	size_t lo = 0, hi = chatd.nrooms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct room *r = chatd.room_list[mid];

		if (r->id == id)
			return r;
		if (r->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool room_is_member(const struct room *r, const struct user *u)
{
	/* The shorter list: most users are in few rooms, but a room may have
	 * thousands of members and a user may be in thousands of small rooms
	 * (ROOM_LIST asks this of every room it looks at). */
	if (r->nmembers < u->nrooms) {
		for (size_t i = 0; i < r->nmembers; i++)
			if (r->members[i] == u)
				return true;
		return false;
	}
	for (size_t i = 0; i < u->nrooms; i++)
		if (u->rooms[i] == r)
			return true;
	return false;
}

bool room_can_read(const struct room *r, const struct user *u)
{
	return !(r->flags & (MF_PRIVATE | MF_DM)) || room_is_member(r, u);
}

static void room_link(struct room *r, struct user *u)
{
	if (room_is_member(r, u))
		return;
	grow((void **)&r->members, &r->member_cap, r->nmembers + 1, sizeof(u));
	r->members[r->nmembers++] = u;
	grow((void **)&u->rooms, &u->room_cap, u->nrooms + 1, sizeof(r));
	u->rooms[u->nrooms++] = r;
}

static void room_unlink(struct room *r, struct user *u)
{
	for (size_t i = 0; i < r->nmembers; i++) {
		if (r->members[i] == u) {
			r->members[i] = r->members[--r->nmembers];
			break;
		}
	}
	for (size_t i = 0; i < u->nrooms; i++) {
		if (u->rooms[i] == r) {
			u->rooms[i] = u->rooms[--u->nrooms];
			break;
		}
	}
}

void room_forget_user(struct user *u)
{
	while (u->nrooms)
		room_unlink(u->rooms[0], u);
}

/* Rooms load oldest first; as with users (account_load_cb), of two names
 * that differ only in case, from before that was refused, the older room
 * keeps the name and each pair is told once per start. */
static int room_load_cb(void *arg, int64_t id, const char *name, uint32_t flags, const char *topic)
{
	struct room *old;

	(void)arg;
	if (strlen(name) > PROTO_ROOM_MAX)
		return 0;
	old = room_find(name);
	if (!old) {
		room_new(id, name, flags, topic);
		return 0;
	}
	log_warn("room %s (id %lld) has the name of the older room %s (id %lld) in another "
	         "case: %s now reaches %s, and %s is out of reach; to give it a name of its own, "
	         "stop chatd and run: sqlite3 %s/%s \"UPDATE rooms SET name = 'NEWNAME' WHERE id "
	         "= %lld\"",
	         name, (long long)id, old->name, (long long)old->id, name, old->name, name,
	         chatd.cfg.common.state_dir, CHATD_DB_NAME, (long long)id);
	return 0;
}

static int room_load_member_cb(void *arg, int64_t room, const char *user)
{
	struct room *r = room_by_id(room);
	struct user *u = account_find(user);

	(void)arg;
	/* the exact name: an account that lost a name clash joins nothing */
	if (r && u && strcmp(u->name, user) == 0)
		room_link(r, u);
	return 0;
}

static int room_load_last_cb(void *arg, int64_t room, uint64_t last_id)
{
	struct room *r = room_by_id(room);

	(void)arg;
	if (r)
		r->last_id = last_id;
	return 0;
}

static int room_load_creator_cb(void *arg, const char *creator, bool dm, uint32_t n)
{
	struct user *u = account_find(creator);

	(void)arg;
	/* the exact name: an account that lost a name clash owns nothing */
	if (u && strcmp(u->name, creator) == 0) {
		if (dm)
			u->dms_made = n;
		else
			u->rooms_made = n;
	}
	return 0;
}

int room_load(void)
{
	int r = db_load_rooms(chatd.db, room_load_cb, NULL);

	if (r == 0)
		r = db_load_members(chatd.db, room_load_member_cb, NULL);
	if (r == 0)
		r = db_load_last_ids(chatd.db, room_load_last_cb, NULL);
	if (r == 0)
		r = db_load_creators(chatd.db, room_load_creator_cb, NULL);
	return r;
}

void room_free_all(void)
{
	for (size_t i = 0; i < chatd.nrooms; i++) {
		free(chatd.room_list[i]->members);
		free(chatd.room_list[i]);
	}
	free(chatd.room_list);
	chatd.room_list = NULL;
	chatd.nrooms = chatd.room_cap = chatd.ndms = 0;
	name_table_free(&chatd.rooms);
}

/* "#name" or "name": 1..max of [A-Za-z0-9_.-], without the '#'. A new room
 * gets at most PROTO_ROOM_NAME_MAX; a lookup takes what the field holds (a
 * room of 65 or 66 bytes made by a chatd before that cap stays reachable). */
static bool room_name_norm(const char *in, size_t max, char out[PROTO_ROOM_MAX + 1])
{
	size_t n;

	if (*in == '#')
		in++;
	n = strlen(in);
	if (n == 0 || n > max || n > PROTO_ROOM_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	memcpy(out, in, n + 1);
	return true;
}

/* Store a new room with its first members, then mirror it in memory. */
static int room_store(const char *name, uint32_t flags, const char *topic, const char *creator,
                      struct user **members, size_t n, struct room **ret)
{
	int64_t id;
	int r;

	message_batch_flush();
	r = db_begin(chatd.db);
	if (r == 0)
		r = db_room_add(chatd.db, name, flags, topic, creator, &id);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = db_member_add(chatd.db, id, members[i]->id);
	if (r == 0)
		r = db_commit(chatd.db);
	if (r < 0) {
		db_rollback(chatd.db);
		return r;
	}
	*ret = room_new(id, name, flags, topic);
	for (size_t i = 0; i < n; i++)
		room_link(*ret, members[i]);
	return 0;
}

/* Make u a member (and use up an invite) or drop them, on disk first. */
static int room_member_store(struct room *r, struct user *u, bool add)
{
	int rc;

	message_batch_flush();
	rc = db_begin(chatd.db);
	if (rc == 0 && add)
		rc = db_member_add(chatd.db, r->id, u->id);
	if (rc == 0 && add)
		rc = db_invite_remove(chatd.db, r->id, u->id);
	if (rc == 0 && !add)
		rc = db_member_remove(chatd.db, r->id, u->id);
	if (rc == 0)
		rc = db_commit(chatd.db);
	if (rc < 0) {
		db_rollback(chatd.db);
		return rc;
	}
	if (add)
		room_link(r, u);
	else
		room_unlink(r, u);
	return 0;
}

/* Whether u may make one more room (dm: direct conversation): the server's
 * cap, then u's own (admins have none), then u's rate. Rooms and direct
 * conversations have separate budgets, so that neither can use up the
 * other; 0 or an ERR_* code with why. */
static int room_quota(const struct user *u, bool dm, char *why, size_t whylen)
{
	const struct chatd_config *c = &chatd.cfg;
	const char *what = dm ? "direct conversations" : "rooms";
	uint32_t cap = dm ? c->max_dms : c->max_rooms, mine = dm ? u->dms_made : u->rooms_made;
	uint32_t user_cap = dm ? c->user_dms : c->user_rooms;
	size_t have = dm ? chatd.ndms : chatd.nrooms - chatd.ndms;

	if (have >= cap) {
		snprintf(why, whylen, "this server holds its maximum of %u %s", cap, what);
		return ERR_QUOTA;
	}
	if (!u->admin && mine >= user_cap) {
		snprintf(why, whylen, "you have %s %u %s, the most one user may (ask an admin)",
		         dm ? "started" : "created", mine, what);
		return ERR_QUOTA;
	}
	if (!ratetable_take(dm ? chatd.dm_rate : chatd.room_rate, u->name, clock_now_ms(), 1)) {
		snprintf(why, whylen, "too many new %s (at most %u a minute): wait a few seconds",
		         what, dm ? c->dm_rate : c->room_rate);
		return ERR_RATE_LIMITED;
	}
	return 0;
}

/* "@a:b" of two user names, sorted byte-wise (strcmp), as the clients and
 * videod sort them. Given the names as registered, whatever case was typed,
 * so that one pair of users always makes the same name. */
static void room_dm_join(const char *x, const char *y, char *out, size_t outlen)
{
	if (strcmp(x, y) > 0)
		snprintf(out, outlen, "@%s:%s", y, x);
	else
		snprintf(out, outlen, "@%s:%s", x, y);
}

/* A conversation whose peer has no account any more, by the names as typed:
 * their case may sort them the other way than the names as registered did
 * ("@zed" for "@Zed:bob"), so both orders are tried. */
static struct room *room_dm_find_typed(const char *name)
{
	char swapped[2 * PROTO_ROOM_MAX + 4];
	const char *colon = strchr(name, ':');
	struct room *r = room_find(name);

	if (r || !colon || name[0] != '@')
		return r;
	snprintf(swapped, sizeof(swapped), "@%s:%.*s", colon + 1, (int)(colon - name - 1),
	         name + 1);
	return room_find(swapped);
}

/* Split "peer" or "a:b" (after the '@') into "@a:b" and the other side; me
 * must be one of a and b (in any case). */
static int room_dm_name(const struct user *me, const char *spec, char *out, size_t outlen,
                        char *peer, char *why, size_t whylen)
{
	char a[PROTO_ROOM_MAX + 1], b[PROTO_ROOM_MAX + 1];
	const char *colon = strchr(spec, ':');

	snprintf(a, sizeof(a), "%s", me->name);
	if (colon) {
		snprintf(a, sizeof(a), "%.*s", (int)(colon - spec), spec);
		snprintf(b, sizeof(b), "%s", colon + 1);
		if (strcasecmp(a, me->name) != 0 && strcasecmp(b, me->name) != 0) {
			snprintf(why, whylen, "@%s is not your conversation", spec);
			return ERR_FORBIDDEN;
		}
	} else {
		snprintf(b, sizeof(b), "%s", spec);
	}
	if (!auth_name_valid(a) || !auth_name_valid(b)) {
		snprintf(why, whylen, "invalid user name in @%s", spec);
		return ERR_INVALID;
	}
	str_copy(peer, PROTO_NAME_MAX + 1, strcasecmp(a, me->name) == 0 ? b : a);
	room_dm_join(a, b, out, outlen);
	if (strlen(out) > PROTO_ROOM_MAX) {
		snprintf(why, whylen,
		         "these two user names are too long for a direct conversation");
		return ERR_INVALID;
	}
	return 0;
}

static int room_lookup_dm(struct session *s, const char *spec, enum room_mode mode,
                          struct room **ret, char *why, size_t whylen)
{
	char name[2 * PROTO_ROOM_MAX + 4], peer_name[PROTO_NAME_MAX + 1];
	struct user *users[2] = {s->user, NULL};
	struct room *r;
	int code = room_dm_name(s->user, spec, name, sizeof(name), peer_name, why, whylen);

	if (code)
		return code;
	users[1] = account_get(peer_name);
	if (users[1]) { /* the names as registered, whatever case was typed */
		room_dm_join(s->user->name, users[1]->name, name, sizeof(name));
		r = room_find(name);
	} else {
		r = room_dm_find_typed(name);
	}
	if (!r && !users[1]) {
		snprintf(why, whylen, "no such user %s", peer_name);
		return ERR_NOT_FOUND;
	}
	if (!r && mode == ROOM_FIND) {
		snprintf(why, whylen, "no conversation with %s yet (not found)", peer_name);
		return ERR_NOT_FOUND;
	}
	if (!r) {
		if ((code = room_quota(s->user, true, why, whylen)))
			return code;
		if (room_store(name, MF_DM, "", s->user->name, users, users[1] == users[0] ? 1 : 2,
		               &r) < 0) {
			snprintf(why, whylen, "cannot store the conversation");
			return ERR_INTERNAL;
		}
		s->user->dms_made++;
		log_debug("new conversation %s", name);
	}
	/* Opening a conversation brings back its caller; writing to it brings
	 * back the peer too. */
	for (int i = 0; mode != ROOM_FIND && i < (mode == ROOM_SPEAK ? 2 : 1); i++) {
		if (users[i] && !room_is_member(r, users[i]) &&
		    room_member_store(r, users[i], true) < 0) {
			snprintf(why, whylen, "cannot store the conversation");
			return ERR_INTERNAL;
		}
	}
	*ret = r;
	return 0;
}

int room_lookup(struct session *s, const char *name, enum room_mode mode, struct room **ret,
                char *why, size_t whylen)
{
	char norm[PROTO_ROOM_MAX + 1];
	struct room *r;

	if (name[0] == '@')
		return room_lookup_dm(s, name + 1, mode, ret, why, whylen);
	if (!room_name_norm(name, PROTO_ROOM_MAX, norm)) {
		snprintf(why, whylen,
		         "invalid room name: use 1 to %d letters, digits, '_', '.' or '-'",
		         PROTO_ROOM_NAME_MAX);
		return ERR_INVALID;
	}
	r = room_find(norm);
	if (!r) {
		snprintf(why, whylen, "no such room #%s", norm);
		return ERR_NOT_FOUND;
	}
	*ret = r;
	return 0;
}

void room_send(struct room *r, const struct msg *m, const struct user *skip)
{
	for (size_t i = 0; i < r->nmembers; i++) {
		struct user *u = r->members[i];

		if (u == skip)
			continue;
		for (struct session *s = u->sessions; s; s = s->user_next)
			front_send(&s->fs, m);
	}
}

void room_event(struct room *r, const struct user *u, uint32_t kind, const char *text)
{
	struct msg ev;

	proto_msg_init(&ev, MSG_EVENT);
	snprintf(ev.room, sizeof(ev.room), "%s", r->name);
	snprintf(ev.user, sizeof(ev.user), "%s", u->name);
	ev.count = kind;
	ev.ts = clock_wall_ms();
	snprintf(ev.text, sizeof(ev.text), "%s", text ? text : "");
	room_send(r, &ev, NULL);
}

static void room_info(struct session *s, uint32_t req, const struct room *r)
{
	struct msg m;

	proto_msg_init(&m, MSG_ROOM_INFO);
	m.req = req;
	snprintf(m.room, sizeof(m.room), "%s", r->name);
	m.flags = r->flags | (room_is_member(r, s->user) ? MF_JOINED : 0);
	m.count = (uint32_t)r->nmembers;
	m.id = r->last_id;
	snprintf(m.text, sizeof(m.text), "%s", r->topic);
	front_send(&s->fs, &m);
}

/* A topic: one line of at most CHATD_TOPIC_MAX bytes. */
static bool room_topic_ok(struct session *s, uint32_t req, const char *topic)
{
	if (strlen(topic) > CHATD_TOPIC_MAX) {
		front_error(&s->fs, req, ERR_TOO_LARGE, "topic longer than %d bytes",
		            CHATD_TOPIC_MAX);
		return false;
	}
	if (strchr(topic, '\n')) {
		front_error(&s->fs, req, ERR_INVALID, "a topic is one line");
		return false;
	}
	return true;
}

void room_handle_create(struct session *s, const struct msg *m)
{
	char name[PROTO_ROOM_MAX + 1], why[160];
	struct room *r;
	int code;

	if (m->room[0] == '@') {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "names starting with '@' are direct conversations: just say to @user");
		return;
	}
	if (!room_name_norm(m->room, PROTO_ROOM_NAME_MAX, name)) {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "invalid room name: use 1 to %d letters, digits, '_', '.' or '-'",
		            PROTO_ROOM_NAME_MAX);
		return;
	}
	if (!room_topic_ok(s, m->req, m->text))
		return;
	if ((r = room_find(name))) {
		front_error(&s->fs, m->req, ERR_EXISTS, "room #%s already exists%s", r->name,
		            strcmp(r->name, name) ? " (names are the same whatever their case)"
		                                  : "");
		return;
	}
	if ((code = room_quota(s->user, false, why, sizeof(why)))) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	code = room_store(name, m->flags & MF_PRIVATE, m->text, s->user->name, &s->user, 1, &r);
	if (code == -EEXIST) {
		/* a room that lost a name clash (room_load_cb) */
		front_error(&s->fs, m->req, ERR_EXISTS, "room #%s already exists", name);
		return;
	}
	if (code < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot store the room");
		return;
	}
	s->user->rooms_made++;
	log_info("%s created %s room #%s", s->user->name,
	         r->flags & MF_PRIVATE ? "private" : "public", r->name);
	front_ok(&s->fs, m->req, (uint64_t)r->id, 1);
}

/* Index of the first room whose id is above id. */
static size_t room_index_after(uint64_t id)
{
	size_t lo = 0, hi = chatd.nrooms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)chatd.room_list[mid]->id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A page of rooms after the id in ref: at most CHATD_LIST_PAGE (or count)
 * sent and CHATD_LIST_SCAN looked at, so that a reply stays far below the
 * output queue's limit and a request costs a bounded time however many
 * rooms there are. MF_JOINED in flags: only the user's rooms. OK.id is the
 * ref of the next page, 0 when the list is complete. */
void room_handle_list(struct session *s, const struct msg *m)
{
	uint32_t want = m->count && m->count < CHATD_LIST_PAGE ? m->count : CHATD_LIST_PAGE;
	uint32_t n = 0, scanned = 0;
	uint64_t next = 0;

	for (size_t i = room_index_after(m->ref); i < chatd.nrooms; i++) {
		struct room *r = chatd.room_list[i];

		if (n == want || scanned == CHATD_LIST_SCAN) {
			next = (uint64_t)chatd.room_list[i - 1]->id;
			break;
		}
		scanned++;
		if (!room_can_read(r, s->user) ||
		    ((m->flags & MF_JOINED) && !room_is_member(r, s->user)))
			continue;
		room_info(s, m->req, r);
		n++;
	}
	front_ok(&s->fs, m->req, next, n);
}

/* 0 when u may become a member of r, else an ERR_* code with why. */
static int room_may_join(struct room *r, struct user *u, char *why, size_t whylen)
{
	int inv;

	if (r->flags & MF_DM) {
		snprintf(why, whylen, "%s is not your conversation", r->name);
		return ERR_FORBIDDEN;
	}
	if (r->flags & MF_PRIVATE) {
		inv = db_invite_check(chatd.db, r->id, u->id);
		if (inv < 0) {
			snprintf(why, whylen, "cannot check the invitation");
			return ERR_INTERNAL;
		}
		if (inv == 0) {
			snprintf(why, whylen, "#%s is invite-only: ask a member to invite you",
			         r->name);
			return ERR_FORBIDDEN;
		}
	}
	if (r->nmembers >= chatd.cfg.max_members) {
		snprintf(why, whylen, "#%s is full (%u members)", r->name, chatd.cfg.max_members);
		return ERR_QUOTA;
	}
	return 0;
}

void room_handle_join(struct session *s, const struct msg *m)
{
	/* The client says how many (0: none, as on a reconnect); the server
	 * replays at most history_on_join, more come with HISTORY. */
	uint32_t want = m->count < chatd.cfg.history_on_join ? m->count : chatd.cfg.history_on_join;
	uint32_t n;
	char why[160];
	struct room *r;
	bool joined = false;
	int code;

	/* History below must not show messages still waiting for COMMIT. */
	message_batch_flush();
	code = room_lookup(s, m->room, ROOM_OPEN, &r, why, sizeof(why));
	if (!code && !room_is_member(r, s->user)) {
		code = room_may_join(r, s->user, why, sizeof(why));
		if (!code && room_member_store(r, s->user, true) < 0) {
			snprintf(why, sizeof(why), "cannot store the membership");
			code = ERR_INTERNAL;
		}
		joined = code == 0;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	room_info(s, m->req, r);
	n = message_send_last(s, m->req, r, want);
	front_ok(&s->fs, m->req, (uint64_t)r->id, n);
	if (joined) {
		log_debug("%s joined %s", s->user->name, r->name);
		room_event(r, s->user, EVENT_JOIN, "");
	}
}

/* A signed pass to the voice room of the same name (audiod has no chat
 * database), and videod's access check for a call: the chat rules decide.
 * Public rooms: anyone; private rooms and DMs: members. A conversation is
 * opened as HISTORY opens it (a call may be the first thing two users
 * share). The pass names the canonical room and lasts a minute. */
void room_handle_pass(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r;
	struct msg p;
	int code = room_lookup(s, m->room, ROOM_OPEN, &r, why, sizeof(why));

	if (!code && !room_can_read(r, s->user)) {
		snprintf(why, sizeof(why), "#%s is invite-only: ask a member to invite you",
		         r->name);
		code = ERR_FORBIDDEN;
	}
	proto_msg_init(&p, MSG_ROOM_PASS);
	p.req = m->req;
	p.ts = chatd_now_s() + CHATD_PASS_SECS;
	if (!code) {
		snprintf(p.room, sizeof(p.room), "%s", r->name);
		if (auth_pass_issue(chatd.token_key, s->user->name, r->name, s->user->admin, p.ts,
		                    p.secret) < 0) {
			snprintf(why, sizeof(why), "cannot sign the room pass");
			code = ERR_INTERNAL;
		}
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	front_send(&s->fs, &p);
}

void room_handle_leave(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r;
	int code = room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why));

	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	if (!room_is_member(r, s->user)) {
		front_ok(&s->fs, m->req, 0, 0);
		return;
	}
	if (room_member_store(r, s->user, false) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot store the membership");
		return;
	}
	front_ok(&s->fs, m->req, (uint64_t)r->id, 0);
	room_event(r, s->user, EVENT_LEAVE, "");
}

void room_handle_invite(struct session *s, const struct msg *m)
{
	char why[160], text[PROTO_NAME_MAX + 16];
	struct room *r = NULL;
	struct user *u = NULL;
	struct msg ev;
	int code = room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why));

	if (!code && (r->flags & MF_DM)) {
		snprintf(why, sizeof(why), "a direct conversation has no invitations");
		code = ERR_INVALID;
	} else if (!code && !room_is_member(r, s->user)) {
		snprintf(why, sizeof(why), "only members of #%s can invite", r->name);
		code = ERR_FORBIDDEN;
	} else if (!code && !(u = account_get(m->user))) {
		snprintf(why, sizeof(why), "no such user %s", m->user);
		code = ERR_NOT_FOUND;
	} else if (!code && room_is_member(r, u)) {
		snprintf(why, sizeof(why), "%s is already in #%s", u->name, r->name);
		code = ERR_EXISTS;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	message_batch_flush();
	if (db_invite_add(chatd.db, r->id, u->id, s->user->name) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot store the invitation");
		return;
	}
	front_ok(&s->fs, m->req, (uint64_t)r->id, 0);
	snprintf(text, sizeof(text), "invited by %s", s->user->name);
	room_event(r, u, EVENT_INVITE, text);
	/* The invited user is not a member yet: tell them too. */
	proto_msg_init(&ev, MSG_EVENT);
	snprintf(ev.room, sizeof(ev.room), "%s", r->name);
	snprintf(ev.user, sizeof(ev.user), "%s", u->name);
	ev.count = EVENT_INVITE;
	ev.ts = clock_wall_ms();
	snprintf(ev.text, sizeof(ev.text), "%s", text);
	for (struct session *t = u->sessions; t; t = t->user_next)
		front_send(&t->fs, &ev);
}

void room_handle_topic(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r;
	int code = room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why));

	if (!code && !room_is_member(r, s->user)) {
		snprintf(why, sizeof(why), "only members of %s can set its topic", r->name);
		code = ERR_FORBIDDEN;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	if (!room_topic_ok(s, m->req, m->text))
		return;
	message_batch_flush();
	if (db_room_set_topic(chatd.db, r->id, m->text) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot store the topic");
		return;
	}
	str_copy(r->topic, sizeof(r->topic), m->text);
	front_ok(&s->fs, m->req, (uint64_t)r->id, 0);
	room_event(r, s->user, EVENT_TOPIC, r->topic);
}

void room_handle_members(struct session *s, const struct msg *m)
{
	char why[160];
	struct room *r;
	struct msg mb;
	int code = room_lookup(s, m->room, ROOM_FIND, &r, why, sizeof(why));

	if (!code && !room_can_read(r, s->user)) {
		snprintf(why, sizeof(why), "#%s is private", r->name);
		code = ERR_FORBIDDEN;
	}
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	proto_msg_init(&mb, MSG_MEMBER);
	mb.req = m->req;
	snprintf(mb.room, sizeof(mb.room), "%s", r->name);
	for (size_t i = 0; i < r->nmembers; i++) {
		struct user *u = r->members[i];

		snprintf(mb.user, sizeof(mb.user), "%s", u->name);
		mb.count = presence_of(u);
		mb.ts = u->last_seen;
		mb.flags = u->admin ? MF_ADMIN : 0;
		if (front_send(&s->fs, &mb) < 0)
			return;
	}
	front_ok(&s->fs, m->req, (uint64_t)r->id, (uint32_t)r->nmembers);
}
