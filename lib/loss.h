/* Output losses. Both work on a block of N rows of logits and return the summed loss over rows
 * whose mask is non-zero, writing d(loss)/d(logits) scaled by `scale` (e.g. 1/number scored). */
#ifndef MRNN_LOSS_H
#define MRNN_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* Softmax cross-entropy: row r has target id target[r] (ignored where mask[r] == 0).
 * logits [N x V] -> dlogits [N x V] (may alias logits). *n_correct counts argmax hits. */
double mrnn__softmax_xent(float *dlogits, const float *logits, const uint32_t *target, const float *mask,
                          size_t N, size_t V, float scale, uint64_t *n_correct);

/* Independent sigmoids with binary cross-entropy, summed over the V outputs of a row. Row r's
 * positive outputs are ids[start[r] .. start[r+1]). *n_exact counts rows predicted exactly at 0.5. */
double mrnn__sigmoid_bce(float *dlogits, const float *logits, const uint32_t *start, const uint32_t *ids,
                         const float *mask, size_t N, size_t V, float scale, uint64_t *n_exact);

#endif
