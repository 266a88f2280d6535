/*
 * Unit tests: mail as libspool makes it.  Addresses, templates, composing (with the
 * injection cases: nothing from outside may add a header), Message-IDs, the outbox
 * and its failure paths through the syscall table, and spool.conf's [mail] section.
 * The messages are checked by parsing them back: header fields counted, lines
 * measured, quoted-printable and encoded-words decoded.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"

#define T0 1763900000

/* ---- helpers: reading a message back ------------------------------------ */

static int
utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k, j;

	while (i < n) {
		unsigned c = p[i], v;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, v = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, v = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, v = c & 0x07;
		else
			return 0;
		if (i + k >= n + (k == 0))
			return 0;
		for (j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			v = v << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 2 && v < 0x800) || (k == 3 && v < 0x10000) || v > 0x10ffff ||
		    (v >= 0xd800 && v <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

struct parsed {
	char *fields[64];     /* unfolded "Name: value", malloc'd */
	int nfields;
	char *body;           /* the raw body, as sent */
	size_t bodylen;
	size_t longest;       /* the longest line of the whole message, CRLF not counted */
	int bare_lf;          /* a LF without CR, or a CR without LF */
	int eight_bit;        /* a byte >= 0x80, or a NUL */
};

/* Split a message at its CRLFs into unfolded header fields and the body. */
static void
parse(const char *msg, size_t len, struct parsed *p)
{
	size_t i, start = 0, n;
	int in_body = 0;

	memset(p, 0, sizeof *p);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c >= 0x80 || c == 0)
			p->eight_bit = 1;
		if ((c == '\n' && (i == 0 || msg[i - 1] != '\r')) ||
		    (c == '\r' && (i + 1 == len || msg[i + 1] != '\n')))
			p->bare_lf = 1;
	}
	for (i = 0; i + 1 < len || start < len; i++) {
		if (i + 1 < len && !(msg[i] == '\r' && msg[i + 1] == '\n'))
			continue;
		if (i + 1 >= len)
			i = len;      /* a last line without CRLF */
		n = i - start;
		if (n > p->longest)
			p->longest = n;
		if (!in_body) {
			if (n == 0) {
				in_body = 1;
				p->body = (char *)msg + i + 2;
				p->bodylen = len - (i + 2);
			} else if (msg[start] == ' ' || msg[start] == '\t') {
				char *f = p->fields[p->nfields - 1];
				size_t fl = strlen(f);
				assert_true(p->nfields > 0);
				f = realloc(f, fl + n + 1);
				memcpy(f + fl, msg + start, n);
				f[fl + n] = '\0';
				p->fields[p->nfields - 1] = f;
			} else {
				assert_true(p->nfields < 64);
				p->fields[p->nfields] = strndup(msg + start, n);
				p->nfields++;
			}
		}
		start = i + 2;
		i++;
	}
}

static void
parsed_free(struct parsed *p)
{
	int i;

	for (i = 0; i < p->nfields; i++)
		free(p->fields[i]);
}

/* The value of the one field called name, or NULL; fails if there are more. */
static const char *
field(const struct parsed *p, const char *name)
{
	const char *v = NULL;
	size_t n = strlen(name);
	int i;

	for (i = 0; i < p->nfields; i++)
		if (strncasecmp(p->fields[i], name, n) == 0 && p->fields[i][n] == ':') {
			if (v != NULL)
				fail_msg("two %s fields", name);
			v = p->fields[i] + n + 1;
			while (*v == ' ')
				v++;
		}
	return v;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode quoted-printable strictly (fails on a malformed escape); malloc'd, LF line ends. */
static char *
qp_decode(const char *s, size_t n, size_t *outlen)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;           /* soft line break */
			continue;
		}
		if (s[i] == '=') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				fail_msg("bad quoted-printable at %zu", i);
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			continue;
		}
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static int
b64val(int c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(tab, c) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/*
 * Decode an unstructured field made of RFC 2047 B encoded-words (or plain text);
 * malloc'd.  Whitespace between adjacent encoded-words is dropped, as RFC 2047 says.
 */
static char *
words_decode(const char *v)
{
	char *out = malloc(strlen(v) + 1);
	size_t o = 0;
	int prev_word = 0;

	while (*v != '\0') {
		if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
			const char *e = strstr(v + 10, "?=");
			unsigned acc = 0;
			int bits = 0;
			assert_non_null(e);
			for (v += 10; v < e; v++) {
				int d;
				if (*v == '=')
					continue;
				assert_true((d = b64val(*v)) >= 0);
				acc = acc << 6 | (unsigned)d;
				bits += 6;
				if (bits >= 8) {
					bits -= 8;
					out[o++] = (char)(acc >> bits & 0xff);
				}
			}
			v = e + 2;
			prev_word = 1;
			continue;
		}
		if (prev_word && (*v == ' ' || *v == '\t')) {
			const char *w = v;
			while (*w == ' ' || *w == '\t')
				w++;
			if (strncmp(w, "=?UTF-8?B?", 10) == 0) {
				v = w;
				continue;
			}
		}
		prev_word = 0;
		out[o++] = *v++;
	}
	out[o] = '\0';
	return out;
}

/* Every check a composed message must pass, whatever went in. */
static void
check_message(const char *msg, size_t len, struct parsed *p)
{
	int i;

	parse(msg, len, p);
	assert_false(p->bare_lf);
	assert_false(p->eight_bit);
	assert_true(p->longest <= 78);
	assert_non_null(p->body);
	/* no body line starts with a dot: nothing depends on SMTP's dot-stuffing */
	assert_false(p->body[0] == '.');
	assert_null(strstr(p->body, "\r\n."));
	for (i = 0; i < p->nfields; i++) {
		const char *c = strchr(p->fields[i], ':');
		assert_non_null(c);
		/* a field name is printable ASCII without blanks */
		for (const char *q = p->fields[i]; q < c; q++)
			assert_true(*q > ' ' && *q < 0x7f);
	}
}

static const char *const want_fields[] = { "Date", "From", "To", "Reply-To", "Subject",
	"Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Auto-Submitted" };

static void
check_fields(const struct parsed *p, int with_reply_to)
{
	size_t i;

	assert_int_equal(p->nfields, 10 - !with_reply_to);
	for (i = 0; i < sizeof want_fields / sizeof want_fields[0]; i++)
		if (with_reply_to || strcmp(want_fields[i], "Reply-To") != 0)
			assert_non_null(field(p, want_fields[i]));
}

static char *
compose(const struct spool_mail *m, size_t *len)
{
	struct spool_err err;
	char *msg;

	if (spool_mail_compose(m, &msg, len, &err) < 0)
		fail_msg("compose: %s", err.msg);
	return msg;
}

/* m composed, parsed into p, and checked as every message must pass, with its fields. */
static char *
compose_checked(const struct spool_mail *m, size_t *len, struct parsed *p, int with_reply_to)
{
	char *msg = compose(m, len);

	check_message(msg, *len, p);
	check_fields(p, with_reply_to);
	return msg;
}

/* ---- addresses ---------------------------------------------------------- */

static void
test_addresses(void **state)
{
	static const char *const good[] = { "a@b.c", "first.last+tag@example.co.uk",
		"o'brien@example.com", "x@localhost", "a_b-c=d@sub-domain.example",
		"1234567890123456789012345678901234567890123456789012345678901234@example.com",
	};
	static const char *const bad[] = { "", "a", "@b.c", "a@", "a@@b.c", "a@b@c",
		"a b@c.d", "a@b.c ", "a\r\n@b.c", "a@b.c\r\nBcc: e@f.g", "<a@b.c>", "a,b@c.d",
		"\"a\"@b.c", "a..b@c.d", ".a@b.c", "a.@b.c", "-a@b.c", "a@-b.c", "a@b-.c",
		"a@b..c", "a@b.c.", "a@.b.c", "a@b_c.d", "\xc3\xa4@b.c", "a@b.c\n", "a\t@b.c",
		"a(b)@c.d", "a;b@c.d", "a:b@c.d", "a\\b@c.d", "a[b]@c.d",
		"12345678901234567890123456789012345678901234567890123456789012345@example.com",
	};
	char longaddr[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!spool_mail_addr_ok(good[i]))
			fail_msg("refused good address '%s'", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (spool_mail_addr_ok(bad[i]))
			fail_msg("accepted bad address '%s'", bad[i]);
	assert_false(spool_mail_addr_ok(NULL));
	/* 254 characters is the most: "a@" and labels of 50 */
	memset(longaddr, 0, sizeof longaddr);
	strcpy(longaddr, "a@");
	while (strlen(longaddr) + 51 <= 254)
		strcat(longaddr, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
	strcat(longaddr, "c");
	while (strlen(longaddr) < 254)
		strcat(longaddr, "c");
	assert_int_equal(strlen(longaddr), 254);
	assert_true(spool_mail_addr_ok(longaddr));
	strcat(longaddr, "c");
	assert_false(spool_mail_addr_ok(longaddr));
}

/* ---- templates ---------------------------------------------------------- */

static const struct spool_mail_var all_vars[] = {
	{ "order_id", "1001" }, { "item_id", "2" }, { "status", "Shipping" }, { "code", "3" },
	{ "message", "all good" }, { "details_url", "https://shop.example/o/1001" },
	{ "customer", "Ada Lovelace" },
};

static void
test_template_placeholders(void **state)
{
	const char *t = "Subject: Order {order_id}/{item_id}: {status} ({code})\n"
	    "\n"
	    "Dear {customer},\n"
	    "{message}\n"
	    "See {details_url}; braces {{like this}}.\n";
	char *subject, *body;
	struct spool_err err;

	(void)state;
	if (spool_mail_render("t.txt", t, strlen(t), all_vars, 7, &subject, &body, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(subject, "Order 1001/2: Shipping (3)");
	assert_string_equal(body, "Dear Ada Lovelace,\nall good\n"
	    "See https://shop.example/o/1001; braces {like this}.\n");
	free(subject);
	free(body);
	/* a placeholder without a value is empty; CRLF files work the same */
	t = "Subject: [{message}]\r\n\r\n{customer}|{order_id}\r\n";
	assert_int_equal(spool_mail_render("t.txt", t, strlen(t), all_vars, 1, &subject, &body,
	    &err), 0);
	assert_string_equal(subject, "[]");
	assert_string_equal(body, "|1001\n");
	free(subject);
	free(body);
	assert_int_equal(spool_mail_template_check("t.txt", t, strlen(t), &err), 0);
}

static void
test_template_errors(void **state)
{
	static const struct text_case cases[] = {
		{ "Subject: x\n\nline 3\n{orderid}\n", "t.txt:4: unknown placeholder {orderid}" },
		{ "Subject: {colour}\n\nbody\n", "t.txt:1: unknown placeholder {colour}" },
		{ "Subject: x\n\n{Order_ID}\n", "t.txt:3: unknown placeholder {Order_ID}" },
		{ "Subject: x\n\na\nb\n{ open\n", "t.txt:5: a '{' that starts no placeholder" },
		{ "Subject: x\n\nclose }\n", "t.txt:3: a '}' that ends no placeholder" },
		{ "Hello\n\nbody\n", "t.txt:1: the first line must be 'Subject: ...'" },
		{ "Subject: x\nbody\n", "t.txt:2: an empty line must follow" },
		{ "Subject: x\n\nbad \xff byte\n", "t.txt:3: not UTF-8" },
		{ "Subject: x\n\nbell \x07\n", "t.txt:3: control character U+0007" },
		{ "Subject: x\n\nlone \r cr\n", "t.txt:3: control character U+000D" },
	};
	struct spool_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		if (spool_mail_template_check("t.txt", cases[i].text, strlen(cases[i].text),
		    &err) == 0)
			fail_msg("case %zu was accepted", i);
		assert_int_equal(errno, EINVAL);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, cases[i].want);
	}
}

/* Hostile values: in the subject every control character is a space; in the body <br> is a line end. */
static void
test_template_hostile_values(void **state)
{
	const char *t = "Subject: {customer}: {message}\n\nFrom {customer}:\n{message}\nEnd\n";
	const struct spool_mail_var vars[] = {
		{ "customer", "Eve\r\nBcc: victim@example.com\t\x01" },
		{ "message", "line one<br/>line two<BR>three<br />four\r\nfive\x1b[31m\x7f six "
		    "\xff\xfe bad \xc3 cut" },
	};
	char *subject, *body;
	struct spool_err err;

	(void)state;
	if (spool_mail_render("t.txt", t, strlen(t), vars, 2, &subject, &body, &err) < 0)
		fail_msg("%s", err.msg);
	assert_null(strpbrk(subject, "\r\n\t\x01\x1b\x7f"));
	assert_string_equal(subject, "Eve  Bcc: victim@example.com  : line one<br/>line two<BR>"
	    "three<br />four  five [31m  six \xef\xbf\xbd\xef\xbf\xbd bad \xef\xbf\xbd cut");
	assert_string_equal(body, "From Eve\nBcc: victim@example.com\t:\n"
	    "line one\nline two\nthree\nfour\nfive[31m six \xef\xbf\xbd\xef\xbf\xbd bad "
	    "\xef\xbf\xbd cut\nEnd\n");
	assert_true(utf8_valid((unsigned char *)subject, strlen(subject)));
	assert_true(utf8_valid((unsigned char *)body, strlen(body)));
	free(subject);
	free(body);
}

/* Where templates come from: [mail] templates, then the spool's templates/, then shipped. */
static void
test_template_read(void **state)
{
	char *dir = tmpdir_make(), path[4200], where[512], *text;
	struct spool_conf c;
	struct spool_mail_conf mc;
	struct spool_err err;
	const char *names[] = { "status", "purge-reminder", "send-failed", "printer-failed" };
	size_t len, i;
	int root;

	(void)state;
	memset(&c, 0, sizeof c);
	memset(&mc, 0, sizeof mc);
	c.mail = &mc;
	root = open(dir, O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 4; i++) {
		if (spool_mail_template_read(&c, root, names[i], &text, &len, where, sizeof where,
		    &err) < 0)
			fail_msg("%s", err.msg);
		assert_non_null(strstr(where, "(shipped)"));
		if (spool_mail_template_check(where, text, len, &err) < 0)
			fail_msg("shipped template: %s", err.msg);
		free(text);
	}
	/* the spool's own templates/ overrides, file by file */
	snprintf(path, sizeof path, "%s/templates/status.txt", dir);
	file_write(path, "Subject: mine {order_id}\n\nhi\n");
	assert_int_equal(spool_mail_template_read(&c, root, "status", &text, &len, where,
	    sizeof where, &err), 0);
	assert_string_equal(where, "templates/status.txt");
	assert_non_null(strstr(text, "mine"));
	free(text);
	assert_int_equal(spool_mail_template_read(&c, root, "send-failed", &text, &len, where,
	    sizeof where, &err), 0);
	assert_non_null(strstr(where, "(shipped)"));
	free(text);
	/* [mail] templates, relative to the spool; its errors name the file and line */
	snprintf(path, sizeof path, "%s/mine/status.txt", dir);
	file_write(path, "Subject: x\n\n{order_id}\n{bogus}\n");
	mc.templates = "mine";
	assert_int_equal(spool_mail_template_read(&c, root, "status", &text, &len, where,
	    sizeof where, &err), 0);
	assert_string_equal(where, "mine/status.txt");
	assert_int_equal(spool_mail_template_check(where, text, len, &err), -1);
	assert_non_null(strstr(err.msg, "mine/status.txt:4: unknown placeholder {bogus}"));
	free(text);
	assert_int_equal(spool_mail_template_read(&c, root, "nosuch", &text, &len, NULL, 0, &err),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_mail_template_read(&c, root, "../etc", &text, &len, NULL, 0, &err),
	    -1);
	mc.templates = "absent";
	assert_int_equal(spool_mail_template_read(&c, root, "status", &text, &len, NULL, 0, &err),
	    -1);
	assert_non_null(strstr(err.msg, "absent"));
	close(root);
	tree_rm(dir);
	free(dir);
}

/* A workflow's templates are checked as a whole, for spoold -n. */
static void
test_templates_check(void **state)
{
	char *dir = tmpdir_make(), path[4200];
	struct spool_conf *c;
	struct spool_err err;
	const char *text;
	int root;

	(void)state;
	root = open(dir, O_RDONLY | O_DIRECTORY);
	assert_non_null(text = spool_shipped("workflows/print.conf", NULL));
	c = conf_parsed("print.conf", text);
	if (spool_mail_templates_check(c, root, &err) < 0)
		fail_msg("%s", err.msg);
	snprintf(path, sizeof path, "%s/templates/purge-reminder.txt", dir);
	file_write(path, "Subject: x\n\n{days}\n");
	assert_int_equal(spool_mail_templates_check(c, root, &err), -1);
	assert_non_null(strstr(err.msg, "templates/purge-reminder.txt:3: unknown placeholder"));
	spool_conf_free(c);
	close(root);
	tree_rm(dir);
	free(dir);
}

static void
test_details_url(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(spool_mail_url("https://x/o/{order_id}?item={item_id}", "1001", "2", buf,
	    sizeof buf), 23);
	assert_string_equal(buf, "https://x/o/1001?item=2");
	assert_true(spool_mail_url("https://x/{order_id}/{item_id}", "A-1", NULL, buf,
	    sizeof buf) > 0);
	assert_string_equal(buf, "https://x/A-1/");
	assert_int_equal(spool_mail_url("https://x/{order_id}", "a b", NULL, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_mail_url("https://x/{order_id}", "1", NULL, buf, 10), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

/* ---- composing ---------------------------------------------------------- */

static void
test_compose_plain(void **state)
{
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.to_name = "Ada Lovelace", .reply_to = "help@example.com",
		.subject = "Your order 1001: Shipping", .body = "Hello,\nyour order ships.\n",
		.date = T0, .domain = "mail.example.com" };
	struct parsed p;
	char addr[SPOOL_ADDR_MAX + 1], *msg, *body;
	size_t len, blen;

	(void)state;
	msg = compose_checked(&m, &len, &p, 1);
	assert_int_equal(strlen(msg), len);
	assert_string_equal(field(&p, "Date"), "Sun, 23 Nov 2025 12:13:20 +0000");
	assert_string_equal(field(&p, "From"), "shop@example.com");
	assert_string_equal(field(&p, "To"), "\"Ada Lovelace\" <ada@example.org>");
	assert_string_equal(field(&p, "Reply-To"), "help@example.com");
	assert_string_equal(field(&p, "Subject"), "Your order 1001: Shipping");
	assert_string_equal(field(&p, "MIME-Version"), "1.0");
	assert_string_equal(field(&p, "Content-Type"), "text/plain; charset=UTF-8");
	assert_string_equal(field(&p, "Content-Transfer-Encoding"), "quoted-printable");
	assert_non_null(strstr(field(&p, "Message-ID"), "@mail.example.com>"));
	body = qp_decode(p.body, p.bodylen, &blen);
	assert_string_equal(body, "Hello,\nyour order ships.\n");
	free(body);
	assert_int_equal(spool_mail_recipient(msg, len, addr, sizeof addr), 0);
	assert_string_equal(addr, "ada@example.org");
	parsed_free(&p);
	free(msg);
	/* no name, no Reply-To, the Message-ID domain from the sender */
	m.to_name = NULL;
	m.reply_to = NULL;
	m.domain = NULL;
	msg = compose_checked(&m, &len, &p, 0);
	assert_string_equal(field(&p, "To"), "ada@example.org");
	assert_non_null(strstr(field(&p, "Message-ID"), "@example.com>"));
	assert_int_equal(spool_mail_recipient(msg, len, addr, sizeof addr), 0);
	assert_string_equal(addr, "ada@example.org");
	parsed_free(&p);
	free(msg);
	/* bad addresses are refused, never composed */
	m.to = "ada@example.org\r\nBcc: x@evil.example";
	assert_int_equal(spool_mail_compose(&m, &msg, &len, NULL), -1);
	assert_int_equal(errno, EINVAL);
}

/* The HTML part: values escaped, line ends as <br>, the same placeholders checked. */
static void
test_render_html(void **state)
{
	static const char tmpl[] = "<p>Hello {customer},</p>\r\n<p>{message}</p>\n"
	    "<a href=\"{order_url}\">{order_id}</a> {{x}}\n";
	const struct spool_mail_var vars[] = {
		{ "customer", "Zoë <b>\"&\" 'x'</b>" }, { "message", "one<br/>two\nthree\x01" },
		{ "order_url", "https://o.example/1001?a=1&b=2" }, { "order_id", "1001" },
	};
	struct spool_err err;
	char *html, *subject, *body;

	(void)state;
	if (spool_mail_render_html("t.html", tmpl, strlen(tmpl), vars, 4, &html, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(html, "<p>Hello Zoë &lt;b&gt;&quot;&amp;&quot; &#39;x&#39;&lt;/b&gt;,"
	    "</p>\n<p>one<br>\ntwo<br>\nthree</p>\n"
	    "<a href=\"https://o.example/1001?a=1&amp;b=2\">1001</a> {x}\n");
	free(html);
	assert_int_equal(spool_mail_render_html("t.html", "<p>{total}</p>", 14, vars, 4, &html,
	    &err), -1);
	assert_non_null(strstr(err.msg, "t.html:1: unknown placeholder {total}"));
	assert_int_equal(spool_mail_render_html("t.html", "a\x01", 2, NULL, 0, &html, &err), -1);
	/* the new placeholders of the text part */
	{
		const struct spool_mail_var v2[] = { { "customer_email", "a@b.c" },
			{ "customer_address", "12 Road\nTown" }, { "shipping_address", "c/o X" },
			{ "order_url", "https://o/1" } };
		static const char t2[] = "Subject: {customer_email}\n\n{customer_address}|"
		    "{shipping_address}|{order_url}\n";
		if (spool_mail_render("t.txt", t2, strlen(t2), v2, 4, &subject, &body, &err) < 0)
			fail_msg("%s", err.msg);
		assert_string_equal(subject, "a@b.c");
		assert_string_equal(body, "12 Road\nTown|c/o X|https://o/1\n");
		free(subject);
		free(body);
	}
}

/* With an HTML part: multipart/alternative, the plain text first, both 7-bit. */
static void
test_compose_html(void **state)
{
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.to_name = "Zoë", .subject = "Grüße: order 1001", .body = "Hello Zoë,\n.\n",
		.html = "<p>Hello Zoë,</p>\n<p>=_spool-alternative</p>\n", .date = T0,
		.domain = "mail.example.com" };
	const char *b1, *b2, *end;
	struct parsed p;
	size_t len, n;
	char *msg, *body;

	(void)state;
	msg = compose(&m, &len);
	check_message(msg, len, &p);
	assert_string_equal(field(&p, "MIME-Version"), "1.0");
	assert_string_equal(field(&p, "Content-Type"),
	    "multipart/alternative; boundary=\"=_spool-alternative\"");
	assert_null(field(&p, "Content-Transfer-Encoding"));
	assert_string_equal(field(&p, "Subject"), "=?UTF-8?B?R3LDvMOfZTogb3JkZXIgMTAwMQ==?=");
	b1 = strstr(p.body, "--=_spool-alternative\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	b2 = strstr(p.body, "--=_spool-alternative\r\nContent-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	end = strstr(p.body, "--=_spool-alternative--\r\n");
	assert_true(b1 == p.body && b2 != NULL && end != NULL && b1 < b2 && b2 < end);
	assert_string_equal(end, "--=_spool-alternative--\r\n");
	/* the boundary is nowhere else: quoted-printable writes '=' as =3D */
	assert_null(strstr(b1 + 2, "--=_spool-alternative\r\nContent-Type: text/plain"));
	n = strlen("--=_spool-alternative\r\nContent-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	body = qp_decode(b2 + n, (size_t)(end - b2 - n), &len);
	assert_string_equal(body, "<p>Hello Zoë,</p>\n<p>=_spool-alternative</p>\n");
	free(body);
	parsed_free(&p);
	free(msg);
}

/* orders/<id>/tell: the comment of one arrival, for the customer; nothing else. */
static void
test_tell(void **state)
{
	char *dir = tmpdir_make(), path[4300];
	struct spool_err err;
	struct spool *sp;

	(void)state;
	fault_install(T0);
	sp = spool_make(dir, "pos");
	snprintf(path, sizeof path, "%s/spool/orders/3001", dir);
	assert_int_equal(mkdir(path, 0770), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3001", "done", "x"), 0);
	/* the comment as a history line keeps it, whatever its bytes, compares equal */
	if (spool_mail_tell_put(sp, "3001", "done", "Ready\r\nBcc: e@x\x01\xff", &err) < 0)
		fail_msg("%s", err.msg);
	{
		struct spool_event ev = { .time = T0, .id = "3001", .actor = "admin",
			.from = "paid", .to = "done" }, back;
		char line[8192];

		spool_text_fmt(ev.comment, sizeof ev.comment, "%s", "Ready\r\nBcc: e@x\x01\xff");
		assert_true(spool_event_format(&ev, line, sizeof line) > 0);
		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(spool_event_parse(line, &back), 0);
		assert_int_equal(spool_mail_tell_get(sp, "3001", "done", back.comment), 1);
	}
	assert_int_equal(spool_mail_tell_put(sp, "3001", "done", "Ready to collect", &err), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3001", "done", "Ready to collect"), 1);
	/* another state, another comment, an empty one: not told */
	assert_int_equal(spool_mail_tell_get(sp, "3001", "paid", "Ready to collect"), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3001", "done", "Ready"), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3001", "done", ""), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3002", "done", "Ready to collect"), 0);
	/* a move without it removes it, twice is fine */
	assert_int_equal(spool_mail_tell_put(sp, "3001", "done", NULL, &err), 0);
	assert_int_equal(spool_mail_tell_get(sp, "3001", "done", "Ready to collect"), 0);
	assert_int_equal(spool_mail_tell_put(sp, "3001", "done", NULL, &err), 0);
	/* no order, no file: ENOENT, which spoolctl leaves to the move to report */
	assert_int_equal(spool_mail_tell_put(sp, "3002", "done", "x", &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_mail_tell_put(sp, "../x", "done", "x", &err), -1);
	assert_int_equal(errno, EINVAL);
	spool_unmake(sp, dir);
}

/* CR/LF in a customer's name, in a subject and in a message add no header. */
static void
test_compose_injection(void **state)
{
	static const char *const names[] = {
		"Eve\r\nBcc: victim@example.com",
		"Eve\nX-Injected: 1",
		"\"Eve\" <eve@evil.example>,\r\n Bcc: x@y.z",
		"Eve \\\" \"quoted\\",
		"=?UTF-8?B?QmNjOiB4QHkueg==?=",
		"\r\n\r\nbody starts here",
	};
	char subject[256], body[256], addr[SPOOL_ADDR_MAX + 1], *msg, *name, *dec;
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.reply_to = "help@example.com", .date = T0 };
	struct parsed p;
	size_t i, len, blen;
	int k;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(subject, sizeof subject, "Order 1\r\nX-Injected: %zu\nBcc: a@b.c", i);
		snprintf(body, sizeof body, "msg\r\n\r\nX-Evil: %zu\r\n.\r\nQUIT\r\n", i);
		m.to_name = names[i];
		m.subject = subject;
		m.body = body;
		msg = compose_checked(&m, &len, &p, 1);
		for (k = 0; k < p.nfields; k++) {
			assert_int_not_equal(strncasecmp(p.fields[k], "Bcc:", 4), 0);
			assert_int_not_equal(strncasecmp(p.fields[k], "X-", 2), 0);
		}
		/* the name comes back whole, on one line, in the To field */
		name = words_decode(field(&p, "To"));
		assert_null(strpbrk(name, "\r\n"));
		assert_non_null(strstr(name, "<ada@example.org>"));
		free(name);
		dec = words_decode(field(&p, "Subject"));
		snprintf(subject, sizeof subject, "Order 1  X-Injected: %zu Bcc: a@b.c", i);
		assert_string_equal(dec, subject);
		free(dec);
		/* the body's lines stay in the body, and the recipient is the one address */
		dec = qp_decode(p.body, p.bodylen, &blen);
		snprintf(body, sizeof body, "msg\n\nX-Evil: %zu\n.\nQUIT\n", i);
		assert_string_equal(dec, body);
		free(dec);
		assert_int_equal(spool_mail_recipient(msg, len, addr, sizeof addr), 0);
		assert_string_equal(addr, "ada@example.org");
		parsed_free(&p);
		free(msg);
	}
}

/*
 * No C1 control and no bidirectional or line-breaking format character reaches a
 * mail raw: not through a template's values (subject and body), nor through the
 * composer's name, subject and body, decoded as a reader decodes them.
 */
static int
has_unsafe(const char *s)
{
	size_t n = strlen(s), k;
	unsigned cp;

	for (; n > 0; s += k, n -= k) {
		if ((k = spool_utf8_char(s, n, &cp)) == 0)
			return 1;
		if (spool_char_unsafe(cp) && cp != '\n' && cp != '\t')
			return 1;
	}
	return 0;
}

static void
test_hostile_unicode(void **state)
{
	/* U+202E, U+2066..9, U+061C, U+200E/F, U+2028/9, C1 NEL and CSI, DEL, ESC */
	const char *evil = "Eve\xe2\x80\xae" "gnp.exe\xe2\x81\xa6x\xe2\x81\xa9\xd8\x9c\xe2\x80\x8e"
	    "\xe2\x80\x8f\xe2\x80\xa8y\xe2\x80\xa9z\xc2\x85\xc2\x9b" "2J\x7f\x1b[31m "
	    "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x81\xa7\xe2\x81\xa8 caf\xc3\xa9";
	const char *t = "Subject: Order 1 for {customer}: {message}\n\nHello {customer},\n{message}\n";
	const struct spool_mail_var vars[] = { { "customer", evil }, { "message", evil } };
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.date = T0 };
	char *subject, *body, *msg, *dec;
	struct spool_err err;
	struct parsed p;
	size_t len, blen;

	(void)state;
	if (spool_mail_render("t.txt", t, strlen(t), vars, 2, &subject, &body, &err) < 0)
		fail_msg("%s", err.msg);
	assert_false(has_unsafe(subject));
	assert_false(has_unsafe(body));
	assert_null(strchr(subject, '\n'));
	/* what is text stays: the letters around them, and UTF-8 that is no control */
	assert_non_null(strstr(subject, "Evegnp.exe"));
	assert_non_null(strstr(body, "caf\xc3\xa9"));
	/* U+2028 and U+2029 are breaks in the body, blanks in the subject */
	assert_non_null(strstr(body, "x\ny\nz"));
	m.to_name = evil;
	m.subject = subject;
	m.body = body;
	msg = compose_checked(&m, &len, &p, 0);
	dec = words_decode(field(&p, "To"));
	assert_false(has_unsafe(dec));
	assert_non_null(strstr(dec, "Evegnp.exe"));
	free(dec);
	dec = words_decode(field(&p, "Subject"));
	assert_false(has_unsafe(dec));
	assert_string_equal(dec, subject);
	free(dec);
	dec = qp_decode(p.body, p.bodylen, &blen);
	assert_false(has_unsafe(dec));
	free(dec);
	/* and nothing of it raw in the message as sent */
	assert_null(memmem(msg, len, "\xe2\x80\xae", 3));
	assert_null(memmem(msg, len, "\xc2\x85", 2));
	parsed_free(&p);
	free(msg);
	free(subject);
	free(body);
}

/* A 5000-character line, 8-bit and invalid bytes, and a long non-ASCII subject. */
static void
test_compose_long_and_8bit(void **state)
{
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.date = T0 };
	char *longline = malloc(5001), *body, *subject, *dec, *want;
	struct parsed p;
	size_t i, len, blen;
	char *msg;

	(void)state;
	for (i = 0; i < 5000; i++)
		longline[i] = "abc =.\t \xc3\xa4"[i % 10];
	longline[5000] = '\0';
	/* i % 10 == 8 and 9 are the two bytes of 'ä', so the line is valid UTF-8 */
	assert_true(asprintf(&body, "%s\ninvalid: \xff\xfe \xc3 end\nmixed: "
	    "\xe2\x82\xac \xed\xa0\x80 trailing blanks   \n", longline) > 5000);
	subject = malloc(400);
	subject[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(subject, "Grüße, ");
	m.subject = subject;
	m.to_name = "Zoë Ünicode-Ñame with a rather long family name that goes on";
	m.body = body;
	msg = compose_checked(&m, &len, &p, 0);
	dec = words_decode(field(&p, "Subject"));
	for (i = strlen(subject); i > 0 && subject[i - 1] == ' '; i--)
		subject[i - 1] = '\0';
	assert_string_equal(dec, subject);
	free(dec);
	dec = words_decode(field(&p, "To"));
	assert_string_equal(dec, "Zoë Ünicode-Ñame with a rather long family name that goes on "
	    "<ada@example.org>");
	free(dec);
	dec = qp_decode(p.body, p.bodylen, &blen);
	assert_int_equal(strlen(dec), blen);
	assert_true(utf8_valid((unsigned char *)dec, blen));
	assert_int_equal(asprintf(&want, "%s\ninvalid: \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd end\n"
	    "mixed: \xe2\x82\xac \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd trailing blanks   \n",
	    longline) > 0, 1);
	assert_string_equal(dec, want);
	free(want);
	free(dec);
	parsed_free(&p);
	free(msg);
	free(subject);
	free(body);
	free(longline);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_message_id_unique(void **state)
{
	struct spool_mail m = { .from = "shop@example.com", .to = "ada@example.org",
		.subject = "x", .body = "y", .date = T0 };
	enum { N = 2000 };
	char **ids = calloc(N, sizeof *ids), *msg;
	struct parsed p;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < N; i++) {
		msg = compose(&m, &len);
		parse(msg, len, &p);
		ids[i] = strdup(field(&p, "Message-ID"));
		assert_true(ids[i][0] == '<' && ids[i][strlen(ids[i]) - 1] == '>');
		assert_non_null(strchr(ids[i], '@'));
		parsed_free(&p);
		free(msg);
	}
	qsort(ids, N, sizeof *ids, cmpstr);
	for (i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			fail_msg("Message-ID %s twice", ids[i]);
	for (i = 0; i < N; i++)
		free(ids[i]);
	free(ids);
}

static void
test_recipient(void **state)
{
	char addr[SPOOL_ADDR_MAX + 1];
	const char *m;

	(void)state;
	m = "From: a@b.c\r\nTo: \"x <y@z.w>\" <real@example.com>\r\n\r\nTo: no@body.example\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), 0);
	assert_string_equal(addr, "real@example.com");
	m = "to:\r\n =?UTF-8?B?WsO2?=\r\n <folded@example.com>\r\n\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), 0);
	assert_string_equal(addr, "folded@example.com");
	m = "To: a@b.c\r\nTo: d@e.f\r\n\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), -1);
	m = "From: a@b.c\r\n\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), -1);
	m = "To: a@b.c, d@e.f\r\n\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), -1);
	m = "To: <a@b.c> trailing\r\n\r\n";
	assert_int_equal(spool_mail_recipient(m, strlen(m), addr, sizeof addr), -1);
}

/* ---- the outbox --------------------------------------------------------- */

static void
test_outbox_names(void **state)
{
	char id[SPOOL_ID_MAX + 1];
	time_t t;

	(void)state;
	assert_true(spool_outbox_name_parse("1001.1763900000.123-0af3.eml", id, &t));
	assert_string_equal(id, "1001");
	assert_int_equal(t, 1763900000);
	assert_true(spool_outbox_name_parse("A.b-c.17.9-ff.eml", id, &t));
	assert_string_equal(id, "A.b-c");
	assert_int_equal(t, 17);
	assert_false(spool_outbox_name_parse("1001.1763900000.123-0af3.eml.reason", id, &t));
	assert_false(spool_outbox_name_parse("1001.1763900000.eml", id, &t));
	assert_false(spool_outbox_name_parse("1001.17x.1-2.eml", id, &t));
	assert_false(spool_outbox_name_parse(".1001.17.1-2.eml", id, &t));
	assert_false(spool_outbox_name_parse("10/01.17.1-2.eml", id, &t));
	assert_false(spool_outbox_name_parse("1001.99999999999999999999.1-2.eml", id, &t));
	assert_false(spool_outbox_name_parse("1001.17.1_2.eml", id, &t));
	assert_false(spool_outbox_name_parse("x.eml", id, &t));
}

static void
test_outbox_put(void **state)
{
	char *dir = tmpdir_make(), path[4300], name[SPOOL_OUTBOX_NAME_MAX], id[SPOOL_ID_MAX + 1];
	const char *msg = "To: a@b.c\r\nSubject: x\r\n\r\nhello\r\n";
	struct spool_err err;
	struct spool *sp;
	struct stat st;
	size_t len;
	time_t t;
	char *got;

	(void)state;
	fault_install(T0);
	sp = spool_make(dir, "pos");
	if (spool_outbox_put(sp, "3001", msg, strlen(msg), name, sizeof name, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(spool_outbox_name_parse(name, id, &t));
	assert_string_equal(id, "3001");
	assert_int_equal(t, T0);
	assert_int_equal(strncmp(name, "3001.", 5), 0);
	snprintf(path, sizeof path, "%s/spool/outbox/new", dir);
	assert_int_equal(dir_count(path), 1);
	snprintf(path, sizeof path, "%s/spool/outbox/new/%s", dir, name);
	assert_non_null(got = file_read(AT_FDCWD, path, &len));
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(got, msg, len);
	free(got);
	/* due at once: its mtime is its creation time */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtime, T0);
	snprintf(path, sizeof path, "%s/spool/tmp", dir);
	assert_int_equal(dir_count(path), 0);
	/* two mails of one order in the same second have different names */
	assert_int_equal(spool_outbox_put(sp, "3001", msg, strlen(msg), NULL, 0, &err), 0);
	snprintf(path, sizeof path, "%s/spool/outbox/new", dir);
	assert_int_equal(dir_count(path), 2);
	/* what is not a message or an id is refused */
	assert_int_equal(spool_outbox_put(sp, "../x", msg, strlen(msg), NULL, 0, &err), -1);
	assert_int_equal(spool_outbox_put(sp, "3001", "", 0, NULL, 0, &err), -1);
	assert_int_equal(spool_outbox_put(sp, "3001", "a\0b", 3, NULL, 0, &err), -1);
	assert_int_equal(dir_count(path), 2);
	spool_unmake(sp, dir);
}

/* The same event told twice queues one message, also once it has been sent. */
static void
test_outbox_put_once(void **state)
{
	char *dir = tmpdir_make(), path[4300], from[4300], name[SPOOL_OUTBOX_NAME_MAX];
	const char *msg = "To: a@b.c\r\nSubject: x\r\n\r\nhello\r\n";
	struct spool_err err;
	struct spool *sp;
	struct stat st;

	(void)state;
	fault_install(T0);
	sp = spool_make(dir, "pos");
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0 - 60, "n0", msg, strlen(msg), name,
	    sizeof name, &err), 0);
	assert_string_equal(name, "3001.1763899940.n0.eml");
	snprintf(path, sizeof path, "%s/spool/outbox/new/%s", dir, name);
	/* named after the event, due now */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtime, T0);
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0 - 60, "n0", msg, strlen(msg), NULL,
	    0, &err), 1);
	snprintf(path, sizeof path, "%s/spool/outbox/new", dir);
	assert_int_equal(dir_count(path), 1);
	/* sent meanwhile: still one */
	snprintf(from, sizeof from, "%s/spool/outbox/new/%s", dir, name);
	snprintf(path, sizeof path, "%s/spool/outbox/sent/%s", dir, name);
	assert_int_equal(rename(from, path), 0);
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0 - 60, "n0", msg, strlen(msg), NULL,
	    0, &err), 1);
	snprintf(path, sizeof path, "%s/spool/outbox/new", dir);
	assert_int_equal(dir_count(path), 0);
	/* another step of the visit is another event */
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0 - 60, "n1", msg, strlen(msg), NULL,
	    0, &err), 0);
	assert_int_equal(dir_count(path), 1);
	/* a key that is not [A-Za-z0-9-] is refused */
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0, "a.b", msg, strlen(msg), NULL, 0,
	    &err), -1);
	assert_int_equal(spool_outbox_put_once(sp, "3001", T0, "", msg, strlen(msg), NULL, 0,
	    &err), -1);
	spool_unmake(sp, dir);
}

/*
 * Every system call of a put fails in turn, whole or half written: outbox/new/ then
 * holds nothing, or (only when the directory's fsync after the rename failed) the
 * whole message; and tmp/ holds nothing.
 */
/* The one file in folder path, into buf; fails if there is not exactly one. */
static void
only_file(const char *path, char *buf, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			snprintf(buf, len, "%s/%s", path, de->d_name);
			n++;
		}
	closedir(d);
	assert_int_equal(n, 1);
}

static void
test_outbox_put_faults(void **state)
{
	static const int errs[] = { EIO, ENOSPC };
	char *dir = tmpdir_make(), newdir[4300], tmp[4300], path[4600];
	struct spool_err err;
	struct spool *sp;
	size_t e, len, msglen;
	long n, at, sites = 0;
	int r, half;
	char *msg, *got;

	(void)state;
	fault_install(T0);
	sp = spool_make(dir, "pos");
	snprintf(newdir, sizeof newdir, "%s/spool/outbox/new", dir);
	snprintf(tmp, sizeof tmp, "%s/spool/tmp", dir);
	msg = malloc(200000);
	for (msglen = 0; msglen < 199000; msglen += 50)
		memcpy(msg + msglen, "012345678901234567890123456789012345678901234567\r\n", 50);
	fault_arm(0, 0);
	assert_int_equal(spool_outbox_put(sp, "3001", msg, msglen, NULL, 0, &err), 0);
	n = fault.calls;
	assert_true(n >= 5);
	sh("rm -f '%s'/*", newdir);
	for (half = 0; half <= 1; half++)
		for (e = 0; e < 2; e++)
			for (at = 1; at <= n; at++) {
				fault_arm(at, errs[e]);
				fault.short_write = half;
				r = spool_outbox_put(sp, "3001", msg, msglen, NULL, 0, &err);
				fault_disarm();
				if (!fault.hit)
					fail_msg("site %ld was not reached", at);
				sites++;
				/*
				 * Failed: nothing in new/, or the whole message when only the fsync of
				 * new/ after the rename failed.  Succeeded: the whole message.
				 */
				if (dir_count(newdir) != 0) {
					if (r < 0 && strcmp(fault.hit_name, "fsync") != 0)
						fail_msg("site %ld (%s) failed and left a file", at,
						    fault.hit_name);
					only_file(newdir, path, sizeof path);
					assert_non_null(got = file_read(AT_FDCWD, path, &len));
					if (len != msglen || memcmp(got, msg, len) != 0)
						fail_msg("site %ld (%s) left %zu of %zu bytes", at,
						    fault.hit_name, len, msglen);
					free(got);
					sh("rm -f '%s'/*", newdir);
				} else if (r == 0)
					fail_msg("site %ld (%s) said it succeeded but did not", at,
					    fault.hit_name);
				if (strcmp(fault.hit_name, "unlinkat") != 0)
					assert_int_equal(dir_count(tmp), 0);
				sh("rm -f '%s'/.pub.*", tmp);
			}
	print_message("outbox put: %ld fault sites, none left a part of a message\n", sites);
	assert_true(sites >= 2 * 2 * 5);
	free(msg);
	spool_unmake(sp, dir);
}

/* ---- spool.conf [mail] -------------------------------------------------- */

#define WF "[spool]\nversion = 1\nworkflow = t\nentry = a\n[state a]\n" \
	"action = notify status customer\n"

static void
test_mail_conf(void **state)
{
	struct spool_conf *c;
	const char *text = WF
	    "[mail]\n"
	    "relay = smtp.example.com\n"
	    "port = 587\n"
	    "starttls = required\n"
	    "user = shop\n"
	    "password_file = /etc/spool/smtp-password\n"
	    "from = shop@example.com\n"
	    "reply_to = help@example.com\n"
	    "admin = admin@example.com\n"
	    "superuser = root@example.com\n"
	    "details_url = https://shop.example.com/admin/order/{order_id}?item={item_id}\n"
	    "domain = mail.example.com\n"
	    "retry = 30s\n"
	    "lifetime = 2d\n"
	    "templates = my-templates\n"
	    "order_url = https://office.example.com/orders/{order_id}\n"
	    "helo = mx1.example.com\n";

	(void)state;
	c = conf_parsed("t.conf", text);
	assert_string_equal(c->mail->relay, "smtp.example.com");
	assert_int_equal(c->mail->port, 587);
	assert_int_equal(c->mail->starttls, SPOOL_STARTTLS_REQUIRED);
	assert_string_equal(c->mail->user, "shop");
	assert_string_equal(c->mail->password_file, "/etc/spool/smtp-password");
	assert_string_equal(c->mail->from, "shop@example.com");
	assert_string_equal(c->mail->reply_to, "help@example.com");
	assert_string_equal(c->mail->admin, "admin@example.com");
	assert_string_equal(c->mail->superuser, "root@example.com");
	assert_non_null(strstr(c->mail->details_url, "{order_id}"));
	assert_string_equal(c->mail->domain, "mail.example.com");
	assert_int_equal(c->mail->retry, 30);
	assert_int_equal(c->mail->lifetime, 2 * 86400);
	assert_string_equal(c->mail->templates, "my-templates");
	assert_string_equal(c->mail->order_url, "https://office.example.com/orders/{order_id}");
	assert_string_equal(c->mail->helo, "mx1.example.com");
	assert_int_equal(c->mail->line, 7);
	spool_conf_free(c);
	/* the defaults: mail off, port 25, no TLS, retry 1m, lifetime 5d */
	c = conf_parsed("t.conf", WF);
	assert_null(c->mail->relay);
	assert_int_equal(c->mail->port, 25);
	assert_int_equal(c->mail->starttls, SPOOL_STARTTLS_NO);
	assert_int_equal(c->mail->retry, 60);
	assert_int_equal(c->mail->lifetime, 5 * 86400);
	assert_int_equal(c->mail->line, 0);
	spool_conf_free(c);
	c = conf_parsed("t.conf", WF "[mail]\nrelay = none\n");
	assert_null(c->mail->relay);
	spool_conf_free(c);
}

static void
test_mail_conf_errors(void **state)
{
	static const struct text_case cases[] = {
		{ WF "[mail]\ncolour = red\n", "t.conf:8: colour: unknown key in [mail]" },
		{ WF "[mail]\nrelay = a.b\nrelay = c.d\n", "t.conf:9: relay: given twice" },
		{ WF "[mail]\nrelay = a b\n", "t.conf:8: relay: 'a b' is not a host" },
		{ WF "[mail]\nport = 0\n", "t.conf:8: port: expected a port" },
		{ WF "[mail]\nport = 70000\n", "t.conf:8: port: expected a port" },
		{ WF "[mail]\nstarttls = maybe\n", "t.conf:8: starttls: expected no, yes or required" },
		{ WF "[mail]\nfrom = shop at example.com\n", "t.conf:8: from: 'shop at example.com' "
		    "is not a plain address" },
		{ WF "[mail]\nadmin = <a@b.c>\n", "t.conf:8: admin: '<a@b.c>' is not a plain" },
		{ WF "[mail]\nreply_to = a@b.c, d@e.f\n", "t.conf:8: reply_to:" },
		{ WF "[mail]\nsuperuser = \"x\"@b.c\n", "t.conf:8: superuser:" },
		{ WF "[mail]\ndetails_url = https://x/order\n", "t.conf:8: details_url: expected" },
		{ WF "[mail]\ndetails_url = https://x/{order}\n", "t.conf:8: details_url:" },
		{ WF "[mail]\ndetails_url = https://x/{order_id} y\n", "t.conf:8: details_url:" },
		{ WF "[mail]\nretry = 2h\n", "t.conf:8: retry: expected a duration from 1s to 1h" },
		{ WF "[mail]\nlifetime = 10s\n", "t.conf:8: lifetime: expected a duration" },
		{ WF "[mail]\nretry = 1h\nlifetime = 30m\n", "t.conf:7: lifetime: is shorter" },
		{ WF "[mail]\nuser = shop\n", "t.conf:7: [mail] needs user and password_file" },
		{ WF "[mail]\npassword_file = pw\n", "t.conf:7: [mail] needs user and password" },
		{ WF "[mail]\nrelay = localhost\n", "t.conf:7: from: [mail] needs from" },
		{ WF "action = notify failed admin\n[mail]\nrelay = localhost\nfrom = a@b.c\n",
		    "t.conf:7: action: notify admin needs [mail] admin" },
		{ WF "action = notify failed superuser\n[mail]\nrelay = h\nfrom = a@b.c\n",
		    "t.conf:7: action: notify superuser needs [mail] superuser" },
		{ WF "[mail]\n[mail]\n", "t.conf:8: [mail] given twice (first on line 7)" },
		{ WF "[mail]\ntemplates =\n", "t.conf:8: templates: must not be empty" },
		{ WF "[mail]\norder_url = https://x/orders\n", "t.conf:8: order_url: expected" },
		{ WF "[mail]\nhelo = mx_1\n", "t.conf:8: helo: 'mx_1' is not a host name" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		conf_refused(cases[i].text, cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_template_placeholders),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_template_hostile_values),
		cmocka_unit_test(test_template_read),
		cmocka_unit_test(test_templates_check),
		cmocka_unit_test(test_details_url),
		cmocka_unit_test(test_compose_plain),
		cmocka_unit_test(test_compose_injection),
		cmocka_unit_test(test_render_html),
		cmocka_unit_test(test_compose_html),
		cmocka_unit_test(test_tell),
		cmocka_unit_test(test_compose_long_and_8bit),
		cmocka_unit_test(test_hostile_unicode),
		cmocka_unit_test(test_message_id_unique),
		cmocka_unit_test(test_recipient),
		cmocka_unit_test(test_outbox_names),
		cmocka_unit_test(test_outbox_put),
		cmocka_unit_test(test_outbox_put_once),
		cmocka_unit_test(test_outbox_put_faults),
		cmocka_unit_test(test_mail_conf),
		cmocka_unit_test(test_mail_conf_errors),
	};
	spool_domain_init();   /* the [queue] and [mail] readers */
	return cmocka_run_group_tests_name("mail", tests, NULL, NULL);
}
