/*
 * Print production in spoold: the built-in actions that run in a job's child
 * (stitch, publish, withdraw, purge), and what printers say in their job.xml files.
 *
 * A printer's job.xml is hostile input that changes under our feet: Samba rewrites
 * it in place, so it is read only after a close-write (or, when polling, once its
 * mtime is a poll interval old), and only a file that parses counts; one that does
 * not is a file still being written, and is read again after its next change.  What
 * spool accepted is recorded per job in orders/<id>/jobs, with the file's mtime and
 * size, so a look reads only what changed and says each thing once.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

/*
 * A built-in action's failure, said on its stderr (which becomes the order's error):
 * EX_DISK when the disk refused a write, so spoold tries again in a few seconds without
 * counting it; 1 for a failure of the action itself.
 */
static int
said(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return disk_errno(e) || e == EIO ? EX_DISK : 1;
}

static void
seen_of(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%09ld.%lld", (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	    (long long)st->st_size);
}

/* The mtime and size of a job's job.xml now, into j->seen. */
static void
reseen(struct spool *sp, struct spool_pjob *j)
{
	char dir[4200], path[4300];
	struct stat st;

	if (spool_pjob_ticket(sp, j, dir, sizeof dir) < 0)
		return;
	snprintf(path, sizeof path, "%s/job.xml", dir);
	if (lstat(path, &st) == 0)
		seen_of(&st, j->seen, sizeof j->seen);
}

static int
stitch(struct daemon *d, const char *id)
{
	struct spool_item *items;
	struct spool_err err;
	int n, i;

	if (spool_items_read(d->sp, id, &items, &n, &err) < 0)
		return said("%s", err.msg);
	for (i = 0; i < n; i++)
		if (spool_stitch_item(d->sp, id, items[i].id, &err) < 0) {
			i = said("%s", err.msg);
			free(items);
			return i;
		}
	free(items);
	return 0;
}

/*
 * Publish the jobs of this visit whose queues take jobs now.  A new visit (the order
 * queued again) first takes its earlier jobs out of the hot folders.  Exit 75 when
 * some wait for a delivery window: spoold looks again when it opens.
 */
static int
publish(struct daemon *d, const char *id, const char *state)
{
	struct spool_status st;
	struct spool_pjobs js;
	struct spool_err err;
	time_t now = time(NULL);
	int i, count = 0, waiting = 0, rc = 1;

	if (spool_status_read(d->sp, id, &st, &err) < 0 || spool_pjobs_read(d->sp, id, &js, &err) < 0)
		return said("%s", err.msg);
	if (js.visit != st.visits || js.n == 0) {
		for (i = 0; i < js.n; i++)
			if (spool_pjob_remove(d->sp, &js.v[i], 0, &count, &err) < 0) {
				rc = said("%s", err.msg);
				goto out;
			}
		if (count > 0)
			hist(d, id, "system", state, state, "removed %d earlier job folder(s) from the "
			    "hot folders", count);
		spool_pjobs_free(&js);
		if (spool_pjobs_plan(d->sp, id, st.visits, &js, &err) < 0) {
			rc = said("%s", err.msg);
			goto out;
		}
		if (spool_pjobs_write(d->sp, id, &js, 0) < 0) {
			rc = said("cannot write %s: %s", SPOOL_NAME(SPOOL_F_JOBS, id), strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < js.n; i++) {
		struct spool_pjob *j = &js.v[i];
		const struct spool_queue *q;
		char where[4200];

		if (j->status != 0 || j->queue < 0)
			continue;
		q = &d->conf->queues[j->queue];
		if (spool_queue_opens(q, now) > now) {
			waiting++;
			continue;
		}
		if (spool_pjob_publish(d->sp, id, j, &err) < 0) {
			rc = said("%s", err.msg);
			goto out;
		}
		j->status = SPOOL_JOB_QUEUED;
		reseen(d->sp, j);
		if (spool_pjobs_write(d->sp, id, &js, 0) < 0) {
			rc = said("cannot write %s: %s", SPOOL_NAME(SPOOL_F_JOBS, id), strerror(errno));
			goto out;
		}
		spool_pjob_dir(d->sp, j, 0, where, sizeof where);
		hist(d, id, "system", state, state, "item %s: job %s published to queue %s (%s)",
		    j->item, j->name, q->name, where);
	}
	if (waiting > 0) {
		fprintf(stderr, "%d job(s) wait for their queue's delivery window\n", waiting);
		rc = 75;
	} else
		rc = 0;
out:
	spool_pjobs_free(&js);
	return rc;
}

/* Tell each printer that has not begun to stop; a job it is printing is its to finish. */
static int
withdraw(struct daemon *d, const char *id, const char *state)
{
	struct spool_pjobs js;
	struct spool_err err;
	int i, n, rc = 0;

	if (spool_pjobs_read(d->sp, id, &js, &err) < 0)
		return said("%s", err.msg);
	for (i = 0; i < js.n; i++) {
		struct spool_pjob *j = &js.v[i];
		char dir[4200];

		if (j->status == SPOOL_JOB_PROCESSING || j->status == SPOOL_JOB_SHIPPING) {
			hist(d, id, "system", state, state, "item %s: job %s is being printed already; "
			    "the printer is not told to stop", j->item, j->name);
			continue;
		}
		if (j->status != SPOOL_JOB_QUEUED) {
			if (j->status == 0)
				j->status = SPOOL_JOB_CANCELLED;
			continue;
		}
		if (spool_pjob_ticket(d->sp, j, dir, sizeof dir) < 0) {
			/* a RIP's job (JDF, no job.xml): take it out of its hot folder */
			n = 0;
			if (spool_pjob_remove(d->sp, j, 0, &n, &err) < 0) {
				rc = said("%s", err.msg);
				continue;
			}
			hist(d, id, "system", state, state, "item %s: job %s taken out of its hot folder",
			    j->item, j->name);
		} else if (spool_pjob_stop(d->sp, j, "The order was cancelled: please do not print "
		    "this job.", &err) < 0) {
			rc = said("%s", err.msg);
			continue;
		} else {
			reseen(d->sp, j);
			hist(d, id, "system", state, state, "item %s: job %s: the printer is told to stop "
			    "(OrderStatus 7 in its job.xml)", j->item, j->name);
		}
		j->status = SPOOL_JOB_CANCELLED;
	}
	if (js.n > 0 && spool_pjobs_write(d->sp, id, &js, 0) < 0)
		rc = said("cannot write %s: %s", SPOOL_NAME(SPOOL_F_JOBS, id), strerror(errno));
	spool_pjobs_free(&js);
	return rc;
}

static int
purge(struct daemon *d, const char *id, const char *state, const char *what)
{
	struct spool_err err;
	int w, up, pr, r;

	w = strcmp(what, "uploads") == 0 ? SPOOL_PURGE_UPLOADS :
	    strcmp(what, "prints") == 0 ? SPOOL_PURGE_PRINTS :
	    SPOOL_PURGE_UPLOADS | SPOOL_PURGE_PRINTS;
	r = spool_order_purge(d->sp, id, NULL, w, &up, &pr, &err);
	if (r < 0)
		r = said("%s", err.msg);
	hist(d, id, "system", state, state, "purged %d upload PDF(s) and %d print PDF(s)%s%s", up, pr,
	    r != 0 ? "; " : "", r != 0 ? err.msg : "");
	return r;
}

/*
 * Reordering: the copy is a new order of its own, named after this visit ("<id>-rN",
 * N the visit's number), so a copy run again after a crash finds its first one made.
 */
static int
copy(struct daemon *d, const char *id, const char *state)
{
	char newid[SPOOL_ID_MAX + 1];
	struct spool_status st;
	struct spool_err err;
	int to;

	if (spool_status_read(d->sp, id, &st, &err) < 0)
		return said("%s", err.msg);
	if (spool_order_copy(d->sp, id, "system", st.visits, newid, &to, &err) < 0) {
		if (errno == EEXIST) {
			hist(d, id, "system", state, state, "the copy %s was made already", newid);
			return 0;
		}
		return said("%s", err.msg);
	}
	hist(d, id, "system", state, state, "copied into the new order %s, in %s", newid,
	    d->conf->states[to].name);
	return 0;
}

int
print_action(struct daemon *d, const char *id, int state, const struct spool_action *a)
{
	const char *s = d->conf->states[state].name;
	int rc = 1;

	switch (a->kind) {
	case SPOOL_ACT_STITCH:
		rc = stitch(d, id);
		break;
	case SPOOL_ACT_PUBLISH:
		rc = publish(d, id, s);
		break;
	case SPOOL_ACT_WITHDRAW:
		rc = withdraw(d, id, s);
		break;
	case SPOOL_ACT_PURGE:
		rc = purge(d, id, s, a->argc > 0 ? a->argv[0] : "all");
		break;
	case SPOOL_ACT_COPY:
		rc = copy(d, id, s);
		break;
	default:
		fprintf(stderr, "not a built-in action\n");
	}
	/* the loop syncs what a handler writes; our own writes are synced here */
	spool_sync(d->sp);
	/* a history line the disk refused: the action runs again, and says it again */
	if (rc == 0 && d->lost != 0) {
		fprintf(stderr, "cannot write its history: %s\n", strerror(d->lost));
		rc = EX_DISK;
	}
	return rc;
}

/* When an order whose publish said "wait" may try again: its queues' next window. */
time_t
print_window_due(struct daemon *d, const char *id, time_t now)
{
	struct spool_pjobs js;
	struct spool_err err;
	time_t due = 0, t;
	int i;

	if (spool_pjobs_read(d->sp, id, &js, &err) < 0)
		return now + 60;
	for (i = 0; i < js.n; i++)
		if (js.v[i].status == 0 && js.v[i].queue >= 0) {
			t = spool_queue_opens(&d->conf->queues[js.v[i].queue], now);
			if (due == 0 || t < due)
				due = t;
		}
	spool_pjobs_free(&js);
	return due != 0 ? due : now;
}

/* ---- what printers say --------------------------------------------------- */

/* A status the printer may not set: the error element into its file, the valid status back. */
static void
refuse(struct daemon *d, const char *id, const char *sname, int fd, struct spool_pjob *j,
    const struct spool_jobxml *jx, const char *actor, const char *why)
{
	struct spool_jobxml_refusal ref = { .refused = jx->status, .restore = j->status,
		.why = why };
	struct spool_err err2;

	if (spool_jobxml_refuse(fd, "job.xml", -1, &ref, &err2) < 0) {
		if (errno == EAGAIN) {
			j->seen[0] = '-';
			j->seen[1] = '\0';
			return;
		}
		/* the disk refused it: the look is done again, and the refusal with it */
		if (disk_errno(errno) || errno == EIO) {
			wfail(d, errno, "the error element into job.xml of job %s", j->name);
			return;
		}
		log_order(LOG_L_WARN, id, "job %s: %s", j->name, err2.msg);
	} else
		reseen(d->sp, j);
	log_order(LOG_L_WARN, id, "job %s: refused OrderStatus '%s': %s", j->name,
	    jx->status_text, why);
	hist(d, id, actor, sname, sname, "item %s: job %s: refused OrderStatus '%s', status "
	    "stays %d: %s", j->item, j->name, jx->status_text, j->status, why);
}

/*
 * A status accepted: spool's error element from an earlier refusal leaves the
 * printer's file, which is otherwise written back as it was.  A file that changed
 * meanwhile is the printer's newer word: it keeps the element until the next status.
 */
static void
clear_error(struct daemon *d, const char *id, int fd, struct spool_pjob *j)
{
	struct spool_err err;
	int r;

	if ((r = spool_jobxml_accept(fd, "job.xml", -1, j->status, &err)) > 0)
		reseen(d->sp, j);
	else if (r < 0 && errno != EAGAIN)
		log_order(LOG_L_WARN, id, "job %s: its old error element stays: %s", j->name,
		    err.msg);
}

/* Read one job's job.xml if it changed; 1 if j changed (status or seen). */
static int
read_job(struct daemon *d, const char *id, int state, int idx, struct spool_pjob *j,
    time_t *recheck, int *failed, char *fmsg, size_t fmsglen)
{
	const char *sname = d->conf->states[state].name;
	const char *qname = d->conf->queues[j->queue].name;
	struct spool_jobxml jx;
	struct spool_err err;
	char dir[4200], seen[48], actor[SPOOL_NAME_MAX + 16], why[SPOOL_FIELD_MAX + 1];
	struct stat st;
	time_t now = time(NULL);
	int fd, v, r = 0;

	if (spool_pjob_ticket(d->sp, j, dir, sizeof dir) < 0)
		return 0;
	/* a job in the printer's hands is watched; one it has finished, no longer */
	watch_job(d, dir, id, j->status == SPOOL_JOB_QUEUED || j->status == SPOOL_JOB_PROCESSING);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	if (fstatat(fd, "job.xml", &st, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	seen_of(&st, seen, sizeof seen);
	if (strcmp(seen, j->seen) == 0)
		goto out;
	if (d->poll > 0 && st.st_mtime > now - d->poll) {
		/* polling sees no close-write: a file counts once it has been still a while */
		if (*recheck == 0 || now + d->poll < *recheck)
			*recheck = now + d->poll;
		goto out;
	}
	snprintf(actor, sizeof actor, "printer:%s", qname);
	if (spool_jobxml_read(fd, "job.xml", &jx, &err) < 0) {
		if (errno == EAGAIN) {
			log_order(LOG_L_DEBUG, id, "job %s: job.xml does not parse yet (%s); read again "
			    "after its next change", j->name, err.msg);
			goto out;
		}
		/* a symlink, a huge file, a DOCTYPE: said once per change, and never acted on */
		log_order(LOG_L_WARN, id, "job %s: job.xml refused: %s", j->name, err.msg);
		hist(d, id, actor, sname, sname, "item %s: job %s: job.xml refused, status stays %d: %s",
		    j->item, j->name, j->status, err.msg);
		snprintf(j->seen, sizeof j->seen, "%s", seen);
		r = 1;
		goto out;
	}
	v = spool_jobxml_verdict(&jx, j->status, &err);
	snprintf(j->seen, sizeof j->seen, "%s", seen);
	r = 1;
	if (v == 0)
		goto out;
	if (v > 0) {
		hist(d, id, actor, sname, sname, "item %s: job %s: %s (%d) -> %s (%d)%s%s", j->item,
		    j->name, spool_job_status_name(j->status), j->status,
		    spool_job_status_name(jx.status), jx.status, jx.message[0] ? ": " : "",
		    jx.message);
		log_order(LOG_L_INFO, id, "job %s: the printer says %s", j->name,
		    spool_job_status_name(jx.status));
		j->status = jx.status;
		clear_error(d, id, fd, j);
		if (jx.status == SPOOL_JOB_FAILED) {
			char key[32];
			int to = spool_conf_code(d->conf, SPOOL_JOB_FAILED);

			if (!*failed)
				snprintf(fmsg, fmsglen, "item %s: %s", j->item, jx.message);
			*failed = 1;
			snprintf(key, sizeof key, "printer-failed-%d", idx);
			if ((v = notify(d, id, to >= 0 ? to : state, "printer-failed", "admin",
			    jx.message, j->item, st.st_mtime, key, why, sizeof why)) == 0)
				hist(d, id, "system", sname, sname, "%s", why);
			else if (v != -2)
				hist(d, id, "system", sname, sname, "mail printer-failed to the admin not "
				    "sent: %s", why);
		}
		goto out;
	}
	refuse(d, id, sname, fd, j, &jx, actor, err.msg);
out:
	close(fd);
	return r;
}

int
printer_look(struct daemon *d, const char *id, int state, char *why, size_t whylen,
    time_t *recheck)
{
	const struct spool_conf *c = d->conf;
	struct spool_pjobs js;
	struct spool_err err;
	int i, changed = 0, failed = 0, live = 0, processing = 0, shipped = 0, code, to;

	char fmsg[SPOOL_JOB_MSG_MAX + SPOOL_ID_MAX + 16] = "";

	if (c->nqueues == 0)
		return -1;
	if (c->states[state].final) {
		/* closed or cancelled: what a printer writes now changes nothing */
		watch_forget(d, id);
		return -1;
	}
	if (spool_pjobs_read(d->sp, id, &js, &err) < 0 || js.n == 0)
		return -1;
	for (i = 0; i < js.n; i++) {
		struct spool_pjob *j = &js.v[i];

		if (j->status == 0 || j->status == SPOOL_JOB_CANCELLED || j->queue < 0)
			continue;
		changed |= read_job(d, id, state, i, j, recheck, &failed, fmsg, sizeof fmsg);
		if (wfailed(d))
			break;
		live++;
		failed |= j->status == SPOOL_JOB_FAILED;
		processing += j->status == SPOOL_JOB_PROCESSING || j->status == SPOOL_JOB_SHIPPING;
		shipped += j->status == SPOOL_JOB_SHIPPING;
	}
	if (wfailed(d)) {
		/* what was read is read again: nothing of it is kept */
		spool_pjobs_free(&js);
		return -1;
	}
	if (changed) {
		if (spool_pjobs_write(d->sp, id, &js, SPOOL_NOSYNC) < 0) {
			wfail(d, errno, "%s", SPOOL_NAME(SPOOL_F_JOBS, id));
			spool_pjobs_free(&js);
			return -1;
		}
		d->dirty = 1;
	}
	spool_pjobs_free(&js);
	if (live == 0)
		return -1;
	/* the order moves when all its items have; one failed item fails it */
	code = failed ? SPOOL_JOB_FAILED : shipped == live ? SPOOL_JOB_SHIPPING :
	    processing == live ? SPOOL_JOB_PROCESSING : SPOOL_JOB_QUEUED;
	if ((to = spool_conf_code(c, code)) < 0 || to == state)
		return -1;
	if (spool_conf_allows(c, state, to, SPOOL_ACTOR_PRINTER) < 0) {
		/* all shipped at once: through processing, as the printers went */
		int mid = spool_conf_code(c, SPOOL_JOB_PROCESSING);
		if (code != SPOOL_JOB_SHIPPING || mid < 0 || mid == state ||
		    spool_conf_allows(c, state, mid, SPOOL_ACTOR_PRINTER) < 0)
			return -1;
		to = mid;
		code = SPOOL_JOB_PROCESSING;
	}
	if (failed && fmsg[0] != '\0' && code == SPOOL_JOB_FAILED)
		snprintf(why, whylen, "%s", fmsg);
	else
		snprintf(why, whylen, "%s", code == SPOOL_JOB_SHIPPING ? "all items shipped" :
		    code == SPOOL_JOB_PROCESSING ? "all items in production" : "printer");
	return to;
}
