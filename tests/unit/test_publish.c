/* Unit tests: the publish routine, mkdir, rmtree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

static int tfd;

static int
setup(void **state)
{
	char p[4096];

	setup_dir(state);
	snprintf(p, sizeof p, "%s/tmp", dir);
	mkdir(p, 0700);
	tfd = open(p, O_RDONLY | O_DIRECTORY);
	return 0;
}

static int
teardown(void **state)
{
	close(tfd);
	return teardown_dir(state);
}

/* Entries in dir/sub ("" for dir itself). */
static int
count(const char *sub)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	return dir_count(p);
}

/* The file name in dir holds want. */
static void
text_is(const char *name, const char *want)
{
	char *s = file_read(dfd, name, NULL);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_publish_whole(void **state)
{
	(void)state;
	assert_int_equal(spool_publish(dfd, "a.txt", tfd, "hello\n", 6, NULL), 0);
	text_is("a.txt", "hello\n");
	/* replace by default */
	assert_int_equal(spool_publish(dfd, "a.txt", tfd, "bye\n", 4, NULL), 0);
	text_is("a.txt", "bye\n");
	/* nothing left over in tmp/ */
	assert_int_equal(count("tmp"), 0);
}

static void
test_publish_noreplace(void **state)
{
	struct spool_pub opt = { .flags = SPOOL_PUB_NOREPLACE };

	(void)state;
	assert_int_equal(spool_publish(dfd, "b.txt", -1, "one", 3, &opt), 0);
	assert_int_equal(spool_publish(dfd, "b.txt", -1, "two", 3, &opt), -1);
	assert_int_equal(errno, EEXIST);
	text_is("b.txt", "one");
	/* no dot-file temp left in the folder: tmp/, a.txt, b.txt */
	assert_int_equal(count(""), 3);
}

static void
test_publish_mtime_and_mode(void **state)
{
	struct timespec mt = { 1700000000, 0 };
	struct spool_pub opt = { .mtime = &mt, .mode = 0600 };
	struct stat st;

	(void)state;
	assert_int_equal(spool_publish(dfd, "c.txt", tfd, "x", 1, &opt), 0);
	assert_int_equal(fstatat(dfd, "c.txt", &st, 0), 0);
	assert_int_equal(st.st_mtime, 1700000000);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_publish_fd(void **state)
{
	char src[4096];
	int fd;

	(void)state;
	snprintf(src, sizeof src, "%s/src", dir);
	file_write(src, "copied data\n");
	fd = open(src, O_RDONLY);
	assert_int_equal(spool_publish_fd(dfd, "d.txt", tfd, fd, NULL), 0);
	close(fd);
	text_is("d.txt", "copied data\n");
	assert_int_equal(spool_publish_fd(dfd, "e.txt", tfd, -1, NULL), -1);
	assert_int_equal(errno, EBADF);
}

/* Every failing call leaves the target as it was and no temporary file behind. */
static void
test_publish_faults(void **state)
{
	char *s;
	long at;
	int err, r;

	(void)state;
	assert_int_equal(spool_publish(dfd, "f.txt", tfd, "old", 3, NULL), 0);
	for (at = 1;; at++) {
		fault_arm(at, EIO);
		r = spool_publish(dfd, "f.txt", tfd, "new", 3, NULL);
		err = errno;
		fault_disarm();
		s = file_read(dfd, "f.txt", NULL);
		if (!fault.hit) {
			assert_int_equal(r, 0);
			assert_string_equal(s, "new");
			free(s);
			break;
		}
		assert_int_equal(r, -1);
		assert_int_equal(err, EIO);
		/* as it was, or (the directory fsync after the rename failed) as intended */
		if (strcmp(s, "old") != 0) {
			assert_string_equal(s, "new");
			assert_string_equal(fault.hit_name, "fsync");
		}
		free(s);
		assert_int_equal(count("tmp"), 0);
		assert_int_equal(spool_publish(dfd, "f.txt", tfd, "old", 3, NULL), 0);
	}
	assert_true(at > 5);
}

static void
test_mkdir_rmtree(void **state)
{
	char p[4096], q[4096], outside[4096];
	struct stat st;

	(void)state;
	assert_int_equal(spool_mkdir(dfd, "sub", 0700), 0);
	assert_int_equal(spool_mkdir(dfd, "sub", 0700), 0); /* exists: fine */
	file_write(strcat(strcpy(p, dir), "/file"), "x");
	assert_int_equal(spool_mkdir(dfd, "file", 0700), -1);
	assert_int_equal(errno, EEXIST);
	/* rmtree removes a tree but never follows a symlink out of it */
	snprintf(outside, sizeof outside, "%s/outside", dir);
	file_write(outside, "keep me");
	snprintf(p, sizeof p, "%s/sub/a/b", dir);
	sh("mkdir -p '%s' && echo hi > '%s/f' && ln -s '%s' '%s/sub/link' && ln -s '%s' '%s/sub/dirlink'",
	    p, p, outside, dir, dir, dir);
	assert_int_equal(spool_rmtree(dfd, "sub"), 0);
	assert_int_equal(fstatat(dfd, "sub", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(stat(outside, &st), 0);
	snprintf(q, sizeof q, "%s/tmp", dir);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(spool_rmtree(dfd, "absent"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_whole),
		cmocka_unit_test(test_publish_noreplace),
		cmocka_unit_test(test_publish_mtime_and_mode),
		cmocka_unit_test(test_publish_fd),
		cmocka_unit_test(test_publish_faults),
		cmocka_unit_test(test_mkdir_rmtree),
	};
	return cmocka_run_group_tests_name("publish", tests, setup, teardown);
}
