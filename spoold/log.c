/*
 * spoold's logging module; see log.h.  Whatever a message holds (a printer's line
 * break, a handler's ESC or U+202E, a file name with a tab in it), it is escaped once,
 * by libspool's rule for text from outside (spool_escape), so every event is one line
 * of safe text, on stderr as in syslog, and a reader of the log sees what was there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "spool.h"

#define LOG_MSG_MAX 4096     /* bytes of a formatted message; more is cut, marked "..." */
#define LOG_LINE_MAX 4096    /* bytes of an escaped line; more is cut, marked "..." */
#define LOG_ERR_ROOM 160     /* kept at the end of a line for ": " and strerror's reason */

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

size_t
log_format(char *line, size_t len, const char *word, const char *id, const char *fmt,
    va_list ap, const char *err)
{
	char raw[LOG_MSG_MAX], who[SPOOL_ID_MAX * 6 + 8];
	size_t o = 0, n;
	int r;

	if (len < LOG_ERR_ROOM + 64) {
		if (len > 0)
			line[0] = '\0';
		return 0;
	}
	/* an id is a name, but an odd one (a refused submission's) is escaped too */
	if (id != NULL)
		o = (size_t)snprintf(line, len, "%s: %s", spool_escape(who, sizeof who, id), word);
	else
		o = (size_t)snprintf(line, len, "%s", word);
	if ((r = vsnprintf(raw, sizeof raw, fmt, ap)) < 0)
		r = 0;
	n = (size_t)r < sizeof raw ? (size_t)r : sizeof raw - 1;
	if (o >= len)
		o = len - 1;
	o += spool_escape_mem(line + o, len - o > LOG_ERR_ROOM ? len - o - LOG_ERR_ROOM : 1, raw,
	    n, (size_t)r < sizeof raw ? 0 : SPOOL_TEXT_CUT);
	if (err != NULL && len - o > 3) {
		o += (size_t)snprintf(line + o, len - o, ": ");
		o += spool_escape_mem(line + o, len - o, err, strlen(err), 0);
	}
	return o;
}

/*
 * One line: "ID: LEVEL message", or "spoold: LEVEL message" for no order (in syslog,
 * whose ident says spoold, without the "spoold: ").  One write(2) on stderr, so lines
 * of the mailer's child and the loop never mix.
 */
static void
vlog(int prio, const char *word, const char *id, const char *fmt, va_list ap, const char *err)
{
	char line[LOG_LINE_MAX + 16];
	size_t o;

	if (use_syslog) {
		log_format(line, LOG_LINE_MAX, word, id, fmt, ap, err);
		syslog(prio, "%s", line);
		return;
	}
	if (id == NULL) {
		memcpy(line, "spoold: ", 8);
		o = 8 + log_format(line + 8, LOG_LINE_MAX - 8, word, NULL, fmt, ap, err);
	} else
		o = log_format(line, LOG_LINE_MAX, word, id, fmt, ap, err);
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
	fflush(stderr);
}

void
log_order(enum log_level level, const char *id, const char *fmt, ...)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_WARNING };
	static const char *const word[] = { "debug: ", "", "warning: ", "warning: " };
	const char *err = level == LOG_L_ERRNO ? strerror(errno) : NULL;
	va_list ap;

	if (level == LOG_L_DEBUG && verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(prio[level], word[level], id, fmt, ap, err);
	va_end(ap);
}

void
log_fatal(int with_errno, const char *fmt, ...)
{
	const char *err = with_errno ? strerror(errno) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", NULL, fmt, ap, err);
	va_end(ap);
	exit(1);
}
