/* filed: the file daemon's private header, one short section per file. */
#ifndef FILED_H
#define FILED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "front.h"
#include "proto.h"
#include "proto_limits.h"
#include "tls.h"

struct event_base;
struct listener;
struct session;

#define FILED_VERSION "filed 0.1"
#define FILED_SERVICE PROTO_SERVICE_FILE
#define FILED_NAME_MAX PROTO_FILE_NAME_MAX /* bytes of a file name (UTF-8) */
#define FILED_LINK_LEN 26                  /* 128 random bits in base32 */
#define FILED_BLOB_LEN 32                  /* 128 random bits in hex: the on-disk name */
#define FILED_MIB ((uint64_t)1024 * 1024)

/* ---- filed.c: configuration, server state, start-up, signals ---- */

struct filed_config {
	struct config_common common;
	uint16_t port;
	uint32_t max_file_mb;   /* largest file */
	uint32_t quota_mb;      /* bytes a user may store, files and unfinished uploads */
	uint32_t max_files;     /* files a user may store */
	uint32_t max_transfers; /* pushes and pulls of one user at once */
	uint32_t chunk_kb;      /* payload of a data frame */
	uint32_t sync_mb;       /* an upload is made durable every sync_mb */
	uint32_t upload_days;   /* unfinished uploads are kept this long */
	uint32_t max_outq;
	uint32_t max_frame;
	uint32_t idle_timeout;
	uint32_t max_sessions;
};

struct filed {
	struct event_base *base;
	struct filed_config cfg;
	SSL_CTX *tls;
	uint8_t token_key[AUTH_KEY_LEN];
	struct revoke *revoke; /* token revocations (common/revoke.h) */
	struct listener *listener;
	struct front front; /* the sessions (common/front.h) */
	unsigned ntransfers;
	uint64_t bytes_in, bytes_out; /* since start, for the status line */
	bool stopping;
};

extern struct filed filed;

/* ---- store.c: on-disk layout, SQLite metadata, quota ---- */

/* STATE/files/files.db holds the metadata; STATE/files/blobs/ID the
 * contents of finished files and STATE/files/tmp/ID unfinished uploads,
 * where ID is a random name: a user's file name is never a path. */

struct file_rec {
	uint64_t id;
	char owner[PROTO_NAME_MAX + 1];
	char name[FILED_NAME_MAX + 1];
	uint64_t size;
	uint8_t hash[PROTO_HASH_LEN];
	uint64_t ts; /* ms since the epoch */
	char blob[FILED_BLOB_LEN + 1];
	char link[FILED_LINK_LEN + 1]; /* the owner's own link */
};

struct upload_rec {
	uint64_t id;
	char owner[PROTO_NAME_MAX + 1];
	char name[FILED_NAME_MAX + 1];
	uint64_t size;
	uint8_t hash[PROTO_HASH_LEN];
	char blob[FILED_BLOB_LEN + 1];
	uint64_t durable; /* bytes known to be on disk */
	bool stream;      /* size and hash unknown until the end: not resumable */
};

struct share_rec {
	char link[FILED_LINK_LEN + 1];
	uint64_t file;
	char room[PROTO_ROOM_MAX + 1]; /* a room, or "@user" */
	char user[PROTO_NAME_MAX + 1]; /* the user for "@user", else "" */
	bool revoked;
};

/* Listing callback: a file and, for files shared with the caller, the
 * share that did it (NULL for the caller's own files). */
typedef void (*store_list_cb)(void *arg, const struct file_rec *f, const struct share_rec *sh);

/* Errors: 0, -ENOENT, -EEXIST, -ENOSPC, -EIO. */
int store_open(const char *state_dir, char *err, size_t errlen);
void store_close(void);
/* Bytes and files a user holds; unfinished uploads count as files and by
 * their size, so that they too are bounded by max_files and quota_mb. */
int store_usage(const char *owner, uint64_t *ret_bytes, uint64_t *ret_files);
int store_file_same(const char *owner, const char *name, uint64_t size,
                    const uint8_t hash[PROTO_HASH_LEN], struct file_rec *ret);
int store_file_by_id(uint64_t id, struct file_rec *ret);
int store_file_by_link(const char *link, struct file_rec *ret);
int store_file_delete(const struct file_rec *f);
int store_list(const char *user, store_list_cb cb, void *arg);
/* The live shares with room (a chat room, not "@user") of files user does
 * not own. */
int store_list_room(const char *room, const char *user, store_list_cb cb, void *arg);

int store_upload_find(const char *owner, uint64_t size, const uint8_t hash[PROTO_HASH_LEN],
                      struct upload_rec *ret);
/* A new upload row and its empty temporary file, opened; returns the fd. */
int store_upload_new(struct upload_rec *u);
/* Open an existing upload's temporary file, cut to its durable length. */
int store_upload_reopen(struct upload_rec *u);
int store_upload_rename(struct upload_rec *u, const char *name);
int store_upload_set_durable(const struct upload_rec *u, uint64_t durable);
/* Remove the row and the temporary file. */
void store_upload_drop(const struct upload_rec *u);
/* The upload is complete and synced: move it into place (rename, fsync of
 * the folder) and make it a file. */
int store_upload_finish(const struct upload_rec *u, struct file_rec *ret);

int store_blob_open(const struct file_rec *f);

int store_share_add(const struct file_rec *f, const char *room, const char *user,
                    struct share_rec *ret);
int store_share_by_link(const char *link, struct share_rec *ret);
int store_share_revoke(const char *link);

/* ---- session.c: one connected client; dispatch ---- */

/* Sessions are common/front.h's (HELLO with a token, then requests):
 * front_send, front_error, front_ok, front_kick, front_name on &s->fs. */

struct transfer;

struct session {
	struct front_session fs;
	struct transfer *transfers;
	unsigned ntransfers;
};

extern const struct front_table session_table;
/* Transfers the user of s has running over all sessions. */
unsigned session_user_transfers(const char *user);

/* ---- transfer.c: push and pull streaming ---- */

void transfer_handle_push(struct session *s, const struct msg *m);
void transfer_handle_data(struct session *s, const struct msg *m);
void transfer_handle_end(struct session *s, const struct msg *m);
void transfer_handle_pull(struct session *s, const struct msg *m);
/* The mark a sender fills a connection's output queue to; the drain
 * callback fires at half of it. */
size_t transfer_queue_mark(void);
/* The session's output queue drained: feed its pulls. */
void transfer_drain(struct session *s);
/* Release the spare pull buffers (at exit). */
void transfer_pool_free(void);
/* True when upload id is being received by some session. */
bool transfer_upload_busy(uint64_t upload_id);
/* The session is going away: stop its transfers (unfinished uploads stay
 * for a resume, streamed ones are dropped). */
void transfer_free_all(struct session *s);

/* ---- share.c: listing, info, delete, links ---- */

/* FILE_INFO for f as seen by user (flags, link) with req. */
void share_send_info(struct session *s, uint32_t req, const struct file_rec *f,
                     const struct share_rec *sh);
/* Resolve a link for user: 0 and the file (and the share when it is a
 * share link), or an ERR_* code with a sentence in why. */
int share_resolve(const char *user, const char *link, struct file_rec *ret_file,
                  struct share_rec *ret_share, char *why, size_t whylen);
void share_handle_list(struct session *s, const struct msg *m);
void share_handle_list_room(struct session *s, const struct msg *m);
void share_handle_delete(struct session *s, const struct msg *m);
void share_handle_share(struct session *s, const struct msg *m);
void share_handle_unshare(struct session *s, const struct msg *m);
/* A file name: 1..255 bytes of UTF-8, no control characters, no '/', not
 * "." or "..". */
bool share_name_valid(const char *name);

#endif
