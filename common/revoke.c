#include "revoke.h"
#include "auth.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define REVOKE_DIGITS 20
#define REVOKE_PATH_MAX 4096

struct revoke {
	char path[REVOKE_PATH_MAX];
	bool known;   /* the identity below has been read */
	bool present; /* the file existed */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err;      /* 0 or why the list is unusable */
	unsigned gen; /* re-reads */
	char why[REVOKE_ERR_MAX];
	struct revoke_list list;
};

static int revoke_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct revoke_entry *)a)->user,
	              ((const struct revoke_entry *)b)->user);
}

/* Decimal, no sign, no leading zero, no overflow. */
static int revoke_parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > REVOKE_DIGITS || (s[0] == '0' && n > 1))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* One "USER MILLISECONDS" line without its newline. */
static int revoke_parse_line(const char *line, size_t n, struct revoke_entry *ret)
{
	const char *sp = memchr(line, ' ', n);
	size_t ulen;

	if (!sp)
		return -EBADMSG;
	ulen = (size_t)(sp - line);
	if (ulen == 0 || ulen >= sizeof(ret->user))
		return -EBADMSG;
	memcpy(ret->user, line, ulen);
	ret->user[ulen] = '\0';
	if (!auth_name_valid(ret->user))
		return -EBADMSG;
	return revoke_parse_u64(sp + 1, n - ulen - 1, &ret->stamp_ms);
}

/* Sort by user and keep one entry per user, the latest stamp. */
static void revoke_list_merge(struct revoke_list *l)
{
	size_t out = 0;

	if (l->n == 0)
		return;
	qsort(l->e, l->n, sizeof(l->e[0]), revoke_entry_cmp);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(l->e[i].user, l->e[out].user) == 0) {
			if (l->e[i].stamp_ms > l->e[out].stamp_ms)
				l->e[out].stamp_ms = l->e[i].stamp_ms;
		} else {
			l->e[++out] = l->e[i];
		}
	}
	l->n = out + 1;
}

int revoke_parse(const char *text, size_t len, struct revoke_list *ret, size_t *ret_line)
{
	struct revoke_list l = {NULL, 0};
	size_t pos = 0, line = 0;
	int r = 0;

	if (len > REVOKE_FILE_MAX)
		return -E2BIG;
	while (pos < len && r == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct revoke_entry e;

		line++;
		if (!nl || n > REVOKE_LINE_MAX)
			r = -EBADMSG;
		else if (n > 0 && text[pos] != '#' && revoke_parse_line(text + pos, n, &e) < 0)
			r = -EBADMSG;
		else if (n > 0 && text[pos] != '#' && l.n == REVOKE_ENTRIES_MAX)
			r = -E2BIG;
		else if (n > 0 && text[pos] != '#') {
			if (l.n % 64 == 0) {
				struct revoke_entry *ne = realloc(l.e, (l.n + 64) * sizeof(*ne));

				if (!ne) {
					r = -ENOMEM;
					break;
				}
				l.e = ne;
			}
			l.e[l.n++] = e;
		}
		pos += n + 1;
	}
	if (r < 0) {
		if (ret_line)
			*ret_line = line;
		free(l.e);
		return r;
	}
	revoke_list_merge(&l);
	revoke_list_free(ret);
	*ret = l;
	return 0;
}

void revoke_list_free(struct revoke_list *l)
{
	if (!l)
		return;
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

uint64_t revoke_list_stamp(const struct revoke_list *l, const char *user)
{
	struct revoke_entry key;
	const struct revoke_entry *e;

	if (!l->n || !user || strlen(user) >= sizeof(key.user))
		return 0;
	snprintf(key.user, sizeof(key.user), "%s", user);
	e = bsearch(&key, l->e, l->n, sizeof(l->e[0]), revoke_entry_cmp);
	return e ? e->stamp_ms : 0;
}

int revoke_path(const char *token_key, char *out, size_t size)
{
	const char *slash = strrchr(token_key, '/');
	int n;

	if (!slash)
		n = snprintf(out, size, "%s", REVOKE_FILE_NAME);
	else
		n = snprintf(out, size, "%.*s/%s", (int)(slash - token_key), token_key,
		             REVOKE_FILE_NAME);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

struct revoke *revoke_new(const char *path)
{
	struct revoke *rv = calloc(1, sizeof(*rv));

	if (!rv)
		return NULL;
	if (strlen(path) >= sizeof(rv->path)) {
		free(rv);
		return NULL;
	}
	snprintf(rv->path, sizeof(rv->path), "%s", path);
	return rv;
}

void revoke_free(struct revoke *rv)
{
	if (!rv)
		return;
	revoke_list_free(&rv->list);
	free(rv);
}

static bool revoke_same(const struct revoke *rv, const struct stat *st)
{
	return rv->present && rv->dev == st->st_dev && rv->ino == st->st_ino &&
	       rv->size == st->st_size && rv->mtime.tv_sec == st->st_mtim.tv_sec &&
	       rv->mtime.tv_nsec == st->st_mtim.tv_nsec && rv->ctime.tv_sec == st->st_ctim.tv_sec &&
	       rv->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Read the whole file (at most REVOKE_FILE_MAX) from fd into a new buffer. */
static int revoke_read_fd(int fd, char **ret, size_t *ret_len)
{
	char *buf = malloc(REVOKE_FILE_MAX + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, REVOKE_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > REVOKE_FILE_MAX) {
			free(buf);
			return -E2BIG;
		}
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Read and parse path into l; a missing file is an empty list. On error
 * why says what went wrong. */
static int revoke_load(const char *path, struct revoke_list *l, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0, line = 0;
	char *text = NULL;
	int r;

	if (fd < 0 && errno == ENOENT) {
		revoke_list_free(l);
		return -ENOENT;
	}
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: cannot read the token revocation list: %s", path,
		         strerror(-r));
		return r;
	}
	r = revoke_read_fd(fd, &text, &len);
	close(fd);
	if (r == 0)
		r = revoke_parse(text, len, l, &line);
	free(text);
	if (r == -EBADMSG)
		snprintf(
		    why, whylen,
		    "%s:%zu: damaged token revocation list (want \"USER MILLISECONDS\" lines); "
		    "every token is refused until it is fixed",
		    path, line);
	else if (r < 0)
		snprintf(why, whylen, "%s: cannot load the token revocation list: %s", path,
		         r == -E2BIG ? "too large" : strerror(-r));
	return r;
}

int revoke_refresh(struct revoke *rv, bool *ret_changed)
{
	struct stat st;
	int old = rv->err, found = stat(rv->path, &st) == 0, r;

	if (ret_changed)
		*ret_changed = false;
	if (!found && errno != ENOENT)
		found = -1; /* cannot tell: read it, and say why */
	if (rv->known && found == 1 && revoke_same(rv, &st))
		return rv->err;
	if (rv->known && found == 0 && !rv->present && rv->err == 0)
		return 0;
	rv->why[0] = '\0';
	rv->gen++;
	if (!rv->known && found == 0)
		rv->gen = 0; /* the first look found nothing: nothing changed */
	r = revoke_load(rv->path, &rv->list, rv->why, sizeof(rv->why));
	rv->known = true;
	rv->err = r == -ENOENT ? 0 : r;
	/* a damaged file keeps its identity too: read again only when it changes */
	rv->present = found == 1 && r != -ENOENT;
	if (rv->present) {
		rv->dev = st.st_dev;
		rv->ino = st.st_ino;
		rv->size = st.st_size;
		rv->mtime = st.st_mtim;
		rv->ctime = st.st_ctim;
	}
	if (ret_changed)
		*ret_changed = old != rv->err;
	return rv->err;
}

unsigned revoke_generation(const struct revoke *rv)
{
	return rv->gen;
}

const char *revoke_error(const struct revoke *rv)
{
	return rv->why;
}

int revoke_check(const struct revoke *rv, const char *user, uint64_t issued_ms)
{
	if (rv->err < 0)
		return rv->err;
	return issued_ms < revoke_list_stamp(&rv->list, user) ? -EKEYREVOKED : 0;
}

struct revoke_new {
	const struct revoke_list *list;
	const struct stat *owner;
};

/* The list as the file holds it; written by root, it is owned as the lock
 * file is, so that the daemons' user can still read and replace it. */
static int revoke_write_cb(FILE *f, void *arg)
{
	const struct revoke_new *rn = arg;

	if (geteuid() == 0 && fchown(fileno(f), rn->owner->st_uid, rn->owner->st_gid) < 0)
		return -errno;
	fprintf(f, "# Shadow Nexus token revocations, written by chatd: \"USER MILLISECONDS\".\n"
	           "# Tokens of USER issued before MILLISECONDS since the epoch are refused.\n");
	for (size_t i = 0; i < rn->list->n; i++)
		fprintf(f, "%s %" PRIu64 "\n", rn->list->e[i].user, rn->list->e[i].stamp_ms);
	return 0;
}

/* Write l to a temporary file beside path and rename it into place. */
static int revoke_store(const char *path, const struct revoke_list *l, const struct stat *owner)
{
	return fsutil_replace_stream(path, 0640, 0, revoke_write_cb,
	                             &(struct revoke_new){l, owner});
}
/* Add or raise user's stamp in l and drop stale ones. */
static int revoke_list_set(struct revoke_list *l, const char *user, uint64_t stamp_ms,
                           uint64_t now_ms)
{
	size_t out = 0;
	bool found = false;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->e[i].user, user) == 0) {
			found = true;
			if (stamp_ms > l->e[i].stamp_ms)
				l->e[i].stamp_ms = stamp_ms;
		}
		if (now_ms < REVOKE_KEEP_MS || l->e[i].stamp_ms >= now_ms - REVOKE_KEEP_MS)
			l->e[out++] = l->e[i];
	}
	l->n = out;
	if (found)
		return 0;
	if (l->n >= REVOKE_ENTRIES_MAX)
		return -E2BIG;
	if (l->n % 64 == 0) {
		struct revoke_entry *ne = realloc(l->e, (l->n + 64) * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		l->e = ne;
	}
	snprintf(l->e[l->n].user, sizeof(l->e[l->n].user), "%s", user);
	l->e[l->n++].stamp_ms = stamp_ms;
	revoke_list_merge(l);
	return 0;
}

int revoke_add(const char *path, const char *lock_path, const char *user, uint64_t stamp_ms,
               uint64_t now_ms)
{
	struct revoke_list l = {NULL, 0};
	struct stat owner;
	char why[REVOKE_ERR_MAX];
	int lock, r;

	if (!auth_name_valid(user))
		return -EINVAL;
	lock = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (lock < 0)
		return -errno;
	if (fstat(lock, &owner) < 0 || flock(lock, LOCK_EX) < 0) {
		r = -errno;
		close(lock);
		return r;
	}
	r = revoke_load(path, &l, why, sizeof(why));
	if (r == 0 || r == -ENOENT)
		r = revoke_list_set(&l, user, stamp_ms, now_ms);
	if (r == 0)
		r = revoke_store(path, &l, &owner);
	revoke_list_free(&l);
	close(lock); /* drops the lock */
	return r;
}
