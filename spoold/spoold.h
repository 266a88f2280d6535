/*
 * spoold's shared state: one event loop (epoll over inotify, signalfd and timerfd)
 * that looks at orders, decides what each needs, and starts slow or risky work in
 * child processes.  Nothing here is the record: the tree is.  What spoold keeps in
 * memory is bounded (a queue of orders to look at, a heap of near due times, the
 * running jobs), so its size does not grow with the number of orders; whatever does
 * not fit is found again by a rescan.
 */
#ifndef SPOOLD_H
#define SPOOLD_H

#include <dirent.h>
#include <sys/types.h>
#include <time.h>

#include "spool.h"

#define READY_MAX 16384   /* orders waiting to be looked at */
#define HEAP_MAX 65536    /* due times held in memory */
#define JOBS_MAX 256      /* the most workers spool.conf may ask for */
#define ERR_OUT_MAX 4096  /* stderr kept from a handler */
#define SCAN_CHUNK 2048   /* directory entries a rescan takes per turn of the loop */
#define SCAN_LOOKS 64     /* looks a rescan makes per turn of the loop, after the events' */
#define GATES_MAX 1024    /* order folders watched for a gate file; more wait for rescans */
#define JOBW_MAX 8192     /* job folders watched for job.xml; more wait for rescans */
#define STALLS_MAX SPOOL_JOURNAL_SLOTS  /* orders whose writes the disk refused */
#define STALL_RETRY_MAX 5 /* seconds between tries of a refused write, at most */
#define RESERVE_STEP (1LL << 20)  /* run/reserve given back a MiB at a time */
#define EX_DISK 74        /* a built-in action's exit: the disk refused a write (EX_IOERR) */
#define PEERS_MAX 64      /* other nodes the leader follows the heartbeats of */
#define HELD_MAX (2 * JOBS_MAX)  /* claims a node holds: its jobs, and those about to start */
#define CLAIMED_MAX 4096  /* claims a rescan remembers; past that it looks at the rest */

/* A set of order ids in arrival order, bounded; see queue.c. */
struct queue {
	char (*ring)[SPOOL_ID_MAX + 1];
	short *hint;                        /* where the order was last seen, or -1 */
	unsigned head, count;
	char (*slots)[SPOOL_ID_MAX + 1];    /* open addressing, for "is it queued already" */
	unsigned char *used;
};

/* A min-heap of (due, id), bounded; see queue.c. */
struct due {
	time_t at;
	char id[SPOOL_ID_MAX + 1];
};

struct heap {
	struct due *v;
	int n;
};

enum job_kind { JOB_EXEC, JOB_INCOMING };
struct daemon;
struct job;
/* Who hears of a job's end: set by who starts it (the engine, watch's incoming/). */
typedef void job_done_fn(struct daemon *d, struct job *j, int status);

/* A child process at work for an order (or on a bundle in incoming/). */
struct job {
	pid_t pid;
	enum job_kind kind;
	job_done_fn *done;
	char id[SPOOL_ID_MAX + 1];      /* the order, or the bundle's name */
	char state[SPOOL_NAME_MAX + 1]; /* the state the action belongs to (by name: a
	                                   reload may renumber the states) */
	int step;                       /* which action of it */
	int visit, run;                 /* the visit, and its run number (spool_status.runs) */
	int errfd;                      /* the read end of its stderr, or -1 */
	char out[ERR_OUT_MAX + 1];
	size_t outlen;
	time_t deadline;
	int killed;                     /* 1: timed out; 2: cancelled by a timer or reload;
	                                   3: stopped with spoold; 4: could not start */
};

/*
 * The writes of one look at one order (stall.c).  The first write the disk refuses
 * stops the others, so that what is on disk is a beginning of what the look meant to
 * do; the look is then done again, a few seconds later, from the tree.  Its history
 * lines that made it to disk are remembered, so the next try does not write them twice.
 */
struct wctx {
	const char *id;
	int err;                        /* errno of the first write that failed, or 0 */
	char what[SPOOL_ID_MAX + 96];   /* which write it was */
	struct stall *st;               /* the order's stall: the lines written before */
	char lines[SPOOL_JREC_LINES_MAX + 1];  /* this look's lines that are on disk */
	size_t lineslen;
};

/*
 * An order whose writes the disk refused: what spoold must not lose (a handler's
 * outcome, the history lines already written), kept in memory and in its slot of
 * run/journal (the same index), and when to try again.  Nothing else of the order is
 * looked at until its writes go through.
 */
struct stall {
	int slot;                       /* its index here and in run/journal */
	int journaled;                  /* the slot holds rec */
	int jsaid;                      /* that it could not be journaled was said */
	int tries;
	int err;
	int global;                     /* the failure was the file system's (full, read-only) */
	time_t next;                    /* the next try */
	struct spool_jrec rec;          /* rec.id; an outcome when rec.run != 0; the lines */
};

/* A rescan, done a chunk at a time so the loop never stops for long. */
struct scan {
	int active;
	int again;                      /* asked for while running: start over when done */
	int state;                      /* the state folder being read: busy ones, then the
	                                   others (0 .. 2 * nstates - 1, see scan_step) */
	DIR *dir;
	time_t started;
	time_t last_complete;           /* when the last whole rescan began */
	unsigned long looked;           /* looks it made */
	int said;                       /* the first one's end was logged */
	time_t dir_mtime_seen[SPOOL_STATES_MAX];
	/* a shared spool: run/claims/ as this rescan began, sorted; others' are not looked at */
	char (*claimed)[SPOOL_ID_MAX + 1];
	int nclaimed, claims_read;
};

/* A part's function for a readable descriptor it registered (loop_add), with its arg. */
typedef void loop_fn(struct daemon *d, unsigned arg);
#define LOOP_FNS 8        /* distinct functions registered with the loop */

/*
 * What a lower part lets a higher one do, by pointer: main fills these at start, so
 * that no part calls one above it by name (mk/cycles checks the objects).
 */
struct hooks {
	/* stall.c, watch.c: a stalled look is due again, a rescan found an order (engine_look) */
	void (*look)(struct daemon *d, const char *id, int hint);
	/* sync.c: a sync returned; start what it covered (handlers, the mailer) */
	void (*synced)(struct daemon *d);
	/* jobs.c: the mailer, a child that is no job, ended (mail_done) */
	void (*mail_done)(struct daemon *d, int status);
	/* nodes.c: this node has taken the lead (recovery, a rescan, the mail) */
	void (*lead)(struct daemon *d);
};

/* The results of the actions spoold ran, as run/stats counts them. */
enum { RUN_OK, RUN_FAILED, RUN_DEFERRED, RUN_TIMEOUT, RUN_KILLED, RUN_RESULTS };

struct daemon {
	/* main.c: the spool, and the process */
	const char *path;
	struct spool *sp;
	const struct spool_conf *conf;
	int ready_fd;                   /* s6-style readiness: write a newline, close */
	int ready;                      /* ready has been announced */
	int terminating;
	int reload;
	int verbose;
	unsigned long moves, looks;
	unsigned long runs[RUN_RESULTS];  /* outcomes kept, by result (run/stats) */
	time_t stats_at;                /* run/stats is written again no sooner than this */
	int stats_pending;              /* counts not written yet: at stats_at */
	time_t started;
	/* nodes.c: several spoolds on one shared spool */
	char node[SPOOL_NODE_MAX + 1];  /* this one's name (--node, or the host's) */
	int shared;                     /* on a shared file system: nodes, claims, a leader */
	int leader;                     /* this node does the engine's own work */
	int leadfd, nodefd;             /* run/leader and run/nodes/NAME/lock, locked */
	unsigned long beat;
	time_t beat_next;
	struct peer {
		char name[SPOOL_NODE_MAX + 1];
		unsigned long beat;     /* its heartbeat's count and pid as last read */
		long pid;
		time_t seen;            /* when (here) it last changed */
		time_t retry;           /* silent: when to release claims it made late */
		int silent;
	} peers[PEERS_MAX];             /* the leader's view of the other nodes */
	int npeers;
	char held[HELD_MAX][SPOOL_ID_MAX + 1];  /* the claims this node holds */
	int nheld;
	/* loop.c: the event loop, and what the parts above let each other do */
	int epfd, sigfd, tfd, lockfd;
	loop_fn *fns[LOOP_FNS];         /* what the loop calls for an event */
	int nfns;
	struct hooks hooks;
	struct queue q;                 /* orders to look at */
	struct heap heap;               /* when to look at them again */
	time_t next_rescan;
	/* watch.c: noticing orders */
	int inofd;
	int poll;                       /* seconds between polls, or 0 with inotify */
	long rescan_every;              /* seconds between slow rescans */
	int wd_state[SPOOL_STATES_MAX];
	int wd_incoming, wd_run;
	struct gate {
		int wd;
		char id[SPOOL_ID_MAX + 1];
	} gates[GATES_MAX];             /* orders/<id>/ watched for a gate file */
	int ngates;
	struct jobw {
		int wd;
		char id[SPOOL_ID_MAX + 1];
	} *jobw;                        /* job folders watched for a printer's job.xml */
	int njobw;
	int wd_outbox;
	struct scan scan;
	int incoming_pending;           /* incoming/ needs a look */
	/* jobs.c: child processes */
	struct job jobs[JOBS_MAX];
	int njobs;
	/* engine.c: handlers that wait for their batch's sync, and for a worker */
	struct spawn {
		char id[SPOOL_ID_MAX + 1];
		int state, step, try, visit, run;
	} spawn[JOBS_MAX];
	int nspawn;                     /* exec actions waiting for the batch's sync */
	int covered;                    /* the first `covered` of them: once the sync is done */
	struct queue wq;                /* orders held back for want of a worker */
	/* sync.c: group commit */
	int dirty;                      /* unsynced writes: sync before work leaves the spool */
	int sync_req, sync_done;        /* pipes to and from the sync helper */
	int sync_busy;                  /* a sync is under way */
	pid_t sync_pid;
	unsigned long sync_gen;         /* syncs asked for */
	unsigned long sync_done_gen;    /* the last of them that returned */
	/* submit.c: submissions over run/submit.sock */
	pid_t submit_pid;
	int submit_stop;                /* closed: the helper stops */
	/* notify.c: the mailer */
	pid_t mail_pid;                 /* the mailer, or 0 */
	int mail_wanted;                /* outbox/new/ has something for it */
	unsigned long mail_gen;         /* the sync its mail waits for */
	time_t mail_next;               /* the next message due, or 0 */
	/* stall.c: writes the disk refused */
	struct wctx *w;                 /* the writes of the look under way, or NULL */
	int lost;                       /* errno of a write outside any look (in a child) */
	struct stall *stalls[STALLS_MAX];
	int nstalls;
	int fault;                      /* the file system refuses writes: new work waits */
	int journal_ok;                 /* run/journal is whole */
	long long reserve_have;         /* bytes in run/reserve */
	int lowspace;                   /* below min_free: no new orders */
	time_t space_next;              /* when to look at the free space again */
};

/*
 * The parts, from the bottom up.  Each calls by name only those before it; what a
 * lower part lets a higher one do goes through struct hooks or a function it is
 * given (mk/cycles checks the object files).  main.c, on top, wires them; log.c and
 * mailer.c, with headers of their own, are below them all.
 */

/* queue.c: the two bounded containers */
int queue_init(struct queue *q);
void queue_free(struct queue *q);
/* 0 ok or already there, -1 full; hint: the state it was seen in, or -1 */
int queue_push(struct queue *q, const char *id, int hint);
int queue_pop(struct queue *q, char *id, int *hint);  /* 1 got one, 0 empty */
int queue_has(const struct queue *q, const char *id);
int heap_init(struct heap *h);
void heap_free(struct heap *h);
int heap_push(struct heap *h, time_t at, const char *id);
time_t heap_peek(const struct heap *h);             /* 0 when empty */
int heap_pop(struct heap *h, struct due *out);

/* loop.c: the event loop, the queue of looks, the spool's lock */
int loop_init(struct daemon *d);
/* Call fn(d, arg) when fd is readable; 0, or -1 with errno. */
int loop_add(struct daemon *d, int fd, loop_fn *fn, unsigned arg);
void loop_del(struct daemon *d, int fd);
/* Wait for events (at most timeout ms; -1: no limit, but the timer rings at wake). */
void loop_wait(struct daemon *d, time_t wake, int timeout);
/*
 * Queue a look at id; hint is the state it was seen in (or -1), plus HINT_OWN when
 * spoold itself has just moved it there, with its history line written.
 */
#define HINT_OWN 0x1000
void look_soon(struct daemon *d, const char *id, int hint);
void scan_begin(struct daemon *d);
void lock_spool(struct daemon *d);
/* children close the lock of the spool, so that none outlives spoold with it */
void lock_drop(struct daemon *d);

/* submit.c: the helper that takes submissions over run/submit.sock (not on a shared spool) */
int submit_init(struct daemon *d);
void submit_stop(struct daemon *d);

/* stall.c: writes the disk refused */
struct stall *stall_find(struct daemon *d, const char *id);
/* Record the first failed write of the look under way; returns -1. */
int wfail(struct daemon *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wfailed(const struct daemon *d);
/* 1 if this history line of the look under way is on disk already (a try before wrote it) */
int wseen(struct wctx *w, const struct spool_event *ev);
void wremember(struct wctx *w, const struct spool_event *ev);
/* After a look: keep what failed (1 if the order stalls), or let a stall go. */
int stall_settle(struct daemon *d, struct wctx *w);
/* Keep a handler's outcome in run/journal before acting on it. */
struct stall *stall_outcome(struct daemon *d, const struct spool_jrec *rec);
void stall_drop(struct daemon *d, struct stall *st);
void stalls_load(struct daemon *d);
void stalls_due(struct daemon *d, time_t now);
time_t stalls_next(const struct daemon *d);
void space_tick(struct daemon *d, time_t now);
/* 1 if new orders may come in (min_free); logs once when that changes */
int space_for_orders(struct daemon *d);
int disk_errno(int e);
/* A history line by spoold (or by the actor given), not synced (d->dirty is set). */
int hist(struct daemon *d, const char *id, const char *actor, const char *from, const char *to,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* sync.c: group commit in a helper process */
int sync_init(struct daemon *d);
void sync_request(struct daemon *d);
void sync_wait(struct daemon *d);

/* jobs.c: child processes */
/* builtin: what runs in the child for an action that is not an exec (print_action) */
typedef int job_builtin_fn(struct daemon *d, const char *id, int state,
    const struct spool_action *a);
struct job *job_start_exec(struct daemon *d, const struct spawn *p, job_builtin_fn *builtin,
    job_done_fn *done);
struct job *job_start_incoming(struct daemon *d, const char *name, job_done_fn *done);
struct job *job_find(struct daemon *d, const char *id);
void jobs_reap(struct daemon *d);
void jobs_expire(struct daemon *d, time_t now);
void job_cancel(struct daemon *d, struct job *j);
time_t jobs_next_deadline(const struct daemon *d);

/* watch.c: noticing orders */
int watch_init(struct daemon *d);
const char *network_fs(int fd);    /* "NFS", "FUSE"...: polled, maybe shared; NULL: local */
/* 1 if s has an exec action: on a shared spool its orders are worked on under a claim */
int state_has_handler(const struct spool_state *s);
/* 1 if s has work for each order in it (actions, a timer, a gate, an automatic move) */
int state_busy(const struct spool_state *s);
void watch_close(struct daemon *d);
int scan_step(struct daemon *d);                    /* 1 while a rescan is under way */
void incoming_look(struct daemon *d);
void watch_gate(struct daemon *d, const char *id);
void watch_ungate(struct daemon *d, const char *id);
void watch_job(struct daemon *d, const char *dir, const char *id, int on);
void watch_forget(struct daemon *d, const char *id);
void watch_moved(const char *id, int state);

/* nodes.c: several nodes on a shared spool (no-ops on a local one) */
/* shared or not (statfs, or SPOOLD_SHARED=1); the node's lock, or on a local file
 * system the spool's (lock_spool); exits 75 if it is taken */
void nodes_init(struct daemon *d);
void nodes_start(struct daemon *d);                 /* the first heartbeat, and the lead */
/* every second: the heartbeat, the lease, the lead, silent nodes; stops if cut off */
void nodes_tick(struct daemon *d, time_t now);
time_t nodes_next(const struct daemon *d);
/* 1 if this node holds (or has just taken) id's claim; timeout: its handler's */
int claim_take(struct daemon *d, const char *id, long timeout);
/* 1 if the claim of id on disk is still this node's (not released by the leader) */
int claim_held(struct daemon *d, const char *id);
void claim_release(struct daemon *d, const char *id);
/* the leader: how many other nodes beat now */
int nodes_live(const struct daemon *d);

/* notify.c: mail; 0 queued, -1 not sent (why says why), -2 a write failed (wfail) */
int notify(struct daemon *d, const char *id, int state, const char *tmpl, const char *audience,
    const char *message, const char *item, time_t when, const char *key, char *why,
    size_t whylen);
void mail_kick(struct daemon *d, time_t now);
void mail_done(struct daemon *d, int status);

/* print.c: print production */
/* a built-in action (stitch, publish, withdraw, purge, copy), in a job's child */
int print_action(struct daemon *d, const char *id, int state, const struct spool_action *a);
time_t print_window_due(struct daemon *d, const char *id, time_t now);
/*
 * Read the printers' job.xml files of an order that changed; the state it should
 * move to (why: the history comment), or -1.  *recheck: when to look again (polling).
 */
int printer_look(struct daemon *d, const char *id, int state, char *why, size_t whylen,
    time_t *recheck);

/* engine.c: what an order needs, and doing it */
void engine_look(struct daemon *d, const char *id, int hint);
/* Apply a kept outcome (from a job's end, or run/journal); -1 if a write failed again. */
int engine_apply(struct daemon *d, struct stall *st);
void engine_workers(struct daemon *d);
void engine_spawn_pending(struct daemon *d);
void engine_stats(struct daemon *d, time_t now);
/* run/work: record the orders at work when that changed; at start, look at those it names */
void engine_record(struct daemon *d);
int engine_resume(struct daemon *d);

#endif
