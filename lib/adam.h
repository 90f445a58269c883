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

/* Global L2 norm of grad; if it exceeds max_norm (> 0), scale grad down to max_norm.
 * Returns the norm before clipping. */
double mrnn__clip_grad_norm(float *grad, size_t n, float max_norm);

#endif
