/*
 * Print jobs in hot folders: what an order publishes for its printers, and the
 * record of it in orders/<id>/jobs.
 *
 * A hot folder is read by a printer (or a RIP) that takes whatever appears in it, so
 * a job must appear whole: its folder is staged under a dot-name beside the place it
 * goes, every file in it written and fsynced, the ticket last, and then renamed into
 * place (the rename is the commit, as everywhere in spool).  With an InfoBaseFolder,
 * the info files (job.xml, invoice.pdf, upload.xml) are a second folder, renamed after
 * the PDFs', so that whoever finds a job.xml finds its PDFs.  See spool-layout(5).
 *
 * The printers log in to the share as their own users, in the printers' group, which
 * a hot folder on the share has (setgid, so everything made in it has it too): a job's
 * folders are SPOOL_DIR_MODE, job.xml is group-writable for the printer to edit, and
 * the PDFs, the invoice, upload.xml and JDF tickets are group-readable (JOB_FILE_MODE).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/internal.h"

#define JOBS_FILE spool_basename(SPOOL_F_JOBS)
#define JOBS_FILE_MAX (1024 * 1024)

void
spool_pjobs_free(struct spool_pjobs *js)
{
	free(js->v);
	js->v = NULL;
	js->n = 0;
}

struct spool_pjob *
pjob_add(struct spool_pjobs *js)
{
	struct spool_pjob *v;

	if (js->n >= SPOOL_PJOBS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if ((v = realloc(js->v, (size_t)(js->n + 1) * sizeof *v)) == NULL)
		return NULL;
	js->v = v;
	memset(&v[js->n], 0, sizeof v[0]);
	return &v[js->n++];
}

/* Free a filler's scratch and return rc; on failure js is emptied, never left half. */
int
pjobs_end(struct spool_pjobs *js, void *scratch, int rc)
{
	free(scratch);
	if (rc < 0)
		spool_pjobs_free(js);
	return rc;
}

int
spool_pjobs_read(struct spool *sp, const char *id, struct spool_pjobs *js,
    struct spool_err *err)
{
	char path[SPOOL_ID_MAX + 8], *buf, *line, *next, queue[SPOOL_NAME_MAX + 1];
	struct spool_pjob *j;
	size_t len;
	int n, lineno = 0, rc = -1;

	memset(js, 0, sizeof *js);
	fmt(path, sizeof path, "%s/%s", id, JOBS_FILE);
	if (read_file(spool_dirfd(sp, SPOOL_DIR_ORDERS), path, JOBS_FILE_MAX, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, "%s: orders/%s: %s", id, path, strerror(errno));
	}
	for (line = buf; line < buf + len; line = next) {
		next = memchr(line, '\n', (size_t)(buf + len - line));
		if (next == NULL) {
			failerr(err, EINVAL, "%s: orders/%s: line %d: no line end", id, path, lineno + 1);
			goto out;
		}
		*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			if (sscanf(line, "visit %d%n", &js->visit, &n) != 1 || line[n] != '\0' ||
			    js->visit < 0) {
				failerr(err, EINVAL, "%s: orders/%s: line 1: expected 'visit N'", id, path);
				goto out;
			}
			continue;
		}
		if ((j = pjob_add(js)) == NULL) {
			seterr(err, "%s: orders/%s: %s", id, path, strerror(errno));
			goto out;
		}
		n = 0;
		if (sscanf(line, "%64s %32s %64s %d %47s%n", j->name, queue, j->item, &j->status,
		    j->seen, &n) != 5 || line[n] != '\0' || !spool_id_ok(j->name) || !spool_id_ok(j->item) ||
		    (j->status != 0 && spool_job_status_name(j->status) == NULL)) {
			failerr(err, EINVAL, "%s: orders/%s: line %d: bad job", id, path, lineno);
			goto out;
		}
		for (j->queue = sp->conf->nqueues - 1; j->queue >= 0; j->queue--)
			if (strcmp(sp->conf->queues[j->queue].name, queue) == 0)
				break;
	}
	rc = 0;
out:
	return pjobs_end(js, buf, rc);
}

int
spool_pjobs_write(struct spool *sp, const char *id, const struct spool_pjobs *js, int flags)
{
	const struct spool_pub pub = { .flags = flags & SPOOL_NOSYNC ? SPOOL_PUB_NOSYNC : 0 };
	char *buf;
	size_t cap = 32 + (size_t)js->n * (SPOOL_JOBNAME_MAX + SPOOL_NAME_MAX + SPOOL_ID_MAX + 64);
	size_t len;
	int i, dfd, r;

	if ((buf = malloc(cap)) == NULL)
		return -1;
	len = (size_t)snprintf(buf, cap, "visit %d\n", js->visit);
	for (i = 0; i < js->n; i++) {
		const struct spool_pjob *j = &js->v[i];
		len += (size_t)snprintf(buf + len, cap - len, "%s %s %s %d %s\n", j->name,
		    j->queue >= 0 ? sp->conf->queues[j->queue].name : "-", j->item, j->status,
		    j->seen[0] != '\0' ? j->seen : "-");
	}
	if ((dfd = open_payload(sp, id)) < 0) {
		free(buf);
		return -1;
	}
	r = spool_publish(dfd, JOBS_FILE, spool_dirfd(sp, SPOOL_DIR_TMP), buf, len, &pub);
	close_keep(dfd);
	free(buf);
	return r;
}

/* ---- hot folders ----------------------------------------------------------- */

/*
 * Open a queue's hot folder (info: its InfoBaseFolder).  A relative one is made in
 * the spool when create is set; an absolute one (a share's folder) must exist.
 */
int
open_hot(struct spool *sp, const struct spool_queue *q, int info, int create,
    struct spool_err *err)
{
	const char *path = info ? q->info : q->path;
	char part[1100];
	const char *p;
	int fd;

	if (create && path[0] != '/') {
		for (p = strchr(path, '/'); ; p = strchr(p + 1, '/')) {
			size_t n = p != NULL ? (size_t)(p - path) : strlen(path);
			memcpy(part, path, n);
			part[n] = '\0';
			if (spool_mkdir(spool_dirfd(sp, SPOOL_DIR_ROOT), part, SPOOL_DIR_MODE) < 0)
				return seterr(err, "queue %s: cannot make %s: %s", q->name, part,
				    strerror(errno));
			if (p == NULL)
				break;
		}
	}
	fd = openat(spool_dirfd(sp, SPOOL_DIR_ROOT), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return seterr(err, "queue %s: cannot open %s: %s", q->name, path, strerror(errno));
	return fd;
}

int
spool_pjob_dir(struct spool *sp, const struct spool_pjob *j, int info, char *buf, size_t len)
{
	const struct spool_queue *q;
	const char *base;

	if (j->queue < 0) {
		errno = ENOENT;
		return -1;
	}
	q = &sp->conf->queues[j->queue];
	base = info ? q->info : q->path;
	if (base == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (base[0] == '/')
		return fmt(buf, len, "%s/%s", base, j->name);
	return fmt(buf, len, "%s/%s/%s", sp->path, base, j->name);
}

int
spool_pjob_ticket(struct spool *sp, const struct spool_pjob *j, char *buf, size_t len)
{
	const struct spool_queue *q;

	if (j->queue < 0) {
		errno = ENOENT;
		return -1;
	}
	q = &sp->conf->queues[j->queue];
	if (q->info != NULL)
		return spool_pjob_dir(sp, j, 1, buf, len);
	if (q->format == SPOOL_FORMAT_JDF) {
		errno = ENOENT;
		return -1;
	}
	return spool_pjob_dir(sp, j, 0, buf, len);
}

/* Remove at/name/file for every file whose name ends in sfx but invoice.pdf, which stays. */
static int
remove_files(int at, const char *name, const char *sfx, int *count)
{
	struct dirent *de;
	size_t n, m = strlen(sfx);
	DIR *d;
	int r = 0;

	if ((d = dir_open(at, name)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = dir_next(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < m || strcmp(de->d_name + n - m, sfx) != 0 || strcmp(de->d_name, "invoice.pdf") == 0)
			continue;
		if (spool_sys.unlinkat(dirfd(d), de->d_name, 0) < 0) {
			if (errno != ENOENT)
				r = -1;
		} else
			++*count;
	}
	if (*count > 0)
		spool_fsync_dir(dirfd(d));
	closedir(d);
	return r;
}

int
spool_pjob_remove(struct spool *sp, const struct spool_pjob *j, int pdfs_only, int *count,
    struct spool_err *err)
{
	const struct spool_queue *q;
	char stage[SPOOL_JOBNAME_MAX + 8];
	int fd, info, r = 0;

	if (j->queue < 0)
		return 0;
	q = &sp->conf->queues[j->queue];
	fmt(stage, sizeof stage, ".%s.tmp", j->name);
	for (info = 0; info < 2; info++) {
		if (info && (q->info == NULL || pdfs_only))
			break;
		/* a hot folder that is not there holds nothing to remove: it is not made */
		if ((fd = open_hot(sp, q, info, 0, err)) < 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		spool_rmtree(fd, stage);
		if (pdfs_only) {
			if (remove_files(fd, j->name, ".pdf", count) < 0)
				r = seterr(err, "%s: cannot remove its PDFs: %s", j->name, strerror(errno));
		} else if (faccessat(fd, j->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			if (spool_rmtree(fd, j->name) < 0)
				r = seterr(err, "%s: cannot remove it: %s", j->name, strerror(errno));
			else {
				++*count;
				spool_fsync_dir(fd);
			}
		}
		close(fd);
	}
	return r;
}

int
spool_pjob_stop(struct spool *sp, const struct spool_pjob *j, const char *why,
    struct spool_err *err)
{
	struct spool_jobxml_refusal r = { .restore = SPOOL_JOB_CANCELLED, .note = why };
	struct spool_jobxml cur;
	char dir[4200];
	int fd, tries, rc = -1;

	if (spool_pjob_ticket(sp, j, dir, sizeof dir) < 0)
		return failerr(err, ENOENT, "%s: no job.xml to tell the printer through", j->name);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return seterr(err, "%s: %s", dir, strerror(errno));
	/* the printer may be saving it right now: read, set, and again if it changed */
	for (tries = 0; tries < 5; tries++) {
		if (spool_jobxml_read(fd, "job.xml", &cur, err) < 0) {
			if (errno == EAGAIN && tries < 4) {
				usleep(200000);
				continue;
			}
			break;
		}
		r.refused = cur.status;
		if ((rc = spool_jobxml_refuse(fd, "job.xml", -1, &r, err)) == 0 || errno != EAGAIN)
			break;
	}
	close(fd);
	return rc;
}

time_t
spool_queue_opens(const struct spool_queue *q, time_t now)
{
	struct tm tm;
	int since;

	if (q->window < 0 || localtime_r(&now, &tm) == NULL)
		return now;
	/* minutes since the window last opened (today, or yesterday) */
	since = (tm.tm_hour * 60 + tm.tm_min - q->window + 1440) % 1440;
	if (since < q->window_len)
		return now;
	return now - tm.tm_sec + (time_t)(1440 - since) * 60;
}

int
spool_order_purge(struct spool *sp, const char *id, const char *item, int what, int *uploads,
    int *prints, struct spool_err *err)
{
	struct spool_pjobs js;
	struct dirent *de;
	DIR *d;
	int ofd, r = 0, i;

	*uploads = *prints = 0;
	if ((ofd = open_payload(sp, id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
	/* upload.xml and order.xml stay: the order's data, and what a reorder copies */
	if ((d = dir_open(ofd, "items")) != NULL) {
		while ((de = dir_next(d)) != NULL) {
			if (!spool_id_ok(de->d_name) || (item != NULL && strcmp(item, de->d_name) != 0))
				continue;
			if ((what & SPOOL_PURGE_UPLOADS) &&
			    remove_files(dirfd(d), de->d_name, ".pdf", uploads) < 0)
				r = seterr(err, "%s: item %s: %s", id, de->d_name, strerror(errno));
			if (what & SPOOL_PURGE_PRINTS) {
				char chunks[SPOOL_ID_MAX + sizeof SPOOL_CHUNKS_DIR + 2];
				fmt(chunks, sizeof chunks, "%s/" SPOOL_CHUNKS_DIR, de->d_name);
				if (remove_files(dirfd(d), chunks, ".pdf", prints) < 0)
					r = seterr(err, "%s: item %s: %s", id, de->d_name, strerror(errno));
			}
		}
		closedir(d);
	} else if (errno != ENOENT)
		r = seterr(err, "%s: orders/%s/items: %s", id, id, strerror(errno));
	close_keep(ofd);
	if (!(what & SPOOL_PURGE_PRINTS))
		return r;
	if (spool_pjobs_read(sp, id, &js, err) < 0)
		return -1;
	for (i = 0; i < js.n; i++)
		if ((item == NULL || strcmp(item, js.v[i].item) == 0) &&
		    spool_pjob_remove(sp, &js.v[i], 1, prints, err) < 0)
			r = -1;
	spool_pjobs_free(&js);
	return r;
}

int
spool_item_remove(struct spool *sp, const char *id, const char *item, unsigned actor,
    const char *who, struct spool_err *err)
{
	struct spool_pjobs js;
	struct spool_event ev;
	struct spool_err e;
	int state, up = 0, pr = 0, jobs = 0, i, r;

	if (!spool_id_ok(id) || !spool_id_ok(item))
		return failerr(err, EINVAL, "'%.80s' or '%.80s' is not an id", id, item);
	if (spool_locate(sp, id, &state) != 1)
		return failerr(err, ENOENT, "%s: no such order", id);
	if (sp->conf->states[state].locked && actor != SPOOL_ACTOR_SYSTEM)
		return failerr(err, EBUSY, "%s: locked while in %s", id, sp->conf->states[state].name);
	r = spool_order_purge(sp, id, item, SPOOL_PURGE_UPLOADS | SPOOL_PURGE_PRINTS, &up, &pr, &e);
	/* its jobs leave the hot folders whole, and no longer count for the order */
	if (spool_pjobs_read(sp, id, &js, err) < 0)
		return -1;
	for (i = 0; i < js.n; i++)
		if (strcmp(js.v[i].item, item) == 0) {
			if (spool_pjob_remove(sp, &js.v[i], 0, &jobs, &e) < 0)
				r = -1;
			js.v[i].status = SPOOL_JOB_CANCELLED;
		}
	if (js.n > 0 && spool_pjobs_write(sp, id, &js, 0) < 0) {
		seterr(&e, "cannot write %s: %s", SPOOL_NAME(SPOOL_F_JOBS, id), strerror(errno));
		r = -1;
	}
	spool_pjobs_free(&js);
	memset(&ev, 0, sizeof ev);
	ev.time = spool_sys.time(NULL);
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.actor, sizeof ev.actor, "%s", who != NULL ? who : "-");
	snprintf(ev.from, sizeof ev.from, "%s", sp->conf->states[state].name);
	snprintf(ev.to, sizeof ev.to, "%s", sp->conf->states[state].name);
	snprintf(ev.comment, sizeof ev.comment, "item %s removed with its PDFs: %d upload PDF(s), "
	    "%d print PDF(s), %d job folder(s)%s%s", item, up, pr, jobs, r < 0 ? "; " : "",
	    r < 0 ? e.msg : "");
	if (spool_history_add(sp, &ev, 0) < 0)
		return seterr(err, "%s: cannot write its history: %s", id, strerror(errno));
	if (r < 0)
		return seterr(err, "%s: item %s: %s", id, item, e.msg);
	return 0;
}

int
spool_order_unpublish(struct spool *sp, const char *id, int *count)
{
	struct spool_pjobs js;
	int i, r = 0;

	*count = 0;
	if (spool_pjobs_read(sp, id, &js, NULL) < 0)
		return -1;
	for (i = 0; i < js.n; i++)
		if (spool_pjob_remove(sp, &js.v[i], 0, count, NULL) < 0)
			r = -1;
	spool_pjobs_free(&js);
	return r;
}
