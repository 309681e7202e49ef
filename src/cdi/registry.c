/* SPDX-License-Identifier: Apache-2.0 */
/* The spec directories, read with the engines' priority and conflict rules
 * (docs/design/cdi-semantics.md). */
#include <dirent.h>
#include <fcntl.h>

#include "cdi/cdi.h"

void nvb_cdi_registry_free(struct nvb_cdi_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_specs; i++)
		nvb_cdi_spec_free(reg->specs[i]);
	free(reg->specs);
	for (size_t i = 0; i < reg->n_entries; i++)
		free(reg->entries[i].qualified);
	free(reg->entries);
	for (size_t i = 0; i < reg->n_errors; i++)
		free(reg->errors[i]);
	free(reg->errors);
	free(reg);
}

static int note(struct nvb_cdi_registry *reg, const char *msg)
{
	return nvb_strv_append(&reg->errors, &reg->n_errors, msg);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Spec file names of one directory, in name order. */
static int list_dir(const char *dir, char ***names, size_t *n)
{
	_cleanup_closedir_ DIR *d = nvb_opendirat(AT_FDCWD, dir, 0);
	if (!d)
		return 0;
	nvb_cdi_check_dir_mode(dirfd(d), dir, true);
	NVB_DIR_FOREACH(de, d) {
		if (de->d_name[0] == '.' ||
		    !(nvb_str_has_suffix(de->d_name, ".json") || nvb_str_has_suffix(de->d_name, ".yaml")))
			continue;
		if (nvb_strv_append(names, n, de->d_name) < 0)
			return -1;
	}
	if (*n > 1)
		qsort(*names, *n, sizeof(char *), name_cmp);
	return 0;
}

/* Every device of one directory, sorted by name then by the order read: names defined twice
 * end up side by side. Sorting, not pairwise comparison: directories with tens of thousands of
 * devices are read on the container start path. */
struct pending {
	char *qualified;
	const struct nvb_cdi_spec *spec;
	const struct nvb_cdi_device *device;
	size_t seq;
};

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c = strcmp(x->qualified, y->qualified);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nvb_cdi_entry *)a)->qualified,
		      ((const struct nvb_cdi_entry *)b)->qualified);
}

/* Read the specs of one directory into pend (valid specs only; invalid ones are noted). */
static int read_dir_specs(struct nvb_cdi_registry *reg, const char *dir, struct pending **pend,
			  size_t *n_pend)
{
	char **names = NULL;
	size_t n_names = 0;
	int r = list_dir(dir, &names, &n_names);
	for (size_t i = 0; r == 0 && i < n_names; i++) {
		_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, names[i]);
		struct nvb_error serr;
		struct nvb_cdi_spec *spec = path ? nvb_cdi_spec_load(path, &serr) : NULL;
		if (!path) {
			r = -1;
			break;
		}
		if (spec && nvb_cdi_validate(spec, NULL, NULL, &serr) > 0) {
			nvb_cdi_spec_free(spec);
			spec = NULL;
		}
		if (!spec) {
			r = note(reg, serr.message);
			continue;
		}
		struct nvb_cdi_spec **slot = nvb_array_push(&reg->specs, &reg->n_specs, sizeof(*slot));
		if (!slot) {
			nvb_cdi_spec_free(spec);
			r = -1;
			break;
		}
		*slot = spec;
		for (size_t d = 0; r == 0 && d < spec->n_devices; d++) {
			struct pending *p = nvb_array_push(pend, n_pend, sizeof(*p));
			if (!p) {
				r = -1;
				break;
			}
			p->qualified = nvb_asprintf("%s=%s", spec->kind, spec->devices[d].name);
			p->spec = spec;
			p->device = &spec->devices[d];
			p->seq = *n_pend - 1;
			if (!p->qualified) {
				(*n_pend)--;
				r = -1;
			}
		}
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return r;
}

struct conflict_note {
	size_t seq;   /* of the second definition: the notes come out in reading order */
	size_t first; /* index in pend of the first definition */
};

static int conflict_note_cmp(const void *a, const void *b)
{
	const struct conflict_note *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merge the names defined once (sorted, unique) into the sorted entries: a later directory
 * overrides an earlier one. Consumes the qualified names it keeps. */
static int merge_entries(struct nvb_cdi_registry *reg, struct pending *pend, size_t n_pend,
			 const bool *conflict)
{
	size_t n_new = 0;
	for (size_t k = 0; k < n_pend; k++)
		n_new += !conflict[k];
	if (!n_new)
		return 0;
	struct nvb_cdi_entry *out = malloc((reg->n_entries + n_new) * sizeof(*out));
	if (!out)
		return -1;
	size_t i = 0, k = 0, n = 0;
	while (i < reg->n_entries || k < n_pend) {
		if (k < n_pend && conflict[k]) {
			k++;
			continue;
		}
		int c = i == reg->n_entries ? 1 : k == n_pend ? -1
			: strcmp(reg->entries[i].qualified, pend[k].qualified);
		if (c < 0) {
			out[n++] = reg->entries[i++];
			continue;
		}
		if (c == 0) { /* a later directory overrides an earlier one */
			out[n] = reg->entries[i++];
		} else {
			out[n].qualified = NVB_TAKE_PTR(pend[k].qualified);
		}
		out[n].spec = pend[k].spec;
		out[n].device = pend[k].device;
		n++;
		k++;
	}
	free(reg->entries);
	reg->entries = out;
	reg->n_entries = n;
	return 0;
}

/* One directory: collect its devices, drop names defined twice, then let them override
 * what earlier directories defined. */
static int load_dir(struct nvb_cdi_registry *reg, const char *dir, char ***conflicts,
		    size_t *n_conflicts, struct nvb_error *err)
{
	struct pending *pend = NULL;
	size_t n_pend = 0, n_notes = 0;
	bool *conflict = NULL;
	struct conflict_note *notes = NULL;
	int r = read_dir_specs(reg, dir, &pend, &n_pend);
	if (r == 0 && n_pend) {
		qsort(pend, n_pend, sizeof(*pend), pending_cmp);
		conflict = calloc(n_pend, sizeof(*conflict));
		notes = malloc(n_pend * sizeof(*notes));
		r = conflict && notes ? 0 : -1;
	}
	for (size_t a = 0, b; r == 0 && a < n_pend; a = b) {
		for (b = a + 1; b < n_pend && !strcmp(pend[a].qualified, pend[b].qualified); b++)
			conflict[b] = conflict[a] = true;
		if (b - a > 1) {
			notes[n_notes++] = (struct conflict_note){.seq = pend[a + 1].seq, .first = a};
			r = nvb_strv_append(conflicts, n_conflicts, pend[a].qualified);
		}
	}
	if (n_notes > 1)
		qsort(notes, n_notes, sizeof(*notes), conflict_note_cmp);
	for (size_t i = 0; r == 0 && i < n_notes; i++) {
		const struct pending *first = &pend[notes[i].first], *second = first + 1;
		_cleanup_free_ char *msg =
			nvb_asprintf("%s: device %s is also defined by %s in the same directory: both "
				     "are ignored",
				     second->spec->origin, first->qualified, first->spec->origin);
		r = msg ? note(reg, msg) : -1;
	}
	if (r == 0)
		r = merge_entries(reg, pend, n_pend, conflict);
	for (size_t k = 0; k < n_pend; k++)
		free(pend[k].qualified);
	free(pend);
	free(conflict);
	free(notes);
	return r < 0 ? nvb_error_nomem(err) : 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct nvb_cdi_registry *nvb_cdi_registry_load(const char *const *dirs, size_t n_dirs,
					       struct nvb_error *err)
{
	struct nvb_cdi_registry *reg = calloc(1, sizeof(*reg));
	if (!reg) {
		nvb_error_nomem(err);
		return NULL;
	}
	char **conflicts = NULL;
	size_t n_conflicts = 0;
	int r = 0;
	/* entries stay sorted by name from one directory to the next */
	for (size_t i = 0; r == 0 && i < n_dirs; i++)
		r = load_dir(reg, dirs[i], &conflicts, &n_conflicts, err);
	/* As in the engines' CDI cache, a name defined twice at the same priority is dropped
	 * altogether, even where another directory defines it too. */
	if (n_conflicts > 1)
		qsort(conflicts, n_conflicts, sizeof(*conflicts), str_cmp);
	size_t kept = 0;
	for (size_t i = 0; n_conflicts && i < reg->n_entries; i++) {
		const char *q = reg->entries[i].qualified;
		if (bsearch(&q, conflicts, n_conflicts, sizeof(*conflicts), str_cmp))
			free(reg->entries[i].qualified);
		else
			reg->entries[kept++] = reg->entries[i];
	}
	if (n_conflicts)
		reg->n_entries = kept;
	for (size_t c = 0; c < n_conflicts; c++)
		free(conflicts[c]);
	free(conflicts);
	if (r < 0) {
		nvb_cdi_registry_free(reg);
		return NULL;
	}
	return reg;
}

const struct nvb_cdi_entry *nvb_cdi_registry_find(const struct nvb_cdi_registry *reg,
						  const char *qualified)
{
	struct nvb_cdi_entry key = {.qualified = (char *)qualified};
	if (!reg->n_entries) /* entries is NULL: bsearch's array must not be */
		return NULL;
	return bsearch(&key, reg->entries, reg->n_entries, sizeof(key), entry_cmp);
}
