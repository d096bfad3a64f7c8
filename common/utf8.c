/* utf8: decoding and cleaning for display. See utf8.h. */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_next(const char *str, size_t len, uint32_t *ret_cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 1;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 2;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 3;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len - 1 < n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n + 1;
}

size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	/* s[max] is where the cut falls: back off to the start of its sequence */
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

bool utf8_is_bidi(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

size_t utf8_clean_step(const char *s, size_t len, bool keep_nl, const char **ret_show,
                       size_t *ret_showlen)
{
	uint32_t cp;
	size_t n = utf8_next(s, len, &cp);

	*ret_show = UTF8_REPLACEMENT;
	*ret_showlen = sizeof(UTF8_REPLACEMENT) - 1;
	if (n == 0)
		return 1;
	if (cp == '\n' && keep_nl) {
		*ret_show = "\n";
		*ret_showlen = 1;
	} else if (cp == '\n' || cp == 0x2028 || cp == 0x2029) {
		*ret_show = UTF8_NEWLINE;
		*ret_showlen = sizeof(UTF8_NEWLINE) - 1;
	} else if (cp == '\t') {
		*ret_show = " ";
		*ret_showlen = 1;
	} else if (!(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || utf8_is_bidi(cp))) {
		*ret_show = s;
		*ret_showlen = n;
	}
	return n;
}

char *utf8_clean(const char *s, bool keep_nl)
{
	size_t len = strlen(s), o = 0;
	char *out = malloc(len * 3 + 1); /* every byte may become U+FFFD */

	if (!out)
		return NULL;
	while (len > 0) {
		const char *show;
		size_t showlen, n = utf8_clean_step(s, len, keep_nl, &show, &showlen);

		memcpy(out + o, show, showlen);
		o += showlen;
		s += n;
		len -= n;
	}
	out[o] = '\0';
	return out;
}
