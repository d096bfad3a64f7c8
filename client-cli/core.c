/* core: the event-driven client that every subcommand and the full-screen
 * client (tui_net.c) sit on.
 *
 * States: CONNECTING (TCP + TLS) -> HANDSHAKING (pin checked, HELLO sent)
 * -> READY or AUTHENTICATED (WELCOME). A loss after WELCOME either ends the
 * run (one-shot commands) or, with CLIENT_RECONNECT, goes to RECONNECTING
 * and tries again after 0.5 s, doubling to 10 s, with jitter so that many
 * clients do not come back in step after a server restart.
 *
 * Requests carry a client-chosen id; replies are matched through a table of
 * slots indexed by the low bits of the id. */
#include "client.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "log.h"

#define CLIENT_REQ_SLOTS 1024u /* power of two */
#define CLIENT_PING_SECS 30
#define CLIENT_BACKOFF_MIN_MS 500u
#define CLIENT_BACKOFF_MAX_MS 10000u
#define CLIENT_FAIL_MAX 1024

struct client_req {
	uint32_t req;
	client_reply_fn fn;
	void *arg;
};

struct client {
	struct settings *s;
	unsigned flags;
	struct client_cbs cbs;
	void *arg;
	struct event_base *base;
	int own_base;          /* client_new's loop, not one passed in */
	struct event *done_ev; /* on a loop passed in: tells cbs.done */
	SSL_CTX *tls;
	struct conn *conn;
	enum client_state state;
	struct event *ping_ev;
	struct event *retry_ev;
	struct event *sig_ev[2];
	unsigned backoff_ms;
	int welcomed;        /* a WELCOME was seen: losses may reconnect */
	int prompted;        /* the user was asked about the certificate */
	int retried_prompt;  /* the reconnect after asking was used */
	uint32_t ping_req;   /* PING in flight */
	uint16_t last_error; /* last ERROR without a request id */
	int stopping;
	int status;
	char fail_text[CLIENT_FAIL_MAX];
	char token[PROTO_SECRET_MAX + 1];
	char user[PROTO_NAME_MAX + 1];
	char server_name[PROTO_ROOM_MAX + 1];
	char fp[TLS_FP_LEN];
	uint32_t server_flags;
	uint32_t max_text;
	uint32_t next_req;
	unsigned pending;
	struct client_req reqs[CLIENT_REQ_SLOTS];
	/* Another service than chat (client_set_service), and streaming. */
	const char *service;
	uint16_t service_port;
	uint32_t service_max_frame;
	uint32_t server_frame;
	uint64_t server_size;
	client_drain_fn drain_fn;
	void *drain_arg;
};

static void client_connect(struct client *c);

static const char *const state_names[] = {
    [CLIENT_IDLE] = "idle",
    [CLIENT_CONNECTING] = "connecting",
    [CLIENT_HANDSHAKING] = "handshaking",
    [CLIENT_READY] = "ready",
    [CLIENT_AUTHENTICATED] = "authenticated",
    [CLIENT_RECONNECTING] = "reconnecting",
};

const char *client_state_name(enum client_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

void client_set_state(struct client *c, enum client_state s)
{
	enum client_state old = c->state;

	if (old == s)
		return;
	c->state = s;
	log_debug("client: %s -> %s", client_state_name(old), client_state_name(s));
	if (c->cbs.state && !c->stopping)
		c->cbs.state(c, old, c->arg);
}

void client_done(struct client *c, int status)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	c->status = status;
	if (c->own_base)
		event_base_loopbreak(c->base);
	else
		event_active(c->done_ev, EV_TIMEOUT, 0);
}

void client_fail(struct client *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->stopping)
		return;
	va_start(ap, fmt);
	vsnprintf(c->fail_text, sizeof(c->fail_text), fmt, ap);
	va_end(ap);
	client_done(c, status ? status : EXIT_ERROR);
}

int client_failed(const struct client *c)
{
	return c->stopping && c->status != 0;
}

int client_exit_for(uint16_t code)
{
	switch (code) {
	case ERR_BAD_LOGIN:
	case ERR_TOKEN_EXPIRED:
	case ERR_TOKEN_INVALID:
	case ERR_AUTH_REQUIRED:
	case ERR_REG_CLOSED:
		return EXIT_AUTH;
	case ERR_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case ERR_FORBIDDEN:
		return EXIT_FORBIDDEN;
	case ERR_RATE_LIMITED:
		return EXIT_RATE;
	case ERR_QUOTA:
		return EXIT_QUOTA;
	case ERR_INTEGRITY:
		return EXIT_INTEGRITY;
	case ERR_INVALID:
	case ERR_EXISTS:
	case ERR_TOO_LARGE:
		return EXIT_ERROR;
	default:
		return EXIT_SERVER;
	}
}

int client_error_text(const struct msg *m, const char *subject, char *buf, size_t len)
{
	char text[PROTO_TEXT_MAX / 4], subj[PROTO_ROOM_MAX * 3 + 8] = "", clean[sizeof(subj) - 4];
	const char *std = proto_error_text(m->code);
	const char *hint = "";

	out_clean_str(text, sizeof(text), m->text[0] ? m->text : std);
	/* A bare standard sentence says little without what it is about. */
	if (subject && strcmp(text, std) == 0)
		snprintf(subj, sizeof(subj), "%s: ", out_clean_str(clean, sizeof(clean), subject));
	if ((m->code == ERR_TOKEN_EXPIRED || m->code == ERR_TOKEN_INVALID ||
	     m->code == ERR_AUTH_REQUIRED) &&
	    !strstr(text, "nexus login"))
		hint = "; run: nexus login";
	snprintf(buf, len, "%s%s%s", subj, text, hint);
	return client_exit_for(m->code);
}

void client_fail_msg(struct client *c, const struct msg *m, const char *subject)
{
	char text[CLIENT_FAIL_MAX];
	int status = client_error_text(m, subject, text, sizeof(text));

	settings_login_hint(c->s, text, sizeof(text));
	client_fail(c, status, "%s", text);
}

/* Requests */

static void client_noop_reply(struct client *c, const struct msg *m, void *arg)
{
	(void)c;
	(void)m;
	(void)arg;
}

int client_reply_final(const struct msg *m)
{
	switch (m->type) {
	case MSG_OK:
	case MSG_ACK:
	case MSG_TOKEN:
	case MSG_PONG:
	case MSG_ERROR:
		return 1;
	default:
		return 0;
	}
}

int client_request(struct client *c, struct msg *m, client_reply_fn fn, void *arg)
{
	struct client_req *slot;
	uint32_t id;
	int r;

	if (!c->conn || (c->state != CLIENT_READY && c->state != CLIENT_AUTHENTICATED))
		return -ENOTCONN;
	if (c->pending >= CLIENT_REQ_SLOTS - 1)
		return -EBUSY;
	do {
		id = ++c->next_req;
		slot = &c->reqs[id & (CLIENT_REQ_SLOTS - 1)];
	} while (id == 0 || slot->fn);
	m->req = id;
	r = conn_send(c->conn, m);
	if (r < 0)
		return r;
	slot->req = id;
	slot->fn = fn ? fn : client_noop_reply;
	slot->arg = arg;
	c->pending++;
	return 0;
}

int client_send(struct client *c, const struct msg *m)
{
	if (!c->conn || (c->state != CLIENT_READY && c->state != CLIENT_AUTHENTICATED))
		return -ENOTCONN;
	return conn_send(c->conn, m);
}

unsigned client_pending(const struct client *c)
{
	return c->pending;
}

static void client_reply(struct client *c, const struct msg *m)
{
	struct client_req *slot = &c->reqs[m->req & (CLIENT_REQ_SLOTS - 1)];
	client_reply_fn fn;
	void *arg;

	if (slot->req != m->req || !slot->fn) {
		log_debug("client: reply %s to unknown request %u", proto_type_name(m->type),
		          m->req);
		return;
	}
	fn = slot->fn;
	arg = slot->arg;
	if (client_reply_final(m)) {
		memset(slot, 0, sizeof(*slot));
		c->pending--;
	}
	if (m->type == MSG_TOKEN) {
		snprintf(c->user, sizeof(c->user), "%s", m->user);
		snprintf(c->token, sizeof(c->token), "%s", m->secret);
		c->server_flags = m->flags;
		client_set_state(c, CLIENT_AUTHENTICATED);
	}
	fn(c, m, arg);
}

/* The connection is gone: every request in flight ends without a reply. */
static void client_fail_pending(struct client *c)
{
	for (unsigned i = 0; i < CLIENT_REQ_SLOTS && c->pending; i++) {
		struct client_req r = c->reqs[i];

		if (!r.fn)
			continue;
		memset(&c->reqs[i], 0, sizeof(c->reqs[i]));
		c->pending--;
		r.fn(c, NULL, r.arg);
	}
	c->pending = 0;
}

/* Room listings, page by page (see client_room_pages). */

#define CLIENT_ROOM_PAGE 100 /* rooms asked for per page (the server's cap) */

struct client_rooms {
	struct msg m; /* the request, sent again with each page's cursor */
	client_room_fn on_room;
	client_rooms_done_fn on_done;
	void *arg;
	unsigned pages;
	int stop; /* on_room wants no more pages */
};

static void client_rooms_end(struct client *c, struct client_rooms *cr, int r,
                             const struct msg *err)
{
	client_rooms_done_fn done = cr->on_done;
	void *arg = cr->arg;

	free(cr);
	done(c, r, err, arg);
}

static void client_rooms_reply(struct client *c, const struct msg *m, void *arg)
{
	struct client_rooms *cr = arg;
	int r;

	if (!m) {
		client_rooms_end(c, cr, -ENOTCONN, NULL);
		return;
	}
	switch (m->type) {
	case MSG_ROOM_INFO:
		if (!cr->stop && cr->on_room(c, m, cr->arg) != 0)
			cr->stop = 1;
		return;
	case MSG_ERROR:
		client_rooms_end(c, cr, -EREMOTEIO, m);
		return;
	case MSG_OK:
		break;
	default:
		return;
	}
	if (m->id == 0 || cr->stop) {
		client_rooms_end(c, cr, 0, NULL);
		return;
	}
	/* Rooms are never deleted, so the cursor only grows. */
	if (m->id <= cr->m.ref || ++cr->pages >= CLIENT_ROOM_PAGES_MAX) {
		client_rooms_end(c, cr, -ELOOP, NULL);
		return;
	}
	cr->m.ref = m->id;
	if ((r = client_request(c, &cr->m, client_rooms_reply, cr)) < 0)
		client_rooms_end(c, cr, r, NULL);
}

int client_room_pages(struct client *c, uint32_t flags, client_room_fn on_room,
                      client_rooms_done_fn on_done, void *arg)
{
	struct client_rooms *cr = xcalloc(1, sizeof(*cr));
	int r;

	proto_msg_init(&cr->m, MSG_ROOM_LIST);
	cr->m.count = CLIENT_ROOM_PAGE;
	cr->m.flags = flags;
	cr->on_room = on_room;
	cr->on_done = on_done;
	cr->arg = arg;
	if ((r = client_request(c, &cr->m, client_rooms_reply, cr)) < 0)
		free(cr);
	return r;
}

/* Pings: a PING still unanswered when the next one is due means the path
 * to the server is dead even if TCP has not noticed. */

static void client_pong(struct client *c, const struct msg *m, void *arg)
{
	(void)m;
	(void)arg;
	c->ping_req = 0;
}

static void client_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct msg m;

	(void)fd;
	(void)what;
	if (!c->conn || (c->state != CLIENT_READY && c->state != CLIENT_AUTHENTICATED))
		return;
	if (c->ping_req) {
		log_debug("client: no PONG for %d s", CLIENT_PING_SECS);
		conn_close(c->conn, -ETIMEDOUT);
		return;
	}
	proto_msg_init(&m, MSG_PING);
	m.ts = (uint64_t)time(NULL) * 1000;
	if (client_request(c, &m, client_pong, NULL) == 0)
		c->ping_req = m.req;
}

/* Reconnection */

static void client_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_connect(arg);
}

static void client_schedule_retry(struct client *c)
{
	unsigned delay = c->backoff_ms - (unsigned)random() % (c->backoff_ms / 5 + 1);
	struct timeval tv = {delay / 1000, (delay % 1000) * 1000};

	client_set_state(c, CLIENT_RECONNECTING);
	if (c->stopping)
		return;
	log_debug("client: reconnecting in %u ms", delay);
	evtimer_add(c->retry_ev, &tv);
	c->backoff_ms *= 2;
	if (c->backoff_ms > CLIENT_BACKOFF_MAX_MS)
		c->backoff_ms = CLIENT_BACKOFF_MAX_MS;
}

/* "Connection refused" -> "connection refused": it follows a colon. */
static void client_lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
		s[0] = (char)(s[0] - 'A' + 'a');
}

/* "nexus ports HOST", with -P when the chat port is not the default. */
static const char *client_ports_hint(const struct client *c)
{
	static char buf[SETTINGS_HOST_MAX + 48];

	if (c->s->port == NEXUS_DEFAULT_CHAT_PORT)
		snprintf(buf, sizeof(buf), "nexus ports %s", c->s->server);
	else
		snprintf(buf, sizeof(buf), "nexus -P %u ports %s", c->s->port, c->s->server);
	return buf;
}

static void client_fail_connect(struct client *c, char *err)
{
	char *reason = strrchr(err, ':');

	reason = reason ? reason + 1 : err;
	while (*reason == ' ')
		reason++;
	client_lower_first(reason);
	if (strncmp(err, "cannot resolve", 14) == 0)
		client_fail(c, EXIT_NETWORK, "cannot resolve %s: %s", c->s->server, reason);
	else
		client_fail(c, EXIT_NETWORK, "cannot connect to %s: %s (is chatd running? try: %s)",
		            c->s->host_port, reason, client_ports_hint(c));
}

/* Why a connection ended, for messages. */
static const char *client_loss_reason(const struct client *c, int err, char *buf, size_t len)
{
	if (c->last_error)
		return out_clean_str(buf, len, proto_error_text(c->last_error));
	if (err == 0)
		return "closed by the server";
	if (err == -EPROTO)
		return "TLS handshake failed";
	snprintf(buf, len, "%s", strerror(-err));
	client_lower_first(buf);
	return buf;
}

const char *client_loss_text(const struct client *c)
{
	return c->last_error ? proto_error_text(c->last_error) : NULL;
}

static void client_conn_closed(struct conn *conn, int err, void *arg)
{
	struct client *c = arg;
	enum client_state old = c->state;
	char why[128];

	conn_free(conn);
	if (c->conn == conn)
		c->conn = NULL;
	evtimer_del(c->ping_ev);
	c->ping_req = 0;
	client_fail_pending(c);
	if (c->stopping)
		return;
	log_debug("client: connection closed in state %s (%d)", client_state_name(old), err);
	if (old == CLIENT_CONNECTING || old == CLIENT_HANDSHAKING) {
		if (c->prompted && !c->retried_prompt) {
			/* The server stopped waiting while the user read the prompt. */
			c->retried_prompt = 1;
			client_connect(c);
		} else if (c->welcomed && (c->flags & CLIENT_RECONNECT)) {
			client_schedule_retry(c);
		} else if (err == -EPROTO || err == -ECONNRESET) {
			client_fail(
			    c, EXIT_NETWORK,
			    "cannot connect to %s: TLS handshake failed (is it a Shadow Nexus "
			    "chat port? try: %s)",
			    c->s->host_port, client_ports_hint(c));
		} else {
			client_fail(c, EXIT_NETWORK, "cannot connect to %s: %s", c->s->host_port,
			            client_loss_reason(c, err, why, sizeof(why)));
		}
		return;
	}
	if (c->flags & CLIENT_RECONNECT) {
		client_schedule_retry(c);
		return;
	}
	client_fail(c, EXIT_NETWORK, "connection to %s lost: %s", c->s->host_port,
	            client_loss_reason(c, err, why, sizeof(why)));
}

static int client_load_token(struct client *c)
{
	char user[PROTO_NAME_MAX + 1], path[SETTINGS_PATH_MAX + 300];
	uint64_t expiry;
	int r = settings_token_load(c->s, user, c->token, &expiry);

	const char *cmd = settings_cmd_prefix(c->s);

	if (r == -ENOENT) {
		client_fail(c, EXIT_AUTH, "not logged in to %s; run: %s login", c->s->host_port,
		            cmd);
	} else if (r == -EBADMSG) {
		client_fail(c, EXIT_AUTH, "damaged login cache %s; run: %s login",
		            settings_token_path(c->s, path, sizeof(path)), cmd);
	} else if (r < 0) {
		client_fail(c, EXIT_ERROR, "cannot read %s: %s",
		            settings_token_path(c->s, path, sizeof(path)), strerror(-r));
	} else if (c->s->flag_user && strcmp(c->s->user, user) != 0) {
		client_fail(c, EXIT_AUTH, "logged in to %s as %s, not %s; run: %s login %s",
		            c->s->host_port, user, c->s->user, cmd, c->s->user);
		r = -EACCES;
	}
	return r;
}

static int client_send_hello(struct client *c)
{
	struct msg m;

	proto_msg_init(&m, MSG_HELLO);
	m.version = PROTO_VERSION;
	snprintf(m.name, sizeof(m.name), "%s", c->service ? c->service : "chat");
	snprintf(m.secret, sizeof(m.secret), "%s", c->token);
	snprintf(m.text, sizeof(m.text), "%s", NEXUS_CLIENT_NAME);
	return conn_send(c->conn, &m);
}

static int client_conn_connected(struct conn *conn, void *arg)
{
	struct client *c = arg;
	int r;

	r = conn_peer_fingerprint(conn, c->fp);
	if (r < 0) {
		client_fail(c, EXIT_CERT, "%s: cannot read the server certificate: %s",
		            c->s->host_port, strerror(-r));
		return r;
	}
	if (c->cbs.certificate)
		r = c->cbs.certificate(c, c->fp, c->arg);
	else
		r = trust_check(c, c->fp);
	if (r || c->stopping)
		return r ? r : 1;
	/* The token is read only now, so that a server that is down or
	 * unknown is reported first: it is the first problem on the path. */
	if ((c->flags & CLIENT_NEED_TOKEN) && !c->token[0] && client_load_token(c) < 0)
		return 1;
	r = client_send_hello(c);
	if (r < 0) {
		client_fail(c, EXIT_ERROR, "cannot send HELLO: %s", strerror(-r));
		return r;
	}
	client_set_state(c, CLIENT_HANDSHAKING);
	return 0;
}

static void client_on_welcome(struct client *c, const struct msg *m)
{
	struct timeval tv = {CLIENT_PING_SECS, 0};

	if (c->state != CLIENT_HANDSHAKING)
		return;
	c->welcomed = 1;
	c->backoff_ms = CLIENT_BACKOFF_MIN_MS;
	c->last_error = 0;
	snprintf(c->server_name, sizeof(c->server_name), "%s", m->name);
	snprintf(c->user, sizeof(c->user), "%s", m->user);
	c->server_flags = m->flags;
	c->max_text = m->size && m->size < PROTO_TEXT_MAX ? (uint32_t)m->size : PROTO_TEXT_MAX;
	c->server_frame = m->count;
	c->server_size = m->size;
	if ((c->flags & CLIENT_NEED_TOKEN) && !m->user[0]) {
		client_fail(c, EXIT_AUTH, "%s did not accept the saved login; run: %s login",
		            c->s->host_port, settings_cmd_prefix(c->s));
		return;
	}
	evtimer_add(c->ping_ev, &tv);
	client_set_state(c, m->user[0] ? CLIENT_AUTHENTICATED : CLIENT_READY);
	if (c->cbs.ready && !c->stopping)
		c->cbs.ready(c, c->arg);
}

static void client_on_error(struct client *c, const struct msg *m)
{
	if (c->state == CLIENT_HANDSHAKING) {
		/* A server on its way down or up again: worth another try. */
		if (c->welcomed && (c->flags & CLIENT_RECONNECT) &&
		    (m->code == ERR_SHUTDOWN || m->code == ERR_INTERNAL)) {
			c->last_error = m->code;
			return;
		}
		/* HELLO refused (version, token): the server closes next. */
		client_fail_msg(c, m, NULL);
		return;
	}
	if (m->req) {
		client_reply(c, m);
		return;
	}
	c->last_error = m->code;
	log_debug("client: server error %u: %s", m->code, m->text);
}

void client_conn_frame(struct conn *conn, const struct msg *m, void *arg)
{
	struct client *c = arg;

	(void)conn;
	if (c->stopping)
		return;
	switch (m->type) {
	case MSG_WELCOME:
		client_on_welcome(c, m);
		break;
	case MSG_ERROR:
		client_on_error(c, m);
		break;
	case MSG_CHAT:
		if (m->req)
			client_reply(c, m);
		else if (c->cbs.chat)
			c->cbs.chat(c, m, c->arg);
		break;
	case MSG_PRESENCE:
		if (m->req)
			client_reply(c, m);
		else if (c->cbs.presence)
			c->cbs.presence(c, m, c->arg);
		break;
	case MSG_EVENT:
		if (c->cbs.event)
			c->cbs.event(c, m, c->arg);
		break;
	case MSG_TYPING:
		if (c->cbs.typing)
			c->cbs.typing(c, m, c->arg);
		break;
	default:
		if (m->req)
			client_reply(c, m);
		else if (c->cbs.other)
			c->cbs.other(c, m, c->arg);
		else
			log_debug("client: unexpected %s", proto_type_name(m->type));
	}
}

static const struct conn_cbs client_conn_cbs = {
    .connected = client_conn_connected,
    .frame = client_conn_frame,
    .closed = client_conn_closed,
};

static void client_connect(struct client *c)
{
	struct conn_limits lim;
	char err[512];

	if (c->stopping)
		return;
	client_set_state(c, CLIENT_CONNECTING);
	c->last_error = 0;
	conn_limits_default(&lim);
	if (c->service_max_frame)
		lim.max_frame = c->service_max_frame;
	c->conn = conn_connect(c->base, c->tls, c->s->server,
	                       c->service_port ? c->service_port : c->s->port, &lim,
	                       &client_conn_cbs, c, err, sizeof(err));
	if (c->conn)
		return;
	if (c->service && !(c->welcomed && (c->flags & CLIENT_RECONNECT))) {
		client_fail(c, EXIT_NETWORK, "%s (is the %s service running? try: nexus ports %s)",
		            err, c->service, c->s->server);
		return;
	}
	if (c->welcomed && (c->flags & CLIENT_RECONNECT))
		client_schedule_retry(c);
	else
		client_fail_connect(c, err);
}

/* Life cycle */

static void client_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	client_done(arg, 0);
}

/* Told from the loop, never from inside a caller's call or another
 * callback: the done callback may free the client. */
static void client_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (c->cbs.done)
		c->cbs.done(c, c->status, c->arg);
}

static struct client *client_create(struct event_base *base, struct settings *s, unsigned flags,
                                    const struct client_cbs *cbs, void *arg)
{
	struct client *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->flags = flags;
	if (cbs)
		c->cbs = *cbs;
	c->arg = arg;
	c->backoff_ms = CLIENT_BACKOFF_MIN_MS;
	c->own_base = base == NULL;
	c->base = base ? base : event_base_new();
	if (!c->base)
		fatal("out of memory");
	c->ping_ev = event_new(c->base, -1, EV_PERSIST, client_ping_cb, c);
	c->retry_ev = evtimer_new(c->base, client_retry_cb, c);
	c->done_ev = c->own_base ? NULL : event_new(c->base, -1, 0, client_done_cb, c);
	if (!c->ping_ev || !c->retry_ev || (!c->own_base && !c->done_ev))
		fatal("out of memory");
	if (flags & CLIENT_SIGNALS) {
		c->sig_ev[0] = evsignal_new(c->base, SIGINT, client_signal_cb, c);
		c->sig_ev[1] = evsignal_new(c->base, SIGTERM, client_signal_cb, c);
		for (int i = 0; i < 2; i++)
			if (!c->sig_ev[i] || event_add(c->sig_ev[i], NULL) < 0)
				fatal("cannot set up signal handling");
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return c;
}

struct client *client_new(struct settings *s, unsigned flags, const struct client_cbs *cbs,
                          void *arg)
{
	return client_create(NULL, s, flags, cbs, arg);
}

struct client *client_new_on(struct event_base *base, struct settings *s, unsigned flags,
                             const struct client_cbs *cbs, void *arg)
{
	return client_create(base, s, flags, cbs, arg);
}

void client_free(struct client *c)
{
	if (!c)
		return;
	conn_free(c->conn);
	c->conn = NULL;
	c->stopping = 1;
	client_fail_pending(c);
	for (int i = 0; i < 2; i++)
		if (c->sig_ev[i])
			event_free(c->sig_ev[i]);
	event_free(c->ping_ev);
	event_free(c->retry_ev);
	if (c->done_ev)
		event_free(c->done_ev);
	if (c->own_base)
		event_base_free(c->base);
	tls_ctx_free(c->tls);
	explicit_bzero(c->token, sizeof(c->token));
	free(c);
}

/* TLS set-up and the first connection attempt. */
static void client_begin(struct client *c)
{
	char err[256];

	if (!c->stopping && !c->tls) {
		c->tls = tls_client_ctx(err, sizeof(err));
		if (!c->tls)
			client_fail(c, EXIT_ERROR, "TLS set-up failed: %s", err);
	}
	if (!c->stopping)
		client_connect(c);
}

int client_run(struct client *c)
{
	client_begin(c);
	if (!c->stopping)
		event_base_dispatch(c->base);
	if (!c->stopping)
		client_fail(c, EXIT_ERROR, "internal error: the event loop ended early");
	if (c->status && c->fail_text[0])
		out_err("%s", c->fail_text);
	return c->status;
}

void client_start(struct client *c)
{
	client_begin(c);
}

const char *client_fail_text(const struct client *c)
{
	return c->fail_text;
}

int client_main(struct settings *s, unsigned flags, const struct client_cbs *cbs, void *arg)
{
	struct client *c = client_new(s, flags, cbs, arg);
	int status = client_run(c);

	client_free(c);
	return status;
}

/* Accessors */

enum client_state client_state(const struct client *c)
{
	return c->state;
}

struct event_base *client_base(const struct client *c)
{
	return c->base;
}

struct settings *client_settings(const struct client *c)
{
	return c->s;
}

const char *client_user(const struct client *c)
{
	return c->user;
}

const char *client_server_name(const struct client *c)
{
	return c->server_name;
}

int client_is_admin(const struct client *c)
{
	return (c->server_flags & MF_ADMIN) != 0;
}

uint32_t client_max_text(const struct client *c)
{
	return c->max_text ? c->max_text : PROTO_TEXT_MAX;
}

const char *client_fingerprint(const struct client *c)
{
	return c->fp;
}

int client_may_prompt(const struct client *c)
{
	return (c->flags & CLIENT_PROMPT) && !c->welcomed && !c->prompted;
}

void client_note_prompted(struct client *c)
{
	c->prompted = 1;
}

void client_set_service(struct client *c, const char *service, uint16_t port, uint32_t max_frame)
{
	c->service = service;
	c->service_port = port;
	c->service_max_frame = max_frame;
}

uint32_t client_server_frame(const struct client *c)
{
	return c->server_frame;
}

uint64_t client_server_size(const struct client *c)
{
	return c->server_size;
}

int client_send_ref(struct client *c, const struct msg *m, client_ref_done_fn done, void *arg)
{
	if (!c->conn || (c->state != CLIENT_READY && c->state != CLIENT_AUTHENTICATED))
		return -ENOTCONN;
	return conn_send_ref(c->conn, m, done, arg);
}

size_t client_outq(const struct client *c)
{
	return c->conn ? conn_outq(c->conn) : 0;
}

static void client_drain_cb(struct conn *conn, void *arg)
{
	struct client *c = arg;

	(void)conn;
	if (c->drain_fn && !c->stopping)
		c->drain_fn(c, c->drain_arg);
}

void client_set_drain(struct client *c, client_drain_fn fn, void *arg, size_t low)
{
	c->drain_fn = fn;
	c->drain_arg = arg;
	if (c->conn)
		conn_set_drain_cb(c->conn, fn ? client_drain_cb : NULL, c, low);
}
