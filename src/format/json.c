/* SPDX-License-Identifier: Apache-2.0 */
/* JSON whose numbers survive a read and a write exactly (format/json.h). */
#include <math.h>
#include <sys/random.h>
#include <time.h>

#include "format/json.h"

/* ------------------------------------------------------------------ exact numbers */

/* A number jansson cannot hold exactly travels through the tree as the string
 * "\x01nvbind-number:<nonce>:<its text>". The nonce is random per process: no string of the
 * input can pass for one. */
#define MARKER_DUMPED "\\u0001nvbind-number:" /* as json_dumps writes it */
#define EXACT_MAX 100000u			 /* such numbers in one document */

static const char *exact_nonce(void)
{
	static char nonce[17];
	if (!nonce[0]) {
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = ((uint64_t)getpid() << 40) ^ (uint64_t)time(NULL) ^ (uint64_t)clock();
		snprintf(nonce, sizeof(nonce), "%016llx", (unsigned long long)r);
	}
	return nonce;
}

/* Index just past the JSON string that starts at s[i] == '"' (len when it is unterminated). */
static size_t string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t digits(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* Length of the JSON number (RFC 8259) at the start of s, 0 when there is none; *real when it
 * has a fraction or an exponent. */
static size_t number_len(const char *s, size_t len, bool *real)
{
	size_t i = s[0] == '-' ? 1 : 0, d;
	*real = false;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		i = digits(s, len, i);
	else
		return 0;
	if (i < len && s[i] == '.') {
		if ((d = digits(s, len, i + 1)) == i + 1)
			return 0;
		i = d;
		*real = true;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if ((d = digits(s, len, i)) == i)
			return 0;
		i = d;
		*real = true;
	}
	return i;
}

/* Whether jansson refuses the number: an integer outside int64, a real that overflows. */
static bool too_big(const char *tok, size_t n, bool real)
{
	if (!real) {
		bool neg = tok[0] == '-';
		size_t nd = n - neg;
		const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
		return nd > 19 || (nd == 19 && memcmp(tok + neg, limit, 19) > 0);
	}
	_cleanup_free_ char *copy = strndup(tok, n);
	return !copy || isinf(strtod(copy, NULL));
}

struct text_buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct text_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void set_jerr(json_error_t *jerr, const char *data, size_t at, enum json_error_code code,
		     const char *text)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < at; i++, col++)
		if (data[i] == '\n') {
			line++;
			col = 0;
		}
	memset(jerr, 0, sizeof(*jerr));
	jerr->line = line;
	jerr->column = col;
	jerr->position = (int)at;
	snprintf(jerr->text, sizeof(jerr->text) - 1, "%s", text);
	jerr->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
}

/* data with the numbers jansson cannot hold (every real too with keep_reals) replaced by
 * marker strings. *count: how many were replaced. -1 with jerr set on failure. */
static int mark_numbers(const char *data, size_t len, bool keep_reals, struct text_buf *out,
			size_t *count, json_error_t *jerr)
{
	const char *nonce = exact_nonce();
	size_t i = 0, copied = 0;
	*count = 0;
	while (i < len) {
		char c = data[i];
		if (c == '"') {
			i = string_end(data, len, i);
			continue;
		}
		if (c != '-' && (c < '0' || c > '9')) {
			i++;
			continue;
		}
		/* the whole run of number characters at once: rescanning a malformed one from each
		 * of its characters would be quadratic */
		size_t run = 0, n;
		bool real;
		while (i + run < len && data[i + run] && strchr("-+.0123456789eE", data[i + run]))
			run++;
		if ((n = number_len(data + i, run, &real)) != run) {
			i += run; /* not a JSON number: jansson reports it */
			continue;
		}
		if ((real && keep_reals) || too_big(data + i, n, real)) {
			if (++*count > EXACT_MAX) {
				set_jerr(jerr, data, i, json_error_numeric_overflow,
					 "too many numbers beyond 64 bits");
				return -1;
			}
			if (buf_add(out, data + copied, i - copied) < 0 || buf_add(out, "\"", 1) < 0 ||
			    buf_add(out, MARKER_DUMPED, strlen(MARKER_DUMPED)) < 0 ||
			    buf_add(out, nonce, strlen(nonce)) < 0 || buf_add(out, ":", 1) < 0 ||
			    buf_add(out, data + i, n) < 0 || buf_add(out, "\"", 1) < 0) {
				set_jerr(jerr, data, i, json_error_out_of_memory, "out of memory");
				return -1;
			}
			copied = i + n;
		}
		i += n;
	}
	if (*count && buf_add(out, data + copied, len - copied) < 0) {
		set_jerr(jerr, data, len, json_error_out_of_memory, "out of memory");
		return -1;
	}
	return 0;
}

/* Strings of the document that look like this process's markers ("\x01nvbind-number:<nonce>:"). */
static size_t count_markers(const json_t *v)
{
	size_t n = 0, i;
	const char *key;
	json_t *child;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		return s[0] == '\x01' && nvb_str_has_prefix(s + 1, "nvbind-number:") &&
		       nvb_str_has_prefix(s + 15, exact_nonce());
	}
	if (json_is_array(v))
		json_array_foreach((json_t *)v, i, child) n += count_markers(child);
	else if (json_is_object(v))
		json_object_foreach((json_t *)v, key, child) n += count_markers(child);
	return n;
}

/* A document string equal to a marker would be written back as a number: such a document
 * (only a process that learnt the nonce could write one) is refused, never altered. */
static json_t *refuse_forged(json_t *root, size_t ours, json_error_t *jerr)
{
	if (!root || count_markers(root) == ours)
		return root;
	json_decref(root);
	memset(jerr, 0, sizeof(*jerr));
	jerr->line = jerr->column = -1;
	snprintf(jerr->text, sizeof(jerr->text), "a string holds nvbind's internal number marker");
	return NULL;
}

json_t *nvb_json_loadb_exact(const char *data, size_t len, size_t flags, bool keep_reals,
			     json_error_t *jerr)
{
	/* the common case costs one parse: no number beyond what jansson holds */
	json_t *root = json_loadb(data, len, flags, jerr);
	if (root ? !keep_reals : json_error_code(jerr) != json_error_numeric_overflow)
		return refuse_forged(root, 0, jerr);
	struct text_buf marked = {NULL, 0, 0};
	size_t count;
	json_error_t merr;
	if (mark_numbers(data, len, keep_reals, &marked, &count, &merr) < 0) {
		json_decref(root);
		free(marked.p);
		*jerr = merr;
		return NULL;
	}
	if (count) {
		json_decref(root);
		root = json_loadb(marked.p, marked.len, flags, jerr);
	}
	free(marked.p);
	return refuse_forged(root, count, jerr);
}

char *nvb_json_dumps_exact(const json_t *json, size_t flags)
{
	char *text = json_dumps(json, flags);
	if (!text || !strstr(text, MARKER_DUMPED))
		return text;
	char prefix[64];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "\"%s%s:", MARKER_DUMPED, exact_nonce());
	size_t len = strlen(text), i = 0, copied = 0;
	struct text_buf out = {NULL, 0, 0};
	while (i < len) {
		if (text[i] != '"') {
			i++;
			continue;
		}
		size_t end = string_end(text, len, i);
		bool real;
		size_t n = 0;
		if (end - i > plen + 1 && !memcmp(text + i, prefix, plen))
			n = number_len(text + i + plen, end - 1 - (i + plen), &real);
		if (n && i + plen + n == end - 1) { /* the whole string is a marker */
			if (buf_add(&out, text + copied, i - copied) < 0 ||
			    buf_add(&out, text + i + plen, n) < 0)
				goto nomem;
			copied = end;
		}
		i = end;
	}
	if (buf_add(&out, text + copied, len - copied) < 0)
		goto nomem;
	free(text);
	return out.p;
nomem:
	free(out.p);
	free(text);
	return NULL;
}
