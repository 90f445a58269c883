/* A small, fast, reproducible PRNG (xoshiro256**). Its state is saved in checkpoints so that a
 * resumed training run draws exactly the same batches and dropout masks. */
#ifndef MRNN_RNG_H
#define MRNN_RNG_H

#include <stdint.h>

typedef struct mrnn__rng {
    uint64_t s[4];
} mrnn__rng;

void mrnn__rng_seed(mrnn__rng *r, uint64_t seed);
uint64_t mrnn__rng_next(mrnn__rng *r);
/* Uniform in [0, 1). */
double mrnn__rng_uniform(mrnn__rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t mrnn__rng_below(mrnn__rng *r, uint64_t n);
/* Standard normal (Box–Muller). */
double mrnn__rng_normal(mrnn__rng *r);

/* A uniform float in [0, 1) (24 random bits) that is a pure function of (seed, index): element
 * `index` of a stream that any thread can draw in any order, e.g. dropout masks split over threads.
 * splitmix64's finaliser over seed + (index + 1) · golden ratio. */
static inline float mrnn__hash_uniform(uint64_t seed, uint64_t index)
{
    uint64_t z = seed + (index + 1u) * 0x9E3779B97F4A7C15u;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

#endif
