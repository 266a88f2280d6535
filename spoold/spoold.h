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
#define GATES_MAX 1024    /* order folders watched for a gate file; more wait for rescans */
#define JOBW_MAX 8192     /* job folders watched for job.xml; more wait for rescans */

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

/* A child process at work for an order (or on a bundle in incoming/). */
struct job {
	pid_t pid;
	enum job_kind kind;
	char id[SPOOL_ID_MAX + 1];      /* the order, or the bundle's name */
	char state[SPOOL_NAME_MAX + 1]; /* the state the action belongs to (by name: a
	                                   reload may renumber the states) */
	int step;                       /* which action of it */
	int errfd;                      /* the read end of its stderr, or -1 */
	char out[ERR_OUT_MAX + 1];
	size_t outlen;
	time_t deadline;
	int killed;                     /* 1: timed out; 2: cancelled by a timer or reload */
};

/* A rescan, done a chunk at a time so the loop never stops for long. */
struct scan {
	int active;
	int again;                      /* asked for while running: start over when done */
	int state;                      /* the state folder being read */
	DIR *dir;
	time_t started;
	time_t last_complete;           /* when the last whole rescan began */
	time_t dir_mtime_seen[SPOOL_STATES_MAX];
};

struct daemon {
	const char *path;
	struct spool *sp;
	const struct spool_conf *conf;
	int epfd, inofd, sigfd, tfd, lockfd;
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
	int ready_fd;                   /* s6-style readiness: write a newline, close */
	int ready;                      /* ready has been announced */
	int terminating;
	int reload;
	int verbose;
	struct queue q;
	struct heap heap;
	struct scan scan;
	struct job jobs[JOBS_MAX];
	int njobs;
	int dirty;                      /* unsynced writes: sync before work leaves the spool */
	struct spawn {
		char id[SPOOL_ID_MAX + 1];
		int state, step, try;
	} spawn[JOBS_MAX];
	int nspawn;                     /* exec actions waiting for the batch's sync */
	int covered;                    /* the first `covered` of them: once the sync is done */
	int sync_req, sync_done;        /* pipes to and from the sync helper (sync.c) */
	int sync_busy;                  /* a sync is under way */
	pid_t sync_pid;
	unsigned long sync_gen;         /* syncs asked for */
	unsigned long sync_done_gen;    /* the last of them that returned */
	pid_t mail_pid;                 /* the mailer (notify.c), or 0 */
	int mail_wanted;                /* outbox/new/ has something for it */
	unsigned long mail_gen;         /* the sync its mail waits for */
	time_t mail_next;               /* the next message due, or 0 */
	int wd_outbox;
	struct queue wq;                /* orders held back for want of a worker */
	int incoming_pending;           /* incoming/ needs a look */
	time_t next_rescan;
	unsigned long moves, looks;
};

/* queue.c */
int queue_init(struct queue *q);
void queue_free(struct queue *q);
/* 0 ok or already there, -1 full; hint: the state it was seen in, or -1 */
int queue_push(struct queue *q, const char *id, int hint);
int queue_pop(struct queue *q, char *id, int *hint);  /* 1 got one, 0 empty */
int heap_init(struct heap *h);
void heap_free(struct heap *h);
int heap_push(struct heap *h, time_t at, const char *id);
time_t heap_peek(const struct heap *h);             /* 0 when empty */
int heap_pop(struct heap *h, struct due *out);

/* engine.c: what an order needs, and doing it */
void engine_look(struct daemon *d, const char *id, int hint);
/*
 * Queue a look at id; hint is the state it was seen in (or -1), plus HINT_OWN when
 * spoold itself has just moved it there, with its history line written.
 */
#define HINT_OWN 0x1000
void engine_soon(struct daemon *d, const char *id, int hint);
void engine_job_done(struct daemon *d, struct job *j, int status);
/* 1 if this inotify event is the echo of spoold's own move (and is used up) */
int engine_echo(const char *id, int state);
void engine_echoes_forget(void);
void engine_worker_free(struct daemon *d);
void engine_spawn_pending(struct daemon *d);
/* A history line by spoold (or by the actor given), not synced (d->dirty is set). */
void hist(struct daemon *d, const char *id, const char *actor, const char *from, const char *to,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* notify.c: mail */
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

/* sync.c: group commit in a helper process */
#define EV_SYNC 5                  /* epoll tag; see main.c */
int sync_init(struct daemon *d);
void sync_request(struct daemon *d);
void sync_finished(struct daemon *d);
void sync_wait(struct daemon *d);
/* watch.c: noticing orders */
int watch_init(struct daemon *d);
void watch_read(struct daemon *d);
void watch_close(struct daemon *d);
void scan_begin(struct daemon *d);
int scan_step(struct daemon *d);                    /* 1 while a rescan is under way */
void incoming_look(struct daemon *d);
void watch_gate(struct daemon *d, const char *id);
void watch_ungate(struct daemon *d, const char *id);
void watch_job(struct daemon *d, const char *dir, const char *id, int on);
void watch_forget(struct daemon *d, const char *id);
void incoming_done(struct daemon *d, struct job *j, int status);
/* jobs.c: child processes */
struct job *job_start_exec(struct daemon *d, const char *id, int state, int step, int try);
struct job *job_start_incoming(struct daemon *d, const char *name);
struct job *job_find(struct daemon *d, const char *id);
void job_read(struct daemon *d, struct job *j);
void jobs_reap(struct daemon *d);
void jobs_expire(struct daemon *d, time_t now);
void job_cancel(struct daemon *d, struct job *j);
time_t jobs_next_deadline(const struct daemon *d);

#endif
