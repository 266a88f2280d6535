/*
 * libspool: mail: notification messages, templates and the outbox.  Included by
 * spool.h; see there for the error contract.
 */
#ifndef SPOOL_MAIL_MAIL_H
#define SPOOL_MAIL_MAIL_H

#include "../core/base.h"
#include "../core/text.h"

/* ---- mail -------------------------------------------------------------- */

/*
 * Notifications are spooled like orders: a whole RFC 5322 message is published into
 * outbox/new/, and spoold's mailer sends it later (spoold/mailer.c).  Everything from
 * outside (a customer's name, a printer's message) passes through these functions,
 * and none of it can add a header line: values are cleaned, header fields are
 * encoded and folded, and the body is quoted-printable, so a message is 7-bit ASCII
 * with lines of at most 78 characters whatever went in (an address itself is never
 * folded: one near the 254-character limit makes its line longer, never over 998).
 */
#define SPOOL_MAIL_MAX (1024 * 1024)  /* a rendered template, a composed message */
#define SPOOL_OUTBOX_NAME_MAX 160     /* "<id>.<unix time>.<unique>.eml" and its NUL */


/* A placeholder's value: name without braces ("order_id"); NULL value means empty. */
struct spool_mail_var {
	const char *name;
	const char *value;
};

/*
 * Render a template: its first line is "Subject: ...", then an empty line, then the
 * body.  Placeholders are {order_id} {item_id} {status} {code} {message}
 * {details_url} {customer} {customer_email} {customer_address} {shipping_address}
 * {order_url}; {{ and }} are literal braces.  Any other brace is an
 * error "FILE:LINE: ..." (file names the template in errors).  A placeholder with no
 * value in vars renders empty.  Values are hostile: invalid UTF-8 becomes U+FFFD; in
 * the subject every control character becomes a space; in the body <br>, <br/> and
 * <br /> (in any case) become a line end and control characters other than tab and
 * line end are dropped.  *subject (one line) and *body (LF line ends) are malloc'd.
 */
int spool_mail_render(const char *file, const char *text, size_t len,
    const struct spool_mail_var *vars, size_t nvars, char **subject, char **body,
    struct spool_err *err);
/*
 * Render an HTML template (NAME.html: the body alone, no Subject line) with the same
 * placeholders; values are cleaned as in a body, then &<>"' are escaped and a line
 * end becomes <br>.  *html is malloc'd, LF line ends.
 */
int spool_mail_render_html(const char *file, const char *text, size_t len,
    const struct spool_mail_var *vars, size_t nvars, char **html, struct spool_err *err);
/* Check a template's form and placeholders, as spool_mail_render does. */
int spool_mail_template_check(const char *file, const char *text, size_t len,
    struct spool_err *err);
/*
 * Read template NAME (the file NAME.txt) from [mail] templates when that is set, else
 * from the spool's templates/ folder when it has the file, else the shipped one.
 * rootfd is the spool's folder.  *text is malloc'd and NUL-terminated; where (may be
 * NULL) gets the name to use in messages about it.
 */
int spool_mail_template_read(const struct spool_conf *conf, int rootfd, const char *name,
    char **text, size_t *len, char *where, size_t wherelen, struct spool_err *err);
/*
 * The HTML part of template NAME (NAME.html), from where its text part is: 1 read
 * (as spool_mail_template_read), 0 it has none, -1 error.
 */
int spool_mail_html_read(const struct spool_conf *conf, int rootfd, const char *name,
    char **text, size_t *len, char *where, size_t wherelen, struct spool_err *err);
/* Read and check every template the workflow names (notify actions and reminders). */
int spool_mail_templates_check(const struct spool_conf *conf, int rootfd,
    struct spool_err *err);
/*
 * Fill {order_id} and {item_id} (NULL: empty) of a details_url into buf; returns
 * the length, or -1 with EINVAL (not ids) or ENAMETOOLONG.
 */
int spool_mail_url(const char *tmpl, const char *order_id, const char *item_id, char *buf,
    size_t len);

/*
 * An admin's comment reaches the customer only when the admin says so: before the
 * move, spoolctl records it in orders/<id>/tell as "STATE\nCOMMENT" (the comment as
 * the history line keeps it), or removes that file (comment NULL).  A customer's mail
 * on arrival in a state carries the arrival's comment only when spool_mail_tell_get
 * finds the same state and the same comment there, so a file left by a move that
 * never happened (a crash between the two) tells nothing of another move.
 */
int spool_mail_tell_put(struct spool *sp, const char *id, const char *state,
    const char *comment, struct spool_err *err);
/* 1 if orders/<id>/tell says that comment, on arrival in state, is for the customer. */
int spool_mail_tell_get(struct spool *sp, const char *id, const char *state,
    const char *comment);

/* A notification to compose.  Addresses must pass spool_mail_addr_ok. */
struct spool_mail {
	const char *from;
	const char *to;
	const char *to_name;   /* the recipient's display name (hostile), or NULL */
	const char *reply_to;  /* or NULL */
	const char *subject;   /* UTF-8; cleaned again here */
	const char *body;      /* UTF-8 with LF or CRLF line ends; cleaned again here */
	const char *html;      /* an HTML alternative (UTF-8), or NULL; cleaned again here */
	time_t date;
	const char *domain;    /* the right side of the Message-ID; NULL: from's domain */
};

/*
 * Compose one whole message with CRLF line ends: Date, From, To, Reply-To, Subject
 * (RFC 2047 encoded-words when it is not short plain ASCII), a unique Message-ID,
 * MIME-Version, Content-Type text/plain UTF-8, quoted-printable body; with html, a
 * multipart/alternative of the plain text first and the HTML, each quoted-printable.
 * *msg is malloc'd (free it) and NUL-terminated; *len is its length.
 */
int spool_mail_compose(const struct spool_mail *m, char **msg, size_t *len,
    struct spool_err *err);
/* The address in the one To header of a message; -1/EINVAL if there is none or more. */
int spool_mail_recipient(const char *msg, size_t len, char *addr, size_t addrlen);

/*
 * Publish a composed message into outbox/new/ as "<order_id>.<unix time>.<unique>.eml"
 * with spool_publish (durable when it returns); its mtime, the time it is due, is its
 * creation time.  The name is copied into name (SPOOL_OUTBOX_NAME_MAX bytes).
 */
int spool_outbox_put(struct spool *sp, const char *order_id, const char *msg, size_t len,
    char *name, size_t namelen, struct spool_err *err);
/*
 * The same under a name made of the event, "<order_id>.<when>.<key>.eml" (key: 1..
 * of [A-Za-z0-9-]), so that telling of the same event twice (a notify run again
 * after a crash) queues one message: 0 queued, 1 a message of that name is in
 * new/, sent/ or failed/ already, -1 error.  It is due at once.
 */
int spool_outbox_put_once(struct spool *sp, const char *order_id, time_t when, const char *key,
    const char *msg, size_t len, char *name, size_t namelen, struct spool_err *err);
/*
 * 1 if name is an outbox message name; copies out its order id (SPOOL_ID_MAX + 1
 * bytes) and creation time (either may be NULL).
 */
int spool_outbox_name_parse(const char *name, char *order_id, time_t *created);

#endif
