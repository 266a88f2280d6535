/* Unit tests: the users of the web back office (web/users), their passwords, and the file's locking. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

static int
setup(void **state)
{
	(void)state;
	fixture_spool(1763900000, "print");
	return 0;
}

static struct spool_user
admin(const char *name)
{
	struct spool_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	u.role = SPOOL_ROLE_ADMIN;
	return u;
}

/* A printer with the queues of a comma-separated list. */
static struct spool_user
printer(const char *name, const char *queues)
{
	struct spool_user u;
	char buf[256], *q, *s = buf;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	u.role = SPOOL_ROLE_PRINTER;
	snprintf(buf, sizeof buf, "%s", queues);
	while ((q = strsep(&s, ",")) != NULL)
		snprintf(u.queues[u.nqueues++], sizeof u.queues[0], "%s", q);
	return u;
}

static void
add_ok(const struct spool_user *u)
{
	struct spool_err err;

	if (spool_user_add(sp, u, &err) < 0)
		fail_msg("add %s: %s", u->name, err.msg);
}

static struct spool_users
read_ok(void)
{
	struct spool_users u;
	struct spool_err err;

	if (spool_users_read(sp, &u, &err) < 0)
		fail_msg("read: %s", err.msg);
	return u;
}

/* dir/spool/web/NAME, malloc'd */
static char *
web_file(const char *name)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/web/%s", spool_path(sp), name);
	return strdup(path);
}

static void
test_roundtrip(void **state)
{
	struct spool_user a = admin("alice"), b = printer("bob", "press,covers");
	const struct spool_user *f;
	struct spool_users u;

	(void)state;
	/* a spool without web/ has no users, and that is no error */
	sh("rmdir '%s/web' 2>/dev/null", spool_path(sp));
	u = read_ok();
	assert_int_equal(u.n, 0);
	spool_users_free(&u);
	add_ok(&a);
	add_ok(&b);
	u = read_ok();
	assert_int_equal(u.n, 2);
	assert_non_null(f = spool_users_find(&u, "alice"));
	assert_int_equal(f->role, SPOOL_ROLE_ADMIN);
	assert_int_equal(f->nqueues, 0);
	assert_string_equal(f->hash, "");
	assert_true(spool_user_has_queue(f, "press"));
	assert_true(spool_user_has_queue(f, "anything"));
	assert_non_null(f = spool_users_find(&u, "bob"));
	assert_int_equal(f->role, SPOOL_ROLE_PRINTER);
	assert_int_equal(f->nqueues, 2);
	assert_string_equal(f->queues[0], "press");
	assert_string_equal(f->queues[1], "covers");
	assert_true(spool_user_has_queue(f, "covers"));
	assert_false(spool_user_has_queue(f, "other"));
	assert_null(spool_users_find(&u, "carol"));
	spool_users_free(&u);
	assert_int_equal(u.n, 0);
}

static void
test_del(void **state)
{
	struct spool_user a = admin("alice"), b = printer("bob", "press");
	struct spool_err err;
	struct spool_users u;

	(void)state;
	sh("rmdir '%s/web' 2>/dev/null", spool_path(sp));
	assert_int_equal(spool_user_del(sp, "alice", &err), -1);
	assert_int_equal(errno, ENOENT);
	add_ok(&a);
	add_ok(&b);
	assert_int_equal(spool_user_del(sp, "alice", &err), 0);
	u = read_ok();
	assert_int_equal(u.n, 1);
	assert_null(spool_users_find(&u, "alice"));
	assert_non_null(spool_users_find(&u, "bob"));
	spool_users_free(&u);
	assert_int_equal(spool_user_del(sp, "alice", &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err.msg, "alice"));
	assert_int_equal(spool_user_del(sp, "Not/A/Name", &err), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_passwords(void **state)
{
	static const char *const bad[] = { "plain", "$y$", "$y$j9T$salt$", "$y$j9T$a:b$c",
		"$y$j9T$a\nb$c", "$zz$abc$def", "ab01234567890", "*0", NULL };
	struct spool_user b = printer("bob", "press");
	char h1[SPOOL_HASH_MAX], h2[SPOOL_HASH_MAX];
	const struct spool_user *f;
	struct spool_err err;
	struct spool_users u;
	int i;

	(void)state;
	add_ok(&b);
	u = read_ok();
	/* no password yet: no password lets bob in, the empty one neither */
	assert_int_equal(spool_user_verify(spool_users_find(&u, "bob"), ""), 0);
	assert_int_equal(spool_user_verify(spool_users_find(&u, "bob"), "x"), 0);
	spool_users_free(&u);
	assert_int_equal(spool_user_hash("", h1, sizeof h1, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_user_hash("right horse", h1, sizeof h1, &err), 0);
	assert_int_equal(strncmp(h1, "$y$", 3), 0);
	/* a new salt each time */
	assert_int_equal(spool_user_hash("right horse", h2, sizeof h2, &err), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(spool_user_hash("right horse", h2, 10, &err), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(spool_user_set_hash(sp, "bob", h1, &err), 0);
	u = read_ok();
	assert_non_null(f = spool_users_find(&u, "bob"));
	assert_string_equal(f->hash, h1);
	assert_int_equal(spool_user_verify(f, "right horse"), 1);
	assert_int_equal(spool_user_verify(f, "wrong horse"), 0);
	assert_int_equal(spool_user_verify(f, "right hors"), 0);
	assert_int_equal(spool_user_verify(f, ""), 0);
	spool_users_free(&u);
	for (i = 0; bad[i] != NULL; i++) {
		errno = 0;
		if (spool_user_set_hash(sp, "bob", bad[i], &err) != -1 || errno != EINVAL)
			fail_msg("hash #%d was taken", i);
	}
	assert_int_equal(spool_user_set_hash(sp, "nobody", h2, &err), -1);
	assert_int_equal(errno, ENOENT);
	/* "" takes the password away */
	assert_int_equal(spool_user_set_hash(sp, "bob", "", &err), 0);
	u = read_ok();
	assert_int_equal(spool_user_verify(spool_users_find(&u, "bob"), "right horse"), 0);
	spool_users_free(&u);
}

static void
test_bad_lines(void **state)
{
	static const struct text_case cases[] = {
		{ "alice:admin:-\n", "line 1: not NAME:ROLE:QUEUES:HASH (too few" },
		{ "# c\n\nalice:admin:-:-:x\n", "line 3: not NAME:ROLE:QUEUES:HASH (too many" },
		{ "Alice:admin:-:-\n", "line 1: not a user name" },
		{ "alice:root:-:-\n", "line 1: the role is neither" },
		{ "alice:admin:press:-\n", "line 1: an admin sees every queue" },
		{ "bob:printer:-:-\n", "line 1: a printer needs 1 to 16 queues" },
		{ "bob:printer:press,press:-\n", "line 1: a queue is given twice" },
		{ "bob:printer:press,:-\n", "line 1: a queue is not a name" },
		{ "bob:printer:a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q:-\n", "line 1: more than 16" },
		{ "bob:printer:press:secret\n", "line 1: the hash is not a crypt(3) string" },
		{ "bob:printer:press:\n", "line 1: the hash is not a crypt(3) string" },
		{ "a:admin:-:-\nb:admin:-:-\na:admin:-:-\n", "line 3: the user is there already" },
		{ "a:admin:-:-\r\n", "line 1: the hash is not" },
	};
	struct spool_users u = { NULL, 7 };
	struct spool_err err;
	char *path = web_file("users");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		file_write(path, cases[i].text);
		errno = 0;
		if (spool_users_read(sp, &u, &err) != -1 || errno != EINVAL)
			fail_msg("case %zu was read", i);
		if (strncmp(err.msg, "web/users: ", 11) != 0 || strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s', want '%s'", i, err.msg, cases[i].want);
		assert_null(u.v);
		assert_int_equal(u.n, 0);
	}
	/* comments and blank lines are fine, and the last line needs no line end */
	file_write(path, "# users\n\nalice:admin:-:-\n  \n");
	assert_int_equal(spool_users_read(sp, &u, &err), -1);
	assert_non_null(strstr(err.msg, "line 4"));
	file_write(path, "# users\n\nalice:admin:-:-\n#x\nbob:printer:press,covers:"
	    "$y$j9T$CBmYT0U6ZshUmqsv7OSq80$yYtJynd9utyNl9BiP/EP8PsVZ/pRD6SBfs5MKnafw30");
	u = read_ok();
	assert_int_equal(u.n, 2);
	assert_int_equal(spool_users_find(&u, "bob")->nqueues, 2);
	spool_users_free(&u);
	/* a change refuses to rewrite a file it cannot read, and says where */
	file_write(path, "alice:admin:-:-\nbad\n");
	{
		struct spool_user c = admin("carol");
		assert_int_equal(spool_user_add(sp, &c, &err), -1);
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err.msg, "web/users: line 2"));
	}
	free(path);
}

static void
test_refused_adds(void **state)
{
	struct spool_user a = admin("alice"), p;
	struct spool_err err;
	struct spool_users u;
	char *s, *path = web_file("users");

	(void)state;
	p = printer("bob", "press,nope");
	assert_int_equal(spool_user_add(sp, &p, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err.msg, "queue nope is not a [queue NAME]"));
	p = printer("bob", "press,press");
	assert_int_equal(spool_user_add(sp, &p, &err), -1);
	assert_int_equal(errno, EINVAL);
	p = printer("bob", "press");
	p.nqueues = 0;
	assert_int_equal(spool_user_add(sp, &p, &err), -1);
	assert_int_equal(errno, EINVAL);
	a.nqueues = 1;
	snprintf(a.queues[0], sizeof a.queues[0], "press");
	assert_int_equal(spool_user_add(sp, &a, &err), -1);
	assert_int_equal(errno, EINVAL);
	a = admin("Alice");
	assert_int_equal(spool_user_add(sp, &a, &err), -1);
	assert_int_equal(errno, EINVAL);
	a = admin("alice");
	a.role = 3;
	assert_int_equal(spool_user_add(sp, &a, &err), -1);
	assert_int_equal(errno, EINVAL);
	a = admin("alice");
	snprintf(a.hash, sizeof a.hash, "clear-text");
	assert_int_equal(spool_user_add(sp, &a, &err), -1);
	assert_int_equal(errno, EINVAL);
	u = read_ok();
	assert_int_equal(u.n, 0);
	spool_users_free(&u);
	/* a duplicate */
	a = admin("alice");
	add_ok(&a);
	p = printer("alice", "press");
	assert_int_equal(spool_user_add(sp, &p, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err.msg, "alice"));
	assert_non_null(s = file_read(AT_FDCWD, path, NULL));
	free(path);
	assert_non_null(strstr(s, "alice:admin:-:-\n"));
	assert_null(strstr(s, "alice:printer"));
	free(s);
	u = read_ok();
	assert_int_equal(u.n, 1);
	assert_int_equal(u.v[0].role, SPOOL_ROLE_ADMIN);
	spool_users_free(&u);
}

static void
test_modes_and_secrets(void **state)
{
	static const char pw[] = "Correct-Horse-Battery";
	struct spool_user a = admin("alice");
	char hash[SPOOL_HASH_MAX], *path, *s;
	struct spool_err err;
	struct stat root, st;
	int i;

	(void)state;
	sh("rmdir '%s/web' 2>/dev/null", spool_path(sp));
	umask(077);   /* the modes below come from the spool, not a umask */
	add_ok(&a);
	assert_int_equal(spool_user_hash(pw, hash, sizeof hash, &err), 0);
	assert_int_equal(spool_user_set_hash(sp, "alice", hash, &err), 0);
	umask(022);
	root = lstat_of("%s", spool_path(sp));
	st = lstat_of("%s/web", spool_path(sp));
	assert_int_equal(st.st_mode & 07777, SPOOL_DIR_MODE);
	assert_int_equal(st.st_gid, root.st_gid);
	st = lstat_of("%s/web/users", spool_path(sp));
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, root.st_gid);
	/* nothing in web/ holds the password in clear, nor a temp file is left behind */
	assert_int_equal(dir_count(path = web_file("")), 2);
	free(path);
	for (i = 0; i < 2; i++) {
		assert_non_null(s = file_read(AT_FDCWD, path = web_file(i ? "users.lock" : "users"),
		    NULL));
		assert_null(strstr(s, pw));
		assert_null(strstr(s, "Horse"));
		if (i == 0)
			assert_non_null(strstr(s, hash));
		free(s);
		free(path);
	}
}

/*
 * A change that fails at any system call leaves the file readable, as it was or as
 * wanted, and says so; only a close with nothing to lose may fail unseen.
 */
static void
test_faults(void **state)
{
	struct spool_user a = admin("alice"), c = admin("carol");
	struct spool_err err;
	struct spool_users u;
	long at;
	int r, e;

	(void)state;
	add_ok(&a);
	for (at = 1;; at++) {
		fault_arm(at, EIO);
		r = spool_user_add(sp, &c, &err);
		e = errno;
		fault_disarm();
		u = read_ok();
		if (!fault.hit) {
			assert_int_equal(r, 0);
			assert_int_equal(u.n, 2);
			spool_users_free(&u);
			break;
		}
		/* a close after reading, or of the lock, has nothing to lose */
		if (r == 0 && strcmp(fault.hit_name, "close") == 0 && u.n == 2) {
			assert_int_equal(spool_user_del(sp, "carol", &err), 0);
			spool_users_free(&u);
			continue;
		}
		if (r != -1 || e != EIO)
			fail_msg("call %ld (%s) failed, and the add said %d (%s)", at, fault.hit_name, r,
			    strerror(e));
		assert_non_null(spool_users_find(&u, "alice"));
		/* only the folder's fsync fails after the rename: carol may be in */
		if (u.n == 2)
			assert_int_equal(spool_user_del(sp, "carol", &err), 0);
		spool_users_free(&u);
	}
	assert_true(at > 3);
}

/* Two processes adding at once: the lock makes every add land. */
static void
test_concurrent(void **state)
{
	enum { PER = 25 };
	struct spool_users u;
	struct spool_user one;
	struct spool_err err;
	char name[SPOOL_NAME_MAX + 1];
	pid_t pid[2];
	int p, i, status;

	(void)state;
	for (p = 0; p < 2; p++) {
		if ((pid[p] = fork()) == 0) {
			for (i = 0; i < PER; i++) {
				snprintf(name, sizeof name, "p%d-user%d", p, i);
				one = p ? printer(name, "press") : admin(name);
				if (spool_user_add(sp, &one, &err) < 0) {
					fprintf(stderr, "%s\n", err.msg);
					_exit(1);
				}
			}
			_exit(0);
		}
		assert_true(pid[p] > 0);
	}
	for (p = 0; p < 2; p++) {
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	u = read_ok();
	assert_int_equal(u.n, 2 * PER);
	for (p = 0; p < 2; p++)
		for (i = 0; i < PER; i++) {
			snprintf(name, sizeof name, "p%d-user%d", p, i);
			if (spool_users_find(&u, name) == NULL)
				fail_msg("%s was lost", name);
		}
	spool_users_free(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_passwords, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_refused_adds, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_modes_and_secrets, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown_spool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
