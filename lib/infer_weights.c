/* Building the sampling copy of the weights (layout in infer_matmul.c, reasons in infer_weights.h). */
#include "infer_weights.h"

#include <string.h>

#include "alloc.h"
#include "embed_proj.h"
#include "team.h"

#define PANEL 64 /* must match infer_matmul.c */
/* The projected-embedding table is used while it is at most this many times the size of W_ih0. */
#define INFER_TABLE_MAX_RATIO 4

uint16_t mrnn__bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN stays a (quiet) NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                           /* nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float mrnn__bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static size_t padded(int n_out)
{
    return ((size_t)n_out + PANEL - 1) / PANEL * PANEL;
}

/* Element (k, g) of the transposed matrix comes from src_rows[g][k]: two row-major sources stacked
 * along k (a layer's W_ih then W_hh) or one (b == NULL). */
static void pack(mrnn__infer_matrix *m, void *dst, int bf16, const float *a, int ka, const float *b, int kb, int n_out)
{
    const int K = ka + kb;
    const size_t panel = (size_t)K * PANEL;
    float *f = bf16 ? NULL : dst;
    uint16_t *h = bf16 ? dst : NULL;
    for (size_t p = 0; p < padded(n_out) / PANEL; p++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < PANEL; j++) {
                size_t g = p * PANEL + (size_t)j, at = p * panel + (size_t)k * PANEL + (size_t)j;
                float v = 0.0f;
                if (g < (size_t)n_out) v = k < ka ? a[g * (size_t)ka + (size_t)k] : b[g * (size_t)kb + (size_t)(k - ka)];
                if (bf16)
                    h[at] = mrnn__bf16_from_float(v);
                else
                    f[at] = v;
            }
    m->n_in = K;
    m->n_out = n_out;
    m->f32 = f;
    m->bf16 = h;
}

size_t mrnn__infer_packed_floats(int n_in, int n_out)
{
    return (size_t)n_in * padded(n_out);
}

void mrnn__infer_pack(mrnn__infer_matrix *m, float *dst, const float *src, int n_in, int n_out, int src_is_w)
{
    if (src_is_w) {
        pack(m, dst, 0, src, n_in, NULL, 0, n_out);
        return;
    }
    /* src [n_in x n_out]: each panel row is a contiguous run of a source row */
    const size_t panel = (size_t)n_in * PANEL;
    for (size_t p = 0; p < padded(n_out) / PANEL; p++) {
        const size_t g0 = p * PANEL, n = (size_t)n_out - g0 < PANEL ? (size_t)n_out - g0 : PANEL;
        for (int k = 0; k < n_in; k++) {
            float *row = dst + p * panel + (size_t)k * PANEL;
            memcpy(row, src + (size_t)k * (size_t)n_out + g0, n * sizeof *row);
            if (n < PANEL) memset(row + n, 0, (PANEL - n) * sizeof *row);
        }
    }
    m->n_in = n_in;
    m->n_out = n_out;
    m->f32 = dst;
    m->bf16 = NULL;
}

mrnn__infer_weights *mrnn__infer_weights_new(const mrnn__net_config *cfg, const mrnn__net_params *w, int bf16)
{
    if (cfg->layers == 0 || cfg->layers > MRNN__MAX_LAYERS) return NULL;
    const size_t elem = bf16 ? sizeof(uint16_t) : sizeof(float), H = cfg->hidden, G = 4 * H;
    const size_t table_rows = (size_t)cfg->n_tokens + cfg->n_styles;
    const int use_table = table_rows <= INFER_TABLE_MAX_RATIO * (size_t)cfg->embed;
    /* Sizes are bounded by the model limits (LIMITS.md), far from overflowing. */
    size_t total = (size_t)cfg->hidden * padded((int)cfg->n_out);
    for (uint32_t l = 0; l < cfg->layers; l++)
        total += ((l == 0 && use_table ? 0 : (size_t)w->layer[l].n_in) + H) * padded((int)G);
    const size_t table_bytes = use_table ? (mrnn__embed_proj_floats(cfg) * sizeof(float) + 63) / 64 * 64 : 0;
    mrnn__infer_weights *iw = mrnn__calloc(1, sizeof *iw);
    if (!iw) return NULL;
    /* 64-byte aligned panels: vector loads never split a cache line; the table (floats) goes first */
    iw->mem = mrnn__malloc(table_bytes + total * elem + 64);
    if (!iw->mem) {
        mrnn__free(iw);
        return NULL;
    }
    unsigned char *p = mrnn__align64(iw->mem);
    if (use_table) {
        /* [embed; style] · W_ih0ᵀ through the packed kernel and a temporary packing of W_ih0ᵀ, not
         * OpenBLAS: a multi-threaded sgemm leaves OpenBLAS's workers spinning for a while on the
         * core the sampler's helper is about to use. */
        float *table = (float *)(void *)p;
        const size_t tmp_floats = mrnn__infer_packed_floats((int)cfg->embed, (int)G);
        void *tmp_mem = mrnn__malloc(tmp_floats * sizeof(float) + 64);
        if (!tmp_mem) {
            mrnn__free(iw->mem);
            mrnn__free(iw);
            return NULL;
        }
        float *tmp = mrnn__align64(tmp_mem);
        mrnn__infer_matrix w_ih0;
        mrnn__infer_pack(&w_ih0, tmp, w->layer[0].w_ih, (int)cfg->embed, (int)G, 1);
        mrnn__infer_matmul_set(&w_ih0, (int)table_rows, w->embed, cfg->embed, table, G);
        mrnn__free(tmp_mem);
        iw->table0 = table;
        p += table_bytes;
    }
    iw->bf16 = bf16 != 0;
    iw->layers = cfg->layers;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const mrnn__lstm_weights *lw = &w->layer[l];
        if (l == 0 && use_table) {
            pack(&iw->layer[l], p, iw->bf16, lw->w_hh, lw->n_hidden, NULL, 0, (int)G);
            p += H * padded((int)G) * elem;
            continue;
        }
        pack(&iw->layer[l], p, iw->bf16, lw->w_ih, lw->n_in, lw->w_hh, lw->n_hidden, (int)G);
        p += ((size_t)lw->n_in + H) * padded((int)G) * elem;
    }
    pack(&iw->out, p, iw->bf16, w->w_out, (int)H, NULL, 0, (int)cfg->n_out);
    return iw;
}

void mrnn__infer_weights_free(mrnn__infer_weights *iw)
{
    if (!iw) return;
    mrnn__team_free(iw->team);
    mrnn__free(iw->mem);
    mrnn__free(iw);
}
