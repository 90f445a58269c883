/* The packed matrix (packed.h): packing, and the product of rows by a packed matrix.
 *
 * Layout of a packed matrix: outputs in panels of PANEL columns; panel p holds rows k = 0..n_in-1
 * of columns p*PANEL .. p*PANEL+PANEL-1 contiguously (zero-padded past n_out). A panel of a 2x512
 * layer is 192 KiB in float: it stays in L2 while every block of lanes walks down it, so the
 * weights come from memory once per step whatever the lane count.
 *
 * The kernel here is written once with GCC/Clang vector extensions and compiled for two vector
 * widths: AVX-512 (16 floats) and the baseline (4, SSE2 or NEON). AVX2+FMA has a kernel of its own
 * (packed_avx2.c, tiled for its 16 registers). Each matrix names the kernel its products use
 * (m->isa: the CPU's widest, or what its owner's compute context chose). Each tile keeps LB lanes x
 * GV vectors of outputs in registers and does, per input k, GV weight loads, LB broadcasts and
 * LB*GV multiply-adds. */
#include <string.h>

#include "packed.h"
#include "packed_kernels.h"
#include "team.h"

#define PANEL MRNN__PANEL

uint16_t mrnn__bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN stays a (quiet) NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                           /* nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float mrnn__bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static size_t padded(int n_out)
{
    return ((size_t)n_out + PANEL - 1) / PANEL * PANEL;
}

size_t mrnn__packed_floats(int n_in, int n_out)
{
    return (size_t)n_in * padded(n_out);
}

/* The first n sums of a tile, added to output row yr or written over it. */
static inline void store_tile_sums(float *yr, const float *tile, int n, int add)
{
    if (add)
        for (int j = 0; j < n; j++) yr[j] += tile[j];
    else
        memcpy(yr, tile, (size_t)n * sizeof *yr);
}

/* Element (k, g) of the transposed matrix comes from src_rows[g][k]: two row-major sources stacked
 * along k (a layer's W_ih then W_hh) or one (b == NULL). */
void mrnn__pack_stacked(mrnn__packed *m, void *dst, int bf16, const float *a, int ka, const float *b, int kb,
                        int n_out)
{
    const int K = ka + kb;
    const size_t panel = (size_t)K * PANEL;
    float *f = bf16 ? NULL : dst;
    uint16_t *h = bf16 ? dst : NULL;
    for (size_t p = 0; p < padded(n_out) / PANEL; p++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < PANEL; j++) {
                size_t g = p * PANEL + (size_t)j, at = p * panel + (size_t)k * PANEL + (size_t)j;
                float v = 0.0f;
                if (g < (size_t)n_out) v = k < ka ? a[g * (size_t)ka + (size_t)k] : b[g * (size_t)kb + (size_t)(k - ka)];
                if (bf16)
                    h[at] = mrnn__bf16_from_float(v);
                else
                    f[at] = v;
            }
    m->n_in = K;
    m->n_out = n_out;
    m->f32 = f;
    m->bf16 = h;
    m->isa = mrnn__packed_best_isa();
}

void mrnn__pack(mrnn__packed *m, float *dst, const float *src, int n_in, int n_out, int src_is_w)
{
    if (src_is_w) {
        mrnn__pack_stacked(m, dst, 0, src, n_in, NULL, 0, n_out);
        return;
    }
    /* src [n_in x n_out]: each panel row is a contiguous run of a source row */
    const size_t panel = (size_t)n_in * PANEL;
    for (size_t p = 0; p < padded(n_out) / PANEL; p++) {
        const size_t g0 = p * PANEL, n = (size_t)n_out - g0 < PANEL ? (size_t)n_out - g0 : PANEL;
        for (int k = 0; k < n_in; k++) {
            float *row = dst + p * panel + (size_t)k * PANEL;
            memcpy(row, src + (size_t)k * (size_t)n_out + g0, n * sizeof *row);
            if (n < PANEL) memset(row + n, 0, (PANEL - n) * sizeof *row);
        }
    }
    m->n_in = n_in;
    m->n_out = n_out;
    m->f32 = dst;
    m->bf16 = NULL;
    m->isa = mrnn__packed_best_isa();
}

/* GCC contracts a*b+c into an FMA only with fp-contract=fast (ISO C mode turns it off); Clang
 * contracts within an expression by default and has no such attribute. */
#if defined(__clang__) || !defined(__GNUC__)
#define CONTRACT
#else
#define CONTRACT , optimize("fp-contract=fast")
#endif

/* BLIS-style blocking: rows in blocks of TPB tiles of LB rows, inputs in blocks of KB. For each
 * pair, the block's inputs are packed once, tile by tile and input-major (the LB broadcasts of an
 * input then read one line instead of LB rows 2-8 KiB apart), and every strip of the panels runs
 * over them, its KB x (VW * GV) weights (contiguous in the panel) serving every tile of the block
 * from L1. The partial sums go to y between input blocks. Each row sums its inputs in the same
 * order whatever its tile or block of rows, so a row's result does not depend on how the rows of
 * a product are split among threads. */
#define DEFINE_KERNEL(NAME, TARGET, VW, LB, GV, KB, TPB, WIDEN)                                                    \
    TARGET static void NAME(const mrnn__packed *m, int gb, int ge, int B, const float *x, size_t ldx,        \
                            float *y, size_t ldy, int add)                                                         \
    {                                                                                                              \
        typedef float vf __attribute__((vector_size(4 * (VW))));                                                   \
        typedef int32_t vi __attribute__((vector_size(4 * (VW)), unused));                                         \
        typedef uint16_t vh __attribute__((vector_size(2 * (VW)), unused));                                        \
        enum { W = (VW) * (GV), RB = (LB) * (TPB) };                                                               \
        const int K = m->n_in, N = ge < m->n_out ? ge : m->n_out;                                                  \
        const size_t panel = (size_t)K * PANEL;                                                                    \
        float xp[RB * (KB)] __attribute__((aligned(64)));                                                          \
        for (int r0 = 0; r0 < B; r0 += RB) {                                                                       \
            const int r1 = B - r0 < RB ? B : r0 + RB, tiles = (r1 - r0 + (LB) - 1) / (LB);                         \
            for (int k0 = 0; k0 < K; k0 += (KB)) {                                                                 \
                const int kn = K - k0 < (KB) ? K - k0 : (KB), to_add = add || k0 > 0;                              \
                for (int t = 0; t < tiles; t++) {                                                                  \
                    const int b0 = r0 + t * (LB);                                                                  \
                    float *dst = xp + (size_t)t * (LB) * (size_t)kn;                                               \
                    for (int l = 0; l < (LB); l++) {                                                               \
                        const float *src = x + (size_t)(b0 + l < r1 ? b0 + l : b0) * ldx + (size_t)k0;             \
                        for (int k = 0; k < kn; k++) dst[k * (LB) + l] = src[k];                                   \
                    }                                                                                              \
                }                                                                                                  \
                for (int g0 = gb; g0 < N; g0 += PANEL) {                                                           \
                    const size_t pbase = (size_t)(g0 / PANEL) * panel + (size_t)k0 * PANEL;                        \
                    for (int s = 0; s < PANEL && g0 + s < N; s += W) {                                             \
                        const int n = N - g0 - s < W ? N - g0 - s : W;                                             \
                        /* the block of weights after this one, prefetched into L2 a share per tile */             \
                        /* and the outputs that block's tiles will add to (from L3 otherwise: the weights  \
                         * streaming through L2 evicted them since the previous block of inputs) */        \
                        size_t nat = pbase + (size_t)s + W;                                                        \
                        int nkn = kn, ncol = g0 + s + W, nadd = to_add;                                            \
                        if (s + W >= PANEL || g0 + s + W >= N) {                                                   \
                            if (g0 + PANEL < N) {                                                                  \
                                nat = pbase + panel;                                                               \
                                ncol = g0 + PANEL;                                                                 \
                            } else {                                                                               \
                                const int k2 = k0 + (KB) < K ? k0 + (KB) : 0;                                      \
                                nat = (size_t)(gb / PANEL) * panel + (size_t)k2 * PANEL;                           \
                                nkn = K - k2 < (KB) ? K - k2 : (KB);                                               \
                                ncol = gb;                                                                         \
                                nadd = k2 > 0;                                                                     \
                            }                                                                                      \
                        }                                                                                          \
                        const int per_tile = (nkn + tiles - 1) / tiles;                                            \
                        for (int t = 0; t < tiles; t++) {                                                          \
                            const int b0 = r0 + t * (LB);                                                          \
                            const float *xt = xp + (size_t)t * (LB) * (size_t)kn;                                  \
                            for (int k = t * per_tile; k < (t + 1) * per_tile && k < nkn; k++) {                   \
                                const size_t e = nat + (size_t)k * PANEL;                                          \
                                const char *p = m->bf16 ? (const char *)(m->bf16 + e) : (const char *)(m->f32 + e); \
                                const size_t bytes = (size_t)W * (m->bf16 ? 2u : 4u);                              \
                                for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 2);            \
                            }                                                                                      \
                            for (int l = 0; nadd && l < (LB) && b0 + l < r1; l++)                                  \
                                for (int v = 0; v < W && ncol + v < N; v += 16)                                    \
                                    __builtin_prefetch(y + (size_t)(b0 + l) * ldy + (size_t)(ncol + v), 1, 2);     \
                            vf acc[LB][GV];                                                                        \
                            memset(acc, 0, sizeof acc);                                                            \
                            if (m->bf16) {                                                                         \
                                const uint16_t *w = m->bf16 + pbase + (size_t)s;                                   \
                                for (int k = 0; k < kn; k++, w += PANEL, xt += (LB)) {                             \
                                    vf wv[GV];                                                                     \
                                    for (int v = 0; v < (GV); v++) WIDEN(wv[v], w + v * (VW));                     \
                                    for (int l = 0; l < (LB); l++)                                                 \
                                        for (int v = 0; v < (GV); v++) acc[l][v] += wv[v] * xt[l];                 \
                                }                                                                                  \
                            } else {                                                                               \
                                const float *w = m->f32 + pbase + (size_t)s;                                       \
                                for (int k = 0; k < kn; k++, w += PANEL, xt += (LB)) {                             \
                                    vf wv[GV];                                                                     \
                                    for (int v = 0; v < (GV); v++) memcpy(&wv[v], w + v * (VW), sizeof wv[v]);     \
                                    for (int l = 0; l < (LB); l++)                                                 \
                                        for (int v = 0; v < (GV); v++) acc[l][v] += wv[v] * xt[l];                 \
                                }                                                                                  \
                            }                                                                                      \
                            for (int l = 0; l < (LB) && b0 + l < r1; l++) {                                        \
                                float *yr = y + (size_t)(b0 + l) * ldy + (size_t)(g0 + s);                         \
                                if (n == W) {                                                                      \
                                    for (int v = 0; v < (GV); v++) {                                               \
                                        vf o = acc[l][v];                                                          \
                                        if (to_add) {                                                              \
                                            vf p;                                                                  \
                                            memcpy(&p, yr + v * (VW), sizeof p);                                   \
                                            o += p;                                                                \
                                        }                                                                          \
                                        memcpy(yr + v * (VW), &o, sizeof o);                                       \
                                    }                                                                              \
                                    continue;                                                                      \
                                }                                                                                  \
                                float tile[W];                                                                     \
                                memcpy(tile, acc[l], sizeof tile);                                                 \
                                store_tile_sums(yr, tile, n, to_add);                                              \
                            }                                                                                      \
                        }                                                                                          \
                    }                                                                                              \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    }

/* One row (batch-1 sampling): no blocking. Each weight is used once, so the product streams the
 * panels from memory or L3 and is bound by bandwidth; with the blocks above it walked every panel
 * once per block of inputs and took 16 % more CPU time per token. Its sums (all inputs in order)
 * differ in rounding from the blocked kernel's, as the AVX2 kernel's one row always did.
 *
 * Two panels at a time (NP = 2 where a second one is left): the 2 GV sums of a strip and of the
 * same strip of the next panel are independent chains, where GV alone were too few to cover the
 * multiply-add latency once the weights come from L2 (bf16 weights in L2 ran at a third of its
 * bandwidth). Each sum still adds its inputs in order, so the result is the same either way. */
#define DEFINE_ONE_ROW(NAME, TARGET, VW, GV)                                                                       \
    typedef float NAME##_vf __attribute__((vector_size(4 * (VW))));                                                \
    /* acc[q][v] = the strip of panel q (q < NP) at `at` times x; bf16: acc[q][2u], acc[q][2u + 1] are the even \
     * and odd columns of the 2 VW at u, interleaved before returning */                                          \
    TARGET static inline __attribute__((always_inline)) void NAME##_strips(                                         \
        const mrnn__packed *m, size_t at, size_t panel, int NP, const float *x, NAME##_vf acc[2][GV])              \
    {                                                                                                              \
        typedef NAME##_vf vf;                                                                                      \
        typedef uint32_t vu __attribute__((vector_size(4 * (VW))));                                                \
        const int K = m->n_in;                                                                                     \
        memset(acc, 0, 2 * sizeof *acc);                                                                           \
        if (m->bf16) {                                                                                             \
            const uint16_t *w = m->bf16 + at;                                                                      \
            for (int k = 0; k < K; k++, w += PANEL) {                                                              \
                const float xs = x[k];                                                                             \
                for (int q = 0; q < NP; q++)                                                                       \
                    for (int u = 0; u < (GV) / 2; u++) {                                                           \
                        vf e, o;                                                                                   \
                        WIDEN_PAIRS(e, o, w + (size_t)q * panel + (size_t)u * 2 * (VW));                           \
                        acc[q][2 * u] += e * xs;                                                                   \
                        acc[q][2 * u + 1] += o * xs;                                                               \
                    }                                                                                              \
            }                                                                                                      \
            for (int q = 0; q < NP; q++)                                                                           \
                for (int u = 0; u < (GV) / 2; u++) {                                                               \
                    vf e = acc[q][2 * u], o = acc[q][2 * u + 1];                                                   \
                    for (int i = 0; i < (VW); i++) {                                                               \
                        acc[q][2 * u + 2 * i / (VW)][2 * i % (VW)] = e[i];                                         \
                        acc[q][2 * u + (2 * i + 1) / (VW)][(2 * i + 1) % (VW)] = o[i];                             \
                    }                                                                                              \
                }                                                                                                  \
        } else {                                                                                                   \
            const float *w = m->f32 + at;                                                                          \
            for (int k = 0; k < K; k++, w += PANEL) {                                                              \
                const float xs = x[k];                                                                             \
                for (int q = 0; q < NP; q++)                                                                       \
                    for (int v = 0; v < (GV); v++) {                                                               \
                        vf wv;                                                                                     \
                        memcpy(&wv, w + (size_t)q * panel + (size_t)v * (VW), sizeof wv);                          \
                        acc[q][v] += wv * xs;                                                                      \
                    }                                                                                              \
            }                                                                                                      \
        }                                                                                                          \
    }                                                                                                              \
    TARGET static void NAME(const mrnn__packed *m, int gb, int ge, int B, const float *x, size_t ldx,            \
                            float *y, size_t ldy, int add)                                                         \
    {                                                                                                              \
        const int N = ge < m->n_out ? ge : m->n_out;                                                               \
        const size_t panel = (size_t)m->n_in * PANEL;                                                              \
        for (int b = 0; b < B; b++) {                                                                              \
            const float *xr = x + (size_t)b * ldx;                                                                 \
            float *yr = y + (size_t)b * ldy;                                                                       \
            for (int g0 = gb; g0 < N; g0 += 2 * PANEL) {                                                           \
                const int two = g0 + PANEL < N;                                                                    \
                for (int s = 0; s < PANEL && g0 + s < N; s += (VW) * (GV)) {                                       \
                    NAME##_vf acc[2][GV];                                                                          \
                    const size_t at = (size_t)(g0 / PANEL) * panel + (size_t)s;                                    \
                    if (two)                                                                                       \
                        NAME##_strips(m, at, panel, 2, xr, acc);                                                   \
                    else                                                                                           \
                        NAME##_strips(m, at, panel, 1, xr, acc);                                                   \
                    for (int q = 0; q < 1 + two; q++) {                                                            \
                        const int c0 = g0 + q * PANEL + s;                                                         \
                        if (c0 >= N) break;                                                                        \
                        float tile[(VW) * (GV)];                                                                   \
                        memcpy(tile, acc[q], sizeof tile);                                                         \
                        store_tile_sums(yr + c0, tile, N - c0 < (VW) * (GV) ? N - c0 : (VW) * (GV), add);          \
                    }                                                                                              \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    }

/* 2 VW bf16 weights -> the floats of the even and of the odd columns: read as VW 32-bit lanes,
 * each holding an (even, odd) pair, the even weight is the lane shifted up 16 bits and the odd one
 * the lane with its low half cleared. Two operations per 2 VW weights, where widening each half
 * (zero-extend, shift) took four: the one-row product is port-bound on them when the weights are
 * in L2. The sums stay exact and in order; the kernel interleaves them back at the end. */
#define WIDEN_PAIRS(even, odd, src)                                                                                \
    do {                                                                                                           \
        vu p_;                                                                                                     \
        memcpy(&p_, (src), sizeof p_);                                                                             \
        (even) = (vf)(p_ << 16);                                                                                   \
        (odd) = (vf)(p_ & 0xffff0000u);                                                                            \
    } while (0)

/* bf16 -> float for VW weights: the 16-bit pattern becomes the high half of a float. */
#define WIDEN_GENERIC(dst, src)                                                                                    \
    do {                                                                                                           \
        vh h_;                                                                                                     \
        memcpy(&h_, (src), sizeof h_);                                                                             \
        (dst) = (vf)(__builtin_convertvector(h_, vi) << 16);                                                       \
    } while (0)

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_VARIANTS 1
#include <immintrin.h>
/* GCC splits the generic widening into halves and merges them (six instructions per vector where
 * one vpmovzxwd and a shift do): with it, bf16 weights were slower than float ones. */
#define WIDEN_AVX512(dst, src)                                                                                     \
    ((dst) = (vf)_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(src))), 16))
/* Tiles of 6 rows x 64 columns: 24 sums, 4 weight vectors and a broadcast in the 32 registers, 4
 * weight loads and 6 broadcasts per 24 multiply-adds; blocks of 128 inputs (32 KiB of weights, in
 * L1: without blocking, a panel of 512 inputs came from L2 at every tile, 32 bytes a cycle) and 96
 * rows (48 KiB of packed inputs on the stack). */
DEFINE_KERNEL(matmul_avx512_lanes, __attribute__((target("avx512f") CONTRACT)), 16, 6, 4, 128, 16, WIDEN_AVX512)
DEFINE_ONE_ROW(matmul_avx512_one, __attribute__((target("avx512f") CONTRACT)), 16, 4)
#endif
DEFINE_KERNEL(matmul_base_lanes, , 4, 2, 4, 256, 16, WIDEN_GENERIC)
DEFINE_ONE_ROW(matmul_base_one, , 4, 4)

typedef void (*matmul_fn)(const mrnn__packed *, int, int, int, const float *, size_t, float *, size_t, int);

int mrnn__packed_best_isa(void)
{
#ifdef HAVE_X86_VARIANTS
    /* __builtin_cpu_supports reads a table filled once at start-up: cheap enough per call. */
    if (__builtin_cpu_supports("avx512f")) return MRNN__ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MRNN__ISA_AVX2;
#endif
    return MRNN__ISA_BASE;
}

int mrnn__packed_panel_cols(void)
{
    return PANEL;
}

void mrnn__packed_matmul_isa(int isa, const mrnn__packed *m, int B, const float *x, size_t ldx, float *y,
                            size_t ldy)
{
    mrnn__packed_matmul_cols(isa, m, 0, m->n_out, B, x, ldx, y, ldy, 1);
}

void mrnn__packed_matmul_cols(int isa, const mrnn__packed *m, int g_begin, int g_end, int B, const float *x,
                             size_t ldx, float *y, size_t ldy, int add)
{
    matmul_fn one = matmul_base_one, lanes = matmul_base_lanes;
#ifdef HAVE_X86_VARIANTS
    if (isa > mrnn__packed_best_isa()) isa = mrnn__packed_best_isa(); /* never an instruction the CPU lacks */
    if (isa == MRNN__ISA_AVX512) {
        one = matmul_avx512_one;
        lanes = matmul_avx512_lanes;
    } else if (isa == MRNN__ISA_AVX2) {
        mrnn__packed_avx2_cols(m, g_begin, g_end, B, x, ldx, y, ldy, add);
        return;
    }
#else
    (void)isa;
#endif
    (B == 1 ? one : lanes)(m, g_begin, g_end, B, x, ldx, y, ldy, add);
}

void mrnn__packed_matmul(const mrnn__packed *m, int B, const float *x, size_t ldx, float *y, size_t ldy)
{
    mrnn__packed_matmul_isa(m->isa, m, B, x, ldx, y, ldy);
}

void mrnn__packed_matmul_set(const mrnn__packed *m, int B, const float *x, size_t ldx, float *y, size_t ldy)
{
    mrnn__packed_matmul_cols(m->isa, m, 0, m->n_out, B, x, ldx, y, ldy, 0);
}

/* Below this many weights a product is too short to be worth waking the helpers. */
#define MIN_SPLIT_WEIGHTS (64 * 1024)

typedef struct split_product {
    const mrnn__packed *m;
    int isa, B;
    const float *x;
    size_t ldx, ldy;
    float *y;
} split_product;

static void product_part(void *ctx, int part, int n_parts)
{
    const split_product *j = ctx;
    size_t g0, g1;
    mrnn__team_range((size_t)j->m->n_out, PANEL, part, n_parts, &g0, &g1);
    if (g1 > g0) mrnn__packed_matmul_cols(j->isa, j->m, (int)g0, (int)g1, j->B, j->x, j->ldx, j->y, j->ldy, 1);
}

int mrnn__packed_worth_splitting(const mrnn__packed *m)
{
    return (long)m->n_in * m->n_out >= MIN_SPLIT_WEIGHTS && m->n_out > PANEL;
}

void mrnn__packed_matmul_team(mrnn__team *t, const mrnn__packed *m, int B, const float *x, size_t ldx, float *y,
                             size_t ldy)
{
    split_product j = {m, m->isa, B, x, ldx, ldy, y};
    mrnn__team_run(mrnn__packed_worth_splitting(m) ? t : NULL, product_part, &j);
}
