/* The compute context of one call or handle: the threads it computes on (a team, team.h) and the
 * BLAS policy. mrnn_model_train, mrnn_model_evaluate and mrnn_sampler_create each make one and pass
 * its team down; nothing below them starts threads or touches OpenBLAS's settings.
 *
 * Why a context and not OpenBLAS's process-wide thread count: trainings and samplers may run in
 * several threads of one process at once. When training set OpenBLAS's count for its call and
 * restored it afterwards, two trainings interleaved those calls, and a sampler created meanwhile
 * read whichever value was current. Now the library's threads are its own teams, and OpenBLAS runs
 * single-threaded inside them (its sgemm results then do not depend on how a step is split). The
 * BLAS policy is applied once per process, here, the first time a context is made:
 * OpenBLAS's thread count at that moment (OPENBLAS_NUM_THREADS, or all cores) becomes the
 * library's default thread count, and OpenBLAS is set to one thread. It is never changed again. */
#ifndef MRNN_COMPUTE_H
#define MRNN_COMPUTE_H

#include <stdint.h>

#include "team.h"

typedef struct mrnn__compute {
    mrnn__team *team; /* owned; NULL: the caller's thread alone */
    int threads;      /* threads of the team (1 without one) */
    int isa;          /* MRNN__ISA_* (packed.h): the kernel of the packed products */
    int pack;         /* MRNN__PACK_* (packed.h): whether training windows use packed weights */
} mrnn__compute;

/* The kernel path: by CPUID the widest packed kernel the CPU has (isa) and packed weights in
 * training where they pay (pack = AUTO). The environment variable MUSICRNN_KERNEL forces a path,
 * so that every path can be tested and benchmarked on one machine:
 *   avx512, avx2, generic   that packed kernel for every product (pack = ALWAYS); a kernel the CPU
 *                           lacks falls back to the widest it has
 *   openblas                OpenBLAS for the training products (pack = NEVER); sampling, which has
 *                           no OpenBLAS path, keeps the widest kernel
 *   unset, empty, auto      the CPUID choice; any other value is ignored (the choice changes only
 *                           speed, never results beyond rounding).
 * Read at every call, so that a test may change it between contexts. */
void mrnn__compute_kernel(int *isa, int *pack);

/* A context of `threads` threads counting the caller (0: the default below), never more than the
 * cores online, with the kernel path of mrnn__compute_kernel(). When helpers cannot be started the context has one thread: that is no error, the
 * results are the same up to rounding (team.h). */
void mrnn__compute_init(mrnn__compute *cx, uint32_t threads);
/* Stop the team; cx may be zeroed or already freed. */
void mrnn__compute_free(mrnn__compute *cx);

/* The default thread count: OpenBLAS's setting when the first context was made (at least 1). */
int mrnn__compute_default_threads(void);

#endif
