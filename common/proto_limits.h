/* proto_limits: every limit PROTOCOL.md documents, in one table.
 *
 * The wire caps are proto.h's; the other limits are defined here, and the
 * daemons take their defaults (and fixed caps) from these constants, so the
 * table below is the single source. test_limits compares every row of
 * PROTOCOL.md's limits table and field caps with it. */
#ifndef NEXUS_PROTO_LIMITS_H
#define NEXUS_PROTO_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* chatd: defaults of [chatd] keys */
#define PROTO_CHAT_TEXT_DEFAULT 4000   /* max_text: bytes of a message */
#define PROTO_OUTQ_DEFAULT (4u << 20)  /* max_outq (chatd, filed): bytes queued */
#define PROTO_IDLE_DEFAULT 120         /* idle_timeout (chatd, filed): seconds */
#define PROTO_MSG_RATE_DEFAULT 20      /* msg_rate: SAY/EDIT/DELETE per second */
#define PROTO_MSG_BURST_DEFAULT 40     /* msg_burst */
#define PROTO_LOGIN_RATE_DEFAULT 10    /* login_rate: per minute */
#define PROTO_HISTORY_RATE_DEFAULT 10  /* history_rate: per second */
#define PROTO_HISTORY_BURST_DEFAULT 40 /* history_burst */
#define PROTO_ROOMS_DEFAULT 10000      /* max_rooms */
#define PROTO_DMS_DEFAULT 1000000      /* max_dms */
#define PROTO_USER_ROOMS_DEFAULT 50    /* user_rooms */
#define PROTO_USER_DMS_DEFAULT 1000    /* user_dms */
#define PROTO_ROOM_RATE_DEFAULT 10     /* room_rate: per minute */
#define PROTO_DM_RATE_DEFAULT 60       /* dm_rate: per minute */

/* chatd: fixed */
#define PROTO_HISTORY_MAX 500     /* messages per HISTORY or JOIN */
#define PROTO_HISTORY_DEFAULT 50  /* HISTORY with count 0 */
#define PROTO_HISTORY_READS 4     /* one user's HISTORY reads waiting at once */
#define PROTO_SEARCH_BYTES 256    /* longest search text (HISTORY text) */
#define PROTO_SEARCH_WORDS 16     /* words in one search */
#define PROTO_READ_BUDGET_MS 2000 /* one HISTORY's time on the reader thread */
#define PROTO_PRESENCE_RATE 1     /* presence pushes per second per user... */
#define PROTO_PRESENCE_BURST 4    /* ...after a burst of this many */
#define PROTO_LIST_PAGE 100       /* rooms in one ROOM_LIST reply */
#define PROTO_LIST_SCAN 2000      /* rooms one ROOM_LIST request looks at */

/* filed: defaults of [filed] keys */
#define PROTO_FILE_FRAME_DEFAULT (1u << 20) /* max_frame: bytes */
#define PROTO_FILE_CHUNK_KB_DEFAULT 256     /* chunk_kb: KiB of FILE_DATA */
#define PROTO_FILE_SIZE_MB_DEFAULT 16384    /* max_file_mb: MiB of one file */
#define PROTO_FILE_QUOTA_MB_DEFAULT 65536   /* quota_mb: MiB per user */
#define PROTO_FILE_COUNT_DEFAULT 10000      /* max_files: per user */
#define PROTO_FILE_TRANSFERS_DEFAULT 16     /* max_transfers: per user */

/* One limit that PROTOCOL.md documents (section 8, "Limits"). */
struct proto_limit {
	const char *macro;  /* the constant's name: PROTOCOL.md's "In the code" */
	uint64_t value;     /* in unit */
	const char *unit;   /* "bytes", "KiB", "MiB", "s", "ms", "per second", ... */
	const char *config; /* "[chatd] max_text" when configurable, else NULL */
};

/* The limits table and its length. */
const struct proto_limit *proto_limits(size_t *ret_n);

#endif
