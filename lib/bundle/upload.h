/*
 * libspool's one reader of upload.xml, an item's upload: bundle.c reads a bundle's
 * with it, print/stitch.c a stored order's.  Internal (not installed): its callers
 * read the file their own way and add their own checks of the page files.
 */
#ifndef SPOOL_BUNDLE_UPLOAD_H
#define SPOOL_BUNDLE_UPLOAD_H

#include <stddef.h>

#include "bundle.h"

#define UPLOAD_MAX (1024 * 1024)  /* bytes of an upload.xml */
#define UPLOAD_PAGES_MAX 10000    /* upload.xsd's PageNumber */

enum {
	/*
	 * To be stitched: the upload must be complete, every page of a chunk listed, and
	 * no two chunks of one kind (they would be written to one file).
	 */
	UPLOAD_PRINT = 1 << 0,
};

/* What an upload.xml says; upload_free frees it. */
struct upload {
	int pages;                               /* 1..UPLOAD_PAGES_MAX */
	int complete;
	char product_name[SPOOL_FIELD_MAX + 1];  /* or "" */
	struct spool_chunk *chunks;              /* the product's, in the file's order */
	int nchunks;
	char (*files)[SPOOL_ID_MAX + 1];         /* files[n] (1..pages): page n's, or "" */
};

/*
 * Check the text buf of an upload.xml whole (xml.c: no network, no DTD, no entities,
 * no DOCTYPE, valid against schemas/upload.xsd), then take its facts into *u and
 * check them: it is the upload of item, and of order (unless NULL); every chunk kind
 * is a name and its pages within 1-pages; every page number within 1-pages and every
 * page file a plain name in the item's folder; a complete upload lists every page;
 * flags (UPLOAD_*) add checks.  Errors (EINVAL, ENOMEM) begin with name, as
 * "items/1/upload.xml:3: page 5 is outside 1-4".  On error *u holds nothing.
 */
int upload_parse(const char *buf, size_t len, const char *name, const char *item,
    const char *order, int flags, struct upload *u, struct spool_err *err);
void upload_free(struct upload *u);

#endif
