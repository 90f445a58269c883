/* Training speed and its GEMM-bound ceiling, through the library's internal training step
 * (forward, softmax loss, backward, gradient clipping, Adam: what mrnn_model_train runs per step,
 * minus batch cutting) on random tokens. The thread count comes from OPENBLAS_NUM_THREADS and is
 * used as mrnn_model_train uses it: a team of that many threads (team.h), OpenBLAS single-threaded
 * inside the parts.
 *
 *   bench_train train V E H L T B STEPS REPS   timed training steps; one JSON line
 *   bench_train ceiling V E H L T B REPS       training steps alternating with the step's GEMMs alone
 *   bench_train kernels V E H L T B REPS [generic]   the kernel paths (compute.h) A/B in one process
 *
 * "train" prints tokens/s of each repetition (after one warm-up step) and the peak RSS of the
 * process (VmHWM), so that it should run in its own process. "ceiling" replays exactly the sgemm
 * calls of one training step, same shapes and transposes, on buffers of the same sizes: tokens per
 * step / their time is the speed the step would have if everything but the GEMMs were free (the
 * GEMM-bound ceiling). It alternates them with real steps and prints the medians of both.
 * "train" and "ceiling" take the kernel path as training would (MUSICRNN_KERNEL, compute.h).
 * "kernels" keeps one workspace per path the CPU has (OpenBLAS, AVX2, AVX-512, the CPUID choice;
 * the baseline kernel when asked: it is slow) on the same weights and runs one step of each in
 * turn, REPS rounds, so that the machine's load hits every path alike; prints each path's
 * tokens/s per round, by the clock and by the process's CPU time (with 2 threads that is the
 * sum over both: tokens per CPU-second). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adam.h"
#include "compute.h"
#include "network.h"
#include "packed.h"
#include "rng.h"
#include "team.h"

/* CPU time of the process: on a loaded machine, what a step cost whatever the scheduler did. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

typedef struct trainer {
    mrnn__net_config cfg;
    size_t n;
    float *block;
    uint32_t *ids;
    float *mask;
    mrnn__net_workspace *ws;
    mrnn__team *team;
    int threads; /* OPENBLAS_NUM_THREADS at start: the team's size, and OpenBLAS's for the replay */
    double *norm_sums;
    mrnn__net_params w, g;
    mrnn__batch bt;
    uint64_t step;
} trainer;

static int trainer_init(trainer *tr, const shape *s)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = (mrnn__net_config){(uint32_t)s->V, (uint32_t)s->V, 0, (uint32_t)s->E, (uint32_t)s->H, (uint32_t)s->L,
                                 MRNN__LOSS_SOFTMAX, 0.0f, 0};
    size_t n = mrnn__net_param_count(&tr->cfg), rows = (size_t)s->T * (size_t)s->B;
    tr->n = n;
    /* weights, gradient and the two Adam moments: the four blocks a training run holds */
    tr->block = calloc(4 * n, sizeof(float));
    tr->ids = malloc(4 * (rows + 1) * sizeof(uint32_t));
    tr->mask = malloc(rows * sizeof(float));
    int isa, pack;
    mrnn__compute_kernel(&isa, &pack);
    tr->ws = mrnn__net_workspace_new_kernel(&tr->cfg, s->T, s->B, pack, isa);
    tr->norm_sums = malloc(mrnn__norm_chunks(n) * sizeof(double));
    tr->threads = openblas_get_num_threads();
    tr->team = mrnn__team_new(tr->threads);
    openblas_set_num_threads(tr->team ? 1 : tr->threads);
    if (tr->ws) mrnn__net_workspace_set_team(tr->ws, tr->team);
    if (!tr->block || !tr->ids || !tr->mask || !tr->ws || !tr->norm_sums) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    mrnn__net_bind(&tr->cfg, tr->block, &tr->w);
    mrnn__net_bind(&tr->cfg, tr->block + n, &tr->g);
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 7);
    mrnn__net_init(&tr->cfg, &tr->w, &rng);
    /* one input and one target token per row, random (speed does not depend on the data) */
    uint32_t *in_start = tr->ids, *tgt_start = in_start + rows + 1, *in_ids = tgt_start + rows + 1;
    uint32_t *tgt_ids = in_ids + rows;
    for (size_t r = 0; r <= rows; r++) in_start[r] = tgt_start[r] = (uint32_t)r;
    for (size_t r = 0; r < rows; r++) {
        in_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * s->V) % (uint32_t)s->V;
        tgt_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * s->V) % (uint32_t)s->V;
        tr->mask[r] = 1.0f;
    }
    tr->bt = (mrnn__batch){s->T, s->B, in_start, in_ids, tgt_start, tgt_ids, tr->mask, NULL};
    return 0;
}

/* One optimiser step as mrnn_model_train takes it: forward/backward, clipping to norm 5, Adam. */
static void trainer_step(trainer *tr)
{
    mrnn__adam_config ac = {0.002f, 0.9f, 0.999f, 1e-8f, 0.0f};
    mrnn__net_result res = {0};
    mrnn__net_forward_backward(&tr->cfg, &tr->w, &tr->g, &tr->bt, tr->ws, NULL, &res);
    float *weights = tr->block, *grad = tr->block + tr->n, *m = tr->block + 2 * tr->n, *v = tr->block + 3 * tr->n;
    mrnn__clip_grad_norm_team(tr->team, grad, tr->n, 5.0f, tr->norm_sums);
    mrnn__adam_update_team(tr->team, weights, grad, m, v, tr->n, ++tr->step, &ac);
}

static void trainer_free(trainer *tr)
{
    mrnn__net_workspace_free(tr->ws);
    mrnn__team_free(tr->team);
    free(tr->norm_sums);
    free(tr->block);
    free(tr->ids);
    free(tr->mask);
}

static int run_train(const shape *s, int steps, int reps)
{
    trainer tr;
    if (trainer_init(&tr, s)) return 1;
    const double rows = (double)s->T * s->B;
    printf("{\"mode\":\"train\",\"params\":%zu,\"tokens_per_s\":[", tr.n);
    trainer_step(&tr); /* warm-up: first touch of every buffer */
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        for (int k = 0; k < steps; k++) trainer_step(&tr);
        printf("%s%.1f", rep ? "," : "", rows * steps / (now() - t0));
    }
    printf("],\"peak_rss_kib\":%ld}\n", peak_rss_kib());
    trainer_free(&tr);
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

typedef struct replay {
    gemm_call calls[6 * MRNN__MAX_LAYERS + 3];
    int nc;
    float *A, *Bm, *C;
    double flops;
} replay;

static int replay_init(replay *rp, const shape *s)
{
    rp->nc = list_gemms(s, rp->calls);
    /* one buffer per operand role, big enough for the largest call */
    size_t big = 0;
    rp->flops = 0;
    for (int i = 0; i < rp->nc; i++) {
        const gemm_call *c = &rp->calls[i];
        size_t a = (size_t)c->M * c->K, b = (size_t)c->K * c->N, cc = (size_t)c->M * c->N;
        big = a > big ? a : big;
        big = b > big ? b : big;
        big = cc > big ? cc : big;
        rp->flops += 2.0 * c->M * c->N * c->K * c->repeat;
    }
    rp->A = malloc(big * sizeof(float));
    rp->Bm = malloc(big * sizeof(float));
    rp->C = malloc(big * sizeof(float));
    if (!rp->A || !rp->Bm || !rp->C) return 1;
    for (size_t i = 0; i < big; i++) rp->A[i] = rp->Bm[i] = rp->C[i] = 0.001f * (float)(i % 1000);
    return 0;
}

static double replay_run(replay *rp)
{
    double t0 = now();
    for (int i = 0; i < rp->nc; i++) {
        const gemm_call *c = &rp->calls[i];
        int lda = c->ta == CblasNoTrans ? c->K : c->M, ldb = c->tb == CblasNoTrans ? c->N : c->K;
        for (int r = 0; r < c->repeat; r++)
            cblas_sgemm(CblasRowMajor, c->ta, c->tb, c->M, c->N, c->K, 1.0f, rp->A, lda, rp->Bm, ldb, 1.0f, rp->C,
                        c->N);
    }
    return now() - t0;
}

static void replay_free(replay *rp)
{
    free(rp->A);
    free(rp->Bm);
    free(rp->C);
}

/* Training steps and GEMM replays alternate in one process, so that both see the same load. */
static int run_ceiling(const shape *s, int reps)
{
    trainer tr;
    replay rp;
    if (trainer_init(&tr, s) || replay_init(&rp, s)) return 1;
    double *t_step = malloc((size_t)reps * sizeof(double)), *t_gemm = malloc((size_t)reps * sizeof(double));
    if (!t_step || !t_gemm) return 1;
    /* the replay is OpenBLAS alone, with all the threads; the step runs it inside its team */
    const int step_threads = tr.team ? 1 : tr.threads;
    trainer_step(&tr);
    openblas_set_num_threads(tr.threads);
    replay_run(&rp);
    for (int rep = 0; rep < reps; rep++) {
        openblas_set_num_threads(step_threads);
        double t0 = now();
        trainer_step(&tr);
        t_step[rep] = now() - t0;
        openblas_set_num_threads(tr.threads);
        t_gemm[rep] = replay_run(&rp);
    }
    qsort(t_step, (size_t)reps, sizeof *t_step, cmp_double);
    qsort(t_gemm, (size_t)reps, sizeof *t_gemm, cmp_double);
    const double rows = (double)s->T * s->B, step = t_step[reps / 2], gemm = t_gemm[reps / 2];
    printf("{\"mode\":\"ceiling\",\"flops_per_step\":%.0f,\"gemm_seconds_per_step\":%.6f,\"gflops\":%.2f,"
           "\"ceiling_tokens_per_s\":%.1f,\"step_seconds\":%.6f,\"tokens_per_s\":%.1f}\n",
           rp.flops, gemm, rp.flops / gemm * 1e-9, rows / gemm, step, rows / step);
    free(t_step);
    free(t_gemm);
    replay_free(&rp);
    trainer_free(&tr);
    return 0;
}

/* One step of each kernel path in turn, REPS rounds (see the top of this file). */
static int run_kernels(const shape *s, int reps, int with_generic)
{
    static const struct {
        const char *name;
        int isa, pack;
    } paths[] = {{"openblas", -1, MRNN__PACK_NEVER},
                 {"generic", MRNN__ISA_BASE, MRNN__PACK_ALWAYS},
                 {"avx2", MRNN__ISA_AVX2, MRNN__PACK_ALWAYS},
                 {"avx512", MRNN__ISA_AVX512, MRNN__PACK_ALWAYS},
                 {"auto", -1, MRNN__PACK_AUTO}};
    enum { N_PATHS = sizeof paths / sizeof paths[0] };
    trainer tr;
    if (trainer_init(&tr, s)) return 1;
    mrnn__net_workspace *ws[N_PATHS] = {NULL};
    double *rate = calloc(2 * (size_t)N_PATHS * (size_t)reps, sizeof *rate), *cpu_rate = rate + N_PATHS * reps;
    const int best = mrnn__packed_best_isa();
    int use[N_PATHS];
    for (int p = 0; p < N_PATHS; p++) {
        use[p] = paths[p].isa <= best && (paths[p].isa != MRNN__ISA_BASE || with_generic) &&
                 1;
        if (!use[p]) continue;
        ws[p] = mrnn__net_workspace_new_kernel(&tr.cfg, s->T, s->B, paths[p].pack, paths[p].isa < 0 ? best : paths[p].isa);
        if (!ws[p] || !rate) {
            fprintf(stderr, "bench_train: out of memory\n");
            return 1;
        }
        mrnn__net_workspace_set_team(ws[p], tr.team);
    }
    mrnn__net_workspace *own = tr.ws;
    const double rows = (double)s->T * s->B;
    for (int p = 0; p < N_PATHS; p++) /* warm-up: first touch of each workspace */
        if (use[p]) {
            tr.ws = ws[p];
            trainer_step(&tr);
        }
    for (int rep = 0; rep < reps; rep++)
        for (int p = 0; p < N_PATHS; p++) {
            if (!use[p]) continue;
            tr.ws = ws[p];
            double t0 = now(), c0 = cpu_now();
            trainer_step(&tr);
            rate[p * reps + rep] = rows / (now() - t0);
            cpu_rate[p * reps + rep] = rows / (cpu_now() - c0);
        }
    printf("{\"mode\":\"kernels\",\"best_isa\":%d,\"tokens_per_s\":{", best);
    const char *sep = "";
    for (int p = 0; p < N_PATHS; p++) {
        if (!use[p]) continue;
        printf("%s\"%s\":[", sep, paths[p].name);
        for (int rep = 0; rep < reps; rep++) printf("%s%.1f", rep ? "," : "", rate[p * reps + rep]);
        printf("]");
        sep = ",";
    }
    printf("},\"cpu_tokens_per_s\":{");
    sep = "";
    for (int p = 0; p < N_PATHS; p++) {
        if (!use[p]) continue;
        printf("%s\"%s\":[", sep, paths[p].name);
        for (int rep = 0; rep < reps; rep++) printf("%s%.1f", rep ? "," : "", cpu_rate[p * reps + rep]);
        printf("]");
        sep = ",";
    }
    printf("}}\n");
    tr.ws = own;
    for (int p = 0; p < N_PATHS; p++) mrnn__net_workspace_free(ws[p]);
    free(rate);
    trainer_free(&tr);
    return 0;
}

int main(int argc, char **argv)
{
    int is_train = argc == 10 && strcmp(argv[1], "train") == 0, is_ceiling = argc == 9 && strcmp(argv[1], "ceiling") == 0;
    int is_kernels = (argc == 9 || argc == 10) && strcmp(argv[1], "kernels") == 0;
    if (!is_train && !is_ceiling && !is_kernels) {
        fprintf(stderr, "usage: bench_train train V E H L T B STEPS REPS | ceiling V E H L T B REPS | "
                        "kernels V E H L T B REPS [generic]\n");
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
    if (is_kernels) return run_kernels(&s, reps > 0 ? reps : 1, argc == 10 && strcmp(argv[9], "generic") == 0);
    return run_ceiling(&s, reps > 0 ? reps : 1);
}
