#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit_files.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define FP_A "SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define FP_C "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct paths {
	char dir[64];
	char cert[128];
	char key[128];
};

static int dir_setup(void **state)
{
	struct paths *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/nexus-test-tls.XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->cert, sizeof(p->cert), "%s/tls/cert.pem", p->dir);
	snprintf(p->key, sizeof(p->key), "%s/tls/key.pem", p->dir);
	*state = p;
	return 0;
}

static int dir_teardown(void **state)
{
	struct paths *p = *state;

	unit_rm_tree(p->dir);
	free(p);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void make_pair(const char *dir, const char *host, char *cert, char *key, size_t len)
{
	char err[512];

	snprintf(cert, len, "%s/cert.pem", dir);
	snprintf(key, len, "%s/key.pem", dir);
	assert_int_equal(tls_ensure_cert(cert, key, host, err, sizeof(err)), 0);
}

static void assert_fp_format(const char *fp)
{
	assert_int_equal(strlen(fp), TLS_FP_LEN - 1);
	assert_true(strncmp(fp, "SHA256:", 7) == 0);
	assert_int_equal(strspn(fp + 7, "0123456789abcdef"), 64);
}

static void test_cert_generate(void **state)
{
	struct paths *p = *state;
	char err[512] = "", fp1[TLS_FP_LEN], fp2[TLS_FP_LEN], tlsdir[300];
	struct stat st;
	X509 *x;
	EVP_PKEY *pub;
	int days = 0, secs = 0;
	const ASN1_INTEGER *serial;

	assert_int_equal(tls_ensure_cert(p->cert, p->key, "testhost.example", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(stat(p->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(tlsdir, sizeof(tlsdir), "%s/tls", p->dir);
	assert_int_equal(stat(tlsdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(unit_count_entries(tlsdir), 2);

	x = load_cert(p->cert);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	pub = X509_get0_pubkey(x);
	assert_non_null(pub);
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 256);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_check_host(x, "testhost.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_host(x, "otherhost", 0, 0, NULL), 0);
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_true(days >= 3650 && days <= 3653);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) <= 0);
	serial = X509_get0_serialNumber(x);
	assert_int_equal(ASN1_STRING_length(serial), 16);
	assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);

	/* trusted as its own anchor by standard verification (e.g. curl --cacert) */
	{
		X509_STORE *store = X509_STORE_new();
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		assert_int_equal(X509_STORE_add_cert(store, x), 1);
		assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "localhost", 0);
		assert_int_equal(X509_verify_cert(ctx), 1);
		X509_STORE_CTX_free(ctx);
		X509_STORE_free(store);
	}
	X509_free(x);

	/* a second start keeps the pair */
	assert_int_equal(tls_file_fingerprint(p->cert, fp1), 0);
	assert_fp_format(fp1);
	assert_int_equal(tls_ensure_cert(p->cert, p->key, "otherhost", err, sizeof(err)), 0);
	assert_int_equal(tls_file_fingerprint(p->cert, fp2), 0);
	assert_string_equal(fp1, fp2);
}

static void test_cert_ip_hostname(void **state)
{
	struct paths *p = *state;
	char cert[300], key[300];
	X509 *x;

	make_pair(p->dir, "192.0.2.7", cert, key, sizeof(cert));
	x = load_cert(cert);
	assert_int_equal(X509_check_ip_asc(x, "192.0.2.7", 0), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	X509_free(x);
}

/* The fingerprint is SHA-256 over the DER certificate. */
static void test_fingerprint_der(void **state)
{
	struct paths *p = *state;
	char err[512], fp[TLS_FP_LEN], want[TLS_FP_LEN];
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len;
	X509 *x;

	assert_int_equal(tls_ensure_cert(p->cert, p->key, "h", err, sizeof(err)), 0);
	x = load_cert(p->cert);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	strcpy(want, "SHA256:");
	for (unsigned i = 0; i < mdlen; i++)
		sprintf(want + 7 + 2 * i, "%02x", md[i]);
	assert_int_equal(tls_file_fingerprint(p->cert, fp), 0);
	assert_string_equal(fp, want);
	OPENSSL_free(der);
	X509_free(x);

	assert_int_equal(tls_file_fingerprint(p->key, fp), -EINVAL);
	snprintf(err, sizeof(err), "%s/missing.pem", p->dir);
	assert_int_equal(tls_file_fingerprint(err, fp), -ENOENT);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_cert_half_pair(void **state)
{
	struct paths *p = *state;
	char err[512] = "", cert[300], key[300], late[300];
	struct timespec t0;
	pid_t pid;
	int status;

	make_pair(p->dir, "h", cert, key, sizeof(cert));
	snprintf(late, sizeof(late), "%s/late.pem", p->dir);

	/* certificate without key: refused at once */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tls_ensure_cert(cert, p->key, "h", err, sizeof(err)), -ENOENT);
	assert_true(elapsed(&t0) < 1);
	assert_non_null(strstr(err, p->key));

	/* key without certificate: waits for a concurrent starter... */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
		_exit(link(cert, late) == 0 ? 0 : 1);
	}
	assert_int_equal(tls_ensure_cert(late, key, "h", err, sizeof(err)), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* ...but not forever */
	unlink(late);
	err[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tls_ensure_cert(late, key, "h", err, sizeof(err)), -ENOENT);
	assert_true(elapsed(&t0) >= 4.5 && elapsed(&t0) < 8);
	assert_non_null(strstr(err, late));
	assert_non_null(strstr(err, key));
}

static void test_cert_bad_dir(void **state)
{
	struct paths *p = *state;
	char err[512] = "", file[300], cert[400], key[400];

	snprintf(file, sizeof(file), "%s/file", p->dir);
	write_text(file, "x");
	snprintf(cert, sizeof(cert), "%s/sub/cert.pem", file);
	snprintf(key, sizeof(key), "%s/sub/key.pem", file);
	assert_true(tls_ensure_cert(cert, key, "h", err, sizeof(err)) < 0);
	assert_true(err[0] != '\0');
	assert_int_equal(tls_ensure_cert(NULL, key, "h", err, sizeof(err)), -EINVAL);
}

static int pump(SSL *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return 1;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		return -1;
	}
}

/* Runs a handshake between two in-process non-blocking endpoints. */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL **ret_s, SSL **ret_c)
{
	int sv[2], rs = 0, rc = 0;
	SSL *s, *c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	assert_non_null(s);
	assert_non_null(c);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 1000 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = pump(c);
		if (rs != 1)
			rs = pump(s);
		if (rc < 0 || rs < 0)
			break;
	}
	ERR_clear_error();
	*ret_s = s;
	*ret_c = c;
	return rs == 1 && rc == 1 ? 0 : -1;
}

static void ssl_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

static void test_handshake(void **state)
{
	struct paths *p = *state;
	char err[512] = "", fp_file[TLS_FP_LEN], fp_peer[TLS_FP_LEN], buf[16];
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
	int n = -1;

	assert_int_equal(tls_ensure_cert(p->cert, p->key, "h", err, sizeof(err)), 0);
	sctx = tls_server_ctx(p->cert, p->key, err, sizeof(err));
	assert_non_null(sctx);
	cctx = tls_client_ctx(err, sizeof(err));
	assert_non_null(cctx);

	assert_int_equal(handshake(sctx, cctx, &s, &c), 0);
	assert_int_equal(SSL_version(c), TLS1_3_VERSION);
	assert_int_equal(SSL_version(s), TLS1_3_VERSION);
	assert_int_equal(tls_file_fingerprint(p->cert, fp_file), 0);
	assert_int_equal(tls_peer_fingerprint(c, fp_peer), 0);
	assert_string_equal(fp_file, fp_peer);
	/* the server sees no client certificate */
	assert_int_equal(tls_peer_fingerprint(s, fp_peer), -ENOENT);

	assert_int_equal(SSL_write(c, "ping", 4), 4);
	for (int i = 0; i < 100 && n <= 0; i++)
		n = SSL_read(s, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);

	ssl_close(s);
	ssl_close(c);
	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
	tls_ctx_free(NULL);
}

/* Neither side agrees to anything older than TLS 1.3. */
static void test_tls12_refused(void **state)
{
	struct paths *p = *state;
	char err[512] = "";
	SSL_CTX *sctx, *cctx, *old;
	SSL *s, *c;
	EVP_PKEY *pkey;
	X509 *x;
	FILE *f;

	assert_int_equal(tls_ensure_cert(p->cert, p->key, "h", err, sizeof(err)), 0);
	sctx = tls_server_ctx(p->cert, p->key, err, sizeof(err));
	cctx = tls_client_ctx(err, sizeof(err));
	assert_non_null(sctx);
	assert_non_null(cctx);

	old = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION);
	assert_int_equal(handshake(sctx, old, &s, &c), -1);
	ssl_close(s);
	ssl_close(c);
	SSL_CTX_free(old);

	old = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION);
	x = load_cert(p->cert);
	f = fopen(p->key, "r");
	assert_non_null(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pkey);
	assert_int_equal(SSL_CTX_use_certificate(old, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(old, pkey), 1);
	assert_int_equal(handshake(old, cctx, &s, &c), -1);
	ssl_close(s);
	ssl_close(c);
	SSL_CTX_free(old);
	X509_free(x);
	EVP_PKEY_free(pkey);

	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
}

static void test_server_ctx_errors(void **state)
{
	struct paths *p = *state;
	char err[512] = "", d1[300], d2[300], c1[300], k1[300], c2[300], k2[300];

	snprintf(d1, sizeof(d1), "%s/one", p->dir);
	snprintf(d2, sizeof(d2), "%s/two", p->dir);
	make_pair(d1, "h", c1, k1, sizeof(c1));
	make_pair(d2, "h", c2, k2, sizeof(c2));

	assert_null(tls_server_ctx(c1, k2, err, sizeof(err)));
	assert_non_null(strstr(err, "does not match"));
	err[0] = '\0';
	assert_null(tls_server_ctx(c1, "/nonexistent/key.pem", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/key.pem"));
	err[0] = '\0';
	assert_null(tls_server_ctx("/nonexistent/cert.pem", k1, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	/* swapped files */
	assert_null(tls_server_ctx(k1, c1, err, sizeof(err)));
	ERR_clear_error();
}

/* Four daemons starting at once on an empty state folder agree on one pair. */
static void test_cert_concurrent(void **state)
{
	enum { N = 4, ROUNDS = 3 };
	struct paths *p = *state;

	for (int round = 0; round < ROUNDS; round++) {
		char dir[300], cert[400], key[400], err[512];
		pid_t pid[N];
		int go[2];
		SSL_CTX *ctx;

		snprintf(dir, sizeof(dir), "%s/r%d", p->dir, round);
		snprintf(cert, sizeof(cert), "%s/tls/cert.pem", dir);
		snprintf(key, sizeof(key), "%s/tls/key.pem", dir);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < N; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				char c;
				int r;
				close(go[1]);
				(void)!read(go[0], &c, 1);
				r = tls_ensure_cert(cert, key, "h", err, sizeof(err));
				if (r < 0)
					fprintf(stderr, "child %d: %s\n", i, err);
				_exit(r == 0 ? 0 : 1);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < N; i++) {
			int status;
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		ctx = tls_server_ctx(cert, key, err, sizeof(err));
		if (!ctx)
			fail_msg("%s", err);
		tls_ctx_free(ctx);
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/tls");
		assert_int_equal(unit_count_entries(dir), 2);
	}
}

static void test_pin(void **state)
{
	struct paths *p = *state;
	char known[300], cfg[128], pinned[TLS_FP_LEN] = "untouched";
	struct stat st;
	const char *text;

	snprintf(cfg, sizeof(cfg), "%s/cfg/nexus", p->dir);
	snprintf(known, sizeof(known), "%s/known_servers", cfg);

	assert_int_equal(tls_pin_check(known, "a:5555", FP_A, pinned), TLS_PIN_UNKNOWN);
	assert_string_equal(pinned, "untouched");
	assert_int_equal(tls_pin_save(known, "a:5555", FP_A), 0);
	assert_int_equal(stat(cfg, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(known, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(tls_pin_check(known, "a:5555", FP_A, pinned), TLS_PIN_MATCH);
	assert_string_equal(pinned, "untouched");
	assert_int_equal(tls_pin_check(known, "a:5556", FP_A, pinned), TLS_PIN_UNKNOWN);
	assert_int_equal(tls_pin_check(known, "a", FP_A, pinned), TLS_PIN_UNKNOWN);
	/* host names are case-insensitive */
	assert_int_equal(tls_pin_check(known, "A:5555", FP_A, pinned), TLS_PIN_MATCH);
	assert_int_equal(tls_pin_check(known, "a:5555", FP_B, pinned), TLS_PIN_MISMATCH);
	assert_string_equal(pinned, FP_A);
	assert_int_equal(tls_pin_check(known, "a:5555", FP_B, NULL), TLS_PIN_MISMATCH);

	/* add another, then replace the first: one line per host, others kept */
	assert_int_equal(tls_pin_save(known, "b:5555", FP_B), 0);
	assert_int_equal(tls_pin_save(known, "a:5555", FP_C), 0);
	assert_int_equal(tls_pin_check(known, "a:5555", FP_C, pinned), TLS_PIN_MATCH);
	assert_int_equal(tls_pin_check(known, "b:5555", FP_B, pinned), TLS_PIN_MATCH);
	text = read_text(known);
	assert_string_equal(text, "b:5555 " FP_B "\na:5555 " FP_C "\n");
	assert_int_equal(stat(known, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* no temporary files left */
	assert_int_equal(unit_count_entries(cfg), 1);
}

static void test_pin_file_format(void **state)
{
	struct paths *p = *state;
	char known[300], pinned[TLS_FP_LEN] = "";
	const char *text;

	snprintf(known, sizeof(known), "%s/known", p->dir);
	write_text(known,
	           "# trusted servers\n"
	           "# a:1 " FP_A "\n"
	           "\n"
	           "   \n"
	           "  b:2\t" FP_B "  \r\n"
	           "garbage\n"
	           "c:3 SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
	           "d:4 " FP_A "\n"
	           "d:4 " FP_B);

	assert_int_equal(tls_pin_check(known, "a:1", FP_A, pinned), TLS_PIN_UNKNOWN);
	assert_int_equal(tls_pin_check(known, "#", FP_A, pinned), TLS_PIN_UNKNOWN);
	assert_int_equal(tls_pin_check(known, "garbage", FP_A, pinned), TLS_PIN_UNKNOWN);
	assert_int_equal(tls_pin_check(known, "b:2", FP_B, pinned), TLS_PIN_MATCH);
	assert_int_equal(tls_pin_check(known, "c:3", FP_C, pinned), TLS_PIN_MATCH);
	assert_int_equal(tls_pin_check(known, "d:4", FP_A, pinned), TLS_PIN_MATCH);

	/* saving keeps comments and unrelated lines, drops every old d:4 line */
	assert_int_equal(tls_pin_save(known, "d:4", FP_C), 0);
	text = read_text(known);
	assert_non_null(strstr(text, "# trusted servers\n# a:1 " FP_A "\n\n   \n"));
	assert_non_null(strstr(text, "  b:2\t" FP_B "  \r\n"));
	assert_non_null(strstr(text, "garbage\n"));
	assert_null(strstr(text, "d:4 " FP_A));
	assert_null(strstr(text, "d:4 " FP_B));
	assert_non_null(strstr(text, "d:4 " FP_C "\n"));
	assert_int_equal(tls_pin_check(known, "d:4", FP_C, pinned), TLS_PIN_MATCH);
	assert_int_equal(tls_pin_check(known, "b:2", FP_B, pinned), TLS_PIN_MATCH);

	/* what would corrupt the file is refused */
	assert_int_equal(tls_pin_save(known, "e 5", FP_A), -EINVAL);
	assert_int_equal(tls_pin_save(known, "e:5\n", FP_A), -EINVAL);
	assert_int_equal(tls_pin_save(known, "", FP_A), -EINVAL);
	assert_int_equal(tls_pin_save(known, "#e:5", FP_A), -EINVAL);
	assert_int_equal(tls_pin_save(known, "e:5", "SHA256:abc"), -EINVAL);
	assert_int_equal(tls_pin_save(known, "e:5", FP_A "\n"), -EINVAL);
	assert_int_equal(tls_pin_check(known, "e:5", FP_A, pinned), TLS_PIN_UNKNOWN);

	/* an unreadable file is an error, not an unknown server */
	assert_true(tls_pin_check(p->dir, "a:1", FP_A, pinned) < 0);
	assert_true(tls_pin_save(p->dir, "a:1", FP_A) < 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_cert_generate),     T(test_cert_ip_hostname), T(test_fingerprint_der),
	    T(test_cert_bad_dir),      T(test_handshake),        T(test_tls12_refused),
	    T(test_server_ctx_errors), T(test_cert_concurrent),  T(test_pin),
	    T(test_pin_file_format),   T(test_cert_half_pair),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
