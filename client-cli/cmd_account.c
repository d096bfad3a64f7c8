/* Account commands: register, login, logout, whoami. A login is saved as
 * CONFIGDIR/tokens/HOST_PORT so that later commands (and scripts) need no
 * password. */
#include "client.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

struct account {
	int registering;
	int password_stdin;
	char user[PROTO_NAME_MAX + 1];
	char password[AUTH_PASSWORD_MAX + 2];
};

static void account_print(struct client *c, const struct msg *m, int registered, int added)
{
	const struct settings *s = client_settings(c);
	char when[32];
	struct jw w;

	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "user", m->user);
		jw_str(&w, "server", s->host_port);
		jw_u64(&w, "expires", m->ts);
		jw_bool(&w, "admin", (m->flags & MF_ADMIN) != 0);
		jw_bool(&w, "registered", registered);
		jw_str(&w, "name", s->name);
		jw_end(&w);
		return;
	}
	if (s->quiet)
		return;
	printf("%s ", registered ? "registered and logged in as" : "logged in as");
	out_clean(stdout, m->user);
	printf("%s on %s until %s\n", (m->flags & MF_ADMIN) ? " (admin)" : "", s->host_port,
	       out_time(m->ts * 1000, 1, when, sizeof(when)));
	servers_say_saved(s, added);
	out_flush();
}

static void account_reply(struct client *c, const struct msg *m, void *arg)
{
	struct account *a = arg;
	struct settings *s = client_settings(c);
	char path[SETTINGS_PATH_MAX + 300];
	int r, added;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, a->user);
		return;
	}
	if (m->type != MSG_TOKEN) {
		client_fail(c, EXIT_SERVER, "unexpected %s reply", proto_type_name(m->type));
		return;
	}
	r = settings_token_save(s, m->user, m->secret, m->ts);
	if (r < 0) {
		client_fail(c, EXIT_ERROR, "logged in, but cannot save the login in %s: %s",
		            settings_token_path(s, path, sizeof(path)), strerror(-r));
		return;
	}
	/* The first server logged in to becomes the default. */
	added = servers_remember(s, client_fingerprint(c), m->user);
	if (added < 0)
		out_err("cannot save the server in %s/servers: %s", s->config_dir,
		        strerror(-added));
	account_print(c, m, a->registering, added);
	client_done(c, 0);
}

static void account_ready(struct client *c, void *arg)
{
	struct account *a = arg;
	struct msg m;
	size_t n;
	int r;

	proto_msg_init(&m, a->registering ? MSG_REGISTER : MSG_LOGIN);
	snprintf(m.user, sizeof(m.user), "%s", a->user);
	n = strnlen(a->password, PROTO_SECRET_MAX); /* settings_password checked it */
	memcpy(m.secret, a->password, n);
	m.secret[n] = '\0';
	r = client_request(c, &m, account_reply, a);
	explicit_bzero(m.secret, sizeof(m.secret));
	explicit_bzero(a->password, sizeof(a->password));
	if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot send the request: %s", strerror(-r));
}

static int account_opt(int key, const char *arg, void *ctx)
{
	struct account *a = ctx;

	(void)arg;
	if (key != 'S')
		return EXIT_USAGE;
	a->password_stdin = 1;
	return 0;
}

/* USER from the operand, -u/NEXUS_USER/config, or the terminal. */
static int account_user(struct account *a, const struct settings *s, const char *cmd,
                        const char *arg)
{
	const char *user = arg ? arg : s->user;
	int r;

	if (!user[0]) {
		r = settings_ask("User name: ", a->user, sizeof(a->user));
		if (r < 0)
			return cli_usage(cmd, "no user name: give USER, -u NAME or NEXUS_USER");
		user = a->user;
	}
	if (!auth_name_valid(user)) {
		out_err("invalid user name '%s' (1-32 of A-Z a-z 0-9 _ -, not starting with -)",
		        user);
		return EXIT_USAGE;
	}
	if (user != a->user)
		snprintf(a->user, sizeof(a->user), "%s", user);
	return 0;
}

static int account_run(struct settings *s, int argc, char **argv, int registering)
{
	static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'S'}, {0}};
	struct client_cbs cbs = {.ready = account_ready};
	struct account a = {.registering = registering};
	int first, r;

	r = cli_parse(s, argc, argv, "", opts, account_opt, &a, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first > 1)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[first + 1]);
	r = account_user(&a, s, argv[0], first < argc ? argv[first] : NULL);
	if (r)
		return r;
	r = settings_password(a.password_stdin, registering && isatty(STDIN_FILENO), a.password,
	                      sizeof(a.password));
	if (r)
		return r;
	if (registering && strlen(a.password) < AUTH_PASSWORD_MIN) {
		explicit_bzero(a.password, sizeof(a.password));
		out_err("password too short (at least %d characters)", AUTH_PASSWORD_MIN);
		return EXIT_ERROR;
	}
	r = client_main(s, CLIENT_PROMPT, &cbs, &a);
	explicit_bzero(a.password, sizeof(a.password));
	return r;
}

int cmd_register(struct settings *s, int argc, char **argv)
{
	return account_run(s, argc, argv, 1);
}

int cmd_login(struct settings *s, int argc, char **argv)
{
	return account_run(s, argc, argv, 0);
}

int cmd_logout(struct settings *s, int argc, char **argv)
{
	char path[SETTINGS_PATH_MAX + 300];
	struct jw w;
	int first, r;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first < argc)
		return cli_usage("logout", "unexpected argument '%s'", argv[first]);
	r = settings_token_remove(s);
	if (r < 0 && r != -ENOENT) {
		out_err("cannot remove %s: %s", settings_token_path(s, path, sizeof(path)),
		        strerror(-r));
		return EXIT_ERROR;
	}
	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "server", s->host_port);
		jw_bool(&w, "logged_out", r == 0);
		jw_end(&w);
	} else if (!s->quiet) {
		printf(r == 0 ? "logged out of %s\n" : "not logged in to %s\n", s->host_port);
	}
	return 0;
}

static void whoami_ready(struct client *c, void *arg)
{
	const struct settings *s = client_settings(c);
	char user[PROTO_NAME_MAX + 1], token[PROTO_SECRET_MAX + 1];
	uint64_t expiry = 0;
	struct jw w;

	(void)arg;
	if (settings_token_load(s, user, token, &expiry) < 0)
		expiry = 0;
	explicit_bzero(token, sizeof(token));
	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "user", client_user(c));
		jw_str(&w, "server", s->host_port);
		jw_str(&w, "server_name", client_server_name(c));
		jw_bool(&w, "admin", client_is_admin(c));
		jw_u64(&w, "expires", expiry);
		jw_end(&w);
	} else {
		out_clean(stdout, client_user(c));
		fputc('\n', stdout);
		out_flush();
	}
	client_done(c, 0);
}

int cmd_whoami(struct settings *s, int argc, char **argv)
{
	struct client_cbs cbs = {.ready = whoami_ready};
	int first, r;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first < argc)
		return cli_usage("whoami", "unexpected argument '%s'", argv[first]);
	return client_main(s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, NULL);
}
