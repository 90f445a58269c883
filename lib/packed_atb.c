/* The weight-gradient product c += aᵀ · x (packed.h, mrnn__atb) in the library's own kernels.
 *
 * Why not OpenBLAS: a third of a training step's FLOPs are these products (dW_ih, dW_hh, dW_out:
 * gate or output gradients of every window row times that row's input), and OpenBLAS ran them at
 * its AVX2 speed with a copy of both operands per call. Here neither is copied whole: for one row r
 * both a[r][g..] (GT consecutive gates) and x[r][i..] (GV vectors of inputs) are contiguous, so a
 * tile of GT x GV vectors of c stays in registers while r runs; per r it does GV loads, GT
 * broadcasts and GT * GV multiply-adds.
 *
 * Rows r are taken in chunks (128): for a group of gates, the chunk's gradients of a (one line per
 * row, rows a window apart) are gathered once into a small contiguous block, and for each block of
 * inputs the chunk's x (rows 2-8 KiB apart, which fall in a few of L1's sets) is copied into a
 * contiguous block that serves every tile of the group from L1; the tile's sums go back to c
 * between chunks. Each element of c sums its rows in increasing r whatever the split of gates
 * among threads, so the results do not depend on the thread count.
 *
 * Written once with vector extensions and compiled per width, like packed.c: AVX-512 (16 floats,
 * 6 x 4 vectors in 32 registers), AVX2 + FMA (8 floats, 6 x 2 in 16) and the baseline (4 floats,
 * 4 x 2). */
#include <string.h>

#include "packed.h"

#if defined(__clang__) || !defined(__GNUC__)
#define CONTRACT
#else
#define CONTRACT , optimize("fp-contract=fast")
#endif
/* The r loop unrolled: its pointer updates and branch otherwise take issue slots of the ports the
 * FMAs run on, once per 12 or 24 FMAs. */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll_count(4)")
#elif defined(__GNUC__)
#define UNROLL _Pragma("GCC unroll 4")
#else
#define UNROLL
#endif

/* Tiles of GT gates x (VW * GV) inputs of c over rows in chunks of RC, for the inputs [0, ni_full)
 * (whole tiles; the rest is tail()). Gates go in groups of GG (whole tiles): a chunk's gradients of
 * a group's gates (one strided line per row) are gathered once into ab, tile by tile and
 * contiguous, and then for each block of inputs every tile of the group runs over the same RC x
 * (VW * GV) block of x, which stays in L1 (with one tile per pass over the inputs, each x line
 * came from L2 at every tile). ab (GG x RC floats) streams from L2 in order. One loop over r per
 * tile and the sums only loaded and stored around it: anything more and GCC kept the sums in
 * memory. */
#define DEFINE_ATB(NAME, TARGET, VW, GT, GV, RC, GG)                                                               \
    TARGET static void NAME(int ng, int ni_full, int n, const float *a, size_t lda, const float *x, size_t ldx,    \
                            float *c, size_t ldc)                                                                  \
    {                                                                                                              \
        typedef float vf __attribute__((vector_size(4 * (VW))));                                                   \
        enum { W = (VW) * (GV), TILES = (GG) / (GT) };                                                             \
        float ab[TILES][RC][GT];                                                                                   \
        float xb[RC][W] __attribute__((aligned(64)));                                                              \
        for (int r0 = 0; r0 < n; r0 += (RC)) {                                                                     \
            const int nr = n - r0 < (RC) ? n - r0 : (RC);                                                          \
            for (int q0 = 0; q0 < ng; q0 += (GG)) {                                                                \
                const int nt = (ng - q0 + (GT) - 1) / (GT) < TILES ? (ng - q0 + (GT) - 1) / (GT) : TILES;          \
                for (int r = 0; r < nr; r++) {                                                                     \
                    const float *ar = a + (size_t)(r0 + r) * lda + (size_t)q0;                                     \
                    for (int t = 0; t < nt; t++)                                                                   \
                        for (int l = 0; l < (GT); l++) {                                                           \
                            const int g = t * (GT) + l;                                                            \
                            ab[t][r][l] = ar[q0 + g < ng ? g : t * (GT)];                                          \
                        }                                                                                          \
                }                                                                                                  \
                /* the next group's (or next chunk's first group's) gradients and sums, prefetched     \
                 * into L2 a share per block of inputs: both come from L3 or memory (c is 4 MiB at     \
                 * 2048 x 512 and swept once per chunk, a's rows are a window's gradients) */          \
                const int nq = q0 + (GG) < ng ? q0 + (GG) : 0, nr0 = nq ? r0 : r0 + (RC);                   \
                const int ngr = ng - nq < (GG) ? ng - nq : (GG), nnr = nr0 < n ? (n - nr0 < (RC) ? n - nr0 : (RC)) : 0; \
                const int blocks = ni_full / W > 0 ? ni_full / W : 1;                                      \
                const int a_share = (nnr + blocks - 1) / blocks;                                           \
                for (int i0 = 0, ib = 0; i0 < ni_full; i0 += W, ib++) {                                            \
                    if (nnr > 0) {                                                                                 \
                        for (int g = 0; g < ngr; g++)                                                              \
                            for (int v = 0; v < W; v += 16)                                                        \
                                __builtin_prefetch(c + (size_t)(nq + g) * ldc + (size_t)(i0 + v), 1, 2);           \
                        for (int r = ib * a_share; r < (ib + 1) * a_share && r < nnr; r++)                         \
                            for (int g = 0; g < ngr; g += 16)                                                      \
                                __builtin_prefetch(a + (size_t)(nr0 + r) * lda + (size_t)(nq + g), 0, 2);          \
                    }                                                                                              \
                    for (int r = 0; r < nr; r++)                                                                   \
                        memcpy(xb[r], x + (size_t)(r0 + r) * ldx + (size_t)i0, sizeof xb[r]);                      \
                    for (int t = 0; t < nt; t++) {                                                                 \
                        const int g0 = q0 + t * (GT), rows = ng - g0 < (GT) ? ng - g0 : (GT);                      \
                        vf acc[GT][GV];                                                                            \
                        for (int l = 0; l < (GT); l++)                                                             \
                            for (int v = 0; v < (GV); v++)                                                         \
                                memcpy(&acc[l][v], c + (size_t)(g0 + (l < rows ? l : 0)) * ldc + (size_t)(i0 + v * (VW)), \
                                       sizeof acc[l][v]);                                                          \
                        const float *xr = xb[0];                                                                   \
                        const float *abt = &ab[t][0][0];                                                           \
                        UNROLL for (int r = 0; r < nr; r++, xr += W, abt += (GT)) {                                \
                            vf xv[GV];                                                                             \
                            for (int v = 0; v < (GV); v++) memcpy(&xv[v], xr + v * (VW), sizeof xv[v]);            \
                            for (int l = 0; l < (GT); l++)                                                         \
                                for (int v = 0; v < (GV); v++) acc[l][v] += xv[v] * abt[l];                        \
                        }                                                                                          \
                        for (int l = 0; l < rows; l++)                                                             \
                            for (int v = 0; v < (GV); v++)                                                         \
                                memcpy(c + (size_t)(g0 + l) * ldc + (size_t)(i0 + v * (VW)), &acc[l][v], sizeof acc[l][v]); \
                    }                                                                                              \
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
/* On the stack: ab 24 KiB and the x block 32 KiB (AVX-512: 128 rows x 64 inputs), 8 KiB (AVX2)
 * or 4 KiB (baseline). */
DEFINE_ATB(atb_avx512, __attribute__((target("avx512f") CONTRACT)), 16, 6, 4, 128, 48)
DEFINE_ATB(atb_avx2, __attribute__((target("avx2,fma") CONTRACT)), 8, 6, 2, 128, 48)
#endif
DEFINE_ATB(atb_base, , 4, 4, 2, 128, 48)

void mrnn__atb(int isa, int ng, int ni, int n, const float *a, size_t lda, const float *x, size_t ldx, float *c,
               size_t ldc)
{
    if (ng <= 0 || ni <= 0 || n <= 0) return;
    if (isa > mrnn__packed_best_isa()) isa = mrnn__packed_best_isa();
    /* Whole tiles of the widest kernel, then of the narrower ones for the inputs left over (a
     * layer of 100 inputs: 64 + 32 + 0 + 4), so that no width falls to the plain loop. */
    int done = 0;
    /* A width with no whole tile is skipped, not called with none: its gathering of a's gates ran
     * anyway (7 % of a training step at 512 inputs, where only the widest one has work). */
#ifdef HAVE_X86_VARIANTS
    if (isa == MRNN__ISA_AVX512) {
        const int w = (ni - done) / 64 * 64;
        if (w > 0) atb_avx512(ng, w, n, a, lda, x, ldx, c, ldc);
        done += w;
    }
    if (isa >= MRNN__ISA_AVX2) {
        const int w = (ni - done) / 16 * 16;
        if (w > 0) atb_avx2(ng, w, n, a, lda, x + done, ldx, c + done, ldc);
        done += w;
    }
#endif
    const int w = (ni - done) / 8 * 8;
    if (w > 0) atb_base(ng, w, n, a, lda, x + done, ldx, c + done, ldc);
    done += w;
    if (done < ni) tail(ng, ni - done, n, a, lda, x + done, ldx, c + done, ldc);
}
