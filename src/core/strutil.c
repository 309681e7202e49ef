/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

#include <stdint.h>

char *nvb_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *nvb_asprintf(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

char *nvb_strstrip(char *s)
{
	if (!s)
		return s;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int nvb_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int nvb_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Arrays grow in powers of two (4, 8, 16 ...): the capacity follows from the count, so
 * callers keep only n. */
void *nvb_array_push(void *array_ptr, size_t *n, size_t elem)
{
	void **array = array_ptr;
	size_t count = *n;
	if (count >= SIZE_MAX / elem / 2)
		return NULL;
	if (count == 0 || (count >= 4 && (count & (count - 1)) == 0)) {
		void *p = realloc(*array, (count == 0 ? 4 : count * 2) * elem);
		if (!p)
			return NULL;
		*array = p;
	}
	char *slot = (char *)*array + count * elem;
	memset(slot, 0, elem);
	*n = count + 1;
	return slot;
}
