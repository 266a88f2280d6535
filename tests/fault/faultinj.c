/*
 * spool-faultinj: fault injection for the end-to-end tests.  Linked into
 * build/.../tests/spoold-fault and tests/spoolctl-fault (never into the installed
 * programs), it wraps the entries of libspool's syscall table (lib/core/internal.h) from a
 * constructor, so that the real daemon fails chosen write system calls with chosen
 * errno values while orders flow: ENOSPC, EIO, EROFS, EDQUOT at the write sites of
 * status, history, moves, publishing, job.xml and the outbox.  With no rules it
 * installs nothing and the program runs as the plain one.
 *
 * Rules
 *
 *   SPOOL_FAULTS='RULE;RULE...'    rules, separated by ';' or newlines
 *   SPOOL_FAULTS_FILE=PATH         more rules, one per line ('#' starts a comment
 *                                  line), reread while the program runs
 *   SPOOL_FAULTS_LOG=PATH          a line per injected failure, appended
 *
 *   RULE = CALL:GLOB:ERRNO[:SKIP[:COUNT]][:short]
 *
 *   CALL   an entry of struct spool_sys: openat, openat_beneath, write, fsync,
 *          renameat2, linkat, unlinkat, mkdirat, ftruncate, flock, futimens, syncfs,
 *          and, by name only, read and close; or '*' for every write-side entry (all
 *          of those but read and close; time is never wrapped).  openat and
 *          openat_beneath count only opens that create or write: O_CREAT, O_WRONLY,
 *          O_RDWR, O_TRUNC or O_APPEND.  An injected close still closes the
 *          descriptor, as close(2) does when it reports an error.
 *   GLOB   an fnmatch(3) pattern, flags 0: '*' crosses '/', and '\' quotes the next
 *          character (write '\:' and '\;' for a literal ':' or ';').  It is matched
 *          against the absolute path the call acts on:
 *            (dirfd, name) calls: readlink(/proc/self/fd/DIRFD), or the working
 *              directory for AT_FDCWD, then '/' and the name (a name that starts with
 *              '/' stands alone);
 *            renameat2 and linkat: the target first, then the source; either
 *              matching counts, and the log names the one that matched;
 *            descriptor calls (write, fsync, ftruncate, futimens, syncfs, flock,
 *              read, close): readlink(/proc/self/fd/FD), which for a directory's
 *              fsync is the directory itself (no trailing '/').
 *          Paths are as the kernel resolves them: symlinks in the spool's own path
 *          are followed, so start a GLOB with '*'.
 *   ERRNO  a name (ENOSPC, EIO, EROFS, EDQUOT, EACCES, EPERM, ENOENT, EEXIST, EXDEV,
 *          EAGAIN, or any other the C library knows) or a number.
 *   SKIP   how many matching calls are let through first (default 0).
 *   COUNT  how many matching calls then fail (default 1); '*' or 0: every one from
 *          then on.  An empty SKIP or COUNT takes the default.
 *   short  a failing write of more than one byte writes the first half and returns
 *          that short count; the next write on the same file then fails with ERRNO.
 *          That is how a full disk answers write_all().  Both are one injection.
 *
 * Each rule counts the calls it matches on its own, whatever the other rules do: a
 * rule fails matching calls SKIP+1 to SKIP+COUNT.  When several rules fail one call,
 * the first in order gives its errno.  A malformed rule, an unreadable rules file or
 * a log that cannot be opened stops the program at start with a message on stderr
 * and exit 64, so a typo never silently tests nothing.
 *
 * (A C comment can hold neither a star before a slash nor a slash before a star, so
 * the examples here write '*\/' for the first and '/?*' for the second.  Both are
 * valid GLOBs as written, with the same meaning but for '?*' asking one character
 * or more; in a shell write them plainly, as README.md does.)
 *
 * Writes reach their real name only by a rename: spool_publish() writes, fsyncs and
 * closes a temporary file (tmp/.pub.?* or a .pub.?* dot-name beside the target) and
 * then renames it into place.  So a status write is failed with
 *   renameat2:*\/orders/?*\/status:ENOSPC
 * while write:*\/tmp/.pub.?*:ENOSPC:0:1:short fails the data of the next publish.
 * More examples:
 *   renameat2:*\/state/success/?*:EIO:0:2   the next two moves into success
 *   *:*\/orders/1001/?*:EROFS:0:*           every write below order 1001, for good
 *   openat:*\/history:EDQUOT:1:1            the second open of a history file
 *   fsync:*:EIO:3                           the fourth fsync, whatever it syncs
 *
 * SPOOL_FAULTS_FILE turns faults on and off under a running spoold ("the disk is
 * full now", "now it is not").  The file is looked at (stat) at most every 50 ms of
 * CLOCK_MONOTONIC, at the next wrapped call; when its inode, size, mtime or ctime
 * has changed it is read again and its rules start counting from zero.  So a call
 * made 50 ms after the change sees the new rules.  A missing or empty file means no
 * rules from it.  Replace it with a rename (write a temporary file, mv it) so that it
 * is never read half written; a file that fails to parse while the program runs is
 * reported on stderr (by each process that reads it) and gives no rules until it
 * changes again.  The rules of
 * SPOOL_FAULTS stay in force throughout, with their own counts.
 *
 * The log: each injected failure appends one line, "PID CALL PATH ERRNONAME", with
 * " short" after it for a short write, in one write(2) with O_APPEND, through the
 * real system calls, never the table.  Control characters in PATH are written '?'.
 * A relative SPOOL_FAULTS_LOG or SPOOL_FAULTS_FILE is taken from the working
 * directory at start.
 *
 * Processes: the state is plain memory.  A forked child (spoold's built-in actions,
 * its mailer, its sync helper) keeps the wrapped table, the rules and the counts its
 * parent had at the fork, and counts on its own from there: counts are per process,
 * so a rule with COUNT 1 may fail once in the parent and once in a child.  An exec'd
 * handler loses it all, as it should.  No lock is ever taken, nothing is allocated,
 * and only system calls and fnmatch (spoold sets no locale, so fnmatch stays on its
 * single-byte path) run in the wrapped paths, so a fork at any moment is safe.
 *
 * Not reachable: a system call that spoold or spoolctl makes directly rather than
 * through spool_sys cannot be failed here (the mailer's moves to outbox/sent and
 * outbox/failed, for one, when this was written).
 *
 * Adding an entry of struct spool_sys (fchmod, fchown, fallocate...) is one line in
 * WRAPPED below.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"

/*
 * The entries wrapped by shape; a new one is a line here.  The parameters must be
 * named as the shape expects:
 *   FD(name, type, (int fd, ...), (fd, ...))                    acts on descriptor fd
 *   AT(name, type, (int fd, const char *p, ...), (fd, p, ...))  acts on p below fd
 *   AT2(name, type, (int fd, const char *p, int fd2, const char *p2, ...), (...))
 *                                          from p below fd to p2 below fd2 (target)
 * openat, openat_beneath, write, read and close are written out by hand further down.
 */
#define WRAPPED(FD, AT, AT2) \
	FD(fsync, int, (int fd), (fd)) \
	FD(ftruncate, int, (int fd, off_t len), (fd, len)) \
	FD(flock, int, (int fd, int op), (fd, op)) \
	FD(futimens, int, (int fd, const struct timespec *ts), (fd, ts)) \
	FD(syncfs, int, (int fd), (fd)) \
	FD(pwrite, ssize_t, (int fd, const void *b, size_t n, off_t off), (fd, b, n, off)) \
	FD(fchmod, int, (int fd, mode_t mode), (fd, mode)) \
	FD(fchown, int, (int fd, uid_t u, gid_t g), (fd, u, g)) \
	AT(mkdirat, int, (int fd, const char *p, mode_t mode), (fd, p, mode)) \
	AT(unlinkat, int, (int fd, const char *p, int flags), (fd, p, flags)) \
	AT2(renameat2, int, (int fd, const char *p, int fd2, const char *p2, unsigned flags), \
	    (fd, p, fd2, p2, flags)) \
	AT2(linkat, int, (int fd, const char *p, int fd2, const char *p2, int flags), \
	    (fd, p, fd2, p2, flags))

#define ENUM_ENTRY(name, ...) C_##name,
#define NAME_ENTRY(name, ...) #name,

/* Call numbers; those before C_read are write-side (part of '*'). */
enum call {
	C_openat, C_openat_beneath, C_write,
	WRAPPED(ENUM_ENTRY, ENUM_ENTRY, ENUM_ENTRY)
	C_read, C_close,
	C_COUNT,
	C_ANY = -1
};

static const char *const call_names[C_COUNT] = {
	"openat", "openat_beneath", "write",
	WRAPPED(NAME_ENTRY, NAME_ENTRY, NAME_ENTRY)
	"read", "close",
};

_Static_assert(C_COUNT <= 64, "one bit per call in a mask");

enum {
	MAX_RULES = 64,
	GLOB_MAX = 1024,
	FILE_MAX = 64 * 1024,
	PATH_BUF = 8192,
	RELOAD_NS = 50 * 1000 * 1000,
	};

struct rule {
	int call;          /* enum call, or C_ANY */
	int err;
	int shortw;        /* a failing write writes half first */
	long skip, count;  /* count 0: every one after skip */
	long seen;         /* matching calls so far, in this process */
	char glob[GLOB_MAX];
};

struct ruleset {
	struct rule r[MAX_RULES];
	int n;
	unsigned long long mask;   /* calls some rule may fail */
};

/* What identifies a version of the rules file; missing is all zero. */
struct stamp {
	int present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static struct spool_sys next;            /* what the wrappers call: the table before us */
static struct ruleset env_rules, file_rules;
static char log_path[PATH_BUF];
static char rules_path[PATH_BUF];
static struct stamp rules_stamp;
static struct timespec rules_checked;
static char file_text[FILE_MAX + 1];
static int started;                      /* past the constructor: a bad rule no longer stops */

/* The rest of a short write: the next write on this file fails. */
static struct {
	int fd, err;
	dev_t dev;
	ino_t ino;
} pending = { .fd = -1 };

/* ---- small helpers that need no stdio or malloc -------------------------------- */

static void
put(char *buf, size_t len, size_t *at, const char *s)
{
	while (*s != '\0' && *at + 1 < len)
		buf[(*at)++] = *s++;
	buf[*at] = '\0';
}

static void
put_long(char *buf, size_t len, size_t *at, long v)
{
	char d[24];
	int i = (int)sizeof d - 1;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0 && i > 1);
	if (v < 0)
		d[--i] = '-';
	put(buf, len, at, d + i);
}

/* A message on stderr, "spool-faultinj: " and the strings up to NULL, in one write. */
static void say(const char *s, ...) __attribute__((sentinel));

static void
say(const char *s, ...)
{
	char msg[PATH_BUF];
	size_t at = 0;
	va_list ap;
	ssize_t r;

	put(msg, sizeof msg, &at, "spool-faultinj: ");
	va_start(ap, s);
	for (; s != NULL; s = va_arg(ap, const char *))
		put(msg, sizeof msg, &at, s);
	va_end(ap);
	put(msg, sizeof msg, &at, "\n");
	r = write(2, msg, at);
	(void)r;
}

#define die(...) (say(__VA_ARGS__), _exit(SPOOL_EX_USAGE))

/* The errno's name ("ENOSPC"), or its number. */
static const char *
err_name(int err, char *buf, size_t len)
{
	const char *s = strerrorname_np(err);
	size_t at = 0;

	if (s != NULL)
		return s;
	put_long(buf, len, &at, err);
	return buf;
}

static int
err_parse(const char *s)
{
	char *end;
	long v;
	int e;

	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtol(s, &end, 10);
		return *end == '\0' && errno == 0 && v > 0 && v < 4096 ? (int)v : -1;
	}
	/* every name the C library knows, EWOULDBLOCK and EDEADLOCK as their twins */
	if (strcmp(s, "EWOULDBLOCK") == 0)
		return EWOULDBLOCK;
	if (strcmp(s, "EDEADLOCK") == 0)
		return EDEADLOCK;
	for (e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n != NULL && strcmp(n, s) == 0)
			return e;
	}
	return -1;
}

/* -1, or a count: digits only (empty gives dflt; star, if allowed, gives 0). */
static long
num_parse(const char *s, long dflt, int star)
{
	long v = 0;

	if (*s == '\0')
		return dflt;
	if (star && strcmp(s, "*") == 0)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 100000000L)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* The absolute path of an open descriptor (or of the working directory). */
static void
fd_path(int fd, char *buf, size_t len)
{
	char proc[48];
	size_t at = 0;
	ssize_t n;

	if (fd == AT_FDCWD) {
		if (getcwd(buf, len) == NULL)
			put(buf, len, &at, "?");
		return;
	}
	put(proc, sizeof proc, &at, "/proc/self/fd/");
	put_long(proc, sizeof proc, &at, fd);
	if ((n = readlink(proc, buf, len - 1)) < 0)
		n = 0, buf[n++] = '?';
	buf[n] = '\0';
}

static void
at_path(int fd, const char *name, char *buf, size_t len)
{
	size_t at;

	if (name[0] == '/') {
		at = 0;
		put(buf, len, &at, name);
		return;
	}
	fd_path(fd, buf, len);
	at = strlen(buf);
	put(buf, len, &at, "/");
	put(buf, len, &at, name);
}

/* ---- rules --------------------------------------------------------------------- */

/* The end of the field that starts at s: the next sep not quoted by '\'. */
static char *
field_end(char *s, const char *seps)
{
	for (; *s != '\0' && strchr(seps, *s) == NULL; s++)
		if (*s == '\\' && s[1] != '\0')
			s++;
	return s;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One rule into r; NULL, or why it is refused. */
static const char *
rule_parse(char *text, struct rule *r)
{
	char *f[7], *s = text, *e;
	int n = 0, i;
	long v;

	memset(r, 0, sizeof *r);
	for (;;) {
		e = field_end(s, ":");
		if (n == 7)
			return "too many fields (CALL:GLOB:ERRNO[:SKIP[:COUNT]][:short])";
		f[n++] = s;
		if (*e == '\0')
			break;
		*e = '\0';
		s = e + 1;
	}
	if (n < 3)
		return "too few fields (CALL:GLOB:ERRNO[:SKIP[:COUNT]][:short])";
	if (strcmp(f[n - 1], "short") == 0) {
		r->shortw = 1;
		n--;
	}
	if (n > 5)
		return "too many fields (CALL:GLOB:ERRNO[:SKIP[:COUNT]][:short])";
	if (strcmp(f[0], "*") == 0)
		r->call = C_ANY;
	else {
		for (i = 0; i < C_COUNT && strcmp(f[0], call_names[i]) != 0; i++)
			;
		if (i == C_COUNT)
			return "unknown CALL (openat, openat_beneath, write, fsync, renameat2, "
			    "linkat, unlinkat, mkdirat, ftruncate, flock, futimens, syncfs, read, "
			    "close, or *)";
		r->call = i;
	}
	if (r->shortw && r->call != C_write && r->call != C_ANY)
		return "'short' is only for write (or *)";
	if (f[1][0] == '\0')
		return "empty GLOB";
	if (strlen(f[1]) >= sizeof r->glob)
		return "GLOB too long";
	memcpy(r->glob, f[1], strlen(f[1]) + 1);
	if ((r->err = err_parse(f[2])) < 0)
		return "unknown ERRNO (a name such as ENOSPC, or a number)";
	r->skip = 0;
	r->count = 1;
	if (n > 3 && (r->skip = num_parse(f[3], 0, 0)) < 0)
		return "SKIP is not a number";
	if (n > 4) {
		if ((v = num_parse(f[4], 1, 1)) < 0)
			return "COUNT is not a number or '*'";
		r->count = v;
	}
	return NULL;
}

/* Parse text (NUL-terminated, changed in place) into set; 0, or -1 having said why. */
static int
rules_parse(char *text, struct ruleset *set, const char *origin)
{
	char *line = text, *nl, *rs, *re, *rule, copy[GLOB_MAX + 128];
	const char *why;
	int lineno = 0, i;
	size_t at;

	memset(set, 0, sizeof *set);
	for (; line != NULL; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (*trim(line) == '#')
			continue;
		for (rs = line;; rs = re + 1) {
			int last;

			re = field_end(rs, ";");
			last = *re == '\0';
			*re = '\0';
			rule = trim(rs);
			if (*rule != '\0') {
				at = 0;
				put(copy, sizeof copy, &at, rule);
				if (set->n == MAX_RULES)
					why = "too many rules";
				else
					why = rule_parse(rule, &set->r[set->n]);
				if (why != NULL) {
					char where[PATH_BUF + 32];

					at = 0;
					put(where, sizeof where, &at, origin);
					put(where, sizeof where, &at, " line ");
					put_long(where, sizeof where, &at, lineno);
					put(where, sizeof where, &at, ": rule '");
					put(where, sizeof where, &at, copy);
					put(where, sizeof where, &at, "': ");
					say(where, why,
					    started ? "; no rules from it until it changes" : "", NULL);
					memset(set, 0, sizeof *set);
					return -1;
				}
				set->n++;
			}
			if (last)
				break;
		}
	}
	for (i = 0; i < set->n; i++)
		set->mask |= set->r[i].call == C_ANY ? (1ULL << C_read) - 1 : 1ULL << set->r[i].call;
	return 0;
}

static void
stamp_of(const char *path, struct stamp *st, int *err)
{
	struct stat sb;

	memset(st, 0, sizeof *st);
	*err = 0;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			*err = errno;
		return;
	}
	st->present = 1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
	st->ctime = sb.st_ctim;
}

static int
stamp_same(const struct stamp *a, const struct stamp *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Read the rules file into file_rules; 0, or -1 having said why (no rules then). */
static int
rules_load(const struct stamp *st)
{
	ssize_t n;
	size_t len = 0;
	int fd;

	memset(&file_rules, 0, sizeof file_rules);
	if (!st->present)
		return 0;
	if ((fd = open(rules_path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		say("cannot read ", rules_path, ": ", strerror(errno), "; no rules from it", NULL);
		return -1;
	}
	while (len <= FILE_MAX && (n = read(fd, file_text + len, FILE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("cannot read ", rules_path, ": ", strerror(errno),
			    "; no rules from it", NULL);
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > FILE_MAX) {
		say(rules_path, ": longer than 64 KiB; no rules from it", NULL);
		return -1;
	}
	file_text[len] = '\0';
	return rules_parse(file_text, &file_rules, rules_path);
}

/* At most every 50 ms: has the rules file changed?  Then read it again. */
static void
rules_check(void)
{
	struct timespec now;
	struct stamp st;
	long long ns;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - rules_checked.tv_sec) * 1000000000LL +
	    (now.tv_nsec - rules_checked.tv_nsec);
	if (ns < RELOAD_NS)
		return;
	rules_checked = now;
	stamp_of(rules_path, &st, &err);
	if (stamp_same(&st, &rules_stamp))
		return;
	rules_stamp = st;
	/* a bad file gives no rules until it changes again; it has said why */
	rules_load(&st);
}

/* Could a rule fail this call?  Looks at the rules file first, when it is time. */
static int
armed(enum call c)
{
	int saved = errno;

	if (rules_path[0] != '\0')
		rules_check();
	errno = saved;
	return (int)(((env_rules.mask | file_rules.mask) >> c) & 1);
}

static void
log_hit(enum call c, const char *path, int err, int shortw)
{
	char line[PATH_BUF + 128], num[24];
	size_t at = 0;
	const char *p;
	ssize_t r;
	int fd;

	if (log_path[0] == '\0')
		return;
	put_long(line, sizeof line, &at, (long)getpid());
	put(line, sizeof line, &at, " ");
	put(line, sizeof line, &at, call_names[c]);
	put(line, sizeof line, &at, " ");
	for (p = path; *p != '\0' && at + 64 < sizeof line; p++)
		line[at++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	line[at] = '\0';
	put(line, sizeof line, &at, " ");
	put(line, sizeof line, &at, err_name(err, num, sizeof num));
	if (shortw)
		put(line, sizeof line, &at, " short");
	put(line, sizeof line, &at, "\n");
	if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return;
	r = write(fd, line, at);
	(void)r;
	close(fd);
}

static struct rule *
decide_in(struct ruleset *set, enum call c, const char *path, const char *path2,
    const char **which, struct rule *hit)
{
	struct rule *r;
	const char *m;
	int i;

	for (i = 0; i < set->n; i++) {
		r = &set->r[i];
		if (r->call != c && !(r->call == C_ANY && c < C_read))
			continue;
		if (fnmatch(r->glob, path, 0) == 0)
			m = path;
		else if (path2 != NULL && fnmatch(r->glob, path2, 0) == 0)
			m = path2;
		else
			continue;
		r->seen++;
		if (hit == NULL && r->seen > r->skip &&
		    (r->count == 0 || r->seen - r->skip <= r->count)) {
			hit = r;
			*which = m;
		}
	}
	return hit;
}

/*
 * Does a rule fail this call on path (or path2, the source of a rename or link)?  Then
 * it is logged, errno is set, and the rule is returned.  shortok: a write that can be
 * cut short.
 */
static struct rule *
decide(enum call c, const char *path, const char *path2, int shortok)
{
	const char *which = path;
	struct rule *hit;

	hit = decide_in(&env_rules, c, path, path2, &which, NULL);
	hit = decide_in(&file_rules, c, path, path2, &which, hit);
	if (hit == NULL)
		return NULL;
	log_hit(c, which, hit->err, hit->shortw && shortok);
	errno = hit->err;
	return hit;
}

static struct rule *
decide_fd(enum call c, int fd, int shortok)
{
	char path[PATH_BUF];
	int saved = errno;
	struct rule *r;

	fd_path(fd, path, sizeof path);
	errno = saved;
	r = decide(c, path, NULL, shortok);
	return r;
}

static struct rule *
decide_at(enum call c, int fd, const char *p)
{
	char path[PATH_BUF];
	int saved = errno;

	at_path(fd, p, path, sizeof path);
	errno = saved;
	return decide(c, path, NULL, 0);
}

static struct rule *
decide_at2(enum call c, int fd, const char *p, int fd2, const char *p2)
{
	char to[PATH_BUF], from[PATH_BUF];
	int saved = errno;

	at_path(fd2, p2, to, sizeof to);
	at_path(fd, p, from, sizeof from);
	errno = saved;
	return decide(c, to, from, 0);
}

/* ---- the wrappers --------------------------------------------------------------- */

#define WRAP_FD(name, type, params, args) \
	static type w_##name params \
	{ \
		if (armed(C_##name) && decide_fd(C_##name, fd, 0) != NULL) \
			return -1; \
		return next.name args; \
	}
#define WRAP_AT(name, type, params, args) \
	static type w_##name params \
	{ \
		if (armed(C_##name) && decide_at(C_##name, fd, p) != NULL) \
			return -1; \
		return next.name args; \
	}
#define WRAP_AT2(name, type, params, args) \
	static type w_##name params \
	{ \
		if (armed(C_##name) && decide_at2(C_##name, fd, p, fd2, p2) != NULL) \
			return -1; \
		return next.name args; \
	}

WRAPPED(WRAP_FD, WRAP_AT, WRAP_AT2)

/* An open counts only when it may change the file system. */
static int
writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND)) != 0;
}

static int
w_openat(int fd, const char *p, int flags, mode_t mode)
{
	if (writes(flags) && armed(C_openat) && decide_at(C_openat, fd, p) != NULL)
		return -1;
	return next.openat(fd, p, flags, mode);
}

static int
w_openat_beneath(int fd, const char *p, int flags, mode_t mode)
{
	if (writes(flags) && armed(C_openat_beneath) &&
	    decide_at(C_openat_beneath, fd, p) != NULL)
		return -1;
	return next.openat_beneath(fd, p, flags, mode);
}

static ssize_t
w_write(int fd, const void *buf, size_t len)
{
	struct rule *r;
	struct stat st;
	ssize_t n;
	int saved;

	if (pending.fd >= 0 && pending.fd == fd) {
		/* the rest of a short write, if fd is still that file */
		pending.fd = -1;
		saved = errno;
		if (fstat(fd, &st) == 0 && st.st_dev == pending.dev && st.st_ino == pending.ino) {
			errno = pending.err;
			return -1;
		}
		errno = saved;
	}
	if (!armed(C_write) || (r = decide_fd(C_write, fd, len > 1)) == NULL)
		return next.write(fd, buf, len);
	if (!r->shortw || len <= 1)
		return -1;
	if (fstat(fd, &st) < 0 || (n = next.write(fd, buf, len / 2)) <= 0) {
		errno = r->err;
		return -1;
	}
	pending.fd = fd;
	pending.err = r->err;
	pending.dev = st.st_dev;
	pending.ino = st.st_ino;
	return n;
}

static ssize_t
w_read(int fd, void *buf, size_t len)
{
	if (armed(C_read) && decide_fd(C_read, fd, 0) != NULL)
		return -1;
	return next.read(fd, buf, len);
}

static int
w_close(int fd)
{
	int err;

	if (fd == pending.fd)
		pending.fd = -1;
	if (armed(C_close) && decide_fd(C_close, fd, 0) != NULL) {
		/* the descriptor is gone all the same, as after a real failing close */
		err = errno;
		next.close(fd);
		errno = err;
		return -1;
	}
	return next.close(fd);
}

/* ---- start ---------------------------------------------------------------------- */

/* An absolute path for an environment variable's value, fixed at start. */
static void
absolute(const char *var, const char *val, char *buf, size_t len)
{
	size_t at = 0;

	if (val[0] != '/') {
		if (getcwd(buf, len) == NULL)
			die("cannot find the working directory for ", var, ": ",
			    strerror(errno), NULL);
		at = strlen(buf);
		put(buf, len, &at, "/");
	}
	put(buf, len, &at, val);
	if (at + 1 >= len)
		die(var, ": path too long", NULL);
}

#define INSTALL(name, ...) spool_sys.name = w_##name;

__attribute__((constructor)) static void
faultinj_start(void)
{
	static char env_text[FILE_MAX + 1];
	const char *env = getenv("SPOOL_FAULTS");
	const char *file = getenv("SPOOL_FAULTS_FILE");
	const char *logp = getenv("SPOOL_FAULTS_LOG");
	int err, fd;
	size_t at = 0;

	if (logp != NULL && logp[0] != '\0') {
		absolute("SPOOL_FAULTS_LOG", logp, log_path, sizeof log_path);
		/* a log that cannot be written would make every test's proof fail silently */
		if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
			die("cannot open SPOOL_FAULTS_LOG ", log_path, ": ", strerror(errno), NULL);
		close(fd);
	}
	if (env != NULL && env[0] != '\0') {
		if (strlen(env) > FILE_MAX)
			die("SPOOL_FAULTS is longer than 64 KiB", NULL);
		put(env_text, sizeof env_text, &at, env);
		if (rules_parse(env_text, &env_rules, "SPOOL_FAULTS") < 0)
			_exit(SPOOL_EX_USAGE);
	}
	if (file != NULL && file[0] != '\0') {
		absolute("SPOOL_FAULTS_FILE", file, rules_path, sizeof rules_path);
		stamp_of(rules_path, &rules_stamp, &err);
		if (err != 0)
			die("cannot look at SPOOL_FAULTS_FILE ", rules_path, ": ", strerror(err),
			    NULL);
		if (rules_load(&rules_stamp) < 0)
			_exit(SPOOL_EX_USAGE);
		clock_gettime(CLOCK_MONOTONIC, &rules_checked);
	}
	started = 1;
	if (env_rules.n == 0 && rules_path[0] == '\0')
		return;
	next = spool_sys;
	spool_sys.openat = w_openat;
	spool_sys.openat_beneath = w_openat_beneath;
	spool_sys.write = w_write;
	spool_sys.read = w_read;
	spool_sys.close = w_close;
	WRAPPED(INSTALL, INSTALL, INSTALL)
}
