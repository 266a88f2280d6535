/*
 * spoold's logging: to stderr (under a supervisor) or syslog.  Every line about an
 * order starts with its id: log_order(level, id, ...) writes "ID: message", other
 * lines start with "spoold:".  Every event is one line: the message is escaped by
 * spool_escape's rule, so pass text from outside raw (escaping it first would show
 * \\x1b for an ESC), and it is cut, marked "...", at about 4 KiB.  Formats are
 * checked by the compiler, as in OpenSMTPD's log.h.
 */
#ifndef SPOOLD_LOG_H
#define SPOOLD_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Where lines go: stderr with a level word, or syslog with the facility daemon. */
void log_init(int to_syslog, int verbose);
/* A line about an order, at a level: "ID: message"; id NULL: about spoold. */
enum log_level { LOG_L_DEBUG, LOG_L_INFO, LOG_L_WARN, LOG_L_ERRNO /* a warning + errno */ };
void log_order(enum log_level level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The last line, then exit(1); with_errno adds ": " and strerror(errno). */
void log_fatal(int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
#define log_warn(...) log_order(LOG_L_ERRNO, NULL, __VA_ARGS__)
#define log_warnx(...) log_order(LOG_L_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_order(LOG_L_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_order(LOG_L_DEBUG, NULL, __VA_ARGS__)
#define fatal(...) log_fatal(1, __VA_ARGS__)
#define fatalx(...) log_fatal(0, __VA_ARGS__)
/*
 * The text of one line into line (len bytes with the NUL): "ID: " if id is not NULL,
 * word, then the formatted message and ": err" (if not NULL), escaped by
 * spool_escape's rule and cut, marked "...", to fit.  No newline.  Returns its length.
 */
size_t log_format(char *line, size_t len, const char *word, const char *id, const char *fmt,
    va_list ap, const char *err) __attribute__((format(printf, 5, 0)));

#endif
