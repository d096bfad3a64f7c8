/* auth: Argon2id password hashes, the shared token key, and HMAC-SHA256
 * signed expiring tokens that every daemon verifies without a database.
 *
 * Token text: "v1.USER.EXPIRY.ISSUED.NONCE.MAC" where EXPIRY is decimal
 * seconds since the epoch, ISSUED decimal milliseconds since the epoch (so a
 * revocation stamp, common/revoke.h, can tell tokens issued before a password
 * reset from those issued after it, even within one second), NONCE 16 hex
 * digits and MAC the hex HMAC-SHA256 of "v1.USER.EXPIRY.ISSUED.NONCE" under
 * the token key. */
#ifndef NEXUS_AUTH_H
#define NEXUS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_KEY_LEN 32
#define AUTH_HASH_MAX 128  /* encoded Argon2id hash */
#define AUTH_TOKEN_MAX 200 /* fits PROTO_SECRET_MAX */
#define AUTH_PASSWORD_MIN 6
#define AUTH_PASSWORD_MAX 256

/* User names: 1..32 of [A-Za-z0-9_-], not starting with '-'. */
bool auth_name_valid(const char *name);

/* Argon2id with a random salt. Returns 0 or a negative errno. */
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX]);
/* 0 when password matches encoded, -EACCES when not, other -errno on error. */
int auth_password_verify(const char *encoded, const char *password);

/* Read the key at path; create it (0600, random, via a temporary file and
 * link so concurrent starters agree on one key) if missing. */
int auth_key_load(const char *path, bool create, uint8_t key[AUTH_KEY_LEN]);

/* Issue a token for user, issued at issued_ms (milliseconds since the
 * epoch), valid until expiry (seconds since the epoch). */
int auth_token_issue(const uint8_t key[AUTH_KEY_LEN], const char *user, uint64_t issued_ms,
                     uint64_t expiry, char out[AUTH_TOKEN_MAX]);
/* Verify; on success copies the user (size >= 33) and expiry.
 * Returns 0, -EKEYEXPIRED when expired, -EBADMSG when malformed or forged. */
int auth_token_verify(const uint8_t key[AUTH_KEY_LEN], const char *token, uint64_t now,
                      char *ret_user, size_t user_size, uint64_t *ret_expiry);
/* The same, also copying the issue time in milliseconds. */
int auth_token_verify_issued(const uint8_t key[AUTH_KEY_LEN], const char *token, uint64_t now,
                             char *ret_user, size_t user_size, uint64_t *ret_expiry,
                             uint64_t *ret_issued_ms);

/* Room passes: chatd tells audiod "user may join room until expiry" (and
 * whether the user is an admin) without a shared database. Text:
 * "p1.EXPIRY.A.MAC", A = 1 for an admin else 0, MAC the hex HMAC-SHA256 of
 * "p1\nUSER\nROOM\nEXPIRY\nA" under the token key (the "p1\n" prefix keeps a
 * pass from ever verifying as a token and back). The verifier supplies user
 * (from the session's verified token) and room (from the join request). */
#define AUTH_PASS_MAX 96
int auth_pass_issue(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *room, bool admin,
                    uint64_t expiry, char out[AUTH_PASS_MAX]);
/* Returns 0, -EKEYEXPIRED, or -EBADMSG when malformed, forged, or for
 * another user or room. */
int auth_pass_verify(const uint8_t key[AUTH_KEY_LEN], const char *pass, const char *user,
                     const char *room, uint64_t now, bool *ret_admin);

/* Relayed logins: videod logs a user in to chatd for a browser and names
 * the browser's address, so that chatd limits and logs attempts by it.
 * chatd believes the address only with mac = HMAC-SHA256 of
 * "r1\nUSER\nADDR\nTS" under the token key, which only the daemons hold,
 * and TS (milliseconds since the epoch) within AUTH_RELAY_SKEW_MS of its
 * own clock. The channel is TLS to chatd's certificate: no one sees a mac
 * to replay it. */
#define AUTH_RELAY_MAC_LEN 32
#define AUTH_RELAY_SKEW_MS 60000
int auth_relay_sign(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *addr,
                    uint64_t ts_ms, uint8_t mac[AUTH_RELAY_MAC_LEN]);
/* Returns 0, -EKEYEXPIRED when ts_ms is too far from now_ms, -EBADMSG when
 * the mac does not match. */
int auth_relay_verify(const uint8_t key[AUTH_KEY_LEN], const char *user, const char *addr,
                      uint64_t ts_ms, uint64_t now_ms, const uint8_t mac[AUTH_RELAY_MAC_LEN]);

#endif
