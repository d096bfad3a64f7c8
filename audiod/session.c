/* session: audiod's part of a connection. common/front.c takes the
 * connection, the HELLO with a token (audiod has no anonymous use) and
 * PING; here are the voice requests, VOICE_JOIN with a room pass first,
 * each a short case. A client that sends too fast, too much or garbage is
 * told why and dropped; the room goes on. */
#include "audiod.h"
#include "conn.h"
#include "log.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

static void session_limits(struct conn_limits *lim, unsigned *ret_max_sessions)
{
	lim->max_frame = audiod.cfg.max_packet + 256;
	lim->max_outq = audiod.cfg.max_outq;
	lim->idle_secs = audiod.cfg.idle_timeout;
	/* a listener gets one small frame per tick: a 16 KiB chain for each
	 * (allocated and faulted in, 1,000 times a tick) cost more than the
	 * mix */
	lim->first_chain = 2048;
	*ret_max_sessions = audiod.cfg.max_sessions;
}

static void session_accepted(struct front_session *fs, int fd)
{
	struct member *m = FRONT_OWNER(fs, struct member);

	/* Audio that waits is worth nothing: a small kernel buffer lets a
	 * stalled listener's backlog reach our queue soon, where frames are
	 * skipped (mixer.c) instead of piling up seconds of stale sound. */
	if (audiod.cfg.sndbuf) {
		int sz = (int)audiod.cfg.sndbuf;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	/* ten seconds of burst: frames sent on time bunch up when the network
	 * or this very daemon stalled (a storm of TLS handshakes on a busy
	 * machine); the jitter buffer sheds what is too old, and 600 frames
	 * of at most max_packet bytes cost little */
	ratelimit_init(&m->frames, audiod.cfg.frame_rate, 10.0 * audiod.cfg.frame_rate,
	               clock_now_ms());
}

static void session_welcome(const struct front_session *fs, void *who, struct msg *w)
{
	(void)fs;
	(void)who;
	w->count = audiod.cfg.max_packet + 256;
	w->size = audiod.cfg.max_packet;
}

static void session_handle_audio(struct member *m, const struct msg *msg)
{
	int code;

	if (!m->room) {
		front_kick(&m->fs, ERR_INVALID, "audio before VOICE_JOIN");
		return;
	}
	if (!ratelimit_take(&m->frames, clock_now_ms(), 1)) {
		log_warn("dropping %s: audio frames too fast", front_name(&m->fs));
		front_kick(&m->fs, ERR_RATE_LIMITED, "audio frames too fast: one per 20 ms");
		return;
	}
	code = mixer_audio_in(m, msg);
	if (code == ERR_TOO_LARGE) {
		log_warn("dropping %s: audio packet of %u bytes", front_name(&m->fs),
		         msg->data_len);
		front_kick(&m->fs, ERR_TOO_LARGE, "audio packet empty or over the size limit");
	} else if (code) {
		log_warn("dropping %s: not a 20 ms Opus frame", front_name(&m->fs));
		front_kick(&m->fs, ERR_INVALID, "not a 20 ms 48 kHz Opus frame");
	}
}

static void session_handle_stats(struct member *m, const struct msg *msg)
{
	struct msg s;

	proto_msg_init(&s, MSG_VOICE_STATS);
	s.req = msg->req;
	mixer_stats_text(s.text, sizeof(s.text));
	front_send(&m->fs, &s);
	/* text "reset": start a new measurement (the benchmark's phases) */
	if (strcmp(msg->text, "reset") == 0)
		memset(&audiod.stats, 0, sizeof(audiod.stats));
}

static void session_dispatch(struct front_session *fs, const struct msg *msg)
{
	struct member *m = FRONT_OWNER(fs, struct member);

	switch (msg->type) {
	case MSG_AUDIO:
		session_handle_audio(m, msg);
		break;
	case MSG_VOICE_JOIN:
		room_handle_join(m, msg);
		break;
	case MSG_VOICE_LEAVE:
		room_handle_leave(m, msg);
		break;
	case MSG_VOICE_MUTE:
		room_handle_mute(m, msg);
		break;
	case MSG_VOICE_RECORD:
		room_handle_record(m, msg);
		break;
	case MSG_VOICE_STATS:
		session_handle_stats(m, msg);
		break;
	default:
		front_unsupported(fs, msg);
		break;
	}
}

/* Kicked or gone: out of the room at once, so the mix skips it. */
static void session_leave(struct front_session *fs)
{
	room_remove(FRONT_OWNER(fs, struct member));
}

const struct front_table session_table = {
    .service = AUDIOD_SERVICE,
    .port_is = "audiod, the voice service",
    .version = AUDIOD_VERSION,
    .size = sizeof(struct member),
    .offset = offsetof(struct member, fs),
    .need_token = "log in first: voice needs a chatd token",
    .limits = session_limits,
    .welcome = session_welcome,
    .accepted = session_accepted,
    .dispatch = session_dispatch,
    .kicked = session_leave,
    .teardown = session_leave,
};
