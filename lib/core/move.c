/*
 * Where orders are and how they move: locate by looking in every state folder (so
 * finding one order costs the number of states, not the number of orders), moves by
 * one rename between state folders that never replaces a file, removal, and walks.
 *
 * Any number of actors (spoold, spoolctl, a person with mv) may race.  A rename whose
 * source has gone lost the race: we look again and report where the order went, as
 * Postfix's postsuper does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MOVE_TRIES 3
#define LOCATE_PASSES 3

int
spool_locate(struct spool *sp, const char *id, int *state)
{
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX];
	struct stat st;
	int i, pass, n = 0;

	if (!spool_id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	fmt(name, sizeof name, "%s%s", id, ORDER_SUFFIX);
	*state = -1;
	/*
	 * A move from a folder we have not looked in yet to one we have looked in hides
	 * the order from one pass; so a pass that finds nothing is repeated.
	 */
	for (pass = 0; pass < LOCATE_PASSES && n == 0; pass++)
		for (i = 0; i < sp->conf->nstates; i++) {
			if (sp->statefd[i] < 0 ||
			    fstatat(sp->statefd[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			if (n++ == 0)
				*state = i;
		}
	return n;
}

static const char *
sname(struct spool *sp, int i)
{
	return sp->conf->states[i].name;
}

/* After a rename found its source gone: say where the order is now. */
static int
lost_race(struct spool *sp, const char *id, int *now, struct spool_err *err)
{
	if (spool_locate(sp, id, now) <= 0)
		return failerr(err, ENOENT, "%s: removed meanwhile", id);
	return failerr(err, EAGAIN, "%s: moved meanwhile to %s", id, sname(sp, *now));
}

static void
event_of(struct spool_event *ev, struct spool *sp, const char *id, int from, int to,
    const struct spool_move *m)
{
	memset(ev, 0, sizeof *ev);
	ev->time = spool_sys.time(NULL);
	snprintf(ev->id, sizeof ev->id, "%s", id);
	snprintf(ev->actor, sizeof ev->actor, "%s", m->who != NULL ? m->who : "-");
	snprintf(ev->from, sizeof ev->from, "%s", sname(sp, from));
	snprintf(ev->to, sizeof ev->to, "%s", sname(sp, to));
	spool_text_fmt(ev->comment, sizeof ev->comment, "%s", m->comment != NULL ? m->comment : "");
}

/* Whether the workflow lets m's actor move the order from `from` to `to` now. */
static int
move_allowed(struct spool *sp, const char *id, int from, int to, const struct spool_move *m,
    struct spool_err *err)
{
	const struct spool_conf *c = sp->conf;

	if (from < 0 || from >= c->nstates || sp->statefd[from] < 0)
		return failerr(err, EINVAL, "%s: no such state", id);
	if (from == to)
		return failerr(err, EALREADY, "%s: already in %s", id, sname(sp, to));
	if (m->check && c->states[from].locked && m->actor != SPOOL_ACTOR_SYSTEM)
		return failerr(err, EBUSY, "%s: locked while in %s", id, sname(sp, from));
	if (m->check && spool_conf_allows(c, from, to, m->actor) < 0)
		return failerr(err, EPERM, "%s: the workflow does not let %s move it from %s to %s",
		    id, spool_actor_name(m->actor), sname(sp, from), sname(sp, to));
	return 0;
}

/*
 * The rename itself, after the history line when the move is an intent (the line goes
 * first, and is taken back when the rename fails).  1 when the order was not in
 * `from` (somebody moved it first), -1 on any other failure.
 */
static int
move_rename(struct spool *sp, const char *id, int from, int to, const struct spool_move *m,
    struct hlock *h, struct spool_err *err)
{
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX];
	struct spool_event ev;
	int line = (m->flags & SPOOL_MOVE_INTENT) && !(m->flags & SPOOL_MOVE_NOLINE);
	int saved;

	fmt(name, sizeof name, "%s%s", id, ORDER_SUFFIX);
	if (line) {
		event_of(&ev, sp, id, from, to, m);
		if (history_put(h, &ev, SPOOL_NOSYNC) < 0)
			return seterr(err, "%s: cannot write its history: %s", id, strerror(errno));
	}
	if (rename_noreplace(sp->statefd[from], name, sp->statefd[to], name) == 0)
		return 0;
	saved = errno;
	if (line && history_unput(h) < 0)
		return seterr(err, "%s: cannot take back its history line: %s", id,
		    strerror(errno));
	if (saved == EEXIST)
		return failerr(err, EEXIST, "%s: is in both %s and %s (run spoolctl check)", id,
		    sname(sp, from), sname(sp, to));
	if (saved != ENOENT) {
		errno = saved;
		return seterr(err, "%s: cannot move from %s to %s: %s", id, sname(sp, from),
		    sname(sp, to), strerror(saved));
	}
	return 1;
}

/*
 * After the rename: make the move durable and write its line.  A move that cannot be
 * made whole is taken back, unless someone moved the order on meanwhile.
 */
static int
move_record(struct spool *sp, const char *id, int from, int to, const struct spool_move *m,
    struct hlock *h, struct spool_err *err)
{
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX];
	struct spool_event ev;
	int saved;

	event_of(&ev, sp, id, from, to, m);
	if ((!(m->flags & SPOOL_NOSYNC) && (spool_fsync_dir(sp->statefd[to]) < 0 ||
	    spool_fsync_dir(sp->statefd[from]) < 0)) ||
	    history_put(h, &ev, m->flags & SPOOL_NOSYNC) < 0) {
		saved = errno;
		fmt(name, sizeof name, "%s%s", id, ORDER_SUFFIX);
		if (rename_noreplace(sp->statefd[to], name, sp->statefd[from], name) == 0) {
			spool_fsync_dir(sp->statefd[from]);
			spool_fsync_dir(sp->statefd[to]);
		}
		errno = saved;
		return seterr(err, "%s: cannot record the move from %s to %s: %s", id,
		    sname(sp, from), sname(sp, to), strerror(errno));
	}
	return 0;
}

int
spool_move(struct spool *sp, const char *id, int from, int to, struct spool_move *m,
    struct spool_err *err)
{
	const struct spool_conf *c = sp->conf;
	struct hlock h = { .fd = -1, .ownfd = -1 };
	int tries, now, want = from, n, r = -1;

	if (!spool_id_ok(id))
		return failerr(err, EINVAL, "'%.80s' is not an order id", id);
	if (to < 0 || to >= c->nstates || sp->statefd[to] < 0)
		return failerr(err, EINVAL, "%s: no such state", id);
	/*
	 * The history stays locked from before the rename until its line is written, so
	 * that nobody reading the history (spoold, to learn who moved an order) sees the
	 * move without its line.
	 */
	if (history_lock_order(sp, id, &h) < 0) {
		if (errno == ENOENT && spool_locate(sp, id, &now) <= 0)
			failerr(err, ENOENT, "%s: no such order", id);
		else
			seterr(err, "%s: cannot open orders/%s/history: %s", id, id, strerror(errno));
		goto out;
	}
	for (tries = 0;; tries++) {
		if (want < 0 && (n = spool_locate(sp, id, &from)) <= 0) {
			failerr(err, ENOENT, "%s: no such order", id);
			goto out;
		}
		/* which copy is the order is check --repair's to decide, not a move's */
		if (want < 0 && n > 1) {
			failerr(err, EEXIST, "%s: is in %d states; left alone (run spoolctl check)", id,
			    n);
			goto out;
		}
		if (move_allowed(sp, id, from, to, m, err) < 0)
			goto out;
		if ((n = move_rename(sp, id, from, to, m, &h, err)) < 0)
			goto out;
		if (n == 0)
			break;
		/* Gone from `from`: somebody else moved it, unless it is still there. */
		if (lost_race(sp, id, &now, err) < 0 && (now != from || tries + 1 == MOVE_TRIES))
			goto out;
	}
	if (m->flags & (SPOOL_MOVE_INTENT | SPOOL_MOVE_NOLINE)) {
		/* the line went first; with NOSYNC nothing else is left to do */
		m->from = from;
		r = 0;
		goto out;
	}
	if (move_record(sp, id, from, to, m, &h, err) < 0)
		goto out;
	m->from = from;
	r = 0;
out:
	history_unlock(&h);
	return r;
}

/* Set by the layer above (spool_domain_init): what a removal must also undo there. */
static int (*remove_hook)(struct spool *, const char *, int *);

void
spool_on_remove(int (*fn)(struct spool *sp, const char *id, int *count))
{
	remove_hook = fn;
}

int
spool_remove(struct spool *sp, const char *id, unsigned actor, const char *who,
    const char *comment, struct spool_err *err)
{
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX], tmp[SPOOL_ID_MAX + 80], sfx[64];
	char intent[INTENT_NAME_MAX] = "";
	struct spool_event ev;
	int lk, from, now, pfd = -1, r = -1, saved, n;

	if (!spool_id_ok(id))
		return failerr(err, EINVAL, "'%.80s' is not an order id", id);
	fmt(name, sizeof name, "%s%s", id, ORDER_SUFFIX);
	if ((lk = repair_lock(sp, LOCK_SH)) < 0)
		return seterr(err, "%s: cannot lock run/%s: %s", id, REPAIR_LOCK, strerror(errno));
	if ((n = spool_locate(sp, id, &from)) <= 0) {
		failerr(err, ENOENT, "%s: no such order", id);
		goto out;
	}
	if (n > 1) {
		failerr(err, EEXIST, "%s: is in %d states; left alone (run spoolctl check)", id, n);
		goto out;
	}
	if (sp->conf->states[from].locked && actor != SPOOL_ACTOR_SYSTEM) {
		failerr(err, EBUSY, "%s: locked while in %s", id, sname(sp, from));
		goto out;
	}
	if ((pfd = open_payload(sp, id)) < 0 && errno != ENOENT) {
		seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
		goto out;
	}
	/*
	 * The commit: the order file leaves its state for orders/<id>/detached.order.  An
	 * order detached like this is gone; recovery, which run/intent/ sends to it,
	 * deletes what is left of it.
	 */
	if (intent_put(sp, id, 1, intent, sizeof intent) < 0) {
		seterr(err, "%s: cannot record the removal in run/intent: %s", id, strerror(errno));
		goto out;
	}
	tmp_suffix(sfx, sizeof sfx);
	fmt(tmp, sizeof tmp, "rm.%s.%s", id, sfx);
	if (rename_noreplace(sp->statefd[from], name, pfd >= 0 ? pfd : sp->dir[SPOOL_DIR_TMP],
	    pfd >= 0 ? DETACHED_NAME : tmp) < 0) {
		if (errno == ENOENT)
			lost_race(sp, id, &now, err);
		else
			seterr(err, "%s: cannot remove state/%s/%s: %s", id, sname(sp, from), name,
			    strerror(errno));
		goto out;
	}
	memset(&ev, 0, sizeof ev);
	ev.time = spool_sys.time(NULL);
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.actor, sizeof ev.actor, "%s", who != NULL ? who : "-");
	snprintf(ev.from, sizeof ev.from, "%s", sname(sp, from));
	spool_text_fmt(ev.comment, sizeof ev.comment, "removed%s%s", comment != NULL ? ": " : "",
	    comment != NULL ? comment : "");
	if (spool_fsync_dir(sp->statefd[from]) < 0 || spool_log_add(sp, &ev) < 0) {
		saved = errno;
		if (rename_noreplace(pfd >= 0 ? pfd : sp->dir[SPOOL_DIR_TMP],
		    pfd >= 0 ? DETACHED_NAME : tmp, sp->statefd[from], name) == 0)
			spool_fsync_dir(sp->statefd[from]);
		errno = saved;
		seterr(err, "%s: cannot record the removal: %s", id, strerror(errno));
		goto out;
	}
	r = 0;
	/* its jobs leave the hot folders, so that no printer prints a removed order */
	if (remove_hook != NULL)
		remove_hook(sp, id, &saved);
	/* What follows only frees space; if it fails, check and recovery finish it. */
	if (pfd >= 0 && rename_noreplace(sp->dir[SPOOL_DIR_ORDERS], id, sp->dir[SPOOL_DIR_TMP],
	    tmp) < 0) {
		spool_rmtree(sp->dir[SPOOL_DIR_ORDERS], id);
		spool_fsync_dir(sp->dir[SPOOL_DIR_ORDERS]);
	} else {
		spool_fsync_dir(sp->dir[SPOOL_DIR_ORDERS]);
		spool_rmtree(sp->dir[SPOOL_DIR_TMP], tmp);
	}
out:
	/* the record goes once nothing detached is left for recovery to finish */
	if (pfd < 0 || faccessat(pfd, DETACHED_NAME, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		intent_drop(sp, intent);
	close_keep(pfd);
	repair_unlock(lk);
	return r;
}

int
spool_sync(struct spool *sp)
{
	return spool_sys.syncfs(sp->dir[SPOOL_DIR_ROOT]);
}

int
spool_walk(struct spool *sp, uint64_t states, int dostat,
    int (*fn)(void *, const struct spool_ent *), void *arg)
{
	char id[SPOOL_ID_MAX + 1];
	struct spool_ent e;
	struct dirent *de;
	struct stat st;
	int i, fd, n = 0, stop = 0;
	DIR *d;

	for (i = 0; i < sp->conf->nstates && !stop; i++) {
		if ((states != 0 && !(states & ((uint64_t)1 << i))) || sp->statefd[i] < 0)
			continue;
		if ((d = dir_open(sp->statefd[i], ".")) == NULL)
			return -1;
		fd = dirfd(d);
		while (!stop && (de = readdir(d)) != NULL) {
			if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
				continue;
			if (!order_name(de->d_name, id))
				continue;
			memset(&e, 0, sizeof e);
			if (dostat || de->d_type == DT_UNKNOWN) {
				/* Gone since readdir: it was moved on and another walk will see it. */
				if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISREG(st.st_mode))
					continue;
				e.placed = st.st_mtim;
				e.since = st.st_ctim;
			}
			e.id = id;
			e.state = i;
			n++;
			stop = fn(arg, &e) != 0;
		}
		closedir(d);
	}
	return n;
}
