/* tui_draw: the screen of the full-screen client, redrawn whole into
 * curses' virtual screen (curses sends only what changed):
 *
 *   row 0        title: room, topic, member count
 *   rows 1..h-3  rooms | conversation | members (toggle)
 *   row h-2      status: connection, latency, who is typing, notes
 *   row h-1      input line
 *
 * The side panels shrink and then go as the terminal narrows. Only the
 * messages that show are laid out, so the cost of a frame does not grow
 * with the size of a room. Everything drawn from the server was cleaned of
 * control characters when it was stored (utf8_clean). */
#include "client.h"
#include "clock.h"
#include "tui.h"

#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUI_RENDER_MAX 4096 /* characters of one message laid out */
#define TUI_LINES_MAX 512   /* screen lines of one message */
#define TUI_QUOTE_MAX 120   /* characters of a quoted message */

enum tui_style {
	ST_NORMAL,
	ST_TIME,
	ST_DIM,
	ST_BAR,
	ST_INFO,
	ST_ERROR,
	ST_MENTION,
	ST_REPLY,
	ST_ONLINE,
	ST_AWAY,
	ST_CURRENT,
	ST_UNREAD,
	ST_MARK,
	ST_NICK0, /* nick colours follow */
};

#define TUI_PAIR_BASE 1
static const short tui_nick_8[] = {COLOR_RED,  COLOR_GREEN,   COLOR_YELLOW,
                                   COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};
static const short tui_nick_256[] = {167, 173, 179, 107, 72,  74,  68,
                                     104, 140, 175, 36,  166, 142, 109};
static int tui_nnick = 1;

void tui_draw_init(struct tui *t)
{
	const short *pal;
	int n;

	t->color = 0;
	tui_nnick = 1;
	if (!has_colors() || getenv("NO_COLOR") || start_color() == ERR)
		return;
	t->color = 1;
	use_default_colors();
	init_pair(TUI_PAIR_BASE + ST_TIME, -1, -1);
	init_pair(TUI_PAIR_BASE + ST_BAR, COLOR_WHITE, COLOR_BLUE);
	init_pair(TUI_PAIR_BASE + ST_INFO, COLOR_CYAN, -1);
	init_pair(TUI_PAIR_BASE + ST_ERROR, COLOR_RED, -1);
	init_pair(TUI_PAIR_BASE + ST_MENTION, COLOR_YELLOW, -1);
	init_pair(TUI_PAIR_BASE + ST_REPLY, -1, -1);
	init_pair(TUI_PAIR_BASE + ST_ONLINE, COLOR_GREEN, -1);
	init_pair(TUI_PAIR_BASE + ST_AWAY, COLOR_YELLOW, -1);
	init_pair(TUI_PAIR_BASE + ST_MARK, COLOR_RED, -1);
	init_pair(TUI_PAIR_BASE + ST_UNREAD, -1, -1);
	if (COLORS >= 256) {
		pal = tui_nick_256;
		n = (int)(sizeof(tui_nick_256) / sizeof(tui_nick_256[0]));
	} else {
		pal = tui_nick_8;
		n = (int)(sizeof(tui_nick_8) / sizeof(tui_nick_8[0]));
	}
	for (int i = 0; i < n && TUI_PAIR_BASE + ST_NICK0 + i < COLOR_PAIRS; i++) {
		init_pair((short)(TUI_PAIR_BASE + ST_NICK0 + i), pal[i], -1);
		tui_nnick = i + 1;
	}
}

static attr_t tui_attr(const struct tui *t, int style)
{
	attr_t a = A_NORMAL;

	switch (style) {
	case ST_TIME:
	case ST_DIM:
	case ST_REPLY:
		a = A_DIM;
		break;
	case ST_BAR:
		a = A_REVERSE;
		break;
	case ST_ERROR:
	case ST_MARK:
	case ST_MENTION:
	case ST_UNREAD:
		a = A_BOLD;
		break;
	case ST_CURRENT:
		a = A_REVERSE | A_BOLD;
		break;
	default:
		if (style >= ST_NICK0)
			a = A_BOLD;
	}
	if (!t->color || style == ST_CURRENT)
		return a;
	if (style == ST_BAR)
		return COLOR_PAIR(TUI_PAIR_BASE + ST_BAR);
	if (style == ST_NORMAL || style == ST_DIM || style == ST_TIME || style == ST_REPLY ||
	    style == ST_UNREAD)
		return a;
	return a | COLOR_PAIR(TUI_PAIR_BASE + style);
}

static int tui_nick_style(const char *name)
{
	return ST_NICK0 + (int)(tui_name_hash(name) % (uint32_t)tui_nnick);
}

/* A line of styled characters being built. */
struct tui_buf {
	wchar_t w[TUI_RENDER_MAX + 8];
	unsigned char st[TUI_RENDER_MAX + 8];
	size_t n;
};

static void tui_buf_put(struct tui_buf *b, const char *utf8, int style)
{
	size_t k = tui_utf8_decode(utf8, b->w + b->n, TUI_RENDER_MAX - b->n);

	for (size_t i = 0; i < k; i++) {
		wchar_t ch = b->w[b->n + i];
		/* Unassigned and other unprintable characters: a replacement. */
		if (ch != '\n' && wcwidth(ch) < 0)
			b->w[b->n + i] = 0xfffd;
		b->st[b->n + i] = (unsigned char)style;
	}
	b->n += k;
}

static size_t tui_buf_width(const struct tui_buf *b)
{
	return tui_wcswidth(b->w, b->n);
}

/* Wrap b into lines of width (continuations indented); start and end of
 * each line in starts/ends. Breaks at spaces when it can. */
static size_t tui_wrap(const struct tui_buf *b, size_t width, size_t indent, size_t *starts,
                       size_t *ends, size_t max)
{
	size_t lines = 0, pos = 0;

	if (indent + 8 > width)
		indent = 0;
	while (pos < b->n && lines < max) {
		size_t avail = lines ? width - indent : width, w = 0, i = pos, sp = SIZE_MAX;
		size_t end, next;

		while (i < b->n && b->w[i] != '\n') {
			size_t cw = (size_t)tui_wcwidth(b->w[i]);
			if (w + cw > avail)
				break;
			if (b->w[i] == ' ')
				sp = i;
			w += cw;
			i++;
		}
		if (i < b->n && b->w[i] == '\n') {
			end = i;
			next = i + 1;
		} else if (i < b->n && sp != SIZE_MAX && sp > pos) {
			end = sp;
			next = sp + 1;
		} else {
			end = i > pos ? i : pos + 1;
			next = end;
		}
		starts[lines] = pos;
		ends[lines] = end;
		lines++;
		pos = next;
	}
	if (!lines) /* nothing to show (a reply's empty text): one blank line */
		starts[0] = ends[0] = 0;
	return lines ? lines : 1;
}

static void tui_put_time(struct tui_buf *b, uint64_t ts)
{
	char buf[16];
	time_t tt = (time_t)(ts / 1000);
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%H:%M ", &tm))
		snprintf(buf, sizeof(buf), "--:-- ");
	tui_buf_put(b, buf, ST_TIME);
}

/* The quote that heads a reply, after its author's nick: "↪ bob: what
 * was said", one line, cut with an ellipsis to width columns in all. On
 * the reply's own first line (not above it, where it read as the end of
 * the message before), so it plainly belongs to the reply. */
static void tui_build_quote(const struct tui *t, const struct tui_room *r, const struct tui_msg *m,
                            struct tui_buf *q, size_t width)
{
	const struct tui_msg *o = r ? tui_room_by_id(r, m->ref) : NULL;
	char line[TUI_QUOTE_MAX * 4 + 64];

	tui_buf_put(q, t->utf8 ? "\xe2\x86\xaa " : "^ ", ST_REPLY);
	if (!o) {
		snprintf(line, sizeof(line), "#%" PRIu64, m->ref);
		tui_buf_put(q, line, ST_REPLY);
	} else {
		tui_buf_put(q, o->user, tui_nick_style(o->user));
		snprintf(line, sizeof(line), ": %.*s", TUI_QUOTE_MAX * 3,
		         o->flags & MF_DELETED ? "(deleted)" : o->text);
		tui_buf_put(q, line, ST_REPLY);
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->w[i] == '\n')
			q->w[i] = ' ';
	if (width > 1 && tui_buf_width(q) > width) {
		q->n = tui_fit(q->w, q->n, width - 1);
		q->w[q->n] = t->utf8 ? 0x2026 : '>';
		q->st[q->n++] = ST_REPLY;
	}
}

/* Lay out one entry; returns the indent of continuation lines. For a
 * reply, head gets its first line (time, nick, quote) and b only its text,
 * which goes on the lines below at the indent. */
static size_t tui_build(const struct tui *t, const struct tui_room *r, const struct tui_msg *m,
                        struct tui_buf *b, struct tui_buf *head, size_t width)
{
	char idbuf[96], name[256], size[32], link[128];
	size_t indent;
	int me_action = m->kind == TUI_CHAT && strncmp(m->text, "/me ", 4) == 0;

	b->n = 0;
	head->n = 0;
	tui_put_time(b, m->ts);
	if (m->kind != TUI_CHAT) {
		tui_buf_put(b, m->kind == TUI_ERROR ? "!! " : "-- ",
		            m->kind == TUI_ERROR ? ST_ERROR : ST_INFO);
		indent = tui_buf_width(b);
		tui_buf_put(b, m->text, m->kind == TUI_ERROR ? ST_ERROR : ST_INFO);
		return indent;
	}
	if (t->show_ids) {
		snprintf(idbuf, sizeof(idbuf), "#%" PRIu64 " ", m->id);
		tui_buf_put(b, idbuf, ST_DIM);
	}
	if (me_action) {
		tui_buf_put(b, "* ", ST_NORMAL);
		tui_buf_put(b, m->user, tui_nick_style(m->user));
		tui_buf_put(b, " ", ST_NORMAL);
	} else {
		tui_buf_put(b, "<", ST_DIM);
		tui_buf_put(b, m->user, tui_nick_style(m->user));
		tui_buf_put(b, "> ", ST_DIM);
	}
	indent = tui_buf_width(b);
	if (m->ref) {
		*head = *b;
		b->n = 0;
		tui_build_quote(t, r, m, head, width);
	}
	if (m->flags & MF_DELETED) {
		tui_buf_put(b, "(deleted)", ST_DIM);
		return indent;
	}
	if (!me_action &&
	    tui_notice_parse(m->text, name, sizeof(name), size, sizeof(size), link, sizeof(link))) {
		/* a file notice: the name stands out, the link is /get */
		tui_buf_put(b, "\xf0\x9f\x93\x8e ", ST_NORMAL);
		tui_buf_put(b, name, ST_INFO);
		snprintf(idbuf, sizeof(idbuf), " (%s) \xe2\x80\x94 /get %" PRIu64, size, m->id);
		tui_buf_put(b, idbuf, ST_DIM);
	} else {
		tui_buf_put(b, me_action ? m->text + 4 : m->text,
		            (m->flags & MF_MENTION) ? ST_MENTION : ST_NORMAL);
	}
	if (m->flags & MF_EDITED)
		tui_buf_put(b, " (edited)", ST_DIM);
	return indent;
}

static void tui_put_run(const struct tui *t, int y, int x, const struct tui_buf *b, size_t from,
                        size_t to, int maxw)
{
	int used = 0;

	move(y, x);
	while (from < to && used < maxw) {
		int style = b->st[from];
		size_t run = from;
		int w = 0;

		while (run < to && b->st[run] == style) {
			int cw = tui_wcwidth(b->w[run]);
			if (used + w + cw > maxw)
				break;
			w += cw;
			run++;
		}
		if (run == from)
			break;
		attrset(tui_attr(t, style));
		addnwstr(b->w + from, (int)(run - from));
		used += w;
		from = run;
	}
	attrset(A_NORMAL);
}

/* Wrap an entry built by tui_build: the lines of b, and where they start
 * on the screen (a reply's text sits at the indent under its head). */
static size_t tui_layout(const struct tui_buf *b, const struct tui_buf *head, size_t width,
                         size_t indent, size_t *starts, size_t *ends, size_t *ret_x)
{
	if (indent + 8 > width)
		indent = 0;
	*ret_x = indent;
	if (!head->n)
		return tui_wrap(b, width, indent, starts, ends, TUI_LINES_MAX);
	return tui_wrap(b, width - indent, 0, starts, ends, TUI_LINES_MAX);
}

size_t tui_draw_lines(struct tui *t, const struct tui_room *r, const struct tui_msg *m)
{
	static struct tui_buf b, head;
	static size_t starts[TUI_LINES_MAX], ends[TUI_LINES_MAX];
	size_t width = t->text_width > 8 ? (size_t)t->text_width : 80, x;
	size_t indent = tui_build(t, r, m, &b, &head, width);

	return tui_layout(&b, &head, width, indent, starts, ends, &x) + (head.n ? 1 : 0);
}

/* The conversation, bottom up, skipping r->scroll lines. */
static void tui_draw_messages(struct tui *t, struct tui_room *r, int top, int bottom, int x,
                              int width)
{
	static struct tui_buf b, head;
	static size_t starts[TUI_LINES_MAX], ends[TUI_LINES_MAX];
	size_t skip = r->scroll, i = r->count, total = 0;
	int y = bottom;

	t->hit_top = 0;
	while (i > 0 && y >= top) {
		const struct tui_msg *m = tui_room_at(r, --i);
		size_t indent = tui_build(t, r, m, &b, &head, (size_t)width), bx;
		size_t n = tui_layout(&b, &head, (size_t)width, indent, starts, ends, &bx);
		size_t all = n + (head.n ? 1 : 0);

		total += all;
		if (skip >= all) {
			skip -= all;
			continue;
		}
		/* Lines all-1-skip down to 0 of this entry, bottom up. */
		for (size_t k = all - skip; k-- > 0 && y >= top; y--) {
			if (head.n && k == 0) {
				tui_put_run(t, y, x, &head, 0, head.n, width);
				continue;
			}
			size_t li = head.n ? k - 1 : k;
			size_t ind = head.n || li ? bx : 0;
			tui_put_run(t, y, x + (int)ind, &b, starts[li], ends[li], width - (int)ind);
		}
		skip = 0;
	}
	if (i == 0 && (y >= top || skip > 0)) {
		size_t marker = r->has_older || r->loading ? 1 : 0;
		size_t excess = skip + (size_t)(y - top + 1);

		t->hit_top = 1;
		/* Scrolled past the oldest line: hold the oldest at the top (below
		 * the marker) and draw again. */
		if (r->scroll && excess > marker) {
			r->scroll = r->scroll > excess - marker ? r->scroll - (excess - marker) : 0;
			for (int k = top; k <= bottom; k++) {
				move(k, x);
				for (int c = 0; c < width; c++)
					addch(' ');
			}
			tui_draw_messages(t, r, top, bottom, x, width);
			return;
		}
		if (r->has_older || r->loading)
			mvaddstr(top, x,
			         r->loading ? "-- loading older messages --"
			                    : "-- PageUp: older messages --");
		else if (r->count == 0)
			mvaddstr(top, x, "-- no messages yet --");
	}
	(void)total;
}

static void tui_fill(const struct tui *t, int y, int x, int w, int style)
{
	attrset(tui_attr(t, style));
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

/* A UTF-8 string cut to w columns at (y, x). */
static int tui_put_str(const struct tui *t, int y, int x, int w, const char *s, int style)
{
	static struct tui_buf b;

	b.n = 0;
	tui_buf_put(&b, s, style);
	for (size_t i = 0; i < b.n; i++)
		if (b.w[i] == '\n')
			b.w[i] = ' ';
	tui_put_run(t, y, x, &b, 0, b.n, w);
	return (int)tui_wcswidth(b.w, tui_fit(b.w, b.n, (size_t)w));
}

static void tui_draw_rooms(struct tui *t, int top, int bottom, int w)
{
	char num[16], label[PROTO_ROOM_MAX + 8];

	tui_put_str(t, top, 0, w, " Rooms", ST_DIM);
	for (size_t i = 0; i < t->st.nrooms && top + 1 + (int)i <= bottom; i++) {
		const struct tui_room *r = t->st.rooms[i];
		int y = top + 1 + (int)i, cur = i == t->st.cur, nw = 0;
		int style = cur         ? ST_CURRENT
		            : r->unread ? ST_UNREAD
		            : r->joined ? ST_NORMAL
		                        : ST_DIM;

		if (cur)
			tui_fill(t, y, 0, w, ST_CURRENT);
		num[0] = '\0';
		if (r->unread && !cur) {
			snprintf(num, sizeof(num), "%s%u", r->mention ? "!" : "",
			         r->unread > 999 ? 999 : r->unread);
			nw = (int)strlen(num);
		}
		snprintf(label, sizeof(label), "%c%s", r->mention && !cur ? '!' : ' ', r->label);
		tui_put_str(t, y, 0, w - nw - 1, label, r->mention && !cur ? ST_MARK : style);
		if (nw)
			tui_put_str(t, y, w - nw, nw, num, r->mention ? ST_MARK : ST_UNREAD);
	}
}

/* Voice and call marks after a member's name: "♪" in the voice room, "♫"
 * while talking, "▣" in the video call ("v", "T", "c" without UTF-8). */
static void tui_av_text(const struct tui *t, unsigned m, char *out, size_t len, int *style)
{
	size_t o = 0;

	out[0] = '\0';
	*style = ST_INFO;
	if (m & TUI_AV_TALKING) {
		o += (size_t)snprintf(out + o, len - o, "%s", t->utf8 ? "\xe2\x99\xab" : "T");
		*style = ST_MENTION;
	} else if (m & TUI_AV_VOICE) {
		o += (size_t)snprintf(out + o, len - o, "%s", t->utf8 ? "\xe2\x99\xaa" : "v");
		if (m & TUI_AV_MUTED)
			*style = ST_DIM;
	}
	if ((m & TUI_AV_CALL) && o < len)
		snprintf(out + o, len - o, "%s", t->utf8 ? "\xe2\x96\xa3" : "c");
}

static void tui_draw_members(struct tui *t, struct tui_room *r, int top, int bottom, int x, int w)
{
	char head[48], marks[16];

	snprintf(head, sizeof(head), " Members (%zu)", r ? r->nmembers : (size_t)0);
	tui_put_str(t, top, x, w, head, ST_DIM);
	for (size_t i = 0; r && i < r->nmembers && top + 1 + (int)i <= bottom; i++) {
		unsigned p = tui_presence_get(&t->st, r->members[i].name);
		const char *dot = p == PRESENCE_ONLINE ? (t->utf8 ? "\xe2\x97\x8f " : "+ ")
		                  : p == PRESENCE_AWAY ? (t->utf8 ? "\xe2\x97\x90 " : "~ ")
		                                       : (t->utf8 ? "\xe2\x97\x8b " : "  ");
		int y = top + 1 + (int)i, mstyle, mw;
		int dw = tui_put_str(t, y, x + 1, 2, dot,
		                     p == PRESENCE_ONLINE ? ST_ONLINE
		                     : p == PRESENCE_AWAY ? ST_AWAY
		                                          : ST_DIM);

		tui_av_text(t, tui_av_marks(&t->st, r->name, r->members[i].name), marks,
		            sizeof(marks), &mstyle);
		/* the marks keep their place at the right; the name is cut */
		mw = marks[0] ? (int)strlen(marks) / (t->utf8 ? 3 : 1) : 0;
		if (mw && w - 1 - dw - mw - 1 > 0)
			tui_put_str(t, y, x + w - mw, mw, marks, mstyle);
		else
			mw = 0;
		tui_put_str(t, y, x + 1 + dw, w - 1 - dw - (mw ? mw + 1 : 0), r->members[i].name,
		            p == PRESENCE_OFFLINE ? ST_DIM : tui_nick_style(r->members[i].name));
	}
}

static void tui_draw_title(struct tui *t, struct tui_room *r, int cols)
{
	char line[600], right[64] = "";

	tui_fill(t, 0, 0, cols, ST_BAR);
	if (!r) {
		tui_put_str(t, 0, 0, cols,
		            " Shadow Nexus: no rooms yet; /list, /join ROOM or /create ROOM",
		            ST_BAR);
		return;
	}
	snprintf(line, sizeof(line), " %s%s%s%s", (r->flags & MF_DM) ? "" : "#", r->label,
	         r->topic[0] ? " \xe2\x80\x94 " : "", r->topic);
	if (!t->utf8 && r->topic[0])
		snprintf(line, sizeof(line), " %s%s - %s", (r->flags & MF_DM) ? "" : "#", r->label,
		         r->topic);
	if (r->nmembers)
		snprintf(right, sizeof(right), " %zu member%s ", r->nmembers,
		         r->nmembers == 1 ? "" : "s");
	tui_put_str(t, 0, 0, cols - (int)strlen(right), line, ST_BAR);
	if (right[0] && cols > 40)
		tui_put_str(t, 0, cols - (int)strlen(right), (int)strlen(right), right, ST_BAR);
}

static void tui_typing_text(struct tui_room *r, char *out, size_t len)
{
	size_t n = 0, o = 0;
	uint64_t now = clock_wall_ms();

	out[0] = '\0';
	for (size_t i = 0; r && i < TUI_TYPING_MAX; i++)
		if (r->typing[i].user[0] && r->typing[i].until_ms > now)
			n++;
	if (n == 0)
		return;
	for (size_t i = 0, k = 0; i < TUI_TYPING_MAX && o < len; i++) {
		if (!r->typing[i].user[0] || r->typing[i].until_ms <= now)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s", k++ ? ", " : "", r->typing[i].user);
	}
	if (o < len)
		snprintf(out + o, len - o, " %s typing", n == 1 ? "is" : "are");
}

static void tui_draw_status(struct tui *t, struct tui_room *r, int y, int cols)
{
	char line[1024], typing[256], lat[32] = "";
	const char *conn = t->conn_text ? t->conn_text : "connecting";
	size_t o;

	tui_fill(t, y, 0, cols, ST_BAR);
	if (t->online && t->latency_ms >= 0)
		snprintf(lat, sizeof(lat), " %ld ms", t->latency_ms);
	tui_typing_text(r, typing, sizeof(typing));
	o = (size_t)snprintf(line, sizeof(line), " [%s%s] [%s%s]", t->st.me,
	                     t->away ? " (away)" : "", conn, lat);
	if (t->st.voice_room[0] && o < sizeof(line)) {
		unsigned me = tui_av_marks(&t->st, t->st.voice_room, t->st.me);
		o += (size_t)snprintf(line + o, sizeof(line) - o, " [voice: %s%s]", t->voice_label,
		                      !t->st.voice_joined   ? " (connecting)"
		                      : t->st.voice_muted   ? " (muted)"
		                      : me & TUI_AV_TALKING ? " (talking)"
		                                            : "");
	} else if (t->voice_err[0] && t->voice_err_until_ms > clock_wall_ms() && o < sizeof(line)) {
		o += (size_t)snprintf(line + o, sizeof(line) - o, " [voice ended: %s]",
		                      t->voice_err);
	}
	if (typing[0] && o < sizeof(line))
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %s", typing);
	if (r && r->scroll && o < sizeof(line)) {
		if (r->new_below)
			o += (size_t)snprintf(line + o, sizeof(line) - o,
			                      " -- more below (%u new) --", r->new_below);
		else
			o += (size_t)snprintf(line + o, sizeof(line) - o, " -- more below --");
	}
	if (t->status[0] && t->status_until_ms > clock_wall_ms() && o < sizeof(line))
		snprintf(line + o, sizeof(line) - o, "  %s", t->status);
	tui_put_str(t, y, 0, cols, line, ST_BAR);
}

static void tui_draw_input(struct tui *t, struct tui_room *r, int y, int cols)
{
	static struct tui_buf b;
	char prompt[PROTO_ROOM_MAX + 8];
	int pw;
	size_t col, first, fit;

	snprintf(prompt, sizeof(prompt), "[%s] ", r ? r->label : "nexus");
	pw = tui_put_str(t, y, 0, cols / 3, prompt, ST_DIM);
	col = tui_line_view(&t->line, (size_t)(cols - pw));
	first = t->line.scroll;
	b.n = 0;
	for (size_t i = first; i < t->line.len && b.n < TUI_RENDER_MAX; i++) {
		wchar_t ch = t->line.buf[i];
		b.w[b.n] = ch == '\n' ? (t->utf8 ? 0x21b5 : '|') : (wcwidth(ch) < 0 ? 0xfffd : ch);
		b.st[b.n++] = ch == '\n' ? ST_DIM : ST_NORMAL;
	}
	fit = tui_fit(b.w, b.n, (size_t)(cols - pw));
	tui_put_run(t, y, pw, &b, 0, fit, cols - pw);
	move(y, pw + (int)col);
}

static void tui_draw_title_escape(struct tui *t)
{
	char title[160], *clean;
	unsigned unread = 0;
	int mention = 0;
	struct tui_room *r = tui_room_current(&t->st);

	if (!t->title || t->bench)
		return;
	for (size_t i = 0; i < t->st.nrooms; i++) {
		unread += t->st.rooms[i]->unread;
		mention |= t->st.rooms[i]->mention;
	}
	if (unread)
		snprintf(title, sizeof(title), "nexus (%u%s) %s", unread, mention ? "!" : "",
		         r ? r->label : "");
	else
		snprintf(title, sizeof(title), "nexus %s", r ? r->label : "");
	if (strcmp(title, t->title_text) == 0)
		return;
	snprintf(t->title_text, sizeof(t->title_text), "%s", title);
	/* A room name must not end the escape early or start another. */
	clean = utf8_clean(title, 0);
	printf("\033]0;%s\007", clean ? clean : "nexus");
	free(clean);
	fflush(stdout);
}

/* A separator: U+2502 on a UTF-8 terminal (line-drawing mode is often
 * wrong under a multiplexer), ACS_VLINE elsewhere. */
static void tui_vline(const struct tui *t, int x, int n)
{
	attrset(tui_attr(t, ST_DIM));
	for (int y = 1; y <= n; y++) {
		if (t->utf8)
			mvaddwstr(y, x, L"\u2502");
		else
			mvaddch(y, x, ACS_VLINE);
	}
	attrset(A_NORMAL);
}

void tui_draw(struct tui *t)
{
	struct tui_room *r = tui_room_current(&t->st);
	int rows = LINES, cols = COLS, lw = 0, rw = 0, x, mw, nx = 0, bottom;
	char xbuf[256];

	erase();
	if (rows < 6 || cols < 24) {
		mvaddstr(0, 0, "terminal too small");
		refresh();
		return;
	}
	if (cols >= 100)
		lw = 20;
	else if (cols >= 60)
		lw = 16;
	else if (cols >= 40)
		lw = 12;
	if (r && (t->show_members < 0 ? cols >= TUI_MEMBERS_AUTO_COLS
	                              : t->show_members && cols >= 60)) /* no room: no members */
		rw = cols >= 120 ? 22 : 18;
	x = lw ? lw + 1 : 0;
	mw = cols - x - (rw ? rw + 1 : 0);
	t->text_width = mw;
	/* The transfers panel: a line per transfer above the status line. */
	for (int i = 0; i < TUI_XFERS_MAX; i++)
		if (t->xfers[i].state != TUI_XFER_FREE)
			nx++;
	if (nx > (rows - 4) / 3)
		nx = (rows - 4) / 3;
	bottom = rows - 3 - nx;
	tui_draw_title(t, r, cols);
	if (lw) {
		tui_draw_rooms(t, 1, bottom, lw);
		tui_vline(t, lw, bottom);
	}
	if (rw) {
		tui_vline(t, cols - rw - 1, bottom);
		tui_draw_members(t, r, 1, bottom, cols - rw, rw);
	}
	if (r)
		tui_draw_messages(t, r, 1, bottom, x, mw);
	else if (t->st.home && t->st.home->count) /* notes said before any room */
		tui_draw_messages(t, t->st.home, 1, bottom, x, mw);
	for (int i = 0, y = bottom + 1; i < TUI_XFERS_MAX && y < rows - 2; i++) {
		const struct tui_xfer *xf = &t->xfers[i];
		if (xf->state == TUI_XFER_FREE)
			continue;
		tui_put_str(t, y, 1, cols - 1, tui_xfer_text(xf, xbuf, sizeof(xbuf)),
		            xf->state == TUI_XFER_FAILED ? ST_ERROR : ST_INFO);
		y++;
	}
	tui_draw_status(t, r ? r : t->st.home, rows - 2, cols);
	tui_draw_input(t, r, rows - 1, cols);
	refresh();
	tui_draw_title_escape(t);
}
