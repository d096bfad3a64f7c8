#include "proto.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Who sends a type (PROTOCOL.md's "Sent by"): a daemon refuses a type that
 * no client sends, or that is another service's, with ERR_UNSUPPORTED. */
#define FROM_C 1
#define FROM_S 2

struct schema {
	uint16_t type;
	const char *name;
	uint8_t from;
	uint8_t fields[10];
};

/* The field layout of every message type, in wire order. PROTOCOL.md
 * documents the same table; change both together and bump PROTO_VERSION. */
static const struct schema schemas[] = {
    {MSG_HELLO, "HELLO", FROM_C, {F_VERSION, F_NAME, F_SECRET, F_TEXT}},
    {MSG_WELCOME, "WELCOME", FROM_S, {F_VERSION, F_NAME, F_USER, F_FLAGS, F_COUNT, F_SIZE, F_TS}},
    {MSG_ERROR, "ERROR", FROM_S, {F_REQ, F_CODE, F_TEXT}},
    {MSG_PING, "PING", FROM_C | FROM_S, {F_REQ, F_TS}},
    {MSG_PONG, "PONG", FROM_S, {F_REQ, F_TS}},
    {MSG_OK, "OK", FROM_S, {F_REQ, F_ID, F_COUNT}},
    {MSG_REGISTER, "REGISTER", FROM_C, {F_REQ, F_USER, F_SECRET}},
    {MSG_LOGIN, "LOGIN", FROM_C, {F_REQ, F_USER, F_SECRET}},
    {MSG_TOKEN, "TOKEN", FROM_S, {F_REQ, F_USER, F_SECRET, F_TS, F_FLAGS}},
    {MSG_ROOM_CREATE, "ROOM_CREATE", FROM_C, {F_REQ, F_ROOM, F_FLAGS, F_TEXT}},
    {MSG_ROOM_LIST, "ROOM_LIST", FROM_C, {F_REQ, F_REF, F_COUNT, F_FLAGS}},
    {MSG_ROOM_INFO, "ROOM_INFO", FROM_S, {F_REQ, F_ROOM, F_FLAGS, F_COUNT, F_ID, F_TEXT}},
    {MSG_JOIN, "JOIN", FROM_C, {F_REQ, F_ROOM, F_COUNT}},
    {MSG_LEAVE, "LEAVE", FROM_C, {F_REQ, F_ROOM}},
    {MSG_INVITE, "INVITE", FROM_C, {F_REQ, F_ROOM, F_USER}},
    {MSG_TOPIC, "TOPIC", FROM_C, {F_REQ, F_ROOM, F_TEXT}},
    {MSG_SAY, "SAY", FROM_C, {F_REQ, F_ROOM, F_REF, F_TEXT}},
    {MSG_ACK, "ACK", FROM_S, {F_REQ, F_ID, F_TS, F_ROOM}},
    {MSG_EDIT, "EDIT", FROM_C, {F_REQ, F_ID, F_TEXT}},
    {MSG_DELETE, "DELETE", FROM_C, {F_REQ, F_ID}},
    {MSG_HISTORY, "HISTORY", FROM_C, {F_REQ, F_ROOM, F_REF, F_ID, F_COUNT, F_TEXT}},
    {MSG_CHAT, "CHAT", FROM_S, {F_REQ, F_ID, F_TS, F_ROOM, F_USER, F_REF, F_FLAGS, F_TEXT}},
    {MSG_MEMBERS, "MEMBERS", FROM_C, {F_REQ, F_ROOM}},
    {MSG_MEMBER, "MEMBER", FROM_S, {F_REQ, F_ROOM, F_USER, F_COUNT, F_TS, F_FLAGS}},
    {MSG_TYPING, "TYPING", FROM_C | FROM_S, {F_ROOM, F_USER}},
    {MSG_PRESENCE, "PRESENCE", FROM_C | FROM_S, {F_REQ, F_USER, F_COUNT, F_TS}},
    {MSG_EVENT, "EVENT", FROM_S, {F_ROOM, F_USER, F_COUNT, F_TS, F_TEXT}},
    {MSG_USER_ADMIN, "USER_ADMIN", FROM_C, {F_REQ, F_USER, F_COUNT, F_SECRET}},
    {MSG_ROOM_PASS, "ROOM_PASS", FROM_C | FROM_S, {F_REQ, F_ROOM, F_SECRET, F_TS}},
    {MSG_LOGIN_VIA, "LOGIN_VIA", FROM_C, {F_REQ, F_USER, F_SECRET, F_NAME, F_TS, F_HASH}},
    {MSG_FILE_PUSH, "FILE_PUSH", FROM_C, {F_REQ, F_SIZE, F_HASH, F_FLAGS, F_TEXT}},
    {MSG_FILE_OFFSET, "FILE_OFFSET", FROM_S, {F_REQ, F_ID, F_SIZE}},
    {MSG_FILE_DATA, "FILE_DATA", FROM_C | FROM_S, {F_REQ, F_SIZE, F_DATA}},
    {MSG_FILE_END, "FILE_END", FROM_C, {F_REQ, F_SIZE, F_HASH}},
    {MSG_FILE_INFO,
     "FILE_INFO",
     FROM_S,
     {F_REQ, F_ID, F_SIZE, F_TS, F_FLAGS, F_HASH, F_USER, F_ROOM, F_SECRET, F_TEXT}},
    {MSG_FILE_PULL, "FILE_PULL", FROM_C, {F_REQ, F_SECRET, F_SIZE, F_FLAGS}},
    {MSG_FILE_LIST, "FILE_LIST", FROM_C, {F_REQ}},
    {MSG_FILE_DELETE, "FILE_DELETE", FROM_C, {F_REQ, F_ID}},
    {MSG_FILE_SHARE, "FILE_SHARE", FROM_C, {F_REQ, F_ID, F_ROOM}},
    {MSG_FILE_UNSHARE, "FILE_UNSHARE", FROM_C, {F_REQ, F_SECRET}},
    {MSG_FILE_ROOM_LIST, "FILE_ROOM_LIST", FROM_C, {F_REQ, F_ROOM, F_SECRET}},
    {MSG_VOICE_JOIN, "VOICE_JOIN", FROM_C, {F_REQ, F_ROOM, F_SECRET, F_FLAGS}},
    {MSG_VOICE_LEAVE, "VOICE_LEAVE", FROM_C, {F_REQ}},
    {MSG_AUDIO, "AUDIO", FROM_C | FROM_S, {F_ID, F_TS, F_REF, F_SIZE, F_FLAGS, F_DATA}},
    {MSG_VOICE_MUTE, "VOICE_MUTE", FROM_C, {F_REQ, F_USER, F_FLAGS}},
    {MSG_VOICE_EVENT,
     "VOICE_EVENT",
     FROM_S,
     {F_REQ, F_ROOM, F_USER, F_COUNT, F_FLAGS, F_SIZE, F_TS, F_TEXT}},
    {MSG_VOICE_RECORD, "VOICE_RECORD", FROM_C, {F_REQ, F_FLAGS, F_TEXT}},
    {MSG_VOICE_STATS, "VOICE_STATS", FROM_C | FROM_S, {F_REQ, F_TEXT}},
};

static const char *const error_texts[ERR_MAX_] = {
    [ERR_NONE] = "no error",
    [ERR_BAD_FRAME] = "malformed frame",
    [ERR_TOO_LARGE] = "frame or field too large",
    [ERR_VERSION] = "unsupported protocol version",
    [ERR_AUTH_REQUIRED] = "login required",
    [ERR_BAD_LOGIN] = "wrong user name or password",
    [ERR_TOKEN_EXPIRED] = "token expired; log in again",
    [ERR_TOKEN_INVALID] = "token invalid; log in again",
    [ERR_RATE_LIMITED] = "too many requests; slow down",
    [ERR_NOT_FOUND] = "not found",
    [ERR_FORBIDDEN] = "not allowed",
    [ERR_EXISTS] = "already exists",
    [ERR_INVALID] = "invalid argument",
    [ERR_REG_CLOSED] = "registration is closed on this server",
    [ERR_SLOW_READER] = "output queue full: you read too slowly",
    [ERR_INTERNAL] = "internal server error",
    [ERR_UNSUPPORTED] = "unsupported message type",
    [ERR_WRONG_SERVICE] = "wrong service for this port",
    [ERR_QUOTA] = "quota or size limit exceeded",
    [ERR_SHUTDOWN] = "server is shutting down",
    [ERR_INTEGRITY] = "data does not match its SHA-256",
};

static const struct schema *schema_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (schemas[i].type == type)
			return &schemas[i];
	return NULL;
}

void proto_msg_init(struct msg *m, uint16_t type)
{
	memset(m, 0, offsetof(struct msg, text) + 1);
	m->type = type;
}

const char *proto_type_name(uint16_t type)
{
	const struct schema *s = schema_find(type);
	return s ? s->name : NULL;
}

const char *proto_type_service(uint16_t type)
{
	static const char *const services[] = {"", PROTO_SERVICE_CHAT, PROTO_SERVICE_FILE,
	                                       PROTO_SERVICE_AUDIO};

	if (!schema_find(type) || (type >> 8) >= sizeof(services) / sizeof(services[0]))
		return NULL;
	return services[type >> 8];
}

int proto_type_accepted(uint16_t type, const char *service)
{
	const struct schema *s = schema_find(type);
	const char *svc = proto_type_service(type);

	return s && (s->from & FROM_C) && (svc[0] == '\0' || strcmp(svc, service) == 0);
}

/* The daemon that serves a service: "chat" -> "chatd". */
static const char *service_daemon(const char *service)
{
	if (strcmp(service, PROTO_SERVICE_CHAT) == 0)
		return "chatd";
	if (strcmp(service, PROTO_SERVICE_FILE) == 0)
		return "filed";
	if (strcmp(service, PROTO_SERVICE_AUDIO) == 0)
		return "audiod";
	return "this server";
}

void proto_unsupported_text(uint16_t type, const char *service, char *out, size_t outlen)
{
	const char *name = proto_type_name(type), *owner = proto_type_service(type);
	const char *me = service_daemon(service);

	if (!name)
		snprintf(out, outlen, "%s does not know message type 0x%04x", me, type);
	else if (owner[0] && strcmp(owner, service) != 0)
		snprintf(out, outlen,
		         "%s is a message of %s, the %s service, not of %s: send it to %s's port",
		         name, service_daemon(owner), owner, me, service_daemon(owner));
	else
		snprintf(out, outlen, "%s does not answer %s: only a server sends it", me, name);
}

const char *proto_error_text(uint16_t code)
{
	if (code < ERR_MAX_ && error_texts[code])
		return error_texts[code];
	return "unknown error";
}

int proto_utf8_valid(const char *s, size_t len, int allow_newline)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			if (c == 0x7f || (c < 0x20 && c != '\t' && !(allow_newline && c == '\n')))
				return 0;
			i++;
			continue;
		}
		n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static size_t field_str_cap(uint8_t f)
{
	switch (f) {
	case F_ROOM:
	case F_NAME:
		return PROTO_ROOM_MAX;
	case F_USER:
		return PROTO_NAME_MAX;
	case F_TEXT:
		return PROTO_TEXT_MAX;
	case F_SECRET:
		return PROTO_SECRET_MAX;
	default:
		return 0;
	}
}

static char *field_str(struct msg *m, uint8_t f)
{
	switch (f) {
	case F_ROOM:
		return m->room;
	case F_NAME:
		return m->name;
	case F_USER:
		return m->user;
	case F_TEXT:
		return m->text;
	case F_SECRET:
		return m->secret;
	default:
		return NULL;
	}
}

static size_t field_fixed_len(uint8_t f)
{
	switch (f) {
	case F_CODE:
	case F_VERSION:
		return 2;
	case F_REQ:
	case F_COUNT:
	case F_FLAGS:
		return 4;
	case F_ID:
	case F_REF:
	case F_TS:
	case F_SIZE:
		return 8;
	case F_HASH:
		return PROTO_HASH_LEN;
	default:
		return 0;
	}
}

static uint64_t field_int(const struct msg *m, uint8_t f)
{
	switch (f) {
	case F_REQ:
		return m->req;
	case F_ID:
		return m->id;
	case F_REF:
		return m->ref;
	case F_TS:
		return m->ts;
	case F_COUNT:
		return m->count;
	case F_FLAGS:
		return m->flags;
	case F_CODE:
		return m->code;
	case F_VERSION:
		return m->version;
	case F_SIZE:
		return m->size;
	default:
		return 0;
	}
}

static void field_set_int(struct msg *m, uint8_t f, uint64_t v)
{
	switch (f) {
	case F_REQ:
		m->req = (uint32_t)v;
		break;
	case F_ID:
		m->id = v;
		break;
	case F_REF:
		m->ref = v;
		break;
	case F_TS:
		m->ts = v;
		break;
	case F_COUNT:
		m->count = (uint32_t)v;
		break;
	case F_FLAGS:
		m->flags = (uint32_t)v;
		break;
	case F_CODE:
		m->code = (uint16_t)v;
		break;
	case F_VERSION:
		m->version = (uint16_t)v;
		break;
	case F_SIZE:
		m->size = v;
		break;
	default:
		break;
	}
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int proto_header_parse(const uint8_t hdr[PROTO_HEADER_LEN], uint32_t max_frame, uint32_t *ret_len,
                       uint16_t *ret_type, uint16_t *ret_flags)
{
	uint32_t len = (uint32_t)get_be(hdr, 4);

	if (len > max_frame || len > PROTO_FRAME_MAX_HARD)
		return -EMSGSIZE;
	*ret_len = len;
	*ret_type = (uint16_t)get_be(hdr + 4, 2);
	*ret_flags = (uint16_t)get_be(hdr + 6, 2);
	return 0;
}

static int payload_len(const struct schema *s, const struct msg *m, size_t *ret)
{
	size_t total = 0;

	for (size_t i = 0; i < sizeof(s->fields) && s->fields[i] != F_END; i++) {
		uint8_t f = s->fields[i];
		size_t cap = field_str_cap(f);

		if (cap) {
			const char *str = field_str((struct msg *)m, f);
			size_t n = strnlen(str, cap + 1);
			if (n > cap)
				return -EMSGSIZE;
			if (!proto_utf8_valid(str, n, f == F_TEXT))
				return -EINVAL;
			total += 4 + n;
		} else if (f == F_DATA) {
			total += 4 + (size_t)m->data_len;
		} else {
			total += field_fixed_len(f);
		}
	}
	if (total > PROTO_FRAME_MAX_HARD)
		return -EMSGSIZE;
	*ret = total;
	return 0;
}

int proto_encoded_len(const struct msg *m, size_t *ret_len)
{
	const struct schema *s = schema_find(m->type);
	size_t n;
	int r;

	if (!s)
		return -EINVAL;
	r = payload_len(s, m, &n);
	if (r < 0)
		return r;
	*ret_len = PROTO_HEADER_LEN + n;
	return 0;
}

/* with_data 0: stop before the bytes of a final data field. */
static long proto_encode_ex(const struct msg *m, uint8_t *out, size_t outlen, int with_data)
{
	const struct schema *s = schema_find(m->type);
	size_t n, off = PROTO_HEADER_LEN;
	int r;

	if (!s)
		return -EINVAL;
	r = payload_len(s, m, &n);
	if (r < 0)
		return r;
	if (outlen < PROTO_HEADER_LEN + n - (with_data ? 0 : m->data_len))
		return -ENOBUFS;
	put_be(out, n, 4);
	put_be(out + 4, m->type, 2);
	put_be(out + 6, m->frame_flags, 2);
	for (size_t i = 0; i < sizeof(s->fields) && s->fields[i] != F_END; i++) {
		uint8_t f = s->fields[i];
		size_t cap = field_str_cap(f);

		if (cap) {
			const char *str = field_str((struct msg *)m, f);
			size_t len = strlen(str);
			put_be(out + off, len, 4);
			memcpy(out + off + 4, str, len);
			off += 4 + len;
		} else if (f == F_DATA) {
			put_be(out + off, m->data_len, 4);
			if (!with_data) {
				if (i + 1 < sizeof(s->fields) && s->fields[i + 1] != F_END)
					return -EINVAL;
				return (long)off + 4;
			}
			if (m->data_len)
				memcpy(out + off + 4, m->data, m->data_len);
			off += 4 + m->data_len;
		} else if (f == F_HASH) {
			memcpy(out + off, m->hash, PROTO_HASH_LEN);
			off += PROTO_HASH_LEN;
		} else {
			size_t w = field_fixed_len(f);
			put_be(out + off, field_int(m, f), w);
			off += w;
		}
	}
	return (long)off;
}

long proto_encode(const struct msg *m, uint8_t *out, size_t outlen)
{
	return proto_encode_ex(m, out, outlen, 1);
}

long proto_encode_head(const struct msg *m, uint8_t *out, size_t outlen)
{
	return proto_encode_ex(m, out, outlen, 0);
}

int proto_decode(uint16_t type, uint16_t flags, const uint8_t *p, size_t len, struct msg *m)
{
	const struct schema *s = schema_find(type);
	size_t off = 0;

	if (!s)
		return -ERR_UNSUPPORTED;
	proto_msg_init(m, type);
	m->frame_flags = flags;
	for (size_t i = 0; i < sizeof(s->fields) && s->fields[i] != F_END; i++) {
		uint8_t f = s->fields[i];
		size_t cap = field_str_cap(f);

		if (cap || f == F_DATA) {
			uint64_t n;
			if (len - off < 4)
				return -ERR_BAD_FRAME;
			n = get_be(p + off, 4);
			off += 4;
			if (cap && n > cap)
				return -ERR_TOO_LARGE;
			if (n > len - off)
				return -ERR_BAD_FRAME;
			if (cap) {
				if (!proto_utf8_valid((const char *)p + off, n, f == F_TEXT))
					return -ERR_BAD_FRAME;
				char *dst = field_str(m, f);
				memcpy(dst, p + off, n);
				dst[n] = '\0';
			} else {
				m->data = p + off;
				m->data_len = (uint32_t)n;
			}
			off += n;
		} else {
			size_t w = field_fixed_len(f);
			if (len - off < w)
				return -ERR_BAD_FRAME;
			if (f == F_HASH)
				memcpy(m->hash, p + off, w);
			else
				field_set_int(m, f, get_be(p + off, w));
			off += w;
		}
	}
	if (off != len)
		return -ERR_BAD_FRAME;
	return 0;
}

int proto_decode_frame(const uint8_t *buf, size_t len, uint32_t max_frame, struct msg *m,
                       size_t *ret_used)
{
	uint32_t plen;
	uint16_t type, flags;
	int r;

	if (len < PROTO_HEADER_LEN)
		return 1;
	if (proto_header_parse(buf, max_frame, &plen, &type, &flags) < 0)
		return -ERR_TOO_LARGE;
	if (len - PROTO_HEADER_LEN < plen)
		return 1;
	r = proto_decode(type, flags, buf + PROTO_HEADER_LEN, plen, m);
	if (r < 0)
		return r;
	*ret_used = PROTO_HEADER_LEN + plen;
	return 0;
}
