/* sdp: read the browser's offer (RFC 8866, JSEP, unified plan) into fixed
 * structures, and write our answer: BUNDLE on one transport, rtcp-mux,
 * ice-lite, setup:passive, one codec per m-line. Pure functions. */
#include "videod.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP_LINE_MAX 1024
#define LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool parse_u32(const char *s, char **end, uint32_t max, uint32_t *ret)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, end, 10);
	if (v > max)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static struct sdp_codec *codec_by_pt(struct sdp_media *m, uint32_t pt)
{
	for (int i = 0; i < m->ncodecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

static int parse_mline(struct sdp_offer *o, const char *v)
{
	struct sdp_media *m;
	char kind[16], proto[40], fmt[16];
	unsigned port;

	if (o->n >= SDP_MEDIA_MAX)
		return -E2BIG;
	if (sscanf(v, "%15s %u %39s %15s", kind, &port, proto, fmt) != 4 || port > 65535)
		return -EBADMSG;
	m = &o->m[o->n++];
	memset(m, 0, sizeof(*m));
	m->kind = strcmp(kind, "audio") == 0   ? SDP_AUDIO
	          : strcmp(kind, "video") == 0 ? SDP_VIDEO
	                                       : SDP_OTHER;
	m->port = (uint16_t)port;
	m->dir = SDP_SENDRECV;
	str_copy(m->kindname, sizeof(m->kindname), kind);
	str_copy(m->proto, sizeof(m->proto), proto);
	str_copy(m->fmt0, sizeof(m->fmt0), fmt);
	return 0;
}

static void parse_rtpmap(struct sdp_media *m, const char *v)
{
	struct sdp_codec *c;
	uint32_t pt, clock, ch = 0;
	char *end;
	const char *slash;
	size_t n;

	if (!parse_u32(v, &end, 127, &pt) || *end != ' ')
		return;
	v = end + 1;
	slash = strchr(v, '/');
	if (!slash || (size_t)(slash - v) >= SDP_CODEC_NAME_MAX)
		return;
	n = (size_t)(slash - v);
	if (!(n == 4 && strncasecmp(v, "opus", 4) == 0) &&
	    !(n == 3 && strncasecmp(v, "VP8", 3) == 0) &&
	    !(n == 4 && strncasecmp(v, "H264", 4) == 0))
		return;
	if (!parse_u32(slash + 1, &end, 200000, &clock))
		return;
	if (*end == '/' && !parse_u32(end + 1, &end, 8, &ch))
		return;
	if (m->ncodecs >= SDP_CODECS_MAX || codec_by_pt(m, pt))
		return;
	c = &m->codecs[m->ncodecs++];
	memset(c, 0, sizeof(*c));
	c->pt = (uint8_t)pt;
	memcpy(c->name, v, n);
	c->clock = clock;
	c->channels = (uint8_t)ch;
}

static void parse_fmtp(struct sdp_media *m, const char *v)
{
	struct sdp_codec *c;
	uint32_t pt;
	char *end;

	if (!parse_u32(v, &end, 127, &pt) || *end != ' ')
		return;
	c = codec_by_pt(m, pt);
	if (c)
		str_copy(c->fmtp, sizeof(c->fmtp), end + 1);
}

static void parse_media_attr(struct sdp_media *m, const char *a)
{
	uint32_t v;
	char *end;

	if (starts(a, "mid:"))
		str_copy(m->mid, sizeof(m->mid), a + 4);
	else if (strcmp(a, "sendrecv") == 0)
		m->dir = SDP_SENDRECV;
	else if (strcmp(a, "sendonly") == 0)
		m->dir = SDP_SENDONLY;
	else if (strcmp(a, "recvonly") == 0)
		m->dir = SDP_RECVONLY;
	else if (strcmp(a, "inactive") == 0)
		m->dir = SDP_INACTIVE;
	else if (strcmp(a, "rtcp-mux") == 0)
		m->rtcp_mux = true;
	else if (starts(a, "rtpmap:"))
		parse_rtpmap(m, a + 7);
	else if (starts(a, "fmtp:"))
		parse_fmtp(m, a + 5);
	else if (starts(a, "extmap:") && parse_u32(a + 7, &end, 14, &v) && v > 0 &&
	         strstr(end, LEVEL_URI))
		m->ext_level = (uint8_t)v;
	else if (starts(a, "ssrc-group:FID ") && parse_u32(a + 15, &end, UINT32_MAX, &v))
		m->ssrc = v;
	else if (starts(a, "ssrc:") && !m->ssrc && parse_u32(a + 5, &end, UINT32_MAX, &v))
		m->ssrc = v;
}

/* ICE and DTLS attributes, at session or media level: the first wins. */
static bool parse_transport_attr(struct sdp_offer *o, const char *a)
{
	if (starts(a, "ice-ufrag:")) {
		if (!o->ufrag[0])
			str_copy(o->ufrag, sizeof(o->ufrag), a + 10);
	} else if (starts(a, "ice-pwd:")) {
		if (!o->pwd[0])
			str_copy(o->pwd, sizeof(o->pwd), a + 8);
	} else if (starts(a, "fingerprint:sha-256 ")) {
		if (!o->fingerprint[0])
			str_copy(o->fingerprint, sizeof(o->fingerprint), a + 20);
	} else if (starts(a, "setup:")) {
		if (!o->setup[0])
			str_copy(o->setup, sizeof(o->setup), a + 6);
	} else {
		return false;
	}
	return true;
}

static int parse_line(struct sdp_offer *o, const char *line)
{
	if (starts(line, "m="))
		return parse_mline(o, line + 2);
	if (!starts(line, "a="))
		return 0;
	if (parse_transport_attr(o, line + 2))
		return 0;
	if (o->n > 0)
		parse_media_attr(&o->m[o->n - 1], line + 2);
	return 0;
}

int sdp_parse(const char *text, size_t len, struct sdp_offer *ret)
{
	char line[SDP_LINE_MAX];
	size_t i = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len < 2 || strncmp(text, "v=", 2) != 0)
		return -EBADMSG;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		if (n >= sizeof(line) || memchr(text + i, '\0', n))
			return -EBADMSG;
		memcpy(line, text + i, n);
		i += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		r = parse_line(ret, line);
		if (r < 0)
			return r;
	}
	if (ret->n == 0 || !ret->ufrag[0] || !ret->pwd[0] || !ret->fingerprint[0])
		return -EBADMSG;
	for (int k = 0; k < ret->n; k++)
		if (ret->m[k].port && !ret->m[k].mid[0])
			return -EBADMSG;
	return 0;
}

int sdp_pick_codec(const struct sdp_media *m)
{
	int h264 = -1;

	if (m->port == 0)
		return -1;
	for (int i = 0; i < m->ncodecs; i++) {
		const struct sdp_codec *c = &m->codecs[i];

		if (m->kind == SDP_AUDIO && strcasecmp(c->name, "opus") == 0 && c->clock == 48000)
			return i;
		if (m->kind == SDP_VIDEO && strcasecmp(c->name, "VP8") == 0 && c->clock == 90000)
			return i;
		if (m->kind == SDP_VIDEO && h264 < 0 && strcasecmp(c->name, "H264") == 0 &&
		    strstr(c->fmtp, "packetization-mode=1"))
			h264 = i;
	}
	return h264;
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static const char *dir_name(enum sdp_dir d)
{
	static const char *names[] = {"inactive", "sendonly", "recvonly", "sendrecv"};

	return names[d & 3];
}

static void put_codec(struct out *o, const struct sdp_media *m, const struct sdp_codec *c)
{
	if (c->channels)
		put(o, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
	else
		put(o, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
	if (m->kind == SDP_AUDIO) {
		put(o, "a=fmtp:%u minptime=10;useinbandfec=1\r\n", c->pt);
		return;
	}
	if (c->fmtp[0] && strcasecmp(c->name, "H264") == 0)
		put(o, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
	put(o, "a=rtcp-fb:%u goog-remb\r\na=rtcp-fb:%u nack\r\n", c->pt, c->pt);
	put(o, "a=rtcp-fb:%u nack pli\r\na=rtcp-fb:%u ccm fir\r\n", c->pt, c->pt);
}

static void put_media(struct out *o, const struct sdp_offer *off, const struct sdp_answer *a, int i)
{
	const struct sdp_media *m = &off->m[i];
	const struct sdp_answer_media *am = &a->m[i];
	const struct sdp_codec *c;

	if (am->codec < 0 || am->codec >= m->ncodecs || m->port == 0) {
		put(o, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kindname, m->proto, m->fmt0);
		if (m->mid[0])
			put(o, "a=mid:%s\r\n", m->mid);
		put(o, "a=inactive\r\n");
		return;
	}
	c = &m->codecs[am->codec];
	put(o, "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n",
	    m->kind == SDP_AUDIO ? "audio" : "video", c->pt);
	put(o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", a->ufrag, a->pwd);
	put(o, "a=fingerprint:sha-256 %s\r\na=setup:passive\r\na=mid:%s\r\n", a->fingerprint,
	    m->mid);
	if (m->kind == SDP_AUDIO && m->ext_level)
		put(o, "a=extmap:%u " LEVEL_URI "\r\n", m->ext_level);
	put(o, "a=%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", dir_name(am->dir));
	put_codec(o, m, c);
	if ((am->dir & SDP_SENDONLY) && am->ssrc) {
		put(o, "a=msid:%s %s\r\n", am->stream, am->track);
		put(o, "a=ssrc:%u cname:videod-%s\r\n", am->ssrc, am->stream);
		put(o, "a=ssrc:%u msid:%s %s\r\n", am->ssrc, am->stream, am->track);
	}
	for (int k = 0; k < a->ncandidates; k++)
		put(o, "a=candidate:%d 1 udp %u %s %u typ host\r\n", k + 1,
		    2130706431u - (unsigned)k, a->candidates[k], a->port);
	put(o, "a=end-of-candidates\r\n");
}

int sdp_answer_build(const struct sdp_offer *off, const struct sdp_answer *a, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};

	put(&o, "v=0\r\no=- %u 2 IN IP4 0.0.0.0\r\ns=videod\r\nt=0 0\r\n",
	    (unsigned)(vd_now_ms() & 0x7fffffff));
	put(&o, "a=group:BUNDLE");
	for (int i = 0; i < off->n; i++)
		if (a->m[i].codec >= 0 && off->m[i].port)
			put(&o, " %s", off->m[i].mid);
	put(&o, "\r\na=ice-lite\r\na=msid-semantic: WMS *\r\n");
	for (int i = 0; i < off->n; i++)
		put_media(&o, off, a, i);
	return o.full ? -ENOBUFS : (int)o.len;
}
