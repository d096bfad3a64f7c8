/* hex: lower-case hexadecimal, for key fingerprints, token nonces and MACs,
 * file hashes and random names (blobs, ICE credentials, one-time codes). */
#ifndef NEXUS_HEX_H
#define NEXUS_HEX_H

#include <stddef.h>
#include <stdint.h>

#define HEX_DIGITS "0123456789abcdef"

/* The len bytes at in as 2 * len digits and a NUL into out. */
void hex_encode(const void *in, size_t len, char *out);

/* nhex random digits and a NUL into out (nhex + 1 bytes), from the
 * kernel's generator. 0, or -errno when it fails. */
int hex_random(char *out, size_t nhex);

#endif
