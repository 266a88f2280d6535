/*
 * Unit tests: print queues and jobs (lib/print/print.c, [queue] in lib/core/conf.c): routing and
 * the queue keys' errors, delivery windows, publishing an order's jobs into hot
 * folders (job.xml, JDF with an InfoBaseFolder) whole even when any syscall fails,
 * telling a printer to stop, purging PDFs, removing an item, and the reorder copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

/* The shipped print workflow with these [queue] sections in place of its own. */
static char *
print_conf(const char *queues)
{
	const char *text = spool_shipped("workflows/print.conf", NULL);
	const char *cut;
	char *s;

	assert_non_null(text);
	cut = strstr(text, "\n[queue ");
	assert_non_null(cut);
	if (asprintf(&s, "%.*s\n%s", (int)(cut - text), text, queues) < 0)
		abort();
	return s;
}

static const char queues[] =
    "[queue press]\nchunks = content *\n\n"
    "[queue covers]\nchunks = cover\nformat = jdf\ninfo = info/covers\n";

static int
setup(void **state)
{
	char *conf = print_conf(queues);

	(void)state;
	fixture_spool(1763900000, conf);
	free(conf);
	fixture_order();
	return 0;
}

static char *
path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/spool/%s", dir, rel) < 0)
		abort();
	return p;
}

static int
exists(const char *rel)
{
	char *p = path(rel);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static ino_t
inode(const char *rel)
{
	return lstat_of("%s/spool/%s", dir, rel).st_ino;
}

/* The print workflow with these queues must fail to parse, with an error that says want. */
static void
conf_fails(const char *q, const char *want)
{
	char *text = print_conf(q);

	conf_refused(text, want);
	free(text);
}

static void
test_conf_queues(void **state)
{
	struct spool_conf *c;
	struct spool_err err;
	char *text = print_conf("[queue a]\nchunks = cover\nwindow = 02:00\n\n"
	    "[queue b]\npath = /srv/share/b\nwindow = 23:30-00:15\n");

	(void)state;
	c = conf_parsed("t.conf", text);
	free(text);
	assert_int_equal(c->nqueues, 2);
	assert_string_equal(c->queues[0].path, "hot/a");
	assert_int_equal(c->queues[0].format, SPOOL_FORMAT_JOB);
	assert_int_equal(c->queues[0].window, 120);
	assert_int_equal(c->queues[0].window_len, 60);
	assert_null(c->queues[0].info);
	assert_string_equal(c->queues[1].path, "/srv/share/b");
	assert_string_equal(c->queues[1].chunks[0], "*");
	assert_int_equal(c->queues[1].window, 23 * 60 + 30);
	assert_int_equal(c->queues[1].window_len, 45);
	/* a kind named goes where it is named; any other to the * queue */
	assert_int_equal(spool_queue_route(c, "cover"), 0);
	assert_int_equal(spool_queue_route(c, "content"), 1);
	assert_int_equal(spool_conf_code(c, 15), spool_conf_state(c, "processing"));
	assert_int_equal(spool_conf_code(c, 99), -1);
	spool_conf_free(c);

	conf_fails("[queue a]\nchunks = cover\n[queue b]\nchunks = cover content\n",
	    "chunk kind 'cover' goes to queue 'a' already");
	conf_fails("[queue a]\n[queue b]\n", "takes every other kind already");
	conf_fails("[queue a]\nwindow = 2am\n", "expected HH:MM or HH:MM-HH:MM");
	conf_fails("[queue a]\nwindow = 24:00\n", "expected HH:MM");
	conf_fails("[queue a]\npath = hot/../../etc\n", "without . or .. parts");
	conf_fails("[queue a]\nformat = pdf\n", "expected job or jdf");
	conf_fails("[queue a]\ncolour = yes\n", "unknown key in [queue a]");
	conf_fails("[queue a]\nformat = jdf\nformat = job\n", "given twice");
	conf_fails("[queue A]\n", "not a queue name");
	conf_fails("[queue a]\n[queue a]\n", "duplicate queue");
	conf_fails("[queue a]\nchunks = Cover\n", "'Cover' is not a chunk kind");
	/* a jdf queue's info files never go to the RIP: PATH-info, or named outside */
	text = print_conf("[queue a]\nformat = jdf\n[queue b]\npath = rip/b/\nformat = jdf\n"
	    "chunks = cover\n[queue c]\npath = /srv/rip\nformat = jdf\ninfo = /srv/info\n"
	    "chunks = content\n");
	if (spool_conf_parse("t.conf", text, &c, &err) < 0)
		fail_msg("%s", err.msg);
	free(text);
	assert_string_equal(c->queues[0].info, "hot/a-info");
	assert_string_equal(c->queues[1].info, "rip/b-info");
	assert_string_equal(c->queues[2].info, "/srv/info");
	spool_conf_free(c);
	conf_fails("[queue a]\npath = /srv/rip\nformat = jdf\n", "needs info = FOLDER");
	/* products: their media, and what is not one */
	text = print_conf("[queue a]\n[product test-book]\nmedia_size = 297x210\n"
	    "media_weight = 170\nmedia_type = Paper\nsides = two-sided-long-edge\n"
	    "[product test-flyer]\nmedia_size = A5\n");
	if (spool_conf_parse("t.conf", text, &c, &err) < 0)
		fail_msg("%s", err.msg);
	free(text);
	{
		const struct spool_product *p = spool_product_find(c, "test-book");
		assert_non_null(p);
		assert_true(p->width == 297 && p->height == 210 && p->weight == 170);
		assert_string_equal(p->type, "Paper");
		assert_int_equal(p->sides, SPOOL_SIDES_LONG);
		p = spool_product_find(c, "test-flyer");
		assert_true(p->width == 148 && p->height == 210 && p->weight == 0);
		assert_null(p->type);
		assert_int_equal(p->sides, SPOOL_SIDES_UNSET);
		assert_null(spool_product_find(c, "no-such"));
		/* the shipped workflow's */
		assert_non_null(spool_product_find(c, "poster-a2"));
	}
	spool_conf_free(c);
	conf_fails("[queue a]\n[product x]\nmedia_size = Letter\n", "expected A0 to A6");
	conf_fails("[queue a]\n[product x]\nmedia_size = 0x10\n", "WIDTHxHEIGHT");
	conf_fails("[queue a]\n[product x]\nmedia_weight = heavy\n", "grams per square");
	conf_fails("[queue a]\n[product x]\nmedia_type = paper\n", "expected Paper");
	conf_fails("[queue a]\n[product x]\nsides = duplex\n", "expected one-sided");
	conf_fails("[queue a]\n[product x]\ncolour = red\n", "unknown key in [product x]");
	conf_fails("[queue a]\n[product x]\n[product x]\n", "duplicate product");
	conf_fails("[queue a]\n[product a/b]\n", "not a product");
	/* a workflow that publishes needs somewhere to publish to */
	text = print_conf("");
	assert_int_equal(spool_conf_parse("t.conf", text, &c, &err), -1);
	assert_non_null(strstr(err.msg, "publish needs at least one [queue NAME]"));
	free(text);
}

static void
test_window(void **state)
{
	struct spool_queue q = { .window = 120, .window_len = 60 };
	time_t day = 1763856000;    /* 2025-11-23T00:00:00Z */

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(spool_queue_opens(&q, day + 90 * 60), day + 120 * 60);
	assert_int_equal(spool_queue_opens(&q, day + 90 * 60 + 17), day + 120 * 60);
	assert_int_equal(spool_queue_opens(&q, day + 135 * 60), day + 135 * 60);
	assert_int_equal(spool_queue_opens(&q, day + 180 * 60), day + 86400 + 120 * 60);
	/* a window over midnight */
	q.window = 23 * 60 + 30;
	q.window_len = 45;
	assert_int_equal(spool_queue_opens(&q, day + 86400 + 10 * 60), day + 86400 + 10 * 60);
	assert_int_equal(spool_queue_opens(&q, day + 86400 + 20 * 60), day + 86400 + 23 * 3600 + 30 * 60);
	q.window = -1;
	assert_int_equal(spool_queue_opens(&q, day + 5), day + 5);
}

static void
stitch_all(void)
{
	struct spool_err err;

	if (spool_stitch_item(sp, "1001", "1", &err) < 0 || spool_stitch_item(sp, "1001", "2", &err) < 0)
		fail_msg("%s", err.msg);
}

static void
plan(struct spool_pjobs *js)
{
	struct spool_err err;

	if (spool_pjobs_plan(sp, "1001", 1, js, &err) < 0)
		fail_msg("%s", err.msg);
}

static void
publish_all(struct spool_pjobs *js)
{
	struct spool_err err;
	int i;

	for (i = 0; i < js->n; i++) {
		if (spool_pjob_publish(sp, "1001", &js->v[i], &err) < 0)
			fail_msg("%s: %s", js->v[i].name, err.msg);
		js->v[i].status = SPOOL_JOB_QUEUED;
	}
}


static void
test_publish(void **state)
{
	struct spool_pjobs js, back;
	struct spool_jobxml jx;
	struct spool_err err;
	char *p, *q;
	int fd;

	(void)state;
	stitch_all();
	plan(&js);
	assert_int_equal(js.n, 3);
	assert_string_equal(js.v[0].name, "1001-1-press");
	assert_string_equal(js.v[1].name, "1001-1-covers");
	assert_string_equal(js.v[2].name, "1001-2-press");
	assert_string_equal(js.v[2].item, "2");
	publish_all(&js);
	/* a job.xml queue: the PDFs, the invoice, upload.xml and job.xml together */
	assert_true(exists("hot/press/1001-1-press/1001-1-content.pdf"));
	assert_true(exists("hot/press/1001-1-press/invoice.pdf"));
	assert_true(exists("hot/press/1001-1-press/upload.xml"));
	assert_true(exists("hot/press/1001-1-press/job.xml"));
	assert_false(exists("hot/press/1001-1-press/1001-1-cover.pdf"));
	/* a JDF queue with an InfoBaseFolder: PDF and ticket there, the info files here */
	assert_true(exists("hot/covers/1001-1-covers/1001-1-cover.pdf"));
	assert_true(exists("hot/covers/1001-1-covers/1001-1-cover.jdf"));
	assert_false(exists("hot/covers/1001-1-covers/job.xml"));
	assert_true(exists("info/covers/1001-1-covers/job.xml"));
	assert_true(exists("info/covers/1001-1-covers/invoice.pdf"));
	assert_int_equal(sh("ls -A '%s/spool/hot/press' '%s/spool/hot/covers' '%s/spool/info/covers' "
	    "| grep -q '^\\.'", dir, dir, dir), 1);
	assert_int_equal(sh("qpdf --check '%s/spool/hot/press/1001-1-press/1001-1-content.pdf' "
	    ">/dev/null", dir), 0);
	assert_int_equal(sh("test $(qpdf --show-npages '%s/spool/hot/press/1001-1-press/"
	    "1001-1-content.pdf') -eq 3", dir), 0);
	/* job.xml as the printer reads it */
	p = path("hot/press/1001-2-press");
	fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	if (spool_jobxml_read(fd, "job.xml", &jx, &err) < 0)
		fail_msg("%s", err.msg);
	close(fd);
	free(p);
	assert_int_equal(jx.status, SPOOL_JOB_QUEUED);
	assert_string_equal(jx.order_id, "1001");
	assert_string_equal(jx.item_id, "2");
	assert_int_equal(sh("xmllint --noout --nonet --schema spool-layout/schemas/job.xsd "
	    "'%s/spool/hot/press/1001-1-press/job.xml' 2>/dev/null", dir), 0);
	assert_int_equal(sh("grep -q '<Line>12 Harbour Road</Line>' "
	    "'%s/spool/info/covers/1001-1-covers/job.xml'", dir), 0);
	/* the JDF ticket names its PDF, which resolves beside it, and the quantity */
	assert_int_equal(sh("cd '%s/spool/hot/covers/1001-1-covers' && u=$(xmllint --xpath "
	    "'string(//*[local-name()=\"FileSpec\"]/@URL)' 1001-1-cover.jdf) && test -f \"$u\"",
	    dir), 0);
	assert_int_equal(sh("xmllint --xpath 'string(//*[local-name()=\"ComponentLink\"]/@Amount)' "
	    "'%s/spool/hot/covers/1001-1-covers/1001-1-cover.jdf' | grep -qx 1", dir), 0);
	if ((q = (char *)jdf_xsd()) != NULL)
		assert_int_equal(sh("xmllint --noout --nonet --schema '%s' '%s/spool/hot/covers/"
		    "1001-1-covers/1001-1-cover.jdf' 2>/dev/null", q, dir), 0);
	else
		print_message("the JDF schema is not in ../shared/schemas/jdf: not validated\n");
	/* the RIP's folder: tickets and PDFs only; the JobID holds the spool's id */
	assert_int_equal(sh("cd '%s/spool/hot/covers/1001-1-covers' && test -z \"$(ls -A | "
	    "grep -Ev '\\.(jdf|pdf)$')\"", dir), 0);
	assert_int_equal(sh("cd '%s/spool' && grep -Eqx '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}' "
	    "spool-id && test \"$(xmllint --xpath 'string(/*/@JobID)' hot/covers/1001-1-covers/"
	    "1001-1-cover.jdf)\" = \"1001.$(cat spool-id)\"", dir), 0);
	/* published before a crash cut the record short: it stands as it is */
	{
		ino_t before = inode("hot/press/1001-1-press/job.xml");
		if (spool_pjob_publish(sp, "1001", &js.v[0], &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(inode("hot/press/1001-1-press/job.xml"), before);
	}
	/* the record */
	strcpy(js.v[1].seen, "1763900000.000000001.1234");
	assert_int_equal(spool_pjobs_write(sp, "1001", &js, 0), 0);
	assert_int_equal(spool_pjobs_read(sp, "1001", &back, &err), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.visit, 1);
	assert_string_equal(back.v[1].seen, "1763900000.000000001.1234");
	assert_string_equal(back.v[2].seen, "-");
	assert_int_equal(back.v[1].queue, 1);
	assert_int_equal(back.v[0].status, SPOOL_JOB_QUEUED);
	spool_pjobs_free(&back);
	/* a damaged record is an error, not a guess */
	file_write(p = path("orders/1001/jobs"), "visit 1\n1001-1-press press 1 99 -\n");
	free(p);
	assert_int_equal(spool_pjobs_read(sp, "1001", &back, &err), -1);
	assert_non_null(strstr(err.msg, "line 2: bad job"));
	spool_pjobs_free(&js);
}

/*
 * Fail every syscall of a publish in turn: whatever fails, no job folder is in a hot
 * folder without its ticket, and a retry publishes it whole.
 */
static void
test_publish_faults(void **state)
{
	struct spool_pjobs js;
	struct spool_err err;
	long at;
	int r, i, done = 0;

	(void)state;
	stitch_all();
	plan(&js);
	for (at = 1; at < 1000 && !done; at++) {
		fault_arm(at, EIO);
		for (r = 0, i = 0; i < js.n && r == 0; i++)
			r = spool_pjob_publish(sp, "1001", &js.v[i], &err);
		done = !fault.hit;
		fault_disarm();
		/* never a job folder without what names its files */
		assert_int_equal(sh("cd '%s/spool' && for d in hot/press/*/; do [ -d \"$d\" ] || continue; "
		    "test -f \"$d/job.xml\" || exit 1; done; for d in hot/covers/*/; do "
		    "[ -d \"$d\" ] || continue; test -f \"$d/1001-1-cover.jdf\" || exit 1; done; "
		    "for d in info/covers/*/; do [ -d \"$d\" ] || continue; "
		    "test -f \"hot/covers/$(basename \"$d\")/1001-1-cover.pdf\" || exit 1; done", dir), 0);
		/* and a clean slate for the next round */
		sh("rm -rf '%s/spool/hot/press' '%s/spool/hot/covers' '%s/spool/info'", dir, dir, dir);
	}
	assert_true(done);
	for (i = 0; i < js.n; i++)
		if (spool_pjob_publish(sp, "1001", &js.v[i], &err) < 0)
			fail_msg("%s", err.msg);
	assert_true(exists("info/covers/1001-1-covers/job.xml"));
	spool_pjobs_free(&js);
}

static void
test_stop_purge_remove(void **state)
{
	struct spool_pjobs js;
	struct spool_jobxml jx;
	struct spool_err err;
	int up, pr, fd;
	char *p;

	(void)state;
	stitch_all();
	plan(&js);
	publish_all(&js);
	assert_int_equal(spool_pjobs_write(sp, "1001", &js, 0), 0);
	/* cancelled: the printer reads OrderStatus 7 and why */
	if (spool_pjob_stop(sp, &js.v[0], "The order was cancelled.", &err) < 0)
		fail_msg("%s", err.msg);
	p = path("hot/press/1001-1-press");
	fd = open(p, O_RDONLY | O_DIRECTORY);
	free(p);
	assert_int_equal(spool_jobxml_read(fd, "job.xml", &jx, &err), 0);
	close(fd);
	assert_int_equal(jx.status, SPOOL_JOB_CANCELLED);
	assert_string_equal(jx.message, "The order was cancelled.");
	/* a JDF job is told through its job.xml in the InfoBaseFolder */
	if (spool_pjob_stop(sp, &js.v[1], "Stop.", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sh("grep -q '<OrderStatus>7</OrderStatus>' "
	    "'%s/spool/info/covers/1001-1-covers/job.xml'", dir), 0);
	/* a job whose queue left spool.conf has nothing to tell it through */
	{
		struct spool_pjob gone = js.v[0];
		gone.queue = -1;
		assert_int_equal(spool_pjob_stop(sp, &gone, "x", &err), -1);
		assert_int_equal(errno, ENOENT);
	}

	/* purge: the PDFs go (uploads 5, chunks 3, their copies in hot folders 3) */
	assert_int_equal(spool_order_purge(sp, "1001", NULL, SPOOL_PURGE_UPLOADS | SPOOL_PURGE_PRINTS,
	    &up, &pr, &err), 0);
	assert_int_equal(up, 5);
	assert_int_equal(pr, 6);
	assert_false(exists("orders/1001/items/1/page-001.pdf"));
	assert_false(exists("orders/1001/items/1/chunks/cover.pdf"));
	assert_false(exists("hot/press/1001-1-press/1001-1-content.pdf"));
	/* the order data, the invoice and the tickets stay */
	assert_true(exists("orders/1001/order.xml"));
	assert_true(exists("orders/1001/invoice.pdf"));
	assert_true(exists("orders/1001/items/1/upload.xml"));
	assert_true(exists("hot/press/1001-1-press/invoice.pdf"));
	assert_true(exists("hot/press/1001-1-press/job.xml"));
	assert_true(exists("hot/covers/1001-1-covers/1001-1-cover.jdf"));

	/* removing an item takes its jobs out of the hot folders */
	if (spool_item_remove(sp, "1001", "1", SPOOL_ACTOR_ADMIN, "admin:test", &err) < 0)
		fail_msg("%s", err.msg);
	assert_false(exists("hot/press/1001-1-press"));
	assert_false(exists("hot/covers/1001-1-covers"));
	assert_false(exists("info/covers/1001-1-covers"));
	assert_true(exists("hot/press/1001-2-press"));
	spool_pjobs_free(&js);
	assert_int_equal(spool_pjobs_read(sp, "1001", &js, &err), 0);
	assert_int_equal(js.v[0].status, SPOOL_JOB_CANCELLED);
	assert_int_equal(js.v[2].status, SPOOL_JOB_QUEUED);
	spool_pjobs_free(&js);
	/* the history says what went: the item's PDFs were purged above, its folders now */
	assert_int_equal(sh("grep 'item 1 removed with its PDFs' '%s/spool/orders/1001/history' | "
	    "grep -q '0 upload PDF(s), 0 print PDF(s), 3 job folder(s)'", dir), 0);
	assert_int_equal(spool_item_remove(sp, "1001", "../1", SPOOL_ACTOR_ADMIN, "a", &err), -1);
	assert_int_equal(errno, EINVAL);
	/* removing the order takes the rest */
	assert_int_equal(spool_remove(sp, "1001", SPOOL_ACTOR_ADMIN, "admin:test", NULL, &err), 0);
	assert_false(exists("hot/press/1001-2-press"));
}

static void
test_copy(void **state)
{
	struct spool_err err;
	char id[SPOOL_ID_MAX + 1];
	int to;

	(void)state;
	stitch_all();
	if (spool_order_copy(sp, "1001", "system", 0, id, &to, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(id, "1001-r1");
	/* a reorder is paid again */
	assert_int_equal(to, spool_conf_state(spool_conf(sp), "unpaid"));
	assert_true(exists("state/unpaid/1001-r1.order"));
	/* the uploads are the same files; the chunks and the invoice are not copied */
	assert_int_equal(inode("orders/1001-r1/items/1/page-001.pdf"),
	    inode("orders/1001/items/1/page-001.pdf"));
	assert_false(exists("orders/1001-r1/items/1/chunks"));
	assert_false(exists("orders/1001-r1/invoice.pdf"));
	assert_int_equal(sh("grep -q 'order=\"1001-r1\"' '%s/spool/orders/1001-r1/items/1/upload.xml'",
	    dir), 0);
	assert_int_equal(sh("grep -q 'status=\"delayed\"' '%s/spool/orders/1001-r1/order.xml'", dir), 0);
	if (spool_order_copy(sp, "1001", "system", 0, id, &to, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(id, "1001-r2");
	/* a copy named by the caller (spoold: the visit) is made once */
	if (spool_order_copy(sp, "1001", "system", 7, id, &to, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(id, "1001-r7");
	assert_int_equal(spool_order_copy(sp, "1001", "system", 7, id, &to, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_true(exists("state/unpaid/1001-r7.order"));
}

/* st of a path below dir */
static struct stat
st_of(const char *rel)
{
	return lstat_of("%s/%s", dir, rel);
}

/*
 * Printers log in to the share as their own users, in the printers' group: whatever
 * spoold's umask, a job's folders are setgid and group rwx, job.xml group-writable and
 * the rest group-readable, all of the hot folder's group, also where that folder is
 * not setgid (the group is then given explicitly).
 */
static void
test_publish_modes(void **state)
{
	/* all of group 65534 */
	static const struct { const char *path; mode_t mode; } files[] = {
		{ "share/press/1001-1-press", 02770 },
		{ "share/covers/1001-1-covers", 02770 },
		{ "share/info/1001-1-covers", 02770 },
		/* job.xml: the printer edits it */
		{ "share/press/1001-1-press/job.xml", 0660 },
		{ "share/info/1001-1-covers/job.xml", 0660 },
		/* the rest: it reads them */
		{ "share/press/1001-1-press/1001-1-content.pdf", 0640 },
		{ "share/press/1001-1-press/invoice.pdf", 0640 },
		{ "share/press/1001-1-press/upload.xml", 0640 },
		{ "share/covers/1001-1-covers/1001-1-cover.pdf", 0640 },
		{ "share/covers/1001-1-covers/1001-1-cover.jdf", 0640 },
		{ "share/info/1001-1-covers/invoice.pdf", 0640 },
		{ "share/info/1001-1-covers/upload.xml", 0640 },
	};
	struct spool_pjobs js;
	struct stat st;
	char *q, *conf;
	mode_t old;
	size_t i;

	(void)state;
	if (geteuid() != 0)
		skip();    /* a folder of a group the test is not in */
	spool_unmake(sp, dir);
	dir = tmpdir_make();
	if (asprintf(&q, "[queue press]\npath = %s/share/press\nchunks = content *\n\n"
	    "[queue covers]\npath = %s/share/covers\nchunks = cover\nformat = jdf\n"
	    "info = %s/share/info\n", dir, dir, dir) < 0)
		abort();
	conf = print_conf(q);
	free(q);
	sp = spool_make(dir, conf);
	free(conf);
	submit_example(sp, dir, "print", "1001", "b1001", "admin:test");
	/* press and info: setgid, as INSTALL says; covers: not, so the group is set by hand */
	assert_int_equal(sh("cd '%s' && mkdir -p share/press share/covers share/info && "
	    "chgrp 65534 share/* && chmod 2770 share/press share/info && chmod 0770 share/covers",
	    dir), 0);
	old = umask(077);
	stitch_all();
	plan(&js);
	publish_all(&js);
	umask(old);
	spool_pjobs_free(&js);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		st = st_of(files[i].path);
		if ((st.st_mode & 07777) != files[i].mode || st.st_gid != 65534)
			fail_msg("%s: mode %04o group %u, want %04o group 65534", files[i].path,
			    (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid,
			    (unsigned)files[i].mode);
	}
	/* and in the spool, the chunks are the spool's */
	st = st_of("spool/orders/1001/items/1/chunks");
	assert_int_equal(st.st_mode & 07777, 02770);
	st = st_of("spool/orders/1001/items/1/chunks/content.pdf");
	assert_int_equal(st.st_mode & 07777, 0660);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_queues),
		cmocka_unit_test(test_window),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_publish_faults, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_publish_modes, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_stop_purge_remove, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown_spool),
	};

	spool_domain_init();    /* a removed order's jobs leave the hot folders */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
