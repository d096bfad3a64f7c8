/* Unit tests for common/clock.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void test_monotonic(void **state)
{
	struct timespec nap = {0, 20 * 1000000L};
	uint64_t a_ms, b_ms, a_us, b_us;

	(void)state;
	a_ms = clock_now_ms();
	a_us = clock_now_us();
	nanosleep(&nap, NULL);
	b_us = clock_now_us();
	b_ms = clock_now_ms();
	assert_true(b_ms >= a_ms + 20);
	assert_true(b_us >= a_us + 20000);
	/* the two read the same clock: ms and us / 1000 agree */
	assert_true(b_ms >= b_us / 1000 && b_ms - b_us / 1000 <= 1000);
}

static void test_wall(void **state)
{
	uint64_t wall = clock_wall_ms();

	(void)state;
	/* after 2020-01-01 and within a second of time() */
	assert_true(wall > 1577836800000ull);
	assert_true(wall / 1000 + 1 >= (uint64_t)time(NULL) &&
	            wall / 1000 <= (uint64_t)time(NULL) + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_monotonic),
	    cmocka_unit_test(test_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
