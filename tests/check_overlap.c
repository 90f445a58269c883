/* The allreduce overlapped with the backward pass (mrnn_train_params.allreduce_overlap), through
 * the shared library with an in-process allreduce (fake_comm.h). Built and run normally, and under
 * ThreadSanitizer by tools/run-tests.sh (suite "threads"), where a race between the reducer's
 * thread, the team that computes the gradient and the training thread fails the run:
 *  - with one rank the segments cover the fused buffer once per step, from its end to its start,
 *    the same segments every step, from a thread other than the trainer's, never two at once, and
 *    the losses are the very bits of the one-call path; short segments are joined;
 *  - two ranks (threads) with the overlap log the same bits as two ranks without it (the fake
 *    sums every float in rank order, however the buffer is cut), and the losses of one process to
 *    rounding;
 *  - the new fields are checked. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <musicrnn/musicrnn.h>

#include "fake_comm.h"
#include "test_main.h"
#include "test_util.h"

#define STEPS 12

typedef struct loss_log {
    double loss[STEPS], valid;
    int n;
} loss_log;

static int log_loss(const mrnn_train_progress *p, void *user)
{
    loss_log *l = user;
    if (l->n < STEPS) l->loss[l->n++] = p->train_loss;
    if (!isnan(p->valid_loss)) l->valid = p->valid_loss;
    return 0;
}

static mrnn_model *make_model(const mrnn_corpus *c, float dropout)
{
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 24;
    mp.num_layers = 2;
    mp.dropout = dropout;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    return m;
}

static mrnn_train_params make_params(uint32_t threads)
{
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 16;
    tp.batch_size = 5; /* odd: two ranks get 2 and 3 lanes */
    tp.max_steps = STEPS;
    tp.valid_every = STEPS;
    tp.threads = threads;
    return tp;
}

typedef struct rank_job {
    const mrnn_corpus *c;
    fake_rank fr;
    fake_comm *comm;
    uint32_t rank, n_ranks, overlap, segment_min, threads;
    float dropout;
    size_t n_params;
    loss_log log;
    mrnn_status st;
} rank_job;

static void *train_rank(void *arg)
{
    rank_job *j = arg;
    fake_rank_init(&j->fr, j->comm, j->rank);
    mrnn_model *m = make_model(j->c, j->dropout);
    j->n_params = (size_t)mrnn_model_param_count(m);
    mrnn_train_params tp = make_params(j->threads);
    tp.allreduce = fake_allreduce;
    tp.allreduce_user_data = &j->fr;
    tp.rank = j->rank;
    tp.n_ranks = j->n_ranks;
    tp.allreduce_overlap = j->overlap;
    if (j->segment_min) tp.allreduce_segment_min = j->segment_min;
    memset(&j->log, 0, sizeof j->log);
    j->log.valid = NAN;
    j->st = mrnn_model_train(m, j->c, &tp, log_loss, &j->log);
    mrnn_model_free(m);
    return NULL;
}

/* Train n_ranks ranks at once, each on its own thread; jobs[k] holds rank k's record. */
static void run_ranks(const mrnn_corpus *c, rank_job *jobs, uint32_t n_ranks, uint32_t overlap, uint32_t segment_min,
                      uint32_t threads, float dropout)
{
    fake_comm comm;
    fake_comm_init(&comm, (int)n_ranks);
    pthread_t tid[FAKE_MAX_RANKS];
    for (uint32_t k = 0; k < n_ranks; k++) {
        memset(&jobs[k], 0, sizeof jobs[k]);
        jobs[k].c = c;
        jobs[k].comm = &comm;
        jobs[k].rank = k;
        jobs[k].n_ranks = n_ranks;
        jobs[k].overlap = overlap;
        jobs[k].segment_min = segment_min;
        jobs[k].threads = threads;
        jobs[k].dropout = dropout;
        ck_assert_int_eq(pthread_create(&tid[k], NULL, train_rank, &jobs[k]), 0);
    }
    for (uint32_t k = 0; k < n_ranks; k++) pthread_join(tid[k], NULL);
    fake_comm_destroy(&comm);
    for (uint32_t k = 0; k < n_ranks; k++) {
        ck_assert_msg(jobs[k].st == MRNN_OK, "rank %u: %s", k, mrnn_status_string(jobs[k].st));
        ck_assert_int_eq(jobs[k].log.n, STEPS);
        ck_assert(!jobs[k].fr.concurrent);
        ck_assert(!jobs[k].fr.mismatch);
        ck_assert_uint_le(jobs[k].fr.n_calls, FAKE_MAX_CALLS);
    }
}

/* Each step's calls: `segments` pieces of the fused buffer off the training thread (on it when
 * the overlap is off), from its end to its start, the same pieces every step, then the one-float
 * stop vote on the training thread. */
static void check_calls(const rank_job *j, size_t segments, int overlap)
{
    const fake_rank *r = &j->fr;
    ck_assert_uint_eq(r->n_calls, STEPS * (segments + 1));
    const fake_call *first = &r->calls[0];
    const float *end = first->data + first->count;
    for (int s = 0; s < STEPS; s++) {
        const fake_call *k = &r->calls[(size_t)s * (segments + 1)];
        size_t total = 0;
        for (size_t i = 0; i < segments; i++) {
            ck_assert_msg(k[i].on_trainer == !overlap, "step %d, segment %zu: called on the %s thread", s + 1, i,
                          k[i].on_trainer ? "training" : "reducer's");
            ck_assert_uint_gt(k[i].count, 0);
            ck_assert(k[i].data + k[i].count == (i == 0 ? end : k[i - 1].data)); /* contiguous, end first */
            ck_assert(k[i].data == first[i].data && k[i].count == first[i].count); /* the same every step */
            total += k[i].count;
        }
        ck_assert_uint_eq(total, j->n_params + 2); /* gradient, loss sum, count: each float once */
        ck_assert_uint_eq(k[segments].count, 1);
        ck_assert(k[segments].on_trainer);
    }
}

START_TEST(one_rank_segments_cover_the_buffer_and_change_no_bit)
{
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.25f);
    static rank_job plain, over, joined; /* large: the call records */
    /* On the library's team of two threads, so that the reducer reads finished segments while the
     * team writes the next ones. */
    run_ranks(c, &plain, 1, 0, 0, 2, 0.2f);
    check_calls(&plain, 1, 0);
    /* segment_min 1: one segment per layer block (output, LSTM layer 1, layer 0 with the embedding) */
    run_ranks(c, &over, 1, 1, 1, 2, 0.2f);
    check_calls(&over, 3, 1);
    /* The default minimum (65536 floats) joins this small model's blocks into one. */
    ck_assert_uint_lt(over.n_params, MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT);
    run_ranks(c, &joined, 1, 1, 0, 2, 0.2f);
    check_calls(&joined, 1, 1);
    for (int s = 0; s < STEPS; s++) {
        ck_assert_msg(over.log.loss[s] == plain.log.loss[s], "step %d: %.17g overlapped, %.17g not", s + 1,
                      over.log.loss[s], plain.log.loss[s]);
        ck_assert(joined.log.loss[s] == plain.log.loss[s]);
    }
    ck_assert(!isnan(plain.log.valid) && over.log.valid == plain.log.valid);
    ck_assert_double_lt(over.log.loss[STEPS - 1], over.log.loss[0]); /* and it learns */
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(two_ranks_overlapped_match_two_ranks_and_one_process)
{
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.25f);
    static rank_job one[1], plain[2], over[2];
    run_ranks(c, one, 1, 0, 0, 1, 0.0f);
    run_ranks(c, plain, 2, 0, 0, 1, 0.0f);
    run_ranks(c, over, 2, 1, 1, 1, 0.0f);
    for (int k = 0; k < 2; k++) {
        check_calls(&over[k], 3, 1);
        for (int s = 0; s < STEPS; s++) {
            ck_assert_msg(over[k].log.loss[s] == over[0].log.loss[s], "ranks disagree at step %d", s + 1);
            /* the fake sums each float in rank order, however the buffer is cut: the same bits */
            ck_assert_msg(over[k].log.loss[s] == plain[k].log.loss[s], "rank %d step %d: %.17g vs %.17g", k, s + 1,
                          over[k].log.loss[s], plain[k].log.loss[s]);
            ck_assert_double_eq_tol(over[k].log.loss[s], one[0].log.loss[s], 1e-4 * one[0].log.loss[s]);
        }
        ck_assert(over[k].log.valid == plain[k].log.valid);
    }
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(overlap_fields_are_checked)
{
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.25f);
    mrnn_model *m = make_model(c, 0.0f);
    mrnn_train_params tp = make_params(1);
    ck_assert_uint_eq(tp.allreduce_overlap, 0);
    ck_assert_uint_eq(tp.allreduce_segment_min, MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT);
    tp.allreduce_overlap = 1; /* without a callback */
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "allreduce_overlap"));
    tp.allreduce = fake_allreduce;
    tp.allreduce_overlap = 2;
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "allreduce_overlap"));
    ck_assert_uint_eq(mrnn_model_steps_trained(m), 0);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("overlap");
    TCase *t = tcase_create("overlap");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, one_rank_segments_cover_the_buffer_and_change_no_bit);
    tcase_add_test(t, two_ranks_overlapped_match_two_ranks_and_one_process);
    tcase_add_test(t, overlap_fields_are_checked);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
