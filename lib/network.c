/* The network: embedding-sum input (+ style row) -> LSTM stack with inverted dropout -> output layer
 * -> loss, forward and backward over one window.
 *
 * All buffers of a window live in one workspace allocation sized for T x B rows. */
#include "network.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "embed_proj.h"
#include "packed.h"
#include "loss.h"
#include "network_nade.h"
#include "team.h"
#include "vec_math.h"

struct mrnn__net_workspace {
    int T, B;
    size_t rows;                            /* capacity T*B */
    float *x0;                              /* [rows x E] embedding sums */
    mrnn__lstm_cache cache[MRNN__MAX_LAYERS];
    float *mask[MRNN__MAX_LAYERS];          /* [rows x H] dropout scales after layer l */
    float *drop[MRNN__MAX_LAYERS];          /* [rows x H] dropped output of layer l */
    const float *out[MRNN__MAX_LAYERS];     /* layer l's output as seen by the next stage */
    float *logits;                          /* [rows x V] logits, then their gradient */
    float *dh[2];                           /* [rows x H] gradient ping-pong */
    float *dx0;                             /* [rows x E] gradient into the input rows */
    float *scratch;                         /* LSTM backward scratch */
    float *table;                           /* layer 0's projected embedding table (embed_proj.h) */
    uint32_t *target;                       /* [rows] softmax target per row */
    double *chunk_loss;                     /* [rows / LOSS_CHUNK, rounded up] partial loss sums */
    uint64_t *chunk_correct;                /* the same for the correct-prediction counts */
    mrnn__team *team;                       /* borrowed (mrnn__net_workspace_set_team), or NULL */
    float rec_drop;                         /* recurrent dropout of training windows (set_recurrent_dropout) */
    float w_drop;                           /* weight dropout of W_hh in training windows (set_weight_dropout) */
    float *whh_dropped;                     /* [layers x 4H x H] this window's masked W_hh, or NULL */
    mrnn__nade_ws *nade;                    /* MRNN__LOSS_NADE: the frame output's buffers */
    mrnn__net_grad_ready_fn grad_ready;     /* mrnn__net_workspace_set_grad_hook, or NULL */
    void *grad_ready_ctx;
    /* Packed weights (MRNN__PACK_*): the forward layouts (Wᵀ) during forward, then the backward
     * ones (W) in the same floats; pack_ih[0] is unused when layer 0 goes through the table. */
    int pack;
    int isa; /* MRNN__ISA_* of the packed products */
    /* Frozen (evaluation): the weights stay the same, so the forward's packed copies and layer 0's
     * table are made at the first window only. ready: what the packed memory and the table hold
     * (0: nothing reusable, FORWARD_TABLE or FORWARD_DIRECT: the forward layouts of that path). */
    int frozen, ready;
    float *packed;
    mrnn__packed pack_ih[MRNN__MAX_LAYERS], pack_hh[MRNN__MAX_LAYERS], pack_out;
    float *mem;
};

/* Below this many rows in a window, packing the weights costs more than it saves. */
#define PACK_MIN_ROWS 32
/* The narrowest kernel that AUTO packs for. The AVX2 kernel (packed_avx2.c) beats OpenBLAS's
 * Haswell sgemm at the recurrent products (64 rows) but reaches 0.85-0.9 of it at window-sized
 * ones and over a whole step (measured interleaved in one process, bench/README.md): not worth
 * it, so AVX2 machines keep OpenBLAS unless MUSICRNN_KERNEL=avx2 forces the kernel (compute.h).
 * The baseline has 4-float vectors. */
#define PACK_AUTO_MIN_ISA MRNN__ISA_AVX512

enum { FORWARD_TABLE = 1, FORWARD_DIRECT = 2 };
/* Rows per partial loss sum. The sums are added in chunk order, so the loss does not depend on
 * how many threads computed them. */
#define LOSS_CHUNK 64
/* Lane-tile friendly boundaries between the row ranges of parts. */
#define ROW_ALIGN 4

/* Floats of weight matrix W [rows x cols] packed for forward as Wᵀ (products x · Wᵀ: cols inputs)
 * or for backward as W (products gradient · W: rows inputs). */
static size_t packed_size(int rows, int cols, int backward)
{
    return backward ? mrnn__packed_floats(rows, cols) : mrnn__packed_floats(cols, rows);
}

/* Floats of the packed weights: the larger of the forward and the backward layouts (each
 * matrix's padding differs between the two), plus room to align to 64 bytes. */
static size_t packed_floats(const mrnn__net_config *cfg)
{
    const int H = (int)cfg->hidden, G = 4 * H, V = (int)cfg->n_out;
    size_t n[2] = {0, 0};
    for (int backward = 0; backward < 2; backward++) {
        for (uint32_t l = 0; l < cfg->layers; l++)
            n[backward] += packed_size(G, l == 0 ? (int)cfg->embed : H, backward) + packed_size(G, H, backward);
        n[backward] += packed_size(V, H, backward);
    }
    return (n[0] > n[1] ? n[0] : n[1]) + 16;
}

static size_t layer_in(const mrnn__net_config *cfg, uint32_t l)
{
    return l == 0 ? cfg->embed : cfg->hidden;
}

/* Floats of the NADE frame output after b_out: nade_wu, nade_bh, nade_w, nade_v. */
static size_t nade_count(const mrnn__net_config *cfg)
{
    if (cfg->loss != MRNN__LOSS_NADE) return 0;
    const size_t N = cfg->nade_hidden;
    return N * cfg->hidden + N + 2 * (size_t)cfg->n_out * N;
}

size_t mrnn__net_param_count(const mrnn__net_config *cfg)
{
    size_t E = cfg->embed, H = cfg->hidden;
    size_t n = (size_t)cfg->n_tokens * E + (size_t)cfg->n_styles * E;
    for (uint32_t l = 0; l < cfg->layers; l++) n += 4 * H * layer_in(cfg, l) + 4 * H * H + 4 * H;
    return n + (size_t)cfg->n_out * H + cfg->n_out + nade_count(cfg);
}

void mrnn__net_bind(const mrnn__net_config *cfg, float *block, mrnn__net_params *out)
{
    size_t E = cfg->embed, H = cfg->hidden;
    memset(out, 0, sizeof *out);
    float *p = block;
    out->embed = p;
    p += (size_t)cfg->n_tokens * E;
    out->style = cfg->n_styles ? p : NULL;
    p += (size_t)cfg->n_styles * E;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        size_t NI = layer_in(cfg, l);
        mrnn__lstm_weights *lw = &out->layer[l];
        lw->n_in = (int)NI;
        lw->n_hidden = (int)H;
        lw->w_ih = p;
        p += 4 * H * NI;
        lw->w_hh = p;
        p += 4 * H * H;
        lw->b = p;
        p += 4 * H;
    }
    out->w_out = p;
    p += (size_t)cfg->n_out * H;
    out->b_out = p;
    p += cfg->n_out;
    if (cfg->loss == MRNN__LOSS_NADE) {
        const size_t N = cfg->nade_hidden;
        out->nade_wu = p;
        p += N * H;
        out->nade_bh = p;
        p += N;
        out->nade_w = p;
        p += (size_t)cfg->n_out * N;
        out->nade_v = p;
    }
}

static void fill_uniform(float *a, size_t n, float k, mrnn__rng *rng)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)((2.0 * mrnn__rng_uniform(rng) - 1.0) * (double)k);
}

static void fill_normal(float *a, size_t n, float sd, mrnn__rng *rng)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)(mrnn__rng_normal(rng) * (double)sd);
}

void mrnn__net_init(const mrnn__net_config *cfg, mrnn__net_params *p, mrnn__rng *rng)
{
    size_t E = cfg->embed, H = cfg->hidden;
    float k = (float)(1.0 / sqrt((double)H));
    fill_normal(p->embed, (size_t)cfg->n_tokens * E, 1.0f, rng);
    if (cfg->n_styles && p->style) fill_normal(p->style, (size_t)cfg->n_styles * E, 1.0f, rng);
    for (uint32_t l = 0; l < cfg->layers; l++) {
        mrnn__lstm_weights *lw = &p->layer[l];
        fill_uniform(lw->w_ih, 4 * H * layer_in(cfg, l), k, rng);
        fill_uniform(lw->w_hh, 4 * H * H, k, rng);
        memset(lw->b, 0, 4 * H * sizeof *lw->b);
        for (size_t j = H; j < 2 * H; j++) lw->b[j] = 1.0f;
    }
    fill_uniform(p->w_out, (size_t)cfg->n_out * H, k, rng);
    memset(p->b_out, 0, cfg->n_out * sizeof *p->b_out);
    if (cfg->loss == MRNN__LOSS_NADE) {
        /* As the output layer: U(-1/sqrt(fan-in)) for the products, zero hidden bias. */
        const size_t N = cfg->nade_hidden;
        const float kn = (float)(1.0 / sqrt((double)N));
        fill_uniform(p->nade_wu, N * H, k, rng);
        memset(p->nade_bh, 0, N * sizeof *p->nade_bh);
        fill_uniform(p->nade_w, (size_t)cfg->n_out * N, kn, rng);
        fill_uniform(p->nade_v, (size_t)cfg->n_out * N, kn, rng);
    }
}

/* The gradient block is one run of floats from g->embed (mrnn__net_bind lays it out so). */
typedef struct zero_job {
    float *block;
    size_t n;
} zero_job;

static void zero_part(void *ctx, int part, int n_parts)
{
    const zero_job *j = ctx;
    size_t a, b;
    mrnn__team_range(j->n, 16, part, n_parts, &a, &b);
    memset(j->block + a, 0, (b - a) * sizeof *j->block);
}

static void zero_params(const mrnn__net_config *cfg, mrnn__net_params *g, mrnn__team *team)
{
    zero_job j = {g->embed, mrnn__net_param_count(cfg)};
    mrnn__team_run(team, zero_part, &j);
}

mrnn__net_workspace *mrnn__net_workspace_new(const mrnn__net_config *cfg, int T, int B)
{
    return mrnn__net_workspace_new_pack(cfg, T, B, MRNN__PACK_AUTO);
}

mrnn__net_workspace *mrnn__net_workspace_new_pack(const mrnn__net_config *cfg, int T, int B, int pack)
{
    return mrnn__net_workspace_new_kernel(cfg, T, B, pack, mrnn__packed_best_isa());
}

mrnn__net_workspace *mrnn__net_workspace_new_kernel(const mrnn__net_config *cfg, int T, int B, int pack, int isa)
{
    if (T <= 0 || B <= 0 || cfg->layers == 0 || cfg->layers > MRNN__MAX_LAYERS) return NULL;
    if (isa > mrnn__packed_best_isa()) isa = mrnn__packed_best_isa();
    if (pack == MRNN__PACK_AUTO && isa < PACK_AUTO_MIN_ISA) pack = MRNN__PACK_NEVER;
    size_t rows, E = cfg->embed, H = cfg->hidden, V = cfg->n_out, L = cfg->layers;
    if (!mrnn__mul_ok((size_t)T, (size_t)B, &rows)) return NULL;
    size_t cache = mrnn__lstm_cache_floats(T, B, (int)H);
    size_t floats = rows * E                /* x0 */
                    + L * cache             /* caches */
                    + 2 * L * rows * H      /* masks, dropped outputs */
                    + rows * V              /* logits */
                    + 2 * rows * H          /* dh ping-pong */
                    + rows * E              /* dx0 */
                    + mrnn__lstm_backward_scratch_floats(T, B, (int)H)
                    + mrnn__embed_proj_floats(cfg)
                    + (pack ? packed_floats(cfg) : 0)
                    + 4 * (rows / LOSS_CHUNK + 1) + 2 /* chunk sums (double, uint64), aligned */
                    + rows;                 /* targets (uint32, same size as float) */
    size_t bytes;
    if (!mrnn__mul_ok(floats, sizeof(float), &bytes)) return NULL;
    mrnn__net_workspace *ws = mrnn__calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->mem = mrnn__malloc_large(bytes);
    if (ws->mem && cfg->loss == MRNN__LOSS_NADE) ws->nade = mrnn__nade_ws_new(cfg, rows);
    if (!ws->mem || (cfg->loss == MRNN__LOSS_NADE && !ws->nade)) {
        mrnn__free(ws->mem);
        mrnn__free(ws);
        return NULL;
    }
    ws->T = T;
    ws->B = B;
    ws->rows = rows;
    float *p = ws->mem;
    ws->x0 = p;
    p += rows * E;
    for (size_t l = 0; l < L; l++) {
        mrnn__lstm_cache_bind(&ws->cache[l], p, T, B, (int)H);
        p += cache;
        ws->mask[l] = p;
        p += rows * H;
        ws->drop[l] = p;
        p += rows * H;
    }
    ws->logits = p;
    p += rows * V;
    ws->dh[0] = p;
    p += rows * H;
    ws->dh[1] = p;
    p += rows * H;
    ws->dx0 = p;
    p += rows * E;
    ws->scratch = p;
    p += mrnn__lstm_backward_scratch_floats(T, B, (int)H);
    ws->table = p;
    p += mrnn__embed_proj_floats(cfg);
    ws->pack = pack;
    ws->isa = isa;
    if (pack) {
        ws->packed = mrnn__align64(p); /* packed_floats() counts the 16 floats this may skip */
        p += packed_floats(cfg);
    }
    p += (uintptr_t)p / sizeof *p % 2; /* 8-byte alignment for the chunk sums */
    ws->chunk_loss = (double *)(void *)p;
    p += 2 * (rows / LOSS_CHUNK + 1);
    ws->chunk_correct = (uint64_t *)(void *)p;
    p += 2 * (rows / LOSS_CHUNK + 1);
    ws->target = (uint32_t *)(void *)p;
    return ws;
}

void mrnn__net_workspace_set_team(mrnn__net_workspace *ws, mrnn__team *team)
{
    ws->team = team;
}

void mrnn__net_workspace_set_grad_hook(mrnn__net_workspace *ws, mrnn__net_grad_ready_fn fn, void *ctx)
{
    ws->grad_ready = fn;
    ws->grad_ready_ctx = ctx;
}

/* The gradient from `first` to the end of the block is final (the block starts at grad->embed). */
static void grad_ready(const mrnn__net_workspace *ws, const mrnn__net_params *grad, const float *first)
{
    if (ws->grad_ready) ws->grad_ready(ws->grad_ready_ctx, (size_t)(first - grad->embed));
}

void mrnn__net_workspace_freeze(mrnn__net_workspace *ws, int frozen)
{
    ws->frozen = frozen != 0;
    ws->ready = 0;
}

void mrnn__net_workspace_set_recurrent_dropout(mrnn__net_workspace *ws, float p)
{
    ws->rec_drop = p;
}

int mrnn__net_workspace_set_weight_dropout(mrnn__net_workspace *ws, const mrnn__net_config *cfg, float p)
{
    ws->w_drop = 0.0f;
    if (p > 0.0f && !ws->whh_dropped) {
        size_t n;
        if (!mrnn__mul_ok((size_t)cfg->layers * 4u * cfg->hidden, cfg->hidden, &n) || !mrnn__mul_ok(n, sizeof(float), &n))
            return -1;
        ws->whh_dropped = mrnn__malloc(n);
        if (!ws->whh_dropped) return -1;
    }
    ws->w_drop = p;
    return 0;
}

void mrnn__net_workspace_free(mrnn__net_workspace *ws)
{
    if (!ws) return;
    mrnn__nade_ws_free(ws->nade);
    mrnn__free(ws->whh_dropped);
    mrnn__free(ws->mem);
    mrnn__free(ws);
}

/* ---- one window, forward and backward, split over the workspace's team ------------------------
 * Every job below splits its work into disjoint blocks of the output (rows, lanes or columns):
 * parts never write the same element, and no part waits for another inside a job. */

typedef struct net_job {
    const mrnn__net_config *cfg;
    const mrnn__net_params *w;
    mrnn__net_params *grad;
    const mrnn__batch *bt;
    mrnn__net_workspace *ws;
    int pack;        /* the packed weights are in use */
    uint32_t layer;  /* dropout jobs: which layer */
    uint64_t seed;   /* dropout jobs: the step's mask seed */
    float scale;     /* loss: gradient scale */
    float *dh;       /* dropout backward: the gradient to mask */
    mrnn__net_params dropped; /* weight dropout: the weights with the masked W_hh (j->w points here) */
} net_job;

static void row_range(const net_job *j, size_t align, int part, int n_parts, size_t *r0, size_t *r1)
{
    mrnn__team_range((size_t)j->bt->T * (size_t)j->bt->B, align, part, n_parts, r0, r1);
}

/* Input rows: sum of the rows' token embeddings, plus the lane's style row. */
static void embed_rows_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    const size_t E = j->cfg->embed;
    size_t r0, r1;
    row_range(j, 1, part, n_parts, &r0, &r1);
    float *x0 = j->ws->x0;
    memset(x0 + r0 * E, 0, (r1 - r0) * E * sizeof *x0);
    for (size_t r = r0; r < r1; r++) {
        float *x = x0 + r * E;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) {
            mrnn__vec_add(x, j->w->embed + (size_t)bt->in_ids[k] * E, E);
        }
        if (bt->style && j->w->style) mrnn__vec_add(x, j->w->style + (size_t)bt->style[r % (size_t)bt->B] * E, E);
    }
}

/* Element k of layer l's dropout mask is hash draw (l << 40 | k) of the step's seed: any thread can
 * draw any element, so the mask does not depend on how the work is split. */
static inline float mask_uniform(uint64_t seed, uint32_t l, size_t k)
{
    return mrnn__hash_uniform(seed, ((uint64_t)l << 40) | (uint64_t)k);
}

/* Inverted dropout of layer l's output into ws->drop[l] with a fresh mask. */
static void dropout_forward_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const size_t H = j->cfg->hidden;
    const float p = j->cfg->dropout, keep_scale = 1.0f / (1.0f - p);
    size_t r0, r1;
    row_range(j, 1, part, n_parts, &r0, &r1);
    const float *h = j->ws->cache[j->layer].h;
    float *m = j->ws->mask[j->layer], *d = j->ws->drop[j->layer];
    for (size_t k = r0 * H; k < r1 * H; k++) {
        m[k] = mask_uniform(j->seed, j->layer, k) < p ? 0.0f : keep_scale;
        d[k] = h[k] * m[k];
    }
}

/* The gradient j->dh through layer j->layer's dropout mask. */
static void dropout_backward_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const size_t H = j->cfg->hidden;
    size_t r0, r1;
    row_range(j, 1, part, n_parts, &r0, &r1);
    const float *m = j->ws->mask[j->layer];
    for (size_t k = r0 * H; k < r1 * H; k++) j->dh[k] *= m[k];
}

/* logits = b_out + top · W_outᵀ for rows [r0, r1). */
static void output_forward_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const int H = (int)j->cfg->hidden, V = (int)j->cfg->n_out;
    size_t r0, r1;
    row_range(j, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    const float *in = j->ws->out[j->cfg->layers - 1] + r0 * (size_t)H;
    float *logits = j->ws->logits + r0 * (size_t)V;
    for (size_t r = 0; r < r1 - r0; r++) memcpy(logits + r * (size_t)V, j->w->b_out, (size_t)V * sizeof(float));
    if (j->pack)
        mrnn__packed_matmul(&j->ws->pack_out, (int)(r1 - r0), in, (size_t)H, logits, (size_t)V);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), V, H, 1.0f, in, H, j->w->w_out, H, 1.0f,
                    logits, V);
}

/* The loss of each LOSS_CHUNK rows into ws->chunk_loss / chunk_correct; the gradient (scaled)
 * replaces the logits. */
static void loss_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    mrnn__net_workspace *ws = j->ws;
    const size_t V = j->cfg->n_out, rows = (size_t)bt->T * (size_t)bt->B;
    size_t r0, r1;
    row_range(j, LOSS_CHUNK, part, n_parts, &r0, &r1);
    for (size_t a = r0; a < r1; a += LOSS_CHUNK) {
        const size_t n = rows - a < LOSS_CHUNK ? rows - a : LOSS_CHUNK;
        float *lg = ws->logits + a * V;
        uint64_t correct = 0;
        double sum;
        if (j->cfg->loss == MRNN__LOSS_SIGMOID) {
            sum = mrnn__sigmoid_bce(lg, lg, bt->tgt_start + a, bt->tgt_ids, bt->mask + a, n, V, j->scale, &correct);
        } else {
            for (size_t r = a; r < a + n; r++)
                ws->target[r] = bt->tgt_start[r + 1] > bt->tgt_start[r] ? bt->tgt_ids[bt->tgt_start[r]] : 0;
            sum = mrnn__softmax_xent(lg, lg, ws->target + a, bt->mask + a, n, V, j->scale, &correct);
        }
        ws->chunk_loss[a / LOSS_CHUNK] = sum;
        ws->chunk_correct[a / LOSS_CHUNK] = correct;
    }
}

static int packed_for(const mrnn__net_workspace *ws, size_t rows)
{
    return ws->pack == MRNN__PACK_ALWAYS || (ws->pack == MRNN__PACK_AUTO && rows >= PACK_MIN_ROWS);
}

/* Pack W [rows x cols] at p in the forward or backward layout (packed_size); returns the end. */
static float *pack_one(mrnn__packed *m, float *p, const float *w, int rows, int cols, int backward, int isa)
{
    if (backward)
        mrnn__pack(m, p, w, rows, cols, 0);
    else
        mrnn__pack(m, p, w, cols, rows, 1);
    m->isa = isa;
    return p + packed_size(rows, cols, backward);
}

/* Pack the weights for forward (backward = 0) or backward (1). Layer 0's input matrix is skipped
 * when the table serves it (forward) and when no gradient flows into its input rows (backward). */
static void pack_weights(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_workspace *ws, int table,
                         int backward)
{
    const int H = (int)cfg->hidden, G = 4 * H, V = (int)cfg->n_out;
    float *p = ws->packed;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const mrnn__lstm_weights *lw = &w->layer[l];
        if (l > 0 || !table) p = pack_one(&ws->pack_ih[l], p, lw->w_ih, G, lw->n_in, backward, ws->isa);
        p = pack_one(&ws->pack_hh[l], p, lw->w_hh, G, H, backward, ws->isa);
    }
    pack_one(&ws->pack_out, p, w->w_out, V, H, backward, ws->isa);
}

static mrnn__lstm_packed layer_packed(const mrnn__net_workspace *ws, uint32_t l, int table)
{
    mrnn__lstm_packed pk = {l > 0 || !table ? &ws->pack_ih[l] : NULL, &ws->pack_hh[l]};
    return pk;
}

/* Weight dropout (DropConnect, Wan et al. 2013, on the recurrent weights as in Merity et al. 2018):
 * one mask per window over every element of W_hh, the same at every time step. Element k of layer
 * l keeps the scale 1/(1-p) or 0 from a counter hash of the window's seed, so that the masked copy
 * (forward) and the masked gradient (backward) agree, whatever split over threads drew them. */
static uint64_t weight_drop_seed(uint64_t seed, uint32_t layer)
{
    return seed ^ (UINT64_C(0xD6E8FEB86659FD93) * (uint64_t)(layer + 1));
}

/* Layer l's masked W_hh in the workspace. */
static float *dropped_whh(const mrnn__net_workspace *ws, const mrnn__net_config *cfg, uint32_t l)
{
    return ws->whh_dropped + (size_t)l * 4u * cfg->hidden * cfg->hidden;
}

/* Rows [r0, r1) of W_hh of j->layer: j->w's into the masked copy (grad 0), or the gradient block
 * masked in place (grad 1: dL/dW = s ⊙ dL/dW' for W' = s ⊙ W). */
static void weight_drop_rows(const net_job *j, int grad, int part, int n_parts)
{
    const size_t H = j->cfg->hidden, G = 4 * H;
    const float p = j->ws->w_drop, keep = 1.0f / (1.0f - p);
    const uint64_t seed = weight_drop_seed(j->seed, j->layer);
    size_t r0, r1;
    mrnn__team_range(G, 1, part, n_parts, &r0, &r1);
    float *out = grad ? j->grad->layer[j->layer].w_hh : dropped_whh(j->ws, j->cfg, j->layer);
    const float *in = grad ? out : j->w->layer[j->layer].w_hh;
    for (size_t k = r0 * H; k < r1 * H; k++) out[k] = in[k] * (mrnn__hash_uniform(seed, k) >= p ? keep : 0.0f);
}

static void weight_drop_forward_part(void *ctx, int part, int n_parts)
{
    weight_drop_rows(ctx, 0, part, n_parts);
}

static void weight_drop_backward_part(void *ctx, int part, int n_parts)
{
    weight_drop_rows(ctx, 1, part, n_parts);
}

/* Forward through the stack and the output layer; logits in ws->logits. h/c: initial states
 * [layers x B x H] or NULL. Returns whether dropout was applied. */
static int forward(net_job *j, const float *h, const float *c, mrnn__rng *dropout_rng)
{
    const mrnn__net_config *cfg = j->cfg;
    const mrnn__batch *bt = j->bt;
    mrnn__net_workspace *ws = j->ws;
    const int T = bt->T, B = bt->B;
    const size_t rows = (size_t)T * (size_t)B, bh = (size_t)B * (size_t)cfg->hidden;
    const int drop = dropout_rng != NULL && cfg->dropout > 0.0f;
    const int rec_drop = dropout_rng != NULL && ws->rec_drop > 0.0f;
    const int w_drop = dropout_rng != NULL && ws->w_drop > 0.0f;
    const int table = mrnn__embed_proj_worth(cfg, rows);
    const int layout = table ? FORWARD_TABLE : FORWARD_DIRECT, reuse = ws->frozen && ws->ready == layout;
    if (table && reuse)
        mrnn__embed_proj_gather(cfg, j->w, bt, ws->table, ws->cache[0].gates, ws->team);
    else if (table)
        mrnn__embed_proj_forward(cfg, j->w, bt, ws->table, ws->cache[0].gates, ws->team);
    else
        mrnn__team_run(ws->team, embed_rows_part, j);
    const float *in = table ? NULL : ws->x0;
    /* One draw per window (none when nothing drops, so that a run without dropout keeps its
     * stream); the recurrent and weight masks take their own stream per layer from it. */
    if (drop || rec_drop || w_drop) j->seed = mrnn__rng_next(dropout_rng);
    if (w_drop) { /* from here on (backward too) the window sees the masked W_hh */
        j->dropped = *j->w;
        for (uint32_t l = 0; l < cfg->layers; l++) {
            j->layer = l;
            mrnn__team_run(ws->team, weight_drop_forward_part, j);
            j->dropped.layer[l].w_hh = dropped_whh(ws, cfg, l);
        }
        j->w = &j->dropped;
    }
    j->pack = packed_for(ws, rows);
    if (j->pack && !reuse) pack_weights(cfg, j->w, ws, table, 0);
    ws->ready = layout;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        mrnn__lstm_packed pk = layer_packed(ws, l, table);
        ws->cache[l].rec_drop = rec_drop ? ws->rec_drop : 0.0f;
        ws->cache[l].rec_seed = j->seed ^ (UINT64_C(0x5851F42D4C957F2D) * (uint64_t)(l + 1));
        mrnn__lstm_forward(&j->w->layer[l], j->pack ? &pk : NULL, ws->team, in, T, B, h ? h + l * bh : NULL,
                           c ? c + l * bh : NULL, &ws->cache[l]);
        if (drop) {
            j->layer = l;
            mrnn__team_run(ws->team, dropout_forward_part, j);
            ws->out[l] = ws->drop[l];
        } else {
            ws->out[l] = ws->cache[l].h;
        }
        in = ws->out[l];
    }
    mrnn__team_run(ws->team, output_forward_part, j);
    return drop;
}

/* Loss over the window (summed in chunk order); the gradient (scaled) replaces the logits. The
 * NADE computes its gradient only when j->grad is set (training). */
static double loss(net_job *j, float scale, uint64_t *n_correct)
{
    const size_t rows = (size_t)j->bt->T * (size_t)j->bt->B;
    j->scale = scale;
    if (j->cfg->loss == MRNN__LOSS_NADE) {
        *n_correct = 0;
        return mrnn__nade_net_loss(j->cfg, j->w, j->grad, j->bt, j->ws->out[j->cfg->layers - 1], j->ws->logits, scale,
                                   j->ws->team, j->ws->nade, n_correct);
    }
    mrnn__team_run(j->ws->team, loss_part, j);
    double total = 0.0;
    uint64_t correct = 0;
    for (size_t c = 0; c * LOSS_CHUNK < rows; c++) {
        total += j->ws->chunk_loss[c];
        correct += j->ws->chunk_correct[c];
    }
    *n_correct = correct;
    return total;
}

static uint64_t count_scored(const mrnn__batch *bt)
{
    const size_t rows = (size_t)bt->T * (size_t)bt->B;
    uint64_t n = 0;
    for (size_t r = 0; r < rows; r++) n += bt->mask[r] != 0.0f;
    return n;
}

/* dW_out and db_out for output rows [v0, v1): each over the whole window. */
static void output_weights_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const int H = (int)j->cfg->hidden, V = (int)j->cfg->n_out;
    const size_t rows = (size_t)j->bt->T * (size_t)j->bt->B;
    size_t a, b;
    mrnn__team_range((size_t)V, 16, part, n_parts, &a, &b);
    const int v0 = (int)a, nv = (int)(b - a);
    if (nv == 0) return;
    const float *dlog = j->ws->logits;
    if (j->pack) { /* the library's own kernel (packed.h); the gradient block is zeroed */
        mrnn__atb(j->ws->isa, nv, H, (int)rows, dlog + v0, (size_t)V, j->ws->out[j->cfg->layers - 1], (size_t)H,
                  j->grad->w_out + (size_t)v0 * (size_t)H, (size_t)H);
    } else {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nv, H, (int)rows, 1.0f, dlog + v0, V,
                    j->ws->out[j->cfg->layers - 1], H, 0.0f, j->grad->w_out + (size_t)v0 * (size_t)H, H);
    }
    for (size_t r = 0; r < rows; r++) mrnn__vec_add(j->grad->b_out + v0, dlog + r * (size_t)V + v0, (size_t)nv);
}

/* dh = dlogits · W_out for rows [r0, r1), into j->dh. */
static void output_backward_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const int H = (int)j->cfg->hidden, V = (int)j->cfg->n_out;
    size_t r0, r1;
    row_range(j, ROW_ALIGN, part, n_parts, &r0, &r1);
    if (r1 == r0) return;
    const float *dlog = j->ws->logits + r0 * (size_t)V;
    float *dh = j->dh + r0 * (size_t)H;
    if (j->pack) {
        mrnn__packed_matmul_set(&j->ws->pack_out, (int)(r1 - r0), dlog, (size_t)V, dh, (size_t)H);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), H, V, 1.0f, dlog, V, j->w->w_out, H,
                    0.0f, dh, H);
    }
}

/* The gradient of the input rows into the embedding and style rows, for embedding columns
 * [e0, e1) (by columns: rows sharing a token would collide). */
static void embed_scatter_part(void *ctx, int part, int n_parts)
{
    const net_job *j = ctx;
    const mrnn__batch *bt = j->bt;
    const size_t E = j->cfg->embed, rows = (size_t)bt->T * (size_t)bt->B;
    size_t e0, e1;
    mrnn__team_range(E, 4, part, n_parts, &e0, &e1);
    for (size_t r = 0; r < rows && e1 > e0; r++) {
        const float *d = j->ws->dx0 + r * E + e0;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++)
            mrnn__vec_add(j->grad->embed + (size_t)bt->in_ids[k] * E + e0, d, e1 - e0);
        if (bt->style && j->grad->style)
            mrnn__vec_add(j->grad->style + (size_t)bt->style[r % (size_t)bt->B] * E + e0, d, e1 - e0);
    }
}

void mrnn__net_forward_backward(const mrnn__net_config *cfg, const mrnn__net_params *w,
                                mrnn__net_params *grad, const mrnn__batch *bt, mrnn__net_workspace *ws,
                                mrnn__rng *dropout_rng, mrnn__net_result *res)
{
    const int T = bt->T, B = bt->B;
    const size_t rows = (size_t)T * (size_t)B;
    mrnn__team *team = ws->team;
    zero_params(cfg, grad, team);
    if (rows == 0) return;
    uint64_t n_scored = count_scored(bt);
    net_job j = {.cfg = cfg, .w = w, .grad = grad, .bt = bt, .ws = ws};
    int drop = forward(&j, NULL, NULL, dropout_rng);
    w = j.w; /* with weight dropout: the masked W_hh, whose gradient is masked below */
    const int table = mrnn__embed_proj_worth(cfg, rows);
    float scale = n_scored ? (float)(1.0 / (double)n_scored) : 0.0f;
    uint64_t n_correct = 0;
    double total = loss(&j, scale, &n_correct);
    if (res) {
        res->loss_sum += total;
        res->n_scored += n_scored;
        res->n_correct += n_correct;
    }
    if (n_scored == 0) return;

    /* Output layer. */
    ws->ready = 0;                                  /* backward overwrites the packed copies and the table */
    if (j.pack) pack_weights(cfg, w, ws, table, 1); /* forward is done with the Wᵀ layouts */
    mrnn__team_run(team, output_weights_part, &j);
    float *dh = ws->dh[0], *dnext = ws->dh[1];
    j.dh = dh;
    mrnn__team_run(team, output_backward_part, &j);
    if (cfg->loss == MRNN__LOSS_NADE)
        mrnn__nade_net_backward(cfg, w, grad, rows, ws->out[cfg->layers - 1], dh, team, ws->nade);
    grad_ready(ws, grad, grad->w_out);

    /* The stack, top down. */
    for (uint32_t l = cfg->layers; l-- > 0;) {
        if (drop) {
            j.layer = l;
            j.dh = dh;
            mrnn__team_run(team, dropout_backward_part, &j);
        }
        const float *in = l ? ws->out[l - 1] : table ? NULL : ws->x0;
        float *dx = l ? dnext : table ? NULL : ws->dx0;
        mrnn__lstm_packed pk = layer_packed(ws, l, table);
        mrnn__lstm_backward(&w->layer[l], j.pack ? &pk : NULL, team, &grad->layer[l], in, T, B, NULL, NULL,
                            &ws->cache[l], dh, dx, ws->scratch);
        if (w == &j.dropped) {
            j.layer = l;
            mrnn__team_run(team, weight_drop_backward_part, &j);
        }
        if (l == 0 && table) mrnn__embed_proj_backward(cfg, w, grad, bt, ws->table, ws->cache[0].gates, team);
        grad_ready(ws, grad, l == 0 && table ? grad->embed : grad->layer[l].w_ih);
        float *tmp = dh;
        dh = dnext;
        dnext = tmp;
    }

    /* Scatter into the embedding and style rows (the table path has added them already). */
    if (!table) {
        mrnn__team_run(team, embed_scatter_part, &j);
        grad_ready(ws, grad, grad->embed);
    }
}

void mrnn__net_forward_eval(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                            mrnn__net_workspace *ws, float *h, float *c, mrnn__net_result *res)
{
    const int T = bt->T, B = bt->B, H = (int)cfg->hidden;
    const size_t bh = (size_t)B * (size_t)H;
    if (T <= 0 || B <= 0) return;
    net_job j = {.cfg = cfg, .w = w, .bt = bt, .ws = ws};
    forward(&j, h, c, NULL);
    uint64_t n_correct = 0;
    double total = loss(&j, 1.0f, &n_correct);
    if (res) {
        res->loss_sum += total;
        res->n_scored += count_scored(bt);
        res->n_correct += n_correct;
    }
    size_t last = (size_t)(T - 1) * bh;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        memcpy(h + l * bh, ws->cache[l].h + last, bh * sizeof *h);
        memcpy(c + l * bh, ws->cache[l].c + last, bh * sizeof *c);
    }
}

void mrnn__net_nade_hidden_bias(const mrnn__net_config *cfg, const mrnn__net_params *w, int B, const float *top,
                                size_t ld_top, float *bh)
{
    const int H = (int)cfg->hidden, N = (int)cfg->nade_hidden;
    for (int b = 0; b < B; b++) {
        memcpy(bh + (size_t)b * (size_t)N, w->nade_bh, (size_t)N * sizeof *bh);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, N, H, 1.0f, w->nade_wu, H, top + (size_t)b * ld_top, 1, 1.0f,
                    bh + (size_t)b * (size_t)N, 1);
    }
}
