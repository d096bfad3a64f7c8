/* filed: the Shadow Nexus file daemon. main, flags, configuration,
 * start-up, status, signals. */
#include "filed.h"
#include "conn.h"
#include "log.h"
#include "ratelimit.h"
#include "sd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#define FILED_CONFIG_DEFAULT "/etc/nexus/nexus.conf"
#define FILED_STATUS_SECS 5
#define FILED_STOP_SECS 3
#define FILED_ERR_MAX 768

struct filed filed;

struct options {
	const char *config;
	bool config_given;
	bool foreground;
	bool check;
	int verbosity;
	const char *port;
	const char *state_dir;
	const char **overrides;
	size_t noverrides;
};

static struct options opts;
static char listen_name[128];
static struct event *status_ev, *stop_ev;
static struct event *signal_evs[3];

#define KEY(name, kind, field, min, max, help)                                                     \
	{                                                                                          \
		"filed", name, kind, offsetof(struct filed_config, field), 0, min, max, help       \
	}

static const struct config_key filed_keys[] = {
    CONFIG_COMMON_KEYS(struct filed_config, common),
    KEY("port", CONFIG_PORT, port, 0, 0, "TCP port to listen on"),
    KEY("max_file_mb", CONFIG_U32, max_file_mb, 1, 1u << 24, "largest file, MiB"),
    KEY("quota_mb", CONFIG_U32, quota_mb, 1, 1u << 30, "bytes one user may store, MiB"),
    KEY("max_files", CONFIG_U32, max_files, 1, 10000000, "files one user may store"),
    KEY("max_transfers", CONFIG_U32, max_transfers, 1, 1000, "transfers of one user at once"),
    KEY("chunk_kb", CONFIG_U32, chunk_kb, 16, 1024, "payload of a data frame, KiB"),
    KEY("sync_mb", CONFIG_U32, sync_mb, 1, 4096, "an upload is made durable every sync_mb"),
    KEY("upload_days", CONFIG_U32, upload_days, 1, 3650, "days an unfinished upload is kept"),
    KEY("max_outq", CONFIG_U32, max_outq, 65536, 1u << 30, "bytes queued per client"),
    KEY("max_frame", CONFIG_U32, max_frame, 1024, PROTO_FRAME_MAX_HARD, "largest frame"),
    KEY("idle_timeout", CONFIG_U32, idle_timeout, 0, 86400, "seconds before idle drop"),
    KEY("max_sessions", CONFIG_U32, max_sessions, 1, 1000000, "connections at once"),
    CONFIG_KEYS_END,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: filed [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           "  -d        stay in the foreground and log to stderr\n"
	           "  -f FILE   configuration file (default " FILED_CONFIG_DEFAULT ")\n"
	           "  -n        check the configuration and exit\n"
	           "  -v        more verbose logging (repeat for more)\n"
	           "  -h        show this help\n"
	           "  -p PORT   TCP port to listen on (default 5556)\n"
	           "  -s DIR    state folder (default /var/lib/nexus)\n"
	           "  -o S.K=V  override one configuration setting, e.g. -o filed.quota_mb=100\n");
}

static void filed_config_defaults(struct filed_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = 5556;
	c->max_file_mb = 16384;
	c->quota_mb = 65536;
	c->max_files = 10000;
	c->max_transfers = 16;
	c->chunk_kb = 256;
	c->sync_mb = 64;
	c->upload_days = 7;
	c->max_outq = 4u * 1024 * 1024;
	c->max_frame = 1024u * 1024;
	c->idle_timeout = 120;
	c->max_sessions = 1000;
}

/* Defaults, then the file, then -o, -s and -p, in that order. */
static int filed_config_load(struct filed_config *c, char *err, size_t errlen)
{
	int r;

	filed_config_defaults(c);
	r = config_load(opts.config, !opts.config_given, filed_keys, c, err, errlen);
	for (size_t i = 0; r == 0 && i < opts.noverrides; i++)
		r = config_set(opts.overrides[i], filed_keys, c, err, errlen);
	if (r < 0)
		return r;
	if (opts.state_dir)
		snprintf(c->common.state_dir, sizeof(c->common.state_dir), "%s", opts.state_dir);
	if (opts.port) {
		char assign[64];

		snprintf(assign, sizeof(assign), "filed.port=%s", opts.port);
		if (config_set(assign, filed_keys, c, err, errlen) < 0) {
			snprintf(err, errlen,
			         "-p %s: the port must be a number between 1 and 65535", opts.port);
			return -EINVAL;
		}
	}
	config_common_finish(&c->common);
	/* A data frame carries the chunk and 24 bytes of header and fields. */
	if ((uint64_t)c->chunk_kb * 1024 + 64 > c->max_frame) {
		snprintf(err, errlen, "%s: chunk_kb (%u) does not fit in max_frame (%u)", opts.config,
		         c->chunk_kb, c->max_frame);
		return -EINVAL;
	}
	if ((uint64_t)c->max_outq < 4ull * c->max_frame) {
		snprintf(err, errlen, "%s: max_outq (%u) must be at least 4 x max_frame (%u)",
		         opts.config, c->max_outq, c->max_frame);
		return -EINVAL;
	}
	if (!c->common.cert_file[0] || !c->common.key_file[0] || !c->common.token_key[0]) {
		snprintf(err, errlen, "state_dir %s is too long", c->common.state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

static bool opts_port_ok(const char *s)
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

/* 0 to go on, or -1 with the exit status in *ret_status. */
static int opts_parse(int argc, char **argv, int *ret_status)
{
	int ch;

	opts.config = FILED_CONFIG_DEFAULT;
	while ((ch = getopt(argc, argv, "df:nvhp:s:o:")) != -1) {
		switch (ch) {
		case 'd':
			opts.foreground = true;
			break;
		case 'f':
			opts.config = optarg;
			opts.config_given = true;
			break;
		case 'n':
			opts.check = true;
			break;
		case 'v':
			opts.verbosity++;
			break;
		case 'h':
			usage(stdout);
			*ret_status = 0;
			return -1;
		case 'p':
			if (!opts_port_ok(optarg)) {
				fprintf(stderr, "filed: -p %s: not a port (1 to 65535)\n", optarg);
				*ret_status = 2;
				return -1;
			}
			opts.port = optarg;
			break;
		case 's':
			opts.state_dir = optarg;
			break;
		case 'o': {
			const char **o = realloc(opts.overrides, (opts.noverrides + 1) * sizeof(*o));
			if (!o)
				fatal("out of memory");
			opts.overrides = o;
			opts.overrides[opts.noverrides++] = optarg;
			break;
		}
		default:
			usage(stderr);
			*ret_status = 2;
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "filed: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		*ret_status = 2;
		return -1;
	}
	return 0;
}

/* ---- start-up ---- */

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[CONFIG_PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The folder of path, created when it lies inside the state folder. */
static void parent_dir(const char *state, const char *path)
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
		mkdir_p(dir, 0750);
	}
}

/* State folder, certificate (shared with chatd), token key, file store. */
static int filed_setup_state(char *fp, char *err, size_t errlen)
{
	struct config_common *cc = &filed.cfg.common;
	int r = mkdir_p(cc->state_dir, 0750);

	if (r == 0 && access(cc->state_dir, W_OK | X_OK) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "cannot use state folder %s: %s", cc->state_dir, strerror(-r));
		return r;
	}
	parent_dir(cc->state_dir, cc->cert_file);
	parent_dir(cc->state_dir, cc->key_file);
	r = tls_ensure_cert(cc->cert_file, cc->key_file, cc->hostname, err, errlen);
	if (r < 0)
		return r;
	filed.tls = tls_server_ctx(cc->cert_file, cc->key_file, err, errlen);
	if (!filed.tls)
		return -EINVAL;
	r = tls_file_fingerprint(cc->cert_file, fp);
	if (r < 0) {
		snprintf(err, errlen, "cannot read certificate %s: %s", cc->cert_file, strerror(-r));
		return r;
	}
	/* create like chatd: whichever daemon starts first makes the key. */
	parent_dir(cc->state_dir, cc->token_key);
	r = auth_key_load(cc->token_key, true, filed.token_key);
	if (r < 0) {
		snprintf(err, errlen, "cannot read or create the token key %s: %s", cc->token_key,
		         strerror(-r));
		return r;
	}
	return store_open(cc->state_dir, err, errlen);
}

static void filed_accept_cb(int fd, const char *peer, void *arg)
{
	(void)arg;
	session_accept(fd, peer);
}

static void format_addr(int fd, char *out, size_t outlen)
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

static int filed_listen(char *err, size_t errlen)
{
	int fd = sd_listen_socket();

	if (fd < 0) {
		fd = conn_listen(filed.cfg.common.bind, filed.cfg.port, err, errlen);
		if (fd < 0)
			return fd;
	}
	format_addr(fd, listen_name, sizeof(listen_name));
	filed.listener = listener_new(filed.base, fd, filed_accept_cb, NULL);
	if (!filed.listener) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: out of memory", listen_name);
		return -ENOMEM;
	}
	return 0;
}

/* ---- running: status, reload, stop ---- */

static void filed_status_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint64_t last_in = UINT64_MAX, last_out;
	static unsigned last_sessions;

	(void)fd;
	(void)what;
	(void)arg;
	if (filed.bytes_in == last_in && filed.bytes_out == last_out &&
	    filed.nsessions == last_sessions)
		return;
	last_in = filed.bytes_in;
	last_out = filed.bytes_out;
	last_sessions = filed.nsessions;
	sd_notify_status("serving on %s: %u connections, %u transfers, %" PRIu64
	                 " MiB in, %" PRIu64 " MiB out",
	                 listen_name, filed.nsessions, filed.ntransfers, filed.bytes_in / FILED_MIB,
	                 filed.bytes_out / FILED_MIB);
}

/* SIGHUP: re-read the file; limits apply at once, paths after a restart. */
static void filed_reload(void)
{
	struct filed_config n;
	char err[FILED_ERR_MAX];

	sd_notify_reloading();
	if (filed_config_load(&n, err, sizeof(err)) < 0) {
		log_err("reload failed, keeping the running configuration: %s", err);
	} else {
		if (n.port != filed.cfg.port || strcmp(n.common.bind, filed.cfg.common.bind) != 0 ||
		    strcmp(n.common.state_dir, filed.cfg.common.state_dir) != 0)
			log_warn("reload: a new port, address or state folder takes effect after a "
			         "restart");
		n.common = filed.cfg.common;
		n.port = filed.cfg.port;
		/* Running connections keep their frame and queue sizes. */
		n.max_frame = filed.cfg.max_frame;
		n.max_outq = filed.cfg.max_outq;
		n.chunk_kb = filed.cfg.chunk_kb;
		filed.cfg = n;
		log_set_verbosity(opts.verbosity);
		log_info("configuration reloaded (quota %u MiB, largest file %u MiB)", n.quota_mb,
		         n.max_file_mb);
	}
	sd_notify_ready("serving on %s", listen_name);
}

static void filed_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopexit(filed.base, NULL);
}

static void filed_stop(int sig)
{
	struct timeval tv = {FILED_STOP_SECS, 0};

	if (filed.stopping) {
		event_base_loopexit(filed.base, NULL);
		return;
	}
	filed.stopping = true;
	sd_notify_stopping();
	log_info("stopping on %s", strsignal(sig));
	listener_free(filed.listener);
	filed.listener = NULL;
	stop_ev = evtimer_new(filed.base, filed_stop_cb, NULL);
	if (stop_ev)
		evtimer_add(stop_ev, &tv);
	session_close_all();
}

static void filed_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (sig == SIGHUP)
		filed_reload();
	else
		filed_stop(sig);
}

static int filed_events(void)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct timeval tv = {FILED_STATUS_SECS, 0};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal_evs[i] = evsignal_new(filed.base, sigs[i], filed_signal_cb, NULL);
		if (!signal_evs[i] || evsignal_add(signal_evs[i], NULL) < 0)
			return -ENOMEM;
	}
	status_ev = event_new(filed.base, -1, EV_PERSIST, filed_status_cb, NULL);
	if (!status_ev || event_add(status_ev, &tv) < 0)
		return -ENOMEM;
	return 0;
}

static void filed_cleanup(void)
{
	session_free_all();
	sd_watchdog_stop();
	for (size_t i = 0; i < sizeof(signal_evs) / sizeof(signal_evs[0]); i++)
		if (signal_evs[i])
			event_free(signal_evs[i]);
	if (status_ev)
		event_free(status_ev);
	if (stop_ev)
		event_free(stop_ev);
	listener_free(filed.listener);
	store_close();
	transfer_pool_free();
	tls_ctx_free(filed.tls);
	if (filed.base)
		event_base_free(filed.base);
	free(opts.overrides);
}

static int filed_serve(void)
{
	char err[FILED_ERR_MAX], fp[TLS_FP_LEN] = "";
	struct rlimit rl;
	int r;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	r = filed_setup_state(fp, err, sizeof(err));
	if (r == 0) {
		filed.base = event_base_new();
		if (!filed.base)
			fatal("cannot create the event loop");
		r = filed_listen(err, sizeof(err));
	}
	if (r == 0 && filed_events() < 0)
		fatal("out of memory");
	if (r < 0) {
		log_err("%s", err);
		filed_cleanup();
		return 1;
	}
	log_info("listening on %s (TLS fingerprint %s)", listen_name, fp);
	sd_notify_ready("serving on %s", listen_name);
	sd_watchdog_start(filed.base);
	event_base_dispatch(filed.base);
	filed_cleanup();
	log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	char err[FILED_ERR_MAX];
	int status = 0;

	if (opts_parse(argc, argv, &status) < 0)
		return status;
	log_init("filed", opts.foreground || opts.check, opts.verbosity);
	signal(SIGPIPE, SIG_IGN);
	umask(umask(0) | 027);
	if (filed_config_load(&filed.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "filed: %s\n", err);
		free(opts.overrides);
		return 1;
	}
	if (opts.check) {
		fprintf(stderr, "filed: configuration OK (%s%s)\n", opts.config,
		        opts.config_given || access(opts.config, F_OK) == 0 ? ""
		                                                            : ", missing: defaults");
		free(opts.overrides);
		return 0;
	}
	return filed_serve();
}
