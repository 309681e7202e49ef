/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvbind example (docs/api.md): open a host root, discover its GPUs, generate its CDI spec,
 * and give GPU 0 to a container by editing its OCI config.json.
 *
 *   cc example.c $(pkg-config --cflags --libs nvbind) -o example
 *   ./example [--root DIR] [--spec-dir DIR] [--bundle DIR] [CONFIG.json]
 *
 * --root      the host root (default /)
 * --spec-dir  also write the spec there (nvidia.com-gpu.json) and resolve the device in it;
 *             without it the installed specs are used (/etc/cdi, /var/run/cdi in the root),
 *             or a spec generated from the host when none is installed
 * --bundle    the OCI bundle of the container: its config.json is edited (unless CONFIG.json
 *             is given) and the driver libraries' links and loader cache are made in its
 *             root file system now, as nvbind-runtime does, instead of a hook doing it later
 *
 * The edited config is printed as the last line of the output; nothing is written to it.
 */
#define NVBIND_OPAQUE /* only accessors: no struct layout of the library is compiled in */
#include <nvbind/nvbind.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's log messages, here to stderr with a count. The callback can be called from
 * any thread that calls into the library. */
static void log_message(enum nvb_log_level level, const char *module, const char *message,
			void *user_data)
{
	unsigned *count = user_data;
	(*count)++;
	fprintf(stderr, "example: nvbind %s (level %d): %s\n", module, (int)level, message);
}

static int fail(const char *what, const struct nvb_error *err)
{
	fprintf(stderr, "example: %s: %s [%s]\n", what, err->message, nvb_errc_name(err->code));
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	return 1;
}

static void print_inventory(const struct nvb_inventory *inv)
{
	const char *version = nvb_inventory_driver_version(inv);
	printf("driver %s (%s kernel module), %zu GPU(s), %zu driver files\n",
	       version ? version : "none", nvb_inventory_kernel_module(inv) ? nvb_inventory_kernel_module(inv) : "no",
	       nvb_inventory_gpu_count(inv), nvb_inventory_file_count(inv));
	for (size_t i = 0; i < nvb_inventory_gpu_count(inv); i++) {
		const struct nvb_gpu *gpu = nvb_inventory_gpu(inv, i);
		const struct nvb_device_node *node = nvb_gpu_node(gpu, 0);
		printf("gpu %u: %s %s at %s, %s\n", nvb_gpu_index(gpu),
		       nvb_gpu_name(gpu) ? nvb_gpu_name(gpu) : "?", nvb_gpu_uuid(gpu) ? nvb_gpu_uuid(gpu) : "?",
		       nvb_gpu_pci_bus_id(gpu), node ? nvb_device_node_path(node) : "no device node");
	}
	for (size_t i = 0; i < nvb_inventory_problem_count(inv); i++) {
		const struct nvb_problem *p = nvb_inventory_problem(inv, i);
		printf("problem %s: %s\n", nvb_problem_code(p), nvb_problem_message(p));
	}
}

int main(int argc, char **argv)
{
	const char *root = "/", *spec_dir = NULL, *bundle = NULL, *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (!strcmp(argv[i], "--spec-dir") && i + 1 < argc)
			spec_dir = argv[++i];
		else if (!strcmp(argv[i], "--bundle") && i + 1 < argc)
			bundle = argv[++i];
		else if (argv[i][0] != '-' && !config)
			config = argv[i];
		else {
			fprintf(stderr, "usage: %s [--root DIR] [--spec-dir DIR] [--bundle DIR] [CONFIG.json]\n", argv[0]);
			return 2;
		}
	}
	char bundle_config[4096];
	if (!config && bundle) {
		snprintf(bundle_config, sizeof(bundle_config), "%s/config.json", bundle);
		config = bundle_config;
	}
	if (!config) {
		fprintf(stderr, "example: give CONFIG.json or --bundle\n");
		return 2;
	}

	/* logging is global: set it up before anything else, and before starting threads */
	unsigned messages = 0;
	nvb_log_set_callback(log_message, &messages);
	nvb_log_set_level(NVB_LOG_INFO);
	printf("libnvbind %s\n", nvb_version());

	int rc = 1;
	struct nvb_error err;
	struct nvb_inventory *inv = NULL;
	char *spec = NULL, *edited = NULL;
	struct nvb_host *host = nvb_host_open(root, &err);
	if (!host)
		return fail("open the host root", &err);

	/* 1. discovery: a host without GPU or driver is an inventory with problems, not an error */
	inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	if (!inv) {
		rc = fail("discover", &err);
		goto out;
	}
	print_inventory(inv);

	/* 2. the CDI spec `nvbind cdi generate` would write, as YAML text, and to a file */
	struct nvb_cdi_options cdi = {
		.size = sizeof(cdi),
		.naming = NVB_NAMING_INDEX | NVB_NAMING_UUID,
		.format = NVB_SPEC_YAML,
	};
	spec = nvb_cdi_generate_string(host, inv, &cdi, &err);
	if (!spec) {
		rc = fail("generate the CDI spec", &err);
		goto out;
	}
	printf("spec: %zu bytes of YAML, starting %.*s\n", strlen(spec), (int)strcspn(spec, "\n"), spec);
	if (spec_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/nvidia.com-gpu.json", spec_dir);
		if (nvb_cdi_generate_file(host, inv, &cdi, path, &err) < 0) {
			rc = fail("write the CDI spec", &err);
			goto out;
		}
		printf("spec written to %s\n", path);
	}

	/* 3. GPU 0 for the container: resolved in the spec, applied to the config */
	const char *devices[] = {"nvidia.com/gpu=0"};
	const char *dirs[] = {spec_dir};
	struct nvb_apply_options apply = {
		.size = sizeof(apply),
		.devices = devices,
		.n_devices = 1,
		.spec_dirs = spec_dir ? dirs : NULL,
		.n_spec_dirs = spec_dir ? 1 : 0,
		.bundle = bundle,
	};
	edited = nvb_oci_apply_file(host, config, &apply, &err);
	if (!edited) {
		rc = fail("apply nvidia.com/gpu=0", &err);
		goto out;
	}
	printf("%u log message(s)\n", messages);
	printf("%s\n", edited);
	rc = 0;
out:
	nvb_free(edited);
	nvb_free(spec);
	nvb_inventory_free(inv);
	nvb_host_free(host);
	return rc;
}
