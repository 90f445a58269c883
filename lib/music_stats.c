/* Musical statistics of one piece: pitch content, density, polyphony, rhythm, repetition and key.
 * Each statistic is defined in docs/QUALITY-STATISTICS.md; the comments here say why a choice
 * was made. Drum notes have no pitch in the musical sense and are skipped everywhere. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "music_stats.h"

int mrnn__ioi_bin(double q)
{
    /* Bins centred on 1/8, 1/4, ... 4 quarters, edges at the geometric means of neighbouring
     * centres (2^(k - 2.5)), so that an interval falls into the power of two nearest on a log scale
     * and triplets land next to their binary neighbours. */
    double edge = pow(2.0, -2.5);
    for (int k = 0; k < MRNN__IOI_BINS - 1; k++, edge *= 2)
        if (q < edge) return k;
    return MRNN__IOI_BINS - 1;
}

typedef struct onset {
    double q;
    uint8_t top; /* highest pitch starting at this onset */
} onset;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Notes sorted by start; onsets within the tolerance of the first note of a group are merged. */
static size_t collect_onsets(const mrnn__note *const *notes, size_t n, onset *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const mrnn__note *nt = notes[i];
        if (k > 0 && nt->start_q - out[k - 1].q < MRNN__ONSET_TOLERANCE_Q) {
            if (nt->pitch > out[k - 1].top) out[k - 1].top = nt->pitch;
            continue;
        }
        out[k].q = nt->start_q;
        out[k].top = nt->pitch;
        k++;
    }
    return k;
}

static int cmp_note_start(const void *a, const void *b)
{
    const mrnn__note *x = *(const mrnn__note *const *)a, *y = *(const mrnn__note *const *)b;
    if (x->start_q != y->start_q) return x->start_q < y->start_q ? -1 : 1;
    return (x->pitch > y->pitch) - (x->pitch < y->pitch);
}

/* Share of the windows of MRNN__REPETITION_N consecutive top-line pitches whose exact pitch
 * sequence occurs at least twice in the piece. Exact pitches (not intervals): a transposed
 * sequence is a variation, and counting it would make scales look repetitive. */
static double repetition_share(const onset *on, size_t n_on, uint32_t *keys)
{
    if (n_on < MRNN__REPETITION_N + 1) return NAN; /* fewer than two windows: no repetition possible */
    size_t w = n_on - MRNN__REPETITION_N + 1;
    for (size_t i = 0; i < w; i++) {
        uint32_t key = 0;
        for (int j = 0; j < MRNN__REPETITION_N; j++) key = key << 7 | (on[i + (size_t)j].top & 0x7F);
        keys[i] = key;
    }
    qsort(keys, w, sizeof *keys, cmp_u32);
    size_t repeated = 0;
    for (size_t i = 0; i < w;) {
        size_t j = i + 1;
        while (j < w && keys[j] == keys[i]) j++;
        if (j - i > 1) repeated += j - i;
        i = j;
    }
    return (double)repeated / (double)w;
}

/* Sweep over note starts (+1) and ends (-1); at equal times ends come first, so that a note
 * that follows another legato does not count as two sounding at once. */
typedef struct edge {
    double t;
    int delta;
} edge;

static int cmp_edge(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->delta - y->delta;
}

static void polyphony(edge *edges, size_t n_edges, double *mean, double *max)
{
    qsort(edges, n_edges, sizeof *edges, cmp_edge);
    double area = 0, covered = 0;
    int sounding = 0, most = 0;
    for (size_t i = 0; i < n_edges; i++) {
        if (i > 0 && sounding > 0) {
            double dt = edges[i].t - edges[i - 1].t;
            area += dt * sounding;
            covered += dt;
        }
        sounding += edges[i].delta;
        if (sounding > most) most = sounding;
    }
    *mean = covered > 0 ? area / covered : NAN;
    *max = most > 0 ? most : NAN;
}

/* Mean cosine similarity over all pairs of non-empty bars of their duration-weighted pitch-class
 * vectors: 1 when every bar uses the same pitch classes in the same proportions, low when the
 * harmony wanders or is random. Bars follow the piece's first time signature from time 0. */
static double bar_similarity(const mrnn__piece *p, const mrnn__note *const *notes, size_t n, double *bars)
{
    double bar_q = 4.0 * p->ts_num / (p->ts_den ? p->ts_den : 4);
    if (!(bar_q > 0)) bar_q = 4.0;
    memset(bars, 0, sizeof(double) * 12 * MRNN__MAX_BARS);
    size_t n_bars = 0;
    for (size_t i = 0; i < n; i++) {
        const mrnn__note *nt = notes[i];
        double s = nt->start_q, e = nt->end_q;
        if (s < 0) s = 0;
        /* A zero-length note still sounded: give it a token weight, as the key estimate does. */
        if (e <= s) e = s + 0.01;
        for (size_t b = (size_t)(s / bar_q); b < MRNN__MAX_BARS && (double)b * bar_q < e; b++) {
            double lo = fmax(s, (double)b * bar_q), hi = fmin(e, (double)(b + 1) * bar_q);
            if (hi > lo) bars[b * 12 + nt->pitch % 12] += hi - lo;
            if (b + 1 > n_bars) n_bars = b + 1;
        }
    }
    size_t used = 0;
    for (size_t b = 0; b < n_bars; b++) {
        double norm = 0;
        for (int k = 0; k < 12; k++) norm += bars[b * 12 + (size_t)k] * bars[b * 12 + (size_t)k];
        if (norm <= 0) continue;
        norm = sqrt(norm);
        for (int k = 0; k < 12; k++) bars[used * 12 + (size_t)k] = bars[b * 12 + (size_t)k] / norm;
        used++;
    }
    if (used < 2) return NAN;
    double sum = 0;
    for (size_t a = 0; a < used; a++)
        for (size_t b = a + 1; b < used; b++) {
            double dot = 0;
            for (int k = 0; k < 12; k++) dot += bars[a * 12 + (size_t)k] * bars[b * 12 + (size_t)k];
            sum += dot;
        }
    return sum / ((double)used * (double)(used - 1) / 2.0);
}

static double in_key_share(const mrnn__piece *p, const mrnn__note *const *notes, size_t n)
{
    /* The scales of the sampler's key constraint (mrnn_scale): major, and natural minor plus the
     * raised seventh, since a minor-key piece uses both sevenths. */
    static const int major[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    static const int minor[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1};
    int tonic = 0, is_minor = 0;
    mrnn__piece_key_shift(p, &tonic, &is_minor);
    const int *scale = is_minor ? minor : major;
    size_t in = 0;
    for (size_t i = 0; i < n; i++) in += (size_t)scale[(notes[i]->pitch - tonic + 12) % 12];
    return (double)in / (double)n;
}

mrnn_status mrnn__piece_stats_compute(const mrnn__piece *p, mrnn__piece_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) out->feature[f] = NAN;
    size_t n = 0;
    for (size_t i = 0; i < p->n_notes; i++) n += !p->notes[i].drum;
    out->n_notes = n;
    if (n == 0) return MRNN_OK;

    const mrnn__note **notes = mrnn__calloc(n, sizeof *notes);
    onset *on = mrnn__calloc(n, sizeof *on);
    uint32_t *keys = mrnn__calloc(n, sizeof *keys);
    edge *edges = mrnn__calloc(n, 2 * sizeof *edges);
    double *bars = mrnn__calloc(12 * MRNN__MAX_BARS, sizeof *bars);
    if (!notes || !on || !keys || !edges || !bars) {
        mrnn__free(notes);
        mrnn__free(on);
        mrnn__free(keys);
        mrnn__free(edges);
        mrnn__free(bars);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory computing music statistics");
    }
    size_t k = 0;
    for (size_t i = 0; i < p->n_notes; i++)
        if (!p->notes[i].drum) notes[k++] = &p->notes[i];
    qsort(notes, n, sizeof *notes, cmp_note_start);

    double psum = 0, lo = 127, hi = 0, first_q = notes[0]->start_q, last_q = notes[0]->end_q;
    double first_s = notes[0]->start_s, last_s = notes[0]->end_s;
    size_t n_edges = 0;
    for (size_t i = 0; i < n; i++) {
        const mrnn__note *nt = notes[i];
        out->pitch_class[nt->pitch % 12] += 1.0 / (double)n;
        psum += nt->pitch;
        lo = fmin(lo, nt->pitch);
        hi = fmax(hi, nt->pitch);
        last_q = fmax(last_q, nt->end_q);
        last_s = fmax(last_s, nt->end_s);
        if (nt->end_q > nt->start_q) {
            edges[n_edges++] = (edge){nt->start_q, +1};
            edges[n_edges++] = (edge){nt->end_q, -1};
        }
    }
    out->feature[MRNN_MUSIC_PITCH_MEAN] = psum / (double)n;
    out->feature[MRNN_MUSIC_PITCH_MIN] = lo;
    out->feature[MRNN_MUSIC_PITCH_MAX] = hi;
    out->feature[MRNN_MUSIC_PITCH_SPAN] = hi - lo;
    /* Density over the stretch that holds music: leading and trailing silence say more about how
     * the file was cut than about the music. */
    if (last_s > first_s) out->feature[MRNN_MUSIC_NOTES_PER_SECOND] = (double)n / (last_s - first_s);
    if (last_q > first_q) out->feature[MRNN_MUSIC_NOTES_PER_QUARTER] = (double)n / (last_q - first_q);
    if (n_edges > 0)
        polyphony(edges, n_edges, &out->feature[MRNN_MUSIC_POLYPHONY_MEAN], &out->feature[MRNN_MUSIC_POLYPHONY_MAX]);

    size_t n_on = collect_onsets(notes, n, on);
    for (size_t i = 1; i < n_on; i++) out->ioi[mrnn__ioi_bin(on[i].q - on[i - 1].q)] += 1.0;
    out->n_ioi = n_on > 1 ? n_on - 1 : 0;
    for (int b = 0; b < MRNN__IOI_BINS && out->n_ioi > 0; b++) out->ioi[b] /= (double)out->n_ioi;

    out->feature[MRNN_MUSIC_REPETITION] = repetition_share(on, n_on, keys);
    out->feature[MRNN_MUSIC_BAR_SIMILARITY] = bar_similarity(p, notes, n, bars);
    out->feature[MRNN_MUSIC_IN_KEY] = in_key_share(p, notes, n);

    mrnn__free(notes);
    mrnn__free(on);
    mrnn__free(keys);
    mrnn__free(edges);
    mrnn__free(bars);
    return MRNN_OK;
}

/* Standard normal cumulative distribution. */
static double phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

double mrnn__normal_overlap(double m1, double s1, double m2, double s2)
{
    /* The densities cross where their log-ratio, a quadratic a x² + b x + c, is zero. Between
     * consecutive crossings one density lies below the other throughout, and the area of the
     * minimum there is a difference of that density's cumulative distribution. */
    double a = 1.0 / (2 * s2 * s2) - 1.0 / (2 * s1 * s1);
    double b = m1 / (s1 * s1) - m2 / (s2 * s2);
    double c = m2 * m2 / (2 * s2 * s2) - m1 * m1 / (2 * s1 * s1) + log(s2 / s1);
    double cuts[2];
    int n_cuts = 0;
    if (fabs(a) < 1e-12 * (1.0 / (s1 * s1))) {
        if (fabs(b) > 0) cuts[n_cuts++] = -c / b;
    } else {
        double disc = b * b - 4 * a * c;
        if (disc >= 0) {
            double r = sqrt(disc);
            cuts[n_cuts++] = (-b - r) / (2 * a);
            cuts[n_cuts++] = (-b + r) / (2 * a);
            if (cuts[0] > cuts[1]) qsort(cuts, 2, sizeof *cuts, cmp_double);
        }
    }
    double total = 0, lo = -INFINITY;
    for (int i = 0; i <= n_cuts; i++) {
        double hi = i < n_cuts ? cuts[i] : INFINITY;
        /* A point inside (lo, hi) decides which density is the lower one there. */
        double x = isinf(lo) ? (isinf(hi) ? m1 : hi - 1.0) : (isinf(hi) ? lo + 1.0 : 0.5 * (lo + hi));
        double z1 = (x - m1) / s1, z2 = (x - m2) / s2;
        double l1 = -0.5 * z1 * z1 - log(s1), l2 = -0.5 * z2 * z2 - log(s2);
        double m = l1 <= l2 ? m1 : m2, s = l1 <= l2 ? s1 : s2;
        double p_hi = isinf(hi) ? 1.0 : phi((hi - m) / s), p_lo = isinf(lo) ? 0.0 : phi((lo - m) / s);
        total += p_hi - p_lo;
        lo = hi;
    }
    return fmin(1.0, fmax(0.0, total));
}
