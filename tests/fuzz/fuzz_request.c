/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the wrapper's request parser (src/oci/prepare.c): the GPU requests of a
 * config.json (NVIDIA_VISIBLE_DEVICES / NVBIND_VISIBLE_DEVICES, cdi.k8s.io/ annotations,
 * NVIDIA_DRIVER_CAPABILITIES, NVIDIA_REQUIRE_*, Docker's --gpus hook) and the requirement
 * checker. The input is lines; each one becomes part of a config.json:
 *   @KEY=VALUE     an annotation (cdi.k8s.io/gpu=nvidia.com/gpu=0)
 *   !NAME          an entry of the allowed-devices list (the list exists once one is given)
 *   #driver=VER    the driver version nvb_require_check is called with (default 550.54.14)
 *   +privileged    CAP_SYS_ADMIN in the bounding set; +env-unprivileged: env requests honoured
 *   +hook          Docker's nvidia-container-runtime-hook prestart hook
 *   anything else  a process.env entry (NVIDIA_VISIBLE_DEVICES=0,1)
 * nvb_runtime_prepare runs with no spec directory and a host root that does not exist, so any
 * request must fail cleanly (no spec can resolve it) and nothing is ever written; without a
 * request it must succeed and change nothing but the legacy hook. Every NVIDIA_REQUIRE_* line
 * also goes to nvb_require_check directly with the #driver version.
 * Seeds: corpus/request/.
 */
#include <stddef.h>
#include <stdint.h>

#include "oci/prepare.h"
#include "probe/nvidia/nvidia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_ALLOWED 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nvb_log_current = NVB_LOG_ERROR; /* the warnings of ignored requests: not per input */
	return 0;
}

struct input {
	json_t *config, *env, *annotations;
	const char *allowed[MAX_ALLOWED];
	size_t n_allowed;
	bool any_allowed, env_unprivileged;
	char driver[64];
};

static void add_line(struct input *in, char *line)
{
	if (line[0] == '@') {
		char *eq = strchr(line + 1, '=');
		if (eq) {
			*eq = '\0';
			json_t *v = json_string(eq + 1);
			if (v) /* invalid UTF-8 cannot come from a config.json */
				json_object_set_new(in->annotations, line + 1, v);
		}
	} else if (line[0] == '!') {
		in->any_allowed = true;
		if (in->n_allowed < MAX_ALLOWED)
			in->allowed[in->n_allowed++] = line + 1;
	} else if (nvb_str_has_prefix(line, "#driver=")) {
		snprintf(in->driver, sizeof(in->driver), "%s", line + 8);
	} else if (!strcmp(line, "+privileged")) {
		json_t *caps = json_pack("{s:[s]}", "bounding", "CAP_SYS_ADMIN");
		json_object_set_new(json_object_get(in->config, "process"), "capabilities", caps);
	} else if (!strcmp(line, "+env-unprivileged")) {
		in->env_unprivileged = true;
	} else if (!strcmp(line, "+hook")) {
		json_t *hooks = json_pack("{s:[{s:s},{s:s}]}", "prestart", "path",
					  "/usr/bin/nvidia-container-runtime-hook", "path", "/bin/true");
		json_object_set_new(in->config, "hooks", hooks);
	} else {
		json_t *v = json_string(line);
		if (v)
			json_array_append_new(in->env, v);
	}
}

/* Every NVIDIA_REQUIRE_* entry through the checker: 0, or -1 with a message. */
static void check_requirements(const struct input *in)
{
	size_t i;
	json_t *e;
	json_array_foreach(in->env, i, e) {
		const char *s = json_string_value(e);
		const char *eq = strchr(s, '=');
		if (!nvb_str_has_prefix(s, "NVIDIA_REQUIRE_") || !eq)
			continue;
		char var[64];
		snprintf(var, sizeof(var), "%.*s", (int)(eq - s < 63 ? eq - s : 63), s);
		struct nvb_error err = {0};
		int cuda = nvb_cuda_version_for_driver(in->driver);
		int r = nvb_require_check(var, eq + 1, in->driver, cuda, &err);
		if (r != 0 && (r != -1 || !err.code || !err.message[0]))
			abort();
		/* without a driver version nothing can be compared: never a crash either */
		r = nvb_require_check(var, eq + 1, NULL, 0, &err);
		if (r != 0 && r != -1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct input in = {.driver = "550.54.14"};
	in.config = json_pack("{s:{s:[]},s:{},s:{s:s}}", "process", "env", "annotations", "root",
			      "path", "rootfs");
	in.env = json_object_get(json_object_get(in.config, "process"), "env");
	in.annotations = json_object_get(in.config, "annotations");
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		add_line(&in, line);
	check_requirements(&in);

	json_t *before = json_deep_copy(in.config);
	struct nvb_runtime_opts opts = {
		.host_root = "/nonexistent/nvbind-fuzz-request",
		.hook_path = "/usr/bin/nvbind-hook",
		.env_when_unprivileged = in.env_unprivileged,
		.allowed = in.any_allowed ? in.allowed : NULL,
		.n_allowed = in.n_allowed,
	};
	struct nvb_runtime_result res;
	struct nvb_error err = {0};
	int r = nvb_runtime_prepare(in.config, &opts, &res, &err);
	if (r == 0) {
		/* nothing can resolve a device here: success means no request, and then only
		 * Docker's hook may have gone */
		if (res.n_devices || res.modified != res.legacy_hook)
			abort();
		if (!res.legacy_hook && !json_equal(before, in.config))
			abort();
	} else if (r != -1 || !err.code || !err.message[0]) {
		abort();
	}
	json_decref(before);
	json_decref(in.config);
	free(text);
	return 0;
}
