/* Allocation wrappers. All library allocations go through these so that tests can make the n-th
 * allocation fail and check that every error path returns MRNN_ERR_NOMEM without leaking. */
#ifndef MRNN_ALLOC_H
#define MRNN_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *mrnn__malloc(size_t n);
/* A large block that kernels stream through over and over (a training workspace, the sampler's
 * weights): where Linux gives transparent huge pages on request, it gets them (2 MiB pages: the
 * TLB then covers a window's activations: +5 % on the main training step). Freed with mrnn__free. */
void *mrnn__malloc_large(size_t n);
/* The same, zeroed, for count elements of size bytes (NULL on overflow). */
void *mrnn__calloc_large(size_t count, size_t size);
void *mrnn__calloc(size_t count, size_t size);
void *mrnn__realloc(void *p, size_t n);
void mrnn__free(void *p);
char *mrnn__strdup(const char *s);

/* Overflow-checked count*size; returns 0 (and sets *out to 0) on overflow. */
int mrnn__mul_ok(size_t a, size_t b, size_t *out);

/* Grow *array (of elem_size elements, capacity *cap) to hold at least need elements.
 * Returns 0 on success, -1 on overflow or allocation failure (array untouched).
 * Inline because it is called once per appended element (notes, events, tokens): the call itself
 * showed in preprocessing profiles, while the reallocation is rare. */
int mrnn__grow_slow(void **array, size_t *cap, size_t need, size_t elem_size);
static inline int mrnn__grow(void **array, size_t *cap, size_t need, size_t elem_size)
{
    return need <= *cap ? 0 : mrnn__grow_slow(array, cap, need, elem_size);
}

/* The first 64-byte boundary at or after p (cache-line aligned panels for vector loads); the
 * block must have 63 bytes to spare. */
static inline void *mrnn__align64(void *p)
{
    return (unsigned char *)p + (64 - (uintptr_t)p % 64) % 64;
}

/* Test hook: after `n` more successful allocations, every allocation fails (n < 0: never). */
void mrnn__alloc_fail_after(long n);

/* Test hook: every single allocation larger than `bytes` fails (0: no limit). The fuzz harnesses use
 * it to turn "a small input made the library allocate gigabytes" into a finding. */
void mrnn__alloc_limit(size_t bytes);

#endif
