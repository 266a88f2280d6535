/*
 * What spoolweb reads and does: the orders and jobs a user may see, and the actions,
 * each through the lib call spoolctl makes and with the check a printer's job.xml edit
 * gets.  The JSON API answers here; the pages (pages.c) read the same lists and post
 * to the same actions.  No path is built from a request before lib has checked the
 * id in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "order.h"
#include "web.h"

/* ---- the list of orders -------------------------------------------------- */

struct walk {
	struct spool *sp;
	struct list *l;
	struct order_filter f;
};

static int
walk_add(void *arg, const struct spool_ent *e)
{
	struct walk *wk = arg;
	struct list *l = wk->l;
	struct row *r;

	/* the counts are the whole spool's, the rows the filter's */
	if (l->counts[e->state]++ == 0 || e->placed.tv_sec < l->oldest[e->state])
		l->oldest[e->state] = e->placed.tv_sec;
	if (!order_filter_match(wk->sp, &wk->f, e))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;

		if ((r = realloc(l->rows, cap * sizeof *r)) == NULL)
			return -1;
		l->rows = r;
		l->cap = cap;
	}
	r = &l->rows[l->n++];
	snprintf(r->id, sizeof r->id, "%s", e->id);
	r->state = e->state;
	r->placed = e->placed.tv_sec;
	r->since = e->since.tv_sec;
	return 0;
}

static int
newest_first(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->placed != y->placed)
		return x->placed > y->placed ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A date of the filter: "YYYY-MM-DD" (until: the end of that day) or what lib parses. */
static int
date_arg(const char *s, int end_of_day, time_t *t)
{
	if (spool_time_parse(s, t) < 0)
		return -1;
	if (end_of_day && strlen(s) == 10)
		*t += 86400;
	return 0;
}

int
list_orders(struct web *w, const struct req *q, struct resp *r, struct list *l)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct walk wk = { .sp = w->ws->sp, .l = l, .f = { .text = arg(q, "q") } };
	const char *s;
	int st;

	memset(l, 0, sizeof *l);
	if ((s = arg(q, "state")) != NULL) {
		if ((st = spool_conf_state(conf, s)) < 0) {
			refuse(w, q, r, 400, "'%.40s' is not a state of workflow %s", s, conf->workflow);
			return -1;
		}
		wk.f.states = (uint64_t)1 << st;
	}
	if (((s = arg(q, "since")) != NULL && date_arg(s, 0, &wk.f.since) < 0) ||
	    ((s = arg(q, "until")) != NULL && date_arg(s, 1, &wk.f.until) < 0)) {
		refuse(w, q, r, 400, "'%.40s' is not a date (YYYY-MM-DD)", s);
		return -1;
	}
	wk.f.has_since = arg(q, "since") != NULL;
	wk.f.has_until = arg(q, "until") != NULL;
	if (spool_walk(w->ws->sp, 0, 1, walk_add, &wk) < 0) {
		free(l->rows);
		json_error(r, 500, "cannot read the spool: %s", strerror(errno));
		return -1;
	}
	if (l->n > 1)
		qsort(l->rows, l->n, sizeof *l->rows, newest_first);
	if (l->n > WEB_LIST_MAX) {
		l->more = l->n - WEB_LIST_MAX;
		l->n = WEB_LIST_MAX;
	}
	return 0;
}

void
api_orders(struct web *w, const struct req *q, struct resp *r)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	char t1[32], t2[32];
	struct spool_order o;
	struct list l;
	struct json j;
	size_t k;
	int i, have;

	if (list_orders(w, q, r, &l) < 0)
		return;
	json_init(&j, r->f);
	json_obj(&j);
	json_key(&j, "orders");
	json_arr(&j);
	for (k = 0; k < l.n; k++) {
		const struct row *row = &l.rows[k];

		have = spool_order_read(w->ws->sp, row->id, row->state, &o, NULL) == 0;
		json_obj(&j);
		json_kstr(&j, "id", row->id);
		json_kstr(&j, "state", conf->states[row->state].name);
		json_kint_or_null(&j, "code", conf->states[row->state].code >= 0,
		    conf->states[row->state].code);
		json_kstr(&j, "placed", spool_time_fmt(row->placed, t1, sizeof t1));
		json_kstr(&j, "since", spool_time_fmt(row->since, t2, sizeof t2));
		json_kstr(&j, "customer", have ? o.customer : NULL);
		json_kstr(&j, "email", have ? o.email : NULL);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_key(&j, "counts");
	json_arr(&j);
	for (i = 0; i < conf->nstates; i++) {
		json_obj(&j);
		json_kstr(&j, "state", conf->states[i].name);
		json_kint_or_null(&j, "code", conf->states[i].code >= 0, conf->states[i].code);
		json_kint(&j, "count", l.counts[i]);
		json_kint_or_null(&j, "oldest_age", l.counts[i] != 0, (long long)(q->now -
		    l.oldest[i]));
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_kint(&j, "more", (long long)l.more);
	json_end(&j, '}');
	json_done(&j);
	free(l.rows);
}

static void
warn_log(void *arg, const char *msg)
{
	(void)arg;
	web_log("%s", msg);
}

void
api_order(struct web *w, const struct req *q, struct resp *r, const char *id)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct order_view v;
	struct spool_err err;
	struct json j;
	int t;

	if (order_view_read(w->ws->sp, id, &v, warn_log, NULL, &err) < 0) {
		refuse(w, q, r, errno == EINVAL || errno == ENOENT ? 404 : 500, "%s", err.msg);
		return;
	}
	json_init(&j, r->f);
	order_view_json(&v, &j);
	if (order_history_json(w->ws->sp, id, &j, &err) != 0)
		web_log("%s", err.msg);
	json_end(&j, ']');
	json_key(&j, "actions");
	json_arr(&j);
	for (t = 0; t < conf->ntransitions; t++)
		if (order_transition_legal(conf, v.state, t)) {
			json_obj(&j);
			json_kstr(&j, "name", conf->transitions[t].name);
			json_kstr(&j, "to", conf->states[conf->transitions[t].to].name);
			json_end(&j, '}');
		}
	json_end(&j, ']');
	json_end(&j, '}');
	json_done(&j);
	order_view_free(&v);
}

/* ---- actions on orders ----------------------------------------------------- */

/* What the history calls a web user: "NAME via web". */
static const char *
web_who(const struct web *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s via web", w->s->user);
	return buf;
}

/* The answer to an action on order id that worked. */
static void
done_order(const struct req *q, struct resp *r, const char *id, const char *state)
{
	struct json j;
	char to[SPOOL_ID_MAX + 16];

	if (from_form(q)) {
		snprintf(to, sizeof to, state != NULL ? "/orders/%s" : "/orders", id);
		redirect(r, to);
		return;
	}
	json_init(&j, r->f);
	json_obj(&j);
	json_kstr(&j, "id", id);
	if (state != NULL)
		json_kstr(&j, "state", state);
	json_end(&j, '}');
	json_done(&j);
}

void
act_transition(struct web *w, const struct req *q, struct resp *r, const char *id,
    const char *name, const char *comment)
{
	struct spool *sp = w->ws->sp;
	const struct spool_conf *conf = spool_conf(sp);
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .check = 1 };
	const char *tell = field(q, "tell");
	char who[SPOOL_FIELD_MAX];
	struct spool_err err;
	int t, from;

	if (!spool_id_ok(id)) {
		refuse(w, q, r, 404, "no such order");
		return;
	}
	if (name == NULL || (t = spool_conf_transition(conf, name)) < 0) {
		refuse(w, q, r, 409, "%s: '%.40s' is not a transition of workflow %s", id,
		    name != NULL ? name : "", conf->workflow);
		return;
	}
	if (order_transition_check(sp, id, t, &from, &err) < 0) {
		refuse(w, q, r, errno == ENOENT ? 404 : 409, "%s", err.msg);
		return;
	}
	/* the customer hears the comment only when asked to; an earlier move's word goes */
	if (spool_mail_tell_put(sp, id, conf->states[conf->transitions[t].to].name,
	    tell != NULL && tell[0] != '\0' && strcmp(tell, "0") != 0 && comment != NULL &&
	    comment[0] != '\0' ? comment : NULL, &err) < 0 && errno != ENOENT) {
		json_error(r, 500, "%s", err.msg);
		return;
	}
	m.who = web_who(w, who, sizeof who);
	m.comment = comment != NULL && comment[0] != '\0' ? comment : NULL;
	if (spool_move(sp, id, from, conf->transitions[t].to, &m, &err) < 0 && errno != EALREADY) {
		refuse(w, q, r, errno == EAGAIN || errno == EPERM || errno == EBUSY ? 409 : 500, "%s",
		    err.msg);
		return;
	}
	web_log("%s: %s -> %s by %s from %s", id, conf->states[from].name,
	    conf->states[conf->transitions[t].to].name, who, q->addr);
	done_order(q, r, id, conf->states[conf->transitions[t].to].name);
}

void
act_remove(struct web *w, const struct req *q, struct resp *r, const char *id,
    const char *comment)
{
	char who[SPOOL_FIELD_MAX];
	struct spool_err err;

	if (!spool_id_ok(id)) {
		refuse(w, q, r, 404, "no such order");
		return;
	}
	if (spool_remove(w->ws->sp, id, SPOOL_ACTOR_ADMIN, web_who(w, who, sizeof who),
	    comment != NULL && comment[0] != '\0' ? comment : NULL, &err) < 0) {
		refuse(w, q, r, errno == ENOENT ? 404 : 409, "%s", err.msg);
		return;
	}
	web_log("%s: removed by %s from %s", id, who, q->addr);
	done_order(q, r, id, NULL);
}

/* ---- print jobs --------------------------------------------------------------- */

struct jobwalk {
	struct web *w;
	struct job *v;
	size_t n, cap;
};

static int
may_see(const struct web *w, const struct spool_pjob *j)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);

	return j->queue >= 0 && spool_user_has_queue(&w->user, conf->queues[j->queue].name);
}

static int
jobs_add(void *arg, const struct spool_ent *e)
{
	struct jobwalk *jw = arg;
	struct spool_pjobs js;
	struct spool_err err;
	struct job *v;
	int i;

	if (spool_pjobs_read(jw->w->ws->sp, e->id, &js, &err) < 0) {
		web_log("%s", err.msg);
		return 0;
	}
	for (i = 0; i < js.n; i++) {
		if (js.v[i].status == 0 || !may_see(jw->w, &js.v[i]))
			continue;
		if (jw->n == jw->cap) {
			size_t cap = jw->cap ? jw->cap * 2 : 64;

			if ((v = realloc(jw->v, cap * sizeof *v)) == NULL) {
				spool_pjobs_free(&js);
				return -1;
			}
			jw->v = v;
			jw->cap = cap;
		}
		snprintf(jw->v[jw->n].order, sizeof jw->v[jw->n].order, "%s", e->id);
		jw->v[jw->n++].j = js.v[i];
	}
	spool_pjobs_free(&js);
	return 0;
}

int
list_jobs(struct web *w, struct job **jobs, size_t *n)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct jobwalk jw = { .w = w };
	uint64_t open = 0;
	int i;

	/* the work at hand: orders in a final state are done with their printers */
	for (i = 0; i < conf->nstates; i++)
		if (!conf->states[i].final)
			open |= (uint64_t)1 << i;
	if (open == 0 || spool_walk(w->ws->sp, open, 0, jobs_add, &jw) < 0) {
		free(jw.v);
		*jobs = NULL;
		*n = 0;
		return open == 0 ? 0 : -1;
	}
	*jobs = jw.v;
	*n = jw.n;
	return 0;
}

/*
 * A status set in job.xml (on the web or over SMB) that spoold has not read yet: the
 * job's page shows it, and the next edit starts from it, so that a printer who sets
 * Processing and then Shipping is not told the file changed meanwhile.  Only a move
 * the printer's rules allow counts; spoold refuses the others in the file.
 */
static void
pending_status(struct web *w, struct job *jb)
{
	struct spool_jobxml x;
	struct spool_err err;
	char path[4096];
	int fd;

	if (spool_pjob_ticket(w->ws->sp, &jb->j, path, sizeof path) < 0 ||
	    (fd = openat(spool_dirfd(w->ws->sp, SPOOL_DIR_ROOT), path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return;
	if (spool_jobxml_read(fd, "job.xml", &x, &err) == 0 && x.status != jb->j.status &&
	    spool_job_transition(jb->j.status, x.status, x.message, &err) == 1)
		jb->j.status = x.status;
	close(fd);
}

int
find_job(struct web *w, const struct req *q, struct resp *r, const char *name,
    struct job *out)
{
	struct spool_pjobs js;
	struct spool_err err;
	char id[SPOOL_ID_MAX + 1];
	const char *dash;
	int state, i, found = 0;

	/* a job is "ORDER-ITEM-QUEUE", and ids may hold dashes: try each cut */
	if (spool_id_ok(name))
		for (dash = strchr(name, '-'); dash != NULL && !found; dash = strchr(dash + 1, '-')) {
			snprintf(id, sizeof id, "%.*s", (int)(dash - name), name);
			if (!spool_id_ok(id) || spool_locate(w->ws->sp, id, &state) == 0 ||
			    spool_pjobs_read(w->ws->sp, id, &js, &err) < 0)
				continue;
			for (i = 0; i < js.n && !found; i++)
				if (strcmp(js.v[i].name, name) == 0 && js.v[i].status != 0) {
					snprintf(out->order, sizeof out->order, "%s", id);
					out->j = js.v[i];
					found = 1;
				}
			spool_pjobs_free(&js);
		}
	if (!found) {
		refuse(w, q, r, 404, "no such job");
		return -1;
	}
	if (!may_see(w, &out->j)) {
		refuse(w, q, r, 403, "job %s is not in your queues", name);
		return -1;
	}
	pending_status(w, out);
	return 0;
}

/* The job's folder, and its InfoBaseFolder when its queue has one: i is 0 or 1. */
static int
job_dir(struct web *w, const struct job *jb, int i)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	char path[4096];

	if (i == 1 && conf->queues[jb->j.queue].info == NULL)
		return -1;
	if (spool_pjob_dir(w->ws->sp, &jb->j, i, path, sizeof path) < 0)
		return -1;
	return openat(spool_dirfd(w->ws->sp, SPOOL_DIR_ROOT), path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
}

int
job_files(struct web *w, const struct job *jb, int (*fn)(void *arg, int dirfd,
    const char *name), void *arg)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int i, fd, stop = 0;

	for (i = 0; i < 2 && !stop; i++) {
		if ((fd = job_dir(w, jb, i)) < 0)
			continue;
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while (!stop && (de = readdir(d)) != NULL)
			/* plain files only, and none half made (".NAME.tmp") */
			if (spool_id_ok(de->d_name) &&
			    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				stop = fn(arg, dirfd(d), de->d_name);
		closedir(d);
	}
	return 0;
}

static int
file_name(void *arg, int dirfd, const char *name)
{
	(void)dirfd;
	json_str(arg, name);
	return 0;
}

void
api_jobs(struct web *w, const struct req *q, struct resp *r)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct job *v;
	struct json j;
	size_t n, k;

	(void)q;
	if (list_jobs(w, &v, &n) < 0) {
		json_error(r, 500, "cannot read the spool: %s", strerror(errno));
		return;
	}
	json_init(&j, r->f);
	json_obj(&j);
	json_key(&j, "jobs");
	json_arr(&j);
	for (k = 0; k < n; k++) {
		json_obj(&j);
		json_kstr(&j, "id", v[k].j.name);
		json_kstr(&j, "order", v[k].order);
		json_kstr(&j, "item", v[k].j.item);
		json_kstr(&j, "queue", conf->queues[v[k].j.queue].name);
		json_kint(&j, "status", v[k].j.status);
		json_kstr(&j, "status_name", spool_job_status_name(v[k].j.status));
		json_key(&j, "files");
		json_arr(&j);
		job_files(w, &v[k], file_name, &j);
		json_end(&j, ']');
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
	json_done(&j);
	free(v);
}

struct want {
	const char *name;
	int fd;
};

static int
open_named(void *arg, int dirfd, const char *name)
{
	struct want *wn = arg;

	if (strcmp(name, wn->name) != 0)
		return 0;
	wn->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	return 1;
}

static const char *
content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL && strcasecmp(dot, ".pdf") == 0)
		return "application/pdf";
	if (dot != NULL && strcasecmp(dot, ".xml") == 0)
		return "application/xml";
	if (dot != NULL && strcasecmp(dot, ".jdf") == 0)
		return "application/vnd.cip4-jdf+xml";
	return "application/octet-stream";
}

void
api_file(struct web *w, const struct req *q, struct resp *r, const char *job,
    const char *name)
{
	struct want wn = { name, -1 };
	struct stat st;
	struct job jb;

	if (find_job(w, q, r, job, &jb) < 0)
		return;
	/* only a name read from the job's own folders is opened */
	if (spool_id_ok(name))
		job_files(w, &jb, open_named, &wn);
	if (wn.fd < 0 || fstat(wn.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (wn.fd >= 0)
			close(wn.fd);
		refuse(w, q, r, 404, "job %s has no file %.80s", job, name);
		return;
	}
	r->fd = wn.fd;
	r->size = st.st_size;
	r->ctype = content_type(name);
	snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", name);
}

void
act_status(struct web *w, const struct req *q, struct resp *r, const char *job, int status,
    const char *message)
{
	char path[4096], who[SPOOL_FIELD_MAX];
	struct spool_err err;
	struct json j;
	struct job jb;
	int fd, rc;

	if (find_job(w, q, r, job, &jb) < 0)
		return;
	if (spool_pjob_ticket(w->ws->sp, &jb.j, path, sizeof path) < 0 ||
	    (fd = openat(spool_dirfd(w->ws->sp, SPOOL_DIR_ROOT), path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		refuse(w, q, r, 409, "job %s has no job.xml to set a status in", job);
		return;
	}
	/* the printer's own edit, made for them: spoold reads it as it reads theirs */
	rc = spool_jobxml_set(fd, "job.xml", -1, jb.j.status, status, message, &err);
	close(fd);
	if (rc < 0) {
		refuse(w, q, r, errno == EPERM || errno == EINVAL || errno == EAGAIN ? 409 : 500,
		    "%s", err.msg);
		return;
	}
	web_log("%s: job %s status %d set by %s from %s", jb.order, job, status,
	    web_who(w, who, sizeof who), q->addr);
	if (from_form(q)) {
		snprintf(path, sizeof path, "/jobs/%s", job);
		redirect(r, path);
		return;
	}
	json_init(&j, r->f);
	json_obj(&j);
	json_kstr(&j, "id", job);
	json_kint(&j, "status", status);
	json_end(&j, '}');
	json_done(&j);
}
