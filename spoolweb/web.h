/*
 * What the files of spoolweb share.  A request is a plain struct and so is its answer:
 * main.c fills one from libmicrohttpd and sends the other back, and the unit tests call
 * web_handle directly with neither a socket nor a thread.  Everything runs on
 * libmicrohttpd's one thread, so nothing here locks.
 */
#ifndef SPOOLWEB_WEB_H
#define SPOOLWEB_WEB_H

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "json.h"
#include "spool.h"

#define WEB_ARGS_MAX 16
#define WEB_TOKEN_LEN 64        /* 256 random bits in hex */
#define WEB_SESSIONS_MAX 1024
#define WEB_SESSION_IDLE (8 * 3600)     /* a session unused this long ends */
#define WEB_SESSION_LIFE (24 * 3600)    /* and every session ends after this */
#define WEB_BODY_MAX (64 * 1024)        /* a larger request body is refused */
#define WEB_LIST_MAX 500                /* orders listed at most; "more" says the rest */
#define WEB_COOKIE "spoolweb"

struct kv {
	const char *k, *v;
};

struct req {
	const char *method;          /* "GET", "POST", ... */
	const char *path;            /* the URL's path, percent-decoded */
	struct kv args[WEB_ARGS_MAX];    /* the query */
	int nargs;
	struct kv form[WEB_ARGS_MAX];    /* an urlencoded form's fields (decoded in place) */
	int nform;
	const char *cookie;          /* the spoolweb cookie's value, or NULL */
	const char *csrf;            /* X-CSRF-Token, or NULL */
	const char *ctype;           /* Content-Type, or NULL */
	const char *etag;            /* If-None-Match, or NULL */
	char *body;                  /* NUL-terminated; the form is decoded in it */
	size_t blen;
	const char *addr;            /* the peer's address, for the log and the limiter */
	time_t now;
	int refused;                 /* 400 or 413 when refused before routing, else 0 */
};

struct resp {
	int status;
	const char *ctype;
	FILE *f;                     /* the body, written as it is made */
	char *body;
	size_t len;
	int fd;                      /* or a file to send whole, -1 */
	off_t size;
	char location[600];
	char cookie[256];            /* Set-Cookie */
	char disposition[320];       /* Content-Disposition */
	char etag[40];
	int retry_after;             /* seconds, or 0 */
	int head_only;               /* 304: headers only */
};

enum role { ROLE_NONE, ROLE_ADMIN = SPOOL_ROLE_ADMIN, ROLE_PRINTER = SPOOL_ROLE_PRINTER };

struct session {
	char token[WEB_TOKEN_LEN + 1];   /* "" for a free slot */
	char csrf[WEB_TOKEN_LEN + 1];
	char user[SPOOL_NAME_MAX + 1];
	int spool;                       /* the spool logged in to: an index of web.spools */
	time_t born, used;
};

/* Failed logins, by user name or by address: each is slowed on its own. */
struct strike {
	char key[80];
	int fails;
	time_t last, until;
};
#define WEB_STRIKES_MAX 512

struct web_spool {
	char name[256];         /* the folder's base name: the API's spool parameter */
	char path[4096];
	struct spool *sp;
};

struct web {
	struct web_spool *spools;
	int nspools;
	int tls;                /* cookies are Secure */
	struct session sessions[WEB_SESSIONS_MAX];
	struct strike strikes[WEB_STRIKES_MAX];
	/* the request being answered: who and where */
	struct session *s;
	struct spool_user user; /* as the users file says now */
	struct spool_user nobody;   /* whose hash an unknown user's password meets */
	struct web_spool *ws;
	/* counters for /metrics */
	unsigned long requests, refusals, logins_failed;
	time_t started;
};

/* Answer req into r: r->f is open; the caller closes it and sends r. */
void web_handle(struct web *w, struct req *q, struct resp *r);
/* Start and end an answer (open and close r->f). */
int resp_init(struct resp *r);
void resp_done(struct resp *r);

/* The query's or the form's value of k, or NULL. */
const char *arg(const struct req *q, const char *k);
const char *field(const struct req *q, const char *k);
/* Split an urlencoded body into q->form, decoding in place. */
void form_parse(struct req *q);

/* http.c: answers the handlers share */
void json_error(struct resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A refusal: logged with the user and the address, answered as JSON or a page. */
void refuse(struct web *w, const struct req *q, struct resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* 1 if the request came from a form (answer with a page and a redirect), 0 for JSON. */
int from_form(const struct req *q);
void redirect(struct resp *r, const char *to);
void web_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The spool a request names (spool=NAME), or the session's; NULL after a refusal. */
struct web_spool *req_spool(struct web *w, const struct req *q, struct resp *r);

/* session.c */
struct session *session_find(struct web *w, const char *token, time_t now);
struct session *session_new(struct web *w, const char *user, int spool, time_t now);
void session_end(struct session *s);
int token_eq(const char *a, const char *b);
/* 0 if key may try to log in now; else the seconds to wait. */
long strike_wait(struct web *w, const char *key, time_t now);
void strike_add(struct web *w, const char *key, time_t now);
void strike_clear(struct web *w, const char *key);
void login(struct web *w, struct req *q, struct resp *r);
void logout(struct web *w, struct req *q, struct resp *r);

/* api.c: the JSON API; pages.c uses the same actions */
void api_orders(struct web *w, const struct req *q, struct resp *r);
void api_order(struct web *w, const struct req *q, struct resp *r, const char *id);
void api_jobs(struct web *w, const struct req *q, struct resp *r);
void api_file(struct web *w, const struct req *q, struct resp *r, const char *job,
    const char *name);
void act_transition(struct web *w, const struct req *q, struct resp *r, const char *id,
    const char *name, const char *comment);
void act_remove(struct web *w, const struct req *q, struct resp *r, const char *id,
    const char *comment);
void act_status(struct web *w, const struct req *q, struct resp *r, const char *job,
    int status, const char *message);
void metrics(struct web *w, const struct req *q, struct resp *r);

/* What the list pages and the API read: one order's row. */
struct row {
	char id[SPOOL_ID_MAX + 1];
	int state;
	time_t placed, since;
};
struct list {
	struct row *rows;
	size_t n, cap, more;
	long counts[SPOOL_STATES_MAX];
	time_t oldest[SPOOL_STATES_MAX];
};
/* The orders a filter (state, since, until, q) lets through, newest first, at most
 * WEB_LIST_MAX; -1 with a message in r on a bad filter or an unreadable spool. */
int list_orders(struct web *w, const struct req *q, struct resp *r, struct list *l);

/* A job of the spool: one line of some order's jobs file. */
struct job {
	char order[SPOOL_ID_MAX + 1];
	struct spool_pjob j;
};
/* The jobs the user may see (a printer: its queues'), read from the orders' jobs files. */
int list_jobs(struct web *w, struct job **jobs, size_t *n);
/* The job named name if the user may see it: 0, or -1 with the answer made (403, 404). */
int find_job(struct web *w, const struct req *q, struct resp *r, const char *name,
    struct job *out);
/* Call fn for each plain file of a job's folders (name, dirfd); stop when fn returns 1. */
int job_files(struct web *w, const struct job *jb,
    int (*fn)(void *arg, int dirfd, const char *name), void *arg);

/* pages.c */
void page_login(struct web *w, const struct req *q, struct resp *r, int status,
    const char *error);
void page_orders(struct web *w, const struct req *q, struct resp *r);
void page_order(struct web *w, const struct req *q, struct resp *r, const char *id);
void page_jobs(struct web *w, const struct req *q, struct resp *r);
void page_job(struct web *w, const struct req *q, struct resp *r, const char *job);
void page_error(struct web *w, struct resp *r, int status, const char *msg);
int static_file(const char *name, struct resp *r);

/* The stylesheet and the script, compiled in by mk/embed from spoolweb/static/. */
struct web_asset {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct web_asset web_assets[];

/* main.c: after web_handle, the answer's validator, and 304 when the client has it. */
void resp_finish(const struct req *q, struct resp *r);

#endif
