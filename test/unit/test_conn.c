/* Unit tests for common/conn.c over real loopback TLS: one event base holds
 * a listener, the accepted server conns and the client conns. Misbehaving
 * peers (a raw TLS client, a client that never reads) run in forked
 * children that use OpenSSL directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "proto.h"
#include "tls.h"
#include "unit_tls.h"

#define N_SAY 1000
#define MAX_SERVER_CONNS 8
#define WAIT_SECS 20

enum server_mode {
	SERVER_ECHO,          /* SAY -> OK, PING -> PONG */
	SERVER_FREE_IN_FRAME, /* conn_free(c) on the first frame */
	SERVER_PUMP,          /* once connected, send until conn_send says -ENOBUFS */
	SERVER_DRAIN,         /* once connected, stream DRAIN_TOTAL bytes paced by the drain cb */
};

#define DRAIN_TOTAL (8u * 1024u * 1024u)
#define DRAIN_HIGH (256u * 1024u)
#define DRAIN_LOW (64u * 1024u)

struct t {
	struct event_base *base;
	struct event *tick;
	struct listener *l;
	uint16_t port;
	struct conn_limits lim;
	enum server_mode mode;

	struct conn *srv[MAX_SERVER_CONNS];
	int accepted, srv_connected, srv_closed, srv_err, srv_frames, srv_says;
	uint32_t srv_next_req;

	struct conn *cli;
	const struct conn_limits *cli_lim; /* NULL: the defaults */
	int cli_connected, cli_closed, cli_err, cli_oks, cli_pongs;
	uint32_t cli_next_req;

	struct event *pump;
	struct conn *pumped;
	int enobufs;
	size_t max_outq_seen, outq_after_enobufs, pumped_bytes;

	int drain_calls, cli_chats, drain_failed;
	size_t drained_sent;
};

/* ---- helpers ---- */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until *counter reaches want or secs pass. */
static int run_until(struct t *t, const int *counter, int want, int secs)
{
	return unit_run_until(t->base, counter, want, secs);
}

static void srv_forget(struct t *t, struct conn *c)
{
	for (int i = 0; i < MAX_SERVER_CONNS; i++)
		if (t->srv[i] == c)
			t->srv[i] = NULL;
}

static void srv_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct t *t = arg;
	struct msg reply;

	t->srv_frames++;
	if (t->mode == SERVER_FREE_IN_FRAME) {
		srv_forget(t, c);
		conn_free(c);
		/* The conn is gone: touching it now would be a use after free. */
		return;
	}
	if (m->type == MSG_SAY) {
		/* Requests arrive in order and intact. */
		assert_int_equal(m->req, t->srv_next_req + 1);
		t->srv_next_req = m->req;
		assert_string_equal(m->room, "lobby");
		assert_string_equal(m->text, "h\xc3\xa9llo \xe2\x9c\x93");
		t->srv_says++;
		proto_msg_init(&reply, MSG_OK);
		reply.req = m->req;
		reply.count = (uint32_t)t->srv_says;
		assert_int_equal(conn_send(c, &reply), 0);
	} else if (m->type == MSG_PING) {
		proto_msg_init(&reply, MSG_PONG);
		reply.req = m->req;
		reply.ts = m->ts;
		assert_int_equal(conn_send(c, &reply), 0);
	}
}

/* Every millisecond, a few 16 KiB CHAT frames, until the queue refuses one:
 * the kernel's socket buffers fill first, then the output queue. */
static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct msg big;
	struct t *t = arg;
	size_t len;

	(void)fd;
	(void)what;
	proto_msg_init(&big, MSG_CHAT);
	strcpy(big.room, "lobby");
	strcpy(big.user, "alice");
	memset(big.text, 'x', PROTO_TEXT_MAX);
	big.text[PROTO_TEXT_MAX] = '\0';
	assert_int_equal(proto_encoded_len(&big, &len), 0);
	for (int i = 0; i < 4; i++) {
		int r = conn_send(t->pumped, &big);
		size_t q = conn_outq(t->pumped);

		if (r == -ENOBUFS) {
			t->enobufs = 1;
			t->outq_after_enobufs = q;
			event_del(t->pump);
			return;
		}
		assert_int_equal(r, 0);
		t->pumped_bytes += len;
		if (q > t->max_outq_seen)
			t->max_outq_seen = q;
	}
}

/* Fill the queue up to DRAIN_HIGH with 16 KiB CHAT frames, never past it. */
static void drain_fill(struct conn *c, void *arg)
{
	static struct msg big;
	struct t *t = arg;
	size_t len;

	t->drain_calls++;
	proto_msg_init(&big, MSG_CHAT);
	memset(big.text, 'y', PROTO_TEXT_MAX);
	big.text[PROTO_TEXT_MAX] = '\0';
	assert_int_equal(proto_encoded_len(&big, &len), 0);
	while (t->drained_sent < DRAIN_TOTAL && conn_outq(c) < DRAIN_HIGH) {
		if (conn_send(c, &big) != 0) {
			t->drain_failed = 1;
			return;
		}
		t->drained_sent += len;
		if (conn_outq(c) > t->max_outq_seen)
			t->max_outq_seen = conn_outq(c);
	}
}

static int srv_connected_cb(struct conn *c, void *arg)
{
	struct t *t = arg;
	struct timeval tv = {0, 1000};

	t->srv_connected++;
	if (t->mode == SERVER_DRAIN) {
		conn_set_drain_cb(c, drain_fill, t, DRAIN_LOW);
		drain_fill(c, t);
		t->drain_calls = 0;
	}
	if (t->mode == SERVER_PUMP) {
		t->pumped = c;
		event_add(t->pump, &tv);
	}
	return 0;
}

static void srv_closed_cb(struct conn *c, int err, void *arg)
{
	struct t *t = arg;

	t->srv_closed++;
	t->srv_err = err;
	if (c == t->pumped) {
		event_del(t->pump);
		t->pumped = NULL;
	}
	srv_forget(t, c);
	conn_free(c);
}

static const struct conn_cbs srv_cbs = {srv_connected_cb, srv_frame_cb, srv_closed_cb};

static void accept_cb(int fd, const char *peer, void *arg)
{
	struct t *t = arg;
	struct conn *c;

	assert_string_equal(peer, "127.0.0.1");
	c = conn_accept(t->base, server_ctx, fd, &t->lim, &srv_cbs, t);
	assert_non_null(c);
	t->accepted++;
	for (int i = 0; i < MAX_SERVER_CONNS; i++) {
		if (!t->srv[i]) {
			t->srv[i] = c;
			return;
		}
	}
	fail_msg("too many server conns");
}

static int cli_connected_cb(struct conn *c, void *arg)
{
	struct t *t = arg;
	char fp[TLS_FP_LEN], want[TLS_FP_LEN];

	t->cli_connected++;
	assert_int_equal(conn_peer_fingerprint(c, fp), 0);
	assert_int_equal(tls_file_fingerprint(cert_path, want), 0);
	assert_string_equal(fp, want);
	return 0;
}

static void cli_frame_cb(struct conn *c, const struct msg *m, void *arg)
{
	struct t *t = arg;

	(void)c;
	if (m->type == MSG_OK) {
		assert_int_equal(m->req, t->cli_next_req + 1);
		t->cli_next_req = m->req;
		t->cli_oks++;
	} else if (m->type == MSG_PONG) {
		t->cli_pongs++;
	} else if (m->type == MSG_CHAT) {
		t->cli_chats++;
	}
}

static void cli_closed_cb(struct conn *c, int err, void *arg)
{
	struct t *t = arg;

	t->cli_closed++;
	t->cli_err = err;
	if (c == t->cli)
		t->cli = NULL;
	conn_free(c);
}

static const struct conn_cbs cli_cbs = {cli_connected_cb, cli_frame_cb, cli_closed_cb};

static struct t *t_new(void)
{
	struct t *t = calloc(1, sizeof(*t));
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct timeval tv = {0, 20000};
	char err[256] = "";
	int fd;

	assert_non_null(t);
	t->mode = SERVER_ECHO;
	conn_limits_default(&t->lim);
	t->base = event_base_new();
	assert_non_null(t->base);
	t->tick = event_new(t->base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(t->tick, &tv);
	t->pump = event_new(t->base, -1, EV_PERSIST, pump_cb, t);
	fd = conn_listen("127.0.0.1", 0, err, sizeof(err));
	if (fd < 0)
		fail_msg("conn_listen: %s", err);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	t->port = ntohs(sin.sin_port);
	assert_true(t->port > 0);
	t->l = listener_new(t->base, fd, accept_cb, t);
	assert_non_null(t->l);
	return t;
}

static void t_free(struct t *t)
{
	for (int i = 0; i < MAX_SERVER_CONNS; i++)
		conn_free(t->srv[i]);
	conn_free(t->cli);
	listener_free(t->l);
	event_free(t->pump);
	event_free(t->tick);
	event_base_free(t->base);
	free(t);
}

static struct conn *t_connect(struct t *t)
{
	char err[256] = "";
	struct conn *c;

	c = conn_connect(t->base, client_ctx, "127.0.0.1", t->port, t->cli_lim, &cli_cbs, t, err,
	                 sizeof(err));
	if (!c)
		fail_msg("conn_connect: %s", err);
	t->cli = c;
	return c;
}

/* A new client can still connect and get an answer. */
static void t_check_alive(struct t *t)
{
	struct msg ping;
	int pongs = t->cli_pongs + 1;

	t_connect(t);
	proto_msg_init(&ping, MSG_PING);
	ping.req = 1;
	ping.ts = 99;
	assert_int_equal(conn_send(t->cli, &ping), 0);
	assert_true(run_until(t, &t->cli_pongs, pongs, WAIT_SECS));
	conn_free(t->cli);
	t->cli = NULL;
}

/* A blocking TCP connection to the listener, or -1. */
static int loopback_connect(uint16_t port)
{
	struct sockaddr_in sin = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- forked raw TLS clients (blocking OpenSSL, no libevent, no asserts) ---- */

static SSL *child_tls_connect(uint16_t port)
{
	int fd = loopback_connect(port);
	SSL *ssl;

	if (fd < 0)
		return NULL;
	ssl = SSL_new(client_ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		return NULL;
	return ssl;
}

/* What the raw client sends, and the ERROR code it expects back. */
static const uint8_t *raw_bytes;
static size_t raw_len;
static uint16_t raw_code;

/* Exit codes: 0 ERROR{raw_code} among the frames received before EOF; 3 no TLS; 4 write
 * failed; 5 EOF without that ERROR. */
static int child_raw(uint16_t port, int arg)
{
	uint8_t buf[4096];
	size_t have = 0, used;
	struct msg m;
	SSL *ssl = child_tls_connect(port);
	int n;

	(void)arg;
	if (!ssl)
		return 3;
	if (SSL_write(ssl, raw_bytes, (int)raw_len) != (int)raw_len)
		return 4;
	while (have < sizeof(buf) && (n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have))) > 0)
		have += (size_t)n;
	for (size_t off = 0;
	     proto_decode_frame(buf + off, have - off, PROTO_FRAME_MAX_DEFAULT, &m, &used) == 0;
	     off += used)
		if (m.type == MSG_ERROR && m.code == raw_code && m.req == 0)
			return 0;
	return 5;
}

/* The parent's end of the pipe, which the child must close to see EOF. */
static int never_reads_wr = -1;

/* Handshake, then never read; exit when the parent closes the pipe. */
static int child_never_reads(uint16_t port, int pipe_rd)
{
	SSL *ssl;
	char c;

	close(never_reads_wr);
	ssl = child_tls_connect(port);
	if (!ssl)
		return 3;
	while (read(pipe_rd, &c, 1) > 0)
		;
	return 0;
}

static pid_t fork_child(int (*fn)(uint16_t, int), uint16_t port, int arg)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(30); /* never outlive a stuck test */
		_exit(fn(port, arg));
	}
	return pid;
}

static int child_wait(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* ---- tests ---- */

static void say_1000(struct t *t)
{
	char name[64];
	struct msg m;

	t_connect(t);
	assert_true(run_until(t, &t->cli_connected, 1, WAIT_SECS));
	proto_msg_init(&m, MSG_SAY);
	strcpy(m.room, "lobby");
	strcpy(m.text, "h\xc3\xa9llo \xe2\x9c\x93");
	for (int i = 0; i < N_SAY; i++) {
		m.req = (uint32_t)i + 1;
		assert_int_equal(conn_send(t->cli, &m), 0);
	}
	assert_true(run_until(t, &t->cli_oks, N_SAY, WAIT_SECS));
	assert_int_equal(t->srv_says, N_SAY);
	assert_int_equal(t->srv_connected, 1);
	assert_int_equal(t->accepted, 1);
	snprintf(name, sizeof(name), "127.0.0.1:%u", t->port);
	assert_string_equal(conn_peer_name(t->cli), name);
	/* A clean close from the client is err 0 on both sides. */
	conn_close(t->cli, 0);
	assert_true(run_until(t, &t->cli_closed, 1, WAIT_SECS));
	assert_int_equal(t->cli_err, 0);
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_err, 0);
}

static void test_say_1000(void **state)
{
	say_1000(*state);
}

/* Both ends take frames over 64 KiB (as filed and the file client do), so
 * both read ahead: the client's SAYs, queued before the handshake ends,
 * arrive with its last handshake record, and a burst's last records sit
 * in OpenSSL's buffer with nothing more on the socket. Every frame must
 * still be read, without waiting for more traffic. */
static void bulk_limits(struct t *t)
{
	t->lim.max_frame = 1024u * 1024u;
	t->cli_lim = &t->lim;
}

static void test_bulk_say_1000(void **state)
{
	struct t *t = *state;

	bulk_limits(t);
	say_1000(t);
}

static void test_oversized_header(void **state)
{
	/* A 100 MB payload announced; nothing follows. */
	static const uint8_t hdr[PROTO_HEADER_LEN] = {0x05, 0xf5, 0xe1, 0x00, 0x01, 0x0b, 0, 0};
	struct t *t = *state;
	pid_t pid;
	int rc;

	raw_bytes = hdr;
	raw_len = sizeof(hdr);
	raw_code = ERR_TOO_LARGE;
	pid = fork_child(child_raw, t->port, 0);
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_err, -ERR_TOO_LARGE);
	assert_int_equal(t->srv_frames, 0);
	rc = child_wait(pid);
	if (rc != 0)
		fail_msg("raw client: exit %d (5: no ERROR{ERR_TOO_LARGE} before the close)", rc);
	t_check_alive(t);
}

static void test_slow_reader(void **state)
{
	struct t *t = *state;
	int fds[2];
	pid_t pid;

	t->mode = SERVER_PUMP;
	t->lim.max_outq = 256 * 1024;
	assert_int_equal(pipe(fds), 0);
	never_reads_wr = fds[1];
	pid = fork_child(child_never_reads, t->port, fds[0]);
	close(fds[0]);
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_err, -ERR_SLOW_READER);
	assert_true(t->enobufs);
	/* The kernel buffers took some, then the queue filled up to its limit. */
	assert_true(t->pumped_bytes > t->lim.max_outq);
	assert_true(t->max_outq_seen <= t->lim.max_outq);
	/* Past the limit by at most the final ERROR frame. */
	assert_true(t->outq_after_enobufs <= t->lim.max_outq + PROTO_HEADER_LEN + 128);
	close(fds[1]);
	assert_int_equal(child_wait(pid), 0);
	t->mode = SERVER_ECHO;
	t_check_alive(t);
}

/* A slow reader being dropped waits up to 10 s for progress; a close on
 * purpose meanwhile (a daemon stopping) cuts that to the usual 2 s. */
static void test_slow_reader_stop(void **state)
{
	struct t *t = *state;
	int fds[2];
	pid_t pid;

	t->mode = SERVER_PUMP;
	/* more than the kernel's buffers take (a 4 MiB send buffer at most):
	 * what is queued cannot drain while the child does not read */
	t->lim.max_outq = 16 * 1024 * 1024;
	assert_int_equal(pipe(fds), 0);
	never_reads_wr = fds[1];
	pid = fork_child(child_never_reads, t->port, fds[0]);
	close(fds[0]);
	assert_true(run_until(t, &t->enobufs, 1, WAIT_SECS));
	conn_close(t->pumped, -ERR_SHUTDOWN);
	assert_true(run_until(t, &t->srv_closed, 1, 5));
	assert_int_equal(t->srv_err, -ERR_SLOW_READER);
	close(fds[1]);
	assert_int_equal(child_wait(pid), 0);
	t->mode = SERVER_ECHO;
	t_check_alive(t);
}

/* The drain callback paces a stream: the queue stays under its mark plus
 * one frame, the callback keeps coming back, and every frame arrives. */
static void drain_paces_stream(struct t *t)
{
	size_t len;
	struct msg big;
	int want;

	proto_msg_init(&big, MSG_CHAT);
	memset(big.text, 'y', PROTO_TEXT_MAX);
	big.text[PROTO_TEXT_MAX] = '\0';
	assert_int_equal(proto_encoded_len(&big, &len), 0);
	want = (int)((DRAIN_TOTAL + len - 1) / len);
	t->mode = SERVER_DRAIN;
	t_connect(t);
	assert_true(run_until(t, &t->cli_chats, want, WAIT_SECS));
	assert_int_equal(t->cli_chats, want);
	assert_false(t->drain_failed);
	assert_true(t->drain_calls > 10);
	assert_true(t->max_outq_seen <= DRAIN_HIGH + len);
	assert_true(t->drained_sent >= DRAIN_TOTAL);
}

static void test_drain_paces_stream(void **state)
{
	drain_paces_stream(*state);
}

static void test_bulk_drain_stream(void **state)
{
	struct t *t = *state;

	bulk_limits(t);
	drain_paces_stream(t);
}

static void test_garbage_not_tls(void **state)
{
	static const char junk[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n\x00\x01\x02\xff\xfe";
	struct t *t = *state;
	int fd;

	fd = loopback_connect(t->port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_true(t->srv_err < 0);
	assert_int_equal(t->srv_connected, 0);
	assert_int_equal(t->srv_frames, 0);
	close(fd);
	t_check_alive(t);
}

/* A TCP client that never starts TLS is dropped after handshake_secs. */
static void test_handshake_timeout(void **state)
{
	struct t *t = *state;
	uint64_t start = now_ms();
	int fd;

	t->lim.handshake_secs = 1;
	fd = loopback_connect(t->port);
	assert_true(fd >= 0);
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_err, -ETIMEDOUT);
	assert_true(now_ms() - start >= 900);
	close(fd);
}

static void test_free_in_frame_cb(void **state)
{
	struct t *t = *state;
	struct msg m;

	t->mode = SERVER_FREE_IN_FRAME;
	t_connect(t);
	assert_true(run_until(t, &t->cli_connected, 1, WAIT_SECS));
	/* Several frames in one burst: the server frees its conn in the middle
	 * of the read loop, with more frames buffered behind the first. */
	proto_msg_init(&m, MSG_SAY);
	strcpy(m.room, "lobby");
	strcpy(m.text, "bye");
	for (int i = 0; i < 50; i++) {
		m.req = (uint32_t)i + 1;
		assert_int_equal(conn_send(t->cli, &m), 0);
	}
	assert_true(run_until(t, &t->cli_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_frames, 1);
	/* conn_free is silent: no closed callback. */
	assert_int_equal(t->srv_closed, 0);
}

/* A frame the codec refuses (ESC in a room name) closes with its error. */
static void test_bad_frame(void **state)
{
	/* PING{1, 0} then LEAVE{req=1, room="\x1b"} */
	static const uint8_t bytes[] = {0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	                                0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                0x00, 0x00, 0x00, 0x09, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00,
	                                0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x1b};
	struct t *t = *state;
	pid_t pid;
	int rc;

	raw_bytes = bytes;
	raw_len = sizeof(bytes);
	raw_code = ERR_BAD_FRAME;
	pid = fork_child(child_raw, t->port, 0);
	assert_true(run_until(t, &t->srv_closed, 1, WAIT_SECS));
	assert_int_equal(t->srv_err, -ERR_BAD_FRAME);
	assert_int_equal(t->srv_frames, 1); /* the PING before it was delivered */
	rc = child_wait(pid);
	if (rc != 0)
		fail_msg("raw client: exit %d (5: no ERROR{ERR_BAD_FRAME} before the close)", rc);
	t_check_alive(t);
}

static int t_setup(void **state)
{
	*state = t_new();
	return 0;
}

/* Also runs after a failed test: no leak reports on top of the failure. */
static int t_teardown(void **state)
{
	t_free(*state);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return unit_tls_setup("conn");
}

static int group_teardown(void **state)
{
	(void)state;
	unit_tls_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_say_1000, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_header, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_slow_reader, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_slow_reader_stop, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_drain_paces_stream, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_bulk_say_1000, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_bulk_drain_stream, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_not_tls, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_timeout, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_free_in_frame_cb, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_frame, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
