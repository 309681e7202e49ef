/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ld.so.cache reader: any input must parse or fail with
 * NVB_ERR_PARSE, and every string of a parsed cache must lie inside the image.
 * Seed: corpus/ldcache/ (a real host cache).
 */
#include <stddef.h>
#include <stdint.h>

#include "host/ldcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_error err = {0};
	struct nvb_ldcache *c = nvb_ldcache_parse(data, size, "fuzz.cache", &err);
	size_t total = 0;

	if (!c) {
		if (err.code != NVB_ERR_PARSE && err.code != NVB_ERR_NOMEM)
			abort();
		return 0;
	}
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct nvb_ldcache_entry *e = &c->entries[i];

		/* strlen lets ASan catch a string that runs off the copy. */
		total += strlen(e->name) + strlen(e->path);
		if (e->name < c->data || e->path >= c->data + c->len)
			abort();
		total += strlen(nvb_ldcache_flags_name(e->flags));
		total += (size_t)nvb_ldcache_entry_class(e);
	}
	nvb_ldcache_free(c);
	return total == SIZE_MAX;
}
