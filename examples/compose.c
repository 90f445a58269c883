/* compose: the whole libmusicrnn workflow in one small program, built against the installed
 * library with nothing but `pkg-config --cflags --libs musicrnn`.
 *
 *   compose MIDI_DIR OUT.mid [STEPS]
 *
 * reads every MIDI file below MIDI_DIR, trains a small LSTM for STEPS steps (default 50),
 * then generates 200 tokens and writes them to OUT.mid. */
#include <stdio.h>
#include <stdlib.h>

#include <musicrnn/musicrnn.h>

static int fail(const char *what)
{
    fprintf(stderr, "compose: %s: %s\n", what, mrnn_last_error());
    return 1;
}

static int show_progress(const mrnn_train_progress *p, void *user_data)
{
    (void)user_data;
    if (p->step % 10 == 0) fprintf(stderr, "step %llu loss %.3f\n", (unsigned long long)p->step, p->train_loss);
    return 0; /* non-zero would stop training */
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: compose MIDI_DIR OUT.mid [STEPS]\n");
        return 2;
    }
    if (mrnn_version_number() / 100 != MRNN_VERSION_NUMBER / 100) {
        fprintf(stderr, "compose: built for libmusicrnn %s but running with %s\n", MRNN_VERSION_STRING,
                mrnn_version_string());
        return 1;
    }
    int rc = 1;
    mrnn_corpus *corpus = NULL;
    mrnn_model *model = NULL;
    mrnn_sampler *sampler = NULL;

    /* 1. Prepare data: notes and chords with their durations, on a sixteenth-note grid. */
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_NOTECHORD;
    if (mrnn_corpus_create(&corpus, &enc, NULL) != MRNN_OK) { fail("corpus"); goto out; }
    if (mrnn_corpus_add_dir(corpus, argv[1]) != MRNN_OK) { fail(argv[1]); goto out; }
    if (mrnn_corpus_finish(corpus) != MRNN_OK) { fail("corpus"); goto out; }
    mrnn_corpus_stats stats;
    mrnn_corpus_get_stats(corpus, &stats);
    fprintf(stderr, "%u files (%u skipped), %u training pieces, vocabulary of %u tokens\n", stats.n_files,
            stats.n_skipped, stats.n_pieces[MRNN_SPLIT_TRAIN], stats.vocab_size);

    /* 2. Train a small two-layer LSTM. */
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 32;
    mp.hidden_size = 64;
    if (mrnn_model_create(&model, mrnn_corpus_vocab(corpus), NULL, 0, &mp) != MRNN_OK) { fail("model"); goto out; }
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 32;
    tp.batch_size = 16;
    tp.max_steps = argc > 3 ? strtoull(argv[3], NULL, 10) : 50;
    tp.valid_every = 0;
    if (mrnn_model_train(model, corpus, &tp, show_progress, NULL) != MRNN_OK) { fail("train"); goto out; }

    /* 3. Generate: nucleus sampling with a fixed seed, so the piece is reproducible. */
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.top_p = 0.95f;
    sp.rng_seed = 7;
    if (mrnn_sampler_create(&sampler, model, &sp) != MRNN_OK) { fail("sampler"); goto out; }
    if (mrnn_sampler_generate(sampler, 200, 0.0, NULL, NULL) != MRNN_OK) { fail("generate"); goto out; }
    if (mrnn_sampler_write_midi(sampler, 0, argv[2], 110.0, 0) != MRNN_OK) { fail(argv[2]); goto out; }
    fprintf(stderr, "wrote %s\n", argv[2]);
    rc = 0;
out:
    mrnn_sampler_free(sampler);
    mrnn_model_free(model);
    mrnn_corpus_free(corpus);
    return rc;
}
