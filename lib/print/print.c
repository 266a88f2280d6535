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
#define JOB_FILE_MODE 0640     /* what the printer reads but never writes */

void
spool_pjobs_free(struct spool_pjobs *js)
{
	free(js->v);
	js->v = NULL;
	js->n = 0;
}

static struct spool_pjob *
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
static int
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

int
spool_pjobs_plan(struct spool *sp, const char *id, int visit, struct spool_pjobs *js,
    struct spool_err *err)
{
	const struct spool_conf *c = sp->conf;
	struct spool_item *items = NULL;
	struct spool_chunk *chunks;
	struct spool_pjob *j;
	int n, nc, i, k, q, have, rc = -1;

	memset(js, 0, sizeof *js);
	js->visit = visit;
	if (spool_items_read(sp, id, &items, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!items[i].has_upload)
			continue;
		if (spool_item_chunks(sp, id, items[i].id, &chunks, &nc, err) < 0)
			goto out;
		/* one job per queue the item's chunks go to, in the order of the queues */
		for (q = 0; q < c->nqueues; q++) {
			for (have = 0, k = 0; k < nc && !have; k++)
				have = spool_queue_route(c, chunks[k].kind) == q;
			if (!have)
				continue;
			if ((j = pjob_add(js)) == NULL) {
				free(chunks);
				seterr(err, "%s: too many print jobs: %s", id, strerror(errno));
				goto out;
			}
			if (fmt(j->name, sizeof j->name, "%s-%s-%s", id, items[i].id,
			    c->queues[q].name) < 0 || !spool_id_ok(j->name)) {
				free(chunks);
				failerr(err, ENAMETOOLONG, "%s: item %s: the job's name %s-%s-%s is too "
				    "long for a folder name (%d characters)", id, items[i].id, id,
				    items[i].id, c->queues[q].name, SPOOL_ID_MAX);
				goto out;
			}
			snprintf(j->item, sizeof j->item, "%s", items[i].id);
			snprintf(j->seen, sizeof j->seen, "-");
			j->queue = q;
		}
		for (k = 0; k < nc; k++)
			if (spool_queue_route(c, chunks[k].kind) < 0) {
				failerr(err, EINVAL, "%s: item %s: no [queue] takes chunks of kind '%s'",
				    id, items[i].id, chunks[k].kind);
				free(chunks);
				goto out;
			}
		free(chunks);
	}
	rc = 0;
out:
	return pjobs_end(js, items, rc);
}

/* ---- hot folders ----------------------------------------------------------- */

/*
 * Open a queue's hot folder (info: its InfoBaseFolder).  A relative one is made in
 * the spool when create is set; an absolute one (a share's folder) must exist.
 */
static int
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

/* Copy orders/<id>/<path> into dirfd/name, whole and fsynced. */
static int
copy_in(int ofd, const char *path, int dirfd, const char *name, struct spool_err *err)
{
	const struct spool_pub pub = { .flags = SPOOL_PUB_NOSYNCDIR, .mode = JOB_FILE_MODE };
	int src, r;

	if ((src = spool_sys.openat_beneath(ofd, path, O_RDONLY, 0)) < 0)
		return seterr(err, "%s: %s", path, strerror(errno));
	r = spool_publish_fd(dirfd, name, -1, src, &pub);
	close_keep(src);
	if (r < 0)
		return seterr(err, "%s: cannot copy to %s: %s", path, name, strerror(errno));
	return 0;
}

/* Rename the staged folder into place (EEXIST: it is there already) and sync. */
static int
commit(int hotfd, const char *stage, const char *name, struct spool_err *err)
{
	int fd;

	if ((fd = openat(hotfd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    spool_fsync_dir(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return seterr(err, "%s: %s", stage, strerror(errno));
	}
	close(fd);
	if (rename_noreplace(hotfd, stage, hotfd, name) < 0) {
		if (errno == EEXIST) {
			spool_rmtree(hotfd, stage);
			return 0;
		}
		return seterr(err, "%s: cannot rename it into place: %s", name, strerror(errno));
	}
	if (spool_fsync_dir(hotfd) < 0)
		return seterr(err, "%s: %s", name, strerror(errno));
	return 0;
}

/* A fresh staging folder ".<name>.tmp" in hotfd. */
static int
stage_dir(int hotfd, const char *stage, struct spool_err *err)
{
	int fd;

	if (spool_rmtree(hotfd, stage) < 0 || mkdir_own(hotfd, stage, SPOOL_DIR_MODE) < 0 ||
	    (fd = spool_sys.openat_beneath(hotfd, stage, O_RDONLY | O_DIRECTORY, 0)) < 0)
		return seterr(err, "cannot stage %s: %s", stage, strerror(errno));
	return fd;
}

/* A job on its way into the hot folders: what it is made of, and what it holds open. */
struct hotjob {
	struct spool *sp;
	const char *id;
	const struct spool_pjob *pj;
	const struct spool_queue *q;
	struct spool_bundle *b;
	const struct spool_item *it;    /* pj's item in b */
	struct spool_chunk *chunks;     /* the item's chunks, in every queue */
	int nc;
	int ofd;                        /* orders/<id>, which the files are copied from */
	int hotfd, infofd;              /* the queue's hot folder; its InfoBaseFolder, or -1 */
	int pfd, ifd;                   /* the staged folders: the PDFs', the info files' */
	char stage[SPOOL_JOBNAME_MAX + 8];
	char uuid[SPOOL_UUID_LEN + 1];  /* the spool's id, which the JDF tickets hold */
	struct spool_job job;           /* the ticket: it points into the arrays below */
	struct spool_job_chunk jc[SPOOL_JOB_CHUNKS_MAX];
	char files[SPOOL_JOB_CHUNKS_MAX][SPOOL_ID_MAX + 1];
	const char *billing[SPOOL_LINES_MAX], *shipping[SPOOL_LINES_MAX];
};

/* Whether the job stands in the hot folder(s) already; half a job is taken away. */
static int
published(int hotfd, int infofd, const char *name)
{
	struct stat st;

	/* published before a crash cut the record short: it stands */
	if (fstatat(hotfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (infofd < 0 || fstatat(infofd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	/* half a job: its job.xml never appeared, so no printer has it */
	spool_rmtree(hotfd, name);
	return 0;
}

/* Read the order and the item's chunks, and open the order's folder to copy from. */
static int
hotjob_load(struct hotjob *h, struct spool_err *err)
{
	const struct spool_pjob *pj = h->pj;
	int i;

	if (spool_order_load(h->sp, h->id, &h->b, err) < 0 ||
	    spool_item_chunks(h->sp, h->id, pj->item, &h->chunks, &h->nc, err) < 0)
		return -1;
	/* the order's id in spool, which a submit may have given it over the bundle's */
	snprintf(h->b->order.id, sizeof h->b->order.id, "%s", h->id);
	for (i = 0; i < h->b->nitems; i++)
		if (strcmp(h->b->items[i].id, pj->item) == 0)
			h->it = &h->b->items[i];
	if (h->it == NULL)
		return failerr(err, ENOENT, "%s: job %s: no item %s in order.xml", h->id, pj->name,
		    pj->item);
	if ((h->ofd = open_payload(h->sp, h->id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", h->id, h->id, strerror(errno));
	return 0;
}

/* The item's chunks that go to the job's queue, and the names their PDFs take. */
static int
hotjob_chunks(struct hotjob *h, struct spool_err *err)
{
	const struct spool_chunk *c;
	int i, k;

	for (i = 0, k = 0; i < h->nc; i++) {
		c = &h->chunks[i];
		if (spool_queue_route(h->sp->conf, c->kind) != h->pj->queue)
			continue;
		if (k == SPOOL_JOB_CHUNKS_MAX)
			return failerr(err, E2BIG, "%s: job %s: over %d chunks", h->id, h->pj->name,
			    SPOOL_JOB_CHUNKS_MAX);
		if (fmt(h->files[k], sizeof h->files[k], "%s-%s-%s.pdf", h->id, h->pj->item,
		    c->kind) < 0 || !spool_id_ok(h->files[k]))
			fmt(h->files[k], sizeof h->files[k], "%s.pdf", c->kind);
		h->jc[k].file = h->files[k];
		h->jc[k].kind = c->kind;
		h->jc[k].pages = c->last - c->first + 1;
		k++;
	}
	h->job.chunks = h->jc;
	h->job.nchunks = k;
	/* the item's chunks in all queues, this one's and the others' */
	h->job.parts = h->nc;
	return 0;
}

/* The rest of the ticket: the order's and the item's values. */
static void
hotjob_ticket(struct hotjob *h)
{
	const struct spool_bundle *b = h->b;
	const struct spool_item *it = h->it;
	struct spool_job *job = &h->job;
	int i;

	job->order_id = h->id;
	job->item_id = h->pj->item;
	job->placed = b->order.placed;
	job->customer = b->order.customer;
	job->email = b->order.email;
	job->phone = b->phone[0] != '\0' ? b->phone : NULL;
	for (i = 0; i < b->nbilling; i++)
		h->billing[i] = b->billing[i];
	for (i = 0; i < b->nshipping; i++)
		h->shipping[i] = b->shipping[i];
	job->billing = h->billing;
	job->nbilling = b->nbilling;
	job->shipping = h->shipping;
	job->nshipping = b->nshipping;
	job->product = it->product;
	job->product_name = it->product_name[0] != '\0' ? it->product_name : NULL;
	job->title = it->title[0] != '\0' ? it->title : NULL;
	job->quantity = it->quantity;
	job->invoice = "invoice.pdf";
	job->upload = "upload.xml";
	job->status = SPOOL_JOB_QUEUED;
	job->spool_id = h->uuid;
	job->media = spool_product_find(h->sp->conf, it->product);
}

/* Stage the job's folders: the PDFs (and JDF tickets) first, job.xml last. */
static int
hotjob_stage(struct hotjob *h, struct spool_err *err)
{
	const struct spool_pub ticket_pub = { .flags = SPOOL_PUB_NOSYNCDIR, .mode = JOB_FILE_MODE };
	const struct spool_pub job_pub = { .flags = SPOOL_PUB_NOSYNCDIR, .mode = SPOOL_FILE_MODE };
	const struct spool_queue *q = h->q;
	char src[SPOOL_ID_MAX * 2 + 64], ticket[SPOOL_ID_MAX + 8];
	int i;

	if ((h->pfd = stage_dir(h->hotfd, h->stage, err)) < 0)
		return -1;
	for (i = 0; i < h->job.nchunks; i++) {
		fmt(src, sizeof src, "items/%s/" SPOOL_CHUNKS_DIR "/%s.pdf", h->pj->item, h->jc[i].kind);
		if (copy_in(h->ofd, src, h->pfd, h->files[i], err) < 0)
			return -1;
	}
	/* the info files: beside the PDFs, or in the InfoBaseFolder (a JDF queue's always) */
	if (q->info != NULL) {
		if ((h->ifd = stage_dir(h->infofd, h->stage, err)) < 0)
			return -1;
	} else
		h->ifd = h->pfd;
	/* the shop's invoice, or one rendered from the order */
	if (h->b->invoice[0] != '\0' ? copy_in(h->ofd, h->b->invoice, h->ifd, "invoice.pdf", err) < 0 :
	    invoice_render(h->sp, h->b, h->ifd, "invoice.pdf", JOB_FILE_MODE, err) < 0)
		return -1;
	fmt(src, sizeof src, "items/%s/upload.xml", h->pj->item);
	if (copy_in(h->ofd, src, h->ifd, "upload.xml", err) < 0)
		return -1;
	if (q->format == SPOOL_FORMAT_JDF)
		for (i = 0; i < h->job.nchunks; i++) {
			fmt(ticket, sizeof ticket, "%.*s.jdf", (int)strlen(h->files[i]) - 4, h->files[i]);
			if (spool_jdf_write(h->pfd, ticket, -1, &h->job, i, &ticket_pub, err) < 0)
				return -1;
		}
	if ((q->format == SPOOL_FORMAT_JOB || q->info != NULL) &&
	    spool_jobxml_write(h->ifd, "job.xml", -1, &h->job, &job_pub, err) < 0)
		return -1;
	return 0;
}

/* Close what h holds, and return rc; a job that failed leaves no staged folder. */
static int
hotjob_end(struct hotjob *h, int rc)
{
	int saved = errno;

	if (rc < 0) {
		if (h->pfd >= 0)
			spool_rmtree(h->hotfd, h->stage);
		if (h->ifd >= 0 && h->ifd != h->pfd)
			spool_rmtree(h->infofd, h->stage);
	}
	if (h->ifd >= 0 && h->ifd != h->pfd)
		close(h->ifd);
	if (h->pfd >= 0)
		close(h->pfd);
	if (h->infofd >= 0)
		close(h->infofd);
	if (h->hotfd >= 0)
		close(h->hotfd);
	close_keep(h->ofd);
	free(h->chunks);
	spool_bundle_free(h->b);
	errno = saved;
	return rc;
}

int
spool_pjob_publish(struct spool *sp, const char *id, const struct spool_pjob *pj,
    struct spool_err *err)
{
	struct hotjob h;
	int rc = -1;

	if (pj->queue < 0)
		return failerr(err, ENOENT, "%s: job %s: its queue is not in spool.conf", id, pj->name);
	memset(&h, 0, sizeof h);
	h.sp = sp;
	h.id = id;
	h.pj = pj;
	h.q = &sp->conf->queues[pj->queue];
	h.ofd = h.hotfd = h.infofd = h.pfd = h.ifd = -1;
	fmt(h.stage, sizeof h.stage, ".%s.tmp", pj->name);
	if ((h.hotfd = open_hot(sp, h.q, 0, 1, err)) < 0)
		return -1;
	if (h.q->info != NULL && (h.infofd = open_hot(sp, h.q, 1, 1, err)) < 0)
		goto out;
	if (published(h.hotfd, h.infofd, pj->name)) {
		rc = 0;
		goto out;
	}
	if (hotjob_load(&h, err) < 0 || hotjob_chunks(&h, err) < 0 ||
	    spool_uuid(sp, h.uuid, err) < 0)
		goto out;
	hotjob_ticket(&h);
	if (hotjob_stage(&h, err) < 0)
		goto out;
	/* the PDFs' folder, then the one with job.xml: a ticket never names what is not there */
	if (commit(h.hotfd, h.stage, pj->name, err) < 0)
		goto out;
	if (h.q->info != NULL && commit(h.infofd, h.stage, pj->name, err) < 0)
		goto out;
	rc = 0;
out:
	return hotjob_end(&h, rc);
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
