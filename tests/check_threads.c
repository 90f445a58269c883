/* The thread-safety promises of the public header, through the shared library only. Built and run
 * normally, and under ThreadSanitizer by tools/run-tests.sh (suite "threads"), where any data race
 * between the threads below fails the run:
 *  - N samplers on one shared model in N threads give exactly the pieces they give one at a time;
 *  - evaluation runs alongside them on the same model;
 *  - read-only getters of one vocabulary are called from every thread at once;
 *  - mrnn_last_error() is per thread: threads failing at the same time each see their own message;
 *  - training on two threads (the library's own team of threads, OpenBLAS single-threaded inside)
 *    logs the losses of one thread up to rounding, and exactly the same losses on every run;
 *  - data-parallel training with an in-process allreduce (two threads as two ranks, the way
 *    MPI ranks train) logs the losses of one process up to rounding, on both ranks;
 *  - reading a folder on 1, 2 or 3 threads (mrnn_corpus_params.threads) saves the same corpus file,
 *    byte for byte, and the progress callback sees every file once, in order, on the calling thread;
 *  - two trainings and two samplers on four different models, each on a team of two threads, all
 *    running at once give exactly what each gives alone (no call changes a setting another reads). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <musicrnn/musicrnn.h>

#include "fake_comm.h"
#include "test_main.h"
#include "test_util.h"

#define N_THREADS 4
#define N_STEPS 200

typedef struct sampler_job {
    const mrnn_model *m;
    uint64_t seed;
    uint32_t ids[N_STEPS + 8];
    size_t n;
    mrnn_status status;
} sampler_job;

static void *sample(void *arg)
{
    sampler_job *j = arg;
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.rng_seed = j->seed;
    sp.top_p = 0.9f;
    mrnn_sampler *s = NULL;
    j->status = mrnn_sampler_create(&s, j->m, &sp);
    if (j->status != MRNN_OK) return NULL;
    j->status = mrnn_sampler_prime_text(s, "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_10");
    if (j->status == MRNN_OK) j->status = mrnn_sampler_generate(s, N_STEPS, 0, NULL, NULL);
    const uint32_t *ids;
    if (j->status == MRNN_OK) j->status = mrnn_sampler_tokens(s, 0, &ids, &j->n);
    if (j->status == MRNN_OK && j->n <= sizeof j->ids / sizeof *j->ids) memcpy(j->ids, ids, j->n * sizeof *ids);
    mrnn_sampler_free(s);
    return NULL;
}

/* A small performance model: its vocabulary is complete without a corpus. */
static mrnn_model *small_model(void)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 32;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    mrnn_vocab_free(v);
    return m;
}

START_TEST(samplers_on_one_model_in_parallel_threads)
{
    mrnn_model *m = small_model();
    static sampler_job alone[N_THREADS], together[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        alone[i] = (sampler_job){.m = m, .seed = 7 + (uint64_t)i};
        together[i] = alone[i];
        sample(&alone[i]);
        ck_assert_int_eq(alone[i].status, MRNN_OK);
    }
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, sample, &together[i]), 0);
    for (int i = 0; i < N_THREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++) {
        ck_assert_int_eq(together[i].status, MRNN_OK);
        ck_assert_uint_eq(together[i].n, alone[i].n);
        ck_assert_uint_ge(together[i].n, N_STEPS);
        ck_assert_mem_eq(together[i].ids, alone[i].ids, alone[i].n * sizeof(uint32_t));
    }
    /* Different seeds must give different pieces, or the comparison above proves little. */
    ck_assert(memcmp(alone[0].ids, alone[1].ids, alone[0].n * sizeof(uint32_t)) != 0);
    mrnn_model_free(m);
}
END_TEST

typedef struct vocab_job {
    const mrnn_vocab *v;
    int ok;
} vocab_job;

static void *read_vocab(void *arg)
{
    vocab_job *j = arg;
    j->ok = 1;
    for (uint32_t round = 0; round < 20; round++) {
        for (uint32_t id = 0; id < mrnn_vocab_size(j->v); id++) {
            const char *text = mrnn_vocab_token_text(j->v, id);
            uint32_t back;
            if (!text || mrnn_vocab_token_id(j->v, text, &back) != MRNN_OK || back != id) j->ok = 0;
        }
        uint32_t ids[8];
        size_t n;
        char buf[128];
        if (mrnn_vocab_parse(j->v, "NOTE_ON_60 TIME_SHIFT_5 NOTE_OFF_60", ids, 8, &n) != MRNN_OK || n != 3 ||
            mrnn_vocab_format(j->v, ids, n, buf, sizeof buf, NULL) != MRNN_OK ||
            strcmp(buf, "NOTE_ON_60 TIME_SHIFT_5 NOTE_OFF_60") != 0)
            j->ok = 0;
    }
    return NULL;
}

START_TEST(vocabulary_getters_from_many_threads)
{
    mrnn_model *m = small_model();
    vocab_job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (vocab_job){mrnn_model_vocab(m), 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, read_vocab, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(jobs[i].ok, "thread %d read a wrong token", i);
    }
    mrnn_model_free(m);
}
END_TEST

typedef struct error_job {
    int index;
    int wrong; /* times this thread saw a message that was not its own */
} error_job;

static void *fail_repeatedly(void *arg)
{
    error_job *j = arg;
    char path[64], mine[64];
    snprintf(path, sizeof path, "/nonexistent/thread-%d.mrm", j->index);
    snprintf(mine, sizeof mine, "thread-%d.mrm", j->index);
    for (int k = 0; k < 300; k++) {
        mrnn_model *m = NULL;
        if (mrnn_model_load(&m, path) != MRNN_ERR_IO || !strstr(mrnn_last_error(), mine)) j->wrong++;
        /* Clearing in one thread must not clear another's message. */
        if (k % 3 == 0) {
            mrnn_clear_error();
            if (mrnn_last_error()[0] != '\0') j->wrong++;
        }
    }
    return NULL;
}

START_TEST(last_error_is_per_thread_under_contention)
{
    error_job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (error_job){i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, fail_repeatedly, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(jobs[i].wrong == 0, "thread %d saw %d messages that were not its own", i, jobs[i].wrong);
    }
}
END_TEST

#define TRAIN_STEPS 12

typedef struct loss_log {
    double loss[TRAIN_STEPS], valid;
    int n;
} loss_log;

static int log_loss(const mrnn_train_progress *p, void *user)
{
    loss_log *l = user;
    if (l->n < TRAIN_STEPS) l->loss[l->n++] = p->train_loss;
    if (!isnan(p->valid_loss)) l->valid = p->valid_loss;
    return 0;
}

/* Train a fresh 2-layer model with dropout for TRAIN_STEPS steps on `threads` threads. */
static loss_log train_on(const mrnn_corpus *c, uint32_t threads)
{
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 24;
    mp.hidden_size = 40;
    mp.num_layers = 2;
    mp.dropout = 0.2f;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 32;
    tp.batch_size = 6; /* 192 rows: the packed-weight path where the CPU has it */
    tp.max_steps = TRAIN_STEPS;
    tp.valid_every = TRAIN_STEPS;
    tp.threads = threads;
    loss_log l;
    memset(&l, 0, sizeof l);
    l.valid = NAN;
    ck_assert_msg(mrnn_model_train(m, c, &tp, log_loss, &l) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(l.n, TRAIN_STEPS);
    mrnn_model_free(m);
    return l;
}

START_TEST(training_on_two_threads)
{
    /* On every kernel path (compute.h; one the CPU lacks runs its widest kernel): the same bits on every run with the same
     * thread count, the same loss up to rounding with one thread and across paths. */
    static const char *paths[] = {"openblas", "generic", "avx2", "avx512"};
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.25f);
    loss_log first;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        ck_assert_int_eq(setenv("MUSICRNN_KERNEL", paths[p], 1), 0);
        loss_log one = train_on(c, 1), two = train_on(c, 2), again = train_on(c, 2);
        for (int k = 0; k < TRAIN_STEPS; k++) {
            ck_assert_msg(two.loss[k] == again.loss[k], "%s, step %d: %.17g then %.17g on two threads", paths[p],
                          k + 1, two.loss[k], again.loss[k]);
            ck_assert_double_eq_tol(one.loss[k], two.loss[k], 1e-4 * one.loss[k]);
            if (p > 0) ck_assert_double_eq_tol(first.loss[k], one.loss[k], 1e-3 * first.loss[k]);
        }
        ck_assert(!isnan(two.valid) && two.valid == again.valid); /* validation runs on the team too */
        ck_assert_double_eq_tol(one.valid, two.valid, 1e-4 * one.valid);
        ck_assert_double_lt(two.loss[TRAIN_STEPS - 1], two.loss[0]); /* and it learns */
        if (p == 0) first = one;
        fprintf(stderr, "training on path %s: last loss %.9f, validation %.9f\n", paths[p], one.loss[TRAIN_STEPS - 1],
                one.valid);
    }
    unsetenv("MUSICRNN_KERNEL");
    mrnn_corpus_free(c);
}
END_TEST

/* An allreduce between threads of one process, standing in for MPI (fake_comm.h). */
#define N_RANKS 2
typedef struct rank_job {
    const mrnn_corpus *c;
    fake_comm *comm;
    uint32_t rank;
    fake_rank ctx;
    loss_log log;
    mrnn_status st;
} rank_job;

static mrnn_train_params rank_params(void)
{
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 16;
    tp.batch_size = 5; /* odd: ranks get 2 and 3 lanes */
    tp.max_steps = TRAIN_STEPS;
    tp.valid_every = TRAIN_STEPS;
    tp.threads = 1;
    return tp;
}

static mrnn_model *rank_model(const mrnn_corpus *c)
{
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 24;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    return m;
}

static void *train_rank(void *arg)
{
    rank_job *j = arg;
    fake_rank_init(&j->ctx, j->comm, j->rank);
    mrnn_model *m = rank_model(j->c);
    mrnn_train_params tp = rank_params();
    tp.allreduce = fake_allreduce;
    tp.allreduce_user_data = &j->ctx;
    tp.rank = j->rank;
    tp.n_ranks = N_RANKS;
    j->log.valid = NAN;
    j->st = mrnn_model_train(m, j->c, &tp, log_loss, &j->log);
    mrnn_model_free(m);
    return NULL;
}

START_TEST(data_parallel_training_matches_one_process)
{
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.25f);
    mrnn_model *m = rank_model(c);
    mrnn_train_params tp = rank_params();
    loss_log one;
    memset(&one, 0, sizeof one);
    one.valid = NAN;
    ck_assert_msg(mrnn_model_train(m, c, &tp, log_loss, &one) == MRNN_OK, "%s", mrnn_last_error());
    mrnn_model_free(m);

    fake_comm comm;
    fake_comm_init(&comm, N_RANKS);
    static rank_job jobs[N_RANKS]; /* large: the call records */
    pthread_t tid[N_RANKS];
    for (uint32_t k = 0; k < N_RANKS; k++) {
        memset(&jobs[k], 0, sizeof jobs[k]);
        jobs[k].c = c;
        jobs[k].comm = &comm;
        jobs[k].rank = k;
        ck_assert_int_eq(pthread_create(&tid[k], NULL, train_rank, &jobs[k]), 0);
    }
    for (int k = 0; k < N_RANKS; k++) pthread_join(tid[k], NULL);
    fake_comm_destroy(&comm);
    for (int k = 0; k < N_RANKS; k++) {
        ck_assert_msg(jobs[k].st == MRNN_OK, "rank %d: status %d", k, jobs[k].st);
        ck_assert_int_eq(jobs[k].log.n, TRAIN_STEPS);
        /* one fused reduction per step, plus the one-float stop vote */
        ck_assert_uint_eq(jobs[k].ctx.n_calls, 2 * TRAIN_STEPS);
        ck_assert(!jobs[k].ctx.mismatch);
        for (int s = 0; s < TRAIN_STEPS; s++) {
            ck_assert_msg(jobs[k].log.loss[s] == jobs[0].log.loss[s], "ranks disagree at step %d", s + 1);
            ck_assert_double_eq_tol(jobs[k].log.loss[s], one.loss[s], 1e-4 * one.loss[s]);
        }
        ck_assert_double_eq_tol(jobs[k].log.valid, one.valid, 1e-4 * one.valid);
    }

    /* More ranks than lanes, or ranks without a callback, are refused before any work. */
    m = rank_model(c);
    tp.n_ranks = 2;
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "allreduce") != NULL);
    tp.allreduce = fake_allreduce;
    tp.n_ranks = 6;
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    tp.n_ranks = 2;
    tp.rank = 2;
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_ERR_INVALID_ARG);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* ---- trainings and samplers on different models at the same time ---------------------------- */

typedef struct mixed_job {
    const mrnn_corpus *c; /* training: the corpus; sampling: NULL */
    uint32_t hidden;      /* the job's own model */
    uint64_t seed;
    uint32_t threads; /* the sampler's mrnn_sampler_params.threads */
    double loss[TRAIN_STEPS];
    int n_loss;
    uint32_t ids[N_STEPS + 8];
    size_t n_ids;
    mrnn_status status;
} mixed_job;

static int record_loss(const mrnn_train_progress *p, void *user)
{
    mixed_job *j = user;
    if (j->n_loss < TRAIN_STEPS) j->loss[j->n_loss++] = p->train_loss;
    return 0;
}

/* No ck_assert here: it may run on a thread of its own. Failures go to j->status. */
static void *mixed_run(void *arg)
{
    mixed_job *j = arg;
    mrnn_vocab *v = NULL;
    mrnn_model *m = NULL;
    mrnn_sampler *s = NULL;
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = j->hidden;
    mp.init_seed = j->seed;
    if (j->c) {
        mp.num_layers = 2;
        mp.dropout = 0.1f;
        j->status = mrnn_model_create(&m, mrnn_corpus_vocab(j->c), NULL, 0, &mp);
        mrnn_train_params tp;
        mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
        tp.seq_len = 32;
        tp.batch_size = 6;
        tp.max_steps = TRAIN_STEPS;
        tp.valid_every = 0;
        tp.seed = j->seed;
        tp.threads = 2;
        if (j->status == MRNN_OK) j->status = mrnn_model_train(m, j->c, &tp, record_loss, j);
    } else {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = MRNN_ENCODING_PERFORMANCE;
        j->status = mrnn_vocab_create(&v, &enc);
        if (j->status == MRNN_OK) j->status = mrnn_model_create(&m, v, NULL, 0, &mp);
        mrnn_sampler_params sp;
        mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
        sp.rng_seed = j->seed;
        sp.n_lanes = 3;
        sp.threads = j->threads;
        if (j->status == MRNN_OK) j->status = mrnn_sampler_create(&s, m, &sp);
        if (j->status == MRNN_OK) j->status = mrnn_sampler_generate(s, N_STEPS, 0, NULL, NULL);
        const uint32_t *ids;
        if (j->status == MRNN_OK) j->status = mrnn_sampler_tokens(s, 2, &ids, &j->n_ids);
        if (j->status == MRNN_OK && j->n_ids <= sizeof j->ids / sizeof *j->ids)
            memcpy(j->ids, ids, j->n_ids * sizeof *ids);
    }
    mrnn_sampler_free(s);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
    return NULL;
}

START_TEST(trainings_and_samplers_at_once)
{
    enum { N_JOBS = 4 };
    mrnn_corpus *c = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0.0f);
    static mixed_job alone[N_JOBS], together[N_JOBS];
    alone[0] = (mixed_job){.c = c, .hidden = 40, .seed = 3};
    alone[1] = (mixed_job){.c = c, .hidden = 24, .seed = 5};
    alone[2] = (mixed_job){.c = NULL, .hidden = 160, .seed = 7, .threads = 2};
    alone[3] = (mixed_job){.c = NULL, .hidden = 128, .seed = 9, .threads = 2};
    for (int i = 0; i < N_JOBS; i++) {
        together[i] = alone[i];
        mixed_run(&alone[i]);
        ck_assert_msg(alone[i].status == MRNN_OK, "job %d alone: %s", i, mrnn_last_error());
    }
    pthread_t th[N_JOBS];
    for (int i = 0; i < N_JOBS; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, mixed_run, &together[i]), 0);
    for (int i = 0; i < N_JOBS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N_JOBS; i++) {
        ck_assert_msg(together[i].status == MRNN_OK, "job %d together: status %d", i, (int)together[i].status);
        if (alone[i].c) {
            ck_assert_int_eq(alone[i].n_loss, TRAIN_STEPS);
            ck_assert_int_eq(together[i].n_loss, TRAIN_STEPS);
            for (int k = 0; k < TRAIN_STEPS; k++)
                ck_assert_msg(together[i].loss[k] == alone[i].loss[k],
                              "training %d, step %d: %.17g alone, %.17g at once", i, k + 1, alone[i].loss[k],
                              together[i].loss[k]);
        } else {
            ck_assert_uint_ge(alone[i].n_ids, N_STEPS);
            ck_assert_uint_eq(together[i].n_ids, alone[i].n_ids);
            ck_assert_mem_eq(together[i].ids, alone[i].ids, alone[i].n_ids * sizeof(uint32_t));
        }
    }
    /* different models must behave differently, or the comparisons above prove little (the
     * samplers' models are large enough for their products to be split over the team) */
    ck_assert(alone[0].loss[TRAIN_STEPS - 1] != alone[1].loss[TRAIN_STEPS - 1]);
    ck_assert(memcmp(alone[2].ids, alone[3].ids, alone[2].n_ids * sizeof(uint32_t)) != 0);
    mrnn_corpus_free(c);
}
END_TEST

/* A folder of MIDI files in sub-folders (styles, a split folder), some of them broken. */
static char *make_midi_tree(void)
{
    const char *src = getenv("MRNN_DEFAULT_CORPUS");
    ck_assert_ptr_nonnull(src);
    char *dir = test_tmpdir();
    char cmd[8400];
    TEST_PATH(cmd, "mkdir -p '%s/jazz/deep/er' '%s/blues' '%s/valid' && cp '%s'/[a-f]*.mid '%s/jazz/' && "
                   "cp '%s'/[g-m]*.mid '%s/jazz/deep/er/' && cp '%s'/[n-z]*.mid '%s/blues/' && "
                   "cp '%s'/[0-9]*.mid '%s/valid/' && printf 'MThd garbage' > '%s/blues/broken.mid' && "
                   ": > '%s/jazz/empty.mid'",
              dir, dir, dir, src, dir, src, dir, src, dir, src, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    return dir;
}

typedef struct progress_log {
    uint32_t calls, last_done, total, skipped, out_of_order;
    uint64_t bytes;
    pthread_t thread;
    int other_thread;
    uint32_t stop_after; /* 0: never */
} progress_log;

static int on_corpus_progress(const mrnn_corpus_progress *p, void *user)
{
    progress_log *l = user;
    l->calls++;
    if (p->files_done != l->last_done + 1) l->out_of_order++;
    if (!pthread_equal(pthread_self(), l->thread)) l->other_thread = 1;
    l->last_done = p->files_done;
    l->total = p->files_total;
    l->skipped = p->files_skipped;
    l->bytes = p->bytes_read;
    return l->stop_after && p->files_done >= l->stop_after;
}

static uint8_t *read_tree(const char *dir, uint32_t encoding, uint32_t threads, const char *out, progress_log *log,
                          size_t *len)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = encoding;
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.threads = threads;
    cp.transpose_range = 1;
    cp.progress = on_corpus_progress;
    cp.progress_user_data = log;
    memset(log, 0, sizeof *log);
    log->thread = pthread_self();
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
    ck_assert_msg(mrnn_corpus_add_dir(c, dir) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_msg(mrnn_corpus_save(c, out) == MRNN_OK, "%s", mrnn_last_error());
    mrnn_corpus_free(c);
    return test_read(out, len);
}

START_TEST(reading_a_folder_on_several_threads)
{
    char *dir = make_midi_tree();
    char out[4200];
    TEST_PATH(out, "%s.mrc", dir);
    size_t len1 = 0, len = 0;
    progress_log log1, log;
    /* notechord encodes on the committing thread (its vocabulary grows); performance and pianoroll
     * on the reading threads */
    for (uint32_t e = MRNN_ENCODING_NOTECHORD; e <= MRNN_ENCODING_PIANOROLL; e++) {
    uint8_t *one = read_tree(dir, e, 1, out, &log1, &len1);
    ck_assert_uint_gt(log1.total, 20);
    ck_assert_uint_eq(log1.calls, log1.total);
    ck_assert_uint_eq(log1.skipped, 2); /* broken.mid and empty.mid */
    ck_assert_uint_gt(log1.bytes, 10000);
    for (uint32_t threads = 2; threads <= 3; threads++) {
        uint8_t *many = read_tree(dir, e, threads, out, &log, &len);
        ck_assert_msg(len == len1 && memcmp(one, many, len) == 0, "encoding %u, %u threads: the corpus file differs",
                      e, threads);
        ck_assert_uint_eq(log.calls, log1.total);
        ck_assert_uint_eq(log.out_of_order, 0);
        ck_assert_int_eq(log.other_thread, 0);
        ck_assert_uint_eq(log.skipped, 2);
        ck_assert_uint_eq(log.bytes, log1.bytes);
        free(many);
    }
    free(one);
    }

    /* Stopping from the callback: the files committed so far stay, the helpers are joined. */
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.threads = 2;
    cp.progress = on_corpus_progress;
    cp.progress_user_data = &log;
    memset(&log, 0, sizeof log);
    log.thread = pthread_self();
    log.stop_after = 5;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, &cp), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_dir(c, dir), MRNN_ERR_CANCELLED);
    ck_assert(strstr(mrnn_last_error(), "cancelled") != NULL);
    ck_assert_uint_eq(mrnn_corpus_file_count(c), 5);
    mrnn_corpus_free(c);
    remove(out);
    test_rmdir(dir);
}
END_TEST

/* mrnn_sampler_params.threads changes who computes, not what: 1, 2 and the default give the same
 * pieces (the products split by output panels, each computed whole by one thread). Hidden 160:
 * the layers' products are large enough to be split (packed.c). */
START_TEST(sampler_threads_do_not_change_the_piece)
{
    static mixed_job job[3];
    const uint32_t threads[3] = {1, 2, 0};
    for (int i = 0; i < 3; i++) {
        job[i] = (mixed_job){.c = NULL, .hidden = 160, .seed = 11, .threads = threads[i]};
        mixed_run(&job[i]);
        ck_assert_msg(job[i].status == MRNN_OK, "threads %u: %s", threads[i], mrnn_last_error());
        ck_assert_uint_ge(job[i].n_ids, N_STEPS);
    }
    for (int i = 1; i < 3; i++) {
        ck_assert_uint_eq(job[i].n_ids, job[0].n_ids);
        ck_assert_mem_eq(job[i].ids, job[0].ids, job[0].n_ids * sizeof(uint32_t));
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *t = tcase_create("threads");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, samplers_on_one_model_in_parallel_threads);
    tcase_add_test(t, vocabulary_getters_from_many_threads);
    tcase_add_test(t, last_error_is_per_thread_under_contention);
    tcase_add_test(t, training_on_two_threads);
    tcase_add_test(t, reading_a_folder_on_several_threads);
    tcase_add_test(t, data_parallel_training_matches_one_process);
    tcase_add_test(t, trainings_and_samplers_at_once);
    tcase_add_test(t, sampler_threads_do_not_change_the_piece);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
