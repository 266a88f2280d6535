/*
 * libspool: publishing a file safely: temp file, write, fsync, rename, fsync the
 * folder.  Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_PUBLISH_H
#define SPOOL_CORE_PUBLISH_H

#include "base.h"

/* ---- publishing a file ------------------------------------------------- */

enum {
	SPOOL_PUB_NOREPLACE = 1 << 0, /* fail with EEXIST rather than replace a file */
	SPOOL_PUB_NOSYNCDIR = 1 << 1, /* the caller fsyncs the target directory later */
	SPOOL_PUB_NOSYNC = 1 << 2,    /* no fsync at all: the caller calls spool_sync */
};

/*
 * For moves, history and status written in a batch: nothing is fsynced, and the
 * caller makes the whole batch durable with one spool_sync() before anything that
 * depends on it leaves the spool (group commit).
 */
#define SPOOL_NOSYNC 1
/*
 * For spoold's own moves: the history line is written before the rename, under the
 * same lock, and cut back if the rename fails; a crash between the two leaves a line
 * that names a move not yet made, which spoold then makes.  With SPOOL_MOVE_NOLINE
 * the line is there already (such a move, made after a restart).
 */
#define SPOOL_MOVE_INTENT 2
#define SPOOL_MOVE_NOLINE 4

/* Make everything written to the spool's file system durable: syncfs(2). */
int spool_sync(struct spool *sp);

/*
 * Modes come from the spool, never from the caller's umask: admins, spoold and the
 * printers are each their own user and share the spool through its group.  Every
 * folder spool makes is setgid and group-writable, every file group read-write, and
 * each gets the group of the folder it is in.  See spool-layout(5), MODES AND GROUPS.
 */
#define SPOOL_DIR_MODE 02770
#define SPOOL_FILE_MODE 0660

/*
 * Give fd, a file or folder just made in dirfd, exactly this mode (fchmod: whatever
 * the umask took away) and dirfd's group (fchown, where dirfd is not setgid, as a hot
 * folder on a share may not be).  For a program that creates a file itself with
 * O_CREAT; everything libspool makes goes through it.
 */
int spool_own(int fd, int dirfd, mode_t mode);
/*
 * Open dirfd/name, a lock file for flock(2), for reading; made empty with the spool's
 * mode when absent.  A descriptor open only for reading lets an admin remount the
 * file system read-only under the process that holds the lock.
 */
int spool_lockfile(int dirfd, const char *name);

struct spool_pub {
	int flags;
	mode_t mode;                  /* 0 means SPOOL_FILE_MODE; set exactly, umask or not */
	const struct timespec *mtime; /* set before the rename, or NULL */
};

/*
 * Publish a file whole: create a temporary file in tmpfd (or, when tmpfd is -1, a
 * dot-name in dirfd), write the data, fsync, close, rename it to dirfd/name, fsync
 * dirfd.  On failure nothing is left behind and dirfd/name is as it was.
 */
int spool_publish(int dirfd, const char *name, int tmpfd, const void *buf, size_t len,
    const struct spool_pub *opt);
/* The same, copying the data from an open file. */
int spool_publish_fd(int dirfd, const char *name, int tmpfd, int srcfd,
    const struct spool_pub *opt);
/*
 * Make a directory with exactly mode (SPOOL_DIR_MODE, as a rule) and dirfd's group,
 * and fsync its parent; EEXIST is not an error if it is a directory (left as it is).
 */
int spool_mkdir(int dirfd, const char *name, mode_t mode);
int spool_fsync_dir(int dirfd);
/* Remove a tree below dirfd/name without following symlinks. */
int spool_rmtree(int dirfd, const char *name);

#endif
