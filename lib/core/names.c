/*
 * The names of the format, spelled once: the programs ask for them here rather than
 * writing "state/" or ".order" themselves, so that spool-layout(5) has one owner.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *dir;   /* the folder, relative to the spool; NULL for a bare name */
	const char *base;  /* the file in it; NULL when ARG is the file */
	const char *sfx;   /* what follows ARG */
} names[] = {
	[SPOOL_F_ORDER_NAME] = { NULL, NULL, ORDER_SUFFIX },
	[SPOOL_F_STATE] = { "state", NULL, "" },
	[SPOOL_F_ORDER_DIR] = { "orders", NULL, "" },
	[SPOOL_F_STATUS] = { "orders", "status", "" },
	[SPOOL_F_HISTORY] = { "orders", "history", "" },
	[SPOOL_F_ERROR] = { "orders", "error", "" },
	[SPOOL_F_JOBS] = { "orders", "jobs", "" },
	[SPOOL_F_INCOMING] = { "incoming", NULL, "" },
	[SPOOL_F_CORRUPT] = { "corrupt", NULL, "" },
	[SPOOL_F_OUTBOX_NEW] = { "outbox/new", NULL, "" },
	[SPOOL_F_OUTBOX_SENT] = { "outbox/sent", NULL, "" },
	[SPOOL_F_OUTBOX_FAILED] = { "outbox/failed", NULL, "" },
	[SPOOL_F_REASON] = { NULL, NULL, ".reason" },
	[SPOOL_F_KICK] = { "run", "kick", NULL },
	[SPOOL_F_SPOOLD_LOCK] = { "run", "spoold.lock", NULL },
	[SPOOL_F_MAILER_LOCK] = { "run", "mailer.lock", NULL },
	[SPOOL_F_JOURNAL] = { "run", "journal", NULL },
	[SPOOL_F_RESERVE] = { "run", "reserve", NULL },
};

const char *
spool_name(enum spool_file f, const char *arg, char *buf, size_t len)
{
	int n;

	if ((unsigned)f >= sizeof names / sizeof names[0] || len == 0)
		return "?";
	if (names[f].sfx == NULL)                    /* a fixed file: run/kick */
		n = snprintf(buf, len, "%s/%s", names[f].dir, names[f].base);
	else if (names[f].dir == NULL)               /* a name: ID.order */
		n = snprintf(buf, len, "%s%s", arg != NULL ? arg : "", names[f].sfx);
	else if (arg == NULL)                        /* the folder itself */
		n = snprintf(buf, len, "%s", names[f].dir);
	else if (names[f].base != NULL)              /* orders/ID/status */
		n = snprintf(buf, len, "%s/%s/%s", names[f].dir, arg, names[f].base);
	else                                         /* state/NAME, incoming/NAME */
		n = snprintf(buf, len, "%s/%s", names[f].dir, arg);
	return n < 0 || (size_t)n >= len ? "?" : buf;
}

const char *
spool_basename(enum spool_file f)
{
	const char *slash;

	if ((unsigned)f >= sizeof names / sizeof names[0])
		return "?";
	if (names[f].base != NULL)
		return names[f].base;
	if (names[f].dir != NULL)
		return (slash = strrchr(names[f].dir, '/')) != NULL ? slash + 1 : names[f].dir;
	return names[f].sfx;
}

int
spool_order_name_id(const char *name, char *id)
{
	return order_name(name, id);
}
