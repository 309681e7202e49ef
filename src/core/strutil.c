/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/random.h>
#include <time.h>

#include "core/core.h"

#include <stdint.h>

char *nvb_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *nvb_asprintf(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

char *nvb_strstrip(char *s)
{
	if (!s)
		return s;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int nvb_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int nvb_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Edit distance where swapping two neighbours counts as one edit (optimal string alignment):
 * "ifno" is one typo away from "info", not two. */
size_t nvb_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	size_t rows[3][65]; /* i-2, i-1, i (rotating) */
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			cur[j] = min3(prev[j - 1] + cost, prev[j] + 1, cur[j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

const char *nvb_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	/* short words allow one typo, longer ones two or three: "xyz" is not "cdi" */
	size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i] || !strcmp(word, candidates[i]))
			continue;
		size_t d = nvb_edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

/* Arrays grow in powers of two (4, 8, 16 ...): the capacity follows from the count, so
 * callers keep only n. */
void *nvb_array_push(void *array_ptr, size_t *n, size_t elem)
{
	void **array = array_ptr;
	size_t count = *n;
	if (count >= SIZE_MAX / elem / 2)
		return NULL;
	if (count == 0 || (count >= 4 && (count & (count - 1)) == 0)) {
		void *p = realloc(*array, (count == 0 ? 4 : count * 2) * elem);
		if (!p)
			return NULL;
		*array = p;
	}
	char *slot = (char *)*array + count * elem;
	memset(slot, 0, elem);
	*n = count + 1;
	return slot;
}

void nvb_temp_name(char *buf, size_t cap, const char *prefix)
{
	static unsigned counter;
	unsigned long long rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = ((unsigned long long)getpid() << 32) ^ (unsigned long long)time(NULL) ^ counter;
	snprintf(buf, cap, "%s%016llx%u", prefix, rnd, counter++);
}

const char *nvb_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* UTC calendar fields of t without gmtime_r, whose first call in a process reads the time
 * zone file (glibc's tzset); Howard Hinnant's days-to-civil algorithm. */
void nvb_utc_tm(time_t t, struct tm *tm)
{
	long long days = (long long)t / 86400, secs = (long long)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(yoe + era * 400 + (m <= 2) - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)d;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
}

void nvb_utc_stamp(time_t t, char *buf, size_t cap)
{
	struct tm tm;
	nvb_utc_tm(t, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
