/* The sampling copy of the weights: bfloat16 rounding, the packed lanes x weights product against
 * a double-precision reference (odd sizes, lane counts that do not fill a tile, accumulation into
 * y), and a whole network step through the copy against the OpenBLAS path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "infer_weights.h"
#include "network_infer.h"
#include "reference.h"
#include "rng.h"
#include "test_main.h"

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

START_TEST(test_bf16_rounding)
{
    ck_assert_uint_eq(mrnn__bf16_from_float(1.0f), 0x3f80);
    ck_assert_uint_eq(mrnn__bf16_from_float(-2.0f), 0xc000);
    /* exactly half way: ties go to the even neighbour */
    ck_assert_uint_eq(mrnn__bf16_from_float(bits_to_float(0x3f808000u)), 0x3f80);
    ck_assert_uint_eq(mrnn__bf16_from_float(bits_to_float(0x3f818000u)), 0x3f82);
    /* just above half way rounds up */
    ck_assert_uint_eq(mrnn__bf16_from_float(bits_to_float(0x3f808001u)), 0x3f81);
    ck_assert(isnan(mrnn__bf16_to_float(mrnn__bf16_from_float(NAN))));
    ck_assert(isinf(mrnn__bf16_to_float(mrnn__bf16_from_float(INFINITY))));
    mrnn__rng r;
    mrnn__rng_seed(&r, 3);
    for (int k = 0; k < 10000; k++) {
        float f = (float)((mrnn__rng_uniform(&r) - 0.5) * 200.0);
        float back = mrnn__bf16_to_float(mrnn__bf16_from_float(f));
        ck_assert_float_le(fabsf(back - f), fabsf(f) * (1.0f / 256.0f)); /* 8 significant bits */
    }
}
END_TEST

/* A network with one layer whose W_ih is the matrix under test (n_out x n_in): the packed copy of
 * layer 0 is then [W_ih | W_hh], so the product over rows [x | 0] checks the W_ih part alone,
 * and the output layer (n_out_v x H) gives a second, differently sized matrix. */
static void check_matmul(int isa, int E, int H, int V, int B, int bf16)
{
    /* more tokens than the projected-embedding table is made for: layer 0 packs W_ih too */
    mrnn__net_config cfg = {(uint32_t)(8 * E + V), (uint32_t)V, 0, (uint32_t)E, (uint32_t)H, 1, 0, 0.0f, 0};
    size_t n = mrnn__net_param_count(&cfg);
    float *block = mrnn__malloc(n * sizeof(float));
    ck_assert(block != NULL);
    mrnn__net_params w;
    mrnn__net_bind(&cfg, block, &w);
    mrnn__rng r;
    mrnn__rng_seed(&r, (uint64_t)(E * 7 + H * 13 + B));
    mrnn__net_init(&cfg, &w, &r);
    mrnn__infer_weights *iw = mrnn__infer_weights_new(&cfg, &w, bf16);
    ck_assert(iw != NULL);
    ck_assert(iw->table0 == NULL);
    const int K = E + H, G = 4 * H;
    ck_assert_int_eq(iw->layer[0].n_in, K);
    ck_assert_int_eq(iw->layer[0].n_out, G);
    float *x = malloc((size_t)B * (size_t)K * sizeof(float)), *y = malloc((size_t)B * (size_t)G * sizeof(float));
    for (int k = 0; k < B * K; k++) x[k] = (float)(mrnn__rng_uniform(&r) * 2.0 - 1.0);
    for (int k = 0; k < B * G; k++) y[k] = 0.5f; /* the product is added to what is there */
    mrnn__packed_matmul_isa(isa, &iw->layer[0], B, x, (size_t)K, y, (size_t)G);
    double worst = 0.0;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++) {
            double ref = 0.5, scale = 0.0;
            for (int k = 0; k < K; k++) {
                float wv = k < E ? w.layer[0].w_ih[(size_t)g * (size_t)E + (size_t)k]
                                 : w.layer[0].w_hh[(size_t)g * (size_t)H + (size_t)(k - E)];
                /* with bf16 the reference uses the rounded weights: the kernel must be exact up to
                 * float accumulation either way */
                if (bf16) wv = mrnn__bf16_to_float(mrnn__bf16_from_float(wv));
                ref += (double)wv * (double)x[(size_t)b * (size_t)K + (size_t)k];
                scale += fabs((double)wv * (double)x[(size_t)b * (size_t)K + (size_t)k]);
            }
            double err = fabs((double)y[(size_t)b * (size_t)G + (size_t)g] - ref) / (scale + 1.0);
            if (err > worst) worst = err;
        }
    ck_assert_msg(worst < 1e-5, "isa=%d E=%d H=%d B=%d bf16=%d: relative error %g", isa, E, H, B, bf16, worst);
    /* overwriting instead of adding: every output written (NaN where one is missed), the same sums */
    float *y2 = malloc((size_t)B * (size_t)G * sizeof(float));
    for (int k = 0; k < B * G; k++) y2[k] = NAN;
    mrnn__packed_matmul_cols(isa, &iw->layer[0], 0, G, B, x, (size_t)K, y2, (size_t)G, 0);
    for (int k = 0; k < B * G; k++) ck_assert_float_eq_tol(y2[k], y[k] - 0.5f, 1e-5f * (1.0f + fabsf(y[k])));
    free(y2);
    /* the output layer: [H x V] with V not a multiple of the panel width */
    float *logits = malloc((size_t)B * (size_t)V * sizeof(float));
    memset(logits, 0, (size_t)B * (size_t)V * sizeof(float));
    mrnn__packed_matmul_isa(isa, &iw->out, B, x, (size_t)K, logits, (size_t)V);
    for (int b = 0; b < B; b++)
        for (int v = 0; v < V; v++) {
            double ref = 0.0;
            for (int k = 0; k < H; k++) {
                float wv = w.w_out[(size_t)v * (size_t)H + (size_t)k];
                if (bf16) wv = mrnn__bf16_to_float(mrnn__bf16_from_float(wv));
                ref += (double)wv * (double)x[(size_t)b * (size_t)K + (size_t)k];
            }
            ck_assert_double_lt(fabs(logits[(size_t)b * (size_t)V + (size_t)v] - ref), 1e-4);
        }
    free(logits);
    free(x);
    free(y);
    mrnn__infer_weights_free(iw);
    mrnn__free(block);
}

/* c += aᵀ · x (the weight-gradient product) against a double-precision sum, on every kernel this
 * CPU runs: gates not a multiple of the tiles' 4 or 6 and past one group of 48, inputs with and
 * without a tail past the whole tiles, rows past one chunk of 128, strides wider than the rows. */
START_TEST(test_atb_matches_reference)
{
    static const int shapes[][3] = {{1, 1, 1}, {7, 19, 100}, {13, 64, 300}, {64, 80, 257}, {6, 16, 513}, {100, 72, 130}};
    for (int isa = MRNN__ISA_BASE; isa <= mrnn__packed_best_isa(); isa++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int ng = shapes[s][0], ni = shapes[s][1], n = shapes[s][2];
            const size_t lda = (size_t)ng + 3, ldx = (size_t)ni + 5, ldc = (size_t)ni + 2;
            float *a = malloc((size_t)n * lda * sizeof *a), *x = malloc((size_t)n * ldx * sizeof *x);
            float *c = malloc((size_t)ng * ldc * sizeof *c);
            ck_assert(a && x && c);
            mrnn__rng r;
            mrnn__rng_seed(&r, 40 + (uint64_t)s);
            for (size_t k = 0; k < (size_t)n * lda; k++) a[k] = (float)(mrnn__rng_uniform(&r) - 0.5);
            for (size_t k = 0; k < (size_t)n * ldx; k++) x[k] = (float)(mrnn__rng_uniform(&r) - 0.5);
            for (size_t k = 0; k < (size_t)ng * ldc; k++) c[k] = (float)(mrnn__rng_uniform(&r) - 0.5);
            float *c0 = malloc((size_t)ng * ldc * sizeof *c0);
            ck_assert(c0);
            memcpy(c0, c, (size_t)ng * ldc * sizeof *c0);
            mrnn__atb(isa, ng, ni, n, a, lda, x, ldx, c, ldc);
            for (int g = 0; g < ng; g++) {
                for (int i = 0; i < ni; i++) {
                    double ref = c0[(size_t)g * ldc + (size_t)i];
                    for (int k = 0; k < n; k++) ref += (double)a[(size_t)k * lda + (size_t)g] * x[(size_t)k * ldx + (size_t)i];
                    ck_assert_msg(fabs(c[(size_t)g * ldc + (size_t)i] - ref) < 1e-5 * (1 + sqrt((double)n)),
                                  "isa %d, %dx%dx%d: c[%d][%d] = %g, expected %g", isa, ng, ni, n, g, i,
                                  (double)c[(size_t)g * ldc + (size_t)i], ref);
                }
                for (size_t i = (size_t)ni; i < ldc; i++) /* the padding of c's rows is left alone */
                    ck_assert(c[(size_t)g * ldc + i] == c0[(size_t)g * ldc + i]);
            }
            free(a);
            free(x);
            free(c);
            free(c0);
        }
}
END_TEST

START_TEST(test_matmul_matches_reference)
{
    static const int shapes[][3] = {{5, 3, 7}, {16, 16, 64}, {37, 21, 100}, {128, 64, 388}, {200, 150, 50}}; /* K = 350: three blocks of the AVX2 kernel */
    /* every tile and tail of each kernel; 73 and 150: past one block of 72 rows of the AVX2 kernel */
    static const int lanes[] = {1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 17, 73, 150};
    /* every instruction-set variant this CPU can run, not only the one picked at run time */
    for (int isa = MRNN__ISA_BASE; isa <= mrnn__packed_best_isa(); isa++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++)
                for (int bf16 = 0; bf16 < 2; bf16++)
                    check_matmul(isa, shapes[s][0], shapes[s][1], shapes[s][2], lanes[l], bf16);
    fprintf(stderr, "packed matmul: variants 0..%d checked\n", mrnn__packed_best_isa());
}
END_TEST

/* A 2-layer step for several lanes: through the float copy the logits and states equal the
 * OpenBLAS path's up to summation order; through the bf16 copy they stay close. V tokens and S
 * styles: a small vocabulary goes through layer 0's projected-embedding table (expect_table). */
static double step_difference(int bf16, int B, uint32_t V, uint32_t S, int expect_table)
{
    const uint32_t E = 24, H = 40;
    mrnn__net_config cfg = {V, V, S, E, H, 2, 0, 0.0f, 0};
    size_t n = mrnn__net_param_count(&cfg);
    float *block = mrnn__malloc(n * sizeof(float));
    mrnn__net_params w;
    mrnn__net_bind(&cfg, block, &w);
    mrnn__rng r;
    mrnn__rng_seed(&r, 11);
    mrnn__net_init(&cfg, &w, &r);
    mrnn__infer_weights *iw = mrnn__infer_weights_new(&cfg, &w, bf16);
    ck_assert(iw != NULL);
    ck_assert_int_eq(iw->table0 != NULL, expect_table);
    size_t n_state = 2u * (size_t)B * H;
    float *h[2], *c[2], *lg[2], *scratch = malloc(mrnn__net_lanes_scratch_floats(&cfg, B) * sizeof(float));
    for (int k = 0; k < 2; k++) {
        h[k] = calloc(n_state, sizeof(float));
        c[k] = calloc(n_state, sizeof(float));
        lg[k] = malloc((size_t)B * V * sizeof(float));
    }
    /* lane b: one token, or two (a chord-like sum of rows) every third lane, and style b % S */
    uint32_t start[33], ids[64], style[32];
    double worst = 0.0;
    for (int t = 0; t < 20; t++) {
        start[0] = 0;
        for (int b = 0; b < B; b++) {
            uint32_t at = start[b];
            ids[at++] = (uint32_t)(t * 7 + b * 3) % V;
            if (b % 3 == 2) ids[at++] = (uint32_t)(t + b) % V;
            start[b + 1] = at;
            style[b] = S ? (uint32_t)b % S : 0;
        }
        const uint32_t *st = S ? style : NULL;
        mrnn_ref_net_step_lanes(&cfg, &w, B, start, ids, st, h[0], c[0], lg[0], scratch);
        mrnn__net_step_lanes(&cfg, &w, iw, NULL, B, start, ids, st, h[1], c[1], lg[1], scratch);
        for (size_t k = 0; k < (size_t)B * V; k++) worst = fmax(worst, fabs((double)lg[0][k] - (double)lg[1][k]));
        for (size_t k = 0; k < n_state; k++) worst = fmax(worst, fabs((double)h[0][k] - (double)h[1][k]));
    }
    for (int k = 0; k < 2; k++) {
        free(h[k]);
        free(c[k]);
        free(lg[k]);
    }
    free(scratch);
    mrnn__infer_weights_free(iw);
    mrnn__free(block);
    return worst;
}

START_TEST(test_step_through_copy)
{
    /* {tokens, styles, table expected}: embedding width 24, so up to 96 table rows */
    static const uint32_t vocab[][3] = {{50, 0, 1}, {50, 3, 1}, {120, 0, 0}, {90, 7, 0}};
    for (size_t v = 0; v < sizeof vocab / sizeof vocab[0]; v++)
        for (int B = 1; B <= 32; B += 15) {
            double f32 = step_difference(0, B, vocab[v][0], vocab[v][1], (int)vocab[v][2]);
            double bf16 = step_difference(1, B, vocab[v][0], vocab[v][1], (int)vocab[v][2]);
            fprintf(stderr, "packed step vs OpenBLAS, V=%u S=%u B=%d: float %.2e, bf16 %.2e\n", vocab[v][0],
                    vocab[v][1], B, f32, bf16);
            ck_assert_double_lt(f32, 1e-5);
            ck_assert_double_lt(bf16, 2e-2);
            ck_assert_double_gt(bf16, f32); /* the bf16 copy really is a different, rounded one */
        }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("infer");
    TCase *tc = tcase_create("packed");
    tcase_add_test(tc, test_bf16_rounding);
    tcase_add_test(tc, test_matmul_matches_reference);
    tcase_add_test(tc, test_atb_matches_reference);
    tcase_add_test(tc, test_step_through_copy);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
