/* The weight-gradient product c += aᵀ · x (packed.h, mrnn__atb) in the library's own kernels.
 *
 * Why not OpenBLAS: a third of a training step's FLOPs are these products (dW_ih, dW_hh, dW_out:
 * gate or output gradients of every window row times that row's input), and OpenBLAS ran them at
 * its AVX2 speed with a copy of both operands per call. Here no operand is copied: for one row r
 * both a[r][g..] (GT consecutive gates) and x[r][i..] (GV vectors of inputs) are contiguous, so a
 * tile of GT x GV vectors of c stays in registers while r runs; per r it does GV loads, GT
 * broadcasts and GT * GV multiply-adds.
 *
 * Rows r are taken in chunks of RC: a chunk of x (RC x the inputs, 512 KiB at 512 inputs) stays in
 * L2 while every tile of gates passes over it, and a tile's RC gradients of a (one line per row,
 * rows a window apart) are gathered once into a small contiguous block that serves every block of
 * inputs; the tile's sums go back to c between chunks. Each element
 * of c sums its rows in increasing r whatever the split of gates among threads, so the results
 * do not depend on the thread count.
 *
 * Written once with vector extensions and compiled per width, like packed.c: AVX-512 (16 floats,
 * 6 x 4 vectors in 32 registers), AVX2 + FMA (8 floats, 6 x 2 in 16) and the baseline (4 floats,
 * 4 x 2). */
#include <string.h>

#include "packed.h"

#define RC 256

#if defined(__clang__) || !defined(__GNUC__)
#define CONTRACT
#else
#define CONTRACT , optimize("fp-contract=fast")
#endif

/* Tiles of GT gates x (VW * GV) inputs of c over rows in chunks of RC, for the inputs [0, ni_full)
 * (whole tiles; the rest is tail()). A chunk's GT gates of a (one strided line per row) are copied
 * once into ab, contiguous, and serve every input block. One loop over r per tile and the sums
 * only loaded and stored around it: anything more and GCC kept the sums in memory. */
#define DEFINE_ATB(NAME, TARGET, VW, GT, GV)                                                                       \
    TARGET static void NAME(int ng, int ni_full, int n, const float *a, size_t lda, const float *x, size_t ldx,    \
                            float *c, size_t ldc)                                                                  \
    {                                                                                                              \
        typedef float vf __attribute__((vector_size(4 * (VW))));                                                   \
        enum { W = (VW) * (GV) };                                                                                  \
        float ab[RC][GT];                                                                                          \
        for (int r0 = 0; r0 < n; r0 += RC) {                                                                       \
            const int nr = n - r0 < RC ? n - r0 : RC;                                                              \
            for (int g0 = 0; g0 < ng; g0 += (GT)) {                                                                \
                const int rows = ng - g0 < (GT) ? ng - g0 : (GT);                                                  \
                for (int r = 0; r < nr; r++)                                                                       \
                    for (int l = 0; l < (GT); l++)                                                                 \
                        ab[r][l] = a[(size_t)(r0 + r) * lda + (size_t)(g0 + (l < rows ? l : 0))];                  \
                for (int i0 = 0; i0 < ni_full; i0 += W) {                                                          \
                    vf acc[GT][GV];                                                                                \
                    for (int l = 0; l < (GT); l++)                                                                 \
                        for (int v = 0; v < (GV); v++)                                                             \
                            memcpy(&acc[l][v], c + (size_t)(g0 + (l < rows ? l : 0)) * ldc + (size_t)(i0 + v * (VW)), \
                                   sizeof acc[l][v]);                                                              \
                    const float *xr = x + (size_t)r0 * ldx + (size_t)i0;                                           \
                    for (int r = 0; r < nr; r++, xr += ldx) {                                                      \
                        vf xv[GV];                                                                                 \
                        for (int v = 0; v < (GV); v++) memcpy(&xv[v], xr + v * (VW), sizeof xv[v]);                \
                        for (int l = 0; l < (GT); l++)                                                             \
                            for (int v = 0; v < (GV); v++) acc[l][v] += xv[v] * ab[r][l];                          \
                    }                                                                                              \
                    for (int l = 0; l < rows; l++)                                                                 \
                        for (int v = 0; v < (GV); v++)                                                             \
                            memcpy(c + (size_t)(g0 + l) * ldc + (size_t)(i0 + v * (VW)), &acc[l][v], sizeof acc[l][v]); \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    }

/* Inputs [0, ni) (fewer than a baseline tile) of every gate, plainly; rows in increasing r for
 * each element, inputs innermost so that the sums do not wait on each other. */
static void tail(int ng, int ni, int n, const float *a, size_t lda, const float *x, size_t ldx, float *c, size_t ldc)
{
    for (int g = 0; g < ng; g++)
        for (int r = 0; r < n; r++) {
            const float s = a[(size_t)r * lda + (size_t)g];
            for (int i = 0; i < ni; i++) c[(size_t)g * ldc + (size_t)i] += s * x[(size_t)r * ldx + (size_t)i];
        }
}

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_VARIANTS 1
DEFINE_ATB(atb_avx512, __attribute__((target("avx512f") CONTRACT)), 16, 6, 4)
DEFINE_ATB(atb_avx2, __attribute__((target("avx2,fma") CONTRACT)), 8, 6, 2)
#endif
DEFINE_ATB(atb_base, , 4, 4, 2)

void mrnn__atb(int isa, int ng, int ni, int n, const float *a, size_t lda, const float *x, size_t ldx, float *c,
               size_t ldc)
{
    if (ng <= 0 || ni <= 0 || n <= 0) return;
    if (isa > mrnn__packed_best_isa()) isa = mrnn__packed_best_isa();
    /* Whole tiles of the widest kernel, then of the narrower ones for the inputs left over (a
     * layer of 100 inputs: 64 + 32 + 0 + 4), so that no width falls to the plain loop. */
    int done = 0;
#ifdef HAVE_X86_VARIANTS
    if (isa == MRNN__ISA_AVX512) {
        const int w = (ni - done) / 64 * 64;
        atb_avx512(ng, w, n, a, lda, x, ldx, c, ldc);
        done += w;
    }
    if (isa >= MRNN__ISA_AVX2) {
        const int w = (ni - done) / 16 * 16;
        atb_avx2(ng, w, n, a, lda, x + done, ldx, c + done, ldc);
        done += w;
    }
#endif
    const int w = (ni - done) / 8 * 8;
    atb_base(ng, w, n, a, lda, x + done, ldx, c + done, ldc);
    done += w;
    tail(ng, ni - done, n, a, lda, x + done, ldx, c + done, ldc);
}
