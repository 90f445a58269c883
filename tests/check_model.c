/* Model and training through the public API: learning, exact resume, evaluation, cancellation,
 * early stopping, logging, and refusal of mismatched inputs. */
#include <math.h>
#include <sys/stat.h>

#include "batcher.h"
#include "model.h"
#include "test_main.h"
#include "test_util.h"

#define MAX_LOG 512

typedef struct loss_log {
    double loss[MAX_LOG];
    uint64_t step[MAX_LOG];
    int n;
    int stop_at; /* cancel when this step is reached (0 = never) */
} loss_log;

static int record(const mrnn_train_progress *p, void *user)
{
    loss_log *l = user;
    ck_assert(isfinite(p->train_loss));
    ck_assert_uint_le(p->step, p->total_steps);
    if (l->n < MAX_LOG) {
        l->loss[l->n] = p->train_loss;
        l->step[l->n] = p->step;
        l->n++;
    }
    return l->stop_at && (int)p->step >= l->stop_at;
}

/* A small corpus from the first files of the default corpus. */
static mrnn_corpus *small_corpus(uint32_t encoding)
{
    return test_small_corpus(encoding, 0.0f);
}

static mrnn_model *small_model(const mrnn_corpus *c, float dropout)
{
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 32;
    mp.num_layers = 2;
    mp.dropout = dropout;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    return m;
}

static mrnn_train_params small_training(uint64_t steps)
{
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 16;
    tp.batch_size = 4;
    tp.learning_rate = 0.01f;
    tp.max_steps = steps;
    tp.valid_every = 0;
    tp.threads = 1; /* results are exactly reproducible at one thread */
    return tp;
}

static double mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

START_TEST(training_lowers_the_loss)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_NOTECHORD);
    mrnn_model *m = small_model(c, 0.0f);
    mrnn_eval_result before, after;
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &before), MRNN_OK);
    /* An untrained model is close to uniform over the vocabulary. */
    ck_assert_double_lt(fabs(before.nll - log((double)mrnn_vocab_size(mrnn_model_vocab(m)))), 0.5);
    mrnn_train_params tp = small_training(300);
    loss_log log = {0};
    ck_assert_msg(mrnn_model_train(m, c, &tp, record, &log) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(log.n, 300);
    ck_assert_uint_eq(mrnn_model_steps_trained(m), 300);
    ck_assert_double_lt(mean(log.loss + 280, 20), 0.85 * mean(log.loss, 20));
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &after), MRNN_OK);
    ck_assert_double_lt(after.nll, before.nll - 1.0);
    ck_assert_double_gt(after.accuracy, before.accuracy);
    ck_assert_double_eq_tol(after.perplexity, exp(after.nll), 1e-6 * after.perplexity);
    /* The first step of each piece is not scored. */
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    ck_assert_uint_eq(after.n_scored, s.n_steps[MRNN_SPLIT_TRAIN] - s.n_pieces[MRNN_SPLIT_TRAIN]);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(pianoroll_model_trains)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_PIANOROLL);
    mrnn_model *m = small_model(c, 0.1f);
    mrnn_eval_result before, after;
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &before), MRNN_OK);
    mrnn_train_params tp = small_training(150);
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &after), MRNN_OK);
    /* 88 independent keys: an untrained model pays about 88 * log 2 nats per frame. */
    ck_assert_double_gt(before.nll, 40.0);
    ck_assert_double_lt(after.nll, 0.5 * before.nll);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* The NADE frame output learns, and scores far below independent keys' 88 log 2 untrained:
 * its untrained NLL is about the same (each key still near 1/2), trained it must fall. Its
 * evaluation is the exact joint NLL, so frames' probabilities are comparable with the
 * independent model's on the same split. */
START_TEST(pianoroll_nade_model_trains)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_PIANOROLL);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 32;
    mp.frame_output = MRNN_FRAME_OUTPUT_NADE;
    mp.nade_hidden = 24;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    mrnn_eval_result before, after;
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &before), MRNN_OK);
    ck_assert_double_gt(before.nll, 40.0);
    mrnn_train_params tp = small_training(150);
    ck_assert_msg(mrnn_model_train(m, c, &tp, NULL, NULL) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &after), MRNN_OK);
    ck_assert_double_lt(after.nll, 0.5 * before.nll);
    ck_assert_double_eq_tol(after.perplexity, exp(after.nll / 88.0), 1e-6 * after.perplexity);
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    ck_assert_uint_eq(after.n_scored, s.n_steps[MRNN_SPLIT_TRAIN] - s.n_pieces[MRNN_SPLIT_TRAIN]);
    /* Training is reproducible at one thread. */
    mrnn_model *m2 = NULL;
    ck_assert_int_eq(mrnn_model_create(&m2, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    ck_assert_int_eq(mrnn_model_train(m2, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert_mem_eq(m->weights, m2->weights, m->n_params * sizeof(float));
    mrnn_model_free(m2);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* The joint output on the benchmark-style encoding: frames of fixed seconds, pieces moved to the
 * tonic C. The encoding is the corpus's business; the NADE sees 88-key frames either way. */
START_TEST(nade_with_frame_seconds_and_tonic_c)
{
    const char *dir = getenv("MRNN_DEFAULT_CORPUS");
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PIANOROLL;
    enc.frame_seconds = 0.25;
    enc.normalize_key = MRNN_KEY_TONIC_C;
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = 0;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
    char path[4200];
    TEST_PATH(path, "%s/%s", dir ? dir : "", "city_blues_redfarn.mid");
    ck_assert_msg(mrnn_corpus_add_file(c, path, NULL) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 8;
    mp.hidden_size = 16;
    mp.frame_output = MRNN_FRAME_OUTPUT_NADE;
    mp.nade_hidden = 8;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    mrnn_eval_result before, after;
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &before), MRNN_OK);
    mrnn_train_params tp = small_training(40);
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_model_evaluate(m, c, MRNN_SPLIT_TRAIN, &after), MRNN_OK);
    ck_assert_double_lt(after.nll, before.nll);
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 100, 4.0, NULL, NULL), MRNN_OK); /* 4 s = 16 frames of 0.25 s */
    const uint32_t *ids;
    size_t n, frames = 0;
    ck_assert_int_eq(mrnn_sampler_tokens(s, 0, &ids, &n), MRNN_OK);
    for (size_t k = 0; k < n; k++) frames += ids[k] == MRNN_FRAME_END;
    ck_assert_uint_eq(frames, 16);
    mrnn_sampler_free(s);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* Input dropout: the batcher leaves input ids out (never targets), training with it differs from
 * training without, and still learns; a version-1 train params struct (which has no such field;
 * the bytes after it are garbage that as input_dropout would be refused) trains like version 2
 * with the field at 0. */
START_TEST(input_dropout_trains_and_old_params_work)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_PIANOROLL);
    mrnn__batcher b;
    ck_assert_int_eq(mrnn__batcher_init(&b, c, 16, 4, 0), MRNN_OK);
    mrnn__rng r;
    mrnn__rng_seed(&r, 3);
    mrnn__batcher_sample(&b, &r);
    uint32_t in_before = b.in_start[16 * 4], tgt_before = b.tgt_start[16 * 4];
    ck_assert_uint_gt(in_before, 50);
    mrnn__batcher_drop_inputs(&b, 0.5f, &r);
    uint32_t in_after = b.in_start[16 * 4];
    ck_assert_uint_lt(in_after, in_before * 7 / 10);
    ck_assert_uint_gt(in_after, in_before * 3 / 10);
    ck_assert_uint_eq(b.tgt_start[16 * 4], tgt_before);
    for (int row = 0; row < 16 * 4; row++) ck_assert_uint_le(b.in_start[row], b.in_start[row + 1]);
    mrnn__batcher_free(&b);

    mrnn_model *plain = small_model(c, 0.0f), *dropped = small_model(c, 0.0f), *old = small_model(c, 0.0f);
    mrnn_train_params tp = small_training(60);
    ck_assert_int_eq(mrnn_model_train(plain, c, &tp, NULL, NULL), MRNN_OK);
    tp.input_dropout = 0.3f;
    ck_assert_int_eq(mrnn_model_train(dropped, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert(memcmp(plain->weights, dropped->weights, plain->n_params * sizeof(float)) != 0);
    mrnn_eval_result ed;
    ck_assert_int_eq(mrnn_model_evaluate(dropped, c, MRNN_SPLIT_TRAIN, &ed), MRNN_OK);
    ck_assert_double_lt(ed.nll, 40.0); /* untrained: about 61 */
    union {
        mrnn_train_params p;
        unsigned char bytes[sizeof(mrnn_train_params)];
    } u;
    memset(u.bytes, 0xFF, sizeof u.bytes);
    ck_assert_int_eq(mrnn_train_params_init(&u.p, 1), MRNN_OK);
    u.p.seq_len = 16;
    u.p.batch_size = 4;
    u.p.learning_rate = 0.01f;
    u.p.max_steps = 60;
    u.p.valid_every = 0;
    u.p.threads = 1;
    ck_assert_msg(mrnn_model_train(old, c, &u.p, NULL, NULL) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_mem_eq(plain->weights, old->weights, plain->n_params * sizeof(float));
    tp.input_dropout = 1.0f;
    ck_assert_int_eq(mrnn_model_train(old, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "input_dropout") != NULL);
    mrnn_model_free(plain);
    mrnn_model_free(dropped);
    mrnn_model_free(old);
    mrnn_corpus_free(c);
}
END_TEST

/* Train 40 steps in one go, and 20 + (save, load) + 20: the losses must be identical. With
 * dropout (on the outputs, or in the recurrence), so that the RNG state must be restored too. */
static void resume_check(float dropout, float recurrent_dropout, float weight_average, float weight_dropout)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_PERFORMANCE);
    char *tmp = test_tmpdir();
    char ckpt[4200];
    TEST_PATH(ckpt, "%s/model.mrm", tmp);

    mrnn_model *a = small_model(c, dropout);
    mrnn_train_params tp = small_training(40);
    tp.recurrent_dropout = recurrent_dropout;
    tp.weight_average = weight_average;
    tp.weight_dropout = weight_dropout;
    loss_log full = {0};
    ck_assert_int_eq(mrnn_model_train(a, c, &tp, record, &full), MRNN_OK);

    mrnn_model *b = small_model(c, dropout);
    tp.max_steps = 20;
    loss_log first = {0}, second = {0};
    ck_assert_int_eq(mrnn_model_train(b, c, &tp, record, &first), MRNN_OK);
    ck_assert_int_eq(mrnn_model_save(b, ckpt, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    mrnn_model_free(b);
    ck_assert_int_eq(mrnn_model_load(&b, ckpt), MRNN_OK);
    ck_assert_uint_eq(mrnn_model_steps_trained(b), 20);
    tp.max_steps = 40;
    ck_assert_int_eq(mrnn_model_train(b, c, &tp, record, &second), MRNN_OK);
    ck_assert_int_eq(first.n + second.n, 40);
    for (int i = 0; i < 20; i++) {
        ck_assert_msg(full.loss[i] == first.loss[i], "step %d: %.9g vs %.9g", i + 1, full.loss[i], first.loss[i]);
        ck_assert_uint_eq(second.step[i], 21 + (uint64_t)i);
        ck_assert_msg(full.loss[20 + i] == second.loss[i], "resumed step %d: %.9g vs %.9g", 21 + i, full.loss[20 + i],
                      second.loss[i]);
    }
    ck_assert_mem_eq(a->weights, b->weights, a->n_params * sizeof(float));
    mrnn_model_free(a);
    mrnn_model_free(b);
    test_rmdir(tmp);
    mrnn_corpus_free(c);
}

START_TEST(resume_continues_exactly)
{
    resume_check(0.2f, 0.0f, 0.0f, 0.0f);
    resume_check(0.0f, 0.3f, 0.0f, 0.0f);
    resume_check(0.0f, 0.0f, 0.0f, 0.4f);
    /* The first call ends with the average as the model; the resumed one continues from the
     * training weights, and ends with the same average as the run in one go. */
    resume_check(0.0f, 0.0f, 0.9f, 0.0f);
}
END_TEST

/* Weight averaging: the model a call returns is the average (a different model, still trained),
 * its checkpoint is format 4 (the average and the training weights), the same model saved without
 * its training state keeps format 2; validation scores the average (the best-validation file
 * scores the best validation loss seen). */
START_TEST(weight_average_is_the_model)
{
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PIANOROLL, 0.3f); /* with a validation split */
    char *tmp = test_tmpdir();
    char pstate[4200], pplain[4200], pbest[4200];
    TEST_PATH(pstate, "%s/state.mrm", tmp);
    TEST_PATH(pplain, "%s/plain.mrm", tmp);
    TEST_PATH(pbest, "%s/best.mrm", tmp);
    mrnn_model *plain = small_model(c, 0.0f), *avg = small_model(c, 0.0f);
    mrnn_train_params tp = small_training(60);
    ck_assert_int_eq(mrnn_model_train(plain, c, &tp, NULL, NULL), MRNN_OK);
    tp.weight_average = 0.9f;
    tp.valid_every = 30;
    tp.best_path = pbest;
    ck_assert_int_eq(mrnn_model_train(avg, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert(memcmp(plain->weights, avg->weights, plain->n_params * sizeof(float)) != 0);
    ck_assert_ptr_nonnull(avg->avg);
    ck_assert_int_eq(avg->avg_swapped, 1);
    mrnn_eval_result ea, ev, eb;
    ck_assert_int_eq(mrnn_model_evaluate(avg, c, MRNN_SPLIT_TRAIN, &ea), MRNN_OK);
    ck_assert_double_lt(ea.nll, 40.0); /* untrained: about 61 */
    ck_assert_int_eq(mrnn_model_evaluate(avg, c, MRNN_SPLIT_VALID, &ev), MRNN_OK);
    ck_assert(avg->best_valid <= ev.nll);
    mrnn_model *best = NULL;
    ck_assert_int_eq(mrnn_model_load(&best, pbest), MRNN_OK);
    ck_assert_int_eq(mrnn_model_evaluate(best, c, MRNN_SPLIT_VALID, &eb), MRNN_OK);
    /* Training validated on its one thread, mrnn_model_evaluate runs on the default threads: the
     * same bits on the packed paths, a rounding apart on the OpenBLAS one (its sums depend on
     * how the rows are split). The training weights score far further away than that. */
    ck_assert_msg(fabs(eb.nll - avg->best_valid) <= 1e-6 * fabs(avg->best_valid), "%.9g vs %.9g", eb.nll,
                  avg->best_valid);
    mrnn_model_free(best);
    ck_assert_int_eq(mrnn_model_save(avg, pstate, MRNN_SAVE_TRAINING_STATE), MRNN_OK);
    ck_assert_int_eq(mrnn_model_save(avg, pplain, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
    unsigned char head[12];
    FILE *f = fopen(pstate, "rb");
    ck_assert(f && fread(head, 1, 12, f) == 12);
    fclose(f);
    ck_assert_uint_eq(head[8], 4);
    f = fopen(pplain, "rb");
    ck_assert(f && fread(head, 1, 12, f) == 12);
    fclose(f);
    ck_assert_uint_eq(head[8], 2);
    mrnn_model *back = NULL;
    ck_assert_int_eq(mrnn_model_load(&back, pstate), MRNN_OK);
    ck_assert_int_eq(back->avg_swapped, 1);
    ck_assert_mem_eq(back->weights, avg->weights, avg->n_params * sizeof(float));
    ck_assert_mem_eq(back->avg, avg->avg, avg->n_params * sizeof(float));
    /* Training on without averaging continues from the training weights, the average dropped. */
    tp.weight_average = 0.0f;
    tp.best_path = NULL;
    tp.max_steps = 61;
    ck_assert_int_eq(mrnn_model_train(back, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert_ptr_null(back->avg);
    tp.weight_average = 1.0f;
    ck_assert_int_eq(mrnn_model_train(back, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "weight_average") != NULL);
    mrnn_model_free(back);
    mrnn_model_free(plain);
    mrnn_model_free(avg);
    test_rmdir(tmp);
    mrnn_corpus_free(c);
}
END_TEST

/* Recurrent dropout trains a different model that still learns, and the same kind of model: its
 * file is as large as one trained without it (nothing of the regulariser is stored), it scores
 * the same after a save and load. Rates outside [0, 1) are refused, naming the field. */
START_TEST(recurrent_dropout_trains_the_same_model)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_PIANOROLL);
    char *tmp = test_tmpdir();
    char pa[4200], pb[4200];
    TEST_PATH(pa, "%s/plain.mrm", tmp);
    TEST_PATH(pb, "%s/recurrent.mrm", tmp);
    mrnn_model *plain = small_model(c, 0.0f), *rec = small_model(c, 0.0f);
    mrnn_train_params tp = small_training(60);
    ck_assert_int_eq(mrnn_model_train(plain, c, &tp, NULL, NULL), MRNN_OK);
    tp.recurrent_dropout = 0.3f;
    ck_assert_int_eq(mrnn_model_train(rec, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert(memcmp(plain->weights, rec->weights, plain->n_params * sizeof(float)) != 0);
    mrnn_eval_result er, back;
    ck_assert_int_eq(mrnn_model_evaluate(rec, c, MRNN_SPLIT_TRAIN, &er), MRNN_OK);
    ck_assert_double_lt(er.nll, 40.0); /* untrained: about 61 */
    ck_assert_int_eq(mrnn_model_save(plain, pa, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
    ck_assert_int_eq(mrnn_model_save(rec, pb, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
    struct stat sa, sb;
    ck_assert(stat(pa, &sa) == 0 && stat(pb, &sb) == 0);
    ck_assert_int_eq((long long)sa.st_size, (long long)sb.st_size);
    mrnn_model *loaded = NULL;
    ck_assert_int_eq(mrnn_model_load(&loaded, pb), MRNN_OK);
    ck_assert_int_eq(mrnn_model_evaluate(loaded, c, MRNN_SPLIT_TRAIN, &back), MRNN_OK);
    ck_assert(back.nll == er.nll);
    tp.recurrent_dropout = 1.0f;
    ck_assert_int_eq(mrnn_model_train(rec, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "recurrent_dropout") != NULL);
    tp.recurrent_dropout = -0.1f;
    ck_assert_int_eq(mrnn_model_train(rec, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    /* Weight dropout likewise: another model that learns, the same file, the range checked. */
    mrnn_model *wd = small_model(c, 0.0f);
    tp.recurrent_dropout = 0.0f;
    tp.weight_dropout = 0.4f;
    ck_assert_int_eq(mrnn_model_train(wd, c, &tp, NULL, NULL), MRNN_OK);
    ck_assert(memcmp(plain->weights, wd->weights, plain->n_params * sizeof(float)) != 0);
    ck_assert_int_eq(mrnn_model_evaluate(wd, c, MRNN_SPLIT_TRAIN, &er), MRNN_OK);
    ck_assert_double_lt(er.nll, 40.0);
    ck_assert_int_eq(mrnn_model_save(wd, pb, MRNN_SAVE_WEIGHTS_ONLY), MRNN_OK);
    ck_assert(stat(pb, &sb) == 0);
    ck_assert_int_eq((long long)sa.st_size, (long long)sb.st_size);
    tp.weight_dropout = 1.0f;
    ck_assert_int_eq(mrnn_model_train(wd, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "weight_dropout") != NULL);
    mrnn_model_free(wd);
    mrnn_model_free(loaded);
    mrnn_model_free(plain);
    mrnn_model_free(rec);
    test_rmdir(tmp);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(cancel_writes_a_checkpoint_and_log)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_NOTECHORD);
    char *tmp = test_tmpdir();
    char ckpt[4200], logp[4200];
    TEST_PATH(ckpt, "%s/model.mrm", tmp);
    TEST_PATH(logp, "%s/train.csv", tmp);
    mrnn_model *m = small_model(c, 0.0f);
    mrnn_train_params tp = small_training(100);
    tp.checkpoint_path = ckpt;
    tp.log_path = logp;
    loss_log log = {.stop_at = 7};
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, record, &log), MRNN_ERR_CANCELLED);
    ck_assert_int_eq(log.n, 7);
    mrnn_model *l = NULL;
    ck_assert_int_eq(mrnn_model_load(&l, ckpt), MRNN_OK);
    ck_assert_uint_eq(mrnn_model_steps_trained(l), 7);
    mrnn_model_free(l);
    /* One header line and one line per step. */
    size_t n;
    char *text = (char *)test_read(logp, &n);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
    ck_assert_int_eq(lines, 8);
    ck_assert(strncmp(text, "step,", 5) == 0);
    free(text);
    mrnn_model_free(m);
    test_rmdir(tmp);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(mismatched_vocabulary_is_refused)
{
    mrnn_corpus *notes = small_corpus(MRNN_ENCODING_NOTECHORD);
    mrnn_corpus *perf = small_corpus(MRNN_ENCODING_PERFORMANCE);
    mrnn_model *m = small_model(notes, 0.0f);
    mrnn_train_params tp = small_training(5);
    ck_assert_int_eq(mrnn_model_train(m, perf, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_gt(strlen(mrnn_last_error()), 10);
    mrnn_eval_result r;
    ck_assert_int_eq(mrnn_model_evaluate(m, perf, MRNN_SPLIT_TRAIN, &r), MRNN_ERR_INVALID_ARG);
    /* No validation split here. */
    ck_assert_int_eq(mrnn_model_evaluate(m, notes, MRNN_SPLIT_VALID, &r), MRNN_ERR_EMPTY);
    tp.seq_len = 0;
    ck_assert_int_eq(mrnn_model_train(m, notes, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "seq_len"));
    mrnn_model_free(m);
    mrnn_corpus_free(notes);
    mrnn_corpus_free(perf);
}
END_TEST

START_TEST(divergence_is_reported)
{
    mrnn_corpus *c = small_corpus(MRNN_ENCODING_NOTECHORD);
    mrnn_model *m = small_model(c, 0.0f);
    /* Poison one weight: the loss becomes NaN at once and training must say so, not continue. */
    m->weights[m->n_params / 2] = NAN;
    mrnn_train_params tp = small_training(5);
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_NUMERIC);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("model");
    TCase *t = tcase_create("model");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, training_lowers_the_loss);
    tcase_add_test(t, pianoroll_model_trains);
    tcase_add_test(t, pianoroll_nade_model_trains);
    tcase_add_test(t, input_dropout_trains_and_old_params_work);
    tcase_add_test(t, recurrent_dropout_trains_the_same_model);
    tcase_add_test(t, weight_average_is_the_model);
    tcase_add_test(t, nade_with_frame_seconds_and_tonic_c);
    tcase_add_test(t, resume_continues_exactly);
    tcase_add_test(t, cancel_writes_a_checkpoint_and_log);
    tcase_add_test(t, mismatched_vocabulary_is_refused);
    tcase_add_test(t, divergence_is_reported);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
