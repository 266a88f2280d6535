/*
 * Stitching: the page PDFs of an item's upload become its chunk PDFs,
 * orders/<id>/items/<item>/chunks/<kind>.pdf, one for each <chunk> of the product
 * in upload.xml (usually a cover and a content chunk), with libqpdf's C API.
 *
 * Page PDFs come from customers, so they are hostile until qpdf has read them:
 * - files are opened beneath the item's folder with no symlink anywhere on the way,
 *   and must be regular files; a chunk has at most SPOOL_STITCH_PAGES_MAX pages and
 *   SPOOL_STITCH_BYTES_MAX bytes of input;
 * - qpdf runs without xref recovery and every warning fails the stitch with qpdf's
 *   own words: a chunk built from a file qpdf had to guess about may print wrong,
 *   and the admin can repair the upload and queue the order again;
 * - a broken page tree reads as no pages, so every file must give at least one, and
 *   each page's content streams are decoded once, since that is the only place
 *   where a damaged content stream shows (it survives a read and a write).
 *
 * Inputs are mapped, not read with qpdf_read: every qpdf_read keeps its file open
 * until the write, and an item of a few thousand pages would run into the limit
 * on open files.  A mapping holds no descriptor and is backed by the page cache.
 * The price is that a page file cut short while it is mapped would raise SIGBUS;
 * no actor of the spool does that (page files are published whole and never
 * rewritten), and spoold runs the stitch in a child process anyway.
 *
 * qpdf writes the chunk into memory, and the one publish routine puts it in place
 * (temp file in tmp/, fsync, rename, fsync of chunks/), so no reader ever sees half
 * a chunk.  That holds a chunk in memory once, bounded by SPOOL_STITCH_BYTES_MAX.
 * The output has a deterministic /ID and no dates, so the same pages in the same
 * order give the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qpdf/qpdf-c.h>

#include "../bundle/upload.h"
#include "../core/internal.h"

#define UPLOAD_NAME "upload.xml"

/* ---- qpdf's messages ------------------------------------------------------ */

/*
 * Copy text as one printable line: qpdf may quote bytes of the hostile file, and
 * err is read in history lines and mails.
 */
static void
one_line(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src != NULL && *src != '\0' && i + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		dst[i++] = (char)c;
	}
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

/* Fetch and drop whatever q still holds, so qpdf_cleanup never prints it. */
static void
qpdf_drain(qpdf_data q)
{
	if (q == NULL)
		return;
	while (qpdf_more_warnings(q))
		qpdf_next_warning(q);
	if (qpdf_has_error(q))
		qpdf_get_error(q);
}

/* 1 if q has a warning or an error pending. */
static int
qpdf_troubled(qpdf_data q)
{
	return qpdf_has_error(q) || qpdf_more_warnings(q);
}

/*
 * Fail with the first thing qpdf complained about in q: its first warning (the
 * cause, as "can't find PDF header" or a stream that does not inflate) or else its
 * error.  qpdf's text names the file when it knows it ("page-003.pdf (offset 304):
 * ..."); otherwise name goes in front.
 */
static int
qpdf_fail(qpdf_data q, const char *name, struct spool_err *err)
{
	char msg[SPOOL_ERR_MAX] = "";
	int errnum = EINVAL;
	size_t nl = strlen(name);
	qpdf_error e;

	if (qpdf_more_warnings(q) && (e = qpdf_next_warning(q)) != NULL)
		one_line(msg, sizeof msg, qpdf_get_error_full_text(q, e));
	while (qpdf_more_warnings(q))
		qpdf_next_warning(q);
	if (qpdf_has_error(q) && (e = qpdf_get_error(q)) != NULL) {
		if (qpdf_get_error_code(q, e) == qpdf_e_system)
			errnum = EIO;
		if (msg[0] == '\0')
			one_line(msg, sizeof msg, qpdf_get_error_full_text(q, e));
	}
	if (msg[0] == '\0')
		snprintf(msg, sizeof msg, "qpdf failed and did not say why");
	if (strncmp(msg, name, nl) == 0 && (msg[nl] == ':' || msg[nl] == ' '))
		return failerr(err, errnum, "%s", msg);
	return failerr(err, errnum, "%s: %s", name, msg);
}

/* A qpdf handle that reports through return codes only, never on stderr. */
static qpdf_data
qpdf_quiet(void)
{
	qpdf_data q;

	if ((q = qpdf_init()) == NULL)
		return NULL;
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	return q;
}

/* "1.7" as 107; 0 if qpdf does not know. */
static int
pdf_version(const char *v)
{
	int major, minor;

	if (v == NULL || sscanf(v, "%d.%d", &major, &minor) != 2 || major < 1 || major > 9 ||
	    minor < 0 || minor > 99)
		return 0;
	return major * 100 + minor;
}

/* ---- stitching a list of files ------------------------------------------- */

struct input {
	void *map;
	size_t len;
	qpdf_data q;
};

/* Map dirfd/name: a regular file beneath dirfd, reached through no symlink. */
static int
map_page(int dirfd, const char *name, long long limit, long long *budget, struct input *in,
    struct spool_err *err)
{
	struct stat st;
	int fd;

	fd = spool_sys.openat_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return seterr(err, "%s: missing", name);
		if (errno == ELOOP || errno == EXDEV)
			return seterr(err, "%s: is a symlink or leads out of the item's folder", name);
		return seterr(err, "%s: %s", name, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		seterr(err, "%s: %s", name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		failerr(err, EINVAL, "%s: not a regular file", name);
		goto fail;
	}
	if (st.st_size == 0) {
		failerr(err, EINVAL, "%s: empty file, not a PDF", name);
		goto fail;
	}
	if (st.st_size > *budget) {
		failerr(err, EFBIG, "%s: the chunk's page files are over %lld bytes", name, limit);
		goto fail;
	}
	*budget -= st.st_size;
	in->len = (size_t)st.st_size;
	in->map = mmap(NULL, in->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (in->map == MAP_FAILED) {
		in->map = NULL;
		seterr(err, "%s: %s", name, strerror(errno));
		goto fail;
	}
	/* The mapping stays valid after close, and uses no descriptor. */
	close_keep(fd);
	return 0;
fail:
	close_keep(fd);
	return -1;
}

/* Read one page file and append its pages to out. */
static int
add_file(qpdf_data out, int dirfd, const char *name, struct input *in,
    struct spool_stitch *st, long long *budget, int *version, int *extension,
    struct spool_err *err)
{
	int np, i, v;

	if (map_page(dirfd, name, st->max_bytes, budget, in, err) < 0)
		return -1;
	if ((in->q = qpdf_quiet()) == NULL)
		return failerr(err, ENOMEM, "%s: out of memory", name);
	/* Recovery would rebuild a damaged file by guessing; we want qpdf's complaint. */
	qpdf_set_attempt_recovery(in->q, QPDF_FALSE);
	if ((qpdf_read_memory(in->q, name, in->map, in->len, NULL) & QPDF_ERRORS) ||
	    qpdf_troubled(in->q))
		return qpdf_fail(in->q, name, err);
	if ((np = qpdf_get_num_pages(in->q)) < 0 || qpdf_troubled(in->q))
		return qpdf_fail(in->q, name, err);
	if (np == 0)
		return failerr(err, EINVAL, "%s: has no pages (or a broken page tree)", name);
	if ((st->flags & SPOOL_STITCH_ONEPAGE) && np != 1)
		return failerr(err, EINVAL, "%s: has %d pages; a page file must have one", name, np);
	if (np > st->max_pages - st->pages)
		return failerr(err, EFBIG, "%s: the chunk would have more than %d pages", name,
		    st->max_pages);
	v = pdf_version(qpdf_get_pdf_version(in->q));
	if (v > *version) {
		*version = v;
		*extension = 0;
	}
	if (v == *version && qpdf_get_pdf_extension_level(in->q) > *extension)
		*extension = qpdf_get_pdf_extension_level(in->q);
	for (i = 0; i < np; i++) {
		qpdf_oh page = qpdf_get_page_n(in->q, (size_t)i);
		unsigned char *content = NULL;
		size_t clen = 0;

		if (qpdf_troubled(in->q))
			return qpdf_fail(in->q, name, err);
		if ((qpdf_oh_get_page_content_data(in->q, page, &content, &clen) & QPDF_ERRORS) ||
		    qpdf_troubled(in->q)) {
			free(content);
			return qpdf_fail(in->q, name, err);
		}
		free(content);
		if ((qpdf_add_page(out, in->q, page, QPDF_FALSE) & QPDF_ERRORS) ||
		    qpdf_troubled(out) || qpdf_troubled(in->q))
			return qpdf_fail(qpdf_troubled(in->q) ? in->q : out, name, err);
		qpdf_oh_release(in->q, page);
		st->pages++;
	}
	return 0;
}

/* Fail with the first input qpdf complained about; 0 when none did. */
static int
inputs_fail(const struct input *in, const char *const *names, int n, struct spool_err *err)
{
	int i;

	for (i = 0; i < n; i++)
		if (qpdf_troubled(in[i].q))
			return qpdf_fail(in[i].q, names[i], err);
	return 0;
}

/* Write out, with the pages of the inputs added, into memory. */
static int
stitch_write(qpdf_data out, const struct input *in, const char *const *names, int n,
    int version, int extension, const char *outname, struct spool_err *err)
{
	char vbuf[16];

	/* The newest input's version, so no feature of a page is cut off by the header. */
	snprintf(vbuf, sizeof vbuf, "%d.%d", version / 100, version % 100);
	if (qpdf_init_write_memory(out) & QPDF_ERRORS)
		return qpdf_fail(out, outname, err);
	qpdf_set_deterministic_ID(out, QPDF_TRUE);
	qpdf_set_minimum_pdf_version_and_extension(out, vbuf, extension);
	if (qpdf_troubled(out) || (qpdf_write(out) & QPDF_ERRORS) || qpdf_troubled(out)) {
		/* A stream of a page that does not read shows in its own file first. */
		if (inputs_fail(in, names, n, err) < 0)
			return -1;
		return qpdf_fail(out, outname, err);
	}
	return inputs_fail(in, names, n, err);
}

/* Drop what qpdf still holds, so it prints nothing, and let go of out and the inputs. */
static void
stitch_free(qpdf_data out, struct input *in, int n)
{
	int i, saved = errno;

	qpdf_drain(out);
	qpdf_cleanup(&out);
	for (i = 0; i < n; i++) {
		if (in[i].q != NULL) {
			qpdf_drain(in[i].q);
			qpdf_cleanup(&in[i].q);
		}
		if (in[i].map != NULL)
			munmap(in[i].map, in[i].len);
	}
	free(in);
	errno = saved;
}

int
spool_stitch_files(int dirfd, const char *const *names, int n, int outdirfd,
    const char *outname, int tmpfd, struct spool_stitch *stp, struct spool_err *err)
{
	struct spool_stitch dflt = { 0 }, *st = stp != NULL ? stp : &dflt;
	long long budget;
	struct input *in = NULL;
	qpdf_data out = NULL;
	int i, rc = -1, version = 103, extension = 0;

	st->pages = 0;
	st->bytes = 0;
	if (st->max_pages <= 0)
		st->max_pages = SPOOL_STITCH_PAGES_MAX;
	if (st->max_bytes <= 0)
		st->max_bytes = SPOOL_STITCH_BYTES_MAX;
	budget = st->max_bytes;
	if (n < 1 || names == NULL)
		return failerr(err, EINVAL, "%s: no page files to stitch", outname);
	if (n > st->max_pages)
		return failerr(err, EFBIG, "%s: more than %d page files", outname, st->max_pages);
	if ((in = calloc((size_t)n, sizeof *in)) == NULL)
		return failerr(err, ENOMEM, "%s: out of memory", outname);
	if ((out = qpdf_quiet()) == NULL) {
		failerr(err, ENOMEM, "%s: out of memory", outname);
		goto out;
	}
	if (qpdf_empty_pdf(out) & QPDF_ERRORS) {
		qpdf_fail(out, outname, err);
		goto out;
	}
	/* Every input stays open: the write copies stream data from them. */
	for (i = 0; i < n; i++)
		if (add_file(out, dirfd, names[i], &in[i], st, &budget, &version, &extension,
		    err) < 0)
			goto out;
	if (stitch_write(out, in, names, n, version, extension, outname, err) < 0)
		goto out;
	st->bytes = qpdf_get_buffer_length(out);
	if (spool_publish(outdirfd, outname, tmpfd, qpdf_get_buffer(out), st->bytes, NULL) < 0) {
		seterr(err, "%s: cannot publish: %s", outname, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	stitch_free(out, in, n);
	return rc;
}

/* ---- upload.xml ------------------------------------------------------------ */

/* Read items/<item>/upload.xml in the item's folder, through upload.c, to be stitched. */
static int
upload_load(int itemfd, const char *item, struct upload *u, struct spool_err *err)
{
	char *buf = NULL;
	size_t len;
	int rc;

	memset(u, 0, sizeof *u);
	if (read_file(itemfd, UPLOAD_NAME, UPLOAD_MAX, &buf, &len) < 0)
		return seterr(err, UPLOAD_NAME ": %s", errno == ENOENT ? "missing" :
		    errno == EFBIG ? "too big" : strerror(errno));
	rc = upload_parse(buf, len, UPLOAD_NAME, item, NULL, UPLOAD_PRINT, u, err);
	free(buf);
	return rc;
}

/* Open orders/<id>/items/<item>/, through no symlink. */
static int
open_item(struct spool *sp, const char *id, const char *item, struct spool_err *err)
{
	char path[SPOOL_ID_MAX + 16];
	int pfd, fd;

	if (!spool_id_ok(id))
		return failerr(err, EINVAL, "'%.80s' is not an order id", id);
	if (!spool_id_ok(item))
		return failerr(err, EINVAL, "'%.80s' is not an item id", item);
	if ((pfd = open_payload(sp, id)) < 0)
		return seterr(err, "item %s: cannot open orders/%s: %s", item, id, strerror(errno));
	fmt(path, sizeof path, "items/%s", item);
	fd = spool_sys.openat_beneath(pfd, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		seterr(err, "item %s: cannot open orders/%s/%s: %s", item, id, path,
		    errno == ELOOP ? "a symlink is in the way" : strerror(errno));
	close_keep(pfd);
	return fd;
}

int
spool_item_chunks(struct spool *sp, const char *id, const char *item,
    struct spool_chunk **chunks, int *n, struct spool_err *err)
{
	struct spool_err e;
	struct upload u;
	int fd;

	if ((fd = open_item(sp, id, item, err)) < 0)
		return -1;
	if (upload_load(fd, item, &u, &e) < 0) {
		close_keep(fd);
		return seterr(err, "item %s: %s", item, e.msg);
	}
	close_keep(fd);
	*chunks = u.chunks;
	*n = u.nchunks;
	u.chunks = NULL;
	upload_free(&u);
	return 0;
}

/* Take away every chunk of the item, so a failed stitch leaves none behind. */
static void
remove_chunks(int chunksfd, const struct upload *u)
{
	char name[SPOOL_NAME_MAX + 8];
	int i, saved = errno;

	for (i = 0; i < u->nchunks; i++)
		if (fmt(name, sizeof name, "%s.pdf", u->chunks[i].kind) >= 0)
			spool_sys.unlinkat(chunksfd, name, 0);
	spool_fsync_dir(chunksfd);
	errno = saved;
}

int
spool_stitch_item(struct spool *sp, const char *id, const char *item, struct spool_err *err)
{
	const char **names = NULL;
	char name[SPOOL_NAME_MAX + 8];
	struct spool_stitch st;
	struct spool_err e;
	struct upload u = { 0 };
	int itemfd, chunksfd = -1, i, p, rc = -1;

	if ((itemfd = open_item(sp, id, item, err)) < 0)
		return -1;
	if (upload_load(itemfd, item, &u, &e) < 0) {
		seterr(err, "item %s: %s", item, e.msg);
		goto out;
	}
	if (spool_mkdir(itemfd, SPOOL_CHUNKS_DIR, SPOOL_DIR_MODE) < 0 ||
	    (chunksfd = spool_sys.openat_beneath(itemfd, SPOOL_CHUNKS_DIR, O_RDONLY | O_DIRECTORY,
	    0)) < 0) {
		seterr(err, "item %s: cannot make %s/: %s", item, SPOOL_CHUNKS_DIR,
		    errno == EEXIST || errno == ELOOP ? "something else is in the way" :
		    strerror(errno));
		goto out;
	}
	if ((names = calloc((size_t)u.pages, sizeof *names)) == NULL) {
		failerr(err, ENOMEM, "item %s: out of memory", item);
		goto out;
	}
	for (i = 0; i < u.nchunks; i++) {
		const struct spool_chunk *c = &u.chunks[i];

		for (p = c->first; p <= c->last; p++)
			names[p - c->first] = u.files[p];
		fmt(name, sizeof name, "%s.pdf", c->kind);
		memset(&st, 0, sizeof st);
		st.flags = SPOOL_STITCH_ONEPAGE;
		if (spool_stitch_files(itemfd, names, c->last - c->first + 1, chunksfd, name,
		    sp->dir[SPOOL_DIR_TMP], &st, &e) < 0) {
			seterr(err, "item %s: %s", item, e.msg);
			remove_chunks(chunksfd, &u);
			goto out;
		}
	}
	rc = 0;
out:
	free(names);
	upload_free(&u);
	close_keep(chunksfd);
	close_keep(itemfd);
	return rc;
}
