/* Layer 0's input projection through the embedding table (see embed_proj.h). The embedding and
 * style blocks are adjacent in the parameter block (network.c binds style right after embed), so
 * [embed; style] is one row-major matrix of n_tokens + n_styles rows, in weights and gradients. */
#include "embed_proj.h"

#include <cblas.h>
#include <string.h>

static size_t table_rows(const mrnn__net_config *cfg)
{
    return (size_t)cfg->n_tokens + (size_t)cfg->n_styles;
}

int mrnn__embed_proj_worth(const mrnn__net_config *cfg, size_t rows)
{
    /* the table costs one GEMM row per entry each way, the direct path one per window row, plus
     * gathering rows; demand a clear margin */
    return table_rows(cfg) * 2 <= rows;
}

size_t mrnn__embed_proj_floats(const mrnn__net_config *cfg)
{
    return table_rows(cfg) * 4u * (size_t)cfg->hidden;
}

/* dst[0..n) += src[0..n) */
static void add_row(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

void mrnn__embed_proj_table(const mrnn__net_config *cfg, const mrnn__net_params *w, float *table)
{
    const size_t G = 4u * (size_t)cfg->hidden, E = cfg->embed;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)table_rows(cfg), (int)G, (int)E, 1.0f, w->embed,
                (int)E, w->layer[0].w_ih, (int)E, 0.0f, table, (int)G);
}

void mrnn__embed_proj_forward(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                              float *table, float *gates)
{
    const size_t G = 4u * (size_t)cfg->hidden, rows = (size_t)bt->T * (size_t)bt->B;
    mrnn__embed_proj_table(cfg, w, table);
    const int styled = bt->style && w->style;
    for (size_t r = 0; r < rows; r++) {
        float *a = gates + r * G;
        memset(a, 0, G * sizeof *a);
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) add_row(a, table + (size_t)bt->in_ids[k] * G, G);
        if (styled) add_row(a, table + ((size_t)cfg->n_tokens + bt->style[r % (size_t)bt->B]) * G, G);
    }
}

void mrnn__embed_proj_backward(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                               const mrnn__batch *bt, float *table, const float *dgates)
{
    const size_t G = 4u * (size_t)cfg->hidden, E = cfg->embed, rows = (size_t)bt->T * (size_t)bt->B;
    const size_t n = table_rows(cfg);
    float *D = table;
    memset(D, 0, n * G * sizeof *D);
    const int styled = bt->style && w->style;
    for (size_t r = 0; r < rows; r++) {
        const float *d = dgates + r * G;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) add_row(D + (size_t)bt->in_ids[k] * G, d, G);
        if (styled) add_row(D + ((size_t)cfg->n_tokens + bt->style[r % (size_t)bt->B]) * G, d, G);
    }
    const mrnn__lstm_weights *l0 = &w->layer[0];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)G, (int)E, (int)n, 1.0f, D, (int)G, w->embed, (int)E,
                1.0f, grad->layer[0].w_ih, (int)E);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)E, (int)G, 1.0f, D, (int)G, l0->w_ih, (int)E,
                1.0f, grad->embed, (int)E);
}
