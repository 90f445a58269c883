/* LSTM layer kernels over CBLAS: window forward/backward and the single-step inference path.
 *
 * Pre-activations of the whole window come from one GEMM (X · W_ihᵀ); each step adds its recurrent
 * GEMM and then runs lstm_cell, one fused element-wise pass over the four gates. Backward keeps the
 * pre-activation gradients of the whole window so that the weight gradients are one GEMM each. */
#include "lstm.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* tanh through expf, so that the gate loop stays a plain, vectorisable expression. */
static inline float tanh_fast(float x)
{
    return 2.0f / (1.0f + expf(-2.0f * x)) - 1.0f;
}

/* One row (one lane) of the cell: pre-activations a[4H] (without bias) -> activations written back
 * into a, new cell state c_out (may alias c_prev), tanh(c) into tc, output into h.
 * tc may alias h (it is written first). c_prev == NULL means a zero previous cell state. */
static void lstm_cell(float *a, const float *b, const float *c_prev, float *c_out, float *tc, float *h, int H)
{
    float *ai = a, *af = a + H, *ag = a + 2 * H, *ao = a + 3 * H;
    const float *bi = b, *bf = b + H, *bg = b + 2 * H, *bo = b + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = sigmoidf(ai[j] + bi[j]);
        float f = sigmoidf(af[j] + bf[j]);
        float g = tanh_fast(ag[j] + bg[j]);
        float o = sigmoidf(ao[j] + bo[j]);
        float cp = c_prev ? c_prev[j] : 0.0f;
        float cn = f * cp + i * g;
        float t = tanh_fast(cn);
        ai[j] = i;
        af[j] = f;
        ag[j] = g;
        ao[j] = o;
        c_out[j] = cn;
        tc[j] = t;
        h[j] = o * t;
    }
}

size_t mrnn__lstm_cache_floats(int T, int B, int H)
{
    return (size_t)T * (size_t)B * (size_t)H * 7u;
}

size_t mrnn__lstm_backward_scratch_floats(int T, int B, int H)
{
    size_t n = (size_t)T * (size_t)B;
    /* gate gradients [n x 4H], shifted h [n x H], running dc [B x H], ones [n] */
    return n * (size_t)H * 5u + (size_t)B * (size_t)H + n;
}

void mrnn__lstm_cache_bind(mrnn__lstm_cache *c, float *mem, int T, int B, int H)
{
    size_t nh = (size_t)T * (size_t)B * (size_t)H;
    c->gates = mem;
    c->c = mem + 4 * nh;
    c->tanh_c = mem + 5 * nh;
    c->h = mem + 6 * nh;
}

void mrnn__lstm_forward(const mrnn__lstm_weights *w, const float *x, int T, int B, const float *h0,
                        const float *c0, mrnn__lstm_cache *cache)
{
    const int H = w->n_hidden, NI = w->n_in, G = 4 * H;
    const size_t n = (size_t)T * (size_t)B;
    if (n == 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, G, NI, 1.0f, x, NI, w->w_ih, NI, 0.0f,
                cache->gates, G);
    for (int t = 0; t < T; t++) {
        size_t row = (size_t)t * (size_t)B;
        float *a = cache->gates + row * (size_t)G;
        const float *hp = t > 0 ? cache->h + (row - (size_t)B) * (size_t)H : h0;
        const float *cp = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : c0;
        if (hp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f, hp, H, w->w_hh, H, 1.0f, a, G);
        for (int b = 0; b < B; b++) {
            size_t r = row + (size_t)b;
            lstm_cell(a + (size_t)b * (size_t)G, w->b, cp ? cp + (size_t)b * (size_t)H : NULL,
                      cache->c + r * (size_t)H, cache->tanh_c + r * (size_t)H, cache->h + r * (size_t)H, H);
        }
    }
}

void mrnn__lstm_backward(const mrnn__lstm_weights *w, mrnn__lstm_weights *g, const float *x, int T, int B,
                         const float *h0, const float *c0, const mrnn__lstm_cache *cache, float *dh,
                         float *dx, float *scratch)
{
    const int H = w->n_hidden, NI = w->n_in, G = 4 * H;
    const size_t n = (size_t)T * (size_t)B, bh = (size_t)B * (size_t)H;
    if (n == 0) {
        return;
    }
    float *dgates = scratch;                  /* [n x 4H] */
    float *hprev = dgates + n * (size_t)G;    /* [n x H] */
    float *dc = hprev + n * (size_t)H;        /* [B x H] */
    float *ones = dc + bh;                    /* [n] */
    memset(dc, 0, bh * sizeof *dc);

    for (int t = T - 1; t >= 0; t--) {
        size_t row = (size_t)t * (size_t)B;
        const float *cp_t = t > 0 ? cache->c + (row - (size_t)B) * (size_t)H : c0;
        for (int b = 0; b < B; b++) {
            size_t r = row + (size_t)b;
            const float *act = cache->gates + r * (size_t)G;
            const float *ai = act, *af = act + H, *ag = act + 2 * H, *ao = act + 3 * H;
            const float *tc = cache->tanh_c + r * (size_t)H;
            const float *dht = dh + r * (size_t)H;
            const float *cp = cp_t ? cp_t + (size_t)b * (size_t)H : NULL;
            float *dcb = dc + (size_t)b * (size_t)H;
            float *d = dgates + r * (size_t)G;
            for (int j = 0; j < H; j++) {
                float i = ai[j], f = af[j], gg = ag[j], o = ao[j], t_c = tc[j];
                float dhj = dht[j];
                float dcj = dcb[j] + dhj * o * (1.0f - t_c * t_c);
                float cpj = cp ? cp[j] : 0.0f;
                d[j] = dcj * gg * i * (1.0f - i);
                d[H + j] = dcj * cpj * f * (1.0f - f);
                d[2 * H + j] = dcj * i * (1.0f - gg * gg);
                d[3 * H + j] = dhj * t_c * o * (1.0f - o);
                dcb[j] = dcj * f;
            }
        }
        if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, dgates + row * (size_t)G, G,
                        w->w_hh, H, 1.0f, dh + (row - (size_t)B) * (size_t)H, H);
    }

    /* h shifted by one step: row block t holds h_{t-1}, block 0 holds h0 (or zeros). */
    if (h0)
        memcpy(hprev, h0, bh * sizeof *hprev);
    else
        memset(hprev, 0, bh * sizeof *hprev);
    if (T > 1) memcpy(hprev + bh, cache->h, (n - (size_t)B) * (size_t)H * sizeof *hprev);
    for (size_t r = 0; r < n; r++) ones[r] = 1.0f;

    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, NI, (int)n, 1.0f, dgates, G, x, NI, 1.0f, g->w_ih, NI);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, (int)n, 1.0f, dgates, G, hprev, H, 1.0f, g->w_hh, H);
    cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, G, 1.0f, dgates, G, ones, 1, 1.0f, g->b, 1);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, NI, G, 1.0f, dgates, G, w->w_ih, NI, 0.0f,
                    dx, NI);
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
    for (int b = 0; b < B; b++) {
        float *hb = h + (size_t)b * (size_t)H, *cb = c + (size_t)b * (size_t)H;
        /* tanh(c) goes to h and is replaced by o * tanh(c) in the same iteration. */
        lstm_cell(scratch + (size_t)b * (size_t)G, w->b, cb, cb, hb, hb, H);
    }
}
