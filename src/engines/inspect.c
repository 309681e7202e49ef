/* SPDX-License-Identifier: Apache-2.0 */
#include "engines/inspect.h"
#include "format/json.h"

static int refuse_shape(struct nvb_daemon_json *d, const char *origin, const char *what,
			struct nvb_error *err)
{
	d->error_what = what;
	return nvb_error_set(err, NVB_ERR_INVALID, 0, "fix the file and run the command again",
			     "%s: %s is not a JSON object", origin, what);
}

static int collect_runtimes(struct nvb_daemon_json *d, json_t *runtimes)
{
	const char *name;
	json_t *entry;
	json_object_foreach(runtimes, name, entry) {
		struct nvb_daemon_runtime *rt = nvb_array_push(&d->runtimes, &d->n_runtimes, sizeof(*rt));
		if (!rt || !(rt->name = strdup(name)))
			return -1;
		rt->entry = entry;
		const char *path = json_string_value(json_object_get(entry, "path"));
		if (path && !(rt->path = strdup(path)))
			return -1;
	}
	return 0;
}

int nvb_daemon_json_inspect(const char *text, const char *origin, struct nvb_daemon_json *d,
			    struct nvb_error *err)
{
	memset(d, 0, sizeof(*d));
	d->cdi = -1;
	if (!text || strspn(text, " \t\r\n") == strlen(text)) {
		d->empty = true;
		return 0;
	}
	json_error_t jerr;
	/* exact: a uint64 ulimit or a real such as 0.1 is read (and shown, and written) as written */
	d->root = nvb_json_loadb_exact(text, strlen(text), JSON_REJECT_DUPLICATES, true, &jerr);
	if (!d->root) {
		d->error_line = jerr.line;
		d->error_column = jerr.column;
		snprintf(d->error_text, sizeof(d->error_text), "%s", jerr.text);
		return nvb_error_set(err, NVB_ERR_PARSE, 0,
				     "fix the file (or move it away) and run the command again",
				     "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(d->root))
		return refuse_shape(d, origin, "the document", err);
	json_t *runtimes = json_object_get(d->root, "runtimes");
	if (runtimes && !json_is_object(runtimes))
		return refuse_shape(d, origin, "\"runtimes\"", err);
	json_t *features = json_object_get(d->root, "features");
	if (features && !json_is_object(features))
		return refuse_shape(d, origin, "\"features\"", err);
	if (runtimes && collect_runtimes(d, runtimes) < 0)
		return nvb_error_nomem(err);
	d->default_runtime = json_string_value(json_object_get(d->root, "default-runtime"));
	json_t *cdi = json_object_get(features, "cdi");
	d->cdi = cdi ? json_is_true(cdi) : -1;
	return 0;
}

const struct nvb_daemon_runtime *nvb_daemon_json_runtime(const struct nvb_daemon_json *d,
							 const char *name)
{
	for (size_t i = 0; i < d->n_runtimes; i++)
		if (!strcmp(d->runtimes[i].name, name))
			return &d->runtimes[i];
	return NULL;
}

json_t *nvb_daemon_json_get(const struct nvb_daemon_json *d, const char *const *keys, size_t n)
{
	json_t *v = d->root;
	for (size_t i = 0; v && i < n; i++)
		v = json_is_object(v) ? json_object_get(v, keys[i]) : NULL;
	return v;
}

char *nvb_daemon_json_text(const json_t *v)
{
	return nvb_json_dumps_exact(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

void nvb_daemon_json_free(struct nvb_daemon_json *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_runtimes; i++) {
		free(d->runtimes[i].name);
		free(d->runtimes[i].path);
	}
	free(d->runtimes);
	json_decref(d->root);
	memset(d, 0, sizeof(*d));
	d->cdi = -1;
}
