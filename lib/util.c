/*
 * Small helpers of libspool: bounded formatting, the name grammars, time in ISO 8601
 * UTC, whole-file reads that refuse symlinks and oversize files, a rename that never
 * replaces, and the one rule by which text from outside is escaped wherever spool
 * writes or shows it (spool_escape; see spool-layout(5), HISTORY FILES).
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
seterr(struct spool_err *err, const char *f, ...)
{
	int saved = errno;
	va_list ap;

	if (err != NULL) {
		va_start(ap, f);
		vsnprintf(err->msg, sizeof err->msg, f, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
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
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = spool_sys.write(fd, p, len);
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
	}
	return 0;
}

int
read_file(int dirfd, const char *name, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	if (dirfd != AT_FDCWD && strchr(name, '/') != NULL)
		fd = spool_sys.openat_beneath(dirfd, name, O_RDONLY | O_NONBLOCK, 0);
	else
		fd = spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL)
		goto fail;
	/* The file may grow while we read; reading one byte past max tells us. */
	for (;;) {
		n = spool_sys.read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
		if (len == cap) {
			char *nb;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
	}
	buf[len] = '\0';
	spool_sys.close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	close_keep(fd);
	return -1;
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

int
rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (spool_sys.renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/*
	 * The file system cannot refuse to replace (NFS, some FUSE): a file is linked and
	 * unlinked, which fails with EEXIST just the same.  A directory can only be checked
	 * first, which leaves a window that spool-layout(5) documents.
	 */
	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
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

/* The length of the valid UTF-8 character at p (n bytes left) and its code point; 0 if invalid. */
size_t
utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], v;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

int
text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	unsigned cp;

	/* UTF-8 without C0, DEL or C1 control characters */
	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

size_t
spool_utf8_char(const char *p, size_t n, unsigned *cp)
{
	return n > 0 ? utf8_decode((const unsigned char *)p, n, cp) : 0;
}

/* ---- text from outside ------------------------------------------------------ */

/*
 * Code points that are never shown raw: the C0 controls, DEL and the C1 controls, and
 * the format characters that reorder text or break a line (the "Trojan Source"
 * bidirectional controls, the marks, the line and paragraph separators).  Each of
 * them could hide or forge what a person reads in a log line or on a terminal.
 */
int
spool_char_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

#define REPLACEMENT "\xef\xbf\xbd"    /* U+FFFD, for each byte that is not UTF-8 */
#define CUT_MARK "..."
#define CUT_MARK_LEN 3

/* The length of s without an incomplete character at its end (a cut made elsewhere). */
static size_t
whole_chars(const unsigned char *s, size_t n)
{
	size_t i = n, back, want;

	for (back = 0; back < 4 && i > 0; back++) {
		i--;
		if ((s[i] & 0xc0) != 0x80) {
			want = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 1;
			return want > n - i ? i : n;
		}
	}
	return n;
}

/*
 * How the character at p (n > 0 bytes left) is written when escaped: its text into
 * out (at most 6 bytes) and its length returned; *used is the bytes of p it stands
 * for, *dec the bytes it gives back once unescaped.
 */
static size_t
esc_char(const unsigned char *p, size_t n, char *out, size_t *used, size_t *dec)
{
	static const char hex[] = "0123456789abcdef";
	unsigned cp;
	size_t k = utf8_decode(p, n, &cp);

	if (k == 0) {
		*used = 1;
		*dec = 3;
		memcpy(out, REPLACEMENT, 3);
		return 3;
	}
	*used = k;
	*dec = k;
	if (cp == '\\' || cp == '\t' || cp == '\n' || cp == '\r') {
		out[0] = '\\';
		out[1] = cp == '\\' ? '\\' : cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r';
		return 2;
	}
	if (cp < 0x20 || cp == 0x7f) {
		memcpy(out, "\\x", 2);
		out[2] = hex[cp >> 4];
		out[3] = hex[cp & 15];
		return 4;
	}
	if (spool_char_unsafe(cp)) {
		memcpy(out, "\\u", 2);
		out[2] = hex[cp >> 12 & 15];
		out[3] = hex[cp >> 8 & 15];
		out[4] = hex[cp >> 4 & 15];
		out[5] = hex[cp & 15];
		return 6;
	}
	memcpy(out, p, k);
	return k;
}

size_t
text_escape(char *dst, size_t len, const char *src, size_t n, size_t room, int flags)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i, o = 0, dec = 0, k, used, d;
	int cut = (flags & SPOOL_TEXT_CUT) != 0;
	char piece[8];

	if (len == 0)
		return 0;
	if (cut)
		n = whole_chars(p, n);
	else {
		/* Does all of it fit?  Then no mark is needed. */
		for (i = 0; i < n && o < len && dec <= room; i += used) {
			o += esc_char(p + i, n - i, piece, &used, &d);
			dec += d;
		}
		cut = i < n || o >= len || dec > room;
		o = dec = 0;
	}
	/* What is cut keeps room for the mark, and stops before a whole character. */
	for (i = 0; i < n; i += used) {
		k = esc_char(p + i, n - i, piece, &used, &d);
		if (cut && (o + k + CUT_MARK_LEN >= len || dec + d + CUT_MARK_LEN > room))
			break;
		memcpy(dst + o, piece, k);
		o += k;
		dec += d;
	}
	if (cut && o + CUT_MARK_LEN < len && dec + CUT_MARK_LEN <= room) {
		memcpy(dst + o, CUT_MARK, CUT_MARK_LEN);
		o += CUT_MARK_LEN;
	}
	dst[o] = '\0';
	return o;
}

/*
 * A text that fits a field (SPOOL_FIELD_MAX bytes, such as a status file's error)
 * must read back into it, but U+FFFD takes three bytes where the byte it replaces
 * took one: such a text is kept to SPOOL_FIELD_MAX bytes once unescaped, cut and
 * marked if it would grow past them.  Longer text is not read back into a field.
 */
char *
spool_escape(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	text_escape(dst, len, src, n, n <= SPOOL_FIELD_MAX ? SPOOL_FIELD_MAX : SIZE_MAX, 0);
	return dst;
}

size_t
spool_escape_mem(char *dst, size_t len, const char *src, size_t n, int flags)
{
	return text_escape(dst, len, src, n, SIZE_MAX, flags);
}

size_t
spool_text_copy(char *dst, size_t len, const char *src, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i, o = 0, k, total = 0;
	int cut = (flags & SPOOL_TEXT_CUT) != 0;
	unsigned cp;

	if (len == 0)
		return 0;
	if (cut)
		n = whole_chars(p, n);
	else {
		for (i = 0; i < n && total < len; i += k ? k : 1)
			total += (k = utf8_decode(p + i, n - i, &cp)) ? k : 3;
		cut = i < n || total >= len;
	}
	for (i = 0; i < n; i += k ? k : 1) {
		size_t w = (k = utf8_decode(p + i, n - i, &cp)) ? k : 3;
		if (cut && o + w + CUT_MARK_LEN >= len)
			break;
		memcpy(dst + o, k ? (const char *)p + i : REPLACEMENT, w);
		o += w;
	}
	if (cut && o + CUT_MARK_LEN < len) {
		memcpy(dst + o, CUT_MARK, CUT_MARK_LEN);
		o += CUT_MARK_LEN;
	}
	dst[o] = '\0';
	return o;
}

#define FMT_TMP_MAX 8192    /* formatted text beyond this is cut before it is copied */

int
spool_text_vfmt(char *dst, size_t len, const char *f, va_list ap)
{
	char raw[FMT_TMP_MAX];
	int r;

	if (len == 0)
		return 0;
	if ((r = vsnprintf(raw, sizeof raw, f, ap)) < 0) {
		dst[0] = '\0';
		return -1;
	}
	return (int)spool_text_copy(dst, len, raw, (size_t)r < sizeof raw ? (size_t)r :
	    sizeof raw - 1, (size_t)r < sizeof raw ? 0 : SPOOL_TEXT_CUT);
}

int
spool_text_fmt(char *dst, size_t len, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = spool_text_vfmt(dst, len, f, ap);
	va_end(ap);
	return r;
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
