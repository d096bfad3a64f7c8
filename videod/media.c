/* media: the one UDP socket every participant's transport shares. Packets
 * are told apart by their first byte (RFC 7983): STUN 0-3, DTLS 20-63,
 * RTP/RTCP 128-191. STUN finds its participant by the ICE ufrag; the rest
 * only by a source address that passed an ICE check: anything else is
 * dropped. Publishers' RTP is decrypted once and re-encrypted per
 * subscriber. */
#include "videod.h"
#include "log.h"
#include "portuse.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>

#define ADDR_BUCKETS 1024
#define BATCH 32
#define OUT_BATCH 64
#define CAND_MAX 8
#define PLI_GAP_MS 300
#define REMB_CAMERA_BPS 1500000
#define REMB_SCREEN_BPS 2500000
#define SPEAKING_LEVEL 45 /* -dBov: louder than -45 dBov is speech */
#define SPEAKING_HOLD_MS 800

static int fd = -1;
static struct event *read_ev;
static uint16_t bound_port;
static char cands[CAND_MAX][INET6_ADDRSTRLEN];
static const char *cand_ptrs[CAND_MAX];
static int ncands;
static struct peer *by_addr[ADDR_BUCKETS];
static uint64_t n_rx, n_tx, n_drop;

static size_t addr_hash(const struct sockaddr_in6 *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *p = a->sin6_addr.s6_addr;

	for (int i = 0; i < 16; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ a->sin6_port) * 16777619u;
	return h & (ADDR_BUCKETS - 1);
}

static bool addr_eq(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

static struct peer *addr_find(const struct sockaddr_in6 *a)
{
	for (struct peer *p = by_addr[addr_hash(a)]; p; p = p->addr_next)
		if (addr_eq(&p->addr, a))
			return p;
	return NULL;
}

static void addr_remove(struct peer *p)
{
	struct peer **pp;

	if (!p->has_addr)
		return;
	for (pp = &by_addr[addr_hash(&p->addr)]; *pp; pp = &(*pp)->addr_next) {
		if (*pp == p) {
			*pp = p->addr_next;
			break;
		}
	}
	p->has_addr = false;
	p->addr_next = NULL;
}

static void addr_set(struct peer *p, const struct sockaddr_in6 *a)
{
	struct peer *other = addr_find(a);

	if (other == p)
		return;
	if (other) /* a stale participant behind the same port */
		addr_remove(other);
	addr_remove(p);
	p->addr = *a;
	p->has_addr = true;
	p->addr_next = by_addr[addr_hash(a)];
	by_addr[addr_hash(a)] = p;
}

/* Outgoing packets wait in a small queue while a batch of incoming ones is
 * handled, then leave in one sendmmsg(): per packet, the system call was
 * the largest cost after the crypto. Outside a batch (timers, DTLS) a
 * packet leaves at once. */
static struct {
	uint8_t buf[OUT_BATCH][VD_PKT_MAX + 256]; /* room for the SRTP trailer */
	struct sockaddr_in6 to[OUT_BATCH];
	size_t len[OUT_BATCH];
	int n;
	bool held;
} outq;

static void out_flush(void)
{
	struct mmsghdr msgs[OUT_BATCH];
	struct iovec iov[OUT_BATCH];
	int off = 0;

	for (int i = 0; i < outq.n; i++) {
		iov[i].iov_base = outq.buf[i];
		iov[i].iov_len = outq.len[i];
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &outq.to[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(outq.to[i]);
	}
	while (off < outq.n) {
		int r = sendmmsg(fd, msgs + off, (unsigned)(outq.n - off), 0);

		if (r > 0) {
			n_tx += (uint64_t)r;
			off += r;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			n_drop += (uint64_t)(outq.n - off); /* the socket is full: drop the rest */
			break;
		} else { /* this one cannot go (its address): drop it, go on */
			n_drop++;
			off++;
		}
	}
	outq.n = 0;
}

/* The buffer for the next outgoing packet; out_commit sends it. */
static uint8_t *out_slot(void)
{
	if (outq.n == OUT_BATCH)
		out_flush();
	return outq.buf[outq.n];
}

static void out_commit(const struct sockaddr_in6 *a, size_t len)
{
	outq.to[outq.n] = *a;
	outq.len[outq.n] = len;
	outq.n++;
	if (!outq.held)
		out_flush();
}

static void send_to(const struct sockaddr_in6 *a, const uint8_t *buf, size_t len)
{
	if (len > sizeof(outq.buf[0])) {
		n_drop++;
		return;
	}
	memcpy(out_slot(), buf, len);
	out_commit(a, len);
}

static void dtls_send_cb(void *arg, const uint8_t *buf, size_t len)
{
	struct peer *p = arg;

	if (p->has_addr)
		send_to(&p->addr, buf, len);
}

bool media_peer_ready(const struct peer *p)
{
	return p->srtp_out && p->has_addr;
}

int media_peer_start(struct peer *p)
{
	if (p->dtls)
		return 0;
	p->dtls = dtls_new(videod.dtls, true, dtls_send_cb, p);
	return p->dtls ? 0 : -ENOMEM;
}

void media_peer_free(struct peer *p)
{
	addr_remove(p);
	dtls_free(p->dtls);
	vsrtp_free(p->srtp_in);
	vsrtp_free(p->srtp_out);
	p->dtls = NULL;
	p->srtp_in = p->srtp_out = NULL;
}

static void send_rtcp(struct peer *p, uint8_t *buf, size_t len, size_t cap)
{
	if (!media_peer_ready(p) || vsrtp_protect_rtcp(p->srtp_out, buf, &len, cap) < 0)
		return;
	send_to(&p->addr, buf, len);
}

void media_request_keyframe(struct track *t)
{
	uint8_t buf[256]; /* room for the SRTCP trailer */
	uint64_t now = vd_now_ms();

	if (t->kind != SDP_VIDEO || !t->ssrc || now - t->last_pli_ms < PLI_GAP_MS)
		return;
	t->last_pli_ms = now;
	send_rtcp(t->owner, buf, rtcp_build_pli(buf, t->owner->rtcp_ssrc, t->ssrc), sizeof(buf));
}

void media_peer_tick(struct peer *p, bool second)
{
	uint8_t buf[256]; /* room for the SRTCP trailer */

	if (p->dtls && !dtls_done(p->dtls))
		dtls_tick(p->dtls);
	if (!second)
		return;
	for (int i = 0; i < p->ntracks; i++) {
		struct track *t = &p->tracks[i];

		if (t->kind == SDP_VIDEO && t->ssrc && t->subs)
			send_rtcp(p, buf,
			          rtcp_build_remb(buf, p->rtcp_ssrc, t->ssrc,
			                          strcmp(t->label, "screen") == 0
			                              ? REMB_SCREEN_BPS
			                              : REMB_CAMERA_BPS),
			          sizeof(buf));
	}
}

static void on_stun(const uint8_t *buf, size_t len, const struct sockaddr_in6 *from)
{
	struct stun_msg m;
	struct peer *p;
	char *colon;
	uint8_t out[128];
	int n;

	if (stun_parse(buf, len, &m) < 0 || m.type != 0x0001 || !m.fingerprint) {
		n_drop++;
		return;
	}
	colon = strchr(m.username, ':');
	if (!colon) {
		n_drop++;
		return;
	}
	*colon = '\0';
	p = room_peer_by_ufrag(m.username);
	if (!p || !p->dtls || strcmp(colon + 1, p->remote_ufrag) != 0 ||
	    stun_check_integrity(buf, len, &m, p->pwd) < 0) {
		n_drop++;
		return;
	}
	n = stun_build_response(out, sizeof(out), m.txid, (const struct sockaddr *)from, p->pwd);
	if (n > 0)
		send_to(from, out, (size_t)n);
	/* ICE-lite: the browser nominates; until then the latest checked
	 * address is as good as any. */
	if (m.use_candidate || !p->has_addr)
		addr_set(p, from);
	p->last_consent_ms = vd_now_ms();
}

static void dtls_finished(struct peer *p)
{
	struct srtp_keys k;
	char fp[160];

	if (dtls_peer_fingerprint(p->dtls, fp, sizeof(fp)) < 0 ||
	    strcasecmp(fp, p->remote_fp) != 0) {
		log_warn("%s (%s): DTLS certificate does not match the offer's fingerprint",
		         p->user, p->id);
		room_peer_leave(p, "bad certificate");
		return;
	}
	if (dtls_keys(p->dtls, &k) < 0) {
		room_peer_leave(p, "no SRTP profile");
		return;
	}
	p->profile = k.profile;
	p->srtp_in = vsrtp_new(k.profile, k.remote, k.len, false);
	p->srtp_out = vsrtp_new(k.profile, k.local, k.len, true);
	memset(&k, 0, sizeof(k));
	if (!p->srtp_in || !p->srtp_out) {
		room_peer_leave(p, "SRTP setup failed");
		return;
	}
	log_debug("%s (%s): media connected (%s)", p->user, p->id,
	          p->profile == SRTP_PROFILE_AEAD_GCM_128 ? "AEAD_AES_128_GCM"
	                                                  : "AES_CM_128_HMAC_SHA1_80");
	for (int i = 0; i < p->nsubs; i++)
		media_request_keyframe(p->subs[i].track);
	room_changed(p->room);
}

static void on_dtls(struct peer *p, const uint8_t *buf, size_t len)
{
	int r;

	if (!p->dtls) {
		n_drop++;
		return;
	}
	r = dtls_input(p->dtls, buf, len);
	if (r == 1)
		dtls_finished(p);
	else if (r == -ECONNRESET)
		room_peer_leave(p, "closed");
	else if (r < 0)
		n_drop++;
}

static struct track *track_by_ssrc(struct peer *p, uint32_t ssrc)
{
	for (int i = 0; i < p->ntracks; i++)
		if (p->tracks[i].ssrc == ssrc)
			return &p->tracks[i];
	return NULL;
}

static void speaking(struct peer *p, int level)
{
	uint64_t now = vd_now_ms();
	bool was = p->speaking;

	if (level >= 0 && level < SPEAKING_LEVEL && !p->muted)
		p->speaking_until_ms = now + SPEAKING_HOLD_MS;
	p->speaking = p->speaking_until_ms > now;
	if (p->speaking != was)
		room_changed(p->room);
}

static void on_rtp(struct peer *p, uint8_t *buf, size_t len)
{
	struct rtp_hdr h;
	struct track *t;

	if (vsrtp_unprotect(p->srtp_in, buf, &len) < 0 || rtp_parse(buf, len, 0, &h) < 0) {
		n_drop++;
		return;
	}
	t = track_by_ssrc(p, h.ssrc);
	if (!t || h.pt != t->codec.pt) {
		if (p->dropped++ < 5)
			log_debug("%s: dropped RTP ssrc %08x pt %u", p->id, h.ssrc, h.pt);
		n_drop++;
		return;
	}
	if (t->kind == SDP_AUDIO && t->ext_level && rtp_parse(buf, len, t->ext_level, &h) == 0)
		speaking(p, h.level);
	t->packets++;
	t->bytes += len;
	t->live = true;
	for (struct sub *s = t->subs; s; s = s->next) {
		size_t n = len;
		uint8_t *out;

		if (!media_peer_ready(s->peer))
			continue;
		out = out_slot();
		memcpy(out, buf, len);
		out[1] = (uint8_t)((out[1] & 0x80) | s->pt);
		if (vsrtp_protect(s->peer->srtp_out, out, &n, sizeof(outq.buf[0])) < 0)
			continue;
		s->packets++;
		out_commit(&s->peer->addr, n);
	}
}

/* A subscriber's feedback about a track goes to its publisher. */
static struct track *room_track_by_ssrc(struct room *r, uint32_t ssrc)
{
	for (struct peer *q = r->peers; q; q = q->next) {
		struct track *t = track_by_ssrc(q, ssrc);

		if (t)
			return t;
	}
	return NULL;
}

static void rtcp_item_cb(void *arg, enum rtcp_kind kind, uint32_t sender, uint32_t media,
                         const uint8_t *pkt, size_t len)
{
	static uint8_t out[VD_PKT_MAX + 256];
	struct peer *p = arg;
	struct track *t;

	if (len > VD_PKT_MAX)
		return;
	if (kind == RTCP_SR && (t = track_by_ssrc(p, sender))) {
		for (struct sub *s = t->subs; s; s = s->next) {
			memcpy(out, pkt, len);
			send_rtcp(s->peer, out, len, sizeof(out));
		}
		return;
	}
	if (kind != RTCP_PLI && kind != RTCP_FIR && kind != RTCP_NACK)
		return;
	t = room_track_by_ssrc(p->room, media);
	log_debug("%s: RTCP feedback %d for %08x (%s)", p->id, kind, media, t ? t->id : "unknown");
	if (!t || t->owner == p)
		return;
	if (kind == RTCP_NACK) {
		memcpy(out, pkt, len);
		send_rtcp(t->owner, out, len, sizeof(out));
	} else {
		media_request_keyframe(t);
	}
}

static void on_rtcp(struct peer *p, uint8_t *buf, size_t len)
{
	if (vsrtp_unprotect_rtcp(p->srtp_in, buf, &len) < 0 ||
	    rtcp_walk(buf, len, rtcp_item_cb, p) < 0)
		n_drop++;
}

static void on_packet(uint8_t *buf, size_t len, const struct sockaddr_in6 *from)
{
	struct peer *p;

	n_rx++;
	if (len == 0) {
		n_drop++;
		return;
	}
	if (buf[0] < 4) {
		on_stun(buf, len, from);
		return;
	}
	p = addr_find(from);
	if (!p) {
		n_drop++;
		return;
	}
	p->packets_in++;
	p->last_seen_ms = vd_now_ms();
	if (buf[0] >= 20 && buf[0] <= 63)
		on_dtls(p, buf, len);
	else if (buf[0] >= 128 && buf[0] <= 191 && p->srtp_in)
		(rtp_is_rtcp(buf, len) ? on_rtcp : on_rtp)(p, buf, len);
	else
		n_drop++;
}

static void read_cb(evutil_socket_t s, short what, void *arg)
{
	static uint8_t bufs[BATCH][VD_PKT_MAX];
	static struct sockaddr_in6 from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	(void)what;
	(void)arg;
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(s, msgs, BATCH, MSG_DONTWAIT, NULL);
	outq.held = true;
	for (int i = 0; i < n; i++) {
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC || from[i].sin6_family != AF_INET6) {
			n_drop++;
			continue;
		}
		on_packet(bufs[i], msgs[i].msg_len, &from[i]);
	}
	out_flush();
	outq.held = false;
}

static void cand_add(const char *ip)
{
	if (ncands >= CAND_MAX)
		return;
	for (int i = 0; i < ncands; i++)
		if (strcmp(cands[i], ip) == 0)
			return;
	str_copy(cands[ncands], sizeof(cands[0]), ip);
	cand_ptrs[ncands] = cands[ncands];
	ncands++;
}

/* Configured addresses, else every non-loopback IPv4 address, else
 * loopback. */
static void cand_setup(void)
{
	char list[CONFIG_STR_MAX], *save = NULL;
	struct ifaddrs *ifa = NULL;

	str_copy(list, sizeof(list), videod.cfg.announce);
	for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		cand_add(tok);
	if (ncands)
		return;
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			char ip[INET6_ADDRSTRLEN];

			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
				continue;
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
			          sizeof(ip));
			cand_add(ip);
		}
		freeifaddrs(ifa);
	}
	if (!ncands)
		cand_add("127.0.0.1");
}

int media_open(char *err, size_t errlen)
{
	struct sockaddr_in6 a;
	socklen_t alen = sizeof(a);
	int off = 0, big = 4 << 20;
	const char *bind_addr = videod.cfg.common.bind;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(videod.cfg.media_port);
	if (bind_addr[0] && strcmp(bind_addr, "::") != 0) {
		struct in_addr v4;

		if (inet_pton(AF_INET, bind_addr, &v4) == 1) {
			a.sin6_addr.s6_addr[10] = a.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&a.sin6_addr.s6_addr[12], &v4, 4);
		} else if (inet_pton(AF_INET6, bind_addr, &a.sin6_addr) != 1) {
			snprintf(err, errlen, "bind = %s: not an IP address", bind_addr);
			return -EINVAL;
		}
	}
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		snprintf(err, errlen, "cannot create the media socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		if (e == EADDRINUSE)
			portuse_explain(err, errlen, "videod", PORTUSE_UDP, bind_addr,
			                videod.cfg.media_port, "-m", "media_port");
		else
			snprintf(err, errlen, "cannot bind UDP port %u: %s", videod.cfg.media_port,
			         strerror(e));
		close(fd);
		fd = -1;
		return -e;
	}
	getsockname(fd, (struct sockaddr *)&a, &alen);
	bound_port = ntohs(a.sin6_port);
	read_ev = event_new(videod.base, fd, EV_READ | EV_PERSIST, read_cb, NULL);
	if (!read_ev || event_add(read_ev, NULL) < 0)
		fatal("out of memory");
	cand_setup();
	return 0;
}

void media_close(void)
{
	if (read_ev)
		event_free(read_ev);
	read_ev = NULL;
	if (fd >= 0)
		close(fd);
	fd = -1;
}

int media_candidates(const char **out, int max)
{
	int n = ncands < max ? ncands : max;

	memcpy(out, cand_ptrs, (size_t)n * sizeof(*out));
	return n;
}

uint16_t media_port(void)
{
	return bound_port;
}

void media_stats(uint64_t *rx, uint64_t *tx, uint64_t *drop)
{
	*rx = n_rx;
	*tx = n_tx;
	*drop = n_drop;
}
