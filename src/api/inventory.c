/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accessors of the inventory for library callers (docs/api.md): a program that reads the
 * inventory only through them depends on no struct layout, so the structs can grow. Each one
 * accepts NULL and an index out of range.
 */
#include "core/core.h"
#include "inventory/inventory.h"

#define GET(obj, expr, none) ((obj) ? (expr) : (none))
#define AT(obj, arr, n, i) ((obj) && (i) < (obj)->n ? &(obj)->arr[i] : NULL)

const char *nvb_inventory_driver_version(const struct nvb_inventory *inv)
{
	return GET(inv, inv->driver.version, NULL);
}

const char *nvb_inventory_kernel_module(const struct nvb_inventory *inv)
{
	return GET(inv, inv->driver.kernel_module, NULL);
}

const char *nvb_inventory_cuda_version(const struct nvb_inventory *inv)
{
	return GET(inv, inv->driver.cuda_version, NULL);
}

size_t nvb_inventory_gpu_count(const struct nvb_inventory *inv)
{
	return GET(inv, inv->n_gpus, 0);
}

const struct nvb_gpu *nvb_inventory_gpu(const struct nvb_inventory *inv, size_t i)
{
	return AT(inv, gpus, n_gpus, i);
}

size_t nvb_inventory_control_node_count(const struct nvb_inventory *inv)
{
	return GET(inv, inv->n_control_nodes, 0);
}

const struct nvb_device_node *nvb_inventory_control_node(const struct nvb_inventory *inv, size_t i)
{
	return AT(inv, control_nodes, n_control_nodes, i);
}

size_t nvb_inventory_file_count(const struct nvb_inventory *inv)
{
	return GET(inv, inv->n_files, 0);
}

const struct nvb_driver_file *nvb_inventory_file(const struct nvb_inventory *inv, size_t i)
{
	return AT(inv, files, n_files, i);
}

size_t nvb_inventory_missing_count(const struct nvb_inventory *inv)
{
	return GET(inv, inv->n_missing, 0);
}

const char *nvb_inventory_missing(const struct nvb_inventory *inv, size_t i)
{
	return inv && i < inv->n_missing ? inv->missing[i] : NULL;
}

size_t nvb_inventory_problem_count(const struct nvb_inventory *inv)
{
	return GET(inv, inv->n_problems, 0);
}

const struct nvb_problem *nvb_inventory_problem(const struct nvb_inventory *inv, size_t i)
{
	return AT(inv, problems, n_problems, i);
}

/* ------------------------------------------------------------------- GPUs */

unsigned nvb_gpu_index(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->index, 0);
}

enum nvb_vendor nvb_gpu_vendor(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->vendor, NVB_VENDOR_NVIDIA);
}

const char *nvb_gpu_name(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->name, NULL);
}

const char *nvb_gpu_uuid(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->uuid, NULL);
}

const char *nvb_gpu_pci_bus_id(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->pci_bus_id, NULL);
}

const char *nvb_gpu_kernel_driver(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->kernel_driver, NULL);
}

int nvb_gpu_minor(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->minor, -1);
}

int nvb_gpu_numa_node(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->numa_node, -1);
}

uint64_t nvb_gpu_memory_total(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->memory_total, 0);
}

int nvb_gpu_mig_mode(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->mig_mode, -1);
}

int nvb_gpu_compute_capability(const struct nvb_gpu *gpu, int *major, int *minor)
{
	if (!gpu || gpu->cc_major < 0)
		return -1;
	if (major)
		*major = gpu->cc_major;
	if (minor)
		*minor = gpu->cc_minor;
	return 0;
}

size_t nvb_gpu_node_count(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->n_nodes, 0);
}

const struct nvb_device_node *nvb_gpu_node(const struct nvb_gpu *gpu, size_t i)
{
	return AT(gpu, nodes, n_nodes, i);
}

size_t nvb_gpu_mig_count(const struct nvb_gpu *gpu)
{
	return GET(gpu, gpu->n_migs, 0);
}

const struct nvb_mig_device *nvb_gpu_mig(const struct nvb_gpu *gpu, size_t i)
{
	return AT(gpu, migs, n_migs, i);
}

unsigned nvb_mig_gi(const struct nvb_mig_device *mig)
{
	return GET(mig, mig->gi, 0);
}

unsigned nvb_mig_ci(const struct nvb_mig_device *mig)
{
	return GET(mig, mig->ci, 0);
}

const char *nvb_mig_uuid(const struct nvb_mig_device *mig)
{
	return GET(mig, mig->uuid, NULL);
}

/* ---------------------------------------------------- nodes, files, problems */

const char *nvb_device_node_path(const struct nvb_device_node *node)
{
	return GET(node, node->path, NULL);
}

uint32_t nvb_device_node_major(const struct nvb_device_node *node)
{
	return GET(node, node->major, 0);
}

uint32_t nvb_device_node_minor(const struct nvb_device_node *node)
{
	return GET(node, node->minor, 0);
}

const char *nvb_driver_file_path(const struct nvb_driver_file *file)
{
	return GET(file, file->path, NULL);
}

enum nvb_file_kind nvb_driver_file_kind(const struct nvb_driver_file *file)
{
	return GET(file, file->kind, NVB_FILE_LIBRARY);
}

const char *nvb_driver_file_soname(const struct nvb_driver_file *file)
{
	return GET(file, file->soname, NULL);
}

unsigned nvb_driver_file_caps(const struct nvb_driver_file *file)
{
	return GET(file, file->caps, 0);
}

enum nvb_problem_kind nvb_problem_severity(const struct nvb_problem *problem)
{
	return GET(problem, problem->severity, NVB_PROBLEM_INFO);
}

const char *nvb_problem_code(const struct nvb_problem *problem)
{
	return GET(problem, problem->code, NULL);
}

const char *nvb_problem_message(const struct nvb_problem *problem)
{
	return GET(problem, problem->message, NULL);
}

const char *nvb_problem_hint(const struct nvb_problem *problem)
{
	return GET(problem, problem->hint, NULL);
}

/* ---- several vendors ---- */

const struct nvb_inventory *nvb_inventory_next(const struct nvb_inventory *inv)
{
	return GET(inv, inv->next, NULL);
}

enum nvb_vendor nvb_inventory_vendor(const struct nvb_inventory *inv)
{
	return GET(inv, inv->driver.vendor, NVB_VENDOR_NVIDIA);
}

const char *nvb_inventory_platform(const struct nvb_inventory *inv)
{
	return GET(inv, inv->platform, NULL);
}

const char *nvb_vendor_name(enum nvb_vendor vendor)
{
	return nvb_vendor_word(vendor);
}

static const struct nvb_gpu_extra *gpu_extra(const struct nvb_inventory *inv, size_t i)
{
	return (inv && inv->gpu_extra && i < inv->n_gpus) ? &inv->gpu_extra[i] : NULL;
}

const char *nvb_inventory_gpu_cdi_id(const struct nvb_inventory *inv, size_t i)
{
	const struct nvb_gpu_extra *x = gpu_extra(inv, i);
	return x ? x->cdi_id : NULL;
}

int nvb_inventory_gpu_partition(const struct nvb_inventory *inv, size_t i)
{
	const struct nvb_gpu_extra *x = gpu_extra(inv, i);
	return x ? x->partition : -1;
}

const char *nvb_inventory_gpu_arch(const struct nvb_inventory *inv, size_t i)
{
	const struct nvb_gpu_extra *x = gpu_extra(inv, i);
	return x ? x->arch : NULL;
}
