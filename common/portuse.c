/* Who holds a port: /proc/net/{tcp,tcp6,udp,udp6} give the socket's inode,
 * /proc/PID/fd/ the process that has it open. Only run after a failed bind,
 * so the scan's cost (one readlink per open descriptor) does not matter. */
#include "portuse.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORTUSE_INODES 16
#define TCP_LISTEN 0x0A

/* Inodes of sockets bound to PORT in one /proc/net table; returns how many. */
static int portuse_inodes(const char *table, enum portuse_proto proto, uint16_t port,
                          unsigned long *inodes, int n, int max)
{
	FILE *f = fopen(table, "r");
	char line[512];

	if (!f)
		return n;
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return n;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned st, lport;
		unsigned long inode;
		const char *colon;

		if (sscanf(line, "%*d: %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) !=
		    3)
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &lport) != 1 || lport != port || inode == 0)
			continue;
		if (proto == PORTUSE_TCP && st != TCP_LISTEN)
			continue;
		inodes[n++] = inode;
	}
	fclose(f);
	return n;
}

/* The first process with one of INODES open: its pid, or 0. */
static long portuse_pid(const unsigned long *inodes, int n)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	long found = 0;

	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		char path[300], link[64];
		DIR *fds;
		struct dirent *fd;
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (fd = readdir(fds))) {
			unsigned long ino;
			ssize_t len;

			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid, fd->d_name);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (int i = 0; i < n; i++)
				if (inodes[i] == ino)
					found = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

int portuse_holder(enum portuse_proto proto, uint16_t port, char *out, size_t outlen)
{
	unsigned long inodes[PORTUSE_INODES];
	const char *v4 = proto == PORTUSE_TCP ? "/proc/net/tcp" : "/proc/net/udp";
	const char *v6 = proto == PORTUSE_TCP ? "/proc/net/tcp6" : "/proc/net/udp6";
	char path[64], comm[64] = "";
	long pid;
	FILE *f;
	int n;

	n = portuse_inodes(v4, proto, port, inodes, 0, PORTUSE_INODES);
	n = portuse_inodes(v6, proto, port, inodes, n, PORTUSE_INODES);
	if (n == 0)
		return -ENOENT;
	pid = portuse_pid(inodes, n);
	if (pid == 0)
		return -EACCES;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(out, outlen, "%s (pid %ld)", comm[0] ? comm : "a process", pid);
	return 0;
}

void portuse_explain(char *err, size_t errlen, const char *prog, enum portuse_proto proto,
                     const char *host, uint16_t port, const char *flag, const char *key)
{
	char holder[96];
	const char *kind = proto == PORTUSE_TCP ? "TCP" : "UDP";
	int all = !host || !host[0] || strcmp(host, "::") == 0;
	int r = portuse_holder(proto, port, holder, sizeof(holder));

	if (r == -ENOENT) /* held a moment ago, or only in another network namespace */
		snprintf(holder, sizeof(holder), "another program");
	else if (r < 0)
		snprintf(holder, sizeof(holder), "a process of another user");
	snprintf(err, errlen,
	         "cannot listen on %s port %u (%s%s): it is in use by %s; stop that, or choose "
	         "another port with %s PORT or '%s = PORT' in [%s] of nexus.conf "
	         "(nexus ports shows who holds the suite's ports)",
	         kind, port, all ? "all addresses" : "address ", all ? "" : host, holder, flag, key,
	         prog);
}
