/* talk_pass: the room pass from chatd that lets `nexus talk` into audiod's
 * voice room (ROOM_PASS: the chat room's rules decide who may join). Once
 * before the call, the usual one-shot request; again each time audiod is
 * back after a loss, because the old pass may have expired.
 *
 * The second kind runs while the call's terminal may be in raw mode and
 * while chatd may be down for a while: it never prompts, and the failure
 * core.c prints is caught (stderr into a memfd for the exchange) so that
 * it shows between talk_term_hide and talk_term_show, and only once per
 * outage of chatd instead of on every retry. */
#include "talk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TALK_PASS_ERR_MAX 4096 /* bytes of a refetch's messages kept */

struct talk_pass_req {
	struct talk *t;
	struct msg *m;
};

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
	struct talk_pass_req *rq = arg;

	if (client_request(c, rq->m, talk_pass_reply, rq->t) < 0)
		client_fail(c, EXIT_ERROR, "cannot send the room pass request");
}

/* stderr into a fresh memfd: the saved stderr, or -1 (nothing moved). */
static int talk_pass_catch(int *ret_memfd)
{
	int fd = memfd_create("nexus-talk-pass", MFD_CLOEXEC);
	int saved;

	if (fd < 0)
		return -1;
	fflush(stderr);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		close(fd);
		return -1;
	}
	*ret_memfd = fd;
	return saved;
}

/* Put stderr back and take what was written meanwhile (at most len - 1
 * bytes, NUL-terminated). */
static void talk_pass_release(int saved, int memfd, char *buf, size_t len)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(memfd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(memfd);
}

int talk_pass_refetch(struct talk *t)
{
	struct client_cbs cbs = {.ready = talk_pass_ready};
	struct talk_pass_req rq = {t, talk_pass_msg(t)};
	char said[TALK_PASS_ERR_MAX];
	int memfd = -1, saved, r;
	bool outage;

	if (!rq.m)
		return EXIT_ERROR;
	saved = talk_pass_catch(&memfd);
	/* no CLIENT_PROMPT: an unknown certificate now fails (EXIT_CERT) */
	r = client_main(t->s, CLIENT_NEED_TOKEN, &cbs, &rq);
	free(rq.m);
	if (saved < 0)
		return r; /* not caught: printed already */
	talk_pass_release(saved, memfd, said, sizeof(said));
	outage = r == EXIT_NETWORK || r == EXIT_SERVER;
	if (said[0] && !(outage && t->pass_down)) {
		talk_term_hide(t->term);
		fputs(said, stderr);
		if (outage && !t->s->quiet)
			fputs("nexus: talk: trying again until chatd answers\n", stderr);
		fflush(stderr);
		talk_term_show(t->term);
	}
	t->pass_down = outage;
	return r;
}
