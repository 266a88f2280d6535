/*
 * run/intent/: the record of the submits and removals under way.  Each puts an empty
 * file ID@SUFFIX there before its order can be left half done (detached, in
 * orders/ID/detached.order) and takes it away once the order is whole, so recovery
 * at start reads this small folder instead of every order's folder: at a million
 * orders, a walk of orders/ alone takes seconds.  A name left behind costs a look at
 * one order; an order left half done without a name (a spool of an older version)
 * is spoolctl check's to find.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* run/intent/, opened; made on first use (spools made before it have none). */
static int
intent_dir(struct spool *sp, int make)
{
	int run = sp->dir[SPOOL_DIR_RUN], fd;

	if (run < 0) {
		errno = ENOENT;
		return -1;
	}
	for (;;) {
		fd = spool_sys.openat(run, spool_basename(SPOOL_F_INTENT),
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0 || errno != ENOENT || !make)
			return fd;
		if (mkdir_own(run, spool_basename(SPOOL_F_INTENT), SPOOL_DIR_MODE) < 0 && errno != EEXIST)
			return -1;
		make = 0;
	}
}

int
intent_put(struct spool *sp, const char *id, int sync, char *name, size_t len)
{
	char sfx[64];
	int dfd, fd, r = -1;

	tmp_suffix(sfx, sizeof sfx);
	if (fmt(name, len, "%s@%s", id, sfx) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((dfd = intent_dir(sp, 1)) < 0)
		return -1;
	fd = spool_sys.openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    SPOOL_FILE_MODE & 0777);
	if (fd >= 0 && spool_sys.close(fd) == 0 && (!sync || spool_fsync_dir(dfd) == 0))
		r = 0;
	close_keep(dfd);
	return r;
}

void
intent_drop(struct spool *sp, const char *name)
{
	int dfd;

	if (name[0] == '\0' || (dfd = intent_dir(sp, 0)) < 0)
		return;
	spool_sys.unlinkat(dfd, name, 0);
	close_keep(dfd);
}

int
intent_walk(struct spool *sp, void (*fn)(void *, const char *), void *arg)
{
	char id[SPOOL_ID_MAX + 1];
	struct dirent *de;
	const char *at;
	DIR *d;
	int dfd, n = 0;

	if ((dfd = intent_dir(sp, 0)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((at = strchr(de->d_name, '@')) == NULL || (size_t)(at - de->d_name) > SPOOL_ID_MAX)
			continue;
		memcpy(id, de->d_name, (size_t)(at - de->d_name));
		id[at - de->d_name] = '\0';
		if (!spool_id_ok(id))
			continue;
		fn(arg, id);
		/* looked at: whatever it recorded is mended or was whole */
		spool_sys.unlinkat(dirfd(d), de->d_name, 0);
		n++;
	}
	closedir(d);
	return n;
}
