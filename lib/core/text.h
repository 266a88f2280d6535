/*
 * libspool: text from outside: the one escaping rule.  Included by spool.h; see there
 * for the error contract.
 */
#ifndef SPOOL_CORE_TEXT_H
#define SPOOL_CORE_TEXT_H

#include "base.h"

/* ---- text from outside --------------------------------------------------- */

/*
 * The one rule for text from outside (a printer's message, a handler's stderr, a
 * customer's name, a comment) wherever spool writes or shows it, in a history line, a
 * status file, a log line or spoolctl's output.  The result is valid UTF-8 with no
 * raw control character and no raw bidirectional control, safe in one line and on a
 * terminal:
 *
 *	\\ \t \n \r   a backslash, a tab, a line feed, a carriage return
 *	\xHH          another C0 control character, or DEL (0x7f)
 *	\uHHHH        a C1 control (U+0080..U+009F), or a format character that reorders
 *	              text or breaks a line: U+061C, U+200E, U+200F, U+2028, U+2029,
 *	              U+202A..U+202E, U+2066..U+2069
 *	U+FFFD        for each byte that is not part of valid UTF-8
 *
 * with lower-case hex digits.  Everything else is copied.  What does not fit in dst
 * (len bytes with the NUL) is cut between two characters, never inside one or inside
 * an escape, and ends in "...".  A src of at most SPOOL_FIELD_MAX bytes never
 * unescapes to more than SPOOL_FIELD_MAX (it is cut the same way if its U+FFFDs
 * would make it longer), so a field written escaped reads back into its buffer.
 */
char *spool_escape(char *dst, size_t len, const char *src);
#define SPOOL_TEXT_CUT 0x1     /* src was cut already (by vsnprintf, say): mark its end */
/*
 * The same on n bytes of src, which may hold NUL bytes (written \x00); with
 * SPOOL_TEXT_CUT an incomplete character at its end is dropped and the end marked
 * "...".  Returns the length written.
 */
size_t spool_escape_mem(char *dst, size_t len, const char *src, size_t n, int flags);
/* 1 if spool_escape never shows code point cp raw (the \x and \u classes above). */
int spool_char_unsafe(unsigned cp);
/* The length of the valid UTF-8 character at p (n bytes left), and its code point; 0 if none. */
size_t spool_utf8_char(const char *p, size_t n, unsigned *cp);
/*
 * Copy n bytes of src into dst as valid UTF-8, not escaped: each byte that is not
 * part of valid UTF-8 becomes U+FFFD, and what does not fit (or all of it, with
 * SPOOL_TEXT_CUT) is cut between two characters and ends in "...".  So text kept
 * raw in memory (a handler's last line, a comment) is whole characters, and escapes
 * and unescapes to the same bytes.  Returns the length written.
 */
size_t spool_text_copy(char *dst, size_t len, const char *src, size_t n, int flags);
/* printf into dst through spool_text_copy: a cut is marked, never inside a character. */
int spool_text_fmt(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spool_text_vfmt(char *dst, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* "admin:NAME" for the person running this process. */
void spool_admin_actor(char *buf, size_t len);

#define SPOOL_ADDR_MAX 254            /* a mail address (RFC 5321's path limit) */
/*
 * 1 if s is a plain addr-spec local@domain: printable ASCII with no blank, control
 * character, double quote, <>, ",", ";", ":", "()", "[]" or backslash; a dot-atom
 * local part of 1..64 not starting with '-'; a domain of letter-digit-hyphen labels;
 * at most SPOOL_ADDR_MAX in all.
 */
int spool_mail_addr_ok(const char *s);

#endif
