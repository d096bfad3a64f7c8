/* events: Server-Sent Events. Each participant's page holds one stream
 * (closing it leaves the call); `nexus call` watches a room by name. A
 * stream whose reader falls behind is closed rather than buffered. */
#include "videod.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#define SSE_MAX_QUEUE (1u << 20)

struct stream {
	struct evhttp_request *req;
	struct peer *peer;             /* a participant's page, or */
	char room[PROTO_ROOM_MAX + 1]; /* a watcher of this room */
	struct stream *next;
};

static struct stream *streams;
static unsigned nstreams;

unsigned events_count(void)
{
	return nstreams;
}

static void stream_unlink(struct stream *s)
{
	struct stream **pp;

	for (pp = &streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			nstreams--;
			return;
		}
	}
}

static void stream_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct stream *s = arg;
	struct peer *p = s->peer;

	(void)evcon;
	stream_unlink(s);
	/* libevent detached the request from the dying connection and left
	 * it to us: ending the reply frees it. */
	if (!evhttp_request_get_connection(s->req))
		evhttp_send_reply_end(s->req);
	if (p) {
		p->sse = NULL;
		room_peer_leave(p, "page closed");
	}
	free(s);
}

/* End a stream from our side. */
static void stream_end(struct stream *s)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);

	stream_unlink(s);
	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	if (s->peer)
		s->peer->sse = NULL;
	free(s);
}

static bool stream_slow(struct stream *s)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return !bev || evbuffer_get_length(bufferevent_get_output(bev)) > SSE_MAX_QUEUE;
}

static void stream_write(struct stream *s, const char *event, const char *data)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return;
	if (event)
		evbuffer_add_printf(b, "event: %s\ndata: %s\n\n", event, data);
	else
		evbuffer_add_printf(b, ": %s\n\n", data);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
}

static struct stream *stream_start(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct stream *s;

	if (!evcon || nstreams >= videod.cfg.max_sse) {
		evhttp_send_error(req, 503, "Too many event streams");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->req = req;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(evcon, stream_close_cb, s);
	s->next = streams;
	streams = s;
	nstreams++;
	stream_write(s, NULL, "videod");
	return s;
}

void events_attach(struct peer *p, struct evhttp_request *req)
{
	struct stream *s;
	char *json;

	if (p->sse) {
		for (s = streams; s; s = s->next)
			if (s->peer == p) {
				stream_end(s);
				break;
			}
	}
	s = stream_start(req);
	if (!s)
		return;
	s->peer = p;
	p->sse = req;
	json = room_state_json(p->room);
	if (json)
		stream_write(s, "state", json);
	free(json);
}

int events_watch(const char *room, struct evhttp_request *req)
{
	struct room *r = room_find(room);
	struct stream *s = stream_start(req);
	char *json = NULL;

	if (!s)
		return -EBUSY;
	str_copy(s->room, sizeof(s->room), room);
	if (r)
		json = room_state_json(r);
	stream_write(s, "state", json ? json : "{\"participants\":[]}");
	free(json);
	return 0;
}

void events_detach(struct peer *p)
{
	for (struct stream *s = streams; s; s = s->next) {
		if (s->peer == p) {
			stream_end(s);
			return;
		}
	}
	p->sse = NULL;
}

void events_send(struct peer *p, const char *event, const char *data)
{
	for (struct stream *s = streams; s; s = s->next)
		if (s->peer == p) {
			stream_write(s, event, data);
			return;
		}
}

/* Writes to every stream of the room; slow ones are ended afterwards, and
 * ending a participant's stream makes it leave (which may notify again),
 * so that happens from a fresh walk each time. */
static void events_to(const struct room *r, const char *name, const char *event, const char *data)
{
	struct stream *slow = NULL;

	for (struct stream *s = streams; s; s = s->next) {
		bool match = s->peer ? s->peer->room == r && r : strcmp(s->room, name) == 0;

		if (!match)
			continue;
		if (stream_slow(s)) {
			slow = s;
			continue;
		}
		stream_write(s, event, data);
	}
	if (slow) {
		struct peer *p = slow->peer;

		log_info("closing a slow event stream%s%s", p ? " of " : "", p ? p->user : "");
		stream_end(slow);
		if (p)
			room_peer_leave(p, "event stream too slow");
	}
}

void events_room(struct room *r, const char *event, const char *data)
{
	events_to(r, r->name, event, data);
}

void events_room_name(const char *room, const char *event, const char *data)
{
	events_to(NULL, room, event, data);
}

void events_ping(void)
{
	for (struct stream *s = streams; s; s = s->next)
		stream_write(s, NULL, "ping");
}

void events_free_all(void)
{
	while (streams) {
		struct stream *s = streams;
		struct peer *p = s->peer;

		stream_end(s);
		if (p)
			room_peer_leave(p, "stopping");
	}
}
