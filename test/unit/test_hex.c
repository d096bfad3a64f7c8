/* Unit tests for common/hex.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static void test_encode(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(in) + 2];

	(void)state;
	memset(out, 'x', sizeof(out));
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	assert_int_equal(out[sizeof(out) - 1], 'x'); /* nothing past the NUL */
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void check_random(size_t nhex)
{
	char out[300];

	memset(out, 'x', sizeof(out));
	assert_int_equal(hex_random(out, nhex), 0);
	assert_int_equal(strlen(out), nhex);
	assert_int_equal(strspn(out, HEX_DIGITS), nhex);
	assert_int_equal(out[nhex + 1], 'x');
}

static void test_random(void **state)
{
	char a[33], b[33];

	(void)state;
	/* odd lengths, one chunk, several chunks */
	check_random(0);
	check_random(1);
	check_random(8);
	check_random(63);
	check_random(64);
	check_random(65);
	check_random(200);
	assert_int_equal(hex_random(a, 32), 0);
	assert_int_equal(hex_random(b, 32), 0);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
