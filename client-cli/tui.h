/* tui: the full-screen client (`nexus` with no subcommand). Private header
 * of the tui_*.c files, one section per file. The state, the line editor
 * and the command parser are plain C over libc (unit-tested without a
 * terminal); only tui.c, tui_draw.c, tui_net.c and tui_setup.c use curses
 * or the network. */
#ifndef NEXUS_TUI_H
#define NEXUS_TUI_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "proto.h"
#include "utf8.h"

struct settings;
struct client;
struct client_cbs;

/* tui_state.c: rooms, a bounded window of messages per room, unread
 * counts, mentions, members and presence, typing. */

#define TUI_KEEP 5000        /* messages kept per room while following live */
#define TUI_KEEP_MAX 20000   /* and at most while scrolled back */
#define TUI_ROOMS_MAX 512    /* rooms and DMs in the list */
#define TUI_MEMBERS_MAX 2000 /* members kept per room */
#define TUI_PEOPLE_MAX 4096  /* users whose presence is known */
#define TUI_TYPING_MAX 8     /* typing users shown per room */
#define TUI_TYPING_MS 6000   /* a typing notice lasts this long */

/* Entry kinds: chat messages have server ids; the rest are local lines. */
enum tui_kind { TUI_CHAT, TUI_EVENT, TUI_INFO, TUI_ERROR };

struct tui_msg {
	uint64_t id;  /* server id; for local lines the id they follow */
	uint32_t sub; /* 0 for chat; local lines after the same id: 1, 2, ... */
	uint64_t ts;  /* ms since the epoch */
	uint64_t ref; /* reply to */
	uint32_t flags;
	uint8_t kind;
	char user[PROTO_NAME_MAX + 1];
	char *text; /* cleaned: no controls but '\n' */
};

struct tui_member {
	char name[PROTO_NAME_MAX + 1];
};

struct tui_typing {
	char user[PROTO_NAME_MAX + 1];
	uint64_t until_ms;
};

struct tui_room {
	char name[PROTO_ROOM_MAX + 1];  /* as the server names it ("@a:b" for a DM) */
	char label[PROTO_ROOM_MAX + 2]; /* as shown: "lobby", "@peer" */
	char topic[256];
	uint32_t flags; /* MF_PRIVATE, MF_DM, MF_JOINED */
	int joined;
	/* Ring of messages sorted by (id, sub). */
	struct tui_msg *ring;
	size_t cap, head, count;
	uint32_t next_sub;
	uint64_t last_id; /* newest chat id held (or seen) */
	int has_older;    /* the server has older messages than the first held */
	int loading;      /* a HISTORY for older messages is in flight */
	/* Catch-up after a reconnect (tui_net.c): TUI_CATCHUP_WAIT for its
	 * turn, TUI_CATCHUP_SENT in flight; what was missed lies after since. */
	int catchup;
	uint64_t catchup_since;
	unsigned unread;
	int mention;
	/* Scroll-back: 0 follows live; else the number of lines above the bottom. */
	size_t scroll;
	unsigned new_below; /* messages arrived while scrolled back */
	struct tui_member *members;
	size_t nmembers;
	struct tui_typing typing[TUI_TYPING_MAX];
};

struct tui_person {
	char name[PROTO_NAME_MAX + 1];
	uint8_t presence;
};

/* Voice and call presence (tui_state.c): who is in the voice room being
 * talked in, who talks, and who is in the call of the room shown. */
#define TUI_AV_MAX 64 /* people tracked in a voice room or a call */
enum { TUI_AV_VOICE = 1, TUI_AV_TALKING = 2, TUI_AV_MUTED = 4, TUI_AV_CALL = 8, TUI_AV_FRESH = 16 };

struct tui_av {
	char name[PROTO_NAME_MAX + 1];
	uint8_t flags;
};

struct tui_state {
	struct tui_room **rooms;
	size_t nrooms;
	size_t cur; /* index of the current room (valid when nrooms > 0) */
	char me[PROTO_NAME_MAX + 1];
	struct tui_person *people;
	size_t npeople;
	unsigned drops;                      /* messages dropped from the windows (for the bench) */
	char voice_room[PROTO_ROOM_MAX + 1]; /* the room talked in ("": none) */
	int voice_joined, voice_muted;
	struct tui_av voice[TUI_AV_MAX];
	size_t nvoice;
	char call_room[PROTO_ROOM_MAX + 1]; /* the room whose call is watched */
	struct tui_av call[TUI_AV_MAX];
	size_t ncall;
	struct tui_room *home; /* what was said while no room was open */
};

void tui_state_init(struct tui_state *st);
void tui_state_free(struct tui_state *st);
struct tui_room *tui_room_find(struct tui_state *st, const char *name);
/* Find or add a room; NULL when the list is full. DMs ("@a:b") get the
 * label "@peer". */
struct tui_room *tui_room_add(struct tui_state *st, const char *name, uint32_t flags);
void tui_room_remove(struct tui_state *st, struct tui_room *r);
struct tui_room *tui_room_rename(struct tui_state *st, const char *from, const char *to);
struct tui_room *tui_room_current(struct tui_state *st);
/* Where notes go while no room is open (help, /list, errors): a room of
 * its own, outside the list, shown in the conversation's place. NULL when
 * out of memory. */
struct tui_room *tui_state_home(struct tui_state *st);
/* The room shown: the current one, else the home view (NULL when none). */
struct tui_room *tui_room_shown(struct tui_state *st);
size_t tui_room_index(const struct tui_state *st, const struct tui_room *r);
void tui_room_select(struct tui_state *st, size_t i);
/* Next room after the current one with unread messages (mentions first);
 * returns its index, or the current one when none. */
size_t tui_room_next_unread(const struct tui_state *st);

/* Insert a chat message (history or live). Returns 1 when it was new, 0
 * when the id was held already (an edit or delete updates it then), -1 on
 * a failed allocation. Live, new, not own messages in a room that is not
 * current raise unread; mentions and DMs from others set the mark. */
int tui_room_insert(struct tui_state *st, struct tui_room *r, const struct msg *m, int current);
/* A local line (event, info, error) after the newest message. */
void tui_room_note(struct tui_room *r, enum tui_kind kind, uint64_t ts, const char *user,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct tui_msg *tui_room_at(const struct tui_room *r, size_t i);
struct tui_msg *tui_room_by_id(const struct tui_room *r, uint64_t id);
uint64_t tui_room_first_id(const struct tui_room *r);
/* Trim to TUI_KEEP when back at the bottom. */
void tui_room_trim(struct tui_state *st, struct tui_room *r);

void tui_member_set(struct tui_room *r, const char *name, int present);
int tui_member_has(const struct tui_room *r, const char *name);
void tui_presence_set(struct tui_state *st, const char *name, unsigned presence);
unsigned tui_presence_get(const struct tui_state *st, const char *name);
void tui_typing_set(struct tui_room *r, const char *user, uint64_t now_ms);
void tui_typing_clear(struct tui_room *r, const char *user);
/* Drop expired notices; 1 if any went. */
int tui_typing_expire(struct tui_room *r, uint64_t now_ms);

/* Forget the voice room (or the call) and start following room ("" for
 * none). */
void tui_voice_reset(struct tui_state *st, const char *room);
void tui_call_reset(struct tui_state *st, const char *room);
/* One line of `nexus talk --json`: TUI_VEV_NONE (nothing that shows),
 * TUI_VEV_CHANGED, TUI_VEV_JOINED, or TUI_VEV_BAD (not an event: text,
 * broken JSON). */
enum { TUI_VEV_BAD = -1, TUI_VEV_NONE = 0, TUI_VEV_CHANGED = 1, TUI_VEV_JOINED = 2 };
int tui_voice_event(struct tui_state *st, const char *line);
/* One line of `nexus call --watch-only --json` (the whole list each time):
 * 1 when the list changed, 0 when not, -1 when not such a line. */
int tui_call_event(struct tui_state *st, const char *line);
/* TUI_AV_* marks of name in room: voice marks only in the room talked in,
 * the call mark only in the room watched. */
unsigned tui_av_marks(const struct tui_state *st, const char *room, const char *name);

/* A file notice as `nexus push --room` posts it: "📎 NAME (SIZE) LINK".
 * Returns 1 and fills the parts (cut to fit), or 0 when text is not one. */
int tui_notice_parse(const char *text, char *name, size_t namelen, char *size, size_t sizelen,
                     char *link, size_t linklen);
/* FNV-1a of a name, for its colour. */
uint32_t tui_name_hash(const char *name);

/* tui_input.c: the input line. Wide characters, display widths, word
 * editing, history, completion. */

#define TUI_LINE_MAX 4096   /* characters */
#define TUI_HISTORY_MAX 200 /* lines */

struct tui_line {
	wchar_t buf[TUI_LINE_MAX + 1];
	size_t len, pos;
	size_t scroll; /* first column shown */
	wchar_t kill[TUI_LINE_MAX + 1];
	size_t kill_len;
	/* History: hist[0] the oldest; hist_pos == nhist while editing new. */
	wchar_t *hist[TUI_HISTORY_MAX];
	size_t nhist, hist_pos;
	wchar_t *saved; /* the line being edited while browsing history */
	/* Completion in progress: candidates cycle on repeated Tab. */
	int completing;
	size_t comp_start, comp_len, comp_index;
	char comp_word[256]; /* the word as typed before the first Tab */
};

void tui_line_init(struct tui_line *l);
void tui_line_free(struct tui_line *l);
void tui_line_clear(struct tui_line *l);
int tui_line_insert(struct tui_line *l, wchar_t ch);
int tui_line_insert_str(struct tui_line *l, const wchar_t *s, size_t n);
void tui_line_left(struct tui_line *l);
void tui_line_right(struct tui_line *l);
void tui_line_home(struct tui_line *l);
void tui_line_end(struct tui_line *l);
void tui_line_word_left(struct tui_line *l);  /* Alt-B */
void tui_line_word_right(struct tui_line *l); /* Alt-F */
void tui_line_backspace(struct tui_line *l);
void tui_line_delete(struct tui_line *l);
void tui_line_kill_word_back(struct tui_line *l); /* Ctrl-W */
void tui_line_kill_word_fwd(struct tui_line *l);  /* Alt-D */
void tui_line_kill_start(struct tui_line *l);     /* Ctrl-U */
void tui_line_kill_end(struct tui_line *l);       /* Ctrl-K */
void tui_line_yank(struct tui_line *l);           /* Ctrl-Y */
void tui_line_transpose(struct tui_line *l);      /* Ctrl-T */
/* The line as UTF-8 into out (NUL-terminated); bytes written or -1 when it
 * does not fit. */
int tui_line_utf8(const struct tui_line *l, char *out, size_t outlen);
/* Remember the line in the history (not blank, not a repeat). */
void tui_line_remember(struct tui_line *l);
void tui_line_hist_prev(struct tui_line *l);
void tui_line_hist_next(struct tui_line *l);
/* Tab: complete the word before the cursor from cands (NULL-terminated
 * UTF-8 strings, already filtered by kind); repeated calls cycle. Returns
 * the number of matches. suffix is appended after a unique completion. */
size_t tui_line_complete(struct tui_line *l, const char *const *cands, const char *suffix);
/* Any key but Tab ends a completion. */
void tui_line_complete_end(struct tui_line *l);
/* The word before the cursor as UTF-8 (for choosing candidates); its
 * start index into *ret_start. */
void tui_line_word(const struct tui_line *l, char *out, size_t outlen, size_t *ret_start);

/* Display width of a wide character (0 for combining marks, 2 for CJK; a
 * control or unprintable counts 1: it is shown as a replacement). */
int tui_wcwidth(wchar_t ch);
/* Width of n wide characters. */
size_t tui_wcswidth(const wchar_t *s, size_t n);
/* Decode UTF-8 into wide characters (invalid bytes become U+FFFD); returns
 * the count written (at most max). */
size_t tui_utf8_decode(const char *s, wchar_t *out, size_t max);
/* How many of the n characters of s fit in cols columns. */
size_t tui_fit(const wchar_t *s, size_t n, size_t cols);
/* Keep the cursor on screen in a field cols wide: updates l->scroll;
 * returns the cursor column within the field. */
size_t tui_line_view(struct tui_line *l, size_t cols);

/* tui_cmd.c: slash commands. */

enum tui_cmd_id {
	TUI_CMD_NONE, /* not a command: a message */
	TUI_CMD_JOIN,
	TUI_CMD_LEAVE,
	TUI_CMD_CREATE,
	TUI_CMD_INVITE,
	TUI_CMD_MSG,
	TUI_CMD_ME,
	TUI_CMD_REPLY,
	TUI_CMD_EDIT,
	TUI_CMD_DELETE,
	TUI_CMD_TOPIC,
	TUI_CMD_SEARCH,
	TUI_CMD_AWAY,
	TUI_CMD_BACK,
	TUI_CMD_WHO,
	TUI_CMD_CALL,
	TUI_CMD_TRUST,
	TUI_CMD_HELP,
	TUI_CMD_QUIT,
	TUI_CMD_BELL,
	TUI_CMD_IDS,
	TUI_CMD_SEND,
	TUI_CMD_GET,
	TUI_CMD_TALK,
	TUI_CMD_HANGUP,
	TUI_CMD_MUTE,
	TUI_CMD_LIST,
	TUI_CMD_MAX_,
};

struct tui_cmd {
	enum tui_cmd_id id;
	char room[PROTO_ROOM_MAX + 1]; /* join leave create invite topic (optional) */
	char user[PROTO_NAME_MAX + 1]; /* invite msg */
	uint64_t msg_id;               /* reply edit delete (0: the last one) */
	int flag;                      /* create --private; bell on */
	const char *text;              /* points into the parsed line */
};

/* Parse one input line. Returns 0 (cmd filled; TUI_CMD_NONE for a plain
 * message, with text the whole line; "//x" sends "/x"), or -1 with a
 * sentence in err. */
int tui_cmd_parse(const char *line, struct tui_cmd *cmd, char *err, size_t errlen);
/* Command names for completion, "/join" ..., NULL-terminated. */
const char *const *tui_cmd_names(void);
/* One help line per command: "/join ROOM  become a member and open it". */
const char *tui_cmd_help(size_t i);

/* tui.c / tui_net.c / tui_draw.c / tui_setup.c: the running client. */

struct event;

/* tui_xfer.c: /send and /get run `nexus push` / `nexus pull` as children
 * (the same code as on the command line) and show their progress. */
#define TUI_XFERS_MAX 4       /* transfers shown at once */
#define TUI_XFER_SHOW_MS 6000 /* "done" / "failed" stays this long */
enum tui_xfer_state { TUI_XFER_FREE, TUI_XFER_RUNNING, TUI_XFER_DONE, TUI_XFER_FAILED };

struct tui_xfer {
	int state;
	int up; /* push (1) or pull (0) */
	int pid;
	int fd; /* the child's stderr: progress lines and its error */
	struct event *ev;
	void *tui;
	char name[64];
	uint64_t done, total;
	uint64_t rate_ms, rate_bytes;
	double rate; /* bytes per second */
	uint64_t until_ms;
	char err[160];
	char lbuf[512];
	size_t llen;
};

/* tui_voice.c: /talk runs `nexus talk ROOM --json` as a child and follows
 * its events; the room shown has its call watched by a child `nexus call
 * ROOM --watch-only --json`. */
#define TUI_CHILD_LINE_MAX 8192 /* longest line read from a child */
#define TUI_REAP_MAX 16         /* children ended but not yet reaped */
#define TUI_REAP_KILL_MS 3000   /* SIGKILL a child this long after SIGTERM */

struct bufferevent;
struct tui;

/* A child's line from its stdout (voice, call watch). */
typedef void (*tui_child_line_fn)(struct tui *t, const char *line);
/* A child reaped: its exit status (128 + signal when killed, -1 unknown). */
typedef void (*tui_reap_fn)(struct tui *t, int pid, int status);

struct tui_child {
	int pid;                 /* 0: none */
	struct bufferevent *bev; /* its stdout */
	int err_fd;              /* its stderr (a memory file), or -1 */
	struct tui *tui;
	tui_child_line_fn line; /* each line of its stdout */
};

struct tui_reap {
	int pid;
	uint64_t kill_at_ms; /* SIGKILL then if it still runs */
	tui_reap_fn done;    /* told the exit status, or NULL */
};

struct tui {
	struct settings *s;
	struct client *c;
	struct tui_state st;
	struct tui_line line;
	struct event *stdin_ev, *winch_ev, *redraw_ev, *tick_ev;
	int curses; /* curses is running */
	int dirty;  /* a redraw is scheduled */
	int color;  /* colours in use */
	int utf8;   /* the terminal takes UTF-8 */
	int title;  /* the terminal takes title escapes */
	char title_text[160];
	int show_members; /* the member list on the right; -1: when wide */
	int empty_reads;  /* stdin readable without a key, in a row */
	int show_ids;     /* message ids before the nicks */
	int bell;         /* ring on mentions and direct messages */
	int paste;        /* inside a bracketed paste */
	int alt;          /* ESC seen: the next key has Alt */
	int quit_armed;   /* Ctrl-C once: once more quits */
	int online;       /* logged in and connected */
	int was_online;   /* was connected before: a reconnect resumes */
	int away;
	const char *conn_text; /* "connecting", "reconnecting", ... */
	uint64_t ping_sent_ms;
	uint32_t ping_req;
	long latency_ms;           /* -1: unknown */
	unsigned catchup_flight;   /* catch-up HISTORY requests in flight */
	uint64_t catchup_retry_ms; /* after ERR_RATE_LIMITED: none sent before */
	unsigned catchup_backoff_ms;
	int catchup_timer; /* a timer will pump the catch-up */
	uint64_t typing_sent_ms;
	char typing_room[PROTO_ROOM_MAX + 1];
	char status[512]; /* a passing note on the status line */
	uint64_t status_until_ms;
	int text_width; /* width of the conversation when last drawn */
	int hit_top;    /* the last draw showed the oldest message held */
	int bench;      /* drawing without a client or terminal output */
	/* First run: the account to log in or register with. */
	int setup;
	int registering;
	int attempts;
	char setup_user[PROTO_NAME_MAX + 1];
	char setup_password[PROTO_SECRET_MAX + 1];
	struct tui_xfer xfers[TUI_XFERS_MAX];
	struct tui_child voice; /* nexus talk */
	char voice_label[PROTO_ROOM_MAX + 2];
	char voice_err[200]; /* why the voice child ended */
	int voice_end_pid;   /* the ended voice child not yet reaped */
	char voice_end_room[PROTO_ROOM_MAX + 1];
	uint64_t voice_err_until_ms;        /* shown on the status line until then */
	struct tui_child callw;             /* nexus call --watch-only */
	struct tui_child calllink;          /* nexus call --link-only (/call) */
	char link_room[PROTO_ROOM_MAX + 1]; /* /call: asked for this room */
	char link_label[PROTO_ROOM_MAX + 2];
	int link_said;          /* the link came */
	uint64_t call_retry_ms; /* start the watch again then */
	unsigned call_backoff_s;
	struct tui_reap reap[TUI_REAP_MAX];
	/* stderr goes to a file while curses owns the screen. */
	int saved_stderr;
	int err_fd;
};

int tui_main(struct settings *s, int argc, char **argv);
/* Ask for a redraw soon (coalesced: at most one per TUI_REDRAW_MS). */
void tui_dirty(struct tui *t);
/* A note on the status line for a few seconds. */
void tui_status(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tui_curses_start(struct tui *t);
void tui_curses_stop(struct tui *t);

/* tui_draw.c */
#define TUI_MEMBERS_AUTO_COLS 100  /* the member list shows from this width on */
void tui_draw_init(struct tui *t); /* colours, after initscr */
void tui_draw(struct tui *t);
/* Lines a message takes at the current width (for a steady scroll-back). */
size_t tui_draw_lines(struct tui *t, const struct tui_room *r, const struct tui_msg *m);

/* tui_net.c */
const struct client_cbs *tui_net_callbacks(void);
/* Enter pressed: a message or a command. */
void tui_net_line(struct tui *t, const char *line);
void tui_net_load_older(struct tui *t, struct tui_room *r);
void tui_net_typing(struct tui *t);
void tui_net_tick(struct tui *t);
/* Logged in (first time, or again after a loss): rooms, history, members. */
void tui_net_start(struct tui *t);
/* Open a room (join it when needed) and make it current. */
void tui_net_open(struct tui *t, const char *room);
/* A line in the current room, or in the home view when none is open. */
void tui_note(struct tui *t, enum tui_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* tui_list.c */
/* /list [WORD]: the rooms there are (those matching WORD), with members
 * and topics, page by page from the server. */
void tui_list_start(struct tui *t, const char *word);

/* tui_xfer.c */
/* /send PATH: push it and share it to room r. */
void tui_xfer_send(struct tui *t, struct tui_room *r, const char *path);
/* /get [N|LINK] [PATH]: pull the notice N's (the latest notice's) file. */
void tui_xfer_get(struct tui *t, struct tui_room *r, const char *args);
/* Once a second: finished transfers leave the panel after a while. */
void tui_xfer_tick(struct tui *t);
/* The transfer's line for the panel. */
const char *tui_xfer_text(const struct tui_xfer *x, char *buf, size_t len);

/* tui_child.c */
/* Start `nexus ARGS[0] -s SERVER -P PORT [-u USER] ARGS[1]...` (NULL-
 * terminated): stdin from /dev/null, stdout on out_fd and stderr on err_fd
 * (-1: /dev/null); progress: NEXUS_PROGRESS_FD=2. Its pid or -errno. */
int tui_child_spawn(struct tui *t, const char **args, int out_fd, int err_fd, int progress);
/* 1 when pid is gone (reaped now: *status set), 0 while it runs. */
int tui_reap_try(int pid, int *status);
/* Wait for pid without blocking; done (may be NULL) gets its exit status. */
void tui_reap_add(struct tui *t, int pid, tui_reap_fn done);
/* Once a second: reap what has ended; SIGKILL what overstayed. */
void tui_reap_poll(struct tui *t);
/* Quitting: wait up to wait_ms for every child, then SIGKILL the rest. */
void tui_reap_all(struct tui *t, uint64_t wait_ms);

/* tui_voice.c */
/* /talk: talk in room (name as the server names it); moves from another. */
void tui_voice_start(struct tui *t, const char *room, const char *label);
/* /hangup; quiet: no note (quitting). */
void tui_voice_stop(struct tui *t, int quiet);
/* The mute key and /mute: SIGUSR1 to the child. */
void tui_voice_mute(struct tui *t);
/* Follow the call of the room shown (start, move or stop the watch). */
void tui_call_follow(struct tui *t);
/* /call: a one-time link to room's call, from a child `nexus call ROOM
 * --link-only --json`; shown in the room when it comes, or why not. */
void tui_call_link(struct tui *t, const char *room, const char *label);
/* Once a second: reap ended children, retry the watch. */
void tui_voice_tick(struct tui *t);
/* Quitting: end every child. */
void tui_voice_end_all(struct tui *t);

/* tui_setup.c: the first run. */
/* Ask for server and account on the terminal; 0 or an exit status. */
int tui_setup_ask(struct tui *t);
/* Connected without a login: send LOGIN or REGISTER (then tui_net_start). */
void tui_setup_login(struct tui *t);

#endif
