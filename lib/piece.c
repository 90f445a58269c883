/* The neutral note list: storage, tempo map and pitch transformations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "piece.h"
#include "sort.h"

void mrnn__piece_init(mrnn__piece *p)
{
    memset(p, 0, sizeof *p);
    p->ts_num = 4;
    p->ts_den = 4;
}

void mrnn__piece_free(mrnn__piece *p)
{
    mrnn__free(p->notes);
    mrnn__free(p->tempo);
    mrnn__piece_init(p);
}

void mrnn__piece_clear(mrnn__piece *p)
{
    p->n_notes = 0;
    p->n_tempo = 0;
    p->ts_num = 4;
    p->ts_den = 4;
    p->end_q = p->end_s = 0;
}

mrnn_status mrnn__piece_add_note(mrnn__piece *p, const mrnn__note *n)
{
    if (mrnn__grow((void **)&p->notes, &p->cap_notes, p->n_notes + 1, sizeof *p->notes) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory adding a note");
    p->notes[p->n_notes++] = *n;
    return MRNN_OK;
}

mrnn_status mrnn__piece_add_tempo(mrnn__piece *p, double q, double us_per_q)
{
    if (us_per_q <= 0) us_per_q = 500000.0;
    if (p->n_tempo == 0 && q > 0) {
        /* The map always starts at 0 at the default tempo. */
        mrnn_status st = mrnn__piece_add_tempo(p, 0.0, 500000.0);
        if (st != MRNN_OK) return st;
    }
    if (p->n_tempo > 0 && p->tempo[p->n_tempo - 1].q >= q) {
        /* Same position: the later change wins. */
        if (p->tempo[p->n_tempo - 1].q == q) {
            p->tempo[p->n_tempo - 1].us_per_q = us_per_q;
            return MRNN_OK;
        }
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "tempo changes out of order");
    }
    if (mrnn__grow((void **)&p->tempo, &p->cap_tempo, p->n_tempo + 1, sizeof *p->tempo) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory adding a tempo change");
    double s = 0;
    if (p->n_tempo > 0) {
        const mrnn__tempo *prev = &p->tempo[p->n_tempo - 1];
        s = prev->s + (q - prev->q) * prev->us_per_q * 1e-6;
    }
    p->tempo[p->n_tempo].q = q;
    p->tempo[p->n_tempo].s = s;
    p->tempo[p->n_tempo].us_per_q = us_per_q;
    p->n_tempo++;
    return MRNN_OK;
}

static inline int note_less(const mrnn__note *x, const mrnn__note *y)
{
    if (x->start_q != y->start_q) return x->start_q < y->start_q;
    if (x->pitch != y->pitch) return x->pitch < y->pitch;
    if (x->end_q != y->end_q) return x->end_q < y->end_q;
    return x->channel < y->channel;
}

MRNN__DEFINE_SORT(sort_notes, mrnn__note, note_less)

void mrnn__piece_sort(mrnn__piece *p)
{
    sort_notes(p->notes, p->n_notes);
}

double mrnn__piece_q_to_s(const mrnn__piece *p, double q)
{
    if (p->n_tempo == 0) return q * 0.5;
    size_t lo = 0, hi = p->n_tempo; /* last segment with tempo[i].q <= q */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p->tempo[mid].q <= q)
            lo = mid;
        else
            hi = mid;
    }
    const mrnn__tempo *t = &p->tempo[lo];
    return t->s + (q - t->q) * t->us_per_q * 1e-6;
}

double mrnn__piece_s_to_q(const mrnn__piece *p, double s)
{
    if (p->n_tempo == 0) return s * 2.0;
    size_t lo = 0, hi = p->n_tempo;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p->tempo[mid].s <= s)
            lo = mid;
        else
            hi = mid;
    }
    const mrnn__tempo *t = &p->tempo[lo];
    return t->q + (s - t->s) / (t->us_per_q * 1e-6);
}

void mrnn__piece_update_seconds(mrnn__piece *p)
{
    for (size_t i = 0; i < p->n_notes; i++) {
        p->notes[i].start_s = mrnn__piece_q_to_s(p, p->notes[i].start_q);
        p->notes[i].end_s = mrnn__piece_q_to_s(p, p->notes[i].end_q);
    }
    p->end_s = mrnn__piece_q_to_s(p, p->end_q);
}

void mrnn__piece_update_quarters(mrnn__piece *p)
{
    for (size_t i = 0; i < p->n_notes; i++) {
        p->notes[i].start_q = mrnn__piece_s_to_q(p, p->notes[i].start_s);
        p->notes[i].end_q = mrnn__piece_s_to_q(p, p->notes[i].end_s);
    }
    p->end_q = mrnn__piece_s_to_q(p, p->end_s);
}

void mrnn__piece_transpose(mrnn__piece *p, int semitones, int piano_only)
{
    int lo = piano_only ? 21 : 0, hi = piano_only ? 108 : 127;
    size_t out = 0;
    for (size_t i = 0; i < p->n_notes; i++) {
        mrnn__note n = p->notes[i];
        if (!n.drum) {
            int pitch = n.pitch + semitones;
            if (pitch < lo || pitch > hi) continue;
            n.pitch = (uint8_t)pitch;
        }
        p->notes[out++] = n;
    }
    p->n_notes = out;
}

/* Krumhansl-Kessler key profiles (major, minor), starting on the tonic. */
static const double major_profile[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double minor_profile[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

static double correlation(const double *x, const double *y)
{
    double mx = 0, my = 0;
    for (int i = 0; i < 12; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= 12;
    my /= 12;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < 12; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return (sxx > 0 && syy > 0) ? sxy / sqrt(sxx * syy) : 0;
}

int mrnn__piece_key_shift(const mrnn__piece *p, int *tonic, int *minor)
{
    double hist[12] = {0};
    for (size_t i = 0; i < p->n_notes; i++) {
        if (p->notes[i].drum) continue;
        double d = p->notes[i].end_q - p->notes[i].start_q;
        hist[p->notes[i].pitch % 12] += d > 0 ? d : 0.01;
    }
    double best = -2;
    int best_tonic = 0, best_minor = 0;
    for (int k = 0; k < 12; k++) {
        double rotated[12];
        for (int i = 0; i < 12; i++) rotated[i] = hist[(i + k) % 12];
        double cmaj = correlation(rotated, major_profile);
        double cmin = correlation(rotated, minor_profile);
        if (cmaj > best) {
            best = cmaj;
            best_tonic = k;
            best_minor = 0;
        }
        if (cmin > best) {
            best = cmin;
            best_tonic = k;
            best_minor = 1;
        }
    }
    if (tonic) *tonic = best_tonic;
    if (minor) *minor = best_minor;
    int target = best_minor ? 9 : 0; /* A minor or C major */
    int shift = ((target - best_tonic) % 12 + 12) % 12;
    if (shift > 6) shift -= 12; /* smallest move: -5..+6 */
    return shift;
}

int mrnn__piece_normalize_shift(const mrnn__piece *p, int mode)
{
    if (mode == MRNN_KEY_AS_WRITTEN) return 0;
    int tonic = 0, minor = 0, shift = mrnn__piece_key_shift(p, &tonic, &minor);
    if (mode != MRNN_KEY_TONIC_C) return shift;
    shift = (12 - tonic) % 12;
    return shift > 6 ? shift - 12 : shift;
}

static inline int span_less(const mrnn__span *x, const mrnn__span *y)
{
    if (x->key != y->key) return x->key < y->key;
    if (x->start != y->start) return x->start < y->start;
    return x->end > y->end; /* longest first */
}

MRNN__DEFINE_SORT(sort_spans, mrnn__span, span_less)

size_t mrnn__spans_canonical(mrnn__span *s, size_t n)
{
    sort_spans(s, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && s[k - 1].key == s[i].key) {
            mrnn__span *prev = &s[k - 1];
            if (s[i].start == prev->start) continue;           /* same onset: the longest is kept */
            if (s[i].start < prev->end) prev->end = s[i].start; /* cut at the next onset */
        }
        s[k++] = s[i];
    }
    return k;
}
