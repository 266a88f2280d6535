/*
 * Mail as libspool makes it: address checks, templates, whole RFC 5322 messages, and
 * publishing them into outbox/new/ for spoold's mailer.
 *
 * Values from outside (a customer's name, a printer's OrderStatusMessage) are hostile,
 * and the one promise here is that none of them can add a header line.  They are
 * cleaned where they enter (control characters go, and so do the bidirectional
 * format characters that could reorder what the reader sees; invalid UTF-8 becomes
 * U+FFFD), and the composer cleans again, because a caller may pass raw text.  Header fields that
 * are not short plain ASCII become RFC 2047 encoded-words, folded at 78 characters;
 * the body is quoted-printable, so a 5000-character line or a stray 8-bit byte still
 * gives a 7-bit message that every relay takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "../core/internal.h"

#define TEMPLATE_MAX (64 * 1024)
#define LINE_WANT 78             /* RFC 5322's SHOULD for header lines */
#define QP_LINE 76               /* RFC 2045: encoded lines, soft-break '=' included */
#define EW_BYTES 42              /* UTF-8 bytes per encoded-word: 56 base64 characters,
                                    so "Subject: =?UTF-8?B?...?=" is 77 characters */
#define NAME_BYTES 256          /* a longer display name is cut, at a character */
#define REPLACEMENT "\xef\xbf\xbd"

/* ---- a bounded growable buffer ------------------------------------------ */

struct mbuf {
	char *s;
	size_t n, cap, max;
	int err;                 /* the first error; later adds do nothing */
};

static void
mb_add(struct mbuf *b, const void *p, size_t n)
{
	size_t cap;
	char *s;

	if (b->err)
		return;
	if (n > b->max - b->n) {
		b->err = EFBIG;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 256; cap < b->n + n + 1; cap *= 2)
			;
		if ((s = realloc(b->s, cap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
mb_str(struct mbuf *b, const char *s)
{
	mb_add(b, s, strlen(s));
}

static void
mb_char(struct mbuf *b, char c)
{
	mb_add(b, &c, 1);
}

/* Hand the text over (never NULL), or free it and return -1 with errno. */
static int
mb_done(struct mbuf *b, char **out, size_t *len)
{
	mb_add(b, "", 0);
	if (b->err) {
		free(b->s);
		errno = b->err;
		return -1;
	}
	*out = b->s;
	if (len != NULL)
		*len = b->n;
	return 0;
}

/* ---- UTF-8 and cleaning ------------------------------------------------- */

/* C0, DEL, C1 and the Unicode line and paragraph separators. */
static int
is_control(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029;
}

/* The length of "<br>", "<br/>" or "<br />" (any case, any blanks before '/') at p, or 0. */
static size_t
br_len(const char *p, size_t n)
{
	size_t i = 3;

	if (n < 4 || p[0] != '<' || (p[1] | 0x20) != 'b' || (p[2] | 0x20) != 'r')
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '/')
		i++;
	return i < n && p[i] == '>' ? i + 1 : 0;
}

enum clean {
	CLEAN_LINE,   /* one line: every control character becomes a space */
	CLEAN_TEXT,   /* lines: LF and tab stay, CR and other control characters go */
	CLEAN_HTML,   /* as CLEAN_TEXT, and <br> variants become LF */
	CLEAN_ESCAPE, /* as CLEAN_HTML, then escaped for an HTML body, LF as <br> */
};

/* Append s (n bytes) to b, cleaned; invalid UTF-8 becomes U+FFFD in every mode. */
static void
clean(struct mbuf *b, const char *s, size_t n, enum clean mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	unsigned cp;

	while (i < n) {
		if (mode == CLEAN_HTML && p[i] == '<' && (k = br_len(s + i, n - i)) > 0) {
			mb_char(b, '\n');
			i += k;
			continue;
		}
		if ((k = utf8_decode(p + i, n - i, &cp)) == 0) {
			mb_str(b, REPLACEMENT);
			i++;
			continue;
		}
		if (!spool_char_unsafe(cp))
			mb_add(b, p + i, k);
		else if (!is_control(cp))
			;    /* a bidirectional mark or override: it shows nothing, so it goes */
		else if (mode == CLEAN_LINE)
			mb_char(b, ' ');
		else if (cp == '\n' || cp == '\t')
			mb_char(b, (char)cp);
		else if (cp == 0x2028 || cp == 0x2029)
			mb_char(b, '\n');
		i += k;
	}
}

/* ---- templates ---------------------------------------------------------- */

/* The placeholders a template may use, one list for the check and its message. */
#define PLACEHOLDERS "order_id item_id status code message details_url customer " \
	"customer_email customer_address shipping_address order_url"

static int
placeholder_known(const char *name, size_t n)
{
	const char *p;
	size_t k;

	for (p = PLACEHOLDERS; *p != '\0'; p += k + (p[k] == ' ')) {
		k = strcspn(p, " ");
		if (k == n && memcmp(p, name, n) == 0)
			return 1;
	}
	return 0;
}

static const char *
lookup(const struct spool_mail_var *vars, size_t nvars, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (vars[i].name != NULL && strlen(vars[i].name) == n &&
		    memcmp(vars[i].name, name, n) == 0)
			return vars[i].value != NULL ? vars[i].value : "";
	return "";
}

/* Append a value to an HTML body: cleaned, its markup characters escaped, LF as <br>. */
static void
html_value(struct mbuf *b, const char *v)
{
	struct mbuf t = { .max = SPOOL_MAIL_MAX };
	size_t i;

	clean(&t, v, strlen(v), CLEAN_HTML);
	for (i = 0; i < t.n; i++)
		switch (t.s[i]) {
		case '&': mb_str(b, "&amp;"); break;
		case '<': mb_str(b, "&lt;"); break;
		case '>': mb_str(b, "&gt;"); break;
		case '"': mb_str(b, "&quot;"); break;
		case '\'': mb_str(b, "&#39;"); break;
		case '\n': mb_str(b, "<br>\n"); break;
		default: mb_char(b, t.s[i]);
		}
	if (t.err && !b->err)
		b->err = t.err;
	free(t.s);
}

/*
 * Expand one part of a template (the subject, or the body) from p to end, starting at
 * line `line`; values are cleaned with mode.  Returns -1 with err set on a bad brace.
 */
static int
expand(struct mbuf *b, const char *file, const char *p, const char *end, int line,
    const struct spool_mail_var *vars, size_t nvars, enum clean mode, struct spool_err *err)
{
	const char *q, *v;

	while (p < end) {
		if (*p == '\n')
			line++;
		if (*p == '{' && p + 1 < end && p[1] == '{') {
			mb_char(b, '{');
			p += 2;
		} else if (*p == '}' && p + 1 < end && p[1] == '}') {
			mb_char(b, '}');
			p += 2;
		} else if (*p == '{') {
			for (q = p + 1; q < end && q - p <= 64 && *q != '}' && *q != '{' && *q != '\n';
			    q++)
				;
			if (q == end || *q != '}')
				return failerr(err, EINVAL,
				    "%s:%d: a '{' that starts no placeholder (write {{ for a brace)", file,
				    line);
			if (!placeholder_known(p + 1, (size_t)(q - p - 1)))
				return failerr(err, EINVAL, "%s:%d: unknown placeholder {%.*s} (known: "
				    PLACEHOLDERS ")", file, line, (int)(q - p - 1), p + 1);
			v = lookup(vars, nvars, p + 1, (size_t)(q - p - 1));
			if (mode == CLEAN_ESCAPE)
				html_value(b, v);
			else
				clean(b, v, strlen(v), mode);
			p = q + 1;
		} else if (*p == '}') {
			return failerr(err, EINVAL, "%s:%d: a '}' that ends no placeholder "
			    "(write }} for a brace)", file, line);
		} else
			mb_char(b, *p++);
	}
	return 0;
}

/* The template's own text: UTF-8, no control characters but tab, LF, and CR before LF. */
static int
template_text_ok(const char *file, const char *text, size_t len, struct spool_err *err)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, k;
	unsigned cp;
	int line = 1;

	while (i < len) {
		if ((k = utf8_decode(p + i, len - i, &cp)) == 0)
			return failerr(err, EINVAL, "%s:%d: not UTF-8", file, line);
		if (cp == '\n')
			line++;
		else if (is_control(cp) && cp != '\t' && !(cp == '\r' && i + 1 < len && p[i + 1] == '\n'))
			return failerr(err, EINVAL, "%s:%d: control character U+%04X", file, line, cp);
		i += k;
	}
	return 0;
}

int
spool_mail_render(const char *file, const char *text, size_t len,
    const struct spool_mail_var *vars, size_t nvars, char **subject, char **body,
    struct spool_err *err)
{
	struct mbuf sb = { .max = SPOOL_MAIL_MAX }, bb = { .max = SPOOL_MAIL_MAX };
	struct mbuf norm = { .max = TEMPLATE_MAX };
	const char *s, *e, *nl, *end;
	size_t i;

	if (len > TEMPLATE_MAX)
		return failerr(err, EFBIG, "%s: longer than %d bytes", file, TEMPLATE_MAX);
	if (template_text_ok(file, text, len, err) < 0)
		return -1;
	/* one form of line end from here on */
	for (i = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			mb_char(&norm, text[i]);
	if (mb_done(&norm, &norm.s, &norm.n) < 0)
		return seterr(err, "%s: %s", file, strerror(errno));
	s = norm.s;
	end = s + norm.n;
	if (norm.n < 8 || strncasecmp(s, "Subject:", 8) != 0) {
		free(norm.s);
		return failerr(err, EINVAL, "%s:1: the first line must be 'Subject: ...'", file);
	}
	nl = memchr(s, '\n', norm.n);
	e = nl != NULL ? nl : end;
	for (s += 8; s < e && (*s == ' ' || *s == '\t'); s++)
		;
	if (nl != NULL && nl + 1 < end && nl[1] != '\n') {
		free(norm.s);
		return failerr(err, EINVAL, "%s:2: an empty line must follow the Subject line", file);
	}
	if (expand(&sb, file, s, e, 1, vars, nvars, CLEAN_LINE, err) < 0 ||
	    (nl != NULL && nl + 1 < end &&
	    expand(&bb, file, nl + 2, end, 3, vars, nvars, CLEAN_HTML, err) < 0)) {
		free(norm.s);
		free(sb.s);
		free(bb.s);
		return -1;
	}
	free(norm.s);
	if (mb_done(&sb, subject, NULL) < 0) {
		free(bb.s);
		return seterr(err, "%s: %s", file, strerror(errno));
	}
	if (mb_done(&bb, body, NULL) < 0) {
		free(*subject);
		*subject = NULL;
		return seterr(err, "%s: %s", file, strerror(errno));
	}
	return 0;
}

int
spool_mail_template_check(const char *file, const char *text, size_t len,
    struct spool_err *err)
{
	char *subject, *body;

	if (spool_mail_render(file, text, len, NULL, 0, &subject, &body, err) < 0)
		return -1;
	free(subject);
	free(body);
	return 0;
}

int
spool_mail_render_html(const char *file, const char *text, size_t len,
    const struct spool_mail_var *vars, size_t nvars, char **html, struct spool_err *err)
{
	struct mbuf b = { .max = SPOOL_MAIL_MAX };
	size_t i, k;

	if (len > TEMPLATE_MAX)
		return failerr(err, EFBIG, "%s: longer than %d bytes", file, TEMPLATE_MAX);
	if (template_text_ok(file, text, len, err) < 0)
		return -1;
	if (expand(&b, file, text, text + len, 1, vars, nvars, CLEAN_ESCAPE, err) < 0) {
		free(b.s);
		return -1;
	}
	if (mb_done(&b, html, NULL) < 0)
		return seterr(err, "%s: %s", file, strerror(errno));
	/* CR before LF goes: the composer makes every line end CRLF */
	for (i = k = 0; (*html)[i] != '\0'; i++)
		if (!((*html)[i] == '\r' && (*html)[i + 1] == '\n'))
			(*html)[k++] = (*html)[i];
	(*html)[k] = '\0';
	return 0;
}

/*
 * Read NAME.EXT from [mail] templates, the spool's templates/ or the shipped ones;
 * 1 when it is nowhere and optional, else as spool_mail_template_read.
 */
static int
template_read(const struct spool_conf *c, int rootfd, const char *name, const char *ext,
    int optional, char **text, size_t *len, char *where, size_t wherelen,
    struct spool_err *err)
{
	const char *dir = c->mail->templates != NULL ? c->mail->templates : "templates";
	char file[SPOOL_NAME_MAX + 16], shipped[SPOOL_NAME_MAX + 32];
	const char *data;
	size_t n;
	int dfd, r;

	if (!spool_name_ok(name))
		return failerr(err, EINVAL, "'%.64s' is not a template name", name);
	fmt(file, sizeof file, "%s.%s", name, ext);
	/* [mail] templates is the admin's choice and may be a symlink; templates/ is ours */
	dfd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (c->mail->templates != NULL ? 0 : O_NOFOLLOW));
	if (dfd < 0 && (errno != ENOENT || c->mail->templates != NULL))
		return seterr(err, "templates folder %s: %s", dir, strerror(errno));
	if (dfd >= 0) {
		r = read_file(dfd, file, TEMPLATE_MAX, text, len);
		/* an HTML part goes with its text part: none beside a text of the admin's */
		if (r < 0 && errno == ENOENT && optional) {
			fmt(shipped, sizeof shipped, "%s.txt", name);
			if (faccessat(dfd, shipped, F_OK, 0) == 0) {
				close_keep(dfd);
				return 1;
			}
			errno = ENOENT;
		}
		close_keep(dfd);
		if (r == 0) {
			if (memchr(*text, '\0', *len) != NULL) {
				free(*text);
				return failerr(err, EINVAL, "%s/%s: contains a NUL byte", dir, file);
			}
			if (where != NULL)
				snprintf(where, wherelen, "%s/%s", dir, file);
			return 0;
		}
		if (errno != ENOENT)
			return seterr(err, "%s/%s: %s", dir, file, strerror(errno));
	}
	fmt(shipped, sizeof shipped, "templates/%s", file);
	if ((data = spool_shipped(shipped, &n)) == NULL && optional)
		return 1;
	if (data == NULL)
		return failerr(err, ENOENT, "no template %s in %s or among the shipped ones", file,
		    dir);
	if ((*text = malloc(n + 1)) == NULL)
		return seterr(err, "%s", strerror(errno));
	memcpy(*text, data, n + 1);
	*len = n;
	if (where != NULL)
		snprintf(where, wherelen, "%s (shipped)", shipped);
	return 0;
}

int
spool_mail_template_read(const struct spool_conf *c, int rootfd, const char *name,
    char **text, size_t *len, char *where, size_t wherelen, struct spool_err *err)
{
	return template_read(c, rootfd, name, "txt", 0, text, len, where, wherelen, err);
}

int
spool_mail_html_read(const struct spool_conf *c, int rootfd, const char *name,
    char **text, size_t *len, char *where, size_t wherelen, struct spool_err *err)
{
	int r = template_read(c, rootfd, name, "html", 1, text, len, where, wherelen, err);

	return r < 0 ? -1 : r == 0 ? 1 : 0;
}

static int
check_one(const struct spool_conf *c, int rootfd, const char *name, struct spool_err *err)
{
	char where[512], *text, *html;
	size_t len;
	int r;

	if (spool_mail_template_read(c, rootfd, name, &text, &len, where, sizeof where, err) < 0)
		return -1;
	r = spool_mail_template_check(where, text, len, err);
	free(text);
	if (r < 0 || (r = spool_mail_html_read(c, rootfd, name, &text, &len, where,
	    sizeof where, err)) <= 0)
		return r;
	r = spool_mail_render_html(where, text, len, NULL, 0, &html, err);
	free(text);
	if (r == 0)
		free(html);
	return r;
}

int
spool_mail_templates_check(const struct spool_conf *c, int rootfd, struct spool_err *err)
{
	int i, j;

	for (i = 0; i < c->nstates; i++) {
		const struct spool_state *s = &c->states[i];
		for (j = 0; j < s->nactions; j++)
			if (s->actions[j].kind == SPOOL_ACT_NOTIFY &&
			    check_one(c, rootfd, s->actions[j].argv[0], err) < 0)
				return -1;
		for (j = 0; j < s->nreminders; j++)
			if (check_one(c, rootfd, s->reminders[j].template, err) < 0)
				return -1;
	}
	return 0;
}

int
spool_mail_url(const char *tmpl, const char *order_id, const char *item_id, char *buf,
    size_t len)
{
	const char *p = tmpl, *v;
	size_t n = 0, k;

	if (!spool_id_ok(order_id) || (item_id != NULL && item_id[0] != '\0' &&
	    !spool_id_ok(item_id))) {
		errno = EINVAL;
		return -1;
	}
	while (*p != '\0') {
		if (strncmp(p, "{order_id}", 10) == 0) {
			v = order_id;
			p += 10;
		} else if (strncmp(p, "{item_id}", 9) == 0) {
			v = item_id != NULL ? item_id : "";
			p += 9;
		} else
			v = NULL;
		k = v != NULL ? strlen(v) : 1;
		if (n + k >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (v != NULL)
			memcpy(buf + n, v, k);
		else
			buf[n] = *p++;
		n += k;
	}
	buf[n] = '\0';
	return (int)n;
}

/* ---- composing ---------------------------------------------------------- */

static void
base64(struct mbuf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);
		out[0] = tab[v >> 18 & 63];
		out[1] = tab[v >> 12 & 63];
		out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		mb_add(b, out, 4);
	}
}

/* A header field being written, folded before a word that would pass LINE_WANT. */
struct field {
	struct mbuf *b;
	size_t col, namelen;
};

static void
field_begin(struct field *f, struct mbuf *b, const char *name)
{
	f->b = b;
	mb_str(b, name);
	mb_char(b, ':');
	f->col = f->namelen = strlen(name) + 1;
}

static void
field_word(struct field *f, const char *w, size_t n)
{
	if (f->col > f->namelen && f->col + 1 + n > LINE_WANT) {
		mb_str(f->b, "\r\n ");
		f->col = 1;
	} else {
		mb_char(f->b, ' ');
		f->col++;
	}
	mb_add(f->b, w, n);
	f->col += n;
}

static void
field_end(struct field *f)
{
	mb_str(f->b, "\r\n");
}

/* s (clean UTF-8) as RFC 2047 B encoded-words of whole characters. */
static void
field_encoded(struct field *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, c;
	struct mbuf w = { .max = 128 };
	unsigned cp;

	while (i < n) {
		for (k = 0; i + k < n; k += c) {
			if ((c = utf8_decode(p + i + k, n - i - k, &cp)) == 0)
				c = 1;    /* cannot happen after clean(); never loop */
			if (k + c > EW_BYTES)
				break;
		}
		w.n = 0;
		mb_str(&w, "=?UTF-8?B?");
		base64(&w, p + i, k);
		mb_str(&w, "?=");
		if (w.err) {
			f->b->err = w.err;
			break;
		}
		field_word(f, w.s, w.n);
		i += k;
	}
	free(w.s);
}

/* Short printable ASCII that no reader could take for an encoded-word. */
static int
plain_ascii(const char *s, size_t room)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i <= room && strstr(s, "=?") == NULL;
}

/* One-line cleaned copy of s with no blanks at either end; malloc'd. */
static char *
clean_line(const char *s, int *failed)
{
	struct mbuf b = { .max = SPOOL_MAIL_MAX };
	char *out;
	size_t i, n;

	clean(&b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, CLEAN_LINE);
	if (mb_done(&b, &out, &n) < 0) {
		*failed = errno;
		return NULL;
	}
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	for (i = 0; out[i] == ' '; i++)
		;
	memmove(out, out + i, n - i + 1);
	return out;
}

static void
put_date(struct mbuf *b, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	char buf[64];
	struct tm tm;

	/* our own names: strftime's %a and %b follow the locale, RFC 5322 does not */
	if (gmtime_r(&t, &tm) == NULL) {
		b->err = EINVAL;
		return;
	}
	snprintf(buf, sizeof buf, "Date: %s, %d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	mb_str(b, buf);
}

/*
 * Message-IDs: time, pid and a counter are unique on this host as long as the clock
 * does not go back; 64 random bits cover that, and other hosts on a shared spool.
 * The counter is the one piece of state in libspool, and it holds no data.
 */
static unsigned long mid_counter;

static void
put_message_id(struct mbuf *b, const char *domain)
{
	unsigned long long r = 0;
	struct timespec ts;
	char buf[SPOOL_ADDR_MAX + 128];
	unsigned long n = __atomic_add_fetch(&mid_counter, 1, __ATOMIC_RELAXED);

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (unsigned long long)ts.tv_nsec * 2654435761u;
	snprintf(buf, sizeof buf, "Message-ID: <%lld.%ld.%lu.%016llx@%s>\r\n",
	    (long long)ts.tv_sec, (long)getpid(), n, r, domain);
	mb_str(b, buf);
}

/* The recipient: "To: addr", "To: "name" <addr>", or encoded-words and <addr>. */
static void
put_to(struct mbuf *b, const char *addr, const char *name)
{
	struct mbuf q = { .max = 4096 };
	struct field f;
	char angle[SPOOL_ADDR_MAX + 3];
	size_t i;

	field_begin(&f, b, "To");
	snprintf(angle, sizeof angle, "<%s>", addr);
	if (name[0] == '\0') {
		field_word(&f, addr, strlen(addr));
		field_end(&f);
		return;
	}
	if (plain_ascii(name, LINE_WANT)) {
		mb_char(&q, '"');
		for (i = 0; name[i] != '\0'; i++) {
			if (name[i] == '"' || name[i] == '\\')
				mb_char(&q, '\\');
			mb_char(&q, name[i]);
		}
		mb_char(&q, '"');
	}
	if (!q.err && q.n > 0 && f.col + 1 + q.n + 1 + strlen(angle) <= LINE_WANT)
		field_word(&f, q.s, q.n);
	else
		field_encoded(&f, name);
	free(q.s);
	field_word(&f, angle, strlen(angle));
	field_end(&f);
}

/* The body, cleaned, as quoted-printable with CRLF line ends. */
static void
put_body(struct mbuf *b, const char *text)
{
	struct mbuf t = { .max = SPOOL_MAIL_MAX };
	char tok[4];
	size_t i, col = 0, tl;

	clean(&t, text, strlen(text), CLEAN_TEXT);
	if (t.err) {
		b->err = t.err;
		free(t.s);
		return;
	}
	for (i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.s[i];
		int end = i + 1 == t.n || t.s[i + 1] == '\n';

		if (c == '\n') {
			mb_str(b, "\r\n");
			col = 0;
			continue;
		}
		/* blanks are literal unless they end a line, where a relay may strip them */
		tl = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !end) ? 1 : 3;
		if (col + tl > QP_LINE - 1) {
			mb_str(b, "=\r\n");
			col = 0;
		}
		/* a leading dot would need SMTP's dot-stuffing; encoded, it never does */
		if (c == '.' && col == 0)
			tl = 3;
		if (tl == 1)
			tok[0] = (char)c;
		else
			snprintf(tok, sizeof tok, "=%02X", c);
		mb_add(b, tok, tl);
		col += tl;
	}
	if (t.n == 0 || t.s[t.n - 1] != '\n')
		mb_str(b, "\r\n");
	free(t.s);
}

/*
 * The boundary of multipart/alternative: "=_" never occurs in quoted-printable text
 * (a '=' there is always followed by two hex digits), so no part can contain it.
 */
#define BOUNDARY "=_spool-alternative"
#define PART_TEXT "Content-Type: text/plain; charset=UTF-8\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n"

/* The MIME headers and the body: plain text alone, or it and the HTML alternative. */
static void
put_mime(struct mbuf *b, const char *text, const char *html)
{
	mb_str(b, "MIME-Version: 1.0\r\n");
	if (html == NULL) {
		mb_str(b, PART_TEXT "Auto-Submitted: auto-generated\r\n\r\n");
		put_body(b, text);
		return;
	}
	mb_str(b, "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n"
	    "--" BOUNDARY "\r\n" PART_TEXT "\r\n");
	/* the plain part first: a reader shows the last part it can, RFC 2046 5.1.4 */
	put_body(b, text);
	mb_str(b, "--" BOUNDARY "\r\n"
	    "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	put_body(b, html);
	mb_str(b, "--" BOUNDARY "--\r\n");
}

int
spool_mail_compose(const struct spool_mail *m, char **msg, size_t *len,
    struct spool_err *err)
{
	struct mbuf b = { .max = SPOOL_MAIL_MAX };
	struct field f;
	const char *domain;
	char *subject = NULL, *name = NULL, line[SPOOL_ADDR_MAX + 16];
	int failed = 0;

	if (!spool_mail_addr_ok(m->from))
		return failerr(err, EINVAL, "from: not a plain address");
	if (!spool_mail_addr_ok(m->to))
		return failerr(err, EINVAL, "to: not a plain address");
	if (m->reply_to != NULL && !spool_mail_addr_ok(m->reply_to))
		return failerr(err, EINVAL, "reply-to: not a plain address");
	domain = m->domain != NULL ? m->domain : strchr(m->from, '@') + 1;
	if (!spool_domain_ok(domain))
		return failerr(err, EINVAL, "'%.64s' is not a domain for Message-IDs", domain);
	subject = clean_line(m->subject, &failed);
	name = clean_line(m->to_name, &failed);
	if (failed) {
		free(subject);
		free(name);
		return failerr(err, failed, "%s", strerror(failed));
	}
	if (strlen(name) > NAME_BYTES) {
		size_t k = NAME_BYTES;
		while (k > 0 && ((unsigned char)name[k] & 0xc0) == 0x80)
			k--;
		name[k] = '\0';
	}
	put_date(&b, m->date);
	snprintf(line, sizeof line, "From: %s\r\n", m->from);
	mb_str(&b, line);
	put_to(&b, m->to, name);
	if (m->reply_to != NULL) {
		snprintf(line, sizeof line, "Reply-To: %s\r\n", m->reply_to);
		mb_str(&b, line);
	}
	field_begin(&f, &b, "Subject");
	if (subject[0] == '\0')
		;
	else if (plain_ascii(subject, LINE_WANT - f.col - 1))
		field_word(&f, subject, strlen(subject));
	else
		field_encoded(&f, subject);
	field_end(&f);
	put_message_id(&b, domain);
	put_mime(&b, m->body != NULL ? m->body : "", m->html);
	free(subject);
	free(name);
	if (mb_done(&b, msg, len) < 0)
		return seterr(err, "composing the message: %s", strerror(errno));
	return 0;
}

int
spool_mail_recipient(const char *msg, size_t len, char *addr, size_t addrlen)
{
	char value[4096];
	const char *p = msg, *end = msg + len, *eol, *lt, *gt;
	size_t n = 0, k;
	int found = 0, in_to = 0;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		k = (size_t)(eol - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k == 0)
			break;                              /* the end of the header block */
		if (p[0] == ' ' || p[0] == '\t') {
			if (in_to) {                        /* unfold: drop the line break only */
				if (n + k >= sizeof value)
					goto bad;
				memcpy(value + n, p, k);
				n += k;
			}
		} else if (k >= 3 && strncasecmp(p, "To:", 3) == 0) {
			if (found++)
				goto bad;
			in_to = 1;
			if (k - 3 >= sizeof value)
				goto bad;
			memcpy(value, p + 3, k - 3);
			n = k - 3;
		} else
			in_to = 0;
		p = eol + 1;
	}
	if (!found)
		goto bad;
	value[n] = '\0';
	/* "addr", or "... <addr>": the address is the last thing in the field */
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		value[--n] = '\0';
	if ((lt = strrchr(value, '<')) != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0')
			goto bad;
		p = lt + 1;
		k = (size_t)(gt - p);
	} else {
		for (p = value; *p == ' ' || *p == '\t'; p++)
			;
		k = strlen(p);
	}
	if (k >= addrlen || k > SPOOL_ADDR_MAX)
		goto bad;
	memcpy(addr, p, k);
	addr[k] = '\0';
	if (!spool_mail_addr_ok(addr))
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* ---- what the customer may hear ---------------------------------------- */

#define TELL_NAME "tell"

int
spool_mail_tell_put(struct spool *sp, const char *id, const char *state,
    const char *comment, struct spool_err *err)
{
	char buf[SPOOL_NAME_MAX + SPOOL_COMMENT_MAX + 4], text[SPOOL_COMMENT_MAX + 1];
	int fd, r;

	if (!spool_id_ok(id) || (comment != NULL && !spool_name_ok(state)))
		return failerr(err, EINVAL, "tell: not an order id or a state");
	if ((fd = open_payload(sp, id)) < 0)
		return seterr(err, "%s: cannot open orders/%s: %s", id, id, strerror(errno));
	if (comment == NULL) {
		/* gone for good before the move it must not go with */
		r = spool_sys.unlinkat(fd, TELL_NAME, 0);
		if (r == 0)
			r = spool_sys.fsync(fd);
		else if (errno == ENOENT)
			r = 0;
	} else {
		/* the comment as the history line will keep it, so the two compare */
		spool_text_fmt(text, sizeof text, "%s", comment);
		r = fmt(buf, sizeof buf, "%s\n%s", state, text);
		if (r >= 0)
			r = spool_publish(fd, TELL_NAME, sp->dir[SPOOL_DIR_TMP], buf, strlen(buf),
			    NULL);
	}
	if (r < 0)
		seterr(err, "%s: orders/%s/%s: %s", id, id, TELL_NAME, strerror(errno));
	close_keep(fd);
	return r < 0 ? -1 : 0;
}

int
spool_mail_tell_get(struct spool *sp, const char *id, const char *state,
    const char *comment)
{
	char *buf, *nl;
	size_t len, n = strlen(state);
	int fd, r;

	if (!spool_id_ok(id) || (fd = open_payload(sp, id)) < 0)
		return 0;
	r = read_file(fd, TELL_NAME, SPOOL_NAME_MAX + SPOOL_COMMENT_MAX + 4, &buf, &len);
	close_keep(fd);
	if (r < 0)
		return 0;
	nl = memchr(buf, '\n', len);
	r = nl != NULL && (size_t)(nl - buf) == n && memcmp(buf, state, n) == 0 &&
	    len - n - 1 == strlen(comment) && memcmp(nl + 1, comment, len - n - 1) == 0 &&
	    comment[0] != '\0';
	free(buf);
	return r;
}

/* ---- the outbox --------------------------------------------------------- */

/*
 * Publish into outbox/new/ under name, unless a message of that name is in new/,
 * sent/ or failed/ already: 0 published, 1 there already, -1 error.
 */
static int
outbox_publish(struct spool *sp, const char *order_id, const char *name, time_t due_at,
    const char *msg, size_t len, int once, struct spool_err *err)
{
	struct timespec due = { due_at, 0 };
	static const enum spool_file box[] = { SPOOL_F_OUTBOX_SENT, SPOOL_F_OUTBOX_FAILED };
	char path[SPOOL_OUTBOX_NAME_MAX + 16];
	int nfd, r;
	size_t i;

	if (len == 0 || len > SPOOL_MAIL_MAX || memchr(msg, '\0', len) != NULL)
		return failerr(err, EINVAL, "%s: outbox: not a message (empty, too long, or NUL)",
		    order_id);
	for (i = 0; once && i < sizeof box / sizeof box[0]; i++) {
		fmt(path, sizeof path, "%s/%s", spool_basename(box[i]), name);
		if (faccessat(sp->dir[SPOOL_DIR_OUTBOX], path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
	}
	nfd = spool_sys.openat(sp->dir[SPOOL_DIR_OUTBOX], spool_basename(SPOOL_F_OUTBOX_NEW),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (nfd < 0)
		return seterr(err, "%s: %s: %s", order_id, SPOOL_NAME(SPOOL_F_OUTBOX_NEW, NULL),
		    strerror(errno));
	r = spool_publish(nfd, name, sp->dir[SPOOL_DIR_TMP], msg, len,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOREPLACE, .mtime = &due });
	if (r < 0 && once && errno == EEXIST)
		r = 1;
	else if (r < 0)
		seterr(err, "%s: outbox/new/%s: %s", order_id, name, strerror(errno));
	close_keep(nfd);
	return r;
}

int
spool_outbox_put(struct spool *sp, const char *order_id, const char *msg, size_t len,
    char *out, size_t outlen, struct spool_err *err)
{
	char name[SPOOL_OUTBOX_NAME_MAX], sfx[64], *dot;
	time_t now = spool_sys.time(NULL);
	int r;

	if (!spool_id_ok(order_id))
		return failerr(err, EINVAL, "outbox: not an order id");
	/* "<pid>.<hex>" with a '-' for the dot: the name's dots separate its fields */
	tmp_suffix(sfx, sizeof sfx);
	if ((dot = strchr(sfx, '.')) != NULL)
		*dot = '-';
	if (fmt(name, sizeof name, "%s.%lld.%s.eml", order_id, (long long)now, sfx) < 0)
		return seterr(err, "%s: outbox: name too long", order_id);
	r = outbox_publish(sp, order_id, name, now, msg, len, 0, err);
	if (r == 0 && out != NULL)
		snprintf(out, outlen, "%s", name);
	return r;
}

int
spool_outbox_put_once(struct spool *sp, const char *order_id, time_t when, const char *key,
    const char *msg, size_t len, char *out, size_t outlen, struct spool_err *err)
{
	char name[SPOOL_OUTBOX_NAME_MAX];
	const char *k;
	int r;

	if (!spool_id_ok(order_id))
		return failerr(err, EINVAL, "outbox: not an order id");
	for (k = key; *k != '\0'; k++)
		if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') ||
		    (*k >= 'A' && *k <= 'Z') || *k == '-'))
			return failerr(err, EINVAL, "%s: outbox: '%.40s' is not a message key",
			    order_id, key);
	if (key[0] == '\0' || when < 0 ||
	    fmt(name, sizeof name, "%s.%lld.%s.eml", order_id, (long long)when, key) < 0)
		return failerr(err, EINVAL, "%s: outbox: bad key or name too long", order_id);
	/* due now, whatever the name's time says about the event it tells of */
	r = outbox_publish(sp, order_id, name, spool_sys.time(NULL), msg, len, 1, err);
	if (r >= 0 && out != NULL)
		snprintf(out, outlen, "%s", name);
	return r;
}

int
spool_outbox_name_parse(const char *name, char *order_id, time_t *created)
{
	char id[SPOOL_ID_MAX + 1];
	const char *uniq, *tm, *end;
	size_t n = strlen(name), i;
	long long t = 0;

	if (n < 8 || n >= SPOOL_OUTBOX_NAME_MAX || strcmp(name + n - 4, ".eml") != 0)
		return 0;
	end = name + n - 4;
	for (uniq = end; uniq > name && uniq[-1] != '.'; uniq--)
		if (!((uniq[-1] >= '0' && uniq[-1] <= '9') || (uniq[-1] >= 'a' && uniq[-1] <= 'z') ||
		    (uniq[-1] >= 'A' && uniq[-1] <= 'Z') || uniq[-1] == '-'))
			return 0;
	if (uniq == end || uniq - 1 <= name)
		return 0;
	for (tm = uniq - 1; tm > name && tm[-1] != '.'; tm--)
		if (tm[-1] < '0' || tm[-1] > '9')
			return 0;
	if (tm == uniq - 1 || uniq - 1 - tm > 18 || tm - 1 <= name)
		return 0;
	for (i = 0; tm + i < uniq - 1; i++)
		t = t * 10 + (tm[i] - '0');
	if ((size_t)(tm - 1 - name) > SPOOL_ID_MAX)
		return 0;
	memcpy(id, name, (size_t)(tm - 1 - name));
	id[tm - 1 - name] = '\0';
	if (!spool_id_ok(id))
		return 0;
	if (order_id != NULL)
		strcpy(order_id, id);
	if (created != NULL)
		*created = (time_t)t;
	return 1;
}
