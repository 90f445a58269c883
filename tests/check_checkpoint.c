/* Model checkpoints: what goes in comes out, bad files are refused with the right status and the
 * file named, saving is atomic (a crash mid-save leaves the previous checkpoint intact). */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "fileio.h"
#include "model.h"
#include "test_main.h"
#include "test_util.h"

static mrnn_model *styled_model(uint32_t encoding)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = encoding;
    enc.steps_per_quarter = 2;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    static const char *styles[] = {"baroque", "jazz", "ragtime"};
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 6;
    mp.hidden_size = 10;
    mp.num_layers = 3;
    mp.dropout = 0.25f;
    mp.init_seed = 77;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, styles, 3, &mp), MRNN_OK);
    mrnn_vocab_free(v);
    return m;
}

static void assert_same_model(const mrnn_model *a, const mrnn_model *b)
{
    mrnn_model_params pa, pb;
    mrnn_model_params_init(&pa, MRNN_MODEL_PARAMS_VERSION);
    mrnn_model_params_init(&pb, MRNN_MODEL_PARAMS_VERSION);
    ck_assert_int_eq(mrnn_model_get_params(a, &pa), MRNN_OK);
    ck_assert_int_eq(mrnn_model_get_params(b, &pb), MRNN_OK);
    ck_assert_mem_eq(&pa, &pb, sizeof pa);
    ck_assert_uint_eq(mrnn_model_param_count(a), mrnn_model_param_count(b));
    ck_assert_mem_eq(a->weights, b->weights, a->n_params * sizeof(float));
    ck_assert_uint_eq(mrnn_model_steps_trained(a), mrnn_model_steps_trained(b));
    ck_assert_uint_eq(mrnn_model_style_count(a), mrnn_model_style_count(b));
    for (uint32_t i = 0; i < mrnn_model_style_count(a); i++)
        ck_assert_str_eq(mrnn_model_style_name(a, i), mrnn_model_style_name(b, i));
    const mrnn_vocab *va = mrnn_model_vocab(a), *vb = mrnn_model_vocab(b);
    ck_assert_uint_eq(mrnn_vocab_size(va), mrnn_vocab_size(vb));
    for (uint32_t i = 0; i < mrnn_vocab_size(va); i++)
        ck_assert_str_eq(mrnn_vocab_token_text(va, i), mrnn_vocab_token_text(vb, i));
    mrnn_encoding_params ea, eb;
    mrnn_encoding_params_init(&ea, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_encoding_params_init(&eb, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_vocab_get_encoding_params(va, &ea);
    mrnn_vocab_get_encoding_params(vb, &eb);
    ck_assert_mem_eq(&ea, &eb, sizeof ea);
}

START_TEST(round_trip_every_encoding)
{
    static const uint32_t encodings[] = {MRNN_ENCODING_NOTECHORD, MRNN_ENCODING_PERFORMANCE, MRNN_ENCODING_PIANOROLL};
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    for (int k = 0; k < 3; k++) {
        mrnn_model *m = styled_model(encodings[k]);
        ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
        mrnn_model *l = NULL;
        ck_assert_msg(mrnn_model_load(&l, path) == MRNN_OK, "%s", mrnn_last_error());
        assert_same_model(m, l);
        ck_assert_ptr_null(l->adam_m); /* weights only */
        mrnn_model_free(l);
        mrnn_model_free(m);
    }
    test_rmdir(tmp);
}
END_TEST

static mrnn_status load_model(const char *path)
{
    mrnn_model *m = NULL;
    mrnn_status st = mrnn_model_load(&m, path);
    ck_assert(st == MRNN_OK || m == NULL);
    mrnn_model_free(m);
    return st;
}

static uint32_t file_format(const char *path)
{
    unsigned char head[12];
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    return (uint32_t)head[8] | (uint32_t)head[9] << 8 | (uint32_t)head[10] << 16 | (uint32_t)head[11] << 24;
}

/* A NADE model travels as format 3 (frame output, NADE size, its weights), with its training
 * state; a model with independent outputs is still written as format 2, which older libraries
 * read. A format-3 file with a frame output this library does not know is refused as corrupt. */
START_TEST(nade_round_trip_and_formats)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PIANOROLL;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 6;
    mp.hidden_size = 10;
    mp.frame_output = MRNN_FRAME_OUTPUT_NADE;
    mp.nade_hidden = 7;
    mp.init_seed = 5;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    ck_assert_uint_eq(m->cfg.loss, MRNN__LOSS_NADE);
    ck_assert_ptr_nonnull(m->w.nade_v);
    /* the NADE's weights are the last of the block */
    ck_assert_ptr_eq(m->w.nade_v + 88 * 7, m->weights + m->n_params);
    ck_assert_int_eq(mrnn__model_alloc_optimizer(m), MRNN_OK);
    for (size_t i = 0; i < m->n_params; i++) m->adam_m[i] = (float)i;
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    ck_assert_uint_eq(file_format(path), 3);
    mrnn_model *l = NULL;
    ck_assert_msg(mrnn_model_load(&l, path) == MRNN_OK, "%s", mrnn_last_error());
    assert_same_model(m, l);
    ck_assert_uint_eq(l->cfg.loss, MRNN__LOSS_NADE);
    ck_assert_uint_eq(l->cfg.nade_hidden, 7);
    ck_assert_mem_eq(m->adam_m, l->adam_m, m->n_params * sizeof(float));
    mrnn_model_free(l);
    test_corruptions(path, load_model);

    /* frame_output is the u32 right after the format's first 36 bytes: make it unknown (the CRC
     * is fixed up, so only the field is wrong). */
    {
        FILE *f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        unsigned char *d = malloc((size_t)len);
        ck_assert_uint_eq(fread(d, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        ck_assert_uint_eq(d[36], MRNN_FRAME_OUTPUT_NADE);
        d[36] = 9;
        uint32_t crc = mrnn__crc32(0, d, (size_t)len - 4);
        for (int k = 0; k < 4; k++) d[len - 4 + k] = (unsigned char)(crc >> (8 * k));
        f = fopen(path, "wb");
        fwrite(d, 1, (size_t)len, f);
        fclose(f);
        free(d);
        ck_assert_int_eq(load_model(path), MRNN_ERR_FORMAT);
        ck_assert_msg(strstr(mrnn_last_error(), "frame_output") != NULL, "%s", mrnn_last_error());
    }

    mrnn_model_free(m);
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 6;
    mp.hidden_size = 10;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    ck_assert_int_eq(mrnn_model_save(m, path, 0), MRNN_OK);
    ck_assert_uint_eq(file_format(path), 2);
    ck_assert_int_eq(mrnn_model_load(&l, path), MRNN_OK);
    assert_same_model(m, l);
    mrnn_model_free(l);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
    test_rmdir(tmp);
}
END_TEST

START_TEST(training_state_travels)
{
    mrnn_model *m = styled_model(MRNN_ENCODING_PERFORMANCE);
    ck_assert_int_eq(mrnn__model_alloc_optimizer(m), MRNN_OK);
    for (size_t i = 0; i < m->n_params; i++) {
        m->adam_m[i] = (float)i * 1e-3f;
        m->adam_v[i] = (float)i * 1e-5f;
    }
    m->step = 1234;
    mrnn__rng_seed(&m->rng, 99);
    m->rng_seeded = 1;
    m->best_valid = 3.25;
    m->valids_since_best = 2;
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    mrnn_model *l = NULL;
    ck_assert_int_eq(mrnn_model_load(&l, path), MRNN_OK);
    assert_same_model(m, l);
    ck_assert_ptr_nonnull(l->adam_m);
    ck_assert_mem_eq(m->adam_m, l->adam_m, m->n_params * sizeof(float));
    ck_assert_mem_eq(m->adam_v, l->adam_v, m->n_params * sizeof(float));
    ck_assert_mem_eq(&m->rng, &l->rng, sizeof m->rng);
    ck_assert(l->best_valid == 3.25);
    ck_assert_uint_eq(l->valids_since_best, 2);
    mrnn_model_free(l);
    mrnn_model_free(m);
    test_rmdir(tmp);
}
END_TEST

START_TEST(corrupt_files_are_refused)
{
    mrnn_model *m = styled_model(MRNN_ENCODING_NOTECHORD);
    ck_assert_int_eq(mrnn__model_alloc_optimizer(m), MRNN_OK);
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    test_corruptions(path, load_model);
    /* A folder, not a file. */
    ck_assert_int_eq(load_model(tmp), MRNN_ERR_IO);
    mrnn_model_free(m);
    test_rmdir(tmp);
}
END_TEST

START_TEST(non_finite_weights_are_refused)
{
    mrnn_model *m = styled_model(MRNN_ENCODING_PERFORMANCE);
    m->weights[3] = INFINITY;
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    ck_assert_int_eq(mrnn_model_save(m, path, 0), MRNN_OK);
    ck_assert_int_eq(load_model(path), MRNN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), path));
    mrnn_model_free(m);
    test_rmdir(tmp);
}
END_TEST

/* Kill a child while it saves a large checkpoint over an existing one, many times: every time
 * the file on disk must be one complete checkpoint, the old or the new one. */
START_TEST(killed_during_save_leaves_a_loadable_file)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.hidden_size = 512; /* ~7 MB of weights + moments: saving takes a while */
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    mrnn_vocab_free(v);
    ck_assert_int_eq(mrnn__model_alloc_optimizer(m), MRNN_OK);
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/m.mrm", tmp);
    ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            m->step = (uint64_t)round + 1;
            for (;;) mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE);
        }
        usleep(2000 + 3000 * (useconds_t)round);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        mrnn_model *l = NULL;
        ck_assert_msg(mrnn_model_load(&l, path) == MRNN_OK, "round %d: %s", round, mrnn_last_error());
        ck_assert_uint_le(mrnn_model_steps_trained(l), (uint64_t)round + 1);
        mrnn_model_free(l);
    }
    mrnn_model_free(m);
    test_rmdir(tmp);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *t = tcase_create("checkpoint");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, round_trip_every_encoding);
    tcase_add_test(t, training_state_travels);
    tcase_add_test(t, nade_round_trip_and_formats);
    tcase_add_test(t, corrupt_files_are_refused);
    tcase_add_test(t, non_finite_weights_are_refused);
    tcase_add_test(t, killed_during_save_leaves_a_loadable_file);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
