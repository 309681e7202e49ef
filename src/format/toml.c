/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TOML 1.0 reader: a recursive-descent parser straight over the input bytes.
 *
 * The document is checked for valid UTF-8 once, up front, so everything after that may
 * step over multi-byte characters blindly. Recursion only happens for arrays and inline
 * tables, and every table or array is created through nvb_toml_new_value(), which enforces the
 * depth and value-count limits: the parser's stack and the tree's depth are bounded by
 * NVB_TOML_MAX_DEPTH whatever the input.
 *
 * Table definition rules (TOML 1.0 "Table" and "Keys" sections) are tracked with flags:
 *  - TBL_IMPLICIT: created as a super-table of a [header]; a later [header] may still
 *    define it, dotted keys may add to it;
 *  - TBL_EXPLICIT: defined by its own [header] (or an element of [[header]]); dotted keys
 *    under another header cannot add to it, and it cannot be defined again;
 *  - TBL_DOTTED: defined by dotted keys; no [header] may define it, though a [header]
 *    may define sub-tables below it;
 *  - defined_inline: an inline table or static array, complete once closed.
 * Dotted keys never traverse arrays: the only way into an array of tables is a header.
 */

#include "format/toml_internal.h"



struct key_part {
	char *name;
	int line, col;
};

struct key_path {
	struct key_part *parts;
	size_t n;
	const char *end; /* just past the last part, before any whitespace */
	bool last_bare;
};

static int parse_value(struct parser *ps, int depth, struct nvb_toml_value **out);


static bool is_ws(int c) { return c == ' ' || c == '\t'; }



static bool is_bare(int c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; }

/* Control characters TOML allows nowhere but as escapes (tab is fine in text). */
static bool is_control(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f; }

static bool at_newline(const struct parser *ps)
{
	int c = peek(ps);
	return c == '\n' || (c == '\r' && peek_at(ps, 1) == '\n');
}

static bool eat_newline(struct parser *ps)
{
	if (peek(ps) == '\n') {
		adv(ps);
		return true;
	}
	if (peek(ps) == '\r' && peek_at(ps, 1) == '\n') {
		adv_n(ps, 2);
		return true;
	}
	return false;
}

static void skip_ws(struct parser *ps)
{
	while (is_ws(peek(ps)))
		adv(ps);
}


/* ------------------------------------------------------------------ errors */

int nvb_toml_fail_at(struct parser *ps, int line, int col, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return nvb_error_set(ps->err, NVB_ERR_PARSE, 0, hint, "%s:%d:%d: %s", ps->origin, line, col,
			     msg);
}

static size_t utf8_lead_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Describe the character at the cursor for "found ..." messages. */
static const char *char_desc(const struct parser *ps, char *buf, size_t size)
{
	int c = peek(ps);

	if (c < 0)
		return "end of file";
	if (c == '\n' || (c == '\r' && peek_at(ps, 1) == '\n'))
		return "end of line";
	if (c == '\r')
		return "a carriage return without a line feed";
	if (is_control(c))
		snprintf(buf, size, "control character U+%04X", (unsigned)c);
	else if (c < 0x80)
		snprintf(buf, size, "'%c'", c);
	else /* a whole character: the input is valid UTF-8 */
		snprintf(buf, size, "'%.*s'", (int)utf8_lead_len((unsigned char)c), ps->p);
	return buf;
}

/* Append one key part to buf at pos for a message, quoted when it is not a bare key.
 * Returns the new position; *full is set when the part did not fit. */
static size_t render_part(char *buf, size_t pos, size_t cap, const char *name, bool *full)
{
	bool bare = name[0] != '\0';

	for (const char *s = name; *s && bare; s++)
		bare = is_bare((unsigned char)*s);
	if (bare && pos + strlen(name) <= cap) {
		memcpy(buf + pos, name, strlen(name));
		return pos + strlen(name);
	}
	if (pos + 1 > cap)
		goto full;
	buf[pos++] = '"';
	for (const unsigned char *s = (const unsigned char *)name; *s;) {
		size_t n = utf8_lead_len(*s), step = n;
		char esc[8];
		if (*s < 0x20 || *s == 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04X", *s);
		else if (*s == '"' || *s == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", *s);
		else
			memcpy(esc, s, n);
		if (pos + n > cap) /* never cut a character in two */
			goto full;
		memcpy(buf + pos, esc, n);
		pos += n;
		s += step;
	}
	if (pos + 1 > cap)
		goto full;
	buf[pos++] = '"';
	return pos;
full:
	*full = true;
	return pos;
}

/* The first n parts of key as written in TOML, shortened to fit a message. */
static const char *key_str(struct parser *ps, const struct key_path *key, size_t n)
{
	char *buf = ps->keybuf;
	size_t cap = sizeof(ps->keybuf) - 4, pos = 0;
	bool full = false;

	for (size_t i = 0; i < n && !full; i++) {
		if (i && pos < cap)
			buf[pos++] = '.';
		pos = render_part(buf, pos, cap, key->parts[i].name, &full);
	}
	if (full) {
		memcpy(buf + pos, "...", 3);
		pos += 3;
	}
	buf[pos] = '\0';
	return buf;
}

/* "a string", "an integer" ... for messages about what a key already holds. */
static const char *what_is(const struct nvb_toml_value *v)
{
	switch (v->type) {
	case NVB_TOML_STRING:
		return "a string";
	case NVB_TOML_INTEGER:
		return "an integer";
	case NVB_TOML_FLOAT:
		return "a float";
	case NVB_TOML_BOOL:
		return "a boolean";
	case NVB_TOML_DATETIME:
		return "a date-time";
	case NVB_TOML_ARRAY:
		return "an array";
	case NVB_TOML_TABLE:
		return v->defined_inline ? "an inline table" : "a table";
	}
	return "a value";
}

/* ------------------------------------------------------------------- UTF-8 */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid: overlong
 * forms, surrogates and code points past U+10FFFF are refused. */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	uint32_t v, min;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return len;
}

static int check_utf8(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->p;
	size_t n = (size_t)(ps->end - ps->p);
	int line = 1, col = 1;

	for (size_t i = 0; i < n;) {
		if (s[i] < 0x80) {
			if (s[i] == '\n')
				line++, col = 0;
			i++, col++;
			continue;
		}
		size_t len = utf8_valid(s + i, n - i);
		if (!len)
			return nvb_toml_fail_at(ps, line, col, "save the file as UTF-8",
				       "invalid UTF-8 (byte 0x%02x)", s[i]);
		i += len, col++;
	}
	return 0;
}

static int put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* --------------------------------------------------------------- comments */

/* At '#': skip the comment, leaving the cursor on the newline (or at the end). */
static int skip_comment(struct parser *ps)
{
	char buf[48];

	adv(ps);
	for (;;) {
		int c = peek(ps);
		if (c < 0 || at_newline(ps))
			return 0;
		if (is_control(c))
			return fail(ps, "remove it, or write it as an escape inside a string",
				    "%s is not allowed in a comment",
				    char_desc(ps, buf, sizeof(buf)));
		adv(ps);
	}
}

/* Whitespace, comments and newlines, as arrays allow between their values. */
static int skip_wcn(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (peek(ps) == '#') {
			if (skip_comment(ps) < 0)
				return -1;
		} else if (!eat_newline(ps)) {
			return 0;
		}
	}
}

/* After an expression: optional whitespace and comment, then a newline or the end. */
static int end_of_line(struct parser *ps, const char *after)
{
	char buf[48];

	skip_ws(ps);
	if (peek(ps) == '#' && skip_comment(ps) < 0)
		return -1;
	if (peek(ps) < 0 || eat_newline(ps))
		return 0;
	if (peek(ps) == '\r')
		return fail(ps, "use LF or CRLF line endings",
			    "a carriage return must be followed by a line feed");
	if (!after)
		return fail(ps, NULL, "unexpected %s", char_desc(ps, buf, sizeof(buf)));
	return fail(ps, "put each key/value pair and each table header on its own line",
		    "expected the end of the line after the %s, found %s", after,
		    char_desc(ps, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------- strings */

struct sbuf {
	char *s;
	size_t len, cap;
};

/* Room for n more bytes plus the terminating NUL. */
static int sb_reserve(struct parser *ps, struct sbuf *b, size_t n)
{
	if (b->len + n < b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 32;
	while (cap <= b->len + n)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s)
		return nomem(ps);
	b->s = s;
	b->cap = cap;
	return 0;
}

static int sb_put(struct parser *ps, struct sbuf *b, const char *p, size_t n)
{
	if (sb_reserve(ps, b, n) < 0)
		return -1;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* Copy the characters plain() accepts; never stops inside a multi-byte character. */
static int copy_run(struct parser *ps, struct sbuf *b, bool (*plain)(int c))
{
	const char *start = ps->p;

	while (plain(peek(ps)))
		adv(ps);
	return ps->p > start ? sb_put(ps, b, start, (size_t)(ps->p - start)) : 0;
}

static bool plain_basic(int c)
{
	return c >= 0x80 || c == '\t' || (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f);
}

static bool plain_literal(int c)
{
	return c >= 0x80 || c == '\t' || (c >= 0x20 && c != '\'' && c != 0x7f);
}


/* After "\u" or "\U": n hex digits naming a Unicode scalar value. */
static int parse_ucs(struct parser *ps, struct sbuf *b, int n, int line, int col)
{
	uint32_t cp = 0;
	char out[4];

	for (int i = 0; i < n; i++) {
		int d = hex_value(peek(ps));
		if (d < 0)
			return nvb_toml_fail_at(ps, line, col, "write \\u with 4 hex digits, \\U with 8",
				       "\\%c escape needs %d hexadecimal digits",
				       n == 4 ? 'u' : 'U', n);
		cp = (cp << 4) | (uint32_t)d;
		adv(ps);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return nvb_toml_fail_at(
		    ps, line, col,
		    "only Unicode scalar values (not surrogates, at most U+10FFFF) can be written",
		    "escape \\%c%0*X is not a Unicode scalar value", n == 4 ? 'u' : 'U', n, cp);
	return sb_put(ps, b, out, (size_t)put_utf8(out, cp));
}

/* At a backslash in a basic string. */
static int parse_escape(struct parser *ps, struct sbuf *b)
{
	/* pairs: the letter after the backslash, the character it stands for */
	static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	int line = ps->line, col = ps->col;
	char buf[48];

	adv(ps);
	int c = peek(ps);
	if (c == 'u' || c == 'U') {
		adv(ps);
		return parse_ucs(ps, b, c == 'u' ? 4 : 8, line, col);
	}
	for (size_t i = 0; i + 1 < sizeof(simple); i += 2) {
		if (c == simple[i]) {
			adv(ps);
			return sb_put(ps, b, &simple[i + 1], 1);
		}
	}
	return nvb_toml_fail_at(ps, line, col, "write a backslash as \\\\, or use a 'literal string'",
		       "invalid escape sequence: backslash followed by %s",
		       char_desc(ps, buf, sizeof(buf)));
}

static int bad_string_char(struct parser *ps, bool literal)
{
	char buf[48];

	return fail(ps,
		    literal ? "use a basic string (\"...\") and an escape such as \\u0001"
			    : "write it as an escape such as \\n or \\u0001",
		    "%s is not allowed in a string", char_desc(ps, buf, sizeof(buf)));
}

static int unterminated(struct parser *ps, int line, int col, const char *close)
{
	return nvb_toml_fail_at(ps, line, col,
		       "single-line strings end on their line; use \"\"\" or ''' for more",
		       "string is not closed with %s before the end of the %s", close,
		       peek(ps) < 0 ? "file" : "line");
}

/* "..." */
static int parse_basic(struct parser *ps, struct sbuf *b)
{
	int line = ps->line, col = ps->col;

	adv(ps);
	for (;;) {
		if (copy_run(ps, b, plain_basic) < 0)
			return -1;
		int c = peek(ps);
		if (c == '"') {
			adv(ps);
			return 0;
		}
		if (c < 0 || at_newline(ps))
			return unterminated(ps, line, col, "\"");
		if (c != '\\')
			return bad_string_char(ps, false);
		if (parse_escape(ps, b) < 0)
			return -1;
	}
}

/* '...' */
static int parse_literal(struct parser *ps, struct sbuf *b)
{
	int line = ps->line, col = ps->col;

	adv(ps);
	for (;;) {
		if (copy_run(ps, b, plain_literal) < 0)
			return -1;
		int c = peek(ps);
		if (c == '\'') {
			adv(ps);
			return 0;
		}
		if (c < 0 || at_newline(ps))
			return unterminated(ps, line, col, "'");
		return bad_string_char(ps, true);
	}
}

/*
 * At a run of q's inside a multi-line string: one or two are content; three to five end
 * the string, those past the first three being content ("""a"""" is "a\"").
 * Returns 1 when the string ended.
 */
static int ml_quotes(struct parser *ps, struct sbuf *b, char q)
{
	size_t n = 0;

	while (n < 6 && peek_at(ps, n) == (unsigned char)q)
		n++;
	if (n == 6)
		return fail(ps, "escape a quote, or split the quotes with a basic string",
			    "too many quotes: a multi-line string may hold at most two in a row");
	size_t content = n < 3 ? n : n - 3;
	char qs[2] = {q, q};
	if (content && sb_put(ps, b, qs, content) < 0)
		return -1;
	adv_n(ps, n);
	return n >= 3;
}

/* A newline inside a multi-line string, stored as "\n" whatever the file uses. */
static int ml_newline(struct parser *ps, struct sbuf *b)
{
	eat_newline(ps);
	return sb_put(ps, b, "\n", 1);
}

/* Line-ending backslash: if the backslash at the cursor ends its line (trailing
 * whitespace allowed), skip it and all whitespace and newlines after it. Returns 1 then. */
static int line_ending_backslash(struct parser *ps)
{
	size_t k = 1;

	while (is_ws(peek_at(ps, k)))
		k++;
	if (peek_at(ps, k) != '\n' && !(peek_at(ps, k) == '\r' && peek_at(ps, k + 1) == '\n'))
		return 0;
	adv_n(ps, k);
	for (;;) {
		if (is_ws(peek(ps)))
			adv(ps);
		else if (!eat_newline(ps))
			return 1;
	}
}

static int ml_unterminated(struct parser *ps, int line, int col, const char *close)
{
	return nvb_toml_fail_at(ps, line, col, NULL, "multi-line string is not closed with %s", close);
}

/* """...""" */
static int parse_ml_basic(struct parser *ps, struct sbuf *b)
{
	int line = ps->line, col = ps->col;

	adv_n(ps, 3);
	eat_newline(ps); /* a newline right after the opening quotes is not content */
	for (;;) {
		if (copy_run(ps, b, plain_basic) < 0)
			return -1;
		int c = peek(ps), r;
		if (c < 0)
			return ml_unterminated(ps, line, col, "\"\"\"");
		if (c == '"') {
			if ((r = ml_quotes(ps, b, '"')) != 0)
				return r < 0 ? -1 : 0;
		} else if (c == '\\') {
			if (!line_ending_backslash(ps) && parse_escape(ps, b) < 0)
				return -1;
		} else if (at_newline(ps)) {
			if (ml_newline(ps, b) < 0)
				return -1;
		} else {
			return bad_string_char(ps, false);
		}
	}
}

/* '''...''' */
static int parse_ml_literal(struct parser *ps, struct sbuf *b)
{
	int line = ps->line, col = ps->col;

	adv_n(ps, 3);
	eat_newline(ps);
	for (;;) {
		if (copy_run(ps, b, plain_literal) < 0)
			return -1;
		int c = peek(ps), r;
		if (c < 0)
			return ml_unterminated(ps, line, col, "'''");
		if (c == '\'') {
			if ((r = ml_quotes(ps, b, '\'')) != 0)
				return r < 0 ? -1 : 0;
		} else if (at_newline(ps)) {
			if (ml_newline(ps, b) < 0)
				return -1;
		} else {
			return bad_string_char(ps, true);
		}
	}
}

static bool at_triple(const struct parser *ps)
{
	int c = peek(ps);
	return peek_at(ps, 1) == c && peek_at(ps, 2) == c;
}

/* Any of the four string forms; b->s is always allocated on success. */
static int parse_string(struct parser *ps, struct sbuf *b)
{
	bool triple = at_triple(ps);

	if (sb_reserve(ps, b, 0) < 0)
		return -1;
	b->s[0] = '\0';
	if (peek(ps) == '"')
		return triple ? parse_ml_basic(ps, b) : parse_basic(ps, b);
	return triple ? parse_ml_literal(ps, b) : parse_literal(ps, b);
}

static int parse_string_value(struct parser *ps, int depth, struct nvb_toml_value **out)
{
	int line = ps->line, col = ps->col;
	struct sbuf b = {0};

	if (parse_string(ps, &b) < 0) {
		free(b.s);
		return -1;
	}
	struct nvb_toml_value *v = nvb_toml_new_value(ps, NVB_TOML_STRING, depth, line, col);
	if (!v) {
		free(b.s);
		return -1;
	}
	v->v.s = b.s;
	v->len = b.len;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------- keys */

static void key_path_free(struct key_path *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->parts[i].name);
	free(k->parts);
}

static int parse_simple_key(struct parser *ps, struct key_part *kp, bool *bare)
{
	char buf[48];
	int c = peek(ps);

	kp->line = ps->line;
	kp->col = ps->col;
	*bare = false;
	if (c == '"' || c == '\'') {
		struct sbuf b = {0};
		if (at_triple(ps))
			return fail(ps, "write the key as \"...\" or '...'",
				    "a multi-line string cannot be a key");
		if (parse_string(ps, &b) < 0) {
			free(b.s);
			return -1;
		}
		kp->name = b.s;
		if (strlen(b.s) != b.len)
			return nvb_toml_fail_at(ps, kp->line, kp->col, NULL,
				       "a key must not contain U+0000");
		return 0;
	}
	const char *start = ps->p;
	while (is_bare(peek(ps)))
		adv(ps);
	if (ps->p == start) {
		bool eol = c < 0 || at_newline(ps);
		return fail(
		    ps,
		    eol ? "a key, '=' and the value must be on one line"
			: "bare keys may contain only A-Z a-z 0-9 - _; quote the key otherwise",
		    "expected a key, found %s", char_desc(ps, buf, sizeof(buf)));
	}
	*bare = true;
	kp->name = strndup(start, (size_t)(ps->p - start));
	return kp->name ? 0 : nomem(ps);
}

/* A simple or dotted key; leaves the cursor past the whitespace that follows it. */
static int parse_key(struct parser *ps, struct key_path *key)
{
	for (;;) {
		if (key->n >= NVB_TOML_MAX_DEPTH)
			return fail(ps, NULL, "a dotted key may have at most %d parts",
				    NVB_TOML_MAX_DEPTH);
		struct key_part *kp = nvb_array_push(&key->parts, &key->n, sizeof(*kp));
		if (!kp)
			return nomem(ps);
		if (parse_simple_key(ps, kp, &key->last_bare) < 0)
			return -1;
		key->end = ps->p;
		skip_ws(ps);
		if (peek(ps) != '.')
			return 0;
		adv(ps);
		skip_ws(ps);
	}
}

/* The character after a key is not the expected one. */
static int key_end_error(struct parser *ps, const struct key_path *key, const char *expected)
{
	char buf[48];
	int c = peek(ps);

	if (ps->p == key->end && key->last_bare && c >= 0 && !at_newline(ps))
		return fail(ps,
			    "bare keys may contain only A-Z a-z 0-9 - _; quote the key otherwise",
			    "%s is not allowed in a bare key", char_desc(ps, buf, sizeof(buf)));
	return fail(ps,
		    c < 0 || at_newline(ps) || c == '#'
			? "a key, '=' and the value must be on one line"
			: "quote a key that holds spaces or other special characters",
		    "expected %s after the key, found %s", expected,
		    char_desc(ps, buf, sizeof(buf)));
}

static int parse_scalar(struct parser *ps, int depth, struct nvb_toml_value **out)
{
	int line = ps->line, col = ps->col;
	const char *tok = ps->p;
	size_t n = nvb_toml_scan_token(ps);
	char buf[48];

	if (n == 0) {
		int c = peek(ps);
		return fail(ps,
			    c < 0 || c == '#' || at_newline(ps)
				? "give the key a value on the same line"
			    : c >= 0x80 ? "quote strings: key = \"text\""
					: NULL,
			    "expected a value, found %s", char_desc(ps, buf, sizeof(buf)));
	}
	struct nvb_toml_value *v = nvb_toml_new_value(ps, NVB_TOML_INTEGER, depth, line, col);
	if (!v)
		return -1;
	if (nvb_toml_classify_token(ps, tok, n, line, col, v) < 0) {
		nvb_toml_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------ tables and values */

/* Walk the parts of key but the last from t, creating the tables they name, and check
 * that the last part is still free. *parent gets the table the value goes into. */
static int resolve_dotted(struct parser *ps, struct nvb_toml_value *t, const struct key_path *key,
			  struct nvb_toml_value **parent)
{
	for (size_t i = 0; i + 1 < key->n; i++) {
		const struct key_part *kp = &key->parts[i];
		long at = nvb_toml_table_find(t, kp->name);
		if (at < 0) {
			struct nvb_toml_value *sub =
			    nvb_toml_new_table(ps, t->depth + 1, kp->line, kp->col, TBL_DOTTED);
			if (!sub || nvb_toml_table_add(ps, t, strdup(kp->name), kp->line, kp->col, sub) < 0)
				return -1;
			t = sub;
			continue;
		}
		struct nvb_toml_value *v = t->items[at];
		if (v->type != NVB_TOML_TABLE)
			return nvb_toml_fail_at(ps, kp->line, kp->col, NULL,
				       "key %s is already defined as %s at %d:%d",
				       key_str(ps, key, i + 1), what_is(v), t->key_lines[at],
				       t->key_columns[at]);
		if (v->defined_inline)
			return nvb_toml_fail_at(ps, kp->line, kp->col,
				       "an inline table is complete once closed; add the key "
				       "inside its braces",
				       "cannot add keys to inline table %s defined at %d:%d",
				       key_str(ps, key, i + 1), t->key_lines[at],
				       t->key_columns[at]);
		if (v->flags & TBL_EXPLICIT)
			return nvb_toml_fail_at(ps, kp->line, kp->col,
				       "add the key under that table's header instead",
				       "table %s was defined by a header at %d:%d; dotted keys "
				       "elsewhere cannot add to it",
				       key_str(ps, key, i + 1), v->line, v->column);
		if (!(v->flags & TBL_DOTTED)) {
			/* an implicit super-table: from now on no [header] may define it */
			v->flags |= TBL_DOTTED;
			v->line = kp->line;
			v->column = kp->col;
		}
		t = v;
	}
	const struct key_part *last = &key->parts[key->n - 1];
	long at = nvb_toml_table_find(t, last->name);
	if (at >= 0)
		return nvb_toml_fail_at(ps, last->line, last->col, "each key may be given only once",
			       "duplicate key %s (first defined at %d:%d)",
			       key_str(ps, key, key->n), t->key_lines[at], t->key_columns[at]);
	*parent = t;
	return 0;
}

/* key = value, into table t; the cursor is at the key. */
static int parse_keyval(struct parser *ps, struct nvb_toml_value *t)
{
	__attribute__((cleanup(key_path_free))) struct key_path key = {0};
	struct nvb_toml_value *parent = NULL, *val = NULL;

	if (parse_key(ps, &key) < 0)
		return -1;
	if (peek(ps) != '=')
		return key_end_error(ps, &key, "'='");
	adv(ps);
	skip_ws(ps);
	if (resolve_dotted(ps, t, &key, &parent) < 0)
		return -1;
	if (parse_value(ps, parent->depth + 1, &val) < 0)
		return -1;
	struct key_part *last = &key.parts[key.n - 1];
	return nvb_toml_table_add(ps, parent, NVB_TAKE_PTR(last->name), last->line, last->col, val);
}

static int parse_array(struct parser *ps, int depth, struct nvb_toml_value **out)
{
	int line = ps->line, col = ps->col;
	char buf[48];
	_cleanup_toml_ struct nvb_toml_value *arr = nvb_toml_new_value(ps, NVB_TOML_ARRAY, depth, line, col);

	if (!arr)
		return -1;
	arr->defined_inline = true;
	adv(ps);
	for (;;) {
		struct nvb_toml_value *item;
		if (skip_wcn(ps) < 0)
			return -1;
		if (peek(ps) == ']')
			break;
		if (parse_value(ps, depth + 1, &item) < 0 || nvb_toml_array_add(ps, arr, item) < 0)
			return -1;
		if (skip_wcn(ps) < 0)
			return -1;
		int c = peek(ps);
		if (c == ']')
			break;
		if (c != ',')
			return fail(ps,
				    c < 0 ? "close the array with ']'" : "separate values with ','",
				    "expected ',' or ']' in the array opened at %d:%d, found %s",
				    line, col, char_desc(ps, buf, sizeof(buf)));
		adv(ps);
	}
	adv(ps);
	*out = NVB_TAKE_PTR(arr);
	return 0;
}

static int inline_table_error(struct parser *ps, int line, int col, const char *expected)
{
	char buf[48];
	int c = peek(ps);

	if (c == '#' || c == '\r' || c == '\n')
		return fail(ps,
			    "TOML 1.0 inline tables have no newlines or comments; use a [table]",
			    "the inline table opened at %d:%d must end on its line", line, col);
	return fail(ps, c < 0 ? "close the inline table with '}'" : NULL,
		    "expected %s in the inline table opened at %d:%d, found %s", expected, line,
		    col, char_desc(ps, buf, sizeof(buf)));
}

static int parse_inline_table(struct parser *ps, int depth, struct nvb_toml_value **out)
{
	int line = ps->line, col = ps->col;
	_cleanup_toml_ struct nvb_toml_value *tbl = nvb_toml_new_table(ps, depth, line, col, TBL_EXPLICIT);

	if (!tbl)
		return -1;
	adv(ps);
	skip_ws(ps);
	if (peek(ps) != '}') {
		for (;;) {
			if (peek(ps) < 0 || peek(ps) == '#' || peek(ps) == '\r' || peek(ps) == '\n')
				return inline_table_error(ps, line, col, "a key");
			if (parse_keyval(ps, tbl) < 0)
				return -1;
			skip_ws(ps);
			if (peek(ps) == '}')
				break;
			if (peek(ps) != ',')
				return inline_table_error(ps, line, col, "',' or '}'");
			adv(ps);
			skip_ws(ps);
			if (peek(ps) == '}')
				return fail(ps, "remove the comma before '}'",
					    "an inline table cannot end with a comma");
		}
	}
	adv(ps);
	nvb_toml_seal(tbl);
	*out = NVB_TAKE_PTR(tbl);
	return 0;
}

static int parse_value(struct parser *ps, int depth, struct nvb_toml_value **out)
{
	switch (peek(ps)) {
	case '"':
	case '\'':
		return parse_string_value(ps, depth, out);
	case '[':
		return parse_array(ps, depth, out);
	case '{':
		return parse_inline_table(ps, depth, out);
	default:
		return parse_scalar(ps, depth, out);
	}
}

/* ---------------------------------------------------------------- headers */

/* A header's path up to its last part: implicit tables are created, arrays of tables
 * lead into their last element. */
static int header_walk(struct parser *ps, const struct key_path *key, int line, int col,
		       struct nvb_toml_value **parent)
{
	struct nvb_toml_value *t = ps->root;

	for (size_t i = 0; i + 1 < key->n; i++) {
		const struct key_part *kp = &key->parts[i];
		long at = nvb_toml_table_find(t, kp->name);
		if (at < 0) {
			struct nvb_toml_value *sub =
			    nvb_toml_new_table(ps, t->depth + 1, line, col, TBL_IMPLICIT);
			if (!sub || nvb_toml_table_add(ps, t, strdup(kp->name), kp->line, kp->col, sub) < 0)
				return -1;
			t = sub;
			continue;
		}
		struct nvb_toml_value *v = t->items[at];
		if (v->type == NVB_TOML_ARRAY && (v->flags & ARR_OF_TABLES))
			v = v->items[v->n - 1];
		else if (v->type == NVB_TOML_ARRAY)
			return nvb_toml_fail_at(
			    ps, kp->line, kp->col, "a static array is complete once closed",
			    "cannot add a table to static array %s defined at %d:%d",
			    key_str(ps, key, i + 1), t->key_lines[at], t->key_columns[at]);
		else if (v->type != NVB_TOML_TABLE)
			return nvb_toml_fail_at(ps, kp->line, kp->col, NULL,
				       "key %s is already defined as %s at %d:%d",
				       key_str(ps, key, i + 1), what_is(v), t->key_lines[at],
				       t->key_columns[at]);
		if (v->defined_inline)
			return nvb_toml_fail_at(
			    ps, kp->line, kp->col, "an inline table is complete once closed",
			    "cannot add to inline table %s defined at %d:%d",
			    key_str(ps, key, i + 1), t->key_lines[at], t->key_columns[at]);
		t = v;
	}
	*parent = t;
	return 0;
}

/* Why [key] cannot define the existing value v (stored at t's item at). */
static int redefine_error(struct parser *ps, const struct key_path *key,
			  const struct nvb_toml_value *t, long at, bool aot)
{
	const struct key_part *kp = &key->parts[key->n - 1];
	const struct nvb_toml_value *v = t->items[at];
	const char *name = key_str(ps, key, key->n);
	int kl = t->key_lines[at], kc = t->key_columns[at];

	if (v->type == NVB_TOML_ARRAY && aot)
		return nvb_toml_fail_at(ps, kp->line, kp->col, "a static array is complete once closed",
			       "cannot append a table to static array %s defined at %d:%d", name,
			       kl, kc);
	if (v->type == NVB_TOML_ARRAY && (v->flags & ARR_OF_TABLES))
		return nvb_toml_fail_at(ps, kp->line, kp->col, "write [[...]] to add an element",
			       "%s is an array of tables (first at %d:%d), not a table", name,
			       v->line, v->column);
	if (v->type != NVB_TOML_TABLE || v->defined_inline)
		return nvb_toml_fail_at(ps, kp->line, kp->col, NULL,
			       "key %s is already defined as %s at %d:%d", name, what_is(v), kl,
			       kc);
	if (aot)
		return nvb_toml_fail_at(ps, kp->line, kp->col, NULL,
			       "%s is already defined as a table at %d:%d, not an array of tables",
			       name, v->line, v->column);
	if (v->flags & TBL_DOTTED)
		return nvb_toml_fail_at(ps, kp->line, kp->col, "a table may be defined only once",
			       "table %s was already defined by dotted keys at %d:%d", name,
			       v->line, v->column);
	return nvb_toml_fail_at(ps, kp->line, kp->col, "a table may be defined only once",
		       "table [%s] is defined twice (first at %d:%d)", name, v->line, v->column);
}

/* [key] or [[key]] names its table: make it the current one. */
static int open_table(struct parser *ps, const struct key_path *key, bool aot, int line, int col)
{
	const struct key_part *kp = &key->parts[key->n - 1];
	struct nvb_toml_value *t = NULL, *v, *elem;

	if (header_walk(ps, key, line, col, &t) < 0)
		return -1;
	long at = nvb_toml_table_find(t, kp->name);
	if (!aot) {
		if (at < 0) {
			v = nvb_toml_new_table(ps, t->depth + 1, line, col, TBL_EXPLICIT);
			if (!v || nvb_toml_table_add(ps, t, strdup(kp->name), kp->line, kp->col, v) < 0)
				return -1;
			ps->cur = v;
			return 0;
		}
		v = t->items[at];
		if (v->type != NVB_TOML_TABLE || v->defined_inline ||
		    (v->flags & (TBL_EXPLICIT | TBL_DOTTED)))
			return redefine_error(ps, key, t, at, false);
		/* an implicit super-table gets defined now */
		v->flags |= TBL_EXPLICIT;
		v->line = line;
		v->column = col;
		ps->cur = v;
		return 0;
	}
	if (at < 0) {
		v = nvb_toml_new_value(ps, NVB_TOML_ARRAY, t->depth + 1, line, col);
		if (!v || nvb_toml_table_add(ps, t, strdup(kp->name), kp->line, kp->col, v) < 0)
			return -1;
		v->flags = ARR_OF_TABLES;
	} else {
		v = t->items[at];
		if (v->type != NVB_TOML_ARRAY || !(v->flags & ARR_OF_TABLES))
			return redefine_error(ps, key, t, at, true);
	}
	elem = nvb_toml_new_table(ps, v->depth + 1, line, col, TBL_EXPLICIT);
	if (!elem || nvb_toml_array_add(ps, v, elem) < 0)
		return -1;
	ps->cur = elem;
	return 0;
}

static int parse_header(struct parser *ps)
{
	__attribute__((cleanup(key_path_free))) struct key_path key = {0};
	int line = ps->line, col = ps->col;
	bool aot = peek_at(ps, 1) == '[';

	adv_n(ps, aot ? 2 : 1);
	skip_ws(ps);
	if (parse_key(ps, &key) < 0)
		return -1;
	if (peek(ps) != ']')
		return key_end_error(ps, &key, aot ? "']]'" : "']'");
	adv(ps);
	if (aot) {
		if (peek(ps) != ']')
			return fail(ps, "close the header with ']]', without spaces between",
				    "expected ']]' to close the array-of-tables header");
		adv(ps);
	}
	if (open_table(ps, &key, aot, line, col) < 0)
		return -1;
	return end_of_line(ps, "table header");
}

/* --------------------------------------------------------------- document */

static int parse_document(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		int c = peek(ps), r = 0;
		const char *after = NULL;
		if (c < 0)
			return 0;
		if (c == '[') {
			/* parse_header ends its own line */
			if (parse_header(ps) < 0)
				return -1;
			continue;
		}
		if (c != '#' && c != '\n' && c != '\r') {
			r = parse_keyval(ps, ps->cur);
			after = "value";
		}
		if (r < 0 || end_of_line(ps, after) < 0)
			return -1;
	}
}

struct nvb_toml_value *nvb_toml_parse(const char *data, size_t len, const char *origin,
				      struct nvb_error *err)
{
	struct parser ps = {.origin = origin ? origin : "<input>", .err = err, .line = 1, .col = 1};

	if (!data && len) {
		nvb_error_set(err, NVB_ERR_USAGE, EINVAL, NULL, "%s: no data", ps.origin);
		return NULL;
	}
	if (len > NVB_TOML_MAX_SIZE) {
		nvb_toml_fail_at(&ps, 1, 1, "nvbind configuration files are small; check the path",
			"the document is %zu bytes, over the limit of %u", len, NVB_TOML_MAX_SIZE);
		return NULL;
	}
	ps.p = data ? data : "";
	ps.end = ps.p + len;
	if (check_utf8(&ps) < 0)
		return NULL;
	if (len >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3; /* a byte order mark: not part of the document, not a column */

	ps.root = nvb_toml_new_table(&ps, 0, 1, 1, TBL_EXPLICIT);
	if (!ps.root)
		return NULL;
	ps.cur = ps.root;
	if (parse_document(&ps) < 0) {
		nvb_toml_free(ps.root);
		ps.root = NULL;
	}
	if (ps.c_locale)
		freelocale(ps.c_locale);
	return ps.root;
}

const struct nvb_toml_value *nvb_toml_get(const struct nvb_toml_value *table, const char *key)
{
	if (!table || table->type != NVB_TOML_TABLE || !key)
		return NULL;
	long at = nvb_toml_table_find(table, key);
	return at < 0 ? NULL : table->items[at];
}

const char *nvb_toml_type_name(enum nvb_toml_type t)
{
	switch (t) {
	case NVB_TOML_STRING:
		return "string";
	case NVB_TOML_INTEGER:
		return "integer";
	case NVB_TOML_FLOAT:
		return "float";
	case NVB_TOML_BOOL:
		return "boolean";
	case NVB_TOML_DATETIME:
		return "datetime";
	case NVB_TOML_ARRAY:
		return "array";
	case NVB_TOML_TABLE:
		return "table";
	}
	return "unknown";
}
