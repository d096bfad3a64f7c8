/* Unit tests for audiod's jitter buffer (audiod/jitter.c, compiled in: the
 * daemons are not libraries). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../audiod/jitter.c"

#define US 20000 /* one frame */

static void put(struct jitter *j, uint64_t seq, uint64_t at_us, bool fec)
{
	uint8_t pkt[4] = {(uint8_t)seq, 1, 2, 3};

	assert_int_equal(jitter_put(j, seq, pkt, sizeof(pkt), fec, at_us), 0);
}

static enum jitter_kind pop(struct jitter *j, uint64_t *ret_seq)
{
	const struct jitter_slot *s = NULL;
	enum jitter_kind k = jitter_pop(j, &s);

	*ret_seq = s ? s->seq : 0;
	return k;
}

/* Plays in order once two frames are there. */
static void test_in_order(void **state)
{
	struct jitter j;
	uint64_t seq;

	(void)state;
	jitter_init(&j, 8);
	assert_int_equal(pop(&j, &seq), JITTER_NONE);
	put(&j, 100, 100 * US, false);
	assert_int_equal(pop(&j, &seq), JITTER_NONE);
	put(&j, 101, 101 * US, false);
	for (uint64_t s = 100; s < 150; s++) {
		assert_int_equal(pop(&j, &seq), JITTER_DATA);
		assert_int_equal(seq, s);
		put(&j, s + 2, (s + 2) * US, false);
	}
	assert_int_equal(j.target, 2);
}

/* A lost frame is concealed, or recovered from the next packet's FEC. */
static void test_loss_plc_fec(void **state)
{
	struct jitter j;
	uint64_t seq;

	(void)state;
	jitter_init(&j, 8);
	put(&j, 1, 1 * US, false);
	put(&j, 2, 2 * US, false);
	put(&j, 4, 4 * US, false);
	put(&j, 6, 6 * US, true);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(pop(&j, &seq), JITTER_LOST); /* 3: 4 has no FEC */
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(seq, 4);
	assert_int_equal(pop(&j, &seq), JITTER_FEC); /* 5 from 6's FEC */
	assert_int_equal(seq, 6);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(seq, 6);
}

/* A late frame (nothing newer either) keeps its place; a frame older than
 * the playout point and a duplicate are refused. */
static void test_late_keeps_place(void **state)
{
	struct jitter j;
	uint64_t seq;

	(void)state;
	jitter_init(&j, 8);
	put(&j, 1, 1 * US, false);
	put(&j, 2, 2 * US, false);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(pop(&j, &seq), JITTER_LOST); /* 3 is late */
	put(&j, 3, 5 * US, false);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(seq, 3);
	assert_int_equal(jitter_put(&j, 2, (uint8_t *)"x", 1, false, 6 * US), -EALREADY);
	put(&j, 4, 6 * US, false);
	assert_int_equal(jitter_put(&j, 4, (uint8_t *)"x", 1, false, 6 * US), -EALREADY);
	assert_int_equal(jitter_put(&j, 5, (uint8_t *)"x", AUDIO_PACKET_HARD + 1, false, 0),
	                 -E2BIG);
}

/* Silence for a while ends the talk spurt; the next frame starts afresh. */
static void test_stop_and_restart(void **state)
{
	struct jitter j;
	uint64_t seq;
	int lost = 0;

	(void)state;
	jitter_init(&j, 8);
	put(&j, 1, 1 * US, false);
	put(&j, 2, 2 * US, false);
	pop(&j, &seq);
	pop(&j, &seq);
	while (pop(&j, &seq) == JITTER_LOST)
		lost++;
	assert_int_equal(lost, 7);
	assert_false(j.playing);
	/* far ahead: a new spurt */
	put(&j, 500, 500 * US, false);
	put(&j, 501, 501 * US, false);
	assert_int_equal(pop(&j, &seq), JITTER_DATA);
	assert_int_equal(seq, 500);
}

/* Spread arrivals raise the target; it never passes max. */
static void test_target_grows(void **state)
{
	struct jitter j;
	uint64_t seq;

	(void)state;
	jitter_init(&j, 6);
	for (uint64_t s = 1; s < 200; s++) {
		/* every fourth frame arrives 60 ms late */
		put(&j, s, s * US + (s % 4 == 0 ? 60000 : 0), false);
		pop(&j, &seq);
	}
	assert_true(j.target > 2);
	assert_true(j.target <= 6);
}

/* Pops a frame, and sheds it as the mixer does when it may (the frame is
 * as quiet as told). Returns the frames shed. */
static unsigned pop_shed(struct jitter *j, bool quiet)
{
	const struct jitter_slot *s = NULL;

	if (jitter_pop(j, &s) != JITTER_DATA)
		return 0;
	return jitter_shed(j, quiet) != NULL;
}

/* Six frames where two are needed: after a calm second the quiet frames go,
 * one a tick, until the surplus is gone; nothing before that second. */
static void test_calm_sheds_quiet(void **state)
{
	struct jitter j;
	unsigned shed = 0;

	(void)state;
	jitter_init(&j, 8);
	for (uint64_t s = 1; s <= 6; s++)
		put(&j, s, s * US, false);
	for (uint64_t s = 7; s < 100; s++) {
		shed += pop_shed(&j, true);
		if (s < 7 + 49)
			assert_int_equal(shed, 0);
		put(&j, s, s * US, false);
	}
	assert_int_equal(shed, j.dropped);
	assert_true(shed >= 2);
	assert_true(jitter_buffered(&j) <= j.target + 1);
}

/* Loud frames (a word) are not shed after a calm second: only after five,
 * one frame, and the delay stays bounded. */
static void test_calm_spares_speech(void **state)
{
	struct jitter j;
	unsigned shed = 0;
	uint64_t s;

	(void)state;
	jitter_init(&j, 8);
	for (s = 1; s <= 6; s++)
		put(&j, s, s * US, false);
	for (s = 7; s < 7 + 240; s++) {
		shed += pop_shed(&j, false);
		put(&j, s, s * US, false);
	}
	assert_int_equal(shed, 0);
	for (; s < 7 + 260; s++) {
		shed += pop_shed(&j, false);
		put(&j, s, s * US, false);
	}
	assert_int_equal(shed, 1);
	assert_int_equal(j.dropped, 1);
}

/* A stall (a third of a second of frames at once) raises the target and
 * leaves a backlog; once arrivals are even again, the target comes back to
 * two frames within a few seconds and the backlog goes in the pauses. The
 * target used to stay up for good: "calm" was measured against it. */
static void test_target_comes_down(void **state)
{
	struct jitter j;
	uint64_t s = 1;

	(void)state;
	jitter_init(&j, 8);
	for (; s <= 3; s++) {
		put(&j, s, s * US, false);
		pop_shed(&j, true);
	}
	for (; s <= 18; s++) /* the stall: 15 frames come at once */
		put(&j, s, 18 * US, false);
	assert_true(j.target > 2);
	for (; s < 18 + 250; s++) {
		pop_shed(&j, true);
		put(&j, s, s * US, false);
	}
	assert_int_equal(j.target, 2);
	assert_true(jitter_buffered(&j) <= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),           cmocka_unit_test(test_loss_plc_fec),
	    cmocka_unit_test(test_late_keeps_place),   cmocka_unit_test(test_stop_and_restart),
	    cmocka_unit_test(test_target_grows),       cmocka_unit_test(test_calm_sheds_quiet),
	    cmocka_unit_test(test_calm_spares_speech), cmocka_unit_test(test_target_comes_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
