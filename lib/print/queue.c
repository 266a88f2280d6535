/*
 * The [queue NAME] sections of spool.conf: the hot folders that printers and RIPs
 * read, and which chunk kinds go to each; and the [product NAME] sections: the media
 * each product is printed on, for the JDF tickets.  The core's config reader hands
 * them to this file through its section table (spool_conf_sections).
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

/*
 * A queue's defaults: hot/NAME, and every chunk kind.  A RIP reads every file of its
 * hot folder, so a JDF queue's info files go elsewhere: to PATH-info beside a
 * folder in the spool, and to a folder the admin names for one outside it, which
 * spool does not make.
 */
static void
defaults(struct spool_conf_reader *r, struct spool_queue *q)
{
	char def[SPOOL_NAME_MAX + 8];
	size_t n;

	if (q->path == NULL) {
		snprintf(def, sizeof def, "hot/%s", q->name);
		if ((q->path = strdup(def)) == NULL)
			spool_conf_error(r, q->line, NULL, "out of memory");
	}
	if (q->format == SPOOL_FORMAT_JDF && q->info == NULL && q->path != NULL) {
		n = strlen(q->path);
		while (n > 1 && q->path[n - 1] == '/')
			n--;
		if (q->path[0] == '/')
			spool_conf_error(r, q->line, "info", "[queue %s]: format = jdf with a path "
			    "outside the spool needs info = FOLDER, where job.xml, invoice.pdf and "
			    "upload.xml go: a RIP's hot folder gets only tickets and PDFs", q->name);
		else if ((q->info = malloc(n + 6)) == NULL)
			spool_conf_error(r, q->line, NULL, "out of memory");
		else
			snprintf(q->info, n + 6, "%.*s-info", (int)n, q->path);
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

/* ---- [product NAME] ------------------------------------------------------- */

/* The paper sizes a shop names, in millimetres (ISO 216), portrait. */
static const struct {
	const char *name;
	int w, h;
} sizes[] = {
	{ "A0", 841, 1189 }, { "A1", 594, 841 }, { "A2", 420, 594 }, { "A3", 297, 420 },
	{ "A4", 210, 297 }, { "A5", 148, 210 }, { "A6", 105, 148 },
	{ "B4", 250, 353 }, { "B5", 176, 250 }, { "SRA3", 320, 450 }, { "SRA4", 225, 320 },
};

/* media_size: a name of sizes[] or WxH in millimetres (decimals allowed). */
static int
size_parse(const char *v, double *w, double *h)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strcmp(v, sizes[i].name) == 0) {
			*w = sizes[i].w;
			*h = sizes[i].h;
			return 0;
		}
	if (v[0] < '0' || v[0] > '9' || sscanf(v, "%lfx%lf%n", w, h, &n) != 2 ||
	    v[n] != '\0' || *w < 1 || *h < 1 || *w > 10000 || *h > 10000)
		return -1;
	return 0;
}

/* media_type: JDF's MediaType values, which a RIP knows. */
static const char *const media_types[] = { "Paper", "Transparency", "Film", "Plate",
	"Vinyl", "Board", "CorrugatedBoard", "Other", NULL };
static const char *const sides_words[] = { "one-sided", "two-sided-long-edge",
	"two-sided-short-edge", NULL };

static void
open_product(struct spool_conf_reader *r, struct spool_conf *c, const char *arg)
{
	struct spool_product *p;
	int i;

	if (!spool_id_ok(arg)) {
		spool_conf_error(r, 0, NULL, "[product %s]: '%s' is not a product as order.xml "
		    "names it (letters, digits, '-', '_', '.')", arg, arg);
		return;
	}
	for (i = 0; i < c->nproducts; i++)
		if (strcmp(c->products[i].name, arg) == 0) {
			spool_conf_error(r, 0, NULL, "[product %s]: duplicate product (first on "
			    "line %d)", arg, c->products[i].line);
			return;
		}
	if ((p = realloc(c->products, (size_t)(c->nproducts + 1) * sizeof *p)) == NULL) {
		spool_conf_error(r, 0, NULL, "out of memory");
		return;
	}
	c->products = p;
	p = &c->products[c->nproducts];
	memset(p, 0, sizeof *p);
	if ((p->name = strdup(arg)) == NULL) {
		spool_conf_error(r, 0, NULL, "out of memory");
		return;
	}
	p->line = spool_conf_line(r);
	c->nproducts++;
}

static void
key_product(struct spool_conf_reader *r, struct spool_conf *c, const char *name,
    const char *v)
{
	static const char *const keys[] = { "media_size", "media_weight", "media_type",
		"sides", NULL };
	struct spool_product *p = &c->products[c->nproducts - 1];
	char where[SPOOL_ID_MAX + 16];
	long n;
	int i;

	snprintf(where, sizeof where, "[product %s]", p->name);
	if ((i = spool_conf_key(r, keys, name, &p->seen, where)) < 0)
		return;
	switch (i) {
	case 0:
		if (size_parse(v, &p->width, &p->height) < 0)
			spool_conf_error(r, 0, name, "expected A0 to A6, B4, B5, SRA3, SRA4, or "
			    "WIDTHxHEIGHT in millimetres");
		break;
	case 1:
		if (spool_conf_number(v, 1, 5000, &n) < 0)
			spool_conf_error(r, 0, name, "expected grams per square metre, 1 to 5000");
		else
			p->weight = (int)n;
		break;
	case 2:
		if ((n = spool_conf_choice(v, media_types)) < 0)
			spool_conf_error(r, 0, name, "expected Paper, Transparency, Film, Plate, "
			    "Vinyl, Board, CorrugatedBoard or Other");
		else if (spool_conf_setstr(&p->type, v) < 0)
			spool_conf_error(r, 0, name, "out of memory");
		break;
	case 3:
		if ((n = spool_conf_choice(v, sides_words)) < 0)
			spool_conf_error(r, 0, name, "expected one-sided, two-sided-long-edge or "
			    "two-sided-short-edge");
		else
			p->sides = (enum spool_sides)(n + 1);
		break;
	}
}

static void
free_products(struct spool_conf *c)
{
	int i;

	for (i = 0; i < c->nproducts; i++) {
		free(c->products[i].name);
		free(c->products[i].type);
	}
	free(c->products);
	c->products = NULL;
	c->nproducts = 0;
}

const struct spool_product *
spool_product_find(const struct spool_conf *c, const char *product)
{
	int i;

	for (i = 0; product != NULL && i < c->nproducts; i++)
		if (strcmp(c->products[i].name, product) == 0)
			return &c->products[i];
	return NULL;
}

const struct spool_conf_section spool_product_section = {
	.name = "product",
	.named = 1,
	.open = open_product,
	.key = key_product,
	.free = free_products,
};
