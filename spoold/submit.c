/*
 * Submissions over a socket.  While spoold runs, spoolctl submit hands it the
 * bundle's folder, as a descriptor (SCM_RIGHTS), over run/submit.sock, instead of
 * writing the spool itself: a helper process takes what has come in from every
 * client, submits it together (spool_submit_many: one sync per step for the batch,
 * where each spoolctl would make three of its own), and answers each once its order
 * is durable.  The checks are the library's, as for any submit; who may connect is
 * who may write the spool (root, spoold's user, the spool's group), from the peer's
 * credentials.  A process rather than the loop: a batch waits for its syncs, and the
 * loop must not.  It dies with spoold (PR_SET_PDEATHSIG); a client whose answer never
 * comes writes the spool itself.
 *
 * The exchange, one datagram each way (SOCK_SEQPACKET), answered in order:
 *	"submit\n" WHO "\n" ID "\n" NAME	+ the bundle's folder; ID may be empty
 *	"ok " ID " " STATE		or	"err " ERRNO " " MESSAGE
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spoold.h"

#define CLIENTS_MAX 64
#define BATCH_MAX 64
#define REQ_MAX 1024

struct client {
	int fd;
	int trusted;                    /* root or spoold's user: may name another actor */
	int gone;                       /* hung up: closed after the batch is answered */
	char actor[SPOOL_FIELD_MAX];    /* admin:NAME, from the peer's uid */
};

/* Whether the peer may write the spool: root, spoold's user, or of the spool's group. */
static int
allowed(const struct ucred *cred, const struct passwd *pw, gid_t spool_gid)
{
	gid_t groups[256];
	int n = 256, i;

	if (cred->uid == 0 || cred->uid == geteuid() || cred->gid == spool_gid)
		return 1;
	if (pw == NULL)
		return 0;
	if (pw->pw_gid == spool_gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == spool_gid)
			return 1;
	return 0;
}

static void
answer(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
answer(int fd, const char *fmt, ...)
{
	char buf[SPOOL_ERR_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof buf)
		n = (int)sizeof buf - 1;
	/* a client that went away loses its answer; its order stands */
	(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A new client: who it is, and whether it may submit. */
static void
take(struct client *c, int *nc, int lfd, gid_t spool_gid)
{
	struct passwd pw, *res = NULL;
	char pwbuf[2048];
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		getpwuid_r(cred.uid, &pw, pwbuf, sizeof pwbuf, &res);
		if (!allowed(&cred, res, spool_gid) || *nc == CLIENTS_MAX) {
			log_warnx("submit: %s (uid %ld, pid %ld) refused: %s",
			    res != NULL ? res->pw_name : "?", (long)cred.uid, (long)cred.pid,
			    *nc == CLIENTS_MAX ? "too many clients" : "may not write the spool");
			answer(fd, "err %d %s", *nc == CLIENTS_MAX ? EAGAIN : EACCES,
			    *nc == CLIENTS_MAX ? "spoold: too many submitters at once" :
			    "spoold: you may not write this spool");
			close(fd);
			continue;
		}
		c[*nc].fd = fd;
		c[*nc].gone = 0;
		c[*nc].trusted = cred.uid == 0 || cred.uid == geteuid();
		if (res != NULL && spool_id_ok(res->pw_name))
			snprintf(c[*nc].actor, sizeof c[0].actor, "admin:%s", res->pw_name);
		else
			snprintf(c[*nc].actor, sizeof c[0].actor, "admin:uid%ld", (long)cred.uid);
		(*nc)++;
	}
}

/* The request's fields, split in place: who, id, name. */
static int
parse(char *buf, char **f)
{
	int i;

	if (strncmp(buf, "submit\n", 7) != 0)
		return -1;
	f[0] = buf + 7;
	for (i = 0; i < 2; i++) {
		char *nl = strchr(f[i], '\n');
		if (nl == NULL)
			return -1;
		*nl = '\0';
		f[i + 1] = nl + 1;
	}
	return 0;
}

/*
 * Read one request of client c into r, its strings into buf (REQ_MAX): 1, 0 when
 * none waits, -1 when the client hung up or broke the exchange (it is answered, then
 * closed).
 */
static int
request(struct client *c, struct spool_subreq *r, char *buf)
{
	char cbuf[CMSG_SPACE(sizeof(int))], *f[3];
	struct iovec iov = { buf, REQ_MAX - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	if ((n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC)) < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	buf[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	if (fd < 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || parse(buf, f) < 0 ||
	    (f[1][0] != '\0' && !spool_id_ok(f[1]))) {
		if (fd >= 0)
			close(fd);
		answer(c->fd, "err %d spoold: a request it cannot read", EPROTO);
		return -1;
	}
	memset(r, 0, sizeof *r);
	r->dirfd = fd;
	r->bundle = ".";
	/* who: the peer, unless it could write the history as anybody anyway */
	r->who = c->trusted && f[0][0] != '\0' ? f[0] : c->actor;
	r->id = f[1][0] != '\0' ? f[1] : NULL;
	r->name = f[2];
	return 1;
}

static void
serve(struct daemon *d, int lfd, int stopfd, gid_t spool_gid)
{
	static struct spool_subreq r[BATCH_MAX];
	static char text[BATCH_MAX][REQ_MAX];
	struct pollfd p[2 + CLIENTS_MAX];
	struct client c[CLIENTS_MAX];
	int owner[BATCH_MAX];
	int nc = 0, polled, n, i, k, got;

	for (;;) {
		p[0] = (struct pollfd){ .fd = stopfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < nc; i++)
			p[2 + i] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
		if (poll(p, (nfds_t)(2 + nc), -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[0].revents != 0)
			return;    /* spoold stops: what was answered is in; nothing is half done */
		polled = nc;    /* a client taken now is read at the next poll */
		if (p[1].revents & POLLIN)
			take(c, &nc, lfd, spool_gid);
		/* a batch: whatever every client has sent by now */
		for (i = n = 0; i < polled && n < BATCH_MAX; i++) {
			if (!(p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			while (n < BATCH_MAX && (got = request(&c[i], &r[n], text[n])) == 1)
				owner[n++] = i;
			if (got < 0)
				c[i].gone = 1;
		}
		if (n > 0)
			spool_submit_many(d->sp, r, n);
		for (k = 0; k < n; k++) {
			if (r[k].rc == 0) {
				answer(c[owner[k]].fd, "ok %s %s", r[k].id_out,
				    d->conf->states[r[k].state].name);
				log_order(LOG_L_INFO, r[k].id_out, "submitted over %s by %s",
				    spool_basename(SPOOL_F_SUBMIT_SOCK), r[k].who);
			} else
				answer(c[owner[k]].fd, "err %d %s", r[k].errnum, r[k].err.msg);
			close(r[k].dirfd);
		}
		for (i = nc - 1; i >= 0; i--)
			if (c[i].gone) {
				close(c[i].fd);
				c[i] = c[--nc];
			}
	}
}

/* Make run/submit.sock, for the spool's group, in place of one an earlier spoold left. */
static int
listen_on(struct daemon *d, gid_t *gid)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int run = spool_dirfd(d->sp, SPOOL_DIR_RUN), fd;
	const char *name = spool_basename(SPOOL_F_SUBMIT_SOCK);
	struct stat st;

	if (fstat(spool_dirfd(d->sp, SPOOL_DIR_ROOT), &st) < 0)
		return -1;
	*gid = st.st_gid;
	if (snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", d->path,
	    SPOOL_NAME(SPOOL_F_SUBMIT_SOCK, NULL)) >= (int)sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* ours to replace: spoold holds the spool's lock */
	unlinkat(run, name, 0);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || fchmodat(run, name, 0660, 0) < 0 ||
	    listen(fd, CLIENTS_MAX) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
submit_init(struct daemon *d)
{
	int stop[2], lfd;
	gid_t gid;
	pid_t pid;

	d->submit_stop = -1;
	/* on a shared spool a socket is one host's: spoolctl writes the spool itself there */
	if (d->shared)
		return 0;
	if ((lfd = listen_on(d, &gid)) < 0)
		return -1;
	if (pipe2(stop, O_CLOEXEC) < 0) {
		close(lfd);
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(lfd), close(stop[0]), close(stop[1]);
		return -1;
	}
	if (pid == 0) {
		lock_drop(d);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(stop[1]);
		serve(d, lfd, stop[0], gid);
		unlinkat(spool_dirfd(d->sp, SPOOL_DIR_RUN), spool_basename(SPOOL_F_SUBMIT_SOCK), 0);
		_exit(0);
	}
	close(lfd);
	close(stop[0]);
	d->submit_pid = pid;
	d->submit_stop = stop[1];
	return 0;
}

void
submit_stop(struct daemon *d)
{
	int status;

	if (d->submit_stop < 0)
		return;
	close(d->submit_stop);
	d->submit_stop = -1;
	/* it ends after the batch it is on, which its syncs bound */
	if (waitpid(d->submit_pid, &status, 0) < 0 && errno != ECHILD)
		log_warn("cannot wait for the submit helper");
}
