/*
 * What spoold sets aside in run/ so that a full or failing disk loses nothing.
 *
 * run/journal is a file of SPOOL_JOURNAL_SLOTS slots, written full of zeros once
 * (not merely allocated: ext4 converts an allocated but unwritten extent on its
 * first write, which can itself need a block), so that writing a slot later needs
 * no room at all.  spoold keeps there what it knows only in memory while the disk
 * refuses its writes: a handler's outcome, and the history lines of a look that a
 * failed write cut short.  A slot is written with one pwrite of the whole slot and
 * needs no fsync: a SIGKILL does not lose what a write(2) put in the page cache, and
 * the group commit (syncfs) makes it durable with everything else.  A torn slot (a
 * power loss in the middle) fails its checksum and counts as empty.
 *
 *	spool-journal 1 BODYLEN FNV1A32\n
 *	ID STATE VISIT STEP RUN STATUS KILLED OUTLEN LINESLEN\n
 *	OUT (OUTLEN bytes: the handler's stderr) LINES (history lines, as in the file)
 *
 * run/reserve is a file of zeros that spoold gives back to the file system, a piece
 * at a time, when a write fails for want of room, so that it can finish what it has
 * begun; it is grown again once the disk has room, as databases keep a reserve.
 *
 * The free-space test against [spool] min_free is here too: below it, new orders are
 * refused while the orders in the spool go on moving.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"

#define JOURNAL_NAME spool_basename(SPOOL_F_JOURNAL)
#define RESERVE_NAME spool_basename(SPOOL_F_RESERVE)
#define JOURNAL_MAGIC "spool-journal 1 "
#define ZEROS (64 * 1024)

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* Append zeros to fd from `from` up to `to`; -1 (ENOSPC...) leaves what was written. */
static int
zero_fill(int fd, off_t from, off_t to)
{
	static const char zeros[ZEROS];
	size_t n;

	for (; from < to; from += (off_t)n) {
		n = (size_t)(to - from) < sizeof zeros ? (size_t)(to - from) : sizeof zeros;
		if (write_all_at(fd, zeros, n, from) < 0)
			return -1;
	}
	return 0;
}

/* Make run/NAME at least size bytes of written zeros, and durable. */
static int
fill(struct spool *sp, const char *name, off_t size, off_t *got)
{
	struct stat st;
	int fd, r = 0, saved;

	fd = spool_sys.openat(spool_node_dirfd(sp), name,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close_keep(fd);
		errno = EINVAL;
		return -1;
	}
	if (st.st_size == 0)
		spool_own(fd, spool_node_dirfd(sp), SPOOL_FILE_MODE);
	if (st.st_size < size && zero_fill(fd, st.st_size, size) < 0) {
		saved = errno;
		r = -1;
		/* keep whole blocks of what was written; a torn tail is cut */
		if (fstat(fd, &st) == 0)
			spool_sys.ftruncate(fd, st.st_size - st.st_size % 4096);
		errno = saved;
	}
	if (spool_sys.fsync(fd) < 0 && r == 0)
		r = -1;
	if (got != NULL && fstat(fd, &st) == 0)
		*got = st.st_size;
	saved = errno;
	spool_sys.close(fd);
	errno = saved;
	return r;
}

/* The open journal goes: the next slot put opens the file as it is then. */
void
spool_journal_close(struct spool *sp)
{
	close_keep(sp->journalfd);
	sp->journalfd = -1;
}

int
spool_journal_make(struct spool *sp)
{
	spool_journal_close(sp);
	return fill(sp, JOURNAL_NAME, (off_t)SPOOL_JOURNAL_SLOTS * SPOOL_JOURNAL_SLOT, NULL);
}

/*
 * Write one whole slot; the file must be made already (a slot past its end: ENOSPC).
 * The file stays open until spool_journal_close: on a network file system an open
 * and a stat cost a round trip each, and a handler's outcome is put and cleared in
 * one turn of spoold's loop.  A write that fails lets it go, so the next one opens the
 * file again (a remount, a file made whole since).
 */
static int
put_slot(struct spool *sp, int slot, const char *buf)
{
	struct stat st;
	ssize_t w;
	int fd, saved;

	if (slot < 0 || slot >= SPOOL_JOURNAL_SLOTS) {
		errno = EINVAL;
		return -1;
	}
	if (sp->journalfd < 0) {
		fd = spool_sys.openat(spool_node_dirfd(sp), JOURNAL_NAME, O_WRONLY | O_NOFOLLOW |
		    O_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0) {
			close_keep(fd);
			return -1;
		}
		sp->journalfd = fd;
		sp->journalsize = st.st_size;
	}
	if (sp->journalsize < (off_t)(slot + 1) * SPOOL_JOURNAL_SLOT) {
		/* no room was set aside for this slot: writing it could need a new block */
		spool_journal_close(sp);
		errno = ENOSPC;
		return -1;
	}
	w = spool_sys.pwrite(sp->journalfd, buf, SPOOL_JOURNAL_SLOT, (off_t)slot * SPOOL_JOURNAL_SLOT);
	if (w != SPOOL_JOURNAL_SLOT) {
		saved = w < 0 ? errno : EIO;
		spool_journal_close(sp);
		errno = saved;
		return -1;
	}
	return 0;
}

int
spool_journal_put(struct spool *sp, int slot, const struct spool_jrec *r)
{
	char buf[SPOOL_JOURNAL_SLOT], body[SPOOL_JOURNAL_SLOT];
	size_t n;
	int len, hlen;

	if (!spool_id_ok(r->id) || (r->state[0] != '\0' && !spool_name_ok(r->state)) ||
	    r->outlen > SPOOL_JREC_OUT_MAX || r->lineslen > SPOOL_JREC_LINES_MAX) {
		errno = EINVAL;
		return -1;
	}
	len = snprintf(body, sizeof body, "%s %s %d %d %d %d %d %zu %zu\n", r->id,
	    r->state[0] != '\0' ? r->state : "-", r->visit, r->step, r->run, r->status, r->killed,
	    r->outlen, r->lineslen);
	n = (size_t)len;
	memcpy(body + n, r->out, r->outlen);
	n += r->outlen;
	memcpy(body + n, r->lines, r->lineslen);
	n += r->lineslen;
	memset(buf, 0, sizeof buf);
	hlen = snprintf(buf, sizeof buf, JOURNAL_MAGIC "%zu %08x\n", n, fnv1a(body, n));
	if ((size_t)hlen + n > sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf + hlen, body, n);
	return put_slot(sp, slot, buf);
}

int
spool_journal_clear(struct spool *sp, int slot)
{
	char buf[SPOOL_JOURNAL_SLOT];

	memset(buf, 0, sizeof buf);
	return put_slot(sp, slot, buf);
}

/* Decode one slot; 0 if it holds a whole record, -1 if it is empty or torn. */
static int
decode(const char *buf, struct spool_jrec *r)
{
	const char *nl, *body;
	char state[SPOOL_NAME_MAX + 2], id[SPOOL_ID_MAX + 2], first[256];
	size_t len, outlen, lineslen;
	unsigned sum;
	int n;

	if (strncmp(buf, JOURNAL_MAGIC, sizeof JOURNAL_MAGIC - 1) != 0 ||
	    (nl = memchr(buf, '\n', 64)) == NULL ||
	    sscanf(buf + sizeof JOURNAL_MAGIC - 1, "%zu %8x", &len, &sum) != 2)
		return -1;
	body = nl + 1;
	if (len > SPOOL_JOURNAL_SLOT - (size_t)(body - buf) || fnv1a(body, len) != sum)
		return -1;
	memset(r, 0, sizeof *r);
	if ((nl = memchr(body, '\n', len)) == NULL || (size_t)(nl - body) >= sizeof first)
		return -1;
	memcpy(first, body, (size_t)(nl - body));
	first[nl - body] = '\0';
	if (sscanf(first, "%65s %33s %d %d %d %d %d %zu %zu%n", id, state, &r->visit, &r->step,
	    &r->run, &r->status, &r->killed, &outlen, &lineslen, &n) != 9 || first[n] != '\0' ||
	    outlen > SPOOL_JREC_OUT_MAX || lineslen > SPOOL_JREC_LINES_MAX ||
	    (size_t)(nl + 1 - body) + outlen + lineslen != len || !spool_id_ok(id) ||
	    (strcmp(state, "-") != 0 && !spool_name_ok(state)))
		return -1;
	memcpy(r->id, id, strlen(id) + 1);
	if (strcmp(state, "-") != 0)
		memcpy(r->state, state, strlen(state) + 1);
	memcpy(r->out, nl + 1, outlen);
	r->outlen = outlen;
	memcpy(r->lines, nl + 1 + outlen, lineslen);
	r->lineslen = lineslen;
	return 0;
}

int
spool_journal_read(struct spool *sp, int (*fn)(void *, int, const struct spool_jrec *),
    void *arg)
{
	struct spool_jrec *r;
	char *buf;
	ssize_t n;
	int fd, slot, count = 0;

	fd = spool_sys.openat(spool_node_dirfd(sp), JOURNAL_NAME, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	buf = malloc(SPOOL_JOURNAL_SLOT);
	r = malloc(sizeof *r);
	if (buf == NULL || r == NULL) {
		free(buf);
		free(r);
		close_keep(fd);
		return -1;
	}
	for (slot = 0; slot < SPOOL_JOURNAL_SLOTS; slot++) {
		n = pread(fd, buf, SPOOL_JOURNAL_SLOT, (off_t)slot * SPOOL_JOURNAL_SLOT);
		if (n < (ssize_t)SPOOL_JOURNAL_SLOT)
			break;
		if (buf[0] == '\0' || decode(buf, r) < 0)
			continue;
		count++;
		if (fn(arg, slot, r) != 0)
			break;
	}
	free(buf);
	free(r);
	close_keep(fd);
	return count;
}

int
spool_reserve_fill(struct spool *sp, long long size, long long *got)
{
	off_t have = 0;
	int r;

	r = fill(sp, RESERVE_NAME, (off_t)size, &have);
	if (got != NULL)
		*got = have;
	return r;
}

long long
spool_reserve_release(struct spool *sp, long long amount)
{
	return spool_reserve_give(spool_node_dirfd(sp), amount);
}

long long
spool_reserve_give(int rundirfd, long long amount)
{
	struct stat st;
	off_t to;
	int fd;

	fd = spool_sys.openat(rundirfd, RESERVE_NAME, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close_keep(fd);
		return -1;
	}
	to = st.st_size > amount ? st.st_size - (off_t)amount : 0;
	/*
	 * ext4 lets blocks freed in a transaction be taken again only once it commits;
	 * the fsync commits it, so the room is there for the write that asked for it.
	 */
	if (spool_sys.ftruncate(fd, to) < 0 || spool_sys.fsync(fd) < 0) {
		close_keep(fd);
		return -1;
	}
	spool_sys.close(fd);
	return (long long)(st.st_size - to);
}

int
spool_space(struct spool *sp, struct spool_space *s)
{
	struct statvfs v;

	if (fstatvfs(sp->dir[SPOOL_DIR_ROOT], &v) < 0)
		return -1;
	s->bytes_free = (long long)v.f_bavail * (long long)v.f_frsize;
	s->bytes = (long long)v.f_blocks * (long long)v.f_frsize;
	s->inodes_free = (long long)v.f_favail;
	s->inodes = (long long)v.f_files;
	return 0;
}

/* "1.5 MiB", "300 KiB": a size a person reads. */
static void
human(long long n, char *buf, size_t len)
{
	if (n >= 1LL << 30)
		snprintf(buf, len, "%.1f GiB", (double)n / (1LL << 30));
	else if (n >= 1LL << 20)
		snprintf(buf, len, "%.1f MiB", (double)n / (1LL << 20));
	else
		snprintf(buf, len, "%lld KiB", n / 1024);
}

int
spool_space_ok(const struct spool_conf *c, const struct spool_space *s, char *why, size_t len)
{
	char have[32], want[32];
	long long inodes_min;

	/* a file system without an inode count (btrfs) says 0 of 0 */
	inodes_min = s->inodes > 0 ? s->inodes * c->min_free_inodes / 100 : 0;
	if (s->bytes_free >= c->min_free && s->inodes_free >= inodes_min)
		return 1;
	human(s->bytes_free, have, sizeof have);
	human(c->min_free, want, sizeof want);
	if (why != NULL)
		snprintf(why, len, "the spool's file system has %s and %lld inodes free, below the "
		    "reserve of %s and %d%% of inodes (min_free in spool.conf); new orders wait "
		    "until there is room", have, s->inodes_free, want, c->min_free_inodes);
	return 0;
}
