/* One inference step for B lanes through the sampler's packed weights (network_infer.h). */
#include <string.h>

#include "network_infer.h"
#include "vec_math.h"

size_t mrnn__net_lanes_scratch_floats(const mrnn__net_config *cfg, int B)
{
    size_t width = cfg->embed > cfg->hidden ? cfg->embed : cfg->hidden;
    /* rows [input | h], then the gate pre-activations */
    return (size_t)B * (width + cfg->hidden) + 4 * (size_t)cfg->hidden * (size_t)B;
}

/* Input rows: the sum of each lane's token embeddings and style row, with row stride ld. */
static void embed_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const uint32_t *start,
                        const uint32_t *ids, const uint32_t *style, float *x, size_t ld)
{
    const size_t E = cfg->embed;
    for (int b = 0; b < B; b++) {
        float *row = x + (size_t)b * ld;
        memset(row, 0, E * sizeof *row);
        for (uint32_t k = start[b]; k < start[b + 1]; k++) mrnn__vec_add(row, w->embed + (size_t)ids[k] * E, E);
        if (cfg->n_styles) {
            uint32_t s = style ? style[b] : cfg->n_styles - 1;
            mrnn__vec_add(row, w->style + (size_t)s * E, E);
        }
    }
}

/* Layer 0's pre-activations from the projected-embedding table: per lane, the sum of its tokens'
 * rows and its style row (the same sum as embed_lanes, taken after the projection). */
static void table_lanes(const mrnn__net_config *cfg, const float *table, int B, const uint32_t *start,
                        const uint32_t *ids, const uint32_t *style, float *gates)
{
    const size_t G = 4 * (size_t)cfg->hidden;
    memset(gates, 0, (size_t)B * G * sizeof *gates);
    for (int b = 0; b < B; b++) {
        float *row = gates + (size_t)b * G;
        for (uint32_t k = start[b]; k < start[b + 1]; k++) mrnn__vec_add(row, table + (size_t)ids[k] * G, G);
        if (cfg->n_styles) {
            uint32_t s = style ? style[b] : cfg->n_styles - 1;
            mrnn__vec_add(row, table + ((size_t)cfg->n_tokens + s) * G, G);
        }
    }
}

/* Through the sampling copy: per layer, rows [x_b | h_b] times the packed [W_ih | W_hh]; with the
 * table, layer 0 starts from its gathered rows and multiplies h_b by W_hh alone. */
static void step_packed(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__infer_weights *iw,
                        struct mrnn__team *team, int B, const uint32_t *start, const uint32_t *ids,
                        const uint32_t *style, float *h, float *c, float *logits, float *scratch)
{
    const size_t E = cfg->embed, H = cfg->hidden, V = cfg->n_out, G = 4 * H;
    const size_t ld = (E > H ? E : H) + H;
    float *xh = scratch, *gates = scratch + (size_t)B * ld;
    if (iw->table0)
        table_lanes(cfg, iw->table0, B, start, ids, style, gates);
    else
        embed_lanes(cfg, w, B, start, ids, style, xh, ld);
    for (uint32_t l = 0; l < cfg->layers; l++) {
        float *hl = h + (size_t)l * B * H, *cl = c + (size_t)l * B * H;
        /* the inputs are copies: the step updates h while threads still read its old value */
        if (l == 0 && iw->table0) {
            for (int b = 0; b < B; b++) memcpy(xh + (size_t)b * ld, hl + (size_t)b * H, H * sizeof *xh);
            mrnn__lstm_step_packed(team, &w->layer[0], &iw->layer[0], B, xh, ld, gates, hl, cl);
            continue;
        }
        const size_t n_in = (size_t)w->layer[l].n_in;
        for (int b = 0; b < B; b++) {
            if (l > 0) memcpy(xh + (size_t)b * ld, h + ((size_t)(l - 1) * B + (size_t)b) * H, H * sizeof *xh);
            memcpy(xh + (size_t)b * ld + n_in, hl + (size_t)b * H, H * sizeof *xh);
        }
        memset(gates, 0, (size_t)B * G * sizeof *gates);
        mrnn__lstm_step_packed(team, &w->layer[l], &iw->layer[l], B, xh, ld, gates, hl, cl);
    }
    const float *top = h + (size_t)(cfg->layers - 1) * B * H;
    for (int b = 0; b < B; b++) memcpy(logits + (size_t)b * V, w->b_out, V * sizeof *logits);
    mrnn__packed_matmul_team(team, &iw->out, B, top, H, logits, V);
}

void mrnn__net_step_lanes(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__infer_weights *iw,
                          struct mrnn__team *team, int B, const uint32_t *start, const uint32_t *ids,
                          const uint32_t *style, float *h, float *c, float *logits, float *scratch)
{
    step_packed(cfg, w, iw, team, B, start, ids, style, h, c, logits, scratch);
}
