/* Shared main() for the Check suites: TAP on stdout for `meson test`, and the path of the shared
 * data sets (../shared/data) when it is there. */
#ifndef MRNN_TEST_MAIN_H
#define MRNN_TEST_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Each suite file defines make_suite() and uses MRNN_TEST_MAIN. */
#define MRNN_TEST_MAIN(make_suite)                                                                  \
    int main(void)                                                                                  \
    {                                                                                               \
        SRunner *sr = srunner_create(make_suite());                                                 \
        srunner_set_tap(sr, "-");                                                                   \
        srunner_run_all(sr, CK_SILENT);                                                             \
        int failed = srunner_ntests_failed(sr);                                                     \
        srunner_free(sr);                                                                           \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                           \
    }

/* Directory of ../shared/data given by meson (MRNN_SHARED_DATA), or NULL when absent. */
static inline const char *mrnn_test_shared_data(void)
{
    const char *d = getenv("MRNN_SHARED_DATA");
    return (d && *d) ? d : NULL;
}

/* Directory of this source tree's tests/data. */
static inline const char *mrnn_test_data(void)
{
    const char *d = getenv("MRNN_TEST_DATA");
    return d ? d : "tests/data";
}

#endif
