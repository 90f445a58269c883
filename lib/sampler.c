/* mrnn_sampler: turns a trained model into music.
 *
 * A sampler borrows its model read-only and owns everything that changes while generating, so
 * several samplers can share one model across threads. It runs L lanes at once through
 * mrnn__net_step_lanes(): independent pieces (batch sampling) or the beams of a beam search.
 *
 * Each step, per lane: model logits -> repetition penalty -> constraint mask -> temperature ->
 * softmax -> top-k -> top-p -> draw. Constraints are a mask on the distribution, computed from what
 * each token means (token_info.c) and from what the lane is currently playing (polyphony). */
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "encoding.h"
#include "error.h"
#include "team.h"
#include "midi.h"
#include "model.h"
#include "network_infer.h"
#include "rng.h"
#include "token_info.h"
#include "vocab.h"
#include "vec_math.h"

#define MAX_LANES 256u
#define MAX_BEAM 64u
#define MAX_WINDOW 256u   /* repetition window cap */
#define MAX_SOUNDING 128u /* notechord notes tracked for the polyphony constraint */

/* One piece being generated. Copied as a whole when beams are reordered. */
typedef struct lane {
    uint32_t *out;   /* flat output tokens (pianoroll frames end with MRNN_FRAME_END) */
    size_t n_out, cap_out;
    float *prob;     /* model probability of each generated step */
    double *when;    /* start time of each generated step (seconds at 120 bpm) */
    size_t n_gen, cap_gen;
    uint64_t n_steps;  /* steps in `out` */
    double time_s;     /* musical time reached */
    double gen_start;  /* time at which generation began */
    double loglik;     /* of the generated steps */
    int done;
    uint8_t on[128];   /* performance: open notes per pitch (a NOTE_OFF ends the earliest) */
    uint32_t n_on;
    double ends[MAX_SOUNDING]; /* notechord: end times of sounding notes */
    int dur_open;              /* multitrack: the last token pushed ends[n_ends - 1], a DUR lengthens it */
    uint32_t n_ends;
    uint32_t recent[MAX_WINDOW]; /* ring of the last tokens, for the repetition penalty */
    uint32_t n_recent, recent_pos;
    uint32_t n_frame;  /* pianoroll: keys in the last frame */
    mrnn__rng rng;
} lane;

struct mrnn_sampler {
    const mrnn_model *model;
    const mrnn_vocab *vocab;
    const mrnn__net_config *cfg;
    mrnn_sampler_params p;
    int multi_hot; /* pianoroll */
    int beam;      /* beam search: lanes are beams */
    uint32_t L;    /* lanes computed */
    uint32_t V;    /* outputs (tokens, or 88 keys) */
    size_t state_floats; /* layers * L * H */

    mrnn__token_info *info; /* [V] */
    uint8_t *allowed;       /* [V] static constraint mask */
    float *h, *c, *h2, *c2; /* [layers x L x H]; h2/c2 for beam reordering */
    float *logits;          /* [L x V] */
    float *probs;           /* [L x V] last distribution */
    int *have_probs;        /* [L] */
    float *work;            /* [V] scores */
    uint8_t *flag;          /* [V] */
    struct cand { float p; uint32_t id; } *order; /* [V] */
    float *scratch;
    mrnn__infer_weights *iw; /* packed copy of the weights for the per-step products */
    uint32_t *in_start, *in_ids, *chosen_keys; /* [L + 1], [L * V], [L * V] */
    uint32_t *n_chosen;     /* [L] */

    lane *lanes, *next; /* [L] */
    lane prime;         /* the primer's bookkeeping, copied into every lane when generation starts */
    float *prime_h, *prime_c, *prime_logits; /* [layers x H], [V] */
    int primed_any;     /* prime_logits are valid */
    int started;        /* generation started: no more priming */
    int beam_live;      /* distinct beams so far */
    mrnn__rng beam_rng;
};

/* Bytes of mrnn_sampler_params in each released version (docs/ABI.md: fields are only appended,
 * and a program built against an older header passes the smaller struct); 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_sampler_params, include_primer) + sizeof(int32_t);
    case 2: return offsetof(mrnn_sampler_params, weight_format) + sizeof(uint32_t);
    case 3: return sizeof(mrnn_sampler_params);
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
    if (p->repetition_window > MAX_WINDOW)
        BAD("sampler params: repetition_window %u exceeds %u", p->repetition_window, MAX_WINDOW);
    if (p->beam_width < 1 || p->beam_width > MAX_BEAM)
        BAD("sampler params: beam_width %u is not in 1..%u", p->beam_width, MAX_BEAM);
    if (p->n_lanes < 1 || p->n_lanes > MAX_LANES) BAD("sampler params: n_lanes %u is not in 1..%u", p->n_lanes, MAX_LANES);
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
    if (p->instrument_mask[MRNN_INSTRUMENT_MASK_WORDS - 1] >> (MRNN_INSTRUMENT_COUNT % 32))
        BAD("sampler params: instrument_mask has bits above slot %u", MRNN_INSTRUMENT_COUNT - 1);
    if (p->beam_width > 1 && m->vocab->enc.encoding == MRNN_ENCODING_PIANOROLL)
        return mrnn__fail(MRNN_ERR_UNSUPPORTED, "sampler params: beam search needs an event encoding, not pianoroll");
#undef BAD
    return MRNN_OK;
}

/* Pitch classes of the key constraint, as a 12-bit mask (all when off). */
static uint16_t key_mask(const mrnn_sampler_params *p)
{
    if (p->key_tonic < 0) return 0xFFF;
    static const int major[] = {0, 2, 4, 5, 7, 9, 11}, minor[] = {0, 2, 3, 5, 7, 8, 10, 11};
    const int *deg = p->key_scale == MRNN_SCALE_MAJOR ? major : minor;
    int n = p->key_scale == MRNN_SCALE_MAJOR ? 7 : 8;
    uint16_t m = 0;
    for (int i = 0; i < n; i++) m |= (uint16_t)(1u << ((p->key_tonic + deg[i]) % 12));
    return m;
}

/* Whether the instrument mask lets any of the slots lo..hi play (an empty mask lets all play). */
static int instrument_ok(const mrnn_sampler_params *p, unsigned lo, unsigned hi)
{
    int any = 0;
    for (unsigned w = 0; w < MRNN_INSTRUMENT_MASK_WORDS; w++) any |= p->instrument_mask[w] != 0;
    if (!any) return 1;
    for (unsigned k = lo; k <= hi; k++)
        if ((p->instrument_mask[k / 32] >> (k % 32)) & 1u) return 1;
    return 0;
}

/* The mask that does not depend on what is playing: pitch range, key, drums, instruments, <unk>. */
static int fill_static_mask(mrnn_sampler *s)
{
    uint16_t keys = key_mask(&s->p);
    int any_notes = 0;
    int multitrack = s->vocab->enc.encoding == MRNN_ENCODING_MULTITRACK;
    for (uint32_t i = 0; i < s->V; i++) {
        const mrnn__token_info *t = &s->info[i];
        int ok = 1;
        if (t->kind == MRNN__TOK_OTHER) ok = 0;
        /* Other instruments cannot be selected, so none of their notes can follow. */
        if (multitrack && (t->kind == MRNN__TOK_INSTRUMENT || t->drum) && !instrument_ok(&s->p, t->slot_lo, t->slot_hi))
            ok = 0;
        if (t->kind == MRNN__TOK_NOTES) {
            if (t->n_notes && (t->min_pitch < s->p.min_pitch || t->max_pitch > s->p.max_pitch)) ok = 0;
            if (t->n_notes && (t->pitch_classes & ~keys)) ok = 0;
            if (t->drum && !s->p.allow_drums) ok = 0;
            if (s->p.max_polyphony && t->n_notes > s->p.max_polyphony) ok = 0;
            if (ok) any_notes = 1;
        }
        if (s->multi_hot) ok = t->kind == MRNN__TOK_NOTES && ok;
        s->allowed[i] = (uint8_t)ok;
    }
    return any_notes;
}

static void lane_free(lane *l)
{
    mrnn__free(l->out);
    mrnn__free(l->prob);
    mrnn__free(l->when);
}

/* Empty the lane but keep its buffers. */
static void lane_clear(lane *l, uint64_t seed)
{
    uint32_t *out = l->out;
    float *prob = l->prob;
    double *when = l->when;
    size_t cap_out = l->cap_out, cap_gen = l->cap_gen;
    memset(l, 0, sizeof *l);
    l->out = out, l->prob = prob, l->when = when, l->cap_out = cap_out, l->cap_gen = cap_gen;
    mrnn__rng_seed(&l->rng, seed);
}

static mrnn_status lane_copy(lane *dst, const lane *src)
{
    if (mrnn__grow((void **)&dst->out, &dst->cap_out, src->n_out, sizeof *dst->out) != 0) goto nomem;
    size_t cap = dst->cap_gen;
    if (mrnn__grow((void **)&dst->prob, &cap, src->n_gen, sizeof *dst->prob) != 0) goto nomem;
    cap = dst->cap_gen;
    if (mrnn__grow((void **)&dst->when, &cap, src->n_gen, sizeof *dst->when) != 0) goto nomem;
    if (src->n_gen > dst->cap_gen) dst->cap_gen = src->n_gen;
    uint32_t *out = dst->out;
    float *prob = dst->prob;
    double *when = dst->when;
    size_t cap_out = dst->cap_out, cap_gen = dst->cap_gen;
    *dst = *src;
    dst->out = out, dst->prob = prob, dst->when = when, dst->cap_out = cap_out, dst->cap_gen = cap_gen;
    if (src->n_out) memcpy(dst->out, src->out, src->n_out * sizeof *src->out);
    if (src->n_gen) {
        memcpy(dst->prob, src->prob, src->n_gen * sizeof *src->prob);
        memcpy(dst->when, src->when, src->n_gen * sizeof *src->when);
    }
    return MRNN_OK;
nomem:
    return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
}

static mrnn_status lane_push(lane *l, uint32_t id)
{
    if (mrnn__grow((void **)&l->out, &l->cap_out, l->n_out + 1, sizeof *l->out) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    l->out[l->n_out++] = id;
    return MRNN_OK;
}

static mrnn_status lane_record(lane *l, float prob, double when)
{
    size_t need = l->n_gen + 1, cap = l->cap_gen;
    if (mrnn__grow((void **)&l->prob, &cap, need, sizeof *l->prob) != 0) goto nomem;
    cap = l->cap_gen;
    if (mrnn__grow((void **)&l->when, &cap, need, sizeof *l->when) != 0) goto nomem;
    if (need > l->cap_gen) l->cap_gen = cap;
    l->prob[l->n_gen] = prob;
    l->when[l->n_gen] = when;
    l->n_gen++;
    return MRNN_OK;
nomem:
    return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
}

/* Notes of the notechord lane still sounding at its current time. */
static uint32_t notechord_sounding(lane *l)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < l->n_ends; i++)
        if (l->ends[i] > l->time_s + 1e-9) l->ends[k++] = l->ends[i];
    l->n_ends = k;
    return k;
}

/* Bookkeeping after a step: time, sounding notes, recent tokens. */
static void lane_advance_event(const mrnn_sampler *s, lane *l, uint32_t id)
{
    const mrnn__token_info *t = &s->info[id];
    int dur_open = 0;
    switch (t->kind) {
    case MRNN__TOK_TIME:
        l->time_s += t->advance_s;
        break;
    case MRNN__TOK_NOTES:
        if (s->vocab->enc.encoding == MRNN_ENCODING_PERFORMANCE) {
            if (l->on[t->pitch] < UINT8_MAX) l->on[t->pitch]++, l->n_on++;
        } else {
            notechord_sounding(l);
            /* Multitrack notes get their length from the DUR tokens that follow. */
            for (uint32_t k = 0; k < t->n_notes && l->n_ends < MAX_SOUNDING; k++) {
                l->ends[l->n_ends++] = l->time_s + t->duration_s;
                dur_open = 1;
            }
        }
        break;
    case MRNN__TOK_DURATION:
        if (l->dur_open && l->n_ends) l->ends[l->n_ends - 1] += t->duration_s;
        dur_open = l->dur_open;
        break;
    case MRNN__TOK_NOTE_OFF:
        if (l->on[t->pitch]) {
            l->on[t->pitch]--;
            l->n_on--;
        }
        break;
    default:
        break;
    }
    l->dur_open = dur_open;
    if (s->p.repetition_window) {
        l->recent[l->recent_pos] = id;
        l->recent_pos = (l->recent_pos + 1) % s->p.repetition_window;
        if (l->n_recent < s->p.repetition_window) l->n_recent++;
    }
    l->n_steps++;
}

/* Polyphony: may lane l start token `id` now? */
static int dynamic_ok(const mrnn_sampler *s, lane *l, uint32_t id)
{
    if (!s->p.max_polyphony) return 1;
    const mrnn__token_info *t = &s->info[id];
    if (t->kind != MRNN__TOK_NOTES) return 1;
    if (s->vocab->enc.encoding == MRNN_ENCODING_PERFORMANCE) return l->n_on < s->p.max_polyphony;
    return notechord_sounding(l) + t->n_notes <= s->p.max_polyphony;
}

static int cmp_cand_desc(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Log of the softmax normaliser of the raw logits. */
static double log_normaliser(const float *logits, uint32_t V)
{
    float mx = logits[0];
    for (uint32_t i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (uint32_t i = 0; i < V; i++) sum += exp((double)logits[i] - mx);
    return mx + log(sum);
}

/* The distribution lane l draws its next event token from, into probs (sums to 1). The penalised,
 * masked scores are left in s->work (-INFINITY where masked) for beam search. */
static void event_distribution(mrnn_sampler *s, lane *l, const float *logits, float *probs)
{
    const uint32_t V = s->V;
    float *score = s->work;
    memcpy(score, logits, V * sizeof *score);
    if (s->p.repetition_penalty > 1.0f) {
        for (uint32_t k = 0; k < l->n_recent; k++) {
            uint32_t id = l->recent[k];
            if (s->flag[id]) continue;
            s->flag[id] = 1;
            score[id] = score[id] > 0 ? score[id] / s->p.repetition_penalty : score[id] * s->p.repetition_penalty;
        }
        for (uint32_t k = 0; k < l->n_recent; k++) s->flag[l->recent[k]] = 0;
    }
    uint32_t n_ok = 0;
    for (uint32_t i = 0; i < V; i++) {
        if (s->allowed[i] && dynamic_ok(s, l, i)) n_ok++;
        else score[i] = -INFINITY;
    }
    if (n_ok == 0) { /* polyphony excluded everything left: fall back to the static mask */
        for (uint32_t i = 0; i < V; i++)
            if (s->allowed[i]) score[i] = logits[i], n_ok++;
    }
    if (n_ok == 0) { /* cannot happen after create's check, but never divide by zero */
        memcpy(score, logits, V * sizeof *score);
        n_ok = V;
    }
    uint32_t best = 0;
    for (uint32_t i = 1; i < V; i++)
        if (score[i] > score[best]) best = i;
    if (s->p.temperature == 0.0f) {
        memset(probs, 0, V * sizeof *probs);
        probs[best] = 1.0f;
        return;
    }
    /* e^((score - max) / T) four at a time in float (vec_math.h, relative error < 2e-7): libm's
     * double exp took a tenth of a sampling step of the small model. Excluded tokens stay exactly 0
     * (their -inf is clamped inside the exp, so they are zeroed afterwards). */
    const mrnn__v4f top = mrnn__v4f_splat(score[best]), inv_t = mrnn__v4f_splat(1.0f / s->p.temperature);
    uint32_t i = 0;
    for (; i + 4 <= V; i += 4) mrnn__v4_store(probs + i, mrnn__v4_exp((mrnn__v4_load(score + i) - top) * inv_t));
    if (i < V) {
        float in[4], out[4];
        for (uint32_t k = 0; k < 4; k++) in[k] = i + k < V ? score[i + k] : score[best];
        mrnn__v4_store(out, mrnn__v4_exp((mrnn__v4_load(in) - top) * inv_t));
        for (uint32_t k = 0; i + k < V; k++) probs[i + k] = out[k];
    }
    double sum = 0;
    for (i = 0; i < V; i++) {
        if (score[i] == -INFINITY) probs[i] = 0.0f;
        sum += probs[i];
    }
    for (i = 0; i < V; i++) probs[i] = (float)(probs[i] / sum);
    uint32_t k = s->p.top_k && s->p.top_k < n_ok ? s->p.top_k : n_ok;
    if (k == n_ok && s->p.top_p >= 1.0f) return;
    for (i = 0; i < V; i++) s->order[i] = (struct cand){probs[i], i};
    qsort(s->order, V, sizeof *s->order, cmp_cand_desc);
    double cum = 0, kept = 0;
    uint32_t keep = 0;
    while (keep < k) {
        cum += s->order[keep].p;
        keep++;
        if (cum >= s->p.top_p) break;
    }
    for (uint32_t r = keep; r < V; r++) probs[s->order[r].id] = 0.0f;
    for (uint32_t r = 0; r < keep; r++) kept += s->order[r].p;
    for (uint32_t r = 0; r < keep; r++) probs[s->order[r].id] = (float)(s->order[r].p / kept);
}

static uint32_t draw(const float *probs, uint32_t V, mrnn__rng *rng)
{
    double u = mrnn__rng_uniform(rng), cum = 0;
    uint32_t last = 0;
    for (uint32_t i = 0; i < V; i++) {
        if (probs[i] <= 0) continue;
        cum += probs[i];
        last = i;
        if (u < cum) return i;
    }
    return last; /* rounding left u above the total */
}

static double log_sigmoid(double x)
{
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

/* Draw a pianoroll frame for lane l: keys into `keys`, returns how many; *logp of the frame. */
static uint32_t draw_frame(mrnn_sampler *s, lane *l, const float *logits, float *probs, uint32_t *keys, double *logp)
{
    const uint32_t V = s->V;
    uint32_t n = 0;
    double lp = 0;
    for (uint32_t k = 0; k < V; k++) {
        float p;
        if (!s->allowed[k]) p = 0.0f;
        else if (s->p.temperature == 0.0f) p = logits[k] > 0 ? 1.0f : 0.0f;
        else p = (float)(1.0 / (1.0 + exp(-(double)logits[k] / s->p.temperature)));
        probs[k] = p;
        s->flag[k] = p > 0 && mrnn__rng_uniform(&l->rng) < p;
        n += s->flag[k];
    }
    /* Too many keys: keep the most probable ones. */
    while (s->p.max_polyphony && n > s->p.max_polyphony) {
        uint32_t worst = V;
        for (uint32_t k = 0; k < V; k++)
            if (s->flag[k] && (worst == V || probs[k] < probs[worst])) worst = k;
        s->flag[worst] = 0;
        n--;
    }
    n = 0;
    for (uint32_t k = 0; k < V; k++) {
        lp += s->flag[k] ? log_sigmoid(logits[k]) : log_sigmoid(-(double)logits[k]);
        if (s->flag[k]) keys[n++] = k;
        s->flag[k] = 0;
    }
    *logp = lp;
    return n;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

MRNN_API void mrnn_sampler_free(mrnn_sampler *s)
{
    if (!s) return;
    if (s->lanes)
        for (uint32_t b = 0; b < s->L; b++) lane_free(&s->lanes[b]);
    if (s->next)
        for (uint32_t b = 0; b < s->L; b++) lane_free(&s->next[b]);
    lane_free(&s->prime);
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
    mrnn__free(s->in_start);
    mrnn__free(s->in_ids);
    mrnn__free(s->chosen_keys);
    mrnn__free(s->n_chosen);
    mrnn__free(s->prime_h);
    mrnn__free(s->prime_c);
    mrnn__free(s->prime_logits);
    mrnn__free(s);
}

MRNN_API mrnn_status mrnn_sampler_reset(mrnn_sampler *s, uint64_t rng_seed)
{
    MRNN_CHECK_ARG(s, "s");
    s->p.rng_seed = rng_seed;
    for (uint32_t b = 0; b < s->L; b++) {
        /* Lanes draw from separate streams of one seed. */
        lane_clear(&s->lanes[b], rng_seed + 0x9E3779B97F4A7C15u * b);
        lane_clear(&s->next[b], 0);
    }
    lane_clear(&s->prime, 0);
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
    /* With two or more BLAS threads allowed, the per-step products use a second thread too (if it
     * cannot be started, the sampler simply computes on the caller's thread). */
    if (s->iw && openblas_get_num_threads() > 1) s->iw->team = mrnn__team_new(2);
    s->in_start = mrnn__calloc(L + 1, sizeof(uint32_t));
    s->in_ids = mrnn__calloc(L * V, sizeof(uint32_t));
    s->chosen_keys = mrnn__calloc(L * V, sizeof(uint32_t));
    s->n_chosen = mrnn__calloc(L, sizeof(uint32_t));
    s->lanes = mrnn__calloc(L, sizeof *s->lanes);
    s->next = mrnn__calloc(L, sizeof *s->next);
    s->prime_h = mrnn__calloc(HL, sizeof(float));
    s->prime_c = mrnn__calloc(HL, sizeof(float));
    s->prime_logits = mrnn__calloc(V, sizeof(float));
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
    if (!fill_static_mask(s) && !s->multi_hot) {
        mrnn_sampler_free(s);
        return mrnn__fail(MRNN_ERR_INVALID_ARG,
                          "sampler params: the pitch range, key and drum constraints exclude every note token");
    }
    mrnn_sampler_reset(s, params->rng_seed);
    *out = s;
    return MRNN_OK;
}

/* Run the primer's steps through the network (one lane; copied to all when generation starts). */
static void prime_feed(mrnn_sampler *s, const uint32_t *ids, uint32_t n)
{
    uint32_t start[2] = {0, n};
    uint32_t style = s->p.style >= 0 ? (uint32_t)s->p.style : s->cfg->n_styles - 1;
    mrnn__net_step_lanes(s->cfg, &s->model->w, s->iw, 1, start, ids, s->cfg->n_styles ? &style : NULL, s->prime_h,
                         s->prime_c, s->prime_logits, s->scratch);
    s->primed_any = 1;
}

MRNN_API mrnn_status mrnn_sampler_prime_tokens(mrnn_sampler *s, const uint32_t *ids, size_t n)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(ids || n == 0, "ids");
    if (s->started)
        return mrnn__fail(MRNN_ERR_STATE, "sampler: cannot prime after generation started (call mrnn_sampler_reset)");
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= s->vocab->n && !(s->multi_hot && ids[i] == MRNN_FRAME_END))
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: primer token %zu has id %u, the vocabulary has %u", i,
                              ids[i], s->vocab->n);
    lane *l = &s->prime;
    size_t i = 0;
    while (i < n) {
        mrnn_status st;
        if (s->multi_hot) {
            size_t j = i;
            while (j < n && ids[j] != MRNN_FRAME_END) j++;
            prime_feed(s, ids + i, (uint32_t)(j - i));
            for (size_t k = i; k < j; k++)
                if ((st = lane_push(l, ids[k])) != MRNN_OK) return st;
            if ((st = lane_push(l, MRNN_FRAME_END)) != MRNN_OK) return st;
            l->time_s += mrnn__frame_seconds(s->vocab);
            l->n_steps++;
            i = j + 1;
        } else {
            prime_feed(s, ids + i, 1);
            if ((st = lane_push(l, ids[i])) != MRNN_OK) return st;
            lane_advance_event(s, l, ids[i]);
            i++;
        }
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_prime_text(mrnn_sampler *s, const char *text)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(text, "text");
    size_t n = 0;
    mrnn_status st = mrnn_vocab_parse(s->vocab, text, NULL, 0, &n);
    if (st != MRNN_OK && st != MRNN_ERR_LIMIT) return st;
    if (n == 0) return MRNN_OK;
    uint32_t *ids = mrnn__malloc(n * sizeof *ids);
    if (!ids) return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    st = mrnn_vocab_parse(s->vocab, text, ids, n, &n);
    if (st == MRNN_OK) st = mrnn_sampler_prime_tokens(s, ids, n);
    mrnn__free(ids);
    return st;
}

MRNN_API mrnn_status mrnn_sampler_prime_midi(mrnn_sampler *s, const char *path, uint64_t track_mask,
                                             uint32_t channel_mask)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(path, "path");
    if (s->started)
        return mrnn__fail(MRNN_ERR_STATE, "sampler: cannot prime after generation started (call mrnn_sampler_reset)");
    const mrnn_encoding_params *enc = &s->vocab->enc;
    mrnn__midi_select sel = {track_mask, channel_mask, mrnn__encoding_reads_drums(enc), 0};
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    mrnn_vocab *frozen = NULL;
    mrnn_status st = mrnn__midi_read_file(path, &sel, &piece);
    if (st == MRNN_OK && enc->normalize_key) mrnn__piece_transpose(&piece, mrnn__piece_key_shift(&piece, NULL, NULL),
                                                                   s->multi_hot);
    /* Encode against a frozen copy: the model's vocabulary is read-only. */
    if (st == MRNN_OK) st = mrnn__vocab_clone(s->vocab, &frozen);
    if (st == MRNN_OK) {
        uint64_t unknown = 0;
        frozen->frozen = 1;
        st = mrnn__encode(&piece, frozen, &steps, &unknown);
        if (st != MRNN_OK) mrnn__error_prefix(path);
    }
    if (st == MRNN_OK && steps.n_steps == 0) st = mrnn__fail(MRNN_ERR_EMPTY, "%s: no notes to prime with", path);
    for (size_t k = 0; st == MRNN_OK && k < steps.n_steps; k++) {
        const uint32_t *ids = steps.ids + steps.start[k];
        size_t n = steps.start[k + 1] - steps.start[k];
        if (s->multi_hot) {
            uint32_t frame[MRNN__PIANO_KEYS + 1];
            memcpy(frame, ids, n * sizeof *ids);
            frame[n] = MRNN_FRAME_END;
            st = mrnn_sampler_prime_tokens(s, frame, n + 1);
        } else {
            st = mrnn_sampler_prime_tokens(s, ids, n);
        }
    }
    mrnn_vocab_free(frozen);
    mrnn__steps_free(&steps);
    mrnn__piece_free(&piece);
    return st;
}

/* First generate call: every lane starts from the primer's state and bookkeeping. */
static mrnn_status start_generation(mrnn_sampler *s)
{
    const size_t H = s->cfg->hidden, V = s->V;
    if (!s->primed_any) prime_feed(s, NULL, 0); /* no primer: predict from an empty input */
    for (uint32_t b = 0; b < s->L; b++) {
        mrnn__rng keep = s->lanes[b].rng;
        mrnn_status st = lane_copy(&s->lanes[b], &s->prime);
        if (st != MRNN_OK) return st;
        lane *l = &s->lanes[b];
        l->rng = keep;
        l->gen_start = l->time_s;
        if (!s->p.include_primer) l->n_out = 0, l->n_steps = 0;
        for (uint32_t layer = 0; layer < s->cfg->layers; layer++) {
            memcpy(s->h + ((size_t)layer * s->L + b) * H, s->prime_h + (size_t)layer * H, H * sizeof(float));
            memcpy(s->c + ((size_t)layer * s->L + b) * H, s->prime_c + (size_t)layer * H, H * sizeof(float));
        }
        memcpy(s->logits + b * V, s->prime_logits, V * sizeof(float));
    }
    s->started = 1;
    s->beam_live = 1;
    return MRNN_OK;
}

/* Feed each lane's chosen step (s->in_start / s->in_ids) and compute the next logits. */
static void feed_lanes(mrnn_sampler *s)
{
    uint32_t *style = NULL, style_row[MAX_LANES];
    if (s->cfg->n_styles) {
        for (uint32_t b = 0; b < s->L; b++)
            style_row[b] = s->p.style >= 0 ? (uint32_t)s->p.style : s->cfg->n_styles - 1;
        style = style_row;
    }
    mrnn__net_step_lanes(s->cfg, &s->model->w, s->iw, (int)s->L, s->in_start, s->in_ids, style, s->h, s->c, s->logits,
                         s->scratch);
}

static double output_time(const mrnn_sampler *s, const lane *l, double t)
{
    return s->p.include_primer ? t : t - l->gen_start;
}

static int emit(const mrnn_sampler *s, mrnn_sample_callback cb, void *ud, uint32_t b, const lane *l, uint32_t token,
                const uint32_t *keys, float prob, double when, double latency)
{
    if (!cb) return 0;
    mrnn_sample_event ev;
    memset(&ev, 0, sizeof ev);
    ev.lane = b;
    ev.step = l->n_steps - 1;
    ev.token = token;
    ev.keys = keys;
    ev.text = s->multi_hot ? NULL : s->vocab->text[token];
    ev.time_seconds = output_time(s, l, when);
    ev.probability = prob;
    ev.latency_seconds = latency;
    return cb(&ev, ud);
}

/* Independent lanes: every lane draws from its own distribution. */
static mrnn_status generate_lanes(mrnn_sampler *s, uint32_t max_steps, double max_seconds, mrnn_sample_callback cb,
                                  void *ud)
{
    const uint32_t V = s->V;
    double t_prev = now_seconds();
    for (uint32_t step = 0; step < max_steps; step++) {
        uint32_t live = 0;
        s->in_start[0] = 0;
        for (uint32_t b = 0; b < s->L; b++) {
            lane *l = &s->lanes[b];
            const float *logits = s->logits + (size_t)b * V;
            float *probs = s->probs + (size_t)b * V;
            uint32_t n_in = 0;
            if (!l->done) {
                live++;
                double when = l->time_s, logp;
                mrnn_status st;
                if (s->multi_hot) {
                    uint32_t *keys = s->chosen_keys + (size_t)b * V;
                    n_in = draw_frame(s, l, logits, probs, keys, &logp);
                    for (uint32_t k = 0; k < n_in; k++) {
                        if ((st = lane_push(l, keys[k])) != MRNN_OK) return st;
                        s->in_ids[s->in_start[b] + k] = keys[k];
                    }
                    if ((st = lane_push(l, MRNN_FRAME_END)) != MRNN_OK) return st;
                    l->time_s += mrnn__frame_seconds(s->vocab);
                    l->n_steps++;
                    l->n_frame = n_in;
                } else {
                    event_distribution(s, l, logits, probs);
                    uint32_t id = draw(probs, V, &l->rng);
                    logp = logits[id] - log_normaliser(logits, V);
                    if ((st = lane_push(l, id)) != MRNN_OK) return st;
                    lane_advance_event(s, l, id);
                    s->in_ids[s->in_start[b]] = id;
                    n_in = 1;
                }
                s->have_probs[b] = 1;
                l->loglik += logp;
                if ((st = lane_record(l, (float)exp(logp), when)) != MRNN_OK) return st;
                s->n_chosen[b] = n_in;
            }
            s->in_start[b + 1] = s->in_start[b] + n_in;
        }
        if (!live) break;
        double t_now = now_seconds();
        double latency = (t_now - t_prev) / live;
        for (uint32_t b = 0; b < s->L; b++) {
            lane *l = &s->lanes[b];
            if (l->done) continue;
            uint32_t token = s->multi_hot ? s->n_chosen[b] : l->out[l->n_out - 1];
            const uint32_t *keys = s->multi_hot ? s->chosen_keys + (size_t)b * V : NULL;
            if (emit(s, cb, ud, b, l, token, keys, l->prob[l->n_gen - 1], l->when[l->n_gen - 1], latency))
                return mrnn__fail(MRNN_ERR_CANCELLED, "sampler: generation stopped by the callback");
            if (max_seconds > 0 && l->time_s - l->gen_start >= max_seconds) l->done = 1;
        }
        feed_lanes(s);
        t_prev = now_seconds();
    }
    return MRNN_OK;
}

/* Beam search over event tokens. Candidates per beam are its W most likely allowed tokens
 * (temperature 0) or W distinct tokens drawn from its sampling distribution with the Gumbel-top-k
 * trick (stochastic beam search); the W best candidates by model log-likelihood survive. */
static mrnn_status generate_beam(mrnn_sampler *s, uint32_t max_steps, double max_seconds, mrnn_sample_callback cb,
                                 void *ud)
{
    const uint32_t V = s->V, W = s->L;
    const size_t H = s->cfg->hidden;
    struct beam_cand { double score; uint32_t parent, id; float prob; } *cand = (void *)NULL;
    cand = mrnn__malloc((size_t)W * W * sizeof *cand);
    if (!cand) return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    mrnn_status st = MRNN_OK;
    for (uint32_t step = 0; step < max_steps && !s->lanes[0].done; step++) {
        size_t n_cand = 0;
        for (uint32_t b = 0; b < (uint32_t)s->beam_live; b++) {
            lane *l = &s->lanes[b];
            const float *logits = s->logits + (size_t)b * V;
            float *probs = s->probs + (size_t)b * V;
            event_distribution(s, l, logits, probs);
            s->have_probs[b] = 1;
            double logz = log_normaliser(logits, V);
            /* Rank tokens: masked score (greedy) or perturbed log-probability (stochastic). */
            for (uint32_t i = 0; i < V; i++) {
                float key;
                if (s->p.temperature == 0.0f) key = s->work[i];
                else if (probs[i] > 0) key = (float)(log(probs[i]) - log(-log(mrnn__rng_uniform(&s->beam_rng) + 1e-300)));
                else key = -INFINITY;
                s->order[i] = (struct cand){key, i};
            }
            qsort(s->order, V, sizeof *s->order, cmp_cand_desc);
            for (uint32_t r = 0; r < W && r < V && s->order[r].p > -INFINITY; r++) {
                uint32_t id = s->order[r].id;
                double lp = logits[id] - logz;
                cand[n_cand++] = (struct beam_cand){l->loglik + lp, b, id, (float)exp(lp)};
            }
        }
        if (n_cand == 0) break;
        /* Keep the W best (selection sort: W*W is small). */
        uint32_t keep = n_cand < W ? (uint32_t)n_cand : W;
        for (uint32_t r = 0; r < keep; r++) {
            size_t best = r;
            for (size_t k = r + 1; k < n_cand; k++)
                if (cand[k].score > cand[best].score) best = k;
            struct beam_cand t = cand[r];
            cand[r] = cand[best];
            cand[best] = t;
        }
        for (uint32_t b = 0; b < W; b++) {
            const struct beam_cand *c = &cand[b < keep ? b : 0];
            if ((st = lane_copy(&s->next[b], &s->lanes[c->parent])) != MRNN_OK) goto out;
            lane *l = &s->next[b];
            double when = l->time_s;
            if ((st = lane_push(l, c->id)) != MRNN_OK) goto out;
            lane_advance_event(s, l, c->id);
            l->loglik = c->score;
            if ((st = lane_record(l, c->prob, when)) != MRNN_OK) goto out;
            if (max_seconds > 0 && l->time_s - l->gen_start >= max_seconds) l->done = 1;
            for (uint32_t layer = 0; layer < s->cfg->layers; layer++) {
                size_t dst = ((size_t)layer * W + b) * H, src = ((size_t)layer * W + c->parent) * H;
                memcpy(s->h2 + dst, s->h + src, H * sizeof(float));
                memcpy(s->c2 + dst, s->c + src, H * sizeof(float));
            }
            s->in_start[b] = b;
            s->in_ids[b] = c->id;
        }
        s->in_start[W] = W;
        lane *tl = s->lanes;
        s->lanes = s->next, s->next = tl;
        float *t = s->h;
        s->h = s->h2, s->h2 = t;
        t = s->c, s->c = s->c2, s->c2 = t;
        s->beam_live = (int)keep;
        feed_lanes(s);
    }
    /* Beams change until the end: report the winner's steps now. */
    if (cb) {
        lane *l = &s->lanes[0];
        uint64_t first = l->n_steps - l->n_gen;
        size_t first_out = l->n_out - l->n_gen;
        for (size_t k = 0; k < l->n_gen; k++) {
            lane view = *l;
            view.n_steps = first + k + 1;
            if (emit(s, cb, ud, 0, &view, l->out[first_out + k], NULL, l->prob[k], l->when[k], 0.0)) {
                st = mrnn__fail(MRNN_ERR_CANCELLED, "sampler: generation stopped by the callback");
                break;
            }
        }
    }
out:
    mrnn__free(cand);
    return st;
}

MRNN_API mrnn_status mrnn_sampler_generate(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                           mrnn_sample_callback cb, void *user_data)
{
    MRNN_CHECK_ARG(s, "s");
    if (!(max_seconds >= 0 && max_seconds < 1e7))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: max_seconds %g is not in [0, 1e7)", max_seconds);
    if (!s->started) {
        mrnn_status st = start_generation(s);
        if (st != MRNN_OK) return st;
    }
    return s->beam ? generate_beam(s, max_steps, max_seconds, cb, user_data)
                   : generate_lanes(s, max_steps, max_seconds, cb, user_data);
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
static const lane *output_lane(const mrnn_sampler *s, uint32_t b)
{
    return s->started ? &s->lanes[b] : &s->prime;
}

MRNN_API mrnn_status mrnn_sampler_tokens(const mrnn_sampler *s, uint32_t lane_index, const uint32_t **ids, size_t *n)
{
    mrnn_status st = check_lane(s, lane_index);
    if (st != MRNN_OK) return st;
    MRNN_CHECK_ARG(ids, "ids");
    MRNN_CHECK_ARG(n, "n");
    const lane *l = output_lane(s, lane_index);
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
    const lane *l = output_lane(s, lane_index);
    return mrnn_tokens_write_midi(s->vocab, l->out, l->n_out, path, tempo_bpm, program);
}
