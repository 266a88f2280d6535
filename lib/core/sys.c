/*
 * The syscall table.  Every system call that changes the spool goes through it, so a
 * test can make the Nth call fail with any errno and check that the spool is left as
 * it was or as intended (tests/unit/test_fault.c enumerates the sites).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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

/*
 * "ID/history" in one call, with no symlink followed on the way (openat's O_NOFOLLOW
 * covers only the last name).  Where openat2 is missing, one name at a time.
 */
static int
sys_openat_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	const char *slash;
	char dir[256];
	long r;
	int dfd, saved;

	r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	if (r >= 0 || errno != ENOSYS)
		return (int)r;
	if ((slash = strchr(path, '/')) == NULL || (size_t)(slash - path) >= sizeof dir)
		return openat(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if ((dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	r = sys_openat_beneath(dfd, slash + 1, flags, mode);
	saved = errno;
	close(dfd);
	errno = saved;
	return (int)r;
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
	.openat = sys_openat, .openat_beneath = sys_openat_beneath, .close = close, \
	.read = read, .write = write, .pwrite = pwrite, \
	.fsync = fsync, .renameat2 = sys_renameat2, .linkat = linkat, \
	.unlinkat = unlinkat, .mkdirat = mkdirat, .ftruncate = ftruncate, \
	.flock = flock, .futimens = sys_futimens, .fchmod = fchmod, .fchown = fchown, \
	.syncfs = syncfs, .time = time, \
}

const struct spool_sys spool_sys_real = SYS_REAL;
struct spool_sys spool_sys = SYS_REAL;
