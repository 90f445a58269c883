/* Adam / AdamW against hand-computed values, and global-norm clipping. */
#include <math.h>
#include <string.h>

#include "adam.h"
#include "test_main.h"

static const float grads[3][3] = {{0.1f, -0.2f, 0.3f}, {0.05f, 0.4f, -0.1f}, {-0.3f, 0.1f, 0.2f}};

/* Reference: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * + lr wd w, with lr 0.01, betas 0.9/0.999, eps 1e-8, w0 = (0.5, -1, 2), computed in double.
 * Step 1 is the sign of g times lr: every |m_hat / sqrt(v_hat)| is 1. */
static const double plain[3][3] = {{0.490000001, -0.99, 1.99},
                                   {0.480678206, -0.993661036, 1.98599781},
                                   {0.484150441, -0.997817547, 1.97996695}};
static const double decayed[3][3] = {{0.489500001, -0.989, 1.988},
                                     {0.479688706, -0.991672036, 1.98200981},
                                     {0.482681252, -0.994836875, 1.97399694}};

static void run(float wd, const double expect[3][3])
{
    float w[3] = {0.5f, -1.0f, 2.0f}, m[3] = {0}, v[3] = {0};
    mrnn__adam_config cfg = {0.01f, 0.9f, 0.999f, 1e-8f, wd};
    for (int t = 0; t < 3; t++) {
        mrnn__adam_update(w, grads[t], m, v, 3, (uint64_t)t + 1, &cfg);
        for (int k = 0; k < 3; k++) ck_assert_double_eq_tol((double)w[k], expect[t][k], 2e-6);
    }
}

START_TEST(test_adam_plain)
{
    run(0.0f, plain);
}
END_TEST

START_TEST(test_adamw_decay)
{
    run(0.1f, decayed);
}
END_TEST

START_TEST(test_zero_grad_only_decays)
{
    float w[2] = {1.0f, -2.0f}, g[2] = {0}, m[2] = {0}, v[2] = {0};
    mrnn__adam_config cfg = {0.1f, 0.9f, 0.999f, 1e-8f, 0.5f};
    mrnn__adam_update(w, g, m, v, 2, 1, &cfg);
    ck_assert_float_eq_tol(w[0], 0.95f, 1e-7f);
    ck_assert_float_eq_tol(w[1], -1.9f, 1e-7f);
}
END_TEST

/* The moving average of a constant is that constant, bit for bit, however long it runs; towards
 * a new constant it closes the gap by the factor d each step. */
START_TEST(test_weight_average)
{
    float w[4] = {0.1f, -3.0f, 1e-7f, 12345.678f}, avg[4];
    memcpy(avg, w, sizeof avg);
    for (int t = 0; t < 1000; t++) mrnn__average_update(avg, w, 4, 0.995f);
    ck_assert_mem_eq(avg, w, sizeof avg);
    float target[4] = {1.0f, 1.0f, 1.0f, 1.0f}, a2[4] = {0.0f, 2.0f, -1.0f, 1.0f};
    for (int t = 0; t < 10; t++) mrnn__average_update(a2, target, 4, 0.5f);
    const double gap = pow(0.5, 10);
    ck_assert_double_eq_tol(a2[0], 1.0 - gap, 1e-6);
    ck_assert_double_eq_tol(a2[1], 1.0 + gap, 1e-6);
    ck_assert_double_eq_tol(a2[2], 1.0 - 2.0 * gap, 1e-6);
    ck_assert(a2[3] == 1.0f);
    mrnn__average_update(a2, target, 4, 0.0f); /* d = 0: the weights themselves */
    ck_assert(a2[0] == 1.0f && a2[2] == 1.0f);
}
END_TEST

START_TEST(test_clip_grad_norm)
{
    float g[4] = {3.0f, 4.0f, 0.0f, -12.0f}; /* norm 13 */
    double n = mrnn__clip_grad_norm(g, 4, 6.5f);
    ck_assert_double_eq_tol(n, 13.0, 1e-12);
    ck_assert_float_eq_tol(g[0], 1.5f, 1e-6f);
    ck_assert_float_eq_tol(g[1], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(g[2], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(g[3], -6.0f, 1e-6f);
    ck_assert_double_eq_tol(mrnn__clip_grad_norm(g, 4, 6.5f), 6.5, 1e-5);

    /* Below the limit, or max_norm <= 0: untouched. */
    float h[2] = {0.3f, 0.4f};
    ck_assert_double_eq_tol(mrnn__clip_grad_norm(h, 2, 1.0f), 0.5, 1e-7);
    ck_assert_float_eq(h[0], 0.3f);
    float k[2] = {30.0f, 40.0f};
    ck_assert_double_eq_tol(mrnn__clip_grad_norm(k, 2, 0.0f), 50.0, 1e-6);
    ck_assert_float_eq(k[1], 40.0f);
    ck_assert_double_eq(mrnn__clip_grad_norm(k, 0, 1.0f), 0.0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("adam");
    TCase *tc = tcase_create("optimiser");
    tcase_add_test(tc, test_adam_plain);
    tcase_add_test(tc, test_adamw_decay);
    tcase_add_test(tc, test_zero_grad_only_decays);
    tcase_add_test(tc, test_clip_grad_norm);
    tcase_add_test(tc, test_weight_average);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
