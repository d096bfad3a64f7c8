/* The pure parts of the full-screen client: the input line (editing, UTF-8
 * and display widths, history, completion), the slash-command parser and
 * the room state (ordering, dedupe, bounded windows, unread and mentions,
 * cleaning of server strings), the voice and call events of the
 * children. Linked with client-cli/tui_{input,cmd,state}.o. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client-cli/tui.h"

static void type(struct tui_line *l, const char *utf8)
{
	wchar_t w[256];
	size_t n = tui_utf8_decode(utf8, w, 256);

	assert_int_equal(tui_line_insert_str(l, w, n), 0);
}

static const char *text(const struct tui_line *l)
{
	static char buf[4096];

	assert_true(tui_line_utf8(l, buf, sizeof(buf)) >= 0);
	return buf;
}

static void test_line_editing(void **state)
{
	struct tui_line l;

	(void)state;
	tui_line_init(&l);
	type(&l, "hello world");
	assert_string_equal(text(&l), "hello world");
	tui_line_home(&l);
	type(&l, ">");
	assert_string_equal(text(&l), ">hello world");
	tui_line_end(&l);
	tui_line_backspace(&l);
	assert_string_equal(text(&l), ">hello worl");
	tui_line_word_left(&l); /* Alt-B */
	assert_int_equal(l.pos, 7);
	tui_line_word_left(&l);
	assert_int_equal(l.pos, 1);
	tui_line_word_right(&l); /* Alt-F */
	assert_int_equal(l.pos, 6);
	tui_line_kill_end(&l); /* Ctrl-K */
	assert_string_equal(text(&l), ">hello");
	tui_line_yank(&l); /* Ctrl-Y */
	assert_string_equal(text(&l), ">hello worl");
	tui_line_kill_word_back(&l); /* Ctrl-W */
	assert_string_equal(text(&l), ">hello ");
	tui_line_kill_word_back(&l);
	assert_string_equal(text(&l), "");
	type(&l, "abc def");
	tui_line_left(&l);
	tui_line_left(&l);
	tui_line_kill_start(&l); /* Ctrl-U */
	assert_string_equal(text(&l), "ef");
	assert_int_equal(l.pos, 0);
	tui_line_backspace(&l); /* nothing before the cursor */
	tui_line_delete(&l);
	assert_string_equal(text(&l), "f");
	tui_line_end(&l);
	tui_line_delete(&l); /* nothing after */
	type(&l, "g");
	tui_line_transpose(&l); /* Ctrl-T at the end swaps the last two */
	assert_string_equal(text(&l), "gf");
	tui_line_clear(&l);
	assert_int_equal(l.len, 0);
	tui_line_free(&l);
}

static void test_line_limit(void **state)
{
	struct tui_line *l = calloc(1, sizeof(*l));

	(void)state;
	tui_line_init(l);
	for (int i = 0; i < TUI_LINE_MAX; i++)
		assert_int_equal(tui_line_insert(l, 'x'), 0);
	assert_int_equal(tui_line_insert(l, 'y'), -1);
	assert_int_equal(l->len, TUI_LINE_MAX);
	tui_line_free(l);
	free(l);
}

static void test_utf8_width(void **state)
{
	wchar_t w[32];
	size_t n;

	(void)state;
	n = tui_utf8_decode("a\xc3\xa9\xe6\xbc\xa2\xe5\xad\x97!", w, 32); /* aé漢字! */
	assert_int_equal(n, 5);
	assert_int_equal(w[1], 0xe9);
	assert_int_equal(w[2], 0x6f22);
	assert_int_equal(tui_wcwidth(w[2]), 2);
	assert_int_equal(tui_wcswidth(w, n), 1 + 1 + 2 + 2 + 1);
	/* Fitting never cuts a wide character in half. */
	assert_int_equal(tui_fit(w, n, 3), 2);
	assert_int_equal(tui_fit(w, n, 4), 3);
	/* A combining acute accent takes no column. */
	n = tui_utf8_decode("e\xcc\x81", w, 32);
	assert_int_equal(n, 2);
	assert_int_equal(tui_wcswidth(w, n), 1);
	/* Invalid bytes, overlong forms and surrogates become U+FFFD. */
	n = tui_utf8_decode("\xff"
	                    "a"
	                    "\xc0\xaf"
	                    "\xed\xa0\x80",
	                    w, 32);
	assert_int_equal(w[0], 0xfffd);
	assert_int_equal(w[1], 'a');
	assert_int_equal(w[2], 0xfffd);
	assert_int_equal(w[n - 1], 0xfffd);
	/* A cut sequence at the end. */
	n = tui_utf8_decode("ok\xe6\xbc", w, 32);
	assert_int_equal(w[n - 1], 0xfffd);
	/* Controls count one column: they are drawn as a replacement. */
	assert_int_equal(tui_wcwidth(0x1b), 1);
}

static void test_line_view(void **state)
{
	struct tui_line l;
	size_t col;

	(void)state;
	tui_line_init(&l);
	type(&l,
	     "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"); /* 5 wide: 10 cols */
	col = tui_line_view(&l, 6);
	assert_true(col < 6);
	assert_true(l.scroll > 0);
	assert_int_equal(col, tui_wcswidth(l.buf + l.scroll, l.pos - l.scroll));
	tui_line_home(&l);
	assert_int_equal(tui_line_view(&l, 6), 0);
	assert_int_equal(l.scroll, 0);
	tui_line_free(&l);
}

static void test_history(void **state)
{
	struct tui_line l;

	(void)state;
	tui_line_init(&l);
	type(&l, "first");
	tui_line_remember(&l);
	tui_line_clear(&l);
	type(&l, "second");
	tui_line_remember(&l);
	tui_line_clear(&l);
	type(&l, "   ");
	tui_line_remember(&l); /* blank lines are not kept */
	tui_line_clear(&l);
	type(&l, "draft");
	tui_line_hist_prev(&l);
	assert_string_equal(text(&l), "second");
	tui_line_hist_prev(&l);
	assert_string_equal(text(&l), "first");
	tui_line_hist_prev(&l); /* stays at the oldest */
	assert_string_equal(text(&l), "first");
	tui_line_hist_next(&l);
	assert_string_equal(text(&l), "second");
	tui_line_hist_next(&l); /* back to what was being typed */
	assert_string_equal(text(&l), "draft");
	tui_line_free(&l);
}

static void test_completion(void **state)
{
	static const char *const nicks[] = {"alice", "albert", "bob", NULL};
	struct tui_line l;

	(void)state;
	tui_line_init(&l);
	type(&l, "bo");
	assert_int_equal(tui_line_complete(&l, nicks, ": "), 1);
	assert_string_equal(text(&l), "bob: ");
	tui_line_complete_end(&l);
	tui_line_clear(&l);
	type(&l, "hi AL");
	assert_int_equal(tui_line_complete(&l, nicks, " "), 2);
	assert_string_equal(text(&l), "hi alice");
	assert_int_equal(tui_line_complete(&l, nicks, " "), 2); /* Tab again: the next */
	assert_string_equal(text(&l), "hi albert");
	assert_int_equal(tui_line_complete(&l, nicks, " "), 2);
	assert_string_equal(text(&l), "hi alice");
	tui_line_complete_end(&l);
	tui_line_clear(&l);
	type(&l, "zz");
	assert_int_equal(tui_line_complete(&l, nicks, " "), 0);
	assert_string_equal(text(&l), "zz");
	tui_line_clear(&l);
	type(&l, "/jo");
	assert_int_equal(tui_line_complete(&l, tui_cmd_names(), " "), 1);
	assert_string_equal(text(&l), "/join ");
	tui_line_free(&l);
}

static void test_cmd_parse(void **state)
{
	struct tui_cmd c;
	char err[256];

	(void)state;
	assert_int_equal(tui_cmd_parse("hello /join", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_NONE);
	assert_string_equal(c.text, "hello /join");
	assert_int_equal(tui_cmd_parse("//etc/passwd is a file", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_NONE);
	assert_string_equal(c.text, "/etc/passwd is a file");

	assert_int_equal(tui_cmd_parse("/join  lobby ", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_JOIN);
	assert_string_equal(c.room, "lobby");
	assert_int_equal(tui_cmd_parse("/join", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/join: missing ROOM (usage: /join ROOM)");
	assert_int_equal(tui_cmd_parse("/join a b", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected argument 'b'"));
	assert_int_equal(
	    tui_cmd_parse("/join "
	                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	                  &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "too long"));

	assert_int_equal(tui_cmd_parse("/create ops --private the ops room", &c, err, sizeof(err)),
	                 0);
	assert_int_equal(c.id, TUI_CMD_CREATE);
	assert_string_equal(c.room, "ops");
	assert_int_equal(c.flag, 1);
	assert_string_equal(c.text, "the ops room");

	assert_int_equal(tui_cmd_parse("/invite @bob ops", &c, err, sizeof(err)), 0);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.room, "ops");
	assert_int_equal(tui_cmd_parse("/invite b*d", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'b*d' is not a user name"));

	assert_int_equal(tui_cmd_parse("/msg carol hi there", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_MSG);
	assert_string_equal(c.user, "carol");
	assert_string_equal(c.text, "hi there");

	assert_int_equal(tui_cmd_parse("/reply #42 yes", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_REPLY);
	assert_int_equal(c.msg_id, 42);
	assert_string_equal(c.text, "yes");
	assert_int_equal(tui_cmd_parse("/reply sure thing", &c, err, sizeof(err)), 0);
	assert_int_equal(c.msg_id, 0);
	assert_string_equal(c.text, "sure thing");
	assert_int_equal(tui_cmd_parse("/reply 42", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing TEXT"));
	assert_int_equal(tui_cmd_parse("/edit 7x oops", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid message id"));
	assert_int_equal(tui_cmd_parse("/delete", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_DELETE);
	assert_int_equal(c.msg_id, 0);
	assert_int_equal(tui_cmd_parse("/delete 9 10", &c, err, sizeof(err)), -1);

	assert_int_equal(tui_cmd_parse("/me", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/me: missing TEXT (usage: /me TEXT)");
	assert_int_equal(tui_cmd_parse("/search", &c, err, sizeof(err)), -1);
	assert_int_equal(tui_cmd_parse("/bell off", &c, err, sizeof(err)), 0);
	assert_int_equal(c.flag, 0);
	assert_int_equal(tui_cmd_parse("/bell", &c, err, sizeof(err)), 0);
	assert_int_equal(c.flag, -1);
	assert_int_equal(tui_cmd_parse("/bell loud", &c, err, sizeof(err)), -1);
	assert_int_equal(tui_cmd_parse("/quit now", &c, err, sizeof(err)), -1);
	assert_int_equal(tui_cmd_parse("/quit", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_QUIT);
	assert_int_equal(tui_cmd_parse("/frob", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown command '/frob'; /help lists them");
	assert_non_null(tui_cmd_help(0));
	assert_null(tui_cmd_help(1000));

	assert_int_equal(tui_cmd_parse("/list", &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, TUI_CMD_LIST);
	assert_string_equal(c.text, "");
	assert_int_equal(tui_cmd_parse("/list  board games", &c, err, sizeof(err)), 0);
	assert_string_equal(c.text, "board games");
}

/* Notes said before any room go to the home view, which is not a room of
 * the list and shows only while no room is open. */
static void test_state_home(void **state)
{
	struct tui_state st;
	struct tui_room *home, *r;

	(void)state;
	tui_state_init(&st);
	assert_null(tui_room_shown(&st));
	home = tui_state_home(&st);
	assert_non_null(home);
	assert_ptr_equal(tui_state_home(&st), home);
	assert_ptr_equal(tui_room_shown(&st), home);
	tui_room_note(home, TUI_INFO, 0, NULL, "%s", "no rooms yet");
	assert_int_equal(home->count, 1);
	assert_int_equal(st.nrooms, 0);
	assert_null(tui_room_current(&st));
	r = tui_room_add(&st, "lobby", 0);
	assert_non_null(r);
	assert_int_equal(st.nrooms, 1);
	assert_ptr_equal(tui_room_shown(&st), r);
	tui_room_remove(&st, r);
	assert_ptr_equal(tui_room_shown(&st), home);
	assert_int_equal(home->count, 1);
	tui_state_free(&st);
}

static void chat(struct msg *m, const char *room, uint64_t id, const char *user, const char *txt,
                 uint32_t flags)
{
	proto_msg_init(m, MSG_CHAT);
	snprintf(m->room, sizeof(m->room), "%s", room);
	snprintf(m->user, sizeof(m->user), "%s", user);
	snprintf(m->text, sizeof(m->text), "%s", txt);
	m->id = id;
	m->ts = 1700000000000ull + id;
	m->flags = flags;
}

static void test_state_order_dedupe(void **state)
{
	static struct msg m;
	struct tui_state st;
	struct tui_room *r;

	(void)state;
	tui_state_init(&st);
	snprintf(st.me, sizeof(st.me), "alice");
	r = tui_room_add(&st, "lobby", 0);
	assert_non_null(r);
	assert_ptr_equal(tui_room_add(&st, "lobby", 0), r);
	chat(&m, "lobby", 10, "bob", "ten", 0);
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 1);
	chat(&m, "lobby", 12, "bob", "twelve", 0);
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 1);
	chat(&m, "lobby", 11, "bob", "eleven", MF_HISTORY); /* late: goes in between */
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 1);
	chat(&m, "lobby", 12, "bob", "twelve", MF_HISTORY); /* again: dropped */
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 0);
	assert_int_equal(r->count, 3);
	assert_string_equal(tui_room_at(r, 1)->text, "eleven");
	assert_int_equal(r->last_id, 12);
	tui_room_note(r, TUI_INFO, 0, NULL, "a note %d", 1);
	chat(&m, "lobby", 13, "bob", "thirteen", 0);
	tui_room_insert(&st, r, &m, 1);
	assert_int_equal(tui_room_at(r, 3)->kind, TUI_INFO);
	assert_string_equal(tui_room_at(r, 4)->text, "thirteen");
	/* Edits and deletes update in place. */
	chat(&m, "lobby", 11, "bob", "eleven!", MF_EDITED);
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 0);
	assert_string_equal(tui_room_by_id(r, 11)->text, "eleven!");
	assert_true(tui_room_by_id(r, 11)->flags & MF_EDITED);
	chat(&m, "lobby", 10, "bob", "", MF_DELETED);
	tui_room_insert(&st, r, &m, 1);
	assert_string_equal(tui_room_by_id(r, 10)->text, "");
	/* An edit of a message not held is not a new message. */
	chat(&m, "lobby", 3, "bob", "old", MF_EDITED);
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 0);
	assert_null(tui_room_by_id(r, 3));
	assert_int_equal(tui_room_first_id(r), 10);
	tui_state_free(&st);
}

static void test_state_bounded(void **state)
{
	static struct msg m;
	struct tui_state st;
	struct tui_room *r;

	(void)state;
	tui_state_init(&st);
	r = tui_room_add(&st, "flood", 0);
	for (uint64_t id = 1; id <= TUI_KEEP + 1000; id++) {
		chat(&m, "flood", id, "bob", "x", 0);
		assert_int_equal(tui_room_insert(&st, r, &m, 1), 1);
	}
	assert_int_equal(r->count, TUI_KEEP);
	assert_int_equal(tui_room_first_id(r), 1001);
	assert_true(r->has_older);
	/* Older than the window while following live: refused. */
	chat(&m, "flood", 5, "bob", "x", MF_HISTORY);
	assert_int_equal(tui_room_insert(&st, r, &m, 1), 0);
	/* Scrolled back: the window grows up to TUI_KEEP_MAX with older pages. */
	r->scroll = 10;
	for (uint64_t id = 1000; id >= 801; id--) {
		chat(&m, "flood", id, "bob", "x", MF_HISTORY);
		assert_int_equal(tui_room_insert(&st, r, &m, 1), 1);
	}
	assert_int_equal(r->count, TUI_KEEP + 200);
	assert_int_equal(tui_room_first_id(r), 801);
	for (size_t i = 1; i < r->count; i++)
		assert_true(tui_room_at(r, i - 1)->id < tui_room_at(r, i)->id);
	r->scroll = 0;
	tui_room_trim(&st, r);
	assert_int_equal(r->count, TUI_KEEP);
	assert_int_equal(r->last_id, TUI_KEEP + 1000);
	tui_state_free(&st);
}

static void test_state_unread(void **state)
{
	static struct msg m;
	struct tui_state st;
	struct tui_room *a, *b, *dm;

	(void)state;
	tui_state_init(&st);
	snprintf(st.me, sizeof(st.me), "bob");
	a = tui_room_add(&st, "a", 0);
	b = tui_room_add(&st, "b", 0);
	dm = tui_room_add(&st, "@alice:bob", 0);
	assert_string_equal(dm->label, "@alice");
	assert_true(dm->flags & MF_DM);
	tui_room_select(&st, 0);
	chat(&m, "b", 1, "carol", "hi", 0);
	tui_room_insert(&st, b, &m, 0);
	assert_int_equal(b->unread, 1);
	assert_int_equal(b->mention, 0);
	chat(&m, "b", 2, "bob", "mine", 0); /* own messages are not unread */
	tui_room_insert(&st, b, &m, 0);
	chat(&m, "b", 3, "carol", "old", MF_HISTORY);
	tui_room_insert(&st, b, &m, 0);
	assert_int_equal(b->unread, 1);
	chat(&m, "b", 4, "carol", "@bob look", MF_MENTION);
	tui_room_insert(&st, b, &m, 0);
	assert_int_equal(b->unread, 2);
	assert_int_equal(b->mention, 1);
	chat(&m, "@alice:bob", 5, "alice", "psst", 0);
	tui_room_insert(&st, dm, &m, 0);
	assert_int_equal(dm->mention, 1);
	assert_int_equal(tui_room_next_unread(&st), 1); /* mentions first, in order */
	tui_room_select(&st, 1);
	assert_int_equal(b->unread, 0);
	assert_int_equal(b->mention, 0);
	assert_int_equal(tui_room_next_unread(&st), 2);
	chat(&m, "a", 6, "carol", "in a", 0);
	tui_room_insert(&st, a, &m, 0);
	tui_room_remove(&st, dm);
	assert_int_equal(st.nrooms, 2);
	assert_ptr_equal(tui_room_current(&st), b);
	tui_state_free(&st);
}

static void test_state_people(void **state)
{
	struct tui_state st;
	struct tui_room *r;

	(void)state;
	tui_state_init(&st);
	r = tui_room_add(&st, "x", 0);
	tui_member_set(r, "zed", 1);
	tui_member_set(r, "amy", 1);
	tui_member_set(r, "amy", 1);
	assert_int_equal(r->nmembers, 2);
	assert_string_equal(r->members[0].name, "amy");
	tui_member_set(r, "zed", 0);
	assert_int_equal(r->nmembers, 1);
	assert_false(tui_member_has(r, "zed"));
	tui_presence_set(&st, "amy", PRESENCE_AWAY);
	assert_int_equal(tui_presence_get(&st, "amy"), PRESENCE_AWAY);
	assert_int_equal(tui_presence_get(&st, "nobody"), PRESENCE_OFFLINE);
	tui_typing_set(r, "amy", 1000);
	assert_string_equal(r->typing[0].user, "amy");
	assert_int_equal(tui_typing_expire(r, 1000 + TUI_TYPING_MS - 1), 0);
	assert_int_equal(tui_typing_expire(r, 1000 + TUI_TYPING_MS), 1);
	assert_string_equal(r->typing[0].user, "");
	tui_state_free(&st);
}

static void test_clean(void **state)
{
	char *s;

	(void)state;
	/* ESC sequences, C1, DEL and bidi overrides cannot reach the terminal. */
	s = utf8_clean("a\x1b[2Jb\x7f\xc2\x9b"
	               "c\xe2\x80\xae"
	               "d\te\n",
	               1);
	assert_string_equal(s, "a\xef\xbf\xbd[2Jb\xef\xbf\xbd\xef\xbf\xbd"
	                       "c\xef\xbf\xbd"
	                       "d e\n");
	free(s);
	s = utf8_clean("line1\nline2\xff", 0);
	assert_string_equal(s, "line1\xe2\x86\xb5line2\xef\xbf\xbd");
	free(s);
	assert_int_equal(tui_name_hash("alice"), tui_name_hash("alice"));
	assert_int_not_equal(tui_name_hash("alice"), tui_name_hash("bob"));
}

/* The JSON lines of `nexus talk --json` and `nexus call --watch-only
 * --json`, as the children print them. */
static void test_voice_events(void **state)
{
	struct tui_state st;
	char big[300];

	(void)state;
	tui_state_init(&st);
	snprintf(st.me, sizeof(st.me), "amy");
	tui_voice_reset(&st, "lobby");
	/* before the join reply: who is there already */
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"member\",\"room\":\"lobby\","
	                                      "\"user\":\"bob\",\"muted\":true,\"ts\":1}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"joined\",\"room\":\"lobby\","
	                                      "\"members\":1}"),
	                 TUI_VEV_JOINED);
	assert_true(st.voice_joined);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"join\",\"user\":\"amy\","
	                                      "\"muted\":false}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), TUI_AV_VOICE | TUI_AV_MUTED);
	assert_int_equal(tui_av_marks(&st, "lobby", "amy"), TUI_AV_VOICE);
	/* marks only in the room talked in */
	assert_int_equal(tui_av_marks(&st, "other", "amy"), 0);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"unmute\",\"user\":\"bob\"}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"talk\",\"user\":\"bob\","
	                                      "\"level\":80}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), TUI_AV_VOICE | TUI_AV_TALKING);
	/* levels change nothing that shows */
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"level\",\"user\":\"bob\"}"),
	                 TUI_VEV_NONE);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"quiet\",\"user\":\"bob\"}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), TUI_AV_VOICE);
	/* our own mute (the key): no user, a muted flag */
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"mute\",\"muted\":true}"),
	                 TUI_VEV_CHANGED);
	assert_true(st.voice_muted);
	assert_true(tui_av_marks(&st, "lobby", "amy") & TUI_AV_MUTED);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"unmute\",\"user\":\"amy\"}"),
	                 TUI_VEV_CHANGED);
	assert_false(st.voice_muted);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"leave\",\"user\":\"bob\"}"),
	                 TUI_VEV_CHANGED);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), 0);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"leave\",\"user\":\"bob\"}"),
	                 TUI_VEV_NONE);
	/* the child lost audiod: not joined until it says so again */
	tui_voice_event(&st, "{\"event\":\"talk\",\"user\":\"amy\"}");
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"reconnecting\",\"room\":\"lobby\"}"),
	                 TUI_VEV_CHANGED);
	assert_false(st.voice_joined);
	assert_false(tui_av_marks(&st, "lobby", "amy") & TUI_AV_TALKING);
	/* a join again after a loss: whoever is not listed again has gone */
	tui_voice_event(&st, "{\"event\":\"join\",\"user\":\"cat\"}");
	tui_voice_event(&st, "{\"event\":\"member\",\"user\":\"dan\"}");
	tui_voice_event(&st, "{\"event\":\"joined\",\"members\":1}");
	assert_int_equal(tui_av_marks(&st, "lobby", "cat"), 0);
	assert_int_equal(tui_av_marks(&st, "lobby", "dan"), TUI_AV_VOICE);
	/* not events, and events without what they need */
	assert_int_equal(tui_voice_event(&st, "nexus: talk: sent 3 frames"), TUI_VEV_BAD);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"talk\""), TUI_VEV_BAD);
	assert_int_equal(tui_voice_event(&st, "[1,2]"), TUI_VEV_BAD);
	assert_int_equal(tui_voice_event(&st, "{\"event\":7}"), TUI_VEV_BAD);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"talk\"}"), TUI_VEV_NONE);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"talk\",\"user\":\"\"}"), TUI_VEV_NONE);
	snprintf(big, sizeof(big), "{\"event\":\"join\",\"user\":\"%0200d\"}", 1);
	assert_int_equal(tui_voice_event(&st, big), TUI_VEV_NONE);
	assert_int_equal(tui_voice_event(&st, "{\"event\":\"stats\",\"sent\":5}"), TUI_VEV_NONE);
	/* bounded: at most TUI_AV_MAX people */
	for (int i = 0; i < TUI_AV_MAX + 10; i++) {
		snprintf(big, sizeof(big), "{\"event\":\"join\",\"user\":\"u%d\"}", i);
		tui_voice_event(&st, big);
	}
	assert_int_equal(st.nvoice, TUI_AV_MAX);
	tui_voice_reset(&st, "");
	assert_int_equal(tui_av_marks(&st, "lobby", "dan"), 0);
	tui_state_free(&st);
}

static void test_call_events(void **state)
{
	struct tui_state st;

	(void)state;
	tui_state_init(&st);
	tui_call_reset(&st, "lobby");
	assert_int_equal(tui_call_event(&st, "{\"ts\":1,\"room\":\"lobby\",\"participants\":"
	                                     "[{\"user\":\"bob\",\"muted\":false},"
	                                     "{\"user\":\"cat\",\"muted\":true}]}"),
	                 1);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), TUI_AV_CALL);
	assert_int_equal(tui_av_marks(&st, "lobby", "cat"), TUI_AV_CALL);
	assert_int_equal(tui_av_marks(&st, "other", "bob"), 0);
	/* the same list again: no change; a mute: a change */
	assert_int_equal(tui_call_event(&st, "{\"participants\":[{\"user\":\"bob\"},"
	                                     "{\"user\":\"cat\",\"muted\":true}]}"),
	                 0);
	assert_int_equal(tui_call_event(&st, "{\"participants\":[{\"user\":\"bob\"},"
	                                     "{\"user\":\"cat\"}]}"),
	                 1);
	/* the whole list each time: bob left */
	assert_int_equal(tui_call_event(&st, "{\"participants\":[{\"user\":\"cat\"}]}"), 1);
	assert_int_equal(tui_av_marks(&st, "lobby", "bob"), 0);
	/* the same user twice (two tabs) counts once */
	tui_call_event(&st, "{\"participants\":[{\"user\":\"cat\"},{\"user\":\"cat\"}]}");
	assert_int_equal(st.ncall, 1);
	assert_int_equal(tui_call_event(&st, "{\"participants\":[]}"), 1);
	assert_int_equal(st.ncall, 0);
	assert_int_equal(tui_call_event(&st, "{\"url\":\"https://x\"}"), -1);
	assert_int_equal(tui_call_event(&st, "{\"participants\":{}}"), -1);
	assert_int_equal(tui_call_event(&st, "garbage"), -1);
	assert_int_equal(tui_call_event(&st, "{\"participants\":[7,{\"user\":3},{}]}"), 0);
	tui_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_editing), cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_utf8_width),   cmocka_unit_test(test_line_view),
	    cmocka_unit_test(test_history),      cmocka_unit_test(test_completion),
	    cmocka_unit_test(test_cmd_parse),    cmocka_unit_test(test_state_order_dedupe),
	    cmocka_unit_test(test_state_home),   cmocka_unit_test(test_state_bounded),
	    cmocka_unit_test(test_state_unread), cmocka_unit_test(test_state_people),
	    cmocka_unit_test(test_clean),        cmocka_unit_test(test_voice_events),
	    cmocka_unit_test(test_call_events),
	};

	/* Display widths need a UTF-8 locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8") && !setlocale(LC_CTYPE, "en_US.UTF-8"))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
