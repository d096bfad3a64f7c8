/* api: the JSON bodies of the signalling API, read with jansson into one
 * checked structure. Every field is optional here; each handler says which
 * it needs. Strings over their limit are errors, never truncated. */
#include "videod.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define API_SDP_MAX (200 * 1024)

bool api_room_valid(const char *room)
{
	size_t n = strlen(room);

	return n > 0 && n <= PROTO_ROOM_MAX && proto_utf8_valid(room, n, 0) && room[0] != ' ';
}

static int get_str(json_t *o, const char *key, char *out, size_t size, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(s = json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "\"%s\" must be a string of at most %zu bytes", key,
		         size - 1);
		return -EINVAL;
	}
	memcpy(out, s, json_string_length(v) + 1);
	return 0;
}

static int get_bool(json_t *o, const char *key, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = -1;
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

/* {"mid": "value", ...} into parallel arrays of at most max pairs. */
static int get_map(json_t *o, const char *key, const char **mids, const char **vals, int max,
                   int *ret_n, char *err, size_t errlen)
{
	json_t *m = json_object_get(o, key), *v;
	const char *k;
	int n = 0;

	*ret_n = 0;
	if (!m)
		return 0;
	if (!json_is_object(m) || json_object_size(m) > (size_t)max) {
		snprintf(err, errlen, "\"%s\" must be an object of at most %d entries", key, max);
		return -EINVAL;
	}
	json_object_foreach(m, k, v)
	{
		if (!json_is_string(v) || strlen(k) > VD_MID_MAX ||
		    json_string_length(v) >= VD_TRACK_ID_MAX) {
			snprintf(err, errlen, "\"%s\" maps mids to short strings", key);
			return -EINVAL;
		}
		mids[n] = k;
		vals[n] = json_string_value(v);
		n++;
	}
	*ret_n = n;
	return 0;
}

static int get_offer(json_t *o, struct api_req *r, char *err, size_t errlen)
{
	json_t *sdp = json_object_get(o, "sdp");
	int rc;

	if (sdp) {
		if (!json_is_string(sdp) || json_string_length(sdp) > API_SDP_MAX ||
		    strlen(json_string_value(sdp)) != json_string_length(sdp)) {
			snprintf(err, errlen, "\"sdp\" must be a string of at most %d bytes",
			         API_SDP_MAX);
			return -EINVAL;
		}
		r->offer.sdp = json_string_value(sdp);
	}
	rc = get_map(o, "publish", r->offer.pub_mid, r->offer.pub_label, VD_TRACKS_MAX,
	             &r->offer.npub, err, errlen);
	if (rc == 0)
		rc = get_map(o, "subscribe", r->offer.sub_mid, r->offer.sub_track, VD_SUBS_MAX,
		             &r->offer.nsub, err, errlen);
	return rc;
}

int api_parse(const char *body, size_t len, struct api_req *r, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->muted = r->camera_off = r->hand = -1;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "the body must be a JSON object");
		json_decref(o);
		return -EINVAL;
	}
	r->json = o;
	if (get_str(o, "room", r->room, sizeof(r->room), err, errlen) < 0 ||
	    get_str(o, "user", r->user, sizeof(r->user), err, errlen) < 0 ||
	    get_str(o, "password", r->password, sizeof(r->password), err, errlen) < 0 ||
	    get_str(o, "token", r->token, sizeof(r->token), err, errlen) < 0 ||
	    get_str(o, "code", r->code, sizeof(r->code), err, errlen) < 0 ||
	    get_str(o, "id", r->id, sizeof(r->id), err, errlen) < 0 ||
	    get_str(o, "reaction", r->reaction, sizeof(r->reaction), err, errlen) < 0 ||
	    get_bool(o, "muted", &r->muted, err, errlen) < 0 ||
	    get_bool(o, "camera_off", &r->camera_off, err, errlen) < 0 ||
	    get_bool(o, "hand", &r->hand, err, errlen) < 0 || get_offer(o, r, err, errlen) < 0)
		rc = -EINVAL;
	if (rc == 0 && r->room[0] && !api_room_valid(r->room)) {
		snprintf(err, errlen, "not a room name");
		rc = -EINVAL;
	}
	if (rc == 0 && r->reaction[0] && !proto_utf8_valid(r->reaction, strlen(r->reaction), 0)) {
		snprintf(err, errlen, "not a reaction");
		rc = -EINVAL;
	}
	if (rc < 0)
		api_req_free(r);
	return rc;
}

void api_req_free(struct api_req *r)
{
	json_decref(r->json);
	r->json = NULL;
	explicit_bzero(r->password, sizeof(r->password));
	explicit_bzero(r->token, sizeof(r->token));
}
