/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>

#include "core/core.h"

DIR *nvb_fdopendir(int fd)
{
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		nvb_closep(&fd);
	return d;
}

DIR *nvb_opendirat(int dirfd, const char *path, int extra_flags)
{
	return nvb_fdopendir(openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags));
}

struct dirent *nvb_readdir(DIR *d)
{
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return de;
	return NULL;
}
