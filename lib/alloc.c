/* Allocation wrappers with failure injection (tests drive every NOMEM path through it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"

/* Process-wide, only touched by tests; atomic so that a threaded test stays well-defined. */
static _Atomic long fail_after = -1;
static _Atomic size_t max_bytes = SIZE_MAX;

static int should_fail_size(size_t bytes)
{
    return bytes > max_bytes;
}

static int should_fail(void)
{
    long n = fail_after;
    if (n < 0) return 0;
    if (n == 0) return 1;
    fail_after = n - 1;
    return 0;
}

void mrnn__alloc_fail_after(long n)
{
    fail_after = n;
}

void mrnn__alloc_limit(size_t bytes)
{
    max_bytes = bytes ? bytes : SIZE_MAX;
}

void *mrnn__malloc(size_t n)
{
    if (should_fail_size(n) || should_fail()) return NULL;
    return malloc(n ? n : 1);
}

/* Huge pages pay only for blocks of several of them; smaller ones stay with malloc. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_FROM (4 * HUGE_PAGE)

void *mrnn__malloc_large(size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n >= HUGE_FROM) {
        if (should_fail_size(n) || should_fail()) return NULL;
        void *p = NULL;
        if (posix_memalign(&p, HUGE_PAGE, n) != 0) return NULL;
        (void)madvise(p, n, MADV_HUGEPAGE); /* advice: without it the block works the same */
        return p;
    }
#endif
    return mrnn__malloc(n);
}

void *mrnn__calloc_large(size_t count, size_t size)
{
    size_t n;
    if (!mrnn__mul_ok(count, size, &n)) return NULL;
    if (n < HUGE_FROM) return mrnn__calloc(count, size);
    void *p = mrnn__malloc_large(n);
    if (p) memset(p, 0, n);
    return p;
}

void *mrnn__calloc(size_t count, size_t size)
{
    if ((size && count > max_bytes / size) || should_fail()) return NULL;
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

void *mrnn__realloc(void *p, size_t n)
{
    if (should_fail_size(n) || should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void mrnn__free(void *p)
{
    free(p);
}

char *mrnn__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = mrnn__malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int mrnn__mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) {
        *out = 0;
        return 0;
    }
    *out = a * b;
    return 1;
}

int mrnn__grow_slow(void **array, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap) return 0;
    size_t new_cap = *cap ? *cap : 16;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2) return -1;
        new_cap *= 2;
    }
    size_t bytes;
    if (!mrnn__mul_ok(new_cap, elem_size, &bytes)) return -1;
    void *p = mrnn__realloc(*array, bytes);
    if (!p) return -1;
    *array = p;
    *cap = new_cap;
    return 0;
}
