/* Unit tests: spool.conf parsing, its errors, and the three shipped workflows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static struct spool_conf *
shipped(const char *name)
{
	char path[64];
	const char *text;

	snprintf(path, sizeof path, "workflows/%s.conf", name);
	assert_non_null(text = spool_shipped(path, NULL));
	return conf_parsed(path, text);
}

static int
st(const struct spool_conf *c, const char *name)
{
	int i = spool_conf_state(c, name);

	if (i < 0)
		fail_msg("no state %s", name);
	return i;
}

static int
allows(const struct spool_conf *c, const char *from, const char *to, unsigned actor)
{
	return spool_conf_allows(c, st(c, from), st(c, to), actor) >= 0;
}

static void
test_print_workflow(void **state)
{
	static const struct {
		const char *name;
		int code;
	} states[] = {
		{ "uploading", -1 }, { "unpaid", -1 }, { "queued", 2 }, { "processing", 15 },
		{ "shipping", 3 }, { "failed", 10 }, { "reordering", 18 }, { "closed", 5 },
		{ "cancelled", 7 },
	};
	struct spool_conf *c = shipped("print");
	struct spool_bundle b = { 0 };
	size_t i;

	(void)state;
	assert_string_equal(c->workflow, "print");
	assert_int_equal(c->nstates, 9);
	for (i = 0; i < sizeof states / sizeof states[0]; i++)
		assert_int_equal(c->states[st(c, states[i].name)].code, states[i].code);
	/* the printer's moves, from job.xml */
	assert_true(allows(c, "queued", "processing", SPOOL_ACTOR_PRINTER));
	assert_true(allows(c, "processing", "shipping", SPOOL_ACTOR_PRINTER));
	assert_true(allows(c, "queued", "failed", SPOOL_ACTOR_PRINTER));
	assert_true(allows(c, "processing", "failed", SPOOL_ACTOR_PRINTER));
	assert_true(allows(c, "shipping", "failed", SPOOL_ACTOR_PRINTER));
	assert_false(allows(c, "queued", "shipping", SPOOL_ACTOR_PRINTER));
	assert_false(allows(c, "queued", "shipping", SPOOL_ACTOR_ADMIN));
	assert_false(allows(c, "shipping", "queued", SPOOL_ACTOR_PRINTER));
	/* the admin: bank transfer arrived, repeat the stitching, close, cancel */
	assert_true(allows(c, "unpaid", "queued", SPOOL_ACTOR_ADMIN));
	assert_true(allows(c, "failed", "queued", SPOOL_ACTOR_ADMIN));
	assert_true(allows(c, "shipping", "closed", SPOOL_ACTOR_ADMIN));
	assert_true(allows(c, "queued", "cancelled", SPOOL_ACTOR_ADMIN));
	assert_false(allows(c, "shipping", "cancelled", SPOOL_ACTOR_ADMIN));
	assert_false(allows(c, "reordering", "closed", SPOOL_ACTOR_ADMIN));
	/* reordering: locked, copies, returns to shipping */
	assert_true(c->states[st(c, "reordering")].locked);
	assert_true(allows(c, "shipping", "reordering", SPOOL_ACTOR_STORE));
	assert_int_equal(c->states[st(c, "reordering")].on_success, st(c, "shipping"));
	/* queued stitches and publishes; a failed stitch goes to failed */
	assert_int_equal(c->states[st(c, "queued")].nactions, 3);
	assert_int_equal(c->states[st(c, "queued")].actions[1].kind, SPOOL_ACT_STITCH);
	assert_int_equal(c->states[st(c, "queued")].on_failure, st(c, "failed"));
	/* PurgeOrderFilesDays with reminders 10 and 5 days before */
	assert_int_equal(c->states[st(c, "shipping")].timer_to, st(c, "closed"));
	assert_int_equal(c->states[st(c, "shipping")].nreminders, 2);
	assert_int_equal(c->states[st(c, "shipping")].reminders[0].before, 10 * 86400);
	assert_int_equal(c->states[st(c, "shipping")].reminders[1].before, 5 * 86400);
	assert_int_equal(c->states[st(c, "uploading")].timer_to, SPOOL_TO_DELETE);
	/* entry: incomplete upload, delayed payment, else queued */
	assert_int_equal(spool_entry_state(c, &b), st(c, "queued"));
	b.delayed = 1;
	assert_int_equal(spool_entry_state(c, &b), st(c, "unpaid"));
	b.incomplete = 1;
	assert_int_equal(spool_entry_state(c, &b), st(c, "uploading"));
	assert_int_equal(c->uploads, SPOOL_UPLOADS_REQUIRED);
	spool_conf_free(c);
}

static void
test_email_workflow(void **state)
{
	struct spool_conf *c = shipped("email");
	char *opt = "auto-schedule", *rec = "recipient-list";
	struct spool_bundle b = { 0 };
	const struct spool_state *s;

	(void)state;
	assert_int_equal(c->nstates, 8);
	st(c, "delayed-payment");
	st(c, "pending-recipients");
	st(c, "archived");
	assert_true(allows(c, "delayed-payment", "pending", SPOOL_ACTOR_SYSTEM));
	assert_true(allows(c, "pending", "scheduled", SPOOL_ACTOR_ADMIN));      /* schedule */
	assert_true(allows(c, "scheduled", "pending", SPOOL_ACTOR_ADMIN));      /* revert */
	assert_true(allows(c, "scheduled", "sending", SPOOL_ACTOR_ADMIN));      /* process */
	assert_true(allows(c, "sending", "sent", SPOOL_ACTOR_SYSTEM));
	assert_true(allows(c, "sending", "failed", SPOOL_ACTOR_SYSTEM));
	assert_true(allows(c, "failed", "pending", SPOOL_ACTOR_ADMIN));         /* retry */
	assert_true(allows(c, "sent", "archived", SPOOL_ACTOR_ADMIN));          /* archive */
	assert_false(allows(c, "pending", "sending", SPOOL_ACTOR_ADMIN));
	assert_false(allows(c, "sending", "sent", SPOOL_ACTOR_ADMIN));
	s = &c->states[st(c, "pending")];
	assert_int_equal(s->auto_to, st(c, "scheduled"));
	assert_string_equal(s->auto_option, "auto-schedule");
	s = &c->states[st(c, "pending-recipients")];
	assert_string_equal(s->gate_file, "recipients.csv");
	assert_int_equal(s->gate_to, st(c, "pending"));
	s = &c->states[st(c, "sending")];
	assert_int_equal(s->actions[0].kind, SPOOL_ACT_EXEC);
	assert_int_equal(s->timer_after, 600);                              /* ten minutes */
	assert_int_equal(c->states[st(c, "failed")].actions[0].kind, SPOOL_ACT_NOTIFY);
	assert_string_equal(c->states[st(c, "failed")].actions[0].argv[1], "superuser");
	assert_int_equal(spool_entry_state(c, &b), st(c, "pending"));
	b.options = &rec;
	b.noptions = 1;
	assert_int_equal(spool_entry_state(c, &b), st(c, "pending-recipients"));
	b.options = &opt;
	assert_int_equal(spool_entry_state(c, &b), st(c, "pending"));
	b.delayed = 1;
	assert_int_equal(spool_entry_state(c, &b), st(c, "delayed-payment"));
	spool_conf_free(c);
}

static void
test_pos_workflow(void **state)
{
	struct spool_conf *c = shipped("pos");
	const struct spool_state *p;

	(void)state;
	assert_int_equal(c->nstates, 5);
	p = &c->states[st(c, "processing")];
	assert_int_equal(p->retries, 1);      /* "attempt to reprocess the order once" */
	assert_int_equal(p->on_success, st(c, "success"));
	assert_int_equal(p->on_failure, st(c, "failed"));
	assert_int_equal(c->states[st(c, "created")].auto_to, st(c, "processing"));
	assert_int_equal(c->states[st(c, "ready")].auto_to, st(c, "processing"));
	assert_true(allows(c, "failed", "ready", SPOOL_ACTOR_ADMIN));            /* Set Ready */
	assert_false(allows(c, "failed", "processing", SPOOL_ACTOR_ADMIN));
	assert_true(c->states[st(c, "success")].final);
	assert_int_equal(spool_conf_transition(c, "set-ready"), 3);
	spool_conf_free(c);
}

#define HEAD "[spool]\nversion = 1\nworkflow = t\nentry = a\n[state a]\n[state b]\n"

/* Every bad config is refused with the file, the line and the key. */
static void
test_bad_configs(void **state)
{
	static const struct text_case cases[] = {
		{ HEAD "colour = red\n", "t.conf:7: colour: unknown key in [state b]" },
		{ HEAD "[state a]\n", "t.conf:7: [state a]: duplicate state (first on line 5)" },
		{ HEAD "[transition go]\nfrom = a\nto = c\nactors = admin\n",
		    "t.conf:9: to: no such state 'c'" },
		{ HEAD "[transition go]\nfrom = a x\nto = b\nactors = admin\n",
		    "t.conf:8: from: no such state 'x'" },
		{ HEAD "[transition go]\nfrom = a\nto = b\nactors = admin robot\n",
		    "t.conf:10: actors: unknown actor 'robot'" },
		{ HEAD "[transition go]\nfrom = a\nto = b\nactors = admin\n[transition go]\n",
		    "t.conf:11: [transition go]: duplicate transition" },
		{ HEAD "[transition go]\nfrom = a\nactors = admin\n", "needs from, to and actors" },
		{ HEAD "[frob]\n", "t.conf:7: unknown section [frob]" },
		{ HEAD "[state B]\n", "t.conf:7: [state B]: 'B' is not a state name" },
		{ HEAD "code = 2\n[state c]\ncode = 2\n", "t.conf:9: code: 2 is also the code" },
		{ HEAD "code = two\n", "t.conf:7: code: expected a number" },
		{ HEAD "timer = 10m a\n", "t.conf:7: timer: no transition from 'b' to 'a' allows the system" },
		{ HEAD "timer = 10x a\n", "t.conf:7: timer: bad duration" },
		{ HEAD "reminder = 1d remind\n", "t.conf:7: reminder: must come before" },
		{ HEAD "action = fly away\n", "t.conf:7: action: unknown action 'fly'" },
		{ HEAD "action = exec handler\n", "t.conf:7: action: exec needs an absolute path" },
		{ HEAD "action = notify status pigeons\n", "t.conf:7: action: audience must be" },
		{ HEAD "action = stitch now\n", "t.conf:7: action: wrong number of arguments" },
		{ HEAD "final = yes\nauto = a\n[transition back]\nfrom = b\nto = a\nactors = system\n",
		    "a final state has no timer" },
		{ HEAD "display = x\ndisplay = y\n", "t.conf:8: display: given twice" },
		{ HEAD "  code = 3\n", "t.conf:7: indented line" },
		{ HEAD "garbage\n", "t.conf:7: syntax error" },
		{ HEAD "on_success = nowhere\n", "t.conf:7: on_success: no such state 'nowhere'" },
		{ HEAD "auto = b\n", "t.conf:7: auto: 'b' is the state itself" },
		{ HEAD "[transition go]\nfrom = b\nto = b\nactors = admin\n",
		    "t.conf:8: from: the transition starts from no state but its own target" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a\nentry = b if delayed\n[state a]\n"
		  "[state b]\n", "t.conf:5: entry: comes after an entry without a condition" },
		{ "[spool]\nversion = 2\n", "t.conf:2: version: unsupported version" },
		{ "[spool]\nversion = 1\nworkflow = t\n[state a]\n", "needs an entry state" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a if raining\n[state a]\n",
		    "t.conf:4: entry: expected" },
		{ "[spool]\nversion = 1\nentry = a\n[state a]\n", "needs a workflow name" },
		{ "version = 1\n", "t.conf:1: version: key outside any section" },
		{ "[state a]\n", "no [spool] section" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a\n", "no [state NAME] sections" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a\n[state a]\ndisplay = \x01\n",
		    "t.conf:6: display: value is not clean UTF-8" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a\n[spool]\n", "[spool] given twice" },
		{ "[spool]\nversion = 1\nworkflow = t\nentry = a\ntmp_grace = 5s\n[state a]\n",
		    "t.conf:5: tmp_grace: expected a duration of at least 60s" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		conf_refused(cases[i].text, cases[i].want);
}

static void
test_long_line(void **state)
{
	struct spool_conf *c;
	struct spool_err err;
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, HEAD "display = %0300d\ncode = 1\n", 7);
	assert_int_equal(spool_conf_parse("t.conf", text, &c, &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:7: line is longer than 197 characters"));
	/* 197 characters is the longest line, with or without a carriage return */
	snprintf(text, sizeof text, HEAD "display = %0187d\r\n", 7);
	assert_int_equal(spool_conf_parse("t.conf", text, &c, &err), 0);
	spool_conf_free(c);
	snprintf(text, sizeof text, HEAD "display = %0188d\n", 7);
	assert_int_equal(spool_conf_parse("t.conf", text, &c, &err), -1);
}

static void
test_good_config(void **state)
{
	struct spool_conf *c;
	const char *text = HEAD
	    "; a comment\n"
	    "# another\n"
	    "display = Bee state   ; inline comment\n"
	    "[transition go]\nfrom = *\nto = b\nactors = admin system\n";

	(void)state;
	c = conf_parsed("t.conf", text);
	assert_string_equal(c->states[1].display, "Bee state");
	assert_string_equal(c->states[0].display, "a");
	assert_int_equal(c->transitions[0].from, 1); /* '*' minus the target itself */
	assert_int_equal(c->transitions[0].actors, SPOOL_ACTOR_ADMIN | SPOOL_ACTOR_SYSTEM);
	assert_int_equal(spool_conf_allows(c, 0, 1, SPOOL_ACTOR_ADMIN), 0);
	assert_int_equal(spool_conf_allows(c, 1, 0, SPOOL_ACTOR_ADMIN), -1);
	assert_int_equal(spool_conf_allows(c, 0, 1, SPOOL_ACTOR_PRINTER), -1);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->tmp_grace, 3600);
	spool_conf_free(c);
}

static void
test_conf_load(void **state)
{
	struct spool_conf *c = NULL;
	struct spool_err err;
	char *dir = tmpdir_make(), path[4200];

	(void)state;
	snprintf(path, sizeof path, "%s/spool.conf", dir);
	assert_int_equal(spool_conf_load(path, &c, &err), -1);
	assert_non_null(strstr(err.msg, "No such file"));
	file_write(path, HEAD "bogus = 1\n");
	assert_int_equal(spool_conf_load(path, &c, &err), -1);
	assert_non_null(strstr(err.msg, "spool.conf:7: bogus: unknown key"));
	file_write(path, HEAD);
	assert_int_equal(spool_conf_load(path, &c, &err), 0);
	spool_conf_free(c);
	tree_rm(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print_workflow),
		cmocka_unit_test(test_email_workflow),
		cmocka_unit_test(test_pos_workflow),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_conf_load),
	};
	spool_domain_init();   /* the [queue] and [mail] readers */
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
