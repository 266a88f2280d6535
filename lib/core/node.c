/*
 * The nodes of a shared spool: several spoolds, one per host, on one network file
 * system (GlusterFS).  What they share is files, as everything else in spool:
 *
 *	run/leader            its fcntl lock makes the leader; it holds "NODE PID"
 *	run/nodes/NAME/       a node's own files: heartbeat, lock, journal, reserve, stats
 *	run/claims/ID         "NODE DEADLINE": the node that runs ID's handler
 *
 * A claim is written to the node's folder first and then link()ed to its name, which
 * fails if the name is taken: so a claim is made by one node only, and is never seen
 * half written.  Heartbeats and claims are not synced: after a power loss every node
 * starts again, and a claim lost with it only means that a handler runs again (at
 * least once, as after any crash).  The timing (who is silent, when to take the lead)
 * is spoold's; this file only reads and writes the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define NODES_NAME spool_basename(SPOOL_F_NODE)
#define CLAIMS_NAME spool_basename(SPOOL_F_CLAIM)
#define LEADER_NAME spool_basename(SPOOL_F_LEADER)
#define BEAT_NAME spool_basename(SPOOL_F_HEARTBEAT)
#define CLAIM_TMP "claim"     /* in the node's folder, before its link */

int
spool_node_name_ok(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");

	return n > 0 && n <= SPOOL_NODE_MAX && name[n] == '\0' && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;
}

/* Open dirfd/name, a folder made if missing (with the spool's mode and group). */
static int
subdir(int dirfd, const char *name)
{
	if (spool_mkdir(dirfd, name, SPOOL_DIR_MODE) < 0)
		return -1;
	return spool_sys.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
}

int
spool_node_open(struct spool *sp, const char *name, struct spool_err *err)
{
	int nodes = -1, fd, cfd;

	if (!spool_node_name_ok(name)) {
		errno = EINVAL;
		return seterr(err, "%.80s: not a node's name (1 to %d of A-Z a-z 0-9 . _ -)", name,
		    SPOOL_NODE_MAX);
	}
	if ((nodes = subdir(sp->dir[SPOOL_DIR_RUN], NODES_NAME)) < 0 ||
	    (fd = subdir(nodes, name)) < 0) {
		failerr(err, errno, "cannot make %s: %s", SPOOL_NAME(SPOOL_F_NODE, name),
		    strerror(errno));
		close_keep(nodes);
		return -1;
	}
	close_keep(nodes);
	if ((cfd = subdir(sp->dir[SPOOL_DIR_RUN], CLAIMS_NAME)) < 0) {
		failerr(err, errno, "cannot make %s: %s", SPOOL_NAME(SPOOL_F_CLAIM, NULL),
		    strerror(errno));
		close_keep(fd);
		return -1;
	}
	close_keep(sp->nodedir);
	close_keep(sp->claimsdir);
	/* the journal is the node's own from now on (closed here: journal.c calls node.c) */
	close_keep(sp->journalfd);
	sp->journalfd = -1;
	sp->nodedir = fd;
	sp->claimsdir = cfd;
	return 0;
}

int
spool_node_dirfd(const struct spool *sp)
{
	return sp->nodedir >= 0 ? sp->nodedir : sp->dir[SPOOL_DIR_RUN];
}

int
spool_node_beat(struct spool *sp, const struct spool_node *n)
{
	struct spool_pub pub = { .flags = SPOOL_PUB_NOSYNC };
	char buf[256];
	int len;

	if (sp->nodedir < 0) {
		errno = EBADF;
		return -1;
	}
	len = snprintf(buf, sizeof buf, "node %s\npid %ld\nbeat %lu\ntime %lld\nleader %d\n",
	    n->name, n->pid, n->beat, (long long)n->time, n->leader != 0);
	return spool_publish(sp->nodedir, BEAT_NAME, -1, buf, (size_t)len, &pub);
}

/* A heartbeat file into n; -1 if it is not one. */
static int
beat_parse(char *buf, struct spool_node *n)
{
	char *line, *save = NULL, *end;
	long long v;
	int got = 0;

	memset(n, 0, sizeof *n);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "node ", 5) == 0 && spool_node_name_ok(line + 5)) {
			snprintf(n->name, sizeof n->name, "%s", line + 5);
			got |= 1;
			continue;
		}
		if (strchr(line, ' ') == NULL)
			continue;
		errno = 0;
		v = strtoll(strchr(line, ' ') + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			continue;
		if (strncmp(line, "pid ", 4) == 0)
			n->pid = (long)v;
		else if (strncmp(line, "beat ", 5) == 0)
			n->beat = (unsigned long)v, got |= 2;
		else if (strncmp(line, "time ", 5) == 0)
			n->time = (time_t)v;
		else if (strncmp(line, "leader ", 7) == 0)
			n->leader = v != 0;
	}
	return got == 3 ? 0 : -1;
}

int
spool_nodes_read(struct spool *sp, int (*fn)(void *, const struct spool_node *), void *arg)
{
	struct spool_node n;
	struct dirent *de;
	char path[SPOOL_NODE_MAX + 16], *buf;
	size_t len;
	DIR *d;
	int count = 0, r;

	if ((d = dir_open(sp->dir[SPOOL_DIR_RUN], NODES_NAME)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = dir_next(d)) != NULL) {
		if (!spool_node_name_ok(de->d_name))
			continue;
		fmt(path, sizeof path, "%s/%s", de->d_name, BEAT_NAME);
		if (read_file(dirfd(d), path, 4096, &buf, &len) < 0)
			continue;
		r = beat_parse(buf, &n);
		free(buf);
		if (r < 0 || strcmp(n.name, de->d_name) != 0)
			continue;
		count++;
		if (fn(arg, &n) != 0)
			break;
	}
	closedir(d);
	return count;
}

/* "NODE DEADLINE\n" into node and *deadline; -1 if it is not a claim. */
static int
claim_parse(const char *buf, char *node, time_t *deadline)
{
	char name[SPOOL_NODE_MAX + 2], *end;
	long long v;
	size_t n = strcspn(buf, " ");

	if (n == 0 || n > SPOOL_NODE_MAX || buf[n] != ' ')
		return -1;
	memcpy(name, buf, n);
	name[n] = '\0';
	errno = 0;
	v = strtoll(buf + n + 1, &end, 10);
	if (!spool_node_name_ok(name) || errno != 0 || v < 0 || (*end != '\n' && *end != '\0'))
		return -1;
	if (node != NULL)
		memcpy(node, name, n + 1);
	if (deadline != NULL)
		*deadline = (time_t)v;
	return 0;
}

/* The claim in dfd/name: 1 and its node and deadline, 0 none, -1 error (EUCLEAN: not one). */
static int
claim_file(int dfd, const char *name, char *node, time_t *deadline)
{
	char *buf;
	size_t len;
	int r;

	if (read_file(dfd, name, 256, &buf, &len) < 0)
		return errno == ENOENT ? 0 : -1;
	r = claim_parse(buf, node, deadline);
	free(buf);
	if (r < 0) {
		errno = EUCLEAN;
		return -1;
	}
	return 1;
}

int
spool_claim_read(struct spool *sp, const char *id, char *node, time_t *deadline)
{
	if (sp->claimsdir < 0 || !spool_id_ok(id)) {
		errno = sp->claimsdir < 0 ? EBADF : EINVAL;
		return -1;
	}
	return claim_file(sp->claimsdir, id, node, deadline);
}

int
spool_claim(struct spool *sp, const char *id, const char *node, time_t deadline, char *holder)
{
	char buf[SPOOL_NODE_MAX + 32];
	int fd, len, r, saved;

	if (sp->claimsdir < 0 || sp->nodedir < 0 || !spool_id_ok(id) || !spool_node_name_ok(node)) {
		errno = sp->claimsdir < 0 || sp->nodedir < 0 ? EBADF : EINVAL;
		return -1;
	}
	len = snprintf(buf, sizeof buf, "%s %lld\n", node, (long long)deadline);
	spool_sys.unlinkat(sp->nodedir, CLAIM_TMP, 0);
	fd = spool_sys.openat(sp->nodedir, CLAIM_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, SPOOL_FILE_MODE);
	if (fd < 0)
		return -1;
	spool_own(fd, sp->nodedir, SPOOL_FILE_MODE);
	r = write_all(fd, buf, (size_t)len);
	saved = errno;
	spool_sys.close(fd);
	if (r == 0)
		r = linkat(sp->nodedir, CLAIM_TMP, sp->claimsdir, id, 0);
	saved = errno;
	spool_sys.unlinkat(sp->nodedir, CLAIM_TMP, 0);
	if (r == 0)
		return 0;
	if (saved != EEXIST) {
		errno = saved;
		return -1;
	}
	/* taken: by whom (a claim dropped meanwhile is still "taken": look again later) */
	if (holder != NULL && spool_claim_read(sp, id, holder, NULL) != 1)
		snprintf(holder, SPOOL_NODE_MAX + 1, "?");
	return 1;
}

int
spool_claim_drop(struct spool *sp, const char *id)
{
	if (sp->claimsdir < 0 || !spool_id_ok(id)) {
		errno = sp->claimsdir < 0 ? EBADF : EINVAL;
		return -1;
	}
	if (spool_sys.unlinkat(sp->claimsdir, id, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
spool_claims_read(struct spool *sp,
    int (*fn)(void *, const char *id, const char *node, time_t deadline), void *arg)
{
	char node[SPOOL_NODE_MAX + 1];
	struct dirent *de;
	time_t deadline;
	DIR *d;
	int count = 0;

	if ((d = dir_open(sp->dir[SPOOL_DIR_RUN], CLAIMS_NAME)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = dir_next(d)) != NULL) {
		if (!spool_id_ok(de->d_name) || claim_file(dirfd(d), de->d_name, node, &deadline) != 1)
			continue;
		count++;
		if (fn(arg, de->d_name, node, deadline) != 0)
			break;
	}
	closedir(d);
	return count;
}

int
spool_leader_open(struct spool *sp)
{
	int fd;

	fd = spool_sys.openat(sp->dir[SPOOL_DIR_RUN], LEADER_NAME, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, SPOOL_FILE_MODE);
	if (fd >= 0)
		spool_own(fd, sp->dir[SPOOL_DIR_RUN], SPOOL_FILE_MODE);
	return fd;
}

/* spool_leader_read's: the freshest heartbeat of a node that says it leads. */
static int
leading(void *arg, const struct spool_node *n)
{
	struct spool_node *best = arg;

	if (n->leader && (best->name[0] == '\0' || n->time > best->time))
		*best = *n;
	return 0;
}

int
spool_leader_read(struct spool *sp, char *node, long *pid)
{
	struct spool_node best = { .name = "" };
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[SPOOL_NODE_MAX + 32], *sp1, *end;
	ssize_t n;
	int fd, r = 0;

	fd = spool_sys.openat(sp->dir[SPOOL_DIR_RUN], LEADER_NAME, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* F_GETLK asks whether a write lock could be had: not while a leader holds it */
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		r = 1;
		snprintf(node, SPOOL_NODE_MAX + 1, "?");
		*pid = (long)fl.l_pid;
	}
	if (r == 1 && (n = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if ((sp1 = strchr(buf, ' ')) != NULL) {
			*sp1 = '\0';
			if (spool_node_name_ok(buf)) {
				memcpy(node, buf, strlen(buf) + 1);    /* at most SPOOL_NODE_MAX */
				*pid = strtol(sp1 + 1, &end, 10);
			}
		}
	}
	spool_sys.close(fd);
	/*
	 * Another host's rewrite of run/leader in place can be stale here (a network file
	 * system's page cache); heartbeats are replaced by rename, and say who leads.
	 */
	if (r == 1 && spool_nodes_read(sp, leading, &best) > 0 && best.name[0] != '\0') {
		memcpy(node, best.name, strlen(best.name) + 1);
		*pid = best.pid;
	}
	return r;
}
