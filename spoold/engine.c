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

int
engine_echo(const char *id, int state)
{
	struct echo *e = &echoes[echo_slot(id, state)];

	if (e->state != state || strcmp(e->id, id) != 0)
		return 0;
	e->id[0] = '\0';
	return 1;
}

void
engine_echoes_forget(void)
{
	memset(echoes, 0, sizeof echoes);
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

void
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

/* A line about the visit: from and to are both its state. */
#define note(d, l, ...) hist((d), (l)->id, "system", sname((d), (l)->state), \
	sname((d), (l)->state), __VA_ARGS__)

/* Write the visit's status now (before a handler starts or a result is kept). */
static int
save(struct daemon *d, struct look *l)
{
	d->dirty = 1;
	l->dirty = 0;
	if (spool_status_write(d->sp, l->id, &l->st, SPOOL_NOSYNC) == 0)
		return 0;
	log_order(LOG_L_WARN, l->id, "cannot write orders/%s/status: %s", l->id, strerror(errno));
	return -1;
}

/* Look at id again at `at`; if the heap is full, a rescan by then finds it. */
static void
later(struct daemon *d, const char *id, time_t at)
{
	if (heap_push(&d->heap, at, id) < 0 && (d->next_rescan == 0 || at < d->next_rescan))
		d->next_rescan = at;
}

void
engine_soon(struct daemon *d, const char *id, int hint)
{
	if (queue_push(&d->q, id, hint) < 0)
		scan_begin(d);
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
	snprintf(dst, len, "%.*s", (int)(end - start), start);
}

/* orders/<id>/error: what the last failing handler said (its first 4 KiB), or none. */
static void
keep_output(struct daemon *d, const char *id, const char *out, size_t len)
{
	int fd;

	fd = openat(spool_dirfd(d->sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	if (len == 0) {
		if (unlinkat(fd, "error", 0) < 0 && errno != ENOENT)
			log_order(LOG_L_WARN, id, "cannot remove orders/%s/error: %s", id, strerror(errno));
	} else if (spool_publish(fd, "error", spool_dirfd(d->sp, SPOOL_DIR_TMP), out, len,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNC }) < 0)
		log_order(LOG_L_WARN, id, "cannot keep its handler's output: %s", strerror(errno));
	close(fd);
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
	struct echo *e;
	int t;

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
		e = &echoes[echo_slot(l->id, to)];
		snprintf(e->id, sizeof e->id, "%s", l->id);
		e->state = to;
		engine_soon(d, l->id, to + HINT_OWN);
		return;
	}
	switch (errno) {
	case EAGAIN:
	case ENOENT:
	case EALREADY:
		/* somebody else moved it first: theirs counts */
		log_order(LOG_L_INFO, l->id, "%s", err.msg);
		l->gone = 1;
		engine_soon(d, l->id, -1);
		break;
	case EPERM:
	case EBUSY:
		log_order(LOG_L_WARN, l->id, "%s", err.msg);
		break;
	default:
		log_order(LOG_L_WARN, l->id, "%s; trying again in 10s", err.msg);
		later(d, l->id, time(NULL) + 10);
	}
}

static void
move(struct daemon *d, struct look *l, int to, int flags, const char *why)
{
	move_as(d, l, to, flags, why, SPOOL_ACTOR_SYSTEM, "system");
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
		read_status(d, l);
		prev = l->st.state[0] != '\0' ? l->st.state : "-";
		hist(d, l->id, "hand", prev, to, "moved by hand");
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
			hist(d, l->id, "hand", prev, to, "moved by hand out of %s, which is locked",
			    prev);
			log_order(LOG_L_WARN, l->id, "moved by hand out of %s, which is locked", prev);
		} else if (from < 0 ||
		    spool_conf_allows(d->conf, from, l->state, SPOOL_ACTOR_ADMIN) >= 0) {
			hist(d, l->id, "hand", prev, to, "moved by hand");
			log_order(LOG_L_INFO, l->id, "moved by hand from %s to %s", prev, to);
		} else {
			/* not undone: the person meant it; handled where it is now */
			hist(d, l->id, "hand", prev, to,
			    "moved by hand; the workflow does not let admin move it from %s to %s", prev,
			    to);
			log_order(LOG_L_WARN, l->id,
			    "moved by hand from %s to %s, which the workflow does not allow", prev, to);
		}
	}
	watch_ungate(d, l->id);
	l->fresh = 1;
	snprintf(l->st.state, sizeof l->st.state, "%s", to);
	l->st.since = ctime;
	l->st.visits++;
	l->st.step = l->st.tries = l->st.reminded = l->st.deferred = 0;
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
	int r;

	for (r = 0; r < s->nreminders && r < 30; r++) {
		if (l->st.reminded & (1 << r))
			continue;
		at = fire - s->reminders[r].before;
		if (at > now) {
			if (next == 0 || at < next)
				next = at;
			continue;
		}
		l->st.reminded |= 1 << r;
		l->dirty = 1;
		note(d, l, "reminder %s, %s before the timer", s->reminders[r].template,
		    span(s->reminders[r].before, buf, sizeof buf));
		log_order(LOG_L_INFO, l->id, "reminder %s", s->reminders[r].template);
		if (d->conf->mail.relay == NULL)
			continue;
		snprintf(key, sizeof key, "%s-r%d", s->name, r);
		if (notify(d, l->id, l->state, s->reminders[r].template, "customer", "", NULL, at, key,
		    why, sizeof why) == 0)
			note(d, l, "%s", why);
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

	if ((j = job_find(d, l->id)) != NULL)
		job_cancel(d, j);
	snprintf(why, sizeof why, "after %s in %s", span(s->timer_after, buf, sizeof buf),
	    s->name);
	if (s->timer_to != SPOOL_TO_DELETE) {
		move(d, l, s->timer_to, 0, why);
		return;
	}
	if (spool_remove(d->sp, l->id, SPOOL_ACTOR_SYSTEM, "system", why, &err) < 0) {
		log_order(LOG_L_WARN, l->id, "%s", err.msg);
		if (errno != ENOENT && errno != EAGAIN)
			later(d, l->id, time(NULL) + 60);
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
	int to = s->on_failure >= 0 ? s->on_failure : l->state;

	if (d->conf->mail.relay == NULL)
		return;
	snprintf(key, sizeof key, "stitch-failed-v%d", l->st.visits);
	if (notify(d, l->id, to, "stitch-failed", "admin", msg, NULL, l->st.since, key, why,
	    sizeof why) == 0)
		note(d, l, "%s", why);
	else {
		note(d, l, "mail stitch-failed to the admin not sent: %s", why);
		log_order(LOG_L_WARN, l->id, "mail stitch-failed to the admin not sent: %s", why);
	}
}

/* The action's tries are used up: on_failure, or wait for a person. */
static void
give_up(struct daemon *d, struct look *l, const char *why)
{
	const struct spool_state *s = &d->conf->states[l->state];

	if (s->on_failure >= 0) {
		log_order(LOG_L_WARN, l->id, "failed after %d attempts: %s", l->st.tries, why);
		save(d, l);
		move(d, l, s->on_failure, 0, why);
		return;
	}
	log_order(LOG_L_WARN, l->id, "failed after %d attempts, waiting for a person: %s",
	    l->st.tries, why);
	note(d, l, "gave up after %d attempts; waiting for a person", l->st.tries);
	l->st.step = s->nactions + 1;
	l->dirty = 1;
}

/* Start the action at the visit's step, or do it here.  0: go on with the visit. */
static int
act(struct daemon *d, struct look *l)
{
	const struct spool_state *s = &d->conf->states[l->state];
	const struct spool_action *a = &s->actions[l->st.step];
	static const char *const names[] = { "notify", "exec", "stitch", "publish", "withdraw",
		"purge", "copy" };

	if (a->kind == SPOOL_ACT_NOTIFY) {
		char why[SPOOL_FIELD_MAX + 1], key[SPOOL_NAME_MAX + 40];
		struct spool_event last;
		const char *msg = l->st.error;

		/* the message: what the arrival's line says (a printer's, an admin's), else the error */
		if (spool_history_last(d->sp, l->id, &last) == 0 && strcmp(last.to, s->name) == 0 &&
		    strcmp(last.from, s->name) != 0 && last.comment[0] != '\0')
			msg = last.comment;
		/* the event: this visit (its number, and since) of this state, this step */
		snprintf(key, sizeof key, "%s-v%d-n%d", s->name, l->st.visits, l->st.step);
		if (notify(d, l->id, l->state, a->argv[0], a->argv[1], msg, NULL, l->st.since, key, why,
		    sizeof why) == 0)
			note(d, l, "%s", why);
		else {
			/* mail off is a choice; anything else is worth a warning */
			note(d, l, "mail %s to the %s not sent: %s", a->argv[0], a->argv[1], why);
			log_order(d->conf->mail.relay == NULL ? LOG_L_DEBUG : LOG_L_WARN, l->id,
			    "mail %s to the %s not sent: %s", a->argv[0], a->argv[1], why);
		}
		l->st.step++;
		l->dirty = 1;
		return 0;
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
		note(d, l, "attempt %d was interrupted", l->st.tries);
		l->st.tries = s->retries + 1;
		give_up(d, l, l->st.error);
		return 1;
	}
	if (d->njobs + d->nspawn >= d->conf->workers || d->nspawn >= JOBS_MAX) {
		/* no worker free: a finished job looks again */
		if (queue_push(&d->wq, l->id, l->state) < 0)
			d->next_rescan = time(NULL) + 1;
		return 1;
	}
	/* counted before it starts: a try cut short by a crash still counts */
	l->st.tries++;
	l->st.attempts++;
	if (save(d, l) < 0)
		return 1;
	note(d, l, "attempt %d of %d: %s", l->st.tries, s->retries + 1,
	    a->kind == SPOOL_ACT_EXEC ? a->argv[0] : names[a->kind]);
	snprintf(d->spawn[d->nspawn].id, sizeof d->spawn[0].id, "%s", l->id);
	d->spawn[d->nspawn].state = l->state;
	d->spawn[d->nspawn].step = l->st.step;
	d->spawn[d->nspawn].try = l->st.tries;
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
	if (l->st.step > s->nactions)
		goto wait;    /* gave up: waiting for a person */
	if (d->conf->nqueues > 0) {
		/* what the printers say moves the order, as the printer */
		char why[SPOOL_JOB_MSG_MAX + SPOOL_ID_MAX + 16];
		time_t recheck = 0;
		int to = printer_look(d, l->id, l->state, why, sizeof why, &recheck);

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
	return s->nactions == 0 && s->timer_after < 0 && s->gate_file == NULL && s->auto_to < 0;
}

void
engine_look(struct daemon *d, const char *id, int hint)
{
	const struct spool_state *s;
	struct look l = { .id = id };
	struct spool_err err;
	char name[SPOOL_ID_MAX + 8];
	struct stat sb;
	struct job *j;
	time_t ctime;
	int n, own = hint >= HINT_OWN;

	d->looks++;
	if (own)
		hint -= HINT_OWN;
	snprintf(name, sizeof name, "%s.order", id);
	/*
	 * Just moved here by spoold, to a state it only passes through: the move on
	 * finds out itself if somebody took it meanwhile, so no need to look first.
	 * Else look where it was seen first: mostly it is there, and that costs one
	 * fstatat.  Else look everywhere (an order in two states is check's to report).
	 */
	if (own && hint >= 0 && hint < d->conf->nstates && transit(&d->conf->states[hint])) {
		l.state = hint;
		l.own = 1;
		sb.st_ctime = time(NULL);
	} else if (hint >= 0 && hint < d->conf->nstates &&
	    fstatat(spool_statefd(d->sp, hint), name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode)) {
		l.state = hint;
		l.own = own;
	} else {
		if ((n = spool_locate(d->sp, id, &l.state)) <= 0) {
			/* gone: removed, or mid-move and its arrival will call again */
			if ((j = job_find(d, id)) != NULL && n == 0)
				job_cancel(d, j);
			return;
		}
		if (n > 1) {
			log_order(LOG_L_WARN, id, "is in %d states; left alone (run spoolctl check)", n);
			return;
		}
		if (fstatat(spool_statefd(d->sp, l.state), name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return;
	}
	ctime = sb.st_ctime < time(NULL) ? sb.st_ctime : time(NULL);
	log_order(LOG_L_DEBUG, id, "look in %s", sname(d, l.state));
	s = &d->conf->states[l.state];
	if (transit(s))
		l.unread = 1;
	else if (spool_status_read(d->sp, id, &l.st, &err) < 0) {
		/* a status nobody can read: begin the visit again, without guessing a mover */
		log_order(LOG_L_WARN, id, "%s; its visit of %s begins again", err.msg,
		    sname(d, l.state));
		memset(&l.st, 0, sizeof l.st);
		snprintf(l.st.state, sizeof l.st.state, "%s", sname(d, l.state));
		l.st.since = ctime;
		l.dirty = 1;
		note(d, &l, "orders/%s/status was unreadable; the visit begins again", id);
	} else
		l.had_status = l.st.state[0] != '\0';
	if (strcmp(l.st.state, sname(d, l.state)) != 0) {
		if ((j = job_find(d, id)) != NULL)
			job_cancel(d, j);    /* it left the state its action was for */
		if (!arrived(d, &l, ctime))
			return;
	}
	work(d, &l);
	if (!l.dirty || l.gone || read_status(d, &l) < 0)
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

/* A job is over: keep what it says, and let an order that waited for a worker go on. */
void
engine_job_done(struct daemon *d, struct job *j, int status)
{
	const struct spool_state *s;
	struct look l = { .id = j->id };
	struct spool_err err;
	char msg[SPOOL_FIELD_MAX + 1];
	int code = -1, ok = 0, temp = 0;
	time_t now = time(NULL);

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	if (j->killed == 2 || spool_locate(d->sp, j->id, &l.state) != 1 ||
	    strcmp(sname(d, l.state), j->state) != 0 ||
	    spool_status_read(d->sp, j->id, &l.st, &err) < 0 ||
	    strcmp(l.st.state, sname(d, l.state)) != 0 || l.st.step != j->step) {
		log_order(LOG_L_INFO, j->id, "the result of its handler is ignored: the order moved on");
		engine_soon(d, j->id, -1);
		return;
	}
	s = &d->conf->states[l.state];
	if (j->killed == 3) {
		/* stopped with spoold: the try does not count, and runs again on restart */
		l.st.tries--;
		l.st.attempts--;
		note(d, &l, "attempt abandoned: spoold stopped");
		save(d, &l);
		return;
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
	keep_output(d, j->id, ok ? "" : j->out, ok ? 0 : j->outlen);
	if (ok) {
		note(d, &l, "attempt %d succeeded", l.st.tries);
		l.st.step++;
		l.st.tries = l.st.deferred = 0;
		l.st.due = 0;
		l.st.error[0] = '\0';
		save(d, &l);
		engine_soon(d, j->id, l.state);
		return;
	}
	if (temp && j->step < s->nactions && s->actions[j->step].kind == SPOOL_ACT_PUBLISH) {
		/* not a failure: jobs wait for their queue's delivery window */
		l.st.tries--;
		l.st.attempts--;
		l.st.due = print_window_due(d, j->id, now);
		note(d, &l, "%s; publishing again at the window", msg);
		log_order(LOG_L_INFO, j->id, "%s", msg);
		save(d, &l);
		later(d, j->id, l.st.due);
		return;
	}
	snprintf(l.st.error, sizeof l.st.error, "%s", msg);
	if (temp) {
		/* try again later; a temporary failure does not use up a retry */
		l.st.tries--;
		l.st.deferred++;
		l.st.due = now + backoff(s, l.st.deferred, TEMPFAIL_BACKOFF_MAX);
		note(d, &l, "attempt failed for now, again later: %s", msg);
		log_order(LOG_L_INFO, j->id, "temporary failure: %s", msg);
		save(d, &l);
		later(d, j->id, l.st.due);
		return;
	}
	note(d, &l, "attempt %d of %d failed: %s", l.st.tries, s->retries + 1, msg);
	if (l.st.tries <= s->retries) {
		l.st.due = now + backoff(s, l.st.tries, BACKOFF_MAX);
		log_order(LOG_L_INFO, j->id, "attempt %d failed, again in %lds: %s", l.st.tries,
		    (long)(l.st.due - now), msg);
		save(d, &l);
		later(d, j->id, l.st.due);
		return;
	}
	if (j->step < s->nactions && s->actions[j->step].kind == SPOOL_ACT_STITCH)
		stitch_failed(d, &l, msg);
	give_up(d, &l, msg);
	if (l.dirty && !l.gone)
		save(d, &l);
}

/* A worker is free: an order that waited for one gets a look. */
void
engine_worker_free(struct daemon *d)
{
	char id[SPOOL_ID_MAX + 1];
	int hint;

	if (queue_pop(&d->wq, id, &hint))
		engine_soon(d, id, hint);
}

void
engine_spawn_pending(struct daemon *d)
{
	struct spool_status st;
	struct spool_err err;
	int i;

	/* only those the last finished sync covers; the rest wait for the next */
	for (i = 0; i < d->covered; i++) {
		struct spawn *p = &d->spawn[i];
		if (job_start_exec(d, p->id, p->state, p->step, p->try) != NULL)
			continue;
		/* it never started: give the try back, and try again in a moment */
		if (spool_status_read(d->sp, p->id, &st, &err) == 0 && st.tries > 0) {
			st.tries--;
			st.attempts--;
			spool_status_write(d->sp, p->id, &st, SPOOL_NOSYNC);
			d->dirty = 1;
		}
		later(d, p->id, time(NULL) + 5);
	}
	memmove(d->spawn, d->spawn + d->covered, (size_t)(d->nspawn - d->covered) * sizeof d->spawn[0]);
	d->nspawn -= d->covered;
	d->covered = 0;
}
