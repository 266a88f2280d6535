/* Unit tests: spool_check finds each kind of damage, and repair mends what is safe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

static char root[4200];

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
	fixture_spool(time(NULL), "print");
	snprintf(root, sizeof root, "%s/spool", dir);
	submit_example(sp, dir, "print", "1001", "b", "admin:t");
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

/* Whether root/rel is there, a symlink's target as itself. */
static int
there(const char *rel)
{
	char p[4400];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return stat(p, &st) == 0;
}

static mode_t
mode_of(const char *rel)
{
	return lstat_of("%s/%s", root, rel).st_mode & 07777;
}

static gid_t
group_of(const char *rel)
{
	return lstat_of("%s/%s", root, rel).st_gid;
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
	assert_true(there("orders/9999"));

	assert_int_equal(check(1, &f), 12);
	assert_int_equal(f.repaired[SPOOL_P_TWOSTATES], 1);     /* the history's copy stays */
	assert_int_equal(f.repaired[SPOOL_P_UNKNOWNSTATE], 0);
	assert_int_equal(f.repaired[SPOOL_P_ORPHAN], 1);
	assert_int_equal(f.repaired[SPOOL_P_UNCOMMITTED], 1);
	assert_int_equal(f.repaired[SPOOL_P_NOPAYLOAD], 1);
	assert_int_equal(f.repaired[SPOOL_P_STALETMP], 1);
	assert_int_equal(f.repaired[SPOOL_P_BADNAME], 2);       /* not the fresh one */
	assert_int_equal(f.repaired[SPOOL_P_MISSINGDIR], 2);
	assert_int_equal(f.repaired[SPOOL_P_MODE], 1);
	/* the orphan is kept in corrupt/ with its reason */
	assert_true(there("corrupt/9999/order.xml"));
	assert_true(there("corrupt/9999.reason"));
	assert_true(there("corrupt/notes.txt"));
	assert_false(there("orders/8888"));
	assert_true(there("orders/7777/history"));
	assert_true(there("tmp/fresh"));
	assert_true(there("orders"));
	assert_int_equal(mode_of("orders") & S_IWOTH, 0);
	assert_true(there("state/closed"));

	assert_false(there("state/failed/1001.order"));
	assert_true(there("corrupt/1001.order"));

	/* what is left needs a person: the ghost, the fresh swap file */
	assert_int_equal(check(1, &f), 2);
	assert_int_equal(sh("cd %s && rm state/queued/.1001.order.swp && rmdir state/ghost", root),
	    0);
	assert_int_equal(check(0, &f), 0);
}

/* A crash inside link+unlink (file systems without RENAME_NOREPLACE) leaves two names. */
static void
test_link_leftover(void **state)
{
	struct found f;

	(void)state;
	assert_int_equal(sh("cd %s && ln state/queued/1001.order orders/1001/detached.order", root),
	    0);
	assert_int_equal(check(0, &f), 1);
	assert_int_equal(f.n[SPOOL_P_UNCOMMITTED], 1);
	assert_non_null(strstr(f.text, "beside the one in queued"));
	assert_int_equal(check(1, &f), 1);
	assert_int_equal(f.repaired[SPOOL_P_UNCOMMITTED], 1);
	assert_false(there("orders/1001/detached.order"));
	assert_true(there("state/queued/1001.order"));
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

/* The last line of orders/ID/history (without its newline) into buf. */
static void
last_line(const char *id, char *buf, size_t len)
{
	char p[4400];
	FILE *f;

	snprintf(p, sizeof p, "%s/orders/%s/history", root, id);
	assert_non_null(f = fopen(p, "r"));
	buf[0] = '\0';
	while (fgets(buf, (int)len, f) != NULL)
		;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * A restore from backup puts back the copy of an order in the state it had: the
 * history's last move names where it is now, and that copy stays.
 */
static void
test_two_states_history(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:t", .check = 1 };
	struct spool_err err;
	struct found f;
	struct stat st;
	char p[4400], line[1024];
	int at;

	(void)state;
	assert_int_equal(sh("cp -p %s/state/queued/1001.order %s/backup.order", root, dir), 0);
	if (spool_move(sp, "1001", -1, spool_conf_state(spool_conf(sp), "processing"), &m,
	    &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sh("cp -p %s/backup.order %s/state/queued/1001.order", dir, root), 0);
	snprintf(p, sizeof p, "%s/run/kick", root);
	unlink(p);

	/* reported, and said which copy repair keeps; nothing moves */
	assert_int_equal(check(0, &f), 1);
	assert_int_equal(f.n[SPOOL_P_TWOSTATES], 1);
	assert_non_null(strstr(f.text, "two-states 1001 state/*/1001.order: in queued and "
	    "processing; its history has it in processing, whose copy check --repair keeps"));
	assert_int_equal(spool_locate(sp, "1001", &at), 2);
	assert_int_equal(stat(p, &st), -1);

	assert_int_equal(check(1, &f), 1);
	assert_int_equal(f.repaired[SPOOL_P_TWOSTATES], 1);
	assert_int_equal(spool_locate(sp, "1001", &at), 1);
	assert_string_equal(spool_conf(sp)->states[at].name, "processing");
	/* the other copy is in corrupt/, with a reason saying which and by whom */
	assert_int_equal(sh("cmp -s %s/backup.order %s/corrupt/1001.order", dir, root), 0);
	assert_int_equal(sh("grep -q '^state/queued/1001.order: a second copy of order 1001, "
	    "which stays in processing.*spoolctl check --repair' %s/corrupt/1001.order.reason",
	    root), 0);
	/* a history line from check: from the copy that went to the one that stays */
	last_line("1001", line, sizeof line);
	assert_non_null(strstr(line, "\t1001\tcheck\tqueued\tprocessing\tin two states: the copy "
	    "in queued went to corrupt/1001.order; the order stays in processing"));
	/* a running spoold is asked to look again */
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(check(0, &f), 0);
}

/* An admin's cp where mv was meant: the history has the original's state. */
static void
test_two_states_cp(void **state)
{
	struct found f;
	int at;

	(void)state;
	assert_int_equal(sh("cd %s && cp state/queued/1001.order state/processing/", root), 0);
	assert_int_equal(check(1, &f), 1);
	assert_int_equal(f.repaired[SPOOL_P_TWOSTATES], 1);
	assert_int_equal(spool_locate(sp, "1001", &at), 1);
	assert_string_equal(spool_conf(sp)->states[at].name, "queued");
	assert_int_equal(sh("test -f %s/corrupt/1001.order", root), 0);
	/* a second time, the quarantined copy gets a name of its own */
	assert_int_equal(sh("cd %s && cp state/queued/1001.order state/failed/", root), 0);
	assert_int_equal(check(1, &f), 1);
	assert_int_equal(sh("test -f %s/corrupt/1001.order.1 && test -f %s/corrupt/1001.order.1.reason",
	    root, root), 0);
	assert_int_equal(check(0, &f), 0);
}

/* When the history names none of the states, a person chooses: report only. */
static void
test_two_states_neither(void **state)
{
	struct found f;
	int at;

	(void)state;
	/* moved by hand with no history line, then copied */
	assert_int_equal(sh("cd %s && mv state/queued/1001.order state/failed/ && "
	    "cp state/failed/1001.order state/shipping/", root), 0);
	assert_int_equal(check(1, &f), 1);
	assert_int_equal(f.n[SPOOL_P_TWOSTATES], 1);
	assert_int_equal(f.repaired[SPOOL_P_TWOSTATES], 0);
	assert_non_null(strstr(f.text, "in shipping and failed; its history names neither, but "
	    "queued: a person must choose"));
	assert_int_equal(spool_locate(sp, "1001", &at), 2);
	assert_int_equal(sh("test -z \"$(ls -A %s/corrupt)\"", root), 0);
	assert_int_equal(sh("test ! -e %s/run/kick", root), 0);
}

/*
 * Modes come from the spool: whatever the umask, what init and submit make is
 * setgid and group rwx (folders) and group read-write (files).
 */
static void
test_modes_whatever_umask(void **state)
{
	static const struct { const char *rel; mode_t mode; } want[] = {
		{ ".", 02770 },
		{ "state/queued", 02770 },
		{ "outbox/new", 02770 },
		{ "spool.conf", 0660 },
		{ "history", 0660 },
		{ "run/repair.lock", 0660 },
		{ "orders/1001", 02770 },
		{ "orders/1001/history", 0660 },
		{ "orders/1001/order.xml", 0660 },
		{ "orders/1001/items", 02770 },
		{ "orders/1001/items/1", 02770 },
		{ "orders/1001/items/1/upload.xml", 0660 },
		{ "state/queued/1001.order", 0660 },
	};
	struct found f;
	mode_t old, m;
	size_t i;

	(void)state;
	spool_unmake(sp, dir);
	old = umask(077);
	dir = tmpdir_make();
	snprintf(root, sizeof root, "%s/spool", dir);
	sp = spool_make(dir, "print");
	submit_example(sp, dir, "print", "1001", "b", "admin:t");
	umask(old);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if ((m = mode_of(want[i].rel)) != want[i].mode)
			fail_msg("%s: mode %04o, want %04o", want[i].rel, (unsigned)m,
			    (unsigned)want[i].mode);
	assert_int_equal(check(0, &f), 0);
}

/* init --group: every folder gets the group, and what is made later too. */
static void
test_init_group(void **state)
{
	static const char *const in_group[] = { ".", "state/queued", "outbox/failed",
		"orders/1001/items/1/upload.xml", "state/queued/1001.order" };
	struct spool_err err;
	struct found f;
	const char *text;
	size_t len, i;
	gid_t g;

	(void)state;
	if (geteuid() != 0)
		skip();
	spool_unmake(sp, dir);
	dir = tmpdir_make();
	snprintf(root, sizeof root, "%s/spool", dir);
	text = spool_shipped("workflows/print.conf", &len);
	assert_int_equal(spool_init_group(root, "print", text, len, 65534, &err), 0);
	assert_int_equal(spool_open(root, 0, &sp, &err), 0);
	submit_example(sp, dir, "print", "1001", "b", "admin:t");
	for (i = 0; i < sizeof in_group / sizeof in_group[0]; i++)
		if ((g = group_of(in_group[i])) != 65534)
			fail_msg("%s: group %u, want 65534", in_group[i], (unsigned)g);
	assert_int_equal(check(0, &f), 0);
	/* a spool there already is refused, whatever the group */
	assert_int_equal(spool_init_group(root, "print", text, len, 0, &err), -1);
	assert_int_equal(errno, EEXIST);
}

/* What strayed from the spool's modes and group is reported, and mended on repair. */
static void
test_modes_repair(void **state)
{
	static const char *const said[] = {
		/* (chmod 0755 keeps a folder's setgid bit) */
		"mode - state/queued: mode 2755, want 2775 "
		    "(setgid, group rwx)\n",
		"mode - .: 1 entry is not of the spool's mode "
		    "(history, mode 0640, want 0660 (group read-write))",
		"mode 1001 orders/1001: 4 entries are not of the spool's "
		    "mode",
		"group 1001 orders/1001: 1 entry is not of the spool's group "
		    "(order.xml, group nogroup, not the spool's group root)",
		"group - outbox/sent: group nogroup, not the spool's group "
		    "root",
		"mode - outbox/sent: 1 entry is not of the spool's mode "
		    "(m.eml, mode 0644, want 0664",
	};
	struct found f;
	size_t i;

	(void)state;
	if (geteuid() != 0)
		skip();    /* chgrp to a group of someone else's */
	assert_int_equal(sh("cd %s && chmod 0755 state/queued orders && chmod g-w history "
	    "orders/1001/history orders/1001/items/1/upload.xml && chmod g-s orders/1001/items && "
	    "chgrp 65534 orders/1001/order.xml outbox/sent && "
	    "umask 022 && echo x >outbox/sent/m.eml && mkdir orders/1001/notes", root), 0);
	assert_int_equal(check(0, &f), 8);
	/* orders, state/queued, the files of the root, of outbox/sent and of orders/1001 */
	assert_int_equal(f.n[SPOOL_P_MODE], 5);
	/* outbox/sent itself, its file (made there after), order.xml */
	assert_int_equal(f.n[SPOOL_P_GROUP], 3);
	assert_int_equal(f.n[SPOOL_P_MISSINGDIR], 0);
	for (i = 0; i < sizeof said / sizeof said[0]; i++)
		if (strstr(f.text, said[i]) == NULL)
			fail_msg("the report does not say \"%s\":\n%s", said[i], f.text);
	assert_false(there("run/kick"));

	assert_int_equal(check(1, &f), 8);
	assert_int_equal(f.repaired[SPOOL_P_MODE], 5);
	assert_int_equal(f.repaired[SPOOL_P_GROUP], 3);
	assert_int_equal(mode_of("state/queued"), 02775);
	assert_int_equal(mode_of("orders/1001/items"), 02770);
	assert_int_equal(mode_of("orders/1001/notes"), 02775);
	assert_int_equal(mode_of("orders/1001/history"), 0660);
	assert_int_equal(group_of("orders/1001/order.xml"), 0);
	assert_int_equal(group_of("outbox/sent"), 0);
	assert_int_equal(mode_of("outbox/sent"), 02770);
	assert_int_equal(mode_of("outbox/sent/m.eml"), 0664);
	assert_int_equal(group_of("outbox/sent/m.eml"), 0);
	assert_int_equal(mode_of("orders"), 02775);
	assert_int_equal(mode_of("history"), 0660);
	assert_true(there("run/kick"));
	assert_int_equal(check(0, &f), 0);
}

/* A symlink in an order's folder is not followed, and what it points to is not touched. */
static void
test_modes_symlink(void **state)
{
	struct found f;
	char p[4400];
	struct stat st;

	(void)state;
	snprintf(p, sizeof p, "%s/outside", dir);
	assert_int_equal(sh("echo x >%s && chmod 0600 %s && ln -s %s %s/orders/1001/link", p, p, p,
	    root), 0);
	assert_int_equal(check(1, &f), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_damage_and_repair, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_link_leftover, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_repair_lock, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_quarantine_names, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_two_states_history, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_two_states_cp, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_two_states_neither, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_modes_whatever_umask, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_init_group, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_modes_repair, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_modes_symlink, setup, teardown_spool),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
