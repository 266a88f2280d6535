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

enum spool_starttls { SPOOL_STARTTLS_NO, SPOOL_STARTTLS_YES, SPOOL_STARTTLS_REQUIRED };

/*
 * The [mail] section: the relay that spoold's mailer sends outbox/new/ through, and
 * the addresses and texts of notifications.  Paths are relative to the spool, or
 * absolute.  Every string is NULL when not set.  See the mail section below.
 */
struct spool_mail_conf {
	char *relay;          /* host name or IPv4 address; NULL: mail is off */
	int port;             /* 25 */
	enum spool_starttls starttls;
	char *user;           /* AUTH user; set together with password_file */
	char *password_file;  /* a file whose first line is the password */
	char *from;           /* envelope sender and From: */
	char *reply_to;
	char *admin;          /* audience "admin" */
	char *superuser;      /* audience "superuser" */
	char *details_url;    /* URL template with {order_id} (and {item_id}) */
	char *domain;         /* right side of Message-IDs; NULL: the domain of from */
	long retry;           /* seconds before the first retry (60); doubles to 1h */
	long lifetime;        /* seconds before an undelivered mail fails (5d) */
	char *templates;      /* a folder of TEMPLATE.txt overriding the shipped ones */
	int line;             /* the line of [mail], 0 when there is none */
};

enum spool_job_format { SPOOL_FORMAT_JOB, SPOOL_FORMAT_JDF };

/*
 * A [queue NAME] section: a print queue (document 002's oc_3p_queue), which is a hot
 * folder that a printer or a RIP reads.  See the print jobs section below.
 */
struct spool_queue {
	char name[SPOOL_NAME_MAX + 1];
	char *path;           /* the hot folder: relative to the spool, or absolute */
	char **chunks;        /* the chunk kinds routed here; "*": every kind no other
	                         queue names */
	int nchunks;
	enum spool_job_format format;
	int window;           /* minute of the day (local time) its batch is delivered, or -1 */
	int window_len;       /* minutes the window stays open */
	char *info;           /* InfoBaseFolder: job.xml, invoice.pdf and upload.xml go
	                         there, not beside the PDFs; NULL: beside them */
	int line;
};

struct spool_conf {
	char *path;
	char workflow[SPOOL_NAME_MAX + 1];
	int version;
	enum spool_uploads uploads;
	long tmp_grace;       /* age after which a tmp/ entry is stale */
	long rescan;          /* seconds between spoold's slow rescans */
	int workers;
	long long min_free;   /* bytes that must stay free for new orders to come in */
	int min_free_inodes;  /* ... and the share of inodes, in percent */
	long long reserve;    /* bytes spoold sets aside in run/reserve for a full disk */
	struct spool_state *states;
	int nstates;
	struct spool_transition *transitions;
	int ntransitions;
	struct spool_entry *entries;
	int nentries;
	struct spool_mail_conf mail;
	struct spool_queue *queues;
	int nqueues;
};

#define SPOOL_MIN_FREE (100LL << 20)   /* [spool] min_free: 100M 5% */
#define SPOOL_MIN_FREE_INODES 5
#define SPOOL_RESERVE (8LL << 20)      /* [spool] reserve: 8M */

/* Parse and check a spool.conf.  On error, err names the file, line and key. */
int spool_conf_load(const char *path, struct spool_conf **conf, struct spool_err *err);
int spool_conf_parse(const char *name, const char *text, struct spool_conf **conf,
    struct spool_err *err);
void spool_conf_free(struct spool_conf *conf);
int spool_conf_state(const struct spool_conf *conf, const char *name);
int spool_conf_transition(const struct spool_conf *conf, const char *name);
/* The transition that lets actor move an order from state `from` to state `to`, or -1. */
int spool_conf_allows(const struct spool_conf *conf, int from, int to, unsigned actor);
/* The state whose code is `code`, or -1. */
int spool_conf_code(const struct spool_conf *conf, int code);
/* The queue a chunk kind is routed to, or -1. */
int spool_conf_route(const struct spool_conf *conf, const char *kind);
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
/*
 * The same, giving the spool's folder and every folder in it the group `group`
 * ((gid_t)-1: the caller's effective group) and mode SPOOL_DIR_MODE.  Giving a group
 * the caller is not in fails with EPERM.
 */
int spool_init_group(const char *path, const char *name, const char *conf_text,
    size_t conf_len, gid_t group, struct spool_err *err);
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

/*
 * Modes come from the spool, never from the caller's umask: admins, spoold and the
 * printers are each their own user and share the spool through its group.  Every
 * folder spool makes is setgid and group-writable, every file group read-write, and
 * each gets the group of the folder it is in.  See spool-layout(5), MODES AND GROUPS.
 */
#define SPOOL_DIR_MODE 02770
#define SPOOL_FILE_MODE 0660

/*
 * Give fd, a file or folder just made in dirfd, exactly this mode (fchmod: whatever
 * the umask took away) and dirfd's group (fchown, where dirfd is not setgid, as a hot
 * folder on a share may not be).  For a program that creates a file itself with
 * O_CREAT; everything libspool makes goes through it.
 */
int spool_own(int fd, int dirfd, mode_t mode);

struct spool_pub {
	int flags;
	mode_t mode;                  /* 0 means SPOOL_FILE_MODE; set exactly, umask or not */
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
/*
 * Make a directory with exactly mode (SPOOL_DIR_MODE, as a rule) and dirfd's group,
 * and fsync its parent; EEXIST is not an error if it is a directory (left as it is).
 */
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
/* ---- text from outside --------------------------------------------------- */

/*
 * The one rule for text from outside (a printer's message, a handler's stderr, a
 * customer's name, a comment) wherever spool writes or shows it, in a history line, a
 * status file, a log line or spoolctl's output.  The result is valid UTF-8 with no
 * raw control character and no raw bidirectional control, safe in one line and on a
 * terminal:
 *
 *	\\ \t \n \r   a backslash, a tab, a line feed, a carriage return
 *	\xHH          another C0 control character, or DEL (0x7f)
 *	\uHHHH        a C1 control (U+0080..U+009F), or a format character that reorders
 *	              text or breaks a line: U+061C, U+200E, U+200F, U+2028, U+2029,
 *	              U+202A..U+202E, U+2066..U+2069
 *	U+FFFD        for each byte that is not part of valid UTF-8
 *
 * with lower-case hex digits.  Everything else is copied.  What does not fit in dst
 * (len bytes with the NUL) is cut between two characters, never inside one or inside
 * an escape, and ends in "...".  A src of at most SPOOL_FIELD_MAX bytes never
 * unescapes to more than SPOOL_FIELD_MAX (it is cut the same way if its U+FFFDs
 * would make it longer), so a field written escaped reads back into its buffer.
 */
char *spool_escape(char *dst, size_t len, const char *src);
#define SPOOL_TEXT_CUT 0x1     /* src was cut already (by vsnprintf, say): mark its end */
/*
 * The same on n bytes of src, which may hold NUL bytes (written \x00); with
 * SPOOL_TEXT_CUT an incomplete character at its end is dropped and the end marked
 * "...".  Returns the length written.
 */
size_t spool_escape_mem(char *dst, size_t len, const char *src, size_t n, int flags);
/* 1 if spool_escape never shows code point cp raw (the \x and \u classes above). */
int spool_char_unsafe(unsigned cp);
/* The length of the valid UTF-8 character at p (n bytes left), and its code point; 0 if none. */
size_t spool_utf8_char(const char *p, size_t n, unsigned *cp);
/*
 * Copy n bytes of src into dst as valid UTF-8, not escaped: each byte that is not
 * part of valid UTF-8 becomes U+FFFD, and what does not fit (or all of it, with
 * SPOOL_TEXT_CUT) is cut between two characters and ends in "...".  So text kept
 * raw in memory (a handler's last line, a comment) is whole characters, and escapes
 * and unescapes to the same bytes.  Returns the length written.
 */
size_t spool_text_copy(char *dst, size_t len, const char *src, size_t n, int flags);
/* printf into dst through spool_text_copy: a cut is marked, never inside a character. */
int spool_text_fmt(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spool_text_vfmt(char *dst, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* "admin:NAME" for the person running this process. */
void spool_admin_actor(char *buf, size_t len);

/* ---- bundles and submission -------------------------------------------- */

struct spool_item {
	char id[SPOOL_ID_MAX + 1];
	char product[SPOOL_FIELD_MAX + 1];
	char product_name[SPOOL_FIELD_MAX + 1];  /* from upload.xml, or "" */
	char title[SPOOL_FIELD_MAX + 1];
	int quantity;
	char price[24];     /* as order.xml gives it ("39.90"), or "" */
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

#define SPOOL_LINES_MAX 8   /* lines of an address */

struct spool_bundle {
	struct spool_order order;
	char phone[SPOOL_FIELD_MAX + 1];
	char billing[SPOOL_LINES_MAX][SPOOL_FIELD_MAX + 1];
	int nbilling;
	char shipping[SPOOL_LINES_MAX][SPOOL_FIELD_MAX + 1];
	int nshipping;
	char invoice[SPOOL_ID_MAX + 1];  /* the order's file of role invoice, or "" */
	char total[24];                  /* <total>, or "" */
	char currency[4];                /* its currency ("EUR"), or "" */
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
/*
 * A stored order as its bundle said: order.xml and the items' upload.xml files (no
 * files list).  Free it with spool_bundle_free.
 */
int spool_order_load(struct spool *sp, const char *id, struct spool_bundle **b,
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

/*
 * Reorder: copy an order into a new one, "<id>-r<nth>" (or, when nth is 0, the first
 * free "<id>-rN"; the id is copied into newid, SPOOL_ID_MAX + 1 bytes), submitted
 * through the entry rules with its payment delayed, placed now and without the
 * invoice.  The uploads are hard links (they are never written again, so sharing
 * them is safe); chunks are not copied, the copy stitches its own.  An order of that
 * id that exists already gives EEXIST: a copy made before a crash.
 */
int spool_order_copy(struct spool *sp, const char *id, const char *who, int nth, char *newid,
    int *out_state, struct spool_err *err);

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

/* ---- run/: what spoold sets aside for a full or failing disk ----------- */

/*
 * run/journal holds, in slots written full of zeros beforehand (so writing one needs no
 * room), what spoold knows only in memory while the disk refuses its writes: a
 * handler's outcome and the history lines of a look cut short.  run/reserve is room
 * spoold gives back to the file system when a write fails for want of it.  lib/journal.c.
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

/* ---- mail -------------------------------------------------------------- */

/*
 * Notifications are spooled like orders: a whole RFC 5322 message is published into
 * outbox/new/, and spoold's mailer sends it later (spoold/mailer.c).  Everything from
 * outside (a customer's name, a printer's message) passes through these functions,
 * and none of it can add a header line: values are cleaned, header fields are
 * encoded and folded, and the body is quoted-printable, so a message is 7-bit ASCII
 * with lines of at most 78 characters whatever went in (an address itself is never
 * folded: one near the 254-character limit makes its line longer, never over 998).
 */
#define SPOOL_ADDR_MAX 254            /* an address (RFC 5321's path limit) */
#define SPOOL_MAIL_MAX (1024 * 1024)  /* a rendered template, a composed message */
#define SPOOL_OUTBOX_NAME_MAX 160     /* "<id>.<unix time>.<unique>.eml" and its NUL */

/*
 * 1 if s is a plain addr-spec local@domain: printable ASCII with no blank, control
 * character, double quote, <>, ",", ";", ":", "()", "[]" or backslash; a dot-atom
 * local part of 1..64 not starting with '-'; a domain of letter-digit-hyphen labels;
 * at most SPOOL_ADDR_MAX in all.
 */
int spool_mail_addr_ok(const char *s);

/* A placeholder's value: name without braces ("order_id"); NULL value means empty. */
struct spool_mail_var {
	const char *name;
	const char *value;
};

/*
 * Render a template: its first line is "Subject: ...", then an empty line, then the
 * body.  Placeholders are {order_id} {item_id} {status} {code} {message}
 * {details_url} {customer}; {{ and }} are literal braces.  Any other brace is an
 * error "FILE:LINE: ..." (file names the template in errors).  A placeholder with no
 * value in vars renders empty.  Values are hostile: invalid UTF-8 becomes U+FFFD; in
 * the subject every control character becomes a space; in the body <br>, <br/> and
 * <br /> (in any case) become a line end and control characters other than tab and
 * line end are dropped.  *subject (one line) and *body (LF line ends) are malloc'd.
 */
int spool_mail_render(const char *file, const char *text, size_t len,
    const struct spool_mail_var *vars, size_t nvars, char **subject, char **body,
    struct spool_err *err);
/* Check a template's form and placeholders, as spool_mail_render does. */
int spool_mail_template_check(const char *file, const char *text, size_t len,
    struct spool_err *err);
/*
 * Read template NAME (the file NAME.txt) from [mail] templates when that is set, else
 * from the spool's templates/ folder when it has the file, else the shipped one.
 * rootfd is the spool's folder.  *text is malloc'd and NUL-terminated; where (may be
 * NULL) gets the name to use in messages about it.
 */
int spool_mail_template_read(const struct spool_conf *conf, int rootfd, const char *name,
    char **text, size_t *len, char *where, size_t wherelen, struct spool_err *err);
/* Read and check every template the workflow names (notify actions and reminders). */
int spool_mail_templates_check(const struct spool_conf *conf, int rootfd,
    struct spool_err *err);
/*
 * Fill {order_id} and {item_id} (NULL: empty) of a details_url into buf; returns
 * the length, or -1 with EINVAL (not ids) or ENAMETOOLONG.
 */
int spool_mail_url(const char *tmpl, const char *order_id, const char *item_id, char *buf,
    size_t len);

/* A notification to compose.  Addresses must pass spool_mail_addr_ok. */
struct spool_mail {
	const char *from;
	const char *to;
	const char *to_name;   /* the recipient's display name (hostile), or NULL */
	const char *reply_to;  /* or NULL */
	const char *subject;   /* UTF-8; cleaned again here */
	const char *body;      /* UTF-8 with LF or CRLF line ends; cleaned again here */
	time_t date;
	const char *domain;    /* the right side of the Message-ID; NULL: from's domain */
};

/*
 * Compose one whole message with CRLF line ends: Date, From, To, Reply-To, Subject
 * (RFC 2047 encoded-words when it is not short plain ASCII), a unique Message-ID,
 * MIME-Version, Content-Type text/plain UTF-8, quoted-printable body.  *msg is
 * malloc'd (free it) and NUL-terminated; *len is its length.
 */
int spool_mail_compose(const struct spool_mail *m, char **msg, size_t *len,
    struct spool_err *err);
/* The address in the one To header of a message; -1/EINVAL if there is none or more. */
int spool_mail_recipient(const char *msg, size_t len, char *addr, size_t addrlen);

/*
 * Publish a composed message into outbox/new/ as "<order_id>.<unix time>.<unique>.eml"
 * with spool_publish (durable when it returns); its mtime, the time it is due, is its
 * creation time.  The name is copied into name (SPOOL_OUTBOX_NAME_MAX bytes).
 */
int spool_outbox_put(struct spool *sp, const char *order_id, const char *msg, size_t len,
    char *name, size_t namelen, struct spool_err *err);
/*
 * The same under a name made of the event, "<order_id>.<when>.<key>.eml" (key: 1..
 * of [A-Za-z0-9-]), so that telling of the same event twice (a notify run again
 * after a crash) queues one message: 0 queued, 1 a message of that name is in
 * new/, sent/ or failed/ already, -1 error.  It is due at once.
 */
int spool_outbox_put_once(struct spool *sp, const char *order_id, time_t when, const char *key,
    const char *msg, size_t len, char *name, size_t namelen, struct spool_err *err);
/*
 * 1 if name is an outbox message name; copies out its order id (SPOOL_ID_MAX + 1
 * bytes) and creation time (either may be NULL).
 */
int spool_outbox_name_parse(const char *name, char *order_id, time_t *created);

/* ---- stitching ------------------------------------------------------------ */

/*
 * The page PDFs of an item's upload are stitched with libqpdf into one chunk PDF
 * for each <chunk> of the product in its upload.xml:
 * orders/<id>/items/<item>/chunks/<kind>.pdf, published whole through tmp/.  The
 * same pages give the same bytes.  A page file that is missing, a symlink, or that
 * qpdf reads with any error or warning fails the stitch with qpdf's own message;
 * so does a page whose content streams do not decode.  See lib/stitch.c.
 */
#define SPOOL_CHUNKS_DIR "chunks"
#define SPOOL_STITCH_PAGES_MAX 10000                /* pages in one chunk */
#define SPOOL_STITCH_BYTES_MAX (2LL * 1024 * 1024 * 1024) /* page files of one chunk */

enum {
	SPOOL_STITCH_ONEPAGE = 1 << 0,  /* every file must hold exactly one page */
};

struct spool_stitch {
	int flags;          /* SPOOL_STITCH_* */
	int max_pages;      /* 0: SPOOL_STITCH_PAGES_MAX */
	long long max_bytes;/* of all input files; 0: SPOOL_STITCH_BYTES_MAX */
	int pages;          /* out: pages written */
	size_t bytes;       /* out: size of the PDF written */
};

/* One chunk of an item's product, from upload.xml. */
struct spool_chunk {
	char kind[SPOOL_NAME_MAX + 1];  /* also its file name: <kind>.pdf */
	int first, last;                /* page numbers of the upload */
};

/*
 * Stitch the files names[0..n-1], opened beneath dirfd through no symlink, in that
 * order into one PDF and publish it as outdirfd/outname (a temporary file in tmpfd,
 * or a dot-name in outdirfd when tmpfd is -1).  st (may be NULL) sets limits and
 * gets the result.  On error err names the file: "page-003.pdf: <qpdf's message>",
 * and outdirfd/outname is as it was.
 */
int spool_stitch_files(int dirfd, const char *const *names, int n, int outdirfd,
    const char *outname, int tmpfd, struct spool_stitch *st, struct spool_err *err);
/*
 * Stitch every chunk of orders/<id>/items/<item>/ from its upload.xml (which must
 * say complete) into items/<item>/chunks/<kind>.pdf; each page file must be one
 * page.  On error err says "item ITEM: ...", and the item has no chunk files left
 * (a chunk stitched earlier in the call, or by an earlier call, is removed).
 */
int spool_stitch_item(struct spool *sp, const char *id, const char *item,
    struct spool_err *err);
/*
 * An invoice for an order that came without one: one A4 page of text (the order, the
 * customer, billing address, items with quantity and price, the total) in the
 * standard Helvetica font, made with libqpdf and published as dirfd/name.  Text
 * outside Latin-1 shows as "?".  The same order gives the same bytes.
 */
int spool_invoice_render(const struct spool_bundle *b, int dirfd, const char *name,
    struct spool_err *err);
/* The chunks of an item's product from its upload.xml, checked as spool_stitch_item does
 * (not the page files); *chunks is malloc'd. */
int spool_item_chunks(struct spool *sp, const char *id, const char *item,
    struct spool_chunk **chunks, int *n, struct spool_err *err);

/* ---- print jobs: job.xml and JDF tickets in hot folders ---------------- */

/*
 * A print job is one item's chunk PDFs in one print queue's hot folder, beside
 * invoice.pdf, a copy of upload.xml and a ticket: job.xml (schemas/job.xsd), which the
 * printer edits to report progress, or, for a queue with format = jdf, a CIP4 JDF 1.9
 * ticket per chunk for the RIP.  Tickets are built with libxml2's tree API from
 * checked values and published whole with spool_publish; publish the PDFs first, so
 * that whoever sees a ticket finds its files.  A printer's job.xml is hostile input:
 * see spool_jobxml_read.  All of this is in lib/jobxml.c.
 */

/* The status codes of an item's print job (document 002's order_status_id values). */
enum {
	SPOOL_JOB_QUEUED = 2,
	SPOOL_JOB_SHIPPING = 3,
	SPOOL_JOB_CANCELLED = 7,    /* the shop's only: stop, do not print */
	SPOOL_JOB_FAILED = 10,
	SPOOL_JOB_PROCESSING = 15,
	SPOOL_JOB_BADSTATUS = -1,   /* read: no usable OrderStatus; see spool_jobxml.bad */
};

#define SPOOL_JOBXML_MAX (1024 * 1024)  /* a larger job.xml is refused unread */
#define SPOOL_JOB_MSG_MAX 1024          /* bytes of OrderStatusMessage kept, and written */
#define SPOOL_JOB_LINES_MAX 8           /* lines of an address */
#define SPOOL_JOB_CHUNKS_MAX 16

struct spool_job_chunk {
	const char *file;   /* the chunk PDF in the job's folder: an id ending in ".pdf" */
	const char *kind;   /* "cover", "content": a name (spool_name_ok) */
	int pages;          /* its page count, 1..10000, or 0 if unknown */
};

/*
 * What a ticket says.  Every pointer is borrowed.  Ids and file names must pass
 * spool_id_ok; text is UTF-8 without control characters, at most SPOOL_FIELD_MAX
 * bytes; "or NULL" marks what may be left out.
 */
struct spool_job {
	const char *order_id;
	const char *item_id;
	time_t placed;
	const char *customer;          /* the customer's name */
	const char *email;
	const char *phone;             /* or NULL */
	const char *const *billing;    /* address lines, at most SPOOL_JOB_LINES_MAX */
	int nbilling;
	const char *const *shipping;
	int nshipping;
	const char *product;           /* the product's id */
	const char *product_name;      /* or NULL */
	const char *title;             /* or NULL */
	int quantity;                  /* copies, 1..1000000 */
	const struct spool_job_chunk *chunks;  /* this job's chunks: 1..SPOOL_JOB_CHUNKS_MAX */
	int nchunks;
	int parts;                     /* chunks the item has in all queues (JDF: over 1
	                                  makes the output a PartialProduct); 0 means 1 */
	const char *invoice;           /* the invoice PDF's name in the job's folder, or NULL */
	const char *upload;            /* the copy of upload.xml's name, or NULL */
	int status;                    /* OrderStatus: SPOOL_JOB_QUEUED when first published */
	const char *message;           /* OrderStatusMessage, LF between lines, or NULL */
};

/*
 * Render job.xml into *buf (malloc'd, NUL-terminated; free it), checked against
 * schemas/job.xsd.  -1/EINVAL with err naming the field when a value is not allowed.
 */
int spool_jobxml_format(const struct spool_job *job, char **buf, size_t *len,
    struct spool_err *err);
/*
 * Publish job.xml as dirfd/name (a plain file name) with spool_publish(dirfd, name,
 * tmpfd, ..., pub); it replaces a file of that name unless pub says
 * SPOOL_PUB_NOREPLACE.  tmpfd must be on dirfd's file system, or -1 for a dot-name in
 * dirfd.
 */
int spool_jobxml_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    const struct spool_pub *pub, struct spool_err *err);
/*
 * A JDF 1.9 ticket for job->chunks[chunk]: a Combined node of Interpreting, Rendering
 * and DigitalPrinting whose RunList names the PDF by a relative URL (the file name,
 * resolved against the ticket's own location, so it holds wherever the RIP mounts the
 * hot folder) and whose output ComponentLink has Amount = job->quantity.
 */
int spool_jdf_format(const struct spool_job *job, int chunk, char **buf, size_t *len,
    struct spool_err *err);
int spool_jdf_write(int dirfd, const char *name, int tmpfd, const struct spool_job *job,
    int chunk, const struct spool_pub *pub, struct spool_err *err);

/* Why a job.xml read gave SPOOL_JOB_BADSTATUS. */
enum spool_job_bad {
	SPOOL_JOB_BAD_NONE,
	SPOOL_JOB_BAD_NOBLOCK,      /* no OrderProductPrintStatus */
	SPOOL_JOB_BAD_BLOCKS,       /* more than one OrderProductPrintStatus */
	SPOOL_JOB_BAD_NOSTATUS,     /* no OrderStatus in it */
	SPOOL_JOB_BAD_STATUSES,     /* more than one OrderStatus */
	SPOOL_JOB_BAD_NUMBER,       /* OrderStatus is not a whole number (status_text) */
};

/* What a printer's job.xml says: OrderProductPrintStatus, nothing else. */
struct spool_jobxml {
	int status;                          /* OrderStatus, or SPOOL_JOB_BADSTATUS */
	enum spool_job_bad bad;              /* why status is SPOOL_JOB_BADSTATUS */
	char status_text[32];                /* OrderStatus as written: plain text, cut */
	char message[SPOOL_JOB_MSG_MAX + 1]; /* OrderStatusMessage as plain text, or "" */
	int message_cut;                     /* 1 if the message was longer and was cut
	                                        (it then ends in "...") */
	char order_id[SPOOL_ID_MAX + 1];     /* Order/OrderId; "" if missing or not an id */
	char item_id[SPOOL_ID_MAX + 1];      /* its OrderProductId; the same */
	int line;                            /* the line of OrderStatus, or 0 */
};

/*
 * Read a printer's job.xml, dirfd/name.  It is hostile: a symlink is refused (ELOOP),
 * so is anything but a regular file (EINVAL) and a file over SPOOL_JOBXML_MAX (EFBIG);
 * it is parsed with no network, no DTD, no entity substitution and no entity loader,
 * and a DOCTYPE is refused where it starts (EINVAL), before any entity is declared.
 * A document that is not well-formed, such as a file still being written, fails with
 * EAGAIN and err "NAME: not well-formed at line N: ...": read it again after its next
 * change.  A root other than PrintJob is EINVAL.  Anything wrong with the status
 * itself is not an error here: status is SPOOL_JOB_BADSTATUS, and
 * spool_jobxml_verdict says why.  The message is plain text: <br/> (also typed as
 * text, in any case) and U+2028/9 become line breaks, other white space one blank,
 * control and invisible formatting characters are dropped, at most two line breaks
 * in a row, cut at a character boundary to SPOOL_JOB_MSG_MAX bytes; a message that
 * was cut ends in "..." (within those bytes), so wherever it is shown the cut shows.
 */
int spool_jobxml_read(int dirfd, const char *name, struct spool_jobxml *out,
    struct spool_err *err);
/* The same on a document in memory; name is what errors call it (for fuzzing). */
int spool_jobxml_parse(const char *buf, size_t len, const char *name,
    struct spool_jobxml *out, struct spool_err *err);

/* "Queued", "Processing", "Shipping", "Failed", "Cancelled", or NULL. */
const char *spool_job_status_name(int code);
/*
 * The printer's rules (document 002), as a pure function.  May a printer move a job
 * from status `from` (the one spool last published or accepted) to `to`, with this
 * OrderStatusMessage (may be NULL)?  Queued (2) to Processing (15), Processing to
 * Shipping (3), and any status to Failed (10) with a message.  Returns 1 if so, 0 if
 * to == from (no move), -1 if not: errno EINVAL for an unknown code, EPERM for a move
 * the rules forbid, and err a sentence for the printer (the error element).
 */
int spool_job_transition(int from, int to, const char *message, struct spool_err *err);
/* spool_job_transition on what was read, with a clear sentence for a bad status. */
int spool_jobxml_verdict(const struct spool_jobxml *j, int from, struct spool_err *err);

struct spool_jobxml_refusal {
	int refused;        /* the status read (spool_jobxml.status), maybe BADSTATUS */
	int restore;        /* the valid status to put back */
	const char *why;    /* for the printer: spool_jobxml_verdict's err (one line) */
	const char *note;   /* or, instead of an error: the shop's own OrderStatusMessage
	                       (a status the shop sets, such as Cancelled) */
};

/*
 * Write a refusal into the printer's job.xml: OrderStatus set back to r->restore (the
 * extra OrderProductPrintStatus or OrderStatus elements that made it ambiguous are
 * removed), and one OrderStatusError element (replacing an earlier one) with
 * refused="what it said", time= and r->why; everything else the printer wrote stays.
 * The file is replaced whole with spool_publish, keeping its permission bits, group
 * read-write at least (the printer edits it again), and its folder's group.  If the
 * file no longer says r->refused, or changes while this runs, it is left alone and
 * -1/EAGAIN returned: read it again.
 */
int spool_jobxml_refuse(int dirfd, const char *name, int tmpfd,
    const struct spool_jobxml_refusal *r, struct spool_err *err);
/* The same on a document in memory: *out is malloc'd (free it). */
int spool_jobxml_refuse_buf(const char *buf, size_t len, const char *name,
    const struct spool_jobxml_refusal *r, char **out, size_t *outlen, struct spool_err *err);

/* ---- an order's print jobs ---------------------------------------------- */

/*
 * The publish action puts each item's chunk PDFs into the hot folders of the queues
 * their kinds are routed to (spool_conf_route): one job per item and queue, a folder
 * named "<order>-<item>-<queue>" holding the PDFs "<order>-<item>-<kind>.pdf" and
 * either job.xml (with invoice.pdf and a copy of upload.xml, in the InfoBaseFolder
 * when the queue has one) or, for format = jdf, one JDF ticket per PDF.  Each job
 * appears whole (staged as ".<name>.tmp", then renamed).  orders/<id>/jobs records
 * them: a line "visit N" (the visit that planned them: spool_status.visits), then one line
 * per job, "NAME QUEUE ITEM STATUS SEEN", STATUS 0 until it is published, then the
 * OrderStatus that spool last published or accepted from its printer; SEEN tells
 * spoold whether job.xml changed since it last read it.  lib/print.c.
 */
#define SPOOL_PJOBS_MAX 4096
#define SPOOL_JOBNAME_MAX SPOOL_ID_MAX   /* a job's folder name is an id */

struct spool_pjob {
	char name[SPOOL_JOBNAME_MAX + 1];
	char item[SPOOL_ID_MAX + 1];
	int queue;          /* index into conf->queues; -1: the queue left spool.conf */
	int status;         /* 0: not published yet; else its OrderStatus */
	char seen[48];      /* job.xml as last read ("MTIME.NSEC.SIZE"), or "-" */
};

struct spool_pjobs {
	int visit;                    /* spool_status.visits of the visit that planned them */
	struct spool_pjob *v;
	int n;
};

/* Read orders/<id>/jobs; a missing file gives none (n = 0) and returns 0. */
int spool_pjobs_read(struct spool *sp, const char *id, struct spool_pjobs *js,
    struct spool_err *err);
/* Publish orders/<id>/jobs; flags 0 or SPOOL_NOSYNC. */
int spool_pjobs_write(struct spool *sp, const char *id, const struct spool_pjobs *js,
    int flags);
void spool_pjobs_free(struct spool_pjobs *js);
/* The jobs an order's items make (all with status 0), from their chunks and the queues. */
int spool_pjobs_plan(struct spool *sp, const char *id, int visit, struct spool_pjobs *js,
    struct spool_err *err);
/* Publish one job whole.  A job already in its hot folder (a crash after the rename) is
 * left as it is and counts as published. */
int spool_pjob_publish(struct spool *sp, const char *id, const struct spool_pjob *j,
    struct spool_err *err);
/* The path of a job's folder in its hot folder (info: in its InfoBaseFolder). */
int spool_pjob_dir(struct spool *sp, const struct spool_pjob *j, int info, char *buf,
    size_t len);
/* The path of the folder that holds the job's job.xml; -1/ENOENT if it has none. */
int spool_pjob_ticket(struct spool *sp, const struct spool_pjob *j, char *buf, size_t len);
/* Remove a job's PDFs (pdfs_only), or its folders; *count gets what went. */
int spool_pjob_remove(struct spool *sp, const struct spool_pjob *j, int pdfs_only, int *count,
    struct spool_err *err);
enum { SPOOL_PURGE_UPLOADS = 1, SPOOL_PURGE_PRINTS = 2 };
/*
 * Delete an order's PDFs: the uploaded pages (the PDF files in items/<item>/), and/or the print
 * PDFs (the chunks, and the PDFs of its jobs in the hot folders); of one item, or
 * of all when item is NULL.  order.xml, the upload.xml files, the invoice and the job
 * tickets stay.  Counts what went.
 */
int spool_order_purge(struct spool *sp, const char *id, const char *item, int what,
    int *uploads, int *prints, struct spool_err *err);
/*
 * Remove an item's PDFs everywhere (uploads, chunks) and take its jobs out of the hot
 * folders; the jobs no longer count for the order (Cancelled in orders/<id>/jobs).
 * order.xml keeps the item.  One history line says what went.
 */
int spool_item_remove(struct spool *sp, const char *id, const char *item, unsigned actor,
    const char *who, struct spool_err *err);
/* Take all of an order's jobs out of the hot folders (spool_remove does). */
int spool_order_unpublish(struct spool *sp, const char *id, int *count);
/* When queue q takes jobs: now if it has no window or its window is open, else the
 * window's next opening. */
time_t spool_queue_opens(const struct spool_queue *q, time_t now);
/* Tell the printer to stop: OrderStatus Cancelled (7) with why as its message. */
int spool_pjob_stop(struct spool *sp, const struct spool_pjob *j, const char *why,
    struct spool_err *err);

#endif
