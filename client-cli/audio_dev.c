/* audio_dev: PulseAudio capture and playback on two threads.
 *
 * pa_simple blocks, which is what makes the device the clock: the capture
 * thread returns from pa_simple_read every 20 ms of real microphone time,
 * and the play thread's pa_simple_write waits while the server's buffer
 * holds its target (40 ms). The event loop never blocks on the device: it
 * takes captured frames from a ring when the eventfd says so, and drops
 * frames to play into another ring. Both rings keep only a few frames: a
 * late reader loses the oldest (counted as dropped) rather than adding
 * delay, so a stalled loop sends at most DEV_IN_KEEP frames of the past
 * when it is back. The hand-off is a mutex around the rings and nothing
 * else is shared. */
#include "audio_dev.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pulse/error.h>
#include <pulse/simple.h>

#define DEV_RING_MAX 8        /* frames: room for either keep below */
#define DEV_IN_KEEP 3         /* captured frames kept for a late loop: 60 ms */
#define DEV_OUT_KEEP 4        /* frames queued for the speaker beyond its buffer */
#define DEV_PLAY_TARGET_MS 40 /* server-side playback buffer */
#define DEV_WAIT_MS 50        /* a frame late by this much: play silence */
#define DEV_JOIN_S 1          /* closing: how long to wait for a stuck server */
#define DEV_BYTES(ms) ((uint32_t)(AUDIO_IO_RATE / 1000 * (ms) * sizeof(int16_t)))

struct dev_ring {
	int16_t f[DEV_RING_MAX][AUDIO_IO_FRAME];
	unsigned head, n, keep;
	uint64_t dropped;
};

struct audio_dev {
	pa_simple *cap, *play;
	pthread_t cap_thr, play_thr;
	bool cap_run, play_run;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dev_ring in, out;
	int efd;
	bool stop, failed, playing;
	uint64_t silences; /* frames of silence played while the loop was late */
	char why[256];
};

static void ring_push(struct dev_ring *r, const int16_t *pcm)
{
	if (r->n == r->keep) {
		r->head = (r->head + 1) % DEV_RING_MAX;
		r->n--;
		r->dropped++;
	}
	memcpy(r->f[(r->head + r->n) % DEV_RING_MAX], pcm, AUDIO_IO_FRAME * sizeof(int16_t));
	r->n++;
}

static bool ring_pop(struct dev_ring *r, int16_t *pcm)
{
	if (r->n == 0)
		return false;
	memcpy(pcm, r->f[r->head], AUDIO_IO_FRAME * sizeof(int16_t));
	r->head = (r->head + 1) % DEV_RING_MAX;
	r->n--;
	return true;
}

static void dev_wake(struct audio_dev *d)
{
	uint64_t one = 1;

	if (write(d->efd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is awake anyway */
	}
}

static void dev_fail(struct audio_dev *d, const char *what, int err)
{
	pthread_mutex_lock(&d->mu);
	if (!d->failed && !d->stop) {
		d->failed = true;
		snprintf(d->why, sizeof(d->why), "the sound server stopped the %s: %s", what,
		         pa_strerror(err));
	}
	pthread_mutex_unlock(&d->mu);
	dev_wake(d);
}

static void *dev_capture_main(void *arg)
{
	struct audio_dev *d = arg;
	int16_t pcm[AUDIO_IO_FRAME];
	bool stop;
	int err;

	for (;;) {
		if (pa_simple_read(d->cap, pcm, sizeof(pcm), &err) < 0) {
			dev_fail(d, "microphone", err);
			return NULL;
		}
		pthread_mutex_lock(&d->mu);
		stop = d->stop;
		if (!stop)
			ring_push(&d->in, pcm);
		pthread_mutex_unlock(&d->mu);
		if (stop)
			return NULL;
		dev_wake(d);
	}
}

static void dev_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)ms * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Plays what the loop queued; silence when it is late, so the stream never
 * underruns into a burst of stale frames later. */
static void *dev_play_main(void *arg)
{
	struct audio_dev *d = arg;
	int16_t pcm[AUDIO_IO_FRAME];
	struct timespec until;
	bool stop, have;
	int err;

	for (;;) {
		pthread_mutex_lock(&d->mu);
		dev_deadline(&until, DEV_WAIT_MS);
		while (!d->stop && d->out.n == 0)
			if (pthread_cond_timedwait(&d->cv, &d->mu, &until) == ETIMEDOUT)
				break;
		stop = d->stop;
		have = ring_pop(&d->out, pcm);
		d->silences += !have && !stop && d->playing;
		d->playing = d->playing || have;
		pthread_mutex_unlock(&d->mu);
		if (stop)
			return NULL;
		if (!have)
			memset(pcm, 0, sizeof(pcm));
		if (pa_simple_write(d->play, pcm, sizeof(pcm), &err) < 0) {
			dev_fail(d, "speaker", err);
			return NULL;
		}
	}
}

static const char *dev_server_name(void)
{
	const char *s = getenv("PULSE_SERVER");

	return s && *s ? s : "the default PulseAudio server";
}

static pa_simple *dev_stream(bool capture, const char *name, char *err, size_t errlen)
{
	static const pa_sample_spec ss = {PA_SAMPLE_S16LE, AUDIO_IO_RATE, 1};
	pa_buffer_attr ba;
	pa_simple *p;
	int e = 0;

	memset(&ba, 0xff, sizeof(ba)); /* (uint32_t)-1: the server's choice */
	if (capture)
		ba.fragsize = DEV_BYTES(20);
	else {
		ba.tlength = DEV_BYTES(DEV_PLAY_TARGET_MS);
		ba.minreq = DEV_BYTES(20);
	}
	p = pa_simple_new(NULL, "nexus", capture ? PA_STREAM_RECORD : PA_STREAM_PLAYBACK, name,
	                  capture ? "talk microphone" : "talk speaker", &ss, NULL, &ba, &e);
	if (!p)
		snprintf(err, errlen, "no sound: cannot open the %s (%s %s on %s): %s",
		         capture ? "microphone" : "speaker",
		         capture ? "PulseAudio source" : "PulseAudio sink",
		         name ? name : "(the default)", dev_server_name(), pa_strerror(e));
	return p;
}

int audio_dev_open(bool capture, const char *in_name, bool play, const char *out_name,
                   struct audio_dev **ret, char *err, size_t errlen)
{
	struct audio_dev *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->in.keep = DEV_IN_KEEP;
	d->out.keep = DEV_OUT_KEEP;
	pthread_mutex_init(&d->mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		audio_dev_close(d);
		return -EMFILE;
	}
	if ((capture && !(d->cap = dev_stream(true, in_name, err, errlen))) ||
	    (play && !(d->play = dev_stream(false, out_name, err, errlen)))) {
		audio_dev_close(d);
		return -ENODEV;
	}
	if (d->cap && pthread_create(&d->cap_thr, NULL, dev_capture_main, d) == 0)
		d->cap_run = true;
	if (d->play && pthread_create(&d->play_thr, NULL, dev_play_main, d) == 0)
		d->play_run = true;
	if ((d->cap && !d->cap_run) || (d->play && !d->play_run)) {
		snprintf(err, errlen, "cannot start the audio threads");
		audio_dev_close(d);
		return -EAGAIN;
	}
	*ret = d;
	return 0;
}

int audio_dev_fd(const struct audio_dev *d)
{
	return d->efd;
}

void audio_dev_ack(struct audio_dev *d)
{
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing new */
	}
}

int audio_dev_read(struct audio_dev *d, int16_t pcm[AUDIO_IO_FRAME])
{
	int r;

	pthread_mutex_lock(&d->mu);
	r = d->failed ? -EIO : ring_pop(&d->in, pcm) ? 1 : 0;
	pthread_mutex_unlock(&d->mu);
	return r;
}

void audio_dev_write(struct audio_dev *d, const int16_t pcm[AUDIO_IO_FRAME])
{
	if (!d->play)
		return;
	pthread_mutex_lock(&d->mu);
	ring_push(&d->out, pcm);
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

const char *audio_dev_error(const struct audio_dev *d)
{
	return d->why[0] ? d->why : "sound device failed";
}

void audio_dev_dropped(const struct audio_dev *d, uint64_t *ret_in, uint64_t *ret_out,
                       uint64_t *ret_silences)
{
	struct audio_dev *m = (struct audio_dev *)d;

	pthread_mutex_lock(&m->mu);
	*ret_in = d->in.dropped;
	*ret_out = d->out.dropped;
	*ret_silences = d->silences;
	pthread_mutex_unlock(&m->mu);
}

/* Joins T by UNTIL (CLOCK_REALTIME); else detaches it and returns false. */
static bool dev_join(pthread_t t, const struct timespec *until)
{
	if (pthread_timedjoin_np(t, NULL, until) == 0)
		return true;
	pthread_detach(t);
	return false;
}

void audio_dev_close(struct audio_dev *d)
{
	struct timespec until;
	bool stuck = false;

	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	/* the capture thread returns with its next 20 ms of sound, the play
	 * thread once the server takes its last write; a server that stopped
	 * answering (SIGSTOPped, hung) holds them in pa_simple forever, which
	 * no signal interrupts, so wait a bounded time and then leave them */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DEV_JOIN_S;
	if (d->cap_run && !dev_join(d->cap_thr, &until))
		stuck = true;
	if (d->play_run && !dev_join(d->play_thr, &until))
		stuck = true;
	if (stuck) {
		/* a stuck thread still uses d, its stream and the eventfd: leave
		 * them all to the exit, which follows */
		return;
	}
	if (d->cap)
		pa_simple_free(d->cap);
	if (d->play)
		pa_simple_free(d->play);
	if (d->efd >= 0)
		close(d->efd);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
