/* Reference implementations the white-box tests compare the library's kernels with: plain
 * OpenBLAS products over the model's own weights, one step at a time. They are not in the library
 * because no caller of the library takes these paths (the sampler steps through its packed copy,
 * training through whole windows). Built into the test helper library test_reference. */
#ifndef MRNN_TEST_REFERENCE_H
#define MRNN_TEST_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "lstm.h"
#include "network.h"

/* One LSTM step for B lanes: x [B x I]; h, c [B x H] updated in place. scratch: 4*H*B floats.
 * sgemv when B == 1, else sgemm. */
void mrnn_ref_lstm_step(const mrnn__lstm_weights *w, const float *x, int B, float *h, float *c, float *scratch);

/* One step of the whole network for one lane: the input is the sum of the embeddings of ids (plus
 * the style row when style >= 0 and the model has styles); h, c [layers x H] updated; logits
 * [n_out] written. scratch: mrnn_ref_net_step_scratch_floats floats. */
size_t mrnn_ref_net_step_scratch_floats(const mrnn__net_config *cfg);
void mrnn_ref_net_step(const mrnn__net_config *cfg, const mrnn__net_params *w, const uint32_t *ids, size_t n_ids,
                       int style, float *h, float *c, float *logits, float *scratch);

/* mrnn__net_step_lanes (network_infer.h) through OpenBLAS with w itself: the same arguments but
 * no packed copy. scratch: mrnn__net_lanes_scratch_floats floats. */
void mrnn_ref_net_step_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const uint32_t *start,
                             const uint32_t *ids, const uint32_t *style, float *h, float *c, float *logits,
                             float *scratch);

#endif
