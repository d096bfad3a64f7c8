/* chatbench's chatd mode: libnexus conn (TLS 1.3) peers speaking the chat
 * protocol. Receiver i is user benchrI: HELLO with its cached token, or
 * REGISTER (LOGIN if it exists), then ROOM_CREATE (already exists is fine)
 * and JOIN. Sender k is a second session of benchrK (a member, as SAY
 * requires) that logs in with benchrK's token and only SAYs. Tokens are
 * cached in --tokens FILE so that only the first run pays for the Argon2
 * hashes of 200 registrations. The certificate is not pinned: loopback only. */
#include "chatbench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conn.h"
#include "proto.h"
#include "tls.h"

enum {
	REQ_REGISTER = 1,
	REQ_LOGIN = 2,
	REQ_CREATE = 3,
	REQ_JOIN = 4,
	REQ_SAY0 = 1000, /* SAY of message seq carries req REQ_SAY0 + seq */
};

struct chatd_state {
	SSL_CTX *ctx;
	struct conn_limits lim;
	char (*token)[PROTO_SECRET_MAX + 1]; /* per receiver index */
	int dirty;
};

/* One outgoing message buffer: we are single-threaded and conn_send encodes
 * it before returning. */
static struct msg chatd_out;

static const char *chatd_role(const struct peer *p)
{
	return p->sender ? "sender" : "receiver";
}

/* REGISTER or LOGIN as benchrI with the bench password. */
static void chatd_send_login(struct peer *p, uint16_t type, uint32_t req)
{
	proto_msg_init(&chatd_out, type);
	chatd_out.req = req;
	snprintf(chatd_out.user, sizeof(chatd_out.user), "benchr%u", p->idx);
	snprintf(chatd_out.secret, sizeof(chatd_out.secret), "%s", p->b->o.password);
	conn_send(p->conn, &chatd_out);
}

/* ROOM_CREATE or JOIN of the bench room. */
static void chatd_send_room(struct peer *p, uint16_t type, uint32_t req)
{
	proto_msg_init(&chatd_out, type);
	chatd_out.req = req;
	snprintf(chatd_out.room, sizeof(chatd_out.room), "%s", p->b->o.room);
	if (type == MSG_ROOM_CREATE)
		snprintf(chatd_out.text, sizeof(chatd_out.text), "chatbench");
	conn_send(p->conn, &chatd_out);
}

static int chatd_connected_cb(struct conn *c, void *arg)
{
	struct peer *p = arg;
	struct chatd_state *st = p->b->mode_data;

	p->conn = c;
	proto_msg_init(&chatd_out, MSG_HELLO);
	chatd_out.version = PROTO_VERSION;
	snprintf(chatd_out.name, sizeof(chatd_out.name), "chat");
	snprintf(chatd_out.secret, sizeof(chatd_out.secret), "%s", st->token[p->idx]);
	snprintf(chatd_out.text, sizeof(chatd_out.text), "chatbench");
	return conn_send(c, &chatd_out) < 0 ? -EIO : 0;
}

static void chatd_logged_in(struct peer *p)
{
	if (p->sender) {
		bench_peer_ready(p);
		return;
	}
	chatd_send_room(p, MSG_ROOM_CREATE, REQ_CREATE);
	chatd_send_room(p, MSG_JOIN, REQ_JOIN); /* count 0: no history wanted */
}

static void chatd_welcome(struct peer *p, const struct msg *m)
{
	struct bench *b = p->b;

	if (m->size && m->size < b->o.size) {
		bench_fail(b, "chatd max_text %llu is below --size %u", (unsigned long long)m->size,
		           b->o.size);
		return;
	}
	if (m->user[0]) {
		chatd_logged_in(p);
		return;
	}
	if (p->sender) {
		bench_fail(b, "sender %u: no token for benchr%u", p->idx, p->idx);
		return;
	}
	chatd_send_login(p, MSG_REGISTER, REQ_REGISTER);
}

static void chatd_error(struct peer *p, const struct msg *m)
{
	struct bench *b = p->b;

	if (m->req == REQ_REGISTER && m->code == ERR_EXISTS) {
		chatd_send_login(p, MSG_LOGIN, REQ_LOGIN);
		return;
	}
	if (m->req == REQ_CREATE)
		return; /* the room exists: fine */
	if (p->sender && m->req >= REQ_SAY0) {
		if (!b->first_error[0])
			snprintf(b->first_error, sizeof(b->first_error), "ERROR %u %.120s", m->code,
			         m->text);
		bench_acked(p, m->req - REQ_SAY0, 0);
		return;
	}
	bench_fail(b, "%s %u: chatd ERROR %u (%s) on request %u%s", chatd_role(p), p->idx, m->code,
	           m->text, m->req,
	           m->code == ERR_TOKEN_INVALID || m->code == ERR_TOKEN_EXPIRED
	               ? "; a --tokens file from another chatd? remove it"
	               : "");
}

static void chatd_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct peer *p = arg;
	struct bench *b = p->b;
	struct chatd_state *st = b->mode_data;

	(void)c;
	switch (m->type) {
	case MSG_CHAT:
		if (m->req != 0 || (m->flags & MF_HISTORY))
			break;
		if (p->sender)
			b->echoes += b->phase == BENCH_PHASE_RUN;
		else
			bench_deliver(b, m->text, strlen(m->text), bench_now_ns());
		break;
	case MSG_ACK:
		if (p->sender && m->req >= REQ_SAY0)
			bench_acked(p, m->req - REQ_SAY0, 1);
		break;
	case MSG_WELCOME:
		chatd_welcome(p, m);
		break;
	case MSG_TOKEN:
		if (!p->sender) {
			snprintf(st->token[p->idx], sizeof(st->token[p->idx]), "%s", m->secret);
			st->dirty = 1;
		}
		chatd_logged_in(p);
		break;
	case MSG_OK:
		if (m->req == REQ_JOIN && !p->sender)
			bench_peer_ready(p);
		break;
	case MSG_ERROR:
		chatd_error(p, m);
		break;
	default:
		break; /* ROOM_INFO, EVENT, PRESENCE, TYPING: not measured */
	}
}

static void chatd_closed_cb(struct conn *c, int err, void *arg)
{
	struct peer *p = arg;

	p->conn = NULL;
	conn_free(c);
	if (p->b->phase == BENCH_PHASE_DONE)
		return;
	if (err < 0 && -err < ERR_MAX_)
		bench_fail(p->b, "%s %u: connection closed: %s (%d)", chatd_role(p), p->idx,
		           proto_error_text((uint16_t)-err), err);
	else
		bench_fail(p->b, "%s %u: connection closed: %s", chatd_role(p), p->idx,
		           err ? strerror(-err) : "by the server");
}

int chatd_connect(struct peer *p)
{
	static const struct conn_cbs cbs = {chatd_connected_cb, chatd_frame_cb, chatd_closed_cb};
	struct bench *b = p->b;
	struct chatd_state *st = b->mode_data;
	char err[256];

	p->conn = conn_connect(b->base, st->ctx, b->o.host, b->o.port, &st->lim, &cbs, p, err,
	                       sizeof(err));
	if (!p->conn) {
		bench_fail(b, "%s", err);
		return -1;
	}
	return 0;
}

int chatd_send(struct peer *p, uint32_t seq, const char *text, size_t len)
{
	if (chatd_out.type != MSG_SAY) {
		proto_msg_init(&chatd_out, MSG_SAY);
		snprintf(chatd_out.room, sizeof(chatd_out.room), "%s", p->b->o.room);
	}
	chatd_out.req = REQ_SAY0 + seq;
	memcpy(chatd_out.text, text, len);
	chatd_out.text[len] = '\0';
	return conn_send(p->conn, &chatd_out);
}

static void chatd_tokens_load(struct bench *b, struct chatd_state *st)
{
	char line[512];
	FILE *f;

	if (!b->o.tokens || !(f = fopen(b->o.tokens, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned idx;
		char tok[PROTO_SECRET_MAX + 1];

		if (sscanf(line, "benchr%u %256s", &idx, tok) == 2 && idx < b->o.receivers)
			snprintf(st->token[idx], sizeof(st->token[idx]), "%s", tok);
	}
	fclose(f);
}

static void chatd_tokens_save(struct bench *b, struct chatd_state *st)
{
	char tmp[4096];
	FILE *f;

	if (!b->o.tokens || !st->dirty)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", b->o.tokens);
	if (!(f = fopen(tmp, "w"))) {
		bench_note("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	chmod(tmp, 0600);
	for (unsigned i = 0; i < b->o.receivers; i++)
		if (st->token[i][0])
			fprintf(f, "benchr%u %s\n", i, st->token[i]);
	if (fclose(f) != 0 || rename(tmp, b->o.tokens) != 0)
		bench_note("cannot write %s: %s", b->o.tokens, strerror(errno));
	st->dirty = 0;
}

void chatd_after_setup(struct bench *b)
{
	chatd_tokens_save(b, b->mode_data);
}

int chatd_init(struct bench *b)
{
	struct chatd_state *st = calloc(1, sizeof(*st));
	char err[256];

	if (!st)
		return -1;
	b->mode_data = st;
	st->token = calloc(b->o.receivers, sizeof(*st->token));
	if (!st->token)
		return -1;
	if (!(st->ctx = tls_client_ctx(err, sizeof(err)))) {
		fprintf(stderr, "chatbench: %s\n", err);
		return -1;
	}
	conn_limits_default(&st->lim);
	st->lim.max_outq = 64u << 20;
	st->lim.handshake_secs = 60;
	st->lim.idle_secs = 0;
	chatd_tokens_load(b, st);
	return 0;
}

void chatd_free(struct bench *b)
{
	struct chatd_state *st = b->mode_data;

	for (unsigned i = 0; b->rx && i < b->o.receivers; i++)
		conn_free(b->rx[i].conn);
	for (unsigned i = 0; b->tx && i < b->o.senders; i++)
		conn_free(b->tx[i].conn);
	if (!st)
		return;
	if (st->ctx)
		tls_ctx_free(st->ctx);
	free(st->token);
	free(st);
	b->mode_data = NULL;
}
