/* The first layer's input projection through the embedding table.
 *
 * Layer 0's input row is a sum of embedding rows (tokens, plus a style row), so its projection
 * x · W_ih0ᵀ is the same sum of rows of the table P = [embed; style] · W_ih0ᵀ, which has one row
 * per vocabulary entry instead of one per window row. With 388 tokens and 8192 rows per window
 * this replaces three window-sized GEMMs of layer 0 (the forward projection, dW_ih0 and the
 * gradient into the input rows) with table-sized ones: about 13 % of the FLOPs of a 2x512 step.
 * Backward mirrors it: the gate gradients are summed per vocabulary entry into D, then
 * dW_ih0 += Dᵀ · [embed; style] and d[embed; style] += D · W_ih0. */
#ifndef MRNN_EMBED_PROJ_H
#define MRNN_EMBED_PROJ_H

#include <stddef.h>

#include "network.h"

/* Whether the table is cheaper than the window-sized products for `rows` rows. */
int mrnn__embed_proj_worth(const mrnn__net_config *cfg, size_t rows);

/* Floats of the table (also used for D in backward). */
size_t mrnn__embed_proj_floats(const mrnn__net_config *cfg);

/* gates [rows x 4H] = each row's input projection (no bias); table: scratch of the size above.
 * team: threads to split over (team.h), or NULL. */
struct mrnn__team;
void mrnn__embed_proj_forward(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                              float *table, float *gates, struct mrnn__team *team);
/* The gathering half alone, from a table that forward made with the same weights (evaluation
 * makes it once, not once per window). */
void mrnn__embed_proj_gather(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                             const float *table, float *gates, struct mrnn__team *team);

/* Adds dW_ih0, d embed and d style from layer 0's pre-activation gradients dgates [rows x 4H]. */
void mrnn__embed_proj_backward(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                               const mrnn__batch *bt, float *table, const float *dgates, struct mrnn__team *team);

#endif
