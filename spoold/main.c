/*
 * spoold: makes a spool live.  The top of spoold: main wires the parts together and
 * says what a turn of the event loop (loop.c) does, in which order.  The loop waits
 * on inotify (the doorbell), a signalfd (SIGCHLD, SIGHUP, SIGTERM), a timerfd (the
 * nearest due time, job deadline or rescan), and the stderr pipes of its children.
 * It runs in the foreground under a supervisor, holds run/spoold.lock so that one
 * runs per spool on a host, recovers the spool before it says it is ready, and
 * reports readiness to systemd (sd_notify) and, s6-style, on a descriptor (--ready-fd).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

#define LOOKS_PER_TURN 128  /* looks between two reads of inotify, and per group commit */
#define STOP_GRACE 10

#define SYNOPSIS "spoold [-nsv] [-d SPOOL] [--node NAME] [--poll SECONDS] [--ready-fd FD]"

/* A usage error: one line on stderr that names what is wrong, exit 64. */
static void __attribute__((noreturn))
usage(const char *what, const char *arg)
{
	fprintf(stderr, "spoold: %s%s%s%s (usage: " SYNOPSIS ")\n", what,
	    arg != NULL ? " '" : "", arg != NULL ? arg : "", arg != NULL ? "'" : "");
	exit(SPOOL_EX_USAGE);
}

static void __attribute__((noreturn))
help(void)
{
	printf("usage: " SYNOPSIS "\n"
	    "       spoold --help | --version\n\n"
	    "  -d SPOOL           the spool (default: $SPOOL_DIR)\n"
	    "  -n, --check        check spool.conf and the templates, then exit\n"
	    "  -N, --node NAME    this host's name among the nodes (default: the host name)\n"
	    "  -p, --poll SECONDS look every SECONDS instead of watching with inotify\n"
	    "  -r, --ready-fd FD  write a line to FD once ready, then close it\n"
	    "  -s, --syslog       log to syslog instead of stderr\n"
	    "  -v, --verbose      log each look too (twice: more)\n\n"
	    "See spoold(8).\n");
	exit(0);
}

/* The host's name up to its first dot, as a node's name ("node" if it is none). */
static void
host_node(char *buf, size_t len)
{
	char host[256];

	if (gethostname(host, sizeof host) < 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	snprintf(buf, len, "%.64s", spool_node_name_ok(host) ? host : "node");
}

/* The command line into d, *spool, *check and *syslog_; a usage error exits. */
static void
parse_opts(int argc, char **argv, struct daemon *d, const char **spool, int *check,
    int *syslog_)
{
	static const struct option opts[] = {
		{ "poll", required_argument, NULL, 'p' }, { "ready-fd", required_argument, NULL, 'r' },
		{ "syslog", no_argument, NULL, 's' }, { "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { "node", required_argument, NULL, 'N' }, { 0 }
	};
	char opt[3] = "-?";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:hnN:p:r:svV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*spool = optarg;
			break;
		case 'h':
			help();
		case 'n':
			*check = 1;
			break;
		case 'N':
			if (!spool_node_name_ok(optarg))
				usage("--node takes 1 to 64 of A-Z a-z 0-9 . _ -, not", optarg);
			snprintf(d->node, sizeof d->node, "%s", optarg);
			break;
		case 'p':
			if ((d->poll = atoi(optarg)) < 1)
				usage("--poll takes a number of seconds, not", optarg);
			break;
		case 'r':
			d->ready_fd = atoi(optarg);
			break;
		case 's':
			*syslog_ = 1;
			break;
		case 'v':
			d->verbose++;
			break;
		case 'V':
			printf("spoold %s\n", SPOOL_VERSION);
			exit(0);
		case ':':
			usage("a value is missing for", argv[optind - 1]);
		default:
			opt[1] = (char)optopt;
			usage("unknown option", optopt != 0 ? opt : argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage("unexpected argument", argv[optind]);
	if (*spool == NULL || (*spool)[0] == '\0')
		usage("no spool: give -d SPOOL or set SPOOL_DIR", NULL);
	if (d->node[0] == '\0')
		host_node(d->node, sizeof d->node);
}

static void
report_problem(void *arg, const struct spool_problem *p)
{
	(void)arg;
	if (p->id != NULL)
		log_order(p->repaired > 0 ? LOG_L_INFO : LOG_L_WARN, p->id, "%s: %s: %s%s",
		    spool_problem_name(p->kind), p->path, p->detail,
		    p->repaired > 0 ? " (repaired)" : p->repaired < 0 ? " (repair failed)" : "");
	else
		log_warnx("%s: %s: %s%s", spool_problem_name(p->kind), p->path, p->detail,
		    p->repaired > 0 ? " (repaired)" : p->repaired < 0 ? " (repair failed)" : "");
}

static struct spool *
open_spool(const char *path, int *code)
{
	struct spool_err err;
	struct spool *sp;

	if (spool_open(path, 0, &sp, &err) == 0)
		return sp;
	*code = errno == ENOENT ? SPOOL_EX_NOTFOUND : SPOOL_EX_CONFIG;
	log_warnx("%s", err.msg);
	return NULL;
}

/* spoold -n: the configuration, and what spoold would run. */
static int
check_only(struct spool *sp)
{
	const struct spool_conf *c = spool_conf(sp);
	int i, k, warnings = 0;

	for (i = 0; i < c->nstates; i++)
		for (k = 0; k < c->states[i].nactions; k++) {
			const struct spool_action *a = &c->states[i].actions[k];
			if (a->kind == SPOOL_ACT_EXEC && access(a->argv[0], X_OK) < 0) {
				log_warn("%s:%d: handler %s of state %s cannot be run", c->path, a->line,
				    a->argv[0], c->states[i].name);
				warnings++;
			}
		}
	printf("%s: workflow %s, %d states, %d transitions: configuration OK%s\n", c->path,
	    c->workflow, c->nstates, c->ntransitions, warnings ? " (with warnings)" : "");
	return 0;
}

/* A sync has returned: the handlers and the mail it covered may start. */
static void
synced(struct daemon *d)
{
	engine_spawn_pending(d);
	if (d->leader)
		mail_kick(d, time(NULL));
}

/*
 * Recovery before serving: unfinished submits, removals and moves, stale tmp/.  On a
 * shared spool only the leader recovers, when it takes the lead: a follower could
 * take another node's move under way for one a crash left half done.
 */
static void
recover(struct daemon *d)
{
	if (spool_recover(d->sp, report_problem, NULL) < 0)
		log_warn("recovery check of %s", d->path);
}

/* This node leads now (nodes.c): what only the leader does begins. */
static void
lead(struct daemon *d)
{
	recover(d);
	d->mail_wanted = 1;
	scan_begin(d);    /* and incoming/ with it */
}

static void
announce_ready(struct daemon *d)
{
	d->ready = 1;
	d->started = time(NULL);
	log_info("ready: %s, workflow %s, %s", d->path, d->conf->workflow,
	    d->poll ? "polling" : "inotify");
	sd_notify(0, "READY=1\nSTATUS=serving");
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, "\n", 1) < 0)
			log_warn("cannot write to the readiness descriptor");
		close(d->ready_fd);
		d->ready_fd = -1;
	}
}

/* SIGHUP: take the new spool.conf if it is good; keep the old one if it is not. */
static void
reload(struct daemon *d)
{
	struct spool_err err;
	struct spool *sp;
	int code;

	sd_notify(0, "RELOADING=1");
	if ((sp = open_spool(d->path, &code)) == NULL) {
		log_warnx("reload failed; the old configuration stays in force");
		sd_notify(0, "READY=1");
		return;
	}
	if (d->shared && spool_node_open(sp, d->node, &err) < 0) {
		log_warnx("reload failed: %s; the old configuration stays in force", err.msg);
		spool_close(sp);
		sd_notify(0, "READY=1");
		return;
	}
	watch_close(d);
	submit_stop(d);
	spool_close(d->sp);
	d->sp = sp;
	d->conf = spool_conf(sp);
	/* the helper submits by the workflow it was started with: a new one takes the new */
	if (submit_init(d) < 0)
		log_warn("cannot listen on %s after the reload; spoolctl submit writes the spool "
		    "itself", SPOOL_NAME(SPOOL_F_SUBMIT_SOCK, NULL));
	d->rescan_every = d->conf->rescan;
	if (watch_init(d) < 0)
		log_warn("cannot watch the spool after the reload; rescans only");
	scan_begin(d);
	log_info("reloaded: workflow %s, %d states", d->conf->workflow, d->conf->nstates);
	sd_notify(0, "READY=1");
}

/* The signalfd is readable (registered with the loop). */
static void
signals(struct daemon *d, unsigned arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			jobs_reap(d);
			break;
		case SIGHUP:
			d->reload = 1;
			break;
		case SIGUSR1:
			scan_begin(d);
			break;
		default:
			if (!d->terminating) {
				log_info("stopping: %d jobs running", d->njobs);
				sd_notify(0, "STOPPING=1");
			}
			d->terminating = time(NULL);
		}
	}
}

/* The nearest thing that has a time, for the loop's timer; 0 if none. */
static time_t
wake(struct daemon *d)
{
	time_t t = heap_peek(&d->heap), u;

	if ((u = jobs_next_deadline(d)) != 0 && (t == 0 || u < t))
		t = u;
	if (d->next_rescan != 0 && (t == 0 || d->next_rescan < t))
		t = d->next_rescan;
	if (d->mail_pid == 0 && d->mail_next != 0 && (t == 0 || d->mail_next < t))
		t = d->mail_next;
	if ((u = stalls_next(d)) != 0 && (t == 0 || u < t))
		t = u;
	if ((u = nodes_next(d)) != 0 && (t == 0 || u < t))
		t = u;
	if (d->stats_pending && (t == 0 || d->stats_at < t))
		t = d->stats_at;
	if (d->terminating && (t == 0 || d->terminating + STOP_GRACE < t))
		t = d->terminating + STOP_GRACE;
	return t;
}

static void
turn(struct daemon *d)
{
	char id[SPOOL_ID_MAX + 1];
	struct due due;
	time_t now;
	int i, looks, timeout, hint;

	/* incoming/ is the leader's: a follower's rescans must not leave it pending (a spin) */
	d->incoming_pending &= d->leader;
	timeout = !d->fault && (d->q.count > 0 || d->scan.active || d->incoming_pending) ? 0 : -1;
	/* nothing open for writing while the loop waits: a read-only remount (loop.c) */
	spool_journal_close(d->sp);
	loop_wait(d, wake(d), timeout);
	if (d->reload) {
		d->reload = 0;
		reload(d);
	}
	now = time(NULL);
	nodes_tick(d, now);
	engine_stats(d, now);
	jobs_expire(d, now);
	/* writes the disk refused are tried again first, in the order they failed */
	stalls_due(d, now);
	space_tick(d, now);
	while (heap_peek(&d->heap) != 0 && heap_peek(&d->heap) <= now && heap_pop(&d->heap, &due))
		look_soon(d, due.id, -1);
	if (d->next_rescan != 0 && now >= d->next_rescan) {
		/* polling: run/kick cannot ring a doorbell, so look for it */
		if (d->poll > 0 && unlinkat(spool_dirfd(d->sp, SPOOL_DIR_RUN),
		    spool_basename(SPOOL_F_KICK), 0) == 0)
			log_info("kicked: rescanning");
		scan_begin(d);
		d->mail_wanted = 1;    /* and the outbox, which polling cannot watch either */
		d->next_rescan = now + (d->poll > 0 ? d->poll : d->rescan_every);
	}
	if (d->terminating) {
		/* no new work; jobs still running get STOP_GRACE seconds, then are stopped */
		if (now >= d->terminating + STOP_GRACE)
			for (i = 0; i < JOBS_MAX; i++)
				if (d->jobs[i].pid > 0 && !d->jobs[i].killed) {
					d->jobs[i].killed = 3;
					kill(-d->jobs[i].pid, SIGKILL);
				}
		sync_request(d);
		return;
	}
	if (!d->fault) {
		/*
		 * While the file system refuses writes, no new work starts (stall.c).  The looks
		 * events asked for come first; a rescan runs behind them, a few looks a turn.
		 */
		for (looks = 0; looks < LOOKS_PER_TURN && !d->fault && queue_pop(&d->q, id, &hint);
		    looks++)
			engine_look(d, id, hint);
		scan_step(d);
		if (d->incoming_pending)
			incoming_look(d);
		engine_workers(d);
	}
	/* group commit: one sync for the batch; the work it allows starts when it is done */
	sync_request(d);
	engine_record(d);
	if (d->leader)
		mail_kick(d, now);
	/*
	 * Ready after the first turn: what a crash left half done is mended (recovery, the
	 * journal), and the orders at work then have had their look (engine_resume).  The
	 * rescan goes on behind.
	 */
	if (!d->ready)
		announce_ready(d);
}

/* The signals come through a signalfd; the loop, and its queues. */
static void
setup(struct daemon *d)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->inofd = -1;
	if (loop_init(d) < 0 || (d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    loop_add(d, d->sigfd, signals, 0) < 0)
		fatal("cannot set up the event loop");
	if (queue_init(&d->q) < 0 || queue_init(&d->wq) < 0 || heap_init(&d->heap) < 0)
		fatal("out of memory");
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	char path[PATH_MAX];
	const char *spool = getenv("SPOOL_DIR");
	int check = 0, syslog_ = 0, code = 1;

	spool_domain_init();
	d.ready_fd = -1;
	d.lockfd = -1;
	/* what the lower parts let the higher ones do */
	d.hooks = (struct hooks){ .look = engine_look, .synced = synced, .mail_done = mail_done,
		.lead = lead };
	parse_opts(argc, argv, &d, &spool, &check, &syslog_);
	log_init(syslog_, d.verbose);
	if (realpath(spool, path) == NULL) {
		log_warn("no spool at %s", spool);
		return errno == ENOENT ? SPOOL_EX_NOTFOUND : SPOOL_EX_FAIL;
	}
	d.path = path;
	if ((d.sp = open_spool(path, &code)) == NULL)
		return code;
	d.conf = spool_conf(d.sp);
	if (check)
		return check_only(d.sp);
	nodes_init(&d);    /* and, on a local file system, lock_spool: one spoold per spool */
	setup(&d);
	d.rescan_every = d.conf->rescan;
	d.mail_wanted = 1;    /* whatever an earlier run left in outbox/new/ */
	if (!d.shared)
		recover(&d);
	/* what an earlier spoold (of this node) kept in run/journal while the disk refused writes */
	stalls_load(&d);
	if (sync_init(&d) < 0)
		log_warn("cannot start the sync helper; the loop syncs itself");
	if (submit_init(&d) < 0)
		log_warn("cannot listen on %s; spoolctl submit writes the spool itself",
		    SPOOL_NAME(SPOOL_F_SUBMIT_SOCK, NULL));
	if (watch_init(&d) < 0)
		fatal("cannot watch %s", path);
	scan_begin(&d);
	d.next_rescan = time(NULL) + (d.poll > 0 ? d.poll : d.rescan_every);
	log_info("started on %s (pid %ld)", path, (long)getpid());
	nodes_start(&d);
	/* the orders at work when the last spoold stopped (run/work): first, before ready */
	engine_resume(&d);
	while (!d.terminating || d.njobs > 0)
		turn(&d);
	submit_stop(&d);
	sync_wait(&d);
	engine_stats(&d, 0);
	log_info("stopped: %lu looks, %lu moves", d.looks, d.moves);
	spool_close(d.sp);
	queue_free(&d.q);
	queue_free(&d.wq);
	heap_free(&d.heap);
	return 0;
}
