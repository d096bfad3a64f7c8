/* cli: the command line under every subcommand: global flags, each
 * command's own options (getopt_long with the global ones mixed in),
 * usage lines from the command table nexus.c registers, and the small
 * operand parsers. */
#include "client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const struct command *commands;
static size_t n_commands;

void cli_commands(const struct command *table, size_t n)
{
	commands = table;
	n_commands = n;
}

const struct command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < n_commands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_print_usage(FILE *f)
{
	fprintf(f, "usage: nexus [-s SERVER] [-P PORT] [-u USER] [--json] [-q] COMMAND [ARGS]\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < n_commands; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(
	    f,
	    "\nGlobal options (before or after the command):\n"
	    "  -s, --server SERVER    a saved server's name, HOST or HOST:PORT (NEXUS_SERVER,\n"
	    "                         config 'server'; the saved default, else localhost)\n"
	    "  -P, --chat-port PORT   chatd port (NEXUS_CHAT_PORT, config 'chat_port'; " PROTO_STR(
	        PROTO_PORT_CHAT) ")\n"
	                         "  -u, --user NAME        user name (NEXUS_USER, config 'user')\n"
	                         "      --json             one JSON object per line\n"
	                         "  -q, --quiet            no confirmations\n"
	                         "  -h, --help             help (nexus COMMAND -h: help for a "
	                         "command)\n"
	                         "\nSee nexus(1) for exit statuses and files.\n");
}

static void command_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: nexus %s%s%s\n  %s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
	        cmd->help);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	const struct command *c = cli_command_find(cmd);
	va_list ap;

	fputs("nexus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		command_usage(stderr, c);
	return EXIT_USAGE;
}

/* getopt_long options: the global ones followed by the command's own. */
static struct option *cli_options(const struct option *own, size_t *ret_n)
{
	static const struct option global[] = {SETTINGS_LONGOPTS};
	size_t ng = sizeof(global) / sizeof(global[0]), no = 0;
	struct option *all;

	while (own && own[no].name)
		no++;
	all = xcalloc(ng + no + 1, sizeof(*all));
	memcpy(all, global, sizeof(global));
	if (no)
		memcpy(all + ng, own, no * sizeof(*own));
	*ret_n = ng + no;
	return all;
}

/* The option getopt_long complained about: "--long" as written, or "-x". */
static const char *cli_bad_opt(int argc, char **argv, char buf[3])
{
	const char *last = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (strncmp(last, "--", 2) == 0 || !optopt)
		return last;
	buf[0] = '-';
	buf[1] = (char)optopt;
	buf[2] = '\0';
	return buf;
}

int cli_parse(struct settings *s, int argc, char **argv, const char *shortopts,
              const struct option *longopts, int (*optfn)(int key, const char *arg, void *ctx),
              void *ctx, int *ret_first)
{
	char optstring[64], bad[3];
	struct option *all;
	size_t n;
	int key, r = 0;

	snprintf(optstring, sizeof(optstring), ":%s%s", SETTINGS_SHORTOPTS,
	         shortopts ? shortopts : "");
	all = cli_options(longopts, &n);
	optind = 0; /* full reset: each command parses from its own argv */
	while (r == 0 && (key = getopt_long(argc, argv, optstring, all, NULL)) != -1) {
		if (key == 'h') {
			command_usage(stdout, cli_command_find(argv[0]));
			r = -1;
		} else if (key == '?' || key == ':') {
			r = cli_usage(argv[0],
			              key == '?' ? "unknown option '%s'"
			                         : "option '%s' needs a value",
			              cli_bad_opt(argc, argv, bad));
		} else if (!settings_global_opt(s, key, optarg)) {
			r = optfn ? optfn(key, optarg, ctx) : EXIT_USAGE;
			if (r == EXIT_USAGE && optfn)
				command_usage(stderr, cli_command_find(argv[0]));
		}
	}
	free(all);
	if (r)
		return r;
	*ret_first = optind;
	return settings_resolve(s);
}

int cli_u64(const char *arg, uint64_t max, uint64_t *ret)
{
	char *end;
	uint64_t v;

	if (!arg || arg[0] < '0' || arg[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cli_join(int argc, char **argv, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (used + n + (i > 0) + 1 > outlen)
			return -EMSGSIZE;
		if (i > 0)
			out[used++] = ' ';
		memcpy(out + used, argv[i], n + 1);
		used += n;
	}
	return 0;
}

int cli_room(const char *cmd, const char *arg, char out[PROTO_ROOM_MAX + 1])
{
	size_t n = strlen(arg);

	if (n == 0 || n > PROTO_ROOM_MAX)
		return cli_usage(cmd, "room name must be 1 to %d bytes", PROTO_ROOM_MAX);
	memcpy(out, arg, n + 1);
	return 0;
}

int cli_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		cli_print_usage(stdout);
		return 0;
	}
	cmd = cli_command_find(argv[1]);
	if (!cmd) {
		out_err("unknown command '%s'; run: nexus help", argv[1]);
		return EXIT_USAGE;
	}
	command_usage(stdout, cmd);
	return 0;
}

/* Global flags before the command; returns the index of the command word,
 * argc when there is none, or -1 - status to stop. */
int cli_global(struct settings *s, int argc, char **argv)
{
	static const struct option global[] = {SETTINGS_LONGOPTS, {0}};
	char bad[3];
	int key;

	optind = 0;
	while ((key = getopt_long(argc, argv, "+:" SETTINGS_SHORTOPTS, global, NULL)) != -1) {
		if (key == 'h') {
			cli_print_usage(stdout);
			return -1 - EXIT_OK;
		}
		if (key == '?' || key == ':') {
			out_err("%s option '%s'", key == '?' ? "unknown" : "missing value for",
			        cli_bad_opt(argc, argv, bad));
			cli_print_usage(stderr);
			return -1 - EXIT_USAGE;
		}
		settings_global_opt(s, key, optarg);
	}
	return optind;
}
