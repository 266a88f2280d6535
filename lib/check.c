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
 * states is only reported: which one is right is a person's call.
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
	time_t now;
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
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void
report(struct ck *c, enum spool_problem_kind k, const char *id, const char *path,
    const char *detail, int repaired)
{
	struct spool_problem p = { k, id, path, detail, repaired };

	c->count++;
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
	fmt(rname, sizeof rname, "%s.reason", dst);
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
		snprintf(path, sizeof path, "state/%s", sp->conf->states[i].name);
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
	int r = 0;

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
		r = spool_mkdir(sp->dir[SPOOL_DIR_ORDERS], id, 0770) == 0 &&
		    spool_history_add(sp, &ev, 0) == 0 ? 1 : -1;
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

static void
merge(struct ck *c, struct list *states, struct list *orders)
{
	size_t i = 0, j = 0, k;
	char detail[SPOOL_ERR_MAX], path[SPOOL_ID_MAX + 16];
	int cmp;

	/* (qsort may not be given the NULL of an empty list) */
	if (states->n > 0)
		qsort(states->v, states->n, sizeof *states->v, by_id);
	if (orders->n > 0)
		qsort(orders->v, orders->n, sizeof *orders->v, by_id);
	for (k = 1; k < states->n; k++)
		if (strcmp(states->v[k].id, states->v[k - 1].id) == 0) {
			snprintf(detail, sizeof detail, "in %s and %s",
			    c->sp->conf->states[states->v[k - 1].state].name,
			    c->sp->conf->states[states->v[k].state].name);
			snprintf(path, sizeof path, "state/*/%s.order", states->v[k].id);
			report(c, SPOOL_P_TWOSTATES, states->v[k].id, path, detail, 0);
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

/*
 * Recovery at spoold's start: only what a crash leaves half done, in constant memory
 * (no lists of ids, so a million orders cost no more than ten): the detached order
 * files of interrupted submits, removals and link-and-unlink moves, and stale tmp/.
 * Damage that no crash of ours makes (an order in two states or in none, bad names)
 * is spoolctl check's to find.
 */
int
spool_recover(struct spool *sp, void (*fn)(void *, const struct spool_problem *), void *arg)
{
	struct ck c = { .sp = sp, .repair = 1, .fn = fn, .arg = arg, .now = spool_sys.time(NULL) };
	char path[SPOOL_ID_MAX + 32];
	struct dirent *de;
	int lk = -1, r = -1, state;
	DIR *d;

	if (validate_dirs(sp, dir_problem, &c) > 0 && repair_dirs(sp, NULL) < 0)
		return -1;
	if (sp->dir[SPOOL_DIR_RUN] >= 0 && (lk = repair_lock(sp, LOCK_EX)) < 0)
		return -1;
	if (sp->dir[SPOOL_DIR_ORDERS] >= 0) {
		if ((d = dir_open(sp->dir[SPOOL_DIR_ORDERS], ".")) == NULL)
			goto out;
		while ((de = dir_next(d)) != NULL) {
			if (!spool_id_ok(de->d_name))
				continue;
			fmt(path, sizeof path, "%s/%s", de->d_name, DETACHED_NAME);
			if (faccessat(sp->dir[SPOOL_DIR_ORDERS], path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			/* in a state: drop the detached copy; in none: the unfinished work goes */
			if (spool_locate(sp, de->d_name, &state) > 0)
				leftover(&c, de->d_name, state);
			else
				orphan(&c, de->d_name);
		}
		closedir(d);
	}
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
	int lk = -1, r = -1, missing;

	missing = validate_dirs(sp, dir_problem, &c);
	if (repair && missing > 0 && repair_dirs(sp, NULL) < 0)
		return -1;
	/*
	 * Even to report, hold the lock: a submit between its claim and its commit looks
	 * just like an unfinished one.  Submits wait for the scan; none fails.
	 */
	if (sp->dir[SPOOL_DIR_RUN] >= 0 && (lk = repair_lock(sp, LOCK_EX)) < 0)
		return -1;
	if (scan_states(&c, &states, &a) < 0 || scan_orders(&c, &orders, &a) < 0)
		goto out;
	merge(&c, &states, &orders);
	scan_tmp(&c);
	r = c.count;
out:
	if (lk >= 0)
		repair_unlock(lk);
	free(states.v);
	free(orders.v);
	arena_free(&a);
	return r;
}
