/* mixer: the 20 ms clock, decode, select, mix, encode, send.
 *
 * Clock: one timerfd (CLOCK_MONOTONIC, absolute start, 20 ms interval) for
 * every room. The kernel keeps the period, so ticks never drift however
 * long a tick or the event loop took; an overrun shows as more than one
 * expiration, which we count and catch up on (at most a few ticks).
 *
 * Each tick, per room: every talker with a playing jitter buffer yields one
 * frame (data, FEC or Opus PLC), decoded to float; its level (RMS, dBFS)
 * and a voice-activity hangover decide who talks; the up to max_mixed
 * loudest talkers are mixed (a mixed talker gets a small bonus so that the
 * choice does not flap between two voices of equal level). Everyone who is
 * not mixed hears the same mix, encoded once and sent to all of them; each
 * mixed talker gets the mix without their own voice from a personal
 * encoder. So the encodes per tick are 1 + mixed talkers, whatever the
 * number of listeners; listeners cost one queued frame each.
 *
 * Clipping: the sum goes through a soft knee (linear below 0.9 of full
 * scale, a tanh curve above that approaches but never reaches full scale),
 * memoryless, so the shared mix and each mix-minus are limited the same way
 * and stay consistent with each other.
 *
 * Switching without clicks. A listener who becomes a mixed talker moves
 * from the shared stream to a personal one (and back when they fall silent).
 * A fresh Opus encoder would start from silence, and the listener's decoder
 * would meet a stream whose history it never saw. Three things prevent a
 * click:
 *  1. Content is continuous: a talker who just became mixed heard the
 *     shared mix, which did not hold their voice; their mix-minus does not
 *     either. The signal does not jump, only the stream carrying it changes.
 *  2. The personal encoder is primed: on a switch it is reset and fed the
 *     last tick's shared mix (output discarded) so its state follows the
 *     same signal as the shared encoder's, and its first packet continues it.
 *  3. Each AUDIO frame names its stream (ref: 0 shared, else the personal
 *     stream number). The client, on a change of stream, crossfades one
 *     frame from the old decoder's concealment (Opus PLC continues the old
 *     stream) into the new stream's first frame (see client-cli/talk_play.c).
 * Personal encoders also stay for the talk spurt's hangover (300 ms of
 * silence), so switches happen per spurt, not per syllable. The other
 * options were costlier: a personal encoder per listener (the per-listener
 * cost we avoid), or always sending mix-minus to recent talkers (an encode
 * for everyone who spoke in the last minute). */
#include "audiod.h"
#include "conn.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <opus.h>

#define MIX_VAD_DB -45.0f  /* frame level that counts as voice */
#define MIX_HANG_TICKS 15  /* 300 ms of activity after the last voiced frame */
#define MIX_STICKY_DB 6.0f /* bonus for a talker already mixed */
#define MIX_LEVEL_TICKS 12 /* VOICE_LEVEL every 240 ms */
#define MIX_CATCH_UP 3     /* ticks run at most after an overrun */
#define MIX_KNEE 0.9f

static int timer_fd = -1;
static struct event *timer_ev;

OpusEncoder *mixer_encoder_new(void)
{
	int err;
	OpusEncoder *e = opus_encoder_create(AUDIO_RATE, 1, OPUS_APPLICATION_AUDIO, &err);

	if (!e)
		fatal("cannot create an Opus encoder: %s", opus_strerror(err));
	opus_encoder_ctl(e, OPUS_SET_BITRATE((opus_int32)audiod.cfg.bitrate));
	opus_encoder_ctl(e, OPUS_SET_COMPLEXITY((opus_int32)audiod.cfg.complexity));
	return e;
}

void talker_free(struct talker *t)
{
	if (!t)
		return;
	if (t->dec)
		opus_decoder_destroy(t->dec);
	if (t->enc)
		opus_encoder_destroy(t->enc);
	free(t);
}

static struct talker *talker_new(void)
{
	struct talker *t = xcalloc(1, sizeof(*t));
	int err;

	t->dec = opus_decoder_create(AUDIO_RATE, 1, &err);
	if (!t->dec)
		fatal("cannot create an Opus decoder: %s", opus_strerror(err));
	jitter_init(&t->jb, audiod.cfg.jitter_max);
	t->level_db = -100.0f;
	return t;
}

int mixer_audio_in(struct member *m, const struct msg *msg)
{
	int samples;

	if (msg->data_len == 0 || msg->data_len > audiod.cfg.max_packet)
		return ERR_TOO_LARGE;
	samples = opus_packet_get_nb_samples(msg->data, (opus_int32)msg->data_len, AUDIO_RATE);
	if (samples != AUDIO_FRAME || opus_packet_get_nb_channels(msg->data) < 1)
		return ERR_INVALID;
	audiod.stats.frames_in++;
	if (m->muted || m->listen_only)
		return 0;
	if (!m->talker)
		m->talker = talker_new();
	jitter_put(&m->talker->jb, msg->id, msg->data, msg->data_len, msg->flags & MF_FEC,
	           clock_now_us());
	return 0;
}

/* Level in dBFS of a float frame (full scale 1.0). */
static float mix_level_db(const float *pcm)
{
	double e = 0;

	for (int i = 0; i < AUDIO_FRAME; i++)
		e += (double)pcm[i] * pcm[i];
	e /= AUDIO_FRAME;
	return e < 1e-10 ? -100.0f : (float)(10.0 * log10(e));
}

/* One frame of a talker: decoded voice in t->pcm, or have_pcm false. */
static void mix_decode(struct talker *t)
{
	const struct jitter_slot *s = NULL;
	enum jitter_kind k = jitter_pop(&t->jb, &s);
	int n = -1;

	t->have_pcm = false;
	switch (k) {
	case JITTER_NONE:
		return;
	case JITTER_DATA:
		n = opus_decode_float(t->dec, s->data, s->len, t->pcm, AUDIO_FRAME, 0);
		t->arrival_us = s->arrival_us;
		/* too much buffered: drop this frame if it is a pause (decoded,
		 * so the decoder's state runs on without a gap) */
		if (n == AUDIO_FRAME &&
		    (s = jitter_shed(&t->jb, mix_level_db(t->pcm) < MIX_VAD_DB)) != NULL) {
			n = opus_decode_float(t->dec, s->data, s->len, t->pcm, AUDIO_FRAME, 0);
			t->arrival_us = s->arrival_us;
			audiod.stats.shed++;
		}
		break;
	case JITTER_FEC:
		n = opus_decode_float(t->dec, s->data, s->len, t->pcm, AUDIO_FRAME, 1);
		audiod.stats.fec++;
		break;
	case JITTER_LOST:
		n = opus_decode_float(t->dec, NULL, 0, t->pcm, AUDIO_FRAME, 0);
		audiod.stats.plc++;
		break;
	}
	if (n != AUDIO_FRAME) {
		/* a packet that passed the header check but does not decode:
		 * treat as lost; the next frame resynchronises */
		n = opus_decode_float(t->dec, NULL, 0, t->pcm, AUDIO_FRAME, 0);
		if (n != AUDIO_FRAME)
			return;
	}
	t->have_pcm = true;
}

/* Level, activity and talk events of one talker. */
static void mix_activity(struct room *r, struct member *m)
{
	struct talker *t = m->talker;
	float lvl = t->have_pcm ? mix_level_db(t->pcm) : -100.0f;

	t->level_db = lvl > t->level_db ? lvl : t->level_db * 0.8f + lvl * 0.2f;
	if (t->have_pcm && lvl > MIX_VAD_DB)
		t->hang = MIX_HANG_TICKS;
	else if (t->hang > 0)
		t->hang--;
	if (t->hang > 0 && !t->active) {
		t->active = true;
		room_event(r, m->fs.user, VOICE_TALK, 0,
		           (uint64_t)(lvl < -60 ? 0 : 100 + lvl * 100 / 60), NULL);
	} else if (t->hang == 0 && t->active) {
		t->active = false;
		room_event(r, m->fs.user, VOICE_QUIET, 0, 0, NULL);
	}
}

/* The up to max_mixed loudest active talkers, loudest first. */
static unsigned mix_select(struct room *r, struct member **sel)
{
	unsigned n = 0, max = audiod.cfg.max_mixed;

	for (struct member *m = r->members; m; m = m->room_next) {
		struct talker *t = m->talker;
		float score;
		unsigned i;

		if (!t || !t->active || !t->have_pcm || m->muted)
			continue;
		score = t->level_db + (t->mixed ? MIX_STICKY_DB : 0);
		for (i = n; i > 0; i--) {
			struct talker *o = sel[i - 1]->talker;
			if (o->level_db + (o->mixed ? MIX_STICKY_DB : 0) >= score)
				break;
			if (i < max)
				sel[i] = sel[i - 1];
		}
		if (i < max) {
			sel[i] = m;
			if (n < max)
				n++;
		}
	}
	return n;
}

static inline int16_t mix_soft_clip(float x)
{
	float a = fabsf(x), y;

	if (a > MIX_KNEE)
		a = MIX_KNEE + (1.0f - MIX_KNEE) * tanhf((a - MIX_KNEE) / (1.0f - MIX_KNEE));
	y = x < 0 ? -a : a;
	return (int16_t)lrintf(y * 32767.0f);
}

/* One AUDIO frame as the room sends it this tick: every frame of a tick
 * carries the room's tick number, so a listener's sequence stays
 * continuous when it moves between the shared and a personal stream. */
static void mix_frame(struct msg *out, const struct room *r, const uint8_t *pkt, int len,
                      uint64_t stream, uint64_t delay_us)
{
	proto_msg_init(out, MSG_AUDIO);
	out->id = r->out_seq;
	out->ts = clock_wall_ms();
	out->ref = stream;
	out->size = delay_us;
	out->flags = stream ? MF_PERSONAL : 0;
	out->data = pkt;
	out->data_len = (uint32_t)len;
}

/* A stalled listener misses frames; the room goes on. */
static bool mix_stalled(struct member *m)
{
	if (conn_outq(m->fs.conn) <= audiod.cfg.skip_outq)
		return false;
	m->skipped++;
	audiod.stats.frames_skipped++;
	return true;
}

/* The shared mix to everyone not mixed this tick: encoded into a frame
 * once, the same bytes queued on every connection (per listener only a
 * copy: the per-listener encode was the largest cost at 1,000). */
static void mix_send_shared(struct room *r, const uint8_t *pkt, int len, uint64_t delay_us)
{
	uint8_t frame[PROTO_HEADER_LEN + 64 + AUDIO_PACKET_HARD];
	struct msg out;
	long n;

	mix_frame(&out, r, pkt, len, 0, delay_us);
	n = proto_encode(&out, frame, sizeof(frame));
	if (n < 0) {
		log_warn("cannot encode the shared mix: %s", strerror((int)-n));
		return;
	}
	for (struct member *m = r->members; m; m = m->room_next) {
		if ((m->talker && m->talker->mixed) || mix_stalled(m))
			continue;
		if (front_send_frame(&m->fs, frame, (size_t)n) == 0)
			audiod.stats.frames_out++;
	}
}

static void mix_send_personal(struct room *r, struct member *m, const uint8_t *pkt, int len,
                              uint64_t stream, uint64_t delay_us)
{
	struct msg out;

	if (mix_stalled(m))
		return;
	mix_frame(&out, r, pkt, len, stream, delay_us);
	if (front_send(&m->fs, &out) == 0)
		audiod.stats.frames_out++;
}

static int mix_encode(OpusEncoder *e, const int16_t *pcm, uint8_t *pkt, size_t cap)
{
	int n = opus_encode(e, pcm, AUDIO_FRAME, pkt, (opus_int32)cap);

	audiod.stats.encodes++;
	if (n < 0)
		log_warn("opus_encode: %s", opus_strerror(n));
	return n;
}

/* The mix-minus of one mixed talker, from its personal encoder. */
static void mix_personal(struct room *r, struct member *t, const float *sum, uint64_t delay)
{
	int16_t pcm[AUDIO_FRAME];
	uint8_t pkt[AUDIO_PACKET_HARD];
	struct talker *tk = t->talker;
	int n;

	if (!tk->enc)
		tk->enc = mixer_encoder_new();
	if (!tk->mixed) {
		/* switching from the shared stream: prime on what they heard */
		opus_encoder_ctl(tk->enc, OPUS_RESET_STATE);
		mix_encode(tk->enc, r->last_mix, pkt, sizeof(pkt));
		tk->stream_id = ++r->next_stream_id;
		tk->mixed = true;
	}
	for (int i = 0; i < AUDIO_FRAME; i++)
		pcm[i] = mix_soft_clip(sum[i] - tk->pcm[i]);
	n = mix_encode(tk->enc, pcm, pkt, sizeof(pkt));
	if (n > 0)
		mix_send_personal(r, t, pkt, n, tk->stream_id, delay);
}

static void mix_levels(struct room *r, struct member **sel, unsigned nsel)
{
	char text[AUDIO_MIX_HARD * (PROTO_NAME_MAX + 8)] = "";
	size_t len = 0;

	if (++r->level_tick < MIX_LEVEL_TICKS || nsel == 0)
		return;
	r->level_tick = 0;
	for (unsigned i = 0; i < nsel; i++) {
		float db = sel[i]->talker->level_db;
		int lvl = db < -60 ? 0 : (int)(100 + db * 100 / 60);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s=%d", i ? " " : "",
		                        sel[i]->fs.user, lvl);
	}
	room_event(r, "", VOICE_LEVEL, 0, 0, text);
}

static void mix_room(struct room *r, uint64_t tick_us)
{
	struct member *sel[AUDIO_MIX_HARD];
	float sum[AUDIO_FRAME];
	int16_t mix[AUDIO_FRAME];
	uint8_t pkt[AUDIO_PACKET_HARD];
	uint64_t delay = 0;
	unsigned nsel;
	int n;

	for (struct member *m = r->members; m; m = m->room_next) {
		if (!m->talker)
			continue;
		mix_decode(m->talker);
		mix_activity(r, m);
	}
	nsel = mix_select(r, sel);
	for (struct member *m = r->members; m; m = m->room_next) {
		if (!m->talker)
			continue;
		bool chosen = false;
		for (unsigned i = 0; i < nsel; i++)
			chosen |= sel[i] == m;
		if (!chosen)
			m->talker->mixed = false;
	}
	if (nsel == 0 && !r->rec) {
		r->sounding = false;
		memset(r->last_mix, 0, sizeof(r->last_mix));
		return;
	}
	memset(sum, 0, sizeof(sum));
	for (unsigned i = 0; i < nsel; i++) {
		const float *p = sel[i]->talker->pcm;
		for (int k = 0; k < AUDIO_FRAME; k++)
			sum[k] += p[k];
		if (sel[i]->talker->arrival_us && tick_us > sel[i]->talker->arrival_us &&
		    tick_us - sel[i]->talker->arrival_us > delay)
			delay = tick_us - sel[i]->talker->arrival_us;
	}
	for (int k = 0; k < AUDIO_FRAME; k++)
		mix[k] = mix_soft_clip(sum[k]);
	if (r->rec)
		record_write(r, mix, AUDIO_FRAME);
	if (nsel == 0) {
		r->sounding = false;
		return;
	}
	n = mix_encode(r->shared, mix, pkt, sizeof(pkt));
	delay += clock_now_us() - tick_us;
	if (delay) {
		audiod.stats.delay_us_sum += delay;
		audiod.stats.delay_n++;
	}
	r->out_seq++;
	if (n > 0)
		mix_send_shared(r, pkt, n, delay);
	for (unsigned i = 0; i < nsel; i++)
		mix_personal(r, sel[i], sum, delay);
	mix_levels(r, sel, nsel);
	memcpy(r->last_mix, mix, sizeof(mix));
	r->sounding = true;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void mixer_tick(void)
{
	uint64_t start = clock_now_us(), cpu0 = cpu_ns(), cost;
	struct audiod_stats *st = &audiod.stats;

	for (struct room *r = audiod.rooms, *next; r; r = next) {
		next = r->next;
		mix_room(r, start);
	}
	cost = (clock_now_us() - start) * 1000u;
	st->cpu_ns_sum += cpu_ns() - cpu0;
	st->ticks++;
	st->cost_ns_sum += cost;
	if (cost > st->cost_ns_max)
		st->cost_ns_max = cost;
	if (cost > (uint64_t)AUDIO_TICK_NS)
		st->late++;
	st->hist[cost / 100000u < 63 ? cost / 100000u : 63]++;
}

static void mixer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t expirations = 0;

	(void)what;
	(void)arg;
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	if (expirations > 1)
		audiod.stats.missed += expirations - 1;
	if (expirations > MIX_CATCH_UP)
		expirations = MIX_CATCH_UP;
	while (expirations--)
		mixer_tick();
}

int mixer_start(void)
{
	struct itimerspec its = {{0, AUDIO_TICK_NS}, {0, 0}};

	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd < 0)
		return -errno;
	/* The first tick one period from now, not later: frames that come
	 * before the clock runs pile up in the talker's jitter buffer, and the
	 * first talker after a start (socket activation: the very client that
	 * started us) played a third of a second late, then lost a frame of
	 * speech each second while the buffer shrank back (issue 11). */
	clock_gettime(CLOCK_MONOTONIC, &its.it_value);
	its.it_value.tv_nsec += AUDIO_TICK_NS;
	if (its.it_value.tv_nsec >= 1000000000) {
		its.it_value.tv_sec++;
		its.it_value.tv_nsec -= 1000000000;
	}
	if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	timer_ev = event_new(audiod.base, timer_fd, EV_READ | EV_PERSIST, mixer_timer_cb, NULL);
	if (!timer_ev || event_add(timer_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void mixer_stop(void)
{
	if (timer_ev)
		event_free(timer_ev);
	timer_ev = NULL;
	if (timer_fd >= 0)
		close(timer_fd);
	timer_fd = -1;
}

void mixer_stats_text(char *out, size_t outlen)
{
	const struct audiod_stats *st = &audiod.stats;
	uint64_t p99 = 0, seen = 0, want = st->ticks - st->ticks / 100;

	for (unsigned i = 0; i < 64; i++) {
		seen += st->hist[i];
		if (seen >= want) {
			p99 = (i + 1) * 100u;
			break;
		}
	}
	snprintf(out, outlen,
	         "ticks=%llu late=%llu missed=%llu avg_us=%llu cpu_us=%llu p99_us=%llu max_us=%llu "
	         "frames_in=%llu frames_out=%llu skipped=%llu plc=%llu fec=%llu encodes=%llu "
	         "delay_avg_us=%llu rooms=%u sessions=%u shed=%llu",
	         (unsigned long long)st->ticks, (unsigned long long)st->late,
	         (unsigned long long)st->missed,
	         (unsigned long long)(st->ticks ? st->cost_ns_sum / st->ticks / 1000 : 0),
	         (unsigned long long)(st->ticks ? st->cpu_ns_sum / st->ticks / 1000 : 0),
	         (unsigned long long)p99, (unsigned long long)(st->cost_ns_max / 1000),
	         (unsigned long long)st->frames_in, (unsigned long long)st->frames_out,
	         (unsigned long long)st->frames_skipped, (unsigned long long)st->plc,
	         (unsigned long long)st->fec, (unsigned long long)st->encodes,
	         (unsigned long long)(st->delay_n ? st->delay_us_sum / st->delay_n : 0),
	         audiod.nrooms, audiod.front.nsessions, (unsigned long long)st->shed);
}
