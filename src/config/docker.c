/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>

#include "config/engines.h"

char *nvb_docker_register(const char *text, const char *origin, const char *runtime_path,
			  bool make_default, bool *changed, struct nvb_error *err)
{
	json_t *root;
	*changed = false;
	if (!text || strspn(text, " \t\r\n") == strlen(text)) { /* no file yet */
		root = json_object();
	} else {
		json_error_t jerr;
		root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		if (!root) {
			nvb_error_set(err, NVB_ERR_PARSE, 0,
				      "fix the file (or move it away) and run the command again",
				      "%s:%d:%d: %s: refusing to rewrite a file nvbind cannot parse",
				      origin, jerr.line, jerr.column, jerr.text);
			return NULL;
		}
	}
	char *out = NULL;
	json_t *runtimes = json_object_get(root, "runtimes");
	if (!json_is_object(root) || (runtimes && !json_is_object(runtimes))) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, "fix the file and run the command again",
			      "%s: %s is not a JSON object: refusing to rewrite it", origin,
			      json_is_object(root) ? "\"runtimes\"" : "the document");
		goto out;
	}
	if (!runtimes) {
		runtimes = json_object();
		json_object_set_new(root, "runtimes", runtimes);
	}
	json_t *entry = json_object_get(runtimes, NVB_RUNTIME_NAME);
	const char *old_path = json_string_value(json_object_get(entry, "path"));
	if (!old_path || strcmp(old_path, runtime_path) != 0) {
		json_object_set_new(runtimes, NVB_RUNTIME_NAME, json_pack("{s:s}", "path", runtime_path));
		*changed = true;
	}
	const char *old_default = json_string_value(json_object_get(root, "default-runtime"));
	if (make_default && (!old_default || strcmp(old_default, NVB_RUNTIME_NAME) != 0)) {
		json_object_set_new(root, "default-runtime", json_string(NVB_RUNTIME_NAME));
		*changed = true;
	}
	char *dump = json_dumps(root, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	out = dump ? nvb_asprintf("%s\n", dump) : NULL;
	free(dump);
	if (!out)
		nvb_error_nomem(err);
out:
	json_decref(root);
	return out;
}
