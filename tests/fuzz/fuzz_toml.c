/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the TOML reader: any input must parse into a sound tree or fail
 * with NVB_ERR_PARSE and a message that starts with "fuzz.toml:<line>:<column>: ".
 * A parsed tree is walked: depths, string terminators and every table's key lookup
 * (the hash index) are checked, then it is freed.
 * Seed: corpus/toml/ (small nvbind configurations).
 */
#include <stddef.h>
#include <stdint.h>

#include "format/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct nvb_toml_value *v, int depth)
{
	if (v->depth != depth || v->line < 1 || v->column < 1)
		abort();
	switch (v->type) {
	case NVB_TOML_STRING:
	case NVB_TOML_DATETIME:
		if (!v->v.s || v->v.s[v->len] != '\0')
			abort();
		if (v->type == NVB_TOML_DATETIME && strlen(v->v.s) != v->len)
			abort();
		break;
	case NVB_TOML_TABLE:
		for (size_t i = 0; i < v->n; i++)
			if (nvb_toml_get(v, v->keys[i]) != v->items[i] || v->key_lines[i] < 1)
				abort();
		/* fall through */
	case NVB_TOML_ARRAY:
		if (depth > NVB_TOML_MAX_DEPTH)
			abort();
		for (size_t i = 0; i < v->n; i++)
			check(v->items[i], depth + 1);
		break;
	case NVB_TOML_INTEGER:
	case NVB_TOML_FLOAT:
	case NVB_TOML_BOOL:
		break;
	default:
		abort();
	}
}

/* "fuzz.toml:<digits>:<digits>: " */
static bool has_position(const char *msg)
{
	static const char origin[] = "fuzz.toml:";
	const char *p = msg + sizeof(origin) - 1;

	if (strncmp(msg, origin, sizeof(origin) - 1) != 0)
		return false;
	for (int field = 0; field < 2; field++) {
		if (*p < '1' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			return false;
	}
	return *p == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_error err = {0};
	struct nvb_toml_value *root = nvb_toml_parse((const char *)data, size, "fuzz.toml", &err);

	if (!root) {
		/* the fuzzer never makes malloc fail, so only parse errors can happen */
		if (err.code != NVB_ERR_PARSE || !has_position(err.message)) {
			fprintf(stderr, "bad error: %d %s\n", err.code, err.message);
			abort();
		}
		return 0;
	}
	if (root->type != NVB_TOML_TABLE)
		abort();
	check(root, 0);
	nvb_toml_free(root);
	return 0;
}
