/*
 * A streaming JSON writer, for spoolctl's --json output and spoolweb's API.  It
 * writes as it goes, so `spoolctl ls --json` over a million orders needs no more
 * memory than one line, and it puts commas where they belong.  Strings that are not
 * valid UTF-8 have each bad byte replaced by U+FFFD, so the output always parses, and
 * control and bidirectional characters are written as \u escapes, so it is safe on a
 * terminal.  Values are the text itself: JSON's escaping is the only one.
 */
#ifndef SPOOL_COMMON_JSON_H
#define SPOOL_COMMON_JSON_H

#include <stdio.h>

#define JSON_DEPTH 16

struct json {
	FILE *f;
	int depth;
	int count[JSON_DEPTH];  /* values written so far at each depth */
	int key;                /* a key was just written */
};

void json_init(struct json *j, FILE *f);
void json_obj(struct json *j);
void json_arr(struct json *j);
void json_end(struct json *j, char close);
void json_key(struct json *j, const char *k);
void json_str(struct json *j, const char *s);
void json_int(struct json *j, long long v);
void json_nil(struct json *j);
void json_bool(struct json *j, int v);
/* Shorthands for "key": value inside an object. */
void json_kstr(struct json *j, const char *k, const char *s);
void json_kint(struct json *j, const char *k, long long v);
/* "key": v if have, else "key": null. */
void json_kint_or_null(struct json *j, const char *k, int have, long long v);
/* Finish the document with a newline. */
void json_done(struct json *j);

#endif
