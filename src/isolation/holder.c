/* SPDX-License-Identifier: Apache-2.0 */
/* Holders of claims and MPS clients: who they are, whether they live; the state files. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "isolation/isolation.h"
#include "oci/records.h"

uint64_t nvb_iso_pid_start(int64_t pid)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: count fields after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	char state = p[2];
	if (state == 'Z' || state == 'X')
		return 0; /* a zombie has no process left to hold anything */
	unsigned long long start = 0;
	/* fields 3..22 after ") ": state is field 3, starttime field 22 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start ? start : 1;
}

static bool pid_matches(int64_t pid, uint64_t start)
{
	uint64_t now = nvb_iso_pid_start(pid);
	return now && (!start || now == start);
}

/* The low-level runtime's record of the container names its init process and that process's
 * start time: runc's <root>/<id>/state.json (init_process_pid, init_process_start), crun's
 * <root>/<id>/status (pid, process-start-time). */
static bool runtime_init_alive(const char *runtime_root, const char *id)
{
	static const char *const forms[][3] = {
		{"state.json", "init_process_pid", "init_process_start"},
		{"status", "pid", "process-start-time"},
	};
	if (!runtime_root[0] || !nvb_record_id_valid(id))
		return false;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(forms); i++) {
		_cleanup_free_ char *path = nvb_asprintf("%s/%s/%s", runtime_root, id, forms[i][0]);
		struct nvb_error err;
		json_t *state = path ? nvb_iso_read_json(path, &err) : NULL;
		if (!state)
			continue;
		json_int_t pid = json_integer_value(json_object_get(state, forms[i][1]));
		json_int_t start = json_integer_value(json_object_get(state, forms[i][2]));
		json_decref(state);
		return pid > 0 && pid_matches(pid, (uint64_t)start);
	}
	return false;
}

bool nvb_iso_holder_alive(const struct nvb_iso_holder *h)
{
	return (h->pid > 0 && pid_matches(h->pid, h->pid_start)) ||
	       runtime_init_alive(h->runtime_root, h->id);
}

int nvb_iso_holder_to_json(const struct nvb_iso_holder *h, json_t *obj)
{
	int r = 0;
	r |= json_object_set_new(obj, "container", json_string(h->id));
	r |= json_object_set_new(obj, "engine", json_string(h->engine[0] ? h->engine : "unknown"));
	r |= json_object_set_new(obj, "since", json_integer(h->since));
	r |= json_object_set_new(obj, "pid", json_integer(h->pid));
	r |= json_object_set_new(obj, "pid_start", json_integer((json_int_t)h->pid_start));
	r |= json_object_set_new(obj, "runtime_root", json_string(h->runtime_root));
	return r ? -1 : 0;
}

static void copy_str(char *out, size_t cap, const json_t *v)
{
	snprintf(out, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

void nvb_iso_holder_from_json(const json_t *obj, struct nvb_iso_holder *h)
{
	memset(h, 0, sizeof(*h));
	copy_str(h->id, sizeof(h->id), json_object_get(obj, "container"));
	copy_str(h->engine, sizeof(h->engine), json_object_get(obj, "engine"));
	copy_str(h->runtime_root, sizeof(h->runtime_root), json_object_get(obj, "runtime_root"));
	h->since = json_integer_value(json_object_get(obj, "since"));
	h->pid = json_integer_value(json_object_get(obj, "pid"));
	h->pid_start = (uint64_t)json_integer_value(json_object_get(obj, "pid_start"));
}

void nvb_iso_holder_describe(const struct nvb_iso_holder *h, char *out, size_t cap)
{
	char ts[40] = "an unknown time";
	time_t t = (time_t)h->since;
	struct tm tm;
	if (h->since > 0 && gmtime_r(&t, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, cap, "container %s (engine %s, since %s)", h->id[0] ? h->id : "?",
		 h->engine[0] ? h->engine : "unknown", ts);
}

int nvb_iso_lock(const char *state_dir, struct nvb_error *err)
{
	_cleanup_free_ char *dir = nvb_asprintf("%s/isolation", state_dir);
	_cleanup_free_ char *path = nvb_asprintf("%s/isolation/lock", state_dir);
	if (!dir || !path)
		return nvb_error_nomem(err);
	if (nvb_state_mkdir_p(dir, err) < 0)
		return -1;
	/* O_CLOEXEC: an MPS daemon started under the lock must not inherit (and keep) it */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return nvb_error_errno(err, errno, "set NVBIND_STATE_DIR to a writable directory",
				       "isolation lock %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return nvb_error_errno(err, e, NULL, "isolation lock %s", path);
		}
	}
	return fd;
}

json_t *nvb_iso_read_json(const char *path, struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, path, O_NOFOLLOW, "isolation state", err);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (fd < 0 || nvb_read_fd(fd, path, 1 << 20, &data, &len, err) < 0)
		return NULL;
	json_error_t jerr;
	json_t *v = json_loadb(data, len, 0, &jerr);
	if (!v || !json_is_object(v)) {
		json_decref(v);
		return nvb_error_set(err, NVB_ERR_PARSE, 0, "remove the file: nvbind treats it as absent",
				     "%s: not a JSON object", path), NULL;
	}
	return v;
}

int nvb_iso_write_json(const char *path, const json_t *obj, struct nvb_error *err)
{
	_cleanup_free_ char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return nvb_error_nomem(err);
	/* fsync'ed: a claim that outlives a crash is the point */
	return nvb_write_file_atomic(path, text, strlen(text), 0644, err);
}
