/* Unit tests for common/ratelimit.c: token buckets, the rate table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <malloc.h>

#include <cmocka.h>

#include "ratelimit.h"

static int take_all(struct ratelimit *rl, uint64_t now, int max)
{
	int n = 0;

	while (n < max && ratelimit_take(rl, now, 1))
		n++;
	return n;
}

static void test_burst(void **state)
{
	struct ratelimit rl;
	uint64_t now = 1000000;

	(void)state;
	ratelimit_init(&rl, 10, 40, now);
	/* starts full: exactly the burst, then nothing */
	assert_int_equal(take_all(&rl, now, 100), 40);
	assert_false(ratelimit_take(&rl, now, 1));
	/* a failed take takes nothing */
	now += 50; /* half a token */
	assert_false(ratelimit_take(&rl, now, 1));
	now += 50;
	assert_true(ratelimit_take(&rl, now, 1));
	assert_false(ratelimit_take(&rl, now, 1));
}

static void test_refill(void **state)
{
	struct ratelimit rl;
	uint64_t now = 5000;

	(void)state;
	ratelimit_init(&rl, 10, 40, now);
	assert_int_equal(take_all(&rl, now, 100), 40);
	/* 10 per second: 1 s later 10 tokens */
	now += 1000;
	assert_int_equal(take_all(&rl, now, 100), 10);
	/* 10 steps of 10 ms make one token, despite rounding */
	for (int i = 0; i < 10; i++) {
		now += 10;
		if (i < 9)
			assert_false(ratelimit_take(&rl, now, 1));
	}
	assert_true(ratelimit_take(&rl, now, 1));
	/* a long idle time refills only up to the burst */
	now += 3600 * 1000;
	assert_int_equal(take_all(&rl, now, 100), 40);
	/* a clock that goes backwards refills nothing */
	assert_false(ratelimit_take(&rl, now - 500, 1));
	assert_false(ratelimit_take(&rl, now, 1));
}

static void test_cost(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 1.0 / 60, 5, 0); /* 1 per minute, 5 at once */
	assert_true(ratelimit_take(&rl, 0, 3));
	assert_false(ratelimit_take(&rl, 0, 3)); /* 2 left: nothing taken */
	assert_true(ratelimit_take(&rl, 0, 2));
	assert_false(ratelimit_take(&rl, 59999, 1));
	assert_true(ratelimit_take(&rl, 60000, 1));
	/* a cost above the burst never passes */
	assert_false(ratelimit_take(&rl, 10 * 3600 * 1000, 6));
	assert_true(ratelimit_take(&rl, 10 * 3600 * 1000, 5));
}

static void test_table_separate(void **state)
{
	struct ratetable *t = ratetable_new(16, 1, 3);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(ratetable_take(t, "alice", 0, 1));
		assert_true(ratetable_take(t, "bob", 0, 1));
	}
	assert_false(ratetable_take(t, "alice", 0, 1));
	assert_false(ratetable_take(t, "bob", 0, 1));
	assert_true(ratetable_take(t, "carol", 0, 1));
	assert_true(ratetable_take(t, "alice", 1000, 1));
	assert_false(ratetable_take(t, "alice", 1000, 1));
	ratetable_free(t);
	ratetable_free(NULL);
}

static void test_table_long_keys(void **state)
{
	char a[200], b[200];
	struct ratetable *t = ratetable_new(8, 1, 1);

	(void)state;
	/* keys equal in their first 64 bytes share a limiter */
	memset(a, 'k', sizeof(a));
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[100] = 'x';
	assert_true(ratetable_take(t, a, 0, 1));
	assert_false(ratetable_take(t, b, 0, 1));
	b[63] = 'x';
	assert_true(ratetable_take(t, b, 0, 1));
	assert_true(ratetable_take(t, "", 0, 1));
	assert_false(ratetable_take(t, "", 0, 1));
	ratetable_free(t);
}

static void test_table_eviction(void **state)
{
	struct ratetable *t = ratetable_new(4, 1, 2);
	char key[32];
	size_t heap;

	(void)state;
	/* four keys fill the table; each is spent */
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "10.0.0.%d", i);
		assert_true(ratetable_take(t, key, 0, 2));
		assert_false(ratetable_take(t, key, 0, 1));
	}
	/* touch 10.0.0.0 so 10.0.0.1 becomes the least recently used */
	assert_false(ratetable_take(t, "10.0.0.0", 0, 1));
	/* a fifth key evicts 10.0.0.1 only */
	assert_true(ratetable_take(t, "10.0.0.9", 0, 1));
	assert_false(ratetable_take(t, "10.0.0.0", 0, 1));
	assert_false(ratetable_take(t, "10.0.0.2", 0, 1));
	assert_false(ratetable_take(t, "10.0.0.3", 0, 1));
	/* 10.0.0.1 was forgotten: it starts again with a full bucket
	 * (evicting 10.0.0.9, the least recently used now) */
	assert_true(ratetable_take(t, "10.0.0.1", 0, 1));
	assert_true(ratetable_take(t, "10.0.0.9", 0, 2));

	/* a flood of distinct keys: the table keeps working in fixed slots,
	 * allocates nothing, and the most recent keys are still tracked */
	heap = mallinfo2().uordblks;
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		assert_true(ratetable_take(t, key, 0, 2));
	}
	assert_int_equal(mallinfo2().uordblks, heap);
	for (int i = 100000 - 4; i < 100000; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		assert_false(ratetable_take(t, key, 0, 1));
	}
	ratetable_free(t);
}

static void test_table_one_slot(void **state)
{
	struct ratetable *t = ratetable_new(0, 1, 1); /* 0 slots behaves as 1 */

	(void)state;
	assert_true(ratetable_take(t, "a", 0, 1));
	assert_false(ratetable_take(t, "a", 0, 1));
	assert_true(ratetable_take(t, "b", 0, 1));
	assert_true(ratetable_take(t, "a", 0, 1)); /* "a" was evicted */
	ratetable_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst),
	    cmocka_unit_test(test_refill),
	    cmocka_unit_test(test_cost),
	    cmocka_unit_test(test_table_separate),
	    cmocka_unit_test(test_table_long_keys),
	    cmocka_unit_test(test_table_eviction),
	    cmocka_unit_test(test_table_one_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
