/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TOML 1.0 reader for nvbind's configuration file (Debian ships no C TOML library).
 *
 * The whole document is parsed into a tree of nvb_toml_value nodes; the root is a table.
 * Input is treated as hostile: size, nesting and value-count limits apply, the document
 * must be valid UTF-8, and every error names the place it was found.
 *
 * Positions: lines and columns are 1-based; a column counts characters (Unicode code
 * points), not bytes, and a tab counts as one column. A UTF-8 byte order mark at the very
 * start of the document is skipped and not counted.
 */
#ifndef NVB_CONFIG_TOML_H
#define NVB_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define NVB_TOML_MAX_SIZE (4u * 1024 * 1024) /* bytes of input */
#define NVB_TOML_MAX_DEPTH 128		     /* nested tables and arrays below the root */
#define NVB_TOML_MAX_VALUES 1000000u	     /* every node of the tree, tables included */

enum nvb_toml_type {
	NVB_TOML_STRING,
	NVB_TOML_INTEGER,
	NVB_TOML_FLOAT,
	NVB_TOML_BOOL,
	NVB_TOML_DATETIME, /* kept as its text; see datetime_kind */
	NVB_TOML_ARRAY,
	NVB_TOML_TABLE,
};

/* Which of TOML's four date/time forms a DATETIME value has. */
enum nvb_toml_datetime_kind {
	NVB_TOML_OFFSET_DATETIME, /* 1979-05-27T07:32:00Z, 1979-05-27 00:32:00-07:00 */
	NVB_TOML_LOCAL_DATETIME,  /* 1979-05-27T07:32:00 */
	NVB_TOML_LOCAL_DATE,	  /* 1979-05-27 */
	NVB_TOML_LOCAL_TIME,	  /* 07:32:00.999 */
};

struct nvb_toml_value {
	enum nvb_toml_type type;
	int line,
	    column; /* 1-based position of the value (for tables: of the header or first key) */
	union {
		char *s; /* STRING (NUL-terminated, see len) and DATETIME text */
		int64_t i;
		double f;
		bool b;
	} v;
	/* arrays: items; tables: keys in document order */
	struct nvb_toml_value **items;
	char **keys;
	int *key_lines, *key_columns;
	size_t n;
	bool defined_inline; /* inline table / static array: cannot be extended later */

	/* Additions to the base layout. */
	size_t len; /* STRING, DATETIME: bytes in v.s. A string may hold U+0000 ("\u0000"):
		     * callers wanting a C string must check strlen(v.s) == len */
	enum nvb_toml_datetime_kind datetime_kind;
	int depth; /* 0 for the root, parent's + 1 below it */

	/* Parser bookkeeping; not for callers. */
	unsigned flags;
	size_t cap;	  /* slots allocated in items / keys / key_lines / key_columns */
	uint32_t *index;  /* tables with many keys: open-addressing hash of item numbers */
	size_t index_cap; /* power of two, or 0 */
};

/*
 * Parse len bytes of TOML (need not be NUL-terminated) into a new tree whose root is a
 * table. Errors are NVB_ERR_PARSE with "<origin>:<line>:<column>: <problem>" and, where
 * one helps, a hint; NVB_ERR_NOMEM on allocation failure. origin may be NULL ("<input>").
 * Keys holding U+0000 are refused (nvb_toml_get could never find them).
 * Returns NULL on error.
 */
NVB_INTERNAL struct nvb_toml_value *nvb_toml_parse(const char *data, size_t len, const char *origin,
						   struct nvb_error *err);

/* Free a tree returned by nvb_toml_parse; NULL is allowed. */
NVB_INTERNAL void nvb_toml_free(struct nvb_toml_value *v);

/* The value stored under key (one key, not a dotted path) in table; NULL if absent or if
 * table is NULL or not a table. */
NVB_INTERNAL const struct nvb_toml_value *nvb_toml_get(const struct nvb_toml_value *table,
						       const char *key);

/* "string", "integer", "float", "boolean", "datetime", "array", "table". */
NVB_INTERNAL const char *nvb_toml_type_name(enum nvb_toml_type t);

/* ---- writing (toml_write.c) ---- */
/* s as a TOML basic string: quotes, backslashes and control characters escaped ("\u001b").
 * malloc'ed; NULL when memory runs out. */
NVB_INTERNAL char *nvb_toml_quote(const char *s);
NVB_INTERNAL void nvb_toml_quote_append(struct nvb_strbuf *b, const char *s);
/* key as a table or key-value key: bare when it can be, else quoted like nvb_toml_quote. */
NVB_INTERNAL char *nvb_toml_key(const char *key);
NVB_INTERNAL void nvb_toml_key_append(struct nvb_strbuf *b, const char *key);

#endif
