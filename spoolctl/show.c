/*
 * The commands that read one order: show (its state, items, attempts, print jobs,
 * files and history) and history.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spoolctl.h"

/* A time, or "-" for none. */
static char *
tfmt(time_t t, char *buf, size_t len)
{
	return t == 0 ? strcpy(buf, "-") : spool_time_fmt(t, buf, len);
}

struct hist {
	struct json *j;
	int n;
};

static int
print_event(void *arg, const struct spool_event *ev)
{
	struct hist *h = arg;
	char t[32], c[sizeof ev->comment * 4], a[SPOOL_FIELD_MAX * 4];

	spool_time_fmt(ev->time, t, sizeof t);
	h->n++;
	if (h->j != NULL) {
		json_obj(h->j);
		json_kstr(h->j, "time", t);
		json_kstr(h->j, "actor", ev->actor);
		json_kstr(h->j, "from", ev->from[0] ? ev->from : NULL);
		json_kstr(h->j, "to", ev->to[0] ? ev->to : NULL);
		json_kstr(h->j, "comment", ev->comment);
		json_end(h->j, '}');
		return 0;
	}
	printf("%s  %-16s %s -> %s%s%s\n", t, spool_escape(a, sizeof a, ev->actor),
	    ev->from[0] ? ev->from : "-", ev->to[0] ? ev->to : "-", ev->comment[0] ? "  " : "",
	    spool_escape(c, sizeof c, ev->comment));
	return 0;
}

/* Locate id or exit with "no such order" (or a note on a damaged spool). */
static int
must_locate(struct spool *sp, const char *id)
{
	int state, n;

	if (!spool_id_ok(id))
		die(SPOOL_EX_USAGE, "'%.80s' is not an order id", id);
	if ((n = spool_locate(sp, id, &state)) == 0)
		die(SPOOL_EX_NOTFOUND, "%s: no such order", id);
	if (n > 1)
		warnx_("%s: is in %d states (run spoolctl check)", id, n);
	return state;
}

int
cmd_history(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	struct json j;
	struct hist h = { NULL, 0 };
	int json, i, bad;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	sp = open_spool();
	must_locate(sp, argv[i]);
	if (json) {
		json_init(&j, stdout);
		h.j = &j;
		json_arr(&j);
	}
	bad = spool_history_read(sp, argv[i], print_event, &h, &err);
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	}
	if (bad != 0)
		warnx_("%s", err.msg);
	close_spool();
	return bad < 0 ? excode(errno) : 0;
}

/* List the files of orders/<id>/, recursively and sorted, with their sizes. */
static void
list_files(int at, const char *prefix, struct json *j, int depth)
{
	char **names = NULL, **nn, path[512];
	struct dirent *de;
	struct stat st;
	size_t n = 0, i;
	DIR *d;
	int fd;

	if (depth > 4 || (fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof *names)) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
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
				list_files(sub, pre, j, depth + 1);
				close(sub);
			}
		} else if (j != NULL) {
			json_obj(j);
			json_kstr(j, "path", path);
			json_kint(j, "size", (long long)st.st_size);
			json_end(j, '}');
		} else {
			char esc[1024];
			printf("  %-40s %10lld\n", spool_escape(esc, sizeof esc, path),
			    (long long)st.st_size);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

/* orders/<id>/error: what the last failing handler wrote to stderr (at most 4 KiB). */
static void
error_output(int pfd, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if (pfd < 0 || (fd = openat(pfd, "error", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* What show prints of an order before its history. */
struct shown {
	const struct spool_conf *conf;
	const struct spool_state *s;
	struct spool_order o;
	struct spool_status st;
	struct spool_item *items;
	int nitems;
	struct spool_pjobs js;
	int pfd;                /* orders/<id>/, or -1 */
	char output[4097];      /* its error file */
};

/* Read it all, or exit if the order is not there; warn of a part that cannot be read. */
static void
show_read(struct spool *sp, const char *id, struct shown *w)
{
	struct spool_err err;
	int state;

	w->conf = spool_conf(sp);
	state = must_locate(sp, id);
	w->s = &w->conf->states[state];
	if (spool_order_read(sp, id, state, &w->o, &err) < 0)
		die(SPOOL_EX_DATAERR, "%s", err.msg);
	if (spool_status_read(sp, id, &w->st, &err) < 0) {
		warnx_("%s", err.msg);
		memset(&w->st, 0, sizeof w->st);
	}
	/* Attempts and the last error are about the order's life; a due time, its visit. */
	if (strcmp(w->st.state, w->s->name) != 0)
		w->st.due = 0;
	if (spool_items_read(sp, id, &w->items, &w->nitems, &err) < 0)
		warnx_("%s", err.msg);
	w->pfd = openat(spool_dirfd(sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	error_output(w->pfd, w->output, sizeof w->output);
	/* its print jobs, and what their printers last said */
	if (spool_pjobs_read(sp, id, &w->js, &err) < 0)
		warnx_("%s", err.msg);
}

static void
show_json_items(const struct shown *w, struct json *j)
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
			json_null(j);
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

/* All but the history, whose list it opens. */
static void
show_json(const struct shown *w, struct json *j)
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
	show_json_items(w, j);
	json_key(j, "files");
	json_arr(j);
	if (w->pfd >= 0)
		list_files(w->pfd, "", j, 0);
	json_end(j, ']');
	json_key(j, "history");
	json_arr(j);
}

static void
show_text_items(const struct shown *w)
{
	const struct spool_item *it;
	char esc[4 * 4096 + 4];
	const char *sn;
	int i;

	printf("items\n");
	for (i = 0; i < w->nitems; i++) {
		it = &w->items[i];
		printf("  %-12s %-24s x%d", it->id, spool_escape(esc, sizeof esc, it->product),
		    it->quantity);
		if (it->has_upload)
			printf("  %d pages%s", it->pages, it->complete ? "" : " (upload incomplete)");
		if (it->title[0])
			printf("  \"%s\"", spool_escape(esc, sizeof esc, it->title));
		putchar('\n');
	}
	if (w->js.n > 0)
		printf("jobs\n");
	for (i = 0; i < w->js.n; i++) {
		sn = spool_job_status_name(w->js.v[i].status);
		printf("  %-30s queue %-12s item %-8s %s (%d)\n", w->js.v[i].name,
		    w->js.v[i].queue >= 0 ? w->conf->queues[w->js.v[i].queue].name : "-",
		    w->js.v[i].item, w->js.v[i].status == 0 ? "not published yet" : sn != NULL ? sn :
		    "?", w->js.v[i].status);
	}
}

/* All but the history, up to its heading; the error output is cut into lines in place. */
static void
show_text(struct shown *w)
{
	const struct spool_state *s = w->s;
	char t1[32], t2[32], t3[32], esc[4 * 4096 + 4], *line, *save = NULL;

	printf("order      %s\n", w->o.id);
	printf("state      %s (%s", s->name, spool_escape(esc, sizeof esc, s->display));
	if (s->code >= 0)
		printf(", code %d", s->code);
	printf(")\nworkflow   %s\n", w->o.workflow);
	printf("placed     %s\n", spool_time_fmt(w->o.placed, t1, sizeof t1));
	printf("submitted  %s\n", spool_time_fmt(w->o.submitted, t2, sizeof t2));
	printf("customer   %s", spool_escape(esc, sizeof esc, w->o.customer));
	printf(" <%s>\n", spool_escape(esc, sizeof esc, w->o.email));
	printf("payment    %s\n", w->o.payment == SPOOL_DELAYED ? "delayed" : "paid");
	printf("attempts   %d\n", w->st.attempts);
	printf("due        %s\n", tfmt(w->st.due, t3, sizeof t3));
	printf("last error %s\n", w->st.error[0] ? spool_escape(esc, sizeof esc, w->st.error) : "-");
	for (line = strtok_r(w->output, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		printf("  | %s\n", spool_escape(esc, sizeof esc, line));
	show_text_items(w);
	printf("files\n");
	if (w->pfd >= 0)
		list_files(w->pfd, "", NULL, 0);
	printf("history\n");
}

int
cmd_show(int argc, char **argv)
{
	struct shown w = { 0 };
	struct spool_err err;
	struct spool *sp;
	struct json j;
	struct hist h = { NULL, 0 };
	const char *id;
	int json, i;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	id = argv[i];
	sp = open_spool();
	show_read(sp, id, &w);
	if (json) {
		json_init(&j, stdout);
		show_json(&w, &j);
		h.j = &j;
	} else
		show_text(&w);
	if (spool_history_read(sp, id, print_event, &h, &err) != 0)
		warnx_("%s", err.msg);
	if (json) {
		json_end(&j, ']');
		json_end(&j, '}');
		json_done(&j);
	}
	if (w.pfd >= 0)
		close(w.pfd);
	spool_pjobs_free(&w.js);
	free(w.items);
	close_spool();
	return 0;
}
