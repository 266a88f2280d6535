/*
 * libspool: walking the spool, checking and repairing it, recovery.  Included by
 * spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_CHECK_H
#define SPOOL_CORE_CHECK_H

#include "base.h"

/* ---- walking and checking ---------------------------------------------- */

struct spool_ent {
	const char *id;
	int state;
	struct timespec placed;   /* the order file's mtime: when the order was placed */
	struct timespec since;    /* its ctime: when it entered this state */
};

/*
 * Call fn for every order file in the given states (mask; 0 means all).  With stat
 * set, placed and since are filled in.  Returns the number of orders seen.
 */
int spool_walk(struct spool *sp, uint64_t states, int stat,
    int (*fn)(void *, const struct spool_ent *), void *arg);

enum spool_problem_kind {
	SPOOL_P_TWOSTATES, SPOOL_P_ORPHAN, SPOOL_P_NOPAYLOAD, SPOOL_P_UNCOMMITTED,
	SPOOL_P_STALETMP, SPOOL_P_BADNAME, SPOOL_P_UNKNOWNSTATE, SPOOL_P_MISSINGDIR,
	SPOOL_P_MODE, SPOOL_P_FILESYSTEM,
	SPOOL_P_GROUP,      /* a folder or file whose group is not the spool's */
};

struct spool_problem {
	enum spool_problem_kind kind;
	const char *id;       /* or NULL */
	const char *path;     /* relative to the spool */
	const char *detail;
	int repaired;         /* 1 repaired, 0 reported only, -1 repair failed */
};

const char *spool_problem_name(enum spool_problem_kind k);
/*
 * Move dirfd/name into corrupt/ (as name, or name.N if that is taken) and publish
 * corrupt/<that>.reason beside it.  The final name is copied into out.
 */
int spool_quarantine(struct spool *sp, int dirfd, const char *name, const char *reason,
    char *out, size_t outlen);
/*
 * Find (and with repair set, mend what is safe) damage; returns the problem count.
 * Besides the tree's consistency it checks modes and groups (SPOOL_P_MODE,
 * SPOOL_P_GROUP: folders setgid and group rwx, files group read-write, all of the
 * root folder's group; reported once per folder of the spool and once per order) and
 * mends them.  An order in two states keeps, on repair, the copy in the state its
 * history's last move names; the others go to corrupt/, with a history line.  After
 * any repair it publishes run/kick, so that a running spoold looks again.
 */
int spool_check(struct spool *sp, int repair, void (*fn)(void *, const struct spool_problem *),
    void *arg);
/*
 * What spoold runs at start: repair only what a crash leaves half done (detached
 * order files, stale tmp/), in constant memory; the count of problems, or -1.
 */
int spool_recover(struct spool *sp, void (*fn)(void *, const struct spool_problem *), void *arg);

#endif
