/*
 * spoolctl: the admin's tool.  It works on the spool's tree directly, with or without
 * spoold running, through libspool; everything it knows about the format it asks the
 * library.  It prints one line per error ("spoolctl: ID: what and why") and exits
 * with the codes of spoolctl(1), so scripts can rely on them.
 *
 * This file: main, the usage, the command table, the messages, the exit code for an
 * errno, opening the spool, and the arguments several commands share.  The commands
 * live by concern: list.c (ls, stats, workflow), show.c (show, history), change.c
 * (submit, mv, do, rm), upkeep.c (init, check, kick) and outbox.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spoolctl.h"

const char *progname = "spoolctl";
const char *spooldir;
char who[SPOOL_FIELD_MAX];
static struct spool *cur;   /* the open spool, closed by die() */

void
usage(void)
{
	fprintf(stderr,
	    "usage: spoolctl [-d SPOOL] COMMAND [ARGS]\n"
	    "  init WORKFLOW [--group GROUP]     make a spool (print, email, pos, or a file)\n"
	    "  submit BUNDLE [--id ID]           check a bundle and enter it; prints the id\n"
	    "  ls [--state S] [--since D] [--until D] [--search TEXT] [-l] [--json]\n"
	    "  show ID [--json]                  an order: state, items, attempts, files, history\n"
	    "  history ID [--json]\n"
	    "  mv ID... STATE [-m COMMENT [--tell-customer]]  move, if the workflow lets the admin\n"
	    "  do TRANSITION ID... [-m COMMENT [--tell-customer]]  take a named transition\n"
	    "                                    (or: TRANSITION ID...); the comment reaches the\n"
	    "                                    customer only with --tell-customer\n"
	    "  rm ID[/ITEM]... [-m COMMENT]      remove orders (or items) and their PDFs everywhere\n"
	    "  check [--repair] [--json]         find (and mend) damage\n"
	    "  stats [--json]                    count and oldest age per state\n"
	    "  workflow [--json]                 the states and transitions of this spool\n"
	    "  kick                              ask spoold to rescan the spool now\n"
	    "  outbox [ls [--json]]              the spooled mails: new (with due time), sent, failed\n"
	    "  outbox retry NAME...              send a failed or deferred mail again now\n"
	    "  outbox purge [--failed|--all] [--older DURATION]  delete sent (failed) mails\n"
	    "SPOOL defaults to $SPOOL_DIR.  See spoolctl(1).\n");
	exit(SPOOL_EX_USAGE);
}

/*
 * One line on stderr.  A message may carry text from outside (a bundle's file name,
 * what libxml2 quoted of a document), so it is escaped once, by spool_escape's rule.
 */
static void
vwarnx_(const char *fmt, va_list ap)
{
	char raw[2048], esc[4096];
	int n = vsnprintf(raw, sizeof raw, fmt, ap);

	if (n < 0)
		n = 0;
	spool_escape_mem(esc, sizeof esc, raw, (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1,
	    (size_t)n < sizeof raw ? 0 : SPOOL_TEXT_CUT);
	fprintf(stderr, "%s: %s\n", progname, esc);
}

void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx_(fmt, ap);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx_(fmt, ap);
	va_end(ap);
	spool_close(cur);
	exit(code);
}

/* The exit code for a failure with this errno. */
int
excode(int e)
{
	switch (e) {
	case ENOENT:
		return SPOOL_EX_NOTFOUND;
	case EPERM:
	case EBUSY:
		return SPOOL_EX_REFUSED;
	case EAGAIN:
	case ENOSPC:
	case EDQUOT:
	case EROFS:
	case EINTR:
	case ETIMEDOUT:
		return SPOOL_EX_TEMPFAIL;
	case EINVAL:
	case EEXIST:
	case ELOOP:
	case EFBIG:
	case ENOTSUP:
		return SPOOL_EX_DATAERR;
	default:
		return SPOOL_EX_FAIL;
	}
}

/* Open the spool (leniently for check, which reports what strict opening refuses). */
struct spool *
open_spool_flags(int flags)
{
	struct spool_err err;
	struct spool *sp;

	if (spooldir == NULL)
		die(SPOOL_EX_USAGE, "no spool: give -d SPOOL or set SPOOL_DIR");
	if (spool_open(spooldir, flags, &sp, &err) < 0)
		die(errno == ENOENT ? SPOOL_EX_NOTFOUND :
		    errno == EINVAL || errno == EUCLEAN ? SPOOL_EX_CONFIG : excode(errno), "%s",
		    err.msg);
	return cur = sp;
}

struct spool *
open_spool(void)
{
	return open_spool_flags(0);
}

/* An order id from the command line, or a usage error. */
int
id_arg(const char *id)
{
	if (spool_id_ok(id))
		return 1;
	warnx_("'%.80s' is not an order id", id);
	return 0;
}

void
close_spool(void)
{
	spool_close(cur);
	cur = NULL;
}

/* A state by name or by status code. */
int
state_arg(const struct spool_conf *c, const char *s)
{
	char *e;
	long code;
	int i;

	if ((i = spool_conf_state(c, s)) >= 0)
		return i;
	code = strtol(s, &e, 10);
	if (*s >= '0' && *s <= '9' && *e == '\0')
		for (i = 0; i < c->nstates; i++)
			if (c->states[i].code == code)
				return i;
	die(SPOOL_EX_USAGE, "'%s' is not a state of workflow %s", s, c->workflow);
}

/* A time: an ISO date or time, @EPOCH, or a duration back from now ("7d"). */
time_t
time_arg(const char *opt, const char *s, int end_of_day)
{
	time_t t;
	long d;

	if (spool_time_parse(s, &t) == 0)
		return end_of_day && strlen(s) == 10 ? t + 86400 : t;
	/* "7d" is seven days ago; a bare number is too easily a year */
	if (strspn(s, "0123456789") < strlen(s) && spool_duration_parse(s, &d) == 0)
		return time(NULL) - d;
	die(SPOOL_EX_USAGE, "%s: '%s' is not a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, 7d)", opt, s);
}

/* --json, the one option of history, show, stats and workflow; returns optind. */
int
json_flag(int argc, char **argv, int *json)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	int c;

	*json = 0;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1)
		if (c == 'j')
			*json = 1;
		else
			usage();
	return optind;
}

int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct {
	const char *name;
	cmd_fn *fn;
} cmds[] = {
	{ "init", cmd_init }, { "submit", cmd_submit }, { "ls", cmd_ls }, { "show", cmd_show },
	{ "history", cmd_history }, { "mv", cmd_mv }, { "do", cmd_do }, { "rm", cmd_rm },
	{ "check", cmd_check }, { "stats", cmd_stats }, { "workflow", cmd_workflow },
	{ "kick", cmd_kick }, { "outbox", cmd_outbox },
};

int
main(int argc, char **argv)
{
	struct spool *sp;
	size_t i;
	int c, rc;

	spool_domain_init();
	spooldir = getenv("SPOOL_DIR");
	if (spooldir != NULL && spooldir[0] == '\0')
		spooldir = NULL;
	while ((c = getopt(argc, argv, "+d:h")) != -1)
		switch (c) {
		case 'd':
			spooldir = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	spool_admin_actor(who, sizeof who);
	/* GNU getopt starts afresh on the command's own arguments only with optind 0. */
	optind = 0;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			rc = cmds[i].fn(argc, argv);
			if (fflush(stdout) != 0 && rc == 0)
				rc = SPOOL_EX_FAIL;
			return rc;
		}
	/* The workflow's transitions are verbs too: `spoolctl schedule 1001`. */
	sp = open_spool();
	if (spool_conf_transition(spool_conf(sp), argv[0]) < 0)
		die(SPOOL_EX_USAGE, "unknown command '%.80s' (and not a transition of workflow %s)",
		    argv[0], spool_conf(sp)->workflow);
	c = comment_flag(argc, argv);
	rc = run_transition(sp, argv[0], argc, argv, c);
	close_spool();
	return rc;
}
