/* audiod: voice rooms with a server-side Opus mix-minus. One private header,
 * a short section per file. */
#ifndef AUDIOD_H
#define AUDIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "front.h"
#include "proto.h"
#include "ratelimit.h"
#include "auth.h"

#define AUDIOD_VERSION "audiod 0.1"
#define AUDIOD_SERVICE PROTO_SERVICE_AUDIO
#define AUDIO_RATE 48000
#define AUDIO_FRAME 960          /* samples in 20 ms at 48 kHz */
#define AUDIO_TICK_NS 20000000ll /* one mix every 20 ms */
#define AUDIO_PACKET_HARD 1275   /* largest Opus packet of one frame */
#define AUDIO_MIX_HARD 8         /* mixed talkers at most (config max_mixed) */
#define AUDIO_JITTER_SLOTS 16    /* frames a talker's jitter buffer can hold */

struct event_base;
struct conn;
struct room;
struct listener;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct OpusDecoder OpusDecoder;
typedef struct OpusEncoder OpusEncoder;
typedef struct OggOpusEnc OggOpusEnc;

struct audiod_config {
	struct config_common common;
	uint16_t port;
	uint32_t max_rooms;               /* voice rooms at once */
	uint32_t max_members;             /* people in one voice room */
	uint32_t max_mixed;               /* loudest talkers mixed each tick */
	uint32_t max_packet;              /* bytes of one incoming Opus packet */
	uint32_t bitrate;                 /* bits per second of the streams we send */
	uint32_t complexity;              /* Opus encoder complexity 0..10 */
	uint32_t jitter_max;              /* frames a jitter buffer may grow to */
	uint32_t frame_rate;              /* audio frames per second a client may send */
	uint32_t max_outq;                /* bytes queued per client before it is dropped */
	uint32_t skip_outq;               /* bytes queued past which a listener misses frames */
	uint32_t sndbuf;                  /* socket send buffer (SO_SNDBUF); 0 = the kernel's */
	uint32_t idle_timeout;            /* seconds without a frame */
	uint32_t max_sessions;            /* connections at once */
	int record;                       /* admins may record rooms */
	char record_dir[CONFIG_PATH_MAX]; /* default STATE/recordings */
};

/* tick statistics, for VOICE_STATS and the benchmark */
struct audiod_stats {
	uint64_t ticks, late, missed; /* late: took > 20 ms; missed: timer overran */
	uint64_t cost_ns_sum, cost_ns_max;
	uint64_t cpu_ns_sum; /* CPU time of the ticks (a busy machine inflates wall time) */
	uint32_t hist[64];   /* tick cost in 100 us buckets (last: more) */
	uint64_t frames_in, frames_out, frames_skipped, plc, fec, encodes;
	uint64_t shed;                  /* frames dropped to shrink a jitter buffer */
	uint64_t delay_us_sum, delay_n; /* arrival of a talker frame to its mix sent */
};

struct audiod {
	struct audiod_config cfg;
	struct event_base *base;
	SSL_CTX *tls;
	uint8_t token_key[AUTH_KEY_LEN];
	struct revoke *revoke; /* token revocations (common/revoke.h) */
	struct listener *listener;
	struct front front; /* every connection (common/front.h) */
	struct room *rooms;
	unsigned nrooms;
	bool stopping;
	struct audiod_stats stats;
};
extern struct audiod audiod;

/* ---- jitter.c: an adaptive jitter buffer per talker ---- */
enum jitter_kind { JITTER_NONE, JITTER_DATA, JITTER_FEC, JITTER_LOST };

struct jitter_slot {
	uint64_t seq;
	uint64_t arrival_us;
	uint16_t len;
	bool used, fec;
	uint8_t data[AUDIO_PACKET_HARD];
};

struct jitter {
	struct jitter_slot slot[AUDIO_JITTER_SLOTS];
	uint64_t next_seq; /* the frame the next tick plays */
	bool playing, started;
	unsigned target;   /* frames buffered before and while playing */
	unsigned want;     /* what the jitter estimate asks for now */
	unsigned max;      /* grows up to this */
	unsigned lost_run; /* ticks in a row without a frame */
	unsigned calm;     /* ticks with more buffered than needed */
	double jitter_us;  /* RFC 3550 interarrival jitter estimate */
	int64_t last_transit;
	uint64_t late, dropped; /* dropped: shed to shrink the delay */
};

void jitter_init(struct jitter *j, unsigned max);
/* Store a packet. Returns 0, -EALREADY (duplicate or too late). */
int jitter_put(struct jitter *j, uint64_t seq, const uint8_t *data, size_t len, bool fec,
               uint64_t now_us);
/* The frame to play this tick. For JITTER_DATA and JITTER_FEC the packet
 * (for FEC: the next packet, to decode with decode_fec) is returned in
 * ret_slot; for JITTER_LOST nothing (conceal); JITTER_NONE: not playing. */
enum jitter_kind jitter_pop(struct jitter *j, const struct jitter_slot **ret_slot);
/* Right after a JITTER_DATA pop whose frame decoded quiet (or not): when the
 * buffer has held more than needed for long enough, that frame is to be
 * dropped and the returned next one played in its place; else NULL. The
 * delay shrinks in pauses, not in words. */
const struct jitter_slot *jitter_shed(struct jitter *j, bool quiet);
unsigned jitter_buffered(const struct jitter *j);

/* ---- session.c: one connection ---- */

struct talker {
	struct jitter jb;
	OpusDecoder *dec;
	OpusEncoder *enc;       /* personal mix-minus stream while mixed */
	float pcm[AUDIO_FRAME]; /* this tick's decoded voice */
	bool have_pcm;
	float level_db;      /* smoothed level */
	unsigned hang;       /* ticks of voice activity left */
	bool active;         /* talking (announced) */
	bool mixed;          /* among the loudest this tick */
	uint64_t stream_id;  /* personal stream number (ref of AUDIO) */
	uint64_t arrival_us; /* of the frame played this tick */
};

/* A connection: common/front.h's session (HELLO with a token; front_send,
 * front_send_frame, front_error, front_kick on &m->fs), then audiod's. */
struct member {
	struct front_session fs;
	struct member *room_next, *room_prev; /* in a room */
	struct room *room;
	bool admin, muted, listen_only;
	struct ratelimit frames;
	struct talker *talker; /* allocated on the first audio frame */
	uint64_t skipped;
};

extern const struct front_table session_table;

/* ---- room.c: voice rooms, members, mute, events ---- */
struct room {
	struct room *next, *prev;
	char name[PROTO_ROOM_MAX + 1];
	struct member *members;
	unsigned nmembers;
	OpusEncoder *shared;           /* the one mix every non-talker hears */
	int16_t last_mix[AUDIO_FRAME]; /* shared mix of the last tick (primes encoders) */
	bool sounding;                 /* sent a mix last tick */
	unsigned level_tick;
	uint64_t next_stream_id;
	uint64_t out_seq; /* ticks that sent a mix: the id of AUDIO frames */
	OggOpusEnc *rec;  /* recording, or NULL */
	char rec_name[CONFIG_PATH_MAX + 128];
};

void room_handle_join(struct member *m, const struct msg *msg);
void room_handle_leave(struct member *m, const struct msg *msg);
void room_handle_mute(struct member *m, const struct msg *msg);
void room_handle_record(struct member *m, const struct msg *msg);
/* Take m out of its room (events to the others); frees an empty room. */
void room_remove(struct member *m);
/* VOICE_EVENT to every member of r. */
void room_event(struct room *r, const char *user, uint32_t kind, uint32_t flags, uint64_t size,
                const char *text);
void room_free_all(void);

/* ---- mixer.c: the 20 ms clock, decode, select, mix, encode, send ---- */
int mixer_start(void);
void mixer_stop(void);
/* An AUDIO frame from a member in a room. Returns 0 or an ERR_* code. */
int mixer_audio_in(struct member *m, const struct msg *msg);
void talker_free(struct talker *t);
OpusEncoder *mixer_encoder_new(void);
/* "key=value ..." summary of audiod.stats. */
void mixer_stats_text(char *out, size_t outlen);

/* ---- record.c: Ogg Opus recording of a room's mix ---- */
int record_start(struct room *r, char *why, size_t whylen);
void record_write(struct room *r, const int16_t *pcm, int samples);
void record_stop(struct room *r);

#endif
