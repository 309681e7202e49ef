/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

const char *nvb_version(void)
{
	return NVBIND_VERSION_STRING;
}

char *nvb_sibling_program(const char *name, const char *fallback_dir)
{
	char self[NVB_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = NULL;
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
	}
	if (slash) {
		*slash = '\0';
		char *p = nvb_asprintf("%s/%s", self, name);
		if (p && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return nvb_asprintf("%s/%s", fallback_dir, name);
}

struct nvb_host *nvb_host_open(const char *root, struct nvb_error *err)
{
	if (!root || !*root)
		root = "/";
	char canon[PATH_MAX];
	if (!realpath(root, canon)) {
		nvb_error_errno(err, errno, "pass an existing directory with --root or NVBIND_ROOT",
				"host root %s", root);
		return NULL;
	}
	int fd = open(canon, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		nvb_error_errno(err, errno, "pass an existing directory with --root or NVBIND_ROOT",
				"host root %s", root);
		return NULL;
	}
	struct nvb_host *host = calloc(1, sizeof(*host));
	if (!host || !(host->root = strdup(canon))) {
		free(host);
		close(fd);
		nvb_error_nomem(err);
		return NULL;
	}
	host->rootfd = fd;
	nvb_debug("host", "host root %s", canon);
	return host;
}

void nvb_host_free(struct nvb_host *host)
{
	if (!host)
		return;
	if (host->rootfd >= 0)
		close(host->rootfd);
	free(host->root);
	free(host);
}

const char *nvb_host_root(const struct nvb_host *host)
{
	return host->root;
}

int nvb_host_open_file(struct nvb_host *host, const char *path, int flags, char **resolved,
		       struct nvb_error *err)
{
	return nvb_open_in_known_root(host->rootfd, host->root, "host", path, flags, resolved, err);
}

int nvb_host_resolve(struct nvb_host *host, const char *path, unsigned flags, char **resolved,
		     struct nvb_error *err)
{
	return nvb_resolve_in_known_root(host->rootfd, host->root, "host", path, flags, resolved, err);
}

int nvb_host_read(struct nvb_host *host, const char *path, size_t max, char **data, size_t *len,
		  struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_host_open_file(host, path, O_RDONLY, NULL, err);
	if (fd < 0)
		return -1;
	return nvb_read_fd(fd, path, max, data, len, err);
}

char *nvb_host_outside_path(const struct nvb_host *host, const char *inside)
{
	if (strcmp(host->root, "/") == 0)
		return strdup(inside);
	return nvb_asprintf("%s%s", host->root, inside);
}
