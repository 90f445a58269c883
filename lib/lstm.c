/* LSTM layer kernels over CBLAS: window forward/backward and the single-step inference path.
 *
 * Pre-activations of the whole window come from one GEMM (X · W_ihᵀ); each step adds its recurrent
 * GEMM and then runs lstm_cell, one fused element-wise pass over the four gates (vectorised, see
 * vec_math.h). Backward writes the pre-activation gradients of the whole window over the cached
 * activations, so that the weight gradients are one GEMM each without a window-sized scratch. */
#include "lstm.h"

#include <cblas.h>
#include <string.h>

#include "infer_weights.h"
#include "vec_math.h"

/* Gate math of one row (one lane, one step), 4 cells at a time. The last chunk of a row whose H
 * is not a multiple of 4 goes through the same vector code on zero-padded copies, so that every
 * cell gets bit-for-bit the same function whatever its position (the batch-1 and window paths
 * must agree exactly). */
#define CHUNK 4

typedef struct cell_ptrs {
    float *a;             /* [4H] pre-activations (no bias) in, activations out */
    const float *b;       /* [4H] bias */
    const float *c_prev;  /* [H] or NULL for a zero state */
    float *c_out, *h;     /* [H]; c_out may alias c_prev */
} cell_ptrs;

static inline void cell_chunk(const float *ai, const float *af, const float *ag, const float *ao, const float *bi,
                              const float *bf, const float *bg, const float *bo, const float *cp, float *acts[4],
                              float *c_out, float *h)
{
    mrnn__v4f i = mrnn__v4_sigmoid(mrnn__v4_load(ai) + mrnn__v4_load(bi));
    mrnn__v4f f = mrnn__v4_sigmoid(mrnn__v4_load(af) + mrnn__v4_load(bf));
    mrnn__v4f g = mrnn__v4_tanh(mrnn__v4_load(ag) + mrnn__v4_load(bg));
    mrnn__v4f o = mrnn__v4_sigmoid(mrnn__v4_load(ao) + mrnn__v4_load(bo));
    mrnn__v4f c = i * g;
    if (cp) c += f * mrnn__v4_load(cp);
    mrnn__v4_store(acts[0], i);
    mrnn__v4_store(acts[1], f);
    mrnn__v4_store(acts[2], g);
    mrnn__v4_store(acts[3], o);
    mrnn__v4_store(c_out, c);
    mrnn__v4_store(h, o * mrnn__v4_tanh(c));
}

static void lstm_cell(const cell_ptrs *p, int H)
{
    float *a = p->a;
    const float *b = p->b;
    int j = 0;
    for (; j + CHUNK <= H; j += CHUNK) {
        float *acts[4] = {a + j, a + H + j, a + 2 * H + j, a + 3 * H + j};
        cell_chunk(a + j, a + H + j, a + 2 * H + j, a + 3 * H + j, b + j, b + H + j, b + 2 * H + j, b + 3 * H + j,
                   p->c_prev ? p->c_prev + j : NULL, acts, p->c_out + j, p->h + j);
    }
    if (j == H) return;
    int n = H - j;
    float in[4][CHUNK] = {{0}}, bias[4][CHUNK] = {{0}}, out[4][CHUNK], cp[CHUNK] = {0}, c[CHUNK], h[CHUNK];
    for (int q = 0; q < 4; q++)
        for (int k = 0; k < n; k++) {
            in[q][k] = a[q * H + j + k];
            bias[q][k] = b[q * H + j + k];
        }
    if (p->c_prev)
        for (int k = 0; k < n; k++) cp[k] = p->c_prev[j + k];
    float *acts[4] = {out[0], out[1], out[2], out[3]};
    cell_chunk(in[0], in[1], in[2], in[3], bias[0], bias[1], bias[2], bias[3], p->c_prev ? cp : NULL, acts, c, h);
    for (int q = 0; q < 4; q++)
        for (int k = 0; k < n; k++) a[q * H + j + k] = out[q][k];
    for (int k = 0; k < n; k++) {
        p->c_out[j + k] = c[k];
        p->h[j + k] = h[k];
    }
}

/* Backward of one row: gate activations act[4H] in, their pre-activation gradients out (in
 * place); c: this step's cell state; cp: the previous one (NULL = zero); dh: gradient w.r.t. h;
 * dc: running cell gradient in (from the step after), out (towards the step before). */
static inline void cell_back_chunk(float *ai, float *af, float *ag, float *ao, const float *c, const float *cp,
                                   const float *dh, float *dc)
{
    const mrnn__v4f one = mrnn__v4f_splat(1.0f);
    mrnn__v4f i = mrnn__v4_load(ai), f = mrnn__v4_load(af), g = mrnn__v4_load(ag), o = mrnn__v4_load(ao);
    mrnn__v4f tc = mrnn__v4_tanh(mrnn__v4_load(c)), dhv = mrnn__v4_load(dh);
    mrnn__v4f dcv = mrnn__v4_load(dc) + dhv * o * (one - tc * tc);
    mrnn__v4f cpv = cp ? mrnn__v4_load(cp) : mrnn__v4f_splat(0.0f);
    mrnn__v4_store(ai, dcv * g * i * (one - i));
    mrnn__v4_store(af, dcv * cpv * f * (one - f));
    mrnn__v4_store(ag, dcv * i * (one - g * g));
    mrnn__v4_store(ao, dhv * tc * o * (one - o));
    mrnn__v4_store(dc, dcv * f);
}

static void lstm_cell_backward(float *act, const float *c, const float *cp, const float *dh, float *dc, int H)
{
    int j = 0;
    for (; j + CHUNK <= H; j += CHUNK)
        cell_back_chunk(act + j, act + H + j, act + 2 * H + j, act + 3 * H + j, c + j, cp ? cp + j : NULL, dh + j,
                        dc + j);
    if (j == H) return;
    int n = H - j;
    float g4[4][CHUNK] = {{0}}, cc[CHUNK] = {0}, cpp[CHUNK] = {0}, dhh[CHUNK] = {0}, dcc[CHUNK] = {0};
    for (int k = 0; k < n; k++) {
        for (int q = 0; q < 4; q++) g4[q][k] = act[q * H + j + k];
        cc[k] = c[j + k];
        cpp[k] = cp ? cp[j + k] : 0.0f;
        dhh[k] = dh[j + k];
        dcc[k] = dc[j + k];
    }
    cell_back_chunk(g4[0], g4[1], g4[2], g4[3], cc, cp ? cpp : NULL, dhh, dcc);
    for (int k = 0; k < n; k++) {
        for (int q = 0; q < 4; q++) act[q * H + j + k] = g4[q][k];
        dc[j + k] = dcc[k];
    }
}

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
}

void mrnn__lstm_forward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, const float *x, int T, int B,
                        const float *h0, const float *c0, mrnn__lstm_cache *cache)
{
    const int H = w->n_hidden, NI = w->n_in, G = 4 * H;
    const size_t n = (size_t)T * (size_t)B;
    if (n == 0) return;
    const mrnn__infer_matrix *pih = pk ? pk->ih : NULL, *phh = pk ? pk->hh : NULL;
    if (x && pih) {
        memset(cache->gates, 0, n * (size_t)G * sizeof *cache->gates);
        mrnn__infer_matmul(pih, (int)n, x, (size_t)NI, cache->gates, (size_t)G);
    } else if (x) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, G, NI, 1.0f, x, NI, w->w_ih, NI, 0.0f,
                    cache->gates, G);
    }
    for (int t = 0; t < T; t++) {
        size_t row = (size_t)t * (size_t)B;
        float *a = cache->gates + row * (size_t)G;
        const float *hp = t > 0 ? cache->h + (row - (size_t)B) * (size_t)H : h0;
        const float *cp = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : c0;
        if (hp && phh)
            mrnn__infer_matmul(phh, B, hp, (size_t)H, a, (size_t)G);
        else if (hp)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f, hp, H, w->w_hh, H, 1.0f, a, G);
        for (int b = 0; b < B; b++) {
            size_t r = row + (size_t)b;
            cell_ptrs p = {a + (size_t)b * (size_t)G, w->b, cp ? cp + (size_t)b * (size_t)H : NULL,
                           cache->c + r * (size_t)H, cache->h + r * (size_t)H};
            lstm_cell(&p, H);
        }
    }
}

/* out[0..m) += sum of the n rows of a (row stride m). */
static void add_row_sums(float *out, const float *a, size_t n, int m)
{
    int j = 0;
    for (; j + CHUNK <= m; j += CHUNK) {
        mrnn__v4f s = mrnn__v4_load(out + j);
        for (size_t r = 0; r < n; r++) s += mrnn__v4_load(a + r * (size_t)m + (size_t)j);
        mrnn__v4_store(out + j, s);
    }
    for (; j < m; j++) {
        float s = out[j];
        for (size_t r = 0; r < n; r++) s += a[r * (size_t)m + (size_t)j];
        out[j] = s;
    }
}

void mrnn__lstm_backward(const mrnn__lstm_weights *w, const mrnn__lstm_packed *pk, mrnn__lstm_weights *g,
                         const float *x, int T, int B, const float *h0, const float *c0, mrnn__lstm_cache *cache,
                         float *dh, float *dx, float *scratch)
{
    const int H = w->n_hidden, NI = w->n_in, G = 4 * H;
    const size_t n = (size_t)T * (size_t)B, bh = (size_t)B * (size_t)H;
    if (n == 0) return;
    const mrnn__infer_matrix *pih = pk ? pk->ih : NULL, *phh = pk ? pk->hh : NULL;
    float *dgates = cache->gates; /* [n x 4H], overwritten step by step, latest first */
    float *dc = scratch;          /* [B x H] */
    memset(dc, 0, bh * sizeof *dc);

    for (int t = T - 1; t >= 0; t--) {
        size_t row = (size_t)t * (size_t)B;
        const float *cp_t = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : c0;
        for (int b = 0; b < B; b++) {
            size_t r = row + (size_t)b;
            lstm_cell_backward(dgates + r * (size_t)G, cache->c + r * (size_t)H,
                               cp_t ? cp_t + (size_t)b * (size_t)H : NULL, dh + r * (size_t)H,
                               dc + (size_t)b * (size_t)H, H);
        }
        if (t > 0 && phh)
            mrnn__infer_matmul(phh, B, dgates + row * (size_t)G, (size_t)G, dh + (row - (size_t)B) * (size_t)H,
                               (size_t)H);
        else if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, dgates + row * (size_t)G, G,
                        w->w_hh, H, 1.0f, dh + (row - (size_t)B) * (size_t)H, H);
    }

    if (x) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, NI, (int)n, 1.0f, dgates, G, x, NI, 1.0f, g->w_ih, NI);
    /* dW_hh pairs step t's gate gradients with h_{t-1}: rows B.. of dgates with rows ..n-B of h
     * (both contiguous in the step-major layout), plus step 0 with h0 when there is one. */
    if (T > 1)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, (int)(n - (size_t)B), 1.0f, dgates + bh * 4u, G,
                    cache->h, H, 1.0f, g->w_hh, H);
    if (h0) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, B, 1.0f, dgates, G, h0, H, 1.0f, g->w_hh, H);
    add_row_sums(g->b, dgates, n, G);
    if (dx && pih) {
        memset(dx, 0, n * (size_t)NI * sizeof *dx);
        mrnn__infer_matmul(pih, (int)n, dgates, (size_t)G, dx, (size_t)NI);
    } else if (dx) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, NI, G, 1.0f, dgates, G, w->w_ih, NI, 0.0f,
                    dx, NI);
    }
}

void mrnn__lstm_step(const mrnn__lstm_weights *w, const float *x, int B, float *h, float *c, float *scratch)
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

void mrnn__lstm_step_gates(const mrnn__lstm_weights *w, int B, float *gates, float *h, float *c)
{
    const int H = w->n_hidden;
    for (int b = 0; b < B; b++) {
        float *hb = h + (size_t)b * (size_t)H, *cb = c + (size_t)b * (size_t)H;
        cell_ptrs p = {gates + (size_t)b * 4u * (size_t)H, w->b, cb, cb, hb};
        lstm_cell(&p, H);
    }
}
