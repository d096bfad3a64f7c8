/* log: one logging API for every daemon and the client. Under systemd
 * (JOURNAL_STREAM names our stderr, or not in the foreground) lines go to the
 * journal with priorities; otherwise to stderr with a "ident: " prefix. */
#ifndef NEXUS_LOG_H
#define NEXUS_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* verbosity: 0 = warnings and info, 1 = + debug (-v), 2 = + trace (-vv). */
void log_init(const char *ident, int foreground, int verbosity);
void log_set_verbosity(int verbosity);
int log_verbosity(void);

void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Logs at error priority and exits 1. Start-up, out of memory and broken
 * invariants only: never for what a peer sent. */
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
/* A line identical to the one before (same priority) is not written again:
 * "... previous message repeated N times" follows before the next other
 * line, and every 10 s while the repeats last. log_flush writes a pending
 * count now (also at exit); log_tick writes one held back 10 s or more, so
 * a flood followed by quiet is counted within 20 s (svc calls it every 10 s). */
void log_flush(void);
void log_tick(void);

/* Allocation helpers that call fatal() on out-of-memory. */
#include <stddef.h>
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

#endif
