/* Unit tests for common/proto.c: the test vectors of common/PROTOCOL.md byte
 * for byte, the message table of PROTOCOL.md against the codec, and every
 * way a frame can be refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* ---- helpers ---- */

struct vector {
	const char *name;
	void (*build)(struct msg *m);
	const uint8_t *bytes;
	size_t len;
};

static void build_hello(struct msg *m)
{
	proto_msg_init(m, MSG_HELLO);
	m->version = 1;
	strcpy(m->name, "chat");
	strcpy(m->text, "nexus 0.1");
}

static void build_welcome(struct msg *m)
{
	proto_msg_init(m, MSG_WELCOME);
	m->version = 1;
	strcpy(m->name, "chatd 0.1");
	strcpy(m->user, "alice");
	m->flags = MF_ADMIN;
	m->count = 65536;
	m->size = 4000;
	m->ts = 1700000000000ull;
}

static void build_error(struct msg *m)
{
	proto_msg_init(m, MSG_ERROR);
	m->req = 7;
	m->code = ERR_AUTH_REQUIRED;
	strcpy(m->text, "login required");
}

static void build_say(struct msg *m)
{
	proto_msg_init(m, MSG_SAY);
	m->req = 42;
	strcpy(m->room, "lobby");
	strcpy(m->text, "hello");
}

static void build_chat(struct msg *m)
{
	proto_msg_init(m, MSG_CHAT);
	m->id = 1234;
	m->ts = 1700000000123ull;
	strcpy(m->room, "lobby");
	strcpy(m->user, "alice");
	m->ref = 1200;
	m->flags = MF_EDITED;
	strcpy(m->text, "h\xc3\xa9llo \xe2\x9c\x93"); /* "héllo ✓" */
}

static void build_ping(struct msg *m)
{
	proto_msg_init(m, MSG_PING);
	m->req = 1;
	m->ts = 1700000000000ull;
}

static void build_ack(struct msg *m)
{
	proto_msg_init(m, MSG_ACK);
	m->req = 42;
	m->id = 1234;
	m->ts = 1700000000123ull;
	strcpy(m->room, "lobby");
}

static void build_room_list(struct msg *m)
{
	proto_msg_init(m, MSG_ROOM_LIST);
	m->req = 3;
	m->ref = 17;
	m->count = 50;
	m->flags = MF_JOINED;
}

/* The hex dumps of PROTOCOL.md section 10, copied verbatim. */
static const uint8_t vec_hello[] = {
    0x00, 0x00, 0x00, 0x1b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x04, 0x63, 0x68, 0x61, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x09, 0x6e, 0x65, 0x78, 0x75, 0x73, 0x20, 0x30, 0x2e, 0x31,
};
static const uint8_t vec_welcome[] = {
    0x00, 0x00, 0x00, 0x30, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    0x63, 0x68, 0x61, 0x74, 0x64, 0x20, 0x30, 0x2e, 0x31, 0x00, 0x00, 0x00, 0x05, 0x61,
    0x6c, 0x69, 0x63, 0x65, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0f, 0xa0, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
};
static const uint8_t vec_error[] = {
    0x00, 0x00, 0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x04, 0x00, 0x00,
    0x00, 0x0e, 0x6c, 0x6f, 0x67, 0x69, 0x6e, 0x20, 0x72, 0x65, 0x71, 0x75, 0x69, 0x72, 0x65, 0x64,
};
static const uint8_t vec_say[] = {
    0x00, 0x00, 0x00, 0x1e, 0x01, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
    0x00, 0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
static const uint8_t vec_chat[] = {
    0x00, 0x00, 0x00, 0x40, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x00, 0x00,
    0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00, 0x05, 0x61, 0x6c, 0x69, 0x63,
    0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x0a, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x20, 0xe2, 0x9c, 0x93,
};
static const uint8_t vec_ping[] = {
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
};
static const uint8_t vec_ack[] = {
    0x00, 0x00, 0x00, 0x1d, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5,
    0x68, 0x7b, 0x00, 0x00, 0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79,
};
static const uint8_t vec_room_list[] = {
    0x00, 0x00, 0x00, 0x14, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00, 0x80,
};

#define VEC(n, b, v)                                                                               \
	{                                                                                          \
		n, b, v, sizeof(v)                                                                 \
	}
static const struct vector vectors[] = {
    VEC("HELLO", build_hello, vec_hello), VEC("WELCOME", build_welcome, vec_welcome),
    VEC("ERROR", build_error, vec_error), VEC("SAY", build_say, vec_say),
    VEC("CHAT", build_chat, vec_chat),    VEC("PING", build_ping, vec_ping),
    VEC("ACK", build_ack, vec_ack),       VEC("ROOM_LIST", build_room_list, vec_room_list),
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* Compare every field a decoder can set; the text buffers only up to NUL. */
static void assert_msg_equal(const struct msg *a, const struct msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->frame_flags, b->frame_flags);
	assert_int_equal(a->req, b->req);
	assert_true(a->id == b->id);
	assert_true(a->ref == b->ref);
	assert_true(a->ts == b->ts);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->version, b->version);
	assert_true(a->size == b->size);
	assert_string_equal(a->room, b->room);
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->secret, b->secret);
	assert_string_equal(a->text, b->text);
	assert_memory_equal(a->hash, b->hash, PROTO_HASH_LEN);
	assert_int_equal(a->data_len, b->data_len);
}

/* A frame built by hand, for inputs the encoder refuses to produce. */
struct frame {
	uint8_t b[PROTO_HEADER_LEN + PROTO_TEXT_MAX + 64];
	size_t len;
};

static void frame_start(struct frame *f, uint16_t type)
{
	memset(f->b, 0, PROTO_HEADER_LEN);
	f->b[4] = (uint8_t)(type >> 8);
	f->b[5] = (uint8_t)type;
	f->len = PROTO_HEADER_LEN;
}

static void frame_be(struct frame *f, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f->b[f->len++] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void frame_bytes(struct frame *f, const void *p, size_t n)
{
	frame_be(f, n, 4);
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

/* Patch the header's payload length to what was written. */
static void frame_end(struct frame *f)
{
	uint32_t plen = (uint32_t)(f->len - PROTO_HEADER_LEN);

	f->b[0] = (uint8_t)(plen >> 24);
	f->b[1] = (uint8_t)(plen >> 16);
	f->b[2] = (uint8_t)(plen >> 8);
	f->b[3] = (uint8_t)plen;
}

static int decode_whole(const struct frame *f, struct msg *m)
{
	size_t used = 0;
	int r = proto_decode_frame(f->b, f->len, PROTO_FRAME_MAX_DEFAULT, m, &used);

	if (r == 0)
		assert_int_equal(used, f->len);
	return r;
}

/* LEAVE{req=1, room=<n raw bytes>} */
static int decode_leave_room(const void *room, size_t n)
{
	struct frame f;
	struct msg m;

	frame_start(&f, MSG_LEAVE);
	frame_be(&f, 1, 4);
	frame_bytes(&f, room, n);
	frame_end(&f);
	return decode_whole(&f, &m);
}

/* SAY{req=1, room="r", ref=0, text=<n raw bytes>} */
static int decode_say_text(const void *text, size_t n)
{
	static struct frame f;
	static struct msg m;

	frame_start(&f, MSG_SAY);
	frame_be(&f, 1, 4);
	frame_bytes(&f, "r", 1);
	frame_be(&f, 0, 8);
	frame_bytes(&f, text, n);
	frame_end(&f);
	return decode_whole(&f, &m);
}

/* ---- test vectors ---- */

static void test_vectors_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		struct msg m;
		uint8_t out[256];
		size_t len = 0;
		long n;

		vectors[i].build(&m);
		n = proto_encode(&m, out, sizeof(out));
		if (n != (long)vectors[i].len)
			fail_msg("%s: encoded %ld bytes, expected %zu", vectors[i].name, n,
			         vectors[i].len);
		assert_memory_equal(out, vectors[i].bytes, vectors[i].len);
		assert_int_equal(proto_encoded_len(&m, &len), 0);
		assert_int_equal(len, vectors[i].len);
	}
}

static void test_vectors_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		struct msg want, got;
		size_t used = 0;

		vectors[i].build(&want);
		assert_int_equal(proto_decode_frame(vectors[i].bytes, vectors[i].len,
		                                    PROTO_FRAME_MAX_DEFAULT, &got, &used),
		                 0);
		assert_int_equal(used, vectors[i].len);
		assert_msg_equal(&got, &want);
		assert_string_equal(proto_type_name(got.type), vectors[i].name);
	}
}

static void test_vector_chat_utf8(void **state)
{
	struct msg m;
	size_t used;

	(void)state;
	assert_int_equal(
	    proto_decode_frame(vec_chat, sizeof(vec_chat), PROTO_FRAME_MAX_DEFAULT, &m, &used), 0);
	assert_string_equal(m.text, "héllo ✓");
	assert_int_equal(strlen(m.text), 10);
}

/* Frames back to back in one buffer are consumed one at a time. */
static void test_decode_stream(void **state)
{
	uint8_t buf[1024];
	size_t len = 0, off = 0, k = 0;

	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		memcpy(buf + len, vectors[i].bytes, vectors[i].len);
		len += vectors[i].len;
	}
	while (off < len) {
		struct msg m;
		size_t used = 0;

		assert_int_equal(
		    proto_decode_frame(buf + off, len - off, PROTO_FRAME_MAX_DEFAULT, &m, &used),
		    0);
		assert_int_equal(used, vectors[k].len);
		assert_string_equal(proto_type_name(m.type), vectors[k].name);
		off += used;
		k++;
	}
	assert_int_equal(k, N_VECTORS);
}

/* ---- the message table of PROTOCOL.md against the codec ---- */

struct layout {
	uint16_t type;
	const char *name;
	const char *fields; /* wire order, as PROTOCOL.md lists them */
};

static const struct layout layouts[] = {
    {MSG_HELLO, "HELLO", "version name secret text"},
    {MSG_WELCOME, "WELCOME", "version name user flags count size ts"},
    {MSG_ERROR, "ERROR", "req code text"},
    {MSG_PING, "PING", "req ts"},
    {MSG_PONG, "PONG", "req ts"},
    {MSG_OK, "OK", "req id count"},
    {MSG_REGISTER, "REGISTER", "req user secret"},
    {MSG_LOGIN, "LOGIN", "req user secret"},
    {MSG_TOKEN, "TOKEN", "req user secret ts flags"},
    {MSG_ROOM_CREATE, "ROOM_CREATE", "req room flags text"},
    {MSG_ROOM_LIST, "ROOM_LIST", "req ref count flags"},
    {MSG_ROOM_INFO, "ROOM_INFO", "req room flags count id text"},
    {MSG_JOIN, "JOIN", "req room count"},
    {MSG_LEAVE, "LEAVE", "req room"},
    {MSG_INVITE, "INVITE", "req room user"},
    {MSG_TOPIC, "TOPIC", "req room text"},
    {MSG_SAY, "SAY", "req room ref text"},
    {MSG_ACK, "ACK", "req id ts room"},
    {MSG_EDIT, "EDIT", "req id text"},
    {MSG_DELETE, "DELETE", "req id"},
    {MSG_HISTORY, "HISTORY", "req room ref id count text"},
    {MSG_CHAT, "CHAT", "req id ts room user ref flags text"},
    {MSG_MEMBERS, "MEMBERS", "req room"},
    {MSG_MEMBER, "MEMBER", "req room user count ts flags"},
    {MSG_TYPING, "TYPING", "room user"},
    {MSG_PRESENCE, "PRESENCE", "req user count ts"},
    {MSG_EVENT, "EVENT", "room user count ts text"},
    {MSG_USER_ADMIN, "USER_ADMIN", "req user count secret"},
    {MSG_ROOM_PASS, "ROOM_PASS", "req room secret ts"},
    {MSG_LOGIN_VIA, "LOGIN_VIA", "req user secret name ts hash"},
    {MSG_FILE_PUSH, "FILE_PUSH", "req size hash flags text"},
    {MSG_FILE_OFFSET, "FILE_OFFSET", "req id size"},
    {MSG_FILE_DATA, "FILE_DATA", "req size data"},
    {MSG_FILE_END, "FILE_END", "req size hash"},
    {MSG_FILE_INFO, "FILE_INFO", "req id size ts flags hash user room secret text"},
    {MSG_FILE_PULL, "FILE_PULL", "req secret size flags"},
    {MSG_FILE_LIST, "FILE_LIST", "req"},
    {MSG_FILE_DELETE, "FILE_DELETE", "req id"},
    {MSG_FILE_SHARE, "FILE_SHARE", "req id room"},
    {MSG_FILE_UNSHARE, "FILE_UNSHARE", "req secret"},
    {MSG_FILE_ROOM_LIST, "FILE_ROOM_LIST", "req room secret"},
    {MSG_VOICE_JOIN, "VOICE_JOIN", "req room secret flags"},
    {MSG_VOICE_LEAVE, "VOICE_LEAVE", "req"},
    {MSG_AUDIO, "AUDIO", "id ts ref size flags data"},
    {MSG_VOICE_MUTE, "VOICE_MUTE", "req user flags"},
    {MSG_VOICE_EVENT, "VOICE_EVENT", "req room user count flags size ts text"},
    {MSG_VOICE_RECORD, "VOICE_RECORD", "req flags text"},
    {MSG_VOICE_STATS, "VOICE_STATS", "req text"},
};
#define N_LAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

/* Raw bytes for data fields: every value a string may not hold. */
static const uint8_t fill_data[] = {0x00, 0x0a, 0x1b, 0xff, 0xc0, 0xaf, 0x7f, 0x00, 0x42};

/* Distinct values in every field, strings of several byte lengths. */
static void fill_all(struct msg *m, uint16_t type)
{
	proto_msg_init(m, type);
	m->frame_flags = 0xa5a5;
	m->req = 0x01020304u;
	m->id = 0x1112131415161718ull;
	m->ref = 0x2122232425262728ull;
	m->ts = 0x3132333435363738ull;
	m->count = 0x41424344u;
	m->flags = 0x51525354u;
	m->code = 0x6162;
	m->version = 0x7172;
	m->size = 0x8182838485868788ull;
	strcpy(m->room, "r\xc3\xb6\xc3\xb6m\tx");
	strcpy(m->user, "\xe2\x9c\x93user");
	strcpy(m->name, "svc name");
	strcpy(m->secret, "s3cr\xf0\x9f\x94\x91t");
	strcpy(m->text, "line one\nline two\t\xe2\x80\x94 end");
	for (int i = 0; i < PROTO_HASH_LEN; i++)
		m->hash[i] = (uint8_t)(0xa0 + i);
	m->data = fill_data;
	m->data_len = sizeof(fill_data);
}

static int has_field(const struct layout *l, const char *f)
{
	size_t n = strlen(f);
	const char *p = l->fields;

	while ((p = strstr(p, f)) != NULL) {
		if ((p == l->fields || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static size_t layout_payload_len(const struct layout *l, const struct msg *m)
{
	static const struct {
		const char *f;
		size_t w;
	} fixed[] = {{"req", 4},   {"id", 8},   {"ref", 8},     {"ts", 8},  {"count", 4},
	             {"flags", 4}, {"code", 2}, {"version", 2}, {"size", 8}};
	size_t total = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (has_field(l, fixed[i].f))
			total += fixed[i].w;
	if (has_field(l, "room"))
		total += 4 + strlen(m->room);
	if (has_field(l, "user"))
		total += 4 + strlen(m->user);
	if (has_field(l, "name"))
		total += 4 + strlen(m->name);
	if (has_field(l, "secret"))
		total += 4 + strlen(m->secret);
	if (has_field(l, "text"))
		total += 4 + strlen(m->text);
	if (has_field(l, "hash"))
		total += PROTO_HASH_LEN;
	if (has_field(l, "data"))
		total += 4 + m->data_len;
	return total;
}

#define CHECK_INT(fld) assert_true(got.fld == (has_field(l, #fld) ? in.fld : 0))
#define CHECK_STR(fld) assert_string_equal(got.fld, has_field(l, #fld) ? in.fld : "")

static void test_round_trip_every_type(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_LAYOUTS; i++) {
		const struct layout *l = &layouts[i];
		static uint8_t buf[1024], again[1024];
		struct msg in, got;
		size_t used = 0;
		long n, n2;

		fill_all(&in, l->type);
		assert_string_equal(proto_type_name(l->type), l->name);
		n = proto_encode(&in, buf, sizeof(buf));
		if (n != (long)(PROTO_HEADER_LEN + layout_payload_len(l, &in)))
			fail_msg("%s: %ld bytes, PROTOCOL.md layout gives %zu", l->name, n,
			         PROTO_HEADER_LEN + layout_payload_len(l, &in));
		assert_int_equal(buf[4] << 8 | buf[5], l->type);
		assert_int_equal(buf[6] << 8 | buf[7], 0xa5a5);
		assert_int_equal(
		    proto_decode_frame(buf, (size_t)n, PROTO_FRAME_MAX_DEFAULT, &got, &used), 0);
		assert_int_equal(used, n);
		assert_int_equal(got.type, l->type);
		assert_int_equal(got.frame_flags, 0xa5a5);
		CHECK_INT(req);
		CHECK_INT(id);
		CHECK_INT(ref);
		CHECK_INT(ts);
		CHECK_INT(count);
		CHECK_INT(flags);
		CHECK_INT(code);
		CHECK_INT(version);
		CHECK_INT(size);
		CHECK_STR(room);
		CHECK_STR(user);
		CHECK_STR(name);
		CHECK_STR(secret);
		CHECK_STR(text);
		if (has_field(l, "hash"))
			assert_memory_equal(got.hash, in.hash, PROTO_HASH_LEN);
		if (has_field(l, "data")) {
			assert_int_equal(got.data_len, in.data_len);
			assert_memory_equal(got.data, in.data, in.data_len);
		} else {
			assert_null(got.data);
		}
		n2 = proto_encode(&got, again, sizeof(again));
		assert_int_equal(n2, n);
		assert_memory_equal(again, buf, (size_t)n);
	}
}

/* Strings exactly at their cap are accepted both ways. */
static void test_round_trip_at_caps(void **state)
{
	static struct msg in, got;
	static uint8_t buf[PROTO_HEADER_LEN + PROTO_TEXT_MAX + 1024];
	size_t used;
	long n;

	(void)state;
	proto_msg_init(&in, MSG_CHAT);
	memset(in.room, 'r', PROTO_ROOM_MAX);
	memset(in.user, 'u', PROTO_NAME_MAX);
	/* 4-byte characters up to the cap: 16384 / 4. */
	for (size_t i = 0; i < PROTO_TEXT_MAX; i += 4)
		memcpy(in.text + i, "\xf0\x9f\x98\x80", 4);
	n = proto_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_decode_frame(buf, (size_t)n, PROTO_FRAME_MAX_DEFAULT, &got, &used),
	                 0);
	assert_msg_equal(&got, &in);
	assert_int_equal(strlen(got.text), PROTO_TEXT_MAX);

	proto_msg_init(&in, MSG_HELLO);
	memset(in.name, 'n', PROTO_ROOM_MAX);
	memset(in.secret, 's', PROTO_SECRET_MAX);
	n = proto_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(proto_decode_frame(buf, (size_t)n, PROTO_FRAME_MAX_DEFAULT, &got, &used),
	                 0);
	assert_msg_equal(&got, &in);
}

/* A filed data frame of 256 KiB of raw bytes: decoded in place (a view),
 * refused under the 64 KiB default limit, accepted under 1 MiB. */
static void test_file_data_big(void **state)
{
	static uint8_t payload[256 * 1024], buf[256 * 1024 + 64];
	struct msg in, got;
	size_t used = 0;
	long n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 9));
	proto_msg_init(&in, MSG_FILE_DATA);
	in.req = 9;
	in.size = 5ull << 32;
	in.data = payload;
	in.data_len = sizeof(payload);
	n = proto_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, PROTO_HEADER_LEN + 4 + 8 + 4 + (long)sizeof(payload));
	assert_int_equal(proto_decode_frame(buf, (size_t)n, PROTO_FRAME_MAX_DEFAULT, &got, &used),
	                 -ERR_TOO_LARGE);
	assert_int_equal(proto_decode_frame(buf, (size_t)n, 1u << 20, &got, &used), 0);
	assert_int_equal(used, n);
	assert_int_equal(got.req, 9);
	assert_true(got.size == 5ull << 32);
	assert_int_equal(got.data_len, sizeof(payload));
	assert_ptr_equal(got.data, buf + PROTO_HEADER_LEN + 16);
	assert_memory_equal(got.data, payload, sizeof(payload));
	/* One byte short of the announced data: malformed. */
	buf[PROTO_HEADER_LEN + 12 + 3]++;
	assert_int_equal(proto_decode_frame(buf, (size_t)n, 1u << 20, &got, &used), -ERR_BAD_FRAME);
}

/* ---- truncation and trailing bytes ---- */

static void check_truncations(const uint8_t *frame, size_t len)
{
	uint16_t type = (uint16_t)(frame[4] << 8 | frame[5]);
	struct msg m;

	for (size_t cut = 0; cut < len; cut++) {
		size_t used = 12345;

		assert_int_equal(proto_decode_frame(frame, cut, PROTO_FRAME_MAX_DEFAULT, &m, &used),
		                 1);
		assert_int_equal(used, 12345);
	}
	for (size_t plen = 0; plen < len - PROTO_HEADER_LEN; plen++)
		if (proto_decode(type, 0, frame + PROTO_HEADER_LEN, plen, &m) != -ERR_BAD_FRAME)
			fail_msg("type 0x%04x cut to %zu payload bytes: not ERR_BAD_FRAME", type,
			         plen);
}

static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++)
		check_truncations(vectors[i].bytes, vectors[i].len);
	for (size_t i = 0; i < N_LAYOUTS; i++) {
		uint8_t buf[1024];
		struct msg m;
		long n;

		fill_all(&m, layouts[i].type);
		n = proto_encode(&m, buf, sizeof(buf));
		assert_true(n > PROTO_HEADER_LEN);
		check_truncations(buf, (size_t)n);
	}
}

static void test_trailing_garbage(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_LAYOUTS; i++) {
		uint8_t buf[1024];
		struct msg m;
		size_t used;
		long n;

		fill_all(&m, layouts[i].type);
		n = proto_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		/* One extra byte counted in the header: malformed. */
		buf[n] = 0x00;
		buf[3]++;
		assert_int_equal(
		    proto_decode_frame(buf, (size_t)n + 1, PROTO_FRAME_MAX_DEFAULT, &m, &used),
		    -ERR_BAD_FRAME);
		assert_int_equal(proto_decode(layouts[i].type, 0, buf + PROTO_HEADER_LEN,
		                              (size_t)n + 1 - PROTO_HEADER_LEN, &m),
		                 -ERR_BAD_FRAME);
	}
}

/* Bytes after a whole frame that are not counted belong to the next frame. */
static void test_next_frame_not_consumed(void **state)
{
	uint8_t buf[64];
	struct msg m;
	size_t used = 0;

	(void)state;
	memcpy(buf, vec_ping, sizeof(vec_ping));
	memcpy(buf + sizeof(vec_ping), "\x00\x00", 2);
	assert_int_equal(
	    proto_decode_frame(buf, sizeof(vec_ping) + 2, PROTO_FRAME_MAX_DEFAULT, &m, &used), 0);
	assert_int_equal(used, sizeof(vec_ping));
}

/* ---- size limits ---- */

static void test_oversized_header(void **state)
{
	uint8_t hdr[PROTO_HEADER_LEN] = {0x00, 0x01, 0x00, 0x01, 0x01, 0x0b, 0x00, 0x00};
	uint32_t len = 0;
	uint16_t type = 0, flags = 0;
	struct msg m;
	size_t used;

	(void)state;
	/* 65537 > the default limit. */
	assert_int_equal(proto_header_parse(hdr, PROTO_FRAME_MAX_DEFAULT, &len, &type, &flags),
	                 -EMSGSIZE);
	assert_int_equal(len, 0);
	assert_int_equal(proto_decode_frame(hdr, sizeof(hdr), PROTO_FRAME_MAX_DEFAULT, &m, &used),
	                 -ERR_TOO_LARGE);
	/* Exactly at the limit: fine (the payload has not arrived yet). */
	hdr[3] = 0x00;
	assert_int_equal(proto_header_parse(hdr, PROTO_FRAME_MAX_DEFAULT, &len, &type, &flags), 0);
	assert_int_equal(len, PROTO_FRAME_MAX_DEFAULT);
	assert_int_equal(type, MSG_SAY);
	assert_int_equal(proto_decode_frame(hdr, sizeof(hdr), PROTO_FRAME_MAX_DEFAULT, &m, &used),
	                 1);
	/* Over the hard limit, whatever the configured one. */
	memcpy(hdr, "\x00\x40\x00\x01", 4);
	assert_int_equal(proto_header_parse(hdr, UINT32_MAX, &len, &type, &flags), -EMSGSIZE);
	assert_int_equal(proto_decode_frame(hdr, sizeof(hdr), UINT32_MAX, &m, &used),
	                 -ERR_TOO_LARGE);
	memcpy(hdr, "\xff\xff\xff\xff", 4);
	assert_int_equal(proto_header_parse(hdr, UINT32_MAX, &len, &type, &flags), -EMSGSIZE);
	assert_int_equal(proto_decode_frame(hdr, sizeof(hdr), UINT32_MAX, &m, &used),
	                 -ERR_TOO_LARGE);
	memcpy(hdr, "\x00\x40\x00\x00", 4);
	assert_int_equal(proto_header_parse(hdr, UINT32_MAX, &len, &type, &flags), 0);
	assert_int_equal(len, PROTO_FRAME_MAX_HARD);
	/* The header is refused as soon as it is complete. */
	memcpy(hdr, "\x06\x00\x00\x00", 4);
	assert_int_equal(proto_decode_frame(hdr, 7, PROTO_FRAME_MAX_DEFAULT, &m, &used), 1);
	assert_int_equal(proto_decode_frame(hdr, 8, PROTO_FRAME_MAX_DEFAULT, &m, &used),
	                 -ERR_TOO_LARGE);
}

/* A string one byte over its cap; also a length prefix near 2^32. */
static void test_string_over_cap(void **state)
{
	static struct frame f;
	static char big[PROTO_TEXT_MAX + 1];
	struct msg m;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(decode_leave_room(big, PROTO_ROOM_MAX), 0);
	assert_int_equal(decode_leave_room(big, PROTO_ROOM_MAX + 1), -ERR_TOO_LARGE);
	assert_int_equal(decode_say_text(big, PROTO_TEXT_MAX), 0);
	assert_int_equal(decode_say_text(big, PROTO_TEXT_MAX + 1), -ERR_TOO_LARGE);

	/* INVITE{req, room, user}: user over 32 */
	frame_start(&f, MSG_INVITE);
	frame_be(&f, 1, 4);
	frame_bytes(&f, "lobby", 5);
	frame_bytes(&f, big, PROTO_NAME_MAX + 1);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_TOO_LARGE);
	/* LOGIN{req, user, secret}: secret over 256 */
	frame_start(&f, MSG_LOGIN);
	frame_be(&f, 1, 4);
	frame_bytes(&f, "alice", 5);
	frame_bytes(&f, big, PROTO_SECRET_MAX + 1);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_TOO_LARGE);
	/* HELLO{version, name, ...}: name over 64 */
	frame_start(&f, MSG_HELLO);
	frame_be(&f, 1, 2);
	frame_bytes(&f, big, PROTO_ROOM_MAX + 1);
	frame_bytes(&f, "", 0);
	frame_bytes(&f, "", 0);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_TOO_LARGE);
	/* A length prefix of 0xffffffff must not wrap around. */
	frame_start(&f, MSG_LEAVE);
	frame_be(&f, 1, 4);
	frame_be(&f, 0xffffffffu, 4);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_TOO_LARGE);
}

/* ---- string validation ---- */

struct bad_utf8 {
	const char *what;
	const char *bytes;
	size_t len;
};

#define BAD(w, b)                                                                                  \
	{                                                                                          \
		w, b, sizeof(b) - 1                                                                \
	}
static const struct bad_utf8 bad_strings[] = {
    BAD("overlong 2-byte '/'", "\xc0\xaf"),
    BAD("overlong 2-byte NUL", "\xc0\x80"),
    BAD("overlong C1", "\xc1\xbf"),
    BAD("overlong 3-byte", "\xe0\x80\xaf"),
    BAD("overlong 3-byte U+07FF", "\xe0\x9f\xbf"),
    BAD("overlong 4-byte", "\xf0\x80\x80\xaf"),
    BAD("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf"),
    BAD("high surrogate", "\xed\xa0\x80"),
    BAD("low surrogate", "\xed\xbf\xbf"),
    BAD("U+110000", "\xf4\x90\x80\x80"),
    BAD("F5 lead", "\xf5\x80\x80\x80"),
    BAD("FF byte", "a\xff"),
    BAD("FE byte", "\xfe"),
    BAD("lone continuation", "\x80"),
    BAD("continuation after ASCII", "ab\xbf"),
    BAD("truncated 2-byte at end", "ab\xc3"),
    BAD("truncated 3-byte at end", "\xe2\x9c"),
    BAD("truncated 4-byte at end", "\xf0\x9f\x98"),
    BAD("truncated 3-byte mid-string", "\xe2\x9c"
                                       "a"),
    BAD("NUL inside", "a\0b"),
    BAD("NUL alone", "\0"),
    BAD("ESC", "\x1b[31mred"),
    BAD("BEL", "\x07"),
    BAD("CR", "line\r"),
    BAD("DEL", "a\x7f"),
};
#define N_BAD (sizeof(bad_strings) / sizeof(bad_strings[0]))

static void test_invalid_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_BAD; i++) {
		const struct bad_utf8 *b = &bad_strings[i];

		if (decode_leave_room(b->bytes, b->len) != -ERR_BAD_FRAME)
			fail_msg("room: %s accepted", b->what);
		if (decode_say_text(b->bytes, b->len) != -ERR_BAD_FRAME)
			fail_msg("text: %s accepted", b->what);
		assert_false(proto_utf8_valid(b->bytes, b->len, 1));
	}
}

static void test_valid_strings(void **state)
{
	static const struct bad_utf8 good[] = {
	    BAD("empty", ""),
	    BAD("U+0080", "\xc2\x80"),
	    BAD("U+07FF", "\xdf\xbf"),
	    BAD("U+0800", "\xe0\xa0\x80"),
	    BAD("U+D7FF", "\xed\x9f\xbf"),
	    BAD("U+E000", "\xee\x80\x80"),
	    BAD("U+FFFD", "\xef\xbf\xbd"),
	    BAD("U+10000", "\xf0\x90\x80\x80"),
	    BAD("U+10FFFF", "\xf4\x8f\xbf\xbf"),
	    BAD("tab", "a\tb"),
	    BAD("mixed", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (decode_leave_room(good[i].bytes, good[i].len) != 0)
			fail_msg("room: %s refused", good[i].what);
		if (decode_say_text(good[i].bytes, good[i].len) != 0)
			fail_msg("text: %s refused", good[i].what);
	}
}

static void test_newline_text_only(void **state)
{
	static struct frame f;
	struct msg m;

	(void)state;
	assert_int_equal(decode_say_text("one\ntwo\n", 8), 0);
	assert_int_equal(decode_leave_room("one\ntwo", 7), -ERR_BAD_FRAME);
	assert_true(proto_utf8_valid("a\nb", 3, 1));
	assert_false(proto_utf8_valid("a\nb", 3, 0));
	/* Newline in user, name and secret is refused too. */
	frame_start(&f, MSG_LOGIN);
	frame_be(&f, 1, 4);
	frame_bytes(&f, "al\nice", 6);
	frame_bytes(&f, "pw", 2);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_BAD_FRAME);
	frame_start(&f, MSG_LOGIN);
	frame_be(&f, 1, 4);
	frame_bytes(&f, "alice", 5);
	frame_bytes(&f, "p\nw", 3);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_BAD_FRAME);
	frame_start(&f, MSG_HELLO);
	frame_be(&f, 1, 2);
	frame_bytes(&f, "ch\nat", 5);
	frame_bytes(&f, "", 0);
	frame_bytes(&f, "multi\nline", 10);
	frame_end(&f);
	assert_int_equal(decode_whole(&f, &m), -ERR_BAD_FRAME);
}

/* The "refused frames" examples of PROTOCOL.md section 10. */
static void test_refused_vectors(void **state)
{
	static const uint8_t too_big[] = {0x00, 0x40, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
	static const uint8_t unknown[] = {0x00, 0x00, 0x00, 0x04, 0x0f, 0xff,
	                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	static const uint8_t esc[] = {0x00, 0x00, 0x00, 0x09, 0x01, 0x08, 0x00, 0x00, 0x00,
	                              0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x1b};
	static const uint8_t overlong[] = {0x00, 0x00, 0x00, 0x0a, 0x01, 0x08, 0x00, 0x00, 0x00,
	                                   0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xc0, 0xaf};
	struct msg m;
	size_t used;

	(void)state;
	assert_int_equal(proto_decode_frame(too_big, sizeof(too_big), UINT32_MAX, &m, &used),
	                 -ERR_TOO_LARGE);
	assert_int_equal(
	    proto_decode_frame(unknown, sizeof(unknown), PROTO_FRAME_MAX_DEFAULT, &m, &used),
	    -ERR_UNSUPPORTED);
	assert_int_equal(proto_decode_frame(esc, sizeof(esc), PROTO_FRAME_MAX_DEFAULT, &m, &used),
	                 -ERR_BAD_FRAME);
	assert_int_equal(
	    proto_decode_frame(overlong, sizeof(overlong), PROTO_FRAME_MAX_DEFAULT, &m, &used),
	    -ERR_BAD_FRAME);
}

static void test_unknown_type(void **state)
{
	static const uint16_t unknown[] = {0x0000, 0x0007, 0x00ff, 0x0100, 0x0119,
	                                   0x0200, 0x020c, 0x0308, 0x0fff, 0xffff};
	uint8_t buf[64];
	struct msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		size_t used;

		assert_null(proto_type_name(unknown[i]));
		assert_int_equal(proto_decode(unknown[i], 0, (const uint8_t *)"\0\0\0\0", 4, &m),
		                 -ERR_UNSUPPORTED);
		memcpy(buf, vec_ping, sizeof(vec_ping));
		buf[4] = (uint8_t)(unknown[i] >> 8);
		buf[5] = (uint8_t)unknown[i];
		assert_int_equal(
		    proto_decode_frame(buf, sizeof(vec_ping), PROTO_FRAME_MAX_DEFAULT, &m, &used),
		    -ERR_UNSUPPORTED);
		proto_msg_init(&m, unknown[i]);
		assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	}
}

/* ---- encoder refusals ---- */

static void test_encode_over_cap(void **state)
{
	static struct msg m;
	static uint8_t buf[PROTO_HEADER_LEN + PROTO_TEXT_MAX + 1024];
	size_t len;

	(void)state;
	proto_msg_init(&m, MSG_LEAVE);
	memset(m.room, 'r', PROTO_ROOM_MAX + 1); /* fills the buffer, no NUL */
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(proto_encoded_len(&m, &len), -EMSGSIZE);

	proto_msg_init(&m, MSG_INVITE);
	memset(m.user, 'u', PROTO_NAME_MAX + 1);
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);

	proto_msg_init(&m, MSG_HELLO);
	memset(m.name, 'n', PROTO_ROOM_MAX + 1);
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);

	proto_msg_init(&m, MSG_LOGIN);
	memset(m.secret, 's', PROTO_SECRET_MAX + 1);
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);

	proto_msg_init(&m, MSG_SAY);
	memset(m.text, 't', PROTO_TEXT_MAX + 1);
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(proto_encoded_len(&m, &len), -EMSGSIZE);
}

static void test_encode_invalid_utf8(void **state)
{
	uint8_t buf[256];
	struct msg m;
	size_t len;

	(void)state;
	for (size_t i = 0; i < N_BAD; i++) {
		/* Strings are NUL-terminated in struct msg: a NUL ends them. */
		if (memchr(bad_strings[i].bytes, 0, bad_strings[i].len))
			continue;
		proto_msg_init(&m, MSG_SAY);
		strcpy(m.room, "lobby");
		memcpy(m.text, bad_strings[i].bytes, bad_strings[i].len);
		m.text[bad_strings[i].len] = '\0';
		if (proto_encode(&m, buf, sizeof(buf)) != -EINVAL)
			fail_msg("encode text: %s not refused", bad_strings[i].what);
		assert_int_equal(proto_encoded_len(&m, &len), -EINVAL);
	}
	proto_msg_init(&m, MSG_LEAVE);
	strcpy(m.room, "two\nlines");
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	proto_msg_init(&m, MSG_SAY);
	strcpy(m.room, "lobby");
	strcpy(m.text, "two\nlines");
	assert_true(proto_encode(&m, buf, sizeof(buf)) > 0);
}

static void test_encode_small_buffer(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		uint8_t buf[256];
		struct msg m;

		vectors[i].build(&m);
		for (size_t n = 0; n < vectors[i].len; n++) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(proto_encode(&m, buf, n), -ENOBUFS);
			/* Nothing written on failure. */
			assert_int_equal(buf[0], 0xee);
		}
		assert_int_equal(proto_encode(&m, buf, vectors[i].len), (long)vectors[i].len);
	}
}

/* ---- error texts and misc ---- */

static void test_error_text(void **state)
{
	(void)state;
	for (uint16_t code = 0; code < ERR_MAX_; code++) {
		const char *t = proto_error_text(code);

		assert_non_null(t);
		assert_true(strlen(t) > 0);
		if (strcmp(t, "unknown error") == 0)
			fail_msg("error %u has no sentence", code);
	}
	assert_string_equal(proto_error_text(ERR_MAX_), "unknown error");
	assert_string_equal(proto_error_text(999), "unknown error");
	assert_string_equal(proto_error_text(0xffff), "unknown error");
	assert_string_equal(proto_error_text(ERR_SLOW_READER),
	                    "output queue full: you read too slowly");
}

/* The numbers PROTOCOL.md documents; they are wire-stable. */
static void test_stable_numbers(void **state)
{
	(void)state;
	assert_int_equal(PROTO_VERSION, 1);
	assert_int_equal(PROTO_HEADER_LEN, 8);
	assert_int_equal(PROTO_FRAME_MAX_DEFAULT, 65536);
	assert_int_equal(PROTO_FRAME_MAX_HARD, 4194304);
	assert_int_equal(ERR_BAD_FRAME, 1);
	assert_int_equal(ERR_TOO_LARGE, 2);
	assert_int_equal(ERR_SLOW_READER, 14);
	assert_int_equal(ERR_SHUTDOWN, 19);
	assert_int_equal(ERR_INTEGRITY, 20);
	assert_int_equal(ERR_MAX_, 21);
	assert_int_equal(MSG_FILE_PUSH, 0x0201);
	assert_int_equal(MSG_FILE_UNSHARE, 0x020a);
	assert_int_equal(MSG_FILE_ROOM_LIST, 0x020b);
	assert_int_equal(MSG_ROOM_PASS, 0x0117);
	assert_int_equal(MSG_LOGIN_VIA, 0x0118);
	assert_int_equal(MSG_VOICE_JOIN, 0x0301);
	assert_int_equal(MSG_AUDIO, 0x0303);
	assert_int_equal(MSG_VOICE_STATS, 0x0307);
	assert_int_equal(MF_MUTED | MF_FEC | MF_LISTEN | MF_PERSONAL, 0x000f0000);
	assert_int_equal(VOICE_MEMBER, 9);
	assert_int_equal(MF_STREAM | MF_OWNER | MF_SHARED | MF_INFO, 0x0f00);
	assert_int_equal(MF_PRIVATE | MF_EDITED | MF_DELETED | MF_HISTORY | MF_MENTION | MF_ADMIN |
	                     MF_DM | MF_JOINED,
	                 0xff);
	assert_int_equal(PRESENCE_AWAY, 2);
	assert_int_equal(EVENT_NOTICE, 5);
}

static void test_msg_init(void **state)
{
	struct msg m;

	(void)state;
	memset(&m, 0x5a, sizeof(m));
	proto_msg_init(&m, MSG_OK);
	assert_int_equal(m.type, MSG_OK);
	assert_int_equal(m.req, 0);
	assert_true(m.size == 0);
	assert_string_equal(m.room, "");
	assert_string_equal(m.secret, "");
	assert_string_equal(m.text, "");
	assert_null(m.data);
	assert_int_equal(m.data_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_encode),
	    cmocka_unit_test(test_vectors_decode),
	    cmocka_unit_test(test_vector_chat_utf8),
	    cmocka_unit_test(test_decode_stream),
	    cmocka_unit_test(test_round_trip_every_type),
	    cmocka_unit_test(test_round_trip_at_caps),
	    cmocka_unit_test(test_file_data_big),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_next_frame_not_consumed),
	    cmocka_unit_test(test_oversized_header),
	    cmocka_unit_test(test_string_over_cap),
	    cmocka_unit_test(test_invalid_strings),
	    cmocka_unit_test(test_valid_strings),
	    cmocka_unit_test(test_newline_text_only),
	    cmocka_unit_test(test_refused_vectors),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_encode_over_cap),
	    cmocka_unit_test(test_encode_invalid_utf8),
	    cmocka_unit_test(test_encode_small_buffer),
	    cmocka_unit_test(test_error_text),
	    cmocka_unit_test(test_stable_numbers),
	    cmocka_unit_test(test_msg_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
