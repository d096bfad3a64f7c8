/* libFuzzer target for videod's HTTP side: the input is the raw bytes a
 * browser sends on one connection, written to a real evhttp server on a
 * loopback socket, with videod's own handlers (http_serve: routes,
 * cookie and Authorization tokens, queries, JSON bodies, then the rooms,
 * SDP offers and event streams behind them). TLS is left out: it ends
 * before these bytes are parsed, and encrypting each input would only
 * slow the fuzzer. chatd is replaced by an answer on the next loop turn
 * (a login gets the seeds' token, a room check the room), so an input
 * can log in, join, offer, watch and leave. The key is the token target's,
 * so the seeds' cookies verify. Every input starts with no rooms. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "fuzz_video_stubs.h"
#include "log.h"
#include "revoke.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifndef FUZZ_WWW
#define FUZZ_WWW "videod/www"
#endif
/* alice's token under the key below, valid until 2027 (seeds_token). */
#define FUZZ_TOKEN                                                                                 \
	"v1.alice.1800000000.1699999999123.0123456789abcdef."                                      \
	"7eeed8c6ed226349ca10703a0be1e7a05cc6d0739dd3ca2bc891c05a0e16b2e2"

static struct evhttp *http;
static uint16_t port;
static int show; /* FUZZ_HTTP_SHOW=1: the answers on stderr (2: and each read), to check seeds */

struct chat_answer {
	chat_done_fn done;
	void *arg;
	int login;
	char name[PROTO_ROOM_MAX + 1];
};

static void chat_answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chat_answer *a = arg;

	(void)fd;
	(void)what;
	a->done(a->arg, 0, a->name, a->login ? FUZZ_TOKEN : "pass");
	free(a);
}

static int chat_answer(const char *name, int login, chat_done_fn done, void *arg)
{
	struct chat_answer *a = calloc(1, sizeof(*a));
	struct timeval now = {0, 0};

	if (!a)
		return -ENOMEM;
	a->done = done;
	a->arg = arg;
	a->login = login;
	str_copy(a->name, sizeof(a->name), name);
	if (event_base_once(videod.base, -1, EV_TIMEOUT, chat_answer_cb, a, &now) < 0) {
		free(a);
		return -ENOMEM;
	}
	return 0;
}

int chat_login(const char *user, const char *password, const char *addr, chat_done_fn done,
               void *arg)
{
	(void)password;
	(void)addr;
	return chat_answer(user, 1, done, arg);
}

int chat_room_check(const char *token, const char *room, chat_done_fn done, void *arg)
{
	(void)token;
	return chat_answer(room, 0, done, arg);
}

void chat_free_all(void)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_http.XXXXXX", cert[64], key[64], rv[64], err[256];
	struct evhttp_bound_socket *b;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	(void)argc;
	(void)argv;
	show = getenv("FUZZ_HTTP_SHOW") ? atoi(getenv("FUZZ_HTTP_SHOW")) : 0;
	if (!show)
		log_set_verbosity(-1);
	if (!mkdtemp(dir))
		abort();
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(rv, sizeof(rv), "%s/" REVOKE_FILE_NAME, dir);
	memset(videod.token_key, 'k', sizeof(videod.token_key));
	videod.cfg.max_participants = 8;
	videod.cfg.max_peers = 16;
	videod.cfg.max_sse = 8;
	videod.cfg.session_timeout = 30;
	videod.cfg.login_rate = 1000000; /* every input comes from 127.0.0.1 */
	str_copy(videod.cfg.www, sizeof(videod.cfg.www), FUZZ_WWW);
	videod.base = event_base_new();
	videod.revoke = revoke_new(rv); /* no file: nothing revoked */
	if (!videod.base || !videod.revoke || vsrtp_init() < 0 ||
	    tls_ensure_cert(cert, key, "localhost", err, sizeof(err)) < 0 ||
	    !(videod.dtls = dtls_ctx_new(cert, key, true, videod.dtls_fp, sizeof(videod.dtls_fp),
	                                 err, sizeof(err)))) {
		fprintf(stderr, "fuzz_http: set-up failed: %s\n", err);
		abort();
	}
	unlink(cert);
	unlink(key);
	rmdir(dir);
	room_init();
	http = evhttp_new(videod.base);
	if (!http || http_serve(http, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_http: %s (FUZZ_WWW=%s)\n", err, FUZZ_WWW);
		abort();
	}
	b = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (!b || getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&sa, &sl) < 0)
		abort();
	port = ntohs(sa.sin_port);
	return 0;
}

struct drive {
	int fd;
	int done; /* the server closed */
	int got;  /* bytes came since the last look */
	struct event *rd;
};

/* The answers are read and dropped; the end of them ends the input. */
static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct drive *d = arg;
	char buf[16384];
	ssize_t n;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		d->got = 1;
		if (show)
			fwrite(buf, 1, (size_t)n, stderr);
	}
	if (show > 1)
		fprintf(stderr, "[read %zd errno %d]\n", n, n < 0 ? errno : 0);
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		d->done = 1;
		event_del(d->rd);
	}
}

/* Turn the loop until the server has nothing left to do with what it
 * has (loopback delivers at once, chatd's answers are due at once): three
 * turns in a row with no answer and no event ready, or the server closed.
 * An event stream stays open: that ends here too. */
static void settle(struct drive *d)
{
	for (int quiet = 0, turns = 0; quiet < 3 && !d->done && turns < 100000; turns++) {
		d->got = 0;
		event_base_loop(videod.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (d->got || event_base_get_num_events(videod.base, EVENT_BASE_COUNT_ACTIVE) > 0)
			quiet = 0;
		else
			quiet++;
	}
}

/* One connection: the input as the request bytes, pipelined requests
 * answered in turn; then the browser closes its side, then leaves. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct drive d = {-1, 0, 0, NULL};
	size_t off = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d.fd < 0 || connect(d.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	while (off < size) {
		ssize_t n = write(d.fd, data + off, size - off);

		if (n <= 0)
			break; /* the server closed early: fine */
		off += (size_t)n;
	}
	fcntl(d.fd, F_SETFL, O_NONBLOCK);
	d.rd = event_new(videod.base, d.fd, EV_READ | EV_PERSIST, client_read_cb, &d);
	if (!d.rd)
		abort();
	event_add(d.rd, NULL);
	settle(&d);
	shutdown(d.fd, SHUT_WR);
	settle(&d);
	event_free(d.rd);
	close(d.fd);
	d.done = 0;
	settle(&d); /* the server sees the close */
	events_free_all();
	room_free_all();
	fuzz_hex_seq = 0;
	return 0;
}
