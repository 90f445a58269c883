/* The fork-join team: every part runs exactly once per job, on disjoint work, whether the helpers
 * are spinning or asleep when the job arrives; teams start and stop cleanly; ranges tile exactly.
 * And the sampling product split over a team equals, bit for bit, the product on one thread.
 * Also built with ThreadSanitizer in CI (suite 'threads'). */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "infer_weights.h"
#include "rng.h"
#include "team.h"
#include "test_main.h"

static void nap_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

START_TEST(test_range_tiles)
{
    static const size_t totals[] = {0, 1, 5, 63, 64, 65, 1000, 8192};
    static const size_t aligns[] = {1, 4, 64};
    for (size_t a = 0; a < 3; a++)
        for (size_t t = 0; t < sizeof totals / sizeof totals[0]; t++)
            for (int n = 1; n <= 5; n++) {
                size_t expect = 0, largest = 0, smallest = (size_t)-1;
                for (int p = 0; p < n; p++) {
                    size_t b, e;
                    mrnn__team_range(totals[t], aligns[a], p, n, &b, &e);
                    ck_assert_uint_eq(b, expect); /* parts are contiguous and in order */
                    ck_assert_uint_le(b, e);
                    if (b < totals[t]) ck_assert_uint_eq(b % aligns[a], 0);
                    expect = e;
                    largest = e - b > largest ? e - b : largest;
                    smallest = e - b < smallest ? e - b : smallest;
                }
                ck_assert_uint_eq(expect, totals[t]); /* and cover the whole range */
                /* balanced up to one align unit (the last part may also hold a partial unit) */
                ck_assert_uint_le(largest - smallest, 2 * aligns[a]);
            }
}
END_TEST

typedef struct count_job {
    atomic_int calls[8];
    atomic_int parts_seen;
    int *cells; /* part p writes cells[p] */
} count_job;

static void count_part(void *ctx, int part, int n_parts)
{
    count_job *j = ctx;
    atomic_fetch_add(&j->calls[part], 1);
    atomic_store(&j->parts_seen, n_parts);
    j->cells[part] += part + 1;
}

START_TEST(test_every_part_once)
{
    for (int n = 1; n <= 4; n++) {
        mrnn__team *t = mrnn__team_new(n);
        if (n < 2) ck_assert_ptr_null(t);
        else ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(mrnn__team_size(t), n);
        int cells[8] = {0};
        count_job j;
        memset(&j, 0, sizeof j);
        j.cells = cells;
        for (int rep = 0; rep < 300; rep++) {
            if (rep % 50 == 49) nap_ms(2); /* long enough for the helpers to go to sleep */
            mrnn__team_run(t, count_part, &j);
        }
        ck_assert_int_eq(atomic_load(&j.parts_seen), n);
        for (int p = 0; p < n; p++) {
            ck_assert_int_eq(atomic_load(&j.calls[p]), 300);
            ck_assert_int_eq(cells[p], 300 * (p + 1)); /* the caller sees every part's writes */
        }
        mrnn__team_free(t);
    }
}
END_TEST

START_TEST(test_start_stop)
{
    for (int i = 0; i < 50; i++) {
        mrnn__team *t = mrnn__team_new(2 + i % 3);
        ck_assert_ptr_nonnull(t);
        if (i % 2) nap_ms(1); /* stop it asleep as well as while it spins */
        mrnn__team_free(t);
    }
    mrnn__team_free(NULL);
    ck_assert_int_eq(mrnn__team_size(NULL), 1);
}
END_TEST

/* E, H give layer 0 [(E+H) x 4H]; V the output layer [H x V]. */
static void check_split(mrnn__team *team, uint32_t E, uint32_t H, uint32_t V, int B)
{
    /* many tokens: no projected-embedding table, so layer 0 is the full [(E+H) x 4H] */
    mrnn__net_config cfg = {8 * E + V, V, 0, E, H, 1, 0, 0.0f, 0};
    float *block = mrnn__malloc(mrnn__net_param_count(&cfg) * sizeof(float));
    mrnn__net_params w;
    mrnn__net_bind(&cfg, block, &w);
    mrnn__rng r;
    mrnn__rng_seed(&r, 5);
    mrnn__net_init(&cfg, &w, &r);
    mrnn__infer_weights *iw = mrnn__infer_weights_new(&cfg, &w, 0);
    ck_assert(iw != NULL);
    const mrnn__packed *mats[2] = {&iw->layer[0], &iw->out};
    for (int m = 0; m < 2; m++) {
        const mrnn__packed *mat = mats[m];
        size_t nx = (size_t)B * (size_t)mat->n_in, ny = (size_t)B * (size_t)mat->n_out;
        float *x = mrnn__malloc(nx * sizeof(float)), *y1 = mrnn__malloc(ny * sizeof(float)),
              *y2 = mrnn__malloc(ny * sizeof(float));
        for (int rep = 0; rep < 40; rep++) {
            for (size_t k = 0; k < nx; k++) x[k] = (float)(mrnn__rng_uniform(&r) * 2.0 - 1.0);
            for (size_t k = 0; k < ny; k++) y1[k] = y2[k] = (float)k * 1e-3f; /* accumulates into y */
            mrnn__packed_matmul(mat, B, x, (size_t)mat->n_in, y1, (size_t)mat->n_out);
            if (rep % 10 == 9) nap_ms(2);
            mrnn__packed_matmul_team(team, mat, B, x, (size_t)mat->n_in, y2, (size_t)mat->n_out);
            ck_assert_msg(memcmp(y1, y2, ny * sizeof(float)) == 0, "E=%u H=%u V=%u B=%d matrix %d rep %d differs",
                          E, H, V, B, m, rep);
        }
        mrnn__free(x);
        mrnn__free(y1);
        mrnn__free(y2);
    }
    mrnn__infer_weights_free(iw);
    mrnn__free(block);
}

START_TEST(test_split_product_is_bit_identical)
{
    static const int lanes[] = {1, 3, 16};
    for (int n = 2; n <= 3; n++) {
        mrnn__team *team = mrnn__team_new(n);
        ck_assert_ptr_nonnull(team);
        for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++) {
            check_split(team, 128, 256, 388, lanes[l]); /* both products split (odd panel count at the output) */
            check_split(team, 16, 24, 50, lanes[l]);    /* too small to split: the caller alone */
        }
        mrnn__team_free(team);
    }
    check_split(NULL, 64, 128, 100, 2); /* no team */
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("team");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_range_tiles);
    tcase_add_test(tc, test_every_part_once);
    tcase_add_test(tc, test_start_stop);
    tcase_add_test(tc, test_split_product_is_bit_identical);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
