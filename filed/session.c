/* session: one connected client. HELLO with a token from chatd (checked
 * with the shared key, no database), then requests, each a short case
 * calling a x_handle_* function. */
#include "filed.h"
#include "conn.h"
#include "log.h"
#include "ratelimit.h"
#include "svc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#define SESSION_HANDSHAKE_SECS 10
#define SESSION_REFUSE_SLACK 64

static void session_frame_cb(struct conn *c, const struct msg *m, void *arg);
static void session_closed_cb(struct conn *c, int err, void *arg);

static const struct conn_cbs session_cbs = {
    .connected = NULL,
    .frame = session_frame_cb,
    .closed = session_closed_cb,
};

static void session_drain_cb(struct conn *c, void *arg)
{
	(void)c;
	transfer_drain(arg);
}

void session_accept(int fd, const char *peer)
{
	struct conn_limits lim = {
	    .max_frame = filed.cfg.max_frame,
	    .max_outq = filed.cfg.max_outq,
	    .handshake_secs = SESSION_HANDSHAKE_SECS,
	    .idle_secs = filed.cfg.idle_timeout,
	};
	struct session *s;

	if (filed.stopping || filed.nsessions >= filed.cfg.max_sessions + SESSION_REFUSE_SLACK) {
		log_debug("refusing a connection from %s: %u connections", peer, filed.nsessions);
		listener_refuse(fd);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->addr, sizeof(s->addr), "%s", peer);
	s->state = SESSION_HELLO;
	s->conn = conn_accept(filed.base, filed.tls, fd, &lim, &session_cbs, s);
	if (!s->conn) {
		log_warn("cannot accept a connection from %s: out of memory", peer);
		free(s);
		return;
	}
	conn_set_drain_cb(s->conn, session_drain_cb, s, transfer_queue_mark() / 2);
	s->next = filed.sessions;
	if (filed.sessions)
		filed.sessions->prev = s;
	filed.sessions = s;
	filed.nsessions++;
	log_debug("connection from %s (%u open)", peer, filed.nsessions);
}

const char *session_name(const struct session *s)
{
	static char buf[PROTO_NAME_MAX + 80];

	snprintf(buf, sizeof(buf), "%s@%s", s->user[0] ? s->user : "-", s->addr);
	return buf;
}

int session_send(struct session *s, const struct msg *m)
{
	int r = conn_send(s->conn, m);

	if (r == -EINVAL)
		log_warn("cannot encode %s for %s", proto_type_name(m->type), session_name(s));
	return r;
}

void session_error(struct session *s, uint32_t req, uint16_t code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_send_error(s->conn, req, code, text);
}

void session_ok(struct session *s, uint32_t req, uint64_t id, uint32_t count)
{
	struct msg m;

	proto_msg_init(&m, MSG_OK);
	m.req = req;
	m.id = id;
	m.count = count;
	session_send(s, &m);
}

void session_kick(struct session *s, uint16_t code, const char *text)
{
	if (s->state == SESSION_CLOSING)
		return;
	conn_send_error(s->conn, 0, code, text);
	s->state = SESSION_CLOSING;
	conn_close(s->conn, -(int)code);
}

unsigned session_user_transfers(const char *user)
{
	unsigned n = 0;

	for (struct session *s = filed.sessions; s; s = s->next)
		if (s->ntransfers && strcmp(s->user, user) == 0)
			n += s->ntransfers;
	return n;
}

static void session_welcome(struct session *s)
{
	struct msg w;

	proto_msg_init(&w, MSG_WELCOME);
	w.version = PROTO_VERSION;
	snprintf(w.name, sizeof(w.name), "%s", FILED_VERSION);
	snprintf(w.user, sizeof(w.user), "%s", s->user);
	w.count = filed.cfg.max_frame;
	w.size = (uint64_t)filed.cfg.chunk_kb * 1024u;
	w.ts = clock_wall_ms();
	session_send(s, &w);
}

static void session_handle_hello(struct session *s, const struct msg *m)
{
	uint64_t expiry;
	int r;

	if (m->type != MSG_HELLO) {
		session_kick(s, ERR_BAD_FRAME, "expected HELLO first");
		return;
	}
	if (filed.nsessions > filed.cfg.max_sessions) {
		session_kick(s, ERR_QUOTA, "server full: too many connections; try again later");
		return;
	}
	if (m->version != PROTO_VERSION) {
		session_kick(s, ERR_VERSION, "protocol version not supported (this server speaks 1)");
		return;
	}
	if (strcmp(m->name, FILED_SERVICE) != 0) {
		session_kick(s, ERR_WRONG_SERVICE, "this port is filed, the file service");
		return;
	}
	if (!m->secret[0]) {
		session_kick(s, ERR_AUTH_REQUIRED, "filed needs a login token; run: nexus login");
		return;
	}
	r = svc_token_verify(filed.revoke, filed.token_key, m->secret, clock_wall_ms() / 1000,
	                     s->user, sizeof(s->user), &expiry, &s->issued_ms);
	if (r < 0) {
		s->user[0] = '\0';
		log_debug("%s: rejected token: %s", s->addr, strerror(-r));
		session_kick(s, r == -EKEYEXPIRED ? ERR_TOKEN_EXPIRED : ERR_TOKEN_INVALID, NULL);
		return;
	}
	s->state = SESSION_USER;
	session_welcome(s);
	log_debug("%s: hello from %s", session_name(s), m->text[0] ? m->text : "a client");
}

static void session_handle_ping(struct session *s, const struct msg *m)
{
	struct msg p;

	proto_msg_init(&p, MSG_PONG);
	p.req = m->req;
	p.ts = m->ts;
	session_send(s, &p);
}

/* A well-formed frame of a type filed takes from no client (another
 * service's, or one only servers send): that request fails, the session
 * goes on. Unknown type numbers never get here: conn refuses them (fatal). */
static void session_unsupported(struct session *s, const struct msg *m)
{
	char why[200];

	proto_unsupported_text(m->type, FILED_SERVICE, why, sizeof(why));
	session_error(s, m->req, ERR_UNSUPPORTED, "%s", why);
}

static void session_dispatch(struct session *s, const struct msg *m)
{
	switch (m->type) {
	case MSG_PING:
		session_handle_ping(s, m);
		break;
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
	case MSG_HELLO:
		session_error(s, 0, ERR_INVALID, "HELLO was already received");
		break;
	default:
		session_unsupported(s, m);
		break;
	}
}

static void session_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct session *s = arg;

	(void)c;
	switch (s->state) {
	case SESSION_HELLO:
		session_handle_hello(s, m);
		return;
	case SESSION_CLOSING:
		return;
	case SESSION_USER:
		session_dispatch(s, m);
		return;
	}
}

static void session_free(struct session *s)
{
	transfer_free_all(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		filed.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	filed.nsessions--;
	conn_free(s->conn);
	free(s);
}

static void session_closed_cb(struct conn *c, int err, void *arg)
{
	struct session *s = arg;

	(void)c;
	if (err == -ERR_SLOW_READER)
		log_warn("dropping slow reader %s", session_name(s));
	else if (err == -ETIMEDOUT)
		log_debug("%s: timed out", session_name(s));
	else
		log_debug("%s: closed (%d)", session_name(s), err);
	session_free(s);
	if (filed.stopping && filed.nsessions == 0)
		event_base_loopexit(filed.base, NULL);
}

void session_close_all(void)
{
	for (struct session *s = filed.sessions; s; s = s->next)
		session_kick(s, ERR_SHUTDOWN, NULL);
	if (filed.nsessions == 0)
		event_base_loopexit(filed.base, NULL);
}

void session_free_all(void)
{
	while (filed.sessions)
		session_free(filed.sessions);
}
