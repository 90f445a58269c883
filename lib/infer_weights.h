/* A copy of a network's weights laid out for sampling, and the matrix product that reads it.
 *
 * Why: sampling multiplies a few lanes (1-256) by every weight matrix at every step. OpenBLAS
 * repacks the weight matrix inside every such small sgemm (half of a 16-lane step went into that
 * copy), and its sgemm with one row is several times slower than sgemv. Here each LSTM layer's
 * [W_ih | W_hh] and the output layer are stored once, transposed ([inputs x outputs], output index
 * fastest), so that one pass over the weights serves all lanes with vector FMAs and no repacking;
 * the input and recurrent products of a layer become one product over [x | h].
 *
 * Optionally the copy is bfloat16 (the high half of each float, rounded to nearest even): half the
 * bytes to stream per step, products still accumulated in float.
 *
 * When the vocabulary is small next to the embedding width, layer 0's input projection is not
 * streamed at all: its rows are gathered from the table [embed; style] · W_ih0ᵀ (embed_proj.h),
 * made once, so layer 0's packed matrix holds W_hh only. That is an eighth of the bytes of a
 * 2x256 or 2x512 step; the table (float, one row read per token) costs (tokens + styles) x 4H
 * floats, hence the limit of INFER_TABLE_MAX_RATIO times the size of W_ih0. */
#ifndef MRNN_INFER_WEIGHTS_H
#define MRNN_INFER_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "network.h"

/* One transposed matrix: element (k, g) at k * n_out + g, float or bf16. */
typedef struct mrnn__infer_matrix {
    int n_in, n_out;
    const float *f32;     /* set when the copy is float */
    const uint16_t *bf16; /* set when the copy is bfloat16 */
} mrnn__infer_matrix;

typedef struct mrnn__infer_weights {
    int bf16;
    uint32_t layers;
    mrnn__infer_matrix layer[MRNN__MAX_LAYERS]; /* [(I + H) x 4H]: rows of W_ih then of W_hh, transposed;
                                                 * layer 0 with a table: [H x 4H], W_hh only */
    const float *table0;                        /* [(n_tokens + n_styles) x 4H] layer 0's projected
                                                 * embeddings, or NULL (then layer 0 packs W_ih too) */
    mrnn__infer_matrix out;                     /* [H x V] */
    struct mrnn__team *team;                    /* threads for the products (team.h), or NULL (owned) */
    void *mem;
} mrnn__infer_weights;

/* One float matrix packed into caller memory, for products whose other operand changes more
 * often than the weights (training packs its weights once per step, see network.c).
 * src_is_w != 0: src is a weight matrix W [n_out x n_in] row-major and the packed matrix is Wᵀ
 * (y = x · Wᵀ); 0: src is already [n_in x n_out] (y = x · src, e.g. a gradient times W).
 * dst: mrnn__infer_packed_floats(n_in, n_out) floats, 64-byte aligned. */
size_t mrnn__infer_packed_floats(int n_in, int n_out);
void mrnn__infer_pack(mrnn__infer_matrix *m, float *dst, const float *src, int n_in, int n_out, int src_is_w);

/* Build the copy from w (bf16 != 0: bfloat16). NULL when out of memory. */
mrnn__infer_weights *mrnn__infer_weights_new(const mrnn__net_config *cfg, const mrnn__net_params *w, int bf16);
void mrnn__infer_weights_free(mrnn__infer_weights *iw);

/* y[b][g] += sum_k x[b][k] * M(k, g) for B lanes; x rows of stride ldx, y rows of stride ldy. */
void mrnn__infer_matmul(const mrnn__infer_matrix *m, int B, const float *x, size_t ldx, float *y, size_t ldy);
/* The same with y overwritten: y[b][g] = sum_k x[b][k] * M(k, g) (no need to clear y first). */
void mrnn__infer_matmul_set(const mrnn__infer_matrix *m, int B, const float *x, size_t ldx, float *y, size_t ldy);

/* The same product with a given instruction set (tests run every variant the CPU has); isa must
 * not exceed mrnn__infer_matmul_best_isa(). */
enum { MRNN__ISA_BASE = 0, MRNN__ISA_AVX2 = 1, MRNN__ISA_AVX512 = 2 };
int mrnn__infer_matmul_best_isa(void);
void mrnn__infer_matmul_isa(int isa, const mrnn__infer_matrix *m, int B, const float *x, size_t ldx, float *y,
                            size_t ldy);

/* mrnn__infer_matmul with the output panels shared among a team's threads (team.h). The parts
 * run the same kernel on disjoint columns, so the result is bit-identical to one thread's. A NULL
 * team, or a matrix too small to be worth the hand-over: the caller alone. */
struct mrnn__team;
void mrnn__infer_matmul_team(struct mrnn__team *t, const mrnn__infer_matrix *m, int B, const float *x, size_t ldx,
                             float *y, size_t ldy);

/* The product restricted to output columns [g_begin, g_end); g_begin a multiple of
 * mrnn__infer_panel_cols() (the packing's panel width). */
int mrnn__infer_panel_cols(void);
void mrnn__infer_matmul_cols(int isa, const mrnn__infer_matrix *m, int g_begin, int g_end, int B, const float *x,
                             size_t ldx, float *y, size_t ldy, int add);

/* bfloat16 rounding of one float (nearest, ties to even; NaN stays NaN), and back. */
uint16_t mrnn__bf16_from_float(float f);
float mrnn__bf16_to_float(uint16_t h);

#endif
