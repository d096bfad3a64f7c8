/* tui_voice: voice and call presence in the full-screen client, through
 * children of the same binary, as the transfers do (tui_xfer.c):
 *
 * - /talk runs `nexus talk ROOM --json`: the very code of the command line
 *   (its audio devices, clock, jitter buffer and reconnects) off the
 *   screen's loop. Its JSON events (who is here, who talks, mute) mark the
 *   member list; the mute key sends it SIGUSR1; /hangup sends SIGTERM.
 *   Its stderr goes to a memory file: when it ends on its own, its last
 *   line says why.
 * - /call runs `nexus call ROOM --link-only --json`: the HTTPS exchange
 *   with videod (up to 10 s when it does not answer) happens off the
 *   screen's loop, and its last stderr line says why when no link came.
 * - The room shown has its call watched by `nexus call ROOM --watch-only
 *   --json` (the list of who is in the call, a line per change). When
 *   videod is not there, the child retries with its own backoff and the
 *   screen shows nothing; when the child gives up, we start it again
 *   later, backing off to a minute.
 *
 * Children are ended by PID and reaped without blocking the loop: a child
 * that does not go within TUI_REAP_KILL_MS of SIGTERM gets SIGKILL. */
#include "client.h"
#include "clock.h"
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "log.h"

#define TUI_CALL_BACKOFF_MAX 60 /* seconds */
#define TUI_VOICE_ERR_MS 30000  /* why the voice ended stays this long */

/* ---- children ---- */

/* Its last stderr line (without "nexus: "), cleaned for the screen. */
static void tui_child_err(struct tui_child *c, char *out, size_t outlen)
{
	char buf[1024], *line, *clean;
	off_t end = c->err_fd >= 0 ? lseek(c->err_fd, 0, SEEK_END) : -1;
	off_t at = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = end > 0 ? pread(c->err_fd, buf, sizeof(buf) - 1, at) : 0;

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (strncmp(line, "nexus: ", 7) == 0)
		line += 7;
	clean = utf8_clean(line, 0);
	snprintf(out, outlen, "%s", clean ? clean : "");
	free(clean);
}

/* Stop reading and let it go (SIGTERM when it still runs). */
static void tui_child_stop(struct tui *t, struct tui_child *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->err_fd = -1;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		tui_reap_add(t, c->pid, NULL);
	}
	c->pid = 0;
}

/* Lines from its stdout, each at most TUI_CHILD_LINE_MAX; a longer one is
 * dropped whole. */
static void tui_child_read_cb(struct bufferevent *bev, void *arg)
{
	struct tui_child *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		if (n <= TUI_CHILD_LINE_MAX)
			c->line(c->tui, line);
		free(line);
		if (!c->bev)
			return; /* the line stopped the child */
	}
	/* what is left has no end of line: a line too long, dropped */
	if (evbuffer_get_length(in) > TUI_CHILD_LINE_MAX)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* Start `nexus ARGS...` (args[0] the subcommand, NULL-terminated) with its
 * stdout lines to line; stderr into a memory file when keep_err. 0 or
 * -errno. */
static int tui_child_start(struct tui *t, struct tui_child *c, const char **args, int keep_err,
                           tui_child_line_fn line, bufferevent_event_cb event_cb)
{
	int p[2], errfd = -1, pid;

	if (keep_err && (errfd = memfd_create("nexus-child-stderr", MFD_CLOEXEC)) < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		pid = -errno;
		goto fail;
	}
	pid = tui_child_spawn(t, args, p[1], errfd, 0);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		goto fail;
	}
	evutil_make_socket_nonblocking(p[0]);
	c->bev = bufferevent_socket_new(client_base(t->c), p[0], BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		fatal("out of memory");
	/* read no further while a line is too long: it is dropped in parts */
	bufferevent_setwatermark(c->bev, EV_READ, 0, TUI_CHILD_LINE_MAX * 2);
	bufferevent_setcb(c->bev, tui_child_read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	c->pid = pid;
	c->err_fd = errfd;
	c->tui = t;
	c->line = line;
	return 0;
fail:
	if (errfd >= 0)
		close(errfd);
	return pid;
}

/* Its stdout closed: read what is left, keep its last stderr line, stop
 * reading; done gets its exit status once it is reaped. */
static void tui_child_ended(struct tui *t, struct tui_child *c, char *err, size_t errlen,
                            tui_reap_fn done)
{
	int pid = c->pid;

	if (c->bev)
		tui_child_read_cb(c->bev, c);
	if (err)
		tui_child_err(c, err, errlen);
	c->pid = 0; /* not to be sent SIGTERM: it is on its way out */
	tui_child_stop(t, c);
	if (pid > 0)
		tui_reap_add(t, pid, done);
}

/* ---- voice ---- */

static void tui_voice_line(struct tui *t, const char *line)
{
	int r = tui_voice_event(&t->st, line);

	if (r == TUI_VEV_JOINED)
		tui_status(t, "talking in %s: %s mutes", t->voice_label, "F4 (or Alt-V, /mute)");
	if (r != TUI_VEV_NONE && r != TUI_VEV_BAD)
		tui_dirty(t);
}

/* The voice child reaped: say why it ended. */
static void tui_voice_reaped(struct tui *t, int pid, int status)
{
	struct tui_room *r;

	if (pid != t->voice_end_pid)
		return; /* another /talk since: that one counts */
	t->voice_end_pid = 0;
	r = tui_room_find(&t->st, t->voice_end_room);
	if (!t->voice_err[0])
		snprintf(t->voice_err, sizeof(t->voice_err), "%s",
		         status > 0 ? "nexus talk failed" : "the voice connection ended");
	if (r)
		tui_room_note(r, TUI_ERROR, clock_wall_ms(), NULL, "voice in %s ended: %s",
		              t->voice_label, t->voice_err);
	t->voice_err_until_ms = clock_wall_ms() + TUI_VOICE_ERR_MS;
	tui_dirty(t);
}

static void tui_voice_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tui *t = ((struct tui_child *)arg)->tui;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	t->voice_end_pid = t->voice.pid;
	snprintf(t->voice_end_room, sizeof(t->voice_end_room), "%s", t->st.voice_room);
	tui_child_ended(t, &t->voice, t->voice_err, sizeof(t->voice_err), tui_voice_reaped);
	tui_voice_reset(&t->st, "");
	tui_dirty(t);
}

void tui_voice_start(struct tui *t, const char *room, const char *label)
{
	const char *args[] = {"talk", room, "--json", NULL};
	struct tui_room *r = tui_room_find(&t->st, room);
	int e;

	if (t->voice.pid && strcmp(t->st.voice_room, room) == 0) {
		tui_status(t, "already talking in %s", label);
		return;
	}
	if (t->voice.pid)
		tui_voice_stop(t, 1);
	t->voice_err[0] = '\0';
	t->voice_err_until_ms = 0;
	t->voice_end_pid = 0; /* an end not yet told is told no more */
	e = tui_child_start(t, &t->voice, args, 1, tui_voice_line, tui_voice_event_cb);
	if (e < 0) {
		tui_status(t, "cannot start voice: %s", strerror(-e));
		return;
	}
	snprintf(t->voice_label, sizeof(t->voice_label), "%s", label);
	tui_voice_reset(&t->st, room);
	if (r)
		tui_room_note(r, TUI_INFO, clock_wall_ms(), NULL,
		              "joining voice in %s (/hangup ends it, F4 mutes)", label);
	tui_dirty(t);
}

void tui_voice_stop(struct tui *t, int quiet)
{
	struct tui_room *r = tui_room_find(&t->st, t->st.voice_room);

	if (!t->voice.pid) {
		if (!quiet)
			tui_status(t, "/hangup: not talking anywhere");
		return;
	}
	tui_child_stop(t, &t->voice);
	t->voice_err_until_ms = 0;
	if (!quiet && r)
		tui_room_note(r, TUI_INFO, clock_wall_ms(), NULL, "left voice in %s",
		              t->voice_label);
	tui_voice_reset(&t->st, "");
	tui_dirty(t);
}

void tui_voice_mute(struct tui *t)
{
	if (!t->voice.pid) {
		tui_status(t, "not talking anywhere: /talk first");
		return;
	}
	if (!t->st.voice_joined) {
		tui_status(t, "voice in %s is not connected yet", t->voice_label);
		return;
	}
	/* the child toggles and says so ({"event":"mute","muted":...}): the
	 * status line follows its word, so it cannot drift from the truth */
	kill(t->voice.pid, SIGUSR1);
}

/* ---- the call of the room shown ---- */

static void tui_call_line(struct tui *t, const char *line)
{
	if (tui_call_event(&t->st, line) > 0)
		tui_dirty(t);
	t->call_backoff_s = 0; /* it works: start over quickly next time */
}

static void tui_call_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tui *t = ((struct tui_child *)arg)->tui;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	tui_child_ended(t, &t->callw, NULL, 0, NULL);
	/* it gave up (no login, refused): quietly, later */
	t->call_backoff_s = t->call_backoff_s ? t->call_backoff_s * 2 : 5;
	if (t->call_backoff_s > TUI_CALL_BACKOFF_MAX)
		t->call_backoff_s = TUI_CALL_BACKOFF_MAX;
	t->call_retry_ms = clock_wall_ms() + t->call_backoff_s * 1000ull;
	if (t->st.ncall) {
		t->st.ncall = 0;
		tui_dirty(t);
	}
}

void tui_call_follow(struct tui *t)
{
	struct tui_room *r = tui_room_current(&t->st);
	const char *want = r && r->joined && t->online ? r->name : "";
	const char *args[] = {"call", want, "--watch-only", "--json", NULL};

	if (strcmp(want, t->st.call_room) != 0) {
		tui_child_stop(t, &t->callw);
		tui_call_reset(&t->st, want);
		t->call_retry_ms = 0;
		t->call_backoff_s = 0;
		tui_dirty(t);
	}
	if (!want[0] || t->callw.pid || clock_wall_ms() < t->call_retry_ms)
		return;
	if (tui_child_start(t, &t->callw, args, 0, tui_call_line, tui_call_event_cb) < 0)
		t->call_retry_ms = clock_wall_ms() + TUI_CALL_BACKOFF_MAX * 1000ull;
}

/* ---- /call: the one-time link ---- */

/* A note in the room asked about, or the room shown when it is gone. */
static void tui_link_note(struct tui *t, enum tui_kind kind, const char *text)
{
	struct tui_room *r = tui_room_find(&t->st, t->link_room);

	if (r)
		tui_room_note(r, kind, clock_wall_ms(), NULL, "%s", text);
	else
		tui_note(t, kind, "%s", text);
	tui_dirty(t);
}

/* {"url":"https://...","room":"lobby"} */
static void tui_link_line(struct tui *t, const char *line)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *url = json_string_value(json_object_get(o, "url"));
	char text[PROTO_ROOM_MAX + 80];

	if (url && !t->link_said) {
		t->link_said = 1;
		snprintf(text, sizeof(text),
		         "video call of %s: open this link in a browser (it works once):",
		         t->link_label);
		tui_link_note(t, TUI_INFO, text);
		tui_link_note(t, TUI_INFO, url);
	}
	json_decref(o);
}

static void tui_link_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tui *t = ((struct tui_child *)arg)->tui;
	char err[256], text[PROTO_ROOM_MAX + 320];

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	tui_child_ended(t, &t->calllink, err, sizeof(err), NULL);
	if (t->link_said)
		return;
	snprintf(text, sizeof(text), "no call link for %s: %s", t->link_label,
	         err[0] ? err : "nexus call failed");
	tui_link_note(t, TUI_ERROR, text);
}

void tui_call_link(struct tui *t, const char *room, const char *label)
{
	const char *args[] = {"call", room, "--link-only", "--json", NULL};
	int e;

	if (t->calllink.pid) {
		tui_status(t, "/call: still asking videod for the link of %s", t->link_label);
		return;
	}
	snprintf(t->link_room, sizeof(t->link_room), "%s", room);
	snprintf(t->link_label, sizeof(t->link_label), "%s", label);
	t->link_said = 0;
	e = tui_child_start(t, &t->calllink, args, 1, tui_link_line, tui_link_event_cb);
	if (e < 0)
		tui_status(t, "cannot run nexus call: %s", strerror(-e));
	else
		tui_status(t, "asking videod for the link of %s's call", label);
}

void tui_voice_tick(struct tui *t)
{
	tui_reap_poll(t);
	tui_call_follow(t);
}

void tui_voice_end_all(struct tui *t)
{
	tui_child_stop(t, &t->voice);
	tui_child_stop(t, &t->callw);
	tui_child_stop(t, &t->calllink);
	/* the talk child says goodbye to audiod: give it a moment */
	tui_reap_all(t, TUI_REAP_KILL_MS);
}
