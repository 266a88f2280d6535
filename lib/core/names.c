/*
 * The names of the format, spelled once: the programs ask for them here rather than
 * writing "state/" or ".order" themselves, and libspool's own files do too, so that
 * spool-layout(5) has one owner.  The folders are those of spool_dir_names.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/*
 * Each name: a spool folder (spool_dir_names, or -1 for a bare name), the outbox's
 * box in it, the file in it (NULL when ARG is the file), and what follows ARG (NULL
 * for a fixed file such as run/kick).
 */
static const struct {
	int dir;
	const char *box, *base, *sfx;
} names[] = {
	[SPOOL_F_ORDER_NAME] = { -1, NULL, NULL, ORDER_SUFFIX },
	[SPOOL_F_STATE] = { SPOOL_DIR_STATE, NULL, NULL, "" },
	[SPOOL_F_ORDER_DIR] = { SPOOL_DIR_ORDERS, NULL, NULL, "" },
	[SPOOL_F_STATUS] = { SPOOL_DIR_ORDERS, NULL, "status", "" },
	[SPOOL_F_HISTORY] = { SPOOL_DIR_ORDERS, NULL, "history", "" },
	[SPOOL_F_ERROR] = { SPOOL_DIR_ORDERS, NULL, "error", "" },
	[SPOOL_F_JOBS] = { SPOOL_DIR_ORDERS, NULL, "jobs", "" },
	[SPOOL_F_INCOMING] = { SPOOL_DIR_INCOMING, NULL, NULL, "" },
	[SPOOL_F_CORRUPT] = { SPOOL_DIR_CORRUPT, NULL, NULL, "" },
	[SPOOL_F_OUTBOX_NEW] = { SPOOL_DIR_OUTBOX, "new", NULL, "" },
	[SPOOL_F_OUTBOX_SENT] = { SPOOL_DIR_OUTBOX, "sent", NULL, "" },
	[SPOOL_F_OUTBOX_FAILED] = { SPOOL_DIR_OUTBOX, "failed", NULL, "" },
	[SPOOL_F_REASON] = { -1, NULL, NULL, ".reason" },
	[SPOOL_F_KICK] = { SPOOL_DIR_RUN, NULL, "kick", NULL },
	[SPOOL_F_SPOOLD_LOCK] = { SPOOL_DIR_RUN, NULL, "spoold.lock", NULL },
	[SPOOL_F_MAILER_LOCK] = { SPOOL_DIR_RUN, NULL, "mailer.lock", NULL },
	[SPOOL_F_JOURNAL] = { SPOOL_DIR_RUN, NULL, "journal", NULL },
	[SPOOL_F_RESERVE] = { SPOOL_DIR_RUN, NULL, "reserve", NULL },
	/* a bare name, as the spool's top is no folder of spool_dir_names but "." */
	[SPOOL_F_SPOOL_ID] = { -1, NULL, NULL, SPOOL_ID_FILE },
	[SPOOL_F_STATS] = { SPOOL_DIR_RUN, NULL, "stats", NULL },
	[SPOOL_F_LEADER] = { SPOOL_DIR_RUN, NULL, "leader", NULL },
	[SPOOL_F_NODE] = { SPOOL_DIR_RUN, "nodes", NULL, "" },
	[SPOOL_F_NODE_LOCK] = { SPOOL_DIR_RUN, "nodes", "lock", "" },
	[SPOOL_F_HEARTBEAT] = { SPOOL_DIR_RUN, "nodes", "heartbeat", "" },
	[SPOOL_F_CLAIM] = { SPOOL_DIR_RUN, "claims", NULL, "" },
	[SPOOL_F_INTENT] = { SPOOL_DIR_RUN, "intent", NULL, "" },
	[SPOOL_F_WORK] = { SPOOL_DIR_RUN, NULL, "work", NULL },
	[SPOOL_F_SUBMIT_SOCK] = { SPOOL_DIR_RUN, NULL, "submit.sock", NULL },
};

const char *
spool_name(enum spool_file f, const char *arg, char *buf, size_t len)
{
	char dir[32];
	int n;

	if ((unsigned)f >= sizeof names / sizeof names[0] || len == 0)
		return "?";
	if (names[f].dir < 0)                        /* a name: ID.order */
		n = snprintf(buf, len, "%s%s", arg != NULL ? arg : "", names[f].sfx);
	else {
		snprintf(dir, sizeof dir, "%s%s%s", spool_dir_names[names[f].dir],
		    names[f].box != NULL ? "/" : "", names[f].box != NULL ? names[f].box : "");
		if (names[f].sfx == NULL)                /* a fixed file: run/kick */
			n = snprintf(buf, len, "%s/%s", dir, names[f].base);
		else if (arg == NULL)                    /* the folder itself */
			n = snprintf(buf, len, "%s", dir);
		else if (names[f].base != NULL)          /* orders/ID/status */
			n = snprintf(buf, len, "%s/%s/%s", dir, arg, names[f].base);
		else                                     /* state/NAME, incoming/NAME */
			n = snprintf(buf, len, "%s/%s", dir, arg);
	}
	return n < 0 || (size_t)n >= len ? "?" : buf;
}

const char *
spool_basename(enum spool_file f)
{
	if ((unsigned)f >= sizeof names / sizeof names[0])
		return "?";
	if (names[f].base != NULL)
		return names[f].base;
	if (names[f].box != NULL)
		return names[f].box;
	return names[f].dir >= 0 ? spool_dir_names[names[f].dir] : names[f].sfx;
}

int
spool_order_name_id(const char *name, char *id)
{
	return order_name(name, id);
}
