/* gate: the per-address connection cap: enter up to the cap, refuse past it,
 * leave frees a slot, another address is counted apart, an IPv4-mapped IPv6
 * peer counts as its IPv4 address, a descriptor entered again replaces its
 * old entry, and cap 0 means none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "gate.h"

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(40000)};

	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(40001)};

	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

static int setup(void **state)
{
	(void)state;
	gate_reset();
	gate_set_max(3);
	return 0;
}

static void test_cap_and_leave(void **state)
{
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");

	(void)state;
	for (int fd = 10; fd < 13; fd++)
		assert_int_equal(gate_enter(fd, (struct sockaddr *)&a), 0);
	assert_int_equal(gate_count((struct sockaddr *)&a), 3);
	assert_int_equal(gate_enter(13, (struct sockaddr *)&a), -EUSERS);
	assert_int_equal(gate_enter(13, (struct sockaddr *)&b), 0); /* another address */
	gate_leave(11);
	assert_int_equal(gate_count((struct sockaddr *)&a), 2);
	assert_int_equal(gate_enter(14, (struct sockaddr *)&a), 0);
	gate_leave(99); /* never entered: ignored */
	assert_int_equal(gate_count((struct sockaddr *)&a), 3);
}

static void test_mapped_is_v4(void **state)
{
	struct sockaddr_in a = v4("198.51.100.7");
	struct sockaddr_in6 m = v6("::ffff:198.51.100.7"), other = v6("2001:db8::7");
	char name[64];

	(void)state;
	assert_int_equal(gate_enter(20, (struct sockaddr *)&a), 0);
	assert_int_equal(gate_enter(21, (struct sockaddr *)&m), 0);
	assert_int_equal(gate_count((struct sockaddr *)&a), 2);
	gate_addr_name((struct sockaddr *)&m, name, sizeof(name));
	assert_string_equal(name, "198.51.100.7");
	assert_int_equal(gate_enter(22, (struct sockaddr *)&other), 0);
	assert_int_equal(gate_count((struct sockaddr *)&other), 1);
}

static void test_fd_reused(void **state)
{
	struct sockaddr_in a = v4("192.0.2.9"), b = v4("192.0.2.10");

	(void)state;
	assert_int_equal(gate_enter(30, (struct sockaddr *)&a), 0);
	/* fd 30 closed without a leave, then accepted again for b */
	assert_int_equal(gate_enter(30, (struct sockaddr *)&b), 0);
	assert_int_equal(gate_count((struct sockaddr *)&a), 0);
	assert_int_equal(gate_count((struct sockaddr *)&b), 1);
}

static void test_no_cap(void **state)
{
	struct sockaddr_in a = v4("192.0.2.20");

	(void)state;
	gate_set_max(0);
	for (int fd = 40; fd < 140; fd++)
		assert_int_equal(gate_enter(fd, (struct sockaddr *)&a), 0);
	gate_set_max(3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_cap_and_leave, setup),
	    cmocka_unit_test_setup(test_mapped_is_v4, setup),
	    cmocka_unit_test_setup(test_fd_reused, setup),
	    cmocka_unit_test_setup(test_no_cap, setup),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	gate_reset();
	return r;
}
