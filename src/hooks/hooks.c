/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host/elf.h"
#include "hooks/hooks.h"

#define LDCONF_NAME "00-nvbind.conf"

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

const char *nvb_host_ldconfig(void)
{
	static const char *const candidates[] = {"/sbin/ldconfig", "/usr/sbin/ldconfig"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(candidates); i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return candidates[0];
}

static bool folder_ok(const char *f)
{
	return f[0] == '/' && !strstr(f, "/../") && !nvb_str_has_suffix(f, "/..") &&
	       !strchr(f, '\n') && strlen(f) < 1024;
}

/* /etc/ld.so.conf.d/00-nvbind.conf keeps the folders for ldconfig runs inside the container. */
static int write_ldconf(int rootfd, char *const *folders, size_t n, struct nvb_error *err)
{
	_cleanup_close_ int dfd = nvb_mkdir_in_root(rootfd, "container", "/etc/ld.so.conf.d", 0755, err);
	if (dfd < 0)
		return -1;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.%ld", LDCONF_NAME, (long)getpid());
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL, "cannot write /etc/ld.so.conf.d in the container");
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return nvb_error_nomem(err);
	}
	fputs("# driver libraries injected by nvbind\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", folders[i]);
	if (fclose(f) != 0 || renameat(dfd, tmp, dfd, LDCONF_NAME) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		return nvb_error_errno(err, e, NULL, "cannot write /etc/ld.so.conf.d/" LDCONF_NAME
				       " in the container");
	}
	return 0;
}

/* The host's ldconfig as a sealed memfd: what runs is exactly the host binary, whatever the
 * container does to paths afterwards (CVE-2024-0135/0136/0137). */
static int sealed_copy(const char *path, struct nvb_error *err)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return nvb_error_errno(err, errno, "install libc-bin", "host ldconfig %s", path);
	struct nvb_elf_info elf;
	if (nvb_elf_read_fd(src, path, &elf, err) < 0)
		return -1;
	if (elf.has_interp)
		return nvb_error_set(err, NVB_ERR_SECURITY, 0,
				     "use a statically linked ldconfig (glibc's default build)",
				     "%s is dynamically linked: it would load the container's libc "
				     "inside the container root; refused", path);
	struct stat st;
	if (fstat(src, &st) < 0)
		return nvb_error_errno(err, errno, NULL, "stat %s", path);
	int mfd = memfd_create("ldconfig", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return nvb_error_errno(err, errno, NULL, "memfd_create");
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(mfd);
			return nvb_error_errno(err, e, NULL, "copying %s", path);
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int e = errno;
		close(mfd);
		return nvb_error_errno(err, e, NULL, "sealing the copy of %s", path);
	}
	return mfd;
}

static void __attribute__((noreturn)) run_ldconfig(int rootfd, int mfd, char *const *folders, size_t n)
{
	/* fresh mount namespace: nothing we do here is seen by the container or the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("nvbind: update-ldcache: making mounts private");
		_exit(126);
	}
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		perror("nvbind: update-ldcache: chroot into the container");
		_exit(126);
	}
	char *argv[64 + 2];
	size_t a = 0;
	argv[a++] = (char *)"ldconfig";
	for (size_t i = 0; i < n && a < 64 + 1; i++)
		argv[a++] = folders[i];
	argv[a] = NULL;
	char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	fexecve(mfd, argv, envp);
	perror("nvbind: update-ldcache: exec ldconfig");
	_exit(127);
}

static int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int nvb_hook_update_ldcache(int rootfd, char *const *folders, size_t n, const char *ldconfig,
			    struct nvb_error *err)
{
	if (n > 64)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "too many --folder (64 at most)");
	for (size_t i = 0; i < n; i++)
		if (!folder_ok(folders[i]))
			return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
					     "--folder '%s' must be an absolute path without '..'",
					     folders[i]);
	_cleanup_close_ int etc = nvb_mkdir_in_root(rootfd, "container", "/etc", 0755, err);
	if (etc < 0 || write_ldconf(rootfd, folders, n, err) < 0)
		return -1;
	_cleanup_close_ int mfd = sealed_copy(ldconfig, err);
	if (mfd < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return nvb_error_errno(err, errno, NULL, "fork");
	if (pid == 0) {
		/* new mount and pid namespaces: ldconfig sees no host process and its mounts
		 * die with it (CVE-2025-23267) */
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0) {
			perror("nvbind: update-ldcache: unshare");
			_exit(126);
		}
		pid_t inner = fork();
		if (inner < 0)
			_exit(126);
		if (inner == 0)
			run_ldconfig(rootfd, mfd, folders, n);
		_exit(wait_child(inner));
	}
	int rc = wait_child(pid);
	if (rc != 0)
		return nvb_error_set(err, NVB_ERR_IO, 0, "see ldconfig's message above",
				     "ldconfig in the container root failed (exit status %d)", rc);
	return 0;
}
