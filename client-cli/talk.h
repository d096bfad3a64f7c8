/* talk.h: the state of `nexus talk`, shared by its files (private to
 * cmd_talk.c, talk_pass.c, talk_play.c). */
#ifndef NEXUS_TALK_H
#define NEXUS_TALK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <opus.h>

#include "client.h"
#include "audio_dev.h"
#include "audio_io.h"
#include "talk_term.h"

#define TALK_DEFAULT_PORT PROTO_PORT_AUDIO
#define TALK_MAX_FRAME 4096
#define TALK_SLOTS 16
#define TALK_PACKET_MAX 1275
#define TALK_START_FRAMES 2 /* buffered before playing */
#define TALK_STOP_LOST 5    /* concealed frames before going quiet */
#define TALK_MAX_BUFFERED 8 /* beyond this, drop a frame to catch up */
#define TALK_VAD_DB -45.0
#define TALK_VAD_HANG 15
#define TALK_REPASS_MIN_MS 500u
#define TALK_REPASS_MAX_MS 10000u

struct talk_slot {
	uint64_t seq, stream;
	uint16_t len;
	bool used;
	uint8_t data[TALK_PACKET_MAX];
};

struct talk {
	struct settings *s;
	struct client *c;
	struct client *pass_c; /* a room pass on its way (talk_pass_refetch) */
	char room[PROTO_ROOM_MAX + 1];
	char pass[PROTO_SECRET_MAX + 1];
	/* options */
	const char *in_path, *out_path;
	const char *dev_in_name, *dev_out_name; /* NULL: the default device */
	enum audio_fmt in_fmt, out_fmt;
	bool mute, listen, vad, record, ptt;
	bool dev_in, dev_out; /* --in pulse, --out pulse, --device-in/out */
	unsigned drop_pct, bitrate;
	double duration;
	uint16_t port;
	/* running */
	struct audio_in *in;
	struct audio_out *out;
	struct audio_dev *dev;
	struct talk_term *term;
	OpusEncoder *enc;
	OpusDecoder *dec;
	int tfd;
	struct event *tick_ev, *end_ev, *dev_ev, *usr1_ev, *repass_ev;
	FILE *ev;
	bool joined, in_eof, decoded_any;
	bool in_room, reconnecting, ptt_on, join_muted;
	bool pass_down; /* a pass fetch failed on the network and said so */
	unsigned repass_ms;
	uint64_t seq;
	uint32_t rng;
	unsigned vad_hang;
	/* playout */
	struct talk_slot slot[TALK_SLOTS];
	uint64_t next_seq, cur_stream;
	bool playing;
	unsigned lost_run;
	/* counts */
	uint64_t sent, dropped, received, played, plc, late, switches;
	uint64_t delay_sum, delay_n;
};

/* talk_pass.c: a room pass from chatd into t->room and t->pass. 0 or an
 * exit status (printed). */
int talk_pass_fetch(struct talk *t);
/* The same during the call (back on audiod after a loss), without waiting:
 * the exchange runs on the call's loop and its end is told to
 * talk_pass_got (cmd_talk.c) with 0 or an exit status. Never prompts (the
 * terminal may be in raw mode); while chatd stays unreachable its failure
 * is printed once, not on every try. One exchange at a time: a call while
 * one is on its way does nothing. */
void talk_pass_refetch(struct talk *t);
/* Drop an exchange on its way (the call ends). */
void talk_pass_stop(struct talk *t);
void talk_pass_got(struct talk *t, int status);

/* talk_play.c: frames from audiod into the jitter buffer, and one frame
 * out of it (decoded, concealed or silence) to the speaker and --out on
 * each tick of the clock. */
void talk_play_audio_in(struct talk *t, const struct msg *m);
void talk_play_tick(struct talk *t);
/* A new session's stream starts its own numbering: forget the old one. */
void talk_play_reset(struct talk *t);

#endif
