/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cdi/cdi.h"
#include "oci/oci.h"

void nvb_oci_state_clear(struct nvb_oci_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->status);
	memset(s, 0, sizeof(*s));
}

int nvb_oci_state_parse(const char *data, size_t len, struct nvb_oci_state *state,
			struct nvb_error *err)
{
	memset(state, 0, sizeof(*state));
	if (len > NVB_OCI_STATE_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "container state on stdin: larger than %u bytes", NVB_OCI_STATE_MAX);
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!root)
		return nvb_error_set(err, NVB_ERR_PARSE, 0,
				     "nvbind hooks must be run by an OCI runtime, with the state on stdin",
				     "container state on stdin:%d:%d: %s", jerr.line, jerr.column,
				     jerr.text);
	json_t *bundle = json_object_get(root, "bundle");
	json_t *id = json_object_get(root, "id");
	json_t *status = json_object_get(root, "status");
	json_t *pid = json_object_get(root, "pid");
	int r = 0;
	if (!json_is_object(root) || !json_is_string(bundle) || !json_string_value(bundle)[0]) {
		r = nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				  "container state on stdin: no \"bundle\" string");
	} else if (json_string_value(bundle)[0] != '/') {
		/* relative to what? The hooks run in the runtime's directory, not the bundle's */
		r = nvb_error_set(err, NVB_ERR_INVALID, 0,
				  "nvbind hooks must be run by an OCI runtime, with the state on stdin",
				  "container state on stdin: \"bundle\" %s is not an absolute path",
				  json_string_value(bundle));
	} else {
		state->bundle = strdup(json_string_value(bundle));
		state->id = json_is_string(id) ? strdup(json_string_value(id)) : NULL;
		state->status = json_is_string(status) ? strdup(json_string_value(status)) : NULL;
		state->pid = json_is_integer(pid) ? (long)json_integer_value(pid) : 0;
		if (!state->bundle)
			r = nvb_error_nomem(err);
	}
	json_decref(root);
	return r;
}

json_t *nvb_oci_config_load(const char *bundle, struct nvb_error *err)
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
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	char name[NVB_PATH_MAX];
	snprintf(name, sizeof(name), "%s/config.json", bundle);
	if (nvb_read_fd(fd, name, NVB_OCI_CONFIG_MAX, &data, &len, err) < 0)
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

int nvb_oci_rootfs_open(const char *bundle, json_t *config, char **rootfs, struct nvb_error *err)
{
	json_t *path = json_object_get(json_object_get(config, "root"), "path");
	if (!json_is_string(path) || !json_string_value(path)[0])
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "%s/config.json: no root.path string", bundle);
	const char *p = json_string_value(path);
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

int nvb_oci_hook_rootfs_open(int fd, struct nvb_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(fd, "container state on stdin", NVB_OCI_STATE_MAX, &data, &len, err) < 0)
		return -1;
	struct nvb_oci_state state;
	if (nvb_oci_state_parse(data, len, &state, err) < 0)
		return -1;
	json_t *config = nvb_oci_config_load(state.bundle, err);
	int rootfd = config ? nvb_oci_rootfs_open(state.bundle, config, NULL, err) : -1;
	json_decref(config);
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
