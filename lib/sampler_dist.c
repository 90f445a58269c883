/* Distribution shaping (sampler.h): from one lane's logits to the distribution it draws from.
 * Event tokens: repetition penalty -> constraint mask -> temperature -> softmax -> top-k -> top-p
 * -> draw; pianoroll frames: a sigmoid per key, an independent draw each, the polyphony cap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sampler.h"
#include "token_info.h"
#include "vec_math.h"

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

void mrnn__sampler_instrument_ranges(mrnn_sampler *s)
{
    memset(s->sel_min, 0, sizeof s->sel_min);
    memset(s->sel_max, 0, sizeof s->sel_max);
    if (s->vocab->enc.encoding != MRNN_ENCODING_MULTITRACK) return;
    unsigned width = s->vocab->enc.multitrack_programs ? 1u : 8u, n_sel = 128u / width;
    for (unsigned sel = 0; sel < n_sel; sel++) {
        int lo = 0, hi = 127, any = 0;
        for (unsigned k = sel * width; k < (sel + 1) * width; k++) {
            if (!s->p.instrument_max_pitch[k]) continue;
            any = 1;
            if (s->p.instrument_min_pitch[k] > lo) lo = s->p.instrument_min_pitch[k];
            if (s->p.instrument_max_pitch[k] < hi) hi = s->p.instrument_max_pitch[k];
        }
        if (!any) continue;
        /* Disjoint ranges of one family leave nothing: then the family plays nothing pitched. */
        s->sel_min[sel] = (uint8_t)(lo <= hi ? lo : 127);
        s->sel_max[sel] = (uint8_t)(lo <= hi ? hi : 1);
        if (s->sel_min[sel] > s->sel_max[sel]) s->sel_min[sel] = 127, s->sel_max[sel] = 1;
    }
}

/* The mask that does not depend on what is playing: pitch range, key, drums, instruments, <unk>. */
int mrnn__sampler_static_mask(mrnn_sampler *s)
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

int mrnn__sampler_cmp_cand(const void *a, const void *b)
{
    const mrnn__sampler_cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Log of the softmax normaliser of the raw logits. */
double mrnn__log_normaliser(const float *logits, uint32_t V)
{
    float mx = logits[0];
    for (uint32_t i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    /* the terms through the vector exp (relative error < 2e-7, so the log is off by less than
     * that), summed in double: libm's double exp took 5-7 % of a small model's sampling step */
    const mrnn__v4f top = mrnn__v4_splat(mx);
    double sum = 0;
    uint32_t i = 0;
    for (; i + 4 <= V; i += 4) {
        mrnn__v4f e = mrnn__v4_exp(mrnn__v4_load(logits + i) - top);
        sum += ((double)e[0] + (double)e[1]) + ((double)e[2] + (double)e[3]);
    }
    for (; i < V; i++) sum += exp((double)logits[i] - mx);
    return mx + log(sum);
}

/* The distribution lane l draws its next event token from, into probs (sums to 1). The penalised,
 * masked scores are left in s->work (-INFINITY where masked) for beam search. */
void mrnn__sampler_event_distribution(mrnn_sampler *s, mrnn__lane *l, const float *logits, float *probs)
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
        if (s->allowed[i] && mrnn__lane_may_start(s, l, i)) n_ok++;
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
    const mrnn__v4f top = mrnn__v4_splat(score[best]), inv_t = mrnn__v4_splat(1.0f / s->p.temperature);
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
    for (i = 0; i < V; i++) s->order[i] = (mrnn__sampler_cand){probs[i], i};
    qsort(s->order, V, sizeof *s->order, mrnn__sampler_cmp_cand);
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

uint32_t mrnn__sampler_draw(const float *probs, uint32_t V, mrnn__rng *rng)
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
uint32_t mrnn__sampler_draw_frame(mrnn_sampler *s, mrnn__lane *l, uint32_t b, const float *logits, float *probs,
                                  uint32_t *keys, double *logp)
{
    const uint32_t V = s->V;
    if (s->cfg->loss == MRNN__LOSS_NADE) return mrnn__sampler_draw_frame_nade(s, l, b, logits, probs, keys, logp);
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
