/* videobench: load for videod, speaking its real protocol with videod's own
 * modules (stun.c, dtls.c as a DTLS client, srtp.c). P publishers each join
 * a room of their own and send a synthetic VP8 stream; S subscribers per
 * room receive it. Each peer is a real participant: HTTPS signalling, ICE
 * check, DTLS-SRTP handshake. Then for DURATION seconds publishers send
 * RATE packets/s of 1200 bytes; we count what subscribers receive (and
 * decrypt a sample) and read videod's CPU time from /proc. Beside it, the
 * ceiling: libsrtp2 protect+unprotect pairs per second on one core.
 *
 * usage: videobench HOST HTTPS_PORT MEDIA_PORT STATE_DIR USER VIDEOD_PID
 *                   PUBLISHERS SUBSCRIBERS RATE DURATION */
#include "videod.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define PKT 1200
#define MAXPEERS 1024
#define STREAM_BPS 1500000.0

struct videod videod;
static const char *host;
static uint16_t http_port, udp_port;
static char token[AUTH_TOKEN_MAX];
static SSL_CTX *dtls_ctx;
static char my_fp[128];

struct bpeer {
	char id[VD_ID_LEN + 1];
	char ufrag[9], pwd[25], srv_ufrag[64], srv_pwd[64];
	int fd;
	struct dtls *dtls;
	struct vsrtp *in, *out;
	uint32_t ssrc;
	char track[VD_TRACK_ID_MAX];
	uint64_t rx, ok;
	uint16_t seq;
};

static struct bpeer peers[MAXPEERS];
static int npeers;

uint64_t vd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void vd_random_hex(char *out, size_t nhex)
{
	for (size_t i = 0; i < nhex; i++)
		out[i] = "0123456789abcdef"[rand() & 15];
	out[nhex] = '\0';
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One HTTPS POST; the parsed JSON answer or NULL. */
static json_t *post(const char *path, json_t *body)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char ps[8], *b = json_dumps(body, JSON_COMPACT), *req = NULL, *buf = malloc(1 << 20);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	json_t *out = NULL;
	size_t len = 0;
	int fd = -1, n;

	json_decref(body);
	snprintf(ps, sizeof(ps), "%u", http_port);
	if (!b || !buf || !ctx || getaddrinfo(host, ps, &hints, &res) != 0)
		goto done;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		freeaddrinfo(res);
		goto done;
	}
	freeaddrinfo(res);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1 ||
	    asprintf(&req,
	             "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: "
	             "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	             path, token, strlen(b), b) < 0)
		goto done;
	SSL_write(ssl, req, (int)strlen(req));
	while ((n = SSL_read(ssl, buf + len, (int)((1 << 20) - 1 - len))) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (strstr(buf, "\r\n\r\n"))
		out = json_loads(strstr(buf, "\r\n\r\n") + 4, 0, NULL);
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "videobench: %s: %.200s\n", path, buf);
		json_decref(out);
		out = NULL;
	}
done:
	ERR_clear_error();
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	free(b);
	free(req);
	free(buf);
	return out;
}

static void attr(const char *sdp, const char *name, char *out, size_t size)
{
	const char *p = strstr(sdp, name);

	out[0] = '\0';
	if (p) {
		p += strlen(name);
		snprintf(out, size, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
}

static int peer_join(struct bpeer *p, const char *room, bool publish, const char *track)
{
	json_t *r = post("/api/join", json_pack("{s:s}", "room", room)), *o;
	char sdp[2048];

	if (!r)
		return -1;
	snprintf(p->id, sizeof(p->id), "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	vd_random_hex(p->ufrag, 8);
	vd_random_hex(p->pwd, 24);
	p->ssrc = (uint32_t)rand() | 1;
	snprintf(sdp, sizeof(sdp),
	         "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\n"
	         "a=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:0\r\n"
	         "a=%s\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=ssrc:%u cname:bench\r\n",
	         p->ufrag, p->pwd, my_fp, publish ? "sendonly" : "recvonly", p->ssrc);
	o = publish ? json_pack("{s:s, s:s, s:{s:s}}", "id", p->id, "sdp", sdp, "publish", "0",
	                        "camera")
	            : json_pack("{s:s, s:s, s:{s:s}}", "id", p->id, "sdp", sdp, "subscribe", "0",
	                        track);
	r = post("/api/offer", o);
	if (!r)
		return -1;
	attr(json_string_value(json_object_get(r, "sdp")), "a=ice-ufrag:", p->srv_ufrag,
	     sizeof(p->srv_ufrag));
	attr(json_string_value(json_object_get(r, "sdp")), "a=ice-pwd:", p->srv_pwd,
	     sizeof(p->srv_pwd));
	json_decref(r);
	snprintf(p->track, sizeof(p->track), "%s-camera-%08x", p->id, p->ssrc);
	return 0;
}

static void send_cb(void *arg, const uint8_t *buf, size_t len)
{
	struct bpeer *p = arg;

	send(p->fd, buf, len, 0);
}

static void stun_ping(struct bpeer *p)
{
	uint8_t txid[12], out[256];
	char user[160];
	int n;

	for (int i = 0; i < 12; i++)
		txid[i] = (uint8_t)rand();
	snprintf(user, sizeof(user), "%s:%s", p->srv_ufrag, p->ufrag);
	n = stun_build_request(out, sizeof(out), txid, user, p->srv_pwd);
	if (n > 0)
		send(p->fd, out, (size_t)n, 0);
}

static int peer_connect(struct bpeer *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(udp_port)};
	uint8_t buf[2048];
	struct srtp_keys k;
	double end = now_s() + 10;

	inet_pton(AF_INET, host, &a.sin_addr);
	int big = 1 << 20;

	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (p->fd >= 0)
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	stun_ping(p);
	p->dtls = dtls_new(dtls_ctx, false, send_cb, p);
	if (!p->dtls || dtls_start(p->dtls) < 0)
		return -1;
	while (!dtls_done(p->dtls) && now_s() < end) {
		struct pollfd pf = {p->fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0) {
			dtls_tick(p->dtls);
			continue;
		}
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n > 0 && buf[0] >= 20 && buf[0] <= 63 &&
		    dtls_input(p->dtls, buf, (size_t)n) < 0)
			return -1;
	}
	if (!dtls_done(p->dtls) || dtls_keys(p->dtls, &k) < 0)
		return -1;
	p->in = vsrtp_new(k.profile, k.remote, k.len, false);
	p->out = vsrtp_new(k.profile, k.local, k.len, true);
	return p->in && p->out ? k.profile : -1;
}

static void publish_one(struct bpeer *p, uint32_t ts)
{
	uint8_t b[PKT + 256];
	size_t len = PKT;

	memset(b, 0x5a, PKT);
	b[0] = 0x80;
	b[1] = 96 | (p->seq % 4 == 3 ? 0x80 : 0);
	b[2] = (uint8_t)(p->seq >> 8);
	b[3] = (uint8_t)p->seq;
	p->seq++;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(p->ssrc >> 24);
	b[9] = (uint8_t)(p->ssrc >> 16);
	b[10] = (uint8_t)(p->ssrc >> 8);
	b[11] = (uint8_t)p->ssrc;
	if (vsrtp_protect(p->out, b, &len, sizeof(b)) == 0)
		send(p->fd, b, len, 0);
}

static void drain(struct bpeer *p)
{
	static uint8_t b[2048];
	ssize_t n;

	while ((n = recv(p->fd, b, sizeof(b), 0)) > 0) {
		size_t len = (size_t)n;

		if (b[0] < 128 || rtp_is_rtcp(b, len))
			continue;
		/* Decrypt a sample: proof that the forwarding is real. */
		if (p->rx++ % 64 == 0 && vsrtp_unprotect(p->in, b, &len) == 0 && len == PKT)
			p->ok++;
	}
}

static double cpu_s(const char *pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The ceiling: protect + unprotect of one 1200-byte packet, per second. */
static double srtp_ceiling(int profile)
{
	uint8_t key[64], b[PKT + 256];
	struct vsrtp *tx, *rx;
	size_t klen = profile == SRTP_PROFILE_AEAD_GCM_128 ? 28 : 30;
	double t0 = now_s();
	uint64_t n = 0;

	memset(key, 7, sizeof(key));
	tx = vsrtp_new(profile, key, klen, true);
	rx = vsrtp_new(profile, key, klen, false);
	while (now_s() - t0 < 1.0) {
		for (int i = 0; i < 256; i++, n++) {
			size_t len = PKT;

			memset(b, 0, 12);
			b[0] = 0x80;
			b[1] = 96;
			b[2] = (uint8_t)(n >> 8);
			b[3] = (uint8_t)n;
			b[11] = 1;
			if (vsrtp_protect(tx, b, &len, sizeof(b)) < 0 ||
			    vsrtp_unprotect(rx, b, &len) < 0)
				return 0;
		}
	}
	vsrtp_free(tx);
	vsrtp_free(rx);
	return (double)n / (now_s() - t0);
}

static int setup(char **argv, int pubs, int subs)
{
	uint8_t key[AUTH_KEY_LEN];
	char path[600], err[256];
	int profile = -1;

	snprintf(path, sizeof(path), "%s/token.key", argv[4]);
	if (auth_key_load(path, false, key) < 0 ||
	    auth_token_issue(key, argv[5], (uint64_t)time(NULL) * 1000, (uint64_t)time(NULL) + 3600,
	                     token) < 0)
		return fprintf(stderr, "videobench: cannot read %s\n", path), -1;
	snprintf(path, sizeof(path), "%s/tls/cert.pem", argv[4]);
	char kpath[600];
	snprintf(kpath, sizeof(kpath), "%s/tls/key.pem", argv[4]);
	dtls_ctx = dtls_ctx_new(path, kpath, false, my_fp, sizeof(my_fp), err, sizeof(err));
	if (!dtls_ctx || vsrtp_init() < 0)
		return fprintf(stderr, "videobench: %s\n", err), -1;
	for (int i = 0; i < pubs; i++) {
		char room[32];
		struct bpeer *pub = &peers[npeers++];

		snprintf(room, sizeof(room), "bench-%d", i);
		if (peer_join(pub, room, true, NULL) < 0 || (profile = peer_connect(pub)) < 0)
			return fprintf(stderr, "videobench: publisher %d failed\n", i), -1;
		for (int k = 0; k < subs; k++) {
			struct bpeer *s = &peers[npeers++];

			if (peer_join(s, room, false, pub->track) < 0 || peer_connect(s) < 0)
				return fprintf(stderr, "videobench: subscriber %d/%d failed\n", i,
				               k),
				       -1;
		}
	}
	return profile;
}

static void run(int pubs, int subs, double rate, double duration, uint64_t *sent)
{
	struct pollfd pf[MAXPEERS];
	double t0 = now_s(), next_ping = t0 + 2;
	uint64_t due_total = 0;

	for (int i = 0; i < npeers; i++)
		pf[i] = (struct pollfd){peers[i].fd, POLLIN, 0};
	while (now_s() - t0 < duration) {
		double t = now_s();
		uint64_t due = (uint64_t)((t - t0) * rate);

		for (; due_total < due; due_total++)
			for (int i = 0; i < pubs; i++)
				publish_one(&peers[i * (subs + 1)], (uint32_t)(due_total * 3000));
		if (t > next_ping) {
			for (int i = 0; i < npeers; i++)
				stun_ping(&peers[i]);
			next_ping = t + 2;
		}
		if (poll(pf, (nfds_t)npeers, 1) > 0)
			for (int i = 0; i < npeers; i++)
				if (pf[i].revents & POLLIN)
					drain(&peers[i]);
	}
	*sent = due_total * (uint64_t)pubs;
	for (int k = 0; k < 50; k++) { /* what is still in flight */
		poll(pf, (nfds_t)npeers, 2);
		for (int i = 0; i < npeers; i++)
			drain(&peers[i]);
	}
}

int main(int argc, char **argv)
{
	int pubs, subs, profile;
	double rate, duration, c0, c1, t0, t1, gcm, cm;
	uint64_t sent = 0, rx = 0, ok = 0;

	if (argc != 11) {
		fprintf(stderr, "usage: videobench HOST HTTPS_PORT MEDIA_PORT STATE_DIR USER "
		                "VIDEOD_PID PUBLISHERS SUBSCRIBERS RATE DURATION\n");
		return 2;
	}
	log_init("videobench", 1, 0);
	host = argv[1];
	http_port = (uint16_t)atoi(argv[2]);
	udp_port = (uint16_t)atoi(argv[3]);
	pubs = atoi(argv[7]);
	subs = atoi(argv[8]);
	rate = atof(argv[9]);
	duration = atof(argv[10]);
	if (pubs < 1 || subs < 1 || pubs * (subs + 1) > MAXPEERS || rate <= 0 || duration <= 0)
		return fprintf(stderr, "videobench: bad numbers\n"), 2;
	srand((unsigned)getpid());
	profile = setup(argv, pubs, subs);
	if (profile < 0)
		return 1;
	c0 = cpu_s(argv[6]);
	t0 = now_s();
	run(pubs, subs, rate, duration, &sent);
	t1 = now_s();
	c1 = cpu_s(argv[6]);
	for (int i = 0; i < npeers; i++) {
		rx += peers[i].rx;
		ok += peers[i].ok;
	}
	gcm = srtp_ceiling(SRTP_PROFILE_AEAD_GCM_128);
	cm = srtp_ceiling(SRTP_PROFILE_CM_SHA1_80);
	{
		double fwd = (double)rx / (t1 - t0), cpu = (c1 - c0) / (t1 - t0);
		double per_core = cpu > 0 ? fwd / cpu : 0;
		double stream_pps = STREAM_BPS / 8 / PKT;
		double ceiling = profile == SRTP_PROFILE_AEAD_GCM_128 ? gcm : cm;

		printf("profile: %s\n", profile == SRTP_PROFILE_AEAD_GCM_128
		                            ? "AEAD_AES_128_GCM"
		                            : "AES_CM_128_HMAC_SHA1_80");
		printf("publishers %d x subscribers %d, %.0f packets/s each of %d bytes, %.1f s\n",
		       pubs, subs, rate, PKT, t1 - t0);
		printf("sent %llu, forwarded and received %llu (%.1f%% of %llu expected), sample "
		       "decrypted ok %llu/%llu\n",
		       (unsigned long long)sent, (unsigned long long)rx,
		       sent ? 100.0 * (double)rx / ((double)sent * subs) : 0,
		       (unsigned long long)(sent * (uint64_t)subs), (unsigned long long)ok,
		       (unsigned long long)(rx / 64));
		printf(
		    "videod CPU: %.2f cores; forwarded %.0f packets/s = %.0f packets/s per core\n",
		    cpu, fwd, per_core);
		printf("subscriber streams of 1.5 Mb/s (%.0f packets/s) per core: %.0f\n",
		       stream_pps, per_core / stream_pps);
		printf(
		    "libsrtp2 protect+unprotect ceiling, 1 core: GCM %.0f/s, CM-SHA1-80 %.0f/s\n",
		    gcm, cm);
		printf("forwarding per core / crypto ceiling: %.2f\n",
		       ceiling > 0 ? per_core / ceiling : 0);
	}
	return 0;
}
