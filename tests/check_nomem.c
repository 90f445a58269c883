/* Allocation failures over whole operations. For each operation the n-th allocation is made to fail
 * (n = 0, 1, 2, ... through the library's allocation hook) until the operation succeeds: every
 * failing run must return MRNN_ERR_NOMEM with a message, and free what it allocated (leaks are
 * caught when this suite runs under valgrind or ASan, which tools/run-tests.sh does). The final,
 * successful run shows that nothing in the operation depends on an earlier failure. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <musicrnn/musicrnn.h>

#include "alloc.h"
#include "test_main.h"
#include "test_util.h"

/* Under valgrind every run is slow: test every 5th allocation there (ASan runs test them all). */
static long sweep_stride(void)
{
    return getenv("MRNN_UNDER_VALGRIND") ? 5 : 1;
}

typedef mrnn_status (*operation)(void *ctx);

/* Returns the number of allocations the operation needed (the first n that succeeded). */
static long sweep(const char *what, operation op, void *ctx)
{
    for (long n = 0;; n += sweep_stride()) {
        ck_assert_msg(n < 100000, "%s: still failing after %ld allocations", what, n);
        mrnn_clear_error();
        mrnn__alloc_fail_after(n);
        mrnn_status st = op(ctx);
        mrnn__alloc_fail_after(-1);
        if (st == MRNN_OK) {
            ck_assert_msg(n > 0, "%s: succeeded without any allocation; the sweep tested nothing", what);
            return n;
        }
        ck_assert_msg(st == MRNN_ERR_NOMEM, "%s: allocation %ld failed and the call returned %s: %s", what, n,
                      mrnn_status_string(st), mrnn_last_error());
        ck_assert_msg(mrnn_last_error()[0] != '\0', "%s: NOMEM at allocation %ld without a message", what, n);
    }
}

/* Files a failed atomic save may have left behind (NAME.tmp.PID). */
static int leftover_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

typedef struct fixture {
    char *dir;
    char midi_dir[4200], midi_file[4200], corpus_path[4200], model_path[4200], out_midi[4200];
    uint32_t encoding;
    mrnn_corpus *corpus; /* built before the sweeps that need one */
    mrnn_model *model;
} fixture;

/* Three small MIDI files written by the library itself (one in a sub-folder: a style label). */
static void write_midi_files(fixture *f)
{
    static const char *const pieces[3] = {
        "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_50 NOTE_ON_64 TIME_SHIFT_50 NOTE_OFF_60 NOTE_OFF_64 NOTE_ON_67 "
        "TIME_SHIFT_100 NOTE_OFF_67 NOTE_ON_72 TIME_SHIFT_25 NOTE_OFF_72",
        "VELOCITY_25 NOTE_ON_48 NOTE_ON_52 NOTE_ON_55 TIME_SHIFT_100 NOTE_OFF_48 NOTE_OFF_52 NOTE_OFF_55 "
        "NOTE_ON_50 TIME_SHIFT_50 NOTE_OFF_50 NOTE_ON_53 TIME_SHIFT_50 NOTE_OFF_53",
        "VELOCITY_10 NOTE_ON_70 TIME_SHIFT_25 NOTE_OFF_70 NOTE_ON_69 TIME_SHIFT_25 NOTE_OFF_69 NOTE_ON_67 "
        "TIME_SHIFT_50 NOTE_OFF_67 NOTE_ON_65 TIME_SHIFT_100 NOTE_OFF_65",
    };
    static const char *const names[3] = {"a.mid", "b.mid", "folk/c.mid"};
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    TEST_PATH(f->midi_dir, "%s/midi", f->dir);
    char sub[4200];
    TEST_PATH(sub, "%s/folk", f->midi_dir);
    ck_assert_int_eq(mkdir(f->midi_dir, 0700), 0);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    for (int i = 0; i < 3; i++) {
        uint32_t ids[64];
        size_t n;
        ck_assert_int_eq(mrnn_vocab_parse(v, pieces[i], ids, 64, &n), MRNN_OK);
        char path[4200];
        TEST_PATH(path, "%s/%s", f->midi_dir, names[i]);
        ck_assert_int_eq(mrnn_tokens_write_midi(v, ids, n, path, 100, 0), MRNN_OK);
    }
    TEST_PATH(f->midi_file, "%s/a.mid", f->midi_dir);
    mrnn_vocab_free(v);
}

static void fixture_init(fixture *f, uint32_t encoding)
{
    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    f->encoding = encoding;
    write_midi_files(f);
    TEST_PATH(f->corpus_path, "%s/c.mrc", f->dir);
    TEST_PATH(f->model_path, "%s/m.mrm", f->dir);
    TEST_PATH(f->out_midi, "%s/out.mid", f->dir);
}

static void fixture_free(fixture *f)
{
    ck_assert_int_eq(leftover_temp_files(f->dir), 0);
    mrnn_model_free(f->model);
    mrnn_corpus_free(f->corpus);
    test_rmdir(f->dir);
}

/* ---- the operations ------------------------------------------------------------------------- */

static mrnn_status build_corpus(fixture *f, mrnn_corpus **out, const char *spill_dir)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = f->encoding;
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = 0.34;
    cp.transpose_range = 1;
    cp.spill_dir = spill_dir;
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_create(&c, &enc, &cp);
    if (st == MRNN_OK) st = mrnn_corpus_add_dir(c, f->midi_dir);
    if (st == MRNN_OK) st = mrnn_corpus_add_file(c, f->midi_file, "extra");
    if (st == MRNN_OK) st = mrnn_corpus_finish(c);
    if (st == MRNN_OK) {
        /* A successful build read every file: running out of memory never shows up as a skipped file. */
        mrnn_corpus_stats s;
        ck_assert_int_eq(mrnn_corpus_get_stats(c, &s), MRNN_OK);
        ck_assert_uint_eq(s.n_files, 4);
        ck_assert_uint_eq(s.n_skipped, 0);
    }
    if (st != MRNN_OK || !out) mrnn_corpus_free(c);
    else *out = c;
    return st;
}

static mrnn_status op_build_corpus(void *ctx)
{
    return build_corpus(ctx, NULL, NULL);
}

/* Tokens in a temporary file (spill_dir) while building, streamed into the corpus file. */
static mrnn_status op_build_save_spilled(void *ctx)
{
    fixture *f = ctx;
    mrnn_corpus *c = NULL;
    mrnn_status st = build_corpus(f, &c, f->dir);
    char path[4200];
    TEST_PATH(path, "%s/spilled.mrc", f->dir);
    if (st == MRNN_OK) st = mrnn_corpus_save(c, path);
    mrnn_corpus_free(c);
    return st;
}

static mrnn_status op_save_corpus(void *ctx)
{
    fixture *f = ctx;
    return mrnn_corpus_save(f->corpus, f->corpus_path);
}

static mrnn_status op_load_corpus(void *ctx)
{
    fixture *f = ctx;
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_load(&c, f->corpus_path);
    if (st == MRNN_OK) ck_assert_uint_eq(mrnn_corpus_piece_count(c), mrnn_corpus_piece_count(f->corpus));
    else ck_assert_ptr_null(c);
    mrnn_corpus_free(c);
    return st;
}

/* Create a model, train it one step, save it with its training state and load it back. */
static mrnn_status op_model_lifecycle(void *ctx)
{
    fixture *f = ctx;
    const char *styles[2] = {"folk", "extra"};
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 4;
    mp.hidden_size = 6;
    mp.dropout = 0.1f;
    mrnn_model *m = NULL, *loaded = NULL;
    mrnn_status st = mrnn_model_create(&m, mrnn_corpus_vocab(f->corpus), styles, 2, &mp);
    if (st == MRNN_OK) {
        mrnn_train_params tp;
        mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
        tp.seq_len = 8;
        tp.batch_size = 2;
        tp.max_steps = 1;
        tp.valid_every = 1;
        tp.threads = 1;
        st = mrnn_model_train(m, f->corpus, &tp, NULL, NULL);
    }
    if (st == MRNN_OK) st = mrnn_model_save(m, f->model_path, MRNN_SAVE_TRAINING_STATE);
    if (st == MRNN_OK) st = mrnn_model_load(&loaded, f->model_path);
    if (st == MRNN_OK) ck_assert_uint_eq(mrnn_model_steps_trained(loaded), 1);
    mrnn_model_free(loaded);
    mrnn_model_free(m);
    return st;
}

static mrnn_status op_sample(void *ctx)
{
    fixture *f = ctx;
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = 2;
    sp.top_p = 0.9f;
    sp.repetition_penalty = 1.2f;
    sp.style = 0;
    mrnn_sampler *s = NULL;
    mrnn_status st = mrnn_sampler_create(&s, f->model, &sp);
    if (st == MRNN_OK) st = mrnn_sampler_prime_midi(s, f->midi_file, 0, 0);
    if (st == MRNN_OK) st = mrnn_sampler_generate(s, 12, 0, NULL, NULL);
    if (st == MRNN_OK) st = mrnn_sampler_write_midi(s, 1, f->out_midi, 120, 0);
    if (st == MRNN_OK) st = mrnn_sampler_reset(s, 5);
    const char *seed = f->encoding == MRNN_ENCODING_PIANOROLL ? "C4.E4 _" : NULL;
    if (st == MRNN_OK && seed) st = mrnn_sampler_prime_text(s, seed);
    mrnn_sampler_free(s);
    return st;
}

/* ---- the tests: one per encoding, each sweeping every operation ------------------------------- */

static void sweep_everything(uint32_t encoding)
{
    fixture f;
    fixture_init(&f, encoding);
    long n_build = sweep("corpus build", op_build_corpus, &f);
    long n_spill = sweep("spilled corpus build and save", op_build_save_spilled, &f);
    ck_assert_int_eq(build_corpus(&f, &f.corpus, NULL), MRNN_OK);
    long n_save = sweep("corpus save", op_save_corpus, &f);
    long n_load = sweep("corpus load", op_load_corpus, &f);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 4;
    mp.hidden_size = 6;
    const char *styles[1] = {"folk"};
    ck_assert_int_eq(mrnn_model_create(&f.model, mrnn_corpus_vocab(f.corpus), styles, 1, &mp), MRNN_OK);
    long n_model = sweep("model create/train/save/load", op_model_lifecycle, &f);
    long n_sample = sweep("sampler create/prime/generate/write", op_sample, &f);
    fprintf(stderr, "encoding %u: allocations swept: build %ld, spilled build+save %ld, save %ld, load %ld, model %ld, "
            "sampler %ld\n", encoding, n_build, n_spill, n_save, n_load, n_model, n_sample);
    fixture_free(&f);
}

START_TEST(nomem_notechord)
{
    sweep_everything(MRNN_ENCODING_NOTECHORD);
}
END_TEST

START_TEST(nomem_performance)
{
    sweep_everything(MRNN_ENCODING_PERFORMANCE);
}
END_TEST

START_TEST(nomem_pianoroll)
{
    sweep_everything(MRNN_ENCODING_PIANOROLL);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("nomem");
    TCase *t = tcase_create("nomem");
    tcase_set_timeout(t, 1200);
    tcase_add_test(t, nomem_notechord);
    tcase_add_test(t, nomem_performance);
    tcase_add_test(t, nomem_pianoroll);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
