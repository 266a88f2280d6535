/*
 * libspool: run/: the journal and the reserve spoold keeps for a full or failing disk.
 * Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_JOURNAL_H
#define SPOOL_CORE_JOURNAL_H

#include "base.h"

/* ---- run/: what spoold sets aside for a full or failing disk ----------- */

/*
 * run/journal holds, in slots written full of zeros beforehand (so writing one needs no
 * room), what spoold knows only in memory while the disk refuses its writes: a
 * handler's outcome and the history lines of a look cut short.  run/reserve is room
 * spoold gives back to the file system when a write fails for want of it.  lib/core/journal.c.
 */
#define SPOOL_JOURNAL_SLOTS 512
#define SPOOL_JOURNAL_SLOT 8192
#define SPOOL_JREC_OUT_MAX 4096     /* a handler's stderr kept with its outcome */
#define SPOOL_JREC_LINES_MAX 3584   /* history lines a cut-short look had written */

struct spool_jrec {
	char id[SPOOL_ID_MAX + 1];
	char state[SPOOL_NAME_MAX + 1];  /* the state the handler ran for */
	int visit, step;                 /* the visit and the action it ran for */
	int run;            /* its number (spool_status.runs); 0: no outcome, only lines */
	int status;         /* its wait(2) status */
	int killed;         /* spoold's reason for killing it, or 0 */
	size_t outlen;
	char out[SPOOL_JREC_OUT_MAX + 1];     /* what it wrote to stderr (the first 4 KiB) */
	size_t lineslen;
	char lines[SPOOL_JREC_LINES_MAX + 1]; /* history lines as in the file */
};

/* Make run/journal whole (SPOOL_JOURNAL_SLOTS slots of zeros, synced). */
int spool_journal_make(struct spool *sp);
/* Write slot (0..SPOOL_JOURNAL_SLOTS-1); -1/ENOSPC if the journal was never made whole. */
int spool_journal_put(struct spool *sp, int slot, const struct spool_jrec *r);
int spool_journal_clear(struct spool *sp, int slot);
/*
 * Slot writes keep run/journal open (on a network file system an open costs a round
 * trip); this closes it, as a daemon must between turns: mount(8) refuses to remount
 * read-only while a file is open for writing.
 */
void spool_journal_close(struct spool *sp);
/* Call fn for every whole record; stops if it returns non-zero.  Returns the count. */
int spool_journal_read(struct spool *sp, int (*fn)(void *, int, const struct spool_jrec *),
    void *arg);
/* Grow run/reserve to size bytes of zeros (synced); *got (may be NULL) gets its size. */
int spool_reserve_fill(struct spool *sp, long long size, long long *got);
/* Give back up to amount bytes of run/reserve; returns the bytes freed, or -1. */
long long spool_reserve_release(struct spool *sp, long long amount);
/* The same for a process that has only the spool's run/ folder open (the mailer). */
long long spool_reserve_give(int rundirfd, long long amount);

struct spool_space {
	long long bytes, bytes_free;     /* free: what an unprivileged writer may use */
	long long inodes, inodes_free;   /* inodes is 0 where the file system counts none */
};
int spool_space(struct spool *sp, struct spool_space *s);
/* 1 if new orders may come in by [spool] min_free; else 0 and why (may be NULL) says
 * what is left and what is kept. */
int spool_space_ok(const struct spool_conf *c, const struct spool_space *s, char *why,
    size_t len);

#endif
