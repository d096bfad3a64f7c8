#include "conn.h"
#include "gate.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define CONN_FLUSH_SECS 2
/* A slow reader's queue is full when it is closed, and its ERROR frame comes
 * last: it keeps the connection while it takes bytes (no progress for
 * CONN_SLOW_FLUSH_SECS ends it), at most CONN_SLOW_FLUSH_MAX_SECS in all. */
#define CONN_SLOW_FLUSH_SECS 10
#define CONN_SLOW_FLUSH_MAX_SECS 60
#define CONN_CLOSE_DRAIN (256u * 1024u) /* bytes read and dropped at close */
#define CONN_CONNECT_MS 5000
#define CONN_MAX_SINGLE_IO (256u * 1024u)
#define CONN_CHAIN 16384               /* bytes: one TLS record's worth */
#define CONN_READ_AHEAD (256u * 1024u) /* bulk peers: bytes per socket read */

struct conn {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *close_ev; /* deferred close reporting */
	struct event *flush_ev; /* bound on flushing before close */
	struct event *idle_ev;  /* handshake and idle deadlines */
	uint64_t last_frame_ms;
	uint64_t created_ms;
	uint64_t flush_start_ms; /* closing: when the final flush began */
	size_t flush_left;       /* closing: queued bytes at the last check */
	int slow_flush;          /* closing: the slow reader's long flush */
	struct conn_limits lim;
	struct conn_cbs cbs;
	void *arg;
	void *data;
	conn_drain_fn drain_cb;
	void *drain_arg;
	int busy;      /* >0 while a callback of ours runs */
	int freed;     /* conn_free was called during a callback */
	int closing;   /* no more reads or sends */
	int reported;  /* closed callback delivered */
	int got_frame; /* first frame seen: idle timeout applies */
	int close_err;
	int read_ahead;    /* bulk peer: OpenSSL reads many records at once */
	size_t chain_left; /* room in the output's last chain, see conn_reserve */
	char peer[64];
};

/* One decode target for the whole process: we are single-threaded and a
 * message only lives for the duration of the frame callback. */
static struct msg conn_rx_msg;

void conn_limits_default(struct conn_limits *l)
{
	l->max_frame = PROTO_FRAME_MAX_DEFAULT;
	l->max_outq = 4u * 1024u * 1024u;
	l->handshake_secs = CONN_HANDSHAKE_SECS;
	l->idle_secs = 120;
	l->first_chain = 0;
}

/* close() with unread input makes the kernel send a reset and drop what it
 * has not yet sent, which would take the final ERROR frame with it: read
 * off what the peer sent meanwhile (a bounded amount) first. */
static void conn_drain_socket(evutil_socket_t fd)
{
	char buf[16384];
	size_t total = 0;
	ssize_t n;

	while (total < CONN_CLOSE_DRAIN && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

static void conn_release(struct conn *c)
{
	if (c->bev) {
		evutil_socket_t fd = bufferevent_getfd(c->bev);

		if (c->closing && fd >= 0)
			conn_drain_socket(fd);
		gate_leave(fd);
		bufferevent_free(c->bev);
	}
	if (c->close_ev)
		event_free(c->close_ev);
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->idle_ev)
		event_free(c->idle_ev);
	free(c);
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->busy) {
		c->freed = 1;
		c->closing = 1;
		c->reported = 1;
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	conn_release(c);
}

/* Leave a callback section; returns non-zero if c is gone. */
static int conn_leave(struct conn *c)
{
	if (--c->busy == 0 && c->freed) {
		conn_release(c);
		return 1;
	}
	return c->freed;
}

static void conn_report(struct conn *c)
{
	if (c->reported)
		return;
	c->reported = 1;
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->cbs.closed) {
		c->busy++;
		c->cbs.closed(c, c->close_err, c->arg);
		conn_leave(c);
	}
}

static void conn_close_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_report(arg);
}

/* Stop reading and hand over what is queued before reporting the close:
 * at once when nothing is queued, else when the queue is empty or the
 * flush deadline passes (see CONN_SLOW_FLUSH_SECS). */
static void conn_start_flush(struct conn *c)
{
	struct timeval tv = {CONN_FLUSH_SECS, 0};
	struct evbuffer *out = bufferevent_get_output(c->bev);

	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(out) == 0) {
		event_active(c->close_ev, EV_TIMEOUT, 0);
		return;
	}
	c->slow_flush = c->close_err == -ERR_SLOW_READER;
	if (c->slow_flush)
		tv.tv_sec = CONN_SLOW_FLUSH_SECS;
	c->flush_start_ms = clock_now_ms();
	c->flush_left = evbuffer_get_length(out);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	evtimer_add(c->flush_ev, &tv);
}

/* Report the close from the event loop, never from inside a caller's stack. */
static void conn_schedule_close(struct conn *c, int err)
{
	if (c->reported || c->closing)
		return;
	c->close_err = err;
	c->closing = 1;
	conn_start_flush(c);
}

static void conn_fail(struct conn *c, uint16_t code, const char *text);

static int conn_handle_frame(struct conn *c, struct evbuffer *in, uint32_t plen, uint16_t type,
                             uint16_t flags)
{
	size_t total = PROTO_HEADER_LEN + (size_t)plen;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)total);
	int r;

	if (!p)
		return -ENOMEM;
	r = proto_decode(type, flags, p + PROTO_HEADER_LEN, plen, &conn_rx_msg);
	if (r < 0) {
		conn_fail(c, (uint16_t)-r, NULL);
		return r;
	}
	c->got_frame = 1;
	c->last_frame_ms = clock_now_ms();
	if (c->cbs.frame)
		c->cbs.frame(c, &conn_rx_msg, c->arg);
	if (!c->freed)
		evbuffer_drain(in, total);
	return 0;
}

/* With read-ahead, OpenSSL may hold whole records that it read from the
 * socket with the one before; libevent only asks for more when the socket
 * is readable (it looks at SSL_pending, the rest of the current record),
 * so the last records of a burst would wait for the next one. When OpenSSL
 * holds more, we make the read event active ourselves. */
static void conn_read_more(struct conn *c)
{
	SSL *ssl;

	if (!c->read_ahead || c->closing || c->freed)
		return;
	ssl = bufferevent_openssl_get_ssl(c->bev);
	if (ssl && SSL_has_pending(ssl))
		event_active(&c->bev->ev_read, EV_READ, 1);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->busy++;
	while (!c->closing) {
		uint8_t hdr[PROTO_HEADER_LEN];
		uint32_t plen;
		uint16_t type, flags;

		if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
			break;
		if (proto_header_parse(hdr, c->lim.max_frame, &plen, &type, &flags) < 0) {
			conn_fail(c, ERR_TOO_LARGE, "frame exceeds the size limit");
			break;
		}
		if (evbuffer_get_length(in) < PROTO_HEADER_LEN + (size_t)plen)
			break;
		if (conn_handle_frame(c, in, plen, type, flags) < 0 || c->freed)
			break;
	}
	conn_read_more(c);
	conn_leave(c);
}

static void conn_flush_done(struct conn *c)
{
	if (c->closing && !c->reported && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_report(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing || !c->drain_cb) {
		conn_flush_done(c);
		return;
	}
	c->busy++;
	c->drain_cb(c, c->drain_arg);
	conn_leave(c);
}

static void conn_flush_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(c->bev));
	struct timeval tv = {CONN_SLOW_FLUSH_SECS, 0};

	(void)fd;
	(void)what;
	if (c->slow_flush && left < c->flush_left &&
	    clock_now_ms() - c->flush_start_ms < 1000ull * CONN_SLOW_FLUSH_MAX_SECS) {
		c->flush_left = left; /* the reader took bytes: give it more time */
		evtimer_add(c->flush_ev, &tv);
		return;
	}
	conn_report(c);
}

static int conn_ssl_error(struct bufferevent *bev)
{
	unsigned long e = bufferevent_get_openssl_error(bev);
	int r = e ? -EPROTO : -ECONNRESET;

	while (bufferevent_get_openssl_error(bev))
		;
	ERR_clear_error();
	if (!e && EVUTIL_SOCKET_ERROR())
		r = -EVUTIL_SOCKET_ERROR();
	return r;
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		int r = 0;
		if (c->cbs.connected) {
			c->busy++;
			r = c->cbs.connected(c, c->arg);
			if (conn_leave(c))
				return;
		}
		if (r)
			conn_schedule_close(c, r < 0 ? r : -ECONNABORTED);
		else
			conn_read_more(c); /* records read with the handshake's last */
		return;
	}
	if (what & BEV_EVENT_EOF)
		c->close_err = c->closing ? c->close_err : 0;
	else if (what & BEV_EVENT_TIMEOUT)
		c->close_err = -ETIMEDOUT;
	else if (what & BEV_EVENT_ERROR)
		c->close_err = c->closing && c->close_err ? c->close_err : conn_ssl_error(bev);
	conn_report(c);
}

/* Deadlines count whole frames, not bytes, so a peer that trickles a byte at
 * a time cannot hold a connection open: the handshake and first frame must
 * finish within handshake_secs, and then a frame must come every idle_secs. */
static void conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	unsigned secs =
	    c->got_frame || !c->lim.handshake_secs ? c->lim.idle_secs : c->lim.handshake_secs;
	uint64_t limit_ms = 1000ull * secs;
	uint64_t since = c->got_frame ? c->last_frame_ms : c->created_ms;
	uint64_t now = clock_now_ms();
	struct timeval tv;

	(void)fd;
	(void)what;
	if (limit_ms == 0)
		return;
	if (now - since >= limit_ms) {
		conn_schedule_close(c, -ETIMEDOUT);
		return;
	}
	tv.tv_sec = (time_t)((since + limit_ms - now) / 1000);
	tv.tv_usec = (suseconds_t)((since + limit_ms - now) % 1000 * 1000 + 1000);
	evtimer_add(c->idle_ev, &tv);
}

/* A peer whose frames may be larger than the default (filed and the file
 * client: data frames of 256 KiB and more) reads ahead: one socket read
 * takes up to CONN_READ_AHEAD bytes, many TLS records, where OpenSSL
 * otherwise reads each record's header and body with two system calls.
 * The read high-water mark lets libevent ask for a large piece at a time
 * (it asks for 4 KiB without one), so that OpenSSL hands over many
 * records per call. The mark stays above the largest frame, which must
 * fit in the input buffer to be decoded. Set before the handshake
 * allocates the read buffer. */
static void conn_set_read_ahead(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (!ssl || c->lim.max_frame <= PROTO_FRAME_MAX_DEFAULT)
		return;
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, CONN_READ_AHEAD);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	                         (size_t)c->lim.max_frame + PROTO_HEADER_LEN + CONN_MAX_SINGLE_IO);
	c->read_ahead = 1;
}

static struct conn *conn_new(struct event_base *base, struct bufferevent *bev,
                             const struct conn_limits *lim, const struct conn_cbs *cbs, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval hs;

	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->base = base;
	c->bev = bev;
	c->cbs = *cbs;
	c->arg = arg;
	if (lim)
		c->lim = *lim;
	else
		conn_limits_default(&c->lim);
	if (c->lim.max_frame > PROTO_FRAME_MAX_HARD)
		c->lim.max_frame = PROTO_FRAME_MAX_HARD;
	c->close_ev = event_new(base, -1, 0, conn_close_cb, c);
	c->flush_ev = evtimer_new(base, conn_flush_timeout_cb, c);
	c->idle_ev = evtimer_new(base, conn_idle_cb, c);
	if (!c->close_ev || !c->flush_ev || !c->idle_ev) {
		conn_release(c);
		return NULL;
	}
	/* libevent moves at most 16 KiB per read or write call by default:
	 * one TLS record per loop turn. Bulk streams (filed) want more. */
	bufferevent_set_max_single_read(bev, CONN_MAX_SINGLE_IO);
	bufferevent_set_max_single_write(bev, CONN_MAX_SINGLE_IO);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	SSL_set_options(bufferevent_openssl_get_ssl(bev), SSL_OP_IGNORE_UNEXPECTED_EOF);
	conn_set_read_ahead(c);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	c->created_ms = clock_now_ms();
	hs.tv_sec = c->lim.handshake_secs ? c->lim.handshake_secs : c->lim.idle_secs;
	hs.tv_usec = 0;
	if (hs.tv_sec)
		evtimer_add(c->idle_ev, &hs);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

static void conn_format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof(host));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, outlen, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

struct conn *conn_accept(struct event_base *base, SSL_CTX *ctx, int fd,
                         const struct conn_limits *lim, const struct conn_cbs *cbs, void *arg)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	int one = 1;

	if (!ssl) {
		gate_leave(fd);
		close(fd);
		return NULL;
	}
	evutil_make_socket_nonblocking(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		gate_leave(fd);
		close(fd);
		return NULL;
	}
	c = conn_new(base, bev, lim, cbs, arg);
	if (c && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_format_peer((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	return c;
}

/* Connect with a bound wait, trying every address the name resolves to. */
static int conn_dial(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char service[8];
	int r, last = ECONNREFUSED;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last = errno;
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, CONN_CONNECT_MS);
		if (r == 0)
			soerr = ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr == 0) {
			freeaddrinfo(res);
			return fd;
		}
		last = soerr;
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "cannot connect to %s:%u: %s", host, port, strerror(last));
	return -last;
}

struct conn *conn_connect(struct event_base *base, SSL_CTX *ctx, const char *host, uint16_t port,
                          const struct conn_limits *lim, const struct conn_cbs *cbs, void *arg,
                          char *err, size_t errlen)
{
	struct bufferevent *bev;
	struct in6_addr a6;
	struct conn *c;
	SSL *ssl;
	int fd, one = 1;

	fd = conn_dial(host, port, err, errlen);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	if (!ssl) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1 && inet_pton(AF_INET, host, &a6) != 1)
		SSL_set_tlsext_host_name(ssl, host);
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c = conn_new(base, bev, lim, cbs, arg);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
	return c;
}

/* Reserve len contiguous bytes at the end of the output queue. Frames go
 * into chains of at least CONN_CHAIN bytes: libevent's TLS layer encrypts
 * and writes one record per chain, so small chains would mean a record and
 * a system call per frame when a room fans out. chain_left remembers the
 * room left in the last chain; when it is stale, the reservation fixes it. */
static int conn_reserve(struct conn *c, size_t len, struct evbuffer_iovec *v)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool empty = evbuffer_get_length(out) == 0;
	size_t want = empty && c->lim.first_chain ? c->lim.first_chain : CONN_CHAIN;

	if (c->chain_left < len || empty)
		evbuffer_expand(out, len > want ? len : want);
	if (evbuffer_reserve_space(out, (ev_ssize_t)len, v, 1) < 1 || v->iov_len < len)
		return -ENOMEM;
	return 0;
}

static int conn_commit(struct conn *c, struct evbuffer_iovec *v, size_t used)
{
	c->chain_left = v->iov_len - used;
	v->iov_len = used;
	return evbuffer_commit_space(bufferevent_get_output(c->bev), v, 1) == 0 ? 0 : -ENOMEM;
}

/* Append one encoded frame of len bytes, ignoring the queue limit. */
static int conn_queue(struct conn *c, const struct msg *m, size_t len)
{
	struct evbuffer_iovec v;
	long n;

	if (conn_reserve(c, len, &v) < 0)
		return -ENOMEM;
	n = proto_encode(m, v.iov_base, v.iov_len);
	if (n < 0)
		return (int)n;
	return conn_commit(c, &v, (size_t)n);
}

/* The one frame allowed past the limit: a final ERROR saying why we close. */
static void conn_fail(struct conn *c, uint16_t code, const char *text)
{
	struct msg *m = malloc(sizeof(*m));
	size_t len;

	if (m && !c->closing) {
		proto_msg_init(m, MSG_ERROR);
		m->code = code;
		snprintf(m->text, sizeof(m->text), "%s", text ? text : proto_error_text(code));
		if (proto_encoded_len(m, &len) == 0)
			conn_queue(c, m, len);
	}
	free(m);
	conn_schedule_close(c, -(int)code);
}

int conn_send(struct conn *c, const struct msg *m)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len;
	int r;

	if (c->closing)
		return -ENOBUFS;
	r = proto_encoded_len(m, &len);
	if (r < 0)
		return r;
	if (evbuffer_get_length(out) + len > c->lim.max_outq) {
		conn_fail(c, ERR_SLOW_READER, NULL);
		return -ENOBUFS;
	}
	return conn_queue(c, m, len);
}

int conn_send_frame(struct conn *c, const uint8_t *frame, size_t len)
{
	struct evbuffer_iovec v;

	if (c->closing)
		return -ENOBUFS;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) + len > c->lim.max_outq) {
		conn_fail(c, ERR_SLOW_READER, NULL);
		return -ENOBUFS;
	}
	if (conn_reserve(c, len, &v) < 0)
		return -ENOMEM;
	memcpy(v.iov_base, frame, len);
	return conn_commit(c, &v, len);
}

int conn_send_ref(struct conn *c, const struct msg *m, conn_ref_done_fn done, void *arg)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t head[PROTO_HEADER_LEN + 64];
	size_t len;
	long n;
	int r;

	if (c->closing)
		return -ENOBUFS;
	r = proto_encoded_len(m, &len);
	if (r < 0)
		return r;
	n = proto_encode_head(m, head, sizeof(head));
	if (n < 0)
		return (int)n;
	if (evbuffer_get_length(out) + len > c->lim.max_outq) {
		conn_fail(c, ERR_SLOW_READER, NULL);
		return -ENOBUFS;
	}
	if (evbuffer_add(out, head, (size_t)n) < 0)
		return -ENOMEM;
	if (m->data_len == 0) {
		done(m->data, 0, arg);
		return 0;
	}
	/* The header is queued: a failure now would break the stream. */
	if (evbuffer_add_reference(out, m->data, m->data_len, done, arg) < 0) {
		conn_fail(c, ERR_INTERNAL, NULL);
		return -ENOMEM;
	}
	return 0;
}

int conn_send_error(struct conn *c, uint32_t req, uint16_t code, const char *text)
{
	struct msg *m = malloc(sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	proto_msg_init(m, MSG_ERROR);
	m->req = req;
	m->code = code;
	snprintf(m->text, sizeof(m->text), "%s", text ? text : proto_error_text(code));
	r = conn_send(c, m);
	free(m);
	return r;
}

size_t conn_outq(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void conn_set_drain_cb(struct conn *c, conn_drain_fn cb, void *arg, size_t low)
{
	c->drain_cb = cb;
	c->drain_arg = arg;
	if (!c->closing)
		bufferevent_setwatermark(c->bev, EV_WRITE, cb ? low : 0, 0);
}

void conn_close(struct conn *c, int err)
{
	struct timeval tv = {CONN_FLUSH_SECS, 0};

	/* A close on purpose (a kick, the daemon stopping) while a slow
	 * reader drains: the usual bound, so a stop never waits 60 s. */
	if (c->slow_flush && !c->reported) {
		c->slow_flush = 0;
		evtimer_add(c->flush_ev, &tv);
		return;
	}
	conn_schedule_close(c, err);
}

int conn_peer_fingerprint(struct conn *c, char out[TLS_FP_LEN])
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (!ssl)
		return -ENOTCONN;
	return tls_peer_fingerprint(ssl, out);
}

const char *conn_peer_name(const struct conn *c)
{
	return c->peer[0] ? c->peer : "?";
}

void conn_set_data(struct conn *c, void *data)
{
	c->data = data;
}

void *conn_data(const struct conn *c)
{
	return c->data;
}
