/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One value out of a JSON text, without building a tree. nvbind-hook needs two strings per
 * container (the state's "bundle" and config.json's "root.path") and starts with every
 * container: jansson builds the whole 8-20 KB config.json as a tree, one byte at a time
 * through its lexer, for one string. This reader validates the text as strictly (RFC 8259,
 * UTF-8, no lone surrogates, jansson's nesting limit) and keeps only the value asked for.
 * tests/unit/test_jscan.c compares it with jansson on thousands of mutated texts, and
 * tests/fuzz/fuzz_oci_state.c feeds it through the state reader.
 */
#include "format/jscan.h"

#include <stdarg.h>

#define MAX_NESTING 2048 /* jansson's JSON_PARSER_MAX_DEPTH */
#define KEY_CAP 64       /* keys of a path are shorter */

struct scan {
	const unsigned char *text, *p, *end;
	const char *const *path;
	size_t depth;
	int kind; /* of the value at path */
	const unsigned char *found, *found_end;
	const unsigned char *err_at;
	char err[96];
};

NVB_PRINTF(3, 4)
static int fail(struct scan *s, const unsigned char *at, const char *fmt, ...)
{
	if (!s->err[0]) { /* the first error is the one to report */
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof(s->err), fmt, ap);
		va_end(ap);
		s->err_at = at;
	}
	return -1;
}

static int peek(const struct scan *s)
{
	return s->p < s->end ? *s->p : -1;
}

static void skip_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* The length of the well-formed UTF-8 sequence at p (1 to 4), 0 when it is not one:
 * overlong forms, surrogates and code points over U+10FFFF are not. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp, min;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static bool hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static size_t utf8_encode(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Where a decoded string goes: out may be NULL (validate only); bytes beyond cap are counted
 * in len but not written. */
struct decoded {
	unsigned char *out;
	size_t cap, len;
	bool nul; /* a \u0000 */
};

static void put(struct decoded *d, const unsigned char *bytes, size_t n)
{
	if (d->out && d->len + n <= d->cap)
		memcpy(d->out + d->len, bytes, n);
	d->len += n;
}

/* \uXXXX at s->p (after the backslash and 'u' were seen), with the second half of a
 * surrogate pair: the code point, or -1. */
static long unicode_escape(struct scan *s)
{
	const unsigned char *at = s->p;
	unsigned cp, low;
	if (s->end - s->p < 6 || !hex4(s->p + 2, &cp))
		return fail(s, at, "invalid \\u escape");
	s->p += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(s, at, "invalid Unicode '\\u%04X'", cp);
	if (cp < 0xD800 || cp > 0xDBFF)
		return cp;
	if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || !hex4(s->p + 2, &low) ||
	    low < 0xDC00 || low > 0xDFFF)
		return fail(s, at, "invalid Unicode '\\u%04X'", cp);
	s->p += 6;
	return 0x10000 + ((long)(cp - 0xD800) << 10) + (low - 0xDC00);
}

/* A string at s->p (its opening quote): validated, decoded into d, s->p past its end. */
static int scan_string(struct scan *s, struct decoded *d)
{
	static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const unsigned char *start = s->p++;
	for (;;) {
		int c = peek(s);
		if (c < 0)
			return fail(s, start, "unterminated string");
		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(s, s->p, "control character 0x%02x in a string", (unsigned)c);
		if (c != '\\') {
			size_t n = utf8_length(s->p, s->end);
			if (!n)
				return fail(s, s->p, "invalid UTF-8 byte 0x%02x in a string", (unsigned)c);
			put(d, s->p, n);
			s->p += n;
			continue;
		}
		if (s->end - s->p < 2)
			return fail(s, start, "unterminated string");
		if (s->p[1] == 'u') {
			long cp = unicode_escape(s);
			if (cp < 0)
				return -1;
			unsigned char buf[4];
			put(d, buf, utf8_encode(buf, (unsigned)cp));
			d->nul = d->nul || cp == 0;
			continue;
		}
		const char *e = s->p[1] ? strchr(escapes, s->p[1]) : NULL;
		if (!e || (e - escapes) % 2)
			return fail(s, s->p, "invalid escape '\\%c'", s->p[1] >= 0x20 && s->p[1] < 0x7f ? s->p[1] : '?');
		put(d, (const unsigned char *)e + 1, 1);
		s->p += 2;
	}
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scan *s)
{
	const unsigned char *start = s->p;
	if (peek(s) == '-')
		s->p++;
	if (peek(s) == '0')
		s->p++;
	else if (digit(peek(s)) && peek(s) != '0')
		while (digit(peek(s)))
			s->p++;
	else
		return fail(s, start, "invalid number");
	if (peek(s) == '.') {
		s->p++;
		if (!digit(peek(s)))
			return fail(s, start, "invalid number");
		while (digit(peek(s)))
			s->p++;
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		s->p++;
		if (peek(s) == '+' || peek(s) == '-')
			s->p++;
		if (!digit(peek(s)))
			return fail(s, start, "invalid number");
		while (digit(peek(s)))
			s->p++;
	}
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, s->p, "invalid token");
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s, size_t level, bool on_path, unsigned nesting);

/* At an object's '{' or an array's '[': past it, and past its close when it is empty. */
static bool empty_container(struct scan *s, int close)
{
	s->p++;
	skip_space(s);
	if (peek(s) != close)
		return false;
	s->p++;
	return true;
}

/* After a member of an object or an array: 1 past its close, 0 past a comma, -1 else. */
static int after_member(struct scan *s, int close)
{
	skip_space(s);
	int c = peek(s);
	if (c == close || c == ',') {
		s->p++;
		return c == close;
	}
	return fail(s, s->p, c < 0 ? "unexpected end of input"
			   : close == '}' ? "',' or '}' expected" : "',' or ']' expected");
}

/* An object at s->p. On the path (level keys of it matched so far), the key path[level] is
 * looked for, and must not appear twice. */
static int scan_object(struct scan *s, size_t level, bool on_path, unsigned nesting)
{
	bool wanted = on_path && level < s->depth, seen = false;
	if (empty_container(s, '}'))
		return 0;
	for (;;) {
		skip_space(s);
		if (peek(s) != '"')
			return fail(s, s->p, peek(s) < 0 ? "unexpected end of input" : "string or '}' expected");
		const unsigned char *key_at = s->p;
		unsigned char key[KEY_CAP];
		struct decoded d = {.out = wanted ? key : NULL, .cap = sizeof(key)};
		if (scan_string(s, &d) < 0)
			return -1;
		bool match = wanted && !d.nul && d.len == strlen(s->path[level]) &&
			     memcmp(key, s->path[level], d.len) == 0;
		if (match && seen)
			return fail(s, key_at, "duplicate key \"%s\"", s->path[level]);
		seen = seen || match;
		skip_space(s);
		if (peek(s) != ':')
			return fail(s, s->p, peek(s) < 0 ? "unexpected end of input" : "':' expected");
		s->p++;
		int end = scan_value(s, level + 1, match, nesting) < 0 ? -1 : after_member(s, '}');
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

static int scan_array(struct scan *s, unsigned nesting)
{
	if (empty_container(s, ']'))
		return 0;
	for (;;) {
		int end = scan_value(s, 0, false, nesting) < 0 ? -1 : after_member(s, ']');
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

static int scan_value(struct scan *s, size_t level, bool on_path, unsigned nesting)
{
	skip_space(s);
	const unsigned char *start = s->p;
	int c = peek(s), kind, r;
	if ((c == '{' || c == '[') && nesting >= MAX_NESTING)
		return fail(s, s->p, "more than %d levels of nesting", MAX_NESTING);
	switch (c) {
	case -1:
		return fail(s, s->p, "unexpected end of input");
	case '{':
		kind = NVB_JSCAN_OBJECT, r = scan_object(s, level, on_path, nesting + 1);
		break;
	case '[':
		kind = NVB_JSCAN_ARRAY, r = scan_array(s, nesting + 1);
		break;
	case '"':
		kind = NVB_JSCAN_STRING, r = scan_string(s, &(struct decoded){0});
		break;
	case 't':
	case 'f':
		kind = NVB_JSCAN_BOOL, r = scan_literal(s, c == 't' ? "true" : "false");
		break;
	case 'n':
		kind = NVB_JSCAN_NULL, r = scan_literal(s, "null");
		break;
	default:
		if (c != '-' && !digit(c))
			return fail(s, s->p, "invalid token");
		kind = NVB_JSCAN_NUMBER, r = scan_number(s);
	}
	if (r == 0 && on_path && level == s->depth) {
		s->kind = kind;
		s->found = start;
		s->found_end = s->p;
	}
	return r;
}

static void locate(const struct scan *s, struct nvb_jscan_error *jerr)
{
	jerr->line = 1;
	const unsigned char *line_start = s->text;
	for (const unsigned char *q = s->text; q < s->err_at; q++)
		if (*q == '\n')
			jerr->line++, line_start = q + 1;
	jerr->column = (int)(s->err_at - line_start) + 1;
	snprintf(jerr->text, sizeof(jerr->text), "%s", s->err);
}

/* The value found, as the caller gets it: a string decoded, a number's token. */
static int found_value(struct scan *s, char **value, struct nvb_jscan_error *jerr)
{
	size_t n = (size_t)(s->found_end - s->found);
	if (s->kind != NVB_JSCAN_STRING && s->kind != NVB_JSCAN_NUMBER)
		return 0;
	unsigned char *out = malloc(n + 1);
	if (!out) {
		snprintf(jerr->text, sizeof(jerr->text), "out of memory");
		return -1;
	}
	if (s->kind == NVB_JSCAN_NUMBER) {
		memcpy(out, s->found, n);
		out[n] = '\0';
	} else { /* decoded, never longer than the quoted token */
		struct decoded d = {.out = out, .cap = n};
		s->p = s->found;
		scan_string(s, &d);
		out[d.len] = '\0';
		if (d.nul) {
			free(out);
			s->err_at = s->found;
			snprintf(s->err, sizeof(s->err), "the string holds a NUL character (\\u0000)");
			locate(s, jerr);
			return -1;
		}
	}
	*value = (char *)out;
	return 0;
}

int nvb_jscan(const char *text, size_t len, const char *const *path, size_t depth, char **value,
	      struct nvb_jscan_error *jerr)
{
	struct scan s = {
		.text = (const unsigned char *)text,
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.path = path,
		.depth = depth,
		.kind = NVB_JSCAN_ABSENT,
	};
	memset(jerr, 0, sizeof(*jerr));
	if (value)
		*value = NULL;
	if (scan_value(&s, 0, true, 0) == 0) {
		skip_space(&s);
		if (s.p != s.end)
			fail(&s, s.p, "end of input expected");
	}
	if (s.err[0]) {
		locate(&s, jerr);
		return -1;
	}
	if (value && found_value(&s, value, jerr) < 0)
		return -1;
	return s.kind;
}
