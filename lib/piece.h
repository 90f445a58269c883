/* The neutral note list in the middle of the data path: the MIDI codec produces and consumes it,
 * the encoders turn it into tokens and back. It knows nothing of MIDI bytes or of tokens. */
#ifndef MRNN_PIECE_H
#define MRNN_PIECE_H

#include <stddef.h>
#include <stdint.h>

#include "musicrnn/musicrnn.h"

#define MRNN__DRUM_CHANNEL 9 /* MIDI channel 10, counted from 0 */

typedef struct mrnn__note {
    double start_q, end_q; /* position in quarter notes from the start of the piece */
    double start_s, end_s; /* the same in seconds, through the piece's tempo map */
    uint8_t pitch;         /* 0-127 */
    uint8_t velocity;      /* 1-127 */
    uint8_t channel;       /* 0-15 */
    uint8_t program;       /* General MIDI program active on the channel at the onset, 0-127 */
    uint8_t drum;          /* 1 if on the drum channel */
    uint16_t track;        /* track index in the source file */
} mrnn__note;

/* One tempo segment: from quarter position q (seconds s) on, a quarter lasts us_per_q microseconds. */
typedef struct mrnn__tempo {
    double q, s;
    double us_per_q;
} mrnn__tempo;

typedef struct mrnn__piece {
    mrnn__note *notes;
    size_t n_notes, cap_notes;
    mrnn__tempo *tempo; /* sorted by q; the first entry is at q = 0 (120 bpm if the file has none) */
    size_t n_tempo, cap_tempo;
    uint8_t ts_num, ts_den; /* first time signature (4/4 if none) */
    double end_q, end_s;    /* end of the piece (end of track or last note off, whichever is later) */
} mrnn__piece;

void mrnn__piece_init(mrnn__piece *p); /* empty piece, 120 bpm, 4/4 */
void mrnn__piece_free(mrnn__piece *p); /* frees arrays, leaves an empty initialised piece */
void mrnn__piece_clear(mrnn__piece *p);
mrnn_status mrnn__piece_add_note(mrnn__piece *p, const mrnn__note *n);
mrnn_status mrnn__piece_add_tempo(mrnn__piece *p, double q, double us_per_q); /* q ascending */
/* Sort notes by (start_q, pitch, end_q). */
void mrnn__piece_sort(mrnn__piece *p);
/* Tempo-map conversions. */
double mrnn__piece_q_to_s(const mrnn__piece *p, double q);
double mrnn__piece_s_to_q(const mrnn__piece *p, double s);
/* Recompute start_s/end_s (from *_q) for every note and end_s from end_q. */
void mrnn__piece_update_seconds(mrnn__piece *p);
/* Recompute start_q/end_q (from *_s) for every note and end_q from end_s. */
void mrnn__piece_update_quarters(mrnn__piece *p);
/* Shift all pitches by `semitones`; notes leaving 0..127 (or 21..108 if piano_only) are dropped.
 * Drum notes are never transposed. */
void mrnn__piece_transpose(mrnn__piece *p, int semitones, int piano_only);
/* Estimated key (Krumhansl-Schmuckler on duration-weighted pitch classes): tonic 0-11, minor 0/1.
 * Returns the shift (-5..+6) that moves the piece to C major or A minor. */
int mrnn__piece_key_shift(const mrnn__piece *p, int *tonic, int *minor);
/* The shift normalize_key `mode` (enum mrnn_key_normalization) applies to p: 0 for
 * MRNN_KEY_AS_WRITTEN, mrnn__piece_key_shift() for MRNN_KEY_C_MAJOR_A_MINOR, and for
 * MRNN_KEY_TONIC_C the smallest move (-5..+6) of the estimated tonic onto C. */
int mrnn__piece_normalize_shift(const mrnn__piece *p, int mode);

/* A note quantised to a grid (an encoding's steps, MIDI ticks): [start, end) in grid units, `key` a pitch (or any id
 * that must not overlap itself), `aux` carried along (velocity). */
typedef struct mrnn__span {
    int64_t start, end;
    int key;
    uint32_t aux;
} mrnn__span;

/* Once a piece is flattened to one voice per key, two overlapping notes of the same key cannot
 * be told apart (MIDI would merge or cut them differently on every round trip). Make the spans
 * canonical: of notes starting together the longest stays, and a note ends where the next note
 * of its key begins. Sorts by (key, start); returns the new count. */
size_t mrnn__spans_canonical(mrnn__span *s, size_t n);

#endif
