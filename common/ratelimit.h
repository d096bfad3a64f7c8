/* ratelimit (the "limits" module; not named limits.h, which would hide the
 * system header): token-bucket rate limiters, a bounded table of them keyed by a
 * string (per user, per address). Times are clock_now_ms(). */
#ifndef NEXUS_RATELIMIT_H
#define NEXUS_RATELIMIT_H

#include "clock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit {
	double tokens;
	double rate;  /* tokens per second */
	double burst; /* bucket size */
	uint64_t last_ms;
};

void ratelimit_init(struct ratelimit *rl, double rate_per_sec, double burst, uint64_t now_ms);
/* Take cost tokens if available; false (and nothing taken) otherwise. */
bool ratelimit_take(struct ratelimit *rl, uint64_t now_ms, double cost);

/* A fixed-size table of rate limiters keyed by short strings. When full, the
 * least recently used entry is reused, so memory never grows with keys. */
struct ratetable;
struct ratetable *ratetable_new(size_t slots, double rate_per_sec, double burst);
void ratetable_free(struct ratetable *t);
bool ratetable_take(struct ratetable *t, const char *key, uint64_t now_ms, double cost);

#endif
