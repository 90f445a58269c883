/* File I/O, byte buffers, CRC, RNG and allocation helpers. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"
#include "rng.h"
#include "test_main.h"

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mrnn-fileio-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_crc32_known_value)
{
    /* The standard check value of CRC-32/IEEE. */
    ck_assert_uint_eq(mrnn__crc32(0, "123456789", 9), 0xCBF43926u);
    /* Incremental equals one-shot. */
    ck_assert_uint_eq(mrnn__crc32(mrnn__crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(test_wbuf_rbuf_round_trip)
{
    mrnn__wbuf w = {0};
    mrnn__wbuf_u8(&w, 7);
    mrnn__wbuf_u32(&w, 0xDEADBEEFu);
    mrnn__wbuf_u64(&w, UINT64_C(0x0123456789ABCDEF));
    mrnn__wbuf_i32(&w, -5);
    mrnn__wbuf_f32(&w, 1.5f);
    mrnn__wbuf_f64(&w, -2.25);
    mrnn__wbuf_str(&w, "hello");
    float fs[3] = {1, 2, 3};
    mrnn__wbuf_f32s(&w, fs, 3);
    ck_assert(!w.failed);
    /* Little-endian on disk whatever the host. */
    ck_assert_uint_eq(w.data[1], 0xEF);
    ck_assert_uint_eq(w.data[4], 0xDE);

    mrnn__rbuf r = {w.data, w.len, 0, 0, 0};
    ck_assert_uint_eq(mrnn__rbuf_u8(&r), 7);
    ck_assert_uint_eq(mrnn__rbuf_u32(&r), 0xDEADBEEFu);
    ck_assert(mrnn__rbuf_u64(&r) == UINT64_C(0x0123456789ABCDEF));
    ck_assert_int_eq(mrnn__rbuf_i32(&r), -5);
    ck_assert(mrnn__rbuf_f32(&r) == 1.5f);
    ck_assert(mrnn__rbuf_f64(&r) == -2.25);
    char *s = mrnn__rbuf_str(&r, 100);
    ck_assert_str_eq(s, "hello");
    mrnn__free(s);
    float back[3];
    ck_assert_int_eq(mrnn__rbuf_f32s(&r, back, 3), 0);
    ck_assert(back[2] == 3.0f);
    ck_assert(!r.bad);
    ck_assert_uint_eq(r.pos, r.len);
    /* Reading past the end is flagged and yields zero, never reads out of bounds. */
    ck_assert_uint_eq(mrnn__rbuf_u32(&r), 0);
    ck_assert(r.bad);
    mrnn__wbuf_free(&w);
}
END_TEST

START_TEST(test_rbuf_rejects_oversized_string)
{
    uint8_t data[8] = {0xFF, 0xFF, 0xFF, 0x7F, 'a', 'b', 'c', 'd'};
    mrnn__rbuf r = {data, sizeof data, 0, 0, 0};
    ck_assert_ptr_null(mrnn__rbuf_str(&r, 1000));
    ck_assert(r.bad);
}
END_TEST

START_TEST(test_read_file_errors_name_the_file)
{
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(mrnn__read_file("/nonexistent/file.mid", 100, &buf, &len), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/file.mid") != NULL);
    ck_assert_ptr_null(buf);
    /* A folder is not a regular file. */
    ck_assert_int_eq(mrnn__read_file(tmpdir, 100, &buf, &len), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "not a regular file") != NULL);
    /* A FIFO must not block. */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(mrnn__read_file(fifo, 100, &buf, &len), MRNN_ERR_IO);
}
END_TEST

START_TEST(test_atomic_write_and_size_cap)
{
    char path[128];
    snprintf(path, sizeof path, "%s/out.bin", tmpdir);
    ck_assert_int_eq(mrnn__write_file_atomic(path, "abcdef", 6), MRNN_OK);
    ck_assert_int_eq(mrnn__write_file_atomic(path, "xyz", 3), MRNN_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(mrnn__read_file(path, 100, &buf, &len), MRNN_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(buf, "xyz", 3), 0);
    mrnn__free(buf);
    ck_assert_int_eq(mrnn__read_file(path, 2, &buf, &len), MRNN_ERR_LIMIT);
    /* No temporary file is left behind. */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    /* Writing into a missing folder fails with the path in the message. */
    ck_assert_int_eq(mrnn__write_file_atomic("/nonexistent/dir/x.bin", "a", 1), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/dir/x.bin") != NULL);
}
END_TEST

START_TEST(test_rng_reproducible_and_uniform)
{
    mrnn__rng a, b;
    mrnn__rng_seed(&a, 42);
    mrnn__rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) ck_assert(mrnn__rng_next(&a) == mrnn__rng_next(&b));
    mrnn__rng_seed(&b, 43);
    ck_assert(mrnn__rng_next(&a) != mrnn__rng_next(&b));
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) counts[mrnn__rng_below(&a, 10)]++;
    for (int k = 0; k < 10; k++) {
        ck_assert_int_gt(counts[k], 9500);
        ck_assert_int_lt(counts[k], 10500);
    }
    double sum = 0, sq = 0;
    for (int i = 0; i < 100000; i++) {
        double x = mrnn__rng_normal(&a);
        sum += x;
        sq += x * x;
    }
    ck_assert_double_lt(sum / 100000 < 0 ? -sum / 100000 : sum / 100000, 0.02);
    ck_assert_double_gt(sq / 100000, 0.97);
    ck_assert_double_lt(sq / 100000, 1.03);
}
END_TEST

/* The dropout stream: uniform over [0, 1), a pure function of (seed, index), with neighbouring
 * indices and the two seeds of consecutive steps uncorrelated, and the keep rate of a mask right. */
START_TEST(test_hash_uniform)
{
    enum { N = 200000 };
    int counts[20] = {0};
    double sum = 0, lag = 0, cross = 0;
    float prev = 0.0f;
    int dropped = 0;
    for (uint64_t i = 0; i < N; i++) {
        float u = mrnn__hash_uniform(99, i), v = mrnn__hash_uniform(100, i);
        ck_assert(u >= 0.0f && u < 1.0f);
        ck_assert(u == mrnn__hash_uniform(99, i));
        counts[(int)(u * 20.0f)]++;
        sum += u;
        lag += ((double)u - 0.5) * ((double)prev - 0.5);
        cross += ((double)u - 0.5) * ((double)v - 0.5);
        dropped += u < 0.3f;
        prev = u;
    }
    for (int k = 0; k < 20; k++) { /* expected 10 000 each; 5 standard deviations is 500 */
        ck_assert_int_gt(counts[k], 9500);
        ck_assert_int_lt(counts[k], 10500);
    }
    ck_assert_double_lt(fabs(sum / N - 0.5), 0.005);
    ck_assert_double_lt(fabs(lag / N), 0.002); /* a correlation of 1 would give 1/12 */
    ck_assert_double_lt(fabs(cross / N), 0.002);
    ck_assert_double_lt(fabs((double)dropped / N - 0.3), 0.005);
    /* the layer lives in the high bits of the index (network.c): its streams differ too */
    ck_assert(mrnn__hash_uniform(99, 5) != mrnn__hash_uniform(99, (1ull << 40) | 5));
}
END_TEST

START_TEST(test_alloc_failure_injection)
{
    mrnn__alloc_fail_after(1);
    void *a = mrnn__malloc(10);
    void *b = mrnn__malloc(10);
    mrnn__alloc_fail_after(-1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b);
    mrnn__free(a);
    size_t out;
    ck_assert_int_eq(mrnn__mul_ok(SIZE_MAX / 2, 3, &out), 0);
    int *arr = NULL;
    size_t cap = 0;
    ck_assert_int_eq(mrnn__grow((void **)&arr, &cap, 100, sizeof *arr), 0);
    ck_assert_uint_ge(cap, 100);
    ck_assert_int_eq(mrnn__grow((void **)&arr, &cap, SIZE_MAX / 2, sizeof *arr), -1);
    mrnn__free(arr);
}
END_TEST

START_TEST(test_error_prefix_once)
{
    mrnn__fail(MRNN_ERR_MIDI, "track 2 has no End Of Track");
    mrnn__error_prefix("song.mid");
    mrnn__error_prefix("song.mid");
    ck_assert_str_eq(mrnn_last_error(), "song.mid: track 2 has no End Of Track");
    mrnn_clear_error();
    ck_assert_str_eq(mrnn_last_error(), "");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("fileio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crc32_known_value);
    tcase_add_test(tc, test_wbuf_rbuf_round_trip);
    tcase_add_test(tc, test_rbuf_rejects_oversized_string);
    tcase_add_test(tc, test_read_file_errors_name_the_file);
    tcase_add_test(tc, test_atomic_write_and_size_cap);
    tcase_add_test(tc, test_rng_reproducible_and_uniform);
    tcase_add_test(tc, test_hash_uniform);
    tcase_add_test(tc, test_alloc_failure_injection);
    tcase_add_test(tc, test_error_prefix_once);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
