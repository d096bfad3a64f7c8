/* Unit tests for common/front.c over real loopback TLS (unit_tls.h, as
 * test_conn): a table like a daemon's, clients that send HELLO and
 * requests, and the answers front gives before and after dispatch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "auth.h"
#include "clock.h"
#include "conn.h"
#include "front.h"
#include "proto.h"
#include "revoke.h"
#include "svc.h"
#include "unit_tls.h"

#define WAIT_SECS 20
#define MAX_CLIENTS 4

/* A daemon's session: its own field after the shared part. */
struct tsess {
	int marker;
	struct front_session fs;
	int dispatched;
};

/* What one client saw. */
struct cli {
	struct conn *c;
	int connected, closed, welcomes, pongs, errors, oks;
	uint16_t last_code;
	char last_text[PROTO_TEXT_MAX + 1];
	char welcome_user[PROTO_NAME_MAX + 1];
	uint32_t welcome_count;
};

static struct {
	struct event_base *base;
	struct listener *l;
	uint16_t port;
	struct front front;
	bool stopping;
	struct revoke *revoke;
	uint8_t key[AUTH_KEY_LEN];
	char revoke_path[160], lock_path[160];
	unsigned max_sessions;
	int dispatched, kicked, torn_down, started, accepted;
	struct cli cli[MAX_CLIENTS];
} T;

static void t_limits(struct conn_limits *lim, unsigned *ret_max)
{
	lim->max_frame = 65536;
	lim->max_outq = 1 << 20;
	*ret_max = T.max_sessions;
}

static void t_welcome(const struct front_session *fs, void *who, struct msg *w)
{
	(void)fs;
	(void)who;
	w->count = 4242;
}

static void t_started(struct front_session *fs, void *who)
{
	(void)fs;
	(void)who;
	T.started++;
}

static void t_accepted(struct front_session *fs, int fd)
{
	assert_true(fd >= 0);
	FRONT_OWNER(fs, struct tsess)->marker = 7;
	T.accepted++;
}

static void t_dispatch(struct front_session *fs, const struct msg *m)
{
	struct tsess *s = FRONT_OWNER(fs, struct tsess);

	assert_int_equal(s->marker, 7);
	s->dispatched++;
	T.dispatched++;
	front_ok(fs, m->req, 0, (uint32_t)s->dispatched);
}

static void t_kicked(struct front_session *fs)
{
	(void)fs;
	T.kicked++;
}

static void t_teardown_cb(struct front_session *fs)
{
	assert_int_equal(FRONT_OWNER(fs, struct tsess)->marker, 7);
	T.torn_down++;
}

static const uint16_t t_anon[] = {MSG_LOGIN, 0};

/* chatd's shape: anonymous sessions may log in. */
static const struct front_table anon_table = {
    .service = "chat",
    .port_is = "testd, the test service",
    .version = "testd 0.1",
    .size = sizeof(struct tsess),
    .offset = offsetof(struct tsess, fs),
    .anon_types = t_anon,
    .limits = t_limits,
    .welcome = t_welcome,
    .started = t_started,
    .accepted = t_accepted,
    .dispatch = t_dispatch,
    .kicked = t_kicked,
    .teardown = t_teardown_cb,
};

/* filed's shape: a token or nothing. */
static struct front_table token_table;

static void t_accept_cb(int fd, const char *peer, void *arg)
{
	front_accept(arg, fd, peer);
}

static void cli_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct cli *k = arg;

	(void)c;
	switch (m->type) {
	case MSG_WELCOME:
		k->welcomes++;
		assert_int_equal(m->version, PROTO_VERSION);
		assert_string_equal(m->name, "testd 0.1");
		snprintf(k->welcome_user, sizeof(k->welcome_user), "%s", m->user);
		k->welcome_count = m->count;
		break;
	case MSG_PONG:
		k->pongs++;
		break;
	case MSG_OK:
		k->oks++;
		break;
	case MSG_ERROR:
		k->errors++;
		k->last_code = m->code;
		snprintf(k->last_text, sizeof(k->last_text), "%s", m->text);
		break;
	}
}

static int cli_connected_cb(struct conn *c, void *arg)
{
	(void)c;
	((struct cli *)arg)->connected++;
	return 0;
}

static void cli_closed_cb(struct conn *c, int err, void *arg)
{
	struct cli *k = arg;

	(void)err;
	k->closed++;
	conn_free(c);
	k->c = NULL;
}

static const struct conn_cbs cli_cbs = {cli_connected_cb, cli_frame_cb, cli_closed_cb};

static void cli_send(struct cli *k, uint16_t type, uint32_t req)
{
	struct msg m;

	proto_msg_init(&m, type);
	m.req = req;
	if (type == MSG_LOGIN) {
		strcpy(m.user, "alice");
		strcpy(m.secret, "password");
	}
	assert_int_equal(conn_send(k->c, &m), 0);
}

/* Connect and send HELLO (service, version, token "" for none). */
static struct cli *cli_hello(int i, const char *service, uint16_t version, const char *token)
{
	struct cli *k = &T.cli[i];
	char err[256] = "";
	struct msg m;

	memset(k, 0, sizeof(*k));
	k->c = conn_connect(T.base, client_ctx, "127.0.0.1", T.port, NULL, &cli_cbs, k, err,
	                    sizeof(err));
	if (!k->c)
		fail_msg("conn_connect: %s", err);
	assert_true(unit_run_until(T.base, &k->connected, 1, WAIT_SECS));
	proto_msg_init(&m, MSG_HELLO);
	m.version = version;
	strcpy(m.name, service);
	strcpy(m.text, "test_front");
	snprintf(m.secret, sizeof(m.secret), "%s", token);
	assert_int_equal(conn_send(k->c, &m), 0);
	return k;
}

static void t_listen(const struct front_table *t)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char err[256] = "";
	int fd;

	T.front.t = t;
	fd = conn_listen("127.0.0.1", 0, err, sizeof(err));
	if (fd < 0)
		fail_msg("conn_listen: %s", err);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	T.port = ntohs(sin.sin_port);
	T.l = listener_new(T.base, fd, t_accept_cb, &T.front);
	assert_non_null(T.l);
}

static int t_setup(void **state)
{
	(void)state;
	memset(T.cli, 0, sizeof(T.cli));
	T.dispatched = T.kicked = T.torn_down = T.started = T.accepted = 0;
	T.max_sessions = 8;
	T.stopping = false;
	T.base = event_base_new();
	assert_non_null(T.base);
	T.front = (struct front){
	    .base = &T.base,
	    .tls = &server_ctx,
	    .revoke = &T.revoke,
	    .token_key = T.key,
	    .stopping = &T.stopping,
	};
	return 0;
}

static int t_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_CLIENTS; i++)
		conn_free(T.cli[i].c);
	front_free_all(&T.front);
	listener_free(T.l);
	T.l = NULL;
	event_base_free(T.base);
	return 0;
}

/* Anonymous: PING, the allowed type, "log in first", another service's
 * type, a second HELLO; the daemon's part is reached only for the allowed. */
static void test_anon(void **state)
{
	struct cli *k;

	(void)state;
	t_listen(&anon_table);
	k = cli_hello(0, "chat", PROTO_VERSION, "");
	assert_true(unit_run_until(T.base, &k->welcomes, 1, WAIT_SECS));
	assert_string_equal(k->welcome_user, "");
	assert_int_equal(k->welcome_count, 4242);
	assert_int_equal(T.started, 1);
	assert_int_equal(T.accepted, 1);
	assert_int_equal(T.front.sessions->state, FRONT_ANON);

	cli_send(k, MSG_PING, 1);
	assert_true(unit_run_until(T.base, &k->pongs, 1, WAIT_SECS));
	cli_send(k, MSG_SAY, 2);
	assert_true(unit_run_until(T.base, &k->errors, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_AUTH_REQUIRED);
	assert_string_equal(k->last_text, "log in first");
	cli_send(k, MSG_FILE_LIST, 3);
	assert_true(unit_run_until(T.base, &k->errors, 2, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_UNSUPPORTED);
	cli_send(k, MSG_HELLO, 4);
	assert_true(unit_run_until(T.base, &k->errors, 3, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_INVALID);
	assert_string_equal(k->last_text, "HELLO was already received");
	cli_send(k, MSG_LOGIN, 5);
	assert_true(unit_run_until(T.base, &k->oks, 1, WAIT_SECS));
	assert_int_equal(T.dispatched, 1);
	assert_int_equal(T.kicked, 0);

	/* Stopping: the session is told and the loop ends once it is gone. */
	T.stopping = true;
	front_close_all(&T.front);
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_SHUTDOWN);
	assert_true(unit_run_until(T.base, &T.torn_down, 1, WAIT_SECS));
	assert_int_equal(T.kicked, 1);
	assert_int_equal(T.front.nsessions, 0);
	assert_null(T.front.sessions);
}

/* Each HELLO check kicks with its own code and sentence. */
static void test_hello_checks(void **state)
{
	struct cli *k;
	char err[256] = "";
	struct msg m;

	(void)state;
	t_listen(&anon_table);
	k = cli_hello(0, "chat", PROTO_VERSION + 1, "");
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_VERSION);
	assert_string_equal(k->last_text, "protocol version not supported (this server speaks 1)");

	k = cli_hello(1, "file", PROTO_VERSION, "");
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_WRONG_SERVICE);
	assert_string_equal(k->last_text, "this port is testd, the test service");

	/* a first frame other than HELLO */
	k = &T.cli[2];
	k->c = conn_connect(T.base, client_ctx, "127.0.0.1", T.port, NULL, &cli_cbs, k, err,
	                    sizeof(err));
	assert_non_null(k->c);
	assert_true(unit_run_until(T.base, &k->connected, 1, WAIT_SECS));
	proto_msg_init(&m, MSG_PING);
	assert_int_equal(conn_send(k->c, &m), 0);
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_BAD_FRAME);
	assert_true(unit_run_until(T.base, &T.torn_down, 3, WAIT_SECS));
	assert_int_equal(T.dispatched, 0);
	assert_int_equal(T.started, 0);
}

/* Over max_sessions at accept: told "server full" at HELLO, even after
 * the first session left (decided at accept, not at HELLO). */
static void test_server_full(void **state)
{
	struct cli *a, *b;

	(void)state;
	T.max_sessions = 1;
	t_listen(&anon_table);
	a = cli_hello(0, "chat", PROTO_VERSION, "");
	assert_true(unit_run_until(T.base, &a->welcomes, 1, WAIT_SECS));
	b = cli_hello(1, "chat", PROTO_VERSION, "");
	assert_true(unit_run_until(T.base, &b->closed, 1, WAIT_SECS));
	assert_int_equal(b->last_code, ERR_QUOTA);
	assert_string_equal(b->last_text, "server full: too many connections; try again later");
	assert_int_equal(a->closed, 0);
	assert_int_equal(T.front.nsessions, 1);
}

/* A token is needed: none, a forged one, an expired one, a good one; then
 * the revocation sweep ends the good one. */
static void test_token_and_revoke(void **state)
{
	char good[AUTH_TOKEN_MAX], old[AUTH_TOKEN_MAX];
	uint64_t now = clock_wall_ms();
	struct cli *k;

	(void)state;
	token_table = anon_table;
	token_table.need_token = "testd needs a login token";
	token_table.anon_types = NULL;
	t_listen(&token_table);
	assert_int_equal(auth_token_issue(T.key, "alice", now - 1000, now / 1000 + 3600, good), 0);
	assert_int_equal(auth_token_issue(T.key, "alice", now - 5000, now / 1000 - 2, old), 0);

	k = cli_hello(0, "chat", PROTO_VERSION, "");
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_AUTH_REQUIRED);
	assert_string_equal(k->last_text, "testd needs a login token");

	k = cli_hello(1, "chat", PROTO_VERSION, "t1.forged");
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_TOKEN_INVALID);

	k = cli_hello(2, "chat", PROTO_VERSION, old);
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_TOKEN_EXPIRED);

	k = cli_hello(3, "chat", PROTO_VERSION, good);
	assert_true(unit_run_until(T.base, &k->welcomes, 1, WAIT_SECS));
	assert_string_equal(k->welcome_user, "alice");
	assert_int_equal(T.front.sessions->state, FRONT_USER);
	assert_string_equal(front_name(T.front.sessions), "alice@127.0.0.1");
	cli_send(k, MSG_SAY, 1);
	assert_true(unit_run_until(T.base, &k->oks, 1, WAIT_SECS));

	/* Nothing revoked: the sweep leaves it. */
	T.kicked = 0;
	front_revoked(&T.front);
	assert_int_equal(T.kicked, 0);
	assert_int_equal(revoke_add(T.revoke_path, T.lock_path, "alice", now, now), 0);
	front_revoked(&T.front);
	assert_true(unit_run_until(T.base, &k->closed, 1, WAIT_SECS));
	assert_int_equal(k->last_code, ERR_TOKEN_INVALID);
	assert_string_equal(k->last_text, SVC_REVOKED_TEXT);
	assert_int_equal(T.kicked, 1);
	unlink(T.revoke_path);
}

static int group_setup(void **state)
{
	FILE *f;

	(void)state;
	if (unit_tls_setup("front") < 0)
		return -1;
	memset(T.key, 0x5a, sizeof(T.key));
	snprintf(T.lock_path, sizeof(T.lock_path), "%s/token.key", unit_tmpdir);
	snprintf(T.revoke_path, sizeof(T.revoke_path), "%s/" REVOKE_FILE_NAME, unit_tmpdir);
	f = fopen(T.lock_path, "w");
	if (!f)
		return -1;
	fclose(f);
	T.revoke = revoke_new(T.revoke_path);
	return T.revoke ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	revoke_free(T.revoke);
	unlink(T.revoke_path);
	unlink(T.lock_path);
	unit_tls_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_anon, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_hello_checks, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_server_full, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_token_and_revoke, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
