/*
 * Unit tests: stitching an item's page PDFs into chunk PDFs (lib/print/stitch.c), with the
 * real example pages and with damaged ones made here from them.  The chunks are
 * checked by the qpdf program (--check, --show-npages) and, because --show-npages
 * only reads the stored count, by walking the page tree with libqpdf and reading each
 * page's text, which also shows the order of the pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qpdf/qpdf-c.h>

#define TEST_FIXTURE
#include "fault.h"

/* dir/spool/orders/1001/items/<item>/<name> */
static char *
item_path(const char *item, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/spool/orders/1001/items/%s/%s", dir, item, name) < 0)
		abort();
	return p;
}

static int
exists(const char *item, const char *name)
{
	char *p = item_path(item, name);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static int
tmp_count(void)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/spool/tmp", dir);
	return dir_count(p);
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf = file_read(AT_FDCWD, path, len);

	if (buf == NULL)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return buf;
}

/* The first line a shell command prints. */
static char *
sh_line(const char *cmd)
{
	static char line[512];
	FILE *f;

	line[0] = '\0';
	if ((f = popen(cmd, "r")) == NULL)
		fail_msg("cannot run %s", cmd);
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	pclose(f);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/*
 * Check a chunk the way a printer's RIP would meet it: qpdf --check passes, the
 * stored page count, and the text of each page in the tree, in order.
 */
static void
check_chunk(const char *path, int npages, const char *const *texts)
{
	char cmd[4400];
	qpdf_data q;
	int i;

	snprintf(cmd, sizeof cmd, "qpdf --check '%s' >/dev/null 2>&1", path);
	assert_int_equal(sh("%s", cmd), 0);
	snprintf(cmd, sizeof cmd, "qpdf --show-npages '%s'", path);
	assert_int_equal(atoi(sh_line(cmd)), npages);

	q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	assert_int_equal(qpdf_read(q, path, NULL), QPDF_SUCCESS);
	assert_int_equal(qpdf_get_num_pages(q), npages);
	for (i = 0; i < npages; i++) {
		unsigned char *buf = NULL;
		size_t len = 0;
		char *text;

		assert_int_equal(qpdf_oh_get_page_content_data(q, qpdf_get_page_n(q, (size_t)i), &buf,
		    &len), QPDF_SUCCESS);
		/* a blank page has no content at all, and buf stays NULL */
		text = buf != NULL ? strndup((char *)buf, len) : strdup("");
		if (strstr(text, texts[i]) == NULL)
			fail_msg("%s: page %d shows \"%s\", not \"%s\"", path, i + 1, text, texts[i]);
		free(text);
		free(buf);
	}
	assert_false(qpdf_more_warnings(q));
	qpdf_cleanup(&q);
}

/*
 * The chunk is what the qpdf program makes of the same pages with a deterministic
 * /ID, byte for byte: the same library, nothing lost or added on the way.
 */
static void
same_as_cli(const char *chunk, const char *pages)
{
	char *cli, *a, *b;
	size_t alen, blen;

	if (asprintf(&cli, "%s/cli.pdf", dir) < 0)
		abort();
	assert_int_equal(sh("cd '%s/spool/orders/1001/items/1' && "
	    "qpdf --deterministic-id --empty --pages %s -- '%s'", dir, pages, cli), 0);
	a = slurp(chunk, &alen);
	b = slurp(cli, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	free(cli);
}

static void
assert_no_chunks(const char *item)
{
	assert_false(exists(item, "chunks/cover.pdf"));
	assert_false(exists(item, "chunks/content.pdf"));
	assert_int_equal(tmp_count(), 0);
}

static void
assert_err_has(const struct spool_err *err, const char *s)
{
	if (strstr(err->msg, s) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err->msg, s);
}

/* Put a file in place of a page, by shell (the only way the tree is changed here). */
static void
page_replace(const char *item, const char *page, const char *shell)
{
	char *p = item_path(item, page);

	assert_int_equal(sh(shell, p), 0);
	free(p);
}

/* With a page of item 1 replaced by shell, stitching it fails, saying want (if not NULL). */
static void
bad_page(const char *page, const char *shell, const char *want)
{
	struct spool_err err;

	page_replace("1", page, shell);
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	if (want != NULL)
		assert_err_has(&err, want);
	assert_no_chunks("1");
}

static void
test_stitch_example(void **state)
{
	static const char *const cover[] = { "Holiday 2026 page 1" };
	static const char *const content[] = {
		"Holiday 2026 page 2", "Holiday 2026 page 3", "Holiday 2026 page 4"
	};
	static const char *const poster[] = { "Sunset" };
	struct spool_err err;
	struct stat st;
	char *p;

	(void)state;
	if (spool_stitch_item(sp, "1001", "1", &err) < 0)
		fail_msg("stitch: %s", err.msg);
	p = item_path("1", "chunks/cover.pdf");
	check_chunk(p, 1, cover);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777 & ~0660, 0);
	free(p);
	p = item_path("1", "chunks/content.pdf");
	check_chunk(p, 3, content);
	same_as_cli(p, "page-002.pdf page-003.pdf page-004.pdf");
	free(p);
	/* the poster's product has one chunk, and gets only that one */
	if (spool_stitch_item(sp, "1001", "2", &err) < 0)
		fail_msg("stitch: %s", err.msg);
	p = item_path("2", "chunks/content.pdf");
	check_chunk(p, 1, poster);
	free(p);
	assert_false(exists("2", "chunks/cover.pdf"));
	assert_int_equal(tmp_count(), 0);
}

static void
test_stitch_chunks_listed(void **state)
{
	struct spool_chunk *c;
	struct spool_err err;
	int n;

	(void)state;
	assert_int_equal(spool_item_chunks(sp, "1001", "1", &c, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].kind, "cover");
	assert_int_equal(c[0].first, 1);
	assert_int_equal(c[0].last, 1);
	assert_string_equal(c[1].kind, "content");
	assert_int_equal(c[1].first, 2);
	assert_int_equal(c[1].last, 4);
	free(c);
	assert_int_equal(spool_item_chunks(sp, "1001", "9", &c, &n, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_err_has(&err, "item 9:");
}

static void
test_stitch_deterministic(void **state)
{
	char *p, *a, *b, *other, *bundle, *d2;
	size_t alen, blen, olen;
	struct spool_err err;
	struct spool *sp2;

	(void)state;
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), 0);
	p = item_path("1", "chunks/content.pdf");
	a = slurp(p, &alen);
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), 0);
	b = slurp(p, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* no date, no path, no random /ID: another spool, another day, the same bytes */
	d2 = tmpdir_make();
	sp2 = spool_make(d2, "print");
	bundle = bundle_copy(d2, "print", "1001", "again");
	assert_int_equal(spool_submit(sp2, AT_FDCWD, bundle, NULL, "admin:test", NULL, NULL, &err),
	    0);
	/* qpdf's default /ID hashes the time in seconds: make sure a second has passed */
	sleep(1);
	assert_int_equal(spool_stitch_item(sp2, "1001", "1", &err), 0);
	free(p);
	if (asprintf(&p, "%s/spool/orders/1001/items/1/chunks/content.pdf", d2) < 0)
		abort();
	other = slurp(p, &olen);
	assert_int_equal(alen, olen);
	assert_memory_equal(a, other, alen);
	assert_null(memmem(a, alen, "CreationDate", 12));
	assert_null(memmem(a, alen, "ModDate", 7));
	spool_close(sp2);
	tree_rm(d2);
	free(d2);
	free(bundle);
	free(other);
	free(a);
	free(b);
	free(p);
}

static void
test_stitch_truncated_page(void **state)
{
	struct spool_err err;

	(void)state;
	/* stitched once, so the failure must also take the earlier chunks away */
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), 0);
	assert_true(exists("1", "chunks/cover.pdf"));
	page_replace("1", "page-003.pdf", "head -c 300 '%1$s' >'%1$s.cut' && mv '%1$s.cut' '%1$s'");
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_err_has(&err, "item 1: page-003.pdf: can't find startxref");
	assert_null(strchr(err.msg, '\n'));
	assert_no_chunks("1");
}

static void
test_stitch_garbage_page(void **state)
{
	(void)state;
	/* the first thing qpdf noticed, in its words */
	bad_page("page-002.pdf", "head -c 2000 /dev/urandom >'%s'",
	    "item 1: page-002.pdf: can't find PDF header");
	/* a file that looks like a PDF for five bytes and is nothing more */
	bad_page("page-002.pdf", "printf '%%%%PDF-1.4\\ngarbage\\n' >'%s'",
	    "item 1: page-002.pdf: can't find startxref");
	bad_page("page-002.pdf", ": >'%s'", "item 1: page-002.pdf: empty file");
}

/* A page whose content stream does not inflate: it reads and writes without a word. */
static void
test_stitch_bad_content_stream(void **state)
{
	char *p, *buf, *s;
	struct spool_err err;
	size_t len;
	FILE *f;

	(void)state;
	p = item_path("1", "page-004.pdf");
	assert_int_equal(sh("qpdf --compress-streams=y --stream-data=compress "
	    "--object-streams=disable '%1$s' '%1$s.z' && mv '%1$s.z' '%1$s'", p), 0);
	buf = slurp(p, &len);
	s = memmem(buf, len, "/FlateDecode", 12);
	assert_non_null(s);
	s = memmem(s, len - (size_t)(s - buf), "stream\n", 7);
	assert_non_null(s);
	assert_true(s + 7 + 8 < buf + len);
	memcpy(s + 7 + 2, "\x00\xff\x13\x37", 4);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	/* qpdf itself reads the damaged page without a complaint */
	assert_int_equal(sh("qpdf --show-npages '%s' >/dev/null 2>&1", p), 0);
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_err_has(&err, "item 1: page-004.pdf (offset ");
	assert_err_has(&err, "error decoding stream data");
	assert_no_chunks("1");
	free(buf);
	free(p);
}

static void
test_stitch_missing_page(void **state)
{
	struct spool_err err;

	(void)state;
	page_replace("1", "page-003.pdf", "rm '%s'");
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err.msg, "item 1: page-003.pdf: missing");
	assert_no_chunks("1");
}

static void
test_stitch_no_symlinks(void **state)
{
	struct spool_err err;
	char *p;

	(void)state;
	/* a page that is a symlink, even to a page of the same item */
	bad_page("page-003.pdf", "rm '%1$s' && ln -s page-001.pdf '%1$s'",
	    "item 1: page-003.pdf: is a symlink");
	bad_page("page-003.pdf", "rm '%1$s' && ln -s /etc/passwd '%1$s'", NULL);
	/* chunks/ itself a symlink: nothing is written through it */
	page_replace("2", "chunks", "ln -s /tmp '%s'");
	assert_int_equal(spool_stitch_item(sp, "1001", "2", &err), -1);
	assert_err_has(&err, "item 2: cannot make chunks/");
	/* the item folder a symlink */
	if (asprintf(&p, "%s/spool/orders/1001/items/1", dir) < 0)
		abort();
	assert_int_equal(sh("rm -rf '%1$s' && ln -s ../../../../ '%1$s'", p), 0);
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_err_has(&err, "item 1: cannot open orders/1001/items/1");
	free(p);
	assert_int_equal(tmp_count(), 0);
}

static void
test_stitch_multipage_file(void **state)
{
	struct spool_err err;

	(void)state;
	page_replace("1", "page-003.pdf",
	    "qpdf --empty --pages '%1$s' '%1$s' -- '%1$s.2' && mv '%1$s.2' '%1$s'");
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_string_equal(err.msg,
	    "item 1: page-003.pdf: has 2 pages; a page file must have one");
	assert_no_chunks("1");
}

/* A blank page has no content stream at all; that is a page, not damage. */
static void
test_stitch_blank_page(void **state)
{
	static const char *const content[] = { "", "Holiday 2026 page 3", "Holiday 2026 page 4" };
	struct spool_err err;
	qpdf_data q;
	char *p;

	(void)state;
	p = item_path("1", "page-002.pdf");
	q = qpdf_init();
	qpdf_silence_errors(q);
	assert_int_equal(qpdf_empty_pdf(q), QPDF_SUCCESS);
	assert_int_equal(qpdf_add_page(q, q, qpdf_make_indirect_object(q,
	    qpdf_oh_parse(q, "<< /Type /Page /MediaBox [0 0 595 842] >>")), QPDF_FALSE),
	    QPDF_SUCCESS);
	assert_int_equal(qpdf_init_write(q, p), QPDF_SUCCESS);
	assert_int_equal(qpdf_write(q), QPDF_SUCCESS);
	qpdf_cleanup(&q);
	if (spool_stitch_item(sp, "1001", "1", &err) < 0)
		fail_msg("stitch: %s", err.msg);
	free(p);
	p = item_path("1", "chunks/content.pdf");
	check_chunk(p, 3, content);
	free(p);
}

/*
 * Hundreds of pages with few descriptors: qpdf_read would keep every page file open
 * until the write (the qpdf program fails here with "Too many open files").
 */
static void
test_stitch_many_pages_few_fds(void **state)
{
	enum { PAGES = 300 };
	struct spool_err err;
	struct rlimit old, low;
	char *idir, *cmd, *p, *xml;
	size_t len = 0, cap = 64 * PAGES + 512;
	qpdf_data q;
	int i;

	(void)state;
	idir = item_path("1", "");
	/* PAGES one-page PDFs, made by qpdf from the example's first page */
	if ((cmd = malloc(32 * PAGES + 256)) == NULL || (xml = malloc(cap)) == NULL)
		abort();
	len = (size_t)sprintf(cmd, "cd '%s' && qpdf --empty --pages", idir);
	for (i = 0; i < PAGES; i++)
		len += (size_t)sprintf(cmd + len, " page-001.pdf");
	sprintf(cmd + len, " -- all.pdf && rm page-00?.pdf && qpdf --split-pages all.pdf "
	    "page-%%d.pdf && rm all.pdf");
	assert_int_equal(sh("%s", cmd), 0);
	len = (size_t)snprintf(xml, cap, "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" "
	    "pages=\"%d\" complete=\"true\"><product id=\"x\">"
	    "<chunk kind=\"cover\" first=\"1\" last=\"1\"/>"
	    "<chunk kind=\"content\" first=\"2\" last=\"%d\"/></product>", PAGES, PAGES);
	for (i = 1; i <= PAGES; i++)
		len += (size_t)snprintf(xml + len, cap - len,
		    "<page n=\"%d\" file=\"page-%03d.pdf\"/>", i, i);
	snprintf(xml + len, cap - len, "</upload>");
	p = item_path("1", "upload.xml");
	file_write(p, xml);
	free(p);

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	i = spool_stitch_item(sp, "1001", "1", &err);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	if (i < 0)
		fail_msg("stitch: %s", err.msg);

	p = item_path("1", "chunks/content.pdf");
	assert_int_equal(sh("qpdf --check '%s' >/dev/null 2>&1", p), 0);
	q = qpdf_init();
	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, p, NULL), QPDF_SUCCESS);
	assert_int_equal(qpdf_get_num_pages(q), PAGES - 1);
	qpdf_cleanup(&q);
	free(p);
	free(xml);
	free(cmd);
	free(idir);
}

static void
test_stitch_upload_checks(void **state)
{
	static const struct {
		const char *xml, *want;
		int whole; /* want is the whole error, not a part */
	} cases[] = {
		/* two chunks of one kind would be one file */
		{ "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"2\" complete=\"true\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"1\"/>"
		  "<chunk kind=\"content\" first=\"2\" last=\"2\"/></product>"
		  "<page n=\"1\" file=\"page-001.pdf\"/><page n=\"2\" file=\"page-002.pdf\"/></upload>",
		  "item 1: upload.xml:1: a second chunk of kind content", 0 },
		/* a chunk needs every one of its pages */
		{ "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"2\" complete=\"true\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"2\"/></product>"
		  "<page n=\"1\" file=\"page-001.pdf\"/></upload>",
		  "item 1: upload.xml: page 2 of chunk content is not listed", 1 },
		/* an incomplete upload is not stitched */
		{ "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"1\" complete=\"false\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product>"
		  "<page n=\"1\" file=\"page-001.pdf\"/></upload>",
		  "item 1: upload.xml: the upload is not complete", 1 },
		/* another item's upload */
		{ "<upload xmlns=\"urn:spool:upload:1\" item=\"2\" pages=\"1\" complete=\"true\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product>"
		  "<page n=\"1\" file=\"page-001.pdf\"/></upload>",
		  "upload of item '2'", 0 },
		/* a DOCTYPE, as anywhere */
		{ "<!DOCTYPE upload [<!ENTITY a \"b\">]>"
		  "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"1\" complete=\"true\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product>"
		  "<page n=\"1\" file=\"page-001.pdf\"/></upload>",
		  "DOCTYPE", 0 },
		/* a page file outside the folder: the schema's PdfName has no slash */
		{ "<upload xmlns=\"urn:spool:upload:1\" item=\"1\" pages=\"1\" complete=\"true\">"
		  "<product id=\"x\"><chunk kind=\"content\" first=\"1\" last=\"1\"/></product>"
		  "<page n=\"1\" file=\"../2/page-001.pdf\"/></upload>",
		  "item 1: ", 0 },
	};
	struct spool_err err;
	size_t i;
	char *p;

	(void)state;
	p = item_path("1", "upload.xml");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		file_write(p, cases[i].xml);
		if (spool_stitch_item(sp, "1001", "1", &err) != -1)
			fail_msg("stitched, but should fail with \"%s\"", cases[i].want);
		if (cases[i].whole && strcmp(err.msg, cases[i].want) != 0)
			fail_msg("error \"%s\" is not \"%s\"", err.msg, cases[i].want);
		assert_err_has(&err, cases[i].want);
	}
	assert_no_chunks("1");
	free(p);
	/* ids are checked before any path is built */
	assert_int_equal(spool_stitch_item(sp, "../1001", "1", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_stitch_item(sp, "1001", "..", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_stitch_item(sp, "1001", "1/../2", &err), -1);
	assert_int_equal(errno, EINVAL);
}

/* The limits, and the version of the newest page in the header. */
static void
test_stitch_files_limits(void **state)
{
	static const char *const names[] = { "page-001.pdf", "page-002.pdf", "page-003.pdf" };
	struct spool_stitch st;
	struct spool_err err;
	char *p, *buf, *idir;
	size_t len;
	int ifd;

	(void)state;
	idir = item_path("1", "");
	ifd = open(idir, O_RDONLY | O_DIRECTORY);
	assert_true(ifd >= 0);
	memset(&st, 0, sizeof st);
	st.max_pages = 2;
	assert_int_equal(spool_stitch_files(ifd, names, 3, ifd, "x.pdf", -1, &st, &err), -1);
	assert_int_equal(errno, EFBIG);
	memset(&st, 0, sizeof st);
	st.max_bytes = 1000;
	assert_int_equal(spool_stitch_files(ifd, names, 3, ifd, "x.pdf", -1, &st, &err), -1);
	assert_int_equal(errno, EFBIG);
	assert_err_has(&err, "page-002.pdf: the chunk's page files are over 1000 bytes");
	assert_false(exists("1", "x.pdf"));
	/* files of several pages are taken whole without SPOOL_STITCH_ONEPAGE */
	p = item_path("1", "page-003.pdf");
	assert_int_equal(sh("qpdf --min-version=1.7 --empty --pages '%1$s' '%1$s' -- '%1$s.2' && "
	    "mv '%1$s.2' '%1$s'", p), 0);
	free(p);
	memset(&st, 0, sizeof st);
	assert_int_equal(spool_stitch_files(ifd, names, 3, ifd, "x.pdf", -1, &st, &err), 0);
	assert_int_equal(st.pages, 4);
	p = item_path("1", "x.pdf");
	buf = slurp(p, &len);
	assert_int_equal(len, st.bytes);
	assert_memory_equal(buf, "%PDF-1.7", 8);
	assert_int_equal(sh("qpdf --check '%s' >/dev/null 2>&1", p), 0);
	free(buf);
	free(p);
	assert_int_equal(spool_stitch_files(ifd, names, 0, ifd, "y.pdf", -1, NULL, &err), -1);
	assert_false(exists("1", "y.pdf"));
	close(ifd);
	free(idir);
}

/*
 * A fault in every system call of the stitch, one at a time: the stitch either
 * fails and leaves no chunk and nothing in tmp/, or succeeds with good chunks.
 */
static void
test_stitch_faults(void **state)
{
	static const char *const content[] = {
		"Holiday 2026 page 2", "Holiday 2026 page 3", "Holiday 2026 page 4"
	};
	struct spool_err err;
	long at;
	int r, failed = 0;
	char *p;

	(void)state;
	for (at = 1;; at++) {
		fault_arm(at, EIO);
		r = spool_stitch_item(sp, "1001", "1", &err);
		fault_disarm();
		if (!fault.hit) {
			assert_int_equal(r, 0);
			break;
		}
		if (r < 0) {
			failed++;
			assert_no_chunks("1");
		} else {
			p = item_path("1", "chunks/content.pdf");
			check_chunk(p, 3, content);
			free(p);
			assert_int_equal(tmp_count(), 0);
		}
		assert_int_equal(sh("rm -rf '%s/spool/orders/1001/items/1/chunks'", dir), 0);
	}
	assert_true(at > 10);
	assert_true(failed > 5);
}

/* The publish of the second chunk fails after the first was published. */
static void
test_stitch_publish_fault(void **state)
{
	struct spool_err err;

	(void)state;
	fault_arm(2, ENOSPC);
	fault.only = "renameat2";
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_true(fault.hit);
	fault_disarm();
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(err.msg, "item 1: content.pdf: cannot publish: No space left on device");
	assert_no_chunks("1");
	/* a write that fails, in the first chunk */
	fault_arm(1, ENOSPC);
	fault.only = "write";
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), -1);
	assert_true(fault.hit);
	fault_disarm();
	assert_err_has(&err, "item 1: cover.pdf: cannot publish");
	assert_no_chunks("1");
	/* and then it works */
	assert_int_equal(spool_stitch_item(sp, "1001", "1", &err), 0);
	assert_true(exists("1", "chunks/cover.pdf"));
	assert_true(exists("1", "chunks/content.pdf"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stitch_example, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_chunks_listed, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_deterministic, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_truncated_page, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_garbage_page, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_bad_content_stream, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_missing_page, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_no_symlinks, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_multipage_file, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_blank_page, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_many_pages_few_fds, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_upload_checks, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_files_limits, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_faults, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stitch_publish_fault, setup_order, teardown_spool),
	};
	return cmocka_run_group_tests_name("stitch", tests, NULL, NULL);
}
