/*
 * spoolweb's pages: plain HTML made here, one stylesheet, and one small script that
 * only keeps the parts marked data-live current.  Every form posts to an action that
 * works without the script, carrying the session's CSRF token in a hidden field.
 * Every value from the spool or a request is escaped where it is written; the
 * Content-Security-Policy (main.c) allows no inline script or style at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "order.h"
#include "web.h"

/* s as HTML text or attribute value. */
static void
h(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

static void
head(struct web *w, struct resp *r, const char *title)
{
	FILE *f = r->f;

	r->ctype = "text/html; charset=utf-8";
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	h(f, title);
	fputs(" - spool</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n", f);
	if (w->s != NULL) {
		fputs("<meta name=\"csrf-token\" content=\"", f);
		h(f, w->s->csrf);
		fputs("\">\n<script src=\"/static/app.js\" defer></script>\n", f);
	}
	fputs("</head>\n<body>\n<header><a class=\"home\" href=\"/\">spool</a>", f);
	if (w->s != NULL) {
		fprintf(f, " <span class=\"spool\">");
		h(f, w->ws->name);
		fputs("</span>\n<nav>", f);
		if (w->user.role == SPOOL_ROLE_ADMIN)
			fputs("<a href=\"/orders\">Orders</a> ", f);
		fputs("<a href=\"/jobs\">Print jobs</a></nav>\n<span id=\"whoami\">", f);
		h(f, w->s->user);
		fprintf(f, " (%s)</span>\n", w->user.role == SPOOL_ROLE_ADMIN ? "admin" : "printer");
		fputs("<form id=\"logout\" method=\"post\" action=\"/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"", f);
		h(f, w->s->csrf);
		fputs("\"><button type=\"submit\">Log out</button></form>", f);
	}
	fputs("</header>\n<main>\n", f);
}

static void
foot(struct resp *r)
{
	fputs("</main>\n</body></html>\n", r->f);
}

/* The hidden field every form of a session carries. */
static void
csrf_field(struct web *w, FILE *f)
{
	fputs("<input type=\"hidden\" name=\"csrf\" value=\"", f);
	h(f, w->s->csrf);
	fputs("\">", f);
}

void
page_error(struct web *w, struct resp *r, int status, const char *msg)
{
	r->status = status;
	head(w, r, "Error");
	fprintf(r->f, "<h1>%s</h1>\n<p id=\"error\" role=\"alert\">", status == 403 ?
	    "Not allowed" : status == 404 ? "Not found" : status == 401 ? "Not logged in" :
	    "Refused");
	h(r->f, msg);
	fputs("</p>\n<p><a href=\"/\">Start</a></p>\n", r->f);
	foot(r);
}

void
page_login(struct web *w, const struct req *q, struct resp *r, int status, const char *error)
{
	int i;

	(void)q;
	w->s = NULL;
	r->status = status;
	head(w, r, "Log in");
	fputs("<h1>Log in</h1>\n", r->f);
	if (error != NULL) {
		fputs("<p id=\"error\" role=\"alert\">", r->f);
		h(r->f, error);
		fputs("</p>\n", r->f);
	}
	fputs("<form id=\"login\" method=\"post\" action=\"/login\">\n"
	    "<label>User <input name=\"user\" autocomplete=\"username\" required "
	    "autofocus></label>\n<label>Password <input name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required></label>\n", r->f);
	if (w->nspools > 1) {
		fputs("<label>Spool <select name=\"spool\">", r->f);
		for (i = 0; i < w->nspools; i++) {
			fputs("<option>", r->f);
			h(r->f, w->spools[i].name);
			fputs("</option>", r->f);
		}
		fputs("</select></label>\n", r->f);
	}
	fputs("<button type=\"submit\">Log in</button>\n</form>\n", r->f);
	foot(r);
}

/* "3d4h", "12m", "under 1m": coarse, so that a live page does not change every second. */
static const char *
age(long s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%ldd%ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%ldh%ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm", s / 60);
	else
		snprintf(buf, len, "under 1m");
	return buf;
}

static void
filter_form(const struct spool_conf *conf, const struct req *q, FILE *f)
{
	static const char *const dates[][2] = { { "since", "Since" }, { "until", "Until" } };
	const char *st = arg(q, "state"), *s;
	int i;

	fputs("<form id=\"filter\" method=\"get\" action=\"/orders\">\n<label>State "
	    "<select name=\"state\"><option value=\"\">all</option>", f);
	for (i = 0; i < conf->nstates; i++) {
		fprintf(f, "<option%s>", st != NULL && strcmp(st, conf->states[i].name) == 0 ?
		    " selected" : "");
		h(f, conf->states[i].name);
		fputs("</option>", f);
	}
	fputs("</select></label>\n", f);
	for (i = 0; i < 2; i++) {
		fprintf(f, "<label>%s <input type=\"date\" name=\"%s\" value=\"", dates[i][1],
		    dates[i][0]);
		h(f, (s = arg(q, dates[i][0])) != NULL ? s : "");
		fputs("\"></label>\n", f);
	}
	fputs("<label>Search <input type=\"search\" name=\"q\" value=\"", f);
	h(f, (s = arg(q, "q")) != NULL ? s : "");
	fputs("\" placeholder=\"id, name or address\"></label>\n"
	    "<button type=\"submit\">Filter</button>\n</form>\n", f);
}

static void
counts_table(const struct spool_conf *conf, const struct list *l, time_t now, FILE *f)
{
	char a[32];
	int i;

	fputs("<section id=\"summary\" data-live>\n<table id=\"counts\"><thead><tr><th>State</th>"
	    "<th>Orders</th><th>Oldest</th></tr></thead><tbody>\n", f);
	for (i = 0; i < conf->nstates; i++) {
		const char *n = conf->states[i].name;

		fprintf(f, "<tr data-state=\"%s\"><td class=\"state\"><a href=\"/orders?state=%s\">%s"
		    "</a></td><td class=\"count\">%ld</td><td class=\"oldest\">%s</td></tr>\n", n, n, n,
		    l->counts[i], l->counts[i] ? age((long)(now - l->oldest[i]), a, sizeof a) : "-");
	}
	fputs("</tbody></table>\n</section>\n", f);
}

void
page_orders(struct web *w, const struct req *q, struct resp *r)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct spool_order o;
	char t[32];
	struct list l;
	size_t k;

	if (list_orders(w, q, r, &l) < 0)
		return;
	head(w, r, "Orders");
	fputs("<h1>Orders</h1>\n", r->f);
	filter_form(conf, q, r->f);
	counts_table(conf, &l, q->now, r->f);
	fputs("<section id=\"list\" data-live>\n<table id=\"orders\"><thead><tr><th>Order</th>"
	    "<th>State</th><th>Placed</th><th>Customer</th></tr></thead><tbody>\n", r->f);
	for (k = 0; k < l.n; k++) {
		const struct row *row = &l.rows[k];

		fprintf(r->f, "<tr data-id=\"%s\"><td class=\"id\"><a href=\"/orders/%s\">%s</a></td>"
		    "<td class=\"state\">%s</td><td class=\"placed\">%s</td><td class=\"customer\">",
		    row->id, row->id, row->id, conf->states[row->state].name,
		    spool_time_fmt(row->placed, t, sizeof t));
		if (spool_order_read(w->ws->sp, row->id, row->state, &o, NULL) == 0)
			h(r->f, o.customer);
		fputs("</td></tr>\n", r->f);
	}
	fputs("</tbody></table>\n", r->f);
	if (l.n == 0)
		fputs("<p class=\"none\">No orders.</p>\n", r->f);
	if (l.more)
		fprintf(r->f, "<p class=\"more\">%zu more: narrow the filter to see them.</p>\n",
		    l.more);
	fputs("</section>\n", r->f);
	foot(r);
	free(l.rows);
}

static void
order_facts(const struct order_view *v, FILE *f)
{
	char t[32];

	fputs("<dl class=\"facts\">\n<dt>State</dt><dd><span id=\"state\">", f);
	h(f, v->s->name);
	fputs("</span> <span class=\"display\">", f);
	h(f, v->s->display);
	fputs("</span>", f);
	if (v->s->code >= 0)
		fprintf(f, " (code %d)", v->s->code);
	fputs("</dd>\n<dt>Customer</dt><dd>", f);
	h(f, v->o.customer);
	fputs(" &lt;", f);
	h(f, v->o.email);
	fprintf(f, "&gt;</dd>\n<dt>Placed</dt><dd>%s</dd>\n", spool_time_fmt(v->o.placed, t,
	    sizeof t));
	fprintf(f, "<dt>Payment</dt><dd>%s</dd>\n<dt>Attempts</dt><dd id=\"attempts\">%d</dd>\n",
	    v->o.payment == SPOOL_DELAYED ? "delayed" : "paid", v->st.attempts);
	if (v->st.due)
		fprintf(f, "<dt>Next try</dt><dd>%s</dd>\n", spool_time_fmt(v->st.due, t, sizeof t));
	fputs("<dt>Last error</dt><dd id=\"last-error\">", f);
	h(f, v->st.error[0] ? v->st.error : "-");
	fputs("</dd>\n</dl>\n", f);
	if (v->output[0] != '\0') {
		fputs("<pre id=\"error-output\">", f);
		h(f, v->output);
		fputs("</pre>\n", f);
	}
}

static void
order_items(const struct order_view *v, FILE *f)
{
	const char *sn;
	int i;

	fputs("<h2>Items</h2>\n<table id=\"items\"><thead><tr><th>Item</th><th>Product</th>"
	    "<th>Title</th><th>Copies</th><th>Pages</th></tr></thead><tbody>\n", f);
	for (i = 0; i < v->nitems; i++) {
		const struct spool_item *it = &v->items[i];

		fprintf(f, "<tr><td>%s</td><td>", it->id);
		h(f, it->product);
		fputs("</td><td>", f);
		h(f, it->title);
		fprintf(f, "</td><td>%d</td><td>%d%s</td></tr>\n", it->quantity, it->pages,
		    it->has_upload && !it->complete ? " (upload incomplete)" : "");
	}
	fputs("</tbody></table>\n<h2>Print jobs</h2>\n<table id=\"jobs\"><thead><tr><th>Job</th>"
	    "<th>Queue</th><th>Item</th><th>Status</th></tr></thead><tbody>\n", f);
	for (i = 0; i < v->js.n; i++) {
		const struct spool_pjob *j = &v->js.v[i];

		sn = spool_job_status_name(j->status);
		fprintf(f, "<tr><td><a href=\"/jobs/%s\">%s</a></td><td>%s</td><td>%s</td>"
		    "<td data-code=\"%d\">%s</td></tr>\n", j->name, j->name, j->queue >= 0 ?
		    v->conf->queues[j->queue].name : "-", j->item, j->status, j->status == 0 ?
		    "not published yet" : sn != NULL ? sn : "?");
	}
	fputs("</tbody></table>\n", f);
}

static void
file_row(void *arg, const char *path, long long size)
{
	FILE *f = arg;

	fputs("<tr><td>", f);
	h(f, path);
	fprintf(f, "</td><td>%lld</td></tr>\n", size);
}

static int
event_row(void *arg, const struct spool_event *ev)
{
	FILE *f = arg;
	char t[32];

	fprintf(f, "<tr><td>%s</td><td>", spool_time_fmt(ev->time, t, sizeof t));
	h(f, ev->actor);
	fprintf(f, "</td><td>%s &rarr; %s</td><td>", ev->from[0] ? ev->from : "-",
	    ev->to[0] ? ev->to : "-");
	h(f, ev->comment);
	fputs("</td></tr>\n", f);
	return 0;
}

static void
order_actions(struct web *w, const struct order_view *v, FILE *f)
{
	const struct spool_conf *conf = v->conf;
	int t, any = 0;

	fputs("<section id=\"actions\" data-live>\n<h2>Actions</h2>\n", f);
	for (t = 0; t < conf->ntransitions; t++) {
		const struct spool_transition *tr = &conf->transitions[t];

		if (!order_transition_legal(conf, v->state, t))
			continue;
		any = 1;
		fprintf(f, "<form class=\"transition\" data-name=\"%s\" method=\"post\" "
		    "action=\"/orders/%s/transitions\">", tr->name, v->o.id);
		csrf_field(w, f);
		fprintf(f, "<input type=\"hidden\" name=\"name\" value=\"%s\">"
		    "<input name=\"comment\" placeholder=\"Comment\" aria-label=\"Comment\">"
		    "<label><input type=\"checkbox\" name=\"tell\" value=\"1\"> tell the customer"
		    "</label><button type=\"submit\">%s</button> <span class=\"to\">&rarr; %s</span>"
		    "</form>\n", tr->name, tr->name, conf->states[tr->to].name);
	}
	if (!any)
		fputs("<p class=\"none\">No move is the admin's to make from here.</p>\n", f);
	fprintf(f, "<form id=\"remove\" method=\"post\" action=\"/orders/%s/remove\">", v->o.id);
	csrf_field(w, f);
	fputs("<input name=\"comment\" placeholder=\"Why\" aria-label=\"Why\">"
	    "<label><input type=\"checkbox\" name=\"confirm\" value=\"1\" required> "
	    "remove the order and all its files</label><button type=\"submit\">Remove</button>"
	    "</form>\n</section>\n", f);
}

static void
web_warn(void *arg, const char *msg)
{
	(void)arg;
	web_log("%s", msg);
}

void
page_order(struct web *w, const struct req *q, struct resp *r, const char *id)
{
	struct order_view v;
	struct spool_err err;

	if (order_view_read(w->ws->sp, id, &v, web_warn, NULL, &err) < 0) {
		refuse(w, q, r, errno == EINVAL || errno == ENOENT ? 404 : 500, "%s", err.msg);
		return;
	}
	head(w, r, id);
	fputs("<h1>Order ", r->f);
	h(r->f, v.o.id);
	fputs("</h1>\n<section id=\"order\" data-live>\n", r->f);
	order_facts(&v, r->f);
	order_items(&v, r->f);
	fputs("<h2>Files</h2>\n<table id=\"files\"><tbody>\n", r->f);
	if (v.pfd >= 0)
		order_files(v.pfd, file_row, r->f);
	fputs("</tbody></table>\n<h2>History</h2>\n<table id=\"history\"><tbody>\n", r->f);
	if (spool_history_read(w->ws->sp, id, event_row, r->f, &err) != 0)
		web_log("%s", err.msg);
	fputs("</tbody></table>\n</section>\n", r->f);
	order_actions(w, &v, r->f);
	foot(r);
	order_view_free(&v);
}

static void
job_row(struct web *w, const struct spool_conf *conf, const struct job *jb, FILE *f)
{
	const char *sn = spool_job_status_name(jb->j.status);

	fprintf(f, "<tr data-job=\"%s\"><td class=\"job\"><a href=\"/jobs/%s\">%s</a></td>"
	    "<td class=\"order\">", jb->j.name, jb->j.name, jb->j.name);
	if (w->user.role == SPOOL_ROLE_ADMIN)
		fprintf(f, "<a href=\"/orders/%s\">%s</a>", jb->order, jb->order);
	else
		fputs(jb->order, f);
	fprintf(f, "</td><td class=\"item\">%s</td><td class=\"queue\">%s</td>"
	    "<td class=\"status\" data-code=\"%d\">%s</td></tr>\n", jb->j.item,
	    conf->queues[jb->j.queue].name, jb->j.status, sn != NULL ? sn : "?");
}

void
page_jobs(struct web *w, const struct req *q, struct resp *r)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct job *v;
	size_t n, k;

	if (list_jobs(w, &v, &n) < 0) {
		refuse(w, q, r, 500, "cannot read the spool: %s", strerror(errno));
		return;
	}
	head(w, r, "Print jobs");
	fputs("<h1>Print jobs</h1>\n<section id=\"joblist\" data-live>\n<table id=\"jobs\"><thead>"
	    "<tr><th>Job</th><th>Order</th><th>Item</th><th>Queue</th><th>Status</th></tr></thead>"
	    "<tbody>\n", r->f);
	for (k = 0; k < n; k++)
		job_row(w, conf, &v[k], r->f);
	fputs("</tbody></table>\n", r->f);
	if (n == 0)
		fputs("<p class=\"none\">No print jobs.</p>\n", r->f);
	fputs("</section>\n", r->f);
	foot(r);
	free(v);
}

struct links {
	FILE *f;
	const char *job;
};

static int
file_link(void *arg, int dirfd, const char *name)
{
	struct links *ln = arg;

	(void)dirfd;
	fprintf(ln->f, "<li><a class=\"file\" href=\"/api/jobs/%s/files/%s\" download>%s</a></li>\n",
	    ln->job, name, name);
	return 0;
}

void
page_job(struct web *w, const struct req *q, struct resp *r, const char *name)
{
	const struct spool_conf *conf = spool_conf(w->ws->sp);
	struct links ln = { r->f, name };
	const char *sn;
	struct job jb;

	if (find_job(w, q, r, name, &jb) < 0)
		return;
	sn = spool_job_status_name(jb.j.status);
	head(w, r, name);
	fprintf(r->f, "<h1>Print job %s</h1>\n<section id=\"job\" data-live>\n<dl class=\"facts\">"
	    "<dt>Order</dt><dd>%s</dd><dt>Item</dt><dd>%s</dd><dt>Queue</dt><dd>%s</dd>"
	    "<dt>Status</dt><dd><span id=\"status\" data-code=\"%d\">%s</span></dd></dl>\n"
	    "<h2>Files</h2>\n<ul id=\"files\">\n", name, jb.order, jb.j.item,
	    conf->queues[jb.j.queue].name, jb.j.status, sn != NULL ? sn : "?");
	job_files(w, &jb, file_link, &ln);
	fprintf(r->f, "</ul>\n</section>\n<section id=\"set-status\">\n<h2>Set the status</h2>\n"
	    "<form id=\"status-form\" method=\"post\" action=\"/jobs/%s/status\">", name);
	csrf_field(w, r->f);
	fputs("<label>Status <select name=\"status\"><option value=\"15\">Processing</option>"
	    "<option value=\"3\">Shipping</option><option value=\"10\">Failed</option></select>"
	    "</label>\n<label>Message <textarea name=\"message\" rows=\"3\"></textarea></label>\n"
	    "<button type=\"submit\">Set the status</button>\n</form>\n<p class=\"hint\">"
	    "Queued goes to Processing, Processing to Shipping; Failed needs a message.</p>\n"
	    "</section>\n", r->f);
	foot(r);
}

int
static_file(const char *name, struct resp *r)
{
	const struct web_asset *a;

	for (a = web_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0) {
			r->ctype = strstr(name, ".css") != NULL ? "text/css; charset=utf-8" :
			    "text/javascript; charset=utf-8";
			fwrite(a->data, 1, a->len, r->f);
			return 0;
		}
	return -1;
}
