/* libFuzzer target for the config parser (common/config.c): the input is a
 * whole nexus.conf (read through a memfd, by the same config_load the
 * daemons call), then each of its lines is given as a -o override
 * (config_set), which shares the value and store code. The key table has
 * every kind of key; strings must stay terminated within their fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_config {
	struct config_common common;
	char name[8];
	uint16_t port;
	uint32_t count;
	int flag;
	char path[CONFIG_PATH_MAX];
};

static const struct config_key keys[] = {
    CONFIG_COMMON_KEYS(struct fz_config, common),
    {"videod", "name", CONFIG_STR, offsetof(struct fz_config, name), 8, 0, 0, "short"},
    {"videod", "port", CONFIG_PORT, offsetof(struct fz_config, port), 0, 0, 0, "port"},
    {"videod", "count", CONFIG_U32, offsetof(struct fz_config, count), 0, 2, 1000, "count"},
    {"videod", "flag", CONFIG_BOOL, offsetof(struct fz_config, flag), 0, 0, 0, "flag"},
    {"videod", "path", CONFIG_PATH, offsetof(struct fz_config, path), CONFIG_PATH_MAX, 0, 0,
     "path"},
    CONFIG_KEYS_END,
};

static int fd = -1;
static char path[64];

static void check(const struct fz_config *c)
{
	if (!memchr(c->name, '\0', sizeof(c->name)) || !memchr(c->path, '\0', sizeof(c->path)) ||
	    !memchr(c->common.bind, '\0', sizeof(c->common.bind)) ||
	    !memchr(c->common.state_dir, '\0', sizeof(c->common.state_dir)))
		abort();
	if ((c->count != 0 && (c->count < 2 || c->count > 1000)) ||
	    (c->flag != 0 && c->flag != 1) ||
	    (c->common.token_ttl != 0 && c->common.token_ttl < 60))
		abort();
}

static void overrides(const uint8_t *data, size_t size, struct fz_config *c)
{
	char line[2048], err[512];
	size_t pos = 0;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos;

		if (n < sizeof(line)) {
			memcpy(line, data + pos, n);
			line[n] = '\0';
			config_set(line, keys, c, err, sizeof(err));
			check(c);
		}
		pos += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_config c;
	char err[512];

	if (fd < 0) {
		fd = memfd_create("nexus.conf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	if (config_load(path, 0, keys, &c, err, sizeof(err)) < 0 && !err[0])
		abort(); /* every error says why */
	check(&c);
	memset(&c, 0, sizeof(c));
	overrides(data, size, &c);
	return 0;
}
