/*
 * The one routine that publishes files, and its directory helpers.
 *
 * A file appears whole or not at all: it is written under a temporary name, fsynced,
 * closed (close can report a deferred write error on NFS), renamed into place, and
 * then the directory is fsynced so the new name itself survives a crash.  OpenSMTPD
 * and Postfix skip that last fsync; as SQLite's unixSync explains, without it a crash
 * can lose a file whose data was safely on disk.
 *
 * Modes are set, not requested: open(2) and mkdir(2) take the umask away from the
 * mode they are given, and mkdir ignores S_ISGID, so every file and folder made here
 * gets its mode with fchmod and its folder's group with fchown (spool_own).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define COPY_BUF (64 * 1024)
#define RMTREE_DEPTH 32

int
spool_fsync_dir(int dirfd)
{
	return spool_sys.fsync(dirfd);
}

int
spool_own(int fd, int dirfd, mode_t mode)
{
	struct stat st, dst;

	if (fstat(fd, &st) < 0 || fstat(dirfd, &dst) < 0)
		return -1;
	if (st.st_gid != dst.st_gid && spool_sys.fchown(fd, (uid_t)-1, dst.st_gid) < 0)
		return -1;
	/* after a change of group too: the kernel may clear S_ISGID on it */
	if ((st.st_mode & 07777) != mode || st.st_gid != dst.st_gid)
		return spool_sys.fchmod(fd, mode);
	return 0;
}

int
spool_lockfile(int dirfd, const char *name)
{
	int fd;

	if ((fd = spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)) >= 0 ||
	    errno != ENOENT)
		return fd;
	if ((fd = spool_sys.openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    SPOOL_FILE_MODE)) < 0)
		return -1;
	spool_own(fd, dirfd, SPOOL_FILE_MODE);
	spool_sys.close(fd);
	return spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
}

int
mkdir_own(int dirfd, const char *name, mode_t mode)
{
	int fd, saved;

	if (spool_sys.mkdirat(dirfd, name, mode & 0777) < 0)
		return -1;
	if ((fd = spool_sys.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	    0)) < 0 || spool_own(fd, dirfd, mode) < 0) {
		/* a folder we made but could not give its mode is taken back */
		saved = errno;
		if (fd >= 0)
			spool_sys.close(fd);
		spool_sys.unlinkat(dirfd, name, AT_REMOVEDIR);
		errno = saved;
		return -1;
	}
	spool_sys.close(fd);
	return 0;
}

int
create_own(int dirfd, const char *name, mode_t mode)
{
	int fd, saved;

	fd = spool_sys.openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode & 0777);
	if (fd < 0)
		return -1;
	if (spool_own(fd, dirfd, mode) < 0) {
		saved = errno;
		spool_sys.close(fd);
		spool_sys.unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return spool_sys.close(fd);
}

const char *
group_name(gid_t gid, char *buf, size_t len)
{
	struct group gr, *g = NULL;
	char tmp[4096];

	if (getgrgid_r(gid, &gr, tmp, sizeof tmp, &g) == 0 && g != NULL)
		snprintf(buf, len, "%s", g->gr_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)gid);
	return buf;
}

static int
copy_fd(int dst, int src)
{
	char *buf;
	ssize_t n;
	int r = -1;

	if ((buf = malloc(COPY_BUF)) == NULL)
		return -1;
	for (;;) {
		n = spool_sys.read(src, buf, COPY_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			r = 0;
			break;
		}
		if (write_all(dst, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	return r;
}

static int
publish(int dirfd, const char *name, int tmpfd, const void *buf, size_t len, int srcfd,
    const struct spool_pub *opt)
{
	char tmp[NAME_MAX + 1], sfx[64];
	int tdir = tmpfd >= 0 ? tmpfd : dirfd;
	int flags = opt != NULL ? opt->flags : 0;
	mode_t mode = opt != NULL && opt->mode != 0 ? opt->mode : SPOOL_FILE_MODE;
	int fd = -1, tries, saved;

	for (tries = 0;; tries++) {
		tmp_suffix(sfx, sizeof sfx);
		if (fmt(tmp, sizeof tmp, ".pub.%s", sfx) < 0)
			return -1;
		fd = spool_sys.openat(tdir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries == 3)
			return -1;
	}
	/* the mode and group of where it goes, not of tmp/ or of the umask */
	if (spool_own(fd, dirfd, mode) < 0)
		goto fail;
	if ((srcfd >= 0 ? copy_fd(fd, srcfd) : write_all(fd, buf, len)) < 0)
		goto fail;
	if (opt != NULL && opt->mtime != NULL) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, *opt->mtime };
		if (spool_sys.futimens(fd, ts) < 0)
			goto fail;
	}
	if (!(flags & SPOOL_PUB_NOSYNC) && spool_sys.fsync(fd) < 0)
		goto fail;
	saved = spool_sys.close(fd);
	fd = -1;
	if (saved < 0)
		goto fail;
	if (flags & SPOOL_PUB_NOREPLACE) {
		if (rename_noreplace(tdir, tmp, dirfd, name) < 0)
			goto fail;
	} else if (spool_sys.renameat2(tdir, tmp, dirfd, name, 0) < 0)
		goto fail;
	/* The file is in place; a failure here means only that it may not survive a crash. */
	if (!(flags & (SPOOL_PUB_NOSYNCDIR | SPOOL_PUB_NOSYNC)) && spool_fsync_dir(dirfd) < 0)
		return -1;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		spool_sys.close(fd);
	spool_sys.unlinkat(tdir, tmp, 0);
	errno = saved;
	return -1;
}

int
spool_publish(int dirfd, const char *name, int tmpfd, const void *buf, size_t len,
    const struct spool_pub *opt)
{
	return publish(dirfd, name, tmpfd, buf, len, -1, opt);
}

int
spool_publish_fd(int dirfd, const char *name, int tmpfd, int srcfd,
    const struct spool_pub *opt)
{
	if (srcfd < 0) {
		errno = EBADF;
		return -1;
	}
	return publish(dirfd, name, tmpfd, NULL, 0, srcfd, opt);
}

int
spool_mkdir(int dirfd, const char *name, mode_t mode)
{
	struct stat st;

	if (mkdir_own(dirfd, name, mode) < 0) {
		if (errno == EEXIST && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0;
		return -1;
	}
	return spool_fsync_dir(dirfd);
}

static int
rmtree(int at, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (spool_sys.unlinkat(at, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth >= RMTREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((d = dir_open(at, name)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL)
		if (rmtree(dirfd(d), de->d_name, depth + 1) < 0)
			r = -1;
	closedir(d);
	if (r == 0 && spool_sys.unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

int
spool_rmtree(int dirfd, const char *name)
{
	return rmtree(dirfd, name, 0);
}
