/* Sampling speed through the public API: mrnn_sampler_generate on an untrained model of the
 * Performance vocabulary (388 events); speed does not depend on what the weights are.
 * The thread count comes from OPENBLAS_NUM_THREADS, as for a sampler: 2 or more give it a helper thread.
 *
 *   bench_sampling E H L LANES STEPS REPS [bf16]   one JSON line: tokens/s of each repetition
 *   (bf16: the sampler computes with MRNN_WEIGHTS_BF16)
 *
 * One lane goes through sgemv per layer, several lanes through one small GEMM per layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <musicrnn/musicrnn.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double run(mrnn_model *m, uint32_t lanes, uint32_t steps, uint32_t weight_format)
{
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = lanes;
    sp.weight_format = weight_format;
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
    if (argc != 7 && !(argc == 8 && strcmp(argv[7], "bf16") == 0)) {
        fprintf(stderr, "usage: bench_sampling E H L LANES STEPS REPS [bf16]\n");
        return 2;
    }
    uint32_t weight_format = argc == 8 ? MRNN_WEIGHTS_BF16 : MRNN_WEIGHTS_FLOAT32;
    uint32_t a[6];
    for (int i = 0; i < 6; i++) a[i] = (uint32_t)strtoul(argv[1 + i], NULL, 10);
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    if (mrnn_vocab_create(&v, &enc) != MRNN_OK) return 1;
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = a[0];
    mp.hidden_size = a[1];
    mp.num_layers = a[2];
    mrnn_model *m = NULL;
    if (mrnn_model_create(&m, v, NULL, 0, &mp) != MRNN_OK) {
        fprintf(stderr, "bench_sampling: %s\n", mrnn_last_error());
        return 1;
    }
    printf("{\"mode\":\"sampling\",\"vocab\":%u,\"tokens_per_s\":[", mrnn_vocab_size(v));
    for (uint32_t r = 0; r < a[5]; r++) {
        double tps = run(m, a[3], a[4], weight_format);
        if (tps < 0) {
            fprintf(stderr, "bench_sampling: %s\n", mrnn_last_error());
            return 1;
        }
        printf("%s%.1f", r ? "," : "", tps);
    }
    printf("]}\n");
    mrnn_model_free(m);
    mrnn_vocab_free(v);
    return 0;
}
