/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI config side of isolation: which GPUs a config was given, and the MPS edits. */
#include <ctype.h>
#include <sys/sysmacros.h>

#include "isolation/isolation.h"

/* Where the container finds the daemon's pipe directory (CUDA_MPS_PIPE_DIRECTORY) */
#define MPS_PIPE_IN_CONTAINER "/run/nvidia-mps"

int nvb_iso_parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case '\0': break;
	default: return -1;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* /dev/nvidia<N>: the minor of a GPU node, -1 for anything else (nvidiactl, nvidia-uvm...) */
static int gpu_node_minor(const json_t *dev)
{
	const char *path = json_string_value(json_object_get(dev, "path"));
	if (!path || !nvb_str_has_prefix(path, "/dev/nvidia") || !isdigit((unsigned char)path[11]))
		return -1;
	const json_t *minor = json_object_get(dev, "minor");
	if (json_is_integer(minor))
		return (int)json_integer_value(minor);
	char *end;
	long n = strtol(path + 11, &end, 10);
	return *end ? -1 : (int)n;
}

static int by_index(const void *a, const void *b)
{
	const struct nvb_iso_gpu *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

int nvb_iso_config_gpus(const json_t *config, const struct nvb_inventory *inv,
			struct nvb_iso_gpu *out, size_t *n, struct nvb_error *err)
{
	const json_t *devs = json_object_get(json_object_get(config, "linux"), "devices");
	size_t i;
	const json_t *dev;
	*n = 0;
	json_array_foreach(devs, i, dev) {
		int minor = gpu_node_minor(dev);
		if (minor < 0)
			continue;
		const struct nvb_gpu *g = NULL;
		for (size_t k = 0; k < inv->n_gpus && !g; k++)
			if (inv->gpus[k].minor == minor)
				g = &inv->gpus[k];
		if (!g || !g->uuid)
			return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
					     "check that nvbind sees the same GPUs as the spec ('nvbind info')",
					     "the config's device /dev/nvidia%d is no GPU of the host", minor);
		bool dup = false;
		for (size_t k = 0; k < *n; k++)
			dup = dup || out[k].index == g->index;
		if (dup)
			continue;
		if (*n == NVB_ISO_MAX_GPUS)
			return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "more than %d GPUs",
					     NVB_ISO_MAX_GPUS);
		struct nvb_iso_gpu *o = &out[(*n)++];
		o->index = g->index;
		o->minor = minor;
		snprintf(o->uuid, sizeof(o->uuid), "%s", g->uuid);
	}
	/* CUDA in the container numbers its GPUs in PCI order, as the host does */
	qsort(out, *n, sizeof(*out), by_index);
	for (size_t k = 0; k < *n; k++)
		out[k].cindex = (unsigned)k;
	return 0;
}

/* NAME=value into process.env, replacing an earlier NAME */
static int env_set(json_t *config, const char *name, const char *value)
{
	json_t *process = json_object_get(config, "process");
	if (!json_is_object(process))
		return -1;
	json_t *env = json_object_get(process, "env");
	if (!json_is_array(env)) {
		env = json_array();
		if (!env || json_object_set_new(process, "env", env))
			return -1;
	}
	size_t len = strlen(name);
	for (size_t i = json_array_size(env); i-- > 0;) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && !strncmp(e, name, len) && e[len] == '=')
			json_array_remove(env, i);
	}
	_cleanup_free_ char *entry = nvb_asprintf("%s=%s", name, value);
	return entry ? json_array_append_new(env, json_string(entry)) : -1;
}

/* A bind mount of source at dest, replacing the config's mounts at dest (/dev/shm's tmpfs) */
static int add_mount(json_t *config, const char *source, const char *dest)
{
	json_t *mounts = json_object_get(config, "mounts");
	if (!json_is_array(mounts)) {
		mounts = json_array();
		if (!mounts || json_object_set_new(config, "mounts", mounts))
			return -1;
	}
	for (size_t i = json_array_size(mounts); i-- > 0;) {
		const char *d = json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
		if (d && !strcmp(d, dest))
			json_array_remove(mounts, i);
	}
	json_t *m = json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination", dest, "type", "bind",
			      "source", source, "options", "rbind", "rw", "nosuid");
	return m ? json_array_append_new(mounts, m) : -1;
}

/* "16G" when exact, else "<n>M" (MPS reads a number with a K/M/G suffix) */
static void size_word(uint64_t bytes, char *out, size_t cap)
{
	if (bytes % (1ull << 30) == 0)
		snprintf(out, cap, "%lluG", (unsigned long long)(bytes >> 30));
	else
		snprintf(out, cap, "%lluM", (unsigned long long)((bytes + (1ull << 20) - 1) >> 20));
}

int nvb_iso_config_mps(json_t *config, const char *pipe_dir, const struct nvb_iso_gpu *gpus,
		       size_t n, uint64_t mem_limit, unsigned percent, struct nvb_error *err)
{
	/* the daemon's /dev/shm (mps.c): the memory MPS clients share with the server */
	const char *slash = strrchr(pipe_dir, '/');
	_cleanup_free_ char *shm = slash ? nvb_asprintf("%.*s/shm", (int)(slash - pipe_dir), pipe_dir) : NULL;
	int r = add_mount(config, pipe_dir, MPS_PIPE_IN_CONTAINER);
	r |= shm ? add_mount(config, shm, "/dev/shm") : -1;
	r |= env_set(config, "CUDA_MPS_PIPE_DIRECTORY", MPS_PIPE_IN_CONTAINER);
	if (percent) {
		char p[16];
		snprintf(p, sizeof(p), "%u", percent);
		r |= env_set(config, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", p);
	}
	if (mem_limit) {
		char word[32], list[NVB_ISO_MAX_GPUS * 40] = "";
		size_t o = 0;
		size_word(mem_limit, word, sizeof(word));
		/* indices as the container sees its GPUs */
		for (size_t i = 0; i < n && o < sizeof(list); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u=%s", i ? "," : "",
					      gpus[i].cindex, word);
		r |= env_set(config, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", list);
	}
	return r ? nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				 "OCI config: cannot add the MPS mount and variables (no process?)")
		 : 0;
}
