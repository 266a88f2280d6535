/*
 * Noticing orders.  inotify is a doorbell, not the record: an event only queues an
 * order for a look, and the look goes back to the tree.  A rescan reads the state
 * folders a chunk at a time and queues every order that may need something; it runs
 * at start, when the inotify queue overflows or our own queue is full, on a slow
 * timer, on `spoolctl kick`, and (on a network file system, or with --poll) in
 * place of inotify altogether, since inotify does not see other hosts' changes.
 *
 * Also here: bundles renamed into incoming/, and the gate files some states wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

static void watch_read(struct daemon *d, unsigned arg);
static void incoming_done(struct daemon *d, struct job *j, int status);

#define STATE_EVENTS (IN_MOVED_TO | IN_CREATE | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR | \
	IN_DONT_FOLLOW)

/*
 * spoold's own moves, whose inotify events are only echoes: the look after the move
 * is queued already.  An echo is the first event for that order and state after the
 * move, since events come in order; a later one is somebody else's.  An entry
 * overwritten by another order only costs a look; after an overflow (events lost)
 * the entries are forgotten, so that none can swallow somebody else's event.
 */
#define ECHOES 8192
static struct echo {
	char id[SPOOL_ID_MAX + 1];
	int state;
} echoes[ECHOES];

static unsigned
echo_slot(const char *id, int state)
{
	unsigned h = 2166136261u ^ (unsigned)state;

	while (*id != '\0')
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % ECHOES;
}

/* 1 if this event is the echo of spoold's own move (and is used up) */
static int
echo(const char *id, int state)
{
	struct echo *e = &echoes[echo_slot(id, state)];

	if (e->state != state || strcmp(e->id, id) != 0)
		return 0;
	e->id[0] = '\0';
	return 1;
}

static void
echoes_forget(void)
{
	memset(echoes, 0, sizeof echoes);
}

/* spoold has moved id to state: the inotify event that follows is only its echo. */
void
watch_moved(const char *id, int state)
{
	struct echo *e = &echoes[echo_slot(id, state)];

	snprintf(e->id, sizeof e->id, "%s", id);
	e->state = state;
}

/*
 * The network or cluster file system fd is on, whose changes by other hosts inotify
 * never reports (and where several spoolds may share the spool); NULL if local.
 */
const char *
network_fs(int fd)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} fs[] = {
		{ 0x6969, "NFS" }, { 0xff534d42, "CIFS" }, { 0xfe534d42, "SMB2" },
		{ 0x517b, "SMB" }, { 0x00c36400, "CephFS" }, { 0x65735546, "FUSE" },
		{ 0x5346414f, "AFS" }, { 0x01021997, "9P" }, { 0x01161970, "GFS2" },
		{ 0x7461636f, "OCFS2" }, { 0x0bd00bd0, "Lustre" },
	};
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf) < 0)
		return NULL;
	for (i = 0; i < sizeof fs / sizeof fs[0]; i++)
		if ((unsigned long)sf.f_type == fs[i].magic)
			return fs[i].name;
	return NULL;
}

int
state_has_handler(const struct spool_state *s)
{
	int k;

	for (k = 0; k < s->nactions; k++)
		if (s->actions[k].kind == SPOOL_ACT_EXEC)
			return 1;
	return 0;
}

static int
add(struct daemon *d, const char *rel, uint32_t mask)
{
	char path[PATH_MAX];
	int wd;

	snprintf(path, sizeof path, "%s/%s", d->path, rel);
	if ((wd = inotify_add_watch(d->inofd, path, mask)) < 0)
		log_warn("cannot watch %s", path);
	return wd;
}

int
watch_init(struct daemon *d)
{
	char rel[SPOOL_NAME_MAX + 8];
	int i;

	for (i = 0; i < SPOOL_STATES_MAX; i++)
		d->wd_state[i] = -1;
	for (i = 0; i < GATES_MAX; i++)
		d->gates[i].wd = -1;
	if (d->jobw == NULL && (d->jobw = calloc(JOBW_MAX, sizeof *d->jobw)) == NULL)
		return -1;
	for (i = 0; i < JOBW_MAX; i++)
		d->jobw[i].wd = -1;
	d->wd_incoming = d->wd_run = d->wd_outbox = -1;
	if (d->poll == 0 && network_fs(spool_dirfd(d->sp, SPOOL_DIR_ROOT)) != NULL) {
		d->poll = 5;
		log_info("%s is on a network file system: polling every %ds", d->path, d->poll);
	}
	if (d->poll > 0)
		return 0;
	if ((d->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -1;
	for (i = 0; i < d->conf->nstates; i++) {
		spool_name(SPOOL_F_STATE, d->conf->states[i].name, rel, sizeof rel);
		if ((d->wd_state[i] = add(d, rel, STATE_EVENTS)) < 0)
			return -1;
	}
	d->wd_incoming = add(d, SPOOL_NAME(SPOOL_F_INCOMING, NULL),
	    IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);
	d->wd_run = add(d, "run", IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW);
	d->wd_outbox = add(d, SPOOL_NAME(SPOOL_F_OUTBOX_NEW, NULL),
	    IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);
	return loop_add(d, d->inofd, watch_read, 0);
}

void
watch_close(struct daemon *d)
{
	if (d->inofd >= 0) {
		loop_del(d, d->inofd);
		close(d->inofd);
	}
	d->inofd = -1;
	free(d->jobw);
	d->jobw = NULL;
	d->njobw = 0;
}

void
watch_gate(struct daemon *d, const char *id)
{
	char rel[SPOOL_ID_MAX + 16];
	int i, free_slot = -1;

	if (d->inofd < 0)
		return;
	for (i = 0; i < GATES_MAX; i++) {
		if (d->gates[i].wd >= 0 && strcmp(d->gates[i].id, id) == 0)
			return;
		if (d->gates[i].wd < 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return;    /* the slow rescan looks at gated orders too */
	spool_name(SPOOL_F_ORDER_DIR, id, rel, sizeof rel);
	d->gates[free_slot].wd = add(d, rel, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR |
	    IN_DONT_FOLLOW);
	snprintf(d->gates[free_slot].id, sizeof d->gates[0].id, "%s", id);
	if (d->gates[free_slot].wd >= 0)
		d->ngates++;
}

void
watch_ungate(struct daemon *d, const char *id)
{
	int i;

	if (d->ngates == 0)
		return;
	for (i = 0; i < GATES_MAX; i++)
		if (d->gates[i].wd >= 0 && strcmp(d->gates[i].id, id) == 0) {
			inotify_rm_watch(d->inofd, d->gates[i].wd);
			d->gates[i].wd = -1;
			d->ngates--;
		}
}

/*
 * Watch a job's folder for its job.xml (on), or stop (off: a job that is done, whose
 * rare later change a rescan finds).  A printer's save over SMB ends in a
 * close-write (in place) or a rename.  Watches die with their folders (IN_IGNORED).
 */
void
watch_job(struct daemon *d, const char *dir, const char *id, int on)
{
	int wd, i, free_slot = -1;

	if (d->inofd < 0 || d->jobw == NULL)
		return;
	/* the kernel gives a folder watched already the same wd */
	if ((wd = inotify_add_watch(d->inofd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR |
	    IN_DONT_FOLLOW)) < 0)
		return;    /* the rescans look at its order too */
	for (i = 0; i < d->njobw; i++) {
		if (d->jobw[i].wd == wd) {
			if (!on) {
				inotify_rm_watch(d->inofd, wd);
				d->jobw[i].wd = -1;
			} else
				snprintf(d->jobw[i].id, sizeof d->jobw[0].id, "%s", id);
			return;
		}
		if (d->jobw[i].wd < 0 && free_slot < 0)
			free_slot = i;
	}
	if (!on) {
		inotify_rm_watch(d->inofd, wd);
		return;
	}
	if (free_slot < 0) {
		if (d->njobw == JOBW_MAX) {
			inotify_rm_watch(d->inofd, wd);
			return;
		}
		free_slot = d->njobw++;
	}
	d->jobw[free_slot].wd = wd;
	snprintf(d->jobw[free_slot].id, sizeof d->jobw[0].id, "%s", id);
}

/* Stop watching every job folder of an order (one that has reached its end). */
void
watch_forget(struct daemon *d, const char *id)
{
	int i;

	for (i = 0; i < d->njobw; i++)
		if (d->jobw[i].wd >= 0 && strcmp(d->jobw[i].id, id) == 0) {
			inotify_rm_watch(d->inofd, d->jobw[i].wd);
			d->jobw[i].wd = -1;
		}
}

/* The order a job folder's watch belongs to: 1 and its slot, or 0. */
static int
job_watch(struct daemon *d, int wd, int *slot)
{
	int i;

	for (i = 0; i < d->njobw; i++)
		if (d->jobw[i].wd == wd) {
			*slot = i;
			return 1;
		}
	return 0;
}

/* The inotify descriptor is readable (registered with the loop). */
static void
watch_read(struct daemon *d, unsigned arg)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	char id[SPOOL_ID_MAX + 1];
	ssize_t n;
	char *p;
	int i;

	(void)arg;
	for (;;) {
		if ((n = read(d->inofd, buf, sizeof buf)) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("inotify");
			return;
		}
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("the inotify queue overflowed; rescanning");
				echoes_forget();
				scan_begin(d);
				continue;
			}
			if (ev->wd == d->wd_incoming) {
				if (ev->len > 0 && ev->name[0] != '.')
					d->incoming_pending = 1;
				continue;
			}
			if (ev->wd == d->wd_outbox) {
				/* a message to send (queued here, or retried with spoolctl) */
				d->mail_wanted = 1;
				continue;
			}
			if (ev->wd == d->wd_run) {
				if (ev->len > 0 && strcmp(ev->name, spool_basename(SPOOL_F_KICK)) == 0) {
					log_info("kicked: rescanning");
					unlinkat(spool_dirfd(d->sp, SPOOL_DIR_RUN),
					    spool_basename(SPOOL_F_KICK), 0);
					scan_begin(d);
				}
				continue;
			}
			for (i = 0; i < d->conf->nstates; i++)
				if (ev->wd == d->wd_state[i])
					break;
			if (i < d->conf->nstates) {
				if (ev->mask & IN_IGNORED)
					log_warnx("%s is gone",
					    SPOOL_NAME(SPOOL_F_STATE, d->conf->states[i].name));
				else if (ev->len == 0 || !spool_order_name_id(ev->name, id))
					;
				else if (ev->mask & IN_MOVED_TO && echo(id, i))
					;
				else if (ev->mask & (IN_MOVED_TO | IN_CREATE))
					look_soon(d, id, i);
				else if (job_find(d, id) != NULL)
					/* it left while its handler runs: the look cancels that */
					look_soon(d, id, -1);
				continue;
			}
			if (job_watch(d, ev->wd, &i)) {
				if (ev->mask & IN_IGNORED)
					d->jobw[i].wd = -1;
				else if (ev->len > 0 && strcmp(ev->name, "job.xml") == 0)
					look_soon(d, d->jobw[i].id, -1);
				continue;
			}
			for (i = 0; i < GATES_MAX; i++)
				if (ev->wd == d->gates[i].wd) {
					if (ev->mask & IN_IGNORED) {
						d->gates[i].wd = -1;
						d->ngates--;
					}
					else
						look_soon(d, d->gates[i].id, -1);
					break;
				}
		}
	}
}

/*
 * Whether an order in state s may need a look: its arrival is not yet recorded
 * (no status newer than the rename), or its state has work whose time may be near.
 */
static int
needs_look(struct daemon *d, int dfd, const struct spool_state *s, const struct dirent *de,
    const char *id, time_t now)
{
	const char *name = de->d_name;
	char path[SPOOL_ID_MAX + 16];
	struct stat o, st;
	long early = 0;
	int r;

	/*
	 * A state with work for each order: every one gets a look, which finds the file
	 * itself; a stat here would only cost a round trip per order on a network file system.
	 */
	if (s->nactions > 0 || s->gate_file != NULL || s->auto_to >= 0)
		return de->d_type == DT_REG || de->d_type == DT_UNKNOWN;
	if (fstatat(dfd, name, &o, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(o.st_mode))
		return 0;
	snprintf(path, sizeof path, "%s/status", id);
	if (fstatat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), path, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_mtim.tv_sec < o.st_ctim.tv_sec ||
	    (st.st_mtim.tv_sec == o.st_ctim.tv_sec && st.st_mtim.tv_nsec <= o.st_ctim.tv_nsec))
		return 1;
	if (s->timer_after >= 0) {
		for (r = 0; r < s->nreminders; r++)
			if (s->reminders[r].before > early)
				early = s->reminders[r].before;
		return o.st_ctime + s->timer_after - early <= now + d->rescan_every;
	}
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * A shared spool: the orders claimed as a rescan reaches the first state with a
 * handler, one listing of run/claims/.  Looking at another node's order costs a stat
 * and a read of its claim each, and each poll would pay it for every order at work.
 */
static void
load_claims(struct daemon *d)
{
	struct scan *sc = &d->scan;
	struct dirent *de;
	DIR *dir;
	int fd;

	sc->claims_read = 1;
	sc->nclaimed = 0;
	if (sc->claimed == NULL && (sc->claimed = calloc(CLAIMED_MAX, sizeof *sc->claimed)) == NULL)
		return;
	fd = openat(spool_dirfd(d->sp, SPOOL_DIR_RUN), spool_basename(SPOOL_F_CLAIM),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL && sc->nclaimed < CLAIMED_MAX)
		if (spool_id_ok(de->d_name))
			snprintf(sc->claimed[sc->nclaimed++], sizeof sc->claimed[0], "%.*s",
			    SPOOL_ID_MAX, de->d_name);
	closedir(dir);
	qsort(sc->claimed, (size_t)sc->nclaimed, sizeof sc->claimed[0], by_id);
}

/*
 * Nothing a rescan need look at: this node runs its handler or has it waiting for a
 * worker; or, on a shared spool, a node has claimed it (its own claims come back to
 * it at start, nodes_start).
 */
static int
at_work(struct daemon *d, const struct spool_state *s, const char *id)
{
	if (job_find(d, id) != NULL || queue_has(&d->wq, id))
		return 1;
	if (!d->shared || !state_has_handler(s))
		return 0;
	if (!d->scan.claims_read)
		load_claims(d);
	return d->scan.nclaimed > 0 && bsearch(id, d->scan.claimed, (size_t)d->scan.nclaimed,
	    sizeof d->scan.claimed[0], by_id) != NULL;
}

int
state_busy(const struct spool_state *s)
{
	return s->nactions > 0 || s->timer_after >= 0 || s->gate_file != NULL || s->auto_to >= 0;
}

/*
 * A rescan reads the folders of the busy states first, then the others (its position
 * runs over the states twice), and looks at what needs it itself, a few orders a
 * turn: the looks that events ask for come first each turn, so a rescan of a million
 * orders runs behind them rather than ahead.
 */
int
scan_step(struct daemon *d)
{
	struct scan *sc = &d->scan;
	char id[SPOOL_ID_MAX + 1];
	struct dirent *de;
	time_t now = time(NULL);
	int budget = SCAN_CHUNK, looks = SCAN_LOOKS, n = d->conf->nstates, fd;

	if (!sc->active)
		return 0;
	while (budget > 0 && looks > 0 && !d->fault) {
		const struct spool_state *s;

		if (sc->state >= 2 * n) {
			sc->active = 0;
			sc->last_complete = sc->started;
			if (!sc->said)
				log_info("rescan after start done: %lu orders looked at in %ld s",
				    sc->looked, (long)(now - sc->started));
			sc->said = 1;
			if (sc->again) {
				scan_begin(d);
				return 1;
			}
			return 0;
		}
		s = &d->conf->states[sc->state % n];
		if (sc->dir == NULL) {
			struct stat dst;

			fd = spool_statefd(d->sp, sc->state % n);
			/*
			 * Not this pass's; or a quiet state folder unchanged since the last whole
			 * rescan: nothing new.  A follower of a shared spool looks only where
			 * handlers run.
			 */
			if ((sc->state < n) != state_busy(s) || fd < 0 ||
			    (d->shared && !d->leader && !state_has_handler(s)) ||
			    (!state_busy(s) && sc->last_complete != 0 && fstat(fd, &dst) == 0 &&
			    dst.st_mtime < sc->last_complete - 2)) {
				sc->state++;
				continue;
			}
			if ((fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
			    (sc->dir = fdopendir(fd)) == NULL) {
				if (fd >= 0)
					close(fd);
				log_warn("cannot read %s", SPOOL_NAME(SPOOL_F_STATE, s->name));
				sc->state++;
				continue;
			}
		}
		if ((de = readdir(sc->dir)) == NULL) {
			closedir(sc->dir);
			sc->dir = NULL;
			sc->state++;
			continue;
		}
		budget--;
		if (spool_order_name_id(de->d_name, id) && !queue_has(&d->q, id) &&
		    !at_work(d, s, id) && needs_look(d, dirfd(sc->dir), s, de, id, now)) {
			d->hooks.look(d, id, sc->state % n);
			sc->looked++;
			looks--;
		}
	}
	return 1;
}

void
incoming_look(struct daemon *d)
{
	struct dirent *de;
	struct stat st;
	char reason[600];
	DIR *dir;
	int fd, i;

	d->incoming_pending = 0;
	/* below min_free, bundles wait in incoming/ (space_tick looks again) */
	if (!space_for_orders(d))
		return;
	for (i = 0; i < JOBS_MAX; i++)
		if (d->jobs[i].pid != 0 && d->jobs[i].kind == JOB_INCOMING)
			return;    /* one at a time; its end looks again */
	fd = openat(spool_dirfd(d->sp, SPOOL_DIR_INCOMING), ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		/* dot-names are bundles still being put together */
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			snprintf(reason, sizeof reason,
			    "%.300s: refused: a bundle is a folder, renamed into %s/",
			    SPOOL_NAME(SPOOL_F_INCOMING, de->d_name), SPOOL_NAME(SPOOL_F_INCOMING, NULL));
			if (spool_quarantine(d->sp, fd, de->d_name, reason, NULL, 0) == 0)
				log_warnx("%s", reason);
			continue;
		}
		if (job_start_incoming(d, de->d_name, incoming_done) == NULL)
			log_warn("cannot start a submit of %s", SPOOL_NAME(SPOOL_F_INCOMING, de->d_name));
		break;
	}
	closedir(dir);
}

/* A submit from incoming/ has ended. */
static void
incoming_done(struct daemon *d, struct job *j, int status)
{
	char msg[SPOOL_ERR_MAX];
	size_t n;

	n = j->outlen;
	while (n > 0 && (j->out[n - 1] == '\n' || j->out[n - 1] == '\r'))
		n--;
	j->out[n] = '\0';
	/* raw (valid UTF-8, cut marked): the log escapes it once */
	spool_text_copy(msg, sizeof msg, j->out, n, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_order(LOG_L_INFO, msg, "submitted from %s",
		    SPOOL_NAME(SPOOL_F_INCOMING, j->id));
		if (spool_id_ok(j->out))
			look_soon(d, j->out, -1);
		d->incoming_pending = 1;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 65) {
		log_warnx("%s refused and moved to %s/: %s", SPOOL_NAME(SPOOL_F_INCOMING, j->id),
		    SPOOL_NAME(SPOOL_F_CORRUPT, NULL), msg);
		d->incoming_pending = 1;
	} else {
		/* a full disk and the like: the next rescan tries again */
		log_warnx("%s not submitted yet: %s", SPOOL_NAME(SPOOL_F_INCOMING, j->id),
		    msg[0] ? msg : "interrupted");
	}
}
