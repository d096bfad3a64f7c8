/* tui_state: what the full-screen client knows. Rooms in list order, each
 * with a ring of messages sorted by id, bounded so that a room of 100,000
 * messages or a flood costs a fixed amount of memory: TUI_KEEP messages
 * while following live, up to TUI_KEEP_MAX while the user scrolls back
 * (older pages come from the server on demand). Also who is in the voice
 * room and the call, from the JSON lines of the `nexus talk` and `nexus
 * call` children. Pure C over libc and libjansson. */
#include "tui.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void tui_state_init(struct tui_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void tui_room_free(struct tui_room *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(tui_room_at(r, i)->text);
	free(r->ring);
	free(r->members);
	free(r);
}

void tui_state_free(struct tui_state *st)
{
	tui_room_free(st->home);
	for (size_t i = 0; i < st->nrooms; i++)
		tui_room_free(st->rooms[i]);
	free(st->rooms);
	free(st->people);
	memset(st, 0, sizeof(*st));
}

/* Cleaning */

static void tui_part(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int tui_notice_parse(const char *text, char *name, size_t namelen, char *size, size_t sizelen,
                     char *link, size_t linklen)
{
	static const char clip[] = "\xf0\x9f\x93\x8e ";
	const char *url, *open, *end;

	if (strncmp(text, clip, sizeof(clip) - 1) != 0)
		return 0;
	text += sizeof(clip) - 1;
	url = strrchr(text, ' ');
	if (!url || strncmp(url + 1, "nexus://", 8) != 0 || strchr(url, '\n') || url == text ||
	    url[-1] != ')')
		return 0;
	end = url - 1; /* the ')' */
	open = NULL;
	for (const char *p = text; p + 1 < end; p++)
		if (p[0] == ' ' && p[1] == '(')
			open = p;
	if (!open || open == text)
		return 0;
	tui_part(name, namelen, text, (size_t)(open - text));
	tui_part(size, sizelen, open + 2, (size_t)(end - open - 2));
	tui_part(link, linklen, url + 1, strlen(url + 1));
	return 1;
}

static const char *tui_bytes(double v, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

const char *tui_xfer_text(const struct tui_xfer *x, char *buf, size_t len)
{
	const char *arrow = x->up ? "\xe2\x86\x91" : "\xe2\x86\x93"; /* ↑ ↓ */
	char a[24], b[24], r[24];

	if (x->state == TUI_XFER_DONE)
		snprintf(buf, len, "%s %s done (%s)", arrow, x->name,
		         tui_bytes((double)x->total, a, sizeof(a)));
	else if (x->state == TUI_XFER_FAILED)
		snprintf(buf, len, "%s %s failed: %s", arrow, x->name, x->err[0] ? x->err : "?");
	else if (x->total == 0)
		snprintf(buf, len, "%s %s starting", arrow, x->name);
	else
		snprintf(buf, len, "%s %s %d%% %s/%s %s/s", arrow, x->name,
		         (int)(x->done * 100 / x->total), tui_bytes((double)x->done, a, sizeof(a)),
		         tui_bytes((double)x->total, b, sizeof(b)),
		         tui_bytes(x->rate, r, sizeof(r)));
	return buf;
}

uint32_t tui_name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

/* Rooms */

struct tui_room *tui_room_find(struct tui_state *st, const char *name)
{
	for (size_t i = 0; i < st->nrooms; i++)
		if (strcmp(st->rooms[i]->name, name) == 0)
			return st->rooms[i];
	return NULL;
}

/* "@a:b" seen by a: "@b". */
static void tui_room_label(const struct tui_state *st, struct tui_room *r)
{
	const char *colon = strchr(r->name, ':');

	if (r->name[0] != '@' || !colon) {
		snprintf(r->label, sizeof(r->label), "%s", r->name);
		return;
	}
	if (st->me[0] && strncmp(r->name + 1, st->me, (size_t)(colon - r->name - 1)) == 0 &&
	    strlen(st->me) == (size_t)(colon - r->name - 1))
		snprintf(r->label, sizeof(r->label), "@%s", colon + 1);
	else
		snprintf(r->label, sizeof(r->label), "%.*s", (int)(colon - r->name), r->name);
}

struct tui_room *tui_room_add(struct tui_state *st, const char *name, uint32_t flags)
{
	struct tui_room *r = tui_room_find(st, name), **rooms;

	if (r) {
		r->flags |= flags;
		return r;
	}
	if (st->nrooms >= TUI_ROOMS_MAX)
		return NULL;
	rooms = realloc(st->rooms, (st->nrooms + 1) * sizeof(*rooms));
	if (!rooms)
		return NULL;
	st->rooms = rooms;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->flags = flags | (name[0] == '@' ? MF_DM : 0);
	tui_room_label(st, r);
	st->rooms[st->nrooms++] = r;
	return r;
}

size_t tui_room_index(const struct tui_state *st, const struct tui_room *r)
{
	for (size_t i = 0; i < st->nrooms; i++)
		if (st->rooms[i] == r)
			return i;
	return st->nrooms;
}

void tui_room_remove(struct tui_state *st, struct tui_room *r)
{
	size_t i = tui_room_index(st, r);

	if (i >= st->nrooms)
		return;
	memmove(st->rooms + i, st->rooms + i + 1, (st->nrooms - i - 1) * sizeof(*st->rooms));
	st->nrooms--;
	if (st->cur > i || st->cur >= st->nrooms)
		st->cur = st->cur ? st->cur - 1 : 0;
	tui_room_free(r);
}

/* The server named a room we opened otherwise ("LOBBY" is lobby, "@BOB"
 * is @Bob:alice): the tab takes its name; if a tab of that name is open
 * already, the other one goes and this one is shown in its place. */
struct tui_room *tui_room_rename(struct tui_state *st, const char *from, const char *to)
{
	struct tui_room *r = tui_room_find(st, from), *have = tui_room_find(st, to);

	if (!r || r == have)
		return have;
	if (have) {
		int shown = tui_room_current(st) == r;

		tui_room_remove(st, r);
		if (shown)
			tui_room_select(st, tui_room_index(st, have));
		return have;
	}
	snprintf(r->name, sizeof(r->name), "%s", to);
	r->flags |= to[0] == '@' ? MF_DM : 0;
	tui_room_label(st, r);
	return r;
}

struct tui_room *tui_room_current(struct tui_state *st)
{
	return st->nrooms ? st->rooms[st->cur < st->nrooms ? st->cur : 0] : NULL;
}

struct tui_room *tui_state_home(struct tui_state *st)
{
	if (!st->home && (st->home = calloc(1, sizeof(*st->home)))) {
		snprintf(st->home->name, sizeof(st->home->name), "%s", "");
		snprintf(st->home->label, sizeof(st->home->label), "%s", "nexus");
	}
	return st->home;
}

struct tui_room *tui_room_shown(struct tui_state *st)
{
	struct tui_room *r = tui_room_current(st);

	return r ? r : st->home;
}

void tui_room_select(struct tui_state *st, size_t i)
{
	struct tui_room *r;

	if (i >= st->nrooms)
		return;
	st->cur = i;
	r = st->rooms[i];
	r->unread = 0;
	r->mention = 0;
}

size_t tui_room_next_unread(const struct tui_state *st)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 1; k <= st->nrooms; k++) {
			size_t i = (st->cur + k) % st->nrooms;
			const struct tui_room *r = st->rooms[i];

			if (pass == 0 ? r->mention : r->unread > 0)
				return i;
		}
	return st->cur;
}

/* The message ring */

struct tui_msg *tui_room_at(const struct tui_room *r, size_t i)
{
	return &r->ring[(r->head + i) % r->cap];
}

static int tui_key_cmp(uint64_t id, uint32_t sub, const struct tui_msg *m)
{
	if (id != m->id)
		return id < m->id ? -1 : 1;
	if (sub != m->sub)
		return sub < m->sub ? -1 : 1;
	return 0;
}

/* First position whose key is >= (id, sub). */
static size_t tui_room_lower(const struct tui_room *r, uint64_t id, uint32_t sub)
{
	size_t lo = 0, hi = r->count;

	/* Live messages land at the end: check there first. */
	if (r->count && tui_key_cmp(id, sub, tui_room_at(r, r->count - 1)) > 0)
		return r->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tui_key_cmp(id, sub, tui_room_at(r, mid)) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct tui_msg *tui_room_by_id(const struct tui_room *r, uint64_t id)
{
	size_t i = tui_room_lower(r, id, 0);

	if (i < r->count && tui_room_at(r, i)->id == id && tui_room_at(r, i)->sub == 0)
		return tui_room_at(r, i);
	return NULL;
}

uint64_t tui_room_first_id(const struct tui_room *r)
{
	for (size_t i = 0; i < r->count; i++)
		if (tui_room_at(r, i)->kind == TUI_CHAT)
			return tui_room_at(r, i)->id;
	return 0;
}

static int tui_room_grow(struct tui_room *r)
{
	size_t cap = r->cap ? r->cap * 2 : 64;
	struct tui_msg *ring;

	if (cap > TUI_KEEP_MAX + 1)
		cap = TUI_KEEP_MAX + 1;
	if (cap <= r->cap)
		return -1;
	ring = malloc(cap * sizeof(*ring));
	if (!ring)
		return -1;
	for (size_t i = 0; i < r->count; i++)
		ring[i] = *tui_room_at(r, i);
	free(r->ring);
	r->ring = ring;
	r->cap = cap;
	r->head = 0;
	return 0;
}

static void tui_room_drop_oldest(struct tui_room *r)
{
	struct tui_msg *m = tui_room_at(r, 0);

	free(m->text);
	r->head = (r->head + 1) % r->cap;
	r->count--;
	r->has_older = 1;
}

/* Put m at position pos (0..count), shifting the shorter side. */
static int tui_room_put(struct tui_room *r, size_t pos, const struct tui_msg *m)
{
	if (r->count == r->cap && tui_room_grow(r) < 0)
		return -1;
	if (pos < r->count / 2) {
		r->head = (r->head + r->cap - 1) % r->cap;
		for (size_t i = 0; i < pos; i++)
			*tui_room_at(r, i) = *tui_room_at(r, i + 1);
	} else {
		for (size_t i = r->count; i > pos; i--)
			*tui_room_at(r, i) = *tui_room_at(r, i - 1);
	}
	*tui_room_at(r, pos) = *m;
	r->count++;
	return 0;
}

void tui_room_trim(struct tui_state *st, struct tui_room *r)
{
	while (r->count > TUI_KEEP) {
		tui_room_drop_oldest(r);
		st->drops++;
	}
}

/* Make room for one more: the oldest goes (while following live), or the
 * insertion is refused when it would itself be the oldest. */
static int tui_room_make_space(struct tui_state *st, struct tui_room *r, size_t pos)
{
	size_t limit = r->scroll ? TUI_KEEP_MAX : TUI_KEEP;

	if (r->count < limit)
		return 0;
	if (pos == 0) {
		r->has_older = 1;
		return -1;
	}
	tui_room_drop_oldest(r);
	st->drops++;
	return 1;
}

static int tui_is_me(const struct tui_state *st, const char *user)
{
	return st->me[0] && strcmp(st->me, user) == 0;
}

static void tui_room_count_unread(struct tui_state *st, struct tui_room *r, const struct msg *m,
                                  int current)
{
	if ((m->flags & MF_HISTORY) || tui_is_me(st, m->user))
		return;
	if (current) {
		if (r->scroll)
			r->new_below++;
		return;
	}
	r->unread++;
	if ((m->flags & MF_MENTION) || (r->flags & MF_DM))
		r->mention = 1;
}

int tui_room_insert(struct tui_state *st, struct tui_room *r, const struct msg *m, int current)
{
	struct tui_msg *old = tui_room_by_id(r, m->id), nm;
	size_t pos;
	char *text;

	if (old) {
		if (!(m->flags & (MF_EDITED | MF_DELETED)))
			return 0;
		text = utf8_clean(m->flags & MF_DELETED ? "" : m->text, 1);
		if (!text)
			return -1;
		free(old->text);
		old->text = text;
		old->flags = m->flags;
		return 0;
	}
	/* An edit of a message outside the window: nothing to update. */
	if ((m->flags & (MF_EDITED | MF_DELETED)) && !(m->flags & MF_HISTORY))
		return 0;
	pos = tui_room_lower(r, m->id, 0);
	switch (tui_room_make_space(st, r, pos)) {
	case -1:
		return 0;
	case 1:
		pos = pos ? pos - 1 : 0;
		break;
	default:
		break;
	}
	memset(&nm, 0, sizeof(nm));
	nm.id = m->id;
	nm.ts = m->ts;
	nm.ref = m->ref;
	nm.flags = m->flags;
	nm.kind = TUI_CHAT;
	snprintf(nm.user, sizeof(nm.user), "%s", m->user);
	nm.text = utf8_clean(m->flags & MF_DELETED ? "" : m->text, 1);
	if (!nm.text || tui_room_put(r, pos, &nm) < 0) {
		free(nm.text);
		return -1;
	}
	if (m->id > r->last_id)
		r->last_id = m->id;
	tui_room_count_unread(st, r, m, current);
	if (!(m->flags & MF_HISTORY))
		tui_typing_clear(r, m->user);
	return 1;
}

void tui_room_note(struct tui_room *r, enum tui_kind kind, uint64_t ts, const char *user,
                   const char *fmt, ...)
{
	struct tui_msg nm;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memset(&nm, 0, sizeof(nm));
	nm.id = r->count ? tui_room_at(r, r->count - 1)->id : 0;
	nm.sub = ++r->next_sub;
	nm.ts = ts;
	nm.kind = (uint8_t)kind;
	snprintf(nm.user, sizeof(nm.user), "%s", user ? user : "");
	nm.text = utf8_clean(buf, 1);
	if (!nm.text)
		return;
	if (r->count >= TUI_KEEP_MAX)
		tui_room_drop_oldest(r);
	if (tui_room_put(r, r->count, &nm) < 0)
		free(nm.text);
}

/* Members and presence */

int tui_member_has(const struct tui_room *r, const char *name)
{
	for (size_t i = 0; i < r->nmembers; i++)
		if (strcmp(r->members[i].name, name) == 0)
			return 1;
	return 0;
}

void tui_member_set(struct tui_room *r, const char *name, int present)
{
	size_t i, at;
	struct tui_member *m;

	for (i = 0; i < r->nmembers; i++)
		if (strcmp(r->members[i].name, name) == 0)
			break;
	if (!present) {
		if (i < r->nmembers) {
			memmove(r->members + i, r->members + i + 1,
			        (r->nmembers - i - 1) * sizeof(*m));
			r->nmembers--;
		}
		return;
	}
	if (i < r->nmembers || r->nmembers >= TUI_MEMBERS_MAX)
		return;
	m = realloc(r->members, (r->nmembers + 1) * sizeof(*m));
	if (!m)
		return;
	r->members = m;
	/* Sorted by name, for the list and for completion. */
	for (at = 0; at < r->nmembers && strcmp(m[at].name, name) < 0; at++)
		;
	memmove(m + at + 1, m + at, (r->nmembers - at) * sizeof(*m));
	snprintf(m[at].name, sizeof(m[at].name), "%s", name);
	r->nmembers++;
}

void tui_presence_set(struct tui_state *st, const char *name, unsigned presence)
{
	struct tui_person *p;

	for (size_t i = 0; i < st->npeople; i++)
		if (strcmp(st->people[i].name, name) == 0) {
			st->people[i].presence = (uint8_t)presence;
			return;
		}
	if (st->npeople >= TUI_PEOPLE_MAX)
		return;
	p = realloc(st->people, (st->npeople + 1) * sizeof(*p));
	if (!p)
		return;
	st->people = p;
	snprintf(p[st->npeople].name, sizeof(p->name), "%s", name);
	p[st->npeople].presence = (uint8_t)presence;
	st->npeople++;
}

unsigned tui_presence_get(const struct tui_state *st, const char *name)
{
	for (size_t i = 0; i < st->npeople; i++)
		if (strcmp(st->people[i].name, name) == 0)
			return st->people[i].presence;
	return PRESENCE_OFFLINE;
}

/* Typing */

void tui_typing_set(struct tui_room *r, const char *user, uint64_t now_ms)
{
	struct tui_typing *slot = NULL;

	for (size_t i = 0; i < TUI_TYPING_MAX; i++) {
		struct tui_typing *t = &r->typing[i];
		if (strcmp(t->user, user) == 0) {
			slot = t;
			break;
		}
		if (!t->user[0] || t->until_ms < now_ms)
			slot = slot ? slot : t;
	}
	if (!slot)
		return;
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->until_ms = now_ms + TUI_TYPING_MS;
}

void tui_typing_clear(struct tui_room *r, const char *user)
{
	for (size_t i = 0; i < TUI_TYPING_MAX; i++)
		if (strcmp(r->typing[i].user, user) == 0)
			memset(&r->typing[i], 0, sizeof(r->typing[i]));
}

int tui_typing_expire(struct tui_room *r, uint64_t now_ms)
{
	int gone = 0;

	for (size_t i = 0; i < TUI_TYPING_MAX; i++)
		if (r->typing[i].user[0] && r->typing[i].until_ms <= now_ms) {
			memset(&r->typing[i], 0, sizeof(r->typing[i]));
			gone = 1;
		}
	return gone;
}

/* Voice and call presence */

void tui_voice_reset(struct tui_state *st, const char *room)
{
	snprintf(st->voice_room, sizeof(st->voice_room), "%s", room);
	st->voice_joined = 0;
	st->voice_muted = 0;
	st->nvoice = 0;
}

void tui_call_reset(struct tui_state *st, const char *room)
{
	snprintf(st->call_room, sizeof(st->call_room), "%s", room);
	st->ncall = 0;
}

static struct tui_av *tui_av_find(struct tui_av *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

/* Find or add name; NULL when it is not a name or the list is full. */
static struct tui_av *tui_av_add(struct tui_av *list, size_t *n, const char *name)
{
	struct tui_av *a = tui_av_find(list, *n, name);

	if (a)
		return a;
	if (*n >= TUI_AV_MAX || !name[0] || strlen(name) > PROTO_NAME_MAX)
		return NULL;
	a = &list[(*n)++];
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->flags = 0;
	return a;
}

static void tui_av_remove(struct tui_av *list, size_t *n, const char *name)
{
	struct tui_av *a = tui_av_find(list, *n, name);

	if (!a)
		return;
	*a = list[*n - 1];
	(*n)--;
}

/* A new session (the child joined again after a loss): whoever it did not
 * list again has gone. */
static void tui_voice_prune(struct tui_state *st)
{
	for (size_t i = 0; i < st->nvoice;) {
		if (st->voice[i].flags & TUI_AV_FRESH) {
			st->voice[i].flags &= (uint8_t)~TUI_AV_FRESH;
			i++;
		} else {
			st->voice[i] = st->voice[--st->nvoice];
		}
	}
}

static int tui_voice_user(struct tui_state *st, const char *ev, const char *user, json_t *muted)
{
	struct tui_av *a;
	uint8_t old;

	if (strcmp(ev, "leave") == 0) {
		size_t n = st->nvoice;
		tui_av_remove(st->voice, &st->nvoice, user);
		return n != st->nvoice ? TUI_VEV_CHANGED : TUI_VEV_NONE;
	}
	a = tui_av_add(st->voice, &st->nvoice, user);
	if (!a)
		return TUI_VEV_NONE;
	old = a->flags;
	a->flags |= TUI_AV_VOICE;
	if (strcmp(ev, "member") == 0)
		a->flags |= TUI_AV_FRESH;
	if (strcmp(ev, "talk") == 0)
		a->flags |= TUI_AV_TALKING;
	else if (strcmp(ev, "quiet") == 0)
		a->flags &= (uint8_t)~TUI_AV_TALKING;
	if (strcmp(ev, "mute") == 0 || (json_is_true(muted) && strcmp(ev, "unmute") != 0))
		a->flags = (uint8_t)((a->flags | TUI_AV_MUTED) & ~TUI_AV_TALKING);
	else if (strcmp(ev, "unmute") == 0 || json_is_false(muted))
		a->flags &= (uint8_t)~TUI_AV_MUTED;
	if (st->me[0] && strcmp(user, st->me) == 0)
		st->voice_muted = (a->flags & TUI_AV_MUTED) != 0;
	return a->flags != old ? TUI_VEV_CHANGED : TUI_VEV_NONE;
}

int tui_voice_event(struct tui_state *st, const char *line)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	const char *ev = json_string_value(json_object_get(o, "event"));
	const char *user = json_string_value(json_object_get(o, "user"));
	json_t *muted = json_object_get(o, "muted");
	int r = TUI_VEV_NONE;

	if (!json_is_object(o) || !ev) {
		json_decref(o);
		return TUI_VEV_BAD;
	}
	if (strcmp(ev, "joined") == 0) {
		tui_voice_prune(st);
		st->voice_joined = 1;
		r = TUI_VEV_JOINED;
	} else if (strcmp(ev, "reconnecting") == 0) {
		/* the child lost audiod and joins again by itself */
		st->voice_joined = 0;
		for (size_t i = 0; i < st->nvoice; i++)
			st->voice[i].flags &= (uint8_t)~TUI_AV_TALKING;
		r = TUI_VEV_CHANGED;
	} else if (strcmp(ev, "mute") == 0 && !user && json_is_boolean(muted)) {
		/* our own mute, toggled by the key (SIGUSR1) */
		st->voice_muted = json_is_true(muted);
		struct tui_av *a = st->me[0] ? tui_av_find(st->voice, st->nvoice, st->me) : NULL;
		if (a)
			a->flags =
			    (uint8_t)(st->voice_muted ? (a->flags | TUI_AV_MUTED) & ~TUI_AV_TALKING
			                              : a->flags & ~TUI_AV_MUTED);
		r = TUI_VEV_CHANGED;
	} else if (user && (!strcmp(ev, "member") || !strcmp(ev, "join") || !strcmp(ev, "leave") ||
	                    !strcmp(ev, "talk") || !strcmp(ev, "quiet") || !strcmp(ev, "mute") ||
	                    !strcmp(ev, "unmute"))) {
		r = tui_voice_user(st, ev, user, muted);
	}
	json_decref(o);
	return r;
}

int tui_call_event(struct tui_state *st, const char *line)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL), *list, *p;
	struct tui_av old[TUI_AV_MAX];
	size_t nold = st->ncall, i;
	int changed;

	list = json_object_get(o, "participants");
	if (!json_is_object(o) || !json_is_array(list)) {
		json_decref(o);
		return -1;
	}
	memcpy(old, st->call, nold * sizeof(old[0]));
	st->ncall = 0;
	json_array_foreach(list, i, p)
	{
		const char *u = json_string_value(json_object_get(p, "user"));
		struct tui_av *a = u ? tui_av_add(st->call, &st->ncall, u) : NULL;

		if (a)
			a->flags = TUI_AV_CALL |
			           (json_is_true(json_object_get(p, "muted")) ? TUI_AV_MUTED : 0);
	}
	json_decref(o);
	changed = nold != st->ncall;
	for (i = 0; !changed && i < nold; i++) {
		const struct tui_av *a = tui_av_find(st->call, st->ncall, old[i].name);
		changed = !a || a->flags != old[i].flags;
	}
	return changed;
}

unsigned tui_av_marks(const struct tui_state *st, const char *room, const char *name)
{
	unsigned m = 0;
	size_t i;

	if (st->voice_room[0] && strcmp(room, st->voice_room) == 0)
		for (i = 0; i < st->nvoice; i++)
			if (strcmp(st->voice[i].name, name) == 0)
				m |= st->voice[i].flags &
				     (TUI_AV_VOICE | TUI_AV_TALKING | TUI_AV_MUTED);
	if (st->call_room[0] && strcmp(room, st->call_room) == 0)
		for (i = 0; i < st->ncall; i++)
			if (strcmp(st->call[i].name, name) == 0)
				m |= TUI_AV_CALL;
	return m;
}
