/* cmd_file_list: nexus files. filed lists the caller's files and those
 * shared with the caller by name (FILE_LIST); the files shared with the
 * caller's rooms need proof of membership, and filed has no chat database.
 * So first one chatd connection: the joined rooms (ROOM_LIST{MF_JOINED},
 * page by page) and a room pass for each (ROOM_PASS, a few in flight);
 * then the filed connection asks FILE_LIST and one FILE_ROOM_LIST per
 * pass, each only once the previous reply is complete: a reply has no
 * bound (every share of a busy room), and all of them at once could pass
 * filed's output queue (ERR_SLOW_READER). A file reached several ways (two
 * rooms, a room and by name) is listed once, the first way it came.
 * Without chatd the list is the first part only, and stderr says so. */
#include "cmd_file.h"
#include "hex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"

#define LIST_ROOMS_MAX 1000      /* joined rooms whose shares are listed */
#define LIST_PASS_WINDOW 8       /* ROOM_PASS requests in flight */
#define LIST_SEEN_MAX (1u << 20) /* file ids remembered; past that, no dedupe */

struct room_pass {
	struct job *j;
	char room[PROTO_ROOM_MAX + 1];
	char pass[AUTH_PASS_MAX];
};

/* File ids listed so far: open addressing, 0 marks a free slot (ids
 * start at 1), at most half full. */
struct id_set {
	uint64_t *v;
	size_t cap, n;
};

struct list_rooms {
	struct job *j;
	struct room_pass *v;
	unsigned n, answered, asked;
	unsigned next; /* the next room whose files filed is asked for */
	int truncated;
	struct id_set seen;
};

static size_t id_slot(const struct id_set *set, uint64_t id)
{
	size_t i = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 7) & (set->cap - 1);

	while (set->v[i] && set->v[i] != id)
		i = (i + 1) & (set->cap - 1);
	return i;
}

/* 1 when id is new (now remembered), 0 when listed already. An id past
 * what the set holds (or id 0) counts as new. */
static int id_set_add(struct id_set *set, uint64_t id)
{
	size_t i;

	if (id == 0)
		return 1;
	if (set->cap && set->v[id_slot(set, id)] == id)
		return 0;
	if (set->n >= LIST_SEEN_MAX)
		return 1;
	if ((set->n + 1) * 2 > set->cap) {
		struct id_set big = {xcalloc(set->cap ? set->cap * 2 : 256, sizeof(uint64_t)),
		                     set->cap ? set->cap * 2 : 256, set->n};
		for (size_t k = 0; k < set->cap; k++)
			if (set->v[k])
				big.v[id_slot(&big, set->v[k])] = set->v[k];
		free(set->v);
		*set = big;
	}
	i = id_slot(set, id);
	set->v[i] = id;
	set->n++;
	return 1;
}

static void list_pass_next(struct client *c, struct list_rooms *lr);

static void list_pass_reply(struct client *c, const struct msg *m, void *arg)
{
	struct room_pass *p = arg;
	struct list_rooms *lr = p->j->rooms;

	if (!m || (m->type != MSG_ROOM_PASS && m->type != MSG_ERROR))
		return;
	/* An error (left the room meanwhile) leaves this room out. */
	if (m->type == MSG_ROOM_PASS) {
		str_copy(p->room, sizeof(p->room), m->room);
		str_copy(p->pass, sizeof(p->pass), m->secret);
	}
	if (++lr->answered == lr->n)
		client_done(c, 0);
	else
		list_pass_next(c, lr);
}

/* Ask for passes until LIST_PASS_WINDOW are in flight or all are asked. */
static void list_pass_next(struct client *c, struct list_rooms *lr)
{
	struct msg *p = xcalloc(1, sizeof(*p));

	while (lr->asked < lr->n && lr->asked - lr->answered < LIST_PASS_WINDOW) {
		proto_msg_init(p, MSG_ROOM_PASS);
		str_copy(p->room, sizeof(p->room), lr->v[lr->asked].room);
		if (client_request(c, p, list_pass_reply, &lr->v[lr->asked]) < 0) {
			client_fail(c, EXIT_NETWORK,
			            "connection lost while asking for room passes");
			break;
		}
		lr->asked++;
	}
	free(p);
}

static int list_rooms_room(struct client *c, const struct msg *m, void *arg)
{
	struct list_rooms *lr = arg;

	(void)c;
	if (!(m->flags & MF_JOINED) || (m->flags & MF_DM))
		return 0;
	if (lr->n == LIST_ROOMS_MAX) {
		lr->truncated = 1;
		return 1;
	}
	lr->v = realloc(lr->v, (lr->n + 1) * sizeof(*lr->v));
	if (!lr->v)
		fatal("out of memory");
	memset(&lr->v[lr->n], 0, sizeof(lr->v[lr->n]));
	lr->v[lr->n].j = lr->j;
	str_copy(lr->v[lr->n].room, sizeof(lr->v[lr->n].room), m->room);
	lr->n++;
	return 0;
}

static void list_rooms_done(struct client *c, int r, const struct msg *err, void *arg)
{
	struct list_rooms *lr = arg;

	if (r == -EREMOTEIO) {
		client_fail_msg(c, err, "rooms");
		return;
	}
	if (r == -ELOOP) {
		out_err("the chat server's room list does not end: only the rooms seen so far");
	} else if (r < 0) {
		if (r != -ENOTCONN)
			client_fail(c, EXIT_NETWORK, "cannot ask for the rooms: %s", strerror(-r));
		return;
	}
	if (lr->n == 0)
		client_done(c, 0);
	else
		list_pass_next(c, lr);
}

static void list_rooms_ready(struct client *c, void *arg)
{
	int r = client_room_pages(c, MF_JOINED, list_rooms_room, list_rooms_done, arg);

	if (r < 0)
		client_fail(c, EXIT_NETWORK, "cannot ask for the rooms: %s", strerror(-r));
}

int file_list_rooms(struct job *j)
{
	struct client_cbs cbs = {.ready = list_rooms_ready};
	struct list_rooms *lr = xcalloc(1, sizeof(*lr));
	int status;

	lr->j = j;
	j->rooms = lr;
	status = client_main(j->s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, lr);
	if (status == EXIT_CERT || status == EXIT_AUTH)
		return status; /* filed would say the same */
	if (status) {
		out_err("listing only your files and those shared with you by name: the rooms' "
		        "files need the chat server");
		lr->n = 0;
	} else if (lr->truncated) {
		out_err("files shared with your rooms past the first %d are not listed",
		        LIST_ROOMS_MAX);
	}
	return 0;
}

void file_list_rooms_free(struct job *j)
{
	if (!j->rooms)
		return;
	free(j->rooms->v);
	free(j->rooms->seen.v);
	free(j->rooms);
	j->rooms = NULL;
}

static void list_print(struct job *j, const struct msg *m)
{
	char url[512], hex[2 * PROTO_HASH_LEN + 1], sz[24], when[32];
	int in_room = (m->flags & MF_SHARED) && m->room[0] && m->room[0] != '@';
	struct jw w;

	file_url(j->s, m->secret, url, sizeof(url));
	hex_encode(m->hash, PROTO_HASH_LEN, hex);
	if (j->s->json) {
		jw_begin(&w, stdout);
		jw_u64(&w, "id", m->id);
		jw_str(&w, "name", m->text);
		jw_u64(&w, "size", m->size);
		jw_str(&w, "sha256", hex);
		jw_str(&w, "owner", m->user);
		jw_u64(&w, "ts", m->ts);
		jw_str(&w, "link", url);
		jw_bool(&w, "shared", (m->flags & MF_SHARED) != 0);
		if (in_room)
			jw_str(&w, "room", m->room[0] == '#' ? m->room + 1 : m->room);
		jw_end(&w);
		return;
	}
	fprintf(stdout, "%-6" PRIu64 " %10s  %s  ", m->id, progress_bytes(m->size, sz, sizeof(sz)),
	        out_time(m->ts, 1, when, sizeof(when)));
	out_clean(stdout, m->text);
	if (m->flags & MF_SHARED) {
		fputs("  (from ", stdout);
		out_clean(stdout, m->user);
		if (in_room) {
			fputs(" in #", stdout);
			out_clean(stdout, m->room[0] == '#' ? m->room + 1 : m->room);
		}
		fputc(')', stdout);
	}
	fprintf(stdout, "  %s\n", url);
	out_flush();
}

static int list_room_next(struct job *j);

static void list_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;
	struct list_rooms *lr = j->rooms;

	if (!m)
		return;
	if (m->type == MSG_FILE_INFO) {
		if (lr && !id_set_add(&lr->seen, m->id))
			return;
		list_print(j, m);
		j->list_count++;
		return;
	}
	if (m->type == MSG_ERROR && m->req == j->req) {
		client_fail_msg(c, m, NULL);
		return;
	}
	if (m->type == MSG_ERROR)
		out_err("files shared with a room not listed: %s", m->text);
	if ((m->type == MSG_OK || m->type == MSG_ERROR) && list_room_next(j) == 0)
		client_done(c, 0);
}

/* Ask filed for the next room's files: 1 when asked, 0 when no room is
 * left, -1 after a failure. */
static int list_room_next(struct job *j)
{
	struct list_rooms *lr = j->rooms;
	struct msg *m;
	int r = 0;

	while (lr && lr->next < lr->n && !lr->v[lr->next].pass[0])
		lr->next++;
	if (!lr || lr->next == lr->n)
		return 0;
	m = xcalloc(1, sizeof(*m));
	proto_msg_init(m, MSG_FILE_ROOM_LIST);
	str_copy(m->room, sizeof(m->room), lr->v[lr->next].room);
	str_copy(m->secret, sizeof(m->secret), lr->v[lr->next].pass);
	lr->next++;
	r = file_request(j, m, list_reply) < 0 ? -1 : 1;
	free(m);
	return r;
}

void file_list_start(struct job *j)
{
	struct msg m;

	proto_msg_init(&m, MSG_FILE_LIST);
	if (file_request(j, &m, list_reply) == 0)
		j->req = m.req;
}
