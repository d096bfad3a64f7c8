/* cmd_file.h: what the filed commands (cmd_file.c, cmd_file_pull.c) share:
 * the job a command runs and a few helpers. Private to those two files. */
#ifndef NEXUS_CMD_FILE_H
#define NEXUS_CMD_FILE_H

#include <stdint.h>

#include <openssl/evp.h>

#include "client.h"
#include "str.h"

#define FILE_MAX_FRAME (4u * 1024u * 1024u) /* accepted from filed */
#define FILE_CHUNK_MAX (1024u * 1024u)
#define FILE_QUEUE_MARK (2u * 1024u * 1024u)
#define FILE_LINK_LEN 26

enum file_op { OP_PUSH, OP_PULL, OP_LIST, OP_RM, OP_SHARE, OP_UNSHARE };

/* A result kept for the notice posted after the file connection. */
struct pushed {
	char name[256];
	uint64_t size;
	char link[FILE_LINK_LEN + 1];
	uint8_t hash[PROTO_HASH_LEN];
	uint64_t id, resumed, sent;
	double seconds;
};

struct job {
	enum file_op op;
	struct settings *s;
	struct client *c;
	/* operands and options */
	char **args;
	int nargs, cur;
	const char *room; /* "room" or "@user" for --room / --to */
	const char *name; /* --name */
	const char *out;  /* pull -o */
	int force;        /* pull --force: may replace a file of the same name */
	/* the file in flight */
	int fd;
	int is_stdin;
	char label[256];
	uint32_t req;
	uint64_t size, offset, start;
	uint8_t hash[PROTO_HASH_LEN];
	EVP_MD_CTX *sha;
	uint8_t *buf;
	size_t chunk;
	int sending_done;
	uint64_t t0_ms;
	struct progress *prog;
	struct msg *info; /* last FILE_INFO */
	char path[4096], part[4200];
	int direct; /* pull into stdout or a device/FIFO: no .part, no rename */
	int list_count;
	struct list_rooms *rooms; /* files: the joined rooms, their passes, ids listed */
	/* results */
	struct pushed *pushed;
	int npushed;
};

/* Send m as a request of j's connection; fn gets the replies. */
int file_request(struct job *j, struct msg *m, client_reply_fn fn);
/* Keep the last FILE_INFO of j. */
void file_keep_info(struct job *j, const struct msg *m);
/* "nexus://HOST:PORT/LINK" of a link token on s's server. */
const char *file_url(const struct settings *s, const char *link, char *buf, size_t len);
/* The token of "nexus://HOST:PORT/LINK" or "LINK" into out, pointing s at
 * HOST's server and file port. 0 or an exit status (message printed). */
int file_parse_link(struct settings *s, const char *cmd, const char *arg,
                    char out[FILE_LINK_LEN + 1]);
/* cmd_file_list.c: nexus files. The joined rooms' passes from chatd (0, or
 * the exit status that filed would give too), then the listing on j's
 * filed connection. */
int file_list_rooms(struct job *j);
void file_list_start(struct job *j);
void file_list_rooms_free(struct job *j);
/* cmd_file_pull.c: the FILE_INFO reply that starts a pull. */
void pull_info_reply(struct client *c, const struct msg *m, void *arg);

#endif
