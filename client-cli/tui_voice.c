/* tui_voice: voice and call presence in the full-screen client, through
 * children of the same binary, as the transfers do (tui_xfer.c):
 *
 * - /talk runs `nexus talk ROOM --json`: the very code of the command line
 *   (its audio devices, clock, jitter buffer and reconnects) off the
 *   screen's loop. Its JSON events (who is here, who talks, mute) mark the
 *   member list; the mute key sends it SIGUSR1; /hangup sends SIGTERM.
 *   Its stderr goes to a memory file: when it ends on its own, its last
 *   line says why.
 * - The room shown has its call watched by `nexus call ROOM --watch-only
 *   --json` (the list of who is in the call, a line per change). When
 *   videod is not there, the child retries with its own backoff and the
 *   screen shows nothing; when the child gives up, we start it again
 *   later, backing off to a minute.
 *
 * Children are ended by PID and reaped without blocking the loop: a child
 * that does not go within TUI_REAP_KILL_MS of SIGTERM gets SIGKILL. */
#include "client.h"
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"

#define TUI_REAP_KILL_MS 3000
#define TUI_CALL_BACKOFF_MAX 60 /* seconds */
#define TUI_VOICE_ERR_MS 30000  /* why the voice ended stays this long */

typedef void (*tui_child_line_fn)(struct tui *t, const char *line);

/* ---- children ---- */

static void tui_reap_add(struct tui *t, int pid)
{
	for (int i = 0; i < TUI_REAP_MAX; i++)
		if (!t->reap[i].pid) {
			t->reap[i].pid = pid;
			t->reap[i].kill_at_ms = tui_now_ms() + TUI_REAP_KILL_MS;
			return;
		}
	/* no room to wait for it: it must go now */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Reap what has ended; SIGKILL what overstayed. */
static void tui_reap_poll(struct tui *t)
{
	uint64_t now = tui_now_ms();

	for (int i = 0; i < TUI_REAP_MAX; i++) {
		struct tui_reap *p = &t->reap[i];
		if (!p->pid)
			continue;
		if (waitpid(p->pid, NULL, WNOHANG) != 0) {
			p->pid = 0;
			continue;
		}
		if (now >= p->kill_at_ms)
			kill(p->pid, SIGKILL);
	}
}

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
	clean = tui_clean(line, 0);
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
		tui_reap_add(t, c->pid);
	}
	c->pid = 0;
	c->ended = 0;
}

/* Lines from its stdout, each at most TUI_CHILD_LINE_MAX; a longer one is
 * dropped whole. */
static void tui_child_read(struct tui *t, struct tui_child *c, tui_child_line_fn fn)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		if (n <= TUI_CHILD_LINE_MAX)
			fn(t, line);
		free(line);
		if (!c->bev)
			return; /* fn stopped the child */
	}
	if (evbuffer_get_length(in) > TUI_CHILD_LINE_MAX) {
		struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
		evbuffer_drain(in, eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos + 1);
	}
}

/* Start `nexus ARGS...` (args[0] the subcommand, NULL-terminated) with its
 * stdout on c; stderr into a memory file when keep_err. 0 or -errno. */
static int tui_child_spawn(struct tui *t, struct tui_child *c, const char **args, int keep_err,
                           bufferevent_data_cb read_cb, bufferevent_event_cb event_cb)
{
	const char *argv[24];
	char port[8];
	int p[2], argc = 0, errfd = -1, devnull, e;
	pid_t pid;

	snprintf(port, sizeof(port), "%u", t->s->port);
	argv[argc++] = "nexus";
	argv[argc++] = args[0];
	argv[argc++] = "-s";
	argv[argc++] = t->s->server;
	argv[argc++] = "-P";
	argv[argc++] = port;
	if (t->s->user[0]) {
		argv[argc++] = "-u";
		argv[argc++] = t->s->user;
	}
	for (int i = 1; args[i] && argc < 23; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (keep_err && (errfd = memfd_create("nexus-child-stderr", MFD_CLOEXEC)) < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		e = -errno;
		if (errfd >= 0)
			close(errfd);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		e = -errno;
		close(p[0]);
		close(p[1]);
		if (errfd >= 0)
			close(errfd);
		return e;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(errfd >= 0 ? errfd : devnull, STDERR_FILENO);
		execv("/proc/self/exe", (char *const *)argv);
		dprintf(STDERR_FILENO, "nexus: cannot run nexus: %s\n", strerror(errno));
		_exit(EXIT_ERROR);
	}
	close(p[1]);
	evutil_make_socket_nonblocking(p[0]);
	c->bev = bufferevent_socket_new(client_base(t->c), p[0], BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		fatal("out of memory");
	/* read no further while a line is too long: it is dropped in parts */
	bufferevent_setwatermark(c->bev, EV_READ, 0, TUI_CHILD_LINE_MAX * 2);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, t);
	bufferevent_enable(c->bev, EV_READ);
	c->pid = pid;
	c->err_fd = errfd;
	c->ended = 0;
	return 0;
}

/* Its stdout closed: the child has ended (or is about to). */
static int tui_child_ended(struct tui *t, struct tui_child *c, char *err, size_t errlen)
{
	int st = 0, pid = c->pid;
	pid_t r;

	tui_child_err(c, err, errlen);
	c->pid = 0;
	tui_child_stop(t, c);
	while ((r = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == pid)
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	tui_reap_add(t, pid); /* it closed stdout but still runs: wait for it */
	return -1;
}

/* ---- voice ---- */

static void tui_voice_line(struct tui *t, const char *line)
{
	int r = tui_voice_event(&t->st, line);

	if (r == TUI_VEV_JOINED)
		tui_status(t, "talking in %s: %s mutes", t->voice_label,
		           "F4 (or Alt-V, /mute)");
	if (r != TUI_VEV_NONE && r != TUI_VEV_BAD)
		tui_dirty(t);
}

static void tui_voice_read_cb(struct bufferevent *bev, void *arg)
{
	struct tui *t = arg;

	(void)bev;
	tui_child_read(t, &t->voice, tui_voice_line);
}

static void tui_voice_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tui *t = arg;
	struct tui_room *r = tui_room_find(&t->st, t->st.voice_room);
	int status;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	tui_child_read(t, &t->voice, tui_voice_line);
	status = tui_child_ended(t, &t->voice, t->voice_err, sizeof(t->voice_err));
	if (!t->voice_err[0])
		snprintf(t->voice_err, sizeof(t->voice_err), "%s",
		         status > 0 ? "nexus talk failed" : "the voice connection ended");
	if (r)
		tui_room_note(r, TUI_ERROR, tui_now_ms(), NULL, "voice in %s ended: %s",
		              t->voice_label, t->voice_err);
	t->voice_err_until_ms = tui_now_ms() + TUI_VOICE_ERR_MS;
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
	e = tui_child_spawn(t, &t->voice, args, 1, tui_voice_read_cb, tui_voice_event_cb);
	if (e < 0) {
		tui_status(t, "cannot start voice: %s", strerror(-e));
		return;
	}
	snprintf(t->voice_label, sizeof(t->voice_label), "%s", label);
	tui_voice_reset(&t->st, room);
	if (r)
		tui_room_note(r, TUI_INFO, tui_now_ms(), NULL,
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
		tui_room_note(r, TUI_INFO, tui_now_ms(), NULL, "left voice in %s", t->voice_label);
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

static void tui_call_read_cb(struct bufferevent *bev, void *arg)
{
	struct tui *t = arg;

	(void)bev;
	tui_child_read(t, &t->callw, tui_call_line);
}

static void tui_call_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tui *t = arg;
	char err[8];

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	tui_child_read(t, &t->callw, tui_call_line);
	tui_child_ended(t, &t->callw, err, sizeof(err));
	/* it gave up (no login, refused): quietly, later */
	t->call_backoff_s = t->call_backoff_s ? t->call_backoff_s * 2 : 5;
	if (t->call_backoff_s > TUI_CALL_BACKOFF_MAX)
		t->call_backoff_s = TUI_CALL_BACKOFF_MAX;
	t->call_retry_ms = tui_now_ms() + t->call_backoff_s * 1000ull;
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
	if (!want[0] || t->callw.pid || tui_now_ms() < t->call_retry_ms)
		return;
	if (tui_child_spawn(t, &t->callw, args, 0, tui_call_read_cb, tui_call_event_cb) < 0)
		t->call_retry_ms = tui_now_ms() + TUI_CALL_BACKOFF_MAX * 1000ull;
}

void tui_voice_tick(struct tui *t)
{
	tui_reap_poll(t);
	tui_call_follow(t);
}

void tui_voice_end_all(struct tui *t)
{
	uint64_t until = tui_now_ms() + TUI_REAP_KILL_MS;
	int left = 1;

	tui_child_stop(t, &t->voice);
	tui_child_stop(t, &t->callw);
	/* the talk child says goodbye to audiod: give it a moment */
	while (left && tui_now_ms() < until) {
		left = 0;
		for (int i = 0; i < TUI_REAP_MAX; i++)
			if (t->reap[i].pid) {
				if (waitpid(t->reap[i].pid, NULL, WNOHANG) != 0)
					t->reap[i].pid = 0;
				else
					left = 1;
			}
		if (left)
			usleep(20000);
	}
	for (int i = 0; i < TUI_REAP_MAX; i++)
		if (t->reap[i].pid) {
			kill(t->reap[i].pid, SIGKILL);
			waitpid(t->reap[i].pid, NULL, 0);
			t->reap[i].pid = 0;
		}
}
