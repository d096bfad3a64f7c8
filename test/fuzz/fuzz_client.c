/* libFuzzer target for the client's handling of server frames: the frames
 * of the input, decoded as the connection decodes them, go to the client's
 * frame callback (client-cli/core.c) in a state the input picks, with the
 * full-screen client's callbacks behind it (tui_net.c: chat, events,
 * presence, typing, WELCOME, errors), and every room is then drawn into a
 * curses screen writing to /dev/null. Whatever a server sends, in any
 * state, must not crash the client.
 *
 * Input: byte 0 the state (enum client_state), byte 1 flags (1 the saved
 * login is needed, 2 reconnect, 4 first-run account set-up), then frames. */
#include <curses.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../client-cli/client.h"
#include "../../client-cli/tui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct settings settings;

static void cleanup(void)
{
	rmdir(settings.config_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_client.XXXXXX";
	FILE *out, *in;
	SCREEN *scr;

	/* A call watch the screen starts runs this program as "nexus call":
	 * it has nothing to do here. */
	if (*argc > 1 && strcmp((*argv)[1], "call") == 0)
		_exit(0);
	setlocale(LC_ALL, "C.UTF-8");
	setenv("COLUMNS", "100", 1);
	setenv("LINES", "30", 1);
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	if (!out || !in || !(scr = newterm("xterm-256color", out, in)) || !mkdtemp(dir))
		abort();
	set_term(scr);
	settings_init(&settings);
	snprintf(settings.config_dir, sizeof(settings.config_dir), "%s", dir);
	snprintf(settings.host_port, sizeof(settings.host_port), "localhost:5555");
	snprintf(settings.default_hp, sizeof(settings.default_hp), "localhost:5555");
	atexit(cleanup);
	return 0;
}

static void draw_all(struct tui *t)
{
	for (size_t i = 0; i < t->st.nrooms && i < 8; i++) {
		t->st.cur = i;
		tui_draw(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base *base;
	struct tui *t;
	unsigned flags;
	size_t off = 2;
	struct msg m;

	if (size < 2)
		return 0;
	base = event_base_new();
	t = calloc(1, sizeof(*t));
	if (!base || !t)
		abort();
	t->s = &settings;
	t->latency_ms = -1;
	t->show_members = -1;
	t->saved_stderr = t->err_fd = -1;
	t->voice.err_fd = t->callw.err_fd = -1;
	t->curses = 1;
	t->dirty = 1; /* no redraw timer: draw_all draws */
	t->utf8 = 1;
	t->setup = (data[1] & 4) != 0;
	tui_state_init(&t->st);
	tui_line_init(&t->line);
	tui_draw_init(t);
	flags = (data[1] & 1 ? CLIENT_NEED_TOKEN : 0) | (data[1] & 2 ? CLIENT_RECONNECT : 0);
	t->c = client_new_on(base, &settings, flags, tui_net_callbacks(), t);
	client_set_state(t->c, (enum client_state)(data[0] % (CLIENT_RECONNECTING + 1)));
	while (off < size) {
		size_t used = 0;

		if (proto_decode_frame(data + off, size - off, PROTO_FRAME_MAX_DEFAULT, &m,
		                       &used) != 0)
			break;
		client_conn_frame(NULL, &m, t->c);
		event_base_loop(base, EVLOOP_NONBLOCK);
		off += used;
	}
	draw_all(t);
	tui_voice_end_all(t);
	client_free(t->c);
	tui_line_free(&t->line);
	tui_state_free(&t->st);
	free(t);
	event_base_free(base);
	return 0;
}
