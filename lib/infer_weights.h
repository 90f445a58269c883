/* The sampler's copy of a network's weights, packed (packed.h) for the per-step products.
 *
 * Each LSTM layer's [W_ih | W_hh] and the output layer are packed once when the sampler is made,
 * so the input and recurrent products of a layer become one product over [x | h] for all lanes.
 * Optionally the copy is bfloat16: half the bytes to stream per step.
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
#include "packed.h"

typedef struct mrnn__infer_weights {
    int bf16;
    uint32_t layers;
    mrnn__packed layer[MRNN__MAX_LAYERS]; /* [(I + H) x 4H]: rows of W_ih then of W_hh, transposed;
                                          * layer 0 with a table: [H x 4H], W_hh only */
    const float *table0;                  /* [(n_tokens + n_styles) x 4H] layer 0's projected
                                          * embeddings, or NULL (then layer 0 packs W_ih too) */
    mrnn__packed out;                     /* [H x V] */
    void *mem;
} mrnn__infer_weights;

/* Build the copy from w (bf16 != 0: bfloat16). NULL when out of memory. */
mrnn__infer_weights *mrnn__infer_weights_new(const mrnn__net_config *cfg, const mrnn__net_params *w, int bf16);
/* Run the copy's products with kernel isa (MRNN__ISA_*, a compute context's choice, compute.h). */
void mrnn__infer_weights_set_isa(mrnn__infer_weights *iw, int isa);
void mrnn__infer_weights_free(mrnn__infer_weights *iw);

#endif
