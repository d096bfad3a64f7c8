/* srtp: the one file that includes libsrtp2. A vsrtp is one direction of
 * one participant's transport: inbound sessions accept any SSRC the peer
 * sends, outbound ones any SSRC we forward (libsrtp clones a stream per
 * SSRC from the template). Functions are vsrtp_*: srtp_* is libsrtp's. */
#include "videod.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define SRTP_WINDOW 1024

struct vsrtp {
	srtp_t s;
};

int vsrtp_init(void)
{
	return srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

struct vsrtp *vsrtp_new(int profile, const uint8_t *key, size_t keylen, bool outbound)
{
	srtp_policy_t pol;
	struct vsrtp *v;
	uint8_t k[64];

	memset(&pol, 0, sizeof(pol));
	if (profile == SRTP_PROFILE_AEAD_GCM_128 && keylen == 28) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else if (profile == SRTP_PROFILE_CM_SHA1_80 && keylen == 30) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	} else {
		return NULL;
	}
	memcpy(k, key, keylen);
	pol.key = k;
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.window_size = SRTP_WINDOW;
	/* Retransmissions (NACK) repeat sequence numbers on the way out. */
	pol.allow_repeat_tx = outbound;
	v = xcalloc(1, sizeof(*v));
	if (srtp_create(&v->s, &pol) != srtp_err_status_ok) {
		free(v);
		v = NULL;
	}
	memset(k, 0, sizeof(k));
	return v;
}

void vsrtp_free(struct vsrtp *v)
{
	if (!v)
		return;
	srtp_dealloc(v->s);
	free(v);
}

int vsrtp_protect(struct vsrtp *v, uint8_t *buf, size_t *len, size_t cap)
{
	int n = (int)*len;

	if (*len + SRTP_MAX_TRAILER_LEN > cap)
		return -ENOBUFS;
	if (srtp_protect(v->s, buf, &n) != srtp_err_status_ok)
		return -EPROTO;
	*len = (size_t)n;
	return 0;
}

int vsrtp_unprotect(struct vsrtp *v, uint8_t *buf, size_t *len)
{
	int n = (int)*len;

	if (srtp_unprotect(v->s, buf, &n) != srtp_err_status_ok)
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}

int vsrtp_protect_rtcp(struct vsrtp *v, uint8_t *buf, size_t *len, size_t cap)
{
	int n = (int)*len;

	if (*len + SRTP_MAX_TRAILER_LEN + 4 > cap)
		return -ENOBUFS;
	if (srtp_protect_rtcp(v->s, buf, &n) != srtp_err_status_ok)
		return -EPROTO;
	*len = (size_t)n;
	return 0;
}

int vsrtp_unprotect_rtcp(struct vsrtp *v, uint8_t *buf, size_t *len)
{
	int n = (int)*len;

	if (srtp_unprotect_rtcp(v->s, buf, &n) != srtp_err_status_ok)
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}
