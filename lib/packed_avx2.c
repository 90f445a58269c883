/* The AVX2 + FMA kernel of the packed product (packed_kernels.h), written for 16 YMM registers.
 *
 * Why its own tile and not the AVX-512 one at half width: with 16 registers the tile that keeps
 * both FMA units busy is 6 rows x 16 columns: 12 accumulators, 2 weight vectors and 1 broadcast
 * (15 registers, none spilled). Per input k it does 2 weight loads, 6 broadcast loads and 12 FMAs,
 * so the loads (2 per cycle) never hold the FMAs back. The narrowed AVX-512 tile (4 rows x 2
 * vectors) kept 8 accumulators and did 6 loads per 8 FMAs: 8 chains of 4-cycle FMAs on 2 units is
 * just enough in theory, and it ran no faster than OpenBLAS.
 *
 * Rows left over below 6 go through tiles of 4 or 2 rows (a missing row re-reads row 0 of the tile
 * and is not stored), a single row through a 1 x 64 tile: 8 chains over a whole panel, as
 * sampling one lane streams each weight once and is bound by the loads. */
#include <string.h>

#include "packed_kernels.h"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))


/* Eight weights of row k at w (+ off), float or bf16 widened (the high half of a float). */
TARGET static inline __m256 load_f32(const float *w)
{
    return _mm256_loadu_ps(w);
}

TARGET static inline __m256 load_bf16(const uint16_t *w)
{
    __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)w));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}

/* The tile's sums into y: n (<= 16) columns of each of `rows` rows. */
TARGET static inline void store_tile(float *y, size_t ldy, int rows, int n, int add, const __m256 *acc)
{
    for (int l = 0; l < rows; l++) {
        float t[16];
        _mm256_storeu_ps(t, acc[2 * l]);
        _mm256_storeu_ps(t + 8, acc[2 * l + 1]);
        float *yr = y + (size_t)l * ldy;
        if (add)
            for (int j = 0; j < n; j++) yr[j] += t[j];
        else
            memcpy(yr, t, (size_t)n * sizeof *yr);
    }
}

/* R rows x 16 columns over all K inputs of one strip of a panel (w: its first weight). The sums
 * are named variables, not an array: with an array GCC kept a memory copy of every sum up to date
 * on each k (12 stores per 12 FMAs), whatever the unrolling. Rows past R are dead code. */
#define ROW2(l)                                                                                                    \
    if ((l) < R) {                                                                                                 \
        const __m256 b = _mm256_broadcast_ss(xr[l] + k);                                                           \
        a##l##0 = _mm256_fmadd_ps(w0, b, a##l##0);                                                                 \
        a##l##1 = _mm256_fmadd_ps(w1, b, a##l##1);                                                                 \
    }
#define DEFINE_TILE(NAME, R_, ELEM, LOAD, STRIDE)                                                                        \
    TARGET static void NAME(const ELEM *w, int K, const float *const *xr, float *y, size_t ldy, int rows, int n,  \
                            int add)                                                                               \
    {                                                                                                              \
        enum { R = (R_) };                                                                                         \
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,       \
               a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;                                              \
        for (int k = 0; k < K; k++, w += (STRIDE)) {                                                               \
            const __m256 w0 = LOAD(w), w1 = LOAD(w + 8);                                                           \
            ROW2(0) ROW2(1) ROW2(2) ROW2(3) ROW2(4) ROW2(5)                                                        \
        }                                                                                                          \
        const __m256 done[12] = {a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51};                      \
        store_tile(y, ldy, rows, n, add, done);                                                                    \
    }

/* Over a strip copied contiguous (16 floats a row, bf16 already widened: row_block). */
DEFINE_TILE(tile6_copy, 6, float, load_f32, 16)
DEFINE_TILE(tile4_copy, 4, float, load_f32, 16)
DEFINE_TILE(tile2_copy, 2, float, load_f32, 16)

/* One row x one whole panel (64 columns, 8 accumulators); n columns stored. */
#define DEFINE_ROW(NAME, ELEM, LOAD)                                                                               \
    TARGET static void NAME(const ELEM *w, int K, const float *x, float *y, int n, int add)                        \
    {                                                                                                              \
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;            \
        for (int k = 0; k < K; k++, w += MRNN__PANEL) {                                                            \
            const __m256 b = _mm256_broadcast_ss(x + k);                                                           \
            s0 = _mm256_fmadd_ps(LOAD(w), b, s0);                                                                  \
            s1 = _mm256_fmadd_ps(LOAD(w + 8), b, s1);                                                              \
            s2 = _mm256_fmadd_ps(LOAD(w + 16), b, s2);                                                             \
            s3 = _mm256_fmadd_ps(LOAD(w + 24), b, s3);                                                             \
            s4 = _mm256_fmadd_ps(LOAD(w + 32), b, s4);                                                             \
            s5 = _mm256_fmadd_ps(LOAD(w + 40), b, s5);                                                             \
            s6 = _mm256_fmadd_ps(LOAD(w + 48), b, s6);                                                             \
            s7 = _mm256_fmadd_ps(LOAD(w + 56), b, s7);                                                             \
        }                                                                                                          \
        float t[MRNN__PANEL];                                                                                      \
        _mm256_storeu_ps(t, s0);                                                                                   \
        _mm256_storeu_ps(t + 8, s1);                                                                               \
        _mm256_storeu_ps(t + 16, s2);                                                                              \
        _mm256_storeu_ps(t + 24, s3);                                                                              \
        _mm256_storeu_ps(t + 32, s4);                                                                              \
        _mm256_storeu_ps(t + 40, s5);                                                                              \
        _mm256_storeu_ps(t + 48, s6);                                                                              \
        _mm256_storeu_ps(t + 56, s7);                                                                              \
        if (add)                                                                                                   \
            for (int j = 0; j < n; j++) y[j] += t[j];                                                              \
        else                                                                                                       \
            memcpy(y, t, (size_t)n * sizeof *y);                                                                   \
    }

DEFINE_ROW(row_f32, float, load_f32)
DEFINE_ROW(row_bf16, uint16_t, load_bf16)

/* Rows [r0, r1) of the product over the output columns [gb, N). */
#define KC 256

/* Rows [r0, r1) of the product over the output columns [gb, N). Each strip of a panel is copied,
 * KC inputs at a time, into a contiguous block (16 KiB, bf16 widened): in the panel its rows are
 * 256 bytes apart and fall in a quarter of L1's sets, so the strip did not stay in L1 across the
 * row tiles and its weights came from L2 at every tile. Copied, it serves every tile of the
 * block from L1. */
TARGET static void row_block(const mrnn__packed *m, int gb, int N, int r0, int r1, const float *x, size_t ldx,
                             float *y, size_t ldy, int add)
{
    const int K = m->n_in;
    const size_t panel = (size_t)K * MRNN__PANEL;
    float wc[KC * 16] __attribute__((aligned(32)));
    for (int g0 = gb; g0 < N; g0 += MRNN__PANEL) {
        const size_t pbase = (size_t)(g0 / MRNN__PANEL) * panel;
        for (int s = 0; s < MRNN__PANEL && g0 + s < N; s += 16) {
            const int n = N - g0 - s < 16 ? N - g0 - s : 16;
            for (int k0 = 0; k0 < K; k0 += KC) {
                const int kn = K - k0 < KC ? K - k0 : KC, acc = add || k0 > 0;
                const size_t at = pbase + (size_t)k0 * MRNN__PANEL + (size_t)s;
                for (int k = 0; k < kn; k++) {
                    __m256 a, b;
                    if (m->bf16) {
                        a = load_bf16(m->bf16 + at + (size_t)k * MRNN__PANEL);
                        b = load_bf16(m->bf16 + at + (size_t)k * MRNN__PANEL + 8);
                    } else {
                        a = load_f32(m->f32 + at + (size_t)k * MRNN__PANEL);
                        b = load_f32(m->f32 + at + (size_t)k * MRNN__PANEL + 8);
                    }
                    _mm256_store_ps(wc + 16 * k, a);
                    _mm256_store_ps(wc + 16 * k + 8, b);
                }
                for (int b0 = r0; b0 < r1; b0 += 6) {
                    const int rows = r1 - b0 < 6 ? r1 - b0 : 6, tile = rows > 4 ? 6 : rows > 2 ? 4 : 2;
                    const float *xr[6];
                    for (int l = 0; l < 6; l++) xr[l] = x + (size_t)(b0 + (l < rows ? l : 0)) * ldx + (size_t)k0;
                    float *yt = y + (size_t)b0 * ldy + (size_t)(g0 + s);
                    (tile == 6 ? tile6_copy : tile == 4 ? tile4_copy : tile2_copy)(wc, kn, xr, yt, ldy, rows, n, acc);
                }
            }
        }
    }
}

void mrnn__packed_avx2_cols(const mrnn__packed *m, int gb, int ge, int B, const float *x, size_t ldx, float *y,
                            size_t ldy, int add)
{
    const int K = m->n_in, N = ge < m->n_out ? ge : m->n_out;
    if (B == 1) {
        for (int g0 = gb; g0 < N; g0 += MRNN__PANEL) {
            const size_t at = (size_t)(g0 / MRNN__PANEL) * (size_t)K * MRNN__PANEL;
            const int n = N - g0 < MRNN__PANEL ? N - g0 : MRNN__PANEL;
            if (m->bf16)
                row_bf16(m->bf16 + at, K, x, y + g0, n, add);
            else
                row_f32(m->f32 + at, K, x, y + g0, n, add);
        }
        return;
    }
    /* Blocks of rows whose x (about 192 KiB) stays in L2 while every panel passes: with all the
     * rows of a window per panel, x (16 MiB at 8192 x 512) came from memory once per panel. */
    int mb = (int)((192u * 1024u / sizeof(float)) / (size_t)(K > 0 ? K : 1)) / 6 * 6;
    if (mb < 12) mb = 12;
    for (int r0 = 0; r0 < B; r0 += mb) row_block(m, gb, N, r0, B - r0 < mb ? B : r0 + mb, x, ldx, y, ldy, add);
}

#else
/* No x86: packed.c never selects this kernel; ISO C wants a declaration in every file. */
typedef int mrnn__packed_avx2_absent;
#endif
