/* The compute context (compute.h): the one place that reads and sets OpenBLAS's thread count. */
#include "compute.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "packed.h"

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
    mrnn__compute_kernel(&cx->isa, &cx->pack);
}

void mrnn__compute_kernel(int *isa, int *pack)
{
    static const struct {
        const char *name;
        int isa, pack;
    } forced[] = {{"avx512", MRNN__ISA_AVX512, MRNN__PACK_ALWAYS},
                  {"avx2", MRNN__ISA_AVX2, MRNN__PACK_ALWAYS},
                  {"generic", MRNN__ISA_BASE, MRNN__PACK_ALWAYS},
                  {"openblas", MRNN__ISA_AVX512, MRNN__PACK_NEVER}};
    const int best = mrnn__packed_best_isa();
    const char *want = getenv("MUSICRNN_KERNEL");
    *isa = best;
    *pack = MRNN__PACK_AUTO;
    for (size_t i = 0; want && i < sizeof forced / sizeof forced[0]; i++)
        if (strcmp(want, forced[i].name) == 0) {
            *isa = forced[i].isa < best ? forced[i].isa : best;
            *pack = forced[i].pack;
        }
}

void mrnn__compute_free(mrnn__compute *cx)
{
    mrnn__team_free(cx->team);
    cx->team = NULL;
    cx->threads = 1;
}
