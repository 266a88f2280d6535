/*
 * spoold's mailer: sends the messages spooled in outbox/new/ through the relay of
 * spool.conf's [mail], in one SMTP session for many messages.  It runs in a child
 * process that spoold forks, so a slow or hung relay never stalls the event loop;
 * the child's exit and the outbox folders are all that spoold needs to look at.
 */
#ifndef SPOOLD_MAILER_H
#define SPOOLD_MAILER_H

#include <time.h>

#include "spool.h"

struct mailer_summary {
	int sent;          /* accepted by the relay, now in outbox/sent/ */
	int deferred;      /* a temporary failure: in outbox/new/ with mtime = next try */
	int failed;        /* moved to outbox/failed/ with NAME.reason */
	int errors;        /* file operations that failed (each is logged) */
	int left;          /* messages in outbox/new/ after the run */
	time_t next_due;   /* the earliest mtime among them, or 0 when there are none */
};

/*
 * Send every message in outbox/new/ whose mtime is not after now.  rootfd is the
 * spool's folder; reservefd the folder of the reserve it may give back when the disk
 * is full (the node's own on a shared spool; -1: run/); mc its [mail] (nothing
 * happens when mc->relay is NULL).  Each
 * message's fate is logged with its order id first.  Returns 0, or -1 with errno
 * when it could not run at all (EWOULDBLOCK: another mailer holds run/mailer.lock).
 * Meant for a child process: it ignores SIGPIPE while it runs.
 */
int mailer_run(int rootfd, int reservefd, const struct spool_mail_conf *mc, time_t now,
    struct mailer_summary *sum);

/*
 * The name this host gives in EHLO and on the right of Message-IDs (when [mail]
 * domain is not set): [mail] helo, else the host's fully qualified name.
 */
void mail_hostname(const struct spool_mail_conf *mc, char *buf, size_t len);

/* How many messages wait in outbox/new/ (newfd), and when the first is due (0: none). */
time_t mailer_next_due(int newfd, int *left);

#endif
