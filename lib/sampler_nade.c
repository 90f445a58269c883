/* Drawing a pianoroll frame from the NADE frame output (sampler.h): the lane's top LSTM state gives
 * the NADE's hidden biases, its logits are the visible biases, and the keys are drawn low to high,
 * each given those below it (nade.h), so the static mask and the temperature shape every
 * conditional and the chord is drawn as a whole. */
#include "nade.h"
#include "model.h"
#include "network.h"
#include "rng.h"
#include "sampler.h"

/* Attempts at a frame within max_polyphony before the cap is imposed key by key (which, keys
 * being drawn low to high, would always cut the top voice). */
#define NADE_TRIES 8

size_t mrnn__sampler_nade_floats(const mrnn__net_config *cfg)
{
    const int K = (int)cfg->n_out, N = (int)cfg->nade_hidden;
    return (size_t)N + (size_t)K + mrnn__nade_scratch_floats(K, N);
}

uint32_t mrnn__sampler_draw_frame_nade(mrnn_sampler *s, mrnn__lane *l, uint32_t b, const float *logits, float *probs,
                                       uint32_t *keys, double *logp)
{
    const mrnn__net_config *cfg = s->cfg;
    const int V = (int)s->V, N = (int)cfg->nade_hidden;
    const size_t H = cfg->hidden;
    float *bh = s->nade, *u = bh + N, *scratch = u + V;
    const float *top = s->h + ((size_t)(cfg->layers - 1) * s->L + b) * H;
    mrnn__net_nade_hidden_bias(cfg, &s->model->w, 1, top, H, bh);
    uint32_t n = 0;
    for (int attempt = 0; attempt <= NADE_TRIES; attempt++) {
        const uint32_t cap = attempt == NADE_TRIES ? s->p.max_polyphony : 0;
        for (int k = 0; k < V; k++) u[k] = (float)mrnn__rng_uniform(&l->rng);
        n = mrnn__nade_sample(s->flag, probs, logp, logits, bh, s->model->w.nade_w, s->model->w.nade_v, s->allowed,
                              cap, s->p.temperature, u, V, N, scratch);
        if (!s->p.max_polyphony || n <= s->p.max_polyphony) break;
    }
    n = 0;
    for (int k = 0; k < V; k++) {
        if (s->flag[k]) keys[n++] = (uint32_t)k;
        s->flag[k] = 0;
    }
    return n;
}
