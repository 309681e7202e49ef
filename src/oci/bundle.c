/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdi/cdi.h"
#include "format/jscan.h"
#include "oci/oci.h"

void nvb_oci_state_clear(struct nvb_oci_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->status);
	memset(s, 0, sizeof(*s));
}

/* A string of the state (the key at the top), or NULL when absent or of another type. */
static int state_string(const char *data, size_t len, const char *key, char **out,
			struct nvb_error *err)
{
	struct nvb_jscan_error jerr;
	int kind = nvb_jscan(data, len, (const char *const[]){key}, 1, out, &jerr);
	if (kind < 0)
		return nvb_error_set(err, jerr.line ? NVB_ERR_PARSE : NVB_ERR_NOMEM, 0,
				     "nvbind hooks must be run by an OCI runtime, with the state on stdin",
				     "container state on stdin:%d:%d: %s", jerr.line, jerr.column,
				     jerr.text);
	if (kind != NVB_JSCAN_STRING) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* Read without a tree (format/jscan.c): this runs in nvbind-hook, once per container. */
int nvb_oci_state_parse(const char *data, size_t len, struct nvb_oci_state *state,
			struct nvb_error *err)
{
	memset(state, 0, sizeof(*state));
	if (len > NVB_OCI_STATE_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "container state on stdin: larger than %u bytes", NVB_OCI_STATE_MAX);
	_cleanup_free_ char *pid = NULL;
	struct nvb_jscan_error jerr;
	int r = state_string(data, len, "bundle", &state->bundle, err);
	if (r == 0)
		r = state_string(data, len, "id", &state->id, err);
	if (r == 0)
		r = state_string(data, len, "status", &state->status, err);
	if (r == 0 && nvb_jscan(data, len, (const char *const[]){"pid"}, 1, &pid, &jerr) < 0)
		r = nvb_error_nomem(err); /* the text parsed three times already */
	if (r < 0) {
		nvb_oci_state_clear(state);
		return -1;
	}
	if (pid && strspn(pid + (pid[0] == '-'), "0123456789") == strlen(pid + (pid[0] == '-')))
		state->pid = strtol(pid, NULL, 10); /* an integer, as runtimes write it */
	if (!state->bundle || !state->bundle[0])
		r = nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				  "container state on stdin: no \"bundle\" string");
	else if (state->bundle[0] != '/')
		/* relative to what? The hooks run in the runtime's directory, not the bundle's */
		r = nvb_error_set(err, NVB_ERR_INVALID, 0,
				  "nvbind hooks must be run by an OCI runtime, with the state on stdin",
				  "container state on stdin: \"bundle\" %s is not an absolute path",
				  state->bundle);
	if (r < 0)
		nvb_oci_state_clear(state);
	return r;
}

/* <bundle>/config.json's text, read as the wrapper and the hook read it: a regular file
 * (a symlink or a FIFO refused), at most NVB_OCI_CONFIG_MAX. name: for messages. */
static char *config_text(const char *bundle, char *name, size_t name_cap, size_t *len,
			 struct nvb_error *err)
{
	_cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		nvb_error_errno(err, errno, "check the --bundle argument", "bundle %s", bundle);
		return NULL;
	}
	/* O_NOFOLLOW: a config.json that is a symlink is refused, not followed. O_NONBLOCK: a
	 * FIFO is refused at once instead of waiting for a writer forever. */
	_cleanup_close_ int fd = openat(dfd, "config.json",
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			nvb_error_set(err, NVB_ERR_SECURITY, e, "config.json must be a regular file",
				      "%s/config.json is a symbolic link: refused", bundle);
		else
			nvb_error_errno(err, e, NULL, "cannot open %s/config.json", bundle);
		return NULL;
	}
	struct stat st = {0};
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		nvb_error_set(err, NVB_ERR_SECURITY, 0, "config.json must be a regular file",
			      "%s/config.json is %s, not a regular file", bundle,
			      nvb_file_type_name(st.st_mode));
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		nvb_error_errno(err, errno, NULL, "cannot read %s/config.json", bundle);
		return NULL;
	}
	if ((uint64_t)st.st_size > NVB_OCI_CONFIG_MAX) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
			      "%s/config.json is %lld bytes, more than the %u allowed", bundle,
			      (long long)st.st_size, NVB_OCI_CONFIG_MAX);
		return NULL;
	}
	char *data = NULL;
	snprintf(name, name_cap, "%s/config.json", bundle);
	if (nvb_read_fd(fd, name, NVB_OCI_CONFIG_MAX, &data, len, err) < 0)
		return NULL;
	return data;
}

json_t *nvb_oci_config_load(const char *bundle, struct nvb_error *err)
{
	char name[NVB_PATH_MAX];
	size_t len = 0;
	_cleanup_free_ char *data = config_text(bundle, name, sizeof(name), &len, err);
	if (!data)
		return NULL;
	json_error_t jerr;
	/* exact: Docker and Podman write rlimits as uint64 (18446744073709551615) */
	json_t *config = nvb_json_loadb_exact(data, len, JSON_REJECT_DUPLICATES, false, &jerr);
	if (!config) {
		nvb_error_set(err, NVB_ERR_PARSE, 0, NULL, "%s:%d:%d: %s", name, jerr.line,
			      jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(config)) {
		json_decref(config);
		nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: not a JSON object", name);
		return NULL;
	}
	return config;
}

/* root.path p (relative to the bundle, or absolute) opened */
static int rootfs_open_path(const char *bundle, const char *p, char **rootfs, struct nvb_error *err)
{
	if (!p || !p[0])
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "%s/config.json: no root.path string", bundle);
	char *full = p[0] == '/' ? strdup(p) : nvb_asprintf("%s/%s", bundle, p);
	if (!full)
		return nvb_error_nomem(err);
	int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		nvb_error_errno(err, errno, NULL, "container root filesystem %s", full);
		free(full);
		return -1;
	}
	if (rootfs)
		*rootfs = full;
	else
		free(full);
	return fd;
}

int nvb_oci_rootfs_open(const char *bundle, json_t *config, char **rootfs, struct nvb_error *err)
{
	json_t *path = json_object_get(json_object_get(config, "root"), "path");
	return rootfs_open_path(bundle, json_is_string(path) ? json_string_value(path) : NULL, rootfs,
				err);
}

/* Is /proc/<pid>/ns/<name> another namespace than ours? Opened into *fd when it is. A kernel
 * without that kind of namespace (no ns file) has one for everybody: not another. */
static int other_ns(long pid, const char *name, int *fd, struct nvb_error *err)
{
	char path[64], self[64];
	snprintf(path, sizeof(path), "/proc/%ld/ns/%s", pid, name);
	snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
	struct stat theirs, ours;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT && access(self, F_OK) < 0)
		return 0;
	if (*fd < 0 || fstat(*fd, &theirs) < 0 || stat(self, &ours) < 0)
		return nvb_error_errno(err, errno,
				       "the runtime must give a createRuntime hook the pid of the "
				       "container's process in the state (OCI runtime-spec, state)",
				       "container namespace %s", path);
	if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
		close(*fd);
		*fd = -1;
	}
	return 0;
}

/* A createRuntime hook runs in the runtime's namespaces, where the container's own mounts (the
 * driver folder, its volumes, /dev) do not exist: join the container's user namespace, when it
 * has one of its own (files are then made by the container's root, as from `runc init`), and
 * its mount namespace, through the state's pid. Before pivot_root the root path is the same
 * there. */
static int join_container(long pid, struct nvb_error *err)
{
	if (pid <= 0)
		return nvb_error_set(err, NVB_ERR_INVALID, 0,
				     "run the hook at createContainer (--stage createContainer) "
				     "with a runtime that does not give a createRuntime hook the pid",
				     "container state on stdin: no pid of the container's process");
	_cleanup_close_ int user = -1, mnt = -1;
	if (other_ns(pid, "user", &user, err) < 0 || other_ns(pid, "mnt", &mnt, err) < 0)
		return -1;
	if (user >= 0) {
		if (setns(user, CLONE_NEWUSER) < 0)
			return nvb_error_errno(err, errno, NULL,
					       "joining the user namespace of container process %ld", pid);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return nvb_error_errno(err, errno,
					       "map uid and gid 0 in the container's user namespace",
					       "becoming root in the user namespace of container process %ld",
					       pid);
	}
	if (mnt >= 0 && setns(mnt, CLONE_NEWNS) < 0)
		return nvb_error_errno(err, errno, NULL,
				       "joining the mount namespace of container process %ld", pid);
	return 0;
}

/* nvbind-hook, once per container: config.json is checked as JSON and only root.path is kept
 * (format/jscan.c), not built as a tree. config.json is read where the runtime runs the hook;
 * the root is opened in the container's mount namespace. */
int nvb_oci_hook_rootfs_open(int fd, enum nvb_hook_stage stage, struct nvb_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(fd, "container state on stdin", NVB_OCI_STATE_MAX, &data, &len, err) < 0)
		return -1;
	struct nvb_oci_state state;
	if (nvb_oci_state_parse(data, len, &state, err) < 0)
		return -1;
	char name[NVB_PATH_MAX];
	size_t config_len = 0;
	_cleanup_free_ char *config = config_text(state.bundle, name, sizeof(name), &config_len, err);
	_cleanup_free_ char *root_path = NULL;
	struct nvb_jscan_error jerr;
	int kind = config ? nvb_jscan(config, config_len, (const char *const[]){"root", "path"}, 2,
				      &root_path, &jerr)
			  : -1;
	int rootfd = -1;
	if (kind < 0 && config)
		nvb_error_set(err, jerr.line ? NVB_ERR_PARSE : NVB_ERR_NOMEM, 0, NULL, "%s:%d:%d: %s",
			      name, jerr.line, jerr.column, jerr.text);
	else if (kind >= 0 && (stage != NVB_HOOK_CREATE_RUNTIME || join_container(state.pid, err) == 0))
		rootfd = rootfs_open_path(state.bundle, kind == NVB_JSCAN_STRING ? root_path : NULL, NULL,
					  err);
	nvb_oci_state_clear(&state);
	return rootfd;
}

char *nvb_oci_config_read(const char *path, size_t *len, struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, path, O_NOFOLLOW, "OCI config", err);
	char *data = NULL;
	if (fd < 0 || nvb_read_fd(fd, path, NVB_OCI_CONFIG_MAX, &data, len, err) < 0)
		return NULL;
	return data;
}
