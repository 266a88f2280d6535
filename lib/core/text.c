/*
 * Text: UTF-8, and the one rule by which text from outside (a printer's message, a
 * handler's stderr, a customer's name) is escaped wherever spool writes or shows it,
 * and read back (spool-layout(5), HISTORY FILES).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The length of the valid UTF-8 character at p (n bytes left) and its code point; 0 if invalid. */
size_t
utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], v;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

int
text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	unsigned cp;

	/* UTF-8 without C0, DEL or C1 control characters */
	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

size_t
spool_utf8_char(const char *p, size_t n, unsigned *cp)
{
	return n > 0 ? utf8_decode((const unsigned char *)p, n, cp) : 0;
}

/* ---- text from outside ------------------------------------------------------ */

/*
 * Code points that are never shown raw: the C0 controls, DEL and the C1 controls, and
 * the format characters that reorder text or break a line (the "Trojan Source"
 * bidirectional controls, the marks, the line and paragraph separators).  Each of
 * them could hide or forge what a person reads in a log line or on a terminal.
 */
int
spool_char_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

#define REPLACEMENT "\xef\xbf\xbd"    /* U+FFFD, for each byte that is not UTF-8 */
#define CUT_MARK "..."
#define CUT_MARK_LEN 3

/* The length of s without an incomplete character at its end (a cut made elsewhere). */
static size_t
whole_chars(const unsigned char *s, size_t n)
{
	size_t i = n, back, want;

	for (back = 0; back < 4 && i > 0; back++) {
		i--;
		if ((s[i] & 0xc0) != 0x80) {
			want = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 1;
			return want > n - i ? i : n;
		}
	}
	return n;
}

/*
 * How the character at p (n > 0 bytes left) is written when escaped: its text into
 * out (at most 6 bytes) and its length returned; *used is the bytes of p it stands
 * for, *dec the bytes it gives back once unescaped.
 */
static size_t
esc_char(const unsigned char *p, size_t n, char *out, size_t *used, size_t *dec)
{
	static const char hex[] = "0123456789abcdef";
	unsigned cp;
	size_t k = utf8_decode(p, n, &cp);

	if (k == 0) {
		*used = 1;
		*dec = 3;
		memcpy(out, REPLACEMENT, 3);
		return 3;
	}
	*used = k;
	*dec = k;
	if (cp == '\\' || cp == '\t' || cp == '\n' || cp == '\r') {
		out[0] = '\\';
		out[1] = cp == '\\' ? '\\' : cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r';
		return 2;
	}
	if (cp < 0x20 || cp == 0x7f) {
		memcpy(out, "\\x", 2);
		out[2] = hex[cp >> 4];
		out[3] = hex[cp & 15];
		return 4;
	}
	if (spool_char_unsafe(cp)) {
		memcpy(out, "\\u", 2);
		out[2] = hex[cp >> 12 & 15];
		out[3] = hex[cp >> 8 & 15];
		out[4] = hex[cp >> 4 & 15];
		out[5] = hex[cp & 15];
		return 6;
	}
	memcpy(out, p, k);
	return k;
}

size_t
text_escape(char *dst, size_t len, const char *src, size_t n, size_t room, int flags)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i, o = 0, dec = 0, k, used, d;
	int cut = (flags & SPOOL_TEXT_CUT) != 0;
	char piece[8];

	if (len == 0)
		return 0;
	if (cut)
		n = whole_chars(p, n);
	else {
		/* Does all of it fit?  Then no mark is needed. */
		for (i = 0; i < n && o < len && dec <= room; i += used) {
			o += esc_char(p + i, n - i, piece, &used, &d);
			dec += d;
		}
		cut = i < n || o >= len || dec > room;
		o = dec = 0;
	}
	/* What is cut keeps room for the mark, and stops before a whole character. */
	for (i = 0; i < n; i += used) {
		k = esc_char(p + i, n - i, piece, &used, &d);
		if (cut && (o + k + CUT_MARK_LEN >= len || dec + d + CUT_MARK_LEN > room))
			break;
		memcpy(dst + o, piece, k);
		o += k;
		dec += d;
	}
	if (cut && o + CUT_MARK_LEN < len && dec + CUT_MARK_LEN <= room) {
		memcpy(dst + o, CUT_MARK, CUT_MARK_LEN);
		o += CUT_MARK_LEN;
	}
	dst[o] = '\0';
	return o;
}

/*
 * A text that fits a field (SPOOL_FIELD_MAX bytes, such as a status file's error)
 * must read back into it, but U+FFFD takes three bytes where the byte it replaces
 * took one: such a text is kept to SPOOL_FIELD_MAX bytes once unescaped, cut and
 * marked if it would grow past them.  Longer text is not read back into a field.
 */
char *
spool_escape(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	text_escape(dst, len, src, n, n <= SPOOL_FIELD_MAX ? SPOOL_FIELD_MAX : SIZE_MAX, 0);
	return dst;
}

size_t
spool_escape_mem(char *dst, size_t len, const char *src, size_t n, int flags)
{
	return text_escape(dst, len, src, n, SIZE_MAX, flags);
}

size_t
spool_text_copy(char *dst, size_t len, const char *src, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i, o = 0, k, total = 0;
	int cut = (flags & SPOOL_TEXT_CUT) != 0;
	unsigned cp;

	if (len == 0)
		return 0;
	if (cut)
		n = whole_chars(p, n);
	else {
		for (i = 0; i < n && total < len; i += k ? k : 1)
			total += (k = utf8_decode(p + i, n - i, &cp)) ? k : 3;
		cut = i < n || total >= len;
	}
	for (i = 0; i < n; i += k ? k : 1) {
		size_t w = (k = utf8_decode(p + i, n - i, &cp)) ? k : 3;
		if (cut && o + w + CUT_MARK_LEN >= len)
			break;
		memcpy(dst + o, k ? (const char *)p + i : REPLACEMENT, w);
		o += w;
	}
	if (cut && o + CUT_MARK_LEN < len) {
		memcpy(dst + o, CUT_MARK, CUT_MARK_LEN);
		o += CUT_MARK_LEN;
	}
	dst[o] = '\0';
	return o;
}

#define FMT_TMP_MAX 8192    /* formatted text beyond this is cut before it is copied */

int
spool_text_vfmt(char *dst, size_t len, const char *f, va_list ap)
{
	char raw[FMT_TMP_MAX];
	int r;

	if (len == 0)
		return 0;
	if ((r = vsnprintf(raw, sizeof raw, f, ap)) < 0) {
		dst[0] = '\0';
		return -1;
	}
	return (int)spool_text_copy(dst, len, raw, (size_t)r < sizeof raw ? (size_t)r :
	    sizeof raw - 1, (size_t)r < sizeof raw ? 0 : SPOOL_TEXT_CUT);
}

int
spool_text_fmt(char *dst, size_t len, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = spool_text_vfmt(dst, len, f, ap);
	va_end(ap);
	return r;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* (internal.h) */
int
text_unescape(char *s)
{
	char *o = s;
	unsigned v;
	int i, h;

	while (*s != '\0') {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '\\':
			*o++ = '\\';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'x':
		case 'u':
			/* \xHH is one byte; \uHHHH a character (not NUL, not a surrogate) */
			for (v = 0, i = 1; i <= (*s == 'x' ? 2 : 4); i++) {
				if ((h = hexval(s[i])) < 0)
					return -1;
				v = v << 4 | (unsigned)h;
			}
			if (*s == 'x') {
				*o++ = (char)v;
			} else if (v == 0 || (v >= 0xd800 && v <= 0xdfff)) {
				return -1;
			} else if (v < 0x80) {
				*o++ = (char)v;
			} else if (v < 0x800) {
				*o++ = (char)(0xc0 | v >> 6);
				*o++ = (char)(0x80 | (v & 0x3f));
			} else {
				*o++ = (char)(0xe0 | v >> 12);
				*o++ = (char)(0x80 | (v >> 6 & 0x3f));
				*o++ = (char)(0x80 | (v & 0x3f));
			}
			s += i - 1;
			break;
		default:
			return -1;
		}
		s++;
	}
	*o = '\0';
	return 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* RFC 5322 atext: what a dot-atom may hold besides dots. */
static int
atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Letter-digit-hyphen labels separated by single dots, 1..253 characters. */
/* (internal.h) */
int
spool_domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0, i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		int c = (unsigned char)d[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		label++;
	}
	return 1;
}

int
spool_mail_addr_ok(const char *s)
{
	const char *at, *p;

	if (s == NULL || strlen(s) > SPOOL_ADDR_MAX || (at = strchr(s, '@')) == NULL)
		return 0;
	/* a leading '-' could pass for an option to some program down the line */
	if (at == s || at - s > 64 || s[0] == '.' || s[0] == '-' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++)
		if (!(atext((unsigned char)*p) || (*p == '.' && p[1] != '.')))
			return 0;
	return spool_domain_ok(at + 1);
}
