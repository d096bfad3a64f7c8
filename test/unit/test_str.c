/* Unit tests for common/str.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "str.h"

static void test_copy(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	str_copy(buf, sizeof(buf), "abc");
	assert_string_equal(buf, "abc");
	/* exactly fits */
	str_copy(buf, sizeof(buf), "abcde");
	assert_string_equal(buf, "abcde");
	/* cut to fit, always terminated */
	str_copy(buf, sizeof(buf), "abcdefgh");
	assert_string_equal(buf, "abcde");
	str_copy(buf, sizeof(buf), "");
	assert_string_equal(buf, "");
	str_copy(buf, 1, "abc");
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
