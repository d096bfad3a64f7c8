/* request: the one-request commands' ground floor. request_main logs in
 * (prompting when it may), sends one message and hands its replies to the
 * command's callback; simple_reply_cb is the callback of the commands whose
 * answer is a plain OK. */
#include "client.h"

#include <errno.h>
#include <string.h>

struct request {
	struct msg *m;
	client_reply_fn fn;
	void *arg;
};

static void request_ready(struct client *c, void *arg)
{
	struct request *rq = arg;
	int r = client_request(c, rq->m, rq->fn, rq->arg);

	if (r == -EINVAL)
		client_fail(c, EXIT_USAGE,
		            "arguments must be UTF-8 text without control characters");
	else if (r == -EMSGSIZE)
		client_fail(c, EXIT_USAGE, "argument too long");
	else if (r < 0)
		client_fail(c, EXIT_ERROR, "cannot send the request: %s", strerror(-r));
}

int request_main(struct settings *s, struct msg *m, client_reply_fn fn, void *arg)
{
	struct client_cbs cbs = {.ready = request_ready};
	struct request rq = {m, fn, arg};

	return client_main(s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, &rq);
}

void simple_reply_cb(struct client *c, const struct msg *m, void *arg)
{
	struct simple_reply *sr = arg;
	const struct settings *s = client_settings(c);
	struct jw w;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, sr->subject);
		return;
	}
	if (m->type != MSG_OK)
		return;
	if (s->json) {
		jw_begin(&w, stdout);
		jw_bool(&w, "ok", 1);
		if (sr->id)
			jw_u64(&w, "id", sr->id);
		jw_end(&w);
	} else if (!s->quiet && sr->text[0]) {
		out_clean(stdout, sr->text);
		fputc('\n', stdout);
		out_flush();
	}
	client_done(c, 0);
}
