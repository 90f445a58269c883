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

#endif
