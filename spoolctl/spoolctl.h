/*
 * What the files of spoolctl share: the spool it works on and who the admin is, its
 * one-line messages and the exit code for an errno (spoolctl.c), the parsers of the
 * arguments several commands take, and the commands of the table in spoolctl.c.
 */
#ifndef SPOOLCTL_H
#define SPOOLCTL_H

#include <getopt.h>
#include <time.h>

#include "json.h"
#include "spool.h"

extern const char *progname;
extern const char *spooldir;        /* -d SPOOL or $SPOOL_DIR; NULL if neither */
extern char who[SPOOL_FIELD_MAX];   /* the admin, as history records the actor */

/* The running command's usage in one line on stderr, exit 64. */
void usage(void) __attribute__((noreturn));
/*
 * getopt_long for a command's options (longs may be NULL), which refuses an unknown
 * option or a missing value in one line naming it, exit 64.
 */
int cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs);
/* One escaped line on stderr, "spoolctl: ..."; die also closes the spool and exits. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
int excode(int e);

/* The spool, opened once by a command and closed by close_spool (or die). */
struct spool *open_spool_flags(int flags);
struct spool *open_spool(void);
void close_spool(void);

int id_arg(const char *id);
int state_arg(const struct spool_conf *c, const char *s);
time_t time_arg(const char *opt, const char *s, int end_of_day);
int json_flag(int argc, char **argv, int *json);
/* qsort's comparison for an array of strings. */
int cmp_names(const void *a, const void *b);

/* change.c: -m COMMENT, and a transition by name, for main's transition verbs too. */
int comment_flag(int argc, char **argv);
int run_transition(struct spool *sp, const char *name, int argc, char **argv, int i);

/* upkeep.c: write run/kick, spoold's bell for a rescan; 0, or -1 with errno set. */
int ring_spoold(struct spool *sp);

/* The commands: argv[0] is the command's name; each returns its exit code. */
typedef int cmd_fn(int argc, char **argv);
cmd_fn cmd_init, cmd_check, cmd_kick;                  /* upkeep.c */
cmd_fn cmd_status;                                     /* status.c */
cmd_fn cmd_submit, cmd_mv, cmd_do, cmd_rm;             /* change.c */
cmd_fn cmd_ls, cmd_stats, cmd_workflow;                /* list.c */
cmd_fn cmd_show, cmd_history;                          /* show.c */
cmd_fn cmd_outbox;                                     /* outbox.c */
cmd_fn cmd_user;                                       /* user.c */

#endif
