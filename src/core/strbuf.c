/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

static bool strbuf_grow(struct nvb_strbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = (b->cap ? b->cap * 2 : 256) + more;
	char *p = realloc(b->s, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->s = p;
	b->cap = cap;
	return true;
}

void nvb_strbuf_appendn(struct nvb_strbuf *b, const char *s, size_t n)
{
	if (!strbuf_grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void nvb_strbuf_append(struct nvb_strbuf *b, const char *s)
{
	nvb_strbuf_appendn(b, s, strlen(s));
}

void nvb_strbuf_appendc(struct nvb_strbuf *b, char c)
{
	nvb_strbuf_appendn(b, &c, 1);
}

void nvb_strbuf_vappendf(struct nvb_strbuf *b, const char *fmt, va_list ap)
{
	if (b->oom)
		return;
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!strbuf_grow(b, (size_t)n))
		return;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void nvb_strbuf_appendf(struct nvb_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	nvb_strbuf_vappendf(b, fmt, ap);
	va_end(ap);
}

char *nvb_strbuf_take(struct nvb_strbuf *b)
{
	char *s = b->oom ? NULL : b->s ? b->s : strdup("");
	if (b->oom)
		free(b->s);
	*b = (struct nvb_strbuf){0};
	return s;
}

void nvb_strbuf_free(struct nvb_strbuf *b)
{
	free(b->s);
	*b = (struct nvb_strbuf){0};
}
