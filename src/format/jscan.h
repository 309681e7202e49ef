/* SPDX-License-Identifier: Apache-2.0 */
/* One value out of a JSON text without building a tree (jscan.c). */
#ifndef NVB_JSCAN_H
#define NVB_JSCAN_H

#include "core/core.h"

enum nvb_jscan_kind {
	NVB_JSCAN_ABSENT, /* no such key, or a step of the path is not an object */
	NVB_JSCAN_NULL,
	NVB_JSCAN_BOOL,
	NVB_JSCAN_NUMBER,
	NVB_JSCAN_STRING,
	NVB_JSCAN_ARRAY,
	NVB_JSCAN_OBJECT,
};

struct nvb_jscan_error {
	int line, column; /* 1-based, of the byte where the text went wrong */
	char text[96];
};

/* Checks that text (len bytes, any top-level value) is JSON by RFC 8259, as jansson reads it
 * (UTF-8, no lone surrogate, at most 2048 levels of nesting), and finds the value at path:
 * depth object keys from the top. Returns its kind; *value (when value is not NULL) is then
 * the decoded string of a STRING, the token of a NUMBER, else NULL (malloc'ed). Returns -1
 * with jerr filled when the text is not JSON, when a key of the path appears twice in its
 * object (which one would count?), when the string found holds a NUL, or without memory
 * (jerr->line 0). */
NVB_INTERNAL int nvb_jscan(const char *text, size_t len, const char *const *path, size_t depth,
			   char **value, struct nvb_jscan_error *jerr);

#endif
