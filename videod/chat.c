/* chat: videod keeps no accounts and no rooms; it asks chatd, as a client
 * on a short TLS connection: LOGIN_VIA (a LOGIN naming the browser's
 * address, signed with the token key) checks a password and returns a token,
 * ROOM_PASS on a room says whether a token's user may read it (public
 * rooms: anyone; private rooms and DMs: members) and how chatd names it
 * ("LOBBY" is lobby, "@BOB" is @Bob:alice): a call is keyed by that name.
 * ROOM_PASS, not HISTORY: no history is read, and the user's history rate
 * and chatd's reader queue are not spent on a join. chatd's certificate
 * must be ours: the daemons share one. */
#include "videod.h"
#include "clock.h"
#include "conn.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define CHAT_TIMEOUT_SECS 10
#define CHAT_REQ 1

enum chat_kind { CHAT_LOGIN, CHAT_CHECK };

struct chatq {
	struct conn *c;
	enum chat_kind kind;
	char user[PROTO_NAME_MAX + 1];
	char secret[PROTO_SECRET_MAX + 1];
	char room[PROTO_ROOM_MAX + 1];
	char addr[64]; /* CHAT_LOGIN: the browser's */
	chat_done_fn done;
	void *arg;
	struct event *timer;
	struct chatq *next;
};

static struct chatq *pending;

static void chatq_free(struct chatq *q)
{
	struct chatq **pp;

	for (pp = &pending; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	if (q->timer)
		event_free(q->timer);
	conn_free(q->c);
	explicit_bzero(q->secret, sizeof(q->secret));
	free(q);
}

/* Report once, then drop the connection. */
static void chatq_finish(struct chatq *q, int code, const char *user, const char *token)
{
	chat_done_fn done = q->done;

	q->done = NULL;
	if (done)
		done(q->arg, code, user, token);
	chatq_free(q);
}

static int connected_cb(struct conn *c, void *arg)
{
	struct chatq *q = arg;
	char fp[TLS_FP_LEN];
	struct msg m;

	if (conn_peer_fingerprint(c, fp) < 0 || strcmp(fp, videod.tls_fp) != 0) {
		log_warn("chatd at %s:%u has another certificate (%s) than videod: not sending "
		         "credentials there",
		         videod.cfg.chat_host, videod.cfg.chat_port, fp);
		return -1;
	}
	proto_msg_init(&m, MSG_HELLO);
	m.version = PROTO_VERSION;
	str_copy(m.name, sizeof(m.name), PROTO_SERVICE_CHAT);
	str_copy(m.text, sizeof(m.text), "videod");
	if (q->kind == CHAT_CHECK)
		str_copy(m.secret, sizeof(m.secret), q->secret);
	return conn_send(c, &m) < 0 ? -1 : 0;
}

static void send_request(struct chatq *q)
{
	struct msg m;

	if (q->kind == CHAT_LOGIN) {
		proto_msg_init(&m, MSG_LOGIN_VIA);
		str_copy(m.user, sizeof(m.user), q->user);
		str_copy(m.secret, sizeof(m.secret), q->secret);
		str_copy(m.name, sizeof(m.name), q->addr);
		m.ts = clock_wall_ms();
		if (auth_relay_sign(videod.token_key, m.user, m.name, m.ts, m.hash) < 0) {
			explicit_bzero(&m, sizeof(m));
			chatq_finish(q, ERR_INTERNAL, NULL, NULL);
			return;
		}
	} else {
		proto_msg_init(&m, MSG_ROOM_PASS);
		str_copy(m.room, sizeof(m.room), q->room);
	}
	m.req = CHAT_REQ;
	if (conn_send(q->c, &m) < 0)
		chatq_finish(q, ERR_INTERNAL, NULL, NULL);
	explicit_bzero(&m, sizeof(m));
}

static void frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct chatq *q = arg;

	(void)c;
	switch (m->type) {
	case MSG_WELCOME:
		if (q->kind == CHAT_CHECK && !m->user[0])
			chatq_finish(q, ERR_TOKEN_INVALID, NULL, NULL);
		else
			send_request(q);
		break;
	case MSG_TOKEN:
		if (q->kind == CHAT_LOGIN && m->req == CHAT_REQ)
			chatq_finish(q, 0, m->user, m->secret);
		break;
	case MSG_ROOM_PASS:
		if (q->kind == CHAT_CHECK && m->req == CHAT_REQ)
			chatq_finish(q, m->room[0] ? 0 : ERR_INTERNAL, m->room, m->secret);
		break;
	case MSG_ERROR:
		chatq_finish(q, m->code ? m->code : ERR_INTERNAL, NULL, NULL);
		break;
	default:
		break; /* pushed events */
	}
}

static void closed_cb(struct conn *c, int err, void *arg)
{
	(void)c;
	(void)err;
	chatq_finish(arg, ERR_SHUTDOWN, NULL, NULL);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	chatq_finish(arg, ERR_SHUTDOWN, NULL, NULL);
}

static int chatq_start(struct chatq *q)
{
	static const struct conn_cbs cbs = {connected_cb, frame_cb, closed_cb};
	struct timeval tv = {CHAT_TIMEOUT_SECS, 0};
	struct conn_limits lim;
	char err[256];

	conn_limits_default(&lim);
	lim.idle_secs = CHAT_TIMEOUT_SECS;
	q->c = conn_connect(videod.base, videod.chat_tls, videod.cfg.chat_host,
	                    videod.cfg.chat_port, &lim, &cbs, q, err, sizeof(err));
	if (!q->c) {
		log_warn("cannot reach chatd at %s:%u: %s", videod.cfg.chat_host,
		         videod.cfg.chat_port, err);
		explicit_bzero(q->secret, sizeof(q->secret));
		free(q);
		return -ECONNREFUSED;
	}
	q->timer = evtimer_new(videod.base, timeout_cb, q);
	if (!q->timer)
		fatal("out of memory");
	evtimer_add(q->timer, &tv);
	q->next = pending;
	pending = q;
	return 0;
}

int chat_login(const char *user, const char *password, const char *addr, chat_done_fn done,
               void *arg)
{
	struct chatq *q = xcalloc(1, sizeof(*q));

	q->kind = CHAT_LOGIN;
	str_copy(q->addr, sizeof(q->addr), addr);
	str_copy(q->user, sizeof(q->user), user);
	str_copy(q->secret, sizeof(q->secret), password);
	q->done = done;
	q->arg = arg;
	return chatq_start(q);
}

int chat_room_check(const char *token, const char *room, chat_done_fn done, void *arg)
{
	struct chatq *q = xcalloc(1, sizeof(*q));

	q->kind = CHAT_CHECK;
	str_copy(q->secret, sizeof(q->secret), token);
	str_copy(q->room, sizeof(q->room), room);
	q->done = done;
	q->arg = arg;
	return chatq_start(q);
}

void chat_free_all(void)
{
	while (pending)
		chatq_finish(pending, ERR_SHUTDOWN, NULL, NULL);
}
