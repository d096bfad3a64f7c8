#include "auth.h"
#include "fsutil.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane. */
#define AUTH_ARGON_T 2
#define AUTH_ARGON_M 19456
#define AUTH_ARGON_P 1
#define AUTH_SALT_LEN 16
#define AUTH_HASH_LEN 32

#define AUTH_NAME_MAX 32
#define AUTH_NONCE_LEN 8 /* bytes; 16 hex digits */
#define AUTH_MAC_LEN 32
#define AUTH_EXPIRY_DIGITS 20

bool auth_name_valid(const char *name)
{
	size_t n;

	if (!name || name[0] == '\0' || name[0] == '-')
		return false;
	n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	return name[n] == '\0' && n <= AUTH_NAME_MAX;
}

static int auth_password_check(const char *password, size_t *ret_len)
{
	size_t n;

	if (!password)
		return -EINVAL;
	n = strnlen(password, AUTH_PASSWORD_MAX + 1);
	if (n > AUTH_PASSWORD_MAX)
		return -E2BIG;
	*ret_len = n;
	return 0;
}

static int auth_argon2_errno(int rc)
{
	switch (rc) {
	case ARGON2_OK:
		return 0;
	case ARGON2_VERIFY_MISMATCH:
		return -EACCES;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

int auth_password_hash(const char *password, char out[AUTH_HASH_MAX])
{
	uint8_t salt[AUTH_SALT_LEN];
	char buf[AUTH_HASH_MAX];
	size_t n = 0;
	int r;

	if (!out)
		return -EINVAL;
	r = auth_password_check(password, &n);
	if (r < 0)
		return r;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	r = argon2id_hash_encoded(AUTH_ARGON_T, AUTH_ARGON_M, AUTH_ARGON_P, password, n, salt,
	                          sizeof(salt), AUTH_HASH_LEN, buf, sizeof(buf));
	r = auth_argon2_errno(r);
	if (r == 0)
		memcpy(out, buf, sizeof(buf));
	return r;
}

int auth_password_verify(const char *encoded, const char *password)
{
	size_t n = 0;
	int r;

	if (!encoded)
		return -EINVAL;
	r = auth_password_check(password, &n);
	if (r < 0)
		return r;
	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -EINVAL;
	return auth_argon2_errno(argon2id_verify(encoded, password, n));
}

/* Reads a key file that must hold exactly AUTH_KEY_LEN raw bytes. */
static int auth_key_read(const char *path, uint8_t key[AUTH_KEY_LEN])
{
	uint8_t buf[AUTH_KEY_LEN + 1];
	size_t got = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (r == 0 && got != AUTH_KEY_LEN)
		r = -EINVAL;
	if (r == 0)
		memcpy(key, buf, AUTH_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

static int auth_key_write_cb(int fd, void *key)
{
	return fsutil_write_all(fd, key, AUTH_KEY_LEN);
}

/* Writes a fresh random key to a temporary file and links it into place;
 * link() never replaces, so when another starter won, -EEXIST. */
static int auth_key_create(const char *path)
{
	uint8_t key[AUTH_KEY_LEN];
	int r;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return -EIO;
	r = fsutil_replace(path, 0600, FSUTIL_NOREPLACE, auth_key_write_cb, key);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int auth_key_load(const char *path, bool create, uint8_t key[AUTH_KEY_LEN])
{
	int r;

	if (!path || !*path || !key)
		return -EINVAL;
	/* a few rounds: the file may vanish between our create and read */
	for (int i = 0; i < 3; i++) {
		r = auth_key_read(path, key);
		if (r != -ENOENT || !create)
			return r;
		r = auth_key_create(path);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return auth_key_read(path, key);
}

static int auth_mac(const uint8_t key[AUTH_KEY_LEN], const char *data, size_t len,
                    uint8_t mac[AUTH_MAC_LEN])
{
	unsigned int maclen = 0;

	if (!HMAC(EVP_sha256(), key, AUTH_KEY_LEN, (const unsigned char *)data, len, mac,
	          &maclen) ||
	    maclen != AUTH_MAC_LEN)
		return -EIO;
	return 0;
}

int auth_token_issue(const uint8_t key[AUTH_KEY_LEN], const char *user, uint64_t issued_ms,
                     uint64_t expiry, char out[AUTH_TOKEN_MAX])
{
	uint8_t nonce[AUTH_NONCE_LEN], mac[AUTH_MAC_LEN];
	char nonce_hex[2 * AUTH_NONCE_LEN + 1], buf[AUTH_TOKEN_MAX];
	int n, r;

	if (!key || !out || !auth_name_valid(user))
		return -EINVAL;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -EIO;
	hex_encode(nonce, sizeof(nonce), nonce_hex);
	n = snprintf(buf, sizeof(buf), "v1.%s.%" PRIu64 ".%" PRIu64 ".%s", user, expiry, issued_ms,
	             nonce_hex);
	if (n < 0 || (size_t)n + 1 + 2 * AUTH_MAC_LEN >= sizeof(buf))
		return -ENAMETOOLONG;
	r = auth_mac(key, buf, (size_t)n, mac);
	if (r < 0)
		return r;
	buf[n] = '.';
	hex_encode(mac, sizeof(mac), buf + n + 1);
	memcpy(out, buf, (size_t)n + 2 + 2 * AUTH_MAC_LEN);
	return 0;
}

static bool auth_is_lower_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, HEX_DIGITS) == len;
}

static int auth_hex_val(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Decimal seconds: digits only, no leading zero, no overflow. */
static int auth_parse_expiry(const char *s, uint64_t *ret)
{
	size_t n = strlen(s);
	uint64_t v = 0;

	if (n == 0 || n > AUTH_EXPIRY_DIGITS || strspn(s, "0123456789") != n ||
	    (s[0] == '0' && n > 1))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

#define AUTH_TOKEN_PARTS 6

/* Splits "v1.USER.EXPIRY.ISSUED.NONCE.MAC" in buf into exactly six parts. */
static int auth_token_split(char *buf, char *part[AUTH_TOKEN_PARTS])
{
	int i = 0;

	part[i++] = buf;
	for (char *p = buf; *p; p++) {
		if (*p != '.')
			continue;
		if (i == AUTH_TOKEN_PARTS)
			return -EBADMSG;
		*p = '\0';
		part[i++] = p + 1;
	}
	return i == AUTH_TOKEN_PARTS ? 0 : -EBADMSG;
}

int auth_token_verify(const uint8_t key[AUTH_KEY_LEN], const char *token, uint64_t now,
                      char *ret_user, size_t user_size, uint64_t *ret_expiry)
{
	return auth_token_verify_issued(key, token, now, ret_user, user_size, ret_expiry, NULL);
}

int auth_token_verify_issued(const uint8_t key[AUTH_KEY_LEN], const char *token, uint64_t now,
                             char *ret_user, size_t user_size, uint64_t *ret_expiry,
                             uint64_t *ret_issued_ms)
{
	char buf[AUTH_TOKEN_MAX], *part[AUTH_TOKEN_PARTS];
	uint8_t mac[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	uint64_t expiry = 0, issued = 0;
	size_t len, signed_len;
	int r;

	if (!key || !token)
		return -EINVAL;
	len = strnlen(token, sizeof(buf));
	if (len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, token, len + 1);
	if (auth_token_split(buf, part) < 0 || strcmp(part[0], "v1") != 0 ||
	    !auth_name_valid(part[1]) || auth_parse_expiry(part[2], &expiry) < 0 ||
	    auth_parse_expiry(part[3], &issued) < 0 ||
	    !auth_is_lower_hex(part[4], 2 * AUTH_NONCE_LEN) ||
	    !auth_is_lower_hex(part[5], 2 * AUTH_MAC_LEN))
		return -EBADMSG;
	for (size_t i = 0; i < AUTH_MAC_LEN; i++)
		mac[i] =
		    (uint8_t)(auth_hex_val(part[5][2 * i]) << 4 | auth_hex_val(part[5][2 * i + 1]));
	/* the signed text is the token up to the last dot */
	signed_len = (size_t)(part[5] - buf) - 1;
	r = auth_mac(key, token, signed_len, want);
	if (r < 0)
		return r;
	/* forged beats expired: check the MAC first */
	if (CRYPTO_memcmp(mac, want, sizeof(mac)) != 0)
		return -EBADMSG;
	if (now >= expiry)
		return -EKEYEXPIRED;
	if (ret_user) {
		if (strlen(part[1]) >= user_size)
			return -ENOBUFS;
		memcpy(ret_user, part[1], strlen(part[1]) + 1);
	}
	if (ret_expiry)
		*ret_expiry = expiry;
	if (ret_issued_ms)
		*ret_issued_ms = issued;
	return 0;
}

static int auth_pass_mac(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *room,
                         uint64_t expiry, bool admin, uint8_t mac[AUTH_MAC_LEN])
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "p1\n%s\n%s\n%" PRIu64 "\n%d", user, room, expiry,
	                 admin ? 1 : 0);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return auth_mac(key, buf, (size_t)n, mac);
}

int auth_pass_issue(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *room, bool admin,
                    uint64_t expiry, char out[AUTH_PASS_MAX])
{
	uint8_t mac[AUTH_MAC_LEN];
	int n, r;

	if (!key || !out || !auth_name_valid(user) || !room || !room[0] || strchr(room, '\n'))
		return -EINVAL;
	r = auth_pass_mac(key, user, room, expiry, admin, mac);
	if (r < 0)
		return r;
	n = snprintf(out, AUTH_PASS_MAX, "p1.%" PRIu64 ".%d.", expiry, admin ? 1 : 0);
	if (n < 0 || (size_t)n + 2 * AUTH_MAC_LEN >= AUTH_PASS_MAX)
		return -ENAMETOOLONG;
	hex_encode(mac, sizeof(mac), out + n);
	return 0;
}

int auth_pass_verify(const uint8_t key[AUTH_KEY_LEN], const char *pass, const char *user,
                     const char *room, uint64_t now, bool *ret_admin)
{
	char buf[AUTH_PASS_MAX];
	uint8_t mac[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	uint64_t expiry;
	char *dot;
	bool admin;
	size_t len;
	int r;

	if (!key || !pass || !user || !room)
		return -EINVAL;
	len = strnlen(pass, sizeof(buf));
	if (len >= sizeof(buf) || strncmp(pass, "p1.", 3) != 0)
		return -EBADMSG;
	memcpy(buf, pass + 3, len - 2);
	dot = strchr(buf, '.');
	if (!dot || (dot[1] != '0' && dot[1] != '1') || dot[2] != '.')
		return -EBADMSG;
	*dot = '\0';
	admin = dot[1] == '1';
	dot += 2;
	if (auth_parse_expiry(buf, &expiry) < 0 || !auth_is_lower_hex(dot + 1, 2 * AUTH_MAC_LEN) ||
	    !auth_name_valid(user) || strchr(room, '\n'))
		return -EBADMSG;
	for (size_t i = 0; i < AUTH_MAC_LEN; i++)
		mac[i] =
		    (uint8_t)(auth_hex_val(dot[1 + 2 * i]) << 4 | auth_hex_val(dot[2 + 2 * i]));
	r = auth_pass_mac(key, user, room, expiry, admin, want);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(mac, want, sizeof(mac)) != 0)
		return -EBADMSG;
	if (now >= expiry)
		return -EKEYEXPIRED;
	if (ret_admin)
		*ret_admin = admin;
	return 0;
}

int auth_relay_sign(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *addr,
                    uint64_t ts_ms, uint8_t mac[AUTH_RELAY_MAC_LEN])
{
	char buf[256];
	int n;

	if (!key || !user || !addr || !mac || strchr(user, '\n') || strchr(addr, '\n'))
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), "r1\n%s\n%s\n%" PRIu64, user, addr, ts_ms);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return auth_mac(key, buf, (size_t)n, mac);
}

int auth_relay_verify(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *addr,
                      uint64_t ts_ms, uint64_t now_ms, const uint8_t mac[AUTH_RELAY_MAC_LEN])
{
	uint8_t want[AUTH_RELAY_MAC_LEN];
	uint64_t skew = ts_ms > now_ms ? ts_ms - now_ms : now_ms - ts_ms;
	int r = auth_relay_sign(key, user, addr, ts_ms, want);

	if (r < 0)
		return -EBADMSG;
	r = CRYPTO_memcmp(want, mac, sizeof(want)) == 0 ? 0 : -EBADMSG;
	explicit_bzero(want, sizeof(want));
	if (r == 0 && skew > AUTH_RELAY_SKEW_MS)
		r = -EKEYEXPIRED;
	return r;
}
