/* Unit tests for common/log.c: the stderr format, verbosity and repeated
 * lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr going to a temporary file; return what it wrote. */
static const char *capture(void (*fn)(void))
{
	static char out[1024];
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static void emit(void)
{
	errno = EAGAIN;
	log_err("bad %s", "thing");
	log_warn("careful: %d", 42);
	log_info("listening on [::]:%d", 5555);
	log_debug("detail %d", 1);
	assert_int_equal(errno, EAGAIN); /* logging keeps errno */
}

static void test_foreground(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("chatd", 1, 0);
	assert_int_equal(log_verbosity(), 0);
	assert_string_equal(capture(emit), "chatd: bad thing\n"
	                                   "chatd: warning: careful: 42\n"
	                                   "chatd: listening on [::]:5555\n");
	log_set_verbosity(1);
	assert_int_equal(log_verbosity(), 1);
	assert_string_equal(capture(emit), "chatd: bad thing\n"
	                                   "chatd: warning: careful: 42\n"
	                                   "chatd: listening on [::]:5555\n"
	                                   "chatd: detail 1\n");
}

static void test_alloc(void **state)
{
	char *s = xstrdup("abc");
	unsigned char *z = xcalloc(16, 4);

	(void)state;
	assert_string_equal(s, "abc");
	for (int i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	free(s);
	free(z);
	free(xcalloc(0, 0));
}

static void die(void)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0)
		fatal("cannot open %s", "x.db");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

static void repeat(void)
{
	for (int i = 0; i < 5; i++)
		log_warn("accept: %s", "Too many open files");
	log_info("other");
}

/* The same line five times is written once and counted; the count comes
 * before the next other line. */
static void test_repeats(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("videod", 1, 0);
	assert_string_equal(capture(repeat),
	                    "videod: warning: accept: Too many open files\n"
	                    "videod: warning: ... previous message repeated 4 times\n"
	                    "videod: other\n");
}

static void repeat_then_exit(void)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		log_init("chatd", 1, 0);
		for (int i = 0; i < 3; i++)
			log_info("same");
		exit(0); /* the held-back count is written at exit */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_repeats_at_exit(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	assert_string_equal(capture(repeat_then_exit),
	                    "chatd: same\n"
	                    "chatd: ... previous message repeated 2 times\n");
}

static void test_fatal(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("chatd", 1, 0);
	assert_string_equal(capture(die), "chatd: cannot open x.db\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_foreground),      cmocka_unit_test(test_alloc),
	    cmocka_unit_test(test_fatal),           cmocka_unit_test(test_repeats),
	    cmocka_unit_test(test_repeats_at_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
