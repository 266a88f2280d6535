/*
 * libspool: several spoolds on one spool, one per host (a node), over a shared file
 * system.  Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_NODE_H
#define SPOOL_CORE_NODE_H

#include <sys/types.h>
#include <time.h>

#include "base.h"

/* ---- run/nodes/, run/claims/, run/leader: the nodes of a shared spool ---- */

/*
 * Each node keeps its own files in run/nodes/NAME/ (its heartbeat, its lock, its
 * journal, reserve and stats); run/leader is the file whose fcntl lock makes its holder
 * the leader; run/claims/ID says which node runs ID's handler.  lib/core/node.c.
 */
#define SPOOL_NODE_MAX 64
#define SPOOL_NODE_SILENT 5   /* seconds a heartbeat may stand still before its node is dead */

struct spool_node {
	char name[SPOOL_NODE_MAX + 1];
	long pid;
	unsigned long beat;     /* counts up at each heartbeat */
	time_t time;            /* the node's clock at its last heartbeat */
	int leader;             /* it led at that heartbeat */
};

/* 1 if name is a node's name: 1 to 64 of [A-Za-z0-9._-], not "." or "..". */
int spool_node_name_ok(const char *name);
/*
 * Make and open run/nodes/NAME/ (and run/claims/): from then on the spool keeps its
 * journal, reserve and stats there instead of in run/.  -1 with errno and err.
 */
int spool_node_open(struct spool *sp, const char *name, struct spool_err *err);
/* The folder of the node's own files: run/nodes/NAME/ once opened, else run/. */
int spool_node_dirfd(const struct spool *sp);
/* Write the node's heartbeat (not synced: it is for the living). */
int spool_node_beat(struct spool *sp, const struct spool_node *n);
/* Call fn for each node with a readable heartbeat; stops if it returns non-zero. */
int spool_nodes_read(struct spool *sp, int (*fn)(void *, const struct spool_node *), void *arg);

/*
 * Claim id for node until deadline (0: none), atomically: 0 claimed, 1 another node
 * holds it (its name in holder, if not NULL, of SPOOL_NODE_MAX + 1 bytes), -1 error.
 */
int spool_claim(struct spool *sp, const char *id, const char *node, time_t deadline,
    char *holder);
/* The claim of id: 1 and its node and deadline, 0 none, -1 error. */
int spool_claim_read(struct spool *sp, const char *id, char *node, time_t *deadline);
/* Drop the claim of id; 0 also when there was none. */
int spool_claim_drop(struct spool *sp, const char *id);
/* Call fn for each claim; stops if it returns non-zero.  Returns the count, or -1. */
int spool_claims_read(struct spool *sp,
    int (*fn)(void *, const char *id, const char *node, time_t deadline), void *arg);

/* Open (making it) run/leader for its lock: a descriptor, or -1. */
int spool_leader_open(struct spool *sp);
/*
 * Who leads: 1 and the name and pid run/leader holds while its lock is held ("?" if
 * it holds none yet), 0 none, -1 error.  Not for the leader itself: closing the file
 * would drop its own lock (fcntl locks are the process's).
 */
int spool_leader_read(struct spool *sp, char *node, long *pid);

#endif
