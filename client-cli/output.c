/* output: chat lines as text or JSON, string cleaning and escaping.
 *
 * Nothing a server sends reaches the terminal unfiltered (common/utf8.h
 * says what is replaced and why); JSON output escapes instead. */
#include "client.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUT_REPLY "\xe2\x86\xaa" /* U+21AA ↪ */

void out_clean(FILE *f, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		const char *show;
		size_t showlen, n = utf8_clean_step(s, len, false, &show, &showlen);

		fwrite(show, 1, showlen, f);
		s += n;
		len -= n;
	}
}

const char *out_clean_str(char *buf, size_t len, const char *s)
{
	char *clean = utf8_clean(s, false);
	size_t n = clean ? utf8_cut(clean, len - 1) : 0;

	if (n)
		memcpy(buf, clean, n);
	buf[n] = '\0';
	free(clean);
	return buf;
}

void out_json_str(FILE *f, const char *str)
{
	const char *s = str;
	size_t len = strlen(str);

	fputc('"', f);
	while (len > 0) {
		uint32_t cp;
		size_t n = utf8_next(s, len, &cp);

		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
			len--;
			continue;
		}
		switch (cp) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			/* Controls, DEL, C1, the JavaScript line breaks and the
			 * bidi controls (still the same string once parsed). */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
			    cp == 0x2029 || utf8_is_bidi(cp))
				fprintf(f, "\\u%04x", (unsigned)cp);
			else
				fwrite(s, 1, n, f);
		}
		s += n;
		len -= n;
	}
	fputc('"', f);
}

void out_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("nexus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int out_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int r = errno ? -errno : -EIO;
		clearerr(stdout);
		return r;
	}
	return 0;
}

const char *out_time(uint64_t ms, int date, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, date ? "%Y-%m-%d %H:%M" : "%H:%M:%S", &tm))
		snprintf(buf, len, "?");
	return buf;
}

static int out_chat_json(const struct msg *m)
{
	struct jw w;

	jw_begin(&w, stdout);
	jw_u64(&w, "id", m->id);
	jw_u64(&w, "ts", m->ts);
	jw_str(&w, "room", m->room);
	jw_str(&w, "user", m->user);
	jw_str(&w, "text", m->text);
	jw_u64(&w, "reply_to", m->ref);
	jw_bool(&w, "edited", (m->flags & MF_EDITED) != 0);
	jw_bool(&w, "deleted", (m->flags & MF_DELETED) != 0);
	jw_bool(&w, "mention", (m->flags & MF_MENTION) != 0);
	return jw_end(&w);
}

/* [ID] HH:MM:SS <user> text, "↪ #REF" for replies, "(edited)", "(deleted)". */
int out_chat(const struct settings *s, const struct msg *m, int prefix_room)
{
	char ts[32];

	if (s->json)
		return out_chat_json(m);
	if (prefix_room) {
		out_clean(stdout, m->room);
		fputc(' ', stdout);
	}
	printf("[%" PRIu64 "] %s <", m->id, out_time(m->ts, 0, ts, sizeof(ts)));
	out_clean(stdout, m->user);
	fputs(">", stdout);
	if (m->flags & MF_DELETED) {
		fputs(" (deleted)\n", stdout);
		return out_flush();
	}
	if (m->ref)
		printf(" " OUT_REPLY " #%" PRIu64, m->ref);
	fputc(' ', stdout);
	out_clean(stdout, m->text);
	if (m->flags & MF_EDITED)
		fputs(" (edited)", stdout);
	fputc('\n', stdout);
	return out_flush();
}

/* JSON writer: members are separated by commas per nesting level. */
void jw_begin(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	fputc('{', f);
}

void jw_key(struct jw *w, const char *key)
{
	if (w->count[w->depth]++)
		fputc(',', w->f);
	if (key) {
		out_json_str(w->f, key);
		fputc(':', w->f);
	}
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_key(w, key);
	out_json_str(w->f, val);
}

void jw_u64(struct jw *w, const char *key, uint64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, val);
}

void jw_bool(struct jw *w, const char *key, int val)
{
	jw_key(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->f);
	if (w->depth + 1 < (int)(sizeof(w->count) / sizeof(w->count[0])))
		w->depth++;
	w->count[w->depth] = 0;
}

void jw_close(struct jw *w, char bracket)
{
	fputc(bracket, w->f);
	if (w->depth > 0)
		w->depth--;
}

int jw_end(struct jw *w)
{
	fputs("}\n", w->f);
	return w->f == stdout ? out_flush() : 0;
}
