/* nexus: the Shadow Nexus client. main and the subcommand table; each
 * subcommand lives in a cmd_*.c file beside this one, the parsing of
 * arguments and usage in cli.c. */
#include "client.h"

#include <signal.h>
#include <stdlib.h>

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
    {"call", "ROOM [--open] [--once] [--link-only] [--watch-only] [--video-port N]",
     "print a link that joins the room's video call, then show who is in it", cmd_call},
    {"trust", "[--yes]", "show the server certificate and trust it", cmd_trust},
    {"servers", "[list | default NAME | rename NAME NEW | forget NAME]",
     "list the saved servers, or pick the default", cmd_servers},
    {"ports", "[HOST]", "check the Shadow Nexus ports here and on a server", cmd_ports},
    {"help", "[COMMAND]", "show this help", cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(struct settings *s, int argc, char **argv)
{
	(void)s;
	return cli_help(argc, argv);
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
	cli_commands(commands, N_COMMANDS);
	i = cli_global(&s, argc, argv);
	if (i < 0)
		return -1 - i;
	if (i >= argc)
		return tui_main(&s, argc - i, argv + i); /* the full-screen client */
	cmd = cli_command_find(argv[i]);
	if (!cmd) {
		out_err("unknown command '%s'", argv[i]);
		cli_print_usage(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(&s, argc - i, argv + i);
}
