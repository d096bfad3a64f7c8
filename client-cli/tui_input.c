/* tui_input: the input line of the full-screen client, as wide characters
 * so that the cursor moves by character and the screen by display column
 * (CJK and emoji take two, combining marks none). Emacs-style editing,
 * history and Tab completion. Pure C over libc. */
#include "tui.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

void tui_line_init(struct tui_line *l)
{
	memset(l, 0, sizeof(*l));
}

void tui_line_free(struct tui_line *l)
{
	for (size_t i = 0; i < l->nhist; i++)
		free(l->hist[i]);
	free(l->saved);
	memset(l, 0, sizeof(*l));
}

void tui_line_clear(struct tui_line *l)
{
	l->len = l->pos = l->scroll = 0;
	l->buf[0] = 0;
	l->completing = 0;
}

int tui_line_insert_str(struct tui_line *l, const wchar_t *s, size_t n)
{
	if (n > TUI_LINE_MAX - l->len)
		n = TUI_LINE_MAX - l->len;
	if (n == 0)
		return -1;
	wmemmove(l->buf + l->pos + n, l->buf + l->pos, l->len - l->pos);
	wmemcpy(l->buf + l->pos, s, n);
	l->len += n;
	l->pos += n;
	l->buf[l->len] = 0;
	return 0;
}

int tui_line_insert(struct tui_line *l, wchar_t ch)
{
	return tui_line_insert_str(l, &ch, 1);
}

void tui_line_left(struct tui_line *l)
{
	if (l->pos > 0)
		l->pos--;
}

void tui_line_right(struct tui_line *l)
{
	if (l->pos < l->len)
		l->pos++;
}

void tui_line_home(struct tui_line *l)
{
	l->pos = 0;
}

void tui_line_end(struct tui_line *l)
{
	l->pos = l->len;
}

static int tui_is_word(wchar_t ch)
{
	return iswalnum((wint_t)ch) || ch == '_' || ch == '-' || ch > 0x7f;
}

static size_t tui_word_start(const struct tui_line *l, size_t pos)
{
	while (pos > 0 && !tui_is_word(l->buf[pos - 1]))
		pos--;
	while (pos > 0 && tui_is_word(l->buf[pos - 1]))
		pos--;
	return pos;
}

static size_t tui_word_end(const struct tui_line *l, size_t pos)
{
	while (pos < l->len && !tui_is_word(l->buf[pos]))
		pos++;
	while (pos < l->len && tui_is_word(l->buf[pos]))
		pos++;
	return pos;
}

void tui_line_word_left(struct tui_line *l)
{
	l->pos = tui_word_start(l, l->pos);
}

void tui_line_word_right(struct tui_line *l)
{
	l->pos = tui_word_end(l, l->pos);
}

/* Remove [from, to) and keep it for Ctrl-Y when kill is set. */
static void tui_line_cut(struct tui_line *l, size_t from, size_t to, int kill)
{
	if (from >= to)
		return;
	if (kill) {
		wmemcpy(l->kill, l->buf + from, to - from);
		l->kill_len = to - from;
	}
	wmemmove(l->buf + from, l->buf + to, l->len - to);
	l->len -= to - from;
	l->buf[l->len] = 0;
	l->pos = from;
}

void tui_line_backspace(struct tui_line *l)
{
	if (l->pos > 0)
		tui_line_cut(l, l->pos - 1, l->pos, 0);
}

void tui_line_delete(struct tui_line *l)
{
	if (l->pos < l->len)
		tui_line_cut(l, l->pos, l->pos + 1, 0);
}

void tui_line_kill_word_back(struct tui_line *l)
{
	size_t from = l->pos;

	/* Ctrl-W as in a shell: back over spaces, then to the previous space. */
	while (from > 0 && iswspace((wint_t)l->buf[from - 1]))
		from--;
	while (from > 0 && !iswspace((wint_t)l->buf[from - 1]))
		from--;
	tui_line_cut(l, from, l->pos, 1);
}

void tui_line_kill_word_fwd(struct tui_line *l)
{
	tui_line_cut(l, l->pos, tui_word_end(l, l->pos), 1);
}

void tui_line_kill_start(struct tui_line *l)
{
	tui_line_cut(l, 0, l->pos, 1);
}

void tui_line_kill_end(struct tui_line *l)
{
	tui_line_cut(l, l->pos, l->len, 1);
}

void tui_line_yank(struct tui_line *l)
{
	tui_line_insert_str(l, l->kill, l->kill_len);
}

void tui_line_transpose(struct tui_line *l)
{
	wchar_t t;

	if (l->len < 2 || l->pos == 0)
		return;
	if (l->pos == l->len)
		l->pos--;
	t = l->buf[l->pos - 1];
	l->buf[l->pos - 1] = l->buf[l->pos];
	l->buf[l->pos] = t;
	l->pos++;
}

/* UTF-8 */

static size_t tui_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int tui_wstr_utf8(const wchar_t *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp = (uint32_t)s[i];
		char tmp[4];
		size_t k;

		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		k = tui_utf8_put(cp, tmp);
		if (o + k + 1 > outlen)
			return -1;
		memcpy(out + o, tmp, k);
		o += k;
	}
	if (o + 1 > outlen)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int tui_line_utf8(const struct tui_line *l, char *out, size_t outlen)
{
	return tui_wstr_utf8(l->buf, l->len, out, outlen);
}

size_t tui_utf8_decode(const char *s, wchar_t *out, size_t max)
{
	size_t len = strlen(s), n = 0;

	while (len > 0 && n < max) {
		uint32_t cp = 0xfffd;
		size_t k = utf8_next(s, len, &cp);

		if (k == 0)
			k = 1; /* one U+FFFD per invalid byte, as utf8_clean shows it */
		out[n++] = (wchar_t)cp;
		s += k;
		len -= k;
	}
	return n;
}

int tui_wcwidth(wchar_t ch)
{
	int w = wcwidth(ch);

	if (w >= 0)
		return w;
	return 1;
}

size_t tui_wcswidth(const wchar_t *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += (size_t)tui_wcwidth(s[i]);
	return w;
}

size_t tui_fit(const wchar_t *s, size_t n, size_t cols)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++) {
		size_t cw = (size_t)tui_wcwidth(s[i]);
		if (w + cw > cols)
			break;
		w += cw;
	}
	return i;
}

size_t tui_line_view(struct tui_line *l, size_t cols)
{
	size_t before;

	if (cols < 2)
		cols = 2;
	if (l->scroll > l->pos)
		l->scroll = l->pos;
	/* Keep the cursor inside, with a little context on the left. */
	while (tui_wcswidth(l->buf + l->scroll, l->pos - l->scroll) >= cols)
		l->scroll++;
	if (l->scroll > 0 && l->pos - l->scroll < 4 && l->pos >= 4 &&
	    tui_wcswidth(l->buf + l->pos - 4, 4) < cols / 2)
		l->scroll = l->pos - 4;
	before = tui_wcswidth(l->buf + l->scroll, l->pos - l->scroll);
	return before;
}

/* History */

static wchar_t *tui_wdup(const wchar_t *s, size_t n)
{
	wchar_t *d = malloc((n + 1) * sizeof(*d));

	if (!d)
		return NULL;
	wmemcpy(d, s, n);
	d[n] = 0;
	return d;
}

static void tui_line_set(struct tui_line *l, const wchar_t *s)
{
	size_t n = wcslen(s);

	if (n > TUI_LINE_MAX)
		n = TUI_LINE_MAX;
	wmemcpy(l->buf, s, n);
	l->buf[n] = 0;
	l->len = l->pos = n;
	l->scroll = 0;
}

void tui_line_remember(struct tui_line *l)
{
	size_t i;
	wchar_t *d;

	free(l->saved);
	l->saved = NULL;
	for (i = 0; i < l->len && iswspace((wint_t)l->buf[i]); i++)
		;
	if (i == l->len || (l->nhist && wcscmp(l->hist[l->nhist - 1], l->buf) == 0)) {
		l->hist_pos = l->nhist;
		return;
	}
	d = tui_wdup(l->buf, l->len);
	if (!d)
		return;
	if (l->nhist == TUI_HISTORY_MAX) {
		free(l->hist[0]);
		memmove(l->hist, l->hist + 1, (TUI_HISTORY_MAX - 1) * sizeof(*l->hist));
		l->nhist--;
	}
	l->hist[l->nhist++] = d;
	l->hist_pos = l->nhist;
}

void tui_line_hist_prev(struct tui_line *l)
{
	if (l->hist_pos == 0 || l->nhist == 0)
		return;
	if (l->hist_pos >= l->nhist) {
		free(l->saved);
		l->saved = tui_wdup(l->buf, l->len);
		l->hist_pos = l->nhist;
	}
	l->hist_pos--;
	tui_line_set(l, l->hist[l->hist_pos]);
}

void tui_line_hist_next(struct tui_line *l)
{
	if (l->hist_pos >= l->nhist)
		return;
	l->hist_pos++;
	if (l->hist_pos == l->nhist) {
		tui_line_set(l, l->saved ? l->saved : L"");
		free(l->saved);
		l->saved = NULL;
	} else {
		tui_line_set(l, l->hist[l->hist_pos]);
	}
}

/* Completion */

void tui_line_word(const struct tui_line *l, char *out, size_t outlen, size_t *ret_start)
{
	size_t start = l->pos;

	while (start > 0 && !iswspace((wint_t)l->buf[start - 1]))
		start--;
	if (tui_wstr_utf8(l->buf + start, l->pos - start, out, outlen) < 0)
		out[0] = '\0';
	*ret_start = start;
}

void tui_line_complete_end(struct tui_line *l)
{
	l->completing = 0;
}

/* Case-insensitive ASCII prefix match (names are ASCII; rooms may not be). */
static int tui_prefix(const char *word, const char *cand)
{
	for (; *word; word++, cand++) {
		unsigned char a = (unsigned char)*word, b = (unsigned char)*cand;
		if (!b)
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static void tui_line_replace(struct tui_line *l, size_t start, size_t len, const char *utf8)
{
	wchar_t w[TUI_LINE_MAX];
	size_t n = tui_utf8_decode(utf8, w, TUI_LINE_MAX);

	tui_line_cut(l, start, start + len, 0);
	tui_line_insert_str(l, w, n);
}

size_t tui_line_complete(struct tui_line *l, const char *const *cands, const char *suffix)
{
	char word[256], pick[512];
	size_t start, nmatch = 0, want;
	const char *match = NULL;

	if (!l->completing) {
		tui_line_word(l, word, sizeof(word), &start);
		l->comp_start = start;
		l->comp_len = l->pos - start;
		l->comp_index = 0;
		snprintf(l->comp_word, sizeof(l->comp_word), "%s", word);
	}
	for (size_t i = 0; cands[i]; i++)
		if (tui_prefix(l->comp_word, cands[i]))
			nmatch++;
	if (nmatch == 0)
		return 0;
	want = l->comp_index % nmatch;
	for (size_t i = 0, k = 0; cands[i]; i++)
		if (tui_prefix(l->comp_word, cands[i]) && k++ == want) {
			match = cands[i];
			break;
		}
	snprintf(pick, sizeof(pick), "%s%s", match, nmatch == 1 && suffix ? suffix : "");
	tui_line_replace(l, l->comp_start, l->comp_len, pick);
	l->comp_len = l->pos - l->comp_start;
	l->comp_index++;
	l->completing = 1;
	return nmatch;
}
