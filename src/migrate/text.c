/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: string lists and shell words (migrate.h). */
#include "migrate/internal.h"

int nvb_strv_add_all(struct nvb_strv *dst, const struct nvb_strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (nvb_strv_push(dst, src->v[i]) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* shell words */

char *nvb_shell_join(char *const *words, size_t n)
{
	struct nvb_strbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		char *q = nvb_shell_quote(words[i]);
		if (!q) {
			b.oom = true;
			break;
		}
		nvb_strbuf_appendf(&b, "%s%s", i ? " " : "", q);
		free(q);
	}
	return nvb_strbuf_take(&b);
}

/* The word in w goes to out; w is empty again. */
static int end_word(struct nvb_strbuf *w, struct nvb_strv *out, struct nvb_error *err)
{
	char *s = nvb_strbuf_take(w);
	int r = s ? nvb_strv_push(out, s) : -1;
	free(s);
	memset(w, 0, sizeof(*w));
	return r < 0 ? nvb_error_nomem(err) : 0;
}

int nvb_shell_split(const char *line, struct nvb_strv *out, struct nvb_error *err)
{
	struct nvb_strbuf w = {0};
	bool in_word = false;
	const char *p = line;
	while (*p) {
		char c = *p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word) {
				if (end_word(&w, out, err) < 0)
					return -1;
				in_word = false;
			}
			p++;
			continue;
		}
		if (c == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\n' ? 2 : 3; /* continuation */
			continue;
		}
		in_word = true;
		if (c == '\\') {
			if (p[1])
				nvb_strbuf_appendf(&w, "%c", p[1]);
			p += p[1] ? 2 : 1;
			continue;
		}
		if (c == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end) {
				free(w.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, "close the quote",
						     "unterminated ' in the command line");
			}
			nvb_strbuf_appendf(&w, "%.*s", (int)(end - p - 1), p + 1);
			if (end == p + 1 && !w.s) /* '' is an empty word */
				nvb_strbuf_appendf(&w, "%s", "");
			p = end + 1;
			continue;
		}
		if (c == '"') {
			p++;
			if (!w.s)
				nvb_strbuf_appendf(&w, "%s", "");
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
					if (p[1] != '\n')
						nvb_strbuf_appendf(&w, "%c", p[1]);
					p += 2;
					continue;
				}
				nvb_strbuf_appendf(&w, "%c", *p++);
			}
			if (*p != '"') {
				free(w.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, "close the quote",
						     "unterminated \" in the command line");
			}
			p++;
			continue;
		}
		nvb_strbuf_appendf(&w, "%c", c);
		p++;
	}
	return in_word ? end_word(&w, out, err) : 0;
}
