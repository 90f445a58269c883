/* Multitrack encoding: several instruments and the drum kit in one event stream on a musical grid.
 *
 * Each note carries its instrument, so a model can learn a bass line, a melody and a beat as the
 * parts they are instead of one merged stream. Layout (ids in this order; docs/FILE-FORMATS.md):
 *   PROGRAM_<sel>  selects the instrument of the NOTE tokens that follow (16 GM families, or 128
 *                  programs); emitted only when the instrument changes
 *   NOTE_p         a pitched note of the selected instrument at the current time
 *   DRUM_p         a drum-kit note (channel 10); needs no selector, so beats never pay for one
 *   DUR_k          the length of the note just before, k grid steps; repeated DURs add up, so a
 *                  long note is still exact without a huge vocabulary
 *   TIME_SHIFT_k   advance time by k grid steps (also chained)
 *   VELOCITY_b     loudness bin of the following notes (only with velocity_bins > 0)
 * At one time point notes come drums first, then the bass, then the other instruments by selector,
 * each instrument's notes by pitch: the lowest, most regular parts first give the rest a footing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "encoding.h"
#include "encoding_multitrack.h"
#include "error.h"
#include "sort.h"

/* 2^31 grid steps: beyond that a file is broken (the same bound as the other encodings). */
#define MT_MAX_STEPS 2147483647.0
#define MT_DEFAULT_VELOCITY 80
/* A decoded note may not outlast this many quarters (a generated run of DUR tokens). */
#define MT_MAX_NOTE_QUARTERS 256

static const char *const family_names[MRNN__MT_FAMILIES] = {
    "piano", "chromatic", "organ", "guitar", "bass", "strings", "ensemble", "brass",
    "reed", "pipe", "synth_lead", "synth_pad", "synth_fx", "ethnic", "percussive", "sound_fx"};

/* The program a decoded family plays: the family's first program, except where another one sounds
 * more like what the family usually does in arrangements (a fingered electric bass, a steel guitar,
 * a warm pad). */
static const uint8_t family_program[MRNN__MT_FAMILIES] = {0, 11, 16, 25, 33, 40, 48, 56,
                                                         65, 73, 80, 89, 96, 104, 112, 120};

const char *mrnn__gm_family_name(unsigned family)
{
    return family < MRNN__MT_FAMILIES ? family_names[family] : NULL;
}

int mrnn__gm_family_parse(const char *s, size_t len)
{
    for (unsigned f = 0; f < MRNN__MT_FAMILIES; f++)
        if (strlen(family_names[f]) == len && strncmp(family_names[f], s, len) == 0) return (int)f;
    return -1;
}

void mrnn__mt_layout_of(const mrnn_encoding_params *e, mrnn__mt_layout *l)
{
    l->n_sel = e->multitrack_programs ? 128u : MRNN__MT_FAMILIES;
    l->note0 = l->n_sel;
    l->drum0 = l->note0 + 128;
    l->dur0 = l->drum0 + 128;
    l->max_k = e->max_duration_steps;
    l->shift0 = l->dur0 + l->max_k;
    l->vel0 = l->shift0 + l->max_k;
    l->vel_bins = e->velocity_bins;
    l->size = l->vel0 + l->vel_bins;
}

unsigned mrnn__mt_selector(const mrnn_encoding_params *e, const mrnn__note *n)
{
    if (n->drum) return MRNN__MT_DRUM_SEL;
    return e->multitrack_programs ? (n->program & 127u) : (n->program & 127u) / 8u;
}

static int mask_has(const uint32_t *mask, unsigned slot)
{
    return (mask[slot / 32] >> (slot % 32)) & 1u;
}

static int mask_empty(const uint32_t *mask)
{
    for (unsigned w = 0; w < MRNN_INSTRUMENT_MASK_WORDS; w++)
        if (mask[w]) return 0;
    return 1;
}

void mrnn__mt_keep(const mrnn__piece *p, const mrnn_encoding_params *e, uint8_t keep[MRNN__MT_SELECTORS])
{
    uint64_t count[MRNN__MT_SELECTORS];
    memset(count, 0, sizeof count);
    int all = mask_empty(e->instrument_mask);
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *n = &p->notes[i];
        unsigned slot = n->drum ? MRNN_INSTRUMENT_DRUMS : (n->program & 127u);
        if (all || mask_has(e->instrument_mask, slot)) count[mrnn__mt_selector(e, n)]++;
    }
    for (unsigned s = 0; s < MRNN__MT_SELECTORS; s++) keep[s] = count[s] > 0;
    if (!e->max_tracks) return;
    /* Keep the max_tracks instruments with the most notes (ties: the lower selector). */
    unsigned kept = 0;
    for (unsigned s = 0; s < MRNN__MT_SELECTORS; s++) kept += keep[s];
    while (kept > e->max_tracks) {
        unsigned worst = MRNN__MT_SELECTORS;
        for (unsigned s = 0; s < MRNN__MT_SELECTORS; s++)
            if (keep[s] && (worst == MRNN__MT_SELECTORS || count[s] <= count[worst])) worst = s;
        keep[worst] = 0;
        kept--;
    }
}

int mrnn__mt_note_kept(const mrnn_encoding_params *e, const uint8_t keep[MRNN__MT_SELECTORS], const mrnn__note *n)
{
    unsigned slot = n->drum ? MRNN_INSTRUMENT_DRUMS : (n->program & 127u);
    if (!mask_empty(e->instrument_mask) && !mask_has(e->instrument_mask, slot)) return 0;
    return keep[mrnn__mt_selector(e, n)];
}

/* Order of instruments at one time point: drums, bass, then by selector. */
static unsigned rank_of(const mrnn_encoding_params *e, unsigned sel)
{
    if (sel == MRNN__MT_DRUM_SEL) return 0;
    int bass = e->multitrack_programs ? (sel >= 32 && sel < 40) : sel == 4;
    return bass ? 1 : 2 + sel;
}

/* Span keys pack the instrument and pitch, so that canonical spans are taken per instrument. */
#define KEY_OF(sel, pitch) ((int)((sel) * 128u + (pitch)))
#define SEL_OF(key) ((unsigned)(key) / 128u)
#define PITCH_OF(key) ((unsigned)(key) % 128u)

typedef struct mt_item {
    int64_t start, len;
    unsigned rank, sel, pitch, velocity;
} mt_item;

static inline int item_less(const mt_item *x, const mt_item *y)
{
    if (x->start != y->start) return x->start < y->start;
    if (x->rank != y->rank) return x->rank < y->rank;
    return x->pitch < y->pitch;
}

MRNN__DEFINE_SORT(sort_items, mt_item, item_less)

static mrnn_status to_step(double q, uint32_t spq, int64_t *out)
{
    double t = nearbyint(q * (double)spq);
    if (!(t >= 0)) t = 0;
    if (t > MT_MAX_STEPS) return mrnn__fail(MRNN_ERR_LIMIT, "piece is too long for the multitrack encoding");
    *out = (int64_t)t;
    return MRNN_OK;
}

static mrnn_status emit(mrnn__steps *out, uint32_t id)
{
    mrnn_status st = mrnn__steps_push_id(out, id);
    return st == MRNN_OK ? mrnn__steps_end_step(out) : st;
}

/* k grid steps as a chain of tokens base-1+j, j <= max_k. */
static mrnn_status emit_chain(mrnn__steps *out, uint32_t base, uint32_t max_k, int64_t k)
{
    mrnn_status st = MRNN_OK;
    while (k > 0 && st == MRNN_OK) {
        int64_t j = k < (int64_t)max_k ? k : (int64_t)max_k;
        st = emit(out, base + (uint32_t)(j - 1));
        k -= j;
    }
    return st;
}

size_t mrnn__mt_canonical_spans(const mrnn__piece *p, const mrnn_encoding_params *e, mrnn__span *spans,
                                mrnn_status *st)
{
    uint8_t keep[MRNN__MT_SELECTORS];
    mrnn__mt_keep(p, e, keep);
    size_t n = 0;
    *st = MRNN_OK;
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *note = &p->notes[i];
        if (!mrnn__mt_note_kept(e, keep, note)) continue;
        int64_t a = 0, b = 0;
        if ((*st = to_step(note->start_q, e->steps_per_quarter, &a)) != MRNN_OK) return 0;
        if ((*st = to_step(note->end_q, e->steps_per_quarter, &b)) != MRNN_OK) return 0;
        if (b <= a) b = a + 1; /* a note shorter than half a grid step still sounds */
        uint8_t vel = note->velocity ? note->velocity : 1;
        spans[n++] = (mrnn__span){a, b, KEY_OF(mrnn__mt_selector(e, note), note->pitch & 127u), vel > 127 ? 127 : vel};
    }
    return mrnn__spans_canonical(spans, n);
}

mrnn_status mrnn__multitrack_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out)
{
    const mrnn_encoding_params *e = &v->enc;
    mrnn__mt_layout l;
    mrnn__mt_layout_of(e, &l);
    mrnn__span *spans = NULL;
    mt_item *items = NULL;
    if (p->n_notes) {
        size_t bytes;
        if (!mrnn__mul_ok(p->n_notes, sizeof *spans, &bytes) || !(spans = mrnn__malloc(bytes)) ||
            !mrnn__mul_ok(p->n_notes, sizeof *items, &bytes) || !(items = mrnn__malloc(bytes))) {
            mrnn__free(spans);
            return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for %zu notes", p->n_notes);
        }
    }
    mrnn_status st;
    size_t n = mrnn__mt_canonical_spans(p, e, spans, &st);
    for (size_t i = 0; i < n; i++) {
        unsigned sel = SEL_OF(spans[i].key);
        items[i] = (mt_item){spans[i].start, spans[i].end - spans[i].start, rank_of(e, sel), sel,
                             PITCH_OF(spans[i].key), spans[i].aux};
    }
    mrnn__free(spans);
    int64_t end = 0;
    if (st == MRNN_OK) st = to_step(p->end_q, e->steps_per_quarter, &end);
    if (st != MRNN_OK) {
        mrnn__free(items);
        return st;
    }
    sort_items(items, n);
    int64_t now = 0;
    int cur_sel = -1, cur_bin = -1;
    uint32_t max_steps = e->max_steps;
    for (size_t i = 0; i < n && st == MRNN_OK; i++) {
        if (max_steps && out->n_steps >= max_steps) break;
        const mt_item *it = &items[i];
        st = emit_chain(out, l.shift0, l.max_k, it->start - now);
        now = it->start;
        int drum = it->sel == MRNN__MT_DRUM_SEL;
        if (st == MRNN_OK && !drum && (int)it->sel != cur_sel) {
            st = emit(out, it->sel);
            cur_sel = (int)it->sel;
        }
        if (st == MRNN_OK && l.vel_bins) {
            int b = (int)(it->velocity * l.vel_bins / 128u);
            if (b != cur_bin) {
                st = emit(out, l.vel0 + (uint32_t)b);
                cur_bin = b;
            }
        }
        if (st == MRNN_OK) st = emit(out, (drum ? l.drum0 : l.note0) + it->pitch);
        if (st == MRNN_OK) st = emit_chain(out, l.dur0, l.max_k, it->len);
        int64_t note_end = it->start + it->len;
        if (note_end > end) end = note_end;
    }
    /* Silence after the last onset (the last notes' tails, a final rest) belongs to the piece too. */
    if (st == MRNN_OK && !(max_steps && out->n_steps >= max_steps) && end > now)
        st = emit_chain(out, l.shift0, l.max_k, end - now);
    mrnn__free(items);
    return st;
}

/* Channel for each decoded instrument, in order of first appearance: drums on channel 10, melodic
 * instruments on 1-9 and 11-16 (counted from 1). A 16th melodic instrument shares a channel. */
static uint8_t channel_for(int *chan_of_sel, unsigned sel, unsigned *n_melodic)
{
    if (sel == MRNN__MT_DRUM_SEL) return MRNN__DRUM_CHANNEL;
    if (chan_of_sel[sel] < 0) {
        unsigned k = (*n_melodic)++ % 15u;
        chan_of_sel[sel] = (int)(k < MRNN__DRUM_CHANNEL ? k : k + 1);
    }
    return (uint8_t)chan_of_sel[sel];
}

mrnn_status mrnn__multitrack_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out)
{
    const mrnn_encoding_params *e = &v->enc;
    mrnn__mt_layout l;
    mrnn__mt_layout_of(e, &l);
    const double spq = (double)e->steps_per_quarter;
    const int64_t max_len = (int64_t)MT_MAX_NOTE_QUARTERS * e->steps_per_quarter;
    int chan_of_sel[MRNN__MT_SELECTORS];
    for (unsigned s = 0; s < MRNN__MT_SELECTORS; s++) chan_of_sel[s] = -1;
    unsigned n_melodic = 0;
    int64_t now = 0, end = 0;
    unsigned sel = 0; /* notes before any selector play the first instrument (piano) */
    uint8_t velocity = MT_DEFAULT_VELOCITY;
    size_t last = SIZE_MAX; /* index of the note a DUR token lengthens; SIZE_MAX: none */
    int64_t last_len = 0;
    mrnn_status st = MRNN_OK;
    for (size_t j = 0; j < in->n_ids && st == MRNN_OK; j++) {
        uint32_t id = in->ids[j];
        if (id >= l.dur0 && id < l.shift0) {
            if (last == SIZE_MAX) continue; /* a length of nothing */
            int64_t k = (int64_t)(id - l.dur0 + 1);
            /* The first DUR replaces the default length of one step, later ones add to it. */
            last_len = last_len < 0 ? k : last_len + k;
            if (last_len > max_len) last_len = max_len;
            mrnn__note *n = &out->notes[last];
            n->end_q = n->start_q + (double)last_len / spq;
            if ((int64_t)(n->end_q * spq + 0.5) > end) end = (int64_t)(n->end_q * spq + 0.5);
            continue;
        }
        last = SIZE_MAX;
        if (id < l.n_sel) {
            sel = id;
        } else if (id < l.dur0) {
            int drum = id >= l.drum0;
            unsigned s = drum ? MRNN__MT_DRUM_SEL : sel;
            mrnn__note n;
            memset(&n, 0, sizeof n);
            n.pitch = (uint8_t)((id - l.note0) % 128u);
            n.velocity = velocity;
            n.drum = (uint8_t)drum;
            n.channel = channel_for(chan_of_sel, s, &n_melodic);
            n.program = drum ? 0 : (uint8_t)(e->multitrack_programs ? s : family_program[s]);
            n.track = n.channel;
            n.start_q = (double)now / spq;
            n.end_q = (double)(now + 1) / spq; /* until a DUR says otherwise */
            st = mrnn__piece_add_note(out, &n);
            last = out->n_notes - 1;
            last_len = -1;
            if (now + 1 > end) end = now + 1;
        } else if (id < l.vel0) {
            now += (int64_t)(id - l.shift0 + 1);
            if (now > (int64_t)MT_MAX_STEPS) now = (int64_t)MT_MAX_STEPS;
            if (now > end) end = now;
        } else if (id < l.size) {
            /* The middle of the bin. */
            velocity = (uint8_t)(((id - l.vel0) * 128u + 64u) / l.vel_bins);
            if (velocity < 1) velocity = 1;
            if (velocity > 127) velocity = 127;
        }
    }
    if (st != MRNN_OK) return st;
    out->end_q = (double)end / spq;
    mrnn__piece_update_seconds(out);
    return MRNN_OK;
}

mrnn_status mrnn__multitrack_fill_vocab(mrnn_vocab *v, mrnn_status (*add)(mrnn_vocab *, const char *))
{
    mrnn__mt_layout l;
    mrnn__mt_layout_of(&v->enc, &l);
    char t[40];
    mrnn_status st = MRNN_OK;
    for (unsigned s = 0; s < l.n_sel && st == MRNN_OK; s++) {
        if (v->enc.multitrack_programs)
            snprintf(t, sizeof t, "PROGRAM_%u", s);
        else
            snprintf(t, sizeof t, "PROGRAM_%s", family_names[s]);
        st = add(v, t);
    }
    for (int p = 0; p < 128 && st == MRNN_OK; p++) {
        snprintf(t, sizeof t, "NOTE_%d", p);
        st = add(v, t);
    }
    for (int p = 0; p < 128 && st == MRNN_OK; p++) {
        snprintf(t, sizeof t, "DRUM_%d", p);
        st = add(v, t);
    }
    for (uint32_t k = 1; k <= l.max_k && st == MRNN_OK; k++) {
        snprintf(t, sizeof t, "DUR_%u", k);
        st = add(v, t);
    }
    for (uint32_t k = 1; k <= l.max_k && st == MRNN_OK; k++) {
        snprintf(t, sizeof t, "TIME_SHIFT_%u", k);
        st = add(v, t);
    }
    for (uint32_t b = 0; b < l.vel_bins && st == MRNN_OK; b++) {
        snprintf(t, sizeof t, "VELOCITY_%u", b);
        st = add(v, t);
    }
    return st;
}
