/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_musl_compat: src/runtime/musl_compat.c (the allocator, memcpy and glibc's fortify
 * functions of the musl programs), built with musl-gcc and linked with it as they are.
 * Prints TAP, as the cmocka unit tests do under CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);

static int n_test, n_failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/* every length up to 1100 bytes at every alignment pair up to 16, against a byte loop;
 * the bytes around the destination stay as they were */
static int memcpy_matches(void)
{
	static unsigned char src[1200], dst[1300], want[1300];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)next();
	for (size_t n = 0; n <= 1100; n += n < 300 ? 1 : 37)
		for (size_t so = 0; so < 16; so += 3)
			for (size_t d0 = 0; d0 < 16; d0 += 5) {
				memset(dst, 0xA5, sizeof(dst));
				memset(want, 0xA5, sizeof(want));
				for (size_t i = 0; i < n; i++)
					want[d0 + 64 + i] = src[so + i];
				if (memcpy(dst + d0 + 64, src + so, n) != dst + d0 + 64 ||
				    memcmp(dst, want, sizeof(dst)) != 0) {
					printf("# memcpy n=%zu src+%zu dst+%zu\n", n, so, d0);
					return 0;
				}
			}
	return 1;
}

/* memmove forward over an overlap (musl's memmove calls our memcpy then) and backward */
static int memmove_overlaps(void)
{
	static unsigned char buf[2048], want[2048];
	for (size_t n = 1; n <= 900; n += n < 70 ? 1 : 53)
		for (size_t shift = 1; shift < 40; shift += 3)
			for (int backward = 0; backward < 2; backward++) {
				for (size_t i = 0; i < sizeof(buf); i++)
					buf[i] = want[i] = (unsigned char)(i * 7 + 3);
				size_t from = backward ? 100 : 100 + shift, to = backward ? 100 + shift : 100;
				for (size_t i = 0; i < n; i++) /* a reference through a copy */
					want[to + i] = (unsigned char)((from + i) * 7 + 3);
				memmove(buf + to, buf + from, n);
				if (memcmp(buf, want, sizeof(buf)) != 0) {
					printf("# memmove n=%zu shift=%zu backward=%d\n", n, shift, backward);
					return 0;
				}
			}
	return 1;
}

/* random malloc/realloc/free: contents survive, blocks never overlap, alignment 16 */
static int allocator_holds(void)
{
	enum { SLOTS = 512 };
	static unsigned char *p[SLOTS];
	static size_t len[SLOTS];
	for (int round = 0; round < 200000; round++) {
		size_t i = next() % SLOTS;
		if (p[i]) { /* check, then realloc or free */
			for (size_t k = 0; k < len[i]; k++)
				if (p[i][k] != (unsigned char)(i + k)) {
					printf("# block %zu byte %zu changed\n", i, k);
					return 0;
				}
			if (next() % 3 == 0) {
				size_t n = next() % 4 == 0 ? next() % 200000 : next() % 3000;
				unsigned char *q = realloc(p[i], n);
				if (!q && n)
					return 0;
				size_t keep = n < len[i] ? n : len[i];
				p[i] = q, len[i] = n;
				for (size_t k = keep; k < n; k++)
					q[k] = (unsigned char)(i + k);
				if (!n) {
					free(q);
					p[i] = NULL;
				}
				continue;
			}
			free(p[i]);
			p[i] = NULL;
			continue;
		}
		size_t n = next() % 8 == 0 ? next() % 150000 : next() % 2000;
		p[i] = next() % 5 == 0 ? calloc(1, n) : malloc(n);
		if (!p[i] || ((uintptr_t)p[i] & 15)) {
			printf("# malloc(%zu) gave %p\n", n, (void *)p[i]);
			return 0;
		}
		if (malloc_usable_size(p[i]) < n)
			return 0;
		len[i] = n;
		for (size_t k = 0; k < n; k++)
			p[i][k] = (unsigned char)(i + k);
	}
	for (size_t i = 0; i < SLOTS; i++)
		free(p[i]);
	return 1;
}

static int calloc_zero_and_overflow(void)
{
	for (int i = 0; i < 100; i++) { /* reused blocks must come back zeroed */
		unsigned char *a = malloc(200);
		memset(a, 0xFF, 200);
		free(a);
		unsigned char *z = calloc(10, 20);
		for (int k = 0; k < 200; k++)
			if (z[k])
				return 0;
		free(z);
	}
	volatile size_t half = SIZE_MAX / 2, huge = SIZE_MAX - 8;
	errno = 0;
	return calloc(half, 3) == NULL && errno == ENOMEM && malloc(huge) == NULL;
}

static int aligned(void)
{
	for (size_t al = 1; al <= 4096; al *= 2) {
		void *p = aligned_alloc(al, 100);
		if (!p || ((uintptr_t)p & (al - 1)))
			return 0;
		memset(p, 1, 100);
		free(p);
	}
	void *q = NULL;
	return posix_memalign(&q, 64, 1000) == 0 && ((uintptr_t)q & 63) == 0 &&
	       (free(q), aligned_alloc(3, 10) == NULL) && aligned_alloc(8192, 10) == NULL;
}

/* the fortify functions work, and abort on the overflow glibc's would catch */
static int aborts(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* the sizes pass through volatiles: a constant overflow would be a compile-time error, and
 * the copies must not be optimised away */
static volatile size_t eight = 8, sixteen = 16;

static void snprintf_overflow(void)
{
	char b[8];
	__snprintf_chk(b, sixteen, 1, eight, "%s", "0123456789");
	puts(b);
}

static void memcpy_overflow(void)
{
	char b[8], s[16] = "";
	__memcpy_chk(b, s, sixteen, eight);
	puts(b);
}

static int fortify(void)
{
	char b[16], d[8];
	int formatted = __snprintf_chk(b, sizeof(b), 1, sizeof(b), "%d-%s", 42, "x") == 4 &&
			!strcmp(b, "42-x");
	int copied = __strncpy_chk(d, "abc", 4, sizeof(d)) == d && !strcmp(d, "abc");
	return formatted && copied && aborts(snprintf_overflow) && aborts(memcpy_overflow);
}

int main(void)
{
	ok(memcpy_matches(), "memcpy: every length and alignment");
	ok(memmove_overlaps(), "memmove: overlapping copies both ways");
	ok(allocator_holds(), "malloc/realloc/free: contents kept, 16-byte aligned");
	ok(calloc_zero_and_overflow(), "calloc: zeroed, overflow refused");
	ok(aligned(), "aligned_alloc/posix_memalign");
	ok(fortify(), "glibc fortify functions");
	printf("1..%d\n", n_test);
	return n_failed ? 1 : 0;
}
