/*
 * The bottom of spoold: the event loop and what its parts share.  Each part (watch,
 * jobs, sync, main's signals) registers its descriptors with a function to call when
 * one is readable; the loop waits on epoll, with a timerfd armed at the nearest due
 * time, and calls them.  Also here: the queue of orders to look at (a full queue
 * falls back on a rescan), and the spool's lock, which every child drops.
 *
 * Nothing here calls a part above it by name: what a lower part must let a higher
 * one do goes through d->hooks, which main fills at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

/*
 * An epoll event's data: the registered function's index + 1 in the high half (0:
 * the timer), its argument in the low half.
 */
#define WAKE_LATE_NS 20000000    /* 20 ms */

static uint64_t
tag(int fn, unsigned arg)
{
	return ((uint64_t)(fn + 1) << 32) | arg;
}

int
loop_init(struct daemon *d)
{
	if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (d->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		return -1;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->tfd, &(struct epoll_event){ .events = EPOLLIN,
	    .data.u64 = 0 });
	return 0;
}

int
loop_add(struct daemon *d, int fd, loop_fn *fn, unsigned arg)
{
	int i;

	for (i = 0; i < d->nfns && d->fns[i] != fn; i++)
		;
	if (i == d->nfns) {
		if (d->nfns == LOOP_FNS) {
			errno = ENOSPC;
			return -1;
		}
		d->fns[d->nfns++] = fn;
	}
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN,
	    .data.u64 = tag(i, arg) });
}

void
loop_del(struct daemon *d, int fd)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/*
 * One wait: the timer armed for wake (0: none), at most timeout milliseconds (-1:
 * until something comes), then each event to the part that registered it.
 */
void
loop_wait(struct daemon *d, time_t wake, int timeout)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev[64];
	uint64_t ticks;
	int n, i;

	/*
	 * A little past the second: time(2) reads a clock moved on at each tick (4 to 10
	 * ms), so woken at the second's start a turn still saw the second before, found
	 * nothing due, and waited again at once, thousands of times a minute.
	 */
	its.it_value.tv_sec = wake;
	its.it_value.tv_nsec = wake != 0 ? WAKE_LATE_NS : 0;
	timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	n = epoll_wait(d->epfd, ev, 64, timeout);
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 >> 32 == 0) {
			if (read(d->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
				log_warn("timerfd");
			continue;
		}
		d->fns[(ev[i].data.u64 >> 32) - 1](d, (unsigned)(ev[i].data.u64 & 0xffffffff));
	}
}

void
look_soon(struct daemon *d, const char *id, int hint)
{
	if (queue_push(&d->q, id, hint) < 0)
		scan_begin(d);
}

/*
 * Start a rescan (watch.c reads the folders, scan_step); one under way is not cut
 * short (a flood of reasons to rescan would keep it from ever finishing), but
 * another follows it.
 */
void
scan_begin(struct daemon *d)
{
	d->incoming_pending = 1;
	if (d->scan.active) {
		d->scan.again = 1;
		return;
	}
	d->scan.dir = NULL;
	d->scan.active = 1;
	d->scan.again = 0;
	d->scan.state = 0;
	d->scan.looked = 0;
	d->scan.claims_read = 0;
	d->scan.started = time(NULL);
	log_debug("rescan begins");
}

/*
 * One spoold per spool on a host.  An flock on a descriptor open only for reading:
 * spoold keeps no file of the spool open for writing between its writes, so that an
 * admin can remount the file system read-only (mount(8) refuses while any file is
 * open for writing) and spoold rides it out.  Every child closes the descriptor
 * (lock_drop), so none, not even the mailer that outlives spoold, keeps the next
 * spoold out.  The pid is written beside it for people and for the message below.
 */
void
lock_spool(struct daemon *d)
{
	const char *name = spool_basename(SPOOL_F_SPOOLD_LOCK);
	char pid[32], path[SPOOL_PATH_MAX];
	ssize_t n;
	int fd, run = spool_dirfd(d->sp, SPOOL_DIR_RUN);

	spool_name(SPOOL_F_SPOOLD_LOCK, NULL, path, sizeof path);
	if ((fd = spool_lockfile(run, name)) < 0)
		fatal("cannot open %s/%s", d->path, path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			fatal("cannot lock %s/%s", d->path, path);
		n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_warnx("another spoold%s%s%s runs on %s; this one stops", pid[0] ? " (pid " : "",
		    pid, pid[0] ? ")" : "", d->path);
		exit(SPOOL_EX_TEMPFAIL);
	}
	d->lockfd = fd;
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if ((fd = openat(run, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    write(fd, pid, (size_t)n) != n)
		log_warn("cannot write the pid to %s", path);
	if (fd >= 0)
		close(fd);
}

void
lock_drop(struct daemon *d)
{
	if (d->lockfd >= 0)
		close(d->lockfd);
	d->lockfd = -1;
	spool_journal_close(d->sp);    /* open for writing: see above */
}
