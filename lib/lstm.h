/* LSTM layer kernels.
 *
 * Layout: row-major; a window of T steps for B lanes is stored step-major, row t*B + b.
 * Gate order in the 4H dimension is i, f, g, o. Weights: w_ih [4H x I], w_hh [4H x H], b [4H].
 *
 * Forward: the input projection of the whole window is one GEMM (X · W_ihᵀ), then each step adds
 * one recurrent GEMM (h_{t-1} · W_hhᵀ) and runs the fused element-wise gate math.
 * Backward mirrors it: per-step recurrent GEMM for dh, then dW_ih, dW_hh and dX each as one GEMM
 * over the whole window. The gate gradients overwrite the cached gate activations (each is read
 * once, just before its gradient is written), so backward needs no window-sized scratch.
 * The products with a weight operand go through packed weights (packed.h) when the caller gives
 * them, else through OpenBLAS. Sampling steps through its own packed copy (network_infer.h) and
 * uses only the element-wise half of a step from here. */
#ifndef MRNN_LSTM_H
#define MRNN_LSTM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mrnn__lstm_weights {
    int n_in, n_hidden;
    float *w_ih; /* [4H x n_in] */
    float *w_hh; /* [4H x H] */
    float *b;    /* [4H] */
} mrnn__lstm_weights;

/* Activations of one window, kept for backward. Caller allocates with the sizes below.
 * tanh(c) is not kept: backward recomputes it, which is cheaper than a sixth more memory. */
typedef struct mrnn__lstm_cache {
    float *gates; /* [T*B x 4H] gate activations after the nonlinearity (i, f, g, o) */
    float *c;     /* [T*B x H] cell state */
    float *h;     /* [T*B x H] output */
    /* Recurrent dropout of the window (training only; bind sets 0 = off): the cell update becomes
     * c_t = f⊙c_{t-1} + m⊙i⊙g (Semeniuta et al. 2016), m an inverted-dropout mask drawn per row
     * and cell from rec_seed's hash stream (rng.h), the same in forward and backward. Masking
     * only the update leaves the memory path f⊙c_{t-1} intact, so long-range gradients are not
     * cut and the expected state equals the unmasked one: inference stays unchanged. */
    float rec_drop;   /* rate p in [0, 1) */
    uint64_t rec_seed;
} mrnn__lstm_cache;

/* Packed copies (packed.h) of a layer's weights for the products that have them as an
 * operand, or NULL members for OpenBLAS. With AVX-512 the packed kernel runs these shapes about
 * twice as fast as OpenBLAS 0.3.21, which repacks the weights inside every call (per time step!).
 * Forward: ih = W_ihᵀ [I x 4H], hh = W_hhᵀ [H x 4H]. Backward: ih = W_ih [4H x I], hh = W_hh [4H x H]. */
struct mrnn__packed;
struct mrnn__team;
typedef struct mrnn__lstm_packed {
    const struct mrnn__packed *ih, *hh;
} mrnn__lstm_packed;

/* Floats needed by a cache for T steps of B lanes, and by the backward scratch. */
size_t mrnn__lstm_cache_floats(int T, int B, int H);
size_t mrnn__lstm_backward_scratch_floats(int T, int B, int H);
/* Point the cache's arrays into `mem` (mrnn__lstm_cache_floats floats). */
void mrnn__lstm_cache_bind(mrnn__lstm_cache *c, float *mem, int T, int B, int H);

/* Forward over a window. pk: packed forward weights, or NULL. team: threads to split the work
 * over (team.h; NULL: the caller alone; OpenBLAS must then run single-threaded inside the parts).
 * x: [T*B x I]. h0, c0: [B x H] initial state or NULL for zeros.
 * Fills cache; the final state is cache->h / cache->c at step T-1. x == NULL: the caller has
 * already put the input projection x · W_ihᵀ (no bias) into cache->gates (see embed_proj.h). */
void mrnn__lstm_forward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, struct mrnn__team *team,
                        const float *x, int T, int B, const float *h0, const float *c0, mrnn__lstm_cache *cache);

/* Backward over a window. pk: packed backward weights, or NULL; team as for forward. dh: [T*B x H] loss gradient w.r.t. each step's output h (modified in
 * place: it accumulates the recurrent gradient). Gradients are ADDED into g (same layout as w).
 * Consumes the cache: cache->gates is overwritten with the pre-activation gradients, so a second
 * backward needs a fresh forward. x == NULL: dW_ih is left to the caller (from those gradients)
 * and dx must be NULL.
 * dx: [T*B x I] receives the gradient w.r.t. x (overwritten), or NULL if not needed.
 * dh_last/dc_last: gradient flowing into the final state from later windows, or NULL.
 * scratch: mrnn__lstm_backward_scratch_floats floats. */
void mrnn__lstm_backward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, struct mrnn__team *team,
                         mrnn__lstm_weights *g, const float *x, int T, int B, const float *h0, const float *c0,
                         mrnn__lstm_cache *cache, float *dh, float *dx, float *scratch);

/* The element-wise half of one inference step for B lanes, for callers that computed the
 * pre-activations (without bias) themselves: gates [B x 4H] in (overwritten), h and c [B x H]
 * updated. */
void mrnn__lstm_step_gates(const mrnn__lstm_weights *w, int B, float *gates, float *h, float *c);

/* One inference step of B lanes through a packed layer m: gates [B x 4H] += rows x (stride ldx) ·
 * m, then the cell as mrnn__lstm_step_gates. Over a team each thread takes a range of cells: the
 * four gate columns of its cells, then their updates, one hand-over for the layer instead of one
 * for the product followed by the cell on one thread. The same bits either way. x must not
 * overlap h (threads update h while others still read x). */
void mrnn__lstm_step_packed(struct mrnn__team *t, const mrnn__lstm_weights *w, const struct mrnn__packed *m, int B,
                            const float *x, size_t ldx, float *gates, float *h, float *c);

#endif
