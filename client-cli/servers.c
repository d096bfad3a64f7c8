/* servers: the saved servers, CONFIGDIR/servers. A server is saved by its
 * first successful trust, login or register; the first one saved becomes
 * the default, which commands without -s use. Each entry keeps the pinned
 * certificate fingerprint beside the address, so that a server can later be
 * recognised by its identity rather than its address.
 *
 * The file is written by nexus, one line per server:
 *   NAME HOST PORT FINGERPRINT USER     ("-" for an empty field)
 * and one "default NAME" line. Writers serialise on a lock of the folder
 * and replace the file through a temporary one and rename. A line that is
 * not an entry (edited by hand, past SERVERS_MAX) is skipped, not fatal:
 * every command reads this file, and one that refused to start could not
 * repair it either; the next write leaves the line out. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"

#define SERVERS_LINE_MAX 1024

int servers_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SERVERS_NAME_MAX || name[0] == '-' || name[0] == '#' ||
	    strcmp(name, "default") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] >= 127 || name[i] == '/')
			return 0;
	return 1;
}

static void servers_path(const char *config_dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/servers", config_dir);
}

static const char *servers_field(const char *v)
{
	return v[0] ? v : "-";
}

/* A host as settings_split takes it: printable, no spaces, '/' or brackets. */
static int servers_host_valid(const char *host)
{
	for (const char *p = host; *p; p++)
		if (*p <= ' ' || *p >= 127 || strchr("/[]", *p))
			return 0;
	return host[0] != '\0';
}

int servers_parse_entry(char *line, struct saved_server *e)
{
	char *f[5], *save = NULL, *end;
	unsigned long port;
	int n = 0;

	for (char *p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (n == 5)
			return -EBADMSG;
		f[n++] = p;
	}
	if (n != 5 || !servers_name_valid(f[0]) || strlen(f[1]) >= sizeof(e->host) ||
	    !servers_host_valid(f[1]) || strlen(f[3]) >= sizeof(e->fp))
		return -EBADMSG;
	errno = 0;
	port = strtoul(f[2], &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EBADMSG;
	if (strcmp(f[4], "-") != 0 && !auth_name_valid(f[4]))
		return -EBADMSG;
	memset(e, 0, sizeof(*e));
	memcpy(e->name, f[0], strlen(f[0]) + 1);
	memcpy(e->host, f[1], strlen(f[1]) + 1);
	e->port = (uint16_t)port;
	if (strcmp(f[3], "-") != 0)
		memcpy(e->fp, f[3], strlen(f[3]) + 1);
	if (strcmp(f[4], "-") != 0)
		snprintf(e->user, sizeof(e->user), "%s", f[4]);
	return 0;
}

int servers_find_name(const struct server_list *l, const char *name)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

int servers_find_addr(const struct server_list *l, const char *host, uint16_t port)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->v[i].port == port && strcasecmp(l->v[i].host, host) == 0)
			return (int)i;
	return -1;
}

/* A line that is no entry: counted, its number kept for the warning. */
static void servers_bad_line(struct server_list *l, unsigned lineno, int why)
{
	if (l->nbad++ == 0) {
		l->bad_line = lineno;
		l->bad_why = why;
	}
}

/* One line of the file (trimmed, not a comment) into l. */
static void servers_load_line(struct server_list *l, char *p, unsigned lineno,
                              char def[SERVERS_NAME_MAX + 2])
{
	if (strncmp(p, "default ", 8) == 0) {
		if (servers_name_valid(p + 8))
			snprintf(def, SERVERS_NAME_MAX + 2, "%s", p + 8);
		else
			servers_bad_line(l, lineno, -EBADMSG);
	} else if (l->n >= SERVERS_MAX) {
		servers_bad_line(l, lineno, -E2BIG);
	} else if (servers_parse_entry(p, &l->v[l->n]) < 0) {
		servers_bad_line(l, lineno, -EBADMSG);
	} else if (servers_find_name(l, l->v[l->n].name) < 0 &&
	           servers_find_addr(l, l->v[l->n].host, l->v[l->n].port) < 0) {
		l->n++; /* the same name or address twice: the later line is a leftover */
	}
}

int servers_load(const char *config_dir, struct server_list **ret)
{
	char path[SETTINGS_PATH_MAX + 16], line[SERVERS_LINE_MAX], def[SERVERS_NAME_MAX + 2] = "";
	struct server_list *l;
	unsigned lineno = 0;
	int c, r;
	FILE *f;

	servers_path(config_dir, path, sizeof(path));
	f = fopen(path, "re");
	if (!f && errno != ENOENT)
		return -errno;
	l = xcalloc(1, sizeof(*l));
	l->def = -1;
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line;
		size_t n = strlen(line);

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			/* Longer than any entry: skip the rest of it. */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			servers_bad_line(l, lineno, -EBADMSG);
			continue;
		}
		p[strcspn(p, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && *p != '#')
			servers_load_line(l, p, lineno, def);
	}
	r = f && ferror(f) ? -EIO : 0;
	if (f)
		fclose(f);
	if (r < 0) {
		free(l);
		return r;
	}
	l->def = def[0] ? servers_find_name(l, def) : -1;
	*ret = l;
	return 0;
}

void servers_free(struct server_list *l)
{
	free(l);
}

static int servers_write(const char *config_dir, const struct server_list *l)
{
	char path[SETTINGS_PATH_MAX + 16], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -errno;
	fprintf(f, "# Saved servers, written by nexus (see nexus(1)):\n"
	           "# NAME HOST PORT FINGERPRINT USER; \"default NAME\" is used without -s.\n");
	if (l->def >= 0)
		fprintf(f, "default %s\n", l->v[l->def].name);
	for (unsigned i = 0; i < l->n; i++) {
		const struct saved_server *e = &l->v[i];
		fprintf(f, "%s %s %u %s %s\n", e->name, e->host, e->port, servers_field(e->fp),
		        servers_field(e->user));
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	servers_path(config_dir, path, sizeof(path));
	r = settings_write_atomic(path, buf, len);
	free(buf);
	return r;
}

/* Load, let fn change the list, write it back, all under the folder lock
 * so that two clients saving at once lose nothing. fn returns 0 to write,
 * 1 to leave the file alone, or a negative errno. */
static int servers_update(const char *config_dir, int (*fn)(struct server_list *l, void *arg),
                          void *arg)
{
	struct server_list *l;
	int dfd, r;

	r = settings_mkdirs(config_dir);
	if (r < 0)
		return r;
	dfd = open(config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	while (flock(dfd, LOCK_EX) < 0 && errno == EINTR)
		;
	r = servers_load(config_dir, &l);
	if (r == 0) {
		r = fn(l, arg);
		if (r == 0)
			r = servers_write(config_dir, l);
		else if (r > 0)
			r = 0;
		servers_free(l);
	}
	flock(dfd, LOCK_UN);
	close(dfd);
	return r;
}

/* A name for a new entry: the address as -s takes it, made unique. */
static void servers_new_name(const struct server_list *l, const char *host, uint16_t port,
                             char out[SERVERS_NAME_MAX + 1])
{
	char base[SERVERS_NAME_MAX + 1];

	if (port == NEXUS_DEFAULT_CHAT_PORT)
		snprintf(base, sizeof(base), "%.*s", SERVERS_NAME_MAX, host);
	else
		snprintf(base, sizeof(base), strchr(host, ':') ? "[%.50s]:%u" : "%.58s:%u", host,
		         port);
	if (!servers_name_valid(base))
		snprintf(base, sizeof(base), "server");
	snprintf(out, SERVERS_NAME_MAX + 1, "%s", base);
	for (unsigned i = 2; servers_find_name(l, out) >= 0 && i < 2 * SERVERS_MAX; i++)
		snprintf(out, SERVERS_NAME_MAX + 1, "%.56s-%u", base, i);
}

struct remember {
	const struct settings *s;
	const char *fp;
	const char *user;
	char name[SERVERS_NAME_MAX + 1];
	int added;
};

static int servers_remember_fn(struct server_list *l, void *arg)
{
	struct remember *m = arg;
	int i = servers_find_addr(l, m->s->server, m->s->port);
	struct saved_server *e;

	if (i < 0) {
		if (l->n >= SERVERS_MAX)
			return -E2BIG;
		e = &l->v[l->n];
		memset(e, 0, sizeof(*e));
		servers_new_name(l, m->s->server, m->s->port, e->name);
		i = (int)l->n++;
		snprintf(e->host, sizeof(e->host), "%s", m->s->server);
		e->port = m->s->port;
		m->added = 1;
	}
	e = &l->v[i];
	if (m->fp && m->fp[0])
		snprintf(e->fp, sizeof(e->fp), "%s", m->fp);
	if (m->user && m->user[0])
		snprintf(e->user, sizeof(e->user), "%s", m->user);
	if (l->def < 0) {
		l->def = i;
		m->added = 2;
	}
	snprintf(m->name, sizeof(m->name), "%s", e->name);
	return 0;
}

int servers_remember(struct settings *s, const char *fp, const char *user)
{
	struct remember m = {.s = s, .fp = fp, .user = user};
	int r = servers_update(s->config_dir, servers_remember_fn, &m);

	if (r < 0)
		return r;
	if (!s->name[0])
		snprintf(s->name, sizeof(s->name), "%s", m.name);
	if (fp && fp[0])
		snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", fp);
	return m.added;
}

void servers_say_saved(const struct settings *s, int added)
{
	if (s->json || s->quiet)
		return;
	if (added == 2)
		printf("saved as server %s, the default: commands without -s use it\n", s->name);
	else if (added == 1)
		printf("saved as server %s (use it with: nexus -s %s)\n", s->name, s->name);
}

/* nexus servers [default NAME | rename NAME NEW | forget NAME] */

struct servers_cmd {
	const char *verb;
	const char *name;
	const char *to;
	const char *config_dir;
	int found;
};

static int servers_edit_fn(struct server_list *l, void *arg)
{
	struct servers_cmd *c = arg;
	int i = servers_find_name(l, c->name);

	if (i < 0)
		return 1;
	c->found = 1;
	if (strcmp(c->verb, "default") == 0) {
		l->def = i;
	} else if (strcmp(c->verb, "rename") == 0) {
		if (servers_find_name(l, c->to) >= 0) {
			c->found = 2;
			return 1;
		}
		snprintf(l->v[i].name, sizeof(l->v[i].name), "%s", c->to);
	} else {
		int def = l->def;
		memmove(&l->v[i], &l->v[i + 1], (l->n - (unsigned)i - 1) * sizeof(l->v[0]));
		l->n--;
		l->def = def == i ? (l->n ? 0 : -1) : def > i ? def - 1 : def;
	}
	return 0;
}

/* Whether a saved login exists for the entry and has not expired (any
 * user: -u picks whose login a command uses, not what this list shows). */
static int servers_logged_in(const struct settings *s, const struct saved_server *e)
{
	struct settings o = *s;

	snprintf(o.server, sizeof(o.server), "%s", e->host);
	o.port = e->port;
	o.flag_user = NULL;
	return settings_login_valid(&o, NULL, NULL);
}

static int servers_list(const struct settings *s)
{
	struct server_list *l;
	char addr[SETTINGS_HOST_MAX + 16];
	struct jw w;
	int def_used = 1, r = servers_load(s->config_dir, &l);

	if (r < 0) {
		out_err("cannot read %s/servers: %s", s->config_dir, strerror(-r));
		return EXIT_ERROR;
	}
	if (!s->json && !s->quiet && l->n == 0)
		printf("no saved servers; the first trust, login or register saves one\n");
	else if (!s->json && !s->quiet)
		printf("  %-20s %-26s %-12s %-9s %s\n", "NAME", "ADDRESS", "USER", "LOGIN",
		       "FINGERPRINT");
	for (unsigned i = 0; i < l->n; i++) {
		const struct saved_server *e = &l->v[i];
		int in = servers_logged_in(s, e), def = (int)i == l->def;
		snprintf(addr, sizeof(addr), strchr(e->host, ':') ? "[%s]:%u" : "%s:%u", e->host,
		         e->port);
		if (def)
			def_used = strcmp(addr, s->default_hp) == 0;
		if (s->json) {
			jw_begin(&w, stdout);
			jw_str(&w, "name", e->name);
			jw_str(&w, "host", e->host);
			jw_u64(&w, "port", e->port);
			jw_str(&w, "address", addr);
			jw_str(&w, "fingerprint", e->fp);
			jw_str(&w, "user", e->user);
			jw_bool(&w, "logged_in", in);
			jw_bool(&w, "default", def);
			jw_end(&w);
		} else {
			printf("%c %-20s %-26s %-12s %-9s %s\n", def ? '*' : ' ', e->name, addr,
			       e->user[0] ? e->user : "-", in ? "yes" : "no",
			       e->fp[0] ? e->fp : "-");
		}
	}
	/* NEXUS_SERVER or the config file's server beat the saved default. */
	if (!s->json && !s->quiet && l->def >= 0 && !def_used)
		printf("(without -s commands use %s, from NEXUS_SERVER, NEXUS_CHAT_PORT or the "
		       "config file)\n",
		       s->default_hp);
	servers_free(l);
	return out_flush() < 0 ? EXIT_ERROR : 0;
}

int cmd_servers(struct settings *s, int argc, char **argv)
{
	struct servers_cmd c = {0};
	int first, r, n;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	n = argc - first;
	if (n == 0 || (n == 1 && strcmp(argv[first], "list") == 0))
		return servers_list(s);
	c.verb = argv[first];
	if (strcmp(c.verb, "rename") == 0                                     ? n != 3
	    : strcmp(c.verb, "default") == 0 || strcmp(c.verb, "forget") == 0 ? n != 2
	                                                                      : 1)
		return cli_usage("servers", "expected: list, default NAME, rename NAME NEW or "
		                            "forget NAME");
	c.name = argv[first + 1];
	c.to = n == 3 ? argv[first + 2] : NULL;
	if (c.to && !servers_name_valid(c.to)) {
		out_err("invalid name '%s' (1-%d printable characters, no spaces or '/', not "
		        "starting with - or #, not 'default')",
		        c.to, SERVERS_NAME_MAX);
		return EXIT_USAGE;
	}
	r = servers_update(s->config_dir, servers_edit_fn, &c);
	if (r < 0) {
		out_err("cannot update %s/servers: %s", s->config_dir, strerror(-r));
		return EXIT_ERROR;
	}
	if (!c.found) {
		out_err("no saved server named '%s'; see: nexus servers", c.name);
		return EXIT_NOT_FOUND;
	}
	if (c.found == 2) {
		out_err("a saved server is named '%s' already", c.to);
		return EXIT_ERROR;
	}
	if (s->json) {
		struct jw w;
		jw_begin(&w, stdout);
		jw_bool(&w, "ok", 1);
		jw_end(&w);
	} else if (!s->quiet) {
		if (strcmp(c.verb, "default") == 0)
			printf("%s is the default server\n", c.name);
		else if (strcmp(c.verb, "rename") == 0)
			printf("%s is now named %s\n", c.name, c.to);
		else
			printf("forgot %s (its certificate pin and saved login stay)\n", c.name);
	}
	return out_flush() < 0 ? EXIT_ERROR : 0;
}
