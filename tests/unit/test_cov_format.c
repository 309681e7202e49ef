/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format/json.c's exact-number reader on the paths the suites did not run (tools/coverage.sh,
 * docs/testing.md "Coverage"): the limit on numbers beyond 64 bits and its error position,
 * malformed number runs next to a big number, and marker-looking strings that are not markers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "format/json.h"

/* Over 100000 numbers beyond 64 bits: refused as a numeric overflow whose position is the
 * first number past the limit (line and column counted from the newlines before it). */
static void test_too_many_big_numbers(void **state)
{
	(void)state;
	const char *big = "99999999999999999999";
	size_t n = 100001, blen = strlen(big);
	size_t cap = 16 + n * (blen + 2);
	char *doc = malloc(cap);
	assert_non_null(doc);
	size_t len = 0;
	doc[len++] = '[';
	doc[len++] = '\n';
	doc[len++] = '\n';
	size_t last = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			doc[len++] = ',';
		last = len;
		memcpy(doc + len, big, blen);
		len += blen;
	}
	doc[len++] = ']';
	doc[len] = '\0';

	json_error_t jerr;
	assert_null(nvb_json_loadb_exact(doc, len, 0, false, &jerr));
	assert_int_equal(json_error_code(&jerr), json_error_numeric_overflow);
	assert_string_equal(jerr.text, "too many numbers beyond 64 bits");
	assert_int_equal(jerr.position, (int)last);
	assert_int_equal(jerr.line, 3);
	assert_int_equal(jerr.column, (int)(last - 3) + 1);

	/* one fewer is read, every number kept exactly */
	doc[last - 1] = ']';
	json_t *root = nvb_json_loadb_exact(doc, last, 0, false, &jerr);
	assert_non_null(root);
	assert_int_equal(json_array_size(root), n - 1);
	char *text = nvb_json_dumps_exact(root, JSON_COMPACT);
	assert_non_null(text);
	assert_memory_equal(text, "[99999999999999999999,99999999999999999999,", 43);
	assert_null(strstr(text, "\""));
	free(text);
	json_decref(root);
	free(doc);
}

/* A big number makes the reader mark numbers; malformed runs beside it ("1e", "-", "1.") are
 * left for jansson, which reports them, not as an overflow. */
static void test_malformed_beside_big(void **state)
{
	(void)state;
	static const char *const docs[] = {
		"[123456789012345678901, 1e]",
		"[123456789012345678901, -]",
		"[123456789012345678901, 1.]",
		"[123456789012345678901, 1e+]",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t jerr;
		assert_null(nvb_json_loadb_exact(docs[i], strlen(docs[i]), 0, false, &jerr));
		assert_int_not_equal(json_error_code(&jerr), json_error_numeric_overflow);
		assert_int_equal(jerr.line, 1);
	}
	/* good neighbours: a big negative integer, a huge real, exponents with signs */
	const char *ok = "{\"a\": -9223372036854775809, \"b\": 1e999, \"c\": 2E-3, \"d\": 0.5e+2}";
	json_error_t jerr;
	json_t *root = nvb_json_loadb_exact(ok, strlen(ok), 0, false, &jerr);
	assert_non_null(root);
	assert_true(json_is_real(json_object_get(root, "c")));
	char *text = nvb_json_dumps_exact(root, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"a\":-9223372036854775809,"));
	assert_non_null(strstr(text, "\"b\":1e999,"));
	free(text);
	json_decref(root);
}

/* The largest int64 stays a jansson integer; keep_reals keeps a real's spelling; a string that
 * merely starts like a marker (no number after the prefix, or more after it) is not rewritten. */
static void test_limits_and_markers(void **state)
{
	(void)state;
	json_error_t jerr;
	const char *max = "[9223372036854775807, -9223372036854775808]";
	json_t *root = nvb_json_loadb_exact(max, strlen(max), 0, false, &jerr);
	assert_non_null(root);
	assert_true(json_is_integer(json_array_get(root, 0)));
	assert_true(json_is_integer(json_array_get(root, 1)));
	json_decref(root);

	const char *reals = "{\"r\": 1.10, \"s\": \"x\\\"1\", \"n\": -0}";
	root = nvb_json_loadb_exact(reals, strlen(reals), 0, true, &jerr);
	assert_non_null(root);
	char *text = nvb_json_dumps_exact(root, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"n\":0,\"r\":1.10,\"s\":\"x\\\"1\"}");
	free(text);

	/* a string that holds a marker and more is left as it is */
	char *marker_text = nvb_json_dumps_exact(json_object_get(root, "r"), JSON_ENCODE_ANY);
	assert_string_equal(marker_text, "1.10");
	free(marker_text);
	const char *inner = json_string_value(json_object_get(root, "r"));
	assert_non_null(inner);
	json_t *arr = json_pack("[s, s]", "plain", "x");
	char longer[128];
	snprintf(longer, sizeof(longer), "%s tail", inner);
	json_array_set_new(arr, 1, json_string(longer));
	json_array_append_new(arr, json_string(inner));
	text = nvb_json_dumps_exact(arr, JSON_COMPACT);
	assert_non_null(text);
	assert_non_null(strstr(text, " tail\","));
	assert_true(strlen(text) > 6 && strcmp(text + strlen(text) - 6, ",1.10]") == 0);
	free(text);
	json_decref(arr);
	json_decref(root);

	/* a plain document: no number marked, dumps unchanged */
	root = nvb_json_loadb_exact("[1, \"2\"]", 8, 0, false, &jerr);
	text = nvb_json_dumps_exact(root, JSON_COMPACT);
	assert_string_equal(text, "[1,\"2\"]");
	free(text);
	json_decref(root);
}

/* Found by fuzz_oci_config: a document string equal to this process's number marker (the
 * fuzzer learnt the nonce from comparisons) was written back as a number. Such a document is
 * refused, on the fast path and beside real big numbers. */
static void test_forged_marker_refused(void **state)
{
	(void)state;
	json_error_t jerr;
	const char *big = "{\"a\": 18446744073709551616}";
	json_t *j = nvb_json_loadb_exact(big, strlen(big), 0, false, &jerr);
	assert_non_null(j);
	const char *marker = json_string_value(json_object_get(j, "a"));
	assert_non_null(marker);
	json_t *forged = json_pack("{s:s}", "s", marker);
	char *text = json_dumps(forged, JSON_COMPACT); /* the marker as a JSON string */
	json_t *r = nvb_json_loadb_exact(text, strlen(text), 0, false, &jerr);
	assert_null(r);
	assert_non_null(strstr(jerr.text, "marker"));
	/* and beside a real big number (the slow path) */
	char both[512];
	snprintf(both, sizeof(both), "{\"n\": 18446744073709551616, \"s\": %s}", strchr(text, ':') + 1);
	both[strlen(both) - 1] = '\0'; /* drop the copied closing brace of text */
	strcat(both, "}");
	r = nvb_json_loadb_exact(both, strlen(both), 0, false, &jerr);
	assert_null(r);
	/* the same text under another nonce is an ordinary string */
	json_t *plain = json_loadb(text, strlen(text), 0, &jerr);
	assert_non_null(plain);
	free(text);
	json_decref(plain);
	json_decref(forged);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_too_many_big_numbers),
		cmocka_unit_test(test_malformed_beside_big),
		cmocka_unit_test(test_limits_and_markers),
		cmocka_unit_test(test_forged_marker_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
