/* Sampling speed: tokens per second and latency per step at batch 1 (sgemv) and with 16 lanes
 * (sgemm), for the benchmark configurations (Performance vocabulary of 388 events). Untrained
 * weights: speed does not depend on what the weights are.
 *
 *   bench_sampling [STEPS]        prints one Markdown table row per configuration */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <musicrnn/musicrnn.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct config {
    const char *name;
    uint32_t embed, hidden, layers;
} config;

static double run(mrnn_model *m, uint32_t lanes, uint32_t steps)
{
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = lanes;
    mrnn_sampler *s = NULL;
    if (mrnn_sampler_create(&s, m, &sp) != MRNN_OK) return -1;
    mrnn_sampler_generate(s, 8, 0, NULL, NULL); /* warm up */
    double t0 = now();
    mrnn_status st = mrnn_sampler_generate(s, steps, 0, NULL, NULL);
    double dt = now() - t0;
    mrnn_sampler_free(s);
    return st == MRNN_OK ? (double)steps * lanes / dt : -1;
}

int main(int argc, char **argv)
{
    uint32_t steps = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 400;
    static const config configs[] = {
        {"small (2x256, embed 128)", 128, 256, 2},
        {"main (2x512, embed 256)", 256, 512, 2},
        {"performance-rnn (3x512)", 256, 512, 3},
    };
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    if (mrnn_vocab_create(&v, &enc) != MRNN_OK) return 1;
    printf("| configuration | lanes | tokens/s (median of 5) | ms per step |\n|---|---|---|---|\n");
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        mrnn_model_params mp;
        mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
        mp.embed_size = configs[c].embed;
        mp.hidden_size = configs[c].hidden;
        mp.num_layers = configs[c].layers;
        mrnn_model *m = NULL;
        if (mrnn_model_create(&m, v, NULL, 0, &mp) != MRNN_OK) {
            fprintf(stderr, "bench_sampling: %s\n", mrnn_last_error());
            return 1;
        }
        static const uint32_t lanes[] = {1, 16};
        for (int l = 0; l < 2; l++) {
            double r[5];
            for (int k = 0; k < 5; k++) r[k] = run(m, lanes[l], lanes[l] == 1 ? steps : steps / 4);
            qsort(r, 5, sizeof r[0], cmp_double);
            printf("| %s | %u | %.0f | %.3f |\n", configs[c].name, lanes[l], r[2], 1e3 * lanes[l] / r[2]);
            fflush(stdout);
        }
        mrnn_model_free(m);
    }
    mrnn_vocab_free(v);
    return 0;
}
