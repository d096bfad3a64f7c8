/* tui_list: /list, the rooms a new user can find. The public rooms, and
 * the private ones we belong to, come page by page (ROOM_LIST, at most
 * 100 rooms a reply) and show once the last page is in, busiest first,
 * with member counts and topics. Direct conversations are not rooms to
 * join and stay out. */
#include "client.h"
#include "tui.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TUI_LIST_KEEP 2000 /* rooms one /list collects; more are only counted */
#define TUI_LIST_SHOW 100  /* rooms it shows */
#define TUI_LIST_TOPIC 160 /* bytes of a topic shown */
#define TUI_LIST_WORD 64   /* bytes of the filter word */

struct tui_list_room {
	char name[PROTO_ROOM_MAX + 1];
	char topic[TUI_LIST_TOPIC + 1];
	uint32_t members, flags;
};

struct tui_list {
	struct tui *t;
	char word[TUI_LIST_WORD + 1];
	struct tui_list_room *rooms;
	size_t n, cap, more; /* more: matches past TUI_LIST_KEEP */
};

static void tui_list_free(struct tui_list *l)
{
	if (!l)
		return;
	free(l->rooms);
	free(l);
}

/* Copy at most max bytes of s, never cutting a UTF-8 sequence. */
static void tui_list_cut(char *out, const char *s, size_t max)
{
	size_t n = utf8_cut(s, max);

	memcpy(out, s, n);
	out[n] = '\0';
}

static int tui_list_match(const struct tui_list *l, const struct msg *m)
{
	return !l->word[0] || strcasestr(m->room, l->word) || strcasestr(m->text, l->word);
}

static void tui_list_add(struct tui_list *l, const struct msg *m)
{
	struct tui_list_room *lr;

	if ((m->flags & MF_DM) || !tui_list_match(l, m))
		return;
	if (l->n == TUI_LIST_KEEP) {
		l->more++;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->rooms, cap * sizeof(*l->rooms));
		if (!p) {
			l->more++;
			return;
		}
		l->rooms = p;
		l->cap = cap;
	}
	lr = &l->rooms[l->n++];
	snprintf(lr->name, sizeof(lr->name), "%s", m->room);
	tui_list_cut(lr->topic, m->text, TUI_LIST_TOPIC);
	lr->members = m->count;
	lr->flags = m->flags;
}

/* Busiest first, then by name. */
static int tui_list_cmp(const void *a, const void *b)
{
	const struct tui_list_room *x = a, *y = b;

	if (x->members != y->members)
		return x->members > y->members ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void tui_list_show(struct tui_list *l)
{
	struct tui *t = l->t;
	size_t show = l->n < TUI_LIST_SHOW ? l->n : TUI_LIST_SHOW, more = l->n - show + l->more;
	int w = 8;

	if (l->n == 0) {
		if (l->word[0])
			tui_note(t, TUI_INFO, "no room matches '%s'; /list shows them all",
			         l->word);
		else
			tui_note(t, TUI_INFO,
			         "no rooms on this server yet: /create ROOM makes one");
		return;
	}
	qsort(l->rooms, l->n, sizeof(*l->rooms), tui_list_cmp);
	for (size_t i = 0; i < show; i++)
		if ((int)strlen(l->rooms[i].name) > w)
			w = (int)strlen(l->rooms[i].name) < 24 ? (int)strlen(l->rooms[i].name) : 24;
	for (size_t i = 0; i < show; i++) {
		const struct tui_list_room *lr = &l->rooms[i];

		tui_note(t, TUI_INFO, "  %-*s %5u member%s%s%s%s%s", w, lr->name, lr->members,
		         lr->members == 1 ? " " : "s", (lr->flags & MF_JOINED) ? " joined" : "",
		         (lr->flags & MF_PRIVATE) ? " private" : "", lr->topic[0] ? "  " : "",
		         lr->topic);
	}
	/* The summary comes last: a long list scrolls its head away. */
	if (more)
		tui_note(t, TUI_INFO,
		         "%zu rooms%s%s%s, the %zu busiest above (/list WORD: only the rooms "
		         "whose name or topic has WORD); /join ROOM enters one",
		         l->n + l->more, l->word[0] ? " with '" : "", l->word,
		         l->word[0] ? "'" : "", show);
	else
		tui_note(t, TUI_INFO, "%zu room%s%s%s%s; /join ROOM enters one", l->n,
		         l->n == 1 ? "" : "s", l->word[0] ? " with '" : "", l->word,
		         l->word[0] ? "'" : "");
}

static int tui_list_room(struct client *c, const struct msg *m, void *arg)
{
	(void)c;
	tui_list_add(arg, m);
	return 0;
}

static void tui_list_done(struct client *c, int r, const struct msg *err, void *arg)
{
	struct tui_list *l = arg;
	char text[1024];

	(void)c;
	if (r == -ENOTCONN) { /* the connection went: the state line says so */
		tui_list_free(l);
		return;
	}
	if (r == 0 || r == -ELOOP)
		tui_list_show(l);
	if (r == -ELOOP) {
		tui_note(l->t, TUI_ERROR,
		         "/list: the server's room list does not end: only the rooms seen so far");
	} else if (r == -EREMOTEIO) {
		client_error_text(err, NULL, text, sizeof(text));
		tui_note(l->t, TUI_ERROR, "/list: %s", text);
	} else if (r < 0) {
		tui_note(l->t, TUI_ERROR, "/list: %s", strerror(-r));
	}
	tui_dirty(l->t);
	tui_list_free(l);
}

void tui_list_start(struct tui *t, const char *word)
{
	struct tui_list *l;
	int r;

	while (*word == ' ')
		word++;
	if (strlen(word) > TUI_LIST_WORD) {
		tui_note(t, TUI_ERROR, "/list: at most %d bytes to look for", TUI_LIST_WORD);
		return;
	}
	if (!(l = calloc(1, sizeof(*l)))) {
		tui_note(t, TUI_ERROR, "/list: %s", strerror(ENOMEM));
		return;
	}
	l->t = t;
	snprintf(l->word, sizeof(l->word), "%s", word);
	for (size_t n = strlen(l->word); n > 0 && l->word[n - 1] == ' ';)
		l->word[--n] = '\0';
	r = client_room_pages(t->c, 0, tui_list_room, tui_list_done, l);
	if (r < 0) {
		tui_note(t, TUI_ERROR, "/list: %s",
		         r == -ENOTCONN ? "not connected: wait for the reconnection"
		                        : strerror(-r));
		tui_list_free(l);
	}
}
