/* Adam / AdamW over one flat parameter array (all parameters live in one allocation). */
#ifndef MRNN_ADAM_H
#define MRNN_ADAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mrnn__adam_config {
    float lr, beta1, beta2, eps;
    float weight_decay; /* decoupled (AdamW): w -= lr * wd * w; 0 = plain Adam */
} mrnn__adam_config;

/* One update; `step` is the 1-based step number used for bias correction. m and v are the first
 * and second moments (n floats each, start at zero). */
void mrnn__adam_update(float *w, const float *grad, float *m, float *v, size_t n, uint64_t step,
                       const mrnn__adam_config *cfg);

/* avg += (1 - decay) · (w - avg): one step of an exponential moving average of the weights
 * (Polyak averaging). Written as a difference so that the average of a constant stays that
 * constant bit for bit. */
void mrnn__average_update(float *avg, const float *w, size_t n, float decay);

/* Global L2 norm of grad; if it exceeds max_norm (> 0), scale grad down to max_norm.
 * Returns the norm before clipping. The squares are summed per chunk of MRNN__NORM_CHUNK floats
 * and the chunk sums in order, so the split version below gives the same bits. */
double mrnn__clip_grad_norm(float *grad, size_t n, float max_norm);

/* The same two, split over a team's threads (team.h; NULL: the caller alone), with the same
 * results bit for bit. chunk_sums: mrnn__norm_chunks(n) doubles of scratch. */
#define MRNN__NORM_CHUNK 16384
struct mrnn__team;
size_t mrnn__norm_chunks(size_t n);
double mrnn__clip_grad_norm_team(struct mrnn__team *t, float *grad, size_t n, float max_norm, double *chunk_sums);
void mrnn__adam_update_team(struct mrnn__team *t, float *w, const float *grad, float *m, float *v, size_t n,
                            uint64_t step, const mrnn__adam_config *cfg);

#endif
