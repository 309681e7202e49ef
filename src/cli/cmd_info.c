/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind info: what discovery found, for people (text) and scripts (--json). */
#include <getopt.h>

#include <jansson.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"
#include "inventory/inventory.h"

static void info_usage(FILE *out)
{
	fprintf(out, "Usage: nvbind [--root DIR] info [--json] [--no-nvml]\n"
		     "       nvbind [--root DIR] info --gpus --format=json\n"
		     "\n"
		     "Show each vendor's driver (NVIDIA, AMD, Intel), each GPU, the driver files found\n"
		     "and what is missing.\n"
		     "  --json      machine-readable output (format in docs/info.md)\n"
		     "  --gpus      only the GPUs of every vendor, as a JSON array of {id, vendor, name,\n"
		     "              memory_mb, compute_capability, driver_version, uuid}: id is the\n"
		     "              CDI name to request the GPU by (needs --format=json)\n"
		     "  --no-nvml   do not load libnvidia-ml (memory, compute capability and MIG\n"
		     "              mode are then reported as unknown)\n"
		     "Exit status: 0 (also when the host has no GPU), 1 the host could not be read,\n"
		     "2 usage error, 3 the driver installation has errors (listed under Problems).\n");
}

/* errors of any vendor's inventory in the chain */
static bool has_errors(const struct nvb_inventory *inv)
{
	for (; inv; inv = inv->next)
		for (size_t i = 0; i < inv->n_problems; i++)
			if (inv->problems[i].severity == NVB_PROBLEM_ERROR)
				return true;
	return false;
}

static bool is_wsl(const struct nvb_inventory *inv)
{
	return inv->platform && !strcmp(inv->platform, "wsl2");
}

/* The CDI kind of an inventory's GPUs: the configured kind is NVIDIA's. */
static const char *inv_kind(const struct nvb_inventory *inv, const char *nvidia_kind)
{
	return inv->driver.vendor == NVB_VENDOR_NVIDIA ? nvidia_kind
						       : nvb_vendor_cdi_kind(inv->driver.vendor);
}

/* The name a GPU is requested by: KIND=INDEX as `cdi generate` names it (KIND=all under
 * WSL2, where the spec has no other device); false when it has none (no device node). */
static bool gpu_cdi_name(const struct nvb_inventory *inv, const struct nvb_gpu *g,
			 const char *kind, char *buf, size_t cap)
{
	char name[160];
	if (is_wsl(inv) && g->n_nodes)
		snprintf(name, sizeof(name), "all");
	else if (!nvb_device_name(g, NULL, 0, NVB_CDI_NAME_INDEX, name, sizeof(name)))
		return false;
	snprintf(buf, cap, "%s=%s", kind, name);
	return true;
}

static const char *vendor_title(enum nvb_vendor v)
{
	return v == NVB_VENDOR_AMD ? "AMD" : v == NVB_VENDOR_INTEL ? "Intel" : "NVIDIA";
}

static void print_nodes(const struct nvb_device_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s (%u:%u)", i ? ", " : "", nodes[i].path, nodes[i].major, nodes[i].minor);
}

/* KIND=NAME as `cdi generate` names the device (the same code), or why there is none. */
static void print_cdi_name(const char *kind, const struct nvb_gpu *g,
			   const struct nvb_mig_device *mig, size_t mig_index)
{
	char name[160];
	if (nvb_device_name(g, mig, mig_index, NVB_CDI_NAME_INDEX, name, sizeof(name)))
		printf("%s=%s", kind, name);
	else
		printf("(none: the GPU has no device node)");
}

/* AMD and Intel facts of gpu_extra, when known */
static void print_extra(const struct nvb_gpu_extra *x)
{
	if (x->cdi_id)
		printf("    CDI id:      %s\n", x->cdi_id);
	if (x->arch)
		printf("    Arch:        %s\n", x->arch);
	if (x->partition >= 0)
		printf("    Partition:   %d (compute %s, memory %s)\n", x->partition,
		       x->compute_partition ? x->compute_partition : "unknown",
		       x->memory_partition ? x->memory_partition : "unknown");
}

static void print_gpu(const struct nvb_inventory *inv, size_t i, const char *kind)
{
	const struct nvb_gpu *g = &inv->gpus[i];
	char q[220];
	printf("  GPU %u: %s\n", g->index, g->name ? g->name : "(unknown model)");
	printf("    CDI name:    ");
	if (gpu_cdi_name(inv, g, kind, q, sizeof(q)))
		printf("%s", q);
	else if (g->kernel_driver && !strcmp(g->kernel_driver, "vfio-pci"))
		printf("(none: bound to vfio-pci for passthrough, not injected into containers)");
	else
		printf("(none: the GPU has no device node)");
	printf("\n");
	if (i < inv->n_gpu_extra)
		print_extra(&inv->gpu_extra[i]);
	printf("    UUID:        %s\n", g->uuid ? g->uuid : "(unknown)");
	printf("    PCI bus id:  %s (vendor 0x%04x device 0x%04x, driver %s)\n",
	       g->pci_bus_id ? g->pci_bus_id : "(none)",
	       g->pci_vendor, g->pci_device, g->kernel_driver ? g->kernel_driver : "unknown");
	printf("    Device:      ");
	if (g->n_nodes)
		print_nodes(g->nodes, g->n_nodes);
	else
		printf("(no device node)");
	printf("\n");
	if (g->memory_total)
		printf("    Memory:      %.1f GiB\n", (double)g->memory_total / (1024.0 * 1024 * 1024));
	if (g->cc_major >= 0)
		printf("    Compute:     %d.%d\n", g->cc_major, g->cc_minor);
	if (g->mig_mode >= 0)
		printf("    MIG:         %s\n", g->mig_mode ? "enabled" : "disabled");
	/* the CDI name first: GPU and compute instance ids are not what a container asks for */
	for (size_t m = 0; m < g->n_migs; m++) {
		const struct nvb_mig_device *mig = &g->migs[m];
		printf("    MIG device:  ");
		print_cdi_name(kind, g, mig, m);
		printf(" (GPU instance %u, compute instance %u)%s%s\n", mig->gi, mig->ci,
		       mig->uuid ? " " : "", mig->uuid ? mig->uuid : "");
		printf("                 ");
		print_nodes(mig->nodes, mig->n_nodes);
		printf("\n");
	}
}

static void print_files(const struct nvb_inventory *inv)
{
	size_t per_kind[NVB_FILE_SOCKET + 1] = {0};
	unsigned caps = 0;
	for (size_t i = 0; i < inv->n_files; i++) {
		per_kind[inv->files[i].kind]++;
		caps |= inv->files[i].caps;
	}
	printf("Driver files: %zu (libraries %zu, binaries %zu, firmware %zu, config %zu, sockets %zu)\n",
	       inv->n_files, per_kind[NVB_FILE_LIBRARY], per_kind[NVB_FILE_BINARY],
	       per_kind[NVB_FILE_FIRMWARE], per_kind[NVB_FILE_CONFIG], per_kind[NVB_FILE_SOCKET]);
	printf("Capabilities: ");
	if (!caps)
		printf("none");
	for (unsigned bit = 1; bit <= NVB_CAP_COMPAT32; bit <<= 1)
		if (caps & bit)
			printf("%s ", nvb_cap_name((enum nvb_cap)bit));
	printf("\nMissing:      ");
	if (!inv->n_missing)
		printf("nothing");
	for (size_t i = 0; i < inv->n_missing; i++)
		printf("%s%s", i ? ", " : "", inv->missing[i]);
	printf("\n");
}

/* Files of a driver name that are not mounted: wrapper scripts in place of programs ... */
static void print_skipped(const struct nvb_inventory *inv)
{
	if (!inv->n_skipped)
		return;
	printf("Skipped:      %zu file(s) not used (never mounted)\n", inv->n_skipped);
	for (size_t i = 0; i < inv->n_skipped; i++) {
		const struct nvb_skipped_file *s = &inv->skipped[i];
		printf("  %s (%s) -> %s\n", s->path, s->reason, s->chosen ? s->chosen : "none");
	}
}

static void print_problems(const struct nvb_inventory *inv)
{
	static const char *const sev[] = {"info", "warning", "error"};
	if (!inv->n_problems)
		return;
	printf("Problems:\n");
	for (size_t i = 0; i < inv->n_problems; i++) {
		const struct nvb_problem *p = &inv->problems[i];
		printf("  %s [%s]: %s\n", sev[p->severity], p->code, p->message ? p->message : "");
		if (p->hint)
			printf("    fix: %s\n", p->hint);
	}
}

static void print_driver_line(const struct nvb_inventory *inv)
{
	const struct nvb_driver *d = &inv->driver;
	const char *vendor = vendor_title(d->vendor);
	if (d->version || d->kernel_module)
		printf("Driver:       %s%s%s%s%s%s%s%s%s\n", vendor, d->version ? " " : "",
		       d->version ? d->version : "",
		       d->kernel_module ? " (" : "", d->kernel_module ? d->kernel_module : "",
		       d->kernel_module ? " kernel module)" : "", d->cuda_version ? ", CUDA " : "",
		       d->cuda_version ? d->cuda_version : "", is_wsl(inv) ? ", WSL2" : "");
	else if (is_wsl(inv))
		printf("Driver:       %s (WSL2, /dev/dxg)\n", vendor);
	else
		printf("Driver:       none loaded\n");
}

/* One vendor's section: driver, GPUs, (NVIDIA) control nodes and files, problems. */
static void print_vendor(const struct nvb_inventory *inv, const char *kind)
{
	const struct nvb_driver *d = &inv->driver;
	print_driver_line(inv);
	if (d->firmware_dir)
		printf("Firmware:     %s\n", d->firmware_dir);
	if (inv->n_gpus == 0) {
		printf("GPUs:         none\n");
	} else {
		printf("GPUs:         %zu\n", inv->n_gpus);
		for (size_t i = 0; i < inv->n_gpus; i++)
			print_gpu(inv, i, kind);
	}
	if (inv->n_control_nodes) {
		printf("Control:      ");
		print_nodes(inv->control_nodes, inv->n_control_nodes);
		printf("\n");
	}
	if (d->vendor == NVB_VENDOR_NVIDIA && (d->version || inv->n_files)) {
		print_files(inv);
		print_skipped(inv);
	}
	print_problems(inv);
}

/* Grouped by vendor: NVIDIA first (as before, also without a GPU), then AMD, Intel. */
static void print_text(const struct nvb_inventory *inv, const char *root, const char *kind)
{
	if (strcmp(root, "/") != 0)
		printf("Host root:    %s\n", root);
	bool several = inv->next != NULL;
	for (const struct nvb_inventory *v = inv; v; v = v->next) {
		if (several)
			printf("%s== %s ==\n", v == inv ? "" : "\n", vendor_title(v->driver.vendor));
		print_vendor(v, inv_kind(v, kind));
	}
	size_t gpus = 0;
	for (const struct nvb_inventory *v = inv; v; v = v->next)
		gpus += v->n_gpus;
	if (!inv->driver.version && inv->n_gpus == 0 && !has_errors(inv))
		printf(gpus ? "No NVIDIA GPU found on this host.\n"
			    : "No GPU found on this host (NVIDIA, AMD or Intel).\n");
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The array Bolt asks for: every GPU of every vendor, facts nvbind knows or null. */
static json_t *gpus_array(const struct nvb_inventory *inv, const char *nvidia_kind)
{
	json_t *arr = json_array();
	for (const struct nvb_inventory *v = inv; v; v = v->next) {
		for (size_t i = 0; i < v->n_gpus; i++) {
			const struct nvb_gpu *g = &v->gpus[i];
			char q[220], cc[32];
			json_t *o = json_object();
			bool named = gpu_cdi_name(v, g, inv_kind(v, nvidia_kind), q, sizeof(q));
			json_object_set_new(o, "id", named ? json_string(q) : json_null());
			json_object_set_new(o, "vendor", json_string(nvb_vendor_word(v->driver.vendor)));
			json_object_set_new(o, "index", json_integer(g->index));
			json_object_set_new(o, "name", str_or_null(g->name));
			json_object_set_new(o, "memory_mb",
					    g->memory_total ? json_integer((json_int_t)(g->memory_total >> 20))
							    : json_null());
			snprintf(cc, sizeof(cc), "%d.%d", g->cc_major, g->cc_minor);
			json_object_set_new(o, "compute_capability",
					    g->cc_major >= 0 ? json_string(cc) : json_null());
			json_object_set_new(o, "driver_version", str_or_null(v->driver.version));
			json_object_set_new(o, "uuid", str_or_null(g->uuid));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

static int print_gpus_json(const struct nvb_inventory *inv, const char *kind)
{
	json_t *arr = gpus_array(inv, kind);
	char *text = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(arr);
	if (!text) {
		struct nvb_error err;
		nvb_error_nomem(&err);
		return nvb_cli_fail(&err);
	}
	printf("%s\n", text);
	free(text);
	return NVB_EXIT_OK;
}

int nvb_cmd_info(struct nvb_cli *cli, int argc, char **argv)
{
	bool json = false, gpus = false;
	const char *format = NULL;
	unsigned flags = 0;
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"no-nvml", no_argument, NULL, 'n'},
		{"gpus", no_argument, NULL, 'g'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			flags |= NVB_PROBE_NO_NVML;
			break;
		case 'g':
			gpus = true;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			info_usage(stdout);
			return NVB_EXIT_OK;
		default:
			info_usage(stderr);
			return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("info: unexpected argument '%s'", argv[optind]);
	if (format && strcmp(format, "json") != 0)
		return nvb_cli_usage_error("info: --format '%s' is not known (the one format is json)",
					   format);
	if (gpus && !format && !json)
		return nvb_cli_usage_error("info --gpus: pass --format=json (the list is JSON only)");
	if (format && !gpus)
		json = true; /* --format=json alone is --json */

	struct nvb_error err;
	nvb_error_clear(&err);
	const struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	const char *kind = cfg->cdi_kind; /* the kind cdi generate writes */
	struct nvb_host *host = nvb_cli_host(cli, &err);
	if (!host)
		return nvb_cli_fail(&err);
	struct nvb_inventory *inv = nvb_inventory_probe(host, flags, &err);
	if (!inv) {
		nvb_host_free(host);
		return nvb_cli_fail(&err);
	}
	int rc = has_errors(inv) ? NVB_EXIT_PROBLEMS : NVB_EXIT_OK;
	if (gpus) {
		/* the list is the answer: driver problems are info's to report, not a failure */
		rc = print_gpus_json(inv, kind);
	} else if (json) {
		char *text = nvb_inventory_to_json_kind(inv, kind, &err);
		if (!text)
			rc = nvb_cli_fail(&err);
		else
			printf("%s\n", text);
		free(text);
	} else {
		print_text(inv, nvb_host_root(host), kind);
	}
	nvb_inventory_free(inv);
	nvb_host_free(host);
	return rc;
}
