/* session: chatd's part of a connected client. common/front.c takes the
 * connection, HELLO (a token is optional: without one the session is
 * anonymous and may only register or log in) and PING; here are chatd's
 * token check, WELCOME fields, the user a session is attached to, and the
 * dispatch, every request a short case calling x_handle_*. */
#include "chatd.h"
#include "conn.h"

#include <stddef.h>

#define SESSION_TYPING_RATE 1.0 /* TYPING relayed per second per session */
#define SESSION_TYPING_BURST 3.0

static void session_limits(struct conn_limits *lim, unsigned *ret_max_sessions)
{
	lim->max_frame = chatd.cfg.max_frame;
	lim->max_outq = chatd.cfg.max_outq;
	lim->idle_secs = chatd.cfg.idle_timeout;
	*ret_max_sessions = chatd.cfg.max_sessions;
}

static void session_accepted(struct front_session *fs, int fd)
{
	(void)fd;
	ratelimit_init(&FRONT_OWNER(fs, struct session)->typing, SESSION_TYPING_RATE,
	               SESSION_TYPING_BURST, clock_now_ms());
}

static void session_detach(struct session *s)
{
	struct user *u = s->user;

	if (!u)
		return;
	if (s->user_prev)
		s->user_prev->user_next = s->user_next;
	else
		u->sessions = s->user_next;
	if (s->user_next)
		s->user_next->user_prev = s->user_prev;
	s->user_prev = s->user_next = NULL;
	s->user = NULL;
	s->fs.user[0] = '\0';
	if (--u->nsessions == 0) {
		chatd.nonline--;
		presence_user_offline(u);
	}
}

void session_attach(struct session *s, struct user *u)
{
	if (s->user == u)
		return;
	session_detach(s);
	s->user = u;
	str_copy(s->fs.user, sizeof(s->fs.user), u->name);
	s->fs.state = FRONT_USER;
	s->user_next = u->sessions;
	if (u->sessions)
		u->sessions->user_prev = s;
	u->sessions = s;
	if (u->nsessions++ == 0) {
		chatd.nonline++;
		presence_user_online(u);
	}
}

/* A HELLO's token: the user must still exist (the database, not only the
 * key and the revocation list). */
static int session_token(struct front_session *fs, const char *token, void **ret_who)
{
	struct user *u = NULL;
	int code = account_token_check(token, &u, &fs->issued_ms);

	if (code)
		return code;
	str_copy(fs->user, sizeof(fs->user), u->name);
	*ret_who = u;
	return 0;
}

static void session_welcome(const struct front_session *fs, void *who, struct msg *w)
{
	const struct user *u = who;

	(void)fs;
	if (u)
		w->flags = u->admin ? MF_ADMIN : 0;
	w->count = chatd.cfg.max_frame;
	w->size = chatd.cfg.max_text;
}

/* WELCOME went first: attaching may send PRESENCE to this session. */
static void session_started(struct front_session *fs, void *who)
{
	if (who)
		session_attach(FRONT_OWNER(fs, struct session), who);
}

static void session_dispatch(struct front_session *fs, const struct msg *m)
{
	struct session *s = FRONT_OWNER(fs, struct session);

	switch (m->type) {
	case MSG_REGISTER:
		account_handle_register(s, m);
		break;
	case MSG_LOGIN:
		account_handle_login(s, m);
		break;
	case MSG_LOGIN_VIA:
		account_handle_login_via(s, m);
		break;
	case MSG_USER_ADMIN:
		account_handle_user_admin(s, m);
		break;
	case MSG_ROOM_CREATE:
		room_handle_create(s, m);
		break;
	case MSG_ROOM_LIST:
		room_handle_list(s, m);
		break;
	case MSG_JOIN:
		room_handle_join(s, m);
		break;
	case MSG_LEAVE:
		room_handle_leave(s, m);
		break;
	case MSG_ROOM_PASS:
		room_handle_pass(s, m);
		break;
	case MSG_INVITE:
		room_handle_invite(s, m);
		break;
	case MSG_TOPIC:
		room_handle_topic(s, m);
		break;
	case MSG_MEMBERS:
		room_handle_members(s, m);
		break;
	case MSG_SAY:
		message_handle_say(s, m);
		break;
	case MSG_EDIT:
		message_handle_edit(s, m);
		break;
	case MSG_DELETE:
		message_handle_delete(s, m);
		break;
	case MSG_HISTORY:
		message_handle_history(s, m);
		break;
	case MSG_PRESENCE:
		presence_handle_presence(s, m);
		break;
	case MSG_TYPING:
		presence_handle_typing(s, m);
		break;
	default:
		front_unsupported(fs, m);
		break;
	}
}

static void session_kicked(struct front_session *fs)
{
	session_detach(FRONT_OWNER(fs, struct session));
}

static void session_teardown(struct front_session *fs)
{
	struct session *s = FRONT_OWNER(fs, struct session);

	message_forget_session(s);
	hasher_forget(s);
	reader_forget(s);
	session_detach(s);
}

/* Requests before login: anything else of chat's needs a user. */
static const uint16_t session_anon_types[] = {MSG_REGISTER, MSG_LOGIN, MSG_LOGIN_VIA, 0};

const struct front_table session_table = {
    .service = CHATD_SERVICE,
    .port_is = "chatd, the chat service",
    .version = CHATD_VERSION,
    .size = sizeof(struct session),
    .offset = offsetof(struct session, fs),
    .anon_types = session_anon_types,
    .limits = session_limits,
    .token = session_token,
    .welcome = session_welcome,
    .started = session_started,
    .accepted = session_accepted,
    .dispatch = session_dispatch,
    .kicked = session_kicked,
    .teardown = session_teardown,
};
