/* Unit tests: the files of a shared spool's nodes: names, heartbeats, claims, the leader's lock. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
	fixture_spool(1763900000, "pos");
	return 0;
}

static void
node_open_ok(const char *name)
{
	struct spool_err err;

	if (spool_node_open(sp, name, &err) < 0)
		fail_msg("node %s: %s", name, err.msg);
}

static void
test_names(void **state)
{
	struct spool_err err;
	char n64[66];

	(void)state;
	assert_true(spool_node_name_ok("h1"));
	assert_true(spool_node_name_ok("print-2.shop_a"));
	memset(n64, 'x', 64);
	n64[64] = '\0';
	assert_true(spool_node_name_ok(n64));
	n64[64] = 'x';
	n64[65] = '\0';
	assert_false(spool_node_name_ok(n64));
	assert_false(spool_node_name_ok(""));
	assert_false(spool_node_name_ok("."));
	assert_false(spool_node_name_ok(".."));
	assert_false(spool_node_name_ok("a/b"));
	assert_false(spool_node_name_ok("a b"));
	assert_false(spool_node_name_ok("h\n1"));
	assert_int_equal(spool_node_open(sp, "../x", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err.msg, "not a node's name"));
}

static int
collect(void *arg, const struct spool_node *n)
{
	struct spool_node *v = arg;
	int i;

	for (i = 0; v[i].name[0] != '\0'; i++)
		;
	v[i] = *n;
	return 0;
}

static void
test_heartbeat(void **state)
{
	struct spool_node n = { .pid = 4242, .beat = 7, .time = 1763900123 }, v[4];
	char path[512];
	struct stat st;

	(void)state;
	memset(v, 0, sizeof v);
	assert_int_equal(spool_nodes_read(sp, collect, v), 0);
	assert_int_equal(spool_node_beat(sp, &n), -1);    /* no node opened */
	node_open_ok("h1");
	/* the node's folder holds its own files from now on */
	snprintf(path, sizeof path, "%s/run/nodes/h1", spool_path(sp));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(n.name, sizeof n.name, "h1");
	assert_int_equal(spool_node_beat(sp, &n), 0);
	n.beat = 8;
	assert_int_equal(spool_node_beat(sp, &n), 0);    /* replaced, not refused */
	assert_int_equal(spool_nodes_read(sp, collect, v), 1);
	assert_string_equal(v[0].name, "h1");
	assert_int_equal(v[0].pid, 4242);
	assert_int_equal(v[0].beat, 8);
	assert_int_equal(v[0].time, 1763900123);
	assert_int_equal(v[0].leader, 0);
	n.leader = 1;
	n.beat = 9;
	assert_int_equal(spool_node_beat(sp, &n), 0);
	memset(v, 0, sizeof v);
	assert_int_equal(spool_nodes_read(sp, collect, v), 1);
	assert_int_equal(v[0].leader, 1);
	memset(v, 0, sizeof v);
	/* a heartbeat that names another node, or none, is no heartbeat */
	snprintf(path, sizeof path, "%s/run/nodes/h2", spool_path(sp));
	assert_int_equal(mkdir(path, 0770), 0);
	snprintf(path, sizeof path, "%s/run/nodes/h2/heartbeat", spool_path(sp));
	file_write(path, "node h1\npid 1\nbeat 3\ntime 5\n");
	memset(v, 0, sizeof v);
	assert_int_equal(spool_nodes_read(sp, collect, v), 1);
	file_write(path, "garbage\n");
	assert_int_equal(spool_nodes_read(sp, collect, v), 1);
	/* the journal now lives in the node's folder */
	assert_int_equal(spool_journal_make(sp), 0);
	snprintf(path, sizeof path, "%s/run/nodes/h1/journal", spool_path(sp));
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/run/journal", spool_path(sp));
	assert_int_equal(stat(path, &st), -1);
}

static int
count_claims(void *arg, const char *id, const char *node, time_t deadline)
{
	char *buf = arg;

	snprintf(buf + strlen(buf), 256 - strlen(buf), "%s=%s@%lld ", id, node,
	    (long long)deadline);
	return 0;
}

static void
test_claims(void **state)
{
	char holder[SPOOL_NODE_MAX + 1], node[SPOOL_NODE_MAX + 1], list[256] = "", path[512];
	struct spool *other;
	struct spool_err err;
	time_t deadline;

	(void)state;
	assert_int_equal(spool_claim(sp, "1001", "h1", 100, holder), -1);    /* not opened */
	node_open_ok("h1");
	assert_int_equal(spool_claim_read(sp, "1001", node, &deadline), 0);
	assert_int_equal(spool_claim(sp, "1001", "h1", 100, holder), 0);
	assert_int_equal(spool_claim_read(sp, "1001", node, &deadline), 1);
	assert_string_equal(node, "h1");
	assert_int_equal(deadline, 100);
	/* another node, through its own handle: taken, and by whom */
	if (spool_open(spool_path(sp), 0, &other, &err) < 0)
		fail_msg("%s", err.msg);
	if (spool_node_open(other, "h2", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(spool_claim(other, "1001", "h2", 200, holder), 1);
	assert_string_equal(holder, "h1");
	assert_int_equal(spool_claim(other, "1002", "h2", 200, holder), 0);
	assert_int_equal(spool_claims_read(sp, count_claims, list), 2);
	assert_non_null(strstr(list, "1001=h1@100 "));
	assert_non_null(strstr(list, "1002=h2@200 "));
	/* no temporary file is left in either node's folder */
	snprintf(path, sizeof path, "%s/run/nodes/h1/claim", spool_path(sp));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(spool_claim_drop(sp, "1001"), 0);
	assert_int_equal(spool_claim_drop(sp, "1001"), 0);    /* none: no error */
	assert_int_equal(spool_claim(other, "1001", "h2", 300, holder), 0);
	assert_int_equal(spool_claim_read(sp, "1001", node, &deadline), 1);
	assert_string_equal(node, "h2");
	/* a damaged claim is no claim of anybody's, and no id outside the folder */
	snprintf(path, sizeof path, "%s/run/claims/1003", spool_path(sp));
	file_write(path, "h1\n");
	assert_int_equal(spool_claim_read(sp, "1003", node, &deadline), -1);
	assert_int_equal(errno, EUCLEAN);
	assert_int_equal(spool_claim(sp, "../1004", "h1", 1, holder), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_claim(sp, "1004", "bad/node", 1, holder), -1);
	assert_int_equal(errno, EINVAL);
	spool_close(other);
}

static void
test_leader(void **state)
{
	struct spool_node h8 = { .name = "h8", .pid = 888, .beat = 1, .time = 5, .leader = 1 };
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char node[SPOOL_NODE_MAX + 1];
	int fd, ready[2], status;
	long pid = 0;
	pid_t child;
	char c;

	(void)state;
	assert_int_equal(spool_leader_read(sp, node, &pid), 0);
	/* a leader is another process: fcntl locks do not conflict within one */
	assert_int_equal(pipe(ready), 0);
	if ((child = fork()) == 0) {
		fd = spool_leader_open(sp);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0 || pwrite(fd, "h9 777\n", 7, 0) != 7)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(spool_leader_read(sp, node, &pid), 1);
	assert_string_equal(node, "h9");
	assert_int_equal(pid, 777);
	/* a heartbeat that says it leads wins over the file (stale on another host) */
	node_open_ok("h8");
	assert_int_equal(spool_node_beat(sp, &h8), 0);
	assert_int_equal(spool_leader_read(sp, node, &pid), 1);
	assert_string_equal(node, "h8");
	assert_int_equal(pid, 888);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	/* its lock goes with it; the file stays, and counts for nothing */
	assert_int_equal(spool_leader_read(sp, node, &pid), 0);
	close(ready[0]);
	close(ready[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown_spool),
		cmocka_unit_test_setup_teardown(test_leader, setup, teardown_spool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
