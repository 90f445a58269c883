/* Musical statistics: hand-built pieces written as real MIDI files (so the whole path, reader
 * included, is exercised) with answers worked out by hand; set summaries, distances and errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "midi.h"
#include "music_stats.h"
#include "piece.h"
#include "test_main.h"
#include "test_util.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = test_tmpdir();
}

static void teardown(void)
{
    test_rmdir(tmpdir);
}

#define NEAR(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%s = %.12g, expected %.12g", #a, (double)(a), (double)(b))

static void add(mrnn__piece *p, double start, double end, int pitch, int channel)
{
    mrnn__note n = {0};
    n.start_q = start;
    n.end_q = end;
    n.pitch = (uint8_t)pitch;
    n.velocity = 90;
    n.channel = (uint8_t)channel;
    n.drum = channel == MRNN__DRUM_CHANNEL;
    ck_assert_int_eq(mrnn__piece_add_note(p, &n), MRNN_OK);
}

/* Write *p (at 120 bpm) to tmpdir/name and free it; returns the path in buf. */
static const char *write_piece(mrnn__piece *p, const char *name, char *buf, size_t cap)
{
    ck_assert_int_lt(snprintf(buf, cap, "%s/%s", tmpdir, name), (int)cap);
    mrnn__piece_sort(p);
    mrnn__piece_update_seconds(p);
    mrnn__midi_write_opts o = {120.0, -1, 480};
    ck_assert_int_eq(mrnn__midi_write_file(buf, p, &o), MRNN_OK);
    mrnn__piece_free(p);
    return buf;
}

/* Read a file back and compute its per-piece statistics. */
static void piece_stats_of(const char *path, mrnn__piece_stats *out)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(mrnn__midi_read_file(path, NULL, &p), MRNN_OK);
    ck_assert_int_eq(mrnn__piece_stats_compute(&p, out), MRNN_OK);
    mrnn__piece_free(&p);
}

static const int C_MAJOR[8] = {60, 62, 64, 65, 67, 69, 71, 72};

static const char *c_major_scale(char *buf, size_t cap)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int i = 0; i < 8; i++) add(&p, i, i + 1, C_MAJOR[i], 0);
    return write_piece(&p, "scale.mid", buf, cap);
}

static const char *held_triad(char *buf, size_t cap)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    add(&p, 0, 4, 60, 0);
    add(&p, 0, 4, 64, 0);
    add(&p, 0, 4, 67, 0);
    return write_piece(&p, "triad.mid", buf, cap);
}

START_TEST(test_c_major_scale)
{
    char path[512];
    mrnn__piece_stats s;
    piece_stats_of(c_major_scale(path, sizeof path), &s);
    ck_assert_uint_eq(s.n_notes, 8);
    /* Two Cs, one of each other scale note, no accidentals. */
    static const double expect[12] = {2, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    for (int k = 0; k < 12; k++) NEAR(s.pitch_class[k], expect[k] / 8);
    NEAR(s.feature[MRNN_MUSIC_PITCH_MEAN], 530.0 / 8);
    NEAR(s.feature[MRNN_MUSIC_PITCH_MIN], 60);
    NEAR(s.feature[MRNN_MUSIC_PITCH_MAX], 72);
    NEAR(s.feature[MRNN_MUSIC_PITCH_SPAN], 12);
    NEAR(s.feature[MRNN_MUSIC_NOTES_PER_QUARTER], 1);
    NEAR(s.feature[MRNN_MUSIC_NOTES_PER_SECOND], 2); /* 120 bpm */
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MEAN], 1);   /* legato notes never overlap */
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MAX], 1);
    NEAR(s.feature[MRNN_MUSIC_IN_KEY], 1);
    NEAR(s.feature[MRNN_MUSIC_REPETITION], 0); /* five windows, all different */
    ck_assert_uint_eq(s.n_ioi, 7);
    for (int b = 0; b < MRNN__IOI_BINS; b++) NEAR(s.ioi[b], b == mrnn__ioi_bin(1.0) ? 1 : 0);

    /* The key estimate says C major. */
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(mrnn__midi_read_file(path, NULL, &p), MRNN_OK);
    int tonic = -1, minor = -1;
    mrnn__piece_key_shift(&p, &tonic, &minor);
    ck_assert_int_eq(tonic, 0);
    ck_assert_int_eq(minor, 0);
    mrnn__piece_free(&p);
}
END_TEST

START_TEST(test_polyphony)
{
    char path[512];
    mrnn__piece_stats s;
    piece_stats_of(held_triad(path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MEAN], 3);
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MAX], 3);
    NEAR(s.feature[MRNN_MUSIC_NOTES_PER_QUARTER], 3.0 / 4);
    ck_assert_uint_eq(s.n_ioi, 0); /* one onset: no interval, no repetition */
    for (int b = 0; b < MRNN__IOI_BINS; b++) NEAR(s.ioi[b], 0);
    ck_assert(isnan(s.feature[MRNN_MUSIC_REPETITION]));

    /* Silence does not count: a triad for 2 quarters, a rest, one note for 1 quarter gives
     * (3*2 + 1*1) / 3 sounding quarters. */
    mrnn__piece p;
    mrnn__piece_init(&p);
    add(&p, 0, 2, 60, 0);
    add(&p, 0, 2, 64, 0);
    add(&p, 0, 2, 67, 0);
    add(&p, 3, 4, 72, 0);
    piece_stats_of(write_piece(&p, "gap.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MEAN], 7.0 / 3);
    NEAR(s.feature[MRNN_MUSIC_POLYPHONY_MAX], 3);
    ck_assert_uint_eq(s.n_ioi, 1);
    NEAR(s.ioi[mrnn__ioi_bin(3.0)], 1);
}
END_TEST

START_TEST(test_ioi)
{
    /* Bins centred on powers of two, triplets next to their binary neighbours. */
    ck_assert_int_eq(mrnn__ioi_bin(0.1), 0);
    ck_assert_int_eq(mrnn__ioi_bin(0.125), 0);
    ck_assert_int_eq(mrnn__ioi_bin(0.25), 1);
    ck_assert_int_eq(mrnn__ioi_bin(1.0 / 3), 1);
    ck_assert_int_eq(mrnn__ioi_bin(0.5), 2);
    ck_assert_int_eq(mrnn__ioi_bin(2.0 / 3), 2);
    ck_assert_int_eq(mrnn__ioi_bin(0.75), 3);
    ck_assert_int_eq(mrnn__ioi_bin(1.0), 3);
    ck_assert_int_eq(mrnn__ioi_bin(1.5), 4);
    ck_assert_int_eq(mrnn__ioi_bin(2.0), 4);
    ck_assert_int_eq(mrnn__ioi_bin(4.0), 5);
    ck_assert_int_eq(mrnn__ioi_bin(6.0), 6);
    ck_assert_str_eq(mrnn_music_ioi_bin_name(2), "1/2");
    ck_assert_ptr_null(mrnn_music_ioi_bin_name(MRNN__IOI_BINS));

    /* Eighths, with the notes of a chord spread by a few ticks: still one onset each. */
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int i = 0; i < 16; i++) {
        add(&p, i * 0.5, i * 0.5 + 0.5, 60 + i % 5, 0);
        add(&p, i * 0.5 + 0.01, i * 0.5 + 0.5, 48, 0);
    }
    char path[512];
    mrnn__piece_stats s;
    piece_stats_of(write_piece(&p, "eighths.mid", path, sizeof path), &s);
    ck_assert_uint_eq(s.n_ioi, 15);
    NEAR(s.ioi[mrnn__ioi_bin(0.5)], 1);
    NEAR(s.feature[MRNN_MUSIC_NOTES_PER_QUARTER], 32.0 / 8);
}
END_TEST

static const char *sequence(const int *pitches, int n, const char *name, char *buf, size_t cap)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int i = 0; i < n; i++) {
        add(&p, i * 0.5, i * 0.5 + 0.5, pitches[i], 0);
        add(&p, i * 0.5, i * 0.5 + 0.5, pitches[i] - 12, 0); /* a lower voice: the top line decides */
    }
    return write_piece(&p, name, buf, cap);
}

START_TEST(test_repetition)
{
    char path[512];
    mrnn__piece_stats s;
    /* A motif of five notes four times: every 4-note window occurs again. */
    int motif4[20];
    for (int i = 0; i < 20; i++) motif4[i] = C_MAJOR[i % 5];
    piece_stats_of(sequence(motif4, 20, "motif4.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_REPETITION], 1);

    /* The motif twice, then five new notes: 12 windows, of which 0, 1, 5 and 6 repeat. */
    int partial[15];
    for (int i = 0; i < 10; i++) partial[i] = C_MAJOR[i % 5];
    for (int i = 10; i < 15; i++) partial[i] = 80 + i;
    piece_stats_of(sequence(partial, 15, "partial.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_REPETITION], 4.0 / 12);

    /* A rising chromatic line never repeats. */
    int rising[20];
    for (int i = 0; i < 20; i++) rising[i] = 50 + i;
    piece_stats_of(sequence(rising, 20, "rising.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_REPETITION], 0);
}
END_TEST

START_TEST(test_bar_similarity)
{
    char path[512];
    mrnn__piece_stats s;
    /* The same bar four times: every pair of bars is identical. */
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int bar = 0; bar < 4; bar++)
        for (int i = 0; i < 4; i++) add(&p, bar * 4 + i, bar * 4 + i + 1, C_MAJOR[i], 0);
    piece_stats_of(write_piece(&p, "same-bars.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_BAR_SIMILARITY], 1);

    /* Two bars on disjoint pitch classes (C D E F, then F# G# A# B): orthogonal vectors. */
    mrnn__piece_init(&p);
    static const int second[4] = {66, 68, 70, 71};
    for (int i = 0; i < 4; i++) add(&p, i, i + 1, C_MAJOR[i], 0);
    for (int i = 0; i < 4; i++) add(&p, 4 + i, 5 + i, second[i], 0);
    piece_stats_of(write_piece(&p, "disjoint.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_BAR_SIMILARITY], 0);

    /* A note held across the bar line counts in both bars, by its duration in each. */
    mrnn__piece_init(&p);
    add(&p, 2, 6, 60, 0);
    piece_stats_of(write_piece(&p, "tied.mid", path, sizeof path), &s);
    NEAR(s.feature[MRNN_MUSIC_BAR_SIMILARITY], 1);
}
END_TEST

START_TEST(test_in_key)
{
    char path[512];
    mrnn__piece_stats s;
    /* All twelve pitch classes equally: whatever the key, 7 of 12 notes are in its scale
     * (8 of 12 for the minor scale with both sevenths). */
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int i = 0; i < 12; i++) add(&p, i, i + 1, 60 + i, 0);
    piece_stats_of(write_piece(&p, "chromatic.mid", path, sizeof path), &s);
    double v = s.feature[MRNN_MUSIC_IN_KEY];
    ck_assert_msg(fabs(v - 7.0 / 12) < 1e-9 || fabs(v - 8.0 / 12) < 1e-9, "in_key %g", v);

    /* Pseudo-random pitches: far fewer notes in key than a tonal melody. */
    mrnn__piece_init(&p);
    uint32_t x = 12345;
    for (int i = 0; i < 200; i++) {
        x = x * 1664525u + 1013904223u;
        add(&p, i * 0.5, i * 0.5 + 0.5, 48 + (int)((x >> 16) % 36), 0);
    }
    piece_stats_of(write_piece(&p, "random.mid", path, sizeof path), &s);
    ck_assert_double_lt(s.feature[MRNN_MUSIC_IN_KEY], 0.85);
    ck_assert_double_gt(s.feature[MRNN_MUSIC_IN_KEY], 0.4);
    ck_assert_double_lt(s.feature[MRNN_MUSIC_BAR_SIMILARITY], 0.8);
}
END_TEST

START_TEST(test_drums_ignored)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    for (int i = 0; i < 8; i++) {
        add(&p, i, i + 1, C_MAJOR[i], 0);
        add(&p, i, i + 0.25, 37 + i, MRNN__DRUM_CHANNEL);
    }
    char path[512], scale[512];
    const char *files[1] = {write_piece(&p, "drums.mid", path, sizeof path)};
    const char *plain[1] = {c_major_scale(scale, sizeof scale)};
    mrnn_music_stats a, b;
    mrnn_music_stats_init(&a, MRNN_MUSIC_STATS_VERSION);
    mrnn_music_stats_init(&b, MRNN_MUSIC_STATS_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compute(files, 1, &a), MRNN_OK);
    ck_assert_int_eq(mrnn_music_stats_compute(plain, 1, &b), MRNN_OK);
    ck_assert_uint_eq(a.n_notes, 8);
    ck_assert_mem_eq(&a, &b, sizeof a);
}
END_TEST

START_TEST(test_set_summary)
{
    char s1[512], s2[512], s3[512];
    mrnn__piece empty;
    mrnn__piece_init(&empty);
    const char *paths[3] = {c_major_scale(s1, sizeof s1), held_triad(s2, sizeof s2),
                            write_piece(&empty, "empty.mid", s3, sizeof s3)};
    mrnn_music_stats s;
    mrnn_music_stats_init(&s, MRNN_MUSIC_STATS_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compute(paths, 3, &s), MRNN_OK);
    ck_assert_uint_eq(s.n_files, 3);
    ck_assert_uint_eq(s.n_empty, 1);
    ck_assert_uint_eq(s.n_notes, 11);
    ck_assert_uint_eq(s.n_features, MRNN_MUSIC_FEATURE_COUNT);
    ck_assert_uint_eq(s.n_ioi_bins, MRNN__IOI_BINS);
    /* Each piece weighs the same: the scale's C share 2/8 and the triad's 1/3. */
    NEAR(s.pitch_class[0], (2.0 / 8 + 1.0 / 3) / 2);
    NEAR(s.pitch_class[4], (1.0 / 8 + 1.0 / 3) / 2);
    double sum = 0;
    for (int k = 0; k < 12; k++) sum += s.pitch_class[k];
    NEAR(sum, 1);
    /* Only the scale has intervals. */
    NEAR(s.ioi[mrnn__ioi_bin(1.0)], 1);
    ck_assert_uint_eq(s.count[MRNN_MUSIC_POLYPHONY_MAX], 2);
    NEAR(s.mean[MRNN_MUSIC_POLYPHONY_MAX], 2);
    NEAR(s.sd[MRNN_MUSIC_POLYPHONY_MAX], sqrt(2.0)); /* values 1 and 3, sample sd */
    NEAR(s.min[MRNN_MUSIC_POLYPHONY_MAX], 1);
    NEAR(s.max[MRNN_MUSIC_POLYPHONY_MAX], 3);
    ck_assert_uint_eq(s.count[MRNN_MUSIC_REPETITION], 1); /* the triad has one onset */
    ck_assert_str_eq(mrnn_music_feature_name(MRNN_MUSIC_IN_KEY), "in_key");
    ck_assert_ptr_null(mrnn_music_feature_name(MRNN_MUSIC_FEATURE_COUNT));
}
END_TEST

START_TEST(test_distances)
{
    char s1[512], s2[512], s3[512];
    const char *a_paths[2] = {c_major_scale(s1, sizeof s1), held_triad(s2, sizeof s2)};
    int rising[20];
    for (int i = 0; i < 20; i++) rising[i] = 50 + i;
    const char *b_paths[1] = {sequence(rising, 20, "rising.mid", s3, sizeof s3)};
    mrnn_music_stats a, b;
    mrnn_music_stats_init(&a, MRNN_MUSIC_STATS_VERSION);
    mrnn_music_stats_init(&b, MRNN_MUSIC_STATS_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compute(a_paths, 2, &a), MRNN_OK);
    ck_assert_int_eq(mrnn_music_stats_compute(b_paths, 1, &b), MRNN_OK);

    mrnn_music_distance self, ab, ba;
    mrnn_music_distance_init(&self, MRNN_MUSIC_DISTANCE_VERSION);
    mrnn_music_distance_init(&ab, MRNN_MUSIC_DISTANCE_VERSION);
    mrnn_music_distance_init(&ba, MRNN_MUSIC_DISTANCE_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compare(&a, &a, &self), MRNN_OK);
    NEAR(self.pitch_class_js, 0);
    NEAR(self.pitch_class_tv, 0);
    NEAR(self.ioi_js, 0);
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) {
        if (a.count[f] == 0) continue;
        NEAR(self.abs_diff[f], 0);
        ck_assert_msg(fabs(self.overlap[f] - 1) < 1e-9, "overlap of %s with itself: %g", mrnn_music_feature_name(f),
                      self.overlap[f]);
    }

    ck_assert_int_eq(mrnn_music_stats_compare(&a, &b, &ab), MRNN_OK);
    ck_assert_int_eq(mrnn_music_stats_compare(&b, &a, &ba), MRNN_OK);
    ck_assert_double_gt(ab.pitch_class_js, 0.05);
    ck_assert_double_le(ab.pitch_class_js, 1);
    ck_assert_double_gt(ab.ioi_js, 0.5); /* quarters against eighths */
    NEAR(ab.pitch_class_js, ba.pitch_class_js);
    NEAR(ab.pitch_class_tv, ba.pitch_class_tv);
    NEAR(ab.ioi_js, ba.ioi_js);
    for (int f = 0; f < MRNN_MUSIC_FEATURE_COUNT; f++) {
        if (isnan(ab.overlap[f])) {
            ck_assert(isnan(ba.overlap[f]));
            continue;
        }
        NEAR(ab.overlap[f], ba.overlap[f]);
        NEAR(ab.abs_diff[f], ba.abs_diff[f]);
        ck_assert(ab.overlap[f] >= 0 && ab.overlap[f] <= 1);
    }
    /* The rising line with its lower voice spans 38..69; the scale 12 and the triad 7 semitones. */
    NEAR(ab.abs_diff[MRNN_MUSIC_PITCH_SPAN], 31 - (12 + 7) / 2.0);
}
END_TEST

/* Area under min(N(m1, s1), N(m2, s2)) by brute-force numerical integration. */
static double overlap_numeric(double m1, double s1, double m2, double s2)
{
    double lo = fmin(m1 - 12 * s1, m2 - 12 * s2), hi = fmax(m1 + 12 * s1, m2 + 12 * s2);
    int n = 400000;
    double h = (hi - lo) / n, sum = 0;
    for (int i = 0; i < n; i++) {
        double x = lo + (i + 0.5) * h;
        double p1 = exp(-0.5 * pow((x - m1) / s1, 2)) / (s1 * sqrt(2 * M_PI));
        double p2 = exp(-0.5 * pow((x - m2) / s2, 2)) / (s2 * sqrt(2 * M_PI));
        sum += fmin(p1, p2) * h;
    }
    return sum;
}

START_TEST(test_normal_overlap)
{
    NEAR(mrnn__normal_overlap(3, 2, 3, 2), 1);
    /* Equal widths: 2 Phi(-|d| / 2s). */
    ck_assert_double_eq_tol(mrnn__normal_overlap(0, 1, 1, 1), 0.6170750774519739, 1e-12);
    ck_assert_double_lt(mrnn__normal_overlap(0, 1, 40, 1), 1e-12);
    static const double cases[][4] = {{0, 1, 0, 3}, {0, 1, 2, 0.5}, {5, 0.1, 5.2, 2}, {-3, 4, 10, 1}, {1, 0.01, 1.5, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const double *c = cases[i];
        double exact = mrnn__normal_overlap(c[0], c[1], c[2], c[3]);
        ck_assert_msg(fabs(exact - overlap_numeric(c[0], c[1], c[2], c[3])) < 1e-5, "case %zu: %g vs %g", i, exact,
                      overlap_numeric(c[0], c[1], c[2], c[3]));
        NEAR(exact, mrnn__normal_overlap(c[2], c[3], c[0], c[1]));
    }
}
END_TEST

START_TEST(test_errors)
{
    mrnn_music_stats s;
    mrnn_music_stats_init(&s, MRNN_MUSIC_STATS_VERSION);
    char good[512], missing[512], broken[512];
    const char *g = c_major_scale(good, sizeof good);

    /* A missing file, and a truncated one, fail the whole set and are named. */
    TEST_PATH(missing, "%s/no-such-file.mid", tmpdir);
    const char *with_missing[2] = {g, missing};
    ck_assert_int_eq(mrnn_music_stats_compute(with_missing, 2, &s), MRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "no-such-file.mid"));
    ck_assert_uint_eq(s.n_files, 0); /* nothing half-filled */
    ck_assert_uint_eq(s.version, MRNN_MUSIC_STATS_VERSION);

    size_t len;
    uint8_t *bytes = test_read(g, &len);
    TEST_PATH(broken, "%s/broken.mid", tmpdir);
    test_write(broken, bytes, len / 2);
    free(bytes);
    const char *with_broken[2] = {g, broken};
    ck_assert_int_eq(mrnn_music_stats_compute(with_broken, 2, &s), MRNN_ERR_MIDI);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "broken.mid"));

    /* Empty sets. */
    ck_assert_int_eq(mrnn_music_stats_compute(with_broken, 0, &s), MRNN_ERR_EMPTY);
    char e[512];
    mrnn__piece empty;
    mrnn__piece_init(&empty);
    const char *only_empty[1] = {write_piece(&empty, "silent.mid", e, sizeof e)};
    ck_assert_int_eq(mrnn_music_stats_compute(only_empty, 1, &s), MRNN_ERR_EMPTY);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "silent.mid"));

    /* Arguments and versions. */
    const char *ok[1] = {g};
    ck_assert_int_eq(mrnn_music_stats_compute(ok, 1, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_stats_compute(NULL, 1, &s), MRNN_ERR_INVALID_ARG);
    const char *null_path[1] = {NULL};
    ck_assert_int_eq(mrnn_music_stats_compute(null_path, 1, &s), MRNN_ERR_INVALID_ARG);
    mrnn_music_stats bad;
    memset(&bad, 0, sizeof bad);
    ck_assert_int_eq(mrnn_music_stats_compute(ok, 1, &bad), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "mrnn_music_stats_init"));
    ck_assert_int_eq(mrnn_music_stats_init(&s, 99), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_stats_init(NULL, MRNN_MUSIC_STATS_VERSION), MRNN_ERR_INVALID_ARG);

    mrnn_music_stats_init(&s, MRNN_MUSIC_STATS_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compute(ok, 1, &s), MRNN_OK);
    mrnn_music_distance d;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(mrnn_music_stats_compare(&s, &s, &d), MRNN_ERR_INVALID_ARG);
    mrnn_music_distance_init(&d, MRNN_MUSIC_DISTANCE_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compare(&s, &bad, &d), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_stats_compare(NULL, &s, &d), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_music_distance_init(&d, 0), MRNN_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_out_of_memory)
{
    char path[512];
    const char *paths[1] = {c_major_scale(path, sizeof path)};
    mrnn_music_stats s;
    /* Every allocation in turn fails: always MRNN_ERR_NOMEM, never a crash (leaks show under valgrind). */
    int failures = 0;
    for (long n = 0; n < 200; n++) {
        mrnn_music_stats_init(&s, MRNN_MUSIC_STATS_VERSION);
        mrnn__alloc_fail_after(n);
        mrnn_status st = mrnn_music_stats_compute(paths, 1, &s);
        mrnn__alloc_fail_after(-1);
        if (st == MRNN_OK) break;
        ck_assert_int_eq(st, MRNN_ERR_NOMEM);
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "scale.mid"));
        failures++;
    }
    ck_assert_int_gt(failures, 3);
    ck_assert_int_eq(mrnn_music_stats_compute(paths, 1, &s), MRNN_OK);
}
END_TEST

/* The JSB test split: four voices, tonal. */
START_TEST(test_jsb_chorales)
{
    const char *shared = mrnn_test_shared_data();
    if (!shared) {
        fprintf(stderr, "# skipped: ../shared/data is absent\n");
        return;
    }
    const char *paths[20];
    char buf[20][1024];
    for (int i = 0; i < 20; i++) {
        TEST_PATH(buf[i], "%s/jsb-chorales/test/test_%03d.mid", shared, i);
        paths[i] = buf[i];
    }
    mrnn_music_stats s;
    mrnn_music_stats_init(&s, MRNN_MUSIC_STATS_VERSION);
    ck_assert_int_eq(mrnn_music_stats_compute(paths, 20, &s), MRNN_OK);
    ck_assert_uint_eq(s.n_empty, 0);
    ck_assert_double_le(s.max[MRNN_MUSIC_POLYPHONY_MAX], 4);
    ck_assert_double_gt(s.mean[MRNN_MUSIC_POLYPHONY_MEAN], 3.5);
    ck_assert_double_gt(s.mean[MRNN_MUSIC_IN_KEY], 0.85);
    /* One frame per quarter: no interval shorter than a quarter. */
    ck_assert_double_eq(s.ioi[0] + s.ioi[1] + s.ioi[2], 0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("music_stats");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_c_major_scale);
    tcase_add_test(tc, test_polyphony);
    tcase_add_test(tc, test_ioi);
    tcase_add_test(tc, test_repetition);
    tcase_add_test(tc, test_bar_similarity);
    tcase_add_test(tc, test_in_key);
    tcase_add_test(tc, test_drums_ignored);
    tcase_add_test(tc, test_set_summary);
    tcase_add_test(tc, test_distances);
    tcase_add_test(tc, test_normal_overlap);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_out_of_memory);
    tcase_add_test(tc, test_jsb_chorales);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
