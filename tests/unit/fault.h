/*
 * Helpers for the unit tests: a syscall table that fails the Nth call with a chosen
 * errno, a fixed clock, temporary spools made from the shipped workflows and example
 * bundles, the fixtures most tests share, and snapshots of a spool's tree to compare
 * "as it was" with "as intended".
 */
#ifndef TEST_FAULT_H
#define TEST_FAULT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/internal.h"

/* A text a test gives and what the answer must say: the rows of most case tables. */
struct text_case {
	const char *text, *want;
};

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
/* The next read through the table first appends n bytes to path: a file that grows
 * while it is read. */
void grow_on_read(const char *path, size_t n);

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
/* A file's bytes (path relative to dfd), NUL-terminated and malloc'd, its length in
 * *len unless len is NULL; NULL if it cannot be read. */
char *file_read(int dfd, const char *path, size_t *len);
/* A sorted listing of the tree below root (not tmp/ or run/), with content hashes. */
char *snapshot(const char *root);
/* The CIP4 JDF schema (test data outside the project, ../shared, or $JDF_XSD), or NULL. */
const char *jdf_xsd(void);
/* A workflow conf (named name in errors) that must parse; the test fails if not. */
struct spool_conf *conf_parsed(const char *name, const char *text);
/* A workflow conf that spool_conf_parse must refuse (EINVAL) with an error that says want. */
void conf_refused(const char *text, const char *want);
/* The lstat of the path that fmt makes; the test fails if there is none. */
struct stat lstat_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Number of entries directly in path. */
int dir_count(const char *path);

/*
 * The fixture most tests share: a new folder dir, with a spool sp in it or the folder
 * open as dfd.  Only the files that define TEST_FIXTURE before including this see
 * these names; the others keep their own dir and sp.
 */
#ifdef TEST_FIXTURE
extern char *dir;
extern struct spool *sp;
extern int dfd;
#endif
/* The clock fixed at t, a new folder dir and in it a spool sp from workflow. */
void fixture_spool(time_t t, const char *workflow);
/* Example order 1001 of the print workflow submitted into sp, as the tests expect it. */
void fixture_order(void);
/* cmocka setup: fixture_spool(1763900000, "print") and fixture_order(). */
int setup_order(void **state);
/* cmocka teardown of a fixture_spool: sp closed, dir removed. */
int teardown_spool(void **state);
/* The clock fixed at t, a new folder dir, open as dfd. */
void fixture_dir(time_t t);
/* cmocka setup: fixture_dir(1763900000). */
int setup_dir(void **state);
/* cmocka teardown of a fixture_dir: dfd closed, dir removed. */
int teardown_dir(void **state);

#endif
