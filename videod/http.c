/* http: HTTPS (libevent evhttp over bufferevent_openssl, the shared
 * certificate): the call page from memory and the JSON signalling API.
 * Logins are the chat accounts: a password is checked by chatd, a token
 * (from `nexus call`'s one-time link or a script) by its signature. The
 * token lives in a Secure, HttpOnly, SameSite=Strict cookie; POSTs must be
 * application/json, which a foreign page cannot send without CORS. */
#include "videod.h"
#include "conn.h"
#include "gate.h"
#include "log.h"
#include "portuse.h"
#include "ratelimit.h"
#include "sd.h"
#include "svc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>

#define BODY_MAX (256 * 1024)
#define ANSWER_MAX (256 * 1024)
#define ASSET_MAX (1024 * 1024)
#define CODES_MAX 256
#define CODE_TTL_MS (5 * 60 * 1000)
#define HTTP_TIMEOUT_SECS 120
#define COOKIE "nexus_token"
#define LOGIN_RATE_SLOTS 4096 /* browser addresses tracked for login_rate */

struct asset {
	const char *path, *file, *type;
	char *data;
	size_t len;
};

static struct asset assets[] = {
    {"/", "index.html", "text/html; charset=utf-8", NULL, 0},
    {"/join", "index.html", "text/html; charset=utf-8", NULL, 0},
    {"/index.html", "index.html", "text/html; charset=utf-8", NULL, 0},
    {"/call.js", "call.js", "text/javascript; charset=utf-8", NULL, 0},
    {"/call.css", "call.css", "text/css; charset=utf-8", NULL, 0},
};
#define NASSETS (sizeof(assets) / sizeof(assets[0]))

struct code {
	char code[33];
	char token[AUTH_TOKEN_MAX];
	uint64_t expires_ms;
};

static struct evhttp *http;
static struct code codes[CODES_MAX];

enum pend_kind { PEND_LOGIN, PEND_JOIN, PEND_WATCH };

/* A request waiting for chatd. evhttp keeps req alive until we reply,
 * even when the browser has gone (the reply is then discarded). */
struct pend {
	struct evhttp_request *req;
	enum pend_kind kind;
	char user[PROTO_NAME_MAX + 1];
	char room[PROTO_ROOM_MAX + 1];
	uint64_t issued_ms; /* the joining token's */
};

static void add_common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Content-Security-Policy",
	                  "default-src 'self'; img-src 'self' data:; media-src 'self' blob: "
	                  "mediastream:; frame-ancestors 'none'");
}

static void reply_json(struct evhttp_request *req, int code, json_t *o)
{
	struct evbuffer *b = evbuffer_new();
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!b || !s) {
		free(s);
		if (b)
			evbuffer_free(b);
		evhttp_send_error(req, 500, "Out of memory");
		return;
	}
	evbuffer_add(b, s, strlen(s));
	free(s);
	add_common_headers(req, "application/json");
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int code, const char *text)
{
	reply_json(req, code, json_pack("{s:s}", "error", text));
}

static void reply_ok(struct evhttp_request *req)
{
	reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static int load_asset(struct asset *a, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", videod.cfg.www, a->file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > ASSET_MAX) {
		snprintf(err, errlen, "cannot read the call page %s: %s (set videod.www)", path,
		         fd < 0 ? strerror(errno) : "too large");
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	a->data = xcalloc(1, (size_t)st.st_size + 1);
	a->len = (size_t)st.st_size;
	if (read(fd, a->data, a->len) != (ssize_t)a->len) {
		snprintf(err, errlen, "cannot read %s", path);
		close(fd);
		free(a->data);
		a->data = NULL;
		return -EIO;
	}
	close(fd);
	return 0;
}

static void serve_asset(struct evhttp_request *req, const struct asset *a)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, 500, "Out of memory");
		return;
	}
	evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
	add_common_headers(req, a->type);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* ---- who is asking ---- */

static const char *cookie_token(struct evhttp_request *req, char *buf, size_t size)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
	const char *auth =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (auth && strncmp(auth, "Bearer ", 7) == 0) {
		str_copy(buf, size, auth + 7);
		return buf;
	}
	for (const char *p = c; p && (p = strstr(p, COOKIE "=")); p++) {
		size_t n;

		if (p != c && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += strlen(COOKIE) + 1;
		n = strcspn(p, "; ");
		if (n >= size)
			return NULL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/* 0 with the user, token and its issue time, or a reply has been sent. */
static int auth_req(struct evhttp_request *req, char *user, char *token, uint64_t *issued_ms)
{
	uint64_t exp;

	if (!cookie_token(req, token, AUTH_TOKEN_MAX) ||
	    svc_token_verify(videod.revoke, videod.token_key, token, vd_now_ms() / 1000, user,
	                     PROTO_NAME_MAX + 1, &exp, issued_ms) < 0) {
		reply_error(req, 401, "not logged in (or the login expired)");
		return -EACCES;
	}
	return 0;
}

static void set_cookie(struct evhttp_request *req, const char *token, uint64_t expiry)
{
	char c[AUTH_TOKEN_MAX + 128];
	uint64_t now = vd_now_ms() / 1000;

	snprintf(c, sizeof(c),
	         COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%llu", token,
	         (unsigned long long)(expiry > now ? expiry - now : 0));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", c);
}

static void login_with_token(struct evhttp_request *req, const char *token)
{
	char user[PROTO_NAME_MAX + 1];
	uint64_t exp;
	int r = svc_token_verify(videod.revoke, videod.token_key, token, vd_now_ms() / 1000, user,
	                         sizeof(user), &exp, NULL);

	if (r < 0) {
		reply_error(req, 401,
		            r == -EKEYEXPIRED ? "the login has expired: log in again"
		                              : "that login is not valid");
		return;
	}
	set_cookie(req, token, exp);
	reply_json(req, 200, json_pack("{s:s}", "user", user));
}

static void chat_failed(struct evhttp_request *req, int code, const char *room)
{
	char msg[160];

	switch (code) {
	case ERR_BAD_LOGIN:
		reply_error(req, 401, "wrong user name or password");
		break;
	case ERR_RATE_LIMITED:
		reply_error(req, 429, "too many attempts: wait a minute");
		break;
	case ERR_TOKEN_EXPIRED:
	case ERR_TOKEN_INVALID:
		reply_error(req, 401, "not logged in (or the login expired)");
		break;
	case ERR_FORBIDDEN:
		snprintf(msg, sizeof(msg), "%s is a private room you are not a member of", room);
		reply_error(req, 403, msg);
		break;
	case ERR_NOT_FOUND:
		snprintf(msg, sizeof(msg), "there is no chat room %s: create it first", room);
		reply_error(req, 404, msg);
		break;
	default:
		reply_error(req, 502, "the chat server cannot be reached");
		break;
	}
}

static void joined(struct evhttp_request *req, const char *user, const char *room,
                   uint64_t issued_ms)
{
	struct peer *p;
	char *state;
	int err = 0;
	json_t *o;

	p = room_peer_new(room, user, &err);
	if (!p) {
		reply_error(req, 503, err == -ENOSPC ? "the call is full" : "the server is full");
		return;
	}
	p->issued_ms = issued_ms;
	state = room_state_json(p->room);
	o = json_pack("{s:s, s:s, s:s, s:o}", "id", p->id, "user", user, "room", room, "state",
	              json_loads(state ? state : "{}", 0, NULL));
	free(state);
	reply_json(req, 200, o);
}

/* name: for a login, the user as registered; for a join or a watch, the
 * room as chatd names it, which keys the call ("LOBBY" and "lobby" are one
 * call). */
static void chat_done_cb(void *arg, int code, const char *name, const char *token)
{
	struct pend *pd = arg;
	uint64_t exp;
	char who[PROTO_NAME_MAX + 1];

	if (code == ERR_FORBIDDEN && pd->kind == PEND_LOGIN) {
		/* LOGIN_VIA refused: a setup fault, not the user's */
		log_warn("chatd refused the relayed login of %s: do chatd and videod share the "
		         "token key, and do their clocks agree?",
		         pd->user);
		reply_error(pd->req, 502,
		            "chatd refused videod's login request (token key or clocks)");
	} else if (code != 0) {
		chat_failed(pd->req, code, pd->room);
	} else if (pd->kind == PEND_LOGIN) {
		if (auth_token_verify(videod.token_key, token, vd_now_ms() / 1000, who, sizeof(who),
		                      &exp) < 0) {
			reply_error(pd->req, 502, "chatd and videod do not share the token key");
		} else {
			set_cookie(pd->req, token, exp);
			reply_json(pd->req, 200, json_pack("{s:s}", "user", name));
		}
	} else if (pd->kind == PEND_JOIN) {
		joined(pd->req, pd->user, name, pd->issued_ms);
	} else {
		events_watch(name, pd->req);
	}
	free(pd);
}

static struct pend *pend_new(struct evhttp_request *req, enum pend_kind kind, const char *user,
                             const char *room, uint64_t issued_ms)
{
	struct pend *pd = xcalloc(1, sizeof(*pd));

	pd->req = req;
	pd->kind = kind;
	pd->issued_ms = issued_ms;
	str_copy(pd->user, sizeof(pd->user), user);
	str_copy(pd->room, sizeof(pd->room), room);
	return pd;
}

static void pend_chat(struct evhttp_request *req, enum pend_kind kind, const char *user,
                      const char *token, const char *room, uint64_t issued_ms)
{
	struct pend *pd = pend_new(req, kind, user, room, issued_ms);

	if (chat_room_check(token, room, chat_done_cb, pd) < 0) {
		free(pd);
		reply_error(req, 502, "the chat server cannot be reached");
	}
}

/* Password logins: videod limits them per browser address before it asks
 * chatd, which limits them again by the same address (videod names it in
 * LOGIN_VIA, signed with the token key) and per user. */
static struct ratetable *login_rate;
static uint32_t login_rate_now; /* per minute, login_rate's */

static bool login_allowed(const char *addr)
{
	uint32_t rate = videod.cfg.login_rate;

	if (!login_rate || login_rate_now != rate) { /* first, or reloaded */
		ratetable_free(login_rate);
		login_rate = ratetable_new(LOGIN_RATE_SLOTS, rate / 60.0, rate);
		login_rate_now = rate;
		if (!login_rate)
			fatal("out of memory");
	}
	return ratetable_take(login_rate, addr, vd_now_ms(), 1);
}

static void login_password(struct evhttp_request *req, const char *user, const char *password)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;
	char addr[64] = "";
	struct pend *pd;

	if (sa)
		gate_addr_name(sa, addr, sizeof(addr));
	if (!addr[0] || addr[0] == '?') {
		reply_error(req, 500, "cannot tell the client's address");
		return;
	}
	if (!login_allowed(addr)) {
		log_info("login rate limit hit for %s from %s", user, addr);
		reply_error(req, 429, "too many attempts: wait a minute");
		return;
	}
	if (!auth_name_valid(user)) {
		reply_error(req, 401, "wrong user name or password");
		return;
	}
	pd = pend_new(req, PEND_LOGIN, user, "", 0);
	if (chat_login(user, password, addr, chat_done_cb, pd) < 0) {
		free(pd);
		reply_error(req, 502, "the chat server cannot be reached");
	}
}

/* "@peer" names the direct conversation of two users: "@a:b", sorted
 * byte-wise. Only for the link's room (a join asks chatd, whose name,
 * from the names as registered, keys the call: see chat_done_cb). */
static void room_canonical(const char *user, const char *in, char *out, size_t size)
{
	if (in[0] == '@' && !strchr(in, ':') && auth_name_valid(in + 1))
		snprintf(out, size, "@%s:%s", strcmp(user, in + 1) < 0 ? user : in + 1,
		         strcmp(user, in + 1) < 0 ? in + 1 : user);
	else
		str_copy(out, size, in);
}

/* ---- API handlers ---- */

static char *code_new(const char *token)
{
	struct code *slot = &codes[0];
	uint64_t now = vd_now_ms();

	for (int i = 0; i < CODES_MAX; i++) {
		if (codes[i].expires_ms < now) {
			slot = &codes[i];
			break;
		}
		if (codes[i].expires_ms < slot->expires_ms)
			slot = &codes[i];
	}
	vd_random_hex(slot->code, 32);
	str_copy(slot->token, sizeof(slot->token), token);
	slot->expires_ms = now + CODE_TTL_MS;
	return slot->code;
}

static bool code_take(const char *code, char *token, size_t size)
{
	uint64_t now = vd_now_ms();

	for (int i = 0; i < CODES_MAX; i++) {
		if (codes[i].expires_ms >= now && strlen(code) == 32 &&
		    CRYPTO_memcmp(codes[i].code, code, 32) == 0) {
			str_copy(token, size, codes[i].token);
			memset(&codes[i], 0, sizeof(codes[i]));
			return true;
		}
	}
	return false;
}

static void api_login(struct evhttp_request *req, struct api_req *a)
{
	char token[AUTH_TOKEN_MAX];

	if (a->code[0]) {
		if (!code_take(a->code, token, sizeof(token)))
			reply_error(req, 401,
			            "this link was used already or has expired: run "
			            "nexus call again");
		else
			login_with_token(req, token);
	} else if (a->token[0]) {
		login_with_token(req, a->token);
	} else if (a->user[0] && a->password[0]) {
		login_password(req, a->user, a->password);
	} else {
		reply_error(req, 400, "give user and password, or a code");
	}
}

static struct peer *own_peer(struct evhttp_request *req, const char *user, const char *id)
{
	struct peer *p = id[0] ? room_peer_find(id) : NULL;

	if (!p || strcmp(p->user, user) != 0) {
		reply_error(req, 404, "not in this call (it ended or you left): join again");
		return NULL;
	}
	return p;
}

static void api_offer(struct evhttp_request *req, struct peer *p, struct api_req *a)
{
	char *answer, err[160];

	if (!a->offer.sdp) {
		reply_error(req, 400, "no sdp");
		return;
	}
	answer = malloc(ANSWER_MAX);
	if (!answer) {
		reply_error(req, 503, "out of memory");
		return;
	}
	/* On failure answer was never written: err says why. */
	if (room_peer_offer(p, &a->offer, answer, ANSWER_MAX, err, sizeof(err)) < 0) {
		reply_error(req, 400, err);
	} else {
		reply_json(req, 200, json_pack("{s:s}", "sdp", answer));
		if (log_verbosity() >= 2)
			log_debug("answer to %s:\n%s", p->id, answer);
	}
	free(answer);
}

static void api_state(struct evhttp_request *req, struct peer *p, struct api_req *a)
{
	if (a->muted >= 0)
		p->muted = a->muted;
	if (a->camera_off >= 0)
		p->camera_off = a->camera_off;
	if (a->hand >= 0)
		p->hand = a->hand;
	if (p->muted)
		p->speaking = false;
	if (a->reaction[0]) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "id", p->id, "user", p->user, "reaction",
		                      a->reaction);
		char *s = json_dumps(o, JSON_COMPACT);

		if (s)
			events_room(p->room, "reaction", s);
		free(s);
		json_decref(o);
	}
	room_changed(p->room);
	reply_ok(req);
}

static void api_post(struct evhttp_request *req, const char *path, struct api_req *a)
{
	char user[PROTO_NAME_MAX + 1], token[AUTH_TOKEN_MAX], room[PROTO_ROOM_MAX + 1];
	struct peer *p;
	uint64_t issued = 0;

	if (strcmp(path, "/api/login") == 0) {
		api_login(req, a);
		return;
	}
	if (strcmp(path, "/api/logout") == 0) {
		set_cookie(req, "", 0);
		reply_ok(req);
		return;
	}
	if (auth_req(req, user, token, &issued) < 0)
		return;
	if (strcmp(path, "/api/join") == 0 || strcmp(path, "/api/link") == 0) {
		if (!a->room[0]) {
			reply_error(req, 400, "which room?");
			return;
		}
		room_canonical(user, a->room, room, sizeof(room));
		if (strcmp(path, "/api/link") == 0)
			reply_json(req, 200,
			           json_pack("{s:s, s:s}", "code", code_new(token), "room", room));
		else
			pend_chat(req, PEND_JOIN, user, token, room, issued);
		return;
	}
	p = own_peer(req, user, a->id);
	if (!p)
		return;
	if (strcmp(path, "/api/offer") == 0) {
		api_offer(req, p, a);
	} else if (strcmp(path, "/api/state") == 0) {
		api_state(req, p, a);
	} else if (strcmp(path, "/api/leave") == 0) {
		room_peer_leave(p, "left");
		reply_ok(req);
	} else {
		reply_error(req, 404, "no such API");
	}
}

static char *read_body(struct evhttp_request *req, size_t *ret_len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *s;

	if (n > BODY_MAX)
		return NULL;
	s = xcalloc(1, n + 1);
	evbuffer_copyout(in, s, n);
	*ret_len = n;
	return s;
}

static void handle_post(struct evhttp_request *req, const char *path)
{
	const char *type =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	struct api_req a;
	char err[160], *body;
	size_t len = 0;

	if (!type || strncasecmp(type, "application/json", 16) != 0) {
		reply_error(req, 415, "send application/json");
		return;
	}
	body = read_body(req, &len);
	if (!body) {
		reply_error(req, 413, "body too large");
		return;
	}
	if (api_parse(body, len, &a, err, sizeof(err)) < 0) {
		free(body);
		reply_error(req, 400, err);
		return;
	}
	free(body);
	api_post(req, path, &a);
	api_req_free(&a);
}

static void handle_get_api(struct evhttp_request *req, const char *path, struct evkeyvalq *q)
{
	char user[PROTO_NAME_MAX + 1], token[AUTH_TOKEN_MAX], room[PROTO_ROOM_MAX + 1];
	const char *v;
	struct peer *p;
	uint64_t issued = 0;

	if (auth_req(req, user, token, &issued) < 0)
		return;
	if (strcmp(path, "/api/me") == 0) {
		reply_json(req, 200, json_pack("{s:s}", "user", user));
	} else if (strcmp(path, "/api/events") == 0) {
		v = evhttp_find_header(q, "id");
		p = own_peer(req, user, v ? v : "");
		if (p)
			events_attach(p, req);
	} else if (strcmp(path, "/api/watch") == 0) {
		v = evhttp_find_header(q, "room");
		if (!v || !api_room_valid(v)) {
			reply_error(req, 400, "which room?");
			return;
		}
		room_canonical(user, v, room, sizeof(room));
		pend_chat(req, PEND_WATCH, user, token, room, issued);
	} else if (strcmp(path, "/api/stats") == 0) {
		uint64_t rx, tx, drop;

		media_stats(&rx, &tx, &drop);
		reply_json(req, 200,
		           json_pack("{s:i, s:i, s:i, s:I, s:I, s:I}", "participants",
		                     videod.npeers, "rooms", videod.nrooms, "streams",
		                     events_count(), "rx", (json_int_t)rx, "tx", (json_int_t)tx,
		                     "dropped", (json_int_t)drop));
	} else {
		reply_error(req, 404, "no such API");
	}
}

static void router_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;

	(void)arg;
	if (!path) {
		evhttp_send_error(req, 400, "Bad request");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		handle_post(req, path);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0) {
		TAILQ_INIT(&q);
		if (query && evhttp_parse_query_str(query, &q) < 0) {
			reply_error(req, 400, "bad query");
			return;
		}
		handle_get_api(req, path, &q);
		evhttp_clear_headers(&q);
		return;
	}
	for (size_t i = 0; i < NASSETS; i++) {
		if (strcmp(path, assets[i].path) == 0) {
			serve_asset(req, &assets[i]);
			return;
		}
	}
	evhttp_send_error(req, 404, "Not found");
}

/* An accepted connection, for the limits every daemon keeps (common/gate.h,
 * CONN_HANDSHAKE_SECS). evhttp calls bev_cb before it gives the bufferevent
 * its socket, so the connection waits on a list until admit_cb, which runs
 * once the accept callback has returned. It lives as long as the TLS
 * session: OpenSSL frees it with the SSL (hc_free_cb). */
struct http_conn {
	SSL *ssl;
	struct bufferevent *bev;
	struct event *deadline;
	int fd; /* entered in the gate; -1 before */
	bool waiting;
	TAILQ_ENTRY(http_conn) link;
};

static TAILQ_HEAD(, http_conn) admit_list = TAILQ_HEAD_INITIALIZER(admit_list);
static struct event *admit_ev;
static struct listener *http_listener;
static int hc_index = -1;

/* Closing our side ends the TLS read with end of stream: evhttp then frees
 * the connection (and with it the SSL and the http_conn) as a peer that
 * left. */
static void hc_drop(struct http_conn *hc, int fd)
{
	shutdown(fd, SHUT_RDWR);
	if (hc->bev)
		bufferevent_enable(hc->bev, EV_READ);
}

static void hc_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *hc = arg;

	(void)fd;
	(void)what;
	if (!SSL_is_init_finished(hc->ssl)) {
		log_debug("closing a connection that did not finish TLS within %d s",
		          CONN_HANDSHAKE_SECS);
		hc_drop(hc, hc->fd);
	}
}

static void hc_admit(struct http_conn *hc)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = {CONN_HANDSHAKE_SECS, 0};
	int fd = bufferevent_getfd(hc->bev);
	int r;

	if (fd < 0)
		return;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		hc_drop(hc, fd);
		return;
	}
	r = gate_enter(fd, (struct sockaddr *)&ss);
	if (r < 0) {
		char peer[64];

		gate_addr_name((struct sockaddr *)&ss, peer, sizeof(peer));
		log_debug("connection from %s refused: %s", peer,
		          r == -EUSERS ? "too many connections from that address"
		                       : "out of memory");
		hc_drop(hc, fd);
		return;
	}
	hc->fd = fd;
	evtimer_add(hc->deadline, &tv);
}

static void admit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *hc;

	(void)fd;
	(void)what;
	(void)arg;
	while ((hc = TAILQ_FIRST(&admit_list))) {
		TAILQ_REMOVE(&admit_list, hc, link);
		hc->waiting = false;
		hc_admit(hc);
	}
}

static void hc_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct http_conn *hc = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!hc)
		return;
	if (hc->waiting)
		TAILQ_REMOVE(&admit_list, hc, link);
	gate_leave(hc->fd);
	event_free(hc->deadline);
	free(hc);
}

static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(videod.tls);
	struct http_conn *hc = calloc(1, sizeof(*hc));
	struct bufferevent *bev;

	(void)arg;
	if (!ssl || !hc || !(hc->deadline = evtimer_new(base, hc_deadline_cb, hc)) ||
	    !SSL_set_ex_data(ssl, hc_index, hc)) {
		if (hc && hc->deadline)
			event_free(hc->deadline);
		free(hc);
		SSL_free(ssl);
		return NULL;
	}
	hc->ssl = ssl;
	hc->fd = -1;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL; /* its SSL was freed, and hc with it */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	hc->bev = bev;
	hc->waiting = true;
	TAILQ_INSERT_TAIL(&admit_list, hc, link);
	event_active(admit_ev, EV_TIMEOUT, 0);
	return bev;
}

int http_serve(struct evhttp *h, char *err, size_t errlen)
{
	for (size_t i = 0; i < NASSETS; i++) {
		if (i > 0 && strcmp(assets[i].file, assets[0].file) == 0) {
			assets[i].data = assets[0].data;
			assets[i].len = assets[0].len;
			continue;
		}
		if (load_asset(&assets[i], err, errlen) < 0)
			return -EIO;
	}
	evhttp_set_gencb(h, router_cb, NULL);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_body_size(h, BODY_MAX);
	evhttp_set_max_headers_size(h, 16 * 1024);
	evhttp_set_timeout(h, HTTP_TIMEOUT_SECS);
	return 0;
}

int http_start(char *err, size_t errlen, char *ret_name, size_t namelen)
{
	struct evhttp_bound_socket *bound;
	int fd;

	http = evhttp_new(videod.base);
	admit_ev = event_new(videod.base, -1, 0, admit_cb, NULL);
	if (hc_index < 0)
		hc_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, hc_free_cb);
	if (!http || !admit_ev || hc_index < 0)
		fatal("out of memory");
	evhttp_set_bevcb(http, bev_cb, NULL);
	if (http_serve(http, err, errlen) < 0)
		return -EIO;
	fd = sd_listen_socket();
	if (fd < 0) {
		fd = conn_listen(videod.cfg.common.bind, videod.cfg.port, err, errlen);
		if (fd == -EADDRINUSE)
			portuse_explain(err, errlen, "videod", PORTUSE_TCP, videod.cfg.common.bind,
			                videod.cfg.port, "-p", "port");
		if (fd < 0)
			return fd;
		snprintf(ret_name, namelen, "port %u", videod.cfg.port);
	} else {
		snprintf(ret_name, namelen, "the socket from systemd");
	}
	bound = evhttp_accept_socket_with_handle(http, fd);
	if (!bound) {
		snprintf(err, errlen, "cannot serve HTTPS on %s", ret_name);
		return -EIO;
	}
	http_listener = listener_wrap(videod.base, evhttp_bound_socket_get_listener(bound));
	if (!http_listener)
		fatal("out of memory");
	return 0;
}

void http_stop(void)
{
	listener_free(http_listener);
	http_listener = NULL;
	if (http)
		evhttp_free(http);
	http = NULL;
	if (admit_ev)
		event_free(admit_ev);
	admit_ev = NULL;
	for (size_t i = 0; i < NASSETS; i++) {
		bool shared = false;

		for (size_t k = 0; k < i; k++)
			shared |= assets[k].data == assets[i].data;
		if (!shared)
			free(assets[i].data);
	}
	for (size_t i = 0; i < NASSETS; i++)
		assets[i].data = NULL;
	explicit_bzero(codes, sizeof(codes));
	ratetable_free(login_rate);
	login_rate = NULL;
}

void http_tick(void)
{
	events_ping();
}
