/*
 * spoolweb's requests: the route each takes, who may take it, and the answers they
 * share.  A session is checked before anything is read, the users file is read again
 * on every request (so a user removed with spoolctl is out at once), and every POST
 * but a login carries the session's CSRF token: in X-CSRF-Token from a script, in the
 * csrf field from a page's form.
 */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web.h"

void
web_log(const char *fmt, ...)
{
	char buf[1024], esc[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* a user name or a path from a request must not forge a log line */
	fprintf(stderr, "spoolweb: %s\n", spool_escape(esc, sizeof esc, buf));
}

int
resp_init(struct resp *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->status = 200;
	r->ctype = "application/json";
	r->f = open_memstream(&r->body, &r->len);
	return r->f != NULL ? 0 : -1;
}

void
resp_done(struct resp *r)
{
	if (r->f != NULL)
		fclose(r->f);
	r->f = NULL;
}

static const char *
kv_get(const struct kv *v, int n, const char *k)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].k, k) == 0)
			return v[i].v;
	return NULL;
}

const char *
arg(const struct req *q, const char *k)
{
	const char *v = kv_get(q->args, q->nargs, k);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *
field(const struct req *q, const char *k)
{
	return kv_get(q->form, q->nform, k);
}

int
from_form(const struct req *q)
{
	return q->ctype != NULL &&
	    strncasecmp(q->ctype, "application/x-www-form-urlencoded", 33) == 0;
}

/* An urlencoded value, in place: '+' is a blank, and libmicrohttpd decodes %XX. */
static void
unescape(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		if (*p == '+')
			*p = ' ';
	MHD_http_unescape(s);
}

void
form_parse(struct req *q)
{
	char *p = q->body, *save = NULL, *kv, *eq;

	for (kv = strtok_r(p, "&", &save); kv != NULL && q->nform < WEB_ARGS_MAX;
	    kv = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		unescape(kv);
		unescape(eq + 1);
		/* a NUL decoded inside a value ends it: no field hides a second one */
		q->form[q->nform].k = kv;
		q->form[q->nform++].v = eq + 1;
	}
}

/*
 * A JSON body's members into q->form, as a form's fields: strings as they are, whole
 * numbers as text; anything else is refused.  The values are copied into *store.
 */
static int
json_parse_body(struct req *q, char **store)
{
	json_error_t jerr;
	json_t *doc, *v;
	const char *k;
	char *p;

	if ((doc = json_loadb(q->body, q->blen, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return -1;
	if (!json_is_object(doc) || (*store = p = malloc(q->blen + 64)) == NULL) {
		json_decref(doc);
		return -1;
	}
	json_object_foreach(doc, k, v) {
		if (q->nform == WEB_ARGS_MAX)
			break;
		q->form[q->nform].k = p;
		p = stpcpy(p, k) + 1;
		q->form[q->nform++].v = p;
		if (json_is_string(v))
			p = stpcpy(p, json_string_value(v)) + 1;
		else if (json_is_integer(v))
			p += sprintf(p, "%lld", (long long)json_integer_value(v)) + 1;
		else {
			json_decref(doc);
			return -1;
		}
	}
	json_decref(doc);
	return 0;
}

void
json_error(struct resp *r, int status, const char *fmt, ...)
{
	char msg[SPOOL_ERR_MAX];
	struct json j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->status = status;
	r->ctype = "application/json";
	json_init(&j, r->f);
	json_obj(&j);
	json_kstr(&j, "error", msg);
	json_end(&j, '}');
	json_done(&j);
}

void
redirect(struct resp *r, const char *to)
{
	r->status = 303;
	r->ctype = "text/plain; charset=utf-8";
	snprintf(r->location, sizeof r->location, "%s", to);
}

/* The answer to a refused request: a page for a browser's form or GET, else JSON. */
static void
answer_error(struct web *w, const struct req *q, struct resp *r, int status, const char *msg)
{
	if (strncmp(q->path, "/api/", 5) == 0 || strcmp(q->path, "/metrics") == 0)
		json_error(r, status, "%s", msg);
	else
		page_error(w, r, status, msg);
}

void
refuse(struct web *w, const struct req *q, struct resp *r, int status, const char *fmt, ...)
{
	char msg[SPOOL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->refusals++;
	web_log("refused %d %s %s to %s from %s: %s", status, q->method, q->path,
	    w->s != NULL ? w->s->user : "(no session)", q->addr, msg);
	answer_error(w, q, r, status, msg);
}

struct web_spool *
req_spool(struct web *w, const struct req *q, struct resp *r)
{
	const char *name = arg(q, "spool");

	if (name == NULL || strcmp(name, w->spools[w->s->spool].name) == 0)
		return &w->spools[w->s->spool];
	refuse(w, q, r, 403, "this session is for spool %s, not %.80s",
	    w->spools[w->s->spool].name, name);
	return NULL;
}

/* The session of the request, and its user as the users file says now; or NULL. */
static struct session *
authenticate(struct web *w, const struct req *q)
{
	struct spool_users us;
	const struct spool_user *u;
	struct spool_err err;
	struct session *s;

	if (q->cookie == NULL || (s = session_find(w, q->cookie, q->now)) == NULL)
		return NULL;
	if (spool_users_read(w->spools[s->spool].sp, &us, &err) < 0) {
		web_log("%s: %s", w->spools[s->spool].name, err.msg);
		return NULL;
	}
	if ((u = spool_users_find(&us, s->user)) == NULL) {
		/* removed with spoolctl user del: the session ends with the user */
		session_end(s);
		spool_users_free(&us);
		return NULL;
	}
	w->user = *u;
	spool_users_free(&us);
	w->s = s;
	w->ws = &w->spools[s->spool];
	return s;
}

/*
 * The path cut at its slashes into at most n parts: "/" has none, and a path with
 * more parts, an empty one ("//", a trailing slash) or no leading slash is -1.
 */
static int
split(const char *path, char *buf, size_t len, char **part, int n)
{
	char *p, *slash;
	int k = 0;

	if (path[0] != '/' || snprintf(buf, len, "%s", path + 1) >= (int)len)
		return -1;
	for (p = buf; *p != '\0'; p = slash + 1) {
		if (k == n || *p == '/')
			return -1;
		part[k++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			break;
		*slash = '\0';
		if (slash[1] == '\0')
			return -1;
	}
	return k;
}

static int
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* The routes that need no session: the login page, logging in, the files, metrics. */
static int
open_route(struct web *w, struct req *q, struct resp *r, char **p, int n)
{
	int get = is(q->method, "GET") || is(q->method, "HEAD");

	if (n == 0 && get) {
		if (authenticate(w, q) != NULL)
			redirect(r, w->user.role == SPOOL_ROLE_ADMIN ? "/orders" : "/jobs");
		else
			page_login(w, q, r, 200, NULL);
		return 1;
	}
	if (n == 2 && is(p[0], "static") && get) {
		if (static_file(p[1], r) < 0)
			json_error(r, 404, "no such file");
		return 1;
	}
	if (n == 1 && is(p[0], "metrics") && get) {
		metrics(w, q, r);
		return 1;
	}
	if (is(q->method, "POST") && ((n == 1 && is(p[0], "login")) ||
	    (n == 2 && is(p[0], "api") && is(p[1], "login")))) {
		login(w, q, r);
		return 1;
	}
	return 0;
}

/* Admin-only routes under /api/orders and /orders; p[0] is past "api" if any. */
static void
orders_route(struct web *w, struct req *q, struct resp *r, char **p, int n, int api)
{
	int post = is(q->method, "POST");

	if (w->user.role != SPOOL_ROLE_ADMIN) {
		refuse(w, q, r, 403, "orders are for admins");
		return;
	}
	if (n == 1 && !post)
		api ? api_orders(w, q, r) : page_orders(w, q, r);
	else if (n == 2 && !post)
		api ? api_order(w, q, r, p[1]) : page_order(w, q, r, p[1]);
	else if (n == 3 && post && is(p[2], "transitions"))
		act_transition(w, q, r, p[1], field(q, "name"), field(q, "comment"));
	else if (n == 3 && post && is(p[2], "remove"))
		act_remove(w, q, r, p[1], field(q, "comment"));
	else
		refuse(w, q, r, 404, "no such page");
}

static void
jobs_route(struct web *w, struct req *q, struct resp *r, char **p, int n, int api)
{
	int post = is(q->method, "POST");
	const char *st;
	char *end;
	long code;

	if (n == 1 && !post)
		api ? api_jobs(w, q, r) : page_jobs(w, q, r);
	else if (n == 2 && !post && !api)
		page_job(w, q, r, p[1]);
	else if (n == 4 && !post && api && is(p[2], "files"))
		api_file(w, q, r, p[1], p[3]);
	else if (n == 3 && post && is(p[2], "status")) {
		st = field(q, "status");
		code = st != NULL ? strtol(st, &end, 10) : 0;
		if (st == NULL || *end != '\0' || end == st)
			refuse(w, q, r, 400, "status must be a number: 15, 3 or 10");
		else
			act_status(w, q, r, p[1], (int)code, field(q, "message"));
	} else
		refuse(w, q, r, 404, "no such page");
}

/* Read the body of a POST into q->form: a form's fields, or a JSON object's members. */
static int
body_fields(struct req *q, char **store)
{
	if (q->body == NULL)
		return 0;
	if (from_form(q)) {
		form_parse(q);
		return 0;
	}
	if (q->blen == 0)
		return 0;
	if (q->ctype == NULL || strncasecmp(q->ctype, "application/json", 16) != 0)
		return -1;
	return json_parse_body(q, store);
}

static void
route(struct web *w, struct req *q, struct resp *r)
{
	char buf[1024], *p[6];
	int n, api, post = is(q->method, "POST");

	if ((n = split(q->path, buf, sizeof buf, p, 6)) < 0) {
		json_error(r, 404, "no such page");
		return;
	}
	if (open_route(w, q, r, p, n))
		return;
	if (authenticate(w, q) == NULL) {
		/* a browser goes to the login page; a script is told */
		if (strncmp(q->path, "/api/", 5) != 0 && !post)
			redirect(r, "/");
		else
			refuse(w, q, r, 401, "not logged in");
		return;
	}
	if (post) {
		const char *t = from_form(q) ? field(q, "csrf") : q->csrf;

		if (t == NULL || !token_eq(t, w->s->csrf)) {
			refuse(w, q, r, 403, "missing or wrong CSRF token");
			return;
		}
	}
	if (req_spool(w, q, r) == NULL)
		return;
	api = n > 0 && is(p[0], "api");
	if (api && n == 2 && post && is(p[1], "logout")) {
		logout(w, q, r);
		return;
	}
	if (!api && n == 1 && post && is(p[0], "logout")) {
		logout(w, q, r);
		return;
	}
	if (n > api && is(p[api], "orders"))
		orders_route(w, q, r, p + api, n - api, api);
	else if (n > api && is(p[api], "jobs"))
		jobs_route(w, q, r, p + api, n - api, api);
	else
		refuse(w, q, r, 404, "no such page");
}

void
web_handle(struct web *w, struct req *q, struct resp *r)
{
	char *store = NULL;

	w->s = NULL;
	w->ws = NULL;
	w->requests++;
	if (q->refused != 0) {
		json_error(r, q->refused, q->refused == 413 ? "the body is too big" :
		    "the address holds an encoded NUL");
		return;
	}
	if (!is(q->method, "GET") && !is(q->method, "HEAD") && !is(q->method, "POST")) {
		json_error(r, 405, "method not allowed");
		return;
	}
	if (is(q->method, "POST") && body_fields(q, &store) < 0)
		json_error(r, 400, "the body must be a JSON object of strings and numbers, or a form");
	else
		route(w, q, r);
	free(store);
	w->s = NULL;
}

void
resp_finish(const struct req *q, struct resp *r)
{
	uint64_t hash = 0xcbf29ce484222325ULL;
	size_t i;

	fflush(r->f);
	if (r->status != 200 || r->fd >= 0 || (!is(q->method, "GET") && !is(q->method, "HEAD")))
		return;
	/* FNV-1a of the body: a live page polls with it and gets 304 while nothing changed */
	for (i = 0; i < r->len; i++)
		hash = (hash ^ (unsigned char)r->body[i]) * 0x100000001b3ULL;
	snprintf(r->etag, sizeof r->etag, "\"%016llx\"", (unsigned long long)hash);
	if (q->etag != NULL && strcmp(q->etag, r->etag) == 0) {
		r->status = 304;
		r->head_only = 1;
	}
}
