/* Adam with decoupled weight decay (AdamW) over the flat parameter block, and global-norm clipping. */
#include "adam.h"

#include <math.h>

#include "team.h"

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

static double sum_squares(const float *g, size_t n)
{
    double ss = 0.0;
    for (size_t k = 0; k < n; k++) ss += (double)g[k] * (double)g[k];
    return ss;
}

static void scale(float *g, size_t n, float s)
{
    for (size_t k = 0; k < n; k++) g[k] *= s;
}

/* The clipping factor for a gradient of this norm, or 1. */
static float clip_factor(double norm, float max_norm)
{
    return max_norm > 0.0f && norm > (double)max_norm ? (float)((double)max_norm / norm) : 1.0f;
}

double mrnn__clip_grad_norm(float *grad, size_t n, float max_norm)
{
    double ss = 0.0;
    for (size_t a = 0; a < n; a += MRNN__NORM_CHUNK) ss += sum_squares(grad + a, n - a < MRNN__NORM_CHUNK ? n - a : MRNN__NORM_CHUNK);
    double norm = sqrt(ss);
    float s = clip_factor(norm, max_norm);
    if (s != 1.0f) scale(grad, n, s);
    return norm;
}

size_t mrnn__norm_chunks(size_t n)
{
    return n / MRNN__NORM_CHUNK + 1;
}

typedef struct opt_job {
    float *w, *m, *v, *grad;
    const float *cgrad;
    size_t n;
    double *sums;
    float factor;
    uint64_t step;
    const mrnn__adam_config *cfg;
} opt_job;

static void chunk_range(const opt_job *j, int part, int n_parts, size_t *a, size_t *b)
{
    mrnn__team_range(j->n, MRNN__NORM_CHUNK, part, n_parts, a, b);
}

static void squares_part(void *ctx, int part, int n_parts)
{
    const opt_job *j = ctx;
    size_t a, b;
    chunk_range(j, part, n_parts, &a, &b);
    for (size_t c = a; c < b; c += MRNN__NORM_CHUNK)
        j->sums[c / MRNN__NORM_CHUNK] = sum_squares(j->grad + c, b - c < MRNN__NORM_CHUNK ? b - c : MRNN__NORM_CHUNK);
}

static void scale_part(void *ctx, int part, int n_parts)
{
    const opt_job *j = ctx;
    size_t a, b;
    chunk_range(j, part, n_parts, &a, &b);
    scale(j->grad + a, b - a, j->factor);
}

double mrnn__clip_grad_norm_team(mrnn__team *t, float *grad, size_t n, float max_norm, double *chunk_sums)
{
    if (!t) return mrnn__clip_grad_norm(grad, n, max_norm);
    opt_job j = {.grad = grad, .n = n, .sums = chunk_sums};
    mrnn__team_run(t, squares_part, &j);
    double ss = 0.0;
    for (size_t c = 0; c * MRNN__NORM_CHUNK < n; c++) ss += chunk_sums[c];
    double norm = sqrt(ss);
    j.factor = clip_factor(norm, max_norm);
    if (j.factor != 1.0f) mrnn__team_run(t, scale_part, &j);
    return norm;
}

static void adam_part(void *ctx, int part, int n_parts)
{
    const opt_job *j = ctx;
    size_t a, b;
    mrnn__team_range(j->n, 16, part, n_parts, &a, &b);
    mrnn__adam_update(j->w + a, j->cgrad + a, j->m + a, j->v + a, b - a, j->step, j->cfg);
}

void mrnn__adam_update_team(mrnn__team *t, float *w, const float *grad, float *m, float *v, size_t n, uint64_t step,
                            const mrnn__adam_config *cfg)
{
    opt_job j = {.w = w, .m = m, .v = v, .cgrad = grad, .n = n, .step = step, .cfg = cfg};
    mrnn__team_run(t, adam_part, &j);
}

void mrnn__average_update(float *avg, const float *w, size_t n, float decay)
{
    const float rate = 1.0f - decay;
    for (size_t i = 0; i < n; i++) avg[i] += rate * (w[i] - avg[i]);
}
