/*
 * Writes the disk refuses: a full disk, a quota, a read-only remount, an I/O error.
 *
 * A look at an order writes history lines, its status, maybe a mail or a move.  The
 * first write that fails stops the rest (wfail): what is on disk is then a beginning
 * of what the look meant, and the look is done again from the tree a few seconds
 * later (a stall), never at the next rescan.  The lines of the look that made it to
 * disk are remembered, so the try after writes each line once (wseen).  A handler's
 * outcome is known only in memory, so it is kept in run/journal the moment the
 * handler ends, in a slot that needs no room to write, and applied from there: a
 * full disk or a SIGKILL in between neither loses it nor runs the handler again.
 *
 * When the file system itself refuses (ENOSPC, EDQUOT, EROFS), spoold first gives
 * back a piece of run/reserve and tries again at once; once the reserve is spent it
 * stops starting new work (d->fault) and only tries its stalled writes, a few
 * seconds apart, until one goes through.  Below [spool] min_free it takes no new
 * orders, while the orders in the spool go on moving.  Each of these is logged once
 * when it begins and once when it ends.
 *
 * Also here, since it is one of the look's writes: hist, which writes a history line
 * by spoold (the engine's, and a built-in action's in its child).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spoold.h"

#define SPACE_EVERY 5        /* seconds between looks at the free space when it matters */

int
disk_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EROFS;
}

struct stall *
stall_find(struct daemon *d, const char *id)
{
	int i, seen;

	for (i = 0, seen = 0; seen < d->nstalls && i < STALLS_MAX; i++)
		if (d->stalls[i] != NULL) {
			seen++;
			if (strcmp(d->stalls[i]->rec.id, id) == 0)
				return d->stalls[i];
		}
	return NULL;
}

static struct stall *
stall_new(struct daemon *d, const char *id, int slot)
{
	struct stall *st;
	int i = slot;

	if (i < 0)
		for (i = 0; i < STALLS_MAX && d->stalls[i] != NULL; i++)
			;
	if (i >= STALLS_MAX || d->stalls[i] != NULL || (st = calloc(1, sizeof *st)) == NULL)
		return NULL;
	st->slot = i;
	snprintf(st->rec.id, sizeof st->rec.id, "%s", id);
	d->stalls[i] = st;
	d->nstalls++;
	return st;
}

void
stall_drop(struct daemon *d, struct stall *st)
{
	if (st->journaled && spool_journal_clear(d->sp, st->slot) < 0)
		/* harmless: a stale record is recognised by its run number and skipped */
		log_order(LOG_L_DEBUG, st->rec.id, "cannot clear slot %d of %s: %s",
		    st->slot, SPOOL_NAME(SPOOL_F_JOURNAL, NULL), strerror(errno));
	if (st->tries > 0)
		log_order(LOG_L_INFO, st->rec.id, "written now, after %d tr%s", st->tries,
		    st->tries == 1 ? "y" : "ies");
	if (st->global && d->fault) {
		d->fault = 0;
		log_info("the spool's file system takes writes again; new work goes on");
	}
	d->stalls[st->slot] = NULL;
	d->nstalls--;
	free(st);
}

int
wfail(struct daemon *d, int err, const char *fmt, ...)
{
	struct wctx *w = d->w;
	va_list ap;

	if (w == NULL || w->err != 0) {
		errno = err;
		return -1;
	}
	w->err = err != 0 ? err : EIO;
	va_start(ap, fmt);
	vsnprintf(w->what, sizeof w->what, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

int
wfailed(const struct daemon *d)
{
	return d->w != NULL && d->w->err != 0;
}

/* A history line as its file holds it, without the time: what makes two lines the same. */
static size_t
line_key(const struct spool_event *ev, char *buf, size_t len)
{
	struct spool_event e = *ev;
	int n;

	e.time = 0;
	n = spool_event_format(&e, buf, len);
	return n < 0 ? 0 : (size_t)n;
}

/* Where the key of a formatted line starts: after the time and its tab. */
static const char *
key_of(const char *line, const char *end)
{
	const char *t = memchr(line, '\t', (size_t)(end - line));

	return t != NULL ? t : end;
}

int
wseen(struct wctx *w, const struct spool_event *ev)
{
	char key[8192], *l, *nl, *end;
	const char *k;
	size_t klen, n;

	if (w->st == NULL || w->st->rec.lineslen == 0 || (klen = line_key(ev, key, sizeof key)) == 0)
		return 0;
	k = key_of(key, key + klen);
	klen -= (size_t)(k - key);
	end = w->st->rec.lines + w->st->rec.lineslen;
	/*
	 * Any remembered line, not only the next: a try may write its lines in another
	 * order (an outcome applied before the look whose lines were cut short).  A line
	 * matched is used up, so the same words later in the look are written again.
	 */
	for (l = w->st->rec.lines; l < end; l = nl + 1) {
		if ((nl = memchr(l, '\n', (size_t)(end - l))) == NULL)
			break;
		n = (size_t)(nl + 1 - l);
		if ((size_t)(nl + 1 - key_of(l, nl + 1)) == klen && memcmp(key_of(l, nl + 1), k, klen) == 0) {
			if (w->lineslen + n <= SPOOL_JREC_LINES_MAX) {
				memcpy(w->lines + w->lineslen, l, n);
				w->lineslen += n;
			}
			memmove(l, nl + 1, (size_t)(end - nl - 1));
			w->st->rec.lineslen -= n;
			return 1;
		}
	}
	return 0;
}

void
wremember(struct wctx *w, const struct spool_event *ev)
{
	char line[8192];
	int n = spool_event_format(ev, line, sizeof line);

	/* more lines than a slot holds are not remembered: a try may write them twice */
	if (n > 0 && w->lineslen + (size_t)n <= SPOOL_JREC_LINES_MAX) {
		memcpy(w->lines + w->lineslen, line, (size_t)n);
		w->lineslen += (size_t)n;
	}
}

static int
backoff(int tries)
{
	int s = 1 << (tries < 3 ? tries - 1 : 3);

	return s < STALL_RETRY_MAX ? s : STALL_RETRY_MAX;
}

/* The file system refused a write for want of room: give back some of the reserve. */
static int
use_reserve(struct daemon *d)
{
	long long got;

	if (d->reserve_have <= 0)
		return 0;
	if ((got = spool_reserve_release(d->sp, RESERVE_STEP)) <= 0) {
		if (got < 0)
			log_warn("cannot give back %s", SPOOL_NAME(SPOOL_F_RESERVE, NULL));
		d->reserve_have = 0;
		return 0;
	}
	d->reserve_have = d->reserve_have > got ? d->reserve_have - got : 0;
	log_warnx("the spool's file system is full: spoold gives back %lld KiB of %s "
	    "to finish its work (%lld KiB left)", got / 1024, SPOOL_NAME(SPOOL_F_RESERVE, NULL),
	    d->reserve_have / 1024);
	d->space_next = time(NULL) + SPACE_EVERY;
	return 1;
}

/* Keep rec in the order's slot of run/journal; said once if that cannot be done. */
static void
keep(struct daemon *d, struct stall *st)
{
	if (st->rec.run == 0 && st->rec.lineslen == 0) {
		if (st->journaled && spool_journal_clear(d->sp, st->slot) == 0)
			st->journaled = 0;
		return;
	}
	if (d->journal_ok && spool_journal_put(d->sp, st->slot, &st->rec) == 0) {
		st->journaled = 1;
		return;
	}
	if (!st->jsaid++)
		log_order(LOG_L_WARN, st->rec.id, "cannot keep it in %s either (%s): it is "
		    "kept in memory until the write goes through", SPOOL_NAME(SPOOL_F_JOURNAL, NULL),
		    d->journal_ok ? strerror(errno) : "the journal was never made whole");
}

/* The look under way failed: keep what it wrote and try it again soon. */
static int
stall_keep(struct daemon *d, struct wctx *w)
{
	struct stall *st = w->st;
	time_t now = time(NULL);
	int first = st == NULL || st->tries == 0;

	if (st == NULL && (st = stall_new(d, w->id, -1)) == NULL) {
		/* every slot is taken: the look is done again at the next rescan */
		log_order(LOG_L_WARN, w->id, "cannot write %s: %s; tried again at the next rescan",
		    w->what, strerror(w->err));
		return 1;
	}
	/* the lines on disk: those of tries before that this one did not reach, then its own */
	if (st->rec.lineslen + w->lineslen <= SPOOL_JREC_LINES_MAX) {
		memcpy(st->rec.lines + st->rec.lineslen, w->lines, w->lineslen);
		st->rec.lineslen += w->lineslen;
	}
	st->rec.lines[st->rec.lineslen] = '\0';
	st->tries++;
	st->err = w->err;
	st->global = disk_errno(w->err);
	st->next = now + backoff(st->tries);
	if (first)
		log_order(LOG_L_WARN, w->id, "cannot write %s: %s; %s, tried again every few seconds",
		    w->what, strerror(w->err), st->rec.run != 0 ? "its handler's outcome is kept" :
		    "nothing is lost");
	keep(d, st);
	if (w->err == ENOSPC || w->err == EDQUOT) {
		if (use_reserve(d)) {
			st->next = now;
			return 1;
		}
	}
	if (st->global && !d->fault) {
		d->fault = 1;
		log_warnx("the spool's file system refuses writes (%s): no new work starts until "
		    "it takes them again; orders with writes to finish try every few seconds",
		    strerror(w->err));
	}
	return 1;
}

int
stall_settle(struct daemon *d, struct wctx *w)
{
	struct stall *st = w->st != NULL ? w->st : stall_find(d, w->id);

	if (w->err != 0)
		return stall_keep(d, w);
	if (st != NULL && st->rec.run == 0)
		stall_drop(d, st);
	return 0;
}

struct stall *
stall_outcome(struct daemon *d, const struct spool_jrec *rec)
{
	struct stall *st = stall_find(d, rec->id);
	size_t lineslen;

	if (st == NULL && (st = stall_new(d, rec->id, -1)) == NULL)
		return NULL;
	/* lines a look had written before stay remembered */
	lineslen = st->rec.lineslen;
	memcpy(st->rec.out, rec->out, rec->outlen);
	st->rec.out[rec->outlen] = '\0';
	st->rec.outlen = rec->outlen;
	snprintf(st->rec.state, sizeof st->rec.state, "%s", rec->state);
	st->rec.visit = rec->visit;
	st->rec.step = rec->step;
	st->rec.run = rec->run;
	st->rec.status = rec->status;
	st->rec.killed = rec->killed;
	st->rec.lineslen = lineslen;
	keep(d, st);
	return st;
}

static int
loaded(void *arg, int slot, const struct spool_jrec *rec)
{
	struct daemon *d = arg;
	struct stall *st;

	if ((st = stall_new(d, rec->id, slot)) == NULL)
		return 0;
	st->rec = *rec;
	st->journaled = 1;
	log_order(LOG_L_INFO, rec->id, "%s kept in %s before a restart", rec->run != 0 ?
	    "a handler's outcome was" : "the history lines of a look cut short were",
	    SPOOL_NAME(SPOOL_F_JOURNAL, NULL));
	return 0;
}

void
stalls_load(struct daemon *d)
{
	long long got = 0;

	if (spool_journal_make(d->sp) == 0)
		d->journal_ok = 1;
	else
		log_warn("cannot make %s whole; the outcomes of handlers are kept in "
		    "memory only while the disk refuses writes", SPOOL_NAME(SPOOL_F_JOURNAL, NULL));
	if (spool_journal_read(d->sp, loaded, d) < 0)
		log_warn("cannot read %s", SPOOL_NAME(SPOOL_F_JOURNAL, NULL));
	if (d->conf->reserve > 0 && spool_reserve_fill(d->sp, d->conf->reserve, &got) < 0)
		log_warn("cannot set aside the reserve of %lld KiB in %s (%lld KiB)",
		    d->conf->reserve / 1024, SPOOL_NAME(SPOOL_F_RESERVE, NULL), got / 1024);
	d->reserve_have = got;
}

void
stalls_due(struct daemon *d, time_t now)
{
	char ids[STALLS_MAX][SPOOL_ID_MAX + 1];
	int i, n = 0, seen;

	for (i = 0, seen = 0; seen < d->nstalls && i < STALLS_MAX; i++)
		if (d->stalls[i] != NULL) {
			seen++;
			if (d->stalls[i]->next <= now)
				snprintf(ids[n++], sizeof ids[0], "%s", d->stalls[i]->rec.id);
		}
	for (i = 0; i < n; i++)
		d->hooks.look(d, ids[i], -1);
}

time_t
stalls_next(const struct daemon *d)
{
	time_t t = 0;
	int i, seen;

	for (i = 0, seen = 0; seen < d->nstalls && i < STALLS_MAX; i++)
		if (d->stalls[i] != NULL) {
			seen++;
			if (t == 0 || d->stalls[i]->next < t)
				t = d->stalls[i]->next;
		}
	if (d->space_next != 0 && (t == 0 || d->space_next < t))
		t = d->space_next;
	return t;
}

int
space_for_orders(struct daemon *d)
{
	struct spool_space s;
	char why[SPOOL_ERR_MAX];
	int ok;

	if (spool_space(d->sp, &s) < 0)
		return 1;
	ok = spool_space_ok(d->conf, &s, why, sizeof why);
	if (!ok && !d->lowspace) {
		d->lowspace = 1;
		log_warnx("%s", why);
	} else if (ok && d->lowspace) {
		d->lowspace = 0;
		log_info("the spool's file system has room again: new orders come in");
		d->incoming_pending = 1;
	}
	if (!ok)
		d->space_next = time(NULL) + SPACE_EVERY;
	return ok;
}

/* Every few seconds while it matters: the reserve grows back, new orders come back. */
void
space_tick(struct daemon *d, time_t now)
{
	struct spool_space s;
	long long got;

	if (d->space_next == 0 || now < d->space_next)
		return;
	d->space_next = 0;
	if (d->lowspace)
		space_for_orders(d);
	if (d->reserve_have >= d->conf->reserve || spool_space(d->sp, &s) < 0)
		return;
	/* only with room to spare beyond what new orders need, so it takes nobody's place */
	if (s.bytes_free < d->conf->min_free + d->conf->reserve) {
		d->space_next = now + SPACE_EVERY;
		return;
	}
	if (spool_reserve_fill(d->sp, d->conf->reserve, &got) == 0) {
		log_info("%s is whole again (%lld KiB)", SPOOL_NAME(SPOOL_F_RESERVE, NULL),
		    got / 1024);
		d->reserve_have = got;
	} else {
		d->reserve_have = got;
		d->space_next = now + SPACE_EVERY;
	}
}

int
hist(struct daemon *d, const char *id, const char *actor, const char *from, const char *to,
    const char *fmt, ...)
{
	struct wctx *w = d->w != NULL && strcmp(d->w->id, id) == 0 ? d->w : NULL;
	struct spool_event ev;
	va_list ap;

	if (w != NULL && w->err != 0)
		return -1;    /* a write before failed: the look is done again, this line with it */
	memset(&ev, 0, sizeof ev);
	ev.time = time(NULL);
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.actor, sizeof ev.actor, "%s", actor);
	snprintf(ev.from, sizeof ev.from, "%s", from);
	snprintf(ev.to, sizeof ev.to, "%s", to);
	va_start(ap, fmt);
	spool_text_vfmt(ev.comment, sizeof ev.comment, fmt, ap);
	va_end(ap);
	if (w != NULL && wseen(w, &ev))
		return 0;    /* written by a try of this look that a failed write cut short */
	if (spool_history_add(d->sp, &ev, SPOOL_NOSYNC) < 0) {
		if (w != NULL)
			wfail(d, errno, "%s", SPOOL_NAME(SPOOL_F_HISTORY, id));
		else {
			/* in a built-in action's child: it ends with EX_DISK and runs again */
			log_order(LOG_L_WARN, id, "cannot write its history: %s", strerror(errno));
			d->lost = errno != 0 ? errno : EIO;
		}
		return -1;
	}
	if (w != NULL)
		wremember(w, &ev);
	d->dirty = 1;
	return 1;
}
