/* Unit tests: locating, moving (allowed, refused, locked, lost races), removing, walking. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

static int
S(const char *name)
{
	return spool_conf_state(spool_conf(sp), name);
}

static char *
history(const char *id)
{
	char path[4200], *buf;

	snprintf(path, sizeof path, "%s/spool/orders/%s/history", dir, id);
	if ((buf = file_read(AT_FDCWD, path, NULL)) == NULL)
		return strdup("");
	return buf;
}

static void
test_move_allowed(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_PRINTER, .who = "printer", .check = 1,
		.comment = "downloaded" };
	struct spool_err err;
	char *h;
	int st;

	(void)state;
	assert_int_equal(spool_locate(sp, "1001", &st), 1);
	assert_int_equal(st, S("queued"));
	assert_int_equal(spool_move(sp, "1001", -1, S("processing"), &m, &err), 0);
	assert_int_equal(m.from, S("queued"));
	assert_int_equal(spool_locate(sp, "1001", &st), 1);
	assert_int_equal(st, S("processing"));
	h = history("1001");
	assert_non_null(strstr(h, "\t1001\tprinter\tqueued\tprocessing\tdownloaded\n"));
	free(h);
}

static void
test_move_refused(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_PRINTER, .who = "printer", .check = 1 };
	struct spool_err err;
	int st;

	(void)state;
	/* the printer may not jump from queued to shipping */
	assert_int_equal(spool_move(sp, "1001", -1, S("shipping"), &m, &err), -1);
	assert_int_equal(errno, EPERM);
	assert_string_equal(err.msg,
	    "1001: the workflow does not let printer move it from queued to shipping");
	assert_int_equal(spool_locate(sp, "1001", &st), 1);
	assert_int_equal(st, S("queued"));
	/* unchecked (the system's own engine) it may */
	m.check = 0;
	assert_int_equal(spool_move(sp, "1001", S("queued"), S("shipping"), &m, &err), 0);
	assert_int_equal(spool_move(sp, "1001", -1, S("shipping"), &m, &err), -1);
	assert_int_equal(errno, EALREADY);
	assert_int_equal(spool_move(sp, "nope", -1, S("shipping"), &m, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_move(sp, "../x", -1, S("shipping"), &m, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_move(sp, "1001", -1, 99, &m, &err), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_locked(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_STORE, .who = "store", .check = 1 };
	struct spool_err err;

	(void)state;
	assert_int_equal(spool_move(sp, "1001", -1, S("shipping"),
	    &(struct spool_move){ .actor = SPOOL_ACTOR_SYSTEM, .check = 0 }, &err), 0);
	assert_int_equal(spool_move(sp, "1001", -1, S("reordering"), &m, &err), 0);
	/* while it copies, the admin can neither close nor remove it */
	m.actor = SPOOL_ACTOR_ADMIN;
	assert_int_equal(spool_move(sp, "1001", -1, S("closed"), &m, &err), -1);
	assert_int_equal(errno, EBUSY);
	assert_string_equal(err.msg, "1001: locked while in reordering");
	assert_int_equal(spool_remove(sp, "1001", SPOOL_ACTOR_ADMIN, "admin:x", NULL, &err), -1);
	assert_int_equal(errno, EBUSY);
	m.actor = SPOOL_ACTOR_SYSTEM;
	assert_int_equal(spool_move(sp, "1001", -1, S("shipping"), &m, &err), 0);
}

/* Another actor moves the order between our look and our rename. */
static int race_to = -1;

static int
racing_rename(int a, const char *b, int c, const char *d, unsigned e)
{
	char name[128];

	if (race_to != -2) {
		snprintf(name, sizeof name, "%s", b);
		if (race_to >= 0)
			spool_sys_real.renameat2(a, name, spool_statefd(sp, race_to), name, 0);
		else
			spool_sys_real.unlinkat(a, name, 0);
		race_to = -2;
	}
	return spool_sys_real.renameat2(a, b, c, d, e);
}

/* Move 1001 to state to, with racing_rename in the way: it fails with errno e and msg. */
static void
lose_race(int to, int e, const char *msg)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:a", .check = 1 };
	struct spool_err err;

	spool_sys.renameat2 = racing_rename;
	assert_int_equal(spool_move(sp, "1001", -1, to, &m, &err), -1);
	spool_sys.renameat2 = spool_sys_real.renameat2;
	assert_int_equal(errno, e);
	assert_string_equal(err.msg, msg);
}

static void
test_lost_race(void **state)
{
	char *h;
	int st;

	(void)state;
	/* someone else moved 1001 from queued to failed first */
	race_to = S("failed");
	lose_race(S("cancelled"), EAGAIN, "1001: moved meanwhile to failed");
	assert_int_equal(spool_locate(sp, "1001", &st), 1);
	assert_int_equal(st, S("failed"));
	h = history("1001");
	assert_null(strstr(h, "cancelled"));
	free(h);
	/* someone removed it */
	race_to = -1;
	lose_race(S("queued"), ENOENT, "1001: removed meanwhile");
	assert_int_equal(spool_locate(sp, "1001", &st), 0);
}

/* A rename that says ENOENT while the file is still there is tried again. */
static void
test_phantom_enoent(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:a", .check = 1 };
	struct spool_err err;
	int st;

	(void)state;
	fault_arm(1, ENOENT);
	fault.only = "renameat2";
	assert_int_equal(spool_move(sp, "1001", -1, S("cancelled"), &m, &err), 0);
	fault_disarm();
	assert_string_equal(fault.hit_name, "renameat2");
	assert_int_equal(spool_locate(sp, "1001", &st), 1);
	assert_int_equal(st, S("cancelled"));
}

static void
test_two_states(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:a", .check = 1 };
	struct spool_err err;
	int st;

	(void)state;
	/* a person copied the order file: it is in two states, and nothing is replaced */
	assert_int_equal(sh("cp %s/spool/state/queued/1001.order %s/spool/state/cancelled/", dir,
	    dir), 0);
	assert_int_equal(spool_locate(sp, "1001", &st), 2);
	assert_int_equal(spool_move(sp, "1001", S("queued"), S("cancelled"), &m, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(err.msg, "1001: is in both queued and cancelled (run spoolctl check)");
	assert_int_equal(spool_locate(sp, "1001", &st), 2);
}

static void
test_remove(void **state)
{
	struct spool_err err;
	char path[4200], *log;
	size_t len;
	struct stat sb;
	int st;

	(void)state;
	assert_int_equal(spool_remove(sp, "1001", SPOOL_ACTOR_ADMIN, "admin:a", "customer asked",
	    &err), 0);
	assert_int_equal(spool_locate(sp, "1001", &st), 0);
	snprintf(path, sizeof path, "%s/spool/orders/1001", dir);
	assert_int_equal(stat(path, &sb), -1);
	snprintf(path, sizeof path, "%s/spool/tmp", dir);
	assert_int_equal(dir_count(path), 0);
	snprintf(path, sizeof path, "%s/spool/history", dir);
	assert_int_equal(read_file(AT_FDCWD, path, 1 << 20, &log, &len), 0);
	assert_non_null(strstr(log, "\t1001\tadmin:a\tqueued\t-\tremoved: customer asked\n"));
	free(log);
	assert_int_equal(spool_remove(sp, "1001", SPOOL_ACTOR_ADMIN, "admin:a", NULL, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_remove(sp, "a/b", SPOOL_ACTOR_ADMIN, "admin:a", NULL, &err), -1);
	assert_int_equal(errno, EINVAL);
}

static int
count_ent(void *arg, const struct spool_ent *e)
{
	int *n = arg;

	assert_true(spool_id_ok(e->id));
	assert_true(e->placed.tv_sec > 0);
	(*n)++;
	return 0;
}

static void
test_walk(void **state)
{
	struct spool_err err;
	char *b;
	int n = 0;

	(void)state;
	b = bundle_copy(dir, "print", "1002", "b1002");
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:test", NULL, NULL, &err), 0);
	free(b);
	/* names that are not orders are not walked */
	assert_int_equal(sh("touch %s/spool/state/queued/.junk %s/spool/state/queued/x.txt", dir,
	    dir), 0);
	assert_int_equal(spool_walk(sp, 0, 1, count_ent, &n), 2);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(spool_walk(sp, (uint64_t)1 << S("unpaid"), 1, count_ent, &n), 1);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_allowed, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_move_refused, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_locked, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_lost_race, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_phantom_enoent, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_two_states, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_remove, setup_order, teardown_spool),
		cmocka_unit_test_setup_teardown(test_walk, setup_order, teardown_spool),
	};
	return cmocka_run_group_tests_name("move", tests, NULL, NULL);
}
