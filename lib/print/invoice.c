/*
 * The invoice of an order that came without one: an A4 PDF drawn with cairo, its text
 * laid out by Pango.
 *
 * Pango shapes each piece of text and asks fontconfig, character by character, for a
 * font that has it (DejaVu Sans first, then a CJK font such as IPAGothic, then
 * whatever the system has), so Latin, Greek, Cyrillic and CJK names print as they are
 * written.  cairo's PDF surface embeds a subset of every font it uses.  Text from the
 * order is set as plain text, never as Pango markup, and a character that could hide
 * or reorder what a person reads (spool_char_unsafe: controls, bidi overrides) prints
 * as U+FFFD.
 *
 * The page: the shop's logo and its name and address (the [shop] section), the title,
 * the billing and shipping addresses, the order's id and date, then the table of items
 * (product, quantity, unit price, line total) and below it the subtotal, the tax and
 * the total.  A long order runs over as many pages as it needs: each page after the
 * first repeats the table's header, no row is split, and every page says "page N of
 * M".  The layout runs twice, once to count the pages and once to draw them, with the
 * same measurements both times.
 *
 * Every amount is in cents (lib/bundle/money.c): a line total is quantity x unit
 * price, the subtotal their sum; an order whose <total> disagrees is refused at submit
 * and is not invoiced here either.
 *
 * The PDF is written into memory and published whole (spool_publish).  Its creation
 * date is the order's, and cairo names font subsets by their content, so the same
 * order, shop and fonts give the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "../core/internal.h"

#define PDF_MAX (256 * 1024 * 1024)   /* the invoice of 1000 items is well below it */

/* A4 in points, and the page's frame */
#define PAGE_W 595.276
#define PAGE_H 841.890
#define LEFT 50.0
#define RIGHT (PAGE_W - 50.0)
#define TOP 48.0
#define FOOT (PAGE_H - 40.0)          /* the footer's top line, unless it is long */
#define BOTTOM (PAGE_H - 28.0)        /* ... and the lowest its lines reach */
#define PAD 4.0                       /* inside a table cell */

/* the table's columns: the right edges of quantity, unit price and amount */
#define QTY_W 70.0
#define COL_QTY (LEFT + 300.0)
#define COL_UNIT (LEFT + 395.0)
#define COL_AMOUNT RIGHT

#define FAMILY "DejaVu Sans, IPAGothic, Noto Sans CJK JP, sans-serif"

enum font { F_BODY, F_BOLD, F_SMALL, F_HEAD, F_TITLE, F_COUNT };
static const char *const font_desc[F_COUNT] = {
	FAMILY " 9", FAMILY " Bold 9", FAMILY " 7.5", FAMILY " Bold 12", FAMILY " Bold 20",
};

enum align { A_LEFT, A_RIGHT, A_CENTER };

/* What the layout runs with: the order, the drawing, and where it is on the page. */
struct inv {
	const struct spool_bundle *b;
	const struct spool_shop *shop;
	struct spool_amounts sum;
	cairo_t *cr;
	PangoContext *pc;
	PangoFontDescription *font[F_COUNT];
	cairo_surface_t *logo;
	int draw;          /* 0: measure only, to count the pages */
	int page, pages;   /* the page being laid out (from 1), and how many there are */
	double y;
	double foot;       /* the footer's top line */
	double row_max;    /* the lowest a row may reach: above the footer */
};

/* ---- text ----------------------------------------------------------------------- */

/*
 * src as text to show: a character that hides or reorders what is read becomes U+FFFD.
 * Returns a malloc'd string, or NULL.
 */
static char *
clean(const char *src)
{
	size_t n = strlen(src), i = 0, k;
	char *out = malloc(n * 3 + 1), *o = out;
	unsigned cp;

	if (out == NULL)
		return NULL;
	while (i < n) {
		k = spool_utf8_char(src + i, n - i, &cp);
		if (k == 0 || spool_char_unsafe(cp)) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i += k > 0 ? k : 1;
			continue;
		}
		memcpy(o, src + i, k);
		o += k;
		i += k;
	}
	*o = '\0';
	return out;
}

/*
 * Lay out s in font f within width w, aligned in the box [x, x + w]; draw it with its
 * top at y (when drawing) in grey g (0: black).  Returns its height.
 */
static double
text(struct inv *v, double x, double y, double w, enum font f, enum align a, double g,
    const char *s)
{
	PangoLayout *l;
	char *t;
	int pw, ph;

	if (s == NULL || *s == '\0' || (t = clean(s)) == NULL)
		return 0;
	l = pango_layout_new(v->pc);
	pango_layout_set_font_description(l, v->font[f]);
	pango_layout_set_width(l, (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, a == A_RIGHT ? PANGO_ALIGN_RIGHT :
	    a == A_CENTER ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
	pango_layout_set_text(l, t, -1);
	free(t);
	pango_layout_get_size(l, &pw, &ph);
	if (v->draw) {
		cairo_set_source_rgb(v->cr, g, g, g);
		cairo_move_to(v->cr, x, y);
		pango_cairo_show_layout(v->cr, l);
	}
	g_object_unref(l);
	return (double)ph / PANGO_SCALE;
}

/* Lines of text, one under the other, from y; returns the height. */
static double
lines(struct inv *v, double x, double y, double w, enum font f, enum align a,
    const char *const *ls, int n)
{
	double h = 0;
	int i;

	for (i = 0; i < n; i++)
		h += text(v, x, y + h, w, f, a, 0, ls[i]);
	return h;
}

static void
rule(struct inv *v, double x0, double x1, double y, double width, double g)
{
	if (!v->draw)
		return;
	cairo_set_source_rgb(v->cr, g, g, g);
	cairo_set_line_width(v->cr, width);
	cairo_move_to(v->cr, x0, y);
	cairo_line_to(v->cr, x1, y);
	cairo_stroke(v->cr);
}

/* A tax rate as the order gives it ("19", "8.810"), shown short: "19%", "8.81%". */
static void
rate_fmt(const char *r, char *buf, size_t len)
{
	size_t n;

	r += strspn(r, " +");
	n = strlen(r);
	while (n > 0 && r[n - 1] == ' ')
		n--;
	if (memchr(r, '.', n) != NULL) {
		while (n > 0 && r[n - 1] == '0')
			n--;
		if (n > 0 && r[n - 1] == '.')
			n--;
	}
	while (n > 1 && r[0] == '0' && r[1] != '.') {
		r++;
		n--;
	}
	snprintf(buf, len, "%.*s%%", (int)n, r);
}

/* ---- the logo ------------------------------------------------------------------- */

struct pngbuf {
	const unsigned char *p;
	size_t len, off;
};

static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int len)
{
	struct pngbuf *pb = closure;

	if (len > pb->len - pb->off)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, pb->p + pb->off, len);
	pb->off += len;
	return CAIRO_STATUS_SUCCESS;
}

static unsigned long
be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* The shop's logo, a PNG, as a cairo surface; NULL with note saying why. */
static cairo_surface_t *
logo_load(const char *path, int rootfd, char *note, size_t len)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	cairo_surface_t *s = NULL;
	struct pngbuf pb;
	struct stat st;
	char *buf = NULL;
	size_t n;
	int fd, r;

	/* the admin's choice, so it may be a symlink; but a regular file */
	if ((fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(note, len, "logo %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(note, len, "logo %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	r = read_fd(fd, (size_t)st.st_size, SPOOL_LOGO_BYTES_MAX, &buf, &n);
	close_keep(fd);
	if (r < 0) {
		snprintf(note, len, "logo %s: %s", path, errno == EFBIG ? "over 8 MiB" :
		    strerror(errno));
		return NULL;
	}
	/* the signature, then IHDR with the size: refuse a huge image before decoding it */
	if (n < 24 || memcmp(buf, sig, 8) != 0 || memcmp(buf + 12, "IHDR", 4) != 0)
		snprintf(note, len, "logo %s: not a PNG file", path);
	else if (be32((unsigned char *)buf + 16) > SPOOL_LOGO_PIXELS_MAX ||
	    be32((unsigned char *)buf + 20) > SPOOL_LOGO_PIXELS_MAX)
		snprintf(note, len, "logo %s: over %d pixels wide or high", path,
		    SPOOL_LOGO_PIXELS_MAX);
	else {
		pb = (struct pngbuf){ (const unsigned char *)buf, n, 0 };
		s = cairo_image_surface_create_from_png_stream(png_read, &pb);
		if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
			snprintf(note, len, "logo %s: %s", path,
			    cairo_status_to_string(cairo_surface_status(s)));
			cairo_surface_destroy(s);
			s = NULL;
		}
	}
	free(buf);
	return s;
}

/* Draw the logo into the box at x, y of at most w x h; returns its height. */
static double
logo_draw(struct inv *v, double x, double y, double w, double h)
{
	double iw, ih, k;

	if (v->logo == NULL)
		return 0;
	iw = cairo_image_surface_get_width(v->logo);
	ih = cairo_image_surface_get_height(v->logo);
	if (iw < 1 || ih < 1)
		return 0;
	/* fit the box, at one pixel a point at most: a small logo is not blown up */
	k = w / iw < h / ih ? w / iw : h / ih;
	if (k > 1)
		k = 1;
	if (v->draw) {
		cairo_save(v->cr);
		cairo_translate(v->cr, x, y);
		cairo_scale(v->cr, k, k);
		cairo_set_source_surface(v->cr, v->logo, 0, 0);
		cairo_paint(v->cr);
		cairo_restore(v->cr);
	}
	return ih * k;
}

/* ---- the page ------------------------------------------------------------------- */

/* The footer of every page: the shop's footer lines, and "page N of M". */
static double
footer(struct inv *v)
{
	char buf[SPOOL_ID_MAX + 64];
	const struct spool_shop *s = v->shop;
	double y = v->foot;
	int i;

	rule(v, LEFT, RIGHT, y - 4, 0.5, 0.6);
	snprintf(buf, sizeof buf, "Invoice %s \xc2\xb7 page %d of %d", v->b->order.id, v->page,
	    v->pages);
	text(v, LEFT + 340, y, RIGHT - LEFT - 340, F_SMALL, A_RIGHT, 0.35, buf);
	for (i = 0; s != NULL && i < s->nfooter; i++)
		y += text(v, LEFT, y, 330, F_SMALL, A_LEFT, 0.35, s->footer[i]);
	return y - v->foot;
}

/* Where the footer starts, so that its lines end above BOTTOM, and rows end above it. */
static void
footer_place(struct inv *v)
{
	double h;
	int draw = v->draw;

	v->draw = 0;
	v->foot = 0;
	h = footer(v);
	v->draw = draw;
	v->foot = BOTTOM - h < FOOT ? BOTTOM - h : FOOT;
	v->row_max = v->foot - 12;
}

/* The top of the first page: the shop, the title, the addresses, the order. */
static void
first_top(struct inv *v)
{
	const struct spool_bundle *b = v->b;
	const struct spool_shop *s = v->shop;
	const char *bill[SPOOL_LINES_MAX + 2], *ship[SPOOL_LINES_MAX];
	static const char *const label[] = { "Invoice no.", "Order date", "Currency" };
	double y = TOP, hl, hs, hb, hm, col = (RIGHT - LEFT) / 2;
	char date[16];
	const char *value[] = { b->order.id, date, b->currency };
	struct tm tm;
	int i, nb = 0;

	/* the logo on the left, the shop's name and address on the right */
	hl = logo_draw(v, LEFT, y, 180, 64);
	hs = 0;
	if (s != NULL) {
		hs = text(v, LEFT + 200, y, RIGHT - LEFT - 200, F_HEAD, A_RIGHT, 0, s->name);
		hs += lines(v, LEFT + 200, y + hs, RIGHT - LEFT - 200, F_BODY, A_RIGHT,
		    (const char *const *)s->address, s->naddress);
	}
	y += (hl > hs ? hl : hs) + 22;

	/* the title; beside it the order: the invoice's number is the order's id */
	hb = text(v, LEFT, y, col, F_TITLE, A_LEFT, 0, "Invoice");
	gmtime_r(&b->order.placed, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	hm = 0;
	for (i = 0; i < 3; i++) {
		if (value[i][0] == '\0')
			continue;
		text(v, RIGHT - 200, y + hm + 1, 80, F_SMALL, A_LEFT, 0.35, label[i]);
		hm += text(v, RIGHT - 120, y + hm, 120, F_BODY, A_RIGHT, 0, value[i]);
	}
	y += (hb > hm ? hb : hm) + 14;

	/* the customer (unless the billing address starts with the name), the billing
	 * address and the e-mail; the shipping address */
	if (b->nbilling == 0 || strcmp(b->billing[0], b->order.customer) != 0)
		bill[nb++] = b->order.customer;
	for (i = 0; i < b->nbilling; i++)
		bill[nb++] = b->billing[i];
	if (b->order.email[0] != '\0')
		bill[nb++] = b->order.email;
	hb = text(v, LEFT, y, col - 10, F_SMALL, A_LEFT, 0.35, "Bill to");
	hb += lines(v, LEFT, y + hb, col - 10, F_BODY, A_LEFT, bill, nb);
	hs = 0;
	if (b->nshipping > 0) {
		for (i = 0; i < b->nshipping; i++)
			ship[i] = b->shipping[i];
		hs = text(v, LEFT + col, y, col - 10, F_SMALL, A_LEFT, 0.35, "Ship to");
		hs += lines(v, LEFT + col, y + hs, col - 10, F_BODY, A_LEFT, ship, b->nshipping);
	}
	v->y = y + (hb > hs ? hb : hs) + 22;
}

/* The table's header row, at v->y. */
static void
table_head(struct inv *v)
{
	double y = v->y, h;
	int draw = v->draw;

	/* its height first, for the band under it */
	v->draw = 0;
	h = text(v, LEFT + PAD, y + PAD, COL_QTY - QTY_W - LEFT - 2 * PAD, F_BOLD, A_LEFT, 0, "Item");
	v->draw = draw;
	if (v->draw) {
		cairo_set_source_rgb(v->cr, 0.92, 0.92, 0.92);
		cairo_rectangle(v->cr, LEFT, y, RIGHT - LEFT, h + 2 * PAD);
		cairo_fill(v->cr);
	}
	text(v, LEFT + PAD, y + PAD, COL_QTY - QTY_W - LEFT - 2 * PAD, F_BOLD, A_LEFT, 0, "Item");
	text(v, COL_QTY - QTY_W, y + PAD, QTY_W - PAD, F_BOLD, A_RIGHT, 0, "Quantity");
	text(v, COL_QTY, y + PAD, COL_UNIT - COL_QTY - PAD, F_BOLD, A_RIGHT, 0, "Unit price");
	text(v, COL_UNIT, y + PAD, COL_AMOUNT - COL_UNIT - PAD, F_BOLD, A_RIGHT, 0, "Amount");
	v->y = y + h + 2 * PAD;
}

/* A new page: the footer of the one before, and the top of the next one. */
static void
next_page(struct inv *v)
{
	char buf[SPOOL_ID_MAX + 32];

	footer(v);
	if (v->draw)
		cairo_show_page(v->cr);
	v->page++;
	snprintf(buf, sizeof buf, "Invoice %s (continued)", v->b->order.id);
	v->y = TOP + text(v, LEFT, TOP, RIGHT - LEFT, F_BOLD, A_LEFT, 0, buf) + 12;
}

/* One item's row: its height when measuring, or drawn at v->y. */
static double
item_row(struct inv *v, const struct spool_item *it, int draw)
{
	double y = v->y + PAD, h, w = COL_QTY - QTY_W - LEFT - 2 * PAD;
	char q[16], unit[32], line[32];
	long long cents;
	int saved = v->draw;

	v->draw = v->draw && draw;
	h = text(v, LEFT + PAD, y, w, F_BODY, A_LEFT, 0,
	    it->product_name[0] != '\0' ? it->product_name : it->product);
	h += text(v, LEFT + PAD, y + h, w, F_SMALL, A_LEFT, 0.35, it->title);
	snprintf(q, sizeof q, "%d", it->quantity);
	text(v, COL_QTY - QTY_W, y, QTY_W - PAD, F_BODY, A_RIGHT, 0, q);
	if (it->price[0] != '\0' && spool_money_parse(it->price, &cents) == 0) {
		text(v, COL_QTY, y, COL_UNIT - COL_QTY - PAD, F_BODY, A_RIGHT, 0,
		    spool_money_fmt(cents, unit, sizeof unit));
		text(v, COL_UNIT, y, COL_AMOUNT - COL_UNIT - PAD, F_BODY, A_RIGHT, 0,
		    spool_money_fmt(spool_item_amount(it), line, sizeof line));
	}
	v->draw = saved;
	return h + 2 * PAD;
}

/* The totals under the table: subtotal, tax, total; height when not drawing. */
static double
totals(struct inv *v, int draw)
{
	const struct spool_bundle *b = v->b;
	const struct spool_amounts *a = &v->sum;
	double y = v->y + 6, lx = LEFT + 150, lw = COL_UNIT - lx - PAD, vw = COL_AMOUNT - COL_UNIT - PAD;
	char label[SPOOL_FIELD_MAX + 64], rate[24], val[32];
	int saved = v->draw;

	v->draw = v->draw && draw;
	if (a->priced && (a->tax >= 0 || a->total < 0)) {
		text(v, lx, y, lw, F_BODY, A_RIGHT, 0, "Subtotal");
		y += text(v, COL_UNIT, y, vw, F_BODY, A_RIGHT, 0,
		    spool_money_fmt(a->subtotal, val, sizeof val));
	}
	if (a->tax >= 0) {
		rate[0] = '\0';
		if (b->tax_rate[0] != '\0')
			rate_fmt(b->tax_rate, rate, sizeof rate);
		snprintf(label, sizeof label, "%s%s%s%s", b->tax_name[0] != '\0' ? b->tax_name : "Tax",
		    rate[0] != '\0' ? " " : "", rate, b->tax_included ? " (included)" : "");
		text(v, lx, y, lw, F_BODY, A_RIGHT, 0, label);
		y += text(v, COL_UNIT, y, vw, F_BODY, A_RIGHT, 0,
		    spool_money_fmt(a->tax, val, sizeof val));
	}
	if (a->total >= 0) {
		y += 3;
		rule(v, lx + lw * 0.4, RIGHT, y, 0.8, 0);
		y += 3;
		snprintf(label, sizeof label, "Total%s%s", b->currency[0] != '\0' ? " " : "",
		    b->currency);
		text(v, lx, y, lw, F_BOLD, A_RIGHT, 0, label);
		y += text(v, COL_UNIT, y, vw, F_BOLD, A_RIGHT, 0,
		    spool_money_fmt(a->total, val, sizeof val));
	}
	v->draw = saved;
	return y - v->y;
}

/* The whole invoice, page after page; counts v->pages when not drawing. */
static void
layout(struct inv *v)
{
	const struct spool_bundle *b = v->b;
	double h;
	int i, rows = 0;

	v->page = 1;
	footer_place(v);
	first_top(v);
	table_head(v);
	for (i = 0; i < b->nitems; i++) {
		h = item_row(v, &b->items[i], 0);
		/* a row that does not fit starts the next page, under the header again */
		if (v->y + h > v->row_max && rows > 0) {
			next_page(v);
			table_head(v);
			rows = 0;
		}
		item_row(v, &b->items[i], 1);
		v->y += h;
		rows++;
		rule(v, LEFT, RIGHT, v->y, 0.3, 0.75);
	}
	if (v->y + totals(v, 0) > v->row_max)
		next_page(v);
	v->y += totals(v, 1);
	footer(v);
	if (v->draw)
		cairo_show_page(v->cr);
	v->pages = v->page;
}

/* ---- the PDF -------------------------------------------------------------------- */

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static cairo_status_t
pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct membuf *m = closure;
	unsigned char *p;
	size_t cap;

	if (len > PDF_MAX - m->len)
		return CAIRO_STATUS_WRITE_ERROR;
	if (m->len + len > m->cap) {
		cap = m->cap > 0 ? m->cap : 64 * 1024;
		while (cap < m->len + len)
			cap *= 2;
		if ((p = realloc(m->p, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
	return CAIRO_STATUS_SUCCESS;
}

/* The fonts and the Pango context for cr; -1 when out of memory. */
static int
inv_fonts(struct inv *v, PangoFontMap *fm)
{
	cairo_font_options_t *fo;
	int i;

	if ((v->pc = pango_font_map_create_context(fm)) == NULL)
		return -1;
	/* print metrics: no hinting, no rounding to a screen's pixels */
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(v->pc, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_update_context(v->cr, v->pc);
	for (i = 0; i < F_COUNT; i++)
		if ((v->font[i] = pango_font_description_from_string(font_desc[i])) == NULL)
			return -1;
	return 0;
}

static void
inv_free(struct inv *v)
{
	int i;

	for (i = 0; i < F_COUNT; i++)
		if (v->font[i] != NULL)
			pango_font_description_free(v->font[i]);
	if (v->pc != NULL)
		g_object_unref(v->pc);
	if (v->cr != NULL)
		cairo_destroy(v->cr);
	if (v->logo != NULL)
		cairo_surface_destroy(v->logo);
}

/* The invoice as a PDF in m; -1 with err set. */
static int
invoice_pdf(struct inv *v, struct membuf *m, const char *name, struct spool_err *err)
{
	char when[32], title[SPOOL_ID_MAX + 16];
	cairo_surface_t *surf;
	PangoFontMap *fm;
	cairo_status_t st;
	struct tm tm;
	int rc = -1;

	surf = cairo_pdf_surface_create_for_stream(pdf_write, m, PAGE_W, PAGE_H);
	if ((st = cairo_surface_status(surf)) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		return failerr(err, ENOMEM, "%s: cairo: %s", name, cairo_status_to_string(st));
	}
	/* no date but the order's: the same order gives the same bytes */
	gmtime_r(&v->b->order.placed, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, when);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_MOD_DATE, when);
	snprintf(title, sizeof title, "Invoice %s", v->b->order.id);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "spool");
	v->cr = cairo_create(surf);
	fm = pango_cairo_font_map_new();
	if (fm == NULL || inv_fonts(v, fm) < 0) {
		failerr(err, ENOMEM, "%s: out of memory", name);
		goto out;
	}
	v->draw = 0;
	layout(v);
	v->draw = 1;
	layout(v);
	cairo_surface_finish(surf);
	if ((st = cairo_surface_status(surf)) != CAIRO_STATUS_SUCCESS ||
	    (st = cairo_status(v->cr)) != CAIRO_STATUS_SUCCESS)
		failerr(err, st == CAIRO_STATUS_NO_MEMORY ? ENOMEM : EIO, "%s: cairo: %s", name,
		    cairo_status_to_string(st));
	else
		rc = 0;
out:
	inv_free(v);
	v->cr = NULL;
	v->pc = NULL;
	v->logo = NULL;
	memset(v->font, 0, sizeof v->font);
	if (fm != NULL)
		g_object_unref(fm);
	cairo_surface_destroy(surf);
	return rc;
}

int
spool_invoice_render(const struct spool_bundle *b, struct spool_invoice *inv, int dirfd,
    const char *name, struct spool_err *err)
{
	struct spool_invoice none = { .rootfd = AT_FDCWD };
	struct inv v = { .b = b };
	struct membuf m = { 0 };
	struct spool_err e;
	int rc = -1;

	if (inv == NULL)
		inv = &none;
	inv->note[0] = '\0';
	inv->pages = 0;
	inv->bytes = 0;
	v.shop = inv->shop;
	if (spool_order_amounts(b, &v.sum, &e) < 0)
		return seterr(err, "%s: %s", name, e.msg);
	if (v.shop != NULL && v.shop->logo != NULL)
		v.logo = logo_load(v.shop->logo, inv->rootfd, inv->note, sizeof inv->note);
	if (invoice_pdf(&v, &m, name, err) < 0)
		goto out;
	if (spool_publish(dirfd, name, -1, m.p, m.len, &(struct spool_pub){
	    .flags = SPOOL_PUB_NOSYNCDIR, .mode = inv->mode }) < 0) {
		seterr(err, "%s: cannot publish: %s", name, strerror(errno));
		goto out;
	}
	inv->pages = v.pages;
	inv->bytes = m.len;
	rc = 0;
out:
	free(m.p);
	return rc;
}

int
invoice_render(struct spool *sp, const struct spool_bundle *b, int dirfd, const char *name,
    mode_t mode, struct spool_err *err)
{
	struct spool_invoice inv = { .shop = sp->conf->shop, .rootfd = sp->dir[SPOOL_DIR_ROOT],
		.mode = mode };

	return spool_invoice_render(b, &inv, dirfd, name, err);
}
