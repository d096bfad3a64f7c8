/* cmd_file_list: nexus files. filed lists the caller's files and those
 * shared with the caller by name (FILE_LIST); the files shared with the
 * caller's rooms need proof of membership, and filed has no chat database.
 * So first one chatd connection: the joined rooms (ROOM_LIST{MF_JOINED},
 * page by page) and a room pass for each (ROOM_PASS); then the filed
 * connection asks FILE_LIST and one FILE_ROOM_LIST per pass. Without chatd
 * the list is the first part only, and stderr says so. */
#include "cmd_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"

#define LIST_ROOMS_MAX 1000 /* joined rooms whose shares are listed */

struct room_pass {
	struct job *j;
	char room[PROTO_ROOM_MAX + 1];
	char pass[AUTH_PASS_MAX];
};

struct list_rooms {
	struct job *j;
	struct room_pass *v;
	unsigned n, answered;
	int truncated;
};

static void list_pass_reply(struct client *c, const struct msg *m, void *arg)
{
	struct room_pass *p = arg;
	struct list_rooms *lr = p->j->rooms;

	if (!m || (m->type != MSG_ROOM_PASS && m->type != MSG_ERROR))
		return;
	/* An error (left the room meanwhile) leaves this room out. */
	if (m->type == MSG_ROOM_PASS) {
		file_str_set(p->room, sizeof(p->room), m->room);
		file_str_set(p->pass, sizeof(p->pass), m->secret);
	}
	if (++lr->answered == lr->n)
		client_done(c, 0);
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
	file_str_set(lr->v[lr->n].room, sizeof(lr->v[lr->n].room), m->room);
	lr->n++;
	return 0;
}

static void list_rooms_done(struct client *c, int r, const struct msg *err, void *arg)
{
	struct list_rooms *lr = arg;
	struct msg *p;

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
	if (lr->n == 0) {
		client_done(c, 0);
		return;
	}
	/* All the passes at once: chatd answers them in order. */
	p = xcalloc(1, sizeof(*p));
	for (unsigned i = 0; i < lr->n; i++) {
		proto_msg_init(p, MSG_ROOM_PASS);
		file_str_set(p->room, sizeof(p->room), lr->v[i].room);
		if (client_request(c, p, list_pass_reply, &lr->v[i]) < 0) {
			client_fail(c, EXIT_NETWORK, "connection lost while asking for room passes");
			break;
		}
	}
	free(p);
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
	free(j->rooms);
	j->rooms = NULL;
}

static void list_print(struct job *j, const struct msg *m)
{
	char url[512], hex[2 * PROTO_HASH_LEN + 1], sz[24], when[32];
	int in_room = (m->flags & MF_SHARED) && m->room[0] && m->room[0] != '@';
	struct jw w;

	file_url(j->s, m->secret, url, sizeof(url));
	file_hex_hash(m->hash, hex);
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

static void list_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;

	if (!m)
		return;
	if (m->type == MSG_FILE_INFO) {
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
	if ((m->type == MSG_OK || m->type == MSG_ERROR) && --j->list_pending == 0)
		client_done(c, 0);
}

void file_list_start(struct job *j)
{
	struct list_rooms *lr = j->rooms;
	struct msg *m = xcalloc(1, sizeof(*m));

	j->list_pending = 1;
	proto_msg_init(m, MSG_FILE_LIST);
	if (file_request(j, m, list_reply) < 0)
		goto out;
	j->req = m->req;
	for (unsigned i = 0; lr && i < lr->n; i++) {
		if (!lr->v[i].pass[0])
			continue;
		proto_msg_init(m, MSG_FILE_ROOM_LIST);
		file_str_set(m->room, sizeof(m->room), lr->v[i].room);
		file_str_set(m->secret, sizeof(m->secret), lr->v[i].pass);
		if (file_request(j, m, list_reply) < 0)
			break;
		j->list_pending++;
	}
out:
	free(m);
}
