/* Preprocessing speed through the public API: every MIDI file given is read, validated, parsed and
 * encoded (Performance encoding, or multitrack with --multitrack) into a corpus with
 * mrnn_corpus_add_file, REPS times.
 *
 *   bench_preprocess REPS [--multitrack] FILE...   one JSON line: seconds of each repetition, files read, notes */
#include <string.h>
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

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_preprocess REPS [--multitrack] FILE...\n");
        return 2;
    }
    int reps = atoi(argv[1]);
    int first = 2;
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    if (strcmp(argv[2], "--multitrack") == 0) {
        enc.encoding = MRNN_ENCODING_MULTITRACK; /* reads drums too: every note of the file is encoded */
        first = 3;
    }
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    printf("{\"mode\":\"preprocess\",\"seconds\":[");
    mrnn_corpus_stats st = {0};
    for (int r = 0; r < reps; r++) {
        mrnn_corpus *c = NULL;
        if (mrnn_corpus_create(&c, &enc, &cp) != MRNN_OK) return 1;
        double t0 = now();
        for (int i = first; i < argc; i++) mrnn_corpus_add_file(c, argv[i], NULL); /* skips are in the stats */
        double dt = now() - t0;
        mrnn_corpus_get_stats(c, &st);
        mrnn_corpus_free(c);
        printf("%s%.6f", r ? "," : "", dt);
    }
    printf("],\"files\":%u,\"skipped\":%u,\"notes\":%llu}\n", st.n_files, st.n_skipped,
           (unsigned long long)st.n_notes);
    return 0;
}
