/* The NADE frame output of the network (MRNN__LOSS_NADE) over one window: the hidden-bias layer
 * b_h(t) = nade_bh + nade_wu h_t as GEMMs over the window's rows, the NADE loss of every row
 * (nade.h), and the backward of both into the parameters and the top state's gradient.
 * Split over a team by rows (disjoint outputs); the NADE's own weight gradients are summed per
 * fixed block of rows and the blocks added in order, so they do not depend on the thread count. */
#ifndef MRNN_NETWORK_NADE_H
#define MRNN_NETWORK_NADE_H

#include <stddef.h>
#include <stdint.h>

#include "network.h"

struct mrnn__team;
typedef struct mrnn__nade_ws mrnn__nade_ws;

/* Buffers for windows of up to `rows` rows; NULL on allocation failure. */
mrnn__nade_ws *mrnn__nade_ws_new(const mrnn__net_config *cfg, size_t rows);
void mrnn__nade_ws_free(mrnn__nade_ws *ws);

/* Loss of rows [0, rows) of bt. logits [rows x n_out] hold the visible biases; top [rows x H] is the
 * top layer's output. With grad non-NULL (its NADE members zeroed by the caller), the gradient of
 * scale * loss replaces the logits (as the other losses do), grad->nade_w and nade_v are set, and
 * the hidden-bias gradient is kept in ws for mrnn__nade_net_backward. Returns the summed loss;
 * *n_correct counts rows predicted exactly (nade.h). */
double mrnn__nade_net_loss(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                           const mrnn__batch *bt, const float *top, float *logits, float scale,
                           struct mrnn__team *team, mrnn__nade_ws *ws, uint64_t *n_correct);

/* After mrnn__nade_net_loss with a gradient: grad->nade_wu and nade_bh, and dh [rows x H] += the
 * hidden-bias layer's share of the top state's gradient. */
void mrnn__nade_net_backward(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                             size_t rows, const float *top, float *dh, struct mrnn__team *team, mrnn__nade_ws *ws);

#endif
