/* chatd: the chat daemon's private header, one short section per file. */
#ifndef CHATD_H
#define CHATD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "front.h"
#include "ratelimit.h"
#include "str.h"
#include "proto.h"
#include "proto_limits.h"
#include "tls.h"

struct conn;
struct event;
struct event_base;
struct listener;
struct ratetable;
struct db;
struct room;
struct session;
struct user;

#define CHATD_VERSION "chatd 0.1"
#define CHATD_SERVICE PROTO_SERVICE_CHAT
#define CHATD_DB_NAME "chat.db"
/* Limits clients see are proto_limits.h's (PROTOCOL.md's limits table). */
#define CHATD_TOPIC_MAX PROTO_TOPIC_MAX
#define CHATD_HISTORY_MAX PROTO_HISTORY_MAX
#define CHATD_HISTORY_DEFAULT PROTO_HISTORY_DEFAULT
#define CHATD_MENTIONS_MAX 16 /* distinct users one message can mention */
#define CHATD_RATE_SLOTS 4096 /* users or addresses tracked per rate table */
#define CHATD_PASS_SECS 60    /* life of a voice room pass (ROOM_PASS) */
#define CHATD_LIST_PAGE PROTO_LIST_PAGE
#define CHATD_LIST_SCAN PROTO_LIST_SCAN
#define CHATD_SEARCH_BYTES PROTO_SEARCH_BYTES
#define CHATD_SEARCH_WORDS PROTO_SEARCH_WORDS
#define CHATD_READ_BUDGET_MS PROTO_READ_BUDGET_MS
#define CHATD_PRESENCE_RATE PROTO_PRESENCE_RATE
#define CHATD_PRESENCE_BURST PROTO_PRESENCE_BURST

/* ---- chatd.c: configuration, server state, start-up, signals ---- */

struct chatd_config {
	struct config_common common;
	uint16_t port;
	int reg; /* open registration */
	uint32_t max_text;
	uint32_t history_on_join;
	uint32_t msg_rate;
	uint32_t msg_burst;
	uint32_t history_rate; /* HISTORY (and search) per second per user */
	uint32_t history_burst;
	uint32_t login_rate; /* per minute */
	uint32_t max_outq;
	uint32_t max_frame;
	uint32_t max_rooms;  /* rooms, direct conversations not counted */
	uint32_t max_dms;    /* direct conversations */
	uint32_t user_rooms; /* rooms one user created and owns */
	uint32_t user_dms;   /* direct conversations one user started */
	uint32_t room_rate;  /* rooms one user may create per minute */
	uint32_t dm_rate;    /* direct conversations one user may start per minute */
	uint32_t max_members;
	uint32_t idle_timeout;
	uint32_t max_sessions;
	int power_safe; /* synchronous=FULL rather than NORMAL */
};

/* A table of objects keyed by name (users, rooms): chained, grows. Names
 * are ASCII and found whatever their case ("Alice" finds "alice"). */
struct name_link {
	struct name_link *next;
	const char *name;
};

struct name_table {
	struct name_link **buckets;
	size_t nbuckets, count;
};

struct name_link *name_table_find(const struct name_table *t, const char *name);
void name_table_add(struct name_table *t, struct name_link *l);
void name_table_remove(struct name_table *t, struct name_link *l);
void name_table_free(struct name_table *t);

struct chatd {
	struct event_base *base;
	struct chatd_config cfg;
	SSL_CTX *tls;
	struct db *db;
	uint8_t token_key[AUTH_KEY_LEN];
	struct revoke *revoke;          /* the token revocation list, see account.c */
	uint64_t last_issue_ms;         /* issue time of the last token: never repeats */
	struct ratetable *msg_rate;     /* SAY/EDIT/DELETE per user */
	struct ratetable *history_rate; /* HISTORY per user */
	struct ratetable *login_user;   /* LOGIN per user name */
	struct ratetable *login_addr;   /* LOGIN/REGISTER per peer address */
	struct ratetable *room_rate;    /* ROOM_CREATE per user */
	struct ratetable *dm_rate;      /* new direct conversations per user */
	struct listener *listener;
	struct event *commit_ev; /* group commit, see message.c */
	struct front front;      /* every session (common/front.h) */
	unsigned nonline;        /* users with at least one session */
	struct name_table users;
	struct name_table rooms;
	struct room **room_list; /* by ascending id (rooms are never deleted) */
	size_t nrooms, room_cap;
	size_t ndms;   /* of nrooms, direct conversations */
	uint64_t mark; /* generation for "each session once" walks */
	bool stopping;
};

extern struct chatd chatd;

/* Seconds since the epoch. */
uint64_t chatd_now_s(void);

/* ---- db.c: SQLite storage; the only file that sees sqlite3.h ---- */

struct db_msg {
	uint64_t id;
	int64_t room;
	const char *user;
	uint64_t ts;
	uint64_t ref;
	uint32_t flags; /* MF_EDITED, MF_DELETED */
	const char *text;
};

/* Callbacks return 0 to go on, non-zero to stop. */
typedef int (*db_msg_cb)(void *arg, const struct db_msg *m);
typedef int (*db_user_cb)(void *arg, int64_t id, const char *name, bool admin, uint64_t last_seen);
typedef int (*db_room_cb)(void *arg, int64_t id, const char *name, uint32_t flags,
                          const char *topic);
typedef int (*db_member_cb)(void *arg, int64_t room, const char *user);
typedef int (*db_last_cb)(void *arg, int64_t room, uint64_t last_id);
typedef int (*db_creator_cb)(void *arg, const char *creator, bool dm, uint32_t n);

struct db_history {
	int64_t room;
	uint64_t since;  /* > since, oldest first; 0 = none */
	uint64_t before; /* < before; 0 = none */
	uint32_t limit;
	const char *search; /* words, or NULL */
};

/* Errors: 0, -EEXIST (unique name), -ENOENT, -ENOSPC, -EBUSY, -EIO. */
int db_open(const char *path, struct db **ret, char *err, size_t errlen);
/* FULL (fsync each commit: survives power loss) or NORMAL (WAL fsynced at
 * checkpoints: survives any crash of chatd, not of the machine). */
void db_set_power_safe(struct db *db, bool on);
void db_close(struct db *db);
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

int db_load_users(struct db *db, db_user_cb cb, void *arg);
int db_load_rooms(struct db *db, db_room_cb cb, void *arg);
int db_load_members(struct db *db, db_member_cb cb, void *arg);
int db_load_last_ids(struct db *db, db_last_cb cb, void *arg);
/* How many rooms, and direct conversations (dm), each user name created. */
int db_load_creators(struct db *db, db_creator_cb cb, void *arg);

int db_user_add(struct db *db, const char *name, const char *hash, bool admin, int64_t *ret_id);
/* The oldest account whose name is name in any case; ret_name (the name as
 * stored) has PROTO_NAME_MAX + 1 bytes, ret_hash AUTH_HASH_MAX. */
int db_user_get(struct db *db, const char *name, int64_t *ret_id, char *ret_name, char *ret_hash,
                bool *ret_admin);
int db_user_set_hash(struct db *db, int64_t id, const char *hash);
int db_user_set_admin(struct db *db, int64_t id, bool admin);
int db_user_set_seen(struct db *db, int64_t id, uint64_t ts);
int db_user_remove(struct db *db, int64_t id);

int db_room_add(struct db *db, const char *name, uint32_t flags, const char *topic,
                const char *creator, int64_t *ret_id);
int db_room_set_topic(struct db *db, int64_t id, const char *topic);
int db_member_add(struct db *db, int64_t room, int64_t user);
int db_member_remove(struct db *db, int64_t room, int64_t user);
int db_invite_add(struct db *db, int64_t room, int64_t user, const char *by);
/* 1 when invited, 0 when not, or a negative errno. */
int db_invite_check(struct db *db, int64_t room, int64_t user);
int db_invite_remove(struct db *db, int64_t room, int64_t user);

int db_msg_add(struct db *db, int64_t room, const char *user, uint64_t ts, uint64_t ref,
               const char *text, uint64_t *ret_id);
/* Strings in ret live until the next db call. */
int db_msg_get(struct db *db, uint64_t id, struct db_msg *ret);
int db_msg_update(struct db *db, uint64_t id, uint32_t flags, const char *text);
/* Calls cb oldest first; returns the number of rows or a negative errno
 * (-ETIMEDOUT past a reader's budget). */
int db_history(struct db *db, const struct db_history *q, db_msg_cb cb, void *arg);
/* A read-only connection for reader.c's thread, only for db_history and
 * db_close: never logs, and interrupts a statement after budget_ms. */
int db_open_reader(const char *path, uint32_t budget_ms, struct db **ret, char *err, size_t errlen);

/* ---- session.c: one connected client ---- */

/* Sessions are common/front.h's (HELLO, then anonymous or logged in;
 * front_send, front_send_frame, front_error, front_ok, front_kick and
 * front_name on &s->fs); here what chatd adds. */
struct session {
	struct front_session fs;
	struct user *user;
	struct session *user_prev, *user_next; /* user->sessions */
	uint64_t mark;
	struct ratelimit typing;
	bool relayed; /* fs.addr is a browser's, named by videod (LOGIN_VIA) */
};

extern const struct front_table session_table;
/* Log the session in as u (leaving any previous user). */
void session_attach(struct session *s, struct user *u);

/* ---- account.c: users, register, login, tokens, admin ---- */

struct user {
	struct name_link link;
	int64_t id;
	char name[PROTO_NAME_MAX + 1];
	bool admin;
	bool away;
	uint64_t last_seen; /* wall ms of the last disconnect */
	struct session *sessions;
	unsigned nsessions;
	struct room **rooms;
	size_t nrooms, room_cap;
	uint32_t rooms_made;          /* rooms this user created (user_rooms) */
	uint32_t dms_made;            /* direct conversations they started */
	struct ratelimit presence_rl; /* presence pushes, see presence.c */
	uint32_t presence_sent;       /* the state last pushed */
	bool presence_waiting;        /* a change waits for presence_rl */
	struct user *presence_next;   /* on the list of those that wait */
};

int account_load(void);
void account_free_all(void);
struct user *account_find(const char *name);
/* As account_find, then the database (for users added by chatd adduser
 * while we run). */
struct user *account_get(const char *name);
/* A password's length in characters (UTF-8), for the 6-character rule. */
size_t account_password_chars(const char *pw);
/* HELLO with a token: 0 and the user, or ERR_TOKEN_EXPIRED/ERR_TOKEN_INVALID. */
int account_token_check(const char *token, struct user **ret, uint64_t *ret_issued_ms);
/* Refuse every token of name issued until now (token.revoked), so a reset
 * password or a removed account ends them on all four daemons; 0 or a
 * negative errno. */
int account_revoke_tokens(const char *name);
void account_handle_register(struct session *s, const struct msg *m);
void account_handle_login(struct session *s, const struct msg *m);
void account_handle_login_via(struct session *s, const struct msg *m);
void account_handle_user_admin(struct session *s, const struct msg *m);

/* ---- hasher.c: Argon2id on a worker thread ---- */

/* Runs on the loop thread; s is NULL when the session closed meanwhile.
 * result: 0, -EACCES (wrong password) or another -errno; hash: the new
 * hash when one was made, else NULL. */
typedef void (*hasher_done_fn)(struct session *s, int result, const char *hash, void *arg);
/* Waits for the running job; jobs left complete with s NULL, -ECANCELED. */
void hasher_stop(void);
/* Check password against hash, or hash it when hash is NULL (the thread
 * starts with the first job). 0, -EBUSY (queue full), -E2BIG or -ENOTCONN;
 * done is called exactly once after 0. */
int hasher_submit(struct session *s, const char *password, const char *hash, hasher_done_fn done,
                  void *arg);
/* s is being freed: its jobs complete with s NULL. */
void hasher_forget(const struct session *s);
/* Whether s waits for a job. */
bool hasher_busy(const struct session *s);

/* ---- reader.c: HISTORY and search on a worker thread ---- */

/* Runs on the loop thread; s is NULL when the session closed meanwhile.
 * result: the number of rows, or -ETIMEDOUT, -ECANCELED, another -errno;
 * rows live until the callback returns. */
typedef void (*reader_done_fn)(struct session *s, int result, struct db_msg *const *rows, size_t n,
                               void *arg);
/* Read q (the thread starts with the first job). 0, -EBUSY (queue full),
 * -EAGAIN (the user has 4 reads waiting), -E2BIG or -ENOTCONN; done is
 * called exactly once after 0. */
int reader_submit(struct session *s, const struct db_history *q, reader_done_fn done, void *arg);
/* s is being freed: its jobs complete with s NULL. */
void reader_forget(const struct session *s);
/* Waits for the running job; jobs left complete with s NULL, -ECANCELED. */
void reader_stop(void);

/* ---- room.c: rooms, membership, invites, topics, DMs, fan-out ---- */

struct room {
	struct name_link link;
	int64_t id;
	char name[PROTO_ROOM_MAX + 1];
	uint32_t flags; /* MF_PRIVATE, MF_DM */
	char topic[CHATD_TOPIC_MAX + 1];
	uint64_t last_id;
	struct user **members;
	size_t nmembers, member_cap;
};

int room_load(void);
void room_free_all(void);
struct room *room_by_id(int64_t id);
bool room_is_member(const struct room *r, const struct user *u);
/* Public rooms are readable by everyone, others by their members. */
bool room_can_read(const struct room *r, const struct user *u);
/* What room_lookup may do to a direct conversation it is asked for. */
enum room_mode {
	ROOM_FIND,  /* only find */
	ROOM_OPEN,  /* make a missing DM; make the caller a member again */
	ROOM_SPEAK, /* as ROOM_OPEN, and bring back the peer if they left */
};

/* Find the room a request names ("#name", "name", "@peer", "@a:b").
 * Returns 0 or an ERR_* code with a sentence in why. */
int room_lookup(struct session *s, const char *name, enum room_mode mode, struct room **ret,
                char *why, size_t whylen);
/* Send m to every session of every member, except those of user skip. */
void room_send(struct room *r, const struct msg *m, const struct user *skip);
void room_event(struct room *r, const struct user *u, uint32_t kind, const char *text);
/* Drop a removed user from every room (memory only). */
void room_forget_user(struct user *u);
void room_handle_create(struct session *s, const struct msg *m);
/* ROOM_LIST: one page of the rooms the user may see, by ascending id. */
void room_handle_list(struct session *s, const struct msg *m);
void room_handle_join(struct session *s, const struct msg *m);
void room_handle_leave(struct session *s, const struct msg *m);
void room_handle_pass(struct session *s, const struct msg *m);
void room_handle_invite(struct session *s, const struct msg *m);
void room_handle_topic(struct session *s, const struct msg *m);
void room_handle_members(struct session *s, const struct msg *m);

/* ---- message.c: say, edit, delete, history, search, mentions, group commit ---- */

/* Open the group-commit transaction if needed (committed after this turn
 * of the event loop). Returns 0 or a negative errno. */
int message_batch_open(void);
/* Commit now and deliver what waited for it (before reads and control
 * writes that must not share the batch's fate). */
void message_batch_flush(void);
void message_forget_session(struct session *s);
void message_batch_free(void);
/* Send the last n messages of r to s as history; returns how many. */
uint32_t message_send_last(struct session *s, uint32_t req, struct room *r, uint32_t n);
void message_handle_say(struct session *s, const struct msg *m);
void message_handle_edit(struct session *s, const struct msg *m);
void message_handle_delete(struct session *s, const struct msg *m);
void message_handle_history(struct session *s, const struct msg *m);

/* ---- presence.c: online/away/offline, last seen, typing ---- */

uint32_t presence_of(const struct user *u);
/* A user's first session arrived or last one left. */
void presence_user_online(struct user *u);
void presence_user_offline(struct user *u);
void presence_handle_presence(struct session *s, const struct msg *m);
/* A user is being freed: nothing of theirs may wait any more. */
void presence_forget_user(struct user *u);
void presence_free(void);
void presence_handle_typing(struct session *s, const struct msg *m);

#endif
