/* audiod: the Shadow Nexus voice daemon. main, flags, configuration,
 * start-up, signals. */
#include "audiod.h"
#include "conn.h"
#include "log.h"
#include "sd.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>

#define AUDIOD_CONFIG_DEFAULT "/etc/nexus/nexus.conf"
#define AUDIOD_STATUS_SECS 10
#define AUDIOD_STOP_SECS 3
#define AUDIOD_ERR_MAX 768

struct audiod audiod;

static struct {
	const char *config;
	bool config_given, foreground, check;
	int verbosity;
	const char *port, *state_dir;
	const char **overrides;
	size_t noverrides;
} opts;

static char listen_name[128];
static struct event *status_ev, *stop_ev;
static struct event *signal_evs[3];

#define KEY(name, kind, field, min, max, help)                                                     \
	{                                                                                          \
		"audiod", name, kind, offsetof(struct audiod_config, field), 0, min, max, help     \
	}

static const struct config_key audiod_keys[] = {
    CONFIG_COMMON_KEYS(struct audiod_config, common),
    KEY("port", CONFIG_PORT, port, 0, 0, "TCP port to listen on"),
    KEY("max_rooms", CONFIG_U32, max_rooms, 1, 100000, "voice rooms at once"),
    KEY("max_members", CONFIG_U32, max_members, 2, 100000, "people in one voice room"),
    KEY("max_mixed", CONFIG_U32, max_mixed, 1, AUDIO_MIX_HARD, "loudest talkers mixed"),
    KEY("max_packet", CONFIG_U32, max_packet, 64, AUDIO_PACKET_HARD, "bytes of an Opus packet"),
    KEY("bitrate", CONFIG_U32, bitrate, 6000, 128000, "bits per second sent to listeners"),
    KEY("complexity", CONFIG_U32, complexity, 0, 10, "Opus encoder complexity"),
    KEY("jitter_max", CONFIG_U32, jitter_max, 1, AUDIO_JITTER_SLOTS - 2,
        "frames a jitter buffer may grow to"),
    KEY("frame_rate", CONFIG_U32, frame_rate, 50, 1000, "audio frames per second a client may send"),
    KEY("max_outq", CONFIG_U32, max_outq, 16384, 1u << 30, "bytes queued per client"),
    KEY("skip_outq", CONFIG_U32, skip_outq, 1024, 1u << 30,
        "bytes queued past which a listener misses frames"),
    KEY("sndbuf", CONFIG_U32, sndbuf, 0, 1u << 26,
        "socket send buffer per client (bytes; 0 = kernel default)"),
    KEY("idle_timeout", CONFIG_U32, idle_timeout, 0, 86400, "seconds before idle drop"),
    KEY("max_sessions", CONFIG_U32, max_sessions, 1, 1000000, "connections at once"),
    KEY("record", CONFIG_BOOL, record, 0, 0, "admins may record rooms"),
    {"audiod", "record_dir", CONFIG_PATH, offsetof(struct audiod_config, record_dir),
     CONFIG_PATH_MAX, 0, 0, "folder for recordings (default STATE/recordings)"},
    CONFIG_KEYS_END,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: audiod [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           "  -d        stay in the foreground and log to stderr\n"
	           "  -f FILE   configuration file (default " AUDIOD_CONFIG_DEFAULT ")\n"
	           "  -n        check the configuration and exit\n"
	           "  -v        more verbose logging (repeat for more)\n"
	           "  -h        show this help\n"
	           "  -p PORT   TCP port to listen on (default 5557)\n"
	           "  -s DIR    state folder (default /var/lib/nexus)\n"
	           "  -o S.K=V  override one setting, e.g. -o audiod.max_mixed=3\n");
}

static void audiod_config_defaults(struct audiod_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = 5557;
	c->max_rooms = 1000;
	c->max_members = 5000;
	c->max_mixed = 4;
	c->max_packet = 400;
	c->bitrate = 32000;
	c->complexity = 8;
	c->jitter_max = 8;
	c->frame_rate = 60;
	c->max_outq = 256 * 1024;
	c->skip_outq = 16 * 1024;
	c->sndbuf = 32 * 1024;
	c->idle_timeout = 120;
	c->max_sessions = 10000;
	c->record = 1;
}

static int audiod_config_load(struct audiod_config *c, char *err, size_t errlen)
{
	int r;

	audiod_config_defaults(c);
	r = config_load(opts.config, !opts.config_given, audiod_keys, c, err, errlen);
	for (size_t i = 0; r == 0 && i < opts.noverrides; i++)
		r = config_set(opts.overrides[i], audiod_keys, c, err, errlen);
	if (r < 0)
		return r;
	if (opts.state_dir)
		snprintf(c->common.state_dir, sizeof(c->common.state_dir), "%s", opts.state_dir);
	if (opts.port) {
		char assign[64];

		snprintf(assign, sizeof(assign), "audiod.port=%s", opts.port);
		if (config_set(assign, audiod_keys, c, err, errlen) < 0) {
			snprintf(err, errlen, "-p %s: the port must be a number between 1 and 65535",
			         opts.port);
			return -EINVAL;
		}
	}
	config_common_finish(&c->common);
	if (!c->record_dir[0] &&
	    snprintf(c->record_dir, sizeof(c->record_dir), "%s/recordings", c->common.state_dir) >=
	        (int)sizeof(c->record_dir))
		c->record_dir[0] = '\0';
	if (!c->common.cert_file[0] || !c->common.key_file[0] || !c->common.token_key[0] ||
	    !c->record_dir[0]) {
		snprintf(err, errlen, "state_dir %s is too long", c->common.state_dir);
		return -ENAMETOOLONG;
	}
	if (c->skip_outq >= c->max_outq) {
		snprintf(err, errlen, "skip_outq (%u) must be below max_outq (%u)", c->skip_outq,
		         c->max_outq);
		return -EINVAL;
	}
	return 0;
}

static int opts_parse(int argc, char **argv, int *ret_status)
{
	int ch;

	opts.config = AUDIOD_CONFIG_DEFAULT;
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
		fprintf(stderr, "audiod: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		*ret_status = 2;
		return -1;
	}
	return 0;
}

static int audiod_setup_state(char *fp, char *err, size_t errlen)
{
	struct config_common *cc = &audiod.cfg.common;
	int r;

	if (mkdir(cc->state_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot use state folder %s: %s", cc->state_dir,
		         strerror(errno));
		return -errno;
	}
	/* the certificate folder, when it is the default one */
	{
		char dir[CONFIG_PATH_MAX + 8];
		snprintf(dir, sizeof(dir), "%s/tls", cc->state_dir);
		mkdir(dir, 0750);
	}
	r = tls_ensure_cert(cc->cert_file, cc->key_file, cc->hostname, err, errlen);
	if (r < 0)
		return r;
	audiod.tls = tls_server_ctx(cc->cert_file, cc->key_file, err, errlen);
	if (!audiod.tls)
		return -EINVAL;
	r = tls_file_fingerprint(cc->cert_file, fp);
	if (r == 0)
		r = auth_key_load(cc->token_key, true, audiod.token_key);
	if (r < 0)
		snprintf(err, errlen, "cannot read the certificate or token key in %s: %s",
		         cc->state_dir, strerror(-r));
	return r;
}

static void audiod_accept_cb(int fd, const char *peer, void *arg)
{
	(void)arg;
	session_accept(fd, peer);
}

static void audiod_format_addr(int fd, char *out, size_t outlen)
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

static int audiod_listen(char *err, size_t errlen)
{
	int fd = sd_listen_socket();

	if (fd < 0) {
		fd = conn_listen(audiod.cfg.common.bind, audiod.cfg.port, err, errlen);
		if (fd < 0)
			return fd;
	}
	audiod_format_addr(fd, listen_name, sizeof(listen_name));
	audiod.listener = listener_new(audiod.base, fd, audiod_accept_cb, NULL);
	if (!audiod.listener) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: out of memory", listen_name);
		return -ENOMEM;
	}
	return 0;
}

static void audiod_status_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify_status("serving on %s: %u connections, %u voice rooms", listen_name,
	                 audiod.nsessions, audiod.nrooms);
}

static void audiod_reload(void)
{
	struct audiod_config n;
	char err[AUDIOD_ERR_MAX];

	sd_notify_reloading();
	if (audiod_config_load(&n, err, sizeof(err)) < 0) {
		log_err("reload failed, keeping the running configuration: %s", err);
	} else {
		if (n.port != audiod.cfg.port || strcmp(n.common.state_dir, audiod.cfg.common.state_dir))
			log_warn("reload: a new port or state folder takes effect after a restart");
		/* paths, the socket and the encoder settings stay as started */
		n.common = audiod.cfg.common;
		n.port = audiod.cfg.port;
		snprintf(n.record_dir, sizeof(n.record_dir), "%s", audiod.cfg.record_dir);
		audiod.cfg = n;
		log_set_verbosity(opts.verbosity);
		log_info("configuration reloaded");
	}
	{
		char stats[512];
		mixer_stats_text(stats, sizeof(stats));
		log_info("%s", stats);
	}
	sd_notify_ready("serving on %s", listen_name);
}

static void audiod_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopexit(audiod.base, NULL);
}

static void audiod_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = {AUDIOD_STOP_SECS, 0};

	(void)what;
	(void)arg;
	if (sig == SIGHUP) {
		audiod_reload();
		return;
	}
	if (audiod.stopping) {
		event_base_loopexit(audiod.base, NULL);
		return;
	}
	audiod.stopping = true;
	sd_notify_stopping();
	log_info("stopping on %s", strsignal((int)sig));
	listener_free(audiod.listener);
	audiod.listener = NULL;
	/* recordings end cleanly before the clients go */
	for (struct room *r = audiod.rooms; r; r = r->next)
		record_stop(r);
	stop_ev = evtimer_new(audiod.base, audiod_stop_cb, NULL);
	if (stop_ev)
		evtimer_add(stop_ev, &tv);
	session_close_all();
}

static int audiod_events(void)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct timeval tv = {AUDIOD_STATUS_SECS, 0};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal_evs[i] = evsignal_new(audiod.base, sigs[i], audiod_signal_cb, NULL);
		if (!signal_evs[i] || evsignal_add(signal_evs[i], NULL) < 0)
			return -ENOMEM;
	}
	status_ev = event_new(audiod.base, -1, EV_PERSIST, audiod_status_cb, NULL);
	if (!status_ev || event_add(status_ev, &tv) < 0)
		return -ENOMEM;
	return mixer_start();
}

static void audiod_cleanup(void)
{
	session_free_all();
	room_free_all();
	mixer_stop();
	sd_watchdog_stop();
	for (size_t i = 0; i < sizeof(signal_evs) / sizeof(signal_evs[0]); i++)
		if (signal_evs[i])
			event_free(signal_evs[i]);
	if (status_ev)
		event_free(status_ev);
	if (stop_ev)
		event_free(stop_ev);
	listener_free(audiod.listener);
	tls_ctx_free(audiod.tls);
	if (audiod.base)
		event_base_free(audiod.base);
	free(opts.overrides);
}

static int audiod_serve(void)
{
	char err[AUDIOD_ERR_MAX], fp[TLS_FP_LEN] = "";
	struct rlimit rl;
	int r;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	r = audiod_setup_state(fp, err, sizeof(err));
	if (r == 0) {
		audiod.base = event_base_new();
		if (!audiod.base)
			fatal("cannot create the event loop");
		r = audiod_listen(err, sizeof(err));
	}
	if (r == 0 && audiod_events() < 0)
		fatal("cannot start the event loop timers");
	if (r < 0) {
		log_err("%s", err);
		audiod_cleanup();
		return 1;
	}
	log_info("listening on %s (TLS fingerprint %s)", listen_name, fp);
	sd_notify_ready("serving on %s", listen_name);
	sd_watchdog_start(audiod.base);
	event_base_dispatch(audiod.base);
	mixer_stats_text(err, sizeof(err));
	log_info("%s", err);
	audiod_cleanup();
	log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	char err[AUDIOD_ERR_MAX];
	int status = 0;

	if (opts_parse(argc, argv, &status) < 0)
		return status;
	log_init("audiod", opts.foreground || opts.check, opts.verbosity);
	signal(SIGPIPE, SIG_IGN);
	umask(umask(0) | 027);
	if (audiod_config_load(&audiod.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "audiod: %s\n", err);
		free(opts.overrides);
		return 1;
	}
	if (opts.check) {
		fprintf(stderr, "audiod: configuration OK (%s%s)\n", opts.config,
		        opts.config_given || access(opts.config, F_OK) == 0 ? ""
		                                                            : ", missing: defaults");
		free(opts.overrides);
		return 0;
	}
	return audiod_serve();
}
