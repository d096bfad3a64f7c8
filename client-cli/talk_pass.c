/* talk_pass: the room pass from chatd that lets `nexus talk` into audiod's
 * voice room (ROOM_PASS: the chat room's rules decide who may join). Once
 * before the call, the usual one-shot request; again each time audiod is
 * back after a loss, because the old pass may have expired.
 *
 * The second kind runs during the call, on talk's own loop (client_new_on):
 * a chatd that does not answer (stopped, packets dropped) must not hold
 * the playout, the keys, SIGUSR1 or SIGTERM for its handshake timeout.
 * The terminal may be in raw mode and chatd may be down for a while: it
 * never prompts, and its failure shows between talk_term_hide and
 * talk_term_show, once per outage of chatd instead of on every retry. */
#include "talk.h"

#include <stdlib.h>
#include <string.h>

static void talk_pass_reply(struct client *c, const struct msg *m, void *arg)
{
	struct talk *t = arg;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, t->room);
		return;
	}
	if (m->type != MSG_ROOM_PASS)
		return;
	snprintf(t->room, sizeof(t->room), "%s", m->room);
	snprintf(t->pass, sizeof(t->pass), "%s", m->secret);
	client_done(c, 0);
}

static struct msg *talk_pass_msg(const struct talk *t)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	proto_msg_init(m, MSG_ROOM_PASS);
	snprintf(m->room, sizeof(m->room), "%s", t->room);
	return m;
}

int talk_pass_fetch(struct talk *t)
{
	struct msg *m = talk_pass_msg(t);
	int r;

	if (!m)
		return EXIT_ERROR;
	r = request_main(t->s, m, talk_pass_reply, t);
	free(m);
	return r;
}

static void talk_pass_ready(struct client *c, void *arg)
{
	struct talk *t = arg;
	struct msg *m = talk_pass_msg(t);

	if (!m || client_request(c, m, talk_pass_reply, t) < 0)
		client_fail(c, EXIT_ERROR, "cannot send the room pass request");
	free(m);
}

/* The exchange ended: say why it failed (an outage of chatd once), let
 * the client go and tell cmd_talk.c. */
static void talk_pass_done(struct client *c, int status, void *arg)
{
	struct talk *t = arg;
	const char *said = client_fail_text(c);
	bool outage = status == EXIT_NETWORK || status == EXIT_SERVER;

	if (status && said[0] && !(outage && t->pass_down)) {
		talk_term_hide(t->term);
		out_err("%s", said);
		if (outage && !t->s->quiet)
			fputs("nexus: talk: trying again until chatd answers\n", stderr);
		fflush(stderr);
		talk_term_show(t->term);
	}
	t->pass_down = status && outage;
	client_free(c);
	t->pass_c = NULL;
	talk_pass_got(t, status);
}

void talk_pass_refetch(struct talk *t)
{
	/* no CLIENT_PROMPT: an unknown certificate now fails (EXIT_CERT) */
	struct client_cbs cbs = {.ready = talk_pass_ready, .done = talk_pass_done};

	if (t->pass_c)
		return;
	t->pass_c = client_new_on(client_base(t->c), t->s, CLIENT_NEED_TOKEN, &cbs, t);
	client_start(t->pass_c);
}

void talk_pass_stop(struct talk *t)
{
	client_free(t->pass_c);
	t->pass_c = NULL;
}
