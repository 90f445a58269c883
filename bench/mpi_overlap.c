/* When the overlapped allreduce gets each segment of the gradient, and what that hides on a
 * cluster. One thread runs the library's training step (forward/backward, the reducer of
 * lib/grad_reducer.c as mrnn_model_train sets it up with allreduce_overlap = 1, clipping, Adam) on
 * random tokens; the allreduce callback sums nothing but notes the training thread's CPU time at
 * each call, so the times are those of the computation whatever the machine's load. Then a model:
 * a node NODE_SPEEDUP times faster than this core, N of them on a ring allreduce of 10 Gb/s (30 us a
 * hop) or 100 Gb/s (3 us), with the reduction after the backward pass or overlapped with it.
 *
 *   mpi_overlap V E H L T B REPS [NODE_SPEEDUP]     default speed-up 16 (a 16-core node) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "adam.h"
#include "grad_reducer.h"
#include "network.h"
#include "rng.h"

#define MAX_REPS 64

typedef struct timeline {
    clockid_t trainer; /* the training thread's CPU clock */
    double t0;
    int n_calls;
    double at[MRNN__REDUCER_MAX_SEGMENTS];
    size_t count[MRNN__REDUCER_MAX_SEGMENTS];
} timeline;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int record(float *data, size_t count, void *user)
{
    (void)data;
    timeline *tl = user;
    if (tl->n_calls < MRNN__REDUCER_MAX_SEGMENTS) {
        tl->at[tl->n_calls] = clock_s(tl->trainer) - tl->t0;
        tl->count[tl->n_calls] = count;
    }
    tl->n_calls++;
    return 0;
}

typedef struct hook_ctx {
    mrnn__grad_reducer *reducer;
    int started;
} hook_ctx;

static void on_ready(void *ctx, size_t from)
{
    hook_ctx *h = ctx;
    if (!h->started) mrnn__grad_reducer_start(h->reducer, 0.0, 1.0);
    h->started = 1;
    mrnn__grad_reducer_ready(h->reducer, from);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* A ring allreduce of `bytes`: 2(N-1)/N of it through each link, 2(N-1) hops. */
static double ring_s(double bytes, int nodes, double link_bytes_per_s, double hop_s)
{
    double steps = 2.0 * (nodes - 1);
    return steps / nodes * bytes / link_bytes_per_s + steps * hop_s;
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: mpi_overlap V E H L T B REPS [NODE_SPEEDUP]\n");
        return 2;
    }
    int v[7];
    for (int i = 0; i < 7; i++) v[i] = atoi(argv[1 + i]);
    const int T = v[4], B = v[5], reps = v[6];
    double speedup = argc == 9 ? atof(argv[8]) : 16.0;
    if (v[0] < 1 || v[1] < 1 || v[2] < 1 || v[3] < 1 || v[3] > MRNN__MAX_LAYERS || T < 2 || B < 1 || reps < 1 ||
        reps > MAX_REPS || !(speedup > 0)) {
        fprintf(stderr, "mpi_overlap: bad arguments\n");
        return 2;
    }
    openblas_set_num_threads(1);
    mrnn__net_config cfg = {(uint32_t)v[0], (uint32_t)v[0], 0, (uint32_t)v[1], (uint32_t)v[2], (uint32_t)v[3],
                            MRNN__LOSS_SOFTMAX, 0.0f, 0};
    const size_t n = mrnn__net_param_count(&cfg), rows = (size_t)T * (size_t)B;
    float *block = calloc(4 * n, sizeof(float));
    uint32_t *ids = malloc(4 * (rows + 1) * sizeof(uint32_t));
    float *mask = malloc(rows * sizeof(float));
    double *norm_sums = malloc(mrnn__norm_chunks(n) * sizeof(double));
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&cfg, T, B);
    if (!block || !ids || !mask || !norm_sums || !ws) {
        fprintf(stderr, "mpi_overlap: out of memory\n");
        return 1;
    }
    mrnn__net_params w, g;
    mrnn__net_bind(&cfg, block, &w);
    mrnn__net_bind(&cfg, block + n, &g);
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 7);
    mrnn__net_init(&cfg, &w, &rng);
    uint32_t *in_start = ids, *tgt_start = in_start + rows + 1, *in_ids = tgt_start + rows + 1, *tgt_ids = in_ids + rows;
    for (size_t r = 0; r <= rows; r++) in_start[r] = tgt_start[r] = (uint32_t)r;
    for (size_t r = 0; r < rows; r++) {
        in_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * v[0]) % (uint32_t)v[0];
        tgt_ids[r] = (uint32_t)(mrnn__rng_uniform(&rng) * v[0]) % (uint32_t)v[0];
        mask[r] = 1.0f;
    }
    mrnn__batch bt = {T, B, in_start, in_ids, tgt_start, tgt_ids, mask, NULL};

    timeline tl;
    memset(&tl, 0, sizeof tl);
    pthread_getcpuclockid(pthread_self(), &tl.trainer);
    size_t cuts[MRNN__MAX_LAYERS + 1];
    int n_cuts = mrnn__grad_reducer_net_cuts(&cfg, &g, cuts);
    mrnn__grad_reducer *red = NULL;
    if (mrnn__grad_reducer_new(&red, block + n, n, 1, cuts, n_cuts, MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT, record, &tl) !=
        MRNN_OK) {
        fprintf(stderr, "mpi_overlap: no reducer\n");
        return 1;
    }
    const int segs = mrnn__grad_reducer_segments(red);
    hook_ctx hc = {red, 0};
    mrnn__net_workspace_set_grad_hook(ws, on_ready, &hc);
    mrnn__adam_config ac = {0.002f, 0.9f, 0.999f, 1e-8f, 0.0f};
    double at[MRNN__REDUCER_MAX_SEGMENTS][MAX_REPS], back_end[MAX_REPS], step_end[MAX_REPS];
    size_t count[MRNN__REDUCER_MAX_SEGMENTS] = {0};
    for (int rep = -1; rep < reps; rep++) { /* rep -1: warm-up, first touch of every buffer */
        mrnn__net_result res = {0};
        tl.n_calls = 0;
        hc.started = 0;
        tl.t0 = clock_s(tl.trainer);
        mrnn__net_forward_backward(&cfg, &w, &g, &bt, ws, NULL, &res);
        double fb = clock_s(tl.trainer) - tl.t0, loss, total;
        if (!hc.started) mrnn__grad_reducer_start(red, 0.0, 1.0);
        mrnn__grad_reducer_finish(red, &loss, &total);
        mrnn__clip_grad_norm_team(NULL, block + n, n, 5.0f, norm_sums);
        mrnn__adam_update_team(NULL, block, block + n, block + 2 * n, block + 3 * n, n, (uint64_t)rep + 2, &ac);
        double end = clock_s(tl.trainer) - tl.t0;
        if (rep < 0) continue;
        for (int k = 0; k < segs; k++) {
            at[k][rep] = tl.at[k];
            count[k] = tl.count[k];
        }
        back_end[rep] = fb;
        step_end[rep] = end;
    }
    double ready[MRNN__REDUCER_MAX_SEGMENTS];
    const double step = median(step_end, reps), back = median(back_end, reps);
    printf("# mpi_overlap: %u x %u LSTM, embed %u, vocabulary %u, batch %d x %d, %zu parameters; medians of %d "
           "steps, CPU time of the training thread\n", cfg.layers, cfg.hidden, cfg.embed, cfg.n_tokens, B, T, n, reps);
    printf("step %.1f ms, forward+backward %.1f ms; %d segments:\n", 1e3 * step, 1e3 * back, segs);
    for (int k = 0; k < segs; k++) {
        ready[k] = median(at[k], reps);
        printf("  segment %d: %zu floats (%.2f MB), ready at %.1f ms (%.0f %% of the step)\n", k, count[k],
               4e-6 * (double)count[k], 1e3 * ready[k], 100 * ready[k] / step);
    }
    /* The last segment is ready when the backward pass ends: nothing is left to hide it behind. */
    printf("\nmodel: nodes %.0fx this core (step %.1f ms); the stop vote's one float in both columns\n", speedup,
           1e3 * step / speedup);
    printf("| network | N | reduction after the backward pass | overlapped: exposed | efficiency after | overlapped |\n");
    printf("|---|---|---|---|---|---|\n");
    static const struct { const char *name; double bytes_per_s, hop_s; } nets[] = {{"10 Gb/s", 1.25e9, 30e-6},
                                                                                   {"100 Gb/s", 12.5e9, 3e-6}};
    static const int nodes[] = {8, 16, 32, 64};
    for (size_t ni = 0; ni < 2; ni++) {
        for (size_t k = 0; k < 4; k++) {
            const int N = nodes[k];
            const double bw = nets[ni].bytes_per_s, hop = nets[ni].hop_s, node_step = step / speedup;
            const double vote = ring_s(4, N, bw, hop);
            const double after = ring_s(4.0 * (double)(n + 2), N, bw, hop) + vote;
            /* the pipeline: segment k starts when it is ready and the previous one is done */
            double done = 0;
            for (int s = 0; s < segs; s++) {
                double start = ready[s] / speedup > done ? ready[s] / speedup : done;
                done = start + ring_s(4.0 * (double)count[s], N, bw, hop);
            }
            const double back_node = back / speedup;
            const double exposed = (done > back_node ? done - back_node : 0) + vote;
            printf("| %s | %d | %.2f ms (%.0f %% of a step) | %.2f ms (%.0f %%) | %.0f %% | %.0f %% |\n", nets[ni].name, N,
                   1e3 * after, 100 * after / node_step, 1e3 * exposed, 100 * exposed / node_step,
                   100 * node_step / (node_step + after), 100 * node_step / (node_step + exposed));
        }
    }
    mrnn__grad_reducer_free(red);
    mrnn__net_workspace_free(ws);
    free(block);
    free(ids);
    free(mask);
    free(norm_sums);
    return 0;
}
