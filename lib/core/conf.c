/*
 * spool.conf: the workflow of a spool and its settings, read with libinih.
 *
 * inih splits lines into sections and key = value pairs.  A reader in front of it
 * counts lines (so every error names file, line and key), refuses over-long lines
 * that inih would silently split, refuses indented lines (inih would take them as
 * continuations of the previous key) and sees section headers even when a section
 * has no keys.  References between sections are resolved after the whole file is
 * read, so sections may come in any order.  See spool.conf(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CONF_MAX (256 * 1024)

enum sect { S_NONE, S_SPOOL, S_STATE, S_TRANSITION, S_OTHER, S_BAD };

/* A reference to a state by name, resolved after parsing. */
struct ref {
	char *name;
	int line;
};

struct rawstate {
	struct ref on_success, on_failure, timer_to, gate_to, auto_to;
	int code_line;
	unsigned seen;  /* keys seen, for duplicates */
};

struct rawtrans {
	char *from;
	int fromline;
	struct ref to;
	unsigned seen;
};

/* The reader's state, which the section readers above the core see as opaque. */
struct spool_conf_reader {
	struct spool_conf *c;
	const char *file;
	/* reader state */
	const char *text, *pos;
	int line;
	/* current section */
	enum sect sect;
	char sectname[80];
	int cur;
	unsigned spool_seen;
	int have_spool;
	const struct spool_conf_section *other;   /* the reader of an S_OTHER section */
	struct rawstate *rs;
	struct rawtrans *rt;
	struct ref *entry_refs;
	/* first error */
	int failed;
	struct spool_err *err;
};

static int
cerr(struct spool_conf_reader *x, int line, const char *key, const char *f, ...)
    __attribute__((format(printf, 4, 5)));

static int
cerr(struct spool_conf_reader *x, int line, const char *key, const char *f, ...)
{
	char msg[SPOOL_ERR_MAX];
	va_list ap;

	if (x->failed++)
		return 0;
	va_start(ap, f);
	vsnprintf(msg, sizeof msg, f, ap);
	va_end(ap);
	if (key != NULL)
		seterr(x->err, "%s:%d: %s: %s", x->file, line, key, msg);
	else
		seterr(x->err, "%s:%d: %s", x->file, line, msg);
	return 0;
}

int
spool_conf_words(char *s, char **w)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == SPOOL_CONF_WORDS)
			return -1;
		w[n++] = t;
	}
	w[n] = NULL;
	return n;
}

static int
yesno(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

int
spool_conf_number(const char *v, long lo, long hi, long *out)
{
	char *e;
	long n;

	errno = 0;
	n = strtol(v, &e, 10);
	if (errno != 0 || e == v || *e != '\0' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

/* A size in bytes: "4096", "512K", "64M", "2G" (binary multiples), at most 1 TiB. */
static int
size_parse(const char *v, long long *out)
{
	char *e;
	long long n, mul = 1;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &e, 10);
	if (errno != 0)
		return -1;
	switch (*e) {
	case '\0':
		break;
	case 'K':
		mul = 1LL << 10;
		break;
	case 'M':
		mul = 1LL << 20;
		break;
	case 'G':
		mul = 1LL << 30;
		break;
	default:
		return -1;
	}
	if (*e != '\0' && e[1] != '\0')
		return -1;
	if (n > (1LL << 40) / mul)
		return -1;
	*out = n * mul;
	return 0;
}

static int
setref(struct spool_conf_reader *x, struct ref *r, const char *v)
{
	free(r->name);
	if ((r->name = strdup(v)) == NULL)
		return -1;
	r->line = x->line;
	return 0;
}

const char *
spool_actor_name(unsigned a)
{
	switch (a) {
	case SPOOL_ACTOR_ADMIN:
		return "admin";
	case SPOOL_ACTOR_PRINTER:
		return "printer";
	case SPOOL_ACTOR_SYSTEM:
		return "system";
	case SPOOL_ACTOR_STORE:
		return "store";
	}
	return "?";
}

int
spool_actor_parse(const char *s, unsigned *a)
{
	unsigned i;

	for (i = 1; i <= SPOOL_ACTOR_STORE; i <<= 1)
		if (strcmp(s, spool_actor_name(i)) == 0) {
			*a = i;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

/* ---- [spool] ------------------------------------------------------------ */

/*
 * The index of key name in keys (NULL-terminated): -1 after an error if it is not
 * one of them, or is given twice; a key whose bit is in again may repeat.  where
 * names the section in messages ("[mail]"); twice_where says it for "given twice".
 */
static int
key_index(struct spool_conf_reader *x, const char *const *keys, const char *name, unsigned *seen,
    unsigned again, const char *where, int twice_where)
{
	int i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], name) == 0)
			break;
	if (keys[i] == NULL) {
		cerr(x, x->line, name, "unknown key in %s", where);
		return -1;
	}
	if (!(again & (1u << i)) && (*seen & (1u << i))) {
		cerr(x, x->line, name, "given twice%s%s", twice_where ? " in " : "",
		    twice_where ? where : "");
		return -1;
	}
	*seen |= 1u << i;
	return i;
}

/* entry = STATE [if delayed|incomplete|option NAME]: one of the ways into the workflow. */
static int
entry_key(struct spool_conf_reader *x, const char *name, const char *v)
{
	struct spool_conf *c = x->c;
	char buf[256], *w[SPOOL_CONF_WORDS + 1];
	struct spool_entry *e;
	struct ref *r;
	int nw;

	if (strlen(v) >= sizeof buf)
		return cerr(x, x->line, name, "too long");
	strcpy(buf, v);
	nw = spool_conf_words(buf, w);
	e = realloc(c->entries, (size_t)(c->nentries + 1) * sizeof *e);
	r = e == NULL ? NULL :
	    realloc(x->entry_refs, (size_t)(c->nentries + 1) * sizeof *r);
	if (e != NULL)
		c->entries = e;
	if (r == NULL)
		return cerr(x, x->line, name, "out of memory");
	x->entry_refs = r;
	e = &c->entries[c->nentries];
	r = &x->entry_refs[c->nentries];
	memset(e, 0, sizeof *e);
	memset(r, 0, sizeof *r);
	c->nentries++;
	e->line = x->line;
	e->state = -1;
	if (nw == 1)
		e->cond = SPOOL_IF_ALWAYS;
	else if (nw == 3 && strcmp(w[1], "if") == 0 && strcmp(w[2], "delayed") == 0)
		e->cond = SPOOL_IF_DELAYED;
	else if (nw == 3 && strcmp(w[1], "if") == 0 && strcmp(w[2], "incomplete") == 0)
		e->cond = SPOOL_IF_INCOMPLETE;
	else if (nw == 4 && strcmp(w[1], "if") == 0 && strcmp(w[2], "option") == 0 &&
	    spool_name_ok(w[3])) {
		e->cond = SPOOL_IF_OPTION;
		if ((e->option = strdup(w[3])) == NULL)
			return cerr(x, x->line, name, "out of memory");
	} else
		return cerr(x, x->line, name,
		    "expected 'STATE [if delayed|incomplete|option NAME]', got '%s'", v);
	if (setref(x, r, w[0]) < 0)
		return cerr(x, x->line, name, "out of memory");
	return 1;
}

/* min_free = SIZE [N%]: the room, and the share of inodes, kept free for spoold. */
static int
min_free_key(struct spool_conf_reader *x, const char *name, const char *v)
{
	static const char bad[] = "expected a size and a share of inodes, as '100M 5%'";
	struct spool_conf *c = x->c;
	char buf[64], *pct;
	long n;

	if (strlen(v) >= sizeof buf)
		return cerr(x, x->line, name, "%s", bad);
	strcpy(buf, v);
	c->min_free_inodes = 0;
	if ((pct = strchr(buf, ' ')) != NULL) {
		*pct++ = '\0';
		while (*pct == ' ')
			pct++;
		if (pct[0] == '\0' || pct[strlen(pct) - 1] != '%')
			return cerr(x, x->line, name, "%s", bad);
		pct[strlen(pct) - 1] = '\0';
		if (spool_conf_number(pct, 0, 50, &n) < 0)
			return cerr(x, x->line, name, "the share of inodes is 0%% to 50%%");
		c->min_free_inodes = (int)n;
	}
	if (size_parse(buf, &c->min_free) < 0)
		return cerr(x, x->line, name, "%s", bad);
	return 1;
}

static int
k_spool(struct spool_conf_reader *x, const char *name, const char *v)
{
	struct spool_conf *c = x->c;
	static const char *const keys[] = { "version", "workflow", "entry", "uploads", "workers",
		"tmp_grace", "rescan", "min_free", "reserve", NULL };
	static const char *const uploads[] = { "none", "optional", "required", NULL };
	long n;
	int i;

	/* entry may repeat */
	if ((i = key_index(x, keys, name, &x->spool_seen, 1u << 2, "[spool]", 0)) < 0)
		return 0;
	switch (i) {
	case 0:
		if (spool_conf_number(v, 1, 1, &n) < 0)
			return cerr(x, x->line, name, "unsupported version '%s' (this is 1)", v);
		c->version = (int)n;
		break;
	case 1:
		if (!spool_name_ok(v))
			return cerr(x, x->line, name, "'%s' is not a name ([a-z][a-z0-9-]*)", v);
		strcpy(c->workflow, v);
		break;
	case 2:
		return entry_key(x, name, v);
	case 3:
		if ((n = spool_conf_choice(v, uploads)) < 0)
			return cerr(x, x->line, name, "expected none, optional or required");
		c->uploads = (enum spool_uploads)n;
		break;
	case 4:
		if (spool_conf_number(v, 1, 256, &n) < 0)
			return cerr(x, x->line, name, "expected a number from 1 to 256");
		c->workers = (int)n;
		break;
	case 5:
		if (spool_duration_parse(v, &c->tmp_grace) < 0 || c->tmp_grace < 60)
			return cerr(x, x->line, name, "expected a duration of at least 60s");
		break;
	case 6:
		if (spool_duration_parse(v, &c->rescan) < 0 || c->rescan < 1)
			return cerr(x, x->line, name, "expected a duration of at least 1s");
		break;
	case 7:
		return min_free_key(x, name, v);
	case 8:
		if (size_parse(v, &c->reserve) < 0 || c->reserve > (1LL << 30))
			return cerr(x, x->line, name, "expected a size of at most 1G, as '8M'");
		break;
	}
	return 1;
}

/* ---- [state NAME] ------------------------------------------------------- */

static int
parse_action(struct spool_conf_reader *x, struct spool_state *s, const char *name, const char *v)
{
	static const struct {
		const char *name;
		enum spool_action_kind kind;
		int minargs, maxargs;
	} acts[] = {
		{ "notify", SPOOL_ACT_NOTIFY, 2, 2 },
		{ "exec", SPOOL_ACT_EXEC, 1, SPOOL_CONF_WORDS - 1 },
		{ "stitch", SPOOL_ACT_STITCH, 0, 0 },
		{ "publish", SPOOL_ACT_PUBLISH, 0, 0 },
		{ "withdraw", SPOOL_ACT_WITHDRAW, 0, 0 },
		{ "purge", SPOOL_ACT_PURGE, 1, 1 },
		{ "copy", SPOOL_ACT_COPY, 0, 0 },
	};
	char buf[256], *w[SPOOL_CONF_WORDS + 1];
	struct spool_action *a;
	size_t i;
	int nw, j;

	if (strlen(v) >= sizeof buf)
		return cerr(x, x->line, name, "too long");
	strcpy(buf, v);
	if ((nw = spool_conf_words(buf, w)) <= 0)
		return cerr(x, x->line, name, "empty or has too many words");
	for (i = 0; i < sizeof acts / sizeof acts[0]; i++)
		if (strcmp(acts[i].name, w[0]) == 0)
			break;
	if (i == sizeof acts / sizeof acts[0])
		return cerr(x, x->line, name,
		    "unknown action '%s' (notify, exec, stitch, publish, withdraw, purge, copy)",
		    w[0]);
	if (nw - 1 < acts[i].minargs || nw - 1 > acts[i].maxargs)
		return cerr(x, x->line, name, "wrong number of arguments for '%s'", w[0]);
	switch (acts[i].kind) {
	case SPOOL_ACT_EXEC:
		if (w[1][0] != '/')
			return cerr(x, x->line, name, "exec needs an absolute path, not '%s'", w[1]);
		break;
	case SPOOL_ACT_NOTIFY:
		if (!spool_name_ok(w[1]))
			return cerr(x, x->line, name, "'%s' is not a template name", w[1]);
		if (strcmp(w[2], "customer") != 0 && strcmp(w[2], "admin") != 0 &&
		    strcmp(w[2], "superuser") != 0)
			return cerr(x, x->line, name, "audience must be customer, admin or superuser");
		break;
	case SPOOL_ACT_PURGE:
		if (strcmp(w[1], "uploads") != 0 && strcmp(w[1], "prints") != 0 &&
		    strcmp(w[1], "all") != 0)
			return cerr(x, x->line, name, "purge takes uploads, prints or all");
		break;
	default:
		break;
	}
	if ((a = realloc(s->actions, (size_t)(s->nactions + 1) * sizeof *a)) == NULL)
		return cerr(x, x->line, name, "out of memory");
	s->actions = a;
	a = &s->actions[s->nactions];
	memset(a, 0, sizeof *a);
	a->kind = acts[i].kind;
	a->line = x->line;
	if ((a->argv = calloc((size_t)nw, sizeof *a->argv)) == NULL)
		return cerr(x, x->line, name, "out of memory");
	s->nactions++;
	for (j = 1; j < nw; j++)
		if ((a->argv[a->argc++] = strdup(w[j])) == NULL)
			return cerr(x, x->line, name, "out of memory");
	return 1;
}

/* reminder = DURATION TEMPLATE, which may repeat. */
static int
reminder_add(struct spool_conf_reader *x, struct spool_state *s, const char *name, char **w,
    int nw)
{
	struct spool_reminder *rem;
	long before;

	if (nw != 2 || spool_duration_parse(w[0], &before) < 0 || !spool_name_ok(w[1]))
		return cerr(x, x->line, name, "expected 'DURATION TEMPLATE'");
	rem = realloc(s->reminders, (size_t)(s->nreminders + 1) * sizeof *rem);
	if (rem == NULL)
		return cerr(x, x->line, name, "out of memory");
	s->reminders = rem;
	rem = &s->reminders[s->nreminders];
	rem->before = before;
	rem->line = x->line;
	if ((rem->template = strdup(w[1])) == NULL)
		return cerr(x, x->line, name, "out of memory");
	s->nreminders++;
	return 1;
}

/* The keys of a state made of words: timer (10), reminder (11), gate (12), auto (13). */
static int
state_words_key(struct spool_conf_reader *x, int i, const char *name, const char *v)
{
	struct spool_state *s = &x->c->states[x->cur];
	struct rawstate *r = &x->rs[x->cur];
	char buf[256], *w[SPOOL_CONF_WORDS + 1];
	int nw;

	if (strlen(v) >= sizeof buf)
		return cerr(x, x->line, name, "too long");
	strcpy(buf, v);
	nw = spool_conf_words(buf, w);
	switch (i) {
	case 10:
		if (nw != 2)
			return cerr(x, x->line, name, "expected 'DURATION STATE|delete'");
		if (spool_duration_parse(w[0], &s->timer_after) < 0)
			return cerr(x, x->line, name, "bad duration '%s'", w[0]);
		if (strcmp(w[1], "delete") == 0)
			s->timer_to = SPOOL_TO_DELETE;
		else if (setref(x, &r->timer_to, w[1]) < 0)
			return cerr(x, x->line, name, "out of memory");
		return 1;
	case 11:
		return reminder_add(x, s, name, w, nw);
	case 12:
		if (nw != 2)
			return cerr(x, x->line, name, "expected 'FILE STATE'");
		if (!spool_id_ok(w[0]))
			return cerr(x, x->line, name, "'%s' is not a file name", w[0]);
		if ((s->gate_file = strdup(w[0])) == NULL || setref(x, &r->gate_to, w[1]) < 0)
			return cerr(x, x->line, name, "out of memory");
		return 1;
	}
	if (nw == 4 && strcmp(w[1], "if") == 0 && strcmp(w[2], "option") == 0 &&
	    spool_name_ok(w[3])) {
		if ((s->auto_option = strdup(w[3])) == NULL)
			return cerr(x, x->line, name, "out of memory");
	} else if (nw != 1)
		return cerr(x, x->line, name, "expected 'STATE [if option NAME]'");
	if (setref(x, &r->auto_to, w[0]) < 0)
		return cerr(x, x->line, name, "out of memory");
	return 1;
}

static int
k_state(struct spool_conf_reader *x, const char *name, const char *v)
{
	static const char *const keys[] = { "display", "code", "final", "locked", "action",
		"on_success", "on_failure", "retries", "backoff", "timeout", "timer", "reminder",
		"gate", "auto", NULL };
	struct spool_state *s = &x->c->states[x->cur];
	struct rawstate *r = &x->rs[x->cur];
	char where[SPOOL_NAME_MAX + 16];
	long n;
	int i;

	snprintf(where, sizeof where, "[state %s]", s->name);
	/* action and reminder may repeat */
	if ((i = key_index(x, keys, name, &r->seen, 1u << 4 | 1u << 11, where, 1)) < 0)
		return 0;
	switch (i) {
	case 0:
		if (!text_ok(v) || v[0] == '\0')
			return cerr(x, x->line, name, "must be non-empty UTF-8 text");
		free(s->display);
		if ((s->display = strdup(v)) == NULL)
			return cerr(x, x->line, name, "out of memory");
		break;
	case 1:
		if (spool_conf_number(v, 0, 9999, &n) < 0)
			return cerr(x, x->line, name, "expected a number from 0 to 9999");
		s->code = (int)n;
		r->code_line = x->line;
		break;
	case 2:
		if (yesno(v, &s->final) < 0)
			return cerr(x, x->line, name, "expected yes or no");
		break;
	case 3:
		if (yesno(v, &s->locked) < 0)
			return cerr(x, x->line, name, "expected yes or no");
		break;
	case 4:
		return parse_action(x, s, name, v);
	case 5:
		return setref(x, &r->on_success, v) < 0 ? cerr(x, x->line, name, "out of memory") : 1;
	case 6:
		return setref(x, &r->on_failure, v) < 0 ? cerr(x, x->line, name, "out of memory") : 1;
	case 7:
		if (spool_conf_number(v, 0, 100, &n) < 0)
			return cerr(x, x->line, name, "expected a number from 0 to 100");
		s->retries = (int)n;
		break;
	case 8:
		if (spool_duration_parse(v, &s->backoff) < 0)
			return cerr(x, x->line, name, "expected a duration such as 30s, 10m, 2h, 7d");
		break;
	case 9:
		if (spool_duration_parse(v, &s->timeout) < 0 || s->timeout == 0)
			return cerr(x, x->line, name, "expected a duration of at least 1s");
		break;
	case 10:
	case 11:
	case 12:
	case 13:
		return state_words_key(x, i, name, v);
	}
	return 1;
}

/* ---- [transition NAME] -------------------------------------------------- */

static int
k_transition(struct spool_conf_reader *x, const char *name, const char *v)
{
	struct spool_transition *t = &x->c->transitions[x->cur];
	struct rawtrans *r = &x->rt[x->cur];
	char buf[256], *w[SPOOL_CONF_WORDS + 1];
	int i, nw;

	if (strcmp(name, "from") == 0)
		i = 0;
	else if (strcmp(name, "to") == 0)
		i = 1;
	else if (strcmp(name, "actors") == 0)
		i = 2;
	else
		return cerr(x, x->line, name, "unknown key in [transition %s]", t->name);
	if (r->seen & (1u << i))
		return cerr(x, x->line, name, "given twice in [transition %s]", t->name);
	r->seen |= 1u << i;
	switch (i) {
	case 0:
		if ((r->from = strdup(v)) == NULL)
			return cerr(x, x->line, name, "out of memory");
		r->fromline = x->line;
		break;
	case 1:
		if (setref(x, &r->to, v) < 0)
			return cerr(x, x->line, name, "out of memory");
		break;
	case 2:
		if (strlen(v) >= sizeof buf)
			return cerr(x, x->line, name, "too long");
		strcpy(buf, v);
		if ((nw = spool_conf_words(buf, w)) <= 0)
			return cerr(x, x->line, name, "needs at least one actor");
		for (i = 0; i < nw; i++) {
			unsigned a;
			if (spool_actor_parse(w[i], &a) < 0)
				return cerr(x, x->line, name,
				    "unknown actor '%s' (admin, printer, system, store)", w[i]);
			t->actors |= a;
		}
		break;
	}
	return 1;
}

/* ---- the sections of the layers above ---------------------------------- */

static const struct spool_conf_section *const *sections;

void
spool_conf_sections(const struct spool_conf_section *const *table)
{
	sections = table;
}

int
spool_conf_error(struct spool_conf_reader *x, int line, const char *key, const char *f, ...)
{
	char msg[SPOOL_ERR_MAX];
	va_list ap;

	va_start(ap, f);
	vsnprintf(msg, sizeof msg, f, ap);
	va_end(ap);
	return cerr(x, line > 0 ? line : x->line, key, "%s", msg);
}

int
spool_conf_line(const struct spool_conf_reader *x)
{
	return x->line;
}

int
spool_conf_key(struct spool_conf_reader *x, const char *const *keys, const char *key,
    unsigned *seen, const char *where)
{
	return key_index(x, keys, key, seen, 0, where, 1);
}

int
spool_conf_choice(const char *v, const char *const *words)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	return -1;
}

int
spool_conf_setstr(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

/* A header that a reader above the core takes: [NAME] or, for a named one, [NAME ARG]. */
static int
other_section(struct spool_conf_reader *x, const char *sect)
{
	const struct spool_conf_section *s;
	size_t n;
	int i;

	for (i = 0; sections != NULL && (s = sections[i]) != NULL; i++) {
		n = strlen(s->name);
		if (strncmp(sect, s->name, n) != 0 || sect[n] != (s->named ? ' ' : '\0'))
			continue;
		x->sect = S_OTHER;
		x->other = s;
		s->open(x, x->c, s->named ? sect + n + 1 : NULL);
		if (x->failed)
			x->sect = S_BAD;
		return 1;
	}
	return 0;
}

static void
unknown_section(struct spool_conf_reader *x, const char *sect)
{
	char known[256] = "spool, state NAME, transition NAME";
	size_t len;
	int i;

	for (i = 0; sections != NULL && sections[i] != NULL; i++) {
		len = strlen(known);
		snprintf(known + len, sizeof known - len, ", %s%s", sections[i]->name,
		    sections[i]->named ? " NAME" : "");
	}
	cerr(x, x->line, NULL, "unknown section [%s] (%s)", sect, known);
}

/* ---- sections, lines, and the inih glue -------------------------------- */

static void *
grow(void *p, int n, size_t size)
{
	return realloc(p, (size_t)(n + 1) * size);
}

/* [state NAME]: a new state with its defaults. */
static void
state_section(struct spool_conf_reader *x, const char *sect, const char *arg)
{
	struct spool_conf *c = x->c;
	struct spool_state *s;
	struct rawstate *rs;
	int i;

	if (!spool_name_ok(arg)) {
		cerr(x, x->line, NULL, "[%s]: '%s' is not a state name ([a-z][a-z0-9-]*)", sect,
		    arg);
		return;
	}
	if (strcmp(arg, "delete") == 0) {
		cerr(x, x->line, NULL, "[%s]: 'delete' is reserved", sect);
		return;
	}
	for (i = 0; i < c->nstates; i++)
		if (strcmp(c->states[i].name, arg) == 0) {
			cerr(x, x->line, NULL, "[%s]: duplicate state (first on line %d)", sect,
			    c->states[i].line);
			return;
		}
	if (c->nstates == SPOOL_STATES_MAX) {
		cerr(x, x->line, NULL, "more than %d states", SPOOL_STATES_MAX);
		return;
	}
	if ((s = grow(c->states, c->nstates, sizeof *s)) != NULL)
		c->states = s;
	if ((rs = grow(x->rs, c->nstates, sizeof *rs)) != NULL)
		x->rs = rs;
	if (s == NULL || rs == NULL) {
		cerr(x, x->line, NULL, "out of memory");
		return;
	}
	s = &c->states[c->nstates];
	memset(s, 0, sizeof *s);
	memset(&x->rs[c->nstates], 0, sizeof x->rs[0]);
	strcpy(s->name, arg);
	s->code = -1;
	s->on_success = s->on_failure = s->timer_to = s->gate_to = s->auto_to = -1;
	s->timer_after = -1;
	s->timeout = 600;
	s->backoff = 60;
	s->line = x->line;
	x->cur = c->nstates++;
	x->sect = S_STATE;
}

/* [transition NAME]: a new transition, resolved once the states are known. */
static void
transition_section(struct spool_conf_reader *x, const char *sect, const char *arg)
{
	struct spool_conf *c = x->c;
	struct spool_transition *t;
	struct rawtrans *rt;
	int i;

	if (!spool_name_ok(arg)) {
		cerr(x, x->line, NULL, "[%s]: '%s' is not a transition name", sect, arg);
		return;
	}
	for (i = 0; i < c->ntransitions; i++)
		if (strcmp(c->transitions[i].name, arg) == 0) {
			cerr(x, x->line, NULL, "[%s]: duplicate transition (first on line %d)", sect,
			    c->transitions[i].line);
			return;
		}
	if ((t = grow(c->transitions, c->ntransitions, sizeof *t)) != NULL)
		c->transitions = t;
	if ((rt = grow(x->rt, c->ntransitions, sizeof *rt)) != NULL)
		x->rt = rt;
	if (t == NULL || rt == NULL) {
		cerr(x, x->line, NULL, "out of memory");
		return;
	}
	t = &c->transitions[c->ntransitions];
	memset(t, 0, sizeof *t);
	memset(&x->rt[c->ntransitions], 0, sizeof x->rt[0]);
	strcpy(t->name, arg);
	t->to = -1;
	t->line = x->line;
	x->cur = c->ntransitions++;
	x->sect = S_TRANSITION;
}

static void
section(struct spool_conf_reader *x, const char *sect)
{
	snprintf(x->sectname, sizeof x->sectname, "%s", sect);
	x->sect = S_BAD;
	if (strcmp(sect, "spool") == 0) {
		if (x->have_spool++)
			cerr(x, x->line, NULL, "[spool] given twice");
		x->sect = S_SPOOL;
	} else if (strncmp(sect, "state ", 6) == 0)
		state_section(x, sect, sect + 6);
	else if (strncmp(sect, "transition ", 11) == 0)
		transition_section(x, sect, sect + 11);
	else if (!other_section(x, sect))
		unknown_section(x, sect);
}

/* fgets for inih over the text in memory, watching every line. */
static char *
reader(char *str, int num, void *stream)
{
	struct spool_conf_reader *x = stream;
	const char *nl, *p = x->pos;
	size_t n, len;

	if (*p == '\0')
		return NULL;
	nl = strchr(p, '\n');
	len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
	x->pos = p + len;
	x->line++;
	n = len;
	/* inih needs room for "\r\n\0" after the longest line it can take */
	if (n >= (size_t)num || len - (len > 0 && p[len - 1] == '\n') -
	    (len > 1 && p[len - 1] == '\n' && p[len - 2] == '\r') > (size_t)num - 3) {
		cerr(x, x->line, NULL, "line is longer than %d characters", num - 3);
		if (n >= (size_t)num)
			n = (size_t)num - 1;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	if (p[0] == ' ' || p[0] == '\t') {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '\n' && *q != '\r' && *q != '\0' && *q != ';' && *q != '#')
			cerr(x, x->line, NULL, "indented line (continuation lines are not allowed)");
	} else if (p[0] == '[') {
		char name[80];
		const char *e = memchr(p, ']', len);
		if (e == NULL || (size_t)(e - p - 1) >= sizeof name) {
			cerr(x, x->line, NULL, "bad section header");
			x->sect = S_BAD;
		} else {
			memcpy(name, p + 1, (size_t)(e - p - 1));
			name[e - p - 1] = '\0';
			section(x, name);
		}
	}
	return str;
}

static int
handler(void *user, const char *sect, const char *name, const char *value)
{
	struct spool_conf_reader *x = user;

	(void)sect;
	if (!text_ok(value))
		return cerr(x, x->line, name, "value is not clean UTF-8 text");
	switch (x->sect) {
	case S_NONE:
		return cerr(x, x->line, name, "key outside any section");
	case S_SPOOL:
		return k_spool(x, name, value);
	case S_STATE:
		return k_state(x, name, value);
	case S_TRANSITION:
		return k_transition(x, name, value);
	case S_OTHER:
		x->other->key(x, x->c, name, value);
		return !x->failed;
	case S_BAD:
		return 0;
	}
	return 0;
}

/* ---- resolving and checking -------------------------------------------- */

static int
resolve(struct spool_conf_reader *x, const struct ref *r, const char *key)
{
	int i;

	if (r->name == NULL)
		return -1;
	if ((i = spool_conf_state(x->c, r->name)) < 0)
		cerr(x, r->line, key, "no such state '%s'", r->name);
	return i;
}

/* A move that spoold makes on its own must be one the workflow allows the system. */
static void
need_system(struct spool_conf_reader *x, int from, int to, int line, const char *key)
{
	if (from >= 0 && from == to)
		cerr(x, line, key, "'%s' is the state itself", x->c->states[to].name);
	else if (from >= 0 && to >= 0 &&
	    spool_conf_allows(x->c, from, to, SPOOL_ACTOR_SYSTEM) < 0)
		cerr(x, line, key, "no transition from '%s' to '%s' allows the system",
		    x->c->states[from].name, x->c->states[to].name);
}

/* Each transition's from and to, now that every state is known. */
static void
check_transitions(struct spool_conf_reader *x)
{
	struct spool_conf *c = x->c;
	int i, j;

	for (i = 0; i < c->ntransitions; i++) {
		struct spool_transition *t = &c->transitions[i];
		struct rawtrans *r = &x->rt[i];
		char *w[SPOOL_CONF_WORDS + 1];
		int nw, k;

		if (r->from == NULL || r->to.name == NULL || t->actors == 0) {
			cerr(x, t->line, NULL, "[transition %s] needs from, to and actors", t->name);
			continue;
		}
		t->to = resolve(x, &r->to, "to");
		if ((nw = spool_conf_words(r->from, w)) <= 0)
			cerr(x, r->fromline, "from", "needs at least one state or *");
		for (k = 0; k < nw; k++) {
			if (strcmp(w[k], "*") == 0) {
				t->from = c->nstates >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << c->nstates) - 1;
				continue;
			}
			if ((j = spool_conf_state(c, w[k])) < 0)
				cerr(x, r->fromline, "from", "no such state '%s'", w[k]);
			else
				t->from |= (uint64_t)1 << j;
		}
		if (t->to >= 0)
			t->from &= ~((uint64_t)1 << t->to);
		if (t->from == 0 && t->to >= 0)
			cerr(x, r->fromline, "from", "the transition starts from no state but its own target");
	}
}

/* The entry states, of which the last one has no condition. */
static void
check_entries(struct spool_conf_reader *x)
{
	struct spool_conf *c = x->c;
	int i, always = 0;

	for (i = 0; i < c->nentries; i++) {
		c->entries[i].state = resolve(x, &x->entry_refs[i], "entry");
		if (always)
			cerr(x, c->entries[i].line, "entry",
			    "comes after an entry without a condition, so it is never used");
		if (c->entries[i].cond == SPOOL_IF_ALWAYS)
			always = 1;
	}
	if (c->nentries == 0 || !always)
		cerr(x, c->nentries ? c->entries[0].line : 1, "entry",
		    "[spool] needs an entry state without a condition");
}

/* Each state's references, and the moves spoold makes on its own. */
static void
check_states(struct spool_conf_reader *x)
{
	struct spool_conf *c = x->c;
	int i, j;

	for (i = 0; i < c->nstates; i++) {
		struct spool_state *s = &c->states[i];
		struct rawstate *r = &x->rs[i];

		if (s->display == NULL && (s->display = strdup(s->name)) == NULL)
			cerr(x, s->line, NULL, "out of memory");
		for (j = 0; j < i; j++)
			if (s->code >= 0 && c->states[j].code == s->code)
				cerr(x, r->code_line, "code", "%d is also the code of state '%s'", s->code,
				    c->states[j].name);
		s->on_success = resolve(x, &r->on_success, "on_success");
		s->on_failure = resolve(x, &r->on_failure, "on_failure");
		need_system(x, i, s->on_success, r->on_success.line, "on_success");
		need_system(x, i, s->on_failure, r->on_failure.line, "on_failure");
		if (r->timer_to.name != NULL) {
			s->timer_to = resolve(x, &r->timer_to, "timer");
			need_system(x, i, s->timer_to, r->timer_to.line, "timer");
		}
		if (r->gate_to.name != NULL) {
			s->gate_to = resolve(x, &r->gate_to, "gate");
			need_system(x, i, s->gate_to, r->gate_to.line, "gate");
		}
		for (j = 0; j < s->nreminders; j++)
			if (s->timer_after < 0 || s->reminders[j].before >= s->timer_after)
				cerr(x, s->reminders[j].line, "reminder",
				    "must come before the state's timer fires");
		if (r->auto_to.name != NULL) {
			s->auto_to = resolve(x, &r->auto_to, "auto");
			need_system(x, i, s->auto_to, r->auto_to.line, "auto");
		}
		if (s->final && (s->timer_after >= 0 || s->gate_file != NULL || s->auto_to >= 0 ||
		    s->on_success >= 0))
			cerr(x, s->line, "final",
			    "a final state has no timer, gate, auto or on_success to leave it by");
	}
}

static void
check(struct spool_conf_reader *x)
{
	struct spool_conf *c = x->c;
	int i;

	if (!x->have_spool) {
		cerr(x, 1, NULL, "no [spool] section");
		return;
	}
	if (c->version == 0)
		cerr(x, 1, "version", "[spool] needs version = 1");
	if (c->workflow[0] == '\0')
		cerr(x, 1, "workflow", "[spool] needs a workflow name");
	if (c->nstates == 0)
		cerr(x, 1, NULL, "no [state NAME] sections");
	check_transitions(x);
	check_entries(x);
	check_states(x);
	for (i = 0; sections != NULL && sections[i] != NULL; i++)
		if (sections[i]->check != NULL)
			sections[i]->check(x, c);
	if (c->workers == 0)
		c->workers = 4;
	if (c->tmp_grace == 0)
		c->tmp_grace = 3600;
	if (c->rescan == 0)
		c->rescan = 600;
	if (!(x->spool_seen & 1u << 7)) {
		c->min_free = SPOOL_MIN_FREE;
		c->min_free_inodes = SPOOL_MIN_FREE_INODES;
	}
	if (!(x->spool_seen & 1u << 8))
		c->reserve = SPOOL_RESERVE;
}

static void
ctx_free(struct spool_conf_reader *x)
{
	int i;

	for (i = 0; x->rs != NULL && i < x->c->nstates; i++) {
		free(x->rs[i].on_success.name);
		free(x->rs[i].on_failure.name);
		free(x->rs[i].timer_to.name);
		free(x->rs[i].gate_to.name);
		free(x->rs[i].auto_to.name);
	}
	for (i = 0; x->rt != NULL && i < x->c->ntransitions; i++) {
		free(x->rt[i].from);
		free(x->rt[i].to.name);
	}
	for (i = 0; x->entry_refs != NULL && i < x->c->nentries; i++)
		free(x->entry_refs[i].name);
	free(x->rs);
	free(x->rt);
	free(x->entry_refs);
}

int
spool_conf_parse(const char *name, const char *text, struct spool_conf **out,
    struct spool_err *err)
{
	struct spool_conf_reader x;
	int r, i;

	memset(&x, 0, sizeof x);
	x.file = name;
	x.err = err;
	x.text = x.pos = text;
	if ((x.c = calloc(1, sizeof *x.c)) == NULL)
		return -1;
	if ((x.c->path = strdup(name)) == NULL) {
		free(x.c);
		return -1;
	}
	for (i = 0; sections != NULL && sections[i] != NULL; i++)
		if (sections[i]->init != NULL && sections[i]->init(x.c) < 0)
			cerr(&x, 1, NULL, "out of memory");
	if (!x.failed && strlen(text) > CONF_MAX)
		cerr(&x, 1, NULL, "file is over %d bytes", CONF_MAX);
	else if (!x.failed) {
		r = ini_parse_stream(reader, &x, handler, &x);
		if (r != 0 && !x.failed)
			cerr(&x, r > 0 ? r : x.line, NULL, "syntax error (expected key = value)");
		if (!x.failed)
			check(&x);
	}
	ctx_free(&x);
	if (x.failed) {
		spool_conf_free(x.c);
		errno = EINVAL;
		return -1;
	}
	*out = x.c;
	return 0;
}

int
spool_conf_load(const char *path, struct spool_conf **conf, struct spool_err *err)
{
	char *buf;
	size_t len;
	int r;

	if (read_file(AT_FDCWD, path, CONF_MAX, &buf, &len) < 0)
		return seterr(err, "%s: %s", path, strerror(errno));
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return failerr(err, EINVAL, "%s: contains a NUL byte", path);
	}
	r = spool_conf_parse(path, buf, conf, err);
	free(buf);
	return r;
}

void
spool_conf_free(struct spool_conf *c)
{
	int i, j, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->nstates; i++) {
		struct spool_state *s = &c->states[i];
		for (j = 0; j < s->nactions; j++) {
			for (k = 0; k < s->actions[j].argc; k++)
				free(s->actions[j].argv[k]);
			free(s->actions[j].argv);
		}
		for (j = 0; j < s->nreminders; j++)
			free(s->reminders[j].template);
		free(s->actions);
		free(s->reminders);
		free(s->display);
		free(s->gate_file);
		free(s->auto_option);
	}
	for (i = 0; i < c->nentries; i++)
		free(c->entries[i].option);
	free(c->states);
	free(c->transitions);
	free(c->entries);
	free(c->path);
	for (i = 0; sections != NULL && sections[i] != NULL; i++)
		if (sections[i]->free != NULL)
			sections[i]->free(c);
	free(c);
}

int
spool_conf_state(const struct spool_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nstates; i++)
		if (strcmp(c->states[i].name, name) == 0)
			return i;
	return -1;
}

int
spool_conf_transition(const struct spool_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->ntransitions; i++)
		if (strcmp(c->transitions[i].name, name) == 0)
			return i;
	return -1;
}

int
spool_conf_allows(const struct spool_conf *c, int from, int to, unsigned actor)
{
	int i;

	if (from < 0 || to < 0)
		return -1;
	for (i = 0; i < c->ntransitions; i++) {
		const struct spool_transition *t = &c->transitions[i];
		if (t->to == to && (t->from & ((uint64_t)1 << from)) && (t->actors & actor))
			return i;
	}
	return -1;
}

int
spool_conf_code(const struct spool_conf *c, int code)
{
	int i;

	for (i = 0; code >= 0 && i < c->nstates; i++)
		if (c->states[i].code == code)
			return i;
	return -1;
}
