/* libFuzzer target for nexus:// links: the argument of `nexus pull` and
 * /get (file_parse_link in client-cli/cmd_file.c, which may point the
 * settings at the link's server through the saved servers), and the file
 * notice a server sends into a room, from which the full-screen client
 * takes a link (tui_notice_parse). Every line of the input is tried as
 * both. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client-cli/client.h"
#include "../../client-cli/cmd_file.h"
#include "../../client-cli/tui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char config_dir[64];

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/servers", config_dir);
	unlink(path);
	rmdir(config_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(config_dir, sizeof(config_dir), "/tmp/fuzz_link.XXXXXX");
	if (!mkdtemp(config_dir))
		abort();
	/* one saved server, so a link to it takes its entry */
	snprintf(path, sizeof(path), "%s/servers", config_dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "office 10.0.0.5 5555 - alice\n");
	fclose(f);
	atexit(cleanup);
	return 0;
}

static void check_link(const char *arg)
{
	struct settings s;
	char out[FILE_LINK_LEN + 1];

	settings_init(&s);
	s.quiet = 1;
	snprintf(s.config_dir, sizeof(s.config_dir), "%s", config_dir);
	memset(out, 0, sizeof(out));
	if (file_parse_link(&s, "pull", arg, out) == 0) {
		if (strlen(out) != FILE_LINK_LEN || !s.server[0] || s.file_port == 0 ||
		    !memchr(s.server, '\0', sizeof(s.server)) ||
		    !memchr(s.host_port, '\0', sizeof(s.host_port)))
			abort();
	}
}

static void check_notice(const char *text)
{
	char name[256], sz[64], link[512];

	if (tui_notice_parse(text, name, sizeof(name), sz, sizeof(sz), link, sizeof(link)) &&
	    (strlen(name) >= sizeof(name) || strncmp(link, "nexus://", 8) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos;
		char *line = malloc(n + 1);

		if (!line)
			abort();
		memcpy(line, data + pos, n);
		line[n] = '\0';
		check_link(line);
		check_notice(line);
		free(line);
		pos += n + 1;
	}
	return 0;
}
