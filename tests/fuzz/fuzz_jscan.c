/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: format/jscan.c, differentially: a text it accepts, jansson accepts, and
 * the other way round (no verdict where jansson's tree is the limit, not JSON: integers past
 * int64, a \u0000 in an object key, a NUL byte jansson may take for the end of its input);
 * the root.path it finds is the one jansson's tree holds. */
#include <jansson.h>
#include <stdint.h>

#include "format/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct nvb_jscan_error jerr;
	int valid = nvb_jscan(text, size, NULL, 0, NULL, &jerr) >= 0;
	json_error_t e;
	json_t *tree = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	bool no_verdict = (!tree && (strstr(e.text, "too big") || strstr(e.text, "overflow") ||
				     strstr(e.text, "NUL byte in object key"))) ||
			  memchr(data, 0, size);
	if (!no_verdict && valid != (tree != NULL))
		__builtin_trap();
	char *path = NULL;
	int kind = nvb_jscan(text, size, (const char *const[]){"root", "path"}, 2, &path, &jerr);
	if (kind >= 0 && !valid)
		__builtin_trap(); /* a value out of a text that is not JSON */
	if (tree && kind == NVB_JSCAN_STRING) {
		json_t *want = json_object_get(json_object_get(tree, "root"), "path");
		if (!json_is_string(want) || strcmp(json_string_value(want), path) != 0)
			__builtin_trap();
	}
	json_decref(tree);
	free(path);
	return 0;
}
