/* nexus: the Shadow Nexus client. main, global flags, the subcommand table
 * and usage. Each subcommand lives in a cmd_*.c file beside this one. */
#include "client.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tui.h"

static int cmd_help(struct settings *s, int argc, char **argv);

static const struct command commands[] = {
    {"register", "[USER] [--password-stdin]", "create an account and log in", cmd_register},
    {"login", "[USER] [--password-stdin]", "log in and save the login for this server", cmd_login},
    {"logout", "", "forget the saved login for this server", cmd_logout},
    {"whoami", "", "show who the saved login is for", cmd_whoami},
    {"rooms", "[--all]", "list your rooms; --all: every room you may see or join", cmd_rooms},
    {"create", "ROOM [--private] [--topic TEXT]", "create a room and join it", cmd_create},
    {"join", "ROOM", "become a member of a room", cmd_join},
    {"leave", "ROOM", "stop being a member of a room", cmd_leave},
    {"invite", "ROOM USER", "let USER join a room (private rooms)", cmd_invite},
    {"topic", "ROOM TEXT...", "set the topic of a room", cmd_topic},
    {"members", "ROOM", "list the members of a room and their presence", cmd_members},
    {"say", "ROOM [TEXT...] [--reply ID]",
     "send a message (no TEXT: one message per line of stdin); @USER for a DM", cmd_say},
    {"edit", "ID TEXT...", "change the text of your message", cmd_edit},
    {"delete", "ID", "delete your message", cmd_delete},
    {"tail", "ROOM [-n N] [--since ID]", "print the last N messages, then follow the room",
     cmd_tail},
    {"history", "ROOM [--since ID] [--before ID] [--search WORDS] [-n N]", "print past messages",
     cmd_history},
    {"push", "FILE... [--room R | --to USER] [--name NAME]",
     "send files to the server (- for stdin); prints a link per file", cmd_push},
    {"pull", "LINK [-o PATH]", "fetch a file by its link (resumes PATH.part)", cmd_pull},
    {"files", "", "list your files and those shared with you", cmd_files},
    {"rm", "ID|LINK", "remove one of your files", cmd_rm},
    {"share", "LINK --room R | --to USER", "share a file and post its link", cmd_share},
    {"unshare", "LINK", "revoke a link you shared", cmd_unshare},
    {"talk", "ROOM [--in FILE|-|pulse[:DEV]] [--out FILE|-|pulse[:DEV]] [--mute] [--ptt] [--vad]",
     "join the voice room of ROOM: microphone and speaker, or files and pipes", cmd_talk},
    {"call", "ROOM [--open] [--once] [--watch-only] [--video-port N]",
     "print a link that joins the room's video call, then show who is in it", cmd_call},
    {"trust", "[--yes]", "show the server certificate and trust it", cmd_trust},
    {"servers", "[list | default NAME | rename NAME NEW | forget NAME]",
     "list the saved servers, or pick the default", cmd_servers},
    {"ports", "[HOST]", "check the Shadow Nexus ports here and on a server", cmd_ports},
    {"help", "[COMMAND]", "show this help", cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nexus [-s SERVER] [-P PORT] [-u USER] [--json] [-q] COMMAND [ARGS]\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
	        "\nGlobal options (before or after the command):\n"
	        "  -s, --server SERVER    a saved server's name, HOST or HOST:PORT (NEXUS_SERVER,\n"
	        "                         config 'server'; the saved default, else localhost)\n"
	        "  -P, --chat-port PORT   chatd port (NEXUS_CHAT_PORT, config 'chat_port'; 5555)\n"
	        "  -u, --user NAME        user name (NEXUS_USER, config 'user')\n"
	        "      --json             one JSON object per line\n"
	        "  -q, --quiet            no confirmations\n"
	        "  -h, --help             help (nexus COMMAND -h: help for a command)\n"
	        "\nSee nexus(1) for exit statuses and files.\n");
}

static void command_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: nexus %s%s%s\n  %s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
	        cmd->help);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	const struct command *c = command_find(cmd);
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
			command_usage(stdout, command_find(argv[0]));
			r = -1;
		} else if (key == '?' || key == ':') {
			r = cli_usage(argv[0],
			              key == '?' ? "unknown option '%s'"
			                         : "option '%s' needs a value",
			              cli_bad_opt(argc, argv, bad));
		} else if (!settings_global_opt(s, key, optarg)) {
			r = optfn ? optfn(key, optarg, ctx) : EXIT_USAGE;
			if (r == EXIT_USAGE && optfn)
				command_usage(stderr, command_find(argv[0]));
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

static int cmd_help(struct settings *s, int argc, char **argv)
{
	const struct command *cmd;

	(void)s;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	cmd = command_find(argv[1]);
	if (!cmd) {
		out_err("unknown command '%s'; run: nexus help", argv[1]);
		return EXIT_USAGE;
	}
	command_usage(stdout, cmd);
	return 0;
}

/* Global flags before the command; returns the index of the command word,
 * argc when there is none, or -1 - status to stop. */
static int parse_global(struct settings *s, int argc, char **argv)
{
	static const struct option global[] = {SETTINGS_LONGOPTS, {0}};
	char bad[3];
	int key;

	optind = 0;
	while ((key = getopt_long(argc, argv, "+:" SETTINGS_SHORTOPTS, global, NULL)) != -1) {
		if (key == 'h') {
			usage(stdout);
			return -1 - EXIT_OK;
		}
		if (key == '?' || key == ':') {
			out_err("%s option '%s'", key == '?' ? "unknown" : "missing value for",
			        cli_bad_opt(argc, argv, bad));
			usage(stderr);
			return -1 - EXIT_USAGE;
		}
		settings_global_opt(s, key, optarg);
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct settings s;
	const struct command *cmd;
	int i;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("nexus", 1, getenv("NEXUS_DEBUG") ? 1 : 0);
	settings_init(&s);
	i = parse_global(&s, argc, argv);
	if (i < 0)
		return -1 - i;
	if (i >= argc)
		return tui_main(&s, argc - i, argv + i); /* the full-screen client */
	cmd = command_find(argv[i]);
	if (!cmd) {
		out_err("unknown command '%s'", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(&s, argc - i, argv + i);
}
