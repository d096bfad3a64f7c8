/* Unit tests for common/sd.c against a fake systemd: a notify socket of our
 * own, and LISTEN_FDS pointing at a socket we put on fd 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sd.h"

static char tdir[64];
static char notify_path[96];
static int notify_fd = -1;

static int setup(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/test_sd.XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	snprintf(notify_path, sizeof(notify_path), "%s/notify", tdir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify_path);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	/* keep it clear of fd 3, which test_listen takes over */
	fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 10);
	close(notify_fd);
	notify_fd = fd;
	setenv("NOTIFY_SOCKET", notify_path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(notify_fd);
	unlink(notify_path);
	rmdir(tdir);
	return 0;
}

/* The next datagram on the notify socket, or "" after timeout_ms. */
static const char *next_msg(int timeout_ms)
{
	static char buf[1024];
	struct pollfd p = {.fd = notify_fd, .events = POLLIN};
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, timeout_ms) != 1)
		return buf;
	n = recv(notify_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void drain(void)
{
	while (next_msg(0)[0])
		;
}

static void test_notify(void **state)
{
	const char *m;

	(void)state;
	drain();
	sd_notify_ready("x");
	m = next_msg(1000);
	assert_non_null(strstr(m, "READY=1"));
	assert_non_null(strstr(m, "STATUS=x"));
	assert_string_equal(m, "READY=1\nSTATUS=x");

	sd_notify_status("%d rooms\nREADY=1", 3); /* a newline cannot inject a line */
	assert_string_equal(next_msg(1000), "STATUS=3 rooms READY=1");
	sd_notify_reloading();
	m = next_msg(1000);
	assert_memory_equal(m, "RELOADING=1\nMONOTONIC_USEC=", 27);
	assert_true(strtoull(m + 27, NULL, 10) > 0);
	sd_notify_stopping();
	assert_string_equal(next_msg(1000), "STOPPING=1");
}

static void test_notify_off(void **state)
{
	(void)state;
	drain();
	unsetenv("NOTIFY_SOCKET");
	sd_notify_ready("nobody listens");
	setenv("NOTIFY_SOCKET", notify_path, 1);
	assert_string_equal(next_msg(50), "");
}

static void test_listen(void **state)
{
	char pid[32];
	int old3 = fcntl(3, F_DUPFD_CLOEXEC, 10); /* whatever fd 3 was, if anything */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int raw = socket(AF_UNIX, SOCK_STREAM, 0);
	int s = fcntl(raw, F_DUPFD_CLOEXEC, 10);
	int dgram = socket(AF_UNIX, SOCK_DGRAM, 0);

	(void)state;
	close(raw);
	assert_true(s >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/listen", tdir);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 5), 0);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	assert_int_equal(sd_listen_socket(), -1);

	assert_int_equal(dup2(s, 3), 3);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	assert_int_equal(sd_listen_socket(), 3);
	/* handed over ready for an event loop */
	assert_true(fcntl(3, F_GETFL) & O_NONBLOCK);
	/* the variables are consumed: a second call (or a child) gets none */
	assert_null(getenv("LISTEN_FDS"));
	assert_int_equal(sd_listen_socket(), -1);

	/* only a listening stream socket will do */
	assert_int_equal(dup2(dgram, 3), 3);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	assert_int_equal(sd_listen_socket(), -1);

	/* fds meant for another process are not ours */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	assert_int_equal(sd_listen_socket(), -1);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	close(3);
	close(s);
	close(dgram);
	unlink(sa.sun_path);
	if (old3 >= 0) {
		dup2(old3, 3);
		close(old3);
	}
}

static void test_journal_stream(void **state)
{
	struct stat st;
	char v[64];

	(void)state;
	unsetenv("JOURNAL_STREAM");
	assert_false(sd_stderr_is_journal());
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_true(sd_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(sd_stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_false(sd_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
}

static void test_watchdog(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tv = {0, 100 * 1000};
	char pid[32];
	int pings = 0;

	(void)state;
	drain();
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(sd_watchdog_start(base), 0);
	assert_string_equal(next_msg(50), "");

	/* 40 ms: a ping at once, then every 20 ms */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_USEC", "40000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sd_watchdog_start(base), 0);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	while (strcmp(next_msg(0), "WATCHDOG=1") == 0)
		pings++;
	assert_true(pings >= 3);

	sd_watchdog_stop();
	sd_watchdog_stop();
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_string_equal(next_msg(0), "");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notify),   cmocka_unit_test(test_notify_off),
	    cmocka_unit_test(test_listen),   cmocka_unit_test(test_journal_stream),
	    cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
