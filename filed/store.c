/* store: where files live. SQLite (WAL, synchronous=FULL) holds the
 * metadata: files, unfinished uploads and share links. The bytes live in
 * STATE/files/blobs/ID and STATE/files/tmp/ID, where ID is 128 random bits
 * in hex: what a user calls a file is only ever a column, never a path, so
 * no name can traverse, replace or open anything. The only file that sees
 * sqlite3.h. */
#include "filed.h"
#include "fsutil.h"
#include "hex.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ratelimit.h"

#define STORE_PATH_MAX (CONFIG_PATH_MAX + 64)

static sqlite3 *db;
static int dir_blobs = -1, dir_tmp = -1;

static const char *const schema_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS files("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    " size INTEGER NOT NULL, hash BLOB NOT NULL, ts INTEGER NOT NULL,"
    " blob TEXT NOT NULL UNIQUE, link TEXT NOT NULL UNIQUE);"
    "CREATE INDEX IF NOT EXISTS files_owner ON files(owner);"
    "CREATE TABLE IF NOT EXISTS uploads("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    " size INTEGER NOT NULL, hash BLOB NOT NULL, blob TEXT NOT NULL UNIQUE,"
    " durable INTEGER NOT NULL, stream INTEGER NOT NULL, ts INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS uploads_key ON uploads(owner, size, hash);"
    "CREATE TABLE IF NOT EXISTS shares("
    " link TEXT PRIMARY KEY, file INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " room TEXT NOT NULL, user TEXT NOT NULL, ts INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    /* A share names a user or room as the sharer typed it; chat names are
     * the same whatever their case, so the lists match them with NOCASE,
     * on indexes of that collation. */
    "DROP INDEX IF EXISTS shares_user;"
    "DROP INDEX IF EXISTS shares_room;"
    "CREATE INDEX IF NOT EXISTS shares_user_nocase ON shares(user COLLATE NOCASE);"
    "CREATE INDEX IF NOT EXISTS shares_file ON shares(file);"
    "CREATE INDEX IF NOT EXISTS shares_room_nocase ON shares(room COLLATE NOCASE);";

static int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

static sqlite3_stmt *store_prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warn("store: %s: %s", sql, sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

/* Run a statement without result rows; 0 or a negative errno. */
static int store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : store_errno(rc);

	if (rc != SQLITE_DONE)
		log_warn("store: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

/* 130 random bits in RFC 4648 base32, lower case: 26 characters. */
static void store_random_link(char out[FILED_LINK_LEN + 1])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t b[FILED_LINK_LEN];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		fatal("getrandom failed");
	for (size_t i = 0; i < FILED_LINK_LEN; i++)
		out[i] = b32[b[i] & 31];
	out[FILED_LINK_LEN] = '\0';
}

static void store_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static void store_hash(uint8_t dst[PROTO_HASH_LEN], sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	memset(dst, 0, PROTO_HASH_LEN);
	if (b && sqlite3_column_bytes(st, col) == PROTO_HASH_LEN)
		memcpy(dst, b, PROTO_HASH_LEN);
}

/* Unfinished uploads past their time and temporary files without a row. */
static void store_expire_uploads(const char *tmp_path)
{
	uint64_t cutoff = clock_wall_ms() - (uint64_t)filed.cfg.upload_days * 86400000ull;
	sqlite3_stmt *st = store_prepare("SELECT id, blob FROM uploads WHERE ts < ?");
	unsigned n = 0;

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct upload_rec u = {0};
		u.id = (uint64_t)sqlite3_column_int64(st, 0);
		store_text(u.blob, sizeof(u.blob), st, 1);
		store_upload_drop(&u);
		n++;
	}
	sqlite3_finalize(st);
	if (n)
		log_info("removed %u unfinished upload(s) older than %u days in %s", n,
		         filed.cfg.upload_days, tmp_path);
}

int store_open(const char *state_dir, char *err, size_t errlen)
{
	char top[CONFIG_PATH_MAX + 8], blobs[STORE_PATH_MAX], tmp[STORE_PATH_MAX],
	    path[STORE_PATH_MAX];
	char *msg = NULL;
	int r;

	snprintf(top, sizeof(top), "%s/files", state_dir);
	snprintf(blobs, sizeof(blobs), "%s/blobs", top);
	snprintf(tmp, sizeof(tmp), "%s/tmp", top);
	snprintf(path, sizeof(path), "%s/files.db", top);
	if ((r = fsutil_mkdir_p(blobs, 0700)) < 0 || (r = fsutil_mkdir_p(tmp, 0700)) < 0) {
		snprintf(err, errlen, "cannot create the folders in %s: %s", top, strerror(-r));
		return r;
	}
	dir_blobs = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir_tmp = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_blobs < 0 || dir_tmp < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", top, strerror(errno));
		return r;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the database %s: %s", path,
		         msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	store_expire_uploads(tmp);
	return 0;
}

void store_close(void)
{
	if (db)
		sqlite3_close(db);
	db = NULL;
	if (dir_blobs >= 0)
		close(dir_blobs);
	if (dir_tmp >= 0)
		close(dir_tmp);
	dir_blobs = dir_tmp = -1;
}

int store_usage(const char *owner, uint64_t *ret_bytes, uint64_t *ret_files)
{
	sqlite3_stmt *st = store_prepare(
	    "SELECT (SELECT coalesce(sum(size),0) FROM files WHERE owner=?1) +"
	    " (SELECT coalesce(sum(max(size,durable)),0) FROM uploads WHERE owner=?1),"
	    " (SELECT count(*) FROM files WHERE owner=?1) +"
	    " (SELECT count(*) FROM uploads WHERE owner=?1)");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_bytes = (uint64_t)sqlite3_column_int64(st, 0);
		*ret_files = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

#define FILE_COLS "id, owner, name, size, hash, ts, blob, link"

static void store_file_row(sqlite3_stmt *st, int c, struct file_rec *f)
{
	f->id = (uint64_t)sqlite3_column_int64(st, c);
	store_text(f->owner, sizeof(f->owner), st, c + 1);
	store_text(f->name, sizeof(f->name), st, c + 2);
	f->size = (uint64_t)sqlite3_column_int64(st, c + 3);
	store_hash(f->hash, st, c + 4);
	f->ts = (uint64_t)sqlite3_column_int64(st, c + 5);
	store_text(f->blob, sizeof(f->blob), st, c + 6);
	store_text(f->link, sizeof(f->link), st, c + 7);
}

/* One file row from a prepared query: 0, -ENOENT or -EIO. */
static int store_file_one(sqlite3_stmt *st, struct file_rec *ret)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;

	if (r == 0)
		store_file_row(st, 0, ret);
	sqlite3_finalize(st);
	return r;
}

int store_file_same(const char *owner, const char *name, uint64_t size,
                    const uint8_t hash[PROTO_HASH_LEN], struct file_rec *ret)
{
	sqlite3_stmt *st = store_prepare("SELECT " FILE_COLS " FROM files WHERE owner=? AND "
	                                 "name=? AND size=? AND hash=? LIMIT 1");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 4, hash, PROTO_HASH_LEN, SQLITE_STATIC);
	return store_file_one(st, ret);
}

int store_file_by_id(uint64_t id, struct file_rec *ret)
{
	sqlite3_stmt *st = store_prepare("SELECT " FILE_COLS " FROM files WHERE id=?");

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	return store_file_one(st, ret);
}

int store_file_by_link(const char *link, struct file_rec *ret)
{
	sqlite3_stmt *st = store_prepare("SELECT " FILE_COLS " FROM files WHERE link=?");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, link, -1, SQLITE_STATIC);
	return store_file_one(st, ret);
}

int store_file_delete(const struct file_rec *f)
{
	sqlite3_stmt *st = store_prepare("DELETE FROM files WHERE id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	r = store_step_done(st);
	/* After the commit: a crash in between leaves an unused blob, never
	 * a row without its bytes. Open pulls keep their descriptor. */
	if (r == 0 && unlinkat(dir_blobs, f->blob, 0) < 0)
		log_warn("cannot remove blob %s: %s", f->blob, strerror(errno));
	return r;
}

/* The rows of a listing: a file's columns, then its share's link, room
 * and user (NULL link: the caller's own file, no share). */
static int store_list_rows(sqlite3_stmt *st, store_list_cb cb, void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct file_rec f;
		struct share_rec sh = {0};

		store_file_row(st, 0, &f);
		if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
			cb(arg, &f, NULL);
			continue;
		}
		store_text(sh.link, sizeof(sh.link), st, 8);
		store_text(sh.room, sizeof(sh.room), st, 9);
		store_text(sh.user, sizeof(sh.user), st, 10);
		sh.file = f.id;
		cb(arg, &f, &sh);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int store_list(const char *user, store_list_cb cb, void *arg)
{
	sqlite3_stmt *st = store_prepare(
	    "SELECT " FILE_COLS ", NULL, '', '' FROM files WHERE owner=?1 "
	    "UNION ALL SELECT f.id, f.owner, f.name, f.size, f.hash, f.ts, f.blob, f.link,"
	    " s.link, s.room, s.user FROM shares s JOIN files f ON f.id = s.file"
	    " WHERE s.user=?1 COLLATE NOCASE AND s.revoked=0 AND f.owner<>?1 ORDER BY 1");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	return store_list_rows(st, cb, arg);
}

int store_list_room(const char *room, const char *user, store_list_cb cb, void *arg)
{
	/* A share for "#ops" or "OPS" is one for "ops": chat room names may
	 * carry the '#', and are the same whatever their case. */
	sqlite3_stmt *st = store_prepare(
	    "SELECT f.id, f.owner, f.name, f.size, f.hash, f.ts, f.blob, f.link,"
	    " s.link, s.room, s.user FROM shares s JOIN files f ON f.id = s.file"
	    " WHERE s.room COLLATE NOCASE IN (?1, '#' || ?1) AND s.user = '' AND s.revoked=0"
	    " AND f.owner<>?2 ORDER BY 1");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	return store_list_rows(st, cb, arg);
}

int store_upload_find(const char *owner, uint64_t size, const uint8_t hash[PROTO_HASH_LEN],
                      struct upload_rec *ret)
{
	sqlite3_stmt *st = store_prepare("SELECT id, name, blob, durable FROM uploads WHERE "
	                                 "owner=? AND size=? AND hash=? AND stream=0 LIMIT 1");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 3, hash, PROTO_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->id = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(ret->owner, sizeof(ret->owner), "%s", owner);
		store_text(ret->name, sizeof(ret->name), st, 1);
		store_text(ret->blob, sizeof(ret->blob), st, 2);
		ret->durable = (uint64_t)sqlite3_column_int64(st, 3);
		ret->size = size;
		memcpy(ret->hash, hash, PROTO_HASH_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int store_upload_new(struct upload_rec *u)
{
	sqlite3_stmt *st;
	int fd, r;

	if (hex_random(u->blob, FILED_BLOB_LEN) < 0)
		fatal("getrandom failed");
	fd = openat(dir_tmp, u->blob, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	st = store_prepare("INSERT INTO uploads(owner, name, size, hash, blob, durable, stream, "
	                   "ts) VALUES (?, ?, ?, ?, ?, 0, ?, ?)");
	if (!st) {
		close(fd);
		unlinkat(dir_tmp, u->blob, 0);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, u->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)u->size);
	sqlite3_bind_blob(st, 4, u->hash, PROTO_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->blob, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, u->stream);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)clock_wall_ms());
	r = store_step_done(st);
	if (r < 0) {
		close(fd);
		unlinkat(dir_tmp, u->blob, 0);
		return r;
	}
	u->id = (uint64_t)sqlite3_last_insert_rowid(db);
	u->durable = 0;
	return fd;
}

int store_upload_reopen(struct upload_rec *u)
{
	struct stat sb;
	int fd = openat(dir_tmp, u->blob, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	/* Bytes past the durable mark may be torn: they are sent again. */
	if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size < u->durable)
		u->durable = 0;
	if (ftruncate(fd, (off_t)u->durable) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int store_upload_rename(struct upload_rec *u, const char *name)
{
	sqlite3_stmt *st = store_prepare("UPDATE uploads SET name=?, ts=? WHERE id=?");

	if (!st)
		return -EIO;
	snprintf(u->name, sizeof(u->name), "%s", name);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clock_wall_ms());
	sqlite3_bind_int64(st, 3, (sqlite3_int64)u->id);
	return store_step_done(st);
}

int store_upload_set_durable(const struct upload_rec *u, uint64_t durable)
{
	sqlite3_stmt *st = store_prepare("UPDATE uploads SET durable=? WHERE id=?");

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)durable);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)u->id);
	return store_step_done(st);
}

void store_upload_drop(const struct upload_rec *u)
{
	sqlite3_stmt *st = store_prepare("DELETE FROM uploads WHERE id=?");

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)u->id);
		store_step_done(st);
	}
	if (unlinkat(dir_tmp, u->blob, 0) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", u->blob, strerror(errno));
}

static int store_exec(const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		log_warn("store: %s: %s", sql, sqlite3_errmsg(db));
	return store_errno(rc);
}

/* The file row and the end of the upload row, in one transaction. */
static int store_finish_rows(const struct upload_rec *u, struct file_rec *f)
{
	sqlite3_stmt *st;
	int r;

	st = store_prepare("INSERT INTO files(owner, name, size, hash, ts, blob, link) "
	                   "VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, f->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->size);
	sqlite3_bind_blob(st, 4, f->hash, PROTO_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)f->ts);
	sqlite3_bind_text(st, 6, f->blob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->link, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r < 0)
		return r;
	f->id = (uint64_t)sqlite3_last_insert_rowid(db);
	st = store_prepare("DELETE FROM uploads WHERE id=?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)u->id);
	return store_step_done(st);
}

int store_upload_finish(const struct upload_rec *u, struct file_rec *ret)
{
	struct file_rec f = {0};
	int r;

	snprintf(f.owner, sizeof(f.owner), "%s", u->owner);
	snprintf(f.name, sizeof(f.name), "%s", u->name);
	f.size = u->size;
	memcpy(f.hash, u->hash, PROTO_HASH_LEN);
	f.ts = clock_wall_ms();
	snprintf(f.blob, sizeof(f.blob), "%s", u->blob);
	store_random_link(f.link);
	if (renameat(dir_tmp, u->blob, dir_blobs, f.blob) < 0)
		return -errno;
	if (fsync(dir_blobs) < 0 || fsync(dir_tmp) < 0)
		return -errno;
	r = store_exec("BEGIN IMMEDIATE");
	if (r == 0)
		r = store_finish_rows(u, &f);
	if (r == 0)
		r = store_exec("COMMIT");
	if (r < 0) {
		store_exec("ROLLBACK");
		/* Back where it was, so that a retry can finish it. */
		renameat(dir_blobs, f.blob, dir_tmp, u->blob);
		return r;
	}
	*ret = f;
	return 0;
}

int store_blob_open(const struct file_rec *f)
{
	int fd = openat(dir_blobs, f->blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 ? -errno : fd;
}

int store_share_add(const struct file_rec *f, const char *room, const char *user,
                    struct share_rec *ret)
{
	sqlite3_stmt *st =
	    store_prepare("INSERT INTO shares(link, file, room, user, ts) VALUES (?, ?, ?, ?, ?)");
	struct share_rec sh = {0};
	int r;

	if (!st)
		return -EIO;
	store_random_link(sh.link);
	sh.file = f->id;
	snprintf(sh.room, sizeof(sh.room), "%s", room);
	snprintf(sh.user, sizeof(sh.user), "%s", user);
	sqlite3_bind_text(st, 1, sh.link, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->id);
	sqlite3_bind_text(st, 3, sh.room, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sh.user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)clock_wall_ms());
	r = store_step_done(st);
	if (r == 0)
		*ret = sh;
	return r;
}

int store_share_by_link(const char *link, struct share_rec *ret)
{
	sqlite3_stmt *st =
	    store_prepare("SELECT link, file, room, user, revoked FROM shares WHERE link=?");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, link, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(ret->link, sizeof(ret->link), st, 0);
		ret->file = (uint64_t)sqlite3_column_int64(st, 1);
		store_text(ret->room, sizeof(ret->room), st, 2);
		store_text(ret->user, sizeof(ret->user), st, 3);
		ret->revoked = sqlite3_column_int(st, 4) != 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int store_share_revoke(const char *link)
{
	sqlite3_stmt *st = store_prepare("UPDATE shares SET revoked=1 WHERE link=?");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, link, -1, SQLITE_STATIC);
	return store_step_done(st);
}
