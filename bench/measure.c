/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure: fork/exec commands N times each, interleaved, and record per run the wall time
 * (CLOCK_MONOTONIC around fork .. wait4) and the peak RSS of that process (wait4's
 * rusage.ru_maxrss: the process itself and whatever it exec'ed, plus any children it waited
 * for). Used by bench/run.sh; numbers are per process, nothing is averaged away.
 *
 *   measure [-n RUNS] [-w WARMUP] [-o SAMPLES.tsv] SPEC [--- SPEC]...
 *   SPEC := LABEL [OPTION]... -- ARGV...
 *
 * Rounds: each round runs every SPEC once; odd rounds run them in reverse order, so with two
 * commands the order is AB BA AB ... (neither always runs on a warm cache left by the other).
 * WARMUP rounds are run and checked but not recorded.
 *
 * Per-command options (untimed work happens outside the clock):
 *   --stdout FILE         stdout of each run (truncated before each run; default /dev/null,
 *                         or a temporary file when --expect-stdout is given)
 *   --expect-stdout STR   fail unless the run's stdout contains STR
 *   --expect-file PATH    fail unless PATH exists and is non-empty after the run
 *   --rm PATH             unlink PATH before each run
 *   --before SHELLCMD     run with /bin/sh -c before each run; must exit 0
 *   --after SHELLCMD      run with /bin/sh -c after each run; must exit 0 (checks, clean-up)
 *   --env NAME=VALUE      set in the command's environment
 *
 * stdin is /dev/null; stderr goes to a temporary file that is printed when a run fails.
 * Any failure (non-zero exit, signal, failed expectation, failed --before/--after) prints what
 * happened and exits 1: a benchmark whose work did not happen has no number.
 *
 * Output: SAMPLES.tsv gets "label<TAB>round<TAB>wall_ns<TAB>maxrss_kib" lines (appended);
 * a summary (median, p95, max RSS) goes to stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SPECS 16
#define MAX_ENV 16

struct spec {
	const char *label;
	char **argv;
	const char *stdout_path;
	const char *expect_stdout;
	const char *expect_file;
	const char *rm_path;
	const char *before;
	const char *after;
	const char *env[MAX_ENV];
	int n_env;
	char stderr_path[PATH_MAX];
	char stdout_tmp[PATH_MAX];
	uint64_t *ns;
	long *rss;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("measure: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fputs("usage: measure [-n RUNS] [-w WARMUP] [-o SAMPLES.tsv] LABEL [OPTION]... -- ARGV... "
	      "[--- LABEL [OPTION]... -- ARGV...]...\n",
	      stderr);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void dump_file(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char buf[4096];
	size_t n;
	fprintf(stderr, "---- %s (%s) ----\n", what, path);
	/* the last 8 KiB is what matters */
	if (fseek(f, -8192, SEEK_END) != 0)
		rewind(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of %s ----\n", what);
	fclose(f);
}

static int shell(const char *cmd)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool file_contains(const char *path, const char *needle)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return false;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	ssize_t got = buf ? read(fd, buf, len) : -1;
	close(fd);
	bool found = false;
	if (got > 0) {
		buf[got] = '\0';
		found = memmem(buf, (size_t)got, needle, strlen(needle)) != NULL;
	}
	free(buf);
	return found;
}

/* One timed run of s. Returns 0, or prints why it failed and returns -1. */
static int run_once(struct spec *s, int round, uint64_t *ns, long *rss)
{
	if (s->rm_path && unlink(s->rm_path) < 0 && errno != ENOENT)
		die("%s: cannot remove %s: %s", s->label, s->rm_path, strerror(errno));
	if (s->before) {
		int rc = shell(s->before);
		if (rc != 0) {
			fprintf(stderr, "measure: %s round %d: --before exited %d: %s\n", s->label,
				round + 1, rc, s->before);
			return -1;
		}
	}
	const char *out = s->stdout_path ? s->stdout_path : s->stdout_tmp[0] ? s->stdout_tmp : "/dev/null";
	/* open everything before the clock starts: the child only dup2s */
	int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err_fd = open(s->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in_fd < 0 || out_fd < 0 || err_fd < 0)
		die("%s: cannot open stdio files: %s", s->label, strerror(errno));

	struct rusage ru;
	int st;
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		for (int i = 0; i < s->n_env; i++)
			putenv((char *)s->env[i]);
		execvp(s->argv[0], s->argv);
		dprintf(2, "measure: cannot execute %s: %s\n", s->argv[0], strerror(errno));
		_exit(127);
	}
	pid_t w;
	while ((w = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
		;
	uint64_t t1 = now_ns();
	if (w < 0)
		die("wait4: %s", strerror(errno));
	close(in_fd);
	close(out_fd);
	close(err_fd);

	*ns = t1 - t0;
	*rss = ru.ru_maxrss; /* KiB on Linux */
	const char *why = NULL;
	char whybuf[256];
	if (WIFSIGNALED(st)) {
		snprintf(whybuf, sizeof(whybuf), "killed by signal %d", WTERMSIG(st));
		why = whybuf;
	} else if (WEXITSTATUS(st) != 0) {
		snprintf(whybuf, sizeof(whybuf), "exited %d", WEXITSTATUS(st));
		why = whybuf;
	} else if (s->expect_stdout && !file_contains(out, s->expect_stdout)) {
		snprintf(whybuf, sizeof(whybuf), "stdout lacks \"%s\"", s->expect_stdout);
		why = whybuf;
	} else if (s->expect_file) {
		struct stat fst;
		if (stat(s->expect_file, &fst) < 0 || fst.st_size == 0) {
			snprintf(whybuf, sizeof(whybuf), "%s was not written", s->expect_file);
			why = whybuf;
		}
	}
	if (why) {
		fprintf(stderr, "measure: %s %s %d: %s\n  command:", s->label,
			round < 0 ? "warm-up round" : "round", round < 0 ? -round : round + 1, why);
		for (char **a = s->argv; *a; a++)
			fprintf(stderr, " %s", *a);
		fputc('\n', stderr);
		dump_file(s->stderr_path, "stderr");
		if (strcmp(out, "/dev/null") != 0)
			dump_file(out, "stdout");
		if (s->after)
			shell(s->after); /* clean up what it can */
		return -1;
	}
	if (s->after) {
		int rc = shell(s->after);
		if (rc != 0) {
			fprintf(stderr, "measure: %s round %d: --after exited %d: %s\n", s->label,
				round + 1, rc, s->after);
			return -1;
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted v */
static uint64_t pct(const uint64_t *v, int n, double p)
{
	int k = (int)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

int main(int argc, char **argv)
{
	int runs = 20, warmup = 2;
	const char *samples = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-w") && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			samples = argv[++i];
		else
			usage();
	}
	if (runs < 1 || warmup < 0)
		usage();

	struct spec specs[MAX_SPECS];
	int n_specs = 0;
	memset(specs, 0, sizeof(specs));
	while (i < argc) {
		if (n_specs == MAX_SPECS)
			die("at most %d commands", MAX_SPECS);
		struct spec *s = &specs[n_specs++];
		s->label = argv[i++];
		while (i < argc && strcmp(argv[i], "--")) {
			const char *o = argv[i];
			const char *v = i + 1 < argc ? argv[i + 1] : NULL;
			if (!v)
				usage();
			if (!strcmp(o, "--stdout"))
				s->stdout_path = v;
			else if (!strcmp(o, "--expect-stdout"))
				s->expect_stdout = v;
			else if (!strcmp(o, "--expect-file"))
				s->expect_file = v;
			else if (!strcmp(o, "--rm"))
				s->rm_path = v;
			else if (!strcmp(o, "--before"))
				s->before = v;
			else if (!strcmp(o, "--after"))
				s->after = v;
			else if (!strcmp(o, "--env") && s->n_env < MAX_ENV && strchr(v, '='))
				s->env[s->n_env++] = v;
			else
				usage();
			i += 2; /* option and value */
		}
		if (i >= argc)
			usage();
		i++; /* "--" */
		int start = i;
		while (i < argc && strcmp(argv[i], "---"))
			i++;
		if (i == start)
			usage();
		s->argv = &argv[start];
		if (i < argc)
			argv[i++] = NULL; /* terminate this argv at "---" */
	}
	if (n_specs == 0)
		usage();

	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	for (int k = 0; k < n_specs; k++) {
		struct spec *s = &specs[k];
		snprintf(s->stderr_path, sizeof(s->stderr_path), "%.4000s/measure-err.XXXXXX", tmp);
		int fd = mkstemp(s->stderr_path);
		if (fd < 0)
			die("mkstemp: %s", strerror(errno));
		close(fd);
		if (s->expect_stdout && !s->stdout_path) {
			snprintf(s->stdout_tmp, sizeof(s->stdout_tmp), "%.4000s/measure-out.XXXXXX", tmp);
			fd = mkstemp(s->stdout_tmp);
			if (fd < 0)
				die("mkstemp: %s", strerror(errno));
			close(fd);
		}
		s->ns = calloc((size_t)runs, sizeof(*s->ns));
		s->rss = calloc((size_t)runs, sizeof(*s->rss));
		if (!s->ns || !s->rss)
			die("out of memory");
	}

	int status = 0;
	for (int r = 0; r < warmup + runs && status == 0; r++) {
		for (int j = 0; j < n_specs && status == 0; j++) {
			struct spec *s = &specs[r % 2 ? n_specs - 1 - j : j];
			uint64_t ns;
			long rss;
			if (run_once(s, r - warmup, &ns, &rss) < 0) {
				status = 1;
				break;
			}
			if (r >= warmup) {
				s->ns[r - warmup] = ns;
				s->rss[r - warmup] = rss;
			}
		}
	}

	if (status == 0 && samples) {
		FILE *f = fopen(samples, "a");
		if (!f)
			die("cannot open %s: %s", samples, strerror(errno));
		for (int k = 0; k < n_specs; k++)
			for (int r = 0; r < runs; r++)
				fprintf(f, "%s\t%d\t%" PRIu64 "\t%ld\n", specs[k].label, r, specs[k].ns[r],
					specs[k].rss[r]);
		if (fclose(f) != 0)
			die("cannot write %s", samples);
	}
	for (int k = 0; k < n_specs && status == 0; k++) {
		struct spec *s = &specs[k];
		long max_rss = 0;
		for (int r = 0; r < runs; r++)
			max_rss = s->rss[r] > max_rss ? s->rss[r] : max_rss;
		qsort(s->ns, (size_t)runs, sizeof(*s->ns), cmp_u64);
		fprintf(stderr, "  %-28s n=%-5d median %9.3f ms  p95 %9.3f ms  max RSS %6ld KiB\n",
			s->label, runs, (double)pct(s->ns, runs, 50) / 1e6,
			(double)pct(s->ns, runs, 95) / 1e6, max_rss);
	}
	for (int k = 0; k < n_specs; k++) {
		unlink(specs[k].stderr_path);
		if (specs[k].stdout_tmp[0])
			unlink(specs[k].stdout_tmp);
		free(specs[k].ns);
		free(specs[k].rss);
	}
	return status;
}
