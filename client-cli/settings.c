/* settings: where the server is and who we are. Flags beat the environment,
 * which beats the config file, which beats the defaults. Also the token
 * cache and password input. */
#include "client.h"
#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"

#define SETTINGS_LINE_MAX 1024

void settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->server, sizeof(s->server), "%s", NEXUS_DEFAULT_SERVER);
	s->port = NEXUS_DEFAULT_CHAT_PORT;
	s->file_port = NEXUS_DEFAULT_FILE_PORT;
}

int settings_global_opt(struct settings *s, int key, const char *arg)
{
	switch (key) {
	case 's':
		s->flag_server = arg;
		return 1;
	case 'P':
		s->flag_port = arg;
		return 1;
	case 'u':
		s->flag_user = arg;
		return 1;
	case 'J':
		s->json = 1;
		return 1;
	case 'q':
		s->quiet = 1;
		return 1;
	default:
		return 0;
	}
}

static int settings_set_port(struct settings *s, const char *val, const char *where)
{
	char *end;
	unsigned long p;

	errno = 0;
	p = strtoul(val, &end, 10);
	if (errno || end == val || *end || p < 1 || p > 65535 || !isdigit((unsigned char)val[0])) {
		out_err("%s: invalid port '%s' (1-65535)", where, val);
		return EXIT_USAGE;
	}
	s->port = (uint16_t)p;
	s->port_set = 1;
	return 0;
}

static int settings_set_file_port(struct settings *s, const char *val, const char *where)
{
	uint16_t chat = s->port;
	int chat_set = s->port_set, r = settings_set_port(s, val, where);

	if (r == 0)
		s->file_port = s->port;
	s->port = chat;
	s->port_set = chat_set;
	return r;
}

static int settings_set_server(struct settings *s, const char *val, const char *where)
{
	size_t n = strlen(val);

	if (n == 0 || n >= sizeof(s->server_arg) || strpbrk(val, " \t/")) {
		out_err("%s: invalid server name '%s'", where, val);
		return EXIT_USAGE;
	}
	memcpy(s->server_arg, val, n + 1);
	return 0;
}

static int settings_set_user(struct settings *s, const char *val, const char *where)
{
	if (!auth_name_valid(val)) {
		out_err("%s: invalid user name '%s' (1-32 of A-Z a-z 0-9 _ -)", where, val);
		return EXIT_USAGE;
	}
	snprintf(s->user, sizeof(s->user), "%s", val);
	s->user_set = 1;
	return 0;
}

static int settings_config_dir(struct settings *s)
{
	const char *env = getenv("NEXUS_CONFIG_DIR");
	const char *home;
	int n;

	if (env && *env) {
		n = snprintf(s->config_dir, sizeof(s->config_dir), "%s", env);
	} else if ((env = getenv("XDG_CONFIG_HOME")) && *env == '/') {
		n = snprintf(s->config_dir, sizeof(s->config_dir), "%s/nexus", env);
	} else {
		struct passwd *pw;
		home = getenv("HOME");
		if ((!home || !*home) && (pw = getpwuid(getuid())))
			home = pw->pw_dir;
		if (!home || !*home) {
			out_err("cannot find a config folder: set HOME or NEXUS_CONFIG_DIR");
			return EXIT_ERROR;
		}
		n = snprintf(s->config_dir, sizeof(s->config_dir), "%s/.config/nexus", home);
	}
	if (n < 0 || (size_t)n >= sizeof(s->config_dir)) {
		out_err("config folder path too long");
		return EXIT_ERROR;
	}
	return 0;
}

static char *settings_trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

/* One "key = value" line of the config file; 0 or an exit status. */
static int settings_config_line(struct settings *s, char *line, const char *where)
{
	char *eq = strchr(line, '='), *key, *val;

	if (!eq) {
		out_err("%s: expected 'key = value'", where);
		return EXIT_ERROR;
	}
	*eq = '\0';
	key = settings_trim(line);
	val = settings_trim(eq + 1);
	if (strcmp(key, "server") == 0)
		return settings_set_server(s, val, where) ? EXIT_ERROR : 0;
	if (strcmp(key, "chat_port") == 0)
		return settings_set_port(s, val, where) ? EXIT_ERROR : 0;
	if (strcmp(key, "user") == 0)
		return settings_set_user(s, val, where) ? EXIT_ERROR : 0;
	if (strcmp(key, "file_port") == 0)
		return settings_set_file_port(s, val, where) ? EXIT_ERROR : 0;
	out_err("%s: unknown key '%s' (known: server, chat_port, file_port, user)", where, key);
	return EXIT_ERROR;
}

static int settings_config_load(struct settings *s)
{
	char path[SETTINGS_PATH_MAX + 16], line[SETTINGS_LINE_MAX], where[SETTINGS_PATH_MAX + 32];
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/config", s->config_dir);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		out_err("cannot read %s: %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	while (r == 0 && fgets(line, sizeof(line), f)) {
		char *p = settings_trim(line);
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		/* Comments, blank lines and an optional section header. */
		if (*p == '\0' || *p == '#' || *p == ';' || *p == '[')
			continue;
		r = settings_config_line(s, p, where);
	}
	fclose(f);
	return r;
}

static int settings_env(struct settings *s)
{
	const char *v;

	if ((v = getenv("NEXUS_SERVER")) && *v && settings_set_server(s, v, "NEXUS_SERVER"))
		return EXIT_USAGE;
	if ((v = getenv("NEXUS_CHAT_PORT")) && *v && settings_set_port(s, v, "NEXUS_CHAT_PORT"))
		return EXIT_USAGE;
	if ((v = getenv("NEXUS_USER")) && *v && settings_set_user(s, v, "NEXUS_USER"))
		return EXIT_USAGE;
	if ((v = getenv("NEXUS_FILE_PORT")) && *v &&
	    settings_set_file_port(s, v, "NEXUS_FILE_PORT"))
		return EXIT_USAGE;
	return 0;
}

static int settings_flags(struct settings *s)
{
	if (s->flag_server && settings_set_server(s, s->flag_server, "--server"))
		return EXIT_USAGE;
	if (s->flag_port && settings_set_port(s, s->flag_port, "--chat-port"))
		return EXIT_USAGE;
	if (s->flag_user && settings_set_user(s, s->flag_user, "--user"))
		return EXIT_USAGE;
	return 0;
}

static void settings_set_host_port(struct settings *s)
{
	snprintf(s->host_port, sizeof(s->host_port), strchr(s->server, ':') ? "[%s]:%u" : "%s:%u",
	         s->server, s->port);
}

int settings_split(const char *in, char host[SETTINGS_HOST_MAX], uint16_t *ret_port)
{
	const char *colon = strrchr(in, ':'), *port = NULL, *close = strchr(in, ']');
	unsigned long p = 0;
	char *end;
	int n;

	if (in[0] == '[' && close) {
		n = snprintf(host, SETTINGS_HOST_MAX, "%.*s", (int)(close - in - 1), in + 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -EINVAL;
	} else if (colon && colon == strchr(in, ':')) {
		n = snprintf(host, SETTINGS_HOST_MAX, "%.*s", (int)(colon - in), in);
		port = colon + 1;
	} else {
		n = snprintf(host, SETTINGS_HOST_MAX, "%s", in);
	}
	if (n <= 0 || n >= SETTINGS_HOST_MAX || strpbrk(host, " \t/[]"))
		return -EINVAL;
	if (port) {
		/* strtoul would take " 55", "+55" and "-1" (as a huge number). */
		if (!isdigit((unsigned char)port[0]))
			return -EINVAL;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || p < 1 || p > 65535)
			return -EINVAL;
	}
	*ret_port = (uint16_t)p;
	return 0;
}

static void settings_apply_entry(struct settings *s, const struct saved_server *e)
{
	snprintf(s->server, sizeof(s->server), "%s", e->host);
	s->port = e->port;
	snprintf(s->name, sizeof(s->name), "%s", e->name);
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", e->fp);
	if (!s->user_set)
		snprintf(s->user, sizeof(s->user), "%s", e->user);
}

/* Which saved server, if any, arg names: a name first, else an address. A
 * port counts when arg has one or s->port_set; without one, the entry on
 * s's port, else the only entry on that host. */
static int settings_pick(struct settings *s, const struct server_list *l, const char *arg)
{
	char host[SETTINGS_HOST_MAX];
	uint16_t port = 0;
	int i = servers_find_name(l, arg), n = 0;

	s->name[0] = s->fingerprint[0] = '\0';
	if (i >= 0) {
		if (!s->port_set || s->port == l->v[i].port) {
			settings_apply_entry(s, &l->v[i]);
			return 0;
		}
		snprintf(host, sizeof(host), "%s", l->v[i].host); /* its host, another port */
	} else if (settings_split(arg, host, &port) < 0) {
		out_err("invalid server '%s' (a saved name, HOST, HOST:PORT or [IPv6]:PORT)", arg);
		return EXIT_USAGE;
	}
	if (port) {
		s->port = port;
		s->port_set = 1;
	}
	snprintf(s->server, sizeof(s->server), "%s", host);
	i = servers_find_addr(l, host, s->port);
	if (i < 0 && !s->port_set) {
		for (unsigned k = 0; k < l->n; k++)
			if (strcasecmp(l->v[k].host, host) == 0 && n++ == 0)
				i = (int)k;
		if (n > 1) {
			out_err("%s names %d saved servers: pick one by name (see: nexus servers) "
			        "or give the port",
			        host, n);
			return EXIT_USAGE;
		}
	}
	if (i >= 0)
		settings_apply_entry(s, &l->v[i]);
	return 0;
}

/* The server: the one named by -s, NEXUS_SERVER or the config file, else
 * the saved default (unless only a port was given), else localhost. */
static int settings_choose(struct settings *s, const struct server_list *l)
{
	int r;

	s->server_set = s->server_arg[0] || (l->def >= 0 && !s->port_set);
	if (s->server_arg[0])
		r = settings_pick(s, l, s->server_arg);
	else if (l->def >= 0 && !s->port_set)
		r = settings_pick(s, l, l->v[l->def].name);
	else
		r = settings_pick(s, l, NEXUS_DEFAULT_SERVER);
	if (r == 0)
		settings_set_host_port(s);
	return r;
}

/* The saved servers. Lines skipped as damaged are told once a run (a
 * command may load the file more than once), with the first one's place. */
static int settings_servers(const struct settings *s, struct server_list **ret)
{
	static int warned;
	char why[64], more[48] = "";
	struct server_list *l;
	int r = servers_load(s->config_dir, &l);

	if (r < 0) {
		out_err("cannot read %s/servers: %s", s->config_dir, strerror(-r));
		return EXIT_ERROR;
	}
	if (l->nbad && !warned) {
		warned = 1;
		if (l->nbad > 1)
			snprintf(more, sizeof(more), " (and %u more bad lines)", l->nbad - 1);
		if (l->bad_why == -E2BIG)
			snprintf(why, sizeof(why), "more than %d servers, line skipped",
			         SERVERS_MAX);
		else
			snprintf(why, sizeof(why), "damaged line skipped");
		out_err("%s/servers:%u: %s%s; the next change to the saved servers drops %s",
		        s->config_dir, l->bad_line, why, more, l->nbad > 1 ? "them" : "it");
	}
	*ret = l;
	return 0;
}

int settings_resolve(struct settings *s)
{
	struct server_list *l;
	struct settings *bare;
	int r;

	if ((r = settings_config_dir(s)) || (r = settings_config_load(s)) ||
	    (r = settings_env(s)) || (r = settings_servers(s, &l)))
		return r;
	/* What a command without -s, -P and -u would use, for hints. */
	bare = xcalloc(1, sizeof(*bare));
	*bare = *s;
	r = settings_choose(bare, l);
	if (r == 0)
		snprintf(s->default_hp, sizeof(s->default_hp), "%s", bare->host_port);
	free(bare);
	if (r == 0 && (r = settings_flags(s)) == 0)
		r = settings_choose(s, l);
	servers_free(l);
	if (r)
		return r;
	snprintf(s->known_path, sizeof(s->known_path), "%s/known_servers", s->config_dir);
	return 0;
}

int settings_use_server(struct settings *s, const char *arg)
{
	struct server_list *l;
	int r = settings_servers(s, &l);

	if (r)
		return r;
	if (strlen(arg) >= sizeof(s->server_arg)) {
		servers_free(l);
		out_err("invalid server '%.64s...': too long", arg);
		return EXIT_USAGE;
	}
	snprintf(s->server_arg, sizeof(s->server_arg), "%s", arg);
	r = settings_choose(s, l);
	servers_free(l);
	return r;
}

int settings_is_default(const struct settings *s)
{
	return strcmp(s->default_hp, s->host_port) == 0;
}

const char *settings_cmd_prefix(const struct settings *s)
{
	static char buf[SETTINGS_HOST_MAX + 48];

	if (settings_is_default(s))
		snprintf(buf, sizeof(buf), "nexus");
	else if (s->name[0])
		snprintf(buf, sizeof(buf), "nexus -s %s", s->name);
	else if (s->port == NEXUS_DEFAULT_CHAT_PORT)
		snprintf(buf, sizeof(buf), "nexus -s %s", s->server);
	else
		snprintf(buf, sizeof(buf), "nexus -s %s -P %u", s->server, s->port);
	return buf;
}

void settings_login_hint(const struct settings *s, char *text, size_t len)
{
	const char *prefix = settings_cmd_prefix(s);
	char *at = strstr(text, "nexus login"), tail[1024];

	if (!at || strcmp(prefix, "nexus") == 0)
		return;
	snprintf(tail, sizeof(tail), "%s", at + strlen("nexus"));
	snprintf(at, len - (size_t)(at - text), "%s%s", prefix, tail);
}

/* tokens/HOST_PORT with anything but [A-Za-z0-9.-] in HOST made '_'. */
const char *settings_token_path(const struct settings *s, char *buf, size_t len)
{
	char host[SETTINGS_HOST_MAX];
	size_t i;

	for (i = 0; s->server[i] && i + 1 < sizeof(host); i++) {
		unsigned char ch = (unsigned char)s->server[i];
		host[i] = (isalnum(ch) || ch == '.' || ch == '-') ? (char)ch : '_';
	}
	host[i] = '\0';
	snprintf(buf, len, "%s/tokens/%s_%u", s->config_dir, host, s->port);
	return buf;
}

int settings_token_load(const struct settings *s, char ret_user[PROTO_NAME_MAX + 1],
                        char ret_token[PROTO_SECRET_MAX + 1], uint64_t *ret_expiry)
{
	char path[SETTINGS_PATH_MAX + 300], line[PROTO_SECRET_MAX + PROTO_NAME_MAX + 64];
	char user[PROTO_NAME_MAX + 1], token[PROTO_SECRET_MAX + 1];
	uint64_t expiry;
	FILE *f;
	int ok;

	f = fopen(settings_token_path(s, path, sizeof(path)), "re");
	if (!f)
		return -errno;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok || sscanf(line, "%32s %256s %" SCNu64, user, token, &expiry) != 3 ||
	    !auth_name_valid(user))
		return -EBADMSG;
	memcpy(ret_user, user, sizeof(user));
	memcpy(ret_token, token, sizeof(token));
	*ret_expiry = expiry;
	return 0;
}

int settings_login_valid(const struct settings *s, char ret_user[PROTO_NAME_MAX + 1],
                         char ret_token[PROTO_SECRET_MAX + 1])
{
	char user[PROTO_NAME_MAX + 1], token[PROTO_SECRET_MAX + 1];
	uint64_t expiry;
	int ok = settings_token_load(s, user, token, &expiry) == 0 &&
	         (expiry == 0 || expiry > (uint64_t)time(NULL)) &&
	         (!s->flag_user || strcmp(s->user, user) == 0);

	if (ok && ret_user)
		memcpy(ret_user, user, sizeof(user));
	if (ok && ret_token)
		memcpy(ret_token, token, sizeof(token));
	explicit_bzero(token, sizeof(token));
	return ok;
}

int settings_mkdirs(const char *dir)
{
	return fsutil_mkdir_p(dir, 0700);
}

int settings_write_atomic(const char *path, const void *buf, size_t len)
{
	return fsutil_replace_buf(path, 0600, 0, buf, len);
}

int settings_token_save(const struct settings *s, const char *user, const char *token,
                        uint64_t expiry)
{
	char dir[SETTINGS_PATH_MAX + 16], path[SETTINGS_PATH_MAX + 300];
	char line[PROTO_SECRET_MAX + PROTO_NAME_MAX + 64];
	int r, n;

	snprintf(dir, sizeof(dir), "%s/tokens", s->config_dir);
	if ((r = settings_mkdirs(dir)) < 0)
		return r;
	settings_token_path(s, path, sizeof(path));
	n = snprintf(line, sizeof(line), "%s %s %" PRIu64 "\n", user, token, expiry);
	r = settings_write_atomic(path, line, (size_t)n);
	explicit_bzero(line, sizeof(line));
	return r;
}

int settings_token_remove(const struct settings *s)
{
	char path[SETTINGS_PATH_MAX + 300];

	if (unlink(settings_token_path(s, path, sizeof(path))) < 0)
		return -errno;
	return 0;
}

static void settings_chomp(char *p)
{
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = '\0';
}

/* Read one line from the terminal, echo off when secret. */
static int settings_tty_read(const char *prompt, int secret, char *out, size_t outlen)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), r = 0;
	FILE *f;

	if (fd < 0)
		return -ENOTTY;
	f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	if (secret && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	} else {
		secret = 0;
	}
	fputs(prompt, f);
	fflush(f);
	if (!fgets(out, (int)outlen, f))
		r = -EIO;
	if (secret) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputs("\n", f);
	}
	fclose(f);
	if (r == 0)
		settings_chomp(out);
	return r;
}

int settings_ask(const char *question, char *out, size_t outlen)
{
	if (!isatty(STDIN_FILENO))
		return -ENOTTY;
	return settings_tty_read(question, 0, out, outlen);
}

static int settings_password_tty(int confirm, char *out, size_t outlen)
{
	char again[AUTH_PASSWORD_MAX + 2];
	int r = settings_tty_read("Password: ", 1, out, outlen);

	if (r == -ENOTTY) {
		out_err(
		    "no password: set NEXUS_PASSWORD, use --password-stdin or run on a terminal");
		return EXIT_USAGE;
	}
	if (r < 0) {
		out_err("no password given");
		return EXIT_ERROR;
	}
	if (!confirm)
		return 0;
	r = settings_tty_read("Password again: ", 1, again, sizeof(again));
	if (r < 0 || strcmp(again, out) != 0) {
		explicit_bzero(again, sizeof(again));
		out_err("the passwords do not match");
		return EXIT_ERROR;
	}
	explicit_bzero(again, sizeof(again));
	return 0;
}

int settings_password(int from_stdin, int confirm, char *out, size_t outlen)
{
	const char *env = getenv("NEXUS_PASSWORD");
	int r = 0;

	if (env && *env) {
		snprintf(out, outlen, "%s", env);
	} else if (from_stdin) {
		if (!fgets(out, (int)outlen, stdin)) {
			out_err("no password on standard input");
			return EXIT_USAGE;
		}
		settings_chomp(out);
	} else {
		r = settings_password_tty(confirm, out, outlen);
	}
	if (r == 0 && out[0] == '\0') {
		out_err("empty password");
		r = EXIT_USAGE;
	} else if (r == 0 && strlen(out) > AUTH_PASSWORD_MAX) {
		out_err("password too long (at most %d bytes)", AUTH_PASSWORD_MAX);
		r = EXIT_USAGE;
	}
	return r;
}
