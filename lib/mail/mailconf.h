/*
 * libspool: the [mail] section of spool.conf, which the mail layer reads through the
 * core's section table.  Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_MAIL_MAILCONF_H
#define SPOOL_MAIL_MAILCONF_H

#include "../core/base.h"
#include "../core/conf.h"

enum spool_starttls { SPOOL_STARTTLS_NO, SPOOL_STARTTLS_YES, SPOOL_STARTTLS_REQUIRED };

/*
 * The [mail] section: the relay that spoold's mailer sends outbox/new/ through, and
 * the addresses and texts of notifications.  Paths are relative to the spool, or
 * absolute.  Every string is NULL when not set.  conf->mail holds it, with its
 * defaults when the file has no [mail].
 */
struct spool_mail_conf {
	char *relay;          /* host name or IPv4 address; NULL: mail is off */
	int port;             /* 25 */
	enum spool_starttls starttls;
	char *user;           /* AUTH user; set together with password_file */
	char *password_file;  /* a file whose first line is the password */
	char *from;           /* envelope sender and From: */
	char *reply_to;
	char *admin;          /* audience "admin" */
	char *superuser;      /* audience "superuser" */
	char *details_url;    /* URL template with {order_id} (and {item_id}) */
	char *domain;         /* right side of Message-IDs; NULL: the domain of from */
	long retry;           /* seconds before the first retry (60); doubles to 1h */
	long lifetime;        /* seconds before an undelivered mail fails (5d) */
	char *templates;      /* a folder of TEMPLATE.txt overriding the shipped ones */
	char *order_url;      /* the order in the back office: URL template, {order_id} */
	char *helo;           /* the name said in EHLO and Message-IDs; NULL: the FQDN */
	int line;             /* the line of [mail], 0 when there is none */
	unsigned seen;        /* the keys given, while the file is read */
};


#endif
