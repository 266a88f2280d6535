/* Unit tests: spool_check finds each kind of damage, and repair mends what is safe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"

static char *dir, root[4200];
static struct spool *sp;

struct found {
	int n[16];
	int repaired[16];
	char text[8192];
};

static void
collect(void *arg, const struct spool_problem *p)
{
	struct found *f = arg;
	size_t len = strlen(f->text);

	f->n[p->kind]++;
	if (p->repaired > 0)
		f->repaired[p->kind]++;
	snprintf(f->text + len, sizeof f->text - len, "%s %s %s: %s\n", spool_problem_name(p->kind),
	    p->id != NULL ? p->id : "-", p->path, p->detail);
}

static int
setup(void **state)
{
	(void)state;
	/* ages in tmp/ are compared with the files' real times */
	fault_install(time(NULL));
	dir = tmpdir_make();
	sp = spool_make(dir, "print");
	snprintf(root, sizeof root, "%s/spool", dir);
	submit_example(sp, dir, "print", "1001", "b", "admin:t");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	spool_unmake(sp, dir);
	return 0;
}

static int
check(int repair, struct found *f)
{
	struct spool_err err;

	memset(f, 0, sizeof *f);
	spool_close(sp);
	if (spool_open(root, SPOOL_OPEN_LENIENT, &sp, &err) < 0)
		fail_msg("%s", err.msg);
	return spool_check(sp, repair, collect, f);
}

static void
test_clean(void **state)
{
	struct found f;

	(void)state;
	assert_int_equal(check(0, &f), 0);
	assert_int_equal(check(1, &f), 0);
}

static void
test_damage_and_repair(void **state)
{
	struct found f;
	struct stat st;
	char p[4400];

	(void)state;
	/* an order in two states */
	assert_int_equal(sh("cd %s && cp state/queued/1001.order state/failed/", root), 0);
	/* an orphan payload, and an unfinished submit */
	assert_int_equal(sh("cd %s && mkdir orders/9999 && echo x > orders/9999/order.xml", root), 0);
	assert_int_equal(sh("cd %s && mkdir orders/8888 && cp state/queued/1001.order "
	    "orders/8888/detached.order", root), 0);
	/* an order file without its payload */
	assert_int_equal(sh("cd %s && sed 's/1001/7777/' state/queued/1001.order > "
	    "state/shipping/7777.order", root), 0);
	/* tmp: one stale, one fresh */
	assert_int_equal(sh("cd %s && mkdir tmp/sub.old && touch tmp/sub.old/f && "
	    "touch -d '3 hours ago' tmp/sub.old && touch tmp/fresh", root), 0);
	/* bad names: an old one, a fresh one, and one in orders/ */
	assert_int_equal(sh("cd %s && touch -d '2 hours ago' state/queued/notes.txt && "
	    "touch state/queued/.1001.order.swp && mkdir 'orders/a b' && "
	    "touch -d '2 hours ago' 'orders/a b'", root), 0);
	/* a state folder the workflow does not know, a missing folder, a bad mode */
	assert_int_equal(sh("cd %s && mkdir state/ghost && rmdir outbox/sent state/closed && "
	    "chmod o+w orders", root), 0);

	assert_int_equal(check(0, &f), 12);
	assert_int_equal(f.n[SPOOL_P_TWOSTATES], 1);
	assert_int_equal(f.n[SPOOL_P_ORPHAN], 1);
	assert_int_equal(f.n[SPOOL_P_UNCOMMITTED], 1);
	assert_int_equal(f.n[SPOOL_P_NOPAYLOAD], 1);
	assert_int_equal(f.n[SPOOL_P_STALETMP], 1);
	assert_int_equal(f.n[SPOOL_P_BADNAME], 3);
	assert_int_equal(f.n[SPOOL_P_UNKNOWNSTATE], 1);
	assert_int_equal(f.n[SPOOL_P_MISSINGDIR], 2);
	assert_int_equal(f.n[SPOOL_P_MODE], 1);
	assert_non_null(strstr(f.text, "two-states 1001 state/*/1001.order: in queued and failed"));
	assert_non_null(strstr(f.text, "no-payload 7777 orders/7777: order in shipping"));
	/* report only: nothing changed */
	snprintf(p, sizeof p, "%s/orders/9999", root);
	assert_int_equal(stat(p, &st), 0);

	assert_int_equal(check(1, &f), 12);
	assert_int_equal(f.repaired[SPOOL_P_TWOSTATES], 0);     /* a person's call */
	assert_int_equal(f.repaired[SPOOL_P_UNKNOWNSTATE], 0);
	assert_int_equal(f.repaired[SPOOL_P_ORPHAN], 1);
	assert_int_equal(f.repaired[SPOOL_P_UNCOMMITTED], 1);
	assert_int_equal(f.repaired[SPOOL_P_NOPAYLOAD], 1);
	assert_int_equal(f.repaired[SPOOL_P_STALETMP], 1);
	assert_int_equal(f.repaired[SPOOL_P_BADNAME], 2);       /* not the fresh one */
	assert_int_equal(f.repaired[SPOOL_P_MISSINGDIR], 2);
	assert_int_equal(f.repaired[SPOOL_P_MODE], 1);
	/* the orphan is kept in corrupt/ with its reason */
	snprintf(p, sizeof p, "%s/corrupt/9999/order.xml", root);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/corrupt/9999.reason", root);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/corrupt/notes.txt", root);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/orders/8888", root);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof p, "%s/orders/7777/history", root);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/tmp/fresh", root);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/orders", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & S_IWOTH, 0);
	snprintf(p, sizeof p, "%s/state/closed", root);
	assert_int_equal(stat(p, &st), 0);

	/* what is left needs a person: the duplicate, the ghost, the fresh swap file */
	assert_int_equal(check(1, &f), 3);
	assert_int_equal(sh("cd %s && rm state/failed/1001.order state/queued/.1001.order.swp && "
	    "rmdir state/ghost", root), 0);
	assert_int_equal(check(0, &f), 0);
}

/* A crash inside link+unlink (file systems without RENAME_NOREPLACE) leaves two names. */
static void
test_link_leftover(void **state)
{
	struct found f;
	struct stat st;
	char p[4400];

	(void)state;
	assert_int_equal(sh("cd %s && ln state/queued/1001.order orders/1001/detached.order", root),
	    0);
	assert_int_equal(check(0, &f), 1);
	assert_int_equal(f.n[SPOOL_P_UNCOMMITTED], 1);
	assert_non_null(strstr(f.text, "beside the one in queued"));
	assert_int_equal(check(1, &f), 1);
	assert_int_equal(f.repaired[SPOOL_P_UNCOMMITTED], 1);
	snprintf(p, sizeof p, "%s/orders/1001/detached.order", root);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof p, "%s/state/queued/1001.order", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(check(0, &f), 0);
}

/* A submit holds the repair lock shared; repair takes it exclusively. */
static void
test_repair_lock(void **state)
{
	int a, b, c;

	(void)state;
	a = repair_lock(sp, LOCK_SH);
	b = repair_lock(sp, LOCK_SH | LOCK_NB);
	assert_true(a >= 0 && b >= 0);
	c = repair_lock(sp, LOCK_EX | LOCK_NB);
	assert_int_equal(c, -1);
	assert_int_equal(errno, EWOULDBLOCK);
	repair_unlock(a);
	repair_unlock(b);
	c = repair_lock(sp, LOCK_EX | LOCK_NB);
	assert_true(c >= 0);
	repair_unlock(c);
}

static void
test_quarantine_names(void **state)
{
	char out[256], p[4400];
	int fd;

	(void)state;
	fd = spool_dirfd(sp, SPOOL_DIR_INCOMING);
	assert_int_equal(sh("cd %s/incoming && touch bad && mkdir -p ../corrupt/bad", root), 0);
	assert_int_equal(spool_quarantine(sp, fd, "bad", "test reason", out, sizeof out), 0);
	assert_string_equal(out, "bad.1");
	snprintf(p, sizeof p, "%s/corrupt/bad.1.reason", root);
	assert_int_equal(sh("grep -qx 'test reason' %s", p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_and_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_leftover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_names, setup, teardown),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
