/* mrnn_sampler: the handle, its params and its getters (the parts are listed in sampler.h). */
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "compute.h"
#include "encoding_pianoroll.h"
#include "error.h"
#include "model.h"
#include "network_infer.h"
#include "sampler.h"
#include "token_info.h"
#include "vocab.h"

/* Bytes of mrnn_sampler_params in each released version (docs/ABI.md: fields are only appended,
 * and a program built against an older header passes the smaller struct); 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_sampler_params, include_primer) + sizeof(int32_t);
    case 2: return offsetof(mrnn_sampler_params, weight_format) + sizeof(uint32_t);
    case 3: return offsetof(mrnn_sampler_params, threads) + sizeof(uint32_t);
    case 4: return sizeof(mrnn_sampler_params);
    default: return 0;
    }
}

static void params_defaults(mrnn_sampler_params *p)
{
    memset(p, 0, sizeof *p);
    p->version = MRNN_SAMPLER_PARAMS_VERSION;
    p->temperature = 1.0f;
    p->top_k = 0;
    p->top_p = 1.0f;
    p->repetition_penalty = 1.0f;
    p->repetition_window = 16;
    p->beam_width = 1;
    p->n_lanes = 1;
    p->rng_seed = 1;
    p->style = -1;
    p->min_pitch = 0;
    p->max_pitch = 127;
    p->key_tonic = -1;
    p->key_scale = MRNN_SCALE_MAJOR;
    p->max_polyphony = 0;
    p->allow_drums = 1;
    p->include_primer = 1;
    p->weight_format = MRNN_WEIGHTS_FLOAT32;
    p->threads = 0;
}

MRNN_API mrnn_status mrnn_sampler_params_init(mrnn_sampler_params *p, uint32_t version)
{
    MRNN_CHECK_ARG(p, "p");
    size_t size = params_size(version);
    if (!size) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_sampler_params_init: unknown params version %u", version);
    mrnn_sampler_params full;
    params_defaults(&full);
    full.version = version;
    memcpy(p, &full, size);
    return MRNN_OK;
}

static mrnn_status check_params(const mrnn_sampler_params *p, const mrnn_model *m)
{
#define BAD(...) return mrnn__fail(MRNN_ERR_INVALID_ARG, __VA_ARGS__)
    if (p->weight_format != MRNN_WEIGHTS_FLOAT32 && p->weight_format != MRNN_WEIGHTS_BF16)
        BAD("sampler params: weight_format %u is not MRNN_WEIGHTS_FLOAT32 (0) or MRNN_WEIGHTS_BF16 (1)",
            p->weight_format);
    if (!(p->temperature >= 0.0f && p->temperature <= 100.0f))
        BAD("sampler params: temperature %g is not in [0, 100]", (double)p->temperature);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) BAD("sampler params: top_p %g is not in (0, 1]", (double)p->top_p);
    if (!(p->repetition_penalty >= 1.0f && p->repetition_penalty <= 100.0f))
        BAD("sampler params: repetition_penalty %g is not in [1, 100]", (double)p->repetition_penalty);
    if (p->repetition_window > MRNN__SAMPLER_MAX_WINDOW)
        BAD("sampler params: repetition_window %u exceeds %u", p->repetition_window, MRNN__SAMPLER_MAX_WINDOW);
    if (p->beam_width < 1 || p->beam_width > MRNN__SAMPLER_MAX_BEAM)
        BAD("sampler params: beam_width %u is not in 1..%u", p->beam_width, MRNN__SAMPLER_MAX_BEAM);
    if (p->n_lanes < 1 || p->n_lanes > MRNN__SAMPLER_MAX_LANES)
        BAD("sampler params: n_lanes %u is not in 1..%u", p->n_lanes, MRNN__SAMPLER_MAX_LANES);
    if (p->style < -1 || (p->style >= 0 && (uint32_t)p->style >= m->n_styles))
        BAD("sampler params: style %d is not -1 or in 0..%d (the model has %u labels)", p->style,
            (int)m->n_styles - 1, m->n_styles);
    if (p->max_pitch > 127 || p->min_pitch > p->max_pitch)
        BAD("sampler params: pitch range %u..%u is not within 0..127", p->min_pitch, p->max_pitch);
    if (p->key_tonic < -1 || p->key_tonic > 11) BAD("sampler params: key_tonic %d is not in -1..11", p->key_tonic);
    if (p->key_scale > MRNN_SCALE_MINOR) BAD("sampler params: key_scale %u is unknown", p->key_scale);
    if (p->max_polyphony > 128) BAD("sampler params: max_polyphony %u exceeds 128", p->max_polyphony);
    if (p->allow_drums != 0 && p->allow_drums != 1) BAD("sampler params: allow_drums must be 0 or 1");
    if (p->include_primer != 0 && p->include_primer != 1) BAD("sampler params: include_primer must be 0 or 1");
    if (p->threads > 256) BAD("sampler params: threads %u is more than 256", p->threads);
    if (p->instrument_mask[MRNN_INSTRUMENT_MASK_WORDS - 1] >> (MRNN_INSTRUMENT_COUNT % 32))
        BAD("sampler params: instrument_mask has bits above slot %u", MRNN_INSTRUMENT_COUNT - 1);
    for (uint32_t k = 0; k < MRNN_INSTRUMENT_COUNT; k++)
        if (p->instrument_max_pitch[k] && (p->instrument_max_pitch[k] > 127 ||
                                           p->instrument_min_pitch[k] > p->instrument_max_pitch[k]))
            BAD("sampler params: pitch range %u..%u of instrument %u is not within 0..127", p->instrument_min_pitch[k],
                p->instrument_max_pitch[k], k);
    if (p->beam_width > 1 && m->vocab->enc.encoding == MRNN_ENCODING_PIANOROLL)
        return mrnn__fail(MRNN_ERR_UNSUPPORTED, "sampler params: beam search needs an event encoding, not pianoroll");
#undef BAD
    return MRNN_OK;
}

MRNN_API void mrnn_sampler_free(mrnn_sampler *s)
{
    if (!s) return;
    if (s->lanes)
        for (uint32_t b = 0; b < s->L; b++) mrnn__lane_free(&s->lanes[b]);
    if (s->next)
        for (uint32_t b = 0; b < s->L; b++) mrnn__lane_free(&s->next[b]);
    mrnn__lane_free(&s->prime);
    mrnn__free(s->lanes);
    mrnn__free(s->next);
    mrnn__free(s->info);
    mrnn__free(s->allowed);
    mrnn__free(s->h);
    mrnn__free(s->c);
    mrnn__free(s->h2);
    mrnn__free(s->c2);
    mrnn__free(s->logits);
    mrnn__free(s->probs);
    mrnn__free(s->have_probs);
    mrnn__free(s->work);
    mrnn__free(s->flag);
    mrnn__free(s->order);
    mrnn__free(s->scratch);
    mrnn__infer_weights_free(s->iw);
    mrnn__compute_free(&s->cx);
    mrnn__free(s->in_start);
    mrnn__free(s->in_ids);
    mrnn__free(s->chosen_keys);
    mrnn__free(s->n_chosen);
    mrnn__free(s->prime_h);
    mrnn__free(s->prime_c);
    mrnn__free(s->prime_logits);
    mrnn__free(s->first_logits);
    mrnn__free(s->nade);
    mrnn__free(s);
}

MRNN_API mrnn_status mrnn_sampler_reset(mrnn_sampler *s, uint64_t rng_seed)
{
    MRNN_CHECK_ARG(s, "s");
    s->p.rng_seed = rng_seed;
    for (uint32_t b = 0; b < s->L; b++) {
        /* Lanes draw from separate streams of one seed. */
        mrnn__lane_clear(&s->lanes[b], rng_seed + 0x9E3779B97F4A7C15u * b);
        mrnn__lane_clear(&s->next[b], 0);
    }
    mrnn__lane_clear(&s->prime, 0);
    mrnn__rng_seed(&s->beam_rng, rng_seed);
    size_t HL = (size_t)s->cfg->layers * s->cfg->hidden;
    memset(s->prime_h, 0, HL * sizeof *s->prime_h);
    memset(s->prime_c, 0, HL * sizeof *s->prime_c);
    memset(s->have_probs, 0, s->L * sizeof *s->have_probs);
    s->primed_any = 0;
    s->started = 0;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_create(mrnn_sampler **out, const mrnn_model *model, const mrnn_sampler_params *params)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(model, "model");
    /* Read only as many bytes as the caller's version has; later fields keep their defaults. */
    mrnn_sampler_params full;
    params_defaults(&full);
    if (params) {
        size_t size = params_size(params->version);
        if (!size)
            return mrnn__fail(MRNN_ERR_INVALID_ARG,
                              "sampler params: version %u is not 1..%u (call mrnn_sampler_params_init)",
                              params->version, MRNN_SAMPLER_PARAMS_VERSION);
        memcpy(&full, params, size);
        full.version = MRNN_SAMPLER_PARAMS_VERSION;
    }
    params = &full;
    mrnn_status st = check_params(params, model);
    if (st != MRNN_OK) return st;
    mrnn_sampler *s = mrnn__calloc(1, sizeof *s);
    if (!s) return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    s->model = model;
    s->vocab = model->vocab;
    s->cfg = &model->cfg;
    s->p = *params;
    s->multi_hot = s->vocab->enc.encoding == MRNN_ENCODING_PIANOROLL;
    s->beam = params->beam_width > 1;
    s->L = s->beam ? params->beam_width : params->n_lanes;
    s->V = s->cfg->n_out;
    const size_t L = s->L, V = s->V, H = s->cfg->hidden, HL = (size_t)s->cfg->layers * H;
    s->state_floats = HL * L;
    s->info = mrnn__calloc(V, sizeof *s->info);
    s->allowed = mrnn__calloc(V, 1);
    s->h = mrnn__calloc(s->state_floats, sizeof(float));
    s->c = mrnn__calloc(s->state_floats, sizeof(float));
    s->h2 = mrnn__calloc(s->state_floats, sizeof(float));
    s->c2 = mrnn__calloc(s->state_floats, sizeof(float));
    s->logits = mrnn__calloc(L * V, sizeof(float));
    s->probs = mrnn__calloc(L * V, sizeof(float));
    s->have_probs = mrnn__calloc(L, sizeof(int));
    s->work = mrnn__calloc(V, sizeof(float));
    s->flag = mrnn__calloc(V, 1);
    s->order = mrnn__calloc(V > L * L ? V : L * L, sizeof *s->order);
    s->scratch = mrnn__calloc(mrnn__net_lanes_scratch_floats(s->cfg, (int)L), sizeof(float));
    s->iw = mrnn__infer_weights_new(s->cfg, &model->w, params->weight_format == MRNN_WEIGHTS_BF16);
    /* The sampler's threads (compute.h). By default one helper when the library's default allows
     * two or more threads, as before params version 3; if it cannot be started, the sampler simply
     * computes on the caller's thread. */
    uint32_t threads = params->threads;
    if (!threads) threads = mrnn__compute_default_threads() > 1 ? 2 : 1;
    mrnn__compute_init(&s->cx, threads);
    if (s->iw) mrnn__infer_weights_set_isa(s->iw, s->cx.isa); /* the context's kernel path */
    s->in_start = mrnn__calloc(L + 1, sizeof(uint32_t));
    s->in_ids = mrnn__calloc(L * V, sizeof(uint32_t));
    s->chosen_keys = mrnn__calloc(L * V, sizeof(uint32_t));
    s->n_chosen = mrnn__calloc(L, sizeof(uint32_t));
    s->lanes = mrnn__calloc(L, sizeof *s->lanes);
    s->next = mrnn__calloc(L, sizeof *s->next);
    s->prime_h = mrnn__calloc(HL, sizeof(float));
    s->prime_c = mrnn__calloc(HL, sizeof(float));
    s->prime_logits = mrnn__calloc(V, sizeof(float));
    if (s->cfg->loss == MRNN__LOSS_NADE && !(s->nade = mrnn__calloc(mrnn__sampler_nade_floats(s->cfg), sizeof(float)))) {
        mrnn_sampler_free(s);
        return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    }
    if (!s->info || !s->allowed || !s->h || !s->c || !s->h2 || !s->c2 || !s->logits || !s->probs || !s->have_probs ||
        !s->work || !s->flag || !s->order || !s->scratch || !s->iw || !s->in_start || !s->in_ids || !s->chosen_keys ||
        !s->n_chosen || !s->lanes || !s->next || !s->prime_h || !s->prime_c || !s->prime_logits) {
        mrnn_sampler_free(s);
        return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    }
    if (s->multi_hot) {
        for (uint32_t k = 0; k < V; k++) {
            mrnn__token_info *t = &s->info[k];
            t->kind = MRNN__TOK_NOTES;
            t->n_notes = 1;
            t->min_pitch = t->max_pitch = (uint8_t)(MRNN__PIANO_LOW + k);
            t->pitch_classes = (uint16_t)(1u << ((MRNN__PIANO_LOW + k) % 12));
        }
    } else {
        mrnn__token_info_fill(s->vocab, s->info);
    }
    mrnn__sampler_instrument_ranges(s);
    if (!mrnn__sampler_static_mask(s) && !s->multi_hot) {
        mrnn_sampler_free(s);
        return mrnn__fail(MRNN_ERR_INVALID_ARG,
                          "sampler params: the pitch range, key and drum constraints exclude every note token");
    }
    mrnn_sampler_reset(s, params->rng_seed);
    *out = s;
    return MRNN_OK;
}

MRNN_API uint32_t mrnn_sampler_lane_count(const mrnn_sampler *s)
{
    return !s ? 0 : s->beam ? 1 : s->L;
}

static mrnn_status check_lane(const mrnn_sampler *s, uint32_t lane_index)
{
    MRNN_CHECK_ARG(s, "s");
    if (lane_index >= mrnn_sampler_lane_count(s))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: lane %u is not in 0..%u", lane_index,
                          mrnn_sampler_lane_count(s) - 1);
    return MRNN_OK;
}

/* Before generation the primer is the output. */
static const mrnn__lane *output_lane(const mrnn_sampler *s, uint32_t b)
{
    return s->started ? &s->lanes[b] : &s->prime;
}

MRNN_API mrnn_status mrnn_sampler_tokens(const mrnn_sampler *s, uint32_t lane_index, const uint32_t **ids, size_t *n)
{
    mrnn_status st = check_lane(s, lane_index);
    if (st != MRNN_OK) return st;
    MRNN_CHECK_ARG(ids, "ids");
    MRNN_CHECK_ARG(n, "n");
    const mrnn__lane *l = output_lane(s, lane_index);
    *ids = l->out;
    *n = l->n_out;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_distribution(const mrnn_sampler *s, uint32_t lane_index, float *probs, size_t cap)
{
    mrnn_status st = check_lane(s, lane_index);
    if (st != MRNN_OK) return st;
    MRNN_CHECK_ARG(probs, "probs");
    if (cap < s->V)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: distribution needs %u floats, got %zu", s->V, cap);
    if (!s->have_probs[lane_index]) return mrnn__fail(MRNN_ERR_STATE, "sampler: nothing was generated yet");
    memcpy(probs, s->probs + (size_t)lane_index * s->V, s->V * sizeof *probs);
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_log_likelihood(const mrnn_sampler *s, uint32_t lane_index, double *out)
{
    mrnn_status st = check_lane(s, lane_index);
    if (st != MRNN_OK) return st;
    MRNN_CHECK_ARG(out, "out");
    *out = s->started ? s->lanes[lane_index].loglik : 0.0;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_write_midi(const mrnn_sampler *s, uint32_t lane_index, const char *path,
                                             double tempo_bpm, uint32_t program)
{
    mrnn_status st = check_lane(s, lane_index);
    if (st != MRNN_OK) return st;
    const mrnn__lane *l = output_lane(s, lane_index);
    return mrnn_tokens_write_midi(s->vocab, l->out, l->n_out, path, tempo_bpm, program);
}
