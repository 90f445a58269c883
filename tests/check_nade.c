/* NADE frame kernel (lib/nade.c): the gradient against central differences of the loss, the
 * distribution summing to one over every frame of a small keyboard, the loss against a plain
 * per-key reference, and sampling (masks, polyphony cap, determinism, log-probability). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nade.h"
#include "rng.h"
#include "test_main.h"

/* N = 7 exercises both the 4-wide loops and their scalar tails. */
enum { K_ = 9, N_ = 7, R_ = 5 };

typedef struct fixture {
    float bv[R_ * K_], bh[R_ * N_], w[K_ * N_], v[K_ * N_];
    float dbv[R_ * K_], dbh[R_ * N_], dw[K_ * N_], dv[K_ * N_];
    uint32_t start[R_ + 1], ids[R_ * K_];
    float mask[R_];
    float *scratch;
} fixture;

static void fill(float *a, size_t n, double k, mrnn__rng *r)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)((2.0 * mrnn__rng_uniform(r) - 1.0) * k);
}

static void fixture_init(fixture *f, uint64_t seed)
{
    mrnn__rng r;
    mrnn__rng_seed(&r, seed);
    memset(f, 0, sizeof *f);
    fill(f->bv, R_ * K_, 1.0, &r);
    fill(f->bh, R_ * N_, 1.0, &r);
    fill(f->w, K_ * N_, 1.0, &r);
    fill(f->v, K_ * N_, 1.0, &r);
    /* Rows with 0, 1, 3 keys, one with the top key (whose input weights get no gradient) and one
     * unscored row. */
    static const uint32_t keys[R_][4] = {{0}, {4}, {1, 2, 6}, {3, 8}, {5}};
    static const uint32_t n_keys[R_] = {0, 1, 3, 2, 1};
    uint32_t n = 0;
    for (int row = 0; row < R_; row++) {
        f->start[row] = n;
        for (uint32_t k = 0; k < n_keys[row]; k++) f->ids[n++] = keys[row][k];
        f->mask[row] = row == R_ - 1 ? 0.0f : 1.0f;
    }
    f->start[R_] = n;
    f->scratch = malloc(mrnn__nade_scratch_floats(K_, N_) * sizeof(float));
}

static double loss(fixture *f)
{
    return mrnn__nade_rows(NULL, NULL, NULL, NULL, f->bv, f->bh, f->w, f->v, f->start, f->ids, f->mask, R_, K_, N_,
                           1.0f, f->scratch, NULL);
}

/* max |analytic - numeric| / max |numeric| over one block of parameters. */
static double check_block(fixture *f, float *p, const float *analytic, size_t n)
{
    const float eps = 1e-2f;
    double max_num = 1e-6, max_err = 0.0;
    for (size_t k = 0; k < n; k++) {
        float keep = p[k];
        p[k] = keep + eps;
        double lp = loss(f);
        p[k] = keep - eps;
        double lm = loss(f);
        p[k] = keep;
        double num = (lp - lm) / (2.0 * (double)eps);
        if (fabs(num) > max_num) max_num = fabs(num);
        double err = fabs(num - (double)analytic[k]);
        if (err > max_err) max_err = err;
    }
    return max_err / max_num;
}

START_TEST(gradient_matches_differences)
{
    fixture f;
    fixture_init(&f, 11);
    uint64_t exact = 0;
    double l = mrnn__nade_rows(f.dbv, f.dbh, f.dw, f.dv, f.bv, f.bh, f.w, f.v, f.start, f.ids, f.mask, R_, K_, N_,
                               1.0f, f.scratch, &exact);
    ck_assert(fabs(l - loss(&f)) < 1e-9);
    ck_assert(l > 0.0);
    ck_assert_uint_le(exact, R_ - 1);
    ck_assert_double_lt(check_block(&f, f.bv, f.dbv, R_ * K_), 2e-3);
    ck_assert_double_lt(check_block(&f, f.bh, f.dbh, R_ * N_), 2e-3);
    ck_assert_double_lt(check_block(&f, f.w, f.dw, K_ * N_), 2e-3);
    ck_assert_double_lt(check_block(&f, f.v, f.dv, K_ * N_), 2e-3);
    /* The unscored row gets zeros; the top key's input weights are never used. */
    for (int k = 0; k < K_; k++) ck_assert(f.dbv[(R_ - 1) * K_ + k] == 0.0f);
    for (int j = 0; j < N_; j++) ck_assert(f.dw[(K_ - 1) * N_ + j] == 0.0f);
    /* The gradients may overwrite the biases they belong to, with the same results. */
    float dbv[R_ * K_], dbh[R_ * N_];
    memcpy(dbv, f.dbv, sizeof dbv);
    memcpy(dbh, f.dbh, sizeof dbh);
    memset(f.dw, 0, sizeof f.dw);
    memset(f.dv, 0, sizeof f.dv);
    double l2 = mrnn__nade_rows(f.bv, f.bh, f.dw, f.dv, f.bv, f.bh, f.w, f.v, f.start, f.ids, f.mask, R_, K_, N_,
                                1.0f, f.scratch, NULL);
    ck_assert(l2 == l);
    ck_assert(memcmp(dbv, f.bv, sizeof dbv) == 0);
    ck_assert(memcmp(dbh, f.bh, sizeof dbh) == 0);
    free(f.scratch);
}
END_TEST

START_TEST(gradient_is_scaled_and_accumulated)
{
    fixture f;
    fixture_init(&f, 12);
    mrnn__nade_rows(f.dbv, f.dbh, f.dw, f.dv, f.bv, f.bh, f.w, f.v, f.start, f.ids, f.mask, R_, K_, N_, 1.0f,
                    f.scratch, NULL);
    float dw1[K_ * N_], dbv1[R_ * K_];
    memcpy(dw1, f.dw, sizeof dw1);
    memcpy(dbv1, f.dbv, sizeof dbv1);
    /* A second call with scale 0.5 adds half the gradient to dw and writes half into dbv. */
    mrnn__nade_rows(f.dbv, f.dbh, f.dw, f.dv, f.bv, f.bh, f.w, f.v, f.start, f.ids, f.mask, R_, K_, N_, 0.5f,
                    f.scratch, NULL);
    for (int k = 0; k < K_ * N_; k++) ck_assert(fabsf(f.dw[k] - 1.5f * dw1[k]) <= 1e-5f * (1.0f + fabsf(dw1[k])));
    for (int k = 0; k < R_ * K_; k++) ck_assert(fabsf(f.dbv[k] - 0.5f * dbv1[k]) <= 1e-6f);
    free(f.scratch);
}
END_TEST

/* Every one of the 2^K frames, scored as a row: the probabilities must sum to one. */
START_TEST(distribution_sums_to_one)
{
    enum { K = 8, N = 5 };
    mrnn__rng r;
    mrnn__rng_seed(&r, 3);
    float bv[K], bh[N], w[K * N], v[K * N];
    fill(bv, K, 2.0, &r);
    fill(bh, N, 2.0, &r);
    fill(w, K * N, 2.0, &r);
    fill(v, K * N, 2.0, &r);
    float *scratch = malloc(mrnn__nade_scratch_floats(K, N) * sizeof(float));
    double total = 0.0;
    for (uint32_t frame = 0; frame < (1u << K); frame++) {
        uint32_t ids[K], n = 0, start[2] = {0, 0};
        for (uint32_t k = 0; k < K; k++)
            if (frame >> k & 1u) ids[n++] = k;
        start[1] = n;
        float one = 1.0f;
        double nll = mrnn__nade_rows(NULL, NULL, NULL, NULL, bv, bh, w, v, start, ids, &one, 1, K, N, 1.0f, scratch,
                                     NULL);
        total += exp(-nll);
    }
    ck_assert_double_eq_tol(total, 1.0, 1e-5);
    free(scratch);
}
END_TEST

/* The loss of one row against a direct evaluation of the formula, key by key, in double. */
START_TEST(loss_matches_reference)
{
    fixture f;
    fixture_init(&f, 13);
    double want = 0.0;
    for (int row = 0; row < R_; row++) {
        if (f.mask[row] == 0.0f) continue;
        double vis[K_] = {0}, a[N_];
        for (uint32_t k = f.start[row]; k < f.start[row + 1]; k++) vis[f.ids[k]] = 1.0;
        for (int i = 0; i < K_; i++) {
            for (int j = 0; j < N_; j++) {
                a[j] = f.bh[row * N_ + j];
                for (int m = 0; m < i; m++) a[j] += vis[m] * f.w[m * N_ + j];
            }
            double l = f.bv[row * K_ + i];
            for (int j = 0; j < N_; j++) l += f.v[i * N_ + j] / (1.0 + exp(-a[j]));
            double p = 1.0 / (1.0 + exp(-l));
            want -= vis[i] ? log(p) : log(1.0 - p);
        }
    }
    ck_assert_double_eq_tol(loss(&f), want, 1e-4);
    free(f.scratch);
}
END_TEST

START_TEST(sample_masks_cap_and_determinism)
{
    fixture f;
    fixture_init(&f, 14);
    for (int k = 0; k < K_; k++) f.bv[k] += 1.5f; /* most keys likely on */
    float u[K_], probs[K_];
    uint8_t on[K_], on2[K_], allowed[K_];
    mrnn__rng r;
    mrnn__rng_seed(&r, 5);
    for (int k = 0; k < K_; k++) {
        u[k] = (float)mrnn__rng_uniform(&r);
        allowed[k] = k % 3 != 1;
    }
    double lp, lp2;
    uint32_t n = mrnn__nade_sample(on, probs, &lp, f.bv, f.bh, f.w, f.v, allowed, 0, 1.0f, u, K_, N_, f.scratch);
    uint32_t n2 = mrnn__nade_sample(on2, probs, &lp2, f.bv, f.bh, f.w, f.v, allowed, 0, 1.0f, u, K_, N_, f.scratch);
    ck_assert_uint_eq(n, n2);
    ck_assert(memcmp(on, on2, sizeof on) == 0 && lp == lp2);
    uint32_t count = 0;
    for (int k = 0; k < K_; k++) {
        if (!allowed[k]) ck_assert(!on[k] && probs[k] == 0.0f);
        count += on[k];
    }
    ck_assert_uint_eq(count, n);
    ck_assert_uint_gt(n, 0);
    /* The log-probability is the model's own (t = 1, no mask): minus the loss of that frame. */
    uint32_t ids[K_], m = 0, start[2] = {0, 0};
    for (uint32_t k = 0; k < K_; k++)
        if (on[k]) ids[m++] = k;
    start[1] = m;
    float one = 1.0f;
    double nll = mrnn__nade_rows(NULL, NULL, NULL, NULL, f.bv, f.bh, f.w, f.v, start, ids, &one, 1, K_, N_, 1.0f,
                                 f.scratch, NULL);
    ck_assert_double_eq_tol(lp, -nll, 1e-5);
    /* The polyphony cap. */
    n = mrnn__nade_sample(on, probs, &lp, f.bv, f.bh, f.w, f.v, NULL, 2, 1.0f, u, K_, N_, f.scratch);
    ck_assert_uint_le(n, 2);
    /* Temperature 0: a key is on exactly when its (teacher-forced) logit is positive, so the greedy
     * frame is predicted exactly by the loss's own threshold. */
    n = mrnn__nade_sample(on, probs, &lp, f.bv, f.bh, f.w, f.v, NULL, 0, 0.0f, u, K_, N_, f.scratch);
    m = 0;
    for (uint32_t k = 0; k < K_; k++)
        if (on[k]) ids[m++] = k;
    start[1] = m;
    uint64_t exact = 0;
    mrnn__nade_rows(NULL, NULL, NULL, NULL, f.bv, f.bh, f.w, f.v, start, ids, &one, 1, K_, N_, 1.0f, f.scratch,
                    &exact);
    ck_assert_uint_eq(exact, 1);
    free(f.scratch);
}
END_TEST

/* Drawn frames follow the model: the empirical share of each frame of a 3-key NADE against its
 * probability exp(-loss). */
START_TEST(sample_frequencies_follow_model)
{
    enum { K = 3, N = 4, DRAWS = 40000 };
    mrnn__rng r;
    mrnn__rng_seed(&r, 21);
    float bv[K], bh[N], w[K * N], v[K * N];
    fill(bv, K, 1.0, &r);
    fill(bh, N, 1.0, &r);
    fill(w, K * N, 2.0, &r);
    fill(v, K * N, 2.0, &r);
    float *scratch = malloc(mrnn__nade_scratch_floats(K, N) * sizeof(float));
    unsigned seen[1 << K] = {0};
    for (int d = 0; d < DRAWS; d++) {
        float u[K], probs[K];
        uint8_t on[K];
        double lp;
        for (int k = 0; k < K; k++) u[k] = (float)mrnn__rng_uniform(&r);
        mrnn__nade_sample(on, probs, &lp, bv, bh, w, v, NULL, 0, 1.0f, u, K, N, scratch);
        seen[on[0] | on[1] << 1 | on[2] << 2]++;
    }
    for (uint32_t frame = 0; frame < (1u << K); frame++) {
        uint32_t ids[K], n = 0, start[2] = {0, 0};
        for (uint32_t k = 0; k < K; k++)
            if (frame >> k & 1u) ids[n++] = k;
        start[1] = n;
        float one = 1.0f;
        double p = exp(-mrnn__nade_rows(NULL, NULL, NULL, NULL, bv, bh, w, v, start, ids, &one, 1, K, N, 1.0f,
                                        scratch, NULL));
        double sd = sqrt(p * (1.0 - p) / DRAWS);
        ck_assert_double_lt(fabs((double)seen[frame] / DRAWS - p), 5.0 * sd + 1e-4);
    }
    free(scratch);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("nade");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gradient_matches_differences);
    tcase_add_test(tc, gradient_is_scaled_and_accumulated);
    tcase_add_test(tc, distribution_sums_to_one);
    tcase_add_test(tc, loss_matches_reference);
    tcase_add_test(tc, sample_masks_cap_and_determinism);
    tcase_add_test(tc, sample_frequencies_follow_model);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
