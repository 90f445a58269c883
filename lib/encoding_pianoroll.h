/* The pianoroll encoding (encoding_pianoroll.c): one step per frame, the 88 piano keys as ids. */
#ifndef MRNN_ENCODING_PIANOROLL_H
#define MRNN_ENCODING_PIANOROLL_H

#include "piece.h"
#include "steps.h"
#include "vocab.h"

/* Number of pianoroll keys, lowest key. */
#define MRNN__PIANO_KEYS 88
#define MRNN__PIANO_LOW 21

mrnn_status mrnn__pianoroll_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__pianoroll_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);

#endif
