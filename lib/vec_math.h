/* exp, sigmoid and tanh on short float vectors, for the LSTM gate loops and the sampler.
 *
 * The gate math is 5 transcendental calls per cell and step; through libm's scalar expf it took a
 * fifth of a training step. These use GCC/Clang vector extensions (portable C, no intrinsics: the
 * compiler maps them to whatever SIMD the target has) and a polynomial exp whose relative error
 * is below 2e-7 on the clamped range, i.e. about one float ulp -- as accurate as the gradient
 * checks and the sampler need, and deterministic on a given machine.
 *
 * MRNN__DEFINE_VEC_MATH writes the functions for one vector type, so that every width computes
 * the same operations in the same order, lane by lane: with contraction off (C11 mode) a lane's
 * result does not depend on the width. The 4-float set below is for code compiled for any
 * target: 16-byte vectors are native on every x86-64 (SSE2) and AArch64 (NEON); with 32-byte
 * vectors and no -mavx, GCC 12 turned the comparisons into scalar code, no faster than libm.
 * Wider sets are made where a function is compiled for a wider target (lstm_cell.c). */
#ifndef MRNN_VEC_MATH_H
#define MRNN_VEC_MATH_H

#include <stddef.h>
#include <stdint.h>

/* P: the name prefix; VF / VI: float and int32 vector types of the same width; ATTR: attributes
 * of every function (a target, or nothing). Defines P##_splat, _min, _max, _exp, _sigmoid, _tanh,
 * _load and _store.
 *
 * min/max: lane-wise through comparison masks (C has no vector ?: operator).
 * exp: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor-like polynomial (minimax-close
 * on that interval), 2^n added into the exponent bits; n = round(x / ln2) with the 1.5 * 2^23
 * trick (exact for |x / ln2| < 2^22) and ln2 split Cody-Waite style in a part exact in float and a
 * small correction. Inputs are clamped to [-87, 88] so that neither the result nor 2^n leaves the
 * normal float range; the gates saturate long before.
 * tanh(x) = 2 sigmoid(2x) - 1: absolute error ~1e-7, which is what the cell needs.
 * load/store: unaligned, through memcpy (one vector move). */
#define MRNN__DEFINE_VEC_MATH(P, VF, VI, ATTR)                                                                  \
    ATTR static inline VF P##_splat(float x)                                                                    \
    {                                                                                                           \
        return (VF){0} + x;                                                                                     \
    }                                                                                                           \
    ATTR static inline VF P##_min(VF a, VF b)                                                                   \
    {                                                                                                           \
        VI take_b = a > b;                                                                                      \
        return (VF)(((VI)b & take_b) | ((VI)a & ~take_b));                                                      \
    }                                                                                                           \
    ATTR static inline VF P##_max(VF a, VF b)                                                                   \
    {                                                                                                           \
        VI take_b = a < b;                                                                                      \
        return (VF)(((VI)b & take_b) | ((VI)a & ~take_b));                                                      \
    }                                                                                                           \
    ATTR static inline VF P##_exp(VF x)                                                                         \
    {                                                                                                           \
        x = P##_min(x, P##_splat(88.0f));                                                                       \
        x = P##_max(x, P##_splat(-87.0f));                                                                      \
        const VF magic = P##_splat(12582912.0f);                                                                \
        VF n = (x * P##_splat(1.44269504088896341f) + magic) - magic;                                           \
        VF r = x - n * P##_splat(0.693359375f);                                                                 \
        r = r - n * P##_splat(-2.12194440e-4f);                                                                 \
        VF p = P##_splat(1.9875691500e-4f);                                                                     \
        p = p * r + P##_splat(1.3981999507e-3f);                                                                \
        p = p * r + P##_splat(8.3334519073e-3f);                                                                \
        p = p * r + P##_splat(4.1665795894e-2f);                                                                \
        p = p * r + P##_splat(1.6666665459e-1f);                                                                \
        p = p * r + P##_splat(5.0000001201e-1f);                                                                \
        p = p * r * r + r + P##_splat(1.0f);                                                                    \
        VI e = __builtin_convertvector(n, VI) << 23;                                                            \
        return (VF)((VI)p + e);                                                                                 \
    }                                                                                                           \
    ATTR static inline VF P##_sigmoid(VF x)                                                                     \
    {                                                                                                           \
        const VF one = P##_splat(1.0f);                                                                         \
        return one / (one + P##_exp(-x));                                                                       \
    }                                                                                                           \
    ATTR static inline VF P##_tanh(VF x)                                                                        \
    {                                                                                                           \
        const VF one = P##_splat(1.0f);                                                                         \
        return (one + one) / (one + P##_exp(-(x + x))) - one;                                                   \
    }                                                                                                           \
    ATTR static inline VF P##_load(const float *p)                                                              \
    {                                                                                                           \
        VF v;                                                                                                   \
        __builtin_memcpy(&v, p, sizeof v);                                                                      \
        return v;                                                                                               \
    }                                                                                                           \
    ATTR static inline void P##_store(float *p, VF v)                                                           \
    {                                                                                                           \
        __builtin_memcpy(p, &v, sizeof v);                                                                      \
    }

typedef float mrnn__v4f __attribute__((vector_size(16)));
typedef int32_t mrnn__v4i __attribute__((vector_size(16)));
MRNN__DEFINE_VEC_MATH(mrnn__v4, mrnn__v4f, mrnn__v4i, )

/* dst[0..n) += src[0..n): summing embedding or table rows, and row sums of gradients. (Not
 * cblas_saxpy: OpenBLAS 0.3.21 hands even a 2048-float axpy to its worker threads when it may use
 * several, a wake-up per call, and that worker then spins on a core the library's threads need.) */
static inline void mrnn__vec_add(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

#endif
