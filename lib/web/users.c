/*
 * The users of the web back office: SPOOL/web/users, one "NAME:ROLE:QUEUES:HASH" line
 * each (spool-layout(5)), and their passwords as crypt(3) hashes from libxcrypt.
 *
 * The file is small and changes seldom, so a change reads it whole, edits it in memory
 * and publishes it whole (spool_publish: temp file, fsync, rename, fsync web/), under
 * an fcntl lock on web/users.lock so that two admins adding users at once both land.
 * A reader takes no lock: the rename makes every version it can see complete.
 *
 * The file is 0640: spoolweb, run in the spool's group, reads the hashes; others do
 * not, since a hash is what an offline guesser needs.  Passwords themselves never
 * reach the file, and are wiped from crypt's work area once hashed.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/internal.h"

#define WEB_DIR "web"
#define USERS_FILE "users"
#define USERS_LOCK "users.lock"
#define USERS_MODE 0640
#define USERS_MAX (1024 * 1024)   /* thousands of users; more is not a users file */
/* the longest line: every field at its longest, with separators and the line end */
#define LINE_MAX_LEN (SPOOL_NAME_MAX + 8 + SPOOL_USER_QUEUES_MAX * (SPOOL_NAME_MAX + 1) + \
	SPOOL_HASH_MAX + 4)
/* the characters of crypt(3) strings: the hash alphabet, '$' and a setting's "rounds=N" */
#define HASH_CHARS "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$=,-"

static const char *const role_names[] = {
	[SPOOL_ROLE_ADMIN] = "admin", [SPOOL_ROLE_PRINTER] = "printer",
};

/*
 * Whether h looks like what crypt(3) returns: "$id$...$hash" in its alphabet (so
 * never a ':' or a line end, which would break the file), of a method libxcrypt
 * knows and allows.
 */
static int
hash_ok(const char *h)
{
	size_t n = strlen(h), dollars = 0, i;

	if (n < 4 || n >= SPOOL_HASH_MAX || h[0] != '$' || h[n - 1] == '$' ||
	    strspn(h, HASH_CHARS) != n)
		return 0;
	for (i = 0; i < n; i++)
		dollars += h[i] == '$';
	return dollars >= 3 && crypt_checksalt(h) == CRYPT_SALT_OK;
}

static int
queue_known(const struct spool_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nqueues; i++)
		if (strcmp(c->queues[i].name, name) == 0)
			return 1;
	return 0;
}

/* Parse a QUEUES field ("-" or "a,b") into u; NULL, or why not. */
static const char *
parse_queues(char *s, struct spool_user *u)
{
	char *q;
	int i;

	u->nqueues = 0;
	if (strcmp(s, "-") == 0)
		return NULL;
	for (q = strsep(&s, ","); q != NULL; q = strsep(&s, ",")) {
		if (!spool_name_ok(q))
			return "a queue is not a name (1..32 of a-z, 0-9 and -, a letter first)";
		for (i = 0; i < u->nqueues; i++)
			if (strcmp(u->queues[i], q) == 0)
				return "a queue is given twice";
		if (u->nqueues == SPOOL_USER_QUEUES_MAX)
			return "more than 16 queues";
		memcpy(u->queues[u->nqueues++], q, strlen(q) + 1);
	}
	return NULL;
}

/* Check u as a whole (what the file and spool_user_add both demand); NULL, or why not. */
static const char *
user_problem(const struct spool_user *u)
{
	if (!spool_name_ok(u->name))
		return "not a user name (1..32 of a-z, 0-9 and -, a letter first)";
	if (u->role != SPOOL_ROLE_ADMIN && u->role != SPOOL_ROLE_PRINTER)
		return "the role is neither admin nor printer";
	if (u->role == SPOOL_ROLE_ADMIN && u->nqueues != 0)
		return "an admin sees every queue: its queues are -";
	if (u->role == SPOOL_ROLE_PRINTER && (u->nqueues < 1 || u->nqueues > SPOOL_USER_QUEUES_MAX))
		return "a printer needs 1 to 16 queues";
	if (memchr(u->hash, '\0', SPOOL_HASH_MAX) == NULL ||
	    (u->hash[0] != '\0' && !hash_ok(u->hash)))
		return "the hash is not a crypt(3) string";
	return NULL;
}

/* One line "NAME:ROLE:QUEUES:HASH" (modified) into u; NULL, or why not. */
static const char *
parse_line(char *line, struct spool_user *u)
{
	char *f[4];
	const char *why;
	int i;

	memset(u, 0, sizeof *u);
	for (i = 0; i < 4; i++)
		if ((f[i] = strsep(&line, ":")) == NULL)
			return "not NAME:ROLE:QUEUES:HASH (too few fields)";
	if (line != NULL)
		return "not NAME:ROLE:QUEUES:HASH (too many fields)";
	if (!spool_name_ok(f[0]))
		return "not a user name (1..32 of a-z, 0-9 and -, a letter first)";
	memcpy(u->name, f[0], strlen(f[0]) + 1);
	for (i = SPOOL_ROLE_ADMIN; i <= SPOOL_ROLE_PRINTER; i++)
		if (strcmp(f[1], role_names[i]) == 0)
			u->role = (enum spool_role)i;
	if ((why = parse_queues(f[2], u)) != NULL)
		return why;
	if (strcmp(f[3], "-") != 0) {
		if (!hash_ok(f[3]))
			return "the hash is not a crypt(3) string";
		memcpy(u->hash, f[3], strlen(f[3]) + 1);
	}
	return user_problem(u);
}

static int
users_push(struct spool_users *u, const struct spool_user *one)
{
	struct spool_user *v;

	/* one at a time: the file is small, and most changes add one */
	if ((v = realloc(u->v, (size_t)(u->n + 1) * sizeof *v)) == NULL)
		return -1;
	u->v = v;
	u->v[u->n++] = *one;
	return 0;
}

/* The users of a file's text (modified); -1/EINVAL with the line on a bad one. */
static int
users_parse(char *buf, size_t len, struct spool_users *u, struct spool_err *err)
{
	struct spool_user one;
	const char *why;
	char *line, *next;
	int lineno = 0;

	if (memchr(buf, '\0', len) != NULL)
		return failerr(err, EINVAL, "web/users: contains a NUL byte");
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (strlen(line) > LINE_MAX_LEN)
			why = "line too long";
		else if ((why = parse_line(line, &one)) == NULL && spool_users_find(u, one.name) != NULL)
			why = "the user is there already, on a line above";
		if (why != NULL)
			return failerr(err, EINVAL, "web/users: line %d: %s", lineno, why);
		if (users_push(u, &one) < 0)
			return seterr(err, "web/users: %s", strerror(errno));
	}
	return 0;
}

/* Read webfd's users file into u (empty when there is none). */
static int
users_read_at(int webfd, struct spool_users *u, struct spool_err *err)
{
	size_t len;
	char *buf;
	int r;

	u->v = NULL;
	u->n = 0;
	if (read_file(webfd, USERS_FILE, USERS_MAX, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, "cannot read web/users: %s", strerror(errno));
	}
	r = users_parse(buf, len, u, err);
	free(buf);
	if (r < 0) {
		r = errno;
		spool_users_free(u);
		errno = r;
		return -1;
	}
	return 0;
}

/* web/ of sp, opened; made first when make is set. */
static int
web_open(struct spool *sp, int make)
{
	int root = spool_dirfd(sp, SPOOL_DIR_ROOT);

	if (make && spool_mkdir(root, WEB_DIR, SPOOL_DIR_MODE) < 0)
		return -1;
	return spool_sys.openat(root, WEB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
}

int
spool_users_read(struct spool *sp, struct spool_users *u, struct spool_err *err)
{
	int webfd, r;

	u->v = NULL;
	u->n = 0;
	if ((webfd = web_open(sp, 0)) < 0) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, "cannot open web/: %s", strerror(errno));
	}
	r = users_read_at(webfd, u, err);
	close_keep(webfd);
	return r;
}

void
spool_users_free(struct spool_users *u)
{
	if (u == NULL)
		return;
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct spool_user *
spool_users_find(const struct spool_users *u, const char *name)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

int
spool_user_has_queue(const struct spool_user *u, const char *queue)
{
	int i;

	if (u->role == SPOOL_ROLE_ADMIN)
		return 1;
	if (u->role != SPOOL_ROLE_PRINTER)
		return 0;
	for (i = 0; i < u->nqueues && i < SPOOL_USER_QUEUES_MAX; i++)
		if (strcmp(u->queues[i], queue) == 0)
			return 1;
	return 0;
}

/* crypt_rn of password with setting into a fresh work area; NULL on failure. */
static struct crypt_data *
crypt_into(const char *password, const char *setting, const char **out)
{
	struct crypt_data *d;

	/* 32 KiB: not for the stack; zeroed, as crypt_rn wants it the first time */
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	*out = crypt_rn(password, setting, d, sizeof *d);
	/* a failure is NULL, or (in some versions) a string starting with '*' */
	if (*out == NULL || (*out)[0] == '*') {
		if (*out != NULL || errno == 0)
			errno = EINVAL;
		*out = NULL;
	}
	return d;
}

/* Wipe what crypt left of a password, and free the work area; errno kept. */
static void
crypt_done(struct crypt_data *d)
{
	int e = errno;

	if (d != NULL) {
		explicit_bzero(d, sizeof *d);
		free(d);
	}
	errno = e;
}

int
spool_user_hash(const char *password, char *hash, size_t len, struct spool_err *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *d;
	const char *h;
	int r = -1;

	if (password == NULL || password[0] == '\0')
		return failerr(err, EINVAL, "an empty password is refused");
	/* count 0: libxcrypt's default cost; NULL: random bytes from the kernel */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) == NULL)
		return seterr(err, "cannot make a salt: %s", strerror(errno));
	if ((d = crypt_into(password, salt, &h)) == NULL)
		return seterr(err, "cannot hash the password: %s", strerror(errno));
	if (h == NULL)
		seterr(err, "cannot hash the password: %s", strerror(errno));
	else if (strlen(h) >= len || !hash_ok(h))
		failerr(err, ERANGE, "the password's hash does not fit");
	else {
		memcpy(hash, h, strlen(h) + 1);
		r = 0;
	}
	crypt_done(d);
	return r;
}

int
spool_user_verify(const struct spool_user *u, const char *password)
{
	struct crypt_data *d;
	volatile unsigned char diff = 0;
	const char *h;
	size_t n, i;
	int ok = 0;

	if (u == NULL || password == NULL || u->hash[0] == '\0' ||
	    memchr(u->hash, '\0', sizeof u->hash) == NULL)
		return 0;
	if ((d = crypt_into(password, u->hash, &h)) == NULL)
		return 0;
	/* the length is the method's, no secret; the bytes are compared in constant time */
	n = strlen(u->hash);
	if (h != NULL && strlen(h) == n) {
		for (i = 0; i < n; i++)
			diff |= (unsigned char)(h[i] ^ u->hash[i]);
		ok = diff == 0;
	}
	crypt_done(d);
	return ok;
}

/* The file's text for u: malloc'd, its length in *len. */
static char *
users_format(const struct spool_users *u, size_t *len)
{
	static const char head[] = "# the users of spoolweb: NAME:ROLE:QUEUES:HASH "
	    "(spool-layout(5)); written by spoolctl user\n";
	size_t cap = sizeof head + (size_t)u->n * (LINE_MAX_LEN + 2), n;
	char *buf;
	int i, q;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	n = (size_t)snprintf(buf, cap, "%s", head);
	for (i = 0; i < u->n; i++) {
		n += (size_t)snprintf(buf + n, cap - n, "%s:%s:", u->v[i].name,
		    role_names[u->v[i].role]);
		for (q = 0; q < u->v[i].nqueues; q++)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", q ? "," : "", u->v[i].queues[q]);
		n += (size_t)snprintf(buf + n, cap - n, "%s:%s\n", u->v[i].nqueues ? "" : "-",
		    u->v[i].hash[0] ? u->v[i].hash : "-");
	}
	*len = n;
	return buf;
}

/* Open web/users.lock (made with the spool's mode if missing) and lock it for writing. */
static int
users_lock(int webfd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, tries;

	for (tries = 0;; tries++) {
		/* for writing: an fcntl write lock needs it */
		fd = spool_sys.openat(webfd, USERS_LOCK, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0 || errno != ENOENT || tries == 3)
			break;
		if (create_own(webfd, USERS_LOCK, SPOOL_FILE_MODE) < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	/* an open file description's lock: each open is its own, across fork and threads */
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		if (errno != EINTR) {
			close_keep(fd);
			return -1;
		}
	return fd;
}

/* What a change does to the users it read; sets err and errno when it refuses. */
struct change {
	const struct spool_user *add;
	const char *name;          /* del and set_hash: the user */
	const char *hash;          /* set_hash: the new hash, or NULL for del */
};

static int
change_apply(struct spool_users *u, const struct change *c, struct spool_err *err)
{
	const struct spool_user *f;
	int i;

	if (c->add != NULL) {
		if (spool_users_find(u, c->add->name) != NULL)
			return failerr(err, EEXIST, "user %s exists", c->add->name);
		return users_push(u, c->add) < 0 ? seterr(err, "%s", strerror(errno)) : 0;
	}
	if ((f = spool_users_find(u, c->name)) == NULL)
		return failerr(err, ENOENT, "no user %s", c->name);
	i = (int)(f - u->v);
	if (c->hash != NULL)
		memcpy(u->v[i].hash, c->hash, strlen(c->hash) + 1);
	else {
		memmove(&u->v[i], &u->v[i + 1], (size_t)(u->n - i - 1) * sizeof *u->v);
		u->n--;
	}
	return 0;
}

/* Lock, read, change, publish. */
static int
users_change(struct spool *sp, const struct change *c, struct spool_err *err)
{
	struct spool_users u = { NULL, 0 };
	struct spool_err rerr;
	int webfd, lfd = -1, r = -1;
	size_t len;
	char *buf;

	if ((webfd = web_open(sp, c->add != NULL)) < 0) {
		if (errno == ENOENT && c->add == NULL)
			return failerr(err, ENOENT, "no user %s", c->name);
		return seterr(err, "cannot open %s/%s: %s", spool_path(sp), WEB_DIR, strerror(errno));
	}
	if ((lfd = users_lock(webfd)) < 0) {
		seterr(err, "cannot lock %s/%s/%s: %s", spool_path(sp), WEB_DIR, USERS_LOCK,
		    strerror(errno));
		goto out;
	}
	if (users_read_at(webfd, &u, &rerr) < 0) {
		seterr(err, "%s/%s", spool_path(sp), rerr.msg);
		goto out;
	}
	if (change_apply(&u, c, err) < 0)
		goto out;
	if ((buf = users_format(&u, &len)) == NULL) {
		seterr(err, "%s", strerror(errno));
		goto out;
	}
	r = spool_publish(webfd, USERS_FILE, -1, buf, len, &(struct spool_pub){ .mode = USERS_MODE });
	free(buf);
	if (r < 0)
		seterr(err, "cannot write %s/%s/%s: %s", spool_path(sp), WEB_DIR, USERS_FILE,
		    strerror(errno));
out:
	spool_users_free(&u);
	close_keep(lfd);    /* and the lock with it */
	close_keep(webfd);
	return r;
}

int
spool_user_add(struct spool *sp, const struct spool_user *u, struct spool_err *err)
{
	const char *why;
	int i, j;

	if (memchr(u->name, '\0', sizeof u->name) == NULL)
		return failerr(err, EINVAL, "not a user name (1..32 of a-z, 0-9 and -, a letter first)");
	for (i = 0; i < u->nqueues && i < SPOOL_USER_QUEUES_MAX; i++)
		if (memchr(u->queues[i], '\0', sizeof u->queues[i]) == NULL)
			return failerr(err, EINVAL, "user %s: a queue is not a name", u->name);
	if ((why = user_problem(u)) != NULL)
		return failerr(err, EINVAL, "user %.32s: %s", spool_name_ok(u->name) ? u->name : "?",
		    why);
	for (i = 0; i < u->nqueues; i++) {
		if (!spool_name_ok(u->queues[i]) || !queue_known(spool_conf(sp), u->queues[i]))
			return failerr(err, EINVAL, "user %s: queue %.32s is not a [queue NAME] of "
			    "spool.conf", u->name, spool_name_ok(u->queues[i]) ? u->queues[i] : "?");
		for (j = 0; j < i; j++)
			if (strcmp(u->queues[i], u->queues[j]) == 0)
				return failerr(err, EINVAL, "user %s: queue %s is given twice", u->name,
				    u->queues[i]);
	}
	return users_change(sp, &(struct change){ .add = u }, err);
}

int
spool_user_del(struct spool *sp, const char *name, struct spool_err *err)
{
	if (!spool_name_ok(name))
		return failerr(err, ENOENT, "no user by that name (not a user name)");
	return users_change(sp, &(struct change){ .name = name }, err);
}

int
spool_user_set_hash(struct spool *sp, const char *name, const char *hash,
    struct spool_err *err)
{
	if (!spool_name_ok(name))
		return failerr(err, ENOENT, "no user by that name (not a user name)");
	if (hash == NULL || (hash[0] != '\0' && !hash_ok(hash)))
		return failerr(err, EINVAL, "user %s: the hash is not a crypt(3) string", name);
	return users_change(sp, &(struct change){ .name = name, .hash = hash }, err);
}
