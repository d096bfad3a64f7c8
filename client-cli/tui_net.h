/* tui_net.h: what tui_net.c (the full-screen client's connection and its
 * requests) shares with tui_netcmd.c (the input line's commands). */
#ifndef NEXUS_TUI_NET_H
#define NEXUS_TUI_NET_H

#include "tui.h"

#define TUI_SEARCH_MAX 30 /* /search: messages shown */

enum tui_req_kind {
	REQ_SIMPLE,
	REQ_JOIN,
	REQ_CATCHUP,
	REQ_OLDER,
	REQ_MEMBERS,
	REQ_WHO,
	REQ_SEARCH,
	REQ_SAY,
	REQ_CREATE,
	REQ_LEAVE,
	REQ_PRESENCE,
	REQ_PING,
};

/* What a request was for. Rooms are named, not pointed at: one may be
 * left while its request is in flight. */
struct tui_req {
	struct tui *t;
	enum tui_req_kind kind;
	char room[PROTO_ROOM_MAX + 1];
	uint64_t since;
	uint64_t top; /* REQ_JOIN: the room's newest id (ROOM_INFO) */
	int has_top;
	unsigned n;
	int select; /* open the room when the join succeeds */
	int flag;
	char note[256]; /* said on OK (REQ_SIMPLE) */
};

/* The room shown, or NULL. */
struct tui_room *tui_cur(struct tui *t);
/* Send m as a request of kind for room (may be NULL); the request's state
 * in *ret when ret is not NULL. 0, or negative after a note saying why. */
int tui_send(struct tui *t, struct msg *m, enum tui_req_kind kind, const char *room,
             struct tui_req **ret);
/* A room as typed ("#x", "@peer") to the name the server uses. */
void tui_room_name(struct tui *t, const char *in, char out[PROTO_ROOM_MAX + 1]);

#endif
