/* Unit tests: the name grammars, time and duration parsing, text checks, escaping. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

/* Each of good passes ok, and none of bad. */
static void
grammar(int (*ok)(const char *), const char *const *good, size_t ngood,
    const char *const *bad, size_t nbad)
{
	size_t i;

	for (i = 0; i < ngood; i++)
		if (!ok(good[i]))
			fail_msg("'%s' is refused", good[i]);
	for (i = 0; i < nbad; i++)
		if (ok(bad[i]))
			fail_msg("'%s' is taken", bad[i] != NULL ? bad[i] : "(null)");
}

/* read_file takes a file that grows while it is read, up to its limit, and no further. */
static void
test_read_file_grows(void **state)
{
	char *dir = tmpdir_make(), path[4200], *buf;
	size_t len;

	(void)state;
	snprintf(path, sizeof path, "%s/f", dir);
	file_write(path, "0123456789");
	grow_on_read(path, 10000);
	assert_int_equal(read_file(AT_FDCWD, path, 20000, &buf, &len), 0);
	assert_int_equal(len, 10010);
	assert_int_equal(strlen(buf), 10010);
	assert_memory_equal(buf, "0123456789xxxx", 14);
	free(buf);
	/* 10010 bytes when it is opened, 20010 once read: over 15000 on the way */
	grow_on_read(path, 10000);
	assert_int_equal(read_file(AT_FDCWD, path, 15000, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(read_file(AT_FDCWD, path, 20009, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(read_file(AT_FDCWD, path, 20010, &buf, &len), 0);
	assert_int_equal(len, 20010);
	free(buf);
	tree_rm(dir);
	free(dir);
}

static void
test_id_grammar(void **state)
{
	char long64[65], long65[66];
	const char *const good[] = { "1001", "A-b_c.9", "x", long64, "a..b" };
	const char *const bad[] = { long65, "", NULL, ".hidden", "..", ".", "a/b", "../x", "a b",
		"caf\xc3\xa9", "a\nb", "a\\b" };

	(void)state;
	memset(long64, 'a', 64);
	long64[64] = '\0';
	memset(long65, 'a', 65);
	long65[65] = '\0';
	grammar(spool_id_ok, good, sizeof good / sizeof good[0], bad, sizeof bad / sizeof bad[0]);
}

static void
test_name_grammar(void **state)
{
	static const char *const good[] = { "queued", "pending-recipients", "a1",
		"abcdefghijklmnopqrstuvwxyz012345" };
	static const char *const bad[] = { "Queued", "1queued", "-x", "a_b", "",
		"abcdefghijklmnopqrstuvwxyz0123456" };

	(void)state;
	grammar(spool_name_ok, good, sizeof good / sizeof good[0], bad, sizeof bad / sizeof bad[0]);
}

static void
test_time(void **state)
{
	char buf[32];
	time_t t;

	(void)state;
	assert_int_equal(spool_time_parse("2026-11-23T11:33:05Z", &t), 0);
	assert_string_equal(spool_time_fmt(t, buf, sizeof buf), "2026-11-23T11:33:05Z");
	assert_int_equal(spool_time_parse("2026-11-23", &t), 0);
	assert_string_equal(spool_time_fmt(t, buf, sizeof buf), "2026-11-23T00:00:00Z");
	assert_int_equal(spool_time_parse("2026-11-23T11:33Z", &t), 0);
	assert_string_equal(spool_time_fmt(t, buf, sizeof buf), "2026-11-23T11:33:00Z");
	assert_int_equal(spool_time_parse("@86400", &t), 0);
	assert_int_equal(t, 86400);
	assert_int_equal(spool_time_parse("2026-02-30", &t), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_time_parse("2026-13-01", &t), -1);
	assert_int_equal(spool_time_parse("2026-11-23T11:33:05", &t), -1);
	assert_int_equal(spool_time_parse("2026-11-23T11:33:05+01:00", &t), -1);
	assert_int_equal(spool_time_parse("2026-11-23T24:00:00Z", &t), -1);
	assert_int_equal(spool_time_parse("26-11-23", &t), -1);
	assert_int_equal(spool_time_parse("@", &t), -1);
	assert_int_equal(spool_time_parse("@-5", &t), -1);
	assert_int_equal(spool_time_parse("", &t), -1);
}

static void
test_duration(void **state)
{
	long s;

	(void)state;
	assert_int_equal(spool_duration_parse("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(spool_duration_parse("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(spool_duration_parse("10m", &s), 0);
	assert_int_equal(s, 600);
	assert_int_equal(spool_duration_parse("36h", &s), 0);
	assert_int_equal(s, 36 * 3600);
	assert_int_equal(spool_duration_parse("60d", &s), 0);
	assert_int_equal(s, 60 * 86400);
	assert_int_equal(spool_duration_parse("0s", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(spool_duration_parse("10x", &s), -1);
	assert_int_equal(spool_duration_parse("10mm", &s), -1);
	assert_int_equal(spool_duration_parse("-1s", &s), -1);
	assert_int_equal(spool_duration_parse("m", &s), -1);
	assert_int_equal(spool_duration_parse("99999999999d", &s), -1);
}

static void
test_text_ok(void **state)
{
	(void)state;
	assert_true(text_ok("Jane Doe"));
	assert_true(text_ok("Tom\xc3\xa1s \xc3\x81lvarez"));
	assert_true(text_ok("\xe2\x82\xac 5"));
	assert_true(text_ok("\xf0\x9f\x98\x80"));
	assert_true(text_ok(""));
	assert_false(text_ok("a\nb"));
	assert_false(text_ok("a\rb"));
	assert_false(text_ok("a\tb"));
	assert_false(text_ok("a\x7f"));
	assert_false(text_ok("\xc3"));           /* truncated sequence */
	assert_false(text_ok("\xc0\xaf"));       /* overlong slash */
	assert_false(text_ok("\xed\xa0\x80"));   /* surrogate */
	assert_false(text_ok("\xf4\x90\x80\x80")); /* past U+10FFFF */
	assert_false(text_ok("\xc2\x85"));       /* C1 control NEL */
	assert_false(text_ok("\xff"));
}

static void
test_escape(void **state)
{
	char buf[64], small[12];

	(void)state;
	assert_string_equal(spool_escape(buf, sizeof buf, "a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
	assert_string_equal(spool_escape(buf, sizeof buf, "x\x01y\xffz"), "x\\x01y\xef\xbf\xbdz");
	assert_string_equal(spool_escape(buf, sizeof buf, "caf\xc3\xa9"), "caf\xc3\xa9");
	spool_escape(small, sizeof small, "0123456789abcdef");
	assert_true(strlen(small) < sizeof small);
	assert_non_null(strstr(small, "..."));
}

static void
test_fmt_truncation(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(fmt(buf, sizeof buf, "%s", "1234567"), 7);
	assert_int_equal(fmt(buf, sizeof buf, "%s", "12345678"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

/* the names of the format: each as spool-layout(5) spells it, and nothing past buf */
static void
test_names(void **state)
{
	static const struct { enum spool_file f; const char *arg, *want; } t[] = {
		{ SPOOL_F_ORDER_NAME, "1001", "1001.order" },
		{ SPOOL_F_STATE, "paid", "state/paid" },
		{ SPOOL_F_ORDER_DIR, "1001", "orders/1001" },
		{ SPOOL_F_STATUS, "1001", "orders/1001/status" },
		{ SPOOL_F_HISTORY, "1001", "orders/1001/history" },
		{ SPOOL_F_ERROR, "1001", "orders/1001/error" },
		{ SPOOL_F_JOBS, "1001", "orders/1001/jobs" },
		{ SPOOL_F_INCOMING, NULL, "incoming" },
		{ SPOOL_F_INCOMING, "b1", "incoming/b1" },
		{ SPOOL_F_CORRUPT, "x", "corrupt/x" },
		{ SPOOL_F_OUTBOX_NEW, NULL, "outbox/new" },
		{ SPOOL_F_OUTBOX_SENT, "m.eml", "outbox/sent/m.eml" },
		{ SPOOL_F_OUTBOX_FAILED, NULL, "outbox/failed" },
		{ SPOOL_F_REASON, "m.eml", "m.eml.reason" },
		{ SPOOL_F_KICK, NULL, "run/kick" },
		{ SPOOL_F_SPOOLD_LOCK, NULL, "run/spoold.lock" },
		{ SPOOL_F_MAILER_LOCK, NULL, "run/mailer.lock" },
		{ SPOOL_F_JOURNAL, NULL, "run/journal" },
		{ SPOOL_F_RESERVE, NULL, "run/reserve" },
	};
	char buf[SPOOL_PATH_MAX], small[8], id[SPOOL_ID_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_string_equal(spool_name(t[i].f, t[i].arg, buf, sizeof buf), t[i].want);
	assert_string_equal(spool_name(SPOOL_F_STATUS, "1001", small, sizeof small), "?");
	assert_string_equal(spool_name((enum spool_file)99, "x", buf, sizeof buf), "?");
	assert_string_equal(spool_basename(SPOOL_F_STATUS), "status");
	assert_string_equal(spool_basename(SPOOL_F_OUTBOX_NEW), "new");
	assert_string_equal(spool_basename(SPOOL_F_INCOMING), "incoming");
	assert_string_equal(spool_basename(SPOOL_F_JOURNAL), "journal");
	assert_true(spool_order_name_id("1001.order", id));
	assert_string_equal(id, "1001");
	assert_false(spool_order_name_id("1001.orders", id));
	assert_false(spool_order_name_id(".order", id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file_grows),
		cmocka_unit_test(test_id_grammar),
		cmocka_unit_test(test_name_grammar),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_text_ok),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_fmt_truncation),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
