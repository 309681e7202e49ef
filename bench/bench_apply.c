/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_apply: the in-process cost of applying a resolved CDI device to an OCI config.json.
 *
 *   bench_apply --bundle DIR --spec-dir DIR --device KIND=NAME [-n ITERATIONS] [-o SAMPLES.tsv]
 *               [--label PREFIX] [--expect-node PATH]
 *
 * Loads DIR/config.json once (nvb_oci_config_load) and the specs of --spec-dir through the
 * registry, resolves --device, then for each iteration, interleaved (the order rotates):
 *   PREFIX-apply    nvb_oci_apply_edits(copy, {spec edits, device edits}) on a json_deep_copy
 *                   of the config (the copy is made outside the clock);
 *   PREFIX-prepare  nvb_runtime_prepare(copy, opts) on a copy carrying the annotation
 *                   cdi.k8s.io/bench=KIND=NAME: request parsing, registry load (reads and parses
 *                   the spec files), resolution and apply: the wrapper's whole in-memory work;
 *   PREFIX-load     nvb_oci_config_load(DIR): reading and parsing config.json, which any runtime
 *                   wrapper must do; the baseline.
 * Each is checked (return code, the device node in linux.devices); a failure exits 1.
 * Samples go to SAMPLES.tsv as "label<TAB>iteration<TAB>ns<TAB>maxrss_kib" (the process's peak
 * RSS at the end); a summary in microseconds goes to stdout.
 *
 *   bench_apply --write-config OUT --bundle DIR --spec-dir DIR --device KIND=NAME
 *
 * Writes to OUT the config.json a CDI-aware engine (podman, Docker 25+, containerd) hands runc
 * for --device KIND=NAME: DIR/config.json with the spec's edits applied by nvb_runtime_prepare
 * without a bundle, so that nvbind's library work stays one hook (the spec's nvbind-hook, at
 * createRuntime) instead of being done in process as the wrapper does. The device
 * is asked for by annotation (no capability filtering: every mount of the spec, as an engine
 * applies it); the annotation is not kept in OUT. Fails unless OUT has the device node and
 * exactly one hook.
 */
#include <inttypes.h>
#include <sys/resource.h>
#include <time.h>

#include "cdi/cdi.h"
#include "oci/oci.h"
#include "oci/prepare.h"

enum { T_APPLY, T_PREPARE, T_LOAD, N_T };
static const char *const names[N_T] = {"apply", "prepare", "load"};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, const struct nvb_error *err)
{
	fprintf(stderr, "bench_apply: error: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
	exit(1);
}

/* The config has a device node at path in linux.devices. */
static bool has_node(json_t *config, const char *path)
{
	json_t *devs = json_object_get(json_object_get(config, "linux"), "devices");
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d) {
		const char *p = json_string_value(json_object_get(d, "path"));
		if (p && !strcmp(p, path))
			return true;
	}
	return false;
}

/* The number of hooks, of every stage. */
static size_t n_hooks(json_t *config)
{
	size_t n = 0;
	const char *stage;
	json_t *list;
	json_object_foreach(json_object_get(config, "hooks"), stage, list)
		n += json_array_size(list);
	return n;
}

/* The --write-config mode (see the header). */
static int write_config(const char *out, const char *bundle, const char *spec_dir,
			const char *device, const char *expect_node)
{
	struct nvb_error err;
	nvb_error_clear(&err);
	json_t *config = nvb_oci_config_load(bundle, &err);
	if (!config)
		fail("loading config.json", &err);
	if (has_node(config, expect_node) || n_hooks(config))
		fail("config.json already has the device node or a hook", NULL);
	json_t *ann = json_object_get(config, "annotations");
	bool had_annotations = ann != NULL;
	if (!ann) {
		ann = json_object();
		json_object_set_new(config, "annotations", ann);
	}
	json_object_set_new(ann, "cdi.k8s.io/bench", json_string(device));
	const char *dirs[] = {spec_dir};
	struct nvb_runtime_opts opts = {.spec_dirs = dirs, .n_spec_dirs = 1, .hook_path = "/unused"};
	struct nvb_runtime_result res;
	if (nvb_runtime_prepare(config, &opts, &res, &err) < 0)
		fail("nvb_runtime_prepare", &err);
	json_object_del(ann, "cdi.k8s.io/bench");
	if (!had_annotations)
		json_object_del(config, "annotations");
	if (!has_node(config, expect_node) || n_hooks(config) != 1)
		fail("the CDI config lacks the device node or its one hook", NULL);
	char *text = nvb_json_dumps_exact(config, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	FILE *f = text ? fopen(out, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail("cannot write the CDI config", NULL);
	printf("%s: %s, %zu mounts, %zu device nodes, 1 hook\n", out, res.summary,
	       json_array_size(json_object_get(config, "mounts")),
	       json_array_size(json_object_get(json_object_get(config, "linux"), "devices")));
	free(text);
	json_decref(config);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	k = k < 1 ? 1 : k > n ? n : k;
	return v[k - 1];
}

int main(int argc, char **argv)
{
	const char *bundle = NULL, *spec_dir = NULL, *device = NULL, *samples = NULL;
	const char *label = "apply", *expect_node = "/dev/nvidia0", *write_out = NULL;
	long iterations = 10000;
	for (int i = 1; i < argc; i += 2) { /* option and value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--bundle"))
			bundle = v;
		else if (!strcmp(argv[i], "--spec-dir"))
			spec_dir = v;
		else if (!strcmp(argv[i], "--device"))
			device = v;
		else if (!strcmp(argv[i], "-n"))
			iterations = atol(v);
		else if (!strcmp(argv[i], "-o"))
			samples = v;
		else if (!strcmp(argv[i], "--label"))
			label = v;
		else if (!strcmp(argv[i], "--expect-node"))
			expect_node = v;
		else if (!strcmp(argv[i], "--write-config"))
			write_out = v;
		else
			goto usage;
	}
	if (!bundle || !spec_dir || !device || iterations < 1)
		goto usage;
	if (write_out)
		return write_config(write_out, bundle, spec_dir, device, expect_node);

	struct nvb_error err;
	nvb_error_clear(&err);
	json_t *config = nvb_oci_config_load(bundle, &err);
	if (!config)
		fail("loading config.json", &err);
	if (has_node(config, expect_node))
		fail("config.json already has the device node: nothing to measure", NULL);
	const char *dirs[] = {spec_dir};
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 1, &err);
	if (!reg)
		fail("loading the CDI specs", &err);
	const struct nvb_cdi_entry *e = nvb_cdi_registry_find(reg, device);
	if (!e) {
		fprintf(stderr, "bench_apply: error: %s not found in %s (%zu devices, %zu errors%s%s)\n",
			device, spec_dir, reg->n_entries, reg->n_errors, reg->n_errors ? ": " : "",
			reg->n_errors ? reg->errors[0] : "");
		return 1;
	}
	const struct nvb_cdi_edits *edits[] = {&e->spec->edits, &e->device->edits};

	/* the config prepare gets: the same one, asking for the device by CDI annotation */
	json_t *requested = json_deep_copy(config);
	json_t *ann = json_object_get(requested, "annotations");
	if (!ann) {
		ann = json_object();
		json_object_set_new(requested, "annotations", ann);
	}
	json_object_set_new(ann, "cdi.k8s.io/bench", json_string(device));
	struct nvb_runtime_opts opts = {
		.spec_dirs = dirs,
		.n_spec_dirs = 1,
		.hook_path = "/usr/bin/nvbind",
	};

	size_t n = (size_t)iterations;
	uint64_t *t[N_T];
	for (int k = 0; k < N_T; k++)
		if (!(t[k] = calloc(n, sizeof(uint64_t))))
			fail("out of memory", NULL);

	size_t mounts_before = json_array_size(json_object_get(config, "mounts"));
	size_t mounts_after = 0, devices_after = 0;
	for (size_t it = 0; it < n; it++) {
		for (int j = 0; j < N_T; j++) {
			int k = (int)((it + (size_t)j) % N_T);
			uint64_t t0, t1;
			if (k == T_APPLY) {
				json_t *copy = json_deep_copy(config);
				t0 = now_ns();
				int rc = nvb_oci_apply_edits(copy, edits, 2, &err);
				t1 = now_ns();
				if (rc < 0)
					fail("nvb_oci_apply_edits", &err);
				if (!has_node(copy, expect_node))
					fail("apply did not add the device node", NULL);
				mounts_after = json_array_size(json_object_get(copy, "mounts"));
				devices_after = json_array_size(
					json_object_get(json_object_get(copy, "linux"), "devices"));
				json_decref(copy);
			} else if (k == T_PREPARE) {
				json_t *copy = json_deep_copy(requested);
				struct nvb_runtime_result res;
				t0 = now_ns();
				int rc = nvb_runtime_prepare(copy, &opts, &res, &err);
				t1 = now_ns();
				if (rc < 0)
					fail("nvb_runtime_prepare", &err);
				if (res.n_devices != 1 || !res.modified || !has_node(copy, expect_node))
					fail("nvb_runtime_prepare applied no device", NULL);
				json_decref(copy);
			} else {
				t0 = now_ns();
				json_t *c = nvb_oci_config_load(bundle, &err);
				t1 = now_ns();
				if (!c)
					fail("nvb_oci_config_load", &err);
				json_decref(c);
			}
			t[k][it] = t1 - t0;
		}
	}

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (samples) {
		FILE *f = fopen(samples, "a");
		if (!f)
			fail("cannot open the samples file", NULL);
		for (int k = 0; k < N_T; k++)
			for (size_t it = 0; it < n; it++)
				fprintf(f, "%s-%s\t%zu\t%" PRIu64 "\t%ld\n", label, names[k], it, t[k][it],
					ru.ru_maxrss);
		if (fclose(f) != 0)
			fail("cannot write the samples file", NULL);
	}
	printf("%s: %s from %s: %zu device nodes, %zu -> %zu mounts after apply; peak RSS %ld KiB\n",
	       label, device, spec_dir, devices_after, mounts_before, mounts_after, ru.ru_maxrss);
	for (int k = 0; k < N_T; k++) {
		qsort(t[k], n, sizeof(uint64_t), cmp_u64);
		printf("  %-8s n=%zu  median %8.1f us  p95 %8.1f us  p99 %8.1f us  max %8.1f us\n",
		       names[k], n, (double)pct(t[k], n, 50) / 1e3, (double)pct(t[k], n, 95) / 1e3,
		       (double)pct(t[k], n, 99) / 1e3, (double)t[k][n - 1] / 1e3);
		free(t[k]);
	}
	json_decref(requested);
	json_decref(config);
	nvb_cdi_registry_free(reg);
	return 0;

usage:
	fprintf(stderr, "usage: bench_apply --bundle DIR --spec-dir DIR --device KIND=NAME "
			"[-n ITERATIONS] [-o SAMPLES.tsv] [--label PREFIX] [--expect-node PATH]\n"
			"       bench_apply --write-config OUT --bundle DIR --spec-dir DIR --device KIND=NAME\n");
	return 2;
}
