/* What each token of a vocabulary means musically: which pitches it starts, how far it moves time.
 * The sampler needs this to apply constraints (pitch range, key, polyphony, drums) as a mask on the
 * output distribution and to measure the length of what it generates. Derived from the token texts,
 * whose notation is part of the public API (see the vocab group in musicrnn.h). */
#ifndef MRNN_TOKEN_INFO_H
#define MRNN_TOKEN_INFO_H

#include <stdint.h>

#include "vocab.h"

enum {
    MRNN__TOK_OTHER = 0,    /* <unk> or a text we do not recognise */
    MRNN__TOK_NOTES = 1,    /* starts notes: a notechord note/chord, a performance NOTE_ON, a pianoroll key */
    MRNN__TOK_NOTE_OFF = 2, /* performance NOTE_OFF */
    MRNN__TOK_TIME = 3,     /* moves time only: notechord W, performance TIME_SHIFT */
    MRNN__TOK_VELOCITY = 4, /* performance / multitrack VELOCITY */
    MRNN__TOK_INSTRUMENT = 5, /* multitrack PROGRAM selector */
    MRNN__TOK_DURATION = 6  /* multitrack DUR: lengthens the note just started */
};

typedef struct mrnn__token_info {
    uint8_t kind;
    uint8_t n_notes;            /* pitched notes started */
    uint8_t drum;               /* 1 if it starts drum notes */
    uint8_t min_pitch, max_pitch;
    uint16_t pitch_classes;     /* bit k: a started pitched note has pitch class k */
    uint8_t pitch;              /* NOTE_ON / NOTE_OFF pitch (performance) */
    double advance_s;           /* time moved, seconds at 120 bpm */
    double duration_s;          /* notechord: length of the started notes, seconds at 120 bpm;
                                   multitrack DUR: the length it adds */
    uint8_t slot_lo, slot_hi;   /* multitrack selectors and drum notes: the instrument slots (GM
                                   programs, 128 = drums) the token stands for, inclusive */
} mrnn__token_info;

/* Fill info[0 .. v->n). Never fails: unknown texts become MRNN__TOK_OTHER. */
void mrnn__token_info_fill(const mrnn_vocab *v, mrnn__token_info *info);

/* Seconds (at 120 bpm) of one pianoroll frame of v's encoding. */
double mrnn__frame_seconds(const mrnn_vocab *v);

/* Parse a notechord duration ("q", "e.", "3/4", "2") into quarters; 0 on success. */
int mrnn__parse_duration(const char *s, size_t len, double *quarters);

#endif
