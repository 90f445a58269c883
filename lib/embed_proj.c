/* Layer 0's input projection through the embedding table (see embed_proj.h). The embedding and
 * style blocks are adjacent in the parameter block (network.c binds style right after embed), so
 * [embed; style] is one row-major matrix of n_tokens + n_styles rows, in weights and gradients. */
#include "embed_proj.h"

#include <cblas.h>
#include <string.h>

#include "team.h"
#include "vec_math.h"

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

/* The jobs below split over a team (team.h), each part a disjoint block of its output. */
typedef struct proj_job {
    const mrnn__net_config *cfg;
    const mrnn__net_params *w;
    mrnn__net_params *grad;
    const mrnn__batch *bt;
    float *table;
    float *gates;        /* forward: written */
    const float *dgates; /* backward: read */
} proj_job;

/* Table rows [t0, t1) = [embed; style] rows · W_ih0ᵀ. */
static void table_part(void *ctx, int part, int n_parts)
{
    const proj_job *j = ctx;
    const size_t G = 4u * (size_t)j->cfg->hidden, E = j->cfg->embed;
    size_t t0, t1;
    mrnn__team_range(table_rows(j->cfg), 4, part, n_parts, &t0, &t1);
    if (t1 == t0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(t1 - t0), (int)G, (int)E, 1.0f, j->w->embed + t0 * E,
                (int)E, j->w->layer[0].w_ih, (int)E, 0.0f, j->table + t0 * G, (int)G);
}

/* Window rows [r0, r1): the sum of their tokens' (and style's) table rows. */
static void gather_part(void *ctx, int part, int n_parts)
{
    const proj_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    const size_t G = 4u * (size_t)j->cfg->hidden;
    size_t r0, r1;
    mrnn__team_range((size_t)bt->T * (size_t)bt->B, 1, part, n_parts, &r0, &r1);
    const int styled = bt->style && j->w->style;
    for (size_t r = r0; r < r1; r++) {
        float *a = j->gates + r * G;
        memset(a, 0, G * sizeof *a);
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) mrnn__vec_add(a, j->table + (size_t)bt->in_ids[k] * G, G);
        if (styled) mrnn__vec_add(a, j->table + ((size_t)j->cfg->n_tokens + bt->style[r % (size_t)bt->B]) * G, G);
    }
}

void mrnn__embed_proj_forward(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                              float *table, float *gates, mrnn__team *team)
{
    proj_job j = {cfg, w, NULL, bt, table, gates, NULL};
    mrnn__team_run(team, table_part, &j);
    mrnn__team_run(team, gather_part, &j);
}

void mrnn__embed_proj_gather(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                             const float *table, float *gates, mrnn__team *team)
{
    proj_job j = {cfg, w, NULL, bt, (float *)table, gates, NULL}; /* gather_part only reads the table */
    mrnn__team_run(team, gather_part, &j);
}

/* Gate columns [g0, g1): D's columns (the gradients summed per table row), then the same rows of
 * dW_ih0 += Dᵀ · [embed; style], which read only those columns of D. */
static void table_grad_part(void *ctx, int part, int n_parts)
{
    const proj_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    const size_t G = 4u * (size_t)j->cfg->hidden, E = j->cfg->embed, rows = (size_t)bt->T * (size_t)bt->B;
    const size_t n = table_rows(j->cfg);
    size_t g0, g1;
    mrnn__team_range(G, 16, part, n_parts, &g0, &g1);
    if (g1 == g0) return;
    const size_t ng = g1 - g0;
    float *D = j->table;
    for (size_t t = 0; t < n; t++) memset(D + t * G + g0, 0, ng * sizeof *D);
    const int styled = bt->style && j->w->style;
    for (size_t r = 0; r < rows; r++) {
        const float *d = j->dgates + r * G + g0;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++)
            mrnn__vec_add(D + (size_t)bt->in_ids[k] * G + g0, d, ng);
        if (styled) mrnn__vec_add(D + ((size_t)j->cfg->n_tokens + bt->style[r % (size_t)bt->B]) * G + g0, d, ng);
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ng, (int)E, (int)n, 1.0f, D + g0, (int)G, j->w->embed,
                (int)E, 1.0f, j->grad->layer[0].w_ih + g0 * E, (int)E);
}

/* Table rows [t0, t1): d[embed; style] += D · W_ih0 (needs every column of D). */
static void embed_grad_part(void *ctx, int part, int n_parts)
{
    const proj_job *j = ctx;
    const size_t G = 4u * (size_t)j->cfg->hidden, E = j->cfg->embed;
    size_t t0, t1;
    mrnn__team_range(table_rows(j->cfg), 4, part, n_parts, &t0, &t1);
    if (t1 == t0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(t1 - t0), (int)E, (int)G, 1.0f, j->table + t0 * G,
                (int)G, j->w->layer[0].w_ih, (int)E, 1.0f, j->grad->embed + t0 * E, (int)E);
}

void mrnn__embed_proj_backward(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                               const mrnn__batch *bt, float *table, const float *dgates, mrnn__team *team)
{
    proj_job j = {cfg, w, grad, bt, table, NULL, dgates};
    mrnn__team_run(team, table_grad_part, &j);
    mrnn__team_run(team, embed_grad_part, &j);
}
