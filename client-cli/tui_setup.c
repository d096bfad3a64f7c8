/* tui_setup: the first run of the full-screen client, on the plain
 * terminal before the screen is taken: which server, a first connection
 * that checks it answers and shows its certificate fingerprint to trust
 * (trust.c), then log in or register. The login is cached (settings.c) and
 * the server saved as the default (servers.c), so later runs go straight
 * in. */
#include "client.h"
#include "tui.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"

/* Save the server (and who logged in) in the saved-server list; the first
 * one becomes the default, so the next run asks nothing. */
static void tui_setup_remember(struct tui *t, const char *user)
{
	int r = servers_remember(t->s, client_fingerprint(t->c), user);

	if (r < 0)
		out_err("cannot save the server in %s/servers: %s", t->s->config_dir, strerror(-r));
	else if (r == 2)
		fprintf(stderr, "nexus: saved %s as the default server (see: nexus servers)\n",
		        t->s->name);
}

static void tui_setup_check_ready(struct client *c, void *arg)
{
	(void)arg;
	client_done(c, 0);
}

/* Does the server answer (and is its certificate trusted)? Asked before
 * the account questions, so that nobody types a password for a server
 * that is down or mistyped. client_run says what went wrong. */
static int tui_setup_check(struct settings *s)
{
	struct client_cbs cbs = {.ready = tui_setup_check_ready};

	printf("Connecting to %s...\n", s->host_port);
	fflush(stdout);
	return client_main(s, CLIENT_PROMPT, &cbs, NULL);
}

/* The server: asked unless -s, NEXUS_SERVER, the config file or a saved
 * default names one, then checked; a server that does not answer is asked
 * for again (3 tries). 0, 1 when a saved login exists there, or an exit
 * status. */
static int tui_setup_pick(struct settings *s)
{
	char answer[SETTINGS_HOST_MAX], q[SETTINGS_HOST_MAX + 32];
	int asked = !s->server_set, r = 0, port_set = s->port_set;
	uint16_t port = s->port;

	for (int tries = 0; tries < 3; tries++) {
		if (asked) {
			snprintf(q, sizeof(q), "Server [%s]: ", s->host_port);
			if (settings_ask(q, answer, sizeof(answer)) < 0)
				return EXIT_USAGE;
			/* each answer on its own: a port typed before does not stick */
			s->port = port;
			s->port_set = port_set;
			if (answer[0] && (r = settings_use_server(s, answer)) != 0)
				continue; /* said why; ask again */
			if (settings_login_valid(s, NULL, NULL))
				return 1; /* already logged in there */
		}
		r = tui_setup_check(s);
		if (r != EXIT_NETWORK || !asked)
			return r;
	}
	return r;
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
	int r;

	printf("Welcome to Shadow Nexus.\n");
	r = tui_setup_pick(s);
	if (r)
		return r == 1 ? 0 : r;
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
	tui_setup_remember(t, m->user);
	t->setup = 0;
	tui_net_start(t);
}

void tui_setup_login(struct tui *t)
{
	struct msg m;
	int r;

	if (!t->setup) {
		client_fail(t->c, EXIT_AUTH, "%s did not accept the saved login; run: %s login",
		            t->s->host_port, settings_cmd_prefix(t->s));
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
