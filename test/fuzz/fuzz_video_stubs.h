/* What videod.c provides to its parsers, for the fuzz targets that link
 * the parsers alone. */
#include <string.h>

#include "videod.h"

struct videod videod;

uint64_t vd_now_ms(void)
{
	return 0;
}

void vd_random_hex(char *out, size_t nhex)
{
	memset(out, 'a', nhex);
	out[nhex] = '\0';
}
