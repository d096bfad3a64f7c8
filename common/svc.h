/* svc: the start-up skeleton the daemons share. Flags (-d -f -n -v -h -p -s
 * -o), logging, SIGPIPE and umask, the configuration and -n, the state
 * folder, certificate and token key, the listening socket (or systemd's),
 * signals (SIGTERM and SIGINT stop, SIGHUP reloads), READY, RELOADING,
 * STOPPING and STATUS notification, the watchdog and the run loop.
 *
 * A daemon fills one struct svc with its name, flags and hooks and calls
 * these steps from main. Unlike the rest of common/, this is main's own
 * layer: it prints flag and configuration errors and logs start, reload
 * and stop, as each main did. (The prefix is not "daemon_": glibc has
 * daemon(3).) */
#ifndef NEXUS_SVC_H
#define NEXUS_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/types.h>

#include "auth.h"
#include "config.h"
#include "tls.h"

#define SVC_CONFIG_DEFAULT "/etc/nexus/nexus.conf"
/* The flags every daemon's usage lists, after its synopsis and before -p. */
#define SVC_USAGE_FLAGS                                                                            \
	"  -d        stay in the foreground and log to stderr\n"                                   \
	"  -f FILE   configuration file (default " SVC_CONFIG_DEFAULT ")\n"                        \
	"  -n        check the configuration and exit\n"                                           \
	"  -v        more verbose logging (repeat for more)\n"                                     \
	"  -h        show this help\n"
#define SVC_USAGE_STATE "  -s DIR    state folder (default /var/lib/nexus)\n"
#define SVC_ERR_MAX 768
#define SVC_NAME_MAX 128
#define SVC_STOP_SECS 3
#define SVC_REVOKE_SECS 2
/* What a session ended by revocation is told, and why it is logged. */
#define SVC_REVOKED_WHY "password reset or account removed"
#define SVC_REVOKED_TEXT "your login was revoked (" SVC_REVOKED_WHY "): log in again"

struct event;
struct event_base;
struct listener;

/* What the flags said. */
struct svc_opts {
	const char *config;
	bool config_given, foreground, check;
	int verbosity;
	const char *port, *state_dir;
	const char **overrides; /* each -o, in order */
	size_t noverrides;
};

struct svc {
	/* Set by the daemon. */
	const char *name;      /* log ident, message prefix and config section */
	const char *optstring; /* getopt(3): "df:nvhp:s:o:" and the daemon's own */
	bool operands;         /* operands are the daemon's (else an error) */
	void (*usage)(FILE *f);
	/* A flag svc does not know: 0 to go on, or the exit status. */
	int (*flag)(int ch, const char *arg);
	/* Defaults, the file and the flags into cfg; a sentence in err. */
	int (*load)(void *cfg, char *err, size_t errlen);
	void *cfg;
	/* SIGHUP: re-read and apply; on error the running one stays. */
	int (*reload)(char *err, size_t errlen);
	void (*reloaded)(void); /* optional: after each reload, good or bad */
	void (*stop)(int sig);  /* SIGTERM, SIGINT */
	void (*status)(void);   /* every status_every */
	struct timeval status_every;
	void (*accept)(int fd, const char *peer); /* for svc_listen */
	/* Optional: the token revocation list, and a walk that ends the live
	 * sessions whose tokens it now refuses (svc_token_revoked), run within
	 * SVC_REVOKE_SECS of a change of the list. */
	struct revoke **revoke;
	void (*revoked)(void);
	/* The daemon's own fields the shared steps use. */
	struct event_base **base;
	struct listener **listener;
	bool *stopping;

	/* Set by svc. */
	struct svc_opts opts;
	char listen_name[SVC_NAME_MAX]; /* "host:port" we listen on */
	struct event *status_ev, *stop_ev, *signal_evs[3], *revoke_ev;
	unsigned revoke_gen;
};

/* Flags, logging, SIGPIPE ignored, umask, then the configuration; prints a
 * configuration error or the -n verdict. A -p that is not a port is a
 * usage error in every daemon: "NAME: -p VALUE: not a port (1 to 65535)",
 * exit 2. Returns the index of the first
 * operand to go on, or -1 with the exit status in *ret_status. */
int svc_start(struct svc *s, int argc, char **argv, int *ret_status);

/* The configuration file, then each -o, then -s, into cfg with keys. */
int svc_config_load(const struct svc *s, const struct config_key *keys, void *cfg,
                    struct config_common *cc, char *err, size_t errlen);
/* A flag's value is a port number, 1 to 65535 (for a daemon's own port
 * flags: the same check and message as -p). */
bool svc_port_ok(const char *s);
/* A port flag's value as NAME.key; on error err says
 * "FLAGVALUE: the port must be a number between 1 and 65535". */
int svc_config_port(const struct svc *s, const struct config_key *keys, void *cfg, const char *key,
                    const char *flag, const char *value, char *err, size_t errlen);
/* "state_dir ... is too long" when a derived path did not fit. */
int svc_config_paths(const struct config_common *cc, char *err, size_t errlen);

/* Descriptors are the cost of a session: allow as many as the hard limit. */
void svc_raise_nofile(void);
/* Creates the state folder and checks we may use it (and, with need_dir,
 * that it is a folder). */
int svc_state_dir(const char *dir, bool need_dir, char *err, size_t errlen);
/* Creates the folder of path when it lies inside the state folder. */
void svc_parent_dir(const char *state, const char *path);
/* The certificate (made when missing) into *ctx and its fingerprint. */
int svc_tls_load(const struct config_common *cc, SSL_CTX **ctx, char fp[TLS_FP_LEN], char *err,
                 size_t errlen);
/* The token key, made by whichever daemon starts first. */
struct revoke;
/* The token revocation list beside the token key (common/revoke.h). */
int svc_revoke_open(const struct config_common *cc, struct revoke **ret, char *err, size_t errlen);
/* Verify a token, then check it against the revocation list (re-read when
 * it changed; a damaged list is logged once). Returns 0, -EKEYEXPIRED,
 * -EBADMSG (forged or malformed), or -EKEYREVOKED (revoked, or the list is
 * unusable: fail closed). Outputs may be NULL. */
int svc_token_verify(struct revoke *rv, const uint8_t key[AUTH_KEY_LEN], const char *token,
                     uint64_t now_s, char *ret_user, size_t user_size, uint64_t *ret_expiry,
                     uint64_t *ret_issued_ms);
/* Whether a verified session's token (user, issued_ms) has been revoked
 * since: for the daemons' periodic sweep of live sessions. */
bool svc_token_revoked(struct revoke *rv, const char *user, uint64_t issued_ms);
int svc_token_key(const struct config_common *cc, uint8_t key[AUTH_KEY_LEN], char *err,
                  size_t errlen);

/* The socket systemd passed, else bind:port; accepts to s->accept. */
int svc_listen(struct svc *s, const char *bind, uint16_t port, char *err, size_t errlen);
/* Signal events and the status timer on *s->base. */
int svc_events(struct svc *s);
/* First SIGTERM: STOPPING, close the listener, leave in SVC_STOP_SECS.
 * Returns true then; a second signal leaves at once and returns false. */
bool svc_stop_begin(struct svc *s, int sig);
/* READY, the watchdog, then the loop until it ends. */
void svc_run(struct svc *s);
/* Frees what svc made (events, the flag list); stops the watchdog. */
void svc_cleanup(struct svc *s);

#endif
