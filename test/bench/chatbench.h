/* chatbench: private header shared by the load generator's files.
 * chatbench.c: options, the load shape, accounting, latency histogram,
 * report and main. chatbench_tcp.c: the IRC and Redis modes (plain
 * bufferevents). chatbench_chatd.c: the chatd mode (libnexus conn, TLS). */
#ifndef CHATBENCH_H
#define CHATBENCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct conn;

enum bench_mode { BENCH_CHATD, BENCH_IRC, BENCH_REDIS };

struct bench_opts {
	enum bench_mode mode;
	char host[256];
	uint16_t port;
	unsigned receivers;
	unsigned senders;
	unsigned messages; /* per sender, upper bound */
	unsigned size;     /* message text bytes */
	unsigned window;   /* per sender: sent but not yet acked and received by all */
	double duration;   /* seconds during which senders start new messages */
	double drain;      /* seconds allowed after that for the last deliveries */
	double setup_timeout;
	const char *tokens;   /* chatd: token cache file (user token lines) */
	const char *password; /* chatd: password of the bench users */
	const char *room;     /* chatd room / IRC channel (without #) / Redis channel */
	int server_pid;       /* for CPU accounting, 0 = none */
};

/* One connection: a receiver (room member that only reads) or a sender. */
struct peer {
	struct bench *b;
	unsigned idx;
	int sender;
	int ready;
	struct bufferevent *bev; /* irc, redis */
	struct conn *conn;       /* chatd */
	/* sender state: messages are numbered 0..sent-1 */
	uint32_t sent;
	uint32_t acked;  /* server acknowledged (chatd ACK, redis PUBLISH reply) */
	uint32_t done;   /* prefix of messages received by every receiver */
	uint16_t *count; /* receivers that got message seq */
	int login_step;  /* chatd */
};

/* Log-linear latency histogram: exact below 256 ns, then 128 sub-buckets
 * per power of two (relative error under 0.8%). */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

struct bench {
	struct bench_opts o;
	struct event_base *base;
	struct event *tick;
	struct peer *rx;
	struct peer *tx;
	unsigned rx_ready;
	unsigned tx_ready;
	unsigned rx_started; /* connections are opened a few at a time */
	unsigned tx_started;
	int phase; /* BENCH_PHASE_* */
	int rc;
	uint64_t t_setup;     /* ns, monotonic */
	uint64_t t_start;     /* first send */
	uint64_t t_stop_send; /* no new messages after this */
	uint64_t t_last_rx;   /* last delivery */
	uint64_t deliveries;
	uint64_t bad;          /* deliveries that did not parse */
	uint64_t failed_sends; /* server refused (chatd ERROR, redis -ERR) */
	uint64_t echoes;       /* copies delivered to sender sessions (chatd) */
	uint64_t short_acks;   /* redis: PUBLISH reached fewer than N subscribers */
	char first_error[160]; /* first refused send, for the report */
	struct hist hist;
	void *mode_data; /* chatd: SSL_CTX and the token table */
	double cpu_client0, cpu_server0, cpu_client, cpu_server;
};

enum { BENCH_PHASE_RX, BENCH_PHASE_TX, BENCH_PHASE_RUN, BENCH_PHASE_DONE };

/* chatbench.c, for the modes */
uint64_t bench_now_ns(void);
void bench_fail(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_peer_ready(struct peer *p);
void bench_deliver(struct bench *b, const char *text, size_t len, uint64_t now);
void bench_acked(struct peer *p, uint32_t seq, int ok);
/* Send what the window allows; finish the run when everything is in. */
void bench_pump(struct peer *p);

/* chatbench_tcp.c */
int tcp_init(struct bench *b);
int tcp_connect(struct peer *p);
int tcp_send(struct peer *p, const char *text, size_t len);

/* chatbench_chatd.c */
int chatd_init(struct bench *b);
int chatd_connect(struct peer *p);
int chatd_send(struct peer *p, uint32_t seq, const char *text, size_t len);
void chatd_after_setup(struct bench *b);
void chatd_free(struct bench *b);

#endif
