/* One order as the programs show it; see order.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "order.h"

/* -1 with errno e and err the message. */
static int __attribute__((format(printf, 3, 4)))
fail(struct spool_err *err, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the folder at, sorted; *n of them (freed by the caller, each and all). */
static char **
sorted_names(DIR *d, size_t *n)
{
	char **names = NULL, **nn;
	struct dirent *de;

	*n = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((nn = realloc(names, (*n + 1) * sizeof *names)) == NULL)
			break;
		names = nn;
		if ((names[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	if (*n > 1)
		qsort(names, *n, sizeof *names, cmp_str);
	return names;
}

static void
files_in(int at, const char *prefix, void (*fn)(void *, const char *, long long), void *arg,
    int depth)
{
	char **names, path[512];
	struct stat st;
	size_t n, i;
	DIR *d;
	int fd;

	if (depth > 4 || (fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	names = sorted_names(d, &n);
	for (i = 0; i < n; i++) {
		const char *nm = names[i];

		if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(path, sizeof path, "%s%.255s", prefix, nm);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char pre[512];

			snprintf(pre, sizeof pre, "%.400s/", path);
			if (sub >= 0) {
				files_in(sub, pre, fn, arg, depth + 1);
				close(sub);
			}
		} else
			fn(arg, path, (long long)st.st_size);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

void
order_files(int dirfd, void (*fn)(void *arg, const char *path, long long size), void *arg)
{
	files_in(dirfd, "", fn, arg, 0);
}

/* orders/<id>/error: what the last failing handler wrote to stderr (at most 4 KiB). */
static void
error_output(int pfd, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if (pfd < 0 || (fd = openat(pfd, spool_basename(SPOOL_F_ERROR), O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

int
order_view_read(struct spool *sp, const char *id, struct order_view *w,
    order_warn_fn *warn, void *arg, struct spool_err *err)
{
	char msg[SPOOL_ERR_MAX + 64];
	int n;

	memset(w, 0, sizeof *w);
	w->pfd = -1;
	w->conf = spool_conf(sp);
	if (!spool_id_ok(id)) {
		return fail(err, EINVAL, "'%.80s' is not an order id", id);
	}
	if ((n = spool_locate(sp, id, &w->state)) == 0) {
		return fail(err, ENOENT, "%s: no such order", id);
	}
	if (n > 1) {
		snprintf(msg, sizeof msg, "%s: is in %d states (run spoolctl check)", id, n);
		warn(arg, msg);
	}
	w->s = &w->conf->states[w->state];
	if (spool_order_read(sp, id, w->state, &w->o, err) < 0)
		return -1;
	if (spool_status_read(sp, id, &w->st, err) < 0) {
		warn(arg, err->msg);
		memset(&w->st, 0, sizeof w->st);
	}
	/* Attempts and the last error are about the order's life; a due time, its visit. */
	if (strcmp(w->st.state, w->s->name) != 0)
		w->st.due = 0;
	if (spool_items_read(sp, id, &w->items, &w->nitems, err) < 0)
		warn(arg, err->msg);
	w->pfd = openat(spool_dirfd(sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	error_output(w->pfd, w->output, sizeof w->output);
	/* its print jobs, and what their printers last said */
	if (spool_pjobs_read(sp, id, &w->js, err) < 0)
		warn(arg, err->msg);
	return 0;
}

void
order_view_free(struct order_view *w)
{
	if (w->pfd >= 0)
		close(w->pfd);
	w->pfd = -1;
	spool_pjobs_free(&w->js);
	free(w->items);
	w->items = NULL;
}

static void
items_json(const struct order_view *w, struct json *j)
{
	const struct spool_item *it;
	int i;

	json_key(j, "items");
	json_arr(j);
	for (i = 0; i < w->nitems; i++) {
		it = &w->items[i];
		json_obj(j);
		json_kstr(j, "id", it->id);
		json_kstr(j, "product", it->product);
		json_kstr(j, "title", it->title);
		json_kint(j, "quantity", it->quantity);
		json_kint(j, "pages", it->pages);
		json_key(j, "upload");
		if (it->has_upload)
			json_str(j, it->complete ? "complete" : "incomplete");
		else
			json_nil(j);
		json_end(j, '}');
	}
	json_end(j, ']');
	json_key(j, "jobs");
	json_arr(j);
	for (i = 0; i < w->js.n; i++) {
		json_obj(j);
		json_kstr(j, "name", w->js.v[i].name);
		json_kstr(j, "queue", w->js.v[i].queue >= 0 ? w->conf->queues[w->js.v[i].queue].name :
		    NULL);
		json_kstr(j, "item", w->js.v[i].item);
		json_kint(j, "status", w->js.v[i].status);
		json_end(j, '}');
	}
	json_end(j, ']');
}

static void
file_json(void *arg, const char *path, long long size)
{
	struct json *j = arg;

	json_obj(j);
	json_kstr(j, "path", path);
	json_kint(j, "size", size);
	json_end(j, '}');
}

void
order_view_json(const struct order_view *w, struct json *j)
{
	const struct spool_state *s = w->s;
	char t1[32], t2[32], t3[32];

	json_obj(j);
	json_kstr(j, "id", w->o.id);
	json_kstr(j, "state", s->name);
	json_kstr(j, "display", s->display);
	json_kint_or_null(j, "code", s->code >= 0, s->code);
	json_kstr(j, "workflow", w->o.workflow);
	json_kstr(j, "placed", spool_time_fmt(w->o.placed, t1, sizeof t1));
	json_kstr(j, "submitted", spool_time_fmt(w->o.submitted, t2, sizeof t2));
	json_kstr(j, "customer", w->o.customer);
	json_kstr(j, "email", w->o.email);
	json_kstr(j, "payment", w->o.payment == SPOOL_DELAYED ? "delayed" : "paid");
	json_kint(j, "attempts", w->st.attempts);
	json_kstr(j, "due", w->st.due ? spool_time_fmt(w->st.due, t3, sizeof t3) : NULL);
	json_kstr(j, "last_error", w->st.error[0] ? w->st.error : NULL);
	json_kstr(j, "error_output", w->output[0] ? w->output : NULL);
	items_json(w, j);
	json_key(j, "files");
	json_arr(j);
	if (w->pfd >= 0)
		order_files(w->pfd, file_json, j);
	json_end(j, ']');
	json_key(j, "history");
	json_arr(j);
}

static int
event_json(void *arg, const struct spool_event *ev)
{
	struct json *j = arg;
	char t[32];

	json_obj(j);
	json_kstr(j, "time", spool_time_fmt(ev->time, t, sizeof t));
	json_kstr(j, "actor", ev->actor);
	json_kstr(j, "from", ev->from[0] ? ev->from : NULL);
	json_kstr(j, "to", ev->to[0] ? ev->to : NULL);
	json_kstr(j, "comment", ev->comment);
	json_end(j, '}');
	return 0;
}

int
order_history_json(struct spool *sp, const char *id, struct json *j, struct spool_err *err)
{
	return spool_history_read(sp, id, event_json, j, err);
}

int
order_transition_check(struct spool *sp, const char *id, int t, int *from,
    struct spool_err *err)
{
	const struct spool_conf *conf = spool_conf(sp);
	const struct spool_transition *tr = &conf->transitions[t];
	int n;

	if ((n = spool_locate(sp, id, from)) <= 0)
		return fail(err, ENOENT, "%s: no such order", id);
	if (n > 1)
		return fail(err, EUCLEAN, "%s: is in %d states; left alone (run spoolctl check)",
		    id, n);
	if (conf->states[*from].locked)
		return fail(err, EBUSY, "%s: locked while in %s", id, conf->states[*from].name);
	if (!(tr->from & ((uint64_t)1 << *from)))
		return fail(err, EPERM, "%s: transition '%s' does not start from %s", id, tr->name,
		    conf->states[*from].name);
	if (!(tr->actors & SPOOL_ACTOR_ADMIN))
		return fail(err, EPERM, "%s: transition '%s' is not the admin's to make", id,
		    tr->name);
	return 0;
}

int
order_transition_legal(const struct spool_conf *conf, int state, int t)
{
	const struct spool_transition *tr = &conf->transitions[t];

	return !conf->states[state].locked && (tr->from & ((uint64_t)1 << state)) &&
	    (tr->actors & SPOOL_ACTOR_ADMIN);
}

/* Case-insensitive substring search. */
static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

int
order_filter_match(struct spool *sp, const struct order_filter *f, const struct spool_ent *e)
{
	struct spool_order o;

	if ((f->states && !(f->states & ((uint64_t)1 << e->state))) ||
	    (f->has_since && e->placed.tv_sec < f->since) ||
	    (f->has_until && e->placed.tv_sec >= f->until))
		return 0;
	return f->text == NULL || contains(e->id, f->text) ||
	    (spool_order_read(sp, e->id, e->state, &o, NULL) == 0 &&
	    (contains(o.customer, f->text) || contains(o.email, f->text)));
}
