/* config: nexus.conf, an INI file with a [common] section and a section per
 * daemon. Each program describes the keys it reads with a table; keys of its
 * own sections that it does not know are errors ("file:line: unknown key"),
 * other daemons' sections are skipped. */
#ifndef NEXUS_CONFIG_H
#define NEXUS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH_MAX 512
#define CONFIG_STR_MAX 256

enum config_kind {
	CONFIG_STR,  /* char[size] */
	CONFIG_PATH, /* char[size], "~/" not expanded; relative paths kept */
	CONFIG_U32,  /* uint32_t, within [min, max] */
	CONFIG_PORT, /* uint16_t, 1..65535 */
	CONFIG_BOOL, /* int: yes/no, true/false, on/off, 1/0 */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_kind kind;
	size_t offset; /* into the program's config struct */
	size_t size;   /* buffer size for STR and PATH */
	uint32_t min, max;
	const char *help; /* one line, for the example config and man page */
};

/* Settings every daemon shares, in [common]. */
struct config_common {
	char state_dir[CONFIG_PATH_MAX]; /* default: /var/lib/nexus */
	char cert_file[CONFIG_PATH_MAX]; /* default: STATE/tls/cert.pem */
	char key_file[CONFIG_PATH_MAX];  /* default: STATE/tls/key.pem */
	char token_key[CONFIG_PATH_MAX]; /* default: STATE/token.key */
	char bind[CONFIG_STR_MAX];       /* default: "::" (all addresses) */
	char hostname[CONFIG_STR_MAX];   /* certificate name; default: gethostname */
	uint32_t token_ttl;              /* seconds; default 30 days */
	uint32_t max_conns_per_addr;     /* connections one address may hold; 0 = any */
};

/* The [common] key table for a program struct with a struct config_common
 * member at offset base; use CONFIG_COMMON_KEYS(type, member) inside a key
 * table, then terminate the table with CONFIG_KEYS_END. */
/* One entry per key, as written (test_install reads the names). */
/* clang-format off */
#define CONFIG_COMMON_KEYS(T, M)                                                                  \
	{"common", "state_dir", CONFIG_PATH, offsetof(T, M.state_dir), CONFIG_PATH_MAX, 0, 0,      \
	 "folder for databases, keys and files"},                                                  \
	{"common", "cert_file", CONFIG_PATH, offsetof(T, M.cert_file), CONFIG_PATH_MAX, 0, 0,      \
	 "TLS certificate (PEM); made on first start if missing"},                                 \
	{"common", "key_file", CONFIG_PATH, offsetof(T, M.key_file), CONFIG_PATH_MAX, 0, 0,        \
	 "TLS private key (PEM); made on first start if missing"},                                 \
	{"common", "token_key", CONFIG_PATH, offsetof(T, M.token_key), CONFIG_PATH_MAX, 0, 0,      \
	 "HMAC key shared by the daemons to sign login tokens"},                                   \
	{"common", "bind", CONFIG_STR, offsetof(T, M.bind), CONFIG_STR_MAX, 0, 0,                  \
	 "address to listen on"},                                                                  \
	{"common", "hostname", CONFIG_STR, offsetof(T, M.hostname), CONFIG_STR_MAX, 0, 0,          \
	 "name put in a generated certificate"},                                                   \
	{"common", "token_ttl", CONFIG_U32, offsetof(T, M.token_ttl), 0, 60, 31536000,             \
	 "seconds a login token stays valid"},                                                     \
	{"common", "max_conns_per_addr", CONFIG_U32, offsetof(T, M.max_conns_per_addr), 0, 0,       \
	 65535, "connections one client address may hold at a time (0 = no cap)"}
#define CONFIG_KEYS_END {NULL, NULL, CONFIG_STR, 0, 0, 0, 0, NULL}
/* clang-format on */

/* Fill c with defaults; state_dir is used for the derived paths. */
void config_common_defaults(struct config_common *c, const char *state_dir);

/* After loading: derive cert/key/token paths left empty from state_dir. */
void config_common_finish(struct config_common *c);

/* Parse path into base using keys. A missing file is not an error when
 * optional is set. On error returns a negative errno and writes
 * "FILE:LINE: message" into err. */
int config_load(const char *path, int optional, const struct config_key *keys, void *base,
                char *err, size_t errlen);

/* Parse one "key = value" assignment given as "section.key=value" (for
 * command-line overrides). Same errors as config_load. */
int config_set(const char *assignment, const struct config_key *keys, void *base, char *err,
               size_t errlen);

#endif
