/* lib/sort.h: the specialised merge sort orders like a stable sort, on every size around the
 * insertion-run and merge boundaries, and still sorts when its scratch array cannot be allocated. */
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "sort.h"
#include "test_main.h"

typedef struct item {
    int key;       /* compared */
    uint32_t seq;  /* original position: not compared, shows whether equal keys kept their order */
} item;

static inline int item_less(const item *a, const item *b)
{
    return a->key < b->key;
}

MRNN__DEFINE_SORT(sort_items, item, item_less)

/* The reference: a total order on (key, original position) is the stable order, whatever qsort is. */
static int by_key_then_seq(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

enum pattern { RANDOM, FEW_KEYS, ASCENDING, DESCENDING, ALL_EQUAL, NEARLY_SORTED, N_PATTERNS };

static void fill(item *a, size_t n, int pattern, unsigned *seed)
{
    for (size_t i = 0; i < n; i++) {
        int k;
        switch (pattern) {
        case RANDOM: k = rand_r(seed); break;
        case FEW_KEYS: k = rand_r(seed) % 5; break;
        case ASCENDING: k = (int)i; break;
        case DESCENDING: k = (int)(n - i); break;
        case ALL_EQUAL: k = 7; break;
        default: k = (int)i + (rand_r(seed) % 8 == 0 ? rand_r(seed) % 40 - 20 : 0); break;
        }
        a[i] = (item){k, (uint32_t)i};
    }
}

static const size_t sizes[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 100, 257, 1000, 4099};

START_TEST(test_matches_stable_order)
{
    unsigned seed = 12345;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        item *a = malloc((n + 1) * sizeof *a), *want = malloc((n + 1) * sizeof *want);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(want);
        for (int pattern = 0; pattern < N_PATTERNS; pattern++) {
            fill(a, n, pattern, &seed);
            for (size_t i = 0; i < n; i++) want[i] = a[i];
            qsort(want, n, sizeof *want, by_key_then_seq);
            sort_items(a, n);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(a[i].key == want[i].key && a[i].seq == want[i].seq,
                              "n %zu pattern %d: at %zu got (%d, #%u), want (%d, #%u)", n, pattern, i, a[i].key,
                              a[i].seq, want[i].key, want[i].seq);
        }
        free(a);
        free(want);
    }
}
END_TEST

/* Without memory for the scratch array the sort falls back to qsort: still ordered, still a
 * permutation (qsort promises no stability, so only the keys are compared). */
START_TEST(test_sorts_without_scratch_memory)
{
    unsigned seed = 99;
    size_t n = 1000;
    item *a = malloc(n * sizeof *a), *want = malloc(n * sizeof *want);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(want);
    fill(a, n, FEW_KEYS, &seed);
    for (size_t i = 0; i < n; i++) want[i] = a[i];
    qsort(want, n, sizeof *want, by_key_then_seq);
    mrnn__alloc_fail_after(0);
    sort_items(a, n);
    mrnn__alloc_fail_after(-1);
    unsigned char *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(a[i].key, want[i].key);
        ck_assert_uint_lt(a[i].seq, n);
        ck_assert_msg(!seen[a[i].seq], "element #%u appears twice", a[i].seq);
        seen[a[i].seq] = 1;
    }
    free(seen);
    free(a);
    free(want);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("sort");
    TCase *tc = tcase_create("merge_sort");
    tcase_add_test(tc, test_matches_stable_order);
    tcase_add_test(tc, test_sorts_without_scratch_memory);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
