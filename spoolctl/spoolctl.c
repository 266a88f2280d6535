/*
 * spoolctl: the admin's tool.  It works on the spool's tree directly, with or without
 * spoold running, through libspool; everything it knows about the format it asks the
 * library.  It prints one line per error ("spoolctl: ID: what and why") and exits
 * with the codes of spoolctl(1), so scripts can rely on them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "spool.h"

static const char *progname = "spoolctl";
static const char *spooldir;
static struct spool *cur;   /* the open spool, closed by die() */
static char who[SPOOL_FIELD_MAX];

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: spoolctl [-d SPOOL] COMMAND [ARGS]\n"
	    "  init WORKFLOW [--group GROUP]     make a spool (print, email, pos, or a file)\n"
	    "  submit BUNDLE [--id ID]           check a bundle and enter it; prints the id\n"
	    "  ls [--state S] [--since D] [--until D] [--search TEXT] [-l] [--json]\n"
	    "  show ID [--json]                  an order: state, items, attempts, files, history\n"
	    "  history ID [--json]\n"
	    "  mv ID... STATE [-m COMMENT]       move, if the workflow lets the admin\n"
	    "  do TRANSITION ID... [-m COMMENT]  take a named transition (or: TRANSITION ID...)\n"
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

static void
warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx_(fmt, ap);
	va_end(ap);
}

static void
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void
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
static int
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
static struct spool *
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

static struct spool *
open_spool(void)
{
	return open_spool_flags(0);
}

/* An order id from the command line, or a usage error. */
static int
id_arg(const char *id)
{
	if (spool_id_ok(id))
		return 1;
	warnx_("'%.80s' is not an order id", id);
	return 0;
}

static void
close_spool(void)
{
	spool_close(cur);
	cur = NULL;
}

/* A state by name or by status code. */
static int
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
static time_t
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

static char *
tfmt(time_t t, char *buf, size_t len)
{
	return t == 0 ? strcpy(buf, "-") : spool_time_fmt(t, buf, len);
}

/* "3d4h", "12m", "40s": an age a person can read. */
static char *
age(long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%ldd%ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%ldh%ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
	return buf;
}

/* ---- init, submit ---------------------------------------------------------- */

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

static int
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

	while ((c = getopt_long(argc, argv, "g:", opts, NULL)) != -1)
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

static int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = { { "id", required_argument, NULL, 'i' }, { 0 } };
	char id[SPOOL_ID_MAX + 1];
	const char *want = NULL;
	struct spool_err err;
	struct spool *sp;
	int c, r;

	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1)
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

/* ---- ls ------------------------------------------------------------------ */

struct row {
	char id[SPOOL_ID_MAX + 1];
	int state;
	time_t placed, since;
};

struct ls {
	struct spool *sp;
	time_t since, until;
	int has_since, has_until;
	struct row *rows;
	size_t n, cap;
};

static int
ls_add(void *arg, const struct spool_ent *e)
{
	struct ls *l = arg;
	struct row *r;

	if ((l->has_since && e->placed.tv_sec < l->since) ||
	    (l->has_until && e->placed.tv_sec >= l->until))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		if ((r = realloc(l->rows, cap * sizeof *r)) == NULL)
			die(SPOOL_EX_TEMPFAIL, "out of memory");
		l->rows = r;
		l->cap = cap;
	}
	r = &l->rows[l->n++];
	memcpy(r->id, e->id, strlen(e->id) + 1);
	r->state = e->state;
	r->placed = e->placed.tv_sec;
	r->since = e->since.tv_sec;
	return 0;
}

static int
by_placed(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->placed != y->placed)
		return x->placed < y->placed ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Case-insensitive substring search for --search. */
static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' }, { "search", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' }, { "long", no_argument, NULL, 'l' }, { 0 }
	};
	const char *search = NULL;
	struct ls l = { 0 };
	const struct spool_conf *conf;
	uint64_t mask = 0;
	struct json j;
	char *states[SPOOL_STATES_MAX];
	int c, nstates = 0, json = 0, lng = 0, i;
	size_t k;

	while ((c = getopt_long(argc, argv, "s:S:U:q:jl", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nstates == SPOOL_STATES_MAX)
				usage();
			states[nstates++] = optarg;
			break;
		case 'S':
			l.since = time_arg("--since", optarg, 0);
			l.has_since = 1;
			break;
		case 'U':
			l.until = time_arg("--until", optarg, 1);
			l.has_until = 1;
			break;
		case 'q':
			search = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'l':
			lng = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	l.sp = open_spool();
	conf = spool_conf(l.sp);
	for (i = 0; i < nstates; i++)
		mask |= (uint64_t)1 << state_arg(conf, states[i]);
	if (spool_walk(l.sp, mask, 1, ls_add, &l) < 0)
		die(excode(errno), "cannot read %s/state: %s", spooldir, strerror(errno));
	qsort(l.rows, l.n, sizeof *l.rows, by_placed);
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (k = 0; k < l.n; k++) {
		const struct row *r = &l.rows[k];
		const struct spool_state *s = &conf->states[r->state];
		struct spool_order o;
		char t1[32], t2[32], cust[SPOOL_FIELD_MAX * 4 + 4];
		int have = 0;

		if (search != NULL || lng) {
			have = spool_order_read(l.sp, r->id, r->state, &o, NULL) == 0;
			if (search != NULL && !contains(r->id, search) &&
			    !(have && (contains(o.customer, search) || contains(o.email, search))))
				continue;
		}
		if (json) {
			json_obj(&j);
			json_kstr(&j, "id", r->id);
			json_kstr(&j, "state", s->name);
			json_key(&j, "code");
			if (s->code >= 0)
				json_int(&j, s->code);
			else
				json_null(&j);
			json_kstr(&j, "placed", spool_time_fmt(r->placed, t1, sizeof t1));
			json_kstr(&j, "since", spool_time_fmt(r->since, t2, sizeof t2));
			if (have) {
				json_kstr(&j, "customer", o.customer);
				json_kstr(&j, "email", o.email);
			}
			json_end(&j, '}');
			continue;
		}
		printf("%-20s %-18s %s", r->id, s->name, spool_time_fmt(r->placed, t1, sizeof t1));
		if (lng)
			printf("  %s  %s", spool_time_fmt(r->since, t2, sizeof t2),
			    have ? spool_escape(cust, sizeof cust, o.customer) : "?");
		putchar('\n');
	}
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	}
	free(l.rows);
	close_spool();
	return fflush(stdout) == 0 ? 0 : SPOOL_EX_FAIL;
}

/* ---- show, history ----------------------------------------------------------- */

struct hist {
	struct json *j;
	int n;
};

static int
print_event(void *arg, const struct spool_event *ev)
{
	struct hist *h = arg;
	char t[32], c[sizeof ev->comment * 4], a[SPOOL_FIELD_MAX * 4];

	spool_time_fmt(ev->time, t, sizeof t);
	h->n++;
	if (h->j != NULL) {
		json_obj(h->j);
		json_kstr(h->j, "time", t);
		json_kstr(h->j, "actor", ev->actor);
		json_kstr(h->j, "from", ev->from[0] ? ev->from : NULL);
		json_kstr(h->j, "to", ev->to[0] ? ev->to : NULL);
		json_kstr(h->j, "comment", ev->comment);
		json_end(h->j, '}');
		return 0;
	}
	printf("%s  %-16s %s -> %s%s%s\n", t, spool_escape(a, sizeof a, ev->actor),
	    ev->from[0] ? ev->from : "-", ev->to[0] ? ev->to : "-", ev->comment[0] ? "  " : "",
	    spool_escape(c, sizeof c, ev->comment));
	return 0;
}

static int
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

/* Locate id or exit with "no such order" (or a note on a damaged spool). */
static int
must_locate(struct spool *sp, const char *id)
{
	int state, n;

	if (!spool_id_ok(id))
		die(SPOOL_EX_USAGE, "'%.80s' is not an order id", id);
	if ((n = spool_locate(sp, id, &state)) == 0)
		die(SPOOL_EX_NOTFOUND, "%s: no such order", id);
	if (n > 1)
		warnx_("%s: is in %d states (run spoolctl check)", id, n);
	return state;
}

static int
cmd_history(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	struct json j;
	struct hist h = { NULL, 0 };
	int json, i, bad;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	sp = open_spool();
	must_locate(sp, argv[i]);
	if (json) {
		json_init(&j, stdout);
		h.j = &j;
		json_arr(&j);
	}
	bad = spool_history_read(sp, argv[i], print_event, &h, &err);
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	}
	if (bad != 0)
		warnx_("%s", err.msg);
	close_spool();
	return bad < 0 ? excode(errno) : 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the files of orders/<id>/, recursively and sorted, with their sizes. */
static void
list_files(int at, const char *prefix, struct json *j, int depth)
{
	char **names = NULL, **nn, path[512];
	struct dirent *de;
	struct stat st;
	size_t n = 0, i;
	DIR *d;
	int fd;

	if (depth > 4 || (fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof *names)) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, by_name);
	for (i = 0; i < n; i++) {
		const char *nm = names[i];

		if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(path, sizeof path, "%s%.255s", prefix, nm);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char pre[512];

			snprintf(pre, sizeof pre, "%.400s/", path);
			if (sub >= 0) {
				list_files(sub, pre, j, depth + 1);
				close(sub);
			}
		} else if (j != NULL) {
			json_obj(j);
			json_kstr(j, "path", path);
			json_kint(j, "size", (long long)st.st_size);
			json_end(j, '}');
		} else {
			char esc[1024];
			printf("  %-40s %10lld\n", spool_escape(esc, sizeof esc, path),
			    (long long)st.st_size);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

/* orders/<id>/error: what the last failing handler wrote to stderr (at most 4 KiB). */
static void
error_output(int pfd, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if (pfd < 0 || (fd = openat(pfd, "error", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static int
cmd_show(int argc, char **argv)
{
	const struct spool_conf *conf;
	const struct spool_state *s;
	struct spool_item *items = NULL;
	struct spool_status st;
	struct spool_pjobs js = { 0, NULL, 0 };
	struct spool_order o;
	struct spool_err err;
	struct spool *sp;
	struct json j;
	struct hist h = { NULL, 0 };
	char t1[32], t2[32], t3[32], esc[4 * 4096 + 4], output[4097];
	const char *id;
	int json, i, state, nitems = 0, pfd, r = 0;

	i = json_flag(argc, argv, &json);
	if (i != argc - 1)
		usage();
	id = argv[i];
	sp = open_spool();
	conf = spool_conf(sp);
	state = must_locate(sp, id);
	s = &conf->states[state];
	if (spool_order_read(sp, id, state, &o, &err) < 0)
		die(SPOOL_EX_DATAERR, "%s", err.msg);
	if (spool_status_read(sp, id, &st, &err) < 0) {
		warnx_("%s", err.msg);
		memset(&st, 0, sizeof st);
	}
	/* Attempts and the last error are about the order's life; a due time, its visit. */
	if (strcmp(st.state, s->name) != 0)
		st.due = 0;
	if (spool_items_read(sp, id, &items, &nitems, &err) < 0)
		warnx_("%s", err.msg);
	pfd = openat(spool_dirfd(sp, SPOOL_DIR_ORDERS), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	error_output(pfd, output, sizeof output);
	/* its print jobs, and what their printers last said */
	if (spool_pjobs_read(sp, id, &js, &err) < 0)
		warnx_("%s", err.msg);
	if (json) {
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "id", o.id);
		json_kstr(&j, "state", s->name);
		json_kstr(&j, "display", s->display);
		json_key(&j, "code");
		if (s->code >= 0)
			json_int(&j, s->code);
		else
			json_null(&j);
		json_kstr(&j, "workflow", o.workflow);
		json_kstr(&j, "placed", spool_time_fmt(o.placed, t1, sizeof t1));
		json_kstr(&j, "submitted", spool_time_fmt(o.submitted, t2, sizeof t2));
		json_kstr(&j, "customer", o.customer);
		json_kstr(&j, "email", o.email);
		json_kstr(&j, "payment", o.payment == SPOOL_DELAYED ? "delayed" : "paid");
		json_kint(&j, "attempts", st.attempts);
		json_kstr(&j, "due", st.due ? spool_time_fmt(st.due, t3, sizeof t3) : NULL);
		json_kstr(&j, "last_error", st.error[0] ? st.error : NULL);
		json_kstr(&j, "error_output", output[0] ? output : NULL);
		json_key(&j, "items");
		json_arr(&j);
		for (i = 0; i < nitems; i++) {
			json_obj(&j);
			json_kstr(&j, "id", items[i].id);
			json_kstr(&j, "product", items[i].product);
			json_kstr(&j, "title", items[i].title);
			json_kint(&j, "quantity", items[i].quantity);
			json_kint(&j, "pages", items[i].pages);
			json_key(&j, "upload");
			if (items[i].has_upload)
				json_str(&j, items[i].complete ? "complete" : "incomplete");
			else
				json_null(&j);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_key(&j, "jobs");
		json_arr(&j);
		for (i = 0; i < js.n; i++) {
			json_obj(&j);
			json_kstr(&j, "name", js.v[i].name);
			json_kstr(&j, "queue", js.v[i].queue >= 0 ? conf->queues[js.v[i].queue].name : NULL);
			json_kstr(&j, "item", js.v[i].item);
			json_kint(&j, "status", js.v[i].status);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_key(&j, "files");
		json_arr(&j);
		if (pfd >= 0)
			list_files(pfd, "", &j, 0);
		json_end(&j, ']');
		json_key(&j, "history");
		json_arr(&j);
		h.j = &j;
	} else {
		printf("order      %s\n", o.id);
		printf("state      %s (%s", s->name, spool_escape(esc, sizeof esc, s->display));
		if (s->code >= 0)
			printf(", code %d", s->code);
		printf(")\nworkflow   %s\n", o.workflow);
		printf("placed     %s\n", spool_time_fmt(o.placed, t1, sizeof t1));
		printf("submitted  %s\n", spool_time_fmt(o.submitted, t2, sizeof t2));
		printf("customer   %s", spool_escape(esc, sizeof esc, o.customer));
		printf(" <%s>\n", spool_escape(esc, sizeof esc, o.email));
		printf("payment    %s\n", o.payment == SPOOL_DELAYED ? "delayed" : "paid");
		printf("attempts   %d\n", st.attempts);
		printf("due        %s\n", tfmt(st.due, t3, sizeof t3));
		printf("last error %s\n", st.error[0] ? spool_escape(esc, sizeof esc, st.error) : "-");
		if (output[0] != '\0') {
			char *line, *save = NULL;
			for (line = strtok_r(output, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save))
				printf("  | %s\n", spool_escape(esc, sizeof esc, line));
		}
		printf("items\n");
		for (i = 0; i < nitems; i++) {
			printf("  %-12s %-24s x%d", items[i].id,
			    spool_escape(esc, sizeof esc, items[i].product), items[i].quantity);
			if (items[i].has_upload)
				printf("  %d pages%s", items[i].pages,
				    items[i].complete ? "" : " (upload incomplete)");
			if (items[i].title[0])
				printf("  \"%s\"", spool_escape(esc, sizeof esc, items[i].title));
			putchar('\n');
		}
		if (js.n > 0)
			printf("jobs\n");
		for (i = 0; i < js.n; i++) {
			const char *sn = spool_job_status_name(js.v[i].status);
			printf("  %-30s queue %-12s item %-8s %s (%d)\n", js.v[i].name,
			    js.v[i].queue >= 0 ? conf->queues[js.v[i].queue].name : "-", js.v[i].item,
			    js.v[i].status == 0 ? "not published yet" : sn != NULL ? sn : "?",
			    js.v[i].status);
		}
		printf("files\n");
		if (pfd >= 0)
			list_files(pfd, "", NULL, 0);
		printf("history\n");
	}
	if (spool_history_read(sp, id, print_event, &h, &err) != 0)
		warnx_("%s", err.msg);
	if (json) {
		json_end(&j, ']');
		json_end(&j, '}');
		json_done(&j);
	}
	if (pfd >= 0)
		close(pfd);
	spool_pjobs_free(&js);
	free(items);
	close_spool();
	return r;
}

/* ---- mv, do, rm ------------------------------------------------------------- */

static const char *comment_opt;

/* Parse -m COMMENT anywhere; leaves the operands in argv[optind..]. */
static int
comment_flag(int argc, char **argv)
{
	int c;

	comment_opt = NULL;
	while ((c = getopt(argc, argv, "m:")) != -1)
		if (c == 'm')
			comment_opt = optarg;
		else
			usage();
	return optind;
}

/* Move one order; returns its exit code. */
static int
move_one(struct spool *sp, const char *id, int to, int from_mask_transition)
{
	const struct spool_conf *conf = spool_conf(sp);
	struct spool_move m = { .actor = SPOOL_ACTOR_ADMIN, .who = who, .check = 1 };
	struct spool_err err;
	int from = -1;

	m.comment = comment_opt;
	if (!id_arg(id))
		return SPOOL_EX_USAGE;
	if (from_mask_transition >= 0) {
		const struct spool_transition *t = &conf->transitions[from_mask_transition];
		int n;

		if ((n = spool_locate(sp, id, &from)) <= 0) {
			warnx_("%s: no such order", id);
			return SPOOL_EX_NOTFOUND;
		}
		if (n > 1) {
			warnx_("%s: is in %d states; left alone (run spoolctl check)", id, n);
			return SPOOL_EX_DATAERR;
		}
		if (conf->states[from].locked) {
			warnx_("%s: locked while in %s", id, conf->states[from].name);
			return SPOOL_EX_REFUSED;
		}
		if (!(t->from & ((uint64_t)1 << from))) {
			warnx_("%s: transition '%s' does not start from %s", id, t->name,
			    conf->states[from].name);
			return SPOOL_EX_REFUSED;
		}
		if (!(t->actors & SPOOL_ACTOR_ADMIN)) {
			warnx_("%s: transition '%s' is not the admin's to make", id, t->name);
			return SPOOL_EX_REFUSED;
		}
	}
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

static int
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

static int
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

static int
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

static int
cmd_rm(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	int i, rc = 0;

	i = comment_flag(argc, argv);
	if (i >= argc)
		usage();
	sp = open_spool();
	for (; i < argc; i++) {
		char *item = strchr(argv[i], '/');

		if (item != NULL) {
			/* ID/ITEM: the item's PDFs, everywhere; the order stays */
			*item++ = '\0';
			if (!id_arg(argv[i]) || !id_arg(item)) {
				if (rc == 0)
					rc = SPOOL_EX_USAGE;
			} else if (spool_item_remove(sp, argv[i], item, SPOOL_ACTOR_ADMIN, who, &err) < 0) {
				warnx_("%s", err.msg);
				if (rc == 0)
					rc = excode(errno);
			}
			continue;
		}
		if (!id_arg(argv[i])) {
			if (rc == 0)
				rc = SPOOL_EX_USAGE;
		} else if (spool_remove(sp, argv[i], SPOOL_ACTOR_ADMIN, who, comment_opt, &err) < 0) {
			warnx_("%s", err.msg);
			if (rc == 0)
				rc = excode(errno);
		}
	}
	close_spool();
	return rc;
}

/* ---- check, stats, workflow ----------------------------------------------------- */

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

static int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = { { "repair", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' }, { 0 } };
	struct spool *sp;
	struct ckout o = { NULL, 0, 0 };
	struct json j;
	int c, json = 0, repair = 0, n;

	while ((c = getopt_long(argc, argv, "rj", opts, NULL)) != -1)
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

struct stat_row {
	long count;
	time_t oldest, longest;
};

static int
stats_add(void *arg, const struct spool_ent *e)
{
	struct stat_row *r = &((struct stat_row *)arg)[e->state];

	if (r->count++ == 0 || e->placed.tv_sec < r->oldest)
		r->oldest = e->placed.tv_sec;
	if (r->count == 1 || e->since.tv_sec < r->longest)
		r->longest = e->since.tv_sec;
	return 0;
}

static int
cmd_stats(int argc, char **argv)
{
	struct stat_row rows[SPOOL_STATES_MAX];
	const struct spool_conf *conf;
	struct spool *sp;
	struct json j;
	char code[16], a1[32], a2[32];
	time_t now = time(NULL);
	long total = 0;
	int json, i;

	if (json_flag(argc, argv, &json) != argc)
		usage();
	sp = open_spool();
	conf = spool_conf(sp);
	memset(rows, 0, sizeof rows);
	if (spool_walk(sp, 0, 1, stats_add, rows) < 0)
		die(excode(errno), "cannot read %s/state: %s", spooldir, strerror(errno));
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	} else
		printf("%-20s %5s %9s %10s %10s\n", "STATE", "CODE", "COUNT", "OLDEST", "WAITING");
	for (i = 0; i < conf->nstates; i++) {
		const struct spool_state *s = &conf->states[i];
		struct stat_row *r = &rows[i];

		total += r->count;
		if (json) {
			json_obj(&j);
			json_kstr(&j, "state", s->name);
			json_key(&j, "code");
			if (s->code >= 0)
				json_int(&j, s->code);
			else
				json_null(&j);
			json_kint(&j, "count", r->count);
			json_key(&j, "oldest_age");
			if (r->count)
				json_int(&j, (long long)(now - r->oldest));
			else
				json_null(&j);
			json_key(&j, "longest_wait");
			if (r->count)
				json_int(&j, (long long)(now - r->longest));
			else
				json_null(&j);
			json_end(&j, '}');
			continue;
		}
		snprintf(code, sizeof code, "%d", s->code);
		printf("%-20s %5s %9ld %10s", s->name, s->code >= 0 ? code : "-", r->count,
		    r->count ? age((long)(now - r->oldest), a1, sizeof a1) : "-");
		printf(" %10s\n", r->count ? age((long)(now - r->longest), a2, sizeof a2) : "-");
	}
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	} else
		printf("%-20s %5s %9ld\n", "total", "", total);
	close_spool();
	return fflush(stdout) == 0 ? 0 : SPOOL_EX_FAIL;
}

static int
cmd_workflow(int argc, char **argv)
{
	const struct spool_conf *conf;
	struct spool *sp;
	struct json j;
	char esc[SPOOL_FIELD_MAX * 4];
	int json, i, k;
	unsigned a;

	if (json_flag(argc, argv, &json) != argc)
		usage();
	sp = open_spool();
	conf = spool_conf(sp);
	if (json) {
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "workflow", conf->workflow);
		json_key(&j, "states");
		json_arr(&j);
		for (i = 0; i < conf->nstates; i++) {
			json_obj(&j);
			json_kstr(&j, "name", conf->states[i].name);
			json_kstr(&j, "display", conf->states[i].display);
			json_key(&j, "code");
			if (conf->states[i].code >= 0)
				json_int(&j, conf->states[i].code);
			else
				json_null(&j);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_key(&j, "transitions");
		json_arr(&j);
	} else {
		printf("workflow %s\nstates\n", conf->workflow);
		for (i = 0; i < conf->nstates; i++) {
			const struct spool_state *s = &conf->states[i];
			printf("  %-20s", s->name);
			if (s->code >= 0)
				printf(" %3d", s->code);
			else
				printf("    ");
			printf("  %s%s\n", spool_escape(esc, sizeof esc, s->display),
			    s->final ? " (final)" : "");
		}
		printf("transitions\n");
	}
	for (i = 0; i < conf->ntransitions; i++) {
		const struct spool_transition *t = &conf->transitions[i];

		if (json) {
			json_obj(&j);
			json_kstr(&j, "name", t->name);
			json_key(&j, "from");
			json_arr(&j);
		} else
			printf("  %-20s", t->name);
		for (k = 0; k < conf->nstates; k++)
			if (t->from & ((uint64_t)1 << k)) {
				if (json)
					json_str(&j, conf->states[k].name);
				else
					printf(" %s", conf->states[k].name);
			}
		if (json) {
			json_end(&j, ']');
			json_kstr(&j, "to", conf->states[t->to].name);
			json_key(&j, "actors");
			json_arr(&j);
		} else
			printf(" -> %s  (", conf->states[t->to].name);
		for (a = 1, k = 0; a <= SPOOL_ACTOR_STORE; a <<= 1)
			if (t->actors & a) {
				if (json)
					json_str(&j, spool_actor_name(a));
				else
					printf("%s%s", k++ ? " " : "", spool_actor_name(a));
			}
		if (json) {
			json_end(&j, ']');
			json_end(&j, '}');
		} else
			printf(")\n");
	}
	if (json) {
		json_end(&j, ']');
		json_end(&j, '}');
		json_done(&j);
	}
	close_spool();
	return 0;
}

/* Ask spoold for a rescan: it watches run/ for a file named kick. */
static int
cmd_kick(int argc, char **argv)
{
	struct spool *sp;

	(void)argv;
	if (argc != 1)
		usage();
	sp = open_spool();
	if (spool_publish(spool_dirfd(sp, SPOOL_DIR_RUN), "kick", spool_dirfd(sp, SPOOL_DIR_TMP),
	    "", 0, NULL) < 0)
		die(excode(errno), "cannot write %s/run/kick: %s", spooldir, strerror(errno));
	close_spool();
	return 0;
}

/* ---- outbox: the spooled notification mails ------------------------------ */

static const char *const boxes[] = { "new", "sent", "failed" };

static int
box_fd(struct spool *sp, const char *box)
{
	int fd = openat(spool_dirfd(sp, SPOOL_DIR_OUTBOX), box,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die(excode(errno), "cannot open %s/outbox/%s: %s", spooldir, box, strerror(errno));
	return fd;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The message names in one outbox folder, sorted (oldest first: the time leads). */
static char **
box_names(int fd, int *n)
{
	struct dirent *de;
	char **v = NULL;
	int cap = 0;
	DIR *d;

	*n = 0;
	if ((d = fdopendir(dup(fd))) == NULL)
		die(SPOOL_EX_FAIL, "cannot read the outbox: %s", strerror(errno));
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!spool_outbox_name_parse(de->d_name, NULL, NULL))
			continue;
		if (*n == cap && (v = realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *v)) == NULL)
			die(SPOOL_EX_FAIL, "out of memory");
		if ((v[(*n)++] = strdup(de->d_name)) == NULL)
			die(SPOOL_EX_FAIL, "out of memory");
	}
	closedir(d);
	if (*n > 1)
		qsort(v, (size_t)*n, sizeof *v, cmp_names);
	return v;
}

/* The first line of failed/NAME.reason as it is written (the caller escapes it), or "". */
static void
reason_of(int fd, const char *name, char *buf, size_t len)
{
	char path[SPOOL_OUTBOX_NAME_MAX + 8];
	ssize_t r;
	int rfd;

	buf[0] = '\0';
	snprintf(path, sizeof path, "%s.reason", name);
	if ((rfd = openat(fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	r = read(rfd, buf, len - 1);
	close(rfd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void
outbox_ls(struct spool *sp, int json)
{
	char id[SPOOL_ID_MAX + 1], when[32], reason[1024], esc[4096];
	struct json j;
	struct stat st;
	size_t b;
	int i, n, fd;
	char **v;

	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
		fd = box_fd(sp, boxes[b]);
		v = box_names(fd, &n);
		for (i = 0; i < n; i++) {
			if (fstatat(fd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;    /* sent meanwhile */
			spool_outbox_name_parse(v[i], id, NULL);
			spool_time_fmt(st.st_mtime, when, sizeof when);
			reason[0] = '\0';
			if (b == 2)
				reason_of(fd, v[i], reason, sizeof reason);
			if (json) {
				json_obj(&j);
				json_kstr(&j, "folder", boxes[b]);
				json_kstr(&j, "name", v[i]);
				json_kstr(&j, "order", id);
				/* new: when it is due; sent and failed: when it got there */
				json_kstr(&j, b == 0 ? "due" : "time", when);
				if (b == 2)
					json_kstr(&j, "reason", reason);
				json_end(&j, '}');
			} else
				printf("%-7s %-20s %s  %s%s%s\n", boxes[b], id, when, v[i],
				    reason[0] ? "  " : "", spool_escape(esc, sizeof esc, reason));
			free(v[i]);
		}
		free(v);
		close(fd);
	}
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	}
}

/* Send again now: failed/NAME back to new/, or a deferred one in new/ made due. */
static int
outbox_retry(struct spool *sp, int argc, char **argv)
{
	int nfd = box_fd(sp, "new"), ffd = box_fd(sp, "failed"), i, rc = 0;
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	char reason[SPOOL_OUTBOX_NAME_MAX + 8];

	for (i = 0; i < argc; i++) {
		if (!spool_outbox_name_parse(argv[i], NULL, NULL)) {
			warnx_("'%.80s' is not an outbox message name", argv[i]);
			rc = SPOOL_EX_USAGE;
			continue;
		}
		if (utimensat(nfd, argv[i], now, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (utimensat(ffd, argv[i], now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    renameat2(ffd, argv[i], nfd, argv[i], RENAME_NOREPLACE) < 0) {
			warnx_("%s: not in outbox/new or outbox/failed: %s", argv[i], strerror(errno));
			rc = SPOOL_EX_NOTFOUND;
			continue;
		}
		snprintf(reason, sizeof reason, "%s.reason", argv[i]);
		unlinkat(ffd, reason, 0);
	}
	if (spool_fsync_dir(nfd) < 0 || spool_fsync_dir(ffd) < 0)
		die(excode(errno), "cannot sync the outbox: %s", strerror(errno));
	close(nfd);
	close(ffd);
	/* a due time changed in new/ rings no bell: ask spoold to look */
	if (spool_publish(spool_dirfd(sp, SPOOL_DIR_RUN), "kick", spool_dirfd(sp, SPOOL_DIR_TMP),
	    "", 0, NULL) < 0)
		warnx_("cannot write %s/run/kick: %s", spooldir, strerror(errno));
	return rc;
}

/* Delete sent (and with --failed or --all, failed) messages, older than --older. */
static int
outbox_purge(struct spool *sp, int argc, char **argv)
{
	static const struct option opts[] = { { "failed", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' }, { "older", required_argument, NULL, 'o' },
		{ 0 } };
	char reason[SPOOL_OUTBOX_NAME_MAX + 8];
	int c, which = 1, n, i, fd, removed = 0;
	time_t cut = 0;
	struct stat st;
	long secs;
	size_t b;
	char **v;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (c) {
		case 'f':
			which = 2;
			break;
		case 'a':
			which = 3;
			break;
		case 'o':
			if (spool_duration_parse(optarg, &secs) < 0)
				die(SPOOL_EX_USAGE, "'%.80s' is not a duration (like 30d)", optarg);
			cut = time(NULL) - secs;
			break;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	for (b = 1; b <= 2; b++) {
		if (!(which & (int)b))
			continue;
		fd = box_fd(sp, boxes[b]);
		v = box_names(fd, &n);
		for (i = 0; i < n; i++) {
			if (fstatat(fd, v[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    (cut == 0 || st.st_mtime < cut) && unlinkat(fd, v[i], 0) == 0) {
				removed++;
				snprintf(reason, sizeof reason, "%s.reason", v[i]);
				unlinkat(fd, reason, 0);
			}
			free(v[i]);
		}
		free(v);
		close(fd);
	}
	printf("%d removed\n", removed);
	return 0;
}

static int
cmd_outbox(int argc, char **argv)
{
	struct spool *sp;
	int rc = 0;

	if (argc < 2 || strcmp(argv[1], "ls") == 0) {
		int json = argc >= 3 && strcmp(argv[2], "--json") == 0;
		if (argc > 3 || (argc == 3 && !json))
			usage();
		sp = open_spool();
		outbox_ls(sp, json);
	} else if (strcmp(argv[1], "retry") == 0) {
		if (argc < 3)
			usage();
		sp = open_spool();
		rc = outbox_retry(sp, argc - 2, argv + 2);
	} else if (strcmp(argv[1], "purge") == 0) {
		sp = open_spool();
		rc = outbox_purge(sp, argc - 1, argv + 1);
	} else
		usage();
	close_spool();
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
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
