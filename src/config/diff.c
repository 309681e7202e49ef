/* SPDX-License-Identifier: Apache-2.0 */
/* A small line diff (longest common subsequence) for --dry-run output of configuration edits. */
#include "config/engines.h"

struct lines {
	char **v;
	size_t n;
	char *buf;
};

static int split(const char *text, struct lines *l)
{
	l->v = NULL;
	l->n = 0;
	l->buf = strdup(text ? text : "");
	if (!l->buf)
		return -1;
	char *p = l->buf;
	/* keep empty lines: split by hand */
	while (*p) {
		char **slot = nvb_array_push(&l->v, &l->n, sizeof(char *));
		if (!slot)
			return -1;
		*slot = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return 0;
}

char *nvb_text_diff(const char *a, const char *b, const char *label_a, const char *label_b)
{
	struct lines la = {0}, lb = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f = NULL;
	unsigned *lcs = NULL;
	if (split(a, &la) < 0 || split(b, &lb) < 0)
		goto out;
	/* configuration files are small: an (n+1)*(m+1) table is fine, but stay bounded */
	if (la.n > 4000 || lb.n > 4000)
		goto out;
	size_t w = lb.n + 1;
	lcs = calloc((la.n + 1) * w, sizeof(*lcs));
	f = open_memstream(&out, &len);
	if (!lcs || !f)
		goto out;
	for (size_t i = la.n; i-- > 0;)
		for (size_t j = lb.n; j-- > 0;)
			lcs[i * w + j] = strcmp(la.v[i], lb.v[j]) == 0
						 ? lcs[(i + 1) * w + j + 1] + 1
						 : (lcs[(i + 1) * w + j] > lcs[i * w + j + 1] ? lcs[(i + 1) * w + j]
											     : lcs[i * w + j + 1]);
	fprintf(f, "--- %s\n+++ %s\n", label_a, label_b);
	size_t i = 0, j = 0;
	while (i < la.n || j < lb.n) {
		if (i < la.n && j < lb.n && strcmp(la.v[i], lb.v[j]) == 0) {
			fprintf(f, " %s\n", la.v[i]);
			i++;
			j++;
		} else if (j < lb.n && (i == la.n || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) {
			fprintf(f, "+%s\n", lb.v[j++]);
		} else {
			fprintf(f, "-%s\n", la.v[i++]);
		}
	}
out:
	if (f)
		fclose(f);
	free(lcs);
	free(la.v);
	free(la.buf);
	free(lb.v);
	free(lb.buf);
	return out;
}
