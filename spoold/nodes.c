/*
 * Several spoolds on one spool, one per host (a node), over a shared file system
 * (lib/core/node.c has the files).  A part of spoold above jobs and watch, below the
 * engine.
 *
 * On a network or FUSE file system spoold runs shared (and polls, as watch.c sees to:
 * inotify sees nothing another host does): it keeps its own files in run/nodes/NAME/,
 * and it beats there every second.  The node that holds the fcntl lock of run/leader leads: it alone does
 * the engine's own work (automatic moves, timers, publishing, printers' job.xml, mail,
 * incoming/, recovery).  The others try the lock every second and take over when it is
 * free, which it is a moment after its holder dies, as the lock server sees the
 * connection go.  Every node runs handlers: an order in a state with a handler is
 * looked at only under its claim (run/claims/ID), so one node at a time works on it.
 *
 * A node that can no longer reach the spool through its own path (the mount is gone,
 * while the descriptors it holds would still work), or whose lock was lost, stops at
 * once, with its handlers: a leader never acts on a stale lease.  Its claims are
 * released by the leader once its heartbeat has been still for SPOOL_NODE_SILENT seconds,
 * and those orders run again: at least once, as after a crash on one host.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

#define CLAIM_SLACK 60    /* a claim's deadline: the handler's timeout and this */

/* Stop now, with the handlers: what this node does could no longer be trusted. */
static void __attribute__((noreturn))
stop_acting(struct daemon *d, const char *why)
{
	int i;

	log_warnx("%s: %s%s; stopping", d->node, d->leader ? "lost the lead: " : "", why);
	for (i = 0; i < JOBS_MAX; i++)
		if (d->jobs[i].pid > 0)
			kill(-d->jobs[i].pid, SIGKILL);
	if (d->mail_pid > 0)
		kill(d->mail_pid, SIGKILL);
	exit(SPOOL_EX_TEMPFAIL);
}

/* A write lock on all of fd, without waiting: 0, or -1 with errno. */
static int
lock_all(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &fl);
}

/* Is this node's way to the spool still the one it opened?  Not after a umount -l. */
static const char *
reach(struct daemon *d)
{
	struct stat a, b;

	if (stat(d->path, &a) < 0)
		return "the spool's path is gone (is the file system still mounted?)";
	if (fstat(spool_dirfd(d->sp, SPOOL_DIR_ROOT), &b) < 0)
		return "the spool's folder cannot be read";
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return "the spool's path leads elsewhere now (the file system was unmounted)";
	return NULL;
}

/* "NODE PID" into the locked run/leader, for those who ask who leads. */
static int
name_lead(struct daemon *d)
{
	char buf[SPOOL_NODE_MAX + 32];
	int n = snprintf(buf, sizeof buf, "%s %ld\n", d->node, (long)getpid());

	if (ftruncate(d->leadfd, 0) < 0 || pwrite(d->leadfd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

static void
take_lead(struct daemon *d)
{
	if (lock_all(d->leadfd) < 0)
		return;
	d->leader = 1;
	if (name_lead(d) < 0)
		log_warn("%s: cannot write %s", d->node, SPOOL_NAME(SPOOL_F_LEADER, NULL));
	log_info("%s: leading %s", d->node, d->path);
	d->hooks.lead(d);
}

/*
 * Alone on a local file system (lock_spool sees to it), run/leader only names this
 * spoold for spoolctl status.  The name is written first and the lock is a read lock
 * on a descriptor open for reading, as with run/spoold.lock: an admin can still
 * remount the file system read-only (a file open for writing would stop that), and
 * closing the writer afterwards would drop the lock (fcntl locks are the process's).
 */
static void
name_alone(struct daemon *d)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int run = spool_dirfd(d->sp, SPOOL_DIR_RUN), fd;

	d->leadfd = fd = spool_leader_open(d->sp);
	if (fd < 0 || name_lead(d) < 0)
		log_warn("%s: cannot write %s", d->node, SPOOL_NAME(SPOOL_F_LEADER, NULL));
	if (fd >= 0)
		close(fd);
	d->leadfd = openat(run, spool_basename(SPOOL_F_LEADER), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (d->leadfd < 0 || fcntl(d->leadfd, F_SETLK, &fl) < 0)
		log_warn("%s: cannot lock %s", d->node, SPOOL_NAME(SPOOL_F_LEADER, NULL));
}

void
nodes_init(struct daemon *d)
{
	struct spool_err err;
	const char *fs = network_fs(spool_dirfd(d->sp, SPOOL_DIR_ROOT));
	const char *env = getenv("SPOOLD_SHARED");
	char path[SPOOL_PATH_MAX];
	int fd;

	d->leadfd = d->nodefd = -1;
	if (fs == NULL && (env == NULL || strcmp(env, "1") != 0)) {
		lock_spool(d);
		d->leader = 1;
		name_alone(d);
		return;
	}
	d->shared = 1;
	if (spool_node_open(d->sp, d->node, &err) < 0)
		fatalx("%s", err.msg);
	spool_name(SPOOL_F_NODE_LOCK, d->node, path, sizeof path);
	fd = openat(spool_node_dirfd(d->sp), spool_basename(SPOOL_F_NODE_LOCK),
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0)
		fatal("cannot open %s", path);
	spool_own(fd, spool_node_dirfd(d->sp), SPOOL_FILE_MODE);
	if (lock_all(fd) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			fatal("cannot lock %s", path);
		log_warnx("another spoold runs as node %s on %s; this one stops", d->node, d->path);
		exit(SPOOL_EX_TEMPFAIL);
	}
	d->nodefd = fd;
	if ((d->leadfd = spool_leader_open(d->sp)) < 0)
		fatal("cannot open %s", SPOOL_NAME(SPOOL_F_LEADER, NULL));
	log_info("%s: on a shared file system (%s): one of the nodes of %s", d->node,
	    fs != NULL ? fs : "SPOOLD_SHARED=1", d->path);
}

static int
own_claim(void *arg, const char *id, const char *node, time_t deadline)
{
	struct daemon *d = arg;

	(void)deadline;
	if (strcmp(node, d->node) == 0)
		look_soon(d, id, -1);
	return 0;
}

void
nodes_start(struct daemon *d)
{
	char who[SPOOL_NODE_MAX + 1];
	long pid;

	if (!d->shared)
		return;
	/* this node's claims from before a restart: their orders are looked at (and run
	 * again, the attempt being interrupted), as rescans pass claimed orders by */
	if (spool_claims_read(d->sp, own_claim, d) < 0)
		log_warn("%s: cannot read %s", d->node, SPOOL_NAME(SPOOL_F_CLAIM, NULL));
	nodes_tick(d, time(NULL));
	if (!d->leader) {
		/* a follower holds no lock on run/leader that closing the file could drop */
		if (spool_leader_read(d->sp, who, &pid) != 1)
			snprintf(who, sizeof who, "?");
		log_info("%s: following (the leader is %s)", d->node, who);
	}
}

/* The leader's view of one node's heartbeat (spool_nodes_read's function). */
static int
heard(void *arg, const struct spool_node *n)
{
	struct daemon *d = arg;
	struct peer *p = NULL;
	time_t now = time(NULL);
	int i;

	if (strcmp(n->name, d->node) == 0)
		return 0;
	for (i = 0; i < d->npeers; i++)
		if (strcmp(d->peers[i].name, n->name) == 0)
			p = &d->peers[i];
	if (p == NULL) {
		if (d->npeers >= PEERS_MAX)
			return 0;
		p = &d->peers[d->npeers++];
		memset(p, 0, sizeof *p);
		snprintf(p->name, sizeof p->name, "%s", n->name);
		p->beat = n->beat;
		p->pid = n->pid;
		p->seen = now;
	} else if (p->beat != n->beat || p->pid != n->pid) {
		/* (a restarted node counts from 1 again: its pid tells it from the last one) */
		if (p->silent)
			log_info("%s: node %s beats again", d->node, n->name);
		p->beat = n->beat;
		p->pid = n->pid;
		p->seen = now;
		p->silent = 0;
	}
	return 0;
}

struct release {
	struct daemon *d;
	const char *node;
	int n;
};

static int
release_one(void *arg, const char *id, const char *node, time_t deadline)
{
	struct release *r = arg;

	(void)deadline;
	if (strcmp(node, r->node) != 0)
		return 0;
	if (spool_claim_drop(r->d->sp, id) < 0) {
		log_order(LOG_L_ERRNO, id, "cannot release the claim of node %s", node);
		return 0;
	}
	log_order(LOG_L_INFO, id, "claim of silent node %s released: its handler runs again", node);
	look_soon(r->d, id, -1);
	r->n++;
	return 0;
}

/* The leader: release the claims of the nodes whose heartbeat stands still. */
static void
watch_peers(struct daemon *d, time_t now)
{
	struct release r = { .d = d };
	int i;

	if (spool_nodes_read(d->sp, heard, d) < 0)
		log_warn("%s: cannot read %s", d->node, SPOOL_NAME(SPOOL_F_NODE, NULL));
	for (i = 0; i < d->npeers; i++) {
		struct peer *p = &d->peers[i];

		if (now - p->seen < SPOOL_NODE_SILENT || (p->silent && now < p->retry))
			continue;
		r.node = p->name;
		r.n = 0;
		if (spool_claims_read(d->sp, release_one, &r) < 0)
			log_warn("%s: cannot read %s", d->node, SPOOL_NAME(SPOOL_F_CLAIM, NULL));
		if (!p->silent || r.n > 0)
			log_info("%s: node %s is silent for %lds: released its %d claims", d->node,
			    p->name, (long)(now - p->seen), r.n);
		p->silent = 1;
		p->retry = now + SPOOL_NODE_SILENT;    /* a claim it made late is released too */
	}
}

int
nodes_live(const struct daemon *d)
{
	int i, n = 0;

	for (i = 0; i < d->npeers; i++)
		n += !d->peers[i].silent;
	return n;
}

void
nodes_tick(struct daemon *d, time_t now)
{
	struct spool_node n = { 0 };
	const char *why;

	if (!d->shared || now < d->beat_next)
		return;
	n.pid = getpid();
	d->beat_next = now + 1;
	if ((why = reach(d)) != NULL)
		stop_acting(d, why);
	if (d->leader && lock_all(d->leadfd) < 0)
		stop_acting(d, errno == EAGAIN || errno == EACCES ? "another node holds its lock" :
		    "its lock cannot be renewed");
	if (!d->leader)
		take_lead(d);
	snprintf(n.name, sizeof n.name, "%s", d->node);
	n.beat = ++d->beat;
	n.time = now;
	n.leader = d->leader;
	if (spool_node_beat(d->sp, &n) < 0)
		log_warn("%s: cannot write its heartbeat", d->node);
	if (d->leader)
		watch_peers(d, now);
}

time_t
nodes_next(const struct daemon *d)
{
	return d->shared ? d->beat_next : 0;
}

/* ---- claims --------------------------------------------------------------------- */

static int
held_at(const struct daemon *d, const char *id)
{
	int i;

	for (i = 0; i < d->nheld; i++)
		if (strcmp(d->held[i], id) == 0)
			return i;
	return -1;
}

int
claim_take(struct daemon *d, const char *id, long timeout)
{
	char holder[SPOOL_NODE_MAX + 1];
	time_t deadline = time(NULL) + (timeout > 0 ? timeout : 3600) + CLAIM_SLACK;
	int r;

	if (!d->shared || held_at(d, id) >= 0)
		return 1;
	if (d->nheld >= HELD_MAX)
		return 0;
	/* most looks find it taken: reading a claim costs less than making one */
	if ((r = spool_claim_read(d->sp, id, holder, NULL)) == 0)
		r = (r = spool_claim(d->sp, id, d->node, deadline, holder)) == 0 ? 2 : r;
	else if (r == 1 && strcmp(holder, d->node) == 0)
		r = 2;    /* this node's own, from before a restart: taken back */
	if (r < 0 && errno != EUCLEAN)
		log_order(LOG_L_ERRNO, id, "cannot claim it");
	if (r != 2)
		return 0;
	snprintf(d->held[d->nheld++], sizeof d->held[0], "%s", id);
	return 1;
}

int
claim_held(struct daemon *d, const char *id)
{
	char holder[SPOOL_NODE_MAX + 1];

	if (!d->shared)
		return 1;
	return held_at(d, id) >= 0 && spool_claim_read(d->sp, id, holder, NULL) == 1 &&
	    strcmp(holder, d->node) == 0;
}

void
claim_release(struct daemon *d, const char *id)
{
	int i;

	if (!d->shared || (i = held_at(d, id)) < 0)
		return;
	if (claim_held(d, id) && spool_claim_drop(d->sp, id) < 0)
		log_order(LOG_L_ERRNO, id, "cannot release its claim");
	d->nheld--;
	memmove(d->held[i], d->held[d->nheld], sizeof d->held[0]);
}
