/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NVB_FORMAT_JSON_H
#define NVB_FORMAT_JSON_H

#include <jansson.h>

#include "core/core.h"

/* JSON whose numbers survive a read and a write exactly. jansson holds int64 and double only:
 * Docker and Podman write rlimits as uint64 (18446744073709551615), which json_loadb refuses,
 * and a real such as 0.1 is written back as 0.10000000000000001. nvb_json_loadb_exact keeps
 * such numbers (integers beyond int64, overflowing reals, and every real with keep_reals) as
 * marker strings; nvb_json_dumps_exact writes them back as their original text. Without such
 * numbers it costs what json_loadb does. The markers are only valid in the same process. */
NVB_INTERNAL json_t *nvb_json_loadb_exact(const char *data, size_t len, size_t flags,
					  bool keep_reals, json_error_t *jerr);
NVB_INTERNAL char *nvb_json_dumps_exact(const json_t *json, size_t flags);

#endif
