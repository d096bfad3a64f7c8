/* log: stderr in the foreground, the journal (with priorities) otherwise. */
#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE would always say log.c */
#include "log.h"
#include "clock.h"
#include "sd.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-journal.h>

#define LOG_LINE_MAX 4096
#define LOG_IDENT_MAX 64

#define LOG_REPEAT_MS 10000

static char log_ident[LOG_IDENT_MAX];
/* The repeat state below: chatd's hasher thread logs too. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_last[LOG_LINE_MAX]; /* the last line written, for repeats */
static int log_last_prio = -1;
static unsigned long log_repeats;
static uint64_t log_repeat_since_ms;
static int log_journal;
static int log_level;

void log_init(const char *ident, int foreground, int verbosity)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "");
	log_journal = !foreground || sd_stderr_is_journal();
	log_level = verbosity;
	atexit(log_flush); /* a count held back is not lost at exit */
}

void log_set_verbosity(int verbosity)
{
	log_level = verbosity;
}

int log_verbosity(void)
{
	return log_level;
}

static const char *log_name(void)
{
	/* Before log_init (unit tests, early errors) use the program name. */
	return log_ident[0] ? log_ident : program_invocation_short_name;
}

static void log_stderr(int prio, const char *msg)
{
	fprintf(stderr, "%s: %s%s\n", log_name(), prio == LOG_WARNING ? "warning: " : "", msg);
}

static void log_write(int prio, const char *msg)
{
	/* Without a journal socket (run in the background outside systemd) the
	 * line would be lost: fall back to stderr. */
	if (!log_journal || sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
	                                    "SYSLOG_IDENTIFIER=%s", log_name(), NULL) < 0)
		log_stderr(prio, msg);
}

/* "... repeated N times" for the lines held back since the last one
 * written. */
static void log_flush_repeats(void)
{
	char msg[96];

	if (log_repeats == 0)
		return;
	snprintf(msg, sizeof(msg), "... previous message repeated %lu times", log_repeats);
	log_write(log_last_prio, msg);
	log_repeats = 0;
}

void log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	log_flush_repeats();
	pthread_mutex_unlock(&log_lock);
}

void log_tick(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_repeats && clock_now_ms() - log_repeat_since_ms >= LOG_REPEAT_MS)
		log_flush_repeats();
	pthread_mutex_unlock(&log_lock);
}

static void log_vemit(int prio, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
static void log_vemit(int prio, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno; /* callers may log and then look at errno */
	uint64_t now = clock_now_ms();

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_lock);
	/* A line the same as the one before is held back and counted, so that
	 * a peer repeating one fault cannot fill the disk; the count is written
	 * before the next different line, or every LOG_REPEAT_MS while the
	 * repeats go on. */
	if (prio == log_last_prio && strcmp(msg, log_last) == 0) {
		log_repeats++;
		if (now - log_repeat_since_ms >= LOG_REPEAT_MS) {
			log_flush_repeats();
			log_repeat_since_ms = now;
		}
		pthread_mutex_unlock(&log_lock);
		errno = saved;
		return;
	}
	log_flush_repeats();
	log_write(prio, msg);
	memcpy(log_last, msg, sizeof(log_last));
	log_last_prio = prio;
	log_repeat_since_ms = now;
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

_Noreturn void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap);
	va_end(ap);
	log_flush();
	exit(1);
}

void *xcalloc(size_t n, size_t size)
{
	/* calloc(0, x) may return NULL; never report that as out of memory. */
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatal("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatal("out of memory");
	return p;
}
