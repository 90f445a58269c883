/* Musical statistics of one piece (music_stats.c); summarising a set of pieces and comparing two
 * sets is the public part (music_stats_set.c). Definitions: docs/QUALITY-STATISTICS.md. */
#ifndef MRNN_MUSIC_STATS_H
#define MRNN_MUSIC_STATS_H

#include <stddef.h>

#include "piece.h"

/* Bins of the inter-onset-interval histogram actually used (<= MRNN_MUSIC_IOI_CAP). */
#define MRNN__IOI_BINS 7
/* Onsets closer than this (in quarters) are one onset: a spread chord, not a rhythm. */
#define MRNN__ONSET_TOLERANCE_Q (1.0 / 48.0)
/* Length of the pitch windows counted by the repetition statistic. */
#define MRNN__REPETITION_N 4
/* Bars beyond this are left out of the bar similarity (it compares every pair of bars). */
#define MRNN__MAX_BARS 4096

typedef struct mrnn__piece_stats {
    size_t n_notes;                 /* non-drum notes */
    double pitch_class[12];         /* normalised note counts; all 0 when n_notes is 0 */
    double ioi[MRNN__IOI_BINS];     /* normalised; all 0 when there are fewer than two onsets */
    size_t n_ioi;                   /* intervals counted in ioi */
    double feature[MRNN_MUSIC_FEATURE_COUNT]; /* NaN where undefined for this piece */
} mrnn__piece_stats;

/* Compute the statistics of *p (drum notes ignored). Only fails with MRNN_ERR_NOMEM. */
mrnn_status mrnn__piece_stats_compute(const mrnn__piece *p, mrnn__piece_stats *out);

/* Bin of an inter-onset interval of `q` quarters (> 0). */
int mrnn__ioi_bin(double q);

/* Overlapping area of the normal densities N(m1, s1²) and N(m2, s2²), s1, s2 > 0. */
double mrnn__normal_overlap(double m1, double s1, double m2, double s2);

#endif
