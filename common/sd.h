/* sd: systemd glue. Everything is a no-op when not run by systemd. */
#ifndef NEXUS_SD_H
#define NEXUS_SD_H

#include "log.h"

struct event_base;

/* The first socket passed by socket activation (sd_listen_fds), or -1. */
int sd_listen_socket(void);
/* READY=1 with a STATUS= line. */
void sd_notify_ready(const char *fmt, ...) LOG_PRINTF(1, 2);
void sd_notify_status(const char *fmt, ...) LOG_PRINTF(1, 2);
void sd_notify_reloading(void);
void sd_notify_stopping(void);
/* If WATCHDOG_USEC is set for us, ping WATCHDOG=1 at half the interval from
 * a timer on base. Returns 0 or a negative errno. */
int sd_watchdog_start(struct event_base *base);
void sd_watchdog_stop(void);
/* True when our stderr is connected to the journal (JOURNAL_STREAM). */
int sd_stderr_is_journal(void);

#endif
