/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The processes of a container: its init pid from the OCI state (`runc state ID`), then every
 * process of that pid's cgroup and the cgroups below it (cgroup v2, or v1's hierarchies).
 * Process ids are those of this process's pid namespace, the one libcuda's checkpoint calls
 * take, so /proc and /sys/fs/cgroup are this machine's, never the host root's.
 */
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include "snapshot/snapshot.h"

extern char **environ;

#define STATE_MAX (1u << 20)

int nvb_oci_state_pid(const char *text, const char *origin, int *pid, struct nvb_error *err)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	if (!root)
		return nvb_error_set(err, NVB_ERR_PARSE, 0, NULL, "%s: invalid JSON: %s (line %d)",
				     origin, jerr.text, jerr.line);
	json_t *p = json_object_get(root, "pid");
	const char *status = json_string_value(json_object_get(root, "status"));
	int ret = 0;
	if (!json_is_integer(p) || json_integer_value(p) <= 0 || json_integer_value(p) > INT32_MAX)
		ret = nvb_error_set(err, NVB_ERR_INVALID, 0,
				    "is the container running? ('runc list' shows its status)",
				    "%s: no process id in field \"pid\"%s%s", origin,
				    status ? " (status " : "", status ? status : "");
	else if (status && (!strcmp(status, "stopped") || !strcmp(status, "creating")))
		ret = nvb_error_set(err, NVB_ERR_INVALID, 0, "start the container first",
				    "%s: the container is %s", origin, status);
	else
		*pid = (int)json_integer_value(p);
	json_decref(root);
	return ret;
}

/* Run argv, its stdout read into *out (at most STATE_MAX bytes); stderr is inherited so the
 * runtime's own error reaches the user. Returns the exit status, or -1 (err set). */
static int capture(char *const argv[], char **out, struct nvb_error *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return nvb_error_errno(err, errno, NULL, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return nvb_error_errno(err, rc, "name the runtime with --runtime", "cannot run %s",
				       argv[0]);
	}
	struct nvb_strbuf b = {0};
	char buf[4096];
	ssize_t k;
	while ((k = read(fds[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR))
		if (k > 0 && b.len < STATE_MAX)
			nvb_strbuf_appendn(&b, buf, (size_t)k);
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = nvb_strbuf_take(&b);
	if (!*out)
		return nvb_error_nomem(err);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int nvb_container_init_pid(const char *container, const char *runtime, const char *runtime_root,
			   int *pid, struct nvb_error *err)
{
	if (container[0] == '{')
		return nvb_oci_state_pid(container, "the OCI state", pid, err);
	if (!container[0] || container[0] == '-')
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "'%s' is not a container id",
				     container);
	const char *rt = runtime ? runtime : "runc";
	const char *argv[6];
	size_t k = 0;
	argv[k++] = rt;
	if (runtime_root) {
		argv[k++] = "--root";
		argv[k++] = runtime_root;
	}
	argv[k++] = "state";
	argv[k++] = container;
	argv[k] = NULL;
	_cleanup_free_ char *text = NULL;
	int rc = capture((char *const *)argv, &text, err);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
				     "check the id with '%s list' and the runtime's state directory "
				     "(--runtime-root)",
				     "'%s state %s' failed (exit status %d): no such container?", rt,
				     container, rc);
	_cleanup_free_ char *origin = nvb_asprintf("'%s state %s'", rt, container);
	return nvb_oci_state_pid(text, origin ? origin : "runtime state", pid, err);
}

/* A cgroup path of /proc/PID/cgroup as the kernel writes it: absolute, no "." or ".."
 * component (anything else is refused rather than joined to the cgroup mount) */
static bool cgroup_path_ok(const char *cg)
{
	if (cg[0] != '/')
		return false;
	for (const char *p = cg; (p = strchr(p, '/'));) {
		p++;
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
	}
	return true;
}

char *nvb_cgroup_parse(const char *text, const char *cgroupfs, bool *is_root)
{
	static const char *const v1[] = {"pids", "freezer", "memory", "devices", "cpuacct"};
	_cleanup_free_ char *copy = strdup(text);
	_cleanup_free_ char *v2 = NULL;
	bool v2_root = false;
	char *best = NULL, *save = NULL;
	size_t best_rank = NVB_ARRAY_SIZE(v1);
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *cg = c2 + 1;
		if (!cgroup_path_ok(cg) || strchr(ctrls, '/') || !strcmp(ctrls, "..") || !strcmp(ctrls, "."))
			continue;
		if (!strncmp(line, "0:", 2) && !ctrls[0]) {
			free(v2);
			v2 = nvb_asprintf("%s%s", cgroupfs, cg);
			v2_root = !strcmp(cg, "/");
			continue;
		}
		for (size_t r = 0; r < best_rank; r++) {
			/* controllers are comma-separated: "cpu,cpuacct" */
			const char *hit = strstr(ctrls, v1[r]);
			size_t len = strlen(v1[r]);
			if (!hit || (hit != ctrls && hit[-1] != ',') || (hit[len] && hit[len] != ','))
				continue;
			free(best);
			best = nvb_asprintf("%s/%s%s", cgroupfs, ctrls, cg);
			*is_root = !strcmp(cg, "/");
			best_rank = r;
			break;
		}
	}
	if (!best && v2) {
		best = NVB_TAKE_PTR(v2);
		*is_root = v2_root;
	}
	return best;
}

/* The cgroup of pid, as a directory of this machine: the first of a few v1 hierarchies that
 * every container runtime joins, mounted at cgroupfs/CONTROLLERS, else (pure v2) the "0::"
 * path under cgroupfs. *is_root: the process is in the hierarchy's root cgroup. */
static char *cgroup_dir(const char *procfs, const char *cgroupfs, int pid, bool *is_root,
			struct nvb_error *err)
{
	char path[64 + NVB_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%d/cgroup", procfs, pid);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		nvb_error_errno(err, errno, "is the process still running?", "cannot read %s", path);
		return NULL;
	}
	if (nvb_read_fd(fd, path, 1u << 20, &text, NULL, err) < 0)
		return NULL;
	char *best = nvb_cgroup_parse(text, cgroupfs, is_root);
	if (!best)
		nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, NULL,
			      "%s names no cgroup v2 path nor a pids/freezer/memory/devices v1 one",
			      path);
	return best;
}

/* Append every pid of dir's cgroup.procs and of the cgroups below it. */
static int collect(const char *dir, int depth, int **pids, size_t *n, struct nvb_error *err)
{
	char path[NVB_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return nvb_error_errno(err, errno, "is the container running?", "cannot read %s", path);
	long v;
	while (fscanf(f, "%ld", &v) == 1) {
		int *slot = v > 0 && v <= INT32_MAX ? nvb_array_push(pids, n, sizeof(int)) : NULL;
		if (v > 0 && v <= INT32_MAX && !slot)
			return nvb_error_nomem(err);
		if (slot)
			*slot = (int)v;
	}
	if (depth >= 32)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return 0;
	NVB_DIR_FOREACH(de, d) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = nvb_asprintf("%s/%s", dir, de->d_name);
		if (!sub)
			return nvb_error_nomem(err);
		if (collect(sub, depth + 1, pids, n, err) < 0)
			return -1;
	}
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int nvb_cgroup_pids(const char *procfs, const char *cgroupfs, int pid, int **pids, size_t *n,
		    struct nvb_error *err)
{
	*pids = NULL;
	*n = 0;
	bool is_root = false;
	_cleanup_free_ char *dir = cgroup_dir(procfs, cgroupfs, pid, &is_root, err);
	if (!dir)
		return -1;
	if (is_root)
		return nvb_error_set(err, NVB_ERR_INVALID, 0,
				     "name a container's process: its cgroup is the container's",
				     "pid %d is in the root cgroup (%s): that is not a container", pid,
				     dir);
	if (collect(dir, 0, pids, n, err) < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return -1;
	}
	qsort(*pids, *n, sizeof(int), int_cmp);
	return 0;
}

/* Whether pid has a libcuda.so mapped (/proc/PID/maps). */
static bool maps_libcuda(const char *procfs, int pid)
{
	char path[NVB_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%d/maps", procfs, pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0) {
		const char *name = strrchr(line, '/');
		found = name && nvb_str_has_prefix(name, "/libcuda.so");
	}
	free(line);
	return found;
}

int nvb_gpu_container_pids(struct nvb_host *host, const char *container,
			   const struct nvb_snapshot_options *opts, int **pids, size_t *n,
			   struct nvb_error *err)
{
	if (!host || !container || !pids || !n)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
				     "nvb_gpu_container_pids: NULL argument");
	*pids = NULL;
	*n = 0;
	struct nvb_snapshot_options o;
	int init = 0;
	if (nvb_snapshot_options_copy(&o, opts, err) < 0 ||
	    nvb_container_init_pid(container, o.runtime, o.runtime_root, &init, err) < 0)
		return -1;
	int *all = NULL;
	size_t n_all = 0;
	if (nvb_cgroup_pids("/proc", "/sys/fs/cgroup", init, &all, &n_all, err) < 0)
		return -1;
	/* only a process that loaded libcuda can be a CUDA process: a container without one
	 * needs no driver (nvbind-runtime checkpoints containers without GPUs too) */
	size_t k = 0;
	for (size_t i = 0; i < n_all; i++)
		if (maps_libcuda("/proc", all[i]))
			all[k++] = all[i];
	n_all = k;
	struct nvb_cuda_ckpt api = {0};
	if (n_all && nvb_cuda_ckpt_open(host, &api, err) < 0) {
		free(all);
		return -1;
	}
	/* a CUDA process is one the driver has a restore thread for */
	k = 0;
	for (size_t i = 0; i < n_all; i++) {
		int tid = 0;
		if (api.restore_tid(all[i], &tid) == NVB_CU_SUCCESS)
			all[k++] = all[i];
		else
			nvb_debug("snapshot", "pid %d of the container does not use CUDA", all[i]);
	}
	if (n_all)
		nvb_cuda_ckpt_close(&api);
	*pids = all;
	*n = k;
	return 0;
}
