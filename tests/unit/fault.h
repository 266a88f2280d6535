/*
 * Helpers for the unit tests: a syscall table that fails the Nth call with a chosen
 * errno, a fixed clock, temporary spools made from the shipped workflows and example
 * bundles, and snapshots of a spool's tree to compare "as it was" with "as intended".
 */
#ifndef TEST_FAULT_H
#define TEST_FAULT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/internal.h"

struct fault {
	long at;              /* fail the call with this number (1-based); 0: never */
	long calls;           /* table calls so far */
	int err;              /* the errno to fail with */
	int hit;              /* the fault was injected */
	const char *hit_name; /* in which call */
	int short_write;      /* a failing write writes half first */
	const char *only;     /* count only calls of this name (NULL: all) */
};

extern struct fault fault;

/* Route the syscall table through the injector, with the clock fixed at t. */
void fault_install(time_t t);   /* and spool_domain_init */
void fault_arm(long at, int err);
void fault_disarm(void);

/* A fresh directory under $TMPDIR (or /tmp); malloc'd path. */
char *tmpdir_make(void);
void tree_rm(const char *path);
/* Run a shell command; returns its exit status. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A new spool at dir/spool from a shipped workflow, opened. */
struct spool *spool_make(const char *dir, const char *workflow);
/* Close sp and remove its folder dir (and free the path). */
void spool_unmake(struct spool *sp, char *dir);
/* Copy example bundle spool-layout/examples/<wf>/<id> to dir/<name>; returns its path. */
char *bundle_copy(const char *dir, const char *wf, const char *id, const char *name);
/* Submit example bundle <wf>/<id> (copied to dir/<name>) into sp, as actor who. */
void submit_example(struct spool *sp, const char *dir, const char *wf, const char *id,
    const char *name, const char *who);
/* Write a file (creating parent folders); text may be NULL for an empty file. */
void file_write(const char *path, const char *text);
/* A sorted listing of the tree below root (not tmp/ or run/), with content hashes. */
char *snapshot(const char *root);
/* The CIP4 JDF schema (test data outside the project, ../shared, or $JDF_XSD), or NULL. */
const char *jdf_xsd(void);
/* Number of entries directly in path. */
int dir_count(const char *path);

#endif
