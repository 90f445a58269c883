/* The training loop: random truncated-BPTT windows, forward/backward, gradient clipping, Adam,
 * learning-rate schedule, validation, early stopping, checkpoints, CSV log, progress callback. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "adam.h"
#include "alloc.h"
#include "batcher.h"
#include "compute.h"
#include "error.h"
#include "evaluate.h"
#include "grad_reducer.h"
#include "model.h"
#include "vocab.h"

#define MAX_SEQ_LEN 4096u
#define MAX_BATCH 4096u

/* Bytes of mrnn_train_params in each released version (fields are only appended; a program built
 * against an older header passes the smaller struct); 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_train_params, log_path) + sizeof(const char *);
    case 2: return offsetof(mrnn_train_params, input_dropout) + sizeof(float);
    case 3: return offsetof(mrnn_train_params, n_ranks) + sizeof(uint32_t);
    case 4: return offsetof(mrnn_train_params, recurrent_dropout) + sizeof(float);
    case 5: return offsetof(mrnn_train_params, allreduce_segment_min) + sizeof(uint32_t);
    case 6: return sizeof(mrnn_train_params);
    default: return 0;
    }
}

static void params_defaults(mrnn_train_params *p)
{
    memset(p, 0, sizeof *p);
    p->version = MRNN_TRAIN_PARAMS_VERSION;
    p->seq_len = 64;
    p->batch_size = 32;
    p->learning_rate = 0.002f;
    p->lr_schedule = MRNN_LR_CONSTANT;
    p->warmup_steps = 100;
    p->min_lr_fraction = 0.1f;
    p->beta1 = 0.9f;
    p->beta2 = 0.999f;
    p->epsilon = 1e-8f;
    p->weight_decay = 0.0f;
    p->clip_norm = 5.0f;
    p->max_steps = 0;
    p->epochs = 10.0f;
    p->seed = 1;
    p->threads = 0;
    p->valid_every = 100;
    p->patience = 0;
    p->checkpoint_every = 500;
    p->input_dropout = 0.0f;
    p->rank = 0;
    p->n_ranks = 1;
    p->recurrent_dropout = 0.0f;
    p->weight_dropout = 0.0f;
    p->weight_average = 0.0f;
    p->allreduce_overlap = 0;
    p->allreduce_segment_min = MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT;
}

MRNN_API mrnn_status mrnn_train_params_init(mrnn_train_params *p, uint32_t version)
{
    MRNN_CHECK_ARG(p, "p");
    size_t size = params_size(version);
    if (!size) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_train_params_init: unknown params version %u", version);
    mrnn_train_params full;
    params_defaults(&full);
    full.version = version;
    memcpy(p, &full, size);
    return MRNN_OK;
}

static mrnn_status check_params(const mrnn_train_params *p)
{
#define BAD(...) return mrnn__fail(MRNN_ERR_INVALID_ARG, __VA_ARGS__)
    if (p->version != MRNN_TRAIN_PARAMS_VERSION)
        BAD("train params: version %u is unknown (call mrnn_train_params_init)", p->version);
    if (!(p->input_dropout >= 0 && p->input_dropout < 1))
        BAD("train params: input_dropout %g is not in [0, 1)", (double)p->input_dropout);
    if (!(p->weight_average >= 0 && p->weight_average < 1))
        BAD("train params: weight_average %g is not in [0, 1)", (double)p->weight_average);
    if (!(p->recurrent_dropout >= 0 && p->recurrent_dropout < 1))
        BAD("train params: recurrent_dropout %g is not in [0, 1)", (double)p->recurrent_dropout);
    if (!(p->weight_dropout >= 0 && p->weight_dropout < 1))
        BAD("train params: weight_dropout %g is not in [0, 1)", (double)p->weight_dropout);
    if (p->n_ranks < 1 || p->rank >= p->n_ranks)
        BAD("train params: rank %u is not below n_ranks %u", p->rank, p->n_ranks);
    if (p->n_ranks > 1 && !p->allreduce) BAD("train params: n_ranks %u needs an allreduce callback", p->n_ranks);
    if (p->allreduce_overlap > 1) BAD("train params: allreduce_overlap %u is not 0 or 1", p->allreduce_overlap);
    if (p->allreduce_overlap && !p->allreduce) BAD("train params: allreduce_overlap needs an allreduce callback");
    if (p->n_ranks > p->batch_size)
        BAD("train params: n_ranks %u is more than batch_size %u (every rank needs a lane)", p->n_ranks, p->batch_size);
    if (p->seq_len < 1 || p->seq_len > MAX_SEQ_LEN) BAD("train params: seq_len %u is not in 1..%u", p->seq_len, MAX_SEQ_LEN);
    if (p->batch_size < 1 || p->batch_size > MAX_BATCH)
        BAD("train params: batch_size %u is not in 1..%u", p->batch_size, MAX_BATCH);
    if (!(p->learning_rate > 0 && p->learning_rate < 10))
        BAD("train params: learning_rate %g is not in (0, 10)", (double)p->learning_rate);
    if (p->lr_schedule > MRNN_LR_WARMUP_COSINE) BAD("train params: unknown lr_schedule %u", p->lr_schedule);
    if (!(p->min_lr_fraction >= 0 && p->min_lr_fraction <= 1))
        BAD("train params: min_lr_fraction %g is not in [0, 1]", (double)p->min_lr_fraction);
    if (!(p->beta1 >= 0 && p->beta1 < 1)) BAD("train params: beta1 %g is not in [0, 1)", (double)p->beta1);
    if (!(p->beta2 >= 0 && p->beta2 < 1)) BAD("train params: beta2 %g is not in [0, 1)", (double)p->beta2);
    if (!(p->epsilon > 0)) BAD("train params: epsilon %g must be positive", (double)p->epsilon);
    if (!(p->weight_decay >= 0 && p->weight_decay < 1))
        BAD("train params: weight_decay %g is not in [0, 1)", (double)p->weight_decay);
    if (!(p->clip_norm >= 0)) BAD("train params: clip_norm %g is negative", (double)p->clip_norm);
    if (p->max_steps == 0 && !(p->epochs > 0 && p->epochs < 1e6))
        BAD("train params: epochs %g is not in (0, 1e6) and max_steps is 0", (double)p->epochs);
    if (p->threads > 256) BAD("train params: threads %u is more than 256", p->threads);
    if ((p->checkpoint_path || p->best_path) && p->checkpoint_every == 0)
        BAD("train params: checkpoint_every must be at least 1");
#undef BAD
    return MRNN_OK;
}

static double learning_rate(const mrnn_train_params *p, uint64_t step, uint64_t total)
{
    double lr = p->learning_rate;
    if (p->lr_schedule != MRNN_LR_WARMUP_COSINE) return lr;
    if (p->warmup_steps > 0 && step <= p->warmup_steps) return lr * (double)step / (double)p->warmup_steps;
    double span = total > p->warmup_steps ? (double)(total - p->warmup_steps) : 1.0;
    double progress = (double)(step - p->warmup_steps) / span;
    if (progress > 1) progress = 1;
    double floor = lr * p->min_lr_fraction;
    return floor + (lr - floor) * 0.5 * (1.0 + cos(3.141592653589793 * progress));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Append one CSV line; the header goes first into a new or empty file. */
static mrnn_status log_line(const char *path, const mrnn_train_progress *pr)
{
    FILE *f = fopen(path, "a");
    if (!f) return mrnn__fail(MRNN_ERR_IO, "%s: cannot open the training log for appending", path);
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size == 0)
        fputs("step,epoch,train_loss,valid_loss,learning_rate,tokens_per_second,elapsed_seconds\n", f);
    char valid[32] = "";
    if (!isnan(pr->valid_loss)) snprintf(valid, sizeof valid, "%.6f", pr->valid_loss);
    fprintf(f, "%llu,%.4f,%.6f,%s,%.6g,%.1f,%.2f\n", (unsigned long long)pr->step, pr->epoch, pr->train_loss, valid,
            pr->learning_rate, pr->tokens_per_second, pr->elapsed_seconds);
    if (fclose(f) != 0) return mrnn__fail(MRNN_ERR_IO, "%s: write error on the training log", path);
    return MRNN_OK;
}

typedef struct train_run {
    mrnn_model *m;
    const mrnn_corpus *c;
    const mrnn_train_params *p;
    mrnn__batcher batcher;
    mrnn__net_workspace *ws;
    const mrnn__compute *cx; /* the call's threads and kernel path (compute.h) */
    mrnn__team *team;        /* cx->team: the call's threads, or NULL for one */
    double *norm_sums;
    float *grad_block;
    mrnn__net_params grad;
    uint64_t total_steps;
    int has_valid;
    /* Data-parallel runs: this rank's lanes of the global batch, and the sum across ranks of
     * each step's gradient and loss (grad_reducer.h); with the overlap, the step's result the
     * backward pass has added its loss to, and whether the reducer has been given it. */
    int distributed, first_lane, n_lanes;
    mrnn__grad_reducer *reducer;
    const mrnn__net_result *step_res;
    int step_started;
} train_run;

static void run_free(train_run *r)
{
    mrnn__batcher_free(&r->batcher);
    mrnn__net_workspace_free(r->ws);
    mrnn__free(r->norm_sums);
    mrnn__free(r->grad_block);
    mrnn__grad_reducer_free(r->reducer);
}

/* The backward pass hands over a finished tail of the gradient; the first hand-over of a step
 * comes after the loss, so the reducer learns this rank's loss sum and count then. */
static void step_start(train_run *r)
{
    if (r->step_started) return;
    mrnn__grad_reducer_start(r->reducer, r->step_res->loss_sum, (double)r->step_res->n_scored);
    r->step_started = 1;
}

static void on_grad_ready(void *ctx, size_t from)
{
    train_run *r = ctx;
    step_start(r);
    mrnn__grad_reducer_ready(r->reducer, from);
}

static mrnn_status reducer_setup(train_run *r)
{
    size_t cuts[MRNN__MAX_LAYERS + 1];
    int n_cuts = mrnn__grad_reducer_net_cuts(&r->m->cfg, &r->grad, cuts);
    const mrnn_train_params *p = r->p;
    mrnn_status st = mrnn__grad_reducer_new(&r->reducer, r->grad_block, r->m->n_params, (int)p->allreduce_overlap, cuts,
                                            n_cuts, p->allreduce_segment_min, p->allreduce, p->allreduce_user_data);
    if (st != MRNN_OK) return st;
    if (p->allreduce_overlap) mrnn__net_workspace_set_grad_hook(r->ws, on_grad_ready, r);
    return MRNN_OK;
}

/* The training weights and the average trade places (model.h). */
static void swap_average(mrnn_model *m)
{
    for (size_t i = 0; i < m->n_params; i++) {
        float t = m->weights[i];
        m->weights[i] = m->avg[i];
        m->avg[i] = t;
    }
    m->avg_swapped = !m->avg_swapped;
}

static mrnn_status run_setup(train_run *r)
{
    mrnn_model *m = r->m;
    const mrnn_train_params *p = r->p;
    r->distributed = p->allreduce != NULL;
    /* Rank k of n takes lanes [k B / n, (k+1) B / n): shares differ by at most one lane. */
    r->first_lane = (int)((uint64_t)p->rank * p->batch_size / p->n_ranks);
    r->n_lanes = (int)((uint64_t)(p->rank + 1) * p->batch_size / p->n_ranks) - r->first_lane;
    mrnn_status st = mrnn__batcher_init(&r->batcher, r->c, (int)p->seq_len, r->n_lanes, m->cfg.n_styles);
    if (st != MRNN_OK) return st;
    if (r->batcher.n_train == 0)
        return mrnn__fail(MRNN_ERR_EMPTY, "the corpus has no training piece with at least two steps");
    r->ws = mrnn__net_workspace_new_kernel(&m->cfg, (int)p->seq_len, r->n_lanes, r->cx->pack, r->cx->isa);
    r->grad_block = mrnn__calloc_large(m->n_params, sizeof *r->grad_block);
    r->norm_sums = mrnn__malloc(mrnn__norm_chunks(m->n_params) * sizeof *r->norm_sums);
    if (!r->ws || !r->grad_block || !r->norm_sums)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for training (%zu parameters, batch %u x %u)", m->n_params,
                          p->batch_size, p->seq_len);
    mrnn__net_bind(&m->cfg, r->grad_block, &r->grad);
    mrnn__net_workspace_set_team(r->ws, r->team);
    mrnn__net_workspace_set_recurrent_dropout(r->ws, p->recurrent_dropout);
    if (mrnn__net_workspace_set_weight_dropout(r->ws, &m->cfg, p->weight_dropout) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for weight dropout (%u layers of %u cells)", m->cfg.layers,
                          m->cfg.hidden);
    if (r->distributed) {
        st = reducer_setup(r);
        if (st != MRNN_OK) return st;
    }
    st = mrnn__model_alloc_optimizer(m);
    if (st != MRNN_OK) return st;
    if (p->max_steps > 0) {
        r->total_steps = p->max_steps;
    } else {
        double per_step = (double)p->seq_len * (double)p->batch_size;
        double steps = ceil((double)p->epochs * (double)r->batcher.train_transitions / per_step);
        r->total_steps = steps < 1 ? 1 : (uint64_t)steps;
    }
    for (size_t i = 0; i < r->c->n_pieces; i++) {
        if (r->c->pieces[i].split == MRNN_SPLIT_VALID && r->c->pieces[i].n_steps >= 2) r->has_valid = 1;
    }
    /* The training weights back in place; a new average (of the weights as they are now) when
     * asked for and none is running; none when not asked for. */
    if (m->avg && m->avg_swapped) swap_average(m);
    if (m->avg && !(p->weight_average > 0)) {
        mrnn__free(m->avg);
        m->avg = NULL;
    }
    if (!m->avg && p->weight_average > 0) {
        m->avg = mrnn__malloc(m->n_params * sizeof *m->avg);
        if (!m->avg) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for the weight average");
        memcpy(m->avg, m->weights, m->n_params * sizeof *m->avg);
    }
    /* A model that has never trained starts its batch/dropout stream from the seed; a resumed one
     * continues the stream saved in its checkpoint. */
    if (!m->rng_seeded) {
        mrnn__rng_seed(&m->rng, p->seed);
        m->rng_seeded = 1;
    }
    return MRNN_OK;
}

/* Data-parallel part of a step: every rank ends with the gradient of the mean loss over the whole
 * global batch, and the global loss sum and count (grad_reducer.h; with the overlap most of it is
 * done by the time the backward pass returns). A window with no scored row never started it. */
static mrnn_status allreduce_step(train_run *r, mrnn__net_result *res)
{
    step_start(r);
    double loss_sum, total;
    if (mrnn__grad_reducer_finish(r->reducer, &loss_sum, &total) != 0)
        return mrnn__fail(MRNN_ERR_IO, "rank %u: the allreduce callback failed at step %llu", r->p->rank,
                          (unsigned long long)(r->m->step + 1));
    res->loss_sum = loss_sum;
    res->n_scored = (uint64_t)llround(total);
    return MRNN_OK;
}

/* Whether a training window draws dropout masks (on the LSTM outputs, in the recurrence or on its
 * weights). */
static int dropping(const train_run *r)
{
    return r->m->cfg.dropout > 0 || r->p->recurrent_dropout > 0 || r->p->weight_dropout > 0;
}

/* One optimiser step. Returns the mean loss, or NaN when it diverged (weights untouched then). */
static double train_step(train_run *r, double lr, uint64_t *n_scored, mrnn_status *st)
{
    mrnn_model *m = r->m;
    mrnn__net_result res = {0};
    *st = MRNN_OK;
    if (!r->distributed) {
        mrnn__batcher_sample(&r->batcher, &m->rng);
        if (r->p->input_dropout > 0) mrnn__batcher_drop_inputs(&r->batcher, r->p->input_dropout, &m->rng);
        mrnn__net_forward_backward(&m->cfg, &m->w, &r->grad, &r->batcher.batch, r->ws,
                                   dropping(r) ? &m->rng : NULL, &res);
    } else {
        /* Every rank draws the whole global batch from the shared stream, which so advances the
         * same way on every rank and as in a one-process run. Dropout masks come from a stream of
         * the rank's own, seeded from a copy of the shared one (which is left untouched). */
        mrnn__batcher_sample_share(&r->batcher, &m->rng, (int)r->p->batch_size, r->first_lane);
        mrnn__rng peek = m->rng, local;
        mrnn__rng_seed(&local, mrnn__rng_next(&peek) + (uint64_t)r->p->rank * UINT64_C(0x9E3779B97F4A7C15));
        if (r->p->input_dropout > 0) mrnn__batcher_drop_inputs(&r->batcher, r->p->input_dropout, &local);
        r->step_res = &res;
        r->step_started = 0;
        mrnn__net_forward_backward(&m->cfg, &m->w, &r->grad, &r->batcher.batch, r->ws,
                                   dropping(r) ? &local : NULL, &res);
        *st = allreduce_step(r, &res);
        if (*st != MRNN_OK) return NAN;
    }
    *n_scored = res.n_scored;
    double loss = res.n_scored ? res.loss_sum / (double)res.n_scored : 0.0;
    if (!isfinite(loss)) return NAN;
    double norm = mrnn__clip_grad_norm_team(r->team, r->grad_block, m->n_params, r->p->clip_norm, r->norm_sums);
    if (!isfinite(norm)) return NAN;
    mrnn__adam_config ac = {(float)lr, r->p->beta1, r->p->beta2, r->p->epsilon, r->p->weight_decay};
    mrnn__adam_update_team(r->team, m->weights, r->grad_block, m->adam_m, m->adam_v, m->n_params, m->step + 1, &ac);
    if (m->avg) mrnn__average_update(m->avg, m->weights, m->n_params, r->p->weight_average);
    m->step++;
    return loss;
}

/* Validation (of the average, when there is one), best-model keeping and the early-stopping
 * counter. Sets *stop when patience ran out. */
static mrnn_status validate(train_run *r, double *valid_loss, int *stop)
{
    mrnn_model *m = r->m;
    mrnn_eval_result ev;
    if (m->avg) swap_average(m);
    mrnn_status st = mrnn__evaluate(m, r->c, MRNN_SPLIT_VALID, r->cx, &ev);
    if (st == MRNN_OK && ev.nll < m->best_valid && r->p->best_path && r->p->rank == 0)
        st = mrnn_model_save(m, r->p->best_path, MRNN_SAVE_WEIGHTS_ONLY);
    if (m->avg) swap_average(m);
    if (st != MRNN_OK) return st;
    *valid_loss = ev.nll;
    if (ev.nll < m->best_valid) {
        m->best_valid = ev.nll;
        m->valids_since_best = 0;
    } else {
        m->valids_since_best++;
        if (r->p->patience && m->valids_since_best >= r->p->patience) *stop = 1;
    }
    return MRNN_OK;
}

static mrnn_status run_loop(train_run *r, mrnn_train_callback cb, void *user_data)
{
    mrnn_model *m = r->m;
    const mrnn_train_params *p = r->p;
    double t0 = now_seconds();
    uint64_t tokens = 0;
    mrnn_status st = MRNN_OK;
    int stop = 0;
    while (m->step < r->total_steps && !stop) {
        double lr = learning_rate(p, m->step + 1, r->total_steps);
        uint64_t scored = 0;
        mrnn_status step_st;
        double loss = train_step(r, lr, &scored, &step_st);
        if (step_st != MRNN_OK) return step_st;
        if (isnan(loss))
            return mrnn__fail(MRNN_ERR_NUMERIC, "training diverged at step %llu (loss or gradient not finite); "
                              "try a lower learning rate or clip_norm", (unsigned long long)(m->step + 1));
        tokens += scored;
        mrnn_train_progress pr;
        pr.step = m->step;
        pr.total_steps = r->total_steps;
        pr.epoch = (double)m->step * p->seq_len * p->batch_size / (double)r->batcher.train_transitions;
        pr.train_loss = loss;
        pr.valid_loss = NAN;
        pr.learning_rate = lr;
        pr.elapsed_seconds = now_seconds() - t0;
        pr.tokens_per_second = pr.elapsed_seconds > 0 ? (double)tokens / pr.elapsed_seconds : 0;
        int last = m->step == r->total_steps;
        if (r->has_valid && p->valid_every && (m->step % p->valid_every == 0 || last)) {
            st = validate(r, &pr.valid_loss, &stop);
            if (st != MRNN_OK) return st;
        }
        int writer = p->rank == 0; /* one process writes the files of a data-parallel run */
        if (p->log_path && writer) {
            st = log_line(p->log_path, &pr);
            if (st != MRNN_OK) return st;
        }
        int cancel = cb ? cb(&pr, user_data) : 0;
        if (r->distributed) {
            /* Any rank asking to stop stops them all at the same step (else the others would
             * wait in the next allreduce for ever). */
            float vote = cancel ? 1.0f : 0.0f;
            if (p->allreduce(&vote, 1, p->allreduce_user_data) != 0)
                return mrnn__fail(MRNN_ERR_IO, "rank %u: the allreduce callback failed at step %llu", p->rank,
                                  (unsigned long long)m->step);
            cancel = vote > 0;
        }
        if (p->checkpoint_path && writer && (m->step % p->checkpoint_every == 0 || last || cancel || stop)) {
            st = mrnn_model_save(m, p->checkpoint_path, MRNN_SAVE_TRAINING_STATE);
            if (st != MRNN_OK) return st;
        }
        if (cancel) return mrnn__fail(MRNN_ERR_CANCELLED, "training cancelled by the callback at step %llu",
                                      (unsigned long long)m->step);
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_model_train(mrnn_model *m, const mrnn_corpus *corpus, const mrnn_train_params *params,
                                      mrnn_train_callback cb, void *user_data)
{
    MRNN_CHECK_ARG(m, "m");
    MRNN_CHECK_ARG(corpus, "corpus");
    /* Every version as the current one, the fields it lacks at their defaults. */
    mrnn_train_params full;
    params_defaults(&full);
    if (params) {
        size_t size = params_size(params->version);
        if (!size)
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "train params: version %u is not 1..%u (call mrnn_train_params_init)",
                              params->version, MRNN_TRAIN_PARAMS_VERSION);
        memcpy(&full, params, size);
        full.version = MRNN_TRAIN_PARAMS_VERSION;
    }
    params = &full;
    mrnn_status st = check_params(params);
    if (st != MRNN_OK) return st;
    if (!corpus->finished)
        return mrnn__fail(MRNN_ERR_STATE, "the corpus must be finished (mrnn_corpus_finish) before training");
    if (!mrnn__vocab_equal(m->vocab, corpus->vocab))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "the corpus vocabulary differs from the model's");
    if (m->cfg.n_styles && corpus->n_styles != m->n_styles)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "the corpus has %zu style labels, the model %u", corpus->n_styles,
                          m->n_styles);

    /* The call's threads (compute.h): a team of params->threads, OpenBLAS single-threaded inside. */
    mrnn__compute cx;
    mrnn__compute_init(&cx, params->threads);
    train_run r;
    memset(&r, 0, sizeof r);
    r.cx = &cx;
    r.team = cx.team;
    r.m = m;
    r.c = corpus;
    r.p = params;
    st = run_setup(&r);
    if (st == MRNN_OK) st = run_loop(&r, cb, user_data);
    if (m->avg && !m->avg_swapped) swap_average(m); /* the model is the average */
    run_free(&r);
    mrnn__compute_free(&cx);
    return st;
}
