/* Inference for several independent lanes at once (batch sampling, beams): one step of the
 * network for B lanes, each with its own input ids and recurrent state. Every layer is one pass
 * over its packed [W_ih | W_hh] (infer_weights.h) for all lanes. (The same step through OpenBLAS
 * with the model's own weights, the reference the tests compare with, is tests/reference.c.) */
#ifndef MRNN_NETWORK_INFER_H
#define MRNN_NETWORK_INFER_H

#include "infer_weights.h"
#include "network.h"

/* Scratch floats needed by mrnn__net_step_lanes for B lanes. */
size_t mrnn__net_lanes_scratch_floats(const mrnn__net_config *cfg, int B);

/* Lane b's input is the sum of the embedding rows ids[start[b] .. start[b+1]) (none: a zero
 * vector) plus style row style[b] when the model has styles (style may be NULL: the "none" row).
 * h, c: [layers x B x H], updated. logits: [B x n_out], written. iw: the sampling copy of w's
 * weights (the embeddings and biases come from w). team: the threads to split the products over
 * (team.h, borrowed), or NULL. */
struct mrnn__team;
void mrnn__net_step_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__infer_weights *iw,
                          struct mrnn__team *team, int B, const uint32_t *start, const uint32_t *ids,
                          const uint32_t *style, float *h, float *c, float *logits, float *scratch);

#endif
