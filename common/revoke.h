/* revoke: the token revocation list, so that a password reset or a removed
 * account ends the user's old tokens on every daemon, not only when they
 * expire.
 *
 * Why a file: filed, audiod and videod verify tokens without chatd's
 * database (DESIGN.md). The four daemons already share one state folder
 * for the token key, so chatd writes a small text file beside it,
 * "token.revoked", and the verifiers re-read it when it changes (a stat per
 * verification; the file is replaced by rename, so a change always shows as
 * a new inode). A line "USER MILLISECONDS" says: the tokens of USER issued
 * before MILLISECONDS (since the epoch) are refused. Tokens carry their
 * issue time in milliseconds (auth.h), and chatd never issues two tokens
 * with the same time, so a login just after a reset is valid at once.
 *
 * A damaged or unreadable list fails closed: every token is refused (with
 * one log line naming the file and line) until it is fixed, because the
 * list is only ever written whole by chatd, so damage means tampering or a
 * broken disk, and failing open would bring back every revoked token.
 * Logging in with a password still works. */
#ifndef NEXUS_REVOKE_H
#define NEXUS_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVOKE_FILE_NAME "token.revoked"
#define REVOKE_FILE_MAX (1024 * 1024)
#define REVOKE_ENTRIES_MAX 16384
#define REVOKE_LINE_MAX 128
/* A stamp older than the longest token_ttl (one year) no longer refuses
 * anything: every token issued before it has expired. */
#define REVOKE_KEEP_MS (366ULL * 24 * 3600 * 1000)
#define REVOKE_ERR_MAX 512

struct revoke_entry {
	char user[33];
	uint64_t stamp_ms;
};

/* A parsed list, sorted by user, one entry per user. */
struct revoke_list {
	struct revoke_entry *e;
	size_t n;
};

/* Parse the file's text. Lines are "USER MILLISECONDS\n", "#..." comments
 * or empty; every line ends with a newline (a cut-off last line is an
 * error, not a smaller stamp). A user listed twice keeps the later stamp.
 * Returns 0, -EBADMSG with the 1-based line in *ret_line, -E2BIG past
 * REVOKE_ENTRIES_MAX or REVOKE_FILE_MAX, or -ENOMEM. */
int revoke_parse(const char *text, size_t len, struct revoke_list *ret, size_t *ret_line);
void revoke_list_free(struct revoke_list *l);
/* The user's stamp, 0 when not listed. */
uint64_t revoke_list_stamp(const struct revoke_list *l, const char *user);

/* The list's path: REVOKE_FILE_NAME in the token key's folder (whoever
 * shares the key shares the list). -ENAMETOOLONG when it does not fit. */
int revoke_path(const char *token_key, char *out, size_t size);

/* A verifier's view of the file at path, re-read when it changes. */
struct revoke;
struct revoke *revoke_new(const char *path);
void revoke_free(struct revoke *rv);
/* Re-read the file when its identity (inode, size, times) changed. Returns
 * 0 when the list is usable (a missing file is an empty list) or a
 * negative errno; *ret_changed (may be NULL) tells whether the state
 * changed, so the caller logs revoke_error once. */
int revoke_refresh(struct revoke *rv, bool *ret_changed);
/* Counts the re-reads: a caller that saw another count looks again at
 * what it had let in. */
unsigned revoke_generation(const struct revoke *rv);
/* Why the list is unusable: "FILE:LINE: ..." or "FILE: ...". */
const char *revoke_error(const struct revoke *rv);
/* 0 when a token of user issued at issued_ms stands, -EKEYREVOKED when it
 * was issued before the user's stamp, or the list's error (fail closed).
 * Uses the list as last refreshed. */
int revoke_check(const struct revoke *rv, const char *user, uint64_t issued_ms);

/* Set user's stamp to stamp_ms (an existing later stamp stays) and drop
 * stamps older than now_ms - REVOKE_KEEP_MS, replacing the file at path
 * atomically (temporary file, fsync, rename, mode 0640, the owner of
 * lock_path when run as root). lock_path (the token key) is flock(2)ed
 * around the read-modify-write, so chatd and "chatd passwd" never lose
 * each other's lines. A damaged file is not rewritten: -EBADMSG. */
int revoke_add(const char *path, const char *lock_path, const char *user, uint64_t stamp_ms,
               uint64_t now_ms);

#endif
