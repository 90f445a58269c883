/* Encoders: mrnn__piece <-> token steps, dispatched to the encoding a vocabulary names
 * (encoding.c). Each encoding knows notes and tokens, nothing of MIDI, and has its own header
 * (encoding_notechord.h, encoding_performance.h, encoding_pianoroll.h, encoding_multitrack.h). Every encoder has its
 * inverse decoder; round trips are tested through mrnn__piece. */
#ifndef MRNN_ENCODING_H
#define MRNN_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "piece.h"
#include "steps.h"
#include "vocab.h"

/* Whether reading MIDI for this encoding keeps the drum channel (multitrack always does). */
static inline int mrnn__encoding_reads_drums(const mrnn_encoding_params *e)
{
    return e->encoding == MRNN_ENCODING_MULTITRACK ? 1 : e->keep_drums;
}

/* Fill a new vocabulary's fixed tokens (performance: 388, pianoroll: 88; notechord: <unk>). */
mrnn_status mrnn__encoding_fill_vocab(mrnn_vocab *v);

/* Encode piece p with v's encoding, appending steps to *out (cleared first). Notechord interns
 * new tokens into v (or maps them to <unk> if v is frozen; *n_unknown counts those). */
mrnn_status mrnn__encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown);
/* Decode steps into *out (cleared first). Unknown or meaningless tokens are skipped. Tempo 120 bpm. */
mrnn_status mrnn__decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);

/* Parse one seed-text word into ids for v's encoding (pianoroll: a frame "C4.E4" or "_" gives its
 * keys followed by MRNN_FRAME_END). Returns MRNN_ERR_UNKNOWN_TOKEN naming the word. */
mrnn_status mrnn__encoding_parse_word(const mrnn_vocab *v, const char *word, size_t len, uint32_t *ids,
                                      size_t cap, size_t *n);

#endif
