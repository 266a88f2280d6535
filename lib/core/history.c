/*
 * History: orders/<id>/history and the spool's global SPOOL/history, append-only,
 * one line per event:
 *
 *	TIME <tab> ID <tab> ACTOR <tab> FROM <tab> TO <tab> COMMENT <newline>
 *
 * Fields are escaped by spool_escape's rule (\\, \t, \n, \r, \xHH for other C0
 * controls and DEL, \uHHHH for C1 controls and the bidirectional and line-breaking
 * format characters, U+FFFD for bytes that are not UTF-8), so a comment typed by a
 * printer can never split or forge a line, nor reorder it on a terminal.  A field is
 * cut, and marked "...", so that it reads back into its struct field whole.  Writers
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

#define HISTORY_NAME spool_basename(SPOOL_F_HISTORY)
/* room for every field escaped at its worst (4 bytes for 1) */
#define LINE_MAX_LEN 16384
#define HISTORY_MAX (64L * 1024 * 1024)

int
spool_event_format(const struct spool_event *ev, char *buf, size_t len)
{
	/* each field, and the bytes it may take once read back (its struct field) */
	const struct {
		const char *s;
		size_t room;
	} f[5] = {
		{ ev->id[0] != '\0' ? ev->id : "-", sizeof ev->id - 1 },
		{ ev->actor[0] != '\0' ? ev->actor : "-", sizeof ev->actor - 1 },
		{ ev->from[0] != '\0' ? ev->from : "-", sizeof ev->from - 1 },
		{ ev->to[0] != '\0' ? ev->to : "-", sizeof ev->to - 1 },
		{ ev->comment, sizeof ev->comment - 1 },
	};
	char *p = buf, *end = buf + len - 1, t[32];
	int i;

	if (len < 64) {
		errno = ENAMETOOLONG;
		return -1;
	}
	spool_time_fmt(ev->time, t, sizeof t);
	p += snprintf(p, (size_t)(end - p), "%s", t);
	/* end keeps a byte for the newline: each field's NUL lands before it */
	for (i = 0; i < 5; i++) {
		*p++ = '\t';
		p += text_escape(p, (size_t)(end - p), f[i].s, strlen(f[i].s), f[i].room, 0);
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
		/* its mode from the spool, whatever the umask of whoever brought it back */
		if (h->created)
			spool_own(h->fd, dirfd, SPOOL_FILE_MODE);
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

/* ID, FROM and TO are names; ACTOR and COMMENT are text; all but COMMENT write "" as "-" */
enum { NAME, ACTOR, COMMENT };

/*
 * Unescape a field into dst.  Our writer cuts text to fit; longer text (a line
 * written by hand, or by another writer) is cut here the same way rather than lost,
 * while a name that does not fit is no name: the line is malformed.
 */
static int
field(char *dst, size_t len, char *src, int kind)
{
	if (text_unescape(src) < 0)
		return -1;
	if (strlen(src) < len)
		strcpy(dst, kind != COMMENT && strcmp(src, "-") == 0 ? "" : src);
	else if (kind != NAME)
		spool_text_copy(dst, len, src, strlen(src), 0);
	else
		return -1;
	return 0;
}

int
spool_event_parse(const char *line, struct spool_event *ev)
{
	char buf[LINE_MAX_LEN], *f[6], *p = buf;
	int n, ok = strlen(line) < sizeof buf;

	memset(ev, 0, sizeof *ev);
	if (ok)
		strcpy(buf, line);
	/* six fields split at tabs; the comment, last, has no tab of its own */
	for (n = 0; ok && n < 5; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) == NULL)
			ok = 0;
		else
			*p++ = '\0';
	}
	f[5] = p;
	ok = ok && strchr(f[5], '\t') == NULL && spool_time_parse(f[0], &ev->time) == 0 &&
	    field(ev->id, sizeof ev->id, f[1], NAME) == 0 &&
	    field(ev->actor, sizeof ev->actor, f[2], ACTOR) == 0 &&
	    field(ev->from, sizeof ev->from, f[3], NAME) == 0 &&
	    field(ev->to, sizeof ev->to, f[4], NAME) == 0 &&
	    field(ev->comment, sizeof ev->comment, f[5], COMMENT) == 0;
	if (!ok)
		errno = EINVAL;
	return ok ? 0 : -1;
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
