/* portuse: finds this process as the holder of a TCP listener and a UDP
 * socket it bound, reports a free port as free, and says the one sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portuse.h"

/* A socket of TYPE bound to 127.0.0.1 on a kernel-chosen port. */
static int bound(int type, uint16_t *ret_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static void expect_self(enum portuse_proto proto, uint16_t port)
{
	char out[96], want[96], comm[32] = "";
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(want, sizeof(want), "%s (pid %ld)", comm, (long)getpid());
	assert_int_equal(portuse_holder(proto, port, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_tcp_listener(void **state)
{
	uint16_t port;
	int fd = bound(SOCK_STREAM, &port);
	char out[96];

	(void)state;
	expect_self(PORTUSE_TCP, port);
	close(fd);
	assert_int_equal(portuse_holder(PORTUSE_TCP, port, out, sizeof(out)), -ENOENT);
}

static void test_udp_socket(void **state)
{
	uint16_t port;
	int fd = bound(SOCK_DGRAM, &port);

	(void)state;
	expect_self(PORTUSE_UDP, port);
	close(fd);
}

static void test_explain(void **state)
{
	uint16_t port;
	int fd = bound(SOCK_STREAM, &port);
	char err[512], want[512];

	(void)state;
	portuse_explain(err, sizeof(err), "chatd", PORTUSE_TCP, "::", port, "-p", "port");
	snprintf(want, sizeof(want),
	         "cannot listen on TCP port %u (all addresses): it is in use by ", port);
	assert_memory_equal(err, want, strlen(want));
	assert_non_null(strstr(err, "; stop that, or choose another port with -p PORT or "
	                            "'port = PORT' in [chatd] of nexus.conf"));
	close(fd);
	/* Freed in between: nobody to name, the rest stays. */
	portuse_explain(err, sizeof(err), "videod", PORTUSE_UDP, "10.0.0.1", port, "-m",
	                "media_port");
	assert_non_null(strstr(err, "UDP port"));
	assert_non_null(strstr(err, "(address 10.0.0.1): it is in use by another program; "));
	assert_non_null(strstr(err, "-m PORT or 'media_port = PORT' in [videod]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_listener),
	    cmocka_unit_test(test_udp_socket),
	    cmocka_unit_test(test_explain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
