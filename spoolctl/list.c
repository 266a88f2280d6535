/*
 * The commands that read the spool as a whole: ls (the orders, by state, date or
 * text), stats (count and oldest age per state) and workflow (its states and
 * transitions).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "order.h"
#include "spoolctl.h"

/* "3d4h", "12m", "40s": an age a person can read. */
static char *
age(long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%ldd%ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%ldh%ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
	return buf;
}

struct row {
	char id[SPOOL_ID_MAX + 1];
	int state;
	time_t placed, since;
};

/* ls: its options, then the orders it found. */
struct ls {
	struct spool *sp;
	const struct spool_conf *conf;
	char *states[SPOOL_STATES_MAX];
	int nstates;
	struct order_filter f;
	int json, lng;
	struct json *j;         /* the document, with --json */
	struct row *rows;
	size_t n, cap;
};

static int
ls_add(void *arg, const struct spool_ent *e)
{
	struct ls *l = arg;
	struct row *r;

	if (!order_filter_match(l->sp, &l->f, e))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		if ((r = realloc(l->rows, cap * sizeof *r)) == NULL)
			die(SPOOL_EX_TEMPFAIL, "out of memory");
		l->rows = r;
		l->cap = cap;
	}
	r = &l->rows[l->n++];
	memcpy(r->id, e->id, strlen(e->id) + 1);
	r->state = e->state;
	r->placed = e->placed.tv_sec;
	r->since = e->since.tv_sec;
	return 0;
}

static int
by_placed(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->placed != y->placed)
		return x->placed < y->placed ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The options of ls into l; a usage error exits. */
static void
ls_opts(int argc, char **argv, struct ls *l)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' }, { "search", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' }, { "long", no_argument, NULL, 'l' }, { 0 }
	};
	int c;

	while ((c = cmd_getopt(argc, argv, "s:S:U:q:jl", opts)) != -1) {
		switch (c) {
		case 's':
			if (l->nstates == SPOOL_STATES_MAX)
				usage();
			l->states[l->nstates++] = optarg;
			break;
		case 'S':
			l->f.since = time_arg("--since", optarg, 0);
			l->f.has_since = 1;
			break;
		case 'U':
			l->f.until = time_arg("--until", optarg, 1);
			l->f.has_until = 1;
			break;
		case 'q':
			l->f.text = optarg;
			break;
		case 'j':
			l->json = 1;
			break;
		case 'l':
			l->lng = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* One order's line, or object with --json. */
static void
ls_print(const struct ls *l, const struct row *r)
{
	const struct spool_state *s = &l->conf->states[r->state];
	struct spool_order o;
	char t1[32], t2[32], cust[SPOOL_FIELD_MAX * 4 + 4];
	int have = 0;

	if (l->f.text != NULL || l->lng)
		have = spool_order_read(l->sp, r->id, r->state, &o, NULL) == 0;
	if (l->j != NULL) {
		json_obj(l->j);
		json_kstr(l->j, "id", r->id);
		json_kstr(l->j, "state", s->name);
		json_kint_or_null(l->j, "code", s->code >= 0, s->code);
		json_kstr(l->j, "placed", spool_time_fmt(r->placed, t1, sizeof t1));
		json_kstr(l->j, "since", spool_time_fmt(r->since, t2, sizeof t2));
		if (have) {
			json_kstr(l->j, "customer", o.customer);
			json_kstr(l->j, "email", o.email);
		}
		json_end(l->j, '}');
		return;
	}
	printf("%-20s %-18s %s", r->id, s->name, spool_time_fmt(r->placed, t1, sizeof t1));
	if (l->lng)
		printf("  %s  %s", spool_time_fmt(r->since, t2, sizeof t2),
		    have ? spool_escape(cust, sizeof cust, o.customer) : "?");
	putchar('\n');
}

int
cmd_ls(int argc, char **argv)
{
	struct ls l = { 0 };
	struct json j;
	size_t k;
	int i;

	ls_opts(argc, argv, &l);
	l.sp = open_spool();
	l.conf = spool_conf(l.sp);
	for (i = 0; i < l.nstates; i++)
		l.f.states |= (uint64_t)1 << state_arg(l.conf, l.states[i]);
	if (spool_walk(l.sp, l.f.states, 1, ls_add, &l) < 0)
		die(excode(errno), "cannot read %s/state: %s", spooldir, strerror(errno));
	qsort(l.rows, l.n, sizeof *l.rows, by_placed);
	if (l.json) {
		json_init(&j, stdout);
		json_arr(&j);
		l.j = &j;
	}
	for (k = 0; k < l.n; k++)
		ls_print(&l, &l.rows[k]);
	if (l.json) {
		json_end(&j, ']');
		json_done(&j);
	}
	free(l.rows);
	close_spool();
	return fflush(stdout) == 0 ? 0 : SPOOL_EX_FAIL;
}

struct stat_row {
	long count;
	time_t oldest, longest;
};

static int
stats_add(void *arg, const struct spool_ent *e)
{
	struct stat_row *r = &((struct stat_row *)arg)[e->state];

	if (r->count++ == 0 || e->placed.tv_sec < r->oldest)
		r->oldest = e->placed.tv_sec;
	if (r->count == 1 || e->since.tv_sec < r->longest)
		r->longest = e->since.tv_sec;
	return 0;
}

int
cmd_stats(int argc, char **argv)
{
	struct stat_row rows[SPOOL_STATES_MAX];
	const struct spool_conf *conf;
	struct spool *sp;
	struct json j;
	char code[16], a1[32], a2[32];
	time_t now = time(NULL);
	long total = 0;
	int json, i;

	if (json_flag(argc, argv, &json) != argc)
		usage();
	sp = open_spool();
	conf = spool_conf(sp);
	memset(rows, 0, sizeof rows);
	if (spool_walk(sp, 0, 1, stats_add, rows) < 0)
		die(excode(errno), "cannot read %s/state: %s", spooldir, strerror(errno));
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	} else
		printf("%-20s %5s %9s %10s %10s\n", "STATE", "CODE", "COUNT", "OLDEST", "WAITING");
	for (i = 0; i < conf->nstates; i++) {
		const struct spool_state *s = &conf->states[i];
		struct stat_row *r = &rows[i];

		total += r->count;
		if (json) {
			json_obj(&j);
			json_kstr(&j, "state", s->name);
			json_kint_or_null(&j, "code", s->code >= 0, s->code);
			json_kint(&j, "count", r->count);
			json_kint_or_null(&j, "oldest_age", r->count != 0, (long long)(now - r->oldest));
			json_kint_or_null(&j, "longest_wait", r->count != 0, (long long)(now - r->longest));
			json_end(&j, '}');
			continue;
		}
		snprintf(code, sizeof code, "%d", s->code);
		printf("%-20s %5s %9ld %10s", s->name, s->code >= 0 ? code : "-", r->count,
		    r->count ? age((long)(now - r->oldest), a1, sizeof a1) : "-");
		printf(" %10s\n", r->count ? age((long)(now - r->longest), a2, sizeof a2) : "-");
	}
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	} else
		printf("%-20s %5s %9ld\n", "total", "", total);
	close_spool();
	return fflush(stdout) == 0 ? 0 : SPOOL_EX_FAIL;
}

/* The name and states; then the transitions' list is opened (or headed). */
static void
workflow_states(const struct spool_conf *conf, struct json *j)
{
	char esc[SPOOL_FIELD_MAX * 4];
	int i;

	if (j != NULL) {
		json_kstr(j, "workflow", conf->workflow);
		json_key(j, "states");
		json_arr(j);
		for (i = 0; i < conf->nstates; i++) {
			json_obj(j);
			json_kstr(j, "name", conf->states[i].name);
			json_kstr(j, "display", conf->states[i].display);
			json_kint_or_null(j, "code", conf->states[i].code >= 0, conf->states[i].code);
			json_end(j, '}');
		}
		json_end(j, ']');
		json_key(j, "transitions");
		json_arr(j);
		return;
	}
	printf("workflow %s\nstates\n", conf->workflow);
	for (i = 0; i < conf->nstates; i++) {
		const struct spool_state *s = &conf->states[i];
		printf("  %-20s", s->name);
		if (s->code >= 0)
			printf(" %3d", s->code);
		else
			printf("    ");
		printf("  %s%s\n", spool_escape(esc, sizeof esc, s->display),
		    s->final ? " (final)" : "");
	}
	printf("transitions\n");
}

/* A transition: its name, the states it starts from, where it goes, who may take it. */
static void
workflow_transition(const struct spool_conf *conf, const struct spool_transition *t,
    struct json *j)
{
	unsigned a;
	int k;

	if (j != NULL) {
		json_obj(j);
		json_kstr(j, "name", t->name);
		json_key(j, "from");
		json_arr(j);
	} else
		printf("  %-20s", t->name);
	for (k = 0; k < conf->nstates; k++)
		if (t->from & ((uint64_t)1 << k)) {
			if (j != NULL)
				json_str(j, conf->states[k].name);
			else
				printf(" %s", conf->states[k].name);
		}
	if (j != NULL) {
		json_end(j, ']');
		json_kstr(j, "to", conf->states[t->to].name);
		json_key(j, "actors");
		json_arr(j);
	} else
		printf(" -> %s  (", conf->states[t->to].name);
	for (a = 1, k = 0; a <= SPOOL_ACTOR_STORE; a <<= 1)
		if (t->actors & a) {
			if (j != NULL)
				json_str(j, spool_actor_name(a));
			else
				printf("%s%s", k++ ? " " : "", spool_actor_name(a));
		}
	if (j != NULL) {
		json_end(j, ']');
		json_end(j, '}');
	} else
		printf(")\n");
}

int
cmd_workflow(int argc, char **argv)
{
	const struct spool_conf *conf;
	struct spool *sp;
	struct json j, *jp = NULL;
	int json, i;

	if (json_flag(argc, argv, &json) != argc)
		usage();
	sp = open_spool();
	conf = spool_conf(sp);
	if (json) {
		json_init(&j, stdout);
		json_obj(&j);
		jp = &j;
	}
	workflow_states(conf, jp);
	for (i = 0; i < conf->ntransitions; i++)
		workflow_transition(conf, &conf->transitions[i], jp);
	if (json) {
		json_end(&j, ']');
		json_end(&j, '}');
		json_done(&j);
	}
	close_spool();
	return 0;
}
