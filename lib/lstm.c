/* LSTM layer kernels: window forward/backward (packed weights or CBLAS) and the element-wise step.
 *
 * Pre-activations of the whole window come from one GEMM (X · W_ihᵀ); each step adds its recurrent
 * GEMM and then runs the cell, one fused element-wise pass over the four gates (lstm_cell.h).
 * Backward writes the pre-activation gradients of the whole window over the cached activations,
 * so that the weight gradients are one GEMM each without a window-sized scratch. */
#include "lstm.h"

#include <cblas.h>
#include <string.h>

#include "lstm_cell.h"
#include "packed.h"
#include "team.h"
#include "vec_math.h"

size_t mrnn__lstm_cache_floats(int T, int B, int H)
{
    return (size_t)T * (size_t)B * (size_t)H * 6u;
}

size_t mrnn__lstm_backward_scratch_floats(int T, int B, int H)
{
    (void)T;
    return (size_t)B * (size_t)H; /* the running cell gradient */
}

void mrnn__lstm_cache_bind(mrnn__lstm_cache *c, float *mem, int T, int B, int H)
{
    size_t nh = (size_t)T * (size_t)B * (size_t)H;
    c->gates = mem;
    c->c = mem + 4 * nh;
    c->h = mem + 5 * nh;
    c->rec_drop = 0.0f;
    c->rec_seed = 0;
}

/* ---- window forward and backward, as jobs for a team (team.h) ----------------------------------
 * Lanes are independent through the recurrence, so the time loop of a window splits by lanes with
 * no synchronisation inside it; the window-wide products split by rows, the weight gradients by
 * gate rows (each part a disjoint block of the output). The packed products give the same bits
 * however they are split; OpenBLAS's may differ in rounding with the block size. */

typedef struct window_job {
    const mrnn__lstm_weights *w;
    mrnn__lstm_weights *g; /* backward: gradients */
    const mrnn__packed *pih, *phh;
    const float *x, *h0, *c0;
    int T, B;
    mrnn__lstm_cache *cache;
    float *dh, *dx, *scratch; /* backward */
} window_job;

/* Lane-tile and panel friendly boundaries between parts. */
#define ROW_ALIGN 4
#define GATE_ALIGN 16

/* gates = x · W_ihᵀ for rows [r0, r1) of the window. */
static void forward_project_part(void *ctx, int part, int n_parts)
{
    const window_job *j = ctx;
    const int H = j->w->n_hidden, NI = j->w->n_in, G = 4 * H;
    size_t r0, r1;
    mrnn__team_range((size_t)j->T * (size_t)j->B, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    const float *x = j->x + r0 * (size_t)NI;
    float *gates = j->cache->gates + r0 * (size_t)G;
    if (j->pih) {
        mrnn__packed_matmul_set(j->pih, (int)(r1 - r0), x, (size_t)NI, gates, (size_t)G);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), G, NI, 1.0f, x, NI, j->w->w_ih, NI,
                    0.0f, gates, G);
    }
}

/* A part's lanes: [*b0, *b0 + return value). */
static int lane_range(const window_job *j, int part, int n_parts, int *b0)
{
    size_t lb0, lb1;
    mrnn__team_range((size_t)j->B, ROW_ALIGN, part, n_parts, &lb0, &lb1);
    *b0 = (int)lb0;
    return (int)(lb1 - lb0);
}

/* The time loop for lanes [b0, b1): recurrent product, then the cell of each lane. */
static void forward_steps_part(void *ctx, int part, int n_parts)
{
    const window_job *j = ctx;
    const int H = j->w->n_hidden, G = 4 * H, B = j->B;
    int b0;
    const int nb = lane_range(j, part, n_parts, &b0);
    if (nb == 0) return;
    mrnn__lstm_cache *cache = j->cache;
    mrnn__cell_drop drop = {cache->rec_drop, cache->rec_seed, 0};
    const int dropping = cache->rec_drop > 0.0f;
    for (int t = 0; t < j->T; t++) {
        size_t row = (size_t)t * (size_t)B + (size_t)b0;
        float *a = cache->gates + row * (size_t)G;
        const float *hp = t > 0 ? cache->h + (row - (size_t)B) * (size_t)H : j->h0 ? j->h0 + (size_t)b0 * H : NULL;
        const float *cp = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : j->c0 ? j->c0 + (size_t)b0 * H : NULL;
        if (hp && j->phh)
            mrnn__packed_matmul(j->phh, nb, hp, (size_t)H, a, (size_t)G);
        else if (hp)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, G, H, 1.0f, hp, H, j->w->w_hh, H, 1.0f, a, G);
        for (int b = 0; b < nb; b++) {
            size_t r = row + (size_t)b;
            drop.row = r;
            mrnn__cell_row p = {a + (size_t)b * (size_t)G, j->w->b, cp ? cp + (size_t)b * (size_t)H : NULL,
                                cache->c + r * (size_t)H, cache->h + r * (size_t)H, dropping ? &drop : NULL};
            mrnn__lstm_cell_forward(&p, H);
        }
    }
}

void mrnn__lstm_forward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, mrnn__team *team, const float *x,
                        int T, int B, const float *h0, const float *c0, mrnn__lstm_cache *cache)
{
    if ((size_t)T * (size_t)B == 0) return;
    window_job j = {w, NULL, pk ? pk->ih : NULL, pk ? pk->hh : NULL, x, h0, c0, T, B, cache, NULL, NULL, NULL};
    if (x) mrnn__team_run(team, forward_project_part, &j);
    mrnn__team_run(team, forward_steps_part, &j);
}

/* out[0..m) += sum of the n rows of a (row stride ld). Row by row, so that a streams through once
 * and out stays in L1 (by columns, every row's line was fetched again for each 4 columns); each
 * element is still summed over the rows in order. */
static void add_row_sums(float *out, const float *a, size_t n, size_t ld, int m)
{
    for (size_t r = 0; r < n; r++) {
        const float *row = a + r * ld;
        int j = 0;
        for (; j + 4 <= m; j += 4) mrnn__v4_store(out + j, mrnn__v4_load(out + j) + mrnn__v4_load(row + j));
        for (; j < m; j++) out[j] += row[j];
    }
}

/* The time loop backwards for lanes [b0, b1): each lane's cell gradients, then its share of the
 * recurrent gradient into the step before. The running cell gradient of lane b is scratch row b. */
static void backward_steps_part(void *ctx, int part, int n_parts)
{
    const window_job *j = ctx;
    const int H = j->w->n_hidden, G = 4 * H, B = j->B;
    int b0;
    const int nb = lane_range(j, part, n_parts, &b0);
    if (nb == 0) return;
    mrnn__lstm_cache *cache = j->cache;
    float *dgates = cache->gates; /* overwritten step by step, latest first */
    mrnn__cell_drop drop = {cache->rec_drop, cache->rec_seed, 0};
    const int dropping = cache->rec_drop > 0.0f;
    float *dc = j->scratch + (size_t)b0 * (size_t)H;
    memset(dc, 0, (size_t)nb * (size_t)H * sizeof *dc);
    for (int t = j->T - 1; t >= 0; t--) {
        size_t row = (size_t)t * (size_t)B + (size_t)b0;
        const float *cp_t = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : j->c0 ? j->c0 + (size_t)b0 * H : NULL;
        for (int b = 0; b < nb; b++) {
            size_t r = row + (size_t)b;
            drop.row = r;
            mrnn__lstm_cell_backward(dgates + r * (size_t)G, cache->c + r * (size_t)H,
                                     cp_t ? cp_t + (size_t)b * (size_t)H : NULL, j->dh + r * (size_t)H,
                                     dc + (size_t)b * (size_t)H, H, dropping ? &drop : NULL);
        }
        if (t == 0) break;
        float *dprev = j->dh + (row - (size_t)B) * (size_t)H;
        if (j->phh)
            mrnn__packed_matmul(j->phh, nb, dgates + row * (size_t)G, (size_t)G, dprev, (size_t)H);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, H, G, 1.0f, dgates + row * (size_t)G, G,
                        j->w->w_hh, H, 1.0f, dprev, H);
    }
}

/* Weight and bias gradients for gate rows [g0, g1): dW_ih, dW_hh and db, each over the window. */
static void backward_weights_part(void *ctx, int part, int n_parts)
{
    const window_job *j = ctx;
    const int H = j->w->n_hidden, NI = j->w->n_in, G = 4 * H, B = j->B;
    const size_t n = (size_t)j->T * (size_t)B, bh = (size_t)B * (size_t)H;
    size_t lg0, lg1;
    mrnn__team_range((size_t)G, GATE_ALIGN, part, n_parts, &lg0, &lg1);
    const int g0 = (int)lg0, ng = (int)(lg1 - lg0);
    if (ng == 0) return;
    const float *dgates = j->cache->gates + g0; /* columns g0.. of the gradients, row stride G */
    mrnn__lstm_weights *g = j->g;
    float *dw_hh = g->w_hh + (size_t)g0 * (size_t)H;
    if (j->phh) {
        /* the packed path: the library's own kernel (packed.h), the isa of the layer's products */
        const int isa = j->phh->isa;
        if (j->x) mrnn__atb(isa, ng, NI, (int)n, dgates, (size_t)G, j->x, (size_t)NI, g->w_ih + (size_t)g0 * (size_t)NI, (size_t)NI);
        if (j->T > 1)
            mrnn__atb(isa, ng, H, (int)(n - (size_t)B), dgates + bh * 4u, (size_t)G, j->cache->h, (size_t)H, dw_hh, (size_t)H);
        if (j->h0) mrnn__atb(isa, ng, H, B, dgates, (size_t)G, j->h0, (size_t)H, dw_hh, (size_t)H);
        add_row_sums(g->b + g0, dgates, n, (size_t)G, ng);
        return;
    }
    if (j->x)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ng, NI, (int)n, 1.0f, dgates, G, j->x, NI, 1.0f,
                    g->w_ih + (size_t)g0 * (size_t)NI, NI);
    /* dW_hh pairs step t's gate gradients with h_{t-1}: rows B.. of dgates with rows ..n-B of h
     * (both contiguous in the step-major layout), plus step 0 with h0 when there is one. */
    if (j->T > 1)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ng, H, (int)(n - (size_t)B), 1.0f, dgates + bh * 4u, G,
                    j->cache->h, H, 1.0f, dw_hh, H);
    if (j->h0) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ng, H, B, 1.0f, dgates, G, j->h0, H, 1.0f, dw_hh, H);
    add_row_sums(g->b + g0, dgates, n, (size_t)G, ng);
}

/* dx = dgates · W_ih for rows [r0, r1). */
static void backward_dx_part(void *ctx, int part, int n_parts)
{
    const window_job *j = ctx;
    const int H = j->w->n_hidden, NI = j->w->n_in, G = 4 * H;
    size_t r0, r1;
    mrnn__team_range((size_t)j->T * (size_t)j->B, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    const float *dgates = j->cache->gates + r0 * (size_t)G;
    float *dx = j->dx + r0 * (size_t)NI;
    if (j->pih) {
        mrnn__packed_matmul_set(j->pih, (int)(r1 - r0), dgates, (size_t)G, dx, (size_t)NI);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), NI, G, 1.0f, dgates, G, j->w->w_ih,
                    NI, 0.0f, dx, NI);
    }
}

void mrnn__lstm_backward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, mrnn__team *team,
                         mrnn__lstm_weights *g, const float *x, int T, int B, const float *h0, const float *c0,
                         mrnn__lstm_cache *cache, float *dh, float *dx, float *scratch)
{
    if ((size_t)T * (size_t)B == 0) return;
    window_job j = {w, g, pk ? pk->ih : NULL, pk ? pk->hh : NULL, x, h0, c0, T, B, cache, dh, dx, scratch};
    mrnn__team_run(team, backward_steps_part, &j);
    mrnn__team_run(team, backward_weights_part, &j);
    if (dx) mrnn__team_run(team, backward_dx_part, &j);
}

void mrnn__lstm_step_gates(const mrnn__lstm_weights *w, int B, float *gates, float *h, float *c)
{
    const int H = w->n_hidden;
    for (int b = 0; b < B; b++) {
        float *hb = h + (size_t)b * (size_t)H, *cb = c + (size_t)b * (size_t)H;
        mrnn__cell_row p = {gates + (size_t)b * 4u * (size_t)H, w->b, cb, cb, hb, NULL};
        mrnn__lstm_cell_forward(&p, H);
    }
}

typedef struct step_job {
    const mrnn__lstm_weights *w;
    const mrnn__packed *m;
    int B;
    const float *x;
    size_t ldx;
    float *gates, *h, *c;
} step_job;

/* Cells [j0, j1) of every lane: their columns of the four gate blocks, then their updates. */
static void step_cells_part(void *ctx, int part, int n_parts)
{
    const step_job *j = ctx;
    const int H = j->w->n_hidden;
    const size_t G = 4 * (size_t)H;
    size_t j0, j1;
    mrnn__team_range((size_t)H, (size_t)mrnn__packed_panel_cols(), part, n_parts, &j0, &j1);
    if (j1 <= j0) return;
    for (int q = 0; q < 4; q++)
        mrnn__packed_matmul_cols(j->m->isa, j->m, q * H + (int)j0, q * H + (int)j1, j->B, j->x, j->ldx, j->gates, G, 1);
    for (int b = 0; b < j->B; b++) {
        float *hb = j->h + (size_t)b * (size_t)H, *cb = j->c + (size_t)b * (size_t)H;
        mrnn__cell_row p = {j->gates + (size_t)b * G, j->w->b, cb, cb, hb, NULL};
        mrnn__lstm_cell_forward_cells(&p, H, (int)j0, (int)j1);
    }
}

void mrnn__lstm_step_packed(mrnn__team *t, const mrnn__lstm_weights *w, const mrnn__packed *m, int B,
                            const float *x, size_t ldx, float *gates, float *h, float *c)
{
    const int H = w->n_hidden, panel = mrnn__packed_panel_cols();
    /* every gate block must start on a panel, and each thread get a panel of cells at least */
    if (mrnn__team_size(t) > 1 && H % panel == 0 && H / panel >= mrnn__team_size(t) &&
        mrnn__packed_worth_splitting(m)) {
        step_job j = {w, m, B, x, ldx, gates, h, c};
        mrnn__team_run(t, step_cells_part, &j);
        return;
    }
    mrnn__packed_matmul_team(t, m, B, x, ldx, gates, 4 * (size_t)H);
    mrnn__lstm_step_gates(w, B, gates, h, c);
}
