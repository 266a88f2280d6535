/*
 * History: orders/<id>/history and the spool's global SPOOL/history, append-only,
 * one line per event:
 *
 *	TIME <tab> ID <tab> ACTOR <tab> FROM <tab> TO <tab> COMMENT <newline>
 *
 * Fields are escaped (\\, \t, \n, \r, \xHH for other control bytes and invalid
 * UTF-8), so a comment typed by a printer can never split or forge a line.  Writers
 * append the whole line with one write(2) under an exclusive flock and fsync it; if
 * the write fails part-way the file is cut back to where it was, so a reader never
 * sees half a line from a failed writer.  A move holds the lock from its rename to
 * its line, and spool_history_last takes it shared, so spoold never sees a move
 * without the line that says who made it.  Other readers take no lock and ignore a
 * last line that has no newline yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define HISTORY_NAME "history"
#define LINE_MAX_LEN 8192
#define HISTORY_MAX (64L * 1024 * 1024)

/* Append s to the line at *p, escaped; stops early (and marks it) if room runs out. */
static void
escape(char **p, char *end, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char *o = *p;

	while (*u != '\0') {
		char tmp[8];
		const char *rep = NULL;
		size_t n = 1;
		int clen = 0;

		if (*u == '\\')
			rep = "\\\\";
		else if (*u == '\t')
			rep = "\\t";
		else if (*u == '\n')
			rep = "\\n";
		else if (*u == '\r')
			rep = "\\r";
		else if (*u < 0x20 || *u == 0x7f)
			clen = -1;
		else if (*u >= 0x80) {
			/* Keep a valid UTF-8 sequence whole; escape a stray byte. */
			char seq[5] = { 0 };
			int k, len = *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : *u >= 0xc2 ? 2 : 0;
			for (k = 0; k < len && u[k] != '\0'; k++)
				seq[k] = (char)u[k];
			if (len > 0 && k == len && text_ok(seq))
				clen = len;
			else
				clen = -1;
		}
		if (clen == -1) {
			snprintf(tmp, sizeof tmp, "\\x%02x", *u);
			rep = tmp;
		}
		if (rep != NULL)
			n = strlen(rep);
		else if (clen > 0)
			n = (size_t)clen;
		if (o + n + 4 >= end) {
			memcpy(o, "...", 3);
			o += 3;
			break;
		}
		memcpy(o, rep != NULL ? rep : (const char *)u, n);
		o += n;
		u += clen > 0 ? clen : 1;
	}
	*p = o;
}

char *
spool_escape(char *dst, size_t len, const char *src)
{
	char *p = dst;

	if (len < 8) {
		if (len > 0)
			dst[0] = '\0';
		return dst;
	}
	escape(&p, dst + len - 1, src);
	*p = '\0';
	return dst;
}

int
spool_event_format(const struct spool_event *ev, char *buf, size_t len)
{
	char *p = buf, *end = buf + len - 2, t[32];
	const char *fields[5];
	int i;

	if (len < 64) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fields[0] = ev->id[0] != '\0' ? ev->id : "-";
	fields[1] = ev->actor[0] != '\0' ? ev->actor : "-";
	fields[2] = ev->from[0] != '\0' ? ev->from : "-";
	fields[3] = ev->to[0] != '\0' ? ev->to : "-";
	fields[4] = ev->comment;
	spool_time_fmt(ev->time, t, sizeof t);
	p += snprintf(p, (size_t)(end - p), "%s", t);
	for (i = 0; i < 5; i++) {
		*p++ = '\t';
		escape(&p, end, fields[i]);
	}
	*p++ = '\n';
	*p = '\0';
	return (int)(p - buf);
}

int
history_lock(int dirfd, const char *name, struct hlock *h)
{
	memset(h, 0, sizeof *h);
	h->ownfd = -1;
	h->dirfd = dirfd;
	h->name = name;
	h->fd = spool_sys.openat(dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0);
	if (h->fd < 0 && errno == ENOENT) {
		/*
		 * Submit creates an order's history in its private staging folder and init
		 * the global one, so this only happens if a person deleted the file.  A file
		 * we created and wrote nothing to is taken back; a writer that opened it in
		 * that instant would lose its line, which we accept for a case this rare.
		 */
		h->fd = spool_sys.openat(dirfd, name,
		    O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);
		h->created = h->fd >= 0;
		/* another writer made it in between: append to theirs */
		if (h->fd < 0 && errno == EEXIST)
			h->fd = spool_sys.openat(dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW |
			    O_CLOEXEC, 0);
	}
	if (h->fd < 0)
		return -1;
	while (spool_sys.flock(h->fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			history_unlock(h);
			return -1;
		}
	return 0;
}

/*
 * Cut the file back by len bytes from the file offset, which O_APPEND left at the
 * end of our write; the lock keeps everyone else from writing after it.
 */
static int
cut_back(int fd, size_t len)
{
	off_t end = lseek(fd, 0, SEEK_CUR);

	if (end < 0 || (size_t)end < len)
		return -1;
	return spool_sys.ftruncate(fd, end - (off_t)len);
}

int
history_put(struct hlock *h, const struct spool_event *ev, int flags)
{
	char line[LINE_MAX_LEN];
	ssize_t n;
	int len, saved;

	len = spool_event_format(ev, line, sizeof line);
	/* One write: with O_APPEND and the lock, the line lands whole at the end. */
	n = spool_sys.write(h->fd, line, (size_t)len);
	if (n != len) {
		if (n >= 0)
			errno = ENOSPC;
		goto undo;
	}
	if (!(flags & SPOOL_NOSYNC) && spool_sys.fsync(h->fd) < 0)
		goto undo;
	if (!(flags & SPOOL_NOSYNC) && h->created && spool_fsync_dir(h->dirfd) < 0)
		goto undo;
	h->len = (size_t)len;
	h->written = 1;
	return 0;
undo:
	saved = errno;
	if (n > 0)
		cut_back(h->fd, (size_t)n);
	errno = saved;
	return -1;
}

int
history_unput(struct hlock *h)
{
	if (!h->written)
		return 0;
	if (cut_back(h->fd, h->len) < 0)
		return -1;
	h->written = 0;
	return 0;
}

void
history_unlock(struct hlock *h)
{
	int saved = errno;

	if (h->fd >= 0) {
		if (h->created && !h->written)
			spool_sys.unlinkat(h->dirfd, h->name, 0);
		/* The line is on disk; a late error from close cannot take it back. */
		spool_sys.close(h->fd);
		h->fd = -1;
	}
	if (h->ownfd >= 0)
		spool_sys.close(h->ownfd);
	h->ownfd = -1;
	errno = saved;
}

int
history_lock_order(struct spool *sp, const char *id, struct hlock *h)
{
	char path[SPOOL_ID_MAX + 16];
	int pfd;

	memset(h, 0, sizeof *h);
	h->ownfd = -1;
	if (!spool_id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	fmt(path, sizeof path, "%s/%s", id, HISTORY_NAME);
	h->fd = spool_sys.openat_beneath(sp->dir[SPOOL_DIR_ORDERS], path, O_WRONLY | O_APPEND, 0);
	if (h->fd >= 0) {
		while (spool_sys.flock(h->fd, LOCK_EX) < 0)
			if (errno != EINTR) {
				history_unlock(h);
				return -1;
			}
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	/* no history yet (or no folder): the slow way, which can create the file */
	if ((pfd = open_payload(sp, id)) < 0)
		return -1;
	if (history_lock(pfd, HISTORY_NAME, h) < 0) {
		close_keep(pfd);
		return -1;
	}
	h->ownfd = pfd;
	return 0;
}

int
spool_history_append(int dirfd, const char *name, const struct spool_event *ev, int flags)
{
	struct hlock h;
	int r;

	if (history_lock(dirfd, name, &h) < 0)
		return -1;
	r = history_put(&h, ev, flags);
	history_unlock(&h);
	return r;
}

int
spool_history_add(struct spool *sp, const struct spool_event *ev, int flags)
{
	struct hlock h;
	int r;

	if (history_lock_order(sp, ev->id, &h) < 0)
		return -1;
	r = history_put(&h, ev, flags);
	history_unlock(&h);
	return r;
}

int
spool_log_add(struct spool *sp, const struct spool_event *ev)
{
	return spool_history_append(sp->dir[SPOOL_DIR_ROOT], HISTORY_NAME, ev, 0);
}

int
spool_history_last(struct spool *sp, const char *id, struct spool_event *ev)
{
	char buf[LINE_MAX_LEN + 1], *nl, *start, path[SPOOL_ID_MAX + 16];
	struct stat st;
	off_t off;
	ssize_t n;
	int fd;

	if (!spool_id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	fmt(path, sizeof path, "%s/%s", id, HISTORY_NAME);
	fd = spool_sys.openat_beneath(sp->dir[SPOOL_DIR_ORDERS], path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/*
	 * A mover holds the lock from its rename to its line, so with the lock the two
	 * look as one.  Never wait for it: the caller looks again in a moment.
	 */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		close_keep(fd);
		if (errno == EWOULDBLOCK)
			errno = EAGAIN;
		return -1;
	}
	/* Only the tail: a history of any length costs one read. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close_keep(fd);
		errno = EINVAL;
		return -1;
	}
	off = st.st_size > LINE_MAX_LEN ? st.st_size - LINE_MAX_LEN : 0;
	n = pread(fd, buf, LINE_MAX_LEN, off);
	close_keep(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	/* A last line without its newline is still being written: take the one before. */
	if ((nl = strrchr(buf, '\n')) == NULL) {
		errno = ENOENT;
		return -1;
	}
	*nl = '\0';
	start = strrchr(buf, '\n');
	start = start != NULL ? start + 1 : buf;
	if (start == buf && off > 0) {
		errno = EINVAL;
		return -1;
	}
	return spool_event_parse(start, ev);
}

/* Undo escape() in place; returns -1 on a bad escape.  (internal.h) */
int
text_unescape(char *s)
{
	char *o = s;

	while (*s != '\0') {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '\\':
			*o++ = '\\';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'x': {
			unsigned v;
			if (sscanf(s + 1, "%2x", &v) != 1 || s[1] == '\0' || s[2] == '\0')
				return -1;
			*o++ = (char)v;
			s += 2;
			break;
		}
		default:
			return -1;
		}
		s++;
	}
	*o = '\0';
	return 0;
}

static int
field(char *dst, size_t len, char *src)
{
	if (text_unescape(src) < 0 || strlen(src) >= len)
		return -1;
	strcpy(dst, strcmp(src, "-") == 0 ? "" : src);
	return 0;
}

int
spool_event_parse(const char *line, struct spool_event *ev)
{
	char buf[LINE_MAX_LEN], *f[6], *save = NULL, *p;
	int n = 0;

	if (strlen(line) >= sizeof buf)
		goto bad;
	strcpy(buf, line);
	memset(ev, 0, sizeof *ev);
	for (p = buf; n < 6; n++) {
		f[n] = p;
		if (n == 5)
			break;
		if ((p = strchr(p, '\t')) == NULL)
			goto bad;
		*p++ = '\0';
	}
	(void)save;
	if (strchr(f[5], '\t') != NULL || spool_time_parse(f[0], &ev->time) < 0)
		goto bad;
	if (field(ev->id, sizeof ev->id, f[1]) < 0 || field(ev->actor, sizeof ev->actor, f[2]) < 0 ||
	    field(ev->from, sizeof ev->from, f[3]) < 0 || field(ev->to, sizeof ev->to, f[4]) < 0 ||
	    text_unescape(f[5]) < 0 || strlen(f[5]) >= sizeof ev->comment)
		goto bad;
	strcpy(ev->comment, f[5]);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
spool_history_read(struct spool *sp, const char *id,
    int (*fn)(void *, const struct spool_event *), void *arg, struct spool_err *err)
{
	struct spool_event ev;
	char *buf, *p, *nl;
	size_t len;
	int fd, r, lineno = 0, bad = 0;

	if ((fd = open_payload(sp, id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
	r = read_file(fd, HISTORY_NAME, HISTORY_MAX, &buf, &len);
	close_keep(fd);
	if (r < 0) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, "%s: cannot read orders/%s/history: %s", id, id, strerror(errno));
	}
	for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p = nl + 1) {
		*nl = '\0';
		lineno++;
		if (spool_event_parse(p, &ev) < 0) {
			if (bad++ == 0)
				seterr(err, "%s: orders/%s/history: line %d is malformed", id, id, lineno);
			continue;
		}
		if (fn(arg, &ev) != 0)
			break;
	}
	free(buf);
	return bad;
}

void
spool_admin_actor(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	const char *name = NULL, *sudo = getenv("SUDO_USER");

	if (getuid() == 0 && sudo != NULL && spool_id_ok(sudo))
		name = sudo;
	else if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res != NULL &&
	    spool_id_ok(pw.pw_name))
		name = pw.pw_name;
	if (name != NULL)
		snprintf(buf, len, "admin:%s", name);
	else
		snprintf(buf, len, "admin:uid%ld", (long)getuid());
}
