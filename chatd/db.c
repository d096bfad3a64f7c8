/* db: chatd's SQLite storage. The only file that includes sqlite3.h: the
 * rest of chatd sees ids, strings and negative errnos.
 *
 * WAL mode with synchronous=FULL by default: a commit is on disk (WAL
 * fsynced) before sqlite3_step(COMMIT) returns, so what we acknowledge
 * survives kill -9 and power loss. Group commit (message.c) keeps that
 * affordable. [chatd] power_safe = no selects NORMAL: a commit is in the
 * WAL file (the kernel's page cache) before the ACK, which survives kill -9
 * but not a power cut, and saves the fsync that blocks the loop. Messages are
 * never removed: a delete clears the text and sets MF_DELETED, so ids stay
 * monotonic and history shows the hole. Search uses an FTS5 table over the
 * message text with the messages table as external content, kept right by
 * triggers on insert, update and delete. */
#include "chatd.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ratelimit.h"

#define DB_SCHEMA_VERSION 2
#define DB_BUSY_MS 5000

static const char db_schema[] =
    "CREATE TABLE IF NOT EXISTS users("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " hash TEXT NOT NULL,"
    " admin INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS rooms("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " flags INTEGER NOT NULL,"
    " topic TEXT NOT NULL DEFAULT '',"
    " creator TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS members("
    " room INTEGER NOT NULL,"
    " user INTEGER NOT NULL,"
    " joined INTEGER NOT NULL,"
    " PRIMARY KEY(room, user)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS members_user ON members(user);"
    "CREATE TABLE IF NOT EXISTS invites("
    " room INTEGER NOT NULL,"
    " user INTEGER NOT NULL,"
    " by TEXT NOT NULL,"
    " ts INTEGER NOT NULL,"
    " PRIMARY KEY(room, user)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS messages("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " room INTEGER NOT NULL,"
    " user TEXT NOT NULL,"
    " ts INTEGER NOT NULL,"
    " ref INTEGER NOT NULL DEFAULT 0,"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS messages_room ON messages(room, id);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    " text, content='messages', content_rowid='id');"
    "CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, text) VALUES(new.id, new.text);"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, text) VALUES('delete', old.id, old.text);"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE OF text ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, text) VALUES('delete', old.id, old.text);"
    " INSERT INTO messages_fts(rowid, text) VALUES(new.id, new.text);"
    " END;";

enum db_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USERS,
	ST_ROOMS,
	ST_MEMBERS,
	ST_LAST_IDS,
	ST_USER_ADD,
	ST_USER_GET,
	ST_USER_SET_HASH,
	ST_USER_SET_ADMIN,
	ST_USER_SET_SEEN,
	ST_USER_DEL,
	ST_USER_DEL_MEMBERS,
	ST_USER_DEL_INVITES,
	ST_ROOM_ADD,
	ST_ROOM_TOPIC,
	ST_MEMBER_ADD,
	ST_MEMBER_DEL,
	ST_INVITE_ADD,
	ST_INVITE_CHECK,
	ST_INVITE_DEL,
	ST_MSG_ADD,
	ST_MSG_GET,
	ST_MSG_UPDATE,
	ST_HIST_ASC,
	ST_HIST_DESC,
	ST_SEARCH,
	ST_MAX_,
};

#define DB_MSG_COLS "m.id, m.room, m.user, m.ts, m.ref, m.flags, m.text"

static const char *const db_sql[ST_MAX_] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_USERS] = "SELECT id, name, admin, last_seen FROM users ORDER BY id",
    [ST_ROOMS] = "SELECT id, name, flags, topic FROM rooms ORDER BY id",
    [ST_MEMBERS] = "SELECT m.room, u.name FROM members m JOIN users u ON u.id = m.user"
                   " ORDER BY m.room, m.joined",
    [ST_LAST_IDS] = "SELECT room, MAX(id) FROM messages GROUP BY room",
    /* Names are unique whatever their case (schema version 2): the check
     * is in the INSERT itself, so chatd adduser running beside the daemon
     * cannot slip a second spelling in between. */
    [ST_USER_ADD] = "INSERT INTO users(name, hash, admin, created) SELECT ?1, ?2, ?3, ?4"
                    " WHERE NOT EXISTS(SELECT 1 FROM users WHERE name = ?1 COLLATE NOCASE)",
    /* the oldest account of that name in any case: see account_load_cb */
    [ST_USER_GET] = "SELECT id, hash, admin, name FROM users WHERE name = ?1 COLLATE NOCASE"
                    " ORDER BY id LIMIT 1",
    [ST_USER_SET_HASH] = "UPDATE users SET hash = ?2 WHERE id = ?1",
    [ST_USER_SET_ADMIN] = "UPDATE users SET admin = ?2 WHERE id = ?1",
    [ST_USER_SET_SEEN] = "UPDATE users SET last_seen = ?2 WHERE id = ?1",
    [ST_USER_DEL] = "DELETE FROM users WHERE id = ?1",
    [ST_USER_DEL_MEMBERS] = "DELETE FROM members WHERE user = ?1",
    [ST_USER_DEL_INVITES] = "DELETE FROM invites WHERE user = ?1",
    [ST_ROOM_ADD] = "INSERT INTO rooms(name, flags, topic, creator, created)"
                    " SELECT ?1, ?2, ?3, ?4, ?5"
                    " WHERE NOT EXISTS(SELECT 1 FROM rooms WHERE name = ?1 COLLATE NOCASE)",
    [ST_ROOM_TOPIC] = "UPDATE rooms SET topic = ?2 WHERE id = ?1",
    [ST_MEMBER_ADD] = "INSERT OR IGNORE INTO members(room, user, joined) VALUES(?1, ?2, ?3)",
    [ST_MEMBER_DEL] = "DELETE FROM members WHERE room = ?1 AND user = ?2",
    [ST_INVITE_ADD] = "INSERT OR REPLACE INTO invites(room, user, by, ts)"
                      " VALUES(?1, ?2, ?3, ?4)",
    [ST_INVITE_CHECK] = "SELECT 1 FROM invites WHERE room = ?1 AND user = ?2",
    [ST_INVITE_DEL] = "DELETE FROM invites WHERE room = ?1 AND user = ?2",
    [ST_MSG_ADD] = "INSERT INTO messages(room, user, ts, ref, text)"
                   " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_MSG_GET] = "SELECT " DB_MSG_COLS " FROM messages m WHERE m.id = ?1",
    [ST_MSG_UPDATE] = "UPDATE messages SET flags = ?2, text = ?3 WHERE id = ?1",
    [ST_HIST_ASC] = "SELECT " DB_MSG_COLS " FROM messages m"
                    " WHERE m.room = ?1 AND m.id > ?2 AND m.id < ?3 ORDER BY m.id LIMIT ?4",
    [ST_HIST_DESC] = "SELECT * FROM (SELECT " DB_MSG_COLS " FROM messages m"
                     " WHERE m.room = ?1 AND m.id > ?2 AND m.id < ?3"
                     " ORDER BY m.id DESC LIMIT ?4) ORDER BY id",
    /* CROSS JOIN keeps the FTS index the outer loop: with a plain JOIN the
     * planner walked the room's messages and ran the whole MATCH again for
     * each one (rows x words: 4 s for 2,000 messages and a long query). */
    [ST_SEARCH] = "SELECT * FROM (SELECT " DB_MSG_COLS " FROM messages_fts f"
                  " CROSS JOIN messages m ON m.id = f.rowid"
                  " WHERE messages_fts MATCH ?5 AND f.rowid > ?2 AND f.rowid < ?3"
                  " AND m.room = ?1 ORDER BY f.rowid DESC LIMIT ?4) ORDER BY id",
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_MAX_];
	/* db_msg_get copies its strings here so no statement stays open. */
	char msg_user[PROTO_NAME_MAX + 1];
	char msg_text[PROTO_TEXT_MAX + 1];
	/* The reader's connection (db_open_reader): quiet, with a deadline. */
	bool reader;
	uint32_t budget_ms;
	uint64_t deadline_ms;
};

/* Map an SQLite result to a negative errno, logging the unexpected ones. */
static int db_err(struct db *db, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn("database busy: %s", what);
		return -EBUSY;
	case SQLITE_FULL:
		log_err("database: %s: disk full", what);
		return -ENOSPC;
	default:
		log_err("database: %s: %s", what, sqlite3_errmsg(db->h));
		return -EIO;
	}
}

static sqlite3_stmt *db_stmt(struct db *db, enum db_stmt which)
{
	sqlite3_stmt *st = db->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Step a statement that returns no rows. */
static int db_run(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return db_err(db, rc, what);
}

static int db_exec(struct db *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

static int db_pragmas(struct db *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, wal = 0;

	sqlite3_busy_timeout(db->h, DB_BUSY_MS);
	rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		snprintf(err, errlen, "cannot switch to WAL mode: %s", sqlite3_errmsg(db->h));
		return -EIO;
	}
	return db_exec(db,
	               "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
	               " PRAGMA temp_store=MEMORY;",
	               err, errlen);
}

/* Version 2: user and room names are unique whatever their case, checked
 * by the INSERTs (ST_USER_ADD, ST_ROOM_ADD) with these indexes. Not UNIQUE
 * indexes: a version 1 database may hold two spellings of one name, which
 * stay (chatd reports them at each start and serves the older one). Only
 * adds indexes, inside the schema's transaction: safe to run again, and a
 * version 1 chatd still opens the database. */
static int db_migrate_v2(struct db *db, char *err, size_t errlen)
{
	return db_exec(
	    db,
	    "CREATE INDEX IF NOT EXISTS users_name_nocase ON users(name COLLATE NOCASE);"
	    "CREATE INDEX IF NOT EXISTS rooms_name_nocase ON rooms(name COLLATE NOCASE);",
	    err, errlen);
}

/* The schema version the file had before this start (0: new). */
static int db_user_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int db_schema_setup(struct db *db, char *err, size_t errlen)
{
	char buf[64];
	int r, version;

	r = db_exec(db, "BEGIN IMMEDIATE", err, errlen);
	if (r < 0)
		return r;
	version = db_user_version(db);
	r = db_exec(db, db_schema, err, errlen);
	if (r == 0 && version < 2)
		r = db_migrate_v2(db, err, errlen);
	if (r == 0) {
		snprintf(buf, sizeof(buf), "PRAGMA user_version=%d", DB_SCHEMA_VERSION);
		r = db_exec(db, buf, err, errlen);
	}
	if (r == 0)
		r = db_exec(db, "COMMIT", err, errlen);
	if (r < 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

void db_set_power_safe(struct db *db, bool on)
{
	char e[128];

	if (db_exec(db, on ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", e,
	            sizeof(e)) < 0)
		log_warn("cannot set synchronous mode: %s", e);
}

int db_open(const char *path, struct db **ret, char *err, size_t errlen)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int rc, r;

	rc = sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		         db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		db_close(db);
		return -EIO;
	}
	sqlite3_extended_result_codes(db->h, 1);
	r = db_pragmas(db, err, errlen);
	if (r == 0)
		r = db_schema_setup(db, err, errlen);
	for (int i = 0; r == 0 && i < ST_MAX_; i++) {
		rc = sqlite3_prepare_v3(db->h, db_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i],
		                        NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db->h));
			r = -EIO;
		}
	}
	if (r < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "database %s: %s", path, why);
		db_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_MAX_; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		log_warn("database close: %s", sqlite3_errmsg(db->h));
	free(db);
}

int db_begin(struct db *db)
{
	return db_run(db, db_stmt(db, ST_BEGIN), "begin");
}

int db_commit(struct db *db)
{
	return db_run(db, db_stmt(db, ST_COMMIT), "commit");
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		db_run(db, db_stmt(db, ST_ROLLBACK), "rollback");
}

static const char *db_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "";
}

/* Step through rows; each() reads the current row and returns non-zero to
 * stop. Returns the number of rows seen or a negative errno. */
static int db_rows(struct db *db, sqlite3_stmt *st, const char *what,
                   int (*each)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	int rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (each(st, ctx))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, rc, what);
	return n;
}

struct db_cb {
	db_user_cb user;
	db_room_cb room;
	db_member_cb member;
	db_last_cb last;
	void *arg;
};

static int db_each_user(sqlite3_stmt *st, void *ctx)
{
	struct db_cb *c = ctx;

	return c->user(c->arg, sqlite3_column_int64(st, 0), db_text(st, 1),
	               sqlite3_column_int(st, 2) != 0, (uint64_t)sqlite3_column_int64(st, 3));
}

int db_load_users(struct db *db, db_user_cb cb, void *arg)
{
	struct db_cb c = {.user = cb, .arg = arg};
	int r = db_rows(db, db_stmt(db, ST_USERS), "load users", db_each_user, &c);

	return r < 0 ? r : 0;
}

static int db_each_room(sqlite3_stmt *st, void *ctx)
{
	struct db_cb *c = ctx;

	return c->room(c->arg, sqlite3_column_int64(st, 0), db_text(st, 1),
	               (uint32_t)sqlite3_column_int64(st, 2), db_text(st, 3));
}

int db_load_rooms(struct db *db, db_room_cb cb, void *arg)
{
	struct db_cb c = {.room = cb, .arg = arg};
	int r = db_rows(db, db_stmt(db, ST_ROOMS), "load rooms", db_each_room, &c);

	return r < 0 ? r : 0;
}

static int db_each_member(sqlite3_stmt *st, void *ctx)
{
	struct db_cb *c = ctx;

	return c->member(c->arg, sqlite3_column_int64(st, 0), db_text(st, 1));
}

int db_load_members(struct db *db, db_member_cb cb, void *arg)
{
	struct db_cb c = {.member = cb, .arg = arg};
	int r = db_rows(db, db_stmt(db, ST_MEMBERS), "load members", db_each_member, &c);

	return r < 0 ? r : 0;
}

static int db_each_last(sqlite3_stmt *st, void *ctx)
{
	struct db_cb *c = ctx;

	return c->last(c->arg, sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1));
}

int db_load_last_ids(struct db *db, db_last_cb cb, void *arg)
{
	struct db_cb c = {.last = cb, .arg = arg};
	int r = db_rows(db, db_stmt(db, ST_LAST_IDS), "load last ids", db_each_last, &c);

	return r < 0 ? r : 0;
}

int db_user_add(struct db *db, const char *name, const char *hash, bool admin, int64_t *ret_id)
{
	sqlite3_stmt *st = db_stmt(db, ST_USER_ADD);
	int r;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, admin);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)clock_wall_ms());
	r = db_run(db, st, "add user");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = -EEXIST; /* the name in another case */
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(db->h);
	return r;
}

int db_user_get(struct db *db, const char *name, int64_t *ret_id, char *ret_name, char *ret_hash,
                bool *ret_admin)
{
	sqlite3_stmt *st = db_stmt(db, ST_USER_GET);
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ret_id)
			*ret_id = sqlite3_column_int64(st, 0);
		if (ret_hash)
			snprintf(ret_hash, AUTH_HASH_MAX, "%s", db_text(st, 1));
		if (ret_admin)
			*ret_admin = sqlite3_column_int(st, 2) != 0;
		if (ret_name)
			snprintf(ret_name, PROTO_NAME_MAX + 1, "%s", db_text(st, 3));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db_err(db, rc, "get user");
}

static int db_run_id_text(struct db *db, enum db_stmt which, int64_t id, const char *text,
                          const char *what)
{
	sqlite3_stmt *st = db_stmt(db, which);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	return db_run(db, st, what);
}

static int db_run_id_int(struct db *db, enum db_stmt which, int64_t id, int64_t v, const char *what)
{
	sqlite3_stmt *st = db_stmt(db, which);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, v);
	return db_run(db, st, what);
}

int db_user_set_hash(struct db *db, int64_t id, const char *hash)
{
	return db_run_id_text(db, ST_USER_SET_HASH, id, hash, "set password");
}

int db_user_set_admin(struct db *db, int64_t id, bool admin)
{
	return db_run_id_int(db, ST_USER_SET_ADMIN, id, admin, "set admin");
}

int db_user_set_seen(struct db *db, int64_t id, uint64_t ts)
{
	return db_run_id_int(db, ST_USER_SET_SEEN, id, (int64_t)ts, "set last seen");
}

/* Remove a user with their memberships and invites, in one transaction
 * (or inside the caller's). Their messages stay, signed with the name. */
int db_user_remove(struct db *db, int64_t id)
{
	static const enum db_stmt steps[] = {ST_USER_DEL_MEMBERS, ST_USER_DEL_INVITES, ST_USER_DEL};
	bool own = sqlite3_get_autocommit(db->h) != 0;
	int r = own ? db_begin(db) : 0;

	for (size_t i = 0; r == 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_stmt *st = db_stmt(db, steps[i]);

		sqlite3_bind_int64(st, 1, id);
		r = db_run(db, st, "remove user");
	}
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = -ENOENT;
	if (own) {
		if (r == 0)
			r = db_commit(db);
		if (r < 0)
			db_rollback(db);
	}
	return r;
}

int db_room_add(struct db *db, const char *name, uint32_t flags, const char *topic,
                const char *creator, int64_t *ret_id)
{
	sqlite3_stmt *st = db_stmt(db, ST_ROOM_ADD);
	int r;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, flags);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, creator, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)clock_wall_ms());
	r = db_run(db, st, "add room");
	if (r == 0 && sqlite3_changes(db->h) == 0)
		r = -EEXIST; /* the name in another case */
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(db->h);
	return r;
}

int db_room_set_topic(struct db *db, int64_t id, const char *topic)
{
	return db_run_id_text(db, ST_ROOM_TOPIC, id, topic, "set topic");
}

int db_member_add(struct db *db, int64_t room, int64_t user)
{
	sqlite3_stmt *st = db_stmt(db, ST_MEMBER_ADD);

	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_int64(st, 2, user);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)clock_wall_ms());
	return db_run(db, st, "add member");
}

int db_member_remove(struct db *db, int64_t room, int64_t user)
{
	return db_run_id_int(db, ST_MEMBER_DEL, room, user, "remove member");
}

int db_invite_add(struct db *db, int64_t room, int64_t user, const char *by)
{
	sqlite3_stmt *st = db_stmt(db, ST_INVITE_ADD);

	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_int64(st, 2, user);
	sqlite3_bind_text(st, 3, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)clock_wall_ms());
	return db_run(db, st, "add invite");
}

int db_invite_check(struct db *db, int64_t room, int64_t user)
{
	sqlite3_stmt *st = db_stmt(db, ST_INVITE_CHECK);
	int rc;

	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_int64(st, 2, user);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_err(db, rc, "check invite");
}

int db_invite_remove(struct db *db, int64_t room, int64_t user)
{
	return db_run_id_int(db, ST_INVITE_DEL, room, user, "remove invite");
}

int db_msg_add(struct db *db, int64_t room, const char *user, uint64_t ts, uint64_t ref,
               const char *text, uint64_t *ret_id)
{
	sqlite3_stmt *st = db_stmt(db, ST_MSG_ADD);
	int r;

	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ts);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ref);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	r = db_run(db, st, "add message");
	if (r == 0)
		*ret_id = (uint64_t)sqlite3_last_insert_rowid(db->h);
	return r;
}

static void db_row_msg(sqlite3_stmt *st, struct db_msg *m)
{
	m->id = (uint64_t)sqlite3_column_int64(st, 0);
	m->room = sqlite3_column_int64(st, 1);
	m->user = db_text(st, 2);
	m->ts = (uint64_t)sqlite3_column_int64(st, 3);
	m->ref = (uint64_t)sqlite3_column_int64(st, 4);
	m->flags = (uint32_t)sqlite3_column_int64(st, 5);
	m->text = db_text(st, 6);
}

int db_msg_get(struct db *db, uint64_t id, struct db_msg *ret)
{
	sqlite3_stmt *st = db_stmt(db, ST_MSG_GET);
	int rc;

	if (id > INT64_MAX)
		return -ENOENT;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_row_msg(st, ret);
		snprintf(db->msg_user, sizeof(db->msg_user), "%s", ret->user);
		snprintf(db->msg_text, sizeof(db->msg_text), "%s", ret->text);
		ret->user = db->msg_user;
		ret->text = db->msg_text;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db_err(db, rc, "get message");
}

int db_msg_update(struct db *db, uint64_t id, uint32_t flags, const char *text)
{
	sqlite3_stmt *st = db_stmt(db, ST_MSG_UPDATE);

	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, flags);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	return db_run(db, st, "update message");
}

/* Turn search words into an FTS5 query that cannot be a syntax error: each
 * word becomes a quoted string (quotes doubled), all of them required. */
static int db_fts_query(const char *words, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = words;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (o + 4 >= outlen)
			return -E2BIG;
		if (o)
			out[o++] = ' ';
		out[o++] = '"';
		for (; *p && *p != ' ' && *p != '\t' && *p != '\n'; p++) {
			if (o + 3 >= outlen)
				return -E2BIG;
			if (*p == '"')
				out[o++] = '"';
			out[o++] = *p;
		}
		out[o++] = '"';
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

/* The reader thread must not log (the log is the loop's): codes only. */
static int db_reader_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_INTERRUPT:
		return -ETIMEDOUT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int db_history(struct db *db, const struct db_history *q, db_msg_cb cb, void *arg)
{
	char query[2 * PROTO_TEXT_MAX + 8];
	enum db_stmt which = q->search ? ST_SEARCH : q->since ? ST_HIST_ASC : ST_HIST_DESC;
	sqlite3_stmt *st;
	struct db_msg m;
	int rc, n = 0;

	if (q->search && db_fts_query(q->search, query, sizeof(query)) < 0)
		return -EINVAL;
	st = db_stmt(db, which);
	sqlite3_bind_int64(st, 1, q->room);
	sqlite3_bind_int64(st, 2, q->since > INT64_MAX ? INT64_MAX : (sqlite3_int64)q->since);
	sqlite3_bind_int64(
	    st, 3, q->before && q->before <= INT64_MAX ? (sqlite3_int64)q->before : INT64_MAX);
	sqlite3_bind_int64(st, 4, q->limit);
	if (q->search)
		sqlite3_bind_text(st, 5, query, -1, SQLITE_STATIC);
	if (db->budget_ms)
		db->deadline_ms = clock_now_ms() + db->budget_ms;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_row_msg(st, &m);
		n++;
		if (cb(arg, &m))
			break;
	}
	sqlite3_reset(st);
	db->deadline_ms = 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db->reader ? db_reader_err(rc) : db_err(db, rc, "history");
	return n;
}

/* ---- the reader's connection: history and search off the loop ---- */

/* Every 1000 VM steps: past the deadline, interrupt the statement. */
static int db_reader_progress(void *arg)
{
	struct db *db = arg;

	return db->deadline_ms && clock_now_ms() > db->deadline_ms;
}

int db_open_reader(const char *path, uint32_t budget_ms, struct db **ret, char *err, size_t errlen)
{
	static const enum db_stmt reads[] = {ST_HIST_ASC, ST_HIST_DESC, ST_SEARCH};
	struct db *db = xcalloc(1, sizeof(*db));
	int rc;

	db->reader = true;
	db->budget_ms = budget_ms;
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(db->h, 1);
		sqlite3_busy_timeout(db->h, DB_BUSY_MS);
		sqlite3_progress_handler(db->h, 1000, db_reader_progress, db);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < sizeof(reads) / sizeof(reads[0]); i++)
		rc = sqlite3_prepare_v3(db->h, db_sql[reads[i]], -1, SQLITE_PREPARE_PERSISTENT,
		                        &db->st[reads[i]], NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s for reading: %s", path,
		         db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		db_close(db);
		return -EIO;
	}
	*ret = db;
	return 0;
}

/* Rooms and direct conversations per creator, for the per-user quotas
 * (loaded once at start, so its statement is not kept). */
int db_load_creators(struct db *db, db_creator_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->h,
	                            "SELECT creator, (flags & ?1) != 0, COUNT(*) FROM rooms"
	                            " GROUP BY 1, 2",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_err(db, rc, "count rooms per creator");
	sqlite3_bind_int64(st, 1, MF_DM);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(arg, db_text(st, 0), sqlite3_column_int(st, 1) != 0,
		       (uint32_t)sqlite3_column_int64(st, 2)))
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, rc, "count rooms per creator");
	return 0;
}
