/* Unit tests for common/config.c: the nexus.conf parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"

struct tconf {
	struct config_common common;
	uint16_t port;
	int reg;
	uint32_t max_text;
	uint32_t big;
	char motd[16];
	char db[64];
};

static const struct config_key tkeys[] = {
    CONFIG_COMMON_KEYS(struct tconf, common),
    {"chatd", "port", CONFIG_PORT, offsetof(struct tconf, port), 0, 0, 0, "port"},
    {"chatd", "register", CONFIG_BOOL, offsetof(struct tconf, reg), 0, 0, 0, "open"},
    {"chatd", "max_text", CONFIG_U32, offsetof(struct tconf, max_text), 0, 1, 65536, "max"},
    {"chatd", "big", CONFIG_U32, offsetof(struct tconf, big), 0, 0, 0, "no max"},
    {"chatd", "motd", CONFIG_STR, offsetof(struct tconf, motd), sizeof(((struct tconf *)0)->motd),
     0, 0, "motd"},
    {"chatd", "db", CONFIG_PATH, offsetof(struct tconf, db), sizeof(((struct tconf *)0)->db), 0, 0,
     "db"},
    CONFIG_KEYS_END,
};

static char tdir[64];
static char tpath[128];
static struct tconf cf;
static char err[512];

static int setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	snprintf(tpath, sizeof(tpath), "%s/nexus.conf", tdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tpath);
	rmdir(tdir);
	return 0;
}

static void reset(void)
{
	memset(&cf, 0, sizeof(cf));
	config_common_defaults(&cf.common, "/srv/nexus");
	cf.port = 5555;
	cf.reg = 1;
	cf.max_text = 4000;
	err[0] = '\0';
}

static void write_file(const char *text)
{
	FILE *f = fopen(tpath, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *text)
{
	write_file(text);
	reset();
	return config_load(tpath, 0, tkeys, &cf, err, sizeof(err));
}

/* Loading text fails with "PATH:LINE: msg". */
static void expect_error(const char *text, int line, const char *msg)
{
	char want[512];

	snprintf(want, sizeof(want), "%s:%d: %s", tpath, line, msg);
	assert_int_equal(load(text), -EINVAL);
	assert_string_equal(err, want);
}

static void test_good_file(void **state)
{
	(void)state;
	assert_int_equal(load("# nexus.conf\n"
	                      "; another comment\n"
	                      "\n"
	                      "[common]\n"
	                      "  state_dir = /var/lib/nx   \n"
	                      "bind=127.0.0.1\n"
	                      "token_ttl = 3600 # an hour\n"
	                      "\t# indented comment\n"
	                      "[chatd]\n"
	                      "port = 6000\n"
	                      "register = no\n"
	                      "max_text=100\r\n"
	                      "motd = \"a # b  \"\n"
	                      "db = data/chat#1.db\n"
	                      "[filed]\n"
	                      "port = 7000\n"
	                      "whatever = anything goes\n"
	                      "[videod]\n"
	                      "[chatd]\n"
	                      "port = 6001\n"),
	                 0);
	assert_string_equal(err, "");
	assert_string_equal(cf.common.state_dir, "/var/lib/nx");
	assert_string_equal(cf.common.bind, "127.0.0.1");
	assert_int_equal(cf.common.token_ttl, 3600);
	assert_int_equal(cf.port, 6001); /* a duplicate key: the later wins */
	assert_int_equal(cf.reg, 0);
	assert_int_equal(cf.max_text, 100);
	assert_string_equal(cf.motd, "a # b  ");
	assert_string_equal(cf.db, "data/chat#1.db");
}

static void test_values(void **state)
{
	(void)state;
	assert_int_equal(load("[chatd]\nmotd = \"say \\\"hi\\\" \\\\o/\" ; c\ndb =\n"), 0);
	assert_string_equal(cf.motd, "say \"hi\" \\o/");
	assert_string_equal(cf.db, "");
	assert_int_equal(load("[chatd]\nmotd = #not a value\n"), 0);
	assert_string_equal(cf.motd, "");
	assert_int_equal(load("[chatd]\nmotd = \"\"\n"), 0);
	assert_string_equal(cf.motd, "");
	assert_int_equal(load("\xef\xbb\xbf[chatd]\nmotd=x=y\n"), 0);
	assert_string_equal(cf.motd, "x=y");
	/* 15 bytes fit motd[16]; 16 do not. */
	assert_int_equal(load("[chatd]\nmotd = 123456789012345\n"), 0);
	assert_string_equal(cf.motd, "123456789012345");
	expect_error("[chatd]\nmotd = 1234567890123456\n", 2,
	             "value too long for 'motd' (at most 15 bytes)");
	expect_error("[chatd]\nmotd = \"abc\n", 2, "missing closing quote");
	expect_error("[chatd]\nmotd = \"abc\" def\n", 2, "unexpected text after the closing quote");
}

static void test_bool(void **state)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "No", "OFF"};
	char text[64];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "[chatd]\nregister = %s\n", yes[i]);
		assert_int_equal(load(text), 0);
		assert_int_equal(cf.reg, 1);
		snprintf(text, sizeof(text), "[chatd]\nregister = %s\n", no[i]);
		assert_int_equal(load(text), 0);
		assert_int_equal(cf.reg, 0);
	}
	expect_error("[chatd]\nregister = maybe\n", 2, "'register' must be yes or no");
	expect_error("[chatd]\nregister = 2\n", 2, "'register' must be yes or no");
	expect_error("[chatd]\nregister =\n", 2, "'register' must be yes or no");
}

static void test_u32(void **state)
{
	static const char *const bad[] = {
	    "0", "65537", "-1", "+5", "1e3", "0x10", "12 34", "", "99999999999999999999"};
	char text[128];

	(void)state;
	assert_int_equal(load("[chatd]\nmax_text = 1\n"), 0);
	assert_int_equal(cf.max_text, 1);
	assert_int_equal(load("[chatd]\nmax_text = 65536\n"), 0);
	assert_int_equal(cf.max_text, 65536);
	assert_int_equal(load("[chatd]\nmax_text = 007\n"), 0);
	assert_int_equal(cf.max_text, 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[chatd]\nmax_text = %s\n", bad[i]);
		expect_error(text, 2, "'max_text' must be a number between 1 and 65536");
	}
	/* max 0 means UINT32_MAX */
	assert_int_equal(load("[chatd]\nbig = 0\n"), 0);
	assert_int_equal(cf.big, 0);
	assert_int_equal(load("[chatd]\nbig = 4294967295\n"), 0);
	assert_int_equal(cf.big, UINT32_MAX);
	expect_error("[chatd]\nbig = 4294967296\n", 2,
	             "'big' must be a number between 0 and 4294967295");
	expect_error("[common]\ntoken_ttl = 59\n", 2,
	             "'token_ttl' must be a number between 60 and 31536000");
}

static void test_port(void **state)
{
	(void)state;
	assert_int_equal(load("[chatd]\nport = 1\n"), 0);
	assert_int_equal(cf.port, 1);
	assert_int_equal(load("[chatd]\nport = 65535\n"), 0);
	assert_int_equal(cf.port, 65535);
	expect_error("# c\n\n[chatd]\nport = 0\n", 4,
	             "'port' must be a number between 1 and 65535");
	expect_error("[chatd]\n\nport = 65536\n", 3, "'port' must be a number between 1 and 65535");
	expect_error("[chatd]\nport = http\n", 2, "'port' must be a number between 1 and 65535");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[common]\n\n\n\n\n\n\n\n\n\n[chatd]\nprot = 6000\n", 12,
	             "unknown key 'prot' in [chatd]");
	expect_error("[common]\nport = 1\n", 2, "unknown key 'port' in [common]");
	expect_error("# top\n\nport = 1\n", 3, "line outside any section");
	expect_error("[chatd]\nport 6000\n", 2, "expected 'key = value'");
	expect_error("[chatd]\n= 6000\n", 2, "expected 'key = value'");
	expect_error("[chatd]\nmy key = 1\n", 2, "expected 'key = value'");
	expect_error("[common]\n[chatdd]\n", 2, "unknown section [chatdd]");
	expect_error("[chatd\n", 1, "expected '[section]'");
	expect_error("[]\n", 1, "expected '[section]'");
	expect_error("[chatd] port = 1\n", 1, "expected '[section]'");
	/* other daemons' sections are skipped, but must still parse */
	expect_error("[audiod]\nno equals sign\n", 2, "expected 'key = value'");
	assert_int_equal(load("[chatd] # the chat daemon\n[client]\nserver = x\n"), 0);
}

static void test_long_line(void **state)
{
	char text[1200];

	(void)state;
	/* 1024 bytes are allowed, 1025 are not */
	memset(text, 0, sizeof(text));
	strcpy(text, "[chatd]\n# ");
	memset(text + strlen(text), 'x', 1022);
	strcat(text, "\n");
	assert_int_equal(load(text), 0);
	text[strlen(text) - 1] = 'x';
	strcat(text, "\n");
	expect_error(text, 2, "line too long (more than 1024 bytes)");
}

/* A NUL byte ended fgets's string early: the rest of a long line was then
 * read as a line of its own, so "# xxx<NUL>...port = 7000" set the port. */
static void test_nul_byte(void **state)
{
	static const char head[] = "[chatd]\n# a comment";
	char text[1200], want[512];
	size_t n = 0;
	FILE *f;

	(void)state;
	memcpy(text, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	text[n++] = '\0';
	/* fgets takes 1,025 bytes at a time: the tail starts a "line" */
	memset(text + n, 'x', 1033 - n);
	n = 1033;
	memcpy(text + n, "port = 7000\n", 12);
	n += 12;
	f = fopen(tpath, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
	reset();
	assert_int_equal(config_load(tpath, 0, tkeys, &cf, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: a NUL byte: not a text file", tpath);
	assert_string_equal(err, want);
	assert_int_equal(cf.port, 5555);
}

static void test_missing_file(void **state)
{
	char path[160], want[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tdir);
	reset();
	assert_int_equal(config_load(path, 1, tkeys, &cf, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cf.port, 5555);
	assert_int_equal(config_load(path, 0, tkeys, &cf, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	/* a folder is not a readable config, even when optional */
	assert_int_equal(config_load(tdir, 1, tkeys, &cf, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tdir);
	assert_string_equal(err, want);
}

static void test_set(void **state)
{
	(void)state;
	reset();
	assert_int_equal(config_set("chatd.port=6000", tkeys, &cf, err, sizeof(err)), 0);
	assert_int_equal(cf.port, 6000);
	assert_int_equal(config_set(" chatd.motd = hi # there ", tkeys, &cf, err, sizeof(err)), 0);
	assert_string_equal(cf.motd, "hi # there");
	assert_int_equal(config_set("chatd.motd=\"  x \"", tkeys, &cf, err, sizeof(err)), 0);
	assert_string_equal(cf.motd, "  x ");
	assert_int_equal(config_set("common.state_dir=/tmp/s", tkeys, &cf, err, sizeof(err)), 0);
	assert_string_equal(cf.common.state_dir, "/tmp/s");

	assert_int_equal(config_set("chatd.port=99999", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
	                    "-o chatd.port=99999: 'port' must be a number between 1 and 65535");
	assert_int_equal(cf.port, 6000);
	assert_int_equal(config_set("chatd.prot=1", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-o chatd.prot=1: unknown key 'prot' in [chatd]");
	assert_int_equal(config_set("chat.port=1", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-o chat.port=1: unknown section [chat]");
	assert_int_equal(config_set("filed.port=1", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-o filed.port=1: this program does not read [filed]");
	assert_int_equal(config_set("port=1", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-o port=1: expected section.key=value");
	assert_int_equal(config_set("chatd.port", tkeys, &cf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-o chatd.port: expected section.key=value");
	assert_int_equal(config_set("chatd.register=perhaps", tkeys, &cf, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "-o chatd.register=perhaps: 'register' must be yes or no");
}

static void test_common(void **state)
{
	struct config_common c;
	char host[256] = "";

	(void)state;
	config_common_defaults(&c, NULL);
	assert_string_equal(c.state_dir, "/var/lib/nexus");
	assert_string_equal(c.bind, "::");
	assert_string_equal(c.cert_file, "");
	assert_int_equal(c.token_ttl, 30 * 24 * 3600);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c.hostname, host[0] ? host : "localhost");
	config_common_finish(&c);
	assert_string_equal(c.cert_file, "/var/lib/nexus/tls/cert.pem");
	assert_string_equal(c.key_file, "/var/lib/nexus/tls/key.pem");
	assert_string_equal(c.token_key, "/var/lib/nexus/token.key");

	config_common_defaults(&c, "state/");
	snprintf(c.key_file, sizeof(c.key_file), "/etc/ssl/k.pem");
	config_common_finish(&c);
	assert_string_equal(c.state_dir, "state/");
	assert_string_equal(c.cert_file, "state/tls/cert.pem");
	assert_string_equal(c.key_file, "/etc/ssl/k.pem");
	assert_string_equal(c.token_key, "state/token.key");

	/* "hostname =" falls back to the host name; "/" joins cleanly */
	config_common_defaults(&c, "/");
	c.hostname[0] = '\0';
	config_common_finish(&c);
	assert_string_equal(c.hostname, host[0] ? host : "localhost");
	assert_string_equal(c.token_key, "/token.key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_bool),         cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_port),         cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_long_line),    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_missing_file), cmocka_unit_test(test_set),
	    cmocka_unit_test(test_common),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
