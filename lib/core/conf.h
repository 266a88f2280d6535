/*
 * libspool: the workflow: spool.conf as the config reader gives it.  Included by
 * spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_CONF_H
#define SPOOL_CORE_CONF_H

#include "base.h"

/* ---- the workflow: spool.conf ------------------------------------------ */

enum spool_actor {
	SPOOL_ACTOR_ADMIN = 1 << 0,
	SPOOL_ACTOR_PRINTER = 1 << 1,
	SPOOL_ACTOR_SYSTEM = 1 << 2,
	SPOOL_ACTOR_STORE = 1 << 3,
};

enum spool_action_kind {
	SPOOL_ACT_NOTIFY,   /* notify TEMPLATE AUDIENCE */
	SPOOL_ACT_EXEC,     /* exec /PATH [ARG...] */
	SPOOL_ACT_STITCH,   /* stitch */
	SPOOL_ACT_PUBLISH,  /* publish */
	SPOOL_ACT_WITHDRAW, /* withdraw: tell the printer to stop */
	SPOOL_ACT_PURGE,    /* purge uploads|prints|all */
	SPOOL_ACT_COPY,     /* copy: reorder into a new order */
};

struct spool_action {
	enum spool_action_kind kind;
	int argc;
	char **argv;        /* the words after the action's name, NULL-terminated */
	int line;
};

#define SPOOL_TO_DELETE (-2)  /* a timer whose target is "delete" */

struct spool_reminder {
	long before;        /* seconds before the state's timer fires */
	char *template;     /* notify template name */
	int line;
};

struct spool_state {
	char name[SPOOL_NAME_MAX + 1];  /* also its directory: state/<name>/ */
	char *display;
	int code;           /* numeric status code, or -1 */
	int final;          /* the end of an order's road: nothing moves it on by itself */
	int locked;         /* only the system may move or remove its orders */
	struct spool_action *actions;
	int nactions;
	int on_success;     /* state index after the actions succeed, or -1 */
	int on_failure;     /* state index after they fail for good, or -1 */
	int retries;        /* automatic retries after a failure */
	long backoff;       /* seconds before the first retry; doubles each time */
	long timeout;       /* seconds an action may run */
	long timer_after;   /* seconds in this state before timer_to, or -1 */
	int timer_to;       /* state index, SPOOL_TO_DELETE, or -1 */
	struct spool_reminder *reminders;
	int nreminders;
	char *gate_file;    /* file in orders/<id>/ whose arrival moves to gate_to */
	int gate_to;
	int auto_to;        /* state to move on to at once, or -1 */
	char *auto_option;  /* ... only if the order has this option, or NULL */
	int line;
};

struct spool_transition {
	char name[SPOOL_NAME_MAX + 1];
	uint64_t from;      /* mask of state indexes */
	int to;
	unsigned actors;    /* mask of enum spool_actor */
	int line;
};

enum spool_entry_cond {
	SPOOL_IF_ALWAYS,
	SPOOL_IF_DELAYED,     /* payment not cleared yet */
	SPOOL_IF_INCOMPLETE,  /* an upload is not complete */
	SPOOL_IF_OPTION,      /* the order or an item has the named option */
};

struct spool_entry {
	int state;
	enum spool_entry_cond cond;
	char *option;
	int line;
};

enum spool_uploads { SPOOL_UPLOADS_NONE, SPOOL_UPLOADS_OPTIONAL, SPOOL_UPLOADS_REQUIRED };

/* Sections that a layer above reads (spool_conf_sections); their types are theirs. */
struct spool_mail_conf;     /* [mail]: lib/mail/mailconf.h */
struct spool_queue;         /* [queue NAME]: lib/print/queue.h */
struct spool_product;       /* [product NAME]: lib/print/queue.h */
struct spool_shop;          /* [shop]: lib/print/invoice.h */

struct spool_conf {
	char *path;
	char workflow[SPOOL_NAME_MAX + 1];
	int version;
	enum spool_uploads uploads;
	long tmp_grace;       /* age after which a tmp/ entry is stale */
	long rescan;          /* seconds between spoold's slow rescans */
	int workers;
	long long min_free;   /* bytes that must stay free for new orders to come in */
	int min_free_inodes;  /* ... and the share of inodes, in percent */
	long long reserve;    /* bytes spoold sets aside in run/reserve for a full disk */
	struct spool_state *states;
	int nstates;
	struct spool_transition *transitions;
	int ntransitions;
	struct spool_entry *entries;
	int nentries;
	struct spool_mail_conf *mail;   /* the [mail] reader's; NULL without spool_domain_init */
	struct spool_queue *queues;     /* ... by the [queue NAME] reader */
	int nqueues;
	struct spool_product *products; /* ... by the [product NAME] reader */
	int nproducts;
	struct spool_shop *shop;        /* ... by the [shop] reader; NULL without [shop] */
};

#define SPOOL_MIN_FREE (100LL << 20)   /* [spool] min_free: 100M 5% */
#define SPOOL_MIN_FREE_INODES 5
#define SPOOL_RESERVE (8LL << 20)      /* [spool] reserve: 8M */

/* Parse and check a spool.conf.  On error, err names the file, line and key. */
int spool_conf_load(const char *path, struct spool_conf **conf, struct spool_err *err);
int spool_conf_parse(const char *name, const char *text, struct spool_conf **conf,
    struct spool_err *err);
void spool_conf_free(struct spool_conf *conf);
int spool_conf_state(const struct spool_conf *conf, const char *name);
int spool_conf_transition(const struct spool_conf *conf, const char *name);
/* The transition that lets actor move an order from state `from` to state `to`, or -1. */
int spool_conf_allows(const struct spool_conf *conf, int from, int to, unsigned actor);
/* The state whose code is `code`, or -1. */
int spool_conf_code(const struct spool_conf *conf, int code);
const char *spool_actor_name(unsigned actor);
int spool_actor_parse(const char *s, unsigned *actor);

/* Shipped workflows and schemas, compiled in.  NULL if there is no such name. */
const char *spool_shipped(const char *path, size_t *len);

#endif
