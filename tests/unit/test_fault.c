/*
 * The fault test: every write-side system call of publish, move, submit, history,
 * status and remove is made to fail in turn, with EIO, ENOSPC, EXDEV and ENOENT.
 * After each failure the spool must be exactly as it was or exactly as intended,
 * never half; and when the operation says it succeeded, it is as intended.
 *
 * The sites are enumerated, not sampled: the operation is first run without faults
 * to count its calls N, then once for each call 1..N failing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

struct fixture {
	char *dir;
	char root[4200];
	struct spool *sp;
};

typedef int (*op_fn)(struct fixture *);

/* A spool with one pos order (3001) in state failed and one print-ready bundle. */
static void
fixture_make(struct fixture *fx, const char *wf)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_SYSTEM, .check = 0, .who = "system" };
	struct spool_err err;
	char *b;

	fx->dir = tmpdir_make();
	fx->sp = spool_make(fx->dir, wf);
	snprintf(fx->root, sizeof fx->root, "%s/spool", fx->dir);
	if (strcmp(wf, "pos") == 0) {
		b = bundle_copy(fx->dir, "pos", "3001", "order");
		if (spool_submit(fx->sp, AT_FDCWD, b, NULL, "admin:t", NULL, NULL, &err) < 0 ||
		    spool_move(fx->sp, "3001", -1, spool_conf_state(spool_conf(fx->sp), "failed"), &m,
		    &err) < 0)
			fail_msg("%s", err.msg);
		free(b);
	}
	b = bundle_copy(fx->dir, "print", "1001", "bundle");
	free(b);
}

static void
fixture_free(struct fixture *fx)
{
	spool_close(fx->sp);
	tree_rm(fx->dir);
	free(fx->dir);
}

static int
op_publish(struct fixture *fx)
{
	return spool_publish(spool_dirfd(fx->sp, SPOOL_DIR_OUTBOX), "new/mail", spool_dirfd(fx->sp,
	    SPOOL_DIR_TMP), "Subject: x\r\n\r\nbody\r\n", 20, &(struct spool_pub){
	    .flags = SPOOL_PUB_NOREPLACE });
}

static int
op_move(struct fixture *fx)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:t", .check = 1,
		.comment = "set ready" };

	return spool_move(fx->sp, "3001", -1, spool_conf_state(spool_conf(fx->sp), "ready"), &m,
	    NULL);
}

static int
op_history(struct fixture *fx)
{
	struct spool_event ev = { .time = 1763900000, .id = "3001", .actor = "system",
		.from = "failed", .to = "failed", .comment = "POS: connection refused" };

	return spool_history_add(fx->sp, &ev, 0);
}

static int
op_status(struct fixture *fx)
{
	struct spool_status s = { .state = "failed", .attempts = 2, .error = "timeout" };

	return spool_status_write(fx->sp, "3001", &s, 0);
}

static int
op_remove(struct fixture *fx)
{
	return spool_remove(fx->sp, "3001", SPOOL_ACTOR_ADMIN, "admin:t", "test", NULL);
}

static int
op_submit(struct fixture *fx)
{
	char b[4200];

	snprintf(b, sizeof b, "%s/bundle", fx->dir);
	return spool_submit(fx->sp, AT_FDCWD, b, NULL, "admin:t", NULL, NULL, NULL);
}

static const int errs[] = { EIO, ENOSPC, EXDEV, ENOENT };

/* Run op at every fault site with every errno; returns the number of sites. */
static long
enumerate(op_fn op, const char *wf)
{
	struct fixture fx;
	char *before, *after, *now, tmp[4300];
	long n, at, sites = 0;
	size_t e;
	int r, left;

	/* the intended result, and the number of calls it takes */
	fixture_make(&fx, wf);
	before = snapshot(fx.root);
	fault_arm(0, 0);
	fault.calls = 0;
	if (op(&fx) < 0)
		fail_msg("the operation fails without a fault");
	n = fault.calls;
	after = snapshot(fx.root);
	fixture_free(&fx);
	assert_string_not_equal(before, after);
	assert_true(n > 0);

	for (e = 0; e < sizeof errs / sizeof errs[0]; e++)
		for (at = 1; at <= n; at++) {
			fixture_make(&fx, wf);
			now = snapshot(fx.root);
			assert_string_equal(now, before);
			free(now);
			fault_arm(at, errs[e]);
			r = op(&fx);
			fault_disarm();
			now = snapshot(fx.root);
			if (!fault.hit)
				fail_msg("site %ld was not reached", at);
			if (strcmp(now, before) != 0 && strcmp(now, after) != 0)
				fail_msg("%s at site %ld (%s) left the spool half done:\n%s\n"
				    "--- before:\n%s\n--- intended:\n%s", strerror(errs[e]), at,
				    fault.hit_name, now, before, after);
			if (r == 0 && strcmp(now, after) != 0)
				fail_msg("site %ld (%s) said it succeeded but did not", at, fault.hit_name);
			/*
			 * tmp/ is clean, unless the failure was in the clean-up itself or in
			 * freeing space after the commit: recovery sweeps such leftovers.
			 */
			snprintf(tmp, sizeof tmp, "%s/tmp", fx.root);
			left = dir_count(tmp);
			if (left != 0 && strcmp(fault.hit_name, "unlinkat") != 0 &&
			    strcmp(now, after) != 0)
				fail_msg("site %ld (%s) left %d entries in tmp/", at, fault.hit_name, left);
			free(now);
			fixture_free(&fx);
			sites++;
		}
	free(before);
	free(after);
	return sites;
}

/* An operation whose every fault site test_sites tries: at least min sites in all. */
struct op_sites {
	const char *name;
	op_fn op;
	const char *wf;
	long min;
};

static struct op_sites sites[] = {
	{ "test_publish_sites", op_publish, "pos", 4 * 5 },
	{ "test_move_sites", op_move, "pos", 4 * 5 },
	{ "test_history_sites", op_history, "pos", 4 * 4 },
	{ "test_status_sites", op_status, "pos", 4 * 5 },
	{ "test_remove_sites", op_remove, "pos", 4 * 8 },
	{ "test_submit_sites", op_submit, "print", 4 * 40 },
};

static void
test_sites(void **state)
{
	const struct op_sites *c = *state;
	long n = enumerate(c->op, c->wf);

	print_message("%s: %ld fault sites, each spool as it was or as intended\n", c->name, n);
	assert_true(n >= c->min);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof sites / sizeof sites[0]];
	size_t i;

	/* a test for each row, under the row's name */
	for (i = 0; i < sizeof sites / sizeof sites[0]; i++)
		tests[i] = (struct CMUnitTest){ sites[i].name, test_sites, NULL, NULL, &sites[i] };
	fault_install(1763900000);
	spool_domain_init();   /* the [queue] and [mail] readers */
	return cmocka_run_group_tests_name("fault", tests, NULL, NULL);
}
