/* Placeholder suite: tests arrive with the module. */
#include "test_main.h"

static Suite *make_suite(void)
{
    return suite_create("network");
}

MRNN_TEST_MAIN(make_suite)
