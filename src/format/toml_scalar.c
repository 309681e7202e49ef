/* SPDX-License-Identifier: Apache-2.0 */
/* TOML scalars other than strings: integers, floats, booleans, dates and times. */
#include <math.h>

#include "format/toml_internal.h"

static bool is_token_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '+' || c == '-' || c == '.' ||
	       c == ':';
}

/* Digits of base with '_' allowed only between two digits; NULL when fine. */
static const char *digits_problem(const char *s, size_t n, int base)
{
	if (n == 0)
		return "digits are missing";
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (i == 0 || i + 1 == n || s[i + 1] == '_')
				return "an underscore must sit between two digits";
			continue;
		}
		int d = hex_value((unsigned char)s[i]);
		if (d < 0 || d >= base)
			return base == 16  ? "invalid hexadecimal digit"
			       : base == 8 ? "invalid octal digit"
			       : base == 2 ? "invalid binary digit"
					   : "invalid decimal digit";
	}
	return NULL;
}

static int bad_number(struct parser *ps, int line, int col, const char *what, const char *tok,
		      size_t n, const char *why)
{
	return nvb_toml_fail_at(ps, line, col, NULL, "invalid %s '%.*s': %s", what, n > 64 ? 64 : (int)n,
		       tok, why);
}

static int parse_integer(struct parser *ps, const char *tok, size_t len, int line, int col,
			 int64_t *out)
{
	const char *s = tok;
	size_t n = len;
	bool neg = false, sign = false;
	int base = 10;

	if (*s == '+' || *s == '-') {
		neg = *s == '-', sign = true;
		s++, n--;
	}
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
		base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		if (sign)
			return bad_number(ps, line, col, "integer", tok, len,
					  "0x, 0o and 0b integers cannot have a sign");
		s += 2, n -= 2;
	}
	const char *why = digits_problem(s, n, base);
	if (!why && base == 10 && n > 1 && s[0] == '0')
		why = "leading zeros are not allowed";
	if (why)
		return bad_number(ps, line, col, "integer", tok, len, why);

	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_')
			continue;
		uint64_t d = (uint64_t)hex_value((unsigned char)s[i]);
		if (v > (limit - d) / (uint64_t)base)
			return nvb_toml_fail_at(
			    ps, line, col,
			    "integers range from -9223372036854775808 to 9223372036854775807",
			    "integer '%.*s' does not fit in 64 bits", len > 64 ? 64 : (int)len,
			    tok);
		v = v * (uint64_t)base + d;
	}
	*out = !neg ? (int64_t)v : v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
	return 0;
}

/* [sign] int-part [ "." digits ] [ (e|E) [sign] digits ], with a fraction or exponent. */
static const char *float_problem(const char *s, const char *end)
{
	const char *why, *part;

	if (s < end && (*s == '+' || *s == '-'))
		s++;
	for (part = s; s < end && *s != '.' && *s != 'e' && *s != 'E'; s++)
		;
	if ((why = digits_problem(part, (size_t)(s - part), 10)))
		return part == s ? "digits are missing before the '.' or exponent" : why;
	if (s - part > 1 && part[0] == '0')
		return "leading zeros are not allowed";
	if (s < end && *s == '.') {
		for (part = ++s; s < end && *s != 'e' && *s != 'E'; s++)
			;
		if ((why = digits_problem(part, (size_t)(s - part), 10)))
			return part == s ? "digits are missing after the '.'" : why;
	}
	if (s < end) {
		if (++s < end && (*s == '+' || *s == '-'))
			s++;
		if ((why = digits_problem(s, (size_t)(end - s), 10)))
			return s == end ? "the exponent has no digits" : why;
	}
	return NULL;
}

static int parse_float(struct parser *ps, const char *tok, size_t len, int line, int col,
		       double *out)
{
	const char *why = float_problem(tok, tok + len);

	if (why)
		return bad_number(ps, line, col, "float", tok, len, why);
	if (!ps->c_locale) {
		ps->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
		if (!ps->c_locale)
			return nomem(ps);
	}
	_cleanup_free_ char *buf = malloc(len + 1);
	if (!buf)
		return nomem(ps);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (tok[i] != '_')
			buf[n++] = tok[i];
	buf[n] = '\0';
	char *end;
	double d = strtod_l(buf, &end, ps->c_locale);
	if (*end)
		return bad_number(ps, line, col, "float", tok, len, "not a number");
	if (isinf(d))
		return nvb_toml_fail_at(ps, line, col, "write inf for an infinite value",
			       "float '%.*s' is out of range", len > 64 ? 64 : (int)len, tok);
	*out = d;
	return 0;
}

static int two_digits(const char *s)
{
	return is_digit(s[0]) && is_digit(s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

static bool is_leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

/* YYYY-MM-DD, a day that exists. */
static const char *date_problem(const char *s, size_t n)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (n < 10 || s[4] != '-' || s[7] != '-' || two_digits(s) < 0 || two_digits(s + 2) < 0)
		return "expected a date as YYYY-MM-DD";
	int year = two_digits(s) * 100 + two_digits(s + 2);
	int month = two_digits(s + 5), day = two_digits(s + 8);
	if (month < 0 || day < 0)
		return "expected a date as YYYY-MM-DD";
	if (month < 1 || month > 12)
		return "the month is out of range";
	if (day < 1 || day > mdays[month - 1] + (month == 2 && is_leap(year)))
		return "the day does not exist in that month";
	return NULL;
}

/* HH:MM:SS[.fraction]; *used gets its length. TOML 1.0 requires the seconds. */
static const char *time_problem(const char *s, size_t n, size_t *used)
{
	if (n < 8 || s[2] != ':' || s[5] != ':')
		return "expected a time as HH:MM:SS";
	int h = two_digits(s), m = two_digits(s + 3), sec = two_digits(s + 6);
	if (h < 0 || m < 0 || sec < 0)
		return "expected a time as HH:MM:SS";
	if (h > 23 || m > 59 || sec > 60) /* 60: a leap second */
		return "the time is out of range";
	size_t i = 8;
	if (i < n && s[i] == '.') {
		while (++i < n && is_digit(s[i]))
			;
		if (i == 9)
			return "the fraction of a second has no digits";
	}
	*used = i;
	return NULL;
}

/* Z, z or +HH:MM / -HH:MM */
static const char *offset_problem(const char *s, size_t n)
{
	if (n == 1 && (s[0] == 'Z' || s[0] == 'z'))
		return NULL;
	if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return "expected a time zone offset as Z or +HH:MM";
	int h = two_digits(s + 1), m = two_digits(s + 4);
	if (h < 0 || m < 0)
		return "expected a time zone offset as Z or +HH:MM";
	if (h > 23 || m > 59)
		return "the time zone offset is out of range";
	return NULL;
}

static const char *datetime_problem(const char *s, size_t n, enum nvb_toml_datetime_kind *kind)
{
	const char *why;
	size_t used = 0;

	if (n >= 3 && s[2] == ':') {
		*kind = NVB_TOML_LOCAL_TIME;
		if ((why = time_problem(s, n, &used)))
			return why;
		return used == n ? NULL : "unexpected characters after the time";
	}
	if ((why = date_problem(s, n)))
		return why;
	*kind = NVB_TOML_LOCAL_DATE;
	if (n == 10)
		return NULL;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return "expected 'T' or a space between the date and the time";
	if ((why = time_problem(s + 11, n - 11, &used)))
		return why;
	*kind = NVB_TOML_LOCAL_DATETIME;
	if (11 + used == n)
		return NULL;
	*kind = NVB_TOML_OFFSET_DATETIME;
	return offset_problem(s + 11 + used, n - 11 - used);
}

static bool looks_like_datetime(const char *s, size_t n)
{
	return (n >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
		s[4] == '-') ||
	       (n >= 3 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':');
}

static bool token_is(const char *tok, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(tok, word, n) == 0;
}

static bool token_is_ci(const char *tok, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(tok, word, n) == 0;
}

/* A token that is none of TOML's values. */
static int bad_token(struct parser *ps, const char *tok, size_t n, int line, int col)
{
	const char *hint = "quote strings: key = \"text\"";
	const char *body = (*tok == '+' || *tok == '-') ? tok + 1 : tok;
	size_t bn = n - (size_t)(body - tok);

	if (token_is_ci(tok, n, "true") || token_is_ci(tok, n, "false"))
		hint = "booleans are written true and false, in lower case";
	else if (token_is_ci(body, bn, "inf") || token_is_ci(body, bn, "nan"))
		hint = "write inf and nan in lower case";
	return nvb_toml_fail_at(ps, line, col, hint, "invalid value '%.*s'", n > 64 ? 64 : (int)n, tok);
}

/* Scan a bare value: a date-time may hold one space, between its date and its time. */
size_t nvb_toml_scan_token(struct parser *ps)
{
	const char *start = ps->p;

	while (is_token_char(peek(ps)))
		adv(ps);
	size_t n = (size_t)(ps->p - start);
	if (n == 10 && looks_like_datetime(start, n) && peek(ps) == ' ' &&
	    is_digit(peek_at(ps, 1)) && is_digit(peek_at(ps, 2)) && peek_at(ps, 3) == ':') {
		adv(ps);
		while (is_token_char(peek(ps)))
			adv(ps);
	}
	return (size_t)(ps->p - start);
}

int nvb_toml_classify_token(struct parser *ps, const char *tok, size_t n, int line, int col,
			  struct nvb_toml_value *v)
{
	const char *body = (*tok == '+' || *tok == '-') ? tok + 1 : tok;
	size_t bn = n - (size_t)(body - tok);
	const char *why;

	if (token_is(tok, n, "true") || token_is(tok, n, "false")) {
		v->type = NVB_TOML_BOOL;
		v->v.b = *tok == 't';
		return 0;
	}
	if (token_is(body, bn, "inf") || token_is(body, bn, "nan")) {
		v->type = NVB_TOML_FLOAT;
		v->v.f = *body == 'i' ? INFINITY : NAN;
		if (*tok == '-')
			v->v.f = -v->v.f;
		return 0;
	}
	if (looks_like_datetime(tok, n)) {
		if ((why = datetime_problem(tok, n, &v->datetime_kind)))
			return nvb_toml_fail_at(ps, line, col,
				       "write date-times as in RFC 3339, e.g. 1979-05-27T07:32:00Z",
				       "invalid date-time '%.*s': %s", n > 64 ? 64 : (int)n, tok,
				       why);
		v->type = NVB_TOML_DATETIME;
		v->v.s = strndup(tok, n);
		v->len = n;
		return v->v.s ? 0 : nomem(ps);
	}
	if (bn == 0 || (!is_digit(*body) && *body != '.'))
		return bad_token(ps, tok, n, line, col);
	bool prefixed =
	    bn > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b');
	if (!prefixed && (memchr(tok, '.', n) || memchr(tok, 'e', n) || memchr(tok, 'E', n))) {
		v->type = NVB_TOML_FLOAT;
		return parse_float(ps, tok, n, line, col, &v->v.f);
	}
	v->type = NVB_TOML_INTEGER;
	return parse_integer(ps, tok, n, line, col, &v->v.i);
}

