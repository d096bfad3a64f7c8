/* share: what a user may see and do with files. Every file has its
 * owner's own link (only the owner may pull through it; anyone else is
 * told it is not shared with them); sharing with a room or a user makes a
 * new unguessable link that any logged-in user who holds it may pull
 * through until the owner revokes it. A file is listed to its owner, to
 * the users it was shared with by name, and to those who show a room pass
 * for a room it was shared with; the room also learns of it through the
 * notice the client posts there. */
#include "filed.h"
#include "log.h"
#include "ratelimit.h"

#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool share_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FILED_NAME_MAX || !proto_utf8_valid(name, n, 0))
		return false;
	if (strchr(name, '/') || strchr(name, '\t'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static bool share_link_valid(const char *link)
{
	if (strlen(link) != FILED_LINK_LEN)
		return false;
	for (const char *p = link; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7')))
			return false;
	return true;
}

void share_send_info(struct session *s, uint32_t req, const struct file_rec *f,
                     const struct share_rec *sh)
{
	struct msg *m = xcalloc(1, sizeof(*m));
	bool own = strcmp(f->owner, s->fs.user) == 0;

	proto_msg_init(m, MSG_FILE_INFO);
	m->req = req;
	m->id = f->id;
	m->size = f->size;
	m->ts = f->ts;
	m->flags = own ? MF_OWNER : MF_SHARED;
	memcpy(m->hash, f->hash, PROTO_HASH_LEN);
	snprintf(m->user, sizeof(m->user), "%s", f->owner);
	if (sh) {
		snprintf(m->room, sizeof(m->room), "%s", sh->room);
		snprintf(m->secret, sizeof(m->secret), "%s", sh->link);
	} else if (own) {
		snprintf(m->secret, sizeof(m->secret), "%s", f->link);
	}
	snprintf(m->text, sizeof(m->text), "%s", f->name);
	front_send(&s->fs, m);
	free(m);
}

int share_resolve(const char *user, const char *link, struct file_rec *ret_file,
                  struct share_rec *ret_share, char *why, size_t whylen)
{
	int r;

	memset(ret_share, 0, sizeof(*ret_share));
	snprintf(why, whylen, "no such file or link");
	if (!share_link_valid(link))
		return ERR_NOT_FOUND;
	r = store_file_by_link(link, ret_file);
	if (r == 0 && strcmp(ret_file->owner, user) == 0)
		return 0;
	if (r == 0) {
		/* An owner's link is theirs alone. Whoever holds it was given it
		 * by the owner (it cannot be guessed), so say what to ask for
		 * rather than pretend it does not exist; the name stays private. */
		snprintf(why, whylen,
		         "not shared with you: this is %s's own link; ask %s to share the "
		         "file with you (nexus share LINK --to %s) or with a room",
		         ret_file->owner, ret_file->owner, user);
		return ERR_FORBIDDEN;
	}
	if (r != -ENOENT)
		goto internal;
	r = store_share_by_link(link, ret_share);
	if (r == -ENOENT)
		return ERR_NOT_FOUND;
	if (r < 0)
		goto internal;
	if (ret_share->revoked) {
		snprintf(why, whylen, "this link was revoked by the owner of the file");
		return ERR_FORBIDDEN;
	}
	r = store_file_by_id(ret_share->file, ret_file);
	if (r == -ENOENT)
		return ERR_NOT_FOUND;
	if (r == 0)
		return 0;
internal:
	snprintf(why, whylen, "cannot read the file database");
	return ERR_INTERNAL;
}

struct list_ctx {
	struct session *s;
	uint32_t req;
	uint32_t count;
};

static void share_list_cb(void *arg, const struct file_rec *f, const struct share_rec *sh)
{
	struct list_ctx *ctx = arg;

	share_send_info(ctx->s, ctx->req, f, sh);
	ctx->count++;
}

void share_handle_list(struct session *s, const struct msg *m)
{
	struct list_ctx ctx = {s, m->req, 0};

	if (store_list(s->fs.user, share_list_cb, &ctx) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot read the file database");
		return;
	}
	front_ok(&s->fs, m->req, 0, ctx.count);
}

/* Files shared with a room. filed has no chat database: the client shows
 * a room pass from chatd (ROOM_PASS), signed with the shared token key for
 * this user and room, that says the user may read the room, where the
 * notices with these links are anyway. */
void share_handle_list_room(struct session *s, const struct msg *m)
{
	struct list_ctx ctx = {s, m->req, 0};
	bool admin;
	int r = auth_pass_verify(filed.token_key, m->secret, s->fs.user, m->room,
	                         clock_wall_ms() / 1000, &admin);

	if (r == -EKEYEXPIRED) {
		front_error(&s->fs, m->req, ERR_TOKEN_EXPIRED, "the room pass for #%s expired",
		            m->room);
		return;
	}
	if (r < 0 || m->room[0] == '@' || m->room[0] == '#') {
		front_error(&s->fs, m->req, ERR_FORBIDDEN, "no valid room pass for #%s", m->room);
		return;
	}
	if (store_list_room(m->room, s->fs.user, share_list_cb, &ctx) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot read the file database");
		return;
	}
	front_ok(&s->fs, m->req, 0, ctx.count);
}

/* The caller's own file with this id: 0, or an error sent. */
static int share_own_file(struct session *s, uint32_t req, uint64_t id, struct file_rec *f)
{
	int r = store_file_by_id(id, f);

	if (r == 0 && strcmp(f->owner, s->fs.user) == 0)
		return 0;
	if (r == 0 || r == -ENOENT)
		front_error(&s->fs, req, ERR_NOT_FOUND, "you have no file %" PRIu64, id);
	else
		front_error(&s->fs, req, ERR_INTERNAL, "cannot read the file database");
	return -1;
}

void share_handle_delete(struct session *s, const struct msg *m)
{
	struct file_rec f;

	if (share_own_file(s, m->req, m->id, &f) < 0)
		return;
	if (store_file_delete(&f) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot delete the file");
		return;
	}
	log_info("%s: deleted file %" PRIu64 " \"%s\"", front_name(&s->fs), f.id, f.name);
	front_ok(&s->fs, m->req, f.id, 0);
}

void share_handle_share(struct session *s, const struct msg *m)
{
	const char *user = "";
	struct share_rec sh;
	struct file_rec f;

	if (m->room[0] == '@') {
		user = m->room + 1;
		if (!auth_name_valid(user)) {
			front_error(&s->fs, m->req, ERR_INVALID, "not a user name: %s", user);
			return;
		}
	} else if (!m->room[0]) {
		front_error(&s->fs, m->req, ERR_INVALID, "share with a room or @user");
		return;
	}
	if (share_own_file(s, m->req, m->id, &f) < 0)
		return;
	if (store_share_add(&f, m->room, user, &sh) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot record the share");
		return;
	}
	log_info("%s: shared file %" PRIu64 " with %s", front_name(&s->fs), f.id, m->room);
	share_send_info(s, m->req, &f, &sh);
	front_ok(&s->fs, m->req, f.id, 0);
}

void share_handle_unshare(struct session *s, const struct msg *m)
{
	struct share_rec sh;
	struct file_rec f;
	int r = share_link_valid(m->secret) ? store_share_by_link(m->secret, &sh) : -ENOENT;

	if (r == -ENOENT && share_link_valid(m->secret) && store_file_by_link(m->secret, &f) == 0 &&
	    strcmp(f.owner, s->fs.user) == 0) {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "that is your own link to the file, not a share; remove the file "
		            "with nexus rm %" PRIu64,
		            f.id);
		return;
	}
	if (r == 0)
		r = store_file_by_id(sh.file, &f);
	if (r == -ENOENT) {
		front_error(&s->fs, m->req, ERR_NOT_FOUND, "no such link");
		return;
	}
	if (r < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot read the file database");
		return;
	}
	if (strcmp(f.owner, s->fs.user) != 0) {
		front_error(&s->fs, m->req, ERR_FORBIDDEN,
		            "only the owner of a file can revoke its links");
		return;
	}
	if (!sh.revoked && store_share_revoke(sh.link) < 0) {
		front_error(&s->fs, m->req, ERR_INTERNAL, "cannot revoke the link");
		return;
	}
	log_info("%s: revoked the link of file %" PRIu64 " shared with %s", front_name(&s->fs),
	         f.id, sh.room);
	front_ok(&s->fs, m->req, f.id, 0);
}
