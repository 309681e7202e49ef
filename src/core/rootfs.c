/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes inside a root directory (a container's rootfs), always relative to a descriptor of
 * a directory that was itself resolved inside the root (docs/design/security.md, CVE-2024-0134):
 * a symlink planted by the image can redirect a write only to another place in the same root.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "core/core.h"

int nvb_path_split(const char *path, char *dir, size_t dir_cap, const char **base)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	const char *slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			slash = path + i;
	if (!slash || len >= dir_cap)
		return -1;
	size_t dlen = (size_t)(slash - path);
	if (dlen == 0)
		snprintf(dir, dir_cap, "/");
	else
		snprintf(dir, dir_cap, "%.*s", (int)dlen, path);
	*base = slash + 1;
	if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
		return -1;
	return 0;
}

int nvb_symlink_in_root(int rootfd, const char *what, const char *target, const char *link,
			struct nvb_error *err)
{
	char dir[NVB_PATH_MAX];
	const char *base;
	if (!*target || nvb_path_split(link, dir, sizeof(dir), &base) < 0)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "invalid link %s -> %s", link,
				     target);
	_cleanup_close_ int parent = nvb_mkdir_in_root(rootfd, what, dir, 0755, err);
	if (parent < 0)
		return -1;
	struct stat st;
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			nvb_debug("rootfs", "%s %s exists and is not a symlink: left alone", what, link);
			return 0;
		}
		char old[NVB_PATH_MAX];
		ssize_t n = readlinkat(parent, base, old, sizeof(old) - 1);
		if (n >= 0) {
			old[n] = '\0';
			if (strcmp(old, target) == 0)
				return 0;
		}
		if (unlinkat(parent, base, 0) < 0)
			return nvb_error_errno(err, errno, NULL, "cannot replace %s link %s", what,
					       link);
	}
	if (symlinkat(target, parent, base) < 0 && errno != EEXIST)
		return nvb_error_errno(err, errno, NULL, "cannot create %s link %s -> %s", what, link,
				       target);
	return 0;
}
