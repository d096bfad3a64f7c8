/* tui_child: the children of the full-screen client (transfers, voice, the
 * call watch) are the same binary run as `nexus SUB -s SERVER -P PORT [-u
 * USER] ARGS...`, started here and reaped without blocking the screen's
 * loop: an ended child goes on the reap list, which is polled once a
 * second and says each exit status to whoever asked for it. */
#include "client.h"
#include "clock.h"
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TUI_CHILD_ARGV_MAX 24
#define TUI_CHILD_ENV_MAX 512

/* The environment of a child, with NEXUS_PROGRESS_FD=2 when progress. */
static char **tui_child_env(int progress, char *buf[], size_t max)
{
	size_t n = 0;

	if (!progress)
		return environ;
	for (char **e = environ; *e && n < max - 2; e++)
		if (strncmp(*e, "NEXUS_PROGRESS_FD=", 18) != 0)
			buf[n++] = *e;
	buf[n++] = (char *)"NEXUS_PROGRESS_FD=2";
	buf[n] = NULL;
	return buf;
}

/* posix_spawn, not fork: a forked child keeps libevent's signal handlers
 * until it execs, and a SIGTERM it got in that window (a call watch stopped
 * just after it started) was written into the parent's signal pipe, so the
 * screen quit as if the user had pressed Ctrl-C twice. posix_spawn blocks
 * signals across the clone and resets every handler in the child. */
int tui_child_spawn(struct tui *t, const char **args, int out_fd, int err_fd, int progress)
{
	const char *argv[TUI_CHILD_ARGV_MAX];
	char *envbuf[TUI_CHILD_ENV_MAX];
	char port[8];
	int argc = 0, r;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
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
	for (int i = 1; args[i] && argc < TUI_CHILD_ARGV_MAX - 1; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	sigfillset(&all);
	sigemptyset(&none);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return -r;
	if ((r = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	/* nothing of it may reach the curses screen */
	r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = out_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO)
		                : posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
		                                                   O_WRONLY, 0);
	if (!r)
		r = err_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO)
		                : posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
		                                                   O_WRONLY, 0);
	if (!r)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, (char *const *)argv,
		                tui_child_env(progress, envbuf, TUI_CHILD_ENV_MAX));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r ? -r : pid;
}

int tui_reap_try(int pid, int *status)
{
	int st = 0;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == pid) {
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		return 1;
	}
	if (r < 0 && errno == ECHILD) {
		*status = -1; /* not ours (any more): nothing to wait for */
		return 1;
	}
	return 0;
}

void tui_reap_add(struct tui *t, int pid, tui_reap_fn done)
{
	int st;

	if (tui_reap_try(pid, &st)) {
		if (done)
			done(t, pid, st);
		return;
	}
	for (int i = 0; i < TUI_REAP_MAX; i++)
		if (!t->reap[i].pid) {
			t->reap[i].pid = pid;
			t->reap[i].kill_at_ms = clock_wall_ms() + TUI_REAP_KILL_MS;
			t->reap[i].done = done;
			return;
		}
	/* no room to wait for it: it must go now */
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (done)
		done(t, pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

void tui_reap_poll(struct tui *t)
{
	uint64_t now = clock_wall_ms();

	for (int i = 0; i < TUI_REAP_MAX; i++) {
		struct tui_reap *p = &t->reap[i];
		tui_reap_fn done = p->done;
		int pid = p->pid, st;

		if (!pid)
			continue;
		if (tui_reap_try(pid, &st)) {
			p->pid = 0;
			p->done = NULL;
			if (done)
				done(t, pid, st);
			continue;
		}
		if (now >= p->kill_at_ms)
			kill(pid, SIGKILL);
	}
}

void tui_reap_all(struct tui *t, uint64_t wait_ms)
{
	uint64_t until = clock_wall_ms() + wait_ms;
	int left = 1, st;

	for (int i = 0; i < TUI_REAP_MAX; i++)
		t->reap[i].done = NULL; /* quitting: nobody to tell */
	while (left && clock_wall_ms() < until) {
		left = 0;
		for (int i = 0; i < TUI_REAP_MAX; i++)
			if (t->reap[i].pid) {
				if (tui_reap_try(t->reap[i].pid, &st))
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
			while (waitpid(t->reap[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
			t->reap[i].pid = 0;
		}
}
