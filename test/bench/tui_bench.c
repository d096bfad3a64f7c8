/* tui_bench: what the full-screen client's screen costs. Links the real
 * state and drawing code (client-cli/tui_state.c, tui_draw.c, tui_input.c)
 * and renders into a curses screen whose output goes to /dev/null (the
 * terminal's own cost is not ours to measure):
 *
 *   - load a room of 100,000 messages (the client keeps a bounded window);
 *   - render a screen of it: a full repaint, and a frame where one line
 *     changed, as after a message arrives;
 *   - absorb a flood of 10,000 incoming messages the way the client does
 *     (redraws coalesced to one per 30 ms of work), against a redraw per
 *     message, the cost the coalescing avoids.
 *
 * Usage: tui_bench [COLSxROWS...] (default 200x50 80x24). Prints numbers,
 * never fails on them. */
#include <curses.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client-cli/tui.h"

#define BENCH_ROOM 100000
#define BENCH_FLOOD 10000
#define BENCH_FRAMES 300
#define BENCH_COALESCE_MS 30.0

static struct msg bench_m;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const words[] = {"the",
                                    "build",
                                    "is",
                                    "green",
                                    "again",
                                    "ship",
                                    "it",
                                    "after",
                                    "lunch",
                                    "who",
                                    "broke",
                                    "main",
                                    "fixed",
                                    "now",
                                    "\xc3\xa9t\xc3\xa9",
                                    "\xe6\xbc\xa2\xe5\xad\x97",
                                    "@alice",
                                    "ok"};
static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace"};

static const struct msg *bench_msg(uint64_t id, uint32_t flags)
{
	size_t n = 4 + id % 23, o = 0;

	proto_msg_init(&bench_m, MSG_CHAT);
	snprintf(bench_m.room, sizeof(bench_m.room), "bench");
	snprintf(bench_m.user, sizeof(bench_m.user), "%s", users[id % 7]);
	for (size_t i = 0; i < n && o < 400; i++)
		o += (size_t)snprintf(bench_m.text + o, sizeof(bench_m.text) - o, "%s%s",
		                      i ? " " : "", words[(id * 7 + i * 13) % 18]);
	bench_m.id = id;
	bench_m.ts = 1760000000000ull + id * 1000;
	bench_m.ref = id % 40 == 0 && id > 5 ? id - 3 : 0;
	bench_m.flags = flags | (id % 97 == 0 ? MF_EDITED : 0);
	return &bench_m;
}

static void bench_size(int cols, int rows)
{
	struct tui *t = calloc(1, sizeof(*t));
	struct tui_room *r, *other;
	double t0, load, full, one, flood_c, flood_n;
	unsigned frames_c = 0;
	size_t keep;

	tui_state_init(&t->st);
	tui_line_init(&t->line);
	snprintf(t->st.me, sizeof(t->st.me), "alice");
	t->bench = 1;
	t->curses = 1;
	t->utf8 = 1;
	t->show_members = 1;
	t->conn_text = "connected";
	t->latency_ms = 1;
	resizeterm(rows, cols);
	tui_draw_init(t);
	r = tui_room_add(&t->st, "bench", 0);
	other = tui_room_add(&t->st, "other", 0);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "user%02d", i);
		tui_member_set(r, name, 1);
		tui_presence_set(&t->st, name, 1 + i % 2);
	}
	(void)other;

	/* A room of 100,000 messages, oldest first, as history pages bring it. */
	t0 = now_ms();
	for (uint64_t id = 1; id <= BENCH_ROOM; id++)
		tui_room_insert(&t->st, r, bench_msg(id, MF_HISTORY), 1);
	load = now_ms() - t0;
	keep = r->count;

	t0 = now_ms();
	for (int i = 0; i < BENCH_FRAMES; i++) {
		clearok(curscr, TRUE);
		tui_draw(t);
	}
	full = (now_ms() - t0) / BENCH_FRAMES;

	t0 = now_ms();
	for (int i = 0; i < BENCH_FRAMES; i++) {
		t->line.buf[0] = (wchar_t)('a' + i % 26); /* one cell changes */
		t->line.len = 1;
		t->line.pos = 1;
		tui_draw(t);
	}
	one = (now_ms() - t0) / BENCH_FRAMES;

	/* A flood: 10,000 live messages, a frame whenever 30 ms of work passed. */
	t0 = now_ms();
	{
		double last = t0;
		for (uint64_t k = 1; k <= BENCH_FLOOD; k++) {
			tui_room_insert(&t->st, r, bench_msg(BENCH_ROOM + k, 0), 1);
			if (now_ms() - last >= BENCH_COALESCE_MS) {
				tui_draw(t);
				frames_c++;
				last = now_ms();
			}
		}
		tui_draw(t);
		frames_c++;
	}
	flood_c = now_ms() - t0;

	/* The same flood drawn once per message (what coalescing avoids). */
	t0 = now_ms();
	for (uint64_t k = 1; k <= BENCH_FLOOD; k++) {
		tui_room_insert(&t->st, r, bench_msg(BENCH_ROOM + BENCH_FLOOD + k, 0), 1);
		tui_draw(t);
	}
	flood_n = now_ms() - t0;

	printf("tui %dx%d: load %d messages %.1f ms (%.2f us each; %zu kept in memory)\n", cols,
	       rows, BENCH_ROOM, load, load * 1e3 / BENCH_ROOM, keep);
	printf("tui %dx%d: render a screen of the room: %.3f ms full repaint, %.3f ms one cell "
	       "changed (%.0f frames/s)\n",
	       cols, rows, full, one, 1e3 / full);
	printf("tui %dx%d: absorb %d incoming messages: %.1f ms with coalesced redraws (%u frames, "
	       "%.0f messages/s); %.1f ms redrawing per message (%.1fx)\n",
	       cols, rows, BENCH_FLOOD, flood_c, frames_c, BENCH_FLOOD * 1e3 / flood_c, flood_n,
	       flood_n / flood_c);
	tui_line_free(&t->line);
	tui_state_free(&t->st);
	free(t);
}

int main(int argc, char **argv)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	int cols, rows;

	setlocale(LC_ALL, "C.UTF-8");
	setenv("COLUMNS", "200", 1);
	setenv("LINES", "50", 1);
	if (!out || !in || !(scr = newterm("xterm-256color", out, in))) {
		fprintf(stderr, "tui_bench: cannot set up a curses screen (xterm-256color)\n");
		return 1;
	}
	set_term(scr);
	printf("tui: render into curses (xterm-256color, output to /dev/null), %d-message room, "
	       "%d-message flood, coalescing every %.0f ms\n",
	       BENCH_ROOM, BENCH_FLOOD, BENCH_COALESCE_MS);
	if (argc < 2) {
		bench_size(200, 50);
		bench_size(80, 24);
	}
	for (int i = 1; i < argc; i++)
		if (sscanf(argv[i], "%dx%d", &cols, &rows) == 2 && cols > 0 && rows > 0)
			bench_size(cols, rows);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return 0;
}
