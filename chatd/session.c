/* session: one connected client. HELLO, then anonymous (register, login,
 * ping) or logged in; every request is a short case calling x_handle_*. */
#include "chatd.h"
#include "conn.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#define SESSION_HANDSHAKE_SECS 10
#define SESSION_TYPING_RATE 1.0 /* TYPING relayed per second per session */
#define SESSION_TYPING_BURST 3.0

static void session_frame_cb(struct conn *c, const struct msg *m, void *arg);
static void session_closed_cb(struct conn *c, int err, void *arg);

static const struct conn_cbs session_cbs = {
    .connected = NULL,
    .frame = session_frame_cb,
    .closed = session_closed_cb,
};

void session_accept(int fd, const char *peer)
{
	struct conn_limits lim = {
	    .max_frame = chatd.cfg.max_frame,
	    .max_outq = chatd.cfg.max_outq,
	    .handshake_secs = SESSION_HANDSHAKE_SECS,
	    .idle_secs = chatd.cfg.idle_timeout,
	};
	struct session *s;

	if (chatd.stopping || chatd.nsessions >= chatd.cfg.max_sessions + CHATD_REFUSE_SLACK) {
		log_debug("refusing a connection from %s: %u connections", peer, chatd.nsessions);
		listener_refuse(fd);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->addr, sizeof(s->addr), "%s", peer);
	s->state = SESSION_HELLO;
	s->refuse = chatd.nsessions >= chatd.cfg.max_sessions;
	ratelimit_init(&s->typing, SESSION_TYPING_RATE, SESSION_TYPING_BURST, clock_now_ms());
	s->conn = conn_accept(chatd.base, chatd.tls, fd, &lim, &session_cbs, s);
	if (!s->conn) {
		log_warn("cannot accept a connection from %s: out of memory", peer);
		free(s);
		return;
	}
	s->next = chatd.sessions;
	if (chatd.sessions)
		chatd.sessions->prev = s;
	chatd.sessions = s;
	chatd.nsessions++;
	log_debug("connection from %s (%u open)", peer, chatd.nsessions);
}

const char *session_name(const struct session *s)
{
	static char buf[PROTO_NAME_MAX + 80];

	snprintf(buf, sizeof(buf), "%s@%s", s->user ? s->user->name : "-", s->addr);
	return buf;
}

int session_send(struct session *s, const struct msg *m)
{
	int r = conn_send(s->conn, m);

	if (r == -EINVAL)
		log_warn("cannot encode %s for %s", proto_type_name(m->type), session_name(s));
	return r;
}

int session_send_frame(struct session *s, const uint8_t *frame, size_t len)
{
	return conn_send_frame(s->conn, frame, len);
}

void session_error(struct session *s, uint32_t req, uint16_t code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!fmt) {
		conn_send_error(s->conn, req, code, NULL);
		return;
	}
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

static void session_detach(struct session *s)
{
	struct user *u = s->user;

	if (!u)
		return;
	if (s->user_prev)
		s->user_prev->user_next = s->user_next;
	else
		u->sessions = s->user_next;
	if (s->user_next)
		s->user_next->user_prev = s->user_prev;
	s->user_prev = s->user_next = NULL;
	s->user = NULL;
	if (--u->nsessions == 0) {
		chatd.nonline--;
		presence_user_offline(u);
	}
}

void session_attach(struct session *s, struct user *u)
{
	if (s->user == u)
		return;
	session_detach(s);
	s->user = u;
	s->state = SESSION_USER;
	s->user_next = u->sessions;
	if (u->sessions)
		u->sessions->user_prev = s;
	u->sessions = s;
	if (u->nsessions++ == 0) {
		chatd.nonline++;
		presence_user_online(u);
	}
}

void session_kick(struct session *s, uint16_t code, const char *text)
{
	if (s->state == SESSION_CLOSING)
		return;
	conn_send_error(s->conn, 0, code, text);
	session_detach(s);
	s->state = SESSION_CLOSING;
	conn_close(s->conn, -(int)code);
}

static void session_welcome(struct session *s, const struct user *u)
{
	struct msg w;

	proto_msg_init(&w, MSG_WELCOME);
	w.version = PROTO_VERSION;
	snprintf(w.name, sizeof(w.name), "%s", CHATD_VERSION);
	if (u) {
		snprintf(w.user, sizeof(w.user), "%s", u->name);
		w.flags = u->admin ? MF_ADMIN : 0;
	}
	w.count = chatd.cfg.max_frame;
	w.size = chatd.cfg.max_text;
	w.ts = clock_wall_ms();
	session_send(s, &w);
}

static void session_handle_hello(struct session *s, const struct msg *m)
{
	struct user *u = NULL;
	int code;

	if (m->type != MSG_HELLO) {
		session_kick(s, ERR_BAD_FRAME, "expected HELLO first");
		return;
	}
	if (s->refuse) {
		log_warn("refusing %s: %u connections is the limit", s->addr,
		         chatd.cfg.max_sessions);
		session_kick(s, ERR_QUOTA, "server full: too many connections; try again later");
		return;
	}
	if (m->version != PROTO_VERSION) {
		session_kick(s, ERR_VERSION,
		             "protocol version not supported (this server speaks 1)");
		return;
	}
	if (strcmp(m->name, CHATD_SERVICE) != 0) {
		session_kick(s, ERR_WRONG_SERVICE, "this port is chatd, the chat service");
		return;
	}
	if (m->secret[0]) {
		code = account_token_check(m->secret, &u, &s->issued_ms);
		if (code) {
			log_debug("%s: rejected token: %s", s->addr,
			          proto_error_text((uint16_t)code));
			session_kick(s, (uint16_t)code, NULL);
			return;
		}
	}
	/* WELCOME goes first: attaching may send PRESENCE to this session. */
	s->state = SESSION_ANON;
	session_welcome(s, u);
	if (u)
		session_attach(s, u);
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

/* Requests before login: anything but these needs a user. */
static bool session_anon_allowed(uint16_t type)
{
	return type == MSG_REGISTER || type == MSG_LOGIN || type == MSG_LOGIN_VIA ||
	       type == MSG_PING;
}

/* A well-formed frame of a type chatd takes from no client (another
 * service's, or one only servers send): that request fails, the session
 * goes on. Unknown type numbers never get here: conn refuses them (fatal). */
static void session_unsupported(struct session *s, const struct msg *m)
{
	char why[200];

	proto_unsupported_text(m->type, CHATD_SERVICE, why, sizeof(why));
	session_error(s, m->req, ERR_UNSUPPORTED, "%s", why);
}

static void session_dispatch(struct session *s, const struct msg *m)
{
	switch (m->type) {
	case MSG_PING:
		session_handle_ping(s, m);
		break;
	case MSG_REGISTER:
		account_handle_register(s, m);
		break;
	case MSG_LOGIN:
		account_handle_login(s, m);
		break;
	case MSG_LOGIN_VIA:
		account_handle_login_via(s, m);
		break;
	case MSG_USER_ADMIN:
		account_handle_user_admin(s, m);
		break;
	case MSG_ROOM_CREATE:
		room_handle_create(s, m);
		break;
	case MSG_ROOM_LIST:
		room_handle_list(s, m);
		break;
	case MSG_JOIN:
		room_handle_join(s, m);
		break;
	case MSG_LEAVE:
		room_handle_leave(s, m);
		break;
	case MSG_ROOM_PASS:
		room_handle_pass(s, m);
		break;
	case MSG_INVITE:
		room_handle_invite(s, m);
		break;
	case MSG_TOPIC:
		room_handle_topic(s, m);
		break;
	case MSG_MEMBERS:
		room_handle_members(s, m);
		break;
	case MSG_SAY:
		message_handle_say(s, m);
		break;
	case MSG_EDIT:
		message_handle_edit(s, m);
		break;
	case MSG_DELETE:
		message_handle_delete(s, m);
		break;
	case MSG_HISTORY:
		message_handle_history(s, m);
		break;
	case MSG_PRESENCE:
		presence_handle_presence(s, m);
		break;
	case MSG_TYPING:
		presence_handle_typing(s, m);
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
	case SESSION_ANON:
		/* logging in would not help: say so first */
		if (!proto_type_accepted(m->type, CHATD_SERVICE))
			break;
		if (!session_anon_allowed(m->type)) {
			session_error(s, m->req, ERR_AUTH_REQUIRED, "log in first");
			return;
		}
		break;
	case SESSION_USER:
		break;
	}
	session_dispatch(s, m);
}

static void session_free(struct session *s)
{
	message_forget_session(s);
	hasher_forget(s);
	reader_forget(s);
	session_detach(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		chatd.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	chatd.nsessions--;
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
	if (chatd.stopping && chatd.nsessions == 0)
		event_base_loopexit(chatd.base, NULL);
}

void session_close_all(void)
{
	for (struct session *s = chatd.sessions; s; s = s->next)
		session_kick(s, ERR_SHUTDOWN, NULL);
	if (chatd.nsessions == 0)
		event_base_loopexit(chatd.base, NULL);
}

void session_free_all(void)
{
	while (chatd.sessions)
		session_free(chatd.sessions);
}
