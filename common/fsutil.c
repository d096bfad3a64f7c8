/* fsutil: see fsutil.h. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsutil_mkdir_one(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int fsutil_mkdir_p(const char *path, mode_t mode)
{
	char buf[FSUTIL_PATH_MAX];
	size_t n = strlen(path);
	int r;

	if (n == 0 || n >= sizeof(buf))
		return n ? -ENAMETOOLONG : -ENOENT;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		r = fsutil_mkdir_one(buf, mode);
		*p = '/';
		if (r < 0)
			return r;
	}
	return fsutil_mkdir_one(buf, mode);
}

void fsutil_dirname(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, outlen, ".");
	else if (slash == path)
		snprintf(out, outlen, "/");
	else
		snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

int fsutil_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int fsutil_replace(const char *path, mode_t mode, int flags, int (*fn)(int fd, void *arg),
                   void *arg)
{
	char tmp[FSUTIL_PATH_MAX + 16], dir[FSUTIL_PATH_MAX];
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= FSUTIL_PATH_MAX)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 until the fchmod */
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0)
		r = fn(fd, arg);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && (flags & FSUTIL_NOREPLACE) && link(tmp, path) < 0)
		r = -errno;
	if (r == 0 && !(flags & FSUTIL_NOREPLACE) && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0 || (flags & FSUTIL_NOREPLACE))
		unlink(tmp);
	if (r < 0)
		return r;
	/* The rename or link is durable once the folder is. */
	fsutil_dirname(path, dir, sizeof(dir));
	return fsutil_sync_dir(dir);
}

struct fsutil_stream {
	int (*fn)(FILE *f, void *arg);
	void *arg;
};

static int fsutil_stream_cb(int fd, void *arg)
{
	const struct fsutil_stream *s = arg;
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0), r;
	FILE *f;

	if (dupfd < 0)
		return -errno;
	f = fdopen(dupfd, "w");
	if (!f) {
		r = -errno;
		close(dupfd);
		return r;
	}
	r = s->fn(f, s->arg);
	if (r == 0 && (fflush(f) != 0 || ferror(f)))
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = errno ? -errno : -EIO;
	return r;
}

int fsutil_replace_stream(const char *path, mode_t mode, int flags, int (*fn)(FILE *f, void *arg),
                          void *arg)
{
	struct fsutil_stream s = {fn, arg};

	return fsutil_replace(path, mode, flags, fsutil_stream_cb, &s);
}

struct fsutil_buf {
	const void *buf;
	size_t len;
};

static int fsutil_buf_cb(int fd, void *arg)
{
	const struct fsutil_buf *b = arg;

	return fsutil_write_all(fd, b->buf, b->len);
}

int fsutil_replace_buf(const char *path, mode_t mode, int flags, const void *buf, size_t len)
{
	struct fsutil_buf b = {buf, len};

	return fsutil_replace(path, mode, flags, fsutil_buf_cb, &b);
}
