/* Unit tests for common/utf8.c: the decoder and the terminal cleaning
 * (utf8_clean over utf8_clean_step). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static size_t next(const char *s, uint32_t *cp)
{
	return utf8_next(s, strlen(s), cp);
}

static void test_next_valid(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(next("a", &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(next("\xc3\xa9", &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(next("\xe6\xbc\xa2", &cp), 3);
	assert_int_equal(cp, 0x6f22);
	assert_int_equal(next("\xf0\x9f\x93\x8e", &cp), 4);
	assert_int_equal(cp, 0x1f4ce);
	assert_int_equal(next("\xf4\x8f\xbf\xbf", &cp), 4); /* U+10FFFF */
	assert_int_equal(cp, 0x10ffff);
	/* A NUL inside the length is a character. */
	assert_int_equal(utf8_next("\0x", 2, &cp), 1);
	assert_int_equal(cp, 0);
}

static void test_next_invalid(void **state)
{
	static const char *const bad[] = {
	    "\x80",             /* a lone continuation */
	    "\xc0\xaf",         /* overlong '/' */
	    "\xc1\xbf",         /* overlong */
	    "\xe0\x80\xaf",     /* overlong, three bytes */
	    "\xf0\x80\x80\xaf", /* overlong, four bytes */
	    "\xed\xa0\x80",     /* a surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xf5\x80\x80\x80", /* lead byte past U+10FFFF */
	    "\xff",
	    "\xe6\xbc", /* cut short by the NUL */
	    "\xc3(",    /* not a continuation */
	};
	uint32_t cp = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(next(bad[i], &cp), 0);
		assert_int_equal(cp, 42); /* untouched on failure */
	}
	/* cut short by the length, though the bytes go on */
	assert_int_equal(utf8_next("\xe6\xbc\xa2", 2, &cp), 0);
	assert_int_equal(utf8_next("a", 0, &cp), 0);
}

static void test_cut(void **state)
{
	const char *s = "a\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x93\x8e"; /* 1 + 2 + 3 + 4 bytes */

	(void)state;
	assert_int_equal(utf8_cut(s, 100), 10);
	assert_int_equal(utf8_cut(s, 10), 10);
	assert_int_equal(utf8_cut(s, 9), 6); /* not into the 4-byte sequence */
	assert_int_equal(utf8_cut(s, 7), 6);
	assert_int_equal(utf8_cut(s, 6), 6);
	assert_int_equal(utf8_cut(s, 5), 3);
	assert_int_equal(utf8_cut(s, 2), 1);
	assert_int_equal(utf8_cut(s, 1), 1);
	assert_int_equal(utf8_cut(s, 0), 0);
	assert_int_equal(utf8_cut("", 5), 0);
}

static void test_bidi(void **state)
{
	(void)state;
	assert_true(utf8_is_bidi(0x202e));
	assert_true(utf8_is_bidi(0x2066));
	assert_true(utf8_is_bidi(0x200f));
	assert_true(utf8_is_bidi(0x061c));
	assert_false(utf8_is_bidi(0x2070));
	assert_false(utf8_is_bidi('a'));
}

static void check_clean(const char *in, bool keep_nl, const char *want)
{
	char *got = utf8_clean(in, keep_nl);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define R UTF8_REPLACEMENT
#define NL UTF8_NEWLINE

static void test_clean(void **state)
{
	(void)state;
	check_clean("plain caf\xc3\xa9 \xe6\xbc\xa2", false, "plain caf\xc3\xa9 \xe6\xbc\xa2");
	/* ESC, CSI as C1, DEL, BEL: no cursor moves, no titles */
	check_clean("\x1b[2Jx", false, R "[2Jx");
	check_clean("\xc2\x9b"
	            "31m",
	            false, R "31m");
	check_clean("a\x7f\x07", false, "a" R R);
	/* bidi overrides cannot reorder what follows */
	check_clean("\xe2\x80\xae"
	            "cod.exe",
	            false, R "cod.exe");
	/* tabs become spaces, newlines one line unless kept */
	check_clean("a\tb", false, "a b");
	check_clean("a\nb", false, "a" NL "b");
	check_clean("a\nb", true, "a\nb");
	check_clean("a\xe2\x80\xa8"
	            "b",
	            true, "a" NL "b");
	check_clean("\r", false, R);
	/* one U+FFFD per invalid byte */
	check_clean("\xc0\xaf!", false, R R "!");
	check_clean("ok\xe6\xbc", false, "ok" R R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_valid), cmocka_unit_test(test_next_invalid),
	    cmocka_unit_test(test_cut),        cmocka_unit_test(test_bidi),
	    cmocka_unit_test(test_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
