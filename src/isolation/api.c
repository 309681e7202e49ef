/* SPDX-License-Identifier: Apache-2.0 */
/* nvb_configure_gpu_isolation and nvb_release_gpu_isolation (nvbind.h, docs/isolation.md). */
#include <dirent.h>
#include <time.h>

#include "format/json.h"
#include "isolation/isolation.h"
#include "oci/records.h"

#define ANN_LEVEL "nvbind.io/isolation"
#define ANN_MEMORY "nvbind.io/gpu-memory-limit"
#define ANN_COMPUTE "nvbind.io/gpu-compute-limit"

static const char *const level_names[] = {"shared", "exclusive", "virtual"};

const char *nvb_isolation_name(enum nvb_isolation level)
{
	return (unsigned)level < NVB_ARRAY_SIZE(level_names) ? level_names[level] : NULL;
}

int nvb_isolation_parse(const char *name, enum nvb_isolation *out)
{
	for (size_t i = 0; name && i < NVB_ARRAY_SIZE(level_names); i++)
		if (!strcmp(name, level_names[i])) {
			*out = (enum nvb_isolation)i;
			return 0;
		}
	return -1;
}

/* The caller's struct, of the size it says, into a zeroed one of ours: a newer caller's
 * unknown tail must be zero (nvbind.h's conventions). */
static int options_copy(struct nvb_isolation_options *o, const struct nvb_isolation_options *given,
			struct nvb_error *err)
{
	memset(o, 0, sizeof(*o));
	if (!given || given->size < offsetof(struct nvb_isolation_options, flags) + sizeof(unsigned))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "set size to sizeof(struct nvb_isolation_options)",
				     "nvb_isolation_options: missing or too small");
	const unsigned char *tail = (const unsigned char *)given;
	for (size_t i = sizeof(*o); i < given->size; i++)
		if (tail[i])
			return nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, "use a newer libnvbind",
					     "nvb_isolation_options: fields this library does not know are set");
	memcpy(o, given, given->size < sizeof(*o) ? given->size : sizeof(*o));
	return 0;
}

static const char *annotation(const json_t *config, const char *key)
{
	return json_string_value(json_object_get(json_object_get(config, "annotations"), key));
}

/* The value of NAME in the config's process.env, NULL when absent */
static const char *process_env(const json_t *config, const char *name)
{
	const json_t *env = json_object_get(json_object_get(config, "process"), "env");
	size_t len = strlen(name);
	for (size_t i = 0; i < json_array_size(env); i++) {
		const char *kv = json_string_value(json_array_get(env, i));
		if (kv && !strncmp(kv, name, len) && kv[len] == '=')
			return kv + len + 1;
	}
	return NULL;
}

/* An annotation, else its environment twin: engines without annotations (Bolt's `run` has no
 * --annotation) pass the request as NVBIND_ISOLATION, NVBIND_GPU_MEMORY_LIMIT,
 * NVBIND_GPU_COMPUTE_LIMIT in the container's environment (nvbind run does so). *from names
 * where the value came from, for errors. */
static const char *request(const json_t *config, const char *key, const char *env_name,
			   char *from, size_t cap)
{
	const char *v = annotation(config, key);
	snprintf(from, cap, "annotation %s", key);
	if (!v && (v = process_env(config, env_name)))
		snprintf(from, cap, "environment variable %s", env_name);
	return v;
}

/* Level and limits from the annotations (or their environment twins) over the options' */
static int read_annotations(const json_t *config, struct nvb_isolation_options *o,
			    struct nvb_error *err)
{
	char from[3][96];
	const char *level = request(config, ANN_LEVEL, "NVBIND_ISOLATION", from[0], sizeof(from[0]));
	const char *mem = request(config, ANN_MEMORY, "NVBIND_GPU_MEMORY_LIMIT", from[1], sizeof(from[1]));
	const char *pct = request(config, ANN_COMPUTE, "NVBIND_GPU_COMPUTE_LIMIT", from[2], sizeof(from[2]));
	if (level && nvb_isolation_parse(level, &o->level) < 0)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, "use shared, exclusive or virtual",
				     "%s: unknown level \"%s\"", from[0], level);
	if (mem && nvb_iso_parse_size(mem, &o->memory_limit) < 0)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, "a size such as 16G or 512M",
				     "%s: \"%s\" is not a size", from[1], mem);
	if (pct) {
		char *end;
		long v = strtol(pct, &end, 10);
		if (end == pct || *end || v < 1 || v > 100)
			return nvb_error_set(err, NVB_ERR_INVALID, 0, "a percentage from 1 to 100",
					     "%s: \"%s\"", from[2], pct);
		o->compute_percent = (unsigned)v;
	}
	return 0;
}

static int check_options(const struct nvb_isolation_options *o, struct nvb_error *err)
{
	if (!nvb_isolation_name(o->level))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "isolation level %d unknown", (int)o->level);
	if ((o->memory_limit || o->compute_percent) && o->level != NVB_ISOLATION_VIRTUAL)
		return nvb_error_set(err, NVB_ERR_INVALID, 0,
				     "set the isolation to virtual (annotation " ANN_LEVEL "=virtual)",
				     "GPU memory and compute limits are enforced only by MPS (virtual), "
				     "not with %s isolation", nvb_isolation_name(o->level));
	if (o->compute_percent > 100)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "compute limit %u%% over 100",
				     o->compute_percent);
	if (o->level != NVB_ISOLATION_SHARED && !nvb_record_id_valid(o->container_id))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "a container id of [A-Za-z0-9_.-]",
				     "%s isolation needs a container id", nvb_isolation_name(o->level));
	return 0;
}

/* A driver file of the inventory by base name, as this process sees it */
static char *driver_file(struct nvb_host *host, const struct nvb_inventory *inv,
			 enum nvb_file_kind kind, const char *name)
{
	for (size_t i = 0; i < inv->n_files; i++) {
		const struct nvb_driver_file *f = &inv->files[i];
		bool match = kind == NVB_FILE_LIBRARY ? f->soname && !strcmp(f->soname, name) && f->elf_class != 32
						      : !strcmp(nvb_basename(f->path), name);
		if (f->kind == kind && match)
			return nvb_host_outside_path(host, f->path);
	}
	return NULL;
}

/* Are there claims at all? A shared create on a host without any skips the inventory. */
static bool any_claim(const char *state_dir)
{
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation/claims", state_dir);
	DIR *d = dir ? opendir(dir) : NULL;
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));)
		found = nvb_str_has_suffix(e->d_name, ".json");
	if (d)
		closedir(d);
	return found;
}

static bool has_gpu_node(const json_t *config)
{
	const json_t *devs = json_object_get(json_object_get(config, "linux"), "devices");
	size_t i;
	const json_t *dev;
	json_array_foreach(devs, i, dev) {
		const char *p = json_string_value(json_object_get(dev, "path"));
		if (p && nvb_str_has_prefix(p, "/dev/nvidia") && p[11] >= '0' && p[11] <= '9')
			return true;
	}
	return false;
}

static void make_holder(const struct nvb_isolation_options *o, struct nvb_iso_holder *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->id, sizeof(h->id), "%s", o->container_id ? o->container_id : "");
	snprintf(h->engine, sizeof(h->engine), "%s", o->engine ? o->engine : "unknown");
	snprintf(h->runtime_root, sizeof(h->runtime_root), "%s", o->runtime_root ? o->runtime_root : "");
	h->since = (int64_t)time(NULL);
	h->pid = o->holder_pid ? o->holder_pid : (int64_t)getpid();
	h->pid_start = nvb_iso_pid_start(h->pid);
}

static int isolate(struct nvb_host *host, const struct nvb_inventory *inv, json_t *config,
		   const struct nvb_isolation_options *o, const char *state_dir,
		   const struct nvb_iso_gpu *gpus, size_t n, bool *modified, struct nvb_error *err)
{
	struct nvb_iso_holder h;
	make_holder(o, &h);
	if (o->level == NVB_ISOLATION_SHARED)
		return nvb_iso_check_unclaimed(state_dir, gpus, n, h.id, err);
	if (o->level == NVB_ISOLATION_EXCLUSIVE) {
		struct nvb_iso_compute cm = {.enabled = o->flags & NVB_ISOLATION_COMPUTE_MODE};
		_cleanup_free_ char *nvml = cm.enabled ? driver_file(host, inv, NVB_FILE_LIBRARY,
								     "libnvidia-ml.so.1") : NULL;
		snprintf(cm.nvml, sizeof(cm.nvml), "%s", nvml ? nvml : "");
		return nvb_iso_claim(state_dir, gpus, n, &h, &cm, err);
	}
	_cleanup_free_ char *bin = driver_file(host, inv, NVB_FILE_BINARY, "nvidia-cuda-mps-control");
	char pipe_dir[PATH_MAX];
	if (!bin)
		return nvb_error_set(err, NVB_ERR_DRIVER, 0,
				     "install the driver's MPS binaries, or use another isolation level",
				     "virtual isolation: nvidia-cuda-mps-control is not among the driver "
				     "files of %s", nvb_host_root(host));
	if (nvb_iso_check_unclaimed(state_dir, gpus, n, h.id, err) < 0 ||
	    nvb_iso_mps_join(state_dir, gpus, n, bin, &h, pipe_dir, sizeof(pipe_dir), err) < 0)
		return -1;
	if (nvb_iso_config_mps(config, pipe_dir, gpus, n, o->memory_limit, o->compute_percent, err) < 0) {
		nvb_iso_mps_leave(state_dir, h.id, &(struct nvb_error){0});
		return -1;
	}
	*modified = true;
	return 0;
}

int nvb_iso_configure(struct nvb_host *host, const char *host_root, json_t *config,
		      const struct nvb_isolation_options *opts, bool *modified, struct nvb_error *err)
{
	struct nvb_isolation_options o;
	*modified = false;
	if (options_copy(&o, opts, err) < 0)
		return -1;
	if ((o.flags & NVB_ISOLATION_FROM_ANNOTATIONS) && read_annotations(config, &o, err) < 0)
		return -1;
	if (check_options(&o, err) < 0)
		return -1;
	const char *state_dir = o.state_dir ? o.state_dir : nvb_state_dir();
	if (!has_gpu_node(config) || (o.level == NVB_ISOLATION_SHARED && !any_claim(state_dir)))
		return 0;
	if (!host && !host_root)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "no host: open one with nvb_host_open");
	struct nvb_host *own = NULL;
	if (!host && !(host = own = nvb_host_open(host_root, err)))
		return -1;
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML | NVB_PROBE_NVIDIA, err);
	if (!inv) {
		nvb_host_free(own);
		return -1;
	}
	struct nvb_iso_gpu gpus[NVB_ISO_MAX_GPUS];
	size_t n = 0;
	int r = nvb_iso_config_gpus(config, inv, gpus, &n, err);
	int lock = r == 0 ? nvb_iso_lock(state_dir, err) : -1;
	if (lock >= 0) {
		r = isolate(host, inv, config, &o, state_dir, gpus, n, modified, err);
		close(lock);
	} else {
		r = -1;
	}
	nvb_inventory_free(inv);
	nvb_host_free(own);
	return r;
}

char *nvb_configure_gpu_isolation(struct nvb_host *host, const char *config_json,
				  const struct nvb_isolation_options *opts, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	if (!config_json)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_configure_gpu_isolation: no config"), NULL;
	json_error_t jerr;
	json_t *config = nvb_json_loadb_exact(config_json, strlen(config_json), JSON_REJECT_DUPLICATES,
					      false, &jerr);
	if (!config || !json_is_object(config)) {
		json_decref(config);
		return nvb_error_set(err, NVB_ERR_PARSE, 0, NULL, "OCI config:%d:%d: %s", jerr.line,
				     jerr.column, config ? "not a JSON object" : jerr.text), NULL;
	}
	bool modified;
	char *out = NULL;
	if (nvb_iso_configure(host, NULL, config, opts, &modified, err) == 0 &&
	    !(out = nvb_json_dumps_exact(config, JSON_INDENT(2))))
		nvb_error_nomem(err);
	json_decref(config);
	return out;
}

int nvb_release_gpu_isolation(const char *state_dir, const char *container_id, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	if (!nvb_record_id_valid(container_id))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "a container id of [A-Za-z0-9_.-]",
				     "nvb_release_gpu_isolation: invalid container id");
	state_dir = state_dir ? state_dir : nvb_state_dir();
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation", state_dir);
	if (!dir)
		return nvb_error_nomem(err);
	if (access(dir, F_OK) != 0)
		return 0; /* isolation never used here: no lock file to create on every delete */
	int lock = nvb_iso_lock(state_dir, err);
	if (lock < 0)
		return -1;
	int r = nvb_iso_claims_release(state_dir, container_id, err);
	if (nvb_iso_mps_leave(state_dir, container_id, r == 0 ? err : &(struct nvb_error){0}) < 0)
		r = -1;
	close(lock);
	return r;
}
