/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path resolution inside a root directory, by file descriptor.
 *
 * The one resolver nvbind uses for the host root and for container root filesystems
 * (docs/design/security.md): each component is opened with O_PATH|O_NOFOLLOW relative to
 * the descriptor of its parent, symlinks are read from the opened descriptor (so a link
 * swapped in after a check is still seen as a link), absolute link targets restart at the
 * root and ".." never climbs above it. Nothing is resolved by string concatenation.
 */
#include "core/core.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_DEPTH 512

struct walk {
	int fds[MAX_DEPTH + 1]; /* fds[0] is the root (borrowed), fds[1..depth] owned */
	size_t name_end[MAX_DEPTH + 1];
	size_t depth;
	char path[NVB_PATH_MAX]; /* resolved path, "" meaning "/" */
	size_t path_len;
	unsigned mkdir_mode; /* 0: missing components are errors; else created with this mode */
};

static void walk_init(struct walk *w, int rootfd)
{
	w->depth = 0;
	w->fds[0] = rootfd;
	w->name_end[0] = 0;
	w->path_len = 0;
	w->path[0] = '\0';
	w->mkdir_mode = 0;
}

static void walk_pop(struct walk *w)
{
	if (w->depth == 0)
		return;
	close(w->fds[w->depth]);
	w->depth--;
	w->path_len = w->depth ? w->name_end[w->depth] : 0;
	w->path[w->path_len] = '\0';
}

static void walk_reset(struct walk *w)
{
	while (w->depth > 0)
		walk_pop(w);
}

static int walk_push(struct walk *w, int fd, const char *name, size_t len, const char *what,
		     const char *orig, struct nvb_error *err)
{
	if (w->depth >= MAX_DEPTH || w->path_len + 1 + len >= sizeof(w->path)) {
		close(fd);
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, NULL,
				     "%s path %s: too long or too deep", what, orig);
	}
	w->path[w->path_len++] = '/';
	memcpy(w->path + w->path_len, name, len);
	w->path_len += len;
	w->path[w->path_len] = '\0';
	w->depth++;
	w->fds[w->depth] = fd;
	w->name_end[w->depth] = w->path_len;
	return 0;
}

/* Replace the not yet consumed part of the path (rest) by target + "/" + rest. */
static int splice_link(char *buf, size_t cap, const char *target, const char *rest)
{
	size_t lt = strlen(target), lr = strlen(rest);
	if (lt + 1 + lr + 1 > cap)
		return -1;
	memmove(buf + lt + 1, rest, lr + 1);
	memcpy(buf, target, lt);
	buf[lt] = '/';
	return 0;
}

static int walk_run(struct walk *w, const char *what, const char *orig, unsigned flags,
		    struct nvb_error *err)
{
	char buf[NVB_PATH_MAX * 2];
	if (strlen(orig) >= NVB_PATH_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, NULL,
				     "%s path is too long: %.64s...", what, orig);
	snprintf(buf, sizeof(buf), "%s", orig);
	int links = 0;
	char *rest = buf;
	while (*rest) {
		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		char *name = rest;
		size_t len = strcspn(rest, "/");
		rest += len;
		int is_last = (rest[strspn(rest, "/")] == '\0');
		if (*rest)
			*rest++ = '\0';
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			walk_pop(w); /* at the root, ".." is the root itself */
			continue;
		}
		int fd = openat(w->fds[w->depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && w->mkdir_mode) {
			/* mkdir -p, component by component, after symlinks were followed: a dangling
			 * link in the image gets its target created inside the root */
			if (mkdirat(w->fds[w->depth], name, w->mkdir_mode) < 0 && errno != EEXIST)
				return nvb_error_errno(err, errno, NULL, "%s path %s: cannot create %s/%s",
						       what, orig, w->path, name);
			fd = openat(w->fds[w->depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return nvb_error_errno(err, errno, NULL, "%s path %s: cannot open %s/%s",
					       what, orig, w->path, name);
		struct stat st;
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return nvb_error_errno(err, e, NULL, "%s path %s: stat", what, orig);
		}
		if (S_ISLNK(st.st_mode) && !(is_last && (flags & NVB_RESOLVE_NOFOLLOW_LAST))) {
			char target[NVB_PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (n <= 0)
				return nvb_error_errno(err, n < 0 ? errno : EINVAL, NULL,
						       "%s path %s: cannot read link %s/%s", what,
						       orig, w->path, name);
			target[n] = '\0';
			if (++links > NVB_MAX_SYMLINKS)
				return nvb_error_set(err, NVB_ERR_SECURITY, ELOOP,
						     "remove the symlink loop",
						     "%s path %s: too many levels of symbolic links",
						     what, orig);
			if (target[0] == '/')
				walk_reset(w);
			/* rest may point into buf: splice in place */
			char tail[NVB_PATH_MAX * 2];
			snprintf(tail, sizeof(tail), "%s", rest);
			if (splice_link(buf, sizeof(buf), target, tail) < 0)
				return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, NULL,
						     "%s path %s: expands beyond %d bytes", what,
						     orig, NVB_PATH_MAX);
			rest = buf;
			continue;
		}
		if (!is_last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return nvb_error_set(err, NVB_ERR_NOT_FOUND, ENOTDIR, NULL,
					     "%s path %s: %s/%s is not a directory", what, orig,
					     w->path, name);
		}
		if (walk_push(w, fd, name, len, what, orig, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Fast path: openat2(RESOLVE_IN_ROOT) does the same walk in the kernel, in one system call
 * (Linux 5.6+). The resolved path comes from the descriptor's /proc/self/fd link, relative to
 * the root's own. Returns -2 when openat2 is unavailable (old kernel, seccomp) or the path
 * cannot be recovered, so the caller walks in user space instead.
 */
#define NO_OPENAT2 (-2)
static int openat2_available = 1;

void nvb_resolve_use_openat2(bool enable)
{
	openat2_available = enable;
}

static int fd_path(int fd, char *buf, size_t cap)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, cap - 1);
	if (n <= 0 || buf[0] != '/')
		return -1;
	buf[n] = '\0';
	return 0;
}

static int kernel_resolve(int rootfd, const char *root_path, const char *what, const char *path,
			  unsigned flags, int open_flags, char **resolved, struct nvb_error *err)
{
	if (!openat2_available)
		return NO_OPENAT2;
	struct open_how how = {
		.flags = (uint64_t)(open_flags | O_CLOEXEC) |
			 ((flags & NVB_RESOLVE_NOFOLLOW_LAST) ? O_NOFOLLOW : 0),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG)) {
		openat2_available = 0;
		return NO_OPENAT2;
	}
	if (fd < 0 && errno == EAGAIN)
		return NO_OPENAT2; /* a concurrent rename: let the walk decide */
	if (fd < 0) {
		if (errno == ENOTDIR)
			return nvb_error_set(err, NVB_ERR_NOT_FOUND, ENOTDIR, NULL,
					     "%s path %s: a component is not a directory", what, path);
		return nvb_error_errno(err, errno, NULL, "%s path %s", what, path);
	}
	if (!resolved)
		return fd;
	char root[NVB_PATH_MAX], full[NVB_PATH_MAX];
	if (root_path) /* the caller knows it (the host handle): one readlink less per lookup */
		snprintf(root, sizeof(root), "%s", root_path);
	if ((!root_path && fd_path(rootfd, root, sizeof(root)) < 0) || fd_path(fd, full, sizeof(full)) < 0) {
		close(fd);
		return NO_OPENAT2;
	}
	size_t lr = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(full, root, lr) != 0 || (full[lr] != '/' && full[lr] != '\0')) {
		close(fd);
		return NO_OPENAT2; /* e.g. a " (deleted)" suffix */
	}
	*resolved = strdup(full[lr] ? full + lr : "/");
	if (!*resolved) {
		close(fd);
		return nvb_error_nomem(err);
	}
	return fd;
}

static int resolved_copy(const struct walk *w, char **resolved, struct nvb_error *err)
{
	if (!resolved)
		return 0;
	*resolved = strdup(w->path_len ? w->path : "/");
	return *resolved ? 0 : nvb_error_nomem(err);
}

int nvb_resolve_in_root(int rootfd, const char *what, const char *path, unsigned flags,
			char **resolved, struct nvb_error *err)
{
	return nvb_resolve_in_known_root(rootfd, NULL, what, path, flags, resolved, err);
}

int nvb_resolve_in_known_root(int rootfd, const char *root_path, const char *what, const char *path,
			      unsigned flags, char **resolved, struct nvb_error *err)
{
	if (strlen(path) >= NVB_PATH_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, NULL,
				     "%s path is too long: %.64s...", what, path);
	int kfd = kernel_resolve(rootfd, root_path, what, path, flags, O_PATH, resolved, err);
	if (kfd != NO_OPENAT2)
		return kfd;
	struct walk w;
	walk_init(&w, rootfd);
	int r = walk_run(&w, what, path, flags, err);
	int fd = -1;
	if (r == 0 && resolved_copy(&w, resolved, err) == 0) {
		if (w.depth == 0) {
			fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				nvb_error_errno(err, errno, NULL, "%s root", what);
		} else {
			fd = w.fds[w.depth];
			w.depth--; /* keep the top descriptor: it is the result */
		}
	}
	walk_reset(&w);
	return fd;
}

static int open_walk(int rootfd, const char *root_path, const char *what, const char *path,
		     unsigned mkdir_mode, int open_flags, char **resolved, struct nvb_error *err)
{
	if (strlen(path) >= NVB_PATH_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, NULL,
				     "%s path is too long: %.64s...", what, path);
	if (!mkdir_mode) {
		int kfd = kernel_resolve(rootfd, root_path, what, path, 0, open_flags, resolved, err);
		if (kfd != NO_OPENAT2)
			return kfd;
	} else {
		/* A directory that exists (/etc, /usr/bin: the common case) in one openat2 instead
		 * of a walk, by the same rule. Anything else (a missing component to create, an
		 * error) is the walk's to decide and report. */
		struct nvb_error ignored;
		int kfd = kernel_resolve(rootfd, root_path, what, path, 0, open_flags, resolved, &ignored);
		if (kfd >= 0)
			return kfd;
	}
	struct walk w;
	walk_init(&w, rootfd);
	w.mkdir_mode = mkdir_mode;
	int fd = -1;
	if (walk_run(&w, what, path, 0, err) < 0)
		goto out;
	if (w.depth == 0) {
		fd = openat(rootfd, ".", open_flags | O_CLOEXEC);
	} else {
		/* Reopen the last component from its parent with O_NOFOLLOW: if it was swapped
		 * for a symlink since it was resolved, this fails instead of following it. */
		const char *last_name = w.path + w.name_end[w.depth - 1] + 1;
		fd = openat(w.fds[w.depth - 1], last_name, open_flags | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		nvb_error_errno(err, errno, NULL, "cannot open %s path %s", what, path);
		goto out;
	}
	if (resolved_copy(&w, resolved, err) < 0) {
		close(fd);
		fd = -1;
	}
out:
	walk_reset(&w);
	return fd;
}

int nvb_open_in_root(int rootfd, const char *what, const char *path, int open_flags,
		     char **resolved, struct nvb_error *err)
{
	return open_walk(rootfd, NULL, what, path, 0, open_flags, resolved, err);
}

int nvb_open_in_known_root(int rootfd, const char *root_path, const char *what, const char *path,
			   int open_flags, char **resolved, struct nvb_error *err)
{
	return open_walk(rootfd, root_path, what, path, 0, open_flags, resolved, err);
}

int nvb_mkdir_in_root(int rootfd, const char *what, const char *path, unsigned mode,
		      struct nvb_error *err)
{
	return open_walk(rootfd, NULL, what, path, mode ? mode : 0755, O_RDONLY | O_DIRECTORY, NULL, err);
}

int nvb_read_fd(int fd, const char *name, size_t max, char **data, size_t *len,
		struct nvb_error *err)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return nvb_error_nomem(err);
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return nvb_error_set(err, NVB_ERR_INVALID, EFBIG, NULL,
						     "%s: larger than the %zu bytes allowed", name,
						     max);
			}
			cap *= 2;
			char *p = realloc(buf, cap + 1);
			if (!p) {
				free(buf);
				return nvb_error_nomem(err);
			}
			buf = p;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return nvb_error_errno(err, e, NULL, "cannot read %s", name);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return nvb_error_set(err, NVB_ERR_INVALID, EFBIG, NULL,
				     "%s: larger than the %zu bytes allowed", name, max);
	}
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return 0;
}
