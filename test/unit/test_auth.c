#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit_files.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"

static const uint8_t key1[AUTH_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[AUTH_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static int dir_setup(void **state)
{
	char *dir = strdup("/tmp/nexus-test-auth.XXXXXX");

	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int dir_teardown(void **state)
{
	unit_rm_tree(*state);
	free(*state);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A token over arbitrary text, signed with key: lets tests build tokens that
 * carry a valid MAC but break the format. */
static void sign(const uint8_t *key, const char *body, char *out, size_t outlen)
{
	unsigned char mac[32];
	unsigned int len = 0;
	int n;

	assert_non_null(HMAC(EVP_sha256(), key, AUTH_KEY_LEN, (const unsigned char *)body,
	                     strlen(body), mac, &len));
	n = snprintf(out, outlen, "%s.", body);
	for (unsigned i = 0; i < len; i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", mac[i]);
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(auth_name_valid("alice"));
	assert_true(auth_name_valid("A_b-9"));
	assert_true(auth_name_valid("_x"));
	assert_true(auth_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
	assert_false(auth_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(auth_name_valid(""));
	assert_false(auth_name_valid(NULL));
	assert_false(auth_name_valid("-alice"));
	assert_false(auth_name_valid("al ice"));
	assert_false(auth_name_valid("al.ice"));
	assert_false(auth_name_valid("al:ice"));
	assert_false(auth_name_valid("élise"));
}

static void test_password(void **state)
{
	char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_password_hash("correct horse", h1), 0);
	assert_true(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	assert_true(strlen(h1) < AUTH_HASH_MAX);
	assert_int_equal(auth_password_verify(h1, "correct horse"), 0);
	assert_int_equal(auth_password_verify(h1, "correct horsE"), -EACCES);
	assert_int_equal(auth_password_verify(h1, ""), -EACCES);
	/* random salt: same password, different hash, both verify */
	assert_int_equal(auth_password_hash("correct horse", h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(auth_password_verify(h2, "correct horse"), 0);
	assert_int_equal(auth_password_verify("not a hash", "x"), -EINVAL);
	assert_int_equal(auth_password_verify("$argon2id$garbage", "x"), -EINVAL);
	assert_int_equal(
	    auth_password_verify("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", "x"), -EINVAL);
	assert_int_equal(auth_password_verify(NULL, "x"), -EINVAL);
	assert_int_equal(auth_password_verify(h1, NULL), -EINVAL);
	assert_int_equal(auth_password_hash(NULL, h2), -EINVAL);
}

static void test_password_length(void **state)
{
	char pw[AUTH_PASSWORD_MAX + 2], h[AUTH_HASH_MAX] = "untouched";

	(void)state;
	memset(pw, 'p', AUTH_PASSWORD_MAX + 1);
	pw[AUTH_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(auth_password_hash(pw, h), -E2BIG);
	assert_string_equal(h, "untouched");
	pw[AUTH_PASSWORD_MAX] = '\0';
	assert_int_equal(auth_password_hash(pw, h), 0);
	assert_int_equal(auth_password_verify(h, pw), 0);
	pw[AUTH_PASSWORD_MAX] = 'p';
	assert_int_equal(auth_password_verify(h, pw), -E2BIG);
}

static void test_key_create_load(void **state)
{
	char path[512];
	uint8_t k1[AUTH_KEY_LEN], k2[AUTH_KEY_LEN], zero[AUTH_KEY_LEN] = {0};
	struct stat st;

	snprintf(path, sizeof(path), "%s/token.key", (char *)*state);
	assert_int_equal(auth_key_load(path, false, k1), -ENOENT);
	assert_int_equal(auth_key_load(path, true, k1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, AUTH_KEY_LEN);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_memory_not_equal(k1, zero, AUTH_KEY_LEN);
	assert_int_equal(auth_key_load(path, false, k2), 0);
	assert_memory_equal(k1, k2, AUTH_KEY_LEN);
	assert_int_equal(auth_key_load(path, true, k2), 0);
	assert_memory_equal(k1, k2, AUTH_KEY_LEN);
	/* only the key: the temporary file is gone */
	assert_int_equal(unit_count_entries(*state), 1);

	snprintf(path, sizeof(path), "%s/no/such/dir/token.key", (char *)*state);
	assert_int_equal(auth_key_load(path, true, k1), -ENOENT);
}

static void test_key_wrong_size(void **state)
{
	char path[512];
	uint8_t buf[AUTH_KEY_LEN + 1], k[AUTH_KEY_LEN], orig[AUTH_KEY_LEN];
	size_t sizes[] = {0, 1, AUTH_KEY_LEN - 1, AUTH_KEY_LEN + 1};

	memset(buf, 7, sizeof(buf));
	memset(k, 0x55, sizeof(k));
	memcpy(orig, k, sizeof(k));
	snprintf(path, sizeof(path), "%s/token.key", (char *)*state);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		write_file(path, buf, sizes[i]);
		assert_int_equal(auth_key_load(path, false, k), -EINVAL);
		assert_int_equal(auth_key_load(path, true, k), -EINVAL);
		assert_memory_equal(k, orig, sizeof(k));
	}
	/* a directory is not a key either */
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(auth_key_load(path, true, k) < 0);
	rmdir(path);
	write_file(path, buf, AUTH_KEY_LEN);
	assert_int_equal(auth_key_load(path, false, k), 0);
	assert_memory_equal(k, buf, AUTH_KEY_LEN);
}

struct key_result {
	int rc;
	uint8_t key[AUTH_KEY_LEN];
};

/* Four processes start at once on a missing key: all must end up with the one
 * key that landed on disk. */
static void test_key_concurrent(void **state)
{
	enum { N = 4, ROUNDS = 5 };
	struct key_result *res;
	char path[512];
	uint8_t disk[AUTH_KEY_LEN];

	res =
	    mmap(NULL, sizeof(*res) * N, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(res != MAP_FAILED);
	for (int round = 0; round < ROUNDS; round++) {
		int go[2];
		pid_t pid[N];

		snprintf(path, sizeof(path), "%s/key%d", (char *)*state, round);
		memset(res, 0, sizeof(*res) * N);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < N; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				char c;
				close(go[1]);
				/* released together when the parent closes the pipe */
				(void)!read(go[0], &c, 1);
				res[i].rc = auth_key_load(path, true, res[i].key);
				_exit(0);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < N; i++) {
			int status;
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		assert_int_equal(auth_key_load(path, false, disk), 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(res[i].rc, 0);
			assert_memory_equal(res[i].key, disk, AUTH_KEY_LEN);
		}
	}
	/* ROUNDS keys and no leftover temporary files */
	assert_int_equal(unit_count_entries(*state), ROUNDS);
	munmap(res, sizeof(*res) * N);
}

/* Room passes bind user, room and expiry; a token is never a pass. */
/* videod's LOGIN_VIA proof: bound to user, address and time, key holders only. */
static void test_relay(void **state)
{
	const uint64_t t = 1800000000000ull;
	uint8_t mac[AUTH_RELAY_MAC_LEN];

	(void)state;
	assert_int_equal(auth_relay_sign(key1, "alice", "127.0.0.2", t, mac), 0);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t, t, mac), 0);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t, t + 60000, mac), 0);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t, t - 60000, mac), 0);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t, t + 60001, mac),
	                 -EKEYEXPIRED);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t, t - 60001, mac),
	                 -EKEYEXPIRED);
	assert_int_equal(auth_relay_verify(key1, "bob", "127.0.0.2", t, t, mac), -EBADMSG);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.3", t, t, mac), -EBADMSG);
	assert_int_equal(auth_relay_verify(key1, "alice", "127.0.0.2", t + 1, t, mac), -EBADMSG);
	assert_int_equal(auth_relay_verify(key2, "alice", "127.0.0.2", t, t, mac), -EBADMSG);
	/* a newline could make two different (user, addr) pairs sign alike */
	assert_int_equal(auth_relay_sign(key1, "alice\n1", "2", t, mac), -EINVAL);
	assert_int_equal(auth_relay_sign(key1, "alice", "1\n2", t, mac), -EINVAL);
}

static void test_room_pass(void **state)
{
	char pass[AUTH_PASS_MAX], tok[AUTH_TOKEN_MAX], bad[AUTH_PASS_MAX];
	bool admin = true;

	(void)state;
	assert_int_equal(auth_pass_issue(key1, "alice", "lobby", false, 2000, pass), 0);
	assert_int_equal(strncmp(pass, "p1.2000.0.", 10), 0);
	assert_int_equal(strlen(pass), 10 + 64);
	assert_int_equal(auth_pass_verify(key1, pass, "alice", "lobby", 1000, &admin), 0);
	assert_false(admin);
	assert_int_equal(auth_pass_verify(key1, pass, "alice", "lobby", 2000, NULL), -EKEYEXPIRED);
	assert_int_equal(auth_pass_verify(key1, pass, "bob", "lobby", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_verify(key1, pass, "alice", "lobby2", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_verify(key2, pass, "alice", "lobby", 1000, NULL), -EBADMSG);
	/* the admin bit is signed */
	memcpy(bad, pass, sizeof(bad));
	bad[8] = '1';
	assert_int_equal(auth_pass_verify(key1, bad, "alice", "lobby", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_issue(key1, "alice", "@alice:bob", true, 2000, pass), 0);
	assert_int_equal(auth_pass_verify(key1, pass, "alice", "@alice:bob", 1000, &admin), 0);
	assert_true(admin);
	/* a later expiry with the old MAC is forged */
	memcpy(bad, pass, sizeof(bad));
	bad[3] = '3';
	assert_int_equal(auth_pass_verify(key1, bad, "alice", "@alice:bob", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_verify(key1, "p1.2000", "alice", "x", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_verify(key1, "", "alice", "x", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_verify(key1, "p1.02000.0.00", "alice", "x", 1000, NULL),
	                 -EBADMSG);
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, 2000, tok), 0);
	assert_int_equal(auth_pass_verify(key1, tok, "alice", "lobby", 1000, NULL), -EBADMSG);
	assert_int_equal(auth_pass_issue(key1, "bad name", "lobby", false, 2000, pass), -EINVAL);
	assert_int_equal(auth_pass_issue(key1, "alice", "", false, 2000, pass), -EINVAL);
}

static void test_token_round_trip(void **state)
{
	char tok[AUTH_TOKEN_MAX], tok2[AUTH_TOKEN_MAX], user[33];
	uint64_t exp = 0;
	uint64_t now = (uint64_t)time(NULL);
	int dots = 0;

	(void)state;
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, now + 3600, tok), 0);
	for (const char *p = tok; *p; p++)
		dots += *p == '.';
	assert_int_equal(dots, 5);
	assert_true(strncmp(tok, "v1.alice.", 9) == 0);
	assert_int_equal(auth_token_verify(key1, tok, now, user, sizeof(user), &exp), 0);
	assert_string_equal(user, "alice");
	assert_int_equal(exp, now + 3600);
	{
		uint64_t issued = 0;

		assert_int_equal(auth_token_verify_issued(key1, tok, now, NULL, 0, NULL, &issued),
		                 0);
		assert_true(issued == 1700000000123ULL);
	}
	/* outputs are optional */
	assert_int_equal(auth_token_verify(key1, tok, now, NULL, 0, NULL), 0);
	/* a fresh nonce every time */
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, now + 3600, tok2), 0);
	assert_string_not_equal(tok, tok2);

	/* the longest name and expiry still fit */
	assert_int_equal(auth_token_issue(key1, "abcdefghijklmnopqrstuvwxyz012345", 1700000000123,
	                                  UINT64_MAX, tok),
	                 0);
	assert_true(strlen(tok) < AUTH_TOKEN_MAX);
	assert_int_equal(auth_token_verify(key1, tok, now, user, sizeof(user), &exp), 0);
	assert_string_equal(user, "abcdefghijklmnopqrstuvwxyz012345");
	assert_true(exp == UINT64_MAX);

	assert_int_equal(auth_token_issue(key1, "bad name", 1700000000123, now, tok), -EINVAL);
	assert_int_equal(auth_token_issue(key1, "", 1700000000123, now, tok), -EINVAL);
	assert_int_equal(auth_token_issue(key1, "-x", 1700000000123, now, tok), -EINVAL);
}

static void test_token_user_buffer(void **state)
{
	char tok[AUTH_TOKEN_MAX], user[6];
	uint64_t exp = 7;

	(void)state;
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, 2000, tok), 0);
	assert_int_equal(auth_token_verify(key1, tok, 1000, user, 5, &exp), -ENOBUFS);
	assert_true(exp == 7);
	assert_int_equal(auth_token_verify(key1, tok, 1000, user, 6, &exp), 0);
	assert_string_equal(user, "alice");
	assert_true(exp == 2000);
}

static void test_token_expired(void **state)
{
	char tok[AUTH_TOKEN_MAX], user[33] = "untouched";
	uint64_t exp = 7;

	(void)state;
	assert_int_equal(auth_token_issue(key1, "bob", 1700000000123, 1000, tok), 0);
	assert_int_equal(auth_token_verify(key1, tok, 999, NULL, 0, NULL), 0);
	assert_int_equal(auth_token_verify(key1, tok, 1000, user, sizeof(user), &exp),
	                 -EKEYEXPIRED);
	assert_int_equal(auth_token_verify(key1, tok, 5000, user, sizeof(user), &exp),
	                 -EKEYEXPIRED);
	assert_string_equal(user, "untouched");
	assert_true(exp == 7);
	/* an expired token under another key is forged, not expired */
	assert_int_equal(auth_token_verify(key2, tok, 5000, NULL, 0, NULL), -EBADMSG);
	assert_int_equal(auth_token_issue(key1, "bob", 1700000000123, 0, tok), 0);
	assert_int_equal(auth_token_verify(key1, tok, 0, NULL, 0, NULL), -EKEYEXPIRED);
}

static void test_token_forged(void **state)
{
	char tok[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX * 2], user[33] = "untouched";
	size_t len;

	(void)state;
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, 2000, tok), 0);
	len = strlen(tok);

	/* wrong key */
	assert_int_equal(auth_token_verify(key2, tok, 1000, user, sizeof(user), NULL), -EBADMSG);
	assert_string_equal(user, "untouched");

	/* every single-character change of the MAC, nonce and body is caught */
	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '.')
			continue;
		strcpy(bad, tok);
		bad[i] = bad[i] == 'a' ? 'b' : (bad[i] == '1' ? '2' : 'a');
		assert_int_equal(auth_token_verify(key1, bad, 1000, user, sizeof(user), NULL),
		                 -EBADMSG);
	}

	/* tampered user and expiry, with the original MAC */
	strcpy(bad, tok);
	memcpy(bad + 3, "alicf", 5);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	snprintf(bad, sizeof(bad), "v1.alice.9000%s", tok + strlen("v1.alice.2000"));
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	snprintf(bad, sizeof(bad), "v1.mallory.2000%s", tok + strlen("v1.alice.2000"));
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	assert_string_equal(user, "untouched");
}

static void test_token_malformed(void **state)
{
	char tok[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX * 2];
	size_t len;

	(void)state;
	assert_int_equal(auth_token_issue(key1, "alice", 1700000000123, 2000, tok), 0);
	len = strlen(tok);

	/* every truncation */
	for (size_t i = 0; i < len; i++) {
		snprintf(bad, sizeof(bad), "%.*s", (int)i, tok);
		assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	}
	/* extra parts */
	snprintf(bad, sizeof(bad), "%s.", tok);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	snprintf(bad, sizeof(bad), "%s.00", tok);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	snprintf(bad, sizeof(bad), ".%s", tok);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	/* trailing junk and uppercase MAC */
	snprintf(bad, sizeof(bad), "%s0", tok);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	snprintf(bad, sizeof(bad), "%s\n", tok);
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	strcpy(bad, tok);
	for (char *p = strrchr(bad, '.'); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if (strcmp(bad, tok) != 0)
		assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	/* oversized */
	memset(bad, 'a', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0';
	assert_int_equal(auth_token_verify(key1, bad, 1000, NULL, 0, NULL), -EBADMSG);
	assert_int_equal(auth_token_verify(key1, "", 1000, NULL, 0, NULL), -EBADMSG);
	assert_int_equal(auth_token_verify(key1, "....", 1000, NULL, 0, NULL), -EBADMSG);
	assert_int_equal(auth_token_verify(key1, NULL, 1000, NULL, 0, NULL), -EINVAL);
}

/* Correctly signed text that breaks the format is still refused. */
static void test_token_strict_parse(void **state)
{
	static const char *bodies[] = {
	    "v2.alice.2000.1700000000123.0123456789abcdef",
	    "V1.alice.2000.1700000000123.0123456789abcdef",
	    "v1.al ice.2000.1700000000123.0123456789abcdef",
	    "v1.-alice.2000.1700000000123.0123456789abcdef",
	    "v1..2000.1700000000123.0123456789abcdef",
	    "v1.abcdefghijklmnopqrstuvwxyz0123456.2000.1700000000123.0123456789abcdef",
	    "v1.alice.+2000.1700000000123.0123456789abcdef",
	    "v1.alice.-2000.1700000000123.0123456789abcdef",
	    "v1.alice. 2000.1700000000123.0123456789abcdef",
	    "v1.alice.02000.1700000000123.0123456789abcdef",
	    "v1.alice.2000x.1700000000123.0123456789abcdef",
	    "v1.alice..1700000000123.0123456789abcdef",
	    "v1.alice.18446744073709551616.1700000000123.0123456789abcdef",
	    "v1.alice.99999999999999999999.1700000000123.0123456789abcdef",
	    "v1.alice.000000000000000000002000.1700000000123.0123456789abcdef",
	    "v1.alice.2000.0123456789ABCDEF",
	    "v1.alice.2000.1700000000123.0123456789abcde",
	    "v1.alice.2000.1700000000123.0123456789abcdef0",
	    "v1.alice.2000.1700000000123.0123456789abcdeg",
	    "v1.alice.2000",
	    /* the issue time: decimal milliseconds, present */
	    "v1.alice.2000.0123456789abcdef",
	    "v1.alice.2000..0123456789abcdef",
	    "v1.alice.2000.01700000000123.0123456789abcdef",
	    "v1.alice.2000.17000000001x3.0123456789abcdef",
	    "v1.alice.2000.18446744073709551616.0123456789abcdef",
	};
	uint64_t issued = 0;
	char tok[AUTH_TOKEN_MAX * 2];
	uint64_t exp = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		sign(key1, bodies[i], tok, sizeof(tok));
		assert_int_equal(auth_token_verify(key1, tok, 1000, NULL, 0, NULL), -EBADMSG);
	}
	/* the same helper makes tokens that do verify */
	sign(key1, "v1.alice.2000.1700000000123.0123456789abcdef", tok, sizeof(tok));
	assert_int_equal(auth_token_verify(key1, tok, 1000, NULL, 0, &exp), 0);
	assert_true(exp == 2000);
	assert_int_equal(auth_token_verify_issued(key1, tok, 1000, NULL, 0, NULL, &issued), 0);
	assert_true(issued == 1700000000123ULL);
	sign(key1, "v1.alice.18446744073709551615.1700000000123.0123456789abcdef", tok,
	     sizeof(tok));
	assert_int_equal(auth_token_verify(key1, tok, 1000, NULL, 0, &exp), 0);
	assert_true(exp == UINT64_MAX);
	sign(key1, "v1.alice.0.1700000000123.0123456789abcdef", tok, sizeof(tok));
	assert_int_equal(auth_token_verify(key1, tok, 0, NULL, 0, NULL), -EKEYEXPIRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_password),
	    cmocka_unit_test(test_password_length),
	    cmocka_unit_test_setup_teardown(test_key_create_load, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_key_wrong_size, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_key_concurrent, dir_setup, dir_teardown),
	    cmocka_unit_test(test_token_round_trip),
	    cmocka_unit_test(test_token_user_buffer),
	    cmocka_unit_test(test_token_expired),
	    cmocka_unit_test(test_token_forged),
	    cmocka_unit_test(test_room_pass),
	    cmocka_unit_test(test_relay),
	    cmocka_unit_test(test_token_malformed),
	    cmocka_unit_test(test_token_strict_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
