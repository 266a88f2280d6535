/*
 * libspool: the [queue NAME] sections of spool.conf, the printers' hot folders, which
 * print production reads through the core's section table.  Included by spool.h; see
 * there for the error contract.
 */
#ifndef SPOOL_PRINT_QUEUE_H
#define SPOOL_PRINT_QUEUE_H

#include "../core/base.h"
#include "../core/conf.h"

enum spool_job_format { SPOOL_FORMAT_JOB, SPOOL_FORMAT_JDF };

/*
 * A [queue NAME] section: a print queue (document 002's oc_3p_queue), which is a hot
 * folder that a printer or a RIP reads.  conf->queues holds them.
 */
struct spool_queue {
	char name[SPOOL_NAME_MAX + 1];
	char *path;           /* the hot folder: relative to the spool, or absolute */
	char **chunks;        /* the chunk kinds routed here; "*": every kind no other
	                         queue names */
	int nchunks;
	enum spool_job_format format;
	int window;           /* minute of the day (local time) its batch is delivered, or -1 */
	int window_len;       /* minutes the window stays open */
	char *info;           /* InfoBaseFolder: job.xml, invoice.pdf and upload.xml go
	                         there, not beside the PDFs; NULL: beside them */
	int line;
	unsigned seen;        /* the keys given, while the file is read */
};

/* A product's sides: how its sheets are printed (spool.conf's sides key). */
enum spool_sides {
	SPOOL_SIDES_UNSET,      /* not said: the RIP decides */
	SPOOL_SIDES_ONE,        /* one-sided */
	SPOOL_SIDES_LONG,       /* two-sided-long-edge: the back turns on the long edge */
	SPOOL_SIDES_SHORT,      /* two-sided-short-edge */
};

/*
 * A [product NAME] section: the media a product (an order.xml item's product
 * attribute, NAME) is printed on, which JDF tickets carry to the RIP.
 * conf->products holds them; a value not given is 0, NULL or SPOOL_SIDES_UNSET.
 */
struct spool_product {
	char *name;
	double width, height; /* media_size in millimetres */
	int weight;           /* media_weight in g/m2 */
	char *type;           /* media_type: a JDF MediaType, such as Paper */
	enum spool_sides sides;
	int line;
	unsigned seen;
};

/* The [product NAME] section of product, or NULL. */
const struct spool_product *spool_product_find(const struct spool_conf *conf,
    const char *product);

/* The queue a chunk kind is routed to, or -1. */
int spool_queue_route(const struct spool_conf *conf, const char *kind);

#endif
