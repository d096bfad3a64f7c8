/* room: call rooms (named after chat rooms), their participants, the tracks
 * each publishes (audio, camera, screen: one slot each) and who receives
 * which track on which of their m-lines. Offers are applied here. */
#include "videod.h"
#include "log.h"
#include "svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#define NOTIFY_MS 50

static const char *const labels[VD_TRACKS_MAX] = {"audio", "camera", "screen"};
static struct room *rooms;

void room_init(void)
{
	rooms = NULL;
}

struct room *room_find(const char *name)
{
	for (struct room *r = rooms; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static void room_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct room *r = arg;
	char *json;

	(void)fd;
	(void)what;
	json = room_state_json(r);
	if (json) {
		events_room(r, "state", json);
		free(json);
	}
}

void room_changed(struct room *r)
{
	struct timeval tv = {0, NOTIFY_MS * 1000};

	if (!r)
		return;
	r->version++;
	if (!evtimer_pending(r->notify_ev, NULL))
		evtimer_add(r->notify_ev, &tv);
}

static struct room *room_get(const char *name)
{
	struct room *r = room_find(name);

	if (r)
		return r;
	r = xcalloc(1, sizeof(*r));
	str_copy(r->name, sizeof(r->name), name);
	r->notify_ev = evtimer_new(videod.base, room_notify_cb, r);
	if (!r->notify_ev)
		fatal("out of memory");
	r->next = rooms;
	rooms = r;
	videod.nrooms++;
	return r;
}

static void room_free(struct room *r)
{
	struct room **pp;

	for (pp = &rooms; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	event_free(r->notify_ev);
	free(r);
	videod.nrooms--;
}

struct peer *room_peer_new(const char *name, const char *user, int *ret_err)
{
	struct room *r = room_find(name);
	struct peer *p;

	if (videod.npeers >= videod.cfg.max_peers) {
		*ret_err = -EUSERS;
		return NULL;
	}
	if (r && r->npeers >= videod.cfg.max_participants) {
		*ret_err = -ENOSPC;
		return NULL;
	}
	r = room_get(name);
	p = xcalloc(1, sizeof(*p));
	vd_random_hex(p->id, VD_ID_LEN);
	vd_random_hex(p->ufrag, 8);
	vd_random_hex(p->pwd, 24);
	str_copy(p->user, sizeof(p->user), user);
	p->rtcp_ssrc = (uint32_t)strtoul(p->pwd + 16, NULL, 16) | 1;
	for (int i = 0; i < VD_TRACKS_MAX; i++) {
		p->tracks[i].owner = p;
		str_copy(p->tracks[i].label, sizeof(p->tracks[i].label), labels[i]);
	}
	p->ntracks = VD_TRACKS_MAX;
	p->created_ms = p->last_consent_ms = p->last_seen_ms = vd_now_ms();
	p->room = r;
	p->next = r->peers;
	r->peers = p;
	r->npeers++;
	videod.npeers++;
	log_info("%s joined call %s (%s, %u in the call)", user, name, p->id, r->npeers);
	room_changed(r);
	return p;
}

struct peer *room_peer_find(const char *id)
{
	for (struct room *r = rooms; r; r = r->next)
		for (struct peer *p = r->peers; p; p = p->next)
			if (strcmp(p->id, id) == 0)
				return p;
	return NULL;
}

struct peer *room_peer_by_ufrag(const char *ufrag)
{
	for (struct room *r = rooms; r; r = r->next)
		for (struct peer *p = r->peers; p; p = p->next)
			if (strcmp(p->ufrag, ufrag) == 0)
				return p;
	return NULL;
}

struct track *room_track_find(struct room *r, const char *id)
{
	for (struct peer *p = r->peers; p; p = p->next)
		for (int i = 0; i < p->ntracks; i++)
			if (p->tracks[i].ssrc && strcmp(p->tracks[i].id, id) == 0)
				return &p->tracks[i];
	return NULL;
}

static void sub_unlink(struct sub *s)
{
	struct sub **pp;

	if (!s->track)
		return;
	for (pp = &s->track->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->track = NULL;
	s->next = NULL;
	s->mid[0] = '\0';
}

static void track_clear(struct track *t)
{
	while (t->subs)
		sub_unlink(t->subs);
	t->ssrc = 0;
	t->id[0] = '\0';
	t->live = false;
	t->packets = t->bytes = 0;
}

void room_peer_tracks_clear(struct peer *p)
{
	for (int i = 0; i < p->ntracks; i++)
		track_clear(&p->tracks[i]);
	for (int i = 0; i < p->nsubs; i++)
		sub_unlink(&p->subs[i]);
	p->nsubs = 0;
}

void room_peer_leave(struct peer *p, const char *why)
{
	struct room *r = p->room;
	struct peer **pp;

	log_info("%s left call %s (%s: %s)", p->user, r->name, p->id, why);
	for (int i = 0; i < p->ntracks; i++)
		if (p->tracks[i].ssrc)
			log_debug("  %s: %s ssrc %08x pt %u: %llu packets in", p->id,
			          p->tracks[i].label, p->tracks[i].ssrc, p->tracks[i].codec.pt,
			          (unsigned long long)p->tracks[i].packets);
	for (int i = 0; i < p->nsubs; i++)
		if (p->subs[i].track)
			log_debug("  %s: mid %s <- %s pt %u: %llu packets out", p->id,
			          p->subs[i].mid, p->subs[i].track->id, p->subs[i].pt,
			          (unsigned long long)p->subs[i].packets);
	log_debug("  %s: %llu packets from the browser, %llu dropped", p->id,
	          (unsigned long long)p->packets_in, (unsigned long long)p->dropped);
	room_peer_tracks_clear(p);
	events_detach(p);
	media_peer_free(p);
	for (pp = &r->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	r->npeers--;
	videod.npeers--;
	free(p);
	if (r->npeers == 0) {
		/* Watchers (nexus call) hear that the call is empty. */
		char *json = room_state_json(r);

		if (json)
			events_room_name(r->name, "state", json);
		free(json);
		room_free(r);
	} else {
		room_changed(r);
	}
}

void room_free_all(void)
{
	while (rooms) {
		if (rooms->peers)
			room_peer_leave(rooms->peers, "stopping"); /* frees the room last */
		else
			room_free(rooms);
	}
}

static int label_slot(const char *label)
{
	for (int i = 0; i < VD_TRACKS_MAX; i++)
		if (label && strcmp(labels[i], label) == 0)
			return i;
	return -1;
}

/* The label the page gave the m-line, or the natural one. */
static int pub_slot(const struct room_offer *o, const struct sdp_media *m, bool *used)
{
	for (int i = 0; i < o->npub; i++) {
		int s;

		if (strcmp(o->pub_mid[i], m->mid) != 0)
			continue;
		s = label_slot(o->pub_label[i]);
		if (s >= 0 && !used[s] && (s == 0) == (m->kind == SDP_AUDIO))
			return s;
		return -1;
	}
	if (m->kind == SDP_AUDIO)
		return used[0] ? -1 : 0;
	return !used[1] ? 1 : !used[2] ? 2 : -1;
}

static void apply_publish(struct peer *p, const struct room_offer *o, struct sdp_offer *off,
                          struct sdp_answer *ans)
{
	bool used[VD_TRACKS_MAX] = {false, false, false};

	for (int i = 0; i < off->n; i++) {
		struct sdp_media *m = &off->m[i];
		int c = sdp_pick_codec(m), slot;
		struct track *t;

		if (!(m->dir & SDP_SENDONLY) || c < 0 || !m->ssrc)
			continue;
		slot = pub_slot(o, m, used);
		if (slot < 0)
			continue;
		used[slot] = true;
		ans->m[i].codec = c;
		ans->m[i].dir = SDP_RECVONLY;
		t = &p->tracks[slot];
		if (t->ssrc != m->ssrc || strcasecmp(t->codec.name, m->codecs[c].name) != 0) {
			track_clear(t);
			t->ssrc = m->ssrc;
			char id[VD_TRACK_ID_MAX];

			snprintf(id, sizeof(id), "%.16s-%s-%08x", p->id, labels[slot], m->ssrc);
			memcpy(t->id, id, sizeof(id));
		}
		t->kind = m->kind;
		t->codec = m->codecs[c];
		t->ext_level = m->ext_level;
	}
	for (int s = 0; s < VD_TRACKS_MAX; s++)
		if (!used[s] && p->tracks[s].ssrc)
			track_clear(&p->tracks[s]);
}

static const char *sub_wanted(const struct room_offer *o, const char *mid)
{
	for (int i = 0; i < o->nsub; i++)
		if (strcmp(o->sub_mid[i], mid) == 0)
			return o->sub_track[i];
	return NULL;
}

static struct sub *sub_slot(struct peer *p, const char *mid)
{
	struct sub *free_slot = NULL;

	for (int i = 0; i < p->nsubs; i++) {
		if (p->subs[i].track && strcmp(p->subs[i].mid, mid) == 0)
			return &p->subs[i];
		if (!p->subs[i].track && !free_slot)
			free_slot = &p->subs[i];
	}
	if (free_slot)
		return free_slot;
	return p->nsubs < VD_SUBS_MAX ? &p->subs[p->nsubs++] : NULL;
}

/* The subscriber's number for the publisher's codec, or -1. */
static int sub_codec(const struct sdp_media *m, const struct track *t)
{
	for (int i = 0; i < m->ncodecs; i++)
		if (strcasecmp(m->codecs[i].name, t->codec.name) == 0 &&
		    m->codecs[i].clock == t->codec.clock)
			return i;
	return -1;
}

static void sub_bind(struct peer *p, struct sdp_media *m, struct track *t, int c)
{
	struct sub *s = sub_slot(p, m->mid);

	if (!s)
		return;
	if (s->track != t) {
		sub_unlink(s);
		s->peer = p;
		s->track = t;
		str_copy(s->mid, sizeof(s->mid), m->mid);
		s->next = t->subs;
		t->subs = s;
		if (media_peer_ready(p))
			media_request_keyframe(t);
	}
	s->pt = m->codecs[c].pt;
}

static void apply_subscribe(struct peer *p, const struct room_offer *o, struct sdp_offer *off,
                            struct sdp_answer *ans)
{
	bool keep[VD_SUBS_MAX] = {false};

	for (int i = 0; i < off->n; i++) {
		struct sdp_media *m = &off->m[i];
		const char *want;
		struct track *t;
		int c;

		if (m->port == 0 || m->dir != SDP_RECVONLY)
			continue;
		ans->m[i].codec = sdp_pick_codec(m);
		ans->m[i].dir = SDP_INACTIVE;
		want = sub_wanted(o, m->mid);
		t = want ? room_track_find(p->room, want) : NULL;
		if (!t || t->owner == p || t->kind != m->kind || (c = sub_codec(m, t)) < 0)
			continue;
		sub_bind(p, m, t, c);
		ans->m[i].codec = c;
		ans->m[i].dir = SDP_SENDONLY;
		ans->m[i].ssrc = t->ssrc;
		ans->m[i].stream = t->owner->id;
		ans->m[i].track = t->id;
		for (int k = 0; k < p->nsubs; k++)
			if (p->subs[k].track == t && strcmp(p->subs[k].mid, m->mid) == 0)
				keep[k] = true;
	}
	for (int k = 0; k < p->nsubs; k++)
		if (!keep[k])
			sub_unlink(&p->subs[k]);
}

static int offer_check(struct peer *p, const struct sdp_offer *off, char *err, size_t errlen)
{
	if (strcmp(off->setup, "actpass") != 0 && strcmp(off->setup, "active") != 0) {
		snprintf(err, errlen, "the offer must let us be the DTLS server (a=setup:%s)",
		         off->setup);
		return -EINVAL;
	}
	if (p->remote_fp[0] && strcasecmp(p->remote_fp, off->fingerprint) != 0) {
		snprintf(err, errlen, "the DTLS certificate changed: join again");
		return -EINVAL;
	}
	for (int i = 0; i < off->n; i++) {
		if (off->m[i].port && !off->m[i].rtcp_mux) {
			snprintf(err, errlen, "m-line %s lacks rtcp-mux", off->m[i].mid);
			return -EINVAL;
		}
	}
	return 0;
}

int room_peer_offer(struct peer *p, const struct room_offer *o, char *answer, size_t cap, char *err,
                    size_t errlen)
{
	struct sdp_offer *off = malloc(sizeof(*off));
	struct sdp_answer *ans = malloc(sizeof(*ans));
	int r = -ENOMEM;

	if (!off || !ans) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = sdp_parse(o->sdp, strlen(o->sdp), off);
	if (r < 0) {
		snprintf(err, errlen, r == -E2BIG ? "too many m-lines" : "malformed SDP offer");
		goto out;
	}
	r = offer_check(p, off, err, errlen);
	if (r < 0)
		goto out;
	memset(ans, 0, sizeof(*ans));
	for (int i = 0; i < off->n; i++)
		ans->m[i].codec = -1;
	apply_publish(p, o, off, ans);
	apply_subscribe(p, o, off, ans);
	/* Keep every usable m-line, inactive if nothing flows on it: rejecting
	 * the first one would break the BUNDLE group it tags. */
	for (int i = 0; i < off->n; i++) {
		if (ans->m[i].codec < 0 && off->m[i].port) {
			ans->m[i].codec = sdp_pick_codec(&off->m[i]);
			ans->m[i].dir = SDP_INACTIVE;
		}
	}
	ans->ufrag = p->ufrag;
	ans->pwd = p->pwd;
	ans->fingerprint = videod.dtls_fp;
	ans->ncandidates = media_candidates(ans->candidates, 8);
	ans->port = media_port();
	r = sdp_answer_build(off, ans, answer, cap);
	if (r < 0) {
		snprintf(err, errlen, "the answer does not fit");
		goto out;
	}
	str_copy(p->remote_ufrag, sizeof(p->remote_ufrag), off->ufrag);
	str_copy(p->remote_fp, sizeof(p->remote_fp), off->fingerprint);
	r = media_peer_start(p);
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	room_changed(p->room);
out:
	free(off);
	free(ans);
	return r < 0 ? r : 0;
}

static json_t *peer_json(const struct peer *p)
{
	json_t *tracks = json_array(), *o;

	for (int i = 0; i < p->ntracks; i++) {
		const struct track *t = &p->tracks[i];

		if (!t->ssrc)
			continue;
		json_array_append_new(tracks,
		                      json_pack("{s:s, s:s, s:s}", "id", t->id, "label", t->label,
		                                "kind", t->kind == SDP_AUDIO ? "audio" : "video"));
	}
	o = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:o}", "id", p->id, "user", p->user,
	              "muted", p->muted, "camera_off", p->camera_off, "hand", p->hand, "speaking",
	              p->speaking, "connected", media_peer_ready(p), "tracks", tracks);
	return o;
}

char *room_state_json(const struct room *r)
{
	json_t *list = json_array(), *o;
	char *s;

	for (const struct peer *p = r->peers; p; p = p->next)
		json_array_append_new(list, peer_json(p));
	o = json_pack("{s:s, s:I, s:o}", "room", r->name, "version", (json_int_t)r->version,
	              "participants", list);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

void room_tick(bool second)
{
	uint64_t now = vd_now_ms(), limit = (uint64_t)videod.cfg.session_timeout * 1000;

	for (struct room *r = rooms, *rn; r; r = rn) {
		rn = r->next;
		for (struct peer *p = r->peers, *pn; p; p = pn) {
			pn = p->next;
			media_peer_tick(p, second);
			if (p->speaking && p->speaking_until_ms <= now) {
				p->speaking = false;
				room_changed(r);
			}
			if (second && now - p->last_consent_ms > limit) {
				/* room_peer_leave may free r along with its last peer. */
				bool last = r->npeers == 1;

				room_peer_leave(p, "no ICE consent: timed out");
				if (last)
					break;
			}
		}
	}
}

/* The first participant whose token the revocation list refuses, or NULL. */
static struct peer *room_revoked_peer(void)
{
	for (struct room *r = rooms; r; r = r->next)
		for (struct peer *p = r->peers; p; p = p->next)
			if (svc_token_revoked(videod.revoke, p->user, p->issued_ms))
				return p;
	return NULL;
}

void room_revoked(void)
{
	static const char msg[] = "{\"message\":\"" SVC_REVOKED_TEXT "\"}";
	struct peer *p;

	/* room_peer_leave may free the room: a fresh walk after each. */
	while ((p = room_revoked_peer())) {
		log_info("%s: login revoked (" SVC_REVOKED_WHY "), call ended", p->user);
		events_send(p, "revoked", msg);
		room_peer_leave(p, "login revoked");
	}
}
