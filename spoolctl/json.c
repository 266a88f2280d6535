/* A streaming JSON writer; see json.h. */
#include <string.h>

#include "json.h"

void
json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
}

/* Before any value: a comma if it is not the first in its container. */
static void
sep(struct json *j)
{
	if (j->key) {
		j->key = 0;
		return;
	}
	if (j->count[j->depth]++ > 0)
		fputc(',', j->f);
}

static void
open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_DEPTH)
		j->depth++;
	j->count[j->depth] = 0;
}

void
json_obj(struct json *j)
{
	open_(j, '{');
}

void
json_arr(struct json *j)
{
	open_(j, '[');
}

void
json_end(struct json *j, char close)
{
	fputc(close, j->f);
	if (j->depth > 0)
		j->depth--;
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static int
utf8_len(const unsigned char *p)
{
	unsigned cp;
	int n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void
string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', f);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", f);
			p++;
		} else if (*p == '\r') {
			fputs("\\r", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", f);
			p++;
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		}
	}
	fputc('"', f);
}

void
json_key(struct json *j, const char *k)
{
	sep(j);
	string(j->f, k);
	fputc(':', j->f);
	j->key = 1;
}

void
json_str(struct json *j, const char *s)
{
	sep(j);
	string(j->f, s);
}

void
json_int(struct json *j, long long v)
{
	sep(j);
	fprintf(j->f, "%lld", v);
}

void
json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void
json_bool(struct json *j, int v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_kstr(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	if (s != NULL)
		json_str(j, s);
	else
		json_null(j);
}

void
json_kint(struct json *j, const char *k, long long v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_done(struct json *j)
{
	fputc('\n', j->f);
}
