/* SPDX-License-Identifier: Apache-2.0 */
/* A growable vector of owned strings: the one string list of the code base (argument vectors,
 * warnings, directory listings, lines). */
#ifndef NVB_CORE_STRV_H
#define NVB_CORE_STRV_H

#include "core/core.h"

struct nvb_strv {
	char **v; /* NULL-terminated once anything was pushed (execv-ready) */
	size_t n;
};

/* Append a copy of s; -1 when memory runs out (l unchanged). */
NVB_INTERNAL int nvb_strv_push(struct nvb_strv *l, const char *s);
/* Append a formatted string; -1 when memory runs out (l unchanged). */
NVB_INTERNAL int nvb_strv_pushf(struct nvb_strv *l, const char *fmt, ...) NVB_PRINTF(2, 3);
/* Index of the first string equal to s, or -1. */
NVB_INTERNAL ssize_t nvb_strv_find(const struct nvb_strv *l, const char *s);
/* Free the strings and the vector; l is empty again. Inline: small, and one definition per
 * program whatever the link order of the archives. */
static inline void nvb_strv_free(struct nvb_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
static inline void nvb_strv_freep(struct nvb_strv *l) { nvb_strv_free(l); }
#define _cleanup_strv_ __attribute__((cleanup(nvb_strv_freep)))

#endif
