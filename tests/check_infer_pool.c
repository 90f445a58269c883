/* The second sampling thread: a product split between the caller and the helper equals, bit for
 * bit, the product on one thread, whether the helper is spinning or asleep when the work arrives,
 * and the pool starts and stops cleanly. Also built with ThreadSanitizer in CI (suite 'threads'). */
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "infer_pool.h"
#include "infer_weights.h"
#include "rng.h"
#include "test_main.h"

static void nap_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

/* E, H give layer 0 [(E+H) x 4H]; V the output layer [H x V]. */
static void check_split(mrnn__infer_pool *pool, uint32_t E, uint32_t H, uint32_t V, int B)
{
    mrnn__net_config cfg = {V, V, 0, E, H, 1, 0, 0.0f};
    float *block = mrnn__malloc(mrnn__net_param_count(&cfg) * sizeof(float));
    mrnn__net_params w;
    mrnn__net_bind(&cfg, block, &w);
    mrnn__rng r;
    mrnn__rng_seed(&r, 5);
    mrnn__net_init(&cfg, &w, &r);
    mrnn__infer_weights *iw = mrnn__infer_weights_new(&cfg, &w, 0);
    ck_assert(iw != NULL);
    const mrnn__infer_matrix *mats[2] = {&iw->layer[0], &iw->out};
    for (int m = 0; m < 2; m++) {
        const mrnn__infer_matrix *mat = mats[m];
        size_t nx = (size_t)B * (size_t)mat->n_in, ny = (size_t)B * (size_t)mat->n_out;
        float *x = mrnn__malloc(nx * sizeof(float)), *y1 = mrnn__malloc(ny * sizeof(float)),
              *y2 = mrnn__malloc(ny * sizeof(float));
        for (int rep = 0; rep < 40; rep++) {
            for (size_t k = 0; k < nx; k++) x[k] = (float)(mrnn__rng_uniform(&r) * 2.0 - 1.0);
            for (size_t k = 0; k < ny; k++) y1[k] = y2[k] = (float)k * 1e-3f; /* accumulates into y */
            mrnn__infer_matmul(mat, B, x, (size_t)mat->n_in, y1, (size_t)mat->n_out);
            if (rep % 10 == 9) nap_ms(2); /* long enough for the helper to go to sleep */
            mrnn__infer_matmul_pool(pool, mat, B, x, (size_t)mat->n_in, y2, (size_t)mat->n_out);
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
    mrnn__infer_pool *pool = mrnn__infer_pool_new();
    ck_assert_ptr_nonnull(pool);
    static const int lanes[] = {1, 3, 16};
    for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++) {
        check_split(pool, 128, 256, 388, lanes[l]); /* both products split (odd panel count at the output) */
        check_split(pool, 16, 24, 50, lanes[l]);    /* too small to split: the caller alone */
    }
    mrnn__infer_pool_free(pool);
    check_split(NULL, 64, 128, 100, 2); /* no pool */
}
END_TEST

START_TEST(test_pool_start_stop)
{
    for (int i = 0; i < 50; i++) {
        mrnn__infer_pool *p = mrnn__infer_pool_new();
        ck_assert_ptr_nonnull(p);
        if (i % 2) nap_ms(1); /* stop it asleep as well as while it spins */
        mrnn__infer_pool_free(p);
    }
    mrnn__infer_pool_free(NULL);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("infer_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_split_product_is_bit_identical);
    tcase_add_test(tc, test_pool_start_stop);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
