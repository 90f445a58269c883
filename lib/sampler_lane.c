/* The bookkeeping of one sampler lane (sampler.h): its output, probabilities and times, the notes
 * it is playing (for the polyphony constraint) and its recent tokens (for the repetition penalty). */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "sampler.h"

void mrnn__lane_free(mrnn__lane *l)
{
    mrnn__free(l->out);
    mrnn__free(l->prob);
    mrnn__free(l->when);
}

/* Empty the lane but keep its buffers. */
void mrnn__lane_clear(mrnn__lane *l, uint64_t seed)
{
    uint32_t *out = l->out;
    float *prob = l->prob;
    double *when = l->when;
    size_t cap_out = l->cap_out, cap_gen = l->cap_gen;
    memset(l, 0, sizeof *l);
    l->out = out, l->prob = prob, l->when = when, l->cap_out = cap_out, l->cap_gen = cap_gen;
    mrnn__rng_seed(&l->rng, seed);
}

mrnn_status mrnn__lane_copy(mrnn__lane *dst, const mrnn__lane *src)
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

mrnn_status mrnn__lane_push(mrnn__lane *l, uint32_t id)
{
    if (mrnn__grow((void **)&l->out, &l->cap_out, l->n_out + 1, sizeof *l->out) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    l->out[l->n_out++] = id;
    return MRNN_OK;
}

mrnn_status mrnn__lane_record(mrnn__lane *l, float prob, double when)
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

/* Notes of the notechord (or multitrack) lane still sounding at its current time. */
static uint32_t notechord_sounding(mrnn__lane *l)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < l->n_ends; i++) {
        if (l->ends[i] > l->time_s + 1e-9) {
            l->end_instrument[k] = l->end_instrument[i];
            l->ends[k++] = l->ends[i];
        }
    }
    l->n_ends = k;
    return k;
}

/* Multitrack: the polyphony limit holds per instrument, so count the current instrument's notes. */
static uint32_t instrument_sounding(mrnn__lane *l)
{
    uint32_t n = notechord_sounding(l), k = 0;
    for (uint32_t i = 0; i < n; i++) k += l->end_instrument[i] == l->instrument;
    return k;
}

/* Bookkeeping after a step: time, sounding notes, recent tokens. */
void mrnn__lane_advance(const mrnn_sampler *s, mrnn__lane *l, uint32_t id)
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
            /* Multitrack notes start with no length: the DUR tokens that follow give it. */
            for (uint32_t k = 0; k < t->n_notes && l->n_ends < MRNN__SAMPLER_MAX_SOUNDING; k++) {
                l->end_instrument[l->n_ends] = l->instrument;
                l->ends[l->n_ends++] = l->time_s + t->duration_s;
                dur_open = 1;
            }
        }
        break;
    case MRNN__TOK_DURATION:
        /* As the decoder does: the first DUR replaces the default length of one step, later ones add. */
        if (l->dur_open && l->n_ends) {
            double *end = &l->ends[l->n_ends - 1];
            *end = (l->dur_open == 1 ? l->time_s : *end) + t->duration_s;
        }
        dur_open = l->dur_open ? 2 : 0;
        break;
    case MRNN__TOK_INSTRUMENT:
        l->instrument_chosen = 1;
        l->instrument = (uint16_t)id; /* multitrack selectors are ids 0..n_sel-1 */
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

/* Polyphony, and the multitrack instrument mask before the first instrument change: may lane l
 * start token `id` now? */
int mrnn__lane_may_start(const mrnn_sampler *s, mrnn__lane *l, uint32_t id)
{
    const mrnn__token_info *t = &s->info[id];
    /* Notes before any PROGRAM token play the first instrument (id 0): not if the mask forbids it. */
    if (t->kind == MRNN__TOK_NOTES && !t->drum && s->vocab->enc.encoding == MRNN_ENCODING_MULTITRACK) {
        if (!l->instrument_chosen && !s->allowed[0]) return 0;
        /* The current instrument's own pitch range. */
        unsigned sel = l->instrument < 129 ? l->instrument : 0;
        if (s->sel_max[sel] && (t->pitch < s->sel_min[sel] || t->pitch > s->sel_max[sel])) return 0;
    }
    if (!s->p.max_polyphony) return 1;
    if (t->kind != MRNN__TOK_NOTES) return 1;
    if (s->vocab->enc.encoding == MRNN_ENCODING_PERFORMANCE) return l->n_on < s->p.max_polyphony;
    if (s->vocab->enc.encoding == MRNN_ENCODING_MULTITRACK) return instrument_sounding(l) + t->n_notes <= s->p.max_polyphony;
    return notechord_sounding(l) + t->n_notes <= s->p.max_polyphony;
}
