/* Reference implementations for the tests (reference.h). */
#include "reference.h"

#include <cblas.h>
#include <string.h>

void mrnn_ref_lstm_step(const mrnn__lstm_weights *w, const float *x, int B, float *h, float *c, float *scratch)
{
    const int H = w->n_hidden, NI = w->n_in, G = 4 * H;
    if (B == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, G, NI, 1.0f, w->w_ih, NI, x, 1, 0.0f, scratch, 1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, G, H, 1.0f, w->w_hh, H, h, 1, 1.0f, scratch, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, NI, 1.0f, x, NI, w->w_ih, NI, 0.0f, scratch, G);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f, h, H, w->w_hh, H, 1.0f, scratch, G);
    }
    mrnn__lstm_step_gates(w, B, scratch, h, c);
}

size_t mrnn_ref_net_step_scratch_floats(const mrnn__net_config *cfg)
{
    return (size_t)cfg->embed + 4 * (size_t)cfg->hidden;
}

void mrnn_ref_net_step(const mrnn__net_config *cfg, const mrnn__net_params *w, const uint32_t *ids, size_t n_ids,
                       int style, float *h, float *c, float *logits, float *scratch)
{
    const size_t E = cfg->embed, H = cfg->hidden;
    float *x = scratch, *gates = scratch + E;
    memset(x, 0, E * sizeof *x);
    for (size_t k = 0; k < n_ids; k++) {
        const float *e = w->embed + (size_t)ids[k] * E;
        for (size_t j = 0; j < E; j++) x[j] += e[j];
    }
    if (style >= 0 && cfg->n_styles && w->style) {
        const float *s = w->style + (size_t)style * E;
        for (size_t j = 0; j < E; j++) x[j] += s[j];
    }
    const float *in = x;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        mrnn_ref_lstm_step(&w->layer[l], in, 1, h + l * H, c + l * H, gates);
        in = h + l * H;
    }
    memcpy(logits, w->b_out, cfg->n_out * sizeof *logits);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cfg->n_out, (int)H, 1.0f, w->w_out, (int)H, in, 1, 1.0f, logits, 1);
}

void mrnn_ref_net_step_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const uint32_t *start,
                             const uint32_t *ids, const uint32_t *style, float *h, float *c, float *logits,
                             float *scratch)
{
    const size_t E = cfg->embed, H = cfg->hidden, V = cfg->n_out;
    float *x = scratch;
    float *gates = scratch + (size_t)B * ((E > H ? E : H) + H);
    /* lane b's input: the sum of its tokens' embedding rows and its style row */
    for (int b = 0; b < B; b++) {
        float *row = x + (size_t)b * E;
        memset(row, 0, E * sizeof *row);
        for (uint32_t k = start[b]; k < start[b + 1]; k++)
            for (size_t j = 0; j < E; j++) row[j] += w->embed[(size_t)ids[k] * E + j];
        if (cfg->n_styles) {
            uint32_t s = style ? style[b] : cfg->n_styles - 1;
            for (size_t j = 0; j < E; j++) row[j] += w->style[(size_t)s * E + j];
        }
    }
    const float *in = x;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        float *hl = h + (size_t)l * B * H, *cl = c + (size_t)l * B * H;
        mrnn_ref_lstm_step(&w->layer[l], in, B, hl, cl, gates);
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
