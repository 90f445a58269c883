/* The network's NADE frame output over a window (network_nade.h). */
#include "network_nade.h"

#include <cblas.h>
#include <string.h>

#include "alloc.h"
#include "nade.h"
#include "team.h"
#include "vec_math.h"

/* Fixed blocks of rows, each with its own weight-gradient sums: more than the threads of any team
 * this library starts on the machines it runs on, few enough that adding them up is cheap. */
#define NADE_BLOCKS 8
#define ROW_ALIGN 4

struct mrnn__nade_ws {
    size_t rows;
    float *bh;                          /* [rows x N] hidden biases, then their gradient */
    float *dwv[NADE_BLOCKS];            /* [2 x K x N] per block: d nade_w, then d nade_v */
    float *scratch[NADE_BLOCKS];        /* mrnn__nade_scratch_floats each */
    double loss[NADE_BLOCKS];
    uint64_t correct[NADE_BLOCKS];
    float *mem;
};

mrnn__nade_ws *mrnn__nade_ws_new(const mrnn__net_config *cfg, size_t rows)
{
    const int K = (int)cfg->n_out, N = (int)cfg->nade_hidden;
    const size_t kn = (size_t)K * (size_t)N, sc = mrnn__nade_scratch_floats(K, N);
    size_t floats, bytes;
    if (!mrnn__mul_ok(rows, (size_t)N, &floats)) return NULL;
    floats += NADE_BLOCKS * (2 * kn + sc);
    if (!mrnn__mul_ok(floats, sizeof(float), &bytes)) return NULL;
    mrnn__nade_ws *ws = mrnn__calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->mem = mrnn__malloc(bytes);
    if (!ws->mem) {
        mrnn__free(ws);
        return NULL;
    }
    ws->rows = rows;
    float *p = ws->mem;
    ws->bh = p;
    p += rows * (size_t)N;
    for (int b = 0; b < NADE_BLOCKS; b++) {
        ws->dwv[b] = p;
        p += 2 * kn;
        ws->scratch[b] = p;
        p += sc;
    }
    return ws;
}

void mrnn__nade_ws_free(mrnn__nade_ws *ws)
{
    if (!ws) return;
    mrnn__free(ws->mem);
    mrnn__free(ws);
}

typedef struct nade_job {
    const mrnn__net_config *cfg;
    const mrnn__net_params *w;
    mrnn__net_params *grad;
    const mrnn__batch *bt;
    const float *top;
    float *logits, *dh;
    float scale;
    size_t rows;
    mrnn__nade_ws *ws;
} nade_job;

/* bh = nade_bh + top · nade_wuᵀ for a share of the rows. */
static void hidden_bias_part(void *ctx, int part, int n_parts)
{
    const nade_job *j = ctx;
    const int H = (int)j->cfg->hidden, N = (int)j->cfg->nade_hidden;
    size_t r0, r1;
    mrnn__team_range(j->rows, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    float *bh = j->ws->bh + r0 * (size_t)N;
    for (size_t r = 0; r < r1 - r0; r++) memcpy(bh + r * (size_t)N, j->w->nade_bh, (size_t)N * sizeof *bh);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), N, H, 1.0f, j->top + r0 * (size_t)H, H,
                j->w->nade_wu, H, 1.0f, bh, N);
}

/* The NADE over the rows of blocks part, part + n_parts, ... */
static void rows_part(void *ctx, int part, int n_parts)
{
    const nade_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    const int K = (int)j->cfg->n_out, N = (int)j->cfg->nade_hidden;
    const size_t kn = (size_t)K * (size_t)N;
    for (int b = part; b < NADE_BLOCKS; b += n_parts) {
        size_t r0, r1;
        mrnn__team_range(j->rows, 1, b, NADE_BLOCKS, &r0, &r1);
        float *dwv = j->ws->dwv[b];
        float *bh = j->ws->bh + r0 * (size_t)N, *lg = j->logits + r0 * (size_t)K;
        uint64_t correct = 0;
        if (j->grad) memset(dwv, 0, 2 * kn * sizeof *dwv);
        /* start[] is indexed from the block's first row, ids by absolute position. */
        j->ws->loss[b] = mrnn__nade_rows(j->grad ? lg : NULL, j->grad ? bh : NULL, dwv, dwv + kn, lg, bh,
                                         j->w->nade_w, j->w->nade_v, bt->tgt_start + r0, bt->tgt_ids, bt->mask + r0,
                                         r1 - r0, K, N, j->scale, j->ws->scratch[b], &correct);
        j->ws->correct[b] = correct;
    }
}

double mrnn__nade_net_loss(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                           const mrnn__batch *bt, const float *top, float *logits, float scale, mrnn__team *team,
                           mrnn__nade_ws *ws, uint64_t *n_correct)
{
    const size_t rows = (size_t)bt->T * (size_t)bt->B;
    nade_job j = {cfg, w, grad, bt, top, logits, NULL, scale, rows, ws};
    mrnn__team_run(team, hidden_bias_part, &j);
    mrnn__team_run(team, rows_part, &j);
    const size_t kn = (size_t)cfg->n_out * cfg->nade_hidden;
    double total = 0.0;
    uint64_t correct = 0;
    for (int b = 0; b < NADE_BLOCKS; b++) {
        total += ws->loss[b];
        correct += ws->correct[b];
        if (grad) {
            mrnn__vec_add(grad->nade_w, ws->dwv[b], kn);
            mrnn__vec_add(grad->nade_v, ws->dwv[b] + kn, kn);
        }
    }
    *n_correct = correct;
    return total;
}

/* d nade_wu = dbhᵀ · top and d nade_bh for a share of the hidden units. */
static void weights_part(void *ctx, int part, int n_parts)
{
    const nade_job *j = ctx;
    const int H = (int)j->cfg->hidden, N = (int)j->cfg->nade_hidden;
    size_t a, b;
    mrnn__team_range((size_t)N, 16, part, n_parts, &a, &b);
    if (b == a) return;
    const float *dbh = j->ws->bh;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(b - a), H, (int)j->rows, 1.0f, dbh + a, N, j->top, H,
                0.0f, j->grad->nade_wu + a * (size_t)H, H);
    for (size_t r = 0; r < j->rows; r++) mrnn__vec_add(j->grad->nade_bh + a, dbh + r * (size_t)N + a, b - a);
}

/* dh += dbh · nade_wu for a share of the rows. */
static void state_part(void *ctx, int part, int n_parts)
{
    const nade_job *j = ctx;
    const int H = (int)j->cfg->hidden, N = (int)j->cfg->nade_hidden;
    size_t r0, r1;
    mrnn__team_range(j->rows, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), H, N, 1.0f, j->ws->bh + r0 * (size_t)N, N,
                j->w->nade_wu, H, 1.0f, j->dh + r0 * (size_t)H, H);
}

void mrnn__nade_net_backward(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_params *grad,
                             size_t rows, const float *top, float *dh, mrnn__team *team, mrnn__nade_ws *ws)
{
    nade_job j = {cfg, w, grad, NULL, top, NULL, dh, 0.0f, rows, ws};
    mrnn__team_run(team, weights_part, &j);
    mrnn__team_run(team, state_part, &j);
}
