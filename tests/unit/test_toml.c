/* SPDX-License-Identifier: Apache-2.0 */
/* TOML reader: every example of the TOML 1.0 specification (valid ones parse to the right
 * values, the ones it marks INVALID fail at a line:column), the finer points of the grammar
 * and table rules, and hostile input (deep nesting, huge and malformed documents,
 * truncations and random mutations of a realistic configuration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <regex.h>
#include <stdbool.h>

#include "format/toml.h"

#define ORIGIN "t.toml"

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state;

/* xorshift64*: deterministic, so a failure reproduces from the case number */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n) { return (size_t)(rnd() % n); }

static struct nvb_toml_value *parse_len(const char *text, size_t len)
{
	struct nvb_error err;

	nvb_error_clear(&err);
	struct nvb_toml_value *v = nvb_toml_parse(text, len, ORIGIN, &err);
	if (!v)
		fail_msg("unexpected error: %s (hint: %s)", err.message, err.hint);
	return v;
}

static struct nvb_toml_value *parse(const char *text) { return parse_len(text, strlen(text)); }

/* Parsing must fail with NVB_ERR_PARSE at "t.toml:<pos>:" and a message holding sub. */
static void expect_fail_len(const char *text, size_t len, const char *pos, const char *sub)
{
	struct nvb_error err;
	char want[64];

	nvb_error_clear(&err);
	struct nvb_toml_value *v = nvb_toml_parse(text, len, ORIGIN, &err);
	if (v) {
		nvb_toml_free(v);
		fail_msg("parsed, but should fail at %s: %.200s", pos, text);
	}
	assert_int_equal(err.code, NVB_ERR_PARSE);
	/* no pos: the place is not worth spelling out, but there must be one */
	snprintf(want, sizeof(want), pos ? ORIGIN ":%s: " : ORIGIN ":%s", pos ? pos : "");
	if (strncmp(err.message, want, strlen(want)) != 0 || (sub && !strstr(err.message, sub)))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.message, want, sub ? sub : "");
}

static void expect_fail(const char *text, const char *pos, const char *sub)
{
	expect_fail_len(text, strlen(text), pos, sub);
}

/* The hint of the error text produces. */
static void expect_hint(const char *text, const char *sub)
{
	struct nvb_error err;

	nvb_error_clear(&err);
	struct nvb_toml_value *v = nvb_toml_parse(text, strlen(text), ORIGIN, &err);
	nvb_toml_free(v);
	assert_null(v);
	if (!strstr(err.hint, sub))
		fail_msg("hint \"%s\" lacks \"%s\"", err.hint, sub);
}

/* "a/b/0/c": table keys and array indexes, '/' apart (keys here may hold dots). */
static const struct nvb_toml_value *at(const struct nvb_toml_value *v, const char *path)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, "/", &save); tok && v; tok = strtok_r(NULL, "/", &save)) {
		if (v->type == NVB_TOML_ARRAY) {
			size_t i = strtoul(tok, NULL, 10);
			v = i < v->n ? v->items[i] : NULL;
		} else {
			v = nvb_toml_get(v, tok);
		}
	}
	return v;
}

static const char *describe(const struct nvb_toml_value *v)
{
	static char buf[256];

	if (!v)
		return "nothing";
	switch (v->type) {
	case NVB_TOML_STRING:
	case NVB_TOML_DATETIME:
		snprintf(buf, sizeof(buf), "%s \"%.200s\"", nvb_toml_type_name(v->type), v->v.s);
		break;
	case NVB_TOML_INTEGER:
		snprintf(buf, sizeof(buf), "integer %lld", (long long)v->v.i);
		break;
	case NVB_TOML_FLOAT:
		snprintf(buf, sizeof(buf), "float %.17g", v->v.f);
		break;
	case NVB_TOML_BOOL:
		snprintf(buf, sizeof(buf), "boolean %d", v->v.b);
		break;
	default:
		snprintf(buf, sizeof(buf), "%s of %zu", nvb_toml_type_name(v->type), v->n);
	}
	return buf;
}

static void want_str_len(const struct nvb_toml_value *root, const char *path, const char *s,
			 size_t len)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->type != NVB_TOML_STRING || v->len != len || memcmp(v->v.s, s, len) != 0 ||
	    v->v.s[len] != '\0')
		fail_msg("%s: want string \"%s\", have %s", path, s, describe(v));
}

static void want_str(const struct nvb_toml_value *root, const char *path, const char *s)
{
	want_str_len(root, path, s, strlen(s));
}

static void want_int(const struct nvb_toml_value *root, const char *path, int64_t i)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->type != NVB_TOML_INTEGER || v->v.i != i)
		fail_msg("%s: want integer %lld, have %s", path, (long long)i, describe(v));
}

static void want_float(const struct nvb_toml_value *root, const char *path, double f)
{
	const struct nvb_toml_value *v = at(root, path);
	bool same = v && v->type == NVB_TOML_FLOAT &&
		    (isnan(f) ? isnan(v->v.f) : v->v.f == f && signbit(v->v.f) == signbit(f));
	if (!same)
		fail_msg("%s: want float %.17g, have %s", path, f, describe(v));
}

static void want_bool(const struct nvb_toml_value *root, const char *path, bool b)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->type != NVB_TOML_BOOL || v->v.b != b)
		fail_msg("%s: want boolean %d, have %s", path, b, describe(v));
}

static void want_dt(const struct nvb_toml_value *root, const char *path, const char *text,
		    enum nvb_toml_datetime_kind kind)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->type != NVB_TOML_DATETIME || strcmp(v->v.s, text) != 0 ||
	    v->datetime_kind != kind || v->len != strlen(text))
		fail_msg("%s: want datetime %s (kind %d), have %s", path, text, kind, describe(v));
}

/* A table or array with n entries. */
static void want_n(const struct nvb_toml_value *root, const char *path, enum nvb_toml_type type,
		   size_t n)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->type != type || v->n != n)
		fail_msg("%s: want %s of %zu, have %s", path, nvb_toml_type_name(type), n,
			 describe(v));
}

static void want_pos(const struct nvb_toml_value *root, const char *path, int line, int col)
{
	const struct nvb_toml_value *v = at(root, path);
	if (!v || v->line != line || v->column != col)
		fail_msg("%s: want position %d:%d, have %d:%d", path, line, col, v ? v->line : 0,
			 v ? v->column : 0);
}

/* Keys of the table at path, in document order, joined by ','. */
static void want_keys(const struct nvb_toml_value *root, const char *path, const char *keys)
{
	const struct nvb_toml_value *v = *path ? at(root, path) : root;
	char buf[1024] = "";
	size_t pos = 0;

	assert_non_null(v);
	assert_int_equal(v->type, NVB_TOML_TABLE);
	for (size_t i = 0; i < v->n; i++)
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%s", i ? "," : "",
					v->keys[i]);
	if (strcmp(buf, keys) != 0)
		fail_msg("%s: want keys %s, have %s", path, keys, buf);
}

/* Structural invariants every parsed tree must keep; returns the number of nodes. */
static size_t check_tree(const struct nvb_toml_value *v, int depth)
{
	size_t count = 1;

	assert_true(v->line >= 1 && v->column >= 1);
	assert_int_equal(v->depth, depth);
	switch (v->type) {
	case NVB_TOML_STRING:
	case NVB_TOML_DATETIME:
		assert_non_null(v->v.s);
		assert_int_equal(v->v.s[v->len], '\0');
		break;
	case NVB_TOML_TABLE:
		for (size_t i = 0; i < v->n; i++) {
			assert_ptr_equal(nvb_toml_get(v, v->keys[i]), v->items[i]);
			assert_true(v->key_lines[i] >= 1 && v->key_columns[i] >= 1);
		}
		/* fall through */
	case NVB_TOML_ARRAY:
		assert_true(depth <= NVB_TOML_MAX_DEPTH);
		for (size_t i = 0; i < v->n; i++)
			count += check_tree(v->items[i], depth + 1);
		break;
	default:
		break;
	}
	return count;
}

/* Outcome of hostile input: a sound tree, or a parse error that names a place. */
static bool parse_or_fail_cleanly(const char *text, size_t len)
{
	static regex_t re;
	static bool compiled;
	struct nvb_error err;

	if (!compiled) {
		assert_int_equal(regcomp(&re, "^" ORIGIN ":([0-9]+):([0-9]+): .", REG_EXTENDED), 0);
		compiled = true;
	}
	nvb_error_clear(&err);
	struct nvb_toml_value *v = nvb_toml_parse(text, len, ORIGIN, &err);
	if (v) {
		assert_int_equal(v->type, NVB_TOML_TABLE);
		check_tree(v, 0);
		nvb_toml_free(v);
		return true;
	}
	assert_int_equal(err.code, NVB_ERR_PARSE);
	regmatch_t m[3];
	if (regexec(&re, err.message, 3, m, 0) != 0)
		fail_msg("badly formed message: %s", err.message);
	long line = strtol(err.message + m[1].rm_so, NULL, 10);
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (line < 1 || (size_t)line > lines)
		fail_msg("line %ld outside the %zu-line input: %s", line, lines, err.message);
	return false;
}

/* --------------------------------------------------------- spec: comments */

static void test_spec_comments(void **state)
{
	struct nvb_toml_value *t =
	    parse("# This is a full-line comment\n"
		  "key = \"value\"  # This is a comment at the end of a line\n"
		  "another = \"# This is not a comment\"\n");
	want_str(t, "key", "value");
	want_str(t, "another", "# This is not a comment");
	want_keys(t, "", "key,another");
	nvb_toml_free(t);
}

/* ------------------------------------------------- spec: key/value pairs */

static void test_spec_keyval(void **state)
{
	struct nvb_toml_value *t = parse("key = \"value\"");
	want_str(t, "key", "value");
	nvb_toml_free(t);

	expect_fail("key = # INVALID", "1:7", "expected a value");
	expect_fail("first = \"Tom\" last = \"Preston-Werner\" # INVALID", "1:15",
		    "expected the end of the line");
}

/* ------------------------------------------------------------ spec: keys */

static void test_spec_keys(void **state)
{
	struct nvb_toml_value *t = parse("key = \"value\"\n"
					 "bare_key = \"value\"\n"
					 "bare-key = \"value\"\n"
					 "1234 = \"value\"\n");
	want_keys(t, "", "key,bare_key,bare-key,1234");
	want_str(t, "1234", "value");
	nvb_toml_free(t);

	t = parse("\"127.0.0.1\" = \"value\"\n"
		  "\"character encoding\" = \"value\"\n"
		  "\"ʎǝʞ\" = \"value\"\n"
		  "'key2' = \"value\"\n"
		  "'quoted \"value\"' = \"value\"\n");
	want_keys(t, "", "127.0.0.1,character encoding,ʎǝʞ,key2,quoted \"value\"");
	nvb_toml_free(t);

	expect_fail("= \"no key name\"  # INVALID", "1:1", "expected a key");
	expect_fail("\"\"\"key\"\"\" = \"not allowed\" # INVALID", "1:1",
		    "multi-line string cannot be a key");

	/* at() cannot name the empty key: look it up directly */
	t = parse("\"\" = \"blank\"     # VALID but discouraged\n");
	assert_string_equal(nvb_toml_get(t, "")->v.s, "blank");
	nvb_toml_free(t);
	t = parse("'' = 'blank'     # VALID but discouraged\n");
	assert_string_equal(nvb_toml_get(t, "")->v.s, "blank");
	nvb_toml_free(t);

	t = parse("name = \"Orange\"\n"
		  "physical.color = \"orange\"\n"
		  "physical.shape = \"round\"\n"
		  "site.\"google.com\" = true\n");
	want_str(t, "physical/color", "orange");
	want_str(t, "physical/shape", "round");
	want_bool(t, "site/google.com", true);
	nvb_toml_free(t);

	t = parse("fruit.name = \"banana\"     # this is best practice\n"
		  "fruit. color = \"yellow\"    # same as fruit.color\n"
		  "fruit . flavor = \"banana\"   # same as fruit.flavor\n");
	want_keys(t, "fruit", "name,color,flavor");
	want_str(t, "fruit/flavor", "banana");
	nvb_toml_free(t);

	expect_fail("# DO NOT DO THIS\nname = \"Tom\"\nname = \"Pradyun\"\n", "3:1",
		    "duplicate key name");
	expect_fail("# THIS WILL NOT WORK\nspelling = \"favorite\"\n\"spelling\" = \"favourite\"\n",
		    "3:1", "duplicate key spelling");

	t = parse("# This makes the key \"fruit\" into a table.\n"
		  "fruit.apple.smooth = true\n\n"
		  "# So then you can add to the table \"fruit\" like so:\n"
		  "fruit.orange = 2\n");
	want_bool(t, "fruit/apple/smooth", true);
	want_int(t, "fruit/orange", 2);
	nvb_toml_free(t);

	expect_fail("# THE FOLLOWING IS INVALID\n\n"
		    "# This defines the value of fruit.apple to be an integer.\n"
		    "fruit.apple = 1\n\n"
		    "# But then this treats fruit.apple like it's a table.\n"
		    "# You can't turn an integer into a table.\n"
		    "fruit.apple.smooth = true\n",
		    "8:7", "fruit.apple is already defined as an integer");

	t = parse("# VALID BUT DISCOURAGED\n\n"
		  "apple.type = \"fruit\"\norange.type = \"fruit\"\n\n"
		  "apple.skin = \"thin\"\norange.skin = \"thick\"\n\n"
		  "apple.color = \"red\"\norange.color = \"orange\"\n");
	want_keys(t, "apple", "type,skin,color");
	want_str(t, "orange/color", "orange");
	nvb_toml_free(t);

	t = parse("# RECOMMENDED\n\n"
		  "apple.type = \"fruit\"\napple.skin = \"thin\"\napple.color = \"red\"\n\n"
		  "orange.type = \"fruit\"\norange.skin = \"thick\"\norange.color = \"orange\"\n");
	want_keys(t, "orange", "type,skin,color");
	nvb_toml_free(t);

	t = parse("3.14159 = \"pi\"\n");
	want_str(t, "3/14159", "pi");
	nvb_toml_free(t);
}

/* --------------------------------------------------------- spec: strings */

static void test_spec_basic_strings(void **state)
{
	struct nvb_toml_value *t = parse("str = \"I'm a string. \\\"You can quote me\\\". "
					 "Name\\tJos\\u00E9\\nLocation\\tSF.\"\n");
	want_str(t, "str", "I'm a string. \"You can quote me\". Name\tJos\xc3\xa9\nLocation\tSF.");
	nvb_toml_free(t);

	t = parse(
	    "str1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
	    "# On a Unix system, the above multi-line string will most likely be the same as:\n"
	    "str2 = \"Roses are red\\nViolets are blue\"\n\n"
	    "# On a Windows system, it will most likely be equivalent to:\n"
	    "str3 = \"Roses are red\\r\\nViolets are blue\"\n");
	want_str(t, "str1", "Roses are red\nViolets are blue");
	want_str(t, "str2", "Roses are red\nViolets are blue");
	want_str(t, "str3", "Roses are red\r\nViolets are blue");
	nvb_toml_free(t);

	t = parse("# The following strings are byte-for-byte equivalent:\n"
		  "str1 = \"The quick brown fox jumps over the lazy dog.\"\n\n"
		  "str2 = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy "
		  "dog.\"\"\"\n\n"
		  "str3 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\\n"
		  "       the lazy dog.\\\n       \"\"\"\n");
	want_str(t, "str1", "The quick brown fox jumps over the lazy dog.");
	want_str(t, "str2", "The quick brown fox jumps over the lazy dog.");
	want_str(t, "str3", "The quick brown fox jumps over the lazy dog.");
	nvb_toml_free(t);

	t = parse("str4 = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n"
		  "# str5 = \"\"\"Here are three quotation marks: \"\"\".\"\"\"  # INVALID\n"
		  "str5 = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"\n"
		  "str6 = \"\"\"Here are fifteen quotation marks: "
		  "\"\"\\\"\"\"\\\"\"\"\\\"\"\"\\\"\"\"\\\".\"\"\"\n\n"
		  "# \"This,\" she said, \"is just a pointless statement.\"\n"
		  "str7 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n");
	want_str(t, "str4", "Here are two quotation marks: \"\". Simple enough.");
	want_str(t, "str5", "Here are three quotation marks: \"\"\".");
	want_str(t, "str6", "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\".");
	want_str(t, "str7", "\"This,\" she said, \"is just a pointless statement.\"");
	nvb_toml_free(t);

	/* the closing """ comes early; the rest is text after the value */
	expect_fail("str5 = \"\"\"Here are three quotation marks: \"\"\".\"\"\"  # INVALID", "1:46",
		    "expected the end of the line after the value, found '.'");
}

static void test_spec_literal_strings(void **state)
{
	struct nvb_toml_value *t = parse("# What you see is what you get.\n"
					 "winpath  = 'C:\\Users\\nodejs\\templates'\n"
					 "winpath2 = '\\\\ServerX\\admin$\\system32\\'\n"
					 "quoted   = 'Tom \"Dubs\" Preston-Werner'\n"
					 "regex    = '<\\i\\c*\\s*>'\n");
	want_str(t, "winpath", "C:\\Users\\nodejs\\templates");
	want_str(t, "winpath2", "\\\\ServerX\\admin$\\system32\\");
	want_str(t, "quoted", "Tom \"Dubs\" Preston-Werner");
	want_str(t, "regex", "<\\i\\c*\\s*>");
	nvb_toml_free(t);

	t = parse("regex2 = '''I [dw]on't need \\d{2} apples'''\n"
		  "lines  = '''\nThe first newline is\ntrimmed in raw strings.\n"
		  "   All other whitespace\n   is preserved.\n'''\n");
	want_str(t, "regex2", "I [dw]on't need \\d{2} apples");
	want_str(t, "lines",
		 "The first newline is\ntrimmed in raw strings.\n"
		 "   All other whitespace\n   is preserved.\n");
	nvb_toml_free(t);

	t = parse(
	    "quot15 = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\n\n"
	    "# apos15 = '''Here are fifteen apostrophes: ''''''''''''''''''  # INVALID\n"
	    "apos15 = \"Here are fifteen apostrophes: '''''''''''''''\"\n\n"
	    "# 'That,' she said, 'is still pointless.'\n"
	    "str = ''''That,' she said, 'is still pointless.''''\n");
	want_str(t, "quot15", "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
	want_str(t, "apos15", "Here are fifteen apostrophes: '''''''''''''''");
	want_str(t, "str", "'That,' she said, 'is still pointless.'");
	nvb_toml_free(t);

	expect_fail("apos15 = '''Here are fifteen apostrophes: ''''''''''''''''''  # INVALID",
		    "1:43", "too many quotes");
}

/* -------------------------------------------------------- spec: numbers */

static void test_spec_integers(void **state)
{
	struct nvb_toml_value *t =
	    parse("int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\n"
		  "int5 = 1_000\nint6 = 5_349_221\n"
		  "int7 = 53_49_221  # Indian number system grouping\n"
		  "int8 = 1_2_3_4_5  # VALID but discouraged\n"
		  "# hexadecimal with prefix `0x`\n"
		  "hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef\n"
		  "# octal with prefix `0o`\n"
		  "oct1 = 0o01234567\noct2 = 0o755 # useful for Unix file permissions\n"
		  "# binary with prefix `0b`\n"
		  "bin1 = 0b11010110\n");
	want_int(t, "int1", 99);
	want_int(t, "int2", 42);
	want_int(t, "int3", 0);
	want_int(t, "int4", -17);
	want_int(t, "int5", 1000);
	want_int(t, "int6", 5349221);
	want_int(t, "int7", 5349221);
	want_int(t, "int8", 12345);
	want_int(t, "hex1", 0xdeadbeef);
	want_int(t, "hex2", 0xdeadbeef);
	want_int(t, "hex3", 0xdeadbeef);
	want_int(t, "oct1", 01234567);
	want_int(t, "oct2", 0755);
	want_int(t, "bin1", 214);
	nvb_toml_free(t);

	t = parse("max = 9223372036854775807\nmin = -9223372036854775808\n"
		  "hmax = 0x7fff_ffff_ffff_ffff\nz1 = +0\nz2 = -0\nb0 = 0b0\no0 = 0o0\n");
	want_int(t, "max", INT64_MAX);
	want_int(t, "min", INT64_MIN);
	want_int(t, "hmax", INT64_MAX);
	want_int(t, "z1", 0);
	want_int(t, "z2", 0);
	want_int(t, "b0", 0);
	want_int(t, "o0", 0);
	nvb_toml_free(t);
}

static void test_integers_invalid(void **state)
{
	expect_fail("a = 9223372036854775808", "1:5", "does not fit in 64 bits");
	expect_fail("a = -9223372036854775809", "1:5", "does not fit in 64 bits");
	expect_fail("a = 0x8000000000000000", "1:5", "does not fit in 64 bits");
	expect_fail("a = 0b1111111111111111111111111111111111111111111111111111111111111111", "1:5",
		    "does not fit");
	expect_fail("a = 99999999999999999999999999999", "1:5", "does not fit");
	expect_fail("a = 01", "1:5", "leading zeros");
	expect_fail("a = -01", "1:5", "leading zeros");
	expect_fail("a = 0_0", "1:5", "leading zeros");
	expect_fail("a = 1__000", "1:5", "underscore");
	expect_fail("a = 1_", "1:5", "underscore");
	expect_fail("a = _1", "1:5", "invalid value");
	expect_fail("a = 0x_1", "1:5", "underscore");
	expect_fail("a = 0x", "1:5", "digits are missing");
	expect_fail("a = +0x10", "1:5", "cannot have a sign");
	expect_fail("a = -0o10", "1:5", "cannot have a sign");
	expect_fail("a = 0X10", "1:5", "invalid decimal digit");
	expect_fail("a = 0o8", "1:5", "invalid octal digit");
	expect_fail("a = 0b2", "1:5", "invalid binary digit");
	expect_fail("a = 0xg", "1:5", "invalid hexadecimal digit");
	expect_fail("a = 1-2", "1:5", "invalid");
	expect_fail("a = ++1", "1:5", "invalid");
	expect_fail("a = -", "1:5", "invalid value");
	expect_fail("a = 12abc", "1:5", "invalid");
	expect_fail("a = 1 2", "1:7", "expected the end of the line");
}

static void test_spec_floats(void **state)
{
	struct nvb_toml_value *t =
	    parse("# fractional\nflt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\n\n"
		  "# exponent\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\n\n"
		  "# both\nflt7 = 6.626e-34\n"
		  "flt8 = 224_617.445_991_228\n"
		  "# infinity\nsf1 = inf  # positive infinity\n"
		  "sf2 = +inf # positive infinity\nsf3 = -inf # negative infinity\n\n"
		  "# not a number\nsf4 = nan  # actual sNaN/qNaN encoding is "
		  "implementation-specific\n"
		  "sf5 = +nan # same as `nan`\n"
		  "sf6 = -nan # valid, actual encoding is implementation-specific\n");
	want_float(t, "flt1", 1.0);
	want_float(t, "flt2", 3.1415);
	want_float(t, "flt3", -0.01);
	want_float(t, "flt4", 5e+22);
	want_float(t, "flt5", 1e06);
	want_float(t, "flt6", -2E-2);
	want_float(t, "flt7", 6.626e-34);
	want_float(t, "flt8", 224617.445991228);
	want_float(t, "sf1", INFINITY);
	want_float(t, "sf2", INFINITY);
	want_float(t, "sf3", -INFINITY);
	want_float(t, "sf4", NAN);
	want_float(t, "sf5", NAN);
	want_float(t, "sf6", NAN);
	nvb_toml_free(t);

	t = parse("z1 = 0.0\nz2 = -0.0\nz3 = +0.0\ne1 = 1e1_0\ne2 = 0e0\ntiny = 1e-400\n"
		  "big = 1.7976931348623157e308\nexp0 = 1.5E+007\n");
	want_float(t, "z1", 0.0);
	want_float(t, "z2", -0.0);
	want_float(t, "z3", 0.0);
	want_float(t, "e1", 1e10);
	want_float(t, "e2", 0.0);
	want_float(t, "tiny", 0.0);
	want_float(t, "big", 1.7976931348623157e308);
	want_float(t, "exp0", 1.5e7);
	nvb_toml_free(t);

	expect_fail("# INVALID FLOATS\ninvalid_float_1 = .7\n", "2:19", "digits are missing");
	expect_fail("invalid_float_2 = 7.\n", "1:19", "digits are missing after the '.'");
	expect_fail("invalid_float_3 = 3.e+20\n", "1:19", "digits are missing after the '.'");
}

static void test_floats_invalid(void **state)
{
	expect_fail("a = 1e400", "1:5", "out of range");
	expect_fail("a = -1e400", "1:5", "out of range");
	expect_fail("a = 03.14", "1:5", "leading zeros");
	expect_fail("a = 1.2.3", "1:5", "invalid decimal digit");
	expect_fail("a = 1e", "1:5", "exponent has no digits");
	expect_fail("a = 1e+", "1:5", "exponent has no digits");
	expect_fail("a = 1e_5", "1:5", "underscore");
	expect_fail("a = 1_.5", "1:5", "underscore");
	expect_fail("a = 1._5", "1:5", "underscore");
	expect_fail("a = 1.5_", "1:5", "underscore");
	expect_fail("a = 1e5e5", "1:5", "invalid");
	expect_fail("a = 0x1.5", "1:5", "invalid hexadecimal digit");
	expect_fail("a = +.5", "1:5", "digits are missing");
	expect_fail("a = Inf", "1:5", "invalid value 'Inf'");
	expect_fail("a = NaN", "1:5", "invalid value");
	expect_fail("a = inf_", "1:5", "invalid value");
	expect_fail("a = infinity", "1:5", "invalid value");
	expect_fail("a = ++inf", "1:5", "invalid");
	expect_hint("a = NAN", "lower case");
}

/* ------------------------------------------------------- spec: booleans */

static void test_spec_booleans(void **state)
{
	struct nvb_toml_value *t = parse("bool1 = true\nbool2 = false\n");
	want_bool(t, "bool1", true);
	want_bool(t, "bool2", false);
	nvb_toml_free(t);

	expect_fail("a = True", "1:5", "invalid value 'True'");
	expect_fail("a = FALSE", "1:5", "invalid value");
	expect_fail("a = tru", "1:5", "invalid value");
	expect_fail("a = truex", "1:5", "invalid value");
	expect_fail("a = true2", "1:5", "invalid value");
	expect_hint("a = TRUE", "lower case");
	expect_hint("a = yes", "quote strings");
}

/* ------------------------------------------------------ spec: date-times */

static void test_spec_datetimes(void **state)
{
	struct nvb_toml_value *t = parse("odt1 = 1979-05-27T07:32:00Z\n"
					 "odt2 = 1979-05-27T00:32:00-07:00\n"
					 "odt3 = 1979-05-27T00:32:00.999999-07:00\n"
					 "odt4 = 1979-05-27 07:32:00Z\n"
					 "ldt1 = 1979-05-27T07:32:00\n"
					 "ldt2 = 1979-05-27T00:32:00.999999\n"
					 "ld1 = 1979-05-27\n"
					 "lt1 = 07:32:00\n"
					 "lt2 = 00:32:00.999999\n");
	want_dt(t, "odt1", "1979-05-27T07:32:00Z", NVB_TOML_OFFSET_DATETIME);
	want_dt(t, "odt2", "1979-05-27T00:32:00-07:00", NVB_TOML_OFFSET_DATETIME);
	want_dt(t, "odt3", "1979-05-27T00:32:00.999999-07:00", NVB_TOML_OFFSET_DATETIME);
	want_dt(t, "odt4", "1979-05-27 07:32:00Z", NVB_TOML_OFFSET_DATETIME);
	want_dt(t, "ldt1", "1979-05-27T07:32:00", NVB_TOML_LOCAL_DATETIME);
	want_dt(t, "ldt2", "1979-05-27T00:32:00.999999", NVB_TOML_LOCAL_DATETIME);
	want_dt(t, "ld1", "1979-05-27", NVB_TOML_LOCAL_DATE);
	want_dt(t, "lt1", "07:32:00", NVB_TOML_LOCAL_TIME);
	want_dt(t, "lt2", "00:32:00.999999", NVB_TOML_LOCAL_TIME);
	nvb_toml_free(t);

	t = parse("leap = 2000-02-29\nleap2 = 2024-02-29T00:00:00z\nlower = 1979-05-27t07:32:00\n"
		  "sec60 = 23:59:60\nd = 1979-05-27 # a date, then a comment\n"
		  "arr = [1979-05-27 07:32:00+01:00, 1979-05-27]\n");
	want_dt(t, "leap", "2000-02-29", NVB_TOML_LOCAL_DATE);
	want_dt(t, "leap2", "2024-02-29T00:00:00z", NVB_TOML_OFFSET_DATETIME);
	want_dt(t, "lower", "1979-05-27t07:32:00", NVB_TOML_LOCAL_DATETIME);
	want_dt(t, "sec60", "23:59:60", NVB_TOML_LOCAL_TIME);
	want_dt(t, "d", "1979-05-27", NVB_TOML_LOCAL_DATE);
	want_dt(t, "arr/0", "1979-05-27 07:32:00+01:00", NVB_TOML_OFFSET_DATETIME);
	nvb_toml_free(t);
}

static void test_datetimes_invalid(void **state)
{
	expect_fail("a = 2021-02-29", "1:5", "day does not exist");
	expect_fail("a = 1900-02-29", "1:5", "day does not exist");
	expect_fail("a = 2021-04-31", "1:5", "day does not exist");
	expect_fail("a = 2021-00-01", "1:5", "month is out of range");
	expect_fail("a = 2021-13-01", "1:5", "month is out of range");
	expect_fail("a = 2021-01-00", "1:5", "day does not exist");
	expect_fail("a = 2021-1-01", "1:5", "YYYY-MM-DD");
	expect_fail("a = 1979-05-27T24:00:00", "1:5", "time is out of range");
	expect_fail("a = 1979-05-27T23:60:00", "1:5", "time is out of range");
	expect_fail("a = 1979-05-27T23:59:61", "1:5", "time is out of range");
	expect_fail("a = 1979-05-27T07:32", "1:5", "HH:MM:SS");
	expect_fail("a = 1979-05-27 07:32", "1:5", "HH:MM:SS");
	expect_fail("a = 07:32", "1:5", "HH:MM:SS");
	expect_fail("a = 7:32:00", "1:5", "invalid");
	expect_fail("a = 07:32:00.", "1:5", "fraction");
	expect_fail("a = 07:32:00Z", "1:5", "after the time");
	expect_fail("a = 1979-05-27T", "1:5", "HH:MM:SS");
	expect_fail("a = 1979-05-27X07:32:00", "1:5", "'T'");
	expect_fail("a = 1979-05-27T07:32:00+7:00", "1:5", "offset");
	expect_fail("a = 1979-05-27T07:32:00+07:60", "1:5", "offset is out of range");
	expect_fail("a = 1979-05-27T07:32:00+24:00", "1:5", "offset is out of range");
	expect_fail("a = 1979-05-27T07:32:00ZZ", "1:5", "offset");
	expect_fail("a = 1979-05-27T07:32:00 Z", "1:25", "expected the end of the line");
	/* a space holds date and time together only when a time follows */
	expect_fail("a = 1979-05-27 7", "1:16", "expected the end of the line");
}

/* --------------------------------------------------------- spec: arrays */

static void test_spec_arrays(void **state)
{
	struct nvb_toml_value *t =
	    parse("integers = [ 1, 2, 3 ]\n"
		  "colors = [ \"red\", \"yellow\", \"green\" ]\n"
		  "nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\n"
		  "nested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\n"
		  "string_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]\n\n"
		  "# Mixed-type arrays are allowed\n"
		  "numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n"
		  "contributors = [\n"
		  "  \"Foo Bar <foo@example.com>\",\n"
		  "  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = "
		  "\"https://example.com/bazqux\" }\n"
		  "]\n");
	want_n(t, "integers", NVB_TOML_ARRAY, 3);
	want_int(t, "integers/2", 3);
	want_str(t, "colors/1", "yellow");
	want_int(t, "nested_arrays_of_ints/1/2", 5);
	want_str(t, "nested_mixed_array/1/0", "a");
	want_str(t, "string_array/2", "are the same");
	want_str(t, "string_array/3", "type");
	want_float(t, "numbers/2", 0.5);
	want_int(t, "numbers/3", 1);
	want_str(t, "contributors/0", "Foo Bar <foo@example.com>");
	want_str(t, "contributors/1/url", "https://example.com/bazqux");
	assert_true(at(t, "contributors")->defined_inline);
	assert_true(at(t, "contributors/1")->defined_inline);
	nvb_toml_free(t);

	t = parse("integers2 = [\n  1, 2, 3\n]\n\nintegers3 = [\n  1,\n  2, # this is ok\n]\n"
		  "empty = []\nempty2 = [ # comment\n\n]\n");
	want_n(t, "integers2", NVB_TOML_ARRAY, 3);
	want_n(t, "integers3", NVB_TOML_ARRAY, 2);
	want_n(t, "empty", NVB_TOML_ARRAY, 0);
	want_n(t, "empty2", NVB_TOML_ARRAY, 0);
	nvb_toml_free(t);

	expect_fail("a = [,]", "1:6", "expected a value, found ','");
	expect_fail("a = [1,,2]", "1:8", "expected a value, found ','");
	expect_fail("a = [1 2]", "1:8", "expected ',' or ']'");
	expect_fail("a = [1, 2", "1:10", "found end of file");
	expect_fail("a = [1, 2\nb = 3", "2:1", "expected ',' or ']'");
	expect_fail("a = [1, 2}", "1:10", "found '}'");
	expect_fail("a = [\"x\" \"y\"]", "1:10", "expected ',' or ']'");
}

/* --------------------------------------------------------- spec: tables */

static void test_spec_tables(void **state)
{
	struct nvb_toml_value *t = parse("[table]\n");
	want_n(t, "table", NVB_TOML_TABLE, 0);
	nvb_toml_free(t);

	t = parse("[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n"
		  "[table-2]\nkey1 = \"another string\"\nkey2 = 456\n");
	want_str(t, "table-1/key1", "some string");
	want_int(t, "table-2/key2", 456);
	nvb_toml_free(t);

	t = parse("[dog.\"tater.man\"]\ntype.name = \"pug\"\n");
	want_str(t, "dog/tater.man/type/name", "pug");
	nvb_toml_free(t);

	t = parse("[a.b.c]            # this is best practice\n"
		  "[ d.e.f ]          # same as [d.e.f]\n"
		  "[ g .  h  . i ]    # same as [g.h.i]\n"
		  "[ j . \"ʞ\" . 'l' ]  # same as [j.\"ʞ\".'l']\n");
	want_n(t, "a/b/c", NVB_TOML_TABLE, 0);
	want_n(t, "d/e/f", NVB_TOML_TABLE, 0);
	want_n(t, "g/h/i", NVB_TOML_TABLE, 0);
	want_n(t, "j/ʞ/l", NVB_TOML_TABLE, 0);
	nvb_toml_free(t);

	t = parse("# [x] you\n# [x.y] don't\n# [x.y.z] need these\n[x.y.z.w] # for this to work\n\n"
		  "[x] # defining a super-table afterward is ok\n");
	want_n(t, "x/y/z/w", NVB_TOML_TABLE, 0);
	want_pos(t, "x", 6, 1);
	nvb_toml_free(t);

	expect_fail(
	    "# DO NOT DO THIS\n\n[fruit]\napple = \"red\"\n\n[fruit]\norange = \"orange\"\n", "6:2",
	    "table [fruit] is defined twice (first at 3:1)");
	expect_fail("# DO NOT DO THIS EITHER\n\n[fruit]\napple = \"red\"\n\n[fruit.apple]\n"
		    "texture = \"smooth\"\n",
		    "6:8", "fruit.apple is already defined as a string");

	t = parse("# VALID BUT DISCOURAGED\n[fruit.apple]\n[animal]\n[fruit.orange]\n");
	want_keys(t, "", "fruit,animal");
	want_keys(t, "fruit", "apple,orange");
	nvb_toml_free(t);
	t = parse("# RECOMMENDED\n[fruit.apple]\n[fruit.orange]\n[animal]\n");
	want_keys(t, "fruit", "apple,orange");
	nvb_toml_free(t);

	t = parse("# Top-level table begins.\nname = \"Fido\"\nbreed = \"pug\"\n\n"
		  "# Top-level table ends.\n[owner]\nname = \"Regina Dogman\"\n"
		  "member_since = 1999-08-04\n");
	want_str(t, "name", "Fido");
	want_str(t, "owner/name", "Regina Dogman");
	want_dt(t, "owner/member_since", "1999-08-04", NVB_TOML_LOCAL_DATE);
	nvb_toml_free(t);

	t = parse("fruit.apple.color = \"red\"\n# Defines a table named fruit\n"
		  "# Defines a table named fruit.apple\n\n"
		  "fruit.apple.taste.sweet = true\n# Defines a table named fruit.apple.taste\n"
		  "# fruit and fruit.apple were already created\n");
	want_str(t, "fruit/apple/color", "red");
	want_bool(t, "fruit/apple/taste/sweet", true);
	nvb_toml_free(t);

	const char *dotted = "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n\n";
	char buf[256];
	snprintf(buf, sizeof(buf), "%s[fruit.apple]  # INVALID\n", dotted);
	expect_fail(buf, "5:8", "fruit.apple was already defined by dotted keys at 2:1");
	snprintf(buf, sizeof(buf), "%s[fruit.apple.taste]  # INVALID\n", dotted);
	expect_fail(buf, "5:14", "fruit.apple.taste was already defined by dotted keys at 3:7");
	snprintf(buf, sizeof(buf),
		 "%s# [fruit.apple]  # INVALID\n# [fruit.apple.taste]  # INVALID\n\n"
		 "[fruit.apple.texture]  # you can add sub-tables\nsmooth = true\n",
		 dotted);
	t = parse(buf);
	want_str(t, "fruit/apple/color", "red");
	want_bool(t, "fruit/apple/texture/smooth", true);
	nvb_toml_free(t);
}

/* --------------------------------------------------- spec: inline tables */

static void test_spec_inline_tables(void **state)
{
	struct nvb_toml_value *t = parse("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
					 "point = { x = 1, y = 2 }\n"
					 "animal = { type.name = \"pug\" }\n");
	want_str(t, "name/first", "Tom");
	want_str(t, "name/last", "Preston-Werner");
	want_int(t, "point/y", 2);
	want_str(t, "animal/type/name", "pug");
	assert_true(at(t, "animal")->defined_inline);
	assert_true(at(t, "animal/type")->defined_inline);
	nvb_toml_free(t);

	expect_fail("[product]\ntype = { name = \"Nail\" }\ntype.edible = false  # INVALID\n",
		    "3:1", "cannot add keys to inline table type");
	expect_fail("[product]\ntype.name = \"Nail\"\ntype = { edible = false }  # INVALID\n",
		    "3:1", "duplicate key type");
}

static void test_inline_table_syntax(void **state)
{
	struct nvb_toml_value *t =
	    parse("e = {}\ne2 = {   }\nn = { a = { b = { c = [1, {d = 2}] } } }\n"
		  "m = { arr = [\n 1,\n 2 ], s = \"\"\"x\ny\"\"\" }\n");
	want_n(t, "e", NVB_TOML_TABLE, 0);
	want_n(t, "e2", NVB_TOML_TABLE, 0);
	want_int(t, "n/a/b/c/1/d", 2);
	want_int(t, "m/arr/1", 2);
	want_str(t, "m/s", "x\ny");
	nvb_toml_free(t);

	expect_fail("a = { b = 1, }", "1:14", "cannot end with a comma");
	expect_fail("a = { b = 1,\n c = 2 }", "1:13", "must end on its line");
	expect_fail("a = {\n b = 1 }", "1:6", "must end on its line");
	expect_fail("a = { b = 1 # c\n}", "1:13", "must end on its line");
	expect_fail("a = { b = 1", "1:12", "found end of file");
	expect_fail("a = { b = 1 c = 2 }", "1:13", "expected ',' or '}'");
	expect_fail("a = { , }", "1:7", "expected a key");
	expect_fail("a = { b = 1, b = 2 }", "1:14", "duplicate key b");
	expect_fail("a = { b = { c = 1 }, b.d = 2 }", "1:22", "cannot add keys to inline table b");
	expect_fail("a = { b.c = 1, b = 2 }", "1:16", "duplicate key b");
	expect_fail("a = { b = 1 }\na.c = 2", "2:1", "cannot add keys to inline table a");
	expect_fail("a = { b = 1 }\n[a]", "2:2", "already defined as an inline table");
	expect_fail("a = { b = 1 }\n[a.c]", "2:2", "cannot add to inline table a");
	expect_fail("a = { b.c = 1 }\n[a.b.d]", "2:2", "cannot add to inline table a");
	expect_fail("a = { b = 1 }\n[[a]]", "2:3", "already defined as an inline table");
	expect_fail("a = { b = 1 }}", "1:14", "expected the end of the line");
	expect_fail("a = { b = }", "1:11", "expected a value");
}

/* ----------------------------------------------- spec: arrays of tables */

static void test_spec_arrays_of_tables(void **state)
{
	struct nvb_toml_value *t =
	    parse("[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n"
		  "[[products]]  # empty table within the array\n\n"
		  "[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"\n");
	want_n(t, "products", NVB_TOML_ARRAY, 3);
	want_str(t, "products/0/name", "Hammer");
	want_int(t, "products/0/sku", 738594937);
	want_n(t, "products/1", NVB_TOML_TABLE, 0);
	want_str(t, "products/2/color", "gray");
	assert_false(at(t, "products")->defined_inline);
	want_pos(t, "products/2", 7, 1);
	nvb_toml_free(t);

	t = parse("[[fruits]]\nname = \"apple\"\n\n"
		  "[fruits.physical]  # subtable\ncolor = \"red\"\nshape = \"round\"\n\n"
		  "[[fruits.varieties]]  # nested array of tables\nname = \"red delicious\"\n\n"
		  "[[fruits.varieties]]\nname = \"granny smith\"\n\n\n"
		  "[[fruits]]\nname = \"banana\"\n\n"
		  "[[fruits.varieties]]\nname = \"plantain\"\n");
	want_n(t, "fruits", NVB_TOML_ARRAY, 2);
	want_str(t, "fruits/0/physical/shape", "round");
	want_str(t, "fruits/0/varieties/1/name", "granny smith");
	want_str(t, "fruits/1/name", "banana");
	want_n(t, "fruits/1/varieties", NVB_TOML_ARRAY, 1);
	want_str(t, "fruits/1/varieties/0/name", "plantain");
	nvb_toml_free(t);

	expect_fail("# INVALID TOML DOC\n[fruit.physical]  # subtable, but to which parent element "
		    "should it belong?\ncolor = \"red\"\nshape = \"round\"\n\n"
		    "[[fruit]]  # parser must throw an error upon discovering that \"fruit\" is\n"
		    "           # an array rather than a table\nname = \"apple\"\n",
		    "6:3", "fruit is already defined as a table at 2:1, not an array of tables");
	expect_fail("# INVALID TOML DOC\nfruits = []\n\n[[fruits]] # Not allowed\n", "4:3",
		    "cannot append a table to static array fruits defined at 2:1");

	const char *doc = "# INVALID TOML DOC\n[[fruits]]\nname = \"apple\"\n\n"
			  "[[fruits.varieties]]\nname = \"red delicious\"\n\n"
			  "# INVALID: This table conflicts with the previous array of tables\n"
			  "[fruits.varieties]\nname = \"granny smith\"\n\n"
			  "[fruits.physical]\ncolor = \"red\"\nshape = \"round\"\n\n"
			  "# INVALID: This array of tables conflicts with the previous table\n"
			  "[[fruits.physical]]\ncolor = \"green\"\n";
	expect_fail(doc, "9:9", "fruits.varieties is an array of tables (first at 5:1)");
	/* without the first conflict, the second one is found */
	const char *cut = strstr(doc, "\n[fruits.varieties]") + 1;
	const char *rest = strstr(doc, "\n[fruits.physical]") + 1;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(cut - doc), doc, rest);
	expect_fail(buf, "14:10", "fruits.physical is already defined as a table");

	t = parse("points = [ { x = 1, y = 2, z = 3 },\n"
		  "           { x = 7, y = 8, z = 9 },\n"
		  "           { x = 2, y = 4, z = 8 } ]\n");
	want_n(t, "points", NVB_TOML_ARRAY, 3);
	want_int(t, "points/1/y", 8);
	want_int(t, "points/2/z", 8);
	nvb_toml_free(t);
}

static void test_spec_full_example(void **state)
{
	struct nvb_toml_value *t =
	    parse("# This is a TOML document\n\ntitle = \"TOML Example\"\n\n"
		  "[owner]\nname = \"Tom Preston-Werner\"\n"
		  "dob = 1979-05-27T07:32:00-08:00\n\n"
		  "[database]\nenabled = true\nports = [ 8000, 8001, 8002 ]\n"
		  "data = [ [\"delta\", \"phi\"], [3.14] ]\n"
		  "temp_targets = { cpu = 79.5, case = 72.0 }\n\n"
		  "[servers]\n\n[servers.alpha]\nip = \"10.0.0.1\"\n"
		  "role = \"frontend\"\n\n[servers.beta]\nip = \"10.0.0.2\"\n"
		  "role = \"backend\"\n");
	want_keys(t, "", "title,owner,database,servers");
	want_dt(t, "owner/dob", "1979-05-27T07:32:00-08:00", NVB_TOML_OFFSET_DATETIME);
	want_bool(t, "database/enabled", true);
	want_int(t, "database/ports/2", 8002);
	want_str(t, "database/data/0/1", "phi");
	want_float(t, "database/data/1/0", 3.14);
	want_float(t, "database/temp_targets/case", 72.0);
	want_str(t, "servers/beta/role", "backend");
	want_pos(t, "servers/alpha", 17, 1);
	want_pos(t, "database/temp_targets", 13, 16);
	want_pos(t, "database/ports/1", 11, 17);
	assert_int_equal(check_tree(t, 0), 27);
	nvb_toml_free(t);
}

/* ----------------------------------------------------- finer grammar points */

static void test_keys_invalid(void **state)
{
	expect_fail("a$b = 1", "1:2", "'$' is not allowed in a bare key");
	expect_fail("a# = 1", "1:2", "'#' is not allowed in a bare key");
	expect_fail("[key#group]\nanswer = 42", "1:5", "'#' is not allowed in a bare key");
	expect_fail("[name=bad]", "1:6", "'=' is not allowed in a bare key");
	expect_fail("a = 1\n[a.b]", "2:2", "key a is already defined as an integer at 1:1");
	expect_fail("partial\"quoted\" = 5", "1:8", "'\"' is not allowed in a bare key");
	expect_fail("a #c\n= 1", "1:3", "expected '=' after the key, found '#'");
	expect_hint("a$b = 1", "quote the key");
	expect_hint("ключ = 1", "quote the key");
	expect_fail("ключ = 1", "1:1", "expected a key, found 'к'");
	expect_fail("a b = 1", "1:3", "expected '=' after the key, found 'b'");
	expect_fail("a = 1\nb\n= 2", "2:2", "expected '=' after the key, found end of line");
	expect_fail("a.= 1", "1:3", "expected a key, found '='");
	expect_fail(".a = 1", "1:1", "expected a key");
	expect_fail("a..b = 1", "1:3", "expected a key");
	expect_fail("a = 1 = 2", "1:7", "expected the end of the line");
	expect_fail("\"a\nb\" = 1", "1:1", "not closed");
	expect_fail("'a' 'b' = 1", "1:5", "expected '='");
	expect_fail("\"a\"b = 1", "1:4", "expected '='");
	expect_fail("\"\\u0000\" = 1", "1:1", "must not contain U+0000");
	expect_fail("a = 1\n[x]\na = 1\nb.c = 1\nb.c = 2", "5:3", "duplicate key b.c");
	expect_fail("\"a.b\" = 1\n'a.b' = 2", "2:1", "duplicate key \"a.b\"");
	expect_fail("a = 1\na.b = 2", "2:1", "a is already defined as an integer at 1:1");
	expect_fail("a = [1]\na.b = 2", "2:1", "a is already defined as an array");
	expect_fail("[a]\nb = 1\n[a.b]", "3:4", "a.b is already defined as an integer");
	expect_fail("[a]\nb = 1\n[a.b.c]", "3:4", "a.b is already defined as an integer");
	expect_fail("[]", "1:2", "expected a key, found ']'");
	expect_fail("[a", "1:3", "expected ']' after the key, found end of file");
	expect_fail("[a b]", "1:4", "expected ']'");
	expect_fail("[[a]", "1:5", "expected ']]'");
	expect_fail("[[a] ]", "1:5", "expected ']]'");
	expect_fail("[ [a] ]", "1:3", "expected a key, found '['");
	expect_fail("[a]]", "1:4", "expected the end of the line after the table header");
	expect_fail("[a] b = 1", "1:5", "expected the end of the line after the table header");
	expect_fail("[a.]", "1:4", "expected a key");
	expect_fail("[\"\"\"a\"\"\"]", "1:2", "multi-line string cannot be a key");

	/* keys are case sensitive and may be quoted in any form */
	struct nvb_toml_value *t = parse("a = 1\nA = 2\n\"b\" = 3\n'c' = 4\n\"\\u00e9\" = 5\n"
					 "\"a b\".'c d' = 6\n-_- = 7\n");
	want_int(t, "a", 1);
	want_int(t, "A", 2);
	want_int(t, "b", 3);
	want_int(t, "c", 4);
	want_int(t, "\xc3\xa9", 5);
	want_int(t, "a b/c d", 6);
	want_int(t, "-_-", 7);
	nvb_toml_free(t);
}

static void test_escapes(void **state)
{
	struct nvb_toml_value *t = parse("a = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
					 "u = \"\\u0041\\u00e9\\u20AC\\U0001F600\\U0010FFFF\"\n"
					 "nul = \"x\\u0000y\"\n"
					 "ml = \"\"\"\\t\\\"\\u0041\"\"\"\n");
	want_str(t, "a", "\b\t\n\f\r\"\\");
	want_str(t, "u", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	want_str_len(t, "nul", "x\0y", 3);
	want_str(t, "ml", "\t\"A");
	nvb_toml_free(t);

	expect_fail("a = \"\\q\"", "1:6", "invalid escape sequence: backslash followed by 'q'");
	expect_fail("a = \"\\x41\"", "1:6", "invalid escape");
	expect_fail("a = \"\\e\"", "1:6", "invalid escape");
	expect_fail("a = \"\\ \"", "1:6", "invalid escape");
	expect_fail("a = \"\\u12\"", "1:6", "needs 4 hexadecimal digits");
	expect_fail("a = \"\\u12G4\"", "1:6", "needs 4 hexadecimal digits");
	expect_fail("a = \"\\U0001F60\"", "1:6", "needs 8 hexadecimal digits");
	expect_fail("a = \"\\uD800\"", "1:6", "\\uD800 is not a Unicode scalar value");
	expect_fail("a = \"\\uDFFF\"", "1:6", "not a Unicode scalar value");
	expect_fail("a = \"\\U0000D800\"", "1:6", "not a Unicode scalar value");
	expect_fail("a = \"\\U00110000\"", "1:6", "\\U00110000 is not a Unicode scalar value");
	expect_fail("a = \"\\UFFFFFFFF\"", "1:6", "not a Unicode scalar value");
	expect_fail("a = \"\"\"\n\\q\"\"\"", "2:1", "invalid escape");
	expect_fail("a = \"\"\"x\\  y\"\"\"", "1:9", "invalid escape");
	expect_hint("a = \"C:\\temp\\x\"", "literal string");
}

static void test_multiline_strings(void **state)
{
	struct nvb_toml_value *t =
	    parse("a = \"\"\"\"\"\"\n"		       /* empty */
		  "b = \"\"\"\n\"\"\"\n"	       /* only the trimmed newline */
		  "c = \"\"\"\n\nx\"\"\"\n"	       /* only the first newline is trimmed */
		  "d = \"\"\"x\\   \n   \n  y\"\"\"\n" /* backslash, trailing spaces, blank line */
		  "e = \"\"\"\"\"\"\"\"\n"	       /* two quotes inside the delimiters */
		  "f = '''''''\n"		       /* one apostrophe */
		  "g = '''\n'''\n"
		  "h = '''a\\b\\\nc'''\n"
		  "i = \"\"\"tab\there\"\"\"\n");
	want_str(t, "a", "");
	want_str(t, "b", "");
	want_str(t, "c", "\nx");
	want_str(t, "d", "xy");
	want_str(t, "e", "\"\"");
	want_str(t, "f", "'");
	want_str(t, "g", "");
	want_str(t, "h", "a\\b\\\nc");
	want_str(t, "i", "tab\there");
	nvb_toml_free(t);

	expect_fail("a = \"\"\"\"\"\"\"\"\"", "1:8", "too many quotes");
	expect_fail("a = \"\"\"x\"\"\"\"\"\"", "1:9", "too many quotes");
	expect_fail("a = '''x''''''", "1:9", "too many quotes");
	expect_fail("a = \"\"\"x\"\"\"\"\"\"\"", "1:9", "too many quotes");
	expect_fail("a = \"\"\"abc", "1:5", "multi-line string is not closed with \"\"\"");
	expect_fail("a = '''abc\n\n", "1:5", "multi-line string is not closed with '''");
	expect_fail("a = \"\"\"abc\"\"", "1:5", "not closed");
	expect_fail("a = \"\"\"abc\\", "1:11", "invalid escape");
}

static void test_single_line_strings(void **state)
{
	struct nvb_toml_value *t = parse("a = \"\"\nb = ''\nc = \"tab\tin\"\nd = 'tab\tin'\n"
					 "e = \"# not a comment\" # a comment\nf=\"x\"#c\n");
	want_str(t, "a", "");
	want_str(t, "b", "");
	want_str(t, "c", "tab\tin");
	want_str(t, "d", "tab\tin");
	want_str(t, "e", "# not a comment");
	want_str(t, "f", "x");
	nvb_toml_free(t);

	expect_fail("a = \"abc\nb = 1", "1:5", "not closed with \" before the end of the line");
	expect_fail("a = 'abc\nb = 1", "1:5", "not closed with ' before the end of the line");
	expect_fail("a = \"abc", "1:5", "before the end of the file");
	expect_fail("a = 'abc", "1:5", "before the end of the file");
	expect_fail("a = \"abc\"def\"", "1:10", "expected the end of the line");
	expect_fail("a = 'it's'", "1:9", "expected the end of the line");
	expect_fail("a = \"a\" \"b\"", "1:9", "expected the end of the line");
}

/* ------------------------------------------------------------ table rules */

static void test_table_rules(void **state)
{
	/* implicit super-tables may be defined later, once, or extended by dotted keys */
	struct nvb_toml_value *t = parse("[a.b.c]\nz = 1\n[a]\nb.y = 2\nx = 3\n");
	want_int(t, "a/b/c/z", 1);
	want_int(t, "a/b/y", 2);
	want_int(t, "a/x", 3);
	nvb_toml_free(t);
	expect_fail("[a.b.c]\n[a]\nb.y = 2\n[a.b]", "4:4",
		    "a.b was already defined by dotted keys at 3:1");
	expect_fail("[a.b]\n[a]\n[a]", "3:2", "table [a] is defined twice (first at 2:1)");
	expect_fail("[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 8", "4:5",
		    "table b.c.d was defined by a header at 1:1");
	expect_fail("[a.b]\nx = 1\n[a]\nb.y = 2", "4:1", "defined by a header");
	/* dotted keys never reach into arrays of tables */
	expect_fail("[[a.b]]\n[a]\nb.y = 2", "3:1", "key b is already defined as an array at 1:5");
	/* root-level dotted tables: headers may add sub-tables, not define them */
	t = parse("a.x = 1\n[a.b]\ny = 2\n");
	want_int(t, "a/x", 1);
	want_int(t, "a/b/y", 2);
	nvb_toml_free(t);
	expect_fail("a.x = 1\n[a]", "2:2", "already defined by dotted keys at 1:1");
	/* array-of-tables elements are defined by their header */
	expect_fail("[[a]]\n[a]", "2:2", "a is an array of tables (first at 1:1), not a table");
	expect_fail("[[a]]\nb = 1\n[[a]]\nb = 1\nb = 2", "5:1", "duplicate key b");
	expect_fail("[a]\n[[a]]", "2:3", "not an array of tables");
	expect_fail("a = 1\n[[a]]", "2:3", "already defined as an integer");
	expect_fail("a = 1\n[a]", "2:2", "already defined as an integer");
	expect_fail("a = [1]\n[a.b]", "2:2", "cannot add a table to static array a");
	expect_fail("a = [{b = 1}]\n[[a]]", "2:3", "cannot append a table to static array a");
	expect_fail("a = [{b = 1}]\n[a.c]", "2:2", "static array");
	expect_fail("a = \"x\"\n[a.b]", "2:2", "already defined as a string");
	expect_fail("a = 1979-05-27\n[a.b]", "2:2", "already defined as a date-time");

	/* headers into arrays of tables go to the last element */
	t = parse("[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a.c]]\n[[a.c]]\n[[a]]\n[a.b]\n");
	want_n(t, "a", NVB_TOML_ARRAY, 3);
	want_n(t, "a/0", NVB_TOML_TABLE, 1);
	want_int(t, "a/1/b/y", 3);
	want_n(t, "a/1/c", NVB_TOML_ARRAY, 2);
	want_n(t, "a/2/b", NVB_TOML_TABLE, 0);
	nvb_toml_free(t);

	/* keys in document order, and their positions */
	t = parse("z = 1\ny.x = 2\n[b]\n  k = 3 # indented\n");
	want_keys(t, "", "z,y,b");
	assert_int_equal(t->key_lines[2], 3);
	assert_int_equal(t->key_columns[2], 2);
	const struct nvb_toml_value *b = at(t, "b");
	assert_int_equal(b->key_lines[0], 4);
	assert_int_equal(b->key_columns[0], 3);
	want_pos(t, "b/k", 4, 7);
	want_pos(t, "y", 2, 1);
	want_pos(t, "y/x", 2, 7);
	want_pos(t, "b", 3, 1);
	nvb_toml_free(t);
}

/* ---------------------------------------------------- line ends, control */

static void test_crlf(void **state)
{
	struct nvb_toml_value *t = parse("# c\r\na = 1\r\n[t]\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\n"
					 "c = '''\r\nl1\r\nl2'''\r\nd = [\r\n1,\r\n2]\r\n"
					 "e = \"\"\"w \\\r\n  z\"\"\"\r\n");
	want_int(t, "a", 1);
	want_str(t, "t/b", "x\ny");
	want_str(t, "t/c", "l1\nl2");
	want_int(t, "t/d/1", 2);
	want_str(t, "t/e", "w z");
	want_pos(t, "t/d", 10, 5);
	nvb_toml_free(t);

	expect_fail("a = 1\rb = 2", "1:6", "carriage return must be followed by a line feed");
	expect_fail("a = 1\r", "1:6", "carriage return");
	expect_fail("\r", "1:1", "carriage return");
	expect_fail("# x\ry\n", "1:4",
		    "carriage return without a line feed is not allowed in a comment");
	expect_fail("a = \"x\ry\"", "1:7",
		    "carriage return without a line feed is not allowed in a string");
	expect_fail("a = \"\"\"x\ry\"\"\"", "1:9", "not allowed in a string");
	expect_fail("a = '''x\ry'''", "1:9", "not allowed in a string");
	expect_fail("a = [1,\r2]", "1:8", "expected a value");
}

static void test_control_characters(void **state)
{
	expect_fail("a = \"x\x01y\"", "1:7", "control character U+0001 is not allowed in a string");
	expect_fail("a = 'x\x1fy'", "1:7", "U+001F is not allowed in a string");
	expect_fail("a = \"x\x7fy\"", "1:7", "U+007F");
	expect_fail("a = '''x\x08y'''", "1:9", "U+0008");
	expect_fail("a = \"\"\"x\x0cy\"\"\"", "1:9", "U+000C");
	expect_fail("# x\x7f\n", "1:4", "U+007F is not allowed in a comment");
	expect_fail("# x\x0b\n", "1:4", "U+000B is not allowed in a comment");
	expect_fail("a = 1\x0c", "1:6", "expected the end of the line");
	expect_fail("\x0b"
		    "a = 1",
		    "1:1", "expected a key, found control character U+000B");
	expect_hint("a = \"x\x01y\"", "escape");

	/* NUL bytes, anywhere */
	expect_fail_len("a = \"x\0y\"", 9, "1:7",
			"control character U+0000 is not allowed in a string");
	expect_fail_len("a = 'x\0y'", 9, "1:7", "U+0000");
	expect_fail_len("a = \"\"\"\0\"\"\"", 11, "1:8", "U+0000");
	expect_fail_len("# x\0\n", 5, "1:4", "U+0000 is not allowed in a comment");
	expect_fail_len("a\0 = 1", 6, "1:2",
			"control character U+0000 is not allowed in a bare key");
	expect_fail_len("\0", 1, "1:1", "expected a key");
	expect_fail_len("a = 1\0", 6, "1:6", "expected the end of the line");
	expect_fail_len("a = 1\n\0\n", 8, "2:1", "U+0000");
	expect_fail_len("a = \0", 5, "1:5", "expected a value, found control character U+0000");
	expect_fail_len("a = [1,\0]", 9, "1:8", "U+0000");
	expect_fail_len("[a\0]", 4, "1:3", "U+0000");

	/* tab is whitespace everywhere, and text in strings and comments */
	struct nvb_toml_value *t = parse("\ta\t=\t1\t#\tc\t\n[\tt\t]\n\tb = [\t1\t,\t2\t]\n");
	want_int(t, "a", 1);
	want_int(t, "t/b/1", 2);
	nvb_toml_free(t);
}

/* ------------------------------------------------------------------ UTF-8 */

static void test_utf8(void **state)
{
	expect_fail("a = \"\xff\"", "1:6", "invalid UTF-8 (byte 0xff)");
	expect_fail("a = 'x\xc3\x28'", "1:7", "invalid UTF-8 (byte 0xc3)");
	expect_fail("a = \"\"\"\n\xe2\x82\"\"\"", "2:1", "invalid UTF-8");
	expect_fail("# comment \xe9t\xe9\n", "1:11", "invalid UTF-8 (byte 0xe9)");
	expect_fail("k\xe9y = 1", "1:2", "invalid UTF-8");
	expect_fail("\"k\xe9y\" = 1", "1:3", "invalid UTF-8");
	expect_fail("a = \"\xc0\xaf\"", "1:6", "invalid UTF-8 (byte 0xc0)");	 /* overlong */
	expect_fail("a = \"\xe0\x80\xaf\"", "1:6", "invalid UTF-8");		 /* overlong */
	expect_fail("a = \"\xed\xa0\x80\"", "1:6", "invalid UTF-8 (byte 0xed)"); /* surrogate */
	expect_fail("a = \"\xf4\x90\x80\x80\"", "1:6",
		    "invalid UTF-8 (byte 0xf4)"); /* > U+10FFFF */
	expect_fail("a = \"\xf8\x88\x80\x80\x80\"", "1:6", "invalid UTF-8");
	expect_fail("a = \"\x80\"", "1:6", "invalid UTF-8 (byte 0x80)");
	expect_fail("a = 1 # \xe2\x82", "1:9", "invalid UTF-8"); /* cut at the end */
	expect_fail("\xff\xfe"
		    "a\0 = 1",
		    "1:1", "invalid UTF-8"); /* UTF-16 */
	expect_hint("a = \"\xff\"", "UTF-8");
	/* columns count characters: ʎǝʞ are two bytes each */
	expect_fail("\"ʎǝʞ\" = \"\xff\"", "1:10", "invalid UTF-8");
	expect_fail("\"ʎǝʞ\" = 1 x", "1:11", "found 'x'");
	expect_fail("a = \"€😀\" €", "1:10", "found '€'");

	/* a byte order mark starts the document; anywhere else it is a stray character */
	struct nvb_toml_value *t = parse("\xef\xbb\xbf"
					 "a = 1\n");
	want_int(t, "a", 1);
	want_pos(t, "a", 1, 5);
	assert_int_equal(t->key_columns[0], 1);
	nvb_toml_free(t);
	expect_fail("\xef\xbb\xbf"
		    "a = 1 x",
		    "1:7", "found 'x'");
	expect_fail("a = 1\n\xef\xbb\xbf"
		    "b = 2",
		    "2:1", "expected a key");

	/* every valid character is kept as written */
	t = parse(
	    "\"\xf0\x9f\x98\x80\" = \"\xe2\x82\xac \xf4\x8f\xbf\xbf \xef\xbf\xbf\" # \xc3\xa9\n");
	want_str(t, "\xf0\x9f\x98\x80", "\xe2\x82\xac \xf4\x8f\xbf\xbf \xef\xbf\xbf");
	nvb_toml_free(t);
}

/* -------------------------------------------------------------------- API */

static void test_api(void **state)
{
	struct nvb_error err;
	struct nvb_toml_value *t = parse("");
	assert_int_equal(t->type, NVB_TOML_TABLE);
	assert_int_equal(t->n, 0);
	assert_int_equal(t->line, 1);
	nvb_toml_free(t);
	t = parse("\n\n   \n# only comments\n\t\n");
	assert_int_equal(t->n, 0);
	nvb_toml_free(t);

	nvb_error_clear(&err);
	t = nvb_toml_parse(NULL, 0, NULL, &err);
	assert_non_null(t);
	nvb_toml_free(t);
	assert_null(nvb_toml_parse(NULL, 5, NULL, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);

	nvb_error_clear(&err);
	assert_null(nvb_toml_parse("a =", 3, NULL, &err));
	assert_true(strncmp(err.message, "<input>:1:4: ", 13) == 0);
	assert_null(nvb_toml_parse("a =", 3, ORIGIN, NULL)); /* no error to fill */

	/* len bounds the input: what follows is not read */
	t = parse_len("a = 1\nb = 2", 5);
	want_int(t, "a", 1);
	assert_null(nvb_toml_get(t, "b"));
	assert_null(nvb_toml_get(t, NULL));
	assert_null(nvb_toml_get(NULL, "a"));
	assert_null(nvb_toml_get(nvb_toml_get(t, "a"), "a"));
	nvb_toml_free(t);
	nvb_toml_free(NULL);

	assert_string_equal(nvb_toml_type_name(NVB_TOML_STRING), "string");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_INTEGER), "integer");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_FLOAT), "float");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_BOOL), "boolean");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_DATETIME), "datetime");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_ARRAY), "array");
	assert_string_equal(nvb_toml_type_name(NVB_TOML_TABLE), "table");

	/* a float must not follow the caller's locale */
	t = parse("pi = 3.25\n");
	want_float(t, "pi", 3.25);
	nvb_toml_free(t);

	/* long keys are shortened in messages, never cut inside a character */
	char key[512] = "", doc[1200];
	for (int i = 0; i < 200; i++)
		strcat(key, "\xc3\xa9");
	snprintf(doc, sizeof(doc), "\"%s\" = 1\n\"%s\" = 2\n", key, key);
	nvb_error_clear(&err);
	assert_null(nvb_toml_parse(doc, strlen(doc), ORIGIN, &err));
	assert_true(strncmp(err.message, ORIGIN ":2:1: duplicate key \"\xc3\xa9", 29) == 0);
	assert_non_null(strstr(err.message, "\xc3\xa9... (first defined at 1:1)"));
	for (const unsigned char *p = (const unsigned char *)err.message; *p; p++)
		if (*p == 0xc3)
			assert_true(p[1] == 0xa9);
}

/* ------------------------------------------------------------ hostile input */

static char *repeat(const char *prefix, const char *unit, size_t times, const char *suffix,
		    size_t *len)
{
	size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
	char *s = malloc(pl + ul * times + sl + 1);
	assert_non_null(s);
	memcpy(s, prefix, pl);
	for (size_t i = 0; i < times; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + ul * times, suffix, sl + 1);
	*len = pl + ul * times + sl;
	return s;
}

static void test_deep_nesting(void **state)
{
	size_t len;
	char *s;

	/* the array at depth 129 opens at column 5 + 128 */
	s = repeat("a = ", "[", 100000, "", &len);
	expect_fail_len(s, len, "1:133", "nest deeper than 128 levels");
	free(s);
	s = repeat("a = ", "{b=", 100000, "", &len);
	expect_fail_len(s, len, "1:389", "nest deeper than 128");
	free(s);
	s = repeat("a = [", "{b=[", 100000, "", &len);
	expect_fail_len(s, len, "1:261", "nest deeper");
	free(s);
	s = repeat("[", "a.", 200, "a]", &len);
	expect_fail_len(s, len, "1:258", "at most 128 parts");
	free(s);
	s = repeat("", "a.", 200, "a = 1", &len);
	expect_fail_len(s, len, "1:257", "at most 128 parts");
	free(s);
	/* headers and dotted keys add up: 100 + 29 tables is one too many */
	char *h = repeat("[", "a.", 99, "a]\n", &len);
	char *d = repeat(h, "b.", 29, "b = 1", &len);
	expect_fail_len(d, len, "2:57", "nest deeper than 128");
	free(d);
	d = repeat(h, "b.", 28, "b = 1", &len);
	struct nvb_toml_value *t = parse_len(d, len);
	check_tree(t, 0);
	nvb_toml_free(t);
	free(d);
	free(h);

	/* exactly at the limit */
	s = repeat("a = ", "[", 128, "", &len);
	char *full = repeat(s, "]", 128, "", &len);
	t = parse_len(full, len);
	const struct nvb_toml_value *v = nvb_toml_get(t, "a");
	for (int i = 1; i < 128; i++)
		v = v->items[0];
	assert_int_equal(v->depth, 128);
	assert_int_equal(v->n, 0);
	nvb_toml_free(t);
	free(full);
	free(s);
	s = repeat("a = ", "[", 127, "1", &len);
	full = repeat(s, "]", 127, "", &len);
	t = parse_len(full, len);
	nvb_toml_free(t);
	free(full);
	free(s);

	/* unclosed, but within the limit: fails at the end, not earlier */
	s = repeat("a = ", "[", 100, "", &len);
	expect_fail_len(s, len, "1:105", "expected a value, found end of file");
	free(s);
}

static void test_huge_input(void **state)
{
	size_t big = 3u << 20, len;
	char *x = malloc(big + 1);
	assert_non_null(x);
	memset(x, 'x', big);
	x[big] = '\0';

	static const char *const forms[][2] = {
	    {"s = \"", "\""}, {"s = '", "'"}, {"s = \"\"\"", "\"\"\""}, {"s = '''", "'''"}};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(forms); i++) {
		char *doc = repeat(forms[i][0], x, 1, forms[i][1], &len);
		struct nvb_toml_value *t = parse_len(doc, len);
		const struct nvb_toml_value *s = nvb_toml_get(t, "s");
		assert_int_equal(s->len, big);
		assert_int_equal(strlen(s->v.s), big);
		nvb_toml_free(t);
		/* the same, unterminated */
		expect_fail_len(doc, len - strlen(forms[i][1]), "1:5", "not closed");
		free(doc);
	}
	/* a huge key, and a huge bare token */
	char *doc = repeat("", x, 1, " = 1", &len);
	struct nvb_toml_value *t = parse_len(doc, len);
	assert_int_equal(strlen(t->keys[0]), big);
	nvb_toml_free(t);
	free(doc);
	memset(x, '1', big);
	doc = repeat("a = ", x, 1, "", &len);
	expect_fail_len(doc, len, "1:5", "does not fit in 64 bits");
	free(doc);
	memset(x, 'a', big);
	doc = repeat("a = ", x, 1, "", &len);
	expect_fail_len(doc, len, "1:5", "invalid value");
	free(doc);
	free(x);

	/* the size limit: exactly 4 MiB is read, one byte more is refused */
	size_t max = NVB_TOML_MAX_SIZE;
	char *c = malloc(max + 2);
	assert_non_null(c);
	memset(c, 'c', max + 1);
	c[0] = '#';
	c[max - 1] = '\n';
	c[max + 1] = '\0';
	t = parse_len(c, max);
	assert_int_equal(t->n, 0);
	nvb_toml_free(t);
	expect_fail_len(c, max + 1, "1:1", "over the limit of 4194304");
	free(c);
}

static void test_value_limit(void **state)
{
	size_t len;
	/* two bytes per value: the millionth-and-first fails; the root counts as one */
	char *s = repeat("a = [", "0,", 1100000, "]", &len);
	expect_fail_len(s, len, "1:2000002", "more than 1000000 values");
	free(s);
	s = repeat("a = [", "{},", 1000005, "]", &len);
	expect_fail_len(s, len, NULL, "more than 1000000 values");
	free(s);
}

static void test_many_keys(void **state)
{
	size_t n = 50000, cap = n * 24, pos = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(s + pos, cap - pos, "k%zu = %zu\n", i, i);
	struct nvb_toml_value *t = parse_len(s, pos);
	assert_int_equal(t->n, n);
	for (size_t i = 0; i < n; i += 7) {
		char key[32];
		snprintf(key, sizeof(key), "k%zu", i);
		want_int(t, key, (int64_t)i);
	}
	assert_null(nvb_toml_get(t, "k50000"));
	check_tree(t, 0);
	nvb_toml_free(t);
	/* a duplicate at the end is still found */
	pos += (size_t)snprintf(s + pos, cap - pos, "k31337 = 0\n");
	char where[32];
	snprintf(where, sizeof(where), "%zu:1", n + 1);
	expect_fail_len(s, pos, where, "duplicate key k31337 (first defined at 31338:1)");
	free(s);

	/* the same in an inline table and under dotted keys */
	pos = (size_t)snprintf(s = malloc(cap), cap, "t = {");
	for (size_t i = 0; i < 1000; i++)
		pos += (size_t)snprintf(s + pos, cap - pos, "%sd.k%zu = %zu", i ? ", " : "", i, i);
	pos += (size_t)snprintf(s + pos, cap - pos, "}\n");
	t = parse_len(s, pos);
	want_int(t, "t/d/k999", 999);
	want_n(t, "t/d", NVB_TOML_TABLE, 1000);
	assert_true(at(t, "t/d")->defined_inline);
	nvb_toml_free(t);
	free(s);
}

static void test_unterminated(void **state)
{
	static const struct {
		const char *text, *pos, *sub;
	} cases[] = {
	    {"a = \"abc", "1:5", "not closed"},
	    {"a = \"abc\\", "1:9", "invalid escape"},
	    {"a = \"\\u00", "1:6", "needs 4 hexadecimal digits"},
	    {"a = \"\"\"abc\n\n", "1:5", "not closed"},
	    {"a = \"\"\"abc\"", "1:5", "not closed"},
	    {"a = \"\"\"abc\\\n", "1:5", "not closed"},
	    {"a = 'abc", "1:5", "not closed"},
	    {"a = '''abc", "1:5", "not closed"},
	    {"a = '''abc''", "1:5", "not closed"},
	    {"a = [1, 2", "1:10", "found end of file"},
	    {"a = [1, 2,", "1:11", "expected a value"},
	    {"a = [", "1:6", "expected a value"},
	    {"a = [[1]", "1:9", "expected ',' or ']'"},
	    {"a = {b = 1", "1:11", "found end of file"},
	    {"a = {b = 1,", "1:12", "expected a key"},
	    {"a = {", "1:6", "expected a key"},
	    {"a = {b", "1:7", "expected '='"},
	    {"a = {b =", "1:9", "expected a value"},
	    {"a = ", "1:5", "expected a value, found end of file"},
	    {"a", "1:2", "expected '=' after the key, found end of file"},
	    {"a.", "1:3", "expected a key"},
	    {"\"a", "1:1", "not closed"},
	    {"[a", "1:3", "expected ']'"},
	    {"[a.", "1:4", "expected a key"},
	    {"[[a]", "1:5", "expected ']]'"},
	    {"[", "1:2", "expected a key"},
	    {"[[", "1:3", "expected a key"},
	    {"a = 1979-05-", "1:5", "YYYY-MM-DD"},
	    {"a = 1979-05-27T07:3", "1:5", "HH:MM:SS"},
	    {"a = tr", "1:5", "invalid value"},
	    {"a = 0x", "1:5", "digits are missing"},
	    {"a = 1.", "1:5", "digits are missing"},
	    {"a = 1e", "1:5", "exponent"},
	    {"a = +", "1:5", "invalid value"},
	    {"a = -", "1:5", "invalid value"},
	    {"a = 1979-05-27 0", "1:16", "expected the end of the line"},
	    {"a = 1979-05-27 07", "1:16", "expected the end of the line"},
	    {"a = 1979-05-27 07:", "1:5", "HH:MM:SS"},
	    {"a = 07:32:00.", "1:5", "fraction"},
	    {"a = 1979-05-27T07:32:00+", "1:5", "offset"},
	    {"a = \"\"\"x\"", "1:5", "not closed"},
	    {"a = \"\"\"x\"\"", "1:5", "not closed"},
	    {"a = '''x'", "1:5", "not closed"},
	    {"a = \"\"\"\\   ", "1:8", "invalid escape"},
	    {"a = \"\"\"\\   \r", "1:8", "invalid escape"},
	    {"a = \"\"\"\r", "1:8", "not allowed in a string"},
	    {"a = {b = 1}\r", "1:12", "carriage return"},
	    {"# \r", "1:3", "carriage return"},
	    {"\"\\", "1:2", "invalid escape"},
	    {"'", "1:1", "not closed"},
	    {"a = 1 = ", "1:7", "expected the end of the line"},
	};
	/* exact-size copies: ASan catches any look past the end of the input */
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].text);
		char *copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, cases[i].text, len);
		expect_fail_len(copy, len, cases[i].pos, cases[i].sub);
		free(copy);
	}
}

/* A realistic nvbind configuration: every prefix must parse or fail cleanly. */
static const char config[] =
    "# nvbind configuration \xe2\x80\x94 GPU-Ger\xc3\xa4te\n"
    "log-level = \"info\"\n"
    "root = \"/\"\n"
    "\n"
    "[runtime]\n"
    "default = \"runc\"\n"
    "hooks-dir = '/usr/libexec/nvbind/hooks'\n"
    "ldconfig = \"@/sbin/ldconfig\"\n"
    "env = { NVIDIA_DRIVER_CAPABILITIES = \"compute,utility\", CUDA_CACHE_DISABLE = \"1\" }\n"
    "\n"
    "[cdi]\n"
    "spec-dirs = [\n"
    "  \"/etc/cdi\",     # written by nvbind cdi generate\n"
    "  \"/var/run/cdi\",\n"
    "]\n"
    "vendor = \"nvidia.com\"\n"
    "refresh-interval = 30.5\n"
    "annotations.prefix = \"cdi.k8s.io/\"\n"
    "\n"
    "[profiles.gaming]\n"
    "devices = [\"nvidia.com/gpu=0\", \"nvidia.com/gpu=1\"]\n"
    "capabilities = [\"graphics\", \"display\", \"video\"]\n"
    "mig = false\n"
    "memory-limit = 8_589_934_592\n"
    "created = 2024-03-01T12:00:00Z\n"
    "\n"
    "[profiles.compute]\n"
    "devices = [\"nvidia.com/gpu=all\"]\n"
    "description = \"\"\"\n"
    "Batch jobs: all GPUs, \\\n"
    "no display \\u2014 \"headless\".\"\"\"\n"
    "umask = 0o022\n"
    "\n"
    "[[mounts]]\n"
    "source = \"/usr/share/vulkan/icd.d/nvidia_icd.json\"\n"
    "options = [\"ro\", \"nosuid\", \"nodev\", \"bind\"]\n"
    "\n"
    "[[mounts]]\n"
    "source = '''/usr/share/glvnd/egl_vendor.d/10_nvidia.json'''\n"
    "options = [ [\"ro\"], [\"bind\"], ]\n";

static void test_config(void **state)
{
	struct nvb_toml_value *t = parse(config);
	want_str(t, "runtime/env/CUDA_CACHE_DISABLE", "1");
	want_str(t, "cdi/spec-dirs/1", "/var/run/cdi");
	want_str(t, "cdi/annotations/prefix", "cdi.k8s.io/");
	want_float(t, "cdi/refresh-interval", 30.5);
	want_int(t, "profiles/gaming/memory-limit", 8589934592LL);
	want_bool(t, "profiles/gaming/mig", false);
	want_dt(t, "profiles/gaming/created", "2024-03-01T12:00:00Z", NVB_TOML_OFFSET_DATETIME);
	want_str(t, "profiles/compute/description",
		 "Batch jobs: all GPUs, no display \xe2\x80\x94 \"headless\".");
	want_int(t, "profiles/compute/umask", 022);
	want_n(t, "mounts", NVB_TOML_ARRAY, 2);
	want_str(t, "mounts/1/options/1/0", "bind");
	nvb_toml_free(t);
}

static void test_truncated_prefixes(void **state)
{
	size_t len = strlen(config), ok = 0;

	for (size_t n = 0; n <= len; n++) {
		/* a copy of exactly n bytes, so that ASan sees any read past the end */
		char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, config, n);
		ok += parse_or_fail_cleanly(copy, n);
		free(copy);
	}
	/* both outcomes happen: whole lines parse, cut values do not */
	assert_true(ok > 30 && ok < len);
}

static void test_random_mutations(void **state)
{
	static const char syntax[] =
	    "[]{}=.,\"'#\\\n\r\t _-+:0123456789eExobtfuUinaTZ\xc3\xe2\x80\x00";
	size_t base = strlen(config), ok = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 3000; round++) {
		char *buf = malloc(base * 2 + 64);
		size_t len = base;
		assert_non_null(buf);
		memcpy(buf, config, base);
		int edits = 1 + (int)rnd_below(4);
		for (int e = 0; e < edits; e++) {
			size_t at = rnd_below(len + 1);
			switch (rnd_below(5)) {
			case 0: /* any byte */
				if (at < len)
					buf[at] = (char)rnd_below(256);
				break;
			case 1: /* a byte that means something to TOML */
				if (at < len)
					buf[at] = syntax[rnd_below(sizeof(syntax) - 1)];
				break;
			case 2: /* delete */
				if (at < len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
				break;
			case 3: /* insert */
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = syntax[rnd_below(sizeof(syntax) - 1)];
				len++;
				break;
			default: { /* duplicate a slice, within the room left */
				size_t from = rnd_below(len), n = 1 + rnd_below(32);
				char slice[32];
				if (from + n > len)
					n = len - from;
				if (len + n > base * 2 + 60)
					break;
				memcpy(slice, buf + from, n);
				memmove(buf + at + n, buf + at, len - at);
				memcpy(buf + at, slice, n);
				len += n;
			}
			}
		}
		char *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		ok += parse_or_fail_cleanly(exact, len);
		free(exact);
		free(buf);
	}
	/* some mutations are harmless (in comments, strings), most are not */
	assert_true(ok > 50 && ok < 2950);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_comments),
	    cmocka_unit_test(test_spec_keyval),
	    cmocka_unit_test(test_spec_keys),
	    cmocka_unit_test(test_spec_basic_strings),
	    cmocka_unit_test(test_spec_literal_strings),
	    cmocka_unit_test(test_spec_integers),
	    cmocka_unit_test(test_integers_invalid),
	    cmocka_unit_test(test_spec_floats),
	    cmocka_unit_test(test_floats_invalid),
	    cmocka_unit_test(test_spec_booleans),
	    cmocka_unit_test(test_spec_datetimes),
	    cmocka_unit_test(test_datetimes_invalid),
	    cmocka_unit_test(test_spec_arrays),
	    cmocka_unit_test(test_spec_tables),
	    cmocka_unit_test(test_spec_inline_tables),
	    cmocka_unit_test(test_inline_table_syntax),
	    cmocka_unit_test(test_spec_arrays_of_tables),
	    cmocka_unit_test(test_spec_full_example),
	    cmocka_unit_test(test_keys_invalid),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_multiline_strings),
	    cmocka_unit_test(test_single_line_strings),
	    cmocka_unit_test(test_table_rules),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_huge_input),
	    cmocka_unit_test(test_value_limit),
	    cmocka_unit_test(test_many_keys),
	    cmocka_unit_test(test_unterminated),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_truncated_prefixes),
	    cmocka_unit_test(test_random_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
