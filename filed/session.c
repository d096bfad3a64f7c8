/* session: filed's part of a connected client. common/front.c takes the
 * connection, the HELLO with a token from chatd (checked with the shared
 * key, no database) and PING; here are filed's WELCOME fields, the
 * dispatch (each request a short case calling a x_handle_* function) and
 * the transfers a session holds. */
#include "filed.h"
#include "conn.h"

#include <stddef.h>
#include <string.h>

static void session_limits(struct conn_limits *lim, unsigned *ret_max_sessions)
{
	lim->max_frame = filed.cfg.max_frame;
	lim->max_outq = filed.cfg.max_outq;
	lim->idle_secs = filed.cfg.idle_timeout;
	*ret_max_sessions = filed.cfg.max_sessions;
}

static void session_drain_cb(struct conn *c, void *arg)
{
	(void)c;
	transfer_drain(arg);
}

static void session_accepted(struct front_session *fs, int fd)
{
	(void)fd;
	conn_set_drain_cb(fs->conn, session_drain_cb, FRONT_OWNER(fs, struct session),
	                  transfer_queue_mark() / 2);
}

unsigned session_user_transfers(const char *user)
{
	unsigned n = 0;

	for (struct front_session *fs = filed.front.sessions; fs; fs = fs->next) {
		struct session *s = FRONT_OWNER(fs, struct session);

		if (s->ntransfers && strcmp(fs->user, user) == 0)
			n += s->ntransfers;
	}
	return n;
}

static void session_welcome(const struct front_session *fs, void *who, struct msg *w)
{
	(void)fs;
	(void)who;
	w->count = filed.cfg.max_frame;
	w->size = (uint64_t)filed.cfg.chunk_kb * 1024u;
}

static void session_dispatch(struct front_session *fs, const struct msg *m)
{
	struct session *s = FRONT_OWNER(fs, struct session);

	switch (m->type) {
	case MSG_FILE_DATA:
		transfer_handle_data(s, m);
		break;
	case MSG_FILE_PUSH:
		transfer_handle_push(s, m);
		break;
	case MSG_FILE_END:
		transfer_handle_end(s, m);
		break;
	case MSG_FILE_PULL:
		transfer_handle_pull(s, m);
		break;
	case MSG_FILE_LIST:
		share_handle_list(s, m);
		break;
	case MSG_FILE_ROOM_LIST:
		share_handle_list_room(s, m);
		break;
	case MSG_FILE_DELETE:
		share_handle_delete(s, m);
		break;
	case MSG_FILE_SHARE:
		share_handle_share(s, m);
		break;
	case MSG_FILE_UNSHARE:
		share_handle_unshare(s, m);
		break;
	default:
		front_unsupported(fs, m);
		break;
	}
}

static void session_teardown(struct front_session *fs)
{
	transfer_free_all(FRONT_OWNER(fs, struct session));
}

const struct front_table session_table = {
    .service = FILED_SERVICE,
    .port_is = "filed, the file service",
    .version = FILED_VERSION,
    .size = sizeof(struct session),
    .offset = offsetof(struct session, fs),
    .need_token = "filed needs a login token; run: nexus login",
    .limits = session_limits,
    .welcome = session_welcome,
    .accepted = session_accepted,
    .dispatch = session_dispatch,
    .teardown = session_teardown,
};
