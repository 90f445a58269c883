/* The products of a training step by themselves, per kernel: GFLOP/s by the thread's CPU time,
 * best of REPS, one thread, so that a kernel change can be judged at the step's own shapes
 * without a whole training step's noise.
 *
 *   bench_products [REPS]
 *
 * Rows: x · Wᵀ through a packed matrix (mrnn__packed_matmul_isa) at a recurrent step's 64 rows
 * and a window's 8192, the backward dx shape, and the weight-gradient products c += aᵀ · x
 * (mrnn__atb) of dW_ih / dW_hh and dW_out; columns: the generic, AVX2 and AVX-512 kernels the CPU
 * has, and OpenBLAS's sgemm on the same operands. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "packed.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *filled(size_t n)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000u) * 1e-3f - 0.5f;
    return p;
}

typedef struct shape {
    const char *name;
    int atb; /* 0: y = x · Wᵀ (B rows, K inputs, N outputs); 1: c += aᵀ · x (N gates, K inputs, B rows) */
    int B, K, N;
} shape;

/* One timing of a path: isa >= 0 a library kernel, -1 OpenBLAS. */
static double run_once(const shape *s, int isa, const mrnn__packed *m, const float *w, const float *x, float *y)
{
    double t = cpu_now();
    if (s->atb && isa >= 0)
        mrnn__atb(isa, s->N, s->K, s->B, w, (size_t)s->N, x, (size_t)s->K, y, (size_t)s->K);
    else if (s->atb)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->N, s->K, s->B, 1.0f, w, s->N, x, s->K, 1.0f, y, s->K);
    else if (isa >= 0)
        mrnn__packed_matmul_cols(isa, m, 0, s->N, s->B, x, (size_t)s->K, y, (size_t)s->N, 0);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->B, s->N, s->K, 1.0f, x, s->K, w, s->K, 0.0f, y, s->N);
    return cpu_now() - t;
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 10;
    static const shape shapes[] = {
        {"x.Wt 64x512->2048 (recurrent step)", 0, 64, 512, 2048},
        {"x.Wt 8192x512->2048 (window)", 0, 8192, 512, 2048},
        {"x.Wt 8192x2048->512 (window dx)", 0, 8192, 2048, 512},
        {"x.Wt 8192x512->388 (output layer)", 0, 8192, 512, 388},
        {"at.x 2048x512 over 8192 (dW_ih)", 1, 8192, 512, 2048},
        {"at.x 388x512 over 8192 (dW_out)", 1, 8192, 512, 388},
    };
    openblas_set_num_threads(1);
    printf("| product | OpenBLAS | generic | AVX2 | AVX-512 |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        float *w = filled(s->atb ? (size_t)s->B * (size_t)s->N : (size_t)s->N * (size_t)s->K);
        float *x = filled((size_t)s->B * (size_t)s->K);
        float *y = filled(s->atb ? (size_t)s->N * (size_t)s->K : (size_t)s->B * (size_t)s->N);
        float *pk = s->atb ? NULL : aligned_alloc(64, mrnn__packed_floats(s->K, s->N) * sizeof(float));
        if (!w || !x || !y || (!s->atb && !pk)) {
            fprintf(stderr, "bench_products: out of memory\n");
            return 1;
        }
        mrnn__packed m = {0};
        if (!s->atb) mrnn__pack(&m, pk, w, s->K, s->N, 1);
        const double flops = 2.0 * s->B * (double)s->K * s->N;
        printf("| %s |", s->name);
        for (int isa = -1; isa <= MRNN__ISA_AVX512; isa++) {
            if (isa > mrnn__packed_best_isa()) {
                printf(" — |");
                continue;
            }
            double best = 1e30;
            for (int r = 0; r < (isa == MRNN__ISA_BASE ? 2 : reps); r++) {
                double t = run_once(s, isa, &m, w, x, y);
                if (t < best) best = t;
            }
            printf(" %.0f |", flops / best * 1e-9);
            fflush(stdout);
        }
        printf("\n");
        free(w);
        free(x);
        free(y);
        free(pk);
    }
    return 0;
}
