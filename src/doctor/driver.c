/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, check "driver": the inventory's problems, driver files the host lacks, and the
 * driver found (docs/doctor.md). */
#include "doctor/checks.h"

static size_t count_libraries(const struct nvb_inventory *inv)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->n_files; i++)
		n += inv->files[i].kind == NVB_FILE_LIBRARY;
	return n;
}

/* ------------------------------------------------------- 1. driver, files */

static enum nvb_doctor_severity from_problem(enum nvb_problem_kind k)
{
	switch (k) {
	case NVB_PROBLEM_INFO:
		return NVB_DOCTOR_INFO;
	case NVB_PROBLEM_WARNING:
		return NVB_DOCTOR_WARNING;
	default:
		return NVB_DOCTOR_ERROR;
	}
}

static bool essential_library(const char *missing)
{
	return strcmp(missing, "libcuda.so") == 0 || strcmp(missing, "libnvidia-ml.so") == 0;
}

int nvb_doctor_check_driver(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "driver";
	const struct nvb_inventory *inv = ctx->inv;
	size_t before = ctx->report->n_findings;
	bool bad = false;
	for (size_t i = 0; i < inv->n_problems; i++) {
		const struct nvb_problem *p = &inv->problems[i];
		if (ADD(ctx, from_problem(p->severity), check, p->code, p->hint, "%s",
			p->message ? p->message : p->code) < 0)
			return -1;
		bad = bad || p->severity != NVB_PROBLEM_INFO;
	}
	const char *version = inv->driver.version;
	/* Files of the catalogue that the running driver ships but the host lacks (when none at
	 * all was found, the inventory reported libraries-missing or library-version-mismatch). */
	if (version && count_libraries(inv) > 0 && inv->n_missing > 0) {
		char essential[256] = "", other[768] = "";
		bool no_cuda = false, no_nvml = false;
		for (size_t i = 0; i < inv->n_missing; i++) {
			const char *name = inv->missing[i];
			bool ess = essential_library(name);
			no_cuda = no_cuda || strcmp(name, "libcuda.so") == 0;
			no_nvml = no_nvml || strcmp(name, "libnvidia-ml.so") == 0;
			char *buf = ess ? essential : other;
			size_t cap = ess ? sizeof(essential) : sizeof(other);
			size_t used = strlen(buf);
			/* libraries as the file the driver ships: <stem>.so.<version> */
			if (used + 2 < cap)
				snprintf(buf + used, cap - used, "%s%s%s%s", used ? ", " : "", name,
					 nvb_str_has_suffix(name, ".so") ? "." : "",
					 nvb_str_has_suffix(name, ".so") ? version : "");
		}
		_cleanup_free_ char *cmd = nvb_doctor_nvbind_cmd(ctx);
		_cleanup_free_ char *fix =
		    cmd ? nvb_asprintf("reinstall the NVIDIA user-space driver package of version "
				       "%s (e.g. libnvidia-compute / nvidia-driver, or the .run "
				       "installer), run ldconfig, then '%scdi generate'",
				       version, cmd)
			: NULL;
		if (!fix)
			return nvb_error_nomem(err);
		if (essential[0] &&
		    ADD(ctx, NVB_DOCTOR_ERROR, check, "library-missing", fix,
			"%s not found (no ld.so.cache entry or library directory leads to it): "
			"containers get no %s",
			essential,
			no_cuda && no_nvml ? "CUDA and no NVML (nvidia-smi)"
			: no_cuda	   ? "CUDA"
					   : "NVML (nvidia-smi)") < 0)
			return -1;
		if (other[0] && ADD(ctx, NVB_DOCTOR_WARNING, check, "driver-files-missing", fix,
				    "driver %s: %s not found: containers that need them fail",
				    version, other) < 0)
			return -1;
		bad = true;
	}
	if (version && !bad) {
		if (ADD(ctx, NVB_DOCTOR_OK, check, "driver-ok", NULL,
			"NVIDIA driver %s (%s kernel module), %zu GPU(s), %zu driver files of "
			"this version",
			version, inv->driver.kernel_module ? inv->driver.kernel_module : "unknown",
			inv->n_gpus, inv->n_files) < 0)
			return -1;
	}
	if (!version && inv->n_gpus == 0 && ctx->report->n_findings == before &&
	    ADD(ctx, NVB_DOCTOR_INFO, check, "no-gpu", NULL, "no NVIDIA driver and no GPU found") <
		0)
		return -1;
	return 0;
}
