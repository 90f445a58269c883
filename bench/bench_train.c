/* Training speed and its GEMM-bound ceiling, through the library's internal training step
 * (forward, softmax loss, backward, gradient clipping, Adam: what mrnn_model_train runs per step,
 * minus batch cutting) on random tokens. OpenBLAS threads come from OPENBLAS_NUM_THREADS.
 *
 *   bench_train train V E H L T B STEPS REPS   timed training steps; one JSON line
 *   bench_train gemm  V E H L T B REPS         the same step's GEMMs alone, same shapes; one JSON line
 *
 * "train" prints tokens/s of each repetition (after one warm-up step) and the peak RSS of the
 * process (VmHWM), so that it should run in its own process. "gemm" replays exactly the sgemm calls
 * of one training step on buffers of the same sizes: tokens per step / their time is the speed
 * the step would have if everything but the GEMMs were free (the GEMM-bound ceiling). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adam.h"
#include "network.h"
#include "rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set of this process in KiB, from /proc (the kernel's high-water mark). */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

typedef struct shape {
    int V, E, H, L, T, B;
} shape;

static int run_train(const shape *s, int steps, int reps)
{
    mrnn__net_config cfg = {(uint32_t)s->V, (uint32_t)s->V, 0, (uint32_t)s->E, (uint32_t)s->H, (uint32_t)s->L,
                            MRNN__LOSS_SOFTMAX, 0.0f};
    size_t n = mrnn__net_param_count(&cfg), rows = (size_t)s->T * (size_t)s->B;
    /* weights, gradient and the two Adam moments: the four blocks a training run holds */
    float *block = calloc(4 * n, sizeof(float));
    uint32_t *ids = malloc(2 * (rows + 1) * sizeof(uint32_t) + 2 * rows * sizeof(uint32_t));
    float *mask = malloc(rows * sizeof(float));
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&cfg, s->T, s->B);
    if (!block || !ids || !mask || !ws) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    float *weights = block, *grad = block + n, *m = block + 2 * n, *v = block + 3 * n;
    mrnn__net_params w, g;
    mrnn__net_bind(&cfg, weights, &w);
    mrnn__net_bind(&cfg, grad, &g);
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 7);
    mrnn__net_init(&cfg, &w, &rng);
    /* one input and one target token per row, random (speed does not depend on the data) */
    uint32_t *in_start = ids, *tgt_start = in_start + rows + 1, *in_ids = tgt_start + rows + 1, *tgt_ids = in_ids + rows;
    for (size_t r = 0; r <= rows; r++) in_start[r] = tgt_start[r] = (uint32_t)r;
    for (size_t r = 0; r < rows; r++) {
        in_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * s->V) % (uint32_t)s->V;
        tgt_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * s->V) % (uint32_t)s->V;
        mask[r] = 1.0f;
    }
    mrnn__batch bt = {s->T, s->B, in_start, in_ids, tgt_start, tgt_ids, mask, NULL};
    mrnn__adam_config ac = {0.002f, 0.9f, 0.999f, 1e-8f, 0.0f};
    uint64_t step = 0;
    printf("{\"mode\":\"train\",\"params\":%zu,\"tokens_per_s\":[", n);
    for (int rep = -1; rep < reps; rep++) {
        int k_steps = rep < 0 ? 1 : steps; /* rep -1: warm-up */
        double t0 = now();
        for (int k = 0; k < k_steps; k++) {
            mrnn__net_result res = {0};
            mrnn__net_forward_backward(&cfg, &w, &g, &bt, ws, NULL, &res);
            mrnn__clip_grad_norm(grad, n, 5.0f);
            mrnn__adam_update(weights, grad, m, v, n, ++step, &ac);
        }
        double dt = now() - t0;
        if (rep >= 0) printf("%s%.1f", rep ? "," : "", (double)rows * k_steps / dt);
    }
    printf("],\"peak_rss_kib\":%ld}\n", peak_rss_kib());
    mrnn__net_workspace_free(ws);
    free(block);
    free(ids);
    free(mask);
    return 0;
}

/* Row-major C[M x N] (+)= op(A) · op(B), as the training step calls it. */
typedef struct gemm_call {
    CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
    int repeat; /* identical calls per step (the per-step recurrent GEMMs) */
} gemm_call;

static int list_gemms(const shape *s, gemm_call *out)
{
    const int n = s->T * s->B, G = 4 * s->H, H = s->H, B = s->B, T = s->T;
    int k = 0;
    for (int l = 0; l < s->L; l++) {
        int in = l ? H : s->E;
        out[k++] = (gemm_call){CblasNoTrans, CblasTrans, n, G, in, 1};       /* input projection */
        out[k++] = (gemm_call){CblasNoTrans, CblasTrans, B, G, H, T - 1};   /* recurrent forward */
        out[k++] = (gemm_call){CblasNoTrans, CblasNoTrans, B, H, G, T - 1}; /* recurrent backward dh */
        out[k++] = (gemm_call){CblasTrans, CblasNoTrans, G, in, n, 1};       /* dW_ih */
        out[k++] = (gemm_call){CblasTrans, CblasNoTrans, G, H, n, 1};       /* dW_hh */
        out[k++] = (gemm_call){CblasNoTrans, CblasNoTrans, n, in, G, 1};     /* dx */
    }
    out[k++] = (gemm_call){CblasNoTrans, CblasTrans, n, s->V, H, 1};   /* logits */
    out[k++] = (gemm_call){CblasTrans, CblasNoTrans, s->V, H, n, 1};   /* dW_out */
    out[k++] = (gemm_call){CblasNoTrans, CblasNoTrans, n, H, s->V, 1}; /* dh from the output layer */
    return k;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_gemm(const shape *s, int reps)
{
    gemm_call calls[6 * MRNN__MAX_LAYERS + 3];
    int nc = list_gemms(s, calls);
    /* one buffer per operand role, big enough for the largest call: A, B, C */
    size_t big = 0;
    for (int i = 0; i < nc; i++) {
        size_t a = (size_t)calls[i].M * calls[i].K, b = (size_t)calls[i].K * calls[i].N, c = (size_t)calls[i].M * calls[i].N;
        if (a > big) big = a;
        if (b > big) big = b;
        if (c > big) big = c;
    }
    float *A = malloc(big * sizeof(float)), *Bm = malloc(big * sizeof(float)), *C = malloc(big * sizeof(float));
    if (!A || !Bm || !C) return 1;
    for (size_t i = 0; i < big; i++) A[i] = Bm[i] = C[i] = 0.001f * (float)(i % 1000);
    double flops = 0;
    for (int i = 0; i < nc; i++) flops += 2.0 * calls[i].M * calls[i].N * calls[i].K * calls[i].repeat;
    double *t = malloc((size_t)(reps + 1) * sizeof(double));
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now();
        for (int i = 0; i < nc; i++) {
            const gemm_call *c = &calls[i];
            int lda = c->ta == CblasNoTrans ? c->K : c->M, ldb = c->tb == CblasNoTrans ? c->N : c->K;
            for (int r = 0; r < c->repeat; r++)
                cblas_sgemm(CblasRowMajor, c->ta, c->tb, c->M, c->N, c->K, 1.0f, A, lda, Bm, ldb, 1.0f, C, c->N);
        }
        if (rep >= 0) t[rep] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    printf("{\"mode\":\"gemm\",\"flops_per_step\":%.0f,\"seconds_per_step\":%.6f,\"gflops\":%.2f,"
           "\"ceiling_tokens_per_s\":%.1f}\n",
           flops, med, flops / med * 1e-9, (double)s->T * s->B / med);
    free(t);
    free(A);
    free(Bm);
    free(C);
    return 0;
}

int main(int argc, char **argv)
{
    int is_train = argc == 10 && strcmp(argv[1], "train") == 0, is_gemm = argc == 9 && strcmp(argv[1], "gemm") == 0;
    if (!is_train && !is_gemm) {
        fprintf(stderr, "usage: bench_train train V E H L T B STEPS REPS | gemm V E H L T B REPS\n");
        return 2;
    }
    shape s;
    int *f[] = {&s.V, &s.E, &s.H, &s.L, &s.T, &s.B};
    for (int i = 0; i < 6; i++) *f[i] = atoi(argv[2 + i]);
    if (s.V < 1 || s.E < 1 || s.H < 1 || s.L < 1 || s.L > MRNN__MAX_LAYERS || s.T < 2 || s.B < 1) {
        fprintf(stderr, "bench_train: bad shape\n");
        return 2;
    }
    if (is_train) {
        int steps = atoi(argv[8]), reps = atoi(argv[9]);
        return run_train(&s, steps > 0 ? steps : 1, reps > 0 ? reps : 1);
    }
    int reps = atoi(argv[8]);
    return run_gemm(&s, reps > 0 ? reps : 1);
}
