/* The compute context (compute.h): the one place that reads and sets OpenBLAS's thread count. */
#include "compute.h"

#include <cblas.h>
#include <pthread.h>
#include <unistd.h>

static pthread_once_t policy_once = PTHREAD_ONCE_INIT;
static int default_threads = 1;

static void apply_policy(void)
{
    int n = openblas_get_num_threads();
    default_threads = n > 0 ? n : 1;
    openblas_set_num_threads(1);
}

int mrnn__compute_default_threads(void)
{
    pthread_once(&policy_once, apply_policy);
    return default_threads;
}

void mrnn__compute_init(mrnn__compute *cx, uint32_t threads)
{
    int n = threads ? (int)threads : mrnn__compute_default_threads();
    pthread_once(&policy_once, apply_policy);
    /* more threads than cores only makes the team's helpers wait for each other */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && n > cores) n = (int)cores;
    cx->team = mrnn__team_new(n);
    cx->threads = mrnn__team_size(cx->team);
}

void mrnn__compute_free(mrnn__compute *cx)
{
    mrnn__team_free(cx->team);
    cx->team = NULL;
    cx->threads = 1;
}
