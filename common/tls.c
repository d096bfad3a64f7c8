#include "tls.h"
#include "fsutil.h"
#include "hex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_PATH_MAX 4096
#define TLS_CERT_DAYS 3650
#define TLS_WAIT_MS 5000
#define TLS_WAIT_STEP_MS 50
#define TLS_SAN_MAX 64 /* bounds the certificate size on hosts with many addresses */
#define TLS_CN_MAX 64  /* ub-common-name (RFC 5280) */
#define TLS_FP_PREFIX "SHA256:"

/* Appends the first queued OpenSSL error, if any, to a sentence. */
static void tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_clear_error();
	if (!err || errlen == 0)
		return;
	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
}

/* A sentence from fmt, followed by strerror(e) when e is not 0. */
static void tls_errf(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void tls_errf(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ": %s", strerror(e));
}

/* mkdir -p, and what is there must be a folder. */
static int tls_mkdirs(const char *dir, mode_t mode)
{
	struct stat st;
	int r = fsutil_mkdir_p(dir, mode);

	if (r < 0)
		return r;
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* 0 when path exists, -ENOENT when not, other -errno when we cannot tell. */
static int tls_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? 0 : -errno;
}

static void tls_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A concurrent starter publishes the key, then the certificate: wait for it. */
static int tls_wait_cert(const char *cert_path)
{
	for (long waited = 0; waited < TLS_WAIT_MS; waited += TLS_WAIT_STEP_MS) {
		if (tls_exists(cert_path) == 0)
			return 0;
		tls_sleep_ms(TLS_WAIT_STEP_MS);
	}
	return tls_exists(cert_path);
}

static int tls_san_add_dns(GENERAL_NAMES *gens, const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (!gn || !s || !ASN1_STRING_set(s, name, (int)strlen(name)))
		goto fail;
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	s = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto fail;
	return 0;
fail:
	ASN1_IA5STRING_free(s);
	GENERAL_NAME_free(gn);
	return -ENOMEM;
}

static int tls_san_add_ip(GENERAL_NAMES *gens, const void *addr, int len)
{
	GENERAL_NAME *gn;
	ASN1_OCTET_STRING *s;

	/* skip duplicates: an address may sit on several interfaces */
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *old = sk_GENERAL_NAME_value(gens, i);
		if (old->type == GEN_IPADD && old->d.iPAddress->length == len &&
		    memcmp(old->d.iPAddress->data, addr, (size_t)len) == 0)
			return 0;
	}
	gn = GENERAL_NAME_new();
	s = ASN1_OCTET_STRING_new();
	if (!gn || !s || !ASN1_OCTET_STRING_set(s, addr, len))
		goto fail;
	GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	s = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto fail;
	return 0;
fail:
	ASN1_OCTET_STRING_free(s);
	GENERAL_NAME_free(gn);
	return -ENOMEM;
}

/* Non-loopback addresses of the host's interfaces; best effort. */
static int tls_san_add_ifaddrs(GENERAL_NAMES *gens)
{
	struct ifaddrs *ifa, *i;
	int r = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && r == 0 && sk_GENERAL_NAME_num(gens) < TLS_SAN_MAX; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;
			if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
				r = tls_san_add_ip(gens, &sin->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;
			if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
				r = tls_san_add_ip(gens, &sin6->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return r;
}

static GENERAL_NAMES *tls_san_build(const char *hostname)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	unsigned char a4[4] = {127, 0, 0, 1}, a6[16] = {0};
	unsigned char lit[16];
	int r;

	if (!gens)
		return NULL;
	a6[15] = 1;
	if (inet_pton(AF_INET, hostname, lit) == 1)
		r = tls_san_add_ip(gens, lit, 4);
	else if (inet_pton(AF_INET6, hostname, lit) == 1)
		r = tls_san_add_ip(gens, lit, 16);
	else
		r = tls_san_add_dns(gens, hostname);
	if (r == 0 && strcasecmp(hostname, "localhost") != 0)
		r = tls_san_add_dns(gens, "localhost");
	if (r == 0)
		r = tls_san_add_ip(gens, a4, 4);
	if (r == 0)
		r = tls_san_add_ip(gens, a6, 16);
	if (r == 0)
		r = tls_san_add_ifaddrs(gens);
	if (r < 0) {
		GENERAL_NAMES_free(gens);
		return NULL;
	}
	return gens;
}

static int tls_cert_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/* A random positive 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets). */
static int tls_cert_set_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	rnd[0] &= 0x7f;
	rnd[0] |= 0x40; /* never zero, always 16 octets */
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (!bn)
		return -ENOMEM;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static X509 *tls_cert_make(EVP_PKEY *pkey, const char *hostname)
{
	X509 *x = X509_new();
	X509_NAME *name;
	GENERAL_NAMES *gens = NULL;
	char cn[TLS_CN_MAX + 1];
	size_t n;

	if (!x || !X509_set_version(x, X509_VERSION_3) || tls_cert_set_serial(x) < 0)
		goto fail;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_DAYS, 0, NULL))
		goto fail;
	n = strnlen(hostname, TLS_CN_MAX);
	memcpy(cn, hostname, n);
	cn[n] = '\0';
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                                (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pkey))
		goto fail;
	if (tls_cert_add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    tls_cert_add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    tls_cert_add_ext(x, NID_subject_key_identifier, "hash") < 0)
		goto fail;
	gens = tls_san_build(hostname);
	if (!gens || !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
		goto fail;
	GENERAL_NAMES_free(gens);
	if (!X509_sign(x, pkey, EVP_sha256()))
		goto fail_x;
	return x;
fail:
	GENERAL_NAMES_free(gens);
fail_x:
	X509_free(x);
	return NULL;
}

/* Writes PEM (key when pkey, else cert) to a new temporary file beside
 * final_path and returns its name in tmp; the data is on disk on return. */
static int tls_write_tmp(const char *final_path, EVP_PKEY *pkey, X509 *x, mode_t mode, char *tmp,
                         size_t tmplen)
{
	BIO *bio;
	int fd, ok, r = 0;

	if ((size_t)snprintf(tmp, tmplen, "%s.tmp.XXXXXX", final_path) >= tmplen)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	if (!bio) {
		r = -ENOMEM;
	} else if (r == 0) {
		if (pkey)
			ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
		else
			ok = PEM_write_bio_X509(bio, x);
		if (!ok || BIO_flush(bio) != 1)
			r = -EIO;
	}
	BIO_free(bio);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		tmp[0] = '\0';
	}
	return r;
}

static int tls_generate(const char *cert_path, const char *key_path, const char *hostname,
                        char *key_tmp, char *cert_tmp, size_t tmplen, char *err, size_t errlen)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = NULL;
	int r;

	if (!pkey) {
		tls_err(err, errlen, "cannot generate an EC P-256 key");
		return -EIO;
	}
	x = tls_cert_make(pkey, hostname);
	if (!x) {
		tls_err(err, errlen, "cannot build a self-signed certificate");
		EVP_PKEY_free(pkey);
		return -EIO;
	}
	r = tls_write_tmp(key_path, pkey, NULL, 0600, key_tmp, tmplen);
	if (r < 0)
		tls_errf(err, errlen, -r, "cannot write a temporary key beside %s", key_path);
	if (r == 0) {
		r = tls_write_tmp(cert_path, NULL, x, 0644, cert_tmp, tmplen);
		if (r < 0)
			tls_errf(err, errlen, -r, "cannot write a temporary certificate beside %s",
			         cert_path);
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}

/* Both missing: generate, then publish the key and after it the certificate
 * with link(), which fails rather than replace. Readers take "certificate
 * present" as "pair complete"; a starter that loses the key race waits for
 * the winner's certificate. */
static int tls_create_pair(const char *cert_path, const char *key_path, const char *hostname,
                           char *err, size_t errlen)
{
	char key_tmp[TLS_PATH_MAX + 16] = "", cert_tmp[TLS_PATH_MAX + 16] = "";
	int r;

	r = tls_generate(cert_path, key_path, hostname, key_tmp, cert_tmp, sizeof(key_tmp), err,
	                 errlen);
	if (r < 0)
		goto out;
	if (link(key_tmp, key_path) < 0) {
		r = -errno;
		if (r != -EEXIST) {
			tls_errf(err, errlen, -r, "cannot create %s", key_path);
			goto out;
		}
		r = tls_wait_cert(cert_path);
		if (r < 0)
			tls_errf(err, errlen, r == -ENOENT ? 0 : -r,
			         "key %s was created by another process but certificate %s did "
			         "not appear",
			         key_path, cert_path);
		goto out;
	}
	if (link(cert_tmp, cert_path) < 0) {
		r = -errno;
		tls_errf(err, errlen, -r, "cannot create %s (its key %s was just created)",
		         cert_path, key_path);
		goto out;
	}
	r = 0;
out:
	if (key_tmp[0])
		unlink(key_tmp);
	if (cert_tmp[0])
		unlink(cert_tmp);
	if (r == 0) {
		char dir[TLS_PATH_MAX];
		fsutil_dirname(key_path, dir, sizeof(dir));
		(void)fsutil_sync_dir(dir);
		fsutil_dirname(cert_path, dir, sizeof(dir));
		(void)fsutil_sync_dir(dir);
	}
	return r;
}

int tls_ensure_cert(const char *cert_path, const char *key_path, const char *hostname, char *err,
                    size_t errlen)
{
	char dir[TLS_PATH_MAX], host[256];
	int rc, rk, r;

	if (err && errlen)
		err[0] = '\0';
	if (!cert_path || !key_path || !*cert_path || !*key_path) {
		tls_errf(err, errlen, 0, "certificate and key paths are required");
		return -EINVAL;
	}
	rc = tls_exists(cert_path);
	rk = tls_exists(key_path);
	if (rc == 0 && rk == 0)
		return 0;
	if (rc < 0 && rc != -ENOENT) {
		tls_errf(err, errlen, -rc, "cannot access %s", cert_path);
		return rc;
	}
	if (rk < 0 && rk != -ENOENT) {
		tls_errf(err, errlen, -rk, "cannot access %s", key_path);
		return rk;
	}
	if (rc == 0) {
		tls_errf(err, errlen, 0,
		         "certificate %s exists but its key %s is missing; restore the key or "
		         "remove the certificate to generate a new pair",
		         cert_path, key_path);
		return -ENOENT;
	}
	if (rk == 0) {
		if (tls_wait_cert(cert_path) == 0)
			return 0;
		tls_errf(err, errlen, 0,
		         "key %s exists but its certificate %s is missing; restore the certificate "
		         "or remove the key to generate a new pair",
		         key_path, cert_path);
		return -ENOENT;
	}

	fsutil_dirname(key_path, dir, sizeof(dir));
	r = tls_mkdirs(dir, 0700);
	if (r == 0) {
		fsutil_dirname(cert_path, dir, sizeof(dir));
		r = tls_mkdirs(dir, 0755);
	}
	if (r < 0) {
		tls_errf(err, errlen, -r, "cannot create folder %s", dir);
		return r;
	}
	if (!hostname || !*hostname) {
		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	return tls_create_pair(cert_path, key_path, hostname, err, errlen);
}

static SSL_CTX *tls_ctx_new(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx) {
		tls_err(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		tls_err(err, errlen, "cannot restrict the TLS context to TLS 1.3");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* AES-128-GCM first: with AES-NI it is the fastest suite, which is
	 * what bounds a file transfer, and 128-bit keys are plenty here. */
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	                              "TLS_CHACHA20_POLY1305_SHA256");
	return ctx;
}

SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char what[TLS_PATH_MAX + 64];

	if (err && errlen)
		err[0] = '\0';
	if (!cert_path || !key_path) {
		tls_err(err, errlen, "certificate and key paths are required");
		return NULL;
	}
	ctx = tls_ctx_new(TLS_server_method(), err, errlen);
	if (!ctx)
		return NULL;
	/* clients do not resume sessions: tickets would be wasted bytes */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		snprintf(what, sizeof(what), "cannot load certificate %s", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();
		/* loading already compares the key with the certificate */
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(what, sizeof(what), "key %s does not match certificate %s",
			         key_path, cert_path);
		} else {
			snprintf(what, sizeof(what), "cannot load key %s", key_path);
		}
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "key %s does not match certificate %s", key_path,
		         cert_path);
		goto fail;
	}
	return ctx;
fail:
	tls_err(err, errlen, what);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_client_ctx(char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (err && errlen)
		err[0] = '\0';
	ctx = tls_ctx_new(TLS_client_method(), err, errlen);
	if (!ctx)
		return NULL;
	/* the caller pins the peer's fingerprint (tls_pin_check) */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

void tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

static int tls_cert_fingerprint(const X509 *x, char out[TLS_FP_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *p = out;

	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32) {
		ERR_clear_error();
		return -EINVAL;
	}
	memcpy(p, TLS_FP_PREFIX, sizeof(TLS_FP_PREFIX) - 1);
	p += sizeof(TLS_FP_PREFIX) - 1;
	hex_encode(md, len, p);
	return 0;
}

int tls_peer_fingerprint(SSL *ssl, char out[TLS_FP_LEN])
{
	X509 *x;

	if (!ssl || !out)
		return -EINVAL;
	x = SSL_get0_peer_certificate(ssl);
	if (!x)
		return -ENOENT;
	return tls_cert_fingerprint(x, out);
}

int tls_file_fingerprint(const char *cert_path, char out[TLS_FP_LEN])
{
	FILE *f;
	X509 *x;
	int r;

	if (!cert_path || !out)
		return -EINVAL;
	f = fopen(cert_path, "re");
	if (!f)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		ERR_clear_error();
		return -EINVAL;
	}
	r = tls_cert_fingerprint(x, out);
	X509_free(x);
	return r;
}

/* Splits a pin line in place: host_port and fingerprint, or -1 when the
 * line is blank, a comment or not a pin. */
static int tls_pin_parse(char *line, char **ret_host, char **ret_fp)
{
	char *host, *fp, *end;

	host = line + strspn(line, " \t");
	if (*host == '\0' || *host == '#' || *host == '\n' || *host == '\r')
		return -1;
	end = host + strcspn(host, " \t\r\n");
	if (*end == '\0')
		return -1;
	*end++ = '\0';
	fp = end + strspn(end, " \t");
	end = fp + strcspn(fp, " \t\r\n");
	*end = '\0';
	if (*fp == '\0')
		return -1;
	*ret_host = host;
	*ret_fp = fp;
	return 0;
}

int tls_pin_check(const char *known_path, const char *host_port, const char *fp,
                  char ret_pinned[TLS_FP_LEN])
{
	FILE *f;
	char *line = NULL, *host, *pin;
	size_t cap = 0;
	int r = TLS_PIN_UNKNOWN;

	if (!known_path || !host_port || !fp)
		return -EINVAL;
	f = fopen(known_path, "re");
	if (!f)
		return errno == ENOENT ? TLS_PIN_UNKNOWN : -errno;
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		if (tls_pin_parse(line, &host, &pin) < 0 || strcasecmp(host, host_port) != 0)
			continue;
		if (strcasecmp(pin, fp) == 0) {
			r = TLS_PIN_MATCH;
		} else {
			r = TLS_PIN_MISMATCH;
			if (ret_pinned)
				snprintf(ret_pinned, TLS_FP_LEN, "%s", pin);
		}
		break;
	}
	if (r == TLS_PIN_UNKNOWN && ferror(f))
		r = errno ? -errno : -EIO;
	free(line);
	fclose(f);
	return r;
}

static bool tls_pin_valid(const char *host_port, const char *fp)
{
	size_t n = sizeof(TLS_FP_PREFIX) - 1;

	if (!*host_port || host_port[0] == '#' || strpbrk(host_port, " \t\r\n"))
		return false;
	if (strncmp(fp, TLS_FP_PREFIX, n) != 0 || strlen(fp) != n + 64)
		return false;
	return strspn(fp + n, "0123456789abcdefABCDEF") == 64;
}

/* Copies every line of the old file except host_port's pins into f. */
static int tls_pin_copy(const char *known_path, const char *host_port, FILE *out)
{
	FILE *in = fopen(known_path, "re");
	char *line = NULL, *copy = NULL, *host, *pin;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	if (!in)
		return errno == ENOENT ? 0 : -errno;
	errno = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		free(copy);
		copy = strdup(line);
		if (!copy) {
			r = -ENOMEM;
			break;
		}
		if (tls_pin_parse(copy, &host, &pin) == 0 && strcasecmp(host, host_port) == 0)
			continue;
		if (fwrite(line, 1, (size_t)n, out) != (size_t)n ||
		    (line[n - 1] != '\n' && fputc('\n', out) == EOF)) {
			r = -EIO;
			break;
		}
	}
	if (r == 0 && ferror(in))
		r = errno ? -errno : -EIO;
	free(copy);
	free(line);
	fclose(in);
	return r;
}

struct tls_pin_new {
	const char *known_path, *host_port, *fp;
};

/* The known-hosts file again without host_port's line, and its new line. */
static int tls_pin_write_cb(FILE *out, void *arg)
{
	const struct tls_pin_new *pn = arg;
	int r = tls_pin_copy(pn->known_path, pn->host_port, out);

	if (r == 0 && fprintf(out, "%s %s\n", pn->host_port, pn->fp) < 0)
		r = -EIO;
	return r;
}

int tls_pin_save(const char *known_path, const char *host_port, const char *fp)
{
	char dir[TLS_PATH_MAX];
	int dfd, r;

	if (!known_path || !host_port || !fp || !tls_pin_valid(host_port, fp))
		return -EINVAL;
	fsutil_dirname(known_path, dir, sizeof(dir));
	r = tls_mkdirs(dir, 0700);
	if (r < 0)
		return r;
	/* serialise concurrent clients so that no pin is lost between read and rename */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	while (flock(dfd, LOCK_EX) < 0 && errno == EINTR)
		;
	r = fsutil_replace_stream(known_path, 0600, 0, tls_pin_write_cb,
	                          &(struct tls_pin_new){known_path, host_port, fp});
	flock(dfd, LOCK_UN);
	close(dfd);
	return r;
}
