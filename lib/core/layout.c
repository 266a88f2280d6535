/*
 * The spool's folders: creating a spool, opening it, and checking that its folders
 * are there, are real directories on one file system (rename(2) is the commit point
 * and cannot cross file systems), and are not writable by everyone.  A spool belongs
 * to a group (its folder's): init gives every folder that group and SPOOL_DIR_MODE,
 * and check.c finds what has strayed from it.
 *
 * A spool handle keeps every folder open, so later operations use *at() calls
 * relative to descriptors and never rebuild paths from strings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CONF_NAME "spool.conf"
#define DIR_MODE SPOOL_DIR_MODE

const char *const spool_dir_names[SPOOL_DIR_COUNT] = {
	[SPOOL_DIR_ROOT] = ".",
	[SPOOL_DIR_STATE] = "state",
	[SPOOL_DIR_ORDERS] = "orders",
	[SPOOL_DIR_INCOMING] = "incoming",
	[SPOOL_DIR_TMP] = "tmp",
	[SPOOL_DIR_OUTBOX] = "outbox",
	[SPOOL_DIR_HOT] = "hot",
	[SPOOL_DIR_CORRUPT] = "corrupt",
	[SPOOL_DIR_RUN] = "run",
};

/* Folders below those above that every spool has. */
static const char *const subdirs[] = { "outbox/new", "outbox/sent", "outbox/failed", NULL };
/*
 * Folders that init makes but a spool may lack: web/ (the back office's users, made
 * by lib/web/users.c when missing) came after spools that have none.
 */
static const char *const optional[] = { "web", NULL };

const char *
spool_shipped(const char *name, size_t *len)
{
	const struct spool_blob *b;

	for (b = spool_blobs; b->name != NULL; b++)
		if (strcmp(b->name, name) == 0) {
			if (len != NULL)
				*len = b->len;
			return (const char *)b->data;
		}
	return NULL;
}

static int
known_top(const char *name)
{
	int i;

	for (i = 1; i < SPOOL_DIR_COUNT; i++)
		if (strcmp(spool_dir_names[i], name) == 0)
			return 1;
	for (i = 0; optional[i] != NULL; i++)
		if (strcmp(optional[i], name) == 0)
			return 1;
	return strcmp(name, "history") == 0 ||
	    strcmp(name, SPOOL_ID_FILE) == 0;
}

/* Make every folder of conf below root; used by init and by check --repair. */
static int
make_dirs(int root, const struct spool_conf *conf, struct spool_err *err)
{
	char path[64];
	int i, sfd;

	for (i = 1; i < SPOOL_DIR_COUNT; i++)
		if (spool_mkdir(root, spool_dir_names[i], DIR_MODE) < 0)
			return seterr(err, "cannot create %s: %s", spool_dir_names[i], strerror(errno));
	for (i = 0; subdirs[i] != NULL; i++)
		if (spool_mkdir(root, subdirs[i], DIR_MODE) < 0)
			return seterr(err, "cannot create %s: %s", subdirs[i], strerror(errno));
	for (i = 0; optional[i] != NULL; i++)
		if (spool_mkdir(root, optional[i], DIR_MODE) < 0)
			return seterr(err, "cannot create %s: %s", optional[i], strerror(errno));
	if ((sfd = openat(root, "state", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return seterr(err, "cannot open state: %s", strerror(errno));
	for (i = 0; i < conf->nstates; i++)
		if (spool_mkdir(sfd, conf->states[i].name, DIR_MODE) < 0) {
			fmt(path, sizeof path, "state/%s", conf->states[i].name);
			close_keep(sfd);
			return seterr(err, "cannot create %s: %s", path, strerror(errno));
		}
	close(sfd);
	return 0;
}

/* Whether s is a UUID as uuid_make writes it: lower-case hex in 8-4-4-4-12. */
static int
uuid_ok(const char *s)
{
	int i;

	for (i = 0; i < SPOOL_UUID_LEN; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' :
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* A random UUID, version 4, with its line end; -1 when the kernel has no randomness. */
static int
uuid_make(char out[SPOOL_UUID_LEN + 2])
{
	unsigned char r[16];
	size_t i, n = 0;

	/* a spool id made from a guessable source would not keep spools apart */
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -1;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	for (i = 0; i < sizeof r; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		snprintf(out + n, 3, "%02x", r[i]);
		n += 2;
	}
	out[n++] = '\n';
	out[n] = '\0';
	return 0;
}

/* Publish a new spool-id in root unless one is there (EEXIST then). */
static int
uuid_publish(int root)
{
	char line[SPOOL_UUID_LEN + 2];

	if (uuid_make(line) < 0)
		return -1;
	return spool_publish(root, SPOOL_ID_FILE, -1, line, strlen(line),
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOREPLACE, .mode = SPOOL_FILE_MODE });
}

/* Read spool-id from root into out: -1/ENOENT when missing, EINVAL when not a UUID. */
static int
uuid_read(int root, char out[SPOOL_UUID_LEN + 1])
{
	char *buf;
	size_t len;
	int r = 0;

	if (read_file(root, SPOOL_ID_FILE, 64, &buf, &len) < 0)
		return -1;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len != SPOOL_UUID_LEN || !uuid_ok(buf)) {
		errno = EINVAL;
		r = -1;
	} else
		memcpy(out, buf, SPOOL_UUID_LEN + 1);
	free(buf);
	return r;
}

int
spool_uuid(struct spool *sp, char out[SPOOL_UUID_LEN + 1], struct spool_err *err)
{
	int root = sp->dir[SPOOL_DIR_ROOT], r;

	if (sp->uuid[0] == '\0') {
		/* a spool from before spool-id: made now, and whoever comes second reads it */
		if ((r = uuid_read(root, sp->uuid)) < 0 && errno == ENOENT &&
		    (uuid_publish(root) == 0 || errno == EEXIST))
			r = uuid_read(root, sp->uuid);
		if (r < 0) {
			sp->uuid[0] = '\0';
			return seterr(err, "%s/%s: %s", sp->path, SPOOL_ID_FILE,
			    errno == EINVAL ? "not a UUID (a spool's id: see spool-layout(5))" :
			    strerror(errno));
		}
	}
	memcpy(out, sp->uuid, SPOOL_UUID_LEN + 1);
	return 0;
}

int
spool_init(const char *path, const char *name, const char *text, size_t len,
    struct spool_err *err)
{
	return spool_init_group(path, name, text, len, (gid_t)-1, err);
}

/*
 * The folder of a new spool, made or opened: empty, or holding only spool folders (from
 * an init that died), and not a spool already.  Its descriptor, or -1.
 */
static int
init_folder(const char *path, struct spool_err *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int root;

	if (spool_sys.mkdirat(AT_FDCWD, path, DIR_MODE & 0777) < 0 && errno != EEXIST)
		return seterr(err, "cannot create %s: %s", path, strerror(errno));
	if ((root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return seterr(err, "cannot open %s: %s", path, strerror(errno));
	if (fstatat(root, CONF_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		failerr(err, EEXIST, "%s is a spool already", path);
		goto fail;
	}
	if ((d = opendir(path)) == NULL) {
		seterr(err, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    !known_top(de->d_name)) {
			closedir(d);
			failerr(err, ENOTEMPTY, "%s is not empty (it holds '%s')", path, de->d_name);
			goto fail;
		}
	closedir(d);
	return root;
fail:
	close_keep(root);
	return -1;
}

/*
 * The spool's group and mode, set before anything is made in it: setgid passes the
 * group on to every folder and file below, whoever makes them.
 */
static int
init_group(int root, const char *path, gid_t group, struct spool_err *err)
{
	char gname[64];
	struct stat st;
	int e;

	if (group == (gid_t)-1)
		group = getegid();
	if (fstat(root, &st) < 0 ||
	    (st.st_gid != group && spool_sys.fchown(root, (uid_t)-1, group) < 0)) {
		e = errno;    /* the name's look-up may change errno */
		group_name(group, gname, sizeof gname);
		return failerr(err, e, "cannot give %s the group %s: %s", path, gname,
		    strerror(e));
	}
	if (spool_sys.fchmod(root, DIR_MODE) < 0)
		return seterr(err, "cannot set the mode of %s: %s", path, strerror(errno));
	return 0;
}

int
spool_init_group(const char *path, const char *name, const char *text, size_t len,
    gid_t group, struct spool_err *err)
{
	struct spool_conf *conf = NULL;
	struct spool_err perr;
	char *copy;
	int root = -1, r = -1;

	if ((copy = strndup(text, len)) == NULL)
		return seterr(err, "%s", strerror(errno));
	if (strlen(copy) != len) {
		free(copy);
		return failerr(err, EINVAL, "workflow contains a NUL byte");
	}
	r = spool_conf_parse(name, copy, &conf, &perr);
	free(copy);
	if (r < 0)
		return seterr(err, "%s", perr.msg);
	r = -1;
	if ((root = init_folder(path, err)) < 0 || init_group(root, path, group, err) < 0)
		goto out;
	if (make_dirs(root, conf, err) < 0)
		goto out;
	/* The global history exists from the start, so only init ever creates it. */
	if (spool_publish(root, "history", -1, "", 0, NULL) < 0) {
		seterr(err, "cannot write %s/history: %s", path, strerror(errno));
		goto out;
	}
	/* Its id, for what it names outside; an init that died may have made it. */
	if (uuid_publish(root) < 0 && errno != EEXIST) {
		seterr(err, "cannot write %s/%s: %s", path, SPOOL_ID_FILE,
		    strerror(errno));
		goto out;
	}
	/* spool.conf comes last: its presence says the spool is complete. */
	if (spool_publish(root, CONF_NAME, -1, text, len,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOREPLACE, .mode = 0660 }) < 0) {
		seterr(err, "cannot write %s/%s: %s", path, CONF_NAME, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close_keep(root);
	spool_conf_free(conf);
	return r;
}

static int
open_dir(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

struct first {
	char msg[SPOOL_ERR_MAX];
	int n;
};

static void
first_problem(void *arg, const char *msg)
{
	struct first *f = arg;

	if (f->n++ == 0)
		snprintf(f->msg, sizeof f->msg, "%s", msg);
}

int
spool_open(const char *path, int flags, struct spool **out, struct spool_err *err)
{
	struct spool_err perr;
	struct spool *sp;
	struct first f = { .n = 0 };
	char cpath[4200], *buf;
	size_t len;
	int i;

	if ((sp = calloc(1, sizeof *sp)) == NULL)
		return seterr(err, "%s", strerror(errno));
	for (i = 0; i < SPOOL_DIR_COUNT; i++)
		sp->dir[i] = -1;
	sp->nodedir = sp->claimsdir = sp->journalfd = -1;
	if (fmt(sp->path, sizeof sp->path, "%s", path) < 0) {
		seterr(err, "%s: path too long", path);
		goto fail;
	}
	if ((sp->dir[SPOOL_DIR_ROOT] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		seterr(err, "cannot open spool %s: %s", path, strerror(errno));
		goto fail;
	}
	fmt(cpath, sizeof cpath, "%s/%s", path, CONF_NAME);
	if (read_file(sp->dir[SPOOL_DIR_ROOT], CONF_NAME, 256 * 1024, &buf, &len) < 0) {
		seterr(err, "%s is not a spool: cannot read %s: %s", path, cpath, strerror(errno));
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		failerr(err, EINVAL, "%s: contains a NUL byte", cpath);
		goto fail;
	}
	i = spool_conf_parse(cpath, buf, &sp->conf, &perr);
	free(buf);
	if (i < 0) {
		seterr(err, "%s", perr.msg);
		goto fail;
	}
	for (i = 1; i < SPOOL_DIR_COUNT; i++)
		sp->dir[i] = open_dir(sp->dir[SPOOL_DIR_ROOT], spool_dir_names[i]);
	if ((sp->statefd = malloc((size_t)sp->conf->nstates * sizeof *sp->statefd)) == NULL) {
		seterr(err, "%s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < sp->conf->nstates; i++)
		sp->statefd[i] = sp->dir[SPOOL_DIR_STATE] < 0 ? -1 :
		    open_dir(sp->dir[SPOOL_DIR_STATE], sp->conf->states[i].name);
	if (!(flags & SPOOL_OPEN_LENIENT) && spool_validate(sp, first_problem, &f) > 0) {
		failerr(err, EUCLEAN, "%s: %s%s", path, f.msg,
		    " (run spoolctl check --repair)");
		goto fail;
	}
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return -1;
}

void
spool_close(struct spool *sp)
{
	int i;

	if (sp == NULL)
		return;
	for (i = 0; i < SPOOL_DIR_COUNT; i++)
		close_keep(sp->dir[i]);
	close_keep(sp->nodedir);
	close_keep(sp->claimsdir);
	close_keep(sp->journalfd);
	for (i = 0; sp->statefd != NULL && i < sp->conf->nstates; i++)
		close_keep(sp->statefd[i]);
	free(sp->statefd);
	spool_conf_free(sp->conf);
	free(sp);
}

const struct spool_conf *
spool_conf(const struct spool *sp)
{
	return sp->conf;
}

const char *
spool_path(const struct spool *sp)
{
	return sp->path;
}

int
spool_dirfd(const struct spool *sp, enum spool_dir d)
{
	return sp->dir[d];
}

int
spool_statefd(const struct spool *sp, int state)
{
	if (state < 0 || state >= sp->conf->nstates)
		return -1;
	return sp->statefd[state];
}

/* Report one folder's problem: missing, another file system, or writable by all. */
static int
check_dir(int fd, const char *name, dev_t dev, dir_report fn, void *arg)
{
	char msg[SPOOL_ERR_MAX];
	struct stat st;

	if (fd < 0) {
		fn(arg, SPOOL_P_MISSINGDIR, name, "missing folder");
		return 1;
	}
	if (fstat(fd, &st) < 0)
		return 0;
	if (st.st_dev != dev) {
		fn(arg, SPOOL_P_FILESYSTEM, name, "on another file system");
		return 1;
	}
	if ((st.st_mode & S_IWOTH) != 0) {
		snprintf(msg, sizeof msg, "writable by everyone (mode %o)",
		    (unsigned)(st.st_mode & 07777));
		fn(arg, SPOOL_P_MODE, name, msg);
		return 1;
	}
	return 0;
}

int
validate_dirs(struct spool *sp, dir_report fn, void *arg)
{
	char name[64];
	struct stat st;
	int i, fd, n = 0;

	if (fstat(sp->dir[SPOOL_DIR_ROOT], &st) < 0)
		return -1;
	for (i = 0; i < SPOOL_DIR_COUNT; i++)
		n += check_dir(sp->dir[i], spool_dir_names[i], st.st_dev, fn, arg);
	for (i = 0; subdirs[i] != NULL; i++) {
		fd = open_dir(sp->dir[SPOOL_DIR_ROOT], subdirs[i]);
		n += check_dir(fd, subdirs[i], st.st_dev, fn, arg);
		close_keep(fd);
	}
	for (i = 0; i < sp->conf->nstates; i++) {
		fmt(name, sizeof name, "state/%s", sp->conf->states[i].name);
		n += check_dir(sp->statefd[i], name, st.st_dev, fn, arg);
	}
	return n;
}

struct msgs {
	void (*report)(void *, const char *);
	void *arg;
};

static void
as_message(void *arg, enum spool_problem_kind k, const char *path, const char *detail)
{
	struct msgs *m = arg;
	char msg[SPOOL_ERR_MAX];

	(void)k;
	snprintf(msg, sizeof msg, "folder %s: %s", path, detail);
	m->report(m->arg, msg);
}

int
spool_validate(struct spool *sp, void (*report)(void *, const char *), void *arg)
{
	struct msgs m = { report, arg };

	return validate_dirs(sp, as_message, &m);
}

/* Create missing folders and reopen them; for check --repair. */
int
repair_dirs(struct spool *sp, struct spool_err *err)
{
	int i;

	if (make_dirs(sp->dir[SPOOL_DIR_ROOT], sp->conf, err) < 0)
		return -1;
	for (i = 1; i < SPOOL_DIR_COUNT; i++)
		if (sp->dir[i] < 0)
			sp->dir[i] = open_dir(sp->dir[SPOOL_DIR_ROOT], spool_dir_names[i]);
	for (i = 0; i < sp->conf->nstates; i++)
		if (sp->statefd[i] < 0)
			sp->statefd[i] = open_dir(sp->dir[SPOOL_DIR_STATE], sp->conf->states[i].name);
	return 0;
}

/*
 * A lock file is opened for reading only (flock needs no more), so that any user of
 * the spool's group can take it whoever made it; the one who makes it gives it the
 * spool's mode.
 */
int
repair_lock(struct spool *sp, int how)
{
	int run = sp->dir[SPOOL_DIR_RUN], fd, tries;

	for (tries = 0;; tries++) {
		fd = spool_sys.openat(run, REPAIR_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0 || errno != ENOENT || tries == 3)
			break;
		if (create_own(run, REPAIR_LOCK, SPOOL_FILE_MODE) < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	while (spool_sys.flock(fd, how) < 0) {
		if (errno != EINTR) {
			close_keep(fd);
			return -1;
		}
	}
	return fd;
}

void
repair_unlock(int fd)
{
	close_keep(fd);
}
