/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: docker's --gpus value as NVIDIA_VISIBLE_DEVICES and
 * NVIDIA_DRIVER_CAPABILITIES (migrate.h). */
#include "migrate/internal.h"

/* One record of Go's encoding/csv (comma ',', no lazy quotes). quoted[i] tells whether the
 * field was in double quotes. */
static int csv_fields(const char *s, struct nvb_strv *fields, bool **quoted, struct nvb_error *err)
{
	const char *p = s;
	size_t nq = 0;
	for (;;) {
		struct nvb_strbuf f = {0};
		bool q = false;
		nvb_strbuf_appendf(&f, "%s", "");
		if (*p == '"') {
			q = true;
			p++;
			for (;;) {
				if (!*p) {
					free(f.s);
					return nvb_error_set(err, NVB_ERR_USAGE, 0,
							     "close the quote in the --gpus value",
							     "--gpus '%s': extraneous or missing \" in quoted field", s);
				}
				if (*p == '"' && p[1] == '"') {
					nvb_strbuf_appendf(&f, "\"");
					p += 2;
					continue;
				}
				if (*p == '"') {
					p++;
					break;
				}
				nvb_strbuf_appendf(&f, "%c", *p++);
			}
			if (*p && *p != ',' && *p != '\n') {
				free(f.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0,
						     "quote the whole field: '\"device=0,1\"'",
						     "--gpus '%s': extraneous or missing \" in quoted field", s);
			}
		} else {
			while (*p && *p != ',' && *p != '\n') {
				if (*p == '"') {
					free(f.s);
					return nvb_error_set(err, NVB_ERR_USAGE, 0,
							     "quote the whole field: '\"device=0,1\"'",
							     "--gpus '%s': bare \" in non-quoted field", s);
				}
				nvb_strbuf_appendf(&f, "%c", *p++);
			}
			if (f.len && f.s[f.len - 1] == '\r')
				f.s[--f.len] = '\0';
		}
		char *text = nvb_strbuf_take(&f);
		bool *nq_arr = text ? realloc(*quoted, (nq + 1) * sizeof(bool)) : NULL;
		if (!text || !nq_arr || nvb_strv_push(fields, text) < 0) {
			free(text);
			if (nq_arr)
				*quoted = nq_arr;
			return nvb_error_nomem(err);
		}
		free(text);
		*quoted = nq_arr;
		(*quoted)[nq++] = q;
		if (*p != ',')
			break;
		p++;
	}
	return 0;
}

static bool parse_count(const char *s, long *out)
{
	if (!strcmp(s, "all")) {
		*out = -1;
		return true;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < -1 || v > 1024)
		return false;
	*out = v;
	return true;
}

static const char *const nvidia_caps[] = {"compute", "compat32", "graphics", "utility", "video",
					  "display"};

int nvb_docker_gpus_parse(const char *value, char **devices, char **caps, struct nvb_strv *warnings,
			  struct nvb_error *err)
{
	*devices = NULL;
	*caps = NULL;
	if (!*value)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --gpus all, --gpus 2 or --gpus '\"device=0,1\"'",
				     "--gpus: empty value");
	struct nvb_strv fields = {0};
	_cleanup_free_ bool *quoted = NULL;
	if (csv_fields(value, &fields, &quoted, err) < 0) {
		nvb_strv_free(&fields);
		return -1;
	}
	struct nvb_strv dev = {0}, capw = {0};
	long count = 0;
	bool seen_count = false, seen_device = false, seen_caps = false, seen_driver = false,
	     seen_options = false, continued = false;
	const char *last_key = NULL; /* device / capabilities: where a bare field may belong */
	int rc = -1;
	for (size_t i = 0; i < fields.n; i++) {
		const char *field = fields.v[i];
		const char *eq = strchr(field, '=');
		if (!eq) {
			long c;
			if (last_key && !quoted[i]) {
				/* `--gpus device=0,2` / `--gpus capabilities=compute,utility`: docker reads
				 * the field after the comma as a count and fails; the meaning is plain */
				if (nvb_strv_push(!strcmp(last_key, "device") ? &dev : &capw, field) < 0)
					goto oom;
				continued = true;
				continue;
			}
			if (seen_count) {
				nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
					      "--gpus '%s': gpu request key 'count' can be specified only once", value);
				goto out;
			}
			seen_count = true;
			if (!parse_count(field, &c)) {
				nvb_error_set(err, NVB_ERR_USAGE, 0,
					      "use all, a number, or key=value fields: count, device, capabilities, driver, options",
					      "--gpus '%s': '%s': count must be an integer", value, field);
				goto out;
			}
			count = c;
			continue;
		}
		size_t klen = (size_t)(eq - field);
		const char *val = eq + 1;
		bool *seen = NULL;
		const char *key = NULL;
		if (klen == 5 && !strncmp(field, "count", 5)) {
			seen = &seen_count, key = "count";
		} else if (klen == 6 && !strncmp(field, "device", 6)) {
			seen = &seen_device, key = "device";
		} else if (klen == 12 && !strncmp(field, "capabilities", 12)) {
			seen = &seen_caps, key = "capabilities";
		} else if (klen == 6 && !strncmp(field, "driver", 6)) {
			seen = &seen_driver, key = "driver";
		} else if (klen == 7 && !strncmp(field, "options", 7)) {
			seen = &seen_options, key = "options";
		} else {
			nvb_error_set(err, NVB_ERR_USAGE, 0,
				      "the keys are count, device, capabilities, driver and options",
				      "--gpus '%s': unexpected key '%.*s' in '%s'", value, (int)klen, field, field);
			goto out;
		}
		if (*seen) {
			nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
				      "--gpus '%s': gpu request key '%s' can be specified only once", value, key);
			goto out;
		}
		*seen = true;
		last_key = NULL;
		if (!strcmp(key, "count")) {
			long c;
			if (!parse_count(val, &c)) {
				nvb_error_set(err, NVB_ERR_USAGE, 0, "use count=all or count=N",
					      "--gpus '%s': count must be an integer", value);
				goto out;
			}
			count = c;
		} else if (!strcmp(key, "device") || !strcmp(key, "capabilities")) {
			_cleanup_free_ char *copy = strdup(val);
			if (!copy)
				goto oom;
			char *save = NULL;
			for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
				if (nvb_strv_push(key[0] == 'd' ? &dev : &capw, w) < 0)
					goto oom;
			last_key = key;
		} else if (!strcmp(key, "driver")) {
			if (*val && strcmp(val, "nvidia") &&
			    nvb_strv_pushf(warnings, "--gpus driver=%s: not the NVIDIA driver; translated as an NVIDIA GPU request", val) < 0)
				goto oom;
		} else if (nvb_strv_pushf(warnings, "--gpus options=%s: driver options are ignored", val) < 0) {
			goto oom;
		}
	}
	if (continued && nvb_strv_pushf(warnings,
				       "--gpus %s: docker reads the part after the first comma as a "
				       "count and refuses it; quote it as --gpus '\"%s\"'. Translated as meant",
				       value, value) < 0)
		goto oom;
	if (seen_count && dev.n) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, "give either a count or devices",
			      "--gpus '%s': cannot set both Count and DeviceIDs on device request", value);
		goto out;
	}
	if (!seen_count && !dev.n)
		count = 1; /* docker's default: one GPU */
	if (dev.n) {
		struct nvb_strbuf b = {0};
		for (size_t i = 0; i < dev.n; i++)
			nvb_strbuf_appendf(&b, "%s%s", i ? "," : "", dev.v[i]);
		if (!(*devices = nvb_strbuf_take(&b)))
			goto oom;
	} else if (count < 0) {
		if (!(*devices = strdup("all")))
			goto oom;
	} else if (count > 0) {
		struct nvb_strbuf b = {0};
		for (long i = 0; i < count; i++)
			nvb_strbuf_appendf(&b, "%s%ld", i ? "," : "", i);
		if (!(*devices = nvb_strbuf_take(&b)))
			goto oom;
	} else if (!(*devices = strdup("void"))) { /* count 0: docker sets void (older ones nothing) */
		goto oom;
	}
	/* docker passes the NVIDIA capabilities among those requested, "gpu" being its own */
	struct nvb_strbuf cb = {0};
	size_t ncaps = 0;
	for (size_t i = 0; i < capw.n; i++) {
		const char *w = capw.v[i];
		if (!strcmp(w, "gpu") || !strcmp(w, "nvidia"))
			continue;
		bool known = false;
		for (size_t k = 0; k < NVB_ARRAY_SIZE(nvidia_caps); k++)
			known |= !strcmp(w, nvidia_caps[k]);
		unsigned bits;
		if (!known) {
			struct nvb_error ignored;
			bool nvbind_knows = nvb_caps_parse(w, &bits, &ignored) == 0;
			if (nvb_strv_pushf(warnings, "--gpus capabilities: docker refuses '%s'%s", w,
					  nvbind_knows ? "; nvbind accepts it and keeps it"
						       : " and so does nvbind: left out") < 0) {
				free(cb.s);
				goto oom;
			}
			if (!nvbind_knows)
				continue;
		}
		nvb_strbuf_appendf(&cb, "%s%s", ncaps++ ? "," : "", w);
	}
	if (ncaps) {
		if (!(*caps = nvb_strbuf_take(&cb)))
			goto oom;
	} else {
		free(cb.s);
	}
	rc = 0;
	goto out;
oom:
	nvb_error_nomem(err);
out:
	if (rc < 0) {
		free(*devices);
		free(*caps);
		*devices = *caps = NULL;
	}
	nvb_strv_free(&fields);
	nvb_strv_free(&dev);
	nvb_strv_free(&capw);
	return rc;
}
