/* hex: see hex.h. */
#include "hex.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* Random bytes are drawn in chunks of this many (getrandom() gives up to
 * 256 bytes at once without blocking or being cut short by a signal). */
#define HEX_CHUNK 32

void hex_encode(const void *in, size_t len, char *out)
{
	const uint8_t *p = in;

	for (size_t i = 0; i < len; i++) {
		*out++ = HEX_DIGITS[p[i] >> 4];
		*out++ = HEX_DIGITS[p[i] & 15];
	}
	*out = '\0';
}

int hex_random(char *out, size_t nhex)
{
	uint8_t b[HEX_CHUNK];
	char chunk[2 * HEX_CHUNK + 1];
	size_t done = 0;

	while (done < nhex) {
		size_t want = (nhex - done + 1) / 2, n;

		if (want > sizeof(b))
			want = sizeof(b);
		if (getrandom(b, want, 0) != (ssize_t)want)
			return errno ? -errno : -EIO;
		hex_encode(b, want, chunk);
		n = nhex - done < 2 * want ? nhex - done : 2 * want;
		memcpy(out + done, chunk, n);
		done += n;
	}
	out[nhex] = '\0';
	return 0;
}
