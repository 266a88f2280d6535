/*
 * The two bounded containers of spoold: the queue of orders to look at (a ring in
 * arrival order, with a hash set so that an order is queued once however many
 * events name it), and the heap of due times.  Both have fixed sizes; when one is
 * full the caller falls back on a rescan, which finds everything again.
 */
#include <stdlib.h>
#include <string.h>

#include "spoold.h"

#define SLOTS (READY_MAX * 2)   /* a power of two, kept at most half full */

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int
queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	q->ring = calloc(READY_MAX, sizeof *q->ring);
	q->hint = calloc(READY_MAX, sizeof *q->hint);
	q->slots = calloc(SLOTS, sizeof *q->slots);
	q->used = calloc(SLOTS, 1);
	if (q->ring == NULL || q->hint == NULL || q->slots == NULL || q->used == NULL) {
		queue_free(q);
		return -1;
	}
	return 0;
}

void
queue_free(struct queue *q)
{
	free(q->ring);
	free(q->hint);
	free(q->slots);
	free(q->used);
	memset(q, 0, sizeof *q);
}

/* The slot of id, or of the empty slot where it would go. */
static unsigned
find(const struct queue *q, const char *id)
{
	unsigned i = hash(id) & (SLOTS - 1);

	while (q->used[i] && strcmp(q->slots[i], id) != 0)
		i = (i + 1) & (SLOTS - 1);
	return i;
}

int
queue_has(const struct queue *q, const char *id)
{
	return q->used[find(q, id)];
}

int
queue_push(struct queue *q, const char *id, int hint)
{
	unsigned i = find(q, id);

	if (q->used[i])
		return 0;
	if (q->count == READY_MAX)
		return -1;
	q->used[i] = 1;
	strcpy(q->slots[i], id);
	strcpy(q->ring[(q->head + q->count) % READY_MAX], id);
	q->hint[(q->head + q->count) % READY_MAX] = (short)hint;
	q->count++;
	return 0;
}

/* Remove id from the set, shifting back the entries probed past it (no tombstones). */
static void
forget(struct queue *q, const char *id)
{
	unsigned i = find(q, id), j, k;

	if (!q->used[i])
		return;
	q->used[i] = 0;
	for (j = (i + 1) & (SLOTS - 1); q->used[j]; j = (j + 1) & (SLOTS - 1)) {
		k = hash(q->slots[j]) & (SLOTS - 1);
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		memcpy(q->slots[i], q->slots[j], sizeof q->slots[i]);
		q->used[i] = 1;
		q->used[j] = 0;
		i = j;
	}
}

int
queue_pop(struct queue *q, char *id, int *hint)
{
	if (q->count == 0)
		return 0;
	strcpy(id, q->ring[q->head]);
	if (hint != NULL)
		*hint = q->hint[q->head];
	q->head = (q->head + 1) % READY_MAX;
	q->count--;
	forget(q, id);
	return 1;
}

int
heap_init(struct heap *h)
{
	h->n = 0;
	return (h->v = calloc(HEAP_MAX, sizeof *h->v)) == NULL ? -1 : 0;
}

void
heap_free(struct heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

int
heap_push(struct heap *h, time_t at, const char *id)
{
	int i = h->n, p;

	if (h->n == HEAP_MAX)
		return -1;
	while (i > 0 && h->v[p = (i - 1) / 2].at > at) {
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i].at = at;
	strcpy(h->v[i].id, id);
	h->n++;
	return 0;
}

time_t
heap_peek(const struct heap *h)
{
	return h->n > 0 ? h->v[0].at : 0;
}

int
heap_pop(struct heap *h, struct due *out)
{
	struct due last;
	int i = 0, c;

	if (h->n == 0)
		return 0;
	*out = h->v[0];
	last = h->v[--h->n];
	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1].at < h->v[c].at)
			c++;
		if (last.at <= h->v[c].at)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = last;
	return 1;
}
