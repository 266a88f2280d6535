/*
 * libspool: the invoice of an order that came without one, and the [shop] section of
 * spool.conf that puts the shop on it.  Included by spool.h; see there for the error
 * contract.
 */
#ifndef SPOOL_PRINT_INVOICE_H
#define SPOOL_PRINT_INVOICE_H

#include "../core/base.h"
#include "../bundle/bundle.h"

#define SPOOL_SHOP_LINES_MAX 8

/*
 * The [shop] section (lib/print/shop.c): who sends the invoice.  conf->shop holds it,
 * or is NULL when spool.conf has no [shop].  Strings are NULL when not set.
 */
struct spool_shop {
	char *name;
	char *address[SPOOL_SHOP_LINES_MAX];   /* address = LINE, once per line */
	int naddress;
	char *logo;           /* a PNG file: relative to the spool, or absolute */
	char *footer[SPOOL_SHOP_LINES_MAX];    /* footer = LINE: bank details, thanks */
	int nfooter;
	int line;             /* the line of [shop] */
	unsigned seen;        /* the keys given, while the file is read */
};

/* A logo file: at most this many bytes and pixels each way. */
#define SPOOL_LOGO_BYTES_MAX (8 * 1024 * 1024)
#define SPOOL_LOGO_PIXELS_MAX 4096

/* What to put on an invoice beside the order, and what came of it. */
struct spool_invoice {
	const struct spool_shop *shop;  /* the shop's name, address, logo; NULL: none */
	int rootfd;                     /* a relative logo path is beneath it (the spool) */
	mode_t mode;                    /* of the file; 0: SPOOL_FILE_MODE */
	int pages;                      /* out: pages written */
	size_t bytes;                   /* out: size of the PDF */
	char note[SPOOL_ERR_MAX];       /* out: why the logo is left out, or "" */
};

/*
 * An invoice for an order that came without one, as a PDF made with cairo and Pango
 * and published as dirfd/name: the shop (name, address, logo), the customer's billing
 * and shipping addresses, the order's id and date, a table of the items (product,
 * quantity, unit price, line total) with its header repeated on every page, the
 * subtotal, the tax where the order gives one, and the total, in the order's
 * currency.  Text is laid out by Pango, and fontconfig picks, for each character, a
 * font that has it; the fonts are embedded (subsets).  The same order, shop and fonts
 * give the same bytes.  inv may be NULL.  A logo that cannot be read or is not a PNG
 * leaves the invoice without it, and inv->note says why.  Fails when the order's
 * amounts do not add up (spool_order_amounts), or the PDF cannot be made or published.
 */
int spool_invoice_render(const struct spool_bundle *b, struct spool_invoice *inv, int dirfd,
    const char *name, struct spool_err *err);

#endif
