/* One inference step for B lanes (see network_infer.h). */
#include <cblas.h>
#include <string.h>

#include "network_infer.h"

size_t mrnn__net_lanes_scratch_floats(const mrnn__net_config *cfg, int B)
{
    size_t width = cfg->embed > cfg->hidden ? cfg->embed : cfg->hidden;
    /* input rows, then the LSTM step's gate scratch */
    return (size_t)B * width + 4 * (size_t)cfg->hidden * (size_t)B;
}

void mrnn__net_step_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const uint32_t *start,
                          const uint32_t *ids, const uint32_t *style, float *h, float *c, float *logits,
                          float *scratch)
{
    const size_t E = cfg->embed, H = cfg->hidden, V = cfg->n_out;
    float *x = scratch;
    float *gates = scratch + (size_t)B * (E > H ? E : H);
    memset(x, 0, (size_t)B * E * sizeof *x);
    for (int b = 0; b < B; b++) {
        float *row = x + (size_t)b * E;
        for (uint32_t k = start[b]; k < start[b + 1]; k++) cblas_saxpy((int)E, 1.0f, w->embed + (size_t)ids[k] * E, 1, row, 1);
        if (cfg->n_styles) {
            uint32_t s = style ? style[b] : cfg->n_styles - 1;
            cblas_saxpy((int)E, 1.0f, w->style + (size_t)s * E, 1, row, 1);
        }
    }
    const float *in = x;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        float *hl = h + (size_t)l * B * H, *cl = c + (size_t)l * B * H;
        mrnn__lstm_step(&w->layer[l], in, B, hl, cl, gates);
        in = hl;
    }
    /* logits = h_top · W_outᵀ + b_out */
    for (int b = 0; b < B; b++) memcpy(logits + (size_t)b * V, w->b_out, V * sizeof *logits);
    if (B == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)V, (int)H, 1.0f, w->w_out, (int)H, in, 1, 1.0f, logits, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, (int)V, (int)H, 1.0f, in, (int)H, w->w_out, (int)H,
                    1.0f, logits, (int)V);
}
