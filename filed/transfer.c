/* transfer: push and pull streaming.
 *
 * Push: FILE_PUSH announces name, size and SHA-256. A finished file with
 * the same owner, name, size and hash answers at once; an unfinished upload
 * with the same owner, size and hash resumes at its durable offset (its
 * prefix is hashed again); otherwise a new temporary file starts at 0. The
 * reply FILE_OFFSET says where the client continues. Each FILE_DATA is
 * written where it belongs (pwrite) and hashed as it arrives; every sync_mb
 * the file is synced and its length recorded as durable. FILE_END checks
 * the hash, syncs, renames the file into place and only then answers
 * FILE_INFO + OK. Nothing half-written is ever listed or pulled.
 *
 * Pull: FILE_INFO, then FILE_DATA frames read from the file only while the
 * connection's output queue is under its mark (the conn drain callback
 * brings us back), so a client that stops reading costs one queue and
 * stalls nobody else; then OK. */
#include "filed.h"
#include "conn.h"
#include "log.h"
#include "ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#define TRANSFER_REHASH_CHUNK (1u << 20)
#define TRANSFER_REHASH_TURN 16u /* chunks hashed per loop turn */

struct transfer {
	struct transfer *next;
	struct session *s;
	uint32_t req;
	bool push;
	int fd;
	uint64_t offset;     /* next byte expected (push) or sent (pull) */
	uint64_t end;        /* push: announced size; pull: file size */
	uint64_t synced;     /* push: durable offset */
	uint64_t quota_left; /* push of a stream: bytes it may still grow */
	uint64_t start;      /* offset the transfer started at */
	uint64_t started_ms;
	EVP_MD_CTX *sha;
	struct event *rehash_ev; /* resume: hashing the prefix, a slice per turn */
	uint64_t rehashed;
	struct upload_rec up;
	struct file_rec file;
};

/* Pull buffers: the file is read straight into one, which the connection
 * sends without a copy and hands back here once it is written. A few are
 * kept for the next frames; the rest go back to malloc. */
#define TRANSFER_POOL_KEEP 32
struct pool_buf {
	struct pool_buf *next;
};
static struct pool_buf *pool;
static unsigned pool_count;

static void *pool_get(void)
{
	struct pool_buf *b = pool;

	if (!b)
		return xcalloc(1, (size_t)filed.cfg.chunk_kb * 1024u);
	pool = b->next;
	pool_count--;
	return b;
}

static void pool_put(const void *data, size_t len, void *arg)
{
	struct pool_buf *b = (struct pool_buf *)(uintptr_t)data;

	(void)len;
	(void)arg;
	if (pool_count >= TRANSFER_POOL_KEEP) {
		free(b);
		return;
	}
	b->next = pool;
	pool = b;
	pool_count++;
}

void transfer_pool_free(void)
{
	while (pool) {
		struct pool_buf *b = pool;
		pool = b->next;
		free(b);
	}
	pool_count = 0;
}

static struct transfer *transfer_find(struct session *s, uint32_t req)
{
	for (struct transfer *t = s->transfers; t; t = t->next)
		if (t->req == req)
			return t;
	return NULL;
}

bool transfer_upload_busy(uint64_t upload_id)
{
	for (struct front_session *fs = filed.front.sessions; fs; fs = fs->next)
		for (struct transfer *t = FRONT_OWNER(fs, struct session)->transfers; t;
		     t = t->next)
			if (t->push && t->up.id == upload_id)
				return true;
	return false;
}

static struct transfer *transfer_new(struct session *s, uint32_t req, bool push)
{
	struct transfer *t = xcalloc(1, sizeof(*t));

	t->s = s;
	t->req = req;
	t->push = push;
	t->fd = -1;
	t->started_ms = clock_now_ms();
	t->next = s->transfers;
	s->transfers = t;
	s->ntransfers++;
	filed.ntransfers++;
	return t;
}

/* Unlink t from its session and release it. */
static void transfer_end(struct transfer *t)
{
	struct session *s = t->s;

	for (struct transfer **p = &s->transfers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	s->ntransfers--;
	filed.ntransfers--;
	if (t->fd >= 0)
		close(t->fd);
	EVP_MD_CTX_free(t->sha);
	if (t->rehash_ev)
		event_free(t->rehash_ev);
	free(t);
}

/* A push that failed: tell the client; keep the upload for a resume
 * unless drop (bad data) or it was a stream. */
static void transfer_fail(struct transfer *t, bool drop, uint16_t code, const char *text)
{
	front_error(&t->s->fs, t->req, code, "%s", text);
	if (t->push) {
		if (drop || t->up.stream)
			store_upload_drop(&t->up);
		else if (t->synced)
			store_upload_set_durable(&t->up, t->synced);
	}
	transfer_end(t);
}

static uint64_t transfer_chunk(void)
{
	return (uint64_t)filed.cfg.chunk_kb * 1024u;
}

size_t transfer_queue_mark(void)
{
	return filed.cfg.max_outq / 2;
}

static void transfer_send_offset(struct session *s, uint32_t req, uint64_t id, uint64_t off);

/* Hash the prefix of a resumed upload again (the digest state is not on
 * disk), a few MiB per loop turn so that other clients are served in
 * between; FILE_OFFSET goes out when it is done. A timer, not an active
 * event: timers wait for the poll, so I/O gets its turn. */
static void transfer_rehash_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transfer *t = arg;
	struct timeval now = {0, 0};
	uint8_t *buf = malloc(TRANSFER_REHASH_CHUNK);

	(void)fd;
	(void)what;
	for (unsigned i = 0; buf && i < TRANSFER_REHASH_TURN && t->rehashed < t->offset; i++) {
		size_t want = t->offset - t->rehashed < TRANSFER_REHASH_CHUNK
		                  ? (size_t)(t->offset - t->rehashed)
		                  : TRANSFER_REHASH_CHUNK;
		ssize_t n = pread(t->fd, buf, want, (off_t)t->rehashed);

		if (n <= 0) {
			free(buf);
			log_err("%s: cannot read upload %s: %s", front_name(&t->s->fs), t->up.blob,
			        n < 0 ? strerror(errno) : "short file");
			transfer_fail(t, true, ERR_INTERNAL,
			              "cannot read the partial upload; push again");
			return;
		}
		EVP_DigestUpdate(t->sha, buf, (size_t)n);
		t->rehashed += (uint64_t)n;
	}
	free(buf);
	if (t->rehashed < t->offset) {
		evtimer_add(t->rehash_ev, &now);
		return;
	}
	transfer_send_offset(t->s, t->req, t->up.id, t->offset);
}

static bool transfer_sha_init(struct transfer *t)
{
	t->sha = EVP_MD_CTX_new();
	return t->sha && EVP_DigestInit_ex(t->sha, EVP_sha256(), NULL) == 1;
}

static void transfer_send_offset(struct session *s, uint32_t req, uint64_t id, uint64_t off)
{
	struct msg o;

	proto_msg_init(&o, MSG_FILE_OFFSET);
	o.req = req;
	o.id = id;
	o.size = off;
	front_send(&s->fs, &o);
}

/* Limits before anything is created: 0 or an error sent. */
static int transfer_push_check(struct session *s, const struct msg *m, uint64_t *ret_used)
{
	uint64_t max = (uint64_t)filed.cfg.max_file_mb * FILED_MIB, used, nfiles;

	if (!share_name_valid(m->text)) {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "invalid file name: use 1 to %d bytes of text without '/', control "
		            "characters or newlines, and not \".\" or \"..\"",
		            FILED_NAME_MAX);
		return -1;
	}
	if (transfer_find(s, m->req)) {
		front_error(&s->fs, m->req, ERR_INVALID, "request id already in use");
		return -1;
	}
	if (session_user_transfers(s->fs.user) >= filed.cfg.max_transfers) {
		front_error(&s->fs, m->req, ERR_RATE_LIMITED,
		            "too many transfers at once (%u); wait for one to finish",
		            filed.cfg.max_transfers);
		return -1;
	}
	if (!(m->flags & MF_STREAM) && m->size > max) {
		front_error(&s->fs, m->req, ERR_QUOTA,
		            "file too large: %" PRIu64 " bytes is over the limit of %u MiB",
		            m->size, filed.cfg.max_file_mb);
		return -1;
	}
	if (store_usage(s->fs.user, &used, &nfiles) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot read the file database");
		return -1;
	}
	if (nfiles >= filed.cfg.max_files) {
		front_error(&s->fs, m->req, ERR_QUOTA,
		            "too many files: you have %" PRIu64 " with unfinished uploads (the "
		            "limit); remove some with nexus rm",
		            nfiles);
		return -1;
	}
	*ret_used = used;
	return 0;
}

/* An upload to continue or a new one; its fd, or -1 after an error. */
static int transfer_push_open(struct session *s, const struct msg *m, uint64_t used,
                              struct upload_rec *up, bool *ret_resumed)
{
	uint64_t quota = (uint64_t)filed.cfg.quota_mb * FILED_MIB;
	bool stream = m->flags & MF_STREAM;
	int fd;

	*ret_resumed = false;
	if (!stream && store_upload_find(s->fs.user, m->size, m->hash, up) == 0) {
		if (transfer_upload_busy(up->id)) {
			front_error(&s->fs, m->req, ERR_EXISTS,
			            "this file is being uploaded by another connection");
			return -1;
		}
		fd = store_upload_reopen(up);
		if (fd >= 0) {
			if (strcmp(up->name, m->text) != 0)
				store_upload_rename(up, m->text);
			*ret_resumed = true;
			return fd;
		}
		log_warn("%s: cannot reopen upload %s: %s; starting again", front_name(&s->fs),
		         up->blob, strerror(-fd));
		store_upload_drop(up);
	}
	if (used + (stream ? 1 : m->size) > quota) {
		front_error(&s->fs, m->req, ERR_QUOTA,
		            "over quota: you use %" PRIu64 " of %u MiB and this file needs %" PRIu64
		            " bytes",
		            used, filed.cfg.quota_mb, m->size);
		return -1;
	}
	memset(up, 0, sizeof(*up));
	snprintf(up->owner, sizeof(up->owner), "%s", s->fs.user);
	memcpy(up->name, m->text, strnlen(m->text, FILED_NAME_MAX) + 1);
	up->size = stream ? 0 : m->size;
	memcpy(up->hash, m->hash, PROTO_HASH_LEN);
	up->stream = stream;
	fd = store_upload_new(up);
	if (fd < 0) {
		log_err("cannot create an upload for %s: %s", front_name(&s->fs), strerror(-fd));
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot create the upload on the server");
		return -1;
	}
	return fd;
}

void transfer_handle_push(struct session *s, const struct msg *m)
{
	uint64_t used = 0, quota = (uint64_t)filed.cfg.quota_mb * FILED_MIB;
	struct upload_rec up;
	struct file_rec f;
	struct transfer *t;
	bool resumed;
	int fd;

	if (transfer_push_check(s, m, &used) < 0)
		return;
	if (!(m->flags & MF_STREAM) &&
	    store_file_same(s->fs.user, m->text, m->size, m->hash, &f) == 0) {
		/* Already here, whole and verified: nothing to send. */
		share_send_info(s, m->req, &f, NULL);
		front_ok(&s->fs, m->req, f.id, 0);
		return;
	}
	fd = transfer_push_open(s, m, used, &up, &resumed);
	if (fd < 0)
		return;
	t = transfer_new(s, m->req, true);
	t->fd = fd;
	t->up = up;
	t->end = up.size;
	t->offset = t->synced = t->start = resumed ? up.durable : 0;
	t->quota_left = quota > used ? quota - used : 0;
	if (!transfer_sha_init(t) ||
	    (t->offset && !(t->rehash_ev = evtimer_new(filed.base, transfer_rehash_cb, t)))) {
		transfer_fail(t, true, ERR_INTERNAL, "out of memory on the server");
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	log_info("%s: push of \"%s\" (%" PRIu64 " bytes)%s at %" PRIu64, front_name(&s->fs),
	         up.name, up.size, resumed ? " resumed" : " started", t->offset);
	if (t->offset)
		transfer_rehash_cb(-1, 0, t);
	else
		transfer_send_offset(s, m->req, up.id, 0);
}

static int transfer_write(struct transfer *t, const uint8_t *p, size_t len)
{
	uint64_t off = t->offset;

	while (len) {
		ssize_t n = pwrite(t->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Make what we have durable and say so in the database. */
static int transfer_checkpoint(struct transfer *t)
{
	if (fdatasync(t->fd) < 0)
		return -errno;
	t->synced = t->offset;
	return t->up.stream ? 0 : store_upload_set_durable(&t->up, t->synced);
}

void transfer_handle_data(struct session *s, const struct msg *m)
{
	struct transfer *t = transfer_find(s, m->req);
	uint64_t max = (uint64_t)filed.cfg.max_file_mb * FILED_MIB;
	char why[160];
	int r;

	/* Frames a client pipelined after we refused its push: ignored. */
	if (!t || !t->push)
		return;
	if (t->rehashed < t->start) {
		transfer_fail(t, false, ERR_INVALID, "data before FILE_OFFSET");
		return;
	}
	if (m->size != t->offset) {
		snprintf(why, sizeof(why), "data at offset %" PRIu64 ", expected %" PRIu64, m->size,
		         t->offset);
		transfer_fail(t, false, ERR_INVALID, why);
		return;
	}
	if (!t->up.stream && m->data_len > t->end - t->offset) {
		transfer_fail(t, true, ERR_INVALID, "more data than the announced size");
		return;
	}
	if (t->up.stream &&
	    (t->offset + m->data_len > max || t->offset + m->data_len > t->quota_left)) {
		transfer_fail(t, true, ERR_QUOTA,
		              t->offset + m->data_len > max ? "file too large for this server"
		                                            : "over quota");
		return;
	}
	r = transfer_write(t, m->data, m->data_len);
	if (r < 0) {
		log_err("%s: cannot write upload %s: %s", front_name(&s->fs), t->up.blob,
		        strerror(-r));
		transfer_fail(t, false, ERR_INTERNAL,
		              r == -ENOSPC ? "the server's disk is full"
		                           : "write error on the server");
		return;
	}
	EVP_DigestUpdate(t->sha, m->data, m->data_len);
	t->offset += m->data_len;
	filed.bytes_in += m->data_len;
	if (t->offset - t->synced >= (uint64_t)filed.cfg.sync_mb * FILED_MIB &&
	    (r = transfer_checkpoint(t)) < 0) {
		log_err("%s: cannot sync upload %s: %s", front_name(&s->fs), t->up.blob,
		        strerror(-r));
		transfer_fail(t, false, ERR_INTERNAL, "cannot sync the upload on the server");
	}
}

/* The end of a push: size and hash, sync, into place, acknowledge. */
void transfer_handle_end(struct session *s, const struct msg *m)
{
	struct transfer *t = transfer_find(s, m->req);
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	struct file_rec f;
	char why[160];
	int r;

	if (!t || !t->push)
		return;
	if (t->up.stream) {
		t->up.size = t->end = t->offset;
		memcpy(t->up.hash, m->hash, PROTO_HASH_LEN);
	}
	if (t->offset != t->end || m->size != t->end) {
		snprintf(why, sizeof(why), "upload ended at %" PRIu64 " of %" PRIu64 " bytes",
		         t->offset, t->end);
		transfer_fail(t, t->up.stream, ERR_INVALID, why);
		return;
	}
	EVP_DigestFinal_ex(t->sha, digest, &dlen);
	if (dlen != PROTO_HASH_LEN || memcmp(digest, t->up.hash, PROTO_HASH_LEN) != 0 ||
	    memcmp(m->hash, t->up.hash, PROTO_HASH_LEN) != 0) {
		log_warn("%s: push of \"%s\": SHA-256 mismatch, upload discarded",
		         front_name(&s->fs), t->up.name);
		transfer_fail(t, true, ERR_INTEGRITY,
		              "the data received does not match its SHA-256; the upload was "
		              "discarded");
		return;
	}
	if (fsync(t->fd) < 0 || (r = store_upload_finish(&t->up, &f)) < 0) {
		log_err("%s: cannot store \"%s\": %s", front_name(&s->fs), t->up.name,
		        strerror(errno));
		transfer_fail(t, false, ERR_INTERNAL, "cannot store the file on the server");
		return;
	}
	log_info("%s: stored \"%s\" as file %" PRIu64 " (%" PRIu64 " bytes, %" PRIu64
	         " received in %.1f s)",
	         front_name(&s->fs), f.name, f.id, f.size, t->end - t->start,
	         (double)(clock_now_ms() - t->started_ms) / 1000.0);
	share_send_info(s, t->req, &f, NULL);
	front_ok(&s->fs, t->req, f.id, 0);
	transfer_end(t);
}

/* Send the next chunks of one pull while the queue has room; 1 when it
 * has ended. */
static int transfer_pull_fill(struct transfer *t)
{
	size_t mark = transfer_queue_mark();
	uint64_t chunk = transfer_chunk();
	struct msg *d;

	d = xcalloc(1, sizeof(*d));
	while (t->offset < t->end && conn_outq(t->s->fs.conn) < mark) {
		size_t want = (size_t)(t->end - t->offset < chunk ? t->end - t->offset : chunk);
		uint8_t *buf = pool_get();
		ssize_t n = pread(t->fd, buf, want, (off_t)t->offset);

		if (n <= 0) {
			pool_put(buf, 0, NULL);
			free(d);
			log_err("%s: cannot read file %" PRIu64 ": %s", front_name(&t->s->fs),
			        t->file.id, n < 0 ? strerror(errno) : "short file");
			transfer_fail(t, false, ERR_INTERNAL, "read error on the server");
			return 1;
		}
		proto_msg_init(d, MSG_FILE_DATA);
		d->req = t->req;
		d->size = t->offset;
		d->data = buf;
		d->data_len = (uint32_t)n;
		if (conn_send_ref(t->s->fs.conn, d, pool_put, NULL) < 0) {
			pool_put(buf, 0, NULL);
			free(d);
			return 1; /* the conn is closing: its closed callback frees us */
		}
		t->offset += (uint64_t)n;
		filed.bytes_out += (uint64_t)n;
	}
	free(d);
	if (t->offset < t->end)
		return 0;
	log_info("%s: pull of file %" PRIu64 " done (%" PRIu64 " bytes sent in %.1f s)",
	         front_name(&t->s->fs), t->file.id, t->end - t->start,
	         (double)(clock_now_ms() - t->started_ms) / 1000.0);
	front_ok(&t->s->fs, t->req, t->file.id, 0);
	transfer_end(t);
	return 1;
}

void transfer_drain(struct session *s)
{
	struct transfer *t = s->transfers, *next;

	for (; t && s->fs.state == FRONT_USER; t = next) {
		next = t->next;
		if (!t->push)
			transfer_pull_fill(t);
	}
}

void transfer_handle_pull(struct session *s, const struct msg *m)
{
	struct file_rec f;
	struct share_rec sh;
	struct transfer *t;
	char why[256];
	int code, fd;

	code = share_resolve(s->fs.user, m->secret, &f, &sh, why, sizeof(why));
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	if (m->size > f.size) {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "offset %" PRIu64 " is past the end (%" PRIu64 " bytes)", m->size,
		            f.size);
		return;
	}
	if (!(m->flags & MF_INFO) &&
	    (transfer_find(s, m->req) ||
	     session_user_transfers(s->fs.user) >= filed.cfg.max_transfers)) {
		front_error(&s->fs, m->req, ERR_RATE_LIMITED,
		            "too many transfers at once (%u); wait for one to finish",
		            filed.cfg.max_transfers);
		return;
	}
	share_send_info(s, m->req, &f, sh.link[0] ? &sh : NULL);
	if (m->flags & MF_INFO) {
		front_ok(&s->fs, m->req, f.id, 0);
		return;
	}
	fd = store_blob_open(&f);
	if (fd < 0) {
		log_err("%s: cannot open file %" PRIu64 ": %s", front_name(&s->fs), f.id,
		        strerror(-fd));
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot open the file on the server");
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	t = transfer_new(s, m->req, false);
	t->fd = fd;
	t->file = f;
	t->offset = t->start = m->size;
	t->end = f.size;
	log_info("%s: pull of file %" PRIu64 " \"%s\" from %" PRIu64, front_name(&s->fs), f.id,
	         f.name, t->offset);
	transfer_pull_fill(t);
}

void transfer_free_all(struct session *s)
{
	while (s->transfers) {
		struct transfer *t = s->transfers;

		/* A broken push: what arrived is kept for the resume. */
		if (t->push && t->up.stream)
			store_upload_drop(&t->up);
		else if (t->push && t->offset > t->synced && transfer_checkpoint(t) == 0)
			log_info("%s: push of \"%s\" interrupted at %" PRIu64 " of %" PRIu64
			         " bytes (kept for a resume)",
			         front_name(&s->fs), t->up.name, t->offset, t->end);
		transfer_end(t);
	}
}
