/* videod: the Shadow Nexus video call daemon, a WebRTC selective forwarding
 * unit. Private header, one section per file.
 *
 * Design (see videod(8)): one RTCPeerConnection per participant, BUNDLEd on
 * one UDP port, ICE-lite, DTLS-SRTP. The page always makes the offers (no
 * glare): its own tracks as sendonly m-lines and one recvonly m-line per
 * remote track it wants, with a map mid -> track id posted beside the SDP.
 * The answer names each forwarded track by its publisher's SSRC (a=ssrc), so
 * packets are forwarded without SSRC rewriting; only the payload type is
 * rewritten when the two peers numbered the codec differently. */
#ifndef VIDEOD_H
#define VIDEOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "auth.h"
#include "config.h"
#include "proto.h"
#include "str.h"

struct event_base;
struct evhttp_request;
typedef struct ssl_ctx_st SSL_CTX;

#define VD_ID_LEN 16    /* hex characters of participant ids */
#define VD_TRACKS_MAX 3 /* audio, camera, screen per publisher */
#define VD_SUBS_MAX 80  /* recvonly m-lines per subscriber */
#define VD_MID_MAX 32
#define VD_LABEL_MAX 16
#define VD_TRACK_ID_MAX (VD_ID_LEN + VD_LABEL_MAX + 14)
#define VD_REACTION_MAX 32
#define VD_PKT_MAX 1600

struct videod_config {
	struct config_common common;
	uint16_t port;       /* HTTPS */
	uint16_t media_port; /* UDP */
	char announce[CONFIG_STR_MAX];
	char www[CONFIG_PATH_MAX];
	char chat_host[CONFIG_STR_MAX];
	uint16_t chat_port;
	uint32_t max_participants; /* per room */
	uint32_t max_peers;        /* in all rooms */
	uint32_t session_timeout;  /* seconds without ICE consent */
	uint32_t max_sse;          /* event streams at once */
	uint32_t login_rate;       /* password logins per minute per address */
};

struct videod {
	struct videod_config cfg;
	struct event_base *base;
	SSL_CTX *tls; /* HTTPS, and the client side to chatd */
	SSL_CTX *chat_tls;
	SSL_CTX *dtls;     /* DTLS-SRTP server */
	char dtls_fp[128]; /* "AB:CD:..", SHA-256 of the certificate */
	char tls_fp[80];   /* "SHA256:..", to pin chatd (same certificate) */
	uint8_t token_key[AUTH_KEY_LEN];
	struct revoke *revoke; /* token revocations (common/revoke.h) */
	bool stopping;
	unsigned npeers, nrooms;
};

extern struct videod videod;

/* videod.c */
uint64_t vd_now_ms(void);
void vd_random_hex(char *out, size_t nhex);

/* stun.c: RFC 5389 binding requests and responses, pure functions. */
#define STUN_HDR 20
#define STUN_USER_MAX 128
struct stun_msg {
	uint16_t type;
	uint8_t txid[12];
	char username[STUN_USER_MAX + 1];
	size_t mi_off; /* offset of MESSAGE-INTEGRITY attribute, 0 if none */
	bool fingerprint;
	bool use_candidate;
	uint32_t priority;
};
bool stun_looks_like(const uint8_t *buf, size_t len);
/* Structure, lengths and FINGERPRINT (when present). 0 or -EBADMSG. */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *ret);
/* 0 when MESSAGE-INTEGRITY is present and matches key. */
int stun_check_integrity(const uint8_t *buf, size_t len, const struct stun_msg *m, const char *key);
/* Binding success response with XOR-MAPPED-ADDRESS of addr, integrity
 * under key, and FINGERPRINT. Returns the length or -ENOBUFS. */
int stun_build_response(uint8_t *out, size_t cap, const uint8_t txid[12],
                        const struct sockaddr *addr, const char *key);
/* Binding request (for the load tool): USERNAME, PRIORITY, ICE-CONTROLLING,
 * USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT. */
int stun_build_request(uint8_t *out, size_t cap, const uint8_t txid[12], const char *username,
                       const char *key);
uint32_t stun_crc32(const uint8_t *buf, size_t len);

/* sdp.c: the browser's offer in, our answer out. */
enum sdp_dir { SDP_INACTIVE = 0, SDP_SENDONLY = 1, SDP_RECVONLY = 2, SDP_SENDRECV = 3 };
enum sdp_kind { SDP_OTHER = 0, SDP_AUDIO, SDP_VIDEO };
#define SDP_MEDIA_MAX VD_SUBS_MAX
#define SDP_CODECS_MAX 12
#define SDP_FMTP_MAX 128
#define SDP_CODEC_NAME_MAX 16
struct sdp_codec {
	uint8_t pt;
	char name[SDP_CODEC_NAME_MAX];
	uint32_t clock;
	uint8_t channels;
	char fmtp[SDP_FMTP_MAX];
};
struct sdp_media {
	enum sdp_kind kind;
	uint16_t port;
	enum sdp_dir dir;
	char mid[VD_MID_MAX + 1];
	struct sdp_codec codecs[SDP_CODECS_MAX];
	int ncodecs;
	uint8_t ext_level; /* id of urn:ietf:params:rtp-hdrext:ssrc-audio-level */
	uint32_t ssrc;     /* primary SSRC the browser will send, 0 if none */
	bool rtcp_mux;
	char kindname[16], proto[40], fmt0[16]; /* echoed when rejecting */
};
struct sdp_offer {
	struct sdp_media m[SDP_MEDIA_MAX];
	int n;
	char ufrag[257], pwd[257];
	char fingerprint[160]; /* hex with colons, sha-256 only */
	char setup[16];
};
int sdp_parse(const char *text, size_t len, struct sdp_offer *ret);
/* Index of the codec we use on m (Opus; VP8, else H.264 packetization-mode
 * 1), or -1. */
int sdp_pick_codec(const struct sdp_media *m);

struct sdp_answer_media {
	int codec;          /* index into the offer's codecs, -1 rejects */
	enum sdp_dir dir;   /* our direction */
	uint32_t ssrc;      /* what we send (sendonly), 0 if nothing */
	const char *stream; /* msid stream id (publisher's participant id) */
	const char *track;  /* msid track id */
};
struct sdp_answer {
	const char *ufrag, *pwd, *fingerprint;
	const char *candidates[8]; /* "IP" */
	int ncandidates;
	uint16_t port;
	struct sdp_answer_media m[SDP_MEDIA_MAX];
};
/* Returns the length written (NUL-terminated) or -ENOBUFS. */
int sdp_answer_build(const struct sdp_offer *o, const struct sdp_answer *a, char *out, size_t cap);

/* rtp.c: RTP and RTCP, pure parsing and building. */
struct rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t hdr_len;
	int level; /* audio level in -dBov (0 loudest .. 127), -1 when absent */
	bool voice;
};
bool rtp_is_rtcp(const uint8_t *buf, size_t len);
int rtp_parse(const uint8_t *buf, size_t len, uint8_t level_id, struct rtp_hdr *ret);
enum rtcp_kind {
	RTCP_SR = 1,
	RTCP_RR,
	RTCP_SDES,
	RTCP_BYE,
	RTCP_NACK,
	RTCP_PLI,
	RTCP_FIR,
	RTCP_REMB,
	RTCP_OTHER
};
/* Calls fn for each packet of a compound RTCP packet: kind, sender SSRC,
 * media SSRC (feedback) or 0, and the packet's bytes. -EBADMSG when the
 * lengths do not add up (fn was called for the good prefix). */
typedef void (*rtcp_fn)(void *arg, enum rtcp_kind kind, uint32_t sender, uint32_t media,
                        const uint8_t *pkt, size_t len);
int rtcp_walk(const uint8_t *buf, size_t len, rtcp_fn fn, void *arg);
size_t rtcp_build_pli(uint8_t out[12], uint32_t sender, uint32_t media);
size_t rtcp_build_remb(uint8_t out[24], uint32_t sender, uint32_t media, uint64_t bps);

/* dtls.c: OpenSSL DTLS server with use_srtp over our UDP socket. */
struct dtls;
typedef void (*dtls_send_fn)(void *arg, const uint8_t *buf, size_t len);
struct srtp_keys {
	int profile;                   /* SRTP_PROFILE_* below */
	uint8_t local[64], remote[64]; /* key || salt */
	size_t len;
};
#define SRTP_PROFILE_CM_SHA1_80 1
#define SRTP_PROFILE_AEAD_GCM_128 7
SSL_CTX *dtls_ctx_new(const char *cert, const char *key, bool server, char *ret_fp, size_t fplen,
                      char *err, size_t errlen);
struct dtls *dtls_new(SSL_CTX *ctx, bool server, dtls_send_fn send, void *arg);
void dtls_free(struct dtls *d);
/* Feed one datagram. Returns 1 when the handshake completed with this
 * datagram, 0 to go on, -ECONNRESET when the peer closed, other < 0 on
 * failure. */
int dtls_input(struct dtls *d, const uint8_t *buf, size_t len);
int dtls_start(struct dtls *d); /* client side: send the ClientHello */
void dtls_tick(struct dtls *d); /* retransmission timers */
bool dtls_done(const struct dtls *d);
/* After the handshake: the certificate's "AB:CD:.." SHA-256 and keys. */
int dtls_peer_fingerprint(struct dtls *d, char *out, size_t outlen);
int dtls_keys(struct dtls *d, struct srtp_keys *ret);

/* srtp.c: the only user of libsrtp2. One session per direction. */
struct vsrtp;
int vsrtp_init(void);
struct vsrtp *vsrtp_new(int profile, const uint8_t *key, size_t keylen, bool outbound);
void vsrtp_free(struct vsrtp *s);
/* In place; *len updated. cap is the buffer size (protect grows by <= 16+4). */
int vsrtp_protect(struct vsrtp *s, uint8_t *buf, size_t *len, size_t cap);
int vsrtp_unprotect(struct vsrtp *s, uint8_t *buf, size_t *len);
int vsrtp_protect_rtcp(struct vsrtp *s, uint8_t *buf, size_t *len, size_t cap);
int vsrtp_unprotect_rtcp(struct vsrtp *s, uint8_t *buf, size_t *len);

/* room.c: rooms, participants, their tracks and subscriptions. */
struct room;
struct peer;
struct sub;

struct track {
	struct peer *owner;
	char label[VD_LABEL_MAX]; /* audio, camera, screen */
	char id[VD_TRACK_ID_MAX]; /* "<peer id>-<label>" */
	enum sdp_kind kind;
	uint32_t ssrc;
	struct sdp_codec codec; /* as the publisher numbered it */
	uint8_t ext_level;
	struct sub *subs; /* subscribers of this track */
	uint64_t packets, bytes;
	uint64_t last_pli_ms;
	bool live; /* media seen */
};

struct sub {
	struct peer *peer; /* the subscriber */
	struct track *track;
	struct sub *next; /* in track->subs */
	char mid[VD_MID_MAX + 1];
	uint8_t pt; /* subscriber's number for the codec */
	uint64_t packets;
};

struct peer {
	char id[VD_ID_LEN + 1];
	char user[PROTO_NAME_MAX + 1];
	uint64_t issued_ms; /* its token's issue time: revocation ends the call */
	struct room *room;
	struct peer *next; /* in room */
	/* ICE-lite, our side; the peer's ufrag and certificate from its offer. */
	char ufrag[9], pwd[25];
	char remote_ufrag[257];
	char remote_fp[160];
	struct sockaddr_in6 addr; /* IPv4 peers as v4-mapped */
	bool has_addr;
	struct peer *addr_next; /* media.c's address table */
	uint64_t last_consent_ms, created_ms, last_seen_ms;
	struct dtls *dtls;
	struct vsrtp *srtp_in, *srtp_out;
	int profile;
	struct track tracks[VD_TRACKS_MAX];
	int ntracks;
	struct sub subs[VD_SUBS_MAX];
	int nsubs;
	uint32_t rtcp_ssrc; /* our sender SSRC in RTCP to this peer */
	/* What the page shows. */
	bool muted, camera_off, hand, speaking, audio_only;
	uint64_t speaking_until_ms;
	struct evhttp_request *sse;
	uint64_t packets_in, packets_out, dropped;
};

struct room {
	char name[PROTO_ROOM_MAX + 1];
	struct room *next;
	struct peer *peers;
	unsigned npeers;
	struct event *notify_ev; /* coalesced "state" events */
	uint32_t version;
};

void room_init(void);
void room_free_all(void);
struct room *room_find(const char *name);
/* New participant for user in room; NULL with *ret_err (-ENOSPC full,
 * -EUSERS too many overall). */
struct peer *room_peer_new(const char *room, const char *user, int *ret_err);
struct peer *room_peer_find(const char *id);
struct peer *room_peer_by_ufrag(const char *ufrag);
void room_peer_leave(struct peer *p, const char *why);
/* Apply an offer and build the answer. publish/subscribe map mids to
 * labels and track ids (parallel arrays). Returns 0 or negative errno with
 * a sentence. */
struct room_offer {
	const char *sdp;
	const char *pub_mid[VD_TRACKS_MAX], *pub_label[VD_TRACKS_MAX];
	int npub;
	const char *sub_mid[VD_SUBS_MAX], *sub_track[VD_SUBS_MAX];
	int nsub;
};
int room_peer_offer(struct peer *p, const struct room_offer *o, char *answer, size_t cap, char *err,
                    size_t errlen);
/* Something visible changed: send the room's state soon. */
void room_changed(struct room *r);
/* The room as JSON text (caller frees); NULL if no such room. */
char *room_state_json(const struct room *r);
struct track *room_track_find(struct room *r, const char *id);
void room_peer_tracks_clear(struct peer *p);
/* Every second: consent freshness and silence. */
void room_tick(bool second);
/* The revocation list changed: participants whose token it now refuses
 * get a "revoked" event and leave the call (svc's revocation sweep). */
void room_revoked(void);

/* media.c: the UDP socket, demultiplexing, forwarding. */
int media_open(char *err, size_t errlen);
void media_close(void);
/* Addresses for candidates ("IP" strings). */
int media_candidates(const char **out, int max);
uint16_t media_port(void);
int media_peer_start(struct peer *p); /* after the first offer */
void media_peer_free(struct peer *p); /* transport state, address entry */
bool media_peer_ready(const struct peer *p);
/* Ask the publisher of t for a keyframe (rate limited). */
void media_request_keyframe(struct track *t);
/* Every 100 ms: DTLS timers; every second (second set): bandwidth. */
void media_peer_tick(struct peer *p, bool second);
void media_stats(uint64_t *rx, uint64_t *tx, uint64_t *drop);

/* events.c: Server-Sent Events to pages and `nexus call`. */
void events_attach(struct peer *p, struct evhttp_request *req);
int events_watch(const char *room, struct evhttp_request *req);
void events_detach(struct peer *p);
void events_send(struct peer *p, const char *event, const char *data);
void events_room(struct room *r, const char *event, const char *data);
void events_room_name(const char *room, const char *event, const char *data);
void events_ping(void);
void events_free_all(void);
unsigned events_count(void);

/* chat.c: questions to chatd, as a client: LOGIN (check a password, get a
 * token: name = the user as registered, secret = the token) and ROOM_PASS
 * (may this token read this room? name = the room as chatd names it,
 * secret = the pass). code is 0 or an ERR_* code. */
typedef void (*chat_done_fn)(void *arg, int code, const char *name, const char *secret);
/* addr: the browser's, for chatd's login limits and log (LOGIN_VIA). */
int chat_login(const char *user, const char *password, const char *addr, chat_done_fn done,
               void *arg);
int chat_room_check(const char *token, const char *room, chat_done_fn done, void *arg);
void chat_free_all(void);

/* http.c: HTTPS, the static page and the JSON API. */
struct evhttp;
int http_start(char *err, size_t errlen, char *ret_name, size_t namelen);
/* The call page and the API on h (http_start's HTTPS server, and the fuzz
 * target's plain one): assets from videod.www, handlers, size limits. */
int http_serve(struct evhttp *h, char *err, size_t errlen);
void http_stop(void);
void http_tick(void);

/* api.c: JSON request bodies, pure (fuzzed). */
struct api_req {
	char room[PROTO_ROOM_MAX + 1];
	char user[PROTO_NAME_MAX + 1];
	char password[AUTH_PASSWORD_MAX + 1];
	char token[AUTH_TOKEN_MAX + 1];
	char code[65];
	char id[VD_ID_LEN + 1];
	char reaction[VD_REACTION_MAX + 1];
	int muted, camera_off, hand; /* -1 = not given */
	struct room_offer offer;
	void *json; /* owns the strings of offer */
};
int api_parse(const char *body, size_t len, struct api_req *ret, char *err, size_t errlen);
void api_req_free(struct api_req *r);
bool api_room_valid(const char *room);

#endif
