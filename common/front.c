/* front: a daemon's client sessions (front.h says what it holds). */
#include "front.h"
#include "clock.h"
#include "log.h"
#include "str.h"
#include "svc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

static void front_frame_cb(struct conn *c, const struct msg *m, void *arg);
static void front_closed_cb(struct conn *c, int err, void *arg);

static const struct conn_cbs front_cbs = {
    .connected = NULL,
    .frame = front_frame_cb,
    .closed = front_closed_cb,
};

void front_accept(struct front *f, int fd, const char *peer)
{
	const struct front_table *t = f->t;
	struct conn_limits lim = {.handshake_secs = CONN_HANDSHAKE_SECS};
	struct front_session *fs;
	unsigned max = 0;
	char *mem;

	t->limits(&lim, &max);
	if (*f->stopping || f->nsessions >= max + FRONT_REFUSE_SLACK) {
		log_debug("refusing a connection from %s: %u connections", peer, f->nsessions);
		listener_refuse(fd);
		return;
	}
	mem = xcalloc(1, t->size);
	fs = (struct front_session *)(void *)(mem + t->offset);
	fs->front = f;
	str_copy(fs->addr, sizeof(fs->addr), peer);
	fs->state = FRONT_HELLO;
	fs->refuse = f->nsessions >= max;
	fs->conn = conn_accept(*f->base, *f->tls, fd, &lim, &front_cbs, fs);
	if (!fs->conn) {
		log_warn("cannot accept a connection from %s: out of memory or TLS setup failed",
		         peer);
		free(mem);
		return;
	}
	fs->next = f->sessions;
	if (f->sessions)
		f->sessions->prev = fs;
	f->sessions = fs;
	f->nsessions++;
	if (t->accepted)
		t->accepted(fs, fd);
	log_debug("connection from %s (%u open)", peer, f->nsessions);
}

const char *front_name(const struct front_session *fs)
{
	static char buf[PROTO_NAME_MAX + 80];

	snprintf(buf, sizeof(buf), "%s@%s", fs->user[0] ? fs->user : "-", fs->addr);
	return buf;
}

int front_send(struct front_session *fs, const struct msg *m)
{
	int r;

	if (fs->state == FRONT_CLOSING)
		return -EPIPE;
	r = conn_send(fs->conn, m);
	if (r == -EINVAL)
		log_warn("cannot encode %s for %s", proto_type_name(m->type), front_name(fs));
	return r;
}

int front_send_frame(struct front_session *fs, const uint8_t *frame, size_t len)
{
	if (fs->state == FRONT_CLOSING)
		return -EPIPE;
	return conn_send_frame(fs->conn, frame, len);
}

void front_error(struct front_session *fs, uint32_t req, uint16_t code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!fmt) {
		conn_send_error(fs->conn, req, code, NULL);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_send_error(fs->conn, req, code, text);
}

void front_ok(struct front_session *fs, uint32_t req, uint64_t id, uint32_t count)
{
	struct msg m;

	proto_msg_init(&m, MSG_OK);
	m.req = req;
	m.id = id;
	m.count = count;
	front_send(fs, &m);
}

void front_kick(struct front_session *fs, uint16_t code, const char *text)
{
	if (fs->state == FRONT_CLOSING)
		return;
	conn_send_error(fs->conn, 0, code, text);
	if (fs->front->t->kicked)
		fs->front->t->kicked(fs);
	fs->state = FRONT_CLOSING;
	conn_close(fs->conn, -(int)code);
}

/* A well-formed frame of a type the service takes from no client (another
 * service's, or one only servers send): that request fails, the session
 * goes on. Unknown type numbers never get here: conn refuses them (fatal). */
void front_unsupported(struct front_session *fs, const struct msg *m)
{
	char why[200];

	proto_unsupported_text(m->type, fs->front->t->service, why, sizeof(why));
	front_error(fs, m->req, ERR_UNSUPPORTED, "%s", why);
}

/* The token of a HELLO: 0 (fs->user, fs->issued_ms set) or an ERR_ code. */
static int front_token(struct front_session *fs, const char *token, void **ret_who)
{
	struct front *f = fs->front;
	int r;

	if (f->t->token)
		return f->t->token(fs, token, ret_who);
	r = svc_token_verify(*f->revoke, f->token_key, token, clock_wall_ms() / 1000, fs->user,
	                     sizeof(fs->user), NULL, &fs->issued_ms);
	if (r == 0)
		return 0;
	fs->user[0] = '\0';
	return r == -EKEYEXPIRED ? ERR_TOKEN_EXPIRED : ERR_TOKEN_INVALID;
}

static void front_welcome(struct front_session *fs, void *who)
{
	struct msg w;

	proto_msg_init(&w, MSG_WELCOME);
	w.version = PROTO_VERSION;
	str_copy(w.name, sizeof(w.name), fs->front->t->version);
	str_copy(w.user, sizeof(w.user), fs->user);
	w.ts = clock_wall_ms();
	fs->front->t->welcome(fs, who, &w);
	front_send(fs, &w);
}

/* The checks run in this order: a full server says so before anything the
 * client could fix; then version, service and token. */
static void front_handle_hello(struct front_session *fs, const struct msg *m)
{
	const struct front_table *t = fs->front->t;
	char why[160];
	void *who = NULL;
	int code;

	if (m->type != MSG_HELLO) {
		front_kick(fs, ERR_BAD_FRAME, "expected HELLO first");
		return;
	}
	if (fs->refuse) {
		struct conn_limits lim;
		unsigned max = 0;

		t->limits(&lim, &max);
		log_warn("refusing %s: %u connections is the limit", fs->addr, max);
		front_kick(fs, ERR_QUOTA, "server full: too many connections; try again later");
		return;
	}
	if (m->version != PROTO_VERSION) {
		front_kick(fs, ERR_VERSION,
		           "protocol version not supported (this server speaks " PROTO_STR(
		               PROTO_VERSION) ")");
		return;
	}
	if (strcmp(m->name, t->service) != 0) {
		snprintf(why, sizeof(why), "this port is %s", t->port_is);
		front_kick(fs, ERR_WRONG_SERVICE, why);
		return;
	}
	if (!m->secret[0] && t->need_token) {
		front_kick(fs, ERR_AUTH_REQUIRED, t->need_token);
		return;
	}
	if (m->secret[0]) {
		code = front_token(fs, m->secret, &who);
		if (code) {
			log_debug("%s: rejected token: %s", fs->addr,
			          proto_error_text((uint16_t)code));
			front_kick(fs, (uint16_t)code, NULL);
			return;
		}
	}
	fs->state = m->secret[0] ? FRONT_USER : FRONT_ANON;
	front_welcome(fs, who);
	if (t->started)
		t->started(fs, who);
	log_debug("%s: hello from %s", front_name(fs), m->text[0] ? m->text : "a client");
}

static bool front_anon_allowed(const struct front_table *t, uint16_t type)
{
	for (const uint16_t *p = t->anon_types; p && *p; p++)
		if (*p == type)
			return true;
	return false;
}

static void front_handle_ping(struct front_session *fs, const struct msg *m)
{
	struct msg p;

	proto_msg_init(&p, MSG_PONG);
	p.req = m->req;
	p.ts = m->ts;
	front_send(fs, &p);
}

static void front_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct front_session *fs = arg;
	const struct front_table *t = fs->front->t;

	(void)c;
	switch (fs->state) {
	case FRONT_HELLO:
		front_handle_hello(fs, m);
		return;
	case FRONT_CLOSING:
		return;
	case FRONT_ANON:
	case FRONT_USER:
		break;
	}
	if (m->type == MSG_PING) {
		front_handle_ping(fs, m);
	} else if (m->type == MSG_HELLO) {
		front_error(fs, 0, ERR_INVALID, "HELLO was already received");
	} else if (!proto_type_accepted(m->type, t->service)) {
		/* logging in would not help: say so first */
		front_unsupported(fs, m);
	} else if (fs->state == FRONT_ANON && !front_anon_allowed(t, m->type)) {
		front_error(fs, m->req, ERR_AUTH_REQUIRED, "log in first");
	} else {
		t->dispatch(fs, m);
	}
}

static void front_free(struct front_session *fs)
{
	struct front *f = fs->front;

	if (f->t->teardown)
		f->t->teardown(fs);
	if (fs->prev)
		fs->prev->next = fs->next;
	else
		f->sessions = fs->next;
	if (fs->next)
		fs->next->prev = fs->prev;
	f->nsessions--;
	conn_free(fs->conn);
	free((char *)fs - f->t->offset);
}

static void front_closed_cb(struct conn *c, int err, void *arg)
{
	struct front_session *fs = arg;
	struct front *f = fs->front;

	(void)c;
	if (err == -ERR_SLOW_READER)
		log_warn("dropping slow reader %s", front_name(fs));
	else if (err == -ETIMEDOUT)
		log_debug("%s: timed out", front_name(fs));
	else
		log_debug("%s: closed (%d)", front_name(fs), err);
	front_free(fs);
	if (*f->stopping && f->nsessions == 0)
		event_base_loopexit(*f->base, NULL);
}

void front_revoked(struct front *f)
{
	struct front_session *fs, *next;

	for (fs = f->sessions; fs; fs = next) {
		next = fs->next;
		if (fs->state != FRONT_USER || !fs->user[0] ||
		    !svc_token_revoked(*f->revoke, fs->user, fs->issued_ms))
			continue;
		log_info("%s: login revoked (" SVC_REVOKED_WHY "), session ended", fs->user);
		front_kick(fs, ERR_TOKEN_INVALID, SVC_REVOKED_TEXT);
	}
}

void front_close_all(struct front *f)
{
	for (struct front_session *fs = f->sessions; fs; fs = fs->next)
		front_kick(fs, ERR_SHUTDOWN, NULL);
	if (f->nsessions == 0)
		event_base_loopexit(*f->base, NULL);
}

void front_free_all(struct front *f)
{
	while (f->sessions)
		front_free(f->sessions);
}
