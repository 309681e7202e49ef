/* SPDX-License-Identifier: Apache-2.0 */
/* format/jscan.c: the values it finds, the texts it refuses (with line and column), and the
 * same verdict as jansson on thousands of mutated texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "format/jscan.h"

static const char *const root_path[] = {"root", "path"};

/* the kind at root.path, and its value in *out (static, "" when none) */
static int find(const char *text, const char **out, struct nvb_jscan_error *jerr)
{
	static char last[256];
	char *v = NULL;
	int kind = nvb_jscan(text, strlen(text), root_path, 2, &v, jerr);
	snprintf(last, sizeof(last), "%s", v ? v : "");
	free(v);
	*out = last;
	return kind;
}

static void test_values(void **state)
{
	(void)state;
	struct nvb_jscan_error jerr;
	const char *v;
	assert_int_equal(find("{\"root\": {\"path\": \"rootfs\", \"readonly\": true}}", &v, &jerr),
			 NVB_JSCAN_STRING);
	assert_string_equal(v, "rootfs");
	/* escapes, in the key too, and every kind of \u */
	assert_int_equal(find("{\"ro\\u006ft\":{\"path\":\"a\\/b\\\\c\\\"d\\n\\u00e9\\u20ac\\ud83d\\ude00\"}}",
			      &v, &jerr), NVB_JSCAN_STRING);
	assert_string_equal(v, "a/b\\c\"d\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* raw UTF-8 kept as it is */
	assert_int_equal(find("{\"root\":{\"path\":\"/\xe2\x82\xac\"}}", &v, &jerr), NVB_JSCAN_STRING);
	assert_string_equal(v, "/\xe2\x82\xac");
	/* what is not on the path does not count, nested or in arrays */
	assert_int_equal(find("{\"a\":{\"root\":{\"path\":\"x\"}},\"b\":[{\"root\":1}],\"root\":{\"p\":[1,2,{}],"
			      "\"path\":\"y\"}}", &v, &jerr), NVB_JSCAN_STRING);
	assert_string_equal(v, "y");
	/* other kinds, and absent */
	assert_int_equal(find("{\"root\":{\"path\":-12.5e+3}}", &v, &jerr), NVB_JSCAN_NUMBER);
	assert_string_equal(v, "-12.5e+3");
	assert_int_equal(find("{\"root\":{\"path\":null}}", &v, &jerr), NVB_JSCAN_NULL);
	assert_int_equal(find("{\"root\":{\"path\":[\"x\"]}}", &v, &jerr), NVB_JSCAN_ARRAY);
	assert_int_equal(find("{\"root\":{\"path\":{}}}", &v, &jerr), NVB_JSCAN_OBJECT);
	assert_int_equal(find("{\"root\":{\"path\":false}}", &v, &jerr), NVB_JSCAN_BOOL);
	assert_int_equal(find("{\"root\":{}}", &v, &jerr), NVB_JSCAN_ABSENT);
	assert_int_equal(find("{\"root\":\"rootfs\"}", &v, &jerr), NVB_JSCAN_ABSENT);
	assert_int_equal(find("[{\"root\":{\"path\":\"x\"}}]", &v, &jerr), NVB_JSCAN_ABSENT);
	assert_int_equal(find(" \"x\" ", &v, &jerr), NVB_JSCAN_ABSENT);
	/* a duplicate off the path is no concern of the reader's (runc keeps the last) */
	assert_int_equal(find("{\"a\":1,\"a\":2,\"root\":{\"path\":\"x\",\"b\":1,\"b\":1}}", &v, &jerr),
			 NVB_JSCAN_STRING);
	/* depth 0: the top value */
	char *top = NULL;
	assert_int_equal(nvb_jscan("\"t\"", 3, NULL, 0, &top, &jerr), NVB_JSCAN_STRING);
	assert_string_equal(top, "t");
	free(top);
	assert_int_equal(nvb_jscan("{}", 2, NULL, 0, NULL, &jerr), NVB_JSCAN_OBJECT);
}

static void refused(const char *text, size_t len, int line, int column, const char *what)
{
	struct nvb_jscan_error jerr;
	char *v = (char *)"unchanged";
	int kind = nvb_jscan(text, len, root_path, 2, &v, &jerr);
	if (kind != -1 || jerr.line != line || jerr.column != column || !strstr(jerr.text, what))
		fail_msg("%s: kind %d, %d:%d %s (expected %d:%d %s)", text, kind, jerr.line,
			 jerr.column, jerr.text, line, column, what);
	assert_null(v);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", 0, 1, 1, "unexpected end");
	refused("{\"root\":", 8, 1, 9, "unexpected end");
	refused("{\"root\" {}}", 11, 1, 9, "':' expected");
	refused("{\"root\":{},}", 12, 1, 12, "string or '}'");
	refused("[1,]", 4, 1, 4, "invalid token");
	refused("[1 2]", 5, 1, 4, "',' or ']'");
	refused("{\"a\":1}x", 8, 1, 8, "end of input expected");
	refused("{\n \"a\": tru\n}", 13, 2, 7, "invalid token");
	refused("[01]", 4, 1, 3, "',' or ']'");
	refused("[-]", 3, 1, 2, "invalid number");
	refused("[1.]", 4, 1, 2, "invalid number");
	refused("[1e]", 4, 1, 2, "invalid number");
	refused("[+1]", 4, 1, 2, "invalid token");
	refused("[\"a\tb\"]", 7, 1, 4, "control character 0x09");
	refused("[\"a\\x\"]", 7, 1, 4, "invalid escape");
	refused("[\"\\u12\"]", 8, 1, 3, "invalid \\u escape");
	refused("[\"\\udc00\"]", 10, 1, 3, "invalid Unicode");
	refused("[\"\\ud800x\"]", 11, 1, 3, "invalid Unicode");
	refused("[\"\xc3\x28\"]", 6, 1, 3, "invalid UTF-8");
	refused("[\"\xed\xa0\x80\"]", 7, 1, 3, "invalid UTF-8");    /* a surrogate in UTF-8 */
	refused("[\"\xc0\xaf\"]", 6, 1, 3, "invalid UTF-8");        /* overlong */
	refused("[\"\xf4\x90\x80\x80\"]", 8, 1, 3, "invalid UTF-8"); /* past U+10FFFF */
	refused("[\"abc", 5, 1, 2, "unterminated");
	refused("[\"a\0b\"]", 7, 1, 4, "control character 0x00");
	/* a key of the path twice: which one would runc take? refused */
	refused("{\"root\":{\"path\":\"a\"},\"root\":{\"path\":\"b\"}}", 40, 1, 22, "duplicate key \"root\"");
	refused("{\"root\":{\"path\":\"a\",\n\"path\":\"b\"}}", 32, 2, 1, "duplicate key \"path\"");
	/* a NUL in the string found: no C string holds it */
	refused("{\"root\":{\"path\":\"a\\u0000b\"}}", 28, 1, 17, "NUL");
}

static void test_nesting(void **state)
{
	(void)state;
	struct nvb_jscan_error jerr;
	size_t n = 2049;
	char *deep = malloc(2 * n + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	/* jansson's limit: 2048 levels read, 2049 refused */
	assert_int_equal(nvb_jscan(deep + 1, 2 * n - 2, NULL, 0, NULL, &jerr), NVB_JSCAN_ARRAY);
	assert_int_equal(nvb_jscan(deep, 2 * n, NULL, 0, NULL, &jerr), -1);
	assert_non_null(strstr(jerr.text, "levels of nesting"));
	free(deep);
}

/* jansson's verdict on text: 1 accepted, 0 refused, -1 no verdict to compare (a number out of
 * its range, or a \u0000 in a key: JSON allows both, jansson's tree cannot hold them) */
static int jansson_verdict(const char *text, size_t len)
{
	json_error_t e;
	json_t *t = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	json_decref(t);
	if (t)
		return 1;
	return strstr(e.text, "too big") || strstr(e.text, "overflow") ||
			       strstr(e.text, "NUL byte in object key")
		       ? -1
		       : 0;
}

static void test_same_as_jansson(void **state)
{
	(void)state;
	static const char base[] =
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\"],"
		"\"env\":[\"PATH=/bin\",\"A=\\u00e9\\ud83d\\ude00\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
		"\"hard\":1024,\"soft\":-1.5e3}],\"terminal\":false,\"user\":null},"
		"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"mounts\":[],\"annotations\":{}}";
	static const char alphabet[] = "{}[],:\"\\ \n0123456789-+.eEtrufalsn/u\xc3\xa9\x80\xff";
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	char text[sizeof(base) + 16];
	unsigned compared = 0, accepted = 0;
	for (int round = 0; round < 30000; round++) {
		memcpy(text, base, sizeof(base));
		size_t len = sizeof(base) - 1;
		int edits = 1 + (int)(rng % 3);
		for (int k = 0; k < edits; k++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t at = (size_t)(rng % len);
			char c = alphabet[(rng >> 20) % (sizeof(alphabet) - 1)];
			switch ((rng >> 40) % 3) {
			case 0: /* replace */
				text[at] = c;
				break;
			case 1: /* delete */
				memmove(text + at, text + at + 1, len - at);
				len--;
				break;
			default: /* insert */
				if (len + 1 < sizeof(text)) {
					memmove(text + at + 1, text + at, len - at + 1);
					text[at] = c;
					len++;
				}
			}
		}
		int want = jansson_verdict(text, len);
		if (want < 0)
			continue;
		struct nvb_jscan_error jerr;
		char *v = NULL;
		int kind = nvb_jscan(text, len, NULL, 0, &v, &jerr);
		free(v);
		if ((kind >= 0) != want)
			fail_msg("jansson %s, jscan %s (%s) on: %.*s", want ? "accepts" : "refuses",
				 kind >= 0 ? "accepts" : "refuses", jerr.text, (int)len, text);
		compared++;
		accepted += want;
	}
	/* both verdicts were exercised */
	assert_true(compared > 25000);
	assert_true(accepted > 1000 && accepted < compared - 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_same_as_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
