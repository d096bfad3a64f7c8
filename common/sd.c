/* sd: systemd glue over libsystemd's sd-daemon. Without systemd every call
 * is a no-op: sd_notify() does nothing when NOTIFY_SOCKET is unset. */
#include "sd.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#define SD_STATUS_MAX 256

static struct event *sd_watchdog_ev;

int sd_listen_socket(void)
{
	int fd = SD_LISTEN_FDS_START;

	/* Unset LISTEN_FDS so children we might start do not take it too. */
	if (sd_listen_fds(1) <= 0)
		return -1;
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
		log_debug("fd %d from systemd is not a listening stream socket", fd);
		return -1;
	}
	/* systemd passes it blocking (NonBlocking=no); an event loop that
	 * accepts until EAGAIN would then hang in accept(). */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -1;
	return fd;
}

static void sd_vformat(char *buf, size_t len, const char *fmt, va_list ap) LOG_PRINTF(3, 0);
static void sd_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	/* A newline would start another assignment in the notify datagram. */
	vsnprintf(buf, len, fmt, ap);
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

void sd_notify_ready(const char *fmt, ...)
{
	char status[SD_STATUS_MAX];
	va_list ap;

	va_start(ap, fmt);
	sd_vformat(status, sizeof(status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void sd_notify_status(const char *fmt, ...)
{
	char status[SD_STATUS_MAX];
	va_list ap;

	va_start(ap, fmt);
	sd_vformat(status, sizeof(status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", status);
}

void sd_notify_reloading(void)
{
	/* MONOTONIC_USEC lets systemd (Type=notify-reload) match the reload. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, clock_now_us());
}

void sd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static void sd_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int sd_watchdog_start(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;
	int r;

	sd_watchdog_stop();
	r = sd_watchdog_enabled(0, &usec);
	if (r <= 0)
		return r;
	usec /= 2;
	if (usec == 0)
		usec = 1;
	sd_watchdog_ev = event_new(base, -1, EV_PERSIST, sd_watchdog_cb, NULL);
	if (!sd_watchdog_ev)
		return -ENOMEM;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if (event_add(sd_watchdog_ev, &tv) < 0) {
		sd_watchdog_stop();
		return -EINVAL;
	}
	sd_notify(0, "WATCHDOG=1");
	log_debug("watchdog: ping every %" PRIu64 " ms", usec / 1000);
	return 0;
}

void sd_watchdog_stop(void)
{
	if (sd_watchdog_ev) {
		event_free(sd_watchdog_ev);
		sd_watchdog_ev = NULL;
	}
}

int sd_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	/* "DEV:INO" of the stream systemd connected; a child whose stderr was
	 * redirected inherits the variable but not the stream. */
	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n] != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}
