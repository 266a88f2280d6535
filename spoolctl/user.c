/*
 * user: the users of the web back office (SPOOL/web/users): add, del, set a password,
 * list.  A password is read from stdin, or asked twice without echo on a terminal,
 * hashed by libspool, and wiped; it is never printed, and neither is a hash.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "spoolctl.h"

#define PASSWORD_MAX 1024

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* A signal while echo is off: turn it back on, then die of the signal as we would have. */
static void
restore_tty(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One line from stdin into buf, its newline stripped, read a byte at a time so that
 * no stdio buffer keeps a copy of it.  0, or -1 when too long or at the end before
 * any byte.
 */
static int
read_line(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= len) {
			errno = EFBIG;
			return -1;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (r == 0 && n == 0) {
		errno = ENODATA;
		return -1;
	}
	return 0;
}

/* Ask on the terminal, without echo. */
static int
ask(const char *prompt, char *buf, size_t len)
{
	struct termios t;
	int r, e;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return -1;
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	signal(SIGINT, restore_tty);
	signal(SIGTERM, restore_tty);
	signal(SIGHUP, restore_tty);
	tty_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0) {
		tty_changed = 0;
		return -1;
	}
	r = read_line(buf, len);
	e = errno;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_changed = 0;
	errno = e;
	return r;
}

/* The new password: twice on a terminal, once from anything else. */
static void
read_password(char *pw, size_t len)
{
	char again[PASSWORD_MAX];
	int same;

	if (!isatty(STDIN_FILENO)) {
		if (read_line(pw, len) < 0)
			die(errno == EFBIG ? SPOOL_EX_DATAERR : SPOOL_EX_FAIL,
			    "user passwd: cannot read the password from stdin: %s",
			    errno == EFBIG ? "longer than 1023 bytes" : strerror(errno));
		return;
	}
	if (ask("New password: ", pw, len) < 0 || ask("Again: ", again, sizeof again) < 0) {
		explicit_bzero(pw, len);
		explicit_bzero(again, sizeof again);
		die(errno == EFBIG ? SPOOL_EX_DATAERR : SPOOL_EX_FAIL,
		    "user passwd: cannot read the password: %s",
		    errno == EFBIG ? "longer than 1023 bytes" : strerror(errno));
	}
	same = strcmp(pw, again) == 0;
	explicit_bzero(again, sizeof again);
	if (!same) {
		explicit_bzero(pw, len);
		die(SPOOL_EX_DATAERR, "user passwd: the two passwords differ; nothing changed");
	}
}

static int
user_add(struct spool *sp, int argc, char **argv)
{
	static const struct option opts[] = { { "role", required_argument, NULL, 'r' },
		{ "queue", required_argument, NULL, 'q' }, { 0 } };
	struct spool_user u;
	struct spool_err err;
	int c;

	memset(&u, 0, sizeof u);
	while ((c = cmd_getopt(argc, argv, "", opts)) != -1)
		switch (c) {
		case 'r':
			if (strcmp(optarg, "admin") == 0)
				u.role = SPOOL_ROLE_ADMIN;
			else if (strcmp(optarg, "printer") == 0)
				u.role = SPOOL_ROLE_PRINTER;
			else
				die(SPOOL_EX_USAGE, "user add: --role is admin or printer, not '%.80s'",
				    optarg);
			break;
		case 'q':
			if (u.nqueues == SPOOL_USER_QUEUES_MAX)
				die(SPOOL_EX_USAGE, "user add: at most %d queues", SPOOL_USER_QUEUES_MAX);
			if (!spool_name_ok(optarg))
				die(SPOOL_EX_USAGE, "user add: '%.80s' is not a queue name", optarg);
			memcpy(u.queues[u.nqueues++], optarg, strlen(optarg) + 1);
			break;
		default:
			usage();
		}
	if (optind != argc - 1 || u.role == 0)
		usage();
	if (!spool_name_ok(argv[optind]))
		die(SPOOL_EX_USAGE, "user add: '%.80s' is not a user name (1..32 of a-z, 0-9 and -, "
		    "a letter first)", argv[optind]);
	memcpy(u.name, argv[optind], strlen(argv[optind]) + 1);
	if (u.role == SPOOL_ROLE_PRINTER && u.nqueues == 0)
		die(SPOOL_EX_USAGE, "user add: a printer needs --queue QUEUE");
	if (u.role == SPOOL_ROLE_ADMIN && u.nqueues != 0)
		die(SPOOL_EX_USAGE, "user add: an admin sees every queue; give no --queue");
	if (spool_user_add(sp, &u, &err) < 0)
		die(excode(errno), "%s", err.msg);
	return 0;
}

static int
user_passwd(struct spool *sp, const char *name)
{
	char pw[PASSWORD_MAX], hash[SPOOL_HASH_MAX];
	struct spool_users users;
	struct spool_err err;
	int found, r;

	/* no one should type a password for a user who is not there */
	if (spool_users_read(sp, &users, &err) < 0)
		die(excode(errno), "%s/%s", spooldir, err.msg);
	found = spool_users_find(&users, name) != NULL;
	spool_users_free(&users);
	if (!found)
		die(SPOOL_EX_NOTFOUND, "no user %.80s", name);
	read_password(pw, sizeof pw);
	if (pw[0] == '\0')
		die(SPOOL_EX_DATAERR, "user passwd: an empty password is refused");
	r = spool_user_hash(pw, hash, sizeof hash, &err);
	explicit_bzero(pw, sizeof pw);
	if (r < 0)
		die(excode(errno), "%s", err.msg);
	r = spool_user_set_hash(sp, name, hash, &err);
	explicit_bzero(hash, sizeof hash);
	if (r < 0)
		die(excode(errno), "%s", err.msg);
	return 0;
}

static void
user_ls(struct spool *sp, int json)
{
	struct spool_users users;
	struct spool_err err;
	char queues[SPOOL_USER_QUEUES_MAX * (SPOOL_NAME_MAX + 1) + 2];
	struct json j;
	int i, q;

	if (spool_users_read(sp, &users, &err) < 0)
		die(excode(errno), "%s/%s", spooldir, err.msg);
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (i = 0; i < users.n; i++) {
		const struct spool_user *u = &users.v[i];
		const char *role = u->role == SPOOL_ROLE_ADMIN ? "admin" : "printer";

		if (json) {
			json_obj(&j);
			json_kstr(&j, "name", u->name);
			json_kstr(&j, "role", role);
			json_key(&j, "queues");
			json_arr(&j);
			for (q = 0; q < u->nqueues; q++)
				json_str(&j, u->queues[q]);
			json_end(&j, ']');
			json_key(&j, "password");
			json_bool(&j, u->hash[0] != '\0');
			json_end(&j, '}');
			continue;
		}
		queues[0] = '\0';
		for (q = 0; q < u->nqueues; q++) {
			strcat(queues, q ? "," : "");
			strcat(queues, u->queues[q]);
		}
		printf("%-20s %-8s %-24s %s\n", u->name, role, u->nqueues ? queues : "-",
		    u->hash[0] ? "password set" : "no password");
	}
	if (json) {
		json_end(&j, ']');
		json_done(&j);
	}
	spool_users_free(&users);
}

int
cmd_user(int argc, char **argv)
{
	struct spool_err err;
	struct spool *sp;
	int json;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "add") == 0) {
		sp = open_spool();
		user_add(sp, argc - 1, argv + 1);
	} else if (strcmp(argv[1], "passwd") == 0) {
		if (argc != 3)
			usage();
		sp = open_spool();
		user_passwd(sp, argv[2]);
	} else if (strcmp(argv[1], "del") == 0) {
		if (argc != 3)
			usage();
		sp = open_spool();
		if (spool_user_del(sp, argv[2], &err) < 0)
			die(excode(errno), "%s", err.msg);
	} else if (strcmp(argv[1], "ls") == 0) {
		if (json_flag(argc - 1, argv + 1, &json) != argc - 1)
			usage();
		sp = open_spool();
		user_ls(sp, json);
	} else
		usage();
	close_spool();
	return 0;
}
