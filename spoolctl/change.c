/*
 * The commands that change orders: submit enters one, mv and do move them (as the
 * admin, within the workflow), rm removes orders or items.  The workflow's
 * transitions used as verbs come here through run_transition.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "order.h"
#include "spoolctl.h"

int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = { { "id", required_argument, NULL, 'i' }, { 0 } };
	char id[SPOOL_ID_MAX + 1];
	const char *want = NULL;
	struct spool_err err;
	struct spool *sp;
	int c, r;

	while ((c = cmd_getopt(argc, argv, "i:", opts)) != -1)
		if (c == 'i')
			want = optarg;
		else
			usage();
	if (optind != argc - 1)
		usage();
	if (want != NULL && !id_arg(want))
		return SPOOL_EX_USAGE;
	sp = open_spool();
	r = spool_submit(sp, AT_FDCWD, argv[optind], want, who, id, NULL, &err);
	if (r < 0) {
		warnx_("%s", err.msg);
		r = excode(errno);
	} else
		printf("%s\n", id);
	close_spool();
	return r;
}

static const char *comment_opt;
static int tell_opt;    /* --tell-customer: the comment is for the customer too */

/* Parse -m COMMENT and --tell-customer anywhere; leaves the operands in argv[optind..]. */
int
comment_flag(int argc, char **argv)
{
	static const struct option opts[] = { { "tell-customer", no_argument, NULL, 't' },
		{ 0 } };
	int c;

	comment_opt = NULL;
	tell_opt = 0;
	while ((c = cmd_getopt(argc, argv, "m:", opts)) != -1)
		if (c == 'm')
			comment_opt = optarg;
		else if (c == 't')
			tell_opt = 1;
		else
			usage();
	if (tell_opt && (comment_opt == NULL || comment_opt[0] == '\0'))
		die(SPOOL_EX_USAGE, "--tell-customer needs -m COMMENT");
	return optind;
}

/*
 * Before a move: say in orders/<id>/tell whether its comment is for the customer, or
 * remove what an earlier move left there.  A missing order is the move's to report.
 */
static int
tell(struct spool *sp, const char *id, int to)
{
	struct spool_err err;

	if (spool_mail_tell_put(sp, id, spool_conf(sp)->states[to].name,
	    tell_opt ? comment_opt : NULL, &err) == 0 || errno == ENOENT)
		return 0;
	warnx_("%s", err.msg);
	return excode(errno);
}

/* Move one order; returns its exit code. */
static int
move_one(struct spool *sp, const char *id, int to, int from_mask_transition)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = who, .check = 1 };
	struct spool_err err;
	int from = -1, r;

	m.comment = comment_opt;
	if (!id_arg(id))
		return SPOOL_EX_USAGE;
	if (from_mask_transition >= 0 &&
	    order_transition_check(sp, id, from_mask_transition, &from, &err) < 0) {
		warnx_("%s", err.msg);
		return errno == ENOENT ? SPOOL_EX_NOTFOUND : errno == EUCLEAN ? SPOOL_EX_DATAERR :
		    SPOOL_EX_REFUSED;
	}
	if ((r = tell(sp, id, to)) != 0)
		return r;
	if (spool_move(sp, id, from, to, &m, &err) < 0) {
		if (errno == EALREADY) {
			warnx_("%s", err.msg);
			return 0;
		}
		warnx_("%s", err.msg);
		return excode(errno);
	}
	return 0;
}

int
cmd_mv(int argc, char **argv)
{
	struct spool *sp;
	int i, to, r, rc = 0;

	i = comment_flag(argc, argv);
	if (argc - i < 2)
		usage();
	sp = open_spool();
	to = state_arg(spool_conf(sp), argv[argc - 1]);
	for (; i < argc - 1; i++)
		if ((r = move_one(sp, argv[i], to, -1)) != 0 && rc == 0)
			rc = r;
	close_spool();
	return rc;
}

int
run_transition(struct spool *sp, const char *name, int argc, char **argv, int i)
{
	const struct spool_conf *conf = spool_conf(sp);
	int t, r, rc = 0;

	if ((t = spool_conf_transition(conf, name)) < 0)
		die(SPOOL_EX_USAGE, "'%s' is not a transition of workflow %s", name, conf->workflow);
	if (i >= argc)
		usage();
	for (; i < argc; i++)
		if ((r = move_one(sp, argv[i], conf->transitions[t].to, t)) != 0 && rc == 0)
			rc = r;
	return rc;
}

int
cmd_do(int argc, char **argv)
{
	struct spool *sp;
	int i, rc;

	i = comment_flag(argc, argv);
	if (argc - i < 2)
		usage();
	sp = open_spool();
	rc = run_transition(sp, argv[i], argc, argv, i + 1);
	close_spool();
	return rc;
}

int
cmd_rm(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	int i, r, rc = 0;

	i = comment_flag(argc, argv);
	if (i >= argc || tell_opt)
		usage();
	sp = open_spool();
	for (; i < argc; i++) {
		char *item = strchr(argv[i], '/');

		/* ID/ITEM: the item's PDFs, everywhere; the order stays */
		if (item != NULL)
			*item++ = '\0';
		if (!id_arg(argv[i]) || (item != NULL && !id_arg(item)))
			r = SPOOL_EX_USAGE;
		else if ((item != NULL ?
		    spool_item_remove(sp, argv[i], item, SPOOL_ACTOR_ADMIN, who, &err) :
		    spool_remove(sp, argv[i], SPOOL_ACTOR_ADMIN, who, comment_opt, &err)) < 0) {
			warnx_("%s", err.msg);
			r = excode(errno);
		} else
			r = 0;
		if (rc == 0)
			rc = r;
	}
	close_spool();
	return rc;
}

