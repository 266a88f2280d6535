/*
 * libspool: the on-disk format of a spool, and the only code that knows it.
 *
 * The contract is the one of spool-layout(5): the directory that holds an order file
 * is the order's state, order files are only ever moved with rename(2), and every
 * file appears whole.  Every function here returns 0 (or a count) on success and -1
 * with errno set on failure.  Where errno alone would not tell a person what went
 * wrong, the caller passes a struct spool_err and gets one line back that names the
 * order, the file or the line.  The library never prints and never exits.
 *
 * Ownership: a pointer returned through an out-parameter belongs to the caller and is
 * released with the matching *_free function; pointers inside struct spool_conf belong
 * to the conf.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define SPOOL_ID_MAX 64        /* order and item ids: 1..64 of [A-Za-z0-9._-] */
#define SPOOL_NAME_MAX 32      /* state and transition names */
#define SPOOL_STATES_MAX 64    /* a state set is a 64-bit mask */
#define SPOOL_ERR_MAX 512
#define SPOOL_FIELD_MAX 256    /* one value in an order file or history line */

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

/* ---- the workflow: spool.conf ------------------------------------------ */

enum spool_actor {
	SPOOL_ACTOR_ADMIN = 1 << 0,
	SPOOL_ACTOR_PRINTER = 1 << 1,
	SPOOL_ACTOR_SYSTEM = 1 << 2,
	SPOOL_ACTOR_STORE = 1 << 3,
};

enum spool_action_kind {
	SPOOL_ACT_NOTIFY,   /* notify TEMPLATE AUDIENCE */
	SPOOL_ACT_EXEC,     /* exec /PATH [ARG...] */
	SPOOL_ACT_STITCH,   /* stitch */
	SPOOL_ACT_PUBLISH,  /* publish */
	SPOOL_ACT_WITHDRAW, /* withdraw: tell the printer to stop */
	SPOOL_ACT_PURGE,    /* purge uploads|prints|all */
	SPOOL_ACT_COPY,     /* copy: reorder into a new order */
};

struct spool_action {
	enum spool_action_kind kind;
	int argc;
	char **argv;        /* the words after the action's name, NULL-terminated */
	int line;
};

#define SPOOL_TO_DELETE (-2)  /* a timer whose target is "delete" */

struct spool_reminder {
	long before;        /* seconds before the state's timer fires */
	char *template;     /* notify template name */
	int line;
};

struct spool_state {
	char name[SPOOL_NAME_MAX + 1];  /* also its directory: state/<name>/ */
	char *display;
	int code;           /* numeric status code, or -1 */
	int final;          /* the end of an order's road: nothing moves it on by itself */
	int locked;         /* only the system may move or remove its orders */
	struct spool_action *actions;
	int nactions;
	int on_success;     /* state index after the actions succeed, or -1 */
	int on_failure;     /* state index after they fail for good, or -1 */
	int retries;        /* automatic retries after a failure */
	long backoff;       /* seconds before the first retry; doubles each time */
	long timeout;       /* seconds an action may run */
	long timer_after;   /* seconds in this state before timer_to, or -1 */
	int timer_to;       /* state index, SPOOL_TO_DELETE, or -1 */
	struct spool_reminder *reminders;
	int nreminders;
	char *gate_file;    /* file in orders/<id>/ whose arrival moves to gate_to */
	int gate_to;
	int auto_to;        /* state to move on to at once, or -1 */
	char *auto_option;  /* ... only if the order has this option, or NULL */
	int line;
};

struct spool_transition {
	char name[SPOOL_NAME_MAX + 1];
	uint64_t from;      /* mask of state indexes */
	int to;
	unsigned actors;    /* mask of enum spool_actor */
	int line;
};

enum spool_entry_cond {
	SPOOL_IF_ALWAYS,
	SPOOL_IF_DELAYED,     /* payment not cleared yet */
	SPOOL_IF_INCOMPLETE,  /* an upload is not complete */
	SPOOL_IF_OPTION,      /* the order or an item has the named option */
};

struct spool_entry {
	int state;
	enum spool_entry_cond cond;
	char *option;
	int line;
};

enum spool_uploads { SPOOL_UPLOADS_NONE, SPOOL_UPLOADS_OPTIONAL, SPOOL_UPLOADS_REQUIRED };

struct spool_conf {
	char *path;
	char workflow[SPOOL_NAME_MAX + 1];
	int version;
	enum spool_uploads uploads;
	long tmp_grace;       /* age after which a tmp/ entry is stale */
	long rescan;          /* seconds between spoold's slow rescans */
	int workers;
	struct spool_state *states;
	int nstates;
	struct spool_transition *transitions;
	int ntransitions;
	struct spool_entry *entries;
	int nentries;
};

/* Parse and check a spool.conf.  On error, err names the file, line and key. */
int spool_conf_load(const char *path, struct spool_conf **conf, struct spool_err *err);
int spool_conf_parse(const char *name, const char *text, struct spool_conf **conf,
    struct spool_err *err);
void spool_conf_free(struct spool_conf *conf);
int spool_conf_state(const struct spool_conf *conf, const char *name);
int spool_conf_transition(const struct spool_conf *conf, const char *name);
/* The transition that lets actor move an order from state `from` to state `to`, or -1. */
int spool_conf_allows(const struct spool_conf *conf, int from, int to, unsigned actor);
const char *spool_actor_name(unsigned actor);
int spool_actor_parse(const char *s, unsigned *actor);

/* Shipped workflows and schemas, compiled in.  NULL if there is no such name. */
const char *spool_shipped(const char *path, size_t *len);

/* ---- the spool --------------------------------------------------------- */

struct spool;

enum {
	SPOOL_OPEN_LENIENT = 1 << 0, /* open even if folders are missing or modes are wrong */
};

/*
 * Create a spool at path from a workflow's text; name is what errors call the text.
 * path must be absent, or empty but for the folders of an init that died.
 */
int spool_init(const char *path, const char *name, const char *conf_text, size_t conf_len,
    struct spool_err *err);
int spool_open(const char *path, int flags, struct spool **sp, struct spool_err *err);
void spool_close(struct spool *sp);
const struct spool_conf *spool_conf(const struct spool *sp);
const char *spool_path(const struct spool *sp);
/* Check folders, file system and modes; one line per problem via the callback. */
int spool_validate(struct spool *sp, void (*report)(void *, const char *), void *arg);

/* The descriptor of a spool folder, kept open for the life of sp. */
enum spool_dir {
	SPOOL_DIR_ROOT, SPOOL_DIR_STATE, SPOOL_DIR_ORDERS, SPOOL_DIR_INCOMING, SPOOL_DIR_TMP,
	SPOOL_DIR_OUTBOX, SPOOL_DIR_HOT, SPOOL_DIR_CORRUPT, SPOOL_DIR_RUN, SPOOL_DIR_COUNT
};
int spool_dirfd(const struct spool *sp, enum spool_dir d);
int spool_statefd(const struct spool *sp, int state);

/* ---- publishing a file ------------------------------------------------- */

enum {
	SPOOL_PUB_NOREPLACE = 1 << 0, /* fail with EEXIST rather than replace a file */
	SPOOL_PUB_NOSYNCDIR = 1 << 1, /* the caller fsyncs the target directory later */
	SPOOL_PUB_NOSYNC = 1 << 2,    /* no fsync at all: the caller calls spool_sync */
};

/*
 * For moves, history and status written in a batch: nothing is fsynced, and the
 * caller makes the whole batch durable with one spool_sync() before anything that
 * depends on it leaves the spool (group commit).
 */
#define SPOOL_NOSYNC 1
/*
 * For spoold's own moves: the history line is written before the rename, under the
 * same lock, and cut back if the rename fails; a crash between the two leaves a line
 * that names a move not yet made, which spoold then makes.  With SPOOL_MOVE_NOLINE
 * the line is there already (such a move, made after a restart).
 */
#define SPOOL_MOVE_INTENT 2
#define SPOOL_MOVE_NOLINE 4

/* Make everything written to the spool's file system durable: syncfs(2). */
int spool_sync(struct spool *sp);

struct spool_pub {
	int flags;
	mode_t mode;                  /* 0 means 0660 (and the umask) */
	const struct timespec *mtime; /* set before the rename, or NULL */
};

/*
 * Publish a file whole: create a temporary file in tmpfd (or, when tmpfd is -1, a
 * dot-name in dirfd), write the data, fsync, close, rename it to dirfd/name, fsync
 * dirfd.  On failure nothing is left behind and dirfd/name is as it was.
 */
int spool_publish(int dirfd, const char *name, int tmpfd, const void *buf, size_t len,
    const struct spool_pub *opt);
/* The same, copying the data from an open file. */
int spool_publish_fd(int dirfd, const char *name, int tmpfd, int srcfd,
    const struct spool_pub *opt);
/* Make a directory and fsync its parent; EEXIST is not an error if it is a directory. */
int spool_mkdir(int dirfd, const char *name, mode_t mode);
int spool_fsync_dir(int dirfd);
/* Remove a tree below dirfd/name without following symlinks. */
int spool_rmtree(int dirfd, const char *name);

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
/* Remove orders/<id>/status (a missing one is fine); not synced. */
int spool_status_remove(struct spool *sp, const char *id);

/* ---- where orders are, and moving them --------------------------------- */

/*
 * Find the state of id by looking in every state folder: O(number of states).
 * Returns how many states hold it (0, 1, or more when the spool is damaged) and sets
 * *state to the first.
 */
int spool_locate(struct spool *sp, const char *id, int *state);

/*
 * Move id from state `from` (or, when from is -1, from wherever it is) to state `to`,
 * after checking that the workflow lets `actor` make the move.  The rename is the
 * commit; it never replaces a file.  Then one history line is appended; if that
 * fails, the move is undone and -1 is returned.
 * On a lost race errno is EAGAIN and err says "moved meanwhile to STATE".
 * A move the workflow refuses gives EPERM; a locked state gives EBUSY.
 */
struct spool_move {
	unsigned actor;
	const char *who;        /* history actor field, e.g. "admin:alice" */
	const char *comment;    /* may be NULL */
	int check;              /* 1: check the workflow for actor */
	int flags;              /* SPOOL_NOSYNC, SPOOL_MOVE_INTENT, SPOOL_MOVE_NOLINE */
	int from;               /* out: the state it left */
};
int spool_move(struct spool *sp, const char *id, int from, int to, struct spool_move *m,
    struct spool_err *err);

/* ---- history ----------------------------------------------------------- */

struct spool_event {
	time_t time;
	char id[SPOOL_ID_MAX + 1];
	char actor[SPOOL_FIELD_MAX + 1];
	char from[SPOOL_NAME_MAX + 1];   /* "-" when none */
	char to[SPOOL_NAME_MAX + 1];
	char comment[SPOOL_FIELD_MAX * 4 + 1];
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
/*
 * Escape src into dst as history does (\\, \t, \n, \r, \xHH): safe to print on a
 * terminal or in one line.  Cut short with "..." if dst is too small.
 */
char *spool_escape(char *dst, size_t len, const char *src);
/* "admin:NAME" for the person running this process. */
void spool_admin_actor(char *buf, size_t len);

/* ---- bundles and submission -------------------------------------------- */

struct spool_item {
	char id[SPOOL_ID_MAX + 1];
	char product[SPOOL_FIELD_MAX + 1];
	char title[SPOOL_FIELD_MAX + 1];
	int quantity;
	int pages;          /* pages listed in its upload.xml, or 0 */
	int complete;       /* its upload is complete (1 when there is no upload) */
	int has_upload;
};

/* A file of a bundle to copy into orders/<id>/: from memory, or from the bundle. */
struct spool_bfile {
	char path[SPOOL_ID_MAX * 2 + 16];  /* relative: "order.xml", "items/1/p-001.pdf" */
	char *data;                        /* the checked text, or NULL to copy the file */
	size_t len;
};

struct spool_bundle {
	struct spool_order order;
	int delayed;
	int incomplete;
	struct spool_item *items;
	int nitems;
	char **options;     /* option names set on the order or an item */
	int noptions;
	struct spool_bfile *files;
	int nfiles;
};

/*
 * Read and check a bundle (a directory; see spool-layout(5)) fully: XML well formed,
 * no DOCTYPE, valid against the schemas, ids, no symlinks, every file named and present.
 */
int spool_bundle_read(int dirfd, const char *path, const struct spool_conf *conf,
    struct spool_bundle **b, struct spool_err *err);
/* Same, on a directory that is already open. */
int spool_bundle_readfd(int bfd, const struct spool_conf *conf, struct spool_bundle **b,
    struct spool_err *err);
void spool_bundle_free(struct spool_bundle *b);
/* Parse an order.xml or upload.xml from memory (for tests and fuzzing). */
int spool_xml_check(const char *what, const char *buf, size_t len, struct spool_err *err);
/*
 * The items of a stored order, from orders/<id>/order.xml and its upload.xml files;
 * *items is malloc'd (free it).
 */
int spool_items_read(struct spool *sp, const char *id, struct spool_item **items, int *n,
    struct spool_err *err);
/* The state a new order enters, from the workflow's entry rules. */
int spool_entry_state(const struct spool_conf *conf, const struct spool_bundle *b);

/*
 * Submit a bundle (dirfd/bundle; AT_FDCWD for a path): check it, stage its files
 * under tmp/, and make the order appear in its entry state with one rename.  id
 * overrides the bundle's id when not NULL.
 * The id of the new order is copied into out_id (SPOOL_ID_MAX + 1 bytes).
 */
int spool_submit(struct spool *sp, int dirfd, const char *bundle, const char *id,
    const char *who, char *out_id, int *out_state, struct spool_err *err);

/* Remove an order and all its files; logged in the global log. */
int spool_remove(struct spool *sp, const char *id, unsigned actor, const char *who,
    const char *comment, struct spool_err *err);

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
/* Find (and with repair set, mend what is safe) damage; returns the problem count. */
int spool_check(struct spool *sp, int repair, void (*fn)(void *, const struct spool_problem *),
    void *arg);

#endif
