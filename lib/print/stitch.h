/*
 * libspool: stitching uploaded pages into printable chunks.  Included by spool.h; see
 * there for the error contract.
 */
#ifndef SPOOL_PRINT_STITCH_H
#define SPOOL_PRINT_STITCH_H

#include "../core/base.h"
#include "../bundle/bundle.h"

/* ---- stitching ------------------------------------------------------------ */

/*
 * The page PDFs of an item's upload are stitched with libqpdf into one chunk PDF
 * for each <chunk> of the product in its upload.xml:
 * orders/<id>/items/<item>/chunks/<kind>.pdf, published whole through tmp/.  The
 * same pages give the same bytes.  A page file that is missing, a symlink, or that
 * qpdf reads with any error or warning fails the stitch with qpdf's own message;
 * so does a page whose content streams do not decode.  See lib/print/stitch.c.
 */
#define SPOOL_CHUNKS_DIR "chunks"
#define SPOOL_STITCH_PAGES_MAX 10000                /* pages in one chunk */
#define SPOOL_STITCH_BYTES_MAX (2LL * 1024 * 1024 * 1024) /* page files of one chunk */

enum {
	SPOOL_STITCH_ONEPAGE = 1 << 0,  /* every file must hold exactly one page */
};

struct spool_stitch {
	int flags;          /* SPOOL_STITCH_* */
	int max_pages;      /* 0: SPOOL_STITCH_PAGES_MAX */
	long long max_bytes;/* of all input files; 0: SPOOL_STITCH_BYTES_MAX */
	int pages;          /* out: pages written */
	size_t bytes;       /* out: size of the PDF written */
};

/*
 * Stitch the files names[0..n-1], opened beneath dirfd through no symlink, in that
 * order into one PDF and publish it as outdirfd/outname (a temporary file in tmpfd,
 * or a dot-name in outdirfd when tmpfd is -1).  st (may be NULL) sets limits and
 * gets the result.  On error err names the file: "page-003.pdf: <qpdf's message>",
 * and outdirfd/outname is as it was.
 */
int spool_stitch_files(int dirfd, const char *const *names, int n, int outdirfd,
    const char *outname, int tmpfd, struct spool_stitch *st, struct spool_err *err);
/*
 * Stitch every chunk of orders/<id>/items/<item>/ from its upload.xml (which must
 * say complete) into items/<item>/chunks/<kind>.pdf; each page file must be one
 * page.  On error err says "item ITEM: ...", and the item has no chunk files left
 * (a chunk stitched earlier in the call, or by an earlier call, is removed).
 */
int spool_stitch_item(struct spool *sp, const char *id, const char *item,
    struct spool_err *err);
/*
 * The chunks (struct spool_chunk, in bundle.h) of an item's product from its upload.xml,
 * checked as spool_stitch_item does (not the page files); *chunks is malloc'd.
 */
int spool_item_chunks(struct spool *sp, const char *id, const char *item,
    struct spool_chunk **chunks, int *n, struct spool_err *err);

#endif
