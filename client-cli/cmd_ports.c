/* nexus ports [HOST]: the port check that replaces the old test_ports
 * script. Locally: can each Shadow Nexus port be bound, and if not, which
 * process holds it (from /proc, best effort). On a server: does each port
 * refuse, time out, accept without speaking our protocol, or answer (a TLS
 * handshake and HELLO -> WELCOME for the framed services, a TLS handshake
 * for the HTTPS video port). All probes run at once on one event loop. */
#include "client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"

#define PORTS_CONNECT_SECS 2
#define PORTS_TOTAL_SECS 10
#define PORTS_N 5

enum remote_state {
	R_NONE,    /* not probed */
	R_PENDING, /* probe running */
	R_ANSWERS, /* our protocol (or TLS on the HTTPS port) answered */
	R_OPEN,    /* accepts TCP, but does not speak it */
	R_REFUSED,
	R_TIMEOUT,
	R_UNREACHABLE,
	R_ERROR,
};

static const char *const remote_names[] = {
    [R_NONE] = "-",
    [R_PENDING] = "timeout",
    [R_ANSWERS] = "answers",
    [R_OPEN] = "open",
    [R_REFUSED] = "refused",
    [R_TIMEOUT] = "timeout",
    [R_UNREACHABLE] = "unreachable",
    [R_ERROR] = "error",
};

struct ports;

struct probe {
	struct ports *ctx;
	uint16_t port;
	int udp;
	const char *service; /* shown */
	const char *hello;   /* HELLO service name; NULL: TLS only (HTTPS) */
	int local_err;       /* 0: free; else the bind errno */
	long pid;            /* holder, 0 if unknown */
	char proc[64];
	enum remote_state remote;
	char detail[400];
	int fd;
	struct event *ev;
	struct conn *conn;
	const struct addrinfo *ai; /* address being tried */
	int token_held;            /* a saved login was not sent: not the pinned certificate */
};

struct ports {
	struct settings *s;
	struct event_base *base;
	SSL_CTX *tls;
	const char *host; /* NULL: local checks only */
	/* The saved login for host, sent only to a certificate pinned for it. */
	char token[PROTO_SECRET_MAX + 1];
	char user[PROTO_NAME_MAX + 1];
	struct addrinfo *ai;
	struct probe p[PORTS_N];
	int pending;
};

/* Local: bind like a daemon would (SO_REUSEADDR: TIME_WAIT is no obstacle). */
static int ports_bind_check(uint16_t port, int udp)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0), one = 1,
	    r = 0;

	if (fd < 0)
		return errno;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (!udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		r = errno;
	close(fd);
	return r;
}

/* The socket inode bound to port, from /proc/net/{tcp,tcp6,udp,udp6}. */
static unsigned long ports_inode(uint16_t port, int udp)
{
	static const char *const files[2][2] = {{"/proc/net/tcp", "/proc/net/tcp6"},
	                                        {"/proc/net/udp", "/proc/net/udp6"}};
	char line[512];

	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[udp][i], "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned lport, state;
			unsigned long inode;
			if (sscanf(line, " %*s %*[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu",
			           &lport, &state, &inode) != 3)
				continue;
			/* TCP: the listener (0A); UDP: any bound socket. */
			if (lport == port && inode && (udp || state == 0x0a)) {
				fclose(f);
				return inode;
			}
		}
		fclose(f);
	}
	return 0;
}

static int ports_pid_has(const char *pid, const char *want)
{
	char path[300], link[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char fdpath[600];
		ssize_t n;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Which process holds the socket: scan /proc/PID/fd (others' processes
 * need root; best effort). */
static void ports_holder(struct probe *p)
{
	unsigned long inode = ports_inode(p->port, p->udp);
	char want[48], path[300];
	struct dirent *e;
	DIR *d;

	if (!inode || !(d = opendir("/proc")))
		return;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while ((e = readdir(d))) {
		FILE *f;
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !ports_pid_has(e->d_name, want))
			continue;
		p->pid = strtol(e->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if ((f = fopen(path, "re"))) {
			if (fgets(p->proc, sizeof(p->proc), f))
				p->proc[strcspn(p->proc, "\n")] = '\0';
			fclose(f);
		}
		break;
	}
	closedir(d);
}

static void ports_local(struct ports *ctx)
{
	for (int i = 0; i < PORTS_N; i++) {
		struct probe *p = &ctx->p[i];
		p->local_err = ports_bind_check(p->port, p->udp);
		if (p->local_err == EADDRINUSE)
			ports_holder(p);
	}
}

/* Remote probes */

static void probe_finish(struct probe *p, enum remote_state st, const char *detail)
{
	if (p->remote != R_PENDING)
		return;
	p->remote = st;
	snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
	if (--p->ctx->pending == 0)
		event_base_loopbreak(p->ctx->base);
}

/* The saved login goes only to the certificate pinned for this server:
 * a token shown to an impostor could be replayed. */
static int probe_may_send_token(struct probe *p, struct conn *c)
{
	const struct settings *s = p->ctx->s;
	char fp[TLS_FP_LEN], pinned[TLS_FP_LEN];

	return p->ctx->token[0] && conn_peer_fingerprint(c, fp) == 0 &&
	       tls_pin_check(s->known_path, s->host_port, fp, pinned) == TLS_PIN_MATCH;
}

static int probe_tls_connected(struct conn *c, void *arg)
{
	struct probe *p = arg;
	struct msg m;
	int r;

	if (!p->hello) {
		probe_finish(p, R_ANSWERS, "TLS answers (HTTPS)");
		return 1;
	}
	proto_msg_init(&m, MSG_HELLO);
	m.version = PROTO_VERSION;
	snprintf(m.name, sizeof(m.name), "%s", p->hello);
	snprintf(m.text, sizeof(m.text), "%s", NEXUS_CLIENT_NAME);
	if (probe_may_send_token(p, c))
		snprintf(m.secret, sizeof(m.secret), "%s", p->ctx->token);
	else
		p->token_held = p->ctx->token[0] != '\0';
	r = conn_send(c, &m);
	explicit_bzero(m.secret, sizeof(m.secret));
	return r < 0;
}

static void probe_tls_frame(struct conn *c, const struct msg *m, void *arg)
{
	struct probe *p = arg;
	char clean[PROTO_TEXT_MAX / 64], detail[sizeof(clean) + 140];

	if (m->type == MSG_WELCOME) {
		int n = snprintf(detail, sizeof(detail), "%s answers",
		                 out_clean_str(clean, sizeof(clean), m->name));
		if (m->user[0] && n > 0 && (size_t)n < sizeof(detail))
			snprintf(detail + n, sizeof(detail) - (size_t)n, ", logged in as %s",
			         out_clean_str(clean, sizeof(clean), m->user));
		probe_finish(p, R_ANSWERS, detail);
	} else if (m->type == MSG_ERROR) {
		snprintf(detail, sizeof(detail), "Shadow Nexus, but: %s",
		         out_clean_str(clean, sizeof(clean),
		                       m->text[0] ? m->text : proto_error_text(m->code)));
		settings_login_hint(p->ctx->s, detail, sizeof(detail));
		if (p->token_held)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s",
			         " (the saved login was not sent: the certificate is not the "
			         "pinned one)");
		probe_finish(p, R_ANSWERS, detail);
	} else {
		probe_finish(p, R_OPEN, "open but not Shadow Nexus");
	}
	conn_close(c, 0);
}

static void probe_tls_closed(struct conn *c, int err, void *arg)
{
	struct probe *p = arg;

	(void)err;
	conn_free(c);
	p->conn = NULL;
	probe_finish(p, R_OPEN, "open but not Shadow Nexus");
}

static const struct conn_cbs probe_tls_cbs = {
    .connected = probe_tls_connected,
    .frame = probe_tls_frame,
    .closed = probe_tls_closed,
};

static void probe_tls(struct probe *p)
{
	struct conn_limits lim;
	char err[256];

	conn_limits_default(&lim);
	lim.handshake_secs = PORTS_CONNECT_SECS;
	if (!p->ctx->tls)
		p->ctx->tls = tls_client_ctx(err, sizeof(err));
	if (p->ctx->tls)
		p->conn = conn_connect(p->ctx->base, p->ctx->tls, p->ctx->host, p->port, &lim,
		                       &probe_tls_cbs, p, err, sizeof(err));
	if (!p->conn)
		probe_finish(p, R_OPEN, "open; TLS probe failed");
}

static void probe_connect(struct probe *p);

static void probe_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	close(p->fd);
	p->fd = -1;
	event_free(p->ev);
	p->ev = NULL;
	/* A name may have several addresses (::1 and 127.0.0.1): try them all. */
	if (err != 0 && p->ai->ai_next) {
		p->ai = p->ai->ai_next;
		probe_connect(p);
		return;
	}
	if (err == 0)
		probe_tls(p);
	else if (err == ECONNREFUSED)
		probe_finish(p, R_REFUSED, NULL);
	else if (err == ETIMEDOUT)
		probe_finish(p, R_TIMEOUT, NULL);
	else if (err == EHOSTUNREACH || err == ENETUNREACH)
		probe_finish(p, R_UNREACHABLE, strerror(err));
	else
		probe_finish(p, R_ERROR, strerror(err));
}

static void probe_connect(struct probe *p)
{
	const struct addrinfo *ai = p->ai;
	struct sockaddr_storage ss;
	struct timeval tv = {PORTS_CONNECT_SECS, 0};
	int e;

	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(p->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(p->port);
	p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 ||
	    (connect(p->fd, (struct sockaddr *)&ss, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		e = errno;
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		if (ai->ai_next) {
			p->ai = ai->ai_next;
			probe_connect(p);
			return;
		}
		probe_finish(p, e == ECONNREFUSED ? R_REFUSED : R_ERROR, strerror(e));
		return;
	}
	p->ev = event_new(p->ctx->base, p->fd, EV_WRITE, probe_connect_cb, p);
	if (!p->ev || event_add(p->ev, &tv) < 0)
		probe_finish(p, R_ERROR, "out of memory");
}

static void probe_start(struct probe *p)
{
	p->remote = R_PENDING;
	p->ctx->pending++;
	p->ai = p->ctx->ai;
	probe_connect(p);
}

static void ports_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void ports_remote(struct ports *ctx)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
	struct timeval tv = {PORTS_TOTAL_SECS, 0};
	struct event *deadline;
	int r;

	r = getaddrinfo(ctx->host, NULL, &hints, &ctx->ai);
	if (r != 0) {
		out_err("cannot resolve %s: %s", ctx->host, gai_strerror(r));
		for (int i = 0; i < PORTS_N; i++) {
			if (ctx->p[i].udp)
				continue;
			ctx->p[i].remote = R_ERROR;
			snprintf(ctx->p[i].detail, sizeof(ctx->p[i].detail), "cannot resolve");
		}
		ctx->ai = NULL;
		return;
	}
	ctx->base = event_base_new();
	if (!ctx->base)
		return;
	deadline = evtimer_new(ctx->base, ports_deadline_cb, ctx->base);
	if (deadline)
		evtimer_add(deadline, &tv);
	for (int i = 0; i < PORTS_N; i++)
		if (!ctx->p[i].udp)
			probe_start(&ctx->p[i]);
	if (ctx->pending > 0)
		event_base_dispatch(ctx->base);
	for (int i = 0; i < PORTS_N; i++) {
		struct probe *p = &ctx->p[i];
		if (p->ev)
			event_free(p->ev);
		if (p->fd >= 0)
			close(p->fd);
		conn_free(p->conn);
	}
	if (deadline)
		event_free(deadline);
	event_base_free(ctx->base);
	tls_ctx_free(ctx->tls);
	freeaddrinfo(ctx->ai);
}

/* Output */

static const char *ports_local_text(const struct probe *p, char *buf, size_t len)
{
	if (p->local_err == 0)
		return "free";
	if (p->local_err != EADDRINUSE) {
		snprintf(buf, len, "cannot check: %s", strerror(p->local_err));
		return buf;
	}
	if (p->pid)
		snprintf(buf, len, "in use by %s (pid %ld)", p->proc[0] ? p->proc : "?", p->pid);
	else
		snprintf(buf, len, "in use");
	return buf;
}

static void ports_print_text(const struct ports *ctx)
{
	char local[128], port[16];

	if (ctx->host)
		printf("%-9s %-8s %-32s %s\n", "PORT", "SERVICE", "HERE", ctx->host);
	else
		printf("%-9s %-8s %s\n", "PORT", "SERVICE", "HERE");
	for (int i = 0; i < PORTS_N; i++) {
		const struct probe *p = &ctx->p[i];
		snprintf(port, sizeof(port), "%u/%s", p->port, p->udp ? "udp" : "tcp");
		printf(ctx->host ? "%-9s %-8s %-32s" : "%-9s %-8s %s", port, p->service,
		       ports_local_text(p, local, sizeof(local)));
		if (ctx->host) {
			if (p->remote == R_ANSWERS)
				printf(" %s", p->detail);
			else if (p->remote == R_OPEN)
				printf(" %s",
				       p->detail[0] ? p->detail : "open but not Shadow Nexus");
			else if (p->detail[0] && p->remote != R_REFUSED)
				printf(" %s: %s", remote_names[p->remote], p->detail);
			else
				printf(" %s", remote_names[p->remote]);
		}
		fputc('\n', stdout);
	}
	out_flush();
}

static void ports_print_json(const struct ports *ctx)
{
	struct jw w;

	jw_begin(&w, stdout);
	if (ctx->host)
		jw_str(&w, "host", ctx->host);
	else
		jw_null(&w, "host");
	jw_open(&w, "ports", '[');
	for (int i = 0; i < PORTS_N; i++) {
		const struct probe *p = &ctx->p[i];
		jw_open(&w, NULL, '{');
		jw_u64(&w, "port", p->port);
		jw_str(&w, "proto", p->udp ? "udp" : "tcp");
		jw_str(&w, "service", p->service);
		jw_str(&w, "local",
		       p->local_err == 0            ? "free"
		       : p->local_err == EADDRINUSE ? "in_use"
		                                    : "error");
		if (p->pid) {
			jw_str(&w, "process", p->proc);
			jw_u64(&w, "pid", (uint64_t)p->pid);
		} else {
			jw_null(&w, "process");
			jw_null(&w, "pid");
		}
		if (ctx->host && !p->udp) {
			jw_str(&w, "remote", remote_names[p->remote]);
			jw_str(&w, "detail", p->detail);
		} else {
			jw_null(&w, "remote");
			jw_null(&w, "detail");
		}
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_end(&w);
}

/* The saved login for the server probed, if any and not expired. */
static void ports_login(struct ports *ctx)
{
	if (!settings_login_valid(ctx->s, ctx->user, ctx->token))
		ctx->token[0] = ctx->user[0] = '\0';
}

int cmd_ports(struct settings *s, int argc, char **argv)
{
	struct ports ctx = {.s = s};
	const struct probe init[PORTS_N] = {
	    {.port = s->port, .service = "chat", .hello = PROTO_SERVICE_CHAT},
	    {.port = PROTO_PORT_FILE, .service = "files", .hello = PROTO_SERVICE_FILE},
	    {.port = PROTO_PORT_AUDIO, .service = "voice", .hello = PROTO_SERVICE_AUDIO},
	    {.port = PROTO_PORT_VIDEO, .service = "video"},
	    {.port = PROTO_PORT_VIDEO, .service = "video", .udp = 1},
	};
	int first, r;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first > 1)
		return cli_usage("ports", "unexpected argument '%s'", argv[first + 1]);
	memcpy(ctx.p, init, sizeof(init));
	for (int i = 0; i < PORTS_N; i++) {
		ctx.p[i].ctx = &ctx;
		ctx.p[i].fd = -1;
	}
	/* HOST may be a saved server's name; its chat port and login apply. */
	if (first < argc && (r = settings_use_server(s, argv[first])) != 0)
		return r;
	if (first < argc || s->server_set)
		ctx.host = s->server;
	ctx.p[0].port = s->port;
	ports_local(&ctx);
	if (ctx.host)
		ports_login(&ctx);
	if (ctx.host)
		ports_remote(&ctx);
	explicit_bzero(ctx.token, sizeof(ctx.token));
	if (s->json)
		ports_print_json(&ctx);
	else
		ports_print_text(&ctx);
	return 0;
}
