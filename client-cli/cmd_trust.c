/* nexus trust [--yes]: show the server's certificate fingerprint and pin
 * it (asking on a terminal unless --yes), on the pin store of trust.c. */
#include "client.h"

#include <errno.h>
#include <string.h>

struct trust_cmd {
	int yes;
};

static void trust_report(struct client *c, const char *fp, const char *pinned, int trusted,
                         int saved)
{
	const struct settings *s = client_settings(c);
	struct jw w;

	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "server", s->host_port);
		jw_str(&w, "fingerprint", fp);
		if (pinned)
			jw_str(&w, "previous", pinned);
		else
			jw_null(&w, "previous");
		jw_bool(&w, "trusted", trusted);
		jw_bool(&w, "saved", saved);
		jw_end(&w);
		return;
	}
	if (s->quiet && trusted)
		return;
	if (pinned)
		printf("%s certificate changed\n  pinned %s\n  now    %s\n", s->host_port, pinned,
		       fp);
	else
		printf("%s certificate %s\n", s->host_port, fp);
	if (saved)
		printf("trusted: saved in %s\n", s->known_path);
	else if (trusted)
		printf("already trusted\n");
	out_flush();
}

static int trust_cert_cb(struct client *c, const char *fp, void *arg)
{
	struct trust_cmd *t = arg;
	const struct settings *s = client_settings(c);
	char pinned[TLS_FP_LEN];
	int state = trust_lookup(c, fp, pinned), ok, added;

	if (state < 0)
		return 1;
	if (state == TLS_PIN_MATCH) {
		trust_remember(c, fp);
		trust_report(c, fp, NULL, 1, 0);
		client_done(c, 0);
		return 1;
	}
	if (state == TLS_PIN_MISMATCH && !t->yes) {
		trust_report(c, fp, pinned, 0, 0);
		trust_fail_changed(c, pinned, fp);
		return 1;
	}
	ok = t->yes;
	if (!ok) {
		if (!s->json)
			trust_report(c, fp, NULL, 0, 0);
		ok = trust_ask();
		if (ok < 0) {
			client_fail(c, EXIT_CERT, "not trusted; to accept %s run: %s trust --yes",
			            fp, settings_cmd_prefix(s));
			return 1;
		}
		if (!ok) {
			client_fail(c, EXIT_CERT, "server %s not trusted", s->host_port);
			return 1;
		}
	}
	if (trust_save(c, fp) < 0)
		return 1;
	added = trust_remember(c, fp);
	if (state == TLS_PIN_MISMATCH || s->json || t->yes)
		trust_report(c, fp, state == TLS_PIN_MISMATCH ? pinned : NULL, 1, 1);
	else if (!s->quiet)
		printf("trusted: saved in %s\n", s->known_path);
	servers_say_saved(s, added);
	out_flush();
	client_done(c, 0);
	return 1;
}

static int trust_opt(int key, const char *arg, void *ctx)
{
	struct trust_cmd *t = ctx;

	(void)arg;
	if (key != 'y')
		return EXIT_USAGE;
	t->yes = 1;
	return 0;
}

int cmd_trust(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"yes", no_argument, NULL, 'y'}, {0}};
	struct client_cbs cbs = {.certificate = trust_cert_cb};
	struct trust_cmd t = {0};
	int first, r;

	r = cli_parse(s, argc, argv, "y", opts, trust_opt, &t, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first < argc)
		return cli_usage("trust", "unexpected argument '%s'", argv[first]);
	return client_main(s, 0, &cbs, &t);
}
