/* The MIDI validator: reads the chunk and event structure of untrusted SMF bytes itself and
 * produces a clean copy that libsmf 1.3 is known to load safely (no libsmf here). */
#ifndef MRNN_MIDI_GUARD_H
#define MRNN_MIDI_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "musicrnn/musicrnn.h"

/* A sanitised standard MIDI file: format 1, metrical timing (ppqn > 0), one MTrk per MTrk of the
 * source in the same order (so track indices are preserved), every event with an explicit status
 * byte, only note off/on, control change, program change, tempo (all in track 0), time signature
 * and a final End Of Track. */
typedef struct mrnn__midi_clean {
    uint8_t *data; /* mrnn__malloc'ed SMF bytes */
    size_t len;
    int ppqn;
    unsigned n_tracks;
} mrnn__midi_clean;

/* Validate data[0..len) and fill *out. Errors (MRNN_ERR_MIDI for malformed input, MRNN_ERR_LIMIT
 * for the caps of midi.h, MRNN_ERR_NOMEM) name `name` and the reason; *out is then empty. */
mrnn_status mrnn__midi_sanitise(const uint8_t *data, size_t len, const char *name, mrnn__midi_clean *out);

void mrnn__midi_clean_free(mrnn__midi_clean *c);

/* Tracks whose total length in ticks exceeds this are rejected: libsmf keeps ticks in int and
 * every delta of the clean copy must fit a 4-byte variable-length quantity. */
#define MRNN__MIDI_MAX_TICKS 0x0FFFFFFFu

#endif
