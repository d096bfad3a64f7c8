/* What videod.c provides to its parsers, for the fuzz targets that link
 * the parsers alone. */
#include <string.h>

#include "videod.h"

struct videod videod;

uint64_t vd_now_ms(void)
{
	return 0;
}

/* A counter, not randomness: an input can name the participant ids and
 * link codes it was given (the HTTP target resets it per input). */
static unsigned long long fuzz_hex_seq;

void vd_random_hex(char *out, size_t nhex)
{
	unsigned long long v = ++fuzz_hex_seq;

	for (size_t i = nhex; i > 0; i--, v >>= 4)
		out[i - 1] = "0123456789abcdef"[v & 15];
	out[nhex] = '\0';
}
