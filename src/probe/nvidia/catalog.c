/* SPDX-License-Identifier: Apache-2.0 */
#include "probe/nvidia/catalog.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "host/elf.h"
#include "inventory/inventory.h"

#define U NVB_CAP_UTILITY
#define C NVB_CAP_COMPUTE
#define V NVB_CAP_VIDEO
#define G (NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY)
#define NGX NVB_CAP_NGX

/* docs/design/driver-files.md. gpucomp and allocator also serve graphics: the Vulkan ICD
 * needs them. */
static const struct nvb_catalog_entry nvidia_libs[] = {
	{"libnvidia-ml", U, true},
	{"libnvidia-cfg", U, true},
	{"libnvidia-nscq", U, false},
	{"libcuda", C, true},
	{"libcudadebugger", C, false},
	{"libnvidia-opencl", C, true},
	{"libnvidia-gpucomp", C | G, false},
	{"libnvidia-ptxjitcompiler", C, true},
	{"libnvidia-fatbinaryloader", C, false},
	{"libnvidia-allocator", C | G, false},
	{"libnvidia-compiler", C, false},
	{"libnvidia-pkcs11", C, false},
	{"libnvidia-pkcs11-openssl3", C, false},
	{"libnvidia-nvvm", C, false},
	{"libnvidia-tileiras", C, false},
	{"libvdpau_nvidia", V, false},
	{"libnvidia-encode", V, true},
	{"libnvidia-opticalflow", V, false},
	{"libnvcuvid", V, true},
	{"libnvidia-eglcore", G, true},
	{"libnvidia-glcore", G, true},
	{"libnvidia-tls", G, true},
	{"libnvidia-glsi", G, true},
	{"libnvidia-fbc", G, false},
	{"libnvidia-ifr", G, false},
	{"libnvidia-rtcore", G, false},
	{"libnvoptix", G, false},
	{"libGLX_nvidia", G, true},
	{"libEGL_nvidia", G, true},
	{"libGLESv2_nvidia", G, true},
	{"libGLESv1_CM_nvidia", G, false},
	{"libnvidia-glvkspirv", G, false},
	{"libnvidia-cbl", G, false},
	{"libnvidia-egl-gbm", G, false, true},
	{"libnvidia-egl-wayland", G, false, true},
	{"libnvidia-egl-xcb", G, false, true},
	{"libnvidia-egl-xlib", G, false, true},
	{"libnvidia-ngx", NGX, false},
};

static const struct nvb_catalog_entry nvidia_bins[] = {
	{"nvidia-smi", U, true},
	{"nvidia-debugdump", U, false},
	{"nvidia-persistenced", U, false},
	{"nv-fabricmanager", U, false},
	{"nvidia-cuda-mps-control", C, false},
	{"nvidia-cuda-mps-server", C, false},
};

/* Where driver binaries live: distribution packages, the .run installer, cloud images, NixOS. */
static const char *const bin_dirs[] = {
	"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/usr/local/nvidia/bin", "/opt/nvidia/bin", "/run/current-system/sw/bin",
};

struct config_file {
	const char *container_path;
	const char *alt_host_path; /* another standard location, NULL if none */
	unsigned caps;
};

static const struct config_file nvidia_configs[] = {
	{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json", "/etc/glvnd/egl_vendor.d/10_nvidia.json", G},
	{"/usr/share/vulkan/icd.d/nvidia_icd.json", "/etc/vulkan/icd.d/nvidia_icd.json", G},
	{"/usr/share/vulkan/implicit_layer.d/nvidia_layers.json",
	 "/etc/vulkan/implicit_layer.d/nvidia_layers.json", G},
	{"/etc/OpenCL/vendors/nvidia.icd", NULL, C},
	{"/usr/share/nvidia/nvoptix.bin", NULL, G},
};

/* EGL external platform files are named by priority (10_nvidia_wayland.json, 15_nvidia_gbm.json) */
static const char *const egl_platform_dirs[] = {
	"/usr/share/egl/egl_external_platform.d",
	"/etc/egl/egl_external_platform.d",
};

static const struct {
	const char *path;
	unsigned caps;
} nvidia_sockets[] = {
	{"/run/nvidia-persistenced/socket", U},
	{"/run/nvidia-fabricmanager/socket", C},
	{"/tmp/nvidia-mps", C},
};

const struct nvb_catalog_entry *nvb_catalog_nvidia_lib(const char *stem)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_libs); i++)
		if (strcmp(nvidia_libs[i].name, stem) == 0)
			return &nvidia_libs[i];
	return NULL;
}

int nvb_lib_stem(const char *name, char *out, size_t cap)
{
	const char *so = strstr(name, ".so");
	if (!so || (so[3] != '\0' && so[3] != '.'))
		return -1;
	size_t len = (size_t)(so - name);
	if (len + 1 > cap)
		return -1;
	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
}

/* "580.159.04", "550.54.14", "535.104.05": digits and dots, at least one dot. */
bool nvb_is_driver_version(const char *s)
{
	bool dot = false;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (!isdigit((unsigned char)s[1]))
				return false;
			dot = true;
		} else if (!isdigit((unsigned char)*s)) {
			return false;
		}
	}
	return dot;
}

const char *nvb_lib_version_suffix(const char *basename)
{
	const char *so = strstr(basename, ".so.");
	if (!so)
		return NULL;
	return nvb_is_driver_version(so + 4) ? so + 4 : NULL;
}

static bool is_32bit_dir(const char *path)
{
	return strstr(path, "/i386-linux-gnu/") || strstr(path, "/lib32/") ||
	       strstr(path, "/i686-linux-gnu/") || strstr(path, "/opengl-driver-32/");
}

static struct nvb_driver_file *find_file(struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (strcmp(inv->files[i].path, path) == 0)
			return &inv->files[i];
	return NULL;
}

/* Versions of catalogued libraries that are not the running driver's, for the problem report. */
struct stale_set {
	char versions[8][32];
	size_t n;
	size_t files;
};

static void stale_note(struct stale_set *stale, const char *version)
{
	stale->files++;
	for (size_t i = 0; i < stale->n; i++)
		if (strcmp(stale->versions[i], version) == 0)
			return;
	if (stale->n < NVB_ARRAY_SIZE(stale->versions))
		snprintf(stale->versions[stale->n++], sizeof(stale->versions[0]), "%s", version);
}

static void stale_join(const struct stale_set *stale, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < stale->n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", stale->versions[i]);
}

/* ---- what a catalogued file really is ---- */

#define ET_EXEC 2
#define ET_DYN 3
/* Wrapper scripts are about 500 bytes; their exec lines are looked for in this much of one. */
#define SCRIPT_HEAD_MAX (16u * 1024u)
/* Directories named by a wrapper's exec lines that are searched, per program. */
#define MAX_EXEC_DIRS 8

struct examined {
	struct nvb_elf_info elf;
	char reason[96];                /* empty: a usable ELF object of the kind expected */
	char damage[NVB_ERROR_MSG_MAX]; /* an unreadable file or a damaged ELF: the reader's message */
	char *head;                     /* the beginning of a non-ELF file (NUL-terminated), else NULL */
};

static bool is_shell(const char *interp)
{
	static const char *const shells[] = {"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(shells); i++)
		if (strcmp(interp, shells[i]) == 0)
			return true;
	return false;
}

/* Copy the next word of p into out (quotes removed, a quoted part may hold blanks); returns the
 * position after it. out is empty at the end of the line. */
static const char *next_word(const char *p, char *out, size_t cap)
{
	size_t o = 0;
	char quote = 0;
	p += strspn(p, " \t");
	for (; *p && *p != '\n' && (quote || (*p != ' ' && *p != '\t')); p++) {
		if ((*p == '"' || *p == '\'') && (!quote || quote == *p)) {
			quote = quote ? 0 : *p;
			continue;
		}
		if (o + 1 < cap)
			out[o++] = *p;
	}
	out[o] = '\0';
	return p;
}

/* "#!/bin/sh" -> "shell script", "#!/usr/bin/env python3" -> "script (python3)". */
static void script_reason(const char *head, char *out, size_t cap)
{
	char word[256];
	const char *p = next_word(head + 2, word, sizeof(word));
	const char *interp = nvb_basename(word);
	if (strcmp(interp, "env") == 0) {
		do
			p = next_word(p, word, sizeof(word));
		while (word[0] == '-' || strchr(word, '='));
		interp = nvb_basename(word);
	}
	if (is_shell(interp))
		snprintf(out, cap, "shell script");
	else
		snprintf(out, cap, "script (%.40s)", interp[0] ? interp : "no interpreter");
}

static void examine_elf(int fd, const char *path, enum nvb_file_kind kind, int want_class,
			struct examined *ex)
{
	struct nvb_error eerr;
	if (nvb_elf_read_fd(fd, path, &ex->elf, &eerr) < 0) {
		snprintf(ex->reason, sizeof(ex->reason), "damaged ELF file");
		snprintf(ex->damage, sizeof(ex->damage), "%s", eerr.message);
	} else if (kind == NVB_FILE_LIBRARY && ex->elf.type != ET_DYN) {
		snprintf(ex->reason, sizeof(ex->reason), "ELF file that is not a shared library");
	} else if (kind == NVB_FILE_BINARY && ex->elf.type != ET_EXEC && ex->elf.type != ET_DYN) {
		snprintf(ex->reason, sizeof(ex->reason), "ELF file that is not a program");
	} else if (want_class && ex->elf.elf_class != want_class) {
		/* the loader cache typed the file when ldconfig ran: it was replaced since */
		snprintf(ex->reason, sizeof(ex->reason), "%d-bit ELF, listed as %d-bit",
			 ex->elf.elf_class, want_class);
	}
}

/* Classify path (inside the host root) as a usable ELF object of kind, or say why it is not one.
 * Only the ELF headers, or the first SCRIPT_HEAD_MAX bytes of a non-ELF file, are read.
 * want_class: 32 or 64 when the loader cache says which, else 0. -1 only when out of memory. */
static int examine(struct nvb_host *host, const char *path, enum nvb_file_kind kind, int want_class,
		   struct examined *ex, struct nvb_error *err)
{
	memset(ex, 0, sizeof(*ex));
	struct nvb_error oerr;
	_cleanup_close_ int fd = nvb_host_open_file(host, path, O_RDONLY, NULL, &oerr);
	unsigned char magic[4];
	ssize_t n = -1;
	if (fd < 0)
		snprintf(ex->damage, sizeof(ex->damage), "%s", oerr.message);
	else if ((n = pread(fd, magic, sizeof(magic), 0)) < 0)
		snprintf(ex->damage, sizeof(ex->damage), "%s: %s", path, strerror(errno));
	if (n < 0) {
		snprintf(ex->reason, sizeof(ex->reason), "unreadable");
		return 0;
	}
	if (n == (ssize_t)sizeof(magic) && memcmp(magic, "\177ELF", 4) == 0) {
		examine_elf(fd, path, kind, want_class, ex);
		return 0;
	}
	if (!(ex->head = malloc(SCRIPT_HEAD_MAX + 1)))
		return nvb_error_nomem(err);
	n = pread(fd, ex->head, SCRIPT_HEAD_MAX, 0);
	ex->head[n > 0 ? n : 0] = '\0';
	if (nvb_str_has_prefix(ex->head, "#!"))
		script_reason(ex->head, ex->reason, sizeof(ex->reason));
	else if (kind == NVB_FILE_LIBRARY && (strstr(ex->head, "GROUP") || strstr(ex->head, "INPUT")))
		snprintf(ex->reason, sizeof(ex->reason), "linker script");
	else
		snprintf(ex->reason, sizeof(ex->reason), "not an ELF file");
	return 0;
}

static void examined_clear(struct examined *ex)
{
	free(ex->head);
	ex->head = NULL;
}

static bool is_skipped(const struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_skipped; i++)
		if (strcmp(inv->skipped[i].path, path) == 0)
			return true;
	return false;
}

static int add_library(struct nvb_host *host, struct nvb_inventory *inv,
		       const struct nvb_lib_entry *e, const struct nvb_catalog_entry *cat,
		       const char *resolved, struct nvb_error *err)
{
	struct examined ex;
	if (examine(host, resolved, NVB_FILE_LIBRARY, e->elf_class, &ex, err) < 0)
		return -1;
	examined_clear(&ex);
	if (ex.reason[0]) {
		/* damage is a problem to fix; a text file in its place is just not a library */
		if (ex.damage[0])
			nvb_inventory_add_problem(inv, NVB_PROBLEM_WARNING, "unreadable-library",
						  "reinstall the driver's user-space package", "%s",
						  ex.damage);
		if (nvb_inventory_add_skipped(inv, NVB_FILE_LIBRARY, resolved, ex.reason, NULL) < 0)
			return nvb_error_nomem(err);
		return 0;
	}
	const struct nvb_elf_info *elf = &ex.elf;
	struct nvb_driver_file *f = nvb_inventory_add_file(inv);
	if (!f)
		return nvb_error_nomem(err);
	f->kind = NVB_FILE_LIBRARY;
	f->path = strdup(resolved);
	f->link_path = strdup(e->path);
	f->soname = elf->soname[0] ? strdup(elf->soname) : NULL;
	f->elf_class = elf->elf_class;
	f->caps = cat->caps | (elf->elf_class == 32 ? NVB_CAP_COMPAT32 : 0);
	if (!f->path || !f->link_path || (elf->soname[0] && !f->soname))
		return nvb_error_nomem(err);
	return 0;
}

static int select_libraries(struct nvb_host *host, const struct nvb_libset *libs,
			    const char *version, struct nvb_inventory *inv, struct stale_set *stale,
			    struct nvb_error *err)
{
	for (size_t i = 0; i < libs->n; i++) {
		const struct nvb_lib_entry *e = &libs->entries[i];
		char stem[256];
		if (nvb_lib_stem(e->name, stem, sizeof(stem)) < 0)
			continue;
		const struct nvb_catalog_entry *cat = nvb_catalog_nvidia_lib(stem);
		if (!cat)
			continue;
		struct nvb_error rerr;
		_cleanup_free_ char *resolved = NULL;
		_cleanup_close_ int fd = nvb_host_resolve(host, e->path, 0, &resolved, &rerr);
		if (fd < 0) {
			nvb_debug("catalog", "skipping %s: %s", e->path, rerr.message);
			continue;
		}
		const char *base = nvb_basename(resolved);
		const char *suffix = nvb_lib_version_suffix(base);
		char expect_stem[256];
		if (!suffix || nvb_lib_stem(base, expect_stem, sizeof(expect_stem)) < 0 ||
		    strcmp(expect_stem, stem) != 0)
			continue; /* not a driver-versioned file (e.g. a compat shim): never select */
		if (!cat->own_version && strcmp(suffix, version) != 0) {
			nvb_debug("catalog", "ignoring %s: version %s, driver is %s", resolved,
				  suffix, version);
			stale_note(stale, suffix);
			continue;
		}
		if (find_file(inv, resolved) || is_skipped(inv, resolved))
			continue;
		if (add_library(host, inv, e, cat, resolved, err) < 0)
			return -1;
	}
	return 0;
}

static int add_plain_file(struct nvb_inventory *inv, enum nvb_file_kind kind, const char *path,
			  const char *link_path, unsigned caps, struct nvb_error *err)
{
	if (find_file(inv, path))
		return 0;
	struct nvb_driver_file *f = nvb_inventory_add_file(inv);
	if (!f || !(f->path = strdup(path)) || !(f->link_path = strdup(link_path)))
		return nvb_error_nomem(err);
	f->kind = kind;
	f->caps = caps;
	return 0;
}

/* Resolve path in the host root; report its resolved path and stat when it exists. */
static bool host_lookup(struct nvb_host *host, const char *path, char **resolved, struct stat *st)
{
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_resolve(host, path, 0, resolved, &ignored);
	if (fd < 0)
		return false;
	if (fstat(fd, st) < 0) {
		free(*resolved);
		*resolved = NULL;
		return false;
	}
	return true;
}

/* The directory of the program a wrapper script's line execs by absolute path, when that program
 * is called name: "exec /usr/local/nvidia/bin/nvidia-smi "$@"" gives /usr/local/nvidia/bin.
 * malloc'ed, NULL when the line is no such exec. */
static char *exec_line_dir(const char *line, const char *name)
{
	char word[NVB_PATH_MAX];
	const char *p = next_word(line, word, sizeof(word));
	if (strcmp(word, "exec") != 0)
		return NULL;
	do {
		bool takes_arg = strcmp(word, "-a") == 0; /* exec -a ARGV0 PROGRAM */
		p = next_word(p, word, sizeof(word));
		if (takes_arg)
			p = next_word(p, word, sizeof(word));
	} while (word[0] == '-');
	char *slash = strrchr(word, '/');
	if (word[0] != '/' || strchr(word, '$') || strcmp(slash + 1, name) != 0)
		return NULL;
	return slash == word ? strdup("/") : strndup(word, (size_t)(slash - word));
}

struct search {
	const char *name;
	char *exec_dirs[MAX_EXEC_DIRS]; /* from wrapper scripts met so far, searched first */
	size_t n_exec, next_exec, next_std;
	char *chosen;                   /* resolved path of the program selected */
};

static void search_add_exec_dirs(struct search *s, char *text)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *dir = exec_line_dir(line, s->name);
		if (!dir)
			continue;
		bool known = s->n_exec == MAX_EXEC_DIRS;
		for (size_t i = 0; i < s->n_exec && !known; i++)
			known = strcmp(s->exec_dirs[i], dir) == 0;
		if (!known)
			s->exec_dirs[s->n_exec++] = NVB_TAKE_PTR(dir);
	}
}

/* Look at dir/name: select it when it is an ELF program, else record it as skipped (and learn
 * where a wrapper script says the program is). */
static int try_binary(struct nvb_host *host, struct nvb_inventory *inv,
		      const struct nvb_catalog_entry *bin, struct search *s, const char *dir,
		      struct nvb_error *err)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/%s", strcmp(dir, "/") ? dir : "", bin->name);
	_cleanup_free_ char *resolved = NULL;
	struct stat st;
	if (!path)
		return nvb_error_nomem(err);
	/* /bin/x may be /usr/bin/x again (usrmerge): each file is looked at once */
	if (!host_lookup(host, path, &resolved, &st) || !S_ISREG(st.st_mode) ||
	    is_skipped(inv, resolved))
		return 0;
	struct examined ex;
	if (examine(host, resolved, NVB_FILE_BINARY, 0, &ex, err) < 0)
		return -1;
	int r = 0;
	if (!ex.reason[0]) {
		bool known = find_file(inv, resolved); /* another name linked to the same program */
		r = add_plain_file(inv, NVB_FILE_BINARY, resolved, path, bin->caps, err);
		if (r == 0 && !known)
			inv->files[inv->n_files - 1].elf_class = ex.elf.elf_class;
		if (r == 0)
			s->chosen = NVB_TAKE_PTR(resolved);
	} else {
		if (ex.head)
			search_add_exec_dirs(s, ex.head);
		if (nvb_inventory_add_skipped(inv, NVB_FILE_BINARY, resolved, ex.reason, NULL) < 0)
			r = nvb_error_nomem(err);
	}
	examined_clear(&ex);
	return r;
}

/* A driver program is used only as an ELF file: hosts often put a wrapper script at
 * /usr/bin/nvidia-smi that sets LD_LIBRARY_PATH and execs the real one elsewhere, and such a
 * script mounted into a container runs there without its target. */
static int select_binary(struct nvb_host *host, struct nvb_inventory *inv,
			 const struct nvb_catalog_entry *bin, struct nvb_error *err)
{
	struct search s = {.name = bin->name};
	size_t first_skipped = inv->n_skipped;
	int r = 0;
	while (r == 0 && !s.chosen) {
		const char *dir;
		if (s.next_exec < s.n_exec)
			dir = s.exec_dirs[s.next_exec++];
		else if (s.next_std < NVB_ARRAY_SIZE(bin_dirs))
			dir = bin_dirs[s.next_std++];
		else
			break;
		r = try_binary(host, inv, bin, &s, dir, err);
	}
	for (size_t i = first_skipped; r == 0 && s.chosen && i < inv->n_skipped; i++)
		if (!(inv->skipped[i].chosen = strdup(s.chosen)))
			r = nvb_error_nomem(err);
	for (size_t i = 0; i < s.n_exec; i++)
		free(s.exec_dirs[i]);
	free(s.chosen);
	return r;
}

static int select_binaries(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_error *err)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_bins); i++)
		if (select_binary(host, inv, &nvidia_bins[i], err) < 0)
			return -1;
	return 0;
}

static int select_configs(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_error *err)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_configs); i++) {
		const struct config_file *c = &nvidia_configs[i];
		const char *candidates[] = {c->container_path, c->alt_host_path};
		for (size_t k = 0; k < 2 && candidates[k]; k++) {
			_cleanup_free_ char *resolved = NULL;
			struct stat st;
			if (!host_lookup(host, candidates[k], &resolved, &st) || !S_ISREG(st.st_mode))
				continue;
			if (add_plain_file(inv, NVB_FILE_CONFIG, resolved, candidates[k], c->caps,
					   err) < 0)
				return -1;
			break;
		}
	}
	for (size_t i = 0; i < NVB_ARRAY_SIZE(egl_platform_dirs); i++) {
		struct nvb_error ignored;
		int fd = nvb_host_open_file(host, egl_platform_dirs[i], O_RDONLY | O_DIRECTORY,
					    NULL, &ignored);
		if (fd < 0)
			continue;
		DIR *d = nvb_fdopendir(fd);
		if (!d)
			continue;
		struct dirent *de;
		int r = 0;
		while (r == 0 && (de = nvb_readdir(d))) {
			if (fnmatch("*nvidia*.json", de->d_name, 0) != 0)
				continue;
			_cleanup_free_ char *path = nvb_asprintf("%s/%s", egl_platform_dirs[i], de->d_name);
			_cleanup_free_ char *resolved = NULL;
			struct stat st;
			if (!path) {
				r = nvb_error_nomem(err);
				break;
			}
			if (host_lookup(host, path, &resolved, &st) && S_ISREG(st.st_mode))
				r = add_plain_file(inv, NVB_FILE_CONFIG, resolved, path, G, err);
		}
		closedir(d);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int select_sockets(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_error *err)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_sockets); i++) {
		const char *path = nvidia_sockets[i].path;
		_cleanup_free_ char *var_path = NULL;
		_cleanup_free_ char *resolved = NULL;
		struct stat st;
		bool found = host_lookup(host, path, &resolved, &st);
		if (!found && nvb_str_has_prefix(path, "/run/")) {
			var_path = nvb_asprintf("/var%s", path);
			if (!var_path)
				return nvb_error_nomem(err);
			found = host_lookup(host, var_path, &resolved, &st);
		}
		if (!found || !(S_ISSOCK(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (add_plain_file(inv, NVB_FILE_SOCKET, resolved, path, nvidia_sockets[i].caps,
				   err) < 0)
			return -1;
	}
	return 0;
}

static int report_missing(struct nvb_inventory *inv, struct nvb_error *err)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_libs); i++) {
		if (!nvidia_libs[i].expected)
			continue;
		bool found = false;
		for (size_t f = 0; f < inv->n_files && !found; f++) {
			char stem[256];
			const struct nvb_driver_file *file = &inv->files[f];
			found = file->kind == NVB_FILE_LIBRARY && file->elf_class != 32 &&
				nvb_lib_stem(nvb_basename(file->path), stem, sizeof(stem)) == 0 &&
				strcmp(stem, nvidia_libs[i].name) == 0;
		}
		if (!found) {
			_cleanup_free_ char *name = nvb_asprintf("%s.so", nvidia_libs[i].name);
			if (!name || nvb_inventory_add_missing(inv, name) < 0)
				return nvb_error_nomem(err);
		}
	}
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_bins); i++) {
		if (!nvidia_bins[i].expected)
			continue;
		bool found = false;
		for (size_t f = 0; f < inv->n_files && !found; f++)
			found = inv->files[f].kind == NVB_FILE_BINARY &&
				strcmp(nvb_basename(inv->files[f].path), nvidia_bins[i].name) == 0;
		if (!found && nvb_inventory_add_missing(inv, nvidia_bins[i].name) < 0)
			return nvb_error_nomem(err);
	}
	return 0;
}

static size_t count_kind(const struct nvb_inventory *inv, enum nvb_file_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->n_files; i++)
		n += inv->files[i].kind == kind;
	return n;
}

/* A library skipped while another file of its name and class was selected (two cache entries for
 * libcuda.so.1, one of them a text file): say which. */
static int skipped_libraries_chosen(struct nvb_inventory *inv, struct nvb_error *err)
{
	for (size_t i = 0; i < inv->n_skipped; i++) {
		struct nvb_skipped_file *sk = &inv->skipped[i];
		char stem[256], other[256];
		if (sk->kind != NVB_FILE_LIBRARY || sk->chosen ||
		    nvb_lib_stem(nvb_basename(sk->path), stem, sizeof(stem)) < 0)
			continue;
		for (size_t f = 0; f < inv->n_files && !sk->chosen; f++) {
			const struct nvb_driver_file *file = &inv->files[f];
			if (file->kind != NVB_FILE_LIBRARY ||
			    (file->elf_class == 32) != is_32bit_dir(sk->path) ||
			    nvb_lib_stem(nvb_basename(file->path), other, sizeof(other)) < 0 ||
			    strcmp(stem, other) != 0)
				continue;
			if (!(sk->chosen = strdup(file->path)))
				return nvb_error_nomem(err);
		}
	}
	return 0;
}

int nvb_catalog_select_nvidia(struct nvb_host *host, const struct nvb_libset *libs,
			      const char *version, struct nvb_inventory *inv, struct nvb_error *err)
{
	struct stale_set stale = {.n = 0, .files = 0};
	if (select_libraries(host, libs, version, inv, &stale, err) < 0 ||
	    skipped_libraries_chosen(inv, err) < 0 || select_binaries(host, inv, err) < 0 || select_configs(host, inv, err) < 0 ||
	    select_sockets(host, inv, err) < 0 || report_missing(inv, err) < 0)
		return -1;

	char versions[300];
	stale_join(&stale, versions, sizeof(versions));
	size_t n_libs = count_kind(inv, NVB_FILE_LIBRARY);
	if (n_libs == 0 && stale.n > 0) {
		nvb_inventory_add_problem(
			inv, NVB_PROBLEM_ERROR, "library-version-mismatch",
			"install the user-space driver package matching the kernel module, or reboot "
			"into the module that matches the libraries",
			"the kernel module is version %s but the driver libraries in %s are version %s",
			version, libs->source, versions);
	} else if (n_libs == 0) {
		nvb_inventory_add_problem(
			inv, NVB_PROBLEM_ERROR, "libraries-missing",
			"install the NVIDIA user-space driver package (e.g. libnvidia-compute / "
			"nvidia-driver) of the same version, then run ldconfig",
			"the NVIDIA kernel module %s is loaded but none of its user-space libraries "
			"were found in %s",
			version, libs->source);
	} else if (stale.n > 0) {
		nvb_inventory_add_problem(
			inv, NVB_PROBLEM_WARNING, "stale-libraries",
			"remove the old driver's packages; nvbind ignores them",
			"%zu library file(s) of other driver version(s) (%s) are registered in %s "
			"beside the running %s; they are not selected",
			stale.files, versions, libs->source, version);
	}
	return 0;
}

char *nvb_catalog_guess_version(struct nvb_host *host, const struct nvb_libset *libs)
{
	static const char *const probes[] = {"libcuda", "libnvidia-ml"};
	for (size_t p = 0; p < NVB_ARRAY_SIZE(probes); p++) {
		for (size_t i = 0; i < libs->n; i++) {
			char stem[256];
			if (nvb_lib_stem(libs->entries[i].name, stem, sizeof(stem)) < 0 ||
			    strcmp(stem, probes[p]) != 0 || libs->entries[i].elf_class == 32)
				continue;
			struct nvb_error ignored;
			_cleanup_free_ char *resolved = NULL;
			_cleanup_close_ int fd =
				nvb_host_resolve(host, libs->entries[i].path, 0, &resolved, &ignored);
			if (fd < 0)
				continue;
			const char *suffix = nvb_lib_version_suffix(nvb_basename(resolved));
			if (suffix)
				return strdup(suffix);
		}
	}
	return NULL;
}

bool nvb_catalog_path_wanted(const char *container_path, unsigned caps)
{
	unsigned c = nvb_catalog_caps_for_path(container_path);
	return !c || nvb_caps_cover(c, caps);
}

unsigned nvb_catalog_caps_for_path(const char *path)
{
	const char *base = nvb_basename(path);
	char stem[256];
	if (nvb_lib_stem(base, stem, sizeof(stem)) == 0) {
		const struct nvb_catalog_entry *cat = nvb_catalog_nvidia_lib(stem);
		if (!cat)
			return 0;
		return cat->caps | (is_32bit_dir(path) ? NVB_CAP_COMPAT32 : 0);
	}
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_bins); i++)
		if (strcmp(base, nvidia_bins[i].name) == 0)
			return nvidia_bins[i].caps;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_configs); i++)
		if (strcmp(path, nvidia_configs[i].container_path) == 0 ||
		    (nvidia_configs[i].alt_host_path && strcmp(path, nvidia_configs[i].alt_host_path) == 0))
			return nvidia_configs[i].caps;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(egl_platform_dirs); i++)
		if (nvb_str_has_prefix(path, egl_platform_dirs[i]))
			return G;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(nvidia_sockets); i++)
		if (strcmp(path, nvidia_sockets[i].path) == 0)
			return nvidia_sockets[i].caps;
	if (nvb_str_has_prefix(path, "/lib/firmware/nvidia/"))
		return NVB_CAP_UTILITY | NVB_CAP_COMPUTE;
	return 0;
}
