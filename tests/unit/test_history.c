/* Unit tests: history lines, escaping, concurrent appenders, and failed writes. */
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

static struct spool_event
event(const char *id, const char *comment)
{
	struct spool_event ev;

	memset(&ev, 0, sizeof ev);
	ev.time = 1763900000;
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.actor, sizeof ev.actor, "printer");
	snprintf(ev.from, sizeof ev.from, "queued");
	snprintf(ev.to, sizeof ev.to, "failed");
	snprintf(ev.comment, sizeof ev.comment, "%s", comment);
	return ev;
}

static void
test_line_roundtrip(void **state)
{
	const char *hostile = "One of the pages is missing!<br/>This is line2\n"
	    "2026-11-23T00:00:00Z\t1001\tadmin\tqueued\tclosed\tforged\r\n\\x41 \x01\xff end";
	struct spool_event ev = event("1001", hostile), back;
	char *buf, *nl;
	size_t len;

	(void)state;
	assert_int_equal(spool_history_append(dfd, "h1", &ev, 0), 0);
	buf = file_read(dfd, "h1", &len);
	/* one line, whatever the comment held */
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - buf) + 1, len);
	assert_null(strchr(buf, '\r'));
	assert_non_null(strstr(buf, "2025-11-23T12:13:20Z\t1001\tprinter\tqueued\tfailed\t"));
	*nl = '\0';
	assert_int_equal(spool_event_parse(buf, &back), 0);
	/* as it was, but for the byte that is not UTF-8, which reads back as U+FFFD */
	assert_non_null(strstr(buf, "\\x01\xef\xbf\xbd end"));
	assert_string_equal(back.comment, "One of the pages is missing!<br/>This is line2\n"
	    "2026-11-23T00:00:00Z\t1001\tadmin\tqueued\tclosed\tforged\r\n\\x41 \x01\xef\xbf\xbd end");
	assert_string_equal(back.from, "queued");
	assert_int_equal(back.time, 1763900000);
	free(buf);
}

static void
test_parse_rejects(void **state)
{
	struct spool_event ev;

	(void)state;
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t1\ta\tb\tc\td", &ev), 0);
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t1\ta\tb\tc", &ev), -1);
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t1\ta\tb\tc\td\te", &ev), -1);
	assert_int_equal(spool_event_parse("yesterday\t1\ta\tb\tc\td", &ev), -1);
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t1\ta\tb\tc\tbad \\q", &ev), -1);
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t1\ta\tb\tc\t\\x4", &ev), -1);
	assert_int_equal(spool_event_parse("2026-11-23T12:13:20Z\t-\t-\t-\t-\t", &ev), 0);
	assert_string_equal(ev.from, "");
}

/* Eight processes append 300 lines each at once: every line arrives whole. */
static void
test_concurrent_appenders(void **state)
{
	enum { PROCS = 8, LINES = 300 };
	char *buf, *p, *nl, comment[1024];
	int counts[PROCS] = { 0 }, i, k, status;
	struct spool_event ev;
	size_t len;
	pid_t pid;

	(void)state;
	for (i = 0; i < PROCS; i++) {
		if ((pid = fork()) == 0) {
			/* long lines make a torn write likely if the writer were wrong */
			for (k = 0; k < LINES; k++) {
				memset(comment, 'a' + i, sizeof comment - 1);
				comment[sizeof comment - 1] = '\0';
				ev = event("c", comment);
				snprintf(ev.actor, sizeof ev.actor, "p%d", i);
				if (spool_history_append(dfd, "hc", &ev, 0) < 0)
					_exit(1);
			}
			_exit(0);
		}
		assert_true(pid > 0);
	}
	for (i = 0; i < PROCS; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	buf = file_read(dfd, "hc", &len);
	for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p = nl + 1) {
		*nl = '\0';
		assert_int_equal(spool_event_parse(p, &ev), 0);
		i = ev.actor[1] - '0';
		assert_true(i >= 0 && i < PROCS);
		/* the comment is one process's letter, whole */
		assert_int_equal(strlen(ev.comment), 1023);
		assert_int_equal(strspn(ev.comment, (char[]){ (char)('a' + i), 0 }), 1023);
		counts[i]++;
	}
	assert_ptr_equal(p, buf + len);
	for (i = 0; i < PROCS; i++)
		assert_int_equal(counts[i], LINES);
	free(buf);
}

/* A failed write is cut back: the file is as it was, never half a line. */
static void
test_failed_writes(void **state)
{
	struct spool_event ev = event("f", "a comment long enough to be cut in two halves");
	static const int errs[] = { EIO, ENOSPC };
	struct stat st;
	char *before, *after;
	size_t blen, alen;
	long at;
	size_t e;
	int r;

	(void)state;
	assert_int_equal(spool_history_append(dfd, "hf", &ev, 0), 0);
	before = file_read(dfd, "hf", &blen);
	for (e = 0; e < 2; e++)
		for (at = 1;; at++) {
			fault_arm(at, errs[e]);
			fault.short_write = 1;
			r = spool_history_append(dfd, "hf", &ev, 0);
			fault_disarm();
			after = file_read(dfd, "hf", &alen);
			/* close comes after the fsync: the line is on disk whatever it says */
			if (!fault.hit || strcmp(fault.hit_name, "close") == 0) {
				int fd = openat(dfd, "hf", O_WRONLY);
				assert_int_equal(r, 0);
				assert_int_equal(alen, blen * 2);
				free(after);
				assert_int_equal(ftruncate(fd, (off_t)blen), 0);
				close(fd);
				if (!fault.hit)
					break;
				continue;
			}
			assert_int_equal(r, -1);
			/* a short write is reported as a full disk */
			if (strcmp(fault.hit_name, "write") == 0)
				assert_int_equal(errno, ENOSPC);
			else
				assert_int_equal(errno, errs[e]);
			assert_int_equal(alen, blen);
			assert_memory_equal(before, after, blen);
			free(after);
		}
	free(before);
	/* a history file that a failed first append would have created is not left */
	fault_arm(1, EIO); /* after openat, openat(O_CREAT) and the file's mode: the lock */
	fault.only = "flock";
	assert_int_equal(spool_history_append(dfd, "fresh", &ev, 0), -1);
	fault_disarm();
	fault.only = NULL;
	assert_string_equal(fault.hit_name, "flock");
	assert_int_equal(fstatat(dfd, "fresh", &st, 0), -1);
}

static void
test_admin_actor(void **state)
{
	char buf[128];

	(void)state;
	spool_admin_actor(buf, sizeof buf);
	assert_int_equal(strncmp(buf, "admin:", 6), 0);
	assert_true(spool_id_ok(buf + 6) || strncmp(buf + 6, "uid", 3) == 0);
	if (getuid() == 0) {
		setenv("SUDO_USER", "alice", 1);
		spool_admin_actor(buf, sizeof buf);
		assert_string_equal(buf, "admin:alice");
		setenv("SUDO_USER", "eve\nroot", 1);
		spool_admin_actor(buf, sizeof buf);
		assert_null(strchr(buf, '\n'));
		unsetenv("SUDO_USER");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_concurrent_appenders),
		cmocka_unit_test(test_failed_writes),
		cmocka_unit_test(test_admin_actor),
	};
	return cmocka_run_group_tests_name("history", tests, setup_dir, teardown_dir);
}
