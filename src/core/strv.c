/* SPDX-License-Identifier: Apache-2.0 */
#include "core/strv.h"

/* Take s (owned) into l, keeping the vector NULL-terminated. */
static int strv_take(struct nvb_strv *l, char *s)
{
	if (!s)
		return -1;
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));
	if (!v) {
		free(s);
		return -1;
	}
	v[l->n++] = s;
	v[l->n] = NULL;
	l->v = v;
	return 0;
}

int nvb_strv_push(struct nvb_strv *l, const char *s)
{
	return strv_take(l, strdup(s));
}

int nvb_strv_pushf(struct nvb_strv *l, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? -1 : strv_take(l, s);
}

ssize_t nvb_strv_find(const struct nvb_strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return (ssize_t)i;
	return -1;
}

int nvb_strv_append(char ***v, size_t *n, const char *s)
{
	struct nvb_strv l = {*v, *n};
	if (nvb_strv_push(&l, s) < 0)
		return -1;
	*v = l.v;
	*n = l.n;
	return 0;
}
