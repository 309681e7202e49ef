/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the YAML bridge: any input must parse or fail with NVB_ERR_PARSE,
 * and a parsed tree must be written back as YAML that parses to an equal tree.
 * Seed: corpus/yaml/ (small CDI specs).
 */
#include <stddef.h>
#include <stdint.h>

#include "format/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_error err = {0};
	json_t *tree = nvb_yaml_parse((const char *)data, size, "fuzz.yaml", &err);

	if (!tree) {
		/* not even NVB_ERR_NOMEM: the fuzzer never makes malloc fail, so that code
		 * would mean jansson refused a string libyaml produced (bad UTF-8) */
		if (err.code != NVB_ERR_PARSE)
			abort();
		return 0;
	}
	/* whatever the parser accepts, the emitter must write */
	char *text = nvb_yaml_emit(tree, &err);
	if (!text)
		abort();
	json_t *again = nvb_yaml_parse(text, strlen(text), "emitted.yaml", &err);
	if (!again || !json_equal(tree, again)) {
		fprintf(stderr, "round trip mismatch; emitted:\n%s\n", text);
		abort();
	}
	json_decref(again);
	json_decref(tree);
	free(text);
	return 0;
}
