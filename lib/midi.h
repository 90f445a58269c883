/* The MIDI codec: MIDI files <-> mrnn__piece. midi.c is the only file that includes <smf.h>.
 *
 * Reading is guarded: libsmf 1.3 crashes on many malformed files, so the bytes are first read by
 * us (regular files only, size cap), their whole chunk/event structure is validated, and only
 * a sanitised copy that libsmf is known to handle is given to smf_load_from_memory(). */
#ifndef MRNN_MIDI_H
#define MRNN_MIDI_H

#include <stddef.h>
#include <stdint.h>

#include "piece.h"

/* Hard caps on hostile input (documented in docs/LIMITS.md). */
#define MRNN__MIDI_MAX_BYTES (64u << 20)
#define MRNN__MIDI_MAX_TRACKS 256u
#define MRNN__MIDI_MAX_EVENTS (8u << 20)

typedef struct mrnn__midi_select {
    uint64_t track_mask;   /* bit t = keep track t; 0 = all */
    uint32_t channel_mask; /* bit c = keep channel c; 0 = all */
    int keep_drums;        /* keep notes on channel 10 */
    size_t max_bytes;      /* file size cap; 0 = MRNN__MIDI_MAX_BYTES */
} mrnn__midi_select;

/* Read a MIDI file into *out (which must be initialised; it is cleared first). On failure *out is
 * left empty and the error names `path` and the reason (MRNN_ERR_IO, MRNN_ERR_MIDI, MRNN_ERR_LIMIT,
 * MRNN_ERR_NOMEM). Sustain pedal (CC64) is folded into note lengths. Overlapping notes of the same
 * pitch and channel are ended at the next onset. */
mrnn_status mrnn__midi_read_file(const char *path, const mrnn__midi_select *sel, mrnn__piece *out);

/* The same from memory; `name` is used in error messages. Entry point for the fuzzer. */
mrnn_status mrnn__midi_read_memory(const void *data, size_t len, const char *name,
                                   const mrnn__midi_select *sel, mrnn__piece *out);

typedef struct mrnn__midi_write_opts {
    double tempo_bpm;    /* <= 0: use the piece's tempo map */
    int program;         /* -1: use each note's program; else this General MIDI program for all */
    int ppqn;            /* 0: 480 */
} mrnn__midi_write_opts;

/* Write *p as a format-1 standard MIDI file (tempo track + one track per channel used). Written
 * atomically. Errors name the path. */
mrnn_status mrnn__midi_write_file(const char *path, const mrnn__piece *p, const mrnn__midi_write_opts *o);

#endif
