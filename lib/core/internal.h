/*
 * Internals of libspool shared between its files and its tests: the syscall table
 * through which every write-side system call goes (so tests can make any one of them
 * fail, as SQLite's os_unix.c does), the spool handle, and small helpers.
 */
#ifndef SPOOL_INTERNAL_H
#define SPOOL_INTERNAL_H

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "../spool.h"

struct spool_sys {
	int (*openat)(int, const char *, int, mode_t);
	/* openat that resolves no symlink anywhere on the path, and stays below dirfd */
	int (*openat_beneath)(int, const char *, int, mode_t);
	int (*close)(int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	int (*fsync)(int);
	int (*renameat2)(int, const char *, int, const char *, unsigned);
	int (*linkat)(int, const char *, int, const char *, int);
	int (*unlinkat)(int, const char *, int);
	int (*mkdirat)(int, const char *, mode_t);
	int (*ftruncate)(int, off_t);
	int (*flock)(int, int);
	int (*futimens)(int, const struct timespec *);
	int (*fchmod)(int, mode_t);
	int (*fchown)(int, uid_t, gid_t);
	int (*syncfs)(int);
	time_t (*time)(time_t *);   /* the clock of history lines, so tests are repeatable */
};

/* The table in use.  Tests replace entries; everything else calls through it. */
extern struct spool_sys spool_sys;
/* The real system calls, for tests that wrap them. */
extern const struct spool_sys spool_sys_real;

struct spool {
	int dir[SPOOL_DIR_COUNT];
	int *statefd;             /* one per state of conf, -1 if missing */
	struct spool_conf *conf;
	char path[4096];
	char uuid[SPOOL_UUID_LEN + 1];   /* the spool's id once read, or "" */
	int nodedir;              /* run/nodes/NAME/ once spool_node_open, else -1 */
	int claimsdir;            /* run/claims/, the same */
	int journalfd;            /* run/journal open for writing once a slot is put, else -1 */
	off_t journalsize;        /* its size when opened: slots past it have no room */
};

/* Data compiled in from spool-layout/ by mk/embed: shipped workflows and schemas. */
struct spool_blob {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct spool_blob spool_blobs[];

/* Name of the folder of each enum spool_dir, relative to the spool root. */
extern const char *const spool_dir_names[SPOOL_DIR_COUNT];

/* ---- sections of spool.conf that the domain layer reads (lib/core/conf.c) ---- */

/*
 * A section that a layer above the core reads, as OpenSMTPD's queue sits behind a small
 * table: the core reads the file, and hands [NAME] or [NAME ARG] (named) to the reader
 * that spool_conf_sections registered for it.  init sets the section's defaults before
 * the file is read, open takes each header, key each "key = value" under it, check
 * runs once the workflow is whole, and free releases what the reader keeps in conf.
 * open, key and check report through spool_conf_error; init returns -1 when out of memory.
 */
struct spool_conf_reader;   /* the file being read: its name, line, first error */
struct spool_conf_section {
	const char *name;
	int named;
	int (*init)(struct spool_conf *conf);
	void (*open)(struct spool_conf_reader *r, struct spool_conf *conf, const char *arg);
	void (*key)(struct spool_conf_reader *r, struct spool_conf *conf, const char *key,
	    const char *value);
	void (*check)(struct spool_conf_reader *r, struct spool_conf *conf);
	void (*free)(struct spool_conf *conf);
};
/* The readers of the sections the core does not know (lib/init.c); NULL-terminated. */
void spool_conf_sections(const struct spool_conf_section *const *table);
/* Report an error at line (0: the line being read) and key (may be NULL); the first
 * one counts.  Returns 0. */
int spool_conf_error(struct spool_conf_reader *r, int line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The line being read. */
int spool_conf_line(const struct spool_conf_reader *r);
/*
 * The index of key in keys (NULL-terminated), or -1 after an error when it is not one
 * of them or was given before (seen holds the keys given; where names the section).
 */
int spool_conf_key(struct spool_conf_reader *r, const char *const *keys, const char *key,
    unsigned *seen, const char *where);
/* A whole number from lo to hi. */
int spool_conf_number(const char *v, long lo, long hi, long *out);

#define SPOOL_CONF_WORDS 32
/* Split s (modified) into at most SPOOL_CONF_WORDS words, w[n] NULL; -1 if more. */
int spool_conf_words(char *s, char **w);
/* The index of v in words (NULL-terminated), or -1. */
int spool_conf_choice(const char *v, const char *const *words);
/* Replace *dst with a copy of v; -1 when out of memory. */
int spool_conf_setstr(char **dst, const char *v);
/* The readers of lib's domain layer. */
extern const struct spool_conf_section spool_mail_section;    /* lib/mail/mailconf.c */
extern const struct spool_conf_section spool_queue_section;   /* lib/print/queue.c */
extern const struct spool_conf_section spool_product_section; /* lib/print/queue.c */
extern const struct spool_conf_section spool_shop_section;    /* lib/print/shop.c */

#define ORDER_SUFFIX ".order"
#define SPOOL_ID_FILE "spool-id"         /* SPOOL_F_SPOOL_ID, at the spool's top */
#define DETACHED_NAME "detached.order"   /* an order file inside orders/<id>/ */
#define REPAIR_LOCK "repair.lock"

/* Format into a bounded buffer; -1 with ENAMETOOLONG if it does not fit. */
int fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* Set errno to errnum and err->msg (if err is not NULL); returns -1. */
int failerr(struct spool_err *err, int errnum, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
/* Set err->msg without disturbing errno; returns -1. */
#define seterr(err, ...) failerr(err, errno, __VA_ARGS__)
/* Write all of buf; -1 on error (a short write sets ENOSPC). */
int write_all_at(int fd, const void *buf, size_t len, off_t off);
/* ... at off (pwrite), or at the file's offset when off is -1. */
#define write_all(fd, buf, len) write_all_at(fd, buf, len, -1)
/*
 * Read a whole regular file below dirfd (no symlinks, also not on the way when name
 * is a path like "ID/status") of at most max bytes; malloc'd.
 */
int read_file(int dirfd, const char *name, size_t max, char **buf, size_t *len);
/*
 * Read an open file of size bytes to its end, NUL-terminated and malloc'd; -1 with
 * EFBIG when it is, or grows while read to, over max bytes.  fd stays open.
 */
int read_fd(int fd, size_t size, size_t max, char **buf, size_t *len);
/* A directory stream on at/name ("." for at itself), never through a symlink. */
DIR *dir_open(int at, const char *name);
/* The next entry of d that is not "." or "..", or NULL at the end. */
struct dirent *dir_next(DIR *d);
/* Close preserving errno. */
void close_keep(int fd);
/* Fill buf with a unique suffix for temporary names: "<pid>.<random hex>". */
void tmp_suffix(char *buf, size_t len);
/* rename that never replaces: renameat2(RENAME_NOREPLACE), or link+unlink for files. */
int rename_noreplace(int fromfd, const char *from, int tofd, const char *to);
/* 1 if name is "<id>.order" with a valid id; copies the id into id. */
int order_name(const char *name, char *id);
/* The length of the valid UTF-8 character at p (n bytes left) and its code point; 0 if invalid. */
size_t utf8_decode(const unsigned char *p, size_t n, unsigned *cp);
/* Valid UTF-8 with no control characters (C0, DEL, C1). */
int text_ok(const char *s);
/*
 * spool_escape's rule on n bytes of src, into dst (len bytes with the NUL), where the
 * escaped text must also unescape into at most room bytes (a history field's buffer):
 * what does not fit either way is cut between characters and marked "...".
 */
size_t text_escape(char *dst, size_t len, const char *src, size_t n, size_t room, int flags);
/*
 * Undo spool_escape in place (history lines, the status file's error); -1 on a bad
 * escape.  Takes \uHHHH, and \xHH for any byte, as older files wrote a byte that was
 * not UTF-8.  The result is never longer than s.
 */
int text_unescape(char *s);
/* Letter-digit-hyphen labels separated by single dots, 1..253 characters. */
int spool_domain_ok(const char *d);
typedef void (*dir_report)(void *arg, enum spool_problem_kind kind, const char *path,
    const char *detail);
/* Check every folder of the spool; calls fn for each problem, returns their number. */
int validate_dirs(struct spool *sp, dir_report fn, void *arg);
/* Create missing folders of the spool and reopen them. */
int repair_dirs(struct spool *sp, struct spool_err *err);
/* Open orders/<id>/ without following a symlink. */
int open_payload(struct spool *sp, const char *id);
/* A history file opened for appending and locked exclusively. */
struct hlock {
	int fd, dirfd, created, written;
	int ownfd;                /* a folder opened for the lock, closed with it, or -1 */
	size_t len;               /* the last line's length, to take it back */
	const char *name;
};
int history_lock(int dirfd, const char *name, struct hlock *h);
/* The same for orders/<id>/history, in one open when the file is there. */
int history_lock_order(struct spool *sp, const char *id, struct hlock *h);
/* Append one event; on failure the file is cut back to where it was. */
int history_put(struct hlock *h, const struct spool_event *ev, int flags);
/* Take back the last line written under this lock. */
int history_unput(struct hlock *h);
/* Unlock and close; a file we created and wrote nothing to is removed. */
void history_unlock(struct hlock *h);
/*
 * Make a folder dirfd/name with exactly mode and dirfd's group (spool_own); no fsync.
 * EEXIST is returned as it is, for the caller to judge.
 */
int mkdir_own(int dirfd, const char *name, mode_t mode);
/* Create an empty file dirfd/name (O_EXCL) with exactly mode and dirfd's group; no fsync. */
int create_own(int dirfd, const char *name, mode_t mode);
/* The name of a group ("spool"), or its number when it has none; into buf. */
const char *group_name(gid_t gid, char *buf, size_t len);
/* print.c, for hotjob.c: a job more in js; a filler's end; a queue's hot folder */
struct spool_pjobs;
struct spool_pjob;
struct spool_queue;
struct spool_pjob *pjob_add(struct spool_pjobs *js);
int pjobs_end(struct spool_pjobs *js, void *scratch, int rc);
int open_hot(struct spool *sp, const struct spool_queue *q, int info, int create,
    struct spool_err *err);
#define JOB_FILE_MODE 0640     /* what the printer reads but never writes */
/*
 * spool_invoice_render with the shop of sp's [shop] and its logo beneath the spool,
 * publishing the invoice with this mode (0640 in a hot folder).
 */
int invoice_render(struct spool *sp, const struct spool_bundle *b, int dirfd, const char *name,
    mode_t mode, struct spool_err *err);
#define KICK_NAME "kick"     /* run/kick: spoold rescans when it appears */
/* Take or drop the spool's repair lock (LOCK_SH or LOCK_EX); returns the fd. */
int repair_lock(struct spool *sp, int how);
/*
 * run/intent/ (intent.c): a submit or removal under way, recorded before it can leave
 * an order half done.  intent_put makes ID@SUFFIX (its name into name; sync: durable
 * before it returns), intent_drop takes it away, intent_walk calls fn with each id
 * recorded and drops it: the count, or -1.
 */
int intent_put(struct spool *sp, const char *id, int sync, char *name, size_t len);
void intent_drop(struct spool *sp, const char *name);
int intent_walk(struct spool *sp, void (*fn)(void *, const char *), void *arg);
#define INTENT_NAME_MAX (SPOOL_ID_MAX + 64)
void repair_unlock(int fd);

#endif
