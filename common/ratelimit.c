/* limits: token buckets, and a fixed-size table of them keyed by string.
 *
 * The table is a chained hash over a fixed array of entries, with the
 * entries also on a doubly linked LRU list: lookup, touch and eviction are
 * O(1), and a peer sending endless new keys only ever recycles the oldest
 * entry. The hash is seeded per table so keys chosen by a peer cannot be
 * aimed at one chain. */
#include "ratelimit.h"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RATE_KEY_MAX 64
#define RATE_NONE (-1)
#define RATE_SLOTS_MAX (1u << 24)
/* Slack for floating-point sums: 10 refills of 0.1 token make 1 token. */
#define RATE_EPSILON 1e-9

void ratelimit_init(struct ratelimit *rl, double rate_per_sec, double burst, uint64_t now_ms)
{
	rl->rate = rate_per_sec;
	rl->burst = burst;
	rl->tokens = burst;
	rl->last_ms = now_ms;
}

bool ratelimit_take(struct ratelimit *rl, uint64_t now_ms, double cost)
{
	/* A clock that went backwards (or a caller's stale now) refills nothing. */
	if (now_ms > rl->last_ms) {
		rl->tokens += (double)(now_ms - rl->last_ms) * rl->rate / 1000.0;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
	if (rl->tokens + RATE_EPSILON < cost)
		return false;
	rl->tokens -= cost;
	if (rl->tokens < 0)
		rl->tokens = 0;
	return true;
}

struct rate_entry {
	char key[RATE_KEY_MAX + 1];
	uint32_t hash;
	int32_t chain;        /* next entry in the same bucket */
	int32_t newer, older; /* LRU list neighbours */
	struct ratelimit rl;
};

struct ratetable {
	size_t slots, used;
	uint32_t mask; /* buckets - 1 */
	uint32_t seed;
	double rate, burst;
	int32_t newest, oldest;
	int32_t *buckets;
	struct rate_entry *entries;
};

struct ratetable *ratetable_new(size_t slots, double rate_per_sec, double burst)
{
	struct ratetable *t = xcalloc(1, sizeof(*t));
	size_t nb = 1;

	if (slots == 0)
		slots = 1;
	if (slots > RATE_SLOTS_MAX)
		slots = RATE_SLOTS_MAX;
	while (nb < slots * 2)
		nb <<= 1;
	t->slots = slots;
	t->mask = (uint32_t)(nb - 1);
	t->rate = rate_per_sec;
	t->burst = burst;
	t->newest = t->oldest = RATE_NONE;
	t->buckets = xcalloc(nb, sizeof(*t->buckets));
	for (size_t i = 0; i < nb; i++)
		t->buckets[i] = RATE_NONE;
	t->entries = xcalloc(slots, sizeof(*t->entries));
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)clock_now_ms() ^ (uint32_t)(uintptr_t)t;
	return t;
}

void ratetable_free(struct ratetable *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t->entries);
	free(t);
}

/* FNV-1a, seeded. */
static uint32_t rate_hash(uint32_t seed, const char *key)
{
	uint32_t h = 2166136261u ^ seed;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u;
	}
	return h;
}

static void rate_lru_unlink(struct ratetable *t, int32_t i)
{
	struct rate_entry *e = &t->entries[i];

	if (e->newer != RATE_NONE)
		t->entries[e->newer].older = e->older;
	else
		t->newest = e->older;
	if (e->older != RATE_NONE)
		t->entries[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	e->newer = e->older = RATE_NONE;
}

static void rate_lru_push(struct ratetable *t, int32_t i)
{
	struct rate_entry *e = &t->entries[i];

	e->newer = RATE_NONE;
	e->older = t->newest;
	if (t->newest != RATE_NONE)
		t->entries[t->newest].newer = i;
	t->newest = i;
	if (t->oldest == RATE_NONE)
		t->oldest = i;
}

static void rate_chain_unlink(struct ratetable *t, int32_t i)
{
	int32_t *link = &t->buckets[t->entries[i].hash & t->mask];

	while (*link != RATE_NONE && *link != i)
		link = &t->entries[*link].chain;
	if (*link == i)
		*link = t->entries[i].chain;
}

static int32_t rate_find(const struct ratetable *t, const char *key, uint32_t h)
{
	for (int32_t i = t->buckets[h & t->mask]; i != RATE_NONE; i = t->entries[i].chain)
		if (t->entries[i].hash == h && strcmp(t->entries[i].key, key) == 0)
			return i;
	return RATE_NONE;
}

/* A fresh entry for key: a never-used slot, else the least recently used. */
static int32_t rate_insert(struct ratetable *t, const char *key, uint32_t h, uint64_t now_ms)
{
	int32_t i;
	struct rate_entry *e;

	if (t->used < t->slots) {
		i = (int32_t)t->used++;
	} else {
		i = t->oldest;
		rate_lru_unlink(t, i);
		rate_chain_unlink(t, i);
	}
	e = &t->entries[i];
	memcpy(e->key, key, strlen(key) + 1);
	e->hash = h;
	e->chain = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = i;
	ratelimit_init(&e->rl, t->rate, t->burst, now_ms);
	rate_lru_push(t, i);
	return i;
}

bool ratetable_take(struct ratetable *t, const char *key, uint64_t now_ms, double cost)
{
	char k[RATE_KEY_MAX + 1];
	size_t n = strnlen(key, RATE_KEY_MAX);
	uint32_t h;
	int32_t i;

	/* Longer keys share a limiter with their 64-byte prefix. */
	memcpy(k, key, n);
	k[n] = '\0';
	h = rate_hash(t->seed, k);
	i = rate_find(t, k, h);
	if (i == RATE_NONE) {
		i = rate_insert(t, k, h, now_ms);
	} else {
		rate_lru_unlink(t, i);
		rate_lru_push(t, i);
	}
	return ratelimit_take(&t->entries[i].rl, now_ms, cost);
}
