/* rtp: RTP headers (RFC 3550) with the one-byte header extension (RFC 8285)
 * for the audio level (RFC 6464), compound RTCP walking, and the feedback
 * packets we originate (PLI, RFC 4585; REMB). Pure functions. */
#include "videod.h"

#include <errno.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 5761: RTCP packet types 192..223 fall where RTP's marker and
 * payload type would be 64..95, which we never negotiate. */
bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	return len >= 8 && (buf[0] >> 6) == 2 && buf[1] >= 192 && buf[1] <= 223;
}

static void rtp_level(const uint8_t *ext, size_t extlen, uint8_t id, struct rtp_hdr *h)
{
	size_t i = 0;

	while (i < extlen) {
		uint8_t b = ext[i], eid = b >> 4, elen = (uint8_t)((b & 0x0f) + 1);

		if (b == 0) { /* padding */
			i++;
			continue;
		}
		if (eid == 15 || i + 1 + elen > extlen)
			return;
		if (eid == id) {
			h->level = ext[i + 1] & 0x7f;
			h->voice = ext[i + 1] & 0x80;
			return;
		}
		i += 1 + elen;
	}
}

int rtp_parse(const uint8_t *buf, size_t len, uint8_t level_id, struct rtp_hdr *ret)
{
	struct rtp_hdr h;
	size_t off = 12;

	if (len < 12 || (buf[0] >> 6) != 2)
		return -EBADMSG;
	memset(&h, 0, sizeof(h));
	h.level = -1;
	h.pt = buf[1] & 0x7f;
	h.marker = buf[1] & 0x80;
	h.seq = rd16(buf + 2);
	h.ts = rd32(buf + 4);
	h.ssrc = rd32(buf + 8);
	off += 4u * (buf[0] & 0x0f);
	if (off > len)
		return -EBADMSG;
	if (buf[0] & 0x10) {
		size_t extlen;

		if (off + 4 > len)
			return -EBADMSG;
		extlen = 4u * rd16(buf + off + 2);
		if (off + 4 + extlen > len)
			return -EBADMSG;
		if (level_id && rd16(buf + off) == 0xBEDE)
			rtp_level(buf + off + 4, extlen, level_id, &h);
		off += 4 + extlen;
	}
	if (buf[0] & 0x20) {
		if (off >= len || buf[len - 1] == 0 || buf[len - 1] > len - off)
			return -EBADMSG;
	}
	h.hdr_len = off;
	*ret = h;
	return 0;
}

static enum rtcp_kind rtcp_kind(uint8_t pt, uint8_t fmt, const uint8_t *p, size_t len)
{
	switch (pt) {
	case 200:
		return RTCP_SR;
	case 201:
		return RTCP_RR;
	case 202:
		return RTCP_SDES;
	case 203:
		return RTCP_BYE;
	case 205:
		return fmt == 1 ? RTCP_NACK : RTCP_OTHER;
	case 206:
		if (fmt == 1)
			return RTCP_PLI;
		if (fmt == 4)
			return RTCP_FIR;
		if (fmt == 15 && len >= 16 && memcmp(p + 12, "REMB", 4) == 0)
			return RTCP_REMB;
		return RTCP_OTHER;
	default:
		return RTCP_OTHER;
	}
}

int rtcp_walk(const uint8_t *buf, size_t len, rtcp_fn fn, void *arg)
{
	size_t off = 0;

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen;
		enum rtcp_kind kind;
		uint32_t sender, media = 0;

		if (len - off < 8 || (p[0] >> 6) != 2)
			return -EBADMSG;
		plen = 4u * (rd16(p + 2) + 1u);
		if (plen > len - off)
			return -EBADMSG;
		kind = rtcp_kind(p[1], p[0] & 0x1f, p, plen);
		sender = rd32(p + 4);
		if (p[1] == 205 || p[1] == 206) {
			if (plen < 12)
				return -EBADMSG;
			media = rd32(p + 8);
			/* FIR names its target in the FCI, not the header. */
			if (kind == RTCP_FIR) {
				if (plen < 20)
					return -EBADMSG;
				media = rd32(p + 12);
			}
		}
		fn(arg, kind, sender, media, p, plen);
		off += plen;
	}
	return 0;
}

size_t rtcp_build_pli(uint8_t out[12], uint32_t sender, uint32_t media)
{
	out[0] = 0x80 | 1;
	out[1] = 206;
	out[2] = 0;
	out[3] = 2;
	wr32(out + 4, sender);
	wr32(out + 8, media);
	return 12;
}

/* draft-alvestrand-rmcat-remb: tell a publisher how much it may send. */
size_t rtcp_build_remb(uint8_t out[24], uint32_t sender, uint32_t media, uint64_t bps)
{
	uint8_t exp = 0;

	while (bps > 0x3ffff) {
		bps >>= 1;
		exp++;
	}
	out[0] = 0x80 | 15;
	out[1] = 206;
	out[2] = 0;
	out[3] = 5;
	wr32(out + 4, sender);
	wr32(out + 8, 0);
	memcpy(out + 12, "REMB", 4);
	out[16] = 1;
	out[17] = (uint8_t)(exp << 2 | (bps >> 16));
	out[18] = (uint8_t)(bps >> 8);
	out[19] = (uint8_t)bps;
	wr32(out + 20, media);
	return 24;
}
