/*
 * The stitching benchmark's driver (bench/run, BENCHMARKS.md): stitch the chunks of
 * one item of a spool with spool_stitch_item, ROUNDS times in this process, and print
 * the pages and the median time of a round.  bench/run also times it as a whole
 * process, one round, against the qpdf command line on the same page files, so both
 * sides pay for starting a program.
 *
 *   stitch SPOOL ID ITEM [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "spool.h"

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct spool_chunk *chunks;
	struct spool_err err;
	struct spool *sp;
	long long *t;
	int rounds = 1, n, i, pages = 0;

	spool_domain_init();

	if (argc < 4 || argc > 5 || (argc == 5 && (rounds = atoi(argv[4])) < 1)) {
		fprintf(stderr, "usage: stitch SPOOL ID ITEM [ROUNDS]\n");
		return 64;
	}
	if (spool_open(argv[1], 0, &sp, &err) < 0) {
		fprintf(stderr, "stitch: %s\n", err.msg);
		return 1;
	}
	if (spool_item_chunks(sp, argv[2], argv[3], &chunks, &n, &err) < 0) {
		fprintf(stderr, "stitch: %s: %s\n", argv[2], err.msg);
		return 1;
	}
	for (i = 0; i < n; i++)
		pages += chunks[i].last - chunks[i].first + 1;
	free(chunks);
	if ((t = calloc((size_t)rounds, sizeof *t)) == NULL)
		return 1;
	for (i = 0; i < rounds; i++) {
		long long t0 = now_ns();

		if (spool_stitch_item(sp, argv[2], argv[3], &err) < 0) {
			fprintf(stderr, "stitch: %s: %s\n", argv[2], err.msg);
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)rounds, sizeof *t, cmp_ll);
	printf("%d pages in %d chunks, median %.3f ms of %d rounds, %.0f pages/s\n", pages, n,
	    (double)t[rounds / 2] / 1e6, rounds, pages / ((double)t[rounds / 2] / 1e9));
	free(t);
	spool_close(sp);
	return 0;
}
