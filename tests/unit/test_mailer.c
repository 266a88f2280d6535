/*
 * Unit tests: spoold's mailer against a real SMTP server on loopback
 * (tests/e2e/smtpd.py, on python3-aiosmtpd), started and stopped by each test.
 * Each test makes a private spool, puts messages into outbox/new/ with libspool, runs
 * mailer_run, and checks both ends: the folders of the outbox, and what the server
 * received, with its envelope, exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "../../spoold/log.h"
#include "../../spoold/mailer.h"

#define FROM "shop@example.com"

struct fx {
	char *dir;
	char root[4200], in[4200], tempfail[4200];
	struct spool *sp;
	int rootfd;
	struct spool_mail_conf mc;
	int port;
	pid_t server;
	time_t now;
};

/* A loopback port nobody listens on right now. */
static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void
fx_make(struct fx *f)
{
	memset(f, 0, sizeof *f);
	f->dir = tmpdir_make();
	f->now = time(NULL);
	fault_install(f->now);
	f->sp = spool_make(f->dir, "pos");
	f->rootfd = spool_dirfd(f->sp, SPOOL_DIR_ROOT);
	snprintf(f->root, sizeof f->root, "%s/spool", f->dir);
	snprintf(f->in, sizeof f->in, "%s/received", f->dir);
	snprintf(f->tempfail, sizeof f->tempfail, "%s/tempfail", f->dir);
	f->port = free_port();
	f->mc.relay = "127.0.0.1";
	f->mc.port = f->port;
	f->mc.from = FROM;
	f->mc.retry = 60;
	f->mc.lifetime = 5 * 86400;
}

/* Start smtpd.py (extra: more arguments, or NULL) and wait for its ready file. */
static void
server_start(struct fx *f, const char *const *extra)
{
	const char *src = getenv("SRCDIR") != NULL ? getenv("SRCDIR") : ".";
	char script[4200], port[16], ready[4300], *argv[32];
	struct stat st;
	int i, n = 0, status;

	snprintf(script, sizeof script, "%s/tests/e2e/smtpd.py", src);
	snprintf(port, sizeof port, "%d", f->port);
	snprintf(ready, sizeof ready, "%s/smtpd.ready", f->dir);
	unlink(ready);
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--dir";
	argv[n++] = f->in;
	argv[n++] = "--ready";
	argv[n++] = ready;
	argv[n++] = "--tempfail-file";
	argv[n++] = f->tempfail;
	argv[n++] = "--max-seconds";
	argv[n++] = "120";
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	if ((f->server = fork()) == 0) {
		/* gone with the test, even when the test dies (else after --max-seconds) */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		/* Debian's python3, which sees python3-aiosmtpd (a pyenv shim may not) */
		execv("/usr/bin/python3", argv);
		_exit(127);
	}
	assert_true(f->server > 0);
	/* bounded: 20 s, then the test fails instead of hanging */
	for (i = 0; i < 2000; i++) {
		if (stat(ready, &st) == 0)
			return;
		if (waitpid(f->server, &status, WNOHANG) == f->server) {
			f->server = 0;
			fail_msg("smtpd.py exited before it was ready (status %d)", status);
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	fail_msg("smtpd.py was not ready after 20 s");
}

static void
server_stop(struct fx *f)
{
	int status;

	if (f->server > 0) {
		kill(f->server, SIGTERM);
		waitpid(f->server, &status, 0);
		f->server = 0;
	}
}

static void
fx_free(struct fx *f)
{
	server_stop(f);
	spool_close(f->sp);
	tree_rm(f->dir);
	free(f->dir);
}

/* Compose a notification for order id to rcpt and put it into outbox/new/ at time t. */
static void
put(struct fx *f, const char *id, const char *rcpt, time_t t)
{
	struct spool_mail m = { .from = FROM, .to = rcpt, .to_name = "Customer",
		.subject = "Your order", .body = "Hello\n", .date = t };
	struct spool_err err;
	char *msg;
	size_t len;

	fault_install(t);
	if (spool_mail_compose(&m, &msg, &len, &err) < 0 ||
	    spool_outbox_put(f->sp, id, msg, len, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
	free(msg);
	fault_install(f->now);
}

static int
count(struct fx *f, const char *sub)
{
	char p[4400];

	snprintf(p, sizeof p, "%s/outbox/%s", f->root, sub);
	return dir_count(p);
}

static struct mailer_summary
run(struct fx *f, time_t now)
{
	struct mailer_summary s;

	if (mailer_run(f->rootfd, -1, &f->mc, now, &s) < 0)
		fail_msg("mailer_run: %s", strerror(errno));
	return s;
}

/*
 * What the server received: how often rcpt got a message (and how often over TLS),
 * checking that every envelope is from FROM to one recipient.  Returns the number of
 * messages.
 */
static int
received_tls(struct fx *f, const char *rcpt, int *times, int *tls)
{
	char path[4600], line[1024], want[512], want_tls[512], prefix[128];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	int n = 0;

	*times = *tls = 0;
	if ((d = opendir(f->in)) == NULL)
		return 0;
	snprintf(want, sizeof want, "X-Smtpd-Envelope: from=<%s> to=<%s>\r\n", FROM, rcpt);
	snprintf(want_tls, sizeof want_tls, "X-Smtpd-Envelope: from=<%s> to=<%s> tls\r\n", FROM,
	    rcpt);
	snprintf(prefix, sizeof prefix, "X-Smtpd-Envelope: from=<%s> to=<", FROM);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", f->in, de->d_name);
		assert_non_null(fp = fopen(path, "r"));
		assert_non_null(fgets(line, sizeof line, fp));
		fclose(fp);
		if (strncmp(line, prefix, strlen(prefix)) != 0 ||
		    strchr(line, ',') != NULL)
			fail_msg("%s: unexpected envelope %s", de->d_name, line);
		if (strcmp(line, want) == 0)
			(*times)++;
		if (strcmp(line, want_tls) == 0) {
			(*times)++;
			(*tls)++;
		}
		n++;
	}
	closedir(d);
	return n;
}

static int
received(struct fx *f, const char *rcpt, int *times)
{
	int tls;

	return received_tls(f, rcpt, times, &tls);
}

/* The server has n messages in all, and rcpt was the recipient of times of them. */
static void
received_is(struct fx *f, const char *rcpt, int n, int times)
{
	int t, r = received(f, rcpt, &t);

	if (r != n || t != times)
		fail_msg("%s: %d messages, %d to it; want %d, %d", rcpt, r, t, n, times);
}

static time_t
mtime(struct fx *f, const char *rel, const char *prefix)
{
	char p[4400], q[4800];
	struct dirent *de;
	struct stat st;
	DIR *d;
	time_t t = 0;

	snprintf(p, sizeof p, "%s/outbox/%s", f->root, rel);
	assert_non_null(d = opendir(p));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(q, sizeof q, "%s/%s", p, de->d_name);
			assert_int_equal(stat(q, &st), 0);
			t = st.st_mtime;
		}
	closedir(d);
	return t;
}

/* The text of the one .reason file in outbox/failed/ whose name starts with prefix. */
static char *
reason(struct fx *f, const char *prefix)
{
	char p[4400], q[4800], *buf = NULL;
	struct dirent *de;
	size_t len;
	DIR *d;

	snprintf(p, sizeof p, "%s/outbox/failed", f->root);
	assert_non_null(d = opendir(p));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && n > 7 &&
		    strcmp(de->d_name + n - 7, ".reason") == 0) {
			snprintf(q, sizeof q, "%s/%s", p, de->d_name);
			assert_null(buf);
			assert_int_equal(read_file(AT_FDCWD, q, 4096, &buf, &len), 0);
		}
	}
	closedir(d);
	assert_non_null(buf);
	/* one line */
	assert_non_null(strchr(buf, '\n'));
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)strlen(buf));
	return buf;
}

/* ---- the tests ---------------------------------------------------------- */

/* N messages, one session: all arrive once, with the envelope, and move to sent/. */
static void
test_send_all(void **state)
{
	enum { N = 30 };
	char id[32], rcpt[64];
	struct mailer_summary s;
	struct fx f;
	int i, times;

	(void)state;
	fx_make(&f);
	server_start(&f, NULL);
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof id, "%d", 4000 + i);
		snprintf(rcpt, sizeof rcpt, "c%d@example.org", i);
		put(&f, id, rcpt, f.now - i);
	}
	assert_int_equal(count(&f, "new"), N);
	s = run(&f, f.now);
	assert_int_equal(s.sent, N);
	assert_int_equal(s.deferred + s.failed + s.errors + s.left, 0);
	assert_int_equal(s.next_due, 0);
	assert_int_equal(count(&f, "new"), 0);
	assert_int_equal(count(&f, "sent"), N);
	assert_int_equal(count(&f, "failed"), 0);
	for (i = 0; i < N; i++) {
		snprintf(rcpt, sizeof rcpt, "c%d@example.org", i);
		received_is(&f, rcpt, N, 1);
	}
	/* a second run has nothing to do */
	s = run(&f, f.now + 3600);
	assert_int_equal(s.sent + s.deferred + s.failed + s.left, 0);
	assert_int_equal(received(&f, "c0@example.org", &times), N);
	fx_free(&f);
}

/* 451: the messages stay, due later by their age; then a later run delivers them. */
static void
test_tempfail_then_deliver(void **state)
{
	struct mailer_summary s;
	struct fx f;
	int times;

	(void)state;
	fx_make(&f);
	file_write(f.tempfail, NULL);
	server_start(&f, NULL);
	put(&f, "5001", "new@example.org", f.now);
	put(&f, "5002", "older@example.org", f.now - 600);
	put(&f, "5003", "old@example.org", f.now - 86400);
	s = run(&f, f.now);
	assert_int_equal(s.deferred, 3);
	assert_int_equal(s.sent + s.failed + s.errors, 0);
	assert_int_equal(s.left, 3);
	assert_int_equal(count(&f, "new"), 3);
	assert_int_equal(count(&f, "sent"), 0);
	assert_int_equal(received(&f, "new@example.org", &times), 0);
	/* the delay is the age: at least retry, at most an hour; ls -l shows it */
	assert_int_equal(mtime(&f, "new", "5001."), f.now + 60);
	assert_int_equal(mtime(&f, "new", "5002."), f.now + 600);
	assert_int_equal(mtime(&f, "new", "5003."), f.now + 3600);
	assert_int_equal(s.next_due, f.now + 60);
	/* before it is due, nothing is tried */
	s = run(&f, f.now + 59);
	assert_int_equal(s.sent + s.deferred + s.failed, 0);
	assert_int_equal(s.left, 3);
	/* due again, still refused: the delay has doubled */
	s = run(&f, f.now + 60);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(mtime(&f, "new", "5001."), f.now + 60 + 60);
	/* the server takes mail again */
	unlink(f.tempfail);
	s = run(&f, f.now + 3600);
	assert_int_equal(s.sent, 3);
	assert_int_equal(s.deferred + s.failed + s.left, 0);
	assert_int_equal(count(&f, "sent"), 3);
	received_is(&f, "new@example.org", 3, 1);
	received_is(&f, "older@example.org", 3, 1);
	received_is(&f, "old@example.org", 3, 1);
	fx_free(&f);
}

/* No server at all: deferred, nothing lost. */
static void
test_no_server(void **state)
{
	struct mailer_summary s;
	struct fx f;

	(void)state;
	fx_make(&f);
	put(&f, "6001", "a@example.org", f.now);
	put(&f, "6002", "b@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.deferred, 2);
	assert_int_equal(s.sent + s.failed + s.errors, 0);
	assert_int_equal(count(&f, "new"), 2);
	assert_true(mtime(&f, "new", "6001.") > f.now);
	assert_true(mtime(&f, "new", "6002.") > f.now);
	fx_free(&f);
}

/* Past its lifetime a message that cannot go fails, with a reason. */
static void
test_lifetime(void **state)
{
	struct mailer_summary s;
	struct fx f;
	char *why;

	(void)state;
	fx_make(&f);
	put(&f, "7001", "a@example.org", f.now - 6 * 86400);
	put(&f, "7002", "b@example.org", f.now - 4 * 86400);
	s = run(&f, f.now);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(count(&f, "new"), 1);
	assert_int_equal(count(&f, "failed"), 2);        /* the message and its reason */
	assert_int_not_equal(mtime(&f, "failed", "7001."), 0);
	why = reason(&f, "7001.");
	assert_non_null(strstr(why, "undelivered after 6d"));
	assert_non_null(strstr(why, "127.0.0.1"));
	free(why);
	/* the last try of the other comes when its lifetime ends, not later */
	assert_int_equal(mtime(&f, "new", "7002."), f.now + 3600);
	s = run(&f, f.now + 86400 - 1);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(mtime(&f, "new", "7002."), f.now + 86400);
	s = run(&f, f.now + 86400);
	assert_int_equal(s.failed, 1);
	assert_int_equal(count(&f, "new"), 0);
	assert_int_equal(count(&f, "failed"), 4);
	fx_free(&f);
}

/* 5xx for a recipient fails that message at once; the others of the session go. */
static void
test_reject(void **state)
{
	struct mailer_summary s;
	struct fx f;
	char *why;

	(void)state;
	fx_make(&f);
	server_start(&f, NULL);
	put(&f, "8001", "good@example.org", f.now);
	put(&f, "8002", "reject-me@example.org", f.now);
	put(&f, "8003", "also-good@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.sent, 2);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.deferred + s.errors + s.left, 0);
	assert_int_equal(count(&f, "sent"), 2);
	assert_int_equal(count(&f, "failed"), 2);
	received_is(&f, "good@example.org", 2, 1);
	received_is(&f, "also-good@example.org", 2, 1);
	received_is(&f, "reject-me@example.org", 2, 0);
	/* and the rejected one's reason gives the server's answer */
	why = reason(&f, "8002.");
	assert_non_null(strstr(why, "550"));
	assert_non_null(strstr(why, "recipient rejected"));
	free(why);
	fx_free(&f);
}

/* AUTH with the password from password_file; a wrong one is a temporary failure. */
static void
test_auth(void **state)
{
	static const char *const auth[] = { "--auth-user", "shop", "--auth-password", "s3cret",
		NULL };
	struct mailer_summary s;
	char pw[4400];
	struct fx f;
	int times;

	(void)state;
	fx_make(&f);
	server_start(&f, auth);
	snprintf(pw, sizeof pw, "%s/password", f.root);
	file_write(pw, "wrong\n");
	f.mc.user = "shop";
	f.mc.password_file = "password";
	put(&f, "9001", "a@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(received(&f, "a@example.org", &times), 0);
	file_write(pw, "s3cret\n");
	s = run(&f, f.now + 60);
	assert_int_equal(s.sent, 1);
	received_is(&f, "a@example.org", 1, 1);
	/* an unreadable password file defers too, and says so */
	put(&f, "9002", "b@example.org", f.now);
	f.mc.password_file = "absent";
	s = run(&f, f.now + 120);
	assert_int_equal(s.deferred, 1);
	fx_free(&f);
}

/* STARTTLS required and not offered: a temporary failure, and nothing sent in clear. */
static void
test_starttls_required(void **state)
{
	struct mailer_summary s;
	struct fx f;
	int times;

	(void)state;
	fx_make(&f);
	server_start(&f, NULL);
	f.mc.starttls = SPOOL_STARTTLS_REQUIRED;
	put(&f, "9101", "a@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(s.sent, 0);
	assert_int_equal(received(&f, "a@example.org", &times), 0);
	/* opportunistic TLS goes on in clear text when the relay has none */
	f.mc.starttls = SPOOL_STARTTLS_YES;
	s = run(&f, f.now + 60);
	assert_int_equal(s.sent, 1);
	fx_free(&f);
}

/*
 * STARTTLS with a self-signed certificate: yes encrypts without verifying, in session
 * after session; required insists on a certificate that verifies, and defers.
 */
static void
test_starttls(void **state)
{
	char cert[4300], key[4300];
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	struct mailer_summary s;
	struct fx f;
	int times, tls;

	(void)state;
	fx_make(&f);
	snprintf(cert, sizeof cert, "%s/cert.pem", f.dir);
	snprintf(key, sizeof key, "%s/key.pem", f.dir);
	if (sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout '%s' -out '%s' -days 2 -subj /CN=relay.invalid >/dev/null 2>&1", key,
	    cert) != 0)
		fail_msg("openssl cannot make a test certificate");
	server_start(&f, extra);
	f.mc.starttls = SPOOL_STARTTLS_YES;
	put(&f, "9301", "a@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.sent, 1);
	assert_int_equal(received_tls(&f, "a@example.org", &times, &tls), 1);
	assert_int_equal(times, 1);
	assert_int_equal(tls, 1);
	/* a second session in the same process */
	put(&f, "9302", "b@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.sent, 1);
	assert_int_equal(received_tls(&f, "b@example.org", &times, &tls), 2);
	assert_int_equal(tls, 1);
	/* required: the certificate does not verify */
	f.mc.starttls = SPOOL_STARTTLS_REQUIRED;
	put(&f, "9303", "c@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(s.sent, 0);
	assert_int_equal(received(&f, "c@example.org", &times), 2);
	fx_free(&f);
}

/* What is in outbox/new/ but cannot be sent fails at once; a second mailer waits. */
static void
test_bad_files_and_lock(void **state)
{
	struct mailer_summary s;
	char p[4400];
	struct fx f;
	int fd;

	(void)state;
	fx_make(&f);
	server_start(&f, NULL);
	snprintf(p, sizeof p, "%s/outbox/new/by-hand.txt", f.root);
	file_write(p, "To: a@example.org\r\n\r\nhi\r\n");
	snprintf(p, sizeof p, "%s/outbox/new/9201.%lld.1-2.eml", f.root, (long long)f.now);
	file_write(p, "Subject: no recipient\r\n\r\nhi\r\n");
	snprintf(p, sizeof p, "%s/outbox/new/9202.%lld.1-2.eml", f.root, (long long)f.now);
	file_write(p, "To: Someone <b@example.org>\nSubject: bare line feeds\n\nhi\n");
	/* a temporary file of a publish in progress is not touched */
	snprintf(p, sizeof p, "%s/outbox/new/.pub.1.2", f.root);
	file_write(p, "To: c@example.org\r\n\r\nhalf");
	s = run(&f, f.now + 10);    /* file_write gave them the mtime of now */
	assert_int_equal(s.sent, 1);
	assert_int_equal(s.failed, 2);
	assert_int_equal(count(&f, "failed"), 4);
	assert_int_equal(count(&f, "new"), 1);
	free(reason(&f, "by-hand.txt"));
	free(reason(&f, "9201."));
	/* another mailer holds the lock */
	snprintf(p, sizeof p, "%s/run/mailer.lock", f.root);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	put(&f, "9203", "d@example.org", f.now);
	assert_int_equal(mailer_run(f.rootfd, -1, &f.mc, f.now, &s), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	close(fd);
	s = run(&f, f.now);
	assert_int_equal(s.sent, 1);
	/* mail off: nothing happens */
	f.mc.relay = NULL;
	put(&f, "9204", "e@example.org", f.now);
	s = run(&f, f.now);
	assert_int_equal(s.sent + s.deferred + s.failed, 0);
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_all),
		cmocka_unit_test(test_tempfail_then_deliver),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_starttls_required),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_bad_files_and_lock),
	};
	log_init(0, 0);
	return cmocka_run_group_tests_name("mailer", tests, NULL, NULL);
}
