/* fsutil: the file-system steps the daemons and the client repeat: write a
 * whole buffer, make a folder and its parents, and replace (or create) a
 * file so that a reader sees the old contents or the new, never a part,
 * and a power cut after the call keeps the new (the file and its folder
 * are synced). All return 0 or a negative errno. */
#ifndef NEXUS_FSUTIL_H
#define NEXUS_FSUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define FSUTIL_PATH_MAX 4096

/* All len bytes of buf to fd, again after EINTR or a short write. A write
 * that takes nothing is -EIO. */
int fsutil_write_all(int fd, const void *buf, size_t len);

/* mkdir -p: path and the folders above it with mode (an existing one is
 * left as it is). -ENAMETOOLONG past FSUTIL_PATH_MAX. */
int fsutil_mkdir_p(const char *path, mode_t mode);

/* The folder part of path into out: "." for a bare name, "/" for "/x". */
void fsutil_dirname(const char *path, char *out, size_t outlen);

/* fsync a folder, so that a rename or link in it survives a power cut. */
int fsutil_sync_dir(const char *dir);

enum fsutil_flags {
	/* Create only: -EEXIST when path is there (link(), not rename()), so
	 * that of two processes creating the same file one wins whole. */
	FSUTIL_NOREPLACE = 1,
};

/* Replace path: fn(fd, arg) writes the new contents to a new temporary
 * file beside it (mode, opened O_CLOEXEC) and returns 0 or -errno; the file
 * is synced and renamed over path, then the folder synced. On any failure
 * path is unchanged and the temporary file gone. */
int fsutil_replace(const char *path, mode_t mode, int flags, int (*fn)(int fd, void *arg),
                   void *arg);
/* The same with a stdio stream (on a duplicate of the descriptor). */
int fsutil_replace_stream(const char *path, mode_t mode, int flags, int (*fn)(FILE *f, void *arg),
                          void *arg);
/* The same with len bytes of buf as the new contents. */
int fsutil_replace_buf(const char *path, mode_t mode, int flags, const void *buf, size_t len);

#endif
