/* SPDX-License-Identifier: Apache-2.0 */
/* Container records and wrapper counters: the format is documented in records.h. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "oci/records.h"

#define RECORD_MAX_SIZE (1 << 20)

const char *nvb_state_dir(void)
{
	const char *d = getenv("NVBIND_STATE_DIR");
	return d && *d ? d : NVB_STATE_DIR_DEFAULT;
}

bool nvb_record_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 255 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

int nvb_state_mkdir_p(const char *path, struct nvb_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return nvb_error_set(err, NVB_ERR_INVALID, ENAMETOOLONG, "set a shorter NVBIND_STATE_DIR",
				     "state directory %s: path too long", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return nvb_error_errno(err, errno, "set NVBIND_STATE_DIR to a writable directory",
					       "cannot create state directory %s", buf);
		if (!c)
			return 0;
		*p = c;
	}
}

static json_t *strs_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int nvb_record_write(const char *state_dir, const struct nvb_container_record *rec,
		     struct nvb_error *err)
{
	if (!nvb_record_id_valid(rec->id))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "container id '%s' cannot name a record file", rec->id ? rec->id : "");
	char dir[PATH_MAX], path[PATH_MAX + 300], ts[40];
	snprintf(dir, sizeof(dir), "%s/containers", state_dir);
	if (nvb_state_mkdir_p(dir, err) < 0)
		return -1;
	nvb_utc_stamp((time_t)rec->created_unix, ts, sizeof(ts));
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:s, s:I}", "version", NVB_RECORD_VERSION,
			      "id", rec->id, "bundle", rec->bundle ? rec->bundle : "", "engine",
			      rec->engine ? rec->engine : "unknown", "devices",
			      strs_json(rec->devices, rec->n_devices), "gpus",
			      strs_json(rec->gpus, rec->n_gpus), "created", ts, "created_unix",
			      (json_int_t)rec->created_unix);
	if (o && rec->runtime_root)
		json_object_set_new(o, "runtime_root", json_string(rec->runtime_root));
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return nvb_error_nomem(err);
	snprintf(path, sizeof(path), "%s/%s.json", dir, rec->id);
	return nvb_write_file_new(path, text, strlen(text), 0644, err);
}

int nvb_record_remove(const char *state_dir, const char *id, struct nvb_error *err)
{
	if (!nvb_record_id_valid(id))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "container id '%s' cannot name a record file", id ? id : "");
	char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/containers/%s.json", state_dir, id);
	if (unlink(path) < 0 && errno != ENOENT)
		return nvb_error_errno(err, errno, NULL, "cannot remove container record %s", path);
	return 0;
}

static int strs_from_json(const json_t *a, char ***v, size_t *n)
{
	size_t i;
	const json_t *s;
	json_array_foreach(a, i, s)
		if (json_is_string(s) && nvb_strv_append(v, n, json_string_value(s)) < 0)
			return -1;
	return 0;
}

static char *dup_key(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? strdup(s) : NULL;
}

/* stale: the low-level runtime has no state for the container and the grace time is over */
static void fill_age(struct nvb_container_record *rec)
{
	rec->age_s = (int64_t)time(NULL) - rec->created_unix;
	rec->stale = false;
	if (!rec->runtime_root || rec->age_s < NVB_RECORD_STALE_GRACE_S)
		return;
	char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/%s", rec->runtime_root, rec->id);
	struct stat st;
	rec->stale = stat(path, &st) < 0 && errno == ENOENT;
}

static int parse_record(const char *path, const char *data, size_t len,
			struct nvb_container_record *out, struct nvb_error *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *o = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
	    !json_is_integer(json_object_get(o, "created_unix"))) {
		json_decref(o);
		return nvb_error_set(err, NVB_ERR_PARSE, 0, "remove the file; the wrapper writes it again at the next create",
				     "container record %s: %s", path,
				     o ? "not an object with id and created_unix" : jerr.text);
	}
	out->id = dup_key(o, "id");
	out->bundle = dup_key(o, "bundle");
	out->engine = dup_key(o, "engine");
	out->runtime_root = dup_key(o, "runtime_root");
	out->created_unix = json_integer_value(json_object_get(o, "created_unix"));
	int r = strs_from_json(json_object_get(o, "devices"), &out->devices, &out->n_devices) |
		strs_from_json(json_object_get(o, "gpus"), &out->gpus, &out->n_gpus);
	json_decref(o);
	if (r < 0 || !out->id) {
		nvb_record_clear(out);
		return nvb_error_nomem(err);
	}
	fill_age(out);
	return 0;
}

static int read_at(int dirfd, const char *name, const char *shown,
		   struct nvb_container_record *out, struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_open_regular(dirfd, name, O_NOFOLLOW, "container record", err);
	if (fd < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(fd, shown, RECORD_MAX_SIZE, &data, &len, err) < 0)
		return -1;
	return parse_record(shown, data, len, out, err);
}

int nvb_record_read(const char *state_dir, const char *id, struct nvb_container_record *out,
		    struct nvb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!nvb_record_id_valid(id))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "container id '%s' cannot name a record file", id ? id : "");
	char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/containers/%s.json", state_dir, id);
	return read_at(AT_FDCWD, path, path, out, err);
}

void nvb_record_clear(struct nvb_container_record *rec)
{
	if (!rec)
		return;
	free(rec->id);
	free(rec->bundle);
	free(rec->engine);
	free(rec->runtime_root);
	for (size_t i = 0; i < rec->n_devices; i++)
		free(rec->devices[i]);
	free(rec->devices);
	for (size_t i = 0; i < rec->n_gpus; i++)
		free(rec->gpus[i]);
	free(rec->gpus);
	memset(rec, 0, sizeof(*rec));
}

void nvb_records_free(struct nvb_container_record *recs, size_t n)
{
	for (size_t i = 0; recs && i < n; i++)
		nvb_record_clear(&recs[i]);
	free(recs);
}

static int cmp_record(const void *a, const void *b)
{
	return strcmp(((const struct nvb_container_record *)a)->id,
		      ((const struct nvb_container_record *)b)->id);
}

int nvb_records_list(const char *state_dir, struct nvb_container_record **out, size_t *n,
		     struct nvb_error *err)
{
	*out = NULL;
	*n = 0;
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/containers", state_dir);
	DIR *d = nvb_opendirat(AT_FDCWD, dir, 0);
	if (!d)
		return errno == ENOENT ? 0 : nvb_error_errno(err, errno, NULL, "cannot read %s", dir);
	struct nvb_container_record *recs = NULL;
	size_t count = 0;
	NVB_DIR_FOREACH(de, d)
	{
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue; /* temporary files of a write in progress, and the like */
		char shown[PATH_MAX + 300];
		snprintf(shown, sizeof(shown), "%s/%s", dir, de->d_name);
		struct nvb_container_record rec;
		struct nvb_error rerr;
		if (read_at(dirfd(d), de->d_name, shown, &rec, &rerr) < 0) {
			if (rerr.code == NVB_ERR_NOMEM) {
				closedir(d);
				nvb_records_free(recs, count);
				return nvb_error_nomem(err);
			}
			nvb_warn("records", "skipping %s", rerr.message);
			continue;
		}
		struct nvb_container_record *slot = nvb_array_push(&recs, &count, sizeof(*recs));
		if (!slot) {
			nvb_record_clear(&rec);
			closedir(d);
			nvb_records_free(recs, count);
			return nvb_error_nomem(err);
		}
		*slot = rec;
	}
	closedir(d);
	if (count)
		qsort(recs, count, sizeof(*recs), cmp_record);
	*out = recs;
	*n = count;
	return 0;
}

/* Engines name their runc root after themselves; annotations tell the rest apart. */
const char *nvb_record_guess_engine(const char *runtime_root, const json_t *config)
{
	const json_t *ann = json_object_get(config, "annotations");
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)ann, key, v) {
		if (nvb_str_has_prefix(key, "io.kubernetes.cri-o."))
			return "cri-o";
		if (nvb_str_has_prefix(key, "io.kubernetes.cri."))
			return "containerd";
		if (nvb_str_has_prefix(key, "io.podman.") || nvb_str_has_prefix(key, "io.container.manager"))
			return "podman";
		if (nvb_str_has_prefix(key, "com.docker."))
			return "docker";
	}
	if (runtime_root) {
		if (strstr(runtime_root, "/docker/") || strstr(runtime_root, "moby"))
			return "docker";
		if (strstr(runtime_root, "containerd"))
			return "containerd";
		if (strstr(runtime_root, "libpod") || strstr(runtime_root, "podman"))
			return "podman";
		if (strstr(runtime_root, "crio") || strstr(runtime_root, "cri-o"))
			return "cri-o";
	}
	return "unknown";
}

/* ---- counters ---- */

static void stats_zero(struct nvb_stats *s)
{
	static const double le[NVB_STATS_N_BOUNDS] = NVB_STATS_BOUNDS;
	memset(s, 0, sizeof(*s));
	memcpy(s->le, le, sizeof(le));
}

static int stats_parse(const char *path, const char *data, size_t len, struct nvb_stats *s,
		       struct nvb_error *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return nvb_error_set(err, NVB_ERR_PARSE, 0, "remove the file to start the counters again",
				     "counters %s: %s", path, o ? "not an object" : jerr.text);
	}
	s->creates = (uint64_t)json_integer_value(json_object_get(o, "creates"));
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(o, "failures"), key, v) {
		if (s->n_failure == NVB_STATS_MAX_REASONS)
			break;
		snprintf(s->failure[s->n_failure].reason, sizeof(s->failure[0].reason), "%s", key);
		s->failure[s->n_failure].count = (uint64_t)json_integer_value(v);
		s->failures += s->failure[s->n_failure++].count;
	}
	json_t *lat = json_object_get(o, "latency_seconds");
	json_t *b = json_object_get(lat, "buckets");
	/* counts are kept only when the bounds are today's: older bounds cannot be re-bucketed */
	if (json_array_size(b) == NVB_STATS_N_BOUNDS)
		for (size_t i = 0; i < NVB_STATS_N_BOUNDS; i++)
			s->buckets[i] = (uint64_t)json_integer_value(json_array_get(b, i));
	s->latency_count = (uint64_t)json_integer_value(json_object_get(lat, "count"));
	s->latency_sum = json_number_value(json_object_get(lat, "sum"));
	json_decref(o);
	return 0;
}

static int stats_load(const char *path, struct nvb_stats *s, struct nvb_error *err)
{
	stats_zero(s);
	struct nvb_error oerr;
	_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, path, O_NOFOLLOW, "counters file", &oerr);
	if (fd < 0) {
		if (oerr.sys_errno == ENOENT)
			return 0;
		*err = oerr;
		return -1;
	}
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(fd, path, RECORD_MAX_SIZE, &data, &len, err) < 0)
		return -1;
	return stats_parse(path, data, len, s, err);
}

static char *stats_dump(const struct nvb_stats *s)
{
	json_t *fail = json_object(), *le = json_array(), *b = json_array();
	for (size_t i = 0; fail && i < s->n_failure; i++)
		json_object_set_new(fail, s->failure[i].reason, json_integer((json_int_t)s->failure[i].count));
	for (size_t i = 0; le && b && i < NVB_STATS_N_BOUNDS; i++) {
		json_array_append_new(le, json_real(s->le[i]));
		json_array_append_new(b, json_integer((json_int_t)s->buckets[i]));
	}
	json_t *o = json_pack("{s:i, s:I, s:o, s:{s:o, s:o, s:I, s:f}}", "version", 1, "creates",
			      (json_int_t)s->creates, "failures", fail, "latency_seconds", "le", le,
			      "buckets", b, "count", (json_int_t)s->latency_count, "sum", s->latency_sum);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

int nvb_stats_read(const char *state_dir, struct nvb_stats *out, struct nvb_error *err)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/stats", state_dir);
	return stats_load(path, out, err);
}

static void stats_observe(struct nvb_stats *s, enum nvb_errc code, double latency_s)
{
	s->creates++;
	if (code != NVB_OK) {
		const char *name = nvb_errc_name(code);
		size_t i = 0;
		while (i < s->n_failure && strcmp(s->failure[i].reason, name) != 0)
			i++;
		if (i == s->n_failure && i < NVB_STATS_MAX_REASONS)
			snprintf(s->failure[s->n_failure++].reason, sizeof(s->failure[0].reason), "%s", name);
		if (i < s->n_failure) {
			s->failure[i].count++;
			s->failures++;
		}
	}
	for (size_t i = 0; i < NVB_STATS_N_BOUNDS; i++)
		if (latency_s <= s->le[i])
			s->buckets[i]++;
	s->latency_count++;
	s->latency_sum += latency_s;
}

int nvb_stats_add(const char *state_dir, enum nvb_errc code, double latency_s,
		  struct nvb_error *err)
{
	char lock[PATH_MAX + 16], path[PATH_MAX + 16];
	snprintf(lock, sizeof(lock), "%s/stats.lock", state_dir);
	snprintf(path, sizeof(path), "%s/stats", state_dir);
	/* a separate lock file: the stats file itself is replaced by rename, and a lock on a
	 * replaced inode would let a waiter update a stale copy */
	_cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == ENOENT) {
		if (nvb_state_mkdir_p(state_dir, err) < 0)
			return -1;
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	if (fd < 0)
		return nvb_error_errno(err, errno, "set NVBIND_STATE_DIR to a writable directory",
				       "cannot open %s", lock);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return nvb_error_errno(err, errno, NULL, "cannot lock %s", lock);
	struct nvb_stats s;
	if (stats_load(path, &s, err) < 0)
		stats_zero(&s); /* a damaged file: start again rather than stop counting */
	stats_observe(&s, code, latency_s);
	_cleanup_free_ char *text = stats_dump(&s);
	if (!text)
		return nvb_error_nomem(err);
	return nvb_write_file_replace(path, text, strlen(text), 0644, err);
}
