/* LSTM kernels: backward against double-precision central differences (weights, bias, input, with a
 * non-zero initial state), and the step path (sgemv for B == 1, sgemm otherwise) against the window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "lstm.h"
#include "lstm_cell.h"
#include "reference.h"
#include "rng.h"
#include "test_main.h"

enum { T_ = 4, B_ = 3, NI_ = 5, H_ = 4 };

typedef struct fixture {
    float w_ih[4 * H_ * NI_], w_hh[4 * H_ * H_], b[4 * H_];
    float g_ih[4 * H_ * NI_], g_hh[4 * H_ * H_], g_b[4 * H_];
    float x[T_ * B_ * NI_], h0[B_ * H_], c0[B_ * H_];
    float proj[T_ * B_ * H_]; /* loss = sum(proj .* h) */
    mrnn__lstm_weights w, g;
    float rec_drop; /* recurrent dropout of every forward (lstm.h), its mask fixed by the seed */
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
    fill(f->w_ih, 4 * H_ * NI_, 0.6, &r);
    fill(f->w_hh, 4 * H_ * H_, 0.6, &r);
    fill(f->b, 4 * H_, 0.5, &r);
    fill(f->x, T_ * B_ * NI_, 1.0, &r);
    fill(f->h0, B_ * H_, 0.8, &r);
    fill(f->c0, B_ * H_, 0.8, &r);
    fill(f->proj, T_ * B_ * H_, 1.0, &r);
    f->w = (mrnn__lstm_weights){NI_, H_, f->w_ih, f->w_hh, f->b};
    f->g = (mrnn__lstm_weights){NI_, H_, f->g_ih, f->g_hh, f->g_b};
}

static double window_loss(fixture *f, float *cache_mem, const float *h0, const float *c0)
{
    mrnn__lstm_cache c;
    mrnn__lstm_cache_bind(&c, cache_mem, T_, B_, H_);
    c.rec_drop = f->rec_drop;
    c.rec_seed = 99;
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, h0, c0, &c);
    double s = 0.0;
    for (size_t k = 0; k < T_ * B_ * H_; k++) s += (double)f->proj[k] * (double)c.h[k];
    return s;
}

/* max |analytic - numeric| / max |numeric| over one block. */
static double check_block(fixture *f, float *cache_mem, float *p, const float *analytic, size_t n,
                          const float *h0, const float *c0)
{
    const float eps = 1e-2f;
    double max_num = 1e-6, max_err = 0.0;
    for (size_t k = 0; k < n; k++) {
        float saved = p[k];
        p[k] = saved + eps;
        double lp = window_loss(f, cache_mem, h0, c0);
        p[k] = saved - eps;
        double lm = window_loss(f, cache_mem, h0, c0);
        p[k] = saved;
        double num = (lp - lm) / (2.0 * (double)eps);
        double err = fabs(num - (double)analytic[k]);
        if (fabs(num) > max_num) max_num = fabs(num);
        if (err > max_err) max_err = err;
    }
    return max_err / max_num;
}

static void gradient_check(int with_state, float rec_drop)
{
    fixture *f = malloc(sizeof *f);
    fixture_init(f, with_state ? 11 : 12);
    f->rec_drop = rec_drop;
    const float *h0 = with_state ? f->h0 : NULL, *c0 = with_state ? f->c0 : NULL;
    size_t nc = mrnn__lstm_cache_floats(T_, B_, H_), ns = mrnn__lstm_backward_scratch_floats(T_, B_, H_);
    float *cache_mem = mrnn__malloc(nc * sizeof(float));
    float *scratch = mrnn__malloc(ns * sizeof(float));
    float dh[T_ * B_ * H_], dx[T_ * B_ * NI_];
    mrnn__lstm_cache c;
    mrnn__lstm_cache_bind(&c, cache_mem, T_, B_, H_);
    c.rec_drop = rec_drop;
    c.rec_seed = 99;
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, h0, c0, &c);
    memcpy(dh, f->proj, sizeof dh);
    mrnn__lstm_backward(&f->w, NULL, NULL, &f->g, f->x, T_, B_, h0, c0, &c, dh, dx, scratch);

    double e_ih = check_block(f, cache_mem, f->w_ih, f->g_ih, 4 * H_ * NI_, h0, c0);
    double e_hh = check_block(f, cache_mem, f->w_hh, f->g_hh, 4 * H_ * H_, h0, c0);
    double e_b = check_block(f, cache_mem, f->b, f->g_b, 4 * H_, h0, c0);
    double e_x = check_block(f, cache_mem, f->x, dx, T_ * B_ * NI_, h0, c0);
    fprintf(stderr, "lstm gradcheck (state=%d, recurrent dropout %.1f): w_ih %.2e w_hh %.2e b %.2e x %.2e\n",
            with_state, (double)rec_drop, e_ih, e_hh, e_b, e_x);
    ck_assert_double_lt(e_ih, 2e-2);
    ck_assert_double_lt(e_hh, 2e-2);
    ck_assert_double_lt(e_b, 2e-2);
    ck_assert_double_lt(e_x, 2e-2);

    /* Gradients are added, not overwritten. */
    float before = f->g_ih[3];
    memcpy(dh, f->proj, sizeof dh);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, h0, c0, &c);
    mrnn__lstm_backward(&f->w, NULL, NULL, &f->g, f->x, T_, B_, h0, c0, &c, dh, NULL, scratch);
    ck_assert_float_eq_tol(f->g_ih[3], 2.0f * before, 1e-5f);

    mrnn__free(cache_mem);
    mrnn__free(scratch);
    free(f);
}

START_TEST(test_backward_gradcheck_zero_state)
{
    gradient_check(0, 0.0f);
}
END_TEST

START_TEST(test_backward_gradcheck_with_state)
{
    gradient_check(1, 0.0f);
}
END_TEST

/* The cell update masked (about half the cells of each row at p = 0.5): the mask is redrawn from
 * the seed in backward. With a non-zero initial state, so that the kept memory path is checked. */
START_TEST(test_backward_gradcheck_recurrent_dropout)
{
    gradient_check(1, 0.5f);
    gradient_check(0, 0.5f);
}
END_TEST

/* Recurrent dropout drops: some cells' updates are zero (c = f·c_prev exactly), the others are
 * scaled by 1/(1-p); off again, the window is the unmasked one. */
START_TEST(test_recurrent_dropout_masks)
{
    fixture *f = malloc(sizeof *f);
    fixture_init(f, 24);
    float *mem = mrnn__malloc(mrnn__lstm_cache_floats(T_, B_, H_) * sizeof(float));
    float *ref = mrnn__malloc(mrnn__lstm_cache_floats(T_, B_, H_) * sizeof(float));
    mrnn__lstm_cache c, r;
    mrnn__lstm_cache_bind(&r, ref, T_, B_, H_);
    ck_assert(r.rec_drop == 0.0f);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, f->h0, f->c0, &r);
    mrnn__lstm_cache_bind(&c, mem, T_, B_, H_);
    c.rec_drop = 0.5f;
    c.rec_seed = 3;
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, f->h0, f->c0, &c);
    /* step 0 shares the input and the state: its gates equal the unmasked run's, its cells differ */
    int dropped = 0, kept = 0;
    for (int k = 0; k < B_ * H_; k++) {
        const int b = k / H_, j = k % H_;
        const float *a = c.gates + (size_t)b * 4 * H_;
        const float fc = a[H_ + j] * f->c0[k], upd = a[j] * a[2 * H_ + j];
        ck_assert_float_eq_tol(a[j], r.gates[(size_t)b * 4 * H_ + (size_t)j], 1e-6f);
        if (c.c[k] == fc) {
            dropped++;
        } else {
            ck_assert_float_eq_tol(c.c[k], fc + 2.0f * upd, 1e-5f);
            kept++;
        }
    }
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_gt(kept, 0);
    mrnn__lstm_cache_bind(&c, mem, T_, B_, H_);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, f->h0, f->c0, &c);
    ck_assert(memcmp(c.h, r.h, (size_t)T_ * B_ * H_ * sizeof(float)) == 0);
    mrnn__free(mem);
    mrnn__free(ref);
    free(f);
}
END_TEST

/* Stepping B lanes T times equals the window forward (sgemm path for B > 1). */
START_TEST(test_step_matches_window)
{
    fixture *f = malloc(sizeof *f);
    fixture_init(f, 21);
    float *cache_mem = mrnn__malloc(mrnn__lstm_cache_floats(T_, B_, H_) * sizeof(float));
    mrnn__lstm_cache c;
    mrnn__lstm_cache_bind(&c, cache_mem, T_, B_, H_);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, f->h0, f->c0, &c);
    float h[B_ * H_], cs[B_ * H_], scratch[4 * H_ * B_];
    memcpy(h, f->h0, sizeof h);
    memcpy(cs, f->c0, sizeof cs);
    for (int t = 0; t < T_; t++) {
        mrnn_ref_lstm_step(&f->w, f->x + (size_t)t * B_ * NI_, B_, h, cs, scratch);
        for (int k = 0; k < B_ * H_; k++) {
            ck_assert_float_eq_tol(h[k], c.h[(size_t)t * B_ * H_ + (size_t)k], 1e-5f);
            ck_assert_float_eq_tol(cs[k], c.c[(size_t)t * B_ * H_ + (size_t)k], 1e-5f);
        }
    }
    mrnn__free(cache_mem);
    free(f);
}
END_TEST

/* B == 1 (sgemv path) equals lane 0 of a one-lane window. */
START_TEST(test_step_b1_matches_window)
{
    fixture *f = malloc(sizeof *f);
    fixture_init(f, 22);
    float *cache_mem = mrnn__malloc(mrnn__lstm_cache_floats(T_ * B_, 1, H_) * sizeof(float));
    mrnn__lstm_cache c;
    mrnn__lstm_cache_bind(&c, cache_mem, T_ * B_, 1, H_);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_ * B_, 1, NULL, NULL, &c);
    float h[H_] = {0}, cs[H_] = {0}, scratch[4 * H_];
    for (int t = 0; t < T_ * B_; t++) {
        mrnn_ref_lstm_step(&f->w, f->x + (size_t)t * NI_, 1, h, cs, scratch);
        for (int k = 0; k < H_; k++) {
            ck_assert_float_eq_tol(h[k], c.h[(size_t)t * H_ + (size_t)k], 1e-5f);
            ck_assert_float_eq_tol(cs[k], c.c[(size_t)t * H_ + (size_t)k], 1e-5f);
        }
    }
    mrnn__free(cache_mem);
    free(f);
}
END_TEST

/* Gates are in (0,1) / (-1,1) and extreme inputs stay finite. */
START_TEST(test_saturation_finite)
{
    fixture *f = malloc(sizeof *f);
    fixture_init(f, 23);
    for (size_t k = 0; k < T_ * B_ * NI_; k++) f->x[k] *= 1000.0f;
    float *cache_mem = mrnn__malloc(mrnn__lstm_cache_floats(T_, B_, H_) * sizeof(float));
    mrnn__lstm_cache c;
    mrnn__lstm_cache_bind(&c, cache_mem, T_, B_, H_);
    mrnn__lstm_forward(&f->w, NULL, NULL, f->x, T_, B_, NULL, NULL, &c);
    for (size_t k = 0; k < T_ * B_ * H_; k++) {
        ck_assert(isfinite(c.h[k]) && fabsf(c.h[k]) <= 1.0f);
        ck_assert(isfinite(c.c[k]));
    }
    for (size_t k = 0; k < T_ * B_ * 4 * H_; k++) ck_assert(c.gates[k] >= -1.0f && c.gates[k] <= 1.0f);
    mrnn__free(cache_mem);
    free(f);
}
END_TEST

/* The 16-wide cell (AVX-512) gives the 4-wide cell's bits, forward and backward, whole chunks and
 * padded tails, with and without a previous state and recurrent dropout, over inputs from the
 * saturated range to small ones; a row done in two ranges of cells gives the whole row's. On a
 * CPU without AVX-512 only the 4-wide cell runs. */
START_TEST(test_cell_widths_agree)
{
    enum { HMAX = 100 };
    static const int sizes[] = {1, 4, 15, 16, 37, 64, 100};
    float pre[4 * HMAX], bias[4 * HMAX], cp[HMAX], dh[HMAX], dc0[HMAX];
    float a[2][4 * HMAX], c[2][HMAX], h[2][HMAX], dc[2][HMAX];
    mrnn__rng r;
    mrnn__rng_seed(&r, 99);
    int wide = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (int variant = 0; variant < 4; variant++) {
            const int H = sizes[si], with_state = variant & 1;
            const mrnn__cell_drop drop = {0.4f, 77, (size_t)si};
            const mrnn__cell_drop *dp = variant & 2 ? &drop : NULL;
            for (int k = 0; k < 4 * H; k++) {
                pre[k] = (float)(mrnn__rng_normal(&r) * (k % 3 == 0 ? 30.0 : 1.0));
                bias[k] = (float)(0.1 * mrnn__rng_normal(&r));
            }
            for (int k = 0; k < H; k++) {
                cp[k] = (float)mrnn__rng_normal(&r);
                dh[k] = (float)mrnn__rng_normal(&r);
                dc0[k] = (float)mrnn__rng_normal(&r);
            }
            int ran[2];
            for (int w = 0; w < 2; w++) {
                memcpy(a[w], pre, 4 * (size_t)H * sizeof(float));
                memcpy(dc[w], dc0, (size_t)H * sizeof(float));
                mrnn__cell_row row = {a[w], bias, with_state ? cp : NULL, c[w], h[w], dp};
                ran[w] = mrnn__lstm_cell_forward_at(w ? 16 : 4, &row, H, 0, H) == 0;
                if (ran[w])
                    ck_assert_int_eq(mrnn__lstm_cell_backward_at(w ? 16 : 4, a[w], c[w], with_state ? cp : NULL, dh,
                                                                 dc[w], H, dp),
                                     0);
            }
            ck_assert(ran[0]);
            /* threads each taking a range of cells give the whole row's bits */
            float a_part[2][4 * HMAX], c_part[2][HMAX], h_part[2][HMAX];
            for (int whole = 0; whole < 2; whole++) {
                memcpy(a_part[whole], pre, 4 * (size_t)H * sizeof(float));
                mrnn__cell_row row = {a_part[whole], bias, with_state ? cp : NULL, c_part[whole], h_part[whole], dp};
                if (whole) {
                    mrnn__lstm_cell_forward(&row, H);
                } else {
                    mrnn__lstm_cell_forward_cells(&row, H, H / 3, H);
                    mrnn__lstm_cell_forward_cells(&row, H, 0, H / 3);
                }
            }
            ck_assert_mem_eq(a_part[0], a_part[1], 4 * (size_t)H * sizeof(float));
            ck_assert_mem_eq(c_part[0], c_part[1], (size_t)H * sizeof(float));
            ck_assert_mem_eq(h_part[0], h_part[1], (size_t)H * sizeof(float));
            if (!ran[1]) continue;
            wide = 1;
            ck_assert_mem_eq(h[0], h[1], (size_t)H * sizeof(float));
            ck_assert_mem_eq(c[0], c[1], (size_t)H * sizeof(float));
            ck_assert_mem_eq(a[0], a[1], 4 * (size_t)H * sizeof(float));
            ck_assert_mem_eq(dc[0], dc[1], (size_t)H * sizeof(float));
        }
    const mrnn__cell_row any = {a[0], bias, NULL, c[0], h[0], NULL};
    ck_assert_int_eq(mrnn__lstm_cell_forward_at(8, &any, 4, 0, 4), -1);
    fprintf(stderr, "lstm cell: 16-wide cell %s\n", wide ? "compared with the 4-wide one" : "not on this CPU");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("lstm");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, test_backward_gradcheck_zero_state);
    tcase_add_test(tc, test_backward_gradcheck_with_state);
    tcase_add_test(tc, test_backward_gradcheck_recurrent_dropout);
    tcase_add_test(tc, test_recurrent_dropout_masks);
    tcase_add_test(tc, test_step_matches_window);
    tcase_add_test(tc, test_step_b1_matches_window);
    tcase_add_test(tc, test_saturation_finite);
    tcase_add_test(tc, test_cell_widths_agree);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
