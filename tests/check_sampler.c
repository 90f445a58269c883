/* Sampler: the sampling distribution (temperature, top-k, top-p, repetition penalty) on fixed
 * logits, reproducibility, priming, streaming, length limits, constraints over thousands of steps,
 * beam search against greedy on a trained model, MIDI output and threads. */
#include <math.h>
#include <pthread.h>

#include "encoding.h"
#include "encoding_performance.h"
#include "midi.h"
#include "model.h"
#include "sampler.h"
#include "test_main.h"
#include "test_util.h"

static mrnn_model *tiny_model(uint32_t encoding, const mrnn_vocab *given)
{
    mrnn_vocab *v = NULL;
    if (!given) {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = encoding;
        ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
        given = v;
    }
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 8;
    mp.hidden_size = 16;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, given, NULL, 0, &mp), MRNN_OK);
    mrnn_vocab_free(v);
    return m;
}

/* A pianoroll model with the NADE frame output (its weights random, as initialised). */
static mrnn_model *tiny_nade_model(void)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PIANOROLL;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 8;
    mp.hidden_size = 16;
    mp.frame_output = MRNN_FRAME_OUTPUT_NADE;
    mp.nade_hidden = 12;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    mrnn_vocab_free(v);
    return m;
}

/* With every weight zero the LSTM state stays zero, so the logits are exactly b_out. */
static const double P5[5] = {0.4, 0.3, 0.15, 0.1, 0.05};

static mrnn_model *fixed_logits_model(void)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    memset(m->weights, 0, m->n_params * sizeof(float));
    for (uint32_t i = 0; i < m->cfg.n_out; i++) m->w.b_out[i] = i < 5 ? (float)log(P5[i]) : -1e4f;
    return m;
}

static void expect_distribution(mrnn_model *m, const mrnn_sampler_params *sp, const double *want)
{
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 1, 0, NULL, NULL), MRNN_OK);
    float got[MRNN__PERF_SIZE];
    ck_assert_int_eq(mrnn_sampler_distribution(s, 0, got, MRNN__PERF_SIZE), MRNN_OK);
    for (int i = 0; i < MRNN__PERF_SIZE; i++)
        ck_assert_msg(fabs(got[i] - (i < 5 ? want[i] : 0.0)) < 1e-5, "token %d: %g, want %g", i, got[i],
                      i < 5 ? want[i] : 0.0);
    mrnn_sampler_free(s);
}

/* MRNN_WEIGHTS_BF16: the sampler computes with the bfloat16 copy (its distribution differs from
 * the float one, so the option is wired through), and stays close to float (8 significant bits). */
START_TEST(bf16_weights_stay_close_to_float)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 32;
    mp.hidden_size = 96; /* not a multiple of the 64-column panels */
    mp.num_layers = 2;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, v, NULL, 0, &mp), MRNN_OK);
    /* Sharper logits than at initialisation, so that the distributions are not nearly uniform. */
    for (size_t i = 0; i < m->n_params; i++) m->weights[i] *= 3.0f;
    for (size_t i = 0; i < (size_t)m->cfg.n_out * m->cfg.hidden; i++) m->w.w_out[i] *= 10.0f;
    static float want[MRNN__PERF_SIZE], got[MRNN__PERF_SIZE];
    double max_diff = 0, max_p = 0;
    for (int fmt = 0; fmt < 2; fmt++) {
        mrnn_sampler_params sp;
        mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
        sp.weight_format = fmt ? MRNN_WEIGHTS_BF16 : MRNN_WEIGHTS_FLOAT32;
        mrnn_sampler *s = NULL;
        ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
        ck_assert_int_eq(mrnn_sampler_prime_text(s, "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_25 NOTE_OFF_60 NOTE_ON_64"), MRNN_OK);
        ck_assert_int_eq(mrnn_sampler_generate(s, 1, 0, NULL, NULL), MRNN_OK);
        ck_assert_int_eq(mrnn_sampler_distribution(s, 0, fmt ? got : want, MRNN__PERF_SIZE), MRNN_OK);
        mrnn_sampler_free(s);
    }
    for (int i = 0; i < MRNN__PERF_SIZE; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > max_diff) max_diff = d;
        if (want[i] > max_p) max_p = want[i];
    }
    ck_assert_msg(max_p > 0.02, "the float distribution is too flat to compare (max %g)", max_p);
    ck_assert_msg(max_diff > 0, "bf16 and float samplers gave identical distributions: bf16 not used");
    ck_assert_msg(max_diff < 2e-2, "bf16 differs from float by %g", max_diff);
    mrnn_model_free(m);
    mrnn_vocab_free(v);
}
END_TEST

static void normalise(double *p, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    for (int i = 0; i < n; i++) p[i] /= s;
}

START_TEST(distribution_temperature_top_k_top_p)
{
    mrnn_model *m = fixed_logits_model();
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    expect_distribution(m, &sp, P5);

    double w[5];
    for (int i = 0; i < 5; i++) w[i] = P5[i] * P5[i]; /* T = 0.5 squares the probabilities */
    normalise(w, 5);
    sp.temperature = 0.5f;
    expect_distribution(m, &sp, w);

    for (int i = 0; i < 5; i++) w[i] = sqrt(P5[i]); /* T = 2 takes their square roots */
    normalise(w, 5);
    sp.temperature = 2.0f;
    expect_distribution(m, &sp, w);

    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.top_k = 2;
    double k2[5] = {0.4 / 0.7, 0.3 / 0.7, 0, 0, 0};
    expect_distribution(m, &sp, k2);

    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.top_p = 0.8f; /* 0.4 + 0.3 < 0.8 <= 0.4 + 0.3 + 0.15 */
    double p8[5] = {0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0};
    expect_distribution(m, &sp, p8);

    sp.top_k = 1; /* both: the stricter wins */
    double k1[5] = {1, 0, 0, 0, 0};
    expect_distribution(m, &sp, k1);

    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.temperature = 0; /* greedy */
    expect_distribution(m, &sp, k1);
    mrnn_model_free(m);
}
END_TEST

START_TEST(draws_follow_the_distribution)
{
    mrnn_model *m = fixed_logits_model();
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = 16;
    sp.rng_seed = 5;
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 1000, 0, NULL, NULL), MRNN_OK);
    double count[5] = {0}, total = 0;
    for (uint32_t lane = 0; lane < 16; lane++) {
        const uint32_t *ids;
        size_t n;
        ck_assert_int_eq(mrnn_sampler_tokens(s, lane, &ids, &n), MRNN_OK);
        ck_assert_uint_eq(n, 1000);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_lt(ids[i], 5);
            count[ids[i]]++;
            total++;
        }
    }
    /* 16000 draws: the standard error of each share is below 0.004. */
    for (int i = 0; i < 5; i++) ck_assert_msg(fabs(count[i] / total - P5[i]) < 0.015, "token %d: %.4f", i, count[i] / total);
    mrnn_sampler_free(s);
    mrnn_model_free(m);
}
END_TEST

START_TEST(repetition_penalty_lowers_recent_tokens)
{
    mrnn_model *m = fixed_logits_model();
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.repetition_penalty = 2.0f;
    sp.repetition_window = 1;
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "NOTE_ON_1"), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 1, 0, NULL, NULL), MRNN_OK);
    float got[MRNN__PERF_SIZE];
    ck_assert_int_eq(mrnn_sampler_distribution(s, 0, got, MRNN__PERF_SIZE), MRNN_OK);
    /* The primer's token 1 had logit log 0.3 < 0: multiplied by the penalty, i.e. squared. */
    double w[5] = {P5[0], P5[1] * P5[1], P5[2], P5[3], P5[4]};
    normalise(w, 5);
    for (int i = 0; i < 5; i++) ck_assert_msg(fabs(got[i] - w[i]) < 1e-5, "token %d: %g want %g", i, got[i], w[i]);
    mrnn_sampler_free(s);
    mrnn_model_free(m);
}
END_TEST

static void generate_tokens(mrnn_model *m, const mrnn_sampler_params *sp, uint32_t steps, uint32_t **out, size_t *n)
{
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, steps, 0, NULL, NULL), MRNN_OK);
    const uint32_t *ids;
    ck_assert_int_eq(mrnn_sampler_tokens(s, 0, &ids, n), MRNN_OK);
    *out = malloc(*n * sizeof **out + 1);
    memcpy(*out, ids, *n * sizeof **out);
    mrnn_sampler_free(s);
}

START_TEST(same_seed_same_piece)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.rng_seed = 11;
    uint32_t *a, *b, *c;
    size_t na, nb, nc;
    generate_tokens(m, &sp, 300, &a, &na);
    generate_tokens(m, &sp, 300, &b, &nb);
    sp.rng_seed = 12;
    generate_tokens(m, &sp, 300, &c, &nc);
    ck_assert_uint_eq(na, 300);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na * sizeof *a);
    ck_assert(nc != na || memcmp(a, c, na * sizeof *a) != 0);
    /* reset() with the same seed replays the piece too */
    mrnn_sampler *s = NULL;
    sp.rng_seed = 11;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 100, 0, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_reset(s, 11), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 300, 0, NULL, NULL), MRNN_OK);
    const uint32_t *ids;
    size_t n;
    mrnn_sampler_tokens(s, 0, &ids, &n);
    ck_assert_uint_eq(n, na);
    ck_assert_mem_eq(ids, a, n * sizeof *a);
    mrnn_sampler_free(s);
    free(a);
    free(b);
    free(c);
    mrnn_model_free(m);
}
END_TEST

typedef struct stream_log {
    uint32_t events, cancel_after;
    uint64_t last_step[4];
    double max_latency;
} stream_log;

static int on_event(const mrnn_sample_event *ev, void *user)
{
    stream_log *l = user;
    ck_assert_uint_lt(ev->lane, 4);
    ck_assert(ev->probability > 0 && ev->probability <= 1);
    ck_assert(ev->latency_seconds >= 0);
    ck_assert_ptr_nonnull(ev->text);
    if (l->events >= 4) ck_assert_uint_eq(ev->step, l->last_step[ev->lane] + 1);
    l->last_step[ev->lane] = ev->step;
    if (ev->latency_seconds > l->max_latency) l->max_latency = ev->latency_seconds;
    l->events++;
    return l->cancel_after && l->events >= l->cancel_after;
}

START_TEST(primer_streaming_and_cancel)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.n_lanes = 4;
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60"), MRNN_OK);
    stream_log log = {0};
    ck_assert_int_eq(mrnn_sampler_generate(s, 50, 0, on_event, &log), MRNN_OK);
    ck_assert_uint_eq(log.events, 4 * 50);
    static const uint32_t primer[] = {MRNN__PERF_VELOCITY + 20, 60, MRNN__PERF_TIME_SHIFT + 49, MRNN__PERF_NOTE_OFF + 60};
    for (uint32_t lane = 0; lane < 4; lane++) {
        const uint32_t *ids;
        size_t n;
        ck_assert_int_eq(mrnn_sampler_tokens(s, lane, &ids, &n), MRNN_OK);
        ck_assert_uint_eq(n, 4 + 50);
        ck_assert_mem_eq(ids, primer, sizeof primer);
        ck_assert_uint_eq(log.last_step[lane], 4 + 49);
    }
    /* Continue, then stop from the callback: the steps drawn so far stay. */
    log.cancel_after = log.events + 4 * 10;
    ck_assert_int_eq(mrnn_sampler_generate(s, 50, 0, on_event, &log), MRNN_ERR_CANCELLED);
    const uint32_t *ids;
    size_t n;
    mrnn_sampler_tokens(s, 0, &ids, &n);
    ck_assert_uint_eq(n, 4 + 50 + 10);
    mrnn_sampler_free(s);

    /* Without the primer in the output. */
    sp.include_primer = 0;
    sp.n_lanes = 1;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "VELOCITY_20 NOTE_ON_60"), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 20, 0, NULL, NULL), MRNN_OK);
    mrnn_sampler_tokens(s, 0, &ids, &n);
    ck_assert_uint_eq(n, 20);
    double ll;
    ck_assert_int_eq(mrnn_sampler_log_likelihood(s, 0, &ll), MRNN_OK);
    ck_assert(ll < 0 && isfinite(ll));
    mrnn_sampler_free(s);
    mrnn_model_free(m);
}
END_TEST

START_TEST(length_in_seconds)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, 1000000, 3.0, NULL, NULL), MRNN_OK);
    const uint32_t *ids;
    size_t n;
    mrnn_sampler_tokens(s, 0, &ids, &n);
    int64_t ticks = 0, before_last = 0;
    for (size_t i = 0; i < n; i++) {
        before_last = ticks;
        if (ids[i] >= MRNN__PERF_TIME_SHIFT && ids[i] < MRNN__PERF_VELOCITY) ticks += ids[i] - MRNN__PERF_TIME_SHIFT + 1;
    }
    ck_assert_int_ge(ticks, 300);      /* reached 3 s */
    ck_assert_int_lt(before_last, 300); /* and stopped right there */
    mrnn_sampler_free(s);
    mrnn_model_free(m);
}
END_TEST

/* ---- constraints are never violated ----------------------------------------------------------- */

static int in_c_major(int pitch)
{
    static const int ok[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    return ok[pitch % 12];
}

static mrnn_sampler_params constrained(void)
{
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.min_pitch = 55;
    sp.max_pitch = 79;
    sp.key_tonic = 0;
    sp.key_scale = MRNN_SCALE_MAJOR;
    sp.max_polyphony = 3;
    sp.n_lanes = 4;
    sp.temperature = 1.5f; /* adventurous: the mask has to do the work */
    return sp;
}

/* Decode a lane and check every note and, at every onset, how many notes sound. */
static void check_notes(const mrnn_model *m, const uint32_t *ids, size_t n, const mrnn_sampler_params *sp)
{
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(mrnn__steps_from_flat(&steps, ids, n, m->vocab->enc.encoding == MRNN_ENCODING_PIANOROLL), MRNN_OK);
    ck_assert_int_eq(mrnn__decode(m->vocab, &steps, &p), MRNN_OK);
    ck_assert_uint_gt(p.n_notes, 20);
    for (size_t i = 0; i < p.n_notes; i++) {
        const mrnn__note *a = &p.notes[i];
        ck_assert_int_ge(a->pitch, sp->min_pitch);
        ck_assert_int_le(a->pitch, sp->max_pitch);
        ck_assert_msg(in_c_major(a->pitch), "pitch %d is not in C major", a->pitch);
        uint32_t sounding = 0;
        for (size_t k = 0; k < p.n_notes; k++)
            sounding += p.notes[k].start_s <= a->start_s + 1e-9 && p.notes[k].end_s > a->start_s + 1e-9;
        ck_assert_msg(sounding <= sp->max_polyphony, "%u notes sound at %.3f s", sounding, a->start_s);
    }
    mrnn__piece_free(&p);
    mrnn__steps_free(&steps);
}

static void constraints_hold(mrnn_model *m, uint32_t steps)
{
    mrnn_sampler_params sp = constrained();
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, steps, 0, NULL, NULL), MRNN_OK);
    for (uint32_t lane = 0; lane < sp.n_lanes; lane++) {
        const uint32_t *ids;
        size_t n;
        mrnn_sampler_tokens(s, lane, &ids, &n);
        check_notes(m, ids, n, &sp);
    }
    mrnn_sampler_free(s);
}

START_TEST(constraints_performance)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    constraints_hold(m, 3000);
    mrnn_model_free(m);
}
END_TEST

START_TEST(constraints_pianoroll)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PIANOROLL, NULL);
    /* An untrained model turns about half the keys on: the polyphony cap is what limits them. */
    for (uint32_t i = 0; i < m->cfg.n_out; i++) m->w.b_out[i] += 1.0f;
    constraints_hold(m, 2000);
    mrnn_model_free(m);
}
END_TEST

/* The state an unprimed sampler generates from, against one primed with the given frames. */
static void assert_same_start(mrnn_model *m, const mrnn_sampler_params *sp, const uint32_t *primer, size_t n)
{
    mrnn_sampler *a = NULL, *b = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&a, m, sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_create(&b, m, sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_tokens(b, primer, n), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(a, 3, 0, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(b, 3, 0, NULL, NULL), MRNN_OK);
    const size_t state = (size_t)m->cfg.layers * m->cfg.hidden * sizeof(float);
    ck_assert_mem_eq(a->prime_h, b->prime_h, state);
    ck_assert_mem_eq(a->prime_c, b->prime_c, state);
    mrnn_sampler_free(a);
    mrnn_sampler_free(b);
}

/* Unprimed, an independent-key pianoroll sampler starts from an empty frame and then 8 frames of
 * the (at most 4) keys its model gives more than one half, inside the key masks, fed and not
 * emitted: here the output weights are zero, so the logits are b_out whatever the state, keys
 * 20..39 above one half in rising order, and the burn-in frames are keys 36..39 (32..35 once the
 * range ends below 36). The NADE starts from the empty frame alone. */
START_TEST(unprimed_pianoroll_burns_in_greedily)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PIANOROLL, NULL);
    memset(m->w.w_out, 0, (size_t)m->cfg.n_out * m->cfg.hidden * sizeof(float));
    for (uint32_t k = 0; k < m->cfg.n_out; k++) m->w.b_out[k] = k >= 20 && k < 40 ? 1.0f + 0.1f * (float)k : -3.0f;
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    uint32_t primer[1 + 8 * 5], n = 0;
    primer[n++] = MRNN_FRAME_END;
    for (int f = 0; f < 8; f++) {
        for (uint32_t k = 36; k < 40; k++) primer[n++] = k;
        primer[n++] = MRNN_FRAME_END;
    }
    assert_same_start(m, &sp, primer, n);
    sp.max_pitch = 21 + 35; /* key 35 */
    for (uint32_t i = 0; i < n; i++) primer[i] -= primer[i] == MRNN_FRAME_END ? 0 : 4;
    assert_same_start(m, &sp, primer, n);
    mrnn_model_free(m);

    m = tiny_nade_model();
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    assert_same_start(m, &sp, primer, 1);
    mrnn_model_free(m);
}
END_TEST

static mrnn_corpus *openmsx_notechord(void)
{
    const char *dir = getenv("MRNN_DEFAULT_CORPUS");
    ck_assert_msg(dir != NULL, "MRNN_DEFAULT_CORPUS is not set");
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = 0;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
    static const char *files[] = {"5432gone_redfarn.mid", "be_sharp_bw_redfarn.mid", "city_blues_redfarn.mid"};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        TEST_PATH(path, "%s/%s", dir, files[i]);
        ck_assert_msg(mrnn_corpus_add_file(c, path, NULL) == MRNN_OK, "%s", mrnn_last_error());
    }
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    return c;
}

/* The NADE frame output under the same constraints: the pitch range and key mask every key's
 * conditional, the polyphony cap holds (by redrawing, then by the cap in key order). */
START_TEST(constraints_pianoroll_nade)
{
    mrnn_model *m = tiny_nade_model();
    for (uint32_t i = 0; i < m->cfg.n_out; i++) m->w.b_out[i] += 1.0f;
    constraints_hold(m, 2000);
    mrnn_model_free(m);
}
END_TEST

/* NADE sampling is reproducible for a seed and differs between seeds; and the keys of a frame are
 * drawn jointly: a model whose only link is "C4 sounding turns E4 on" gives E4 with C4 and almost
 * never without it, which 88 independent keys cannot do. */
START_TEST(nade_same_seed_same_piece)
{
    mrnn_model *m = tiny_nade_model();
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.rng_seed = 5;
    uint32_t *a, *b, *c;
    size_t na, nb, nc;
    generate_tokens(m, &sp, 200, &a, &na);
    generate_tokens(m, &sp, 200, &b, &nb);
    sp.rng_seed = 6;
    generate_tokens(m, &sp, 200, &c, &nc);
    ck_assert_uint_gt(na, 200); /* frame ends at least */
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na * sizeof *a);
    ck_assert(nc != na || memcmp(a, c, na * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);

    /* Every key off by itself (bias -3); C4 (key 39) on half the time; hidden unit 0 off until
     * C4 sounds, and then it turns E4 (key 43) on. */
    memset(m->weights, 0, m->n_params * sizeof(float));
    const int N = (int)m->cfg.nade_hidden;
    for (uint32_t i = 0; i < m->cfg.n_out; i++) m->w.b_out[i] = -3.0f;
    m->w.b_out[39] = 0.0f;
    m->w.nade_bh[0] = -6.0f;
    m->w.nade_w[39 * N + 0] = 12.0f;
    m->w.nade_v[43 * N + 0] = 8.0f;
    sp.rng_seed = 7;
    generate_tokens(m, &sp, 400, &a, &na);
    uint32_t with_c = 0, with_both = 0, with_e = 0, frames = 0;
    int has_c = 0, has_e = 0;
    for (size_t k = 0; k < na; k++) {
        if (a[k] == MRNN_FRAME_END) {
            with_c += has_c;
            with_e += has_e;
            with_both += has_c && has_e;
            frames++;
            has_c = has_e = 0;
        } else {
            has_c |= a[k] == 39;
            has_e |= a[k] == 43;
        }
    }
    ck_assert_uint_eq(frames, 400);
    ck_assert_uint_gt(with_c, 120);
    ck_assert_uint_gt(with_both, 9 * with_c / 10); /* E4 with C4: p = 0.99 */
    ck_assert_uint_lt(with_e - with_both, 40);     /* E4 alone: p = 0.05 */
    free(a);
    mrnn_model_free(m);
}
END_TEST

START_TEST(constraints_notechord)
{
    mrnn_corpus *c = openmsx_notechord();
    mrnn_model *m = tiny_model(MRNN_ENCODING_NOTECHORD, mrnn_corpus_vocab(c));
    constraints_hold(m, 3000);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* ---- beam search, MIDI output, priming from MIDI ----------------------------------------------- */

static double loglik_of(mrnn_model *m, mrnn_sampler_params *sp, uint32_t steps)
{
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_text(s, "W:q"), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_generate(s, steps, 0, NULL, NULL), MRNN_OK);
    double ll;
    ck_assert_int_eq(mrnn_sampler_log_likelihood(s, 0, &ll), MRNN_OK);
    const uint32_t *ids;
    size_t n;
    mrnn_sampler_tokens(s, 0, &ids, &n);
    ck_assert_uint_eq(n, steps + 1);
    mrnn_sampler_free(s);
    return ll;
}

START_TEST(beam_search_beats_greedy_on_a_trained_model)
{
    mrnn_corpus *c = openmsx_notechord();
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.embed_size = 16;
    mp.hidden_size = 32;
    mrnn_model *m = NULL;
    ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
    mrnn_train_params tp;
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    tp.seq_len = 16;
    tp.batch_size = 8;
    tp.learning_rate = 0.01f;
    tp.max_steps = 150;
    tp.valid_every = 0;
    ck_assert_int_eq(mrnn_model_train(m, c, &tp, NULL, NULL), MRNN_OK);

    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.temperature = 0;
    double greedy = loglik_of(m, &sp, 48);
    sp.beam_width = 8;
    double beam = loglik_of(m, &sp, 48);
    ck_assert_msg(beam >= greedy - 1e-6, "beam %.4f < greedy %.4f", beam, greedy);
    /* Sampling at temperature 1 finds less likely sequences than either. */
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    double sampled = loglik_of(m, &sp, 48);
    ck_assert_msg(sampled < beam, "sampled %.4f >= beam %.4f", sampled, beam);
    /* Stochastic beam search (temperature > 0) also runs and is reproducible. */
    sp.beam_width = 4;
    double sb1 = loglik_of(m, &sp, 48), sb2 = loglik_of(m, &sp, 48);
    ck_assert(isfinite(sb1) && sb1 == sb2);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(generated_midi_reloads_and_primes)
{
    mrnn_corpus *c = openmsx_notechord();
    mrnn_model *m = tiny_model(MRNN_ENCODING_NOTECHORD, mrnn_corpus_vocab(c));
    char *tmp = test_tmpdir();
    char out[4200], primer[4200];
    TEST_PATH(out, "%s/generated.mid", tmp);
    TEST_PATH(primer, "%s/5432gone_redfarn.mid", getenv("MRNN_DEFAULT_CORPUS"));
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.include_primer = 0;
    mrnn_sampler *s = NULL;
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_msg(mrnn_sampler_prime_midi(s, primer, 0, 0) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_sampler_generate(s, 400, 0, NULL, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_write_midi(s, 0, out, 96.0, 24), MRNN_OK);
    /* Read back by our own MIDI reader: the same notes as the tokens decode to (once both are
     * made canonical: generated tokens may stack notes of one pitch, which MIDI cannot hold). */
    const uint32_t *ids;
    size_t n;
    mrnn_sampler_tokens(s, 0, &ids, &n);
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    mrnn__piece want, got;
    mrnn__piece_init(&want);
    mrnn__piece_init(&got);
    ck_assert_int_eq(mrnn__steps_from_flat(&steps, ids, n, 0), MRNN_OK);
    ck_assert_int_eq(mrnn__decode(m->vocab, &steps, &want), MRNN_OK);
    mrnn__midi_select sel = {0, 0, 1, 0};
    ck_assert_msg(mrnn__midi_read_file(out, &sel, &got) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_uint_gt(want.n_notes, 20);
    mrnn__span *a = calloc(want.n_notes, sizeof *a), *b = calloc(got.n_notes + 1, sizeof *b);
    /* The file starts at its first note: shift by the decoded piece's first onset. */
    double t0 = want.notes[0].start_q;
    for (size_t i = 0; i < want.n_notes; i++)
        a[i] = (mrnn__span){llround((want.notes[i].start_q - t0) * 480), llround((want.notes[i].end_q - t0) * 480),
                            want.notes[i].pitch, 0};
    for (size_t i = 0; i < got.n_notes; i++)
        b[i] = (mrnn__span){llround(got.notes[i].start_q * 480), llround(got.notes[i].end_q * 480), got.notes[i].pitch, 0};
    size_t na = mrnn__spans_canonical(a, want.n_notes), nb = mrnn__spans_canonical(b, got.n_notes);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++)
        ck_assert_msg(a[i].key == b[i].key && a[i].start == b[i].start && a[i].end == b[i].end,
                      "note %zu: pitch %d [%lld, %lld) written, [%lld, %lld) read back (pitch %d)", i, a[i].key,
                      (long long)a[i].start, (long long)a[i].end, (long long)b[i].start, (long long)b[i].end, b[i].key);
    free(a);
    free(b);
    mrnn__piece_free(&want);
    mrnn__piece_free(&got);
    mrnn__steps_free(&steps);
    mrnn_sampler_free(s);
    /* A malformed primer is refused with the file named. */
    char bad[4200];
    TEST_PATH(bad, "%s/bad.mid", tmp);
    test_write(bad, "MThd\0\0\0\6\0\1\0\1\1\340MTrk\0\0\0\77", 22);
    ck_assert_int_eq(mrnn_sampler_create(&s, m, &sp), MRNN_OK);
    ck_assert_int_eq(mrnn_sampler_prime_midi(s, bad, 0, 0), MRNN_ERR_MIDI);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "bad.mid"));
    mrnn_sampler_free(s);
    test_rmdir(tmp);
    mrnn_model_free(m);
    mrnn_corpus_free(c);
}
END_TEST

/* ---- several samplers on one model, in parallel ----------------------------------------------- */

typedef struct job {
    mrnn_model *m;
    uint64_t seed;
    uint32_t *ids;
    size_t n;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    sp.rng_seed = j->seed;
    mrnn_sampler *s = NULL;
    if (mrnn_sampler_create(&s, j->m, &sp) != MRNN_OK) return NULL;
    if (mrnn_sampler_generate(s, 500, 0, NULL, NULL) == MRNN_OK) {
        const uint32_t *ids;
        mrnn_sampler_tokens(s, 0, &ids, &j->n);
        j->ids = malloc(j->n * sizeof *ids);
        memcpy(j->ids, ids, j->n * sizeof *ids);
    }
    mrnn_sampler_free(s);
    return NULL;
}

START_TEST(samplers_share_a_model_across_threads)
{
    mrnn_model *m = tiny_model(MRNN_ENCODING_PERFORMANCE, NULL);
    job seq[4], par[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        seq[i] = (job){m, 100 + (uint64_t)i, NULL, 0};
        par[i] = seq[i];
        run_job(&seq[i]);
    }
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, run_job, &par[i]), 0);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(par[i].n, 500);
        ck_assert_uint_eq(seq[i].n, par[i].n);
        ck_assert_mem_eq(seq[i].ids, par[i].ids, seq[i].n * sizeof(uint32_t));
        free(seq[i].ids);
        free(par[i].ids);
    }
    mrnn_model_free(m);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("sampler");
    TCase *t = tcase_create("sampler");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, distribution_temperature_top_k_top_p);
    tcase_add_test(t, bf16_weights_stay_close_to_float);
    tcase_add_test(t, draws_follow_the_distribution);
    tcase_add_test(t, repetition_penalty_lowers_recent_tokens);
    tcase_add_test(t, same_seed_same_piece);
    tcase_add_test(t, primer_streaming_and_cancel);
    tcase_add_test(t, length_in_seconds);
    tcase_add_test(t, constraints_performance);
    tcase_add_test(t, constraints_pianoroll);
    tcase_add_test(t, unprimed_pianoroll_burns_in_greedily);
    tcase_add_test(t, constraints_pianoroll_nade);
    tcase_add_test(t, nade_same_seed_same_piece);
    tcase_add_test(t, constraints_notechord);
    tcase_add_test(t, beam_search_beats_greedy_on_a_trained_model);
    tcase_add_test(t, generated_midi_reloads_and_primes);
    tcase_add_test(t, samplers_share_a_model_across_threads);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
