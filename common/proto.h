/* proto: Shadow Nexus frames and messages. Pure functions over buffers, no I/O.
 *
 * A frame is an 8-byte header (u32 payload length, u16 type, u16 flags, all
 * big-endian) followed by the payload. Each message type has a fixed list of
 * fields (see proto.c's schema table and PROTOCOL.md); encode writes them in
 * order, decode reads them in order, checks every limit before copying and
 * insists that the payload is consumed exactly. */
#ifndef NEXUS_PROTO_H
#define NEXUS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_HEADER_LEN 8
#define PROTO_FRAME_MAX_DEFAULT (64u * 1024u)
#define PROTO_FRAME_MAX_HARD (4u * 1024u * 1024u)

/* The services: the name a HELLO asks for (the type registry's ranges) and
 * the default port of the daemon that serves it. */
#define PROTO_SERVICE_CHAT "chat"   /* chatd */
#define PROTO_SERVICE_FILE "file"   /* filed */
#define PROTO_SERVICE_AUDIO "audio" /* audiod */
#define PROTO_PORT_CHAT 5555
#define PROTO_PORT_FILE 5556
#define PROTO_PORT_AUDIO 5557
#define PROTO_PORT_VIDEO 5000 /* videod: HTTPS (TCP) and media (UDP) */

/* A number macro as a string literal, for messages: PROTO_STR(PROTO_VERSION). */
#define PROTO_STR(x) PROTO_STR_(x)
#define PROTO_STR_(x) #x

/* String caps, in bytes, enforced on decode (and on encode). */
#define PROTO_NAME_MAX 32    /* user names */
#define PROTO_ROOM_MAX 66    /* room field: a DM name "@a:b" of two 32-byte users */
#define PROTO_TEXT_MAX 16384 /* message text, topics, error sentences */
#define PROTO_SECRET_MAX 256 /* passwords, tokens */
#define PROTO_HASH_LEN 32    /* SHA-256 */

/* Caps inside those fields, checked by the daemon that owns the value. */
#define PROTO_ROOM_NAME_MAX 64  /* a room's own name (without '#'); DMs use the whole field */
#define PROTO_TOPIC_MAX 512     /* a room topic, one line */
#define PROTO_FILE_NAME_MAX 255 /* a file name (filed) */

/* Frame flags. */
#define PROTO_FLAG_NONE 0x0000

/* Message type registry. 0x00xx common, 0x01xx chatd, 0x02xx filed,
 * 0x03xx audiod. Numbers are stable once released. */
enum proto_type {
	MSG_HELLO = 0x0001,
	MSG_WELCOME = 0x0002,
	MSG_ERROR = 0x0003,
	MSG_PING = 0x0004,
	MSG_PONG = 0x0005,
	MSG_OK = 0x0006,

	MSG_REGISTER = 0x0101,
	MSG_LOGIN = 0x0102,
	MSG_TOKEN = 0x0103,
	MSG_ROOM_CREATE = 0x0104,
	MSG_ROOM_LIST = 0x0105,
	MSG_ROOM_INFO = 0x0106,
	MSG_JOIN = 0x0107,
	MSG_LEAVE = 0x0108,
	MSG_INVITE = 0x0109,
	MSG_TOPIC = 0x010a,
	MSG_SAY = 0x010b,
	MSG_ACK = 0x010c,
	MSG_EDIT = 0x010d,
	MSG_DELETE = 0x010e,
	MSG_HISTORY = 0x010f,
	MSG_CHAT = 0x0110,
	MSG_MEMBERS = 0x0111,
	MSG_MEMBER = 0x0112,
	MSG_TYPING = 0x0113,
	MSG_PRESENCE = 0x0114,
	MSG_EVENT = 0x0115,
	MSG_USER_ADMIN = 0x0116,
	MSG_ROOM_PASS = 0x0117, /* chatd: signed pass to a voice room (audiod) */
	MSG_LOGIN_VIA = 0x0118, /* chatd: LOGIN relayed by videod for a browser */

	MSG_FILE_PUSH = 0x0201,
	MSG_FILE_OFFSET = 0x0202,
	MSG_FILE_DATA = 0x0203,
	MSG_FILE_END = 0x0204,
	MSG_FILE_INFO = 0x0205,
	MSG_FILE_PULL = 0x0206,
	MSG_FILE_LIST = 0x0207,
	MSG_FILE_DELETE = 0x0208,
	MSG_FILE_SHARE = 0x0209,
	MSG_FILE_UNSHARE = 0x020a,
	MSG_FILE_ROOM_LIST = 0x020b, /* files shared with a room: chatd's room pass */

	MSG_VOICE_JOIN = 0x0301,
	MSG_VOICE_LEAVE = 0x0302,
	MSG_AUDIO = 0x0303,
	MSG_VOICE_MUTE = 0x0304,
	MSG_VOICE_EVENT = 0x0305,
	MSG_VOICE_RECORD = 0x0306,
	MSG_VOICE_STATS = 0x0307,
};

/* Stable error codes carried in MSG_ERROR; scripts branch on them. */
enum proto_error {
	ERR_NONE = 0,
	ERR_BAD_FRAME = 1,      /* malformed frame or field */
	ERR_TOO_LARGE = 2,      /* frame or string over its limit */
	ERR_VERSION = 3,        /* unsupported protocol version */
	ERR_AUTH_REQUIRED = 4,  /* request needs a logged-in session */
	ERR_BAD_LOGIN = 5,      /* wrong user name or password */
	ERR_TOKEN_EXPIRED = 6,  /* token past its expiry */
	ERR_TOKEN_INVALID = 7,  /* token forged or damaged */
	ERR_RATE_LIMITED = 8,   /* too many requests or login attempts */
	ERR_NOT_FOUND = 9,      /* no such room, user or message */
	ERR_FORBIDDEN = 10,     /* not allowed for this user */
	ERR_EXISTS = 11,        /* name already taken */
	ERR_INVALID = 12,       /* argument out of range or bad name */
	ERR_REG_CLOSED = 13,    /* registration is closed */
	ERR_SLOW_READER = 14,   /* output queue overflowed: dropped */
	ERR_INTERNAL = 15,      /* server-side failure (disk, database) */
	ERR_UNSUPPORTED = 16,   /* unknown message type for this service */
	ERR_WRONG_SERVICE = 17, /* HELLO named another service */
	ERR_QUOTA = 18,         /* over quota or size cap */
	ERR_SHUTDOWN = 19,      /* server is stopping */
	ERR_INTEGRITY = 20,     /* data does not match its SHA-256 */
	ERR_MAX_ = 21,
};

/* Field identifiers used by the schema. */
enum proto_field {
	F_END = 0,
	F_REQ,     /* u32 request id, echoed in the reply */
	F_ID,      /* u64 message id */
	F_REF,     /* u64 referenced id (reply-to, since, before) */
	F_TS,      /* u64 milliseconds since the epoch */
	F_COUNT,   /* u32 */
	F_FLAGS,   /* u32 message-level flags */
	F_CODE,    /* u16 error code */
	F_VERSION, /* u16 protocol version */
	F_SIZE,    /* u64 */
	F_ROOM,    /* str <= PROTO_ROOM_MAX */
	F_USER,    /* str <= PROTO_NAME_MAX */
	F_NAME,    /* str <= PROTO_ROOM_MAX (service, client name, peer user) */
	F_TEXT,    /* str <= PROTO_TEXT_MAX */
	F_SECRET,  /* str <= PROTO_SECRET_MAX (password, token) */
	F_HASH,    /* 32 raw bytes */
	F_DATA,    /* u32 length + raw bytes, left in place (view) */
	F_MAX_,
};

/* Message-level flags (F_FLAGS). */
#define MF_PRIVATE 0x0001 /* room: invite only */
#define MF_EDITED 0x0002  /* chat: text was edited */
#define MF_DELETED 0x0004 /* chat: deleted by its author */
#define MF_HISTORY 0x0008 /* chat: replayed from history, not live */
#define MF_MENTION 0x0010 /* chat: mentions the receiving user */
#define MF_ADMIN 0x0020   /* token/user: holds the admin role */
#define MF_DM 0x0040      /* room: a direct conversation */
#define MF_JOINED 0x0080  /* room: the requesting user is a member */
#define MF_STREAM 0x0100  /* file push: size and hash unknown until FILE_END (stdin) */
#define MF_OWNER 0x0200   /* file info: the requesting user owns the file */
#define MF_SHARED 0x0400  /* file info: shared with the requesting user */
#define MF_INFO 0x0800    /* file pull: FILE_INFO only, no data */

/* audiod flags (high bits, clear of the chat and file flags). */
#define MF_MUTED 0x00010000    /* voice: muted (VOICE_JOIN, VOICE_MUTE, VOICE_EVENT) */
#define MF_FEC 0x00020000      /* audio: the sender's Opus packets carry in-band FEC */
#define MF_LISTEN 0x00040000   /* voice join: listen only, never a talker */
#define MF_PERSONAL 0x00080000 /* audio out: a personal mix-minus stream */

/* Voice event kinds (F_COUNT of MSG_VOICE_EVENT). */
enum proto_voice_event {
	VOICE_JOIN = 1,   /* user joined the voice room */
	VOICE_LEAVE = 2,  /* user left */
	VOICE_TALK = 3,   /* user started talking (size = level 0..100) */
	VOICE_QUIET = 4,  /* user stopped talking */
	VOICE_MUTE = 5,   /* user was muted (text = by whom) */
	VOICE_UNMUTE = 6, /* user was unmuted */
	VOICE_LEVEL = 7,  /* talking user's level (size = 0..100), 4 per second */
	VOICE_RECORD = 8, /* recording started (flags MF_... none) or stopped; text = file */
	VOICE_MEMBER = 9, /* in a join reply: a member already present */
};

/* Presence states (F_COUNT of MSG_PRESENCE / MSG_MEMBER). */
enum proto_presence { PRESENCE_OFFLINE = 0, PRESENCE_ONLINE = 1, PRESENCE_AWAY = 2 };

/* Event kinds (F_COUNT of MSG_EVENT). */
enum proto_event {
	EVENT_JOIN = 1,   /* user joined room */
	EVENT_LEAVE = 2,  /* user left room */
	EVENT_TOPIC = 3,  /* room topic changed: text */
	EVENT_INVITE = 4, /* user was invited to room */
	EVENT_NOTICE = 5, /* server notice: text */
};

/* A decoded message. Strings are NUL-terminated copies (valid UTF-8, no NUL
 * inside); data points into the decoded buffer and lives as long as it. */
struct msg {
	uint16_t type;
	uint16_t frame_flags;
	uint32_t req;
	uint64_t id;
	uint64_t ref;
	uint64_t ts;
	uint32_t count;
	uint32_t flags;
	uint16_t code;
	uint16_t version;
	uint64_t size;
	char room[PROTO_ROOM_MAX + 1];
	char user[PROTO_NAME_MAX + 1];
	char name[PROTO_ROOM_MAX + 1];
	char secret[PROTO_SECRET_MAX + 1];
	uint8_t hash[PROTO_HASH_LEN];
	const uint8_t *data;
	uint32_t data_len;
	char text[PROTO_TEXT_MAX + 1];
};

/* Zero a message and set its type. */
void proto_msg_init(struct msg *m, uint16_t type);

/* Name of a type ("SAY") or NULL if unknown. */
const char *proto_type_name(uint16_t type);

/* Human sentence for an error code (never NULL). */
const char *proto_error_text(uint16_t code);

/* Parse a frame header. Returns 0 and the payload length, or -EMSGSIZE when
 * the length exceeds max_frame. */
int proto_header_parse(const uint8_t hdr[PROTO_HEADER_LEN], uint32_t max_frame, uint32_t *ret_len,
                       uint16_t *ret_type, uint16_t *ret_flags);

/* Encoded size of a whole frame (header included), or -EINVAL/-EMSGSIZE. */
int proto_encoded_len(const struct msg *m, size_t *ret_len);

/* Encode a whole frame into out. Returns bytes written or a negative errno:
 * -ENOBUFS if out is too small, -EINVAL for an unknown type or a string that
 * is not UTF-8, -EMSGSIZE for a string over its cap. */
long proto_encode(const struct msg *m, uint8_t *out, size_t outlen);

/* For a type whose last field is data: encode the frame up to and
 * including the data's length, without its bytes, which the caller sends
 * next (m->data_len of them). Returns bytes written or a negative errno as
 * proto_encode (-EINVAL when data is not the last field). */
long proto_encode_head(const struct msg *m, uint8_t *out, size_t outlen);

/* Decode a payload of the given type into m. Returns 0 or -ERR_* negated
 * protocol error code: -ERR_BAD_FRAME, -ERR_TOO_LARGE, -ERR_UNSUPPORTED. */
int proto_decode(uint16_t type, uint16_t flags, const uint8_t *payload, size_t len, struct msg *m);

/* Decode one whole frame (header + payload) from buf; on success sets
 * *ret_used to the frame length. Returns 0, 1 if buf holds less than a whole
 * frame, or a negated protocol error code. */
int proto_decode_frame(const uint8_t *buf, size_t len, uint32_t max_frame, struct msg *m,
                       size_t *ret_used);

/* The service whose range a type number is in: "chat" (0x01xx), "file"
 * (0x02xx), "audio" (0x03xx), "" for the common types (0x00xx); NULL for a
 * number the registry does not know. */
const char *proto_type_service(uint16_t type);

/* True if a client may send type to service ("chat", "file", "audio"): one
 * of the service's requests, or a common one (HELLO, PING). */
int proto_type_accepted(uint16_t type, const char *service);

/* The sentence of the ERR_UNSUPPORTED that service gives for a type it does
 * not accept from a client: whose message it is, and where it belongs. */
void proto_unsupported_text(uint16_t type, const char *service, char *out, size_t outlen);

/* True if s[0..len) is valid UTF-8 without NUL or C0 controls other than
 * tab and newline (allow_newline) . */
int proto_utf8_valid(const char *s, size_t len, int allow_newline);

#endif
