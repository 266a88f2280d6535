/* A streaming JSON writer; see json.h. */
#include <string.h>

#include "json.h"
#include "spool.h"

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

/*
 * A JSON string: '"' and '\' escaped, as JSON wants; every code point that
 * spool_escape would not show raw (controls, DEL, C1, the bidirectional and
 * line-breaking format characters) as \uXXXX, so a terminal that shows the JSON is
 * as safe as one that shows spoolctl's text; each byte that is not UTF-8 as \ufffd.
 */
static void
string(FILE *f, const char *s)
{
	size_t n = strlen(s), k;
	unsigned cp;

	fputc('"', f);
	while (n > 0) {
		if ((k = spool_utf8_char(s, n, &cp)) == 0) {
			fputs("\\ufffd", f);
			k = 1;
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (spool_char_unsafe(cp))
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(s, 1, k, f);
		s += k;
		n -= k;
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
json_nil(struct json *j)
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
		json_nil(j);
}

void
json_kint(struct json *j, const char *k, long long v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_kint_or_null(struct json *j, const char *k, int have, long long v)
{
	json_key(j, k);
	if (have)
		json_int(j, v);
	else
		json_nil(j);
}

void
json_done(struct json *j)
{
	fputc('\n', j->f);
}
