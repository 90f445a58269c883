/* Pianoroll: one step per frame, holding the ids of the 88 piano keys sounding in it.
 *
 * Frames are steps_per_quarter per quarter note, or fixed frames of frame_seconds when that is set.
 * A note occupies frames round(start*rate) .. round(end*rate)-1, and at least one frame, so that
 * short notes are not lost. This rule is the one of the usual JSB chorales benchmark. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "encoding_pianoroll.h"
#include "error.h"

/* 2^26 frames is 194 days of sixteenths at 120 bpm: anything longer is a broken file. */
#define ROLL_MAX_FRAMES ((uint64_t)1 << 26)

typedef struct frame_bits {
    uint64_t w[2]; /* keys 0..63, 64..87 */
} frame_bits;

static double frame_rate(const mrnn_vocab *v)
{
    return v->enc.frame_seconds > 0 ? 1.0 / v->enc.frame_seconds : (double)v->enc.steps_per_quarter;
}

static mrnn_status frame_of(double t, double rate, uint64_t *out)
{
    double f = nearbyint(t * rate);
    if (!(f >= 0)) f = 0; /* negative or NaN */
    if (f > (double)ROLL_MAX_FRAMES)
        return mrnn__fail(MRNN_ERR_LIMIT, "piece is longer than %llu frames", (unsigned long long)ROLL_MAX_FRAMES);
    *out = (uint64_t)f;
    return MRNN_OK;
}

mrnn_status mrnn__pianoroll_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out)
{
    int seconds = v->enc.frame_seconds > 0;
    double rate = frame_rate(v);
    uint64_t n_frames = 0;
    mrnn_status st = frame_of(seconds ? p->end_s : p->end_q, rate, &n_frames);
    for (size_t i = 0; i < p->n_notes && st == MRNN_OK; i++) {
        const mrnn__note *n = &p->notes[i];
        uint64_t a = 0, b = 0;
        st = frame_of(seconds ? n->start_s : n->start_q, rate, &a);
        if (st == MRNN_OK) st = frame_of(seconds ? n->end_s : n->end_q, rate, &b);
        if (st == MRNN_OK && b <= a) b = a + 1;
        if (st == MRNN_OK && b > n_frames) n_frames = b;
    }
    if (st != MRNN_OK) return st;
    /* Frames beyond max_steps would be cut anyway: never build them. */
    if (v->enc.max_steps && n_frames > v->enc.max_steps) n_frames = v->enc.max_steps;
    frame_bits *roll = mrnn__calloc(n_frames ? (size_t)n_frames : 1, sizeof *roll);
    if (!roll) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for a pianoroll of %llu frames",
                                 (unsigned long long)n_frames);
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *n = &p->notes[i];
        if (n->pitch < MRNN__PIANO_LOW || n->pitch >= MRNN__PIANO_LOW + MRNN__PIANO_KEYS) continue;
        unsigned key = (unsigned)(n->pitch - MRNN__PIANO_LOW);
        uint64_t a = 0, b = 0;
        frame_of(seconds ? n->start_s : n->start_q, rate, &a);
        frame_of(seconds ? n->end_s : n->end_q, rate, &b);
        if (b <= a) b = a + 1;
        if (b > n_frames) b = n_frames;
        for (uint64_t f = a; f < b; f++) roll[f].w[key >> 6] |= (uint64_t)1 << (key & 63);
    }
    for (uint64_t f = 0; f < n_frames && st == MRNN_OK; f++) {
        for (uint32_t key = 0; key < MRNN__PIANO_KEYS && st == MRNN_OK; key++)
            if (roll[f].w[key >> 6] >> (key & 63) & 1) st = mrnn__steps_push_id(out, key);
        if (st == MRNN_OK) st = mrnn__steps_end_step(out);
    }
    mrnn__free(roll);
    return st;
}

mrnn_status mrnn__pianoroll_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out)
{
    int seconds = v->enc.frame_seconds > 0;
    double step = seconds ? v->enc.frame_seconds : 1.0 / v->enc.steps_per_quarter;
    int64_t held[MRNN__PIANO_KEYS]; /* frame where the sounding note began, or -1 */
    for (int k = 0; k < MRNN__PIANO_KEYS; k++) held[k] = -1;
    mrnn_status st = MRNN_OK;
    mrnn__note note;
    memset(&note, 0, sizeof note);
    note.velocity = 80;
    for (size_t f = 0; f <= in->n_steps && st == MRNN_OK; f++) {
        unsigned char on[MRNN__PIANO_KEYS] = {0};
        if (f < in->n_steps)
            for (uint32_t j = in->start[f]; j < in->start[f + 1]; j++)
                if (in->ids[j] < MRNN__PIANO_KEYS) on[in->ids[j]] = 1;
        for (int k = 0; k < MRNN__PIANO_KEYS && st == MRNN_OK; k++) {
            if (held[k] >= 0 && !on[k]) {
                note.pitch = (uint8_t)(MRNN__PIANO_LOW + k);
                double a = (double)held[k] * step, b = (double)f * step;
                if (seconds) {
                    note.start_s = a;
                    note.end_s = b;
                } else {
                    note.start_q = a;
                    note.end_q = b;
                }
                st = mrnn__piece_add_note(out, &note);
                held[k] = -1;
            } else if (held[k] < 0 && on[k]) {
                held[k] = (int64_t)f;
            }
        }
    }
    if (st != MRNN_OK) return st;
    if (seconds) {
        out->end_s = (double)in->n_steps * step;
        mrnn__piece_update_quarters(out);
    } else {
        out->end_q = (double)in->n_steps * step;
        mrnn__piece_update_seconds(out);
    }
    return MRNN_OK;
}
