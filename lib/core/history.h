/*
 * libspool: history files: one line per event.  Included by spool.h; see there for the
 * error contract.
 */
#ifndef SPOOL_CORE_HISTORY_H
#define SPOOL_CORE_HISTORY_H

#include "base.h"

/* ---- history ----------------------------------------------------------- */

struct spool_event {
	time_t time;
	char id[SPOOL_ID_MAX + 1];
	char actor[SPOOL_FIELD_MAX + 1];
	char from[SPOOL_NAME_MAX + 1];   /* "-" when none */
	char to[SPOOL_NAME_MAX + 1];
	char comment[SPOOL_COMMENT_MAX + 1];
};

/*
 * Append one event to dirfd/name as one line, written with one write(2) under an
 * exclusive flock and fsynced; a failed write is cut back so no half line remains.
 */
int spool_history_append(int dirfd, const char *name, const struct spool_event *ev,
    int flags);
/* Append to orders/<id>/history; flags 0 or SPOOL_NOSYNC. */
int spool_history_add(struct spool *sp, const struct spool_event *ev, int flags);
/* The last whole event of orders/<id>/history; -1/ENOENT if it has none. */
int spool_history_last(struct spool *sp, const char *id, struct spool_event *ev);
/* Append to the spool's global log, SPOOL/history. */
int spool_log_add(struct spool *sp, const struct spool_event *ev);
/* Format one event as a history line with its newline; returns its length. */
int spool_event_format(const struct spool_event *ev, char *buf, size_t len);
/* Parse one history line (without its newline). */
int spool_event_parse(const char *line, struct spool_event *ev);
/* Read a history file; calls fn for each event, stops if it returns non-zero. */
int spool_history_read(struct spool *sp, const char *id,
    int (*fn)(void *, const struct spool_event *), void *arg, struct spool_err *err);

#endif
