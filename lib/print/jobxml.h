/*
 * libspool: print jobs: job.xml and JDF tickets in hot folders.  Included by spool.h;
 * see there for the error contract.
 */
#ifndef SPOOL_PRINT_JOBXML_H
#define SPOOL_PRINT_JOBXML_H

#include "../core/base.h"
#include "../core/publish.h"
#include "queue.h"

/* ---- print jobs: job.xml and JDF tickets in hot folders ---------------- */

/*
 * A print job is one item's chunk PDFs in one print queue's hot folder, beside
 * invoice.pdf, a copy of upload.xml and a ticket: job.xml (schemas/job.xsd), which the
 * printer edits to report progress, or, for a queue with format = jdf, a CIP4 JDF 1.9
 * ticket per chunk for the RIP.  Tickets are built with libxml2's tree API from
 * checked values and published whole with spool_publish; publish the PDFs first, so
 * that whoever sees a ticket finds its files.  A printer's job.xml is hostile input:
 * see spool_jobxml_read.  All of this is in lib/print/jobxml.c.
 */

/* The status codes of an item's print job (document 002's order_status_id values). */
enum {
	SPOOL_JOB_QUEUED = 2,
	SPOOL_JOB_SHIPPING = 3,
	SPOOL_JOB_CANCELLED = 7,    /* the shop's only: stop, do not print */
	SPOOL_JOB_FAILED = 10,
	SPOOL_JOB_PROCESSING = 15,
	SPOOL_JOB_BADSTATUS = -1,   /* read: no usable OrderStatus; see spool_jobxml.bad */
};

#define SPOOL_JOBXML_MAX (1024 * 1024)  /* a larger job.xml is refused unread */
#define SPOOL_JOB_MSG_MAX 1024          /* bytes of OrderStatusMessage kept, and written */
#define SPOOL_JOB_LINES_MAX 8           /* lines of an address */
#define SPOOL_JOB_CHUNKS_MAX 16

struct spool_job_chunk {
	const char *file;   /* the chunk PDF in the job's folder: an id ending in ".pdf" */
	const char *kind;   /* "cover", "content": a name (spool_name_ok) */
	int pages;          /* its page count, 1..10000, or 0 if unknown */
};

/*
 * What a ticket says.  Every pointer is borrowed.  Ids and file names must pass
 * spool_id_ok; text is UTF-8 without control characters, at most SPOOL_FIELD_MAX
 * bytes; "or NULL" marks what may be left out.
 */
struct spool_job {
	const char *order_id;
	const char *item_id;
	time_t placed;
	const char *customer;          /* the customer's name */
	const char *email;
	const char *phone;             /* or NULL */
	const char *const *billing;    /* address lines, at most SPOOL_JOB_LINES_MAX */
	int nbilling;
	const char *const *shipping;
	int nshipping;
	const char *product;           /* the product's id */
	const char *product_name;      /* or NULL */
	const char *title;             /* or NULL */
	int quantity;                  /* copies, 1..1000000 */
	const struct spool_job_chunk *chunks;  /* this job's chunks: 1..SPOOL_JOB_CHUNKS_MAX */
	int nchunks;
	int parts;                     /* chunks the item has in all queues (JDF: over 1
	                                  makes the output a PartialProduct); 0 means 1 */
	const char *invoice;           /* the invoice PDF's name in the job's folder, or NULL */
	const char *upload;            /* the copy of upload.xml's name, or NULL */
	int status;                    /* OrderStatus: SPOOL_JOB_QUEUED when first published */
	const char *message;           /* OrderStatusMessage, LF between lines, or NULL */
	const char *spool_id;          /* JDF: the spool's id (spool_uuid), which makes the
	                                  ticket's IDs unique across spools; or NULL */
	const struct spool_product *media;  /* JDF: the product's media and sides, or NULL */
};

/*
 * Render job.xml into *buf (malloc'd, NUL-terminated; free it), checked against
 * schemas/job.xsd.  -1/EINVAL with err naming the field when a value is not allowed.
 */
int spool_jobxml_format(const struct spool_job *job, char **buf, size_t *len,
    struct spool_err *err);
/*
 * Publish job.xml as dirfd/name (a plain file name) with spool_publish(dirfd, name,
 * tmpfd, ..., pub); it replaces a file of that name unless pub says
 * SPOOL_PUB_NOREPLACE.  tmpfd must be on dirfd's file system, or -1 for a dot-name in
 * dirfd.
 */
int spool_jobxml_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    const struct spool_pub *pub, struct spool_err *err);
/*
 * A JDF 1.9 ticket for job->chunks[chunk]: a Combined node of Interpreting, Rendering
 * and DigitalPrinting whose RunList names the PDF by a relative URL (the file name,
 * percent-encoded, resolved against the ticket's own location, so it holds wherever
 * the RIP mounts the hot folder) and whose output ComponentLink has Amount =
 * job->quantity.  With job->media, a Media resource (Dimension in points, Weight,
 * MediaType) feeds DigitalPrinting, and its sides a LayoutPreparation process's
 * LayoutPreparationParams Sides.  With job->spool_id, the node's ID, its resources'
 * IDs and JobID hold the spool's id, so no two spools' tickets share one.
 */
int spool_jdf_format(const struct spool_job *job, int chunk, char **buf, size_t *len,
    struct spool_err *err);
int spool_jdf_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    int chunk, const struct spool_pub *pub, struct spool_err *err);

/* Why a job.xml read gave SPOOL_JOB_BADSTATUS. */
enum spool_job_bad {
	SPOOL_JOB_BAD_NONE,
	SPOOL_JOB_BAD_NOBLOCK,      /* no OrderProductPrintStatus */
	SPOOL_JOB_BAD_BLOCKS,       /* more than one OrderProductPrintStatus */
	SPOOL_JOB_BAD_NOSTATUS,     /* no OrderStatus in it */
	SPOOL_JOB_BAD_STATUSES,     /* more than one OrderStatus */
	SPOOL_JOB_BAD_NUMBER,       /* OrderStatus is not a whole number (status_text) */
};

/* What a printer's job.xml says: OrderProductPrintStatus, nothing else. */
struct spool_jobxml {
	int status;                          /* OrderStatus, or SPOOL_JOB_BADSTATUS */
	enum spool_job_bad bad;              /* why status is SPOOL_JOB_BADSTATUS */
	char status_text[32];                /* OrderStatus as written: plain text, cut */
	char message[SPOOL_JOB_MSG_MAX + 1]; /* OrderStatusMessage as plain text, or "" */
	int message_cut;                     /* 1 if the message was longer and was cut
	                                        (it then ends in "...") */
	char order_id[SPOOL_ID_MAX + 1];     /* Order/OrderId; "" if missing or not an id */
	char item_id[SPOOL_ID_MAX + 1];      /* its OrderProductId; the same */
	int line;                            /* the line of OrderStatus, or 0 */
};

/*
 * Read a printer's job.xml, dirfd/name.  It is hostile: a symlink is refused (ELOOP),
 * so is anything but a regular file (EINVAL) and a file over SPOOL_JOBXML_MAX (EFBIG);
 * it is parsed with no network, no DTD, no entity substitution and no entity loader,
 * and a DOCTYPE is refused where it starts (EINVAL), before any entity is declared.
 * A document that is not well-formed, such as a file still being written, fails with
 * EAGAIN and err "NAME: not well-formed at line N: ...": read it again after its next
 * change.  A root other than PrintJob is EINVAL.  Anything wrong with the status
 * itself is not an error here: status is SPOOL_JOB_BADSTATUS, and
 * spool_jobxml_verdict says why.  The message is plain text: <br/> (also typed as
 * text, in any case) and U+2028/9 become line breaks, other white space one blank,
 * control and invisible formatting characters are dropped, at most two line breaks
 * in a row, cut at a character boundary to SPOOL_JOB_MSG_MAX bytes; a message that
 * was cut ends in "..." (within those bytes), so wherever it is shown the cut shows.
 */
int spool_jobxml_read(int dirfd, const char *name, struct spool_jobxml *out,
    struct spool_err *err);
/* The same on a document in memory; name is what errors call it (for fuzzing). */
int spool_jobxml_parse(const char *buf, size_t len, const char *name,
    struct spool_jobxml *out, struct spool_err *err);

/* "Queued", "Processing", "Shipping", "Failed", "Cancelled", or NULL. */
const char *spool_job_status_name(int code);
/*
 * The printer's rules (document 002), as a pure function.  May a printer move a job
 * from status `from` (the one spool last published or accepted) to `to`, with this
 * OrderStatusMessage (may be NULL)?  Queued (2) to Processing (15), Processing to
 * Shipping (3), and any status to Failed (10) with a message.  Returns 1 if so, 0 if
 * to == from (no move), -1 if not: errno EINVAL for an unknown code, EPERM for a move
 * the rules forbid, and err a sentence for the printer (the error element).
 */
int spool_job_transition(int from, int to, const char *message, struct spool_err *err);
/* spool_job_transition on what was read, with a clear sentence for a bad status. */
int spool_jobxml_verdict(const struct spool_jobxml *j, int from, struct spool_err *err);

struct spool_jobxml_refusal {
	int refused;        /* the status read (spool_jobxml.status), maybe BADSTATUS */
	int restore;        /* the valid status to put back */
	const char *why;    /* for the printer: spool_jobxml_verdict's err (one line) */
	const char *note;   /* or, instead of an error: the shop's own OrderStatusMessage
	                       (a status the shop sets, such as Cancelled) */
};

/*
 * Write a refusal into the printer's job.xml: OrderStatus set back to r->restore (the
 * extra OrderProductPrintStatus or OrderStatus elements that made it ambiguous are
 * removed), and one OrderStatusError element (replacing an earlier one) with
 * refused="what it said", time= and r->why; everything else the printer wrote stays.
 * The file is replaced whole with spool_publish, keeping its permission bits, group
 * read-write at least (the printer edits it again), and its folder's group.  If the
 * file no longer says r->refused, or changes while this runs, it is left alone and
 * -1/EAGAIN returned: read it again.
 */
int spool_jobxml_refuse(int dirfd, const char *name, int tmpfd,
    const struct spool_jobxml_refusal *r, struct spool_err *err);
/* The same on a document in memory: *out is malloc'd (free it). */
int spool_jobxml_refuse_buf(const char *buf, size_t len, const char *name,
    const struct spool_jobxml_refusal *r, char **out, size_t *outlen, struct spool_err *err);
/*
 * A status was accepted: take spool's own OrderStatusError, which an earlier refusal
 * left, out of the printer's job.xml, so that it no longer says something is wrong.
 * 1 when it was removed and the file written back, 0 when there was none (the file
 * is not touched), -1/EAGAIN when the file no longer says status or changed meanwhile.
 *
 * Both this and spool_jobxml_refuse write the file back as the printer wrote it: its
 * byte-order mark and XML declaration as they were, in the encoding it names, with
 * CRLF line ends if it had them; the rest is libxml2's serialization of what was read
 * (attributes in double quotes, character references as characters).
 */
int spool_jobxml_accept(int dirfd, const char *name, int tmpfd, int status,
    struct spool_err *err);
/* The same on a document in memory: *out is malloc'd, or NULL when there was none. */
int spool_jobxml_accept_buf(const char *buf, size_t len, const char *name, int status,
    char **out, size_t *outlen, struct spool_err *err);

/*
 * Set a job's status as its printer would by editing job.xml, for the web back office,
 * so that the share and the web never disagree (spoold reads the change as the
 * printer's save).  from is the status spool last published or accepted
 * (orders/<id>/jobs), to the new one, message the OrderStatusMessage: LF between
 * lines, or NULL or "" for none, which Failed does not allow.  The message is cleaned
 * as spool_jobxml_read cleans a printer's (CR and control and invisible characters
 * dropped, blanks made one, a typed <br> a line break, at most two breaks in a row);
 * one over SPOOL_JOB_MSG_MAX bytes once cleaned is -1/EINVAL, not cut.  The move is
 * checked with spool_job_transition on the cleaned message: -1/EPERM or EINVAL with
 * its sentence for the person in err.  The file must still say from, or it is left
 * alone and -1/EAGAIN returned ("OrderStatus is now ...": read it again).  OrderStatus
 * becomes to, OrderStatusMessage is replaced by the message (its lines with <br/>
 * between them; none when it is empty), spool's own OrderStatusError is removed, and
 * the file is written back as spool_jobxml_accept writes it (prolog, encoding, CRLF,
 * permission bits; published whole; -1/EAGAIN when it changed meanwhile).  Reading the
 * result gives status to and the cleaned message, or nothing is written.  1 when
 * written, 0 when to == from (no move: nothing is written, as spoold would act on
 * nothing), -1 on error.
 */
int spool_jobxml_set(int dirfd, const char *name, int tmpfd, int from, int to,
    const char *message, struct spool_err *err);
/* The same on a document in memory: *out is malloc'd, or NULL when to == from. */
int spool_jobxml_set_buf(const char *buf, size_t len, const char *name, int from, int to,
    const char *message, char **out, size_t *outlen, struct spool_err *err);

#endif
