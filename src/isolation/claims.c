/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exclusive claims: <state>/isolation/claims/<uuid>.json names the one container that may use
 * the GPU. A claim whose holder no longer lives (a crashed wrapper, a container whose processes
 * are gone without `delete`) is taken over by the next claim. Callers hold nvb_iso_lock.
 */
#include <dirent.h>

#include "isolation/isolation.h"
#include "oci/records.h"

static char *claim_path(const char *state_dir, const char *uuid)
{
	return nvb_asprintf("%s/isolation/claims/%s.json", state_dir, uuid);
}

/* A GPU UUID becomes a file name: refuse anything that is not one path component. */
static int check_uuid(const char *uuid, struct nvb_error *err)
{
	if (!uuid[0] || !nvb_record_id_valid(uuid))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "GPU UUID \"%s\" cannot name a claim file", uuid);
	return 0;
}

/* The compute mode a claim recorded goes back to the GPU (best effort: logged). */
static void restore_mode(const json_t *claim, const char *uuid)
{
	const json_t *nvml = json_object_get(claim, "nvml");
	const json_t *prev = json_object_get(claim, "compute_mode_previous");
	if (!json_is_string(nvml) || !json_is_integer(prev))
		return;
	struct nvb_error err;
	int mode = (int)json_integer_value(prev);
	if (nvb_iso_compute_mode(json_string_value(nvml), uuid, mode, NULL, &err) < 0)
		nvb_warn("isolation", "GPU %s: compute mode not restored to %d: %s", uuid, mode,
			 err.message);
}

static void drop_claim(const char *path, const json_t *claim, const char *uuid)
{
	restore_mode(claim, uuid);
	if (unlink(path) < 0 && errno != ENOENT)
		nvb_warn("isolation", "cannot remove claim %s: %s", path, strerror(errno));
}

static int held_error(struct nvb_error *err, const struct nvb_iso_gpu *g,
		      const struct nvb_iso_holder *other, const char *how)
{
	char who[512];
	nvb_iso_holder_describe(other, who, sizeof(who));
	return nvb_error_set(err, NVB_ERR_PERMISSION, 0,
			     "wait for that container to end, or ask for another GPU",
			     "GPU %u (%s) is %s %s", g->index, g->uuid, how, who);
}

/* The claim on g by another living holder: 1 (err set), 0 when free or own or stale (a stale
 * claim is dropped, logged). */
static int claimed_by_other(const char *state_dir, const struct nvb_iso_gpu *g, const char *id,
			    struct nvb_error *err)
{
	_cleanup_free_ char *path = claim_path(state_dir, g->uuid);
	struct nvb_error rerr;
	json_t *claim = path ? nvb_iso_read_json(path, &rerr) : NULL;
	if (!claim)
		return 0; /* none (or unreadable: nvb_iso_read_json's hint says it counts as none) */
	struct nvb_iso_holder other;
	nvb_iso_holder_from_json(claim, &other);
	int r = 0;
	if (strcmp(other.id, id) != 0 && nvb_iso_holder_alive(&other)) {
		r = 1;
		held_error(err, g, &other, "held exclusively by");
	} else if (strcmp(other.id, id) != 0) {
		char who[512];
		nvb_iso_holder_describe(&other, who, sizeof(who));
		nvb_warn("isolation", "GPU %u (%s): taking over the stale exclusive claim of %s: "
			 "its processes are gone", g->index, g->uuid, who);
		drop_claim(path, claim, g->uuid);
	}
	json_decref(claim);
	return r;
}

/* Another container nvbind-runtime gave the GPU to (its record) whose init process lives. */
static int used_by_record(const char *state_dir, const struct nvb_iso_gpu *g, const char *id,
			  struct nvb_error *err)
{
	struct nvb_container_record *recs = NULL;
	size_t n = 0;
	struct nvb_error lerr;
	if (nvb_records_list(state_dir, &recs, &n, &lerr) < 0)
		return 0;
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		if (!strcmp(recs[i].id, id) || !recs[i].runtime_root)
			continue;
		for (size_t j = 0; j < recs[i].n_gpus && !r; j++) {
			if (strcmp(recs[i].gpus[j], g->uuid))
				continue;
			struct nvb_iso_holder other = {.since = recs[i].created_unix};
			snprintf(other.id, sizeof(other.id), "%s", recs[i].id);
			snprintf(other.engine, sizeof(other.engine), "%s", recs[i].engine);
			snprintf(other.runtime_root, sizeof(other.runtime_root), "%s", recs[i].runtime_root);
			if (nvb_iso_holder_alive(&other)) {
				held_error(err, g, &other, "in use by");
				r = 1;
			}
		}
	}
	nvb_records_free(recs, n);
	return r;
}

int nvb_iso_check_unclaimed(const char *state_dir, const struct nvb_iso_gpu *gpus, size_t n,
			    const char *id, struct nvb_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (check_uuid(gpus[i].uuid, err) < 0 || claimed_by_other(state_dir, &gpus[i], id, err))
			return -1;
	return 0;
}

static int write_claim(const char *state_dir, const struct nvb_iso_gpu *g,
		       const struct nvb_iso_holder *h, const struct nvb_iso_compute *cm,
		       struct nvb_error *err)
{
	_cleanup_free_ char *path = claim_path(state_dir, g->uuid);
	json_t *claim = json_pack("{s:i, s:s, s:i}", "version", 1, "gpu", g->uuid, "index", (int)g->index);
	int r = !path || !claim || nvb_iso_holder_to_json(h, claim) < 0 ? nvb_error_nomem(err) : 0;
	int previous = 0;
	/* the previous mode is recorded before the mode changes: a crash in between leaves a
	 * claim that restores a mode that was never changed, which is harmless */
	if (r == 0 && cm && cm->enabled) {
		r = nvb_iso_compute_mode(cm->nvml, g->uuid, -1, &previous, err);
		if (r == 0 && (json_object_set_new(claim, "nvml", json_string(cm->nvml)) ||
			       json_object_set_new(claim, "compute_mode_previous", json_integer(previous))))
			r = nvb_error_nomem(err);
	}
	if (r == 0)
		r = nvb_iso_write_json(path, claim, err);
	if (r == 0 && cm && cm->enabled &&
	    nvb_iso_compute_mode(cm->nvml, g->uuid, NVB_COMPUTEMODE_EXCLUSIVE_PROCESS, NULL, err) < 0) {
		unlink(path);
		r = -1;
	}
	json_decref(claim);
	return r;
}

int nvb_iso_claim(const char *state_dir, const struct nvb_iso_gpu *gpus, size_t n,
		  const struct nvb_iso_holder *h, const struct nvb_iso_compute *cm,
		  struct nvb_error *err)
{
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation/claims", state_dir);
	if (!dir)
		return nvb_error_nomem(err);
	if (nvb_iso_check_unclaimed(state_dir, gpus, n, h->id, err) < 0 || nvb_state_mkdir_p(dir, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (used_by_record(state_dir, &gpus[i], h->id, err))
			return -1;
	for (size_t i = 0; i < n; i++) {
		if (write_claim(state_dir, &gpus[i], h, cm, err) < 0) {
			nvb_iso_claims_release(state_dir, h->id, &(struct nvb_error){0});
			return -1;
		}
	}
	return 0;
}

int nvb_iso_claims_release(const char *state_dir, const char *id, struct nvb_error *err)
{
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation/claims", state_dir);
	if (!dir)
		return nvb_error_nomem(err);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : nvb_error_errno(err, errno, NULL, "claims folder %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		if (!nvb_str_has_suffix(e->d_name, ".json"))
			continue;
		_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, e->d_name);
		struct nvb_error rerr;
		json_t *claim = path ? nvb_iso_read_json(path, &rerr) : NULL;
		const char *holder = json_string_value(json_object_get(claim, "container"));
		const char *uuid = json_string_value(json_object_get(claim, "gpu"));
		if (holder && uuid && !strcmp(holder, id)) {
			drop_claim(path, claim, uuid);
			nvb_info("isolation", "GPU %s: exclusive claim of container %s released", uuid, id);
		}
		json_decref(claim);
	}
	closedir(d);
	return 0;
}
