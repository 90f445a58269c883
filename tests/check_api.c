/* The public API through the shared library only: versions, status strings, per-thread errors,
 * and misuse of every public function (NULL handles, wrong params versions, calls in the wrong
 * order) giving an error with a message, never a crash. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <musicrnn/musicrnn.h>

#include "test_main.h"
#include "test_util.h"

#define ASSERT_FAILS(call, code)                                                                        \
    do {                                                                                                \
        mrnn_clear_error();                                                                             \
        ck_assert_int_eq((call), (code));                                                               \
        ck_assert_msg(mrnn_last_error()[0] != '\0', "no error message for %s", #call);                  \
    } while (0)

START_TEST(test_version)
{
    ck_assert_uint_eq(mrnn_version_number(), MRNN_VERSION_NUMBER);
    ck_assert_str_eq(mrnn_version_string(), MRNN_VERSION_STRING);
    ck_assert_uint_eq(MRNN_VERSION_NUMBER, MRNN_VERSION_MAJOR * 10000 + MRNN_VERSION_MINOR * 100 + MRNN_VERSION_PATCH);
}
END_TEST

START_TEST(test_status_strings)
{
    for (int s = 0; s >= -13; s--) {
        const char *text = mrnn_status_string((mrnn_status)s);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_ne(text, "unknown status");
    }
    ck_assert_str_eq(mrnn_status_string((mrnn_status)-999), "unknown status");
    ck_assert_str_eq(mrnn_status_string((mrnn_status)5), "unknown status");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    mrnn_vocab *v;
    mrnn_vocab_load(&v, "/nonexistent/thread-b.mrv");
    return strstr(mrnn_last_error(), "thread-b") ? (void *)1 : NULL;
}

START_TEST(test_last_error_is_per_thread)
{
    mrnn_vocab *v;
    ck_assert_int_eq(mrnn_vocab_load(&v, "/nonexistent/thread-a.mrv"), MRNN_ERR_IO);
    pthread_t t;
    void *ok = NULL;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &ok), 0);
    ck_assert_ptr_nonnull(ok);
    ck_assert(strstr(mrnn_last_error(), "thread-a") != NULL);
}
END_TEST

/* Corpus params version 2 appended threads and the progress callback: a version-1 struct (ending
 * after max_file_bytes) is neither overrun by init nor read past its end by create. */
START_TEST(test_corpus_params_version_1_still_works)
{
    const size_t v1_size = offsetof(mrnn_corpus_params, max_file_bytes) + sizeof(uint64_t);
    union {
        mrnn_corpus_params p;
        unsigned char bytes[sizeof(mrnn_corpus_params)];
    } u;
    memset(u.bytes, 0xA5, sizeof u.bytes);
    ck_assert_int_eq(mrnn_corpus_params_init(&u.p, 1), MRNN_OK);
    ck_assert_uint_eq(u.p.version, 1);
    ck_assert_uint_eq(u.p.max_file_bytes, 16u << 20);
    for (size_t i = v1_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
    /* The garbage after the v1 fields would be a thread count of 0xA5A5A5A5 (refused) and a wild
     * callback pointer: neither may be read. */
    mrnn_corpus *c = NULL;
    ck_assert_msg(mrnn_corpus_create(&c, NULL, &u.p) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_corpus_add_dir(c, getenv("MRNN_TEST_DATA")), MRNN_OK);
    mrnn_corpus_free(c);
    mrnn_corpus_params cp;
    ck_assert_int_eq(mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(cp.threads, 1);
    ck_assert(cp.progress == NULL);
    cp.version = 4;
    ASSERT_FAILS(mrnn_corpus_create(&c, NULL, &cp), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(c);
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.threads = 257;
    ASSERT_FAILS(mrnn_corpus_create(&c, NULL, &cp), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "threads") != NULL);
}
END_TEST

/* Fill the struct at p (of sizeof(mrnn_train_params) bytes) as a program built against `version`
 * would: init must write nothing past that version's `size` bytes (0xA5 beyond). */
static void init_old_train_params(mrnn_train_params *p, uint32_t version, size_t size)
{
    ck_assert_uint_lt(size, sizeof *p);
    memset(p, 0xA5, sizeof *p);
    ck_assert_int_eq(mrnn_train_params_init(p, version), MRNN_OK);
    ck_assert_uint_eq(p->version, version);
    for (size_t i = size; i < sizeof *p; i++) ck_assert_uint_eq(((const unsigned char *)p)[i], 0xA5);
}

/* Training with the old struct reads nothing past its end: it trains two more steps. The same
 * bytes labelled as the next version are refused, naming the first field that version appended. */
static void train_then_refuse_as_next(mrnn_model *m, mrnn_corpus *c, mrnn_train_params *p, const char *next_field)
{
    const uint64_t before = mrnn_model_steps_trained(m);
    p->max_steps = before + 2;
    p->seq_len = 8;
    p->batch_size = 2;
    p->valid_every = 0;
    ck_assert_msg(mrnn_model_train(m, c, p, NULL, NULL) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_uint_eq(mrnn_model_steps_trained(m), before + 2);
    p->version++;
    ASSERT_FAILS(mrnn_model_train(m, c, p, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(mrnn_last_error(), next_field) != NULL, "%s", mrnn_last_error());
}

/* Train params version 2 appended input_dropout, version 3 the data-parallel fields, version 5
 * the overlap and version 6 weight_dropout: structs of versions 1, 3, 4 and 5 are neither overrun by init nor read past their end
 * by training. */
START_TEST(test_train_params_version_1_still_works)
{
    const size_t v1_size = offsetof(mrnn_train_params, log_path) + sizeof(const char *);
    union {
        mrnn_train_params p;
        unsigned char bytes[sizeof(mrnn_train_params)];
    } u;
    memset(u.bytes, 0xA5, sizeof u.bytes);
    ck_assert_int_eq(mrnn_train_params_init(&u.p, 1), MRNN_OK);
    ck_assert_uint_eq(u.p.version, 1);
    for (size_t i = v1_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
    u.p.max_steps = 2;
    u.p.seq_len = 8;
    u.p.batch_size = 2;
    u.p.valid_every = 0;
    /* The garbage after the v1 fields would be an input dropout of NaN, a wild callback and rank
     * 0xA5A5A5A5 of as many. */
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = 0;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_dir(c, getenv("MRNN_DEFAULT_CORPUS")), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 8;
    mp.hidden_size = 8;
    mp.num_layers = 1;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    ck_assert_msg(mrnn_model_train(m, c, &u.p, NULL, NULL) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_uint_eq(mrnn_model_steps_trained(m), 2);
    mrnn_train_params tp;
    ck_assert_int_eq(mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(tp.n_ranks, 1);
    ck_assert_uint_eq(tp.rank, 0);
    ck_assert(tp.allreduce == NULL);
    tp.version = 7;
    ASSERT_FAILS(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    /* Version 3 ends after n_ranks: the garbage after it (a weight average and a recurrent
     * dropout of -2.9e-16, which version 4 refuses) is neither written by init nor read by
     * training. */
    init_old_train_params(&u.p, 3, offsetof(mrnn_train_params, n_ranks) + sizeof(uint32_t));
    ck_assert_uint_eq(u.p.n_ranks, 1);
    train_then_refuse_as_next(m, c, &u.p, "weight_average");
    ck_assert(tp.recurrent_dropout == 0.0f && tp.weight_average == 0.0f);
    /* Version 4 ends after recurrent_dropout: the bytes after it would be an overlap flag of
     * 0xA5A5A5A5, which training refuses. */
    init_old_train_params(&u.p, 4, offsetof(mrnn_train_params, recurrent_dropout) + sizeof(float));
    ck_assert(u.p.recurrent_dropout == 0.0f && u.p.weight_average == 0.0f);
    train_then_refuse_as_next(m, c, &u.p, "allreduce_overlap");
    /* Version 5 ends after allreduce_segment_min: the bytes after it would be a weight_dropout of
     * -2.9e-16. */
    init_old_train_params(&u.p, 5, offsetof(mrnn_train_params, allreduce_segment_min) + sizeof(uint32_t));
    ck_assert(u.p.allreduce_overlap == 0 && u.p.allreduce_segment_min == MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT);
    train_then_refuse_as_next(m, c, &u.p, "weight_dropout");
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(test_params_init_rejects_bad_version)
{
    mrnn_encoding_params e;
    mrnn_corpus_params c;
    mrnn_model_params m;
    mrnn_train_params t;
    ASSERT_FAILS(mrnn_encoding_params_init(&e, 999), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_params_init(&c, 0), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_params_init(&c, 4), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_params_init(&m, 3), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_train_params_init(&t, 8), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_train_params_init(&t, 7), MRNN_ERR_INVALID_ARG);
    /* Version 1 of the train params ends after log_path: init writes nothing past it. */
    {
        const size_t v1_size = offsetof(mrnn_train_params, log_path) + sizeof(const char *);
        union {
            mrnn_train_params p;
            unsigned char bytes[sizeof(mrnn_train_params)];
        } u;
        memset(u.bytes, 0xA5, sizeof u.bytes);
        ck_assert_int_eq(mrnn_train_params_init(&u.p, 1), MRNN_OK);
        ck_assert_uint_eq(u.p.version, 1);
        ck_assert_uint_eq(u.p.seq_len, 64);
        for (size_t i = v1_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
        /* Version 2 ends after input_dropout: init(2) leaves the data-parallel fields alone. */
        const size_t v2_size = offsetof(mrnn_train_params, input_dropout) + sizeof(float);
        memset(u.bytes, 0xA5, sizeof u.bytes);
        ck_assert_int_eq(mrnn_train_params_init(&u.p, 2), MRNN_OK);
        ck_assert_uint_eq(u.p.version, 2);
        ck_assert(u.p.input_dropout == 0.0f);
        for (size_t i = v2_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
        ck_assert_int_eq(mrnn_train_params_init(&t, MRNN_TRAIN_PARAMS_VERSION), MRNN_OK);
        ck_assert(t.input_dropout == 0.0f);
    }
    ASSERT_FAILS(mrnn_encoding_params_init(NULL, MRNN_ENCODING_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_params_init(NULL, MRNN_CORPUS_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_params_init(NULL, MRNN_MODEL_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_train_params_init(NULL, MRNN_TRAIN_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    /* A struct whose version was never set is refused by the functions that take it. */
    memset(&e, 0, sizeof e);
    mrnn_vocab *v = (mrnn_vocab *)1;
    ASSERT_FAILS(mrnn_vocab_create(&v, &e), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(v);
    memset(&c, 0, sizeof c);
    mrnn_corpus *corpus = (mrnn_corpus *)1;
    ASSERT_FAILS(mrnn_corpus_create(&corpus, NULL, &c), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(corpus);
}
END_TEST

START_TEST(test_defaults_are_documented_values)
{
    mrnn_encoding_params e;
    ck_assert_int_eq(mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(e.encoding, MRNN_ENCODING_NOTECHORD);
    ck_assert_uint_eq(e.steps_per_quarter, 4);
    mrnn_train_params t;
    ck_assert_int_eq(mrnn_train_params_init(&t, MRNN_TRAIN_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(t.seq_len, 64);
    ck_assert_uint_eq(t.batch_size, 32);
    mrnn_model_params m;
    ck_assert_int_eq(mrnn_model_params_init(&m, MRNN_MODEL_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(m.num_layers, 2);
}
END_TEST

START_TEST(test_null_handles_vocab)
{
    uint32_t id;
    size_t n;
    char buf[8];
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_vocab_free(NULL);
    ck_assert_uint_eq(mrnn_vocab_size(NULL), 0);
    ck_assert_ptr_null(mrnn_vocab_token_text(NULL, 0));
    ASSERT_FAILS(mrnn_vocab_create(NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_get_encoding_params(NULL, &e), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_encoding_params(NULL, &e), MRNN_ERR_INVALID_ARG); /* the 0.1 name */
    ASSERT_FAILS(mrnn_vocab_token_id(NULL, "C4:q", &id), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_parse(NULL, "C4:q", &id, 1, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_format(NULL, &id, 1, buf, sizeof buf, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_save(NULL, "/tmp/x.mrv"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_load(NULL, "/tmp/x.mrv"), MRNN_ERR_INVALID_ARG);
    mrnn_vocab *v;
    ASSERT_FAILS(mrnn_vocab_load(&v, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK);
    ASSERT_FAILS(mrnn_vocab_token_id(v, NULL, &id), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_token_id(v, "C4:q", NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_parse(v, NULL, &id, 1, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_get_encoding_params(v, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_vocab_encoding_params(v, NULL), MRNN_ERR_INVALID_ARG);
    /* the 0.1 name is the same call */
    mrnn_encoding_params e2;
    mrnn_encoding_params_init(&e2, MRNN_ENCODING_PARAMS_VERSION);
    e2.steps_per_quarter = 99;
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(v, &e), MRNN_OK);
    ck_assert_int_eq(mrnn_vocab_encoding_params(v, &e2), MRNN_OK);
    ck_assert_mem_eq(&e, &e2, sizeof e);
    ASSERT_FAILS(mrnn_vocab_save(v, NULL), MRNN_ERR_INVALID_ARG);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_null_handles_corpus)
{
    mrnn_corpus_stats s;
    mrnn_file_report r;
    const uint32_t *ids;
    size_t n;
    mrnn_corpus_free(NULL);
    ASSERT_FAILS(mrnn_corpus_create(NULL, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_create_with_vocab(NULL, NULL, NULL), MRNN_ERR_INVALID_ARG);
    mrnn_corpus *c = (mrnn_corpus *)1;
    ASSERT_FAILS(mrnn_corpus_create_with_vocab(&c, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(c);
    ASSERT_FAILS(mrnn_corpus_add_file(NULL, "x.mid", NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_add_dir(NULL, "."), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_finish(NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(mrnn_corpus_vocab(NULL));
    ASSERT_FAILS(mrnn_corpus_get_stats(NULL, &s), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_stats_get(NULL, &s), MRNN_ERR_INVALID_ARG); /* the 0.1 name */
    ck_assert_uint_eq(mrnn_corpus_file_count(NULL), 0);
    ASSERT_FAILS(mrnn_corpus_get_file_report(NULL, 0, &r), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_file_report(NULL, 0, &r), MRNN_ERR_INVALID_ARG); /* the 0.1 name */
    ck_assert_uint_eq(mrnn_corpus_piece_count(NULL), 0);
    ASSERT_FAILS(mrnn_corpus_piece_tokens(NULL, 0, &ids, &n, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(mrnn_corpus_style_count(NULL), 0);
    ck_assert_ptr_null(mrnn_corpus_style_name(NULL, 0));
    ASSERT_FAILS(mrnn_corpus_save(NULL, "/tmp/x.mrc"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_load(NULL, "/tmp/x.mrc"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_load(&c, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_map(NULL, "/tmp/x.mrc"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_map(&c, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_map(&c, "/nonexistent/x.mrc"), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/x.mrc") != NULL);
    ck_assert_ptr_null(c);
    ASSERT_FAILS(mrnn_tokens_write_midi(NULL, NULL, 0, "/tmp/x.mid", 120, 0), MRNN_ERR_INVALID_ARG);

    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, NULL), MRNN_OK);
    ASSERT_FAILS(mrnn_corpus_add_file(c, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_add_dir(c, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_add_dir(c, "/nonexistent/folder"), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/folder") != NULL);
    ASSERT_FAILS(mrnn_corpus_get_stats(c, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_stats_get(c, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_get_file_report(c, 0, &r), MRNN_ERR_INVALID_ARG); /* no file yet */
    ASSERT_FAILS(mrnn_corpus_file_report(c, 0, &r), MRNN_ERR_INVALID_ARG);
    mrnn_instrument_report ir;
    ASSERT_FAILS(mrnn_instrument_report_init(NULL, MRNN_INSTRUMENT_REPORT_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_instrument_report_init(&ir, 0), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_instrument_report_init(&ir, MRNN_INSTRUMENT_REPORT_VERSION), MRNN_OK);
    ASSERT_FAILS(mrnn_corpus_get_file_instruments(NULL, 0, &ir), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_get_file_instruments(c, 0, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_get_file_instruments(c, 0, &ir), MRNN_ERR_INVALID_ARG); /* no file yet */
    uint32_t mask[MRNN_INSTRUMENT_MASK_WORDS];
    ASSERT_FAILS(mrnn_instrument_parse(NULL, mask), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_instrument_parse("bass", NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_instrument_parse("bass,nothing", mask), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert_ptr_null(mrnn_instrument_name(MRNN_INSTRUMENT_COUNT));
    mrnn_music_instruments mi;
    ASSERT_FAILS(mrnn_music_instruments_init(NULL, MRNN_MUSIC_INSTRUMENTS_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_instruments_init(&mi, 7), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_instruments_init(&mi, MRNN_MUSIC_INSTRUMENTS_VERSION), MRNN_OK);
    ASSERT_FAILS(mrnn_music_instruments_compute(NULL, 0, &mi), MRNN_ERR_EMPTY);
    ASSERT_FAILS(mrnn_music_instruments_compute(NULL, 1, &mi), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_instruments_compute(NULL, 1, NULL), MRNN_ERR_INVALID_ARG);
    const char *missing[] = {"/nonexistent/x.mid"};
    ASSERT_FAILS(mrnn_music_instruments_compute(missing, 1, &mi), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/x.mid") != NULL);
    ASSERT_FAILS(mrnn_corpus_piece_tokens(c, 0, &ids, &n, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_piece_tokens(c, 0, NULL, NULL, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_corpus_save(c, NULL), MRNN_ERR_INVALID_ARG);
    /* Wrong order: no files after finish. */
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    ASSERT_FAILS(mrnn_corpus_add_file(c, "x.mid", NULL), MRNN_ERR_STATE);
    ASSERT_FAILS(mrnn_corpus_add_dir(c, "."), MRNN_ERR_STATE);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(test_null_handles_model)
{
    mrnn_model_params p;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    mrnn_eval_result r;
    mrnn_model_free(NULL);
    ASSERT_FAILS(mrnn_model_create(NULL, NULL, NULL, 0, NULL), MRNN_ERR_INVALID_ARG);
    mrnn_model *m = (mrnn_model *)1;
    ASSERT_FAILS(mrnn_model_create(&m, NULL, NULL, 0, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(mrnn_model_vocab(NULL));
    ASSERT_FAILS(mrnn_model_get_params(NULL, &p), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(mrnn_model_param_count(NULL), 0);
    ck_assert_uint_eq(mrnn_model_steps_trained(NULL), 0);
    ck_assert_uint_eq(mrnn_model_style_count(NULL), 0);
    ck_assert_ptr_null(mrnn_model_style_name(NULL, 0));
    ASSERT_FAILS(mrnn_model_train(NULL, NULL, NULL, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_evaluate(NULL, NULL, 0, &r), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_save(NULL, "/tmp/x.mrm", 0), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_load(NULL, "/tmp/x.mrm"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_load(&m, NULL), MRNN_ERR_INVALID_ARG);

    /* Out-of-range shapes name the field. */
    mrnn_vocab *v;
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK);
    p.num_layers = 0;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "num_layers") != NULL);
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.dropout = 1.5f;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "dropout") != NULL);
    p.dropout = NAN;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.hidden_size = 8192;
    p.embed_size = 8192;
    p.num_layers = 8;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_LIMIT);
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 2, NULL), MRNN_ERR_INVALID_ARG); /* styles NULL but count 2 */
    /* The NADE frame output: only for pianoroll (v is notechord), and with a sane size. */
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    ck_assert_uint_eq(p.frame_output, MRNN_FRAME_OUTPUT_INDEPENDENT);
    ck_assert_uint_eq(p.nade_hidden, 150);
    p.frame_output = MRNN_FRAME_OUTPUT_NADE;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "pianoroll") != NULL);
    p.frame_output = 2;
    ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "frame_output") != NULL);
    {
        mrnn_encoding_params re;
        mrnn_encoding_params_init(&re, MRNN_ENCODING_PARAMS_VERSION);
        re.encoding = MRNN_ENCODING_PIANOROLL;
        mrnn_vocab *rv = NULL;
        ck_assert_int_eq(mrnn_vocab_create(&rv, &re), MRNN_OK);
        mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
        p.embed_size = 4;
        p.hidden_size = 8;
        p.frame_output = MRNN_FRAME_OUTPUT_NADE;
        p.nade_hidden = 0;
        ASSERT_FAILS(mrnn_model_create(&m, rv, NULL, 0, &p), MRNN_ERR_INVALID_ARG);
        ck_assert(strstr(mrnn_last_error(), "nade_hidden") != NULL);
        p.nade_hidden = 6;
        ck_assert_int_eq(mrnn_model_create(&m, rv, NULL, 0, &p), MRNN_OK);
        mrnn_model_params got;
        mrnn_model_params_init(&got, MRNN_MODEL_PARAMS_VERSION);
        ck_assert_int_eq(mrnn_model_get_params(m, &got), MRNN_OK);
        ck_assert_uint_eq(got.frame_output, MRNN_FRAME_OUTPUT_NADE);
        ck_assert_uint_eq(got.nade_hidden, 6);
        mrnn_model_free(m);
        mrnn_vocab_free(rv);
    }

    /* A program built against the version-1 header passes a struct that ends after init_seed:
     * init and get_params must not write past it, create must not read past it (the bytes after
     * it are garbage here, which as a frame_output would be refused). */
    {
        const size_t v1_size = offsetof(mrnn_model_params, init_seed) + sizeof(uint64_t);
        union {
            mrnn_model_params p;
            unsigned char bytes[sizeof(mrnn_model_params)];
        } u;
        memset(u.bytes, 0xA5, sizeof u.bytes);
        ck_assert_int_eq(mrnn_model_params_init(&u.p, 1), MRNN_OK);
        ck_assert_uint_eq(u.p.version, 1);
        ck_assert_uint_eq(u.p.num_layers, 2);
        for (size_t i = v1_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
        u.p.embed_size = 4;
        u.p.hidden_size = 8;
        ck_assert_msg(mrnn_model_create(&m, v, NULL, 0, &u.p) == MRNN_OK, "%s", mrnn_last_error());
        memset(u.bytes, 0xA5, sizeof u.bytes);
        u.p.version = 1;
        ck_assert_int_eq(mrnn_model_get_params(m, &u.p), MRNN_OK);
        ck_assert_uint_eq(u.p.version, 1);
        ck_assert_uint_eq(u.p.hidden_size, 8);
        for (size_t i = v1_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
        mrnn_model_free(m);
        u.p.version = 9;
        ASSERT_FAILS(mrnn_model_create(&m, v, NULL, 0, &u.p), MRNN_ERR_INVALID_ARG);
    }

    /* Training or evaluating on an unfinished corpus is a state error; bad train params are named. */
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.hidden_size = 8;
    p.embed_size = 4;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &p), MRNN_OK);
    mrnn_corpus *c;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, NULL), MRNN_OK);
    ASSERT_FAILS(mrnn_model_train(m, c, NULL, NULL, NULL), MRNN_ERR_STATE);
    ASSERT_FAILS(mrnn_model_evaluate(m, c, MRNN_SPLIT_VALID, &r), MRNN_ERR_STATE);
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    ASSERT_FAILS(mrnn_model_evaluate(m, c, 7, &r), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_evaluate(m, c, MRNN_SPLIT_VALID, NULL), MRNN_ERR_INVALID_ARG);
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 0;
    ASSERT_FAILS(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "seq_len") != NULL);
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.learning_rate = -1;
    ASSERT_FAILS(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "learning_rate") != NULL);
    /* An empty (finished) corpus has nothing to learn from. */
    ASSERT_FAILS(mrnn_model_train(m, c, NULL, NULL, NULL), MRNN_ERR_EMPTY);
    ASSERT_FAILS(mrnn_model_save(m, "/tmp/x.mrm", 0x80), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_model_save(m, NULL, 0), MRNN_ERR_INVALID_ARG);
    mrnn_model_params q;
    memset(&q, 0, sizeof q);
    ASSERT_FAILS(mrnn_model_get_params(m, &q), MRNN_ERR_INVALID_ARG);
    mrnn_corpus_free(c);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_null_handles_sampler)
{
    mrnn_sampler_params sp;
    ck_assert_int_eq(mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION), MRNN_OK);
    ASSERT_FAILS(mrnn_sampler_params_init(&sp, 99), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_params_init(NULL, MRNN_SAMPLER_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_free(NULL);
    mrnn_sampler *s = (mrnn_sampler *)1;
    ASSERT_FAILS(mrnn_sampler_create(NULL, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_create(&s, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(s);
    const uint32_t *ids;
    size_t n;
    float probs[4];
    double ll;
    uint32_t id = 0;
    ASSERT_FAILS(mrnn_sampler_reset(NULL, 1), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_prime_tokens(NULL, &id, 1), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_prime_text(NULL, "C4:q"), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_prime_midi(NULL, "x.mid", 0, 0), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_generate(NULL, 10, 0, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(mrnn_sampler_lane_count(NULL), 0);
    ASSERT_FAILS(mrnn_sampler_tokens(NULL, 0, &ids, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_distribution(NULL, 0, probs, 4), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_log_likelihood(NULL, 0, &ll), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_write_midi(NULL, 0, "/tmp/x.mid", 120, 0), MRNN_ERR_INVALID_ARG);

    /* A real sampler on a tiny untrained model: out-of-range options and wrong calls. */
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.hidden_size = 8;
    mp.embed_size = 4;
    mrnn_model *m;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    sp.temperature = -1;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "temperature") != NULL);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.top_p = 0;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.style = 0; /* the model has no style labels */
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.min_pitch = 70;
    sp.max_pitch = 60;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = 0;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.version = 7;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.weight_format = 2;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "weight_format") != NULL);

    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.threads = 257;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "threads") != NULL);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    ck_assert_uint_eq(sp.threads, 0);
    sp.threads = 256; /* more than the cores: capped, not refused */
    ck_assert_msg(mrnn_sampler_create(&s, m, &sp) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_sampler_generate(s, 4, 0, NULL, NULL), MRNN_OK);
    mrnn_sampler_free(s);

    /* A program built against the version-1 header passes a struct that ends after include_primer,
     * one built against version 2 a struct that ends after weight_format, version 3 after threads:
     * init must not write past it, and create must not read past it (the bytes after it are
     * garbage here, which as a weight_format, a thread count or an instrument mask would be refused). */
    for (uint32_t version = 1; version <= 3; version++) {
        const size_t old_size = version == 1   ? offsetof(mrnn_sampler_params, include_primer) + sizeof(int32_t)
                                : version == 2 ? offsetof(mrnn_sampler_params, weight_format) + sizeof(uint32_t)
                                               : offsetof(mrnn_sampler_params, threads) + sizeof(uint32_t);
        union {
            mrnn_sampler_params p;
            unsigned char bytes[sizeof(mrnn_sampler_params)];
        } u;
        memset(u.bytes, 0xA5, sizeof u.bytes);
        ck_assert_int_eq(mrnn_sampler_params_init(&u.p, version), MRNN_OK);
        ck_assert_uint_eq(u.p.version, version);
        ck_assert_int_eq(u.p.n_lanes, 1);
        if (version == 2) ck_assert_uint_eq(u.p.weight_format, MRNN_WEIGHTS_FLOAT32);
        for (size_t i = old_size; i < sizeof u.bytes; i++) ck_assert_uint_eq(u.bytes[i], 0xA5);
        mrnn_sampler *s1 = NULL;
        ck_assert_msg(mrnn_sampler_create(&s1, m, &u.p) == MRNN_OK, "version %u: %s", version, mrnn_last_error());
        ck_assert_int_eq(mrnn_sampler_generate(s1, 4, 0, NULL, NULL), MRNN_OK);
        mrnn_sampler_free(s1);
    }

    ck_assert_int_eq(mrnn_sampler_create(&s, m, NULL), MRNN_OK);
    ASSERT_FAILS(mrnn_sampler_distribution(s, 0, probs, 4), MRNN_ERR_INVALID_ARG); /* too small */
    float all[388];
    ASSERT_FAILS(mrnn_sampler_distribution(s, 0, all, 388), MRNN_ERR_STATE);      /* nothing drawn */
    ASSERT_FAILS(mrnn_sampler_prime_text(s, "NOTE_ON_60 BOGUS"), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert(strstr(mrnn_last_error(), "BOGUS") != NULL);
    id = 5000;
    ASSERT_FAILS(mrnn_sampler_prime_tokens(s, &id, 1), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_prime_midi(s, "/nonexistent/primer.mid", 0, 0), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/primer.mid") != NULL);
    ASSERT_FAILS(mrnn_sampler_generate(s, 4, -1.0, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_sampler_generate(s, 4, 0, NULL, NULL), MRNN_OK);
    ASSERT_FAILS(mrnn_sampler_prime_text(s, "NOTE_ON_60"), MRNN_ERR_STATE); /* generation started */
    ASSERT_FAILS(mrnn_sampler_tokens(s, 1, &ids, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_tokens(s, 0, NULL, &n), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_log_likelihood(s, 0, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_write_midi(s, 0, NULL, 120, 0), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_sampler_write_midi(s, 0, "/nonexistent/dir/out.mid", 120, 0), MRNN_ERR_IO);
    ASSERT_FAILS(mrnn_sampler_write_midi(s, 0, "/tmp/x.mid", 120, 300), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_sampler_reset(s, 3), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "NOTE_ON_60"), MRNN_OK); /* allowed again */
    mrnn_sampler_free(s);
    mrnn_model_free(m);

    /* Beam search needs an event encoding. */
    enc.encoding = MRNN_ENCODING_PIANOROLL;
    mrnn_vocab_free(v);
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.beam_width = 4;
    ASSERT_FAILS(mrnn_sampler_create(&s, m, &sp), MRNN_ERR_UNSUPPORTED);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
}
END_TEST

/* Calls in the wrong order: a model made from the vocabulary of a corpus that was not finished yet
 * (finishing renumbers the tokens) cannot train or evaluate on it; asking for a distribution before
 * any step, or writing ids the vocabulary does not have. Each is an error with a message. */
START_TEST(test_wrong_order)
{
    char *dir = test_tmpdir();
    char midi[4200];
    TEST_PATH(midi, "%s/a.mid", dir);
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *perf;
    ck_assert_int_eq(mrnn_vocab_create(&perf, &enc), MRNN_OK);
    uint32_t ids[16];
    size_t n;
    ck_assert_int_eq(mrnn_vocab_parse(perf, "NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60 NOTE_ON_64 NOTE_ON_67 "
                                      "TIME_SHIFT_100 NOTE_OFF_64 NOTE_OFF_67", ids, 16, &n), MRNN_OK);
    ck_assert_int_eq(mrnn_tokens_write_midi(perf, ids, n, midi, 120, 0), MRNN_OK);
    ids[1] = 5000;
    ASSERT_FAILS(mrnn_tokens_write_midi(perf, ids, n, midi, 120, 0), MRNN_ERR_INVALID_ARG);
    mrnn_vocab_free(perf);

    mrnn_corpus *c;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, NULL), MRNN_OK); /* notechord: the vocabulary grows */
    ck_assert_int_eq(mrnn_corpus_add_file(c, midi, NULL), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.hidden_size = 4;
    mp.embed_size = 2;
    mrnn_model *m;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    ASSERT_FAILS(mrnn_model_train(m, c, NULL, NULL, NULL), MRNN_ERR_STATE); /* not finished */
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.max_steps = 1;
    ASSERT_FAILS(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "vocabulary") != NULL);
    mrnn_eval_result r;
    ASSERT_FAILS(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &r), MRNN_ERR_INVALID_ARG);
    mrnn_model_free(m);

    /* With the finished vocabulary everything works, and a distribution needs a generated step. */
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_OK);
    mrnn_sampler *s;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, NULL), MRNN_OK);
    float probs[64];
    ASSERT_FAILS(mrnn_sampler_distribution(s, 0, probs, 64), MRNN_ERR_STATE);
    ck_assert_int_eq(mrnn_sampler_generate(s, 3, 0, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_distribution(s, 0, probs, 64), MRNN_OK);
    mrnn_sampler_free(s);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
    test_rmdir(dir);
}
END_TEST

START_TEST(test_misuse_music_stats)
{
    mrnn_music_stats a, b;
    mrnn_music_distance d;
    ASSERT_FAILS(mrnn_music_stats_init(NULL, MRNN_MUSIC_STATS_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_stats_init(&a, MRNN_MUSIC_STATS_VERSION + 1), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_distance_init(NULL, MRNN_MUSIC_DISTANCE_VERSION), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_distance_init(&d, 0), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_stats_init(&a, MRNN_MUSIC_STATS_VERSION), MRNN_OK);
    ck_assert_int_eq(mrnn_music_stats_init(&b, MRNN_MUSIC_STATS_VERSION), MRNN_OK);
    ck_assert_int_eq(mrnn_music_distance_init(&d, MRNN_MUSIC_DISTANCE_VERSION), MRNN_OK);

    const char *missing[] = { "/nonexistent/piece.mid" };
    ASSERT_FAILS(mrnn_music_stats_compute(NULL, 1, &a), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_stats_compute(missing, 1, NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_stats_compute(missing, 0, &a), MRNN_ERR_EMPTY);
    ASSERT_FAILS(mrnn_music_stats_compute(missing, 1, &a), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/piece.mid") != NULL);

    ASSERT_FAILS(mrnn_music_stats_compare(NULL, &b, &d), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_stats_compare(&a, NULL, &d), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_music_stats_compare(&a, &b, NULL), MRNN_ERR_INVALID_ARG);
    b.version = 0;
    ASSERT_FAILS(mrnn_music_stats_compare(&a, &b, &d), MRNN_ERR_INVALID_ARG);

    /* Names: every documented feature has one, one past the end has none. */
    for (uint32_t f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++)
        ck_assert_ptr_nonnull(mrnn_music_feature_name(f));
    ck_assert_ptr_null(mrnn_music_feature_name(MRNN_MUSIC_FEATURE_COUNT));
    ck_assert_ptr_null(mrnn_music_feature_name(UINT32_MAX));
    ck_assert_ptr_nonnull(mrnn_music_ioi_bin_name(0));
    ck_assert_ptr_null(mrnn_music_ioi_bin_name(MRNN_MUSIC_IOI_CAP));
}
END_TEST

START_TEST(test_misuse_files)
{
    uint32_t kind = 99, pitch = 99;
    ASSERT_FAILS(mrnn_file_kind(NULL, &kind), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_file_kind("/tmp", NULL), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_file_kind("/nonexistent/file.mrm", &kind), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "/nonexistent/file.mrm") != NULL);
    ASSERT_FAILS(mrnn_file_kind("/tmp", &kind), MRNN_ERR_IO); /* a folder */
    ck_assert_uint_eq(kind, MRNN_FILE_OTHER);
    /* each kind the library writes, and a file that is none of them */
    char dir[] = "/tmp/mrnn-api.XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK);
    snprintf(path, sizeof path, "%s/v", dir);
    ck_assert_int_eq(mrnn_vocab_save(v, path), MRNN_OK);
    ck_assert_int_eq(mrnn_file_kind(path, &kind), MRNN_OK);
    ck_assert_uint_eq(kind, MRNN_FILE_VOCAB);
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create_with_vocab(&c, v, NULL), MRNN_OK);
    snprintf(path, sizeof path, "%s/c", dir);
    ck_assert_int_eq(mrnn_corpus_save(c, path), MRNN_OK);
    ck_assert_int_eq(mrnn_file_kind(path, &kind), MRNN_OK);
    ck_assert_uint_eq(kind, MRNN_FILE_CORPUS);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.hidden_size = 8;
    mp.embed_size = 4;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    snprintf(path, sizeof path, "%s/m", dir);
    ck_assert_int_eq(mrnn_model_save(m, path, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
    ck_assert_int_eq(mrnn_file_kind(path, &kind), MRNN_OK);
    ck_assert_uint_eq(kind, MRNN_FILE_MODEL);
    snprintf(path, sizeof path, "%s/short", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("MRNNMOD", f); /* seven bytes of a magic */
    fclose(f);
    kind = 99;
    ck_assert_int_eq(mrnn_file_kind(path, &kind), MRNN_OK);
    ck_assert_uint_eq(kind, MRNN_FILE_OTHER);
    const char *names[] = {"v", "c", "m", "short"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
    mrnn_vocab_free(v);

    ASSERT_FAILS(mrnn_pitch_parse(NULL, &pitch), MRNN_ERR_INVALID_ARG);
    ASSERT_FAILS(mrnn_pitch_parse("C4", NULL), MRNN_ERR_INVALID_ARG);
    static const struct { const char *name; uint32_t pitch; } ok[] = {
        {"C4", 60}, {"c4", 60}, {"C#4", 61}, {"Db4", 61}, {"C-1", 0}, {"G9", 127}, {"A0", 21}, {"bb3", 58}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(mrnn_pitch_parse(ok[i].name, &pitch) == MRNN_OK, "%s", ok[i].name);
        ck_assert_uint_eq(pitch, ok[i].pitch);
    }
    static const char *const bad[] = {"", "H4", "C", "C10", "G#9", "Cb-1", "C4x", "60", "C#-2", "c 4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_FAILS(mrnn_pitch_parse(bad[i], &pitch), MRNN_ERR_INVALID_ARG);
        ck_assert(strstr(mrnn_last_error(), "pitch name") != NULL);
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_last_error_is_per_thread);
    tcase_add_test(tc, test_corpus_params_version_1_still_works);
    tcase_add_test(tc, test_train_params_version_1_still_works);
    tcase_add_test(tc, test_params_init_rejects_bad_version);
    tcase_add_test(tc, test_defaults_are_documented_values);
    tcase_add_test(tc, test_null_handles_vocab);
    tcase_add_test(tc, test_null_handles_corpus);
    tcase_add_test(tc, test_null_handles_model);
    tcase_add_test(tc, test_null_handles_sampler);
    tcase_add_test(tc, test_wrong_order);
    tcase_add_test(tc, test_misuse_music_stats);
    tcase_add_test(tc, test_misuse_files);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
