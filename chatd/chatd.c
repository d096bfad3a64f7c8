/* chatd: the Shadow Nexus chat daemon. main, flags, configuration, start-up,
 * signals, and the offline account commands (adduser, passwd). */
#include "chatd.h"
#include "conn.h"
#include "ratelimit.h"
#include "log.h"
#include "revoke.h"
#include "sd.h"
#include "svc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define CHATD_STATUS_SECS 10

struct chatd chatd = {
    .front =
        {
            .t = &session_table,
            .base = &chatd.base,
            .tls = &chatd.tls,
            .revoke = &chatd.revoke,
            .token_key = chatd.token_key,
            .stopping = &chatd.stopping,
        },
};

/* Defined with its hooks above main. */
static struct svc svc;
static uint32_t name_seed;

#define KEY(name, kind, field, min, max, help)                                                     \
	{                                                                                          \
		"chatd", name, kind, offsetof(struct chatd_config, field), 0, min, max, help       \
	}

static const struct config_key chatd_keys[] = {
    CONFIG_COMMON_KEYS(struct chatd_config, common),
    KEY("port", CONFIG_PORT, port, 0, 0, "TCP port to listen on"),
    KEY("register", CONFIG_BOOL, reg, 0, 0, "open registration"),
    KEY("max_text", CONFIG_U32, max_text, 1, PROTO_TEXT_MAX, "longest message in bytes"),
    KEY("history_on_join", CONFIG_U32, history_on_join, 0, CHATD_HISTORY_MAX,
        "messages replayed on join"),
    KEY("msg_rate", CONFIG_U32, msg_rate, 1, 1000000, "messages per second per user"),
    KEY("msg_burst", CONFIG_U32, msg_burst, 1, 1000000, "burst above msg_rate"),
    KEY("history_rate", CONFIG_U32, history_rate, 1, 1000000,
        "history requests and searches per second per user"),
    KEY("history_burst", CONFIG_U32, history_burst, 1, 1000000, "burst above history_rate"),
    KEY("login_rate", CONFIG_U32, login_rate, 1, 100000, "login attempts per minute"),
    KEY("max_outq", CONFIG_U32, max_outq, 65536, 1u << 30, "bytes queued per client"),
    KEY("max_frame", CONFIG_U32, max_frame, 1024, PROTO_FRAME_MAX_HARD, "largest frame"),
    KEY("max_rooms", CONFIG_U32, max_rooms, 1, 10000000,
        "rooms on the server (direct conversations not counted)"),
    KEY("max_dms", CONFIG_U32, max_dms, 1, 100000000, "direct conversations on the server"),
    KEY("user_rooms", CONFIG_U32, user_rooms, 0, 10000000, "rooms one user may create"),
    KEY("user_dms", CONFIG_U32, user_dms, 0, 10000000, "direct conversations one user may start"),
    KEY("room_rate", CONFIG_U32, room_rate, 1, 1000000, "rooms one user may create per minute"),
    KEY("dm_rate", CONFIG_U32, dm_rate, 1, 1000000,
        "direct conversations one user may start per minute"),
    KEY("max_members", CONFIG_U32, max_members, 2, 10000000, "members per room"),
    KEY("idle_timeout", CONFIG_U32, idle_timeout, 0, 86400, "seconds before idle drop"),
    KEY("max_sessions", CONFIG_U32, max_sessions, 1, 1000000, "connections at once"),
    KEY("power_safe", CONFIG_BOOL, power_safe, 0, 0, "fsync every commit (survive power loss)"),
    CONFIG_KEYS_END,
};

uint64_t chatd_now_s(void)
{
	return clock_wall_ms() / 1000;
}

/* ---- name tables ---- */

static size_t name_hash(const struct name_table *t, const char *s)
{
	uint32_t h = 2166136261u ^ name_seed;

	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 16777619u;
	}
	return h & (t->nbuckets - 1);
}

struct name_link *name_table_find(const struct name_table *t, const char *name)
{
	if (!t->nbuckets)
		return NULL;
	for (struct name_link *l = t->buckets[name_hash(t, name)]; l; l = l->next)
		if (strcasecmp(l->name, name) == 0)
			return l;
	return NULL;
}

static void name_table_grow(struct name_table *t)
{
	size_t old = t->nbuckets, n = old ? old * 2 : 64;
	struct name_link **ob = t->buckets;

	t->buckets = xcalloc(n, sizeof(*t->buckets));
	t->nbuckets = n;
	for (size_t i = 0; i < old; i++) {
		struct name_link *l = ob[i], *next;

		for (; l; l = next) {
			size_t h = name_hash(t, l->name);

			next = l->next;
			l->next = t->buckets[h];
			t->buckets[h] = l;
		}
	}
	free(ob);
}

void name_table_add(struct name_table *t, struct name_link *l)
{
	size_t h;

	if (t->count >= t->nbuckets)
		name_table_grow(t);
	h = name_hash(t, l->name);
	l->next = t->buckets[h];
	t->buckets[h] = l;
	t->count++;
}

void name_table_remove(struct name_table *t, struct name_link *l)
{
	struct name_link **p;

	if (!t->nbuckets)
		return;
	for (p = &t->buckets[name_hash(t, l->name)]; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			t->count--;
			return;
		}
	}
}

void name_table_free(struct name_table *t)
{
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* ---- flags and configuration ---- */

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f, "usage: chatd [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           "       chatd [-f FILE] [-s STATE_DIR] adduser NAME [--admin]\n"
	           "       chatd [-f FILE] [-s STATE_DIR] passwd NAME\n"
	           SVC_USAGE_FLAGS
	           "  -p PORT   TCP port to listen on (default " PROTO_STR(PROTO_PORT_CHAT) ")\n"
	           SVC_USAGE_STATE
	           "  -o S.K=V  override one configuration setting, e.g. -o chatd.register=no\n"
	           "adduser and passwd read the password from the first line of stdin.\n");
}
/* clang-format on */

static void chatd_config_defaults(struct chatd_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = PROTO_PORT_CHAT;
	c->reg = 1;
	c->max_text = PROTO_CHAT_TEXT_DEFAULT;
	c->history_on_join = 50;
	c->msg_rate = PROTO_MSG_RATE_DEFAULT;
	c->msg_burst = PROTO_MSG_BURST_DEFAULT;
	c->history_rate = PROTO_HISTORY_RATE_DEFAULT;
	c->history_burst = PROTO_HISTORY_BURST_DEFAULT;
	c->login_rate = PROTO_LOGIN_RATE_DEFAULT;
	c->max_outq = PROTO_OUTQ_DEFAULT;
	c->max_frame = PROTO_FRAME_MAX_DEFAULT;
	c->max_rooms = PROTO_ROOMS_DEFAULT;
	c->max_dms = PROTO_DMS_DEFAULT;
	c->user_rooms = PROTO_USER_ROOMS_DEFAULT;
	c->user_dms = PROTO_USER_DMS_DEFAULT;
	c->room_rate = PROTO_ROOM_RATE_DEFAULT;
	c->dm_rate = PROTO_DM_RATE_DEFAULT;
	c->max_members = 10000;
	c->idle_timeout = PROTO_IDLE_DEFAULT;
	c->max_sessions = 10000;
	c->power_safe = 1;
}

/* Defaults, then the file, then -o, -s and -p, in that order. */
static int chatd_config_load(void *cfg, char *err, size_t errlen)
{
	struct chatd_config *c = cfg;
	int r;

	chatd_config_defaults(c);
	r = svc_config_load(&svc, chatd_keys, c, &c->common, err, errlen);
	if (r == 0 && svc.opts.port)
		r = svc_config_port(&svc, chatd_keys, c, "port", "-p ", svc.opts.port, err, errlen);
	if (r < 0)
		return r;
	config_common_finish(&c->common);
	/* A SAY frame carries the text plus about 90 bytes of other fields. */
	if ((uint64_t)c->max_text + 128 > c->max_frame) {
		snprintf(err, errlen,
		         "%s: max_text (%u) does not fit in max_frame (%u): max_frame must be at "
		         "least max_text + 128",
		         svc.opts.config, c->max_text, c->max_frame);
		return -EINVAL;
	}
	return svc_config_paths(&c->common, err, errlen);
}

/* ---- start-up ---- */

static int chatd_db_open(const struct chatd_config *c, struct db **ret, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 16];

	int r;

	snprintf(path, sizeof(path), "%s/%s", c->common.state_dir, CHATD_DB_NAME);
	r = db_open(path, ret, err, errlen);
	if (r == 0)
		db_set_power_safe(*ret, c->power_safe);
	return r;
}

static void chatd_rates_apply(void)
{
	const struct chatd_config *c = &chatd.cfg;

	ratetable_free(chatd.msg_rate);
	ratetable_free(chatd.history_rate);
	ratetable_free(chatd.login_user);
	ratetable_free(chatd.login_addr);
	ratetable_free(chatd.room_rate);
	ratetable_free(chatd.dm_rate);
	chatd.msg_rate = ratetable_new(CHATD_RATE_SLOTS, c->msg_rate, c->msg_burst);
	chatd.history_rate = ratetable_new(CHATD_RATE_SLOTS, c->history_rate, c->history_burst);
	chatd.login_user = ratetable_new(CHATD_RATE_SLOTS, c->login_rate / 60.0, c->login_rate);
	chatd.login_addr = ratetable_new(CHATD_RATE_SLOTS, c->login_rate / 60.0, c->login_rate);
	chatd.room_rate = ratetable_new(CHATD_RATE_SLOTS, c->room_rate / 60.0, c->room_rate);
	chatd.dm_rate = ratetable_new(CHATD_RATE_SLOTS, c->dm_rate / 60.0, c->dm_rate);
}

/* State folder, certificate, token key and database; a sentence on error. */
static int chatd_setup_state(char *fp, char *err, size_t errlen)
{
	struct config_common *cc = &chatd.cfg.common;
	int r;

	r = svc_state_dir(cc->state_dir, true, err, errlen);
	if (r == 0)
		r = svc_tls_load(cc, &chatd.tls, fp, err, errlen);
	if (r == 0)
		r = svc_token_key(cc, chatd.token_key, err, errlen);
	if (r == 0)
		r = svc_revoke_open(cc, &chatd.revoke, err, errlen);
	if (r < 0)
		return r;
	r = chatd_db_open(&chatd.cfg, &chatd.db, err, errlen);
	if (r == 0 && (account_load() < 0 || room_load() < 0)) {
		snprintf(err, errlen, "cannot load the database in %s", cc->state_dir);
		r = -EIO;
	}
	return r;
}

/* ---- running: status, reload, stop ---- */

static void chatd_status(void)
{
	static unsigned last_sessions = UINT_MAX, last_online = UINT_MAX;

	if (chatd.front.nsessions == last_sessions && chatd.nonline == last_online)
		return;
	last_sessions = chatd.front.nsessions;
	last_online = chatd.nonline;
	sd_notify_status("serving on %s: %u connections, %u users online", svc.listen_name,
	                 chatd.front.nsessions, chatd.nonline);
}

static void chatd_reload_warn(const struct chatd_config *n)
{
	const struct chatd_config *o = &chatd.cfg;

	if (n->port != o->port || strcmp(n->common.bind, o->common.bind) != 0)
		log_warn("reload: a new port or bind address takes effect after a restart");
	if (strcmp(n->common.state_dir, o->common.state_dir) != 0 ||
	    strcmp(n->common.cert_file, o->common.cert_file) != 0 ||
	    strcmp(n->common.key_file, o->common.key_file) != 0 ||
	    strcmp(n->common.token_key, o->common.token_key) != 0)
		log_warn("reload: new state, certificate or key paths take effect after a "
		         "restart");
}

/* SIGHUP: re-read the file; apply what can change while running. */
static int chatd_reload(char *err, size_t errlen)
{
	struct chatd_config n;
	bool rates;
	int r = chatd_config_load(&n, err, errlen);

	if (r < 0)
		return r;
	rates = n.msg_rate != chatd.cfg.msg_rate || n.msg_burst != chatd.cfg.msg_burst ||
	        n.history_rate != chatd.cfg.history_rate ||
	        n.history_burst != chatd.cfg.history_burst ||
	        n.login_rate != chatd.cfg.login_rate || n.room_rate != chatd.cfg.room_rate ||
	        n.dm_rate != chatd.cfg.dm_rate;
	chatd_reload_warn(&n);
	/* Paths and the listening socket stay as they were started. */
	n.common = chatd.cfg.common;
	n.port = chatd.cfg.port;
	chatd.cfg = n;
	if (rates)
		chatd_rates_apply();
	db_set_power_safe(chatd.db, n.power_safe);
	log_set_verbosity(svc.opts.verbosity);
	log_info("configuration reloaded (registration %s)", n.reg ? "open" : "closed");
	return 0;
}

/* The revocation list changed (chatd passwd, or a reset here): sessions
 * whose token it refuses end. */
static void chatd_revoked(void)
{
	front_revoked(&chatd.front);
}

static void chatd_accept(int fd, const char *peer)
{
	front_accept(&chatd.front, fd, peer);
}

/* SIGTERM, SIGINT: stop accepting, commit, tell the clients, leave once
 * they are gone or after a few seconds. A second signal leaves at once. */
static void chatd_stop(int sig)
{
	if (!svc_stop_begin(&svc, sig))
		return;
	message_batch_flush();
	front_close_all(&chatd.front);
}

static void chatd_cleanup(void)
{
	front_free_all(&chatd.front);
	message_batch_flush();
	message_batch_free();
	svc_cleanup(&svc);
	listener_free(chatd.listener);
	presence_free();
	room_free_all();
	account_free_all();
	db_close(chatd.db);
	tls_ctx_free(chatd.tls);
	revoke_free(chatd.revoke);
	ratetable_free(chatd.msg_rate);
	ratetable_free(chatd.history_rate);
	ratetable_free(chatd.login_user);
	ratetable_free(chatd.login_addr);
	ratetable_free(chatd.room_rate);
	ratetable_free(chatd.dm_rate);
	if (chatd.base)
		event_base_free(chatd.base);
}

/* epoll's change list folds the add-then-remove of a session's write event
 * within one loop turn into nothing: fan-out otherwise costs two epoll_ctl
 * calls per session per turn. */
static struct event_base *chatd_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

static int chatd_serve(void)
{
	char err[SVC_ERR_MAX], fp[TLS_FP_LEN] = "";
	int r;

	svc_raise_nofile();
	r = chatd_setup_state(fp, err, sizeof(err));
	if (r == 0) {
		chatd_rates_apply();
		chatd.base = chatd_base_new();
		if (!chatd.base)
			fatal("cannot create the event loop");
		r = svc_listen(&svc, chatd.cfg.common.bind, chatd.cfg.port, err, sizeof(err));
	}
	if (r == 0 && svc_events(&svc) < 0)
		fatal("out of memory");
	if (r < 0) {
		log_err("%s", err);
		chatd_cleanup();
		return 1;
	}
	log_info("listening on %s (TLS fingerprint %s)", svc.listen_name, fp);
	svc_run(&svc);
	chatd_cleanup();
	log_info("stopped");
	return 0;
}

/* ---- offline account commands ---- */

/* One line from stdin, without echo when it is a terminal. */
static int chatd_read_password(char *out, size_t outlen)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *ok;
	size_t n;

	if (tty) {
		fprintf(stderr, "Password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(out, (int)outlen, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return -ENODATA;
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (!feof(stdin))
		return -E2BIG;
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

static int offline_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int offline_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "chatd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

static int offline_password(char *hash)
{
	char pw[AUTH_PASSWORD_MAX + 2];
	int r = chatd_read_password(pw, sizeof(pw));

	if (r == -ENODATA)
		return offline_fail("no password on standard input");
	if (r < 0 || strlen(pw) > AUTH_PASSWORD_MAX)
		return offline_fail("password too long (at most %d bytes)", AUTH_PASSWORD_MAX);
	if (account_password_chars(pw) < AUTH_PASSWORD_MIN)
		return offline_fail("password must be at least %d characters", AUTH_PASSWORD_MIN);
	if (!proto_utf8_valid(pw, strlen(pw), 0))
		return offline_fail("password must be UTF-8 text without control characters");
	r = auth_password_hash(pw, hash);
	explicit_bzero(pw, sizeof(pw));
	if (r < 0)
		return offline_fail("cannot hash the password: %s", strerror(-r));
	return 0;
}

/* The user's tokens end with the old password, on every daemon, whether
 * or not chatd runs. Without a token key no token was ever issued. The
 * stamp is a millisecond ahead: a login that checked the old password may
 * still be issuing a token in this very millisecond, and a login with the
 * new one takes far longer than that. */
static int offline_revoke(const char *name)
{
	const char *key = chatd.cfg.common.token_key;
	char path[CONFIG_PATH_MAX + 32];
	uint64_t now = clock_wall_ms();
	int r = revoke_path(key, path, sizeof(path));

	if (r == 0)
		r = revoke_add(path, key, name, now + 1, now);
	if (r == -ENOENT && access(key, F_OK) < 0)
		return 0;
	if (r < 0)
		return offline_fail("cannot revoke the tokens of %s in %s: %s; nothing changed",
		                    name, path,
		                    r == -EBADMSG ? "the list is damaged" : strerror(-r));
	return 0;
}

static int offline_apply(struct db *db, bool add, const char *name, bool admin, const char *hash)
{
	char stored[PROTO_NAME_MAX + 1];
	int64_t id;
	int r;

	if (add) {
		r = db_user_add(db, name, hash, admin, &id);
		if (r == -EEXIST && db_user_get(db, name, NULL, stored, NULL, NULL) == 0 &&
		    strcmp(stored, name) != 0)
			return offline_fail("user %s already exists (as %s: names are the same "
			                    "whatever their case)",
			                    name, stored);
		if (r == -EEXIST)
			return offline_fail("user %s already exists", name);
		if (r < 0)
			return offline_fail("cannot add user %s: %s", name, strerror(-r));
		printf("chatd: added user %s%s\n", name, admin ? " (admin)" : "");
		return 0;
	}
	/* "passwd ALICE" changes alice's: her tokens carry the name as stored */
	r = db_user_get(db, name, &id, stored, NULL, NULL);
	if (r == -ENOENT)
		return offline_fail("no such user %s", name);
	if (r == 0 && offline_revoke(stored) < 0)
		return 1;
	if (r == 0)
		r = db_user_set_hash(db, id, hash);
	if (r < 0)
		return offline_fail("cannot change the password of %s: %s", name, strerror(-r));
	printf("chatd: changed the password of %s\n", stored);
	return 0;
}

/* chatd adduser NAME [--admin] | chatd passwd NAME: straight to the
 * database, so they work whether or not the daemon runs. */
static int chatd_offline(int argc, char **argv)
{
	bool add = strcmp(argv[0], "adduser") == 0, admin = false;
	const char *name = NULL;
	char err[SVC_ERR_MAX], hash[AUTH_HASH_MAX];
	struct db *db;
	int r;

	if (!add && strcmp(argv[0], "passwd") != 0)
		return offline_fail("unknown command '%s' (try: chatd -h)", argv[0]) + 1;
	for (int i = 1; i < argc; i++) {
		if (add && strcmp(argv[i], "--admin") == 0)
			admin = true;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return offline_fail("unexpected argument '%s' (try: chatd -h)", argv[i]) +
			       1;
	}
	if (!name)
		return offline_fail("%s needs a user name (try: chatd -h)", argv[0]) + 1;
	if (!auth_name_valid(name))
		return offline_fail("invalid user name '%s': use 1 to 32 letters, digits, '_' "
		                    "or '-', not starting with '-'",
		                    name);
	if (offline_password(hash))
		return 1;
	if (svc_state_dir(chatd.cfg.common.state_dir, true, err, sizeof(err)) < 0 ||
	    chatd_db_open(&chatd.cfg, &db, err, sizeof(err)) < 0)
		return offline_fail("%s", err);
	r = offline_apply(db, add, name, admin, hash);
	db_close(db);
	return r;
}

static struct svc svc = {
    .name = "chatd",
    /* "+": stop at the first operand, so "adduser NAME --admin" stays ours. */
    .optstring = "+df:nvhp:s:o:",
    .operands = true,
    .usage = usage,
    .load = chatd_config_load,
    .cfg = &chatd.cfg,
    .reload = chatd_reload,
    .stop = chatd_stop,
    .status = chatd_status,
    .status_every = {CHATD_STATUS_SECS, 0},
    .accept = chatd_accept,
    .revoke = &chatd.revoke,
    .revoked = chatd_revoked,
    .base = &chatd.base,
    .listener = &chatd.listener,
    .stopping = &chatd.stopping,
};

int main(int argc, char **argv)
{
	int status = 0, first = svc_start(&svc, argc, argv, &status);

	if (first < 0)
		return status;
	if (getrandom(&name_seed, sizeof(name_seed), GRND_NONBLOCK) != sizeof(name_seed))
		name_seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	if (first < argc) {
		status = chatd_offline(argc - first, argv + first);
		svc_cleanup(&svc);
		return status;
	}
	return chatd_serve();
}
