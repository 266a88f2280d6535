/*
 * The commands that look after the spool itself: init makes one, check finds (and
 * mends) damage, kick asks spoold to rescan.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spoolctl.h"

/* A group by name or by number; a usage error if it is neither. */
static gid_t
group_arg(const char *s)
{
	struct group gr, *g = NULL;
	char buf[4096], *e;
	unsigned long n;

	if (getgrnam_r(s, &gr, buf, sizeof buf, &g) == 0 && g != NULL)
		return g->gr_gid;
	errno = 0;
	n = strtoul(s, &e, 10);
	if (*s >= '0' && *s <= '9' && *e == '\0' && errno == 0 && n < (gid_t)-1)
		return (gid_t)n;
	die(SPOOL_EX_USAGE, "unknown group '%.80s'", s);
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = { { "group", required_argument, NULL, 'g' }, { 0 } };
	struct spool_err err;
	const char *text;
	char name[80], *buf = NULL;
	gid_t group = (gid_t)-1;
	size_t len;
	FILE *f;
	int c;

	while ((c = cmd_getopt(argc, argv, "g:", opts)) != -1)
		if (c == 'g')
			group = group_arg(optarg);
		else
			usage();
	if (argc - optind != 1)
		usage();
	argv += optind - 1;
	if (spooldir == NULL)
		die(SPOOL_EX_USAGE, "no spool: give -d SPOOL or set SPOOL_DIR");
	snprintf(name, sizeof name, "workflows/%.60s.conf", argv[1]);
	if (strchr(argv[1], '/') == NULL && (text = spool_shipped(name, &len)) != NULL) {
		if (spool_init_group(spooldir, name, text, len, group, &err) < 0)
			die(excode(errno), "%s", err.msg);
	} else {
		if ((f = fopen(argv[1], "r")) == NULL)
			die(SPOOL_EX_NOTFOUND, "%s: no such workflow (shipped: print, email, pos): %s",
			    argv[1], strerror(errno));
		if ((buf = malloc(256 * 1024 + 1)) == NULL)
			die(SPOOL_EX_FAIL, "out of memory");
		len = fread(buf, 1, 256 * 1024 + 1, f);
		fclose(f);
		if (len > 256 * 1024)
			die(SPOOL_EX_DATAERR, "%s: over 256 KiB", argv[1]);
		if (spool_init_group(spooldir, argv[1], buf, len, group, &err) < 0)
			die(excode(errno), "%s", err.msg);
		free(buf);
	}
	return 0;
}

struct ckout {
	struct json *j;
	int problems, unrepaired;
};

static void
print_problem(void *arg, const struct spool_problem *p)
{
	struct ckout *o = arg;
	char esc[1024], det[1024];
	const char *rep = p->repaired > 0 ? "repaired" : p->repaired < 0 ? "repair failed" : NULL;

	o->problems++;
	if (p->repaired <= 0)
		o->unrepaired++;
	if (o->j != NULL) {
		json_obj(o->j);
		json_kstr(o->j, "kind", spool_problem_name(p->kind));
		json_kstr(o->j, "id", p->id);
		json_kstr(o->j, "path", p->path);
		json_kstr(o->j, "detail", p->detail);
		json_key(o->j, "repaired");
		json_bool(o->j, p->repaired > 0);
		json_end(o->j, '}');
		return;
	}
	printf("%-15s %s: %s%s%s\n", spool_problem_name(p->kind),
	    spool_escape(esc, sizeof esc, p->path), spool_escape(det, sizeof det, p->detail),
	    rep != NULL ? " -- " : "", rep != NULL ? rep : "");
}

int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = { { "repair", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' }, { 0 } };
	struct spool *sp;
	struct ckout o = { NULL, 0, 0 };
	struct json j;
	int c, json = 0, repair = 0, n;

	while ((c = cmd_getopt(argc, argv, "rj", opts)) != -1)
		if (c == 'r')
			repair = 1;
		else if (c == 'j')
			json = 1;
		else
			usage();
	if (optind != argc)
		usage();
	sp = open_spool_flags(SPOOL_OPEN_LENIENT);
	if (json) {
		json_init(&j, stdout);
		o.j = &j;
		json_obj(&j);
		json_key(&j, "problems");
		json_arr(&j);
	}
	n = spool_check(sp, repair, print_problem, &o);
	if (json) {
		json_end(&j, ']');
		json_kint(&j, "count", o.problems);
		json_kint(&j, "unrepaired", o.unrepaired);
		json_end(&j, '}');
		json_done(&j);
	}
	if (n < 0)
		die(excode(errno), "check of %s failed: %s", spooldir, strerror(errno));
	if (!json && o.problems > 0)
		fprintf(stderr, "%s: %d problem%s, %d not repaired\n", progname, o.problems,
		    o.problems == 1 ? "" : "s", o.unrepaired);
	close_spool();
	return o.unrepaired > 0 ? SPOOL_EX_FAIL : 0;
}

/* Ask spoold for a rescan: it watches run/ for a file named kick. */
int
ring_spoold(struct spool *sp)
{
	return spool_publish(spool_dirfd(sp, SPOOL_DIR_RUN), spool_basename(SPOOL_F_KICK),
	    spool_dirfd(sp, SPOOL_DIR_TMP), "", 0, NULL);
}

int
cmd_kick(int argc, char **argv)
{
	struct spool *sp;

	(void)argv;
	if (argc != 1)
		usage();
	sp = open_spool();
	if (ring_spoold(sp) < 0)
		die(excode(errno), "cannot write %s/%s: %s", spooldir,
		    SPOOL_NAME(SPOOL_F_KICK, NULL), strerror(errno));
	close_spool();
	return 0;
}

