/* session: one connection. HELLO with a token (audiod has no anonymous
 * use), then VOICE_JOIN with a room pass; dispatch is a switch of short
 * cases. A client that sends too fast, too much or garbage is told why and
 * dropped; the room goes on. */
#include "audiod.h"
#include "conn.h"
#include "log.h"
#include "svc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

void session_accept(int fd, const char *peer)
{
	struct conn_limits lim = {
	    .max_frame = audiod.cfg.max_packet + 256,
	    .max_outq = audiod.cfg.max_outq,
	    .handshake_secs = SESSION_HANDSHAKE_SECS,
	    .idle_secs = audiod.cfg.idle_timeout,
	    /* a listener gets one small frame per tick: a 16 KiB chain for
	     * each (allocated and faulted in, 1,000 times a tick) cost more
	     * than the mix */
	    .first_chain = 2048,
	};
	struct member *m;

	if (audiod.stopping || audiod.nsessions >= audiod.cfg.max_sessions + SESSION_REFUSE_SLACK) {
		listener_refuse(fd);
		return;
	}
	/* Audio that waits is worth nothing: a small kernel buffer lets a
	 * stalled listener's backlog reach our queue soon, where frames are
	 * skipped (mixer.c) instead of piling up seconds of stale sound. */
	if (audiod.cfg.sndbuf) {
		int sz = (int)audiod.cfg.sndbuf;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	m = xcalloc(1, sizeof(*m));
	snprintf(m->addr, sizeof(m->addr), "%s", peer);
	m->refuse = audiod.nsessions >= audiod.cfg.max_sessions;
	/* ten seconds of burst: frames sent on time bunch up when the network
	 * or this very daemon stalled (a storm of TLS handshakes on a busy
	 * machine); the jitter buffer sheds what is too old, and 600 frames
	 * of at most max_packet bytes cost little */
	ratelimit_init(&m->frames, audiod.cfg.frame_rate, 10.0 * audiod.cfg.frame_rate,
	               clock_now_ms());
	m->conn = conn_accept(audiod.base, audiod.tls, fd, &lim, &session_cbs, m);
	if (!m->conn) {
		free(m);
		return;
	}
	m->next = audiod.members;
	if (audiod.members)
		audiod.members->prev = m;
	audiod.members = m;
	audiod.nsessions++;
}

int session_send(struct member *m, const struct msg *msg)
{
	if (m->state == MEMBER_CLOSING)
		return -EPIPE;
	return conn_send(m->conn, msg);
}

int session_send_frame(struct member *m, const uint8_t *frame, size_t len)
{
	if (m->state == MEMBER_CLOSING)
		return -EPIPE;
	return conn_send_frame(m->conn, frame, len);
}

void session_error(struct member *m, uint32_t req, uint16_t code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_send_error(m->conn, req, code, text);
}

void session_kick(struct member *m, uint16_t code, const char *text)
{
	if (m->state == MEMBER_CLOSING)
		return;
	conn_send_error(m->conn, 0, code, text);
	room_remove(m);
	m->state = MEMBER_CLOSING;
	conn_close(m->conn, -(int)code);
}

static void session_handle_hello(struct member *m, const struct msg *msg)
{
	struct msg w;
	int r;

	if (msg->type != MSG_HELLO) {
		session_kick(m, ERR_BAD_FRAME, "expected HELLO first");
		return;
	}
	if (m->refuse) {
		session_kick(m, ERR_QUOTA, "server full: too many connections; try again later");
		return;
	}
	if (msg->version != PROTO_VERSION) {
		session_kick(m, ERR_VERSION, "protocol version not supported (this server speaks 1)");
		return;
	}
	if (strcmp(msg->name, AUDIOD_SERVICE) != 0) {
		session_kick(m, ERR_WRONG_SERVICE, "this port is audiod, the voice service");
		return;
	}
	r = svc_token_verify(audiod.revoke, audiod.token_key, msg->secret, clock_wall_ms() / 1000,
	                     m->user, sizeof(m->user), NULL, &m->issued_ms);
	if (r < 0) {
		session_kick(m, r == -EKEYEXPIRED ? ERR_TOKEN_EXPIRED
		                : msg->secret[0]  ? ERR_TOKEN_INVALID
		                                  : ERR_AUTH_REQUIRED,
		             msg->secret[0] ? NULL : "log in first: voice needs a chatd token");
		return;
	}
	m->state = MEMBER_USER;
	proto_msg_init(&w, MSG_WELCOME);
	w.version = PROTO_VERSION;
	snprintf(w.name, sizeof(w.name), "%s", AUDIOD_VERSION);
	snprintf(w.user, sizeof(w.user), "%s", m->user);
	w.count = audiod.cfg.max_packet + 256;
	w.size = audiod.cfg.max_packet;
	w.ts = clock_wall_ms();
	session_send(m, &w);
	log_debug("%s@%s: hello", m->user, m->addr);
}

static void session_handle_audio(struct member *m, const struct msg *msg)
{
	int code;

	if (!m->room) {
		session_kick(m, ERR_INVALID, "audio before VOICE_JOIN");
		return;
	}
	if (!ratelimit_take(&m->frames, clock_now_ms(), 1)) {
		log_warn("dropping %s@%s: audio frames too fast", m->user, m->addr);
		session_kick(m, ERR_RATE_LIMITED, "audio frames too fast: one per 20 ms");
		return;
	}
	code = mixer_audio_in(m, msg);
	if (code == ERR_TOO_LARGE) {
		log_warn("dropping %s@%s: audio packet of %u bytes", m->user, m->addr,
		         msg->data_len);
		session_kick(m, ERR_TOO_LARGE, "audio packet empty or over the size limit");
	} else if (code) {
		log_warn("dropping %s@%s: not a 20 ms Opus frame", m->user, m->addr);
		session_kick(m, ERR_INVALID, "not a 20 ms 48 kHz Opus frame");
	}
}

static void session_handle_stats(struct member *m, const struct msg *msg)
{
	struct msg s;

	proto_msg_init(&s, MSG_VOICE_STATS);
	s.req = msg->req;
	mixer_stats_text(s.text, sizeof(s.text));
	session_send(m, &s);
	/* text "reset": start a new measurement (the benchmark's phases) */
	if (strcmp(msg->text, "reset") == 0)
		memset(&audiod.stats, 0, sizeof(audiod.stats));
}

/* A well-formed frame of a type audiod takes from no client (another
 * service's, or one only servers send): that request fails, the session
 * goes on. Unknown type numbers never get here: conn refuses them (fatal). */
static void session_unsupported(struct member *m, const struct msg *msg)
{
	char why[200];

	proto_unsupported_text(msg->type, AUDIOD_SERVICE, why, sizeof(why));
	session_error(m, msg->req, ERR_UNSUPPORTED, "%s", why);
}

static void session_dispatch(struct member *m, const struct msg *msg)
{
	struct msg p;

	switch (msg->type) {
	case MSG_AUDIO:
		session_handle_audio(m, msg);
		break;
	case MSG_PING:
		proto_msg_init(&p, MSG_PONG);
		p.req = msg->req;
		p.ts = msg->ts;
		session_send(m, &p);
		break;
	case MSG_VOICE_JOIN:
		room_handle_join(m, msg);
		break;
	case MSG_VOICE_LEAVE:
		room_handle_leave(m, msg);
		break;
	case MSG_VOICE_MUTE:
		room_handle_mute(m, msg);
		break;
	case MSG_VOICE_RECORD:
		room_handle_record(m, msg);
		break;
	case MSG_VOICE_STATS:
		session_handle_stats(m, msg);
		break;
	case MSG_HELLO:
		session_error(m, 0, ERR_INVALID, "HELLO was already received");
		break;
	default:
		session_unsupported(m, msg);
		break;
	}
}

static void session_frame_cb(struct conn *c, const struct msg *msg, void *arg)
{
	struct member *m = arg;

	(void)c;
	if (m->state == MEMBER_CLOSING)
		return;
	if (m->state == MEMBER_HELLO)
		session_handle_hello(m, msg);
	else
		session_dispatch(m, msg);
}

static void session_free(struct member *m)
{
	room_remove(m);
	if (m->prev)
		m->prev->next = m->next;
	else
		audiod.members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	audiod.nsessions--;
	conn_free(m->conn);
	free(m);
}

static void session_closed_cb(struct conn *c, int err, void *arg)
{
	struct member *m = arg;

	(void)c;
	if (err == -ERR_SLOW_READER)
		log_warn("dropping slow reader %s@%s", m->user, m->addr);
	else
		log_debug("%s@%s: closed (%d)", m->user, m->addr, err);
	session_free(m);
	if (audiod.stopping && audiod.nsessions == 0)
		event_base_loopexit(audiod.base, NULL);
}

void session_close_all(void)
{
	for (struct member *m = audiod.members; m; m = m->next)
		session_kick(m, ERR_SHUTDOWN, NULL);
	if (audiod.nsessions == 0)
		event_base_loopexit(audiod.base, NULL);
}

void session_free_all(void)
{
	while (audiod.members)
		session_free(audiod.members);
}
