/* reader: HISTORY and search off the event loop. A full-text search ran on
 * the loop, so one long query froze every client (4.2 s for another user's
 * PING). One worker thread with its own read-only SQLite connection takes
 * jobs from a bounded queue, copies the rows it reads into the job, and
 * hands the job back through an eventfd; the callbacks run on the loop
 * thread, which alone sends, so nothing else in chatd sees the thread (the
 * same hand-off as hasher.c). Each statement also has a time budget (a
 * progress handler in db.c). WAL lets the reader see every committed write
 * while the loop keeps writing: HISTORY commits the pending batch before it
 * submits, so a reply holds everything acknowledged before it. */
#include "chatd.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>

#define READER_QUEUE_MAX 64 /* jobs queued, running or waiting for the loop */
/* One user's jobs at once: the history rate counts requests, not their
 * cost, so without this one user could queue 40 searches of up to 2 s
 * each ahead of everyone else's history. */
#define READER_USER_MAX PROTO_HISTORY_READS

/* A row copied out of SQLite: the worker owns it until the hand-off. */
struct reader_row {
	struct db_msg m; /* user and text point into this row */
	char user[PROTO_NAME_MAX + 1];
	char text[]; /* NUL-terminated */
};

struct read_job {
	struct read_job *next;
	struct session *s; /* NULL once the session is gone */
	int64_t uid;       /* whose read: READER_USER_MAX */
	struct db_history q;
	char search[CHATD_SEARCH_BYTES + 1];
	struct db_msg **rows; /* each the m of a struct reader_row */
	size_t nrows;
	int result; /* rows read, or a negative errno */
	reader_done_fn done;
	void *arg;
};

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct read_job *todo, *done; /* FIFO in, FIFO out */
	struct read_job **todo_tail, **done_tail;
	struct read_job *current; /* in the worker's hands */
	unsigned queued;
	bool running, stop;
	struct db *db; /* the worker's alone while it runs */
	int efd;
	struct event *ev;
} rd = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .efd = -1};

static int reader_row_cb(void *arg, const struct db_msg *m)
{
	struct read_job *j = arg;
	size_t len = strlen(m->text);
	struct reader_row *row;

	/* q.limit (at most CHATD_HISTORY_MAX) bounds the rows */
	row = malloc(sizeof(*row) + len + 1);
	if (!row) {
		j->result = -ENOMEM;
		return 1;
	}
	row->m = *m;
	snprintf(row->user, sizeof(row->user), "%s", m->user);
	memcpy(row->text, m->text, len + 1);
	row->m.user = row->user;
	row->m.text = row->text;
	j->rows[j->nrows++] = &row->m;
	return j->nrows >= j->q.limit;
}

static void reader_work(struct read_job *j)
{
	int n;

	j->rows = calloc(j->q.limit ? j->q.limit : 1, sizeof(*j->rows));
	if (!j->rows) {
		j->result = -ENOMEM;
		return;
	}
	j->result = 0;
	n = db_history(rd.db, &j->q, reader_row_cb, j);
	if (j->result == 0)
		j->result = n < 0 ? n : (int)j->nrows;
}

static void *reader_main(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&rd.lock);
	for (;;) {
		struct read_job *j;

		while (!rd.todo && !rd.stop)
			pthread_cond_wait(&rd.wake, &rd.lock);
		if (rd.stop)
			break;
		j = rd.todo;
		rd.todo = j->next;
		if (!rd.todo)
			rd.todo_tail = &rd.todo;
		j->next = NULL;
		rd.current = j;
		pthread_mutex_unlock(&rd.lock);
		reader_work(j);
		pthread_mutex_lock(&rd.lock);
		rd.current = NULL;
		*rd.done_tail = j;
		rd.done_tail = &j->next;
		/* the loop cannot answer the write's failure: it would stall */
		if (write(rd.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			j->result = j->result < 0 ? j->result : -EIO;
	}
	pthread_mutex_unlock(&rd.lock);
	return NULL;
}

static void reader_finish(struct read_job *j)
{
	j->done(j->s, j->result, j->rows, j->result > 0 ? j->nrows : 0, j->arg);
	for (size_t i = 0; i < j->nrows; i++)
		free(j->rows[i]); /* m is a row's first member: the row's address */
	free(j->rows);
	free(j);
}

static void reader_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct read_job *list;
	uint64_t n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("reader: %s", strerror(errno));
	pthread_mutex_lock(&rd.lock);
	list = rd.done;
	rd.done = NULL;
	rd.done_tail = &rd.done;
	for (struct read_job *j = list; j; j = j->next)
		rd.queued--;
	pthread_mutex_unlock(&rd.lock);
	while (list) {
		struct read_job *next = list->next;

		reader_finish(list);
		list = next;
	}
}

static int reader_start(void)
{
	char path[CONFIG_PATH_MAX + 16], err[256];
	int r;

	snprintf(path, sizeof(path), "%s/%s", chatd.cfg.common.state_dir, CHATD_DB_NAME);
	r = db_open_reader(path, CHATD_READ_BUDGET_MS, &rd.db, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return r;
	}
	rd.todo_tail = &rd.todo;
	rd.done_tail = &rd.done;
	rd.stop = false;
	rd.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rd.efd < 0) {
		r = errno;
	} else {
		rd.ev = event_new(chatd.base, rd.efd, EV_READ | EV_PERSIST, reader_ready_cb, NULL);
		r = !rd.ev || event_add(rd.ev, NULL) < 0 ? ENOMEM : 0;
	}
	if (r == 0) {
		/* signals stay with the loop thread: the worker blocks them all */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&rd.thread, NULL, reader_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (r) {
		log_err("cannot start the history reader thread: %s", strerror(r));
		reader_stop();
		return -r;
	}
	rd.running = true;
	return 0;
}

void reader_stop(void)
{
	struct read_job *lists[2];

	if (rd.running) {
		pthread_mutex_lock(&rd.lock);
		rd.stop = true;
		pthread_cond_signal(&rd.wake);
		pthread_mutex_unlock(&rd.lock);
		pthread_join(rd.thread, NULL);
		rd.running = false;
	}
	/* what is left never ran or never reached the loop: owners free it */
	lists[0] = rd.todo;
	lists[1] = rd.done;
	rd.todo = rd.done = NULL;
	rd.todo_tail = &rd.todo;
	rd.done_tail = &rd.done;
	rd.queued = 0;
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct read_job *next = lists[i]->next;

			lists[i]->s = NULL;
			lists[i]->result = -ECANCELED;
			reader_finish(lists[i]);
			lists[i] = next;
		}
	}
	if (rd.ev)
		event_free(rd.ev);
	rd.ev = NULL;
	if (rd.efd >= 0)
		close(rd.efd);
	rd.efd = -1;
	db_close(rd.db);
	rd.db = NULL;
}

/* Jobs of user uid not yet handed back; rd.lock held. */
static unsigned reader_user_jobs(int64_t uid)
{
	struct read_job *lists[3] = {rd.todo, rd.current, rd.done};
	unsigned n = 0;

	for (int i = 0; i < 3; i++)
		for (struct read_job *j = lists[i]; j; j = i == 1 ? NULL : j->next)
			n += j->uid == uid;
	return n;
}

int reader_submit(struct session *s, const struct db_history *q, reader_done_fn done, void *arg)
{
	struct read_job *j;
	int r;

	if (q->search && strlen(q->search) > CHATD_SEARCH_BYTES)
		return -E2BIG;
	if (!rd.running && (r = reader_start()) < 0)
		return -ENOTCONN;
	pthread_mutex_lock(&rd.lock);
	if (rd.queued >= READER_QUEUE_MAX) {
		pthread_mutex_unlock(&rd.lock);
		return -EBUSY;
	}
	if (reader_user_jobs(s->user->id) >= READER_USER_MAX) {
		pthread_mutex_unlock(&rd.lock);
		return -EAGAIN;
	}
	rd.queued++;
	pthread_mutex_unlock(&rd.lock);
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->uid = s->user->id;
	j->q = *q;
	if (q->search) {
		snprintf(j->search, sizeof(j->search), "%s", q->search);
		j->q.search = j->search;
	}
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&rd.lock);
	*rd.todo_tail = j;
	rd.todo_tail = &j->next;
	pthread_cond_signal(&rd.wake);
	pthread_mutex_unlock(&rd.lock);
	return 0;
}

/* s is being freed: its jobs complete with s NULL. */
void reader_forget(const struct session *s)
{
	struct read_job *lists[3];

	pthread_mutex_lock(&rd.lock);
	lists[0] = rd.todo;
	lists[1] = rd.current;
	lists[2] = rd.done;
	for (int i = 0; i < 3; i++)
		for (struct read_job *j = lists[i]; j; j = j->next)
			if (j->s == s)
				j->s = NULL;
	pthread_mutex_unlock(&rd.lock);
}
