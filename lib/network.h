/* The whole network as one computation: embedding-sum input (+ optional style embedding) ->
 * stack of LSTM layers with dropout between them -> output layer -> loss, forward and backward.
 * With MRNN__LOSS_NADE the output layer gives the visible biases of a NADE over the frame's keys
 * (nade.h) and a second layer from the same top state its hidden biases (the RNN-NADE).
 * Knows token ids and floats; knows nothing of MIDI, files or the public handles. */
#ifndef MRNN_NETWORK_H
#define MRNN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "lstm.h"
#include "packed.h"
#include "rng.h"

#define MRNN__MAX_LAYERS 8

enum { MRNN__LOSS_SOFTMAX = 0, MRNN__LOSS_SIGMOID = 1, MRNN__LOSS_NADE = 2 };

typedef struct mrnn__net_config {
    uint32_t n_tokens; /* input vocabulary size (rows of the embedding) */
    uint32_t n_out;    /* outputs: vocabulary size (softmax) or 88 keys (sigmoid) */
    uint32_t n_styles; /* rows of the style embedding; 0 = none */
    uint32_t embed, hidden, layers;
    uint32_t loss;     /* MRNN__LOSS_* */
    float dropout;
    uint32_t nade_hidden; /* MRNN__LOSS_NADE: hidden units of the NADE; 0 otherwise */
} mrnn__net_config;

/* Pointers into one float block (parameters) -- gradients use a second block of the same layout. */
typedef struct mrnn__net_params {
    float *embed;  /* [n_tokens x E] */
    float *style;  /* [n_styles x E] or NULL */
    mrnn__lstm_weights layer[MRNN__MAX_LAYERS]; /* layer 0 input E, others H */
    float *w_out;  /* [n_out x H] */
    float *b_out;  /* [n_out] */
    /* MRNN__LOSS_NADE only (NULL otherwise), after b_out in the block. w_out and b_out give the
     * NADE's visible biases b_v(t) = b_out + w_out h_t; these its hidden biases and weights. */
    float *nade_wu; /* [nade_hidden x H]: b_h(t) = nade_bh + nade_wu h_t */
    float *nade_bh; /* [nade_hidden] */
    float *nade_w;  /* [n_out x nade_hidden]: row i feeds key i into the hidden layer */
    float *nade_v;  /* [n_out x nade_hidden]: row i reads key i out of it */
} mrnn__net_params;

size_t mrnn__net_param_count(const mrnn__net_config *cfg);
void mrnn__net_bind(const mrnn__net_config *cfg, float *block, mrnn__net_params *out);
/* Initialise: embeddings N(0, 1) (as nn.Embedding: with 0.1 the summed pianoroll inputs were
 * too faint and stacked layers learned far slower); LSTM weights U(-1/sqrt(H), 1/sqrt(H)); forget-gate bias 1;
 * output weights U(-1/sqrt(H), 1/sqrt(H)), bias 0. */
void mrnn__net_init(const mrnn__net_config *cfg, mrnn__net_params *p, mrnn__rng *rng);

/* A batch of B lanes x T steps, step-major (row t*B + b). Input row r holds token ids
 * in_ids[in_start[r] .. in_start[r+1]) (the input vector is the sum of their embedding rows).
 * Target row r: softmax -> tgt_ids[tgt_start[r]] (exactly one id); sigmoid -> the set of
 * positive outputs tgt_ids[tgt_start[r] .. tgt_start[r+1]). mask[r] = 0 leaves row r unscored. */
typedef struct mrnn__batch {
    int T, B;
    const uint32_t *in_start, *in_ids;
    const uint32_t *tgt_start, *tgt_ids;
    const float *mask;
    const uint32_t *style; /* [B] style row per lane, or NULL */
} mrnn__batch;

typedef struct mrnn__net_workspace mrnn__net_workspace;

/* Workspace for windows up to T x B; NULL on allocation failure. */
mrnn__net_workspace *mrnn__net_workspace_new(const mrnn__net_config *cfg, int T, int B);

/* Whether the window products with a weight operand run through packed copies of the weights
 * (packed.h, repacked at every forward and backward) instead of OpenBLAS. AUTO: when the kernel
 * is AVX-512 (faster than OpenBLAS at the step's shapes; the AVX2 and baseline kernels are not
 * yet, network.c) and the window has enough rows to repay the packing. Tests force both paths. */
/* MRNN__PACK_NEVER / AUTO / ALWAYS: packed.h (the compute context holds the choice, compute.h). */
mrnn__net_workspace *mrnn__net_workspace_new_pack(const mrnn__net_config *cfg, int T, int B, int pack);
/* The same with the packed kernel isa (MRNN__ISA_*, at most the CPU's best; new_pack: the best),
 * as a compute context chose it (compute.h). */
mrnn__net_workspace *mrnn__net_workspace_new_kernel(const mrnn__net_config *cfg, int T, int B, int pack, int isa);

/* Split the work of every window over team's threads (team.h; borrowed, NULL: the caller alone).
 * The results equal one thread's up to rounding (the packed products, the loss and the dropout
 * masks are split without changing a bit; OpenBLAS's results depend on the block sizes a part asks
 * for), and are the same bits on every run with the same number of threads. OpenBLAS must run
 * single-threaded meanwhile: the parts call it concurrently. */
struct mrnn__team;
void mrnn__net_workspace_set_team(mrnn__net_workspace *ws, struct mrnn__team *team);
/* frozen != 0: the caller promises that every mrnn__net_forward_eval on ws until the next call
 * here passes the same weights, unchanged, so the packed copies and layer 0's table are made once
 * (evaluation: once per evaluation, not per window). mrnn__net_forward_backward always repacks. */
void mrnn__net_workspace_freeze(mrnn__net_workspace *ws, int frozen);
/* Recurrent dropout at rate p in [0, 1) (lstm.h: the cell update masked) in every layer of the
 * windows mrnn__net_forward_backward trains with a dropout stream; 0 (the default) = none.
 * Evaluation never applies it. */
void mrnn__net_workspace_set_recurrent_dropout(mrnn__net_workspace *ws, float p);
/* Weight dropout at rate p in [0, 1) on every layer's recurrent weights W_hh (DropConnect: one
 * mask per window, the kept weights scaled by 1/(1-p)) in the windows mrnn__net_forward_backward
 * trains with a dropout stream; 0 (the default) = none. The first p > 0 allocates the masked copy
 * (layers x 4H x H floats): returns -1 when that fails (the rate stays 0), else 0. */
int mrnn__net_workspace_set_weight_dropout(mrnn__net_workspace *ws, const mrnn__net_config *cfg, float p);
/* Training: fn(ctx, from) is called on the calling thread during each mrnn__net_forward_backward
 * once a tail of the gradient block is final, floats [from, mrnn__net_param_count) of it (from
 * only decreases within a call; the output layer first, then the LSTM layers top down, then the
 * embedding, from = 0). By the first call the loss of the window has been added to the call's
 * *res. A window with no scored row returns before any call. NULL fn: no calls. */
typedef void (*mrnn__net_grad_ready_fn)(void *ctx, size_t from);
void mrnn__net_workspace_set_grad_hook(mrnn__net_workspace *ws, mrnn__net_grad_ready_fn fn, void *ctx);
void mrnn__net_workspace_free(mrnn__net_workspace *ws);

typedef struct mrnn__net_result {
    double loss_sum;   /* summed loss over scored rows (nats) */
    uint64_t n_scored; /* scored rows */
    uint64_t n_correct;/* argmax hits (softmax) or exact frames (sigmoid) */
} mrnn__net_result;

/* Training step: forward with dropout (rng; NULL = no dropout, neither on the outputs nor in the
 * recurrence), loss, backward.
 * grad (same layout as params) is OVERWRITTEN with d(mean loss)/d(params), where the mean is over
 * the scored rows of this batch. Initial state is zero. */
void mrnn__net_forward_backward(const mrnn__net_config *cfg, const mrnn__net_params *w,
                                mrnn__net_params *grad, const mrnn__batch *batch, mrnn__net_workspace *ws,
                                mrnn__rng *dropout_rng, mrnn__net_result *res);

/* Forward only, no dropout, carrying state: h and c are [layers x B x H], read as the initial
 * state and overwritten with the final state. Adds to *res. */
void mrnn__net_forward_eval(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *batch,
                            mrnn__net_workspace *ws, float *h, float *c, mrnn__net_result *res);

/* MRNN__LOSS_NADE: the hidden biases b_h(t) [B x nade_hidden] of B lanes from their top states
 * top [B x H] (rows hidden apart by ld_top floats). */
void mrnn__net_nade_hidden_bias(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const float *top,
                                size_t ld_top, float *bh);

#endif
