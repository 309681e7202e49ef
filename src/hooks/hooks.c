/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver libraries inside a container root (docs/design/security.md): every write goes through a
 * directory descriptor resolved inside the root, links are made with symlinkat, and nothing is
 * executed. Earlier versions ran the host's ldconfig chrooted into the rootfs: that broke on
 * Ubuntu (its /sbin/ldconfig is a shell script) and let an image's /etc/ld.so.conf point it at
 * /proc/1/root while the container's /proc was mounted. The loader cache is written instead.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/strv.h"
#include "host/elf.h"
#include "host/ldcache_write.h"
#include "hooks/hooks.h"

/* ------------------------------------------------------------------- applying */

/* Directories of the plan, opened once each inside the root: fds[i] is paths.v[i]'s. */
struct dirs {
	struct nvb_strv paths;
	int *fds;
};

static void dirs_clear(struct dirs *d)
{
	for (size_t i = 0; i < d->paths.n; i++)
		if (d->fds[i] >= 0)
			close(d->fds[i]);
	nvb_strv_free(&d->paths);
	free(d->fds);
}

/* The descriptor of path's directory, created inside the root when missing. */
static int dir_fd(struct dirs *d, int rootfd, const char *path, struct nvb_error *err)
{
	size_t len = nvb_libplan_dir_len(path);
	for (size_t i = 0; i < d->paths.n; i++)
		if (strlen(d->paths.v[i]) == len && !strncmp(d->paths.v[i], path, len))
			return d->fds[i];
	_cleanup_free_ char *dir = len ? strndup(path, len) : strdup("/");
	if (!dir)
		return nvb_error_nomem(err);
	int fd = nvb_mkdir_in_root(rootfd, "container", dir, 0755, err);
	if (fd < 0)
		return -1;
	/* fds grows first: a failed push leaves it one slot larger, which nothing reads. */
	size_t n = d->paths.n;
	int *f = realloc(d->fds, (n + 1) * sizeof(*f));
	if (f)
		d->fds = f;
	if (!f || nvb_strv_push(&d->paths, dir) < 0) {
		close(fd);
		return nvb_error_nomem(err);
	}
	d->fds[n] = fd;
	return fd;
}

/* name -> target in dfd, replacing what is there (a SONAME link is the driver's own name):
 * made under a temporary name and renamed, so the name is never missing. */
static int replace_link(int dfd, const char *dir, const char *name, const char *target,
			struct nvb_error *err)
{
	/* Nothing of that name (a new container's root, the common case): the link is made in
	 * place, which symlinkat does atomically and without following anything. */
	if (symlinkat(target, dfd, name) == 0)
		return 0;
	if (errno != EEXIST)
		return nvb_error_errno(err, errno, NULL, "cannot create the link %s/%s in the container",
				       dir, name);
	char old[NVB_PATH_MAX];
	ssize_t n = readlinkat(dfd, name, old, sizeof(old) - 1);
	if (n >= 0 && (size_t)n == strlen(target) && !memcmp(old, target, (size_t)n))
		return 0; /* the link is there already (a restarted container) */
	char tmp[300], prefix[280];
	snprintf(prefix, sizeof(prefix), ".%s.nvbind-", name);
	nvb_temp_name(tmp, sizeof(tmp), prefix); /* symlinkat never follows nor opens it */
	if (symlinkat(target, dfd, tmp) < 0)
		return nvb_error_errno(err, errno, NULL, "cannot create the link %s/%s in the container",
				       dir, name);
	if (renameat(dfd, tmp, dfd, name) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		return nvb_error_errno(err, e, "the image has a directory where the driver's link goes",
				       "cannot create the link %s/%s -> %s in the container", dir, name,
				       target);
	}
	return 0;
}

/* An extra link only where the image has nothing of that name (its own libGLX_indirect.so.0
 * or libcuda.so stays). */
static int add_link_if_absent(int dfd, const struct nvb_lib_link *k, struct nvb_error *err)
{
	const char *base = k->link + nvb_libplan_dir_len(k->link) + 1;
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		nvb_debug("hooks", "%s is in the image: left as it is", k->link);
		return 0;
	}
	if (symlinkat(k->target, dfd, base) < 0 && errno != EEXIST)
		return nvb_error_errno(err, errno, NULL, "cannot create the link %s -> %s in the container",
				       k->link, k->target);
	return 0;
}

/* /etc/ld.so.conf.d/00-nvbind.conf keeps the folders for an ldconfig run inside the container. */
static int write_ldconf(int rootfd, char *const *folders, size_t n, struct nvb_error *err)
{
	_cleanup_close_ int dfd = nvb_mkdir_in_root(rootfd, "container", "/etc/ld.so.conf.d", 0755, err);
	if (dfd < 0)
		return -1;
	char text[8192];
	size_t off = (size_t)snprintf(text, sizeof(text), "# driver libraries injected by nvbind\n");
	for (size_t i = 0; i < n && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s\n", folders[i]);
	if (off >= sizeof(text))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "too many library folders");
	/* a new file of a random name: the image can plant nothing (a FIFO) there in advance, and
	 * O_EXCL never opens what is already there */
	char tmp[64];
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		nvb_temp_name(tmp, sizeof(tmp), "." NVB_LDCONF_NAME ".");
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL,
				       "cannot write /etc/ld.so.conf.d/" NVB_LDCONF_NAME " in the container");
	bool ok = write(fd, text, off) == (ssize_t)off;
	int e = errno;
	close(fd);
	if (!ok || renameat(dfd, tmp, dfd, NVB_LDCONF_NAME) < 0) {
		e = ok ? errno : e;
		unlinkat(dfd, tmp, 0);
		return nvb_error_errno(err, e, NULL,
				       "cannot write /etc/ld.so.conf.d/" NVB_LDCONF_NAME " in the container");
	}
	return 0;
}

int nvb_libplan_apply(int rootfd, const struct nvb_libplan *plan, struct nvb_error *err)
{
	if (plan->n_libs == 0 && plan->n_links == 0)
		return 0;
	struct dirs d = {0};
	struct nvb_ldcache_add *adds = calloc(plan->n_libs + 1, sizeof(*adds));
	char **paths = calloc(plan->n_libs + 1, sizeof(*paths));
	char **folders = calloc(plan->n_libs + 1, sizeof(*folders));
	size_t n_folders = 0;
	int r = -1;
	if (!adds || !paths || !folders) {
		nvb_error_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < plan->n_libs; i++) {
		const struct nvb_lib *l = &plan->libs[i];
		size_t dl = nvb_libplan_dir_len(l->path);
		const char *base = l->path + dl + 1;
		/* in the driver folder the SONAME link is made already; the wrapper runs before the
		 * folder is even mounted, so nothing is looked at there */
		if (strcmp(base, l->soname) != 0 && !nvb_libplan_in_folder(l->path)) {
			int dfd = dir_fd(&d, rootfd, l->path, err);
			_cleanup_free_ char *dir = strndup(l->path, dl); /* names it in messages */
			if (dfd < 0)
				goto out;
			if (!dir) {
				nvb_error_nomem(err);
				goto out;
			}
			if (replace_link(dfd, dir, l->soname, base, err) < 0)
				goto out;
		}
		if (!(paths[i] = nvb_asprintf("%.*s/%s", (int)dl, l->path, l->soname))) {
			nvb_error_nomem(err);
			goto out;
		}
		adds[i] = (struct nvb_ldcache_add){.name = l->soname, .path = paths[i], .flags = l->flags};
	}
	for (size_t i = 0; i < plan->n_links; i++) {
		const struct nvb_lib_link *k = &plan->links[i];
		if (nvb_libplan_in_folder(k->link))
			continue; /* libcuda.so and the like: made in the folder */
		int dfd = dir_fd(&d, rootfd, k->link, err);
		if (dfd < 0)
			goto out;
		/* A program's, a configuration file's or firmware's place: it stands for the mount
		 * the file would otherwise have had, which hides what the image has there (a stale
		 * nvidia-smi of another driver, an empty mount point left by `docker commit`). */
		if (nvb_libplan_in_folder(k->target)) {
			size_t dl = nvb_libplan_dir_len(k->link);
			_cleanup_free_ char *dir = strndup(k->link, dl ? dl : 1);
			if (!dir) {
				nvb_error_nomem(err);
				goto out;
			}
			if (replace_link(dfd, dir, k->link + dl + 1, k->target, err) < 0)
				goto out;
		} else if (add_link_if_absent(dfd, k, err) < 0) {
			goto out;
		}
	}
	/* only the libraries' folders go in the loader configuration */
	for (size_t i = 0; i < plan->n_libs; i++) {
		size_t dl = nvb_libplan_dir_len(plan->libs[i].path);
		bool seen = false;
		for (size_t k = 0; k < n_folders && !seen; k++)
			seen = strlen(folders[k]) == dl && !strncmp(folders[k], plan->libs[i].path, dl);
		if (!seen && !(folders[n_folders++] = strndup(plan->libs[i].path, dl ? dl : 1))) {
			nvb_error_nomem(err);
			goto out;
		}
	}
	if (plan->n_libs > 0 && (write_ldconf(rootfd, folders, n_folders, err) < 0 ||
				 nvb_ldcache_update_in_root(rootfd, adds, plan->n_libs, err) < 0))
		goto out;
	r = 0;
out:
	for (size_t i = 0; paths && i < plan->n_libs; i++)
		free(paths[i]);
	free(paths);
	for (size_t i = 0; i < n_folders; i++)
		free(folders[i]);
	free(folders);
	free(adds);
	dirs_clear(&d);
	return r;
}

/* ---------------------------------------------------------------- legacy hooks */

int nvb_hook_create_symlinks(int rootfd, char *const *links, size_t n, struct nvb_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *sep = strstr(links[i], "::");
		if (!sep || sep == links[i] || sep[2] != '/')
			return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --link TARGET::/ABSOLUTE/LINK",
					     "invalid --link '%s'", links[i]);
		_cleanup_free_ char *target = strndup(links[i], (size_t)(sep - links[i]));
		if (!target)
			return nvb_error_nomem(err);
		if (nvb_symlink_in_root(rootfd, "container", target, sep + 2, err) < 0)
			return -1;
	}
	return 0;
}

/* One folder of a legacy update-ldcache hook: every regular lib*.so* file with a SONAME whose
 * name exists in the same folder is registered as folder/SONAME. */
static int scan_folder(int rootfd, const char *folder, struct nvb_ldcache_add **adds, size_t *n,
		       char ***owned, size_t *n_owned, struct nvb_error *err)
{
	struct nvb_error ignored;
	int dfd = nvb_open_in_root(rootfd, "container", folder, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	if (dfd < 0)
		return 0; /* a folder the image does not have: nothing to register */
	_cleanup_closedir_ DIR *dir = nvb_fdopendir(dfd);
	if (!dir)
		return nvb_error_errno(err, errno, NULL, "reading %s in the container", folder);
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = nvb_readdir(dir))) {
		if (strncmp(de->d_name, "lib", 3) || !strstr(de->d_name, ".so"))
			continue;
		int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		struct nvb_elf_info elf;
		uint32_t flags;
		if (fd < 0)
			continue;
		bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			  nvb_elf_read_fd(fd, de->d_name, &elf, &ignored) == 0 && elf.soname[0] &&
			  nvb_libplan_name_ok(elf.soname) &&
			  nvb_ldcache_elf_flags(elf.elf_class == 64 ? 2 : 1, elf.machine, &flags) == 0 &&
			  fstatat(dirfd(dir), elf.soname, &st, AT_SYMLINK_NOFOLLOW) == 0;
		close(fd);
		if (!ok)
			continue;
		char *name = strdup(elf.soname);
		char *path = nvb_asprintf("%s/%s", folder, elf.soname);
		struct nvb_ldcache_add *a = name && path ? nvb_array_push(adds, n, sizeof(*a)) : NULL;
		char **o = a ? nvb_array_push(owned, n_owned, 2 * sizeof(char *)) : NULL;
		if (!o) {
			free(name);
			free(path);
			r = nvb_error_nomem(err);
			break;
		}
		o[0] = name;
		o[1] = path;
		*a = (struct nvb_ldcache_add){.name = name, .path = path, .flags = flags};
	}
	return r;
}

int nvb_hook_update_ldcache(int rootfd, char *const *folders, size_t n, struct nvb_error *err)
{
	struct nvb_ldcache_add *adds = NULL;
	char **owned = NULL; /* pairs */
	size_t n_adds = 0, n_owned = 0;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		if (!nvb_libplan_path_ok(folders[i]))
			r = nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
					  "--folder '%s' must be an absolute path without '..'", folders[i]);
		else
			r = scan_folder(rootfd, folders[i], &adds, &n_adds, &owned, &n_owned, err);
	if (r == 0 && n_adds > 0 && (r = write_ldconf(rootfd, folders, n, err)) == 0)
		r = nvb_ldcache_update_in_root(rootfd, adds, n_adds, err);
	for (size_t i = 0; i < n_owned; i++) {
		free(owned[2 * i]);
		free(owned[2 * i + 1]);
	}
	free(owned);
	free(adds);
	return r;
}
