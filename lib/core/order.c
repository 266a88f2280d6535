/*
 * Order files and status files: small versioned text that people can read.
 *
 *	spool-order 1
 *	id: 1001
 *	placed: 2026-11-20T09:14:00Z
 *	...
 *
 * The first line names the format and its version; then one "key: value" per line,
 * each key once.  The parser is strict (unknown keys, duplicates, control characters,
 * invalid UTF-8 and missing keys are errors with a line number) because these files
 * are also written by hand.  An order file is written once; the status file is
 * rewritten by spoold through spool_publish.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define KV_FILE_MAX 4096
#define STATUS_NAME spool_basename(SPOOL_F_STATUS)
#define ERROR_NAME spool_basename(SPOOL_F_ERROR)
#define STATUS_VERSION 1
/* An error of SPOOL_FIELD_MAX bytes, each escaped as at most 6 ("\\u202e") */
#define ERROR_ESC_MAX (SPOOL_FIELD_MAX * 6)

/*
 * A key of a "key: value" file.  Most keys fill one field of the struct the file
 * is read into, found by its offset; the others have a function of their own.
 */
/* KV_TEXT fills a char[SPOOL_FIELD_MAX + 1]; KV_TIME_OR_NONE takes "-" for 0 */
enum kv_type { KV_FN, KV_INT, KV_TIME, KV_TIME_OR_NONE, KV_TEXT };

struct kv_key {
	const char *name;
	int required;
	enum kv_type type;
	size_t off;         /* the field, for every type but KV_FN */
	int (*set)(void *obj, const char *val);   /* KV_FN */
	size_t max;         /* longest value; 0 means SPOOL_FIELD_MAX */
};

#define KV_FIELD(st, key, req, type) { #key, req, type, offsetof(st, key), NULL, 0 }
#define KV_OWN(key, req, fn, max) { #key, req, KV_FN, 0, fn, max }

static int kv_set(const struct kv_key *k, void *obj, const char *val);

/* Parse "MAGIC VERSION\n" then "key: value\n" lines into obj through keys[]. */
static int
kv_parse(const char *buf, size_t len, const char *magic, long want, const struct kv_key *keys,
    void *obj, struct spool_err *err)
{
	char line[KV_FILE_MAX + 1], *val;
	unsigned seen = 0;
	const char *p = buf, *end = buf + len, *nl;
	size_t ml = strlen(magic), n;
	int lineno = 0, i;
	long version;

	if (len > KV_FILE_MAX)
		return failerr(err, EFBIG, "file is over %d bytes", KV_FILE_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return failerr(err, EINVAL, "file contains a NUL byte");
	if (len == 0 || buf[len - 1] != '\n')
		return failerr(err, EINVAL, "file is empty or its last line is not ended");
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		lineno++;
		if (lineno == 1) {
			char *e;
			if (n <= ml + 1 || strncmp(line, magic, ml) != 0 || line[ml] != ' ')
				return failerr(err, EINVAL, "line 1: not a %s file", magic);
			errno = 0;
			version = strtol(line + ml + 1, &e, 10);
			if (errno != 0 || *e != '\0' || version < 1)
				return failerr(err, EINVAL, "line 1: bad version '%s'", line + ml + 1);
			if (version != want)
				return failerr(err, ENOTSUP, "line 1: unsupported version %ld", version);
			continue;
		}
		if ((val = strstr(line, ": ")) == NULL)
			return failerr(err, EINVAL, "line %d: expected 'key: value'", lineno);
		*val = '\0';
		val += 2;
		for (i = 0; keys[i].name != NULL; i++)
			if (strcmp(keys[i].name, line) == 0)
				break;
		if (keys[i].name == NULL)
			return failerr(err, EINVAL, "line %d: unknown key '%.64s'", lineno, line);
		if (seen & (1u << i))
			return failerr(err, EINVAL, "line %d: duplicate key '%s'", lineno, line);
		seen |= 1u << i;
		if (strlen(val) > (keys[i].max ? keys[i].max : SPOOL_FIELD_MAX) || !text_ok(val))
			return failerr(err, EINVAL,
			    "line %d: value of '%s' is too long or not clean UTF-8 text", lineno, line);
		if (kv_set(&keys[i], obj, val) < 0)
			return failerr(err, EINVAL, "line %d: bad value for '%s': '%.64s'", lineno,
			    line, val);
	}
	for (i = 0; keys[i].name != NULL; i++)
		if (keys[i].required && !(seen & (1u << i)))
			return failerr(err, EINVAL, "missing key '%s'", keys[i].name);
	return 0;
}

static int
copy_field(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	strcpy(dst, v);
	return 0;
}

static int
parse_int(const char *v, int *out)
{
	char *e;
	long n;

	errno = 0;
	n = strtol(v, &e, 10);
	if (errno != 0 || e == v || *e != '\0' || n < 0 || n > INT_MAX)
		return -1;
	*out = (int)n;
	return 0;
}

static int
o_id(void *o, const char *v)
{
	return spool_id_ok(v) ? copy_field(((struct spool_order *)o)->id, SPOOL_ID_MAX + 1, v) : -1;
}

static int
o_workflow(void *o, const char *v)
{
	return spool_name_ok(v) ?
	    copy_field(((struct spool_order *)o)->workflow, SPOOL_NAME_MAX + 1, v) : -1;
}

static int
o_payment(void *o, const char *v)
{
	struct spool_order *ord = o;

	if (strcmp(v, "paid") == 0)
		ord->payment = SPOOL_PAID;
	else if (strcmp(v, "delayed") == 0)
		ord->payment = SPOOL_DELAYED;
	else
		return -1;
	return 0;
}

static int
o_options(void *o, const char *v)
{
	char copy[SPOOL_FIELD_MAX + 1], *w, *save = NULL;

	snprintf(copy, sizeof copy, "%s", v);
	for (w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		if (!spool_name_ok(w))
			return -1;
	return copy_field(((struct spool_order *)o)->options, SPOOL_FIELD_MAX + 1, v);
}

int
spool_order_has_option(const struct spool_order *o, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = o->options; (p = strstr(p, name)) != NULL; p += n)
		if ((p == o->options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

#define O(key, req, type) KV_FIELD(struct spool_order, key, req, type)
static const struct kv_key order_keys[] = {
	KV_OWN(id, 1, o_id, 0),
	KV_OWN(workflow, 1, o_workflow, 0),
	O(placed, 1, KV_TIME),
	O(submitted, 1, KV_TIME),
	O(customer, 0, KV_TEXT),
	O(email, 0, KV_TEXT),
	KV_OWN(payment, 1, o_payment, 0),
	O(items, 1, KV_INT),
	KV_OWN(options, 0, o_options, 0),
	{ NULL, 0, KV_FN, 0, NULL, 0 },
};

int
spool_order_parse(const char *buf, size_t len, struct spool_order *o, struct spool_err *err)
{
	return kv_parse(buf, len, "spool-order", SPOOL_ORDER_VERSION, order_keys,
	    memset(o, 0, sizeof *o), err);
}

int
spool_order_format(const struct spool_order *o, char *buf, size_t len)
{
	char placed[32], submitted[32];

	if (!spool_id_ok(o->id) || !spool_name_ok(o->workflow) || !text_ok(o->customer) ||
	    !text_ok(o->email) || !text_ok(o->options)) {
		errno = EINVAL;
		return -1;
	}
	return fmt(buf, len,
	    "spool-order %d\n"
	    "id: %s\n"
	    "workflow: %s\n"
	    "placed: %s\n"
	    "submitted: %s\n"
	    "customer: %s\n"
	    "email: %s\n"
	    "payment: %s\n"
	    "items: %d\n"
	    "%s%s%s",
	    SPOOL_ORDER_VERSION, o->id, o->workflow,
	    spool_time_fmt(o->placed, placed, sizeof placed),
	    spool_time_fmt(o->submitted, submitted, sizeof submitted), o->customer, o->email,
	    o->payment == SPOOL_DELAYED ? "delayed" : "paid", o->items,
	    o->options[0] ? "options: " : "", o->options, o->options[0] ? "\n" : "");
}

int
spool_order_read(struct spool *sp, const char *id, int state, struct spool_order *o,
    struct spool_err *err)
{
	char name[SPOOL_ID_MAX + sizeof ORDER_SUFFIX], *buf;
	struct spool_err perr;
	size_t len;
	int r;

	if (!spool_id_ok(id))
		return failerr(err, EINVAL, "invalid order id");
	if (state < 0 || state >= sp->conf->nstates || sp->statefd[state] < 0)
		return failerr(err, ENOENT, "%s: no such state", id);
	fmt(name, sizeof name, "%s%s", id, ORDER_SUFFIX);
	if (read_file(sp->statefd[state], name, KV_FILE_MAX, &buf, &len) < 0)
		return seterr(err, "%s: cannot read state/%s/%s: %s", id,
		    sp->conf->states[state].name, name, strerror(errno));
	r = spool_order_parse(buf, len, o, &perr);
	free(buf);
	if (r < 0)
		return seterr(err, "%s: state/%s/%s: %s", id, sp->conf->states[state].name, name,
		    perr.msg);
	if (strcmp(o->id, id) != 0)
		return failerr(err, EINVAL, "%s: state/%s/%s: its id is '%s'", id,
		    sp->conf->states[state].name, name, o->id);
	return 0;
}

/* ---- status ---------------------------------------------------------------- */

#define S(s) ((struct spool_status *)(s))

static int
name_or_none(char *dst, const char *v)
{
	if (strcmp(v, "-") == 0) {
		dst[0] = '\0';
		return 0;
	}
	return spool_name_ok(v) ? copy_field(dst, SPOOL_NAME_MAX + 1, v) : -1;
}

static int
time_or_none(time_t *t, const char *v)
{
	if (strcmp(v, "-") == 0) {
		*t = 0;
		return 0;
	}
	return spool_time_parse(v, t);
}

static int
kv_set(const struct kv_key *k, void *obj, const char *v)
{
	void *f = (char *)obj + k->off;

	switch (k->type) {
	case KV_INT:
		return parse_int(v, f);
	case KV_TIME:
		return spool_time_parse(v, f);
	case KV_TIME_OR_NONE:
		return time_or_none(f, v);
	case KV_TEXT:
		return copy_field(f, SPOOL_FIELD_MAX + 1, v);
	case KV_FN:
		break;
	}
	return k->set(obj, v);
}

static int
s_state(void *s, const char *v)
{
	return name_or_none(S(s)->state, v);
}

/* The error is a handler's own words: escaped in the file, as they were in memory. */
static int
s_error(void *s, const char *v)
{
	char raw[ERROR_ESC_MAX + 1];

	if (copy_field(raw, sizeof raw, v) < 0 || text_unescape(raw) < 0)
		return -1;
	/* another writer's longer text is cut, marked, rather than the whole status refused */
	spool_text_copy(S(s)->error, SPOOL_FIELD_MAX + 1, raw, strlen(raw), 0);
	return 0;
}

#define ST(key, req, type) KV_FIELD(struct spool_status, key, req, type)
static const struct kv_key status_keys[] = {
	KV_OWN(state, 1, s_state, 0),
	ST(since, 0, KV_TIME_OR_NONE),
	ST(step, 0, KV_INT),
	ST(tries, 0, KV_INT),
	ST(due, 0, KV_TIME_OR_NONE),
	ST(deferred, 0, KV_INT),
	ST(reminded, 0, KV_INT),
	ST(attempts, 1, KV_INT),
	ST(visits, 0, KV_INT),
	ST(runs, 0, KV_INT),
	ST(running, 0, KV_INT),
	KV_OWN(error, 0, s_error, ERROR_ESC_MAX),
	{ NULL, 0, KV_FN, 0, NULL, 0 },
};

int
spool_status_parse(const char *buf, size_t len, struct spool_status *s, struct spool_err *err)
{
	return kv_parse(buf, len, "spool-status", STATUS_VERSION, status_keys,
	    memset(s, 0, sizeof *s), err);
}

int
spool_status_format(const struct spool_status *s, char *buf, size_t len)
{
	char since[32], due[32], error[ERROR_ESC_MAX + 1];

	if ((s->state[0] != '\0' && !spool_name_ok(s->state)) ||
	    s->attempts < 0 || s->step < 0 || s->tries < 0 || s->reminded < 0 || s->deferred < 0 ||
	    s->visits < 0 || s->runs < 0 || s->running < 0) {
		errno = EINVAL;
		return -1;
	}
	return fmt(buf, len,
	    "spool-status %d\n"
	    "state: %s\n"
	    "since: %s\n"
	    "step: %d\n"
	    "tries: %d\n"
	    "due: %s\n"
	    "deferred: %d\n"
	    "reminded: %d\n"
	    "attempts: %d\n"
	    "visits: %d\n"
	    "runs: %d\n"
	    "running: %d\n"
	    "error: %s\n",
	    STATUS_VERSION, s->state[0] ? s->state : "-",
	    s->since != 0 ? spool_time_fmt(s->since, since, sizeof since) : "-", s->step, s->tries,
	    s->due != 0 ? spool_time_fmt(s->due, due, sizeof due) : "-", s->deferred, s->reminded,
	    s->attempts, s->visits, s->runs, s->running, spool_escape(error, sizeof error, s->error));
}

int
open_payload(struct spool *sp, const char *id)
{
	if (!spool_id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	return openat(sp->dir[SPOOL_DIR_ORDERS], id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
spool_status_read(struct spool *sp, const char *id, struct spool_status *s,
    struct spool_err *err)
{
	struct spool_err perr;
	char *buf, path[SPOOL_ID_MAX + 16];
	size_t len;
	int r;

	memset(s, 0, sizeof *s);
	if (!spool_id_ok(id))
		return failerr(err, EINVAL, "'%.80s' is not an order id", id);
	fmt(path, sizeof path, "%s/%s", id, STATUS_NAME);
	/* no status, or no folder: either way nothing is recorded (check reports the folder) */
	r = read_file(sp->dir[SPOOL_DIR_ORDERS], path, KV_FILE_MAX, &buf, &len);
	if (r < 0)
		return errno == ENOENT ? 0 :
		    seterr(err, "%s: cannot read orders/%s/status: %s", id, id, strerror(errno));
	r = spool_status_parse(buf, len, s, &perr);
	free(buf);
	if (r < 0)
		return seterr(err, "%s: orders/%s/status: %s", id, id, perr.msg);
	return 0;
}

int
spool_status_write(struct spool *sp, const char *id, const struct spool_status *s, int flags)
{
	char buf[KV_FILE_MAX];
	int fd, n, r;

	if ((n = spool_status_format(s, buf, sizeof buf)) < 0)
		return -1;
	if ((fd = open_payload(sp, id)) < 0)
		return -1;
	r = spool_publish(fd, STATUS_NAME, sp->dir[SPOOL_DIR_TMP], buf, (size_t)n,
	    &(struct spool_pub){ .flags = flags & SPOOL_NOSYNC ? SPOOL_PUB_NOSYNC : 0 });
	close_keep(fd);
	return r;
}

int
spool_status_remove(struct spool *sp, const char *id)
{
	int fd, r;

	if ((fd = open_payload(sp, id)) < 0)
		return -1;
	r = spool_sys.unlinkat(fd, STATUS_NAME, 0);
	if (r < 0 && errno == ENOENT)
		r = 0;
	close_keep(fd);
	return r;
}

int
spool_error_write(struct spool *sp, const char *id, const char *out, size_t len, int flags)
{
	int fd, r;

	if ((fd = open_payload(sp, id)) < 0)
		return -1;
	if (len == 0) {
		r = spool_sys.unlinkat(fd, ERROR_NAME, 0);
		if (r < 0 && errno == ENOENT)
			r = 0;
	} else
		r = spool_publish(fd, ERROR_NAME, sp->dir[SPOOL_DIR_TMP], out, len,
		    &(struct spool_pub){ .flags = flags & SPOOL_NOSYNC ? SPOOL_PUB_NOSYNC : 0 });
	close_keep(fd);
	return r;
}
