/* The network: embedding-sum input (+ style row) -> LSTM stack with inverted dropout -> output layer
 * -> loss, forward and backward over one window, plus the batch-1 inference step.
 *
 * All buffers of a window live in one workspace allocation sized for T x B rows. */
#include "network.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "embed_proj.h"
#include "infer_weights.h"
#include "loss.h"

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
    /* Packed weights (MRNN__PACK_*): the forward layouts (Wᵀ) during forward, then the backward
     * ones (W) in the same floats; pack_ih[0] is unused when layer 0 goes through the table. */
    int pack;
    float *packed;
    mrnn__infer_matrix pack_ih[MRNN__MAX_LAYERS], pack_hh[MRNN__MAX_LAYERS], pack_out;
    float *mem;
};

/* Below this many rows in a window, packing the weights costs more than it saves. */
#define PACK_MIN_ROWS 32

/* Floats of the packed weights: the larger of the forward and the backward layouts (each
 * matrix's padding differs between the two), plus room to align to 64 bytes. */
static size_t packed_floats(const mrnn__net_config *cfg)
{
    const int H = (int)cfg->hidden, G = 4 * H, V = (int)cfg->n_out;
    size_t fwd = mrnn__infer_packed_floats(H, V), bwd = mrnn__infer_packed_floats(V, H);
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const int NI = l == 0 ? (int)cfg->embed : H;
        fwd += mrnn__infer_packed_floats(NI, G) + mrnn__infer_packed_floats(H, G);
        bwd += mrnn__infer_packed_floats(G, NI) + mrnn__infer_packed_floats(G, H);
    }
    return (fwd > bwd ? fwd : bwd) + 16;
}

static size_t layer_in(const mrnn__net_config *cfg, uint32_t l)
{
    return l == 0 ? cfg->embed : cfg->hidden;
}

size_t mrnn__net_param_count(const mrnn__net_config *cfg)
{
    size_t E = cfg->embed, H = cfg->hidden;
    size_t n = (size_t)cfg->n_tokens * E + (size_t)cfg->n_styles * E;
    for (uint32_t l = 0; l < cfg->layers; l++) n += 4 * H * layer_in(cfg, l) + 4 * H * H + 4 * H;
    return n + (size_t)cfg->n_out * H + cfg->n_out;
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
}

static void zero_params(const mrnn__net_config *cfg, mrnn__net_params *g)
{
    size_t E = cfg->embed, H = cfg->hidden;
    memset(g->embed, 0, (size_t)cfg->n_tokens * E * sizeof(float));
    if (cfg->n_styles && g->style) memset(g->style, 0, (size_t)cfg->n_styles * E * sizeof(float));
    for (uint32_t l = 0; l < cfg->layers; l++) {
        mrnn__lstm_weights *lw = &g->layer[l];
        memset(lw->w_ih, 0, 4 * H * layer_in(cfg, l) * sizeof(float));
        memset(lw->w_hh, 0, 4 * H * H * sizeof(float));
        memset(lw->b, 0, 4 * H * sizeof(float));
    }
    memset(g->w_out, 0, (size_t)cfg->n_out * H * sizeof(float));
    memset(g->b_out, 0, cfg->n_out * sizeof(float));
}

mrnn__net_workspace *mrnn__net_workspace_new(const mrnn__net_config *cfg, int T, int B)
{
    return mrnn__net_workspace_new_pack(cfg, T, B, MRNN__PACK_AUTO);
}

mrnn__net_workspace *mrnn__net_workspace_new_pack(const mrnn__net_config *cfg, int T, int B, int pack)
{
    if (T <= 0 || B <= 0 || cfg->layers == 0 || cfg->layers > MRNN__MAX_LAYERS) return NULL;
    if (pack == MRNN__PACK_AUTO && mrnn__infer_matmul_best_isa() < MRNN__ISA_AVX512) pack = MRNN__PACK_NEVER;
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
                    + rows;                 /* targets (uint32, same size as float) */
    size_t bytes;
    if (!mrnn__mul_ok(floats, sizeof(float), &bytes)) return NULL;
    mrnn__net_workspace *ws = mrnn__calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->mem = mrnn__malloc(bytes);
    if (!ws->mem) {
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
    if (pack) {
        ws->packed = p + (16 - (uintptr_t)p / sizeof *p % 16) % 16; /* 64-byte aligned panels */
        p += packed_floats(cfg);
    }
    ws->target = (uint32_t *)(void *)p;
    return ws;
}

void mrnn__net_workspace_free(mrnn__net_workspace *ws)
{
    if (!ws) return;
    mrnn__free(ws->mem);
    mrnn__free(ws);
}

/* Input rows: sum of the rows' token embeddings, plus the lane's style row. */
static void embed_rows(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt, float *x0)
{
    const size_t E = cfg->embed, rows = (size_t)bt->T * (size_t)bt->B;
    memset(x0, 0, rows * E * sizeof *x0);
    for (size_t r = 0; r < rows; r++) {
        float *x = x0 + r * E;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) {
            const float *e = w->embed + (size_t)bt->in_ids[k] * E;
            for (size_t j = 0; j < E; j++) x[j] += e[j];
        }
        if (bt->style && w->style) {
            const float *s = w->style + (size_t)bt->style[r % (size_t)bt->B] * E;
            for (size_t j = 0; j < E; j++) x[j] += s[j];
        }
    }
}

/* Inverted dropout of layer l's output into ws->drop[l], drawing a fresh mask. */
static void dropout_forward(mrnn__net_workspace *ws, uint32_t l, size_t n, float p, mrnn__rng *rng)
{
    const float keep_scale = 1.0f / (1.0f - p);
    const float *h = ws->cache[l].h;
    float *m = ws->mask[l], *d = ws->drop[l];
    for (size_t k = 0; k < n; k++) m[k] = mrnn__rng_uniform(rng) < (double)p ? 0.0f : keep_scale;
    for (size_t k = 0; k < n; k++) d[k] = h[k] * m[k];
    ws->out[l] = d;
}

static int packed_for(const mrnn__net_workspace *ws, size_t rows)
{
    return ws->pack == MRNN__PACK_ALWAYS || (ws->pack == MRNN__PACK_AUTO && rows >= PACK_MIN_ROWS);
}

/* Pack the weights for forward (backward = 0: Wᵀ, products x · Wᵀ) or backward (1: W, products
 * gradient · W). Layer 0's input matrix is skipped when the table serves it (forward) and when
 * no gradient flows into its input rows (backward). */
static void pack_weights(const mrnn__net_config *cfg, const mrnn__net_params *w, mrnn__net_workspace *ws, int table,
                         int backward)
{
    const int H = (int)cfg->hidden, G = 4 * H, V = (int)cfg->n_out;
    float *p = ws->packed;
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const mrnn__lstm_weights *lw = &w->layer[l];
        const int NI = lw->n_in;
        if (l > 0 || !table) {
            if (backward)
                mrnn__infer_pack(&ws->pack_ih[l], p, lw->w_ih, G, NI, 0);
            else
                mrnn__infer_pack(&ws->pack_ih[l], p, lw->w_ih, NI, G, 1);
            p += backward ? mrnn__infer_packed_floats(G, NI) : mrnn__infer_packed_floats(NI, G);
        }
        if (backward)
            mrnn__infer_pack(&ws->pack_hh[l], p, lw->w_hh, G, H, 0);
        else
            mrnn__infer_pack(&ws->pack_hh[l], p, lw->w_hh, H, G, 1);
        p += backward ? mrnn__infer_packed_floats(G, H) : mrnn__infer_packed_floats(H, G);
    }
    if (backward)
        mrnn__infer_pack(&ws->pack_out, p, w->w_out, V, H, 0);
    else
        mrnn__infer_pack(&ws->pack_out, p, w->w_out, H, V, 1);
}

static mrnn__lstm_packed layer_packed(const mrnn__net_workspace *ws, uint32_t l, int table)
{
    mrnn__lstm_packed pk = {l > 0 || !table ? &ws->pack_ih[l] : NULL, &ws->pack_hh[l]};
    return pk;
}

/* Forward through the stack and the output layer; logits in ws->logits. h/c: initial states
 * [layers x B x H] or NULL. Returns whether dropout was applied. */
static int forward(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                   mrnn__net_workspace *ws, const float *h, const float *c, mrnn__rng *dropout_rng)
{
    const int T = bt->T, B = bt->B, H = (int)cfg->hidden, V = (int)cfg->n_out;
    const size_t rows = (size_t)T * (size_t)B, bh = (size_t)B * (size_t)H;
    const int drop = dropout_rng != NULL && cfg->dropout > 0.0f;
    const int table = mrnn__embed_proj_worth(cfg, rows);
    if (table)
        mrnn__embed_proj_forward(cfg, w, bt, ws->table, ws->cache[0].gates);
    else
        embed_rows(cfg, w, bt, ws->x0);
    const float *in = table ? NULL : ws->x0;
    const int pack = packed_for(ws, rows);
    if (pack) pack_weights(cfg, w, ws, table, 0);
    for (uint32_t l = 0; l < cfg->layers; l++) {
        mrnn__lstm_packed pk = layer_packed(ws, l, table);
        mrnn__lstm_forward(&w->layer[l], pack ? &pk : NULL, in, T, B, h ? h + l * bh : NULL, c ? c + l * bh : NULL,
                           &ws->cache[l]);
        if (drop)
            dropout_forward(ws, l, rows * (size_t)H, cfg->dropout, dropout_rng);
        else
            ws->out[l] = ws->cache[l].h;
        in = ws->out[l];
    }
    for (size_t r = 0; r < rows; r++) memcpy(ws->logits + r * (size_t)V, w->b_out, (size_t)V * sizeof(float));
    if (pack)
        mrnn__infer_matmul(&ws->pack_out, (int)rows, in, (size_t)H, ws->logits, (size_t)V);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, V, H, 1.0f, in, H, w->w_out, H, 1.0f,
                    ws->logits, V);
    return drop;
}

/* Loss over the window; the gradient (scaled by `scale`) replaces the logits. */
static double loss(const mrnn__net_config *cfg, const mrnn__batch *bt, mrnn__net_workspace *ws, float scale,
                   uint64_t *n_correct)
{
    const size_t rows = (size_t)bt->T * (size_t)bt->B, V = cfg->n_out;
    if (cfg->loss == MRNN__LOSS_SIGMOID)
        return mrnn__sigmoid_bce(ws->logits, ws->logits, bt->tgt_start, bt->tgt_ids, bt->mask, rows, V, scale,
                                 n_correct);
    for (size_t r = 0; r < rows; r++)
        ws->target[r] = bt->tgt_start[r + 1] > bt->tgt_start[r] ? bt->tgt_ids[bt->tgt_start[r]] : 0;
    return mrnn__softmax_xent(ws->logits, ws->logits, ws->target, bt->mask, rows, V, scale, n_correct);
}

static uint64_t count_scored(const mrnn__batch *bt)
{
    const size_t rows = (size_t)bt->T * (size_t)bt->B;
    uint64_t n = 0;
    for (size_t r = 0; r < rows; r++) n += bt->mask[r] != 0.0f;
    return n;
}

void mrnn__net_forward_backward(const mrnn__net_config *cfg, const mrnn__net_params *w,
                                mrnn__net_params *grad, const mrnn__batch *bt, mrnn__net_workspace *ws,
                                mrnn__rng *dropout_rng, mrnn__net_result *res)
{
    const int T = bt->T, B = bt->B, H = (int)cfg->hidden, V = (int)cfg->n_out;
    const size_t rows = (size_t)T * (size_t)B, E = cfg->embed;
    zero_params(cfg, grad);
    if (rows == 0) return;
    uint64_t n_scored = count_scored(bt);
    int drop = forward(cfg, w, bt, ws, NULL, NULL, dropout_rng);
    const int table = mrnn__embed_proj_worth(cfg, rows);
    float scale = n_scored ? (float)(1.0 / (double)n_scored) : 0.0f;
    uint64_t n_correct = 0;
    double total = loss(cfg, bt, ws, scale, &n_correct);
    if (res) {
        res->loss_sum += total;
        res->n_scored += n_scored;
        res->n_correct += n_correct;
    }
    if (n_scored == 0) return;

    /* Output layer. */
    const float *dlog = ws->logits;
    const uint32_t top = cfg->layers - 1;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, H, (int)rows, 1.0f, dlog, V, ws->out[top], H, 0.0f,
                grad->w_out, H);
    for (size_t r = 0; r < rows; r++) {
        const float *d = dlog + r * (size_t)V;
        for (int j = 0; j < V; j++) grad->b_out[j] += d[j];
    }
    float *dh = ws->dh[0], *dnext = ws->dh[1];
    const int pack = packed_for(ws, rows);
    if (pack) {
        pack_weights(cfg, w, ws, table, 1); /* forward is done with the Wᵀ layouts */
        memset(dh, 0, rows * (size_t)H * sizeof *dh);
        mrnn__infer_matmul(&ws->pack_out, (int)rows, dlog, (size_t)V, dh, (size_t)H);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, H, V, 1.0f, dlog, V, w->w_out, H, 0.0f,
                    dh, H);
    }

    /* The stack, top down. */
    for (uint32_t l = cfg->layers; l-- > 0;) {
        if (drop) {
            const float *m = ws->mask[l];
            for (size_t k = 0; k < rows * (size_t)H; k++) dh[k] *= m[k];
        }
        const float *in = l ? ws->out[l - 1] : table ? NULL : ws->x0;
        float *dx = l ? dnext : table ? NULL : ws->dx0;
        mrnn__lstm_packed pk = layer_packed(ws, l, table);
        mrnn__lstm_backward(&w->layer[l], pack ? &pk : NULL, &grad->layer[l], in, T, B, NULL, NULL, &ws->cache[l], dh,
                            dx, ws->scratch);
        if (l == 0 && table) mrnn__embed_proj_backward(cfg, w, grad, bt, ws->table, ws->cache[0].gates);
        float *tmp = dh;
        dh = dnext;
        dnext = tmp;
    }

    /* Scatter into the embedding and style rows (the table path has added them already). */
    for (size_t r = 0; r < rows && !table; r++) {
        const float *d = ws->dx0 + r * E;
        for (uint32_t k = bt->in_start[r]; k < bt->in_start[r + 1]; k++) {
            float *g = grad->embed + (size_t)bt->in_ids[k] * E;
            for (size_t j = 0; j < E; j++) g[j] += d[j];
        }
        if (bt->style && grad->style) {
            float *g = grad->style + (size_t)bt->style[r % (size_t)B] * E;
            for (size_t j = 0; j < E; j++) g[j] += d[j];
        }
    }
}

void mrnn__net_forward_eval(const mrnn__net_config *cfg, const mrnn__net_params *w, const mrnn__batch *bt,
                            mrnn__net_workspace *ws, float *h, float *c, mrnn__net_result *res)
{
    const int T = bt->T, B = bt->B, H = (int)cfg->hidden;
    const size_t bh = (size_t)B * (size_t)H;
    if (T <= 0 || B <= 0) return;
    forward(cfg, w, bt, ws, h, c, NULL);
    uint64_t n_correct = 0;
    double total = loss(cfg, bt, ws, 1.0f, &n_correct);
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

size_t mrnn__net_step_scratch_floats(const mrnn__net_config *cfg)
{
    return (size_t)cfg->embed + 4 * (size_t)cfg->hidden;
}

void mrnn__net_step(const mrnn__net_config *cfg, const mrnn__net_params *w, const uint32_t *ids, size_t n_ids,
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
        mrnn__lstm_step(&w->layer[l], in, 1, h + l * H, c + l * H, gates);
        in = h + l * H;
    }
    memcpy(logits, w->b_out, cfg->n_out * sizeof *logits);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cfg->n_out, (int)H, 1.0f, w->w_out, (int)H, in, 1, 1.0f, logits, 1);
}
