/*
 * Child processes: exec handlers and submissions from incoming/.  A child runs in
 * its own process group with a clean environment, /dev/null for stdin and stdout,
 * and its stderr in a pipe that the loop reads without blocking (the first 4 KiB
 * are kept, the rest drained).  A deadline kills the whole group.  The loop never
 * waits for a child: SIGCHLD arrives through the signalfd and jobs_reap collects.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

static void job_event(struct daemon *d, unsigned i);

/* A free slot, made ready for a job of kind about id (an order, or a bundle's name). */
static struct job *
slot(struct daemon *d, enum job_kind kind, const char *id, job_done_fn *done)
{
	struct job *j;
	int i;

	for (i = 0; i < JOBS_MAX && d->jobs[i].pid != 0; i++)
		;
	if (i == JOBS_MAX)
		return NULL;
	j = &d->jobs[i];
	memset(j, 0, sizeof *j);
	j->kind = kind;
	j->done = done;
	snprintf(j->id, sizeof j->id, "%s", id);
	return j;
}

struct job *
job_find(struct daemon *d, const char *id)
{
	int i;

	/* asked several times a look: most looks find no job running at all */
	if (d->njobs == 0)
		return NULL;
	for (i = 0; i < JOBS_MAX; i++)
		if (d->jobs[i].pid != 0 && d->jobs[i].kind == JOB_EXEC &&
		    strcmp(d->jobs[i].id, id) == 0)
			return &d->jobs[i];
	return NULL;
}

/*
 * In the child: its own process group, the standard descriptors, default signals.
 * keep >= 0: only that descriptor stays open, as 3 (a handler gets nothing of ours);
 * keep < 0: the spool's descriptors stay (our own code runs on in the child).
 */
static void
child_setup(int errw, pid_t parent, int keep)
{
	sigset_t none;
	int null;

	setpgid(0, 0);
	/* a handler does not outlive a spoold killed with SIGKILL */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(70);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((null = open("/dev/null", O_RDWR)) < 0)
		_exit(70);
	dup2(null, 0);
	dup2(null, 1);
	dup2(errw, 2);
	if (keep >= 0) {
		dup2(keep, 3);
		close_range(4, ~0U, 0);
	}
}

/* Fork with a stderr pipe watched by epoll; returns the child's pid in the parent. */
static pid_t
start(struct daemon *d, struct job *j, int *errw, pid_t *parent)
{
	int p[2];
	pid_t pid;

	*parent = getpid();
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		lock_drop(d);
		*errw = p[1];
		return 0;
	}
	close(p[1]);
	/* also here, so that kill(-pid) works even before the child has run */
	setpgid(pid, pid);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->pid = pid;
	j->errfd = p[0];
	j->outlen = 0;
	j->out[0] = '\0';
	j->killed = 0;
	loop_add(d, j->errfd, job_event, (unsigned)(j - d->jobs));
	d->njobs++;
	return pid;
}

struct job *
job_start_exec(struct daemon *d, const struct spawn *p, job_builtin_fn *builtin,
    job_done_fn *done)
{
	const char *id = p->id;
	const struct spool_state *s = &d->conf->states[p->state];
	const struct spool_action *a = &s->actions[p->step];
	char *argv[40], *envp[12], env[11][4200];
	struct job *j;
	int errw = -1, pfd, i, n = 0;
	pid_t pid, parent;

	if ((j = slot(d, JOB_EXEC, id, done)) == NULL)
		return NULL;
	snprintf(j->state, sizeof j->state, "%s", s->name);
	j->step = p->step;
	j->visit = p->visit;
	j->run = p->run;
	j->deadline = time(NULL) + s->timeout;
	if ((pid = start(d, j, &errw, &parent)) < 0) {
		log_order(LOG_L_WARN, id, "cannot start %s: %s",
		    a->kind == SPOOL_ACT_EXEC ? a->argv[0] : "a built-in action", strerror(errno));
		return NULL;
	}
	if (pid > 0)
		return j;
	if (a->kind != SPOOL_ACT_EXEC) {
		/* built in: the child works through spoold's own descriptors of the spool */
		child_setup(errw, parent, -1);
		_exit(builtin(d, id, p->state, a));
	}
	/* the child: the order's folder as working directory, and who it is in env */
	pfd = openat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (pfd < 0) {
		dup2(errw, 2);
		fprintf(stderr, "cannot enter %s: %s\n", SPOOL_NAME(SPOOL_F_ORDER_DIR, id),
		    strerror(errno));
		_exit(70);
	}
	child_setup(errw, parent, pfd);
	if (fchdir(3) < 0) {
		fprintf(stderr, "cannot enter %s: %s\n", SPOOL_NAME(SPOOL_F_ORDER_DIR, id),
		    strerror(errno));
		_exit(70);
	}
	close(3);
	snprintf(env[n], sizeof env[n], "SPOOL_DIR=%s", d->path), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_ORDER=%s", id), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_ORDER_DIR=%s/%s", d->path,
	    SPOOL_NAME(SPOOL_F_ORDER_DIR, id)), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_STATE=%s", s->name), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_WORKFLOW=%s", d->conf->workflow), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_TRY=%d", p->try), n++;
	snprintf(env[n], sizeof env[n], "SPOOL_NODE=%s", d->node), n++;
	snprintf(env[n], sizeof env[n], "PATH=/usr/local/bin:/usr/bin:/bin"), n++;
	snprintf(env[n], sizeof env[n], "LC_ALL=C.UTF-8"), n++;
	for (i = 0; i < n; i++)
		envp[i] = env[i];
	envp[n] = NULL;
	/* argv: the handler, its words from spool.conf, then the order id */
	for (i = 0; i < a->argc && i < 37; i++)
		argv[i] = a->argv[i];
	argv[i++] = (char *)id;
	argv[i] = NULL;
	execve(argv[0], argv, envp);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* The bundle in incoming/ is the order of that id already: the same order.xml. */
static int
same_order(struct daemon *d, int in, const char *name, const char *id)
{
	char a[SPOOL_ID_MAX * 2 + 16], *x = NULL, *y = NULL;
	size_t n = 0, m = 0;
	int fd, r = 0;
	FILE *f;

	snprintf(a, sizeof a, "%s/order.xml", name);
	if (!spool_id_ok(id) || (fd = openat(in, a, O_RDONLY | O_NOFOLLOW)) < 0)
		return 0;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return 0;
	}
	x = malloc(1 << 20);
	n = x != NULL ? fread(x, 1, 1 << 20, f) : 0;
	fclose(f);
	snprintf(a, sizeof a, "%s/order.xml", id);
	if ((fd = openat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), a, O_RDONLY | O_NOFOLLOW)) >= 0 &&
	    (f = fdopen(fd, "r")) != NULL) {
		y = malloc(1 << 20);
		m = y != NULL ? fread(y, 1, 1 << 20, f) : 0;
		fclose(f);
	} else if (fd >= 0)
		close(fd);
	r = x != NULL && y != NULL && n == m && memcmp(x, y, n) == 0;
	free(x);
	free(y);
	return r;
}

struct job *
job_start_incoming(struct daemon *d, const char *name, job_done_fn *done)
{
	struct spool_err err;
	struct job *j;
	char id[SPOOL_ID_MAX + 1], reason[SPOOL_ERR_MAX + 64];
	int errw = -1, in = spool_dirfd(d->sp, SPOOL_DIR_INCOMING), code;
	pid_t pid, parent;

	if ((j = slot(d, JOB_INCOMING, name, done)) == NULL)
		return NULL;
	j->deadline = time(NULL) + 3600;
	if ((pid = start(d, j, &errw, &parent)) < 0)
		return NULL;
	if (pid > 0)
		return j;
	/* the child: copying a bundle may take long; the loop goes on meanwhile */
	child_setup(errw, parent, -1);
	id[0] = '\0';
	if (spool_submit(d->sp, in, name, NULL, "store", id, NULL, &err) == 0 ||
	    (errno == EEXIST && same_order(d, in, name, id))) {
		/* submitted; or submitted before a crash kept us from removing the bundle */
		spool_rmtree(in, name);
		spool_fsync_dir(in);
		fprintf(stderr, "%s\n", id);
		_exit(0);
	}
	code = errno == ENOSPC || errno == EDQUOT || errno == EIO || errno == EAGAIN ? 75 : 65;
	if (code == 65) {
		snprintf(reason, sizeof reason, "%s: refused: %s",
		    SPOOL_NAME(SPOOL_F_INCOMING, name), err.msg);
		if (spool_quarantine(d->sp, in, name, reason, NULL, 0) < 0)
			code = 75;
	}
	fprintf(stderr, "%s\n", err.msg);
	_exit(code);
}

/* Keep what a job says on its stderr. */
static void
job_read(struct daemon *d, struct job *j)
{
	char buf[4096];
	ssize_t n;
	size_t room;

	if (j->errfd < 0)
		return;
	for (;;) {
		n = read(j->errfd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		/* keep the first ERR_OUT_MAX bytes; the rest is read and dropped */
		room = ERR_OUT_MAX - j->outlen;
		if (room > (size_t)n)
			room = (size_t)n;
		memcpy(j->out + j->outlen, buf, room);
		j->outlen += room;
		j->out[j->outlen] = '\0';
	}
	loop_del(d, j->errfd);
	close(j->errfd);
	j->errfd = -1;
}

/* A job's stderr pipe is readable (registered with the loop). */
static void
job_event(struct daemon *d, unsigned i)
{
	job_read(d, &d->jobs[i]);
}

void
jobs_reap(struct daemon *d)
{
	struct job *j;
	siginfo_t si;
	int status, i;

	for (;;) {
		/*
		 * Peek first: while the child is a zombie its pid cannot be reused, so its
		 * whole group (a handler's own children too) can be killed safely.
		 */
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			break;
		kill(-si.si_pid, SIGKILL);
		if (waitpid(si.si_pid, &status, 0) < 0)
			break;
		if (si.si_pid == d->mail_pid) {
			d->hooks.mail_done(d, status);
			continue;
		}
		for (i = 0, j = NULL; i < JOBS_MAX; i++)
			if (d->jobs[i].pid == si.si_pid) {
				j = &d->jobs[i];
				break;
			}
		if (j == NULL)
			continue;
		/* what it wrote before it died */
		job_read(d, j);
		if (j->errfd >= 0) {
			loop_del(d, j->errfd);
			close(j->errfd);
			j->errfd = -1;
		}
		d->njobs--;
		j->done(d, j, status);
		j->pid = 0;
	}
}

void
job_cancel(struct daemon *d, struct job *j)
{
	(void)d;
	if (j->pid > 0 && !j->killed) {
		j->killed = 2;
		kill(-j->pid, SIGKILL);
	}
}

void
jobs_expire(struct daemon *d, time_t now)
{
	int i;

	for (i = 0; i < JOBS_MAX; i++) {
		struct job *j = &d->jobs[i];
		if (j->pid > 0 && !j->killed && j->deadline <= now) {
			j->killed = 1;
			kill(-j->pid, SIGKILL);
		}
	}
}

time_t
jobs_next_deadline(const struct daemon *d)
{
	time_t t = 0;
	int i;

	for (i = 0; i < JOBS_MAX; i++) {
		const struct job *j = &d->jobs[i];
		if (j->pid > 0 && !j->killed && (t == 0 || j->deadline < t))
			t = j->deadline;
	}
	return t;
}
