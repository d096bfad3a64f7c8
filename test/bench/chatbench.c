/* chatbench: room fan-out load generator behind `make bench`.
 *
 * One single-threaded libevent process opens N receivers (members of one
 * room / channel / pub-sub channel that only read) and S senders, then each
 * sender sends up to M messages as fast as a bounded window allows. Every
 * message text starts with "SENDER:SEQ:SEND_NS:" (CLOCK_MONOTONIC of this
 * process, taken when the message is queued on the sender's socket) and is
 * padded to --size bytes. A receiver records latency = now - SEND_NS per
 * copy. deliveries/s = copies received by the N receivers / (last receive -
 * first send).
 *
 * Window (the same rule for all three systems): a sender has at most
 * --window messages in flight, where a message stays in flight until every
 * receiver has it and, where the protocol has a per-message reply, the
 * server has answered it (chatd ACK, sent after the SQLite commit; Redis
 * PUBLISH's integer reply). IRC has no per-message reply, so there only the
 * receivers' side closes the window. The end-to-end rule also bounds every
 * server's per-client output queue, so no system drops a receiver for being
 * slow (ngircd kills clients whose write buffer passes 32 KiB).
 *
 * Senders are separate connections that are not room members for IRC
 * (channel without +n) and Redis; for chatd a sender is a second session of
 * the member benchrK (chatd requires membership to SAY), and chatd also
 * sends the sender session a copy; those copies are counted apart
 * ("echoes"), not in deliveries.
 *
 * Prints one line on stdout: "system senders deliveries/s p50_us p99_us",
 * details as "# " lines on stderr. Exit 0: measured; 3: ran but not every
 * message arrived (or a send was refused) before the drain timeout;
 * 1: could not run; 2: usage. */
#include "chatbench.h"

#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#define CONNECT_PARALLEL 8 /* setups in progress at once (ngircd listens with backlog 10) */
#define PAYLOAD_MAX 4096

static const char *mode_names[] = {"chatd", "ngircd", "redis"};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bench_fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->phase == BENCH_PHASE_DONE)
		return; /* only the first failure; teardown noise is not news */
	fprintf(stderr, "chatbench: %s: ", mode_names[b->o.mode]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	b->rc = 1;
	b->phase = BENCH_PHASE_DONE;
	event_base_loopbreak(b->base);
}

/* ---- latency histogram ---- */

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

/* Middle of the bucket's value range. */
static double hist_value(unsigned idx)
{
	unsigned shift;
	uint64_t low;

	if (idx < 2 * HIST_SUB)
		return idx;
	shift = idx / HIST_SUB - 1;
	low = (uint64_t)(idx % HIST_SUB + HIST_SUB) << shift;
	return (double)low + (double)(1ull << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

/* q-quantile in ns (nearest rank). */
static double hist_quantile(const struct hist *h, double q)
{
	uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;

	if (h->n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) /* the top bucket's middle may lie past the max */
			return hist_value(i) < (double)h->max ? hist_value(i) : (double)h->max;
	}
	return (double)h->max;
}

/* ---- payload ---- */

static size_t payload_build(char *buf, unsigned size, unsigned sender, uint32_t seq, uint64_t ts)
{
	int n = snprintf(buf, PAYLOAD_MAX, "%u:%u:%" PRIu64 ":", sender, seq, ts);

	if (n < 0)
		return 0;
	if ((unsigned)n < size) {
		memset(buf + n, 'x', size - (unsigned)n);
		n = (int)size;
	}
	buf[n] = '\0';
	return (size_t)n;
}

static const char *parse_u64(const char *p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == start || p >= end || *p != ':')
		return NULL;
	*ret = v;
	return p + 1;
}

static int payload_parse(const char *p, size_t len, uint64_t *sender, uint64_t *seq, uint64_t *ts)
{
	const char *end = p + len;

	if (!(p = parse_u64(p, end, sender)) || !(p = parse_u64(p, end, seq)) ||
	    !parse_u64(p, end, ts))
		return -1;
	return 0;
}

/* ---- the load shape ---- */

static int mode_send(struct peer *p, uint32_t seq, const char *text, size_t len);
static int mode_connect(struct peer *p);

static void bench_connect_more(struct bench *b)
{
	while (b->phase == BENCH_PHASE_RX && b->rx_started < b->o.receivers &&
	       b->rx_started - b->rx_ready < CONNECT_PARALLEL)
		if (mode_connect(&b->rx[b->rx_started++]) < 0)
			return;
	while (b->phase == BENCH_PHASE_TX && b->tx_started < b->o.senders &&
	       b->tx_started - b->tx_ready < CONNECT_PARALLEL)
		if (mode_connect(&b->tx[b->tx_started++]) < 0)
			return;
}

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of another process, from /proc/PID/stat; -1 if unknown. */
static double cpu_of(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after "(comm)": state is field 3, utime 14, stime 15 */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void bench_start(struct bench *b)
{
	b->phase = BENCH_PHASE_RUN;
	bench_note("setup: %u receivers and %u senders ready in %.1f s", b->o.receivers,
	           b->o.senders, (double)(bench_now_ns() - b->t_setup) / 1e9);
	b->cpu_client0 = cpu_self();
	b->cpu_server0 = cpu_of(b->o.server_pid);
	b->t_start = bench_now_ns();
	b->t_stop_send = b->t_start + (uint64_t)(b->o.duration * 1e9);
	b->t_last_rx = b->t_start;
	for (unsigned i = 0; i < b->o.senders && b->phase == BENCH_PHASE_RUN; i++)
		bench_pump(&b->tx[i]);
}

void bench_peer_ready(struct peer *p)
{
	struct bench *b = p->b;

	if (p->ready)
		return;
	p->ready = 1;
	if (!p->sender && ++b->rx_ready == b->o.receivers) {
		if (b->o.mode == BENCH_CHATD)
			chatd_after_setup(b);
		b->phase = BENCH_PHASE_TX;
	} else if (p->sender && ++b->tx_ready == b->o.senders) {
		bench_start(b);
		return;
	}
	bench_connect_more(b);
}

static void bench_finish(struct bench *b)
{
	b->cpu_client = cpu_self() - b->cpu_client0;
	if (b->cpu_server0 >= 0)
		b->cpu_server = cpu_of(b->o.server_pid) - b->cpu_server0;
	b->phase = BENCH_PHASE_DONE;
	event_base_loopbreak(b->base);
}

/* All senders stopped (count or time) and everything they sent arrived. */
static void bench_check_done(struct bench *b, uint64_t now)
{
	for (unsigned i = 0; i < b->o.senders; i++) {
		struct peer *p = &b->tx[i];

		if (p->done < p->sent || p->acked < p->sent)
			return;
		if (p->sent < b->o.messages && now < b->t_stop_send)
			return;
	}
	bench_finish(b);
}

void bench_pump(struct peer *p)
{
	struct bench *b = p->b;
	static char text[PAYLOAD_MAX + 1];
	uint64_t now = bench_now_ns();

	if (b->phase != BENCH_PHASE_RUN)
		return;
	while (p->sent < b->o.messages && now < b->t_stop_send && p->sent - p->done < b->o.window &&
	       p->sent - p->acked < b->o.window) {
		uint32_t seq = p->sent;
		size_t len = payload_build(text, b->o.size, p->idx, seq, now);

		p->count[seq] = 0;
		p->sent++;
		if (b->o.mode == BENCH_IRC)
			p->acked = p->sent;
		if (mode_send(p, seq, text, len) < 0) {
			bench_fail(b, "sender %u: cannot queue message %u", p->idx, seq);
			return;
		}
		now = bench_now_ns();
	}
	bench_check_done(b, now);
}

static void bench_advance(struct peer *p)
{
	struct bench *b = p->b;

	while (p->done < p->sent && p->count[p->done] >= b->o.receivers)
		p->done++;
	bench_pump(p);
}

void bench_deliver(struct bench *b, const char *text, size_t len, uint64_t now)
{
	uint64_t s, seq, ts;
	struct peer *p;

	if (b->phase != BENCH_PHASE_RUN)
		return;
	if (payload_parse(text, len, &s, &seq, &ts) < 0 || s >= b->o.senders ||
	    seq >= b->tx[s].sent || ts > now) {
		b->bad++;
		return;
	}
	p = &b->tx[s];
	hist_add(&b->hist, now - ts);
	b->deliveries++;
	b->t_last_rx = now;
	if (++p->count[seq] >= b->o.receivers && seq == p->done)
		bench_advance(p);
}

void bench_acked(struct peer *p, uint32_t seq, int ok)
{
	struct bench *b = p->b;

	if (b->phase != BENCH_PHASE_RUN || seq >= p->sent)
		return;
	p->acked++;
	if (!ok) {
		/* Refused: nobody will receive it; take it out of the window. */
		b->failed_sends++;
		p->count[seq] = (uint16_t)b->o.receivers;
		bench_advance(p);
		return;
	}
	bench_pump(p);
}

static void bench_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	uint64_t now = bench_now_ns();

	(void)fd;
	(void)what;
	if (b->phase < BENCH_PHASE_RUN && now - b->t_setup > (uint64_t)(b->o.setup_timeout * 1e9)) {
		bench_fail(b, "setup timed out after %.0f s (%u/%u receivers, %u/%u senders ready)",
		           b->o.setup_timeout, b->rx_ready, b->o.receivers, b->tx_ready,
		           b->o.senders);
		return;
	}
	if (b->phase != BENCH_PHASE_RUN || now < b->t_stop_send)
		return;
	bench_check_done(b, now);
	if (b->phase == BENCH_PHASE_RUN && now > b->t_stop_send + (uint64_t)(b->o.drain * 1e9)) {
		bench_note("WARNING: drain timeout: not every message reached every receiver");
		b->rc = 3;
		bench_finish(b);
	}
}

static int mode_connect(struct peer *p)
{
	return p->b->o.mode == BENCH_CHATD ? chatd_connect(p) : tcp_connect(p);
}

static int mode_send(struct peer *p, uint32_t seq, const char *text, size_t len)
{
	return p->b->o.mode == BENCH_CHATD ? chatd_send(p, seq, text, len) : tcp_send(p, text, len);
}

/* ---- report, options, main ---- */

static void bench_report(struct bench *b)
{
	double secs = (double)(b->t_last_rx - b->t_start) / 1e9;
	uint64_t sent = 0, done = 0;
	double rate;

	for (unsigned i = 0; i < b->o.senders; i++) {
		sent += b->tx[i].sent;
		done += b->tx[i].done;
	}
	rate = secs > 0 ? (double)b->deliveries / secs : 0;
	printf("%s %u %.0f %.1f %.1f\n", mode_names[b->o.mode], b->o.senders, rate,
	       hist_quantile(&b->hist, 0.50) / 1e3, hist_quantile(&b->hist, 0.99) / 1e3);
	fflush(stdout);
	bench_note("%s: %u receivers, %u senders, %u-byte messages, window %u per sender",
	           mode_names[b->o.mode], b->o.receivers, b->o.senders, b->o.size, b->o.window);
	bench_note("sent %" PRIu64 " messages (%.0f/s), %" PRIu64 " fully delivered, %" PRIu64
	           " deliveries of %" PRIu64 " expected in %.2f s",
	           sent, secs > 0 ? (double)sent / secs : 0, done, b->deliveries,
	           (sent - b->failed_sends) * b->o.receivers, secs);
	bench_note("latency us: p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f",
	           hist_quantile(&b->hist, 0.5) / 1e3, hist_quantile(&b->hist, 0.9) / 1e3,
	           hist_quantile(&b->hist, 0.99) / 1e3, hist_quantile(&b->hist, 0.999) / 1e3,
	           (double)b->hist.max / 1e3);
	if (b->cpu_server0 >= 0 && b->o.server_pid > 0)
		bench_note("cpu: server %.2f s (%.0f%% of one core), chatbench %.2f s (%.0f%%); "
		           "server us per delivery %.2f",
		           b->cpu_server, secs > 0 ? 100 * b->cpu_server / secs : 0, b->cpu_client,
		           secs > 0 ? 100 * b->cpu_client / secs : 0,
		           b->deliveries ? 1e6 * b->cpu_server / (double)b->deliveries : 0);
	if (b->failed_sends || b->bad || b->short_acks)
		bench_note("WARNING: %" PRIu64 " sends refused%s%s, %" PRIu64
		           " unparsable deliveries, %" PRIu64 " publishes short of receivers",
		           b->failed_sends, b->first_error[0] ? ": " : "", b->first_error, b->bad,
		           b->short_acks);
	if (b->echoes)
		bench_note("chatd also sent %" PRIu64 " copies to the senders' own sessions",
		           b->echoes);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: chatbench (--chatd|--irc|--redis) HOST:PORT [--receivers N] [--senders S]\n"
	    "       [--messages M] [--size BYTES] [--window W] [--duration SECS] [--drain SECS]\n"
	    "       [--setup-timeout SECS] [--tokens FILE] [--password PW] [--room NAME]\n"
	    "       [--server-pid PID]\n");
}

static int parse_target(struct bench_opts *o, enum bench_mode mode, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	size_t hl;

	o->mode = mode;
	if (!colon || colon == arg)
		return -1;
	hl = (size_t)(colon - arg);
	if (arg[0] == '[' && hl > 2 && arg[hl - 1] == ']') {
		arg++;
		hl -= 2;
	}
	if (hl >= sizeof(o->host))
		return -1;
	memcpy(o->host, arg, hl);
	o->host[hl] = '\0';
	o->port = (uint16_t)strtoul(colon + 1, NULL, 10);
	return o->port ? 0 : -1;
}

/* Options that take a value and only store it. */
enum opt_kind { OPT_UINT, OPT_DOUBLE, OPT_STR, OPT_INT };
static const struct {
	const char *name;
	enum opt_kind kind;
	size_t off;
} bench_value_opts[] = {
    {"receivers", OPT_UINT, offsetof(struct bench_opts, receivers)},
    {"senders", OPT_UINT, offsetof(struct bench_opts, senders)},
    {"messages", OPT_UINT, offsetof(struct bench_opts, messages)},
    {"size", OPT_UINT, offsetof(struct bench_opts, size)},
    {"window", OPT_UINT, offsetof(struct bench_opts, window)},
    {"duration", OPT_DOUBLE, offsetof(struct bench_opts, duration)},
    {"drain", OPT_DOUBLE, offsetof(struct bench_opts, drain)},
    {"setup-timeout", OPT_DOUBLE, offsetof(struct bench_opts, setup_timeout)},
    {"tokens", OPT_STR, offsetof(struct bench_opts, tokens)},
    {"password", OPT_STR, offsetof(struct bench_opts, password)},
    {"room", OPT_STR, offsetof(struct bench_opts, room)},
    {"server-pid", OPT_INT, offsetof(struct bench_opts, server_pid)},
};
#define N_VALUE_OPTS (sizeof(bench_value_opts) / sizeof(bench_value_opts[0]))

static void opt_store(struct bench_opts *o, size_t i, const char *arg)
{
	char *field = (char *)o + bench_value_opts[i].off;

	switch (bench_value_opts[i].kind) {
	case OPT_UINT:
		*(unsigned *)(void *)field = (unsigned)strtoul(arg, NULL, 10);
		break;
	case OPT_DOUBLE:
		*(double *)(void *)field = strtod(arg, NULL);
		break;
	case OPT_STR:
		*(const char **)(void *)field = arg;
		break;
	case OPT_INT:
		*(int *)(void *)field = atoi(arg);
		break;
	}
}

static int opts_valid(const struct bench_opts *o)
{
	return o->receivers >= 1 && o->receivers <= 60000 && o->senders >= 1 &&
	       o->senders <= 1000 && o->messages >= 1 && o->messages <= 10000000 && o->size >= 32 &&
	       o->size <= 400 && o->window >= 1 && o->duration > 0 &&
	       !(o->mode == BENCH_CHATD && o->senders > o->receivers);
}

static int parse_opts(struct bench_opts *o, int argc, char **argv)
{
	static const char *modes[] = {"chatd", "irc", "redis"};
	struct option lo[N_VALUE_OPTS + 5] = {{0}};
	int c, have = 0;

	for (size_t i = 0; i < 3; i++)
		lo[i] = (struct option){modes[i], required_argument, NULL, 'a' + (int)i};
	for (size_t i = 0; i < N_VALUE_OPTS; i++)
		lo[i + 3] = (struct option){bench_value_opts[i].name, required_argument, NULL,
		                            1000 + (int)i};
	lo[N_VALUE_OPTS + 3] = (struct option){"help", no_argument, NULL, 'h'};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c >= 'a' && c <= 'c')
			have += parse_target(o, (enum bench_mode)(c - 'a'), optarg) == 0;
		else if (c >= 1000 && c < 1000 + (int)N_VALUE_OPTS)
			opt_store(o, (size_t)(c - 1000), optarg);
		else
			return -1;
	}
	return have == 1 && optind == argc && opts_valid(o) ? 0 : -1;
}

static int bench_setup(struct bench *b)
{
	struct timeval tv = {0, 50000};

	b->rx = calloc(b->o.receivers, sizeof(*b->rx));
	b->tx = calloc(b->o.senders, sizeof(*b->tx));
	if (!b->rx || !b->tx)
		return -1;
	for (unsigned i = 0; i < b->o.receivers; i++)
		b->rx[i] = (struct peer){.b = b, .idx = i};
	for (unsigned i = 0; i < b->o.senders; i++) {
		b->tx[i] = (struct peer){.b = b, .idx = i, .sender = 1};
		if (!(b->tx[i].count = calloc(b->o.messages, sizeof(uint16_t))))
			return -1;
	}
	if (!(b->base = event_base_new()))
		return -1;
	if (!(b->tick = event_new(b->base, -1, EV_PERSIST, bench_tick_cb, b)))
		return -1;
	event_add(b->tick, &tv);
	if (b->o.mode == BENCH_CHATD ? chatd_init(b) < 0 : tcp_init(b) < 0)
		return -1;
	return 0;
}

static void bench_free(struct bench *b)
{
	if (b->o.mode == BENCH_CHATD)
		chatd_free(b);
	for (unsigned i = 0; b->rx && i < b->o.receivers; i++)
		if (b->rx[i].bev)
			bufferevent_free(b->rx[i].bev);
	for (unsigned i = 0; b->tx && i < b->o.senders; i++) {
		if (b->tx[i].bev)
			bufferevent_free(b->tx[i].bev);
		free(b->tx[i].count);
	}
	free(b->rx);
	free(b->tx);
	if (b->tick)
		event_free(b->tick);
	if (b->base)
		event_base_free(b->base);
}

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	int rc;

	b->o = (struct bench_opts){.receivers = 200,
	                           .senders = 1,
	                           .messages = 100000,
	                           .size = 100,
	                           .window = 100,
	                           .duration = 8,
	                           .drain = 20,
	                           .setup_timeout = 300,
	                           .password = "chatbench-password",
	                           .room = "bench"};
	if (parse_opts(&b->o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (bench_setup(b) < 0) {
		fprintf(stderr, "chatbench: setup failed\n");
		bench_free(b);
		return 1;
	}
	b->t_setup = bench_now_ns();
	bench_connect_more(b);
	if (b->phase != BENCH_PHASE_DONE)
		event_base_dispatch(b->base);
	if (b->rc != 1)
		bench_report(b);
	if (b->rc == 0 && (b->failed_sends || b->bad))
		b->rc = 3;
	rc = b->rc;
	bench_free(b);
	return rc;
}
