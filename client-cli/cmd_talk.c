/* nexus talk ROOM: voice through audiod.
 *
 * First a room pass from chatd (ROOM_PASS: the chat room's rules decide who
 * may join its voice room), then a TLS connection to audiod with the same
 * login, VOICE_JOIN, and a 20 ms clock (timerfd, drift-free) that captures
 * one frame (--in: WAV, Ogg Opus or raw s16le; a file or a pipe), encodes it
 * with in-band FEC and sends it, and plays one frame out (--out) from a
 * small jitter buffer with Opus packet-loss concealment (talk_play.c). The
 * server's stream may switch between the shared mix and a personal mix-minus (the
 * AUDIO ref field); on a switch we crossfade one frame from the old
 * stream's concealment into the new stream, so the switch cannot click.
 * With neither --in nor --out, the microphone and the speaker of the
 * PulseAudio server (audio_dev.c): capture is paced by the device and each
 * captured frame is sent as it comes; playout stays on our clock and hands
 * frames to the speaker's thread. With files, --in alone sends (nothing
 * played), --out alone listens (the counts still show in --json).
 *
 * Mute: --mute, SIGUSR1 (the full-screen client) and the m key toggle it;
 * --ptt sends only while the space bar is held (talk_term.c). A lost
 * audiod connection is not the end: core.c reconnects with backoff, and
 * each time it is back we fetch a fresh room pass from chatd and join
 * again. */
#include "client.h"
#include "audio_dev.h"
#include "audio_io.h"
#include "talk.h"
#include "talk_term.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <opus.h>

#include "log.h"
#include "ratelimit.h"

/* ---- events on the terminal or as JSON ---- */

static const char *talk_event_name(uint32_t kind)
{
	static const char *const names[] = {"?",    "join",   "leave", "talk",   "quiet",
	                                    "mute", "unmute", "level", "record", "member"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static void talk_event(struct talk *t, const struct msg *m)
{
	struct jw w;
	char clean[PROTO_TEXT_MAX + 1];

	if (m->count == VOICE_LEVEL && !t->s->json)
		return;
	if (t->s->json) {
		jw_begin(&w, t->ev);
		jw_str(&w, "event", talk_event_name(m->count));
		jw_str(&w, "room", m->room);
		if (m->user[0])
			jw_str(&w, "user", m->user);
		if (m->count == VOICE_TALK)
			jw_u64(&w, "level", m->size);
		if (m->count == VOICE_MUTE || m->count == VOICE_MEMBER || m->count == VOICE_JOIN)
			jw_bool(&w, "muted", (m->flags & MF_MUTED) != 0);
		if (m->count == VOICE_RECORD)
			jw_bool(&w, "recording", m->flags & 1);
		if (m->text[0])
			jw_str(&w, m->count == VOICE_RECORD ? "file" : "text", m->text);
		jw_u64(&w, "ts", m->ts);
		jw_end(&w);
		return;
	}
	if (t->s->quiet)
		return;
	out_clean_str(clean, sizeof(clean), m->text);
	talk_term_hide(t->term);
	switch (m->count) {
	case VOICE_MEMBER:
		fprintf(t->ev, "* %s is here%s\n", m->user, m->flags & MF_MUTED ? " (muted)" : "");
		break;
	case VOICE_RECORD:
		fprintf(t->ev, "* %s %s recording %s\n", m->user,
		        m->flags & 1 ? "started" : "stopped", clean);
		break;
	default:
		fprintf(t->ev, "* %s: %s\n", m->user, talk_event_name(m->count));
	}
	fflush(t->ev);
	talk_term_show(t->term);
}

/* Our own state changes: {"event":NAME,KEY:on} with --json, else a line
 * (text, unless -q or the status line shows it). */
static void talk_notice(struct talk *t, const char *name, const char *key, bool on,
                        const char *text)
{
	struct jw w;

	if (t->s->json) {
		jw_begin(&w, t->ev);
		jw_str(&w, "event", name);
		jw_str(&w, "room", t->room);
		if (key)
			jw_bool(&w, key, on);
		if (!strcmp(name, "ptt"))
			jw_u64(&w, "sent", t->sent);
		jw_end(&w);
		return;
	}
	if (t->s->quiet || !text)
		return;
	talk_term_hide(t->term);
	fprintf(stderr, "nexus: talk: %s\n", text);
	talk_term_show(t->term);
}

static void talk_show_status(struct talk *t)
{
	if (t->mute)
		talk_term_status(t->term, "muted");
	else if (t->listen || (t->ptt && !t->ptt_on))
		talk_term_status(t->term, "listening");
	else
		talk_term_status(t->term, "talking");
}

static void talk_mute_reply(struct client *c, const struct msg *m, void *arg)
{
	(void)c;
	(void)arg;
	if (m && m->type == MSG_ERROR)
		log_debug("talk: mute refused: %s", m->text);
}

/* audiod tells the room (and stops mixing us). */
static void talk_send_mute(struct talk *t)
{
	struct msg m;

	proto_msg_init(&m, MSG_VOICE_MUTE);
	m.flags = t->mute ? MF_MUTED : 0;
	client_request(t->c, &m, talk_mute_reply, t);
}

static void talk_set_mute(struct talk *t, bool mute)
{
	t->mute = mute;
	talk_notice(t, "mute", "muted", mute, t->term ? NULL : mute ? "muted" : "unmuted");
	talk_show_status(t);
	if (t->in_room) /* else the next VOICE_JOIN carries it */
		talk_send_mute(t);
}

static void talk_usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct talk *t = arg;

	(void)sig;
	(void)what;
	talk_set_mute(t, !t->mute);
}

/* SIGUSR1 before our loop runs (while the pass is fetched): counted, and
 * applied once the loop takes the signal over. */
static volatile sig_atomic_t talk_early_usr1;

static void talk_early_usr1_handler(int sig)
{
	(void)sig;
	talk_early_usr1++;
}

static void talk_key_mute(void *arg)
{
	struct talk *t = arg;

	talk_set_mute(t, !t->mute);
}

static void talk_key_ptt(bool talking, void *arg)
{
	struct talk *t = arg;

	t->ptt_on = talking;
	talk_notice(t, "ptt", "talking", talking, NULL);
	talk_show_status(t);
}

/* ---- sending ---- */

static bool talk_voiced(struct talk *t, const int16_t *pcm)
{
	double e = 0;

	for (int i = 0; i < AUDIO_IO_FRAME; i++)
		e += (double)pcm[i] * pcm[i];
	e /= (double)AUDIO_IO_FRAME * 32768.0 * 32768.0;
	if (e > 1e-10 && 10 * log10(e) > TALK_VAD_DB)
		t->vad_hang = TALK_VAD_HANG;
	else if (t->vad_hang > 0)
		t->vad_hang--;
	return t->vad_hang > 0;
}

static void talk_send_pcm(struct talk *t, const int16_t *pcm)
{
	uint8_t pkt[TALK_PACKET_MAX];
	struct msg m;
	int n;

	if (!t->in_room || t->mute || (t->ptt && !t->ptt_on) || (t->vad && !talk_voiced(t, pcm)))
		return;
	n = opus_encode(t->enc, pcm, AUDIO_IO_FRAME, pkt, sizeof(pkt));
	t->seq++;
	if (n <= 0)
		return;
	/* --drop-percent: lose frames on purpose (tests of concealment) */
	t->rng = t->rng * 1103515245u + 12345u;
	if (t->drop_pct && (t->rng >> 16) % 100 < t->drop_pct) {
		t->dropped++;
		return;
	}
	proto_msg_init(&m, MSG_AUDIO);
	m.id = t->seq;
	m.ts = clock_wall_ms();
	m.flags = MF_FEC;
	m.data = pkt;
	m.data_len = (uint32_t)n;
	if (client_send(t->c, &m) == 0)
		t->sent++;
}

static void talk_capture(struct talk *t)
{
	int16_t pcm[AUDIO_IO_FRAME];

	if (!t->in || t->in_eof)
		return;
	if (audio_in_read(t->in, pcm) == 0) {
		t->in_eof = true;
		return;
	}
	talk_send_pcm(t, pcm);
}

/* The microphone's thread has frames (or the sound server went away). */
static void talk_dev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk *t = arg;
	int16_t pcm[AUDIO_IO_FRAME];
	int r;

	(void)fd;
	(void)what;
	audio_dev_ack(t->dev);
	while ((r = audio_dev_read(t->dev, pcm)) > 0)
		talk_send_pcm(t, pcm);
	if (r < 0) {
		event_del(t->dev_ev);
		client_fail(t->c, EXIT_AUDIO_DEVICE, "%s", audio_dev_error(t->dev));
	}
}

/* ---- the clock ---- */

static void talk_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk *t = arg;
	uint64_t n = 0;

	(void)what;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* after a stall, catch up a little; older frames are gone anyway */
	for (n = n > 3 ? 3 : n; n > 0; n--) {
		talk_capture(t);
		talk_play_tick(t);
	}
}

static void talk_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk *t = arg;

	(void)fd;
	(void)what;
	client_done(t->c, 0);
}

static int talk_clock_start(struct talk *t)
{
	struct itimerspec its = {{0, 20000000}, {0, 0}};
	struct event_base *base = client_base(t->c);

	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->tfd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &its.it_value);
	if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	t->tick_ev = event_new(base, t->tfd, EV_READ | EV_PERSIST, talk_tick_cb, t);
	if (!t->tick_ev || event_add(t->tick_ev, NULL) < 0)
		return -ENOMEM;
	if (t->duration > 0) {
		struct timeval tv = {
		    (time_t)t->duration,
		    (suseconds_t)((t->duration - (double)(time_t)t->duration) * 1e6)};
		t->end_ev = evtimer_new(base, talk_end_cb, t);
		if (!t->end_ev || evtimer_add(t->end_ev, &tv) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- the audiod session ---- */

static void talk_record_reply(struct client *c, const struct msg *m, void *arg)
{
	(void)arg;
	if (m && m->type == MSG_ERROR)
		client_fail_msg(c, m, "record");
}

static void talk_join_reply(struct client *c, const struct msg *m, void *arg)
{
	struct talk *t = arg;
	struct msg r;

	if (!m)
		return;
	if (m->type == MSG_VOICE_EVENT) {
		talk_event(t, m);
		return;
	}
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, t->room);
		return;
	}
	if (m->type != MSG_OK || t->in_room)
		return;
	t->in_room = true;
	t->reconnecting = false;
	t->repass_ms = TALK_REPASS_MIN_MS;
	if (t->mute != t->join_muted) /* toggled while the join was on its way */
		talk_send_mute(t);
	if (t->joined) {
		talk_play_reset(t);
	} else {
		t->joined = true;
		if (t->mute)
			talk_notice(t, "mute", "muted", true, NULL);
	}
	talk_show_status(t);
	if (!t->s->json && !t->s->quiet)
		fprintf(t->ev, "* joined voice room %s (%u here)\n", t->room, m->count);
	if (t->s->json) {
		struct jw w;
		jw_begin(&w, t->ev);
		jw_str(&w, "event", "joined");
		jw_str(&w, "room", t->room);
		jw_u64(&w, "members", m->count);
		jw_end(&w);
	}
	if (t->record && !t->tick_ev) {
		proto_msg_init(&r, MSG_VOICE_RECORD);
		r.flags = 1;
		client_request(c, &r, talk_record_reply, t);
	}
	if (!t->tick_ev && talk_clock_start(t) < 0)
		client_fail(c, EXIT_ERROR, "cannot start the audio clock");
}

static void talk_join(struct client *c, struct talk *t)
{
	struct msg m;

	proto_msg_init(&m, MSG_VOICE_JOIN);
	snprintf(m.room, sizeof(m.room), "%s", t->room);
	snprintf(m.secret, sizeof(m.secret), "%s", t->pass);
	m.flags = (t->mute ? MF_MUTED : 0) | (t->listen ? MF_LISTEN : 0);
	t->join_muted = t->mute;
	if (client_request(c, &m, talk_join_reply, t) < 0)
		client_fail(c, EXIT_NETWORK, "cannot send to audiod");
}

/* Back on audiod after a loss, the old pass may have expired: a fresh one
 * comes from chatd (talk_pass_refetch, on our loop: the sound, the keys
 * and the signals go on meanwhile) and here we join again with it. chatd
 * down too: try again with backoff. Refused (an expired login:
 * EXIT_AUTH, the room gone...): the call ends. */
void talk_pass_got(struct talk *t, int status)
{
	struct timeval tv;

	if (status != 0 && status != EXIT_NETWORK && status != EXIT_SERVER) {
		client_done(t->c, status); /* refused (account, room): said already */
		return;
	}
	/* audiod may have gone again meanwhile: its next ready asks anew */
	if (client_state(t->c) != CLIENT_AUTHENTICATED || t->in_room)
		return;
	if (status == 0) {
		talk_join(t->c, t);
		return;
	}
	tv.tv_sec = t->repass_ms / 1000;
	tv.tv_usec = (suseconds_t)(t->repass_ms % 1000) * 1000;
	evtimer_add(t->repass_ev, &tv);
	t->repass_ms =
	    t->repass_ms * 2 > TALK_REPASS_MAX_MS ? TALK_REPASS_MAX_MS : t->repass_ms * 2;
}

static void talk_repass_cb(evutil_socket_t fd, short what, void *arg)
{
	struct talk *t = arg;

	(void)fd;
	(void)what;
	if (client_state(t->c) == CLIENT_AUTHENTICATED && !t->in_room)
		talk_pass_refetch(t);
}

static void talk_ready(struct client *c, void *arg)
{
	struct talk *t = arg;

	if (t->joined)
		talk_pass_refetch(t);
	else
		talk_join(c, t);
}

/* The connection to audiod went away: core.c reconnects by itself. */
static void talk_state(struct client *c, enum client_state old, void *arg)
{
	struct talk *t = arg;

	(void)old;
	if (client_state(c) == CLIENT_AUTHENTICATED)
		return;
	t->in_room = false;
	evtimer_del(t->repass_ev);
	if (client_state(c) != CLIENT_RECONNECTING || !t->joined || t->reconnecting)
		return;
	t->reconnecting = true;
	talk_notice(t, "reconnecting", NULL, false, "connection to audiod lost, reconnecting");
}

static void talk_other(struct client *c, const struct msg *m, void *arg)
{
	struct talk *t = arg;

	(void)c;
	if (m->type == MSG_AUDIO)
		talk_play_audio_in(t, m);
	else if (m->type == MSG_VOICE_EVENT)
		talk_event(t, m);
}

/* ---- the command ---- */

enum {
	OPT_IN = 1000,
	OPT_OUT,
	OPT_FORMAT_IN,
	OPT_FORMAT_OUT,
	OPT_MUTE,
	OPT_LISTEN,
	OPT_VAD,
	OPT_DROP,
	OPT_DURATION,
	OPT_PORT,
	OPT_BITRATE,
	OPT_RECORD,
	OPT_DEV_IN,
	OPT_DEV_OUT,
	OPT_PTT
};

/* "pulse" or "pulse:NAME" (a file of that name: ./pulse). */
static bool talk_dev_arg(const char *arg, const char **ret_name)
{
	if (strncmp(arg, "pulse", 5) != 0 || (arg[5] && arg[5] != ':'))
		return false;
	*ret_name = arg[5] && arg[6] ? arg + 6 : NULL;
	return true;
}

static int talk_opt(int key, const char *arg, void *ctx)
{
	struct talk *t = ctx;
	uint64_t v;

	switch (key) {
	case OPT_IN:
		if (talk_dev_arg(arg, &t->dev_in_name))
			t->dev_in = true;
		else
			t->in_path = arg;
		return 0;
	case OPT_OUT:
		if (talk_dev_arg(arg, &t->dev_out_name))
			t->dev_out = true;
		else
			t->out_path = arg;
		return 0;
	case OPT_DEV_IN:
		t->dev_in = true;
		t->dev_in_name = arg;
		return 0;
	case OPT_DEV_OUT:
		t->dev_out = true;
		t->dev_out_name = arg;
		return 0;
	case OPT_PTT:
		t->ptt = true;
		return 0;
	case OPT_FORMAT_IN:
	case OPT_FORMAT_OUT:
		if (audio_fmt_parse(arg) == AUDIO_FMT_AUTO)
			return cli_usage("talk", "unknown format '%s' (wav, ogg, raw)", arg);
		*(key == OPT_FORMAT_IN ? &t->in_fmt : &t->out_fmt) = audio_fmt_parse(arg);
		return 0;
	case OPT_MUTE:
		t->mute = true;
		return 0;
	case OPT_LISTEN:
		t->listen = true;
		return 0;
	case OPT_VAD:
		t->vad = true;
		return 0;
	case OPT_RECORD:
		t->record = true;
		return 0;
	case OPT_DROP:
		if (cli_u64(arg, 100, &v))
			return cli_usage("talk", "--drop-percent takes 0 to 100");
		t->drop_pct = (unsigned)v;
		return 0;
	case OPT_BITRATE:
		if (cli_u64(arg, 128000, &v) || v < 6000)
			return cli_usage("talk", "--bitrate takes 6000 to 128000");
		t->bitrate = (unsigned)v;
		return 0;
	case OPT_PORT:
		if (cli_u64(arg, 65535, &v) || v == 0)
			return cli_usage("talk", "--audio-port takes 1 to 65535");
		t->port = (uint16_t)v;
		return 0;
	case OPT_DURATION: {
		char *end;
		t->duration = strtod(arg, &end);
		if (*end || t->duration <= 0 || t->duration > 1e7)
			return cli_usage("talk", "--duration takes seconds");
		return 0;
	}
	}
	return EXIT_USAGE;
}

/* Without files, the sound server's default microphone and speaker;
 * --in pulse[:NAME] and --out pulse[:NAME] mix a device with a file. */
static int talk_open_dev(struct talk *t)
{
	bool files = t->in_path || t->out_path;
	bool cap = !t->listen && (t->dev_in || !files);
	bool play = t->dev_out || !files;
	char err[512];
	int r;

	if (!cap && !play)
		return 0;
	r = audio_dev_open(cap, t->dev_in_name, play, t->dev_out_name, &t->dev, err, sizeof(err));
	if (r < 0)
		out_err("%s (set PULSE_SERVER, pick a device with --device-in/--device-out, or use "
		        "--in/--out FILE)",
		        err);
	return r;
}

static int talk_open(struct talk *t)
{
	char err[512];
	int e;

	if (t->in_path && audio_in_open(t->in_path, t->in_fmt, &t->in, err, sizeof(err)) < 0) {
		out_err("%s", err);
		return EXIT_ERROR;
	}
	if (t->out_path && audio_out_open(t->out_path, t->out_fmt, &t->out, err, sizeof(err)) < 0) {
		out_err("%s", err);
		return EXIT_ERROR;
	}
	if (talk_open_dev(t) < 0)
		return EXIT_AUDIO_DEVICE;
	t->enc = opus_encoder_create(AUDIO_IO_RATE, 1, OPUS_APPLICATION_AUDIO, &e);
	t->dec = opus_decoder_create(AUDIO_IO_RATE, 1, &e);
	if (!t->enc || !t->dec) {
		out_err("cannot start Opus");
		return EXIT_ERROR;
	}
	opus_encoder_ctl(t->enc, OPUS_SET_BITRATE((opus_int32)t->bitrate));
	/* a terminal client shares its machine: complexity 5 is a quarter of
	 * the default's cost for speech that scores the same here */
	opus_encoder_ctl(t->enc, OPUS_SET_COMPLEXITY(5));
	opus_encoder_ctl(t->enc, OPUS_SET_INBAND_FEC(1));
	opus_encoder_ctl(t->enc, OPUS_SET_PACKET_LOSS_PERC(10));
	return 0;
}

static void talk_stats(struct talk *t)
{
	double delay = t->delay_n ? (double)t->delay_sum / (double)t->delay_n / 1000.0 : 0;
	struct jw w;

	if (t->s->json) {
		jw_begin(&w, t->ev);
		jw_str(&w, "event", "stats");
		jw_u64(&w, "sent", t->sent);
		jw_u64(&w, "dropped", t->dropped);
		jw_u64(&w, "received", t->received);
		jw_u64(&w, "played", t->played);
		jw_u64(&w, "concealed", t->plc);
		jw_u64(&w, "late", t->late);
		jw_u64(&w, "switches", t->switches);
		jw_u64(&w, "server_delay_us", (uint64_t)(delay * 1000));
		if (t->dev) {
			uint64_t din, dout, dsil;
			audio_dev_dropped(t->dev, &din, &dout, &dsil);
			jw_u64(&w, "device_dropped_in", din);
			jw_u64(&w, "device_dropped_out", dout);
			jw_u64(&w, "device_silence", dsil);
		}
		jw_end(&w);
	} else if (!t->s->quiet) {
		fprintf(
		    stderr,
		    "nexus: talk: sent %llu frames, received %llu, concealed %llu; server-added "
		    "delay %.1f ms\n",
		    (unsigned long long)t->sent, (unsigned long long)t->received,
		    (unsigned long long)t->plc, delay);
	}
}

/* SIGUSR1, the microphone, the keys: after client_new (its loop). */
static int talk_events_new(struct talk *t)
{
	static const struct talk_term_cbs keys = {.ptt = talk_key_ptt, .mute = talk_key_mute};
	struct event_base *base = client_base(t->c);
	bool stdin_free = !(t->in_path && strcmp(t->in_path, "-") == 0);
	int r;

	t->usr1_ev = evsignal_new(base, SIGUSR1, talk_usr1_cb, t);
	t->repass_ev = evtimer_new(base, talk_repass_cb, t);
	if (!t->usr1_ev || !t->repass_ev || event_add(t->usr1_ev, NULL) < 0)
		return EXIT_ERROR;
	if (talk_early_usr1 % 2)
		t->mute = !t->mute;
	if (t->dev) {
		t->dev_ev =
		    event_new(base, audio_dev_fd(t->dev), EV_READ | EV_PERSIST, talk_dev_cb, t);
		if (!t->dev_ev || event_add(t->dev_ev, NULL) < 0)
			return EXIT_ERROR;
	}
	/* keys on a terminal; with --json a program runs us: only for --ptt */
	if (stdin_free && (t->ptt || !t->s->json)) {
		r = talk_term_open(base, t->ptt, &keys, t, &t->term);
		if (r < 0 && t->ptt) {
			out_err("--ptt needs a terminal on standard input: %s", strerror(-r));
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int talk_run(struct talk *t)
{
	struct client_cbs cbs = {.ready = talk_ready, .state = talk_state, .other = talk_other};
	int status = talk_open(t);

	if (status)
		return status;
	t->c = client_new(t->s, CLIENT_NEED_TOKEN | CLIENT_SIGNALS | CLIENT_RECONNECT, &cbs, t);
	if (!t->c)
		return EXIT_ERROR;
	client_set_service(t->c, "audio", t->port, TALK_MAX_FRAME);
	status = talk_events_new(t);
	if (status == 0)
		status = client_run(t->c);
	talk_pass_stop(t); /* before the loop it runs on goes */
	talk_term_close(t->term);
	t->term = NULL;
	if (t->joined)
		talk_stats(t);
	/* the threads end before the loop they wake goes away */
	audio_dev_close(t->dev);
	t->dev = NULL;
	struct event *evs[] = {t->tick_ev, t->end_ev, t->dev_ev, t->usr1_ev, t->repass_ev};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	client_free(t->c);
	return status;
}

int cmd_talk(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {
	    SETTINGS_LONGOPTS,
	    {"in", required_argument, NULL, OPT_IN},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"in-format", required_argument, NULL, OPT_FORMAT_IN},
	    {"out-format", required_argument, NULL, OPT_FORMAT_OUT},
	    {"mute", no_argument, NULL, OPT_MUTE},
	    {"listen", no_argument, NULL, OPT_LISTEN},
	    {"vad", no_argument, NULL, OPT_VAD},
	    {"record", no_argument, NULL, OPT_RECORD},
	    {"drop-percent", required_argument, NULL, OPT_DROP},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"audio-port", required_argument, NULL, OPT_PORT},
	    {"bitrate", required_argument, NULL, OPT_BITRATE},
	    {"device-in", required_argument, NULL, OPT_DEV_IN},
	    {"device-out", required_argument, NULL, OPT_DEV_OUT},
	    {"ptt", no_argument, NULL, OPT_PTT},
	    {NULL, 0, NULL, 0},
	};
	struct talk *t = calloc(1, sizeof(*t));
	const char *env = getenv("NEXUS_AUDIO_PORT");
	int first, r;

	if (!t)
		return EXIT_ERROR;
	t->s = s;
	t->tfd = -1;
	t->bitrate = 32000;
	t->rng = 12345;
	t->port = TALK_DEFAULT_PORT;
	if (env && *env) {
		unsigned long p = strtoul(env, NULL, 10);
		if (p > 0 && p < 65536)
			t->port = (uint16_t)p;
	}
	r = cli_parse(s, argc, argv, "", opts, talk_opt, t, &first);
	if (r == 0 && first >= argc)
		r = cli_usage("talk", "missing ROOM");
	if (r == 0 && argc - first > 1)
		r = cli_usage("talk", "one ROOM only");
	if (r == 0)
		r = cli_room("talk", argv[first], t->room);
	if (r == 0 && t->ptt &&
	    (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
	     (t->in_path && !strcmp(t->in_path, "-"))))
		r = cli_usage("talk",
		              "--ptt needs a terminal on standard input, in the foreground");
	/* SIGUSR1 toggles mute; until the loop runs it must not kill us */
	signal(SIGUSR1, talk_early_usr1_handler);
	if (r == 0)
		r = talk_pass_fetch(t);
	if (r == 0) {
		t->ev = t->out_path && strcmp(t->out_path, "-") == 0 ? stderr : stdout;
		r = talk_run(t);
	}
	if (audio_out_close(t->out) < 0 && r == 0) {
		out_err("cannot finish %s", t->out_path);
		r = EXIT_ERROR;
	}
	audio_in_close(t->in);
	if (t->enc)
		opus_encoder_destroy(t->enc);
	if (t->dec)
		opus_decoder_destroy(t->dec);
	if (t->tfd >= 0)
		close(t->tfd);
	free(t);
	return r < 0 ? 0 : r;
}
