/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host state nvbind serve reports: the inventory (probed without NVML: the sampler owns
 * NVML), the installed CDI spec's freshness as `nvbind doctor` judges it (its cdi check, run
 * on the same inventory) and whether the device nodes can be opened by this process.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "config/config.h"
#include "doctor/doctor.h"
#include "serve/serve.h"

void nvb_host_state_clear(struct nvb_host_state *st)
{
	nvb_inventory_free(st->inv);
	memset(st, 0, sizeof(*st));
}

char *nvb_host_state_nvml_path(struct nvb_host *host, const struct nvb_inventory *inv)
{
	for (size_t i = 0; inv && i < inv->n_files; i++) {
		const struct nvb_driver_file *f = &inv->files[i];
		if (f->kind == NVB_FILE_LIBRARY && f->elf_class != 32 && f->soname &&
		    strcmp(f->soname, "libnvidia-ml.so.1") == 0)
			return nvb_host_outside_path(host, f->path);
	}
	return NULL;
}

/* The doctor's CDI check on this inventory: its findings say stale, invalid, missing or ok. */
static int spec_state(struct nvb_host *host, const struct nvb_config *cfg,
		      struct nvb_host_state *st, struct nvb_error *err)
{
	struct nvb_doctor_report *report = calloc(1, sizeof(*report));
	if (!report)
		return nvb_error_nomem(err);
	struct nvb_doctor_ctx ctx = {.host = host, .cfg = cfg, .inv = st->inv, .report = report};
	if (nvb_doctor_check_cdi(&ctx, err) < 0) {
		nvb_doctor_report_free(report);
		return -1;
	}
	st->spec_found = ctx.have_cdi_spec;
	snprintf(st->spec_message, sizeof(st->spec_message), "%s",
		 st->spec_found ? "the installed CDI spec is valid and up to date"
				: "no CDI spec is installed");
	for (size_t i = 0; i < report->n_findings; i++) {
		const struct nvb_doctor_finding *f = &report->findings[i];
		bool stale = !strcmp(f->code, "cdi-spec-stale");
		bool invalid = !strcmp(f->code, "cdi-spec-invalid");
		if (stale || invalid || !strcmp(f->code, "cdi-spec-missing"))
			snprintf(st->spec_message, sizeof(st->spec_message), "%s", f->message);
		st->spec_stale |= stale;
		st->spec_invalid |= invalid;
	}
	nvb_doctor_report_free(report);
	return 0;
}

/* The modification time of the configured spec output (cdi.output), inside the root. */
static double spec_mtime(struct nvb_host *host, const struct nvb_config *cfg)
{
	struct nvb_error ignored;
	struct stat sb;
	if (!cfg->cdi_output || !cfg->cdi_output[0])
		return -1;
	_cleanup_close_ int fd = nvb_host_resolve(host, cfg->cdi_output, 0, NULL, &ignored);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return -1;
	return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
}

/* One node: a character device inside the root that this process may read and write. Not
 * opened: opening a GPU node initialises the GPU when persistence mode is off. */
static bool node_usable(struct nvb_host *host, const char *path, char *why, size_t cap)
{
	struct nvb_error e;
	struct stat sb;
	_cleanup_free_ char *resolved = NULL;
	_cleanup_close_ int fd = nvb_host_resolve(host, path, 0, &resolved, &e);
	if (fd < 0) {
		snprintf(why, cap, "%s is missing", path);
		return false;
	}
	if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode)) {
		snprintf(why, cap, "%s is not a character device", path);
		return false;
	}
	_cleanup_free_ char *outside = nvb_host_outside_path(host, resolved);
	if (!outside || access(outside, R_OK | W_OK) < 0) {
		snprintf(why, cap, "%s cannot be opened for reading and writing by uid %u",
			 path, (unsigned)geteuid());
		return false;
	}
	return true;
}

static void nodes_state(struct nvb_host *host, struct nvb_host_state *st)
{
	const struct nvb_inventory *inv = st->inv;
	size_t checked = 0;
	st->nodes_ok = true;
	if (inv->n_gpus && !node_usable(host, "/dev/nvidiactl", st->nodes_message,
					sizeof(st->nodes_message)))
		st->nodes_ok = false;
	for (size_t i = 0; st->nodes_ok && i < inv->n_gpus; i++) {
		if (inv->gpus[i].minor < 0)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/dev/nvidia%d", inv->gpus[i].minor);
		checked++;
		st->nodes_ok = node_usable(host, path, st->nodes_message, sizeof(st->nodes_message));
	}
	if (st->nodes_ok)
		snprintf(st->nodes_message, sizeof(st->nodes_message),
			 "/dev/nvidiactl and %zu GPU node(s) are character devices this process may open",
			 checked);
	if (!inv->n_gpus) {
		st->nodes_ok = false;
		snprintf(st->nodes_message, sizeof(st->nodes_message), "no GPU found");
	}
}

int nvb_host_state_refresh(struct nvb_host *host, const struct nvb_config *cfg,
			   struct nvb_host_state *st, struct nvb_error *err)
{
	struct nvb_host_state next = {0};
	next.inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, err);
	if (!next.inv)
		return -1;
	if (spec_state(host, cfg, &next, err) < 0) {
		nvb_host_state_clear(&next);
		return -1;
	}
	next.spec_mtime = spec_mtime(host, cfg);
	nodes_state(host, &next);
	clock_gettime(CLOCK_MONOTONIC, &next.taken);
	nvb_host_state_clear(st);
	*st = next;
	return 0;
}
