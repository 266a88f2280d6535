/*
 * Order bundles and their submission.
 *
 * A bundle is a directory: order.xml, an items/<item>/ folder with upload.xml and the
 * page PDFs for each item that has an upload, and the extra files order.xml names
 * (see spool-layout(5), BUNDLES).  It comes from outside, so it is hostile until
 * checked: XML is parsed with libxml2 with no network, no DTD and no entity
 * expansion, and any document with a DOCTYPE is refused (the quadratic entity blow-up
 * gets through every other libxml2 option); both documents are validated against the
 * schemas compiled in from spool-layout/schemas; no symlink, device or unnamed file
 * is accepted anywhere.  Only a bundle that passes every check is copied.
 *
 * Submission stages the copy in tmp/sub.*, renames it to orders/<id> (which also
 * claims the id), and commits by renaming the order file from orders/<id>/
 * detached.order into its entry state.  Until that rename nobody sees the order; an
 * orders/<id> that still holds detached.order is an unfinished submit, which
 * recovery deletes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "../core/internal.h"
#include "upload.h"
#include "xml.h"

#define XML_MAX (1024 * 1024)
#define PDF_MAX (1024L * 1024 * 1024)
#define ORDER_NS "urn:spool:order:1"

/* ---- safe XML ---------------------------------------------------------------- */

/* Untrusted XML, through libspool's one hostile parser (xml.c). */
static xmlDocPtr
xml_read(const char *buf, size_t len, const char *name, struct spool_err *err)
{
	return xml_hostile(buf, len, name, XML_MAX, EINVAL, err);
}

int
spool_xml_check(const char *what, const char *buf, size_t len, struct spool_err *err)
{
	xmlDocPtr doc;

	if (strcmp(what, "order") == 0)
		doc = xml_load(buf, len, "order.xml", XML_MAX, "schemas/order.xsd", err);
	else if (strcmp(what, "upload") == 0)
		doc = xml_load(buf, len, "upload.xml", XML_MAX, "schemas/upload.xsd", err);
	else
		doc = xml_read(buf, len, what, err);
	if (doc == NULL)
		return -1;
	xmlFreeDoc(doc);
	return 0;
}

static int
is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Copy an attribute or the text of an element (NULL name) into dst; 0 if absent. */
static int
text(xmlNodePtr n, const char *attr, char *dst, size_t len)
{
	xmlChar *v = attr != NULL ? xmlGetProp(n, (const xmlChar *)attr) : xmlNodeGetContent(n);
	int r = 0;

	dst[0] = '\0';
	if (v == NULL)
		return 0;
	if (strlen((char *)v) >= len || !text_ok((char *)v))
		r = -1;
	else {
		strcpy(dst, (char *)v);
		r = 1;
	}
	xmlFree(v);
	return r;
}

/*
 * An amount (xs:decimal, whose blanks the schema collapses) from an attribute or the
 * text of an element, without those blanks; 0 if absent, -1 if it is not one.
 */
static int
amount(xmlNodePtr n, const char *attr, char *dst, size_t len)
{
	xmlChar *v = attr != NULL ? xmlGetProp(n, (const xmlChar *)attr) : xmlNodeGetContent(n);
	const char *p = (const char *)v;
	long long cents;
	size_t k;
	int r = -1;

	dst[0] = '\0';
	if (v == NULL)
		return 0;
	p += strspn(p, " \t\n\r");
	for (k = strlen(p); k > 0 && strchr(" \t\n\r", p[k - 1]) != NULL; k--)
		;
	if (k < len) {
		memcpy(dst, p, k);
		dst[k] = '\0';
		r = spool_money_parse(dst, &cents) == 0 ? 1 : -1;
	}
	if (r < 0)
		dst[0] = '\0';
	xmlFree(v);
	return r;
}

static long
number_attr(xmlNodePtr n, const char *attr, long dflt)
{
	char buf[32], *e;
	long v;

	if (text(n, attr, buf, sizeof buf) <= 0)
		return dflt;
	v = strtol(buf, &e, 10);
	return *e == '\0' ? v : dflt;
}

/* ---- the bundle ---------------------------------------------------------------- */

struct rd {
	struct spool_bundle *b;
	const struct spool_conf *conf;
	struct spool_err *err;
	char **names;     /* files that order.xml declares */
	int nnames;
};

static int
add_option(struct spool_bundle *b, const char *name)
{
	char **o;
	int i;

	for (i = 0; i < b->noptions; i++)
		if (strcmp(b->options[i], name) == 0)
			return 0;
	if ((o = realloc(b->options, (size_t)(b->noptions + 1) * sizeof *o)) == NULL)
		return -1;
	b->options = o;
	if ((o[b->noptions] = strdup(name)) == NULL)
		return -1;
	b->noptions++;
	return 0;
}

static struct spool_bfile *
add_file(struct spool_bundle *b, const char *path, char *data, size_t len,
    struct spool_err *err)
{
	struct spool_bfile *f;

	if ((f = realloc(b->files, (size_t)(b->nfiles + 1) * sizeof *f)) == NULL) {
		failerr(err, ENOMEM, "out of memory");
		return NULL;
	}
	b->files = f;
	f = &b->files[b->nfiles];
	if (fmt(f->path, sizeof f->path, "%s", path) < 0) {
		failerr(err, ENAMETOOLONG, "%.80s...: the path is too long", path);
		return NULL;
	}
	f->data = data;
	f->len = len;
	b->nfiles++;
	return f;
}

static int
options(struct rd *r, xmlNodePtr n)
{
	char name[SPOOL_NAME_MAX + 1];

	if (text(n, "name", name, sizeof name) <= 0 || add_option(r->b, name) < 0)
		return failerr(r->err, ENOMEM, "order.xml: bad option");
	return 0;
}

/* <customer>: each field is text from outside, checked before it is kept. */
static int
read_customer(struct rd *r, xmlNodePtr n)
{
	struct spool_order *o = &r->b->order;
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next)
		if ((is(c, "name") && text(c, NULL, o->customer, sizeof o->customer) < 0) ||
		    (is(c, "email") && text(c, NULL, o->email, sizeof o->email) < 0) ||
		    (is(c, "phone") && text(c, NULL, r->b->phone, sizeof r->b->phone) < 0))
			return failerr(r->err, EINVAL, "order.xml:%d: bad customer field", c->line);
	return 0;
}

/* <billing> or <shipping>: lines past SPOOL_LINES_MAX, too long or not text are dropped. */
static void
read_address(struct rd *r, xmlNodePtr n)
{
	struct spool_bundle *b = r->b;
	int ship = is(n, "shipping"), *nl = ship ? &b->nshipping : &b->nbilling;
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next)
		if (is(c, "line") && *nl < SPOOL_LINES_MAX &&
		    text(c, NULL, ship ? b->shipping[*nl] : b->billing[*nl],
		    SPOOL_FIELD_MAX + 1) > 0)
			++*nl;
}

/* <item>: what order.xml says of it; its folder under items/ is read apart. */
static int
order_item(struct rd *r, xmlNodePtr n)
{
	struct spool_bundle *b = r->b;
	struct spool_item *it;
	xmlNodePtr c;

	if ((it = realloc(b->items, (size_t)(b->nitems + 1) * sizeof *it)) == NULL)
		return failerr(r->err, ENOMEM, "out of memory");
	b->items = it;
	it = &b->items[b->nitems++];
	memset(it, 0, sizeof *it);
	it->complete = 1;
	if (text(n, "id", it->id, sizeof it->id) <= 0 || !spool_id_ok(it->id) ||
	    text(n, "product", it->product, sizeof it->product) <= 0)
		return failerr(r->err, EINVAL, "order.xml:%d: bad item", n->line);
	it->quantity = (int)number_attr(n, "quantity", 1);
	if (amount(n, "price", it->price, sizeof it->price) < 0)
		return failerr(r->err, EINVAL, "order.xml:%d: item %s: bad price", n->line, it->id);
	for (c = n->children; c != NULL; c = c->next) {
		if (is(c, "title"))
			text(c, NULL, it->title, sizeof it->title);
		else if (is(c, "option") && options(r, c) < 0)
			return -1;
	}
	return 0;
}

/*
 * <file>: an extra file of the bundle, kept in r->names for the folder check.  The
 * names the order's own folder uses are refused, so a bundle cannot overwrite them.
 */
static int
order_file(struct rd *r, xmlNodePtr n)
{
	struct spool_bundle *b = r->b;
	char tmp[SPOOL_FIELD_MAX + 1], **nm, role[16];

	if (text(n, "name", tmp, sizeof tmp) <= 0 || !spool_id_ok(tmp) ||
	    strcmp(tmp, "order.xml") == 0 || strcmp(tmp, "items") == 0 ||
	    strcmp(tmp, "history") == 0 || strcmp(tmp, "status") == 0 ||
	    strcmp(tmp, "error") == 0 ||
	    strcmp(tmp, DETACHED_NAME) == 0)
		return failerr(r->err, EINVAL, "order.xml:%d: file name '%s' is reserved", n->line,
		    tmp);
	text(n, "role", role, sizeof role);
	if (strcmp(role, "invoice") == 0 && b->invoice[0] == '\0')
		fmt(b->invoice, sizeof b->invoice, "%s", tmp);
	if ((nm = realloc(r->names, (size_t)(r->nnames + 1) * sizeof *nm)) == NULL ||
	    (nm[r->nnames] = strdup(tmp)) == NULL) {
		if (nm != NULL)
			r->names = nm;
		return failerr(r->err, ENOMEM, "out of memory");
	}
	r->names = nm;
	r->nnames++;
	return 0;
}

/* One child of <order>; the schema has checked them all, so others are passed over. */
static int
order_element(struct rd *r, xmlNodePtr n)
{
	struct spool_bundle *b = r->b;
	struct spool_order *o = &b->order;
	char tmp[SPOOL_FIELD_MAX + 1];

	if (is(n, "placed")) {
		if (text(n, NULL, tmp, sizeof tmp) <= 0 || spool_time_parse(tmp, &o->placed) < 0)
			return failerr(r->err, EINVAL, "order.xml:%d: bad placed time", n->line);
	} else if (is(n, "customer"))
		return read_customer(r, n);
	else if (is(n, "billing") || is(n, "shipping"))
		read_address(r, n);
	else if (is(n, "total")) {
		if (amount(n, NULL, b->total, sizeof b->total) < 0)
			return failerr(r->err, EINVAL, "order.xml:%d: bad total", n->line);
		text(n, "currency", b->currency, sizeof b->currency);
	} else if (is(n, "tax")) {
		if (amount(n, NULL, b->tax, sizeof b->tax) < 0 ||
		    text(n, "rate", b->tax_rate, sizeof b->tax_rate) < 0 ||
		    text(n, "name", b->tax_name, sizeof b->tax_name) < 0)
			return failerr(r->err, EINVAL, "order.xml:%d: bad tax", n->line);
		text(n, "included", tmp, sizeof tmp);
		b->tax_included = strcmp(tmp, "true") == 0 || strcmp(tmp, "1") == 0;
	} else if (is(n, "payment")) {
		text(n, "status", tmp, sizeof tmp);
		b->delayed = strcmp(tmp, "delayed") == 0;
		o->payment = b->delayed ? SPOOL_DELAYED : SPOOL_PAID;
	} else if (is(n, "option"))
		return options(r, n);
	else if (is(n, "item"))
		return order_item(r, n);
	else if (is(n, "file"))
		return order_file(r, n);
	return 0;
}

/* The order file holds the options as one space-separated field. */
static int
join_options(struct rd *r)
{
	struct spool_bundle *b = r->b;
	struct spool_order *o = &b->order;
	int i;

	for (i = 0; i < b->noptions; i++) {
		size_t used = strlen(o->options);
		if (used + strlen(b->options[i]) + 2 > sizeof o->options)
			return failerr(r->err, EINVAL, "order.xml: too many options");
		snprintf(o->options + used, sizeof o->options - used, "%s%s", used ? " " : "",
		    b->options[i]);
	}
	return 0;
}

static int
read_order(struct rd *r, const char *buf, size_t len)
{
	struct spool_order *o = &r->b->order;
	char tmp[SPOOL_FIELD_MAX + 1];
	xmlNodePtr root, n;
	xmlDocPtr doc;
	int rc = -1;

	if ((doc = xml_load(buf, len, "order.xml", XML_MAX, "schemas/order.xsd", r->err)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || root->ns == NULL || strcmp((const char *)root->ns->href, ORDER_NS) != 0) {
		failerr(r->err, EINVAL, "order.xml: not in namespace %s", ORDER_NS);
		goto out;
	}
	if (text(root, "id", o->id, sizeof o->id) <= 0 || !spool_id_ok(o->id)) {
		failerr(r->err, EINVAL, "order.xml: bad order id");
		goto out;
	}
	if (text(root, "workflow", tmp, sizeof tmp) > 0 && strcmp(tmp, r->conf->workflow) != 0) {
		failerr(r->err, EINVAL, "order.xml: order %s is for workflow '%s', this spool runs '%s'",
		    o->id, tmp, r->conf->workflow);
		goto out;
	}
	snprintf(o->workflow, sizeof o->workflow, "%s", r->conf->workflow);
	o->submitted = spool_sys.time(NULL);
	o->placed = o->submitted;
	for (n = root->children; n != NULL; n = n->next)
		if (order_element(r, n) < 0)
			goto out;
	o->items = r->b->nitems;
	if (join_options(r) < 0)
		goto out;
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

/* A page PDF: a regular file, not a symlink, that starts like a PDF. */
static int
check_pdf(int dirfd, const char *name, const char *path, struct spool_err *err)
{
	char head[5];
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return seterr(err, "%s: %s", path, errno == ELOOP ? "is a symlink" : strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return failerr(err, EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size > PDF_MAX) {
		close(fd);
		return failerr(err, EFBIG, "%s: over %ld bytes", path, PDF_MAX);
	}
	if (read(fd, head, sizeof head) != (ssize_t)sizeof head || memcmp(head, "%PDF-", 5) != 0) {
		close(fd);
		return failerr(err, EINVAL, "%s: not a PDF file", path);
	}
	close(fd);
	return 0;
}

/* Every entry of a bundle folder is checked with lstat semantics: no symlinks. */
static int
entry_type(int dirfd, const char *name, const char *path, struct spool_err *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return seterr(err, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return failerr(err, ELOOP, "%s: is a symlink; bundles may not hold symlinks", path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return failerr(err, EINVAL, "%s: not a regular file or folder", path);
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

/*
 * Read items/<item>/upload.xml in the folder fd (upload.c checks it) and take its facts
 * into it; *bufp gets the text (free it).
 */
static int
load_upload(int fd, const char *order, struct spool_item *it, struct upload *u, char **bufp,
    size_t *lenp, struct spool_err *err)
{
	char path[SPOOL_ID_MAX * 2 + 32], *buf = NULL;
	size_t len;

	fmt(path, sizeof path, "items/%s/upload.xml", it->id);
	if (entry_type(fd, "upload.xml", path, err) < 0)
		return -1;
	if (read_file(fd, "upload.xml", UPLOAD_MAX, &buf, &len) < 0)
		return seterr(err, "%s: %s", path, strerror(errno));
	if (upload_parse(buf, len, path, it->id, order, 0, u, err) < 0) {
		free(buf);
		return -1;
	}
	it->has_upload = 1;
	it->pages = u->pages;
	it->complete = u->complete;
	fmt(it->product_name, sizeof it->product_name, "%s", u->product_name);
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* Every page file that is there is a PDF, and nothing in the item's folder goes unnamed. */
static int
check_pages(struct rd *r, int fd, const struct spool_item *it, const struct upload *u)
{
	char fpath[SPOOL_ID_MAX * 2 + 32 + 256];
	struct dirent *de;
	DIR *d;
	int i, pn, ok;

	for (pn = 1; pn <= u->pages; pn++) {
		const char *name = u->files[pn];

		if (name[0] == '\0')
			continue;
		fmt(fpath, sizeof fpath, "items/%s/%s", it->id, name);
		if (!u->complete && faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			continue;
		if (check_pdf(fd, name, fpath, r->err) < 0 ||
		    add_file(r->b, fpath, NULL, 0, r->err) == NULL)
			return -1;
	}
	if ((d = dir_open(fd, ".")) == NULL)
		return seterr(r->err, "items/%s: %s", it->id, strerror(errno));
	while ((de = dir_next(d)) != NULL) {
		ok = strcmp(de->d_name, "upload.xml") == 0;
		snprintf(fpath, sizeof fpath, "items/%s/%s", it->id, de->d_name);
		for (i = 0; !ok && i < r->b->nfiles; i++)
			ok = strcmp(r->b->files[i].path, fpath) == 0;
		if (!ok) {
			closedir(d);
			return failerr(r->err, EINVAL, "%.300s: not named in items/%s/upload.xml", fpath,
			    it->id);
		}
	}
	closedir(d);
	return 0;
}

static int
read_item(struct rd *r, int itemsfd, struct spool_item *it)
{
	char path[SPOOL_ID_MAX * 2 + 32], *buf = NULL;
	struct upload u = { 0 };
	size_t len = 0;
	int fd, rc = -1;

	fd = openat(itemsfd, it->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return seterr(r->err, "items/%s: %s", it->id, strerror(errno));
	fmt(path, sizeof path, "items/%s/upload.xml", it->id);
	if (load_upload(fd, r->b->order.id, it, &u, &buf, &len, r->err) < 0 ||
	    check_pages(r, fd, it, &u) < 0)
		goto out;
	if (add_file(r->b, path, buf, len, r->err) == NULL)
		goto out;
	buf = NULL;
	if (!it->complete)
		r->b->incomplete = 1;
	rc = 0;
out:
	close_keep(fd);
	upload_free(&u);
	free(buf);
	return rc;
}

static int
read_items(struct rd *r, int bfd)
{
	struct dirent *de;
	DIR *d;
	int fd, i, rc = 0;

	if ((d = dir_open(bfd, "items")) == NULL)
		return seterr(r->err, "items: %s", strerror(errno));
	fd = dirfd(d);
	while (rc == 0 && (de = dir_next(d)) != NULL) {
		char path[300];

		snprintf(path, sizeof path, "items/%.200s", de->d_name);
		for (i = 0; i < r->b->nitems; i++)
			if (strcmp(r->b->items[i].id, de->d_name) == 0)
				break;
		if (i == r->b->nitems) {
			rc = failerr(r->err, EINVAL, "%s: no such item in order.xml", path);
			break;
		}
		if ((rc = entry_type(fd, de->d_name, path, r->err)) < 0)
			break;
		if (rc == 0) {
			rc = failerr(r->err, EINVAL, "%s: must be a folder", path);
			break;
		}
		rc = read_item(r, fd, &r->b->items[i]);
	}
	closedir(d);
	return rc;
}

/* Read order.xml and keep its text: it is staged as it came, not as we print it. */
static int
load_order_xml(struct rd *r, int bfd)
{
	struct spool_amounts sums;
	char *buf;
	size_t len;

	if (entry_type(bfd, "order.xml", "order.xml", r->err) < 0)
		return -1;
	if (read_file(bfd, "order.xml", XML_MAX, &buf, &len) < 0)
		return seterr(r->err, "order.xml: %s",
		    errno == EFBIG ? "too big" : strerror(errno));
	/* the amounts add up: an invoice never contradicts its lines */
	if (read_order(r, buf, len) < 0 || spool_order_amounts(r->b, &sums, r->err) < 0) {
		free(buf);
		return -1;
	}
	if (add_file(r->b, "order.xml", buf, len, r->err) == NULL) {
		free(buf);
		return -1;
	}
	return 0;
}

/* The top folder holds order.xml, items/ and the files order.xml names: nothing else. */
static int
check_top(struct rd *r, int bfd, int *have_items)
{
	struct dirent *de;
	DIR *d;
	int i, t, rc = -1;

	if ((d = dir_open(bfd, ".")) == NULL)
		return seterr(r->err, "cannot read the bundle: %s", strerror(errno));
	while ((de = dir_next(d)) != NULL) {
		const char *nm = de->d_name;

		if (strcmp(nm, "order.xml") == 0)
			continue;
		if ((t = entry_type(bfd, nm, nm, r->err)) < 0)
			goto out;
		if (strcmp(nm, "items") == 0 && t == 1) {
			*have_items = 1;
			continue;
		}
		for (i = 0; i < r->nnames; i++)
			if (strcmp(r->names[i], nm) == 0)
				break;
		if (i == r->nnames || t != 0) {
			failerr(r->err, EINVAL, "%.200s: not named in order.xml", nm);
			goto out;
		}
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* Every file order.xml names must be there, a regular file: it is staged from the bundle. */
static int
named_files(struct rd *r, int bfd)
{
	int i;

	for (i = 0; i < r->nnames; i++) {
		if (entry_type(bfd, r->names[i], r->names[i], r->err) != 0) {
			if (errno != ELOOP)
				failerr(r->err, ENOENT,
				    "%s: named in order.xml but missing or not a file", r->names[i]);
			return -1;
		}
		if (add_file(r->b, r->names[i], NULL, 0, r->err) == NULL)
			return -1;
	}
	return 0;
}

/* items/, as the workflow's uploads = none | optional | required allows. */
static int
read_uploads(struct rd *r, int bfd, int have_items)
{
	const struct spool_conf *conf = r->conf;
	int i;

	if (have_items && conf->uploads == SPOOL_UPLOADS_NONE)
		return failerr(r->err, EINVAL, "items: workflow '%s' takes no uploads",
		    conf->workflow);
	if (have_items && read_items(r, bfd) < 0)
		return -1;
	for (i = 0; i < r->b->nitems && conf->uploads == SPOOL_UPLOADS_REQUIRED; i++)
		if (!r->b->items[i].has_upload)
			return failerr(r->err, EINVAL, "items/%s/upload.xml: missing; "
			    "workflow '%s' needs an upload for every item", r->b->items[i].id,
			    conf->workflow);
	return 0;
}

/* The names read_order collected; the bundle itself is the caller's. */
static void
rd_free(struct rd *r)
{
	int i;

	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
}

int
spool_bundle_readfd(int bfd, const struct spool_conf *conf, struct spool_bundle **out,
    struct spool_err *err)
{
	struct rd r = { .conf = conf, .err = err };
	int rc = -1, have_items = 0;

	if ((r.b = calloc(1, sizeof *r.b)) == NULL)
		return seterr(err, "%s", strerror(errno));
	if (load_order_xml(&r, bfd) == 0 && check_top(&r, bfd, &have_items) == 0 &&
	    named_files(&r, bfd) == 0 && read_uploads(&r, bfd, have_items) == 0) {
		rc = 0;
		*out = r.b;
		r.b = NULL;
	}
	rd_free(&r);
	spool_bundle_free(r.b);
	return rc;
}

/* Open a bundle folder; a symlink to one is refused like any symlink in a bundle. */
static int
open_bundle(int dirfd, const char *path, const char *name, struct spool_err *err)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if ((errno == ENOTDIR || errno == ELOOP) &&
	    fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return failerr(err, ELOOP, "bundle %s: is a symlink", name);
	return seterr(err, "bundle %s: %s", name, strerror(errno));
}

int
spool_bundle_read(int dirfd, const char *path, const struct spool_conf *conf,
    struct spool_bundle **b, struct spool_err *err)
{
	struct spool_err e;
	int bfd, r;

	if ((bfd = open_bundle(dirfd, path, path, err)) < 0)
		return -1;
	r = spool_bundle_readfd(bfd, conf, b, &e);
	close_keep(bfd);
	if (r < 0)
		return seterr(err, "bundle %s: %s", path, e.msg);
	return 0;
}

void
spool_bundle_free(struct spool_bundle *b)
{
	int i;

	if (b == NULL)
		return;
	for (i = 0; i < b->noptions; i++)
		free(b->options[i]);
	for (i = 0; i < b->nfiles; i++)
		free(b->files[i].data);
	free(b->options);
	free(b->files);
	free(b->items);
	free(b);
}

int
spool_order_load(struct spool *sp, const char *id, struct spool_bundle **out,
    struct spool_err *err)
{
	struct rd r = { .conf = sp->conf, .err = err };
	char *buf = NULL;
	size_t len;
	int fd, ifd, i, rc = -1;

	if ((fd = open_payload(sp, id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
	if ((r.b = calloc(1, sizeof *r.b)) == NULL) {
		failerr(err, ENOMEM, "out of memory");
		goto out;
	}
	if (read_file(fd, "order.xml", XML_MAX, &buf, &len) < 0) {
		seterr(err, "%s: orders/%s/order.xml: %s", id, id, strerror(errno));
		goto out;
	}
	if (read_order(&r, buf, len) < 0)
		goto out;
	for (i = 0; i < r.b->nitems; i++) {
		char path[SPOOL_ID_MAX + 8], *ubuf;
		struct upload u;
		size_t ulen;

		fmt(path, sizeof path, "items/%s", r.b->items[i].id);
		if ((ifd = openat(fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if (load_upload(ifd, r.b->order.id, &r.b->items[i], &u, &ubuf, &ulen, NULL) == 0) {
			free(ubuf);
			upload_free(&u);
		}
		close(ifd);
	}
	*out = r.b;
	r.b = NULL;
	rc = 0;
out:
	rd_free(&r);
	free(buf);
	close_keep(fd);
	spool_bundle_free(r.b);
	return rc;
}

int
spool_items_read(struct spool *sp, const char *id, struct spool_item **items, int *n,
    struct spool_err *err)
{
	struct spool_bundle *b;

	if (spool_order_load(sp, id, &b, err) < 0)
		return -1;
	*items = b->items;
	*n = b->nitems;
	b->items = NULL;
	spool_bundle_free(b);
	return 0;
}

int
spool_entry_state(const struct spool_conf *conf, const struct spool_bundle *b)
{
	int i, j;

	for (i = 0; i < conf->nentries; i++) {
		const struct spool_entry *e = &conf->entries[i];
		switch (e->cond) {
		case SPOOL_IF_ALWAYS:
			return e->state;
		case SPOOL_IF_DELAYED:
			if (b->delayed)
				return e->state;
			break;
		case SPOOL_IF_INCOMPLETE:
			if (b->incomplete)
				return e->state;
			break;
		case SPOOL_IF_OPTION:
			for (j = 0; j < b->noptions; j++)
				if (strcmp(b->options[j], e->option) == 0)
					return e->state;
			break;
		}
	}
	return -1;
}

/* ---- submission ------------------------------------------------------------- */

/*
 * Copy the checked bundle into the staging folder sfd; every file published whole
 * (the caller syncs the whole staging folder at once).
 */
static int
stage(int bfd, int sfd, const struct spool_bundle *b, int link, struct spool_err *err)
{
	const struct spool_pub pub = { .flags = SPOOL_PUB_NOREPLACE | SPOOL_PUB_NOSYNC };
	int i, r, src, dfd;

	for (i = 0; i < b->nfiles; i++) {
		const struct spool_bfile *f = &b->files[i];
		char dir[sizeof f->path], *slash;
		const char *base = f->path;

		dfd = sfd;
		if ((slash = strrchr(f->path, '/')) != NULL) {
			/* items/<item>/<file>: make items/ and items/<item>/ first */
			memcpy(dir, f->path, (size_t)(slash - f->path));
			dir[slash - f->path] = '\0';
			base = slash + 1;
			if ((mkdir_own(sfd, "items", SPOOL_DIR_MODE) < 0 && errno != EEXIST) ||
			    (mkdir_own(sfd, dir, SPOOL_DIR_MODE) < 0 && errno != EEXIST) ||
			    (dfd = openat(sfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				return seterr(err, "cannot stage %s: %s", dir, strerror(errno));
		}
		if (f->data != NULL)
			r = spool_publish(dfd, base, -1, f->data, f->len, &pub);
		else if (link && spool_sys.linkat(bfd, f->path, dfd, base, 0) == 0)
			r = 0;    /* a reorder's uploads: never written again, so shared safely */
		else if ((src = openat(bfd, f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
			r = -1;
		else {
			struct stat st;
			if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
				errno = EINVAL;
				r = -1;
			} else
				r = spool_publish_fd(dfd, base, -1, src, &pub);
			close_keep(src);
		}
		if (dfd != sfd)
			close_keep(dfd);
		if (r < 0)
			return seterr(err, "cannot stage %s: %s", f->path, strerror(errno));
	}
	return 0;
}

/* One submission: what its phases share, and what the rollback must undo. */
struct sub {
	struct spool *sp;
	struct spool_bundle *b;
	struct spool_err *err;
	const char *oid;
	char bundle_id[SPOOL_ID_MAX + 1];   /* the bundle's own id, if the caller gave another */
	char stagename[80];
	char intent[INTENT_NAME_MAX];       /* its record in run/intent/, or "" */
	int sfd;
	int entry;      /* the state the order enters */
	int staged;     /* tmp/<stagename> is ours to remove */
	int claimed;    /* orders/<oid> is ours, and the order not yet committed */
};

/* The caller's id replaces the bundle's (a reorder's); the history keeps the old one. */
static int
take_id(struct sub *s, const char *id)
{
	if (!spool_id_ok(id))
		return failerr(s->err, EINVAL, "'%.80s' is not an order id", id);
	snprintf(s->bundle_id, sizeof s->bundle_id, "%s", s->b->order.id);
	snprintf(s->b->order.id, sizeof s->b->order.id, "%s", id);
	return 0;
}

/* Choose the entry state; an id in use anywhere is refused before anything is staged. */
static int
admit(struct sub *s)
{
	struct spool *sp = s->sp;
	int n, where;

	if ((s->entry = spool_entry_state(sp->conf, s->b)) < 0 || sp->statefd[s->entry] < 0)
		return failerr(s->err, EINVAL, "%s: no entry state for this order", s->oid);
	if ((n = spool_locate(sp, s->oid, &where)) != 0 ||
	    faccessat(sp->dir[SPOOL_DIR_ORDERS], s->oid, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return failerr(s->err, EEXIST, "%s: order exists already%s%s", s->oid,
		    n > 0 ? " in " : "", n > 0 ? sp->conf->states[where].name : "");
	return 0;
}

/*
 * Below [spool] min_free no new order comes in (a temporary refusal): the room
 * left is for the orders already in the spool, which go on moving.
 */
static int
check_room(const struct sub *s)
{
	struct spool_space room;
	char why[SPOOL_ERR_MAX - SPOOL_ID_MAX - 8];

	if (spool_space(s->sp, &room) == 0 && !spool_space_ok(s->sp->conf, &room, why, sizeof why))
		return failerr(s->err, ENOSPC, "%s: %s", s->oid, why);
	return 0;
}

/* Make tmp/sub.<suffix>; from the mkdir on, the rollback removes it. */
static int
open_stage(struct sub *s)
{
	int tmp = s->sp->dir[SPOOL_DIR_TMP];
	char sfx[64];

	tmp_suffix(sfx, sizeof sfx);
	fmt(s->stagename, sizeof s->stagename, "sub.%s", sfx);
	if (mkdir_own(tmp, s->stagename, SPOOL_DIR_MODE) < 0 ||
	    (s->staged = 1, s->sfd = openat(tmp, s->stagename,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return seterr(s->err, "%s: cannot make tmp/%s: %s", s->oid, s->stagename,
		    strerror(errno));
	return 0;
}

/* The history's first line: who submitted the order, into which state, under what id. */
static void
submit_event(const struct sub *s, const char *who, struct spool_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->time = s->b->order.submitted;
	snprintf(ev->id, sizeof ev->id, "%s", s->oid);
	snprintf(ev->actor, sizeof ev->actor, "%s", who != NULL ? who : "-");
	snprintf(ev->to, sizeof ev->to, "%s", s->sp->conf->states[s->entry].name);
	if (s->bundle_id[0] != '\0' && strcmp(s->bundle_id, s->oid) != 0)
		snprintf(ev->comment, sizeof ev->comment, "submitted (the bundle's id is %s)",
		    s->bundle_id);
	else
		snprintf(ev->comment, sizeof ev->comment, "submitted");
}

/* Stage the history and the order file, detached until the commit. */
static int
stage_order_file(const struct sub *s, const char *who, const char *buf, size_t len)
{
	struct spool_event ev;
	struct timespec placed;

	submit_event(s, who, &ev);
	placed.tv_sec = s->b->order.placed;
	placed.tv_nsec = 0;
	/* made here with the spool's mode; the history's writer only appends to it */
	if (create_own(s->sfd, "history", SPOOL_FILE_MODE) < 0 ||
	    spool_history_append(s->sfd, "history", &ev, SPOOL_NOSYNC) < 0 ||
	    spool_publish(s->sfd, DETACHED_NAME, -1, buf, len,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOREPLACE | SPOOL_PUB_NOSYNC,
	    .mtime = &placed }) < 0)
		return seterr(s->err, "%s: cannot stage the order file: %s", s->oid,
		    strerror(errno));
	return 0;
}

/* Check the bundle and stage it: all a submission does before the first sync. */
static int
prepare(struct sub *s, struct spool_subreq *r, int link)
{
	const char *name = r->name != NULL ? r->name : r->bundle;
	struct spool_err e;
	char buf[4096];
	int bfd, n, rc = -1;

	if ((bfd = open_bundle(r->dirfd, r->bundle, name, s->err)) < 0)
		return -1;
	if (spool_bundle_readfd(bfd, s->sp->conf, &s->b, &e) < 0) {
		seterr(s->err, "bundle %s: %s", name, e.msg);
		goto out;
	}
	if (r->id != NULL && take_id(s, r->id) < 0)
		goto out;
	s->oid = s->b->order.id;
	snprintf(r->id_out, sizeof r->id_out, "%s", s->oid);
	if (admit(s) < 0)
		goto out;
	if ((n = spool_order_format(&s->b->order, buf, sizeof buf)) < 0) {
		seterr(s->err, "%s: cannot format the order file: %s", s->oid, strerror(errno));
		goto out;
	}
	if (check_room(s) < 0)
		goto out;
	/* recorded before the claim can leave the order detached; the first sync covers it */
	if (intent_put(s->sp, s->oid, 0, s->intent, sizeof s->intent) < 0) {
		seterr(s->err, "%s: cannot record the submit in run/intent: %s", s->oid,
		    strerror(errno));
		goto out;
	}
	if (open_stage(s) < 0 || stage(bfd, s->sfd, s->b, link, s->err) < 0 ||
	    stage_order_file(s, r->who, buf, (size_t)n) < 0)
		goto out;
	rc = 0;
out:
	close_keep(bfd);
	return rc;
}

/* Claim the id: only one orders/<id> can exist. */
static int
claim(struct sub *s)
{
	struct spool *sp = s->sp;

	if (rename_noreplace(sp->dir[SPOOL_DIR_TMP], s->stagename, sp->dir[SPOOL_DIR_ORDERS],
	    s->oid) < 0) {
		if (errno == ENOTEMPTY)
			errno = EEXIST;
		return seterr(s->err, "%s: %s", s->oid,
		    errno == EEXIST ? "order exists already" : strerror(errno));
	}
	s->staged = 0;
	s->claimed = 1;
	return 0;
}

/* The commit: the order file enters its state. */
static int
enter(struct sub *s)
{
	char oname[SPOOL_ID_MAX + sizeof ORDER_SUFFIX];
	struct spool *sp = s->sp;

	fmt(oname, sizeof oname, "%s%s", s->oid, ORDER_SUFFIX);
	if (rename_noreplace(s->sfd, DETACHED_NAME, sp->statefd[s->entry], oname) < 0)
		return seterr(s->err, "%s: cannot enter state %s: %s", s->oid,
		    sp->conf->states[s->entry].name,
		    errno == EEXIST ? "an order file of that id is there" : strerror(errno));
	s->claimed = 0;
	return 0;
}

/* A submit failed before its commit: the order never appeared, so its folder goes. */
static void
unstage(struct sub *s)
{
	struct spool *sp = s->sp;
	int saved = errno;

	if (s->claimed && rename_noreplace(sp->dir[SPOOL_DIR_ORDERS], s->oid,
	    sp->dir[SPOOL_DIR_TMP], s->stagename) == 0) {
		s->claimed = 0;
		s->staged = 1;
	}
	if (s->staged)
		spool_rmtree(sp->dir[SPOOL_DIR_TMP], s->stagename);
	errno = saved;
}

static void
sub_failed(struct spool_subreq *r)
{
	r->rc = -1;
	r->errnum = errno != 0 ? errno : EIO;
}

/* A step for the whole batch failed: every submission still going fails with it. */
static void
all_failed(struct spool_subreq *r, int n, const char *what)
{
	int i, saved = errno;

	for (i = 0; i < n; i++)
		if (r[i].rc == 0) {
			errno = saved;
			seterr(&r[i].err, "%s: %s: %s", r[i].id_out, what, strerror(saved));
			sub_failed(&r[i]);
		}
}

static int
live(const struct spool_subreq *r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[i].rc == 0)
			return 1;
	return 0;
}

/*
 * The submissions of a batch go through each step together, so that each sync serves
 * them all: stage every one; one sync of the file system; claim every id; one fsync of
 * orders/; commit every order file; one fsync of each entry state.
 */
static int
submit_many(struct spool *sp, struct spool_subreq *r, int n, int link)
{
	struct sub *s;
	int i, j, lk, done = 0;

	for (i = 0; i < n; i++) {
		r[i].rc = 0;
		r[i].errnum = 0;
		r[i].state = -1;
		r[i].id_out[0] = '\0';
		r[i].err.msg[0] = '\0';
	}
	if (n <= 0)
		return 0;
	if ((s = calloc((size_t)n, sizeof *s)) == NULL) {
		all_failed(r, n, "cannot submit");
		return 0;
	}
	for (i = 0; i < n; i++)
		s[i] = (struct sub){ .sp = sp, .err = &r[i].err, .sfd = -1 };
	/* Held from staging to commit, so check --repair never takes our staging for stale. */
	if ((lk = repair_lock(sp, LOCK_SH)) < 0) {
		all_failed(r, n, "cannot lock run/" REPAIR_LOCK);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (prepare(&s[i], &r[i], link) < 0)
			sub_failed(&r[i]);
	/* staged files (and the records in run/intent/) are durable before any claim */
	if (live(r, n) && spool_sync(sp) < 0)
		all_failed(r, n, "cannot sync the staged files");
	for (i = 0; i < n; i++)
		if (r[i].rc == 0 && claim(&s[i]) < 0)
			sub_failed(&r[i]);
	if (live(r, n) && spool_fsync_dir(sp->dir[SPOOL_DIR_ORDERS]) < 0)
		all_failed(r, n, "cannot sync orders/");
	for (i = 0; i < n; i++)
		if (r[i].rc == 0 && enter(&s[i]) < 0)
			sub_failed(&r[i]);
	for (i = 0; i < n; i++) {
		if (r[i].rc != 0)
			continue;
		r[i].state = s[i].entry;
		for (j = 0; j < i && !(r[j].rc == 0 && s[j].entry == s[i].entry); j++)
			;
		if (j < i)
			continue;    /* that state is synced already */
		if (spool_fsync_dir(sp->statefd[s[i].entry]) == 0)
			continue;
		for (j = i; j < n; j++)
			if (r[j].rc == 0 && s[j].entry == s[i].entry) {
				seterr(&r[j].err, "%s: submitted, but cannot sync: %s", r[j].id_out,
				    strerror(errno));
				sub_failed(&r[j]);
			}
	}
	repair_unlock(lk);
out:
	for (i = 0; i < n; i++) {
		if (r[i].rc < 0)
			unstage(&s[i]);
		else
			done++;
		/* whole (entered, or gone again): nothing for recovery to finish */
		if (!s[i].claimed && s[i].intent[0] != '\0')
			intent_drop(sp, s[i].intent);
		close_keep(s[i].sfd);
		spool_bundle_free(s[i].b);
	}
	free(s);
	return done;
}

int
spool_submit_many(struct spool *sp, struct spool_subreq *r, int n)
{
	return submit_many(sp, r, n, 0);
}

static int
submit(struct spool *sp, int dirfd, const char *bundle, const char *id,
    const char *who, int link, char *out_id, int *out_state, struct spool_err *err)
{
	struct spool_subreq r = { .dirfd = dirfd, .bundle = bundle, .id = id, .who = who };

	submit_many(sp, &r, 1, link);
	if (out_id != NULL)
		snprintf(out_id, SPOOL_ID_MAX + 1, "%s", r.id_out);
	if (out_state != NULL && r.rc == 0)
		*out_state = r.state;
	if (err != NULL)
		*err = r.err;
	errno = r.errnum;
	return r.rc;
}

int
spool_submit(struct spool *sp, int dirfd, const char *bundle, const char *id,
    const char *who, char *out_id, int *out_state, struct spool_err *err)
{
	return submit(sp, dirfd, bundle, id, who, 0, out_id, out_state, err);
}

/* An upload.xml for the copy: the same, but of the new order. */
static int
copy_upload_xml(int from, int to, const char *newid)
{
	xmlDocPtr doc;
	xmlChar *out = NULL;
	char *buf;
	size_t len;
	int olen = 0, r = -1;

	if (read_file(from, "upload.xml", XML_MAX, &buf, &len) < 0)
		return -1;
	if ((doc = xml_read(buf, len, "upload.xml", NULL)) != NULL) {
		xmlSetProp(xmlDocGetRootElement(doc), (const xmlChar *)"order", (const xmlChar *)newid);
		xmlDocDumpMemoryEnc(doc, &out, &olen, "UTF-8");
		if (out != NULL)
			r = spool_publish(to, "upload.xml", -1, out, (size_t)olen,
			    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNC });
		xmlFree(out);
		xmlFreeDoc(doc);
	} else
		errno = EINVAL;
	free(buf);
	return r;
}

/* Link every regular file of from/name into to/name; folders recurse. */
static int
link_tree(int from, int to, const char *name, const char *newid, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0, sfd, dfd;

	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISREG(st.st_mode) && strcmp(name, "upload.xml") == 0)
		return copy_upload_xml(from, to, newid);
	if (S_ISREG(st.st_mode))
		return spool_sys.linkat(from, name, to, name, 0);
	if (!S_ISDIR(st.st_mode) || depth > 2 || strcmp(name, SPOOL_CHUNKS_DIR) == 0)
		return 0;
	if (mkdir_own(to, name, SPOOL_DIR_MODE) < 0 ||
	    (d = dir_open(from, name)) == NULL)
		return -1;
	sfd = dirfd(d);
	if ((dfd = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		closedir(d);
		return -1;
	}
	while (r == 0 && (de = dir_next(d)) != NULL)
		r = link_tree(sfd, dfd, de->d_name, newid, depth + 1);
	close(dfd);
	closedir(d);
	return r;
}

/*
 * The copy's order.xml: the new id, placed now, payment delayed (a reorder is paid
 * again), and no invoice (the store makes a new one).
 */
static int
copy_order_xml(const char *buf, size_t len, const char *newid, int sfd, struct spool_err *err)
{
	xmlNodePtr root, n, next;
	xmlDocPtr doc;
	xmlChar *out = NULL;
	char when[32], tmp[16];
	int olen = 0, r = -1;

	if ((doc = xml_read(buf, len, "order.xml", err)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	xmlSetProp(root, (const xmlChar *)"id", (const xmlChar *)newid);
	for (n = root->children; n != NULL; n = next) {
		next = n->next;
		if (is(n, "placed"))
			xmlNodeSetContent(n, (const xmlChar *)spool_time_fmt(spool_sys.time(NULL), when,
			    sizeof when));
		else if (is(n, "payment")) {
			xmlSetProp(n, (const xmlChar *)"status", (const xmlChar *)"delayed");
			xmlUnsetProp(n, (const xmlChar *)"reference");
		} else if (is(n, "file") && text(n, "role", tmp, sizeof tmp) > 0 &&
		    strcmp(tmp, "invoice") == 0) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
	xmlDocDumpMemoryEnc(doc, &out, &olen, "UTF-8");
	if (out == NULL || spool_publish(sfd, "order.xml", -1, out, (size_t)olen,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNC }) < 0)
		seterr(err, "cannot write the copy's order.xml: %s", strerror(errno));
	else
		r = 0;
	xmlFree(out);
	xmlFreeDoc(doc);
	return r;
}

int
spool_order_copy(struct spool *sp, const char *id, const char *who, int nth, char *newid,
    int *out_state, struct spool_err *err)
{
	char stagename[SPOOL_ID_MAX + 16], *buf = NULL;
	int ofd, sfd = -1, n, where, rc = -1, saved;
	size_t len;

	if ((ofd = open_payload(sp, id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
	/* "<id>-r<nth>", or the first free of "<id>-r1", "<id>-r2", ... */
	for (n = nth > 0 ? nth : 1; n < (nth > 0 ? nth + 1 : 1000); n++) {
		if (fmt(newid, SPOOL_ID_MAX + 1, "%s-r%d", id, n) < 0) {
			failerr(err, ENAMETOOLONG, "%s: the id is too long for a copy's id", id);
			goto out;
		}
		if (nth > 0 || (spool_locate(sp, newid, &where) == 0 &&
		    faccessat(sp->dir[SPOOL_DIR_ORDERS], newid, F_OK, AT_SYMLINK_NOFOLLOW) < 0))
			break;
	}
	fmt(stagename, sizeof stagename, "copy.%s", id);
	if (read_file(ofd, "order.xml", XML_MAX, &buf, &len) < 0) {
		seterr(err, "%s: orders/%s/order.xml: %s", id, id, strerror(errno));
		goto out;
	}
	if (spool_rmtree(sp->dir[SPOOL_DIR_TMP], stagename) < 0 ||
	    mkdir_own(sp->dir[SPOOL_DIR_TMP], stagename, SPOOL_DIR_MODE) < 0 ||
	    (sfd = openat(sp->dir[SPOOL_DIR_TMP], stagename,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		seterr(err, "%s: cannot make tmp/%s: %s", id, stagename, strerror(errno));
		goto out;
	}
	if (copy_order_xml(buf, len, newid, sfd, err) < 0)
		goto out;
	if (faccessat(ofd, "items", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    link_tree(ofd, sfd, "items", newid, 0) < 0) {
		seterr(err, "%s: cannot link its uploads: %s", id, strerror(errno));
		goto out;
	}
	rc = submit(sp, sp->dir[SPOOL_DIR_TMP], stagename, newid, who, 1, newid, out_state, err);
out:
	saved = errno;
	if (sfd >= 0) {
		close(sfd);
		spool_rmtree(sp->dir[SPOOL_DIR_TMP], stagename);
	}
	free(buf);
	close_keep(ofd);
	errno = saved;
	return rc;
}
