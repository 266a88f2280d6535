/*
 * Unit tests: job.xml and JDF tickets.  What spool writes validates against its schema
 * (job.xsd, and CIP4's JDF 1.9 schema) with xmllint; every hostile job.xml a printer
 * could leave in a hot folder gets its documented outcome; the printer's rules hold;
 * and a refusal restores the status while keeping what the printer wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

#define NOW 1795172400   /* 2026-11-20T11:00:00Z: the clock of refusals */
#define JOB_XSD "spool-layout/schemas/job.xsd"
#define EXAMPLE_JOB "spool-layout/examples/jobs/job.xml"
#define EXAMPLE_JDF "spool-layout/examples/jobs/1001-1-cover.jdf"


static const char *const billing[] = { "Jane Doe", "12 Harbour Road", "Bristol BS1 4RN" };
static const char *const shipping[] = { "Jane Doe", "c/o Harbour Café", "7 Quay St",
	"Bristol BS1 4RN" };
static const struct spool_job_chunk chunks[] = {
	{ "1001-1-cover.pdf", "cover", 1 },
	{ "1001-1-content.pdf", "content", 3 },
};

/* photobook-a4's [product] section in spool-layout/workflows/print.conf */
static const struct spool_product photobook = { .name = "photobook-a4", .width = 297,
	.height = 210, .weight = 170, .type = "Paper", .sides = SPOOL_SIDES_LONG };
#define SPOOL_ID "5f1c2a9e-7b3d-4e8a-9c41-0d2e6f7a8b19"

/* The job of spool-layout/examples/print/1001, item 1, as the examples show it. */
static struct spool_job
example(void)
{
	struct spool_job j = {
		.order_id = "1001", .item_id = "1", .placed = 1795166040,
		.customer = "Jane Doe", .email = "jane.doe@example.com", .phone = "+44 117 496 0000",
		.billing = billing, .nbilling = 3, .shipping = shipping, .nshipping = 4,
		.product = "photobook-a4", .product_name = "Photo book A4 landscape",
		.title = "Holiday 2026", .quantity = 1, .chunks = chunks, .nchunks = 2, .parts = 2,
		.invoice = "invoice.pdf", .upload = "upload.xml", .status = SPOOL_JOB_QUEUED,
		.spool_id = SPOOL_ID, .media = &photobook,
	};
	return j;
}

static int
setup(void **state)
{
	(void)state;
	fixture_dir(NOW);
	return 0;
}

static char *
path_of(const char *name)
{
	static char p[4][4200];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static void
put(const char *name, const char *text)
{
	file_write(path_of(name), text);
}

static char *
slurp(const char *name)
{
	return file_read(dfd, name, NULL);
}

static int
xmllint(const char *schema, const char *path)
{
	return sh("xmllint --noout --nonet --schema '%s' '%s' >/dev/null 2>&1", schema, path);
}

/* The value of an XPath 1.0 expression over a file, as xmllint prints it. */
static char *
xpath(const char *path, const char *expr)
{
	char out[4200], *s;
	size_t n;

	snprintf(out, sizeof out, "%s.xpath", path);
	if (sh("xmllint --nonet --xpath '%s' '%s' >'%s' 2>/dev/null", expr, path, out) != 0)
		return strdup("");
	s = file_read(AT_FDCWD, out, NULL);
	assert_non_null(s);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	unlink(out);
	return s;
}


/* Read dir/job.xml, which must fail with errno want_errno and an error with want. */
static void
read_fails(const char *what, int want_errno, const char *want)
{
	struct spool_jobxml j;
	struct spool_err err = { "" };
	int r;

	r = spool_jobxml_read(dfd, "job.xml", &j, &err);
	if (r != -1)
		fail_msg("%s: read succeeded (status %d); want %s", what, j.status, want);
	if (errno != want_errno)
		fail_msg("%s: errno %d (%s), want %d; err: %s", what, errno, strerror(errno), want_errno,
		    err.msg);
	if (strstr(err.msg, want) == NULL)
		fail_msg("%s: error '%s' does not say '%s'", what, err.msg, want);
	assert_null(strstr(err.msg, "root:"));
	assert_int_equal(j.status, SPOOL_JOB_BADSTATUS);
}

static void
read_ok(struct spool_jobxml *j)
{
	struct spool_err err = { "" };

	if (spool_jobxml_read(dfd, "job.xml", j, &err) < 0)
		fail_msg("read: %s", err.msg);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
/* A printer's job.xml around an OrderProductPrintStatus body. */
#define PRINTED(body) HEAD "<PrintJob version=\"1\">\n<Order><OrderId>1001</OrderId></Order>\n" \
	"<OrderProductPrintStatus>\n" body "\n</OrderProductPrintStatus>\n</PrintJob>\n"

/* ---- writing ------------------------------------------------------------------ */

static void
test_write_read_roundtrip(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	struct spool_jobxml j;
	char *s;

	(void)state;
	job.customer = "Jane <script>&amp;\"Doe\"</Name><OrderStatus>3</OrderStatus>";
	if (spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err) < 0)
		fail_msg("write: %s", err.msg);
	assert_int_equal(dir_count(dir), 1);        /* no temporary file left */
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_QUEUED);
	assert_int_equal(j.bad, SPOOL_JOB_BAD_NONE);
	assert_string_equal(j.order_id, "1001");
	assert_string_equal(j.item_id, "1");
	assert_string_equal(j.message, "");
	assert_true(j.line > 0);
	/* markup in a value stays text */
	s = slurp("job.xml");
	assert_non_null(strstr(s, "<Name>Jane &lt;script&gt;&amp;amp;\"Doe\"&lt;/Name&gt;&lt;OrderStatus"));
	assert_null(strstr(s, "<script>"));
	assert_non_null(strstr(s, "<Placed>2026-11-20T09:14:00Z</Placed>"));
	assert_non_null(strstr(s, "<Chunk kind=\"cover\" pages=\"1\">1001-1-cover.pdf</Chunk>"));
	assert_non_null(strstr(s, "<Invoice>invoice.pdf</Invoice>"));
	assert_non_null(strstr(s, "<Line>c/o Harbour Café</Line>"));
	assert_non_null(strstr(s, "<OrderStatusInUse>\n    <Queued>2</Queued>\n"
	    "    <Processing>15</Processing>\n    <Shipping>3</Shipping>\n    <Failed>10</Failed>\n"));
	free(s);

	/* a status and message written by the shop read back the same */
	job.status = SPOOL_JOB_CANCELLED;
	job.message = "Cancelled by the customer.\nDo not print.";
	if (spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err) < 0)
		fail_msg("write: %s", err.msg);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_CANCELLED);
	assert_string_equal(j.message, "Cancelled by the customer.\nDo not print.");
	s = slurp("job.xml");
	assert_non_null(strstr(s, "<OrderStatusMessage>Cancelled by the customer.<br/>Do not print."
	    "</OrderStatusMessage>"));
	free(s);

	/* NOREPLACE is passed through to the publish routine */
	assert_int_equal(spool_jobxml_write(dfd, "job.xml", -1, &job,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOREPLACE }, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(dir_count(dir), 1);
}

static void
test_write_validates(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	char *s, *p;

	(void)state;
	assert_int_equal(spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err), 0);
	assert_int_equal(xmllint(JOB_XSD, path_of("job.xml")), 0);
	/* the least a job can say */
	job.phone = job.product_name = job.title = job.invoice = job.upload = NULL;
	job.nbilling = job.nshipping = 0;
	job.nchunks = 1;
	job.chunks = &(struct spool_job_chunk){ "a.pdf", "content", 0 };
	assert_int_equal(spool_jobxml_write(dfd, "min.xml", -1, &job, NULL, &err), 0);
	assert_int_equal(xmllint(JOB_XSD, path_of("min.xml")), 0);
	/* the most: long text, every status, a message */
	job = example();
	job.title = "Ünïcödé “quotes” – 漢字 🙂 & <tags>";
	job.status = SPOOL_JOB_FAILED;
	job.message = "line one\n\nline three";
	job.quantity = 1000000;
	assert_int_equal(spool_jobxml_write(dfd, "max.xml", -1, &job, NULL, &err), 0);
	assert_int_equal(xmllint(JOB_XSD, path_of("max.xml")), 0);
	/* and the check can fail: an unknown status does not validate */
	s = slurp("job.xml");
	p = strstr(s, "<OrderStatus>2<");
	assert_non_null(p);
	p[13] = '5';
	put("bad.xml", s);
	free(s);
	assert_int_not_equal(xmllint(JOB_XSD, path_of("bad.xml")), 0);
}

/* Every value that could break the document or its readers is refused before writing. */
static void
test_write_refuses_bad_values(void **state)
{
	struct spool_err err;
	struct spool_job job;
	char longtext[300];
	static const struct spool_job_chunk txt = { "a.txt", "content", 1 },
		dots = { "../a.pdf", "content", 1 }, kind = { "a.pdf", "Cover", 1 },
		pages = { "a.pdf", "cover", 10001 };
	static const char *const many[9] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };
	int i;

	(void)state;
	memset(longtext, 'x', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	for (i = 0; i < 21; i++) {
		const char *want = NULL;

		job = example();
		switch (i) {
		case 0: job.customer = "red\x1b[31m"; want = "customer's name"; break;
		case 1: job.customer = "bad \xff byte"; want = "customer's name"; break;
		case 2: job.title = "not a character: \xef\xbf\xbe"; want = "title"; break;
		case 3: job.title = longtext; want = "title"; break;
		case 4: job.order_id = "../1001"; want = "order id"; break;
		case 5: job.item_id = ".1"; want = "item id"; break;
		case 6: job.chunks = &txt; job.nchunks = 1; want = "chunk"; break;
		case 7: job.chunks = &dots; job.nchunks = 1; want = "chunk"; break;
		case 8: job.chunks = &kind; job.nchunks = 1; want = "chunk"; break;
		case 9: job.chunks = &pages; job.nchunks = 1; want = "chunk"; break;
		case 10: job.nchunks = 0; want = "number of chunks"; break;
		case 11: job.quantity = 0; want = "quantity"; break;
		case 12: job.quantity = 1000001; want = "quantity"; break;
		case 13: job.status = 5; want = "status"; break;
		case 14: job.message = "a\r\nb"; want = "message"; break;
		case 15: job.billing = many; job.nbilling = 9; want = "billing"; break;
		case 16: job.email = NULL; want = "email"; break;
		case 17: job.invoice = "invoice"; want = "invoice"; break;
		case 18: job.product = ""; want = "product"; break;
		case 19: job.shipping = NULL; want = "shipping"; break;
		case 20: job.phone = "tab\there"; want = "phone"; break;
		}
		strcpy(err.msg, "");
		if (spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err) != -1)
			fail_msg("case %d was written", i);
		assert_int_equal(errno, EINVAL);
		if (strstr(err.msg, want) == NULL)
			fail_msg("case %d: '%s' does not say '%s'", i, err.msg, want);
		assert_int_equal(spool_jdf_write(dfd, "a.jdf", -1, &job, 0, NULL, &err), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* file names, and chunks that are not there */
	job = example();
	assert_int_equal(spool_jobxml_write(dfd, "../job.xml", -1, &job, NULL, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_jobxml_write(dfd, ".job.xml", -1, &job, NULL, &err), -1);
	assert_int_equal(spool_jobxml_write(dfd, "sub/job.xml", -1, &job, NULL, &err), -1);
	assert_int_equal(spool_jdf_write(dfd, "a.jdf", -1, &job, 2, NULL, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_jdf_write(dfd, "a.jdf", -1, &job, -1, NULL, &err), -1);
	assert_int_equal(dir_count(dir), 0);
}

/* The examples in spool-layout/ are what the code writes, byte for byte. */
static void
test_examples(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	char *buf, *want;
	size_t len, wlen = 0;
	const char *xsd = jdf_xsd();

	(void)state;
	assert_int_equal(spool_jobxml_format(&job, &buf, &len, &err), 0);
	want = file_read(AT_FDCWD, EXAMPLE_JOB, &wlen);
	assert_non_null(want);
	if (len != wlen || memcmp(buf, want, len) != 0)
		fail_msg("%s differs from what spool writes:\n%s", EXAMPLE_JOB, buf);
	free(buf);
	free(want);
	assert_int_equal(xmllint(JOB_XSD, EXAMPLE_JOB), 0);

	assert_int_equal(spool_jdf_format(&job, 0, &buf, &len, &err), 0);
	want = file_read(AT_FDCWD, EXAMPLE_JDF, &wlen);
	assert_non_null(want);
	if (len != wlen || memcmp(buf, want, len) != 0)
		fail_msg("%s differs from what spool writes:\n%s", EXAMPLE_JDF, buf);
	free(buf);
	free(want);
	if (xsd != NULL)
		assert_int_equal(xmllint(xsd, EXAMPLE_JDF), 0);
}

static void
check_jdf(const char *name, const struct spool_job *job, int chunk)
{
	const char *xsd = jdf_xsd();
	struct spool_err err = { "" };
	char *v, num[32], target[4200];
	struct stat st;

	if (spool_jdf_write(dfd, name, -1, job, chunk, NULL, &err) < 0)
		fail_msg("JDF: %s", err.msg);
	if (xmllint(xsd, path_of(name)) != 0) {
		sh("xmllint --noout --schema '%s' '%s'", xsd, path_of(name));
		fail_msg("%s does not validate against %s", name, xsd);
	}
	/* The URL is relative: resolved against the ticket's folder, it is the chunk PDF. */
	v = xpath(path_of(name), "string(/*/*[local-name()=\"ResourcePool\"]/*[local-name()="
	    "\"RunList\"]/*[local-name()=\"LayoutElement\"]/*[local-name()=\"FileSpec\"]/@URL)");
	assert_string_equal(v, job->chunks[chunk].file);
	assert_null(strchr(v, ':'));
	assert_null(strchr(v, '/'));
	snprintf(target, sizeof target, "%s/%s", dir, v);
	put(v, "%PDF-1.4\n");
	assert_int_equal(stat(target, &st), 0);
	free(v);
	/* the quantity is the output link's amount */
	v = xpath(path_of(name), "string(//*[local-name()=\"ComponentLink\"][@Usage=\"Output\"]"
	    "/@Amount)");
	snprintf(num, sizeof num, "%d", job->quantity);
	assert_string_equal(v, num);
	free(v);
	v = xpath(path_of(name), "string(/*/@Type)");
	assert_string_equal(v, "Combined");
	free(v);
	v = xpath(path_of(name), "string(/*/@Types)");
	assert_string_equal(v, job->media != NULL && job->media->sides != SPOOL_SIDES_UNSET ?
	    "LayoutPreparation Interpreting Rendering DigitalPrinting" :
	    "Interpreting Rendering DigitalPrinting");
	free(v);
}

/* The value of expr over the ticket name, compared with want. */
static void
jdf_is(const char *name, const char *expr, const char *want)
{
	char *v = xpath(path_of(name), expr);

	if (strcmp(v, want) != 0)
		fail_msg("%s: %s is '%s', want '%s'", name, expr, v, want);
	free(v);
}

/* Every ID and JobID of two tickets, one line each: "a.jdf" then "b.jdf". */
static char *
jdf_ids_of(const char *name)
{
	char out[4200];

	snprintf(out, sizeof out, "%s.ids", path_of(name));
	if (sh("xmllint --nonet --xpath '//@ID | /*/@JobID' '%s' | tr ' ' '\\n' | grep . "
	    "| sort >'%s'", path_of(name), out) != 0)
		fail_msg("cannot list the IDs of %s", name);
	return strdup(out);
}

/* Two spools publish the same order: no ID of one ticket is in the other. */
static void
test_jdf_ids(void **state)
{
	struct spool_job job = example();
	char *a, *b;

	(void)state;
	if (jdf_xsd() == NULL)
		skip();
	check_jdf("a.jdf", &job, 0);
	job.spool_id = "0b7e4c1d-2f3a-4b5c-8d6e-7f8091a2b3c4";
	check_jdf("b.jdf", &job, 0);
	a = jdf_ids_of("a.jdf");
	b = jdf_ids_of("b.jdf");
	/* 9 IDs and the JobID each, all different (comm -12: the lines both have) */
	assert_int_equal(sh("test $(wc -l <'%s') -eq 10 && test $(sort -u '%s' | wc -l) -eq 10", a,
	    a), 0);
	assert_int_equal(sh("test -z \"$(comm -12 '%s' '%s')\"", a, b), 0);
	/* every ID within JDF's 63 characters (the schema says so too) */
	assert_int_equal(sh("awk -F'\"' 'length($2) > 63 { exit 1 }' '%s'", a), 0);
	free(a);
	free(b);
	/* and the same spool and order, another chunk: another node */
	check_jdf("c.jdf", &job, 1);
	jdf_is("c.jdf", "string(/*/@JobID)", "1001.0b7e4c1d-2f3a-4b5c-8d6e-7f8091a2b3c4");
	assert_int_equal(sh("test \"$(xmllint --xpath 'string(/*/@ID)' '%s')\" != "
	    "\"$(xmllint --xpath 'string(/*/@ID)' '%s')\"", path_of("b.jdf"), path_of("c.jdf")), 0);
}

#define RES(el, at) "string(//*[local-name()=\"" el "\"]/@" at ")"

/* Media and Sides come from the product's section, and are left out without one. */
static void
test_jdf_media(void **state)
{
	struct spool_product flyer = { .name = "flyer-a5", .width = 148, .height = 210,
		.weight = 135, .sides = SPOOL_SIDES_SHORT };
	struct spool_job job = example();

	(void)state;
	if (jdf_xsd() == NULL)
		skip();
	check_jdf("photo.jdf", &job, 1);
	/* A4 landscape, 297 x 210 mm, in points */
	jdf_is("photo.jdf", RES("Media", "Dimension"), "841.89 595.28");
	jdf_is("photo.jdf", RES("Media", "Weight"), "170");
	jdf_is("photo.jdf", RES("Media", "MediaType"), "Paper");
	jdf_is("photo.jdf", RES("LayoutPreparationParams", "Sides"), "TwoSidedFlipY");
	/* the links name the resources, and each goes to its process */
	jdf_is("photo.jdf", "count(//*[local-name()=\"MediaLink\"][@CombinedProcessIndex=3])", "1");
	jdf_is("photo.jdf", "count(//*[local-name()=\"LayoutPreparationParamsLink\"]"
	    "[@CombinedProcessIndex=0])", "1");
	jdf_is("photo.jdf", "count(//@rRef[not(. = //@ID)])", "0");
	job.media = &flyer;
	check_jdf("flyer.jdf", &job, 0);
	jdf_is("flyer.jdf", RES("Media", "Dimension"), "419.53 595.28");
	jdf_is("flyer.jdf", RES("Media", "MediaType"), "");
	jdf_is("flyer.jdf", RES("LayoutPreparationParams", "Sides"), "TwoSidedFlipX");
	flyer.sides = SPOOL_SIDES_UNSET;
	flyer.width = flyer.height = 0;
	check_jdf("nosides.jdf", &job, 0);
	jdf_is("nosides.jdf", "count(//*[local-name()=\"LayoutPreparationParams\"])", "0");
	jdf_is("nosides.jdf", RES("Media", "Dimension"), "");
	jdf_is("nosides.jdf", RES("Media", "Weight"), "135");
	/* a product without a section: no Media, no Sides, and still valid */
	job.media = NULL;
	check_jdf("plain.jdf", &job, 0);
	jdf_is("plain.jdf", "count(//*[local-name()=\"Media\"] | //*[local-name()="
	    "\"MediaLink\"] | //*[local-name()=\"LayoutPreparationParams\"])", "0");
	jdf_is("plain.jdf", "count(//@rRef[not(. = //@ID)])", "0");
}

static void
test_jdf_validates(void **state)
{
	struct spool_job job = example();
	char id[65], item[65], title[257], *s, *p;
	const char *xsd = jdf_xsd();

	(void)state;
	if (xsd == NULL) {
		print_message("the JDF schema is not in ../shared/schemas/jdf (or $JDF_XSD)\n");
		skip();
	}
	job.quantity = 250;
	check_jdf("cover.jdf", &job, 0);
	check_jdf("content.jdf", &job, 1);
	/* ids at the limit of our grammar go past JDF's 63 characters: still valid */
	memset(id, 'o', 64);
	id[64] = '\0';
	memset(item, 'i', 64);
	item[64] = '\0';
	memset(title, 't', 256);
	title[256] = '\0';
	job.order_id = id;
	job.item_id = item;
	job.title = title;
	job.parts = 0;
	check_jdf("long.jdf", &job, 1);
	s = xpath(path_of("long.jdf"), "string(/*/@JobID)");
	assert_int_equal(strlen(s), 63);
	free(s);
	/* and the check can fail */
	s = slurp("cover.jdf");
	p = strstr(s, "Status=\"Waiting\"");
	assert_non_null(p);
	memcpy(p, "Status=\"Banana!\"", 16);
	put("bad.jdf", s);
	free(s);
	assert_int_not_equal(xmllint(xsd, path_of("bad.jdf")), 0);
}

/* ---- reading hostile job.xml ------------------------------------------------ */

static void
test_read_malformed(void **state)
{
	(void)state;
	put("job.xml", HEAD "<PrintJob>\n<OrderProductPrintStatus>\n</PrintJob>\n");
	read_fails("mismatched tags", EAGAIN, "not well-formed at line 4");
	put("job.xml", HEAD "<PrintJob><OrderStatus>2</OrderStatus></PrintJob>\n<again/>\n");
	read_fails("two roots", EAGAIN, "not well-formed at line 3");
	put("job.xml", "");
	read_fails("empty", EAGAIN, "not well-formed at line 1");
	put("job.xml", "\x01\x02 binary junk \xff\xfe");
	read_fails("junk", EAGAIN, "not well-formed");
	put("job.xml", HEAD "<PrintJob><a:b/></PrintJob>");
	read_fails("undeclared prefix", EAGAIN, "not well-formed");
	put("job.xml", HEAD "<Foo><OrderProductPrintStatus><OrderStatus>15</OrderStatus>"
	    "</OrderProductPrintStatus></Foo>");
	read_fails("another root", EINVAL, "not a job.xml");
	put("job.xml", HEAD "<p:PrintJob xmlns:p=\"urn:x\"/>");
	read_fails("a namespace", EINVAL, "not a job.xml");
}

/* Whatever point a printer's save has reached, a half-written file fails cleanly. */
static void
test_read_truncated(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	struct spool_jobxml j;
	char *full;
	size_t len, n;
	int r;

	(void)state;
	job.message = "Cover is fine\nContent is fine";
	job.status = SPOOL_JOB_PROCESSING;
	assert_int_equal(spool_jobxml_format(&job, &full, &len, &err), 0);
	while (len > 0 && full[len - 1] == '\n')
		len--;
	for (n = 0; n < len; n++) {
		r = spool_jobxml_parse(full, n, "job.xml", &j, &err);
		if (r != -1)
			fail_msg("a prefix of %zu of %zu bytes parsed", n, len);
		assert_int_equal(errno, EAGAIN);
		if (strncmp(err.msg, "job.xml: not well-formed at line ", 33) != 0)
			fail_msg("prefix %zu: '%s'", n, err.msg);
	}
	/* and on disk: the last line missing */
	full[len - 12] = '\0';
	put("job.xml", full);
	read_fails("half written", EAGAIN, "not well-formed at line");
	free(full);
}

static void
test_read_xxe(void **state)
{
	(void)state;
	put("job.xml", HEAD "<!DOCTYPE PrintJob [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
	    "<PrintJob><OrderProductPrintStatus><OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>&x;</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	read_fails("external entity", EINVAL, "job.xml:2: a DOCTYPE is not allowed");
	put("job.xml", HEAD "<!DOCTYPE PrintJob [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
	    "<PrintJob/>\n");
	read_fails("parameter entity", EINVAL, "DOCTYPE is not allowed");
	put("job.xml", HEAD "<!DOCTYPE PrintJob SYSTEM \"http://127.0.0.1:9/job.dtd\">\n<PrintJob/>\n");
	read_fails("external DTD", EINVAL, "DOCTYPE is not allowed");
	put("job.xml", HEAD "<PrintJob xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
	    "<OrderProductPrintStatus><OrderStatus>10</OrderStatus><OrderStatusMessage>"
	    "<xi:include href=\"/etc/passwd\" parse=\"text\"/></OrderStatusMessage>"
	    "</OrderProductPrintStatus></PrintJob>\n");
	{
		struct spool_jobxml j;

		read_ok(&j);   /* XInclude is not processed: the message is empty */
		assert_string_equal(j.message, "");
	}
}

static void
test_read_entity_bombs(void **state)
{
	char *big, *p;
	struct timespec a, b;
	int i;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	put("job.xml", HEAD "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>\n"
	    "<PrintJob><OrderProductPrintStatus><OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>&lol9;</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	read_fails("billion laughs", EINVAL, "DOCTYPE is not allowed");
	/* the quadratic blow-up: one 50 KB entity used 10,000 times */
	big = malloc(1 << 20);
	p = big + sprintf(big, HEAD "<!DOCTYPE PrintJob [<!ENTITY x \"");
	memset(p, 'x', 50000);
	p += 50000;
	p += sprintf(p, "\">]>\n<PrintJob><OrderProductPrintStatus><OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>");
	for (i = 0; i < 10000; i++)
		p += sprintf(p, "&x;");
	sprintf(p, "</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	put("job.xml", big);
	free(big);
	read_fails("quadratic blow-up", EINVAL, "DOCTYPE is not allowed");
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 5);
	/* a DOCTYPE with nothing in it is refused too: job.xml never needs one */
	put("job.xml", HEAD "<!DOCTYPE PrintJob>\n<PrintJob/>\n");
	read_fails("plain DOCTYPE", EINVAL, "job.xml:2: a DOCTYPE is not allowed");
}

static void
test_read_not_a_file(void **state)
{
	char outside[4200];
	struct spool_jobxml j;
	struct spool_err err;

	(void)state;
	/* a symlink to a good job.xml elsewhere: refused, never followed */
	snprintf(outside, sizeof outside, "%s/elsewhere/job.xml", dir);
	file_write(outside, PRINTED("<OrderStatus>15</OrderStatus>"));
	assert_int_equal(symlink(outside, path_of("job.xml")), 0);
	read_fails("symlink", ELOOP, "symlink");
	unlink(path_of("job.xml"));
	assert_int_equal(symlink("/etc/passwd", path_of("job.xml")), 0);
	read_fails("symlink to /etc/passwd", ELOOP, "symlink");
	unlink(path_of("job.xml"));
	assert_int_equal(symlink("../../../../../../etc/passwd", path_of("job.xml")), 0);
	read_fails("relative symlink", ELOOP, "symlink");
	unlink(path_of("job.xml"));
	/* a folder, a FIFO (must not block), nothing at all */
	assert_int_equal(mkdir(path_of("job.xml"), 0700), 0);
	read_fails("folder", EINVAL, "not a regular file");
	rmdir(path_of("job.xml"));
	assert_int_equal(mkfifo(path_of("job.xml"), 0600), 0);
	read_fails("FIFO", EINVAL, "not a regular file");
	unlink(path_of("job.xml"));
	read_fails("missing", ENOENT, "job.xml");
	/* names that are not plain file names */
	assert_int_equal(spool_jobxml_read(dfd, "../job.xml", &j, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_jobxml_read(dfd, "elsewhere/job.xml", &j, &err), -1);
	assert_int_equal(errno, EINVAL);
}

/* A printer's editor still saving while spoold reads: refused, to be read again. */
static void
test_read_grows(void **state)
{
	struct spool_jobxml j;

	(void)state;
	put("job.xml", PRINTED("<OrderStatus>15</OrderStatus>"));
	read_ok(&j);
	grow_on_read(path_of("job.xml"), 100);
	read_fails("grown", EAGAIN, "it grew while being read; read it again");
}

static void
test_read_big(void **state)
{
	char *big;
	size_t n = 10 << 20, head;
	struct spool_jobxml j;

	(void)state;
	/* 10 MiB that would parse: refused by its size, before reading */
	big = malloc(n + 1);
	head = (size_t)sprintf(big, HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>15"
	    "</OrderStatus></OrderProductPrintStatus><!-- ");
	memset(big + head, 'x', n - head);
	strcpy(big + n - 20, " --></PrintJob>\n");
	put("job.xml", big);
	read_fails("10 MiB", EFBIG, "over the limit");
	/* one byte over the limit, and exactly at it */
	strcpy(big + SPOOL_JOBXML_MAX + 1 - 16, " --></PrintJob>\n");
	put("job.xml", big);
	read_fails("1 MiB + 1", EFBIG, "over the limit");
	strcpy(big + SPOOL_JOBXML_MAX - 16, " --></PrintJob>\n");
	put("job.xml", big);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_PROCESSING);
	free(big);
}

static void
test_read_encodings(void **state)
{
	struct spool_jobxml j;

	(void)state;
	/* Latin-1 bytes in a file that says (or defaults to) UTF-8 */
	put("job.xml", PRINTED("<OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>Gr\xf6\xdf" "e falsch</OrderStatusMessage>"));
	read_fails("Latin-1 as UTF-8", EAGAIN, "UTF-8");
	put("job.xml", "<PrintJob><OrderProductPrintStatus><OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>\xc3\x28 \xed\xa0\x80 \xc0\xaf</OrderStatusMessage>"
	    "</OrderProductPrintStatus></PrintJob>");
	read_fails("invalid UTF-8", EAGAIN, "UTF-8");
	/* a file that says what it is: converted */
	put("job.xml", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<PrintJob><Order><OrderId>1001"
	    "</OrderId></Order><OrderProductPrintStatus><OrderStatus>10</OrderStatus>"
	    "<OrderStatusMessage>Gr\xf6\xdf" "e falsch</OrderStatusMessage>"
	    "</OrderProductPrintStatus></PrintJob>\n");
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_string_equal(j.message, "Gr\xc3\xb6\xc3\x9f" "e falsch");
	/* UTF-16 with a byte order mark, as Windows Notepad can save it */
	assert_int_equal(sh("printf '<?xml version=\"1.0\"?><PrintJob><OrderProductPrintStatus>"
	    "<OrderStatus>15</OrderStatus></OrderProductPrintStatus></PrintJob>' | "
	    "iconv -f UTF-8 -t UTF-16 >'%s'", path_of("job.xml")), 0);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_PROCESSING);
}

static int
utf8_clean(const char *s)
{
	char *copy = strdup(s), *line, *nl;
	int ok = 1;

	for (line = copy; ok && line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		ok = text_ok(line);
	}
	free(copy);
	return ok;
}

static void
test_read_huge_message(void **state)
{
	char *big, *p;
	struct spool_jobxml j;
	size_t i;

	(void)state;
	/* 900 KB of two-byte characters: cut at a character boundary */
	big = malloc(1 << 20);
	p = big + sprintf(big, HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>10"
	    "</OrderStatus><OrderStatusMessage>x");
	for (i = 0; i < 450000; i++)
		p += sprintf(p, "\xc3\xa4");
	sprintf(p, "</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	put("job.xml", big);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_int_equal(j.message_cut, 1);
	/* "x", 510 of them, and the mark of the cut, in SPOOL_JOB_MSG_MAX bytes */
	assert_int_equal(strlen(j.message), SPOOL_JOB_MSG_MAX);
	assert_string_equal(j.message + SPOOL_JOB_MSG_MAX - 5, "\xc3\xa4...");
	assert_true(utf8_clean(j.message));
	/* 100,000 lines of nothing but breaks and blanks: nothing */
	p = big + sprintf(big, HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>10"
	    "</OrderStatus><OrderStatusMessage>");
	for (i = 0; i < 100000; i++)
		p += sprintf(p, "<br/> \n");
	sprintf(p, "</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	put("job.xml", big);
	read_ok(&j);
	assert_string_equal(j.message, "");
	assert_int_equal(j.message_cut, 0);
	/* deep nesting inside the message is walked only so far, and the parser stops it */
	p = big + sprintf(big, HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>10"
	    "</OrderStatus><OrderStatusMessage>");
	for (i = 0; i < 100; i++)
		p += sprintf(p, "<b>");
	p += sprintf(p, "deep");
	for (i = 0; i < 100; i++)
		p += sprintf(p, "</b>");
	sprintf(p, "top</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n");
	put("job.xml", big);
	read_ok(&j);
	assert_string_equal(j.message, "top");
	p = big + sprintf(big, HEAD "<PrintJob><OrderProductPrintStatus><OrderStatusMessage>");
	for (i = 0; i < 100000; i++)
		p += sprintf(p, "<b>");
	put("job.xml", big);
	read_fails("100,000 levels", EAGAIN, "not well-formed");
	free(big);
}

static void
test_read_message_text(void **state)
{
	struct spool_jobxml j;

	(void)state;
	/* document 002's example */
	put("job.xml", HEAD "<PrintJob>\n<OrderProductPrintStatus>\n"
	    "<OrderProductId>3</OrderProductId>\n<Quantity>1</Quantity>\n"
	    "<OrderStatus>10</OrderStatus>\n"
	    "<OrderStatusMessage>One of the pages is missing!<br/>This is line2</OrderStatusMessage>\n"
	    "</OrderProductPrintStatus>\n</PrintJob>\n");
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_string_equal(j.item_id, "3");
	assert_string_equal(j.order_id, "");
	assert_string_equal(j.message, "One of the pages is missing!\nThis is line2");
	assert_int_equal(j.line, 6);
	/* <br> typed as text, in any case; blanks, controls and invisible characters */
	put("job.xml", PRINTED("<OrderStatus> 10 </OrderStatus>\n<OrderStatusMessage>\n"
	    "    Page 3 &lt;BR /&gt;is\tblank<BR></BR>x&#x7f;&#x85;&#x202e;&#x200b;&#xfeff;y"
	    "<!-- not this --><?pi not this?><b>bold</b> <![CDATA[<br>cdata & more]]>"
	    "<br/><br/><br/><br/>end&#x2028;last\n  </OrderStatusMessage>"));
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_string_equal(j.status_text, "10");
	assert_string_equal(j.message, "Page 3\nis blank\nxybold\ncdata & more\n\nend\nlast");
	/* a message of nothing counts as none */
	put("job.xml", PRINTED("<OrderStatus>10</OrderStatus><OrderStatusMessage> <br/>&#x200b;"
	    "</OrderStatusMessage>"));
	read_ok(&j);
	assert_string_equal(j.message, "");
}

static void
test_read_bad_status(void **state)
{
	static const struct {
		const char *doc;
		enum spool_job_bad bad;
		const char *verdict;
	} cases[] = {
		{ HEAD "<PrintJob><Order/></PrintJob>", SPOOL_JOB_BAD_NOBLOCK,
		    "OrderProductPrintStatus is missing" },
		{ PRINTED("<OrderStatus>15</OrderStatus></OrderProductPrintStatus>"
		    "<OrderProductPrintStatus><OrderStatus>3</OrderStatus>"),
		    SPOOL_JOB_BAD_BLOCKS, "appears more than once" },
		{ PRINTED("<OrderStatusMessage>done</OrderStatusMessage>"), SPOOL_JOB_BAD_NOSTATUS,
		    "OrderStatus is missing" },
		{ PRINTED("<OrderStatus>15</OrderStatus><OrderStatus>3</OrderStatus>"),
		    SPOOL_JOB_BAD_STATUSES, "OrderStatus appears more than once" },
		{ PRINTED("<OrderStatus>Processing</OrderStatus>"), SPOOL_JOB_BAD_NUMBER,
		    "OrderStatus 'Processing' is not a status" },
		{ PRINTED("<OrderStatus>1 5</OrderStatus>"), SPOOL_JOB_BAD_NUMBER, "'1 5'" },
		/* a line separator is no line break in one-line text (found by the fuzzer) */
		{ PRINTED("<OrderStatus>1&#x2028;5</OrderStatus>"), SPOOL_JOB_BAD_NUMBER,
		    "OrderStatus '1 5' is not" },
		{ PRINTED("<OrderStatus>-3</OrderStatus>"), SPOOL_JOB_BAD_NUMBER, "'-3'" },
		{ PRINTED("<OrderStatus>99999999999999999999</OrderStatus>"), SPOOL_JOB_BAD_NUMBER,
		    "is not a status" },
		{ PRINTED("<OrderStatus></OrderStatus>"), SPOOL_JOB_BAD_NUMBER, "'' is not" },
	};
	struct spool_jobxml j;
	struct spool_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		put("job.xml", cases[i].doc);
		read_ok(&j);
		if (j.status != SPOOL_JOB_BADSTATUS || j.bad != cases[i].bad)
			fail_msg("case %zu: status %d, bad %d", i, j.status, (int)j.bad);
		strcpy(err.msg, "");
		assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &err), -1);
		assert_int_equal(errno, EINVAL);
		if (strstr(err.msg, cases[i].verdict) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].verdict);
	}
	/* a number that is no status */
	put("job.xml", PRINTED("<OrderStatus>5</OrderStatus>"));
	read_ok(&j);
	assert_int_equal(j.status, 5);
	assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err.msg, "OrderStatus 5 is not a status"));
}

/* ---- the printer's rules -------------------------------------------------- */

static void
test_transitions(void **state)
{
	static const struct {
		int from, to;
		const char *msg;
		int want, err;
		const char *says;
	} t[] = {
		{ 2, 15, NULL, 1, 0, NULL },
		{ 15, 3, NULL, 1, 0, NULL },
		{ 2, 10, "pages missing", 1, 0, NULL },
		{ 15, 10, "paper jam", 1, 0, NULL },
		{ 3, 10, "lost in the post", 1, 0, NULL },
		{ 7, 10, "too late", 1, 0, NULL },
		{ 2, 2, NULL, 0, 0, NULL },
		{ 15, 15, NULL, 0, 0, NULL },
		{ 10, 10, NULL, 0, 0, NULL },
		{ 2, 3, NULL, -1, EPERM, "OrderStatus 3 (Shipping) cannot follow 2 (Queued): next "
		    "comes 15 (Processing)" },
		{ 2, 10, NULL, -1, EPERM, "needs an OrderStatusMessage" },
		{ 2, 10, "", -1, EPERM, "needs an OrderStatusMessage" },
		{ 15, 2, NULL, -1, EPERM, "set by the shop" },
		{ 2, 7, NULL, -1, EPERM, "set by the shop" },
		{ 3, 15, NULL, -1, EPERM, "cannot follow 3 (Shipping)" },
		{ 10, 15, NULL, -1, EPERM, "after a failure the shop decides" },
		{ 10, 3, NULL, -1, EPERM, "cannot follow 10 (Failed)" },
		{ 7, 15, NULL, -1, EPERM, "cannot follow 7 (Cancelled)" },
		{ 2, 5, NULL, -1, EINVAL, "OrderStatus 5 is not a status" },
		{ 2, 18, NULL, -1, EINVAL, "not a status" },
		{ 2, 0, NULL, -1, EINVAL, "not a status" },
		{ 2, -1, NULL, -1, EINVAL, "not a status" },
		{ 5, 15, NULL, -1, EINVAL, "status 5 is not a print job status" },
	};
	struct spool_err err;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		strcpy(err.msg, "");
		errno = 0;
		r = spool_job_transition(t[i].from, t[i].to, t[i].msg, &err);
		if (r != t[i].want || (r < 0 && errno != t[i].err))
			fail_msg("%d -> %d: %d (errno %d), want %d (errno %d)", t[i].from, t[i].to, r,
			    errno, t[i].want, t[i].err);
		if (t[i].says != NULL && strstr(err.msg, t[i].says) == NULL)
			fail_msg("%d -> %d: '%s' does not say '%s'", t[i].from, t[i].to, err.msg,
			    t[i].says);
	}
	assert_string_equal(spool_job_status_name(15), "Processing");
	assert_null(spool_job_status_name(18));
}

/* ---- refusing ---------------------------------------------------------------- */

/* Replace the first `from` in file dir/name with `to`. */
static void
edit(const char *name, const char *from, const char *to)
{
	char *s = slurp(name), *p, *n;

	assert_non_null(s);
	p = strstr(s, from);
	if (p == NULL)
		fail_msg("%s has no '%s'", name, from);
	n = malloc(strlen(s) + strlen(to) + 1);
	memcpy(n, s, (size_t)(p - s));
	strcpy(n + (p - s), to);
	strcat(n, p + strlen(from));
	put(name, n);
	free(n);
	free(s);
}

static int
count_of(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

static void
test_refuse(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" }, why;
	struct spool_jobxml j;
	struct stat st;
	char *s, *before;

	(void)state;
	assert_int_equal(spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err), 0);
	/* The printer jumps from Queued to Shipping, and writes things of its own. */
	edit("job.xml", "<OrderStatus>2</OrderStatus>", "<OrderStatus>3</OrderStatus>\n"
	    "    <OrderStatusMessage>Sent with DHL<br/>Tracking 0042</OrderStatusMessage>");
	edit("job.xml", "<OrderStatusInUse>", "<!-- checked by Bob -->\n  <PrinterNote lang=\"de\">"
	    "Kunde anrufen &amp; fragen</PrinterNote>\n  <OrderStatusInUse>");
	assert_int_equal(chmod(path_of("job.xml"), 0644), 0);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_SHIPPING);
	assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &why), -1);
	assert_int_equal(errno, EPERM);
	before = slurp("job.xml");
	if (spool_jobxml_refuse(dfd, "job.xml", -1, &(struct spool_jobxml_refusal){ j.status,
	    SPOOL_JOB_QUEUED, why.msg, NULL }, &err) < 0)
		fail_msg("refuse: %s", err.msg);
	assert_int_equal(dir_count(dir), 1);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_QUEUED);
	assert_string_equal(j.message, "Sent with DHL\nTracking 0042");
	s = slurp("job.xml");
	assert_non_null(strstr(s, "<!-- checked by Bob -->"));
	assert_non_null(strstr(s, "<PrinterNote lang=\"de\">Kunde anrufen &amp; fragen</PrinterNote>"));
	assert_non_null(strstr(s, "<OrderStatusMessage>Sent with DHL<br/>Tracking 0042"));
	assert_non_null(strstr(s, "<OrderStatus>2</OrderStatus>"));
	assert_non_null(strstr(s, "</OrderStatusMessage>\n    <OrderStatusError refused=\"3\" "
	    "time=\"2026-11-20T11:00:00Z\">OrderStatus 3 (Shipping) cannot follow 2 (Queued): "));
	assert_null(strstr(s, "<OrderStatus>3"));
	/* everything before OrderProductPrintStatus is as the printer left it */
	assert_memory_equal(s + strlen(HEAD), before + strlen(HEAD),
	    (size_t)(strstr(before, "<OrderProductPrintStatus>") - before) - strlen(HEAD));
	free(before);
	free(s);
	assert_int_equal(stat(path_of("job.xml"), &st), 0);
	/* the printer's bits stay, and its group may always write it: the file is spoold's now */
	assert_int_equal(st.st_mode & 0777, 0664);

	/* Again: one error element, the latest. */
	edit("job.xml", "<OrderStatus>2</OrderStatus>", "<OrderStatus>7</OrderStatus>");
	read_ok(&j);
	assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &why), -1);
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &(struct spool_jobxml_refusal){
	    j.status, SPOOL_JOB_QUEUED, why.msg, NULL }, &err), 0);
	s = slurp("job.xml");
	assert_int_equal(count_of(s, "<OrderStatusError"), 1);
	assert_non_null(strstr(s, "refused=\"7\""));
	assert_non_null(strstr(s, "set by the shop, not by the printer</OrderStatusError>"));
	free(s);
	/* a legal move afterwards reads as one */
	edit("job.xml", "<OrderStatus>2</OrderStatus>", "<OrderStatus>15</OrderStatus>");
	read_ok(&j);
	assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &why), 1);
}

/* A refused document without additions of the printer's is still valid job.xml. */
static void
test_refuse_valid(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	char *buf, *out, *p;
	size_t len, olen;

	(void)state;
	job.status = SPOOL_JOB_PROCESSING;
	job.message = "Printing <now> & \"then\"";
	assert_int_equal(spool_jobxml_format(&job, &buf, &len, &err), 0);
	p = strstr(buf, "<OrderStatus>15<");
	assert_non_null(p);
	memcpy(p, "<OrderStatus>99<", 16);
	if (spool_jobxml_refuse_buf(buf, len, "job.xml", &(struct spool_jobxml_refusal){ 99,
	    SPOOL_JOB_PROCESSING, "OrderStatus 99 is not a status <&>", NULL }, &out, &olen, &err) < 0)
		fail_msg("refuse: %s", err.msg);
	put("refused.xml", out);
	assert_int_equal(xmllint(JOB_XSD, path_of("refused.xml")), 0);
	assert_non_null(strstr(out, ">OrderStatus 99 is not a status &lt;&amp;&gt;</OrderStatusError>"));
	free(out);
	free(buf);
}

/* A job.xml as a Windows editor saves it: a byte-order mark, CRLF, its own declaration. */
#define WIN_HEAD "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8' standalone='yes'?>\r\n"
#define WIN_BODY(status, tail) "<PrintJob version=\"1\">\r\n" \
	"  <!-- edited in Notepad -->\r\n" \
	"  <Order>\r\n    <OrderId>1001</OrderId>\r\n  </Order>\r\n" \
	"  <OrderProductPrintStatus>\r\n    <OrderProductId>1</OrderProductId>\r\n" \
	"    <OrderStatus>" status "</OrderStatus>\r\n" \
	"    <OrderStatusMessage>Caf\xc3\xa9 press<br/>line two</OrderStatusMessage>" tail "\r\n" \
	"  </OrderProductPrintStatus>\r\n</PrintJob>\r\n"
#define WIN_ERROR "\r\n    <OrderStatusError refused=\"99\" time=\"2026-11-20T11:00:00Z\">" \
	"OrderStatus 99 is not a status</OrderStatusError>"

/* A refusal keeps the BOM, the declaration and CRLF: only the changed element differs. */
static void
test_refuse_keeps_style(void **state)
{
	static const char in[] = WIN_HEAD WIN_BODY("99", "");
	static const char want[] = WIN_HEAD WIN_BODY("15", WIN_ERROR);
	struct spool_err err = { "" };
	char *out;
	size_t olen;

	(void)state;
	if (spool_jobxml_refuse_buf(in, sizeof in - 1, "job.xml", &(struct spool_jobxml_refusal){
	    99, SPOOL_JOB_PROCESSING, "OrderStatus 99 is not a status", NULL }, &out, &olen,
	    &err) < 0)
		fail_msg("refuse: %s", err.msg);
	if (olen != sizeof want - 1 || memcmp(out, want, olen) != 0)
		fail_msg("refused, it is\n%s\nwant\n%s", out, want);
	free(out);
	/* LF stays LF, no BOM stays none, and a declaration without encoding stays so */
	{
		static const char lf[] = "<?xml version=\"1.0\"?>\n<PrintJob><OrderProductPrintStatus>"
		    "<OrderStatus>99</OrderStatus></OrderProductPrintStatus></PrintJob>\n";
		if (spool_jobxml_refuse_buf(lf, sizeof lf - 1, "job.xml",
		    &(struct spool_jobxml_refusal){ 99, SPOOL_JOB_QUEUED, "no", NULL }, &out, &olen,
		    &err) < 0)
			fail_msg("refuse: %s", err.msg);
		assert_int_equal(strncmp(out, "<?xml version=\"1.0\"?>\n<PrintJob>", 32), 0);
		assert_null(strchr(out, '\r'));
		free(out);
	}
}

/* A later valid status: the error element goes, everything else stays byte for byte. */
static void
test_accept_clears_error(void **state)
{
	static const char stale[] = WIN_HEAD WIN_BODY("3", WIN_ERROR);
	static const char want[] = WIN_HEAD WIN_BODY("3", "");
	struct spool_err err = { "" };
	struct stat st;
	char *out, *back;
	size_t olen;
	ino_t ino;

	(void)state;
	if (spool_jobxml_accept_buf(stale, sizeof stale - 1, "job.xml", SPOOL_JOB_SHIPPING, &out,
	    &olen, &err) < 0)
		fail_msg("accept: %s", err.msg);
	assert_non_null(out);
	if (olen != sizeof want - 1 || memcmp(out, want, olen) != 0)
		fail_msg("accepted, it is\n%s\nwant\n%s", out, want);
	free(out);
	/* nothing to clear: nothing written */
	assert_int_equal(spool_jobxml_accept_buf(want, sizeof want - 1, "job.xml",
	    SPOOL_JOB_SHIPPING, &out, &olen, &err), 0);
	assert_null(out);
	/* a file that says another status by now is left alone */
	assert_int_equal(spool_jobxml_accept_buf(stale, sizeof stale - 1, "job.xml",
	    SPOOL_JOB_PROCESSING, &out, &olen, &err), -1);
	assert_int_equal(errno, EAGAIN);
	/* on disk: replaced whole, then left alone when clean */
	put("job.xml", stale);
	assert_int_equal(spool_jobxml_accept(dfd, "job.xml", -1, SPOOL_JOB_SHIPPING, &err), 1);
	back = slurp("job.xml");
	assert_string_equal(back, want);
	free(back);
	assert_int_equal(fstatat(dfd, "job.xml", &st, 0), 0);
	ino = st.st_ino;
	assert_int_equal(spool_jobxml_accept(dfd, "job.xml", -1, SPOOL_JOB_SHIPPING, &err), 0);
	assert_int_equal(fstatat(dfd, "job.xml", &st, 0), 0);
	assert_int_equal(st.st_ino, ino);
}

static void
test_refuse_ambiguous(void **state)
{
	static const struct {
		const char *text;
		int bad, restore;
		const char *why;
		const char *once; /* after the refusal, in the file exactly once */
		const char *has;  /* and this in it */
	} cases[] = {
		/* two OrderStatus, one not a number: both go, the valid one comes back */
		{ PRINTED("<OrderProductId>1</OrderProductId>\n<OrderStatus>shipped!"
		    "</OrderStatus>\n<OrderStatus>3</OrderStatus>"), SPOOL_JOB_BAD_STATUSES,
		    SPOOL_JOB_PROCESSING, "OrderStatus appears more than once", "<OrderStatus>",
		    "refused=\"shipped!\"" },
		/* no OrderStatus at all */
		{ PRINTED("<OrderProductId>1</OrderProductId>"), SPOOL_JOB_BAD_NOSTATUS,
		    SPOOL_JOB_QUEUED, "OrderStatus is missing", NULL, "refused=\"(none)\"" },
		/* two OrderProductPrintStatus */
		{ PRINTED("<OrderStatus>15</OrderStatus></OrderProductPrintStatus>\n"
		    "<OrderProductPrintStatus><OrderStatus>3</OrderStatus>"), SPOOL_JOB_BAD_BLOCKS,
		    SPOOL_JOB_QUEUED, "OrderProductPrintStatus appears more than once",
		    "<OrderProductPrintStatus>", NULL },
		/* none: added */
		{ HEAD "<PrintJob><Order/></PrintJob>", SPOOL_JOB_BAD_NOBLOCK, SPOOL_JOB_QUEUED,
		    "OrderProductPrintStatus is missing", NULL, NULL },
	};
	struct spool_jobxml j;
	struct spool_err err = { "" };
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		put("job.xml", cases[i].text);
		read_ok(&j);
		if ((int)j.bad != cases[i].bad)
			fail_msg("%s: read says %d, want %d", cases[i].why, (int)j.bad, cases[i].bad);
		if (spool_jobxml_refuse(dfd, "job.xml", -1, &(struct spool_jobxml_refusal){
		    j.status, cases[i].restore, cases[i].why, NULL }, &err) != 0)
			fail_msg("%s: %s", cases[i].why, err.msg);
		read_ok(&j);
		if ((int)j.status != cases[i].restore)
			fail_msg("%s: status %d, want %d", cases[i].why, (int)j.status, cases[i].restore);
		s = slurp("job.xml");
		if (cases[i].once != NULL && count_of(s, cases[i].once) != 1)
			fail_msg("%s: %s not once in:\n%s", cases[i].why, cases[i].once, s);
		if (cases[i].has != NULL && strstr(s, cases[i].has) == NULL)
			fail_msg("%s: no %s in:\n%s", cases[i].why, cases[i].has, s);
		free(s);
	}
}

/* A refusal never acts on a file that is not what was read, or not safe to read. */
static void
test_refuse_leaves_alone(void **state)
{
	struct spool_err err = { "" };
	struct spool_jobxml_refusal r = { SPOOL_JOB_SHIPPING, SPOOL_JOB_QUEUED, "no", NULL };
	char outside[4200], *s;

	(void)state;
	/* the printer saved again meanwhile */
	put("job.xml", PRINTED("<OrderStatus>15</OrderStatus>"));
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &r, &err), -1);
	assert_int_equal(errno, EAGAIN);
	assert_non_null(strstr(err.msg, "read it again"));
	s = slurp("job.xml");
	assert_string_equal(s, PRINTED("<OrderStatus>15</OrderStatus>"));
	free(s);
	/* half written */
	put("job.xml", HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>3</Order");
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &r, &err), -1);
	assert_int_equal(errno, EAGAIN);
	/* a symlink, whose target stays untouched */
	unlink(path_of("job.xml"));
	snprintf(outside, sizeof outside, "%s/elsewhere/job.xml", dir);
	file_write(outside, PRINTED("<OrderStatus>3</OrderStatus>"));
	assert_int_equal(symlink(outside, path_of("job.xml")), 0);
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &r, &err), -1);
	assert_int_equal(errno, ELOOP);
	s = file_read(AT_FDCWD, outside, NULL);
	assert_string_equal(s, PRINTED("<OrderStatus>3</OrderStatus>"));
	free(s);
	unlink(path_of("job.xml"));
	/* a DOCTYPE */
	put("job.xml", HEAD "<!DOCTYPE PrintJob [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	    "<PrintJob><OrderProductPrintStatus><OrderStatus>3</OrderStatus>"
	    "</OrderProductPrintStatus></PrintJob>");
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &r, &err), -1);
	assert_int_equal(errno, EINVAL);
	/* nonsense asked of it */
	put("job.xml", PRINTED("<OrderStatus>3</OrderStatus>"));
	r.restore = 5;
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &r, &err), -1);
	assert_int_equal(errno, EINVAL);
	s = slurp("job.xml");
	assert_string_equal(s, PRINTED("<OrderStatus>3</OrderStatus>"));
	free(s);
}

/* The printer saves while spool refuses: its save wins. */
static int (*close_before)(int);
static const char *save_meanwhile;

/* After spool has read job.xml and closed it, and before it writes it back. */
static int
close_then_save(int fd)
{
	int r = close_before(fd);

	if (save_meanwhile != NULL) {
		/* rewritten in place, as Samba does it: same inode, new size and time */
		put("job.xml", save_meanwhile);
		save_meanwhile = NULL;
	}
	return r;
}

static void
test_refuse_race(void **state)
{
	const char *saved = PRINTED("<OrderStatus>15</OrderStatus><!-- saved again -->");
	struct spool_err err = { "" };
	char *s;

	(void)state;
	put("job.xml", PRINTED("<OrderStatus>3</OrderStatus>"));
	close_before = spool_sys.close;
	spool_sys.close = close_then_save;
	save_meanwhile = saved;
	assert_int_equal(spool_jobxml_refuse(dfd, "job.xml", -1, &(struct spool_jobxml_refusal){
	    SPOOL_JOB_SHIPPING, SPOOL_JOB_QUEUED, "no", NULL }, &err), -1);
	spool_sys.close = close_before;
	assert_int_equal(errno, EAGAIN);
	assert_non_null(strstr(err.msg, "changed while being refused"));
	s = slurp("job.xml");
	assert_string_equal(s, saved);
	free(s);
	assert_int_equal(dir_count(dir), 1);
}

/* ---- setting a status, as the web back office does ---------------------------- */

/* Set from -> to with message on dir/job.xml; it must be written. */
static void
set_ok(int from, int to, const char *message)
{
	struct spool_err err = { "" };
	int r;

	if ((r = spool_jobxml_set(dfd, "job.xml", -1, from, to, message, &err)) != 1)
		fail_msg("set %d -> %d: %d: %s", from, to, r, err.msg);
}

/* Set from -> to with message must fail with errno want and leave job.xml as it was. */
static void
set_fails(int from, int to, const char *message, int want, const char *says)
{
	struct spool_err err = { "" };
	struct stat a, b;
	char *before = slurp("job.xml"), *after;
	int r;

	assert_int_equal(fstatat(dfd, "job.xml", &a, AT_SYMLINK_NOFOLLOW), 0);
	r = spool_jobxml_set(dfd, "job.xml", -1, from, to, message, &err);
	if (r != -1 || errno != want)
		fail_msg("set %d -> %d: %d, errno %d (%s), want errno %d; err: %s", from, to, r,
		    errno, strerror(errno), want, err.msg);
	if (strstr(err.msg, says) == NULL)
		fail_msg("set %d -> %d: error '%s' does not say '%s'", from, to, err.msg, says);
	after = slurp("job.xml");
	assert_string_equal(after, before);
	assert_int_equal(fstatat(dfd, "job.xml", &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(b.st_ino, a.st_ino);
	assert_int_equal(dir_count(dir), 1);
	free(after);
	free(before);
}

/* The printer's moves, made from the web: the status and message change, nothing else. */
static void
test_set(void **state)
{
	struct spool_job job = example();
	struct spool_err err = { "" };
	struct spool_jobxml j;
	struct stat st;
	const char *end = "</OrderProductPrintStatus>";
	char *s, *before, *p, *q;

	(void)state;
	assert_int_equal(spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err), 0);
	/* what the printer wrote of its own, before */
	edit("job.xml", "<OrderStatusInUse>", "<!-- checked by Bob -->\n  <PrinterNote lang=\"de\">"
	    "Kunde anrufen &amp; fragen</PrinterNote>\n  <OrderStatusInUse>");
	edit("job.xml", "</PrintJob>", "<!-- tail -->\n</PrintJob>");
	assert_int_equal(chmod(path_of("job.xml"), 0644), 0);
	before = slurp("job.xml");

	set_ok(SPOOL_JOB_QUEUED, SPOOL_JOB_PROCESSING, "On press 2 since 9:00");
	assert_int_equal(dir_count(dir), 1);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_PROCESSING);
	assert_string_equal(j.message, "On press 2 since 9:00");
	assert_int_equal(spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &err), 1);
	s = slurp("job.xml");
	assert_non_null(strstr(s, "    <OrderStatus>15</OrderStatus>\n    <OrderStatusMessage>On press "
	    "2 since 9:00</OrderStatusMessage>\n  </OrderProductPrintStatus>"));
	/* everything up to OrderStatus, and after its block, is byte for byte the printer's */
	p = strstr(before, "<OrderStatus>");
	q = strstr(s, "<OrderStatus>");
	assert_non_null(p);
	assert_int_equal(q - s, p - before);
	assert_memory_equal(s, before, (size_t)(p - before));
	assert_string_equal(strstr(s, end), strstr(before, end));
	free(s);
	assert_int_equal(stat(path_of("job.xml"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0664);

	/* Processing -> Shipping without a message: the old one goes */
	set_ok(SPOOL_JOB_PROCESSING, SPOOL_JOB_SHIPPING, NULL);
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_SHIPPING);
	assert_string_equal(j.message, "");
	s = slurp("job.xml");
	assert_null(strstr(s, "<OrderStatusMessage"));
	assert_non_null(strstr(s, "<OrderStatus>3</OrderStatus>\n  </OrderProductPrintStatus>"));
	assert_string_equal(strstr(s, end), strstr(before, end));
	free(s);

	/* Failed, from any status, only with a message: blanks and controls are none */
	set_fails(SPOOL_JOB_SHIPPING, SPOOL_JOB_FAILED, NULL, EPERM, "needs an OrderStatusMessage");
	set_fails(SPOOL_JOB_SHIPPING, SPOOL_JOB_FAILED, "", EPERM, "needs an OrderStatusMessage");
	set_fails(SPOOL_JOB_SHIPPING, SPOOL_JOB_FAILED, " \r\n\t\x01\x7f\xe2\x80\x8b", EPERM,
	    "needs an OrderStatusMessage");
	set_ok(SPOOL_JOB_SHIPPING, SPOOL_JOB_FAILED, "Lost by the courier");
	read_ok(&j);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_string_equal(j.message, "Lost by the courier");
	free(before);

	/* from a spool-written document, the result is still valid job.xml */
	{
		char *buf, *out;
		size_t len, olen;

		assert_int_equal(spool_jobxml_format(&job, &buf, &len, &err), 0);
		assert_int_equal(spool_jobxml_set_buf(buf, len, "job.xml", SPOOL_JOB_QUEUED,
		    SPOOL_JOB_FAILED, "Paper jam\nreprint <tomorrow> & \"then\"", &out, &olen, &err), 1);
		put("set.xml", out);
		assert_int_equal(xmllint(JOB_XSD, path_of("set.xml")), 0);
		free(out);
		free(buf);
	}
}

/* A move the rules forbid, a file that says something else by now: nothing written. */
static void
test_set_refused(void **state)
{
	const char *queued = PRINTED("<OrderProductId>1</OrderProductId>\n"
	    "<OrderStatus>2</OrderStatus>");
	struct spool_err err = { "" };
	char outside[4200], big[SPOOL_JOB_MSG_MAX + 2], *s;
	struct stat a, b;

	(void)state;
	put("job.xml", queued);
	set_fails(SPOOL_JOB_QUEUED, SPOOL_JOB_SHIPPING, "sent", EPERM,
	    "OrderStatus 3 (Shipping) cannot follow 2 (Queued)");
	set_fails(SPOOL_JOB_QUEUED, SPOOL_JOB_CANCELLED, "no", EPERM, "set by the shop");
	set_fails(SPOOL_JOB_QUEUED, 99, "no", EINVAL, "OrderStatus 99 is not a status");
	set_fails(99, SPOOL_JOB_FAILED, "no", EINVAL, "status 99 is not a print job status");
	/* the printer (or another page) moved it first */
	set_fails(SPOOL_JOB_PROCESSING, SPOOL_JOB_SHIPPING, NULL, EAGAIN,
	    "OrderStatus is now '2', not 15 (Processing): read it again");
	/* over SPOOL_JOB_MSG_MAX bytes once cleaned: refused, not cut */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	set_fails(SPOOL_JOB_QUEUED, SPOOL_JOB_FAILED, big, EINVAL, "over 1024 bytes");
	/* half written */
	put("job.xml", HEAD "<PrintJob><OrderProductPrintStatus><OrderStatus>2</Order");
	set_fails(SPOOL_JOB_QUEUED, SPOOL_JOB_PROCESSING, NULL, EAGAIN, "not well-formed");
	/* no move: nothing written, as spoold would act on nothing */
	put("job.xml", queued);
	assert_int_equal(fstatat(dfd, "job.xml", &a, 0), 0);
	assert_int_equal(spool_jobxml_set(dfd, "job.xml", -1, SPOOL_JOB_QUEUED, SPOOL_JOB_QUEUED,
	    "still waiting", &err), 0);
	assert_int_equal(fstatat(dfd, "job.xml", &b, 0), 0);
	assert_int_equal(b.st_ino, a.st_ino);
	s = slurp("job.xml");
	assert_string_equal(s, queued);
	free(s);
	/* a symlink, whose target stays untouched */
	unlink(path_of("job.xml"));
	snprintf(outside, sizeof outside, "%s/elsewhere/job.xml", dir);
	file_write(outside, queued);
	assert_int_equal(symlink(outside, path_of("job.xml")), 0);
	assert_int_equal(spool_jobxml_set(dfd, "job.xml", -1, SPOOL_JOB_QUEUED,
	    SPOOL_JOB_PROCESSING, NULL, &err), -1);
	assert_int_equal(errno, ELOOP);
	s = file_read(AT_FDCWD, outside, NULL);
	assert_string_equal(s, queued);
	free(s);
}

/* What a person types becomes text and <br/>, and reads back as it was set, cleaned. */
static void
test_set_message(void **state)
{
	static const char in[] = PRINTED("<OrderProductId>1</OrderProductId>\n"
	    "<OrderStatus>15</OrderStatus>\n<OrderStatusMessage>old</OrderStatusMessage>");
	static const struct {
		const char *typed, *written, *reads;
	} cases[] = {
		/* CRLF and LF are line breaks, CR alone nothing, more than one empty line one */
		{ "Paper jam\r\nreprint <tomorrow> & \"then\"\n\n\n\x01" "done\r",
		    ">Paper jam<br/>reprint &lt;tomorrow&gt; &amp; \"then\"<br/><br/>done<",
		    "Paper jam\nreprint <tomorrow> & \"then\"\n\ndone" },
		/* blanks around lines go, a run of them is one, U+2028 breaks */
		{ "\n\n  two\t\tblanks  \r\n  next\xe2\x80\xa8last  \n\n", ">two blanks<br/>next<br/>last<",
		    "two blanks\nnext\nlast" },
		/* a <br> typed is a break, as in a printer's file; so is one a dropped char hid */
		{ "a <br> b <BR\x01/> c", ">a<br/>b<br/>c<", "a\nb\nc" },
		/* no markup gets in through the text */
		{ "</OrderStatusMessage><OrderStatus>3</OrderStatus>",
		    ">&lt;/OrderStatusMessage&gt;&lt;OrderStatus&gt;3&lt;/OrderStatus&gt;<",
		    "</OrderStatusMessage><OrderStatus>3</OrderStatus>" },
	};
	struct spool_err err = { "" };
	struct spool_jobxml j;
	char msg[SPOOL_JOB_MSG_MAX + 1], *out;
	size_t i, olen;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (spool_jobxml_set_buf(in, sizeof in - 1, "job.xml", SPOOL_JOB_PROCESSING,
		    SPOOL_JOB_FAILED, cases[i].typed, &out, &olen, &err) != 1)
			fail_msg("case %zu: %s", i, err.msg);
		if (strstr(out, cases[i].written) == NULL)
			fail_msg("case %zu: no '%s' in\n%s", i, cases[i].written, out);
		assert_null(strchr(out, '\r'));
		assert_null(strstr(out, "&#13;"));
		assert_null(strstr(out, ">old<"));
		assert_int_equal(count_of(out, "<OrderStatusMessage>"), 1);
		assert_int_equal(spool_jobxml_parse(out, olen, "job.xml", &j, &err), 0);
		assert_int_equal(j.status, SPOOL_JOB_FAILED);
		assert_string_equal(j.message, cases[i].reads);
		free(out);
	}
	/* SPOOL_JOB_MSG_MAX bytes are written whole, a line break within them */
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	msg[500] = '\n';
	assert_int_equal(spool_jobxml_set_buf(in, sizeof in - 1, "job.xml", SPOOL_JOB_PROCESSING,
	    SPOOL_JOB_SHIPPING, msg, &out, &olen, &err), 1);
	assert_int_equal(spool_jobxml_parse(out, olen, "job.xml", &j, &err), 0);
	assert_int_equal(j.message_cut, 0);
	assert_string_equal(j.message, msg);
	free(out);
	/* on disk, CR LF typed into a form the same */
	put("job.xml", in);
	set_ok(SPOOL_JOB_PROCESSING, SPOOL_JOB_SHIPPING, "Sent with DHL\r\nTracking 0042");
	read_ok(&j);
	assert_string_equal(j.message, "Sent with DHL\nTracking 0042");
	out = slurp("job.xml");
	assert_non_null(strstr(out, "<OrderStatusMessage>Sent with DHL<br/>Tracking 0042"
	    "</OrderStatusMessage>"));
	free(out);
}

/* A Windows printer's file: BOM, declaration and CRLF stay, spool's error element goes. */
static void
test_set_keeps_style(void **state)
{
	static const char stale[] = WIN_HEAD WIN_BODY("2", WIN_ERROR);
	static const char want[] = WIN_HEAD WIN_BODY("15", "");
	struct spool_err err = { "" };
	char *out;
	size_t olen;

	(void)state;
	if (spool_jobxml_set_buf(stale, sizeof stale - 1, "job.xml", SPOOL_JOB_QUEUED,
	    SPOOL_JOB_PROCESSING, "Caf\xc3\xa9 press\r\nline two", &out, &olen, &err) != 1)
		fail_msg("set: %s", err.msg);
	if (olen != sizeof want - 1 || memcmp(out, want, olen) != 0)
		fail_msg("set, it is\n%s\nwant\n%s", out, want);
	assert_int_equal(count_of(out, "OrderStatusError"), 0);
	free(out);
	/* on disk the same, replaced whole */
	put("job.xml", stale);
	set_ok(SPOOL_JOB_QUEUED, SPOOL_JOB_PROCESSING, "Caf\xc3\xa9 press\nline two");
	out = slurp("job.xml");
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(dir_count(dir), 1);
}

/* ---- failures of the system calls ------------------------------------------ */

/* Every failing call leaves job.xml as it was (or, past the rename, as intended). */
static void
test_faults(void **state)
{
	struct spool_job job = example();
	struct spool_err err;
	struct spool_jobxml j;
	const char *old = PRINTED("<OrderStatus>3</OrderStatus>");
	char *s;
	long at;
	int r, e, kind;

	(void)state;
	for (kind = 0; kind < 2; kind++) {
		for (at = 1;; at++) {
			put("job.xml", old);
			fault_arm(at, EIO);
			if (kind == 0)
				r = spool_jobxml_write(dfd, "job.xml", -1, &job, NULL, &err);
			else
				r = spool_jobxml_refuse(dfd, "job.xml", -1, &(struct spool_jobxml_refusal){
				    SPOOL_JOB_SHIPPING, SPOOL_JOB_QUEUED, "no", NULL }, &err);
			e = errno;
			fault_disarm();
			assert_int_equal(dir_count(dir), 1);   /* no temporary file left */
			s = slurp("job.xml");
			if (!fault.hit) {
				if (r != 0)
					fail_msg("%d: %s", kind, err.msg);
				assert_string_not_equal(s, old);
				free(s);
				break;
			}
			if (r == 0) {
				/* closing the file that was only read: nothing was lost */
				assert_string_equal(fault.hit_name, "close");
				assert_string_not_equal(s, old);
				free(s);
				continue;
			}
			assert_int_equal(r, -1);
			assert_int_equal(e, EIO);
			if (strcmp(s, old) != 0) {
				/* only the fsync of the folder after the rename may fail this late */
				assert_string_equal(fault.hit_name, "fsync");
				read_ok(&j);
				assert_int_equal(j.status, SPOOL_JOB_QUEUED);
			}
			free(s);
		}
		assert_true(at > 4);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_roundtrip, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_grows, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_write_validates, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_write_refuses_bad_values, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_examples, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_jdf_validates, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_jdf_ids, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse_keeps_style, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_accept_clears_error, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_jdf_media, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_malformed, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_truncated, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_xxe, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_entity_bombs, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_not_a_file, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_big, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_encodings, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_huge_message, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_message_text, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_bad_status, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse_valid, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse_ambiguous, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse_leaves_alone, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_refuse_race, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_refused, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_message, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_keeps_style, setup, teardown_dir),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown_dir),
	};

	return cmocka_run_group_tests_name("jobxml", tests, NULL, NULL);
}
