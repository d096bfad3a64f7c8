/* unit_files: what the unit tests that touch files share: count a folder's
 * entries (no temporary file left behind) and remove a folder with all in
 * it. Header-only (static inline): each test is one file and one binary. */
#ifndef NEXUS_UNIT_FILES_H
#define NEXUS_UNIT_FILES_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static inline int unit_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* dir and everything below it, as rm -rf (errors ignored: a clean-up). */
static inline void unit_rm_tree(const char *dir)
{
	nftw(dir, unit_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries in dir other than "." and "..", or -1 when it cannot be read. */
static inline int unit_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#endif
