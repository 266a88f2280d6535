/*
 * /metrics in Prometheus' text format (version 0.0.4), for every spool served: orders
 * and the age of the oldest per state, what spoold counted in run/stats, mails in the
 * outbox, whether a spoold holds the spool, and spoolweb's own requests.  It needs no
 * login, as a scraper has none: it tells counts, never an order or a name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "web.h"

/* A label value: backslash, double quote and line feed escaped. */
static void
label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct counts {
	long n[SPOOL_STATES_MAX];
	time_t oldest[SPOOL_STATES_MAX];
};

static int
count(void *arg, const struct spool_ent *e)
{
	struct counts *c = arg;

	if (c->n[e->state]++ == 0 || e->placed.tv_sec < c->oldest[e->state])
		c->oldest[e->state] = e->placed.tv_sec;
	return 0;
}

/* Files in outbox/NAME that are mails: not a dot-name, not a .reason beside one. */
static long
outbox_count(struct spool *sp, enum spool_file box)
{
	struct dirent *de;
	size_t n;
	long k = 0;
	DIR *d;
	int fd;

	fd = openat(spool_dirfd(sp, SPOOL_DIR_ROOT), SPOOL_NAME(box, NULL), O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] != '.' && !(n > 7 && strcmp(de->d_name + n - 7, ".reason") == 0))
			k++;
	}
	closedir(d);
	return k;
}

/*
 * 1 if a spoold runs: one holds run/spoold.lock (on a local file system), or a leader
 * holds run/leader (any).  Asking means taking a shared lock for an instant; a spoold
 * starting in that instant waits out its supervisor's restart.
 */
static int
spoold_up(struct spool *sp)
{
	char node[SPOOL_NODE_MAX + 1];
	long pid;
	int fd, up;

	if (spool_leader_read(sp, node, &pid) == 1)
		return 1;
	if ((fd = openat(spool_dirfd(sp, SPOOL_DIR_RUN), spool_basename(SPOOL_F_SPOOLD_LOCK),
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	up = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return up;
}

static const char *const results[] = { "ok", "failed", "deferred", "timeout", "killed" };
#define NRESULTS (int)(sizeof results / sizeof results[0])

/* What the spoolds of a spool counted: run/stats, and each node's on a shared spool. */
struct stats {
	struct spool *sp;
	long long runs[NRESULTS];
	long long started;          /* the earliest start of those that wrote, or 0 */
	long live;                  /* nodes whose heartbeat is recent */
	time_t now;
};

/* One stats file: "started EPOCH" and "runs RESULT N" lines, added to st. */
static void
stats_file(struct stats *st, int dirfd, const char *name)
{
	char buf[1024], *line, *save = NULL, res[16];
	long long v;
	ssize_t n;
	int fd, i;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "runs %15s %lld", res, &v) == 2) {
			for (i = 0; i < NRESULTS; i++)
				if (strcmp(res, results[i]) == 0)
					st->runs[i] += v;
		} else if (sscanf(line, "started %lld", &v) == 1 && v > 0 &&
		    (st->started == 0 || v < st->started))
			st->started = v;
}

static int
node_stats(void *arg, const struct spool_node *n)
{
	struct stats *st = arg;
	char path[SPOOL_NODE_MAX + 16];

	snprintf(path, sizeof path, "nodes/%s/%s", n->name, spool_basename(SPOOL_F_STATS));
	stats_file(st, spool_dirfd(st->sp, SPOOL_DIR_RUN), path);
	st->live += st->now - n->time < SPOOL_NODE_SILENT;
	return 0;
}

static void
stats(struct stats *st, struct spool *sp, time_t now)
{
	memset(st, 0, sizeof *st);
	st->sp = sp;
	st->now = now;
	stats_file(st, spool_dirfd(sp, SPOOL_DIR_RUN), spool_basename(SPOOL_F_STATS));
	spool_nodes_read(sp, node_stats, st);
}

/* One gauge per spool and state. */
static void
per_state(struct web *w, const struct counts *c, FILE *f, const char *name, time_t now)
{
	const struct spool_conf *conf;
	int i, k;

	for (k = 0; k < w->nspools; k++) {
		conf = spool_conf(w->spools[k].sp);
		for (i = 0; i < conf->nstates; i++) {
			fprintf(f, "%s{spool=\"", name);
			label(f, w->spools[k].name);
			fprintf(f, "\",state=\"%s\"} ", conf->states[i].name);
			if (strcmp(name, "spool_orders") == 0)
				fprintf(f, "%ld\n", c[k].n[i]);
			else
				fprintf(f, "%lld\n", c[k].n[i] ? (long long)(now - c[k].oldest[i]) : 0LL);
		}
	}
}

void
metrics(struct web *w, const struct req *q, struct resp *r)
{
	struct counts *c;
	struct stats *st;
	FILE *f = r->f;
	int k, b;

	c = calloc((size_t)w->nspools, sizeof *c);
	st = calloc((size_t)w->nspools, sizeof *st);
	if (c == NULL || st == NULL) {
		free(c);
		free(st);
		json_error(r, 503, "out of memory");
		return;
	}
	for (k = 0; k < w->nspools; k++) {
		spool_walk(w->spools[k].sp, 0, 1, count, &c[k]);
		stats(&st[k], w->spools[k].sp, q->now);
	}
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	family(f, "spool_orders", "gauge", "Orders in each state.");
	per_state(w, c, f, "spool_orders", q->now);
	family(f, "spool_oldest_order_age_seconds", "gauge",
	    "Age of the oldest order in each state, by when it was placed (0 when none).");
	per_state(w, c, f, "spool_oldest_order_age_seconds", q->now);
	free(c);
	family(f, "spool_handler_runs_total", "counter",
	    "Actions spoold ran, by result, summed over its nodes.");
	for (k = 0; k < w->nspools; k++)
		for (b = 0; b < NRESULTS; b++) {
			fputs("spool_handler_runs_total{spool=\"", f);
			label(f, w->spools[k].name);
			fprintf(f, "\",result=\"%s\"} %lld\n", results[b], st[k].runs[b]);
		}
	family(f, "spool_spoold_start_time_seconds", "gauge",
	    "When the running spoold started (its earliest node), in seconds since the epoch.");
	for (k = 0; k < w->nspools; k++)
		if (st[k].started != 0) {
			fputs("spool_spoold_start_time_seconds{spool=\"", f);
			label(f, w->spools[k].name);
			fprintf(f, "\"} %lld\n", st[k].started);
		}
	family(f, "spool_nodes", "gauge",
	    "Nodes of a shared spool whose heartbeat is under 5 seconds old (0 on a local one).");
	for (k = 0; k < w->nspools; k++) {
		fputs("spool_nodes{spool=\"", f);
		label(f, w->spools[k].name);
		fprintf(f, "\"} %ld\n", st[k].live);
	}
	family(f, "spool_outbox_mails", "gauge", "Mails in the outbox: waiting (new) or given up "
	    "(failed).");
	for (k = 0; k < w->nspools; k++)
		for (b = 0; b < 2; b++) {
			fputs("spool_outbox_mails{spool=\"", f);
			label(f, w->spools[k].name);
			fprintf(f, "\",folder=\"%s\"} %ld\n", b == 0 ? "new" : "failed",
			    outbox_count(w->spools[k].sp, b == 0 ? SPOOL_F_OUTBOX_NEW :
			    SPOOL_F_OUTBOX_FAILED));
		}
	family(f, "spool_spoold_up", "gauge", "1 if a spoold runs on the spool (on a shared one: a leader holds run/leader).");
	for (k = 0; k < w->nspools; k++) {
		fputs("spool_spoold_up{spool=\"", f);
		label(f, w->spools[k].name);
		fprintf(f, "\"} %d\n", spoold_up(w->spools[k].sp));
	}
	family(f, "spoolweb_requests_total", "counter", "Requests spoolweb answered.");
	fprintf(f, "spoolweb_requests_total %lu\n", w->requests);
	family(f, "spoolweb_refusals_total", "counter", "Requests spoolweb refused.");
	fprintf(f, "spoolweb_refusals_total %lu\n", w->refusals);
	family(f, "spoolweb_failed_logins_total", "counter", "Logins refused.");
	fprintf(f, "spoolweb_failed_logins_total %lu\n", w->logins_failed);
	free(st);
}
