/*
 * The commands that change orders: submit enters one, mv and do move them (as the
 * admin, within the workflow), rm removes orders or items.  The workflow's
 * transitions used as verbs come here through run_transition.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "order.h"
#include "spoolctl.h"

/*
 * Submitting: while spoold runs, each bundle's folder is handed to it over
 * run/submit.sock (spoold(8)), which commits the submissions of all its clients
 * together and answers each once it is durable; a few go ahead of their answers.
 * Without spoold, or for what it does not answer, submit writes the spool itself.
 */
#define HANDOFF_AHEAD 16
#define HANDOFF_WAIT_MS (10 * 60 * 1000)

static int
handoff_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", spooldir,
	    SPOOL_NAME(SPOOL_F_SUBMIT_SOCK, NULL)) >= (int)sizeof a.sun_path ||
	    (fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
handoff_send(int sock, const char *bundle, const char *want)
{
	char buf[1024], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	int n, bfd, r;

	n = snprintf(buf, sizeof buf, "submit\n%s\n%s\n%s", who, want != NULL ? want : "",
	    bundle);
	/* a bundle it cannot open is submitted here, for the same message */
	if (n >= (int)sizeof buf ||
	    (bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	iov.iov_len = (size_t)n;
	memset(cbuf, 0, sizeof cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &bfd, sizeof bfd);
	r = sendmsg(sock, &m, MSG_NOSIGNAL) == n ? 0 : -1;
	close(bfd);
	return r;
}

/* spoold's answer to the oldest request: 0, an exit code, or -1 when none came. */
static int
handoff_answer(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char buf[SPOOL_ERR_MAX + 64], id[SPOOL_ID_MAX + 1];
	ssize_t n;
	int e, at = 0;

	if (poll(&p, 1, HANDOFF_WAIT_MS) != 1 || (n = recv(sock, buf, sizeof buf - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "ok %64s", id) == 1) {
		printf("%s\n", id);
		return 0;
	}
	if (sscanf(buf, "err %d %n", &e, &at) == 1 && at > 0) {
		warnx_("%s", buf + at);
		return excode(e);
	}
	return -1;
}

/* Write the spool here (opened at the first need, into *sp). */
static int
submit_here(struct spool **sp, const char *bundle, const char *want)
{
	char id[SPOOL_ID_MAX + 1];
	struct spool_err err;

	if (*sp == NULL)
		*sp = open_spool();
	if (spool_submit(*sp, AT_FDCWD, bundle, want, who, id, NULL, &err) < 0) {
		warnx_("%s", err.msg);
		return excode(errno);
	}
	printf("%s\n", id);
	return 0;
}

int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = { { "id", required_argument, NULL, 'i' }, { 0 } };
	int ahead[HANDOFF_AHEAD];
	struct spool *sp = NULL;
	const char *want = NULL;
	int c, i, r, rc = 0, sock, head = 0, n = 0;

	while ((c = cmd_getopt(argc, argv, "i:", opts)) != -1)
		if (c == 'i')
			want = optarg;
		else
			usage();
	if (optind == argc || (want != NULL && optind != argc - 1))
		usage();
	if (want != NULL && !id_arg(want))
		return SPOOL_EX_USAGE;
	if (spooldir == NULL)
		open_spool();    /* its message */
	sock = handoff_connect();
	for (i = optind; i < argc || n > 0;) {
		if (sock >= 0 && i < argc && n < HANDOFF_AHEAD &&
		    handoff_send(sock, argv[i], want) == 0) {
			ahead[(head + n++) % HANDOFF_AHEAD] = i++;
			continue;
		}
		if (n > 0) {
			/* the answers come in order; without one, the rest is submitted here */
			if ((r = handoff_answer(sock)) < 0) {
				close(sock);
				sock = -1;
				for (; n > 0; n--, head = (head + 1) % HANDOFF_AHEAD)
					if ((r = submit_here(&sp, argv[ahead[head]], want)) != 0)
						rc = r;
				continue;
			}
			if (r != 0)
				rc = r;
			head = (head + 1) % HANDOFF_AHEAD;
			n--;
			continue;
		}
		if ((r = submit_here(&sp, argv[i++], want)) != 0)
			rc = r;
	}
	if (sock >= 0)
		close(sock);
	if (sp != NULL)
		close_spool();
	return rc;
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

