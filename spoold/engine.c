/*
 * The engine: look at one order, decide what its state asks for, and do it.
 *
 * A look starts from the tree, never from memory: where the order file is, and what
 * orders/<id>/status (written only by spoold) says about the current visit.  An order
 * in a state its status does not name has arrived: spoold records in the history who
 * moved it, if nobody did, and begins a new visit.  Then the visit goes on: the
 * state's timer and reminders, the entry actions one by one, and at the end
 * on_success, auto and the gate.
 *
 * Every decision is written before it is carried out, so that a spoold killed at
 * any instant finds on restart what it was doing and does it, never more often than
 * the workflow allows: a move's history line is written before its rename (and cut
 * back if the rename fails), a try is counted in the status before its handler
 * starts.  The status is written once per look, at its end, and only if the order is
 * still in the state it is about: an order that passes through a state (auto,
 * on_success) costs a rename and a history line, nothing more.  Nothing is synced
 * one by one: the file system is synced once per batch (sync.c), and a handler
 * starts only after the sync that covers its batch, so nothing leaves the spool
 * before the move that caused it is durable.
 *
 * A write may fail (a full disk, a read-only remount): the first failure of a look
 * stops its other writes (stall.c), and the look is done again from the tree a few
 * seconds later.  So each write comes before what depends on it: a try's history
 * line before the status that counts it, the status before the handler starts, the
 * give-up in the status before the move to on_failure.  A handler's outcome is kept
 * in run/journal before anything is done with it, and a kept outcome is applied once:
 * the status names the run whose outcome is awaited (running), and an outcome of
 * another run is not applied.
 */
#include <errno.h>
#include <fcntl.h>
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
#define TWO_MAX 256        /* orders in two states said once; more are said again */

static int two_states(struct daemon *d, const char *id);
static int workers(struct daemon *d);

/* One look at one order: what it knows, and what it must write at the end. */
struct look {
	const char *id;
	int state;
	struct spool_status st;
	int dirty;          /* st must be written */
	int gone;           /* the order left the state (moved or removed) */
	int unread;         /* st holds only what this look set: the file is not read yet */
	int own;            /* spoold moved it here, and its line is written */
	int fresh;          /* it arrived in this look (its history's last line is known) */
	int had_status;     /* orders/<id>/status exists */
};

/*
 * An order passing through a state that only moves it on needs nothing from its
 * status; it is read only if the look turns out to need it.
 */
static int
read_status(struct daemon *d, struct look *l)
{
	struct spool_status file;
	struct spool_err err;

	if (!l->unread)
		return 0;
	l->unread = 0;
	if (spool_status_read(d->sp, l->id, &file, &err) < 0) {
		log_order(LOG_L_WARN, l->id, "%s", err.msg);
		return -1;
	}
	l->had_status = file.state[0] != '\0';
	/* what this look decided about the visit stays; the order's life comes from the file */
	if (l->st.state[0] == '\0')
		l->st = file;
	else {
		l->st.attempts = file.attempts;
		snprintf(l->st.error, sizeof l->st.error, "%s", file.error);
	}
	return 0;
}

static const char *
sname(struct daemon *d, int i)
{
	return d->conf->states[i].name;
}

/* "10 days", "36 hours", "10m", "3s": a duration a person reads in a history line. */
static char *
span(long s, char *buf, size_t len)
{
	if (s >= 86400 && s % 86400 == 0)
		snprintf(buf, len, "%ld day%s", s / 86400, s == 86400 ? "" : "s");
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(buf, len, "%ld hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s >= 60 && s % 60 == 0)
		snprintf(buf, len, "%ldm", s / 60);
	else
		snprintf(buf, len, "%lds", s);
	return buf;
}

/* A line about the visit: from and to are both its state. */
#define note(d, l, ...) hist((d), (l)->id, "system", sname((d), (l)->state), \
	sname((d), (l)->state), __VA_ARGS__)

/* Write the visit's status now (before a handler starts or a result is kept). */
static int
save(struct daemon *d, struct look *l)
{
	if (wfailed(d))
		return -1;
	d->dirty = 1;
	if (spool_status_write(d->sp, l->id, &l->st, SPOOL_NOSYNC) < 0)
		return wfail(d, errno, "%s", SPOOL_NAME(SPOOL_F_STATUS, l->id));
	l->dirty = 0;
	return 0;
}

/* Look at id again at `at`; if the heap is full, a rescan by then finds it. */
static void
later(struct daemon *d, const char *id, time_t at)
{
	if (heap_push(&d->heap, at, id) < 0 && (d->next_rescan == 0 || at < d->next_rescan))
		d->next_rescan = at;
}

static long
backoff(const struct spool_state *s, int n, long cap)
{
	long b = s->backoff > 0 ? s->backoff : 1;

	while (--n > 0 && b < cap)
		b *= 2;
	return b < cap ? b : cap;
}

/*
 * The last non-empty line of a handler's stderr, as it wrote it: the history, the
 * status file and the log each escape it once, where it is written.
 */
static void
last_line(const char *out, char *dst, size_t len)
{
	const char *end = out + strlen(out), *start;

	while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	spool_text_copy(dst, len, start, (size_t)(end - start), 0);
}

/* orders/<id>/error: what the last failing handler said (its first 4 KiB), or none. */
static void
keep_output(struct daemon *d, const char *id, const char *out, size_t len)
{
	if (wfailed(d))
		return;
	if (spool_error_write(d->sp, id, out, len, SPOOL_NOSYNC) < 0 && errno != ENOENT)
		wfail(d, errno, "%s", SPOOL_NAME(SPOOL_F_ERROR, id));
	d->dirty = 1;
}

/*
 * Move the order on, as the system.  The history line goes first (SPOOL_MOVE_INTENT):
 * a spoold that dies before the rename finds the line on restart and makes the move.
 */
static void
move_as(struct daemon *d, struct look *l, int to, int flags, const char *why, unsigned actor,
    const char *who)
{
	struct spool_move m = { .actor = actor, .who = who, .check = 1,
		.flags = SPOOL_NOSYNC | SPOOL_MOVE_INTENT | flags, .comment = why };
	struct spool_err err;
	struct spool_event last;
	int t;

	if (wfailed(d))
		return;
	/*
	 * An order that waited here (for a handler, a timer, a gate) may have had this
	 * move decided and written down by a spoold that died before the rename: then
	 * that move is made, without a second line.
	 */
	if (!l->fresh && !(flags & SPOOL_MOVE_NOLINE) &&
	    spool_history_last(d->sp, l->id, &last) == 0 && strcmp(last.actor, who) == 0 &&
	    strcmp(last.from, sname(d, l->state)) == 0 && strcmp(last.to, last.from) != 0 &&
	    (t = spool_conf_state(d->conf, last.to)) >= 0) {
		log_order(LOG_L_INFO, l->id, "finishing the move to %s begun before a restart",
		    last.to);
		to = t;
		m.flags |= SPOOL_MOVE_NOLINE;
	}
	if (spool_move(d->sp, l->id, l->state, to, &m, &err) == 0) {
		d->moves++;
		d->dirty = 1;
		l->gone = 1;
		log_order(LOG_L_DEBUG, l->id, "%s -> %s%s%s", sname(d, l->state), sname(d, to),
		    why != NULL ? ": " : "", why != NULL ? why : "");
		watch_moved(l->id, to);
		look_soon(d, l->id, to + HINT_OWN);
		return;
	}
	switch (errno) {
	case EAGAIN:
	case ENOENT:
	case EALREADY:
		/* somebody else moved it first: theirs counts */
		log_order(LOG_L_INFO, l->id, "%s", err.msg);
		l->gone = 1;
		look_soon(d, l->id, -1);
		break;
	case EPERM:
	case EBUSY:
		log_order(LOG_L_WARN, l->id, "%s", err.msg);
		break;
	case EEXIST:
		/* a copy is in the state it goes to: two states, a person's call */
		two_states(d, l->id);
		break;
	default:
		/* nothing of the move was made: the look is done again in a moment */
		wfail(d, errno, "the move to %s", sname(d, to));
	}
}

static void
move(struct daemon *d, struct look *l, int to, int flags, const char *why)
{
	move_as(d, l, to, flags, why, SPOOL_ACTOR_SYSTEM, "system");
}

/*
 * An order in two states (a cp where mv was meant, a restore from a backup) gets no
 * entry action and no handler: which copy is right is a person's call, and spoolctl
 * check --repair makes it by the history (spool-layout(5)).  Said once per order.
 */
static struct {
	char id[TWO_MAX][SPOOL_ID_MAX + 1];
	unsigned next;
} two;

static int
two_said(const char *id, int forget)
{
	unsigned i;

	for (i = 0; i < TWO_MAX; i++)
		if (strcmp(two.id[i], id) == 0) {
			if (forget)
				two.id[i][0] = '\0';
			return 1;
		}
	return 0;
}

static int
two_states(struct daemon *d, const char *id)
{
	char where[2 * SPOOL_NAME_MAX + 8] = "";
	int n, i, k;

	if ((n = spool_locate(d->sp, id, &i)) <= 1) {
		if (two.id[0][0] != '\0' || two.next > 0)
			two_said(id, 1);
		return 0;
	}
	if (two_said(id, 0))
		return 1;
	snprintf(two.id[two.next++ % TWO_MAX], sizeof two.id[0], "%s", id);
	for (k = 0, n = 0; k < d->conf->nstates && n < 2; k++) {
		char name[SPOOL_ID_MAX + 8];
		struct stat sb;

		spool_name(SPOOL_F_ORDER_NAME, id, name, sizeof name);
		if (fstatat(spool_statefd(d->sp, k), name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s",
			    n++ > 0 ? " and " : "", sname(d, k));
		}
	}
	log_order(LOG_L_WARN, id, "is in two states (%s): nothing runs for it until a person "
	    "chooses; spoolctl check --repair keeps the copy its history names", where);
	return 1;
}

/*
 * Whether a copy of the order may be left where it was: an admin's cp where mv was
 * meant, or a backup restored, leaves one in the state the history last names (or,
 * when a line names this state, the one it came from).  One stat there instead of
 * one in every state; spoolctl check finds any other pair.
 */
static int
copy_left(struct daemon *d, const struct look *l, const struct spool_event *last)
{
	const char *was = strcmp(last->to, sname(d, l->state)) == 0 ? last->from : last->to;
	char name[SPOOL_ID_MAX + 8];
	struct stat sb;
	int i = spool_conf_state(d->conf, was);

	spool_name(SPOOL_F_ORDER_NAME, l->id, name, sizeof name);
	return i >= 0 && i != l->state &&
	    fstatat(spool_statefd(d->sp, i), name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * The order is in a state its status does not name.  Record who moved it if nobody
 * did, and begin a visit.  Returns 1 to go on, 0 if the look ends here.
 */
static int
arrived(struct daemon *d, struct look *l, time_t ctime)
{
	const char *to = sname(d, l->state);
	const char *prev;
	struct spool_event last;
	int from, to_i;

	prev = "-";
	if (l->own) {
		/* our own move, a moment ago: its line is written */
	} else if (spool_history_last(d->sp, l->id, &last) < 0) {
		if (errno == EAGAIN) {
			/* its mover holds the history: look again in a moment */
			later(d, l->id, time(NULL));
			return 0;
		}
		if (two_states(d, l->id))
			return 0;
		read_status(d, l);
		prev = l->st.state[0] != '\0' ? l->st.state : "-";
		hist(d, l->id, "hand", prev, to, "moved by hand");
	} else if (copy_left(d, l, &last) && two_states(d, l->id)) {
		return 0;
	} else if (strcmp(last.to, to) == 0) {
		/* recorded by whoever moved it: spoolctl, a submit, spoold */
		log_order(LOG_L_DEBUG, l->id, "entered %s (%s)", to, last.actor);
	} else if (strcmp(last.actor, "system") == 0 && strcmp(last.from, to) == 0 &&
	    (to_i = spool_conf_state(d->conf, last.to)) >= 0) {
		/* our own move, decided and written down, not made: spoold died between */
		log_order(LOG_L_INFO, l->id, "finishing the move to %s begun before a restart",
		    last.to);
		move(d, l, to_i, SPOOL_MOVE_NOLINE, NULL);
		return 0;
	} else {
		/* a mover we do not know: where it was, from the status or else the history */
		read_status(d, l);
		prev = l->st.state[0] != '\0' ? l->st.state : "-";
		if (l->st.state[0] == '\0' && spool_conf_state(d->conf, last.to) >= 0)
			prev = last.to;
		from = spool_conf_state(d->conf, prev);
		if (from >= 0 && d->conf->states[from].locked) {
			if (hist(d, l->id, "hand", prev, to, "moved by hand out of %s, which is locked",
			    prev) == 1)
				log_order(LOG_L_WARN, l->id, "moved by hand out of %s, which is locked",
				    prev);
		} else if (from < 0 ||
		    spool_conf_allows(d->conf, from, l->state, SPOOL_ACTOR_ADMIN) >= 0) {
			if (hist(d, l->id, "hand", prev, to, "moved by hand") == 1)
				log_order(LOG_L_INFO, l->id, "moved by hand from %s to %s", prev, to);
		} else {
			/* not undone: the person meant it; handled where it is now */
			if (hist(d, l->id, "hand", prev, to,
			    "moved by hand; the workflow does not let admin move it from %s to %s", prev,
			    to) == 1)
				log_order(LOG_L_WARN, l->id,
				    "moved by hand from %s to %s, which the workflow does not allow", prev,
				    to);
		}
	}
	watch_ungate(d, l->id);
	l->fresh = 1;
	snprintf(l->st.state, sizeof l->st.state, "%s", to);
	l->st.since = ctime;
	l->st.visits++;
	l->st.step = l->st.tries = l->st.reminded = l->st.deferred = 0;
	/* a handler of the visit before is cancelled (engine_look): its outcome is not this visit's */
	l->st.running = 0;
	l->st.due = 0;
	l->dirty = 1;
	return 1;
}

/* Reminders before the timer: each once per visit, as a history event (and mail). */
static time_t
reminders(struct daemon *d, struct look *l, time_t fire, time_t now)
{
	const struct spool_state *s = &d->conf->states[l->state];
	char buf[32], why[SPOOL_FIELD_MAX + 1], key[SPOOL_NAME_MAX + 16];
	time_t next = 0, at;
	int r, k;

	for (r = 0; r < s->nreminders && r < 30; r++) {
		if (l->st.reminded & (1 << r))
			continue;
		at = fire - s->reminders[r].before;
		if (at > now) {
			if (next == 0 || at < next)
				next = at;
			continue;
		}
		k = note(d, l, "reminder %s, %s before the timer", s->reminders[r].template,
		    span(s->reminders[r].before, buf, sizeof buf));
		if (wfailed(d))
			return 0;
		l->st.reminded |= 1 << r;
		l->dirty = 1;
		if (k == 1)    /* not again when a stalled look is done again */
			log_order(LOG_L_INFO, l->id, "reminder %s", s->reminders[r].template);
		if (d->conf->mail->relay == NULL)
			continue;
		snprintf(key, sizeof key, "%s-r%d", s->name, r);
		if ((k = notify(d, l->id, l->state, s->reminders[r].template, "customer", "", NULL, at,
		    key, why, sizeof why)) == 0)
			note(d, l, "%s", why);
		else if (k == -2)
			return 0;    /* the mail could not be written: the look is done again */
		else {
			note(d, l, "mail %s to the customer not sent: %s", s->reminders[r].template,
			    why);
			log_order(LOG_L_WARN, l->id, "mail %s to the customer not sent: %s",
			    s->reminders[r].template, why);
		}
	}
	return next;
}

/* The state's timer has fired: move on, or delete the order. */
static void
timer_fire(struct daemon *d, struct look *l)
{
	const struct spool_state *s = &d->conf->states[l->state];
	struct spool_err err;
	char why[80], buf[32];
	struct job *j;

	if (wfailed(d))
		return;
	if ((j = job_find(d, l->id)) != NULL)
		job_cancel(d, j);
	snprintf(why, sizeof why, "after %s in %s", span(s->timer_after, buf, sizeof buf),
	    s->name);
	if (s->timer_to != SPOOL_TO_DELETE) {
		move(d, l, s->timer_to, 0, why);
		return;
	}
	if (spool_remove(d->sp, l->id, SPOOL_ACTOR_SYSTEM, "system", why, &err) < 0) {
		if (errno == ENOENT || errno == EAGAIN)
			log_order(LOG_L_INFO, l->id, "%s", err.msg);
		else if (errno == EEXIST)
			two_states(d, l->id);
		else
			wfail(d, errno, "the removal of the order (%s)", err.msg);
		return;
	}
	l->gone = 1;
	log_order(LOG_L_INFO, l->id, "deleted with its files, %s", why);
}

/* Stitching failed for good: the admin hears what qpdf said (document 002). */
static void
stitch_failed(struct daemon *d, struct look *l, const char *msg)
{
	const struct spool_state *s = &d->conf->states[l->state];
	char why[SPOOL_FIELD_MAX + 1], key[32];
	int to = s->on_failure >= 0 ? s->on_failure : l->state, r;

	if (d->conf->mail->relay == NULL)
		return;
	snprintf(key, sizeof key, "stitch-failed-v%d", l->st.visits);
	if ((r = notify(d, l->id, to, "stitch-failed", "admin", msg, NULL, l->st.since, key, why,
	    sizeof why)) == 0)
		note(d, l, "%s", why);
	else if (r != -2) {
		note(d, l, "mail stitch-failed to the admin not sent: %s", why);
		log_order(LOG_L_WARN, l->id, "mail stitch-failed to the admin not sent: %s", why);
	}
}

/*
 * The action's tries are used up: on_failure, or wait for a person.  The give-up is
 * written first (step past the actions); a look that finds it so and the order still
 * here makes the move, so a failed write or a crash between the two loses neither.
 * say: log it (not when a stalled look does it again).
 */
static void
give_up(struct daemon *d, struct look *l, const char *why, int say)
{
	const struct spool_state *s = &d->conf->states[l->state];

	if (s->on_failure < 0) {
		if (note(d, l, "gave up after %d attempts; waiting for a person", l->st.tries) == 1)
			log_order(LOG_L_WARN, l->id, "failed after %d attempts, waiting for a "
			    "person: %s", l->st.tries, why);
	} else if (say)
		log_order(LOG_L_WARN, l->id, "failed after %d attempts: %s", l->st.tries, why);
	l->st.step = s->nactions + 1;
	l->dirty = 1;
	if (s->on_failure >= 0 && save(d, l) == 0)
		move(d, l, s->on_failure, 0, why);
}

/* A notify action: the mail is queued (or why not is said), and the visit goes on. */
static int
act_notify(struct daemon *d, struct look *l, const struct spool_state *s,
    const struct spool_action *a)
{
	char why[SPOOL_FIELD_MAX + 1], key[SPOOL_NAME_MAX + 40];
	struct spool_event last;
	const char *msg = l->st.error;
	int r;

	/* the message: what the arrival's line says (a printer's, an admin's), else the error */
	if (spool_history_last(d->sp, l->id, &last) == 0 && strcmp(last.to, s->name) == 0 &&
	    strcmp(last.from, s->name) != 0 && last.comment[0] != '\0')
		msg = last.comment;
	/* history is internal: the customer hears a comment only if the admin said so */
	if (strcmp(a->argv[1], "customer") == 0)
		msg = msg == last.comment && spool_mail_tell_get(d->sp, l->id, s->name, msg) ?
		    msg : "";
	/* the event: this visit (its number, and since) of this state, this step */
	snprintf(key, sizeof key, "%s-v%d-n%d", s->name, l->st.visits, l->st.step);
	if ((r = notify(d, l->id, l->state, a->argv[0], a->argv[1], msg, NULL, l->st.since,
	    key, why, sizeof why)) == 0)
		note(d, l, "%s", why);
	else if (r == -2)
		return 1;    /* the mail could not be written: the look is done again */
	else {
		/* mail off is a choice; anything else is worth a warning */
		note(d, l, "mail %s to the %s not sent: %s", a->argv[0], a->argv[1], why);
		log_order(d->conf->mail->relay == NULL ? LOG_L_DEBUG : LOG_L_WARN, l->id,
		    "mail %s to the %s not sent: %s", a->argv[0], a->argv[1], why);
	}
	if (wfailed(d))
		return 1;
	l->st.step++;
	l->dirty = 1;
	return 0;
}

/* Start the action at the visit's step, or do it here.  0: go on with the visit. */
static int
act(struct daemon *d, struct look *l)
{
	const struct spool_state *s = &d->conf->states[l->state];
	const struct spool_action *a = &s->actions[l->st.step];
	static const char *const names[] = { "notify", "exec", "stitch", "publish", "withdraw",
		"purge", "copy" };
	char what[SPOOL_COMMENT_MAX];
	struct spool_event last;
	int k;

	if (a->kind == SPOOL_ACT_NOTIFY)
		return act_notify(d, l, s, a);
	if (!d->leader && a->kind != SPOOL_ACT_EXEC)
		return 1;    /* a built-in action (publishing, stitching) is the leader's */
	if (l->st.running != 0) {
		/* a run whose outcome never came: spoold stopped while it ran */
		l->st.running = 0;
		l->dirty = 1;
		if (a->kind != SPOOL_ACT_EXEC) {
			/* a built-in action runs again, as the same try: each is idempotent */
			note(d, l, "attempt %d was interrupted; it runs again", l->st.tries);
			l->st.tries--;
			l->st.attempts--;
		} else if (l->st.tries <= s->retries) {
			snprintf(l->st.error, sizeof l->st.error, "attempt %d was interrupted", l->st.tries);
			note(d, l, "attempt %d was interrupted; the workflow allows another", l->st.tries);
		}
	}
	if (l->st.tries > s->retries && a->kind != SPOOL_ACT_EXEC) {
		/* a built-in action cut short runs again, as the same try: each is idempotent */
		note(d, l, "attempt %d was interrupted; it runs again", l->st.tries);
		l->st.tries--;
		l->st.attempts--;
	}
	if (l->st.tries > s->retries) {
		/* the last try was cut short (spoold died): the policy allows no more */
		snprintf(l->st.error, sizeof l->st.error, "attempt %d was interrupted", l->st.tries);
		k = note(d, l, "attempt %d was interrupted", l->st.tries);
		l->st.tries = s->retries + 1;
		give_up(d, l, l->st.error, k == 1);
		return 1;
	}
	if (wfailed(d))
		return 1;
	/* no worker free (or no slot in run/journal for its outcome): engine_workers looks again */
	if (d->njobs + d->nspawn >= workers(d) || d->nspawn >= JOBS_MAX ||
	    d->nstalls + d->njobs + d->nspawn >= STALLS_MAX) {
		if (queue_push(&d->wq, l->id, l->state) < 0)
			d->next_rescan = time(NULL) + 1;
		return 1;
	}
	if (two_states(d, l->id))
		return 1;
	/*
	 * Counted before it starts: a try cut short by a crash still counts.  Its line
	 * first, so that a look done again after a failed status write finds it written;
	 * a SIGKILL between the two leaves the line without the count, and the look after
	 * the restart finds it as the history's last line and does not write it again.
	 */
	l->st.tries++;
	l->st.attempts++;
	l->st.running = ++l->st.runs;
	snprintf(what, sizeof what, "attempt %d of %d: %s on %s", l->st.tries, s->retries + 1,
	    a->kind == SPOOL_ACT_EXEC ? a->argv[0] : names[a->kind], d->node);
	if (spool_history_last(d->sp, l->id, &last) != 0 || strcmp(last.comment, what) != 0 ||
	    strcmp(last.from, s->name) != 0 || strcmp(last.to, s->name) != 0)
		note(d, l, "%s", what);
	if (save(d, l) < 0)
		return 1;
	snprintf(d->spawn[d->nspawn].id, sizeof d->spawn[0].id, "%s", l->id);
	d->spawn[d->nspawn].state = l->state;
	d->spawn[d->nspawn].step = l->st.step;
	d->spawn[d->nspawn].try = l->st.tries;
	d->spawn[d->nspawn].visit = l->st.visits;
	d->spawn[d->nspawn].run = l->st.running;
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
has_option(struct daemon *d, struct look *l, const char *opt)
{
	struct spool_order o;

	return spool_order_read(d->sp, l->id, l->state, &o, NULL) == 0 &&
	    spool_order_has_option(&o, opt);
}

static void
work(struct daemon *d, struct look *l)
{
	const struct spool_state *s = &d->conf->states[l->state];
	time_t now = time(NULL), next = 0, fire;
	char path[SPOOL_ID_MAX * 2 + 2];

	/* The timer counts from the start of the visit, whatever the actions are doing. */
	if (s->timer_after >= 0) {
		fire = l->st.since + s->timer_after;
		next = reminders(d, l, fire, now);
		if (wfailed(d))
			return;
		if (fire <= now) {
			timer_fire(d, l);
			return;
		}
		if (next == 0 || fire < next)
			next = fire;
	}
	while (l->st.step < s->nactions) {
		if (job_find(d, l->id) != NULL || spawning(d, l->id))
			goto wait;
		if (l->st.due > now && s->actions[l->st.step].kind == SPOOL_ACT_PUBLISH &&
		    l->st.tries == 0) {
			/* waiting for a delivery window, which a reload may have moved */
			l->st.due = print_window_due(d, l->id, now);
			l->dirty = 1;
		}
		if (l->st.due > now) {
			later(d, l->id, l->st.due);
			goto wait;
		}
		if (act(d, l) != 0)
			goto wait;
	}
	if (l->st.step > s->nactions) {
		/* gave up: on to on_failure (a move a failed write or a crash kept from being
		 * made), or waiting for a person */
		if (s->on_failure >= 0)
			move(d, l, s->on_failure, 0, l->st.error[0] != '\0' ? l->st.error : NULL);
		goto wait;
	}
	if (d->conf->nqueues > 0 && d->leader) {
		/* what the printers say moves the order, as the printer */
		char why[SPOOL_JOB_MSG_MAX + SPOOL_ID_MAX + 16];
		time_t recheck = 0;
		int to = printer_look(d, l->id, l->state, why, sizeof why, &recheck);

		if (wfailed(d))
			return;
		if (recheck != 0 && (next == 0 || recheck < next))
			next = recheck;
		if (to >= 0) {
			move_as(d, l, to, 0, why, SPOOL_ACTOR_PRINTER, "printer");
			if (l->gone)
				return;
		}
	}
	if (s->nactions > 0 && s->on_success >= 0) {
		move(d, l, s->on_success, 0, NULL);
		return;
	}
	if (s->auto_to >= 0 && (s->auto_option == NULL || has_option(d, l, s->auto_option))) {
		move(d, l, s->auto_to, 0, s->auto_option);
		return;
	}
	if (s->gate_file != NULL) {
		snprintf(path, sizeof path, "%s/%s", l->id, s->gate_file);
		if (faccessat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			char why[SPOOL_ID_MAX + 16];
			snprintf(why, sizeof why, "%s is there", s->gate_file);
			move(d, l, s->gate_to, 0, why);
			return;
		}
		watch_gate(d, l->id);
	}
wait:
	if (next != 0)
		later(d, l->id, next);
}

/* A state an order only passes through: nothing but an unconditional auto move. */
static int
transit(const struct spool_state *s)
{
	return s->nactions == 0 && s->timer_after < 0 && s->gate_file == NULL && s->auto_to >= 0 &&
	    s->auto_option == NULL;
}

/* A state where an order only waits for a person: no action, timer, gate or auto move. */
static int
quiet(const struct spool_state *s)
{
	return !state_busy(s);
}

/* 1 if the order file name is in state (-1: none) as a plain file, its stat in *sb. */
static int
in_state(struct daemon *d, int state, const char *name, struct stat *sb)
{
	return state >= 0 && state < d->conf->nstates &&
	    fstatat(spool_statefd(d->sp, state), name, sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb->st_mode);
}

/*
 * Where the order is: l->state and its file's *sb.  0 when it is gone or in two
 * states (that is dealt with here), so there is nothing to look at.
 */
static int
find_order(struct daemon *d, struct look *l, int hint, int own, struct stat *sb)
{
	char name[SPOOL_ID_MAX + 8];
	struct job *j;
	int n;

	spool_name(SPOOL_F_ORDER_NAME, l->id, name, sizeof name);
	/*
	 * Just moved here by spoold, to a state it only passes through: the move on
	 * finds out itself if somebody took it meanwhile, so no need to look first.
	 * Else look where it was seen first: mostly it is there, and that costs one
	 * fstatat.  Else look everywhere.  (An order in two states is found at its
	 * arrival, and before a handler starts.)
	 */
	if (own && hint >= 0 && hint < d->conf->nstates && transit(&d->conf->states[hint])) {
		l->state = hint;
		l->own = 1;
		sb->st_ctime = time(NULL);
	} else if (in_state(d, hint, name, sb)) {
		l->state = hint;
		l->own = own;
	} else {
		if ((n = spool_locate(d->sp, l->id, &l->state)) <= 0) {
			/* gone: removed, or mid-move and its arrival will call again */
			if ((j = job_find(d, l->id)) != NULL && n == 0)
				job_cancel(d, j);
			return 0;
		}
		if (n > 1) {
			two_states(d, l->id);
			return 0;
		}
		if (fstatat(spool_statefd(d->sp, l->state), name, sb, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
	}
	return 1;
}

/* The order's status, or none for a state it only passes through. */
static void
read_visit(struct daemon *d, struct look *l, time_t ctime)
{
	struct spool_err err;

	if (transit(&d->conf->states[l->state]))
		l->unread = 1;
	else if (spool_status_read(d->sp, l->id, &l->st, &err) < 0) {
		/* a status nobody can read: begin the visit again, without guessing a mover */
		log_order(LOG_L_WARN, l->id, "%s; its visit of %s begins again", err.msg,
		    sname(d, l->state));
		memset(&l->st, 0, sizeof l->st);
		snprintf(l->st.state, sizeof l->st.state, "%s", sname(d, l->state));
		l->st.since = ctime;
		l->dirty = 1;
		note(d, l, "%s was unreadable; the visit begins again",
		    SPOOL_NAME(SPOOL_F_STATUS, l->id));
	} else
		l->had_status = l->st.state[0] != '\0';
}

/*
 * The handlers this node runs at once.  A leader with other nodes alive runs half
 * its workers' worth and leaves the rest to them (they find the orders at their next
 * poll): its loop is the one that cannot be shared, as every order passes through it.
 */
static int
workers(struct daemon *d)
{
	if (d->shared && d->leader && nodes_live(d) > 0)
		return (d->conf->workers + 1) / 2;
	return d->conf->workers;
}

/*
 * On a shared spool, may this node look at the order?  In a state with a handler, if
 * it holds the order's claim or takes it now, and has a worker free for it; in any
 * other state, if it leads.
 */
static int
may_look(struct daemon *d, struct look *l)
{
	const struct spool_state *s = &d->conf->states[l->state];
	struct job *j;

	if (!state_has_handler(s)) {
		/* moved on (by hand) while a handler of this node ran for it: as look() does */
		if ((j = job_find(d, l->id)) != NULL)
			job_cancel(d, j);
		return d->leader;
	}
	if (job_find(d, l->id) == NULL && !spawning(d, l->id) &&
	    d->njobs + d->nspawn >= workers(d)) {
		/*
		 * every worker busy: a node with one free takes it, or engine_workers here,
		 * still as this node's own move when it was (no arrival to check again)
		 */
		queue_push(&d->wq, l->id, l->state + (l->own ? HINT_OWN : 0));
		return 0;
	}
	return claim_take(d, l->id, s->timeout);
}

/*
 * After a look or a job: a claim that no job of this node needs any more is let go.
 * One whose order waits for a look here (a handler that succeeded, moved on next) is
 * kept for it: letting it go and taking it again costs a dozen round trips.
 */
static void
settle(struct daemon *d, const char *id, const struct job *ending)
{
	const struct job *j;

	if (!d->shared)
		return;
	j = job_find(d, id);
	if ((j == NULL || j == ending) && !spawning(d, id) && !queue_has(&d->q, id))
		claim_release(d, id);
}

static void
look(struct daemon *d, const char *id, int hint)
{
	const struct spool_state *s;
	struct look l = { .id = id };
	struct stat sb;
	struct job *j;
	time_t ctime;
	int own = hint >= HINT_OWN;

	d->looks++;
	if (own)
		hint -= HINT_OWN;
	if (!find_order(d, &l, hint, own, &sb) || (d->shared && !may_look(d, &l)))
		return;
	ctime = sb.st_ctime < time(NULL) ? sb.st_ctime : time(NULL);
	log_order(LOG_L_DEBUG, id, "look in %s", sname(d, l.state));
	s = &d->conf->states[l.state];
	read_visit(d, &l, ctime);
	if (strcmp(l.st.state, sname(d, l.state)) != 0) {
		if ((j = job_find(d, id)) != NULL)
			job_cancel(d, j);    /* it left the state its action was for */
		if (!arrived(d, &l, ctime))
			return;
	}
	work(d, &l);
	if (!l.dirty || l.gone || wfailed(d) || read_status(d, &l) < 0)
		return;
	if (quiet(s) && l.st.attempts == 0 && l.st.error[0] == '\0') {
		/*
		 * Nothing to wait for and nothing to remember: the history's last line says
		 * how it came here, so a status would only cost a file per order.
		 */
		if (l.had_status && spool_status_remove(d->sp, id) < 0)
			save(d, &l);
		d->dirty |= l.had_status;
		return;
	}
	save(d, &l);
}

void
engine_look(struct daemon *d, const char *id, int hint)
{
	struct stall *st = d->nstalls > 0 ? stall_find(d, id) : NULL;
	struct wctx w = { .id = id };

	if (st != NULL) {
		if (st->next > time(NULL))
			return;    /* its writes are tried again at st->next (stalls_due) */
		/* a kept outcome first: the look after it goes on from what it wrote */
		if (st->rec.run != 0 && engine_apply(d, st) < 0)
			return;
		st = stall_find(d, id);
		hint = -1;
	}
	w.st = st;
	d->w = &w;
	look(d, id, hint);
	d->w = NULL;
	stall_settle(d, &w);
	settle(d, id, NULL);
}

/* A try that does not count: given back, as if it had not started. */
static void
give_back(struct look *l)
{
	l->st.tries--;
	l->st.attempts--;
	l->st.running = 0;
}

/* 1 if r is the outcome of the run its order waits for, in the state it is about. */
static int
current(struct daemon *d, const struct spool_jrec *r, struct look *l)
{
	char name[SPOOL_ID_MAX + 8];
	struct spool_err err;
	struct stat sb;
	int n = 0;

	/* mostly it is still where its handler ran: one fstatat (two states: see find_order) */
	spool_name(SPOOL_F_ORDER_NAME, r->id, name, sizeof name);
	l->state = spool_conf_state(d->conf, r->state);
	if (in_state(d, l->state, name, &sb))
		n = 1;
	if (n == 0 && ((n = spool_locate(d->sp, r->id, &l->state)) != 1 ||
	    strcmp(sname(d, l->state), r->state) != 0)) {
		log_order(LOG_L_INFO, r->id, "the result of its handler is ignored: the order %s",
		    n > 1 ? "is in two states" : "moved on");
		look_soon(d, r->id, -1);
		return 0;
	}
	if (spool_status_read(d->sp, r->id, &l->st, &err) < 0) {
		/* a status that cannot be read now (EIO): the outcome waits for it */
		wfail(d, errno, "(reading) %s", SPOOL_NAME(SPOOL_F_STATUS, r->id));
		return 0;
	}
	if (strcmp(l->st.state, sname(d, l->state)) != 0 || l->st.visits != r->visit ||
	    l->st.running != r->run) {
		/* another visit, or this run's outcome is kept already */
		if (l->st.running != r->run)
			log_order(LOG_L_DEBUG, r->id, "the outcome of run %d is kept already", r->run);
		else
			log_order(LOG_L_INFO, r->id, "the result of its handler is ignored: the order "
			    "moved on");
		look_soon(d, r->id, -1);
		return 0;
	}
	return 1;
}

/* A handler that failed: later (a delivery window, a temporary failure, a retry), or never. */
static void
failed(struct daemon *d, struct look *l, const struct spool_jrec *r, const char *out,
    const char *msg, int temp, time_t now)
{
	const struct spool_state *s = &d->conf->states[l->state];
	int k;

	keep_output(d, r->id, out, r->outlen);
	if (temp && r->step < s->nactions && s->actions[r->step].kind == SPOOL_ACT_PUBLISH) {
		/* not a failure: jobs wait for their queue's delivery window */
		give_back(l);
		l->st.due = print_window_due(d, r->id, now);
		if (note(d, l, "%s; publishing again at the window", msg) == 1)
			log_order(LOG_L_INFO, r->id, "%s", msg);
		save(d, l);
		later(d, r->id, l->st.due);
		return;
	}
	snprintf(l->st.error, sizeof l->st.error, "%s", msg);
	if (temp) {
		/* try again later; a temporary failure does not use up a retry */
		l->st.tries--;
		l->st.deferred++;
		l->st.due = now + backoff(s, l->st.deferred, TEMPFAIL_BACKOFF_MAX);
		if (note(d, l, "attempt failed for now, again later: %s", msg) == 1)
			log_order(LOG_L_INFO, r->id, "temporary failure: %s", msg);
		save(d, l);
		later(d, r->id, l->st.due);
		return;
	}
	k = note(d, l, "attempt %d of %d failed: %s", l->st.tries, s->retries + 1, msg);
	if (l->st.tries <= s->retries) {
		l->st.due = now + backoff(s, l->st.tries, BACKOFF_MAX);
		if (k == 1)
			log_order(LOG_L_INFO, r->id, "attempt %d failed, again in %lds: %s",
			    l->st.tries, (long)(l->st.due - now), msg);
		save(d, l);
		later(d, r->id, l->st.due);
		return;
	}
	if (r->step < s->nactions && s->actions[r->step].kind == SPOOL_ACT_STITCH)
		stitch_failed(d, l, msg);
	give_up(d, l, msg, k == 1);
	if (l->dirty && !l->gone)
		save(d, l);
}

/*
 * Publish the counts in run/stats for spoolweb's metrics: not synced, as they are for
 * watching, and a write that fails is only a stale count.  At most once a second
 * (now 0: at once), since on a network file system each write is a few round trips.
 */
void
engine_stats(struct daemon *d, time_t now)
{
	static const char *const names[RUN_RESULTS] = { "ok", "failed", "deferred", "timeout",
		"killed" };
	struct spool_pub pub = { .flags = SPOOL_PUB_NOSYNC };
	char buf[512];
	int i, n;

	if (!d->stats_pending || (now != 0 && now < d->stats_at))
		return;
	d->stats_pending = 0;
	d->stats_at = (now != 0 ? now : time(NULL)) + 1;
	n = snprintf(buf, sizeof buf, "started %lld\n", (long long)d->started);
	for (i = 0; i < RUN_RESULTS; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "runs %s %lu\n", names[i], d->runs[i]);
	spool_publish(spool_node_dirfd(d->sp), spool_basename(SPOOL_F_STATS), -1, buf,
	    (size_t)n, &pub);
}

/*
 * run/work (run/nodes/NAME/work on a shared spool): the orders whose actions run or
 * are about to, so that a spoold started after a crash looks at them first, before
 * it says it is ready, rather than when its rescan reaches them.  Written when that
 * set changes, at most once a turn, and not synced: it only says where to look
 * first, and the rescan behind finds whatever it misses (after a power loss).
 */
#define WORK_MAX (HELD_MAX * (SPOOL_ID_MAX + 1) + 1)

void
engine_record(struct daemon *d)
{
	static char buf[WORK_MAX], written[WORK_MAX];
	static size_t wlen = (size_t)-1;    /* nothing written yet */
	size_t n = 0;
	int i;

	for (i = 0; i < JOBS_MAX && d->njobs > 0; i++)
		if (d->jobs[i].pid > 0 && d->jobs[i].kind == JOB_EXEC && n + SPOOL_ID_MAX + 2 < sizeof buf)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", d->jobs[i].id);
	for (i = 0; i < d->nspawn && n + SPOOL_ID_MAX + 2 < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", d->spawn[i].id);
	if (n == wlen && memcmp(buf, written, n) == 0)
		return;
	/* a write that fails (a full disk) is tried again next turn; it costs a rescan's wait */
	if (spool_publish(spool_node_dirfd(d->sp), spool_basename(SPOOL_F_WORK), -1, buf, n,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNC }) == 0) {
		memcpy(written, buf, n);
		wlen = n;
	}
}

int
engine_resume(struct daemon *d)
{
	static char buf[WORK_MAX];
	char *line, *next;
	ssize_t len;
	int fd, n = 0;

	fd = openat(spool_node_dirfd(d->sp), spool_basename(SPOOL_F_WORK),
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (spool_id_ok(line) && job_find(d, line) == NULL) {
			engine_look(d, line, -1);
			n++;
		}
	}
	return n;
}

static void
count_run(struct daemon *d, int result)
{
	d->runs[result]++;
	d->stats_pending = 1;
	engine_stats(d, time(NULL));
}

/* What a kept outcome does to its order (the work of engine_apply). */
static void
apply(struct daemon *d, const struct spool_jrec *r)
{
	const struct spool_state *s;
	struct look l = { .id = r->id };
	char msg[SPOOL_FIELD_MAX + 1], out[SPOOL_JREC_OUT_MAX + 1];
	int code = -1, ok = 0, temp = 0;
	time_t now = time(NULL);

	if (WIFEXITED(r->status))
		code = WEXITSTATUS(r->status);
	if (!current(d, r, &l))
		return;
	s = &d->conf->states[l.state];
	if (r->killed == 2) {
		/* cancelled by a timer or a reload: the try does not count */
		give_back(&l);
		note(d, &l, "attempt cancelled");
		save(d, &l);
		look_soon(d, r->id, -1);
		return;
	}
	if (r->killed == 3) {
		/* stopped with spoold: the try does not count, and runs again on restart */
		give_back(&l);
		note(d, &l, "attempt abandoned: spoold stopped");
		save(d, &l);
		return;
	}
	memcpy(out, r->out, r->outlen);
	out[r->outlen] = '\0';
	if (r->killed == 4) {
		/* it never started (fork failed): the try does not count, and starts again soon */
		give_back(&l);
		l.st.due = now + STALL_RETRY_MAX;
		note(d, &l, "attempt could not start: %s; again in %ds", out, STALL_RETRY_MAX);
		save(d, &l);
		later(d, r->id, l.st.due);
		return;
	}
	if (r->killed == 1)
		snprintf(msg, sizeof msg, "timed out after %lds", s->timeout);
	else if (WIFSIGNALED(r->status))
		snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(r->status));
	else if (code == 0)
		ok = 1;
	else {
		temp = code == 75;
		last_line(out, msg, sizeof msg);
		if (msg[0] == '\0')
			snprintf(msg, sizeof msg, "exit code %d", code);
	}
	l.st.running = 0;
	count_run(d, ok ? RUN_OK : r->killed == 1 ? RUN_TIMEOUT : WIFSIGNALED(r->status) ?
	    RUN_KILLED : temp ? RUN_DEFERRED : RUN_FAILED);
	if (code == EX_DISK && r->step < s->nactions && s->actions[r->step].kind != SPOOL_ACT_EXEC) {
		/* a built-in action whose write the disk refused: not a failure, again soon */
		give_back(&l);
		l.st.due = now + STALL_RETRY_MAX;
		note(d, &l, "attempt %d stopped by a write the disk refused (%s); again in %ds",
		    l.st.tries + 1, msg, STALL_RETRY_MAX);
		save(d, &l);
		later(d, r->id, l.st.due);
		return;
	}
	if (ok) {
		note(d, &l, "attempt %d succeeded", l.st.tries);
		keep_output(d, r->id, "", 0);
		l.st.step++;
		l.st.tries = l.st.deferred = 0;
		l.st.due = 0;
		l.st.error[0] = '\0';
		if (save(d, &l) == 0)
			look_soon(d, r->id, l.state);
		return;
	}
	failed(d, &l, r, out, msg, temp, now);
}

int
engine_apply(struct daemon *d, struct stall *st)
{
	struct wctx w = { .id = st->rec.id, .st = st };

	d->w = &w;
	apply(d, &st->rec);
	d->w = NULL;
	if (w.err != 0) {
		stall_settle(d, &w);
		return -1;
	}
	/* applied: lines of an earlier look cut short stay, for the look that follows */
	st->rec.run = 0;
	st->rec.outlen = 0;
	if (st->rec.lineslen == 0)
		stall_drop(d, st);
	else
		st->next = 0;
	return 0;
}

/* A handler's outcome is kept before anything is done with it (stall.c), then applied. */
static void
outcome(struct daemon *d, const char *id, const char *state, int visit, int step, int run,
    int status, int killed, const char *out, size_t outlen)
{
	struct spool_jrec *r;
	struct stall *st;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		log_order(LOG_L_WARN, id, "out of memory: the outcome of its handler is lost");
		return;
	}
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->state, sizeof r->state, "%s", state);
	r->visit = visit;
	r->step = step;
	r->run = run;
	r->status = status;
	r->killed = killed;
	r->outlen = outlen < SPOOL_JREC_OUT_MAX ? outlen : SPOOL_JREC_OUT_MAX;
	memcpy(r->out, out, r->outlen);
	if ((st = stall_outcome(d, r)) == NULL)
		log_order(LOG_L_WARN, id, "no slot left to keep its handler's outcome: it is lost, "
		    "and the handler runs again");
	else
		engine_apply(d, st);
	free(r);
}

/* A handler (or a built-in action) has ended. */
static void
job_done(struct daemon *d, struct job *j, int status)
{
	if (j->run == 0) {
		log_order(LOG_L_INFO, j->id, "a job of no run ended");
		return;
	}
	if (!claim_held(d, j->id)) {
		/* the leader heard nothing from this node for a while: another runs it now */
		log_order(LOG_L_WARN, j->id, "its claim was released while run %d ran here; "
		    "another node runs it, and this outcome is dropped", j->run);
		settle(d, j->id, j);
		return;
	}
	outcome(d, j->id, j->state, j->visit, j->step, j->run, status, j->killed, j->out,
	    j->outlen);
	settle(d, j->id, j);
}

/*
 * Workers are free: orders that waited for one get a look, until the workers are
 * taken.  An order that left its state meanwhile (moved, removed, cancelled) needs
 * none, and the next one is looked at; none holds the others up.
 */
void
engine_workers(struct daemon *d)
{
	char id[SPOOL_ID_MAX + 1];
	unsigned n = d->wq.count;
	int hint;

	while (n-- > 0 && !d->fault && d->njobs + d->nspawn < workers(d) &&
	    d->nstalls + d->njobs + d->nspawn < STALLS_MAX && queue_pop(&d->wq, id, &hint))
		engine_look(d, id, hint);
}

void
engine_spawn_pending(struct daemon *d)
{
	char why[256];
	int i;

	/* only those the last finished sync covers; the rest wait for the next */
	for (i = 0; i < d->covered; i++) {
		struct spawn *p = &d->spawn[i];
		if (job_start_exec(d, p, print_action, job_done) != NULL)
			continue;
		/* it never started: the try is given back, and it starts again in a moment */
		snprintf(why, sizeof why, "%s", strerror(errno));
		outcome(d, p->id, sname(d, p->state), p->visit, p->step, p->run, 0, 4, why,
		    strlen(why));
		settle(d, p->id, NULL);
	}
	memmove(d->spawn, d->spawn + d->covered, (size_t)(d->nspawn - d->covered) * sizeof d->spawn[0]);
	d->nspawn -= d->covered;
	d->covered = 0;
}
