/* audio_bench: load for audiod. One voice room, TALKERS clients that each
 * send a 20 ms Opus frame every 20 ms (a synthetic voiced signal, different
 * per talker, loud enough to be mixed), and a growing number of listeners
 * that only read. For each listener count the tool measures, over a few
 * seconds, audiod's own tick statistics (VOICE_STATS: cost per tick, ticks
 * over 20 ms, timer overruns, frames skipped for slow readers) and the
 * frames every listener received against the 50 per second a real-time
 * stream delivers. A count is "served in real time" when no tick ran late,
 * none was missed, no frame was skipped and every listener got at least 98%
 * of its frames.
 *
 * It also measures the ceiling an Opus encoder sets: microseconds per 20 ms
 * encode at complexity 10 and at audiod's default, and so how many
 * participants a mixer that encodes once per participant (as Janus'
 * AudioBridge does) could serve on one core.
 *
 * Tokens and room passes are signed here with the server's token key (the
 * daemons verify them without a database), so no chatd is needed.
 *
 * usage: audio_bench PORT TOKEN_KEY [TALKERS] [SECONDS] [COUNT...] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <opus.h>

#include "auth.h"
#include "conn.h"
#include "log.h"
#include "proto.h"
#include "tls.h"

#define FRAME 960
#define LOOP_FRAMES 50 /* one second of each talker's signal, looped */
#define ROOM "bench"

struct peer {
	struct conn *conn;
	int index;
	int talker;
	int joined;
	uint64_t frames, seq;
	char user[PROTO_NAME_MAX + 1];
};

static struct event_base *base;
static SSL_CTX *ctx;
static uint8_t key[AUTH_KEY_LEN];
static uint16_t port;
static struct peer *peers;
static int npeers, joined, closed_peers;
static struct peer *stats_peer;
static char stats_text[PROTO_TEXT_MAX + 1];
static int stats_done;
static uint8_t pkts[8][LOOP_FRAMES][400];
static int pkt_len[8][LOOP_FRAMES];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A voiced, syllable-like signal: harmonics of a pitch that differs per
 * talker, under a 4 Hz envelope. */
static void make_signal(int talker, int16_t *pcm, int frame)
{
	double f0 = 110.0 + 35.0 * talker;

	for (int i = 0; i < FRAME; i++) {
		double t = (double)(frame * FRAME + i) / 48000.0, v = 0;
		for (int h = 1; h <= 8; h++)
			v += sin(2 * M_PI * f0 * h * t) / h;
		v *= 0.5 + 0.5 * sin(2 * M_PI * 4.0 * t + talker);
		pcm[i] = (int16_t)(v * 5000);
	}
}

static double encode_cost_us(int complexity, int talkers)
{
	int err, n = 0;
	OpusEncoder *e = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
	int16_t pcm[FRAME];
	uint8_t out[400];
	double t0;

	opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity));
	t0 = now_s();
	for (int r = 0; r < 4; r++)
		for (int f = 0; f < LOOP_FRAMES; f++, n++) {
			make_signal(f % (talkers ? talkers : 1), pcm, f);
			if (opus_encode(e, pcm, FRAME, out, sizeof(out)) < 0)
				fatal("opus_encode failed");
		}
	opus_encoder_destroy(e);
	return (now_s() - t0) * 1e6 / n;
}

static void encode_talkers(int talkers)
{
	int16_t pcm[FRAME];
	int err;

	for (int t = 0; t < talkers; t++) {
		OpusEncoder *e = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
		opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
		for (int f = 0; f < LOOP_FRAMES; f++) {
			make_signal(t, pcm, f);
			pkt_len[t][f] = opus_encode(e, pcm, FRAME, pkts[t][f], sizeof(pkts[t][f]));
			if (pkt_len[t][f] <= 0)
				fatal("opus_encode failed");
		}
		opus_encoder_destroy(e);
	}
}

static int peer_connected(struct conn *c, void *arg)
{
	struct peer *p = arg;
	struct msg m;

	proto_msg_init(&m, MSG_HELLO);
	m.version = PROTO_VERSION;
	snprintf(m.name, sizeof(m.name), "audio");
	snprintf(m.text, sizeof(m.text), "audio_bench");
	if (auth_token_issue(key, p->user, (uint64_t)time(NULL) * 1000, (uint64_t)time(NULL) + 3600,
	                     m.secret) < 0)
		fatal("cannot sign a token");
	return conn_send(c, &m) < 0;
}

static void peer_frame(struct conn *c, const struct msg *m, void *arg)
{
	struct peer *p = arg;
	struct msg j;

	switch (m->type) {
	case MSG_WELCOME:
		if (p == stats_peer)
			break;
		proto_msg_init(&j, MSG_VOICE_JOIN);
		j.req = 1;
		snprintf(j.room, sizeof(j.room), ROOM);
		j.flags = p->talker ? 0 : MF_LISTEN;
		if (auth_pass_issue(key, p->user, ROOM, false, (uint64_t)time(NULL) + 3600,
		                    j.secret) < 0)
			fatal("cannot sign a pass");
		conn_send(c, &j);
		break;
	case MSG_OK:
		if (m->req == 1 && !p->joined) {
			p->joined = 1;
			joined++;
		}
		break;
	case MSG_AUDIO:
		p->frames++;
		break;
	case MSG_VOICE_STATS:
		snprintf(stats_text, sizeof(stats_text), "%s", m->text);
		stats_done = 1;
		break;
	case MSG_ERROR:
		fprintf(stderr, "audio_bench: %s: error %u: %s\n", p->user, m->code, m->text);
		break;
	default:
		break;
	}
}

static void peer_closed(struct conn *c, int err, void *arg)
{
	struct peer *p = arg;

	(void)err;
	conn_free(c);
	p->conn = NULL;
	closed_peers++;
}

static const struct conn_cbs peer_cbs = {peer_connected, peer_frame, peer_closed};

static void peer_open(struct peer *p)
{
	struct conn_limits lim;
	char err[256];

	conn_limits_default(&lim);
	lim.idle_secs = 0;
	p->conn = conn_connect(base, ctx, "127.0.0.1", port, &lim, &peer_cbs, p, err, sizeof(err));
	if (!p->conn)
		fatal("connect: %s", err);
}

static void talk_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	struct msg m;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* a real-time sender that fell behind drops what is stale: ticks we
	 * missed only advance the sequence (the server conceals the gap) */
	for (int i = 0; n > 1 && i < npeers; i++)
		if (peers[i].talker)
			peers[i].seq += n - 1;
	for (int i = 0; i < npeers; i++) {
		struct peer *p = &peers[i];
		int t = p->talker - 1, f;
		if (!p->talker || !p->joined || !p->conn)
			continue;
		f = (int)(p->seq % LOOP_FRAMES);
		proto_msg_init(&m, MSG_AUDIO);
		m.id = ++p->seq;
		m.data = pkts[t][f];
		m.data_len = (uint32_t)pkt_len[t][f];
		conn_send(p->conn, &m);
	}
}

/* Run the loop for secs seconds. */
static void run_for(double secs)
{
	struct timeval tv = {(time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6)};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void stats_query(const char *text)
{
	struct msg m;

	stats_done = 0;
	proto_msg_init(&m, MSG_VOICE_STATS);
	m.req = 9;
	snprintf(m.text, sizeof(m.text), "%s", text);
	conn_send(stats_peer->conn, &m);
	for (int i = 0; i < 50 && !stats_done; i++)
		run_for(0.1);
}

static long stat_of(const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", name);
	p = strstr(stats_text, pat);
	if (!p && strncmp(stats_text, pat + 1, strlen(pat + 1)) == 0)
		p = stats_text - 1;
	return p ? atol(p + strlen(pat)) : -1;
}

int main(int argc, char **argv)
{
	int talkers = argc > 3 ? atoi(argv[3]) : 4;
	double secs = argc > 4 ? atof(argv[4]) : 5;
	static const int def_counts[] = {10, 100, 250, 500, 1000, 1500, 2000};
	int counts[32], ncounts = 0, tfd, best = -1;
	long cpu_first = -1, cpu_last = -1;
	char err[256];
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	struct event *tev;
	struct rlimit rl;
	double c10, c8;

	if (argc < 3) {
		fprintf(stderr,
		        "usage: audio_bench PORT TOKEN_KEY [TALKERS] [SECONDS] [COUNT...]\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[1]);
	if (talkers < 1 || talkers > 8)
		talkers = 4;
	for (int i = 5; i < argc && ncounts < 32; i++)
		counts[ncounts++] = atoi(argv[i]);
	if (!ncounts)
		for (size_t i = 0; i < sizeof(def_counts) / sizeof(def_counts[0]); i++)
			counts[ncounts++] = def_counts[i];
	log_init("audio_bench", 1, 0);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (auth_key_load(argv[2], false, key) < 0)
		fatal("cannot read the token key %s", argv[2]);

	c10 = encode_cost_us(10, talkers);
	c8 = encode_cost_us(8, talkers);
	printf("Opus encoder ceiling (one 20 ms mono frame, 32 kbit/s, this machine):\n"
	       "  complexity 10: %.0f us per encode -> a mixer with one encode per participant "
	       "tops out near %.0f participants per core\n"
	       "  complexity 8 (audiod's default): %.0f us per encode -> %.0f\n",
	       c10, 20000 / c10, c8, 20000 / c8);
	fflush(stdout);

	encode_talkers(talkers);
	base = event_base_new();
	ctx = tls_client_ctx(err, sizeof(err));
	if (!base || !ctx)
		fatal("setup: %s", err);
	peers = calloc((size_t)counts[ncounts - 1] + (size_t)talkers + 1, sizeof(*peers));
	if (!peers)
		fatal("out of memory");
	stats_peer = calloc(1, sizeof(*stats_peer));
	snprintf(stats_peer->user, sizeof(stats_peer->user), "benchstats");
	peer_open(stats_peer);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	timerfd_settime(tfd, 0, &its, NULL);
	tev = event_new(base, tfd, EV_READ | EV_PERSIST, talk_cb, NULL);
	event_add(tev, NULL);

	printf("\naudiod, one room, %d talkers, listeners only read; %.0f s per step\n", talkers,
	       secs);
	printf("  %9s %11s %11s %9s %9s %6s %6s %8s %10s %9s %s\n", "listeners", "wall_us/tick",
	       "cpu_us/tick", "p99_us", "max_us", "late", "missed", "skipped", "min_frames",
	       "bench_cpu", "real time");
	fflush(stdout);
	for (int k = 0; k < ncounts; k++) {
		int total = talkers + counts[k];
		uint64_t before_min = UINT64_MAX;
		double c0, t0;
		long late, missed, skipped;
		int rt;

		/* grow in place: the table is sized for the largest step, and
		 * the connections hold pointers into it */
		for (int i = npeers; i < total; i++) {
			peers[i].index = i;
			peers[i].talker = i < talkers ? i + 1 : 0;
			snprintf(peers[i].user, sizeof(peers[i].user), "%s%d",
			         i < talkers ? "talker" : "l", i);
			peer_open(&peers[i]);
			if ((i & 63) == 63) /* bound the handshakes in flight */
				run_for(0.05);
		}
		npeers = total;
		for (int i = 0; i < 100 && joined < total; i++)
			run_for(0.1);
		if (joined < total)
			printf("  (only %d of %d joined)\n", joined, total);
		run_for(1.0);
		stats_query("reset");
		for (int i = talkers; i < npeers; i++)
			peers[i].seq = peers[i].frames; /* a listener's seq: frames at the start */
		c0 = cpu_s();
		t0 = now_s();
		run_for(secs);
		stats_query("");
		for (int i = talkers; i < npeers; i++) {
			uint64_t got = peers[i].frames - peers[i].seq;
			if (got < before_min)
				before_min = got;
		}
		late = stat_of("late");
		missed = stat_of("missed");
		skipped = stat_of("skipped");
		rt = late == 0 && missed == 0 && skipped == 0 &&
		     (double)before_min >= 0.98 * 50 * (now_s() - t0) - 2;
		printf("  %9d %11ld %11ld %9ld %9ld %6ld %6ld %8ld %10llu %8.0f%% %s\n", counts[k],
		       stat_of("avg_us"), stat_of("cpu_us"), stat_of("p99_us"), stat_of("max_us"),
		       late, missed, skipped, (unsigned long long)before_min,
		       100 * (cpu_s() - c0) / (now_s() - t0), rt ? "yes" : "NO");
		fflush(stdout);
		if (rt)
			best = counts[k];
		if (k == 0)
			cpu_first = stat_of("cpu_us");
		cpu_last = stat_of("cpu_us");
		if (closed_peers)
			printf("  (%d connections closed by the server)\n", closed_peers);
	}
	printf("largest listener count served in real time with %d talkers: %d\n", talkers, best);
	if (ncounts > 1 && cpu_last > cpu_first && counts[ncounts - 1] > counts[0]) {
		/* CPU time does not count the time other programs took the core:
		 * the capacity of an idle core, keeping 20% of each tick spare */
		double per = (double)(cpu_last - cpu_first) / (counts[ncounts - 1] - counts[0]);
		double fixed = (double)cpu_first - per * counts[0];
		printf("by CPU time: %.1f us per listener per tick, %.0f us fixed (the %d talkers' "
		       "decodes and %d encodes): an idle core serves about %.0f listeners\n",
		       per, fixed, talkers, talkers + 1, (16000.0 - fixed) / per);
	}
	event_free(tev);
	close(tfd);
	return 0;
}
