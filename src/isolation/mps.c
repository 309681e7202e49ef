/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPS control daemons nvbind starts and stops: one per GPU set, under
 * <state>/isolation/mps/<key>/, with its pipe and log directories there, and one client file
 * per container. The daemon runs while it has a living client; the last one to leave (delete,
 * or found dead the next time) stops it with `echo quit | nvidia-cuda-mps-control`. Callers
 * hold nvb_iso_lock.
 *
 * MPS clients and server share memory through /dev/shm: the daemon runs in its own mount
 * namespace with <key>/shm over /dev/shm, and client containers get the same folder as their
 * /dev/shm (never the host's, which would expose every host process's shared memory).
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "isolation/isolation.h"
#include "oci/records.h"

struct daemon_env {
	char pipe[PATH_MAX], log[PATH_MAX], shm[PATH_MAX];
	char visible[NVB_ISO_MAX_GPUS * 100];
};

/* The control daemon answers on <pipe>/control while it runs. */
static bool daemon_alive(const char *pipe_dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/control", pipe_dir) >= (int)sizeof(a.sun_path))
		return false;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* In the child that becomes the daemon: a mount namespace of its own where /dev/shm is shm */
static int private_shm(const char *shm)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(shm, "/dev/shm", NULL, MS_BIND, NULL) < 0)
		return -1;
	return 0;
}

/* Run control_bin (args: "-d" or none) with the daemon's environment and nothing else;
 * input (may be NULL) on its stdin. Its stdout and stderr go to /dev/null: the engine reads
 * the wrapper's, and a daemon must not hold them open. Returns the exit status or -1. */
static int run_control(const char *bin, const char *arg, const struct daemon_env *de,
		       const char *input, struct nvb_error *err)
{
	char e_pipe[PATH_MAX + 32], e_log[PATH_MAX + 32], e_vis[sizeof(de->visible) + 32];
	snprintf(e_pipe, sizeof(e_pipe), "CUDA_MPS_PIPE_DIRECTORY=%s", de->pipe);
	snprintf(e_log, sizeof(e_log), "CUDA_MPS_LOG_DIRECTORY=%s", de->log);
	snprintf(e_vis, sizeof(e_vis), "CUDA_VISIBLE_DEVICES=%s", de->visible);
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			e_pipe, e_log, e_vis, NULL};
	char *argv[] = {(char *)bin, (char *)arg, NULL};
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return nvb_error_errno(err, errno, NULL, "pipe for %s", bin);
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return nvb_error_errno(err, errno, NULL, "cannot start %s", bin);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (dup2(in[0], 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 || chdir("/") < 0)
			_exit(126);
		setsid(); /* not in the engine's process group: its signals are not the daemon's */
		if (!strcmp(arg ? arg : "", "-d") && private_shm(de->shm) < 0)
			_exit(125);
		execve(bin, argv, envp);
		_exit(127);
	}
	close(in[0]);
	if (input && write(in[1], input, strlen(input)) < 0)
		nvb_debug("isolation", "%s: stdin: %s", bin, strerror(errno));
	close(in[1]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return nvb_error_errno(err, errno, NULL, "waiting for %s", bin);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int daemon_env_of(const char *dir, const json_t *daemon, struct daemon_env *de)
{
	snprintf(de->pipe, sizeof(de->pipe), "%s/pipe", dir);
	snprintf(de->log, sizeof(de->log), "%s/log", dir);
	snprintf(de->shm, sizeof(de->shm), "%s/shm", dir);
	const char *vis = json_string_value(json_object_get(daemon, "visible"));
	snprintf(de->visible, sizeof(de->visible), "%s", vis ? vis : "");
	return 0;
}

static int start_daemon(const char *dir, const char *bin, const struct daemon_env *de,
			struct nvb_error *err)
{
	struct sockaddr_un a;
	if (strlen(de->pipe) + sizeof("/control") > sizeof(a.sun_path))
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG,
				     "set a shorter NVBIND_STATE_DIR (a Unix socket path has 108 bytes)",
				     "MPS pipe directory %s: path too long for its control socket", de->pipe);
	if (nvb_state_mkdir_p(de->pipe, err) < 0 || nvb_state_mkdir_p(de->log, err) < 0 ||
	    nvb_state_mkdir_p(de->shm, err) < 0)
		return -1;
	int st = run_control(bin, "-d", de, NULL, err);
	if (st < 0)
		return -1;
	if (st == 125)
		return nvb_error_set(err, NVB_ERR_PERMISSION, 0, "nvbind-runtime runs as root",
				     "MPS: cannot give the daemon its /dev/shm (%s): a mount namespace "
				     "needs CAP_SYS_ADMIN", de->shm);
	if (st != 0)
		return nvb_error_set(err, NVB_ERR_DRIVER, 0, "see the MPS log directory",
				     "%s -d failed (exit status %d), log in %s", bin, st, de->log);
	for (int i = 0; i < 100 && !daemon_alive(de->pipe); i++)
		msleep(50);
	if (!daemon_alive(de->pipe))
		return nvb_error_set(err, NVB_ERR_DRIVER, 0, "see the MPS log directory",
				     "the MPS control daemon (%s) does not answer on %s/control", dir, de->pipe);
	nvb_info("isolation", "MPS control daemon started for GPUs %s (pipe %s)", de->visible, de->pipe);
	return 0;
}

static void stop_daemon(const char *dir)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/daemon.json", dir);
	struct nvb_error err;
	json_t *daemon = path ? nvb_iso_read_json(path, &err) : NULL;
	const char *bin = json_string_value(json_object_get(daemon, "binary"));
	struct daemon_env de;
	daemon_env_of(dir, daemon, &de);
	if (bin && daemon_alive(de.pipe)) {
		int st = run_control(bin, NULL, &de, "quit\n", &err);
		for (int i = 0; i < 100 && daemon_alive(de.pipe); i++)
			msleep(50);
		if (st != 0 || daemon_alive(de.pipe))
			nvb_warn("isolation", "MPS control daemon %s: quit failed (status %d)", dir, st);
		else
			nvb_info("isolation", "MPS control daemon for GPUs %s stopped: no client left",
				 de.visible);
	}
	if (path && unlink(path) < 0 && errno != ENOENT)
		nvb_warn("isolation", "cannot remove %s: %s", path, strerror(errno));
	json_decref(daemon);
}

/* Remove id's client file and the dead clients' of one daemon; the number of living
 * clients left. */
static size_t prune_clients(const char *dir, const char *id)
{
	_cleanup_free_ char *cdir = nvb_asprintf("%s/clients", dir);
	DIR *d = cdir ? opendir(cdir) : NULL;
	size_t alive = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!nvb_str_has_suffix(e->d_name, ".json"))
			continue;
		_cleanup_free_ char *path = nvb_asprintf("%s/%s", cdir, e->d_name);
		struct nvb_error err;
		json_t *c = path ? nvb_iso_read_json(path, &err) : NULL;
		struct nvb_iso_holder h;
		nvb_iso_holder_from_json(c, &h);
		json_decref(c);
		bool mine = id && !strcmp(h.id, id);
		if (!mine && c && nvb_iso_holder_alive(&h)) {
			alive++;
			continue;
		}
		if (!mine)
			nvb_warn("isolation", "MPS client %s of %s is gone without delete: dropped",
				 h.id[0] ? h.id : e->d_name, dir);
		if (path && unlink(path) < 0 && errno != ENOENT)
			nvb_warn("isolation", "cannot remove %s: %s", path, strerror(errno));
	}
	if (d)
		closedir(d);
	return alive;
}

int nvb_iso_mps_leave(const char *state_dir, const char *id, struct nvb_error *err)
{
	_cleanup_free_ char *root = nvb_asprintf("%s/isolation/mps", state_dir);
	if (!root)
		return nvb_error_nomem(err);
	DIR *d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : nvb_error_errno(err, errno, NULL, "MPS folder %s", root);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = nvb_asprintf("%s/%s", root, e->d_name);
		if (dir && prune_clients(dir, id) == 0)
			stop_daemon(dir);
	}
	closedir(d);
	return 0;
}

static int daemon_key(const struct nvb_iso_gpu *gpus, size_t n, char *key, size_t kcap,
		      char *visible, size_t vcap)
{
	size_t k = 0, v = 0;
	key[0] = visible[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		k += (size_t)snprintf(key + k, k < kcap ? kcap - k : 0, "%s%u", i ? "-" : "", gpus[i].index);
		v += (size_t)snprintf(visible + v, v < vcap ? vcap - v : 0, "%s%s", i ? "," : "", gpus[i].uuid);
	}
	return k < kcap && v < vcap ? 0 : -1;
}

static int ensure_daemon(const char *dir, const char *bin, const struct daemon_env *de,
			 struct nvb_error *err)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/daemon.json", dir);
	if (!path)
		return nvb_error_nomem(err);
	if (daemon_alive(de->pipe))
		return 0;
	json_t *daemon = json_pack("{s:i, s:s, s:s, s:I}", "version", 1, "binary", bin, "visible",
				   de->visible, "started", (json_int_t)time(NULL));
	/* recorded before the start: whoever finds it later knows how to stop the daemon */
	int r = !daemon ? nvb_error_nomem(err) : nvb_iso_write_json(path, daemon, err);
	json_decref(daemon);
	return r < 0 ? -1 : start_daemon(dir, bin, de, err);
}

int nvb_iso_mps_join(const char *state_dir, const struct nvb_iso_gpu *gpus, size_t n,
		     const char *control_bin, const struct nvb_iso_holder *h, char *pipe_dir,
		     size_t cap, struct nvb_error *err)
{
	char key[NVB_ISO_MAX_GPUS * 12];
	struct daemon_env de;
	if (daemon_key(gpus, n, key, sizeof(key), de.visible, sizeof(de.visible)) < 0)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "too many GPUs for one MPS daemon");
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation/mps/%s", state_dir, key);
	_cleanup_free_ char *clients = nvb_asprintf("%s/clients", dir ? dir : "");
	_cleanup_free_ char *client = nvb_asprintf("%s/%s.json", clients ? clients : "", h->id);
	if (!dir || !clients || !client)
		return nvb_error_nomem(err);
	snprintf(de.pipe, sizeof(de.pipe), "%s/pipe", dir);
	snprintf(de.log, sizeof(de.log), "%s/log", dir);
	snprintf(de.shm, sizeof(de.shm), "%s/shm", dir);
	prune_clients(dir, h->id);
	if (nvb_state_mkdir_p(clients, err) < 0 || ensure_daemon(dir, control_bin, &de, err) < 0)
		return -1;
	json_t *c = json_object();
	int r = !c || nvb_iso_holder_to_json(h, c) < 0 ? nvb_error_nomem(err)
						       : nvb_iso_write_json(client, c, err);
	json_decref(c);
	if (r < 0)
		return -1;
	snprintf(pipe_dir, cap, "%s", de.pipe);
	return 0;
}
