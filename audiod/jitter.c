/* jitter: an adaptive jitter buffer per talker.
 *
 * Frames are 20 ms apart at the sender. The buffer starts playing once it
 * holds `target` frames; target follows the RFC 3550 interarrival jitter
 * estimate (two frames, since the sender's clock and ours tick at unrelated
 * phases, plus twice the jitter in frames, capped by max): it grows at once
 * when arrivals spread, and comes down after a calm second with more
 * buffered than the estimate asks for. The surplus is then dropped only
 * where the mixer found a frame quiet (jitter_shed): a pause between words
 * gets shorter, a word never loses 20 ms. A talker who is never quiet loses
 * one frame after JITTER_LOUD_TICKS of surplus, so the delay stays bounded.
 * A missing frame is concealed (the mixer runs Opus PLC) or recovered from
 * the next packet's in-band FEC. A frame that is merely late (nothing newer
 * has come either) is concealed without losing its place, so a burst of
 * late arrivals costs delay, not speech; a talker who sent nothing for a
 * while stops playing and starts afresh on the next frame. */
#include "audiod.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define JITTER_FRAME_US 20000
#define JITTER_STOP_AFTER 8   /* lost ticks in a row that end a talk spurt */
#define JITTER_CALM_TICKS 50  /* one second of surplus before shrinking */
#define JITTER_LOUD_TICKS 250 /* five: then even a loud frame goes */

void jitter_init(struct jitter *j, unsigned max)
{
	memset(j, 0, sizeof(*j));
	j->max = max < 1 ? 1 : max > AUDIO_JITTER_SLOTS - 2 ? AUDIO_JITTER_SLOTS - 2 : max;
	j->target = j->max < 2 ? j->max : 2;
	j->want = j->target;
}

unsigned jitter_buffered(const struct jitter *j)
{
	unsigned n = 0;

	for (unsigned i = 0; i < AUDIO_JITTER_SLOTS; i++)
		if (j->slot[i].used)
			n++;
	return n;
}

static void jitter_reset(struct jitter *j)
{
	for (unsigned i = 0; i < AUDIO_JITTER_SLOTS; i++)
		j->slot[i].used = false;
	j->playing = false;
	j->started = false;
	j->lost_run = 0;
	j->calm = 0;
}

static void jitter_estimate(struct jitter *j, uint64_t seq, uint64_t now_us)
{
	int64_t transit = (int64_t)now_us - (int64_t)(seq * JITTER_FRAME_US);
	double d;
	unsigned want;

	if (j->started) {
		d = fabs((double)(transit - j->last_transit));
		j->jitter_us += (d - j->jitter_us) / 16.0;
	}
	j->last_transit = transit;
	want = 2 + (unsigned)(2.0 * j->jitter_us / JITTER_FRAME_US);
	if (want > j->max)
		want = j->max;
	j->want = want;
	if (want > j->target)
		j->target = want;
}

int jitter_put(struct jitter *j, uint64_t seq, const uint8_t *data, size_t len, bool fec,
               uint64_t now_us)
{
	struct jitter_slot *s;

	if (len > AUDIO_PACKET_HARD)
		return -E2BIG;
	if (!j->started) {
		jitter_reset(j);
		j->next_seq = seq;
		j->started = true;
		j->last_transit = (int64_t)now_us - (int64_t)(seq * JITTER_FRAME_US);
	}
	if (seq < j->next_seq) {
		j->late++;
		return -EALREADY;
	}
	if (seq >= j->next_seq + AUDIO_JITTER_SLOTS) {
		/* far ahead (the sender restarted or we fell behind): start over */
		jitter_reset(j);
		j->next_seq = seq;
		j->started = true;
		j->last_transit = (int64_t)now_us - (int64_t)(seq * JITTER_FRAME_US);
	}
	s = &j->slot[seq % AUDIO_JITTER_SLOTS];
	if (s->used && s->seq == seq)
		return -EALREADY;
	jitter_estimate(j, seq, now_us);
	s->used = true;
	s->seq = seq;
	s->len = (uint16_t)len;
	s->fec = fec;
	s->arrival_us = now_us;
	memcpy(s->data, data, len);
	return 0;
}

static struct jitter_slot *jitter_at(struct jitter *j, uint64_t seq)
{
	struct jitter_slot *s = &j->slot[seq % AUDIO_JITTER_SLOTS];

	return s->used && s->seq == seq ? s : NULL;
}

enum jitter_kind jitter_pop(struct jitter *j, const struct jitter_slot **ret_slot)
{
	unsigned n = jitter_buffered(j);
	struct jitter_slot *s, *next;

	if (!j->started)
		return JITTER_NONE;
	if (!j->playing) {
		if (n < j->target)
			return JITTER_NONE;
		j->playing = true;
		/* begin at the oldest frame we hold */
		while (!jitter_at(j, j->next_seq))
			j->next_seq++;
	}
	/* calm: more than the jitter now asks for. Measured against want,
	 * not target: the buffer holds about target frames, so against target
	 * a target grown by one burst could never come down again. After a
	 * calm second the target falls to want and jitter_shed plays the
	 * surplus away in pauses. */
	j->calm = n > j->want + 1 ? j->calm + 1 : 0;
	if (j->calm >= JITTER_CALM_TICKS && j->target > j->want)
		j->target = j->want;
	s = jitter_at(j, j->next_seq);
	if (s) {
		s->used = false;
		j->next_seq++;
		j->lost_run = 0;
		*ret_slot = s;
		return JITTER_DATA;
	}
	if (n == 0 && ++j->lost_run >= JITTER_STOP_AFTER) {
		jitter_reset(j);
		return JITTER_NONE;
	}
	if (n == 0) {
		/* nothing newer either: the frame is late, not lost. Conceal
		 * without giving up its place, so it still plays when it comes
		 * (the talker's delay grows by a frame; calm sheds it later) */
		return JITTER_LOST;
	}
	j->lost_run = 0;
	next = jitter_at(j, j->next_seq + 1);
	j->next_seq++;
	if (next && next->fec) {
		*ret_slot = next;
		return JITTER_FEC;
	}
	return JITTER_LOST;
}

const struct jitter_slot *jitter_shed(struct jitter *j, bool quiet)
{
	struct jitter_slot *s = jitter_at(j, j->next_seq);

	if (!s || j->calm < (quiet ? JITTER_CALM_TICKS : JITTER_LOUD_TICKS))
		return NULL;
	s->used = false;
	j->next_seq++;
	j->dropped++;
	/* quiet frames may go one a tick while the surplus lasts; a loud one
	 * waits for another long calm */
	if (!quiet)
		j->calm = 0;
	return s;
}
