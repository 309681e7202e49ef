/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unified diff (GNU diff -u format) for --dry-run output of configuration edits: hunks with
 * 3 lines of context, "@@ -a,b +c,d @@" headers, "\ No newline at end of file", so that the
 * output can be read like any diff and applied with patch(1).
 */
#include "engines/engines.h"

#define CONTEXT 3
#define LCS_MAX 4000 /* changed lines on each side the LCS table holds (configuration files) */

struct lines {
	char **v;
	size_t n;
	char *buf;
	bool no_eol; /* the last line has no newline */
};

static int split(const char *text, struct lines *l)
{
	l->v = NULL;
	l->n = 0;
	l->buf = strdup(text ? text : "");
	if (!l->buf)
		return -1;
	size_t len = strlen(l->buf);
	l->no_eol = len && l->buf[len - 1] != '\n';
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

/* The same line, the final newline (or its absence) included. */
static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return !strcmp(a->v[i], b->v[j]) &&
	       (a->no_eol && i == a->n - 1) == (b->no_eol && j == b->n - 1);
}

struct op {
	char kind; /* ' ', '-', '+' */
	size_t i, j; /* the line of a and of b at this step */
};

/* The edit script from a to b: common head and tail as they are, the middle by longest common
 * subsequence, deletions before insertions (as diff prints them). */
static struct op *edit_script(const struct lines *a, const struct lines *b, size_t *n_ops)
{
	size_t head = 0, tail = 0;
	while (head < a->n && head < b->n && same(a, head, b, head))
		head++;
	while (tail < a->n - head && tail < b->n - head &&
	       same(a, a->n - 1 - tail, b, b->n - 1 - tail))
		tail++;
	size_t an = a->n - head - tail, bn = b->n - head - tail, w = bn + 1;
	if (an > LCS_MAX || bn > LCS_MAX)
		return NULL;
	unsigned *lcs = calloc((an + 1) * w, sizeof(*lcs));
	struct op *ops = calloc(a->n + b->n + 1, sizeof(*ops));
	if (!lcs || !ops) {
		free(lcs);
		free(ops);
		return NULL;
	}
	for (size_t i = an; i-- > 0;)
		for (size_t j = bn; j-- > 0;) {
			unsigned down = lcs[(i + 1) * w + j], right = lcs[i * w + j + 1];
			lcs[i * w + j] = same(a, head + i, b, head + j) ? lcs[(i + 1) * w + j + 1] + 1
									: (down > right ? down : right);
		}
	size_t n = 0, i = 0, j = 0;
	for (size_t k = 0; k < head; k++)
		ops[n++] = (struct op){' ', k, k};
	while (i < an || j < bn) {
		if (i < an && j < bn && same(a, head + i, b, head + j)) {
			ops[n++] = (struct op){' ', head + i++, head + j++};
		} else if (i < an && (j == bn || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
			ops[n++] = (struct op){'-', head + i++, head + j};
		} else {
			ops[n++] = (struct op){'+', head + i, head + j++};
		}
	}
	for (size_t k = 0; k < tail; k++)
		ops[n++] = (struct op){' ', head + an + k, head + bn + k};
	free(lcs);
	*n_ops = n;
	return ops;
}

/* "-3,2": a count of 1 is left out; an empty side names the line before it. */
static void range(FILE *f, char sign, size_t start, size_t count)
{
	if (count == 1)
		fprintf(f, "%c%zu", sign, start + 1);
	else
		fprintf(f, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

static void hunk(FILE *f, const struct op *ops, size_t from, size_t to, const struct lines *a,
		 const struct lines *b)
{
	size_t ac = 0, bc = 0;
	for (size_t k = from; k < to; k++) {
		ac += ops[k].kind != '+';
		bc += ops[k].kind != '-';
	}
	fputs("@@ ", f);
	range(f, '-', ops[from].i, ac);
	fputc(' ', f);
	range(f, '+', ops[from].j, bc);
	fputs(" @@\n", f);
	for (size_t k = from; k < to; k++) {
		bool from_b = ops[k].kind == '+';
		const struct lines *l = from_b ? b : a;
		size_t idx = from_b ? ops[k].j : ops[k].i;
		fprintf(f, "%c%s\n", ops[k].kind, l->v[idx]);
		if (l->no_eol && idx == l->n - 1)
			fputs("\\ No newline at end of file\n", f);
	}
}

char *nvb_text_diff(const char *a, const char *b, const char *label_a, const char *label_b)
{
	struct lines la = {0}, lb = {0};
	struct op *ops = NULL;
	size_t n = 0, len = 0;
	char *out = NULL;
	FILE *f = NULL;
	if (split(a, &la) < 0 || split(b, &lb) < 0 || !(ops = edit_script(&la, &lb, &n)) ||
	    !(f = open_memstream(&out, &len)))
		goto out;
	bool header = false;
	for (size_t k = 0; k < n;) {
		if (ops[k].kind == ' ') {
			k++;
			continue;
		}
		/* a hunk: CONTEXT lines before the first change, and on while the changes are at
		 * most 2 * CONTEXT unchanged lines apart */
		size_t from = k > CONTEXT ? k - CONTEXT : 0, last = k;
		for (size_t e = k + 1; e < n && e <= last + 2 * CONTEXT + 1; e++)
			if (ops[e].kind != ' ')
				last = e;
		size_t to = last + 1 + CONTEXT < n ? last + 1 + CONTEXT : n;
		if (!header)
			fprintf(f, "--- %s\n+++ %s\n", label_a, label_b);
		header = true;
		hunk(f, ops, from, to, &la, &lb);
		k = last + 1;
	}
out:
	if (f && fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	free(ops);
	free(la.v);
	free(la.buf);
	free(lb.v);
	free(lb.buf);
	return out;
}
