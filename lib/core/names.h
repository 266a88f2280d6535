/*
 * libspool: the names of the format (spool-layout(5)) for programs that build a path
 * or name a file in a message, so that only libspool spells them.  Included by
 * spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_NAMES_H
#define SPOOL_CORE_NAMES_H

#include "base.h"

/* ---- names of the format ------------------------------------------------ */

/* A file or folder of a spool; ARG is what the comment puts in capitals. */
enum spool_file {
	SPOOL_F_ORDER_NAME,   /* ARG.order: an order file's name in its state folder */
	SPOOL_F_STATE,        /* state/ARG: a state folder */
	SPOOL_F_ORDER_DIR,    /* orders/ARG: an order's folder */
	SPOOL_F_STATUS,       /* orders/ARG/status */
	SPOOL_F_HISTORY,      /* orders/ARG/history */
	SPOOL_F_ERROR,        /* orders/ARG/error */
	SPOOL_F_JOBS,         /* orders/ARG/jobs */
	SPOOL_F_INCOMING,     /* incoming/ARG, or incoming when ARG is NULL */
	SPOOL_F_CORRUPT,      /* corrupt/ARG, or corrupt */
	SPOOL_F_OUTBOX_NEW,   /* outbox/new/ARG, or outbox/new */
	SPOOL_F_OUTBOX_SENT,  /* outbox/sent/ARG, or outbox/sent */
	SPOOL_F_OUTBOX_FAILED, /* outbox/failed/ARG, or outbox/failed */
	SPOOL_F_REASON,       /* ARG.reason: why the file ARG of corrupt/ or outbox/failed/ is there */
	SPOOL_F_KICK,         /* run/kick */
	SPOOL_F_SPOOLD_LOCK,  /* run/spoold.lock */
	SPOOL_F_MAILER_LOCK,  /* run/mailer.lock */
	SPOOL_F_JOURNAL,      /* run/journal */
	SPOOL_F_RESERVE,      /* run/reserve */
	SPOOL_F_SPOOL_ID,     /* spool-id: the spool's UUID, at its top */
	SPOOL_F_STATS,        /* run/stats: spoold's counters, for metrics */
	SPOOL_F_LEADER,       /* run/leader: its lock makes the leader of a shared spool */
	SPOOL_F_NODE,         /* run/nodes/ARG: a node's own files, or run/nodes */
	SPOOL_F_NODE_LOCK,    /* run/nodes/ARG/lock: one spoold per node */
	SPOOL_F_HEARTBEAT,    /* run/nodes/ARG/heartbeat */
	SPOOL_F_CLAIM,        /* run/claims/ARG: who runs ARG's handler, or run/claims */
	SPOOL_F_INTENT,       /* run/intent: the submits and removals under way */
	SPOOL_F_WORK,         /* run/work: the orders whose actions spoold runs */
	SPOOL_F_SUBMIT_SOCK,  /* run/submit.sock: where spoold takes submissions */
};
#define SPOOL_PATH_MAX 512    /* enough for any name above with an id or a file name */

/*
 * The path of f relative to the spool's folder (its base name for SPOOL_F_ORDER_NAME
 * and SPOOL_F_REASON), into buf; returns buf, or "?" when it does not fit or f is
 * unknown.  Formats only: nothing is checked on disk.
 */
const char *spool_name(enum spool_file f, const char *arg, char *buf, size_t len);
/* spool_name into a buffer that lives until the end of the enclosing block: for a message */
#define SPOOL_NAME(f, arg) spool_name((f), (arg), (char[SPOOL_PATH_MAX]){ 0 }, SPOOL_PATH_MAX)
/* The part of spool_name(f, ...) after the folder: "status", "journal", "new". */
const char *spool_basename(enum spool_file f);
/* 1 and the id in id (SPOOL_ID_MAX + 1 bytes) if name is an order file's name. */
int spool_order_name_id(const char *name, char *id);

#endif
