/* SPDX-License-Identifier: Apache-2.0 */
#include "cdi/cdi.h"
#include "engines/cmdline.h"
#include "engines/engines.h"

static int push_all(struct nvb_strv *out, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (nvb_strv_push(out, v[i]) < 0)
			return -1;
	return 0;
}

static int push2(struct nvb_strv *out, const char *a, const char *b)
{
	return nvb_strv_push(out, a) < 0 || nvb_strv_push(out, b) < 0 ? -1 : 0;
}

bool nvb_cmdline_uses_cdi(const struct nvb_cmdline *c)
{
	return c->engine == NVB_ENGINE_PODMAN ||
	       (c->engine == NVB_ENGINE_DOCKER && c->gpus != NVB_CMDLINE_GPUS_NONE &&
		c->docker_major >= NVB_DOCKER_CDI_MAJOR);
}

static int cdi_device(struct nvb_strv *out, const char *kind, const char *item)
{
	char buf[512];
	const char *k, *n;
	if (nvb_cdi_parse_qualified(item, buf, sizeof(buf), &k, &n) == 0)
		return push2(out, "--device", item);
	return nvb_strv_push(out, "--device") < 0 || nvb_strv_pushf(out, "%s=%s", kind, item) < 0 ? -1 : 0;
}

static int cdi_options(const struct nvb_cmdline *c, struct nvb_strv *out)
{
	if (c->gpus == NVB_CMDLINE_GPUS_LIST && c->devices) {
		_cleanup_free_ char *list = strdup(c->devices);
		if (!list)
			return -1;
		char *save = NULL;
		for (char *d = strtok_r(list, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			d = nvb_strstrip(d);
			if (*d && cdi_device(out, c->cdi_kind, d) < 0)
				return -1;
		}
	}
	/* the CDI edits decide; an NVIDIA_VISIBLE_DEVICES from the image must not add GPUs
	 * through a runtime wrapper */
	if (!c->keep_image_env && push2(out, "-e", "NVIDIA_VISIBLE_DEVICES=void") < 0)
		return -1;
	return 0;
}

static int runtime_options(const struct nvb_cmdline *c, struct nvb_strv *out)
{
	bool none = c->gpus == NVB_CMDLINE_GPUS_NONE;
	if (c->engine == NVB_ENGINE_BOLT) {
		if (push2(out, "--runtime", NVB_RUNTIME_NAME) < 0)
			return -1;
		/* with no GPU, the image's own NVIDIA_VISIBLE_DEVICES must not reach the runtime */
		if (none)
			return push2(out, "-e", "NVIDIA_VISIBLE_DEVICES=void");
		return c->gpus == NVB_CMDLINE_GPUS_LIST ? push2(out, "--gpu", c->devices) : 0;
	}
	if (!none && push2(out, "--runtime", NVB_RUNTIME_NAME) < 0)
		return -1;
	if (c->gpus == NVB_CMDLINE_GPUS_IMAGE)
		return 0;
	return nvb_strv_push(out, "-e") < 0 ||
			       nvb_strv_pushf(out, "NVIDIA_VISIBLE_DEVICES=%s", none ? "void" : c->devices) < 0
		   ? -1
		   : 0;
}

static bool env_has(const struct nvb_cmdline *c, const char *prefix)
{
	for (size_t i = 0; i < c->n_env; i++)
		if (nvb_str_has_prefix(c->env[i], prefix))
			return true;
	return false;
}

int nvb_cmdline_build(const struct nvb_cmdline *c, struct nvb_strv *out)
{
	/* Bolt's run is `bolt run IMAGE [OPTIONS]`: the image first (it takes no container
	 * command; nvbind run refuses one) */
	bool bolt = c->engine == NVB_ENGINE_BOLT;
	if (push_all(out, c->prefix, c->n_prefix) < 0 || nvb_strv_push(out, "run") < 0 ||
	    (bolt && nvb_strv_push(out, c->image) < 0))
		return -1;
	if ((nvb_cmdline_uses_cdi(c) ? cdi_options(c, out) : runtime_options(c, out)) < 0)
		return -1;
	/* an --env NVIDIA_DRIVER_CAPABILITIES=... wins */
	if (c->caps && c->gpus != NVB_CMDLINE_GPUS_NONE &&
	    !env_has(c, "NVIDIA_DRIVER_CAPABILITIES=") &&
	    (nvb_strv_push(out, "-e") < 0 || nvb_strv_pushf(out, "NVIDIA_DRIVER_CAPABILITIES=%s", c->caps) < 0))
		return -1;
	for (size_t i = 0; i < c->n_env; i++)
		if (push2(out, "-e", c->env[i]) < 0)
			return -1;
	if (push_all(out, c->opts, c->n_opts) < 0 || (!bolt && nvb_strv_push(out, c->image) < 0))
		return -1;
	return push_all(out, c->args, c->n_args);
}
