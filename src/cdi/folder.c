/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The driver folder (docs/cdi.md, "The driver folder"): the driver's libraries, programs,
 * configuration files and firmware gathered by hard links into one host folder,
 * /var/lib/nvbind/driver/VERSION-HASH, with the SONAME links made once. A spec then mounts that
 * folder once at /usr/lib/nvbind instead of mounting every file on its own: the low-level
 * runtime's per-mount work (a mount point in the container's root, a bind, a read-only remount)
 * and the SONAME links in every new container are what a GPU cost a container's start.
 *
 * Hard links, not copies: no disk space, and a package upgrade (which renames new files over
 * the old names) leaves the folder's files as they were, a consistent set. A file on another
 * file system than /var/lib/nvbind cannot be linked: it keeps its own mount. The folder's name
 * carries a hash of what it holds (each file's device, inode, size and time), so the same driver
 * gives the same folder and spec, and a changed one a new folder; folders no process mounts are
 * removed when a new one is made.
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

#include "cdi/cdi.h"
#include "cdi/libplan.h"

#define FOLDER_PARENT "/var/lib/nvbind/driver"

void nvb_driver_folder_free(struct nvb_driver_folder *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->rel[i]);
	free(f->rel);
	free(f->host_dir);
	free(f);
}

/* Where a driver file goes in the folder: 1 and *rel set; 0 when the folder does not hold
 * its kind (sockets and the like keep their own mounts); -1 when memory ran out. */
static int relative_name(const struct nvb_driver_file *f, char **rel)
{
	switch (f->kind) {
	case NVB_FILE_LIBRARY:
		*rel = nvb_asprintf("%s/%s", f->elf_class == 32 ? "lib32" : "lib", nvb_basename(f->path));
		break;
	case NVB_FILE_BINARY:
		*rel = nvb_asprintf("bin/%s", nvb_basename(f->link_path));
		break;
	case NVB_FILE_FIRMWARE:
		*rel = nvb_asprintf("firmware/%s", nvb_basename(f->path));
		break;
	case NVB_FILE_CONFIG:
		if (f->link_path[0] != '/')
			return 0;
		*rel = nvb_asprintf("files%s", f->link_path);
		break;
	default:
		return 0;
	}
	return *rel ? 1 : -1;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

struct entry {
	char *host;    /* the file as this process sees it (host root prefix + path) */
	struct stat st;
};

/* The SELinux label of the driver's own library folder (lib_t and the like), given to the
 * folder's directories: under /var/lib they would otherwise be var_lib_t, which a container's
 * type may not read (the files keep their labels: a hard link is the same inode). */
struct label {
	char value[256];
	ssize_t len; /* <= 0: none (SELinux off, or no label) */
};

static void label_fd(int fd, const struct label *l)
{
	if (l && l->len > 0 && fsetxattr(fd, "security.selinux", l->value, (size_t)l->len, 0) < 0)
		nvb_debug("cdi", "driver folder: cannot set its SELinux label: %s", strerror(errno));
}

struct build {
	const struct nvb_inventory *inv;
	struct label label;
	struct nvb_driver_folder *f;
	struct entry *e; /* per file, for those with f->rel[i] */
	int parent_fd;   /* FOLDER_PARENT in the host root */
	struct nvb_error *err;
};

/* Every file the folder can hold: a regular file on the same file system as the folder. */
static int plan_entries(struct build *b, const char *root, dev_t folder_dev, uint64_t *hash)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t held = 0;
	for (size_t i = 0; i < b->inv->n_files; i++) {
		const struct nvb_driver_file *file = &b->inv->files[i];
		char *rel = NULL;
		int kind_held = relative_name(file, &rel);
		if (kind_held < 0)
			return nvb_error_nomem(b->err);
		if (!kind_held)
			continue;
		bool taken = false; /* two files of one name: the first one found wins, as in a spec */
		for (size_t k = 0; k < i && !taken; k++)
			taken = b->f->rel[k] && !strcmp(b->f->rel[k], rel);
		struct entry *e = &b->e[i];
		if (taken || !nvb_libplan_path_ok(file->path) ||
		    !(e->host = nvb_asprintf("%s%s", strcmp(root, "/") ? root : "", file->path)) ||
		    stat(e->host, &e->st) < 0 || !S_ISREG(e->st.st_mode) || e->st.st_dev != folder_dev) {
			if (e->host && !taken)
				nvb_debug("cdi", "%s stays a mount of its own (not a regular file on the "
					  "file system of " FOLDER_PARENT ")", file->path);
			free(rel);
			continue;
		}
		b->f->rel[i] = rel;
		held++;
		uint64_t id[4] = {(uint64_t)e->st.st_dev, (uint64_t)e->st.st_ino, (uint64_t)e->st.st_size,
				  (uint64_t)e->st.st_mtime};
		h = fnv(fnv(h, rel, strlen(rel) + 1), id, sizeof(id));
		if (file->soname)
			h = fnv(h, file->soname, strlen(file->soname) + 1);
	}
	*hash = h;
	return (int)(held > 0);
}

/* The directory of rel inside dfd, created (mode 0755) where missing: an fd to close. */
static int subdir_fd(int dfd, const char *rel, const struct label *label, struct nvb_error *err)
{
	const char *slash = strrchr(rel, '/');
	_cleanup_free_ char *dir = strndup(rel, slash ? (size_t)(slash - rel) : 0);
	if (!dir)
		return nvb_error_nomem(err);
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	for (char *save = NULL, *c = strtok_r(dir, "/", &save); fd >= 0 && c; c = strtok_r(NULL, "/", &save)) {
		bool made = mkdirat(fd, c, 0755) == 0;
		if (!made && errno != EEXIST) {
			close(fd);
			return nvb_error_errno(err, errno, NULL, "cannot create %s in the driver folder", rel);
		}
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (made && fd >= 0)
			label_fd(fd, label);
	}
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL, "cannot open the folder of %s", rel);
	return fd;
}

/* The SONAME link beside a library, and libcuda.so / libGLX_indirect.so.0 as the hook would
 * make them in a container: made once here. */
static int library_links(int dfd, const struct nvb_driver_file *file, const char *rel,
			 struct nvb_error *err)
{
	const char *base = nvb_basename(rel);
	const char *so = file->soname && *file->soname ? file->soname : base;
	_cleanup_close_ int sub = subdir_fd(dfd, rel, NULL, err);
	if (sub < 0)
		return -1;
	struct {
		const char *name, *target;
	} links[3] = {{so, base}, {NULL, NULL}, {NULL, NULL}};
	if (!strcmp(so, "libcuda.so.1"))
		links[1].name = "libcuda.so", links[1].target = so;
	if (nvb_str_has_prefix(base, "libGLX_nvidia.so."))
		links[2].name = "libGLX_indirect.so.0", links[2].target = so;
	for (size_t i = 0; i < 3; i++) {
		if (!links[i].name || !strcmp(links[i].name, links[i].target) ||
		    !nvb_libplan_name_ok(links[i].name))
			continue;
		if (symlinkat(links[i].target, sub, links[i].name) < 0 && errno != EEXIST)
			return nvb_error_errno(err, errno, NULL, "cannot create the link %s in the driver folder",
					       links[i].name);
	}
	return 0;
}

/* Remove what dfd/name holds (a folder of ours: files, links, folders). */
static void remove_tree(int dfd, const char *name, int depth)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT || depth > 16)
		return;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd >= 0 ? nvb_fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = nvb_readdir(d)))
		remove_tree(dirfd(d), de->d_name, depth + 1);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Does the folder still hold, under each name, the very file the host has? */
static bool folder_intact(struct build *b, int fd)
{
	for (size_t i = 0; i < b->inv->n_files; i++) {
		struct stat st;
		if (b->f->rel[i] && (fstatat(fd, b->f->rel[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				     st.st_ino != b->e[i].st.st_ino || st.st_dev != b->e[i].st.st_dev))
			return false;
	}
	return true;
}

static int fill(struct build *b, int dfd)
{
	for (size_t i = 0; i < b->inv->n_files; i++) {
		const char *rel = b->f->rel[i];
		if (!rel)
			continue;
		_cleanup_close_ int sub = subdir_fd(dfd, rel, &b->label, b->err);
		if (sub < 0)
			return -1;
		if (linkat(AT_FDCWD, b->e[i].host, sub, nvb_basename(rel), 0) < 0)
			return nvb_error_errno(b->err, errno, NULL, "cannot link %s into the driver folder",
					       b->inv->files[i].path);
		if (b->inv->files[i].kind == NVB_FILE_LIBRARY &&
		    library_links(dfd, &b->inv->files[i], rel, b->err) < 0)
			return -1;
	}
	return 0;
}

/* Is name mounted by any process (a container started from a spec that names it)? */
static bool mounted_anywhere(const char *name)
{
	_cleanup_closedir_ DIR *proc = opendir("/proc");
	if (!proc)
		return true; /* cannot tell: keep it */
	_cleanup_free_ char *needle = nvb_asprintf("/driver/%s ", name);
	struct dirent *de;
	while (needle && (de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[64], line[4096];
		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		_cleanup_fclose_ FILE *mi = fopen(path, "re");
		while (mi && fgets(line, sizeof(line), mi))
			if (strstr(line, needle))
				return true;
	}
	return !needle;
}

/* Old folders (another driver, or files that changed) that no process mounts, and builds left
 * by a process that died. */
static void prune(int parent_fd, const char *keep)
{
	_cleanup_closedir_ DIR *d = nvb_opendirat(parent_fd, ".", 0);
	struct dirent *de;
	while (d && (de = nvb_readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, keep))
			continue;
		if (nvb_str_has_prefix(n, ".build-")) {
			long pid = strtol(n + 7, NULL, 10);
			if (pid > 0 && kill((pid_t)pid, 0) == 0)
				continue; /* another generate is building it now */
		} else if (mounted_anywhere(n)) {
			nvb_info("cdi", "driver folder %s/%s is in use by a container: kept", FOLDER_PARENT, n);
			continue;
		}
		remove_tree(dirfd(d), n, 0);
		nvb_info("cdi", "removed the old driver folder %s/%s", FOLDER_PARENT, n);
	}
}

/* Build the folder under a temporary name and rename it into place: a folder of the final
 * name is always complete. */
static int build(struct build *b, const char *name)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".build-%ld-", (long)getpid());
	char tmpname[96];
	nvb_temp_name(tmpname, sizeof(tmpname), tmp);
	if (mkdirat(b->parent_fd, tmpname, 0755) < 0)
		return nvb_error_errno(b->err, errno, NULL, "cannot create %s/%s", FOLDER_PARENT, tmpname);
	_cleanup_close_ int fd = openat(b->parent_fd, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (size_t i = 0; i < b->inv->n_files && b->label.len <= 0; i++) {
		if (!b->f->rel[i] || b->inv->files[i].kind != NVB_FILE_LIBRARY)
			continue;
		_cleanup_free_ char *dir = strdup(b->e[i].host);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash)
			*slash = '\0';
		b->label.len = slash ? lgetxattr(dir, "security.selinux", b->label.value,
						  sizeof(b->label.value)) : -1;
	}
	if (fd >= 0)
		label_fd(fd, &b->label);
	int r = fd < 0 ? nvb_error_errno(b->err, errno, NULL, "cannot open %s/%s", FOLDER_PARENT, tmpname)
		       : fill(b, fd);
	if (r == 0 && renameat(b->parent_fd, tmpname, b->parent_fd, name) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = nvb_error_errno(b->err, errno, NULL, "cannot rename %s/%s to %s", FOLDER_PARENT,
					    tmpname, name);
		/* else another generate made the same folder first: its is as good as ours */
	}
	remove_tree(b->parent_fd, tmpname, 0); /* nothing left after a successful rename */
	return r;
}

static void version_word(const struct nvb_inventory *inv, char *out, size_t cap)
{
	const char *v = inv->driver.version && *inv->driver.version ? inv->driver.version : "unknown";
	size_t i = 0;
	for (; v[i] && i + 1 < cap && i < 32; i++)
		out[i] = isalnum((unsigned char)v[i]) || v[i] == '.' || v[i] == '-' ? v[i] : '_';
	out[i] = '\0';
}

/* VERSION-HASH of the folder the files would make (1), or 0 when none can go in it. */
static int folder_name(struct build *b, const char *root, dev_t dev, char *name, size_t cap)
{
	uint64_t hash = 0;
	int held = plan_entries(b, root, dev, &hash);
	if (held <= 0)
		return held;
	char version[40];
	version_word(b->inv, version, sizeof(version));
	snprintf(name, cap, "%s-%016llx", version, (unsigned long long)hash);
	return 1;
}

static int ensure(struct build *b, const char *root)
{
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return nvb_error_errno(b->err, errno, NULL, "cannot open the host root %s", root);
	b->parent_fd = nvb_mkdir_in_root(rootfd, "host", FOLDER_PARENT, 0755, b->err);
	if (b->parent_fd < 0)
		return -1;
	struct stat pst;
	if (fstat(b->parent_fd, &pst) < 0)
		return nvb_error_errno(b->err, errno, NULL, "cannot stat %s", FOLDER_PARENT);
	/* A host root on overlayfs (a driver container's root file system): a hard link to a
	 * file of a lower layer copies the whole file up, which is no longer free */
	struct statfs fs;
	if (fstatfs(b->parent_fd, &fs) == 0 && fs.f_type == 0x794c7630 /* OVERLAYFS_SUPER_MAGIC */) {
		nvb_info("cdi", "no driver folder: %s is on overlayfs, where a hard link copies the "
			 "file: every driver file is a mount of its own", FOLDER_PARENT);
		return 0;
	}
	char name[80];
	int held = folder_name(b, root, pst.st_dev, name, sizeof(name));
	if (held <= 0)
		return held; /* 0: nothing could go in it (every file on another file system) */
	bool made = false;
	int fd = openat(b->parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !folder_intact(b, fd)) {
		nvb_warn("cdi", "driver folder %s/%s lost files: made again", FOLDER_PARENT, name);
		close(fd);
		fd = -1;
		remove_tree(b->parent_fd, name, 0);
	}
	if (fd < 0) {
		if (build(b, name) < 0)
			return -1;
		made = true;
		fd = openat(b->parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !folder_intact(b, fd)) {
			if (fd >= 0)
				close(fd);
			return nvb_error_set(b->err, NVB_ERR_IO, 0, NULL,
					     "the driver folder %s/%s changed while it was made", FOLDER_PARENT, name);
		}
	}
	close(fd);
	if (made)
		prune(b->parent_fd, name);
	if (!(b->f->host_dir = nvb_asprintf(FOLDER_PARENT "/%s", name)))
		return nvb_error_nomem(b->err);
	return 1;
}

static int build_init(struct build *b, const struct nvb_inventory *inv, struct nvb_error *err)
{
	*b = (struct build){.inv = inv, .parent_fd = -1, .err = err,
			    .f = calloc(1, sizeof(struct nvb_driver_folder)),
			    .e = calloc(inv->n_files + 1, sizeof(struct entry))};
	if (b->f && (b->f->rel = calloc(inv->n_files + 1, sizeof(char *))))
		b->f->n = inv->n_files;
	return b->f && b->f->rel && b->e ? 0 : nvb_error_nomem(err);
}

static void build_clear(struct build *b)
{
	if (b->parent_fd >= 0)
		close(b->parent_fd);
	for (size_t i = 0; b->e && i < b->inv->n_files; i++)
		free(b->e[i].host);
	free(b->e);
	nvb_driver_folder_free(b->f);
}

int nvb_driver_folder_ensure(const char *host_root, const struct nvb_inventory *inv,
			     struct nvb_driver_folder **out, struct nvb_error *err)
{
	*out = NULL;
	struct build b;
	if (!inv->n_files)
		return 0;
	int r = build_init(&b, inv, err);
	if (r == 0)
		r = ensure(&b, host_root && *host_root ? host_root : "/");
	if (r > 0) {
		*out = b.f;
		b.f = NULL;
	}
	build_clear(&b);
	return r;
}

int nvb_driver_folder_name(const char *host_root, const struct nvb_inventory *inv, char *name,
			   size_t cap)
{
	struct nvb_error err;
	struct build b;
	const char *root = host_root && *host_root ? host_root : "/";
	name[0] = '\0';
	if (!inv->n_files || build_init(&b, inv, &err) < 0)
		return 0;
	/* the file system the folder would be on: FOLDER_PARENT's, or its nearest existing parent's */
	_cleanup_free_ char *p = nvb_asprintf("%s" FOLDER_PARENT, strcmp(root, "/") ? root : "");
	struct stat st;
	int r = 0;
	while (p && stat(p, &st) < 0 && strlen(p) > 1) {
		char *slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (p && stat(p, &st) == 0)
		r = folder_name(&b, root, st.st_dev, name, cap);
	build_clear(&b);
	return r > 0;
}

struct nvb_driver_folder *nvb_driver_folder_for_spec(const char *host_root,
						     const struct nvb_inventory *inv)
{
	if (inv->driver.vendor != NVB_VENDOR_NVIDIA)
		return NULL; /* AMD and Intel specs mount no files */
	struct nvb_driver_folder *f = NULL;
	struct nvb_error err;
	nvb_error_clear(&err);
	if (nvb_driver_folder_ensure(host_root, inv, &f, &err) < 0) {
		/* not root (a user's generate), a read-only /var: the files are mounted one by one,
		 * which works everywhere; only root's specs for the engines need the folder */
		enum nvb_log_level level = err.sys_errno == EACCES || err.sys_errno == EPERM ||
						   err.sys_errno == EROFS
					       ? NVB_LOG_INFO
					       : NVB_LOG_WARN;
		nvb_log_write(level, "cdi", "no driver folder (%s): every driver file is a mount of its own",
			      err.message);
		return NULL;
	}
	return f;
}

const char *nvb_driver_folder_of(const char *host_path)
{
	const char *at = strstr(host_path, FOLDER_PARENT "/");
	if (!at)
		return NULL;
	const char *name = at + strlen(FOLDER_PARENT) + 1;
	return *name && !strchr(name, '/') ? name : NULL;
}
