/* svc: the start-up skeleton the daemons share; see svc.h. */
#include "svc.h"
#include "fsutil.h"
#include "conn.h"
#include "gate.h"
#include "log.h"
#include "portuse.h"
#include "revoke.h"
#include "sd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

/* ---- flags and configuration ---- */

bool svc_port_ok(const char *s)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v >= 1 && v <= 65535;
}

static void svc_add_override(struct svc_opts *o, const char *arg)
{
	const char **n = realloc(o->overrides, (o->noverrides + 1) * sizeof(*n));

	if (!n)
		fatal("out of memory");
	o->overrides = n;
	o->overrides[o->noverrides++] = arg;
}

/* -1 with the exit status in *ret_status when the flags end the program. */
static int svc_flag(struct svc *s, int ch, const char *arg, int *ret_status)
{
	struct svc_opts *o = &s->opts;

	switch (ch) {
	case 'd':
		o->foreground = true;
		return 0;
	case 'f':
		o->config = arg;
		o->config_given = true;
		return 0;
	case 'n':
		o->check = true;
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'h':
		s->usage(stdout);
		*ret_status = 0;
		return -1;
	case 'p':
		if (!svc_port_ok(arg)) {
			fprintf(stderr, "%s: -p %s: not a port (1 to 65535)\n", s->name, arg);
			*ret_status = 2;
			return -1;
		}
		o->port = arg;
		return 0;
	case 's':
		o->state_dir = arg;
		return 0;
	case 'o':
		svc_add_override(o, arg);
		return 0;
	}
	if (ch != '?' && s->flag) {
		*ret_status = s->flag(ch, arg);
		return *ret_status ? -1 : 0;
	}
	s->usage(stderr);
	*ret_status = 2;
	return -1;
}

/* The index of the first operand, or -1 (exit status in *ret_status). */
static int svc_parse_flags(struct svc *s, int argc, char **argv, int *ret_status)
{
	int ch;

	s->opts.config = SVC_CONFIG_DEFAULT;
	while ((ch = getopt(argc, argv, s->optstring)) != -1)
		if (svc_flag(s, ch, optarg, ret_status) < 0)
			return -1;
	if (!s->operands && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", s->name, argv[optind]);
		s->usage(stderr);
		*ret_status = 2;
		return -1;
	}
	return optind;
}

int svc_start(struct svc *s, int argc, char **argv, int *ret_status)
{
	const struct svc_opts *o = &s->opts;
	char err[SVC_ERR_MAX];
	int first = svc_parse_flags(s, argc, argv, ret_status);

	if (first < 0)
		return -1;
	log_init(s->name, o->foreground || o->check || first < argc, o->verbosity);
	signal(SIGPIPE, SIG_IGN);
	/* Tighten whatever umask we were given (the unit's 0077 stays). */
	umask(umask(0) | 027);
	if (s->load(s->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", s->name, err);
		svc_cleanup(s);
		*ret_status = 1;
		return -1;
	}
	if (o->check) {
		fprintf(stderr, "%s: configuration OK (%s%s)\n", s->name, o->config,
		        o->config_given || access(o->config, F_OK) == 0 ? ""
		                                                        : ", missing: defaults");
		svc_cleanup(s);
		*ret_status = 0;
		return -1;
	}
	return first;
}

int svc_config_load(const struct svc *s, const struct config_key *keys, void *cfg,
                    struct config_common *cc, char *err, size_t errlen)
{
	const struct svc_opts *o = &s->opts;
	int r = config_load(o->config, !o->config_given, keys, cfg, err, errlen);

	for (size_t i = 0; r == 0 && i < o->noverrides; i++)
		r = config_set(o->overrides[i], keys, cfg, err, errlen);
	if (r < 0)
		return r;
	if (o->state_dir)
		snprintf(cc->state_dir, sizeof(cc->state_dir), "%s", o->state_dir);
	gate_set_max(cc->max_conns_per_addr);
	return 0;
}

int svc_config_port(const struct svc *s, const struct config_key *keys, void *cfg, const char *key,
                    const char *flag, const char *value, char *err, size_t errlen)
{
	char assign[64];

	snprintf(assign, sizeof(assign), "%s.%s=%s", s->name, key, value);
	if (config_set(assign, keys, cfg, err, errlen) < 0) {
		snprintf(err, errlen, "%s%s: the port must be a number between 1 and 65535", flag,
		         value);
		return -EINVAL;
	}
	return 0;
}

int svc_config_paths(const struct config_common *cc, char *err, size_t errlen)
{
	if (!cc->cert_file[0] || !cc->key_file[0] || !cc->token_key[0]) {
		snprintf(err, errlen, "state_dir %s is too long", cc->state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* ---- state: folder, certificate, token key ---- */

void svc_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		unsigned long long was = (unsigned long long)rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_debug("descriptor limit raised from %llu to %llu", was,
			          (unsigned long long)rl.rlim_max);
		else
			log_warn("cannot raise the descriptor limit from %llu: %s", was,
			         strerror(errno));
	}
}

int svc_state_dir(const char *dir, bool need_dir, char *err, size_t errlen)
{
	struct stat st;
	int r = fsutil_mkdir_p(dir, 0750);

	if (r == 0 && need_dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		r = -ENOTDIR;
	if (r == 0 && access(dir, W_OK | X_OK) < 0)
		r = -errno;
	if (r < 0)
		snprintf(err, errlen, "cannot use state folder %s: %s", dir, strerror(-r));
	return r;
}

void svc_parent_dir(const char *state, const char *path)
{
	char dir[CONFIG_PATH_MAX];
	char *slash;
	size_t n = strlen(state);

	if (strncmp(path, state, n) != 0 || path[n] != '/')
		return;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		fsutil_mkdir_p(dir, 0750);
	}
}

int svc_tls_load(const struct config_common *cc, SSL_CTX **ctx, char fp[TLS_FP_LEN], char *err,
                 size_t errlen)
{
	int r;

	svc_parent_dir(cc->state_dir, cc->cert_file);
	svc_parent_dir(cc->state_dir, cc->key_file);
	r = tls_ensure_cert(cc->cert_file, cc->key_file, cc->hostname, err, errlen);
	if (r < 0)
		return r;
	*ctx = tls_server_ctx(cc->cert_file, cc->key_file, err, errlen);
	if (!*ctx)
		return -EINVAL;
	r = tls_file_fingerprint(cc->cert_file, fp);
	if (r < 0)
		snprintf(err, errlen, "cannot read certificate %s: %s", cc->cert_file,
		         strerror(-r));
	return r;
}

int svc_token_key(const struct config_common *cc, uint8_t key[AUTH_KEY_LEN], char *err,
                  size_t errlen)
{
	int r;

	svc_parent_dir(cc->state_dir, cc->token_key);
	r = auth_key_load(cc->token_key, true, key);
	if (r < 0)
		snprintf(err, errlen, "cannot read or create the token key %s: %s", cc->token_key,
		         strerror(-r));
	return r;
}

int svc_revoke_open(const struct config_common *cc, struct revoke **ret, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	struct revoke *rv;

	if (revoke_path(cc->token_key, path, sizeof(path)) < 0 || !(rv = revoke_new(path))) {
		snprintf(err, errlen, "cannot use a token revocation list beside %s",
		         cc->token_key);
		return -ENAMETOOLONG;
	}
	*ret = rv;
	return 0;
}

/* Re-read the list when it changed; say once when it turns bad or good. */
static int svc_revoke_refresh(struct revoke *rv)
{
	bool changed;
	int r = revoke_refresh(rv, &changed);

	if (changed && r < 0)
		log_warn("%s", revoke_error(rv));
	else if (changed)
		log_info("the token revocation list is readable again");
	return r;
}

int svc_token_verify(struct revoke *rv, const uint8_t key[AUTH_KEY_LEN], const char *token,
                     uint64_t now_s, char *ret_user, size_t user_size, uint64_t *ret_expiry,
                     uint64_t *ret_issued_ms)
{
	char user[AUTH_TOKEN_MAX];
	uint64_t expiry, issued;
	int r = auth_token_verify_issued(key, token, now_s, user, sizeof(user), &expiry, &issued);

	if (r < 0)
		return r;
	if (svc_revoke_refresh(rv) < 0 || revoke_check(rv, user, issued) < 0)
		return -EKEYREVOKED;
	if (ret_user) {
		if (strlen(user) >= user_size)
			return -ENOBUFS;
		memcpy(ret_user, user, strlen(user) + 1);
	}
	if (ret_expiry)
		*ret_expiry = expiry;
	if (ret_issued_ms)
		*ret_issued_ms = issued;
	return 0;
}

bool svc_token_revoked(struct revoke *rv, const char *user, uint64_t issued_ms)
{
	return svc_revoke_refresh(rv) < 0 || revoke_check(rv, user, issued_ms) < 0;
}

/* ---- listening ---- */

static void svc_format_addr(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			port = ntohs(s6->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
			port = ntohs(s4->sin_port);
		}
	}
	snprintf(out, outlen, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static void svc_accept_cb(int fd, const char *peer, void *arg)
{
	struct svc *s = arg;

	s->accept(fd, peer);
}

int svc_listen(struct svc *s, const char *bind, uint16_t port, char *err, size_t errlen)
{
	int fd = sd_listen_socket();

	if (fd < 0) {
		fd = conn_listen(bind, port, err, errlen);
		if (fd == -EADDRINUSE)
			portuse_explain(err, errlen, s->name, PORTUSE_TCP, bind, port, "-p",
			                "port");
		if (fd < 0)
			return fd;
	}
	svc_format_addr(fd, s->listen_name, sizeof(s->listen_name));
	*s->listener = listener_new(*s->base, fd, svc_accept_cb, s);
	if (!*s->listener) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: out of memory", s->listen_name);
		return -ENOMEM;
	}
	return 0;
}

/* ---- running: status, reload, stop ---- */

static void svc_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	s->status();
	log_tick();
}

/* A changed revocation list: the daemon checks its live sessions. */
static void svc_revoke_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	if (!*s->revoke)
		return;
	svc_revoke_refresh(*s->revoke);
	if (revoke_generation(*s->revoke) == s->revoke_gen)
		return;
	s->revoke_gen = revoke_generation(*s->revoke);
	s->revoked();
}

/* SIGHUP: the daemon re-reads its file and applies what can change. */
static void svc_reload(struct svc *s)
{
	char err[SVC_ERR_MAX];

	sd_notify_reloading();
	if (s->reload(err, sizeof(err)) < 0)
		log_err("reload failed, keeping the running configuration: %s", err);
	if (s->reloaded)
		s->reloaded();
	sd_notify_ready("serving on %s", s->listen_name);
}

static void svc_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct svc *s = arg;

	(void)what;
	if (sig == SIGHUP)
		svc_reload(s);
	else
		s->stop((int)sig);
}

int svc_events(struct svc *s)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		s->signal_evs[i] = evsignal_new(*s->base, sigs[i], svc_signal_cb, s);
		if (!s->signal_evs[i] || evsignal_add(s->signal_evs[i], NULL) < 0)
			return -ENOMEM;
	}
	s->status_ev = event_new(*s->base, -1, EV_PERSIST, svc_status_cb, s);
	if (!s->status_ev || event_add(s->status_ev, &s->status_every) < 0)
		return -ENOMEM;
	if (s->revoke && s->revoked) {
		struct timeval every = {SVC_REVOKE_SECS, 0};

		s->revoke_ev = event_new(*s->base, -1, EV_PERSIST, svc_revoke_cb, s);
		if (!s->revoke_ev || event_add(s->revoke_ev, &every) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void svc_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	event_base_loopexit(*s->base, NULL);
}

/* Stop accepting and tell systemd; the daemon then lets its clients go,
 * and the loop ends once they are gone or after a few seconds. */
bool svc_stop_begin(struct svc *s, int sig)
{
	struct timeval tv = {SVC_STOP_SECS, 0};

	if (*s->stopping) {
		event_base_loopexit(*s->base, NULL);
		return false;
	}
	*s->stopping = true;
	sd_notify_stopping();
	log_info("stopping on %s", strsignal(sig));
	listener_free(*s->listener);
	*s->listener = NULL;
	s->stop_ev = evtimer_new(*s->base, svc_stop_cb, s);
	if (s->stop_ev)
		evtimer_add(s->stop_ev, &tv);
	return true;
}

void svc_run(struct svc *s)
{
	sd_notify_ready("serving on %s", s->listen_name);
	sd_watchdog_start(*s->base);
	event_base_dispatch(*s->base);
}

void svc_cleanup(struct svc *s)
{
	sd_watchdog_stop();
	for (size_t i = 0; i < sizeof(s->signal_evs) / sizeof(s->signal_evs[0]); i++) {
		if (s->signal_evs[i])
			event_free(s->signal_evs[i]);
		s->signal_evs[i] = NULL;
	}
	if (s->status_ev)
		event_free(s->status_ev);
	if (s->stop_ev)
		event_free(s->stop_ev);
	if (s->revoke_ev)
		event_free(s->revoke_ev);
	s->status_ev = s->stop_ev = s->revoke_ev = NULL;
	free(s->opts.overrides);
	s->opts.overrides = NULL;
	s->opts.noverrides = 0;
}
