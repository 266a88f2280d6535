/*
 * outbox: the spooled notification mails in outbox/new, sent and failed; list them,
 * send one again now, purge the old ones.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spoolctl.h"

static const enum spool_file boxes[] = { SPOOL_F_OUTBOX_NEW, SPOOL_F_OUTBOX_SENT,
	SPOOL_F_OUTBOX_FAILED };

static int
box_fd(struct spool *sp, enum spool_file box)
{
	int fd = openat(spool_dirfd(sp, SPOOL_DIR_OUTBOX), spool_basename(box),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die(excode(errno), "cannot open %s/%s: %s", spooldir, SPOOL_NAME(box, NULL),
		    strerror(errno));
	return fd;
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
	spool_name(SPOOL_F_REASON, name, path, sizeof path);
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
				json_kstr(&j, "folder", spool_basename(boxes[b]));
				json_kstr(&j, "name", v[i]);
				json_kstr(&j, "order", id);
				/* new: when it is due; sent and failed: when it got there */
				json_kstr(&j, b == 0 ? "due" : "time", when);
				if (b == 2)
					json_kstr(&j, "reason", reason);
				json_end(&j, '}');
			} else
				printf("%-7s %-20s %s  %s%s%s\n", spool_basename(boxes[b]), id, when, v[i],
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
	int nfd = box_fd(sp, SPOOL_F_OUTBOX_NEW), ffd = box_fd(sp, SPOOL_F_OUTBOX_FAILED), i, rc = 0;
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
			warnx_("%s: not in %s or %s: %s", argv[i], SPOOL_NAME(SPOOL_F_OUTBOX_NEW, NULL),
			    SPOOL_NAME(SPOOL_F_OUTBOX_FAILED, NULL), strerror(errno));
			rc = SPOOL_EX_NOTFOUND;
			continue;
		}
		spool_name(SPOOL_F_REASON, argv[i], reason, sizeof reason);
		unlinkat(ffd, reason, 0);
	}
	if (spool_fsync_dir(nfd) < 0 || spool_fsync_dir(ffd) < 0)
		die(excode(errno), "cannot sync the outbox: %s", strerror(errno));
	close(nfd);
	close(ffd);
	/* a due time changed in new/ rings no bell: ask spoold to look */
	if (ring_spoold(sp) < 0)
		warnx_("cannot write %s/%s: %s", spooldir, SPOOL_NAME(SPOOL_F_KICK, NULL),
		    strerror(errno));
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

	while ((c = cmd_getopt(argc, argv, "", opts)) != -1)
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
				spool_name(SPOOL_F_REASON, v[i], reason, sizeof reason);
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

int
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
