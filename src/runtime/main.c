/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind-runtime: an OCI runtime with runc's command line. For create and run it edits the
 * bundle's config.json (GPU requests -> CDI edits), then execs the low-level runtime with the
 * original arguments; every other command execs it at once, reading at most runtime.low_level
 * of the configuration, and never failing for the configuration's sake.
 *
 * Also installed as nvidia-container-runtime-hook, the name dockerd looks for to enable
 * `docker run --gpus`: the wrapper removes that hook from the spec and applies CDI edits
 * instead, so the hook itself only runs when a container bypasses the wrapper.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "oci/oci.h"
#include "oci/prepare.h"
#include "oci/records.h"
#include "runtime/isolate.h"
#include "runtime/runtime.h"

static long long elapsed_us(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int main(int argc, char **argv)
{
	if (!strcmp(nvb_basename(argv[0]), "nvidia-container-runtime-hook"))
		return nvb_runtime_legacy_hook(argc, argv);

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nvb_log_set_program("nvbind-runtime");
	struct nvb_runtime_args args;
	nvb_runtime_parse_args(argc, argv, &args);
	if (args.version && !args.command)
		return nvb_runtime_print_version(&args);
	struct nvb_runtime_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	/* checkpoint and restore: the GPU state around the low-level runtime's (docs/snapshot.md) */
	if (args.command && args.container_id &&
	    (!strcmp(args.command, "checkpoint") || !strcmp(args.command, "restore"))) {
		if (nvb_runtime_needs_full())
			nvb_runtime_handoff(&args, "GPU snapshots need libcuda");
		return nvb_runtime_snapshot(&args, argc, argv);
	}
	if (!args.edits_bundle) {
		/* pass-through: never depends on the configuration (runtime.h); delete drops the
		 * container's record by name (oci/records.h), a single unlink, and where GPU
		 * isolation is used, releases the container's share once the low-level delete
		 * succeeded (runtime/isolate.h: the state dir only) */
		nvb_runtime_passthrough_low_level(&args, cfg.low_level, sizeof(cfg.low_level));
		if (args.command && !strcmp(args.command, "delete") && args.container_id) {
			/* a claim's release may restore a compute mode through NVML */
			if (nvb_runtime_needs_full() && nvb_runtime_isolation_used())
				nvb_runtime_handoff(&args, "GPU isolation may need NVML");
			nvb_record_remove(nvb_state_dir(), args.container_id, &(struct nvb_error){0});
			if (nvb_runtime_isolation_used())
				return nvb_runtime_delete_isolated(&args, cfg.low_level, argv);
		}
		nvb_runtime_exec(&cfg, argc, argv);
		return 127;
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_runtime_applied applied;
	memset(&applied, 0, sizeof(applied));
	int r = nvb_runtime_config_load(&cfg, &args, &err);
	if (r == 0 && nvb_runtime_needs_full() && cfg.cfg->isolation_compute_mode)
		nvb_runtime_handoff(&args, "isolation.compute_mode needs NVML");
	if (r < 0 || nvb_runtime_edit_bundle(&cfg, &args, &applied, &err) < 0) {
		nvb_runtime_report(&args, &err);
		nvb_runtime_count(err.code != NVB_OK ? err.code : NVB_ERR_IO, elapsed_us(&t0));
		nvb_config_free(cfg.cfg);
		return 1;
	}
	nvb_runtime_write_record(&args, cfg.low_level, &applied);
	nvb_runtime_count(NVB_OK, elapsed_us(&t0));
	nvb_runtime_exec(&cfg, argc, argv);
	nvb_config_free(cfg.cfg);
	return 127;
}
