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
/* The k loop of a tile unrolled: its pointer updates and branch otherwise take issue slots of the
 * ports the FMAs run on, once per 12 FMAs. */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll_count(4)")
#else
#define UNROLL _Pragma("GCC unroll 4")
#endif


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
        float *yr = y + (size_t)l * ldy;
        if (n == 16) { /* a whole strip: straight from the registers (memcpy was a libc call) */
            __m256 lo = acc[2 * l], hi = acc[2 * l + 1];
            if (add) {
                lo = _mm256_add_ps(lo, _mm256_loadu_ps(yr));
                hi = _mm256_add_ps(hi, _mm256_loadu_ps(yr + 8));
            }
            _mm256_storeu_ps(yr, lo);
            _mm256_storeu_ps(yr + 8, hi);
            continue;
        }
        float t[16];
        _mm256_storeu_ps(t, acc[2 * l]);
        _mm256_storeu_ps(t + 8, acc[2 * l + 1]);
        if (add)
            for (int j = 0; j < n; j++) yr[j] += t[j];
        else
            memcpy(yr, t, (size_t)n * sizeof *yr);
    }
}

/* R rows x 16 columns over K inputs: w the strip's weights (16 floats a row, copied contiguous by
 * row_block, bf16 already widened), xp the tile's rows packed input-major (6 floats an input, a
 * missing row a copy of row 0, not stored). The sums are named variables, not an array: with an
 * array GCC kept a memory copy of every sum up to date on each k (12 stores per 12 FMAs),
 * whatever the unrolling. Rows past R are dead code. */
#define ROW2(l)                                                                                                    \
    if ((l) < R) {                                                                                                 \
        const __m256 b = _mm256_broadcast_ss(xp + (l));                                                           \
        a##l##0 = _mm256_fmadd_ps(w0, b, a##l##0);                                                                 \
        a##l##1 = _mm256_fmadd_ps(w1, b, a##l##1);                                                                 \
    }
#define DEFINE_TILE(NAME, R_)                                                                                      \
    TARGET static void NAME(const float *w, int K, const float *xp, float *y, size_t ldy, int rows, int n, int add) \
    {                                                                                                              \
        enum { R = (R_) };                                                                                         \
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,       \
               a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;                                              \
        UNROLL for (int k = 0; k < K; k++, w += 16, xp += 6) {                                                     \
            const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);                                      \
            ROW2(0) ROW2(1) ROW2(2) ROW2(3) ROW2(4) ROW2(5)                                                        \
        }                                                                                                          \
        const __m256 done[12] = {a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51};                      \
        store_tile(y, ldy, rows, n, add, done);                                                                    \
    }

DEFINE_TILE(tile6, 6)
DEFINE_TILE(tile4, 4)
DEFINE_TILE(tile2, 2)

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

/* Inputs per block (a strip's block of weights: 8 KiB) and rows per block (their inputs packed:
 * 36 KiB); both on the stack, 44 KiB in all. */
#define KC 128
#define MB 72

/* Lines [l0, l1) of a block of weights (one 64-byte line per input in float, half a line in
 * bf16, from element at) prefetched into L2. */
TARGET static inline void prefetch_block(const mrnn__packed *m, size_t at, int l0, int l1)
{
    for (int k = l0; k < l1; k++) {
        const char *p = m->bf16 ? (const char *)(m->bf16 + at + (size_t)k * MRNN__PANEL)
                                : (const char *)(m->f32 + at + (size_t)k * MRNN__PANEL);
        _mm_prefetch(p, _MM_HINT_T1);
    }
}

/* Rows [r0, r1) (at most MB) of the product over the output columns [gb, N), BLIS-style: for
 * each block of KC inputs, the rows' inputs are packed once, tile by tile, input-major (the six
 * broadcasts of an input then read one line, not six rows 2-8 KiB apart), and every strip of 16
 * columns is copied into a contiguous block (in the panel its rows are 256 bytes apart and fall
 * in a quarter of L1's sets, so the strip did not stay in L1 across the row tiles; bf16 is widened
 * on the way). The copy read one line in four of the panel, a stride the hardware prefetchers did
 * not follow (it waited on L3 at every line: 15 % of a training step on this path), so while the
 * tiles run over one block each tile prefetches its share of the next block's lines into L2, and
 * the outputs its counterpart in the next strip will add to. */
TARGET static void row_block(const mrnn__packed *m, int gb, int N, int r0, int r1, const float *x, size_t ldx,
                             float *y, size_t ldy, int add)
{
    const int K = m->n_in, tiles = (r1 - r0 + 5) / 6;
    const size_t panel = (size_t)K * MRNN__PANEL;
    float wc[KC * 16] __attribute__((aligned(32)));
    float xp[MB * KC] __attribute__((aligned(32)));
    for (int k0 = 0; k0 < K; k0 += KC) {
        const int kn = K - k0 < KC ? K - k0 : KC, acc = add || k0 > 0;
        for (int t = 0; t < tiles; t++) {
            const int b0 = r0 + 6 * t, rows = r1 - b0 < 6 ? r1 - b0 : 6;
            float *dst = xp + (size_t)t * 6 * (size_t)kn;
            for (int l = 0; l < 6; l++) {
                const float *src = x + (size_t)(b0 + (l < rows ? l : 0)) * ldx + (size_t)k0;
                for (int k = 0; k < kn; k++) dst[6 * k + l] = src[k];
            }
        }
        for (int g0 = gb; g0 < N; g0 += MRNN__PANEL) {
            const size_t pbase = (size_t)(g0 / MRNN__PANEL) * panel + (size_t)k0 * MRNN__PANEL;
            for (int s = 0; s < MRNN__PANEL && g0 + s < N; s += 16) {
                const int n = N - g0 - s < 16 ? N - g0 - s : 16;
                const size_t at = pbase + (size_t)s;
                /* the next block: the next strip of this panel, else the next panel's first, else
                 * the first panel's next inputs */
                int nkn = kn, ncol = g0 + s + 16, nadd = acc;
                size_t nat = at + 16;
                if (s + 16 >= MRNN__PANEL || g0 + s + 16 >= N) {
                    if (g0 + MRNN__PANEL < N) {
                        nat = pbase + panel;
                        ncol = g0 + MRNN__PANEL;
                    } else {
                        nat = (size_t)(gb / MRNN__PANEL) * panel + (size_t)(k0 + KC) * MRNN__PANEL;
                        nkn = K - k0 - KC < KC ? K - k0 - KC : KC;
                        ncol = gb;
                        nadd = nkn > 0;
                    }
                }
                const int per_tile = nkn > 0 ? (nkn + tiles - 1) / tiles : 0;
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
                for (int t = 0; t < tiles; t++) {
                    const int b0 = r0 + 6 * t, rows = r1 - b0 < 6 ? r1 - b0 : 6;
                    const int l0 = t * per_tile, l1 = l0 + per_tile < nkn ? l0 + per_tile : nkn;
                    if (l1 > l0) prefetch_block(m, nat, l0, l1);
                    /* the outputs the next strip's tile adds to (evicted from L2 by the weights) */
                    for (int l = 0; nadd && ncol < N && l < rows; l++)
                        _mm_prefetch((const char *)(y + (size_t)(b0 + l) * ldy + (size_t)ncol), _MM_HINT_T1);
                    const float *xt = xp + (size_t)t * 6 * (size_t)kn;
                    float *yt = y + (size_t)b0 * ldy + (size_t)(g0 + s);
                    (rows > 4 ? tile6 : rows > 2 ? tile4 : tile2)(wc, kn, xt, yt, ldy, rows, n, acc);
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
    for (int r0 = 0; r0 < B; r0 += MB) row_block(m, gb, N, r0, B - r0 < MB ? B : r0 + MB, x, ldx, y, ldy, add);
}

#else
/* No x86: packed.c never selects this kernel; ISO C wants a declaration in every file. */
typedef int mrnn__packed_avx2_absent;
#endif
