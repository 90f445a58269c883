/* A NADE over the K keys of one frame (Larochelle & Murray 2011), conditioned per row as in the
 * RNN-NADE (Boulanger-Lewandowski et al. 2012): the caller supplies, for every row, the visible
 * biases bv [K] and hidden biases bh [N] computed from the recurrent state (b + W_u h_t, two GEMMs
 * over the window). Keys are visited low to high; key i sees the keys below it through
 *   a_i = bh + sum_{j < i} v_j w_j,   hid_i = sigmoid(a_i),   p_i = sigmoid(bv_i + V_i . hid_i),
 * w_j and V_i being rows of two [K x N] matrices.
 *
 * Why this is cheap: a_i only changes at keys that sound, and a frame has a handful of those, so
 * hid is piecewise constant along the keys. A row costs (sounding keys + 1) sigmoid vectors of N and
 * K dot products of N forward, about twice that backward; every inner loop runs over the N hidden
 * units (vectorised), none over keys.
 *
 * Numeric floor: knows floats and key indices only (nothing of networks, files or handles). */
#ifndef MRNN_NADE_H
#define MRNN_NADE_H

#include <stddef.h>
#include <stdint.h>

/* Floats of scratch that mrnn__nade_rows and mrnn__nade_sample need for K keys and N units. */
size_t mrnn__nade_scratch_floats(int K, int N);

/* Exact negative log-likelihood (nats, summed over keys) of rows [0, n) with teacher forcing.
 * Row r's sounding keys are ids[start[r] .. start[r+1]) (key indices < K; others are ignored);
 * mask[r] = 0 leaves the row unscored. bv: [n x K], bh: [n x N]; w, v: [K x N].
 * With dbv non-NULL also the gradient of scale * loss: dbv [n x K] and dbh [n x N] are written
 * (unscored rows get zeros; they may be bv and bh themselves), dw and dv [K x N] are ADDED to.
 * n_exact (may be NULL) is incremented per scored row whose every key is predicted right by
 * p_i > 0.5 given the true keys below it. Returns the summed loss of the scored rows. */
double mrnn__nade_rows(float *dbv, float *dbh, float *dw, float *dv, const float *bv, const float *bh,
                       const float *w, const float *v, const uint32_t *start, const uint32_t *ids, const float *mask,
                       size_t n, int K, int N, float scale, float *scratch, uint64_t *n_exact);

/* Draw one frame key by key, low to high, so that each key is drawn given those below it.
 * bv [K], bh [N] as above; u [K]: one uniform draw in [0, 1) per key. A key with allowed[k] == 0
 * (allowed may be NULL) or met after max_on keys are already on (0 = no limit) stays off.
 * Temperature t > 0 divides every key's logit; t == 0 turns a key on when its logit is positive.
 * on [K] receives 0/1, probs [K] the probability each key was drawn with (after the masks and the
 * temperature). *logp receives the log-probability of the frame under the model itself (t = 1, no
 * masks). Returns the number of keys on. */
uint32_t mrnn__nade_sample(uint8_t *on, float *probs, double *logp, const float *bv, const float *bh, const float *w,
                           const float *v, const uint8_t *allowed, uint32_t max_on, float temperature,
                           const float *u, int K, int N, float *scratch);

#endif
