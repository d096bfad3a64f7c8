/* Unit tests for videod's STUN: the RFC 5769 test vector and our own
 * responses and requests. stun.c is compiled in (videod is not a
 * library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "../../videod/stun.c"

struct videod videod;

uint64_t vd_now_ms(void)
{
	return 1;
}

/* RFC 5769 2.1: a binding request with USERNAME "evtj:h6vY", password
 * "VOkJxbRl1RmTxUk/WvJxBt", MESSAGE-INTEGRITY and FINGERPRINT. */
static const uint8_t rfc5769_req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

static void test_stun_rfc5769(void **state)
{
	struct stun_msg m;
	uint8_t bad[sizeof(rfc5769_req)];

	(void)state;
	assert_int_equal(stun_parse(rfc5769_req, sizeof(rfc5769_req), &m), 0);
	assert_int_equal(m.type, 0x0001);
	assert_string_equal(m.username, "evtj:h6vY");
	assert_true(m.fingerprint);
	assert_int_equal(m.priority, 0x6e0001ff);
	assert_int_equal(
	    stun_check_integrity(rfc5769_req, sizeof(rfc5769_req), &m, "VOkJxbRl1RmTxUk/WvJxBt"),
	    0);
	assert_int_not_equal(stun_check_integrity(rfc5769_req, sizeof(rfc5769_req), &m, "wrong"),
	                     0);
	memcpy(bad, rfc5769_req, sizeof(bad));
	bad[70] ^= 1; /* inside USERNAME: the fingerprint no longer matches */
	assert_int_not_equal(stun_parse(bad, sizeof(bad), &m), 0);
	assert_int_not_equal(stun_parse(rfc5769_req, sizeof(rfc5769_req) - 4, &m), 0);
}

static void test_stun_response(void **state)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(50000)};
	uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[256];
	struct stun_msg m;
	int n;

	(void)state;
	inet_pton(AF_INET6, "::ffff:10.99.0.2", &a.sin6_addr);
	n = stun_build_response(out, sizeof(out), txid, (struct sockaddr *)&a, "pwd");
	assert_true(n > 0);
	assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
	assert_int_equal(m.type, 0x0101);
	assert_int_equal(stun_check_integrity(out, (size_t)n, &m, "pwd"), 0);
	/* XOR-MAPPED-ADDRESS of an IPv4 peer: family 1, port and address
	 * xored with the magic cookie. */
	assert_int_equal(out[20], 0x00);
	assert_int_equal(out[21], 0x20);
	assert_int_equal(out[25], 1);
	assert_int_equal(((out[26] << 8) | out[27]) ^ 0x2112, 50000);
	assert_int_equal(out[28] ^ 0x21, 10);
	assert_int_equal(out[31] ^ 0x42, 2);
	n = stun_build_request(out, sizeof(out), txid, "abc:def", "key");
	assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
	assert_true(m.use_candidate);
	assert_int_equal(stun_check_integrity(out, (size_t)n, &m, "key"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stun_rfc5769),
	    cmocka_unit_test(test_stun_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
