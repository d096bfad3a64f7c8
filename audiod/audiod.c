/* audiod: the Shadow Nexus voice daemon. main, flags, configuration,
 * start-up, signals. */
#include "audiod.h"
#include "fsutil.h"
#include "conn.h"
#include "log.h"
#include "sd.h"
#include "revoke.h"
#include "svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#define AUDIOD_STATUS_SECS 10

struct audiod audiod = {
    .front =
        {
            .t = &session_table,
            .base = &audiod.base,
            .tls = &audiod.tls,
            .revoke = &audiod.revoke,
            .token_key = audiod.token_key,
            .stopping = &audiod.stopping,
        },
};

/* Defined with its hooks above main. */
static struct svc svc;

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
    KEY("frame_rate", CONFIG_U32, frame_rate, 50, 1000,
        "audio frames per second a client may send"),
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

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f, "usage: audiod [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           SVC_USAGE_FLAGS
	           "  -p PORT   TCP port to listen on (default " PROTO_STR(PROTO_PORT_AUDIO) ")\n"
	           SVC_USAGE_STATE
	           "  -o S.K=V  override one setting, e.g. -o audiod.max_mixed=3\n");
}
/* clang-format on */

static void audiod_config_defaults(struct audiod_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = PROTO_PORT_AUDIO;
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

static int audiod_config_load(void *cfg, char *err, size_t errlen)
{
	struct audiod_config *c = cfg;
	int r;

	audiod_config_defaults(c);
	r = svc_config_load(&svc, audiod_keys, c, &c->common, err, errlen);
	if (r == 0 && svc.opts.port)
		r = svc_config_port(&svc, audiod_keys, c, "port", "-p ", svc.opts.port, err,
		                    errlen);
	if (r < 0)
		return r;
	config_common_finish(&c->common);
	if (!c->record_dir[0] && snprintf(c->record_dir, sizeof(c->record_dir), "%s/recordings",
	                                  c->common.state_dir) >= (int)sizeof(c->record_dir))
		c->record_dir[0] = '\0';
	r = svc_config_paths(&c->common, err, errlen);
	if (r == 0 && !c->record_dir[0]) {
		snprintf(err, errlen, "state_dir %s is too long", c->common.state_dir);
		r = -ENAMETOOLONG;
	}
	if (r < 0)
		return r;
	if (c->skip_outq >= c->max_outq) {
		snprintf(err, errlen, "skip_outq (%u) must be below max_outq (%u)", c->skip_outq,
		         c->max_outq);
		return -EINVAL;
	}
	return 0;
}

static int audiod_setup_state(char *fp, char *err, size_t errlen)
{
	struct config_common *cc = &audiod.cfg.common;
	int r;

	r = fsutil_mkdir_p(cc->state_dir, 0750);
	if (r < 0) {
		snprintf(err, errlen, "cannot use state folder %s: %s", cc->state_dir,
		         strerror(-r));
		return r;
	}
	/* the certificate folder, when it is the default one */
	{
		char dir[CONFIG_PATH_MAX + 8];
		snprintf(dir, sizeof(dir), "%s/tls", cc->state_dir);
		(void)fsutil_mkdir_p(dir, 0750);
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
	if (r < 0) {
		snprintf(err, errlen, "cannot read the certificate or token key in %s: %s",
		         cc->state_dir, strerror(-r));
		return r;
	}
	return svc_revoke_open(cc, &audiod.revoke, err, errlen);
}

/* The revocation list changed: sessions whose token it refuses end. */
static void audiod_revoked(void)
{
	front_revoked(&audiod.front);
}

static void audiod_accept(int fd, const char *peer)
{
	front_accept(&audiod.front, fd, peer);
}

static void audiod_status(void)
{
	sd_notify_status("serving on %s: %u connections, %u voice rooms", svc.listen_name,
	                 audiod.front.nsessions, audiod.nrooms);
}

static int audiod_reload(char *err, size_t errlen)
{
	struct audiod_config n;
	int r = audiod_config_load(&n, err, errlen);

	if (r < 0)
		return r;
	if (n.port != audiod.cfg.port || strcmp(n.common.state_dir, audiod.cfg.common.state_dir))
		log_warn("reload: a new port or state folder takes effect after a restart");
	/* paths, the socket and the encoder settings stay as started */
	n.common = audiod.cfg.common;
	n.port = audiod.cfg.port;
	snprintf(n.record_dir, sizeof(n.record_dir), "%s", audiod.cfg.record_dir);
	audiod.cfg = n;
	log_set_verbosity(svc.opts.verbosity);
	log_info("configuration reloaded");
	return 0;
}

/* After each SIGHUP, good or bad: the mixer's counters. */
static void audiod_reloaded(void)
{
	char stats[512];

	mixer_stats_text(stats, sizeof(stats));
	log_info("%s", stats);
}

static void audiod_stop(int sig)
{
	if (!svc_stop_begin(&svc, sig))
		return;
	/* recordings end cleanly before the clients go */
	for (struct room *r = audiod.rooms; r; r = r->next)
		record_stop(r);
	front_close_all(&audiod.front);
}

static void audiod_cleanup(void)
{
	front_free_all(&audiod.front);
	room_free_all();
	mixer_stop();
	svc_cleanup(&svc);
	listener_free(audiod.listener);
	tls_ctx_free(audiod.tls);
	revoke_free(audiod.revoke);
	if (audiod.base)
		event_base_free(audiod.base);
}

static int audiod_serve(void)
{
	char err[SVC_ERR_MAX], fp[TLS_FP_LEN] = "";
	int r;

	svc_raise_nofile();
	r = audiod_setup_state(fp, err, sizeof(err));
	if (r == 0) {
		audiod.base = event_base_new();
		if (!audiod.base)
			fatal("cannot create the event loop");
		r = svc_listen(&svc, audiod.cfg.common.bind, audiod.cfg.port, err, sizeof(err));
	}
	if (r == 0 && (svc_events(&svc) < 0 || mixer_start() < 0))
		fatal("cannot start the event loop timers");
	if (r < 0) {
		log_err("%s", err);
		audiod_cleanup();
		return 1;
	}
	log_info("listening on %s (TLS fingerprint %s)", svc.listen_name, fp);
	svc_run(&svc);
	mixer_stats_text(err, sizeof(err));
	log_info("%s", err);
	audiod_cleanup();
	log_info("stopped");
	return 0;
}

static struct svc svc = {
    .name = "audiod",
    .optstring = "df:nvhp:s:o:",
    .usage = usage,
    .load = audiod_config_load,
    .cfg = &audiod.cfg,
    .reload = audiod_reload,
    .reloaded = audiod_reloaded,
    .stop = audiod_stop,
    .status = audiod_status,
    .status_every = {AUDIOD_STATUS_SECS, 0},
    .accept = audiod_accept,
    .revoke = &audiod.revoke,
    .revoked = audiod_revoked,
    .base = &audiod.base,
    .listener = &audiod.listener,
    .stopping = &audiod.stopping,
};

int main(int argc, char **argv)
{
	int status = 0;

	if (svc_start(&svc, argc, argv, &status) < 0)
		return status;
	return audiod_serve();
}
