/* filed: the Shadow Nexus file daemon. main, flags, configuration,
 * start-up, status, signals. */
#include "filed.h"
#include "conn.h"
#include "log.h"
#include "ratelimit.h"
#include "sd.h"
#include "revoke.h"
#include "svc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define FILED_STATUS_SECS 5

struct filed filed = {
    .front =
        {
            .t = &session_table,
            .base = &filed.base,
            .tls = &filed.tls,
            .revoke = &filed.revoke,
            .token_key = filed.token_key,
            .stopping = &filed.stopping,
        },
};

/* Defined with its hooks above main. */
static struct svc svc;

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

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f, "usage: filed [-d] [-f FILE] [-n] [-v] [-h] [-p PORT] [-s STATE_DIR]"
	           " [-o section.key=value]...\n"
	           SVC_USAGE_FLAGS
	           "  -p PORT   TCP port to listen on (default " PROTO_STR(PROTO_PORT_FILE) ")\n"
	           SVC_USAGE_STATE
	           "  -o S.K=V  override one configuration setting, e.g. -o filed.quota_mb=100\n");
}
/* clang-format on */

static void filed_config_defaults(struct filed_config *c)
{
	memset(c, 0, sizeof(*c));
	config_common_defaults(&c->common, NULL);
	c->port = PROTO_PORT_FILE;
	c->max_file_mb = PROTO_FILE_SIZE_MB_DEFAULT;
	c->quota_mb = PROTO_FILE_QUOTA_MB_DEFAULT;
	c->max_files = PROTO_FILE_COUNT_DEFAULT;
	c->max_transfers = PROTO_FILE_TRANSFERS_DEFAULT;
	c->chunk_kb = PROTO_FILE_CHUNK_KB_DEFAULT;
	c->sync_mb = 64;
	c->upload_days = 7;
	c->max_outq = PROTO_OUTQ_DEFAULT;
	c->max_frame = PROTO_FILE_FRAME_DEFAULT;
	c->idle_timeout = PROTO_IDLE_DEFAULT;
	c->max_sessions = 1000;
}

/* Defaults, then the file, then -o, -s and -p, in that order. */
static int filed_config_load(void *cfg, char *err, size_t errlen)
{
	struct filed_config *c = cfg;
	int r;

	filed_config_defaults(c);
	r = svc_config_load(&svc, filed_keys, c, &c->common, err, errlen);
	if (r == 0 && svc.opts.port)
		r = svc_config_port(&svc, filed_keys, c, "port", "-p ", svc.opts.port, err, errlen);
	if (r < 0)
		return r;
	config_common_finish(&c->common);
	/* A data frame carries the chunk and 24 bytes of header and fields. */
	if ((uint64_t)c->chunk_kb * 1024 + 64 > c->max_frame) {
		snprintf(err, errlen, "%s: chunk_kb (%u) does not fit in max_frame (%u)",
		         svc.opts.config, c->chunk_kb, c->max_frame);
		return -EINVAL;
	}
	if ((uint64_t)c->max_outq < 4ull * c->max_frame) {
		snprintf(err, errlen, "%s: max_outq (%u) must be at least 4 x max_frame (%u)",
		         svc.opts.config, c->max_outq, c->max_frame);
		return -EINVAL;
	}
	return svc_config_paths(&c->common, err, errlen);
}

/* ---- start-up ---- */

/* State folder, certificate (shared with chatd), token key, file store. */
static int filed_setup_state(char *fp, char *err, size_t errlen)
{
	struct config_common *cc = &filed.cfg.common;
	int r = svc_state_dir(cc->state_dir, false, err, errlen);

	if (r == 0)
		r = svc_tls_load(cc, &filed.tls, fp, err, errlen);
	/* create like chatd: whichever daemon starts first makes the key. */
	if (r == 0)
		r = svc_token_key(cc, filed.token_key, err, errlen);
	if (r == 0)
		r = svc_revoke_open(cc, &filed.revoke, err, errlen);
	if (r < 0)
		return r;
	return store_open(cc->state_dir, err, errlen);
}

/* ---- running: status, reload, stop ---- */

/* The revocation list changed: sessions whose token it refuses end. */
static void filed_revoked(void)
{
	front_revoked(&filed.front);
}

static void filed_accept(int fd, const char *peer)
{
	front_accept(&filed.front, fd, peer);
}

static void filed_status(void)
{
	static uint64_t last_in = UINT64_MAX, last_out;
	static unsigned last_sessions;

	if (filed.bytes_in == last_in && filed.bytes_out == last_out &&
	    filed.front.nsessions == last_sessions)
		return;
	last_in = filed.bytes_in;
	last_out = filed.bytes_out;
	last_sessions = filed.front.nsessions;
	sd_notify_status("serving on %s: %u connections, %u transfers, %" PRIu64 " MiB in, %" PRIu64
	                 " MiB out",
	                 svc.listen_name, filed.front.nsessions, filed.ntransfers,
	                 filed.bytes_in / FILED_MIB, filed.bytes_out / FILED_MIB);
}

/* SIGHUP: re-read the file; limits apply at once, paths after a restart. */
static int filed_reload(char *err, size_t errlen)
{
	struct filed_config n;
	int r = filed_config_load(&n, err, errlen);

	if (r < 0)
		return r;
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
	log_set_verbosity(svc.opts.verbosity);
	log_info("configuration reloaded (quota %u MiB, largest file %u MiB)", n.quota_mb,
	         n.max_file_mb);
	return 0;
}

static void filed_stop(int sig)
{
	if (svc_stop_begin(&svc, sig))
		front_close_all(&filed.front);
}

static void filed_cleanup(void)
{
	front_free_all(&filed.front);
	svc_cleanup(&svc);
	listener_free(filed.listener);
	store_close();
	transfer_pool_free();
	tls_ctx_free(filed.tls);
	revoke_free(filed.revoke);
	if (filed.base)
		event_base_free(filed.base);
}

static int filed_serve(void)
{
	char err[SVC_ERR_MAX], fp[TLS_FP_LEN] = "";
	int r;

	svc_raise_nofile();
	r = filed_setup_state(fp, err, sizeof(err));
	if (r == 0) {
		filed.base = event_base_new();
		if (!filed.base)
			fatal("cannot create the event loop");
		r = svc_listen(&svc, filed.cfg.common.bind, filed.cfg.port, err, sizeof(err));
	}
	if (r == 0 && svc_events(&svc) < 0)
		fatal("out of memory");
	if (r < 0) {
		log_err("%s", err);
		filed_cleanup();
		return 1;
	}
	log_info("listening on %s (TLS fingerprint %s)", svc.listen_name, fp);
	svc_run(&svc);
	filed_cleanup();
	log_info("stopped");
	return 0;
}

static struct svc svc = {
    .name = "filed",
    .optstring = "df:nvhp:s:o:",
    .usage = usage,
    .load = filed_config_load,
    .cfg = &filed.cfg,
    .reload = filed_reload,
    .stop = filed_stop,
    .status = filed_status,
    .status_every = {FILED_STATUS_SECS, 0},
    .accept = filed_accept,
    .revoke = &filed.revoke,
    .revoked = filed_revoked,
    .base = &filed.base,
    .listener = &filed.listener,
    .stopping = &filed.stopping,
};

int main(int argc, char **argv)
{
	int status = 0;

	if (svc_start(&svc, argc, argv, &status) < 0)
		return status;
	return filed_serve();
}
