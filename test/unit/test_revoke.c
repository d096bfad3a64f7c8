#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "revoke.h"

static int parse(const char *text, struct revoke_list *l, size_t *line)
{
	return revoke_parse(text, strlen(text), l, line);
}

static void test_parse_good(void **state)
{
	struct revoke_list l = {NULL, 0};
	size_t line = 0;

	(void)state;
	assert_int_equal(parse("", &l, &line), 0);
	assert_int_equal(l.n, 0);
	assert_true(revoke_list_stamp(&l, "alice") == 0);
	assert_int_equal(parse("# comment\n\nbob 1700000000123\nalice 5\n# x y z\nalice 7\n"
	                       "alice 6\nzed 18446744073709551615\n",
	                       &l, &line),
	                 0);
	/* one entry per user, the latest stamp, sorted */
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[0].user, "alice");
	assert_true(revoke_list_stamp(&l, "alice") == 7);
	assert_true(revoke_list_stamp(&l, "bob") == 1700000000123ULL);
	assert_true(revoke_list_stamp(&l, "zed") == UINT64_MAX);
	assert_true(revoke_list_stamp(&l, "carol") == 0);
	assert_true(revoke_list_stamp(&l, "abcdefghijklmnopqrstuvwxyz01234567890") == 0);
	revoke_list_free(&l);
	revoke_list_free(&l); /* twice is fine */
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *text;
		size_t line;
	} bad[] = {
	    {"alice 5", 1},         /* cut off: no newline */
	    {"alice 5\nbob 17", 2}, /* cut off last line */
	    {"alice\n", 1},
	    {"alice \n", 1},
	    {" alice 5\n", 1},
	    {"alice  5\n", 1},
	    {"alice 5 \n", 1},
	    {"alice 05\n", 1},
	    {"alice -5\n", 1},
	    {"alice +5\n", 1},
	    {"alice 5x\n", 1},
	    {"alice 18446744073709551616\n", 1},
	    {"al ice 5\n", 1},
	    {"-alice 5\n", 1},
	    {"abcdefghijklmnopqrstuvwxyz0123456 5\n", 1},
	    {"#ok\nalice 5\nbob\tx\n", 3},
	    {"alice 5\r\n", 1},
	};
	struct revoke_list l = {NULL, 0};

	(void)state;
	assert_int_equal(parse("keep 9\n", &l, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t line = 0;

		assert_int_equal(parse(bad[i].text, &l, &line), -EBADMSG);
		assert_int_equal(line, bad[i].line);
		/* the list parsed before is left as it was */
		assert_true(revoke_list_stamp(&l, "keep") == 9);
	}
	/* a line longer than the limit, with a NUL inside */
	{
		char text[REVOKE_LINE_MAX + 16];

		memset(text, 'a', sizeof(text));
		text[sizeof(text) - 1] = '\n';
		assert_int_equal(revoke_parse(text, sizeof(text), &l, NULL), -EBADMSG);
		assert_int_equal(revoke_parse("alice 5\0\n", 9, &l, NULL), -EBADMSG);
	}
	revoke_list_free(&l);
}

static void test_parse_limits(void **state)
{
	size_t size = (REVOKE_ENTRIES_MAX + 1) * 16, len = 0;
	char *text = malloc(size);
	struct revoke_list l = {NULL, 0};

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < REVOKE_ENTRIES_MAX; i++)
		len += (size_t)snprintf(text + len, size - len, "u%d %d\n", i, i + 1);
	assert_int_equal(revoke_parse(text, len, &l, NULL), 0);
	assert_int_equal(l.n, REVOKE_ENTRIES_MAX);
	assert_true(revoke_list_stamp(&l, "u4242") == 4243);
	len += (size_t)snprintf(text + len, size - len, "one-more 1\n");
	assert_int_equal(revoke_parse(text, len, &l, NULL), -E2BIG);
	assert_int_equal(revoke_parse(text, REVOKE_FILE_MAX + 1, &l, NULL), -E2BIG);
	revoke_list_free(&l);
	free(text);
}

static void test_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(revoke_path("/var/lib/nexus/token.key", out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/nexus/token.revoked");
	assert_int_equal(revoke_path("/token.key", out, sizeof(out)), 0);
	assert_string_equal(out, "/token.revoked");
	assert_int_equal(revoke_path("token.key", out, sizeof(out)), 0);
	assert_string_equal(out, "token.revoked");
	assert_int_equal(
	    revoke_path("/a/very/long/folder/name/that/does/not/fit/token.key", out, 32),
	    -ENAMETOOLONG);
}

static char dir[] = "/tmp/nexus-revoke-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The writer and the watcher together: add, raise, prune, fail closed. */
static void test_add_and_watch(void **state)
{
	char path[128], key[128], tmp[160];
	struct revoke *rv;
	struct stat st;
	bool changed;
	uint64_t now = 1800000000000ULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token.revoked", dir);
	snprintf(key, sizeof(key), "%s/token.key", dir);
	rv = revoke_new(path);
	assert_non_null(rv);
	/* no file: an empty list, and no lock file: nothing written */
	assert_int_equal(revoke_refresh(rv, &changed), 0);
	assert_false(changed);
	assert_int_equal(revoke_check(rv, "alice", 1), 0);
	assert_int_equal(revoke_add(path, key, "alice", now, now), -ENOENT);
	write_file(key, "0123456789abcdef0123456789abcdef");

	assert_int_equal(revoke_add(path, key, "alice", now, now), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(revoke_refresh(rv, &changed), 0);
	assert_int_equal(revoke_check(rv, "alice", now - 1), -EKEYREVOKED);
	assert_int_equal(revoke_check(rv, "alice", now), 0);
	assert_int_equal(revoke_check(rv, "bob", 1), 0);
	/* an earlier stamp never lowers a later one */
	assert_int_equal(revoke_add(path, key, "alice", now - 10, now), 0);
	assert_int_equal(revoke_add(path, key, "bob", now + 5, now), 0);
	assert_int_equal(revoke_refresh(rv, NULL), 0);
	assert_int_equal(revoke_check(rv, "alice", now - 1), -EKEYREVOKED);
	assert_int_equal(revoke_check(rv, "bob", now + 4), -EKEYREVOKED);
	assert_int_equal(revoke_add(path, key, "bad name", now, now), -EINVAL);
	/* a year later the old stamps are dropped */
	assert_int_equal(
	    revoke_add(path, key, "carol", now + REVOKE_KEEP_MS + 6, now + REVOKE_KEEP_MS + 6), 0);
	assert_int_equal(revoke_refresh(rv, NULL), 0);
	assert_int_equal(revoke_check(rv, "alice", 1), 0);
	assert_int_equal(revoke_check(rv, "carol", 1), -EKEYREVOKED);

	/* damaged: every check fails closed, said once; the writer refuses */
	write_file(path, "carol 1\nbroken\n");
	assert_int_equal(revoke_refresh(rv, &changed), -EBADMSG);
	assert_true(changed);
	assert_non_null(strstr(revoke_error(rv), "token.revoked:2:"));
	assert_int_equal(revoke_check(rv, "nobody", UINT64_MAX), -EBADMSG);
	assert_int_equal(revoke_refresh(rv, &changed), -EBADMSG);
	assert_false(changed);
	assert_int_equal(revoke_add(path, key, "dave", now, now), -EBADMSG);
	/* repaired (a new file): usable again */
	unlink(path);
	write_file(path, "carol 10\n");
	assert_int_equal(revoke_refresh(rv, &changed), 0);
	assert_true(changed);
	assert_int_equal(revoke_check(rv, "carol", 9), -EKEYREVOKED);
	assert_int_equal(revoke_check(rv, "carol", 10), 0);
	/* removed: an empty list */
	unlink(path);
	assert_int_equal(revoke_refresh(rv, NULL), 0);
	assert_int_equal(revoke_check(rv, "carol", 9), 0);

	revoke_free(rv);
	revoke_free(NULL);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_limits),  cmocka_unit_test(test_path),
	    cmocka_unit_test(test_add_and_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
