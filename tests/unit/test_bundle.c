/*
 * Unit tests: bundles.  Every hostile or broken bundle is refused with a clear error
 * and leaves the spool exactly as it was; good bundles enter their entry state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/upload.h"
#define TEST_FIXTURE
#include "fault.h"

static char *empty;

static int
setup(void **state)
{
	char path[4200];

	(void)state;
	fixture_spool(1763900000, "print");
	snprintf(path, sizeof path, "%s/spool", dir);
	empty = snapshot(path);
	return 0;
}

static int
teardown(void **state)
{
	free(empty);
	return teardown_spool(state);
}

static char *
spool_snap(void)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/spool", dir);
	return snapshot(path);
}

/* Submit must fail with an error containing want, and leave no trace. */
static void
refused(const char *bundle, const char *id, const char *want)
{
	struct spool_err err = { "" };
	char path[4200], *now;

	if (spool_submit(sp, AT_FDCWD, bundle, id, "admin:test", NULL, NULL, &err) == 0)
		fail_msg("bundle %s was accepted (want: %s)", bundle, want);
	if (strstr(err.msg, want) == NULL)
		fail_msg("got '%s', want '%s'", err.msg, want);
	now = spool_snap();
	assert_string_equal(now, empty);
	free(now);
	snprintf(path, sizeof path, "%s/spool/tmp", dir);
	assert_int_equal(dir_count(path), 0);
}

static char *
good(const char *name)
{
	return bundle_copy(dir, "print", "1001", name);
}

/* Replace the text of order.xml in bundle b. */
static void
order_xml(const char *b, const char *text)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/order.xml", b);
	file_write(path, text);
}

#define ORDER_HEAD "<?xml version=\"1.0\"?>\n"
#define ORDER(id, body) \
	ORDER_HEAD "<order xmlns=\"urn:spool:order:1\" id=\"" id "\">" \
	"<customer><name>Jane</name><email>j@example.com</email></customer>" \
	"<payment method=\"paypal\" status=\"paid\"/>" body "</order>\n"
#define ITEM1 "<item id=\"1\" product=\"p\"/>"

static void
test_good_bundles(void **state)
{
	struct spool_err err;
	char id[SPOOL_ID_MAX + 1], *b;
	int st;

	(void)state;
	b = good("g1");
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:t", id, &st, &err), 0);
	assert_string_equal(id, "1001");
	assert_int_equal(st, spool_conf_state(spool_conf(sp), "queued"));
	/* --id gives the same bundle another id */
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, "1001-copy", "admin:t", id, &st, &err), 0);
	assert_string_equal(id, "1001-copy");
	/* the same id twice is refused, and the first order is untouched */
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:t", id, &st, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(err.msg, "1001: order exists already in queued");
	free(b);
	b = bundle_copy(dir, "print", "1002", "g2");
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:t", id, &st, &err), 0);
	assert_int_equal(st, spool_conf_state(spool_conf(sp), "unpaid"));
	free(b);
	b = bundle_copy(dir, "print", "1003", "g3");
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:t", id, &st, &err), 0);
	assert_int_equal(st, spool_conf_state(spool_conf(sp), "uploading"));
	free(b);
	/* the order file's mtime is its placed time */
	{
		char p[4200];
		struct stat sb;
		snprintf(p, sizeof p, "%s/spool/state/queued/1001.order", dir);
		assert_int_equal(stat(p, &sb), 0);
		time_t placed;
		assert_int_equal(spool_time_parse("2026-11-20T09:14:00Z", &placed), 0);
		assert_int_equal(sb.st_mtime, placed);
	}
}

static void
test_malformed_xml(void **state)
{
	char *b = good("m");

	(void)state;
	order_xml(b, "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer>");
	refused(b, NULL, "order.xml: not well-formed at line 1:");
	order_xml(b, "");
	refused(b, NULL, "order.xml");
	order_xml(b, "\xff\xfe<\0o\0");
	refused(b, NULL, "order.xml");
	order_xml(b, ORDER("1", ITEM1 "&undefined;"));
	refused(b, NULL, "order.xml: not well-formed at line 2: Entity 'undefined' not defined");
	free(b);
}

static void
test_schema_violations(void **state)
{
	static const struct text_case cases[] = {
		{ ORDER("1", ""), "Missing child element(s)" },
		{ ORDER("1", ITEM1 ITEM1), "Duplicate key-sequence ['1']" },
		{ ORDER("1", "<item id=\"1\" product=\"p\" quantity=\"0\"/>"), "quantity" },
		{ ORDER("1", ITEM1 "<colour>red</colour>"), "colour" },
		{ ORDER("1", "<placed>2026-11-20T09:14:00+01:00</placed>" ITEM1), "placed" },
		{ ORDER_HEAD "<order id=\"1\"><customer/></order>", "order" },
		{ ORDER_HEAD "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>J</name>"
		  "<email>not-an-address</email></customer><payment method=\"x\" status=\"paid\"/>"
		  ITEM1 "</order>", "email" },
		{ ORDER_HEAD "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>A&#x85;B"
		  "</name><email>a@b</email></customer><payment method=\"x\" status=\"paid\"/>"
		  ITEM1 "</order>", "name" },
		{ ORDER("1", "<item id=\"1\" product=\"p\"/><file name=\"../x\" role=\"other\"/>"),
		  "name" },
	};
	char *b = good("s");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		order_xml(b, cases[i].text);
		refused(b, NULL, cases[i].want);
	}
	free(b);
}

static void
test_hostile_xml(void **state)
{
	char *b = good("h"), *big, *p;
	char path[4200];
	int i;
	size_t n;

	(void)state;
	/* XXE: an external entity that would read a local file */
	order_xml(b, ORDER_HEAD "<!DOCTYPE order [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
	    "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>&xxe;</name>"
	    "<email>a@b</email></customer><payment method=\"x\" status=\"paid\"/>" ITEM1 "</order>");
	refused(b, NULL, "DOCTYPE is not allowed");
	/* an external DTD over the network */
	order_xml(b, ORDER_HEAD "<!DOCTYPE order SYSTEM \"http://127.0.0.1:9/evil.dtd\">"
	    "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>J</name>"
	    "<email>a@b</email></customer><payment method=\"x\" status=\"paid\"/>" ITEM1 "</order>");
	refused(b, NULL, "DOCTYPE is not allowed");
	/* billion laughs */
	order_xml(b, ORDER_HEAD "<!DOCTYPE order [<!ENTITY a \"aaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
	    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
	    "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
	    "<order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>&i;</name><email>a@b</email>"
	    "</customer><payment method=\"x\" status=\"paid\"/>" ITEM1 "</order>");
	/* refused where the DOCTYPE starts, before any entity is declared */
	refused(b, NULL, "order.xml:2: a DOCTYPE is not allowed");
	/* quadratic blow-up: one 50 KB entity used 5,000 times */
	n = 50000 + 5000 * 3 + 4096;
	big = malloc(n);
	p = big + sprintf(big, ORDER_HEAD "<!DOCTYPE order [<!ENTITY x \"");
	memset(p, 'x', 50000);
	p += 50000;
	p += sprintf(p, "\">]><order xmlns=\"urn:spool:order:1\" id=\"1\"><customer><name>");
	for (i = 0; i < 5000; i++)
		p += sprintf(p, "&x;");
	sprintf(p, "</name><email>a@b</email></customer><payment method=\"x\" status=\"paid\"/>"
	    ITEM1 "</order>");
	order_xml(b, big);
	refused(b, NULL, "DOCTYPE is not allowed");
	free(big);
	/* over the size cap */
	big = malloc(1200 * 1024);
	memset(big, ' ', 1200 * 1024 - 1);
	big[1200 * 1024 - 1] = '\0';
	memcpy(big, "<a>", 3);
	order_xml(b, big);
	refused(b, NULL, "order.xml: too big");
	free(big);
	/* XXE in an upload.xml */
	free(b);
	b = good("h2");
	snprintf(path, sizeof path, "%s/items/1/upload.xml", b);
	file_write(path, "<?xml version=\"1.0\"?><!DOCTYPE upload [<!ENTITY x SYSTEM \"/etc/passwd\">]>"
	    "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"1\" complete=\"true\">"
	    "<product id=\"&x;\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product></upload>");
	refused(b, NULL, "items/1/upload.xml:1: a DOCTYPE is not allowed");
	free(b);
}

static void
test_bad_ids(void **state)
{
	char *b = good("i"), long65[80];

	(void)state;
	memset(long65, 'a', 65);
	long65[65] = '\0';
	refused(b, "a/b", "'a/b' is not an order id");
	refused(b, "..", "'..' is not an order id");
	refused(b, ".hidden", "is not an order id");
	refused(b, long65, "is not an order id");
	refused(b, "caf\xc3\xa9", "is not an order id");
	refused(b, "", "is not an order id");
	order_xml(b, ORDER("../../etc", ITEM1));
	refused(b, NULL, "id");
	order_xml(b, ORDER(".x", ITEM1));
	refused(b, NULL, "id");
	order_xml(b, ORDER("caf\xc3\xa9", ITEM1));
	refused(b, NULL, "id");
	order_xml(b, ORDER("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ITEM1));
	refused(b, NULL, "id");
	order_xml(b, ORDER("1", "<item id=\"a/b\" product=\"p\"/>"));
	refused(b, NULL, "id");
	free(b);
}

/* Copies of the good bundle, each spoiled by a shell command, that submit must refuse. */
struct spoiled {
	const char *name; /* of the copy */
	const char *cmd;  /* %s: the copy's path */
	const char *want; /* what the refusal says */
};

static void
refused_spoiled(const struct spoiled *cases, size_t n)
{
	size_t i;
	char *b;

	for (i = 0; i < n; i++) {
		b = good(cases[i].name);
		if (sh(cases[i].cmd, b) != 0)
			fail_msg("%s: cannot spoil: %s", cases[i].name, cases[i].cmd);
		refused(b, NULL, cases[i].want);
		free(b);
	}
}

static void
test_symlinks_and_odd_files(void **state)
{
	static const struct spoiled cases[] = {
		{ "l1", "cd '%s' && mv order.xml real.xml && ln -s real.xml order.xml",
		    "order.xml: is a symlink" },
		{ "l2", "cd '%s/items/1' && rm page-002.pdf && ln -s /etc/passwd page-002.pdf",
		    "items/1/page-002.pdf: is a symlink" },
		{ "l3", "cd '%s' && mv items ../l3-items && ln -s ../l3-items items",
		    "items: is a symlink" },
		{ "l4", "cd '%s' && rm invoice.pdf && ln -s /etc/passwd invoice.pdf",
		    "invoice.pdf: is a symlink" },
		{ "l5", "cd '%s/items' && mv 1 ../../l5-one && ln -s ../../l5-one 1",
		    "items/1: is a symlink" },
		/* files nobody named */
		{ "o1", "touch '%s/extra.txt'",
		    "extra.txt: not named in order.xml" },
		{ "o2", "touch '%s/items/1/stray.pdf'",
		    "items/1/stray.pdf: not named in items/1/upload.xml" },
		{ "o3", "mkdir '%s/items/7'",
		    "items/7: no such item in order.xml" },
		{ "o4", "cd '%s/items/1' && rm page-003.pdf && mkfifo page-003.pdf",
		    "items/1/page-003.pdf: not a regular file" },
		{ "o5", "cd '%s/items/1' && rm page-003.pdf",
		    "items/1/page-003.pdf: No such file" },
		{ "o6", "echo 'not a pdf' > '%s/items/1/page-003.pdf'",
		    "items/1/page-003.pdf: not a PDF file" },
		{ "o7", "rm '%s/invoice.pdf'",
		    "invoice.pdf: named in order.xml but missing" },
		{ "o8", "mkfifo '%s/extra'",
		    "extra: not a regular file or folder" },
	};
	char *b, link[4200];

	(void)state;
	refused_spoiled(cases, sizeof cases / sizeof cases[0]);
	/* the bundle itself a symlink */
	b = good("l6");
	snprintf(link, sizeof link, "%s/l6link", dir);
	assert_int_equal(symlink(b, link), 0);
	refused(link, NULL, "is a symlink");
	free(b);
}

static void
test_uploads_and_workflow(void **state)
{
	static const struct spoiled cases[] = {
		/* print needs an upload for every item */
		{ "u1", "rm -r '%s/items/2'",
		    "items/2/upload.xml: missing" },
		/* an upload.xml that belongs to another item */
		{ "u2", "sed -i 's/item=\"2\"/item=\"1\"/' '%s/items/2/upload.xml'",
		    "items/2/upload.xml: it is the upload of item '1'" },
		/* chunk pages outside the upload */
		{ "u3", "sed -i 's/last=\"4\"/last=\"9\"/' '%s/items/1/upload.xml'",
		    "chunk pages 2-9 are outside 1-4" },
		/* an upload.xml of another order */
		{ "u5", "sed -i 's/order=\"1001\"/order=\"1002\"/' '%s/items/1/upload.xml'",
		    "items/1/upload.xml: it is an upload of order '1002', not '1001'" },
		/* a page number past the count */
		{ "u4", "sed -i 's/n=\"4\"/n=\"5\"/' '%s/items/1/upload.xml'",
		    "page 5 is outside 1-4" },
	};
	char *b;

	(void)state;
	/* an email order into a print spool */
	b = bundle_copy(dir, "email", "2001", "w1");
	refused(b, NULL, "order 2001 is for workflow 'email', this spool runs 'print'");
	free(b);
	refused_spoiled(cases, sizeof cases / sizeof cases[0]);
}

static void
test_pos_takes_no_uploads(void **state)
{
	struct spool_err err;
	struct spool *pos;
	char *b, *d2 = tmpdir_make();

	(void)state;
	pos = spool_make(d2, "pos");
	b = bundle_copy(d2, "pos", "3001", "p");
	assert_int_equal(sh("mkdir -p '%s/items/1'", b), 0);
	assert_int_equal(spool_submit(pos, AT_FDCWD, b, NULL, "admin:t", NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "items: workflow 'pos' takes no uploads"));
	free(b);
	spool_close(pos);
	tree_rm(d2);
	free(d2);
}

static void
test_xml_check(void **state)
{
	struct spool_err err;
	const char *up = "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"1\" complete=\"true\">"
	    "<product id=\"p\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product>"
	    "<page n=\"1\" file=\"a.pdf\"/></upload>";

	(void)state;
	assert_int_equal(spool_xml_check("upload", up, strlen(up), &err), 0);
	assert_int_equal(spool_xml_check("order", up, strlen(up), &err), -1);
	assert_int_equal(spool_xml_check("job.xml", "<a/>", 4, &err), 0);
	assert_int_equal(spool_xml_check("job.xml", "<a>", 3, &err), -1);
	assert_non_null(strstr(err.msg, "job.xml: not well-formed at line 1:"));
}

/*
 * The one reader of upload.xml (lib/bundle/upload.c) that submit and the stitch
 * share: each case as submit reads it (flags 0) and as the stitch does (UPLOAD_PRINT).
 */
#define UP(attrs, chunks, pages) \
	"<upload xmlns=\"urn:spool:upload:1\" item=\"1\" order=\"1001\" " attrs ">" \
	"<product id=\"x\" name=\"Booklet\">" chunks "</product>" pages "</upload>"
#define CH(kind, first, last) \
	"<chunk kind=\"" kind "\" first=\"" first "\" last=\"" last "\"/>"
#define PG(n, file) "<page n=\"" n "\" file=\"" file "\"/>"
#define PAGES3 PG("1", "a.pdf") PG("2", "b.pdf") PG("3", "c.pdf")

/* upload_parse(xml) with flags must fail with an error that contains want. */
static void
upload_refused(const char *xml, int flags, const char *want)
{
	struct spool_err err = { "" };
	struct upload u;

	if (upload_parse(xml, strlen(xml), "items/1/upload.xml", "1", "1001", flags, &u,
	    &err) == 0)
		fail_msg("accepted with flags %d (want: %s): %s", flags, want, xml);
	if (strstr(err.msg, want) == NULL)
		fail_msg("got '%s', want '%s'", err.msg, want);
	assert_int_equal(errno, EINVAL);
	assert_null(u.chunks);
	assert_null(u.files);
}

static void
test_upload_parse(void **state)
{
	const char *good = UP("pages=\"3\" complete=\"true\"",
	    CH("cover", "1", "1") CH("content", "2", "3"), PAGES3);
	const char *part = UP("pages=\"3\" complete=\"false\"", CH("content", "1", "3"),
	    PG("2", "b.pdf"));
	const char *twice = UP("pages=\"3\" complete=\"true\"",
	    CH("content", "1", "1") CH("content", "2", "3"), PAGES3);
	struct spool_err err;
	struct upload u;
	int flags;

	(void)state;
	/* the facts, the same for both readers */
	for (flags = 0; flags <= UPLOAD_PRINT; flags += UPLOAD_PRINT) {
		assert_int_equal(upload_parse(good, strlen(good), "upload.xml", "1", NULL, flags, &u,
		    &err), 0);
		assert_int_equal(u.pages, 3);
		assert_true(u.complete);
		assert_string_equal(u.product_name, "Booklet");
		assert_int_equal(u.nchunks, 2);
		assert_string_equal(u.chunks[0].kind, "cover");
		assert_int_equal(u.chunks[0].first, 1);
		assert_int_equal(u.chunks[0].last, 1);
		assert_string_equal(u.chunks[1].kind, "content");
		assert_int_equal(u.chunks[1].first, 2);
		assert_int_equal(u.chunks[1].last, 3);
		assert_string_equal(u.files[1], "a.pdf");
		assert_string_equal(u.files[3], "c.pdf");
		upload_free(&u);
		/* the same refusals */
		upload_refused(UP("pages=\"3\" complete=\"true\"", CH("Cover", "1", "1"), PAGES3),
		    flags, "items/1/upload.xml:1: ");
		upload_refused(UP("pages=\"3\" complete=\"true\"", CH("c", "2", "9"), PAGES3), flags,
		    "items/1/upload.xml:1: chunk pages 2-9 are outside 1-3");
		upload_refused(UP("pages=\"3\" complete=\"true\"", CH("c", "3", "2"), PAGES3), flags,
		    "chunk pages 3-2 are outside 1-3");
		upload_refused(UP("pages=\"3\" complete=\"true\"", CH("c", "1", "3"),
		    PAGES3 PG("4", "d.pdf")), flags, "items/1/upload.xml:1: page 4 is outside 1-3");
		upload_refused(UP("pages=\"1\" complete=\"true\"", CH("c", "1", "1"),
		    PG("1", "../2/a.pdf")), flags, "items/1/upload.xml:1: ");
		upload_refused(UP("pages=\"1\" complete=\"true\"", CH("c", "1", "1"),
		    PG("1", "upload.xml")), flags, "items/1/upload.xml:1: ");
		upload_refused(UP("pages=\"3\" complete=\"true\"", CH("c", "1", "1"),
		    PG("1", "a.pdf") PG("3", "c.pdf")), flags,
		    "items/1/upload.xml: page 2 is missing but the upload is complete");
	}
	/* a page number that does not parse, which the schema lets through */
	upload_refused(UP("pages=\"3 \" complete=\"true\"", CH("c", "1", "3"), PAGES3), 0,
	    "items/1/upload.xml: bad page count");
	/* another item's, another order's */
	assert_int_equal(upload_parse(good, strlen(good), "upload.xml", "2", NULL, 0, &u, &err), -1);
	assert_string_equal(err.msg, "upload.xml: it is the upload of item '1'");
	assert_int_equal(upload_parse(good, strlen(good), "upload.xml", "1", "1002", 0, &u, &err),
	    -1);
	assert_string_equal(err.msg, "upload.xml: it is an upload of order '1001', not '1002'");
	/* a DOCTYPE, before anything else is read */
	upload_refused("<!DOCTYPE upload [<!ENTITY a \"b\">]>" UP("pages=\"1\" complete=\"true\"",
	    CH("c", "1", "1"), PG("1", "a.pdf")), 0, "items/1/upload.xml:1: a DOCTYPE is not allowed");
	/* not complete: submit takes it with the pages it lists, the stitch does not */
	assert_int_equal(upload_parse(part, strlen(part), "upload.xml", "1", NULL, 0, &u, &err), 0);
	assert_false(u.complete);
	assert_string_equal(u.files[1], "");
	assert_string_equal(u.files[2], "b.pdf");
	upload_free(&u);
	upload_refused(part, UPLOAD_PRINT, "items/1/upload.xml: the upload is not complete");
	/* two chunks of one kind: submit takes them (as it always has), the stitch does not */
	assert_int_equal(upload_parse(twice, strlen(twice), "upload.xml", "1", NULL, 0, &u, &err), 0);
	assert_int_equal(u.nchunks, 2);
	upload_free(&u);
	upload_refused(twice, UPLOAD_PRINT, "items/1/upload.xml:1: a second chunk of kind content");
	/* a chunk's page not listed: the stitch says which chunk */
	upload_refused(UP("pages=\"2\" complete=\"true\"", CH("c", "1", "2"), PG("1", "a.pdf")),
	    UPLOAD_PRINT, "items/1/upload.xml: page 2 of chunk c is not listed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_bundles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_xml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_violations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_xml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_and_odd_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads_and_workflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pos_takes_no_uploads, setup, teardown),
		cmocka_unit_test(test_xml_check),
		cmocka_unit_test(test_upload_parse),
	};
	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
