/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML <-> jansson bridge.
 *
 * The parser drives libyaml's event API rather than its document loader: the loader
 * expands aliases and has no depth or size limits, and building the jansson tree from
 * events lets every limit be checked before any memory is spent on the offending node.
 * Every node is attached to its parent as soon as it exists, so on any error freeing
 * the root (plus the pending mapping keys) releases everything.
 */
#include "format/yaml.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ------------------------------------------------------------ scalar typing */

enum scalar_kind {
	KIND_STRING,
	KIND_NULL,
	KIND_TRUE,
	KIND_FALSE,
	KIND_INT,
	KIND_FLOAT,
	KIND_NONFINITE, /* .inf/.nan: JSON has no such numbers */
	KIND_INT_RANGE, /* integer syntax that does not fit in json_int_t */
};

struct resolved {
	enum scalar_kind kind;
	json_int_t i;
	double d;
};

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const nonfinite_words[] = {".nan",  ".NaN",	".NAN",	 ".inf",  ".Inf",
					      ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf",
					      "-.Inf", "-.INF", NULL};

/* Scalars may hold NUL bytes (from "\0" escapes), so compare with lengths. */
static bool word_in(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && memcmp(*words, s, n) == 0)
			return true;
	return false;
}

static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 99;
}

/* The base prefix rules of Go's strconv.ParseInt(s, 0, 64), which yaml.v3 uses: 0x, 0o
 * and 0b prefixes, and a leading 0 meaning octal (YAML 1.1 style, still honoured). */
static unsigned int_base(const char *s, size_t n, size_t *i)
{
	if (n - *i < 2 || s[*i] != '0')
		return 10;
	switch (s[*i + 1] | 0x20) {
	case 'x':
		*i += 2;
		return 16;
	case 'o':
		*i += 2;
		return 8;
	case 'b':
		*i += 2;
		return 2;
	default:
		*i += 1;
		return 8;
	}
}

static enum scalar_kind parse_int(const char *s, size_t n, json_int_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	unsigned base = int_base(s, n, &i);
	if (i == n)
		return KIND_STRING;
	uint64_t v = 0;
	bool over = false;
	for (; i < n; i++) {
		unsigned d = digit_value(s[i]);
		if (d >= base)
			return KIND_STRING;
		if (v > (UINT64_MAX - d) / base)
			over = true;
		else
			v = v * base + d;
	}
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (over || v > limit)
		return KIND_INT_RANGE;
	if (neg)
		*out = v == limit ? INT64_MIN : -(json_int_t)v;
	else
		*out = (json_int_t)v;
	return KIND_INT;
}

static size_t span_digits(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, yaml.v3's float syntax. */
static bool float_syntax(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	size_t whole = span_digits(s + i, n - i);
	i += whole;
	if (i < n && s[i] == '.') {
		i++;
		size_t frac = span_digits(s + i, n - i);
		i += frac;
		if (!whole && !frac)
			return false;
	} else if (!whole) {
		return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t exp = span_digits(s + i, n - i);
		if (!exp)
			return false;
		i += exp;
	}
	return i == n;
}

/* strtod in the "C" locale: the application may have set one with a decimal comma. */
static double c_strtod(const char *s)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return strtod(s, NULL);
	double d = strtod_l(s, NULL, c);
	freelocale(c);
	return d;
}

/* Go drops "_" digit separators before trying a number (never for a leading "."). */
static char *strip_underscores(const char *s, size_t n, bool strip, size_t *out_len)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (!strip || s[i] != '_')
			buf[j++] = s[i];
	buf[j] = '\0';
	*out_len = j;
	return buf;
}

static int resolve_number(const char *s, size_t n, struct resolved *r)
{
	size_t len;
	_cleanup_free_ char *num = strip_underscores(s, n, s[0] != '.', &len);
	if (!num)
		return -1;
	/* a NUL from a "\0" escape (tagged scalars) can never be part of a number */
	if (strlen(num) != len)
		return 0;
	if (s[0] != '.') {
		r->kind = parse_int(num, len, &r->i);
		if (r->kind != KIND_STRING)
			return 0;
	}
	if (!float_syntax(num, len))
		return 0;
	double d = c_strtod(num);
	/* Go's ParseFloat fails on overflow and the scalar then stays a string */
	if (isfinite(d)) {
		r->kind = KIND_FLOAT;
		r->d = d;
	}
	return 0;
}

/* Type a plain scalar the way yaml.v3 does. Returns -1 only when out of memory. */
static int resolve_plain(const char *s, size_t n, struct resolved *r)
{
	r->kind = KIND_STRING;
	if (word_in(s, n, null_words))
		r->kind = KIND_NULL;
	else if (word_in(s, n, true_words))
		r->kind = KIND_TRUE;
	else if (word_in(s, n, false_words))
		r->kind = KIND_FALSE;
	else if (word_in(s, n, nonfinite_words))
		r->kind = KIND_NONFINITE;
	else if (s[0] == '.' || s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
		return resolve_number(s, n, r);
	return 0;
}

/* ------------------------------------------------------------------ parser */

struct frame {
	json_t *node; /* borrowed: owned by its parent, or it is the root */
	char *key;    /* mapping key waiting for its value (owned), NULL when a key is due */
	size_t key_len;
};

struct yparse {
	const char *origin;
	const char *data;
	size_t len;
	struct nvb_error *err;
	yaml_parser_t parser;
	json_t *root;
	struct frame stack[NVB_YAML_MAX_DEPTH];
	unsigned depth;
	size_t nodes;
	unsigned documents;
};

/* Copy user text into an error message: control bytes would garble terminals and logs,
 * and a cut must not split a UTF-8 sequence (messages may end up in JSON logs). */
static void quote_text(char *out, size_t cap, const char *s, size_t n)
{
	size_t max = cap - 4, j = 0, i;
	for (i = 0; i < n && j < max; i++) {
		unsigned char c = (unsigned char)s[i];
		out[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < n) {
		while (j > 0 && ((unsigned char)out[j - 1] & 0xc0) == 0x80)
			j--;
		if (j > 0 && (unsigned char)out[j - 1] >= 0xc0)
			j--;
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

static int perr(struct yparse *p, yaml_mark_t mark, const char *hint, const char *fmt, ...)
    NVB_PRINTF(4, 5);

static int perr(struct yparse *p, yaml_mark_t mark, const char *hint, const char *fmt, ...)
{
	char msg[NVB_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return nvb_error_set(p->err, NVB_ERR_PARSE, 0, hint, "%s:%zu:%zu: %s", p->origin,
			     mark.line + 1, mark.column + 1, msg);
}

/* Reader errors (bad encoding) carry a byte offset, not a line and column. */
static yaml_mark_t mark_at_offset(const char *data, size_t len, size_t offset)
{
	yaml_mark_t m = {0};
	for (size_t i = 0; i < offset && i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

/* libyaml reports a tab in indentation as a character that cannot start a token. */
static bool line_has_leading_tab(const char *data, size_t len, size_t line)
{
	size_t i = 0;
	for (size_t l = 0; l < line && i < len; i++)
		if (data[i] == '\n')
			l++;
	for (; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t')
			return true;
	return false;
}

static const char *libyaml_hint(struct yparse *p, const yaml_parser_t *y)
{
	if (y->error == YAML_READER_ERROR)
		return "the file must be UTF-8 text (or UTF-16 with a byte order mark)";
	if (y->context && strstr(y->context, "quoted scalar"))
		return "a quoted string is not closed, or contains a bad escape";
	if (line_has_leading_tab(p->data, p->len, y->problem_mark.line))
		return "YAML indentation must use spaces, not tabs";
	return NULL;
}

static int parser_error(struct yparse *p)
{
	const yaml_parser_t *y = &p->parser;
	if (y->error == YAML_MEMORY_ERROR)
		return nvb_error_nomem(p->err);
	const char *problem = y->problem ? y->problem : "invalid YAML";
	const char *hint = libyaml_hint(p, y);
	if (y->error == YAML_READER_ERROR) {
		yaml_mark_t m = mark_at_offset(p->data, p->len, y->problem_offset);
		if (y->problem_value >= 0)
			return perr(p, m, hint, "%s (byte 0x%02x)", problem, y->problem_value);
		return perr(p, m, hint, "%s", problem);
	}
	if (y->context)
		return perr(p, y->problem_mark, hint, "%s (%s started at %zu:%zu)", problem,
			    y->context, y->context_mark.line + 1, y->context_mark.column + 1);
	return perr(p, y->problem_mark, hint, "%s", problem);
}

static struct frame *top(struct yparse *p) { return p->depth ? &p->stack[p->depth - 1] : NULL; }

static bool expecting_key(struct yparse *p)
{
	struct frame *f = top(p);
	return f && json_is_object(f->node) && !f->key;
}

static int count_node(struct yparse *p, yaml_mark_t mark)
{
	if (++p->nodes > NVB_YAML_MAX_NODES)
		return perr(p, mark, "CDI specs are small; check that this is the intended file",
			    "more than %u nodes", NVB_YAML_MAX_NODES);
	return 0;
}

/* Hand v (owned) to the open collection, or make it the root. Frees v on failure. */
static int attach(struct yparse *p, json_t *v)
{
	struct frame *f = top(p);
	int rc;

	if (!f) {
		p->root = v;
		return 0;
	}
	if (json_is_array(f->node)) {
		rc = json_array_append_new(f->node, v);
	} else {
		rc = json_object_setn_new(f->node, f->key, f->key_len, v);
		free(f->key);
		f->key = NULL;
	}
	return rc < 0 ? nvb_error_nomem(p->err) : 0;
}

static bool tag_is(const char *tag, const char *name)
{
	return tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
	       strcmp(tag + strlen(TAG_PREFIX), name) == 0;
}

static int unsupported_tag(struct yparse *p, yaml_mark_t mark, const char *tag)
{
	char q[80];
	/* show core tags the way they are usually written: !!binary */
	bool core = strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0;
	const char *name = core ? tag + strlen(TAG_PREFIX) : tag;
	quote_text(q, sizeof(q), name, strlen(name));
	return perr(p, mark, "CDI specs use plain JSON types; remove the tag",
		    "unsupported YAML tag \"%s%s\"", core ? "!!" : "", q);
}

static int take_key(struct yparse *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	struct frame *f = top(p);

	if (tag && strcmp(tag, "!") != 0 && !tag_is(tag, "str"))
		return perr(p, ev->start_mark, NULL, "mapping keys must be strings");
	/* jansson looks keys up as C strings in places (json_equal, json_object_get):
	 * a NUL would make "name\0x" shadow or hide "name" */
	if (memchr(s, '\0', n))
		return perr(p, ev->start_mark, NULL, "mapping key contains a NUL character");
	if (json_object_getn(f->node, s, n)) {
		char q[80];
		quote_text(q, sizeof(q), s, n);
		return perr(p, ev->start_mark, "each key may appear only once in a mapping",
			    "duplicate key \"%s\"", q);
	}
	f->key = malloc(n + 1);
	if (!f->key)
		return nvb_error_nomem(p->err);
	memcpy(f->key, s, n);
	f->key[n] = '\0';
	f->key_len = n;
	return 0;
}

/* Does the resolved kind satisfy an explicit core-schema tag? */
static bool kind_fits_tag(const char *tag, struct resolved *r)
{
	if (tag_is(tag, "null"))
		return r->kind == KIND_NULL;
	if (tag_is(tag, "bool"))
		return r->kind == KIND_TRUE || r->kind == KIND_FALSE;
	if (tag_is(tag, "int"))
		return r->kind == KIND_INT || r->kind == KIND_INT_RANGE;
	/* !!float: an integer literal is a valid float */
	if (r->kind == KIND_INT) {
		r->kind = KIND_FLOAT;
		r->d = (double)r->i;
	}
	return r->kind == KIND_FLOAT || r->kind == KIND_NONFINITE;
}

static json_t *string_or_nomem(struct yparse *p, const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	if (!v)
		nvb_error_nomem(p->err);
	return v;
}

/* Returns NULL with the error set. */
static json_t *resolved_to_json(struct yparse *p, const yaml_event_t *ev, struct resolved *r)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	json_t *v = NULL;
	char q[80];

	switch (r->kind) {
	case KIND_NULL:
		return json_null();
	case KIND_TRUE:
		return json_true();
	case KIND_FALSE:
		return json_false();
	case KIND_INT:
		v = json_integer(r->i);
		break;
	case KIND_FLOAT:
		v = json_real(r->d);
		break;
	case KIND_NONFINITE:
		quote_text(q, sizeof(q), s, n);
		perr(p, ev->start_mark, "quote the value to keep it as a string",
		     "%s: infinite and NaN numbers are not supported", q);
		return NULL;
	case KIND_INT_RANGE:
		quote_text(q, sizeof(q), s, n);
		perr(p, ev->start_mark, "quote the value to keep it as a string",
		     "integer %s is out of range", q);
		return NULL;
	case KIND_STRING:
		return string_or_nomem(p, s, n);
	}
	if (!v)
		nvb_error_nomem(p->err);
	return v;
}

/* Returns NULL with the error set. */
static json_t *scalar_to_json(struct yparse *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct resolved r;

	/* the non-specific tag "!" makes a scalar a string, like quoting it */
	if ((!tag && !plain) || (tag && strcmp(tag, "!") == 0) || tag_is(tag, "str"))
		return string_or_nomem(p, s, n);
	if (tag && !tag_is(tag, "null") && !tag_is(tag, "bool") && !tag_is(tag, "int") &&
	    !tag_is(tag, "float")) {
		unsupported_tag(p, ev->start_mark, tag);
		return NULL;
	}
	if (resolve_plain(s, n, &r) < 0) {
		nvb_error_nomem(p->err);
		return NULL;
	}
	if (tag && !kind_fits_tag(tag, &r)) {
		char q[80];
		quote_text(q, sizeof(q), s, n);
		perr(p, ev->start_mark, NULL, "\"%s\" is not a valid %s", q,
		     tag + strlen(TAG_PREFIX));
		return NULL;
	}
	return resolved_to_json(p, ev, &r);
}

static int on_scalar(struct yparse *p, const yaml_event_t *ev)
{
	if (count_node(p, ev->start_mark) < 0)
		return -1;
	if (expecting_key(p))
		return take_key(p, ev);
	/* libyaml gives a document with no content ("---" alone) an empty plain scalar */
	if (!p->depth && !ev->data.scalar.length && !ev->data.scalar.tag &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return perr(p, ev->start_mark, NULL, "empty document");

	json_t *v = scalar_to_json(p, ev);
	return v ? attach(p, v) : -1;
}

static int on_collection_start(struct yparse *p, const yaml_event_t *ev)
{
	bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
	const char *tag =
	    (const char *)(seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);

	if (count_node(p, ev->start_mark) < 0)
		return -1;
	if (expecting_key(p))
		return perr(p, ev->start_mark, "write the key as a plain or quoted string",
			    "mapping keys must be strings, not %s", seq ? "sequences" : "mappings");
	if (p->depth >= NVB_YAML_MAX_DEPTH)
		return perr(p, ev->start_mark, NULL, "nesting deeper than %d levels",
			    NVB_YAML_MAX_DEPTH);
	if (tag && strcmp(tag, "!") != 0 && !tag_is(tag, seq ? "seq" : "map"))
		return unsupported_tag(p, ev->start_mark, tag);

	json_t *node = seq ? json_array() : json_object();
	if (!node || attach(p, node) < 0)
		return nvb_error_nomem(p->err);
	p->stack[p->depth++] = (struct frame){.node = node};
	return 0;
}

static int on_event(struct yparse *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->documents++ > 0)
			return perr(p, ev->start_mark, "put each document in a file of its own",
				    "multiple YAML documents are not supported");
		return 0;
	case YAML_ALIAS_EVENT:
		/* refused outright: expanding them is how "billion laughs" inputs explode */
		return perr(p, ev->start_mark, "write the content out instead of using *aliases",
			    "YAML aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(p, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(p, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (p->depth)
			p->depth--;
		return 0;
	case YAML_STREAM_END_EVENT:
		return p->root ? 0 : perr(p, ev->start_mark, NULL, "empty document");
	default:
		return 0;
	}
}

static int run_parser(struct yparse *p)
{
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p->parser, &ev))
			return parser_error(p);
		int rc = on_event(p, &ev);
		bool end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc < 0 || end)
			return rc;
	}
}

json_t *nvb_yaml_parse(const char *data, size_t len, const char *origin, struct nvb_error *err)
{
	struct yparse p = {
	    .origin = origin ? origin : "<input>", .data = data, .len = len, .err = err};

	if (!data && len) {
		nvb_error_set(err, NVB_ERR_USAGE, EINVAL, NULL, "%s: no data", p.origin);
		return NULL;
	}
	/* checked before libyaml sees a byte: it would happily buffer gigabytes */
	if (len > NVB_YAML_MAX_SIZE) {
		nvb_error_set(err, NVB_ERR_PARSE, 0,
			      "CDI specs are small; check that this is the intended file",
			      "%s: YAML document too large (%zu bytes, limit %u)", p.origin, len,
			      NVB_YAML_MAX_SIZE);
		return NULL;
	}
	if (!yaml_parser_initialize(&p.parser)) {
		nvb_error_nomem(err);
		return NULL;
	}
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)(data ? data : ""), len);

	int rc = run_parser(&p);
	for (unsigned i = 0; i < p.depth; i++)
		free(p.stack[i].key);
	yaml_parser_delete(&p.parser);
	if (rc < 0) {
		json_decref(p.root);
		return NULL;
	}
	return p.root;
}

/* ----------------------------------------------------------------- emitter */

struct obuf {
	char *data;
	size_t len, cap;
};

struct yemit {
	yaml_emitter_t emitter;
	struct obuf out;
	struct nvb_error *err;
};

/* libyaml output handler: 1 on success, 0 makes the emitter fail with a writer error. */
static int write_out(void *data, unsigned char *buffer, size_t size)
{
	struct obuf *b = data;

	if (b->cap - b->len <= size) {
		if (size > SIZE_MAX / 4 - b->len)
			return 0;
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->len <= size)
			cap *= 2;
		char *n = realloc(b->data, cap);
		if (!n)
			return 0;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buffer, size);
	b->len += size;
	b->data[b->len] = '\0';
	return 1;
}

/* libyaml always takes ownership of the event, even when emitting fails. */
static int emit(struct yemit *e, yaml_event_t *ev)
{
	if (yaml_emitter_emit(&e->emitter, ev))
		return 0;
	if (e->emitter.error == YAML_MEMORY_ERROR || e->emitter.error == YAML_WRITER_ERROR)
		return nvb_error_nomem(e->err);
	return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL, "cannot write YAML: %s",
			     e->emitter.problem ? e->emitter.problem : "emitter error");
}

static bool is_yaml11_word(const char *s, size_t n)
{
	static const char *const words[] = {"y",    "yes",   "n",    "no", "on", "off",
					    "true", "false", "null", "=",  "<<", NULL};
	for (const char *const *w = words; *w; w++)
		if (strlen(*w) == n && strncasecmp(*w, s, n) == 0)
			return true;
	return false;
}

/*
 * Quote unless the string is plainly a string. Deliberately stricter than the YAML
 * grammar: anything starting like a number, a YAML 1.1 boolean (yes/no/on/off), an
 * indicator, or holding control/non-ASCII/flow characters is quoted, so older (YAML 1.1)
 * readers such as the one behind Go's sigs.k8s.io/yaml read the same value too.
 */
static bool needs_quotes(const char *s, size_t n)
{
	static const char first_bad[] = "0123456789+-.~ ?:,[]{}#&*!|>'\"%@`";
	struct resolved r;

	/* sizeof includes the terminating NUL, so a leading NUL byte is quoted too */
	if (n == 0 || memchr(first_bad, s[0], sizeof(first_bad)))
		return true;
	if (s[n - 1] == ' ' || s[n - 1] == ':')
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || strchr(",[]{}", c))
			return true;
		if ((c == ':' && i + 1 < n && s[i + 1] == ' ') ||
		    (c == '#' && i && s[i - 1] == ' '))
			return true;
	}
	if (is_yaml11_word(s, n))
		return true;
	return resolve_plain(s, n, &r) < 0 || r.kind != KIND_STRING;
}

static int emit_scalar(struct yemit *e, const char *s, size_t n, bool is_string)
{
	bool quote = is_string && needs_quotes(s, n);
	yaml_event_t ev;

	if (n > INT_MAX)
		return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL,
				     "cannot write YAML: string of %zu bytes", n);
	yaml_scalar_style_t style =
	    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE;
	/* plain_implicit false makes a quoted string read back as a string, not a number */
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, !quote,
					  is_string, style))
		return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL,
				     "cannot write YAML: string is not valid UTF-8");
	return emit(e, &ev);
}

/* Shortest "%g" text that reads back to the same double, and still reads as a float. */
static void format_real(double d, char *buf, size_t cap)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (c) {
		uselocale(old);
		freelocale(c);
	}
	if (!strpbrk(buf, ".eE"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

static int emit_value(struct yemit *e, const json_t *v, unsigned depth);

static int emit_object(struct yemit *e, const json_t *v, unsigned depth)
{
	const char *key;
	size_t key_len;
	json_t *child;
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	if (emit(e, &ev) < 0)
		return -1;
	json_object_keylen_foreach((json_t *)v, key, key_len, child) {
		if (memchr(key, '\0', key_len))
			return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL,
					     "cannot write YAML: key with a NUL character");
		if (emit_scalar(e, key, key_len, true) < 0 || emit_value(e, child, depth + 1) < 0)
			return -1;
	}
	yaml_mapping_end_event_initialize(&ev);
	return emit(e, &ev);
}

static int emit_array(struct yemit *e, const json_t *v, unsigned depth)
{
	size_t i;
	json_t *child;
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	if (emit(e, &ev) < 0)
		return -1;
	json_array_foreach(v, i, child) {
		if (emit_value(e, child, depth + 1) < 0)
			return -1;
	}
	yaml_sequence_end_event_initialize(&ev);
	return emit(e, &ev);
}

static int emit_value(struct yemit *e, const json_t *v, unsigned depth)
{
	char num[64];

	if ((json_is_object(v) || json_is_array(v)) && depth >= NVB_YAML_MAX_DEPTH)
		return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL,
				     "cannot write YAML: nested deeper than %d levels",
				     NVB_YAML_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return emit_object(e, v, depth);
	case JSON_ARRAY:
		return emit_array(e, v, depth);
	case JSON_STRING:
		return emit_scalar(e, json_string_value(v), json_string_length(v), true);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(e, num, strlen(num), false);
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		return emit_scalar(e, num, strlen(num), false);
	case JSON_TRUE:
		return emit_scalar(e, "true", 4, false);
	case JSON_FALSE:
		return emit_scalar(e, "false", 5, false);
	case JSON_NULL:
		return emit_scalar(e, "null", 4, false);
	}
	return nvb_error_set(e->err, NVB_ERR_INVALID, 0, NULL, "cannot write YAML: bad value");
}

static int emit_document(struct yemit *e, const json_t *value)
{
	yaml_event_t ev;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(e, &ev) < 0)
		return -1;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(e, &ev) < 0 || emit_value(e, value, 0) < 0)
		return -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(e, &ev) < 0)
		return -1;
	yaml_stream_end_event_initialize(&ev);
	return emit(e, &ev);
}

char *nvb_yaml_emit(const json_t *value, struct nvb_error *err)
{
	struct yemit e = {.err = err};

	if (!value) {
		nvb_error_set(err, NVB_ERR_USAGE, EINVAL, NULL, "no value to write as YAML");
		return NULL;
	}
	if (!yaml_emitter_initialize(&e.emitter)) {
		nvb_error_nomem(err);
		return NULL;
	}
	yaml_emitter_set_output(&e.emitter, write_out, &e.out);
	yaml_emitter_set_unicode(&e.emitter, 1);
	yaml_emitter_set_indent(&e.emitter, 2);
	/* no line folding: long strings stay on one line and cannot change on re-read */
	yaml_emitter_set_width(&e.emitter, -1);
	yaml_emitter_set_break(&e.emitter, YAML_LN_BREAK);

	int rc = emit_document(&e, value);
	yaml_emitter_delete(&e.emitter);
	if (rc < 0) {
		free(e.out.data);
		return NULL;
	}
	return e.out.data ? e.out.data : strdup("");
}
