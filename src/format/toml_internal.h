/* SPDX-License-Identifier: Apache-2.0 */
/* The TOML reader's parts shared by toml.c (documents, keys, strings, tables), toml_tree.c
 * (the value tree) and toml_scalar.c (numbers, booleans, dates). */
#ifndef NVB_FORMAT_TOML_INTERNAL_H
#define NVB_FORMAT_TOML_INTERNAL_H

#include <locale.h>

#include "format/toml.h"

enum {
	TBL_IMPLICIT = 1u << 0,
	TBL_EXPLICIT = 1u << 1,
	TBL_DOTTED = 1u << 2,
	ARR_OF_TABLES = 1u << 3, /* made by [[header]]: later headers may append to it */
};

#define INDEX_MIN 16 /* tables with this many keys get a hash index; fewer are scanned */

struct parser {
	const char *p, *end;
	int line, col; /* of *p; col counts characters */
	const char *origin;
	struct nvb_error *err;
	size_t nvalues;
	locale_t c_locale; /* strtod must not follow the caller's LC_NUMERIC */
	struct nvb_toml_value *root;
	struct nvb_toml_value *cur; /* the table the latest header opened */
	char keybuf[256];	    /* a key rendered for a message */
};

/* ---- cursor ---- */
static inline int peek(const struct parser *ps) { return ps->p < ps->end ? (unsigned char)*ps->p : -1; }

static inline int peek_at(const struct parser *ps, size_t k)
{
	return (size_t)(ps->end - ps->p) > k ? (unsigned char)ps->p[k] : -1;
}

static inline void adv(struct parser *ps)
{
	unsigned char c = (unsigned char)*ps->p++;

	if (c == '\n') {
		ps->line++;
		ps->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		/* continuation bytes belong to the character their lead byte counted */
		ps->col++;
	}
}

static inline void adv_n(struct parser *ps, size_t n)
{
	while (n--)
		adv(ps);
}

static inline bool is_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static inline int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- errors (toml.c) ---- */
NVB_INTERNAL int nvb_toml_fail_at(struct parser *ps, int line, int col, const char *hint, const char *fmt, ...)
    NVB_PRINTF(5, 6);
#define fail(ps, hint, ...) nvb_toml_fail_at((ps), (ps)->line, (ps)->col, (hint), __VA_ARGS__)
static inline int nomem(struct parser *ps) { return nvb_error_nomem(ps->err); }

/* ---- the tree (toml_tree.c) ---- */
/* A new node; NULL with the error set past the depth or value-count limits. */
NVB_INTERNAL struct nvb_toml_value *nvb_toml_new_value(struct parser *ps, enum nvb_toml_type type,
						       int depth, int line, int col);
static inline void toml_freep(struct nvb_toml_value **v) { nvb_toml_free(*v); }
#define _cleanup_toml_ __attribute__((cleanup(toml_freep)))
/* Position of key in table t, or -1. */
NVB_INTERNAL long nvb_toml_table_find(const struct nvb_toml_value *t, const char *key);
/* Add key = val to table t; takes ownership of both, also on failure. */
NVB_INTERNAL int nvb_toml_table_add(struct parser *ps, struct nvb_toml_value *t, char *key, int line, int col,
		     struct nvb_toml_value *val);
/* Append val to array a; takes ownership, also on failure. */
NVB_INTERNAL int nvb_toml_array_add(struct parser *ps, struct nvb_toml_value *a, struct nvb_toml_value *val);
NVB_INTERNAL struct nvb_toml_value *nvb_toml_new_table(struct parser *ps, int depth, int line, int col,
					unsigned flags);
/* An inline table is complete once closed, and so are the tables its dotted keys made. */
NVB_INTERNAL void nvb_toml_seal(struct nvb_toml_value *t);

/* ---- scalars (toml_scalar.c) ---- */
/* Length of the bare token at the cursor (a number, boolean or date), which it passes. */
NVB_INTERNAL size_t nvb_toml_scan_token(struct parser *ps);
/* Fill v (type and value) from the token tok of n bytes at line:col, or fail. */
NVB_INTERNAL int nvb_toml_classify_token(struct parser *ps, const char *tok, size_t n, int line, int col,
			  struct nvb_toml_value *v);

#endif
