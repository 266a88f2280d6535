/*
 * libspool: an order's print jobs: planning, publishing, withdrawing.  Included by
 * spool.h; see there for the error contract.
 */
#ifndef SPOOL_PRINT_PRINT_H
#define SPOOL_PRINT_PRINT_H

#include "../core/base.h"
#include "../core/conf.h"
#include "jobxml.h"

/* ---- an order's print jobs ---------------------------------------------- */

/*
 * The publish action puts each item's chunk PDFs into the hot folders of the queues
 * their kinds are routed to (spool_queue_route): one job per item and queue, a folder
 * named "<order>-<item>-<queue>" holding the PDFs "<order>-<item>-<kind>.pdf" and
 * either job.xml (with invoice.pdf and a copy of upload.xml, in the InfoBaseFolder
 * when the queue has one) or, for format = jdf, one JDF ticket per PDF.  Each job
 * appears whole (staged as ".<name>.tmp", then renamed).  orders/<id>/jobs records
 * them: a line "visit N" (the visit that planned them: spool_status.visits), then one line
 * per job, "NAME QUEUE ITEM STATUS SEEN", STATUS 0 until it is published, then the
 * OrderStatus that spool last published or accepted from its printer; SEEN tells
 * spoold whether job.xml changed since it last read it.  lib/print/print.c.
 */
#define SPOOL_PJOBS_MAX 4096
#define SPOOL_JOBNAME_MAX SPOOL_ID_MAX   /* a job's folder name is an id */

struct spool_pjob {
	char name[SPOOL_JOBNAME_MAX + 1];
	char item[SPOOL_ID_MAX + 1];
	int queue;          /* index into conf->queues; -1: the queue left spool.conf */
	int status;         /* 0: not published yet; else its OrderStatus */
	char seen[48];      /* job.xml as last read ("MTIME.NSEC.SIZE"), or "-" */
};

struct spool_pjobs {
	int visit;                    /* spool_status.visits of the visit that planned them */
	struct spool_pjob *v;
	int n;
};

/* Read orders/<id>/jobs; a missing file gives none (n = 0) and returns 0. */
int spool_pjobs_read(struct spool *sp, const char *id, struct spool_pjobs *js,
    struct spool_err *err);
/* Publish orders/<id>/jobs; flags 0 or SPOOL_NOSYNC. */
int spool_pjobs_write(struct spool *sp, const char *id, const struct spool_pjobs *js,
    int flags);
void spool_pjobs_free(struct spool_pjobs *js);
/* The jobs an order's items make (all with status 0), from their chunks and the queues. */
int spool_pjobs_plan(struct spool *sp, const char *id, int visit, struct spool_pjobs *js,
    struct spool_err *err);
/* Publish one job whole.  A job already in its hot folder (a crash after the rename) is
 * left as it is and counts as published. */
int spool_pjob_publish(struct spool *sp, const char *id, const struct spool_pjob *j,
    struct spool_err *err);
/* The path of a job's folder in its hot folder (info: in its InfoBaseFolder). */
int spool_pjob_dir(struct spool *sp, const struct spool_pjob *j, int info, char *buf,
    size_t len);
/* The path of the folder that holds the job's job.xml; -1/ENOENT if it has none. */
int spool_pjob_ticket(struct spool *sp, const struct spool_pjob *j, char *buf, size_t len);
/* Remove a job's PDFs (pdfs_only), or its folders; *count gets what went. */
int spool_pjob_remove(struct spool *sp, const struct spool_pjob *j, int pdfs_only, int *count,
    struct spool_err *err);
enum { SPOOL_PURGE_UPLOADS = 1, SPOOL_PURGE_PRINTS = 2 };
/*
 * Delete an order's PDFs: the uploaded pages (the PDF files in items/<item>/), and/or the print
 * PDFs (the chunks, and the PDFs of its jobs in the hot folders); of one item, or
 * of all when item is NULL.  order.xml, the upload.xml files, the invoice and the job
 * tickets stay.  Counts what went.
 */
int spool_order_purge(struct spool *sp, const char *id, const char *item, int what,
    int *uploads, int *prints, struct spool_err *err);
/*
 * Remove an item's PDFs everywhere (uploads, chunks) and take its jobs out of the hot
 * folders; the jobs no longer count for the order (Cancelled in orders/<id>/jobs).
 * order.xml keeps the item.  One history line says what went.
 */
int spool_item_remove(struct spool *sp, const char *id, const char *item, unsigned actor,
    const char *who, struct spool_err *err);
/* Take all of an order's jobs out of the hot folders (spool_remove does). */
int spool_order_unpublish(struct spool *sp, const char *id, int *count);
/* When queue q takes jobs: now if it has no window or its window is open, else the
 * window's next opening. */
time_t spool_queue_opens(const struct spool_queue *q, time_t now);
/* Tell the printer to stop: OrderStatus Cancelled (7) with why as its message. */
int spool_pjob_stop(struct spool *sp, const struct spool_pjob *j, const char *why,
    struct spool_err *err);

#endif
