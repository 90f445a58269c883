/* Output losses: softmax cross-entropy and independent sigmoids with binary cross-entropy.
 * Both are numerically stable for any finite logits and may write the gradient over the logits. */
#include "loss.h"

#include <math.h>
#include <string.h>

double mrnn__softmax_xent(float *dlogits, const float *logits, const uint32_t *target, const float *mask,
                          size_t N, size_t V, float scale, uint64_t *n_correct)
{
    double total = 0.0;
    uint64_t correct = 0;
    for (size_t r = 0; r < N; r++) {
        const float *x = logits + r * V;
        float *d = dlogits + r * V;
        if (mask[r] == 0.0f || V == 0) {
            memset(d, 0, V * sizeof *d);
            continue;
        }
        size_t arg = 0;
        float m = x[0];
        for (size_t j = 1; j < V; j++)
            if (x[j] > m) {
                m = x[j];
                arg = j;
            }
        uint32_t t = target[r];
        float xt = x[t];
        float sum = 0.0f;
        for (size_t j = 0; j < V; j++) {
            float e = expf(x[j] - m);
            d[j] = e;
            sum += e;
        }
        total += (double)m + log((double)sum) - (double)xt;
        correct += arg == t;
        float k = scale / sum;
        for (size_t j = 0; j < V; j++) d[j] *= k;
        d[t] -= scale;
    }
    if (n_correct) *n_correct += correct;
    return total;
}

double mrnn__sigmoid_bce(float *dlogits, const float *logits, const uint32_t *start, const uint32_t *ids,
                         const float *mask, size_t N, size_t V, float scale, uint64_t *n_exact)
{
    double total = 0.0;
    uint64_t exact = 0;
    for (size_t r = 0; r < N; r++) {
        const float *x = logits + r * V;
        float *d = dlogits + r * V;
        if (mask[r] == 0.0f) {
            memset(d, 0, V * sizeof *d);
            continue;
        }
        /* loss_j = softplus(x_j) - y_j x_j; the target terms are read before d (maybe x) is written. */
        double row = 0.0;
        uint32_t n_pos = start[r + 1] - start[r], hits = 0, predicted = 0;
        for (uint32_t k = start[r]; k < start[r + 1]; k++) {
            row -= (double)x[ids[k]];
            hits += x[ids[k]] > 0.0f;
        }
        double sp = 0.0;
        for (size_t j = 0; j < V; j++) {
            float xj = x[j];
            sp += (double)(fmaxf(xj, 0.0f) + log1pf(expf(-fabsf(xj))));
            predicted += xj > 0.0f;
            d[j] = scale / (1.0f + expf(-xj));
        }
        row += sp;
        for (uint32_t k = start[r]; k < start[r + 1]; k++) d[ids[k]] -= scale;
        total += row;
        exact += hits == n_pos && predicted == n_pos;
    }
    if (n_exact) *n_exact += exact;
    return total;
}
