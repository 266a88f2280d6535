/* Test helpers: fault injection, temporary spools, shared fixtures and tree snapshots; see fault.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"

struct fault fault;
char *dir;
struct spool *sp;
int dfd = -1;
static time_t fixed_time;

static int
failing(const char *name)
{
	if (fault.only != NULL && strcmp(fault.only, name) != 0)
		return 0;
	fault.calls++;
	if (fault.at == 0 || fault.calls != fault.at)
		return 0;
	fault.hit = 1;
	fault.hit_name = name;
	errno = fault.err;
	return 1;
}

static int
f_openat(int d, const char *p, int fl, mode_t m)
{
	return failing("openat") ? -1 : spool_sys_real.openat(d, p, fl, m);
}

static int
f_openat_beneath(int d, const char *p, int fl, mode_t m)
{
	return failing("openat") ? -1 : spool_sys_real.openat_beneath(d, p, fl, m);
}

static int
f_close(int fd)
{
	/* close releases the descriptor even when it reports an error */
	if (failing("close")) {
		spool_sys_real.close(fd);
		errno = fault.err;
		return -1;
	}
	return spool_sys_real.close(fd);
}

static ssize_t f_read(int fd, void *b, size_t n);

static const char *grow_path;
static size_t grow_n;

void
grow_on_read(const char *path, size_t n)
{
	grow_path = path;
	grow_n = n;
	spool_sys.read = f_read;
}

static ssize_t
f_read(int fd, void *b, size_t n)
{
	char x[4096];
	size_t k;
	int gfd;

	if (grow_path != NULL) {
		gfd = open(grow_path, O_WRONLY | O_APPEND | O_CLOEXEC);
		assert_true(gfd >= 0);
		memset(x, 'x', sizeof x);
		for (; grow_n > 0; grow_n -= k) {
			k = grow_n < sizeof x ? grow_n : sizeof x;
			assert_int_equal(write(gfd, x, k), (ssize_t)k);
		}
		close(gfd);
		grow_path = NULL;
	}
	return failing("read") ? -1 : spool_sys_real.read(fd, b, n);
}

static ssize_t
f_write(int fd, const void *b, size_t n)
{
	if (failing("write")) {
		if (fault.short_write && n > 1)
			return spool_sys_real.write(fd, b, n / 2);
		return -1;
	}
	return spool_sys_real.write(fd, b, n);
}

static int
f_fsync(int fd)
{
	return failing("fsync") ? -1 : spool_sys_real.fsync(fd);
}

static int
f_renameat2(int a, const char *b, int c, const char *d, unsigned e)
{
	return failing("renameat2") ? -1 : spool_sys_real.renameat2(a, b, c, d, e);
}

static int
f_linkat(int a, const char *b, int c, const char *d, int e)
{
	return failing("linkat") ? -1 : spool_sys_real.linkat(a, b, c, d, e);
}

static int
f_unlinkat(int d, const char *p, int fl)
{
	return failing("unlinkat") ? -1 : spool_sys_real.unlinkat(d, p, fl);
}

static int
f_syncfs(int fd)
{
	return failing("syncfs") ? -1 : spool_sys_real.syncfs(fd);
}

static int
f_mkdirat(int d, const char *p, mode_t m)
{
	return failing("mkdirat") ? -1 : spool_sys_real.mkdirat(d, p, m);
}

static int
f_ftruncate(int fd, off_t l)
{
	return failing("ftruncate") ? -1 : spool_sys_real.ftruncate(fd, l);
}

static int
f_flock(int fd, int op)
{
	return failing("flock") ? -1 : spool_sys_real.flock(fd, op);
}

static int
f_futimens(int fd, const struct timespec *ts)
{
	return failing("futimens") ? -1 : spool_sys_real.futimens(fd, ts);
}

static int
f_fchmod(int fd, mode_t m)
{
	return failing("fchmod") ? -1 : spool_sys_real.fchmod(fd, m);
}

static int
f_fchown(int fd, uid_t u, gid_t g)
{
	return failing("fchown") ? -1 : spool_sys_real.fchown(fd, u, g);
}

static time_t
f_time(time_t *t)
{
	if (t != NULL)
		*t = fixed_time;
	return fixed_time;
}

void
fault_install(time_t t)
{
	spool_domain_init();
	fixed_time = t;
	spool_sys.openat = f_openat;
	spool_sys.openat_beneath = f_openat_beneath;
	spool_sys.close = f_close;
	spool_sys.read = f_read;
	spool_sys.write = f_write;
	spool_sys.fsync = f_fsync;
	spool_sys.renameat2 = f_renameat2;
	spool_sys.linkat = f_linkat;
	spool_sys.unlinkat = f_unlinkat;
	spool_sys.mkdirat = f_mkdirat;
	spool_sys.ftruncate = f_ftruncate;
	spool_sys.flock = f_flock;
	spool_sys.futimens = f_futimens;
	spool_sys.fchmod = f_fchmod;
	spool_sys.fchown = f_fchown;
	spool_sys.syncfs = f_syncfs;
	spool_sys.time = f_time;
	memset(&fault, 0, sizeof fault);
}

void
fault_arm(long at, int err)
{
	memset(&fault, 0, sizeof fault);
	fault.at = at;
	fault.err = err;
}

/* Stop injecting; what happened (hit, hit_name, calls) stays readable. */
void
fault_disarm(void)
{
	fault.at = 0;
	fault.short_write = 0;
	fault.only = NULL;
}

char *
tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/spooltest.XXXXXX", base) < 0 || mkdtemp(p) == NULL)
		abort();
	return p;
}

int
sh(const char *f, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, f);
	if (vasprintf(&cmd, f, ap) < 0)
		abort();
	va_end(ap);
	r = system(cmd);
	free(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

void
tree_rm(const char *path)
{
	sh("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
}

struct spool *
spool_make(const char *folder, const char *workflow)
{
	struct spool_err err;
	struct spool *s;
	char path[4096], name[128];
	const char *text;
	size_t len;

	snprintf(path, sizeof path, "%s/spool", folder);
	snprintf(name, sizeof name, "workflows/%s.conf", workflow);
	if ((text = spool_shipped(name, &len)) == NULL) {
		/* not shipped: the text of a workflow itself */
		text = workflow;
		len = strlen(workflow);
	}
	if (spool_init(path, name, text, len, &err) < 0)
		fail_msg("init: %s", err.msg);
	if (spool_open(path, 0, &s, &err) < 0)
		fail_msg("open: %s", err.msg);
	return s;
}

void
spool_unmake(struct spool *s, char *folder)
{
	spool_close(s);
	tree_rm(folder);
	free(folder);
}

void
submit_example(struct spool *s, const char *folder, const char *wf, const char *id,
    const char *name, const char *who)
{
	struct spool_err err;
	char *b = bundle_copy(folder, wf, id, name);

	if (spool_submit(s, AT_FDCWD, b, NULL, who, NULL, NULL, &err) < 0)
		fail_msg("submit %s: %s", id, err.msg);
	free(b);
}

char *
bundle_copy(const char *folder, const char *wf, const char *id, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", folder, name) < 0)
		abort();
	if (sh("rm -rf '%s' && cp -R spool-layout/examples/%s/%s '%s'", p, wf, id, p) != 0)
		fail_msg("cannot copy example %s/%s", wf, id);
	return p;
}

void
file_write(const char *path, const char *text)
{
	FILE *f;

	sh("mkdir -p \"$(dirname '%s')\"", path);
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot write %s", path);
	if (text != NULL)
		fputs(text, f);
	fclose(f);
}

char *
file_read(int at, const char *path, size_t *len)
{
	char *buf;
	size_t n;

	if (read_file(at, path, 64 << 20, &buf, &n) < 0)
		return NULL;
	if (len != NULL)
		*len = n;
	return buf;
}

struct buf {
	char *s;
	size_t n, cap;
};

static void
add(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			abort();
	}
	memcpy(b->s + b->n, s, n + 1);
	b->n += n;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t
hash_file(const char *path)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned char buf[4096];
	size_t n, i;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	fclose(f);
	return h;
}

static void
walk(const char *root, const char *rel, char ***lines, size_t *n)
{
	char path[8200], sub[4096], line[4400];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		/* spool-id is random by design: two spools never share one */
		if (strcmp(sub, "tmp") == 0 || strcmp(sub, "run") == 0 ||
		    strcmp(sub, spool_basename(SPOOL_F_SPOOL_ID)) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", root, sub);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			snprintf(line, sizeof line, "%.4000s/\n", sub);
			walk(root, sub, lines, n);
		} else
			snprintf(line, sizeof line, "%.4000s %lld %016llx\n", sub, (long long)st.st_size,
			    (unsigned long long)hash_file(path));
		*lines = realloc(*lines, (*n + 1) * sizeof **lines);
		(*lines)[(*n)++] = strdup(line);
	}
	closedir(d);
}

char *
snapshot(const char *root)
{
	struct buf b = { 0 };
	char **lines = NULL;
	size_t n = 0, i;

	walk(root, "", &lines, &n);
	qsort(lines, n, sizeof *lines, cmpstr);
	add(&b, "");
	for (i = 0; i < n; i++) {
		add(&b, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return b.s;
}

struct spool_conf *
conf_parsed(const char *name, const char *text)
{
	struct spool_conf *c;
	struct spool_err err;

	if (spool_conf_parse(name, text, &c, &err) < 0)
		fail_msg("%s", err.msg);
	return c;
}

void
conf_refused(const char *text, const char *want)
{
	struct spool_conf *c = NULL;
	struct spool_err err = { "" };

	if (spool_conf_parse("t.conf", text, &c, &err) == 0) {
		spool_conf_free(c);
		fail_msg("parsed, but should fail with '%s':\n%s", want, text);
	}
	if (errno != EINVAL)
		fail_msg("errno %d, not EINVAL, for '%s'", errno, err.msg);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err.msg, want);
}

struct stat
lstat_of(const char *fmt, ...)
{
	struct stat st;
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (lstat(p, &st) < 0)
		fail_msg("%s: %s", p, strerror(errno));
	free(p);
	return st;
}

int
dir_count(const char *path)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

const char *
jdf_xsd(void)
{
	const char *p = getenv("JDF_XSD");

	if (p == NULL)
		p = "../shared/schemas/jdf/JDF.xsd";
	return access(p, R_OK) == 0 ? p : NULL;
}

void
fixture_spool(time_t t, const char *workflow)
{
	fault_install(t);
	dir = tmpdir_make();
	sp = spool_make(dir, workflow);
}

void
fixture_order(void)
{
	submit_example(sp, dir, "print", "1001", "b1001", "admin:test");
}

int
setup_order(void **state)
{
	(void)state;
	fixture_spool(1763900000, "print");
	fixture_order();
	return 0;
}

int
teardown_spool(void **state)
{
	(void)state;
	spool_unmake(sp, dir);
	return 0;
}

void
fixture_dir(time_t t)
{
	fault_install(t);
	dir = tmpdir_make();
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
}

int
setup_dir(void **state)
{
	(void)state;
	fixture_dir(1763900000);
	return 0;
}

int
teardown_dir(void **state)
{
	(void)state;
	close(dfd);
	tree_rm(dir);
	free(dir);
	return 0;
}
