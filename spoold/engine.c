/*
 * The engine: look at one order, decide what its state asks for, and do it.
 *
 * A look starts from the tree, never from memory: where the order file is, and what
 * orders/<id>/status (written only by spoold) says about the current visit.  An order
 * in a state its status does not name has arrived: spoold records in the history who
 * moved it, if nobody did, and begins a new visit.  Then the visit goes on: the
 * state's timer and reminders, a move spoold decided but may not have made, the
 * entry actions one by one, and at the end on_success, auto and the gate.
 *
 * Every decision is written before it is carried out (the status names the move, or
 * counts the try, before the rename or the handler), so a spoold killed at any
 * instant finds on restart what it was doing and does it again, never twice more
 * than the workflow allows.  Writes are not synced one by one: the loop syncs the
 * file system once per batch (engine_flush) before any handler starts, so nothing
 * leaves the spool before the move that caused it is durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

#define BACKOFF_MAX 86400
#define TEMPFAIL_BACKOFF_MAX 3600
#define GAVE_UP(s, st) ((st)->step > (s)->nactions)

static void work(struct daemon *d, const char *id, int state, struct spool_status *st);

static const char *
sname(struct daemon *d, int i)
{
	return d->conf->states[i].name;
}

/* A history line by the system (or by the actor given), not synced. */
static void
hist(struct daemon *d, const char *id, const char *actor, const char *from, const char *to,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
hist(struct daemon *d, const char *id, const char *actor, const char *from, const char *to,
    const char *fmt, ...)
{
	struct spool_event ev;
	va_list ap;

	memset(&ev, 0, sizeof ev);
	ev.time = time(NULL);
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.actor, sizeof ev.actor, "%s", actor);
	snprintf(ev.from, sizeof ev.from, "%s", from);
	snprintf(ev.to, sizeof ev.to, "%s", to);
	va_start(ap, fmt);
	vsnprintf(ev.comment, sizeof ev.comment, fmt, ap);
	va_end(ap);
	if (spool_history_add(d->sp, &ev, SPOOL_NOSYNC) < 0)
		log_order(LOG_L_WARN, id, "cannot write its history: %s", strerror(errno));
	d->dirty = 1;
}

static int
put(struct daemon *d, const char *id, const struct spool_status *st)
{
	d->dirty = 1;
	if (spool_status_write(d->sp, id, st, SPOOL_NOSYNC) == 0)
		return 0;
	log_order(LOG_L_WARN, id, "cannot write orders/%s/status: %s", id, strerror(errno));
	return -1;
}

/* Look at id again at `at`; if the heap is full, a rescan by then finds it. */
static void
later(struct daemon *d, const char *id, time_t at)
{
	if (heap_push(&d->heap, at, id) < 0 && (d->next_rescan == 0 || at < d->next_rescan))
		d->next_rescan = at;
}

/* Queue id for a look soon; if the queue is full, a rescan finds it. */
void
engine_soon(struct daemon *d, const char *id)
{
	if (queue_push(&d->q, id) < 0)
		scan_begin(d);
}

#define soon engine_soon

/* orders/<id>/error: everything the handler said (its first 4 KiB), for show. */
static void
save_output(struct daemon *d, const char *id, const char *out, size_t len)
{
	int fd;

	fd = openat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || spool_publish(fd, "error", spool_dirfd(d->sp, SPOOL_DIR_TMP), out, len,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNC }) < 0)
		log_order(LOG_L_WARN, id, "cannot keep its handler's output: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	d->dirty = 1;
}

static long
backoff(const struct spool_state *s, int tries, long cap)
{
	long b = s->backoff > 0 ? s->backoff : 1;

	while (--tries > 0 && b < cap)
		b *= 2;
	return b < cap ? b : cap;
}

/* The last non-empty line of a handler's stderr, escaped to one line of text. */
static void
last_line(const char *out, char *dst, size_t len)
{
	char line[ERR_OUT_MAX + 1];
	const char *end = out + strlen(out), *start;

	while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	memcpy(line, start, (size_t)(end - start));
	line[end - start] = '\0';
	spool_escape(dst, len, line);
}

/*
 * Carry out a move spoold has decided: the status names it first, so a spoold that
 * dies between the two finds the decision and finishes it, and records the move as
 * its own.
 */
static void
move(struct daemon *d, const char *id, int from, struct spool_status *st, int to,
    const char *why)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_SYSTEM, .who = "system", .check = 1,
		.flags = SPOOL_NOSYNC, .comment = why };
	struct spool_err err;

	if (strcmp(st->next, sname(d, to)) != 0) {
		snprintf(st->next, sizeof st->next, "%s", sname(d, to));
		if (put(d, id, st) < 0)
			return;
	}
	if (spool_move(d->sp, id, from, to, &m, &err) == 0) {
		d->moves++;
		d->dirty = 1;
		log_order(LOG_L_INFO, id, "%s -> %s%s%s", sname(d, from), sname(d, to),
		    why != NULL ? ": " : "", why != NULL ? why : "");
		soon(d, id);
		return;
	}
	switch (errno) {
	case EAGAIN:
	case ENOENT:
	case EALREADY:
		/* somebody else moved it first: theirs counts */
		log_order(LOG_L_INFO, id, "%s", err.msg);
		st->next[0] = '\0';
		if (errno != ENOENT)
			put(d, id, st);
		soon(d, id);
		break;
	case EPERM:
	case EBUSY:
		log_order(LOG_L_WARN, id, "%s", err.msg);
		st->next[0] = '\0';
		put(d, id, st);
		break;
	default:
		log_order(LOG_L_WARN, id, "%s; trying again in 10s", err.msg);
		later(d, id, time(NULL) + 10);
	}
}

/*
 * The order has arrived in state: record who moved it if nobody did; begin a visit.
 * -1 if its mover is still writing the history line: look again in a moment.
 */
static int
arrived(struct daemon *d, const char *id, int state, struct spool_status *st, time_t ctime)
{
	const char *to = sname(d, state);
	const char *prev = st->state[0] != '\0' ? st->state : "-";
	struct spool_event last;
	int have, from;

	if (!(have = spool_history_last(d->sp, id, &last) == 0) && errno == EAGAIN) {
		later(d, id, time(NULL));
		return -1;
	}

	if (st->next[0] != '\0' && strcmp(st->next, to) == 0) {
		/* our own move: after a crash its history line may be missing */
		if (!have || strcmp(last.to, to) != 0)
			hist(d, id, "system", prev, to, "recorded after a restart");
	} else if (have && strcmp(last.to, to) == 0 && last.time >= ctime - 1) {
		/* recorded by whoever moved it: spoolctl, a submit */
		log_order(LOG_L_INFO, id, "entered %s (%s)", to, last.actor);
	} else {
		from = st->state[0] != '\0' ? spool_conf_state(d->conf, st->state) : -1;
		if (from < 0 || spool_conf_allows(d->conf, from, state, SPOOL_ACTOR_ADMIN) >= 0) {
			hist(d, id, "hand", prev, to, "moved by hand");
			log_order(LOG_L_INFO, id, "moved by hand from %s to %s", prev, to);
		} else {
			/* not undone: the person meant it; handled where it is now */
			hist(d, id, "hand", prev, to,
			    "moved by hand; the workflow does not let admin move it from %s to %s", prev,
			    to);
			log_order(LOG_L_WARN, id,
			    "moved by hand from %s to %s, which the workflow does not allow", prev, to);
		}
	}
	watch_ungate(d, id);
	snprintf(st->state, sizeof st->state, "%s", to);
	st->since = ctime;
	st->step = st->tries = st->reminded = 0;
	st->due = 0;
	st->next[0] = '\0';
	put(d, id, st);
	return 0;
}

/* Reminders before the timer: each once per visit, as a history event (and mail). */
static time_t
reminders(struct daemon *d, const char *id, int state, struct spool_status *st, time_t fire,
    time_t now)
{
	const struct spool_state *s = &d->conf->states[state];
	time_t next = 0, at;
	int r;

	for (r = 0; r < s->nreminders && r < 30; r++) {
		if (st->reminded & (1 << r))
			continue;
		at = fire - s->reminders[r].before;
		if (at > now) {
			if (next == 0 || at < next)
				next = at;
			continue;
		}
		st->reminded |= 1 << r;
		hist(d, id, "system", s->name, s->name, "reminder %s: %ld days before the timer",
		    s->reminders[r].template, s->reminders[r].before / 86400);
		log_order(LOG_L_INFO, id, "reminder %s", s->reminders[r].template);
		put(d, id, st);
	}
	return next;
}

/* The state's timer has fired: move on, or delete the order. */
static void
timer_fire(struct daemon *d, const char *id, int state, struct spool_status *st)
{
	const struct spool_state *s = &d->conf->states[state];
	struct spool_err err;
	char why[80];
	struct job *j;

	if ((j = job_find(d, id)) != NULL)
		job_cancel(d, j);
	if (s->timer_after % 86400 == 0 && s->timer_after > 0)
		snprintf(why, sizeof why, "after %ld days in %s", s->timer_after / 86400, s->name);
	else
		snprintf(why, sizeof why, "after %lds in %s", s->timer_after, s->name);
	if (s->timer_to != SPOOL_TO_DELETE) {
		move(d, id, state, st, s->timer_to, why);
		return;
	}
	if (spool_remove(d->sp, id, SPOOL_ACTOR_SYSTEM, "system", why, &err) < 0) {
		log_order(LOG_L_WARN, id, "%s", err.msg);
		if (errno != ENOENT && errno != EAGAIN)
			later(d, id, time(NULL) + 60);
		return;
	}
	log_order(LOG_L_INFO, id, "deleted with its files, %s", why);
}

/* Start the action at st->step, or do it here if it is quick. 0: go on with the visit. */
static int
act(struct daemon *d, const char *id, int state, struct spool_status *st)
{
	const struct spool_state *s = &d->conf->states[state];
	const struct spool_action *a = &s->actions[st->step];
	static const char *const names[] = { "notify", "exec", "stitch", "publish", "withdraw",
		"purge", "copy" };

	if (a->kind != SPOOL_ACT_EXEC) {
		/* carried out in later versions (print production, mail) */
		hist(d, id, "system", s->name, s->name, "action %s is not available in this version",
		    names[a->kind]);
		log_order(LOG_L_WARN, id, "action %s is not available in this version; skipped",
		    names[a->kind]);
		st->step++;
		put(d, id, st);
		return 0;
	}
	if (st->tries > s->retries) {
		/* the last try was cut short (spoold stopped): the policy allows no more */
		snprintf(st->error, sizeof st->error, "attempt %d was interrupted", st->tries);
		st->tries = s->retries + 1;
		if (s->on_failure >= 0) {
			move(d, id, state, st, s->on_failure, st->error);
		} else {
			st->step = s->nactions + 1;
			put(d, id, st);
		}
		return 1;
	}
	if (d->njobs + d->nspawn >= d->conf->workers || d->nspawn >= JOBS_MAX) {
		/* no worker free: a finished job looks again */
		if (queue_push(&d->wq, id) < 0)
			d->next_rescan = time(NULL) + 1;
		return 1;
	}
	st->tries++;
	st->attempts++;
	if (put(d, id, st) < 0)
		return 1;
	hist(d, id, "system", s->name, s->name, "attempt %d of %d: %s", st->tries, s->retries + 1,
	    a->argv[0]);
	snprintf(d->spawn[d->nspawn].id, sizeof d->spawn[0].id, "%s", id);
	d->spawn[d->nspawn].state = state;
	d->spawn[d->nspawn].step = st->step;
	d->nspawn++;
	return 1;
}

static int
spawning(const struct daemon *d, const char *id)
{
	int i;

	for (i = 0; i < d->nspawn; i++)
		if (strcmp(d->spawn[i].id, id) == 0)
			return 1;
	return 0;
}

static int
has_option(struct daemon *d, const char *id, int state, const char *opt)
{
	struct spool_order o;

	return spool_order_read(d->sp, id, state, &o, NULL) == 0 && spool_order_has_option(&o, opt);
}

static void
work(struct daemon *d, const char *id, int state, struct spool_status *st)
{
	const struct spool_state *s = &d->conf->states[state];
	time_t now = time(NULL), next = 0, fire;
	char path[SPOOL_ID_MAX + SPOOL_ID_MAX + 2];

	/* The timer counts from the start of the visit, whatever the actions are doing. */
	if (s->timer_after >= 0) {
		fire = st->since + s->timer_after;
		next = reminders(d, id, state, st, fire, now);
		if (fire <= now) {
			timer_fire(d, id, state, st);
			return;
		}
		if (next == 0 || fire < next)
			next = fire;
	}
	if (st->next[0] != '\0') {
		int to = spool_conf_state(d->conf, st->next);
		if (to >= 0 && to != state) {
			move(d, id, state, st, to, "as decided before a restart");
			return;
		}
		st->next[0] = '\0';
		put(d, id, st);
	}
	while (st->step < s->nactions) {
		if (job_find(d, id) != NULL || spawning(d, id))
			goto wait;
		if (st->due > now) {
			later(d, id, st->due);
			goto wait;
		}
		if (act(d, id, state, st) != 0)
			goto wait;
	}
	if (GAVE_UP(s, st))
		goto wait;
	if (s->nactions > 0 && s->on_success >= 0) {
		move(d, id, state, st, s->on_success, NULL);
		return;
	}
	if (s->auto_to >= 0 && (s->auto_option == NULL || has_option(d, id, state, s->auto_option))) {
		move(d, id, state, st, s->auto_to, s->auto_option != NULL ? s->auto_option : NULL);
		return;
	}
	if (s->gate_file != NULL) {
		snprintf(path, sizeof path, "%s/%s", id, s->gate_file);
		if (faccessat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			char why[SPOOL_ID_MAX + 16];
			snprintf(why, sizeof why, "%s is there", s->gate_file);
			move(d, id, state, st, s->gate_to, why);
			return;
		}
		watch_gate(d, id);
	}
wait:
	if (next != 0)
		later(d, id, next);
}

void
engine_look(struct daemon *d, const char *id)
{
	struct spool_status st;
	struct spool_err err;
	char name[SPOOL_ID_MAX + 8];
	struct stat sb;
	struct job *j;
	int state, n;

	d->looks++;
	if ((n = spool_locate(d->sp, id, &state)) <= 0) {
		/* gone: removed, or mid-move and its arrival will call again */
		if ((j = job_find(d, id)) != NULL && n == 0)
			job_cancel(d, j);
		return;
	}
	if (n > 1) {
		log_order(LOG_L_WARN, id, "is in %d states; left alone (run spoolctl check)", n);
		return;
	}
	snprintf(name, sizeof name, "%s.order", id);
	if (fstatat(spool_statefd(d->sp, state), name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (spool_status_read(d->sp, id, &st, &err) < 0) {
		/* a status nobody can read: start the visit afresh, keep the order */
		log_order(LOG_L_WARN, id, "%s; starting its visit again", err.msg);
		memset(&st, 0, sizeof st);
	}
	j = job_find(d, id);
	if (strcmp(st.state, sname(d, state)) != 0) {
		if (j != NULL)
			job_cancel(d, j);    /* it left the state its action was for */
		if (arrived(d, id, state, &st, sb.st_ctime < time(NULL) ? sb.st_ctime : time(NULL)) < 0)
			return;
	}
	work(d, id, state, &st);
}

void
engine_job_done(struct daemon *d, struct job *j, int status)
{
	const struct spool_state *s;
	struct spool_status st;
	struct spool_err err;
	char msg[SPOOL_FIELD_MAX + 1];
	int state, code = -1, ok = 0, temp = 0;
	time_t now = time(NULL);

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	if (j->killed == 2 || spool_locate(d->sp, j->id, &state) != 1 ||
	    strcmp(sname(d, state), j->state) != 0 ||
	    spool_status_read(d->sp, j->id, &st, &err) < 0 ||
	    strcmp(st.state, sname(d, state)) != 0 || st.step != j->step) {
		log_order(LOG_L_INFO, j->id, "the result of its handler is ignored: the order moved on");
		soon(d, j->id);
		goto out;
	}
	s = &d->conf->states[state];
	if (j->killed == 3) {
		/* stopped with spoold: the try does not count, and runs again on restart */
		st.tries--;
		st.attempts--;
		hist(d, j->id, "system", s->name, s->name, "attempt abandoned: spoold stopped");
		put(d, j->id, &st);
		goto out;
	}
	if (j->killed == 1)
		snprintf(msg, sizeof msg, "timed out after %lds", s->timeout);
	else if (WIFSIGNALED(status))
		snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
	else if (code == 0)
		ok = 1;
	else {
		temp = code == 75;
		last_line(j->out, msg, sizeof msg);
		if (msg[0] == '\0')
			snprintf(msg, sizeof msg, "exit code %d", code);
	}
	if (!ok && j->outlen > 0)
		save_output(d, j->id, j->out, j->outlen);
	if (ok) {
		hist(d, j->id, "system", s->name, s->name, "attempt %d succeeded", st.tries);
		st.step++;
		st.tries = 0;
		st.due = 0;
		st.error[0] = '\0';
		put(d, j->id, &st);
		soon(d, j->id);
		goto out;
	}
	snprintf(st.error, sizeof st.error, "%s", msg);
	if (temp) {
		/* try again later; a temporary failure does not use up a retry */
		st.tries--;
		st.due = now + backoff(s, st.attempts, TEMPFAIL_BACKOFF_MAX);
		hist(d, j->id, "system", s->name, s->name, "attempt failed for now, again later: %s",
		    msg);
		log_order(LOG_L_INFO, j->id, "temporary failure: %s", msg);
		put(d, j->id, &st);
		later(d, j->id, st.due);
		goto out;
	}
	hist(d, j->id, "system", s->name, s->name, "attempt %d of %d failed: %s", st.tries,
	    s->retries + 1, msg);
	if (st.tries <= s->retries) {
		st.due = now + backoff(s, st.tries, BACKOFF_MAX);
		log_order(LOG_L_INFO, j->id, "attempt %d failed, again in %lds: %s", st.tries,
		    (long)(st.due - now), msg);
		put(d, j->id, &st);
		later(d, j->id, st.due);
	} else if (s->on_failure >= 0) {
		log_order(LOG_L_WARN, j->id, "failed after %d attempts: %s", st.tries, msg);
		move(d, j->id, state, &st, s->on_failure, msg);
	} else {
		log_order(LOG_L_WARN, j->id, "failed after %d attempts, waiting for a person: %s",
		    st.tries, msg);
		st.step = s->nactions + 1;
		put(d, j->id, &st);
	}
out:
	/* a worker is free: an order that waited for one gets a look */
	{
		char id[SPOOL_ID_MAX + 1];
		if (queue_pop(&d->wq, id))
			soon(d, id);
	}
}

void
engine_flush(struct daemon *d)
{
	if (!d->dirty)
		return;
	if (spool_sync(d->sp) < 0)
		log_warn("cannot sync the spool's file system");
	d->dirty = 0;
}

void
engine_spawn_pending(struct daemon *d)
{
	int i;

	for (i = 0; i < d->nspawn; i++) {
		struct spawn *p = &d->spawn[i];
		if (job_start_exec(d, p->id, p->state, p->step) == NULL)
			later(d, p->id, time(NULL) + 5);
	}
	d->nspawn = 0;
}
