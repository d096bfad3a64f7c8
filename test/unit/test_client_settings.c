/* The client's parsers of addresses and saved servers: settings_split
 * (-s HOST, HOST:PORT, [v6]:PORT) and servers_parse_entry / servers_load
 * (CONFIGDIR/servers, which people edit by hand), and the mode of a file
 * settings_write_atomic writes. Linked with client-cli/{settings,servers,
 * output}.o. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../client-cli/client.h"

/* servers.c's command (nexus servers) parses its arguments through
 * nexus.c, which holds main; these tests never run it. */
int cli_parse(struct settings *s, int argc, char **argv, const char *shortopts,
              const struct option *longopts, int (*optfn)(int key, const char *arg, void *ctx),
              void *ctx, int *ret_first)
{
	(void)s, (void)argc, (void)argv, (void)shortopts, (void)longopts, (void)optfn, (void)ctx;
	*ret_first = argc;
	return EXIT_USAGE;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	(void)cmd, (void)fmt;
	return EXIT_USAGE;
}

static int split(const char *in, char host[SETTINGS_HOST_MAX], uint16_t *port)
{
	*port = 4242; /* no port given must say 0 */
	memset(host, '?', SETTINGS_HOST_MAX);
	return settings_split(in, host, port);
}

static void test_split_good(void **state)
{
	char host[SETTINGS_HOST_MAX], big[SETTINGS_HOST_MAX + 8];
	uint16_t port;

	(void)state;
	assert_int_equal(split("chat.lan", host, &port), 0);
	assert_string_equal(host, "chat.lan");
	assert_int_equal(port, 0);
	assert_int_equal(split("10.0.0.7:6555", host, &port), 0);
	assert_string_equal(host, "10.0.0.7");
	assert_int_equal(port, 6555);
	assert_int_equal(split("chat.lan:1", host, &port), 0);
	assert_int_equal(port, 1);
	assert_int_equal(split("chat.lan:65535", host, &port), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(split("[fe80::1]:5555", host, &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 5555);
	assert_int_equal(split("[::1]", host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	/* A bare IPv6 address: its last group is no port. */
	assert_int_equal(split("fe80::1:5555", host, &port), 0);
	assert_string_equal(host, "fe80::1:5555");
	assert_int_equal(port, 0);
	/* The longest host that fits. */
	memset(big, 'h', SETTINGS_HOST_MAX - 1);
	big[SETTINGS_HOST_MAX - 1] = '\0';
	assert_int_equal(split(big, host, &port), 0);
	assert_int_equal(strlen(host), SETTINGS_HOST_MAX - 1);
}

static void test_split_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    ":5555",
	    "[]:5555",
	    "chat.lan:",
	    "chat.lan:0",
	    "chat.lan:65536",
	    "chat.lan:99999999999999999999",
	    "chat.lan:55a",
	    "chat.lan:-1",
	    "chat.lan: 55",
	    "chat.lan:+55",
	    "[::1]:",
	    "[::1]x",
	    "[::1]:0",
	    "[::1",
	    "a b",
	    "a/b",
	    "a\tb",
	    "[a/b]:5",
	};
	char host[SETTINGS_HOST_MAX], big[SETTINGS_HOST_MAX + 8];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 4242;
		if (settings_split(bad[i], host, &port) != -EINVAL)
			fail_msg("settings_split accepted '%s'", bad[i]);
		assert_int_equal(port, 4242); /* untouched */
	}
	memset(big, 'h', SETTINGS_HOST_MAX);
	big[SETTINGS_HOST_MAX] = '\0';
	assert_int_equal(settings_split(big, host, &port), -EINVAL);
	memcpy(big + SETTINGS_HOST_MAX - 5, ":5555", 6);
	assert_int_equal(split(big, host, &port), 0); /* host of 251 bytes and a port */
	assert_int_equal(port, 5555);
}

static int parse(const char *line, struct saved_server *e)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s", line);
	return servers_parse_entry(buf, e);
}

static void test_entry_good(void **state)
{
	struct saved_server e;
	char line[1024], host[SETTINGS_HOST_MAX], fp[TLS_FP_LEN];

	(void)state;
	assert_int_equal(parse("lab 10.0.0.7 6555 SHA256:00ff bea", &e), 0);
	assert_string_equal(e.name, "lab");
	assert_string_equal(e.host, "10.0.0.7");
	assert_int_equal(e.port, 6555);
	assert_string_equal(e.fp, "SHA256:00ff");
	assert_string_equal(e.user, "bea");
	assert_int_equal(parse("chat.lan\tchat.lan   5555 - -", &e), 0);
	assert_string_equal(e.fp, "");
	assert_string_equal(e.user, "");
	assert_int_equal(parse("[fe80::1]:6555 fe80::1 6555 - ann", &e), 0);
	assert_string_equal(e.host, "fe80::1");
	/* The longest fields that fit. */
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(fp, 'f', sizeof(fp) - 1);
	fp[sizeof(fp) - 1] = '\0';
	snprintf(line, sizeof(line), "%.64s %s 1 %s %.32s", host, host, fp,
	         "u1234567890123456789012345678901");
	assert_int_equal(parse(line, &e), 0);
	assert_int_equal(strlen(e.name), SERVERS_NAME_MAX);
	assert_int_equal(strlen(e.host), SETTINGS_HOST_MAX - 1);
	assert_int_equal(strlen(e.fp), TLS_FP_LEN - 1);
	assert_int_equal(strlen(e.user), PROTO_NAME_MAX);
}

static void test_entry_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "lab",
	    "lab 10.0.0.7 6555 -",         /* four fields */
	    "lab 10.0.0.7 6555 - - extra", /* six */
	    "default 10.0.0.7 6555 - -",   /* a reserved name */
	    "-lab 10.0.0.7 6555 - -",      /* names do not start with - or # */
	    "#lab 10.0.0.7 6555 - -",
	    "l/ab 10.0.0.7 6555 - -",
	    "lab 10.0.0.7 0 - -", /* ports 1-65535 */
	    "lab 10.0.0.7 65536 - -",
	    "lab 10.0.0.7 55a - -",
	    "lab 10.0.0.7 -1 - -",
	    "lab 10.0.0.7 184467440737095516160 - -",
	    "lab 10.0.0/7 6555 - -", /* not a host */
	    "lab [::1] 6555 - -",
	    "lab 10.0.0.7 6555 - al!ce",                             /* not a user name */
	    "lab 10.0.0.7 6555 - u12345678901234567890123456789012", /* 33 */
	};
	struct saved_server e, before;
	char line[1024], host[SETTINGS_HOST_MAX + 1], fp[TLS_FP_LEN + 1],
	    name[SERVERS_NAME_MAX + 2];

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = before;
		if (parse(bad[i], &e) != -EBADMSG)
			fail_msg("servers_parse_entry accepted '%s'", bad[i]);
		assert_memory_equal(&e, &before, sizeof(e)); /* untouched */
	}
	/* Each field one byte too long. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(fp, 'f', sizeof(fp) - 1);
	fp[sizeof(fp) - 1] = '\0';
	snprintf(line, sizeof(line), "%s 10.0.0.7 5555 - -", name);
	assert_int_equal(parse(line, &e), -EBADMSG);
	snprintf(line, sizeof(line), "lab %s 5555 - -", host);
	assert_int_equal(parse(line, &e), -EBADMSG);
	snprintf(line, sizeof(line), "lab 10.0.0.7 5555 %s -", fp);
	assert_int_equal(parse(line, &e), -EBADMSG);
}

/* A folder of its own for each test that writes files. */
static char *tmp_dir(void)
{
	char *d = strdup("/tmp/test_client_settings.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_dir(char *d)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/servers", d);
	unlink(path);
	rmdir(d);
	free(d);
}

static void test_load_skips_bad_lines(void **state)
{
	char *d = tmp_dir(), path[512];
	struct server_list *l = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/servers", d);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n"
	           "default lab\n"
	           "a 10.0.0.1 5555 - -\n"
	           "hand edited: three words\n" /* line 4 */
	           "lab 10.0.0.7 6555 SHA256:00 bea\n");
	for (int i = 0; i < 1500; i++) /* longer than any entry */
		fputc('x', f);
	fprintf(f, "\nb 10.0.0.2 5555 - -\n");
	for (int i = 0; i < SERVERS_MAX; i++)
		fprintf(f, "s%d 10.1.0.%d 5555 - -\n", i, i);
	fclose(f);
	assert_int_equal(servers_load(d, &l), 0);
	assert_int_equal(l->n, SERVERS_MAX);
	assert_int_equal(servers_find_name(l, "a"), 0);
	assert_int_equal(servers_find_name(l, "lab"), 1);
	assert_int_equal(servers_find_name(l, "b"), 2);
	assert_int_equal(l->def, 1);
	assert_int_equal(l->bad_line, 4);
	assert_int_equal(l->bad_why, -EBADMSG);
	assert_int_equal(l->nbad, 2 + 3); /* two damaged, three past SERVERS_MAX */
	servers_free(l);
	rm_dir(d);
}

static void test_load_too_many(void **state)
{
	char *d = tmp_dir(), path[512];
	struct server_list *l = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/servers", d);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < SERVERS_MAX + 2; i++)
		fprintf(f, "s%d 10.1.0.%d 5555 - -\n", i, i);
	fclose(f);
	assert_int_equal(servers_load(d, &l), 0);
	assert_int_equal(l->n, SERVERS_MAX);
	assert_int_equal(l->nbad, 2);
	assert_int_equal(l->bad_line, SERVERS_MAX + 1);
	assert_int_equal(l->bad_why, -E2BIG);
	assert_int_equal(l->def, -1);
	servers_free(l);
	rm_dir(d);
}

static void test_load_missing_file(void **state)
{
	char *d = tmp_dir();
	struct server_list *l = NULL;

	(void)state;
	assert_int_equal(servers_load(d, &l), 0);
	assert_int_equal(l->n, 0);
	assert_int_equal(l->nbad, 0);
	assert_int_equal(l->def, -1);
	servers_free(l);
	rm_dir(d);
}

static void test_write_atomic(void **state)
{
	char *d = tmp_dir(), path[512], buf[64] = "";
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/servers", d);
	umask(022);
	assert_int_equal(settings_write_atomic(path, "one\n", 4), 0);
	assert_int_equal(settings_write_atomic(path, "two\n", 4), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "two\n");
	snprintf(path, sizeof(path), "%s/nosuch/servers", d);
	assert_int_equal(settings_write_atomic(path, "x", 1), -ENOENT);
	rm_dir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_good),           cmocka_unit_test(test_split_bad),
	    cmocka_unit_test(test_entry_good),           cmocka_unit_test(test_entry_bad),
	    cmocka_unit_test(test_load_skips_bad_lines), cmocka_unit_test(test_load_too_many),
	    cmocka_unit_test(test_load_missing_file),    cmocka_unit_test(test_write_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
