/* exp, sigmoid and tanh on 4 floats at once, for the LSTM gate loops.
 *
 * The gate math is 5 transcendental calls per cell and step; through libm's scalar expf it took a
 * fifth of a training step. These use GCC/Clang vector extensions (portable C, no intrinsics: the
 * compiler maps them to whatever SIMD the target has) and a polynomial exp whose relative error
 * is below 2e-7 on the clamped range, i.e. about one float ulp -- as accurate as the gradient
 * checks and the sampler need, and deterministic on a given machine.
 *
 * 16-byte vectors on purpose: they are native on every x86-64 (SSE2) and AArch64 (NEON). With
 * 32-byte vectors and no -mavx, GCC 12 turned the comparisons into scalar code and the loop was
 * no faster than libm's expf. */
#ifndef MRNN_VEC_MATH_H
#define MRNN_VEC_MATH_H

#include <stddef.h>
#include <stdint.h>


typedef float mrnn__v4f __attribute__((vector_size(16)));
typedef int32_t mrnn__v4i __attribute__((vector_size(16)));

static inline mrnn__v4f mrnn__v4f_splat(float x)
{
    return (mrnn__v4f){x, x, x, x};
}

/* Lane-wise min/max through comparison masks (C has no vector ?: operator). */
static inline mrnn__v4f mrnn__v4_min(mrnn__v4f a, mrnn__v4f b)
{
    mrnn__v4i take_b = a > b;
    return (mrnn__v4f)(((mrnn__v4i)b & take_b) | ((mrnn__v4i)a & ~take_b));
}

static inline mrnn__v4f mrnn__v4_max(mrnn__v4f a, mrnn__v4f b)
{
    mrnn__v4i take_b = a < b;
    return (mrnn__v4f)(((mrnn__v4i)b & take_b) | ((mrnn__v4i)a & ~take_b));
}

/* e^x: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor-like polynomial (minimax-close
 * on that interval), 2^n added into the exponent bits. Inputs are clamped to [-87, 88] so that
 * neither the result nor 2^n leaves the normal float range; the gates saturate long before. */
static inline mrnn__v4f mrnn__v4_exp(mrnn__v4f x)
{
    const mrnn__v4f hi = mrnn__v4f_splat(88.0f), lo = mrnn__v4f_splat(-87.0f);
    x = mrnn__v4_min(x, hi);
    x = mrnn__v4_max(x, lo);
    /* round(x / ln2) with the 1.5 * 2^23 trick: exact for |x / ln2| < 2^22 */
    const mrnn__v4f magic = mrnn__v4f_splat(12582912.0f);
    mrnn__v4f n = (x * mrnn__v4f_splat(1.44269504088896341f) + magic) - magic;
    /* Cody-Waite: ln2 split in a part exact in float and a small correction */
    mrnn__v4f r = x - n * mrnn__v4f_splat(0.693359375f);
    r = r - n * mrnn__v4f_splat(-2.12194440e-4f);
    mrnn__v4f p = mrnn__v4f_splat(1.9875691500e-4f);
    p = p * r + mrnn__v4f_splat(1.3981999507e-3f);
    p = p * r + mrnn__v4f_splat(8.3334519073e-3f);
    p = p * r + mrnn__v4f_splat(4.1665795894e-2f);
    p = p * r + mrnn__v4f_splat(1.6666665459e-1f);
    p = p * r + mrnn__v4f_splat(5.0000001201e-1f);
    p = p * r * r + r + mrnn__v4f_splat(1.0f);
    mrnn__v4i e = __builtin_convertvector(n, mrnn__v4i) << 23;
    return (mrnn__v4f)((mrnn__v4i)p + e);
}

static inline mrnn__v4f mrnn__v4_sigmoid(mrnn__v4f x)
{
    const mrnn__v4f one = mrnn__v4f_splat(1.0f);
    return one / (one + mrnn__v4_exp(-x));
}

/* tanh(x) = 2 sigmoid(2x) - 1: absolute error ~1e-7, which is what the cell needs. */
static inline mrnn__v4f mrnn__v4_tanh(mrnn__v4f x)
{
    const mrnn__v4f one = mrnn__v4f_splat(1.0f);
    return (one + one) / (one + mrnn__v4_exp(-(x + x))) - one;
}

/* Unaligned loads and stores of 4 floats (memcpy compiles to one vector move). */
static inline mrnn__v4f mrnn__v4_load(const float *p)
{
    mrnn__v4f v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void mrnn__v4_store(float *p, mrnn__v4f v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

/* dst[0..n) += src[0..n): summing embedding or table rows, and row sums of gradients. (Not
 * cblas_saxpy: OpenBLAS 0.3.21 hands even a 2048-float axpy to its worker threads when it may use
 * several, a wake-up per call, and that worker then spins on a core the library's threads need.) */
static inline void mrnn__vec_add(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

#endif
