/* unit_tls: the loopback TLS fixture of the tests that run real conns
 * (test_conn, test_front): a temporary certificate, a server and a client
 * context, SIGPIPE ignored as in the daemons, and a loop runner. Header-only
 * (static): each test is one file and one binary. */
#ifndef NEXUS_UNIT_TLS_H
#define NEXUS_UNIT_TLS_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tls.h"

static char unit_tmpdir[64];
static char cert_path[128], key_path[128];
static SSL_CTX *server_ctx, *client_ctx;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run base until *counter reaches want or secs pass; true if it did. */
static int unit_run_until(struct event_base *base, const int *counter, int want, int secs)
{
	uint64_t end = now_ms() + (uint64_t)secs * 1000u;

	while (*counter < want && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	return *counter >= want;
}

/* name: the temporary folder's tag ("conn" gives /tmp/nexus-test-conn.*). */
static int unit_tls_setup(const char *name)
{
	char err[256] = "";

	/* As in the daemons: a write to a peer that reset must be an error
	 * (EPIPE), not a signal that kills the process. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(unit_tmpdir, sizeof(unit_tmpdir), "/tmp/nexus-test-%s.XXXXXX", name);
	if (!mkdtemp(unit_tmpdir))
		return -1;
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", unit_tmpdir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", unit_tmpdir);
	if (tls_ensure_cert(cert_path, key_path, "localhost", err, sizeof(err)) < 0) {
		fprintf(stderr, "tls_ensure_cert: %s\n", err);
		return -1;
	}
	server_ctx = tls_server_ctx(cert_path, key_path, err, sizeof(err));
	client_ctx = tls_client_ctx(err, sizeof(err));
	if (!server_ctx || !client_ctx) {
		fprintf(stderr, "tls ctx: %s\n", err);
		return -1;
	}
	return 0;
}

/* Removes the certificate; the test removes what else it put in the folder. */
static void unit_tls_teardown(void)
{
	tls_ctx_free(server_ctx);
	tls_ctx_free(client_ctx);
	unlink(cert_path);
	unlink(key_path);
	rmdir(unit_tmpdir);
}

#endif
