/* Room commands: rooms, create, join, leave, invite, topic, members. Each
 * is one request; replies print as text lines or JSON lines. */
#include "client.h"

#include <errno.h>
#include <string.h>

/* Commands that take no options of their own and a fixed number of
 * operands. Returns 0 with *ret_first set, or the status to return. */
static int room_args(struct settings *s, int argc, char **argv, int min, int max, int *ret_first)
{
	int r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, ret_first);
	int n = argc - *ret_first;

	if (r)
		return r < 0 ? -1 : r;
	if (n < min)
		return cli_usage(argv[0], "missing %s", n == 0 ? "ROOM" : "argument");
	if (max >= 0 && n > max)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[*ret_first + max]);
	return 0;
}

#define ROOM_ARGS(s, argc, argv, min, max, first)                                                  \
	do {                                                                                       \
		int r_ = room_args(s, argc, argv, min, max, &first);                               \
		if (r_)                                                                            \
			return r_ < 0 ? 0 : r_;                                                    \
	} while (0)

/* nexus rooms */

static void rooms_print(const struct settings *s, const struct msg *m)
{
	char flags[40] = "";
	struct jw w;

	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "room", m->room);
		jw_u64(&w, "members", m->count);
		jw_bool(&w, "private", (m->flags & MF_PRIVATE) != 0);
		jw_bool(&w, "joined", (m->flags & MF_JOINED) != 0);
		jw_bool(&w, "dm", (m->flags & MF_DM) != 0);
		jw_u64(&w, "last_id", m->id);
		jw_str(&w, "topic", m->text);
		jw_end(&w);
		return;
	}
	snprintf(flags, sizeof(flags), "%s%s%s", (m->flags & MF_JOINED) ? " joined" : "",
	         (m->flags & MF_PRIVATE) ? " private" : "", (m->flags & MF_DM) ? " dm" : "");
	out_clean(stdout, m->room);
	printf("%*s %5u %s", strlen(m->room) < 20 ? (int)(20 - strlen(m->room)) : 0, "", m->count,
	       m->count == 1 ? "member" : "members");
	if (m->text[0]) {
		printf("%*s%-16s  ", m->count == 1 ? 1 : 0, "", flags);
		out_clean(stdout, m->text);
	} else if (flags[0]) {
		printf("%*s%s", m->count == 1 ? 1 : 0, "", flags);
	}
	fputc('\n', stdout);
	out_flush();
}

static int rooms_room(struct client *c, const struct msg *m, void *arg)
{
	(void)arg;
	rooms_print(client_settings(c), m);
	return 0;
}

static void rooms_done(struct client *c, int r, const struct msg *err, void *arg)
{
	(void)arg;
	if (r == 0)
		client_done(c, 0);
	else if (r == -EREMOTEIO)
		client_fail_msg(c, err, NULL);
	else if (r == -ELOOP)
		client_fail(c, EXIT_ERROR, "the server's room list does not end");
	else if (r != -ENOTCONN)
		client_fail(c, EXIT_ERROR, "cannot send the request: %s", strerror(-r));
}

static void rooms_ready(struct client *c, void *arg)
{
	int r = client_room_pages(c, *(uint32_t *)arg, rooms_room, rooms_done, NULL);

	if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot send the request: %s", strerror(-r));
}

static int rooms_opt(int key, const char *arg, void *ctx)
{
	(void)arg;
	if (key != 'a')
		return EXIT_USAGE;
	*(int *)ctx = 1;
	return 0;
}

/* nexus rooms [--all]: the user's rooms, or every room they may see. */
int cmd_rooms(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
	struct client_cbs cbs = {.ready = rooms_ready};
	uint32_t flags;
	int first, all = 0, r;

	r = cli_parse(s, argc, argv, "", opts, rooms_opt, &all, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first < argc)
		return cli_usage("rooms", "unexpected argument '%s'", argv[first]);
	flags = all ? 0 : MF_JOINED;
	return client_main(s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, &flags);
}

/* nexus create ROOM [--private] [--topic TEXT] */

struct create_opts {
	int private_room;
	const char *topic;
};

static int create_opt(int key, const char *arg, void *ctx)
{
	struct create_opts *o = ctx;

	if (key == 'p')
		o->private_room = 1;
	else if (key == 't')
		o->topic = arg;
	else
		return EXIT_USAGE;
	return 0;
}

int cmd_create(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"private", no_argument, NULL, 'p'}, {"topic", required_argument, NULL, 't'}, {0}};
	struct create_opts o = {0};
	struct simple_reply sr = {0};
	struct msg m;
	int first, r;

	r = cli_parse(s, argc, argv, "", opts, create_opt, &o, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first >= argc)
		return cli_usage("create", "missing ROOM");
	if (argc - first > 1)
		return cli_usage("create", "unexpected argument '%s' (quote the topic)",
		                 argv[first + 1]);
	proto_msg_init(&m, MSG_ROOM_CREATE);
	if ((r = cli_room("create", argv[first], m.room)))
		return r;
	m.flags = o.private_room ? MF_PRIVATE : 0;
	if (o.topic && snprintf(m.text, sizeof(m.text), "%s", o.topic) >= (int)sizeof(m.text))
		return cli_usage("create", "topic too long");
	snprintf(sr.text, sizeof(sr.text), "created %s%s", m.room,
	         o.private_room ? " (private)" : "");
	sr.subject = argv[first];
	return request_main(s, &m, simple_reply_cb, &sr);
}

/* nexus join ROOM */

static void join_reply(struct client *c, const struct msg *m, void *arg)
{
	const struct settings *s = client_settings(c);
	struct msg *info = arg;
	struct jw w;

	if (!m || m->type == MSG_CHAT)
		return;
	if (m->type == MSG_ROOM_INFO) {
		memcpy(info, m, sizeof(*info));
		return;
	}
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, info->room);
		return;
	}
	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "room", info->room);
		jw_u64(&w, "members", info->count);
		jw_bool(&w, "private", (info->flags & MF_PRIVATE) != 0);
		jw_u64(&w, "last_id", info->id);
		jw_str(&w, "topic", info->text);
		jw_end(&w);
	} else if (!s->quiet) {
		fputs("joined ", stdout);
		out_clean(stdout, info->room);
		printf(" (%u %s)", info->count, info->count == 1 ? "member" : "members");
		if (info->text[0]) {
			fputs(": ", stdout);
			out_clean(stdout, info->text);
		}
		fputc('\n', stdout);
		out_flush();
	}
	client_done(c, 0);
}

int cmd_join(struct settings *s, int argc, char **argv)
{
	struct msg m, info;
	int first, r;

	ROOM_ARGS(s, argc, argv, 1, 1, first);
	proto_msg_init(&m, MSG_JOIN);
	if ((r = cli_room("join", argv[first], m.room)))
		return r;
	proto_msg_init(&info, MSG_ROOM_INFO);
	memcpy(info.room, m.room, sizeof(info.room));
	return request_main(s, &m, join_reply, &info);
}

/* nexus leave ROOM */

int cmd_leave(struct settings *s, int argc, char **argv)
{
	struct simple_reply sr = {0};
	struct msg m;
	int first, r;

	ROOM_ARGS(s, argc, argv, 1, 1, first);
	proto_msg_init(&m, MSG_LEAVE);
	if ((r = cli_room("leave", argv[first], m.room)))
		return r;
	snprintf(sr.text, sizeof(sr.text), "left %s", m.room);
	sr.subject = argv[first];
	return request_main(s, &m, simple_reply_cb, &sr);
}

/* nexus invite ROOM USER */

int cmd_invite(struct settings *s, int argc, char **argv)
{
	struct simple_reply sr = {0};
	struct msg m;
	int first, r;

	ROOM_ARGS(s, argc, argv, 2, 2, first);
	proto_msg_init(&m, MSG_INVITE);
	if ((r = cli_room("invite", argv[first], m.room)))
		return r;
	if (strlen(argv[first + 1]) > PROTO_NAME_MAX || !argv[first + 1][0])
		return cli_usage("invite", "invalid user name '%s'", argv[first + 1]);
	snprintf(m.user, sizeof(m.user), "%s", argv[first + 1]);
	snprintf(sr.text, sizeof(sr.text), "invited %s to %s", m.user, m.room);
	sr.subject = argv[first];
	return request_main(s, &m, simple_reply_cb, &sr);
}

/* nexus topic ROOM TEXT... */

int cmd_topic(struct settings *s, int argc, char **argv)
{
	struct simple_reply sr = {0};
	struct msg m;
	int first, r;

	ROOM_ARGS(s, argc, argv, 2, -1, first);
	proto_msg_init(&m, MSG_TOPIC);
	if ((r = cli_room("topic", argv[first], m.room)))
		return r;
	if (cli_join(argc - first - 1, argv + first + 1, m.text, sizeof(m.text)) < 0)
		return cli_usage("topic", "topic too long");
	snprintf(sr.text, sizeof(sr.text), "topic of %s set", m.room);
	sr.subject = argv[first];
	return request_main(s, &m, simple_reply_cb, &sr);
}

/* nexus members ROOM */

static const char *presence_name(uint32_t p)
{
	switch (p) {
	case PRESENCE_ONLINE:
		return "online";
	case PRESENCE_AWAY:
		return "away";
	default:
		return "offline";
	}
}

static void members_print(const struct settings *s, const struct msg *m)
{
	char when[32];
	struct jw w;

	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "room", m->room);
		jw_str(&w, "user", m->user);
		jw_str(&w, "presence", presence_name(m->count));
		jw_u64(&w, "last_seen", m->ts);
		jw_bool(&w, "admin", (m->flags & MF_ADMIN) != 0);
		jw_end(&w);
		return;
	}
	out_clean(stdout, m->user);
	printf("%*s %s", strlen(m->user) < 16 ? (int)(16 - strlen(m->user)) : 0, "",
	       presence_name(m->count));
	if (m->count != PRESENCE_ONLINE && m->ts)
		printf("%*s last seen %s", 8 - (int)strlen(presence_name(m->count)), "",
		       out_time(m->ts, 1, when, sizeof(when)));
	if (m->flags & MF_ADMIN)
		fputs(" (admin)", stdout);
	fputc('\n', stdout);
	out_flush();
}

static void members_reply(struct client *c, const struct msg *m, void *arg)
{
	if (!m)
		return;
	if (m->type == MSG_MEMBER)
		members_print(client_settings(c), m);
	else if (m->type == MSG_ERROR)
		client_fail_msg(c, m, arg);
	else if (m->type == MSG_OK)
		client_done(c, 0);
}

int cmd_members(struct settings *s, int argc, char **argv)
{
	struct msg m;
	int first, r;

	ROOM_ARGS(s, argc, argv, 1, 1, first);
	proto_msg_init(&m, MSG_MEMBERS);
	if ((r = cli_room("members", argv[first], m.room)))
		return r;
	return request_main(s, &m, members_reply, argv[first]);
}
