/* trust: certificate pinning, trust on first use like SSH, for the client
 * core (core.c) and `nexus trust` (cmd_trust.c). The first connection to a
 * server shows its fingerprint and asks (on a terminal) or refuses (in a
 * script: run `nexus trust`); a changed certificate is always refused
 * until `nexus trust --yes` pins the new one. */
#include "client.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int trust_lookup(struct client *c, const char *fp, char pinned[TLS_FP_LEN])
{
	const struct settings *s = client_settings(c);
	int r = tls_pin_check(s->known_path, s->host_port, fp, pinned);

	if (r == -ENOENT)
		return TLS_PIN_UNKNOWN;
	if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot read %s: %s", s->known_path, strerror(-r));
	return r;
}

int trust_save(struct client *c, const char *fp)
{
	const struct settings *s = client_settings(c);
	int r = tls_pin_save(s->known_path, s->host_port, fp);

	if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot save the pin in %s: %s", s->known_path,
		            strerror(-r));
	return r;
}

/* Save the server in the saved-server list (the default when it is the
 * first); a failure there costs only the convenience, so it is said, not
 * fatal. Returns servers_remember's 1 or 2 when the server was added. */
int trust_remember(struct client *c, const char *fp)
{
	struct settings *s = client_settings(c);
	int r = servers_remember(s, fp, NULL);

	if (r < 0)
		out_err("cannot save the server in %s/servers: %s", s->config_dir, strerror(-r));
	return r;
}

void trust_fail_changed(struct client *c, const char *pinned, const char *fp)
{
	const struct settings *s = client_settings(c);

	client_fail(c, EXIT_CERT,
	            "WARNING: server certificate changed for %s: pinned %s now %s; "
	            "if expected run: %s trust --yes",
	            s->host_port, pinned, fp, settings_cmd_prefix(s));
}

/* Ask on the terminal; 1 for yes, 0 for no, negative errno without one. */
int trust_ask(void)
{
	char answer[16];
	int r = settings_ask("Trust this server? [yes/no] ", answer, sizeof(answer));

	if (r < 0)
		return r;
	return strcasecmp(answer, "yes") == 0 || strcasecmp(answer, "y") == 0;
}

int trust_check(struct client *c, const char *fp)
{
	const struct settings *s = client_settings(c);
	char pinned[TLS_FP_LEN];
	int r = trust_lookup(c, fp, pinned);

	if (r < 0)
		return 1;
	if (r == TLS_PIN_MATCH)
		return 0;
	if (r == TLS_PIN_MISMATCH) {
		trust_fail_changed(c, pinned, fp);
		return 1;
	}
	if (!client_may_prompt(c) || !isatty(STDIN_FILENO)) {
		client_fail(c, EXIT_CERT, "unknown server %s; run: %s trust", fp,
		            settings_cmd_prefix(s));
		return 1;
	}
	fflush(stdout);
	fprintf(stderr, "The server %s is not known yet.\nIts certificate fingerprint is %s\n",
	        s->host_port, fp);
	client_note_prompted(c);
	r = trust_ask();
	if (r <= 0) {
		client_fail(c, EXIT_CERT, "server %s not trusted", s->host_port);
		return 1;
	}
	if (trust_save(c, fp) < 0)
		return 1;
	fprintf(stderr, "nexus: %s trusted (saved in %s)\n", s->host_port, s->known_path);
	trust_remember(c, fp);
	return 0;
}
