/* tui_xfer: /send and /get of the full-screen client. Each transfer is a
 * child `nexus push PATH --room ROOM` or `nexus pull LINK [-o PATH]`: the
 * very code of the command line (resume, hashing, the notice through
 * chatd), off the client's event loop, so the screen never waits. The
 * child's stderr comes back through a pipe: "progress DONE TOTAL" lines
 * (NEXUS_PROGRESS_FD, see progress.c) for the transfers panel, and its
 * error sentence when it fails. */
#include "client.h"
#include "clock.h"
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#include <event2/event.h>

static void tui_xfer_line(struct tui_xfer *x, const char *line)
{
	unsigned long long done, total;
	uint64_t now = clock_wall_ms();

	if (sscanf(line, "progress %llu %llu", &done, &total) == 2) {
		x->done = done;
		x->total = total;
		if (!x->rate_ms || x->done < x->rate_bytes) {
			x->rate_ms = now;
			x->rate_bytes = x->done;
		} else if (now - x->rate_ms >= 500) {
			double inst =
			    (double)(x->done - x->rate_bytes) * 1000.0 / (double)(now - x->rate_ms);
			x->rate = x->rate > 0 ? 0.6 * x->rate + 0.4 * inst : inst;
			x->rate_ms = now;
			x->rate_bytes = x->done;
		}
		return;
	}
	if (strncmp(line, "nexus: ", 7) == 0)
		line += 7;
	if (*line) {
		char *clean = utf8_clean(line, 0);
		snprintf(x->err, sizeof(x->err), "%.150s", clean ? clean : line);
		free(clean);
	}
}

/* A transfer child reaped: done or failed. */
static void tui_xfer_reaped(struct tui *t, int pid, int st)
{
	struct tui_xfer *x = NULL;

	for (int i = 0; i < TUI_XFERS_MAX && !x; i++)
		if (t->xfers[i].state == TUI_XFER_RUNNING && t->xfers[i].pid == pid)
			x = &t->xfers[i];
	if (!x)
		return;
	if (st == 0) {
		x->state = TUI_XFER_DONE;
		if (x->total == 0 || x->done < x->total)
			x->done = x->total;
	} else {
		x->state = TUI_XFER_FAILED;
		if (!x->err[0])
			snprintf(x->err, sizeof(x->err), "exit status %d", st);
	}
	x->until_ms = clock_wall_ms() + TUI_XFER_SHOW_MS;
	tui_dirty(t);
}

/* Its stderr closed: it has ended (or is about to); it is reaped without
 * blocking the screen. */
static void tui_xfer_end(struct tui_xfer *x)
{
	event_free(x->ev);
	x->ev = NULL;
	close(x->fd);
	x->fd = -1;
	tui_reap_add(x->tui, x->pid, tui_xfer_reaped);
}

static void tui_xfer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tui_xfer *x = arg;
	ssize_t n;
	char *nl;

	(void)what;
	n = read(fd, x->lbuf + x->llen, sizeof(x->lbuf) - 1 - x->llen);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		tui_xfer_end(x);
		return;
	}
	x->llen += (size_t)n;
	x->lbuf[x->llen] = '\0';
	while ((nl = strchr(x->lbuf, '\n'))) {
		*nl = '\0';
		tui_xfer_line(x, x->lbuf);
		x->llen -= (size_t)(nl + 1 - x->lbuf);
		memmove(x->lbuf, nl + 1, x->llen + 1);
	}
	if (x->llen == sizeof(x->lbuf) - 1)
		x->llen = 0; /* an endless line: drop it */
	tui_dirty(x->tui);
}

static void tui_xfer_fail(struct tui *t, const char *what, const char *arg)
{
	struct tui_room *r = tui_room_current(&t->st);

	if (r)
		tui_room_note(r, TUI_ERROR, clock_wall_ms(), NULL, "%s%s", what, arg);
	else
		tui_status(t, "%s%s", what, arg);
	tui_dirty(t);
}

/* Start `nexus ARGS...` (args[0] is the subcommand) with its progress on
 * the panel under name. */
static void tui_xfer_spawn(struct tui *t, int up, const char *name, const char **args)
{
	struct tui_xfer *x = NULL;
	int p[2], pid;

	for (int i = 0; i < TUI_XFERS_MAX && !x; i++)
		if (t->xfers[i].state == TUI_XFER_FREE)
			x = &t->xfers[i];
	for (int i = 0; i < TUI_XFERS_MAX && !x; i++)
		if (t->xfers[i].state != TUI_XFER_RUNNING)
			x = &t->xfers[i];
	if (!x) {
		tui_xfer_fail(t, "4 transfers at once at most; wait for one to end", "");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		tui_xfer_fail(t, "cannot start the transfer: ", strerror(errno));
		return;
	}
	pid = tui_child_spawn(t, args, -1, p[1], 1);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		tui_xfer_fail(t, "cannot start the transfer: ", strerror(-pid));
		return;
	}
	memset(x, 0, sizeof(*x));
	x->state = TUI_XFER_RUNNING;
	x->up = up;
	x->pid = pid;
	x->fd = p[0];
	x->tui = t;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->ev = event_new(client_base(t->c), p[0], EV_READ | EV_PERSIST, tui_xfer_read_cb, x);
	if (!x->ev || event_add(x->ev, NULL) < 0)
		fatal("out of memory");
	tui_dirty(t);
}

void tui_xfer_send(struct tui *t, struct tui_room *r, const char *path)
{
	const char *args[5] = {"push", NULL, "--room", NULL, NULL};
	const char *base = strrchr(path, '/');
	char full[4096];

	if (!r || !r->joined) {
		tui_xfer_fail(t, "/send: ", "open a room you are a member of first");
		return;
	}
	if (strncmp(path, "~/", 2) == 0 && getenv("HOME")) {
		snprintf(full, sizeof(full), "%s%s", getenv("HOME"), path + 1);
		path = full;
	}
	if (access(path, R_OK) < 0) {
		tui_xfer_fail(t, "/send: cannot read ", path);
		return;
	}
	args[1] = path;
	args[3] = r->name;
	tui_xfer_spawn(t, 1, base && base[1] ? base + 1 : path, args);
}

/* A file notice in r: the one with id (0: the latest). */
static const struct tui_msg *tui_xfer_notice(struct tui_room *r, uint64_t id, char *name,
                                             size_t namelen, char *link, size_t linklen)
{
	char size[32];

	for (size_t i = r->count; i-- > 0;) {
		const struct tui_msg *m = tui_room_at(r, i);
		if (m->kind != TUI_CHAT || (m->flags & MF_DELETED) || (id && m->id != id))
			continue;
		if (tui_notice_parse(m->text, name, namelen, size, sizeof(size), link, linklen))
			return m;
		if (id)
			return NULL;
	}
	return NULL;
}

void tui_xfer_get(struct tui *t, struct tui_room *r, const char *argstr)
{
	const char *args[5] = {"pull", NULL, NULL, NULL, NULL};
	char w1[512] = "", w2[4096] = "", name[256] = "file", link[512] = "";
	const char *path = NULL;
	uint64_t id = 0;
	char *end;

	sscanf(argstr, "%511s %4095[^\n]", w1, w2);
	if (w1[0] && strncmp(w1, "nexus://", 8) != 0 &&
	    !(strlen(w1) == 26 && strspn(w1, "abcdefghijklmnopqrstuvwxyz234567") == 26)) {
		const char *q = w1[0] == '#' ? w1 + 1 : w1;
		id = strtoull(q, &end, 10);
		if (*q < '0' || *q > '9' || *end || id == 0) {
			/* not an id or a link: the PATH for the latest notice */
			id = 0;
			snprintf(w2, sizeof(w2), "%s", argstr);
			w1[0] = '\0';
		}
	}
	if (w1[0] && !id) {
		snprintf(link, sizeof(link), "%s", w1);
		const char *s = strrchr(w1, '/');
		snprintf(name, sizeof(name), "%s", s ? s + 1 : w1);
	} else if (!r || !tui_xfer_notice(r, id, name, sizeof(name), link, sizeof(link))) {
		tui_xfer_fail(t, "/get: ",
		              id ? "that message is not a file notice"
		                 : "no file notice in this room");
		return;
	}
	args[1] = link;
	if (w2[0]) {
		path = w2;
		args[2] = "-o";
		args[3] = path;
		const char *s = strrchr(path, '/');
		snprintf(name, sizeof(name), "%s", s && s[1] ? s + 1 : path);
	}
	tui_xfer_spawn(t, 0, name, args);
}

void tui_xfer_tick(struct tui *t)
{
	uint64_t now = clock_wall_ms();

	for (int i = 0; i < TUI_XFERS_MAX; i++) {
		struct tui_xfer *x = &t->xfers[i];
		if ((x->state == TUI_XFER_DONE || x->state == TUI_XFER_FAILED) &&
		    now >= x->until_ms) {
			x->state = TUI_XFER_FREE;
			tui_dirty(t);
		}
	}
}
