/* config: the nexus.conf INI parser.
 *
 * Syntax: blank lines; comments whose first non-blank character is '#' or
 * ';'; "[section]"; "key = value". A value is trimmed; an unquoted value ends
 * before a '#' that follows a blank (a trailing comment); a value in double
 * quotes keeps blanks and '#', with \" and \\ as escapes. Every error names
 * the file and line. */
#include "config.h"
#include "gate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_LINE_MAX 1024
#define CONFIG_MSG_MAX 256
#define CONFIG_NAME_MAX 64 /* section and key names */
#define CONFIG_DEFAULT_STATE "/var/lib/nexus"
#define CONFIG_DEFAULT_TTL (30u * 24 * 3600)

/* Sections some program of the suite reads: a program skips the others'. */
static const char *const config_sections[] = {
    "common", "chatd", "filed", "audiod", "videod", "client", NULL,
};

enum config_state {
	CONFIG_NONE,   /* before the first section header */
	CONFIG_ACTIVE, /* a section of our key table */
	CONFIG_SKIP,   /* another program's section */
};

struct config_parser {
	const struct config_key *keys;
	void *base;
	enum config_state state;
	char section[CONFIG_NAME_MAX + 1];
	char msg[CONFIG_MSG_MAX];
};

static char *config_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool config_is_name(const char *s)
{
	if (!*s || strlen(s) > CONFIG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool config_section_used(const struct config_key *keys, const char *section)
{
	for (const struct config_key *k = keys; k->name; k++)
		if (strcmp(k->section, section) == 0)
			return true;
	return false;
}

static bool config_section_known(const char *section)
{
	for (size_t i = 0; config_sections[i]; i++)
		if (strcmp(config_sections[i], section) == 0)
			return true;
	return false;
}

static const struct config_key *config_find(const struct config_key *keys, const char *section,
                                            const char *name)
{
	for (const struct config_key *k = keys; k->name; k++)
		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Decimal digits only: no sign, no blanks, no overflow. */
static int config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

static int config_parse_bool(const char *s, int *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Store value into the field k describes; on error write why into msg. */
static int config_store(const struct config_key *k, void *base, const char *value, char *msg,
                        size_t msglen)
{
	char *field = (char *)base + k->offset;
	uint32_t max = k->max ? k->max : UINT32_MAX;
	uint16_t port;
	uint32_t u;
	size_t n;

	switch (k->kind) {
	case CONFIG_STR:
	case CONFIG_PATH:
		n = strlen(value);
		if (k->size == 0 || n >= k->size) {
			snprintf(msg, msglen, "value too long for '%s' (at most %zu bytes)",
			         k->name, k->size ? k->size - 1 : 0);
			return -EINVAL;
		}
		memcpy(field, value, n + 1);
		return 0;
	case CONFIG_U32:
		if (config_parse_u32(value, k->min, max, &u) < 0) {
			snprintf(msg, msglen, "'%s' must be a number between %u and %u", k->name,
			         (unsigned)k->min, (unsigned)max);
			return -EINVAL;
		}
		memcpy(field, &u, sizeof(u));
		return 0;
	case CONFIG_PORT:
		if (config_parse_u32(value, 1, 65535, &u) < 0) {
			snprintf(msg, msglen, "'%s' must be a number between 1 and 65535", k->name);
			return -EINVAL;
		}
		port = (uint16_t)u;
		memcpy(field, &port, sizeof(port));
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, (int *)(void *)field) < 0) {
			snprintf(msg, msglen, "'%s' must be yes or no", k->name);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(msg, msglen, "'%s' has an unknown kind in the key table", k->name);
	return -EINVAL;
}

/* Unquote (and, in a file, strip a trailing comment from) the value text
 * just after the '=' at s[-1], in place. */
static int config_value(char *s, bool comments, char **ret, char *msg, size_t msglen)
{
	char *out, *in;

	while (isspace((unsigned char)*s))
		s++;
	if (*s != '"') {
		/* p[-1] is at worst the '=' the caller overwrote with a NUL. */
		if (comments)
			for (char *p = s; *p; p++)
				if (*p == '#' && isspace((unsigned char)p[-1])) {
					*p = '\0';
					break;
				}
		*ret = config_trim(s);
		return 0;
	}
	out = s;
	for (in = s + 1; *in && *in != '"'; in++) {
		if (*in == '\\' && (in[1] == '"' || in[1] == '\\'))
			in++;
		*out++ = *in;
	}
	if (*in != '"') {
		snprintf(msg, msglen, "missing closing quote");
		return -EINVAL;
	}
	*out = '\0';
	for (in++; isspace((unsigned char)*in); in++)
		;
	if (*in && !(comments && (*in == '#' || *in == ';'))) {
		snprintf(msg, msglen, "unexpected text after the closing quote");
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

static int config_header(struct config_parser *p, char *line)
{
	char *end = strchr(line, ']');
	char *name, *rest;

	if (!end) {
		snprintf(p->msg, sizeof(p->msg), "expected '[section]'");
		return -EINVAL;
	}
	*end = '\0';
	name = config_trim(line + 1);
	rest = config_trim(end + 1);
	if (!config_is_name(name) || (*rest && *rest != '#' && *rest != ';')) {
		snprintf(p->msg, sizeof(p->msg), "expected '[section]'");
		return -EINVAL;
	}
	if (config_section_used(p->keys, name)) {
		p->state = CONFIG_ACTIVE;
	} else if (config_section_known(name)) {
		p->state = CONFIG_SKIP;
	} else {
		snprintf(p->msg, sizeof(p->msg), "unknown section [%s]", name);
		return -EINVAL;
	}
	snprintf(p->section, sizeof(p->section), "%s", name);
	return 0;
}

static int config_line(struct config_parser *p, char *line)
{
	const struct config_key *k;
	char *eq, *name, *value;
	int r;

	line = config_trim(line);
	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return config_header(p, line);
	if (p->state == CONFIG_NONE) {
		snprintf(p->msg, sizeof(p->msg), "line outside any section");
		return -EINVAL;
	}
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(p->msg, sizeof(p->msg), "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	name = config_trim(line);
	if (!config_is_name(name)) {
		snprintf(p->msg, sizeof(p->msg), "expected 'key = value'");
		return -EINVAL;
	}
	r = config_value(eq + 1, true, &value, p->msg, sizeof(p->msg));
	if (r < 0 || p->state == CONFIG_SKIP)
		return r;
	k = config_find(p->keys, p->section, name);
	if (!k) {
		snprintf(p->msg, sizeof(p->msg), "unknown key '%s' in [%s]", name, p->section);
		return -EINVAL;
	}
	return config_store(k, p->base, value, p->msg, sizeof(p->msg));
}

static void config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One line into buf: 1, 0 at the end, -E2BIG for a line too long,
 * -EILSEQ for a NUL byte in it (fgets would end the string there and the
 * rest of a long line would be read as a line of its own), -errno. */
static int config_read_line(FILE *f, char *buf, size_t size)
{
	off_t at = ftello(f);
	size_t n;

	errno = 0;
	if (!fgets(buf, (int)size, f))
		return ferror(f) ? (errno > 0 ? -errno : -EIO) : 0; /* EISDIR for a folder */
	n = strlen(buf);
	if (at >= 0 && ftello(f) - at != (off_t)n)
		return -EILSEQ;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == size - 1)
		return -E2BIG;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 1;
}

int config_load(const char *path, int optional, const struct config_key *keys, void *base,
                char *err, size_t errlen)
{
	struct config_parser p = {.keys = keys, .base = base, .state = CONFIG_NONE};
	char buf[CONFIG_LINE_MAX + 2]; /* the line, its newline, the NUL */
	unsigned lineno = 0;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (optional && r == -ENOENT)
			return 0;
		config_error(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	while ((r = config_read_line(f, buf, sizeof(buf))) > 0) {
		char *line = buf;

		lineno++;
		if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
			line += 3; /* a UTF-8 byte order mark */
		r = config_line(&p, line);
		if (r < 0) {
			config_error(err, errlen, "%s:%u: %s", path, lineno, p.msg);
			goto out;
		}
	}
	if (r == -E2BIG) {
		config_error(err, errlen, "%s:%u: line too long (more than %d bytes)", path,
		             lineno + 1, CONFIG_LINE_MAX);
		r = -EINVAL;
	} else if (r == -EILSEQ) {
		config_error(err, errlen, "%s:%u: a NUL byte: not a text file", path, lineno + 1);
		r = -EINVAL;
	} else if (r < 0) {
		config_error(err, errlen, "%s: %s", path, strerror(-r));
	}
out:
	fclose(f);
	return r;
}

int config_set(const char *assignment, const struct config_key *keys, void *base, char *err,
               size_t errlen)
{
	char buf[CONFIG_LINE_MAX + 1], msg[CONFIG_MSG_MAX];
	const struct config_key *k;
	char *eq, *dot, *section, *name, *value;
	int r = -EINVAL;

	if (strlen(assignment) >= sizeof(buf)) {
		config_error(err, errlen, "-o %.40s...: too long (more than %d bytes)", assignment,
		             CONFIG_LINE_MAX);
		return -EINVAL;
	}
	strcpy(buf, assignment);
	eq = strchr(buf, '=');
	dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
	if (!dot) {
		snprintf(msg, sizeof(msg), "expected section.key=value");
		goto fail;
	}
	*eq = *dot = '\0';
	section = config_trim(buf);
	name = config_trim(dot + 1);
	if (!config_is_name(section) || !config_is_name(name)) {
		snprintf(msg, sizeof(msg), "expected section.key=value");
		goto fail;
	}
	/* Unlike a shared file, a command line speaks to this program only. */
	if (!config_section_used(keys, section)) {
		if (config_section_known(section))
			snprintf(msg, sizeof(msg), "this program does not read [%s]", section);
		else
			snprintf(msg, sizeof(msg), "unknown section [%s]", section);
		goto fail;
	}
	k = config_find(keys, section, name);
	if (!k) {
		snprintf(msg, sizeof(msg), "unknown key '%s' in [%s]", name, section);
		goto fail;
	}
	r = config_value(eq + 1, false, &value, msg, sizeof(msg));
	if (r == 0)
		r = config_store(k, base, value, msg, sizeof(msg));
	if (r == 0)
		return 0;
fail:
	config_error(err, errlen, "-o %s: %s", assignment, msg);
	return r;
}

static void config_hostname(struct config_common *c)
{
	memset(c->hostname, 0, sizeof(c->hostname));
	if (gethostname(c->hostname, sizeof(c->hostname) - 1) < 0 || !c->hostname[0])
		snprintf(c->hostname, sizeof(c->hostname), "localhost");
}

void config_common_defaults(struct config_common *c, const char *state_dir)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "%s",
	         state_dir ? state_dir : CONFIG_DEFAULT_STATE);
	snprintf(c->bind, sizeof(c->bind), "::");
	config_hostname(c);
	c->token_ttl = CONFIG_DEFAULT_TTL;
	c->max_conns_per_addr = GATE_PER_ADDR_DEFAULT;
}

/* STATE/name into path when path is empty. A path that would not fit (or an
 * empty state_dir) leaves it empty, so opening it fails loudly rather than
 * naming some other file. */
static void config_derive(char *path, size_t size, const char *state_dir, const char *name)
{
	size_t n = strlen(state_dir);
	int len;

	if (path[0] || !state_dir[0])
		return;
	while (n > 0 && state_dir[n - 1] == '/')
		n--; /* "/srv/nexus/" and "/" join without a double slash */
	len = snprintf(path, size, "%.*s/%s", (int)n, state_dir, name);
	if (len < 0 || (size_t)len >= size)
		path[0] = '\0';
}

void config_common_finish(struct config_common *c)
{
	/* "hostname =" in the file means the default too */
	if (!c->hostname[0])
		config_hostname(c);
	config_derive(c->cert_file, sizeof(c->cert_file), c->state_dir, "tls/cert.pem");
	config_derive(c->key_file, sizeof(c->key_file), c->state_dir, "tls/key.pem");
	config_derive(c->token_key, sizeof(c->token_key), c->state_dir, "token.key");
}
