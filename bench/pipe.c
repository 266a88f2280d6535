/*
 * pipe: drive and time a three-state pipeline a -> b -> c, for BENCHMARKS.md.
 *
 *	pipe feed SPOOL N RATE     move N orders from state hold into state a (as spoolctl
 *	                           would: one rename and one history line, no fsync),
 *	                           RATE per second (0: as fast as it can), and watch b and
 *	                           c with inotify.  Prints the durable orders per second
 *	                           through the pipeline (the clock stops after the last
 *	                           arrival in c and a syncfs that covers it) and the
 *	                           latency from each order's arrival in a to its move on
 *	                           to b (where spoold's entry action would start).
 *	pipe bare SPOOL N RATE     the physical limit, fed and timed the same way: instead
 *	                           of spoold, a bare inotify loop that renames a -> b -> c
 *	                           and fsyncs the three folders once per batch of events
 *	                           (group commit), with no engine and no history.  Its
 *	                           line also gives the loop's own CPU time (user and
 *	                           system, getrusage of the loop's process) from the
 *	                           moment it is ready to the end of the drain: the
 *	                           feeder's is not in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the bare loop, while pipe bare runs: its pid, and the pipe it reports its CPU time on */
static pid_t loop_pid;
static int loop_fd = -1;
static struct rusage loop_ru0;

static void
die(const char *what)
{
	fprintf(stderr, "pipe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long
number(const char *name)
{
	/* o0001234.order -> 1234 */
	return name[0] == 'o' ? atol(name + 1) : -1;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Read inotify events: arrivals in b (latency) and c (throughput). */
static void
observe(int ino, int wd_b, int wd_c, double *fed, double *lat, long n, long *in_b, long *in_c,
    double *last)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t r;
	char *p;
	long k;

	while ((r = read(ino, buf, sizeof buf)) > 0) {
		double t = now();
		for (p = buf; p < buf + r; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				fprintf(stderr, "pipe: the observer's inotify queue overflowed\n");
				exit(1);
			}
			if (ev->len == 0 || (k = number(ev->name)) < 1 || k > n)
				continue;
			if (ev->wd == wd_b && lat[k - 1] == 0 && fed[k - 1] != 0) {
				lat[k - 1] = t - fed[k - 1];
				(*in_b)++;
			} else if (ev->wd == wd_c) {
				(*in_c)++;
				*last = t;
			}
		}
	}
}

static double
tv(struct timeval t)
{
	return (double)t.tv_sec + t.tv_usec / 1e6;
}

/*
 * Ask the bare loop for its CPU time (SIGTERM: it answers with its rusage and exits)
 * and take away what it had used when it said it was ready.  0, or -1 if no answer
 * came within 10 s.
 */
static int
loop_cpu(double *user, double *sys)
{
	struct pollfd pfd = { loop_fd, POLLIN, 0 };
	struct rusage ru;

	if (kill(loop_pid, SIGTERM) < 0 || poll(&pfd, 1, 10000) != 1 ||
	    read(loop_fd, &ru, sizeof ru) != (ssize_t)sizeof ru)
		return -1;
	*user = tv(ru.ru_utime) - tv(loop_ru0.ru_utime);
	*sys = tv(ru.ru_stime) - tv(loop_ru0.ru_stime);
	return 0;
}

static int
feed(const char *path, long n, double rate)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = "admin:bench", .check = 0,
		.flags = SPOOL_NOSYNC };
	struct spool_err err;
	struct spool *sp;
	double *fed, *lat, t0, last = 0;
	long k, in_b = 0, in_c = 0, lost = 0;
	char dir[PATH_MAX], id[32];
	int ino, wd_b, wd_c, hold, a;

	if (spool_open(path, 0, &sp, &err) < 0) {
		fprintf(stderr, "pipe: %s\n", err.msg);
		return 1;
	}
	hold = spool_conf_state(spool_conf(sp), "hold");
	a = spool_conf_state(spool_conf(sp), "a");
	fed = calloc((size_t)n, sizeof *fed);
	lat = calloc((size_t)n, sizeof *lat);
	if ((ino = inotify_init1(IN_NONBLOCK)) < 0)
		die("inotify");
	snprintf(dir, sizeof dir, "%s/state/b", path);
	wd_b = inotify_add_watch(ino, dir, IN_MOVED_TO);
	snprintf(dir, sizeof dir, "%s/state/c", path);
	wd_c = inotify_add_watch(ino, dir, IN_MOVED_TO);
	t0 = now();
	for (k = 1; k <= n; k++) {
		if (rate > 0)
			while (now() < t0 + (k - 1) / rate) {
				observe(ino, wd_b, wd_c, fed, lat, n, &in_b, &in_c, &last);
				usleep(50);
			}
		snprintf(id, sizeof id, "o%07ld", k);
		fed[k - 1] = now();
		if (spool_move(sp, id, hold, a, &m, &err) < 0) {
			lost++;
			fed[k - 1] = 0;
		}
		if ((k & 63) == 0)
			observe(ino, wd_b, wd_c, fed, lat, n, &in_b, &in_c, &last);
	}
	/* wait for the rest, at most 300 s */
	while (in_c < n - lost && now() < t0 + 300) {
		struct pollfd pfd = { ino, POLLIN, 0 };
		poll(&pfd, 1, 100);
		observe(ino, wd_b, wd_c, fed, lat, n, &in_b, &in_c, &last);
	}
	/* durable: one sync of the file system after the last arrival */
	if (in_c == n - lost) {
		syncfs(spool_dirfd(sp, SPOOL_DIR_ROOT));
		last = now();
	}
	qsort(lat, (size_t)n, sizeof *lat, cmpd);
	{
		long first = 0;
		while (first < n && lat[first] == 0)
			first++;
		printf("%ld orders, %ld through, %.0f durable orders/s; offered %s; latency a->b "
		    "median %.3f ms, p99 %.3f ms, max %.3f ms", n, in_c,
		    in_c / (last - t0), rate > 0 ? "at the set rate" : "as fast as possible",
		    in_b > 0 ? lat[first + (n - first) / 2] * 1e3 : 0,
		    in_b > 0 ? lat[first + (long)((n - first) * 0.99)] * 1e3 : 0,
		    in_b > 0 ? lat[n - 1] * 1e3 : 0);
	}
	if (loop_pid > 0) {
		double user, sys;
		if (loop_cpu(&user, &sys) == 0)
			printf("; the loop's CPU over the drain: user %.3f s, sys %.3f s, "
			    "%.1f us per order", user, sys, in_c > 0 ? (user + sys) * 1e6 / in_c : 0);
		else
			printf("; the loop's CPU over the drain: unknown (no report)");
	}
	printf("\n");
	spool_close(sp);
	return in_c == n - lost && lost == 0 ? 0 : 1;
}

/* Move every entry of folder `from` on to `to`; returns how many. */
static long
sweep(int from, int to)
{
	struct dirent *de;
	long moved = 0;
	DIR *d;

	if ((d = fdopendir(dup(from))) == NULL)
		return 0;
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && renameat(from, de->d_name, to, de->d_name) == 0)
			moved++;
	closedir(d);
	return moved;
}

static int report_fd = -1;

/* SIGTERM: write this process's rusage to the parent, and end */
static void
report(int sig)
{
	struct rusage ru;

	(void)sig;
	if (getrusage(RUSAGE_SELF, &ru) == 0 && write(report_fd, &ru, sizeof ru) < 0)
		_exit(1);
	_exit(0);
}

/*
 * The bare loop: inotify on a and b, rename on, and fsync the three folders once per
 * batch of events (group commit); on a queue overflow, it reads the folders instead.
 * It runs until it is killed.  When ready, it sends its rusage so far on `ready`; on
 * SIGTERM it sends it again and exits, so that the parent has the loop's own CPU time
 * over the drain (the handler does only getrusage, write and _exit).
 */
static void
bare_loop(const char *path, int ready)
{
	struct sigaction sa;
	struct rusage ru;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	char d[PATH_MAX];
	int ino, fa, fb, fc, wa, wb;
	ssize_t r;
	char *p;

	snprintf(d, sizeof d, "%s/state/a", path);
	fa = open(d, O_RDONLY | O_DIRECTORY);
	ino = inotify_init1(0);
	wa = inotify_add_watch(ino, d, IN_MOVED_TO);
	snprintf(d, sizeof d, "%s/state/b", path);
	fb = open(d, O_RDONLY | O_DIRECTORY);
	wb = inotify_add_watch(ino, d, IN_MOVED_TO);
	snprintf(d, sizeof d, "%s/state/c", path);
	fc = open(d, O_RDONLY | O_DIRECTORY);
	if (fa < 0 || fb < 0 || fc < 0 || ino < 0 || wa < 0 || wb < 0)
		die(path);
	report_fd = ready;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = report;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		_exit(1);
	/* tell the parent the watches are set, with the CPU time used so far */
	if (getrusage(RUSAGE_SELF, &ru) < 0 || write(ready, &ru, sizeof ru) != (ssize_t)sizeof ru)
		_exit(1);
	while ((r = read(ino, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + r; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				sweep(fa, fb);
				sweep(fb, fc);
				continue;
			}
			if (ev->len == 0)
				continue;
			if (ev->wd == wa)
				renameat(fa, ev->name, fb, ev->name);
			else if (ev->wd == wb)
				renameat(fb, ev->name, fc, ev->name);
		}
		fsync(fa);
		fsync(fb);
		fsync(fc);
	}
	_exit(0);
}

static int
bare(const char *path, long n, double rate)
{
	int pfd[2], r;
	pid_t pid;

	if (pipe(pfd) < 0)
		die("pipe");
	fflush(stdout);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(pfd[0]);
		bare_loop(path, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &loop_ru0, sizeof loop_ru0) != (ssize_t)sizeof loop_ru0)
		die("the bare loop did not start");
	loop_pid = pid;
	loop_fd = pfd[0];
	r = feed(path, n, rate);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	loop_pid = 0;
	close(pfd[0]);
	return r;
}

int
main(int argc, char **argv)
{
	spool_domain_init();
	if (argc >= 5 && strcmp(argv[1], "feed") == 0)
		return feed(argv[2], atol(argv[3]), atof(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "bare") == 0)
		return bare(argv[2], atol(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: pipe feed SPOOL N RATE | pipe bare SPOOL N RATE\n");
	return 64;
}
