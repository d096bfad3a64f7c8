/* nexus: the Shadow Nexus client. Private header, one section per file. */
#ifndef NEXUS_CLIENT_H
#define NEXUS_CLIENT_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"
#include "tls.h"

#define NEXUS_CLIENT_NAME "nexus 0.1"
#define NEXUS_DEFAULT_SERVER "localhost"
#define NEXUS_DEFAULT_CHAT_PORT PROTO_PORT_CHAT
#define NEXUS_DEFAULT_FILE_PORT PROTO_PORT_FILE

/* Exit statuses, as documented in nexus(1). */
enum exit_status {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_NETWORK = 3,
	EXIT_AUTH = 4,
	EXIT_NOT_FOUND = 5,
	EXIT_FORBIDDEN = 6,
	EXIT_CERT = 7,
	EXIT_RATE = 8,
	EXIT_SERVER = 9,
	EXIT_QUOTA = 10,
	EXIT_INTEGRITY = 11,
	EXIT_AUDIO_DEVICE = 12, /* nexus talk: no sound server or device */
};

/* settings.c: flags > environment > config file > defaults. */

#define SETTINGS_PATH_MAX 1024
#define SETTINGS_HOST_MAX 256

#define SERVERS_NAME_MAX 64

struct settings {
	char server[SETTINGS_HOST_MAX]; /* host name or address */
	uint16_t port;
	uint16_t file_port; /* filed: NEXUS_FILE_PORT, config file_port, 5556 */
	char user[PROTO_NAME_MAX + 1];
	int json;
	int quiet;
	int server_set; /* the server came from a flag, the environment, the config or the saved
	                   default */
	int port_set;   /* the chat port came from -P, HOST:PORT, the environment or the config */
	int user_set;   /* the user came from -u, the environment or the config */
	char name[SERVERS_NAME_MAX + 1];         /* the saved server's name; "" when not saved */
	char fingerprint[TLS_FP_LEN];            /* its saved certificate fingerprint, "" */
	char server_arg[SETTINGS_HOST_MAX];      /* -s, NEXUS_SERVER or config: a name or address */
	char default_hp[SETTINGS_HOST_MAX + 16]; /* host_port without -s/-P/-u, for hints */
	char config_dir[SETTINGS_PATH_MAX];
	char known_path[SETTINGS_PATH_MAX + 32];
	char host_port[SETTINGS_HOST_MAX + 16]; /* "host:port", "[v6]:port" */
	/* Raw flag values, applied by settings_resolve. */
	const char *flag_server;
	const char *flag_port;
	const char *flag_user;
};

/* Options every subcommand accepts, for getopt_long. */
#define SETTINGS_SHORTOPTS "s:P:u:qh"
#define SETTINGS_LONGOPTS                                                                          \
	{"server", required_argument, NULL, 's'}, {"chat-port", required_argument, NULL, 'P'},     \
	    {"user", required_argument, NULL, 'u'}, {"json", no_argument, NULL, 'J'},              \
	    {"quiet", no_argument, NULL, 'q'},                                                     \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

void settings_init(struct settings *s);
/* Apply a global flag; 1 if it was one, 0 if not. */
int settings_global_opt(struct settings *s, int key, const char *arg);
/* Fill in everything not given by flags. Returns 0 or an exit status
 * (message printed). */
int settings_resolve(struct settings *s);
/* Point s at another server, as -s ARG would: a saved server's name, HOST,
 * HOST:PORT or [IPv6]:PORT. A saved entry supplies host, port, name,
 * fingerprint and (unless -u, NEXUS_USER or the config gave one) user; s
 * keeps the rest (config folder, file port, --json). s->port counts as
 * chosen when s->port_set (clear it to let ARG's saved entry decide). For
 * "the server of this nexus:// link": copy the settings, call this with the
 * link's host, then connect (client_new) and the saved login, pin and hints
 * are that server's. Returns 0 or an exit status (message printed). */
int settings_use_server(struct settings *s, const char *arg);
/* Whether s is the server a command without -s would use. */
int settings_is_default(const struct settings *s);
/* The start of a command for hints: "nexus" for the default server, else
 * "nexus -s NAME" (saved) or "nexus -s HOST [-P PORT]". */
const char *settings_cmd_prefix(const struct settings *s);
/* "run: nexus login" in text (a server's sentence or ours) made
 * "run: nexus -s NAME login" when this server is not the default. */
void settings_login_hint(const struct settings *s, char *text, size_t len);
/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address into
 * host and *ret_port (0 when none is given). 0 or -EINVAL. */
int settings_split(const char *in, char host[SETTINGS_HOST_MAX], uint16_t *ret_port);
/* mkdir -p, mode 0700. 0 or a negative errno. */
int settings_mkdirs(const char *dir);

/* The cached login for this server. Returns 0, -ENOENT when there is none,
 * -EBADMSG when the file is damaged, other negative errno. */
int settings_token_load(const struct settings *s, char ret_user[PROTO_NAME_MAX + 1],
                        char ret_token[PROTO_SECRET_MAX + 1], uint64_t *ret_expiry);
/* Written 0600 through a temporary file and rename. */
int settings_token_save(const struct settings *s, const char *user, const char *token,
                        uint64_t expiry);
int settings_token_remove(const struct settings *s);
/* Whether there is a usable saved login for s's server: the cache reads,
 * has not expired, and is -u's user when -u was given. 1 (user and token
 * copied to ret_user, ret_token unless NULL) or 0. */
int settings_login_valid(const struct settings *s, char ret_user[PROTO_NAME_MAX + 1],
                         char ret_token[PROTO_SECRET_MAX + 1]);
/* Replace path with len bytes of buf, mode 0600: a temporary file beside
 * it, fsync, rename, fsync of the folder; a crash leaves the old file or
 * the new one. 0 or a negative errno. */
int settings_write_atomic(const char *path, const void *buf, size_t len);
const char *settings_token_path(const struct settings *s, char *buf, size_t len);

/* The password: NEXUS_PASSWORD, else one line of stdin (from_stdin), else
 * the terminal without echo (confirm: ask twice). Returns 0 or an exit
 * status (message printed). */
int settings_password(int from_stdin, int confirm, char *out, size_t outlen);
/* Ask a question on the terminal; the answer without its newline. Returns
 * 0 or a negative errno (-ENOTTY when there is no terminal). */
int settings_ask(const char *question, char *out, size_t outlen);

/* servers.c: the saved servers (CONFIGDIR/servers). */

#define SERVERS_MAX 64

struct saved_server {
	char name[SERVERS_NAME_MAX + 1];
	char host[SETTINGS_HOST_MAX];
	uint16_t port;                 /* chat port */
	char fp[TLS_FP_LEN];           /* pinned certificate fingerprint, "" unknown */
	char user[PROTO_NAME_MAX + 1]; /* last login, "" none */
};

struct server_list {
	struct saved_server v[SERVERS_MAX];
	unsigned n;
	int def;           /* index of the default, -1: none */
	unsigned nbad;     /* lines skipped: damaged, or entries past SERVERS_MAX */
	unsigned bad_line; /* the first of them */
	int bad_why;       /* why: -EBADMSG (damaged) or -E2BIG (too many) */
};

/* Load the list (empty without a file). A line that is not an entry (hand
 * edited, cut, past SERVERS_MAX) is skipped and counted in nbad, so one bad
 * line costs that entry only; the next write leaves it out. 0, or a
 * negative errno when the file cannot be read. */
int servers_load(const char *config_dir, struct server_list **ret);
/* One "NAME HOST PORT FINGERPRINT USER" line ("-": empty) into e, line
 * cut into fields in place. 0, or -EBADMSG (e untouched). */
int servers_parse_entry(char *line, struct saved_server *e);
void servers_free(struct server_list *l);
/* Index of the entry with that name, or with that host (any case) and
 * port; -1 when none. */
int servers_find_name(const struct server_list *l, const char *name);
int servers_find_addr(const struct server_list *l, const char *host, uint16_t port);
int servers_name_valid(const char *name);
/* Save s's server (host and port) with fp and user (NULL or "": keep
 * what is saved); a new entry is named after its address and becomes the
 * default when there is none. Sets s->name. 0 when updated, 1 when added,
 * 2 when added as the default, or a negative errno. */
int servers_remember(struct settings *s, const char *fp, const char *user);
/* "saved as server NAME..." on stdout for servers_remember's 1 or 2
 * (nothing for 0, with --json or -q). */
void servers_say_saved(const struct settings *s, int added);
int cmd_servers(struct settings *s, int argc, char **argv);

/* core.c: the event-driven client. One connection to chatd, a state
 * machine, requests matched to replies by id, pushed events to callbacks,
 * pings, and reconnection with backoff. A UI sits on these callbacks. */

enum client_state {
	CLIENT_IDLE,          /* not connected and not trying */
	CLIENT_CONNECTING,    /* TCP connect and TLS handshake */
	CLIENT_HANDSHAKING,   /* certificate checked, HELLO sent */
	CLIENT_READY,         /* WELCOME received, not logged in */
	CLIENT_AUTHENTICATED, /* logged in as client_user() */
	CLIENT_RECONNECTING,  /* lost; waiting out the backoff */
};

/* client_new flags */
#define CLIENT_NEED_TOKEN 0x01 /* use the cached login; fail without one */
#define CLIENT_RECONNECT 0x02  /* after a loss, reconnect forever */
#define CLIENT_PROMPT 0x04     /* may ask about an unknown certificate */
#define CLIENT_SIGNALS 0x08    /* SIGINT/SIGTERM end the run with status 0 */

struct client;
struct event_base;

/* A reply to a request: every frame carrying its id. The final one (OK,
 * ACK, TOKEN, PONG or ERROR; see client_reply_final) ends the request. m is
 * NULL when the connection went away first: the state callbacks report the
 * loss, so a reply function only cleans up then. */
typedef void (*client_reply_fn)(struct client *c, const struct msg *m, void *arg);

struct client_cbs {
	/* WELCOME received: send requests (again after each reconnect). */
	void (*ready)(struct client *c, void *arg);
	/* Every state change (after the change). */
	void (*state)(struct client *c, enum client_state old, void *arg);
	/* The certificate, before the pin check. When set it replaces the pin
	 * check: return 0 to go on with HELLO, non-zero to close. */
	int (*certificate)(struct client *c, const char *fp, void *arg);
	/* Pushed frames (req 0). */
	void (*chat)(struct client *c, const struct msg *m, void *arg);
	void (*event)(struct client *c, const struct msg *m, void *arg);
	void (*presence)(struct client *c, const struct msg *m, void *arg);
	void (*typing)(struct client *c, const struct msg *m, void *arg);
	/* Pushed frames of other types (another service's: AUDIO, ...). */
	void (*other)(struct client *c, const struct msg *m, void *arg);
	/* client_new_on only: the run ended (client_done, a failure) with
	 * status; client_fail_text says why (empty: said already). Called from
	 * the loop on its own turn, so it may client_free. */
	void (*done)(struct client *c, int status, void *arg);
};

struct client *client_new(struct settings *s, unsigned flags, const struct client_cbs *cbs,
                          void *arg);
void client_free(struct client *c);
/* Connect, run the loop until client_done or a failure, print the failure
 * ("nexus: ..." on stderr) and return the exit status. */
int client_run(struct client *c);
/* A client on a loop the caller runs and owns (another client's): it
 * never breaks that loop and client_free leaves it alone. client_start
 * connects without waiting (the TLS handshake and the exchange go on in
 * the loop); the end comes through cbs.done, failures are not printed. */
struct client *client_new_on(struct event_base *base, struct settings *s, unsigned flags,
                             const struct client_cbs *cbs, void *arg);
void client_start(struct client *c);
/* The failure message of a run that ended ("" if none). */
const char *client_fail_text(const struct client *c);
/* Why the server ended the last connection, when it said so in an ERROR
 * without a request id (e.g. "output queue full: you read too slowly"),
 * else NULL. Valid until the next connection is set up. */
const char *client_loss_text(const struct client *c);
/* New client, run, free: the whole life of a one-shot command. */
int client_main(struct settings *s, unsigned flags, const struct client_cbs *cbs, void *arg);

/* End the run with status (0 or an exit status already reported). */
void client_done(struct client *c, int status);
/* End the run with status and a message printed after the loop. */
void client_fail(struct client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* End the run because of a server ERROR; subject (a room, an id) is
 * prefixed to the standard sentences. */
void client_fail_msg(struct client *c, const struct msg *m, const char *subject);
/* The message client_fail_msg would print, into buf; returns the status. */
int client_error_text(const struct msg *m, const char *subject, char *buf, size_t len);
/* The exit status for a protocol error code. */
int client_exit_for(uint16_t code);
int client_failed(const struct client *c);

/* Send a request: sets m->req, registers fn. Returns 0 or a negative
 * errno (-ENOTCONN when not connected, -EINVAL when m cannot be encoded,
 * -EMSGSIZE when a string is over its cap). */
int client_request(struct client *c, struct msg *m, client_reply_fn fn, void *arg);
/* Send a frame that has no reply (TYPING). */
int client_send(struct client *c, const struct msg *m);
int client_reply_final(const struct msg *m);
/* Requests sent and not yet answered. */
unsigned client_pending(const struct client *c);

/* ROOM_LIST page after page: the next page starts after the cursor the
 * server sent (OK.id). A cursor that does not move forward, or more than
 * CLIENT_ROOM_PAGES_MAX pages, ends the listing (a misbehaving server must
 * not keep us asking forever). on_room gets each ROOM_INFO; it returns 0
 * to go on, non-zero to ask for no more pages (the rest of this page is
 * skipped). on_done ends every listing that started, once: r = 0 after
 * the last page (or on_room's stop); -ELOOP when the server's list does
 * not end (the rooms seen so far came through); -EREMOTEIO with err = the
 * server's ERROR; -ENOTCONN when the connection went (state callbacks
 * report it); another negative errno when a page could not be asked for.
 * flags: MF_JOINED for the user's own rooms. Returns 0, or a negative
 * errno (as client_request) when the first page could not be asked for;
 * on_done is not called then. */
#define CLIENT_ROOM_PAGES_MAX 10000
typedef int (*client_room_fn)(struct client *c, const struct msg *m, void *arg);
typedef void (*client_rooms_done_fn)(struct client *c, int r, const struct msg *err, void *arg);
int client_room_pages(struct client *c, uint32_t flags, client_room_fn on_room,
                      client_rooms_done_fn on_done, void *arg);

enum client_state client_state(const struct client *c);
const char *client_state_name(enum client_state s);
/* The connection's frame callback and the state machine's step, for the
 * fuzz target (test/fuzz/fuzz_client.c): a server's frame in any state. */
struct conn;
void client_conn_frame(struct conn *conn, const struct msg *m, void *arg);
void client_set_state(struct client *c, enum client_state s);
struct event_base *client_base(const struct client *c);
struct settings *client_settings(const struct client *c);
const char *client_user(const struct client *c);
const char *client_server_name(const struct client *c);
int client_is_admin(const struct client *c);
uint32_t client_max_text(const struct client *c);
const char *client_fingerprint(const struct client *c);
/* For the pin check: asking is allowed (CLIENT_PROMPT, first connection
 * only); note that the user was asked (the server may have given up on us
 * meanwhile: the next loss during the handshake reconnects at once). */
int client_may_prompt(const struct client *c);
void client_note_prompted(struct client *c);

/* Another service of the same server (before client_run): the HELLO name
 * ("file"), its port and the largest frame accepted from it. The pin and
 * the login stay those of the server (the daemons share a certificate). */
void client_set_service(struct client *c, const char *service, uint16_t port, uint32_t max_frame);
/* From WELCOME: the server's frame limit (count) and size field. */
uint32_t client_server_frame(const struct client *c);
uint64_t client_server_size(const struct client *c);
/* Streaming: bytes waiting to be sent, and a callback each time a write
 * leaves at most low bytes queued (fn NULL: off). */
size_t client_outq(const struct client *c);
/* client_send without copying m->data (the last field): done(data, len,
 * arg) once it is written (see conn_send_ref). */
typedef void (*client_ref_done_fn)(const void *data, size_t len, void *arg);
int client_send_ref(struct client *c, const struct msg *m, client_ref_done_fn done, void *arg);
typedef void (*client_drain_fn)(struct client *c, void *arg);
void client_set_drain(struct client *c, client_drain_fn fn, void *arg, size_t low);

/* trust.c: certificate pins. */

/* Check fp against known_servers for this server. Returns 0 to go on, or
 * non-zero after client_fail (unknown and cannot ask, refused, changed). */
int trust_check(struct client *c, const char *fp);
/* The pin of this server: TLS_PIN_MATCH, _MISMATCH (pinned filled) or
 * _UNKNOWN; negative after client_fail when known_servers is unreadable. */
int trust_lookup(struct client *c, const char *fp, char pinned[TLS_FP_LEN]);
/* Pin fp (0, or negative after client_fail). */
int trust_save(struct client *c, const char *fp);
/* Add the server to the saved servers (a failure is said, not fatal):
 * servers_remember's 1 or 2 when it was added. */
int trust_remember(struct client *c, const char *fp);
/* client_fail for a certificate that is not the one pinned. */
void trust_fail_changed(struct client *c, const char *pinned, const char *fp);
/* "Trust this server?" on the terminal: 1 yes, 0 no, -errno without one. */
int trust_ask(void);

/* cmd_trust.c */
int cmd_trust(struct settings *s, int argc, char **argv);

/* output.c: text and JSON lines on stdout. Server strings are cleaned of
 * control characters for the terminal and escaped in JSON. */

/* Write s for a terminal: controls, C1 and bidi overrides replaced, invalid
 * UTF-8 as U+FFFD, newlines as "↵". */
void out_clean(FILE *f, const char *s);
/* The same into a buffer (truncated to fit). */
const char *out_clean_str(char *buf, size_t len, const char *s);
/* Write s as a JSON string literal (quotes included). */
void out_json_str(FILE *f, const char *s);
/* "nexus: ..." on stderr. */
void out_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Finish a line on stdout: flush. 0 or a negative errno (-EPIPE). */
int out_flush(void);
/* One chat line, text or JSON; with prefix_room the text line starts with
 * the room name. 0 or a negative errno. */
int out_chat(const struct settings *s, const struct msg *m, int prefix_room);
/* "HH:MM:SS" of ms since the epoch, local time; "YYYY-MM-DD HH:MM" with
 * date set. */
const char *out_time(uint64_t ms, int date, char *buf, size_t len);

/* A JSON object written field by field on one line. */
struct jw {
	FILE *f;
	int depth;
	int count[8]; /* members written at each depth */
};
void jw_begin(struct jw *w, FILE *f);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_bool(struct jw *w, const char *key, int val);
void jw_null(struct jw *w, const char *key);
void jw_open(struct jw *w, const char *key, char bracket); /* '{' or '[' */
void jw_close(struct jw *w, char bracket);
/* Close the top object, newline, flush. 0 or a negative errno. */
int jw_end(struct jw *w);

/* cli.c: argument parsing and usage, over the command table of nexus.c. */

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(struct settings *s, int argc, char **argv);
};

/* The table usage lines come from (main registers it first). */
void cli_commands(const struct command *table, size_t n);
const struct command *cli_command_find(const char *name);
void cli_print_usage(FILE *f);
/* nexus help [COMMAND]: the exit status. */
int cli_help(int argc, char **argv);
/* Global flags before the command; returns the index of the command word,
 * argc when there is none, or -1 - status to stop. */
int cli_global(struct settings *s, int argc, char **argv);

/* Parse a subcommand's arguments (argv[0] is its name): global flags
 * anywhere, the command's own through optfn (key, optarg, ctx; returns 0
 * or EXIT_USAGE after a message). On success *ret_first indexes the first
 * operand. Returns 0, an exit status, or -1 after printing help (exit 0). */
int cli_parse(struct settings *s, int argc, char **argv, const char *shortopts,
              const struct option *longopts, int (*optfn)(int key, const char *arg, void *ctx),
              void *ctx, int *ret_first);
/* Usage error for a command: "nexus: MSG" and its synopsis; EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse an unsigned decimal (ids, counts). 0 or -EINVAL. */
int cli_u64(const char *arg, uint64_t max, uint64_t *ret);
/* Join argv[0..argc) with spaces into out. 0 or -EMSGSIZE. */
int cli_join(int argc, char **argv, char *out, size_t outlen);
/* Copy a ROOM operand, checking its length. 0 or EXIT_USAGE (printed). */
int cli_room(const char *cmd, const char *arg, char out[PROTO_ROOM_MAX + 1]);

/* cmd_account.c */
int cmd_register(struct settings *s, int argc, char **argv);
int cmd_login(struct settings *s, int argc, char **argv);
int cmd_logout(struct settings *s, int argc, char **argv);
int cmd_whoami(struct settings *s, int argc, char **argv);

/* cmd_room.c */
int cmd_rooms(struct settings *s, int argc, char **argv);
int cmd_create(struct settings *s, int argc, char **argv);
int cmd_join(struct settings *s, int argc, char **argv);
int cmd_leave(struct settings *s, int argc, char **argv);
int cmd_invite(struct settings *s, int argc, char **argv);
int cmd_topic(struct settings *s, int argc, char **argv);
int cmd_members(struct settings *s, int argc, char **argv);
/* A one-shot command: log in, send m, hand the replies to fn (which ends
 * the run). Returns the exit status. */
int request_main(struct settings *s, struct msg *m, client_reply_fn fn, void *arg);
/* Shared by room and message commands: print "TEXT" (or the JSON object
 * {"ok":true}) and finish on OK, fail on ERROR. arg: a struct simple_reply. */
struct simple_reply {
	char text[PROTO_TEXT_MAX + 64]; /* confirmation in text mode (unless -q) */
	const char *subject;            /* for error messages */
	uint64_t id;                    /* added to JSON as "id" when non-zero */
};
void simple_reply_cb(struct client *c, const struct msg *m, void *arg);

/* cmd_msg.c */
int cmd_say(struct settings *s, int argc, char **argv);
int cmd_edit(struct settings *s, int argc, char **argv);
int cmd_delete(struct settings *s, int argc, char **argv);
int cmd_tail(struct settings *s, int argc, char **argv);
int cmd_history(struct settings *s, int argc, char **argv);

/* cmd_ports.c */
int cmd_ports(struct settings *s, int argc, char **argv);

/* https.c: a short blocking HTTPS exchange with one of the server's
 * daemons (videod), pinned like the chat connection. */
struct ssl_st;
struct ssl_ctx_st;
struct https {
	int fd;
	struct ssl_st *ssl;
	struct ssl_ctx_st *ctx;
};
/* Connect to the server's port, handshake and check the pin; service
 * names the daemon in messages. 0 or an exit status (said). */
int https_open(struct settings *s, uint16_t port, const char *service, struct https *h);
int https_write(struct https *h, const char *buf, size_t len);
/* A whole response (Connection: close): its status and its body (to free). */
int https_read_all(struct https *h, int *ret_status, char **ret_body);
/* Up to len bytes of the response as they come: n > 0, or 0 at its end. */
int https_read(struct https *h, char *buf, size_t len);
/* Socket timeouts from now on (a long watch). */
void https_set_timeout(struct https *h, int secs);
void https_close(struct https *h);

/* cmd_call.c: call ROOM (videod) */
int cmd_call(struct settings *s, int argc, char **argv);

/* cmd_file.c: push, pull, files, rm, share, unshare (filed) */
int cmd_push(struct settings *s, int argc, char **argv);
int cmd_pull(struct settings *s, int argc, char **argv);
int cmd_files(struct settings *s, int argc, char **argv);
int cmd_rm(struct settings *s, int argc, char **argv);
int cmd_share(struct settings *s, int argc, char **argv);
int cmd_unshare(struct settings *s, int argc, char **argv);

/* cmd_talk.c: talk ROOM (audiod) */
int cmd_talk(struct settings *s, int argc, char **argv);

/* progress.c: a one-line progress bar on stderr (a terminal only); with
 * NEXUS_PROGRESS_FD=N, "progress DONE TOTAL" lines on N (for the TUI). */
struct progress;
/* NULL when there is nothing to draw (stderr not a terminal, or quiet). */
struct progress *progress_new(const char *label, uint64_t total, uint64_t start, int quiet);
void progress_update(struct progress *p, uint64_t done);
/* Erase the bar. NULL-safe. */
void progress_free(struct progress *p);
/* "1.5 MiB" */
const char *progress_bytes(uint64_t n, char *buf, size_t len);

#endif
