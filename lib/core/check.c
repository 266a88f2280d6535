/*
 * spool_check: find damage in a spool, and mend what is safe to mend.
 *
 * It reads every state folder and orders/ once (readdir only, no stat on the common
 * path), sorts the ids, and merges the two lists: an id in two states, an order file
 * without orders/<id>, an orders/<id> without an order file (an orphan, or an
 * unfinished submit or removal when it holds detached.order).  It also finds stale
 * entries in tmp/ and names that break the grammar.
 *
 * It holds the repair lock exclusively, so no submit or removal is half way
 * through while it looks.  It never deletes anything a person might want: bad names
 * and orphans go to corrupt/ with a reason; only unfinished submits and removals
 * (whose outcome is defined) and stale tmp/ entries are deleted.  An order in two
 * states keeps the copy in the state its history's last move names, and the other
 * goes to corrupt/; when the history names neither, which one is right is a person's
 * call, and it is only reported.
 *
 * Modes and groups: every folder of the spool is setgid and group rwx and every file
 * group read-write, all of the spool's group (its root folder's).  The spool's own
 * folders are checked one by one, with the files of the root and of outbox/; an
 * order's folder is walked with one fstatat per entry, which is the walk's only cost
 * per order beyond reading orders/ (it replaces the look for a leftover
 * detached.order), and reported as one line per order.
 * Order files in the state folders are not stat'ed: the merge reads names only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define ARENA_BLOCK (1024 * 1024)
#define NAME_MAX_SAFE (NAME_MAX + 1)
#define WALK_DEPTH 4    /* orders/<id>/items/<item>/chunks/ is 3 below orders/<id> */

struct arena {
	char **blocks;
	size_t nblocks, used;
};

static char *
arena_str(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char **nb;

	if (a->nblocks == 0 || a->used + n > ARENA_BLOCK) {
		if ((nb = realloc(a->blocks, (a->nblocks + 1) * sizeof *nb)) == NULL)
			return NULL;
		a->blocks = nb;
		if ((a->blocks[a->nblocks] = malloc(ARENA_BLOCK)) == NULL)
			return NULL;
		a->nblocks++;
		a->used = 0;
	}
	memcpy(a->blocks[a->nblocks - 1] + a->used, s, n);
	a->used += n;
	return a->blocks[a->nblocks - 1] + a->used - n;
}

static void
arena_free(struct arena *a)
{
	size_t i;

	for (i = 0; i < a->nblocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

struct ent {
	const char *id;
	int state;
};

struct list {
	struct ent *v;
	size_t n, cap;
};

static int
list_add(struct list *l, struct arena *a, const char *id, int state)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		struct ent *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n].id = arena_str(a, id)) == NULL)
		return -1;
	l->v[l->n++].state = state;
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->id, ((const struct ent *)b)->id);
}

struct ck {
	struct spool *sp;
	int repair;
	void (*fn)(void *, const struct spool_problem *);
	void *arg;
	int count;
	int repaired;       /* problems mended: spoold is asked to rescan */
	time_t now;
	gid_t gid;          /* the spool's group: its root folder's */
};

const char *
spool_problem_name(enum spool_problem_kind k)
{
	static const char *const names[] = {
		[SPOOL_P_TWOSTATES] = "two-states", [SPOOL_P_ORPHAN] = "orphan",
		[SPOOL_P_NOPAYLOAD] = "no-payload", [SPOOL_P_UNCOMMITTED] = "uncommitted",
		[SPOOL_P_STALETMP] = "stale-tmp", [SPOOL_P_BADNAME] = "bad-name",
		[SPOOL_P_UNKNOWNSTATE] = "unknown-state", [SPOOL_P_MISSINGDIR] = "missing-folder",
		[SPOOL_P_MODE] = "mode", [SPOOL_P_FILESYSTEM] = "file-system",
		[SPOOL_P_GROUP] = "group",
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void
report(struct ck *c, enum spool_problem_kind k, const char *id, const char *path,
    const char *detail, int repaired)
{
	struct spool_problem p = { k, id, path, detail, repaired };

	c->count++;
	if (repaired > 0)
		c->repaired++;
	c->fn(c->arg, &p);
}

int
spool_quarantine(struct spool *sp, int dirfd, const char *name, const char *reason, char *out,
    size_t outlen)
{
	char dst[NAME_MAX_SAFE], rname[NAME_MAX_SAFE + 8], text[SPOOL_ERR_MAX + 2];
	int i, n;

	for (i = 0; i < 100; i++) {
		if ((i == 0 ? fmt(dst, sizeof dst, "%s", name) :
		    fmt(dst, sizeof dst, "%.200s.%d", name, i)) < 0)
			return -1;
		if (rename_noreplace(dirfd, name, sp->dir[SPOOL_DIR_CORRUPT], dst) == 0)
			break;
		if (errno != EEXIST && errno != ENOTEMPTY)
			return -1;
	}
	if (i == 100) {
		errno = EEXIST;
		return -1;
	}
	if (out != NULL)
		snprintf(out, outlen, "%s", dst);
	spool_fsync_dir(dirfd);
	n = snprintf(text, sizeof text, "%s\n", reason);
	spool_name(SPOOL_F_REASON, dst, rname, sizeof rname);
	return spool_publish(sp->dir[SPOOL_DIR_CORRUPT], rname, sp->dir[SPOOL_DIR_TMP], text,
	    (size_t)n, NULL);
}

/* Entries that break the grammar: to corrupt/ once they are older than tmp_grace. */
static void
badname(struct ck *c, int dirfd, const char *dir, const char *name, const char *why)
{
	char path[NAME_MAX_SAFE * 2], reason[SPOOL_ERR_MAX];
	struct stat st;
	int r = 0;

	snprintf(path, sizeof path, "%s/%.255s", dir, name);
	if (c->repair) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    c->now - st.st_mtime >= c->sp->conf->tmp_grace) {
			snprintf(reason, sizeof reason,
			    "%.300s: %.100s (moved here by spoolctl check --repair)", path, why);
			r = spool_quarantine(c->sp, dirfd, name, reason, NULL, 0) == 0 ? 1 : -1;
		}
	}
	report(c, SPOOL_P_BADNAME, NULL, path, why, r);
}

static int
scan_states(struct ck *c, struct list *l, struct arena *a)
{
	struct spool *sp = c->sp;
	char id[SPOOL_ID_MAX + 1], path[80];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int i, fd;

	/* Folders in state/ that the workflow does not name hold orders in no state. */
	if (sp->dir[SPOOL_DIR_STATE] >= 0 && (d = dir_open(sp->dir[SPOOL_DIR_STATE], ".")) != NULL) {
		while ((de = dir_next(d)) != NULL) {
			if (spool_conf_state(sp->conf, de->d_name) >= 0)
				continue;
			snprintf(path, sizeof path, "state/%.60s", de->d_name);
			report(c, SPOOL_P_UNKNOWNSTATE, NULL, path,
			    "not a state of the workflow; its orders are in no state", 0);
		}
		closedir(d);
	}
	for (i = 0; i < sp->conf->nstates; i++) {
		if (sp->statefd[i] < 0)
			continue;
		if ((d = dir_open(sp->statefd[i], ".")) == NULL)
			return -1;
		fd = dirfd(d);
		spool_name(SPOOL_F_STATE, sp->conf->states[i].name, path, sizeof path);
		while ((de = dir_next(d)) != NULL) {
			int type = de->d_type;

			if (type == DT_UNKNOWN) {
				if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				type = S_ISREG(st.st_mode) ? DT_REG : DT_DIR;
			}
			if (!order_name(de->d_name, id))
				badname(c, fd, path, de->d_name, "not <id>.order");
			else if (type != DT_REG)
				badname(c, fd, path, de->d_name, "not a regular file");
			else if (list_add(l, a, id, i) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	return 0;
}

static int
scan_orders(struct ck *c, struct list *l, struct arena *a)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (c->sp->dir[SPOOL_DIR_ORDERS] < 0)
		return 0;
	if ((d = dir_open(c->sp->dir[SPOOL_DIR_ORDERS], ".")) == NULL)
		return -1;
	fd = dirfd(d);
	while ((de = dir_next(d)) != NULL) {
		struct stat st;
		int type = de->d_type;

		if (type == DT_UNKNOWN) {
			if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (!spool_id_ok(de->d_name))
			badname(c, fd, "orders", de->d_name, "not an order id");
		else if (type != DT_DIR)
			badname(c, fd, "orders", de->d_name, "not a folder");
		else if (list_add(l, a, de->d_name, -1) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* An order file in a state but no orders/<id>: give it an empty one back. */
static void
nopayload(struct ck *c, const char *id, int state)
{
	struct spool *sp = c->sp;
	char path[SPOOL_ID_MAX + 16], detail[128];
	struct spool_event ev;
	int r = 0, fd = -1;

	snprintf(path, sizeof path, "orders/%s", id);
	/* A submit or removal may have finished since we read the folders. */
	if (faccessat(sp->dir[SPOOL_DIR_ORDERS], id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    spool_locate(sp, id, &state) == 0)
		return;
	snprintf(detail, sizeof detail, "order in %s has no orders/%s", sp->conf->states[state].name,
	    id);
	if (c->repair) {
		memset(&ev, 0, sizeof ev);
		ev.time = c->now;
		snprintf(ev.id, sizeof ev.id, "%s", id);
		snprintf(ev.actor, sizeof ev.actor, "check");
		snprintf(ev.from, sizeof ev.from, "%s", sp->conf->states[state].name);
		snprintf(ev.to, sizeof ev.to, "%s", sp->conf->states[state].name);
		snprintf(ev.comment, sizeof ev.comment, "orders/%s was missing; made empty", id);
		r = spool_mkdir(sp->dir[SPOOL_DIR_ORDERS], id, SPOOL_DIR_MODE) == 0 &&
		    (fd = open_payload(sp, id)) >= 0 &&
		    (create_own(fd, "history", SPOOL_FILE_MODE) == 0 || errno == EEXIST) &&
		    spool_history_add(sp, &ev, 0) == 0 ? 1 : -1;
		close_keep(fd);
	}
	report(c, SPOOL_P_NOPAYLOAD, id, path, detail, r);
}

/* orders/<id> without an order file: unfinished (detached.order inside) or orphaned. */
static void
orphan(struct ck *c, const char *id)
{
	struct spool *sp = c->sp;
	char path[SPOOL_ID_MAX + 16], tmp[SPOOL_ID_MAX + 80], sfx[64], reason[256];
	int fd, state, detached, r = 0;

	snprintf(path, sizeof path, "orders/%s", id);
	if (spool_locate(sp, id, &state) > 0)
		return;
	if ((fd = open_payload(sp, id)) < 0)
		return;
	detached = faccessat(fd, DETACHED_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	if (detached) {
		if (c->repair) {
			tmp_suffix(sfx, sizeof sfx);
			fmt(tmp, sizeof tmp, "rm.%s.%s", id, sfx);
			r = rename_noreplace(sp->dir[SPOOL_DIR_ORDERS], id, sp->dir[SPOOL_DIR_TMP], tmp) == 0 &&
			    spool_fsync_dir(sp->dir[SPOOL_DIR_ORDERS]) == 0 &&
			    spool_rmtree(sp->dir[SPOOL_DIR_TMP], tmp) == 0 ? 1 : -1;
		}
		report(c, SPOOL_P_UNCOMMITTED, id, path,
		    "an unfinished submit or removal (holds detached.order); deleted on repair", r);
		return;
	}
	if (c->repair) {
		snprintf(reason, sizeof reason,
		    "orders/%s had no order file in any state (moved here by spoolctl check --repair)",
		    id);
		r = spool_quarantine(sp, sp->dir[SPOOL_DIR_ORDERS], id, reason, NULL, 0) == 0 ? 1 : -1;
	}
	report(c, SPOOL_P_ORPHAN, id, path, "no order file in any state; to corrupt/ on repair", r);
}

/*
 * An order in a state that still holds orders/<id>/detached.order: where rename
 * cannot refuse to replace, a link and an unlink do its work, and a crash between
 * them leaves both names.  Dropping the detached copy keeps the order where it is:
 * a submit is finished, a removal is undone (and can be run again).
 */
static void
leftover(struct ck *c, const char *id, int state)
{
	char path[SPOOL_ID_MAX + 32], detail[256];
	int r = 0;

	fmt(path, sizeof path, "%s/%s", id, DETACHED_NAME);
	if (faccessat(c->sp->dir[SPOOL_DIR_ORDERS], path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (c->repair)
		r = spool_sys.unlinkat(c->sp->dir[SPOOL_DIR_ORDERS], path, 0) == 0 ? 1 : -1;
	fmt(path, sizeof path, "orders/%s/%s", id, DETACHED_NAME);
	snprintf(detail, sizeof detail, "a second order file beside the one in %s (an "
	    "interrupted link and unlink); the detached one goes on repair",
	    c->sp->conf->states[state].name);
	report(c, SPOOL_P_UNCOMMITTED, id, path, detail, r);
}

/* ---- modes and groups ------------------------------------------------------ */

/*
 * The mode st should have: a folder setgid and group rwx, a file group read-write,
 * neither writable by everyone; other bits (others may read) are the admin's choice.
 */
static mode_t
want_mode(const struct stat *st, int keep_otherw)
{
	mode_t m = st->st_mode & 07777;

	m |= S_ISDIR(st->st_mode) ? SPOOL_DIR_MODE : SPOOL_FILE_MODE;
	return keep_otherw ? m : m & ~(mode_t)S_IWOTH;
}

/* Give an open file or folder the spool's group and mode. */
static int
mend_fd(struct ck *c, int fd, const struct stat *st)
{
	if (st->st_gid != c->gid && spool_sys.fchown(fd, (uid_t)-1, c->gid) < 0)
		return -1;
	/* after a change of group too: chown may clear S_ISGID */
	if ((st->st_mode & 07777) != want_mode(st, 0) || st->st_gid != c->gid)
		return spool_sys.fchmod(fd, want_mode(st, 0));
	return 0;
}

/*
 * The same by name: opened without following a symlink (a name swapped for one
 * after the fstatat must not lead check --repair, perhaps run as root, to chmod what
 * it points to), and only if it is still what was looked at.
 */
static int
mend_at(struct ck *c, int dirfd, const char *name, const struct stat *st)
{
	struct stat now;
	int fd, r = -1;

	fd = spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0), 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev)
		r = mend_fd(c, fd, &now);
	else
		errno = EAGAIN;     /* replaced meanwhile: the next check looks again */
	close_keep(fd);
	return r;
}

/* "mode 0644, want 0664 (group read-write)" */
static void
mode_text(const struct stat *st, int keep_otherw, char *buf, size_t len)
{
	snprintf(buf, len, "mode %04o, want %04o (%s)", (unsigned)(st->st_mode & 07777),
	    (unsigned)want_mode(st, keep_otherw), S_ISDIR(st->st_mode) ?
	    "setgid, group rwx" : "group read-write");
}

/* "group alice, not the spool's group spool" */
static void
group_text(struct ck *c, const struct stat *st, char *buf, size_t len)
{
	char have[64], want[64];

	snprintf(buf, len, "group %s, not the spool's group %s",
	    group_name(st->st_gid, have, sizeof have), group_name(c->gid, want, sizeof want));
}

/*
 * One of the spool's own folders.  Writable by everyone is validate_dirs' to report
 * (and spool_open's to refuse), so it does not count here.
 */
static void
own_dir(struct ck *c, int fd, const char *path)
{
	char detail[SPOOL_ERR_MAX];
	struct stat st;
	int bad_mode, bad_group, r = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	bad_mode = (st.st_mode & 07777) != want_mode(&st, 1);
	bad_group = st.st_gid != c->gid;
	if (!bad_mode && !bad_group)
		return;
	if (c->repair)
		r = mend_fd(c, fd, &st) == 0 ? 1 : -1;
	if (bad_mode) {
		mode_text(&st, 1, detail, sizeof detail);
		report(c, SPOOL_P_MODE, NULL, path, detail, r);
	}
	if (bad_group) {
		group_text(c, &st, detail, sizeof detail);
		report(c, SPOOL_P_GROUP, NULL, path, detail, r);
	}
}

/* What a walk found wrong below one folder: reported as one line per kind. */
struct tally {
	int mode, group;            /* entries with a wrong mode, a wrong group */
	int failed;                 /* ... that repair could not mend */
	char first_mode[SPOOL_ERR_MAX / 2], first_group[SPOOL_ERR_MAX / 2];
	int detached;               /* orders/<id>/detached.order was seen */
};

static void
tally_one(struct ck *c, struct tally *t, const char *rel, const struct stat *st, int fd,
    int dirfd, const char *name)
{
	char what[SPOOL_ERR_MAX / 4];
	int bad_mode = (st->st_mode & 07777) != want_mode(st, 0);
	int bad_group = st->st_gid != c->gid;

	if (!bad_mode && !bad_group)
		return;
	if (bad_mode && t->mode++ == 0) {
		mode_text(st, 0, what, sizeof what);
		snprintf(t->first_mode, sizeof t->first_mode, "%s, %s", rel, what);
	}
	if (bad_group && t->group++ == 0) {
		group_text(c, st, what, sizeof what);
		snprintf(t->first_group, sizeof t->first_group, "%s, %s", rel, what);
	}
	if (c->repair && (fd >= 0 ? mend_fd(c, fd, st) : mend_at(c, dirfd, name, st)) < 0)
		t->failed++;
}

/*
 * Walk at/name (whose path in the spool is rel): the folder itself, its files, and
 * with depth left its folders.  Symlinks and other odd entries are not the spool's
 * own, and are left alone.  It reads with getdents64 into a buffer on the stack, not
 * through a DIR: an order's folder is small, and opendir's allocation, its fcntl
 * calls and its fstat cost a quarter of the walk over a million of them.
 */
static int
walk(struct ck *c, int at, const char *name, const char *rel, int depth, const struct stat *seen,
    struct tally *t)
{
	char buf[8192] __attribute__((aligned(8))), sub[NAME_MAX_SAFE * 2];
	struct dirent64 *de;
	struct stat st;
	ssize_t n, off;
	int fd;

	fd = spool_sys.openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a subfolder was looked at from its parent already; repair looks again, at what it opened */
	if (seen != NULL && !c->repair)
		tally_one(c, t, rel, seen, fd, -1, NULL);
	else if (fstat(fd, &st) == 0)
		tally_one(c, t, rel[0] != '\0' ? rel : ".", &st, fd, -1, NULL);
	while ((n = getdents64(fd, buf, sizeof buf)) > 0)
		for (off = 0; off < n; off += de->d_reclen) {
			de = (struct dirent64 *)(buf + off);
			if ((de->d_type != DT_UNKNOWN && de->d_type != DT_REG && de->d_type != DT_DIR) ||
			    strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			snprintf(sub, sizeof sub, "%s%s%.255s", rel, rel[0] != '\0' ? "/" : "",
			    de->d_name);
			if (S_ISREG(st.st_mode)) {
				if (depth == 0 && strcmp(de->d_name, DETACHED_NAME) == 0)
					t->detached = 1;
				tally_one(c, t, sub, &st, -1, fd, de->d_name);
			} else if (S_ISDIR(st.st_mode) && depth < WALK_DEPTH)
				walk(c, fd, de->d_name, sub, depth + 1, &st, t);
		}
	close_keep(fd);
	return 0;
}

static void
tally_report(struct ck *c, const struct tally *t, const char *id, const char *path)
{
	char detail[SPOOL_ERR_MAX];
	int r = !c->repair ? 0 : t->failed > 0 ? -1 : 1;

	if (t->mode > 0) {
		snprintf(detail, sizeof detail, "%d %s not of the spool's mode (%s)", t->mode,
		    t->mode == 1 ? "entry is" : "entries are", t->first_mode);
		report(c, SPOOL_P_MODE, id, path, detail, r);
	}
	if (t->group > 0) {
		snprintf(detail, sizeof detail, "%d %s not of the spool's group (%s)", t->group,
		    t->group == 1 ? "entry is" : "entries are", t->first_group);
		report(c, SPOOL_P_GROUP, id, path, detail, r);
	}
}

/* Every file and folder of orders/<id>/; 1 if it holds a detached.order, -1 if unread. */
static int
payload_modes(struct ck *c, const char *id)
{
	char path[SPOOL_ID_MAX + 16];
	struct tally t;

	memset(&t, 0, sizeof t);
	if (walk(c, c->sp->dir[SPOOL_DIR_ORDERS], id, "", 0, NULL, &t) < 0)
		return -1;
	snprintf(path, sizeof path, "orders/%s", id);
	tally_report(c, &t, id, path);
	return t.detached;
}

/* A folder's own files (subfolders are not walked), reported under its path. */
static void
files_modes(struct ck *c, int at, const char *name, const char *path)
{
	struct dirent *de;
	struct stat st;
	struct tally t;
	DIR *d;

	if (at < 0 || (d = dir_open(at, name)) == NULL)
		return;
	memset(&t, 0, sizeof t);
	while ((de = dir_next(d)) != NULL) {
		if (de->d_type != DT_UNKNOWN && de->d_type != DT_REG)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			tally_one(c, &t, de->d_name, &st, -1, dirfd(d), de->d_name);
	}
	closedir(d);
	tally_report(c, &t, NULL, path);
}

/*
 * The spool's own folders (root, each state's, orders, incoming, tmp, outbox and
 * its boxes, hot and its queue folders, corrupt, run, web), and the files of the root
 * and of the boxes.
 */
static void
spool_modes(struct ck *c)
{
	static const enum spool_file boxes[] = { SPOOL_F_OUTBOX_NEW, SPOOL_F_OUTBOX_SENT,
		SPOOL_F_OUTBOX_FAILED };
	struct spool *sp = c->sp;
	char path[SPOOL_NAME_MAX + 80];
	struct dirent *de;
	size_t b;
	DIR *d;
	int i, fd;

	for (i = 0; i < SPOOL_DIR_COUNT; i++)
		own_dir(c, sp->dir[i], spool_dir_names[i]);
	for (i = 0; i < sp->conf->nstates; i++) {
		spool_name(SPOOL_F_STATE, sp->conf->states[i].name, path, sizeof path);
		own_dir(c, sp->statefd[i], path);
	}
	for (b = 0; sp->dir[SPOOL_DIR_OUTBOX] >= 0 && b < sizeof boxes / sizeof boxes[0]; b++) {
		spool_name(boxes[b], NULL, path, sizeof path);
		fd = spool_sys.openat(sp->dir[SPOOL_DIR_OUTBOX], spool_basename(boxes[b]),
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		own_dir(c, fd, path);
		files_modes(c, fd, ".", path);
		close_keep(fd);
	}
	if (sp->dir[SPOOL_DIR_HOT] >= 0 && (d = dir_open(sp->dir[SPOOL_DIR_HOT], ".")) != NULL) {
		while ((de = dir_next(d)) != NULL) {
			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
				continue;
			fd = spool_sys.openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
			snprintf(path, sizeof path, "hot/%.60s", de->d_name);
			own_dir(c, fd, path);
			close_keep(fd);
		}
		closedir(d);
	}
	/* web/, where there is one; not its files: web/users is 0640 on purpose */
	fd = spool_sys.openat(sp->dir[SPOOL_DIR_ROOT], "web",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	own_dir(c, fd, "web");
	close_keep(fd);
	files_modes(c, sp->dir[SPOOL_DIR_ROOT], ".", ".");
	/*
	 * Not the files of run/: locks that only their maker opens (spoold's) or that
	 * anyone may open read-only (repair.lock), and a kick that is replaced whole.
	 */
}

/* ---- an order in two states ---------------------------------------------------- */

struct lastmove {
	char to[SPOOL_NAME_MAX + 1];
};

static int
last_move(void *arg, const struct spool_event *ev)
{
	struct lastmove *m = arg;

	/* a move, or the submit that put it in its first state; not a note about it */
	if (strcmp(ev->from, ev->to) != 0 && ev->to[0] != '\0' && strcmp(ev->to, "-") != 0)
		snprintf(m->to, sizeof m->to, "%s", ev->to);
	return 0;
}

/*
 * id has an order file in each of the states st[0..n-1] (an admin's cp where mv was
 * meant, a restore from backup).  The history tells where the order is: the copy in
 * the state its last move names stays, and every other goes to corrupt/ with a
 * reason and a history line.  When it names none of them, a person must choose.
 */
static void
twostates(struct ck *c, const char *id, int *st, int n)
{
	struct spool *sp = c->sp;
	char detail[SPOOL_ERR_MAX], path[SPOOL_ID_MAX + 16], reason[SPOOL_ERR_MAX];
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX], got[NAME_MAX_SAFE];
	struct lastmove m = { "" };
	struct spool_event ev;
	size_t len = 0;
	int i, j, keep = -1, r;

	/* in the workflow's order, whatever order the folders were read in */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && st[j - 1] > st[j]; j--) {
			r = st[j];
			st[j] = st[j - 1];
			st[j - 1] = r;
		}
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(detail + len, sizeof detail - len, "%s%s",
		    i == 0 ? "in " : i == n - 1 ? " and " : ", ", sp->conf->states[st[i]].name);
	if (spool_history_read(sp, id, last_move, &m, NULL) >= 0)
		for (i = 0; i < n; i++)
			if (strcmp(m.to, sp->conf->states[st[i]].name) == 0)
				keep = i;
	snprintf(path, sizeof path, "state/*/%s" ORDER_SUFFIX, id);
	if (keep < 0) {
		snprintf(detail + len, sizeof detail - len, "; its history names %s%s: a person "
		    "must choose the copy to keep, and move the other to corrupt/",
		    m.to[0] != '\0' ? "neither, but " : "neither", m.to);
		report(c, SPOOL_P_TWOSTATES, id, path, detail, 0);
		return;
	}
	if (!c->repair) {
		snprintf(detail + len, sizeof detail - len, "; its history has it in %s, whose copy "
		    "check --repair keeps", sp->conf->states[st[keep]].name);
		report(c, SPOOL_P_TWOSTATES, id, path, detail, 0);
		return;
	}
	fmt(name, sizeof name, "%s" ORDER_SUFFIX, id);
	for (i = 0, r = 1; i < n; i++) {
		const char *from = sp->conf->states[st[i]].name, *to = sp->conf->states[st[keep]].name;

		if (i == keep)
			continue;
		snprintf(reason, sizeof reason, "state/%s/%s: a second copy of order %s, which "
		    "stays in %s, the state its history names (moved here by spoolctl check "
		    "--repair)", from, name, id, to);
		if (spool_quarantine(sp, sp->statefd[st[i]], name, reason, got, sizeof got) < 0) {
			r = -1;
			continue;
		}
		memset(&ev, 0, sizeof ev);
		ev.time = c->now;
		snprintf(ev.id, sizeof ev.id, "%s", id);
		snprintf(ev.actor, sizeof ev.actor, "check");
		snprintf(ev.from, sizeof ev.from, "%s", from);
		snprintf(ev.to, sizeof ev.to, "%s", to);
		snprintf(ev.comment, sizeof ev.comment, "in two states: the copy in %s went to "
		    "corrupt/%s; the order stays in %s, where its history has it", from, got, to);
		if (spool_history_add(sp, &ev, 0) < 0)
			r = -1;
	}
	snprintf(detail + len, sizeof detail - len, "; the copy in %s stays (its history's), "
	    "the other goes to corrupt/", sp->conf->states[st[keep]].name);
	report(c, SPOOL_P_TWOSTATES, id, path, detail, r);
}

static void
merge(struct ck *c, struct list *states, struct list *orders)
{
	size_t i = 0, j = 0, k, m;
	int cmp;

	/* (qsort may not be given the NULL of an empty list) */
	if (states->n > 0)
		qsort(states->v, states->n, sizeof *states->v, by_id);
	if (orders->n > 0)
		qsort(orders->v, orders->n, sizeof *orders->v, by_id);
	/* the copies of an id are side by side once sorted */
	for (k = 0; k < states->n; k = m) {
		int st[SPOOL_STATES_MAX], n = 0;

		for (m = k; m < states->n && strcmp(states->v[m].id, states->v[k].id) == 0; m++)
			if (n < SPOOL_STATES_MAX)
				st[n++] = states->v[m].state;
		if (n > 1)
			twostates(c, states->v[k].id, st, n);
	}
	while (i < states->n || j < orders->n) {
		if (i == states->n)
			cmp = 1;
		else if (j == orders->n)
			cmp = -1;
		else
			cmp = strcmp(states->v[i].id, orders->v[j].id);
		if (cmp < 0) {
			nopayload(c, states->v[i].id, states->v[i].state);
			i++;
		} else if (cmp > 0) {
			orphan(c, orders->v[j].id);
			j++;
		} else {
			const char *id = states->v[i].id;
			/* the walk sees a leftover detached.order (or could not look: leftover does) */
			if (payload_modes(c, id) != 0)
				leftover(c, id, states->v[i].state);
			while (i < states->n && strcmp(states->v[i].id, id) == 0)
				i++;
			j++;
		}
	}
}

static void
scan_tmp(struct ck *c)
{
	struct spool *sp = c->sp;
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r;

	if (sp->dir[SPOOL_DIR_TMP] < 0 || (d = dir_open(sp->dir[SPOOL_DIR_TMP], ".")) == NULL)
		return;
	fd = dirfd(d);
	while ((de = dir_next(d)) != NULL) {
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    c->now - st.st_mtime < sp->conf->tmp_grace)
			continue;
		snprintf(path, sizeof path, "tmp/%.255s", de->d_name);
		r = 0;
		if (c->repair)
			r = spool_rmtree(fd, de->d_name) == 0 ? 1 : -1;
		report(c, SPOOL_P_STALETMP, NULL, path, "left by a process that died; deleted on repair",
		    r);
	}
	closedir(d);
}

static void
dir_problem(void *arg, enum spool_problem_kind k, const char *path, const char *detail)
{
	struct ck *c = arg;
	struct stat st;
	int r = 0, fd;

	if (c->repair && k == SPOOL_P_MODE) {
		fd = strcmp(path, ".") == 0 ? dup(c->sp->dir[SPOOL_DIR_ROOT]) :
		    openat(c->sp->dir[SPOOL_DIR_ROOT], path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		r = fd >= 0 && fstat(fd, &st) == 0 && fchmod(fd, st.st_mode & 07775) == 0 ? 1 : -1;
		close_keep(fd);
	} else if (c->repair && k == SPOOL_P_MISSINGDIR)
		r = 1; /* made below, by repair_dirs */
	report(c, k, NULL, path, detail, r);
}

/* One order run/intent/ names: mend what its submit or removal left half done. */
static void
recover_one(void *arg, const char *id)
{
	struct ck *c = arg;
	char path[SPOOL_ID_MAX + 32];
	int state;

	fmt(path, sizeof path, "%s/%s", id, DETACHED_NAME);
	if (faccessat(c->sp->dir[SPOOL_DIR_ORDERS], path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	/* in a state: drop the detached copy; in none: the unfinished work goes */
	if (spool_locate(c->sp, id, &state) > 0)
		leftover(c, id, state);
	else
		orphan(c, id);
}

/*
 * Recovery at spoold's start: only what a crash leaves half done, in constant time
 * and memory whatever the number of orders: the detached order files of the
 * interrupted submits and removals that run/intent/ records, and stale tmp/.  Damage
 * that no crash of ours makes (an order in two states or in none, bad names) is
 * spoolctl check's to find.
 */
int
spool_recover(struct spool *sp, void (*fn)(void *, const struct spool_problem *), void *arg)
{
	struct ck c = { .sp = sp, .repair = 1, .fn = fn, .arg = arg, .now = spool_sys.time(NULL) };
	int lk = -1, r = -1;

	if (validate_dirs(sp, dir_problem, &c) > 0 && repair_dirs(sp, NULL) < 0)
		return -1;
	if (sp->dir[SPOOL_DIR_RUN] >= 0 && (lk = repair_lock(sp, LOCK_EX)) < 0)
		return -1;
	if (sp->dir[SPOOL_DIR_ORDERS] >= 0 && intent_walk(sp, recover_one, &c) < 0)
		goto out;
	scan_tmp(&c);
	r = c.count;
out:
	if (lk >= 0)
		repair_unlock(lk);
	return r;
}

int
spool_check(struct spool *sp, int repair, void (*fn)(void *, const struct spool_problem *),
    void *arg)
{
	struct ck c = { .sp = sp, .repair = repair, .fn = fn, .arg = arg, .now = spool_sys.time(NULL) };
	struct list states = { 0 }, orders = { 0 };
	struct arena a = { 0 };
	struct stat st;
	int lk = -1, r = -1, missing;

	missing = validate_dirs(sp, dir_problem, &c);
	if (repair && missing > 0 && repair_dirs(sp, NULL) < 0)
		return -1;
	if (fstat(sp->dir[SPOOL_DIR_ROOT], &st) < 0)
		return -1;
	c.gid = st.st_gid;
	/*
	 * Even to report, hold the lock: a submit between its claim and its commit looks
	 * just like an unfinished one.  Submits wait for the scan; none fails.
	 */
	if (sp->dir[SPOOL_DIR_RUN] >= 0 && (lk = repair_lock(sp, LOCK_EX)) < 0)
		return -1;
	spool_modes(&c);
	if (scan_states(&c, &states, &a) < 0 || scan_orders(&c, &orders, &a) < 0)
		goto out;
	merge(&c, &states, &orders);
	scan_tmp(&c);
	r = c.count;
out:
	if (lk >= 0)
		repair_unlock(lk);
	/* as spoolctl kick does: a running spoold looks again at what was mended */
	if (c.repaired > 0 && sp->dir[SPOOL_DIR_RUN] >= 0)
		spool_publish(sp->dir[SPOOL_DIR_RUN], KICK_NAME, sp->dir[SPOOL_DIR_TMP], "", 0, NULL);
	free(states.v);
	free(orders.v);
	arena_free(&a);
	return r;
}
