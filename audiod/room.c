/* room: voice rooms, their members, mute, events, recording requests.
 *
 * Membership follows the chat rooms without a chat database here: chatd
 * signs a short-lived room pass (ROOM_PASS) for a user who may read the
 * room (public rooms: everyone; private rooms and DMs: members) and the
 * client presents it in VOICE_JOIN. We verify it with the shared token key
 * against the session's user and the room named, so a pass cannot be used
 * by someone else or for another room. The pass also says whether the user
 * is an admin (mute others, record). */
#include "audiod.h"
#include "conn.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

static struct room *room_find(const char *name)
{
	for (struct room *r = audiod.rooms; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static struct room *room_new(const char *name)
{
	struct room *r = xcalloc(1, sizeof(*r));

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->shared = mixer_encoder_new();
	r->next = audiod.rooms;
	if (audiod.rooms)
		audiod.rooms->prev = r;
	audiod.rooms = r;
	audiod.nrooms++;
	log_debug("voice room %s opened", name);
	return r;
}

static void room_free(struct room *r)
{
	record_stop(r);
	if (r->prev)
		r->prev->next = r->next;
	else
		audiod.rooms = r->next;
	if (r->next)
		r->next->prev = r->prev;
	audiod.nrooms--;
	opus_encoder_destroy(r->shared);
	free(r);
}

void room_free_all(void)
{
	while (audiod.rooms)
		room_free(audiod.rooms);
}

void room_event(struct room *r, const char *user, uint32_t kind, uint32_t flags, uint64_t size,
                const char *text)
{
	uint8_t frame[PROTO_HEADER_LEN + 256 + PROTO_TEXT_MAX];
	struct msg e;
	long n;

	proto_msg_init(&e, MSG_VOICE_EVENT);
	snprintf(e.room, sizeof(e.room), "%s", r->name);
	snprintf(e.user, sizeof(e.user), "%s", user);
	e.count = kind;
	e.flags = flags;
	e.size = size;
	e.ts = clock_wall_ms();
	snprintf(e.text, sizeof(e.text), "%s", text ? text : "");
	/* encoded once, the same bytes to every member (levels go to the
	 * whole room four times a second) */
	n = proto_encode(&e, frame, sizeof(frame));
	if (n < 0) {
		log_warn("%s: cannot encode a voice event", r->name);
		return;
	}
	for (struct member *m = r->members; m; m = m->room_next)
		front_send_frame(&m->fs, frame, (size_t)n);
}

static struct member *room_member(struct room *r, const char *user)
{
	for (struct member *m = r->members; m; m = m->room_next)
		if (strcmp(m->fs.user, user) == 0)
			return m;
	return NULL;
}

void room_remove(struct member *m)
{
	struct room *r = m->room;

	if (!r)
		return;
	if (m->room_prev)
		m->room_prev->room_next = m->room_next;
	else
		r->members = m->room_next;
	if (m->room_next)
		m->room_next->room_prev = m->room_prev;
	m->room_next = m->room_prev = NULL;
	m->room = NULL;
	r->nmembers--;
	talker_free(m->talker);
	m->talker = NULL;
	log_debug("%s left voice room %s", m->fs.user, r->name);
	if (r->nmembers == 0)
		room_free(r);
	else
		room_event(r, m->fs.user, VOICE_LEAVE, 0, 0, NULL);
}

static int room_check_pass(struct member *m, const struct msg *msg, char *why, size_t whylen)
{
	bool admin = false;
	int r = auth_pass_verify(audiod.token_key, msg->secret, m->fs.user, msg->room,
	                         clock_wall_ms() / 1000, &admin);

	if (r == -EKEYEXPIRED) {
		snprintf(why, whylen, "room pass expired: ask chatd for a new one");
		return ERR_TOKEN_EXPIRED;
	}
	if (r < 0) {
		snprintf(why, whylen, "no valid room pass for %s: join the chat room first",
		         msg->room);
		return ERR_FORBIDDEN;
	}
	m->admin = admin;
	return 0;
}

static void room_join_reply(struct member *m, struct room *r, uint32_t req)
{
	struct msg e;
	uint32_t n = 0;

	proto_msg_init(&e, MSG_VOICE_EVENT);
	e.req = req;
	e.count = VOICE_MEMBER;
	snprintf(e.room, sizeof(e.room), "%s", r->name);
	for (struct member *o = r->members; o; o = o->room_next) {
		if (o == m)
			continue;
		snprintf(e.user, sizeof(e.user), "%s", o->fs.user);
		e.flags = o->muted ? MF_MUTED : 0;
		e.ts = clock_wall_ms();
		front_send(&m->fs, &e);
		n++;
	}
	proto_msg_init(&e, MSG_OK);
	e.req = req;
	e.count = n;
	front_send(&m->fs, &e);
}

void room_handle_join(struct member *m, const struct msg *msg)
{
	char why[160];
	struct room *r;
	int code;

	if (m->room) {
		front_error(&m->fs, msg->req, ERR_INVALID, "already in voice room %s",
		            m->room->name);
		return;
	}
	code = room_check_pass(m, msg, why, sizeof(why));
	if (code) {
		front_error(&m->fs, msg->req, (uint16_t)code, "%s", why);
		return;
	}
	r = room_find(msg->room);
	if (!r && audiod.nrooms >= audiod.cfg.max_rooms) {
		front_error(&m->fs, msg->req, ERR_QUOTA, "too many voice rooms (%u)",
		            audiod.cfg.max_rooms);
		return;
	}
	if (r && r->nmembers >= audiod.cfg.max_members) {
		front_error(&m->fs, msg->req, ERR_QUOTA, "voice room %s is full (%u people)",
		            r->name, audiod.cfg.max_members);
		return;
	}
	if (!r)
		r = room_new(msg->room);
	m->muted = msg->flags & MF_MUTED;
	m->listen_only = msg->flags & MF_LISTEN;
	m->room = r;
	m->room_next = r->members;
	if (r->members)
		r->members->room_prev = m;
	r->members = m;
	r->nmembers++;
	room_join_reply(m, r, msg->req);
	room_event(r, m->fs.user, VOICE_JOIN, m->muted ? MF_MUTED : 0, 0, NULL);
	log_debug("%s joined voice room %s (%u people)", m->fs.user, r->name, r->nmembers);
}

void room_handle_leave(struct member *m, const struct msg *msg)
{
	struct msg ok;

	room_remove(m);
	proto_msg_init(&ok, MSG_OK);
	ok.req = msg->req;
	front_send(&m->fs, &ok);
}

void room_handle_mute(struct member *m, const struct msg *msg)
{
	struct member *target = m;
	bool mute = msg->flags & MF_MUTED;
	struct msg ok;

	if (!m->room) {
		front_error(&m->fs, msg->req, ERR_INVALID, "join a voice room first");
		return;
	}
	if (msg->user[0] && strcmp(msg->user, m->fs.user) != 0) {
		if (!m->admin) {
			front_error(&m->fs, msg->req, ERR_FORBIDDEN,
			            "only an admin can mute others");
			return;
		}
		target = room_member(m->room, msg->user);
		if (!target) {
			front_error(&m->fs, msg->req, ERR_NOT_FOUND, "%s is not in voice room %s",
			            msg->user, m->room->name);
			return;
		}
	}
	if (target->muted != mute) {
		target->muted = mute;
		if (mute && target->talker)
			jitter_init(&target->talker->jb, audiod.cfg.jitter_max);
		room_event(m->room, target->fs.user, mute ? VOICE_MUTE : VOICE_UNMUTE,
		           mute ? MF_MUTED : 0, 0, m->fs.user);
	}
	proto_msg_init(&ok, MSG_OK);
	ok.req = msg->req;
	front_send(&m->fs, &ok);
}

void room_handle_record(struct member *m, const struct msg *msg)
{
	char why[CONFIG_PATH_MAX + 200];
	struct room *r = m->room;
	struct msg ok;

	if (!r) {
		front_error(&m->fs, msg->req, ERR_INVALID, "join a voice room first");
		return;
	}
	if (!m->admin || !audiod.cfg.record) {
		front_error(&m->fs, msg->req, ERR_FORBIDDEN,
		            m->admin ? "recording is turned off on this server"
		                     : "only an admin can record a room");
		return;
	}
	if (msg->flags & 1) {
		if (!r->rec && record_start(r, why, sizeof(why)) < 0) {
			front_error(&m->fs, msg->req, ERR_INTERNAL, "%s", why);
			return;
		}
		room_event(r, m->fs.user, VOICE_RECORD, 1, 0, r->rec_name);
	} else if (r->rec) {
		snprintf(why, sizeof(why), "%s", r->rec_name);
		record_stop(r);
		room_event(r, m->fs.user, VOICE_RECORD, 0, 0, why);
	}
	proto_msg_init(&ok, MSG_OK);
	ok.req = msg->req;
	front_send(&m->fs, &ok);
}
