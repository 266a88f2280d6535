/*
 * The commands that read one order: show (its state, items, attempts, print jobs,
 * files and history; the view and its JSON are common/order.c's) and history.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "order.h"
#include "spoolctl.h"

/* A time, or "-" for none. */
static char *
tfmt(time_t t, char *buf, size_t len)
{
	return t == 0 ? strcpy(buf, "-") : spool_time_fmt(t, buf, len);
}

static int
print_event(void *arg, const struct spool_event *ev)
{
	char t[32], c[sizeof ev->comment * 4], a[SPOOL_FIELD_MAX * 4];

	(void)arg;
	spool_time_fmt(ev->time, t, sizeof t);
	printf("%s  %-16s %s -> %s%s%s\n", t, spool_escape(a, sizeof a, ev->actor),
	    ev->from[0] ? ev->from : "-", ev->to[0] ? ev->to : "-", ev->comment[0] ? "  " : "",
	    spool_escape(c, sizeof c, ev->comment));
	return 0;
}

static void
warn_cb(void *arg, const char *msg)
{
	(void)arg;
	warnx_("%s", msg);
}

/* Read order id into w, or exit with what is wrong. */
static void
must_read(struct spool *sp, const char *id, struct order_view *w)
{
	struct spool_err err;

	if (order_view_read(sp, id, w, warn_cb, NULL, &err) == 0)
		return;
	die(errno == EINVAL ? SPOOL_EX_USAGE : errno == ENOENT ? SPOOL_EX_NOTFOUND :
	    SPOOL_EX_DATAERR, "%s", err.msg);
}

int
cmd_history(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	struct json j;
	int json, i, bad, state, n;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	if (!spool_id_ok(argv[i]))
		die(SPOOL_EX_USAGE, "'%.80s' is not an order id", argv[i]);
	sp = open_spool();
	/* the history alone: an order whose order file is damaged still has one */
	if ((n = spool_locate(sp, argv[i], &state)) == 0)
		die(SPOOL_EX_NOTFOUND, "%s: no such order", argv[i]);
	if (n > 1)
		warnx_("%s: is in %d states (run spoolctl check)", argv[i], n);
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
		bad = order_history_json(sp, argv[i], &j, &err);
		json_end(&j, ']');
		json_done(&j);
	} else
		bad = spool_history_read(sp, argv[i], print_event, NULL, &err);
	if (bad != 0)
		warnx_("%s", err.msg);
	close_spool();
	return bad < 0 ? excode(errno) : 0;
}

static void
print_file(void *arg, const char *path, long long size)
{
	char esc[1024];

	(void)arg;
	printf("  %-40s %10lld\n", spool_escape(esc, sizeof esc, path), size);
}

static void
show_text_items(const struct order_view *w)
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
show_text(struct order_view *w)
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
		order_files(w->pfd, print_file, NULL);
	printf("history\n");
}

int
cmd_show(int argc, char **argv)
{
	struct order_view w;
	struct spool_err err;
	struct spool *sp;
	struct json j;
	const char *id;
	int json, i, r;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	id = argv[i];
	sp = open_spool();
	must_read(sp, id, &w);
	if (json) {
		json_init(&j, stdout);
		order_view_json(&w, &j);
		r = order_history_json(sp, id, &j, &err);
		json_end(&j, ']');
		json_end(&j, '}');
		json_done(&j);
	} else {
		show_text(&w);
		r = spool_history_read(sp, id, print_event, NULL, &err);
	}
	if (r != 0)
		warnx_("%s", err.msg);
	order_view_free(&w);
	close_spool();
	return 0;
}
