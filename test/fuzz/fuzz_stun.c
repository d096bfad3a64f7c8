/* libFuzzer target for videod's STUN parser: parse, check integrity with a
 * fixed key, and when a message parses, answer it and parse the answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "fuzz_video_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m, m2;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(5000)};
	uint8_t out[256];
	int n;

	if (!stun_looks_like(data, size) || stun_parse(data, size, &m) < 0)
		return 0;
	(void)stun_check_integrity(data, size, &m, "0123456789abcdef01234567");
	n = stun_build_response(out, sizeof(out), m.txid, (struct sockaddr *)&a, "key");
	if (n < 0 || stun_parse(out, (size_t)n, &m2) < 0 || !m2.fingerprint ||
	    stun_check_integrity(out, (size_t)n, &m2, "key") != 0)
		abort(); /* our own answers must always parse and verify */
	return 0;
}
