#include "proto_limits.h"

#include "auth.h"
#include "conn.h"

#define ROW(macro, unit, config)                                                                   \
	{                                                                                          \
#macro, (uint64_t)(macro), unit, config                                            \
	}

/* In the order of PROTOCOL.md's limits table. */
static const struct proto_limit limits[] = {
    ROW(PROTO_FRAME_MAX_DEFAULT, "bytes", "[chatd] max_frame"),
    ROW(PROTO_FRAME_MAX_HARD, "bytes", NULL),
    ROW(PROTO_FILE_FRAME_DEFAULT, "bytes", "[filed] max_frame"),
    ROW(PROTO_FILE_CHUNK_KB_DEFAULT, "KiB", "[filed] chunk_kb"),
    ROW(PROTO_FILE_SIZE_MB_DEFAULT, "MiB", "[filed] max_file_mb"),
    ROW(PROTO_FILE_QUOTA_MB_DEFAULT, "MiB", "[filed] quota_mb"),
    ROW(PROTO_FILE_COUNT_DEFAULT, "files", "[filed] max_files"),
    ROW(PROTO_FILE_TRANSFERS_DEFAULT, "transfers", "[filed] max_transfers"),
    ROW(PROTO_FILE_NAME_MAX, "bytes", NULL),
    ROW(PROTO_ROOM_MAX, "bytes", NULL),
    ROW(PROTO_ROOM_NAME_MAX, "bytes", NULL),
    ROW(PROTO_NAME_MAX, "bytes", NULL),
    ROW(PROTO_SECRET_MAX, "bytes", NULL),
    ROW(AUTH_PASSWORD_MIN, "characters", NULL),
    ROW(AUTH_PASSWORD_MAX, "bytes", NULL),
    ROW(PROTO_TEXT_MAX, "bytes", NULL),
    ROW(PROTO_CHAT_TEXT_DEFAULT, "bytes", "[chatd] max_text"),
    ROW(PROTO_TOPIC_MAX, "bytes", NULL),
    ROW(PROTO_OUTQ_DEFAULT, "bytes", "[chatd] max_outq"),
    ROW(PROTO_MSG_RATE_DEFAULT, "per second", "[chatd] msg_rate"),
    ROW(PROTO_MSG_BURST_DEFAULT, "messages", "[chatd] msg_burst"),
    ROW(PROTO_LOGIN_RATE_DEFAULT, "per minute", "[chatd] login_rate"),
    ROW(PROTO_SEARCH_WORDS, "words", NULL),
    ROW(PROTO_SEARCH_BYTES, "bytes", NULL),
    ROW(PROTO_HISTORY_MAX, "messages", NULL),
    ROW(PROTO_HISTORY_DEFAULT, "messages", NULL),
    ROW(PROTO_READ_BUDGET_MS, "ms", NULL),
    ROW(PROTO_HISTORY_RATE_DEFAULT, "per second", "[chatd] history_rate"),
    ROW(PROTO_HISTORY_BURST_DEFAULT, "requests", "[chatd] history_burst"),
    ROW(PROTO_HISTORY_READS, "reads", NULL),
    ROW(PROTO_ROOMS_DEFAULT, "rooms", "[chatd] max_rooms"),
    ROW(PROTO_DMS_DEFAULT, "conversations", "[chatd] max_dms"),
    ROW(PROTO_USER_ROOMS_DEFAULT, "rooms", "[chatd] user_rooms"),
    ROW(PROTO_USER_DMS_DEFAULT, "conversations", "[chatd] user_dms"),
    ROW(PROTO_ROOM_RATE_DEFAULT, "per minute", "[chatd] room_rate"),
    ROW(PROTO_DM_RATE_DEFAULT, "per minute", "[chatd] dm_rate"),
    ROW(PROTO_PRESENCE_RATE, "per second", NULL),
    ROW(PROTO_PRESENCE_BURST, "pushes", NULL),
    ROW(PROTO_LIST_PAGE, "rooms", NULL),
    ROW(PROTO_LIST_SCAN, "rooms", NULL),
    ROW(CONN_HANDSHAKE_SECS, "s", NULL),
    ROW(PROTO_IDLE_DEFAULT, "s", "[chatd] idle_timeout"),
};

const struct proto_limit *proto_limits(size_t *ret_n)
{
	*ret_n = sizeof(limits) / sizeof(limits[0]);
	return limits;
}
