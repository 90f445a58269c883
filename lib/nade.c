/* The NADE frame distribution: exact NLL with teacher forcing, its gradient, and ancestral
 * sampling. See nade.h for the model and why the key loop is cheap. */
#include "nade.h"

#include <math.h>
#include <string.h>

#include "vec_math.h"

size_t mrnn__nade_scratch_floats(int K, int N)
{
    /* hid per segment (at most K + 1 segments), a, dhid, da, then logits, targets, segments. */
    return (size_t)(K + 1) * (size_t)N + 3 * (size_t)N + 3 * (size_t)K;
}

static void sigmoid_into(float *restrict out, const float *restrict a, int N)
{
    int j = 0;
    for (; j + 4 <= N; j += 4) mrnn__v4_store(out + j, mrnn__v4_sigmoid(mrnn__v4_load(a + j)));
    for (; j < N; j++) out[j] = 1.0f / (1.0f + expf(-a[j]));
}

/* Four partial sums, so that the loop runs in vectors (a float reduction is not reordered by the
 * compiler on its own). */
static float dot(const float *restrict x, const float *restrict y, int N)
{
    mrnn__v4f acc = mrnn__v4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= N; j += 4) acc += mrnn__v4_load(x + j) * mrnn__v4_load(y + j);
    float s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; j < N; j++) s += x[j] * y[j];
    return s;
}

static void axpy(float *restrict y, float a, const float *restrict x, int N)
{
    for (int j = 0; j < N; j++) y[j] += a * x[j];
}

/* da += dhid * h (1 - h): the gradient through one segment's sigmoid. */
static void sigmoid_back(float *restrict da, const float *restrict dhid, const float *restrict h, int N)
{
    for (int j = 0; j < N; j++) da[j] += dhid[j] * h[j] * (1.0f - h[j]);
}

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double log_sigmoid(double x)
{
    return -softplus(-x);
}

double mrnn__nade_rows(float *dbv, float *dbh, float *dw, float *dv, const float *bv, const float *bh,
                       const float *w, const float *v, const uint32_t *start, const uint32_t *ids, const float *mask,
                       size_t n, int K, int N, float scale, float *scratch, uint64_t *n_exact)
{
    float *hs = scratch, *a = hs + (size_t)(K + 1) * (size_t)N, *dhid = a + N, *da = dhid + N;
    float *lg = da + N, *vis = lg + K;
    uint32_t *seg = (uint32_t *)(void *)(vis + K);
    double total = 0.0;
    uint64_t exact = 0;
    for (size_t r = 0; r < n; r++) {
        const float *bvr = bv + r * (size_t)K, *bhr = bh + r * (size_t)N;
        if (mask[r] == 0.0f) {
            if (dbv) {
                memset(dbv + r * (size_t)K, 0, (size_t)K * sizeof *dbv);
                memset(dbh + r * (size_t)N, 0, (size_t)N * sizeof *dbh);
            }
            continue;
        }
        memset(vis, 0, (size_t)K * sizeof *vis);
        for (uint32_t k = start[r]; k < start[r + 1]; k++)
            if (ids[k] < (uint32_t)K) vis[ids[k]] = 1.0f;
        memcpy(a, bhr, (size_t)N * sizeof *a);
        sigmoid_into(hs, a, N);
        uint32_t s = 0;
        double row = 0.0;
        int all_right = 1;
        for (int i = 0; i < K; i++) {
            const float l = bvr[i] + dot(v + (size_t)i * (size_t)N, hs + (size_t)s * (size_t)N, N);
            lg[i] = l;
            seg[i] = s;
            row += softplus((double)l) - (double)vis[i] * (double)l;
            all_right &= (l > 0.0f) == (vis[i] != 0.0f);
            if (vis[i] != 0.0f && i + 1 < K) {
                axpy(a, 1.0f, w + (size_t)i * (size_t)N, N);
                s++;
                sigmoid_into(hs + (size_t)s * (size_t)N, a, N);
            }
        }
        total += row;
        exact += (uint64_t)all_right;
        if (!dbv) continue;

        /* Backward, keys high to low. da sums the gradients of the pre-activations of every segment
         * above the current key: exactly what the input weights of a sounding key receive, since
         * that key's row is part of all of those pre-activations. */
        float *dbvr = dbv + r * (size_t)K;
        memset(dhid, 0, (size_t)N * sizeof *dhid);
        memset(da, 0, (size_t)N * sizeof *da);
        for (int i = K; i-- > 0;) {
            const uint32_t si = seg[i];
            if (vis[i] != 0.0f && i + 1 < K) {
                sigmoid_back(da, dhid, hs + (size_t)(si + 1) * (size_t)N, N);
                memset(dhid, 0, (size_t)N * sizeof *dhid);
                axpy(dw + (size_t)i * (size_t)N, 1.0f, da, N);
            }
            const float d = scale * (1.0f / (1.0f + expf(-lg[i])) - vis[i]);
            dbvr[i] = d;
            axpy(dhid, d, v + (size_t)i * (size_t)N, N);
            axpy(dv + (size_t)i * (size_t)N, d, hs + (size_t)si * (size_t)N, N);
        }
        sigmoid_back(da, dhid, hs, N);
        memcpy(dbh + r * (size_t)N, da, (size_t)N * sizeof *da);
    }
    if (n_exact) *n_exact += exact;
    return total;
}

uint32_t mrnn__nade_sample(uint8_t *on, float *probs, double *logp, const float *bv, const float *bh, const float *w,
                           const float *v, const uint8_t *allowed, uint32_t max_on, float temperature,
                           const float *u, int K, int N, float *scratch)
{
    float *hid = scratch, *a = scratch + N;
    memcpy(a, bh, (size_t)N * sizeof *a);
    sigmoid_into(hid, a, N);
    uint32_t n_on = 0;
    double lp = 0.0;
    for (int i = 0; i < K; i++) {
        const float l = bv[i] + dot(v + (size_t)i * (size_t)N, hid, N);
        float p = 0.0f;
        if ((!allowed || allowed[i]) && (!max_on || n_on < max_on)) {
            if (temperature == 0.0f)
                p = l > 0.0f ? 1.0f : 0.0f;
            else
                p = (float)(1.0 / (1.0 + exp(-(double)l / (double)temperature)));
        }
        probs[i] = p;
        on[i] = p > 0.0f && u[i] < p;
        lp += on[i] ? log_sigmoid((double)l) : log_sigmoid(-(double)l);
        if (on[i]) {
            n_on++;
            if (i + 1 < K) {
                axpy(a, 1.0f, w + (size_t)i * (size_t)N, N);
                sigmoid_into(hid, a, N);
            }
        }
    }
    *logp = lp;
    return n_on;
}
