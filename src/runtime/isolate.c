/* SPDX-License-Identifier: Apache-2.0 */
#include "config/config.h"
#include "isolation/isolation.h"
#include "oci/records.h"
#include "runtime/isolate.h"

int nvb_runtime_isolate(const struct nvb_runtime_config *cfg, const struct nvb_runtime_args *args,
			json_t *config, bool *modified, struct nvb_error *err)
{
	const struct nvb_config *c = cfg->cfg;
	struct nvb_isolation_options o = {
		.size = sizeof(o),
		.container_id = args->container_id,
		.engine = nvb_record_guess_engine(args->root, config),
		/* runc's (crun's) state names the container's init process: the claim's life
		 * after the exec (this pid is runc's until create returns); their default roots
		 * as root */
		.runtime_root = args->root ? args->root
			      : !strcmp(nvb_basename(cfg->low_level), "crun") ? "/run/crun" : "/run/runc",
		.holder_pid = 0,
		.flags = NVB_ISOLATION_FROM_ANNOTATIONS |
			 (c->isolation_compute_mode ? NVB_ISOLATION_COMPUTE_MODE : 0),
	};
	if (nvb_isolation_parse(c->isolation_default, &o.level) < 0)
		o.level = NVB_ISOLATION_SHARED; /* the configuration check refused it already */
	bool changed = false;
	int r = nvb_iso_configure(NULL, c->root, config, &o, &changed, err);
	*modified = *modified || changed;
	return r;
}

bool nvb_runtime_isolation_used(void)
{
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation", nvb_state_dir());
	return dir && access(dir, F_OK) == 0;
}

int nvb_runtime_delete_isolated(const struct nvb_runtime_args *args, const char *low_level,
				char **argv)
{
	argv[0] = (char *)low_level;
	int rc = nvb_runtime_run_wait(argv, false);
	if (rc != 0) {
		nvb_info("runtime", "delete %s: %s exited %d: GPU isolation kept", args->container_id,
			 low_level, rc);
		return rc;
	}
	struct nvb_error err;
	if (nvb_record_id_valid(args->container_id) &&
	    nvb_release_gpu_isolation(nvb_state_dir(), args->container_id, &err) < 0)
		nvb_warn("runtime", "delete %s: GPU isolation not released: %s", args->container_id,
			 err.message);
	return 0;
}
