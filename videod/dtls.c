/* dtls: DTLS 1.2 with the use_srtp extension (RFC 5764) on OpenSSL. We do
 * not own a socket per peer: datagrams are fed in through a memory BIO and
 * written out through a small BIO whose write sends one datagram, so each
 * record OpenSSL writes keeps its own datagram. */
#include "videod.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_MTU 1200
#define SRTP_LABEL "EXTRACTOR-dtls_srtp"

struct dtls {
	SSL *ssl;
	BIO *rbio;
	bool server, done, failed;
	dtls_send_fn send;
	void *arg;
};

static BIO_METHOD *out_method;

static int out_write(BIO *b, const char *buf, int len)
{
	struct dtls *d = BIO_get_data(b);

	if (len > 0 && d)
		d->send(d->arg, (const uint8_t *)buf, (size_t)len);
	return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	default:
		return 0;
	}
}

static int out_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int verify_any_cb(int ok, X509_STORE_CTX *ctx)
{
	/* WebRTC certificates are self-signed; the SDP fingerprint is
	 * what authenticates them (checked after the handshake). */
	(void)ok;
	(void)ctx;
	return 1;
}

static int cert_fp(X509 *x, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!X509_digest(x, EVP_sha256(), md, &n) || outlen < n * 3)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
	return 0;
}

SSL_CTX *dtls_ctx_new(const char *cert, const char *key, bool server, char *ret_fp, size_t fplen,
                      char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());

	if (!out_method) {
		out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "videod-udp");
		if (!out_method || !BIO_meth_set_write(out_method, out_write) ||
		    !BIO_meth_set_ctrl(out_method, out_ctrl) ||
		    !BIO_meth_set_create(out_method, out_create)) {
			snprintf(err, errlen, "out of memory");
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION)) {
		snprintf(err, errlen, "cannot create a DTLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "cannot load %s and %s for DTLS", cert, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Note: returns 0 on success, unlike most of OpenSSL. */
	if (SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
		snprintf(err, errlen, "OpenSSL lacks DTLS-SRTP");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any_cb);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (ret_fp && cert_fp(SSL_CTX_get0_certificate(ctx), ret_fp, fplen) < 0) {
		snprintf(err, errlen, "cannot fingerprint %s", cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct dtls *dtls_new(SSL_CTX *ctx, bool server, dtls_send_fn send, void *arg)
{
	struct dtls *d = xcalloc(1, sizeof(*d));
	BIO *wbio;

	d->ssl = SSL_new(ctx);
	d->rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(out_method);
	if (!d->ssl || !d->rbio || !wbio) {
		SSL_free(d->ssl);
		BIO_free(d->rbio);
		BIO_free(wbio);
		free(d);
		return NULL;
	}
	BIO_set_mem_eof_return(d->rbio, -1);
	BIO_set_data(wbio, d);
	SSL_set_bio(d->ssl, d->rbio, wbio);
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(d->ssl, DTLS_MTU - 28);
	DTLS_set_link_mtu(d->ssl, DTLS_MTU);
	d->server = server;
	d->send = send;
	d->arg = arg;
	if (server)
		SSL_set_accept_state(d->ssl);
	else
		SSL_set_connect_state(d->ssl);
	return d;
}

void dtls_free(struct dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	free(d);
}

bool dtls_done(const struct dtls *d)
{
	return d && d->done;
}

static int dtls_step(struct dtls *d)
{
	int r = SSL_do_handshake(d->ssl), e;

	if (r == 1) {
		d->done = true;
		return 1;
	}
	e = SSL_get_error(d->ssl, r);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	d->failed = true;
	return -EPROTO;
}

int dtls_start(struct dtls *d)
{
	return dtls_step(d) < 0 ? -EPROTO : 0;
}

int dtls_input(struct dtls *d, const uint8_t *buf, size_t len)
{
	uint8_t junk[2048];
	int r;

	if (d->failed || len > 0x7fffffff)
		return -EPROTO;
	if (BIO_write(d->rbio, buf, (int)len) != (int)len)
		return -ENOMEM;
	if (!d->done)
		return dtls_step(d);
	/* After the handshake only alerts matter (close_notify). */
	r = SSL_read(d->ssl, junk, sizeof(junk));
	if (r <= 0) {
		int e = SSL_get_error(d->ssl, r);

		ERR_clear_error();
		if (e == SSL_ERROR_ZERO_RETURN)
			return -ECONNRESET;
		if (e != SSL_ERROR_WANT_READ) {
			d->failed = true;
			return -EPROTO;
		}
	}
	(void)BIO_reset(d->rbio);
	return 0;
}

void dtls_tick(struct dtls *d)
{
	if (d && !d->done && !d->failed)
		DTLSv1_handle_timeout(d->ssl);
}

int dtls_peer_fingerprint(struct dtls *d, char *out, size_t outlen)
{
	X509 *x = SSL_get1_peer_certificate(d->ssl);
	int r;

	if (!x)
		return -ENOENT;
	r = cert_fp(x, out, outlen);
	X509_free(x);
	return r;
}

int dtls_keys(struct dtls *d, struct srtp_keys *ret)
{
	SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
	uint8_t km[2 * (16 + 14)];
	size_t klen = 16, slen;
	const uint8_t *ck, *sk, *cs, *ss;

	if (!p || (p->id != SRTP_AEAD_AES_128_GCM && p->id != SRTP_AES128_CM_SHA1_80))
		return -ENOTSUP;
	slen = p->id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
	if (SSL_export_keying_material(d->ssl, km, 2 * (klen + slen), SRTP_LABEL,
	                               strlen(SRTP_LABEL), NULL, 0, 0) != 1)
		return -EPROTO;
	/* RFC 5764 4.2: client key, server key, client salt, server salt. */
	ck = km;
	sk = km + klen;
	cs = km + 2 * klen;
	ss = cs + slen;
	memset(ret, 0, sizeof(*ret));
	ret->profile =
	    p->id == SRTP_AEAD_AES_128_GCM ? SRTP_PROFILE_AEAD_GCM_128 : SRTP_PROFILE_CM_SHA1_80;
	ret->len = klen + slen;
	memcpy(ret->local, d->server ? sk : ck, klen);
	memcpy(ret->local + klen, d->server ? ss : cs, slen);
	memcpy(ret->remote, d->server ? ck : sk, klen);
	memcpy(ret->remote + klen, d->server ? cs : ss, slen);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}
