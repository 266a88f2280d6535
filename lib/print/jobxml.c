/*
 * Print job tickets in hot folders: job.xml, which printers read and edit to report
 * progress, and JDF tickets for RIP hot folders.
 *
 * Writing.  A ticket is built with libxml2's tree API from values checked here (text
 * is never pasted into markup), a job.xml is checked against the schema compiled in
 * from spool-layout/schemas/job.xsd, and the file is published whole with
 * spool_publish.
 *
 * Reading.  A printer's job.xml is hostile: it arrives over SMB, may be half written
 * (Samba rewrites a file in place) or planted.  It is opened without following a
 * symlink, must be a regular file of at most SPOOL_JOBXML_MAX bytes, and is parsed
 * with no network, no DTD, no entity substitution and no external entity loader.  A
 * DOCTYPE stops the parser where it starts, before any entity is declared: XXE, the
 * entity bomb and the quadratic blow-up that libxml2's own limits let through
 * (DEPENDENCIES.md) never get going.  Only OrderProductPrintStatus is read, and what
 * the printer typed comes back as bounded plain text.
 *
 * Refusing.  An illegal status is written back into the printer's own document, its
 * other content kept, and the file is replaced atomically.  A file that changed since
 * it was read is left alone (EAGAIN), like any lost race.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "../core/internal.h"
#include "../bundle/xml.h"

#define JOB_SCHEMA "schemas/job.xsd"
#define JDF_NS "http://www.CIP4.org/JDFSchema_1_1"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define QUANTITY_MAX 1000000
#define PAGES_MAX 10000
#define DEPTH_MAX 32        /* element nesting walked inside one element we read */
#define STATUS_DIGITS 6     /* more digits than this is not a status */
#define JDF_SHORT 63        /* JDF's shortString and ID: at most 63 characters */
#define JDF_LONG 255        /* JDF's longString */

/* What the printer sees first when it opens job.xml. */
#define JOB_COMMENT "\n" \
	"  A print job from spool.  To report progress, edit OrderStatus in\n" \
	"  OrderProductPrintStatus: 15 when you start printing, 3 when it is shipped, or\n" \
	"  10 if it failed, with an OrderStatusMessage that says why (<br/> breaks a line).\n" \
	"  Save the file as UTF-8: spool reads it each time you save it.\n"

/* ---- statuses and the printer's rules ----------------------------------- */

static const struct {
	int code;
	const char *name;
} statuses[] = {
	{ SPOOL_JOB_QUEUED, "Queued" },
	{ SPOOL_JOB_PROCESSING, "Processing" },
	{ SPOOL_JOB_SHIPPING, "Shipping" },
	{ SPOOL_JOB_FAILED, "Failed" },
	{ SPOOL_JOB_CANCELLED, "Cancelled" },
};

const char *
spool_job_status_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (statuses[i].code == code)
			return statuses[i].name;
	return NULL;
}

/* What may follow `from`, for the sentence that tells a printer why it was refused. */
static const char *
next_hint(int from)
{
	switch (from) {
	case SPOOL_JOB_QUEUED:
		return "next comes 15 (Processing), or 10 (Failed) with an OrderStatusMessage";
	case SPOOL_JOB_PROCESSING:
		return "next comes 3 (Shipping), or 10 (Failed) with an OrderStatusMessage";
	case SPOOL_JOB_FAILED:
		return "after a failure the shop decides what happens next";
	default:
		return "only 10 (Failed), with an OrderStatusMessage, can follow";
	}
}

int
spool_job_transition(int from, int to, const char *message, struct spool_err *err)
{
	const char *f = spool_job_status_name(from), *t = spool_job_status_name(to);

	if (f == NULL)
		return failerr(err, EINVAL, "status %d is not a print job status", from);
	if (t == NULL)
		return failerr(err, EINVAL, "OrderStatus %d is not a status: use 15 (Processing), "
		    "3 (Shipping) or 10 (Failed)", to);
	if (to == from)
		return 0;
	if (to == SPOOL_JOB_FAILED) {
		if (message == NULL || *message == '\0')
			return failerr(err, EPERM, "OrderStatus 10 (Failed) needs an OrderStatusMessage "
			    "that says what went wrong");
		return 1;
	}
	if ((from == SPOOL_JOB_QUEUED && to == SPOOL_JOB_PROCESSING) ||
	    (from == SPOOL_JOB_PROCESSING && to == SPOOL_JOB_SHIPPING))
		return 1;
	if (to == SPOOL_JOB_QUEUED || to == SPOOL_JOB_CANCELLED)
		return failerr(err, EPERM, "OrderStatus %d (%s) is set by the shop, not by the printer",
		    to, t);
	return failerr(err, EPERM, "OrderStatus %d (%s) cannot follow %d (%s): %s", to, t, from, f,
	    next_hint(from));
}

int
spool_jobxml_verdict(const struct spool_jobxml *j, int from, struct spool_err *err)
{
	static const char use[] = "use one of 15 (Processing), 3 (Shipping), 10 (Failed)";

	if (j->status != SPOOL_JOB_BADSTATUS)
		return spool_job_transition(from, j->status, j->message, err);
	switch (j->bad) {
	case SPOOL_JOB_BAD_NOBLOCK:
		return failerr(err, EINVAL, "OrderProductPrintStatus is missing");
	case SPOOL_JOB_BAD_BLOCKS:
		return failerr(err, EINVAL, "OrderProductPrintStatus appears more than once");
	case SPOOL_JOB_BAD_NOSTATUS:
		return failerr(err, EINVAL, "OrderStatus is missing: %s", use);
	case SPOOL_JOB_BAD_STATUSES:
		return failerr(err, EINVAL, "OrderStatus appears more than once: %s", use);
	default:
		return failerr(err, EINVAL, "OrderStatus '%s' is not a status: %s", j->status_text,
		    use);
	}
}

/* ---- plain text out of what a printer typed ----------------------------- */

/* Which characters of a text break a line. */
enum brk {
	BRK_NONE,       /* none: all white space is one blank (ids, statuses, spool's sentences) */
	BRK_MARKUP,     /* <br/> typed as text, U+2028/9: a printer's OrderStatusMessage */
	BRK_LINES,      /* those and LF, with CR dropped: lines a person typed in a form */
};

/*
 * A bounded writer of cleaned text: runs of blanks become one, line breaks are kept
 * (at most two in a row), nothing leads or trails, and once something does not fit,
 * nothing more is added, so the text is cut at one place, at a character boundary.
 */
struct clean {
	char *out;
	size_t cap, len;    /* cap: bytes of text, without the NUL */
	int space, breaks, started, cut;
};

static void
clean_init(struct clean *c, char *out, size_t size)
{
	memset(c, 0, sizeof *c);
	c->out = out;
	c->cap = size - 1;
	out[0] = '\0';
}

static void
clean_emit(struct clean *c, const unsigned char *s, size_t n)
{
	size_t sep = c->breaks > 1 ? 2 : c->breaks == 1 ? 1 : (size_t)c->space, i;

	if (c->cut)
		return;
	if (c->len + sep + n > c->cap) {
		c->cut = 1;
		return;
	}
	for (i = 0; i < sep; i++)
		c->out[c->len++] = c->breaks ? '\n' : ' ';
	memcpy(c->out + c->len, s, n);
	c->len += n;
	c->out[c->len] = '\0';
	c->space = c->breaks = 0;
	c->started = 1;
}

/*
 * Mark a cut text: it ends in "...", in place of as many whole characters (and the
 * blanks before them) as that takes, so whoever shows it shows that it was cut.
 */
static void
clean_mark(struct clean *c)
{
	if (!c->cut || c->cap < 3)
		return;
	while (c->len > 0 && (c->len + 3 > c->cap || c->out[c->len - 1] == ' ' ||
	    c->out[c->len - 1] == '\n')) {
		c->len--;
		while (c->len > 0 && ((unsigned char)c->out[c->len] & 0xc0) == 0x80)
			c->len--;
	}
	memcpy(c->out + c->len, "...", 4);
	c->len += 3;
}

static void
clean_space(struct clean *c)
{
	if (c->started && c->breaks == 0)
		c->space = 1;
}

static void
clean_break(struct clean *c)
{
	if (c->started) {
		c->breaks++;
		c->space = 0;
	}
}

/* Length of "<br>", "<br/>" or "<br />" in any case at s, or 0. */
static size_t
br_at(const unsigned char *s)
{
	size_t i = 3;

	if (s[0] != '<' || (s[1] | 0x20) != 'b' || (s[2] | 0x20) != 'r')
		return 0;
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	if (s[i] == '/')
		i++;
	return s[i] == '>' ? i + 1 : 0;
}

/*
 * Characters that show nothing, or reorder what is shown (the bidirectional controls
 * of "Trojan Source"): they could hide text from the admin who reads the message.
 */
static int
invisible(uint32_t c)
{
	return c <= 0x9f || c == 0x61c || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb) || c == 0xfffe || c == 0xffff;
}

static void
clean_text(struct clean *c, const unsigned char *s, enum brk br)
{
	unsigned cp;
	size_t n;

	/* utf8_decode stops at the terminating NUL, which is no continuation byte */
	while (*s != '\0' && !c->cut) {
		if (br != BRK_NONE && *s == '<' && (n = br_at(s)) > 0) {
			clean_break(c);
			s += n;
		} else if (br == BRK_LINES && (*s == '\n' || *s == '\r')) {
			/* CRLF is one line end: a CR is nothing of its own */
			if (*s == '\n')
				clean_break(c);
			s++;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			clean_space(c);
			s++;
		} else if (*s < 0x80) {
			if (*s >= 0x20 && *s != 0x7f)
				clean_emit(c, s, 1);
			s++;
		} else if ((n = utf8_decode(s, 4, &cp)) == 0) {
			s++;
		} else {
			if (cp == 0x2028 || cp == 0x2029) {
				/* line and paragraph separators: a break only where breaks belong */
				if (br != BRK_NONE)
					clean_break(c);
				else
					clean_space(c);
			} else if (!invisible(cp))
				clean_emit(c, s, n);
			s += n;
		}
	}
}

static int
is_el(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns == NULL &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The text below n, cleaned: with BRK_MARKUP, <br/> elements and text are line breaks. */
static void
gather(struct clean *c, xmlNodePtr n, enum brk br, int depth)
{
	for (; n != NULL && !c->cut; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				clean_text(c, n->content, br);
		} else if (n->type == XML_ELEMENT_NODE) {
			if (br != BRK_NONE && xmlStrcasecmp(n->name, (const xmlChar *)"br") == 0)
				clean_break(c);
			else if (depth < DEPTH_MAX)
				gather(c, n->children, br, depth + 1);
		}
		/* Comments and processing instructions are not what the printer typed. */
	}
}

/*
 * A message a person typed, LF between lines, as reading it back from job.xml gives
 * it: cleaned as a printer's is, LF a line break and CR dropped.  Dropping characters
 * can join a <br> that reading takes for a break ("<br\x01>"), so the text is cleaned
 * again until it stays the same; a pass that changes it shortens it, so this ends.
 * -1 when it is over SPOOL_JOB_MSG_MAX bytes: it is refused, not cut, for a person who
 * can shorten it should not have the end of it lost.
 */
static int
clean_message(const char *msg, char out[SPOOL_JOB_MSG_MAX + 1])
{
	char prev[SPOOL_JOB_MSG_MAX + 1];
	struct clean c;

	clean_init(&c, out, SPOOL_JOB_MSG_MAX + 1);
	clean_text(&c, (const unsigned char *)(msg != NULL ? msg : ""), BRK_LINES);
	if (c.cut)
		return -1;
	do {
		memcpy(prev, out, c.len + 1);
		clean_init(&c, out, SPOOL_JOB_MSG_MAX + 1);
		clean_text(&c, (const unsigned char *)prev, BRK_LINES);
	} while (strcmp(prev, out) != 0);
	return 0;
}

/* An element's text as an id into dst (SPOOL_ID_MAX + 1 bytes), or "". */
static void
text_id(xmlNodePtr n, char *dst)
{
	struct clean c;

	clean_init(&c, dst, SPOOL_ID_MAX + 1);
	gather(&c, n->children, BRK_NONE, 0);
	if (c.cut || !spool_id_ok(dst))
		dst[0] = '\0';
}

/* ---- parsing hostile XML ------------------------------------------------ */

/* A document that is not well-formed is one still being written: EAGAIN. */
static xmlDocPtr
safe_parse(const char *buf, size_t len, const char *name, struct spool_err *err)
{
	return xml_hostile(buf, len, name, SPOOL_JOBXML_MAX, EAGAIN, err);
}

/*
 * Read OrderProductPrintStatus into out.  *blockp (may be NULL) gets the first one,
 * or NULL.  Fails only when the document is not a job.xml at all.
 */
static int
extract(xmlDocPtr doc, const char *name, struct spool_jobxml *out, xmlNodePtr *blockp,
    struct spool_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), n, c, block = NULL, st = NULL, msg = NULL;
	int nblocks = 0, nstatus = 0;
	struct clean cl;
	size_t i;

	memset(out, 0, sizeof *out);
	out->status = SPOOL_JOB_BADSTATUS;
	if (blockp != NULL)
		*blockp = NULL;
	if (root == NULL || !is_el(root, "PrintJob"))
		return failerr(err, EINVAL, "%s: not a job.xml: its root element is not PrintJob",
		    name);
	for (n = root->children; n != NULL; n = n->next) {
		if (is_el(n, "OrderProductPrintStatus")) {
			if (nblocks++ == 0)
				block = n;
		} else if (is_el(n, "Order") && out->order_id[0] == '\0') {
			for (c = n->children; c != NULL; c = c->next)
				if (is_el(c, "OrderId")) {
					text_id(c, out->order_id);
					break;
				}
		}
	}
	if (blockp != NULL)
		*blockp = block;
	if (block == NULL) {
		out->bad = SPOOL_JOB_BAD_NOBLOCK;
		return 0;
	}
	for (n = block->children; n != NULL; n = n->next) {
		if (is_el(n, "OrderStatus")) {
			if (nstatus++ == 0)
				st = n;
		} else if (is_el(n, "OrderStatusMessage") && msg == NULL)
			msg = n;
		else if (is_el(n, "OrderProductId") && out->item_id[0] == '\0')
			text_id(n, out->item_id);
	}
	if (msg != NULL) {
		clean_init(&cl, out->message, sizeof out->message);
		gather(&cl, msg->children, BRK_MARKUP, 0);
		out->message_cut = cl.cut;
		clean_mark(&cl);
	}
	if (nblocks > 1)
		out->bad = SPOOL_JOB_BAD_BLOCKS;
	else if (nstatus == 0)
		out->bad = SPOOL_JOB_BAD_NOSTATUS;
	else if (nstatus > 1)
		out->bad = SPOOL_JOB_BAD_STATUSES;
	if (st == NULL)
		return 0;
	out->line = (int)xmlGetLineNo(st);
	clean_init(&cl, out->status_text, sizeof out->status_text);
	gather(&cl, st->children, BRK_NONE, 0);
	if (out->bad != SPOOL_JOB_BAD_NONE)
		return 0;
	for (i = 0; out->status_text[i] >= '0' && out->status_text[i] <= '9'; i++)
		;
	if (cl.cut || i == 0 || i > STATUS_DIGITS || out->status_text[i] != '\0') {
		out->bad = SPOOL_JOB_BAD_NUMBER;
		return 0;
	}
	out->status = atoi(out->status_text);
	return 0;
}

int
spool_jobxml_parse(const char *buf, size_t len, const char *name, struct spool_jobxml *out,
    struct spool_err *err)
{
	xmlDocPtr doc;
	int r;

	if (name == NULL)
		name = "job.xml";
	memset(out, 0, sizeof *out);
	out->status = SPOOL_JOB_BADSTATUS;
	if ((doc = safe_parse(buf, len, name, err)) == NULL)
		return -1;
	r = extract(doc, name, out, NULL, err);
	xmlFreeDoc(doc);
	return r;
}

/* A plain file name in a folder: an id, so no slash, no "..", no dot-file. */
static int
file_name_ok(const char *name)
{
	return name != NULL && spool_id_ok(name);
}

/*
 * Read dirfd/name whole: a regular file, not through a symlink, at most
 * SPOOL_JOBXML_MAX bytes.  *st is the file as it was read.
 */
static int
load(int dirfd, const char *name, char **bufp, size_t *lenp, struct stat *st,
    struct spool_err *err)
{
	struct stat pre;
	int fd, r;

	if (!file_name_ok(name))
		return failerr(err, EINVAL, "'%.80s' is not a plain file name", name);
	/* Look before opening: opening a device or a FIFO can have effects of its own. */
	if (fstatat(dirfd, name, &pre, AT_SYMLINK_NOFOLLOW) < 0)
		return seterr(err, "%s: %s", name, strerror(errno));
	if (S_ISLNK(pre.st_mode))
		return failerr(err, ELOOP, "%s: is a symlink, which spool never follows", name);
	if (!S_ISREG(pre.st_mode))
		return failerr(err, EINVAL, "%s: not a regular file", name);
	if (pre.st_size > SPOOL_JOBXML_MAX)
		return failerr(err, EFBIG, "%s: %lld bytes, over the limit of %d", name,
		    (long long)pre.st_size, SPOOL_JOBXML_MAX);
	fd = spool_sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return seterr(err, "%s: %s", name,
		    errno == ELOOP ? "is a symlink, which spool never follows" : strerror(errno));
	if (fstat(fd, st) < 0)
		r = seterr(err, "%s: %s", name, strerror(errno));
	else if (!S_ISREG(st->st_mode) || st->st_size > SPOOL_JOBXML_MAX)
		r = failerr(err, S_ISREG(st->st_mode) ? EFBIG : EINVAL, "%s: %s", name,
		    S_ISREG(st->st_mode) ? "over the size limit" : "not a regular file");
	/* read to the size seen: a byte more means the file grew while we read */
	else if ((r = read_fd(fd, (size_t)st->st_size, (size_t)st->st_size, bufp, lenp)) < 0)
		r = errno == EFBIG ?
		    failerr(err, EAGAIN, "%s: it grew while being read; read it again", name) :
		    seterr(err, "%s: %s", name, strerror(errno));
	close_keep(fd);
	return r;
}

int
spool_jobxml_read(int dirfd, const char *name, struct spool_jobxml *out,
    struct spool_err *err)
{
	struct stat st;
	char *buf;
	size_t len;
	int r;

	memset(out, 0, sizeof *out);
	out->status = SPOOL_JOB_BADSTATUS;
	if (load(dirfd, name, &buf, &len, &st, err) < 0)
		return -1;
	r = spool_jobxml_parse(buf, len, name, out, err);
	free(buf);
	return r;
}

/* ---- building tickets ----------------------------------------------------- */

/*
 * Text for a ticket: clean UTF-8 without control characters, none of the two
 * non-characters XML forbids (U+FFFE, U+FFFF), at most max bytes.
 */
static int
value_ok(const char *s, size_t max)
{
	return s != NULL && strlen(s) <= max && text_ok(s) &&
	    strstr(s, "\xef\xbf\xbe") == NULL && strstr(s, "\xef\xbf\xbf") == NULL;
}

/* A message: lines of text separated by LF, at most SPOOL_JOB_MSG_MAX bytes in all. */
static int
message_ok(const char *s)
{
	char *copy, *line, *nl;
	int ok = 1;

	if (strlen(s) > SPOOL_JOB_MSG_MAX || (copy = strdup(s)) == NULL)
		return 0;
	for (line = copy; ok && line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		ok = value_ok(line, SPOOL_JOB_MSG_MAX);
	}
	free(copy);
	return ok;
}

static int
pdf_name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return file_name_ok(s) && n > 4 && strcmp(s + n - 4, ".pdf") == 0;
}

/* 1 if the n lines of an address are allowed, 0 if their number is not, -1 if a line is not. */
static int
address_ok(const char *const *lines, int n)
{
	int i;

	if (n < 0 || n > SPOOL_JOB_LINES_MAX || (n > 0 && lines == NULL))
		return 0;
	for (i = 0; i < n; i++)
		if (!value_ok(lines[i], SPOOL_FIELD_MAX))
			return -1;
	return 1;
}

/* Check every value of a job; err names the first that is not allowed. */
static int
check_job(const struct spool_job *j, struct spool_err *err)
{
	const char *o = j->order_id != NULL && spool_id_ok(j->order_id) ? j->order_id : "?";
	int i, r;

#define BAD(what) failerr(err, EINVAL, "%s: job.xml: %s is not allowed", o, what)
	if (!spool_id_ok(j->order_id ? j->order_id : ""))
		return BAD("the order id");
	if (!spool_id_ok(j->item_id ? j->item_id : ""))
		return BAD("the item id");
	if (!value_ok(j->customer, SPOOL_FIELD_MAX))
		return BAD("the customer's name");
	if (!value_ok(j->email, SPOOL_FIELD_MAX))
		return BAD("the customer's email");
	if (j->phone != NULL && !value_ok(j->phone, SPOOL_FIELD_MAX))
		return BAD("the customer's phone");
	if ((r = address_ok(j->billing, j->nbilling)) < 1)
		return BAD(r == 0 ? "the number of billing address lines" : "a billing address line");
	if ((r = address_ok(j->shipping, j->nshipping)) < 1)
		return BAD(r == 0 ? "the number of shipping address lines" :
		    "a shipping address line");
	if (!value_ok(j->product, SPOOL_FIELD_MAX) || j->product[0] == '\0')
		return BAD("the product");
	if (j->product_name != NULL && !value_ok(j->product_name, SPOOL_FIELD_MAX))
		return BAD("the product name");
	if (j->title != NULL && !value_ok(j->title, SPOOL_FIELD_MAX))
		return BAD("the title");
	if (j->quantity < 1 || j->quantity > QUANTITY_MAX)
		return BAD("the quantity");
	if (j->nchunks < 1 || j->nchunks > SPOOL_JOB_CHUNKS_MAX || j->chunks == NULL)
		return BAD("the number of chunks");
	for (i = 0; i < j->nchunks; i++)
		if (!pdf_name_ok(j->chunks[i].file) || j->chunks[i].kind == NULL ||
		    !spool_name_ok(j->chunks[i].kind) || j->chunks[i].pages < 0 ||
		    j->chunks[i].pages > PAGES_MAX)
			return BAD("a chunk (a PDF file name, a kind and its pages)");
	if (j->parts < 0 || j->parts > SPOOL_JOB_CHUNKS_MAX * 4)
		return BAD("the item's number of parts");
	if (j->invoice != NULL && !pdf_name_ok(j->invoice))
		return BAD("the invoice's file name");
	if (j->upload != NULL && !file_name_ok(j->upload))
		return BAD("the upload.xml copy's file name");
	if (spool_job_status_name(j->status) == NULL)
		return BAD("the status");
	if (j->message != NULL && !message_ok(j->message))
		return BAD("the message");
#undef BAD
	return 0;
}

/* Building a tree: each step checks its parent, so one check at the end will do. */
struct build {
	xmlDocPtr doc;
	int oom;
};

static xmlNodePtr
child(struct build *b, xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n = NULL;

	/* xmlNewTextChild escapes text; xmlNewChild would read & in it as markup. */
	if (parent == NULL ||
	    (n = xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text)) == NULL)
		b->oom = 1;
	return n;
}

static void
attr(struct build *b, xmlNodePtr n, const char *name, const char *value)
{
	if (n == NULL || xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value) == NULL)
		b->oom = 1;
}

static void
address(struct build *b, xmlNodePtr parent, const char *name, const char *const *lines,
    int n)
{
	xmlNodePtr a;
	int i;

	if (n == 0)
		return;
	a = child(b, parent, name, NULL);
	for (i = 0; i < n; i++)
		child(b, a, "Line", lines[i]);
}

/*
 * OrderStatusMessage, added to parent: the lines of msg with <br/> between them, as
 * document 002 has it.  The element, or NULL when out of memory (as b->oom says).
 */
static xmlNodePtr
message_el(struct build *b, xmlNodePtr parent, const char *msg)
{
	xmlNodePtr m = child(b, parent, "OrderStatusMessage", NULL), t;
	const char *p = msg, *nl;
	size_t n;

	while (m != NULL) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && ((t = xmlNewDocTextLen(b->doc, (const xmlChar *)p, (int)n)) == NULL ||
		    xmlAddChild(m, t) == NULL))
			b->oom = 1;
		if (nl == NULL)
			break;
		child(b, m, "br", NULL);
		p = nl + 1;
	}
	return m;
}

/* A new document with an empty root element; NULL when out of memory. */
static xmlNodePtr
new_root(struct build *b, const char *name)
{
	xmlNodePtr root;

	if ((b->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		return NULL;
	if ((root = xmlNewDocNode(b->doc, NULL, (const xmlChar *)name, NULL)) == NULL) {
		xmlFreeDoc(b->doc);
		b->doc = NULL;
		return NULL;
	}
	xmlDocSetRootElement(b->doc, root);
	return root;
}

static xmlDocPtr
jobxml_doc(const struct spool_job *j)
{
	struct build b = { .oom = 0 };
	char num[32], when[32];
	xmlNodePtr root, o, c, p, s, n;
	int i;

	if ((root = new_root(&b, "PrintJob")) == NULL)
		return NULL;
	if ((n = xmlNewDocComment(b.doc, (const xmlChar *)JOB_COMMENT)) == NULL ||
	    xmlAddPrevSibling(root, n) == NULL)
		b.oom = 1;
	attr(&b, root, "version", "1");
	o = child(&b, root, "Order", NULL);
	child(&b, o, "OrderId", j->order_id);
	child(&b, o, "Placed", spool_time_fmt(j->placed, when, sizeof when));
	c = child(&b, o, "Customer", NULL);
	child(&b, c, "Name", j->customer);
	child(&b, c, "Email", j->email);
	if (j->phone != NULL)
		child(&b, c, "Phone", j->phone);
	address(&b, o, "BillingAddress", j->billing, j->nbilling);
	address(&b, o, "ShippingAddress", j->shipping, j->nshipping);
	if (j->invoice != NULL)
		child(&b, o, "Invoice", j->invoice);

	p = child(&b, root, "OrderProduct", NULL);
	child(&b, p, "OrderProductId", j->item_id);
	child(&b, p, "Product", j->product);
	if (j->product_name != NULL)
		child(&b, p, "ProductName", j->product_name);
	if (j->title != NULL)
		child(&b, p, "Title", j->title);
	snprintf(num, sizeof num, "%d", j->quantity);
	child(&b, p, "Quantity", num);
	for (i = 0; i < j->nchunks; i++) {
		n = child(&b, p, "Chunk", j->chunks[i].file);
		attr(&b, n, "kind", j->chunks[i].kind);
		if (j->chunks[i].pages > 0) {
			snprintf(num, sizeof num, "%d", j->chunks[i].pages);
			attr(&b, n, "pages", num);
		}
	}
	if (j->upload != NULL)
		child(&b, p, "Upload", j->upload);

	s = child(&b, root, "OrderStatusInUse", NULL);
	child(&b, s, "Queued", "2");
	child(&b, s, "Processing", "15");
	child(&b, s, "Shipping", "3");
	child(&b, s, "Failed", "10");

	s = child(&b, root, "OrderProductPrintStatus", NULL);
	child(&b, s, "OrderProductId", j->item_id);
	snprintf(num, sizeof num, "%d", j->quantity);
	child(&b, s, "Quantity", num);
	snprintf(num, sizeof num, "%d", j->status);
	child(&b, s, "OrderStatus", num);
	if (j->message != NULL && j->message[0] != '\0')
		message_el(&b, s, j->message);
	if (b.oom) {
		xmlFreeDoc(b.doc);
		return NULL;
	}
	return b.doc;
}

/* Serialize doc as UTF-8 into a malloc'd, NUL-terminated buffer. */
static int
dump(xmlDocPtr doc, int format, char **buf, size_t *len, struct spool_err *err)
{
	xmlChar *mem = NULL;
	int n = 0;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &n, "UTF-8", format);
	if (mem == NULL || n < 0) {
		xmlFree(mem);
		return failerr(err, ENOMEM, "out of memory");
	}
	if ((*buf = malloc((size_t)n + 1)) == NULL) {
		xmlFree(mem);
		return failerr(err, ENOMEM, "out of memory");
	}
	memcpy(*buf, mem, (size_t)n);
	(*buf)[n] = '\0';
	*len = (size_t)n;
	xmlFree(mem);
	return 0;
}

/* Check what we are about to publish against the schema compiled in. */
static int
validate(xmlDocPtr doc, const char *xsd, struct spool_err *err)
{
	struct xml_invalid v;
	char msg[200];

	if (xml_valid(doc, xsd, &v) == 0)
		return 0;
	if (errno == ENOENT)
		return failerr(err, ENOENT, "schema %s is missing", xsd);
	msg[0] = '\0';
	if (v.msg[0] != '\0') {
		snprintf(msg, sizeof msg, "line %d: ", v.line);
		xml_message(msg + strlen(msg), sizeof msg - strlen(msg), v.msg);
	}
	if (v.schema)
		return failerr(err, EINVAL, "schema %s: %s", xsd, msg[0] ? msg : "cannot be compiled");
	return failerr(err, EINVAL, "does not match %s: %s", xsd, msg[0] ? msg : "invalid");
}

int
spool_jobxml_format(const struct spool_job *job, char **buf, size_t *len,
    struct spool_err *err)
{
	struct spool_err e;
	xmlDocPtr doc;
	int r;

	if (check_job(job, err) < 0)
		return -1;
	if ((doc = jobxml_doc(job)) == NULL)
		return failerr(err, ENOMEM, "%s: job.xml: out of memory", job->order_id);
	if (validate(doc, JOB_SCHEMA, &e) < 0) {
		/* The values were checked: this is a bug here, not bad input. */
		xmlFreeDoc(doc);
		return failerr(err, EINVAL, "%s: job.xml %s", job->order_id, e.msg);
	}
	r = dump(doc, 1, buf, len, err);
	xmlFreeDoc(doc);
	return r;
}

static int
write_ticket(int dirfd, const char *name, int tmpfd, const char *oid, const char *buf,
    size_t len, const struct spool_pub *pub, struct spool_err *err)
{
	if (spool_publish(dirfd, name, tmpfd, buf, len, pub) < 0)
		return seterr(err, "%s: cannot publish %s: %s", oid, name, strerror(errno));
	return 0;
}

int
spool_jobxml_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    const struct spool_pub *pub, struct spool_err *err)
{
	char *buf;
	size_t len;
	int r;

	if (!file_name_ok(name))
		return failerr(err, EINVAL, "'%.80s' is not a plain file name", name ? name : "");
	if (spool_jobxml_format(job, &buf, &len, err) < 0)
		return -1;
	r = write_ticket(dirfd, name, tmpfd, job->order_id, buf, len, pub, err);
	free(buf);
	return r;
}

/* ---- JDF ----------------------------------------------------------------- */

/* FNV-1a: a short, stable fingerprint for ids that JDF's limits make us shorten. */
static uint64_t
fnv(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/*
 * s as a JDF shortString (at most 63 characters): as it is when it fits, otherwise
 * its start and a hash of the whole, so two long ids stay apart.  s is ASCII (ids).
 */
static void
short_string(char *dst, size_t len, const char *s)
{
	if (strlen(s) <= JDF_SHORT)
		snprintf(dst, len, "%s", s);
	else
		snprintf(dst, len, "%.54s~%08x", s, (unsigned)(fnv(s, 0xcbf29ce484222325ULL) >> 32));
}

/* The first max characters of the UTF-8 text s (JDF counts characters). */
static void
cut_chars(char *dst, size_t len, const char *s, size_t max)
{
	size_t i = 0, chars = 0;

	while (s[i] != '\0' && chars < max) {
		size_t n = 1;
		while ((s[i + n] & 0xc0) == 0x80)
			n++;
		if (i + n >= len)
			break;
		i += n;
		chars++;
	}
	memcpy(dst, s, i);
	dst[i] = '\0';
}

/*
 * An element of a JDF pool with up to three attributes, a[] holding a name and a value
 * for each; a NULL value leaves its attribute out.
 */
static xmlNodePtr
pool_el(struct build *b, xmlNodePtr pool, const char *el, const char *const a[6])
{
	xmlNodePtr n = child(b, pool, el, NULL);
	int i;

	for (i = 0; i < 6; i += 2)
		if (a[i + 1] != NULL)
			attr(b, n, a[i], a[i + 1]);
	return n;
}

/* A resource of a JDF ResourcePool, with its Class, ID and Status. */
static xmlNodePtr
resource(struct build *b, xmlNodePtr pool, const char *el, const char *class, const char *id,
    const char *status)
{
	const char *const a[6] = { "Class", class, "ID", id, "Status", status };

	return pool_el(b, pool, el, a);
}

/* A link to a resource, and the process of the Combined node it feeds (or NULL). */
static xmlNodePtr
link_to(struct build *b, xmlNodePtr pool, const char *el, const char *ref, const char *usage,
    const char *index)
{
	const char *const a[6] = { "rRef", ref, "Usage", usage, "CombinedProcessIndex", index };

	return pool_el(b, pool, el, a);
}

/*
 * What one ticket names: its node's ID, which its resources' IDs start with, its
 * JobID, and whether it has a LayoutPreparation process (first of the Combined node).
 */
struct jdf_ids {
	char node[51], job[JDF_SHORT + 1];   /* node: "s", 32 digits, "_", 16 digits */
	int layout;
};

/* ID: the node's ID, then an underscore and what; at most 63 characters. */
static void
res_id(char *dst, size_t len, const struct jdf_ids *ids, const char *what)
{
	snprintf(dst, len, "%s_%s", ids->node, what);
}

/*
 * The node's ID is an XML ID (a letter first): the spool's id, which no other spool
 * has, and a fingerprint of the job's chunk, which no other chunk of the spool has.
 * JobID is the order's id and the spool's, cut to a shortString.
 */
static void
jdf_ids(struct jdf_ids *ids, const struct spool_job *j, const struct spool_job_chunk *ch)
{
	char hex[33], buf[SPOOL_ID_MAX + 64];
	uint64_t h;
	size_t i, n = 0;

	h = fnv(ch->file, fnv(j->item_id, fnv(j->order_id, 0xcbf29ce484222325ULL)));
	if (j->spool_id == NULL) {
		snprintf(ids->node, sizeof ids->node, "n_%016llx", (unsigned long long)h);
		short_string(ids->job, sizeof ids->job, j->order_id);
	} else {
		for (i = 0; j->spool_id[i] != '\0' && n < 32; i++)
			if (j->spool_id[i] != '-')
				hex[n++] = j->spool_id[i];
		hex[n] = '\0';
		snprintf(ids->node, sizeof ids->node, "s%s_%016llx", hex, (unsigned long long)h);
		snprintf(buf, sizeof buf, "%s.%s", j->order_id, j->spool_id);
		short_string(ids->job, sizeof ids->job, buf);
	}
	ids->layout = j->media != NULL && j->media->sides != SPOOL_SIDES_UNSET;
}

/* The JDF root's namespaces and attributes: a Combined node for chunk ch of job j. */
static void
jdf_node(struct build *b, xmlNodePtr root, const struct spool_job *j,
    const struct spool_job_chunk *ch, const char *what, const struct jdf_ids *ids)
{
	char part[JDF_SHORT + 1], buf[1024], name[1024];
	xmlNsPtr ns, xsi;

	if ((ns = xmlNewNs(root, (const xmlChar *)JDF_NS, NULL)) == NULL ||
	    (xsi = xmlNewNs(root, (const xmlChar *)XSI_NS, (const xmlChar *)"xsi")) == NULL ||
	    xmlSetNsProp(root, xsi, (const xmlChar *)"type", (const xmlChar *)"Combined") == NULL)
		b->oom = 1;
	else
		xmlSetNs(root, ns);
	snprintf(buf, sizeof buf, "%s.%s", j->item_id, ch->kind);
	short_string(part, sizeof part, buf);
	snprintf(buf, sizeof buf, "Order %s, item %s, %s: %s%s%s", j->order_id, j->item_id,
	    ch->kind, what, j->title != NULL ? ", " : "", j->title != NULL ? j->title : "");
	attr(b, root, "ID", ids->node);
	attr(b, root, "Type", "Combined");
	attr(b, root, "Types", ids->layout ? "LayoutPreparation Interpreting Rendering "
	    "DigitalPrinting" : "Interpreting Rendering DigitalPrinting");
	attr(b, root, "Status", "Waiting");
	attr(b, root, "Version", "1.9");
	attr(b, root, "MaxVersion", "1.9");
	attr(b, root, "JobID", ids->job);
	attr(b, root, "JobPartID", part);
	cut_chars(name, sizeof name, buf, JDF_LONG);
	attr(b, root, "DescriptiveName", name);
}

/*
 * A file name as a relative URI reference (RFC 3986): every byte but the unreserved
 * ones percent-encoded, so that a name with a blank or a '%' still resolves to itself.
 */
static void
uri_ref(char *dst, size_t len, const char *name)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)name;
	size_t n = 0;

	for (; *s != '\0' && n + 4 < len; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_' || *s == '~')
			dst[n++] = (char)*s;
		else {
			dst[n++] = '%';
			dst[n++] = hexd[*s >> 4];
			dst[n++] = hexd[*s & 15];
		}
	dst[n] = '\0';
}

/* Millimetres as JDF's points (1/72 inch), with two decimals at most. */
static void
points(char *dst, size_t len, double mm)
{
	size_t n;

	snprintf(dst, len, "%.2f", mm * 72.0 / 25.4);
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == '0')
		dst[--n] = '\0';
	if (n > 0 && dst[n - 1] == '.')
		dst[--n] = '\0';
}

/* The product's Media and LayoutPreparationParams, as far as spool.conf says them. */
static void
jdf_media(struct build *b, xmlNodePtr rp, const struct spool_job *j,
    const struct jdf_ids *ids)
{
	/* JDF's Sides for LayoutPreparationParams (eSides2_): the back's flip axis */
	static const char *const sides[] = { [SPOOL_SIDES_ONE] = "OneSidedFront",
		[SPOOL_SIDES_LONG] = "TwoSidedFlipY", [SPOOL_SIDES_SHORT] = "TwoSidedFlipX" };
	const struct spool_product *m = j->media;
	char id[JDF_SHORT + 1], w[32], h[32], dim[80], num[32];
	xmlNodePtr n;

	res_id(id, sizeof id, ids, "media");
	n = resource(b, rp, "Media", "Consumable", id, "Available");
	if (m->width > 0) {
		points(w, sizeof w, m->width);
		points(h, sizeof h, m->height);
		snprintf(dim, sizeof dim, "%s %s", w, h);
		attr(b, n, "Dimension", dim);
	}
	if (m->type != NULL)
		attr(b, n, "MediaType", m->type);
	if (m->weight > 0) {
		snprintf(num, sizeof num, "%d", m->weight);
		attr(b, n, "Weight", num);
	}
	if (ids->layout) {
		res_id(id, sizeof id, ids, "layout");
		n = resource(b, rp, "LayoutPreparationParams", "Parameter", id, "Available");
		attr(b, n, "Sides", sides[m->sides]);
	}
}

/* The ResourcePool: the customer, the PDF to print, the processes' parameters, the output. */
static void
jdf_resources(struct build *b, xmlNodePtr rp, const struct spool_job *j,
    const struct spool_job_chunk *ch, const char *what, const struct jdf_ids *ids)
{
	char buf[1024], name[1024], num[32], id[JDF_SHORT + 1], url[SPOOL_ID_MAX * 3 + 1];
	xmlNodePtr n;

	res_id(id, sizeof id, ids, "customer");
	n = resource(b, rp, "CustomerInfo", "Parameter", id, "Available");
	short_string(buf, sizeof buf, j->order_id);
	attr(b, n, "CustomerOrderID", buf);
	cut_chars(name, sizeof name, j->title != NULL ? j->title : what, JDF_LONG);
	attr(b, n, "CustomerJobName", name);
	res_id(id, sizeof id, ids, "document");
	n = resource(b, rp, "RunList", "Parameter", id, "Available");
	if (ch->pages > 0) {
		snprintf(num, sizeof num, "%d", ch->pages);
		attr(b, n, "NPage", num);
	}
	n = child(b, child(b, n, "LayoutElement", NULL), "FileSpec", NULL);
	attr(b, n, "MimeType", "application/pdf");
	/* resolved against the ticket's own location (RFC 3986): the PDF beside it */
	uri_ref(url, sizeof url, ch->file);
	attr(b, n, "URL", url);
	if (j->media != NULL)
		jdf_media(b, rp, j, ids);
	res_id(id, sizeof id, ids, "interpreting");
	resource(b, rp, "InterpretingParams", "Parameter", id, "Available");
	res_id(id, sizeof id, ids, "rendering");
	resource(b, rp, "RenderingParams", "Parameter", id, "Available");
	res_id(id, sizeof id, ids, "printing");
	resource(b, rp, "DigitalPrintingParams", "Parameter", id, "Available");
	res_id(id, sizeof id, ids, "output");
	n = resource(b, rp, "Component", "Quantity", id, "Unavailable");
	attr(b, n, "ComponentType", j->parts > 1 ? "PartialProduct" : "FinalProduct");
	snprintf(buf, sizeof buf, "%s (%s)", what, ch->kind);
	cut_chars(name, sizeof name, buf, JDF_LONG);
	attr(b, n, "DescriptiveName", name);
}

/* A link to the resource ID ids->node_what, for the process at index (-1: none). */
static xmlNodePtr
link_id(struct build *b, xmlNodePtr lp, const char *el, const struct jdf_ids *ids,
    const char *what, const char *usage, int index)
{
	char id[JDF_SHORT + 1], num[16];

	res_id(id, sizeof id, ids, what);
	snprintf(num, sizeof num, "%d", index);
	return link_to(b, lp, el, id, usage, index >= 0 ? num : NULL);
}

/* The ResourceLinkPool, which ties each resource to its process. */
static void
jdf_links(struct build *b, xmlNodePtr lp, const struct spool_job *j, const struct jdf_ids *ids)
{
	/* CombinedProcessIndex: [LayoutPreparation,] Interpreting, Rendering, DigitalPrinting */
	const int l = ids->layout, interp = l, rend = l + 1, print = l + 2;
	char num[32];
	xmlNodePtr n;

	link_id(b, lp, "CustomerInfoLink", ids, "customer", "Input", -1);
	if (l)
		link_id(b, lp, "LayoutPreparationParamsLink", ids, "layout", "Input", 0);
	link_id(b, lp, "RunListLink", ids, "document", "Input", interp);
	if (j->media != NULL)
		link_id(b, lp, "MediaLink", ids, "media", "Input", print);
	link_id(b, lp, "InterpretingParamsLink", ids, "interpreting", "Input", interp);
	link_id(b, lp, "RenderingParamsLink", ids, "rendering", "Input", rend);
	link_id(b, lp, "DigitalPrintingParamsLink", ids, "printing", "Input", print);
	/* The quantity: the planned amount is the link's, the copies to print. */
	n = link_id(b, lp, "ComponentLink", ids, "output", "Output", print);
	snprintf(num, sizeof num, "%d", j->quantity);
	attr(b, n, "Amount", num);
}

static xmlDocPtr
jdf_doc(const struct spool_job *j, int k)
{
	const struct spool_job_chunk *ch = &j->chunks[k];
	const char *what = j->product_name != NULL ? j->product_name : j->product;
	struct build b = { .oom = 0 };
	struct jdf_ids ids;
	xmlNodePtr root;

	if ((root = new_root(&b, "JDF")) == NULL)
		return NULL;
	jdf_ids(&ids, j, ch);
	jdf_node(&b, root, j, ch, what, &ids);
	jdf_resources(&b, child(&b, root, "ResourcePool", NULL), j, ch, what, &ids);
	jdf_links(&b, child(&b, root, "ResourceLinkPool", NULL), j, &ids);
	if (b.oom) {
		xmlFreeDoc(b.doc);
		return NULL;
	}
	return b.doc;
}

int
spool_jdf_format(const struct spool_job *job, int chunk, char **buf, size_t *len,
    struct spool_err *err)
{
	xmlDocPtr doc;
	int r;

	if (check_job(job, err) < 0)
		return -1;
	if (chunk < 0 || chunk >= job->nchunks)
		return failerr(err, EINVAL, "%s: JDF: no chunk %d", job->order_id, chunk);
	if ((doc = jdf_doc(job, chunk)) == NULL)
		return failerr(err, ENOMEM, "%s: JDF: out of memory", job->order_id);
	r = dump(doc, 1, buf, len, err);
	xmlFreeDoc(doc);
	return r;
}

int
spool_jdf_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    int chunk, const struct spool_pub *pub, struct spool_err *err)
{
	char *buf;
	size_t len;
	int r;

	if (!file_name_ok(name))
		return failerr(err, EINVAL, "'%.80s' is not a plain file name", name ? name : "");
	if (spool_jdf_format(job, chunk, &buf, &len, err) < 0)
		return -1;
	r = write_ticket(dirfd, name, tmpfd, job->order_id, buf, len, pub, err);
	free(buf);
	return r;
}

/* ---- refusing a status ---------------------------------------------------- */

static void
unlink_free(xmlNodePtr n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* The white space before n, when it is only white space (to indent what we add). */
static const xmlChar *
indent_before(xmlNodePtr n)
{
	const xmlChar *s;

	if (n == NULL || n->prev == NULL || n->prev->type != XML_TEXT_NODE ||
	    (s = n->prev->content) == NULL)
		return NULL;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return NULL;
	return n->prev->content;
}

/*
 * Leave one OrderProductPrintStatus, *blockp (made when NULL), with one OrderStatus,
 * and set that to code.  The OrderStatus, or NULL when out of memory.
 */
static xmlNodePtr
one_status(xmlNodePtr root, xmlNodePtr *blockp, int code)
{
	xmlNodePtr block = *blockp, n, next, st = NULL;
	char num[32];

	if (block == NULL &&
	    (block = *blockp = xmlNewChild(root, NULL, (const xmlChar *)"OrderProductPrintStatus",
	    NULL)) == NULL)
		return NULL;
	/* Only one OrderProductPrintStatus and one OrderStatus may stay. */
	for (n = block->next; n != NULL; n = next) {
		next = n->next;
		if (is_el(n, "OrderProductPrintStatus"))
			unlink_free(n);
	}
	for (n = block->children; n != NULL; n = next) {
		next = n->next;
		if (is_el(n, "OrderStatusError") || (is_el(n, "OrderStatus") && st != NULL))
			unlink_free(n);
		else if (is_el(n, "OrderStatus"))
			st = n;
	}
	snprintf(num, sizeof num, "%d", code);
	if (st == NULL) {
		if ((st = xmlNewChild(block, NULL, (const xmlChar *)"OrderStatus", NULL)) == NULL)
			return NULL;
	}
	/* Digits only, so xmlNodeSetContent has no markup to read in them. */
	xmlNodeSetContent(st, (const xmlChar *)num);
	return st;
}

/* A new element holding text, cleaned as the printer's is; NULL when out of memory. */
static xmlNodePtr
text_el(xmlDocPtr doc, const char *name, const char *text)
{
	char buf[SPOOL_ERR_MAX];
	struct clean c;
	xmlNodePtr e, t;

	clean_init(&c, buf, sizeof buf);
	clean_text(&c, (const unsigned char *)text, BRK_NONE);
	if ((e = xmlNewDocNode(doc, NULL, (const xmlChar *)name, NULL)) == NULL)
		return NULL;
	if ((t = xmlNewDocText(doc, (const xmlChar *)buf)) == NULL || xmlAddChild(e, t) == NULL) {
		xmlFreeNode(e);
		return NULL;
	}
	return e;
}

/* Indent e, placed somewhere after st, with the white space that indents st. */
static int
indent_like(xmlDocPtr doc, xmlNodePtr e, xmlNodePtr st)
{
	const xmlChar *indent = indent_before(st);
	xmlNodePtr t;

	if (indent != NULL && ((t = xmlNewDocText(doc, indent)) == NULL ||
	    xmlAddPrevSibling(e, t) == NULL))
		return -1;
	return 0;
}

/* Remove the elements called name from block, with the blanks that indent them; how many. */
static int
drop_els(xmlNodePtr block, const char *name)
{
	xmlNodePtr n, next;
	int k = 0;

	for (n = block->children; n != NULL; n = next) {
		next = n->next;
		if (!is_el(n, name))
			continue;
		if (indent_before(n) != NULL)
			unlink_free(n->prev);
		unlink_free(n);
		k++;
	}
	return k;
}

/*
 * OrderStatusMessage e (a new element, or NULL for none) replaces the printer's, right
 * after OrderStatus st.  e is freed when it cannot be placed.
 */
static int
put_message(xmlDocPtr doc, xmlNodePtr block, xmlNodePtr st, xmlNodePtr e)
{
	drop_els(block, "OrderStatusMessage");
	if (e == NULL)
		return 0;
	if (xmlAddNextSibling(st, e) == NULL) {
		xmlFreeNode(e);
		return -1;
	}
	return indent_like(doc, e, st);
}

/* OrderStatusError: why the status was refused, which one, and when. */
static int
put_error(xmlDocPtr doc, xmlNodePtr block, xmlNodePtr st, const struct spool_jobxml *cur,
    const char *why)
{
	xmlNodePtr n, last = NULL, e;
	char when[32];

	for (n = block->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			last = n;
	if ((e = text_el(doc, "OrderStatusError", why)) == NULL)
		return -1;
	if (xmlNewProp(e, (const xmlChar *)"refused",
	    (const xmlChar *)(cur->bad == SPOOL_JOB_BAD_NOSTATUS ? "(none)" : cur->status_text)) == NULL ||
	    xmlNewProp(e, (const xmlChar *)"time",
	    (const xmlChar *)spool_time_fmt(spool_sys.time(NULL), when, sizeof when)) == NULL) {
		xmlFreeNode(e);
		return -1;
	}
	/* After the last element, indented like OrderStatus (text nodes added merge). */
	if (last == NULL) {
		if (xmlAddChild(block, e) == NULL) {
			xmlFreeNode(e);
			return -1;
		}
		return 0;
	}
	if (xmlAddNextSibling(last, e) == NULL) {
		xmlFreeNode(e);
		return -1;
	}
	return indent_like(doc, e, st);
}

/*
 * How a printer's file was written, so that it is written back the same way: its
 * byte-order mark and XML declaration (kept as bytes, with the blanks after them),
 * its encoding, and CRLF line ends, which a Windows editor writes and the parser
 * turns into LF.
 */
struct style {
	size_t prolog;      /* bytes at the start kept as they are */
	int crlf;           /* its first line ends in CRLF */
	const char *enc;    /* the encoding its declaration names, or UTF-8 */
};

static void
style_of(const char *buf, size_t len, xmlDocPtr doc, struct style *st)
{
	const char *end, *nl;
	size_t n = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		n = 3;
	if (len - n >= 6 && memcmp(buf + n, "<?xml", 5) == 0 &&
	    (end = memmem(buf + n, len - n, "?>", 2)) != NULL) {
		n = (size_t)(end - buf) + 2;
		while (n < len && (buf[n] == ' ' || buf[n] == '\t' || buf[n] == '\r' ||
		    buf[n] == '\n'))
			n++;
	}
	st->prolog = n;
	nl = memchr(buf, '\n', len);
	st->crlf = nl != NULL && nl > buf && nl[-1] == '\r';
	st->enc = doc->encoding != NULL ? (const char *)doc->encoding : "UTF-8";
}

/*
 * doc as the printer's file was: its prolog bytes, then the document without a
 * declaration in its encoding, LF made CRLF if it had them.  A CR of its own never
 * reaches the output raw (the serializer writes it as &#13;), so none doubles.
 */
static int
dump_as(xmlDocPtr doc, const char *orig, const struct style *st, char **out, size_t *outlen,
    struct spool_err *err)
{
	xmlBufferPtr xb;
	xmlSaveCtxtPtr sc;
	const char *body;
	size_t blen, i, n, lfs = 0;
	char *res;

	if ((xb = xmlBufferCreate()) == NULL ||
	    (sc = xmlSaveToBuffer(xb, st->enc, XML_SAVE_NO_DECL)) == NULL) {
		xmlBufferFree(xb);
		return failerr(err, ENOMEM, "cannot write it in %s", st->enc);
	}
	if (xmlSaveDoc(sc, doc) < 0 || xmlSaveClose(sc) < 0) {
		xmlBufferFree(xb);
		return failerr(err, EINVAL, "cannot write it in %s", st->enc);
	}
	body = (const char *)xmlBufferContent(xb);
	blen = (size_t)xmlBufferLength(xb);
	for (i = 0; st->crlf && i < blen; i++)
		lfs += body[i] == '\n' && (i == 0 || body[i - 1] != '\r');
	if ((res = malloc(st->prolog + blen + lfs + 1)) == NULL) {
		xmlBufferFree(xb);
		return failerr(err, ENOMEM, "out of memory");
	}
	memcpy(res, orig, st->prolog);
	for (n = st->prolog, i = 0; i < blen; i++) {
		if (st->crlf && body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
			res[n++] = '\r';
		res[n++] = body[i];
	}
	res[n] = '\0';
	xmlBufferFree(xb);
	*out = res;
	*outlen = n;
	return 0;
}

/*
 * doc (freed here) as the bytes of the printer's file buf: its formatting as it was, and
 * its prolog, encoding and line ends.  Never hand out what we could not read ourselves:
 * the result must parse, with OrderStatus want and, unless msg is NULL, the
 * OrderStatusMessage msg, uncut.  big and bad say why not, in errors.
 */
static int
write_back(xmlDocPtr doc, const char *buf, size_t len, const char *name, int want,
    const char *msg, const char *big, const char *bad, char **out, size_t *outlen,
    struct spool_err *err)
{
	struct spool_jobxml check;
	struct style st;
	char *res = NULL;
	size_t rlen = 0;
	int r;

	style_of(buf, len, doc, &st);
	r = dump_as(doc, buf, &st, &res, &rlen, err);
	xmlFreeDoc(doc);
	if (r < 0)
		return -1;
	if (rlen > SPOOL_JOBXML_MAX)
		r = failerr(err, EFBIG, "%s: %s over %d bytes", name, big, SPOOL_JOBXML_MAX);
	else if (spool_jobxml_parse(res, rlen, name, &check, err) < 0 || check.status != want ||
	    (msg != NULL && (check.message_cut || strcmp(check.message, msg) != 0)))
		r = failerr(err, EINVAL, "%s: %s", name, bad);
	if (r < 0) {
		free(res);
		return -1;
	}
	*out = res;
	*outlen = rlen;
	return 0;
}

/* Put the refusal into doc, whose first OrderProductPrintStatus is block (or NULL). */
static int
mend(xmlDocPtr doc, xmlNodePtr block, const struct spool_jobxml *cur,
    const struct spool_jobxml_refusal *r)
{
	xmlNodePtr st;

	if ((st = one_status(xmlDocGetRootElement(doc), &block, r->restore)) == NULL)
		return -1;
	if (r->note != NULL) {
		/* the shop's own message, as one line of text */
		xmlNodePtr e = text_el(doc, "OrderStatusMessage", r->note);

		return e == NULL ? -1 : put_message(doc, block, st, e);
	}
	return put_error(doc, block, st, cur, r->why);
}

int
spool_jobxml_refuse_buf(const char *buf, size_t len, const char *name,
    const struct spool_jobxml_refusal *r, char **out, size_t *outlen, struct spool_err *err)
{
	struct spool_jobxml cur;
	xmlNodePtr block;
	xmlDocPtr doc;

	if (name == NULL)
		name = "job.xml";
	if (spool_job_status_name(r->restore) == NULL)
		return failerr(err, EINVAL, "%s: cannot restore status %d: not a status", name,
		    r->restore);
	if (r->why == NULL && r->note == NULL)
		return failerr(err, EINVAL, "%s: a refusal needs a reason", name);
	if ((doc = safe_parse(buf, len, name, err)) == NULL)
		return -1;
	if (extract(doc, name, &cur, &block, err) < 0)
		goto fail;
	if (cur.status != r->refused) {
		failerr(err, EAGAIN, "%s: OrderStatus is now '%s', not the refused one: read it again",
		    name, cur.status_text);
		goto fail;
	}
	if (mend(doc, block, &cur, r) < 0) {
		failerr(err, ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	return write_back(doc, buf, len, name, r->restore, NULL,
	    "with the error element it would be",
	    "cannot write a valid status back", out, outlen, err);
fail:
	xmlFreeDoc(doc);
	return -1;
}

/* Whether the file is another one, or was written, since *a was taken. */
static int
changed(const struct stat *a, const struct stat *b)
{
	return a->st_dev != b->st_dev || a->st_ino != b->st_ino || a->st_size != b->st_size ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	    a->st_ctim.tv_sec != b->st_ctim.tv_sec || a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/* Write a printer's file back changed: buf, len and name in, *out (or NULL: no change). */
typedef int (*mender)(const char *buf, size_t len, const char *name, const void *arg,
    char **out, size_t *outlen, struct spool_err *err);

/*
 * Read dirfd/name, mend it, and publish the result unless the file changed meanwhile;
 * 1 when written, 0 when fn had no change.  doing says what fn does, in errors.
 */
static int
rewrite(int dirfd, const char *name, int tmpfd, mender fn, const void *arg,
    const char *doing, struct spool_err *err)
{
	struct spool_pub pub = { .flags = 0 };
	struct stat st, now;
	char *buf = NULL, *out = NULL;
	size_t len, olen;
	int rc = -1;

	if (load(dirfd, name, &buf, &len, &st, err) < 0)
		return -1;
	if (fn(buf, len, name, arg, &out, &olen, err) < 0)
		goto out;
	if (out == NULL) {
		rc = 0;
		goto out;
	}
	/*
	 * The printer may have saved again meanwhile: then its file wins, and the caller
	 * reads it again.  (A save that starts after this look and before the rename
	 * below is lost; the window is the length of one fsync.)
	 */
	if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || changed(&st, &now)) {
		failerr(err, EAGAIN, "%s: changed while being %s: read it again", name, doing);
		goto out;
	}
	/* the printer's own bits, but never fewer than its group needs to edit it again */
	pub.mode = (st.st_mode & 0666) | SPOOL_FILE_MODE;
	if (spool_publish(dirfd, name, tmpfd, out, olen, &pub) < 0) {
		seterr(err, "%s: cannot write it back: %s", name, strerror(errno));
		goto out;
	}
	rc = 1;
out:
	free(buf);
	free(out);
	return rc;
}

static int
refuse_fn(const char *buf, size_t len, const char *name, const void *arg, char **out,
    size_t *outlen, struct spool_err *err)
{
	return spool_jobxml_refuse_buf(buf, len, name, arg, out, outlen, err);
}

int
spool_jobxml_refuse(int dirfd, const char *name, int tmpfd,
    const struct spool_jobxml_refusal *r, struct spool_err *err)
{
	return rewrite(dirfd, name, tmpfd, refuse_fn, r, "refused", err) < 0 ? -1 : 0;
}

int
spool_jobxml_accept_buf(const char *buf, size_t len, const char *name, int status,
    char **out, size_t *outlen, struct spool_err *err)
{
	struct spool_jobxml cur;
	xmlNodePtr block;
	xmlDocPtr doc;

	*out = NULL;
	*outlen = 0;
	if (name == NULL)
		name = "job.xml";
	if ((doc = safe_parse(buf, len, name, err)) == NULL)
		return -1;
	if (extract(doc, name, &cur, &block, err) < 0)
		goto fail;
	if (cur.status != status) {
		failerr(err, EAGAIN, "%s: OrderStatus is now '%s', not the accepted one: read it "
		    "again", name, cur.status_text);
		goto fail;
	}
	if (block == NULL || drop_els(block, "OrderStatusError") == 0) {
		xmlFreeDoc(doc);
		return 0;
	}
	return write_back(doc, buf, len, name, status, NULL, "written back it would be",
	    "cannot write the status back", out, outlen, err);
fail:
	xmlFreeDoc(doc);
	return -1;
}

static int
accept_fn(const char *buf, size_t len, const char *name, const void *arg, char **out,
    size_t *outlen, struct spool_err *err)
{
	return spool_jobxml_accept_buf(buf, len, name, *(const int *)arg, out, outlen, err);
}

int
spool_jobxml_accept(int dirfd, const char *name, int tmpfd, int status,
    struct spool_err *err)
{
	return rewrite(dirfd, name, tmpfd, accept_fn, &status, "cleared of its error", err);
}

/* ---- setting a status as the printer would ---------------------------------- */

int
spool_jobxml_set_buf(const char *buf, size_t len, const char *name, int from, int to,
    const char *message, char **out, size_t *outlen, struct spool_err *err)
{
	char msg[SPOOL_JOB_MSG_MAX + 1];
	struct spool_jobxml cur;
	struct build b = { .oom = 0 };
	xmlNodePtr block, st, e = NULL;
	int move;

	*out = NULL;
	*outlen = 0;
	if (name == NULL)
		name = "job.xml";
	if (clean_message(message, msg) < 0)
		return failerr(err, EINVAL, "OrderStatusMessage is over %d bytes: shorten it",
		    SPOOL_JOB_MSG_MAX);
	/* the message as it will read, so that one of blanks alone is none, as for a printer */
	if ((move = spool_job_transition(from, to, msg, err)) < 0)
		return -1;
	if ((b.doc = safe_parse(buf, len, name, err)) == NULL)
		return -1;
	if (extract(b.doc, name, &cur, &block, err) < 0)
		goto fail;
	if (cur.status != from) {
		failerr(err, EAGAIN, "%s: OrderStatus is now '%s', not %d (%s): read it again", name,
		    cur.status_text, from, spool_job_status_name(from));
		goto fail;
	}
	if (move == 0) {
		/* no move, which spoold would not act on either: the file stays as it is */
		xmlFreeDoc(b.doc);
		return 0;
	}
	/* a file that says from has one block and one OrderStatus in it */
	drop_els(block, "OrderStatusError");
	if ((st = one_status(xmlDocGetRootElement(b.doc), &block, to)) == NULL ||
	    (msg[0] != '\0' && (e = message_el(&b, block, msg)) == NULL) || b.oom)
		goto oom;
	if (e != NULL)
		xmlUnlinkNode(e);
	if (put_message(b.doc, block, st, e) < 0)
		goto oom;
	return write_back(b.doc, buf, len, name, to, msg, "with the new status it would be",
	    "cannot write that status and message", out, outlen, err) < 0 ? -1 : 1;
oom:
	failerr(err, ENOMEM, "%s: out of memory", name);
fail:
	xmlFreeDoc(b.doc);
	return -1;
}

struct set_args {
	int from, to;
	const char *message;
};

static int
set_fn(const char *buf, size_t len, const char *name, const void *arg, char **out,
    size_t *outlen, struct spool_err *err)
{
	const struct set_args *a = arg;

	return spool_jobxml_set_buf(buf, len, name, a->from, a->to, a->message, out, outlen,
	    err);
}

int
spool_jobxml_set(int dirfd, const char *name, int tmpfd, int from, int to,
    const char *message, struct spool_err *err)
{
	const struct set_args a = { from, to, message };

	return rewrite(dirfd, name, tmpfd, set_fn, &a, "set", err);
}
