/*
 * mail: time spoold's mailer for BENCHMARKS.md.  It composes N notifications with
 * libspool and spools them into outbox/new/ of SPOOL (whose spool.conf names the
 * relay), then runs the mailer once, as spoold's child would, and prints the mails
 * per second from the start of the session to the last one filed in outbox/sent/.
 *
 *	mail SPOOL N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../spoold/log.h"
#include "../spoold/mailer.h"
#include "spool.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const struct spool_mail_conf *mc;
	struct mailer_summary sum;
	char id[32], name[SPOOL_OUTBOX_NAME_MAX], *msg;
	struct spool_err err;
	struct spool *sp;
	size_t len;
	double t0;
	long n, k;

	spool_domain_init();

	if (argc != 3 || (n = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: mail SPOOL N\n");
		return 64;
	}
	log_init(0, 0);
	if (spool_open(argv[1], 0, &sp, &err) < 0) {
		fprintf(stderr, "mail: %s\n", err.msg);
		return 1;
	}
	mc = spool_conf(sp)->mail;
	for (k = 1; k <= n; k++) {
		snprintf(id, sizeof id, "m%06ld", k);
		if (spool_mail_compose(&(struct spool_mail){ .from = mc->from,
		    .to = "customer@example.com", .to_name = "A Customer", .subject = id,
		    .body = "Your order has changed its status.\n", .date = time(NULL) }, &msg, &len,
		    &err) < 0 || spool_outbox_put(sp, id, msg, len, name, sizeof name, &err) < 0) {
			fprintf(stderr, "mail: %s\n", err.msg);
			return 1;
		}
		free(msg);
	}
	t0 = now();
	if (mailer_run(spool_dirfd(sp, SPOOL_DIR_ROOT), -1, mc, time(NULL), &sum) < 0) {
		perror("mail: mailer_run");
		return 1;
	}
	printf("%d sent, %d deferred, %d failed in %.3f s: %.0f mails/s\n", sum.sent, sum.deferred,
	    sum.failed, now() - t0, sum.sent / (now() - t0));
	spool_close(sp);
	return sum.sent == n ? 0 : 1;
}
