/* str: bounded string copies into fixed-size fields. */
#ifndef NEXUS_STR_H
#define NEXUS_STR_H

#include <stddef.h>

/* Copy src into dst[size] (size > 0), cut to fit and always NUL-terminated:
 * the fields it fills are checked for length where they come in, so a cut
 * here is a last guard, not an error to report. */
void str_copy(char *dst, size_t size, const char *src);

#endif
