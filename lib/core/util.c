/*
 * Small helpers of libspool: bounded formatting, the name grammars, time in ISO 8601
 * UTC, whole-file reads that refuse symlinks and oversize files, and a rename that
 * never replaces.  The escaping of text from outside is in text.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

int
failerr(struct spool_err *err, int errnum, const char *f, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, f);
		vsnprintf(err->msg, sizeof err->msg, f, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

DIR *
dir_open(int at, const char *name)
{
	DIR *d;
	int fd;

	fd = spool_sys.openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close_keep(fd);
	return d;
}

struct dirent *
dir_next(DIR *d)
{
	struct dirent *de;

	while ((de = readdir(d)) != NULL)
		if (!(de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0'))))
			return de;
	return NULL;
}

void
close_keep(int fd)
{
	int saved = errno;

	if (fd >= 0)
		spool_sys.close(fd);
	errno = saved;
}

int
write_all_at(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = off < 0 ? spool_sys.write(fd, p, len) : spool_sys.pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int
read_fd(int fd, size_t size, size_t max, char **out, size_t *outlen)
{
	char *buf, *nb;
	size_t len = 0, cap = size + 1;
	ssize_t n;

	if (size > max) {
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc(cap + 1)) == NULL)
		return -1;
	/* The file may grow while we read; reading one byte past max tells us. */
	for (;;) {
		n = spool_sys.read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			n = -1;
			break;
		}
		if (len == cap) {
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				n = -1;
				break;
			}
			buf = nb;
		}
	}
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int
read_file(int dirfd, const char *name, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	int fd, r;

	if (dirfd != AT_FDCWD && strchr(name, '/') != NULL)
		fd = spool_sys.openat_beneath(dirfd, name, O_RDONLY | O_NONBLOCK, 0);
	else
		fd = spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		r = -1;
	else if (!S_ISREG(st.st_mode))
		r = failerr(NULL, EINVAL, "not a regular file");
	else
		r = read_fd(fd, (size_t)st.st_size, max, out, outlen);
	close_keep(fd);
	return r;
}

void
tmp_suffix(char *buf, size_t len)
{
	unsigned char r[8];
	size_t i;
	char hex[17];

	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		memcpy(r, &ts.tv_nsec, sizeof r < sizeof ts.tv_nsec ? sizeof r : sizeof ts.tv_nsec);
	}
	for (i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	snprintf(buf, len, "%ld.%s", (long)getpid(), hex);
}

/*
 * The file system (by st_dev) that last refused RENAME_NOREPLACE: its renames go
 * straight to the fallback, as asking again costs a round trip per move over FUSE.
 */
static dev_t noreplace_refused;
static int noreplace_known;

int
rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;
	int statted = 0;

	if (noreplace_known) {
		if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		statted = 1;
	}
	if (!statted || st.st_dev != noreplace_refused) {
		if (spool_sys.renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
	}
	/*
	 * The file system cannot refuse to replace (NFS, some FUSE): a file is linked and
	 * unlinked, which fails with EEXIST just the same.  A directory can only be checked
	 * first, which leaves a window that spool-layout(5) documents.
	 */
	if (!statted && fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	noreplace_refused = st.st_dev;
	noreplace_known = 1;
	if (!S_ISDIR(st.st_mode)) {
		if (spool_sys.linkat(fromfd, from, tofd, to, 0) < 0)
			return -1;
		if (spool_sys.unlinkat(fromfd, from, 0) < 0) {
			int saved = errno;
			spool_sys.unlinkat(tofd, to, 0);
			errno = saved;
			return -1;
		}
		return 0;
	}
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return spool_sys.renameat2(fromfd, from, tofd, to, 0);
}

static int
idchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

int
spool_id_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= SPOOL_ID_MAX || !idchar((unsigned char)s[i]))
			return 0;
	return 1;
}

int
spool_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char)s[i];
		if (i >= SPOOL_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

int
order_name(const char *name, char *id)
{
	size_t n = strlen(name), sl = sizeof ORDER_SUFFIX - 1;

	if (n <= sl || n - sl > SPOOL_ID_MAX || strcmp(name + n - sl, ORDER_SUFFIX) != 0)
		return 0;
	memcpy(id, name, n - sl);
	id[n - sl] = '\0';
	return spool_id_ok(id);
}

char *
spool_time_fmt(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

/* Read exactly n digits into *v. */
static const char *
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NULL;
		*v = *v * 10 + (s[i] - '0');
	}
	return s + n;
}

int
spool_time_parse(const char *s, time_t *t)
{
	struct tm tm, back;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	const char *p = s;
	time_t r;

	if (s[0] == '@') {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' || v < 0)
			goto bad;
		*t = (time_t)v;
		return 0;
	}
	if ((p = digits(p, 4, &y)) == NULL || *p++ != '-' || (p = digits(p, 2, &mo)) == NULL ||
	    *p++ != '-' || (p = digits(p, 2, &d)) == NULL)
		goto bad;
	if (*p == 'T') {
		p++;
		if ((p = digits(p, 2, &h)) == NULL || *p++ != ':' ||
		    (p = digits(p, 2, &mi)) == NULL)
			goto bad;
		if (*p == ':' && (p = digits(p + 1, 2, &sec)) == NULL)
			goto bad;
		if (*p++ != 'Z')
			goto bad;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		goto bad;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	r = timegm(&tm);
	/* timegm normalises 31 February into March; a date that moved was not a date. */
	if (r == (time_t)-1 || gmtime_r(&r, &back) == NULL || back.tm_mday != d ||
	    back.tm_mon != mo - 1)
		goto bad;
	*t = r;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
spool_duration_parse(const char *s, long *secs)
{
	char *end;
	long v, mul = 1;

	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0)
		goto bad;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (v > 100L * 365 * 86400 / mul)
		goto bad;
	*secs = v * mul;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
