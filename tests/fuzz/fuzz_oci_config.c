/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the OCI config.json loader and writer: the parse nvb_oci_config_load
 * does (src/oci/bundle.c: jansson with numbers beyond int64 and overflowing reals kept
 * exactly) and the text nvb_oci_config_save writes (src/oci/apply.c). A config that loads
 * must be written, load again to an equal tree, and be written again byte for byte the same:
 * load -> save -> load is stable, 18446744073709551615 stays 18446744073709551615. Then a
 * fixed set of CDI edits is applied (a device node, a mount, env, a hook, a group): a config
 * that takes them must still be written and read back. One input in 32 (chosen by its bytes)
 * also goes through the real files: config.json in a temporary bundle, nvb_oci_config_load,
 * nvb_oci_config_save, nvb_oci_config_load.
 * Seeds: corpus/oci_config/ (runc spec, Docker and Podman configs with uint64 rlimits).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "cdi/cdi.h"
#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define SAVE_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER) /* nvb_oci_config_save's */

static char bundle[64];
static struct nvb_cdi_edits edits;

static void remove_bundle(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	unlink(path);
	rmdir(bundle);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nvb_log_current = NVB_LOG_ERROR;
	snprintf(bundle, sizeof(bundle), "/tmp/nvbind-fuzz-oci.XXXXXX");
	if (!mkdtemp(bundle))
		abort();
	atexit(remove_bundle);
	/* complete nodes only: apply must not depend on this host's /dev */
	struct nvb_cdi_device_node *n = nvb_cdi_edits_add_node(&edits);
	struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(&edits);
	struct nvb_cdi_hook *h = nvb_cdi_edits_add_hook(&edits);
	int64_t *gid = nvb_array_push(&edits.additional_gids, &edits.n_additional_gids, sizeof(*gid));
	if (!n || !m || !h || !gid || nvb_cdi_edits_add_env(&edits, "NVIDIA_VISIBLE_DEVICES=void") < 0)
		abort();
	*n = (struct nvb_cdi_device_node){.path = strdup("/dev/nvidia0"), .type = strdup("c"),
					  .major = 195, .minor = 0, .file_mode = 0666,
					  .uid = NVB_CDI_UNSET, .gid = NVB_CDI_UNSET};
	m->host_path = strdup("/usr/lib/x86_64-linux-gnu/libcuda.so.1");
	m->container_path = strdup("/usr/lib/x86_64-linux-gnu/libcuda.so.1");
	h->hook_name = strdup("createContainer");
	h->path = strdup("/usr/bin/nvbind-hook");
	h->timeout = NVB_CDI_UNSET;
	*gid = 44;
	if (!n->path || !n->type || !m->host_path || !m->container_path || !h->hook_name || !h->path ||
	    nvb_strv_append(&m->options, &m->n_options, "ro") < 0 ||
	    nvb_strv_append(&h->args, &h->n_args, "nvbind-hook") < 0)
		abort();
	return 0;
}

/* Load as nvb_oci_config_load does after reading the file; NULL unless a JSON object. */
static json_t *load(const char *text, size_t len)
{
	json_error_t jerr;
	json_t *j = nvb_json_loadb_exact(text, len, JSON_REJECT_DUPLICATES, false, &jerr);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* save -> load -> save: an equal tree, and the same text. Returns the first text. */
static char *round_trip(const json_t *config)
{
	char *t1 = nvb_json_dumps_exact(config, SAVE_FLAGS);
	if (!t1)
		abort();
	json_t *again = load(t1, strlen(t1));
	if (!again || !json_equal(config, again))
		abort();
	char *t2 = nvb_json_dumps_exact(again, SAVE_FLAGS);
	if (!t2 || strcmp(t1, t2) != 0)
		abort();
	free(t2);
	json_decref(again);
	return t1;
}

/* The same through the files of a bundle: load, save, load, save. */
static void through_files(const uint8_t *data, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	struct nvb_error err = {0};
	json_t *c1 = nvb_oci_config_load(bundle, &err);
	if (!c1)
		return;
	char *t1 = nvb_json_dumps_exact(c1, SAVE_FLAGS);
	if (!t1 || nvb_oci_config_save(bundle, c1, &err) < 0)
		abort();
	json_t *c2 = nvb_oci_config_load(bundle, &err);
	if (!c2 || !json_equal(c1, c2) || nvb_oci_config_save(bundle, c2, &err) < 0)
		abort();
	json_t *c3 = nvb_oci_config_load(bundle, &err);
	char *t3 = c3 ? nvb_json_dumps_exact(c3, SAVE_FLAGS) : NULL;
	if (!t3 || strcmp(t1, t3) != 0)
		abort();
	free(t1);
	free(t3);
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > NVB_OCI_CONFIG_MAX)
		return 0;
	json_t *config = load((const char *)data, size);
	if (!config)
		return 0;
	free(round_trip(config));

	const struct nvb_cdi_edits *list[] = {&edits};
	struct nvb_error err = {0};
	if (nvb_oci_apply_edits(config, list, 1, &err) == 0)
		free(round_trip(config));
	else if (!err.code || !err.message[0])
		abort();
	json_decref(config);

	uint32_t h = 2166136261u; /* FNV-1a: the same inputs every run */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if (h % 32 == 0)
		through_files(data, size);
	return 0;
}
