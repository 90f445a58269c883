/* File-format compatibility: files written by earlier versions (kept in tests/data/format-N/) must
 * load in every later version with the same contents, whole and, for corpora, mapped. A change to a
 * reader that breaks old files fails here; a deliberate format change must bump the format number
 * and keep reading the old ones (docs/FILE-FORMATS.md).
 *
 * format-1/, from libmusicrnn 0.1, was made by
 *   musicrnn preprocess --encoding notechord --valid-fraction 0.3 -o notechord.mrc <4 small MIDI files>
 *   musicrnn train notechord.mrc -o notechord.mrm --hidden 4 --embed 3 --layers 2 --steps 3 ...
 * and mrnn_vocab_save() of the corpus vocabulary. format-2/multitrack.mrc, the last corpus format
 * with the metadata before the tokens, was made by `musicrnn preprocess --encoding multitrack
 * --valid-fraction 0.3` of three short pieces the format-1 model generated. */
#include <stdio.h>
#include <string.h>

#include <musicrnn/musicrnn.h>

#include "test_main.h"
#include "test_util.h"

static void format_path(char *buf, size_t cap, int format, const char *name)
{
    ck_assert_int_lt(snprintf(buf, cap, "%s/format-%d/%s", mrnn_test_data(), format, name), (int)cap);
}

/* mrnn_corpus_load, then mrnn_corpus_map: the checks run on both. */
static mrnn_corpus *open_corpus(const char *path, int mapped)
{
    mrnn_corpus *c = NULL;
    mrnn_status st = mapped ? mrnn_corpus_map(&c, path) : mrnn_corpus_load(&c, path);
    ck_assert_msg(st == MRNN_OK, "%s", mrnn_last_error());
    return c;
}

/* The first `n` tokens of piece i as text. */
static void piece_start(const mrnn_corpus *c, uint32_t i, size_t n, char *text, size_t cap, size_t *len)
{
    const uint32_t *ids;
    ck_assert_int_eq(mrnn_corpus_piece_tokens(c, i, &ids, len, NULL, NULL), MRNN_OK);
    ck_assert_uint_ge(*len, n);
    ck_assert_int_eq(mrnn_vocab_format(mrnn_corpus_vocab(c), ids, n, text, cap, NULL), MRNN_OK);
}

/* The pieces of the corpus as text, as they were when the file was written. */
static const char *const pieces[4] = {
    "C4:q W:q D4:q",
    "A3:q W:q B3:q W:q C4:q A2:w W:w W:w W:w W:w",
    "C5:q. W:q. A0:s W:s C8:s",
    "C4:q C3.E3.G3:h W:q D4:q W:q E4:q D3.F3.A3:h W:q F4:q W:q G4:q",
};

static void check_vocab(const mrnn_vocab *v)
{
    ck_assert_uint_eq(mrnn_vocab_size(v), 18);
    ck_assert_str_eq(mrnn_vocab_token_text(v, 0), "<unk>");
    ck_assert_str_eq(mrnn_vocab_token_text(v, 1), "W:q");
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(v, &enc), MRNN_OK);
    ck_assert_uint_eq(enc.encoding, MRNN_ENCODING_NOTECHORD);
    ck_assert_uint_eq(enc.steps_per_quarter, 4);
}

START_TEST(corpus_format_1_loads)
{
    char path[4200];
    format_path(path, sizeof path, 1, "notechord.mrc");
    mrnn_corpus *c = open_corpus(path, _i);
    check_vocab(mrnn_corpus_vocab(c));
    mrnn_corpus_stats s;
    ck_assert_int_eq(mrnn_corpus_get_stats(c, &s), MRNN_OK);
    ck_assert_uint_eq(s.n_files, 4);
    ck_assert_uint_eq(s.n_skipped, 0);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_TRAIN], 4);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_TRAIN], 29);
    ck_assert_uint_eq(s.n_notes, 20);
    for (uint32_t i = 0; i < 4; i++) {
        const uint32_t *ids;
        size_t n;
        char text[1000];
        ck_assert_int_eq(mrnn_corpus_piece_tokens(c, i, &ids, &n, NULL, NULL), MRNN_OK);
        ck_assert_int_eq(mrnn_vocab_format(mrnn_corpus_vocab(c), ids, n, text, sizeof text, NULL), MRNN_OK);
        ck_assert_str_eq(text, pieces[i]);
    }
    mrnn_file_report r;
    ck_assert_int_eq(mrnn_corpus_get_file_report(c, 3, &r), MRNN_OK);
    ck_assert_ptr_nonnull(strstr(r.path, "type1-tempo-chords.mid"));
    ck_assert_uint_eq(r.n_notes, 11);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(corpus_format_2_loads)
{
    static const char *const starts[3] = {
        "PROGRAM_piano NOTE_48 DUR_8 NOTE_50 DUR_8 NOTE_52 DUR_8 NOTE_53 DUR_8 NOTE_55 DUR_8 NOTE_57",
        "TIME_SHIFT_16 PROGRAM_piano NOTE_45 DUR_16 NOTE_50 DUR_8 NOTE_53 DUR_8 NOTE_57 DUR_8 NOTE_62 DUR_4",
        "PROGRAM_piano NOTE_50 DUR_7 NOTE_53 DUR_7 NOTE_57 DUR_7 NOTE_59 DUR_4 NOTE_62 DUR_1 NOTE_64",
    };
    static const size_t lengths[3] = {56, 42, 46};
    char path[4200];
    format_path(path, sizeof path, 2, "multitrack.mrc");
    mrnn_corpus *c = open_corpus(path, _i);
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(mrnn_corpus_vocab(c), &enc), MRNN_OK);
    ck_assert_uint_eq(enc.encoding, MRNN_ENCODING_MULTITRACK);
    mrnn_corpus_stats s;
    ck_assert_int_eq(mrnn_corpus_get_stats(c, &s), MRNN_OK);
    ck_assert_uint_eq(s.n_files, 3);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_TRAIN], 2);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_TRAIN], 98);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_VALID], 1);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_VALID], 46);
    ck_assert_uint_eq(s.n_notes, 61);
    ck_assert_uint_eq(mrnn_corpus_piece_count(c), 3);
    for (uint32_t i = 0; i < 3; i++) {
        char text[2000];
        size_t n;
        piece_start(c, i, 12, text, sizeof text, &n);
        ck_assert_uint_eq(n, lengths[i]);
        ck_assert_str_eq(text, starts[i]);
    }
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(model_format_1_loads_and_generates)
{
    char path[4200];
    format_path(path, sizeof path, 1, "notechord.mrm");
    mrnn_model *m = NULL;
    ck_assert_msg(mrnn_model_load(&m, path) == MRNN_OK, "%s", mrnn_last_error());
    check_vocab(mrnn_model_vocab(m));
    mrnn_model_params p;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    ck_assert_int_eq(mrnn_model_get_params(m, &p), MRNN_OK);
    ck_assert_uint_eq(p.embed_size, 3);
    ck_assert_uint_eq(p.hidden_size, 4);
    ck_assert_uint_eq(p.num_layers, 2);
    ck_assert_uint_eq(mrnn_model_param_count(m), 416);
    ck_assert_uint_eq(mrnn_model_steps_trained(m), 3);
    /* The loaded model is usable: it continues a seed. */
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "C4:q W:q"), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 8, 0, NULL, NULL), MRNN_OK);
    const uint32_t *ids;
    size_t n;
    ck_assert_int_eq(mrnn_sampler_tokens(s, 0, &ids, &n), MRNN_OK);
    ck_assert_uint_eq(n, 10);
    mrnn_sampler_free(s);
    mrnn_model_free(m);
}
END_TEST

START_TEST(vocab_format_1_loads)
{
    char path[4200];
    format_path(path, sizeof path, 1, "notechord.mrv");
    mrnn_vocab *v = NULL;
    ck_assert_msg(mrnn_vocab_load(&v, path) == MRNN_OK, "%s", mrnn_last_error());
    check_vocab(v);
    uint32_t id;
    ck_assert_int_eq(mrnn_vocab_token_id(v, "C3.E3.G3:h", &id), MRNN_OK);
    mrnn_vocab_free(v);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("formats");
    TCase *t = tcase_create("formats");
    tcase_add_loop_test(t, corpus_format_1_loads, 0, 2); /* loaded, then mapped */
    tcase_add_loop_test(t, corpus_format_2_loads, 0, 2);
    tcase_add_test(t, model_format_1_loads_and_generates);
    tcase_add_test(t, vocab_format_1_loads);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
