/* log: stderr in the foreground, the journal (with priorities) otherwise. */
#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE would always say log.c */
#include "log.h"
#include "sd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#define LOG_LINE_MAX 4096
#define LOG_IDENT_MAX 64

static char log_ident[LOG_IDENT_MAX];
static int log_journal;
static int log_level;

void log_init(const char *ident, int foreground, int verbosity)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "");
	log_journal = !foreground || sd_stderr_is_journal();
	log_level = verbosity;
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

static void log_vemit(int prio, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
static void log_vemit(int prio, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno; /* callers may log and then look at errno */

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Without a journal socket (run in the background outside systemd) the
	 * line would be lost: fall back to stderr. */
	if (!log_journal || sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
	                                    "SYSLOG_IDENTIFIER=%s", log_name(), NULL) < 0)
		log_stderr(prio, msg);
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
