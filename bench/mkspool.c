/*
 * mkspool: fill an initialised spool with N orders, fast, for benchmarks and the race
 * test.  Each order gets what submit would give it (an order file in a state whose
 * mtime is its placed time, orders/<id>/ with one history line) but without the
 * fsyncs, which would make a million orders take many minutes and prove nothing here.
 *
 *	mkspool SPOOL N [STATE...]
 *
 * Ids are o0000001...; orders go round-robin over the given states (default: all);
 * placed times spread over the year before 2026-11-01.  Every 50th order also gets
 * an order.xml, so that `spoolctl show` has items to read.  Modes are the spool's
 * (folders 02770, files 0660, as submit makes them), so that `check` finds nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

static void
die(const char *what)
{
	fprintf(stderr, "mkspool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put(int dirfd, const char *name, const char *buf, size_t len, time_t mtime)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { mtime, 0 } };
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, SPOOL_FILE_MODE);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		die(name);
	if (mtime != 0 && futimens(fd, ts) < 0)
		die(name);
	close(fd);
}

int
main(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	const struct spool_conf *c;
	int states[SPOOL_STATES_MAX], nstates = 0, i, od, pd;
	long n, k;
	time_t base;
	char buf[4096], name[128];

	spool_domain_init();

	if (argc < 3) {
		fprintf(stderr, "usage: mkspool SPOOL N [STATE...]\n");
		return 64;
	}
	/* the modes asked for are the spool's; orders/ is setgid, which passes on the rest */
	umask(0);
	if (spool_open(argv[1], 0, &sp, &err) < 0) {
		fprintf(stderr, "mkspool: %s\n", err.msg);
		return 1;
	}
	c = spool_conf(sp);
	n = atol(argv[2]);
	for (i = 3; i < argc; i++)
		if ((states[nstates++] = spool_conf_state(c, argv[i])) < 0) {
			fprintf(stderr, "mkspool: no state %s\n", argv[i]);
			return 64;
		}
	if (nstates == 0)
		for (i = 0; i < c->nstates; i++)
			states[nstates++] = i;
	spool_time_parse("2025-11-01", &base);
	od = spool_dirfd(sp, SPOOL_DIR_ORDERS);
	for (k = 1; k <= n; k++) {
		struct spool_order o = { .payment = SPOOL_PAID, .items = 1 };
		struct spool_event ev = { .actor = "admin:bench", .comment = "submitted" };
		int st = states[k % nstates], len;

		snprintf(o.id, sizeof o.id, "o%07ld", k);
		snprintf(o.workflow, sizeof o.workflow, "%s", c->workflow);
		snprintf(o.customer, sizeof o.customer, "Customer %ld", k % 9973);
		snprintf(o.email, sizeof o.email, "c%ld@example.com", k % 9973);
		o.placed = base + (time_t)((k * 7919) % (365L * 86400));
		o.submitted = o.placed;
		if (mkdirat(od, o.id, SPOOL_DIR_MODE & 0777) < 0 ||
		    (pd = openat(od, o.id, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			die(o.id);
		ev.time = time(NULL);
		snprintf(ev.id, sizeof ev.id, "%s", o.id);
		snprintf(ev.to, sizeof ev.to, "%s", c->states[st].name);
		if ((len = spool_event_format(&ev, buf, sizeof buf)) < 0)
			die("history");
		put(pd, "history", buf, (size_t)len, 0);
		if (k % 50 == 0) {
			len = snprintf(buf, sizeof buf, "<?xml version=\"1.0\"?>\n"
			    "<order xmlns=\"urn:spool:order:1\" id=\"%s\"><customer><name>%s</name>"
			    "<email>%s</email></customer><payment method=\"paypal\" status=\"paid\"/>"
			    "<item id=\"1\" product=\"poster-a2\"/></order>\n", o.id, o.customer,
			    o.email);
			put(pd, "order.xml", buf, (size_t)len, 0);
		}
		close(pd);
		if ((len = spool_order_format(&o, buf, sizeof buf)) < 0)
			die("order");
		snprintf(name, sizeof name, "%s.order", o.id);
		put(spool_statefd(sp, st), name, buf, (size_t)len, o.placed);
	}
	spool_close(sp);
	return 0;
}
