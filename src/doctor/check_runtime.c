/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor: the low-level runtime. runc before 1.1.14 (CVE-2024-45310) resolves a mount
 * destination inside the container root and then creates a missing target by path: an image
 * that swaps a folder for a symlink in between gets empty files created on the host, named
 * after the mounts a GPU container has (tests/e2e/hostile_images.bats reproduces it). nvbind's
 * own writes are safe; the mounts are runc's to make, so the fix is a newer runc.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "config/config.h"
#include "doctor/doctor.h"

extern char **environ;

#define CHECK "runtime"
#define VERSION_TIMEOUT_MS 2000

/* The runtime nvbind-runtime would exec: runtime.low_level, else runc on PATH. */
static char *find_runtime(const struct nvb_config *cfg)
{
	if (cfg && cfg->low_level && cfg->low_level[0])
		return strdup(cfg->low_level);
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = nvb_asprintf("%s/runc", dir);
		if (cand && access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/* First line of `RUNTIME --version`, read with a deadline (a hung runtime must not hang
 * doctor). NULL when it cannot be run or says nothing. */
static char *version_line(const char *runtime)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	char *argv[] = {(char *)runtime, (char *)"--version", NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, runtime, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return NULL;
	}
	char buf[512];
	size_t len = 0;
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	while (len < sizeof(buf) - 1 && poll(&p, 1, VERSION_TIMEOUT_MS) > 0) {
		ssize_t n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	kill(pid, SIGKILL); /* done or out of time: never wait on it for long */
	waitpid(pid, NULL, 0);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return len ? strdup(buf) : NULL;
}

/* "runc version 1.1.5+ds1" -> 1, 1, 5; false for anything else (crun, a wrapper). *rc is the
 * release candidate ("1.0.0-rc92" -> 92), 0 for a release. */
static bool runc_version(const char *line, unsigned v[3], unsigned *rc)
{
	*rc = 0;
	int n = sscanf(line, "runc version %u.%u.%u-rc%u", &v[0], &v[1], &v[2], rc);
	return n >= 3;
}

/* runc runs createRuntime hooks, the stage of the spec's nvbind-hook, since 1.0.0-rc91 (2020);
 * an older one skips them without a word, and CDI containers get no loader cache entries. */
static bool runs_create_runtime(const unsigned v[3], unsigned rc)
{
	if (v[0] != 1 || v[1] != 0 || v[2] != 0)
		return v[0] >= 1;
	return rc == 0 || rc >= 91;
}

int nvb_doctor_check_runtime(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	if (strcmp(nvb_host_root(ctx->host), "/") != 0)
		return 0; /* the runtime of this machine says nothing about another root */
	_cleanup_free_ char *runtime = find_runtime(ctx->cfg);
	if (!runtime)
		return 0; /* the docker and podman checks say what is missing */
	_cleanup_free_ char *line = version_line(runtime);
	unsigned v[3], rc;
	if (!line || !runc_version(line, v, &rc))
		return 0;
	if (!runs_create_runtime(v, rc) &&
	    nvb_doctor_add(ctx->report, NVB_DOCTOR_ERROR, CHECK, "runc-no-create-runtime",
			   "install runc 1.0 or later (or crun), or change the hook of the installed "
			   "specs to hookName createContainer without --stage (docs/cdi.md, \"The "
			   "hook's stage\")",
			   "%s is %s: it skips createRuntime hooks, the stage of the CDI spec's "
			   "nvbind-hook, so containers given a GPU by an engine's CDI support get no "
			   "loader cache entries for the driver libraries",
			   runtime, line) < 0)
		return nvb_error_nomem(err);
	bool fixed = v[0] > 1 || (v[0] == 1 && (v[1] > 1 || (v[1] == 1 && v[2] >= 14)));
	if (fixed)
		return nvb_doctor_add(ctx->report, NVB_DOCTOR_OK, CHECK, "runc-ok", NULL,
				      "%s: %s", runtime, line) < 0 ? nvb_error_nomem(err) : 0;
	return nvb_doctor_add(ctx->report, NVB_DOCTOR_WARNING, CHECK, "runc-mount-race",
			      "install runc 1.1.14 or later (or crun), and point runtime.low_level at "
			      "it",
			      "%s is %s: affected by CVE-2024-45310, a mount race through which an "
			      "image can create empty files on the host while a container with "
			      "mounts (a GPU container has many) is created",
			      runtime, line) < 0
		       ? nvb_error_nomem(err)
		       : 0;
}
