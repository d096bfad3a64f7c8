/* tui_setup: the first run of the full-screen client, on the plain
 * terminal before the screen is taken: which server (saved in the config
 * file when there is none), log in or register, then the core connects,
 * shows the certificate fingerprint and asks to trust it (trust.c). The
 * login is cached (settings.c), so later runs go straight in. */
#include "client.h"
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

int tui_setup_have_login(struct settings *s)
{
	char user[PROTO_NAME_MAX + 1], token[PROTO_SECRET_MAX + 1];
	uint64_t expiry;
	int r = settings_token_load(s, user, token, &expiry);

	explicit_bzero(token, sizeof(token));
	if (r < 0)
		return 0;
	if (s->flag_user && strcmp(s->user, user) != 0)
		return 0;
	return expiry == 0 || expiry > (uint64_t)time(NULL);
}

/* "host", "host:port", "[v6]:port" or a bare IPv6 address. */
static int tui_setup_server(struct settings *s, const char *in)
{
	char host[SETTINGS_HOST_MAX];
	const char *colon = strrchr(in, ':'), *port = NULL;
	unsigned long p;
	char *end;

	if (in[0] == '[' && strchr(in, ']')) {
		snprintf(host, sizeof(host), "%.*s", (int)(strchr(in, ']') - in - 1), in + 1);
		if (strchr(in, ']')[1] == ':')
			port = strchr(in, ']') + 2;
	} else if (colon && colon == strchr(in, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - in), in);
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", in);
	}
	if (!host[0] || strpbrk(host, " \t/"))
		return -EINVAL;
	if (port) {
		p = strtoul(port, &end, 10);
		if (*end || p < 1 || p > 65535)
			return -EINVAL;
		s->port = (uint16_t)p;
	}
	snprintf(s->server, sizeof(s->server), "%s", host);
	snprintf(s->host_port, sizeof(s->host_port), strchr(s->server, ':') ? "[%s]:%u" : "%s:%u",
	         s->server, s->port);
	return 0;
}

static int tui_setup_mkdirs(const char *dir)
{
	char buf[SETTINGS_PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A config file naming the server and user, unless there is one already. */
static void tui_setup_save_config(struct tui *t, const char *user)
{
	char path[SETTINGS_PATH_MAX + 16];
	FILE *f;
	int fd;

	if (t->s->server_set || tui_setup_mkdirs(t->s->config_dir) < 0)
		return;
	snprintf(path, sizeof(path), "%s/config", t->s->config_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	fprintf(f, "# written by nexus on its first run\nserver = %s\nchat_port = %u\nuser = %s\n",
	        t->s->server, t->s->port, user);
	fclose(f);
	fprintf(stderr, "nexus: saved the server in %s\n", path);
}

static int tui_setup_password(struct tui *t)
{
	char pw[AUTH_PASSWORD_MAX + 2];
	const char *env = getenv("NEXUS_PASSWORD");
	int r = settings_password(0, t->registering && !(env && *env), pw, sizeof(pw));

	if (r)
		return r;
	if (t->registering && strlen(pw) < AUTH_PASSWORD_MIN) {
		explicit_bzero(pw, sizeof(pw));
		out_err("password too short (at least %d characters)", AUTH_PASSWORD_MIN);
		return EXIT_USAGE;
	}
	snprintf(t->setup_password, sizeof(t->setup_password), "%s", pw);
	explicit_bzero(pw, sizeof(pw));
	return 0;
}

int tui_setup_ask(struct tui *t)
{
	struct settings *s = t->s;
	char answer[SETTINGS_HOST_MAX], q[SETTINGS_HOST_MAX * 2 + 128];
	const char *user = s->user;

	printf("Welcome to Shadow Nexus.\n");
	if (!s->server_set) {
		snprintf(q, sizeof(q), "Server [%s]: ", s->host_port);
		if (settings_ask(q, answer, sizeof(answer)) < 0)
			return EXIT_USAGE;
		if (answer[0] && tui_setup_server(s, answer) < 0) {
			out_err("invalid server '%s' (HOST or HOST:PORT)", answer);
			return EXIT_USAGE;
		}
		if (tui_setup_have_login(s))
			return 0; /* already logged in there */
	}
	snprintf(q, sizeof(q),
	         "Log in to %s or register a new account? [login/register]: ", s->host_port);
	if (settings_ask(q, answer, sizeof(answer)) < 0)
		return EXIT_USAGE;
	t->registering = answer[0] == 'r' || answer[0] == 'R';
	snprintf(q, sizeof(q), "User name%s%s%s: ", user[0] ? " [" : "", user, user[0] ? "]" : "");
	if (settings_ask(q, answer, sizeof(answer)) < 0)
		return EXIT_USAGE;
	if (answer[0])
		user = answer;
	if (!auth_name_valid(user)) {
		out_err("invalid user name '%s' (1-32 of A-Z a-z 0-9 _ -)", user);
		return EXIT_USAGE;
	}
	memcpy(t->setup_user, user, strlen(user) + 1); /* valid: at most 32 bytes */
	t->setup = 1;
	return tui_setup_password(t);
}

static void tui_setup_reply(struct client *c, const struct msg *m, void *arg)
{
	struct tui *t = arg;
	char path[SETTINGS_PATH_MAX + 300], text[512];
	int r;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_error_text(m, t->setup_user, text, sizeof(text));
		if (m->code == ERR_BAD_LOGIN && ++t->attempts < 3) {
			out_err("%s; try again", text);
			if (tui_setup_password(t) == 0) {
				tui_setup_login(t);
				return;
			}
		}
		if (m->code == ERR_EXISTS)
			client_fail(c, EXIT_AUTH, "the user %s exists already: log in instead",
			            t->setup_user);
		else
			client_fail_msg(c, m, t->setup_user);
		return;
	}
	if (m->type != MSG_TOKEN)
		return;
	r = settings_token_save(t->s, m->user, m->secret, m->ts);
	if (r < 0)
		out_err("logged in, but cannot save the login in %s: %s",
		        settings_token_path(t->s, path, sizeof(path)), strerror(-r));
	tui_setup_save_config(t, m->user);
	t->setup = 0;
	tui_net_start(t);
}

void tui_setup_login(struct tui *t)
{
	struct msg m;
	int r;

	if (!t->setup) {
		client_fail(t->c, EXIT_AUTH, "%s did not accept the saved login; run: nexus login",
		            t->s->host_port);
		return;
	}
	proto_msg_init(&m, t->registering ? MSG_REGISTER : MSG_LOGIN);
	snprintf(m.user, sizeof(m.user), "%s", t->setup_user);
	snprintf(m.secret, sizeof(m.secret), "%s", t->setup_password);
	r = client_request(t->c, &m, tui_setup_reply, t);
	explicit_bzero(m.secret, sizeof(m.secret));
	explicit_bzero(t->setup_password, sizeof(t->setup_password));
	if (r < 0)
		client_fail(t->c, EXIT_ERROR, "cannot send the login: %s", strerror(-r));
}
