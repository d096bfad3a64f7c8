/* tui_netcmd: what the full-screen client's input line does: a message
 * for the room shown, or a /command (parsed in tui_cmd.c) turned into
 * requests through tui_net.c's request table, or into children (voice,
 * call links, transfers). */
#include "client.h"
#include "tui.h"
#include "tui_net.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void tui_say(struct tui *t, const char *room, const char *text, uint64_t ref)
{
	size_t n = strlen(text);
	struct msg *m;

	if (!room) {
		tui_note(t, TUI_ERROR, "no room open: /join ROOM or /create ROOM first");
		return;
	}
	if (n == 0)
		return;
	if (n > client_max_text(t->c)) {
		tui_note(t, TUI_ERROR, "message too long (%zu bytes; the server takes %u)", n,
		         client_max_text(t->c));
		return;
	}
	if (!proto_utf8_valid(text, n, 1)) {
		tui_note(t, TUI_ERROR, "the message has control characters or is not UTF-8");
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return;
	proto_msg_init(m, MSG_SAY);
	snprintf(m->room, sizeof(m->room), "%s", room);
	snprintf(m->text, sizeof(m->text), "%s", text);
	m->ref = ref;
	tui_send(t, m, REQ_SAY, room, NULL);
	free(m);
	t->typing_sent_ms = 0;
}

/* The newest message in r by me (mine) or by someone else. */
static uint64_t tui_last_id(struct tui *t, struct tui_room *r, int mine)
{
	for (size_t i = r ? r->count : 0; i-- > 0;) {
		const struct tui_msg *m = tui_room_at(r, i);
		if (m->kind == TUI_CHAT && !(m->flags & MF_DELETED) &&
		    (strcmp(m->user, t->st.me) == 0) == mine)
			return m->id;
	}
	return 0;
}

static void tui_cmd_simple(struct tui *t, struct msg *m, const char *room, const char *note)
{
	struct tui_req *q;

	if (tui_send(t, m, REQ_SIMPLE, room, &q) == 0)
		snprintf(q->note, sizeof(q->note), "%s", note);
}

static void tui_cmd_help_notes(struct tui *t)
{
	static const char *const keys[] = {
	    "keys: Enter send, Tab complete, Up/Down input history, PageUp/PageDown scroll",
	    "  Alt-1..9 or Ctrl-N/Ctrl-P switch rooms, Alt-A or Ctrl-X next room with unread",
	    "  Ctrl-A/E start/end, Alt-B/F word left/right, Ctrl-W/U/K/Y cut and paste",
	    "  Alt-M or F2 members, Ctrl-L redraw, Ctrl-C twice or /quit to leave",
	    "  F4 or Alt-V mute or unmute the voice (/talk); the member list marks who is in",
	    "  the voice room and who talks, and who is in the room's video call",
	};
	const char *h;

	for (size_t i = 0; (h = tui_cmd_help(i)); i++)
		tui_note(t, TUI_INFO, "%s", h);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		tui_note(t, TUI_INFO, "%s", keys[i]);
}

static void tui_cmd_room_ops(struct tui *t, const struct tui_cmd *cmd, struct tui_room *r)
{
	char room[PROTO_ROOM_MAX + 1], note[256];
	struct tui_req *q;
	struct msg m;

	if (cmd->room[0])
		tui_room_name(t, cmd->room, room);
	else
		snprintf(room, sizeof(room), "%s", r ? r->name : "");
	if (!room[0] && cmd->id != TUI_CMD_CREATE) {
		tui_note(t, TUI_ERROR, "no room open: name one");
		return;
	}
	switch (cmd->id) {
	case TUI_CMD_LEAVE:
		proto_msg_init(&m, MSG_LEAVE);
		snprintf(m.room, sizeof(m.room), "%s", room);
		tui_send(t, &m, REQ_LEAVE, room, NULL);
		break;
	case TUI_CMD_CREATE:
		proto_msg_init(&m, MSG_ROOM_CREATE);
		snprintf(m.room, sizeof(m.room), "%s", room);
		snprintf(m.text, sizeof(m.text), "%s", cmd->text ? cmd->text : "");
		m.flags = cmd->flag ? MF_PRIVATE : 0;
		tui_send(t, &m, REQ_CREATE, room, NULL);
		break;
	case TUI_CMD_INVITE:
		proto_msg_init(&m, MSG_INVITE);
		snprintf(m.room, sizeof(m.room), "%s", room);
		snprintf(m.user, sizeof(m.user), "%s", cmd->user);
		snprintf(note, sizeof(note), "invited %s to %s", cmd->user, room);
		tui_cmd_simple(t, &m, room, note);
		break;
	case TUI_CMD_WHO:
		proto_msg_init(&m, MSG_MEMBERS);
		snprintf(m.room, sizeof(m.room), "%s", room);
		tui_note(t, TUI_INFO, "members of %s:", room);
		tui_send(t, &m, REQ_WHO, room, &q);
		break;
	default:
		break;
	}
}

static void tui_cmd_msg_ops(struct tui *t, const struct tui_cmd *cmd, struct tui_room *r)
{
	struct msg *m = calloc(1, sizeof(*m));
	uint64_t id;
	char note[64];

	if (!m)
		return;
	switch (cmd->id) {
	case TUI_CMD_REPLY:
		id = cmd->msg_id ? cmd->msg_id : tui_last_id(t, r, 0);
		if (!id)
			tui_note(t, TUI_ERROR, "/reply: no message to answer here; give its id");
		else
			tui_say(t, r ? r->name : NULL, cmd->text, id);
		break;
	case TUI_CMD_EDIT:
	case TUI_CMD_DELETE:
		id = cmd->msg_id ? cmd->msg_id : tui_last_id(t, r, 1);
		if (!id) {
			tui_note(t, TUI_ERROR, "/%s: you have no message here; give its id",
			         cmd->id == TUI_CMD_EDIT ? "edit" : "delete");
			break;
		}
		proto_msg_init(m, cmd->id == TUI_CMD_EDIT ? MSG_EDIT : MSG_DELETE);
		m->id = id;
		if (cmd->id == TUI_CMD_EDIT)
			snprintf(m->text, sizeof(m->text), "%s", cmd->text);
		snprintf(note, sizeof(note), "#%" PRIu64, id);
		tui_cmd_simple(t, m, note, "");
		break;
	case TUI_CMD_SEARCH:
		if (!r)
			break;
		proto_msg_init(m, MSG_HISTORY);
		snprintf(m->room, sizeof(m->room), "%s", r->name);
		snprintf(m->text, sizeof(m->text), "%s", cmd->text);
		m->count = TUI_SEARCH_MAX;
		tui_note(t, TUI_INFO, "search %s for: %s", r->label, cmd->text);
		tui_send(t, m, REQ_SEARCH, r->name, NULL);
		break;
	case TUI_CMD_TOPIC:
		if (!r)
			break;
		if (!cmd->text[0]) {
			tui_note(t, TUI_INFO, "topic of %s: %s", r->label,
			         r->topic[0] ? r->topic : "(none)");
			break;
		}
		proto_msg_init(m, MSG_TOPIC);
		snprintf(m->room, sizeof(m->room), "%s", r->name);
		snprintf(m->text, sizeof(m->text), "%s", cmd->text);
		tui_cmd_simple(t, m, r->name, "");
		break;
	default:
		break;
	}
	free(m);
}

/* /talk [ROOM]: the voice of a room we are a member of. */
static void tui_talk(struct tui *t, const struct tui_cmd *cmd, struct tui_room *r)
{
	char room[PROTO_ROOM_MAX + 1];

	if (cmd->room[0]) {
		tui_room_name(t, cmd->room, room);
		r = tui_room_find(&t->st, room);
	}
	if (!r || !r->joined) {
		tui_note(t, TUI_ERROR, "/talk: join %s first",
		         r              ? r->label
		         : cmd->room[0] ? cmd->room
		                        : "a room");
		return;
	}
	tui_voice_start(t, r->name, r->label);
}

static void tui_cmd_run(struct tui *t, const struct tui_cmd *cmd)
{
	struct tui_room *r = tui_cur(t);
	char buf[PROTO_TEXT_MAX + 8], room[PROTO_ROOM_MAX + 1];
	struct tui_req *q;
	struct msg m;

	switch (cmd->id) {
	case TUI_CMD_NONE:
		tui_say(t, r && r->joined ? r->name : NULL, cmd->text, 0);
		if (r && !r->joined)
			tui_note(t, TUI_ERROR, "not a member of %s: /join %s", r->label, r->label);
		break;
	case TUI_CMD_JOIN:
		tui_net_open(t, cmd->room);
		break;
	case TUI_CMD_MSG:
		snprintf(buf, sizeof(buf), "@%s", cmd->user);
		tui_room_name(t, buf, room);
		tui_net_open(t, room);
		if (cmd->text[0])
			tui_say(t, room, cmd->text, 0);
		break;
	case TUI_CMD_ME:
		snprintf(buf, sizeof(buf), "/me %s", cmd->text);
		tui_say(t, r ? r->name : NULL, buf, 0);
		break;
	case TUI_CMD_AWAY:
	case TUI_CMD_BACK:
		proto_msg_init(&m, MSG_PRESENCE);
		m.count = cmd->id == TUI_CMD_AWAY ? PRESENCE_AWAY : PRESENCE_ONLINE;
		if (tui_send(t, &m, REQ_PRESENCE, NULL, &q) == 0)
			q->flag = cmd->id == TUI_CMD_AWAY;
		break;
	case TUI_CMD_CALL:
		if (r)
			tui_call_link(t, r->name, r->label);
		break;
	case TUI_CMD_TRUST:
		tui_note(t, TUI_INFO, "%s presents certificate %s, pinned in %s", t->s->host_port,
		         client_fingerprint(t->c), t->s->known_path);
		break;
	case TUI_CMD_HELP:
		tui_cmd_help_notes(t);
		break;
	case TUI_CMD_QUIT:
		client_done(t->c, 0);
		break;
	case TUI_CMD_BELL:
		t->bell = cmd->flag < 0 ? !t->bell : cmd->flag;
		tui_note(t, TUI_INFO, "bell on mentions and direct messages: %s",
		         t->bell ? "on" : "off");
		break;
	case TUI_CMD_IDS:
		t->show_ids = cmd->flag < 0 ? !t->show_ids : cmd->flag;
		break;
	case TUI_CMD_SEND:
		tui_xfer_send(t, r, cmd->text);
		break;
	case TUI_CMD_GET:
		tui_xfer_get(t, r, cmd->text);
		break;
	case TUI_CMD_TALK:
		tui_talk(t, cmd, r);
		break;
	case TUI_CMD_HANGUP:
		tui_voice_stop(t, 0);
		break;
	case TUI_CMD_MUTE:
		tui_voice_mute(t);
		break;
	case TUI_CMD_LIST:
		tui_list_start(t, cmd->text);
		break;
	case TUI_CMD_LEAVE:
	case TUI_CMD_CREATE:
	case TUI_CMD_INVITE:
	case TUI_CMD_WHO:
		tui_cmd_room_ops(t, cmd, r);
		break;
	default:
		tui_cmd_msg_ops(t, cmd, r);
	}
}

void tui_net_line(struct tui *t, const char *line)
{
	struct tui_cmd cmd;
	char err[512];

	if (tui_cmd_parse(line, &cmd, err, sizeof(err)) < 0) {
		tui_note(t, TUI_ERROR, "%s", err);
		return;
	}
	tui_cmd_run(t, &cmd);
	tui_dirty(t);
}
