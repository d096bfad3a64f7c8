/* nexus call ROOM [--open] [--once] [--link-only] [--watch-only]
 * [--video-port N]: ask videod for a one-time login link to the room's
 * call, print it (or open it), then show who is in the call, live, from
 * videod's event stream. --link-only stops after the link, --watch-only
 * mints no link: the full-screen client runs them as children for /call
 * and to mark call members, so its screen never waits on videod.
 *
 * videod shares chatd's certificate, so the chat server's pin covers it:
 * the fingerprint is checked before the token is sent (https.c). A short
 * blocking HTTPS exchange is all this needs; the watch is one long
 * response read line by line (HTTP/1.0, so no chunked framing). */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define CALL_DEFAULT_PORT PROTO_PORT_VIDEO
#define CALL_WATCH_SECS 60 /* videod pings every 15 s */
#define CALL_RESP_MAX (64 * 1024)

struct call_cmd {
	int open, once, link_only, watch_only;
	uint16_t port;
};

static const char *json_error(json_t *o)
{
	json_t *e = json_object_get(o, "error");

	return json_is_string(e) ? json_string_value(e) : "unexpected answer";
}

static int status_exit(int status)
{
	switch (status) {
	case 401:
		return EXIT_AUTH;
	case 403:
		return EXIT_FORBIDDEN;
	case 404:
		return EXIT_NOT_FOUND;
	case 429:
		return EXIT_RATE;
	default:
		return EXIT_SERVER;
	}
}

/* POST /api/link: a one-time code for the link. */
static int call_link(struct settings *s, const struct call_cmd *cc, const char *token,
                     const char *room, char *ret_room, char *code, size_t codelen)
{
	struct https h = {.fd = -1};
	json_t *req = json_pack("{s:s}", "room", room), *resp = NULL;
	char *body = json_dumps(req, JSON_COMPACT), *hdr = NULL, *rbody = NULL;
	int r, status = 0, rc = EXIT_SERVER;

	json_decref(req);
	r = https_open(s, cc->port, "videod", &h);
	if (r) {
		rc = r;
		goto out;
	}
	if (!body || asprintf(&hdr,
	                      "POST /api/link HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
	                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	                      "Connection: close\r\n\r\n",
	                      s->server, token, strlen(body)) < 0) {
		hdr = NULL;
		rc = EXIT_ERROR;
		goto out;
	}
	if (https_write(&h, hdr, strlen(hdr)) < 0 || https_write(&h, body, strlen(body)) < 0 ||
	    https_read_all(&h, &status, &rbody) < 0) {
		out_err("videod did not answer");
		rc = EXIT_NETWORK;
		goto out;
	}
	resp = json_loads(rbody, 0, NULL);
	if (status != 200 || !json_is_string(json_object_get(resp, "code"))) {
		out_err("%s%s", json_error(resp), status == 401 ? ": run nexus login" : "");
		rc = status_exit(status);
		goto out;
	}
	snprintf(code, codelen, "%s", json_string_value(json_object_get(resp, "code")));
	snprintf(ret_room, PROTO_ROOM_MAX + 1, "%s",
	         json_is_string(json_object_get(resp, "room"))
	             ? json_string_value(json_object_get(resp, "room"))
	             : room);
	rc = 0;
out:
	json_decref(resp);
	free(body);
	free(hdr);
	free(rbody);
	https_close(&h);
	return rc;
}

static void url_escape(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 4 < size; in++) {
		unsigned char ch = (unsigned char)*in;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", ch);
	}
	out[o] = '\0';
}

/* One line per change of who is in the call and how (speaking is left out:
 * it changes many times a second). */
static void call_print(const struct settings *s, const char *room, json_t *state, char **last)
{
	json_t *list = json_object_get(state, "participants"), *p;
	char *line = NULL, buf[PROTO_NAME_MAX * 4 + 64], ts[32];
	size_t i, len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return;
	json_array_foreach(list, i, p)
	{
		const char *u = json_string_value(json_object_get(p, "user"));

		fprintf(f, "%s%s%s%s%s", i ? ", " : "",
		        out_clean_str(buf, sizeof(buf), u ? u : "?"),
		        json_is_true(json_object_get(p, "muted")) ? " (muted)" : "",
		        json_is_true(json_object_get(p, "camera_off")) ? " (camera off)" : "",
		        json_is_true(json_object_get(p, "hand")) ? " (hand raised)" : "");
	}
	fclose(f);
	if (*last && strcmp(*last, line) == 0) {
		free(line);
		return;
	}
	free(*last);
	*last = line;
	if (s->json) {
		struct jw w;

		jw_begin(&w, stdout);
		jw_u64(&w, "ts", (uint64_t)time(NULL) * 1000);
		jw_str(&w, "room", room);
		jw_open(&w, "participants", '[');
		json_array_foreach(list, i, p)
		{
			const char *u = json_string_value(json_object_get(p, "user"));

			jw_open(&w, NULL, '{');
			jw_str(&w, "user", u ? u : "");
			jw_bool(&w, "muted", json_is_true(json_object_get(p, "muted")));
			jw_bool(&w, "camera_off", json_is_true(json_object_get(p, "camera_off")));
			jw_bool(&w, "hand", json_is_true(json_object_get(p, "hand")));
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_end(&w);
		return;
	}
	printf("%s in the call (%zu): %s\n",
	       out_time((uint64_t)time(NULL) * 1000, 0, ts, sizeof(ts)), json_array_size(list),
	       json_array_size(list) ? line : "nobody");
	out_flush();
}

/* Read the event stream until it ends. Returns 0 when it ended, or an exit
 * status for failures that retrying will not fix. */
static int call_watch_once(struct settings *s, const struct call_cmd *cc, const char *token,
                           const char *room, char **last)
{
	struct https h = {.fd = -1};
	char esc[PROTO_ROOM_MAX * 3 + 1], *req = NULL, line[CALL_RESP_MAX];
	size_t len = 0;
	int r, n, first = 1, in_state = 0;

	r = https_open(s, cc->port, "videod", &h);
	if (r) {
		https_close(&h);
		return r == EXIT_NETWORK ? 0 : r;
	}
	url_escape(room, esc, sizeof(esc));
	if (asprintf(
	        &req,
	        "GET /api/watch?room=%s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n",
	        esc, s->server, token) < 0 ||
	    https_write(&h, req, strlen(req)) < 0) {
		free(req);
		https_close(&h);
		return 0;
	}
	free(req);
	https_set_timeout(&h, CALL_WATCH_SECS);
	r = 0;
	while ((n = https_read(&h, line + len, sizeof(line) - 1 - len)) > 0) {
		char *nl;

		len += (size_t)n;
		line[len] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			if (first) {
				int status = strncmp(line, "HTTP/1.", 7) == 0 ? atoi(line + 9) : 0;

				first = 0;
				if (status != 200) {
					out_err("videod refused to show the call (HTTP %d)%s",
					        status, status == 401 ? ": run nexus login" : "");
					r = status_exit(status);
					goto out;
				}
			} else if (strcmp(line, "event: state") == 0) {
				in_state = 1;
			} else if (in_state && strncmp(line, "data: ", 6) == 0) {
				json_t *o = json_loads(line + 6, 0, NULL);

				if (o)
					call_print(s, room, o, last);
				json_decref(o);
				in_state = 0;
				if (cc->once)
					goto out;
			}
			n = (int)(nl + 1 - line);
			memmove(line, nl + 1, len - (size_t)n + 1);
			len -= (size_t)n;
		}
		if (len >= sizeof(line) - 1)
			len = 0; /* an absurd line: drop it */
	}
out:
	https_close(&h);
	return r;
}

static void call_open(const char *url)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("xdg-open", "xdg-open", url, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		out_err("cannot open a browser: %s", strerror(errno));
}

static int call_opt(int key, const char *arg, void *ctx)
{
	struct call_cmd *cc = ctx;
	uint64_t v;

	switch (key) {
	case 'o':
		cc->open = 1;
		return 0;
	case '1':
		cc->once = 1;
		return 0;
	case 'w':
		cc->watch_only = 1;
		return 0;
	case 'l':
		cc->link_only = 1;
		return 0;
	case 'V':
		if (cli_u64(arg, 65535, &v) < 0 || v == 0)
			return cli_usage("call", "--video-port: not a port: %s", arg);
		cc->port = (uint16_t)v;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

/* Whoever read our output (the full-screen client's pipe) is gone: a pipe
 * with no reader polls as an error. Without this check a watch whose
 * client was killed retried for ever while videod was down. */
static int call_reader_gone(void)
{
	struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

static int call_watch(struct settings *s, const struct call_cmd *cc, const char *token,
                      const char *room)
{
	char *last = NULL;
	int r, delay = 1;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		r = call_watch_once(s, cc, token, room, &last);
		if (r || cc->once || call_reader_gone())
			break;
		/* the list is no longer known: say so to whoever follows it */
		if (cc->watch_only && last && last[0])
			call_print(s, room, NULL, &last);
		fprintf(stderr, "nexus: call watch lost, reconnecting\n");
		sleep((unsigned)delay);
		if (call_reader_gone())
			break;
		delay = delay < 8 ? delay * 2 : 10;
	}
	free(last);
	return r;
}

/* The saved login's token, still valid; else EXIT_AUTH (said). */
static int call_token_load(struct settings *s, char *token)
{
	char user[PROTO_NAME_MAX + 1];
	uint64_t expiry;

	if (settings_token_load(s, user, token, &expiry) < 0 || expiry <= (uint64_t)time(NULL)) {
		out_err("not logged in to %s; run: %s login", s->host_port, settings_cmd_prefix(s));
		return EXIT_AUTH;
	}
	return 0;
}

/* The token (PROTO_SECRET_MAX + 1), the one-time code and the link for
 * ROOM, whose canonical name goes to canon (PROTO_ROOM_MAX + 1). 0, or an
 * exit status (said). */
static int call_url(struct settings *s, const struct call_cmd *cc, const char *room, char *canon,
                    char *url, size_t urlsize, char *token)
{
	char code[80];
	int r;

	r = call_token_load(s, token);
	if (r)
		return r;
	r = call_link(s, cc, token, room, canon, code, sizeof(code));
	if (r)
		return r;
	snprintf(url, urlsize,
	         strchr(s->server, ':') ? "https://[%s]:%u/join#code=%s&room="
	                                : "https://%s:%u/join#code=%s&room=",
	         s->server, cc->port, code);
	url_escape(canon, url + strlen(url), urlsize - strlen(url));
	return 0;
}

/* --watch-only: the saved login, no link; the room as given (videod
 * names it in each line). */
static int call_watch_only(struct settings *s, const struct call_cmd *cc, const char *room)
{
	char token[PROTO_SECRET_MAX + 1];
	int r;

	r = call_token_load(s, token);
	if (r)
		return r;
	r = call_watch(s, cc, token, room);
	explicit_bzero(token, sizeof(token));
	return r;
}

int cmd_call(struct settings *s, int argc, char **argv)
{
	static const struct option opts[] = {{"open", no_argument, NULL, 'o'},
	                                     {"once", no_argument, NULL, '1'},
	                                     {"watch-only", no_argument, NULL, 'w'},
	                                     {"link-only", no_argument, NULL, 'l'},
	                                     {"video-port", required_argument, NULL, 'V'},
	                                     {0}};
	struct call_cmd cc = {0};
	char room[PROTO_ROOM_MAX + 1], canon[PROTO_ROOM_MAX + 1];
	char token[PROTO_SECRET_MAX + 1], url[SETTINGS_HOST_MAX + 256];
	const char *env = getenv("NEXUS_VIDEO_PORT");
	uint64_t v;
	int first, r;

	cc.port = CALL_DEFAULT_PORT;
	if (env && cli_u64(env, 65535, &v) == 0 && v > 0)
		cc.port = (uint16_t)v;
	r = cli_parse(s, argc, argv, "", opts, call_opt, &cc, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first + 1 != argc)
		return cli_usage("call", first < argc ? "one room only" : "which room?");
	if (cli_room("call", argv[first], room))
		return EXIT_USAGE;
	r = settings_resolve(s);
	if (r)
		return r;
	if (cc.watch_only && cc.link_only)
		return cli_usage("call", "--link-only and --watch-only exclude each other");
	if (cc.watch_only)
		return call_watch_only(s, &cc, room);
	r = call_url(s, &cc, room, canon, url, sizeof(url), token);
	if (r)
		return r;
	if (s->json)
		printf("{\"url\":\"%s\",\"room\":", url), out_json_str(stdout, canon),
		    printf("}\n");
	else
		printf("%s\n", url);
	out_flush();
	if (cc.open)
		call_open(url);
	if (cc.link_only) {
		explicit_bzero(token, sizeof(token));
		return 0;
	}
	return call_watch(s, &cc, token, canon);
}
