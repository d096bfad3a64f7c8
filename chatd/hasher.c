/* hasher: Argon2id off the event loop. A hash or a check takes about 50 ms
 * (that is the point of Argon2), which on the loop stalled every client of
 * chatd for each login. One worker thread takes jobs from a bounded queue
 * and hands the results back through an eventfd; the callbacks run on the
 * loop thread, so nothing else in chatd sees the thread. One worker is
 * enough: logins are rate-limited, and each Argon2 run already uses its
 * configured memory. A job whose session closed meanwhile still completes,
 * with a NULL session, so its owner can free what it carries. */
#include "chatd.h"
#include "auth.h"
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

#define HASHER_QUEUE_MAX 64

struct hash_job {
	struct hash_job *next;
	struct session *s; /* NULL once the session is gone */
	char password[PROTO_SECRET_MAX + 1];
	char hash[AUTH_HASH_MAX]; /* in: the hash to check ("" to make one); out: the new hash */
	bool make;
	int result;
	hasher_done_fn done;
	void *arg;
};

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct hash_job *todo, *done; /* FIFO in, any order out */
	struct hash_job *current;     /* in the worker's hands */
	struct hash_job **todo_tail;
	unsigned queued;
	bool running, stop;
	int efd;
	struct event *ev;
} hs = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .efd = -1};

static void hasher_work(struct hash_job *j)
{
	if (j->make) {
		j->result = auth_password_hash(j->password, j->hash);
	} else {
		j->result = auth_password_verify(j->hash, j->password);
		explicit_bzero(j->hash, sizeof(j->hash));
	}
	explicit_bzero(j->password, sizeof(j->password));
}

static void *hasher_main(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&hs.lock);
	for (;;) {
		struct hash_job *j;

		while (!hs.todo && !hs.stop)
			pthread_cond_wait(&hs.wake, &hs.lock);
		if (hs.stop)
			break;
		j = hs.todo;
		hs.todo = j->next;
		if (!hs.todo)
			hs.todo_tail = &hs.todo;
		j->next = NULL;
		hs.current = j;
		pthread_mutex_unlock(&hs.lock);
		hasher_work(j);
		pthread_mutex_lock(&hs.lock);
		hs.current = NULL;
		j->next = hs.done;
		hs.done = j;
		if (write(hs.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("hasher: cannot wake the loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&hs.lock);
	return NULL;
}

static void hasher_finish(struct hash_job *j)
{
	j->done(j->s, j->result, j->make ? j->hash : NULL, j->arg);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void hasher_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hash_job *list;
	uint64_t n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("hasher: %s", strerror(errno));
	pthread_mutex_lock(&hs.lock);
	list = hs.done;
	hs.done = NULL;
	for (struct hash_job *j = list; j; j = j->next)
		hs.queued--;
	pthread_mutex_unlock(&hs.lock);
	while (list) {
		struct hash_job *next = list->next;

		hasher_finish(list);
		list = next;
	}
}

static int hasher_start(void)
{
	int r;

	hs.todo_tail = &hs.todo;
	hs.stop = false;
	hs.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (hs.efd < 0)
		return -errno;
	hs.ev = event_new(chatd.base, hs.efd, EV_READ | EV_PERSIST, hasher_ready_cb, NULL);
	if (!hs.ev || event_add(hs.ev, NULL) < 0) {
		r = ENOMEM;
	} else {
		/* signals stay with the loop thread: the worker blocks them all */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&hs.thread, NULL, hasher_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (r) {
		hasher_stop();
		return -r;
	}
	hs.running = true;
	return 0;
}

void hasher_stop(void)
{
	struct hash_job *lists[2];

	if (hs.running) {
		pthread_mutex_lock(&hs.lock);
		hs.stop = true;
		pthread_cond_signal(&hs.wake);
		pthread_mutex_unlock(&hs.lock);
		pthread_join(hs.thread, NULL);
		hs.running = false;
	}
	/* what is left never ran or never reached the loop: owners free it */
	lists[0] = hs.todo;
	lists[1] = hs.done;
	hs.todo = hs.done = NULL;
	hs.todo_tail = &hs.todo;
	hs.queued = 0;
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct hash_job *next = lists[i]->next;

			lists[i]->s = NULL;
			lists[i]->result = -ECANCELED;
			hasher_finish(lists[i]);
			lists[i] = next;
		}
	}
	if (hs.ev)
		event_free(hs.ev);
	hs.ev = NULL;
	if (hs.efd >= 0)
		close(hs.efd);
	hs.efd = -1;
}

int hasher_submit(struct session *s, const char *password, const char *hash, hasher_done_fn done,
                  void *arg)
{
	struct hash_job *j;
	int r;

	if (!hs.running && (r = hasher_start()) < 0) {
		log_err("cannot start the password hashing thread: %s", strerror(-r));
		return -ENOTCONN;
	}
	if (strlen(password) >= sizeof(j->password) || (hash && strlen(hash) >= sizeof(j->hash)))
		return -E2BIG;
	pthread_mutex_lock(&hs.lock);
	if (hs.queued >= HASHER_QUEUE_MAX) {
		pthread_mutex_unlock(&hs.lock);
		return -EBUSY;
	}
	hs.queued++;
	pthread_mutex_unlock(&hs.lock);
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	snprintf(j->password, sizeof(j->password), "%s", password);
	j->make = !hash;
	if (hash)
		snprintf(j->hash, sizeof(j->hash), "%s", hash);
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&hs.lock);
	*hs.todo_tail = j;
	hs.todo_tail = &j->next;
	pthread_cond_signal(&hs.wake);
	pthread_mutex_unlock(&hs.lock);
	return 0;
}

/* Whether s has a job queued, running or waiting for the loop; with
 * forget, those jobs lose their session (it is being freed). */
static bool hasher_scan(const struct session *s, bool forget)
{
	struct hash_job *lists[3];
	bool found = false;

	pthread_mutex_lock(&hs.lock);
	lists[0] = hs.todo;
	lists[1] = hs.current;
	lists[2] = hs.done;
	for (int i = 0; i < 3; i++) {
		for (struct hash_job *j = lists[i]; j; j = j->next) {
			if (j->s != s)
				continue;
			found = true;
			if (forget)
				j->s = NULL;
		}
	}
	pthread_mutex_unlock(&hs.lock);
	return found;
}

void hasher_forget(const struct session *s)
{
	hasher_scan(s, true);
}

bool hasher_busy(const struct session *s)
{
	return hasher_scan(s, false);
}
