/* chatbench's plain TCP modes: IRC (ngircd) and Redis pub/sub on
 * bufferevents. IRC receivers register (NICK/USER) and JOIN the channel;
 * senders become IRC operators and set user mode +F (ngircd's relaxed flood
 * protection) and PRIVMSG the channel without joining it (it has no +n).
 * Redis receivers SUBSCRIBE; senders PUBLISH and count the integer replies
 * as acknowledgements. */
#include "chatbench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define LINE_MAX_LEN 8192

static struct sockaddr_storage peer_addr;
static socklen_t peer_addrlen;

static void tcp_line_fail(struct peer *p, const char *what, const char *line, size_t len)
{
	bench_fail(p->b, "%s %u: %s: %.*s", p->sender ? "sender" : "receiver", p->idx, what,
	           (int)(len > 300 ? 300 : len), line);
}

static void tcp_write(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tcp_write(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(p->bev), fmt, ap);
	va_end(ap);
}

static int irc_is(const char *cmd, size_t clen, const char *word)
{
	return clen == strlen(word) && memcmp(cmd, word, clen) == 0;
}

static void irc_setup_line(struct peer *p, const char *cmd, size_t clen, const char *rest,
                           size_t rlen, const char *line, size_t len)
{
	if (irc_is(cmd, clen, "001")) {
		if (p->sender)
			tcp_write(p, "OPER bench benchpw\r\n");
		else
			tcp_write(p, "JOIN #%s\r\n", p->b->o.room);
	} else if (irc_is(cmd, clen, "366") && !p->sender) {
		bench_peer_ready(p);
	} else if (irc_is(cmd, clen, "381") && p->sender) {
		/* +F: ngircd's "relaxed flood protection" (oper only): 10 commands
		 * per read instead of 3 and no penalty time. */
		tcp_write(p, "MODE s%u +F\r\n", p->idx);
	} else if (irc_is(cmd, clen, "MODE") && p->sender && memmem(rest, rlen, "+F", 2)) {
		bench_peer_ready(p);
	} else if (irc_is(cmd, clen, "ERROR") || (clen == 3 && (cmd[0] == '4' || cmd[0] == '5'))) {
		tcp_line_fail(p, "server said", line, len);
	}
}

static void irc_line(struct peer *p, const char *line, size_t len, uint64_t now)
{
	const char *cmd = line, *end = line + len, *sp, *rest;
	size_t clen;

	if (len && line[0] == ':') {
		if (!(sp = memchr(line, ' ', len)))
			return;
		cmd = sp + 1;
	}
	sp = memchr(cmd, ' ', (size_t)(end - cmd));
	clen = (size_t)((sp ? sp : end) - cmd);
	rest = sp ? sp + 1 : end;
	if (irc_is(cmd, clen, "PRIVMSG")) {
		const char *text = memmem(rest, (size_t)(end - rest), " :", 2);

		if (text && !p->sender)
			bench_deliver(p->b, text + 2, (size_t)(end - text - 2), now);
		return;
	}
	if (irc_is(cmd, clen, "PING")) {
		tcp_write(p, "PONG %.*s\r\n", (int)(end - rest), rest);
		return;
	}
	irc_setup_line(p, cmd, clen, rest, (size_t)(end - rest), line, len);
}

static size_t irc_parse(struct peer *p, const char *buf, size_t len, uint64_t now)
{
	size_t used = 0;

	while (used < len && p->b->phase != BENCH_PHASE_DONE) {
		const char *line = buf + used, *nl = memchr(line, '\n', len - used);
		size_t l;

		if (!nl)
			break;
		l = (size_t)(nl - line);
		if (l && line[l - 1] == '\r')
			l--;
		irc_line(p, line, l, now);
		used += (size_t)(nl - line) + 1;
	}
	return used;
}

/* One RESP value: type, an integer, and up to 3 strings (array elements). */
struct resp {
	char type;
	long long num;
	unsigned n;
	const char *s[3];
	size_t l[3];
};

/* Returns bytes used by one element at p, 0 if incomplete, -1 if malformed. */
static long resp_elem(const char *p, size_t len, const char **ret_s, size_t *ret_l,
                      long long *ret_num)
{
	const char *nl = memchr(p, '\n', len);
	long long n;
	size_t hdr;

	if (!nl)
		return 0;
	hdr = (size_t)(nl - p) + 1;
	if (hdr < 3 || nl[-1] != '\r')
		return -1;
	n = strtoll(p + 1, NULL, 10);
	*ret_num = n;
	*ret_s = p + 1;
	*ret_l = hdr - 3;
	if (p[0] != '$')
		return (long)hdr;
	if (n < 0)
		return (long)hdr;
	if (len < hdr + (size_t)n + 2)
		return 0;
	*ret_s = p + hdr;
	*ret_l = (size_t)n;
	return (long)(hdr + (size_t)n + 2);
}

static long resp_parse(const char *p, size_t len, struct resp *r)
{
	const char *s;
	size_t l, used;
	long long k, num;
	long e;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return 0;
	r->type = p[0];
	e = resp_elem(p, len, &s, &l, &num);
	if (e <= 0 || p[0] != '*') {
		r->num = num;
		r->s[0] = s;
		r->l[0] = l;
		r->n = 1;
		return e;
	}
	used = (size_t)e;
	for (k = 0; k < num; k++) {
		long long inum;

		e = resp_elem(p + used, len - used, &s, &l, &inum);
		if (e <= 0)
			return e;
		if (r->n < 3) {
			r->s[r->n] = s;
			r->l[r->n++] = l;
		}
		used += (size_t)e;
	}
	return (long)used;
}

static void redis_value(struct peer *p, const struct resp *r, uint64_t now)
{
	struct bench *b = p->b;

	if (r->type == '*' && r->n == 3 && r->l[0] == 7 && memcmp(r->s[0], "message", 7) == 0) {
		if (!p->sender)
			bench_deliver(b, r->s[2], r->l[2], now);
	} else if (r->type == '*' && r->n >= 1 && r->l[0] == 9 &&
	           memcmp(r->s[0], "subscribe", 9) == 0) {
		bench_peer_ready(p);
	} else if (r->type == ':' && p->sender) {
		if ((unsigned long long)r->num < b->o.receivers)
			b->short_acks++;
		bench_acked(p, p->acked, 1);
	} else if (r->type == '+' && p->sender && !p->ready) {
		bench_peer_ready(p); /* PONG */
	} else if (r->type == '-') {
		tcp_line_fail(p, "server said", r->s[0], r->l[0]);
	}
}

static size_t redis_parse(struct peer *p, const char *buf, size_t len, uint64_t now)
{
	size_t used = 0;

	while (used < len && p->b->phase != BENCH_PHASE_DONE) {
		struct resp r;
		long e = resp_parse(buf + used, len - used, &r);

		if (e == 0)
			break;
		if (e < 0) {
			tcp_line_fail(p, "bad reply", buf + used, len - used);
			break;
		}
		redis_value(p, &r, now);
		used += (size_t)e;
	}
	return used;
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in), used;
	const char *buf = (const char *)evbuffer_pullup(in, -1);
	uint64_t now = bench_now_ns();

	if (!buf)
		return;
	if (p->b->o.mode == BENCH_IRC)
		used = irc_parse(p, buf, len, now);
	else
		used = redis_parse(p, buf, len, now);
	evbuffer_drain(in, used);
	if (evbuffer_get_length(in) > LINE_MAX_LEN && p->b->phase != BENCH_PHASE_DONE)
		bench_fail(p->b, "%s %u: reply longer than %d bytes",
		           p->sender ? "sender" : "receiver", p->idx, LINE_MAX_LEN);
}

static void tcp_hello(struct peer *p)
{
	struct bench *b = p->b;
	int one = 1;

	setsockopt(bufferevent_getfd(p->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (b->o.mode == BENCH_IRC) {
		char nick = p->sender ? 's' : 'r';

		tcp_write(p, "NICK %c%u\r\nUSER %c%u 0 * :chatbench\r\n", nick, p->idx, nick,
		          p->idx);
	} else if (p->sender) {
		tcp_write(p, "PING\r\n");
	} else {
		tcp_write(p, "SUBSCRIBE %s\r\n", b->o.room);
	}
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		tcp_hello(p);
		return;
	}
	if (p->b->phase == BENCH_PHASE_DONE)
		return;
	bench_fail(p->b, "%s %u: connection %s", p->sender ? "sender" : "receiver", p->idx,
	           (what & BEV_EVENT_EOF) ? "closed by the server"
	                                  : strerror(EVUTIL_SOCKET_ERROR()));
}

int tcp_connect(struct peer *p)
{
	struct bench *b = p->b;

	p->bev = bufferevent_socket_new(b->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!p->bev) {
		bench_fail(b, "out of memory");
		return -1;
	}
	bufferevent_setcb(p->bev, tcp_read_cb, NULL, tcp_event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&peer_addr, (int)peer_addrlen) <
	    0) {
		bench_fail(b, "cannot connect to %s:%u: %s", b->o.host, b->o.port, strerror(errno));
		return -1;
	}
	return 0;
}

int tcp_send(struct peer *p, const char *text, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);
	const char *room = p->b->o.room;

	if (p->b->o.mode == BENCH_IRC)
		return evbuffer_add_printf(out, "PRIVMSG #%s :%.*s\r\n", room, (int)len, text) < 0
		           ? -1
		           : 0;
	return evbuffer_add_printf(out, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%zu\r\n%.*s\r\n",
	                           strlen(room), room, len, (int)len, text) < 0
	           ? -1
	           : 0;
}

int tcp_init(struct bench *b)
{
	struct addrinfo hints = {0}, *res;
	char port[8];
	int r;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", b->o.port);
	if ((r = getaddrinfo(b->o.host, port, &hints, &res)) != 0) {
		fprintf(stderr, "chatbench: cannot resolve %s: %s\n", b->o.host, gai_strerror(r));
		return -1;
	}
	memcpy(&peer_addr, res->ai_addr, res->ai_addrlen);
	peer_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
