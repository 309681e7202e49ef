/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unified diff (GNU diff -u format) for --dry-run output of configuration edits: hunks with
 * 3 lines of context, "@@ -a,b +c,d @@" headers, "\ No newline at end of file", so that the
 * output can be read like any diff and applied with patch(1).
 */
#include "core/strv.h"
#include "engines/engines.h"

#define CONTEXT 3
#define LCS_MAX 4000 /* changed lines on each side the LCS table holds (configuration files) */

/* A text's lines, newlines cut off (copies: the table is small, configuration files). */
struct lines {
	struct nvb_strv s;
	bool no_eol; /* the last line has no newline */
};

static int split(const char *text, struct lines *l)
{
	*l = (struct lines){0};
	const char *p = text ? text : "";
	size_t len = strlen(p);
	l->no_eol = len && p[len - 1] != '\n';
	/* keep empty lines: split by hand */
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (nvb_strv_pushf(&l->s, "%.*s", (int)n, p) < 0)
			return -1;
		if (!p[n])
			break;
		p += n + 1;
	}
	return 0;
}

/* The same line, the final newline (or its absence) included. */
static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return !strcmp(a->s.v[i], b->s.v[j]) &&
	       (a->no_eol && i == a->s.n - 1) == (b->no_eol && j == b->s.n - 1);
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
	while (head < a->s.n && head < b->s.n && same(a, head, b, head))
		head++;
	while (tail < a->s.n - head && tail < b->s.n - head &&
	       same(a, a->s.n - 1 - tail, b, b->s.n - 1 - tail))
		tail++;
	size_t an = a->s.n - head - tail, bn = b->s.n - head - tail, w = bn + 1;
	if (an > LCS_MAX || bn > LCS_MAX)
		return NULL;
	unsigned *lcs = calloc((an + 1) * w, sizeof(*lcs));
	struct op *ops = calloc(a->s.n + b->s.n + 1, sizeof(*ops));
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
static void range(struct nvb_strbuf *o, char sign, size_t start, size_t count)
{
	if (count == 1)
		nvb_strbuf_appendf(o, "%c%zu", sign, start + 1);
	else
		nvb_strbuf_appendf(o, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

static void hunk(struct nvb_strbuf *o, const struct op *ops, size_t from, size_t to,
		 const struct lines *a, const struct lines *b)
{
	size_t ac = 0, bc = 0;
	for (size_t k = from; k < to; k++) {
		ac += ops[k].kind != '+';
		bc += ops[k].kind != '-';
	}
	nvb_strbuf_append(o, "@@ ");
	range(o, '-', ops[from].i, ac);
	nvb_strbuf_appendc(o, ' ');
	range(o, '+', ops[from].j, bc);
	nvb_strbuf_append(o, " @@\n");
	for (size_t k = from; k < to; k++) {
		bool from_b = ops[k].kind == '+';
		const struct lines *l = from_b ? b : a;
		size_t idx = from_b ? ops[k].j : ops[k].i;
		nvb_strbuf_appendf(o, "%c%s\n", ops[k].kind, l->s.v[idx]);
		if (l->no_eol && idx == l->s.n - 1)
			nvb_strbuf_append(o, "\\ No newline at end of file\n");
	}
}

char *nvb_text_diff(const char *a, const char *b, const char *label_a, const char *label_b)
{
	struct lines la = {0}, lb = {0};
	struct op *ops = NULL;
	size_t n = 0;
	char *out = NULL;
	struct nvb_strbuf text = {0}, *o = &text;
	if (split(a, &la) < 0 || split(b, &lb) < 0 || !(ops = edit_script(&la, &lb, &n)))
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
			nvb_strbuf_appendf(o, "--- %s\n+++ %s\n", label_a, label_b);
		header = true;
		hunk(o, ops, from, to, &la, &lb);
		k = last + 1;
	}
	out = nvb_strbuf_take(o); /* NULL when memory ran out */
out:
	nvb_strbuf_free(o);
	free(ops);
	nvb_strv_free(&la.s);
	nvb_strv_free(&lb.s);
	return out;
}
