/* A second thread for the sampling products.
 *
 * Why: at batch 1 a sampling step is a few matrix-vector products, bound by how fast the weights
 * stream from memory; one core does not saturate the memory system, two get most of it. The
 * products split by output panels (columns), so both halves run the same kernel on disjoint
 * outputs and the result is bit-identical to the single-thread product.
 *
 * Each sampler that wants one owns a pool: one helper thread that spins briefly for work and then
 * sleeps on a condition variable, so an idle sampler costs no CPU. */
#ifndef MRNN_INFER_POOL_H
#define MRNN_INFER_POOL_H

#include "infer_weights.h"

typedef struct mrnn__infer_pool mrnn__infer_pool;

/* Start the helper thread. NULL if it cannot be started (then the caller computes alone). */
mrnn__infer_pool *mrnn__infer_pool_new(void);
/* Stop and join the helper thread; NULL does nothing. */
void mrnn__infer_pool_free(mrnn__infer_pool *p);

/* mrnn__infer_matmul with the output panels shared between the caller and the pool's helper
 * (p NULL, or a matrix too small to be worth the hand-over: the caller alone). */
void mrnn__infer_matmul_pool(mrnn__infer_pool *p, const mrnn__infer_matrix *m, int B, const float *x, size_t ldx,
                             float *y, size_t ldy);

#endif
