/*
 * spawn: run a command N times, P at a time, each as its own process with stdin
 * from a file, and print the rate.  The same driver runs `spoolctl submit` and
 * Postfix's `sendmail`, so both pay the same fork and exec.  In the arguments, {}
 * stands for the run's number (also inside a word: "o{}").
 *
 *	spawn -n N -P P [-i FILE] -- COMMAND ARG...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	const char *input = "/dev/null";
	struct timespec t0, t1;
	long n = 100, p = 4, started = 0, done = 0, failed = 0;
	char **args, (*subst)[256];
	int c, i, status;

	while ((c = getopt(argc, argv, "n:P:i:")) != -1) {
		switch (c) {
		case 'n':
			n = atol(optarg);
			break;
		case 'P':
			p = atol(optarg);
			break;
		case 'i':
			input = optarg;
			break;
		default:
			fprintf(stderr, "usage: spawn -n N -P P [-i FILE] -- COMMAND ARG...\n");
			return 64;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc < 1)
		return 64;
	args = calloc((size_t)argc + 1, sizeof *args);
	subst = calloc((size_t)argc, sizeof *subst);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < n) {
		while (started < n && started - done < p) {
			pid_t pid;
			for (i = 0; i < argc; i++) {
				const char *b = strstr(argv[i], "{}");
				if (b == NULL) {
					args[i] = argv[i];
					continue;
				}
				snprintf(subst[i], sizeof subst[i], "%.*s%ld%s", (int)(b - argv[i]), argv[i],
				    started + 1, b + 2);
				args[i] = subst[i];
			}
			if ((pid = fork()) == 0) {
				int fd = open(input, O_RDONLY), null = open("/dev/null", O_WRONLY);
				dup2(fd, 0);
				dup2(null, 1);
				execvp(args[0], args);
				_exit(127);
			}
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			started++;
		}
		if (wait(&status) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		done++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld runs, %ld failed, %.3f s, %.1f per second\n", done, failed,
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    done / ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	return failed != 0;
}
