/* Unit tests: order files and status files, their format and strict parser. */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>

#include "fault.h"

static const char good[] =
    "spool-order 1\n"
    "id: 1001\n"
    "workflow: print\n"
    "placed: 2026-11-20T09:14:00Z\n"
    "submitted: 2026-11-23T11:33:05Z\n"
    "customer: Tom\xc3\xa1s \xc3\x81lvarez\n"
    "email: tomas@example.org\n"
    "payment: delayed\n"
    "items: 2\n";

static void
test_roundtrip(void **state)
{
	struct spool_order o, back;
	struct spool_err err;
	char buf[4096];
	int n;

	(void)state;
	assert_int_equal(spool_order_parse(good, strlen(good), &o, &err), 0);
	assert_string_equal(o.id, "1001");
	assert_string_equal(o.workflow, "print");
	assert_string_equal(o.customer, "Tom\xc3\xa1s \xc3\x81lvarez");
	assert_int_equal(o.payment, SPOOL_DELAYED);
	assert_int_equal(o.items, 2);
	n = spool_order_format(&o, buf, sizeof buf);
	assert_int_equal(n, (int)strlen(good));
	assert_string_equal(buf, good);
	assert_int_equal(spool_order_parse(buf, (size_t)n, &back, &err), 0);
	assert_memory_equal(&o, &back, sizeof o);
}

/* Each bad file gives an error that names the line and the problem. */
static void
test_parse_errors(void **state)
{
	static const struct text_case cases[] = {
		{ "", "empty" },
		{ "spool-order 1\nid: 1", "not ended" },
		{ "spool-order 2\nid: 1\n", "line 1: unsupported version 2" },
		{ "spool-orders 1\n", "line 1: not a spool-order file" },
		{ "spool-order x\n", "line 1: bad version" },
		{ "spool-order 1\nid 1001\n", "line 2: expected 'key: value'" },
		{ "spool-order 1\nid: 1001\ncolour: red\n", "line 3: unknown key 'colour'" },
		{ "spool-order 1\nid: 1001\nid: 1002\n", "line 3: duplicate key 'id'" },
		{ "spool-order 1\nid: ../x\n", "line 2: bad value for 'id'" },
		{ "spool-order 1\nid: 1001\npayment: later\n", "line 3: bad value for 'payment'" },
		{ "spool-order 1\nid: 1001\nplaced: yesterday\n", "line 3: bad value for 'placed'" },
		{ "spool-order 1\nid: 1001\ncustomer: a\rb\n", "line 3: value of 'customer'" },
		{ "spool-order 1\nid: 1001\ncustomer: \xff\n", "line 3: value of 'customer'" },
		{ "spool-order 1\nid: 1001\n", "missing key 'workflow'" },
	};
	struct spool_order o;
	struct spool_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		assert_int_equal(spool_order_parse(cases[i].text, strlen(cases[i].text), &o, &err), -1);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, cases[i].want);
	}
	/* a NUL byte inside */
	assert_int_equal(spool_order_parse("spool-order 1\n\0id: 1\n", 21, &o, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void
test_format_refuses_bad_fields(void **state)
{
	struct spool_order o;
	struct spool_err err;
	char buf[4096];

	(void)state;
	assert_int_equal(spool_order_parse(good, strlen(good), &o, &err), 0);
	strcpy(o.customer, "Eve\nX-Injected: yes");
	assert_int_equal(spool_order_format(&o, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	strcpy(o.customer, "ok");
	strcpy(o.id, ".bad");
	assert_int_equal(spool_order_format(&o, buf, sizeof buf), -1);
	strcpy(o.id, "1001");
	assert_int_equal(spool_order_format(&o, buf, 16), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
test_status(void **state)
{
	struct spool_status s = { .attempts = 2, .due = 1763900000 }, back;
	struct spool_err err;
	char buf[4096];
	int n;

	(void)state;
	strcpy(s.state, "processing");
	strcpy(s.error, "POS said: 502 Bad Gateway");
	n = spool_status_format(&s, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(spool_status_parse(buf, (size_t)n, &back, &err), 0);
	assert_memory_equal(&s, &back, sizeof s);
	s.due = 0;
	n = spool_status_format(&s, buf, sizeof buf);
	assert_non_null(strstr(buf, "due: -\n"));
	assert_int_equal(spool_status_parse(buf, (size_t)n, &back, &err), 0);
	assert_int_equal(back.due, 0);
	/* a handler's words, whatever they hold: escaped once in the file, as they were back */
	strcpy(s.error, "two\nlines \x1b[31m \xe2\x80\xae \\x1b");
	n = spool_status_format(&s, buf, sizeof buf);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "error: two\\nlines \\x1b[31m "));
	assert_null(strchr(strstr(buf, "error: "), '\x1b'));
	assert_int_equal(spool_status_parse(buf, (size_t)n, &back, &err), 0);
	assert_string_equal(back.error, s.error);
	assert_int_equal(spool_status_parse("spool-status 1\nattempts: 1\n", 27, &back, &err), -1);
	assert_non_null(strstr(err.msg, "missing key 'state'"));
}

static void
test_status_in_spool(void **state)
{
	struct spool_status s = { .attempts = 1 }, back;
	struct spool_err err;
	struct spool *sp;
	char *dir = tmpdir_make(), *b;

	(void)state;
	fault_install(1763900000);
	sp = spool_make(dir, "pos");
	b = bundle_copy(dir, "pos", "3001", "b");
	assert_int_equal(spool_submit(sp, AT_FDCWD, b, NULL, "admin:test", NULL, NULL, &err), 0);
	/* no status yet: zero */
	assert_int_equal(spool_status_read(sp, "3001", &back, &err), 0);
	assert_int_equal(back.attempts, 0);
	strcpy(s.state, "processing");
	assert_int_equal(spool_status_write(sp, "3001", &s, 0), 0);
	assert_int_equal(spool_status_read(sp, "3001", &back, &err), 0);
	assert_int_equal(back.attempts, 1);
	assert_string_equal(back.state, "processing");
	assert_int_equal(spool_status_write(sp, "nope", &s, 0), -1);
	spool_close(sp);
	tree_rm(dir);
	free(b);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format_refuses_bad_fields),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_in_spool),
	};
	return cmocka_run_group_tests_name("order", tests, NULL, NULL);
}
