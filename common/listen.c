/* Listening sockets and the accept loop (declared in conn.h). */
#include "conn.h"
#include "gate.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#define LISTEN_BACKLOG 512
#define LISTEN_RETRY_MS 200
/* Waiting peers refused per pause: the whole backlog, so none is left to be
 * accepted only when the deadline frees descriptors (it would then get a
 * fresh handshake deadline: idle for twice CONN_HANDSHAKE_SECS in all), and
 * no more, so that a flood cannot hold the loop. */
#define LISTEN_SHED_MAX LISTEN_BACKLOG

struct listener {
	struct evconnlistener *evl;
	struct event *retry;
	listener_cb cb; /* NULL: evhttp's listener, wrapped (listener_wrap) */
	void *arg;
};

/* One spare descriptor per process: out of descriptors, it is closed so
 * that the peers waiting in the backlog can be accepted and closed (told at
 * once, instead of left waiting), then opened again. */
static int listen_reserve = -1;

static void listen_reserve_open(void)
{
	if (listen_reserve < 0)
		listen_reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int listen_bind(const struct sockaddr *sa, socklen_t sl, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, sl) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int conn_listen(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char service[8];
	int fd, r;

	if (!host || !*host || strcmp(host, "::") == 0 || strcmp(host, "*") == 0) {
		struct sockaddr_in6 s6 = {0};
		struct sockaddr_in s4 = {0};

		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(port);
		fd = listen_bind((struct sockaddr *)&s6, sizeof(s6), AF_INET6);
		if (fd == -EAFNOSUPPORT) {
			s4.sin_family = AF_INET;
			s4.sin_port = htons(port);
			fd = listen_bind((struct sockaddr *)&s4, sizeof(s4), AF_INET);
		}
		host = "::";
	} else {
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(service, sizeof(service), "%u", port);
		r = getaddrinfo(host, service, &hints, &res);
		if (r != 0) {
			snprintf(err, errlen, "cannot resolve listen address %s: %s", host,
			         gai_strerror(r));
			return -EINVAL;
		}
		fd = listen_bind(res->ai_addr, res->ai_addrlen, res->ai_family);
		freeaddrinfo(res);
	}
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s port %u: %s", host, port, strerror(-fd));
	return fd;
}

static void listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
                               int sl, void *arg)
{
	struct listener *l = arg;
	char peer[64] = "?";
	char host[INET6_ADDRSTRLEN] = "?";
	int r;

	(void)evl;
	(void)sl;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], host, sizeof(host));
		else
			inet_ntop(AF_INET6, a, host, sizeof(host));
	}
	snprintf(peer, sizeof(peer), "%s", host);
	r = gate_enter(fd, sa);
	if (r < 0) {
		/* Logged per address: repeats from one flood collapse in log.c. */
		log_debug("connection from %s refused: %s", peer,
		          r == -EUSERS ? "too many connections from that address"
		                       : "out of memory");
		close(fd);
		return;
	}
	l->cb(fd, peer, l->arg);
}

static void listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->evl);
}

/* Out of descriptors (or another accept error): refuse the peers waiting
 * in the backlog with the reserve descriptor, then pause accepting briefly
 * instead of spinning on a socket that stays readable. Peers that arrive
 * during the pause are refused at its end if descriptors are still short,
 * so none waits longer than a pause before its handshake deadline starts. */
static void listener_pause(struct listener *l, struct evconnlistener *evl)
{
	struct timeval tv = {0, LISTEN_RETRY_MS * 1000};
	int e = EVUTIL_SOCKET_ERROR();

	if (e == EMFILE || e == ENFILE) {
		int lfd = evconnlistener_get_fd(evl);

		if (listen_reserve >= 0)
			close(listen_reserve);
		listen_reserve = -1;
		for (int i = 0; i < LISTEN_SHED_MAX; i++) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				break;
			close(fd);
		}
		listen_reserve_open();
	}
	/* The daemon's operator must hear of this; log.c collapses repeats. */
	log_warn("cannot accept connections (%s): pausing for %d ms", strerror(e), LISTEN_RETRY_MS);
	evconnlistener_disable(evl);
	evtimer_add(l->retry, &tv);
}

static void listener_error_cb(struct evconnlistener *evl, void *arg)
{
	listener_pause(arg, evl);
}

/* A wrapped listener's callbacks get its owner's argument (evhttp's), so
 * ours is found by the evconnlistener. */
#define LISTEN_WRAPPED_MAX 4
static struct listener *listen_wrapped[LISTEN_WRAPPED_MAX];

static void listener_wrapped_error_cb(struct evconnlistener *evl, void *arg)
{
	(void)arg;
	for (int i = 0; i < LISTEN_WRAPPED_MAX; i++)
		if (listen_wrapped[i] && listen_wrapped[i]->evl == evl) {
			listener_pause(listen_wrapped[i], evl);
			return;
		}
}

static struct listener *listener_alloc(struct event_base *base)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	listen_reserve_open();
	l->retry = evtimer_new(base, listener_retry_cb, l);
	if (!l->retry) {
		free(l);
		return NULL;
	}
	return l;
}

struct listener *listener_wrap(struct event_base *base, struct evconnlistener *evl)
{
	struct listener *l = listener_alloc(base);
	int i = 0;

	while (i < LISTEN_WRAPPED_MAX && listen_wrapped[i])
		i++;
	if (!l || i == LISTEN_WRAPPED_MAX) {
		listener_free(l);
		return NULL;
	}
	l->evl = evl;
	listen_wrapped[i] = l;
	evconnlistener_set_error_cb(evl, listener_wrapped_error_cb);
	return l;
}

void listener_refuse(int fd)
{
	gate_leave(fd);
	close(fd);
}

struct listener *listener_new(struct event_base *base, int fd, listener_cb cb, void *arg)
{
	struct listener *l = listener_alloc(base);

	if (!l)
		return NULL;
	l->cb = cb;
	l->arg = arg;
	evutil_make_socket_nonblocking(fd);
	l->evl = evconnlistener_new(base, listener_accept_cb, l,
	                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l->evl) {
		listener_free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	return l;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	if (l->evl && l->cb)
		evconnlistener_free(l->evl);
	for (int i = 0; i < LISTEN_WRAPPED_MAX; i++)
		if (listen_wrapped[i] == l)
			listen_wrapped[i] = NULL;
	if (l->retry)
		event_free(l->retry);
	free(l);
}
