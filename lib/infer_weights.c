/* Building the sampler's copy of the weights (the packed layout in packed.c, reasons in infer_weights.h). */
#include "infer_weights.h"

#include <string.h>

#include "alloc.h"
#include "embed_proj.h"
#include "packed.h"

/* The projected-embedding table is used while it is at most this many times the size of W_ih0. */
#define INFER_TABLE_MAX_RATIO 4

mrnn__infer_weights *mrnn__infer_weights_new(const mrnn__net_config *cfg, const mrnn__net_params *w, int bf16)
{
    if (cfg->layers == 0 || cfg->layers > MRNN__MAX_LAYERS) return NULL;
    const size_t elem = bf16 ? sizeof(uint16_t) : sizeof(float), H = cfg->hidden, G = 4 * H;
    const size_t table_rows = (size_t)cfg->n_tokens + cfg->n_styles;
    const int use_table = table_rows <= INFER_TABLE_MAX_RATIO * (size_t)cfg->embed;
    /* Sizes are bounded by the model limits (LIMITS.md), far from overflowing. */
    size_t total = mrnn__packed_floats((int)cfg->hidden, (int)cfg->n_out);
    for (uint32_t l = 0; l < cfg->layers; l++)
        total += mrnn__packed_floats((l == 0 && use_table ? 0 : (int)w->layer[l].n_in) + (int)H, (int)G);
    const size_t table_bytes = use_table ? (mrnn__embed_proj_floats(cfg) * sizeof(float) + 63) / 64 * 64 : 0;
    mrnn__infer_weights *iw = mrnn__calloc(1, sizeof *iw);
    if (!iw) return NULL;
    /* 64-byte aligned panels: vector loads never split a cache line; the table (floats) goes first */
    iw->mem = mrnn__malloc_large(table_bytes + total * elem + 64);
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
        const size_t tmp_floats = mrnn__packed_floats((int)cfg->embed, (int)G);
        void *tmp_mem = mrnn__malloc(tmp_floats * sizeof(float) + 64);
        if (!tmp_mem) {
            mrnn__free(iw->mem);
            mrnn__free(iw);
            return NULL;
        }
        float *tmp = mrnn__align64(tmp_mem);
        mrnn__packed w_ih0;
        mrnn__pack(&w_ih0, tmp, w->layer[0].w_ih, (int)cfg->embed, (int)G, 1);
        mrnn__packed_matmul_set(&w_ih0, (int)table_rows, w->embed, cfg->embed, table, G);
        mrnn__free(tmp_mem);
        iw->table0 = table;
        p += table_bytes;
    }
    iw->bf16 = bf16 != 0;
    iw->layers = cfg->layers;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const mrnn__lstm_weights *lw = &w->layer[l];
        if (l == 0 && use_table) {
            mrnn__pack_stacked(&iw->layer[l], p, iw->bf16, lw->w_hh, lw->n_hidden, NULL, 0, (int)G);
            p += mrnn__packed_floats((int)H, (int)G) * elem;
            continue;
        }
        mrnn__pack_stacked(&iw->layer[l], p, iw->bf16, lw->w_ih, lw->n_in, lw->w_hh, lw->n_hidden, (int)G);
        p += mrnn__packed_floats(lw->n_in + (int)H, (int)G) * elem;
    }
    mrnn__pack_stacked(&iw->out, p, iw->bf16, w->w_out, (int)H, NULL, 0, (int)cfg->n_out);
    return iw;
}

void mrnn__infer_weights_free(mrnn__infer_weights *iw)
{
    if (!iw) return;
    mrnn__free(iw->mem);
    mrnn__free(iw);
}

void mrnn__infer_weights_set_isa(mrnn__infer_weights *iw, int isa)
{
    for (uint32_t l = 0; l < iw->layers; l++) iw->layer[l].isa = isa;
    iw->out.isa = isa;
}
