/*
 * libspool: order files and status files.  Included by spool.h; see there for the
 * error contract.
 */
#ifndef SPOOL_CORE_ORDER_H
#define SPOOL_CORE_ORDER_H

#include "base.h"

/* ---- order files ------------------------------------------------------- */

#define SPOOL_ORDER_VERSION 1

enum spool_payment { SPOOL_PAID, SPOOL_DELAYED };

struct spool_order {
	char id[SPOOL_ID_MAX + 1];
	char workflow[SPOOL_NAME_MAX + 1];
	time_t placed;
	time_t submitted;
	char customer[SPOOL_FIELD_MAX + 1];
	char email[SPOOL_FIELD_MAX + 1];
	enum spool_payment payment;
	int items;
	char options[SPOOL_FIELD_MAX + 1];  /* option names of the order and its items */
};

/* 1 if the order has the named option (set on it or on one of its items). */
int spool_order_has_option(const struct spool_order *o, const char *name);

/* Render o as an order file into buf; returns its length, or -1/ENAMETOOLONG. */
int spool_order_format(const struct spool_order *o, char *buf, size_t len);
/* Parse an order file strictly; err gets "line N: ..." on a bad line. */
int spool_order_parse(const char *buf, size_t len, struct spool_order *o,
    struct spool_err *err);
/* Read the order file of id from the state it is in. */
int spool_order_read(struct spool *sp, const char *id, int state, struct spool_order *o,
    struct spool_err *err);

/*
 * The mutable data spoold keeps beside an order in orders/<id>/status.  The first
 * group is about the order's current visit to a state; attempts and error are
 * about its whole life.
 */
struct spool_status {
	char state[SPOOL_NAME_MAX + 1];  /* the state of this visit */
	time_t since;                    /* when the visit began, or 0 */
	int step;                        /* entry actions of this visit that are done */
	int tries;                       /* tries of the current action in this visit */
	time_t due;                      /* when the next try may start, or 0 */
	int deferred;                    /* "try later" answers (exit 75) in this visit */
	int reminded;                    /* reminders of this visit that are done (bits) */
	int attempts;                    /* handler runs over the order's life */
	int visits;                      /* visits begun over its life: this one's number */
	int runs;                        /* handlers started over its life, never taken back */
	int running;                     /* the run (its number in runs) whose outcome is not
	                                    kept yet, or 0: a handler runs, or spoold died
	                                    before it could keep what the handler said */
	char error[SPOOL_FIELD_MAX + 1]; /* the last error, one line, or "" */
};
int spool_status_format(const struct spool_status *s, char *buf, size_t len);
int spool_status_parse(const char *buf, size_t len, struct spool_status *s,
    struct spool_err *err);
/* Read orders/<id>/status; a missing file gives a zeroed status and returns 0. */
int spool_status_read(struct spool *sp, const char *id, struct spool_status *s,
    struct spool_err *err);
/* Publish orders/<id>/status; flags 0 or SPOOL_NOSYNC. */
int spool_status_write(struct spool *sp, const char *id, const struct spool_status *s,
    int flags);
/*
 * orders/<id>/error: what the last failing handler wrote to stderr (its first 4 KiB),
 * published whole; len 0 removes it.  flags 0 or SPOOL_NOSYNC.
 */
int spool_error_write(struct spool *sp, const char *id, const char *out, size_t len, int flags);
/* Remove orders/<id>/status (a missing one is fine); not synced. */
int spool_status_remove(struct spool *sp, const char *id);

#endif
