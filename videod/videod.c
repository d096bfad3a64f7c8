/* videod: the Shadow Nexus video call daemon. main, flags, configuration,
 * start-up, timers and signals. */
#include "videod.h"
#include "conn.h"
#include "fsutil.h"
#include "hex.h"
#include "log.h"
#include "proto_limits.h"
#include "ratelimit.h"
#include "sd.h"
#include "revoke.h"
#include "svc.h"
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#ifndef VIDEOD_WWW_DEFAULT
#define VIDEOD_WWW_DEFAULT "/usr/local/share/nexus/videod/www"
#endif
#define TICK_MS 100
#define PING_SECS 15

struct videod videod;

/* Defined with its hooks above main. */
static struct svc svc;
static const char *media_port_flag; /* -m */

#define KEY(name, kind, field, size, min, max, help)                                               \
	{                                                                                          \
		"videod", name, kind, offsetof(struct videod_config, field), size, min, max, help  \
	}

static const struct config_key videod_keys[] = {
    CONFIG_COMMON_KEYS(struct videod_config, common),
    KEY("port", CONFIG_PORT, port, 0, 0, 0, "HTTPS port of the call page and API"),
    KEY("media_port", CONFIG_PORT, media_port, 0, 0, 0, "UDP port for all media"),
    KEY("announce", CONFIG_STR, announce, CONFIG_STR_MAX, 0, 0,
        "addresses given to browsers for media (comma-separated; default: this host's)"),
    KEY("www", CONFIG_PATH, www, CONFIG_PATH_MAX, 0, 0, "folder of the call page"),
    KEY("chat_host", CONFIG_STR, chat_host, CONFIG_STR_MAX, 0, 0, "where chatd runs"),
    KEY("chat_port", CONFIG_PORT, chat_port, 0, 0, 0, "chatd's port"),
    KEY("max_participants", CONFIG_U32, max_participants, 0, 2, VD_SUBS_MAX / 3 + 1,
        "people in one call"),
    KEY("max_peers", CONFIG_U32, max_peers, 0, 1, 100000, "people in all calls"),
    KEY("session_timeout", CONFIG_U32, session_timeout, 0, 5, 3600,
        "seconds without ICE consent before a participant is dropped"),
    KEY("max_streams", CONFIG_U32, max_sse, 0, 1, 100000, "event streams at once"),
    KEY("login_rate", CONFIG_U32, login_rate, 0, 1, 100000,
        "password logins per minute from one address"),
    CONFIG_KEYS_END,
};

uint64_t vd_now_ms(void)
{
	return clock_wall_ms();
}

void vd_random_hex(char *out, size_t nhex)
{
	if (hex_random(out, nhex) < 0)
		fatal("no randomness");
	out[nhex] = '\0';
}

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f, "usage: videod [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-m PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           SVC_USAGE_FLAGS
	           "  -p PORT   HTTPS port (default " PROTO_STR(PROTO_PORT_VIDEO) ")\n"
	           "  -m PORT   UDP media port (default " PROTO_STR(PROTO_PORT_VIDEO) ")\n"
	           SVC_USAGE_STATE
	           "  -o S.K=V  override one setting, e.g. -o videod.announce=192.168.1.10\n");
}
/* clang-format on */

/* PREFIX/sbin/videod finds its page in PREFIX/share/nexus/videod/www. */
static void www_default(char *out, size_t size)
{
	char exe[CONFIG_PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	str_copy(out, size, VIDEOD_WWW_DEFAULT);
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	slash = strrchr(exe, '/');
	if (!slash || strcmp(slash, "/sbin") != 0)
		return;
	*slash = '\0';
	if (strlen(exe) + 32 < size)
		snprintf(out, size, "%s/share/nexus/videod/www", exe);
}

static void config_defaults(struct videod_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = PROTO_PORT_VIDEO;
	c->media_port = PROTO_PORT_VIDEO;
	www_default(c->www, sizeof(c->www));
	str_copy(c->chat_host, sizeof(c->chat_host), "localhost");
	c->chat_port = PROTO_PORT_CHAT;
	c->max_participants = 25;
	c->max_peers = 1000;
	c->session_timeout = 30;
	c->max_sse = 2000;
	c->login_rate = PROTO_LOGIN_RATE_DEFAULT;
}

static int config_read(void *cfg, char *err, size_t errlen)
{
	struct videod_config *c = cfg;
	int r;

	config_defaults(c);
	r = svc_config_load(&svc, videod_keys, c, &c->common, err, errlen);
	if (r == 0 && svc.opts.port)
		r = svc_config_port(&svc, videod_keys, c, "port", "", svc.opts.port, err, errlen);
	if (r == 0 && media_port_flag)
		r = svc_config_port(&svc, videod_keys, c, "media_port", "", media_port_flag, err,
		                    errlen);
	if (r < 0)
		return r;
	config_common_finish(&c->common);
	if (!c->common.cert_file[0] || !c->common.token_key[0]) {
		snprintf(err, errlen, "state_dir %s is too long", c->common.state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* -m PORT, the one flag of videod's own. */
static int videod_flag(int ch, const char *arg)
{
	if (ch != 'm') {
		usage(stderr);
		return 2;
	}
	if (!svc_port_ok(arg)) {
		fprintf(stderr, "videod: -m %s: not a port (1 to 65535)\n", arg);
		return 2;
	}
	media_port_flag = arg;
	return 0;
}

/* The certificate and token key are chatd's: made on first start by
 * whichever daemon starts first. */
static int setup_state(char *err, size_t errlen)
{
	struct config_common *cc = &videod.cfg.common;
	char tlsdir[CONFIG_PATH_MAX + 8];
	int r;

	r = fsutil_mkdir_p(cc->state_dir, 0750);
	if (r < 0) {
		snprintf(err, errlen, "cannot use state folder %s: %s", cc->state_dir,
		         strerror(-r));
		return r;
	}
	snprintf(tlsdir, sizeof(tlsdir), "%s/tls", cc->state_dir);
	if (strncmp(cc->cert_file, tlsdir, strlen(tlsdir)) == 0)
		(void)fsutil_mkdir_p(tlsdir, 0750);
	r = tls_ensure_cert(cc->cert_file, cc->key_file, cc->hostname, err, errlen);
	if (r < 0)
		return r;
	videod.tls = tls_server_ctx(cc->cert_file, cc->key_file, err, errlen);
	if (!videod.tls)
		return -EINVAL;
	videod.chat_tls = tls_client_ctx(err, errlen);
	if (!videod.chat_tls)
		return -EINVAL;
	r = tls_file_fingerprint(cc->cert_file, videod.tls_fp);
	if (r < 0) {
		snprintf(err, errlen, "cannot read certificate %s", cc->cert_file);
		return r;
	}
	videod.dtls = dtls_ctx_new(cc->cert_file, cc->key_file, true, videod.dtls_fp,
	                           sizeof(videod.dtls_fp), err, errlen);
	if (!videod.dtls)
		return -EINVAL;
	r = auth_key_load(cc->token_key, true, videod.token_key);
	if (r < 0) {
		snprintf(err, errlen, "cannot read or create the token key %s: %s", cc->token_key,
		         strerror(-r));
		return r;
	}
	r = svc_revoke_open(cc, &videod.revoke, err, errlen);
	if (r < 0)
		return r;
	if (vsrtp_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsrtp2");
		return -EIO;
	}
	return 0;
}

static void tick(void)
{
	static unsigned ticks;
	bool second;

	ticks++;
	second = ticks % (1000 / TICK_MS) == 0;
	room_tick(second);
	if (ticks % (PING_SECS * 1000 / TICK_MS) == 0) {
		http_tick();
		sd_notify_status("serving on %s: %u in %u calls", svc.listen_name, videod.npeers,
		                 videod.nrooms);
	}
}

/* SIGHUP: limits apply at once; sockets, paths and the page stay. */
static int reload(char *err, size_t errlen)
{
	struct videod_config n;
	int r = config_read(&n, err, errlen);

	if (r < 0)
		return r;
	videod.cfg.max_participants = n.max_participants;
	videod.cfg.max_peers = n.max_peers;
	videod.cfg.session_timeout = n.session_timeout;
	videod.cfg.max_sse = n.max_sse;
	videod.cfg.login_rate = n.login_rate;
	str_copy(videod.cfg.chat_host, sizeof(videod.cfg.chat_host), n.chat_host);
	videod.cfg.chat_port = n.chat_port;
	log_info("configuration reloaded");
	return 0;
}

/* SIGTERM, SIGINT: calls end with the process. */
static void stop(int sig)
{
	log_info("stopping on %s", strsignal(sig));
	sd_notify_stopping();
	videod.stopping = true;
	event_base_loopexit(videod.base, NULL);
}

static void cleanup(void)
{
	events_free_all();
	room_free_all();
	chat_free_all();
	http_stop();
	media_close();
	svc_cleanup(&svc);
	tls_ctx_free(videod.tls);
	tls_ctx_free(videod.chat_tls);
	revoke_free(videod.revoke);
	SSL_CTX_free(videod.dtls);
	if (videod.base)
		event_base_free(videod.base);
	explicit_bzero(videod.token_key, sizeof(videod.token_key));
}

static int serve(void)
{
	char err[SVC_ERR_MAX];
	const char *cands[8];
	int r, n;

	svc_raise_nofile();
	r = setup_state(err, sizeof(err));
	if (r == 0) {
		videod.base = event_base_new();
		if (!videod.base)
			fatal("cannot create the event loop");
		room_init();
		r = media_open(err, sizeof(err));
	}
	if (r == 0)
		r = http_start(err, sizeof(err), svc.listen_name, sizeof(svc.listen_name));
	if (r == 0 && svc_events(&svc) < 0)
		fatal("out of memory");
	if (r < 0) {
		log_err("%s", err);
		cleanup();
		return 1;
	}
	n = media_candidates(cands, 8);
	log_info("listening on %s (HTTPS) and UDP port %u, announcing %s%s (TLS fingerprint %s)",
	         svc.listen_name, media_port(), cands[0], n > 1 ? " and more" : "", videod.tls_fp);
	svc_run(&svc);
	cleanup();
	log_info("stopped");
	return 0;
}

static struct svc svc = {
    .name = "videod",
    .optstring = "df:nvhp:m:s:o:",
    .usage = usage,
    .flag = videod_flag,
    .load = config_read,
    .cfg = &videod.cfg,
    .reload = reload,
    .stop = stop,
    .status = tick,
    .status_every = {0, TICK_MS * 1000},
    .revoke = &videod.revoke,
    .revoked = room_revoked,
    .base = &videod.base,
    .stopping = &videod.stopping,
};

int main(int argc, char **argv)
{
	int status = 0;

	if (svc_start(&svc, argc, argv, &status) < 0)
		return status;
	return serve();
}
