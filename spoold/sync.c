/*
 * Group commit off the loop.  A helper process makes the spool's file system durable
 * (syncfs) when the loop asks, and says when it is done, so that the loop goes on
 * with the next batch of looks while the last one is being written.  What a batch
 * allows to leave the spool (a handler) starts only when the sync that covers it has
 * returned.  A process rather than a thread: spoold stays single-threaded, and the
 * fork of every handler stays simple.  Without the helper the loop syncs itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

static void sync_finished(struct daemon *d, unsigned arg);

static void
helper(struct daemon *d, int req, int done)
{
	unsigned char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the loop closing its end is the only way to stop it */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	while (read(req, &c, 1) == 1) {
		c = 0;
		if (spool_sync(d->sp) < 0)
			c = (errno & 0xff) != 0 ? (unsigned char)errno : EIO;
		if (write(done, &c, 1) != 1)
			break;
	}
	_exit(0);
}

int
sync_init(struct daemon *d)
{
	int req[2], done[2];
	pid_t pid;

	d->sync_req = d->sync_done = -1;
	if (pipe2(req, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(done, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(req[0]);
		close(req[1]);
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(req[0]), close(req[1]), close(done[0]), close(done[1]);
		return -1;
	}
	if (pid == 0) {
		lock_drop(d);
		close(req[1]);
		close(done[0]);
		helper(d, req[0], done[1]);
	}
	close(req[0]);
	close(done[1]);
	d->sync_pid = pid;
	d->sync_req = req[1];
	d->sync_done = done[0];
	return loop_add(d, d->sync_done, sync_finished, 0);
}

/* The loop does it itself: at the end, or when the helper is gone. */
static void
sync_here(struct daemon *d)
{
	if (spool_sync(d->sp) < 0)
		log_warn("cannot sync the spool's file system");
	d->dirty = 0;
	d->sync_done_gen = ++d->sync_gen;
	d->covered = d->nspawn;
	d->hooks.synced(d);
}

/* What the loop wrote so far becomes durable; its handlers start when it is. */
void
sync_request(struct daemon *d)
{
	if (d->sync_busy)
		return;
	if (!d->dirty) {
		/* nothing unsynced: whatever waits is covered already */
		d->sync_done_gen = ++d->sync_gen;
		d->covered = d->nspawn;
		d->hooks.synced(d);
		return;
	}
	if (d->sync_req < 0 || write(d->sync_req, "s", 1) != 1) {
		if (d->sync_req >= 0) {
			log_warn("the sync helper is gone; syncing in the loop");
			close(d->sync_req);
			d->sync_req = -1;
		}
		sync_here(d);
		return;
	}
	d->sync_busy = 1;
	d->sync_gen++;
	d->dirty = 0;
	d->covered = d->nspawn;
}

/* The helper has synced: start what that covered, and ask again if more was written. */
static void
sync_finished(struct daemon *d, unsigned arg)
{
	unsigned char c;
	ssize_t n;

	(void)arg;
	while ((n = read(d->sync_done, &c, 1)) < 0 && errno == EINTR)
		;
	if (n < 0 && errno == EAGAIN)
		return;
	if (n != 1) {
		log_warnx("the sync helper stopped; syncing in the loop");
		loop_del(d, d->sync_done);
		close(d->sync_done);
		close(d->sync_req);
		d->sync_done = d->sync_req = -1;
		d->sync_busy = 0;
		sync_here(d);
		return;
	}
	if (c != 0)
		log_warnx("cannot sync the spool's file system: %s", strerror(c));
	d->sync_busy = 0;
	d->sync_done_gen = d->sync_gen;
	d->hooks.synced(d);
	sync_request(d);
}

/* At the end: nothing unsynced is left behind. */
void
sync_wait(struct daemon *d)
{
	unsigned char c;

	if (d->sync_busy && d->sync_done >= 0) {
		struct pollfd p = { .fd = d->sync_done, .events = POLLIN };
		/* its answer, or a minute; then the loop syncs once more itself */
		if (poll(&p, 1, 60000) == 1 && read(d->sync_done, &c, 1) == 1 && c != 0)
			log_warnx("cannot sync the spool's file system: %s", strerror(c));
		d->sync_busy = 0;
		d->dirty = 1;
	}
	if (d->dirty)
		sync_here(d);
	if (d->sync_req >= 0)
		close(d->sync_req);
	if (d->sync_done >= 0)
		close(d->sync_done);
	d->sync_req = d->sync_done = -1;
}
