/* xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
#include <math.h>

#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void mrnn__rng_seed(mrnn__rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t mrnn__rng_next(mrnn__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mrnn__rng_uniform(mrnn__rng *r)
{
    return (double)(mrnn__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t mrnn__rng_below(mrnn__rng *r, uint64_t n)
{
    /* Rejection sampling: accept only values below the largest multiple of n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = mrnn__rng_next(r);
    } while (x >= limit);
    return x % n;
}

double mrnn__rng_normal(mrnn__rng *r)
{
    double u1 = mrnn__rng_uniform(r);
    double u2 = mrnn__rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
