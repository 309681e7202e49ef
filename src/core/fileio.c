/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files nvbind writes and reads whole: opened without blocking and checked to be regular
 * files; replaced atomically (temporary file in the same directory, rename), with or without
 * the fsyncs that make the replacement durable, or written through a symbolic link.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "core/core.h"

const char *nvb_file_type_name(mode_t mode)
{
	return S_ISDIR(mode)    ? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)  ? "a character device"
	       : S_ISBLK(mode)  ? "a block device"
	       : S_ISLNK(mode)  ? "a symbolic link"
	       : S_ISREG(mode)  ? "a regular file"
				: "not a regular file";
}

int nvb_open_regular(int dirfd, const char *path, int flags, const char *what,
		     struct nvb_error *err)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer forever */
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL, "cannot open %s %s", what, path);
	struct stat st;
	int fl;
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && ((fl = fcntl(fd, F_GETFL)) < 0 ||
							  fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))) {
		int e = errno;
		close(fd);
		return nvb_error_errno(err, e, NULL, "cannot read %s %s", what, path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nvb_error_set(err, NVB_ERR_INVALID, 0, "it must be a regular file",
				     "%s %s is %s, not a regular file", what, path,
				     nvb_file_type_name(st.st_mode));
	}
	return fd;
}

/* Specs say what enters containers and what runs as root on the host (hooks): a spec file or
 * directory anyone can write is worth a warning wherever specs are read. */
/* Writers of path hold an exclusive flock on their temporary file (".<base>.tmp.<pid>.<random>")
 * from its creation until after the rename. One that can be locked has lost its writer (a
 * crash, SIGKILL, power loss) and is removed, so killed writers leave no debris behind the
 * next one; a live writer's file is never touched, whatever PID namespace it runs in. */
static void remove_stale_temps(int dfd, const char *prefix)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t plen = strlen(prefix);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		int tfd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (tfd < 0)
			continue;
		struct stat st;
		if (fstat(tfd, &st) == 0 && S_ISREG(st.st_mode) && flock(tfd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, de->d_name, 0);
		close(tfd);
	}
	closedir(d);
}

/* Create and lock a temporary file named prefix<pid>.<random> in dfd; its name in tmp. */
static int create_temp(int dfd, const char *prefix, unsigned mode, char *tmp, size_t cap)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		/* random per call, not random(): every process starts with the same random() */
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = ((uint64_t)clock() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)attempt;
		snprintf(tmp, cap, "%s%ld.%016llx", prefix, (long)getpid(), (unsigned long long)r);
		int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		/* Another writer's clean-up may have locked and removed it before our flock: then the
		 * lock fails, or the name no longer leads to this file. A file system without flock
		 * (ENOLCK, EOPNOTSUPP) fails the clean-up's lock too, so the file is safe unlocked. */
		struct stat a, b;
		if ((flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK) && fstat(fd, &a) == 0 &&
		    fstatat(dfd, tmp, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	errno = EEXIST;
	return -1;
}

/* Write to a temporary file in path's directory, then rename it over path. uid/gid (-1: leave
 * as created) give the new file an owner. durable: fsync the file before the rename and the
 * directory after it (without: atomic, and no disk flush). */
static int write_atomic(const char *path, const char *data, size_t len, unsigned mode, uid_t uid,
			gid_t gid, bool durable, struct nvb_error *err)
{
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return nvb_error_nomem(err);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	const char *dirname = slash ? (*dir ? dir : "/") : ".";
	_cleanup_close_ int dfd = open(dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return nvb_error_errno(err, errno, "create the directory first, or choose another --output",
				       "cannot open directory %s for %s", dirname, path);
	/* A unique temporary name per writer: two generators running at once never share one,
	 * and rename() makes whichever finishes last win with a complete file. */
	char prefix[220], tmp[300];
	snprintf(prefix, sizeof(prefix), ".%.200s.tmp.", base);
	remove_stale_temps(dfd, prefix);
	int fd = create_temp(dfd, prefix, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL, "cannot create a temporary file in %s", dirname);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			unlinkat(dfd, tmp, 0);
			return nvb_error_errno(err, e, NULL, "cannot write %s", path);
		}
		off += (size_t)w;
	}
	/* owner before mode: fchown clears set-id bits */
	if ((uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) || fchmod(fd, mode) < 0 ||
	    (durable && fsync(fd) < 0)) {
		int e = errno;
		close(fd);
		unlinkat(dfd, tmp, 0);
		return nvb_error_errno(err, e, NULL, "cannot write %s", path);
	}
	if (renameat(dfd, tmp, dfd, base) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		close(fd);
		return nvb_error_errno(err, e, NULL, "cannot replace %s", path);
	}
	close(fd); /* only now: the lock keeps other writers' clean-up away until the rename */
	if (durable)
		fsync(dfd);
	return 0;
}

int nvb_write_file_atomic(const char *path, const char *data, size_t len, unsigned mode,
			  struct nvb_error *err)
{
	return write_atomic(path, data, len, mode, (uid_t)-1, (gid_t)-1, true, err);
}

int nvb_write_file_replace(const char *path, const char *data, size_t len, unsigned mode,
			   struct nvb_error *err)
{
	return write_atomic(path, data, len, mode, (uid_t)-1, (gid_t)-1, false, err);
}

int nvb_write_file_new(const char *path, const char *data, size_t len, unsigned mode,
		       struct nvb_error *err)
{
	/* An unnamed file (O_TMPFILE) given its name only once it is whole: no temporary name
	 * exists at any time, so there is nothing for a crash to leave and no directory scan.
	 * linkat never replaces: a name already there (or a file system without O_TMPFILE, no
	 * /proc) takes the rename path of nvb_write_file_replace. */
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash || slash == dir)
		return nvb_write_file_replace(path, data, len, mode, err);
	*slash = '\0';
	_cleanup_close_ int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (fd < 0)
		return nvb_write_file_replace(path, data, len, mode, err);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return nvb_error_errno(err, w < 0 ? errno : EIO, NULL, "cannot write %s", path);
		off += (size_t)w;
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchmod(fd, mode) < 0 || linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
		return nvb_write_file_replace(path, data, len, mode, err);
	return 0;
}

int nvb_write_file_through(const char *path, const char *data, size_t len, unsigned mode,
			   struct nvb_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return nvb_error_errno(err, errno, NULL, "cannot replace %s", path);
		return write_atomic(path, data, len, mode, (uid_t)-1, (gid_t)-1, true, err);
	}
	_cleanup_free_ char *target = NULL;
	if (S_ISLNK(st.st_mode)) {
		/* a daemon.json kept elsewhere (configuration management, a dotfiles tree): replace
		 * the file the link names and keep the link */
		target = realpath(path, NULL);
		if (!target)
			return nvb_error_errno(err, errno, "fix or remove the symbolic link",
					       "%s is a symbolic link to a file that cannot be "
					       "resolved: refusing to replace it", path);
		if (stat(target, &st) < 0)
			return nvb_error_errno(err, errno, NULL, "cannot replace %s (the file %s links to)",
					       target, path);
	}
	if (!S_ISREG(st.st_mode))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, "it must be a regular file",
				     "%s%s%s%s is %s: refusing to replace it", target ? target : path,
				     target ? " (where the link " : "", target ? path : "",
				     target ? " points)" : "", nvb_file_type_name(st.st_mode));
	if (target)
		nvb_info("config", "%s is a symbolic link: writing %s", path, target);
	return write_atomic(target ? target : path, data, len, st.st_mode & 07777, st.st_uid,
			    st.st_gid, true, err);
}
