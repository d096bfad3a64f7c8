/* cmd_file: the filed commands. push, files, rm, share, unshare; pull is in
 * cmd_file_pull.c.
 *
 * They talk to filed (port 5556 by default: NEXUS_FILE_PORT, config
 * file_port, --file-port) with the login cached for the chat server; the
 * daemons share one certificate, so the chat server's pin applies.
 *
 * push: hash the file (SHA-256), announce name, size and hash; filed says
 * where to continue (0, or the durable offset of an earlier broken push of
 * the same file), and the data follows in frames, produced only while the
 * output queue is short (the drain callback paces it). stdin is streamed
 * with its hash at the end (no resume). With --room/--to the file is then
 * shared and a notice with the link is posted through chatd.
 *
 * pull: ask for the file's info, then continue PATH.part from its length
 * (hashing what is already there), check the SHA-256 at the end, sync and
 * rename PATH.part to PATH. */
#include "client.h"
#include "hex.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"

#include "cmd_file.h"

const char *file_url(const struct settings *s, const char *link, char *buf, size_t len)
{
	snprintf(buf, len, strchr(s->server, ':') ? "nexus://[%s]:%u/%s" : "nexus://%s:%u/%s",
	         s->server, s->file_port, link);
	return buf;
}

/* HOST and PORT of "nexus://HOST:PORT/..." (HOST may be "[v6]"); port 0
 * when the link has none. 0, or -EINVAL when there is no host. */
static int file_link_host(const char *arg, const char *tok, char host[SETTINGS_HOST_MAX],
                          uint16_t *ret_port)
{
	const char *h = arg + 8, *end = tok - 1, *colon = NULL;
	unsigned long p = 0;
	size_t n;

	if (end <= h) /* "nexus://TOKEN": no host */
		return -EINVAL;
	if (h[0] == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (!close)
			return -EINVAL;
		colon = close[1] == ':' ? close + 1 : NULL;
		h++;
		n = (size_t)(close - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
	}
	if (n == 0 || n >= SETTINGS_HOST_MAX)
		return -EINVAL;
	if (colon) {
		char *pend;
		p = strtoul(colon + 1, &pend, 10);
		if (pend != end || p == 0 || p > 65535)
			return -EINVAL;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*ret_port = (uint16_t)p;
	return 0;
}

/* The token of a link given as "nexus://HOST:PORT/TOKEN" or "TOKEN". The
 * file lives on HOST: a link naming another host than s's server points s
 * at that server (its saved entry, chat port, pin and login, as -s HOST
 * would) and at the link's file port. For s's own server a configured file
 * port wins over the link's. 0 or an exit status (message printed). */
int file_parse_link(struct settings *s, const char *cmd, const char *arg,
                    char out[FILE_LINK_LEN + 1])
{
	const char *tok = strrchr(arg, '/');
	char host[SETTINGS_HOST_MAX];
	uint16_t port = 0;
	size_t n;
	int r;

	tok = tok ? tok + 1 : arg;
	n = strlen(tok);
	if (n != FILE_LINK_LEN || strspn(tok, "abcdefghijklmnopqrstuvwxyz234567") != n)
		return cli_usage(cmd, "not a file link: '%s'", arg);
	memcpy(out, tok, n + 1);
	if (strncmp(arg, "nexus://", 8) != 0)
		return 0;
	if (file_link_host(arg, tok, host, &port) < 0)
		return cli_usage(cmd, "not a file link: '%s' (nexus://HOST:PORT/LINK)", arg);
	if (strcasecmp(host, s->server) != 0) {
		/* Its chat port: the saved entry for HOST decides, else the default. */
		s->port = NEXUS_DEFAULT_CHAT_PORT;
		s->port_set = 0;
		if ((r = settings_use_server(s, host)))
			return r;
		s->file_port = port ? port : NEXUS_DEFAULT_FILE_PORT;
	} else if (port && !getenv("NEXUS_FILE_PORT")) {
		s->file_port = port;
	}
	return 0;
}

int file_request(struct job *j, struct msg *m, client_reply_fn fn)
{
	int r = client_request(j->c, m, fn, j);

	if (r < 0)
		client_fail(j->c, EXIT_ERROR, "cannot send the request: %s", strerror(-r));
	return r;
}

void file_keep_info(struct job *j, const struct msg *m)
{
	if (!j->info)
		j->info = xcalloc(1, sizeof(*j->info));
	*j->info = *m;
	j->info->data = NULL;
	j->info->data_len = 0;
}

/* ---- push ---- */

/* Data buffers: read into one, sent without a copy, back here once
 * written. */
#define FILE_POOL_KEEP 16
struct pool_buf {
	struct pool_buf *next;
};
static struct pool_buf *pool;
static unsigned pool_count;
static size_t pool_size;

static uint8_t *pool_get(void)
{
	struct pool_buf *b = pool;

	if (!b)
		return xcalloc(1, pool_size);
	pool = b->next;
	pool_count--;
	return (uint8_t *)b;
}

static void pool_put(const void *data, size_t len, void *arg)
{
	struct pool_buf *b = (struct pool_buf *)(uintptr_t)data;

	(void)len;
	(void)arg;
	if (pool_count >= FILE_POOL_KEEP) {
		free(b);
		return;
	}
	b->next = pool;
	pool = b;
	pool_count++;
}

static void pool_release(void)
{
	while (pool) {
		struct pool_buf *b = pool;
		pool = b->next;
		free(b);
	}
	pool_count = 0;
}

static void push_next(struct job *j);

/* SHA-256 of a whole file (regular files only). 0 or a negative errno. */
static int push_hash_file(struct job *j)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	uint64_t off = 0;
	unsigned len = 0;

	if (!sha || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(sha);
		return -ENOMEM;
	}
	while (off < j->size) {
		ssize_t n = pread(j->fd, j->buf, j->chunk, (off_t)off);
		if (n <= 0) {
			EVP_MD_CTX_free(sha);
			return n < 0 ? -errno : -ESTALE;
		}
		EVP_DigestUpdate(sha, j->buf, (size_t)n);
		off += (uint64_t)n;
	}
	EVP_DigestFinal_ex(sha, j->hash, &len);
	EVP_MD_CTX_free(sha);
	return 0;
}

static void push_send_end(struct job *j)
{
	struct msg m;
	unsigned len = 0;

	if (j->is_stdin) {
		EVP_DigestFinal_ex(j->sha, j->hash, &len);
		j->size = j->offset;
	}
	proto_msg_init(&m, MSG_FILE_END);
	m.req = j->req;
	m.size = j->size;
	memcpy(m.hash, j->hash, PROTO_HASH_LEN);
	j->sending_done = 1;
	client_set_drain(j->c, NULL, NULL, 0);
	if (client_send(j->c, &m) < 0)
		client_fail(j->c, EXIT_NETWORK, "connection lost while pushing %s", j->label);
}

/* Send data while the queue is short; the drain callback comes back.
 * stdin is read as it comes (a blocking read: we have nothing else to do). */
static void push_fill(struct client *c, void *arg)
{
	struct job *j = arg;
	struct msg *d;

	if (j->sending_done || client_failed(c))
		return;
	d = xcalloc(1, sizeof(*d));
	while (!j->sending_done && client_outq(c) < FILE_QUEUE_MARK) {
		size_t want = j->chunk;
		uint8_t *buf;
		ssize_t n;

		if (!j->is_stdin && j->offset == j->size) {
			push_send_end(j);
			break;
		}
		if (!j->is_stdin && j->size - j->offset < want)
			want = (size_t)(j->size - j->offset);
		buf = pool_get();
		n = j->is_stdin ? read(j->fd, buf, want)
		                : pread(j->fd, buf, want, (off_t)j->offset);
		if (n <= 0)
			pool_put(buf, 0, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && !j->is_stdin)) {
			client_fail(c, EXIT_ERROR, "cannot read %s: %s", j->label,
			            n < 0 ? strerror(errno) : "the file shrank while pushing");
			break;
		}
		if (n == 0) {
			push_send_end(j); /* end of stdin */
			break;
		}
		if (j->is_stdin)
			EVP_DigestUpdate(j->sha, buf, (size_t)n);
		proto_msg_init(d, MSG_FILE_DATA);
		d->req = j->req;
		d->size = j->offset;
		d->data = buf;
		d->data_len = (uint32_t)n;
		if (client_send_ref(c, d, pool_put, NULL) < 0) {
			pool_put(buf, 0, NULL);
			client_fail(c, EXIT_NETWORK, "connection lost while pushing %s", j->label);
			break;
		}
		j->offset += (uint64_t)n;
		progress_update(j->prog, j->offset);
	}
	free(d);
}

static void push_print(struct job *j, const struct pushed *p)
{
	const struct settings *s = j->s;
	char url[512], hex[2 * PROTO_HASH_LEN + 1];
	struct jw w;

	hex_encode(p->hash, PROTO_HASH_LEN, hex);
	file_url(s, p->link, url, sizeof(url));
	if (s->json) {
		jw_begin(&w, stdout);
		jw_str(&w, "link", url);
		jw_str(&w, "name", p->name);
		jw_u64(&w, "size", p->size);
		jw_str(&w, "sha256", hex);
		jw_key(&w, "seconds");
		fprintf(stdout, "%.3f", p->seconds);
		jw_u64(&w, "id", p->id);
		jw_u64(&w, "resumed_from", p->resumed);
		jw_u64(&w, "sent", p->sent);
		if (j->room)
			jw_str(&w, "shared_with", j->room);
		jw_bool(&w, "private", !j->room);
		jw_end(&w);
	} else {
		fprintf(stdout, "%s\n", url);
		out_flush();
	}
}

/* One file is stored: keep its result; print it now unless it is to be
 * shared first (then the share's link is the result). */
static void push_done(struct job *j, const struct msg *info)
{
	struct pushed *p;

	if (!j->prog && !j->is_stdin) {
		/* Already stored: no FILE_OFFSET, so no bar yet. Say it is all
		 * there (the full-screen client shows the size from this). */
		j->prog = progress_new(j->label, info->size, info->size, j->s->quiet || j->s->json);
		progress_update(j->prog, info->size);
	}
	progress_free(j->prog);
	j->prog = NULL;
	j->pushed = realloc(j->pushed, (size_t)(j->npushed + 1) * sizeof(*j->pushed));
	if (!j->pushed)
		fatal("out of memory");
	p = &j->pushed[j->npushed++];
	memset(p, 0, sizeof(*p));
	str_copy(p->name, sizeof(p->name), info->text);
	p->size = info->size;
	str_copy(p->link, sizeof(p->link), info->secret);
	memcpy(p->hash, info->hash, PROTO_HASH_LEN);
	p->id = info->id;
	p->resumed = j->start;
	p->sent = j->offset - j->start;
	p->seconds = (double)(clock_now_ms() - j->t0_ms) / 1000.0;
	if (!j->room)
		push_print(j, p);
	if (j->fd >= 0 && !j->is_stdin)
		close(j->fd);
	j->fd = -1;
	j->cur++;
	push_next(j);
}

static void share_reply(struct client *c, const struct msg *m, void *arg);

static void push_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;

	if (!m)
		return;
	switch (m->type) {
	case MSG_ERROR:
		progress_free(j->prog);
		j->prog = NULL;
		client_fail_msg(c, m, j->label);
		break;
	case MSG_FILE_OFFSET:
		if (m->size > j->size && !j->is_stdin) {
			client_fail(c, EXIT_SERVER, "the server asked for offset %" PRIu64,
			            m->size);
			return;
		}
		j->offset = j->start = m->size;
		if (j->start)
			log_debug("resuming %s at %" PRIu64, j->label, j->start);
		j->prog = progress_new(j->label, j->size, j->start, j->s->quiet || j->s->json);
		client_set_drain(c, push_fill, j, FILE_QUEUE_MARK / 2);
		push_fill(c, j);
		break;
	case MSG_FILE_INFO:
		file_keep_info(j, m);
		break;
	case MSG_OK:
		if (!j->info)
			client_fail(c, EXIT_SERVER, "the server stored %s without saying where",
			            j->label);
		else
			push_done(j, j->info);
		break;
	default:
		break;
	}
}

/* Open the next operand and announce it. */
static int push_open(struct job *j, const char *arg, struct msg *m)
{
	const char *base = strrchr(arg, '/');
	struct stat sb;
	int r;

	j->is_stdin = strcmp(arg, "-") == 0;
	j->fd = j->is_stdin ? STDIN_FILENO : open(arg, O_RDONLY | O_CLOEXEC);
	if (j->fd < 0)
		return -errno;
	snprintf(j->label, sizeof(j->label), "%s", j->is_stdin ? "stdin" : arg);
	proto_msg_init(m, MSG_FILE_PUSH);
	base = j->name ? j->name : j->is_stdin ? "stdin" : base && base[1] ? base + 1 : arg;
	if (snprintf(m->text, sizeof(m->text), "%s", base) > 255)
		return -ENAMETOOLONG;
	j->offset = j->start = j->size = 0;
	j->sending_done = 0;
	if (j->is_stdin) {
		m->flags = MF_STREAM;
		EVP_MD_CTX_free(j->sha);
		j->sha = EVP_MD_CTX_new();
		if (!j->sha || EVP_DigestInit_ex(j->sha, EVP_sha256(), NULL) != 1)
			return -ENOMEM;
		return 0;
	}
	if (fstat(j->fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	j->size = (uint64_t)sb.st_size;
	posix_fadvise(j->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = push_hash_file(j);
	if (r < 0)
		return r;
	m->size = j->size;
	memcpy(m->hash, j->hash, PROTO_HASH_LEN);
	return 0;
}

static void push_share(struct job *j);

static void push_next(struct job *j)
{
	struct msg m;
	int r;

	if (j->cur >= j->nargs) {
		if (j->room) {
			j->cur = 0;
			push_share(j);
			return;
		}
		/* Only the owner can pull through the owner's link: say so now,
		 * not when someone else's pull fails. */
		if (!j->s->quiet && !j->s->json)
			out_err("%s private: only you can pull %s; to share: nexus share LINK "
			        "--room ROOM (or --to USER), or push with --room or --to",
			        j->npushed > 1 ? "these links are" : "this link is",
			        j->npushed > 1 ? "through them" : "through it");
		client_done(j->c, 0);
		return;
	}
	r = push_open(j, j->args[j->cur], &m);
	if (r < 0) {
		client_fail(j->c, r == -ENAMETOOLONG ? EXIT_USAGE : EXIT_ERROR, "%s: %s",
		            j->args[j->cur],
		            r == -EINVAL         ? "not a regular file"
		            : r == -ENAMETOOLONG ? "name too long (at most 255 bytes)"
		                                 : strerror(-r));
		return;
	}
	free(j->info);
	j->info = NULL;
	j->t0_ms = clock_now_ms();
	if (file_request(j, &m, push_reply) == 0)
		j->req = m.req;
}

/* After the pushes: share each file with the room or user. */
static void push_share(struct job *j)
{
	struct msg m;

	if (j->cur >= j->npushed) {
		client_done(j->c, 0);
		return;
	}
	free(j->info);
	j->info = NULL;
	j->req = 0;
	proto_msg_init(&m, MSG_FILE_PULL);
	snprintf(m.secret, sizeof(m.secret), "%s", j->pushed[j->cur].link);
	m.flags = MF_INFO;
	file_request(j, &m, share_reply);
}

/* ---- share: FILE_PULL{MF_INFO} for the id, then FILE_SHARE ---- */

static void share_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;
	struct msg s;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, j->room);
		return;
	}
	if (m->type == MSG_FILE_INFO && m->req != j->req) {
		if (!(m->flags & MF_OWNER)) {
			client_fail(c, EXIT_FORBIDDEN, "only the owner of %s can share it",
			            m->text);
			return;
		}
		file_keep_info(j, m);
	} else if (m->type == MSG_FILE_INFO) {
		/* the new share: its link goes into the notice */
		str_copy(j->pushed[j->cur].link, sizeof(j->pushed[j->cur].link), m->secret);
		str_copy(j->pushed[j->cur].name, sizeof(j->pushed[j->cur].name), m->text);
		j->pushed[j->cur].size = m->size;
	} else if (m->type == MSG_OK && m->req != j->req && j->info) {
		proto_msg_init(&s, MSG_FILE_SHARE);
		s.id = j->info->id;
		snprintf(s.room, sizeof(s.room), "%s", j->room);
		if (file_request(j, &s, share_reply) == 0)
			j->req = s.req;
	} else if (m->type == MSG_OK && m->req == j->req) {
		if (j->op == OP_PUSH)
			push_print(j, &j->pushed[j->cur]);
		j->cur++;
		push_share(j);
	}
}

/* ---- files, rm, unshare ---- */

static void simple_file_reply(struct client *c, const struct msg *m, void *arg)
{
	struct job *j = arg;
	struct msg d;

	if (!m)
		return;
	if (m->type == MSG_ERROR) {
		client_fail_msg(c, m, j->label);
	} else if (m->type == MSG_FILE_INFO) {
		file_keep_info(j, m);
	} else if (m->type == MSG_OK) {
		if (j->op == OP_RM && j->info && j->req == 0) {
			/* rm LINK: the id is known now */
			proto_msg_init(&d, MSG_FILE_DELETE);
			d.id = j->info->id;
			j->req = 1;
			file_request(j, &d, simple_file_reply);
			return;
		}
		if (!j->s->quiet) {
			if (j->s->json) {
				struct jw w;
				jw_begin(&w, stdout);
				jw_bool(&w, "ok", 1);
				jw_u64(&w, "id", m->id);
				jw_end(&w);
			} else {
				fprintf(stdout, "%s %s\n",
				        j->op == OP_RM ? "removed file" : "revoked link", j->label);
				out_flush();
			}
		}
		client_done(c, 0);
	}
}

/* ---- the connection ---- */

static void file_ready(struct client *c, void *arg)
{
	struct job *j = arg;
	uint64_t chunk = client_server_size(c);
	uint32_t frame = client_server_frame(c);
	struct msg m;

	j->c = c;
	if (chunk == 0 || chunk > FILE_CHUNK_MAX)
		chunk = 256 * 1024;
	if (frame > 64 && chunk > frame - 64)
		chunk = frame - 64;
	j->chunk = (size_t)chunk;
	j->buf = xcalloc(1, j->chunk);
	pool_size = j->chunk;
	switch (j->op) {
	case OP_PUSH:
		push_next(j);
		return;
	case OP_SHARE:
		j->npushed = 1;
		j->pushed = xcalloc(1, sizeof(*j->pushed));
		str_copy(j->pushed[0].link, sizeof(j->pushed[0].link), j->label);
		j->cur = 0;
		push_share(j);
		return;
	case OP_PULL:
		proto_msg_init(&m, MSG_FILE_PULL);
		snprintf(m.secret, sizeof(m.secret), "%s", j->args[0]);
		m.flags = MF_INFO;
		j->t0_ms = clock_now_ms();
		file_request(j, &m, pull_info_reply);
		return;
	case OP_LIST:
		file_list_start(j);
		return;
	case OP_RM:
		if (j->args[0][0] >= '0' && j->args[0][0] <= '9') {
			proto_msg_init(&m, MSG_FILE_DELETE);
			m.id = strtoull(j->args[0], NULL, 10);
			j->req = 1;
		} else {
			proto_msg_init(&m, MSG_FILE_PULL);
			snprintf(m.secret, sizeof(m.secret), "%s", j->args[0]);
			m.flags = MF_INFO;
		}
		break;
	case OP_UNSHARE:
		proto_msg_init(&m, MSG_FILE_UNSHARE);
		snprintf(m.secret, sizeof(m.secret), "%s", j->args[0]);
		break;
	}
	file_request(j, &m, simple_file_reply);
}

static int file_run(struct job *j)
{
	struct client_cbs cbs = {.ready = file_ready};
	struct client *c = client_new(j->s, CLIENT_NEED_TOKEN | CLIENT_PROMPT, &cbs, j);
	int status;

	j->fd = -1;
	j->c = c;
	client_set_service(c, "file", j->s->file_port, FILE_MAX_FRAME);
	status = client_run(c);
	progress_free(j->prog);
	j->prog = NULL;
	client_free(c);
	pool_release();
	if (j->fd > STDERR_FILENO)
		close(j->fd);
	EVP_MD_CTX_free(j->sha);
	free(j->buf);
	free(j->info);
	return status;
}

/* ---- notices through chatd ---- */

static void notice_reply(struct client *c, const struct msg *m, void *arg)
{
	(void)arg;
	if (!m)
		return;
	if (m->type == MSG_ERROR)
		client_fail_msg(c, m, "notice");
	else if (m->type == MSG_ACK)
		client_done(c, 0);
}

/* Post "📎 NAME (SIZE) LINK" in the room or DM, one per file. */
static int file_post_notices(struct job *j)
{
	char url[512], sz[24];
	struct msg *m = xcalloc(1, sizeof(*m));
	int status = 0;

	for (int i = 0; i < j->npushed && status == 0; i++) {
		proto_msg_init(m, MSG_SAY);
		snprintf(m->room, sizeof(m->room), "%s", j->room);
		snprintf(m->text, sizeof(m->text), "\xf0\x9f\x93\x8e %s (%s) %s", j->pushed[i].name,
		         progress_bytes(j->pushed[i].size, sz, sizeof(sz)),
		         file_url(j->s, j->pushed[i].link, url, sizeof(url)));
		status = request_main(j->s, m, notice_reply, NULL);
	}
	free(m);
	return status;
}

/* ---- command line ---- */

struct file_opts {
	struct job *j;
	struct settings *s;
};

static int file_opt(int key, const char *arg, void *ctx)
{
	struct file_opts *o = ctx;
	static char room[PROTO_ROOM_MAX + 2];

	switch (key) {
	case 'r':
	case 't':
		if (o->j->room)
			return cli_usage(o->j->op == OP_PUSH ? "push" : "share",
			                 "give one of --room and --to");
		if (strlen(arg) == 0 || strlen(arg) >= PROTO_ROOM_MAX)
			return cli_usage(o->j->op == OP_PUSH ? "push" : "share",
			                 "bad room or user");
		snprintf(room, sizeof(room), "%s%s", key == 't' && arg[0] != '@' ? "@" : "", arg);
		o->j->room = room;
		return 0;
	case 'n':
		o->j->name = arg;
		return 0;
	case 'o':
		o->j->out = arg;
		return 0;
	case 'f':
		o->j->force = 1;
		return 0;
	case 'F': {
		uint64_t p;
		if (cli_u64(arg, 65535, &p) < 0 || p == 0)
			return cli_usage("push", "--file-port: not a port");
		setenv("NEXUS_FILE_PORT", arg, 1);
		return 0;
	}
	default:
		return EXIT_USAGE;
	}
}

static int file_args(struct job *j, struct settings *s, int argc, char **argv, int min, int max)
{
	static const struct option opts[] = {{"room", required_argument, NULL, 'r'},
	                                     {"to", required_argument, NULL, 't'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"file-port", required_argument, NULL, 'F'},
	                                     {"force", no_argument, NULL, 'f'},
	                                     {0}};
	struct file_opts o = {j, s};
	int first, r, n;

	j->s = s;
	r = cli_parse(s, argc, argv, "o:", opts, file_opt, &o, &first);
	if (r)
		return r < 0 ? -1 : r;
	n = argc - first;
	if (n < min)
		return cli_usage(argv[0], "missing %s",
		                 j->op == OP_PUSH                      ? "FILE"
		                 : j->op == OP_RM || j->op == OP_SHARE ? "ID or LINK"
		                                                       : "LINK");
	if (max >= 0 && n > max)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[first + max]);
	if (j->name && n > 1)
		return cli_usage(argv[0], "--name needs a single FILE");
	if (j->op != OP_PUSH && j->op != OP_SHARE && (j->room || j->name))
		return cli_usage(argv[0], "--room, --to and --name are for push and share");
	if (j->op == OP_SHARE && !j->room)
		return cli_usage(argv[0], "say with whom: --room ROOM or --to USER");
	if ((j->out || j->force) && j->op != OP_PULL)
		return cli_usage(argv[0], "-o and --force are for pull");
	j->args = argv + first;
	j->nargs = n;
	return 0;
}

#define FILE_ARGS(j, s, argc, argv, min, max)                                                      \
	do {                                                                                       \
		int r_ = file_args(j, s, argc, argv, min, max);                                    \
		if (r_)                                                                            \
			return r_ < 0 ? 0 : r_;                                                    \
	} while (0)

int cmd_push(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_PUSH};
	int status;

	FILE_ARGS(&j, s, argc, argv, 1, -1);
	status = file_run(&j);
	if (status == 0 && j.room)
		status = file_post_notices(&j);
	free(j.pushed);
	return status;
}

int cmd_pull(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_PULL};
	char link[FILE_LINK_LEN + 1];
	char *args[1] = {link};
	int r;

	FILE_ARGS(&j, s, argc, argv, 1, 1);
	if ((r = file_parse_link(s, "pull", j.args[0], link)))
		return r;
	j.args = args;
	snprintf(j.label, sizeof(j.label), "%s", link);
	return file_run(&j);
}

int cmd_files(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_LIST};
	int status;

	FILE_ARGS(&j, s, argc, argv, 0, 0);
	status = file_list_rooms(&j);
	if (status == 0)
		status = file_run(&j);
	file_list_rooms_free(&j);
	return status;
}

/* ID or LINK: ids are decimal, links are parsed to their token. */
static int file_id_or_link(struct settings *s, const char *cmd, struct job *j, char *buf)
{
	uint64_t id;
	int r;

	snprintf(j->label, sizeof(j->label), "%s", j->args[0]);
	if (cli_u64(j->args[0], UINT64_MAX, &id) == 0)
		return 0;
	if ((r = file_parse_link(s, cmd, j->args[0], buf)))
		return r;
	j->args[0] = buf;
	snprintf(j->label, sizeof(j->label), "%s", buf);
	return 0;
}

int cmd_rm(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_RM};
	char link[FILE_LINK_LEN + 1];
	int r;

	FILE_ARGS(&j, s, argc, argv, 1, 1);
	if ((r = file_id_or_link(s, "rm", &j, link)))
		return r;
	return file_run(&j);
}

int cmd_unshare(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_UNSHARE};
	char link[FILE_LINK_LEN + 1];
	int r;

	FILE_ARGS(&j, s, argc, argv, 1, 1);
	if ((r = file_parse_link(s, "unshare", j.args[0], link)))
		return r;
	j.args[0] = link;
	snprintf(j.label, sizeof(j.label), "%s", link);
	return file_run(&j);
}

int cmd_share(struct settings *s, int argc, char **argv)
{
	struct job j = {.op = OP_SHARE};
	char link[FILE_LINK_LEN + 1];
	int status;

	FILE_ARGS(&j, s, argc, argv, 1, 1);
	if (cli_u64(j.args[0], UINT64_MAX, &(uint64_t){0}) == 0)
		return cli_usage("share", "give the file's LINK (nexus files shows it)");
	if ((status = file_parse_link(s, "share", j.args[0], link)))
		return status;
	snprintf(j.label, sizeof(j.label), "%s", link);
	status = file_run(&j);
	if (status == 0) {
		char url[512];
		if (j.s->json) {
			struct jw w;
			jw_begin(&w, stdout);
			jw_str(&w, "link", file_url(s, j.pushed[0].link, url, sizeof(url)));
			jw_str(&w, "room", j.room);
			jw_end(&w);
		} else {
			printf("%s\n", file_url(s, j.pushed[0].link, url, sizeof(url)));
			out_flush();
		}
		status = file_post_notices(&j);
	}
	free(j.pushed);
	return status;
}
