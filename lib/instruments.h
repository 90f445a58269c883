/* The per-file instrument report a corpus keeps while it is built (not stored in corpus files). */
#ifndef MRNN_INSTRUMENTS_H
#define MRNN_INSTRUMENTS_H

#include <stdint.h>

#include "piece.h"

/* Only the slots a file uses are kept (a corpus of 100 000 files must not hold 2 KiB for each). */
typedef struct mrnn__instrument_count {
    uint32_t slot;
    uint64_t notes, dropped;
} mrnn__instrument_count;

typedef struct mrnn__instruments {
    uint32_t drum_pitches[4];
    uint32_t n;
    mrnn__instrument_count e[]; /* [n], by slot */
} mrnn__instruments;

/* Count the notes of p per instrument slot, and those encoding e drops. *out is mrnn__free'd by the caller. */
mrnn_status mrnn__instruments_count(const mrnn__piece *p, const mrnn_encoding_params *e, mrnn__instruments **out);
/* Copy into the public struct (its version kept). */
void mrnn__instruments_export(const mrnn__instruments *r, mrnn_instrument_report *out);

#endif
