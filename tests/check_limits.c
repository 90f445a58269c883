/* Every size limit of docs/LIMITS.md exists, is enforced with MRNN_ERR_LIMIT (or INVALID_ARG for a
 * parameter out of its documented range) and a message naming the limit, and is checked before the
 * memory or the reading it protects. (The MIDI structure caps, tracks, events and ticks, are tested
 * with the other hazards in check_midi.c.) */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <musicrnn/musicrnn.h>

#include "midi.h"
#include "model.h"
#include "vocab.h"
#include "test_main.h"
#include "test_util.h"

/* The two caps that need a million tokens or 4096 files take minutes under valgrind; the
 * ASan+UBSan run of this suite covers their memory safety, so valgrind skips them. */
#define SKIP_UNDER_VALGRIND()                                                                           \
    do {                                                                                                \
        if (getenv("MRNN_UNDER_VALGRIND")) {                                                            \
            fprintf(stderr, "%s: skipped under valgrind\n", __func__);                                   \
            return;                                                                                     \
        }                                                                                               \
    } while (0)

#define ASSERT_FAILS_WITH(call, code, text)                                                             \
    do {                                                                                                \
        mrnn_clear_error();                                                                             \
        ck_assert_int_eq((call), (code));                                                               \
        ck_assert_msg(strstr(mrnn_last_error(), (text)) != NULL, "message '%s' does not mention '%s'",  \
                      mrnn_last_error(), (text));                                                       \
    } while (0)

/* A sparse file of `size` bytes: the caps must refuse it from its size alone, without reading. */
static void sparse_file(const char *path, off_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    ck_assert_int_eq(close(fd), 0);
}

/* A valid two-note MIDI file of a known size. */
static size_t small_midi(const char *path)
{
    static const uint8_t midi[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, 'M', 'T', 'r', 'k', 0, 0, 0, 20,
                                   0, 0x90, 60, 64, 96, 0x80, 60, 0, 0, 0x90, 64, 64, 96, 0x80, 64, 0,
                                   0, 0xFF, 0x2F, 0};
    test_write(path, midi, sizeof midi);
    return sizeof midi;
}

START_TEST(midi_file_size_caps)
{
    char *dir = test_tmpdir();
    char path[4200], huge[4200];
    TEST_PATH(path, "%s/small.mid", dir);
    TEST_PATH(huge, "%s/huge.mid", dir);
    size_t size = small_midi(path);
    /* The per-corpus cap skips a larger file, named, with the limit. */
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.max_file_bytes = size - 1;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, &cp), MRNN_OK);
    ASSERT_FAILS_WITH(mrnn_corpus_add_file(c, path, NULL), MRNN_ERR_LIMIT, "small.mid");
    mrnn_file_report r;
    ck_assert_int_eq(mrnn_corpus_get_file_report(c, 0, &r), MRNN_OK);
    ck_assert_int_eq(r.status, MRNN_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(r.reason, "limit"));
    mrnn_corpus_free(c);
    cp.max_file_bytes = size; /* exactly at the cap is fine */
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, &cp), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_file(c, path, NULL), MRNN_OK);
    mrnn_corpus_free(c);
    /* The hard cap of 64 MiB: the per-corpus cap cannot exceed it, and the reader refuses a larger file. */
    cp.max_file_bytes = (uint64_t)MRNN__MIDI_MAX_BYTES + 1;
    ASSERT_FAILS_WITH(mrnn_corpus_create(&c, NULL, &cp), MRNN_ERR_INVALID_ARG, "max_file_bytes");
    ck_assert_ptr_null(c);
    sparse_file(huge, (off_t)MRNN__MIDI_MAX_BYTES + 1);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ASSERT_FAILS_WITH(mrnn__midi_read_file(huge, NULL, &p), MRNN_ERR_LIMIT, "huge.mid");
    mrnn__piece_free(&p);
    test_rmdir(dir);
}
END_TEST

START_TEST(corpus_and_model_file_size_caps)
{
    char *dir = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/huge.mrc", dir);
    sparse_file(path, ((off_t)16 << 30) + 1); /* 16 GiB + 1 */
    mrnn_corpus *c = NULL;
    ASSERT_FAILS_WITH(mrnn_corpus_load(&c, path), MRNN_ERR_LIMIT, "huge.mrc");
    ck_assert_ptr_null(c);
    TEST_PATH(path, "%s/huge.mrm", dir);
    sparse_file(path, ((off_t)32 << 30) + 1); /* 32 GiB + 1 */
    mrnn_model *m = NULL;
    ASSERT_FAILS_WITH(mrnn_model_load(&m, path), MRNN_ERR_LIMIT, "huge.mrm");
    ck_assert_ptr_null(m);
    test_rmdir(dir);
}
END_TEST

START_TEST(vocabulary_cap)
{
    SKIP_UNDER_VALGRIND();
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK); /* notechord: grows */
    char text[32];
    uint32_t id;
    while (mrnn_vocab_size(v) < MRNN__MAX_VOCAB) {
        snprintf(text, sizeof text, "t%u", mrnn_vocab_size(v));
        ck_assert_int_eq(mrnn__vocab_intern(v, text, &id, NULL), MRNN_OK);
    }
    ASSERT_FAILS_WITH(mrnn__vocab_intern(v, "one-too-many", &id, NULL), MRNN_ERR_LIMIT, "full");
    ck_assert_uint_eq(mrnn_vocab_size(v), MRNN__MAX_VOCAB);
    /* Known tokens are still found. */
    ck_assert_int_eq(mrnn__vocab_intern(v, "t7", &id, NULL), MRNN_OK);
    ck_assert_uint_eq(id, 7);
    mrnn_vocab_free(v);
    /* A token text longer than 4096 bytes is refused too. */
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK);
    char *long_text = malloc(5000);
    memset(long_text, 'C', 4999);
    long_text[4999] = '\0';
    ASSERT_FAILS_WITH(mrnn__vocab_intern(v, long_text, &id, NULL), MRNN_ERR_LIMIT, "longer than");
    free(long_text);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(model_dimension_caps)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params p;
    mrnn_model *m = NULL;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.embed_size = MRNN__MAX_EMBED + 1;
    ASSERT_FAILS_WITH(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG, "embed_size");
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.hidden_size = MRNN__MAX_HIDDEN + 1;
    ASSERT_FAILS_WITH(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG, "hidden_size");
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.num_layers = 9;
    ASSERT_FAILS_WITH(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG, "num_layers");
    /* Within every per-field cap but over 2^31 parameters: refused before any allocation. */
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.embed_size = MRNN__MAX_EMBED;
    p.hidden_size = MRNN__MAX_HIDDEN;
    p.num_layers = 5;
    ASSERT_FAILS_WITH(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_LIMIT, "parameters");
    ck_assert_ptr_null(m);
    /* Style labels: 4096 at most. */
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.embed_size = 2;
    p.hidden_size = 2;
    p.num_layers = 1;
    const char **styles = malloc(4097 * sizeof *styles);
    for (int i = 0; i < 4097; i++) styles[i] = "s";
    ASSERT_FAILS_WITH(mrnn_model_create(&m, v, styles, 4097, &p), MRNN_ERR_LIMIT, "4096");
    free(styles);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(corpus_style_cap)
{
    SKIP_UNDER_VALGRIND();
    char *dir = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/s.mid", dir);
    small_midi(path);
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, NULL), MRNN_OK);
    char style[32];
    for (int i = 0; i < 4096; i++) {
        snprintf(style, sizeof style, "style-%d", i);
        ck_assert_int_eq(mrnn_corpus_add_file(c, path, style), MRNN_OK);
    }
    ASSERT_FAILS_WITH(mrnn_corpus_add_file(c, path, "one-too-many"), MRNN_ERR_LIMIT, "4096");
    ck_assert_int_eq(mrnn_corpus_add_file(c, path, "style-7"), MRNN_OK); /* a known label still works */
    ck_assert_uint_eq(mrnn_corpus_style_count(c), 4096);
    mrnn_corpus_free(c);
    test_rmdir(dir);
}
END_TEST

START_TEST(sampler_caps)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 2;
    mp.hidden_size = 2;
    mp.num_layers = 1;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    mrnn_sampler_params sp;
    mrnn_sampler *s = NULL;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = 257;
    ASSERT_FAILS_WITH(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG, "n_lanes");
    sp.n_lanes = 256; /* at the cap */
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    mrnn_sampler_free(s);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.beam_width = 65;
    ASSERT_FAILS_WITH(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG, "beam_width");
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.repetition_window = 257;
    ASSERT_FAILS_WITH(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG, "repetition_window");
    ck_assert_ptr_null(s);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *t = tcase_create("limits");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, midi_file_size_caps);
    tcase_add_test(t, corpus_and_model_file_size_caps);
    tcase_add_test(t, vocabulary_cap);
    tcase_add_test(t, model_dimension_caps);
    tcase_add_test(t, corpus_style_cap);
    tcase_add_test(t, sampler_caps);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
