/* A packed matrix and the products that read it: the numeric ground floor under training and
 * sampling (it includes nothing of the library but team.h).
 *
 * Why: the products of this library multiply a few to a few thousand rows by a weight matrix that
 * changes far less often than the rows do. OpenBLAS repacks the weight operand inside every sgemm
 * (half of a 16-lane sampling step went into that copy), and its sgemm with one row is several
 * times slower than sgemv. A packed matrix is stored once, transposed ([inputs x outputs], output
 * index fastest) in panels of mrnn__packed_panel_cols() columns, so that one pass over it serves
 * every row with vector FMAs and no repacking.
 *
 * A packed matrix is float or bfloat16 (the high half of each float, rounded to nearest even):
 * half the bytes to stream, products still accumulated in float. Sampling keeps its copy of the
 * weights in this form (infer_weights.h); training packs its weights once per forward and once per
 * backward (network.c). */
#ifndef MRNN_PACKED_H
#define MRNN_PACKED_H

#include <stddef.h>
#include <stdint.h>

struct mrnn__team;

/* One transposed matrix: element (k, g) at k * n_out + g within its panel, float or bf16. */
typedef struct mrnn__packed {
    int n_in, n_out;
    const float *f32;     /* set when the matrix is float */
    const uint16_t *bf16; /* set when the matrix is bfloat16 */
    int isa;              /* MRNN__ISA_* of the kernel its products run: the packing functions set the
                           * CPU's best, the owner of the matrix may lower it (its compute context's
                           * choice, compute.h) */
} mrnn__packed;

/* Elements (float or bf16) a packed [n_in x n_out] matrix takes: n_out is padded to whole panels. */
size_t mrnn__packed_floats(int n_in, int n_out);

/* One float matrix packed into caller memory, for products whose other operand changes more
 * often than the weights. src_is_w != 0: src is a weight matrix W [n_out x n_in] row-major and the
 * packed matrix is Wᵀ (y = x · Wᵀ); 0: src is already [n_in x n_out] (y = x · src, e.g. a gradient
 * times W). dst: mrnn__packed_floats(n_in, n_out) floats, 64-byte aligned. */
void mrnn__pack(mrnn__packed *m, float *dst, const float *src, int n_in, int n_out, int src_is_w);

/* Two row-major weight matrices a [n_out x ka] and b [n_out x kb] (b may be NULL with kb = 0)
 * packed as one transposed [(ka + kb) x n_out] matrix, float or (bf16 != 0) bfloat16: a layer's
 * W_ih and W_hh become one product over [x | h]. dst: mrnn__packed_floats(ka + kb, n_out)
 * elements of the chosen type, 64-byte aligned. */
void mrnn__pack_stacked(mrnn__packed *m, void *dst, int bf16, const float *a, int ka, const float *b, int kb,
                        int n_out);

/* y[b][g] += sum_k x[b][k] * M(k, g) for B rows; x rows of stride ldx, y rows of stride ldy; with
 * the kernel m->isa. */
void mrnn__packed_matmul(const mrnn__packed *m, int B, const float *x, size_t ldx, float *y, size_t ldy);
/* The same with y overwritten: y[b][g] = sum_k x[b][k] * M(k, g) (no need to clear y first). */
void mrnn__packed_matmul_set(const mrnn__packed *m, int B, const float *x, size_t ldx, float *y, size_t ldy);

/* The same product with a given instruction set (tests run every variant the CPU has); isa must
 * not exceed mrnn__packed_best_isa() (a higher one runs the best kernel). BASE is plain C with
 * vector extensions, correct on every CPU; AVX2 needs AVX2 and FMA (packed_avx2.c). */
enum { MRNN__ISA_BASE = 0, MRNN__ISA_AVX2 = 1, MRNN__ISA_AVX512 = 2 };
/* The widest kernel this CPU runs (CPUID, read once at start-up by the compiler's runtime). */
int mrnn__packed_best_isa(void);
void mrnn__packed_matmul_isa(int isa, const mrnn__packed *m, int B, const float *x, size_t ldx, float *y,
                             size_t ldy);

/* mrnn__packed_matmul with the output panels shared among a team's threads (team.h). The parts
 * run the same kernel on disjoint columns, so the result is bit-identical to one thread's. A NULL
 * team, or a matrix too small to be worth the hand-over: the caller alone. */
void mrnn__packed_matmul_team(struct mrnn__team *t, const mrnn__packed *m, int B, const float *x, size_t ldx,
                              float *y, size_t ldy);
/* Whether m's products are large enough to be worth splitting over a team. */
int mrnn__packed_worth_splitting(const mrnn__packed *m);

/* The product restricted to output columns [g_begin, g_end); g_begin a multiple of
 * mrnn__packed_panel_cols() (the packing's panel width). add = 0 overwrites y. */
int mrnn__packed_panel_cols(void);
void mrnn__packed_matmul_cols(int isa, const mrnn__packed *m, int g_begin, int g_end, int B, const float *x,
                              size_t ldx, float *y, size_t ldy, int add);

/* Whether a network's training windows run their weight products through packed copies of the
 * weights (network.h says when AUTO does); here so that the compute context (compute.h) can hold
 * the choice without knowing networks. */
enum { MRNN__PACK_NEVER = 0, MRNN__PACK_AUTO = 1, MRNN__PACK_ALWAYS = 2 };

/* The weight-gradient product c[g][i] += sum_r a[r][g] * x[r][i] (c += aᵀ · x) for g < ng, i < ni,
 * r < n: a rows of stride lda (e.g. gate gradients), x rows of stride ldx (the layer's inputs), c
 * rows of stride ldc, with kernel isa (packed_atb.c; no operand copied). Each c element sums its
 * rows in increasing r, so splitting g among threads changes no bit. */
void mrnn__atb(int isa, int ng, int ni, int n, const float *a, size_t lda, const float *x, size_t ldx, float *c,
               size_t ldc);

/* bfloat16 rounding of one float (nearest, ties to even; NaN stays NaN), and back. */
uint16_t mrnn__bf16_from_float(float f);
float mrnn__bf16_to_float(uint16_t h);

#endif
