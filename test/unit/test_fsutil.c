/* Unit tests for common/fsutil.c: write-all, mkdir -p, dirname and the
 * atomic replace (contents, mode, no temporary file left, create-only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "unit_files.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_fsutil.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unit_rm_tree(dir);
	return 0;
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void read_all(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_write_all(void **state)
{
	char path[128], buf[64], big[200000];
	struct stat st;
	int p[2], fd;

	(void)state;
	path_in(path, sizeof(path), "w");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fsutil_write_all(fd, "hello", 5), 0);
	assert_int_equal(fsutil_write_all(fd, "", 0), 0);
	close(fd);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "hello");
	/* a larger buffer, whole */
	memset(big, 'z', sizeof(big));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(fsutil_write_all(fd, big, sizeof(big)), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(big));
	/* a pipe with no reader: the error, not a loop (SIGPIPE ignored) */
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(fsutil_write_all(p[1], "x", 1), -EPIPE);
	close(p[1]);
	assert_int_equal(fsutil_write_all(-1, "x", 1), -EBADF);
	unlink(path);
}

static void test_mkdir_p(void **state)
{
	char path[128], longp[FSUTIL_PATH_MAX + 10];
	struct stat st;

	(void)state;
	path_in(path, sizeof(path), "a/b/c");
	assert_int_equal(fsutil_mkdir_p(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* again: what exists is fine, a trailing slash too */
	assert_int_equal(fsutil_mkdir_p(path, 0700), 0);
	path_in(path, sizeof(path), "a/b/c/");
	assert_int_equal(fsutil_mkdir_p(path, 0700), 0);
	/* a file in the way */
	path_in(path, sizeof(path), "a/f");
	close(open(path, O_WRONLY | O_CREAT, 0600));
	path_in(path, sizeof(path), "a/f/g");
	assert_int_equal(fsutil_mkdir_p(path, 0700), -ENOTDIR);
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(fsutil_mkdir_p(longp, 0700), -ENAMETOOLONG);
	assert_int_equal(fsutil_mkdir_p("", 0700), -ENOENT);
	path_in(path, sizeof(path), "a");
	unit_rm_tree(path);
}

static void test_dirname(void **state)
{
	char out[64];

	(void)state;
	fsutil_dirname("a/b/c", out, sizeof(out));
	assert_string_equal(out, "a/b");
	fsutil_dirname("name", out, sizeof(out));
	assert_string_equal(out, ".");
	fsutil_dirname("/x", out, sizeof(out));
	assert_string_equal(out, "/");
	fsutil_dirname("/etc/nexus/nexus.conf", out, sizeof(out));
	assert_string_equal(out, "/etc/nexus");
	assert_int_equal(fsutil_sync_dir(dir), 0);
	assert_int_equal(fsutil_sync_dir("/nonexistent.fsutil"), -ENOENT);
}

static int write_fail_cb(int fd, void *arg)
{
	(void)arg;
	assert_int_equal(fsutil_write_all(fd, "partial", 7), 0);
	return -ENOSPC;
}

static int stream_cb(FILE *f, void *arg)
{
	fprintf(f, "line %d\n", *(int *)arg);
	return 0;
}

static void test_replace(void **state)
{
	char path[128], buf[64];
	struct stat st;
	int n = 7;

	(void)state;
	path_in(path, sizeof(path), "file");
	assert_int_equal(fsutil_replace_buf(path, 0600, 0, "one\n", 4), 0);
	assert_int_equal(fsutil_replace_buf(path, 0640, 0, "two\n", 4), 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(unit_count_entries(dir), 1);
	/* a failing writer leaves the old file and no temporary one */
	assert_int_equal(fsutil_replace(path, 0600, 0, write_fail_cb, NULL), -ENOSPC);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "two\n");
	assert_int_equal(unit_count_entries(dir), 1);
	/* the stream form */
	assert_int_equal(fsutil_replace_stream(path, 0600, 0, stream_cb, &n), 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "line 7\n");
	assert_int_equal(unit_count_entries(dir), 1);
	/* create-only: the first wins whole, the second is -EEXIST */
	path_in(path, sizeof(path), "key");
	assert_int_equal(fsutil_replace_buf(path, 0600, FSUTIL_NOREPLACE, "first", 5), 0);
	assert_int_equal(fsutil_replace_buf(path, 0600, FSUTIL_NOREPLACE, "second", 6), -EEXIST);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "first");
	assert_int_equal(unit_count_entries(dir), 2);
	/* no folder */
	path_in(path, sizeof(path), "nosuch/file");
	assert_int_equal(fsutil_replace_buf(path, 0600, 0, "x", 1), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_all),
	    cmocka_unit_test(test_mkdir_p),
	    cmocka_unit_test(test_dirname),
	    cmocka_unit_test(test_replace),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
