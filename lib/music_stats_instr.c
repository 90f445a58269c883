/* mrnn_music_instruments: per-instrument statistics of a set of MIDI files, drums included (the
 * pitch statistics of music_stats_set.c leave drums out and merge instruments). */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "midi.h"
#include "piece.h"

MRNN_API mrnn_status mrnn_music_instruments_init(mrnn_music_instruments *s, uint32_t version)
{
    MRNN_CHECK_ARG(s, "s");
    if (version != MRNN_MUSIC_INSTRUMENTS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_instruments_init: version %u is not %u", version,
                          MRNN_MUSIC_INSTRUMENTS_VERSION);
    memset(s, 0, sizeof *s);
    s->version = version;
    return MRNN_OK;
}

/* Sums over pieces, turned into means at the end. */
typedef struct piece_sums {
    double instruments, drum_density, entropy, empty;
    uint32_t n_entropy, n_rhythm;
} piece_sums;

static mrnn_status fold_piece(const mrnn__piece *p, mrnn_music_instruments *out, piece_sums *sums)
{
    uint64_t notes[MRNN_INSTRUMENT_COUNT] = {0};
    int low[MRNN_INSTRUMENT_COUNT], high[MRNN_INSTRUMENT_COUNT];
    double pc[12] = {0};
    double first = INFINITY, last = 0;
    uint64_t drums = 0, pitched = 0;
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *n = &p->notes[i];
        unsigned slot = n->drum ? MRNN_INSTRUMENT_DRUMS : (n->program & 127u);
        if (!notes[slot]++) low[slot] = high[slot] = n->pitch;
        if (n->pitch < low[slot]) low[slot] = n->pitch;
        if (n->pitch > high[slot]) high[slot] = n->pitch;
        if (n->drum) drums++;
        else pc[n->pitch % 12] += 1, pitched++;
        if (n->start_q < first) first = n->start_q;
        if (n->end_q > last) last = n->end_q;
    }
    unsigned used = 0;
    for (unsigned s = 0; s < MRNN_INSTRUMENT_COUNT; s++) {
        if (!notes[s]) continue;
        used++;
        out->pieces[s]++;
        out->notes[s] += (double)notes[s];
        out->pitch_low[s] += low[s];
        out->pitch_high[s] += high[s];
    }
    sums->instruments += used;
    if (pitched) {
        double h = 0;
        for (int k = 0; k < 12; k++)
            if (pc[k] > 0) h -= pc[k] / (double)pitched * log2(pc[k] / (double)pitched);
        sums->entropy += h;
        sums->n_entropy++;
    }
    if (p->n_notes && last > first) {
        /* Beats are the quarters from the first onset's quarter to the last note end. */
        double start = floor(first);
        size_t beats = (size_t)ceil(last - start);
        if (beats == 0) beats = 1;
        if (beats > ((size_t)1 << 24)) beats = (size_t)1 << 24; /* a file's own cap on note times keeps this small */
        uint8_t *hit = mrnn__calloc(beats, 1);
        if (!hit) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for %zu beats", beats);
        for (size_t i = 0; i < p->n_notes; i++) {
            size_t b = (size_t)floor(p->notes[i].start_q - start);
            if (b < beats) hit[b] = 1;
        }
        size_t empty = 0;
        for (size_t b = 0; b < beats; b++) empty += !hit[b];
        mrnn__free(hit);
        sums->empty += (double)empty / (double)beats;
        sums->drum_density += (double)drums / (last - first);
        sums->n_rhythm++;
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_music_instruments_compute(const char *const *paths, size_t n, mrnn_music_instruments *out)
{
    MRNN_CHECK_ARG(out, "out");
    MRNN_CHECK_ARG(paths || n == 0, "paths");
    if (out->version != MRNN_MUSIC_INSTRUMENTS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_instruments_compute: out->version %u is not %u (call mrnn_music_instruments_init)",
                          out->version, MRNN_MUSIC_INSTRUMENTS_VERSION);
    mrnn_music_instruments_init(out, MRNN_MUSIC_INSTRUMENTS_VERSION);
    if (n == 0) return mrnn__fail(MRNN_ERR_EMPTY, "mrnn_music_instruments_compute: no files");
    piece_sums sums;
    memset(&sums, 0, sizeof sums);
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn_status st = MRNN_OK;
    for (size_t i = 0; i < n && st == MRNN_OK; i++) {
        if (!paths[i]) {
            st = mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_music_instruments_compute: path %zu is NULL", i);
            break;
        }
        mrnn__midi_select sel = {0, 0, 1, 0};
        st = mrnn__midi_read_file(paths[i], &sel, &piece);
        if (st == MRNN_OK) st = fold_piece(&piece, out, &sums);
        out->n_files++;
    }
    mrnn__piece_free(&piece);
    if (st != MRNN_OK) {
        mrnn_music_instruments_init(out, MRNN_MUSIC_INSTRUMENTS_VERSION);
        return st;
    }
    for (unsigned s = 0; s < MRNN_INSTRUMENT_COUNT; s++) {
        if (!out->pieces[s]) continue;
        out->notes[s] /= out->pieces[s];
        out->pitch_low[s] /= out->pieces[s];
        out->pitch_high[s] /= out->pieces[s];
    }
    out->instruments_mean = sums.instruments / (double)n;
    out->pitch_class_entropy = sums.n_entropy ? sums.entropy / sums.n_entropy : NAN;
    out->drum_density = sums.n_rhythm ? sums.drum_density / sums.n_rhythm : NAN;
    out->empty_beat_rate = sums.n_rhythm ? sums.empty / sums.n_rhythm : NAN;
    return MRNN_OK;
}
