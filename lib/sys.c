/*
 * The syscall table.  Every system call that changes the spool goes through it, so a
 * test can make the Nth call fail with any errno and check that the spool is left as
 * it was or as intended (tests/unit/test_fault.c enumerates the sites).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int
sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

static int
sys_renameat2(int ofd, const char *o, int nfd, const char *n, unsigned flags)
{
	return renameat2(ofd, o, nfd, n, flags);
}

static int
sys_futimens(int fd, const struct timespec *ts)
{
	return futimens(fd, ts);
}

#define SYS_REAL { \
	.openat = sys_openat, .close = close, .read = read, .write = write, \
	.fsync = fsync, .renameat2 = sys_renameat2, .linkat = linkat, \
	.unlinkat = unlinkat, .mkdirat = mkdirat, .ftruncate = ftruncate, \
	.flock = flock, .futimens = sys_futimens, .syncfs = syncfs, .time = time, \
}

const struct spool_sys spool_sys_real = SYS_REAL;
struct spool_sys spool_sys = SYS_REAL;
