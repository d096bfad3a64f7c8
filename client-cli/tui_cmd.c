/* tui_cmd: the slash commands of the full-screen client, parsed into a
 * struct tui_cmd with a clear sentence for each bad argument. Running them
 * is tui_net.c's job. Pure C (and auth_name_valid). */
#include "tui.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

struct tui_cmd_def {
	const char *name;
	enum tui_cmd_id id;
	const char *args;
	const char *help;
};

static const struct tui_cmd_def tui_cmds[] = {
    {"list", TUI_CMD_LIST, "[WORD]", "the rooms you may join (names or topics with WORD)"},
    {"join", TUI_CMD_JOIN, "ROOM", "become a member of ROOM and open it"},
    {"leave", TUI_CMD_LEAVE, "[ROOM]", "leave ROOM (the current one)"},
    {"create", TUI_CMD_CREATE, "ROOM [--private] [TOPIC]", "create a room and open it"},
    {"invite", TUI_CMD_INVITE, "USER [ROOM]", "let USER join ROOM (the current one)"},
    {"msg", TUI_CMD_MSG, "USER [TEXT]", "open a direct conversation, send TEXT"},
    {"me", TUI_CMD_ME, "TEXT", "say what you are doing"},
    {"reply", TUI_CMD_REPLY, "[ID] TEXT", "answer message ID (the last one from others)"},
    {"edit", TUI_CMD_EDIT, "[ID] TEXT", "change your message ID (your last one)"},
    {"delete", TUI_CMD_DELETE, "[ID]", "delete your message ID (your last one)"},
    {"topic", TUI_CMD_TOPIC, "[TEXT]", "show or set the topic of this room"},
    {"search", TUI_CMD_SEARCH, "WORDS", "find messages of this room"},
    {"away", TUI_CMD_AWAY, "", "show others that you are away"},
    {"back", TUI_CMD_BACK, "", "show others that you are back"},
    {"who", TUI_CMD_WHO, "", "list the members of this room and their presence"},
    {"call", TUI_CMD_CALL, "", "a one-time link that joins this room's video call"},
    {"trust", TUI_CMD_TRUST, "", "show the server's certificate fingerprint and pin"},
    {"help", TUI_CMD_HELP, "[COMMAND]", "commands and keys"},
    {"quit", TUI_CMD_QUIT, "", "leave the client"},
    {"bell", TUI_CMD_BELL, "[on|off]", "ring the bell on mentions and direct messages"},
    {"ids", TUI_CMD_IDS, "[on|off]", "show message ids (for /reply, /edit, /delete)"},
    {"send", TUI_CMD_SEND, "PATH", "push a file and share it in this room"},
    {"get", TUI_CMD_GET, "[ID|LINK] [PATH]", "pull a shared file (the latest notice's)"},
    {"talk", TUI_CMD_TALK, "[ROOM]", "join the voice of ROOM (this one); F4 mutes"},
    {"hangup", TUI_CMD_HANGUP, "", "leave the voice room"},
    {"mute", TUI_CMD_MUTE, "", "mute or unmute your microphone (F4, Alt-V)"},
};

#define TUI_NCMDS (sizeof(tui_cmds) / sizeof(tui_cmds[0]))

const char *const *tui_cmd_names(void)
{
	static const char *names[TUI_NCMDS + 1];
	static char buf[TUI_NCMDS][16];

	if (!names[0])
		for (size_t i = 0; i < TUI_NCMDS; i++) {
			snprintf(buf[i], sizeof(buf[i]), "/%s", tui_cmds[i].name);
			names[i] = buf[i];
		}
	return names;
}

const char *tui_cmd_help(size_t i)
{
	static char line[160];

	if (i >= TUI_NCMDS)
		return NULL;
	snprintf(line, sizeof(line), "/%s%s%s  %s", tui_cmds[i].name,
	         tui_cmds[i].args[0] ? " " : "", tui_cmds[i].args, tui_cmds[i].help);
	return line;
}

/* The next space-separated word of *p into out; 0, or -1 when there is
 * none or it does not fit. */
static int tui_word(const char **p, char *out, size_t outlen)
{
	const char *s = *p, *e;

	while (*s == ' ')
		s++;
	e = s;
	while (*e && *e != ' ')
		e++;
	if (e == s || (size_t)(e - s) >= outlen) {
		*p = e;
		return e == s ? -1 : -2;
	}
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	while (*e == ' ')
		e++;
	*p = e;
	return 0;
}

static const char *tui_rest(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

static int tui_err(char *err, size_t errlen, const struct tui_cmd_def *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int tui_err(char *err, size_t errlen, const struct tui_cmd_def *d, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "/%s: %s (usage: /%s%s%s)", d->name, what, d->name,
	         d->args[0] ? " " : "", d->args);
	return -1;
}

static int tui_room_arg(const char **p, struct tui_cmd *cmd, const struct tui_cmd_def *d,
                        int required, char *err, size_t errlen)
{
	int r = tui_word(p, cmd->room, sizeof(cmd->room));

	if (r == -2)
		return tui_err(err, errlen, d, "room name too long (at most %s bytes)", "66");
	if (r == -1 && required)
		return tui_err(err, errlen, d, "missing ROOM%s", "");
	if (r == -1)
		cmd->room[0] = '\0';
	return 0;
}

static int tui_user_arg(const char **p, struct tui_cmd *cmd, const struct tui_cmd_def *d, char *err,
                        size_t errlen)
{
	char word[128];
	const char *name = word;

	if (tui_word(p, word, sizeof(word)) == -1)
		return tui_err(err, errlen, d, "missing USER%s", "");
	if (word[0] == '@')
		name++;
	if (!auth_name_valid(name))
		return tui_err(err, errlen, d,
		               "'%.40s' is not a user name (1-32 of A-Z a-z 0-9 _ -)", word);
	memcpy(cmd->user, name, strlen(name) + 1); /* auth_name_valid: at most 32 bytes */
	return 0;
}

/* An optional message id: "123" or "#123". */
static int tui_id_arg(const char **p, struct tui_cmd *cmd)
{
	const char *s = tui_rest(*p), *q;
	char *end;
	unsigned long long v;

	q = *s == '#' ? s + 1 : s;
	if (*q < '0' || *q > '9')
		return 0;
	errno = 0;
	v = strtoull(q, &end, 10);
	if (errno || (*end && *end != ' ') || v == 0)
		return -1;
	cmd->msg_id = v;
	*p = tui_rest(end);
	return 0;
}

static int tui_onoff(const char *p, struct tui_cmd *cmd, const struct tui_cmd_def *d, char *err,
                     size_t errlen)
{
	p = tui_rest(p);
	if (!*p)
		cmd->flag = -1; /* toggle */
	else if (strcmp(p, "on") == 0)
		cmd->flag = 1;
	else if (strcmp(p, "off") == 0)
		cmd->flag = 0;
	else
		return tui_err(err, errlen, d, "'%.40s': on or off expected", p);
	return 0;
}

static int tui_no_args(const char *p, const struct tui_cmd_def *d, char *err, size_t errlen)
{
	p = tui_rest(p);
	if (*p)
		return tui_err(err, errlen, d, "unexpected argument '%.40s'", p);
	return 0;
}

static int tui_cmd_args(const struct tui_cmd_def *d, const char *p, struct tui_cmd *cmd, char *err,
                        size_t errlen)
{
	switch (d->id) {
	case TUI_CMD_JOIN:
		if (tui_room_arg(&p, cmd, d, 1, err, errlen))
			return -1;
		return tui_no_args(p, d, err, errlen);
	case TUI_CMD_LEAVE:
	case TUI_CMD_WHO:
	case TUI_CMD_TALK:
		if (tui_room_arg(&p, cmd, d, 0, err, errlen))
			return -1;
		return tui_no_args(p, d, err, errlen);
	case TUI_CMD_CREATE:
		if (tui_room_arg(&p, cmd, d, 1, err, errlen))
			return -1;
		if (strncmp(p, "--private", 9) == 0 && (p[9] == ' ' || !p[9])) {
			cmd->flag = 1;
			p = tui_rest(p + 9);
		}
		cmd->text = p;
		return 0;
	case TUI_CMD_INVITE:
		if (tui_user_arg(&p, cmd, d, err, errlen) ||
		    tui_room_arg(&p, cmd, d, 0, err, errlen))
			return -1;
		return tui_no_args(p, d, err, errlen);
	case TUI_CMD_MSG:
		if (tui_user_arg(&p, cmd, d, err, errlen))
			return -1;
		cmd->text = tui_rest(p);
		return 0;
	case TUI_CMD_ME:
	case TUI_CMD_SEARCH:
		cmd->text = tui_rest(p);
		if (!*cmd->text)
			return tui_err(err, errlen, d, "missing %s",
			               d->id == TUI_CMD_ME ? "TEXT" : "WORDS");
		return 0;
	case TUI_CMD_REPLY:
	case TUI_CMD_EDIT:
		if (tui_id_arg(&p, cmd) < 0)
			return tui_err(err, errlen, d, "invalid message id%s", "");
		cmd->text = tui_rest(p);
		if (!*cmd->text)
			return tui_err(err, errlen, d, "missing TEXT%s", "");
		return 0;
	case TUI_CMD_DELETE:
		if (tui_id_arg(&p, cmd) < 0)
			return tui_err(err, errlen, d, "invalid message id%s", "");
		return tui_no_args(p, d, err, errlen);
	case TUI_CMD_TOPIC:
	case TUI_CMD_HELP:
	case TUI_CMD_LIST:
	case TUI_CMD_AWAY:
		cmd->text = tui_rest(p);
		return 0;
	case TUI_CMD_BELL:
	case TUI_CMD_IDS:
		return tui_onoff(p, cmd, d, err, errlen);
	case TUI_CMD_SEND:
		cmd->text = tui_rest(p);
		if (!cmd->text[0])
			return tui_err(err, errlen, d, "missing PATH%s", "");
		return 0;
	case TUI_CMD_GET:
		cmd->text = tui_rest(p);
		return 0;
	default:
		return tui_no_args(p, d, err, errlen);
	}
}

int tui_cmd_parse(const char *line, struct tui_cmd *cmd, char *err, size_t errlen)
{
	char name[32];
	const char *p;
	size_t n;

	memset(cmd, 0, sizeof(*cmd));
	cmd->text = line;
	if (line[0] != '/')
		return 0;
	if (line[1] == '/') {
		cmd->text = line + 1; /* "//etc" says "/etc" */
		return 0;
	}
	p = line + 1;
	n = strcspn(p, " ");
	if (n == 0 || n >= sizeof(name)) {
		snprintf(err, errlen, "unknown command '%.40s'; /help lists them", line);
		return -1;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	for (size_t i = 0; i < TUI_NCMDS; i++) {
		if (strcmp(tui_cmds[i].name, name) != 0)
			continue;
		cmd->id = tui_cmds[i].id;
		return tui_cmd_args(&tui_cmds[i], tui_rest(p + n), cmd, err, errlen);
	}
	snprintf(err, errlen, "unknown command '/%s'; /help lists them", name);
	return -1;
}
