/* spoold's logging module; see log.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int use_syslog;
static int verbosity;

void
log_init(int to_syslog, int verbose)
{
	use_syslog = to_syslog;
	verbosity = verbose;
	if (use_syslog)
		openlog("spoold", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* One line: "spoold: LEVEL message", or for an order "ID: LEVEL message". */
static void
vlog(int prio, const char *word, const char *id, const char *fmt, va_list ap, const char *err)
{
	char msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (use_syslog) {
		syslog(prio, "%s%s%s%s%s%s", id != NULL ? id : "", id != NULL ? ": " : "", word, msg,
		    err != NULL ? ": " : "", err != NULL ? err : "");
		return;
	}
	fprintf(stderr, "%s: %s%s%s%s\n", id != NULL ? id : "spoold", word, msg,
	    err != NULL ? ": " : "", err != NULL ? err : "");
}

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", NULL, fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", NULL, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "", NULL, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "debug: ", NULL, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", NULL, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", NULL, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_order(enum log_level level, const char *id, const char *fmt, ...)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING };
	static const char *const word[] = { "debug: ", "", "warning: " };
	va_list ap;

	if (level == LOG_L_DEBUG && verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(prio[level], word[level], id, fmt, ap, NULL);
	va_end(ap);
}
