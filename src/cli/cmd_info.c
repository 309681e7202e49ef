/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind info: what discovery found, for people (text) and scripts (--json). */
#include <getopt.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"
#include "inventory/inventory.h"

static void info_usage(FILE *out)
{
	fprintf(out, "Usage: nvbind [--root DIR] info [--json] [--no-nvml]\n"
		     "\n"
		     "Show the driver, each GPU, the driver files found and what is missing.\n"
		     "  --json      machine-readable output (format in docs/info.md)\n"
		     "  --no-nvml   do not load libnvidia-ml (memory, compute capability and MIG\n"
		     "              mode are then reported as unknown)\n"
		     "Exit status: 0 (also when the host has no GPU), 1 the host could not be read,\n"
		     "2 usage error, 3 the driver installation has errors (listed under Problems).\n");
}

static bool has_errors(const struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_problems; i++)
		if (inv->problems[i].severity == NVB_PROBLEM_ERROR)
			return true;
	return false;
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

static void print_gpu(const struct nvb_gpu *g, const char *kind)
{
	printf("  GPU %u: %s\n", g->index, g->name ? g->name : "(unknown model)");
	printf("    CDI name:    ");
	print_cdi_name(kind, g, NULL, 0);
	printf("\n");
	printf("    UUID:        %s\n", g->uuid ? g->uuid : "(unknown)");
	printf("    PCI bus id:  %s (vendor 0x%04x device 0x%04x, driver %s)\n", g->pci_bus_id,
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

static void print_text(const struct nvb_inventory *inv, const char *root, const char *kind)
{
	const struct nvb_driver *d = &inv->driver;
	if (strcmp(root, "/") != 0)
		printf("Host root:    %s\n", root);
	if (d->version)
		printf("Driver:       NVIDIA %s%s%s%s%s%s\n", d->version,
		       d->kernel_module ? " (" : "", d->kernel_module ? d->kernel_module : "",
		       d->kernel_module ? " kernel module)" : "", d->cuda_version ? ", CUDA " : "",
		       d->cuda_version ? d->cuda_version : "");
	else
		printf("Driver:       none loaded\n");
	if (d->firmware_dir)
		printf("Firmware:     %s\n", d->firmware_dir);
	if (inv->n_gpus == 0) {
		printf("GPUs:         none\n");
	} else {
		printf("GPUs:         %zu\n", inv->n_gpus);
		for (size_t i = 0; i < inv->n_gpus; i++)
			print_gpu(&inv->gpus[i], kind);
	}
	if (inv->n_control_nodes) {
		printf("Control:      ");
		print_nodes(inv->control_nodes, inv->n_control_nodes);
		printf("\n");
	}
	if (d->version) {
		print_files(inv);
		print_skipped(inv);
	}
	print_problems(inv);
	if (!d->version && inv->n_gpus == 0 && !has_errors(inv))
		printf("No NVIDIA GPU found on this host.\n");
}

int nvb_cmd_info(struct nvb_cli *cli, int argc, char **argv)
{
	bool json = false;
	unsigned flags = 0;
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"no-nvml", no_argument, NULL, 'n'},
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
	if (json) {
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
