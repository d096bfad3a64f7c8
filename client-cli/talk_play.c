/* talk_play: the receiving half of `nexus talk`. AUDIO frames from audiod
 * go into a small jitter buffer by sequence number; each 20 ms tick takes
 * one out: decoded, concealed by Opus when it is missing (with in-band FEC
 * from the next), or silence when the stream is quiet. A switch between
 * the shared mix and a personal mix-minus crossfades over one frame. */
#include "talk.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct talk_slot *talk_at(struct talk *t, uint64_t seq)
{
	struct talk_slot *s = &t->slot[seq % TALK_SLOTS];

	return s->used && s->seq == seq ? s : NULL;
}

static unsigned talk_buffered(const struct talk *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < TALK_SLOTS; i++)
		n += t->slot[i].used;
	return n;
}

void talk_play_audio_in(struct talk *t, const struct msg *m)
{
	struct talk_slot *s;

	if (m->data_len == 0 || m->data_len > TALK_PACKET_MAX)
		return;
	t->received++;
	t->delay_sum += m->size;
	t->delay_n++;
	if (t->playing && m->id < t->next_seq) {
		t->late++;
		return;
	}
	if (t->playing && m->id >= t->next_seq + TALK_SLOTS) {
		/* far ahead: we fell behind; start again from here */
		for (unsigned i = 0; i < TALK_SLOTS; i++)
			t->slot[i].used = false;
		t->playing = false;
	}
	s = &t->slot[m->id % TALK_SLOTS];
	s->used = true;
	s->seq = m->id;
	s->stream = m->ref;
	s->len = (uint16_t)m->data_len;
	memcpy(s->data, m->data, m->data_len);
}

/* A new stream (shared <-> personal): the old decoder's concealment fades
 * out while the new stream fades in, over one frame. */
static int talk_decode_switch(struct talk *t, const struct talk_slot *s, int16_t *pcm)
{
	int16_t old[AUDIO_IO_FRAME];
	OpusDecoder *copy = malloc((size_t)opus_decoder_get_size(1));
	int n;

	if (!copy)
		return opus_decode(t->dec, s->data, s->len, pcm, AUDIO_IO_FRAME, 0);
	/* Opus states are flat memory: a copy continues the old stream */
	memcpy(copy, t->dec, (size_t)opus_decoder_get_size(1));
	n = opus_decode(copy, NULL, 0, old, AUDIO_IO_FRAME, 0);
	free(copy);
	opus_decoder_ctl(t->dec, OPUS_RESET_STATE);
	if (opus_decode(t->dec, s->data, s->len, pcm, AUDIO_IO_FRAME, 0) != AUDIO_IO_FRAME)
		return -1;
	for (int i = 0; n == AUDIO_IO_FRAME && i < AUDIO_IO_FRAME; i++) {
		double w = 0.5 - 0.5 * cos(M_PI * (i + 0.5) / AUDIO_IO_FRAME);
		pcm[i] = (int16_t)lrint(old[i] * (1 - w) + pcm[i] * w);
	}
	t->switches++;
	return AUDIO_IO_FRAME;
}

static bool talk_playout(struct talk *t, int16_t *pcm)
{
	unsigned n = talk_buffered(t);
	struct talk_slot *s;
	int r;

	if (!t->playing) {
		uint64_t low = UINT64_MAX;
		if (n < TALK_START_FRAMES)
			return false;
		for (unsigned i = 0; i < TALK_SLOTS; i++)
			if (t->slot[i].used && t->slot[i].seq < low)
				low = t->slot[i].seq;
		t->next_seq = low;
		t->playing = true;
		t->lost_run = 0;
	}
	if (n > TALK_MAX_BUFFERED && talk_at(t, t->next_seq)) {
		talk_at(t, t->next_seq)->used = false;
		t->next_seq++;
	}
	s = talk_at(t, t->next_seq);
	/* late rather than lost when nothing newer is here: keep its place */
	if (s || n > 0)
		t->next_seq++;
	if (s) {
		s->used = false;
		t->lost_run = 0;
		if (t->decoded_any && s->stream != t->cur_stream)
			r = talk_decode_switch(t, s, pcm);
		else
			r = opus_decode(t->dec, s->data, s->len, pcm, AUDIO_IO_FRAME, 0);
		t->cur_stream = s->stream;
		t->decoded_any = true;
		if (r == AUDIO_IO_FRAME) {
			t->played++;
			return true;
		}
	}
	if (++t->lost_run > TALK_STOP_LOST && talk_buffered(t) == 0) {
		t->playing = false;
		return false;
	}
	t->plc++;
	return opus_decode(t->dec, NULL, 0, pcm, AUDIO_IO_FRAME, 0) == AUDIO_IO_FRAME;
}

void talk_play_reset(struct talk *t)
{
	for (unsigned i = 0; i < TALK_SLOTS; i++)
		t->slot[i].used = false;
	t->playing = false;
	t->decoded_any = false;
	opus_decoder_ctl(t->dec, OPUS_RESET_STATE);
}

void talk_play_tick(struct talk *t)
{
	int16_t pcm[AUDIO_IO_FRAME];

	if (!talk_playout(t, pcm))
		memset(pcm, 0, sizeof(pcm));
	if (t->dev)
		audio_dev_write(t->dev, pcm);
	if (t->out && audio_out_write(t->out, pcm, AUDIO_IO_FRAME) < 0) {
		client_fail(t->c, EXIT_ERROR, "cannot write %s: %s", t->out_path, strerror(errno));
		audio_out_close(t->out);
		t->out = NULL;
	}
}
