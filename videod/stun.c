/* stun: the part of STUN (RFC 5389) and ICE (RFC 8445) an ICE-lite server
 * needs: parse binding requests, check MESSAGE-INTEGRITY (HMAC-SHA1 keyed by
 * our ice-pwd) and FINGERPRINT (CRC-32 xor 0x5354554e), and answer with
 * XOR-MAPPED-ADDRESS. Pure functions over buffers. */
#include "videod.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define STUN_MAGIC 0x2112A442u
#define STUN_FP_XOR 0x5354554eu
#define ATTR_USERNAME 0x0006
#define ATTR_MI 0x0008
#define ATTR_XOR_MAPPED 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_FINGERPRINT 0x8028
#define ATTR_CONTROLLING 0x802A

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

bool stun_looks_like(const uint8_t *buf, size_t len)
{
	return len >= STUN_HDR && buf[0] < 4 && rd32(buf + 4) == STUN_MAGIC;
}

static int stun_attr(struct stun_msg *m, const uint8_t *buf, size_t off, uint16_t type,
                     uint16_t alen, size_t len)
{
	const uint8_t *v = buf + off + 4;

	if (m->fingerprint)
		return -EBADMSG; /* FINGERPRINT must be last */
	switch (type) {
	case ATTR_USERNAME:
		if (alen > STUN_USER_MAX || m->mi_off)
			return -EBADMSG;
		memcpy(m->username, v, alen);
		m->username[alen] = '\0';
		if (strlen(m->username) != alen)
			return -EBADMSG;
		break;
	case ATTR_MI:
		if (alen != 20 || m->mi_off)
			return -EBADMSG;
		m->mi_off = off;
		break;
	case ATTR_FINGERPRINT:
		if (alen != 4 || off + 8 != len)
			return -EBADMSG;
		/* The CRC covers the message up to this attribute, with the
		 * length already counting it. */
		if ((stun_crc32(buf, off) ^ STUN_FP_XOR) != rd32(v))
			return -EBADMSG;
		m->fingerprint = true;
		break;
	case ATTR_PRIORITY:
		if (alen != 4)
			return -EBADMSG;
		m->priority = rd32(v);
		break;
	case ATTR_USE_CANDIDATE:
		m->use_candidate = true;
		break;
	default:
		break;
	}
	return 0;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *ret)
{
	struct stun_msg m;
	size_t off = STUN_HDR;

	if (!stun_looks_like(buf, len) || rd16(buf + 2) != len - STUN_HDR || (len & 3))
		return -EBADMSG;
	memset(&m, 0, sizeof(m));
	m.type = rd16(buf);
	memcpy(m.txid, buf + 8, 12);
	while (off < len) {
		uint16_t type, alen;

		if (len - off < 4)
			return -EBADMSG;
		type = rd16(buf + off);
		alen = rd16(buf + off + 2);
		if ((size_t)alen > len - off - 4)
			return -EBADMSG;
		if (stun_attr(&m, buf, off, type, alen, len) < 0)
			return -EBADMSG;
		off += 4 + (((size_t)alen + 3) & ~(size_t)3);
	}
	if (off != len)
		return -EBADMSG;
	*ret = m;
	return 0;
}

static void stun_hmac(const uint8_t *buf, size_t len, const char *key, uint8_t out[20])
{
	unsigned outlen = 20;

	HMAC(EVP_sha1(), key, (int)strlen(key), buf, len, out, &outlen);
}

int stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m, const char *key)
{
	uint8_t copy[STUN_HDR + 1024], mac[20];

	if (!m->mi_off || m->mi_off + 24 > len || m->mi_off > sizeof(copy))
		return -EACCES;
	/* The HMAC covers the message up to MESSAGE-INTEGRITY, with a
	 * length that ends just after it. */
	memcpy(copy, buf, m->mi_off);
	wr16(copy + 2, (uint16_t)(m->mi_off + 24 - STUN_HDR));
	stun_hmac(copy, m->mi_off, key, mac);
	return CRYPTO_memcmp(mac, buf + m->mi_off + 4, 20) == 0 ? 0 : -EACCES;
}

/* Append MESSAGE-INTEGRITY and FINGERPRINT to a message of len bytes. */
static int stun_finish(uint8_t *out, size_t cap, size_t len, const char *key)
{
	if (len + 24 + 8 > cap)
		return -ENOBUFS;
	wr16(out + 2, (uint16_t)(len + 24 - STUN_HDR));
	wr16(out + len, ATTR_MI);
	wr16(out + len + 2, 20);
	stun_hmac(out, len, key, out + len + 4);
	len += 24;
	wr16(out + 2, (uint16_t)(len + 8 - STUN_HDR));
	wr16(out + len, ATTR_FINGERPRINT);
	wr16(out + len + 2, 4);
	wr32(out + len + 4, stun_crc32(out, len) ^ STUN_FP_XOR);
	return (int)(len + 8);
}

int stun_build_response(uint8_t *out, size_t cap, const uint8_t txid[12],
                        const struct sockaddr *addr, const char *key)
{
	size_t len = STUN_HDR;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
	uint8_t ip[16];
	size_t iplen;
	uint16_t port;

	if (addr->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(ip, &s6->sin6_addr.s6_addr[12], 4);
		iplen = 4;
		port = ntohs(s6->sin6_port);
	} else if (addr->sa_family == AF_INET6) {
		memcpy(ip, &s6->sin6_addr, 16);
		iplen = 16;
		port = ntohs(s6->sin6_port);
	} else {
		memcpy(ip, &s4->sin_addr, 4);
		iplen = 4;
		port = ntohs(s4->sin_port);
	}
	if (cap < STUN_HDR + 4 + 4 + iplen + 32)
		return -ENOBUFS;
	wr16(out, 0x0101);
	wr32(out + 4, STUN_MAGIC);
	memcpy(out + 8, txid, 12);
	wr16(out + len, ATTR_XOR_MAPPED);
	wr16(out + len + 2, (uint16_t)(4 + iplen));
	out[len + 4] = 0;
	out[len + 5] = iplen == 4 ? 1 : 2;
	wr16(out + len + 6, port ^ (uint16_t)(STUN_MAGIC >> 16));
	/* The address is xored with the magic cookie and transaction id. */
	for (size_t i = 0; i < iplen; i++)
		out[len + 8 + i] = ip[i] ^ out[4 + i];
	len += 8 + iplen;
	return stun_finish(out, cap, len, key);
}

int stun_build_request(uint8_t *out, size_t cap, const uint8_t txid[12], const char *username,
                       const char *key)
{
	size_t ulen = strlen(username), len = STUN_HDR, pad = (ulen + 3) & ~(size_t)3;

	if (ulen > STUN_USER_MAX || cap < STUN_HDR + 4 + pad + 8 + 12 + 4 + 32)
		return -ENOBUFS;
	memset(out, 0, STUN_HDR + 4 + pad);
	wr16(out, 0x0001);
	wr32(out + 4, STUN_MAGIC);
	memcpy(out + 8, txid, 12);
	wr16(out + len, ATTR_USERNAME);
	wr16(out + len + 2, (uint16_t)ulen);
	memcpy(out + len + 4, username, ulen);
	len += 4 + pad;
	wr16(out + len, ATTR_PRIORITY);
	wr16(out + len + 2, 4);
	wr32(out + len + 4, 0x6e7f00ff);
	len += 8;
	wr16(out + len, ATTR_CONTROLLING);
	wr16(out + len + 2, 8);
	memset(out + len + 4, 0x5a, 8);
	len += 12;
	wr16(out + len, ATTR_USE_CANDIDATE);
	wr16(out + len + 2, 0);
	len += 4;
	return stun_finish(out, cap, len, key);
}
