/*
 * libFuzzer target for the job.xml reader: spool_jobxml_parse on any bytes, and,
 * whenever it reads a document, the refusal spool would write back into it.  Besides
 * "no crash, no leak, no undefined behaviour" it checks what callers rely on: the
 * message is bounded, clean text, and a refused document reads back with the
 * restored status.  Built and run by `make fuzz`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines of clean UTF-8 text: no control characters, no blank at either end. */
static void
check_text(const char *s, size_t max, int lines)
{
	char buf[SPOOL_JOB_MSG_MAX + 1], *line, *nl;
	size_t n = strlen(s);

	if (n > max)
		abort();
	memcpy(buf, s, n + 1);
	if (n > 0 && (buf[0] == ' ' || buf[0] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\n'))
		abort();
	if (strstr(buf, "\n\n\n") != NULL || strstr(buf, "  ") != NULL)
		abort();
	for (line = buf; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL) {
			if (!lines)
				abort();
			*nl++ = '\0';
		}
		if (!text_ok(line))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_jobxml j, k;
	struct spool_err err;
	struct spool_jobxml_refusal r = { 0, 0, NULL, NULL };
	char *out;
	size_t olen;

	if (spool_jobxml_parse((const char *)data, size, "fuzz.xml", &j, &err) < 0)
		return 0;
	check_text(j.message, SPOOL_JOB_MSG_MAX, 1);
	check_text(j.status_text, sizeof j.status_text - 1, 0);
	if ((j.order_id[0] != '\0' && !spool_id_ok(j.order_id)) ||
	    (j.item_id[0] != '\0' && !spool_id_ok(j.item_id)))
		abort();
	if ((j.status == SPOOL_JOB_BADSTATUS) != (j.bad != SPOOL_JOB_BAD_NONE))
		abort();
	if (spool_jobxml_verdict(&j, SPOOL_JOB_QUEUED, &err) < 0 && strlen(err.msg) == 0)
		abort();

	r.refused = j.status;
	r.restore = SPOOL_JOB_PROCESSING;
	r.why = "refused by the fuzzer: <&> \"quoted\"";
	if (spool_jobxml_refuse_buf((const char *)data, size, "fuzz.xml", &r, &out, &olen,
	    &err) < 0) {
		/* Whatever parsed as a job.xml can take a refusal, unless memory runs out. */
		if (errno != ENOMEM)
			abort();
		return 0;
	}
	if (spool_jobxml_parse(out, olen, "refused.xml", &k, &err) < 0 ||
	    k.status != SPOOL_JOB_PROCESSING || strcmp(k.message, j.message) != 0)
		abort();
	free(out);

	/* the shop's own status and message (a cancel) replace the printer's */
	r.restore = SPOOL_JOB_CANCELLED;
	r.why = NULL;
	r.note = "cancelled by the fuzzer: <&> \"quoted\"";
	if (spool_jobxml_refuse_buf((const char *)data, size, "fuzz.xml", &r, &out, &olen,
	    &err) < 0) {
		if (errno != ENOMEM)
			abort();
		return 0;
	}
	if (spool_jobxml_parse(out, olen, "cancelled.xml", &k, &err) < 0 ||
	    k.status != SPOOL_JOB_CANCELLED || strcmp(k.message, r.note) != 0)
		abort();
	free(out);
	return 0;
}
