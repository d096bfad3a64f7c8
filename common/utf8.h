/* utf8: one decoder for the protocol's validity check and the client's
 * display, and the terminal sanitizer the client's outputs share.
 *
 * Nothing a server sends reaches a terminal unfiltered: C0 and C1 controls
 * (ESC, CSI...), DEL and the bidi controls that reorder what is shown are
 * replaced, so a hostile server or user cannot move the cursor, retitle the
 * window or disguise text. */
#ifndef NEXUS_UTF8_H
#define NEXUS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define UTF8_NEWLINE "\xe2\x86\xb5"     /* U+21B5, a newline shown on one line */

/* Decode the sequence at s[0..len): its length (1..4) and code point in
 * *ret_cp, or 0 when it is invalid, cut short, overlong, a surrogate or past
 * U+10FFFF (*ret_cp untouched). A NUL decodes as U+0000, length 1. */
size_t utf8_next(const char *s, size_t len, uint32_t *ret_cp);

/* The length of s's longest prefix of at most max bytes that does not cut
 * a UTF-8 sequence in two (s valid UTF-8). */
size_t utf8_cut(const char *s, size_t max);

/* The bidi embeddings, overrides, isolates and marks. */
bool utf8_is_bidi(uint32_t cp);

/* One step of cleaning s[0..len) (len > 0) for a terminal: returns how many
 * bytes of s it consumed and points *ret_show at the ret_showlen bytes to
 * show instead: s itself, or U+FFFD for an invalid byte, a control or a
 * bidi control, "↵" for a newline (kept as '\n' with keep_nl) or a Unicode
 * line break, a space for a tab. */
size_t utf8_clean_step(const char *s, size_t len, bool keep_nl, const char **ret_show,
                       size_t *ret_showlen);
/* All of s cleaned so, in a new string (free() it), or NULL when out of
 * memory. */
char *utf8_clean(const char *s, bool keep_nl);

#endif
