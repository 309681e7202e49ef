/* SPDX-License-Identifier: Apache-2.0 */
/* The inventory as JSON: the documented format of `nvbind info --json` (docs/info.md). */
#include <jansson.h>

#include "inventory/inventory.h"

#define DEFAULT_KIND "nvidia.com/gpu"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *nodes_json(const struct nvb_device_node *nodes, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", nodes[i].mode);
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s, s:I, s:I}", "path",
						     nodes[i].path, "major",
						     (json_int_t)nodes[i].major, "minor",
						     (json_int_t)nodes[i].minor, "mode", mode, "uid",
						     (json_int_t)nodes[i].uid, "gid",
						     (json_int_t)nodes[i].gid));
	}
	return arr;
}

static json_t *caps_json(unsigned caps)
{
	json_t *arr = json_array();
	for (unsigned bit = 1; bit <= NVB_CAP_COMPAT32; bit <<= 1)
		if (caps & bit)
			json_array_append_new(arr, json_string(nvb_cap_name((enum nvb_cap)bit)));
	return arr;
}

/* 0 is no PCI id or class a GPU has: it is what an unreadable sysfs attribute leaves, so null */
static json_t *hex_json(unsigned value, int width)
{
	if (value == 0)
		return json_null();
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%0*x", width, value);
	return json_string(buf);
}

/* The qualified CDI name (KIND=0, KIND=0:1) `cdi generate` gives the GPU or MIG device, by the
 * generator's own naming (index strategy), or null when it gives it none. */
static json_t *cdi_name_json(const char *kind, const struct nvb_gpu *g,
			     const struct nvb_mig_device *mig, size_t mig_index)
{
	char name[160], qualified[300];
	if (!nvb_device_name(g, mig, mig_index, NVB_CDI_NAME_INDEX, name, sizeof(name)))
		return json_null();
	snprintf(qualified, sizeof(qualified), "%s=%s", kind, name);
	return json_string(qualified);
}

static bool is_wsl(const struct nvb_inventory *inv)
{
	return inv->platform && !strcmp(inv->platform, "wsl2");
}

/* The vendor facts of gpu_extra, each only when known (absent, not null: NVIDIA GPUs have
 * none of them). */
static void extra_json(json_t *o, const struct nvb_gpu_extra *x)
{
	if (!x)
		return;
	if (x->cdi_id)
		json_object_set_new(o, "cdi_id", json_string(x->cdi_id));
	if (x->partition >= 0)
		json_object_set_new(o, "partition", json_integer(x->partition));
	if (x->compute_partition)
		json_object_set_new(o, "compute_partition", json_string(x->compute_partition));
	if (x->memory_partition)
		json_object_set_new(o, "memory_partition", json_string(x->memory_partition));
	if (x->arch)
		json_object_set_new(o, "arch", json_string(x->arch));
	if (x->kfd_gpu_id)
		json_object_set_new(o, "kfd_gpu_id", json_integer(x->kfd_gpu_id));
}

/* GPU i of inv; its CDI name is of kind (the NVIDIA inventory: the configured kind; the
 * others: their vendor's). Under WSL2 the spec has the one device all. */
static json_t *gpu_json(const struct nvb_inventory *inv, size_t i, const char *kind)
{
	const struct nvb_gpu *g = &inv->gpus[i];
	json_t *o = json_object();
	json_object_set_new(o, "vendor", json_string(nvb_vendor_word(inv->driver.vendor)));
	json_object_set_new(o, "index", json_integer(g->index));
	if (is_wsl(inv)) {
		char q[200];
		snprintf(q, sizeof(q), "%s=all", kind);
		json_object_set_new(o, "cdi_name", g->n_nodes ? json_string(q) : json_null());
	} else {
		json_object_set_new(o, "cdi_name", cdi_name_json(kind, g, NULL, 0));
	}
	extra_json(o, i < inv->n_gpu_extra ? &inv->gpu_extra[i] : NULL);
	json_object_set_new(o, "name", str_or_null(g->name));
	json_object_set_new(o, "uuid", str_or_null(g->uuid));
	json_object_set_new(o, "pci_bus_id", str_or_null(g->pci_bus_id));
	json_object_set_new(o, "minor", g->minor >= 0 ? json_integer(g->minor) : json_null());
	json_t *pci = json_object();
	json_object_set_new(pci, "vendor", hex_json(g->pci_vendor, 4));
	json_object_set_new(pci, "device", hex_json(g->pci_device, 4));
	json_object_set_new(pci, "subsystem_vendor", hex_json(g->pci_subsystem_vendor, 4));
	json_object_set_new(pci, "subsystem_device", hex_json(g->pci_subsystem_device, 4));
	json_object_set_new(pci, "class", hex_json(g->pci_class, 6));
	json_object_set_new(pci, "numa_node", g->numa_node >= 0 ? json_integer(g->numa_node) : json_null());
	json_object_set_new(pci, "driver", str_or_null(g->kernel_driver));
	json_object_set_new(o, "pci", pci);
	json_object_set_new(o, "firmware", str_or_null(g->firmware));
	json_object_set_new(o, "memory_total_bytes",
			    g->memory_total ? json_integer((json_int_t)g->memory_total) : json_null());
	if (g->cc_major >= 0) {
		char cc[16];
		snprintf(cc, sizeof(cc), "%d.%d", g->cc_major, g->cc_minor);
		json_object_set_new(o, "compute_capability", json_string(cc));
	} else {
		json_object_set_new(o, "compute_capability", json_null());
	}
	json_object_set_new(o, "mig_mode",
			    g->mig_mode < 0 ? json_null()
					    : json_string(g->mig_mode ? "enabled" : "disabled"));
	json_object_set_new(o, "device_nodes", nodes_json(g->nodes, g->n_nodes));
	json_t *migs = json_array();
	for (size_t m = 0; m < g->n_migs; m++) {
		const struct nvb_mig_device *mig = &g->migs[m];
		json_array_append_new(migs, json_pack("{s:o, s:I, s:I, s:o, s:o}", "cdi_name",
						      cdi_name_json(kind, g, mig, m), "gi",
						      (json_int_t)mig->gi, "ci", (json_int_t)mig->ci,
						      "uuid", str_or_null(mig->uuid), "device_nodes",
						      nodes_json(mig->nodes, mig->n_nodes)));
	}
	json_object_set_new(o, "mig_devices", migs);
	return o;
}

static json_t *file_json(const struct nvb_driver_file *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", json_string(f->path));
	json_object_set_new(o, "link_path", str_or_null(f->link_path));
	json_object_set_new(o, "kind", json_string(nvb_file_kind_name(f->kind)));
	json_object_set_new(o, "soname", str_or_null(f->soname));
	json_object_set_new(o, "capabilities", caps_json(f->caps));
	json_object_set_new(o, "elf_class", f->elf_class ? json_integer(f->elf_class) : json_null());
	return o;
}

static json_t *skipped_json(const struct nvb_skipped_file *s)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "path", s->path, "kind",
			 nvb_file_kind_name(s->kind), "reason", s->reason, "chosen",
			 str_or_null(s->chosen));
}

static json_t *problem_json(const struct nvb_problem *p, enum nvb_vendor vendor)
{
	static const char *const sev[] = {"info", "warning", "error"};
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "vendor", nvb_vendor_word(vendor), "severity",
			 sev[p->severity], "code", p->code, "message", str_or_null(p->message),
			 "hint", str_or_null(p->hint));
}

/* The CDI kind of an inventory's GPUs: the configured kind is NVIDIA's. */
static const char *inv_kind(const struct nvb_inventory *inv, const char *nvidia_kind)
{
	return inv->driver.vendor == NVB_VENDOR_NVIDIA ? nvidia_kind
						       : nvb_vendor_cdi_kind(inv->driver.vendor);
}

/* One object per inventory of the chain: which driver, how many GPUs, its problems. */
static json_t *driver_entry_json(const struct nvb_inventory *inv, const char *kind)
{
	const struct nvb_driver *d = &inv->driver;
	size_t usable = 0;
	for (size_t i = 0; i < inv->n_gpus; i++)
		usable += inv->gpus[i].n_nodes > 0;
	json_t *o = json_object();
	json_object_set_new(o, "vendor", json_string(nvb_vendor_word(d->vendor)));
	json_object_set_new(o, "kernel_module", str_or_null(d->kernel_module));
	json_object_set_new(o, "version", str_or_null(d->version));
	json_object_set_new(o, "platform", str_or_null(inv->platform));
	json_object_set_new(o, "cdi_kind", json_string(inv_kind(inv, kind)));
	json_object_set_new(o, "gpu_count", json_integer((json_int_t)inv->n_gpus));
	json_object_set_new(o, "gpus_with_nodes", json_integer((json_int_t)usable));
	json_t *problems = json_array();
	for (size_t i = 0; i < inv->n_problems; i++)
		json_array_append_new(problems, problem_json(&inv->problems[i], d->vendor));
	json_object_set_new(o, "problems", problems);
	return o;
}

/* The head's (NVIDIA's) fields as in nvbind 0.1, then every vendor's GPUs, drivers and
 * problems: gpus and problems list the whole chain, each entry with its vendor. */
static json_t *inventory_json(const struct nvb_inventory *inv, const char *kind)
{
	const struct nvb_driver *d = &inv->driver;
	json_t *root = json_object();
	json_object_set_new(root, "nvbind_version", json_string(nvb_version()));
	json_t *drv = json_object();
	json_object_set_new(drv, "vendor", json_string(nvb_vendor_word(d->vendor)));
	json_object_set_new(drv, "version", str_or_null(d->version));
	json_object_set_new(drv, "kernel_module", str_or_null(d->kernel_module));
	json_object_set_new(drv, "version_line", str_or_null(d->version_line));
	json_object_set_new(drv, "firmware_dir", str_or_null(d->firmware_dir));
	json_object_set_new(drv, "nvml", json_boolean(d->nvml_loaded));
	json_object_set_new(drv, "cuda_version", str_or_null(d->cuda_version));
	json_object_set_new(root, "driver", drv);
	json_t *gpus = json_array();
	for (const struct nvb_inventory *v = inv; v; v = v->next)
		for (size_t i = 0; i < v->n_gpus; i++)
			json_array_append_new(gpus, gpu_json(v, i, inv_kind(v, kind)));
	json_object_set_new(root, "gpus", gpus);
	json_object_set_new(root, "platform", str_or_null(inv->platform));
	json_t *drivers = json_array();
	for (const struct nvb_inventory *v = inv; v; v = v->next)
		json_array_append_new(drivers, driver_entry_json(v, kind));
	json_object_set_new(root, "drivers", drivers);
	json_object_set_new(root, "control_nodes",
			    nodes_json(inv->control_nodes, inv->n_control_nodes));
	json_t *files = json_array();
	for (size_t i = 0; i < inv->n_files; i++)
		json_array_append_new(files, file_json(&inv->files[i]));
	json_object_set_new(root, "files", files);
	json_t *missing = json_array();
	for (size_t i = 0; i < inv->n_missing; i++)
		json_array_append_new(missing, json_string(inv->missing[i]));
	json_object_set_new(root, "missing", missing);
	json_t *skipped = json_array();
	for (size_t i = 0; i < inv->n_skipped; i++)
		json_array_append_new(skipped, skipped_json(&inv->skipped[i]));
	json_object_set_new(root, "skipped_files", skipped);
	json_t *problems = json_array();
	for (const struct nvb_inventory *v = inv; v; v = v->next)
		for (size_t i = 0; i < v->n_problems; i++)
			json_array_append_new(problems, problem_json(&v->problems[i], v->driver.vendor));
	json_object_set_new(root, "problems", problems);
	return root;
}

char *nvb_inventory_to_json(const struct nvb_inventory *inv, struct nvb_error *err)
{
	return nvb_inventory_to_json_kind(inv, DEFAULT_KIND, err);
}

char *nvb_inventory_to_json_kind(const struct nvb_inventory *inv, const char *kind,
				 struct nvb_error *err)
{
	json_t *root = inventory_json(inv, kind && kind[0] ? kind : DEFAULT_KIND);
	char *out = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!out)
		nvb_error_nomem(err);
	return out;
}
