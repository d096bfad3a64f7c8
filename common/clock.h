/* clock: the one place the programs read the time, in whole milliseconds
 * (microseconds where audio timing needs them). Monotonic for timeouts and
 * rates, since the wall clock may jump; the wall clock for what is stored
 * or shown as a date. */
#ifndef NEXUS_CLOCK_H
#define NEXUS_CLOCK_H

#include <stdint.h>

/* Milliseconds from CLOCK_MONOTONIC. */
uint64_t clock_now_ms(void);
/* Microseconds from CLOCK_MONOTONIC. */
uint64_t clock_now_us(void);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t clock_wall_ms(void);

#endif
