/*
 * upload.xml, an item's upload: the one reader of it.  Submitting a bundle reads
 * items/<item>/upload.xml with it (bundle.c), and so does stitching an order's item
 * (print/stitch.c), so that both see the same facts through the same checks.
 *
 * It reads in two passes: the document is first checked whole, by the hostile
 * parser and the schema of xml.c; only a document that passed is read for its facts,
 * and those are checked again where the schema cannot say enough (a page number
 * within the upload's count, two chunks of one kind, a page that is not listed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../core/internal.h"
#include "upload.h"
#include "xml.h"

#define UPLOAD_NS "urn:spool:upload:1"

void
upload_free(struct upload *u)
{
	free(u->chunks);
	free(u->files);
	memset(u, 0, sizeof *u);
}

static int
is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* An attribute into dst: 1, or 0 if it is absent, -1 if it does not fit or is not text. */
static int
attr(xmlNodePtr n, const char *name, char *dst, size_t len)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	int r = -1;

	dst[0] = '\0';
	if (v == NULL)
		return 0;
	if (strlen((const char *)v) < len && text_ok((const char *)v)) {
		strcpy(dst, (const char *)v);
		r = 1;
	}
	xmlFree(v);
	return r;
}

/* A number attribute, or -1 if it is absent or not a number. */
static long
attr_num(xmlNodePtr n, const char *name)
{
	char buf[32], *e;
	long v;

	if (attr(n, name, buf, sizeof buf) <= 0)
		return -1;
	errno = 0;
	v = strtol(buf, &e, 10);
	return e == buf || *e != '\0' || errno != 0 ? -1 : v;
}

/* The root's attributes: whose upload it is, its page count, complete or not. */
static int
read_root(xmlNodePtr root, const char *name, const char *item, const char *order, int flags,
    struct upload *u, struct spool_err *err)
{
	char v[SPOOL_ID_MAX + 1];
	long pages;

	if (root == NULL || root->ns == NULL || !is(root, "upload") ||
	    strcmp((const char *)root->ns->href, UPLOAD_NS) != 0)
		return failerr(err, EINVAL, "%s: not in namespace %s", name, UPLOAD_NS);
	if (attr(root, "item", v, sizeof v) <= 0 || strcmp(v, item) != 0)
		return failerr(err, EINVAL, "%s: it is the upload of item '%s'", name, v);
	/*
	 * A stored order's upload names the bundle's id, which `submit --id` may have
	 * replaced: submit checked it, and the folder says whose it is (order NULL).
	 */
	if (order != NULL && attr(root, "order", v, sizeof v) > 0 && strcmp(v, order) != 0)
		return failerr(err, EINVAL, "%s: it is an upload of order '%s', not '%s'", name, v,
		    order);
	attr(root, "complete", v, sizeof v);
	u->complete = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
	if ((flags & UPLOAD_PRINT) && !u->complete)
		return failerr(err, EINVAL, "%s: the upload is not complete", name);
	pages = attr_num(root, "pages");
	if (pages < 1 || pages > UPLOAD_PAGES_MAX)
		return failerr(err, EINVAL, "%s: bad page count", name);
	u->pages = (int)pages;
	if ((u->files = calloc((size_t)pages + 1, sizeof *u->files)) == NULL)
		return failerr(err, ENOMEM, "out of memory");
	return 0;
}

static int
add_chunk(struct upload *u, xmlNodePtr c, const char *name, int flags, struct spool_err *err)
{
	struct spool_chunk *ch;
	int i;

	if ((ch = realloc(u->chunks, (size_t)(u->nchunks + 1) * sizeof *ch)) == NULL)
		return failerr(err, ENOMEM, "out of memory");
	u->chunks = ch;
	ch = &u->chunks[u->nchunks];
	memset(ch, 0, sizeof *ch);
	if (attr(c, "kind", ch->kind, sizeof ch->kind) <= 0 || !spool_name_ok(ch->kind))
		return failerr(err, EINVAL, "%s:%d: bad chunk kind", name, c->line);
	ch->first = (int)attr_num(c, "first");
	ch->last = (int)attr_num(c, "last");
	if (ch->first < 1 || ch->first > ch->last || ch->last > u->pages)
		return failerr(err, EINVAL, "%s:%d: chunk pages %d-%d are outside 1-%d", name,
		    c->line, ch->first, ch->last, u->pages);
	/* Two chunks of one kind would be written to one file. */
	for (i = 0; i < u->nchunks && (flags & UPLOAD_PRINT); i++)
		if (strcmp(u->chunks[i].kind, ch->kind) == 0)
			return failerr(err, EINVAL, "%s:%d: a second chunk of kind %s", name, c->line,
			    ch->kind);
	u->nchunks++;
	return 0;
}

static int
add_page(struct upload *u, xmlNodePtr n, const char *name, struct spool_err *err)
{
	long pn = attr_num(n, "n");
	char *f;

	if (pn < 1 || pn > u->pages)
		return failerr(err, EINVAL, "%s:%d: page %ld is outside 1-%d", name, n->line, pn,
		    u->pages);
	f = u->files[pn];
	/* the schema's PdfName: an id ending in .pdf, so a plain name in the item's folder */
	if (attr(n, "file", f, sizeof u->files[pn]) <= 0 || !spool_id_ok(f) ||
	    strcmp(f, "upload.xml") == 0) {
		f[0] = '\0';
		return failerr(err, EINVAL, "%s:%d: bad page file name", name, n->line);
	}
	return 0;
}

/* What holds only for the upload as a whole: its chunks, and its pages when complete. */
static int
check_whole(const struct upload *u, const char *name, int flags, struct spool_err *err)
{
	int i, pn;

	if (u->nchunks == 0)
		return failerr(err, EINVAL, "%s: the product has no chunks", name);
	for (i = 0; i < u->nchunks && (flags & UPLOAD_PRINT); i++)
		for (pn = u->chunks[i].first; pn <= u->chunks[i].last; pn++)
			if (u->files[pn][0] == '\0')
				return failerr(err, EINVAL, "%s: page %d of chunk %s is not listed", name,
				    pn, u->chunks[i].kind);
	for (pn = 1; pn <= u->pages && u->complete; pn++)
		if (u->files[pn][0] == '\0')
			return failerr(err, EINVAL, "%s: page %d is missing but the upload is complete",
			    name, pn);
	return 0;
}

int
upload_parse(const char *buf, size_t len, const char *name, const char *item,
    const char *order, int flags, struct upload *u, struct spool_err *err)
{
	struct spool_err xe;
	xmlNodePtr root, n, c;
	xmlDocPtr doc;
	int rc = -1;

	memset(u, 0, sizeof *u);
	/* the first pass: the whole document, against the schema */
	if ((doc = xml_load(buf, len, name, UPLOAD_MAX, "schemas/upload.xsd", &xe)) == NULL)
		return failerr(err, EINVAL, "%s", xe.msg);
	/* the second: its facts */
	root = xmlDocGetRootElement(doc);
	if (read_root(root, name, item, order, flags, u, err) < 0)
		goto out;
	for (n = root->children; n != NULL; n = n->next) {
		if (is(n, "product")) {
			attr(n, "name", u->product_name, sizeof u->product_name);
			for (c = n->children; c != NULL; c = c->next)
				if (is(c, "chunk") && add_chunk(u, c, name, flags, err) < 0)
					goto out;
		} else if (is(n, "page") && add_page(u, n, name, err) < 0)
			goto out;
	}
	rc = check_whole(u, name, flags, err);
out:
	if (rc < 0)
		upload_free(u);
	xmlFreeDoc(doc);
	return rc;
}
