/* progress: one line on stderr while a file moves: name, percentage, a
 * bar, bytes, rate and time left. Only on a terminal and never with
 * --quiet: scripts and pipes see nothing but the result. Redrawn at most
 * ten times a second. With NEXUS_PROGRESS_FD=N (the full-screen client
 * runs push and pull as children so) the bar is "progress DONE TOTAL"
 * lines on descriptor N instead, whatever the terminal or --quiet. */
#include "client.h"
#include "clock.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_REDRAW_MS 100
#define PROGRESS_RATE_WINDOW_MS 2000

struct progress {
	char label[48];
	uint64_t total, start;
	uint64_t t0_ms, last_draw_ms;
	uint64_t win_ms, win_bytes; /* the rate is measured over a sliding window */
	double rate;
	int width;
	int fd; /* NEXUS_PROGRESS_FD: "progress DONE TOTAL" lines there instead */
};

const char *progress_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

struct progress *progress_new(const char *label, uint64_t total, uint64_t start, int quiet)
{
	struct progress *p;
	struct winsize ws;
	char cut[sizeof(p->label)];
	size_t n = strlen(label);
	const char *pfd = getenv("NEXUS_PROGRESS_FD");
	int fd = pfd && *pfd ? atoi(pfd) : -1;

	if (fd < 0 && (quiet || !isatty(STDERR_FILENO)))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = fd;
	/* Long names keep their end, where the extension is. */
	if (n >= sizeof(cut))
		snprintf(cut, sizeof(cut), "...%s", label + n - (sizeof(cut) - 4));
	else
		memcpy(cut, label, n + 1);
	out_clean_str(p->label, sizeof(p->label), cut);
	p->total = total;
	p->start = start;
	p->t0_ms = p->win_ms = clock_now_ms();
	p->win_bytes = start;
	p->width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40 ? ws.ws_col : 80;
	return p;
}

static void progress_draw(struct progress *p, uint64_t done, uint64_t now)
{
	char a[24], b[24], r[24], eta[24] = "--:--", bar[64];
	int pct = p->total ? (int)(done * 100 / p->total) : 0;
	int bw = p->width - 70, fill;

	if (bw > (int)sizeof(bar) - 1)
		bw = (int)sizeof(bar) - 1;
	if (bw < 5)
		bw = 5;
	fill = p->total ? (int)((double)done / (double)p->total * bw) : 0;
	for (int i = 0; i < bw; i++)
		bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
	bar[bw] = '\0';
	if (p->rate > 0 && p->total >= done) {
		uint64_t secs = (uint64_t)((double)(p->total - done) / p->rate);
		snprintf(eta, sizeof(eta), "%" PRIu64 ":%02" PRIu64, secs / 60, secs % 60);
	}
	fprintf(stderr, "\r%-20.20s %3d%% [%s] %s/%s %s/s ETA %s\033[K", p->label, pct, bar,
	        progress_bytes(done, a, sizeof(a)), progress_bytes(p->total, b, sizeof(b)),
	        progress_bytes((uint64_t)p->rate, r, sizeof(r)), eta);
	fflush(stderr);
	(void)now;
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t now;

	if (!p)
		return;
	now = clock_now_ms();
	if (now - p->last_draw_ms < PROGRESS_REDRAW_MS && done < p->total)
		return;
	if (now - p->win_ms >= PROGRESS_RATE_WINDOW_MS / 4 && done >= p->win_bytes) {
		double inst = (double)(done - p->win_bytes) * 1000.0 / (double)(now - p->win_ms);
		p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst;
		p->win_ms = now;
		p->win_bytes = done;
	}
	p->last_draw_ms = now;
	if (p->fd >= 0) {
		dprintf(p->fd, "progress %" PRIu64 " %" PRIu64 "\n", done, p->total);
		return;
	}
	progress_draw(p, done, now);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	if (p->fd >= 0) {
		free(p);
		return;
	}
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	free(p);
}
