/*
 * bench/printlat: the latency from a printer's saved job.xml to the order's new
 * state, as BENCHMARKS.md reports it.
 *
 *   printlat spoold SPOOL N   spoold runs on SPOOL, whose N orders bench-1..N wait in
 *                             queued with one published job each in hot/press/
 *   printlat bare SPOOL N     the same spool with no spoold: a bare inotify loop, forked
 *                             here, does the least a reactor can (read job.xml, parse it
 *                             with libxml2, rename the order file), as the baseline
 *
 * One order at a time, the way a printer works: rewrite job.xml in place with
 * OrderStatus 15 (as Samba does: truncate, write, close), then wait for the order
 * file to appear in state/processing/.  Prints the median and p99 in ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#define JOB "hot/press/%s-2-press/job.xml"   /* item 2 of example 1001: one chunk */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf = malloc(1 << 20);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || buf == NULL || (n = read(fd, buf, (1 << 20) - 1)) < 0) {
		fprintf(stderr, "printlat: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The printer's save: the same file, rewritten in place with OrderStatus 15; *t0 is
 * the moment of its close, which is what inotify reports. */
static void
save15(const char *spool, const char *id, double *t0)
{
	char path[PATH_MAX], *buf, *p;
	size_t len;
	int fd;

	snprintf(path, sizeof path, "%s/" JOB, spool, id);
	buf = slurp(path, &len);
	if ((p = strstr(buf, "<OrderStatus>2</OrderStatus>")) == NULL) {
		fprintf(stderr, "printlat: %s: not Queued\n", path);
		exit(1);
	}
	if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0 ||
	    write(fd, buf, (size_t)(p - buf)) < 0 ||
	    write(fd, "<OrderStatus>15</OrderStatus>", 29) < 0 ||
	    write(fd, p + 28, len - (size_t)(p - buf) - 28) < 0 || (*t0 = now_ms(), close(fd)) < 0) {
		fprintf(stderr, "printlat: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(buf);
}

/* Wait (at most 10 s) for name to be moved into the watched folder. */
static int
arrives(int ino, const char *name)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	double end = now_ms() + 10000;
	struct pollfd pfd = { .fd = ino, .events = POLLIN };
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while (now_ms() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(ino, buf, sizeof buf)) <= 0)
			continue;
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len > 0 && strcmp(ev->name, name) == 0)
				return 0;
		}
	}
	return -1;
}

/* The baseline: watch every job folder; on a close-write, parse and move the order. */
static void
bare(const char *spool, int n)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[PATH_MAX], from[PATH_MAX], to[PATH_MAX], *text;
	const struct inotify_event *ev;
	int ino = inotify_init1(0), *wds, i;
	size_t len;
	ssize_t r;
	char *p;

	wds = calloc((size_t)n + 1, sizeof *wds);
	for (i = 1; i <= n; i++) {
		char id[32];
		snprintf(id, sizeof id, "bench-%d", i);
		snprintf(path, sizeof path, "%s/hot/press/%s-2-press", spool, id);
		wds[i] = inotify_add_watch(ino, path, IN_CLOSE_WRITE);
	}
	for (;;) {
		if ((r = read(ino, buf, sizeof buf)) <= 0)
			_exit(1);
		for (p = buf; p < buf + r; p += sizeof *ev + ev->len) {
			xmlDocPtr doc;

			ev = (const struct inotify_event *)p;
			for (i = 1; i <= n && wds[i] != ev->wd; i++)
				;
			if (i > n || ev->len == 0 || strcmp(ev->name, "job.xml") != 0)
				continue;
			snprintf(path, sizeof path, "%s/hot/press/bench-%d-2-press/job.xml", spool, i);
			text = slurp(path, &len);
			doc = xmlReadMemory(text, (int)len, "job.xml", NULL, XML_PARSE_NONET);
			if (doc != NULL && strstr(text, "<OrderStatus>15<") != NULL) {
				snprintf(from, sizeof from, "%s/state/queued/bench-%d.order", spool, i);
				snprintf(to, sizeof to, "%s/state/processing/bench-%d.order", spool, i);
				rename(from, to);
			}
			xmlFreeDoc(doc);
			free(text);
		}
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	char path[PATH_MAX], id[32], name[48];
	double *lat, t0;
	int n, i, ino, got = 0;
	pid_t pid = 0;

	if (argc != 4 || (strcmp(argv[1], "spoold") != 0 && strcmp(argv[1], "bare") != 0) ||
	    (n = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: printlat spoold|bare SPOOL N\n");
		return 64;
	}
	if (strcmp(argv[1], "bare") == 0) {
		if ((pid = fork()) == 0)
			bare(argv[2], n);
		usleep(200000);    /* its watches are in place */
	}
	snprintf(path, sizeof path, "%s/state/processing", argv[2]);
	ino = inotify_init1(IN_NONBLOCK);
	if (inotify_add_watch(ino, path, IN_MOVED_TO) < 0) {
		perror(path);
		return 1;
	}
	lat = calloc((size_t)n, sizeof *lat);
	for (i = 1; i <= n; i++) {
		snprintf(id, sizeof id, "bench-%d", i);
		snprintf(name, sizeof name, "%s.order", id);
		save15(argv[2], id, &t0);
		if (arrives(ino, name) == 0)
			lat[got++] = now_ms() - t0;
		else
			fprintf(stderr, "printlat: %s did not move within 10 s\n", id);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (got == 0)
		return 1;
	qsort(lat, (size_t)got, sizeof *lat, cmp);
	printf("%d %.2f %.2f\n", got, lat[got / 2], lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1]);
	return got == n ? 0 : 1;
}
