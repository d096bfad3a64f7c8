/* front: a daemon's client sessions. What chatd, filed and audiod share
 * about a connected client: accept under the session limit, the HELLO
 * checks (version, service, token), WELCOME, send/error/ok, kick, PING,
 * the frames no service takes, teardown and the revocation sweep.
 *
 * A daemon embeds a struct front_session (named fs) in its own session
 * struct and fills one struct front_table: its service, its dispatch, what
 * an anonymous session may send, its WELCOME fields and hooks for its own
 * per-session state. Its session file keeps only its own protocol.
 * Like the rest of common/ it never logs above debug on its own account,
 * except the session lines the daemons used to log themselves (a refused
 * "server full", a slow reader dropped, a login revoked) and its own
 * failures (a connection it cannot set up, a message it cannot encode). */
#ifndef NEXUS_FRONT_H
#define NEXUS_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "proto.h"
#include "tls.h"

/* Connections past max_sessions are still accepted (and told "server full"
 * at HELLO) up to this many more; beyond, closed at once. */
#define FRONT_REFUSE_SLACK 64

struct event_base;
struct revoke;
struct front;

enum front_state {
	FRONT_HELLO,   /* waiting for HELLO */
	FRONT_ANON,    /* no token: only the table's anon_types (and PING) */
	FRONT_USER,    /* logged in: user and issued_ms are set */
	FRONT_CLOSING, /* told why, waiting for the close */
};

struct front_session {
	struct front *front;
	struct conn *conn;
	enum front_state state;
	bool refuse;                   /* over max_sessions at accept: told so at HELLO */
	uint64_t issued_ms;            /* the token's, for the revocation sweep */
	char user[PROTO_NAME_MAX + 1]; /* "" until logged in */
	char addr[64];                 /* the peer, for logs and per-address limits */
	struct front_session *prev, *next;
};

/* The daemon's session that holds fs as its member named fs. */
#define FRONT_OWNER(ptr, type) ((type *)(void *)((char *)(ptr)-offsetof(type, fs)))

struct front_table {
	const char *service; /* HELLO's service name ("chat") */
	const char *port_is; /* ERR_WRONG_SERVICE: "this port is <port_is>" */
	const char *version; /* WELCOME's name ("chatd 0.1") */
	size_t size, offset; /* the daemon's session struct, and fs in it */
	/* NULL: a HELLO without a token starts an anonymous session; else the
	 * sentence of the ERR_AUTH_REQUIRED such a HELLO gets. */
	const char *need_token;
	/* Types an anonymous session may send besides PING, 0-terminated;
	 * others of the service get ERR_AUTH_REQUIRED "log in first". */
	const uint16_t *anon_types;
	/* Limits, read at each accept so that a reload applies (handshake
	 * is CONN_HANDSHAKE_SECS). */
	void (*limits)(struct conn_limits *lim, unsigned *ret_max_sessions);
	/* Optional: check a token instead of svc_token_verify with the front's
	 * key and list. Returns 0 (fs->user and fs->issued_ms set, *ret_who
	 * the daemon's own idea of the user) or an ERR_* code. */
	int (*token)(struct front_session *fs, const char *token, void **ret_who);
	/* Fill the daemon's WELCOME fields (count, size, flags); who as above,
	 * NULL for an anonymous session. */
	void (*welcome)(const struct front_session *fs, void *who, struct msg *w);
	/* Optional: after WELCOME went out (chatd attaches its user here). */
	void (*started)(struct front_session *fs, void *who);
	/* Optional: the connection was accepted (fd is its socket). */
	void (*accepted)(struct front_session *fs, int fd);
	/* A frame of the service from a session past HELLO. PING, a second
	 * HELLO and types the service does not take are answered before. */
	void (*dispatch)(struct front_session *fs, const struct msg *m);
	/* Optional: the session is kicked: stop being a member of anything
	 * (it gets no more traffic; teardown follows at the close). */
	void (*kicked)(struct front_session *fs);
	/* Optional: the session is going away: release the daemon's state. */
	void (*teardown)(struct front_session *fs);
};

struct front {
	const struct front_table *t;
	/* The daemon's own fields (they change after front_init). */
	struct event_base **base;
	SSL_CTX **tls;
	struct revoke **revoke;
	const uint8_t *token_key; /* AUTH_KEY_LEN bytes */
	bool *stopping;
	/* Every session, newest first. */
	struct front_session *sessions;
	unsigned nsessions;
};

/* For svc's accept hook. */
void front_accept(struct front *f, int fd, const char *peer);

/* "user@addr" ("-" for no user); a static buffer. */
const char *front_name(const struct front_session *fs);
/* As conn_send; -EPIPE once kicked; an encoding failure is logged. */
int front_send(struct front_session *fs, const struct msg *m);
int front_send_frame(struct front_session *fs, const uint8_t *frame, size_t len);
/* ERROR (req, code, text); fmt NULL sends the code's standard sentence. */
void front_error(struct front_session *fs, uint32_t req, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void front_ok(struct front_session *fs, uint32_t req, uint64_t id, uint32_t count);
/* Tell the peer why (text NULL: the standard sentence) and close. */
void front_kick(struct front_session *fs, uint16_t code, const char *text);
/* ERR_UNSUPPORTED for a type the service does not take (dispatch's
 * default case). */
void front_unsupported(struct front_session *fs, const struct msg *m);

/* svc's revocation hook: logged-in sessions whose token the list now
 * refuses are kicked with SVC_REVOKED_TEXT. */
void front_revoked(struct front *f);
/* Stopping: every session is told ERR_SHUTDOWN; the loop ends once all
 * are gone (now, when there are none). */
void front_close_all(struct front *f);
/* At exit: free every session without a word. */
void front_free_all(struct front *f);

#endif
