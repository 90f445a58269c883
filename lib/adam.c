/* Adam with decoupled weight decay (AdamW) over the flat parameter block, and global-norm clipping. */
#include "adam.h"

#include <math.h>

void mrnn__adam_update(float *w, const float *grad, float *m, float *v, size_t n, uint64_t step,
                       const mrnn__adam_config *cfg)
{
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps;
    double t = (double)(step ? step : 1);
    double bc1 = 1.0 - pow((double)b1, t), bc2 = 1.0 - pow((double)b2, t);
    const float step_size = (float)((double)cfg->lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float decay = cfg->lr * cfg->weight_decay;
    for (size_t k = 0; k < n; k++) {
        float g = grad[k];
        float mk = b1 * m[k] + (1.0f - b1) * g;
        float vk = b2 * v[k] + (1.0f - b2) * g * g;
        m[k] = mk;
        v[k] = vk;
        float wk = w[k];
        w[k] = wk - step_size * mk / (sqrtf(vk) * inv_sqrt_bc2 + eps) - decay * wk;
    }
}

double mrnn__clip_grad_norm(float *grad, size_t n, float max_norm)
{
    double ss = 0.0;
    for (size_t k = 0; k < n; k++) ss += (double)grad[k] * (double)grad[k];
    double norm = sqrt(ss);
    if (max_norm > 0.0f && norm > (double)max_norm) {
        float s = (float)((double)max_norm / norm);
        for (size_t k = 0; k < n; k++) grad[k] *= s;
    }
    return norm;
}
