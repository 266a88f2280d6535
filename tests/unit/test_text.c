/*
 * Unit tests: the one escaping rule for text from outside (spool_escape and its
 * relatives), every class of character it names, its inverse, its cuts, and that
 * text is escaped exactly once on its way through a history line; a printer's huge
 * hostile message; and spoold's log lines (log_format, as log.c writes them).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "../../spoold/log.h"

/* ---- helpers -------------------------------------------------------------- */

/* UTF-8 of code point cp into buf; its length. */
static size_t
enc(unsigned cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | cp >> 18);
	buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * What the rule promises of its output: valid UTF-8, no raw control character and no
 * raw bidirectional or line-breaking format character, and every backslash the start
 * of one of the escapes.
 */
static int
safe(const char *s)
{
	size_t n = strlen(s), k;
	unsigned cp;

	while (n > 0) {
		if ((k = spool_utf8_char(s, n, &cp)) == 0 || spool_char_unsafe(cp))
			return 0;
		if (cp == '\\' && !(n >= 2 && strchr("\\tnr", s[1]) != NULL) &&
		    !(n >= 4 && s[1] == 'x') && !(n >= 6 && s[1] == 'u'))
			return 0;
		if (cp == '\\')
			k = s[1] == 'x' ? 4 : s[1] == 'u' ? 6 : 2;
		s += k;
		n -= k;
	}
	return 1;
}

static const char *
esc(const char *s)
{
	static char buf[8192];

	return spool_escape(buf, sizeof buf, s);
}

/* ---- the classes ------------------------------------------------------------ */

static void
test_classes(void **state)
{
	static const unsigned bidi[] = { 0x61c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b,
		0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };
	char in[16], want[16];
	size_t i;

	(void)state;
	/* the four named escapes */
	assert_string_equal(esc("a\\b\tc\nd\re"), "a\\\\b\\tc\\nd\\re");
	/* other C0 controls and DEL: \xHH, two lower-case digits */
	assert_string_equal(esc("\x01\x1b[31m\x1f\x7f"), "\\x01\\x1b[31m\\x1f\\x7f");
	assert_string_equal(esc("\x0b\x0c"), "\\x0b\\x0c");
	/* C1 controls: \u0080..\u009f (NEL and CSI among them) */
	assert_string_equal(esc("\xc2\x80|\xc2\x85|\xc2\x9b|\xc2\x9f"),
	    "\\u0080|\\u0085|\\u009b|\\u009f");
	/* the bidirectional and line-breaking format characters, each one */
	for (i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
		in[enc(bidi[i], in)] = '\0';
		snprintf(want, sizeof want, "\\u%04x", bidi[i]);
		assert_string_equal(esc(in), want);
		assert_true(spool_char_unsafe(bidi[i]));
	}
	/* their neighbours are plain text, shown as they are */
	assert_string_equal(esc("\xc2\xa0\xd8\x9b\xe2\x80\x8d\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5"
	    "\xe2\x81\xaa"), "\xc2\xa0\xd8\x9b\xe2\x80\x8d\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5"
	    "\xe2\x81\xaa");
	/* valid UTF-8 of every length stays whole */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* invalid UTF-8: each byte becomes U+FFFD, never passed on */
	assert_string_equal(esc("a\xff" "b"), "a\xef\xbf\xbd" "b");
	assert_string_equal(esc("\xc3"), "\xef\xbf\xbd");                        /* cut short */
	assert_string_equal(esc("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");        /* overlong */
	assert_string_equal(esc("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	assert_string_equal(esc("\xf4\x90\x80\x80x"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");                /* past U+10FFFF */
	assert_string_equal(esc("\xe2\x80x"), "\xef\xbf\xbd\xef\xbf\xbdx");      /* U+202E cut */
	/* a NUL in the middle, as a handler may write one */
	{
		char buf[32];
		assert_int_equal(spool_escape_mem(buf, sizeof buf, "a\0b", 3, 0), 6);
		assert_string_equal(buf, "a\\x00b");
	}
	assert_string_equal(esc(""), "");
}

/* Every code point, alone and between letters: a safe output that unescapes back. */
static void
test_every_code_point(void **state)
{
	char in[16], out[32], back[32];
	unsigned cp;
	size_t n;

	(void)state;
	for (cp = 1; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		in[0] = 'a';
		n = 1 + enc(cp, in + 1);
		in[n++] = 'z';
		in[n] = '\0';
		spool_escape(out, sizeof out, in);
		if (!safe(out))
			fail_msg("U+%04X escapes to unsafe text '%s'", cp, out);
		if (spool_char_unsafe(cp) != (strchr(out, '\\') != NULL) && cp != '\\')
			fail_msg("U+%04X: escaped is %d", cp, spool_char_unsafe(cp));
		memcpy(back, out, strlen(out) + 1);
		assert_int_equal(text_unescape(back), 0);
		if (strcmp(back, in) != 0)
			fail_msg("U+%04X does not come back: '%s'", cp, out);
	}
}

/* Random bytes: safe, and they unescape to the same bytes cleaned of invalid UTF-8. */
static void
test_random_bytes(void **state)
{
	char in[200], out[1024], clean[1024];
	unsigned seed = 11;
	int round, i, len;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = (int)(rand_r(&seed) % (sizeof in - 1));
		for (i = 0; i < len; i++) {
			int r = rand_r(&seed);
			/* mostly the interesting bytes: controls, leads and continuations */
			in[i] = (char)(r % 4 == 0 ? r >> 8 : r % 4 == 1 ? 0x80 | (r >> 8 & 0x3f) :
			    r % 4 == 2 ? 0xe2 : (r >> 8) & 0x1f);
			if (in[i] == '\0')
				in[i] = 'x';
		}
		in[len] = '\0';
		spool_escape_mem(out, sizeof out, in, (size_t)len, 0);
		assert_true(safe(out));
		spool_text_copy(clean, sizeof clean, in, (size_t)len, 0);
		assert_int_equal(text_unescape(out), 0);
		assert_string_equal(out, clean);
	}
}

/* ---- the inverse --------------------------------------------------------------- */

static void
test_unescape(void **state)
{
	/* what the writer never writes */
	static const char *const bad[] = { "\\u0000", "\\ud800", "\\u202", "\\u20zz", "\\x4",
		"\\x 1", "\\q", "end\\" };
	char s[64];
	size_t i;

	(void)state;
	strcpy(s, "a\\u202eb\\u0085c\\u00e9\\x1b\\\\x1b\\t\\n\\r");
	assert_int_equal(text_unescape(s), 0);
	assert_string_equal(s, "a\xe2\x80\xae" "b\xc2\x85" "c\xc3\xa9\x1b\\x1b\t\n\r");
	/* old files wrote a byte that is not UTF-8 as \xHH: it still reads */
	strcpy(s, "old \\xff\\xc3");
	assert_int_equal(text_unescape(s), 0);
	assert_string_equal(s, "old \xff\xc3");
	strcpy(s, "\\u202E upper case");
	assert_int_equal(text_unescape(s), 0);
	assert_string_equal(s, "\xe2\x80\xae upper case");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		strcpy(s, bad[i]);
		if (text_unescape(s) != -1)
			fail_msg("'%s' was unescaped", bad[i]);
	}
}

/* ---- cuts ------------------------------------------------------------------------ */

/* Every size of buffer: the output fits, is whole pieces of the full one, and is marked. */
static void
test_cut(void **state)
{
	const char *in = "ab\xe2\x80\xae\x1b\xc3\xa9\xff\\\n\xf0\x9f\x98\x80 end";
	char full[128], out[128], back[128], src[128];
	size_t len, flen, n;

	(void)state;
	spool_escape(full, sizeof full, in);
	flen = strlen(full);
	for (len = 1; len <= flen + 1; len++) {
		spool_escape(out, len, in);
		n = strlen(out);
		assert_true(n < len);
		if (len == flen + 1) {
			assert_string_equal(out, full);     /* it fits: no mark */
			continue;
		}
		if (len < 4) {
			assert_string_equal(out, "");       /* no room even for the mark */
			continue;
		}
		assert_true(n >= 3);
		assert_string_equal(out + n - 3, "...");
		/* before the mark: a prefix of the full escape that ends between pieces */
		assert_memory_equal(out, full, n - 3);
		memcpy(back, out, n - 3);
		back[n - 3] = '\0';
		assert_true(safe(back));
		assert_int_equal(text_unescape(back), 0);
		spool_text_copy(src, sizeof src, in, strlen(in), 0);
		assert_memory_equal(back, src, strlen(back));
	}
	/* a text cut before it came (vsnprintf), inside a character: dropped, marked */
	assert_int_equal(spool_escape_mem(out, sizeof out, "abc\xe2\x80", 5, SPOOL_TEXT_CUT), 6);
	assert_string_equal(out, "abc...");
	assert_int_equal(spool_escape_mem(out, sizeof out, "abc\xf0\x9f\x98", 6, SPOOL_TEXT_CUT),
	    6);
	assert_string_equal(out, "abc...");
	spool_escape_mem(out, sizeof out, "abc\xc3\xa9", 5, SPOOL_TEXT_CUT);
	assert_string_equal(out, "abc\xc3\xa9...");
}

static void
test_text_copy(void **state)
{
	char out[16];

	(void)state;
	/* raw, whole characters: invalid bytes become U+FFFD, controls stay */
	assert_int_equal(spool_text_copy(out, sizeof out, "a\x1b\xff", 3, 0), 5);
	assert_string_equal(out, "a\x1b\xef\xbf\xbd");
	/* too long: cut between characters, marked */
	spool_text_copy(out, 8, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 0);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9...");
	spool_text_copy(out, sizeof out, "ab\xe2\x80", 4, SPOOL_TEXT_CUT);
	assert_string_equal(out, "ab...");
	/* printf through it: a long value is cut at a character */
	spool_text_fmt(out, 10, "item %s: %s", "1", "\xe2\x80\xae\xe2\x80\xae");
	assert_string_equal(out, "item 1...");
	spool_text_fmt(out, sizeof out, "%d: %s", 7, "\xe2\x80\xae");
	assert_string_equal(out, "7: \xe2\x80\xae");
}

/*
 * A field's text with bytes that are not UTF-8 grows when cleaned (U+FFFD is three
 * bytes): a status file's error, escaped, still reads back into its field, cut and
 * marked, rather than making the whole status unreadable.
 */
static void
test_field_reads_back(void **state)
{
	struct spool_status st, back;
	struct spool_err err;
	char buf[8192], esc[2048];
	int n;

	(void)state;
	memset(&st, 0, sizeof st);
	strcpy(st.state, "processing");
	st.attempts = 1;
	/* a handler's line cut at 256 bytes inside a euro sign, and one of bad bytes */
	memset(st.error, 'x', 255);
	st.error[255] = '\xe2';
	st.error[256] = '\0';
	n = spool_status_format(&st, buf, sizeof buf);
	assert_true(n > 0);
	if (spool_status_parse(buf, (size_t)n, &back, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(strlen(back.error) <= SPOOL_FIELD_MAX);
	assert_string_equal(back.error + strlen(back.error) - 3, "...");
	assert_memory_equal(back.error, st.error, 200);
	memset(st.error, 0xff, SPOOL_FIELD_MAX);
	n = spool_status_format(&st, buf, sizeof buf);
	if (spool_status_parse(buf, (size_t)n, &back, &err) < 0)
		fail_msg("%s", err.msg);
	assert_memory_equal(back.error, "\xef\xbf\xbd", 3);
	/* short text is never cut for it, and longer text is not read back into a field */
	memset(buf, 0xff, 60);
	buf[60] = '\0';
	spool_escape(esc, sizeof esc, buf);
	assert_int_equal(strlen(esc), 180);
	memset(buf, 0xff, 300);
	buf[300] = '\0';
	spool_escape(esc, sizeof esc, buf);
	assert_int_equal(strlen(esc), 900);
}

/* ---- exactly once, through a history line ------------------------------------------ */

static void
test_history_once(void **state)
{
	struct spool_event ev, back;
	char line[16384], shown[8192], *nl;
	int n;

	(void)state;
	memset(&ev, 0, sizeof ev);
	ev.time = 1763900000;
	strcpy(ev.id, "3001");
	strcpy(ev.actor, "system");
	strcpy(ev.from, "processing");
	strcpy(ev.to, "failed");
	/* a handler's raw words: ESC, U+202E, a C1 CSI, invalid UTF-8, a backslash */
	strcpy(ev.comment, "POS \x1b[31mred\x1b[0m \xe2\x80\xae" "desrever \xc2\x9b" "2J \xff "
	    "C:\\x1b");
	n = spool_event_format(&ev, line, sizeof line);
	assert_true(n > 0);
	assert_int_equal(strchr(line, '\n') - line, n - 1);
	/* in the file: each escaped once */
	assert_non_null(strstr(line, "POS \\x1b[31mred\\x1b[0m \\u202edesrever \\u009b2J "
	    "\xef\xbf\xbd C:\\\\x1b\n"));
	assert_null(strchr(line, '\x1b'));
	assert_null(strstr(line, "\xe2\x80\xae"));
	line[n - 1] = '\0';
	/* read back: the words as they were (but the byte that was not UTF-8) */
	assert_int_equal(spool_event_parse(line, &back), 0);
	assert_string_equal(back.comment, "POS \x1b[31mred\x1b[0m \xe2\x80\xae" "desrever "
	    "\xc2\x9b" "2J \xef\xbf\xbd C:\\x1b");
	/* and shown, as spoolctl shows it: escaped once, the same as in the file */
	spool_escape(shown, sizeof shown, back.comment);
	assert_string_equal(shown, "POS \\x1b[31mred\\x1b[0m \\u202edesrever \\u009b2J "
	    "\xef\xbf\xbd C:\\\\x1b");
	assert_null(strstr(shown, "\\\\x1b[31m"));
	nl = strstr(line, "\tPOS ");
	assert_non_null(nl);
	assert_string_equal(nl + 1, shown);
	assert_true(safe(nl + 1));
}

/* Fields that grow when cleaned still read back: the writer cuts them to fit, marked. */
static void
test_history_fields_fit(void **state)
{
	struct spool_event ev, back;
	char line[16384];
	int n;

	(void)state;
	memset(&ev, 0, sizeof ev);
	ev.time = 1763900000;
	strcpy(ev.id, "3001");
	memset(ev.actor, 0xff, sizeof ev.actor - 1);             /* 256 bytes, 768 cleaned */
	memset(ev.comment, 0x80, sizeof ev.comment - 1);         /* 2048, 6144 cleaned */
	n = spool_event_format(&ev, line, sizeof line);
	assert_true(n > 0 && (size_t)n < sizeof line);
	line[n - 1] = '\0';
	assert_int_equal(spool_event_parse(line, &back), 0);
	assert_true(strlen(back.actor) < sizeof back.actor);
	assert_string_equal(back.actor + strlen(back.actor) - 3, "...");
	assert_string_equal(back.comment + strlen(back.comment) - 3, "...");
	assert_memory_equal(back.comment, "\xef\xbf\xbd\xef\xbf\xbd", 6);
	/* the worst case of escaping, every field full, fits a line */
	memset(ev.actor, 0x01, sizeof ev.actor - 1);
	memset(ev.comment, 0x1b, sizeof ev.comment - 1);
	n = spool_event_format(&ev, line, sizeof line);
	assert_true(n > 0);
	line[n - 1] = '\0';
	assert_int_equal(spool_event_parse(line, &back), 0);
	assert_memory_equal(&back.comment, &ev.comment, sizeof ev.comment);
	/* a comment too long for the struct (written by hand) is cut on reading, not lost */
	{
		static char big[10000];
		memcpy(big, "2026-11-23T12:13:20Z\t1\ta\tb\tc\t", 29);
		memset(big + 29, 'x', 5000);
		assert_int_equal(spool_event_parse(big, &back), 0);
		assert_int_equal(strlen(back.comment), sizeof back.comment - 1);
		assert_string_equal(back.comment + sizeof back.comment - 4, "...");
	}
}

/* ---- a printer's message -------------------------------------------------------------- */

#define JOB_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PrintJob><OrderProductPrintStatus>" \
	"<OrderStatus>10</OrderStatus><OrderStatusMessage>"
#define JOB_TAIL "</OrderStatusMessage></OrderProductPrintStatus></PrintJob>\n"

static void
test_printer_message(void **state)
{
	struct spool_jobxml j;
	struct spool_err err;
	char *doc, *p, shown[8192];
	size_t i;

	(void)state;
	doc = malloc(200 * 1024);
	p = doc + sprintf(doc, "%s", JOB_HEAD);
	/* CR, LF, <br/>, C1 (as a character reference too), DEL, U+202E, then 100 KiB */
	p += sprintf(p, "Paper jam&#13;\r\nin tray 2<br/>call us\xc2\x85&#x85;now&#127;\x7f"
	    " \xe2\x80\xae" "evil&#x202e; ");
	for (i = 0; i < 100 * 1024 / 3; i++)
		p += sprintf(p, "\xe2\x82\xac");
	sprintf(p, "%s", JOB_TAIL);
	if (spool_jobxml_parse(doc, strlen(doc), "job.xml", &j, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(j.status, SPOOL_JOB_FAILED);
	assert_int_equal(j.message_cut, 1);
	/* cut at a character, within SPOOL_JOB_MSG_MAX, and marked */
	assert_true(strlen(j.message) <= SPOOL_JOB_MSG_MAX);
	assert_true(strlen(j.message) > SPOOL_JOB_MSG_MAX - 6);
	assert_string_equal(j.message + strlen(j.message) - 6, "\xe2\x82\xac...");
	/* CR and LF are blanks in XML text, <br/> the break; the rest goes */
	assert_memory_equal(j.message, "Paper jam in tray 2\ncall usnow evil \xe2\x82\xac", 39);
	assert_null(strstr(j.message, "\xe2\x80\xae"));
	/* shown (a history line), it is one line, escaped once, and shows the cut */
	spool_escape(shown, sizeof shown, j.message);
	assert_true(safe(shown));
	assert_null(strchr(shown, '\n'));
	assert_string_equal(shown + strlen(shown) - 3, "...");
	assert_memory_equal(shown, "Paper jam in tray 2\\ncall usnow evil ", 37);
	/* a message that just fits is not cut */
	p = doc + sprintf(doc, "%s", JOB_HEAD);
	memset(p, 'y', SPOOL_JOB_MSG_MAX);
	sprintf(p + SPOOL_JOB_MSG_MAX, "%s", JOB_TAIL);
	assert_int_equal(spool_jobxml_parse(doc, strlen(doc), "job.xml", &j, &err), 0);
	assert_int_equal(j.message_cut, 0);
	assert_int_equal(strlen(j.message), SPOOL_JOB_MSG_MAX);
	assert_int_equal(j.message[SPOOL_JOB_MSG_MAX - 1], 'y');
	free(doc);
}

/* ---- spoold's log lines --------------------------------------------------------------- */

static size_t
logf_(char *line, size_t len, const char *word, const char *id, const char *err,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static size_t
logf_(char *line, size_t len, const char *word, const char *id, const char *err,
    const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_format(line, len, word, id, fmt, ap, err);
	va_end(ap);
	return n;
}

static void
test_log_lines(void **state)
{
	char line[4096], *big;
	size_t n;

	(void)state;
	/* a move's comment with a printer's line break, and a handler's words */
	n = logf_(line, sizeof line, "", "1001", NULL, "moved to failed: %s",
	    "item 1: Paper jam\nin tray 2\r\n");
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "1001: moved to failed: item 1: Paper jam\\nin tray 2\\r\\n");
	logf_(line, sizeof line, "warning: ", "3001", NULL, "attempt 1 failed: %s",
	    "\x1b[31mPOS\x1b[0m \xe2\x80\xae" "evil \xff");
	assert_string_equal(line, "3001: warning: attempt 1 failed: \\x1b[31mPOS\\x1b[0m "
	    "\\u202eevil \xef\xbf\xbd");
	assert_true(safe(line));
	/* the reason of a failed call, after the message */
	logf_(line, sizeof line, "warning: ", NULL, "No space left on device", "cannot write %s",
	    "orders/1/status");
	assert_string_equal(line, "warning: cannot write orders/1/status: No space left on device");
	/* an id that is not one (a refused submission's output) is escaped too */
	logf_(line, sizeof line, "", "x\ny", NULL, "%s", "submitted");
	assert_string_equal(line, "x\\ny: submitted");
	/* 100 KiB of message: capped, cut at a character, marked, the reason still there */
	big = malloc(100 * 1024 + 1);
	for (n = 0; n + 3 <= 100 * 1024; n += 3)
		memcpy(big + n, "\xe2\x80\xae", 3);
	big[n] = '\0';
	n = logf_(line, sizeof line, "warning: ", "1001", "Input/output error", "%s", big);
	assert_true(n < sizeof line);
	assert_true(safe(line));
	assert_non_null(strstr(line, "\\u202e...: Input/output error"));
	assert_memory_equal(line, "1001: warning: \\u202e", 21);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_text_copy),
		cmocka_unit_test(test_field_reads_back),
		cmocka_unit_test(test_history_once),
		cmocka_unit_test(test_history_fields_fit),
		cmocka_unit_test(test_printer_message),
		cmocka_unit_test(test_log_lines),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
