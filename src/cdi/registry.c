/* SPDX-License-Identifier: Apache-2.0 */
/* The spec directories, read with the engines' priority and conflict rules (REFERENCE.md s.3). */
#include <dirent.h>

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
	return nvb_strv_push(&reg->errors, &reg->n_errors, msg);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Spec file names of one directory, in name order. */
static int list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !(nvb_str_has_suffix(de->d_name, ".json") || nvb_str_has_suffix(de->d_name, ".yaml")))
			continue;
		if (nvb_strv_push(names, n, de->d_name) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, *n, sizeof(char *), name_cmp);
	return 0;
}

struct pending {
	char *qualified;
	const struct nvb_cdi_spec *spec;
	const struct nvb_cdi_device *device;
	bool conflict;
};

static struct nvb_cdi_entry *find_entry(struct nvb_cdi_registry *reg, const char *q)
{
	for (size_t i = 0; i < reg->n_entries; i++)
		if (strcmp(reg->entries[i].qualified, q) == 0)
			return &reg->entries[i];
	return NULL;
}

/* One directory: collect its devices, drop names defined twice, then let them override
 * what earlier directories defined. */
static int load_dir(struct nvb_cdi_registry *reg, const char *dir, char ***conflicts,
		    size_t *n_conflicts, struct nvb_error *err)
{
	char **names = NULL;
	size_t n_names = 0;
	struct pending *pend = NULL;
	size_t n_pend = 0;
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
			_cleanup_free_ char *q = nvb_asprintf("%s=%s", spec->kind, spec->devices[d].name);
			if (!q) {
				r = -1;
				break;
			}
			struct pending *dup = NULL;
			for (size_t k = 0; k < n_pend && !dup; k++)
				if (strcmp(pend[k].qualified, q) == 0)
					dup = &pend[k];
			if (dup) {
				if (!dup->conflict) {
					_cleanup_free_ char *msg = nvb_asprintf(
						"%s: device %s is also defined by %s in the same "
						"directory: both are ignored",
						path, q, dup->spec->origin);
					r = msg ? note(reg, msg) : -1;
				}
				dup->conflict = true;
				continue;
			}
			struct pending *p = nvb_array_push(&pend, &n_pend, sizeof(*p));
			if (!p) {
				r = -1;
				break;
			}
			p->qualified = NVB_TAKE_PTR(q);
			p->spec = spec;
			p->device = &spec->devices[d];
		}
	}
	for (size_t k = 0; k < n_pend; k++) {
		if (r == 0 && pend[k].conflict)
			r = nvb_strv_push(conflicts, n_conflicts, pend[k].qualified);
		if (r == 0 && !pend[k].conflict) {
			struct nvb_cdi_entry *e = find_entry(reg, pend[k].qualified);
			if (e) { /* a later directory overrides an earlier one */
				e->spec = pend[k].spec;
				e->device = pend[k].device;
			} else if ((e = nvb_array_push(&reg->entries, &reg->n_entries, sizeof(*e)))) {
				e->qualified = NVB_TAKE_PTR(pend[k].qualified);
				e->spec = pend[k].spec;
				e->device = pend[k].device;
			} else {
				r = -1;
			}
		}
		free(pend[k].qualified);
	}
	free(pend);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return r < 0 ? nvb_error_nomem(err) : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nvb_cdi_entry *)a)->qualified,
		      ((const struct nvb_cdi_entry *)b)->qualified);
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
	for (size_t i = 0; r == 0 && i < n_dirs; i++)
		r = load_dir(reg, dirs[i], &conflicts, &n_conflicts, err);
	/* As in the engines' CDI cache, a name defined twice at the same priority is dropped
	 * altogether, even where another directory defines it too. */
	for (size_t c = 0; c < n_conflicts; c++) {
		struct nvb_cdi_entry *e = find_entry(reg, conflicts[c]);
		if (e) {
			free(e->qualified);
			*e = reg->entries[--reg->n_entries];
		}
		free(conflicts[c]);
	}
	free(conflicts);
	if (r < 0) {
		nvb_cdi_registry_free(reg);
		return NULL;
	}
	if (reg->n_entries > 1)
		qsort(reg->entries, reg->n_entries, sizeof(*reg->entries), entry_cmp);
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
