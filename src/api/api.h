/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of the embedding API (src/api) share. */
#ifndef NVB_API_API_H
#define NVB_API_API_H

#include "core/core.h"

/* Copy a caller's option struct (size first) into the library's, zero-filled: a shorter one
 * from an older header gets the defaults, a longer one is refused when its unknown tail is set
 * (docs/api.md, "Conventions"). */
NVB_INTERNAL int nvb_api_options_copy(void *dst, size_t dst_size, const void *src,
				      const char *what, struct nvb_error *err);

#endif
