/*
 * Publishing a print job into its queue's hot folder (spoold's, in a child): which
 * jobs an order's items make, and each job staged whole, with its PDFs, invoice,
 * upload.xml and ticket, then renamed into place.  Apart from print.c, which the
 * other programs use, because this part needs the invoice's renderer (cairo, Pango)
 * and the stitcher's reader of uploads (libqpdf): spoolctl, which never publishes,
 * links neither and starts in a few milliseconds.  See print.c for the hot folders.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/internal.h"

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

/* ---- staging and committing a job ------------------------------------------ */

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

