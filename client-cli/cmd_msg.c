/* Message commands: say (one message, or one per line of stdin, pipelined),
 * edit, delete, history, and tail (follow a room across reconnects without
 * losing or repeating a message). */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"

#define SAY_WINDOW 64        /* SAYs in flight from stdin */
#define SAY_RETRY_MIN_MS 250 /* first wait after ERR_RATE_LIMITED */
#define SAY_RETRY_MAX_MS 4000
#define SAY_RETRY_TRIES 40 /* rate-limit retries of one line before giving up */
#define SAY_READ_CHUNK 65536
#define HISTORY_MAX 500
#define TAIL_DEFAULT 10
#define TAIL_PAGE 200
/* A HISTORY page refused with ERR_RATE_LIMITED (the user's other sessions
 * share chatd's history_rate) is asked again after this, doubling. */
#define TAIL_RETRY_MIN_MS 250
#define TAIL_RETRY_MAX_MS 4000

/* After a write error on stdout: a closed pipe ends quietly. */
static void msg_output_failed(struct client *c, int r)
{
	if (r == -EPIPE)
		client_done(c, 0);
	else
		client_fail(c, EXIT_ERROR, "cannot write output: %s", strerror(-r));
}

static int say_text_check(struct client *c, const char *text, char *err, size_t errlen)
{
	size_t n = strlen(text);

	if (n == 0) {
		snprintf(err, errlen, "empty message");
		return EXIT_USAGE;
	}
	if (n > client_max_text(c)) {
		snprintf(err, errlen, "message too long (%zu bytes; the server takes %u)", n,
		         client_max_text(c));
		return EXIT_ERROR;
	}
	if (!proto_utf8_valid(text, n, 1)) {
		snprintf(err, errlen, "message is not UTF-8 text or has control characters");
		return EXIT_ERROR;
	}
	return 0;
}

/* ERR_FORBIDDEN on SAY means "not a member": say does not join by itself. */
static int say_error_text(const struct msg *m, const char *room, char *buf, size_t len)
{
	char clean[PROTO_ROOM_MAX * 3 + 1];

	if (m->code == ERR_FORBIDDEN && room[0] != '@') {
		out_clean_str(clean, sizeof(clean), room);
		snprintf(buf, len, "not a member of %s; run: nexus join %s", clean, clean);
		return EXIT_FORBIDDEN;
	}
	return client_error_text(m, room, buf, len);
}

static int say_print_ack(const struct settings *s, uint64_t id, uint64_t ts, const char *room)
{
	struct jw w;

	if (!s->json) {
		printf("%llu\n", (unsigned long long)id);
		return out_flush();
	}
	jw_begin(&w, stdout);
	jw_u64(&w, "id", id);
	jw_u64(&w, "ts", ts);
	jw_str(&w, "room", room);
	return jw_end(&w);
}

/* nexus say ROOM TEXT... */

struct say_one {
	struct msg m;
	char err[1024];
};

static void say_one_reply(struct client *c, const struct msg *m, void *arg)
{
	struct say_one *o = arg;
	int r;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		r = say_error_text(m, o->m.room, o->err, sizeof(o->err));
		client_fail(c, r, "%s", o->err);
		return;
	}
	if (m->type != MSG_ACK)
		return;
	r = say_print_ack(client_settings(c), m->id, m->ts, m->room);
	if (r < 0)
		msg_output_failed(c, r);
	else
		client_done(c, 0);
}

static void say_one_ready(struct client *c, void *arg)
{
	struct say_one *o = arg;
	int r = say_text_check(c, o->m.text, o->err, sizeof(o->err));

	if (r) {
		client_fail(c, r, "%s", o->err);
		return;
	}
	r = client_request(c, &o->m, say_one_reply, o);
	if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot send: %s", strerror(-r));
}

/* nexus say ROOM (stdin): a window of SAYs in flight, ids printed in line
 * order. A rate-limited line is sent again after a pause, alone, before any
 * later line, so the room sees the lines in order; the window then starts
 * again from one and grows by one per ACK, which settles near the server's
 * rate instead of bursting into the limit again. */

enum say_slot_state { SLOT_FREE, SLOT_SENT, SLOT_RETRY, SLOT_DONE, SLOT_FAILED };

struct say_pipe;

struct say_slot {
	struct say_pipe *p;
	enum say_slot_state state;
	uint64_t line;
	char *text;
	unsigned tries;
	uint64_t id, ts;
	char room[PROTO_ROOM_MAX + 1];
};

struct say_pipe {
	struct client *c;
	const struct settings *s;
	char room[PROTO_ROOM_MAX + 1];
	uint64_t reply_to;
	struct say_slot slots[SAY_WINDOW];
	unsigned head, used; /* ring of slots in line order */
	unsigned in_flight, window, retrying;
	uint64_t lineno;
	struct evbuffer *in;
	struct event *in_ev, *retry_ev;
	unsigned retry_ms;
	int backoff; /* a rate limit was hit: wait for retry_ev */
	int file_mode, eof, reading;
	int stopped; /* no more lines: a failure, or stdout is gone */
	int status;
	char fail[1024];
};

static void say_pump(struct say_pipe *p);

static void say_stop(struct say_pipe *p, int status, const char *text)
{
	if (p->stopped)
		return;
	p->stopped = 1;
	p->status = status;
	snprintf(p->fail, sizeof(p->fail), "%s", text);
}

/* Print the ids of finished lines from the oldest on. */
static void say_flush_done(struct say_pipe *p)
{
	while (p->used) {
		struct say_slot *sl = &p->slots[p->head];
		int r = 0;

		if (sl->state == SLOT_DONE && !(p->stopped && p->status == 0))
			r = say_print_ack(p->s, sl->id, sl->ts, sl->room);
		else if (sl->state != SLOT_FAILED && sl->state != SLOT_DONE)
			break;
		if (r == -EPIPE)
			say_stop(p, 0, "");
		else if (r < 0)
			say_stop(p, EXIT_ERROR, "cannot write output");
		free(sl->text);
		memset(sl, 0, sizeof(*sl));
		p->head = (p->head + 1) % SAY_WINDOW;
		p->used--;
	}
}

static void say_slot_reply(struct client *c, const struct msg *m, void *arg)
{
	struct say_slot *sl = arg;
	struct say_pipe *p = sl->p;
	char text[900], line[960];
	int status;

	(void)c;
	p->in_flight--;
	if (!m) {
		sl->state = SLOT_FAILED; /* the core reports the lost connection */
		return;
	}
	if (m->type == MSG_ACK) {
		sl->state = SLOT_DONE;
		sl->id = m->id;
		sl->ts = m->ts;
		snprintf(sl->room, sizeof(sl->room), "%s", m->room);
		p->retry_ms = SAY_RETRY_MIN_MS;
		if (p->window < SAY_WINDOW)
			p->window++;
	} else if (m->code == ERR_RATE_LIMITED && sl->tries < SAY_RETRY_TRIES && !p->stopped) {
		log_debug("say: line %llu rate limited, retrying", (unsigned long long)sl->line);
		sl->state = SLOT_RETRY;
		p->retrying++;
		p->window = 1;
		p->backoff = 1;
	} else {
		sl->state = SLOT_FAILED;
		status = say_error_text(m, p->room, text, sizeof(text));
		snprintf(line, sizeof(line), "line %llu: %s", (unsigned long long)sl->line, text);
		say_stop(p, status, line);
	}
	say_pump(p);
}

static int say_send_slot(struct say_pipe *p, struct say_slot *sl)
{
	struct msg *m = malloc(sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	proto_msg_init(m, MSG_SAY);
	memcpy(m->room, p->room, sizeof(m->room));
	m->ref = p->reply_to;
	snprintf(m->text, sizeof(m->text), "%s", sl->text);
	r = client_request(p->c, m, say_slot_reply, sl);
	free(m);
	if (r < 0)
		return r;
	sl->state = SLOT_SENT;
	sl->tries++;
	p->in_flight++;
	return 0;
}

/* Resend the oldest rate-limited line, alone. */
static void say_resend(struct say_pipe *p)
{
	for (unsigned i = 0; i < p->used && p->in_flight == 0 && !p->stopped; i++) {
		struct say_slot *sl = &p->slots[(p->head + i) % SAY_WINDOW];
		if (sl->state != SLOT_RETRY)
			continue;
		p->retrying--;
		if (say_send_slot(p, sl) < 0) {
			sl->state = SLOT_FAILED;
			say_stop(p, EXIT_ERROR, "cannot send a message");
		}
		break;
	}
}

static void say_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct say_pipe *p = arg;

	(void)fd;
	(void)what;
	p->backoff = 0;
	if (p->retry_ms < SAY_RETRY_MAX_MS)
		p->retry_ms *= 2;
	say_pump(p);
}

/* Take one line from the input buffer (the rest at end of input); NULL when
 * there is no whole line yet. Empty and blank lines are skipped. */
static char *say_next_line(struct say_pipe *p)
{
	for (;;) {
		size_t n;
		char *line = evbuffer_readln(p->in, &n, EVBUFFER_EOL_LF);

		if (!line && p->eof && evbuffer_get_length(p->in) > 0) {
			n = evbuffer_get_length(p->in);
			line = malloc(n + 1);
			if (!line)
				return NULL;
			evbuffer_remove(p->in, line, n);
			line[n] = '\0';
		}
		if (!line)
			return NULL;
		p->lineno++;
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strspn(line, " \t") < n)
			return line;
		free(line);
	}
}

/* Send lines while the window has room and no line waits for a retry. */
static void say_fill(struct say_pipe *p)
{
	char err[256], msg[300];
	char *text;
	int r;

	while (!p->stopped && !p->retrying && p->used < SAY_WINDOW && p->in_flight < p->window &&
	       (text = say_next_line(p))) {
		struct say_slot *sl = &p->slots[(p->head + p->used) % SAY_WINDOW];

		p->used++;
		sl->p = p;
		sl->line = p->lineno;
		sl->text = text;
		r = say_text_check(p->c, text, err, sizeof(err));
		if (r == 0 && say_send_slot(p, sl) < 0) {
			r = EXIT_ERROR;
			snprintf(err, sizeof(err), "cannot send");
		}
		if (r) {
			sl->state = SLOT_FAILED;
			snprintf(msg, sizeof(msg), "line %llu: %s", (unsigned long long)sl->line,
			         err);
			say_stop(p, r, msg);
		}
	}
}

static int say_want_input(const struct say_pipe *p)
{
	return !p->eof && !p->stopped && !p->retrying && p->used < SAY_WINDOW &&
	       p->in_flight < p->window;
}

static void say_pump(struct say_pipe *p)
{
	struct timeval tv;

	say_fill(p);
	say_flush_done(p);
	if (p->retrying && p->in_flight == 0 && !p->stopped) {
		if (!p->backoff) {
			say_resend(p);
		} else if (!evtimer_pending(p->retry_ev, NULL)) {
			tv.tv_sec = p->retry_ms / 1000;
			tv.tv_usec = (p->retry_ms % 1000) * 1000;
			evtimer_add(p->retry_ev, &tv);
		}
	}
	if (say_want_input(p) && !p->reading) {
		p->reading = 1;
		if (p->file_mode)
			event_active(p->in_ev, EV_READ, 0);
		else
			event_add(p->in_ev, NULL);
	} else if (!say_want_input(p) && p->reading) {
		p->reading = 0;
		event_del(p->in_ev);
	}
	if (p->in_flight == 0 && (p->stopped || (p->eof && !p->retrying && p->used == 0))) {
		if (p->status)
			client_fail(p->c, p->status, "%s", p->fail);
		else
			client_done(p->c, 0);
	}
}

static void say_input_cb(evutil_socket_t fd, short what, void *arg)
{
	struct say_pipe *p = arg;
	char buf[SAY_READ_CHUNK];
	ssize_t n;

	(void)fd;
	(void)what;
	p->reading = 0;
	if (!p->file_mode)
		event_del(p->in_ev);
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n > 0)
		evbuffer_add(p->in, buf, (size_t)n);
	else if (n == 0)
		p->eof = 1;
	else if (errno != EINTR && errno != EAGAIN)
		say_stop(p, EXIT_ERROR, "cannot read standard input");
	/* A line longer than any message can be is an error, not a reason to
	 * buffer without bound. */
	if (!p->stopped && evbuffer_get_length(p->in) > PROTO_TEXT_MAX + 2 &&
	    evbuffer_search(p->in, "\n", 1, NULL).pos < 0)
		say_stop(p, EXIT_ERROR, "line too long");
	say_pump(p);
}

static void say_pipe_ready(struct client *c, void *arg)
{
	struct say_pipe *p = arg;
	struct stat st;

	p->c = c;
	/* epoll cannot wait on regular files (or /dev/null): read those in
	 * turns from a manually activated event instead. */
	p->file_mode = fstat(STDIN_FILENO, &st) < 0 ||
	               !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(0));
	p->in_ev = p->file_mode ? event_new(client_base(c), -1, 0, say_input_cb, p)
	                        : event_new(client_base(c), STDIN_FILENO, EV_READ, say_input_cb, p);
	p->retry_ev = evtimer_new(client_base(c), say_retry_cb, p);
	if (!p->in_ev || !p->retry_ev) {
		client_fail(c, EXIT_ERROR, "out of memory");
		return;
	}
	say_pump(p);
}

static int say_stdin(struct settings *s, const char *room, uint64_t reply_to)
{
	struct client_cbs cbs = {.ready = say_pipe_ready};
	struct say_pipe *p = calloc(1, sizeof(*p));
	struct client *c;
	int status;

	if (!p)
		return EXIT_ERROR;
	p->s = s;
	snprintf(p->room, sizeof(p->room), "%s", room);
	p->reply_to = reply_to;
	p->window = SAY_WINDOW;
	p->retry_ms = SAY_RETRY_MIN_MS;
	p->in = evbuffer_new();
	if (!p->in) {
		free(p);
		return EXIT_ERROR;
	}
	c = client_new(s, CLIENT_NEED_TOKEN, &cbs, p);
	status = client_run(c);
	/* The events belong to the client's loop: free them first. */
	if (p->in_ev)
		event_free(p->in_ev);
	if (p->retry_ev)
		event_free(p->retry_ev);
	client_free(c);
	for (unsigned i = 0; i < SAY_WINDOW; i++)
		free(p->slots[i].text);
	evbuffer_free(p->in);
	free(p);
	return status;
}

struct say_opts {
	uint64_t reply_to;
};

static int say_opt(int key, const char *arg, void *ctx)
{
	struct say_opts *o = ctx;

	if (key != 'R')
		return EXIT_USAGE;
	if (cli_u64(arg, UINT64_MAX, &o->reply_to) < 0 || o->reply_to == 0) {
		out_err("--reply: invalid message id '%s'", arg);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_say(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"reply", required_argument, NULL, 'R'}, {0}};
	struct client_cbs cbs = {.ready = say_one_ready};
	struct say_opts o = {0};
	struct say_one *one;
	int first, r;

	r = cli_parse(s, argc, argv, "", opts, say_opt, &o, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first >= argc)
		return cli_usage("say", "missing ROOM");
	one = calloc(1, sizeof(*one));
	if (!one)
		return EXIT_ERROR;
	proto_msg_init(&one->m, MSG_SAY);
	r = cli_room("say", argv[first], one->m.room);
	if (r == 0 && first + 1 == argc) {
		r = say_stdin(s, one->m.room, o.reply_to);
	} else if (r == 0) {
		one->m.ref = o.reply_to;
		if (cli_join(argc - first - 1, argv + first + 1, one->m.text, sizeof(one->m.text)))
			r = cli_usage("say", "message too long");
		else
			r = client_main(s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, one);
	}
	free(one);
	return r;
}

/* nexus edit ID TEXT... / nexus delete ID */

static int msg_id_arg(const char *cmd, const char *arg, uint64_t *ret)
{
	if (cli_u64(arg, UINT64_MAX, ret) < 0 || *ret == 0)
		return cli_usage(cmd, "invalid message id '%s'", arg);
	return 0;
}

int cmd_edit(struct settings *s, int argc, char **argv)
{
	struct simple_reply sr = {0};
	struct msg *m;
	int first, r;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first < 2)
		return cli_usage("edit", "missing %s", first < argc ? "TEXT" : "ID");
	m = calloc(1, sizeof(*m));
	if (!m)
		return EXIT_ERROR;
	proto_msg_init(m, MSG_EDIT);
	r = msg_id_arg("edit", argv[first], &m->id);
	if (r == 0 && cli_join(argc - first - 1, argv + first + 1, m->text, sizeof(m->text)))
		r = cli_usage("edit", "message too long");
	if (r == 0) {
		snprintf(sr.text, sizeof(sr.text), "edited %llu", (unsigned long long)m->id);
		sr.subject = argv[first];
		sr.id = m->id;
		r = request_main(s, m, simple_reply_cb, &sr);
	}
	free(m);
	return r;
}

int cmd_delete(struct settings *s, int argc, char **argv)
{
	struct simple_reply sr = {0};
	struct msg m;
	int first, r;

	r = cli_parse(s, argc, argv, "", NULL, NULL, NULL, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage("delete",
		                 first < argc ? "unexpected argument '%s'" : "missing ID%s",
		                 first < argc ? argv[first + 1] : "");
	proto_msg_init(&m, MSG_DELETE);
	if ((r = msg_id_arg("delete", argv[first], &m.id)))
		return r;
	snprintf(sr.text, sizeof(sr.text), "deleted %llu", (unsigned long long)m.id);
	sr.subject = argv[first];
	sr.id = m.id;
	return request_main(s, &m, simple_reply_cb, &sr);
}

/* nexus history ROOM [--since ID] [--before ID] [--search WORDS] [-n N] */

struct history_opts {
	uint64_t since, before, limit;
	const char *search;
};

static int history_opt(int key, const char *arg, void *ctx)
{
	struct history_opts *o = ctx;
	uint64_t *dst = key == 'S' ? &o->since : key == 'B' ? &o->before : &o->limit;

	if (key == 'W') {
		o->search = arg;
		return 0;
	}
	if (key != 'S' && key != 'B' && key != 'n')
		return EXIT_USAGE;
	if (cli_u64(arg, key == 'n' ? HISTORY_MAX : UINT64_MAX, dst) < 0) {
		if (key == 'n')
			out_err("-n: a count from 0 to %d expected, not '%s'", HISTORY_MAX, arg);
		else
			out_err("invalid message id '%s'", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static void history_reply(struct client *c, const struct msg *m, void *arg)
{
	int r;

	if (!m)
		return;
	if (m->type == MSG_CHAT) {
		r = out_chat(client_settings(c), m, 0);
		if (r < 0)
			msg_output_failed(c, r);
	} else if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, arg);
	} else if (m->type == MSG_OK) {
		client_done(c, 0);
	}
}

int cmd_history(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 'S'},
	                                     {"before", required_argument, NULL, 'B'},
	                                     {"search", required_argument, NULL, 'W'},
	                                     {0}};
	struct history_opts o = {0};
	struct msg m;
	int first, r;

	r = cli_parse(s, argc, argv, "n:", opts, history_opt, &o, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage("history",
		                 first < argc ? "unexpected argument '%s'" : "missing ROOM%s",
		                 first < argc ? argv[first + 1] : "");
	proto_msg_init(&m, MSG_HISTORY);
	if ((r = cli_room("history", argv[first], m.room)))
		return r;
	m.ref = o.since;
	m.id = o.before;
	m.count = (uint32_t)o.limit;
	if (o.search && snprintf(m.text, sizeof(m.text), "%s", o.search) >= (int)sizeof(m.text))
		return cli_usage("history", "search text too long");
	return request_main(s, &m, history_reply, argv[first]);
}

/* nexus tail ROOM [-n N] [--since ID]
 *
 * Follows a room forever. After a reconnect it joins again without history
 * and asks HISTORY for everything after the last id it printed, page by
 * page. Live messages that arrive while it catches up are not printed
 * (history will bring them in order); their ids only tell whether one more
 * page is needed. Edits and deletes of printed messages always print.
 * Messages of other rooms print only when they mention us or are direct
 * messages to us. */

struct tail {
	char room[PROTO_ROOM_MAX + 1];  /* as given ("@peer" for a DM) */
	char canon[PROTO_ROOM_MAX + 1]; /* as the server names it */
	uint64_t count, since;
	int have_since;
	uint64_t last;     /* newest id printed, or known and skipped */
	uint64_t join_top; /* the room's last id when JOIN answered */
	uint64_t live_max; /* newest live id seen while catching up */
	unsigned page_n;   /* messages in the current HISTORY page */
	int catching_up;
	int joined;
	unsigned gen;       /* connections so far: a retry for an older one is void */
	unsigned retry_gen; /* the connection a refused page is asked again on */
	int retry_pending;  /* a refused page waits to be asked again */
	int retry_armed;    /* the timer that asks it is set */
	unsigned retry_ms;  /* the next wait after ERR_RATE_LIMITED */
	struct client *c;
};

static void tail_print(struct client *c, struct tail *t, const struct msg *m, int prefix)
{
	int r = out_chat(client_settings(c), m, prefix);

	if (r < 0)
		msg_output_failed(c, r);
	else if (!prefix && m->id > t->last && !(m->flags & (MF_EDITED | MF_DELETED)))
		t->last = m->id;
}

static void tail_page_reply(struct client *c, const struct msg *m, void *arg);

static void tail_page(struct client *c, struct tail *t)
{
	struct msg m;
	int r;

	proto_msg_init(&m, MSG_HISTORY);
	memcpy(m.room, t->room, sizeof(m.room));
	m.ref = t->last;
	m.count = TAIL_PAGE;
	t->page_n = 0;
	t->live_max = 0;
	r = client_request(c, &m, tail_page_reply, t);
	if (r < 0)
		log_debug("tail: HISTORY not sent: %s", strerror(-r));
}

static void tail_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail *t = arg;

	(void)fd;
	(void)what;
	t->retry_armed = 0;
	if (t->retry_pending && t->retry_gen == t->gen) {
		t->retry_pending = 0;
		tail_page(t->c, t);
	}
}

/* The page was refused for the user's history rate: ask again later
 * (the timer is freed with the loop if it never fires). */
static void tail_retry(struct client *c, struct tail *t)
{
	struct timeval tv;

	t->retry_ms = t->retry_ms ? t->retry_ms * 2 : TAIL_RETRY_MIN_MS;
	if (t->retry_ms > TAIL_RETRY_MAX_MS)
		t->retry_ms = TAIL_RETRY_MAX_MS;
	t->retry_pending = 1;
	t->retry_gen = t->gen;
	t->c = c;
	if (t->retry_armed)
		return;
	tv.tv_sec = t->retry_ms / 1000;
	tv.tv_usec = (suseconds_t)(t->retry_ms % 1000 * 1000);
	if (event_base_once(client_base(c), -1, EV_TIMEOUT, tail_retry_cb, t, &tv) < 0)
		client_fail(c, EXIT_ERROR, "cannot set a timer");
	else
		t->retry_armed = 1;
}

/* Done with a JOIN or a page: another page, or follow live. */
static void tail_caught_up_or_page(struct client *c, struct tail *t, int page_full)
{
	if (page_full || t->live_max > t->last)
		tail_page(c, t);
	else
		t->catching_up = 0;
}

static void tail_page_reply(struct client *c, const struct msg *m, void *arg)
{
	struct tail *t = arg;

	if (!m)
		return;
	switch (m->type) {
	case MSG_CHAT:
		t->page_n++;
		if (m->id > t->last)
			tail_print(c, t, m, 0);
		break;
	case MSG_ERROR:
		if (m->code == ERR_RATE_LIMITED)
			tail_retry(c, t);
		else
			client_fail_msg(c, m, t->room);
		break;
	case MSG_OK:
		t->retry_ms = 0;
		/* An empty page ends it even if a live id said more: that
		 * message is gone (or not ours to see). */
		if (t->page_n == 0)
			t->live_max = 0;
		tail_caught_up_or_page(c, t, t->page_n >= TAIL_PAGE);
		break;
	default:
		break;
	}
}

static void tail_join_reply(struct client *c, const struct msg *m, void *arg)
{
	struct tail *t = arg;

	if (!m)
		return;
	switch (m->type) {
	case MSG_ROOM_INFO:
		snprintf(t->canon, sizeof(t->canon), "%s", m->room);
		t->join_top = m->id;
		break;
	case MSG_CHAT:
		if (m->id > t->last)
			tail_print(c, t, m, 0);
		break;
	case MSG_ERROR:
		client_fail_msg(c, m, t->room);
		break;
	case MSG_OK:
		if (t->joined) {
			tail_page(c, t); /* after a reconnect: since the last id */
			break;
		}
		t->joined = 1;
		if (t->have_since) {
			t->last = t->since;
			tail_page(c, t);
			break;
		}
		/* What was older than the history shown counts as seen. */
		if (t->join_top > t->last)
			t->last = t->join_top;
		tail_caught_up_or_page(c, t, 0);
		break;
	default:
		break;
	}
}

static void tail_ready(struct client *c, void *arg)
{
	struct tail *t = arg;
	struct msg m;
	int r;

	t->catching_up = 1;
	t->live_max = 0;
	t->gen++;
	proto_msg_init(&m, MSG_JOIN);
	memcpy(m.room, t->room, sizeof(m.room));
	m.count = t->joined || t->have_since ? 0 : (uint32_t)t->count;
	r = client_request(c, &m, tail_join_reply, t);
	if (r < 0 && !t->joined)
		client_fail(c, EXIT_ERROR, "cannot send JOIN: %s", strerror(-r));
}

/* A message of another room that is addressed to us: a mention, or a
 * direct message from someone else. (The server sends a session the
 * messages of all the user's rooms; tail shows one room.) */
static int tail_for_me(struct client *c, const struct msg *m)
{
	if (m->flags & MF_MENTION)
		return 1;
	return m->room[0] == '@' && strcmp(m->user, client_user(c)) != 0 &&
	       !(m->flags & (MF_EDITED | MF_DELETED));
}

static void tail_chat(struct client *c, const struct msg *m, void *arg)
{
	struct tail *t = arg;

	if (strcmp(m->room, t->canon) != 0 && strcmp(m->room, t->room) != 0) {
		if (tail_for_me(c, m))
			tail_print(c, t, m, 1);
	} else if (m->flags & (MF_EDITED | MF_DELETED)) {
		if (m->id <= t->last)
			tail_print(c, t, m, 0);
	} else if (t->catching_up) {
		if (m->id > t->live_max)
			t->live_max = m->id;
	} else if (m->id > t->last) {
		tail_print(c, t, m, 0);
	}
}

static void tail_state(struct client *c, enum client_state old, void *arg)
{
	struct tail *t = arg;

	if (client_state(c) == CLIENT_RECONNECTING &&
	    (old == CLIENT_READY || old == CLIENT_AUTHENTICATED)) {
		const char *why = client_loss_text(c);

		if (why)
			out_err("connection lost (%s), reconnecting", why);
		else
			out_err("connection lost, reconnecting");
		t->catching_up = 1;
	}
}

static int tail_opt(int key, const char *arg, void *ctx)
{
	struct tail *t = ctx;

	if (key == 'n') {
		if (cli_u64(arg, HISTORY_MAX, &t->count) < 0) {
			out_err("-n: a count from 0 to %d expected, not '%s'", HISTORY_MAX, arg);
			return EXIT_USAGE;
		}
		return 0;
	}
	if (key != 'S')
		return EXIT_USAGE;
	if (cli_u64(arg, UINT64_MAX, &t->since) < 0) {
		out_err("--since: invalid message id '%s'", arg);
		return EXIT_USAGE;
	}
	t->have_since = 1;
	return 0;
}

int cmd_tail(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 'S'}, {0}};
	struct client_cbs cbs = {.ready = tail_ready, .state = tail_state, .chat = tail_chat};
	struct tail t = {.count = TAIL_DEFAULT};
	int first, r;

	r = cli_parse(s, argc, argv, "n:", opts, tail_opt, &t, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (argc - first != 1)
		return cli_usage("tail",
		                 first < argc ? "unexpected argument '%s'" : "missing ROOM%s",
		                 first < argc ? argv[first + 1] : "");
	if ((r = cli_room("tail", argv[first], t.room)))
		return r;
	return client_main(s, CLIENT_NEED_TOKEN | CLIENT_PROMPT | CLIENT_RECONNECT | CLIENT_SIGNALS,
	                   &cbs, &t);
}
