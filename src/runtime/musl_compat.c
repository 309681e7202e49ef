/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linked only into the musl builds of nvbind-runtime and nvbind-hook (src/musl/meson.build,
 * docs/runtime.md "Static builds"). Those two programs start a process for every GPU
 * container, and a static glibc program spends about half a millisecond of its start-up
 * probing the CPU (dozens of cpuid instructions, each a trap to the hypervisor in a VM);
 * musl does none of it. Three things make musl's build as fast as glibc's afterwards:
 *
 *  - Debian packages no musl build of jansson or libyaml, so the glibc builds' static
 *    archives are linked. They were compiled with _FORTIFY_SOURCE and call glibc's checked
 *    variants of a few functions: those are defined here, with the same checks (abort on
 *    overflow, as glibc's __chk_fail does).
 *  - musl's memcpy starts every copy with `rep movsq`, about 30 ns even for one byte, and
 *    jansson's lexer copies one byte at a time (about 12,000 calls to read a spec and a
 *    config.json): small copies here use plain loads and stores.
 *  - musl's allocator returns memory to the kernel eagerly (about 70 mmap and munmap calls in
 *    one create). These programs live a few milliseconds and allocate under 2 MB: freed
 *    blocks go back to per-size free lists, never to the kernel.
 *
 * None of this is thread-safe, and none of it needs to be: neither program starts a thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ------------------------------------------------------------ glibc's fortify variants */

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap);
char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen);
char *__strcpy_chk(char *dst, const char *src, size_t dstlen);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	(void)flag;
	if (slen < maxlen)
		abort();
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return r;
}

int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap)
{
	(void)flag;
	int r = vsnprintf(s, slen, fmt, ap);
	if (r >= 0 && (size_t)r >= slen)
		abort(); /* sprintf would have written past the object */
	return r;
}

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vsprintf_chk(s, flag, slen, fmt, ap);
	va_end(ap);
	return r;
}

char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
	if (dstlen < n)
		abort();
	return strncpy(dst, src, n);
}

char *__strcpy_chk(char *dst, const char *src, size_t dstlen)
{
	if (strlen(src) >= dstlen)
		abort();
	return strcpy(dst, src);
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (dstlen < n)
		abort();
	return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (dstlen < n)
		abort();
	return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (dstlen < n)
		abort();
	return memset(dst, c, n);
}

/* ------------------------------------------------------------------------------ memcpy */

/* __builtin_memcpy of a constant 4 or 8 bytes compiles to one load or store, never a call:
 * this file is built with -fno-builtin only for memcpy's own loops (see meson.build). */
static inline uint64_t load8(const unsigned char *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

static inline void store8(unsigned char *p, uint64_t v)
{
	__builtin_memcpy(p, &v, 8);
}

static inline uint32_t load4(const unsigned char *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}

static inline void store4(unsigned char *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
}

/* Copies forward only, reading every source byte before the store that could overwrite it:
 * musl's memmove calls it (as __memcpy_fwd) when the destination is below the source. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (n <= 16) { /* two overlapping loads cover every length of a class */
		if (n >= 8) {
			uint64_t head = load8(s), tail = load8(s + n - 8);
			store8(d, head);
			store8(d + n - 8, tail);
		} else if (n >= 4) {
			uint32_t head = load4(s), tail = load4(s + n - 4);
			store4(d, head);
			store4(d + n - 4, tail);
		} else if (n) {
			unsigned char first = s[0], mid = s[n / 2], last = s[n - 1];
			d[0] = first;
			d[n / 2] = mid;
			d[n - 1] = last;
		}
		return dst;
	}
	if (n <= 256) {
		uint64_t t0 = load8(s + n - 16), t1 = load8(s + n - 8);
		for (size_t i = 0; i + 16 <= n; i += 16) {
			uint64_t a = load8(s + i), b = load8(s + i + 8);
			store8(d + i, a);
			store8(d + i + 8, b);
		}
		store8(d + n - 16, t0);
		store8(d + n - 8, t1);
		return dst;
	}
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

/* musl's memmove jumps to this name, defined in the same object as musl's memcpy: without
 * it the linker would pull that object in too, and memcpy would be defined twice. */
void *__memcpy_fwd(void *restrict dst, const void *restrict src, size_t n)
	__attribute__((alias("memcpy")));

/* --------------------------------------------------------------------------- allocator */

/* Every block starts 16 bytes after its header; the header holds the block's capacity, and
 * for a block of its own mapping (over BIG bytes) the mapping's length too. */
struct block {
	size_t capacity; /* usable bytes */
	size_t mapped;   /* length of the block's own mapping, 0 for a class block */
};

#define ALIGN 16u
#define BIG (64u * 1024)    /* larger blocks get a mapping each, unmapped on free */
#define ARENA (256u * 1024) /* class blocks are cut from arenas of this size */
#define N_CLASSES 44        /* class_size(43) == BIG */

/* Capacities: 16, 32, 48, 64, then four steps per doubling (80, 96, 112, 128, 160, ...). */
static size_t class_size(unsigned c)
{
	if (c < 4)
		return (c + 1) * 16u;
	return ((size_t)16 << ((c - 4) / 4)) * ((c - 4) % 4 + 5);
}

/* The smallest class that holds n bytes (1 <= n <= BIG). */
static unsigned class_of(size_t n)
{
	if (n <= 64)
		return (unsigned)((n + 15) / 16) - 1;
	unsigned k = 63u - (unsigned)__builtin_clzll((n - 1) >> 6); /* n - 1 in [64 << k, 128 << k) */
	size_t unit = (size_t)16 << k;
	return 4 + 4 * k + (unsigned)((n + unit - 1) / unit) - 5;
}

static struct block *free_lists[N_CLASSES];
static unsigned char *arena_next, *arena_end;

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct block *cut(size_t capacity)
{
	size_t need = sizeof(struct block) + capacity;
	if ((size_t)(arena_end - arena_next) < need) {
		unsigned char *a = map(ARENA); /* the rest of the old arena is left unused */
		if (!a)
			return NULL;
		arena_next = a;
		arena_end = a + ARENA;
	}
	struct block *b = (struct block *)arena_next;
	arena_next += need;
	b->capacity = capacity;
	b->mapped = 0;
	return b;
}

void *malloc(size_t n)
{
	if (n > BIG) {
		size_t len = (sizeof(struct block) + n + 4095) & ~(size_t)4095;
		if (len < n) {
			errno = ENOMEM;
			return NULL;
		}
		struct block *b = map(len);
		if (!b) {
			errno = ENOMEM;
			return NULL;
		}
		b->capacity = len - sizeof(struct block);
		b->mapped = len;
		return b + 1;
	}
	unsigned c = class_of(n ? n : 1);
	struct block *b = free_lists[c];
	if (b)
		free_lists[c] = *(struct block **)(b + 1);
	else if (!(b = cut(class_size(c)))) {
		errno = ENOMEM;
		return NULL;
	}
	return b + 1;
}

void free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)p - 1;
	if (b->mapped) { /* its mapping starts at the header's page (aligned_alloc: before) */
		munmap((void *)((uintptr_t)b & ~(uintptr_t)4095), b->mapped);
		return;
	}
	unsigned c = class_of(b->capacity);
	*(struct block **)p = free_lists[c];
	free_lists[c] = b;
}

size_t malloc_usable_size(void *p)
{
	return p ? ((struct block *)p - 1)->capacity : 0;
}

void *calloc(size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = malloc(n);
	if (p && !((struct block *)p - 1)->mapped) /* a fresh mapping is zero already */
		memset(p, 0, n);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	size_t have = malloc_usable_size(p);
	if (n <= have && n > have / 4)
		return p;
	void *q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	free(p);
	return q;
}

/* Alignments above 16 (none of nvbind's callers asks; libc may): a mapping of its own whose
 * second page starts the block, so that the header ends the first page and free() unmaps the
 * whole mapping from the header's page. */
void *aligned_alloc(size_t alignment, size_t n)
{
	if (!alignment || (alignment & (alignment - 1)) || alignment > 4096) {
		errno = EINVAL;
		return NULL;
	}
	if (alignment <= ALIGN)
		return malloc(n);
	size_t len = (4096 + n + 4095) & ~(size_t)4095;
	unsigned char *m = len > n ? map(len) : NULL;
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	struct block *b = (struct block *)(m + 4096) - 1;
	b->capacity = len - 4096;
	b->mapped = len;
	return b + 1;
}

int posix_memalign(void **out, size_t alignment, size_t n)
{
	if (alignment < sizeof(void *))
		return EINVAL;
	void *p = aligned_alloc(alignment, n);
	if (!p)
		return errno;
	*out = p;
	return 0;
}

void *memalign(size_t alignment, size_t n)
{
	return aligned_alloc(alignment, n);
}
