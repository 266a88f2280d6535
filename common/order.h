/*
 * One order as the programs show it: its state, items, attempts, print jobs, files and
 * history, read once and written as JSON.  `spoolctl show --json` and spoolweb's
 * GET /api/orders/ID both use it, so the two never disagree; spoolctl's text output
 * reads the same view.
 */
#ifndef SPOOL_COMMON_ORDER_H
#define SPOOL_COMMON_ORDER_H

#include "json.h"
#include "spool.h"

struct order_view {
	const struct spool_conf *conf;
	const struct spool_state *s;
	int state;
	struct spool_order o;
	struct spool_status st;
	struct spool_item *items;
	int nitems;
	struct spool_pjobs js;
	int pfd;                /* orders/<id>/, or -1 */
	char output[4097];      /* its error file */
};

/* What cannot be read of an order that is there: one line, for the person who asked. */
typedef void order_warn_fn(void *arg, const char *msg);

/*
 * Read order id: -1 with errno EINVAL (not an id), ENOENT (no such order) or that of
 * its order file, and err.  A part that cannot be read (status, items, jobs) is
 * warned of and left empty; so is an order found in several states (the first wins).
 */
int order_view_read(struct spool *sp, const char *id, struct order_view *w,
    order_warn_fn *warn, void *arg, struct spool_err *err);
void order_view_free(struct order_view *w);
/* The view as an object, all but the history, whose list it leaves open. */
void order_view_json(const struct order_view *w, struct json *j);
/* The history as the objects of that list; 0, or what spool_history_read says. */
int order_history_json(struct spool *sp, const char *id, struct json *j,
    struct spool_err *err);
/*
 * The files under dirfd (an order's folder), recursively and sorted by name, each
 * handed to fn with its path below dirfd and its size.
 */
void order_files(int dirfd, void (*fn)(void *arg, const char *path, long long size),
    void *arg);

/* What `spoolctl ls` and the web's lists let through. */
struct order_filter {
	uint64_t states;        /* a mask of states; 0: every state */
	time_t since, until;    /* placed at or after since, before until, where has_ */
	int has_since, has_until;
	const char *text;       /* in the id, or the customer's name or address
	                           (any case); NULL: any */
};
/* 1 if e passes f; the order file is read only for f->text. */
int order_filter_match(struct spool *sp, const struct order_filter *f,
    const struct spool_ent *e);

/*
 * May an admin take transition t (an index of conf->transitions) for order id now?  It
 * must start from the state the order is in, be the admin's to make, and that state
 * must not be locked.  0 and *from, or -1 with err and errno ENOENT (no such order),
 * EUCLEAN (the order is in several states), EBUSY (locked) or EPERM (not from there, or
 * not the admin's).  spool_move then makes the move from *from.
 */
int order_transition_check(struct spool *sp, const char *id, int t, int *from,
    struct spool_err *err);
/* 1 if an admin may take transition t from state (the test above, on a known state). */
int order_transition_legal(const struct spool_conf *conf, int state, int t);

#endif
