/* mrnn_music_stats: the per-piece statistics of music_stats.c summarised over a set of files, and
 * distances between two sets. Files are read one at a time and folded into running sums, so a
 * set of any size needs the memory of one piece. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "midi.h"
#include "music_stats.h"

static const char *const FEATURE_NAMES[MRNN_MUSIC_FEATURE_COUNT] = {
    "pitch_mean",        "pitch_min",      "pitch_max", "pitch_span", "notes_per_second", "notes_per_quarter",
    "polyphony_mean",    "polyphony_max",  "repetition", "bar_similarity", "in_key",
};

static const char *const IOI_NAMES[MRNN__IOI_BINS] = {"<=1/8", "1/4", "1/2", "1", "2", "4", ">4"};

/* The resolution of each feature: the standard deviation of a set is floored at it before the
 * overlap of two sets is computed. Without it a set whose pieces all share one value (every
 * chorale has at most four voices) would be a point mass that overlaps nothing; with it a
 * one-unit difference of an integer feature still counts as a difference. */
static const double FEATURE_RESOLUTION[MRNN_MUSIC_FEATURE_COUNT] = {
    0.5, 0.5, 0.5, 0.5, /* pitches and spans are whole semitones */
    0.05, 0.05,         /* densities */
    0.05, 0.5,          /* mean and maximum polyphony */
    0.01, 0.01, 0.01,   /* shares and similarities */
};

MRNN_API const char *mrnn_music_feature_name(uint32_t feature)
{
    return feature < MRNN_MUSIC_FEATURE_COUNT ? FEATURE_NAMES[feature] : NULL;
}

MRNN_API const char *mrnn_music_ioi_bin_name(uint32_t bin)
{
    return bin < MRNN__IOI_BINS ? IOI_NAMES[bin] : NULL;
}

MRNN_API mrnn_status mrnn_music_stats_init(mrnn_music_stats *s, uint32_t version)
{
    MRNN_CHECK_ARG(s, "s");
    if (version != MRNN_MUSIC_STATS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_stats_init: unknown version %u", version);
    memset(s, 0, sizeof *s);
    s->version = version;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_music_distance_init(mrnn_music_distance *d, uint32_t version)
{
    MRNN_CHECK_ARG(d, "d");
    if (version != MRNN_MUSIC_DISTANCE_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_distance_init: unknown version %u", version);
    memset(d, 0, sizeof *d);
    d->version = version;
    return MRNN_OK;
}

/* Running sums of one feature (Welford's update keeps the variance accurate over many pieces). */
typedef struct running {
    uint32_t n;
    double mean, m2, min, max;
} running;

static void running_add(running *r, double x)
{
    if (isnan(x)) return;
    r->n++;
    double d = x - r->mean;
    r->mean += d / r->n;
    r->m2 += d * (x - r->mean);
    if (r->n == 1 || x < r->min) r->min = x;
    if (r->n == 1 || x > r->max) r->max = x;
}

static mrnn_status fold_file(const char *path, mrnn__piece *piece, mrnn_music_stats *out, running *feat,
                             uint32_t *n_with_ioi)
{
    /* Drums are left out when reading: their "pitches" name instruments, not notes. */
    mrnn__midi_select sel = {0, 0, 0, 0};
    mrnn_status st = mrnn__midi_read_file(path, &sel, piece);
    if (st != MRNN_OK) return st;
    mrnn__piece_stats ps;
    st = mrnn__piece_stats_compute(piece, &ps);
    if (st != MRNN_OK) {
        mrnn__error_prefix(path);
        return st;
    }
    out->n_files++;
    if (ps.n_notes == 0) {
        out->n_empty++;
        return MRNN_OK;
    }
    out->n_notes += ps.n_notes;
    for (int k = 0; k < 12; k++) out->pitch_class[k] += ps.pitch_class[k];
    if (ps.n_ioi > 0) {
        (*n_with_ioi)++;
        for (int b = 0; b < MRNN__IOI_BINS; b++) out->ioi[b] += ps.ioi[b];
    }
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) running_add(&feat[f], ps.feature[f]);
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_music_stats_compute(const char *const *paths, size_t n, mrnn_music_stats *out)
{
    MRNN_CHECK_ARG(out, "out");
    if (out->version != MRNN_MUSIC_STATS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_stats_compute: out->version is %u, expected %u "
                                                "(call mrnn_music_stats_init first)", out->version,
                          MRNN_MUSIC_STATS_VERSION);
    MRNN_CHECK_ARG(paths || n == 0, "paths");
    mrnn_music_stats_init(out, MRNN_MUSIC_STATS_VERSION);
    if (n == 0) return mrnn__fail(MRNN_ERR_EMPTY, "music statistics: the set of files is empty");
    if (n > UINT32_MAX) return mrnn__fail(MRNN_ERR_LIMIT, "music statistics: more than %u files", UINT32_MAX);

    running feat[MRNN_MUSIC_FEATURE_COUNT];
    memset(feat, 0, sizeof feat);
    uint32_t n_with_ioi = 0;
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn_status st = MRNN_OK;
    for (size_t i = 0; i < n && st == MRNN_OK; i++) {
        if (!paths[i]) st = mrnn__fail(MRNN_ERR_INVALID_ARG, "music statistics: paths[%zu] is NULL", i);
        else st = fold_file(paths[i], &piece, out, feat, &n_with_ioi);
    }
    mrnn__piece_free(&piece);
    uint32_t used = out->n_files - out->n_empty;
    if (st == MRNN_OK && used == 0)
        st = mrnn__fail(MRNN_ERR_EMPTY, "music statistics: none of the %zu files (first: %s) has a non-drum note",
                        n, paths[0]);
    if (st != MRNN_OK) {
        mrnn_music_stats_init(out, MRNN_MUSIC_STATS_VERSION);
        return st;
    }

    out->n_features = MRNN_MUSIC_FEATURE_COUNT;
    out->n_ioi_bins = MRNN__IOI_BINS;
    for (int k = 0; k < 12; k++) out->pitch_class[k] /= used;
    for (int b = 0; b < MRNN__IOI_BINS; b++) out->ioi[b] = n_with_ioi ? out->ioi[b] / n_with_ioi : 0.0;
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) {
        const running *r = &feat[f];
        out->count[f] = r->n;
        out->mean[f] = r->n ? r->mean : NAN;
        out->sd[f] = r->n > 1 ? sqrt(r->m2 / (r->n - 1)) : (r->n ? 0.0 : NAN);
        out->min[f] = r->n ? r->min : NAN;
        out->max[f] = r->n ? r->max : NAN;
    }
    return MRNN_OK;
}

/* Jensen-Shannon divergence in bits (bounded by 1) and total variation of two histograms, each
 * renormalised; NaN when either is all zeros. JS rather than KL: it is symmetric and finite when
 * one set never uses a bin that the other does (a random baseline vs. a tonal reference). */
static void histogram_distance(const double *p, const double *q, int n, double *js, double *tv)
{
    double sp = 0, sq = 0;
    for (int i = 0; i < n; i++) {
        sp += p[i];
        sq += q[i];
    }
    if (!(sp > 0) || !(sq > 0)) {
        *js = *tv = NAN;
        return;
    }
    double j = 0, t = 0;
    for (int i = 0; i < n; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = 0.5 * (a + b);
        if (a > 0) j += 0.5 * a * log2(a / m);
        if (b > 0) j += 0.5 * b * log2(b / m);
        t += 0.5 * fabs(a - b);
    }
    *js = fmax(0.0, j);
    *tv = t;
}

MRNN_API mrnn_status mrnn_music_stats_compare(const mrnn_music_stats *a, const mrnn_music_stats *b,
                                              mrnn_music_distance *out)
{
    MRNN_CHECK_ARG(a, "a");
    MRNN_CHECK_ARG(b, "b");
    MRNN_CHECK_ARG(out, "out");
    if (out->version != MRNN_MUSIC_DISTANCE_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_stats_compare: out->version is %u, expected %u "
                                                "(call mrnn_music_distance_init first)", out->version,
                          MRNN_MUSIC_DISTANCE_VERSION);
    if (a->version != MRNN_MUSIC_STATS_VERSION || b->version != MRNN_MUSIC_STATS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_stats_compare: a statistics struct has version %u, "
                                                "expected %u", a->version != MRNN_MUSIC_STATS_VERSION ? a->version
                                                                                                 : b->version,
                          MRNN_MUSIC_STATS_VERSION);
    mrnn_music_distance_init(out, MRNN_MUSIC_DISTANCE_VERSION);
    out->n_features = MRNN_MUSIC_FEATURE_COUNT;
    histogram_distance(a->pitch_class, b->pitch_class, 12, &out->pitch_class_js, &out->pitch_class_tv);
    histogram_distance(a->ioi, b->ioi, MRNN__IOI_BINS, &out->ioi_js, &out->ioi_tv);
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) {
        if (a->count[f] == 0 || b->count[f] == 0) {
            out->overlap[f] = out->abs_diff[f] = NAN;
            continue;
        }
        double res = FEATURE_RESOLUTION[f];
        out->abs_diff[f] = fabs(a->mean[f] - b->mean[f]);
        out->overlap[f] = mrnn__normal_overlap(a->mean[f], fmax(a->sd[f], res), b->mean[f], fmax(b->sd[f], res));
    }
    return MRNN_OK;
}
