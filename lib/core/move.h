/*
 * libspool: where orders are, and moving and removing them.  Included by spool.h; see
 * there for the error contract.
 */
#ifndef SPOOL_CORE_MOVE_H
#define SPOOL_CORE_MOVE_H

#include "base.h"

/* ---- where orders are, and moving them --------------------------------- */

/*
 * Find the state of id by looking in every state folder: O(number of states).
 * Returns how many states hold it (0, 1, or more when the spool is damaged) and sets
 * *state to the first.
 */
int spool_locate(struct spool *sp, const char *id, int *state);

/*
 * Move id from state `from` (or, when from is -1, from wherever it is) to state `to`,
 * after checking that the workflow lets `actor` make the move.  The rename is the
 * commit; it never replaces a file.  Then one history line is appended; if that
 * fails, the move is undone and -1 is returned.
 * On a lost race errno is EAGAIN and err says "moved meanwhile to STATE".
 * A move the workflow refuses gives EPERM; a locked state gives EBUSY.
 */
struct spool_move {
	unsigned actor;
	const char *who;        /* history actor field, e.g. "admin:alice" */
	const char *comment;    /* may be NULL */
	int check;              /* 1: check the workflow for actor */
	int flags;              /* SPOOL_NOSYNC, SPOOL_MOVE_INTENT, SPOOL_MOVE_NOLINE */
	int from;               /* out: the state it left */
};
int spool_move(struct spool *sp, const char *id, int from, int to, struct spool_move *m,
    struct spool_err *err);

/*
 * Remove an order and all its files; logged in the global log.  Before its files go,
 * the hook set with spool_on_remove undoes what the layers above made of it (its print
 * jobs in hot folders): spool_domain_init sets it.
 */
int spool_remove(struct spool *sp, const char *id, unsigned actor, const char *who,
    const char *comment, struct spool_err *err);
/* The core never calls a layer above it by name: that layer hands it this hook. */
void spool_on_remove(int (*fn)(struct spool *sp, const char *id, int *count));

#endif
