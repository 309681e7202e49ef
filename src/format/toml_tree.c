/* SPDX-License-Identifier: Apache-2.0 */
/* The TOML value tree: nodes with the depth and count limits, tables with their key index. */
#include "format/toml_internal.h"

struct nvb_toml_value *nvb_toml_new_value(struct parser *ps, enum nvb_toml_type type, int depth,
					int line, int col)
{
	bool container = type == NVB_TOML_ARRAY || type == NVB_TOML_TABLE;

	/* only containers recurse (in the parser and in nvb_toml_free) */
	if (container && depth > NVB_TOML_MAX_DEPTH) {
		nvb_toml_fail_at(ps, line, col, "flatten the configuration",
			"tables and arrays nest deeper than %d levels", NVB_TOML_MAX_DEPTH);
		return NULL;
	}
	if (ps->nvalues >= NVB_TOML_MAX_VALUES) {
		nvb_toml_fail_at(ps, line, col, NULL, "more than %u values in one document",
			NVB_TOML_MAX_VALUES);
		return NULL;
	}
	struct nvb_toml_value *v = calloc(1, sizeof(*v));
	if (!v) {
		nomem(ps);
		return NULL;
	}
	ps->nvalues++;
	v->type = type;
	v->depth = depth;
	v->line = line;
	v->column = col;
	return v;
}

void nvb_toml_free(struct nvb_toml_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		nvb_toml_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->key_lines);
	free(v->key_columns);
	free(v->index);
	if (v->type == NVB_TOML_STRING || v->type == NVB_TOML_DATETIME)
		free(v->v.s);
	free(v);
}


/* Room for one more item (and key, for tables). */
static int grow(struct nvb_toml_value *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 4;
	void *p = realloc(t->items, cap * sizeof(*t->items));
	if (!p)
		return -1;
	t->items = p;
	if (t->type == NVB_TOML_TABLE) {
		/* t->cap moves only once all four arrays have grown */
		if (!(p = realloc(t->keys, cap * sizeof(*t->keys))))
			return -1;
		t->keys = p;
		if (!(p = realloc(t->key_lines, cap * sizeof(*t->key_lines))))
			return -1;
		t->key_lines = p;
		if (!(p = realloc(t->key_columns, cap * sizeof(*t->key_columns))))
			return -1;
		t->key_columns = p;
	}
	t->cap = cap;
	return 0;
}

/* FNV-1a with a final mix, so that the low bits used as the slot depend on every byte. */
static uint64_t key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void index_put(uint32_t *index, size_t cap, const char *key, size_t item)
{
	size_t slot = key_hash(key) & (cap - 1);

	while (index[slot])
		slot = (slot + 1) & (cap - 1);
	index[slot] = (uint32_t)item + 1; /* 0 marks a free slot */
}

/* Index the item just appended to t, rebuilding the index when it gets half full. */
static int index_add(struct nvb_toml_value *t)
{
	if (t->n < INDEX_MIN)
		return 0;
	if (t->index && t->n * 2 <= t->index_cap) {
		index_put(t->index, t->index_cap, t->keys[t->n - 1], t->n - 1);
		return 0;
	}
	size_t cap = t->index_cap ? t->index_cap * 2 : 64;
	while (cap < t->n * 2)
		cap *= 2;
	uint32_t *index = calloc(cap, sizeof(*index));
	if (!index)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		index_put(index, cap, t->keys[i], i);
	free(t->index);
	t->index = index;
	t->index_cap = cap;
	return 0;
}

/* Position of key in table t, or -1. */
long nvb_toml_table_find(const struct nvb_toml_value *t, const char *key)
{
	if (!t->index) {
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->keys[i], key) == 0)
				return (long)i;
		return -1;
	}
	size_t mask = t->index_cap - 1;
	for (size_t slot = key_hash(key) & mask; t->index[slot]; slot = (slot + 1) & mask) {
		size_t i = t->index[slot] - 1;
		if (strcmp(t->keys[i], key) == 0)
			return (long)i;
	}
	return -1;
}

/* Add key = val to table t. Takes ownership of both, also on failure. */
int nvb_toml_table_add(struct parser *ps, struct nvb_toml_value *t, char *key, int line, int col,
		     struct nvb_toml_value *val)
{
	if (!key || grow(t) < 0) {
		free(key);
		nvb_toml_free(val);
		return nomem(ps);
	}
	t->keys[t->n] = key;
	t->key_lines[t->n] = line;
	t->key_columns[t->n] = col;
	t->items[t->n] = val;
	t->n++;
	/* the pair is in the tree now: the caller must not free it even if this fails */
	if (index_add(t) < 0)
		return nomem(ps);
	return 0;
}

/* Append val to array a; takes ownership, also on failure. */
int nvb_toml_array_add(struct parser *ps, struct nvb_toml_value *a, struct nvb_toml_value *val)
{
	if (grow(a) < 0) {
		nvb_toml_free(val);
		return nomem(ps);
	}
	a->items[a->n++] = val;
	return 0;
}

struct nvb_toml_value *nvb_toml_new_table(struct parser *ps, int depth, int line, int col,
					unsigned flags)
{
	struct nvb_toml_value *t = nvb_toml_new_value(ps, NVB_TOML_TABLE, depth, line, col);

	if (t)
		t->flags = flags;
	return t;
}

/* An inline table is complete once closed, and so are the tables its dotted keys made. */
void nvb_toml_seal(struct nvb_toml_value *t)
{
	t->defined_inline = true;
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i]->type == NVB_TOML_TABLE && !t->items[i]->defined_inline)
			nvb_toml_seal(t->items[i]);
}

