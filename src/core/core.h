/* SPDX-License-Identifier: Apache-2.0 */
/* Internal core: errors, logging, cleanup helpers, rooted file access. */
#ifndef NVB_CORE_H
#define NVB_CORE_H

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "nvbind/nvbind.h"

#define NVB_INTERNAL __attribute__((visibility("hidden")))
#define NVB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NVB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- cleanup attributes (systemd style) ---- */
static inline void nvb_freep(void *p) { free(*(void **)p); }
static inline void nvb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void nvb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ __attribute__((cleanup(nvb_freep)))
#define _cleanup_close_ __attribute__((cleanup(nvb_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(nvb_fclosep)))

/* Hand an owned pointer / fd out of a cleanup variable. */
#define NVB_TAKE_PTR(p)                                                                          \
	({                                                                                       \
		__typeof__(p) _p = (p);                                                          \
		(p) = NULL;                                                                      \
		_p;                                                                              \
	})
#define NVB_TAKE_FD(fd)                                                                          \
	({                                                                                       \
		int _fd = (fd);                                                                  \
		(fd) = -1;                                                                       \
		_fd;                                                                             \
	})

/* ---- errors ---- */
/* Fill err (may be NULL) and return -1. hint may be NULL. */
NVB_INTERNAL int nvb_error_set(struct nvb_error *err, enum nvb_errc code, int sys_errno,
			       const char *hint, const char *fmt, ...) NVB_PRINTF(5, 6);
/* Same, from errno, appending ": strerror(errno)" to the message. */
NVB_INTERNAL int nvb_error_errno(struct nvb_error *err, int sys_errno, const char *hint,
				 const char *fmt, ...) NVB_PRINTF(4, 5);
/* Prefix the message of an error already set, e.g. with the file it came from. */
NVB_INTERNAL void nvb_error_prefix(struct nvb_error *err, const char *fmt, ...) NVB_PRINTF(2, 3);
NVB_INTERNAL int nvb_error_nomem(struct nvb_error *err);

/* ---- logging ---- */
NVB_INTERNAL extern enum nvb_log_level nvb_log_current;
NVB_INTERNAL void nvb_log_write(enum nvb_log_level level, const char *module, const char *fmt, ...)
	NVB_PRINTF(3, 4);
#define nvb_log(level, module, ...)                                                              \
	do {                                                                                     \
		if ((level) <= nvb_log_current)                                                  \
			nvb_log_write((level), (module), __VA_ARGS__);                           \
	} while (0)
/* Structured fields of a log line (docs/logging.md); NULL or a negative duration: absent.
 * request and gpus are space-separated lists (JSON arrays in the json format). */
struct nvb_log_fields {
	const char *container;
	const char *request;
	const char *gpus;
	long long duration_us;
	const char *error; /* nvb_errc_name */
};
/* The "program" field (default: the executable's name). */
NVB_INTERNAL void nvb_log_set_program(const char *name);
/* Fields every later line carries, once known (the wrapper's container and request); NULL
 * clears one. duration_us and error are per line only. */
NVB_INTERNAL void nvb_log_set_context(const struct nvb_log_fields *ctx);
NVB_INTERNAL void nvb_log_write_fields(enum nvb_log_level level, const char *module,
				       const struct nvb_log_fields *line, const char *fmt, ...)
	NVB_PRINTF(4, 5);
#define nvb_debug(module, ...) nvb_log(NVB_LOG_DEBUG, module, __VA_ARGS__)
#define nvb_info(module, ...) nvb_log(NVB_LOG_INFO, module, __VA_ARGS__)
#define nvb_warn(module, ...) nvb_log(NVB_LOG_WARN, module, __VA_ARGS__)

/* ---- strings ---- */
NVB_INTERNAL char *nvb_strdup(const char *s); /* NULL-safe; aborts never, returns NULL on OOM */
NVB_INTERNAL char *nvb_asprintf(const char *fmt, ...) NVB_PRINTF(1, 2);
NVB_INTERNAL char *nvb_strstrip(char *s);     /* trims spaces/tabs/newlines in place */
NVB_INTERNAL int nvb_str_has_prefix(const char *s, const char *prefix);
NVB_INTERNAL int nvb_str_has_suffix(const char *s, const char *suffix);
/* Edit distance (a swap of neighbours is one edit), for "did you mean" suggestions. */
NVB_INTERNAL size_t nvb_edit_distance(const char *a, const char *b);
/* The candidate close enough to word to be what was meant (a typo away), or NULL. */
NVB_INTERNAL const char *nvb_closest(const char *word, const char *const *candidates, size_t n);
/* "<prefix><16 random hex digits>" into buf: names for temporary files in directories an
 * image controls, where a predictable name (a pid) can be planted in advance (a FIFO). */
NVB_INTERNAL void nvb_temp_name(char *buf, size_t cap, const char *prefix);
/* Grow *array (of *n elements of size elem) by one zeroed element; returns it or NULL. */
NVB_INTERNAL void *nvb_array_push(void *array_ptr, size_t *n, size_t elem);

/* ---- files (fileio.c) ---- */
#include <sys/types.h>
/* Write atomically: temporary file in the same directory, fsync, rename, mode 0644. */
NVB_INTERNAL int nvb_write_file_atomic(const char *path, const char *data, size_t len,
				       unsigned mode, struct nvb_error *err);
/* The same atomic replacement without the fsyncs: for files whose loss in a crash loses
 * nothing (a bundle's config.json, rewritten for every container). */
NVB_INTERNAL int nvb_write_file_replace(const char *path, const char *data, size_t len,
					unsigned mode, struct nvb_error *err);
/* A file expected to be new (a container's record): made whole without a temporary name
 * (O_TMPFILE, then linked), so no directory scan for crash debris; where path exists, or the
 * file system cannot, as nvb_write_file_replace. */
NVB_INTERNAL int nvb_write_file_new(const char *path, const char *data, size_t len, unsigned mode,
				    struct nvb_error *err);
/* "YYYY-MM-DDTHH:MM:SSZ" of t (UTC) in buf (at least 21 bytes); unlike strftime, this reads no
 * time zone file. */
NVB_INTERNAL void nvb_utc_stamp(time_t t, char *buf, size_t cap);
NVB_INTERNAL void nvb_utc_tm(time_t t, struct tm *tm); /* gmtime_r without the time zone file */

/* Replace path like nvb_write_file_atomic, for files people own and arrange (daemon.json,
 * containers.conf): when path is a symbolic link, the file it names is replaced and the link
 * kept; an existing file keeps its owner and mode (mode is for a new file). */
NVB_INTERNAL int nvb_write_file_through(const char *path, const char *data, size_t len,
					unsigned mode, struct nvb_error *err);
/* Open an existing regular file for reading without ever blocking (a FIFO is refused at once,
 * as are directories and devices): what names it in messages ("CDI spec"); flags adds to
 * O_RDONLY (O_NOFOLLOW). Returns the descriptor, or -1 with err set. */
NVB_INTERNAL int nvb_open_regular(int dirfd, const char *path, int flags, const char *what,
				  struct nvb_error *err);
/* "a FIFO", "a directory", ... for messages. */
NVB_INTERNAL const char *nvb_file_type_name(mode_t mode);

/* ---- string vectors (struct nvb_strv: core/strv.h) ---- */
/* Append a copy of s to the array *v of *n strings (the CDI model's env, args, options):
 * nvb_strv_push's implementation on a bare array. -1 when memory runs out. */
NVB_INTERNAL int nvb_strv_append(char ***v, size_t *n, const char *s);

/* ---- text buffer ---- */
/* A growing string. Appending never fails visibly: running out of memory is sticky and
 * reported once, by nvb_strbuf_take, so builders need no error path per piece. */
struct nvb_strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
NVB_INTERNAL void nvb_strbuf_append(struct nvb_strbuf *b, const char *s);
NVB_INTERNAL void nvb_strbuf_appendn(struct nvb_strbuf *b, const char *s, size_t n);
NVB_INTERNAL void nvb_strbuf_appendc(struct nvb_strbuf *b, char c);
NVB_INTERNAL void nvb_strbuf_appendf(struct nvb_strbuf *b, const char *fmt, ...) NVB_PRINTF(2, 3);
NVB_INTERNAL void nvb_strbuf_vappendf(struct nvb_strbuf *b, const char *fmt, va_list ap)
	NVB_PRINTF(2, 0);
/* The text (malloc'ed, "" when nothing was appended), or NULL when memory ran out; b is
 * empty again either way. */
NVB_INTERNAL char *nvb_strbuf_take(struct nvb_strbuf *b);
NVB_INTERNAL void nvb_strbuf_free(struct nvb_strbuf *b);

/* ---- paths and words ---- */
/* The last component of path (after its last '/'; path itself when it has none). */
NVB_INTERNAL const char *nvb_basename(const char *path);
/* word quoted for a POSIX shell: bare when it needs nothing, else in single quotes.
 * malloc'ed; NULL when memory runs out. */
NVB_INTERNAL char *nvb_shell_quote(const char *word);

/* ---- directory iteration (dir.c) ---- */
#include <dirent.h>
/* A directory stream on fd, which it takes in every case (closed when this fails). */
NVB_INTERNAL DIR *nvb_fdopendir(int fd);
/* A directory stream on path relative to dirfd (O_DIRECTORY | O_CLOEXEC | extra_flags),
 * NULL with errno set. */
NVB_INTERNAL DIR *nvb_opendirat(int dirfd, const char *path, int extra_flags);
/* The next entry other than "." and "..", NULL at the end. */
NVB_INTERNAL struct dirent *nvb_readdir(DIR *d);
static inline void nvb_closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;
		closedir(*d);
		errno = saved;
	}
}
#define _cleanup_closedir_ __attribute__((cleanup(nvb_closedirp)))
/* for (each entry de of the open stream d, "." and ".." skipped) */
#define NVB_DIR_FOREACH(de, d) for (struct dirent *de; ((de) = nvb_readdir(d));)

/* ---- rooted filesystem access ---- */
#define NVB_PATH_MAX 4096
#define NVB_MAX_SYMLINKS 40

enum nvb_resolve_flags {
	NVB_RESOLVE_NOFOLLOW_LAST = 1u << 0, /* do not follow a symlink in the last component */
};

/* Resolve path inside the directory rootfd as if rootfd were "/": symlinks (absolute or
 * relative) and ".." never leave it. Returns an O_PATH descriptor of the result and, when
 * resolved is non-NULL, the resolved absolute path inside the root (malloc'ed).
 * what names the tree in messages ("host", "container"). */
NVB_INTERNAL int nvb_resolve_in_root(int rootfd, const char *what, const char *path, unsigned flags,
				     char **resolved, struct nvb_error *err);
/* The same, when the caller knows the root's own absolute path (saves a readlink a lookup). */
NVB_INTERNAL int nvb_resolve_in_known_root(int rootfd, const char *root_path, const char *what,
					   const char *path, unsigned flags, char **resolved,
					   struct nvb_error *err);
NVB_INTERNAL int nvb_open_in_known_root(int rootfd, const char *root_path, const char *what,
					const char *path, int open_flags, char **resolved,
					struct nvb_error *err);
/* Tests: force the user-space walk (false) or allow openat2 again (true). */
NVB_INTERNAL void nvb_resolve_use_openat2(bool enable);
/* Open path inside rootfd with open_flags (O_RDONLY, O_DIRECTORY ...), resolved as above. */
NVB_INTERNAL int nvb_open_in_root(int rootfd, const char *what, const char *path, int open_flags,
				  char **resolved, struct nvb_error *err);
/* Read a whole regular file opened with fd, at most max bytes (error if larger). NUL-terminated. */
NVB_INTERNAL int nvb_read_fd(int fd, const char *name, size_t max, char **data, size_t *len,
			     struct nvb_error *err);

/* ---- host handle ---- */
struct nvb_host {
	int rootfd;
	char *root; /* canonical absolute path of the root directory */
	char *procfs; /* "/proc" inside the root */
};

NVB_INTERNAL int nvb_host_open_file(struct nvb_host *host, const char *path, int flags,
				    char **resolved, struct nvb_error *err);
/* Resolve without opening (O_PATH). */
NVB_INTERNAL int nvb_host_resolve(struct nvb_host *host, const char *path, unsigned flags,
				  char **resolved, struct nvb_error *err);
/* Read a small host file (at most max bytes). */
NVB_INTERNAL int nvb_host_read(struct nvb_host *host, const char *path, size_t max, char **data,
			       size_t *len, struct nvb_error *err);
/* name beside this program's own executable when it is there (a build tree, an install), else
 * fallback_dir/name. malloc'ed. */
NVB_INTERNAL char *nvb_sibling_program(const char *name, const char *fallback_dir);
/* The host path as seen from this process (root prefix + path), for hostPath fields. */
NVB_INTERNAL char *nvb_host_outside_path(const struct nvb_host *host, const char *inside);


/* ---- shared libraries (dl.c) ---- */
/* dlopen(path, RTLD_NOW | RTLD_LOCAL); in the static musl programs always NULL. */
NVB_INTERNAL void *nvb_dlopen(const char *path);
NVB_INTERNAL const char *nvb_dlerror(void); /* why the last nvb_dlopen failed, never NULL */
NVB_INTERNAL void *nvb_dlsym(void *handle, const char *name);
NVB_INTERNAL void nvb_dlclose(void *handle);
/* Whether this process asked for a shared library (the musl wrapper then hands over). */
NVB_INTERNAL bool nvb_dlopen_wanted(void);

/* ---- writing inside a root (container rootfs) ---- */
/* Open directory path inside rootfd, creating missing components (mode) like mkdir -p. */
NVB_INTERNAL int nvb_mkdir_in_root(int rootfd, const char *what, const char *path, unsigned mode,
				   struct nvb_error *err);
/* Create the symlink link -> target inside rootfd. The parent directory is resolved inside the
 * root; an existing symlink is replaced, anything else at link is left alone and reported. */
NVB_INTERNAL int nvb_symlink_in_root(int rootfd, const char *what, const char *target,
				     const char *link, struct nvb_error *err);
/* Split path into its directory ("/" for top-level names) and last component. */
NVB_INTERNAL int nvb_path_split(const char *path, char *dir, size_t dir_cap, const char **base);

#endif
