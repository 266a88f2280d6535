/*
 * libspool: the limits, errors and exit codes that every part shares; names and time.
 * Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_BASE_H
#define SPOOL_CORE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define SPOOL_ID_MAX 64        /* order and item ids: 1..64 of [A-Za-z0-9._-] */
#define SPOOL_NAME_MAX 32      /* state and transition names */
#define SPOOL_STATES_MAX 64    /* a state set is a 64-bit mask */
#define SPOOL_ERR_MAX 512
#define SPOOL_FIELD_MAX 256    /* one value in an order file or history line */
#define SPOOL_COMMENT_MAX 2048 /* a history line's comment: a printer's whole message
                                  (SPOOL_JOB_MSG_MAX) with what it is about */

struct spool;        /* an open spool (core/layout.h) */
struct spool_conf;   /* its spool.conf (core/conf.h) */

struct spool_err {
	char msg[SPOOL_ERR_MAX];
};

/* Exit codes shared by spoolctl and spoold (sysexits(3) values where one fits). */
enum {
	SPOOL_EX_OK = 0,
	SPOOL_EX_FAIL = 1,       /* an error, or check found problems */
	SPOOL_EX_USAGE = 64,     /* EX_USAGE */
	SPOOL_EX_DATAERR = 65,   /* EX_DATAERR: invalid bundle or config */
	SPOOL_EX_NOTFOUND = 66,  /* EX_NOINPUT: no such order */
	SPOOL_EX_TEMPFAIL = 75,  /* EX_TEMPFAIL: try again (lost race, disk full) */
	SPOOL_EX_REFUSED = 77,   /* EX_NOPERM: the workflow refuses this */
	SPOOL_EX_CONFIG = 78,    /* EX_CONFIG: bad spool.conf, or a damaged spool */
};

/* ---- names and time ---------------------------------------------------- */

/* 1 if s is an order or item id: 1..64 of [A-Za-z0-9._-], no leading dot. */
int spool_id_ok(const char *s);
/* 1 if s is a state or transition name: 1..32 of [a-z0-9-], starting with a letter. */
int spool_name_ok(const char *s);
/* Format t as ISO 8601 UTC ("2026-11-23T11:33:05Z") into buf (at least 21 bytes). */
char *spool_time_fmt(time_t t, char *buf, size_t len);
/* Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" or "@EPOCH". -1/EINVAL on bad input. */
int spool_time_parse(const char *s, time_t *t);
/* Parse a duration "90", "90s", "10m", "36h", "60d" into seconds. */
int spool_duration_parse(const char *s, long *secs);

#endif
