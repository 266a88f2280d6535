/*
 * libspool: bundles (order.xml, upload.xml) and submitting them.  Included by spool.h;
 * see there for the error contract.
 */
#ifndef SPOOL_BUNDLE_BUNDLE_H
#define SPOOL_BUNDLE_BUNDLE_H

#include "../core/base.h"
#include "../core/order.h"

/* ---- bundles and submission -------------------------------------------- */

struct spool_item {
	char id[SPOOL_ID_MAX + 1];
	char product[SPOOL_FIELD_MAX + 1];
	char product_name[SPOOL_FIELD_MAX + 1];  /* from upload.xml, or "" */
	char title[SPOOL_FIELD_MAX + 1];
	int quantity;
	char price[24];     /* the unit price, as order.xml gives it ("39.90"), or "" */
	int pages;          /* pages listed in its upload.xml, or 0 */
	int complete;       /* its upload is complete (1 when there is no upload) */
	int has_upload;
};

/* One chunk of an item's product, from upload.xml; print/stitch.h makes its PDF. */
struct spool_chunk {
	char kind[SPOOL_NAME_MAX + 1];  /* also its file name: <kind>.pdf */
	int first, last;                /* page numbers of the upload */
};

/* A file of a bundle to copy into orders/<id>/: from memory, or from the bundle. */
struct spool_bfile {
	char path[SPOOL_ID_MAX * 2 + 16];  /* relative: "order.xml", "items/1/p-001.pdf" */
	char *data;                        /* the checked text, or NULL to copy the file */
	size_t len;
};

#define SPOOL_LINES_MAX 8   /* lines of an address */

struct spool_bundle {
	struct spool_order order;
	char phone[SPOOL_FIELD_MAX + 1];
	char billing[SPOOL_LINES_MAX][SPOOL_FIELD_MAX + 1];
	int nbilling;
	char shipping[SPOOL_LINES_MAX][SPOOL_FIELD_MAX + 1];
	int nshipping;
	char invoice[SPOOL_ID_MAX + 1];  /* the order's file of role invoice, or "" */
	char total[24];                  /* <total>, or "" */
	char currency[4];                /* its currency ("EUR"), or "" */
	char tax[24];                    /* <tax>, or "" */
	char tax_rate[16];               /* its rate in percent ("20"), or "" */
	char tax_name[SPOOL_FIELD_MAX + 1]; /* its name ("VAT"), or "" */
	int tax_included;                /* the prices include it */
	int delayed;
	int incomplete;
	struct spool_item *items;
	int nitems;
	char **options;     /* option names set on the order or an item */
	int noptions;
	struct spool_bfile *files;
	int nfiles;
};

/*
 * Read and check a bundle (a directory; see spool-layout(5)) fully: XML well formed,
 * no DOCTYPE, valid against the schemas, ids, no symlinks, every file named and present.
 */
int spool_bundle_read(int dirfd, const char *path, const struct spool_conf *conf,
    struct spool_bundle **b, struct spool_err *err);
/* Same, on a directory that is already open. */
int spool_bundle_readfd(int bfd, const struct spool_conf *conf, struct spool_bundle **b,
    struct spool_err *err);
void spool_bundle_free(struct spool_bundle *b);
/* Parse an order.xml or upload.xml from memory (for tests and fuzzing). */
int spool_xml_check(const char *what, const char *buf, size_t len, struct spool_err *err);
/*
 * The items of a stored order, from orders/<id>/order.xml and its upload.xml files;
 * *items is malloc'd (free it).
 */
int spool_items_read(struct spool *sp, const char *id, struct spool_item **items, int *n,
    struct spool_err *err);
/*
 * A stored order as its bundle said: order.xml and the items' upload.xml files (no
 * files list).  Free it with spool_bundle_free.
 */
int spool_order_load(struct spool *sp, const char *id, struct spool_bundle **b,
    struct spool_err *err);
/* ---- amounts ------------------------------------------------------------ */

/*
 * An amount of order.xml (a decimal at least 0 with at most two decimal places:
 * "39.90", "5", "0.5") in cents, with no floating point; -1 when s is not one or is
 * over SPOOL_MONEY_MAX.
 */
#define SPOOL_MONEY_MAX 99999999999999LL   /* 999999999999.99 */
int spool_money_parse(const char *s, long long *cents);
/* cents as "1234.50", into buf; returns buf. */
const char *spool_money_fmt(long long cents, char *buf, size_t len);
/* An item's line total, quantity x its unit price, in cents; -1 without a price. */
long long spool_item_amount(const struct spool_item *it);

/* What an order costs, in cents (see lib/bundle/money.c). */
struct spool_amounts {
	int priced;          /* every item has a price */
	long long subtotal;  /* the sum of the line totals of the items with a price */
	long long tax;       /* <tax>, or -1 */
	long long total;     /* <total>; when every item is priced and there is none, the
	                        lines plus the tax (unless included); otherwise -1 */
};
/*
 * The amounts of b.  -1 when one is not an amount or the sums pass SPOOL_MONEY_MAX, or
 * when every item has a price and <total> is not the sum of the lines plus the tax
 * (the tax included in the prices: the sum of the lines): err says which figures.
 */
int spool_order_amounts(const struct spool_bundle *b, struct spool_amounts *a,
    struct spool_err *err);

/* The state a new order enters, from the workflow's entry rules. */
int spool_entry_state(const struct spool_conf *conf, const struct spool_bundle *b);

/*
 * Submit a bundle (dirfd/bundle; AT_FDCWD for a path): check it, stage its files
 * under tmp/, and make the order appear in its entry state with one rename.  id
 * overrides the bundle's id when not NULL.
 * The id of the new order is copied into out_id (SPOOL_ID_MAX + 1 bytes).
 */
int spool_submit(struct spool *sp, int dirfd, const char *bundle, const char *id,
    const char *who, char *out_id, int *out_state, struct spool_err *err);

/* One submission of a batch: what it asks, and what became of it. */
struct spool_subreq {
	int dirfd;                      /* with bundle, the bundle's folder (AT_FDCWD: a path) */
	const char *bundle;
	const char *name;               /* the bundle, as messages call it (NULL: bundle) */
	const char *id;                 /* replaces the bundle's id, or NULL */
	const char *who;                /* for the history's first line */
	char id_out[SPOOL_ID_MAX + 1];  /* the order's id, once known */
	int state;                      /* the state it entered */
	int rc;                         /* 0 submitted; -1 not, errnum and err say why */
	int errnum;
	struct spool_err err;
};

/*
 * Submit n bundles as spool_submit would each, but in steps taken by all of them
 * together, so that one sync serves the batch where each submit makes its own.  Each
 * request says how it ended; returns how many were submitted.  A submission is
 * durable when this returns.
 */
int spool_submit_many(struct spool *sp, struct spool_subreq *r, int n);

/*
 * Reorder: copy an order into a new one, "<id>-r<nth>" (or, when nth is 0, the first
 * free "<id>-rN"; the id is copied into newid, SPOOL_ID_MAX + 1 bytes), submitted
 * through the entry rules with its payment delayed, placed now and without the
 * invoice.  The uploads are hard links (they are never written again, so sharing
 * them is safe); chunks are not copied, the copy stitches its own.  An order of that
 * id that exists already gives EEXIST: a copy made before a crash.
 */
int spool_order_copy(struct spool *sp, const char *id, const char *who, int nth, char *newid,
    int *out_state, struct spool_err *err);

#endif
