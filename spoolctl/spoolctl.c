/*
 * spoolctl: the admin's tool.  It works on the spool's tree directly, with or without
 * spoold running, through libspool; everything it knows about the format it asks the
 * library.  It prints one line per error ("spoolctl: ID: what and why") and exits
 * with the codes of spoolctl(1), so scripts can rely on them.
 *
 * This file: main, the usage, the command table, the messages, the exit code for an
 * errno, opening the spool, and the arguments several commands share.  The commands
 * live by concern: list.c (ls, stats, workflow), show.c (show, history), change.c
 * (submit, mv, do, rm), upkeep.c (init, check, kick), outbox.c and user.c.
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

/*
 * The commands and their help: a synopsis line each for `spoolctl --help`, and a few
 * lines more for `spoolctl help CMD` and `spoolctl CMD --help`.  spoolctl(1) says the
 * same at length.
 */
static const struct cmd {
	const char *name;
	cmd_fn *fn;
	const char *synopsis;
	const char *text;
} cmds[] = {
	{ "init", cmd_init, "init WORKFLOW [--group GROUP]",
	    "Make a spool at -d SPOOL from a shipped workflow (print, email, pos) or a\n"
	    "spool.conf file.  --group: the group that shares it (default: yours).\n" },
	{ "submit", cmd_submit, "submit BUNDLE... [--id ID]",
	    "Check bundle folders (order.xml, items/) and enter them; prints each order's id.\n"
	    "While spoold runs, it takes them over its socket and commits them together.\n"
	    "--id: the id to give it (one bundle), instead of order.xml's.\n" },
	{ "ls", cmd_ls, "ls [--state S] [--since D] [--until D] [--search TEXT] [-l] [--json]",
	    "List orders: id, state, placed.  --state may repeat; dates are YYYY-MM-DD,\n"
	    "a UTC time, or a duration back from now (7d); --search looks in the id,\n"
	    "customer and email; -l adds the customer and the time in the state.\n" },
	{ "show", cmd_show, "show ID [--json]",
	    "One order: its state, items, attempts, files, jobs and history.\n" },
	{ "history", cmd_history, "history ID [--json]", "An order's history lines.\n" },
	{ "mv", cmd_mv, "mv ID... STATE [-m COMMENT [--tell-customer]]",
	    "Move orders to STATE (a name or a status code), if the workflow lets the\n"
	    "admin.  -m: a comment for the history, which reaches the customer's mail\n"
	    "only with --tell-customer.\n" },
	{ "do", cmd_do, "do TRANSITION ID... [-m COMMENT [--tell-customer]]",
	    "Take a named transition of the workflow (also: spoolctl TRANSITION ID...).\n"
	    "-m and --tell-customer as for mv.\n" },
	{ "rm", cmd_rm, "rm ID[/ITEM]... [-m COMMENT]",
	    "Remove orders, or single items, with their PDFs everywhere, the hot folders\n"
	    "included.  -m: a comment for the history.\n" },
	{ "check", cmd_check, "check [--repair] [--json]",
	    "Find damage (an order in two states, a missing status, stray files, modes);\n"
	    "--repair mends what has one right answer and reports the rest.\n" },
	{ "stats", cmd_stats, "stats [--json]", "Count and oldest age per state.\n" },
	{ "workflow", cmd_workflow, "workflow [--json]",
	    "The states and transitions of this spool's workflow.\n" },
	{ "kick", cmd_kick, "kick", "Ask spoold to rescan the spool now.\n" },
	{ "status", cmd_status, "status [--json]",
	    "Who runs the spool: the leader, and on a shared spool each node with its\n"
	    "last heartbeat and the orders it has claimed.\n" },
	{ "outbox", cmd_outbox,
	    "outbox [ls [--json] | retry NAME... | purge [--failed|--all] [--older DURATION]]",
	    "The spooled mails: ls shows new (with the due time), sent and failed; retry\n"
	    "sends a failed or deferred mail again now; purge deletes sent mails (with\n"
	    "--failed the failed ones, with --all both), older than --older if given.\n" },
	{ "user", cmd_user,
	    "user add NAME --role admin|printer [--queue QUEUE]... | passwd NAME | del NAME | "
	    "ls [--json]",
	    "The users of the web back office (web/users): add one, an admin or a printer\n"
	    "that sees only its --queue QUEUEs (the [queue NAME]s of spool.conf); passwd\n"
	    "sets a password read from stdin, or asked twice on a terminal; del removes\n"
	    "one; ls lists them, and whether each has a password.\n" },
	{ "help", NULL, "help [COMMAND]", "This help, or a command's.\n" },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static const struct cmd *curcmd;   /* the command being run, for its usage line */

static const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* --help: the whole list, or one command's, on stdout. */
static int
help(const struct cmd *c)
{
	size_t i;

	if (c != NULL) {
		printf("usage: spoolctl [-d SPOOL] %s\n\n%s", c->synopsis, c->text);
		return 0;
	}
	printf("usage: spoolctl [-d SPOOL] COMMAND [ARGS]\n"
	    "       spoolctl [-d SPOOL] TRANSITION ID... [-m COMMENT]\n"
	    "       spoolctl --help | --version\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %s\n", cmds[i].synopsis);
	printf("\nA workflow's transitions are commands too.  SPOOL defaults to $SPOOL_DIR.\n"
	    "spoolctl help COMMAND says more of one; spoolctl(1) says it all.\n");
	return 0;
}

void
usage(void)
{
	if (curcmd != NULL)
		die(SPOOL_EX_USAGE, "usage: spoolctl %s (see spoolctl help %s)", curcmd->synopsis,
		    curcmd->name);
	die(SPOOL_EX_USAGE, "usage: spoolctl [-d SPOOL] COMMAND [ARGS] (see spoolctl --help)");
}

int
cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs)
{
	char spec[32];
	int c;

	opterr = 0;
	snprintf(spec, sizeof spec, ":%s", shorts);
	c = getopt_long(argc, argv, spec, longs != NULL ? longs : (const struct option[]){ { 0 } },
	    NULL);
	if (c == '?' && optopt != 0)
		die(SPOOL_EX_USAGE, "%s: unknown option '-%c' (see spoolctl help %s)", argv[0],
		    optopt, argv[0]);
	if (c == '?')
		die(SPOOL_EX_USAGE, "%s: unknown option '%s' (see spoolctl help %s)", argv[0],
		    argv[optind - 1], argv[0]);
	if (c == ':')
		die(SPOOL_EX_USAGE, "%s: option '%s' needs a value", argv[0], argv[optind - 1]);
	return c;
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
	while ((c = cmd_getopt(argc, argv, "j", opts)) != -1)
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


/* Whether a command's arguments ask for its help (before a "--"). */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* spoolctl's own options, before the command; returns the command's index in argv. */
static int
main_opts(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { 0 } };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:hV", opts, NULL)) != -1)
		switch (c) {
		case 'd':
			spooldir = optarg;
			break;
		case 'h':
			exit(help(NULL));
		case 'V':
			printf("spoolctl %s\n", SPOOL_VERSION);
			exit(0);
		case ':':
			die(SPOOL_EX_USAGE, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				die(SPOOL_EX_USAGE, "unknown option '-%c' (see spoolctl --help)", optopt);
			die(SPOOL_EX_USAGE, "unknown option '%s' (see spoolctl --help)",
			    argv[optind - 1]);
		}
	return optind;
}

int
main(int argc, char **argv)
{
	struct spool *sp;
	int c, rc;

	spool_domain_init();
	spooldir = getenv("SPOOL_DIR");
	if (spooldir != NULL && spooldir[0] == '\0')
		spooldir = NULL;
	c = main_opts(argc, argv);
	argc -= c;
	argv += c;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "help") == 0) {
		if (argc > 2 || (argc == 2 && (curcmd = cmd_find(argv[1])) == NULL))
			die(SPOOL_EX_USAGE, "help: unknown command '%.80s' (see spoolctl --help)",
			    argv[1]);
		return help(curcmd);
	}
	curcmd = cmd_find(argv[0]);
	if (wants_help(argc, argv))
		return help(curcmd != NULL ? curcmd : cmd_find("do"));
	spool_admin_actor(who, sizeof who);
	/* GNU getopt starts afresh on the command's own arguments only with optind 0. */
	optind = 0;
	if (curcmd != NULL) {
		rc = curcmd->fn(argc, argv);
		if (fflush(stdout) != 0 && rc == 0)
			rc = SPOOL_EX_FAIL;
		return rc;
	}
	/* The workflow's transitions are verbs too: `spoolctl schedule 1001`. */
	sp = open_spool();
	if (spool_conf_transition(spool_conf(sp), argv[0]) < 0)
		die(SPOOL_EX_USAGE, "unknown command '%.80s' (and not a transition of workflow %s)",
		    argv[0], spool_conf(sp)->workflow);
	curcmd = cmd_find("do");
	c = comment_flag(argc, argv);
	rc = run_transition(sp, argv[0], argc, argv, c);
	close_spool();
	return rc;
}
