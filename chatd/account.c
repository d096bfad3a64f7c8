/* account: users in memory (a cache of the users table), registration,
 * login with rate-limited attempts, signed tokens, and the admin role.
 *
 * Argon2id hashing and checking take about 50 ms each; they run on the
 * hasher's thread (hasher.c), and the request finishes in account_pw_done
 * back on the loop, so a burst of logins no longer stalls chat. */
#include "chatd.h"
#include "ratelimit.h"
#include "log.h"
#include "revoke.h"
#include "svc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum user_admin_op {
	USER_ADMIN_ADD = 1,
	USER_ADMIN_REMOVE = 2,
	USER_ADMIN_RESET = 3,
	USER_ADMIN_PROMOTE = 4,
};

static struct user *account_of(struct name_link *l)
{
	/* The link is the first member of struct user. */
	return (struct user *)(void *)l;
}

struct user *account_find(const char *name)
{
	struct name_link *l = name_table_find(&chatd.users, name);

	return l ? account_of(l) : NULL;
}

static struct user *account_new(int64_t id, const char *name, bool admin, uint64_t last_seen)
{
	struct user *u = xcalloc(1, sizeof(*u));

	u->id = id;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->link.name = u->name;
	u->admin = admin;
	u->last_seen = last_seen;
	name_table_add(&chatd.users, &u->link);
	return u;
}

static void account_free(struct user *u)
{
	presence_forget_user(u);
	name_table_remove(&chatd.users, &u->link);
	free(u->rooms);
	free(u);
}

/* Users load oldest first. A database from before names were unique
 * whatever their case may hold "alice" and a newer "Alice": the older keeps
 * the name (logins and lookups by any spelling reach it), the newer is left
 * out, and each such pair is told once per start. */
static int account_load_cb(void *arg, int64_t id, const char *name, bool admin, uint64_t last_seen)
{
	struct user *old;

	(void)arg;
	if (strlen(name) > PROTO_NAME_MAX)
		return 0;
	old = account_find(name);
	if (!old) {
		account_new(id, name, admin, last_seen);
		return 0;
	}
	log_warn("user %s (id %lld) has the name of the older user %s (id %lld) in another case: "
	         "logins as %s now reach %s, and %s cannot log in; to give it a name of its own, "
	         "stop chatd and run: sqlite3 %s/%s \"UPDATE users SET name = 'NEWNAME' WHERE id "
	         "= %lld\" (its messages stay signed %s)",
	         name, (long long)id, old->name, (long long)old->id, name, old->name, name,
	         chatd.cfg.common.state_dir, CHATD_DB_NAME, (long long)id, name);
	return 0;
}

int account_load(void)
{
	return db_load_users(chatd.db, account_load_cb, NULL);
}

void account_free_all(void)
{
	hasher_stop();
	for (size_t i = 0; i < chatd.users.nbuckets; i++)
		while (chatd.users.buckets[i])
			account_free(account_of(chatd.users.buckets[i]));
	name_table_free(&chatd.users);
}

/* The user as the database has it now (chatd adduser may have added one
 * while we run); hash gets the password hash when not NULL. */
static struct user *account_fetch(const char *name, char *hash, int *ret_err)
{
	char stored[PROTO_NAME_MAX + 1];
	struct user *u;
	int64_t id;
	bool admin;
	int r = db_user_get(chatd.db, name, &id, stored, hash, &admin);

	*ret_err = r;
	if (r < 0)
		return NULL;
	/* by the name as stored, not as typed: "ALICE" logs in alice */
	u = account_find(stored);
	if (u && u->id != id) {
		/* Removed and added again offline: a different account (the
		 * table finds it under either case, so the name may change). */
		room_forget_user(u);
		u->id = id;
		snprintf(u->name, sizeof(u->name), "%s", stored);
	}
	if (!u)
		u = account_new(id, stored, admin, 0);
	u->admin = admin;
	return u;
}

struct user *account_get(const char *name)
{
	struct user *u = account_find(name);
	int r;

	if (!u && auth_name_valid(name))
		u = account_fetch(name, NULL, &r);
	return u;
}

size_t account_password_chars(const char *pw)
{
	size_t n = 0;

	for (; *pw; pw++)
		if (((unsigned char)*pw & 0xc0) != 0x80)
			n++;
	return n;
}

int account_token_check(const char *token, struct user **ret, uint64_t *ret_issued_ms)
{
	char name[PROTO_NAME_MAX + 1];
	uint64_t expiry;
	struct user *u;
	int r = svc_token_verify(chatd.revoke, chatd.token_key, token, chatd_now_s(), name,
	                         sizeof(name), &expiry, ret_issued_ms);

	if (r == -EKEYEXPIRED)
		return ERR_TOKEN_EXPIRED;
	if (r < 0)
		return ERR_TOKEN_INVALID;
	u = account_find(name);
	if (!u)
		u = account_fetch(name, NULL, &r);
	/* Tokens carry the name as stored: one for "Alice" is not alice's
	 * (an account that lost a name clash, see account_load_cb). */
	if (!u || strcmp(u->name, name) != 0)
		return ERR_TOKEN_INVALID;
	*ret = u;
	return 0;
}

/* The stamp is later than every token issued so far and no later than the
 * next one (chatd_issue_ms), so a login right after a reset, even within
 * the same millisecond, is valid at once. */
int account_revoke_tokens(const char *name)
{
	char path[CONFIG_PATH_MAX + 32];
	uint64_t now = clock_wall_ms();
	uint64_t stamp = now > chatd.last_issue_ms ? now : chatd.last_issue_ms + 1;
	int r = revoke_path(chatd.cfg.common.token_key, path, sizeof(path));

	if (r == 0)
		r = revoke_add(path, chatd.cfg.common.token_key, name, stamp, now);
	if (r < 0) {
		log_warn("cannot revoke the tokens of %s in %s: %s", name, path,
		         r == -EBADMSG ? "the list is damaged" : strerror(-r));
		return r;
	}
	chatd.last_issue_ms = stamp - 1;
	return 0;
}

/* A token's issue time: now, but never the same as or before the last. */
static uint64_t account_issue_ms(void)
{
	uint64_t now = clock_wall_ms();

	chatd.last_issue_ms = now > chatd.last_issue_ms ? now : chatd.last_issue_ms + 1;
	return chatd.last_issue_ms;
}

/* Name and password rules for a new account: 0 or ERR_INVALID with why. */
static int account_check_new(const char *name, const char *password, char *why, size_t len)
{
	if (!auth_name_valid(name)) {
		snprintf(why, len,
		         "invalid user name: use 1 to 32 letters, digits, '_' or '-', not starting "
		         "with '-'");
		return ERR_INVALID;
	}
	if (account_password_chars(password) < AUTH_PASSWORD_MIN) {
		snprintf(why, len, "password must be at least %d characters", AUTH_PASSWORD_MIN);
		return ERR_INVALID;
	}
	return 0;
}

/* Whether name and password may make a new account; 0 or an ERR_* code
 * with why. */
static int account_check_create(const char *name, const char *password, char *why, size_t len)
{
	int code = account_check_new(name, password, why, len);
	struct user *u;

	if (code)
		return code;
	if ((u = account_find(name))) {
		if (strcmp(u->name, name) == 0)
			snprintf(why, len, "user name %s is taken", name);
		else
			snprintf(why, len,
			         "user name %s is taken (by %s: names are the same whatever their "
			         "case)",
			         name, u->name);
		return ERR_EXISTS;
	}
	return 0;
}

/* Store a new account with its password hash; 0 or an ERR_* code with why. */
static int account_store(const char *name, const char *hash, struct user **ret, char *why,
                         size_t len)
{
	int64_t id;
	int r;

	message_batch_flush();
	r = db_user_add(chatd.db, name, hash, false, &id);
	if (r == -EEXIST) {
		snprintf(why, len, "user name %s is taken", name);
		return ERR_EXISTS;
	}
	if (r < 0) {
		snprintf(why, len, "cannot store the account");
		return ERR_INTERNAL;
	}
	*ret = account_new(id, name, false, 0);
	return 0;
}

/* Issue a token, reply TOKEN and log the session in as u. */
static void account_login_reply(struct session *s, uint32_t req, struct user *u)
{
	uint64_t expiry = chatd_now_s() + chatd.cfg.common.token_ttl, issued = account_issue_ms();
	struct msg t;
	char token[AUTH_TOKEN_MAX];

	if (auth_token_issue(chatd.token_key, u->name, issued, expiry, token) < 0) {
		front_error(&s->fs, req, ERR_INTERNAL, "cannot issue a token");
		return;
	}
	proto_msg_init(&t, MSG_TOKEN);
	t.req = req;
	snprintf(t.user, sizeof(t.user), "%s", u->name);
	snprintf(t.secret, sizeof(t.secret), "%s", token);
	t.ts = expiry;
	t.flags = u->admin ? MF_ADMIN : 0;
	front_send(&s->fs, &t);
	session_attach(s, u);
	s->fs.issued_ms = issued;
}

/* Where a login came from, for the log. */
static const char *account_origin(const struct session *s)
{
	static char buf[sizeof(s->fs.addr) + 16];

	if (!s->relayed)
		return s->fs.addr;
	snprintf(buf, sizeof(buf), "%s (call page)", s->fs.addr);
	return buf;
}

/* ---- requests that wait for the hasher ---- */

enum pw_op { PW_LOGIN, PW_REGISTER, PW_ADD, PW_RESET };

struct pw_req {
	enum pw_op op;
	uint32_t req;
	char user[PROTO_NAME_MAX + 1];
	char hash[AUTH_HASH_MAX]; /* PW_LOGIN: the hash being checked */
};

/* Whether q->user still has the hash that was checked: a reset, or a
 * remove and add, while the check ran makes the answer stale. */
static bool account_pw_current(const struct pw_req *q)
{
	char now[AUTH_HASH_MAX];
	int r;
	bool same = account_fetch(q->user, now, &r) && strcmp(now, q->hash) == 0;

	explicit_bzero(now, sizeof(now));
	return same;
}

static void account_pw_login(struct session *s, const struct pw_req *q, int r)
{
	struct user *u = account_find(q->user);

	if (r == -EACCES || (r == 0 && !account_pw_current(q))) {
		log_info("failed login for %s from %s", q->user, account_origin(s));
		front_error(&s->fs, q->req, ERR_BAD_LOGIN, NULL);
	} else if (r < 0) {
		front_error(&s->fs, q->req, ERR_INTERNAL, "cannot check the password");
	} else {
		log_debug("login %s from %s", u->name, account_origin(s));
		account_login_reply(s, q->req, u);
	}
}

static void account_pw_create(struct session *s, const struct pw_req *q, const char *hash)
{
	struct user *u;
	char why[160];
	int code = account_store(q->user, hash, &u, why, sizeof(why));

	if (code) {
		front_error(&s->fs, q->req, (uint16_t)code, "%s", why);
	} else if (q->op == PW_REGISTER) {
		log_info("registered user %s from %s", u->name, s->fs.addr);
		account_login_reply(s, q->req, u);
	} else {
		log_info("%s added user %s", front_name(&s->fs), u->name);
		front_ok(&s->fs, q->req, (uint64_t)u->id, 0);
	}
}

/* End u's sessions but keep: their tokens are revoked. */
static void account_kick_others(struct user *u, const struct session *keep, const char *why)
{
	for (;;) {
		struct session *k = u->sessions;

		while (k && k == keep)
			k = k->user_next;
		if (!k)
			break;
		front_kick(&k->fs, ERR_TOKEN_INVALID, why);
	}
}

static void account_pw_reset(struct session *s, const struct pw_req *q, const char *hash)
{
	struct user *u = account_find(q->user);

	message_batch_flush();
	/* revoke first: a reset whose old tokens live on has not happened */
	if (!u) {
		front_error(&s->fs, q->req, ERR_NOT_FOUND, "no such user %s", q->user);
	} else if (account_revoke_tokens(u->name) < 0) {
		front_error(&s->fs, q->req, ERR_INTERNAL, "cannot revoke the tokens of %s",
		            u->name);
	} else if (db_user_set_hash(chatd.db, u->id, hash) < 0) {
		front_error(&s->fs, q->req, ERR_INTERNAL, "cannot store the password");
	} else {
		log_info("%s reset the password of %s", front_name(&s->fs), u->name);
		account_kick_others(u, s, "your password was reset: log in again");
		front_ok(&s->fs, q->req, 0, 0);
	}
}

/* The hasher's answer, on the loop; s is NULL when the client left. */
static void account_pw_done(struct session *s, int r, const char *hash, void *arg)
{
	struct pw_req *q = arg;

	/* a session gone or told to go gets no answer */
	if (s && s->fs.state != FRONT_CLOSING) {
		if (q->op == PW_LOGIN)
			account_pw_login(s, q, r);
		else if (r < 0)
			front_error(&s->fs, q->req, ERR_INTERNAL, "cannot hash the password");
		else if (q->op == PW_RESET)
			account_pw_reset(s, q, hash);
		else
			account_pw_create(s, q, hash);
	}
	explicit_bzero(q, sizeof(*q));
	free(q);
}

/* Hand a password to the hasher: checked against hash, or hashed when
 * hash is NULL; the request goes on in account_pw_done. */
static void account_pw_submit(struct session *s, enum pw_op op, uint32_t req, const char *user,
                              const char *password, const char *hash)
{
	struct pw_req *q;
	int r;

	if (hasher_busy(s)) {
		front_error(&s->fs, req, ERR_RATE_LIMITED,
		            "wait for the answer to your last request");
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->op = op;
	q->req = req;
	snprintf(q->user, sizeof(q->user), "%s", user);
	if (hash)
		snprintf(q->hash, sizeof(q->hash), "%s", hash);
	r = hasher_submit(s, password, hash, account_pw_done, q);
	if (r == 0)
		return;
	free(q);
	if (r == -EBUSY)
		front_error(&s->fs, req, ERR_RATE_LIMITED,
		            "the server is busy checking passwords; try again in a second");
	else
		front_error(&s->fs, req, ERR_INTERNAL, "cannot check the password");
}

void account_handle_register(struct session *s, const struct msg *m)
{
	char why[160];
	int code;

	if (!chatd.cfg.reg) {
		front_error(&s->fs, m->req, ERR_REG_CLOSED, NULL);
		return;
	}
	if (!ratetable_take(chatd.login_addr, s->fs.addr, clock_now_ms(), 1)) {
		front_error(&s->fs, m->req, ERR_RATE_LIMITED,
		            "too many attempts from your address; wait a minute");
		return;
	}
	code = account_check_create(m->user, m->secret, why, sizeof(why));
	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	account_pw_submit(s, PW_REGISTER, m->req, m->user, m->secret, NULL);
}

static void account_login(struct session *s, uint32_t req, const char *user, const char *password)
{
	char hash[AUTH_HASH_MAX], key[PROTO_NAME_MAX + 1];
	uint64_t now = clock_now_ms();
	struct user *u;
	int r;

	/* every spelling of a name shares one budget of attempts */
	str_copy(key, sizeof(key), user);
	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!ratetable_take(chatd.login_addr, s->fs.addr, now, 1) ||
	    !ratetable_take(chatd.login_user, key, now, 1)) {
		log_info("login rate limit hit for %s from %s", user, account_origin(s));
		front_error(&s->fs, req, ERR_RATE_LIMITED,
		            "too many login attempts; wait a minute");
		return;
	}
	u = account_fetch(user, hash, &r);
	if (!u && r != -ENOENT) {
		front_error(&s->fs, req, ERR_INTERNAL, NULL);
		return;
	}
	if (!u) {
		log_info("failed login for %s from %s", user, account_origin(s));
		front_error(&s->fs, req, ERR_BAD_LOGIN, NULL);
		return;
	}
	account_pw_submit(s, PW_LOGIN, req, u->name, password, hash);
	explicit_bzero(hash, sizeof(hash));
}

void account_handle_login(struct session *s, const struct msg *m)
{
	account_login(s, m->req, m->user, m->secret);
}

static bool account_addr_valid(const char *addr)
{
	struct in6_addr a;

	return inet_pton(AF_INET, addr, &a) == 1 || inet_pton(AF_INET6, addr, &a) == 1;
}

/* LOGIN_VIA: videod's LOGIN for a browser at m->name (auth_relay_sign).
 * Attempts count against the browser's address, not videod's, so one
 * browser cannot use up everyone's call page logins; only a holder of the
 * token key may name an address. */
void account_handle_login_via(struct session *s, const struct msg *m)
{
	int r =
	    auth_relay_verify(chatd.token_key, m->user, m->name, m->ts, clock_wall_ms(), m->hash);

	if (r == 0 && (strlen(m->name) >= sizeof(s->fs.addr) || !account_addr_valid(m->name)))
		r = -EINVAL;
	if (r < 0 || s->relayed) {
		/* logged within the address's login budget: no log flood */
		if (ratetable_take(chatd.login_addr, s->fs.addr, clock_now_ms(), 1))
			log_warn("refused a relayed login for %s from %s: %s", m->user, s->fs.addr,
			         s->relayed ? "a second one on one connection"
			         : r == -EKEYEXPIRED
			             ? "its time is more than a minute off (clocks?)"
			         : r == -EINVAL ? "not an IP address"
			                        : "not signed with the daemons' token key");
		front_error(&s->fs, m->req, ERR_FORBIDDEN,
		            "LOGIN_VIA is for videod, with the token key");
		return;
	}
	str_copy(s->fs.addr, sizeof(s->fs.addr), m->name);
	s->relayed = true;
	account_login(s, m->req, m->user, m->secret);
}

static void account_admin_add(struct session *s, const struct msg *m)
{
	char why[160];
	int code = account_check_create(m->user, m->secret, why, sizeof(why));

	if (code) {
		front_error(&s->fs, m->req, (uint16_t)code, "%s", why);
		return;
	}
	account_pw_submit(s, PW_ADD, m->req, m->user, m->secret, NULL);
}

static void account_admin_remove(struct session *s, struct user *u, uint32_t req)
{
	int r;

	if (u == s->user) {
		front_error(&s->fs, req, ERR_INVALID, "you cannot remove your own account");
		return;
	}
	message_batch_flush();
	if (account_revoke_tokens(u->name) < 0) {
		front_error(&s->fs, req, ERR_INTERNAL, "cannot revoke the tokens of %s", u->name);
		return;
	}
	r = db_user_remove(chatd.db, u->id);
	if (r < 0 && r != -ENOENT) {
		front_error(&s->fs, req, ERR_INTERNAL, "cannot remove %s", u->name);
		return;
	}
	log_info("%s removed user %s", s->user->name, u->name);
	account_kick_others(u, NULL, "your account was removed");
	room_forget_user(u);
	account_free(u);
	front_ok(&s->fs, req, 0, 0);
}

static void account_admin_reset(struct session *s, struct user *u, const struct msg *m)
{
	char why[160];

	if (account_check_new(u->name, m->secret, why, sizeof(why))) {
		front_error(&s->fs, m->req, ERR_INVALID, "%s", why);
		return;
	}
	account_pw_submit(s, PW_RESET, m->req, u->name, m->secret, NULL);
}

static void account_admin_promote(struct session *s, struct user *u, uint32_t req)
{
	message_batch_flush();
	if (db_user_set_admin(chatd.db, u->id, true) < 0) {
		front_error(&s->fs, req, ERR_INTERNAL, "cannot store the admin role");
		return;
	}
	u->admin = true;
	log_info("%s made %s an admin", s->user->name, u->name);
	front_ok(&s->fs, req, 0, 0);
}

void account_handle_user_admin(struct session *s, const struct msg *m)
{
	struct user *u;
	int r;

	if (!s->user->admin) {
		front_error(&s->fs, m->req, ERR_FORBIDDEN, "only an admin can manage accounts");
		return;
	}
	if (m->count == USER_ADMIN_ADD) {
		account_admin_add(s, m);
		return;
	}
	if (m->count < USER_ADMIN_REMOVE || m->count > USER_ADMIN_PROMOTE) {
		front_error(&s->fs, m->req, ERR_INVALID,
		            "unknown operation %u (1 add, 2 remove, 3 reset password, 4 make "
		            "admin)",
		            m->count);
		return;
	}
	u = auth_name_valid(m->user) ? account_fetch(m->user, NULL, &r) : NULL;
	if (!u) {
		front_error(&s->fs, m->req, ERR_NOT_FOUND, "no such user %s", m->user);
		return;
	}
	switch (m->count) {
	case USER_ADMIN_REMOVE:
		account_admin_remove(s, u, m->req);
		break;
	case USER_ADMIN_RESET:
		account_admin_reset(s, u, m);
		break;
	case USER_ADMIN_PROMOTE:
		account_admin_promote(s, u, m->req);
		break;
	}
}
