/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML <-> jansson bridge for CDI specs, which may be written as JSON or YAML.
 *
 * The parser builds the same tree a JSON parser would, so the CDI layer validates one
 * representation only. Plain scalars are typed like Go's yaml library (YAML 1.2 core
 * schema, plus Go's leniencies: "_" digit separators, 0b/0o/0x and leading-0 octal
 * integers), because CDI specs are written by Go tools and must read back the same.
 * Input is treated as hostile: size, depth and node limits apply and aliases are refused.
 */
#ifndef NVB_CDI_YAML_H
#define NVB_CDI_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "core/core.h"

#define NVB_YAML_MAX_SIZE (16u * 1024 * 1024) /* bytes of input */
#define NVB_YAML_MAX_DEPTH 64		      /* nested mappings/sequences */
#define NVB_YAML_MAX_NODES 1000000u	      /* scalars, keys and collections */

/*
 * Parse one YAML document of len bytes (need not be NUL-terminated) into a new tree.
 * Mappings become objects with keys in document order: a scalar key is taken as its
 * text; a collection key, a duplicate key or a key holding a NUL byte is an error.
 * Sequences become arrays, quoted and block scalars strings, and plain scalars are
 * resolved: null/~/empty -> null, true/false -> boolean, integers -> integer,
 * floats -> real, anything else -> string.
 * Errors are NVB_ERR_PARSE with "<origin>:<line>:<column>: <problem>" (1-based);
 * origin may be NULL. Returns NULL on error.
 */
NVB_INTERNAL json_t *nvb_yaml_parse(const char *data, size_t len, const char *origin,
				    struct nvb_error *err);

/*
 * Write value as a block-style YAML document (2-space indent, keys in stored order).
 * Strings that would read back as another type, or that hold special characters, are
 * double-quoted, so nvb_yaml_parse(nvb_yaml_emit(v)) is json_equal to v. Trees the
 * parser would refuse (nested deeper than NVB_YAML_MAX_DEPTH, keys holding NUL bytes)
 * are refused here too, with NVB_ERR_INVALID.
 * Returns a malloc'ed NUL-terminated string, or NULL on error.
 */
NVB_INTERNAL char *nvb_yaml_emit(const json_t *value, struct nvb_error *err);

#endif
