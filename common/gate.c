/* gate: a per-address cap on held connections; see gate.h. */
#include "gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATE_BUCKETS 1024
/* Descriptors past this are admitted untracked: the table stays bounded
 * whatever the hard limit is. */
#define GATE_FD_MAX (1 << 20)

struct gate_addr {
	uint8_t a[16]; /* IPv6, or IPv4 mapped into it */
	unsigned count;
	struct gate_addr *next;
};

static struct gate_addr *gate_buckets[GATE_BUCKETS];
static struct gate_addr **gate_fds; /* by descriptor: the address it counts against */
static size_t gate_nfds;
static unsigned gate_per_addr = GATE_PER_ADDR_DEFAULT;

void gate_set_max(unsigned per_addr)
{
	gate_per_addr = per_addr;
}

unsigned gate_max(void)
{
	return gate_per_addr;
}

/* One key for an address however it arrived (v4, or v4-mapped on a v6
 * socket); false for families without an address (AF_UNIX). */
static bool gate_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static size_t gate_hash(const uint8_t key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % GATE_BUCKETS;
}

static struct gate_addr *gate_find(const uint8_t key[16])
{
	for (struct gate_addr *g = gate_buckets[gate_hash(key)]; g; g = g->next)
		if (memcmp(g->a, key, 16) == 0)
			return g;
	return NULL;
}

static void gate_drop(struct gate_addr *g)
{
	struct gate_addr **p = &gate_buckets[gate_hash(g->a)];

	if (--g->count > 0)
		return;
	while (*p != g)
		p = &(*p)->next;
	*p = g->next;
	free(g);
}

static int gate_grow(size_t fd)
{
	size_t n = gate_nfds ? gate_nfds : 256;
	struct gate_addr **t;

	while (n <= fd)
		n *= 2;
	t = realloc(gate_fds, n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + gate_nfds, 0, (n - gate_nfds) * sizeof(*t));
	gate_fds = t;
	gate_nfds = n;
	return 0;
}

int gate_enter(int fd, const struct sockaddr *sa)
{
	uint8_t key[16];
	struct gate_addr *g;

	if (fd < 0 || fd >= GATE_FD_MAX || !gate_key(sa, key))
		return 0;
	gate_leave(fd); /* a stale entry: that socket is closed */
	g = gate_find(key);
	if (g && gate_per_addr && g->count >= gate_per_addr)
		return -EUSERS;
	if ((size_t)fd >= gate_nfds && gate_grow((size_t)fd) < 0)
		return -ENOMEM;
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		memcpy(g->a, key, 16);
		g->next = gate_buckets[gate_hash(key)];
		gate_buckets[gate_hash(key)] = g;
	}
	g->count++;
	gate_fds[fd] = g;
	return 0;
}

void gate_leave(int fd)
{
	if (fd < 0 || (size_t)fd >= gate_nfds || !gate_fds[fd])
		return;
	gate_drop(gate_fds[fd]);
	gate_fds[fd] = NULL;
}

unsigned gate_count(const struct sockaddr *sa)
{
	uint8_t key[16];
	struct gate_addr *g;

	if (!gate_key(sa, key))
		return 0;
	g = gate_find(key);
	return g ? g->count : 0;
}

void gate_reset(void)
{
	for (size_t i = 0; i < gate_nfds; i++)
		gate_leave((int)i);
	free(gate_fds);
	gate_fds = NULL;
	gate_nfds = 0;
}

void gate_addr_name(const struct sockaddr *sa, char *out, size_t outlen)
{
	uint8_t key[16];
	char host[INET6_ADDRSTRLEN] = "?";
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (gate_key(sa, key)) {
		if (memcmp(key, v4mapped, 12) == 0)
			inet_ntop(AF_INET, key + 12, host, sizeof(host));
		else
			inet_ntop(AF_INET6, key, host, sizeof(host));
	}
	snprintf(out, outlen, "%s", host);
}
