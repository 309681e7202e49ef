/* SPDX-License-Identifier: Apache-2.0 */
#include "host/libscan.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>

#include "host/ldcache.h"

#define LDCONF_MAX (1u << 20)
#define LDCONF_DEPTH 8

/* Searched after the ld.so.conf directories when a host has no ld.so.cache. The NixOS paths
 * are where its driver lives; /usr/local/nvidia is the cloud-image layout. */
static const char *const standard_dirs[] = {
	"/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib",
	"/usr/lib/i386-linux-gnu", "/lib/i386-linux-gnu", "/lib32", "/usr/lib32",
	"/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/run/opengl-driver/lib",
	"/run/opengl-driver-32/lib",
};

/* Entries read from ld.so.cache point into the cache's own copy of the file, which the set
 * keeps: no copy per entry. A hostile cache whose entries all name one long string would
 * otherwise cost gigabytes of copies (entries x string length) for a 64 MiB file. */
struct libset {
	struct nvb_libset pub; /* first: the public handle is a pointer to it */
	struct nvb_ldcache *cache; /* NULL for a directory scan: entries own their strings */
};

static struct libset *libset_new(void)
{
	return calloc(1, sizeof(struct libset));
}

void nvb_libset_free(struct nvb_libset *set)
{
	if (!set)
		return;
	struct libset *ls = (struct libset *)set;
	for (size_t i = 0; !ls->cache && i < set->n; i++) {
		free(set->entries[i].name);
		free(set->entries[i].path);
	}
	nvb_ldcache_free(ls->cache);
	free(set->entries);
	free(set->source);
	free(set);
}

static int libset_add(struct nvb_libset *set, const char *name, const char *path, int elf_class,
		      struct nvb_error *err)
{
	struct nvb_lib_entry *e = nvb_array_push(&set->entries, &set->n, sizeof(*e));
	if (!e)
		return nvb_error_nomem(err);
	e->name = strdup(name);
	e->path = strdup(path);
	e->elf_class = elf_class;
	if (!e->name || !e->path)
		return nvb_error_nomem(err);
	return 0;
}

static int add_dir(char ***dirs, size_t *n, const char *dir, struct nvb_error *err)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*dirs)[i], dir) == 0)
			return 0;
	char **slot = nvb_array_push(dirs, n, sizeof(char *));
	if (!slot || !(*slot = strdup(dir)))
		return nvb_error_nomem(err);
	return 0;
}

static int ldconf_parse(struct nvb_host *host, const char *file, int depth, char ***dirs, size_t *n,
			struct nvb_error *err);

/* "include /etc/ld.so.conf.d/NAME.conf" globs: match the pattern against its directory's entries,
 * in name order, as glibc's glob() does. */
static int ldconf_include(struct nvb_host *host, const char *pattern, int depth, char ***dirs,
			  size_t *n, struct nvb_error *err)
{
	_cleanup_free_ char *dir = strdup(pattern);
	if (!dir)
		return nvb_error_nomem(err);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0; /* relative includes are relative to the cwd of ldconfig: ignore */
	*slash = '\0';
	const char *glob = slash + 1;
	struct nvb_error ignored;
	int fd = nvb_host_open_file(host, *dir ? dir : "/", O_RDONLY | O_DIRECTORY, NULL, &ignored);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent **list = NULL;
	size_t count = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || fnmatch(glob, de->d_name, 0) != 0)
			continue;
		struct dirent **slot = nvb_array_push(&list, &count, sizeof(*slot));
		if (!slot || !(*slot = malloc(sizeof(struct dirent)))) {
			r = nvb_error_nomem(err);
			break;
		}
		memcpy(*slot, de, sizeof(struct dirent));
	}
	closedir(d);
	for (size_t i = 0; i + 1 < count && r == 0; i++) /* tiny lists: insertion sort */
		for (size_t j = i + 1; j > 0 && strcmp(list[j - 1]->d_name, list[j]->d_name) > 0; j--) {
			struct dirent *t = list[j];
			list[j] = list[j - 1];
			list[j - 1] = t;
		}
	for (size_t i = 0; i < count; i++) {
		if (r == 0) {
			_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, list[i]->d_name);
			r = path ? ldconf_parse(host, path, depth + 1, dirs, n, err)
				 : nvb_error_nomem(err);
		}
		free(list[i]);
	}
	free(list);
	return r;
}

static int ldconf_parse(struct nvb_host *host, const char *file, int depth, char ***dirs, size_t *n,
			struct nvb_error *err)
{
	if (depth > LDCONF_DEPTH)
		return 0; /* include loops: glibc stops silently too */
	_cleanup_free_ char *data = NULL;
	struct nvb_error ignored;
	if (nvb_host_read(host, file, LDCONF_MAX, &data, NULL, &ignored) < 0)
		return 0; /* a missing or unreadable ld.so.conf is not an error for discovery */
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line = nvb_strstrip(line);
		if (!*line)
			continue;
		if (strncmp(line, "include", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
			if (ldconf_include(host, nvb_strstrip(line + 8), depth, dirs, n, err) < 0)
				return -1;
			continue;
		}
		if (strncmp(line, "hwcap", 5) == 0)
			continue;
		char *eq = strchr(line, '='); /* old "dir=TYPE" syntax */
		if (eq)
			*eq = '\0';
		if (line[0] == '/' && add_dir(dirs, n, line, err) < 0)
			return -1;
	}
	return 0;
}

int nvb_ldconf_dirs(struct nvb_host *host, char ***dirs, size_t *n, struct nvb_error *err)
{
	*dirs = NULL;
	*n = 0;
	return ldconf_parse(host, "/etc/ld.so.conf", 0, dirs, n, err);
}

static bool is_library_name(const char *name)
{
	return strncmp(name, "lib", 3) == 0 && strstr(name, ".so") != NULL;
}

static int scan_dir(struct nvb_host *host, const char *dir, struct nvb_libset *set,
		    struct nvb_error *err)
{
	struct nvb_error ignored;
	char *resolved = NULL;
	int fd = nvb_host_open_file(host, dir, O_RDONLY | O_DIRECTORY, &resolved, &ignored);
	if (fd < 0)
		return 0;
	free(resolved);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!is_library_name(de->d_name))
			continue;
		_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, de->d_name);
		r = path ? libset_add(set, de->d_name, path, 0, err) : nvb_error_nomem(err);
	}
	closedir(d);
	return r;
}

static int libset_scan_into(struct nvb_host *host, struct nvb_libset *set, struct nvb_error *err)
{
	char **dirs = NULL;
	size_t n = 0;
	int r = nvb_ldconf_dirs(host, &dirs, &n, err);
	for (size_t i = 0; r == 0 && i < NVB_ARRAY_SIZE(standard_dirs); i++)
		r = add_dir(&dirs, &n, standard_dirs[i], err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = scan_dir(host, dirs[i], set, err);
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return r;
}

/* The ELF libc6 entries of the cache, pointing into it; the set takes the cache over. */
static int libset_from_cache(struct libset *ls, struct nvb_ldcache *cache, struct nvb_error *err)
{
	struct nvb_libset *set = &ls->pub;
	ls->cache = cache;
	set->from_cache = true;
	if (!(set->source = strdup("/etc/ld.so.cache")))
		return nvb_error_nomem(err);
	size_t n = 0;
	for (size_t i = 0; i < cache->n_entries; i++)
		n += (cache->entries[i].flags & NVB_LDCACHE_TYPE_MASK) == NVB_LDCACHE_ELF_LIBC6;
	/* n is bounded by the cache's size (64 MiB at most) over its entry size */
	if (n && !(set->entries = calloc(n, sizeof(*set->entries))))
		return nvb_error_nomem(err);
	for (size_t i = 0; i < cache->n_entries; i++) {
		const struct nvb_ldcache_entry *e = &cache->entries[i];
		if ((e->flags & NVB_LDCACHE_TYPE_MASK) != NVB_LDCACHE_ELF_LIBC6)
			continue;
		struct nvb_lib_entry *le = &set->entries[set->n++];
		le->name = (char *)e->name;
		le->path = (char *)e->path;
		le->elf_class = nvb_ldcache_entry_class(e);
	}
	return 0;
}

struct nvb_libset *nvb_libset_load(struct nvb_host *host, struct nvb_error *err)
{
	struct libset *ls = libset_new();
	if (!ls) {
		nvb_error_nomem(err);
		return NULL;
	}
	struct nvb_libset *set = &ls->pub;
	struct nvb_error cerr;
	nvb_error_clear(&cerr);
	struct nvb_ldcache *cache = nvb_ldcache_load(host, NULL, &cerr);
	if (cache) {
		if (libset_from_cache(ls, cache, err) < 0)
			goto fail;
	} else if (cerr.code == NVB_ERR_NOT_FOUND) {
		nvb_info("libscan", "no /etc/ld.so.cache under %s: scanning library directories",
			 host->root);
		set->source = strdup("directory scan");
		if (libset_scan_into(host, set, err) < 0)
			goto fail;
	} else {
		/* a corrupt cache is reported, not silently replaced by a scan */
		*err = cerr;
		goto fail;
	}
	if (!set->source) {
		nvb_error_nomem(err);
		goto fail;
	}
	return set;
fail:
	nvb_libset_free(set);
	return NULL;
}

struct nvb_libset *nvb_libset_scan(struct nvb_host *host, struct nvb_error *err)
{
	struct libset *ls = libset_new();
	struct nvb_libset *set = ls ? &ls->pub : NULL;
	if (!set || !(set->source = strdup("directory scan"))) {
		free(ls);
		nvb_error_nomem(err);
		return NULL;
	}
	if (libset_scan_into(host, set, err) < 0) {
		nvb_libset_free(set);
		return NULL;
	}
	return set;
}
