/* conn: one framed TLS peer on a libevent bufferevent (bufferevent_openssl).
 * Reads frames, decodes them (limits first) and hands each to a callback;
 * writes encoded frames into a bounded output queue; handshake and idle
 * timeouts; a clean close. Used by every daemon and by the client.
 * OpenSSL writes to the socket directly: programs must ignore SIGPIPE. */
#ifndef NEXUS_CONN_H
#define NEXUS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "tls.h"

struct event_base;
struct conn;

/* A peer that connects must finish its TLS handshake (and here its HELLO)
 * within this, in every daemon (videod's HTTPS too). */
#define CONN_HANDSHAKE_SECS 10

struct conn_limits {
	uint32_t max_frame;      /* largest payload accepted */
	size_t max_outq;         /* bytes queued for the peer before it is dropped */
	unsigned handshake_secs; /* TLS + HELLO must finish within (default
	                          * CONN_HANDSHAKE_SECS) */
	unsigned idle_secs;      /* no frame for this long closes; 0 = never */
	size_t first_chain;      /* bytes of the first output chain of an empty
	                          * queue; 0 = a full TLS record's worth. Small
	                          * suits a peer that gets one small frame per
	                          * turn (a voice listener); full chains suit bursts */
};

struct conn_cbs {
	/* TLS handshake done (client side: check the pin, then send HELLO).
	 * Return non-zero to close. May be NULL. */
	int (*connected)(struct conn *c, void *arg);
	/* One decoded frame. m and its data view live until the callback
	 * returns. The callback may call conn_close or conn_free on c. */
	void (*frame)(struct conn *c, const struct msg *m, void *arg);
	/* The connection is gone (err: 0 = peer closed, else negative errno or
	 * negated protocol error such as -ERR_SLOW_READER). conn_free(c) is the
	 * callback's job. */
	void (*closed)(struct conn *c, int err, void *arg);
};

void conn_limits_default(struct conn_limits *l);

/* Server side: wrap an accepted socket. Takes ownership of fd. */
struct conn *conn_accept(struct event_base *base, SSL_CTX *ctx, int fd,
                         const struct conn_limits *lim, const struct conn_cbs *cbs, void *arg);
/* Client side: resolve host (blocking getaddrinfo), connect, handshake.
 * Returns NULL with a sentence in err ("connection refused" etc.). */
struct conn *conn_connect(struct event_base *base, SSL_CTX *ctx, const char *host, uint16_t port,
                          const struct conn_limits *lim, const struct conn_cbs *cbs, void *arg,
                          char *err, size_t errlen);

/* Queue one message. Returns 0, -ENOBUFS when the output queue is over its
 * limit (the peer is then closed with ERR_SLOW_READER through the closed
 * callback, from the event loop), or -EINVAL if m cannot be encoded. */
int conn_send(struct conn *c, const struct msg *m);
/* Queue m, whose last field is data, without copying the data: the bytes
 * at m->data stay in use until done(data, len, arg) is called (once they
 * are sent or the connection is freed). Same limits and errors as
 * conn_send; on an error done is not called and the caller keeps the
 * bytes. */
typedef void (*conn_ref_done_fn)(const void *data, size_t len, void *arg);
int conn_send_ref(struct conn *c, const struct msg *m, conn_ref_done_fn done, void *arg);
/* Queue a frame already encoded with proto_encode (header included), for
 * fan-out: encode once, copy to every recipient. Same limit and returns as
 * conn_send. */
int conn_send_frame(struct conn *c, const uint8_t *frame, size_t len);
/* Send ERROR (req, code, text or the standard sentence when NULL). */
int conn_send_error(struct conn *c, uint32_t req, uint16_t code, const char *text);
/* Bytes waiting in the output queue. */
size_t conn_outq(const struct conn *c);
/* Streaming senders: call cb from the event loop each time a write leaves
 * the output queue at low bytes or fewer, so that the next chunk is produced
 * only as fast as the peer reads (the queue never needs to grow). The
 * callback only follows writes: fill the queue once yourself to start.
 * cb NULL turns it off. cb may send, close or free c. */
typedef void (*conn_drain_fn)(struct conn *c, void *arg);
void conn_set_drain_cb(struct conn *c, conn_drain_fn cb, void *arg, size_t low);

/* Flush what is queued (bounded by a short timeout), then close and report
 * through the closed callback with err. On a slow reader already being
 * dropped it cuts that flush to the same short timeout. */
void conn_close(struct conn *c, int err);
/* Close now without callbacks and release everything. NULL-safe. */
void conn_free(struct conn *c);

/* The peer's certificate fingerprint (client side, after connected). */
int conn_peer_fingerprint(struct conn *c, char out[TLS_FP_LEN]);
/* "ADDR:PORT" of the peer, for logs. */
const char *conn_peer_name(const struct conn *c);
/* Per-connection pointer for the owner. */
void conn_set_data(struct conn *c, void *data);
void *conn_data(const struct conn *c);

/* Listening sockets. conn_listen binds host:port (host NULL or "::" = all),
 * non-blocking, SO_REUSEADDR; returns the fd or a negative errno with a
 * sentence in err (for -EADDRINUSE, portuse_explain says more). */
int conn_listen(const char *host, uint16_t port, char *err, size_t errlen);

struct listener;
typedef void (*listener_cb)(int fd, const char *peer, void *arg);
/* Accepts on fd: a peer whose address holds gate_max() connections is
 * closed at once (common/gate.h); out of descriptors, accepting pauses
 * briefly. The fd given to cb is entered in the gate: conn_free leaves it,
 * and a cb that refuses the connection closes it with listener_refuse. */
struct listener *listener_new(struct event_base *base, int fd, listener_cb cb, void *arg);
void listener_refuse(int fd);
/* The same pause for a listener someone else accepts on (evhttp's); it
 * stays theirs to free, after listener_free. */
struct evconnlistener;
struct listener *listener_wrap(struct event_base *base, struct evconnlistener *evl);
void listener_free(struct listener *l);

#endif
