/*
 * The [queue NAME] sections of spool.conf: the hot folders that printers and RIPs
 * read, and which chunk kinds go to each.  The core's config reader hands them to
 * this file through its section table (spool_conf_sections).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"

/* "HH:MM" into minutes of the day. */
static int
clock_parse(const char *s, int *min)
{
	int h, m, n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || s[2] != ':' ||
	    h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*min = h * 60 + m;
	return 0;
}

/* A folder path: clean text without blanks at either end, no "." or ".." part. */
static int
path_ok(const char *v)
{
	const char *p = v;
	size_t n;

	if (v[0] == '\0' || strlen(v) > 1024 || v[strlen(v) - 1] == ' ')
		return 0;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
	}
	return 1;
}

static void
open_queue(struct spool_conf_reader *r, struct spool_conf *c, const char *arg)
{
	struct spool_queue *q;
	int i;

	if (!spool_name_ok(arg)) {
		spool_conf_error(r, 0, NULL, "[queue %s]: '%s' is not a queue name "
		    "([a-z][a-z0-9-]*)", arg, arg);
		return;
	}
	for (i = 0; i < c->nqueues; i++)
		if (strcmp(c->queues[i].name, arg) == 0) {
			spool_conf_error(r, 0, NULL, "[queue %s]: duplicate queue (first on line %d)",
			    arg, c->queues[i].line);
			return;
		}
	if ((q = realloc(c->queues, (size_t)(c->nqueues + 1) * sizeof *q)) == NULL) {
		spool_conf_error(r, 0, NULL, "out of memory");
		return;
	}
	c->queues = q;
	q = &c->queues[c->nqueues++];
	memset(q, 0, sizeof *q);
	strcpy(q->name, arg);
	q->window = -1;
	q->line = spool_conf_line(r);
}

/* chunks = KIND... or *: the words, each a chunk kind. */
static void
chunks_key(struct spool_conf_reader *r, struct spool_queue *q, const char *name,
    const char *v)
{
	char *w[SPOOL_CONF_WORDS + 1], *dup;
	int j, nw;

	if ((dup = strdup(v)) == NULL) {
		spool_conf_error(r, 0, name, "out of memory");
		return;
	}
	nw = spool_conf_words(dup, w);
	if (nw <= 0 || (q->chunks = calloc((size_t)nw, sizeof *q->chunks)) == NULL)
		spool_conf_error(r, 0, name, nw <= 0 ? "expected chunk kinds, or *" :
		    "out of memory");
	for (j = 0; j < nw && q->chunks != NULL; j++) {
		if (strcmp(w[j], "*") != 0 && !spool_name_ok(w[j])) {
			spool_conf_error(r, 0, name, "'%s' is not a chunk kind", w[j]);
			break;
		}
		if ((q->chunks[q->nchunks] = strdup(w[j])) == NULL) {
			spool_conf_error(r, 0, name, "out of memory");
			break;
		}
		q->nchunks++;
	}
	free(dup);
}

static void
key_queue(struct spool_conf_reader *r, struct spool_conf *c, const char *name, const char *v)
{
	struct spool_queue *q = &c->queues[c->nqueues - 1];
	static const char *const keys[] = { "path", "chunks", "format", "window", "info",
		NULL };
	static const char *const formats[] = { "job", "jdf", NULL };   /* enum spool_job_format */
	char where[SPOOL_NAME_MAX + 16];
	int i, a, b;

	snprintf(where, sizeof where, "[queue %s]", q->name);
	if ((i = spool_conf_key(r, keys, name, &q->seen, where)) < 0)
		return;
	switch (i) {
	case 0:
	case 4:
		if (!path_ok(v))
			spool_conf_error(r, 0, name, "expected a folder path without . or .. parts");
		else if (spool_conf_setstr(i == 0 ? &q->path : &q->info, v) < 0)
			spool_conf_error(r, 0, name, "out of memory");
		break;
	case 1:
		chunks_key(r, q, name, v);
		break;
	case 2:
		if ((a = spool_conf_choice(v, formats)) < 0)
			spool_conf_error(r, 0, name, "expected job or jdf");
		else
			q->format = (enum spool_job_format)a;
		break;
	case 3:
		if (clock_parse(v, &a) < 0 ||
		    (v[5] != '\0' && (v[5] != '-' || clock_parse(v + 6, &b) < 0 || b == a))) {
			spool_conf_error(r, 0, name, "expected HH:MM or HH:MM-HH:MM");
			break;
		}
		q->window = a;
		q->window_len = v[5] == '\0' ? 60 : (b - a + 1440) % 1440;
		break;
	}
}

/* A queue's defaults: hot/NAME, and every chunk kind. */
static void
defaults(struct spool_conf_reader *r, struct spool_queue *q)
{
	char def[SPOOL_NAME_MAX + 8];

	if (q->path == NULL) {
		snprintf(def, sizeof def, "hot/%s", q->name);
		if ((q->path = strdup(def)) == NULL)
			spool_conf_error(r, q->line, NULL, "out of memory");
	}
	if (q->nchunks == 0 && ((q->chunks = calloc(1, sizeof *q->chunks)) == NULL ||
	    (q->chunks[q->nchunks++] = strdup("*")) == NULL))
		spool_conf_error(r, q->line, NULL, "out of memory");
}

/* Every chunk kind goes to one queue, and a publish action has queues to go to. */
static void
check_queues(struct spool_conf_reader *r, struct spool_conf *c)
{
	int i, j, k, l, m, star = -1, publish = 0;

	for (i = 0; i < c->nqueues; i++) {
		struct spool_queue *q = &c->queues[i];

		defaults(r, q);
		for (j = 0; j < q->nchunks; j++) {
			if (q->chunks[j] == NULL)
				continue;
			if (strcmp(q->chunks[j], "*") == 0) {
				if (star >= 0 && star != i)
					spool_conf_error(r, q->line, "chunks", "queue '%s' takes every "
					    "other kind already (chunks = *)", c->queues[star].name);
				star = i;
				continue;
			}
			for (k = 0; k <= i; k++)
				for (l = 0; l < (k == i ? j : c->queues[k].nchunks); l++)
					if (c->queues[k].chunks[l] != NULL &&
					    strcmp(c->queues[k].chunks[l], q->chunks[j]) == 0)
						spool_conf_error(r, q->line, "chunks", "chunk kind '%s' goes "
						    "to queue '%s' already", q->chunks[j], c->queues[k].name);
		}
	}
	for (i = 0; i < c->nstates; i++)
		for (m = 0; m < c->states[i].nactions; m++)
			if (c->states[i].actions[m].kind == SPOOL_ACT_PUBLISH && !publish++ &&
			    c->nqueues == 0)
				spool_conf_error(r, c->states[i].actions[m].line, "action",
				    "publish needs at least one [queue NAME] section");
}

static void
free_queues(struct spool_conf *c)
{
	int i, j;

	for (i = 0; i < c->nqueues; i++) {
		for (j = 0; j < c->queues[i].nchunks; j++)
			free(c->queues[i].chunks[j]);
		free(c->queues[i].chunks);
		free(c->queues[i].path);
		free(c->queues[i].info);
	}
	free(c->queues);
	c->queues = NULL;
	c->nqueues = 0;
}

int
spool_queue_route(const struct spool_conf *c, const char *kind)
{
	int i, j, star = -1;

	for (i = 0; i < c->nqueues; i++)
		for (j = 0; j < c->queues[i].nchunks; j++) {
			if (strcmp(c->queues[i].chunks[j], kind) == 0)
				return i;
			if (strcmp(c->queues[i].chunks[j], "*") == 0)
				star = i;
		}
	return star;
}

const struct spool_conf_section spool_queue_section = {
	.name = "queue",
	.named = 1,
	.open = open_queue,
	.key = key_queue,
	.check = check_queues,
	.free = free_queues,
};
