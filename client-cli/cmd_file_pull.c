/* cmd_file_pull: nexus pull. Ask for the file's info, then continue
 * PATH.part from its length (hashing what is already there), check the
 * SHA-256 at the end, sync and rename PATH.part to PATH. A device or FIFO
 * target is written in place. */
#include "cmd_file.h"
#include "fsutil.h"
#include "hex.h"
#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* ---- pull ---- */

static void pull_data(struct job *j, const struct msg *m)
{
	int r;

	if (m->size != j->offset || m->data_len > j->size - j->offset) {
		client_fail(j->c, EXIT_SERVER, "data at offset %" PRIu64 ", expected %" PRIu64,
		            m->size, j->offset);
		return;
	}
	r = fsutil_write_all(j->fd, m->data, m->data_len);
	if (r < 0) {
		client_fail(j->c, EXIT_ERROR, "cannot write %s: %s", j->part, strerror(-r));
		return;
	}
	EVP_DigestUpdate(j->sha, m->data, m->data_len);
	j->offset += m->data_len;
	progress_update(j->prog, j->offset);
}

/* PATH.part to PATH. Without -o or --force a file that appeared at PATH
 * meanwhile is kept (EEXIST): the check before the pull is not enough. */
static int pull_rename(const struct job *j)
{
	if (j->out || j->force)
		return rename(j->part, j->path);
	if (renameat2(AT_FDCWD, j->part, AT_FDCWD, j->path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link fails on EEXIST too. */
	if (link(j->part, j->path) < 0)
		return -1;
	unlink(j->part);
	return 0;
}

static void pull_finish(struct job *j)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	char hex[2 * PROTO_HASH_LEN + 1], got[2 * PROTO_HASH_LEN + 1];
	unsigned len = 0;
	struct jw w;
	int to_stdout = strcmp(j->path, "-") == 0;

	progress_free(j->prog);
	j->prog = NULL;
	EVP_DigestFinal_ex(j->sha, digest, &len);
	hex_encode(j->info->hash, PROTO_HASH_LEN, hex);
	if (j->offset != j->size || memcmp(digest, j->info->hash, PROTO_HASH_LEN) != 0) {
		hex_encode(digest, PROTO_HASH_LEN, got);
		if (!j->direct)
			unlink(j->part);
		client_fail(j->c, EXIT_INTEGRITY, "%s: SHA-256 mismatch: expected %s, got %s%s",
		            j->info->text, hex, got,
		            j->direct ? "" : "; the partial file was removed, pull again");
		return;
	}
	if (!j->direct && fsync(j->fd) < 0) {
		client_fail(j->c, EXIT_ERROR, "cannot save %s: %s", j->path, strerror(errno));
		return;
	}
	if (!j->direct && pull_rename(j) < 0) {
		if (errno == EEXIST)
			client_fail(j->c, EXIT_ERROR,
			            "%s appeared while pulling: not replaced; the file is in %s",
			            j->path, j->part);
		else
			client_fail(j->c, EXIT_ERROR, "cannot save %s: %s", j->path,
			            strerror(errno));
		return;
	}
	if (j->s->json) {
		jw_begin(&w, to_stdout ? stderr : stdout);
		jw_str(&w, "path", j->path);
		jw_str(&w, "name", j->info->text);
		jw_u64(&w, "size", j->size);
		jw_str(&w, "sha256", hex);
		jw_key(&w, "seconds");
		fprintf(to_stdout ? stderr : stdout, "%.3f",
		        (double)(clock_now_ms() - j->t0_ms) / 1000.0);
		jw_u64(&w, "resumed_from", j->start);
		jw_u64(&w, "received", j->offset - j->start);
		jw_str(&w, "owner", j->info->user);
		jw_end(&w);
	} else if (!j->s->quiet && !to_stdout) {
		out_clean(stdout, j->path);
		fputc('\n', stdout);
		out_flush();
	}
	client_done(j->c, 0);
}

static void pull_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;

	if (!m)
		return;
	if (m->type == MSG_FILE_DATA)
		pull_data(j, m);
	else if (m->type == MSG_ERROR)
		client_fail_msg(c, m, j->label);
	else if (m->type == MSG_OK)
		pull_finish(j);
}

/* The output path: -o, or the file's name here (made safe: a name from
 * the server is never a path). */
static int pull_path(struct job *j, const char *name)
{
	char safe[256];
	size_t n = 0;

	if (j->out) {
		snprintf(j->path, sizeof(j->path), "%s", j->out);
	} else {
		for (const char *p = name; *p && n + 1 < sizeof(safe); p++)
			safe[n++] = (*p == '/' || (unsigned char)*p < 0x20) ? '_' : *p;
		safe[n] = '\0';
		if (n == 0 || strcmp(safe, ".") == 0 || strcmp(safe, "..") == 0 || safe[0] == '.')
			snprintf(safe + (safe[0] == '.' ? 0 : n), sizeof(safe) - n, "file");
		snprintf(j->path, sizeof(j->path), "%s", safe);
	}
	snprintf(j->part, sizeof(j->part), "%s.part", j->path);
	return 0;
}

/* Open PATH.part, hash what it already holds, ask for the rest. */
static void pull_start(struct job *j, const struct msg *info)
{
	struct msg m;
	struct stat sb;
	uint64_t have = 0;

	file_keep_info(j, info);
	j->size = info->size;
	pull_path(j, info->text);
	str_copy(j->label, sizeof(j->label), info->text);
	/* The name is the sender's choice: it must not replace a file here
	 * unless asked to (-o names the target, --force allows it). */
	if (!j->out && !j->force && lstat(j->path, &sb) == 0) {
		client_fail(j->c, EXIT_ERROR,
		            "%s exists already: not replaced; pull with -o PATH to choose "
		            "another name, or --force to replace it",
		            j->path);
		return;
	}
	j->sha = EVP_MD_CTX_new();
	if (!j->sha || EVP_DigestInit_ex(j->sha, EVP_sha256(), NULL) != 1)
		fatal("out of memory");
	/* A device or FIFO (say -o /dev/null) is written as it is: renaming a
	 * .part file onto it would replace the device with a plain file. */
	j->direct = strcmp(j->path, "-") == 0 || (stat(j->path, &sb) == 0 && !S_ISREG(sb.st_mode));
	if (strcmp(j->path, "-") == 0) {
		j->fd = STDOUT_FILENO;
	} else if (j->direct) {
		j->fd = open(j->path, O_WRONLY | O_CLOEXEC);
		if (j->fd < 0) {
			client_fail(j->c, EXIT_ERROR, "cannot open %s: %s", j->path,
			            strerror(errno));
			return;
		}
	} else {
		j->fd = open(j->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (j->fd < 0 || fstat(j->fd, &sb) < 0) {
			client_fail(j->c, EXIT_ERROR, "cannot open %s: %s", j->part,
			            strerror(errno));
			return;
		}
		have = (uint64_t)sb.st_size <= j->size ? (uint64_t)sb.st_size : 0;
		if (ftruncate(j->fd, (off_t)have) < 0) {
			client_fail(j->c, EXIT_ERROR, "cannot use %s: %s", j->part,
			            strerror(errno));
			return;
		}
		for (uint64_t off = 0; off < have;) {
			ssize_t n = pread(j->fd, j->buf, j->chunk, (off_t)off);
			if (n <= 0) {
				have = off;
				break;
			}
			EVP_DigestUpdate(j->sha, j->buf, (size_t)n);
			off += (uint64_t)n;
		}
		lseek(j->fd, (off_t)have, SEEK_SET);
	}
	j->offset = j->start = have;
	j->prog = progress_new(j->label, j->size, have, j->s->quiet || j->s->json);
	proto_msg_init(&m, MSG_FILE_PULL);
	snprintf(m.secret, sizeof(m.secret), "%s", info->secret[0] ? info->secret : j->args[0]);
	m.size = have;
	file_request(j, &m, pull_reply);
}

void pull_info_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;

	if (!m)
		return;
	if (m->type == MSG_ERROR)
		client_fail_msg(c, m, "link");
	else if (m->type == MSG_FILE_INFO)
		file_keep_info(j, m);
	else if (m->type == MSG_OK && j->info)
		pull_start(j, j->info);
}
