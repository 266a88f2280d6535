/*
 * Unit tests: amounts in cents (lib/bundle/money.c), the [shop] section (lib/print/shop.c)
 * and the invoice (lib/print/invoice.c), read as its readers read it: pdftotext for the
 * words and figures, pdffonts for the fonts (every one embedded, no error), qpdf
 * --check for the structure, pdfinfo for the pages.  The orders are order.xml files
 * read through spool_bundle_read, as submit reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>

#define TEST_FIXTURE
#include "fault.h"

/* ---- amounts -------------------------------------------------------------------- */

static void
test_money(void **state)
{
	static const struct {
		const char *s;
		long long cents;
	} good[] = {
		{ "39.90", 3990 }, { "5", 500 }, { "0.5", 50 }, { "5.", 500 }, { ".05", 5 },
		{ "+1.00", 100 }, { " 7.10 ", 710 }, { "5.100", 510 }, { "-0.00", 0 },
		{ "0", 0 }, { "007.01", 701 }, { "999999999999.99", SPOOL_MONEY_MAX },
	};
	static const char *const bad[] = { "", ".", "1.001", "-1", "-0.01", "1e3", "abc",
		"1,00", "1.0.0", "1 000", "1000000000000", "99999999999999999999999", "0x10" };
	char buf[32];
	long long c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		c = -7;
		if (spool_money_parse(good[i].s, &c) < 0 || c != good[i].cents)
			fail_msg("'%s': %lld, want %lld", good[i].s, c, good[i].cents);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (spool_money_parse(bad[i], &c) == 0)
			fail_msg("'%s' parsed as %lld", bad[i], c);
	assert_string_equal(spool_money_fmt(3990, buf, sizeof buf), "39.90");
	assert_string_equal(spool_money_fmt(5, buf, sizeof buf), "0.05");
	assert_string_equal(spool_money_fmt(0, buf, sizeof buf), "0.00");
	assert_string_equal(spool_money_fmt(SPOOL_MONEY_MAX, buf, sizeof buf), "999999999999.99");
}

/* ---- orders ----------------------------------------------------------------------- */

static struct spool_conf *pos_conf;

static int
setup(void **state)
{
	size_t len;
	const char *text = spool_shipped("workflows/pos.conf", &len);

	setup_dir(state);
	pos_conf = conf_parsed("pos.conf", text);
	return 0;
}

static int
teardown(void **state)
{
	spool_conf_free(pos_conf);
	return teardown_dir(state);
}

/*
 * An order of the pos workflow (no uploads) whose <order> holds body after the
 * customer and payment, read as submit reads it; NULL with err set when refused.
 */
static struct spool_bundle *
order_try(const char *customer, const char *billing, const char *body, struct spool_err *err)
{
	struct spool_bundle *b = NULL;
	char *path, *xml;

	if (asprintf(&path, "%s/b/order.xml", dir) < 0 ||
	    asprintf(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<order xmlns=\"urn:spool:order:1\" id=\"4711\">\n"
	    "  <placed>2026-11-20T09:14:00Z</placed>\n"
	    "  <customer><name>%s</name><email>c@example.org</email></customer>\n"
	    "  %s\n"
	    "  <payment method=\"paypal\" status=\"paid\"/>\n%s</order>\n", customer,
	    billing, body) < 0)
		abort();
	sh("rm -rf '%s/b'", dir);
	file_write(path, xml);
	free(path);
	free(xml);
	if (asprintf(&path, "%s/b", dir) < 0)
		abort();
	if (spool_bundle_read(AT_FDCWD, path, pos_conf, &b, err) < 0)
		b = NULL;
	free(path);
	return b;
}

static struct spool_bundle *
order(const char *customer, const char *billing, const char *body)
{
	struct spool_err err;
	struct spool_bundle *b = order_try(customer, billing, body, &err);

	if (b == NULL)
		fail_msg("%s", err.msg);
	return b;
}

/* The order is refused with an error that says want. */
static void
refused(const char *body, const char *want)
{
	struct spool_err err = { "" };
	struct spool_bundle *b = order_try("Jane Doe", "", body, &err);

	if (b != NULL) {
		spool_bundle_free(b);
		fail_msg("accepted, but should fail with '%s':\n%s", want, body);
	}
	if (strstr(err.msg, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err.msg, want);
}

static void
test_amounts(void **state)
{
	struct spool_amounts a;
	struct spool_bundle *b;
	struct spool_err err;

	(void)state;
	/* price is the unit price: 1 x 39.90 + 2 x 5.00 */
	b = order("Jane Doe", "", "<item id=\"1\" product=\"book\" price=\"39.90\"/>"
	    "<item id=\"2\" product=\"poster\" quantity=\"2\" price=\"5.00\"/>"
	    "<total currency=\"EUR\">49.90</total>");
	assert_int_equal(spool_order_amounts(b, &a, &err), 0);
	assert_true(a.priced);
	assert_int_equal(a.subtotal, 4990);
	assert_int_equal(a.tax, -1);
	assert_int_equal(a.total, 4990);
	assert_int_equal(spool_item_amount(&b->items[1]), 1000);
	spool_bundle_free(b);
	/* tax on top; without a total, the total is the sum */
	b = order("Jane Doe", "", "<item id=\"1\" product=\"flyer\" quantity=\"250\" price=\"0.12\"/>"
	    "<tax name=\"Sales tax\" rate=\"8.875\">2.66</tax>");
	assert_int_equal(spool_order_amounts(b, &a, &err), 0);
	assert_int_equal(a.subtotal, 3000);
	assert_int_equal(a.tax, 266);
	assert_int_equal(a.total, 3266);
	assert_string_equal(b->tax_name, "Sales tax");
	assert_string_equal(b->tax_rate, "8.875");
	assert_false(b->tax_included);
	spool_bundle_free(b);
	/* tax in the prices; amounts with blanks around them, as the schema allows */
	b = order("Jane Doe", "", "<item id=\"1\" product=\"flyer\" quantity=\"250\" price=\" 0.12 \"/>"
	    "<tax rate=\"19\" included=\"true\">4.79</tax><total currency=\"EUR\"> 30.00 </total>");
	assert_int_equal(spool_order_amounts(b, &a, &err), 0);
	assert_int_equal(a.total, 3000);
	assert_true(b->tax_included);
	spool_bundle_free(b);
	/* an item without a price: nothing to check, the total is the order's */
	b = order("Jane Doe", "", "<item id=\"1\" product=\"mail\" quantity=\"1200\"/>"
	    "<total currency=\"USD\">120.00</total>");
	assert_int_equal(spool_order_amounts(b, &a, &err), 0);
	assert_false(a.priced);
	assert_int_equal(a.total, 12000);
	spool_bundle_free(b);

	/* figures that do not add up are refused at submit, saying which */
	refused("<item id=\"1\" product=\"flyer\" quantity=\"250\" price=\"29.00\"/>"
	    "<total currency=\"EUR\">29.00</total>",
	    "order.xml: total 29.00 is not the sum of the items' line totals (quantity x unit "
	    "price): 7250.00");
	refused("<item id=\"1\" product=\"a\" price=\"10.00\"/><tax>1.00</tax>"
	    "<total currency=\"EUR\">10.00</total>", "and the tax: 11.00");
	refused("<item id=\"1\" product=\"a\" price=\"10.00\"/><tax included=\"true\">11.00</tax>",
	    "the tax included in the prices, 11.00, is more than their sum, 10.00");
	refused("<item id=\"1\" product=\"a\" quantity=\"1000000\" price=\"999999999999.99\"/>",
	    "item 1: quantity 1000000 x price 999999999999.99 is not an amount");
	refused("<item id=\"1\" product=\"a\" price=\"1.001\"/>", "order.xml");
}

/* ---- the shop ---------------------------------------------------------------------- */

#define CONF_HEAD "[spool]\nversion = 1\nworkflow = t\nentry = a\n[state a]\n"

static void
test_shop_conf(void **state)
{
	struct spool_conf *c;

	(void)state;
	c = conf_parsed("t.conf", CONF_HEAD);
	assert_null(c->shop);
	spool_conf_free(c);
	c = conf_parsed("t.conf", CONF_HEAD "[shop]\nname = Harbour Prints\n"
	    "address = 1 Quay Street\naddress = Bristol BS1 4RN\nlogo = logo.png\n"
	    "footer = IBAN GB00 0000 0000 0000\nfooter = Thank you!\n");
	assert_non_null(c->shop);
	assert_string_equal(c->shop->name, "Harbour Prints");
	assert_int_equal(c->shop->naddress, 2);
	assert_string_equal(c->shop->address[1], "Bristol BS1 4RN");
	assert_string_equal(c->shop->logo, "logo.png");
	assert_int_equal(c->shop->nfooter, 2);
	assert_string_equal(c->shop->footer[1], "Thank you!");
	spool_conf_free(c);
	conf_refused(CONF_HEAD "[shop]\nname = A\nname = B\n", "name: given twice in [shop]");
	conf_refused(CONF_HEAD "[shop]\nlogo =\n", "logo: must not be empty");
	conf_refused(CONF_HEAD "[shop]\ncolour = red\n", "colour: unknown key in [shop]");
	conf_refused(CONF_HEAD "[shop]\nname = A\n[shop]\n", "[shop] given twice (first on line 6)");
	conf_refused(CONF_HEAD "[shop]\naddress = 1\naddress = 2\naddress = 3\naddress = 4\n"
	    "address = 5\naddress = 6\naddress = 7\naddress = 8\naddress = 9\n",
	    "address: more than 8 lines");
}

/* ---- the invoice ------------------------------------------------------------------- */

static const struct spool_shop shop = {
	.name = "Harbour Prints",
	.address = { "1 Quay Street", "Bristol BS1 4RN" },
	.naddress = 2,
	.footer = { "IBAN GB33 BUKB 2020 1555 5555 55" },
	.nfooter = 1,
};

/* Render b with inv (may be NULL) into dir/name; the test fails if it cannot. */
static void
render(const struct spool_bundle *b, struct spool_invoice *inv, const char *name)
{
	struct spool_err err;

	if (spool_invoice_render(b, inv, dfd, name, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The invoice dir/name as pdftotext -layout reads it (pages first..last; 0: all). */
static char *
text_of(const char *name, int first, int last)
{
	char *t, *path;

	if (first > 0)
		assert_int_equal(sh("pdftotext -layout -f %d -l %d '%s/%s' '%s/%s.txt'", first, last,
		    dir, name, dir, name), 0);
	else
		assert_int_equal(sh("pdftotext -layout '%s/%s' '%s/%s.txt'", dir, name, dir, name), 0);
	if (asprintf(&path, "%s.txt", name) < 0)
		abort();
	if ((t = file_read(dfd, path, NULL)) == NULL)
		fail_msg("no text of %s", name);
	free(path);
	return t;
}

/* A line of text t that matches the extended regex re. */
static int
has_line(const char *name, const char *re)
{
	return sh("grep -Eq -- '%s' '%s/%s.txt'", re, dir, name) == 0;
}

/*
 * The readers' checks that every invoice passes: qpdf --check; pdffonts exits 0 with
 * nothing on stderr, and every font it lists is embedded.
 */
static void
readers_agree(const char *name)
{
	assert_int_equal(sh("qpdf --check '%s/%s' >/dev/null", dir, name), 0);
	assert_int_equal(sh("pdffonts '%s/%s' >'%s/fonts' 2>'%s/fonts.err'", dir, name, dir, dir), 0);
	assert_int_equal(sh("test ! -s '%s/fonts.err'", dir), 0);
	/* the header's two lines, then one line per font: "emb" is the third column from
	 * the right (name type encoding emb sub uni object ID) */
	assert_int_equal(sh("test $(tail -n +3 '%s/fonts' | wc -l) -ge 1", dir), 0);
	if (sh("tail -n +3 '%s/fonts' | awk '$(NF-4) != \"yes\" { exit 1 }'", dir) != 0) {
		sh("cat '%s/fonts' >&2", dir);
		fail_msg("a font of %s is not embedded", name);
	}
}

/* Each item's row: quantity, unit price and line total on one line of the text. */
static void
rows_shown(const char *name, const struct spool_bundle *b)
{
	char re[256], unit[32], line[32];
	long long c;
	int i;

	for (i = 0; i < b->nitems; i++) {
		if (b->items[i].price[0] == '\0')
			continue;
		assert_int_equal(spool_money_parse(b->items[i].price, &c), 0);
		snprintf(re, sizeof re, " %d +%s +%s *$", b->items[i].quantity,
		    spool_money_fmt(c, unit, sizeof unit),
		    spool_money_fmt(spool_item_amount(&b->items[i]), line, sizeof line));
		if (!has_line(name, re))
			fail_msg("%s: no row of item %s: '%s'", name, b->items[i].id, re);
	}
}

static void
test_invoice(void **state)
{
	struct spool_invoice inv = { .shop = &shop, .rootfd = AT_FDCWD };
	struct spool_bundle *b;
	char *t;

	(void)state;
	b = order("Jane Doe", "<billing><line>Jane Doe</line><line>12 Harbour Road</line>"
	    "<line>Bristol BS1 4RN</line></billing>"
	    "<shipping><line>Jane Doe</line><line>c/o Harbour Café</line></shipping>",
	    "<item id=\"1\" product=\"photobook-a4\" price=\"39.90\"><title>Holiday 2026</title></item>"
	    "<item id=\"2\" product=\"poster-a2\" quantity=\"2\" price=\"5.00\">"
	    "<title>Sunset (big) \\ &lt;b&gt;x&lt;/b&gt;</title></item>"
	    "<item id=\"3\" product=\"greeting-card\" quantity=\"12\" price=\"1.25\"/>"
	    "<tax name=\"VAT\" rate=\"19.000\" included=\"true\">10.37</tax>"
	    "<total currency=\"EUR\">64.90</total>");
	render(b, &inv, "invoice.pdf");
	assert_string_equal(inv.note, "");
	assert_int_equal(inv.pages, 1);
	assert_true(inv.bytes > 1000);
	readers_agree("invoice.pdf");
	t = text_of("invoice.pdf", 0, 0);
	free(t);
	rows_shown("invoice.pdf", b);
	/* the shop, the customer, the order, the items and the totals */
	assert_true(has_line("invoice.pdf", "Harbour Prints"));
	assert_true(has_line("invoice.pdf", "1 Quay Street"));
	assert_true(has_line("invoice.pdf", "IBAN GB33 BUKB 2020 1555 5555 55"));
	assert_true(has_line("invoice.pdf", "^ *Invoice *$"));
	/* the billing address starts with the customer's name: it is not said twice */
	assert_int_equal(sh("test $(grep -c 'Jane Doe' '%s/invoice.pdf.txt') -eq 1", dir), 0);
	assert_true(has_line("invoice.pdf", "12 Harbour Road"));
	assert_true(has_line("invoice.pdf", "c/o Harbour Café"));
	assert_true(has_line("invoice.pdf", "c@example.org"));
	assert_true(has_line("invoice.pdf", "Invoice no\\. +4711"));
	assert_true(has_line("invoice.pdf", "Order date +2026-11-20"));
	assert_true(has_line("invoice.pdf", "Item +Quantity +Unit price +Amount"));
	assert_true(has_line("invoice.pdf", "Holiday 2026"));
	/* a title is text, not markup */
	assert_true(has_line("invoice.pdf", "Sunset \\(big\\) \\\\ <b>x</b>"));
	assert_true(has_line("invoice.pdf", "Subtotal +64\\.90 *$"));
	assert_true(has_line("invoice.pdf", "VAT 19% \\(included\\) +10\\.37 *$"));
	/* the total is the sum of the line totals: 39.90 + 10.00 + 15.00 */
	assert_true(has_line("invoice.pdf", "Total EUR +64\\.90 *$"));
	assert_true(has_line("invoice.pdf", "page 1 of 1"));
	/* the same order gives the same bytes */
	render(b, &inv, "again.pdf");
	assert_int_equal(sh("cmp -s '%s/invoice.pdf' '%s/again.pdf'", dir, dir), 0);
	spool_bundle_free(b);

	/* no shop, a tax on top, an item without a price, no total: what there is */
	b = order("Ana Lima", "", "<item id=\"1\" product=\"season-pass\" price=\"899.00\"/>"
	    "<item id=\"2\" product=\"locker\" quantity=\"3\"/>"
	    "<tax name=\"Sales tax\" rate=\"8.81\">79.20</tax>");
	render(b, NULL, "bare.pdf");
	readers_agree("bare.pdf");
	free(text_of("bare.pdf", 0, 0));
	rows_shown("bare.pdf", b);
	assert_true(has_line("bare.pdf", "Ana Lima"));
	assert_true(has_line("bare.pdf", "locker +3 *$"));
	assert_true(has_line("bare.pdf", "Sales tax 8\\.81% +79\\.20 *$"));
	assert_false(has_line("bare.pdf", "Total"));
	spool_bundle_free(b);
}

/* Polish, Greek, Cyrillic and Japanese names come out exactly as they went in. */
static void
test_invoice_scripts(void **state)
{
	static const char *const names[] = { "Zażółć gęślą jaźń", "Ελληνικά Ονόματα",
		"Борис Пастернак", "日本語の名前", "山田 太郎" };
	struct spool_bundle *b;
	char re[256];
	size_t i;

	(void)state;
	b = order("Zażółć gęślą jaźń", "<billing><line>Ελληνικά Ονόματα</line>"
	    "<line>Борис Пастернак</line><line>日本語の名前</line></billing>",
	    "<item id=\"1\" product=\"calendar-a3\" price=\"24.50\"><title>山田 太郎</title></item>"
	    "<total currency=\"JPY\">24.50</total>");
	render(b, &(struct spool_invoice){ .shop = &shop, .rootfd = AT_FDCWD }, "names.pdf");
	readers_agree("names.pdf");
	free(text_of("names.pdf", 0, 0));
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(re, sizeof re, "(^| )%s( |$)", names[i]);
		if (!has_line("names.pdf", re))
			fail_msg("'%s' is not in the text", names[i]);
	}
	/* a font with the CJK glyphs is used, and embedded */
	assert_int_equal(sh("grep -qiE 'IPA|CJK|Gothic|Mincho' '%s/fonts'", dir), 0);
	spool_bundle_free(b);
}

/* Characters that would hide or reorder text print as U+FFFD, not as themselves. */
static void
test_invoice_unsafe(void **state)
{
	struct spool_bundle *b;

	(void)state;
	b = order("Evil \xe2\x80\xae" "cba", "", "<item id=\"1\" product=\"a\" price=\"1.00\"/>");
	render(b, NULL, "evil.pdf");
	readers_agree("evil.pdf");
	free(text_of("evil.pdf", 0, 0));
	assert_true(has_line("evil.pdf", "Evil \xef\xbf\xbd" "cba"));
	spool_bundle_free(b);
}

/*
 * A long order: the table runs over pages, its header on each, no row lost or split,
 * and the shop's eight footer lines on every page, above its bottom edge.
 */
static void
test_invoice_pages(void **state)
{
	static const struct spool_shop tall = { .name = "Harbour Prints", .footer = { "footer 1",
		"footer 2", "footer 3", "footer 4", "footer 5", "footer 6", "footer 7",
		"footer 8: the last line" }, .nfooter = 8 };
	struct spool_invoice inv = { .shop = &tall, .rootfd = AT_FDCWD };
	struct spool_bundle *b;
	char *body = NULL, *t, re[64], val[32];
	size_t len = 0;
	long long sum = 0;
	FILE *f;
	int i, p, rows;

	(void)state;
	f = open_memstream(&body, &len);
	for (i = 1; i <= 200; i++) {
		/* prices 0.01 .. 19.99, quantities 1 .. 7: every row its own */
		fprintf(f, "<item id=\"%d\" product=\"product-%03d\" quantity=\"%d\" price=\"%d.%02d\">"
		    "%s</item>\n", i, i, i % 7 + 1, i * 37 % 20, i * 53 % 100,
		    i % 10 == 0 ? "<title>a longer title, which may take a second line of its own"
		    " in the table's first column</title>" : "");
		sum += (long long)(i % 7 + 1) * ((i * 37 % 20) * 100 + i * 53 % 100);
	}
	fprintf(f, "<total currency=\"EUR\">%s</total>\n", spool_money_fmt(sum, val, sizeof val));
	fclose(f);
	b = order("Jane Doe", "", body);
	free(body);
	render(b, &inv, "long.pdf");
	readers_agree("long.pdf");
	assert_true(inv.pages >= 2);
	assert_int_equal(sh("test \"$(pdfinfo '%s/long.pdf' | sed -n 's/^Pages: *//p')\" -eq %d",
	    dir, inv.pages), 0);
	free(text_of("long.pdf", 0, 0));
	rows_shown("long.pdf", b);
	snprintf(re, sizeof re, "Total EUR +%s *$", spool_money_fmt(sum, val, sizeof val));
	assert_true(has_line("long.pdf", re));
	/* every page has the table's header and says which page it is; the rows of all
	 * pages add up to the 200 items, each once */
	rows = 0;
	for (p = 1; p <= inv.pages; p++) {
		t = text_of("long.pdf", p, p);
		free(t);
		i = sh("exit $(grep -cE '^ *product-[0-9]{3} ' '%s/long.pdf.txt')", dir);
		if (i > 0 && !has_line("long.pdf", "^ *Item +Quantity +Unit price +Amount *$"))
			fail_msg("page %d has rows but no table header", p);
		rows += i;
		snprintf(re, sizeof re, "page %d of %d", p, inv.pages);
		assert_true(has_line("long.pdf", re));
		assert_true(has_line("long.pdf", "^ *footer 8: the last line *$"));
		if (p > 1)
			assert_true(has_line("long.pdf", "Invoice 4711 \\(continued\\)"));
	}
	assert_int_equal(rows, 200);
	spool_bundle_free(b);
}

/* A PNG of w x h pixels at dir/name, made with cairo. */
static void
png_make(const char *name, int w, int h)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	cairo_t *cr = cairo_create(s);
	char *path;

	cairo_set_source_rgb(cr, 0.1, 0.3, 0.6);
	cairo_paint(cr);
	cairo_destroy(cr);
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	assert_int_equal(cairo_surface_write_to_png(s, path), CAIRO_STATUS_SUCCESS);
	free(path);
	cairo_surface_destroy(s);
}

/* The shop's logo, relative to the spool; one that cannot be used is left out. */
static void
test_invoice_logo(void **state)
{
	struct spool_shop s = shop;
	struct spool_invoice inv = { .shop = &s, .rootfd = dfd };
	struct spool_bundle *b;

	(void)state;
	b = order("Jane Doe", "", "<item id=\"1\" product=\"a\" price=\"1.00\"/>");
	png_make("logo.png", 300, 100);
	s.logo = "logo.png";
	render(b, &inv, "logo.pdf");
	assert_string_equal(inv.note, "");
	readers_agree("logo.pdf");
	assert_int_equal(sh("test $(pdfimages -list '%s/logo.pdf' | tail -n +3 | wc -l) -eq 1", dir), 0);

	/* missing, not a PNG, a folder, too big: the invoice is made all the same */
	s.logo = "missing.png";
	render(b, &inv, "nologo.pdf");
	assert_string_equal(inv.note, "logo missing.png: No such file or directory");
	readers_agree("nologo.pdf");
	assert_int_equal(sh("test $(pdfimages -list '%s/nologo.pdf' | tail -n +3 | wc -l) -eq 0", dir), 0);
	sh("printf 'GIF89a not a png at all' >'%s/fake.png'", dir);
	s.logo = "fake.png";
	render(b, &inv, "nologo.pdf");
	assert_string_equal(inv.note, "logo fake.png: not a PNG file");
	sh("mkdir '%s/folder.png'", dir);
	s.logo = "folder.png";
	render(b, &inv, "nologo.pdf");
	assert_string_equal(inv.note, "logo folder.png: not a regular file");
	png_make("huge.png", 5000, 10);
	s.logo = "huge.png";
	render(b, &inv, "nologo.pdf");
	assert_string_equal(inv.note, "logo huge.png: over 4096 pixels wide or high");
	/* cut short after its header */
	sh("head -c 60 '%s/logo.png' >'%s/cut.png'", dir, dir);
	s.logo = "cut.png";
	render(b, &inv, "nologo.pdf");
	assert_non_null(strstr(inv.note, "logo cut.png: "));
	readers_agree("nologo.pdf");
	spool_bundle_free(b);
}

/* An order whose figures do not add up gets no invoice (a stored one, made before). */
static void
test_invoice_refused(void **state)
{
	struct spool_bundle *b;
	struct spool_err err;

	(void)state;
	b = order("Jane Doe", "", "<item id=\"1\" product=\"a\" quantity=\"2\" price=\"1.00\"/>");
	snprintf(b->total, sizeof b->total, "1.00");
	assert_int_equal(spool_invoice_render(b, NULL, dfd, "invoice.pdf", &err), -1);
	assert_string_equal(err.msg, "invoice.pdf: order.xml: total 1.00 is not the sum of the "
	    "items' line totals (quantity x unit price): 2.00");
	assert_int_equal(faccessat(dfd, "invoice.pdf", F_OK, 0), -1);
	spool_bundle_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money),
		cmocka_unit_test_setup_teardown(test_amounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shop_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice_scripts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice_unsafe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice_logo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invoice_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
